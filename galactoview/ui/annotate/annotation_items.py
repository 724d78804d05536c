"""AnnotationLayer: the findings, duct segments and nipple landmark drawn on a :class:`Viewport`.

Every mark is a graphics child of :attr:`Viewport.image_item`, so its coordinates are
the SCOORD pixel coordinates of the stored image (PS3.3 C.18.6.1.2: column, row,
origin at the top-left corner of the top-left pixel) and it follows zoom, pan and the
hanging flip. Lines use cosmetic pens (widths in device pixels) over a black
underlay, so they stay readable on any grayscale; markers (the POINT arrow, duct
vertices, the nipple) and labels (:class:`pyqtgraph.TextItem`) ignore the item
transform and are never mirrored.

Graphic types (PS3.3 C.18.6.1.2): POINT is an arrow pointing at the point; CIRCLE
is its centre and a perimeter point; ELLIPSE is the end points of the major axis,
then of the minor axis, drawn rotated; POLYLINE is open or closed (the first point
repeated). Duct segments are thicker open polylines with their vertices; the nipple
landmark is a ringed marker labelled "N"; a suggested one not accepted yet
(:attr:`NippleLandmark.confirmed` False) is a hollow ring with a dashed outline labelled
"N?" until the reader drags it or accepts the suggestions (Shift+A).

Labels: every label of the view (these and the rulers') is placed by
:class:`~galactoview.ui.viewer.view_labels.ViewLabels`: no overlaps, clear of the marks,
inside the cell, with a leader line when moved away from its mark, hidden below a scale
(the marks stay); placed again when the view or the marks change.

Selection (the tracking UID in :attr:`AnnotationWorkspace.selected`) is chosen by a
click on a mark in the ANNOTATE mouse mode with the SELECT tool
(:class:`~galactoview.ui.annotate.annotation_tools.AnnotationToolController` uses
:meth:`AnnotationLayer.mark_at`) or from the findings dock; this layer only shows
it: the selected mark is drawn thicker with a filled label, and gets handles. The
handles and the body of the selected mark, and the nipple marker, can be dragged in
every mouse mode; the release commits ONE undoable workspace edit
(``replace_finding``, ``replace_duct_segment`` or ``set_landmark``) with the
measurements recomputed with :attr:`Viewport.calibration`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

# isort: split
# pyqtgraph must come after PySide6 so that it binds to PySide6.
import pyqtgraph as pg

from galactoview.annotations.geometry import measure_region, path_length_measurement
from galactoview.annotations.model import (
    AnnotationSet,
    DuctSegment,
    Finding,
    GraphicType,
    ImageRegion,
    NippleLandmark,
)
from galactoview.location.describe import describe_finding, value_text
from galactoview.ui.annotate.annotation_workspace import AnnotationWorkspace
from galactoview.ui.annotate.finding_palette import DUCT_COLOUR, FINDING_COLOURS, NIPPLE_COLOUR
from galactoview.ui.viewer.view_labels import (
    MarkLabel,
    marker_rect,
    marker_target,
    scene_points,
    view_labels,
)
from galactoview.ui.viewer.viewport import Viewport

__all__ = [
    "NIPPLE_KEY",
    "SUGGESTED_NIPPLE_LABEL",
    "AnnotationLayer",
    "distance_to_outline",
    "ellipse_geometry",
    "hit_test",
    "label_text",
    "outline",
    "polyline_path",
    "region_frame",
    "regularized_ellipse",
    "shape_outline",
]

Point = tuple[float, float]

#: Underlay drawn below every line so it shows on bright and dark pixels alike.
SHADOW_COLOR: Final = QColor(0, 0, 0, 200)
LABEL_FILL: Final = QColor(0, 0, 0, 170)
#: Line widths in device pixels: finding, duct segment; +1 when selected.
LINE_WIDTH: Final = 2.0
DUCT_WIDTH: Final = 3.0
#: Default tolerance of :meth:`AnnotationLayer.mark_at`, in screen pixels.
HIT_TOLERANCE_PX: Final = 6.0
#: Key of the nipple landmark in :meth:`AnnotationLayer.items_for`.
NIPPLE_KEY: Final = "nipple"
#: Points sampled on the outline of an ellipse or circle.
ELLIPSE_SAMPLES: Final = 72
#: Z value of the marks above the image (and below the rulers' default 0 + handles).
MARK_Z: Final = 10.0
#: Label of a suggested nipple not accepted yet (a confirmed one reads "N").
SUGGESTED_NIPPLE_LABEL: Final = "N?"


# --------------------------------------------------------------------- geometry


def region_frame(viewport: Viewport) -> int | None:
    """Return the Referenced Frame Number of the frame a viewport shows.

    Parameters
    ----------
    viewport
        The viewport.

    Returns
    -------
    int or None
        ``viewport.frame + 1`` (1-based, PS3.3 C.18.6) for a multi-frame image,
        ``None`` for a single-frame image or no image.
    """
    record = viewport.record
    if record is None or record.frame_count <= 1:
        return None
    return viewport.frame + 1


def ellipse_geometry(points: Sequence[Point]) -> tuple[Point, float, float, float]:
    """Return the centre, semi-axes and rotation of a DICOM ELLIPSE.

    Parameters
    ----------
    points
        Major axis end points, then minor axis end points (PS3.3 C.18.6.1.2).

    Returns
    -------
    tuple
        ``(centre, a, b, angle)``: the centre (midpoint of the major axis), the half
        lengths of the first and second axis, and the angle of the first axis from
        the column direction, in radians.
    """
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points[:4]
    centre = ((x0 + x1) / 2.0, (y0 + y1) / 2.0)
    a = math.hypot(x1 - x0, y1 - y0) / 2.0
    b = math.hypot(x3 - x2, y3 - y2) / 2.0
    return centre, a, b, math.atan2(y1 - y0, x1 - x0)


def outline(region: ImageRegion) -> tuple[Point, ...]:
    """Return the outline of a region as a polyline in SCOORD coordinates.

    Parameters
    ----------
    region
        The region.

    Returns
    -------
    tuple of Point
        See :func:`shape_outline`.
    """
    return shape_outline(region.graphic_type, region.points)


def shape_outline(kind: GraphicType, points: Sequence[Point]) -> tuple[Point, ...]:
    """Return the outline of a graphic (not validated: also for shapes being drawn).

    Parameters
    ----------
    kind
        The graphic type.
    points
        Its points (PS3.3 C.18.6.1.2).

    Returns
    -------
    tuple of Point
        A POINT gives its point; a CIRCLE (centre, perimeter point) or ELLIPSE
        (major axis ends, minor axis ends) a closed polygon of
        :data:`ELLIPSE_SAMPLES` sides (the first point repeated); a POLYLINE its points.
    """
    if kind is GraphicType.CIRCLE:
        (cx, cy), (px, py) = points[:2]
        radius = math.hypot(px - cx, py - cy)
        return _ellipse_polygon((cx, cy), radius, radius, 0.0)
    if kind is GraphicType.ELLIPSE:
        return _ellipse_polygon(*ellipse_geometry(points))
    return tuple(points)


def _ellipse_polygon(centre: Point, a: float, b: float, angle: float) -> tuple[Point, ...]:
    cos_t, sin_t = math.cos(angle), math.sin(angle)
    result = []
    for i in range(ELLIPSE_SAMPLES + 1):
        t = 2.0 * math.pi * (i % ELLIPSE_SAMPLES) / ELLIPSE_SAMPLES
        u, v = a * math.cos(t), b * math.sin(t)
        result.append((centre[0] + u * cos_t - v * sin_t, centre[1] + u * sin_t + v * cos_t))
    return tuple(result)


def _segment_distance(p: Point, a: Point, b: Point) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0.0 else ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2
    t = min(1.0, max(0.0, t))
    return math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy))


def distance_to_outline(position: Point, points: Sequence[Point]) -> float:
    """Return the distance from a point to a polyline (or to its only point).

    Parameters
    ----------
    position
        The point.
    points
        The polyline, at least one point.

    Returns
    -------
    float
        The distance, in the units of the coordinates.
    """
    if len(points) == 1:
        return math.hypot(position[0] - points[0][0], position[1] - points[0][1])
    return min(
        _segment_distance(position, points[i], points[i + 1]) for i in range(len(points) - 1)
    )


def _inside(position: Point, polygon: Sequence[Point]) -> bool:
    """Return whether a point is inside a closed polygon (even-odd rule)."""
    x, y = position
    inside = False
    for i in range(len(polygon) - 1):
        (x0, y0), (x1, y1) = polygon[i], polygon[i + 1]
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def hit_test(
    annotations: AnnotationSet,
    sop_instance_uid: str,
    frame: int | None,
    position: Point,
    tolerance: float,
) -> str | None:
    """Return the tracking UID of the mark at a position of an image, None if none.

    Parameters
    ----------
    annotations
        The study's annotations.
    sop_instance_uid, frame
        The image (1-based frame or None).
    position
        SCOORD ``(column, row)``.
    tolerance
        How far from a line (or a point) still hits it, in image pixels.

    Returns
    -------
    str or None
        The nearest finding or duct segment within the tolerance; when none is,
        the smallest closed finding (circle, ellipse, closed polyline) containing
        the position.
    """
    best: tuple[float, str] | None = None
    containing: tuple[float, str] | None = None
    candidates: list[tuple[str, ImageRegion]] = [
        (f.tracking_uid, r)
        for f in annotations.findings
        for r in f.regions
        if (r.sop_instance_uid, r.frame) == (sop_instance_uid, frame)
    ]
    candidates += [
        (s.tracking_uid, s.region)
        for s in annotations.duct_segments
        if (s.region.sop_instance_uid, s.region.frame) == (sop_instance_uid, frame)
    ]
    for uid, region in candidates:
        points = outline(region)
        distance = distance_to_outline(position, points)
        if distance <= tolerance and (best is None or distance < best[0]):
            best = (distance, uid)
        closed = region.graphic_type in (GraphicType.CIRCLE, GraphicType.ELLIPSE)
        if (closed or region.is_closed) and _inside(position, points):
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            size = (max(xs) - min(xs)) * (max(ys) - min(ys))
            if containing is None or size < containing[0]:
                containing = (size, uid)
    if best is not None:
        return best[1]
    return containing[1] if containing is not None else None


def regularized_ellipse(points: Sequence[Point], moved: int) -> tuple[Point, ...]:
    """Return an ELLIPSE after one of its four axis end points was dragged.

    The centre stays: the opposite end of the dragged axis moves symmetrically, and
    the other axis turns to stay perpendicular, keeping its length.

    Parameters
    ----------
    points
        The four points, ``points[moved]`` already at its new place.
    moved
        Index of the dragged point (0, 1: major axis; 2, 3: minor axis).

    Returns
    -------
    tuple of Point
        Four points: major axis ends, then minor axis ends.
    """
    p = [tuple(q) for q in points]
    first, second = (0, 1) if moved in (0, 1) else (2, 3)
    other = (2, 3) if first == 0 else (0, 1)
    cx = (p[other[0]][0] + p[other[1]][0]) / 2.0
    cy = (p[other[0]][1] + p[other[1]][1]) / 2.0
    mx, my = p[moved]
    opposite = second if moved == first else first
    p[opposite] = (2.0 * cx - mx, 2.0 * cy - my)
    half = math.hypot(p[other[1]][0] - p[other[0]][0], p[other[1]][1] - p[other[0]][1]) / 2.0
    dx, dy = mx - cx, my - cy
    length = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / length * half, dx / length * half
    old_x, old_y = p[other[1]][0] - p[other[0]][0], p[other[1]][1] - p[other[0]][1]
    if nx * old_x + ny * old_y < 0.0:  # keep the other axis's direction (its end order)
        nx, ny = -nx, -ny
    p[other[0]] = (cx - nx, cy - ny)
    p[other[1]] = (cx + nx, cy + ny)
    return tuple((max(0.0, x), max(0.0, y)) for x, y in p)


# ----------------------------------------------------------------------- labels


def label_text(finding: Finding, region_index: int = 0) -> str:
    """Return the label of a finding's region: short id and the region's size.

    Parameters
    ----------
    finding
        The finding.
    region_index
        Which region.

    Returns
    -------
    str
        ``"FD-1 4.9 mm"`` (:meth:`~galactoview.location.describe.FindingDescription.mark_label`:
        ELLIPSE long axis, CIRCLE diameter, closed POLYLINE area, open POLYLINE path
        length); the short id alone for a POINT or an uncalibrated region.
    """
    return describe_finding(finding).mark_label(region_index)


def _segment_label(segment: DuctSegment) -> str:
    if segment.path_length is None:
        return segment.short_id
    return f"{segment.short_id} {value_text(segment.path_length)}"


# ---------------------------------------------------------------- graphics items


def _cosmetic_pen(color: QColor, width: float) -> QPen:
    pen = QPen(color, width)
    pen.setCosmetic(True)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def polyline_path(points: Sequence[Point]) -> QPainterPath:
    """Return the open path through ``points`` (empty for none)."""
    path = QPainterPath()
    if points:
        path.moveTo(QPointF(*points[0]))
        for point in points[1:]:
            path.lineTo(QPointF(*point))
    return path


class _ScreenMarker(QGraphicsPathItem):
    """A marker of a fixed size in device pixels at an item point (never mirrored)."""

    def __init__(self, parent: QGraphicsItem, point: Point, shape: str, color: QColor) -> None:
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
        path = QPainterPath()
        if shape == "arrow":  # tip at the point, tail up-left on the screen
            path.moveTo(0.0, 0.0)
            path.lineTo(-7.0, -15.0)
            path.lineTo(-3.0, -13.0)
            path.lineTo(-12.0, -24.0)
            path.lineTo(-24.0, -12.0)
            path.lineTo(-13.0, -3.0)
            path.lineTo(-15.0, -7.0)
            path.closeSubpath()
        elif shape == "ring":
            path.addEllipse(QPointF(0.0, 0.0), 8.0, 8.0)
            path.addEllipse(QPointF(0.0, 0.0), 2.5, 2.5)
        else:  # a square vertex
            path.addRect(QRectF(-3.0, -3.0, 6.0, 6.0))
        self.setPath(path)
        self.setPos(QPointF(*point))
        #: Drawn as a suggestion (hollow, dashed outline) until the reader accepts it.
        self.suggested = False
        self._color = color
        self.set_color(color, 1.5)

    def set_color(self, color: QColor, width: float) -> None:
        """Fill with `color`, outlined in black `width` pixels wide (suggested: hollow, dashed)."""
        self._color = color
        if self.suggested:
            pen = _cosmetic_pen(color, width + 0.5)
            pen.setStyle(Qt.PenStyle.DashLine)
            self.setBrush(QBrush(Qt.BrushStyle.NoBrush))
            self.setPen(pen)
            return
        self.setBrush(QBrush(color))
        self.setPen(_cosmetic_pen(SHADOW_COLOR, width))

    def set_suggested(self, suggested: bool) -> None:
        """Draw as a suggestion or as a confirmed mark."""
        self.suggested = suggested
        self.set_color(self._color, 1.5)


@dataclass(slots=True)
class _Mark:
    """The graphics of one finding region, duct segment or the nipple."""

    key: str
    color: QColor
    width: float
    lines: list[QGraphicsPathItem]
    markers: list[_ScreenMarker]
    label: pg.TextItem
    #: The outline (SCOORD) the label must not cover.
    shape: tuple[Point, ...] = ()
    #: Placement order of the label (lower first; the selected mark goes first anyway).
    priority: int = 1

    def items(self) -> list[QGraphicsItem]:
        return [*self.lines, *self.markers, self.label]

    def set_selected(self, selected: bool) -> None:
        width = self.width + (1.5 if selected else 0.0)
        if self.lines:
            shadow, line = self.lines
            shadow.setPen(_cosmetic_pen(SHADOW_COLOR, width + 2.0))
            line.setPen(_cosmetic_pen(self.color, width))
        for marker in self.markers:
            marker.set_color(self.color, 2.5 if selected else 1.5)
        self.label.fill = pg.mkBrush(self.color if selected else LABEL_FILL)
        self.label.setColor(QColor(0, 0, 0) if selected else self.color)
        self.label.update()

    def set_points(self, points: Sequence[Point]) -> None:
        """Redraw the lines through new outline points (live reshape)."""
        path = polyline_path(points)
        for line in self.lines:
            line.setPath(path)
        self.shape = tuple(points)

    def remove(self) -> None:
        for item in self.items():
            scene = item.scene()
            if scene is not None:
                scene.removeItem(item)
            else:
                item.setParentItem(None)


class _ShapeEditor(pg.ROI):  # type: ignore[misc]
    """Handles on the points of a region; dragging the outline moves the whole region.

    The ROI itself paints nothing (the mark is drawn by the layer); its shape is the
    outline widened by a few device pixels (and the inside of closed shapes), so a
    drag on the mark translates it. Free handles sit on the region's points.
    """

    def __init__(
        self,
        parent: QGraphicsItem,
        points: Sequence[Point],
        closed_shape: bool,
        color: QColor,
        movable: bool,
    ) -> None:
        super().__init__(
            (0.0, 0.0),
            size=(1.0, 1.0),
            parent=parent,
            pen=pg.mkPen(None),
            handlePen=pg.mkPen(color, width=2),
            handleHoverPen=pg.mkPen(color.lighter(140), width=3),
            movable=movable,
            rotatable=False,
            resizable=False,
        )
        self.setZValue(MARK_Z + 1.0)
        #: Whether a drag on the body (not a handle) may move the mark now.
        self.body_drag_enabled: Callable[[], bool] = lambda: True
        self._closed_shape = closed_shape
        self._outline: tuple[Point, ...] = tuple(points)
        for point in points:
            self.addFreeHandle(pos=point)

    def points(self) -> tuple[Point, ...]:
        """Return the handle positions in the parent's (SCOORD) coordinates."""
        result = []
        for handle in self.getHandles():
            point = self.mapToParent(handle.pos())
            result.append((float(point.x()), float(point.y())))
        return tuple(result)

    def set_points(self, points: Sequence[Point]) -> None:
        """Place the handles at parent points without a change signal."""
        blocked = self.blockSignals(True)
        try:
            for handle, point in zip(self.getHandles(), points, strict=True):
                self.movePoint(handle, QPointF(*point), finish=False, coords="parent")
        finally:
            self.blockSignals(blocked)

    def set_outline(self, points: Sequence[Point]) -> None:
        """Set the outline (in parent coordinates) the shape follows."""
        self.prepareGeometryChange()
        self._outline = tuple(points)

    def shape(self) -> QPainterPath:
        """Return the outline widened by 5 device pixels, plus the inside of closed shapes."""
        offset = self.mapFromParent(QPointF(0.0, 0.0))
        local = [(x + offset.x(), y + offset.y()) for x, y in self._outline]
        path = polyline_path(local)
        stroker = QPainterPathStroker()
        pixel = self.pixelLength(pg.Point(1.0, 0.0)) if self.scene() is not None else None
        stroker.setWidth(10.0 * (float(pixel) if pixel else 1.0))
        shape = stroker.createStroke(path)
        if self._closed_shape and len(local) > 2:
            shape.addPolygon(path.toFillPolygon())
        return shape

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt)
        """Return the bounds of :meth:`shape`."""
        return self.shape().boundingRect()

    def paint(self, painter: QPainter, *args: Any) -> None:
        """Draw nothing: the layer draws the mark."""

    def hoverEvent(self, ev: Any) -> None:  # noqa: N802 (pyqtgraph)
        """Offer to take drags while body drags are enabled; never take the clicks.

        Clicks pass on to the view, so the SELECT tool can pick a mark drawn over
        the selected one.
        """
        hover = (
            not ev.isExit()
            and self.body_drag_enabled()
            and bool(ev.acceptDrags(Qt.MouseButton.LeftButton))
        )
        self.setMouseHover(hover)

    def mouseDragEvent(self, ev: Any) -> None:  # noqa: N802 (pyqtgraph)
        """Move the whole mark, unless body drags are disabled (the drag goes on to the view)."""
        if ev.isStart() and not self.body_drag_enabled():
            ev.ignore()
            return
        super().mouseDragEvent(ev)


