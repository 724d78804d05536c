"""Report → Sign Report… and Write Addendum…: the window's side of signing (issue 14).

**Sign Report…** signs the report of the study the Report dock shows
(:class:`~galactoview.ui.annotate.report_editor.ReportEditor`): without a reader
identity with an institution it opens Edit → Reader Identity… first (the signature
names both, PS3.3 C.17.2 Verifying Observer Name and Organization) and signs once that
is accepted; when something is missing
(:meth:`~galactoview.ui.annotate.annotation_saver.AnnotationSaver.missing_for_signing`)
it lists it and writes nothing; else it asks "Sign as …?" and
:meth:`~galactoview.ui.annotate.annotation_saver.AnnotationSaver.sign` writes the
revision COMPLETE and VERIFIED. After signing, with a PACS node configured, the
window's PACS actions offer to store the signed report and the study's report PDF
(``offer_signed_store(study, pdf)``) (:func:`~galactoview.ui.review.report_pdf.write_report_pdf`).

**Write Addendum…** (a signed study only) asks what the addendum says and starts it
(:meth:`~galactoview.ui.annotate.annotation_workspace.AnnotationWorkspace.begin_addendum`):
the study can be edited again, the dock and the window title say "Addendum to the
report signed by …", and the same Sign Report… signs the addendum revision.

The questions are attributes (:attr:`ReportSigning.confirm`, :attr:`ReportSigning.show_missing`,
:attr:`ReportSigning.ask_addendum`) so tests answer them without a modal dialog.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Final

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox, QWidget

from galactoview.dicom.person_name import format_person_name
from galactoview.sr.persistence import IncompleteReportError
from galactoview.ui.annotate.report_editor import ReportEditor
from galactoview.ui.review.report_pdf import write_report_pdf
from galactoview.ui.review.review_mode import review_content

if TYPE_CHECKING:
    from galactoview.ui.shell.main_window import MainWindow

__all__ = [
    "IDENTITY_MISSING",
    "ReportSigning",
    "ask_addendum_with_dialog",
    "confirm_with_dialog",
    "show_missing_with_dialog",
]

#: Asks a yes/no question (the parent, the question); True: yes.
Confirm = Callable[[QWidget, str], bool]
#: Shows what is missing before signing (the parent, one line per thing).
ShowMissing = Callable[[QWidget, Sequence[str]], None]
#: Asks for the addendum's text (the parent, the text so far); None: cancelled.
AskAddendum = Callable[[QWidget, str], "str | None"]


#: Listed first when signing lacks the signer's name or institution.
IDENTITY_MISSING: Final = (
    "your name and institution (Edit → Reader Identity…): the signature names both"
)


def confirm_with_dialog(parent: QWidget, question: str) -> bool:
    """Ask ``question`` in a message box (blocking); return whether the answer is yes."""
    answer = QMessageBox.question(
        parent,
        "Sign Report",
        question,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Yes


def show_missing_with_dialog(parent: QWidget, missing: Sequence[str]) -> None:
    """Say what the report lacks before it can be signed (blocking message box)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle("Sign Report")
    box.setText("The report cannot be signed yet. Missing:")
    box.setInformativeText("\n".join(f"• {line}" for line in missing))
    box.exec()


def ask_addendum_with_dialog(parent: QWidget, text: str) -> str | None:
    """Ask what the addendum says (blocking multi-line input); None when cancelled."""
    answer, ok = QInputDialog.getMultiLineText(
        parent,
        "Write Addendum",
        "The signed report stays as it is; the addendum says what is added or corrected:",
        text,
    )
    return answer if ok else None


