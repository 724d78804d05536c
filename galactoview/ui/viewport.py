"""Viewport: the Qt view of one image rendered by a :class:`DisplayPipeline`.

The stored values are handed to pyqtgraph once, as LUT indices
(:meth:`DisplayPipeline.lut_indices`); a window/level change only replaces the
lookup table with :meth:`DisplayPipeline.lut`, so what pyqtgraph draws is exactly
:meth:`DisplayPipeline.render` (PS3.3 C.11).

Item coordinates of the image are DICOM SCOORD pixel coordinates (PS3.3
C.18.6.1.2): column then row, origin at the top-left corner of the top-left pixel.

Display-resolution levels: the LUT indices are reduced once into a :class:`Pyramid`
(2 x 2 means). Whenever the view range or size changes, the level drawn is the coarsest
one that is still at least as fine as the screen (``2**k`` stored pixels per level pixel,
``2**k <= `` stored pixels per screen pixel), so a zoomed-out view never applies the LUT
to full resolution on a window change; at 1:1 and closer, level 0 (the stored image) is
drawn. The image item is drawn scaled by ``2**k`` inside its own coordinates, so item
coordinates stay full-resolution SCOORD coordinates at every level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QWidget

# isort: split
# pyqtgraph must come after PySide6 so that it binds to PySide6.
import pyqtgraph as pg

from galactoview.dicom.display import DisplayPipeline, VoiLut, VoiLutFunction, Window, auto_window
from galactoview.dicom.pyramid import Pyramid
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


def level_for_view(image_pixels_per_screen_pixel: float, levels: int) -> int:
    """Return the coarsest level not coarser than the screen.

    Level ``k`` has one pixel per ``2**k`` stored pixels (each way); the result is the
    largest ``k < levels`` with ``2**k <= image_pixels_per_screen_pixel`` (0 at 1:1 and
    closer, or when the zoom is unknown).
    """
    if levels < 1:
        raise ValueError(f"levels must be >= 1, got {levels}")
    ratio = image_pixels_per_screen_pixel
    if not (math.isfinite(ratio) and ratio >= 2.0):
        return 0
    # The tolerance keeps an exact power of two (up to rounding) on its level.
    return min(levels - 1, math.floor(math.log2(ratio) + 1e-9))


class _LevelImageItem(pg.ImageItem):  # type: ignore[misc]
    """An ImageItem that draws a reduced level over the full-resolution extent.

    ``image`` is the level drawn (level ``k`` of a :class:`Pyramid`); it is painted
    scaled by ``2**k``, so level pixel ``(r, c)`` covers stored pixels ``[r * 2**k,
    (r + 1) * 2**k) x [c * 2**k, (c + 1) * 2**k)`` and the item's own coordinates (and
    its bounding rectangle) are those of the full-resolution image: SCOORD. (pyqtgraph
    helpers that take item coordinates as indices into ``image``, such as
    ``ROI.getArrayRegion`` or ``pixelSize``, see the level: sample ``stored`` instead.)
    """

    def __init__(self) -> None:
        super().__init__(axisOrder="row-major")
        self._full_shape: tuple[int, int] | None = None
        self._level_scale = 1

    def set_level(
        self,
        image: NDArray[Any],
        level_scale: int,
        full_shape: tuple[int, int],
        levels: tuple[int, int],
        lut: NDArray[np.uint8],
    ) -> None:
        """Draw `image`, one pixel per `level_scale` stored pixels, over `full_shape`."""
        if full_shape != self._full_shape:
            self.prepareGeometryChange()
        self._full_shape = full_shape
        self._level_scale = level_scale
        self.setImage(image, autoLevels=False, levels=levels, lut=lut)
        self.update()

    def clear(self) -> None:
        """Draw nothing."""
        self.prepareGeometryChange()
        self._full_shape = None
        self._level_scale = 1
        super().clear()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt)
        """Return the full-resolution extent, whatever the level drawn."""
        if self.image is None or self._full_shape is None:
            return cast(QRectF, super().boundingRect())
        rows, columns = self._full_shape
        return QRectF(0.0, 0.0, float(columns), float(rows))

    def paint(self, painter: QPainter, *args: Any) -> None:
        """Paint the level scaled to stored-pixel (item) coordinates."""
        if self._level_scale == 1:
            super().paint(painter, *args)
            return
        painter.save()
        painter.scale(self._level_scale, self._level_scale)
        super().paint(painter, *args)
        painter.restore()


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
        #: The pyqtgraph item drawing the image: ``image_item.image`` is the pyramid level
        #: shown (:attr:`current_level`); item coordinates are full-resolution SCOORD.
        self.image_item = _LevelImageItem()
        self.view_box.addItem(self.image_item)
        self._pipeline: DisplayPipeline | None = None
        self._stored: NDArray[Any] | None = None
        self._pyramid: Pyramid | None = None
        self._level: int | None = None
        self._voi: Voi = None
        self._value_span = 1.0
        self._drag_start: Window | None = None
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.view_box.sigRangeChanged.connect(self._update_level)
        self.view_box.sigResized.connect(self._update_level)

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

    @property
    def pyramid(self) -> Pyramid | None:
        """Return the display-resolution levels (of the LUT indices) of the image shown."""
        return self._pyramid

    @property
    def current_level(self) -> int:
        """Return the pyramid level drawn: 0 is full resolution (also without an image)."""
        return self._level or 0

    def image_pixels_per_screen_pixel(self) -> float:
        """Return how many stored pixels one device pixel spans (0.0 if unknown)."""
        (x0, x1), (y0, y1) = self.view_box.viewRange()
        rect = self.view_box.rect()
        width, height = float(rect.width()), float(rect.height())
        ratio = float(self.devicePixelRatioF()) or 1.0
        if width <= 0.0 or height <= 0.0:
            return 0.0
        # The larger of the two: never a level coarser than the screen on either axis.
        return max(float(abs(x1 - x0)) / width, float(abs(y1 - y0)) / height) / ratio

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
        low, high = stored.min(), stored.max()
        self._stored = stored
        self._pipeline = pipeline
        extremes = pipeline.modality_values(np.array([low, high]))
        self._value_span = max(float(abs(extremes[1] - extremes[0])), 1.0)
        self._voi = voi
        indices: NDArray[Any]
        if (
            stored.dtype == np.uint16
            and pipeline.stored_range[0] == 0
            and int(high) < 2**pipeline.bits_stored
        ):
            # Unsigned and in range: the LUT indices are the stored values themselves;
            # share them instead of holding a second full-resolution copy.
            indices = stored
        else:
            indices = pipeline.lut_indices(stored)
        self._pyramid = Pyramid(indices)
        self._level = None
        self.fit()
        self._update_level()
        self.voi_changed.emit(voi)

    def set_voi(self, voi: Voi) -> None:
        """Change the VOI transform: rebuilds the LUT only, not the image."""
        if self._pipeline is None:
            return
        self._voi = voi
        self.image_item.setLookupTable(self._pipeline.lut(voi))  # on the level shown only
        self.voi_changed.emit(voi)

    def clear_image(self) -> None:
        """Show nothing."""
        self._stored = None
        self._pipeline = None
        self._pyramid = None
        self._level = None
        self._voi = None
        self.image_item.clear()
        self.voi_changed.emit(None)

    def fit(self) -> None:
        """Zoom and pan so the whole image fits the view."""
        if self._stored is not None:
            rows, columns = self._stored.shape[:2]
            self.view_box.setRange(xRange=(0, columns), yRange=(0, rows), padding=0.02)

    def _update_level(self, *_args: object) -> None:
        """Draw the pyramid level that suits the zoom, if it is not the one drawn.

        Guarded by the level drawn: drawing another level keeps the item's bounding
        rectangle, so it causes no further range change.
        """
        pyramid, pipeline = self._pyramid, self._pipeline
        if pyramid is None or pipeline is None:
            return
        level = level_for_view(self.image_pixels_per_screen_pixel(), len(pyramid))
        if level == self._level:
            return
        self._level = level
        self.image_item.set_level(
            pyramid.levels[level],
            2**level,
            pyramid.shape,
            # levels (0, 2**bits) make pyqtgraph index the LUT with the value itself.
            levels=(0, 2**pipeline.bits_stored),
            lut=pipeline.lut(self._voi),
        )

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
