"""Annotation tools on the sample study: each tool makes the right model object.

Tools are driven by emitting :class:`ToolClick` / :class:`ToolDrag` into the
viewport's ``tool_click`` / ``tool_drag`` signals: real mouse clicks and drags reach
the tools through the very same signals (one test below uses a real mouse click).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from galactoview.annotations import codes
from galactoview.annotations.model import (
    Finding,
    FindingType,
    GraphicType,
    Laterality,
    NippleLandmark,
)
from galactoview.dicom.calibration import CalibrationSource
from galactoview.dicom.mammography import Flip
from galactoview.ui.annotate.annotation_items import AnnotationLayer
from galactoview.ui.annotate.annotation_tools import (
    AnnotationTool,
    AnnotationToolController,
    ellipse_in_box,
)
from galactoview.ui.annotate.annotation_workspace import AnnotationWorkspace
from galactoview.ui.viewer.decoding import DecodedImage
from galactoview.ui.viewer.viewport import DragPhase, MouseMode, ToolClick, ToolDrag, Viewport
from tests.helpers import Point, lesion, nipple
from tests.ui.qt_helpers import sample_image, show_decoded, shown_viewport


def f32(point: Point) -> Point:
    """Return a point rounded to float32 as the model stores it."""
    return float(np.float32(point[0])), float(np.float32(point[1]))


@dataclass
class Bench:
    """A shown viewport with the post-contrast L CC, a workspace, a layer and the tools."""

    view: Viewport
    workspace: AnnotationWorkspace
    layer: AnnotationLayer
    tools: AnnotationToolController
    decoded: DecodedImage

    @property
    def study(self) -> str:
        return self.decoded.record.study_instance_uid

    @property
    def spacing(self) -> float:
        calibration = self.decoded.record.calibration
        assert calibration is not None and calibration.column_spacing_mm is not None
        return calibration.column_spacing_mm

    def findings(self) -> tuple[Finding, ...]:
        return self.workspace.annotations(self.study).findings

    def click(self, point: Point, *, double: bool = False) -> None:
        """Emit a left click (and the double click event after it when `double`)."""
        mode = self.view.mouse_mode
        self.view.tool_click.emit(ToolClick(mode, point, False, Qt.KeyboardModifier.NoModifier))
        if double:
            self.view.tool_click.emit(ToolClick(mode, point, True, Qt.KeyboardModifier.NoModifier))

    def drag(self, start: Point, *points: Point) -> None:
        """Emit a left drag from `start` through `points` (the last is the release)."""
        mode = self.view.mouse_mode
        self.view.tool_drag.emit(ToolDrag(DragPhase.START, mode, start, start, (0.0, 0.0)))
        for index, point in enumerate(points):
            phase = DragPhase.FINISH if index == len(points) - 1 else DragPhase.MOVE
            self.view.tool_drag.emit(ToolDrag(phase, mode, start, point, (0.0, 0.0)))


def make_bench(qtbot: QtBot, label: str = "LCC_POST", flip: Flip | None = None) -> Bench:
    """Return a bench showing a sample image in the ANNOTATE mode."""
    view = shown_viewport(qtbot, 800, 600)
    decoded = sample_image(label)
    show_decoded(view, decoded, flip)
    view.mouse_mode = MouseMode.ANNOTATE
    workspace = AnnotationWorkspace(parent=view)
    layer = AnnotationLayer(view, workspace)
    tools = AnnotationToolController(view, workspace, layer)
    return Bench(view, workspace, layer, tools, decoded)


@pytest.fixture
def bench(qtbot: QtBot) -> Bench:
    """Return a bench on the post-contrast L CC."""
    return make_bench(qtbot)


def measurement(finding: Finding, name: Any) -> float:
    """Return the value of a finding's measurement by concept name."""
    (value,) = (m.value for m in finding.measurements if m.name == name)
    return value