class ReportSigning(QObject):
    """The Report menu's Sign Report… and Write Addendum… (see the module docstring).

    Parameters
    ----------
    window
        The main window: its workspace, saver, reader prompt, problems, status bar.
    editor
        The Report dock: its study is the one signed.
    sign_action, addendum_action
        The menu's actions (Write Addendum… is enabled on a signed study only).

    Signals
    -------
    signed(str, str)
        A report was signed: (Study Instance UID, the signed revision's SOP Instance UID).
    """

    signed = Signal(str, str)

    def __init__(
        self,
        window: MainWindow,
        editor: ReportEditor,
        sign_action: QAction,
        addendum_action: QAction,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._editor = editor
        self._sign_action = sign_action
        self._addendum_action = addendum_action
        self.confirm: Confirm = confirm_with_dialog
        self.show_missing: ShowMissing = show_missing_with_dialog
        self.ask_addendum: AskAddendum = ask_addendum_with_dialog
        window.workspace.changed.connect(lambda _study: self.update_actions())
        window.saver.storage_changed.connect(self.update_actions)
        editor.study_changed.connect(lambda _study: self.update_actions())
        self.update_actions()

    # --- actions ---------------------------------------------------------------------------

    def update_actions(self) -> None:
        """Enable Sign Report… with a study, Write Addendum… on a signed one."""
        window = self._window
        study = self._editor.study
        editing = not window.is_review_mode()
        signed = (
            study is not None
            and window.workspace.signed_revision(study) is not None
            and window.workspace.read_only_reason(study) is not None
        )
        self._sign_action.setEnabled(editing and study is not None and not signed)
        self._addendum_action.setEnabled(editing and signed)

    def _say(self, text: str) -> None:
        self._window.statusBar().showMessage(text, 15_000)

    def sign(self) -> str | None:
        """Sign the report of the study shown in the Report dock (Report → Sign Report…).

        Returns
        -------
        str or None
            The signed revision's SOP Instance UID; None when nothing was signed (no
            study, already signed, no identity yet, something missing, cancelled, or the
            signing failed: said in a dialog or the status bar).
        """
        window = self._window
        workspace = window.workspace
        study = self._editor.study
        if study is None:
            self._say("Not signed: no study is open")
            return None
        self._commit_typing()
        reason = workspace.read_only_reason(study)
        if reason is not None:
            self._say(f"Not signed: {reason}")
            return None
        missing = window.saver.missing_for_signing(study)
        if not workspace.reader or not workspace.reader_organization:
            if missing:  # everything that is missing at once, the signer first
                self.show_missing(window, [IDENTITY_MISSING, *missing])
            else:
                self._ask_identity()
            return None
        if missing:
            self.show_missing(window, missing)
            return None
        who = format_person_name(workspace.reader)
        question = (
            f"Sign as {who} ({workspace.reader_organization})? The signed report cannot be "
            "changed, only amended by an addendum."
        )
        if not self.confirm(window, question):
            return None
        try:
            uid = window.saver.sign(study)
        except IncompleteReportError as error:  # changed since it was checked
            self.show_missing(window, error.missing)
            return None
        except ValueError as error:
            window.problems.alert("The report could not be signed.", str(error))
            return None
        self._editor.refresh()
        window.refresh_title()
        self.update_actions()
        self._say(f"Report signed by {who} — revision {uid}")
        self.signed.emit(study, uid)
        self._offer_store(study)
        return uid

    def write_addendum(self) -> bool:
        """Start an addendum to the signed report shown (Report → Write Addendum…).

        Returns
        -------
        bool
            Whether an addendum was started (not when the study is not signed or the
            reader cancelled or wrote nothing).
        """
        window = self._window
        study = self._editor.study
        if study is None or window.workspace.read_only_reason(study) is None:
            self._say("Write Addendum: the report shown is not signed")
            return False
        self._editor.notice()  # remembers who signed, said while the addendum is written
        text = self.ask_addendum(window, "")
        if text is None:
            return False
        if not text.strip():
            self._say("No addendum started: it says nothing (write what it adds)")
            return False
        if not window.workspace.begin_addendum(study, text.strip()):
            return False
        self._editor.refresh()
        window.refresh_title()
        self.update_actions()
        self._say(f"{self._editor.notice()}: amend the report, then Report → Sign Report…")
        return True

    # --- helpers ---------------------------------------------------------------------------

    def _commit_typing(self) -> None:
        """Finish the edit of a report field being typed in (its focus-out commits it)."""
        focused = QApplication.focusWidget()
        if focused is not None and self._editor.isAncestorOf(focused):
            focused.clearFocus()

    def _ask_identity(self) -> None:
        """Open Edit → Reader Identity…; sign again once it is accepted with an institution."""
        window = self._window
        self._say("Sign Report: who signs? Your name and institution are on the signature")
        dialog = window.reader.edit()
        dialog.accepted.connect(self._sign_after_identity)

    def _sign_after_identity(self) -> None:
        workspace = self._window.workspace
        if workspace.reader and workspace.reader_organization:
            self.sign()
            return
        self.show_missing(
            self._window,
            ["your institution (Edit → Reader Identity…): the signature names it"],
        )

    def _offer_store(self, study: str) -> None:
        """Give the PACS actions the signed report's PDF (that study only) to offer to store.

        With no PACS node configured nothing is rendered.
        """
        window = self._window
        if window.pacs.config.default() is None:
            return
        problems: list[str] = []
        try:
            with tempfile.TemporaryDirectory(prefix="galactoview-report-") as folder:
                out = Path(folder) / "report.pdf"
                content = review_content(
                    window.workspace, window.records, dt.date.today(), problems
                )
                signed = tuple(s for s in content.studies if s.header.study_instance_uid == study)
                content = replace(content, studies=signed)
                write_report_pdf(content, window.records, out, problems)
                pdf = out.read_bytes()
        except (OSError, ValueError) as error:
            window.problems.report(f"the signed report's PDF could not be written: {error}")
            return
        finally:
            window.problems.report_many([(line, None) for line in problems])
        window.pacs.offer_signed_store(study, pdf)
