"""StudyDocument: everything a reader edits for one study, with a command history (Qt-free).

A study's document is a series of immutable :class:`StudySnapshot` values: the study's
:class:`~galactoview.annotations.model.AnnotationSet` (findings, duct trees, nipple
landmarks, the SR revision it was read from) and the chest-wall lines of its oblique views
(:class:`~galactoview.annotations.model.ChestWallLine`, by SOP Instance UID), each either
the **reader's** (moved by the reader, or read from the SR: saved in the SR) or only
**suggested** from the pixels (not saved; suggested again when the study is opened). Every edit
is a :class:`Command`: it names itself for the Edit menu (:meth:`Command.describe`) and
maps the snapshot before to the one after (:meth:`Command.apply`). The document keeps the
history of the commands run (undo, redo), whether it differs from what was last saved
(:attr:`StudyDocument.is_modified`, the one notion of "unsaved") and a
:attr:`StudyDocument.revision` that increases with every change.

The GUI runs the commands through a Qt undo stack (a thin adapter,
:mod:`galactoview.ui.annotate.annotation_workspace`); ``galactoview sr import`` runs
:class:`ReplaceAnnotations` on a document opened from the study's sidecar. Locations
are computed from a snapshot by :func:`galactoview.location.study.locate_document`.

Two changes are not edits and make no history: :meth:`StudyDocument.mark_saved` (a save
gives the annotations a new SR revision identity, stamped on every snapshot so that
undoing past a save never brings an older revision back as predecessor) and
:meth:`StudyDocument.suggest_chest_wall` (a pectoral line suggested when an image is
decoded, added to every snapshot that has no line for the image, marked as suggested).

The radiologist's written report (:class:`~galactoview.annotations.report.ClinicalReport`:
indication, technique, impression, BI-RADS, recommendation…) is part of the snapshot too,
edited by :class:`EditReport`: it is undone, redone and saved with the marks, and
"unsaved" covers both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

from galactoview.annotations.model import (
    AnnotationSet,
    ChestWallLine,
    DuctSegment,
    Finding,
    NippleLandmark,
    descendants,
)
from galactoview.annotations.report import ClinicalReport
from galactoview.dicom.mammography import Laterality

__all__ = [
    "AddDuctSegment",
    "AddDuctSegments",
    "AddFinding",
    "Command",
    "ConfirmNipples",
    "DeleteMark",
    "DeleteNipple",
    "Edit",
    "EditReport",
    "MergeFindings",
    "MoveChestWall",
    "ObservedBy",
    "ReplaceAnnotations",
    "ReplaceDuctSegment",
    "ReplaceFinding",
    "SetNipple",
    "StudyDocument",
    "StudySnapshot",
    "merged_finding",
]


@dataclass(frozen=True, slots=True)
class StudySnapshot:
    """One state of a study's document.

    Attributes
    ----------
    annotations
        Findings, duct segments, nipple landmarks and the SR revision identity.
    chest_walls
        ``(SOP Instance UID, line)`` pairs, at most one per image, in the order set: every
        line used to locate findings.
    suggested
        The images whose line is only suggested from the pixels (not the reader's, not
        saved); the other lines are the reader's (:meth:`reader_chest_walls`). Images
        without a line are dropped from it.
    report
        The radiologist's written report of the study (empty when none was written).

    Raises
    ------
    ValueError
        When an image has two chest-wall lines.
    """

    annotations: AnnotationSet
    chest_walls: tuple[tuple[str, ChestWallLine], ...] = field(default=())
    suggested: frozenset[str] = field(default=frozenset())
    report: ClinicalReport = field(default=ClinicalReport())

    def __post_init__(self) -> None:
        walls = tuple((str(uid), line) for uid, line in self.chest_walls)
        uids = {uid for uid, _ in walls}
        if len(uids) != len(walls):
            raise ValueError("at most one chest-wall line per image")
        object.__setattr__(self, "chest_walls", walls)
        object.__setattr__(self, "suggested", frozenset(self.suggested) & uids)

    @classmethod
    def of(
        cls,
        annotations: AnnotationSet,
        chest_walls: Mapping[str, ChestWallLine] | None = None,
        suggested: Mapping[str, ChestWallLine] | None = None,
        report: ClinicalReport | None = None,
    ) -> StudySnapshot:
        """Return a snapshot of annotations and chest-wall lines given as mappings.

        Parameters
        ----------
        annotations
            The study's annotations.
        chest_walls
            The reader's lines by SOP Instance UID (e.g. read from the SR); none when
            ``None``.
        suggested
            Suggested lines by SOP Instance UID, for images without one of the reader's.
        report
            The written report (e.g. read from the SR); an empty one when ``None``.

        Returns
        -------
        StudySnapshot
            The snapshot.
        """
        walls = dict(chest_walls or {})
        extra = {uid: line for uid, line in (suggested or {}).items() if uid not in walls}
        return cls(
            annotations,
            tuple({**walls, **extra}.items()),
            frozenset(extra),
            report if report is not None else ClinicalReport(),
        )

    @property
    def study_instance_uid(self) -> str:
        """Return the study's Study Instance UID."""
        return self.annotations.study_instance_uid

    def chest_wall(self, sop_instance_uid: str) -> ChestWallLine | None:
        """Return the chest-wall line of an image, ``None`` when it has none.

        Parameters
        ----------
        sop_instance_uid
            The image.

        Returns
        -------
        ChestWallLine or None
            Its line.
        """
        return next((line for uid, line in self.chest_walls if uid == sop_instance_uid), None)

    def chest_wall_lines(self) -> dict[str, ChestWallLine]:
        """Return every chest-wall line (the reader's and suggested) by SOP Instance UID."""
        return dict(self.chest_walls)

    def reader_chest_walls(self) -> dict[str, ChestWallLine]:
        """Return the reader's chest-wall lines (moved, or read from the SR): those saved."""
        return {uid: line for uid, line in self.chest_walls if uid not in self.suggested}

    def is_suggested(self, sop_instance_uid: str) -> bool:
        """Return whether an image's chest-wall line is only a suggestion (``False``: none)."""
        return sop_instance_uid in self.suggested

    def with_annotations(self, annotations: AnnotationSet) -> StudySnapshot:
        """Return a copy with other annotations of the same study.

        Parameters
        ----------
        annotations
            The new annotations.

        Returns
        -------
        StudySnapshot
            The new snapshot.

        Raises
        ------
        ValueError
            When they belong to another study.
        """
        if annotations.study_instance_uid != self.study_instance_uid:
            raise ValueError(
                f"annotations of study {annotations.study_instance_uid} cannot replace those "
                f"of study {self.study_instance_uid}"
            )
        return replace(self, annotations=annotations)

    def with_chest_wall(
        self, sop_instance_uid: str, line: ChestWallLine, *, suggested: bool = False
    ) -> StudySnapshot:
        """Return a copy with an image's chest-wall line set (replaced in place if it had one).

        Parameters
        ----------
        sop_instance_uid
            The image.
        line
            Its line.
        suggested
            Whether it is only a suggestion; else it is the reader's.

        Returns
        -------
        StudySnapshot
            The new snapshot.
        """
        walls = list(self.chest_walls)
        for index, (uid, _old) in enumerate(walls):
            if uid == sop_instance_uid:
                walls[index] = (uid, line)
                break
        else:
            walls.append((sop_instance_uid, line))
        marks = self.suggested - {sop_instance_uid}
        if suggested:
            marks |= {sop_instance_uid}
        return replace(self, chest_walls=tuple(walls), suggested=marks)


