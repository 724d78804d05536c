"""Ruler: straight-line distance measurements drawn on a :class:`Viewport`.

In :attr:`MouseMode.MEASURE` a left-button drag draws a ruler from the press to the
release, updated live (:attr:`Viewport.tool_drag`). A ruler is a pyqtgraph
:class:`~pyqtgraph.LineSegmentROI` child of :attr:`Viewport.image_item`, so its end
points are SCOORD coordinates of the stored image (PS3.3 C.18.6.1.2) and it follows
zoom, pan and the hanging flip; both end points are handles that can be dragged
afterwards. Its label (:func:`~galactoview.imaging.measurement.measurement_label`) is a
:class:`~pyqtgraph.TextItem`, which cancels its parent's scaling, rotation and
mirroring, so the text stays readable on a flipped image.

Rulers are kept per image (SOP Instance UID (0008,0018) and frame) while the tool
lives: showing another image hides them, coming back shows them again. Rulers on an
image without a record (no UID) are dropped when the image changes.
"""

from __future__ import annotations

import math
from typing import Any, Final

from PySide6.QtCore import QLineF, QObject, QPointF, QRectF, Signal
from PySide6.QtGui import QColor, QPainter

# isort: split
# pyqtgraph must come after PySide6 so that it binds to PySide6.
import pyqtgraph as pg

from galactoview.imaging.measurement import Measurement, measure, measurement_label
from galactoview.ui.viewer.view_labels import MarkLabel, marker_target, scene_points, view_labels
from galactoview.ui.viewer.viewport import DragPhase, MouseMode, ToolDrag, Viewport

__all__ = ["RulerTool"]

Point = tuple[float, float]
#: Rulers of one image frame: (SOP Instance UID, frame), None for an image without a record.
ImageKey = tuple[str, int] | None

RULER_COLOR: Final = QColor(255, 210, 0)
LABEL_FILL: Final = QColor(0, 0, 0, 170)
#: Half length of the end ticks, in device pixels.
TICK_HALF_PX: Final = 10.0
#: Gap between the end point and the label, as fractions of the label's width and height.
LABEL_GAP: Final = (0.06, 0.15)
#: Points sampled along a ruler that its own and other labels keep clear of.
LINE_SAMPLES: Final = 9


class _RulerRoi(pg.LineSegmentROI):  # type: ignore[misc]
    """A line segment with two handles and end ticks drawn a fixed number of pixels long."""

    def __init__(self, start: Point, end: Point, parent: Any) -> None:
        # pg.mkPen pens are cosmetic: their width is in device pixels whatever the zoom.
        pen = pg.mkPen(RULER_COLOR, width=2)
        hover = pg.mkPen(RULER_COLOR.lighter(130), width=3)
        super().__init__(
            positions=[start, end],
            parent=parent,
            pen=pen,
            hoverPen=hover,
            handlePen=pg.mkPen(RULER_COLOR, width=2),
            handleHoverPen=pg.mkPen(RULER_COLOR.lighter(130), width=2),
            movable=False,
            rotatable=False,
            resizable=False,
        )

    def end_points(self) -> tuple[Point, Point]:
        """Return the two end points in the parent's (image item, SCOORD) coordinates."""
        first, second = (self.mapToParent(handle.pos()) for handle in self.endpoints)
        return (float(first.x()), float(first.y())), (float(second.x()), float(second.y()))

    def move_end(self, index: int, point: Point) -> None:
        """Move one end point to image item coordinates, without a "finished" signal."""
        self.movePoint(self.getHandles()[index], QPointF(*point), finish=False, coords="parent")

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt)
        """Return the line's area widened to hold the end ticks."""
        rect = QRectF(super().boundingRect())
        vectors = self.pixelVectors()
        if vectors[0] is None or vectors[1] is None:
            return rect
        pad = (TICK_HALF_PX + 2.0) * max(vectors[0].length(), vectors[1].length())
        first, second = (handle.pos() for handle in self.endpoints)
        ends = QRectF(first, second).normalized()
        return rect.united(ends).adjusted(-pad, -pad, pad, pad)

    def viewTransformChanged(self) -> None:  # noqa: N802 (pyqtgraph)
        """Announce the new bounding rectangle: its padding is in device pixels."""
        self.prepareGeometryChange()
        super().viewTransformChanged()

    def paint(self, painter: QPainter, *args: Any) -> None:
        """Draw the line, then a tick across each end, in device pixels."""
        super().paint(painter, *args)
        first, second = (handle.pos() for handle in self.endpoints)
        transform = painter.transform()
        a, b = transform.map(first), transform.map(second)
        dx, dy = b.x() - a.x(), b.y() - a.y()
        length = math.hypot(dx, dy)
        if length < 1e-9:
            return
        nx, ny = -dy / length * TICK_HALF_PX, dx / length * TICK_HALF_PX
        painter.save()
        painter.resetTransform()
        painter.setPen(self.currentPen)
        for end in (a, b):
            painter.drawLine(
                QLineF(end.x() - nx, end.y() - ny, end.x() + nx, end.y() + ny),
            )
        painter.restore()


