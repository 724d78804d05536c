"""File → Store Marks to PACS, and Edit → PACS Nodes…: the window's PACS actions.

:class:`PacsActions` runs both. **Store Marks to PACS** saves the current study's marks
(the one notion of "saved": :class:`~galactoview.ui.annotate.annotation_saver.AnnotationSaver`),
takes the SR revision its sidecar now holds as the binary SR ``galactoview sr export``
writes (:func:`galactoview.pacs.outgoing.sidecar_sr`), and sends it to the default node
by STOW-RS (PS3.18 10.5) or C-STORE (PS3.4 Annex B) in a pool thread: the window never
waits for the network. The clients skip an instance the PACS already holds (same SOP
Instance UID). The outcome is one status-bar line; failures go to the Problems panel,
naming the node. Which SR revision was last stored to which node is remembered per
study in the settings, so the action is disabled (and says so) when there is nothing
new to send.

Before sending, the same pool thread asks the node for the study's newest revision
(:func:`galactoview.pacs.conflict.newer_revision_on_pacs`): when a colleague stored a
revision that is not ours nor one ours was made from, nothing is sent and the reader
is asked to reload theirs or keep both (:mod:`galactoview.ui.shell.pacs_conflict`,
which also checks the studies opened from the PACS cache when the window regains focus).
When the check itself fails the store goes on (storing never replaces anything on the
PACS); a store that then fails says why once, one that succeeds says the check failed.

When a study is closed or the window quits with marks whose saved SR revision is not
on the default node, :meth:`PacsActions.confirm_leave` (one of the unsaved-marks
guard's :attr:`~galactoview.ui.shell.save_guard.UnsavedMarksGuard.then_confirm`
questions) asks once whether to store them first; with no node configured, or while
the process is terminating, nothing is asked.

After a report is signed, :meth:`PacsActions.offer_signed_store` (called by the Sign
report action with the PDF it exported) asks once, without blocking, whether to store
the signed report and its PDF on the default node; yes sends the signed SR revision and
the PDF as an Encapsulated PDF instance of the study
(:mod:`galactoview.pacs.encapsulated_pdf`) in a pool thread, with no newer-revision
check (a signature is deliberate, and storing replaces nothing). The outcome is one
status-bar line naming the node and what was stored; failures go to the Problems panel.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from pydicom.dataset import Dataset
from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox, QWidget

from galactoview.dicom.person_name import format_person_name
from galactoview.pacs.cache import default_cache_root
from galactoview.pacs.configured import NodeSettings
from galactoview.pacs.conflict import NewerRevision, newer_revision_on_pacs
from galactoview.pacs.encapsulated_pdf import encapsulated_pdf
from galactoview.pacs.nodes import DicomWebNode, DimseNode
from galactoview.pacs.origin import recall_origin
from galactoview.pacs.outgoing import read_pdf, sidecar_sr
from galactoview.pacs.results import StoreResult
from galactoview.pacs.revisions import predecessors
from galactoview.ui.background import BackgroundCall
from galactoview.ui.browser.study_browser import format_dicom_date
from galactoview.ui.shell.pacs_conflict import RevisionConflicts
from galactoview.ui.shell.pacs_nodes_dialog import PacsNodes, PacsNodesDialog
from galactoview.ui.shell.save_guard import ask_three_ways

if TYPE_CHECKING:
    from pathlib import Path

    from galactoview.ui.shell.main_window import MainWindow

__all__ = [
    "STORED_KEY",
    "PacsActions",
    "StoreChoice",
    "ask_secret",
    "ask_signed_store_with_dialog",
    "ask_store_with_dialog",
    "signed_store_question",
]

#: Settings group: ``<it>/<Study Instance UID>`` = ``"<node name>\\n<SR SOP Instance UID>"``.
STORED_KEY: Final = "pacs/stored"
_TEXT: Final = "Store &Marks to PACS"
_STATUS_MS: Final = 10_000
#: How long closing waits for one study's store before it gives up (and stays open).
STORE_ON_CLOSE_TIMEOUT_MS: Final = 120_000


class StoreChoice(enum.Enum):
    """The reader's answer when closing with marks saved here but not on the PACS."""

    STORE = "store and close"
    CLOSE = "close without storing"
    CANCEL = "cancel"