class Command(Protocol):
    """An edit of a study's document."""

    def describe(self, before: StudySnapshot) -> str:
        """Return what the Edit menu says, e.g. ``"Add FD-1"`` (``before``: the state edited)."""
        ...

    def apply(self, before: StudySnapshot) -> StudySnapshot:
        """Return the snapshot after the edit (``KeyError``/``ValueError`` when it cannot apply)."""
        ...


@dataclass(frozen=True, slots=True)
class AddFinding:
    """Add a finding (its tracking UID and short id unused)."""

    finding: Finding

    def describe(self, before: StudySnapshot) -> str:
        """Return ``"Add FD-1"``."""
        return f"Add {self.finding.short_id}"

    def apply(self, before: StudySnapshot) -> StudySnapshot:
        """Append the finding."""
        return before.with_annotations(before.annotations.with_finding(self.finding))


@dataclass(frozen=True, slots=True)
class ReplaceFinding:
    """Replace a finding by tracking UID (moved, reshaped, re-typed, described).

    Attributes
    ----------
    finding
        The new version.
    label
        What the Edit menu says; ``"Edit FD-1"`` when empty.
    """

    finding: Finding
    label: str = ""

    def describe(self, before: StudySnapshot) -> str:
        """Return the label, or ``"Edit FD-1"``."""
        return self.label or f"Edit {self.finding.short_id}"

    def apply(self, before: StudySnapshot) -> StudySnapshot:
        """Replace the finding in place (``KeyError`` if absent)."""
        return before.with_annotations(before.annotations.replace_finding(self.finding))


