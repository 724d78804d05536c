"""StatusPanel: the permanent fields of the main window's status bar; the window title.

The title names the patient and the study, with a leading bullet while marks are not
saved. The status bar's fields, left to right: a progress bar (busy while scanning,
"n of m" while decoding), then the layout shown, the active image, its window/level
and the pixel under the cursor, separated by thin lines.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QLabel, QProgressBar, QStatusBar, QWidget

from galactoview.dicom.loading import ImageRecord
from galactoview.dicom.person_name import format_person_name
from galactoview.ui.shell.side_panels import COMPACT_BELOW
from galactoview.ui.viewer.viewport import PixelSample

__all__ = [
    "DECODING_MESSAGE",
    "StatusPanel",
    "image_text",
    "set_progress",
    "window_title",
]

#: Status-bar message while images are being decoded.
DECODING_MESSAGE = "Decoding…"


def image_text(record: ImageRecord) -> str:
    """Return the status-bar description of an image, e.g. ``"L CC · post-contrast"``."""
    label = record.view.label or "image"
    phase = record.contrast_phase.value
    return label if phase == "unknown" else f"{label} · {phase}-contrast"


def window_title(record: ImageRecord | None, modified: bool) -> str:
    """Return the window title: patient — study (of ``record``), or "GalactoView" when none.

    The application's name is not in a study's title: Qt adds the application display
    name after every title that is not that name itself (``QPlatformWindow::
    formatWindowTitle``, " — GalactoView" on X11 and Windows), which made
    "GalactoView — patient — study — GalactoView". A leading bullet says that
    annotations are not saved yet (``modified``; nothing is unsaved without a study).
    """
    if record is None:
        return "GalactoView"
    patient = format_person_name(record.patient_name) or record.patient_id or "Unknown patient"
    title = f"{patient} — {record.study_description or 'Study'}"
    return f"• {title}" if modified else title


class StatusPanel(QObject):
    """The labels and the progress bar of a status bar.

    Parameters
    ----------
    status_bar
        The window's status bar; the fields are added to it.
    parent
        Parent of the widgets (the window).
    """

    def __init__(self, status_bar: QStatusBar, parent: QWidget) -> None:
        super().__init__(parent)
        self._status_bar = status_bar
        self.layout_label = QLabel(parent)
        self.image_label = QLabel(parent)
        self.voi_label = QLabel(parent)
        self.cursor_label = QLabel(parent)
        self.cursor_label.setMinimumWidth(300)
        self.progress = QProgressBar(parent)
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(False)
        self.progress.hide()
        status_bar.addPermanentWidget(self.progress)
        labels = (self.layout_label, self.image_label, self.voi_label, self.cursor_label)
        self._optional: list[QWidget] = []
        for number, label in enumerate(labels):
            if number:
                separator = QFrame(parent)
                separator.setFrameShape(QFrame.Shape.VLine)
                separator.setFrameShadow(QFrame.Shadow.Plain)
                separator.setForegroundRole(QPalette.ColorRole.Mid)
                status_bar.addPermanentWidget(separator)
                if number < 3:
                    self._optional.append(separator)
            label.setContentsMargins(6, 0, 6, 0)
            status_bar.addPermanentWidget(label)
        self._optional += [self.layout_label, self.image_label]
        self.compact = False
        self.message_shown = False
        parent.installEventFilter(self)
        self._fit(parent.width())
        status_bar.messageChanged.connect(self._on_message)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        """Fit the fields to the window's new width."""
        if event.type() == QEvent.Type.Resize and isinstance(watched, QWidget):
            self._fit(watched.width())
        return False

    def _fit(self, width: int) -> None:
        """Keep the messages readable in a narrow window.

        In a window as narrow as the one whose side docks collapse
        (:data:`~galactoview.ui.shell.side_panels.COMPACT_BELOW`) the status bar keeps only
        the window/level and pixel fields (the layout and the image are in the cells'
        overlays), so that its messages are not squeezed out by the permanent fields.
        """
        compact = width < COMPACT_BELOW
        if compact == self.compact:
            return
        self.compact = compact
        self._show_optional()
        self.cursor_label.setMinimumWidth(0 if compact else 300)
        self.voi_label.setMaximumWidth(170 if compact else 16_777_215)

    def _on_message(self, message: str) -> None:
        """Give a message the layout and image fields' room while it shows (and its tooltip).

        Those two fields repeat what the cells' overlays say; the messages (what a key
        did, why it did nothing) were cut off at about 60 characters beside them.
        """
        self.message_shown = bool(message)
        self._status_bar.setToolTip(message)
        self._show_optional()

    def _show_optional(self) -> None:
        for widget in self._optional:
            widget.setVisible(not (self.compact or self.message_shown))

    def show_busy(self, message: str) -> None:
        """Show a busy bar (no known end) and a message, e.g. while scanning."""
        self._status_bar.showMessage(message)
        self.progress.setRange(0, 0)
        self.progress.show()

    def hide_busy(self) -> None:
        """Hide the busy bar and its message."""
        self.progress.hide()
        self._status_bar.clearMessage()

    def show_decoding(self, pending: int, total: int) -> None:
        """Show how many placed images are still decoding."""
        if pending and total:
            set_progress(self.progress, total - pending, total)
            self.progress.show()
            self._status_bar.showMessage(f"{DECODING_MESSAGE} {total - pending} of {total}")
        else:
            if self.progress.maximum() != 0:  # not a scan's busy bar
                self.progress.hide()
            if self._status_bar.currentMessage().startswith(DECODING_MESSAGE):
                self._status_bar.clearMessage()

    def show_pixel(self, sample: PixelSample | None) -> None:
        """Show the position and values of the pixel under the cursor (nothing: none)."""
        if sample is None:
            self.cursor_label.setText("")
            return
        if sample.rgb is not None:  # colour: no Modality LUT, the samples themselves
            red, green, blue = sample.rgb
            self.cursor_label.setText(f"({sample.column}, {sample.row})  RGB {red} {green} {blue}")
            return
        if self.compact:  # the value only (the stored value is the same but for a rescale)
            self.cursor_label.setText(f"({sample.column}, {sample.row})  {sample.modality:g}")
            return
        self.cursor_label.setText(
            f"({sample.column}, {sample.row})  stored {sample.stored}  value {sample.modality:g}"
        )


def set_progress(bar: QProgressBar, value: int, maximum: int) -> None:
    """Set a progress bar's range 0..``maximum`` and value, painted with the next paint.

    ``QProgressBar.setValue`` repaints the bar at once (synchronously) whenever the
    value moves by a visible step — with a handful of steps, every time — and in a
    window of 30 Mpix viewports that cost 5–6 ms of the GUI thread per call, measured
    during a PACS retrieve. Updates are held off while the values change; the bar is
    then scheduled for the next paint like any other widget.
    """
    if bar.minimum() == 0 and bar.maximum() == maximum and bar.value() == value:
        return
    bar.setUpdatesEnabled(False)
    try:
        bar.setRange(0, maximum)
        bar.setValue(value)
    finally:
        bar.setUpdatesEnabled(True)
    bar.update()
