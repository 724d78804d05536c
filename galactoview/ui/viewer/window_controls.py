"""WindowControls: the window/level commands of the active viewport.

Presets (toolbar combo box and keys 1–9), the automatic window, inversion, reset and
the numeric entry. The presets are the image's own windows and VOI LUTs, in file
order, then "Auto" (the automatic window over the breast). The combo box shows which
one the active viewport uses ("Custom" after a drag); the actions of keys 1–9 are
named after the presets and enabled only for those the image has.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QSignalBlocker, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QWidget

from galactoview.imaging.display import Window
from galactoview.ui.viewer.hanging_view import HangingView
from galactoview.ui.viewer.viewport import Viewport, Voi
from galactoview.ui.viewer.window_entry import WindowEntryDialog
from galactoview.ui.viewer.window_level import preset_label

__all__ = ["WindowControls"]


class WindowControls(QObject):
    """The window/level of the active viewport: its presets, auto, invert, reset, entry.

    Parameters
    ----------
    view
        The hanging view (its active viewport is the one presets act on).
    auto_window
        ``auto_window(cell, compute)``: the automatic window of a cell's image,
        computed when ``compute`` and not known yet.
    parent
        Parent of the combo box.
    """

    def __init__(
        self,
        view: HangingView,
        auto_window: Callable[[int, bool], Window | None],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self._view = view
        self._auto_window = auto_window
        self._presets: list[Voi] = []
        self.actions: list[QAction] = []
        self.combo = QComboBox(parent)
        self.combo.setObjectName("PresetCombo")
        self.combo.setPlaceholderText("Custom")
        self.combo.setMinimumContentsLength(22)
        self.combo.setToolTip("Window presets from the file (keys 1–9) and Auto (A)")
        self.combo.activated.connect(self._on_preset_activated)

    def set_actions(self, actions: Sequence[QAction]) -> None:
        """Use these actions for keys 1–9 (renamed and enabled with the presets)."""
        self.actions = list(actions)
        self._set_presets(self._presets)

    @property
    def presets(self) -> list[Voi]:
        """Return the VOI presets of the image in the active viewport, in file order."""
        return list(self._presets)

    def show_viewport(self, viewport: Viewport) -> None:
        """List the presets of the image a viewport shows (it became the active one)."""
        pipeline = viewport.pipeline
        self._set_presets([*pipeline.windows, *pipeline.voi_luts] if pipeline else [])

    def _set_presets(self, presets: list[Voi]) -> None:
        self._presets = presets
        blocker = QSignalBlocker(self.combo)
        self.combo.clear()
        for number, voi in enumerate(presets, start=1):
            self.combo.addItem(preset_label(voi, number))
        self.combo.addItem("Auto")
        del blocker
        for number, action in enumerate(self.actions):
            enabled = number < len(presets)
            action.setEnabled(enabled)
            action.setText(
                preset_label(presets[number], number + 1) if enabled else f"Preset {number + 1}"
            )

    def show_voi(self, voi: Voi) -> None:
        """Select the combo box row of the active viewport's window ("Custom": none)."""
        auto = self._auto_window(self._view.active_index, False)
        if voi in self._presets:
            row = self._presets.index(voi)
        elif voi is not None and voi == auto:
            row = len(self._presets)
        else:
            row = -1  # a dragged window: the placeholder says "Custom"
        blocker = QSignalBlocker(self.combo)
        self.combo.setCurrentIndex(row)
        del blocker

    def _on_preset_activated(self, row: int) -> None:
        if row < len(self._presets):
            self.apply_preset(row)
        elif row == len(self._presets):
            self.apply_auto_window()

    def apply_preset(self, number: int) -> None:
        """Use the window preset at 0-based ``number`` (key ``number + 1``)."""
        if 0 <= number < len(self._presets):
            self._view.active_viewport().set_voi(self._presets[number])

    def apply_auto_window(self) -> None:
        """Use the automatic window of the image in the active viewport."""
        auto = self._auto_window(self._view.active_index, True)
        if auto is not None:
            self._view.active_viewport().set_voi(auto)

    def invert(self) -> None:
        """Invert the grayscale of the active viewport (all of them when W/L is linked)."""
        targets = (
            self._view.viewports_showing_images()
            if self._view.link_window
            else [self._view.active_viewport()]
        )
        for viewport in targets:
            viewport.toggle_invert()

    def reset_view(self) -> None:
        """Back to the files' windows, no inversion, images fitted (Home / Esc)."""
        for viewport in self._view.viewports_showing_images():
            viewport.reset_display()
        self._view.fit_all()

    def enter_window(self) -> WindowEntryDialog | None:
        """Open the numeric window/level entry for the active viewport (not blocking)."""
        viewport = self._view.active_viewport()
        start = viewport.voi if isinstance(viewport.voi, Window) else viewport.auto_window()
        if start is None:
            return None
        dialog = WindowEntryDialog(start, viewport.value_range(), self._parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: viewport.set_voi(dialog.entered_window()))
        dialog.open()
        return dialog
