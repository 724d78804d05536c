"""AnnotationWorkspace: the study documents of every study loaded, edited through Qt's undo stack.

Each study's editable state is a Qt-free
:class:`~galactoview.annotations.document.StudyDocument` (immutable snapshots of its
findings, duct trees, nipple landmarks and chest-wall lines, a command history, and the
one notion of "unsaved"). This class is the Qt side: it holds one document per study,
the selection, and signals for the views; and it puts every edit on a
:class:`QUndoStack` as a :class:`DocumentUndoCommand`, a thin adapter that forwards
``redo``/``undo`` to the document's history (the stack's ``push`` runs ``redo`` at once:
house style, never apply an edit and then push). One undo stack serves every study, so
Ctrl+Z undoes the last edit wherever it was made; the stack's texts are the commands'.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from galactoview.annotations.document import (
    AddDuctSegment,
    AddDuctSegments,
    AddFinding,
    Command,
    DeleteMark,
    DeleteNipple,
    EditReport,
    MoveChestWall,
    ObservedBy,
    ReplaceDuctSegment,
    ReplaceFinding,
    SetNipple,
    StudyDocument,
    StudySnapshot,
)
from galactoview.annotations.model import (
    AnnotationSet,
    ChestWallLine,
    DuctSegment,
    Finding,
    NippleLandmark,
    is_valid_uid,
)
from galactoview.annotations.report import Addendum, ClinicalReport
from galactoview.sr.signing import Signature

#: Stands for a study whose Study Instance UID is not a UID: shown, never annotated.
UNSTORABLE_STUDY = "2.25.0"

__all__ = ["UNSTORABLE_STUDY", "AnnotationWorkspace", "DocumentUndoCommand"]


class DocumentUndoCommand(QUndoCommand):
    """A document command on Qt's undo stack: ``redo``/``undo`` go to the study's document.

    The first ``redo`` (run by ``QUndoStack.push``) executes the command on the
    document; later ones redo it from the document's history.

    Parameters
    ----------
    workspace
        Where the study's document lives.
    study_instance_uid
        The study edited.
    command
        The edit.
    text
        What the Edit menu says (the command's description of the state it edits).
    """

    def __init__(
        self, workspace: AnnotationWorkspace, study_instance_uid: str, command: Command, text: str
    ) -> None:
        super().__init__(text)
        self._workspace = workspace
        self._study = study_instance_uid
        self._command: Command | None = command

    def redo(self) -> None:
        """Apply the edit (the first time) or make it again."""
        command, self._command = self._command, None
        if not self._workspace._forward(self._study, command):
            self.setObsolete(True)  # it changed nothing: the stack drops it

    def undo(self) -> None:
        """Take the edit back."""
        self._workspace._forward(self._study, None, undo=True)


class AnnotationWorkspace(QObject):
    """Holds one :class:`StudyDocument` per study and edits them through an undo stack.

    Parameters
    ----------
    undo_stack
        The stack edits go on; a new one when None.
    parent
        Parent object.

    Signals
    -------
    changed(str)
        The document of this study (Study Instance UID) changed: an edit, an undo, a
        redo, a load or a suggested chest-wall line.
    selection_changed(object)
        The selected finding or duct segment (its tracking UID) changed; None when
        nothing is selected.
    modified_changed(bool)
        Whether some study has unsaved edits changed (the window title's "•").

    Attributes
    ----------
    reader
        The reader's name (DICOM PN) recorded on every finding an edit adds or changes
        and on the revision it makes (:class:`ObservedBy`); empty when not set.
    reader_organization
        The reader's institution, recorded on the revision with the name.
    """

    changed = Signal(str)
    selection_changed = Signal(object)
    modified_changed = Signal(bool)
    #: An edit of a read-only (signed) study was refused: why, for the status bar.
    read_only_refused = Signal(str)

    def __init__(self, undo_stack: QUndoStack | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = undo_stack if undo_stack is not None else QUndoStack(self)
        self._documents: dict[str, StudyDocument] = {}
        self._selected: str | None = None
        self._modified = False
        self.reader = ""
        self.reader_organization = ""
        #: Signed studies: (why they are read only, the signed revision's SOP Instance UID).
        self._read_only: dict[str, tuple[str, str | None]] = {}
        #: Who signed each signed study's revision (PS3.3 C.17.2 Verifying Observer).
        self._signatures: dict[str, Signature] = {}

    # --- reading ----------------------------------------------------------------------

    def studies(self) -> tuple[str, ...]:
        """Return the studies that have a document (loaded or edited), in first-seen order."""
        return tuple(
            uid
            for uid, document in self._documents.items()
            if document.study_instance_uid != UNSTORABLE_STUDY
        )

    def document(self, study_instance_uid: str) -> StudyDocument | None:
        """Return the document of a study, None when it has none yet."""
        return self._documents.get(study_instance_uid)

    def snapshot(self, study_instance_uid: str) -> StudySnapshot:
        """Return the current state of a study's document (empty if it has none yet)."""
        document = self._documents.get(study_instance_uid)
        if document is not None:
            return document.snapshot
        return StudySnapshot(self.annotations(study_instance_uid))

    def annotations(self, study_instance_uid: str) -> AnnotationSet:
        """Return the annotations of a study (empty if it has none yet).

        A study whose Study Instance UID is not a UID (a damaged file) can be shown but
        never annotated: it gets an empty set under :data:`UNSTORABLE_STUDY`, and
        :meth:`execute` ignores edits of that set.
        """
        found = self._documents.get(study_instance_uid)
        if found is not None:
            return found.annotations
        if not is_valid_uid(study_instance_uid):
            return AnnotationSet(UNSTORABLE_STUDY)
        return AnnotationSet(study_instance_uid)

    def chest_wall(self, sop_instance_uid: str) -> ChestWallLine | None:
        """Return the chest-wall line of an image (in whichever study has it), None if none."""
        for document in self._documents.values():
            line = document.snapshot.chest_wall(sop_instance_uid)
            if line is not None:
                return line
        return None

    def all_findings(self) -> tuple[tuple[str, Finding], ...]:
        """Return ``(study uid, finding)`` for every finding of every study."""
        return tuple(
            (uid, f)
            for uid, document in self._documents.items()
            for f in document.annotations.findings
        )

    def study_of(self, tracking_uid: str) -> str | None:
        """Return the study holding a finding or duct segment, None if none does."""
        for uid, document in self._documents.items():
            annotations = document.annotations
            if any(f.tracking_uid == tracking_uid for f in annotations.findings):
                return uid
            if any(s.tracking_uid == tracking_uid for s in annotations.duct_segments):
                return uid
        return None

    @property
    def selected(self) -> str | None:
        """Return the tracking UID of the selected finding or segment, None if none."""
        return self._selected

    def dirty_studies(self) -> tuple[str, ...]:
        """Return the studies whose documents differ from what was last loaded or saved."""
        return tuple(uid for uid, document in self._documents.items() if document.is_modified)

    def is_modified(self) -> bool:
        """Return whether any study has unsaved edits."""
        return any(document.is_modified for document in self._documents.values())

    # --- loading and saving --------------------------------------------------------------

    def set_loaded(
        self,
        annotations: AnnotationSet,
        chest_walls: Mapping[str, ChestWallLine] | None = None,
        report: ClinicalReport | None = None,
    ) -> None:
        """Put annotations read from disk in place, unmodified (not an undoable edit).

        ``chest_walls`` are the reader's lines the SR stored; images without one keep
        the line suggested for them (:meth:`StudyDocument.load`); ``report`` is the
        written report the SR held (none: an empty one). The undo history of
        that study is no longer valid and the whole stack is cleared (an undo must never
        resurrect annotations of a file replaced since).
        """
        study = annotations.study_instance_uid
        state = StudySnapshot.of(annotations, chest_walls, report=report)
        document = self._documents.get(study)
        if document is None:
            self._documents[study] = StudyDocument(state)
        else:
            document.load(state)
        self._clear_history()
        if self._selected is not None and self.study_of(self._selected) is None:
            self.select(None)
        self._changed(study)

    def add_loaded(
        self,
        annotations: AnnotationSet,
        chest_walls: Mapping[str, ChestWallLine] | None = None,
        report: ClinicalReport | None = None,
    ) -> None:
        """Put a study read from disk next to the studies open, keeping their undo history.

        Unlike :meth:`set_loaded` the undo stack is kept: it holds edits of the other
        studies only, which stay valid (a study added to those open, e.g. a prior
        fetched in the background).

        Raises
        ------
        ValueError
            If the study's document has an undo or redo history (edits in the stack
            refer to it: :meth:`set_loaded` is the way to replace it).
        """
        study = annotations.study_instance_uid
        state = StudySnapshot.of(annotations, chest_walls, report=report)
        document = self._documents.get(study)
        if document is None:
            self._documents[study] = StudyDocument(state)
        elif document.can_undo() or document.can_redo():
            raise ValueError(f"study {study} has edits to undo: it cannot be added again")
        else:
            document.load(state)
        self._changed(study)

    def mark_saved(self, annotations: AnnotationSet, revision: int | None = None) -> None:
        """Record that a study was saved as ``annotations`` (its new revision UIDs).

        Parameters
        ----------
        annotations
            The annotations as saved.
        revision
            The document's :attr:`~StudyDocument.revision` when the save started (the
            current one when None): edits made since keep the study unsaved.
        """
        study = annotations.study_instance_uid
        document = self._documents.get(study)
        if document is None:
            document = self._documents[study] = StudyDocument(annotations)
        document.mark_saved(annotations, revision)
        self._update_modified()

    def set_read_only(
        self,
        study_instance_uid: str,
        reason: str | None,
        signed_revision_uid: str | None = None,
        signature: Signature | None = None,
    ) -> None:
        """Make a study's marks and report read-only (a signed report), or editable with ``None``.

        Parameters
        ----------
        study_instance_uid
            The study.
        reason
            What an edit is told (e.g. who signed and when); ``None``: editable.
        signed_revision_uid
            The signed revision: while the study's report is an addendum to it
            (:meth:`begin_addendum`), the study can be edited again.
        signature
            Who signed it and when (:meth:`signature`).
        """
        self._signatures.pop(study_instance_uid, None)
        if reason is None:
            self._read_only.pop(study_instance_uid, None)
            return
        self._read_only[study_instance_uid] = (reason, signed_revision_uid)
        if signature is not None:
            self._signatures[study_instance_uid] = signature

    def signer(self, study_instance_uid: str) -> Signature | None:
        """Return who signed the study's signed revision, also while an addendum is written."""
        if study_instance_uid not in self._read_only:
            return None
        return self._signatures.get(study_instance_uid)

    def signature(self, study_instance_uid: str) -> Signature | None:
        """Return who signed the study's report as it is now; ``None`` for a draft.

        Only while the document is the signed revision itself, unchanged: an addendum
        being written (or saved, unsigned) is a draft until it is signed.
        """
        found = self._read_only.get(study_instance_uid)
        signature = self._signatures.get(study_instance_uid)
        document = self._documents.get(study_instance_uid)
        if found is None or signature is None or document is None or document.is_modified:
            return None
        return signature if document.annotations.sop_instance_uid == found[1] else None

    def read_only_reason(self, study_instance_uid: str) -> str | None:
        """Return why a study's marks cannot be edited, ``None`` when they can.

        A signed study is editable while its report is an addendum to the signed
        revision (PS3.3 C.17.2: the signed document itself is never changed; the
        addendum is a new revision).
        """
        found = self._read_only.get(study_instance_uid)
        if found is None:
            return None
        reason, signed = found
        addendum = self.report(study_instance_uid).addendum
        if signed is not None and addendum is not None and addendum.signed_revision_uid == signed:
            return None
        return reason

    def signed_revision(self, study_instance_uid: str) -> str | None:
        """Return the SOP Instance UID of the study's signed revision, ``None`` if unsigned."""
        found = self._read_only.get(study_instance_uid)
        return None if found is None else found[1]

    def report(self, study_instance_uid: str) -> ClinicalReport:
        """Return the study's written report (empty when none)."""
        return self.snapshot(study_instance_uid).report

    def set_report(
        self, study_instance_uid: str, report: ClinicalReport, label: str = "Edit report"
    ) -> bool:
        """Replace the study's written report as one undoable edit.

        Returns
        -------
        bool
            Whether it was changed (not when equal, read-only, or unstorable).
        """
        return self.execute(study_instance_uid, EditReport(report, label))

    def begin_addendum(self, study_instance_uid: str, text: str) -> bool:
        """Start an addendum to the study's signed report (undoable; the study becomes editable).

        Parameters
        ----------
        study_instance_uid
            A signed study.
        text
            What the addendum says.

        Returns
        -------
        bool
            Whether the addendum was started: not when the study is not signed.

        Raises
        ------
        ValueError
            For an empty text.
        """
        signed = self.signed_revision(study_instance_uid)
        if signed is None:
            return False
        addendum = Addendum(signed, text)
        report = replace(self.report(study_instance_uid), addendum=addendum)
        reason = self._read_only.pop(study_instance_uid)
        try:
            return self.execute(study_instance_uid, EditReport(report, "Start addendum"))
        finally:
            self._read_only[study_instance_uid] = reason

    def clear_undo_history(self) -> None:
        """Drop the undo history of every study (e.g. once a report is signed).

        A signed revision must not be changed by an undo: what was edited before the
        signature is part of it. The stack is shared by every study, so the others'
        history goes too (signing is rare; Qt's stack cannot drop one study's edits).
        """
        self._clear_history()

    def clear(self) -> None:
        """Forget every study's document and the undo history."""
        self._read_only.clear()
        self._signatures.clear()
        self._documents.clear()
        self.undo_stack.clear()
        self.select(None)
        self._update_modified()

    # --- edits --------------------------------------------------------------------------

    def execute(self, study_instance_uid: str, command: Command) -> bool:
        """Run a command on a study's document as one undoable edit.

        Parameters
        ----------
        study_instance_uid
            The study.
        command
            The edit.

        Returns
        -------
        bool
            Whether it was pushed: not when it changes nothing or the study cannot be
            stored (its Study Instance UID is not a UID).
        """
        document = self._document(study_instance_uid)
        if document.study_instance_uid == UNSTORABLE_STUDY:
            return False
        reason = self.read_only_reason(study_instance_uid)
        if reason is not None:
            self.read_only_refused.emit(reason)
            return False
        command = ObservedBy(command, self.reader, self.reader_organization)
        before = document.snapshot
        if command.apply(before) == before:
            return False
        text = command.describe(before)
        self.undo_stack.push(DocumentUndoCommand(self, study_instance_uid, command, text))
        return True

    def add_finding(self, study_instance_uid: str, finding: Finding) -> None:
        """Add a finding to a study (undoable) and select it."""
        self.execute(study_instance_uid, AddFinding(finding))
        self.select(finding.tracking_uid)

    def replace_finding(self, finding: Finding, text: str = "") -> None:
        """Replace a finding by tracking UID (moved, reshaped or re-typed)."""
        study = self.study_of(finding.tracking_uid)
        if study is None:
            raise KeyError(finding.tracking_uid)
        self.execute(study, ReplaceFinding(finding, text))

    def remove(self, tracking_uid: str) -> None:
        """Delete a finding, or a duct segment with its branches (undoable)."""
        study = self.study_of(tracking_uid)
        if study is None:
            return
        self.execute(study, DeleteMark(tracking_uid))
        if self._selected == tracking_uid:
            self.select(None)

    def add_duct_segment(self, study_instance_uid: str, segment: DuctSegment) -> None:
        """Add a traced duct segment (undoable) and select it."""
        self.execute(study_instance_uid, AddDuctSegment(segment))
        self.select(segment.tracking_uid)

    def add_duct_segments(
        self, study_instance_uid: str, segments: tuple[DuctSegment, ...], text: str = ""
    ) -> bool:
        """Add several duct segments as ONE undoable edit (an accepted suggested tree).

        Parameters
        ----------
        study_instance_uid
            The study.
        segments
            Parents first (:class:`AddDuctSegments`).
        text
            What the Edit menu says (the command's own description when empty).

        Returns
        -------
        bool
            Whether they were added (not on a signed or unstorable study, nor none).
        """
        if not segments:
            return False
        return self.execute(study_instance_uid, AddDuctSegments(segments, text))

    def replace_duct_segment(self, segment: DuctSegment, text: str = "") -> None:
        """Replace a duct segment by tracking UID (reshaped)."""
        study = self.study_of(segment.tracking_uid)
        if study is None:
            raise KeyError(segment.tracking_uid)
        self.execute(study, ReplaceDuctSegment(segment, text))

    def set_landmark(self, study_instance_uid: str, landmark: NippleLandmark) -> None:
        """Place (or move) the nipple landmark of an image (undoable)."""
        self.execute(study_instance_uid, SetNipple(landmark))

    def remove_landmark(
        self, study_instance_uid: str, sop_instance_uid: str, frame: int | None = None
    ) -> None:
        """Delete the nipple landmark of an image (undoable)."""
        if self.annotations(study_instance_uid).landmark(sop_instance_uid, frame) is not None:
            self.execute(study_instance_uid, DeleteNipple(sop_instance_uid, frame))

    def move_chest_wall(
        self, study_instance_uid: str, sop_instance_uid: str, line: ChestWallLine
    ) -> bool:
        """Replace an image's chest-wall line with the reader's (undoable, marks unsaved).

        Returns
        -------
        bool
            Whether the edit was made (not on a study that cannot be stored).
        """
        return self.execute(study_instance_uid, MoveChestWall(sop_instance_uid, line))

    def suggest_chest_wall(
        self, study_instance_uid: str, sop_instance_uid: str, line: ChestWallLine
    ) -> None:
        """Use a suggested chest-wall line for an image that has none (not an edit)."""
        if self._document(study_instance_uid).suggest_chest_wall(sop_instance_uid, line):
            self.changed.emit(study_instance_uid)  # the views recompute the locations

    def select(self, tracking_uid: str | None) -> None:
        """Select a finding or duct segment (None: nothing)."""
        if tracking_uid != self._selected:
            self._selected = tracking_uid
            self.selection_changed.emit(tracking_uid)

    # --- internal -----------------------------------------------------------------------

    def _document(self, study: str) -> StudyDocument:
        """Return a study's document, making an empty one when it has none."""
        document = self._documents.get(study)
        if document is None:
            document = self._documents[study] = StudyDocument(self.annotations(study))
        return document

    def _forward(self, study: str, command: Command | None, *, undo: bool = False) -> bool:
        """Run, redo or undo an edit on a study's document (the undo commands call this).

        Returns whether the document changed. The stack and the documents' histories
        move together, so there is always an edit to undo or redo; should they ever
        disagree, nothing happens rather than an exception inside Qt.
        """
        document = self._document(study)
        if undo:
            changed = document.can_undo() and document.undo() is not None
        elif command is not None:
            changed = document.execute(command) is not None
        else:
            changed = document.can_redo() and document.redo() is not None
        if changed:
            self._changed(study)
        return changed

    def _clear_history(self) -> None:
        """Drop the undo history of the stack and of every document."""
        self.undo_stack.clear()
        for document in self._documents.values():
            document.clear_history()

    def _changed(self, study: str) -> None:
        self.changed.emit(study)
        self._update_modified()

    def _update_modified(self) -> None:
        modified = self.is_modified()
        if modified != self._modified:
            self._modified = modified
            self.modified_changed.emit(modified)
