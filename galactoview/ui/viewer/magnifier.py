"""Magnifier: a loupe that shows the full-resolution pixels under the cursor.

In :attr:`MouseMode.MAGNIFY` a left-button drag in a :class:`Viewport` shows a loupe
centred on the cursor; it disappears on release. The loupe magnifies ``zoom`` times
*relative to the current view* (so it magnifies even when the view is zoomed in):
it covers ``size_px / (zoom * viewport.zoom_factor())`` stored pixels, taken from the
full-resolution stored image (never from the reduced level the view may draw) with
:func:`~galactoview.imaging.loupe.loupe_patch`, i.e. through the same LUT as the view
(PS3.3 C.11), mirrored like the hung image, and scaled with nearest-neighbour sampling
(whole pixels stay visible as squares) to exactly ``zoom`` times the view's scale, the
point under the cursor in the middle of the loupe.

The marks under the cursor — finding outlines and points, duct traces, rulers, and their
labels: the graphics items that are children of the viewport's image item — are drawn
over the magnified pixels, at the same magnification and place (issue 15: the loupe
showed pixels only, so a mark being checked disappeared under it).

While the loupe is shown, Ctrl+wheel changes its zoom and Shift+wheel its size
(the view does not zoom then). :attr:`Magnifier.settings_changed` tells the
application to persist :attr:`Magnifier.size_px` and :attr:`Magnifier.zoom`.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QEvent, QObject, QPoint, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPen, QPixmap, QWheelEvent
from PySide6.QtWidgets import QGraphicsItem, QLabel

from galactoview.imaging.loupe import loupe_patch
from galactoview.ui.viewer.viewport import DragPhase, MouseMode, ToolDrag, Viewport

__all__ = [
    "DEFAULT_SIZE_PX",
    "DEFAULT_ZOOM",
    "SIZE_RANGE",
    "ZOOM_RANGE",
    "Magnifier",
]

#: Allowed loupe side lengths, in logical screen pixels.
SIZE_RANGE: Final = (100, 600)
#: Allowed magnifications relative to the view.
ZOOM_RANGE: Final = (1.5, 8.0)
DEFAULT_SIZE_PX: Final = 240
DEFAULT_ZOOM: Final = 3.0
#: Loupe size change per wheel notch (Shift+wheel), logical pixels.
SIZE_STEP: Final = 20
#: Zoom factor per wheel notch (Ctrl+wheel).
ZOOM_STEP: Final = 1.25
#: One wheel notch in QWheelEvent.angleDelta units (1/8 degree).
WHEEL_NOTCH: Final = 120.0
BORDER_COLOR: Final = QColor(255, 210, 0)
BORDER_WIDTH: Final = 2


class Magnifier(QObject):
    """A loupe for one :class:`Viewport`, shown by left-drags in the MAGNIFY mode.

    Parameters
    ----------
    viewport
        The viewport to magnify; the loupe is a child widget of its viewport widget.
    size_px
        Side of the (square) loupe in logical pixels, clamped to :data:`SIZE_RANGE`.
    zoom
        Magnification relative to the view, clamped to :data:`ZOOM_RANGE`.

    Signals
    -------
    settings_changed()
        :attr:`size_px` or :attr:`zoom` changed (to be saved in the settings).
    """

    settings_changed = Signal()

    def __init__(
        self, viewport: Viewport, size_px: int = DEFAULT_SIZE_PX, zoom: float = DEFAULT_ZOOM
    ) -> None:
        super().__init__(viewport)
        self._viewport = viewport
        self._size_px = _clamp_size(size_px)
        self._zoom = _clamp_zoom(zoom)
        self._centre: tuple[float, float] | None = None
        self._patch: NDArray[np.uint8] | None = None
        #: The loupe widget (hidden unless a magnifier drag is going on).
        self.loupe = QLabel(viewport.viewport())
        self.loupe.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.loupe.hide()
        viewport.tool_drag.connect(self._on_tool_drag)
        viewport.image_changed.connect(self.hide)
        viewport.voi_changed.connect(self._refresh)
        viewport.view_changed.connect(self._refresh)
        viewport.viewport().installEventFilter(self)

    # --- settings ---------------------------------------------------------------------

    @property
    def size_px(self) -> int:
        """Return the side of the loupe in logical pixels."""
        return self._size_px

    @size_px.setter
    def size_px(self, value: float) -> None:
        """Set the side of the loupe, clamped to :data:`SIZE_RANGE`."""
        size = _clamp_size(value)
        if size != self._size_px:
            self._size_px = size
            self._refresh()
            self.settings_changed.emit()

    @property
    def zoom(self) -> float:
        """Return the magnification relative to the view."""
        return self._zoom

    @zoom.setter
    def zoom(self, value: float) -> None:
        """Set the magnification relative to the view, clamped to :data:`ZOOM_RANGE`."""
        zoom = _clamp_zoom(value)
        if zoom != self._zoom:
            self._zoom = zoom
            self._refresh()
            self.settings_changed.emit()

    # --- showing ----------------------------------------------------------------------

    def is_shown(self) -> bool:
        """Return whether the loupe is shown."""
        return self._centre is not None

    def current_patch(self) -> NDArray[np.uint8] | None:
        """Return the display values the loupe shows (before scaling), None when hidden."""
        return self._patch

    def magnification(self) -> float:
        """Return the loupe's logical pixels per stored pixel: ``zoom * zoom_factor``."""
        view_zoom = self._viewport.zoom_factor()
        return self._zoom * (view_zoom if view_zoom > 0.0 else 1.0)

    def half_size(self) -> int:
        """Return the stored pixels taken on each side of the centre pixel.

        The loupe spans ``size_px`` logical pixels at :meth:`magnification` pixels per
        stored pixel, so it needs ``size_px / magnification`` stored pixels across, plus
        one on each side for the sub-pixel position of the centre.
        """
        return math.ceil(self._size_px / (2.0 * self.magnification())) + 1

    def show_at(self, column: float, row: float) -> None:
        """Show the loupe centred on an image point.

        Parameters
        ----------
        column, row
            SCOORD coordinates (PS3.3 C.18.6.1.2) of the stored image; the loupe is
            placed where that point is on the screen.
        """
        if not self._viewport.has_image():
            self.hide()
            return
        self._centre = (float(column), float(row))
        self._refresh()

    def hide(self) -> None:
        """Hide the loupe."""
        self._centre = None
        self._patch = None
        self.loupe.hide()

    def _refresh(self, *_args: object) -> None:
        """Render the loupe at its centre again (after a zoom, window or setting change)."""
        viewport, centre = self._viewport, self._centre
        stored, pipeline = viewport.stored, viewport.pipeline
        if centre is None:
            return
        if stored is None or pipeline is None:
            self.hide()
            return
        half = self.half_size()
        patch = loupe_patch(stored, pipeline, viewport.voi, centre, half, viewport.flip)
        self._patch = patch
        self.loupe.setPixmap(self._pixmap(patch, self._offset_in_patch(centre, half)))
        self.loupe.resize(self._size_px, self._size_px)
        x, y = viewport.map_image_to_widget(*centre)
        middle = self._size_px / 2.0
        self.loupe.move(QPoint(round(x - middle), round(y - middle)))
        self.loupe.show()
        self.loupe.raise_()

    def _offset_in_patch(self, centre: tuple[float, float], half: int) -> tuple[float, float]:
        """Return where the centre point is in the (mirrored) patch, in patch pixels."""
        flip = self._viewport.flip
        offsets = []
        for value, mirrored in ((centre[0], flip.horizontal), (centre[1], flip.vertical)):
            first = math.floor(value) - half  # image coordinate of the patch's edge
            inside = value - first
            offsets.append(2 * half + 1 - inside if mirrored else inside)
        return offsets[0], offsets[1]

    def _pixmap(self, patch: NDArray[np.uint8], offset: tuple[float, float]) -> QPixmap:
        """Draw a patch magnified with nearest-neighbour sampling, `offset` in the middle.

        The patch is scaled (``FastTransformation``: whole pixels, no interpolation) to
        exactly :meth:`magnification` device pixels per stored pixel, then placed so that
        the point `offset` (patch pixels) is at the centre of the loupe.
        """
        height, width = patch.shape[:2]
        if patch.ndim == 3:  # a colour image's RGB patch
            image = QImage(patch.data, width, height, 3 * width, QImage.Format.Format_RGB888)
        else:
            image = QImage(patch.data, width, height, width, QImage.Format.Format_Grayscale8)
        ratio = float(self._viewport.devicePixelRatioF()) or 1.0
        scale = self.magnification() * ratio  # device pixels per stored pixel
        side = max(1, round(self._size_px * ratio))
        scaled = image.scaled(
            max(1, round(width * scale)),
            max(1, round(height * scale)),
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.FastTransformation,
        )  # a deep copy: the patch buffer may go
        pixmap = QPixmap(side, side)
        pixmap.fill(QColor(0, 0, 0))
        painter = QPainter(pixmap)
        painter.drawImage(
            QPoint(
                round(side / 2.0 - offset[0] * scaled.width() / width),
                round(side / 2.0 - offset[1] * scaled.height() / height),
            ),
            scaled,
        )
        self._draw_marks(painter, side)
        pen = QPen(BORDER_COLOR)
        pen.setWidth(max(1, round(BORDER_WIDTH * ratio)))
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.setPen(pen)
        inset = pen.width() / 2.0
        painter.drawRect(pixmap.rect().toRectF().adjusted(inset, inset, -inset, -inset))
        painter.end()
        pixmap.setDevicePixelRatio(ratio)
        return pixmap

    def _draw_marks(self, painter: QPainter, side: int) -> None:
        """Draw the marks under the loupe over its pixels (the image item's children).

        The part of the scene the loupe covers (``size_px / zoom`` logical pixels around
        the centre) is rendered onto the whole loupe, the image item itself left out
        (``ItemHasNoContents`` while rendering: its children, the marks, are drawn).
        """
        viewport, centre = self._viewport, self._centre
        image_item = viewport.image_item
        scene = viewport.scene()
        if centre is None or scene is None or not image_item.childItems():
            return
        x, y = viewport.map_image_to_widget(*centre)
        span = self._size_px / self._zoom
        covered = QRectF(x - span / 2.0, y - span / 2.0, span, span)
        inverse, invertible = viewport.viewportTransform().inverted()
        if not invertible:
            return
        source = inverse.mapRect(covered)
        flag = QGraphicsItem.GraphicsItemFlag.ItemHasNoContents
        had = bool(image_item.flags() & flag)
        image_item.setFlag(flag, True)
        try:
            scene.render(
                painter,
                QRectF(0.0, 0.0, float(side), float(side)),
                source,
                Qt.AspectRatioMode.IgnoreAspectRatio,
            )
        finally:
            image_item.setFlag(flag, had)

    # --- interaction ------------------------------------------------------------------

    def _follow_button(self, event: QEvent) -> None:
        """Show the loupe where the left button goes down in MAGNIFY mode; hide on release."""
        viewport = self._viewport
        if viewport.mouse_mode is not MouseMode.MAGNIFY or not _is_left_button(event):
            return
        if event.type() is QEvent.Type.MouseButtonRelease:
            self.hide()
            return
        assert isinstance(event, QMouseEvent)
        scene = viewport.mapToScene(event.position().toPoint())
        point = viewport.image_item.mapFromScene(scene)
        self.show_at(float(point.x()), float(point.y()))

    def _on_tool_drag(self, drag: ToolDrag) -> None:
        """Follow a left-drag of the MAGNIFY mode: show on press and move, hide on release."""
        if drag.mode is not MouseMode.MAGNIFY:
            return
        if drag.phase is DragPhase.FINISH:
            self.hide()
        else:
            self.show_at(*drag.current)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt)
        """Show the loupe on the press itself, hide it on release; wheel changes it.

        A drag only starts once the mouse has moved a few pixels (pyqtgraph), so the
        loupe also follows the press and the release (issue 15: it appeared only after
        the mouse moved). Ctrl+wheel changes the zoom and Shift+wheel the size while the
        loupe is shown.
        """
        if event.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease):
            self._follow_button(event)
            return False
        if event.type() is not QEvent.Type.Wheel or not self.is_shown():
            return False
        assert isinstance(event, QWheelEvent)
        modifiers = event.modifiers()
        delta = event.angleDelta()
        # Some platforms turn Shift+wheel into a horizontal wheel.
        notches = (delta.y() or delta.x()) / WHEEL_NOTCH
        if notches == 0.0:
            return False
        if modifiers & Qt.KeyboardModifier.ControlModifier:
            self.zoom = self._zoom * ZOOM_STEP**notches
        elif modifiers & Qt.KeyboardModifier.ShiftModifier:
            self.size_px = self._size_px + round(SIZE_STEP * notches)
        else:
            return False
        event.accept()
        return True


def _is_left_button(event: QEvent) -> bool:
    return isinstance(event, QMouseEvent) and event.button() is Qt.MouseButton.LeftButton


def _clamp_size(value: float) -> int:
    """Clamp a loupe size to :data:`SIZE_RANGE` (non-finite values give the default)."""
    low, high = SIZE_RANGE
    if not math.isfinite(value):
        return DEFAULT_SIZE_PX
    return int(min(max(round(value), low), high))


def _clamp_zoom(value: float) -> float:
    """Clamp a loupe zoom to :data:`ZOOM_RANGE` (non-finite values give the default)."""
    low, high = ZOOM_RANGE
    if not math.isfinite(value):
        return DEFAULT_ZOOM
    return min(max(float(value), low), high)
