"""Edit → Reader Identity…: who is reading, asked once before the first mark.

The reader's name (DICOM PN) and optional institution are kept in the settings and
given to the :class:`~galactoview.ui.annotate.annotation_workspace.AnnotationWorkspace`,
which records them on every finding an edit adds or changes and on the revision a save
writes (:class:`~galactoview.annotations.document.ObservedBy`). When none is set, the
window asks once, the first time a marking tool is chosen in a session (window-modal,
not blocking); Cancel leaves the marks unattributed (the SR then names the device
"GalactoView" as observer, PS3.16 TID 1002) and the question is not repeated in that
session, since asking at every mark would stop a reading.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from galactoview.annotations.reader import ReaderIdentity
from galactoview.ui.annotate.annotation_workspace import AnnotationWorkspace
from galactoview.ui.shell.settings import Settings

__all__ = ["ASK_BEFORE_FIRST_MARK", "ReaderIdentityDialog", "ReaderPrompt", "load_reader"]

#: Whether choosing a marking tool asks for the identity when none is set (the GUI tests
#: that are not about it turn this off, so no dialog waits over their windows).
ASK_BEFORE_FIRST_MARK = True
_NAME_KEY: Final = "reader/person_name"
_INSTITUTION_KEY: Final = "reader/institution"


def load_reader(settings: Settings) -> ReaderIdentity:
    """Return the reader identity kept in the settings (unknown when unset or unusable)."""
    identity = ReaderIdentity.from_person_name(
        settings.text(_NAME_KEY), settings.text(_INSTITUTION_KEY)
    )
    return identity if identity.is_known and not identity.problems() else ReaderIdentity("")


class ReaderIdentityDialog(QDialog):
    """The reader's family name, given name, title and institution, checked as typed.

    Parameters
    ----------
    identity
        The current identity (fields pre-filled).
    parent
        Parent widget.
    first_time
        Say why it is asked (before the first mark).
    """

    def __init__(
        self, identity: ReaderIdentity, parent: QWidget | None = None, *, first_time: bool = False
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Reader Identity")
        layout = QVBoxLayout(self)
        why = (
            "Before your first mark: who is reading? Your name is recorded on the findings you "
            "add or change and on the report revisions you save."
            if first_time
            else "Recorded on the findings you add or change and on the revisions you save."
        )
        intro = QLabel(why, self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.family = QLineEdit(identity.family_name, self)
        self.given = QLineEdit(identity.given_name, self)
        self.prefix = QLineEdit(identity.name_prefix, self)
        self.prefix.setPlaceholderText("e.g. Dr")
        self.institution = QLineEdit(identity.institution, self)
        self.institution.setPlaceholderText("needed to sign reports")
        form.addRow("&Family name", self.family)
        form.addRow("&Given name(s)", self.given)
        form.addRow("&Title", self.prefix)
        form.addRow("&Institution", self.institution)
        layout.addLayout(form)
        self.problem_label = QLabel(self)
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: #d04040;")
        layout.addWidget(self.problem_label)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        for field in (self.family, self.given, self.prefix, self.institution):
            field.textChanged.connect(self._check)
        self._check()

    def identity(self) -> ReaderIdentity:
        """Return the identity typed."""
        return ReaderIdentity(
            self.family.text().strip(),
            self.given.text().strip(),
            self.prefix.text().strip(),
            self.institution.text().strip(),
        )

    def _check(self) -> None:
        problems = self.identity().problems()
        self.problem_label.setText("; ".join(problems))
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(not problems)


class ReaderPrompt(QObject):
    """Keeps the reader identity: settings, the workspace's observer, the dialogs.

    Parameters
    ----------
    window
        The main window (dialog parent).
    settings
        Where the identity is kept.
    workspace
        Gets the reader's PN as :attr:`AnnotationWorkspace.reader`.
    """

    def __init__(self, window: QWidget, settings: Settings, workspace: AnnotationWorkspace) -> None:
        super().__init__(window)
        self._window = window
        self._settings = settings
        self._workspace = workspace
        self.identity = load_reader(settings)
        workspace.reader = self.identity.person_name
        workspace.reader_organization = self.identity.institution
        self._asked = False
        self.dialog: ReaderIdentityDialog | None = None

    def edit(self, *, first_time: bool = False) -> ReaderIdentityDialog:
        """Open the dialog (window-modal, not blocking); OK stores the identity."""
        dialog = ReaderIdentityDialog(self.identity, self._window, first_time=first_time)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.accepted.connect(lambda: self.set_identity(dialog.identity()))
        dialog.finished.connect(self._forget_dialog)
        self.dialog = dialog
        dialog.open()
        return dialog

    def ask_once(self) -> None:
        """Ask for the identity when none is set, once a session (before the first mark)."""
        if self.identity.is_known or self._asked or not ASK_BEFORE_FIRST_MARK:
            return
        self._asked = True
        self.edit(first_time=True)

    def set_identity(self, identity: ReaderIdentity) -> None:
        """Keep ``identity`` and record it on the edits that follow."""
        self.identity = identity
        self._settings.set(_NAME_KEY, identity.person_name)
        self._settings.set(_INSTITUTION_KEY, identity.institution)
        self._workspace.reader = identity.person_name
        self._workspace.reader_organization = identity.institution

    def _forget_dialog(self) -> None:
        self.dialog = None
        # The keys go back to the window (Enter accepts a suggested tree next).
        self._window.activateWindow()