#: Asks the reader: (parent, one line per study, node name) -> answer.
AskStore = Callable[[QWidget, Sequence[str], str], StoreChoice]
#: Asks, not blocking: (parent, question, answered(store?)); returns the dialog, if any.
AskSignedStore = Callable[[QWidget, str, Callable[[bool], None]], object]


def signed_store_question(node_name: str) -> str:
    """Return the question asked after signing, with a PACS node configured."""
    return f"Store the signed report and its PDF on {node_name}?"


def ask_signed_store_with_dialog(
    parent: QWidget, text: str, answered: Callable[[bool], None]
) -> QMessageBox:
    """Ask without blocking (window-modal box): Store (default) or Not Now."""
    box = QMessageBox(QMessageBox.Icon.Question, "Store on PACS", text, parent=parent)
    box.setObjectName("SignedStoreDialog")
    store_button = box.addButton("Store", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Not Now", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(store_button)

    def finished(_result: int) -> None:
        clicked = box.clickedButton()
        box.deleteLater()
        answered(clicked is store_button)

    box.finished.connect(finished)
    box.open()
    return box


def store_question(studies: Sequence[str], node_name: str) -> str:
    """Return the question asked when closing with marks not stored to the node."""
    return (
        f"The marks of {'; '.join(studies)} are saved here but not stored to {node_name}. "
        "Store them now?"
    )


def ask_store_with_dialog(parent: QWidget, studies: Sequence[str], node_name: str) -> StoreChoice:
    """Ask with a modal message box: Store and Close (default), Close Without Storing, Cancel."""
    answer = ask_three_ways(
        parent,
        "StoreMarksOnCloseDialog",
        "Marks not stored to PACS",
        store_question(studies, node_name),
        "Store and Close",
        "Close Without Storing",
    )
    return (StoreChoice.STORE, StoreChoice.CLOSE, StoreChoice.CANCEL)[answer]


def ask_secret(parent: QWidget, node: NodeSettings) -> str | None:
    """Ask the reader for a node's password or token (this session only); None: cancelled."""
    text, ok = QInputDialog.getText(
        parent,
        "PACS login",
        f"Password or token for {node.name} ({node.address()}):",
        QLineEdit.EchoMode.Password,
    )
    return text if ok and text else None


@dataclass(frozen=True)
class _Sent:
    """What the pool thread of a store did.

    Attributes
    ----------
    result
        The store's result; ``None`` when nothing was sent (a newer revision).
    newer
        The newer revision on the PACS that stopped the store, else ``None``.
    problems
        Lines about the SRs on the PACS (skipped, not retrieved).
    check_error
        Why the node could not be checked for a newer revision (then it was sent).
    """

    result: StoreResult | None
    newer: NewerRevision | None = None
    problems: tuple[str, ...] = ()
    check_error: str = ""


def _send(
    node: NodeSettings, secret: str, report: Dataset, study: str, ours: Sequence[str]
) -> _Sent:
    """Check for a newer revision, then store one SR on the node (in a pool thread).

    Raises the store's error (the check's is returned: the store goes on without it).
    """
    target = node.to_node(secret)
    problems: tuple[str, ...] = ()
    check_error = ""
    try:
        check = newer_revision_on_pacs(target, study, ours)
    except Exception as error:  # the node's errors: the store says them if it fails too
        check_error = (str(error).splitlines() or [type(error).__name__])[0]
    else:
        if check.newer is not None:
            return _Sent(None, check.newer, check.problems)
        problems = check.problems
    return _Sent(_store_on(target, [report]), None, problems, check_error)


def _store_on(target: DicomWebNode | DimseNode, items: Sequence[Dataset]) -> StoreResult:
    """Store datasets on a node with its protocol's client (in a pool thread)."""
    from galactoview.pacs import dicomweb, dimse

    if isinstance(target, DimseNode):
        return dimse.store(target, items)
    return dicomweb.store(target, items)


@dataclass(frozen=True)
class _SignedStore:
    """A store of a signed report and its PDF under way: what the outcome line names."""

    study: str
    node_name: str
    report_uid: str
    pdf_uid: str


def _signed_outcome(node_name: str, report: bool, pdf: bool) -> str:
    """Return the status-bar line after storing a signed report (and whether its PDF) went."""
    if report and pdf:
        return f"Signed report and its PDF stored on {node_name}"
    if report:
        return f"Signed report stored on {node_name}; its PDF not (see Problems)"
    if pdf:
        return f"Report PDF stored on {node_name}; the signed report not (see Problems)"
    return f"Signed report and its PDF not stored on {node_name} (see Problems)"


class PacsActions(QObject):
    """The window's PACS actions (see the module docstring).

    Parameters
    ----------
    window
        The main window: its saver, session, problems, status bar and settings.
    action
        The window's "Store Marks to PACS" action, enabled and labelled here.

    Attributes
    ----------
    ask_secret
        Asks for a secret the keyring does not hold (replaced in tests).
    ask_store
        Asks whether to store the marks before closing (:func:`ask_store_with_dialog`;
        replaced in tests).
    ask_signed
        Asks, without blocking, whether to store a signed report and its PDF
        (:func:`ask_signed_store_with_dialog`; replaced in tests).
    conflicts
        Newer revisions on the PACS: the question, reload / keep both, the background
        check (:class:`~galactoview.ui.shell.pacs_conflict.RevisionConflicts`).

    Signals
    -------
    store_finished(object)
        A store is over: its :class:`StoreResult`; None when it failed as a whole; or the
        :class:`~galactoview.pacs.conflict.NewerRevision` on the PACS that stopped it
        (nothing sent, the reader asked).
    signed_store_finished(object)
        A store of a signed report and its PDF is over: its :class:`StoreResult`, None
        when it failed as a whole.
    """

    store_finished = Signal(object)
    signed_store_finished = Signal(object)

    def __init__(self, window: MainWindow, action: QAction) -> None:
        super().__init__(window)
        self._window = window
        self._action = action
        self.config = PacsNodes(window.settings)
        self.ask_secret: Callable[[QWidget, NodeSettings], str | None] = ask_secret
        self.ask_store: AskStore = ask_store_with_dialog
        self.ask_signed: AskSignedStore = ask_signed_store_with_dialog
        self._busy = False
        self._leaving = False
        self._sender = BackgroundCall(self)
        self._sender.done.connect(self._on_sent)
        self._pending: tuple[str, str, str] | None = None  # study, node name, SR UID
        self._signed_sender = BackgroundCall(self)
        self._signed_sender.done.connect(self._on_signed_sent)
        self._signed: _SignedStore | None = None
        self.conflicts = RevisionConflicts(window, self.config, self.describe_study)
        self.conflicts.resolved.connect(lambda _study, _choice: self.refresh())
        saver = window.saver
        saver.saved.connect(lambda _study: self.refresh())
        saver.storage_changed.connect(self.refresh)
        window.workspace.modified_changed.connect(lambda *_args: self.refresh())
        window.session.active_changed.connect(lambda _cell: self.refresh())
        window.session.image_selected.connect(lambda _cell: self.refresh())
        window.session.hanging_changed.connect(lambda _hanging: self.refresh())
        window.scan_finished.connect(self.refresh)
        window.unsaved_guard.then_confirm.append(self.confirm_leave)
        self.refresh()

    # --- state ----------------------------------------------------------------------------

    def current_study(self) -> str | None:
        """Return the Study Instance UID of the image shown in the active viewport."""
        record = self._window.current_record() or next(iter(self._window.records), None)
        return record.study_instance_uid if record is not None else None

    def _saved_revision(self, study: str) -> str | None:
        """Return the SOP Instance UID of the SR revision the study's sidecar holds.

        Read again only when the file changed (size or modification time), so the
        many refreshes of a reading session cost one ``stat`` each.
        """
        return next(iter(self.conflicts.revision(study)), None)

    def last_stored(self, study: str) -> tuple[str, str] | None:
        """Return ``(node name, SR SOP Instance UID)`` last stored for a study."""
        text = self._window.settings.text(f"{STORED_KEY}/{study}", "")
        node, _, uid = text.partition("\n")
        return (node, uid) if node and uid else None

    def nothing_new(self, study: str, node: NodeSettings) -> bool:
        """Whether the study's saved revision is the one last stored to the node."""
        if study in self._window.workspace.dirty_studies():
            return False
        uid = self._saved_revision(study)
        return uid is not None and self._on_node(study, node, uid)

    def _on_node(self, study: str, node: NodeSettings, uid: str) -> bool:
        """Whether SR revision ``uid`` is known to be on the node: stored, or retrieved from it.

        A study retrieved into the PACS cache remembers its node and the revision adopted
        (:mod:`galactoview.pacs.origin`): sending that revision back would send nothing.
        """
        if self.last_stored(study) == (node.name, uid):
            return True
        origin = recall_origin(default_cache_root(), study)
        return origin is not None and origin.revision == uid and origin.address == node.address()

    def refresh(self) -> None:
        """Enable and label the action for the current study and the default node."""
        study = self.current_study()
        node = self.config.default()
        text, tip, enabled = _TEXT, "Send the current SR revision of the marks", True
        if self._busy:
            text, tip, enabled = "Storing Marks to PACS…", "A store is under way", False
        elif study is None:
            enabled = False
        elif node is None:
            tip = "Configure a PACS node first (Edit → PACS Nodes…)"
        elif self.nothing_new(study, node):
            text = "Marks Stored to PACS (nothing new)"
            tip = f"This revision of the marks is on {node.name}"
            enabled = False
        else:
            tip = f"Send the current SR revision of the marks to {node.name}"
        self._action.setText(text)
        self._action.setToolTip(tip)
        self._action.setEnabled(enabled)

    # --- actions --------------------------------------------------------------------------

    def edit_nodes(self) -> PacsNodesDialog:
        """Open Edit → PACS Nodes… (window-modal, not blocking)."""
        dialog = PacsNodesDialog(self.config, self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._on_nodes_saved)
        dialog.open()
        return dialog

    def _on_nodes_saved(self) -> None:
        problems = self.config.secrets.take_problems()
        self._window.problems.report_many((line, None) for line in problems)
        self.refresh()

    def store_marks(self, study: str | None = None) -> bool:
        """Save a study's marks and send their SR revision to the default node.

        Parameters
        ----------
        study
            The Study Instance UID; the current study when ``None``.

        Returns
        -------
        bool
            Whether a store was started (the outcome comes with :attr:`store_finished`).
        """
        window = self._window
        study = study or self.current_study()
        if self._busy or study is None:
            return False
        node = self.config.default()
        if node is None:
            window.statusBar().showMessage(
                "No PACS node configured: add one in Edit → PACS Nodes…", _STATUS_MS
            )
            self.edit_nodes()
            return False
        window.saver.save_now()
        if study in window.saver.unsaved_studies():
            window.problems.report(f"{node.name}: marks not stored: they could not be saved")
            return False
        target = window.saver.target(study)
        if target is None or not target.path.is_file():
            window.statusBar().showMessage("No marks to store for this study", _STATUS_MS)
            return False
        try:
            report = sidecar_sr(target.path)
        except ValueError as error:
            window.problems.report(f"marks not stored: {error}", target.path)
            return False
        uid = str(report.SOPInstanceUID)
        if self._on_node(study, node, uid):
            window.statusBar().showMessage(f"Marks already stored on {node.name}", _STATUS_MS)
            self.refresh()
            return False
        secret = self._secret(node)
        if secret is None:
            return False
        ours = (uid, *predecessors(report), *self.conflicts.ours(study))
        self._busy = True
        self._pending = (study, node.name, uid)
        window.status.show_busy(f"Storing marks to {node.name}…")
        self.refresh()
        self._sender.start(lambda: _send(node, secret, report, study, tuple(dict.fromkeys(ours))))
        return True

    def _secret(self, node: NodeSettings) -> str | None:
        """Return the node's secret ("" for none), asking when unknown; None: not given."""
        window = self._window
        secret = ""
        if node.needs_secret:
            secret = self.config.secrets.get(node.name) or self.ask_secret(window, node) or ""
            if not secret:
                return None
            self.config.secrets.put(node.name, secret)
        window.problems.report_many((line, None) for line in self.config.secrets.take_problems())
        return secret

    def _on_sent(self, ok: bool, value: object) -> None:
        window = self._window
        self._busy = False
        window.status.hide_busy()
        pending, self._pending = self._pending, None
        pending_name = pending[1] if pending is not None else "PACS"
        sent = value if ok and isinstance(value, _Sent) else None
        if sent is not None:
            window.problems.report_many((f"{pending_name}: {line}", None) for line in sent.problems)
        if sent is not None and sent.newer is not None and pending is not None:
            self._stopped_by(pending[0], pending_name, sent.newer)
            return
        result = sent.result if sent is not None else None
        if result is None:
            window.problems.report(f"marks not stored: {value}")
        else:
            if sent is not None and sent.check_error:
                window.problems.report(
                    f"{pending_name}: newer revisions of the marks not checked before storing: "
                    f"{sent.check_error}"
                )
            for failure in result.failures:
                window.problems.report(f"{pending_name}: marks not stored: {failure}")
            if pending is not None:
                study, name, uid = pending
                if uid in result.stored or uid in result.already_present:
                    window.settings.set(f"{STORED_KEY}/{study}", f"{name}\n{uid}")
                    self.conflicts.remember(study, [uid])
                    done = "stored" if uid in result.stored else "already there"
                    window.statusBar().showMessage(f"Marks {done} on {name} (SR {uid})", _STATUS_MS)
        self.refresh()
        self.store_finished.emit(result)

    def _stopped_by(self, study: str, node_name: str, newer: NewerRevision) -> None:
        """Nothing was sent: the node holds a newer revision. Say so and ask (not blocking)."""
        self._window.statusBar().showMessage(
            f"Marks not stored: {node_name} holds a newer revision ({newer.describe()})",
            _STATUS_MS,
        )
        self.conflicts.ask_about(study, newer, node_name, storing=True)
        self.refresh()
        self.store_finished.emit(newer)

    # --- after signing ----------------------------------------------------------------------

    def offer_signed_store(self, study: str, pdf: bytes | Path) -> None:
        """Offer to store a study's signed report and its PDF on the default node.

        Call it after a successful signing, with the PDF just exported. With no PACS
        node configured it does nothing. Else the report the study's sidecar now holds
        (the signed SR revision) and the PDF, as an Encapsulated PDF instance
        referencing it, are prepared; the reader is asked once, without blocking,
        :func:`signed_store_question`; "Store" sends both in a pool thread (the outcome
        comes with :attr:`signed_store_finished`: one status-bar line naming the node
        and what was stored, failures in the Problems panel naming the node). A PDF
        that cannot be read, or a sidecar that does not hold a signed revision, is one
        Problems line and nothing is asked.

        Parameters
        ----------
        study
            The Study Instance UID of the signed report.
        pdf
            The report's PDF: its bytes, or the file it was written to.
        """
        node = self.config.default()
        if node is None:
            return
        window = self._window
        target = window.saver.target(study)
        if target is None or not target.path.is_file():
            window.problems.report(f"signed report not stored on {node.name}: no saved report")
            return
        try:
            report = sidecar_sr(target.path)
        except ValueError as error:
            window.problems.report(f"report not stored on {node.name}: {error}", target.path)
            return
        if report.get("VerificationFlag") != "VERIFIED":
            window.problems.report(
                f"report not stored on {node.name}: the saved revision is not signed", target.path
            )
            return
        try:
            document = encapsulated_pdf(pdf if isinstance(pdf, bytes) else read_pdf(pdf), report)
        except ValueError as error:
            where = None if isinstance(pdf, bytes) else pdf
            window.problems.report(f"report PDF not stored on {node.name}: {error}", where)
            return
        self.ask_signed(
            window,
            signed_store_question(node.name),
            lambda store: self._store_signed(node, study, report, document) if store else None,
        )

    def _store_signed(
        self, node: NodeSettings, study: str, report: Dataset, document: Dataset
    ) -> None:
        """Send a signed report and its PDF (the reader said Store)."""
        window = self._window
        if self._signed is not None:
            window.statusBar().showMessage(
                "A signed report is being stored already: try again when it is done", _STATUS_MS
            )
            return
        secret = self._secret(node)
        if secret is None:
            window.statusBar().showMessage(
                f"Signed report not stored: no password or token for {node.name}", _STATUS_MS
            )
            return
        self._signed = _SignedStore(
            study, node.name, str(report.SOPInstanceUID), str(document.SOPInstanceUID)
        )
        window.status.show_busy(f"Storing the signed report and its PDF to {node.name}…")
        self._signed_sender.start(lambda: _store_on(node.to_node(secret), [report, document]))

    def _on_signed_sent(self, ok: bool, value: object) -> None:
        window = self._window
        signed, self._signed = self._signed, None
        if not self._busy:
            window.status.hide_busy()
        if signed is None:  # not ours (cannot happen: one at a time)
            return
        name = signed.node_name
        result = value if ok and isinstance(value, StoreResult) else None
        if result is None:
            window.problems.report(f"{name}: signed report and its PDF not stored: {value}")
            window.statusBar().showMessage(_signed_outcome(name, False, False), _STATUS_MS)
        else:
            for failure in result.failures:
                window.problems.report(f"{name}: not stored: {failure}")
            there = {*result.stored, *result.already_present}
            if signed.report_uid in there:
                window.settings.set(f"{STORED_KEY}/{signed.study}", f"{name}\n{signed.report_uid}")
                self.conflicts.remember(signed.study, [signed.report_uid])
            window.statusBar().showMessage(
                _signed_outcome(name, signed.report_uid in there, signed.pdf_uid in there),
                _STATUS_MS,
            )
        self.refresh()
        self.signed_store_finished.emit(result)

    # --- closing --------------------------------------------------------------------------

    def unstored_studies(self, node: NodeSettings) -> list[str]:
        """Return the studies with marks whose saved SR revision is not on the node."""
        workspace = self._window.workspace
        found: list[str] = []
        for study in workspace.studies():
            marks = workspace.annotations(study)
            if not (marks.findings or marks.duct_segments or marks.landmarks):
                continue
            uid = self._saved_revision(study)
            if uid is not None and not self._on_node(study, node, uid):
                found.append(study)
        return found

    def describe_study(self, study: str) -> str:
        """Return "patient, date description" naming a study for the reader."""
        record = next((r for r in self._window.records if r.study_instance_uid == study), None)
        if record is None:
            return f"study {study}"
        date = format_dicom_date(record.study_date)
        what = " ".join(part for part in (date, record.study_description) if part)
        patient = format_person_name(record.patient_name)
        return ", ".join(part for part in (patient, what) if part) or f"study {study}"

    def confirm_leave(self) -> bool:
        """Before closing: offer to store marks saved here but not on the default node.

        Returns
        -------
        bool
            ``True`` when the window may close (nothing to store, stored, or closed
            without storing on purpose); ``False`` when the reader cancelled or a
            store failed (said in the Problems panel): the window stays open.
        """
        node = self.config.default()
        if node is None or self._leaving or self._window.unsaved_guard.terminating:
            return not self._leaving
        self._leaving = True
        try:
            if self._busy and not self._wait_for_store():
                return False
            studies = self.unstored_studies(node)
            if not studies:
                return True
            names = [self.describe_study(study) for study in studies]
            choice = self.ask_store(self._window, names, node.name)
            if choice is StoreChoice.CANCEL:
                return False
            if choice is StoreChoice.CLOSE:
                return True
            for study in studies:
                if not (self.store_marks(study) and self._wait_for_store()):
                    return self._stay_open(node)
                if not self.nothing_new(study, node):
                    return self._stay_open(node)
            return True
        finally:
            self._leaving = False

    def _wait_for_store(self) -> bool:
        """Wait for the store under way; return whether it ended before the timeout.

        The store runs in its pool thread as always; a local :class:`QEventLoop` waits
        for :attr:`store_finished` (bounded by :data:`STORE_ON_CLOSE_TIMEOUT_MS`) and
        keeps painting the window meanwhile, but takes no user input: the window is
        closing, so it is unresponsive for no longer than the store itself.
        """
        loop = QEventLoop(self)
        ended: list[bool] = []

        def finished(_result: object) -> None:
            ended.append(True)
            loop.quit()

        self.store_finished.connect(finished)
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)
        try:
            if self._busy:  # store_finished comes queued: not before the loop runs
                timer.start(STORE_ON_CLOSE_TIMEOUT_MS)
                loop.exec(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
        finally:
            timer.stop()
            self.store_finished.disconnect(finished)
            timer.deleteLater()
        return bool(ended) or not self._busy

    def _stay_open(self, node: NodeSettings) -> bool:
        still = " (still under way)" if self._busy else ""
        self._window.statusBar().showMessage(
            f"Marks not stored to {node.name}{still}: the window stays open", _STATUS_MS
        )
        return False
