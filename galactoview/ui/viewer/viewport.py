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

A reduced-resolution preview (the first picture of a large JPEG 2000 image, from its own
resolution levels: :mod:`galactoview.imaging.reduced_decode`) is shown the same way:
``set_image(..., full_shape=...)`` draws it scaled by ``2**n`` over the full image's
extent, so the view, marks, rulers and mm stay in full-resolution SCOORD while it shows;
:attr:`Viewport.is_preview` says so, :attr:`Viewport.stored` is ``None`` (nothing may read
preview values as stored values) and :meth:`Viewport.sample_at` reports nothing until
the full image replaces it.

Overlay planes (60xx, PS3.3 C.9.2 / C.9.3) are drawn by :attr:`Viewport.overlay_item`, a
child of the image item (so it follows the hanging flip), at full resolution over the
rectangle they cover: graphics bits in :data:`OVERLAY_COLOUR`, outside an ROI darkened
(:func:`~galactoview.imaging.overlays.overlay_rgba`). They are read from the image's
header in a pool thread when :meth:`Viewport.set_image` is given a record.

Colour images (RGB, YBR, palette; :mod:`galactoview.imaging.colour`) are shown in true
colour: the pyramid holds their 8-bit RGB display values and no lookup table is used.
Window/level does not apply to them (:meth:`Viewport.set_voi` keeps no window, the
readout says :data:`~galactoview.imaging.colour.COLOUR_WINDOW_NOTE`); inversion is
``255 - value`` on each channel; zoom, pan, loupe, measuring and marks work as for
grayscale, in the same SCOORD coordinates.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QMouseEvent, QPainter, QTransform
from PySide6.QtWidgets import QWidget

# isort: split
# pyqtgraph must come after PySide6 so that it binds to PySide6.
import pyqtgraph as pg
import shiboken6

from galactoview.dicom.calibration import Calibration
from galactoview.dicom.loading import ImageRecord
from galactoview.dicom.mammography import Flip
from galactoview.imaging.colour import invert_rgb8, is_colour
from galactoview.imaging.display import DisplayPipeline, VoiLut, VoiLutFunction, Window, auto_window
from galactoview.imaging.display_ready import DisplayReady, display_ready
from galactoview.imaging.overlays import OverlayPlanes, overlay_rgba, read_overlay_planes_of
from galactoview.imaging.pyramid import Pyramid
from galactoview.reading.hanging import Anchor
from galactoview.ui.background import BackgroundCall
from galactoview.ui.viewer.window_level import window_after_drag

__all__ = [
    "OVERLAY_COLOUR",
    "DragPhase",
    "MouseMode",
    "PixelSample",
    "ToolClick",
    "ToolDrag",
    "Viewport",
    "flip_transform",
]

Voi = Window | VoiLut | None

#: Margin left around a fitted image, as a fraction of the viewport size.
FIT_MARGIN = 0.01

#: Millimetres per inch, to turn the screen's dots per inch into pixels per mm.
MM_PER_INCH = 25.4

#: Colour of the graphics overlay bits (60xx) in the viewer.
OVERLAY_COLOUR = (255, 230, 0)


class MouseMode(StrEnum):
    """What a left-button drag does in a viewport.

    The middle button always pans; the right button and the wheel always zoom.
    """

    WINDOW = "window/level"
    PAN = "pan"
    ZOOM = "zoom"
    MEASURE = "measure"
    MAGNIFY = "magnify"
    ANNOTATE = "annotate"


class DragPhase(StrEnum):
    """Where a tool drag is: the press, a move, or the release."""

    START = "start"
    MOVE = "move"
    FINISH = "finish"


@dataclass(frozen=True, slots=True)
class ToolDrag:
    """A left-button drag in the MEASURE, MAGNIFY or ANNOTATE mode, for the tool attached.

    Attributes
    ----------
    phase
        Press, move or release.
    mode
        The mouse mode the drag belongs to.
    start, current
        Item (SCOORD) coordinates ``(column, row)`` of the press and of the cursor now.
    scene_position
        Scene coordinates ``(x, y)`` of the cursor now (for widgets that follow it).
    """

    phase: DragPhase
    mode: MouseMode
    start: tuple[float, float]
    current: tuple[float, float]
    scene_position: tuple[float, float]


