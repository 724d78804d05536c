"""The one path by which problems reach the user in the GUI.

Everything that goes wrong without being a bug (a file that is not DICOM, pixel
data that cannot be decoded, a malformed header value) is passed to
:meth:`ProblemReporter.report` (or, for the many lines of a scan, in one batch to
:meth:`ProblemReporter.report_many`). It adds a line to the "Problems" dock and shows
it in the status bar for a while; it never raises. When the user must notice
(nothing at all could be opened, an unexpected error), :meth:`ProblemReporter.alert`
also opens one dialog with a one-line summary and the details; the dialog is
window-modal but opened without blocking (``QMessageBox.open``), so the rest of
the window keeps working and scripted tests are never stuck.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
        self.add_many([(text, tooltip)])

    def add_many(self, lines: Sequence[tuple[str, str]]) -> None:
        """Append lines ``(text, tooltip)`` in one batch and scroll to the last.

        The list is neither repainted nor scrolled per line: ten thousand lines cost
        one layout, not ten thousand.
        """
        if not lines:
            return
        view = self.list_widget
        view.setUpdatesEnabled(False)
        try:
            item = None
            for text, tooltip in lines:
                item = QListWidgetItem(text)
                item.setToolTip(tooltip or text)
                view.addItem(item)
        finally:
            view.setUpdatesEnabled(True)
        if item is not None:
            view.scrollToItem(item)

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
        self.report_many([(message, path)])

    def report_many(self, problems: Iterable[tuple[str, Path | None]]) -> None:
        """Tell the user about many problems at once, e.g. all those of a scan.

        The lines are added to the dock in one batch; the status bar shows the only
        line, or how many there are, once; the dock is shown and raised once. A line
        already listed is not added again.

        Parameters
        ----------
        problems
            ``(message, path)`` pairs as :meth:`report` takes them.
        """
        lines: list[tuple[str, str]] = []
        last = ""
        count = 0
        for message, path in problems:
            text = f"{path.name}: {message}" if path is not None else message
            detail = f"{path}: {message}" if path is not None else message
            last, count = text, count + 1
            if detail in self._seen:  # the same file failing again adds no new line
                continue
            self._seen.add(detail)
            lines.append((text, detail))
        if not count:
            return
        if count == 1:
            self._status_bar.showMessage(f"Problem — {last}", STATUS_TIMEOUT_MS)
        else:
            self._status_bar.showMessage(
                f"{count} problems — listed in the Problems panel", STATUS_TIMEOUT_MS
            )
        if not lines:
            return
        self._dock.add_many(lines)
        if self._dock.isHidden() and self._dock.parent() is not None:
            self._dock.show()
        self._dock.raise_()
        for text, _ in lines:
            self.reported.emit(text)

    def note_many(self, notes: Iterable[tuple[str, Path | None]]) -> None:
        """List calm notes: files with nothing wrong that the viewer has no use for.

        E.g. a Key Object Selection document beside the images
        (:func:`~galactoview.dicom.loading.document_note`). Each is a line of the
        Problems panel like a problem (a line already listed is not added again), but
        the panel is neither shown nor raised for them, and the status bar says
        "Note" instead of "Problem".

        Parameters
        ----------
        notes
            ``(message, path)`` pairs as :meth:`report` takes them.
        """
        lines: list[tuple[str, str]] = []
        for message, path in notes:
            text = f"{path.name}: {message}" if path is not None else message
            detail = f"{path}: {message}" if path is not None else message
            if detail not in self._seen:
                self._seen.add(detail)
                lines.append((text, detail))
        if not lines:
            return
        self._dock.add_many(lines)
        summary = lines[0][0] if len(lines) == 1 else f"{len(lines)} notes in the Problems panel"
        self._status_bar.showMessage(f"Note — {summary}", STATUS_TIMEOUT_MS)

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