# ------------------------------------------------------------------------ layer


@dataclass(frozen=True, slots=True)
class _Target:
    """What an editor changes: a finding's region, a duct segment or the nipple."""

    key: str
    region: ImageRegion
    region_index: int = 0


class AnnotationLayer(QObject):
    """Draws the annotations of the image a :class:`Viewport` shows, and edits them by handles.

    The marks are rebuilt when the workspace changes for the viewport's study, when
    the viewport shows another image (or frame), and restyled when the selection
    changes. Drags of the selected mark's handles or body, or of the nipple marker,
    commit one undoable edit on release (after the event: the commit is queued).

    Parameters
    ----------
    viewport
        The viewport drawn on.
    workspace
        The annotations.
    """

    def __init__(self, viewport: Viewport, workspace: AnnotationWorkspace) -> None:
        super().__init__(viewport)
        self.viewport = viewport
        self.workspace = workspace
        self._marks: dict[str, list[_Mark]] = {}
        self._editors: dict[str, tuple[_ShapeEditor, _Target]] = {}
        self._adjusting = False
        self._body_drag_rule: Callable[[], bool] = lambda: True
        workspace.changed.connect(self._on_workspace_changed)
        workspace.selection_changed.connect(self._on_selection_changed)
        viewport.image_changed.connect(self.rebuild)
        self._labels = view_labels(viewport)
        self._labels.add_provider(self._mark_labels)
        self._labels.add_obstacles(self._marker_rects)
        self.rebuild()

    # --- test hooks and public API ----------------------------------------------------

    def nipple_suggested(self) -> bool | None:
        """Return whether the nipple drawn is shown as a suggestion, None without one."""
        marks = self._marks.get(NIPPLE_KEY)
        if not marks or not marks[0].markers:
            return None
        return marks[0].markers[0].suggested

    def items_for(self, key: str) -> list[QGraphicsItem]:
        """Return the graphics items of a mark (a tracking UID, or :data:`NIPPLE_KEY`).

        Parameters
        ----------
        key
            Tracking UID of a finding or duct segment, or ``NIPPLE_KEY``.

        Returns
        -------
        list of QGraphicsItem
            Lines, markers and labels (empty when not on the image shown).
        """
        return [item for mark in self._marks.get(key, []) for item in mark.items()]

    def label_items(self) -> list[pg.TextItem]:
        """Return the label items of every mark drawn."""
        return [mark.label for marks in self._marks.values() for mark in marks]

    def label_texts(self) -> list[str]:
        """Return the texts of every label drawn (sorted)."""
        return sorted(str(label.toPlainText()) for label in self.label_items())

    def marked_keys(self) -> tuple[str, ...]:
        """Return the keys of the marks drawn (tracking UIDs and :data:`NIPPLE_KEY`)."""
        return tuple(self._marks)

    def handle_points(self, key: str) -> tuple[Point, ...]:
        """Return the handle positions of a mark being edited (empty when it has none).

        Parameters
        ----------
        key
            The selected tracking UID or :data:`NIPPLE_KEY`.

        Returns
        -------
        tuple of Point
            SCOORD positions.
        """
        editor = self._editors.get(key)
        return editor[0].points() if editor is not None else ()

    def move_handle(self, key: str, index: int, position: Point, *, finish: bool = True) -> None:
        """Drag a handle to a position as the mouse does (for tests and keyboard nudges).

        Parameters
        ----------
        key
            The selected tracking UID or :data:`NIPPLE_KEY`.
        index
            Which handle (the region's point order).
        position
            SCOORD position.
        finish
            Release the handle: commit the edit (queued).
        """
        editor, _target = self._editors[key]
        editor.movePoint(editor.getHandles()[index], QPointF(*position), finish=finish)

    def translate_mark(self, key: str, offset: Point) -> None:
        """Drag the selected mark's body by an offset, as the mouse does, and release.

        Parameters
        ----------
        key
            The selected tracking UID.
        offset
            (columns, rows) to move by.
        """
        editor, _target = self._editors[key]
        editor.translate(pg.Point(*offset), finish=True)

    def set_body_drag_rule(self, rule: Callable[[], bool]) -> None:
        """Decide when a drag on the selected mark's body moves it (handles always work).

        Parameters
        ----------
        rule
            Asked at the start of each drag; the tool controller makes it "in the
            SELECT tool or outside the ANNOTATE mode", so drawing tools can start a
            new shape over a selected one.
        """
        self._body_drag_rule = rule
        for editor, _target in self._editors.values():
            editor.body_drag_enabled = rule

    def mark_at(self, position: Point, tolerance_px: float = HIT_TOLERANCE_PX) -> str | None:
        """Return the finding or duct segment at a position of the image shown.

        Parameters
        ----------
        position
            SCOORD ``(column, row)``.
        tolerance_px
            How close to a line counts, in screen pixels.

        Returns
        -------
        str or None
            Its tracking UID (see :func:`hit_test`).
        """
        record = self.viewport.record
        if record is None or not self.viewport.has_image():
            return None
        per_pixel = self.viewport.image_pixels_per_screen_pixel() or 1.0
        return hit_test(
            self.workspace.annotations(record.study_instance_uid),
            record.sop_instance_uid,
            region_frame(self.viewport),
            position,
            tolerance_px * per_pixel,
        )

    def delete_selected(self) -> bool:
        """Delete the selected finding or duct segment (with its branches), undoable.

        Returns
        -------
        bool
            Whether something was deleted.
        """
        selected = self.workspace.selected
        if selected is None or self.workspace.study_of(selected) is None:
            return False
        self.workspace.remove(selected)
        return True

    def rebuild(self) -> None:
        """Redraw every mark of the image (frame) shown."""
        for marks in self._marks.values():
            for mark in marks:
                mark.remove()
        for editor, _target in self._editors.values():
            self._remove_item(editor)
        self._marks.clear()
        self._editors.clear()
        record = self.viewport.record
        if record is None or not self.viewport.has_image():
            return
        annotations = self.workspace.annotations(record.study_instance_uid)
        image = (record.sop_instance_uid, region_frame(self.viewport))
        for finding in annotations.findings:
            for index, region in enumerate(finding.regions):
                if (region.sop_instance_uid, region.frame) == image:
                    color = FINDING_COLOURS[finding.finding_type]
                    mark = self._draw(finding.tracking_uid, region, color, LINE_WIDTH, False)
                    mark.label.setText(label_text(finding, index))
        for segment in annotations.duct_segments:
            if (segment.region.sop_instance_uid, segment.region.frame) == image:
                mark = self._draw(
                    segment.tracking_uid, segment.region, DUCT_COLOUR, DUCT_WIDTH, True
                )
                mark.label.setText(_segment_label(segment))
        landmark = annotations.landmark(*image)
        if landmark is not None:
            mark = self._draw(NIPPLE_KEY, landmark.region, NIPPLE_COLOUR, LINE_WIDTH, False)
            mark.label.setText("N" if landmark.confirmed else SUGGESTED_NIPPLE_LABEL)
            for marker in mark.markers:
                marker.set_suggested(not landmark.confirmed)
            self._add_editor(_Target(NIPPLE_KEY, landmark.region), NIPPLE_COLOUR, movable=False)
        self._on_selection_changed(self.workspace.selected)
        self._labels.place_now()

    # --- drawing ----------------------------------------------------------------------

    def _draw(
        self, key: str, region: ImageRegion, color: QColor, width: float, vertices: bool
    ) -> _Mark:
        parent = self.viewport.image_item
        lines: list[QGraphicsPathItem] = []
        markers: list[_ScreenMarker] = []
        points = outline(region)
        if region.graphic_type is GraphicType.POINT:
            shape = "ring" if key == NIPPLE_KEY else "arrow"
            markers.append(_ScreenMarker(parent, points[0], shape, color))
        else:
            path = polyline_path(points)
            for _ in range(2):
                line = QGraphicsPathItem(path, parent)
                line.setZValue(MARK_Z)
                lines.append(line)
            if vertices:
                markers += [_ScreenMarker(parent, p, "square", color) for p in region.points]
        for marker in markers:
            marker.setZValue(MARK_Z + 0.5)
        label = pg.TextItem("", color=color, fill=pg.mkBrush(LABEL_FILL))
        label.setParentItem(parent)
        label.setZValue(MARK_Z + 0.5)
        priority = 3 if key == NIPPLE_KEY else 2 if vertices else 1
        mark = _Mark(key, color, width, lines, markers, label, points, priority)
        self._place_label(mark, region.graphic_type, points)
        mark.set_selected(False)
        self._marks.setdefault(key, []).append(mark)
        return mark

    def _mark_labels(self) -> list[MarkLabel]:
        """Return the labels of the marks drawn, for :class:`ViewLabels` to place."""
        parent = self.viewport.image_item
        selected = self.workspace.selected
        result = []
        for key, marks in self._marks.items():
            for index, mark in enumerate(marks):
                if not mark.shape:
                    continue
                points = scene_points(parent, mark.shape)
                target = marker_target(points, (marker_rect(m) for m in mark.markers))
                result.append(
                    MarkLabel(
                        f"{key}#{index}",
                        mark.label,
                        target,
                        points,
                        0 if key == selected else mark.priority,
                        mark.color,
                    )
                )
        return result

    def _marker_rects(self) -> list[QRectF]:
        """Return the screen-sized markers (point arrows, nipple rings) labels must not cover.

        A marker is larger than the clearance kept around a mark's points: a label placed
        just clear of the nipple's point was still under its ring (tester).
        """
        return [
            marker_rect(marker).adjusted(-2.0, -2.0, 2.0, 2.0)
            for marks in self._marks.values()
            for mark in marks
            for marker in mark.markers
            if marker.isVisible()
        ]

    def _place_label(self, mark: _Mark, kind: GraphicType, points: Sequence[Point]) -> None:
        """Put the label at the outline point furthest right on the screen (after the flip).

        Where it starts (and stays while a mark is reshaped); :class:`ViewLabels` then
        places all the labels of the view together.
        """
        # Every 4th point of a long outline is enough for a starting place (an ellipse's
        # outline has 64: mapping each through pyqtgraph was a third of opening 50 marks).
        step = max(1, len(points) // 16)
        candidates = list(points[::step])
        on_screen = [self.viewport.map_image_to_view(*p) for p in candidates]
        index = max(range(len(candidates)), key=lambda i: (on_screen[i][0], -on_screen[i][1]))
        if kind is GraphicType.POINT:
            mark.label.setAnchor((-0.25, -0.2))  # below right of the marker's tip
        else:
            mark.label.setAnchor((-0.08, 1.0))  # above right of the outline
        mark.label.setPos(QPointF(*candidates[index]))

    def _on_workspace_changed(self, study_instance_uid: str) -> None:
        record = self.viewport.record
        if record is not None and record.study_instance_uid == study_instance_uid:
            self.rebuild()

    def _on_selection_changed(self, selected: object) -> None:
        for key in [k for k in self._editors if k != NIPPLE_KEY]:
            editor, _target = self._editors.pop(key)
            self._remove_item(editor)
        for key, marks in self._marks.items():
            for mark in marks:
                mark.set_selected(key == selected)
        self._labels.schedule()  # the selected mark's label is placed first
        if isinstance(selected, str) and selected in self._marks:
            target = self._target_of(selected)
            if target is not None:
                color = self._marks[selected][0].color
                self._add_editor(target, color, movable=True)

    # --- editing ----------------------------------------------------------------------

    def _target_of(self, uid: str) -> _Target | None:
        record = self.viewport.record
        if record is None:
            return None
        annotations = self.workspace.annotations(record.study_instance_uid)
        image = (record.sop_instance_uid, region_frame(self.viewport))
        for finding in annotations.findings:
            if finding.tracking_uid == uid:
                for index, region in enumerate(finding.regions):
                    if (region.sop_instance_uid, region.frame) == image:
                        return _Target(uid, region, index)
        for segment in annotations.duct_segments:
            if segment.tracking_uid == uid:
                return _Target(uid, segment.region)
        return None

    @staticmethod
    def _handle_points(region: ImageRegion) -> tuple[Point, ...]:
        """Return the points that get a handle (a closed polyline's last point is its first)."""
        return region.points[:-1] if region.is_closed else region.points

    def _add_editor(self, target: _Target, color: QColor, *, movable: bool) -> None:
        region = target.region
        closed = region.graphic_type in (GraphicType.CIRCLE, GraphicType.ELLIPSE)
        editor = _ShapeEditor(
            self.viewport.image_item,
            self._handle_points(region),
            closed or region.is_closed,
            color,
            movable,
        )
        editor.set_outline(outline(region))
        editor.body_drag_enabled = self._body_drag_rule
        self._editors[target.key] = (editor, target)
        last: list[tuple[Point, ...]] = [editor.points()]
        editor.sigRegionChanged.connect(lambda *_: self._on_editor_changed(target.key, last))
        editor.sigRegionChangeFinished.connect(lambda *_: self._on_editor_finished(target.key))

    def _region_from(self, target: _Target, points: tuple[Point, ...]) -> ImageRegion | None:
        """Return the region a target's editor now describes, None if invalid."""
        region = target.region
        points = tuple((max(0.0, x), max(0.0, y)) for x, y in points)
        if region.is_closed:
            points = (*points, points[0])
        try:
            return replace(region, points=points)
        except ValueError:
            return None

    def _on_editor_changed(self, key: str, last: list[tuple[Point, ...]]) -> None:
        """Follow a handle (or body) drag live: regularize an ellipse, redraw the lines."""
        if self._adjusting or key not in self._editors:
            return
        editor, target = self._editors[key]
        points = editor.points()
        if target.region.graphic_type is GraphicType.ELLIPSE:
            moved = [i for i in range(4) if points[i] != last[0][i]]
            if len(moved) == 1:
                points = regularized_ellipse(points, moved[0])
                self._adjusting = True
                try:
                    editor.set_points(points)
                finally:
                    self._adjusting = False
        last[0] = points
        region = self._region_from(target, points)
        if region is None:
            return
        shape = outline(region)
        editor.set_outline(shape)
        for mark in self._marks.get(key, []):
            if len(mark.markers) == len(region.points) and mark.lines:  # duct vertices
                for marker, point in zip(mark.markers, region.points, strict=True):
                    marker.setPos(QPointF(*point))
            elif not mark.lines and mark.markers:  # a POINT or the nipple
                mark.markers[0].setPos(QPointF(*region.points[0]))
            mark.set_points(shape)
            self._place_label(mark, region.graphic_type, shape)
        self._labels.schedule()

    def _on_editor_finished(self, key: str) -> None:
        """Commit a finished drag, after the mouse event that finished it."""
        QTimer.singleShot(0, self, lambda: self._commit(key))

    def _commit(self, key: str) -> None:
        found = self._editors.get(key)
        record = self.viewport.record
        if found is None or record is None:
            return
        editor, target = found
        region = self._region_from(target, editor.points())
        if region is None or region == target.region:
            self.rebuild()  # back to the model's shape
            return
        study = record.study_instance_uid
        calibration = self.viewport.calibration
        if key == NIPPLE_KEY:
            self.workspace.set_landmark(
                study, NippleLandmark(region.sop_instance_uid, region.frame, region.points[0])
            )
            return
        annotations = self.workspace.annotations(study)
        if any(f.tracking_uid == key for f in annotations.findings):
            finding = annotations.finding(key)
            index = target.region_index
            regions = list(finding.regions)
            regions[index] = region
            kept = [m for m in finding.measurements if m.region_index != index]
            measured = measure_region(region, calibration, index)
            values = sorted((*kept, *measured), key=lambda m: m.region_index)
            self.workspace.replace_finding(
                replace(finding, regions=tuple(regions), measurements=tuple(values)),
                f"Reshape {finding.short_id}",
            )
        else:
            segment = annotations.duct_segment(key)
            length = path_length_measurement(region, calibration)
            self.workspace.replace_duct_segment(
                replace(segment, region=region, path_length=length),
                f"Reshape {segment.short_id}",
            )

    @staticmethod
    def _remove_item(item: QGraphicsItem) -> None:
        scene = item.scene()
        if scene is not None:
            scene.removeItem(item)
        else:
            item.setParentItem(None)