def test_the_point_tool_makes_a_point_finding_of_the_active_type(bench: Bench) -> None:
    bench.tools.set_tool(AnnotationTool.POINT)
    bench.tools.set_finding_type(FindingType.CYST_FILL)
    target = lesion("LCC_POST", "cyst-1")
    bench.click(target)
    (finding,) = bench.findings()
    assert finding.finding_type is FindingType.CYST_FILL
    assert finding.short_id == "CY-1"
    assert finding.laterality is Laterality.LEFT
    (region,) = finding.regions
    assert region.sop_instance_uid == bench.decoded.record.sop_instance_uid
    assert region.frame is None
    assert region.graphic_type is GraphicType.POINT
    assert region.points == (f32(target),)
    assert finding.measurements == ()
    assert bench.workspace.selected == finding.tracking_uid
    bench.click((10.0, 20.0))
    assert [f.short_id for f in bench.findings()] == ["CY-1", "CY-2"]


def test_clicks_outside_the_annotate_mode_or_with_other_tools_make_nothing(bench: Bench) -> None:
    bench.tools.set_tool(AnnotationTool.POINT)
    bench.view.mouse_mode = MouseMode.MEASURE
    bench.click((50.0, 50.0))
    assert bench.findings() == ()
    bench.view.mouse_mode = MouseMode.ANNOTATE
    bench.tools.set_tool(AnnotationTool.CIRCLE)
    bench.click((50.0, 50.0))
    assert bench.findings() == ()


def test_the_circle_tool_drags_centre_to_perimeter(bench: Bench) -> None:
    bench.tools.set_tool(AnnotationTool.CIRCLE)
    bench.tools.set_finding_type(FindingType.CYST_FILL)
    centre = lesion("LCC_POST", "cyst-1")
    perimeter = (centre[0] + 30.0, centre[1] + 40.0)
    bench.drag(centre, (centre[0] + 10.0, centre[1]), perimeter)
    (finding,) = bench.findings()
    (region,) = finding.regions
    assert region.graphic_type is GraphicType.CIRCLE
    assert region.points == (f32(centre), f32(perimeter))
    assert measurement(finding, codes.DIAMETER) == pytest.approx(
        round(100.0 * bench.spacing, 2), abs=1e-6
    )
    assert measurement(finding, codes.AREA) == pytest.approx(
        round(math.pi * 50.0**2 * bench.spacing**2, 1), abs=1e-6
    )


def test_the_ellipse_tool_makes_four_dicom_points_with_the_long_axis_in_mm(bench: Bench) -> None:
    bench.tools.set_tool(AnnotationTool.ELLIPSE)
    (cx, cy) = lesion("LCC_POST")
    start, end = (cx - 30.0, cy - 25.0), (cx + 30.0, cy + 25.0)
    bench.drag(start, (cx, cy), end)
    (finding,) = bench.findings()
    assert finding.short_id == "FD-1"
    assert finding.finding_type is FindingType.INTRALUMINAL_FILLING_DEFECT
    assert finding.laterality is Laterality.LEFT
    (region,) = finding.regions
    assert region.graphic_type is GraphicType.ELLIPSE
    assert region.frame is None
    expected = [f32(p) for p in ((cx - 30, cy), (cx + 30, cy), (cx, cy - 25), (cx, cy + 25))]
    assert list(region.points) == expected
    long_pixels = math.dist(region.points[0], region.points[1])
    assert long_pixels == pytest.approx(60.0, abs=1e-3)
    assert measurement(finding, codes.LONG_AXIS) == pytest.approx(
        round(long_pixels * bench.spacing, 2), abs=1e-6
    )
    assert measurement(finding, codes.LONG_AXIS) == pytest.approx(60 * 0.0925, abs=0.01)
    assert measurement(finding, codes.SHORT_AXIS) == pytest.approx(
        round(50.0 * bench.spacing, 2), abs=1e-6
    )