@dataclass(frozen=True, slots=True)
class ToolClick:
    """A left-button click in the MEASURE, MAGNIFY or ANNOTATE mode, for the tool attached.

    Attributes
    ----------
    mode
        The mouse mode the click belongs to.
    position
        Item (SCOORD) coordinates ``(column, row)`` of the click.
    double
        Whether it is the second click of a double click.
    modifiers
        The keyboard modifiers held (``Qt.KeyboardModifier`` flags).
    """

    mode: MouseMode
    position: tuple[float, float]
    double: bool
    modifiers: Qt.KeyboardModifier


def flip_transform(flip: Flip, rows: int, columns: int) -> QTransform:
    """Return the item transform that shows an image flipped, its extent unchanged.

    The pixels are never touched (PS3.3 C.18.6.1.2 SCOORD stay those of the stored
    image): a horizontal flip maps item ``x`` to ``columns - x``, a vertical flip item
    ``y`` to ``rows - y``, so the flipped image covers the same rectangle
    ``[0, columns] x [0, rows]`` in view coordinates.
    """
    sx, dx = (-1.0, float(columns)) if flip.horizontal else (1.0, 0.0)
    sy, dy = (-1.0, float(rows)) if flip.vertical else (1.0, 0.0)
    return QTransform(sx, 0.0, 0.0, sy, dx, dy)


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
    rgb
        The red, green and blue samples of a colour image (``stored`` and ``modality``
        are then 0: no Modality LUT applies to colour); ``None`` for grayscale.
    """

    column: int
    row: int
    stored: int
    modality: float
    rgb: tuple[int, int, int] | None = None


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


def _reduction_of(full_shape: tuple[int, int], shape: tuple[int, int]) -> int:
    """Return ``n`` such that ``shape`` is ``ceil(full_shape / 2**n)``; ValueError if none."""
    rows, columns = full_shape
    for n in range(32):
        factor = 1 << n
        if (-(-rows // factor), -(-columns // factor)) == shape:
            return n
        if factor > max(rows, columns):
            break
    raise ValueError(f"{shape} is not {full_shape} reduced by a power of two")


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
        lut: NDArray[np.uint8] | None,
    ) -> None:
        """Draw `image`, one pixel per `level_scale` stored pixels, over `full_shape`.

        ``lut`` is ``None`` for RGB display values (a colour image), drawn as they are.
        """
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
    """A ViewBox whose left button follows the viewport's :class:`MouseMode`.

    Middle-drag pans and right-drag or the wheel (about the cursor) zoom, as in pyqtgraph.
    """

    def __init__(self, viewport: Viewport) -> None:
        super().__init__(lockAspect=True, invertY=True, enableMenu=False)
        self._viewport = viewport

    def mouseClickEvent(self, ev: Any) -> None:  # noqa: N802 (Qt)
        """Send left-button clicks in the tool modes to the tool attached."""
        mode = self._viewport.mouse_mode
        tool_modes = (MouseMode.MEASURE, MouseMode.MAGNIFY, MouseMode.ANNOTATE)
        if ev.button() != Qt.MouseButton.LeftButton or mode not in tool_modes:
            super().mouseClickEvent(ev)
            return
        ev.accept()
        point = self._viewport.image_item.mapFromScene(ev.scenePos())
        self._viewport.tool_click.emit(
            ToolClick(mode, (float(point.x()), float(point.y())), bool(ev.double()), ev.modifiers())
        )

    def mouseDragEvent(self, ev: Any, axis: int | None = None) -> None:  # noqa: N802 (Qt)
        """Send left-button drags to the handler of the viewport's mouse mode."""
        mode = self._viewport.mouse_mode
        if ev.button() != Qt.MouseButton.LeftButton or mode is MouseMode.PAN:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        if mode is MouseMode.WINDOW:
            if ev.isStart():
                self._viewport.begin_window_drag()
            delta = ev.screenPos() - ev.buttonDownScreenPos()
            size = self._viewport.size()
            self._viewport.drag_window(
                delta.x() / max(size.width(), 1), delta.y() / max(size.height(), 1)
            )
            if ev.isFinish():
                self._viewport.end_window_drag()
        elif mode is MouseMode.ZOOM:
            step = ev.screenPos() - ev.lastScreenPos()
            centre = self.mapToView(ev.buttonDownPos())
            factor = 1.01 ** float(step.y())  # drag down zooms out, up zooms in
            self.scaleBy((factor, factor), centre)
            self.sigRangeChangedManually.emit([True, True])
        else:
            phase = (
                DragPhase.START
                if ev.isStart()
                else DragPhase.FINISH
                if ev.isFinish()
                else DragPhase.MOVE
            )
            item = self._viewport.image_item
            start = item.mapFromScene(ev.buttonDownScenePos())
            now = item.mapFromScene(ev.scenePos())
            scene = ev.scenePos()
            self._viewport.tool_drag.emit(
                ToolDrag(
                    phase,
                    mode,
                    (float(start.x()), float(start.y())),
                    (float(now.x()), float(now.y())),
                    (float(scene.x()), float(scene.y())),
                )
            )