@dataclass(frozen=True, slots=True)
class MergeFindings:
    """Merge two findings of the study into one: the same lesion marked twice.

    The kept finding keeps its place, tracking UID, short id, type (and description),
    impression and note; it gains the other's regions after its own, with their
    measurements (their region indices moved past the kept regions), and the other's
    note on a new line after its own (when not empty and not the same). Its laterality
    is the other's when it had none; its impression the other's when it had none. The
    other finding is removed. One edit: undo brings both back as they were.

    Attributes
    ----------
    kept
        Tracking UID of the finding that stays (e.g. FD-1 on the CC).
    absorbed
        Tracking UID of the finding merged into it (e.g. FD-2 on the ML).
    """

    kept: str
    absorbed: str

    def describe(self, before: StudySnapshot) -> str:
        """Return ``"Merge FD-2 into FD-1"``."""
        annotations = before.annotations
        kept = annotations.finding(self.kept)
        return f"Merge {annotations.finding(self.absorbed).short_id} into {kept.short_id}"

    def apply(self, before: StudySnapshot) -> StudySnapshot:
        """Return the snapshot with one finding (``KeyError`` if either is absent).

        Raises
        ------
        ValueError
            When both UIDs name the same finding.
        """
        if self.kept == self.absorbed:
            raise ValueError("a finding cannot be merged with itself")
        annotations = before.annotations
        merged = merged_finding(annotations.finding(self.kept), annotations.finding(self.absorbed))
        annotations = annotations.without_finding(self.absorbed).replace_finding(merged)
        return before.with_annotations(annotations)


def merged_finding(kept: Finding, absorbed: Finding) -> Finding:
    """Return ``kept`` with the regions, measurements and note of ``absorbed`` added.

    Parameters
    ----------
    kept
        The finding that stays.
    absorbed
        The finding merged into it.

    Returns
    -------
    Finding
        See :class:`MergeFindings`.
    """
    offset = len(kept.regions)
    moved = tuple(replace(m, region_index=m.region_index + offset) for m in absorbed.measurements)
    notes = [kept.note.rstrip()]
    if absorbed.note.strip() and absorbed.note.strip() != kept.note.strip():
        notes.append(absorbed.note.strip())
    return replace(
        kept,
        regions=(*kept.regions, *absorbed.regions),
        measurements=(*kept.measurements, *moved),
        note="\n".join(n for n in notes if n),
        laterality=kept.laterality
        if kept.laterality is not Laterality.UNKNOWN
        else absorbed.laterality,
        impression=kept.impression if kept.impression is not None else absorbed.impression,
    )


@dataclass(frozen=True, slots=True)
class AddDuctSegment:
    """Add a traced duct segment (its parent, if any, must exist)."""

    segment: DuctSegment

    def describe(self, before: StudySnapshot) -> str:
        """Return ``"Trace DS-1"``."""
        return f"Trace {self.segment.short_id}"

    def apply(self, before: StudySnapshot) -> StudySnapshot:
        """Append the segment."""
        return before.with_annotations(before.annotations.with_duct_segment(self.segment))


@dataclass(frozen=True, slots=True)
class AddDuctSegments:
    """Add several duct segments as one edit (e.g. a suggested duct tree the reader accepted).

    Attributes
    ----------
    segments
        The segments, each after its parent when the parent is among them (a parent
        not among them must exist already).
    label
        What the Edit menu says; ``"Trace DS-1…DS-9"`` (or ``"Trace DS-1"``) when empty.
    """

    segments: tuple[DuctSegment, ...]
    label: str = ""

    def describe(self, before: StudySnapshot) -> str:
        """Return the label, or ``"Trace DS-1…DS-9"``."""
        if self.label:
            return self.label
        ids = [s.short_id for s in self.segments]
        return f"Trace {ids[0]}…{ids[-1]}" if len(ids) > 1 else f"Trace {''.join(ids)}"

    def apply(self, before: StudySnapshot) -> StudySnapshot:
        """Append the segments in order (``ValueError`` if a parent is missing or none given)."""
        if not self.segments:
            raise ValueError("no duct segments to add")
        annotations = before.annotations
        for segment in self.segments:
            annotations = annotations.with_duct_segment(segment)
        return before.with_annotations(annotations)