def test_a_tall_box_makes_the_vertical_axis_the_major_one() -> None:
    points = ellipse_in_box((10.0, 100.0), (0.0, 0.0))
    assert points == ((5.0, 0.0), (5.0, 100.0), (0.0, 50.0), (10.0, 50.0))


def test_a_tiny_drag_makes_no_ellipse(bench: Bench) -> None:
    bench.tools.set_tool(AnnotationTool.ELLIPSE)
    bench.drag((100.0, 100.0), (100.2, 100.1))
    assert bench.findings() == ()


def test_the_polyline_tool_closes_the_region_on_a_double_click(bench: Bench) -> None:
    bench.tools.set_tool(AnnotationTool.POLYLINE)
    bench.tools.set_finding_type(FindingType.EXTRAVASATION)
    vertices = [(400.0, 400.0), (500.0, 400.0), (500.0, 480.0)]
    for vertex in vertices[:-1]:
        bench.click(vertex)
    assert bench.tools.pending_points() == tuple(vertices[:-1])
    assert not bench.tools.preview_path().isEmpty()
    bench.click(vertices[-1], double=True)
    (finding,) = bench.findings()
    (region,) = finding.regions
    assert region.is_closed
    assert region.points == (*vertices, vertices[0])
    assert finding.short_id == "EX-1"
    assert measurement(finding, codes.AREA) == pytest.approx(
        round(0.5 * 100 * 80 * bench.spacing**2, 1), abs=1e-6
    )
    assert not bench.tools.is_drawing()
    assert bench.tools.preview_path().isEmpty()


def test_finish_closes_a_polyline_and_cancel_drops_one(bench: Bench) -> None:
    bench.tools.set_tool(AnnotationTool.POLYLINE)
    for vertex in ((10.0, 10.0), (60.0, 10.0)):
        bench.click(vertex)
    assert not bench.tools.finish()  # two vertices make no region: keep drawing
    assert bench.tools.is_drawing()
    bench.click((60.0, 70.0))
    assert bench.tools.finish()
    (finding,) = bench.findings()
    assert finding.regions[0].points[0] == finding.regions[0].points[-1]
    for vertex in ((100.0, 100.0), (200.0, 100.0), (200.0, 200.0)):
        bench.click(vertex)
    bench.tools.cancel()
    assert not bench.tools.is_drawing()
    assert len(bench.findings()) == 1


def test_duct_traces_a_root_at_the_nipple_then_a_branch_from_its_vertex(bench: Bench) -> None:
    ws = bench.workspace
    bench.tools.set_tool(AnnotationTool.NIPPLE)
    bench.click(nipple("LCC_POST"))
    bench.tools.set_tool(AnnotationTool.DUCT_TRACE)
    scale = bench.view.image_pixels_per_screen_pixel()
    near_nipple = (nipple("LCC_POST")[0] - 4 * scale, nipple("LCC_POST")[1] + 3 * scale)
    route = [near_nipple, (900.0, 1180.0), (700.0, 1200.0)]
    for vertex in route[:-1]:
        bench.click(vertex)
    bench.click(route[-1], double=True)
    (root,) = ws.annotations(bench.study).duct_segments
    assert root.short_id == "DS-1"
    assert root.parent_uid is None
    assert root.laterality is Laterality.LEFT
    assert root.region.points[0] == f32(nipple("LCC_POST"))  # snapped to the orifice
    assert root.region.points[1:] == tuple(route[1:])
    assert not root.region.is_closed
    assert root.path_length is not None
    pixels = math.dist(root.region.points[0], route[1]) + math.dist(route[1], route[2])
    assert root.path_length.value == pytest.approx(round(pixels * bench.spacing, 2), abs=1e-6)
    # A click two screen pixels from the root's middle vertex starts a branch there.
    bench.click((900.0 + 2 * scale, 1180.0 - 1 * scale))
    bench.click((850.0, 1300.0))
    assert bench.tools.finish()
    root_again, branch = ws.annotations(bench.study).duct_segments
    assert root_again == root
    assert branch.short_id == "DS-2"
    assert branch.parent_uid == root.tracking_uid
    assert branch.region.points == ((900.0, 1180.0), (850.0, 1300.0))
    assert ws.selected == branch.tracking_uid
    # Far from every vertex and the nipple: a new root where clicked.
    bench.click((300.0, 300.0))
    bench.click((320.0, 350.0), double=True)
    third = ws.annotations(bench.study).duct_segments[-1]
    assert third.parent_uid is None
    assert third.region.points == ((300.0, 300.0), (320.0, 350.0))


