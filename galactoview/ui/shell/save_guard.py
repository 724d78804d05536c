"""Nothing a reader marks is lost silently: the storage banner and the unsaved-marks question.

:class:`StorageBanner` sits above the images and says, while a study is open, where its
marks go when that is not next to the study (a read-only folder, a fallback after a
failed save) and, in red, when they are **not saved** at all. :class:`UnsavedMarksGuard`
is asked before a study is closed (quitting, opening another study): when marks could not
be saved it asks the reader to save them elsewhere (a file dialog), discard them, or
cancel. The decisions about *where* to save are Qt-free
(:mod:`galactoview.sr.persistence`); this module only talks to the reader.
"""

from __future__ import annotations

import enum
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from PySide6.QtCore import QObject, QSocketNotifier, Qt
from PySide6.QtGui import QGuiApplication, QSessionManager
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QWidget,
)

from galactoview.sr import sidecar
from galactoview.ui.annotate.annotation_saver import AnnotationSaver

__all__ = ["SaveOnTermination", "StorageBanner", "UnsavedChoice", "UnsavedMarksGuard"]


class UnsavedChoice(enum.Enum):
    """The reader's answer when marks could not be saved and the study is closing."""

    SAVE_ELSEWHERE = "save elsewhere"
    DISCARD = "discard"
    CANCEL = "cancel"


#: Asks the reader what to do: (parent window, one line per unsaved study) -> answer.
AskUnsaved = Callable[[QWidget, Sequence[str]], UnsavedChoice]
#: Asks for a file to save one study's marks to: (parent, suggested path) -> path or None.
ChooseFile = Callable[[QWidget, Path], Path | None]