@dataclass(frozen=True, slots=True)
class ReplaceDuctSegment:
    """Replace a duct segment by tracking UID (reshaped).

    Attributes
    ----------
    segment
        The new version.
    label
        What the Edit menu says; ``"Edit DS-1"`` when empty.
    """

    segment: DuctSegment
    label: str = ""

    def describe(self, before: StudySnapshot) -> str:
        """Return the label, or ``"Edit DS-1"``."""
        return self.label or f"Edit {self.segment.short_id}"

    def apply(self, before: StudySnapshot) -> StudySnapshot:
        """Replace the segment in place (``KeyError`` if absent)."""
        return before.with_annotations(before.annotations.replace_duct_segment(self.segment))


@dataclass(frozen=True, slots=True)
class DeleteMark:
    """Delete a finding, or a duct segment with all its branches."""

    tracking_uid: str

    def describe(self, before: StudySnapshot) -> str:
        """Return ``"Delete FD-1"`` or ``"Delete DS-2 and 1 branch(es)"``."""
        annotations = before.annotations
        if any(f.tracking_uid == self.tracking_uid for f in annotations.findings):
            return f"Delete {annotations.finding(self.tracking_uid).short_id}"
        segment = annotations.duct_segment(self.tracking_uid)
        branches = descendants(annotations.duct_segments, self.tracking_uid)
        extra = f" and {len(branches)} branch(es)" if branches else ""
        return f"Delete {segment.short_id}{extra}"

    def apply(self, before: StudySnapshot) -> StudySnapshot:
        """Remove the mark (``KeyError`` if there is none of that tracking UID)."""
        annotations = before.annotations
        if any(f.tracking_uid == self.tracking_uid for f in annotations.findings):
            return before.with_annotations(annotations.without_finding(self.tracking_uid))
        return before.with_annotations(annotations.without_duct_segment(self.tracking_uid))


@dataclass(frozen=True, slots=True)
class SetNipple:
    """Place the nipple landmark of an image, or move the one it has."""

    landmark: NippleLandmark

    def describe(self, before: StudySnapshot) -> str:
        """Return ``"Place nipple"`` or ``"Move nipple"``."""
        existing = before.annotations.landmark(self.landmark.sop_instance_uid, self.landmark.frame)
        return "Place nipple" if existing is None else "Move nipple"

    def apply(self, before: StudySnapshot) -> StudySnapshot:
        """Set the landmark (replacing the image's one in place)."""
        return before.with_annotations(before.annotations.with_landmark(self.landmark))


@dataclass(frozen=True, slots=True)
class ConfirmNipples:
    """Accept suggested nipple landmarks as the reader's (confirmed, same place).

    Attributes
    ----------
    images
        ``(SOP Instance UID, frame)`` of each image whose suggested nipple is accepted;
        an image without one, or with a confirmed one, is left as it is.
    """

    images: tuple[tuple[str, int | None], ...]

    def describe(self, before: StudySnapshot) -> str:
        """Return ``"Accept suggested nipple"`` or ``"Accept 3 suggested nipples"``."""
        count = len(self._suggested(before))
        return "Accept suggested nipple" if count == 1 else f"Accept {count} suggested nipples"

    def apply(self, before: StudySnapshot) -> StudySnapshot:
        """Mark each named suggested landmark as confirmed."""
        annotations = before.annotations
        for landmark in self._suggested(before):
            annotations = annotations.with_landmark(replace(landmark, confirmed=True))
        return before.with_annotations(annotations)

    def _suggested(self, before: StudySnapshot) -> list[NippleLandmark]:
        wanted = set(self.images)
        return [
            landmark
            for landmark in before.annotations.landmarks
            if not landmark.confirmed and (landmark.sop_instance_uid, landmark.frame) in wanted
        ]