def test_the_nipple_tool_places_then_moves_the_landmark_undoably(bench: Bench) -> None:
    ws = bench.workspace
    bench.tools.set_tool(AnnotationTool.NIPPLE)
    sop = bench.decoded.record.sop_instance_uid
    first, second = nipple("LCC_POST"), (1100.0, 1150.0)
    bench.click(first)
    assert ws.annotations(bench.study).landmark(sop) == NippleLandmark(sop, None, first)
    bench.click(second)
    assert ws.annotations(bench.study).landmarks == (NippleLandmark(sop, None, second),)
    assert ws.undo_stack.undoText() == "Move nipple"
    ws.undo_stack.undo()
    landmark = ws.annotations(bench.study).landmark(sop)
    assert landmark is not None and landmark.point == f32(first)


def test_select_tool_selects_the_mark_clicked_and_clears_on_empty_space(bench: Bench) -> None:
    bench.tools.set_tool(AnnotationTool.ELLIPSE)
    cx, cy = lesion("LCC_POST")
    bench.drag((cx - 30, cy - 20), (cx + 30, cy + 20))
    bench.tools.set_tool(AnnotationTool.CIRCLE)
    bench.drag((300.0, 300.0), (340.0, 300.0))
    ellipse, circle = bench.findings()
    assert bench.workspace.selected == circle.tracking_uid
    bench.tools.set_tool(AnnotationTool.SELECT)
    bench.click((cx + 30.0, cy + 1.0))  # on the outline
    assert bench.workspace.selected == ellipse.tracking_uid
    bench.click((310.0, 305.0))  # inside the circle
    assert bench.workspace.selected == circle.tracking_uid
    bench.click((1500.0, 200.0))
    assert bench.workspace.selected is None


def test_a_flipped_image_records_the_stored_pixels_clicked(qtbot: QtBot) -> None:
    """The prior RCC hangs flipped: a click on a stored pixel records that pixel."""
    points = {}
    for flipped in (True, False):
        flip = None if flipped else Flip()
        bench = make_bench(qtbot, "RCC", flip)
        assert bench.view.flip.horizontal is flipped
        bench.tools.set_tool(AnnotationTool.POINT)
        target = (1500.5, 700.5)  # centre of the stored pixel [700, 1500]
        bench.click(target)
        (finding,) = bench.findings()
        assert finding.laterality is Laterality.RIGHT
        points[flipped] = finding.regions[0].points[0]
        # Where the stored pixel shows on the screen depends on the flip, not the SCOORD.
        bench.view.grab()  # lay out once so that scene mappings are up to date
        x, _y = bench.view.map_image_to_widget(*target)
        assert (x > bench.view.width() / 2) is (not flipped)
    assert points[True] == points[False] == (1500.5, 700.5)


@pytest.mark.qt_log_ignore(r'Mouse event "Mouse(Press|Release)" not accepted by receiving widget')
def test_a_real_mouse_click_on_a_flipped_image_marks_the_pixel_under_it(qtbot: QtBot) -> None:
    bench = make_bench(qtbot, "RCC")
    assert bench.view.flip.horizontal
    bench.tools.set_tool(AnnotationTool.POINT)
    bench.view.grab()  # lay out once so that scene mappings are up to date
    target = (1500.5, 700.5)
    x, y = bench.view.map_image_to_widget(*target)
    with qtbot.waitSignal(bench.workspace.changed):
        QTest.mouseClick(
            bench.view.viewport(),
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
            QPoint(round(x), round(y)),
        )
    (finding,) = bench.findings()
    column, row = finding.regions[0].points[0]
    scale = bench.view.image_pixels_per_screen_pixel()
    assert abs(column - target[0]) <= scale and abs(row - target[1]) <= scale


