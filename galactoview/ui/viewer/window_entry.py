"""WindowEntryDialog: numeric entry of a window centre and width (PS3.3 C.11.2.1.2)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QWidget,
)

from galactoview.imaging.display import VoiLutFunction, Window

__all__ = ["WindowEntryDialog"]


class WindowEntryDialog(QDialog):
    """Qt view of a :class:`Window` to edit: centre and width spin boxes.

    Parameters
    ----------
    start
        The window to start from (its VOI LUT Function is kept).
    value_range
        Lowest and highest modality values the fields accept.
    parent
        Parent widget.
    """

    def __init__(
        self, start: Window, value_range: tuple[float, float], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("WindowEntryDialog")
        self.setWindowTitle("Window / Level")
        self._function = start.function
        low, high = value_range
        span = max(high - low, 1.0)
        self.center_box = QDoubleSpinBox(self)
        self.center_box.setRange(low - span, high + span)
        self.center_box.setDecimals(1)
        self.center_box.setValue(start.center)
        self.width_box = QDoubleSpinBox(self)
        minimum = 1.0 if start.function is VoiLutFunction.LINEAR else 1e-3
        self.width_box.setRange(minimum, 4.0 * span)
        self.width_box.setDecimals(1)
        self.width_box.setValue(start.width)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("&Level (centre):", self.center_box)
        form.addRow("&Window (width):", self.width_box)
        form.addRow(buttons)

    def entered_window(self) -> Window:
        """Return the window entered (LINEAR widths are at least 1, PS3.3 C.11.2.1.2)."""
        return Window(self.center_box.value(), self.width_box.value(), self._function)
