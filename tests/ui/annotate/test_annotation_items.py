"""Annotation graphics on the sample study: marks, labels, selection, handles, undo/redo."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QGraphicsPathItem
from pytestqt.qtbot import QtBot

from galactoview.annotations import codes
from galactoview.annotations.model import (
    AnnotationSet,
    DuctSegment,
    Finding,
    FindingType,
    GraphicType,
    ImageRegion,
    NippleLandmark,
)
from galactoview.ui.annotate.annotation_items import (
    LABEL_FILL,
    NIPPLE_KEY,
    SUGGESTED_NIPPLE_LABEL,
    hit_test,
    label_text,
    outline,
    regularized_ellipse,
)
from galactoview.ui.annotate.annotation_tools import AnnotationTool
from galactoview.ui.annotate.finding_palette import FINDING_COLOURS
from tests.helpers import lesion, nipple
from tests.ui.annotate.test_annotation_tools import Bench, make_bench
from tests.ui.qt_helpers import sample_image, show_decoded

UID = "1.2.3.4"
Point = tuple[float, float]


@pytest.fixture
def bench(qtbot: QtBot) -> Bench:
    """Return a bench on the post-contrast L CC."""
    return make_bench(qtbot)


def draw_ellipse(bench: Bench) -> Finding:
    """Draw an ellipse 60 x 40 pixels on the filling defect; return the finding."""
    bench.tools.set_tool(AnnotationTool.ELLIPSE)
    cx, cy = lesion("LCC_POST")
    bench.drag((cx - 30.0, cy - 20.0), (cx + 30.0, cy + 20.0))
    finding = bench.findings()[-1]
    assert finding.regions[0].graphic_type is GraphicType.ELLIPSE
    return finding


# --- pure helpers ---------------------------------------------------------------------


def test_regularized_ellipse_keeps_the_centre_and_a_perpendicular_minor_axis() -> None:
    points = [(0.0, 10.0), (20.0, 10.0), (10.0, 5.0), (10.0, 15.0)]
    points[1] = (10.0, 0.0)  # the major axis end dragged up to the top
    result = regularized_ellipse(points, 1)
    assert result[1] == (10.0, 0.0)
    assert result[0] == pytest.approx((10.0, 20.0))  # opposite end, about the centre
    # The minor axis turned to stay perpendicular, 10 pixels long about the centre.
    assert result[2] == pytest.approx((5.0, 10.0))
    assert result[3] == pytest.approx((15.0, 10.0))


def test_outline_of_a_rotated_ellipse_passes_through_its_axis_ends() -> None:
    region = ImageRegion(UID, None, GraphicType.ELLIPSE, ((0, 0), (30, 40), (23, 14), (7, 26)))
    shape = outline(region)
    assert shape[0] == pytest.approx((30.0, 40.0))
    assert shape[-1] == shape[0]
    quarter = shape[len(shape) // 4]
    assert quarter == pytest.approx((7.0, 26.0), abs=1e-3)


def test_hit_test_prefers_a_nearby_line_then_the_smallest_shape_around() -> None:
    big = Finding.new(
        FindingType.CYST_FILL,
        [ImageRegion(UID, None, GraphicType.CIRCLE, ((100, 100), (150, 100)))],
        short_id="CY-1",
    )
    small = Finding.new(
        FindingType.CYST_FILL,
        [ImageRegion(UID, None, GraphicType.CIRCLE, ((100, 100), (110, 100)))],
        short_id="CY-2",
    )
    trace = DuctSegment.new(
        ImageRegion(UID, None, GraphicType.POLYLINE, ((0, 300), (100, 300))), short_id="DS-1"
    )
    annotations = AnnotationSet("1.2", (big, small), (trace,))
    assert hit_test(annotations, UID, None, (149.0, 101.0), 3.0) == big.tracking_uid
    assert hit_test(annotations, UID, None, (103.0, 100.0), 3.0) == small.tracking_uid
    assert hit_test(annotations, UID, None, (125.0, 100.0), 3.0) == big.tracking_uid
    assert hit_test(annotations, UID, None, (50.0, 302.0), 3.0) == trace.tracking_uid
    assert hit_test(annotations, UID, None, (50.0, 310.0), 3.0) is None
    assert hit_test(annotations, "1.2.3.5", None, (103.0, 100.0), 3.0) is None


def test_labels_give_the_short_id_and_the_main_measurement() -> None:
    region = ImageRegion(UID, None, GraphicType.POINT, ((5, 5),))
    assert label_text(
        Finding.new(FindingType.OTHER, [region], short_id="OT-1", other_text="x")
    ) == ("OT-1")


# --- on the sample study --------------------------------------------------------------


def test_marks_are_children_of_the_image_item_with_labels(bench: Bench) -> None:
    finding = draw_ellipse(bench)
    items = bench.layer.items_for(finding.tracking_uid)
    assert items
    assert all(item.parentItem() is bench.view.image_item for item in items)
    long_axis = next(m.value for m in finding.measurements if m.name == codes.LONG_AXIS)
    assert long_axis == pytest.approx(round(60 * bench.spacing, 2))
    assert bench.layer.label_texts() == [f"FD-1 {long_axis:.1f} mm"]
    assert bench.layer.label_texts() == ["FD-1 5.5 mm"]
    lines = [i for i in items if isinstance(i, QGraphicsPathItem) and i.path().elementCount() > 4]
    assert len(lines) == 2  # the black underlay and the coloured line
    assert lines[1].pen().color() == FINDING_COLOURS[FindingType.INTRALUMINAL_FILLING_DEFECT]
    assert lines[1].pen().isCosmetic()


def test_every_kind_of_mark_is_drawn_with_its_label(bench: Bench) -> None:
    tools = bench.tools
    tools.set_tool(AnnotationTool.NIPPLE)
    bench.click(nipple("LCC_POST"))
    tools.set_tool(AnnotationTool.POINT)
    tools.set_finding_type(FindingType.ABRUPT_DUCT_TERMINATION)
    bench.click((600.0, 1100.0))
    tools.set_tool(AnnotationTool.CIRCLE)
    tools.set_finding_type(FindingType.CYST_FILL)
    bench.drag((171.0, 1367.0), (171.0, 1413.0))
    tools.set_tool(AnnotationTool.DUCT_TRACE)
    bench.click(nipple("LCC_POST"))
    bench.click((900.0, 1180.0), double=True)
    texts = bench.layer.label_texts()
    diameter = round(92 * bench.spacing, 2)
    length = round(math.dist(nipple("LCC_POST"), (900.0, 1180.0)) * bench.spacing, 2)
    assert texts == sorted(["N", "ADT-1", f"CY-1 {diameter:.1f} mm", f"DS-1 {length:.1f} mm"])
    (segment,) = bench.workspace.annotations(bench.study).duct_segments
    # A duct segment: two lines and a marker on each vertex, and its label.
    assert len(bench.layer.items_for(segment.tracking_uid)) == 2 + 2 + 1
    assert bench.layer.items_for(NIPPLE_KEY)


def test_labels_stay_unmirrored_on_a_flipped_image(qtbot: QtBot) -> None:
    bench = make_bench(qtbot, "RCC")
    assert bench.view.flip.horizontal
    bench.tools.set_tool(AnnotationTool.POINT)
    bench.click((1000.0, 1000.0))
    bench.view.grab()
    (label,) = bench.layer.label_items()
    transform = label.deviceTransform(bench.view.viewportTransform())
    assert transform.m11() > 0 and transform.m22() > 0


def test_selection_highlights_the_selected_mark_only(bench: Bench) -> None:
    first = draw_ellipse(bench)
    bench.tools.set_tool(AnnotationTool.POINT)
    bench.click((300.0, 300.0))
    second = bench.findings()[-1]
    assert bench.workspace.selected == second.tracking_uid

    def label_fill(uid: str) -> object:
        (label,) = [i for i in bench.layer.label_items() if i in bench.layer.items_for(uid)]
        return label.fill.color()

    colour = FINDING_COLOURS[FindingType.INTRALUMINAL_FILLING_DEFECT]
    assert label_fill(second.tracking_uid) == colour
    assert label_fill(first.tracking_uid) == LABEL_FILL
    assert bench.layer.handle_points(second.tracking_uid) == second.regions[0].points
    assert bench.layer.handle_points(first.tracking_uid) == ()
    bench.workspace.select(first.tracking_uid)
    assert label_fill(first.tracking_uid) == colour
    assert label_fill(second.tracking_uid) == LABEL_FILL
    assert bench.layer.handle_points(first.tracking_uid) == first.regions[0].points
    bench.workspace.select(None)
    assert label_fill(first.tracking_uid) == LABEL_FILL


def test_reshaping_with_a_handle_commits_one_undoable_edit(qtbot: QtBot, bench: Bench) -> None:
    finding = draw_ellipse(bench)
    uid = finding.tracking_uid
    stack = bench.workspace.undo_stack
    count = stack.count()
    old = finding.regions[0].points
    centre = ((old[0][0] + old[1][0]) / 2, (old[0][1] + old[1][1]) / 2)
    new_end = (centre[0], centre[1] - 50.0)  # turn the major axis upright, 100 px long
    bench.layer.move_handle(uid, 1, (centre[0] + 20.0, centre[1] - 30.0), finish=False)
    bench.layer.move_handle(uid, 1, new_end, finish=False)
    assert stack.count() == count  # nothing committed while dragging
    with qtbot.waitSignal(bench.workspace.changed):
        bench.layer.move_handle(uid, 1, new_end)
    assert stack.count() == count + 1
    assert stack.undoText() == "Reshape FD-1"
    (reshaped,) = bench.findings()
    points = reshaped.regions[0].points
    assert points[1] == pytest.approx(new_end, abs=1e-3)
    assert points[0] == pytest.approx((centre[0], centre[1] + 50.0), abs=1e-3)
    assert math.dist(points[2], points[3]) == pytest.approx(40.0, abs=1e-3)
    long_axis = next(m.value for m in reshaped.measurements if m.name == codes.LONG_AXIS)
    assert long_axis == pytest.approx(round(100.0 * bench.spacing, 2), abs=1e-6)
    assert bench.layer.label_texts() == [f"FD-1 {long_axis:.1f} mm"]
    assert bench.workspace.selected == uid
    assert bench.layer.handle_points(uid) == points
    stack.undo()
    assert bench.findings()[0].regions[0].points == old
    assert bench.layer.handle_points(uid) == old


def test_dragging_the_body_moves_the_whole_duct_segment(qtbot: QtBot, bench: Bench) -> None:
    bench.tools.set_tool(AnnotationTool.DUCT_TRACE)
    bench.click((500.0, 500.0))
    bench.click((600.0, 520.0), double=True)
    (segment,) = bench.workspace.annotations(bench.study).duct_segments
    with qtbot.waitSignal(bench.workspace.changed):
        bench.layer.translate_mark(segment.tracking_uid, (10.0, -5.0))
    (moved,) = bench.workspace.annotations(bench.study).duct_segments
    assert moved.tracking_uid == segment.tracking_uid
    assert moved.region.points == ((510.0, 495.0), (610.0, 515.0))
    assert moved.path_length == segment.path_length  # same length
    assert bench.workspace.undo_stack.undoText() == "Reshape DS-1"


def test_dragging_the_nipple_marker_moves_the_landmark(qtbot: QtBot, bench: Bench) -> None:
    bench.tools.set_tool(AnnotationTool.NIPPLE)
    bench.click(nipple("LCC_POST"))
    bench.tools.set_tool(AnnotationTool.SELECT)
    sop = bench.decoded.record.sop_instance_uid
    with qtbot.waitSignal(bench.workspace.changed):
        bench.layer.move_handle(NIPPLE_KEY, 0, (1110.0, 1140.0))
    assert bench.workspace.annotations(bench.study).landmarks == (
        NippleLandmark(sop, None, (1110.0, 1140.0)),
    )
    assert bench.workspace.undo_stack.undoText() == "Move nipple"


def test_undo_and_redo_of_each_creation_update_the_marks(bench: Bench) -> None:
    stack = bench.workspace.undo_stack
    tools = bench.tools
    tools.set_tool(AnnotationTool.POINT)
    bench.click((100.0, 100.0))
    draw_ellipse(bench)
    tools.set_tool(AnnotationTool.CIRCLE)
    bench.drag((300.0, 300.0), (320.0, 300.0))
    tools.set_tool(AnnotationTool.POLYLINE)
    for vertex in ((400.0, 400.0), (450.0, 400.0)):
        bench.click(vertex)
    bench.click((450.0, 450.0), double=True)
    tools.set_tool(AnnotationTool.DUCT_TRACE)
    bench.click((700.0, 700.0))
    bench.click((750.0, 760.0), double=True)
    tools.set_tool(AnnotationTool.NIPPLE)
    bench.click(nipple("LCC_POST"))
    full = bench.layer.label_texts()
    assert len(full) == 6
    assert len(bench.layer.marked_keys()) == 6
    for drawn in range(5, -1, -1):
        stack.undo()
        assert len(bench.layer.label_texts()) == drawn
    assert bench.layer.marked_keys() == ()
    for drawn in range(1, 7):
        stack.redo()
        assert len(bench.layer.label_texts()) == drawn
    assert bench.layer.label_texts() == full


def test_delete_selected_removes_the_mark_undoably(bench: Bench) -> None:
    finding = draw_ellipse(bench)
    assert bench.layer.delete_selected()
    assert bench.findings() == ()
    assert bench.layer.items_for(finding.tracking_uid) == []
    assert bench.workspace.selected is None
    assert not bench.layer.delete_selected()
    bench.workspace.undo_stack.undo()
    assert bench.layer.items_for(finding.tracking_uid)


def test_marks_follow_the_image_shown(bench: Bench) -> None:
    finding = draw_ellipse(bench)
    show_decoded(bench.view, sample_image("LML_POST"))
    assert bench.layer.items_for(finding.tracking_uid) == []
    assert bench.layer.mark_at(lesion("LCC_POST")) is None
    show_decoded(bench.view, bench.decoded)
    assert bench.layer.items_for(finding.tracking_uid)
    assert bench.layer.mark_at(lesion("LCC_POST")) == finding.tracking_uid


def test_regularized_ellipse_keeps_the_order_of_the_other_axis_ends() -> None:
    points = [(0.0, 10.0), (20.0, 10.0), (10.0, 5.0), (10.0, 15.0)]
    points[1] = (19.0, 12.0)  # a slight turn clockwise on the screen
    result = regularized_ellipse(points, 1)
    assert result[2][1] < 10.0 < result[3][1]  # the minor axis still runs top to bottom
    assert math.dist(result[2], result[3]) == pytest.approx(10.0)


def real_drag(qtbot: QtBot, bench: Bench, start: Point, end: Point) -> None:
    """Drag with the real mouse between two SCOORD points.

    pyqtgraph drops mouse moves closer than 10 ms apart (``mouseRateLimit``): the
    scene's limiter is switched off so that every move of the test arrives.
    """
    scene = bench.view.scene()
    scene._moveEventIsAllowed = lambda: True
    bench.view.grab()  # lay out once so that scene mappings are up to date
    widget = bench.view.viewport()
    press, release = (QPoint(*map(round, bench.view.map_image_to_widget(*p))) for p in (start, end))
    QTest.mousePress(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, press)
    for step in range(1, 11):
        QTest.mouseMove(widget, press + (release - press) * (step / 10))
    QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, release)


@pytest.mark.qt_log_ignore(r'Mouse event "Mouse(Press|Release)" not accepted by receiving widget')
def test_a_real_drag_on_the_selected_body_moves_it_only_with_the_select_tool(
    qtbot: QtBot, bench: Bench
) -> None:
    bench.view.set_zoom(1.0, bench.view.map_image_to_view(*lesion("LCC_POST")))
    finding = draw_ellipse(bench)  # selected, the ELLIPSE tool still active
    cx, cy = lesion("LCC_POST")
    # With a drawing tool the drag draws a new ellipse over the selected one.
    with qtbot.waitSignal(bench.workspace.changed):
        real_drag(qtbot, bench, (cx, cy), (cx + 40.0, cy + 30.0))
    assert [f.short_id for f in bench.findings()] == ["FD-1", "FD-2"]
    assert bench.findings()[0] == finding
    bench.workspace.select(finding.tracking_uid)
    bench.tools.set_tool(AnnotationTool.SELECT)
    count = bench.workspace.undo_stack.count()
    with qtbot.waitSignal(bench.workspace.changed):
        real_drag(qtbot, bench, (cx - 10.0, cy - 5.0), (cx - 60.0, cy - 45.0))
    assert bench.workspace.undo_stack.count() == count + 1
    moved = bench.findings()[0]
    assert moved.tracking_uid == finding.tracking_uid
    old, new = finding.regions[0].points[0], moved.regions[0].points[0]
    assert new[0] - old[0] == pytest.approx(-50.0, abs=2.0)
    assert new[1] - old[1] == pytest.approx(-40.0, abs=2.0)


def test_a_suggested_nipple_is_hollow_and_dashed_until_dragged(qtbot: QtBot, bench: Bench) -> None:
    sop = bench.decoded.record.sop_instance_uid
    point = nipple("LCC_POST")
    bench.workspace.set_landmark(bench.study, NippleLandmark(sop, None, point, confirmed=False))
    assert bench.layer.nipple_suggested() is True
    (ring,) = [i for i in bench.layer.items_for(NIPPLE_KEY) if isinstance(i, QGraphicsPathItem)]
    assert ring.pen().style() == Qt.PenStyle.DashLine
    assert ring.brush().style() == Qt.BrushStyle.NoBrush
    assert SUGGESTED_NIPPLE_LABEL in bench.layer.label_texts()
    # Dragging it accepts it: the moved landmark is the reader's, drawn solid, labelled N.
    with qtbot.waitSignal(bench.workspace.changed):
        bench.layer.move_handle(NIPPLE_KEY, 0, (point[0] - 5.0, point[1]))
    (moved,) = bench.workspace.annotations(bench.study).landmarks
    assert moved.confirmed
    assert moved.point == pytest.approx((point[0] - 5.0, point[1]), abs=1e-3)
    assert bench.layer.nipple_suggested() is False
    (ring,) = [i for i in bench.layer.items_for(NIPPLE_KEY) if isinstance(i, QGraphicsPathItem)]
    assert ring.pen().style() == Qt.PenStyle.SolidLine
    assert ring.brush().style() == Qt.BrushStyle.SolidPattern
    assert "N" in bench.layer.label_texts()
    bench.workspace.undo_stack.undo()
    assert bench.layer.nipple_suggested() is True
