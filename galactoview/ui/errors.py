"""The one path by which problems reach the user in the GUI.

Everything that goes wrong without being a bug (a file that is not DICOM, pixel
data that cannot be decoded, a malformed header value) is passed to
:meth:`ProblemReporter.report`. It adds a line to the "Problems" dock and shows
it in the status bar for a while; it never raises. When the user must notice
(nothing at all could be opened, an unexpected error), :meth:`ProblemReporter.alert`
also opens one dialog with a one-line summary and the details; the dialog is
window-modal but opened without blocking (``QMessageBox.open``), so the rest of
the window keeps working and scripted tests are never stuck.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QStatusBar,
    QWidget,
)

__all__ = ["ProblemReporter", "ProblemsDock", "error_dialog"]

#: How long a problem stays in the status bar, in milliseconds.
STATUS_TIMEOUT_MS = 10_000


class ProblemsDock(QDockWidget):
    """Qt view of the list of problems met so far (one line each, newest last)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Problems", parent)
        self.setObjectName("ProblemsDock")
        self.list_widget = QListWidget(self)
        self.list_widget.setObjectName("ProblemsList")
        self.list_widget.setWordWrap(True)
        self.list_widget.setAlternatingRowColors(True)
        self.setWidget(self.list_widget)

    def add(self, text: str, tooltip: str = "") -> None:
        """Append a line and scroll to it."""
        item = QListWidgetItem(text)
        item.setToolTip(tooltip or text)
        self.list_widget.addItem(item)
        self.list_widget.scrollToItem(item)

    def messages(self) -> list[str]:
        """Return the lines shown, oldest first."""
        return [self.list_widget.item(row).text() for row in range(self.list_widget.count())]

    def clear(self) -> None:
        """Remove every line."""
        self.list_widget.clear()


def error_dialog(parent: QWidget, summary: str, details: str = "") -> QMessageBox:
    """Open the error dialog: a one-line summary and the details, without blocking.

    Parameters
    ----------
    parent
        The window the dialog belongs to (window-modal).
    summary
        One line saying what went wrong.
    details
        Everything else (one problem per line), behind "Show Details…".

    Returns
    -------
    QMessageBox
        The dialog, already open; it deletes itself when closed.
    """
    box = QMessageBox(QMessageBox.Icon.Warning, "GalactoView", summary, parent=parent)
    box.setObjectName("ErrorDialog")
    if details:
        box.setDetailedText(details)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


class ProblemReporter(QObject):
    """Reports problems to the user: the Problems dock plus a status-bar message.

    Parameters
    ----------
    dock
        Where problems are listed.
    status_bar
        Where the latest problem is flashed.

    Signals
    -------
    reported(str)
        A problem line was added.
    """

    reported = Signal(str)

    def __init__(self, dock: ProblemsDock, status_bar: QStatusBar) -> None:
        super().__init__(dock)
        self._dock = dock
        self._status_bar = status_bar
        self._seen: set[str] = set()

    def report(self, message: str, path: Path | None = None) -> None:
        """Tell the user about a problem, without interrupting them.

        Parameters
        ----------
        message
            One line saying what is wrong.
        path
            The file concerned, if any; its name prefixes the line.
        """
        text = f"{path.name}: {message}" if path is not None else message
        detail = f"{path}: {message}" if path is not None else message
        self._status_bar.showMessage(f"Problem — {text}", STATUS_TIMEOUT_MS)
        if detail in self._seen:  # the same file failing again adds no new line
            return
        self._seen.add(detail)
        self._dock.add(text, detail)
        if self._dock.isHidden() and self._dock.parent() is not None:
            self._dock.show()
        self._dock.raise_()
        self.reported.emit(text)

    def alert(self, summary: str, details: str = "") -> QMessageBox:
        """Report a problem the user must notice: listed, and shown in the error dialog.

        Parameters
        ----------
        summary
            One line saying what went wrong.
        details
            The details for the dialog (one problem per line).
        """
        self.report(summary)
        parent = self._dock.parentWidget()
        return error_dialog(parent if parent is not None else self._dock, summary, details)

    def messages(self) -> list[str]:
        """Return the problem lines listed so far."""
        return self._dock.messages()

    def clear(self) -> None:
        """Forget every problem."""
        self._seen.clear()
        self._dock.clear()
        self._status_bar.clearMessage()
