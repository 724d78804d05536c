"""AnnotationToolController: drawing findings, duct traces and the nipple on a :class:`Viewport`.

The tools act in :attr:`MouseMode.ANNOTATE` only, on the viewport's
:attr:`~Viewport.tool_click` and :attr:`~Viewport.tool_drag` signals (real mouse
clicks and drags arrive through them, with SCOORD positions of the stored image, so
the hanging flip never changes the points recorded: PS3.3 C.18.6.1.2).

* SELECT: a click on a mark selects it (:meth:`AnnotationLayer.mark_at`), a click
  on nothing clears the selection.
* POINT: a click makes a POINT finding.
* CIRCLE: a drag from the centre to a perimeter point.
* ELLIPSE: a drag spans a bounding box; the ellipse is inscribed in it with its
  axes along the image axes; the longer side is the major axis (the four points
  are major axis ends, then minor axis ends). Rotate it afterwards with the handles.
* POLYLINE: clicks add vertices; a double click or :meth:`finish` (Enter) closes the
  region (the first point repeated); :meth:`cancel` (Escape) drops it.
* DUCT_TRACE: the same clicks make an open polyline, a :class:`DuctSegment`. A
  first click near a vertex of a traced segment (within :data:`SNAP_PX` screen
  pixels) starts a branch of that segment at that vertex; otherwise the segment is
  a root and, when the image has a nipple landmark within :data:`NIPPLE_SNAP_PX`,
  its first vertex is the nipple (the cannulated orifice).
* NIPPLE: a click places (or moves) the nipple landmark of the image.

A new finding first goes to :attr:`AnnotationToolController.finding_sink` (the findings
dock: while linking, its region joins the finding being linked; when it may be the other
view of a finding, the reader is asked "Same lesion as FD-1?").

New findings get the next short id of their type, the laterality of the view and
the measurements of :func:`~galactoview.annotations.geometry.measure_region` with
:attr:`Viewport.calibration` (none when uncalibrated); regions reference the image's
SOP Instance UID and, for multi-frame images, the 1-based frame shown. Every edit
goes through the :class:`AnnotationWorkspace` (one undoable command each).

Keys (the actions table, :mod:`galactoview.ui.shell.actions`, binds them): V select, M point,
Shift+E ellipse, Shift+O circle, Shift+P polyline, D duct trace, N nipple; Alt+1..8 the finding
types (the palette's); Enter :meth:`finish`, Escape :meth:`cancel`, Delete
:meth:`AnnotationLayer.delete_selected`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import StrEnum
from typing import Final

from PySide6.QtCore import QObject, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from galactoview.annotations.geometry import measure_region, path_length_measurement
from galactoview.annotations.model import (
    DuctSegment,
    Finding,
    FindingType,
    GraphicType,
    ImageRegion,
    NippleLandmark,
    is_valid_uid,
    next_segment_id,
    next_short_id,
)
from galactoview.dicom.calibration import Calibration
from galactoview.dicom.mammography import Laterality
from galactoview.location.landmarks import BreastRegion
from galactoview.ui.annotate.annotation_items import (
    HIT_TOLERANCE_PX,
    AnnotationLayer,
    hit_test,
    region_frame,
    shape_outline,
)
from galactoview.ui.annotate.annotation_workspace import AnnotationWorkspace
from galactoview.ui.annotate.finding_palette import FINDING_COLOURS
from galactoview.ui.viewer.viewport import DragPhase, MouseMode, ToolClick, ToolDrag, Viewport

__all__ = [
    "NIPPLE_SNAP_PX",
    "SNAP_PX",
    "AnnotationTool",
    "AnnotationToolController",
    "ellipse_in_box",
]

Point = tuple[float, float]


class AnnotationTool(StrEnum):
    """What a click or drag does in the ANNOTATE mouse mode."""

    SELECT = "select"
    POINT = "point"
    ELLIPSE = "ellipse"
    CIRCLE = "circle"
    POLYLINE = "polyline"
    DUCT_TRACE = "duct trace"
    NIPPLE = "nipple"


#: A branch starts at a segment vertex clicked within this many screen pixels.
SNAP_PX: Final = 8.0
#: A root trace starts at the nipple landmark clicked within this many screen pixels.
NIPPLE_SNAP_PX: Final = 15.0
#: Drags shorter than this many screen pixels make no circle or ellipse.
MIN_DRAG_PX: Final = 3.0
#: Text of OTHER findings until the reader describes them.
DEFAULT_OTHER_TEXT: Final = "Other finding"
PREVIEW_COLOR: Final = QColor(255, 255, 255)


def ellipse_in_box(start: Point, end: Point) -> tuple[Point, Point, Point, Point]:
    """Return the DICOM ELLIPSE inscribed in a box, axes along the image axes.

    Parameters
    ----------
    start, end
        Opposite corners, SCOORD.

    Returns
    -------
    tuple of Point
        Major axis ends, then minor axis ends (PS3.3 C.18.6.1.2); the longer side of
        the box is the major axis (the horizontal one for a square).
    """
    (x0, y0), (x1, y1) = start, end
    left, right = min(x0, x1), max(x0, x1)
    top, bottom = min(y0, y1), max(y0, y1)
    cx, cy = (left + right) / 2.0, (top + bottom) / 2.0
    horizontal = ((left, cy), (right, cy))
    vertical = ((cx, top), (cx, bottom))
    if right - left >= bottom - top:
        return (*horizontal, *vertical)
    return (*vertical, *horizontal)


class AnnotationToolController(QObject):
    """The annotation tool of one :class:`Viewport` and the finding type it draws.

    Parameters
    ----------
    viewport
        The viewport drawn on.
    workspace
        Where the annotations go.
    layer
        The viewport's :class:`AnnotationLayer`, if any: a drag on its selected
        mark's body then moves the mark only when :meth:`body_drag_allowed`.

    Attributes
    ----------
    observer
        Person recorded on new findings (DICOM PN), may be empty.

    Signals
    -------
    drawing_changed()
        The polyline or trace being drawn gained or lost a vertex, or was finished or
        dropped.
    tool_changed(object)
        The active :class:`AnnotationTool`.
    finding_type_changed(object)
        The active :class:`FindingType`.
    """

    drawing_changed = Signal()
    tool_changed = Signal(object)
    finding_type_changed = Signal(object)
    #: A mark was refused on this image: why, and the image's file (Problems panel).
    refused = Signal(str, object)
    #: A mark was taken but looks wrong (placed in air): what, and the image's file.
    warned = Signal(str, object)
    #: What a click did that the reader may not have meant (the status line).
    said = Signal(str)

    def __init__(
        self,
        viewport: Viewport,
        workspace: AnnotationWorkspace,
        layer: AnnotationLayer | None = None,
    ) -> None:
        super().__init__(viewport)
        self.viewport = viewport
        self.workspace = workspace
        self.observer = ""
        #: Asked first with each new finding (study, finding, calibration of the image):
        #: returns True when it took it — the findings dock adds its region to the finding
        #: being linked to another view, or asks whether it is the same lesion as one.
        self.finding_sink: Callable[[str, Finding, Calibration | None], bool] | None = None
        self._tool = AnnotationTool.SELECT
        self._finding_type = FindingType.INTRALUMINAL_FILLING_DEFECT
        self._pending: list[Point] = []
        self._parent_uid: str | None = None
        self._cursor: Point | None = None
        self._drag: tuple[Point, Point] | None = None
        self._breast: tuple[tuple[str, int | None], BreastRegion | None] | None = None
        self._preview = QGraphicsPathItem(viewport.image_item)
        self._preview.setZValue(20.0)
        pen = QPen(PREVIEW_COLOR, 1.5, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self._preview.setPen(pen)
        viewport.tool_click.connect(self._on_click)
        viewport.tool_drag.connect(self._on_drag)
        viewport.image_changed.connect(self.cancel)
        viewport.scene().sigMouseMoved.connect(self._on_mouse_moved)
        if layer is not None:
            layer.set_body_drag_rule(self.body_drag_allowed)

    # --- state ------------------------------------------------------------------------

    @property
    def tool(self) -> AnnotationTool:
        """Return the active tool."""
        return self._tool

    def set_tool(self, tool: AnnotationTool) -> None:
        """Choose the active tool (drops a drawing in progress).

        Parameters
        ----------
        tool
            The tool.
        """
        tool = AnnotationTool(tool)
        if tool is self._tool:
            return
        self.cancel()
        self._tool = tool
        self.tool_changed.emit(tool)

    @property
    def finding_type(self) -> FindingType:
        """Return the finding type new findings get."""
        return self._finding_type

    def set_finding_type(self, finding_type: FindingType) -> None:
        """Choose the finding type of new findings (the palette).

        Parameters
        ----------
        finding_type
            The type.
        """
        finding_type = FindingType(finding_type)
        if finding_type is not self._finding_type:
            self._finding_type = finding_type
            self._update_preview()
            self.finding_type_changed.emit(finding_type)

    def body_drag_allowed(self) -> bool:
        """Return whether a drag on the selected mark's body should move it now.

        Outside the ANNOTATE mode, or with the SELECT tool; the drawing tools need
        the drag to draw (the handles of the selected mark always work).
        """
        return self.viewport.mouse_mode is not MouseMode.ANNOTATE or (
            self._tool is AnnotationTool.SELECT
        )

    def pending_points(self) -> tuple[Point, ...]:
        """Return the vertices of the polyline or trace being drawn (SCOORD)."""
        return tuple(self._pending)

    def is_drawing(self) -> bool:
        """Return whether a polyline or trace is being drawn."""
        return bool(self._pending)

    # --- finishing ----------------------------------------------------------------------

    def finish(self) -> bool:
        """Finish the polyline (closed region) or duct trace being drawn (Enter).

        Returns
        -------
        bool
            Whether a finding or segment was made; a drawing with too few distinct
            vertices (3 for a region, 2 for a trace) stays in progress.
        """
        points = _without_repeats(self._pending)
        if self._tool is AnnotationTool.POLYLINE and len(points) >= 3:
            self._add_finding(GraphicType.POLYLINE, (*points, points[0]))
        elif self._tool is AnnotationTool.DUCT_TRACE and len(points) >= 2:
            self._add_segment(tuple(points))
        else:
            return False
        self._reset()
        return True

    def cancel(self) -> None:
        """Drop the polyline or trace being drawn (Escape)."""
        had = bool(self._pending) or self._drag is not None
        self._reset()
        if had:
            self.drawing_changed.emit()

    def _reset(self) -> None:
        changed = bool(self._pending)
        self._pending.clear()
        self._parent_uid = None
        self._drag = None
        self._update_preview()
        if changed:
            self.drawing_changed.emit()

    # --- events -------------------------------------------------------------------------

    def _active(self, mode: MouseMode) -> bool:
        record = self.viewport.record
        if mode is not MouseMode.ANNOTATE or not self.viewport.has_image() or record is None:
            return False
        # A mark names its study and image by UID in the SR (PS3.5 9.1); a file whose UIDs
        # are not UIDs can be viewed but not annotated.
        for name, uid in (
            ("Study Instance UID", record.study_instance_uid),
            ("SOP Instance UID", record.sop_instance_uid),
        ):
            if not is_valid_uid(uid):
                self.refused.emit(
                    f"marks cannot be made on this image: its {name} {uid[:80]!r} is not "
                    "a DICOM UID",
                    record.path,
                )
                return False
        return True

    def _on_click(self, click: ToolClick) -> None:
        if not self._active(click.mode):
            return
        position = click.position
        tool = self._tool
        if tool is AnnotationTool.SELECT:
            self.workspace.select(self._mark_at(position))
        elif tool is AnnotationTool.POINT and not click.double:
            self._add_finding(GraphicType.POINT, (position,))
        elif tool is AnnotationTool.NIPPLE and not click.double:
            self._set_nipple(position)
        elif tool in (AnnotationTool.POLYLINE, AnnotationTool.DUCT_TRACE):
            if click.double:
                self.finish()
            else:
                self._add_vertex(position)

    def _on_drag(self, drag: ToolDrag) -> None:
        if not self._active(drag.mode):
            return
        if self._tool is AnnotationTool.NIPPLE and drag.phase is DragPhase.FINISH:
            self._set_nipple(drag.current)
            return
        if self._tool not in (AnnotationTool.CIRCLE, AnnotationTool.ELLIPSE):
            return
        self._drag = (drag.start, drag.current)
        if drag.phase is not DragPhase.FINISH:
            self._update_preview()
            return
        self._drag = None
        self._update_preview()
        length = math.hypot(drag.current[0] - drag.start[0], drag.current[1] - drag.start[1])
        if length < MIN_DRAG_PX * self._image_pixels_per_screen_pixel():
            return
        if self._tool is AnnotationTool.CIRCLE:
            self._add_finding(GraphicType.CIRCLE, (drag.start, drag.current))
        else:
            self._add_finding(GraphicType.ELLIPSE, ellipse_in_box(drag.start, drag.current))

    def _on_mouse_moved(self, scene_position: QPointF) -> None:
        if not self._pending:
            return
        point = self.viewport.image_item.mapFromScene(scene_position)
        self._cursor = (float(point.x()), float(point.y()))
        self._update_preview()

    # --- helpers ------------------------------------------------------------------------

    def _image_pixels_per_screen_pixel(self) -> float:
        return self.viewport.image_pixels_per_screen_pixel() or 1.0

    def _image(self) -> tuple[str, str, int | None]:
        """Return (study UID, SOP Instance UID, region frame) of the image shown."""
        record = self.viewport.record
        assert record is not None
        return record.study_instance_uid, record.sop_instance_uid, region_frame(self.viewport)

    def _laterality(self) -> Laterality:
        record = self.viewport.record
        return record.view.laterality if record is not None else Laterality.UNKNOWN

    def _mark_at(self, position: Point) -> str | None:
        study, sop, frame = self._image()
        tolerance = HIT_TOLERANCE_PX * self._image_pixels_per_screen_pixel()
        return hit_test(self.workspace.annotations(study), sop, frame, position, tolerance)

    def _region(self, kind: GraphicType, points: tuple[Point, ...]) -> ImageRegion:
        _study, sop, frame = self._image()
        clamped = tuple((max(0.0, x), max(0.0, y)) for x, y in points)
        return ImageRegion(sop, frame, kind, clamped)

    def _add_finding(self, kind: GraphicType, points: tuple[Point, ...]) -> None:
        """Add a finding of the active type with one region (skipped if degenerate)."""
        study = self._image()[0]
        try:
            region = self._region(kind, points)
        except ValueError:
            return
        finding_type = self._finding_type
        findings = self.workspace.annotations(study).findings
        finding = Finding.new(
            finding_type,
            (region,),
            short_id=next_short_id(findings, finding_type),
            laterality=self._laterality(),
            other_text=DEFAULT_OTHER_TEXT if finding_type is FindingType.OTHER else "",
            measurements=measure_region(region, self.viewport.calibration),
            observer=self.observer,
        )
        self._warn_if_in_air(finding.short_id, points)
        sink = self.finding_sink
        if sink is not None and sink(study, finding, self.viewport.calibration):
            return
        self.workspace.add_finding(study, finding)

    def _warn_if_in_air(self, short_id: str, points: tuple[Point, ...]) -> None:
        """Say so when a finding's mark lies wholly outside the breast (in air).

        The mark is kept (the reader may mean it: a marker, a catheter tip); a mark in
        air is usually a slip of the mouse, and it would be located nowhere useful.
        """
        breast = self._breast_region()
        if breast is None or not breast.in_air(points):
            return
        record = self.viewport.record
        view = f"the {record.view.label}" if record is not None and record.view.label else "image"
        self.warned.emit(
            f"{short_id} is outside the breast (in air) on {view}: move it, or undo "
            "(Ctrl+Z) if it was not meant",
            record.path if record is not None else None,
        )

    def _breast_region(self) -> BreastRegion | None:
        """Return where the breast is on the image shown (found once per image)."""
        _study, sop, frame = self._image()
        if self._breast is not None and self._breast[0] == (sop, frame):
            return self._breast[1]
        stored, pipeline = self.viewport.stored, self.viewport.pipeline
        region = None
        if stored is not None and pipeline is not None and stored.ndim == 2:
            try:
                region = BreastRegion.of(stored, pipeline)
            except (ValueError, FloatingPointError):
                region = None  # no warning rather than a wrong one
        self._breast = ((sop, frame), region)
        return region

    def _add_segment(self, points: tuple[Point, ...]) -> None:
        study = self._image()[0]
        try:
            region = self._region(GraphicType.POLYLINE, points)
        except ValueError:
            return
        segments = self.workspace.annotations(study).duct_segments
        segment = DuctSegment.new(
            region,
            short_id=next_segment_id(segments),
            parent_uid=self._parent_uid,
            laterality=self._laterality(),
            path_length=path_length_measurement(region, self.viewport.calibration),
        )
        self.workspace.add_duct_segment(study, segment)

    def _set_nipple(self, position: Point) -> None:
        study, sop, frame = self._image()
        point = (max(0.0, position[0]), max(0.0, position[1]))
        before = self.workspace.annotations(study).landmark(sop, frame)
        self.workspace.set_landmark(study, NippleLandmark(sop, frame, point))
        if before is None or self.workspace.annotations(study).landmark(sop, frame) == before:
            return
        # Every clock position and distance from the nipple on this image moves with it:
        # a click meant only to pick the cell must not pass unnoticed.
        record = self.viewport.record
        view = record.view.label if record is not None and record.view.label else "this image"
        calibration = self.viewport.calibration
        d_columns, d_rows = point[0] - before.point[0], point[1] - before.point[1]
        mm = calibration.distance_mm(d_columns, d_rows) if calibration is not None else None
        pixels = math.hypot(d_columns, d_rows)
        by = f"{mm:.1f} mm" if mm is not None else f"{pixels:.0f} pixels (uncalibrated)"
        self.said.emit(
            f"Moved the nipple on {view} by {by}: the lesions' distances and clock positions "
            "moved with it — Ctrl+Z puts it back"
        )

    def _add_vertex(self, position: Point) -> None:
        if not self._pending and self._tool is AnnotationTool.DUCT_TRACE:
            position = self._trace_start(position)
        self._pending.append(position)
        self._cursor = position
        self._update_preview()
        self.drawing_changed.emit()

    def _trace_start(self, position: Point) -> Point:
        """Return where a trace starts: a vertex of a segment (a branch) or the nipple."""
        study, sop, frame = self._image()
        annotations = self.workspace.annotations(study)
        scale = self._image_pixels_per_screen_pixel()
        best: tuple[float, str, Point] | None = None
        for segment in annotations.duct_segments:
            region = segment.region
            if (region.sop_instance_uid, region.frame) != (sop, frame):
                continue
            for vertex in region.points:
                distance = math.hypot(vertex[0] - position[0], vertex[1] - position[1])
                if distance <= SNAP_PX * scale and (best is None or distance < best[0]):
                    best = (distance, segment.tracking_uid, vertex)
        if best is not None:
            self._parent_uid = best[1]
            return best[2]
        self._parent_uid = None
        landmark = annotations.landmark(sop, frame)
        if landmark is not None:
            distance = math.hypot(landmark.point[0] - position[0], landmark.point[1] - position[1])
            if distance <= NIPPLE_SNAP_PX * scale:
                return landmark.point
        return position

    def _update_preview(self) -> None:
        """Draw the rubber band: the drawing so far to the cursor, or the drag's shape."""
        path = QPainterPath()
        points: tuple[Point, ...] = ()
        if self._pending:
            points = (*self._pending, self._cursor or self._pending[-1])
            if self._tool is AnnotationTool.POLYLINE and len(points) > 2:
                points = (*points, points[0])
        elif self._drag is not None:
            start, current = self._drag
            if self._tool is AnnotationTool.CIRCLE:
                points = shape_outline(GraphicType.CIRCLE, (start, current))
            else:
                points = shape_outline(GraphicType.ELLIPSE, ellipse_in_box(start, current))
        if points:
            path.moveTo(QPointF(*points[0]))
            for point in points[1:]:
                path.lineTo(QPointF(*point))
        pen = self._preview.pen()
        pen.setColor(FINDING_COLOURS[self._finding_type])
        self._preview.setPen(pen)
        self._preview.setPath(path)

    def preview_path(self) -> QPainterPath:
        """Return the rubber band drawn now (SCOORD item coordinates), for checks."""
        return self._preview.path()


def _without_repeats(points: list[Point]) -> list[Point]:
    """Drop consecutive duplicate vertices (the two clicks of a double click)."""
    result: list[Point] = []
    for point in points:
        if not result or result[-1] != point:
            result.append(point)
    return result