class Viewport(pg.GraphicsView):  # type: ignore[misc]
    """Qt view of one image and its :class:`DisplayPipeline` / VOI.

    Left-drag follows :attr:`mouse_mode` (by default it changes the window:
    horizontal width, vertical center), middle-drag pans, the wheel (about the cursor)
    and right-drag zoom. Hanging flips are item transforms (:func:`flip_transform`);
    item coordinates stay the stored image's SCOORD whatever the flip, so children of
    :attr:`image_item` (marks, rulers) always refer to stored pixels.

    Signals
    -------
    voi_changed(object)
        The VOI transform shown changed (a :class:`Window`, a :class:`VoiLut` or None).
    voi_chosen(object)
        The reader chose a VOI transform (not emitted for a new image's own window).
    pixel_hovered(object)
        The cursor moved: a :class:`PixelSample`, or None outside the image.
    image_changed()
        An image was shown or cleared (:attr:`record`, :attr:`flip`, :attr:`calibration`
        describe it).
    view_changed()
        The visible range (zoom or pan) or the viewport size changed.
    view_changed_by_user()
        The user zoomed or panned (wheel, drag): linked viewports follow.
    activated()
        The user pressed a mouse button in the viewport (it becomes the active one).
    tool_drag(object)
        A :class:`ToolDrag` in the MEASURE, MAGNIFY or ANNOTATE mode.
    tool_click(object)
        A :class:`ToolClick` in the MEASURE, MAGNIFY or ANNOTATE mode.
    overlay_planes_changed()
        The overlay planes of the image shown were read (or cleared).
    """

    voi_changed = Signal(object)
    voi_chosen = Signal(object)
    pixel_hovered = Signal(object)
    image_changed = Signal()
    view_changed = Signal()
    view_changed_by_user = Signal()
    activated = Signal()
    tool_drag = Signal(object)
    tool_click = Signal(object)
    overlay_planes_changed = Signal()

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
        self._full_shape: tuple[int, int] = (0, 0)
        self._reduction = 0
        self._pyramid: Pyramid | None = None
        self._level: int | None = None
        self._voi: Voi = None
        self._value_span = 1.0
        self._drag_start: Window | None = None
        self._record: ImageRecord | None = None
        self._flip = Flip()
        self._calibration: Calibration | None = None
        self._alignment = Anchor.CENTER
        self._frame = 0
        self._frame_label = ""
        self._inverted = False
        self.mouse_mode = MouseMode.WINDOW
        #: Draws the overlay planes (60xx) of the frame shown over the image: a child of
        #: :attr:`image_item` (item coordinates are SCOORD; the flip applies), below
        #: the other children (marks, rulers).
        self.overlay_item = pg.ImageItem(axisOrder="row-major")
        self.overlay_item.setParentItem(self.image_item)
        self.overlay_item.setZValue(-1.0)
        self.overlay_item.setVisible(False)
        self._overlay_planes = OverlayPlanes()
        self._overlay_record: ImageRecord | None = None
        self._overlays_visible = True
        self._overlay_reader = BackgroundCall(self)
        self._overlay_reader.done.connect(self._on_overlays_read)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.view_box.sigRangeChanged.connect(self._update_level)
        self.view_box.sigResized.connect(self._update_level)
        self.view_box.sigRangeChanged.connect(self._emit_view_changed)
        self.view_box.sigResized.connect(self._emit_view_changed)
        self.view_box.sigRangeChangedManually.connect(self._emit_view_changed_by_user)

    # --- state ------------------------------------------------------------------------

    @property
    def pipeline(self) -> DisplayPipeline | None:
        """Return the display pipeline of the image shown, if any."""
        return self._pipeline

    @property
    def stored(self) -> NDArray[Any] | None:
        """Return the stored values of the image shown; ``None`` if none, or a preview."""
        return None if self._reduction else self._stored

    @property
    def is_preview(self) -> bool:
        """Return whether a reduced-resolution preview shows, the full image to come."""
        return self._reduction > 0

    @property
    def image_shape(self) -> tuple[int, int]:
        """Return (rows, columns) of the full image shown (also under a preview); (0, 0)."""
        return self._full_shape

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

    @property
    def is_colour(self) -> bool:
        """Return whether the image shown is a colour image (no window/level applies)."""
        return self._stored is not None and is_colour(self._stored)

    @property
    def record(self) -> ImageRecord | None:
        """Return the header summary of the image shown, if given to :meth:`set_image`."""
        return self._record

    @property
    def flip(self) -> Flip:
        """Return the hanging flip applied (as an item transform) to the image shown."""
        return self._flip

    @property
    def calibration(self) -> Calibration | None:
        """Return the mm-per-pixel calibration of the image shown, None when not given."""
        return self._calibration

    @property
    def alignment(self) -> Anchor:
        """Return the side of the viewport a fitted image touches."""
        return self._alignment

    @property
    def frame(self) -> int:
        """Return the 0-based frame shown (0 for single-frame images)."""
        return self._frame

    @property
    def frame_label(self) -> str:
        """Return what the frame's Frame Content says (PS3.3 C.7.6.16.2.2), ``""`` if none."""
        return self._frame_label

    @property
    def overlay_planes(self) -> OverlayPlanes:
        """Return the overlay planes (60xx) of the image shown (none until read)."""
        return self._overlay_planes

    @property
    def overlay_planes_visible(self) -> bool:
        """Return whether overlay planes are drawn (when the image has any)."""
        return self._overlays_visible

    def set_overlay_planes_visible(self, on: bool) -> None:
        """Show or hide the overlay planes (60xx) of every image shown here."""
        self._overlays_visible = on
        self._draw_overlays()

    def zoom_factor(self) -> float:
        """Return screen (logical) pixels per image pixel, 0.0 when unknown."""
        ratio = self.image_pixels_per_screen_pixel() * (float(self.devicePixelRatioF()) or 1.0)
        return 1.0 / ratio if ratio > 0.0 else 0.0

    def mm_per_screen_pixel(self) -> float | None:
        """Return the physical size of one screen (logical) pixel on the image, in mm.

        ``None`` when no image is shown or its calibration is unknown.
        """
        spacing = self._column_spacing_mm()
        zoom = self.zoom_factor()
        if spacing is None or zoom <= 0.0:
            return None
        return spacing / zoom

    def _column_spacing_mm(self) -> float | None:
        calibration = self._calibration
        if self._stored is None or calibration is None or not calibration.is_known:
            return None
        return calibration.column_spacing_mm

    # --- model -> view ----------------------------------------------------------------

    def set_image(
        self,
        stored: NDArray[Any],
        pipeline: DisplayPipeline,
        voi: Voi,
        *,
        record: ImageRecord | None = None,
        flip: Flip | None = None,
        calibration: Calibration | None = None,
        alignment: Anchor = Anchor.CENTER,
        frame: int = 0,
        fit: bool = True,
        ready: DisplayReady | None = None,
        overlays: OverlayPlanes | None = None,
        frame_label: str = "",
        full_shape: tuple[int, int] | None = None,
    ) -> None:
        """Show an image, or a reduced-resolution preview of one.

        Parameters
        ----------
        stored
            Stored values, shape ``(Rows, Columns)``; RGB ``(Rows, Columns, 3)`` for a
            colour image.
        pipeline
            Its display pipeline (for colour:
            :func:`~galactoview.imaging.colour.colour_pipeline`).
        voi
            The VOI transform to start with.
        record
            Its header summary (overlays, orientation); None for a bare image.
        flip
            Hanging flip, applied as an item transform (never to the pixels).
        calibration
            mm per pixel; defaults to ``record.calibration``.
        alignment
            The side a fitted image touches (the chest wall side when hung).
        frame
            The frame shown, for multi-frame images.
        fit
            Fit the image to the view (False keeps the visible range: next cine frame).
        ready
            Its extremes and pyramid if already computed off the GUI thread
            (:func:`~galactoview.imaging.display_ready.display_ready`); else computed here.
        overlays
            Its overlay planes (PS3.3 C.9.2) if already read; else they are read from
            ``record``'s header in a pool thread (:attr:`overlay_planes_changed` tells
            when), kept while the same record is shown (cine), none without a record.
        frame_label
            What the frame's Frame Content says (PS3.3 C.7.6.16.2.2), for the corner text.
        full_shape
            ``(Rows, Columns)`` of the full image when ``stored`` is a preview of it with
            ``n`` resolution levels discarded (shape ``ceil(full_shape / 2**n)``): drawn
            over the full image's extent, :attr:`is_preview` true until the next image.

        Raises
        ------
        ValueError
            If ``stored`` is not ``full_shape`` reduced by a power of two.
        """
        shape = (int(stored.shape[0]), int(stored.shape[1]))
        reduction = 0 if full_shape is None else _reduction_of(full_shape, shape)
        if ready is None:
            ready = display_ready(stored, pipeline)
        low, high = ready.low, ready.high
        self._stored = stored
        self._full_shape = shape if full_shape is None else full_shape
        self._reduction = reduction
        self._pipeline = pipeline
        self._record = record
        self._flip = flip if flip is not None else Flip()
        if calibration is None and record is not None:
            calibration = record.calibration
        self._calibration = calibration
        self._alignment = alignment
        self._frame = frame
        self._frame_label = frame_label
        self._inverted = False
        rows, columns = self._full_shape
        self.image_item.setTransform(flip_transform(self._flip, rows, columns))
        extremes = pipeline.modality_values(np.array([low, high]))
        self._value_span = max(float(abs(extremes[1] - extremes[0])), 1.0)
        self._voi = voi
        self._pyramid = ready.pyramid
        self._level = None
        if fit:
            self.fit()
        self._update_level()
        self._set_overlay_source(record, overlays)
        self.image_changed.emit()
        self.voi_changed.emit(voi)

    def set_voi(self, voi: Voi, *, chosen: bool = True) -> None:
        """Change the VOI transform: rebuilds the LUT only, not the image.

        Parameters
        ----------
        voi
            The window, VOI LUT or None (full range).
        chosen
            The reader chose it (drag, preset, numeric entry): :attr:`voi_chosen` is
            emitted too, so linked viewports follow. False for windows the program
            sets itself (a new image's automatic window, a reset).
        """
        if self._pipeline is None:
            return
        if self.is_colour:
            # No VOI for colour (PS3.3 C.11.2): nothing chosen; redraw for inversion.
            self._voi = None
            self._level = None
            self._update_level()
            self.voi_changed.emit(None)
            return
        self._voi = voi
        self.image_item.setLookupTable(self._pipeline.lut(voi))  # on the level shown only
        self.voi_changed.emit(voi)
        if chosen:
            self.voi_chosen.emit(voi)

    def toggle_invert(self) -> None:
        """Invert the grayscale shown (the Presentation LUT, PS3.3 C.11.6), not the pixels.

        A colour image is inverted on each channel (``255 - value``).
        """
        if self._pipeline is None:
            return
        self._pipeline = replace(self._pipeline, invert=not self._pipeline.invert)
        self._inverted = not self._inverted
        self.set_voi(self._voi, chosen=False)

    @property
    def inverted(self) -> bool:
        """Return whether the user inverted the grayscale of the image shown."""
        return self._inverted

    def reset_display(self) -> None:
        """Undo inversion and go back to the file's first window (or the automatic one)."""
        if self._pipeline is None:
            return
        if self._inverted:
            self._pipeline = replace(self._pipeline, invert=not self._pipeline.invert)
            self._inverted = False
        voi = self._pipeline.default_voi()
        self.set_voi(voi if voi is not None else self.auto_window(), chosen=False)

    def value_range(self) -> tuple[float, float]:
        """Return the lowest and highest modality values of the image shown ((0, 1) if none)."""
        if self._stored is None or self._pipeline is None:
            return 0.0, 1.0
        values = self._pipeline.modality_values(np.array([self._stored.min(), self._stored.max()]))
        return float(values.min()), float(values.max())

    def clear_image(self) -> None:
        """Show nothing."""
        self._stored = None
        self._full_shape = (0, 0)
        self._reduction = 0
        self._pipeline = None
        self._pyramid = None
        self._level = None
        self._voi = None
        self._record = None
        self._flip = Flip()
        self._calibration = None
        self._frame = 0
        self._frame_label = ""
        self._set_overlay_source(None, OverlayPlanes())
        self.image_item.clear()
        self.image_item.setTransform(QTransform())
        self.image_changed.emit()
        self.voi_changed.emit(None)

    def _view_size(self) -> tuple[float, float]:
        rect = self.view_box.rect()
        return float(rect.width()), float(rect.height())

    def fit_image_pixels_per_screen_pixel(self) -> float | None:
        """Return the image pixels per screen (logical) pixel that fit the whole image."""
        width, height = self._view_size()
        if self._stored is None or width <= 0.0 or height <= 0.0:
            return None
        rows, columns = self._full_shape
        usable = 1.0 - 2.0 * FIT_MARGIN
        return max(int(columns) / (width * usable), int(rows) / (height * usable))

    def fit_mm_per_screen_pixel(self) -> float | None:
        """Return the mm per screen pixel at which the whole image just fits, if calibrated."""
        spacing = self._column_spacing_mm()
        fitting = self.fit_image_pixels_per_screen_pixel()
        if spacing is None or fitting is None:
            return None
        return fitting * spacing

    def fit(self, mm_per_screen_pixel: float | None = None) -> None:
        """Zoom and pan so the whole image shows, touching the side of :attr:`alignment`.

        Parameters
        ----------
        mm_per_screen_pixel
            Show the image at this physical scale instead (both images of a hanging
            pair at the same scale); ignored when the image is not calibrated.
        """
        fitting = self.fit_image_pixels_per_screen_pixel()
        if self._stored is None:
            return
        rows, columns = self._full_shape
        width, height = self._view_size()
        if fitting is None:
            self.view_box.setRange(xRange=(0, columns), yRange=(0, rows), padding=0.02)
            return
        per_pixel = fitting
        spacing = self._column_spacing_mm()
        if mm_per_screen_pixel is not None and spacing is not None and mm_per_screen_pixel > 0:
            per_pixel = mm_per_screen_pixel / spacing
        span_x, span_y = width * per_pixel, height * per_pixel
        margin = FIT_MARGIN * width * per_pixel
        if self._alignment is Anchor.LEFT:
            x0 = -margin
        elif self._alignment is Anchor.RIGHT:
            x0 = columns + margin - span_x
        else:
            x0 = (columns - span_x) / 2.0
        y0 = (rows - span_y) / 2.0
        self.view_box.setRange(xRange=(x0, x0 + span_x), yRange=(y0, y0 + span_y), padding=0.0)

    def set_zoom(self, zoom: float, centre: tuple[float, float] | None = None) -> None:
        """Show the image at ``zoom`` screen pixels per image pixel about a view point.

        Parameters
        ----------
        zoom
            Screen (logical) pixels per image pixel.
        centre
            View coordinates kept at the centre; the current centre by default.
        """
        width, height = self._view_size()
        if self._stored is None or zoom <= 0.0 or width <= 0.0 or height <= 0.0:
            return
        (x0, x1), (y0, y1) = self.view_box.viewRange()
        cx, cy = centre if centre is not None else ((x0 + x1) / 2.0, (y0 + y1) / 2.0)
        span_x, span_y = width / zoom, height / zoom
        self.view_box.setRange(
            xRange=(cx - span_x / 2.0, cx + span_x / 2.0),
            yRange=(cy - span_y / 2.0, cy + span_y / 2.0),
            padding=0.0,
        )

    def center_on(self, column: float, row: float) -> None:
        """Pan (keeping the zoom) so an item (SCOORD) point is in the middle of the view."""
        x, y = self.map_image_to_view(column, row)
        (x0, x1), (y0, y1) = self.view_box.viewRange()
        half_x, half_y = (x1 - x0) / 2.0, (y1 - y0) / 2.0
        self.view_box.setRange(
            xRange=(x - half_x, x + half_x), yRange=(y - half_y, y + half_y), padding=0.0
        )

    def actual_pixels(self) -> None:
        """Show one image pixel per device pixel (1:1), about the current centre."""
        self.set_zoom(float(self.devicePixelRatioF()) or 1.0)

    def true_size(self) -> bool:
        """Show the image at its physical size on this screen (mm at the screen's DPI).

        Returns
        -------
        bool
            False (nothing changed) when the image's calibration is unknown.
        """
        spacing = self._column_spacing_mm()
        screen = self.screen()
        if spacing is None or screen is None:
            return False
        # physicalDotsPerInch is in device pixels; zoom is in logical pixels.
        device_per_mm = float(screen.physicalDotsPerInchX()) / MM_PER_INCH
        logical_per_mm = device_per_mm / (float(self.devicePixelRatioF()) or 1.0)
        self.set_zoom(logical_per_mm * spacing)
        return True

    def map_image_to_view(self, column: float, row: float) -> tuple[float, float]:
        """Return the view coordinates of an item (SCOORD) point, after the flip."""
        point = self.image_item.mapToView(QPointF(column, row))
        return float(point.x()), float(point.y())

    def map_image_to_widget(self, column: float, row: float) -> tuple[float, float]:
        """Return the widget (logical pixel) position of an item (SCOORD) point."""
        scene = self.image_item.mapToScene(QPointF(column, row))
        point = self.mapFromScene(scene)
        return float(point.x()), float(point.y())

    def _emit_view_changed(self, *_args: object) -> None:
        self.view_changed.emit()

    def _emit_view_changed_by_user(self, *_args: object) -> None:
        self.view_changed_by_user.emit()

    def mousePressEvent(self, ev: QMouseEvent) -> None:  # noqa: N802 (Qt)
        """Make this the active viewport, then handle the press as usual."""
        self.activated.emit()
        super().mousePressEvent(ev)

    def _update_level(self, *_args: object) -> None:
        """Draw the pyramid level that suits the zoom, if it is not the one drawn.

        Guarded by the level drawn: drawing another level keeps the item's bounding
        rectangle, so it causes no further range change.
        """
        pyramid, pipeline = self._pyramid, self._pipeline
        if pyramid is None or pipeline is None:
            return
        # A preview's pyramid starts 2**n stored pixels per pixel.
        scale = self.image_pixels_per_screen_pixel() / 2**self._reduction
        level = level_for_view(scale, len(pyramid))
        if level == self._level:
            return
        self._level = level
        if self.is_colour:
            shown = pyramid.levels[level]
            self.image_item.set_level(
                invert_rgb8(shown) if pipeline.invert else shown,
                2**level,
                pyramid.shape,
                levels=(0, 255),
                lut=None,
            )
            return
        self.image_item.set_level(
            pyramid.levels[level],
            2 ** (level + self._reduction),
            self._full_shape,
            # levels (0, 2**bits) make pyqtgraph index the LUT with the value itself.
            levels=(0, 2**pipeline.bits_stored),
            lut=pipeline.lut(self._voi),
        )

    def _set_overlay_source(
        self, record: ImageRecord | None, overlays: OverlayPlanes | None
    ) -> None:
        """Take the overlay planes given, keep those of the same record, or read them."""
        if overlays is not None:
            self._overlay_record = record
            self._overlay_planes = overlays
        elif record is None or record != self._overlay_record:
            self._overlay_record = record
            self._overlay_planes = OverlayPlanes()
            if record is not None:
                source = record.source
                self._overlay_reader.start(
                    lambda: (record, read_overlay_planes_of(source))  # never raises
                )
        self._draw_overlays()
        if overlays is not None:
            self.overlay_planes_changed.emit()

    def _on_overlays_read(self, ok: bool, outcome: object) -> None:
        """Draw the planes read, if their image is still the one shown."""
        if not ok:  # read_overlay_planes_of reports bad planes itself; this is a bug
            print(f"overlay planes not read: {outcome}", file=sys.stderr)
            return
        if not shiboken6.isValid(self.overlay_item):
            return  # the viewport was deleted while the header was read
        record, overlays = cast(tuple[ImageRecord, OverlayPlanes], outcome)
        if record != self._overlay_record or record != self._record:
            return
        self._overlay_planes = overlays
        self._draw_overlays()
        self.overlay_planes_changed.emit()

    def _draw_overlays(self) -> None:
        """Draw the overlay planes of the frame shown, or hide the overlay item."""
        item = self.overlay_item
        layer = None
        if self._overlays_visible and self._stored is not None and self._overlay_planes:
            rows, columns = self._full_shape
            layer = overlay_rgba(
                self._overlay_planes, self._frame + 1, (rows, columns), OVERLAY_COLOUR
            )
        if layer is None:
            item.setVisible(False)
            return
        pixels, (top, left) = layer
        item.setImage(pixels, autoLevels=False, levels=(0, 255))
        item.setRect(QRectF(float(left), float(top), pixels.shape[1], pixels.shape[0]))
        item.setVisible(True)

    def auto_window(self) -> Window | None:
        """Return the automatic window of the image shown (see :func:`auto_window`).

        The VOI LUT Function of the file's first window is kept (SIGMOID is common
        in mammography); LINEAR otherwise. ``None`` for a colour image (no window).
        """
        if self._pipeline is None or self._stored is None or self.is_colour:
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
        """Return the pixel at item (SCOORD) coordinates; None outside, or on a preview.

        A preview's values are low-pass means, not stored values: no readout claims them.
        """
        if self._stored is None or self._pipeline is None or self._reduction:
            return None
        column, row = int(np.floor(x)), int(np.floor(y))
        rows, columns = self._stored.shape[:2]
        if not (0 <= row < rows and 0 <= column < columns):
            return None
        if self.is_colour:
            red, green, blue = (int(v) for v in self._stored[row, column])
            return PixelSample(column, row, 0, 0.0, (red, green, blue))
        value = self._stored[row, column]
        modality = self._pipeline.modality_values(np.array([value]))
        return PixelSample(column, row, int(value), float(modality[0]))

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        """Report the pixel under the cursor."""
        point = cast(QPointF, self.image_item.mapFromScene(scene_pos))
        self.pixel_hovered.emit(self.sample_at(point.x(), point.y()))