def test_a_finding_on_an_uncalibrated_image_has_no_mm_values(qtbot: QtBot) -> None:
    bench = make_bench(qtbot)
    decoded = bench.decoded
    unknown = decoded.record.calibration
    assert unknown is not None
    uncalibrated = replace(
        unknown,
        row_spacing_mm=None,
        column_spacing_mm=None,
        source=CalibrationSource.UNKNOWN,
        magnification=None,
    )
    assert not uncalibrated.is_known
    bench.view.set_image(
        decoded.stored,
        decoded.pipeline,
        decoded.pipeline.default_voi(),
        record=decoded.record,
        calibration=uncalibrated,
    )
    bench.tools.set_tool(AnnotationTool.ELLIPSE)
    bench.drag((100.0, 100.0), (200.0, 150.0))
    (finding,) = bench.findings()
    assert finding.measurements == ()
    assert bench.layer.label_texts() == ["FD-1"]


def test_regions_on_a_multi_frame_image_name_the_frame_one_based(qtbot: QtBot) -> None:
    bench = make_bench(qtbot)
    decoded = bench.decoded
    record = replace(decoded.record, number_of_frames=3)
    bench.view.set_image(
        decoded.stored, decoded.pipeline, decoded.pipeline.default_voi(), record=record, frame=1
    )
    bench.tools.set_tool(AnnotationTool.POINT)
    bench.click((40.0, 50.0))
    bench.tools.set_tool(AnnotationTool.NIPPLE)
    bench.click((60.0, 70.0))
    (finding,) = bench.findings()
    assert finding.regions[0].frame == 2  # the second frame, shown as frame index 1
    (landmark,) = bench.workspace.annotations(bench.study).landmarks
    assert landmark.frame == 2
    assert bench.layer.label_texts() == ["FD-1", "N"]
    bench.view.set_image(
        decoded.stored, decoded.pipeline, decoded.pipeline.default_voi(), record=record, frame=0
    )
    assert bench.layer.label_texts() == []


def test_a_point_in_air_is_kept_and_said_a_point_on_the_breast_is_not(bench: Bench) -> None:
    """Issue 15: a mark placed outside the breast is no longer accepted silently."""
    warnings: list[tuple[str, object]] = []
    bench.tools.warned.connect(lambda text, path: warnings.append((text, path)))
    bench.tools.set_tool(AnnotationTool.POINT)
    bench.click(lesion("LCC_POST", "cyst-1"))
    bench.click(nipple("LCC_POST"))  # on the skin line: breast
    assert warnings == []
    columns = bench.decoded.stored.shape[1]
    tip = nipple("LCC_POST")
    bench.click((min(columns - 5.0, tip[0] + 150.0), tip[1]))  # in front of the nipple
    assert [f.short_id for f in bench.findings()] == ["FD-1", "FD-2", "FD-3"]  # kept
    ((text, path),) = warnings
    assert text.startswith("FD-3 is outside the breast (in air) on the L CC")
    assert path == bench.decoded.record.path
    # An ellipse drawn around air only is said too; one reaching the breast is not.
    bench.tools.set_tool(AnnotationTool.ELLIPSE)
    bench.drag((columns - 60.0, 10.0), (columns - 10.0, 60.0))
    assert len(warnings) == 2 and warnings[1][0].startswith("FD-4 is outside the breast")
    bench.drag((tip[0] - 40.0, tip[1] - 20.0), (tip[0] + 200.0, tip[1] + 20.0))
    assert len(warnings) == 2
