"""AnnotationWorkspace: the annotations of every study loaded, edited through undoable commands.

The model (:mod:`galactoview.annotations.model`) is immutable: an edit makes a new
:class:`AnnotationSet`. Every edit is therefore one :class:`AnnotationEditCommand`
on a :class:`QUndoStack` holding the study's annotations before and after; the
stack's ``push`` runs ``redo`` at once (house style: never apply an edit and then
push). Undo and redo swap whole snapshots, which is exact and cheap because the
snapshots share their unchanged findings.

There is one :class:`AnnotationSet` per study (one SR sidecar per study); one
undo stack serves them all, so Ctrl+Z undoes the last edit wherever it was made.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from galactoview.annotations.model import (
    AnnotationSet,
    DuctSegment,
    Finding,
    NippleLandmark,
    descendants,
    is_valid_uid,
)
from galactoview.location.frame import ChestWallLine

#: Stands for a study whose Study Instance UID is not a UID: shown, never annotated.
UNSTORABLE_STUDY = "2.25.0"

__all__ = ["AnnotationEditCommand", "AnnotationWorkspace"]


class AnnotationEditCommand(QUndoCommand):
    """One edit of a study's annotations: the snapshot before and after.

    Parameters
    ----------
    workspace
        Where the annotations live.
    study_instance_uid
        The study edited.
    before, after
        Its annotations before and after the edit.
    text
        What the Edit menu says, e.g. ``"Add FD-1"``.
    """

    def __init__(
        self,
        workspace: AnnotationWorkspace,
        study_instance_uid: str,
        before: AnnotationSet,
        after: AnnotationSet,
        text: str,
    ) -> None:
        super().__init__(text)
        self._workspace = workspace
        self._study = study_instance_uid
        self._before = before
        self._after = after

    def redo(self) -> None:
        """Apply the edit."""
        self._workspace._apply(self._study, self._after)

    def undo(self) -> None:
        """Take the edit back."""
        self._workspace._apply(self._study, self._before)


class AnnotationWorkspace(QObject):
    """Holds one :class:`AnnotationSet` per study and edits them through an undo stack.

    Parameters
    ----------
    undo_stack
        The stack edits go on; a new one when None.
    parent
        Parent object.

    Signals
    -------
    changed(str)
        The annotations of this study (Study Instance UID) changed: an edit, an undo,
        a redo or a load.
    selection_changed(object)
        The selected finding or duct segment (its tracking UID) changed; None when
        nothing is selected.
    """

    changed = Signal(str)
    selection_changed = Signal(object)

    def __init__(self, undo_stack: QUndoStack | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = undo_stack if undo_stack is not None else QUndoStack(self)
        self._sets: dict[str, AnnotationSet] = {}
        self._dirty: set[str] = set()
        self._selected: str | None = None
        #: Chest-wall lines by SOP Instance UID (pectoral lines suggested on oblique views),
        #: used to locate findings; not part of the SR.
        self.chest_walls: dict[str, ChestWallLine] = {}

    # --- reading ----------------------------------------------------------------------

    def studies(self) -> tuple[str, ...]:
        """Return the studies that have annotations (loaded or edited), in first-seen order."""
        return tuple(self._sets)

    def annotations(self, study_instance_uid: str) -> AnnotationSet:
        """Return the annotations of a study (empty if it has none yet).

        A study whose Study Instance UID is not a UID (a damaged file) can be shown but
        never annotated: it gets an empty set under :data:`UNSTORABLE_STUDY`, and
        :meth:`edit` ignores edits of that set.
        """
        found = self._sets.get(study_instance_uid)
        if found is not None:
            return found
        if not is_valid_uid(study_instance_uid):
            return AnnotationSet(UNSTORABLE_STUDY)
        return AnnotationSet(study_instance_uid)

    def all_findings(self) -> tuple[tuple[str, Finding], ...]:
        """Return ``(study uid, finding)`` for every finding of every study."""
        return tuple((uid, f) for uid, s in self._sets.items() for f in s.findings)

    def study_of(self, tracking_uid: str) -> str | None:
        """Return the study holding a finding or duct segment, None if none does."""
        for uid, study_set in self._sets.items():
            if any(f.tracking_uid == tracking_uid for f in study_set.findings):
                return uid
            if any(s.tracking_uid == tracking_uid for s in study_set.duct_segments):
                return uid
        return None

    @property
    def selected(self) -> str | None:
        """Return the tracking UID of the selected finding or segment, None if none."""
        return self._selected

    def dirty_studies(self) -> tuple[str, ...]:
        """Return the studies edited since they were loaded or last saved."""
        return tuple(uid for uid in self._sets if uid in self._dirty)

    def is_modified(self) -> bool:
        """Return whether any study has unsaved edits."""
        return bool(self._dirty)

    # --- loading and saving --------------------------------------------------------------

    def set_loaded(self, annotations: AnnotationSet) -> None:
        """Put annotations read from disk in place, unmodified (not an undoable edit).

        The undo history of that study is no longer valid and the whole stack is
        cleared (an undo must never resurrect annotations of a file replaced since).
        """
        study = annotations.study_instance_uid
        self._sets[study] = annotations
        self._dirty.discard(study)
        self.undo_stack.clear()
        if self._selected is not None and self.study_of(self._selected) is None:
            self.select(None)
        self.changed.emit(study)

    def mark_saved(self, annotations: AnnotationSet) -> None:
        """Record that a study was saved as ``annotations`` (its new revision UIDs).

        The saved revision replaces the current one without an undo command; the
        study is no longer dirty, and the stack is clean when no study is.
        """
        study = annotations.study_instance_uid
        self._sets[study] = annotations
        self._dirty.discard(study)
        if not self._dirty:
            self.undo_stack.setClean()

    def clear(self) -> None:
        """Forget every study's annotations and the undo history."""
        self._sets.clear()
        self._dirty.clear()
        self.undo_stack.clear()
        self.select(None)

    # --- edits --------------------------------------------------------------------------

    def edit(self, after: AnnotationSet, text: str) -> None:
        """Replace a study's annotations with ``after`` as one undoable edit."""
        study = after.study_instance_uid
        before = self.annotations(study)
        if before == after or study == UNSTORABLE_STUDY:
            return
        self.undo_stack.push(AnnotationEditCommand(self, study, before, after, text))

    def add_finding(self, study_instance_uid: str, finding: Finding) -> None:
        """Add a finding to a study (undoable) and select it."""
        annotations = self.annotations(study_instance_uid).with_finding(finding)
        self.edit(annotations, f"Add {finding.short_id}")
        self.select(finding.tracking_uid)

    def replace_finding(self, finding: Finding, text: str = "") -> None:
        """Replace a finding by tracking UID (moved, reshaped or re-typed)."""
        study = self.study_of(finding.tracking_uid)
        if study is None:
            raise KeyError(finding.tracking_uid)
        annotations = self.annotations(study).replace_finding(finding)
        self.edit(annotations, text or f"Edit {finding.short_id}")

    def remove(self, tracking_uid: str) -> None:
        """Delete a finding, or a duct segment with its branches (undoable)."""
        study = self.study_of(tracking_uid)
        if study is None:
            return
        annotations = self.annotations(study)
        if any(f.tracking_uid == tracking_uid for f in annotations.findings):
            finding = annotations.finding(tracking_uid)
            self.edit(annotations.without_finding(tracking_uid), f"Delete {finding.short_id}")
        else:
            segment = annotations.duct_segment(tracking_uid)
            after = annotations
            branches = descendants(annotations.duct_segments, tracking_uid)
            for removed in (*reversed(branches), segment):
                after = after.without_duct_segment(removed.tracking_uid)
            extra = f" and {len(branches)} branch(es)" if branches else ""
            self.edit(after, f"Delete {segment.short_id}{extra}")
        if self._selected == tracking_uid:
            self.select(None)

    def add_duct_segment(self, study_instance_uid: str, segment: DuctSegment) -> None:
        """Add a traced duct segment (undoable) and select it."""
        annotations = self.annotations(study_instance_uid).with_duct_segment(segment)
        self.edit(annotations, f"Trace {segment.short_id}")
        self.select(segment.tracking_uid)

    def replace_duct_segment(self, segment: DuctSegment, text: str = "") -> None:
        """Replace a duct segment by tracking UID (reshaped)."""
        study = self.study_of(segment.tracking_uid)
        if study is None:
            raise KeyError(segment.tracking_uid)
        annotations = self.annotations(study).replace_duct_segment(segment)
        self.edit(annotations, text or f"Edit {segment.short_id}")

    def set_landmark(self, study_instance_uid: str, landmark: NippleLandmark) -> None:
        """Place (or move) the nipple landmark of an image (undoable)."""
        annotations = self.annotations(study_instance_uid)
        existing = annotations.landmark(landmark.sop_instance_uid, landmark.frame)
        if existing is None:
            self.edit(annotations.with_landmark(landmark), "Place nipple")
        else:
            self.edit(annotations.replace_landmark(landmark), "Move nipple")

    def remove_landmark(
        self, study_instance_uid: str, sop_instance_uid: str, frame: int | None = None
    ) -> None:
        """Delete the nipple landmark of an image (undoable)."""
        annotations = self.annotations(study_instance_uid)
        if annotations.landmark(sop_instance_uid, frame) is not None:
            self.edit(annotations.without_landmark(sop_instance_uid, frame), "Delete nipple")

    def set_chest_wall(
        self, study_instance_uid: str, sop_instance_uid: str, line: ChestWallLine
    ) -> None:
        """Use a chest-wall line for an image's findings (not an edit: not undoable, not saved)."""
        self.chest_walls[sop_instance_uid] = line
        self.changed.emit(study_instance_uid)  # the views recompute the locations

    def select(self, tracking_uid: str | None) -> None:
        """Select a finding or duct segment (None: nothing)."""
        if tracking_uid != self._selected:
            self._selected = tracking_uid
            self.selection_changed.emit(tracking_uid)

    # --- internal -----------------------------------------------------------------------

    def _apply(self, study: str, annotations: AnnotationSet) -> None:
        """Put a snapshot in place (commands call this) and tell the views."""
        self._sets[study] = annotations
        self._dirty.add(study)
        self.changed.emit(study)

    def findings_on_image(
        self, sop_instance_uid: str, frame: int | None = None
    ) -> Iterable[tuple[str, Finding]]:
        """Yield ``(study uid, finding)`` for findings with a region on an image (frame)."""
        for study, finding in self.all_findings():
            if any(
                region.sop_instance_uid == sop_instance_uid and region.frame == frame
                for region in finding.regions
            ):
                yield study, finding
