"""Viewport: the Qt view of one image rendered by a :class:`DisplayPipeline`.

The stored values are handed to pyqtgraph once, as LUT indices
(:meth:`DisplayPipeline.lut_indices`); a window/level change only replaces the
lookup table with :meth:`DisplayPipeline.lut`, so what pyqtgraph draws is exactly
:meth:`DisplayPipeline.render` (PS3.3 C.11).

Item coordinates of the image are DICOM SCOORD pixel coordinates (PS3.3
C.18.6.1.2): column then row, origin at the top-left corner of the top-left pixel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import QWidget

# isort: split
# pyqtgraph must come after PySide6 so that it binds to PySide6.
import pyqtgraph as pg

from galactoview.dicom.display import DisplayPipeline, VoiLut, VoiLutFunction, Window, auto_window
from galactoview.ui.window_level import window_after_drag

__all__ = ["PixelSample", "Viewport"]

Voi = Window | VoiLut | None


@dataclass(frozen=True, slots=True)
class PixelSample:
    """The pixel under the cursor.

    Attributes
    ----------
    column, row
        Pixel indices (``stored[row, column]``).
    stored
        Stored value.
    modality
        Modality value (after the Modality LUT, PS3.3 C.11.1).
    """

    column: int
    row: int
    stored: int
    modality: float


class _ImageViewBox(pg.ViewBox):  # type: ignore[misc]
    """A ViewBox where the left button adjusts the window instead of panning.

    Middle-drag pans and right-drag or the wheel zoom, as in pyqtgraph.
    """

    def __init__(self, viewport: Viewport) -> None:
        super().__init__(lockAspect=True, invertY=True, enableMenu=False)
        self._viewport = viewport

    def mouseDragEvent(self, ev: Any, axis: int | None = None) -> None:  # noqa: N802 (Qt)
        """Send left-button drags to the viewport's window/level handler."""
        if ev.button() != Qt.MouseButton.LeftButton:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        if ev.isStart():
            self._viewport.begin_window_drag()
        delta = ev.screenPos() - ev.buttonDownScreenPos()
        size = self._viewport.size()
        self._viewport.drag_window(
            delta.x() / max(size.width(), 1), delta.y() / max(size.height(), 1)
        )
        if ev.isFinish():
            self._viewport.end_window_drag()


class Viewport(pg.GraphicsView):  # type: ignore[misc]
    """Qt view of one image and its :class:`DisplayPipeline` / VOI.

    Left-drag changes the window (horizontal: width, vertical: center), middle-drag
    pans, the wheel and right-drag zoom.

    Signals
    -------
    voi_changed(object)
        The VOI transform shown changed (a :class:`Window`, a :class:`VoiLut` or None).
    pixel_hovered(object)
        The cursor moved: a :class:`PixelSample`, or None outside the image.
    """

    voi_changed = Signal(object)
    pixel_hovered = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="k")
        self.view_box = _ImageViewBox(self)
        self.setCentralItem(self.view_box)
        #: The pyqtgraph item drawing the image (row-major: item coordinates are SCOORD).
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.view_box.addItem(self.image_item)
        self._pipeline: DisplayPipeline | None = None
        self._stored: NDArray[Any] | None = None
        self._voi: Voi = None
        self._value_span = 1.0
        self._drag_start: Window | None = None
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)

    # --- state ------------------------------------------------------------------------

    @property
    def pipeline(self) -> DisplayPipeline | None:
        """Return the display pipeline of the image shown, if any."""
        return self._pipeline

    @property
    def stored(self) -> NDArray[Any] | None:
        """Return the stored values of the image shown, if any."""
        return self._stored

    @property
    def voi(self) -> Voi:
        """Return the VOI transform in use."""
        return self._voi

    def has_image(self) -> bool:
        """Return whether an image is shown."""
        return self._stored is not None

    # --- model -> view ----------------------------------------------------------------

    def set_image(self, stored: NDArray[Any], pipeline: DisplayPipeline, voi: Voi) -> None:
        """Show an image.

        Parameters
        ----------
        stored
            Stored values, shape ``(Rows, Columns)``.
        pipeline
            Its display pipeline.
        voi
            The VOI transform to start with.
        """
        self._stored = stored
        self._pipeline = pipeline
        extremes = pipeline.modality_values(np.array([stored.min(), stored.max()]))
        self._value_span = max(float(abs(extremes[1] - extremes[0])), 1.0)
        self._voi = voi
        size = 2**pipeline.bits_stored
        # levels (0, size) make pyqtgraph index the LUT with the value itself.
        self.image_item.setImage(
            pipeline.lut_indices(stored),
            autoLevels=False,
            levels=(0, size),
            lut=pipeline.lut(voi),
        )
        self.fit()
        self.voi_changed.emit(voi)

    def set_voi(self, voi: Voi) -> None:
        """Change the VOI transform: rebuilds the LUT only, not the image."""
        if self._pipeline is None:
            return
        self._voi = voi
        self.image_item.setLookupTable(self._pipeline.lut(voi))
        self.voi_changed.emit(voi)

    def clear_image(self) -> None:
        """Show nothing."""
        self._stored = None
        self._pipeline = None
        self._voi = None
        self.image_item.clear()
        self.voi_changed.emit(None)

    def fit(self) -> None:
        """Zoom and pan so the whole image fits the view."""
        if self._stored is not None:
            rows, columns = self._stored.shape[:2]
            self.view_box.setRange(xRange=(0, columns), yRange=(0, rows), padding=0.02)

    def auto_window(self) -> Window | None:
        """Return the automatic window of the image shown (see :func:`auto_window`).

        The VOI LUT Function of the file's first window is kept (SIGMOID is common
        in mammography); LINEAR otherwise.
        """
        if self._pipeline is None or self._stored is None:
            return None
        windows = self._pipeline.windows
        function = windows[0].function if windows else VoiLutFunction.LINEAR
        return auto_window(self._pipeline, self._stored, function)

    # --- interaction ------------------------------------------------------------------

    def begin_window_drag(self) -> None:
        """Start a window/level drag from the current window (or the auto window)."""
        current = self._voi
        self._drag_start = current if isinstance(current, Window) else self.auto_window()

    def drag_window(self, dx_fraction: float, dy_fraction: float) -> None:
        """Apply a window/level drag; fractions are of the view size since the drag began."""
        if self._drag_start is None:
            self.begin_window_drag()
        if self._drag_start is not None:
            self.set_voi(
                window_after_drag(self._drag_start, dx_fraction, dy_fraction, self._value_span)
            )

    def end_window_drag(self) -> None:
        """Finish a window/level drag."""
        self._drag_start = None

    def sample_at(self, x: float, y: float) -> PixelSample | None:
        """Return the pixel at item (SCOORD) coordinates, or None outside the image."""
        if self._stored is None or self._pipeline is None:
            return None
        column, row = int(np.floor(x)), int(np.floor(y))
        rows, columns = self._stored.shape[:2]
        if not (0 <= row < rows and 0 <= column < columns):
            return None
        value = self._stored[row, column]
        modality = self._pipeline.modality_values(np.array([value]))
        return PixelSample(column, row, int(value), float(modality[0]))

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        """Report the pixel under the cursor."""
        point = cast(QPointF, self.image_item.mapFromScene(scene_pos))
        self.pixel_hovered.emit(self.sample_at(point.x(), point.y()))