def ask_three_ways(
    parent: QWidget, name: str, title: str, text: str, accept: str, destructive: str
) -> int:
    """Ask a modal question with an accept (default), a destructive and a Cancel button.

    Modal on purpose: it is asked while a window closes, which must wait for the answer.

    Returns
    -------
    int
        0 for ``accept``, 1 for ``destructive``, 2 for Cancel (or the box closed).
    """
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=parent)
    box.setObjectName(name)
    first = box.addButton(accept, QMessageBox.ButtonRole.AcceptRole)
    second = box.addButton(destructive, QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(first)
    box.exec()
    clicked = box.clickedButton()
    return 0 if clicked is first else 1 if clicked is second else 2


def ask_with_dialog(parent: QWidget, lines: Sequence[str]) -> UnsavedChoice:
    """Ask with a modal message box: Save Elsewhere… (default), Discard, Cancel."""
    answer = ask_three_ways(
        parent,
        "UnsavedMarksDialog",
        "Marks not saved",
        "Some marks could not be saved and would be lost.\n\n"
        + "\n".join(lines)
        + "\n\nSave them to a file you choose, discard them, or cancel.",
        "Save Elsewhere…",
        "Discard",
    )
    return (UnsavedChoice.SAVE_ELSEWHERE, UnsavedChoice.DISCARD, UnsavedChoice.CANCEL)[answer]


def choose_file_with_dialog(parent: QWidget, suggested: Path) -> Path | None:
    """Ask for the file to save a study's marks to (Qt's save dialog, overwrite asked)."""
    name, _ = QFileDialog.getSaveFileName(
        parent,
        "Save Annotations Elsewhere",
        str(suggested),
        "GalactoView annotation sidecars (*.sr.json);;All files (*)",
    )
    return Path(name) if name else None


class UnsavedMarksGuard(QObject):
    """Asks before a study with unsaved marks is closed, and saves them where the reader says.

    Parameters
    ----------
    saver
        Saves the marks and knows which studies are unsaved.
    window
        The window the questions belong to.

    Attributes
    ----------
    ask
        How the reader is asked (:func:`ask_with_dialog`; tests replace it).
    choose_file
        How the file is chosen (:func:`choose_file_with_dialog`; tests replace it).
    """

    def __init__(self, saver: AnnotationSaver, window: QWidget) -> None:
        super().__init__(window)
        self._saver = saver
        self._window = window
        self.ask: AskUnsaved = ask_with_dialog
        self.choose_file: ChooseFile = choose_file_with_dialog
        #: Set when the process is being terminated: save, but ask nobody.
        self.terminating = False
        #: Further questions once everything is saved (e.g. "store them to the PACS?"),
        #: asked in order, never while terminating; one returning ``False`` cancels.
        self.then_confirm: list[Callable[[], bool]] = []

    def confirm_leave(self) -> bool:
        """Save what is pending; when some marks still cannot be saved, ask the reader.

        Returns
        -------
        bool
            ``True`` when the study may be closed (everything saved, saved
            elsewhere, or discarded on purpose); ``False`` when the reader cancelled.
        """
        self._saver.save_now()
        if self.terminating:
            for study in self._saver.unsaved_studies():
                print(f"galactoview: marks of study {study} could not be saved", file=sys.stderr)
            return True
        while unsaved := self._saver.unsaved_studies():
            reasons = self._saver.failure_reasons()
            lines = [reasons.get(study, f"study {study}: not saved yet") for study in unsaved]
            choice = self.ask(self._window, lines)
            if choice is UnsavedChoice.CANCEL:
                return False
            if choice is UnsavedChoice.DISCARD:
                self._saver.discard_unsaved()
                return True
            self.save_elsewhere(unsaved)
        return all(confirm() for confirm in self.then_confirm)

    def save_pending(self) -> bool:
        """Save what is pending now (no question); return whether everything is saved."""
        return self._saver.save_now()

    def save_elsewhere(self, studies: Sequence[str] | None = None) -> list[Path]:
        """Ask for a file per study and save its marks there; failures are reported.

        Parameters
        ----------
        studies
            The studies to save; every study with annotations when ``None``.

        Returns
        -------
        list of Path
            The files written.
        """
        chosen = list(studies) if studies is not None else list(self._saver.workspace.studies())
        written: list[Path] = []
        for study in chosen:
            path = self.choose_file(self._window, self._suggested(study))
            if path is None:
                continue
            try:
                written.append(self._saver.save_elsewhere(study, path))
            except sidecar.SidecarError as error:
                self._saver.report(f"annotations not saved: {error}")
                continue
            # The viewer looks for sidecars next to the study and per user only: say how
            # to bring this file back, since it lies where the reader chose.
            self._saver.report(
                f"annotations of study {study} saved to {path}; to open them with the study "
                f"again: galactoview sr import {path} STUDY_FOLDER"
            )
        return written

    def _suggested(self, study: str) -> Path:
        target = self._saver.target(study)
        name = target.path.name if target is not None else f"galactoview-{study}.sr.json"
        return Path.home() / name


class StorageBanner(QFrame):
    """A strip above the images saying where marks are saved, or that they are not.

    Hidden when there is nothing to say. Amber for "saved somewhere else than next to
    the study", red (with a "Save Elsewhere…" button) for "not saved".

    Parameters
    ----------
    saver
        Whose :meth:`~AnnotationSaver.notices` are shown, refreshed on its
        ``storage_changed`` signal.
    guard
        Runs "Save Elsewhere…".
    parent
        The window.
    """

    def __init__(
        self, saver: AnnotationSaver, guard: UnsavedMarksGuard, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("StorageBanner")
        self._saver = saver
        self.label = QLabel(self)
        self.label.setObjectName("StorageBannerText")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.save_button = QPushButton("Save Elsewhere…", self)
        self.save_button.clicked.connect(lambda _checked=False: guard.save_elsewhere())
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.save_button)
        saver.storage_changed.connect(self.refresh)
        self.refresh()

    def text(self) -> str:
        """Return the text shown (empty when hidden)."""
        return self.label.text() if not self.isHidden() else ""

    def refresh(self) -> None:
        """Show the saver's current notices, or hide."""
        lines = self._saver.notices()
        failing = bool(self._saver.failure_reasons())
        self.label.setText("\n".join(lines))
        self.save_button.setVisible(failing)
        background, foreground = ("#7a1f1f", "#ffffff") if failing else ("#6b5200", "#ffffff")
        self.setStyleSheet(
            f"QFrame#StorageBanner {{ background: {background}; }}"
            f"QLabel#StorageBannerText {{ color: {foreground}; }}"
        )
        self.setVisible(bool(lines))


class SaveOnTermination(QObject):
    """Saves the marks when the process is asked to end (SIGTERM, SIGHUP, session logout).

    Without it, a mark made less than the autosave delay before a logout or a
    ``kill`` would be lost. Python runs signal handlers only between bytecodes, and
    Qt's event loop runs none while idle, so the handler only notes the signal and
    :func:`signal.set_wakeup_fd` wakes the loop through a socket pair watched by a
    :class:`QSocketNotifier`; there the window is closed as by the reader, except
    that nobody is asked (:attr:`UnsavedMarksGuard.terminating`). A session
    manager's ``commitDataRequest`` saves at once.

    Parameters
    ----------
    window
        The main window (``unsaved_guard`` and ``saver`` attributes).
    guard
        Its unsaved-marks guard.
    """

    #: The signals handled where the platform has them.
    SIGNALS: tuple[str, ...] = ("SIGTERM", "SIGHUP")

    def __init__(self, window: QWidget, guard: UnsavedMarksGuard) -> None:
        super().__init__(window)
        self._window = window
        self._guard = guard
        self._received: list[int] = []
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno())
        self._previous: dict[int, object] = {}
        for name in self.SIGNALS:
            number = getattr(signal, name, None)
            if number is not None:
                self._previous[number] = signal.signal(number, self._note)
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._wake)
        #: Called after the window closed on a signal: ends the event loop (tests replace it).
        self.quit: Callable[[], None] = QGuiApplication.quit
        application = QGuiApplication.instance()
        if isinstance(application, QGuiApplication):
            application.commitDataRequest.connect(self._commit_data)

    def _note(self, number: int, _frame: FrameType | None) -> None:
        self._received.append(number)

    def _wake(self) -> None:
        try:
            while self._reader.recv(64):
                pass
        except BlockingIOError:
            pass
        if self._received:
            self._received.clear()
            self._guard.terminating = True
            self._window.close()
            self.quit()

    def _commit_data(self, _manager: QSessionManager) -> None:
        self._guard.save_pending()

    def uninstall(self) -> None:
        """Give the signals back to their previous handlers (tests)."""
        for number, handler in self._previous.items():
            signal.signal(number, handler)  # type: ignore[arg-type]
        signal.set_wakeup_fd(self._previous_fd)
        self._notifier.setEnabled(False)
        self._reader.close()
        self._writer.close()