@dataclass(frozen=True, slots=True)
class DeleteNipple:
    """Delete the nipple landmark of an image (frame)."""

    sop_instance_uid: str
    frame: int | None = None

    def describe(self, before: StudySnapshot) -> str:
        """Return ``"Delete nipple"``."""
        return "Delete nipple"

    def apply(self, before: StudySnapshot) -> StudySnapshot:
        """Remove the landmark (``KeyError`` if the image has none)."""
        annotations = before.annotations.without_landmark(self.sop_instance_uid, self.frame)
        return before.with_annotations(annotations)


@dataclass(frozen=True, slots=True)
class MoveChestWall:
    """Replace the chest-wall line of an image with the one the reader drew (the reader's).

    A "move" onto the line there is changes nothing (no edit).
    """

    sop_instance_uid: str
    line: ChestWallLine

    def describe(self, before: StudySnapshot) -> str:
        """Return ``"Move chest wall"``."""
        return "Move chest wall"

    def apply(self, before: StudySnapshot) -> StudySnapshot:
        """Set the line, as the reader's."""
        if before.chest_wall(self.sop_instance_uid) == self.line:
            return before
        return before.with_chest_wall(self.sop_instance_uid, self.line)


@dataclass(frozen=True, slots=True)
class ReplaceAnnotations:
    """Replace the study's annotations with another set of the same study.

    E.g. those of a TID 1500 SR read from a file (``sr import``): its marks and revision
    identity replace the document's; the chest-wall lines stay.

    Attributes
    ----------
    annotations
        The new annotations.
    label
        What the Edit menu says.
    """

    annotations: AnnotationSet
    label: str = "Edit annotations"

    def describe(self, before: StudySnapshot) -> str:
        """Return the label."""
        return self.label

    def apply(self, before: StudySnapshot) -> StudySnapshot:
        """Put the annotations in place (``ValueError`` for another study's)."""
        return before.with_annotations(self.annotations)


@dataclass(frozen=True, slots=True)
class EditReport:
    """Replace the study's written report (one undoable edit of any of its fields).

    Attributes
    ----------
    report
        The report as the reader left it.
    label
        What the Edit menu says (e.g. "Edit report: impression").
    """

    report: ClinicalReport
    label: str = "Edit report"

    def describe(self, before: StudySnapshot) -> str:
        """Return the label."""
        return self.label

    def apply(self, before: StudySnapshot) -> StudySnapshot:
        """Put the report in place."""
        return before if before.report == self.report else replace(before, report=self.report)


@dataclass(frozen=True, slots=True)
class ObservedBy:
    """A command done by a reader: what it adds or changes records them as its observer.

    Every finding the command adds or changes gets ``observer`` as its Person Observer
    Name, and so does the study's annotation set (the revision the next save writes,
    TID 1002 Observer Context, PS3.16). An empty ``observer`` (no reader identity set)
    records nobody rather than keeping the previous author on a change they did not make.

    Attributes
    ----------
    command
        The edit.
    observer
        The reader's name (DICOM PN), may be empty.
    organization
        The reader's institution (the revision's "Person Observer's Organization Name").
    """

    command: Command
    observer: str
    organization: str = ""

    def describe(self, before: StudySnapshot) -> str:
        """Return the command's own description."""
        return self.command.describe(before)

    def apply(self, before: StudySnapshot) -> StudySnapshot:
        """Apply the command, then stamp the observer on what changed."""
        after = self.command.apply(before)
        if after == before:
            return after
        earlier = {f.tracking_uid: f for f in before.annotations.findings}
        annotations = after.annotations
        stamped = self.observer
        findings = tuple(
            replace(f, observer=stamped) if self._stamps(earlier.get(f.tracking_uid), f) else f
            for f in annotations.findings
        )
        return after.with_annotations(
            replace(
                annotations,
                findings=findings,
                observer=self.observer,
                observer_organization=self.organization if self.observer else "",
            )
        )

    def _stamps(self, earlier: Finding | None, finding: Finding) -> bool:
        """Whether ``finding`` (``earlier`` before the command) gets the observer.

        A changed finding always does; a new one when a reader is set (one added with
        its own observer by a script keeps it when nobody is reading).
        """
        if earlier == finding or finding.observer == self.observer:
            return False
        return earlier is not None or bool(self.observer)