class _Ruler:
    """One ruler: its line (with handles) and its label."""

    def __init__(self, parent: Any, start: Point, end: Point) -> None:
        self.roi = _RulerRoi(start, end, parent)
        self.label = pg.TextItem("", color=RULER_COLOR, fill=pg.mkBrush(LABEL_FILL))
        self.label.setParentItem(parent)

    def set_visible(self, visible: bool) -> None:
        self.roi.setVisible(visible)
        self.label.setVisible(visible)

    def remove(self) -> None:
        for item in (self.label, self.roi):
            scene = item.scene()
            if scene is not None:
                scene.removeItem(item)
            else:
                item.setParentItem(None)


class RulerTool(QObject):
    """Distance rulers for one :class:`Viewport`, drawn by left-drags in the MEASURE mode.

    Parameters
    ----------
    viewport
        The viewport measured on.

    Signals
    -------
    measured(object)
        A :class:`~galactoview.imaging.measurement.Measurement`: a ruler drag finished,
        or an end point handle was dragged to a new place.
    """

    measured = Signal(object)

    def __init__(self, viewport: Viewport) -> None:
        super().__init__(viewport)
        self.viewport = viewport
        self._rulers: dict[ImageKey, list[_Ruler]] = {}
        self._key: ImageKey = self._image_key()
        self._drawing: _Ruler | None = None
        viewport.tool_drag.connect(self._on_tool_drag)
        viewport.image_changed.connect(self._on_image_changed)
        self._labels = view_labels(viewport)
        self._labels.add_provider(self._mark_labels)

    # --- public API -------------------------------------------------------------------

    def rulers(self) -> list[Measurement]:
        """Return the measurements of the rulers on the image shown, oldest first."""
        if not self.viewport.has_image():
            return []
        return [self._measure(ruler) for ruler in self._current()]

    def label_items(self) -> list[pg.TextItem]:
        """Return the label items of the rulers on the image shown (for checks)."""
        if not self.viewport.has_image():
            return []
        return [ruler.label for ruler in self._current()]

    def add_ruler(self, start: Point, end: Point) -> None:
        """Add a ruler to the image shown (nothing without an image).

        Parameters
        ----------
        start, end
            SCOORD ``(column, row)`` of the end points (PS3.3 C.18.6.1.2).
        """
        if self.viewport.has_image():
            self._add(start, end)

    def clear(self) -> None:
        """Remove every ruler of the image shown."""
        self._drawing = None
        for ruler in self._rulers.pop(self._key, []):
            ruler.remove()
        self._labels.schedule()

    def delete_last(self) -> bool:
        """Remove the newest ruler of the image shown, if any; return whether one was."""
        rulers = self._rulers.get(self._key)
        if not rulers:
            return False
        ruler = rulers.pop()
        if ruler is self._drawing:
            self._drawing = None
        ruler.remove()
        self._labels.schedule()
        return True

    # --- internals --------------------------------------------------------------------

    def _image_key(self) -> ImageKey:
        record = self.viewport.record
        if record is None or not self.viewport.has_image():
            return None
        return (record.sop_instance_uid, self.viewport.frame)

    def _current(self) -> list[_Ruler]:
        return self._rulers.get(self._key, [])

    def _add(self, start: Point, end: Point) -> _Ruler:
        ruler = _Ruler(self.viewport.image_item, start, end)
        ruler.roi.sigRegionChanged.connect(lambda *_: self._update_label(ruler))
        ruler.roi.sigRegionChangeFinished.connect(lambda *_: self._handle_moved(ruler))
        self._rulers.setdefault(self._key, []).append(ruler)
        self._update_label(ruler)
        return ruler

    def _measure(self, ruler: _Ruler) -> Measurement:
        start, end = ruler.roi.end_points()
        return measure(start, end, self.viewport.calibration)

    def _mark_labels(self) -> list[MarkLabel]:
        """Return the rulers' labels for :class:`ViewLabels`: each beside its end point."""
        if not self.viewport.has_image():
            return []
        parent = self.viewport.image_item
        result = []
        for index, ruler in enumerate(self._current()):
            (x0, y0), (x1, y1) = ruler.roi.end_points()
            samples = [
                (x0 + (x1 - x0) * i / (LINE_SAMPLES - 1), y0 + (y1 - y0) * i / (LINE_SAMPLES - 1))
                for i in range(LINE_SAMPLES)
            ]
            points = scene_points(parent, samples)
            target = marker_target(points[-1:])
            result.append(MarkLabel(f"ruler-{index}", ruler.label, target, points, 1, RULER_COLOR))
        return result

    def _update_label(self, ruler: _Ruler) -> None:
        """Show a ruler's measurement in its label, just beyond its end point.

        The label starts on the far side of the end point as seen on the screen (after
        the flip), so it never covers the line; :class:`ViewLabels` then places it
        with the other labels of the view (inside the cell, clear of the marks).
        """
        m = self._measure(ruler)
        ruler.label.setText(measurement_label(m))
        (x0, y0), (x1, y1) = (self.viewport.map_image_to_view(*p) for p in (m.start, m.end))
        ruler.label.setAnchor(
            (
                -LABEL_GAP[0] if x1 >= x0 else 1.0 + LABEL_GAP[0],
                -LABEL_GAP[1] if y1 >= y0 else 1.0 + LABEL_GAP[1],
            )
        )
        ruler.label.setPos(QPointF(*m.end))
        self._labels.schedule()

    def _handle_moved(self, ruler: _Ruler) -> None:
        """Report a ruler whose end point the user dragged."""
        if ruler is not self._drawing:
            self.measured.emit(self._measure(ruler))

    def _on_image_changed(self) -> None:
        """Hide the rulers of the image left and show those of the image shown."""
        self._drawing = None
        key = self._image_key()
        if key is None or key != self._key:
            if self._key is None:  # an image without a UID: its rulers cannot come back
                for ruler in self._rulers.pop(None, []):
                    ruler.remove()
            else:
                for ruler in self._rulers.get(self._key, []):
                    ruler.set_visible(False)
            self._key = key
        for ruler in self._current():
            ruler.set_visible(True)
            self._update_label(ruler)  # the calibration or the flip may have changed

    def _on_tool_drag(self, drag: ToolDrag) -> None:
        """Draw a ruler from the press to the cursor; report it on release."""
        if drag.mode is not MouseMode.MEASURE or not self.viewport.has_image():
            return
        if drag.phase is DragPhase.START or self._drawing is None:
            self._drawing = self._add(drag.start, drag.current)
        else:
            self._drawing.roi.move_end(1, drag.current)
        if drag.phase is DragPhase.FINISH:
            ruler, self._drawing = self._drawing, None
            self.measured.emit(self._measure(ruler))