@dataclass(frozen=True, slots=True)
class Edit:
    """One entry of a document's history: a command run and the snapshots around it.

    Attributes
    ----------
    text
        What the Edit menu says (:meth:`Command.describe` of the state edited).
    command
        The command.
    before, after
        The snapshots before and after it.
    """

    text: str
    command: Command
    before: StudySnapshot
    after: StudySnapshot


def _stamped(annotations: AnnotationSet, saved: AnnotationSet) -> AnnotationSet:
    """Return ``annotations`` with the SR revision identity of ``saved``.

    The identity is the revision's UIDs and who made it (its TID 1002 person observer
    and organisation): a revision signed or saved by a reader who edited nothing (e.g.
    the report was written before the reader identity was set) is theirs.
    """
    return replace(
        annotations,
        sop_instance_uid=saved.sop_instance_uid,
        previous_revision_uid=saved.previous_revision_uid,
        series_instance_uid=saved.series_instance_uid,
        observer=saved.observer,
        observer_organization=saved.observer_organization,
    )


class StudyDocument:
    """The editable state of one study: snapshots, a command history, saved or not.

    Parameters
    ----------
    initial
        The state read from disk (or an empty study); clean, with no history.

    Notes
    -----
    "Modified" means the current snapshot is not the one last saved (or loaded): undoing
    back to the saved state makes the document clean again, as a Qt undo stack's clean
    index does. :attr:`revision` counts every change (command, undo, redo, load,
    suggestion) and lets a saver tell whether the document changed while it was saving.
    """

    __slots__ = ("_clean", "_redo", "_revision", "_snapshot", "_suggestions", "_undo")

    def __init__(self, initial: StudySnapshot | AnnotationSet) -> None:
        self._snapshot = initial if isinstance(initial, StudySnapshot) else StudySnapshot(initial)
        #: Every line suggested so far, by image: put back by :meth:`load` where it has none.
        self._suggestions: dict[str, ChestWallLine] = {
            uid: line for uid, line in self._snapshot.chest_walls if uid in self._snapshot.suggested
        }
        self._undo: list[Edit] = []
        self._redo: list[Edit] = []
        self._revision = 0
        #: Number of edits undoable at the saved state; None when it cannot come back.
        self._clean: int | None = 0

    # --- reading ----------------------------------------------------------------------

    @property
    def snapshot(self) -> StudySnapshot:
        """Return the current state."""
        return self._snapshot

    @property
    def annotations(self) -> AnnotationSet:
        """Return the current annotations."""
        return self._snapshot.annotations

    @property
    def study_instance_uid(self) -> str:
        """Return the study's Study Instance UID."""
        return self._snapshot.study_instance_uid

    @property
    def revision(self) -> int:
        """Return the number of changes so far (increases with every change)."""
        return self._revision

    @property
    def is_modified(self) -> bool:
        """Return whether the current state is not the one last saved or loaded."""
        return self._clean != len(self._undo)

    @property
    def undo_text(self) -> str:
        """Return the text of the edit :meth:`undo` takes back, ``""`` when none."""
        return self._undo[-1].text if self._undo else ""

    @property
    def redo_text(self) -> str:
        """Return the text of the edit :meth:`redo` makes again, ``""`` when none."""
        return self._redo[-1].text if self._redo else ""

    def can_undo(self) -> bool:
        """Return whether there is an edit to undo."""
        return bool(self._undo)

    def can_redo(self) -> bool:
        """Return whether there is an undone edit to redo."""
        return bool(self._redo)

    def history(self) -> tuple[Edit, ...]:
        """Return the edits that can be undone, oldest first."""
        return tuple(self._undo)

    # --- editing ----------------------------------------------------------------------

    def execute(self, command: Command) -> Edit | None:
        """Run a command: its snapshot becomes the current one; the redo history is dropped.

        Parameters
        ----------
        command
            The edit.

        Returns
        -------
        Edit or None
            The history entry; ``None`` when the command changes nothing (no entry).

        Raises
        ------
        KeyError, ValueError
            When the command does not apply to the current state (nothing changes).
        """
        before = self._snapshot
        after = command.apply(before)
        if after.study_instance_uid != before.study_instance_uid:
            raise ValueError("a command cannot move annotations to another study")
        if after == before:
            return None
        edit = Edit(command.describe(before), command, before, after)
        if self._clean is not None and self._clean > len(self._undo):
            self._clean = None  # the saved state was undone and is now out of reach
        self._redo.clear()
        self._undo.append(edit)
        self._set(after)
        return edit

    def undo(self) -> Edit:
        """Take the last edit back.

        Returns
        -------
        Edit
            The edit undone.

        Raises
        ------
        IndexError
            When there is nothing to undo.
        """
        if not self._undo:
            raise IndexError("nothing to undo")
        edit = self._undo.pop()
        self._redo.append(edit)
        self._set(edit.before)
        return edit

    def redo(self) -> Edit:
        """Make the last undone edit again.

        Returns
        -------
        Edit
            The edit redone.

        Raises
        ------
        IndexError
            When there is nothing to redo.
        """
        if not self._redo:
            raise IndexError("nothing to redo")
        edit = self._redo.pop()
        self._undo.append(edit)
        self._set(edit.after)
        return edit

    # --- not edits --------------------------------------------------------------------

    def load(self, state: StudySnapshot | AnnotationSet) -> None:
        """Put a state read from disk in place: clean, with no history.

        The reader's chest-wall lines are those of ``state`` (the SR's); images without
        one keep the line suggested for them so far (:meth:`suggest_chest_wall`), so a
        reload drops an unsaved move but not the suggestion.

        Parameters
        ----------
        state
            The new state; an :class:`AnnotationSet` has no chest-wall line of the reader.
        """
        if isinstance(state, AnnotationSet):
            state = StudySnapshot(state)
        for uid, line in self._suggestions.items():
            if state.chest_wall(uid) is None:
                state = state.with_chest_wall(uid, line, suggested=True)
        self._undo.clear()
        self._redo.clear()
        self._clean = 0
        self._set(state)

    def clear_history(self) -> None:
        """Forget the undo and redo history; the state and whether it is saved stay."""
        modified = self.is_modified
        self._undo.clear()
        self._redo.clear()
        self._clean = None if modified else 0

    def mark_saved(self, saved: AnnotationSet, revision: int | None = None) -> None:
        """Record that the state at ``revision`` was saved as a new SR revision.

        The new revision identity (SOP Instance UID, predecessor, series) is stamped on
        every snapshot of the history, so an undo never brings an older revision back as
        the next save's predecessor. The document is clean when nothing changed since
        ``revision``.

        Parameters
        ----------
        saved
            The annotations as saved (:func:`galactoview.sr.persistence.save_annotations`).
        revision
            :attr:`revision` when the save started; the current one when ``None``.

        Raises
        ------
        ValueError
            When ``saved`` is another study's.
        """
        if saved.study_instance_uid != self.study_instance_uid:
            raise ValueError(f"study {saved.study_instance_uid} is not this document's")

        def stamp(snapshot: StudySnapshot) -> StudySnapshot:
            return replace(snapshot, annotations=_stamped(snapshot.annotations, saved))

        self._undo = [replace(e, before=stamp(e.before), after=stamp(e.after)) for e in self._undo]
        self._redo = [replace(e, before=stamp(e.before), after=stamp(e.after)) for e in self._redo]
        self._snapshot = stamp(self._snapshot)
        if revision is None or revision == self._revision:
            self._clean = len(self._undo)

    def suggest_chest_wall(self, sop_instance_uid: str, line: ChestWallLine) -> bool:
        """Add a suggested chest-wall line for an image that has none (not an edit).

        The line goes into every snapshot of the history without a line for that image,
        marked as suggested (not saved), so undo keeps it; whether the document is
        modified does not change. It is remembered for :meth:`load`.

        Parameters
        ----------
        sop_instance_uid
            The image.
        line
            The suggested line.

        Returns
        -------
        bool
            Whether the line was added (``False``: the image has a line already).
        """
        self._suggestions.setdefault(sop_instance_uid, line)
        if self._snapshot.chest_wall(sop_instance_uid) is not None:
            return False

        def add(snapshot: StudySnapshot) -> StudySnapshot:
            if snapshot.chest_wall(sop_instance_uid) is not None:
                return snapshot
            return snapshot.with_chest_wall(sop_instance_uid, line, suggested=True)

        self._undo = [replace(e, before=add(e.before), after=add(e.after)) for e in self._undo]
        self._redo = [replace(e, before=add(e.before), after=add(e.after)) for e in self._redo]
        self._set(add(self._snapshot))
        return True

    def _set(self, snapshot: StudySnapshot) -> None:
        self._snapshot = snapshot
        self._revision += 1
