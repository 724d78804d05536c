"""Ruler tool on the real sample study: mm against the ground truth, drags, images, flips."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from galactoview.dicom.mammography import Flip
from galactoview.imaging.measurement import Measurement
from galactoview.ui.viewer.decoding import DecodedImage
from galactoview.ui.viewer.ruler import RulerTool
from galactoview.ui.viewer.viewport import DragPhase, MouseMode, ToolDrag, Viewport
from tests.helpers import Point, ground_truth, lesion, nipple
from tests.ui.qt_helpers import sample_image, show_decoded, shown_viewport


def show(view: Viewport, label: str, flip: Flip | None = None) -> DecodedImage:
    """Show a sample image hung as the hanging protocol says (or with `flip`)."""
    decoded = sample_image(label)
    show_decoded(view, decoded, flip)
    return decoded


@pytest.fixture
def view(qtbot: QtBot) -> Viewport:
    """Return a shown 800 x 600 viewport."""
    return shown_viewport(qtbot, 800, 600)


def drag(view: Viewport, start: Point, *points: Point, mode: MouseMode = MouseMode.MEASURE) -> None:
    """Emit a left-button tool drag from `start` through `points` (the last is the release)."""
    for index, point in enumerate(points):
        phase = (
            DragPhase.START
            if index == 0
            else DragPhase.FINISH
            if index == len(points) - 1
            else DragPhase.MOVE
        )
        view.tool_drag.emit(ToolDrag(phase, mode, start, point, (0.0, 0.0)))


def cc_projected_distance_mm(lesion_id: str) -> float:
    """Return the nipple–lesion distance projected on the CC plane (x left, y posterior)."""
    (item,) = (i for i in ground_truth()["lesions"] if i["id"] == lesion_id)
    position = item["position_mm"]
    return math.hypot(position["x_patient_left"], position["y_posterior"])


def test_ruler_lengths_match_calibration_ground_truth_and_the_magnified_view(
    view: Viewport,
) -> None:
    tool = RulerTool(view)
    lengths = {}
    for label, spacing in (("LCC_POST", 0.0925), ("LCC_MAG_POST", 0.0556)):
        decoded = show(view, label)
        calibration = decoded.record.calibration
        assert calibration is not None and calibration.column_spacing_mm is not None
        assert calibration.column_spacing_mm == pytest.approx(spacing, abs=5e-5)
        start, end = nipple(label), lesion(label, "cyst-1")
        tool.add_ruler(start, end)
        (m,) = tool.rulers()
        assert m.start == pytest.approx(start)
        assert m.end == pytest.approx(end)
        pixels = math.hypot(end[0] - start[0], end[1] - start[1])
        assert m.pixels == pytest.approx(pixels, abs=1e-9)
        assert m.length_mm is not None
        assert m.length_mm == pytest.approx(pixels * calibration.column_spacing_mm, abs=1e-6)
        # The magnification factor is given at the breast mid-plane, where the cyst lies.
        assert m.length_mm == pytest.approx(cc_projected_distance_mm("cyst-1"), rel=0.01)
        lengths[label] = m.length_mm
    # The magnified view's pixels are 1.8x smaller at the object: the same mm.
    assert lengths["LCC_MAG_POST"] == pytest.approx(lengths["LCC_POST"], rel=0.01)
    (label_item,) = tool.label_items()
    assert label_item.toPlainText().endswith("mag-corrected ×1.8")
    assert label_item.toPlainText().startswith(f"{lengths['LCC_MAG_POST']:.1f} mm\n")


def test_a_measure_drag_draws_one_live_ruler_and_reports_it(qtbot: QtBot, view: Viewport) -> None:
    show(view, "LCC_POST")
    view.mouse_mode = MouseMode.MEASURE
    tool = RulerTool(view)
    start = (100.25, 200.5)
    drag(view, start, (150.0, 220.0))
    (live,) = tool.rulers()
    assert live.end == pytest.approx((150.0, 220.0))
    with qtbot.waitSignal(tool.measured) as blocker:
        drag(view, start, (300.0, 260.0), (400.5, 600.75))
    # The START above began a second ruler; only the first drag was not finished.
    m = blocker.args[0]
    assert isinstance(m, Measurement)
    assert m.start == pytest.approx(start)
    assert m.end == pytest.approx((400.5, 600.75))
    assert tool.rulers()[-1] == m
    assert len(tool.rulers()) == 2


def test_one_complete_drag_gives_exactly_one_ruler(qtbot: QtBot, view: Viewport) -> None:
    show(view, "LCC_POST")
    tool = RulerTool(view)
    with qtbot.waitSignal(tool.measured) as blocker:
        drag(view, (10.0, 20.0), (20.0, 20.0), (30.0, 20.0), (40.0, 60.0))
    (m,) = tool.rulers()
    assert blocker.args == [m]
    assert (m.start, m.end) == ((10.0, 20.0), (40.0, 60.0))
    assert m.pixels == pytest.approx(50.0)


def test_magnify_drags_draw_no_ruler(view: Viewport) -> None:
    show(view, "LCC_POST")
    tool = RulerTool(view)
    drag(view, (10.0, 20.0), (20.0, 20.0), (40.0, 60.0), mode=MouseMode.MAGNIFY)
    assert tool.rulers() == []


def test_rulers_are_kept_per_image_and_come_back(view: Viewport) -> None:
    tool = RulerTool(view)
    show(view, "LCC_POST")
    tool.add_ruler((10.0, 10.0), (110.0, 10.0))
    tool.add_ruler((10.0, 50.0), (10.0, 150.0))
    first = tool.rulers()
    labels = tool.label_items()
    assert len(first) == 2
    show(view, "LCC_MAG_POST")
    assert tool.rulers() == []
    assert not any(label.isVisible() for label in labels)
    tool.add_ruler((0.0, 0.0), (30.0, 40.0))
    assert len(tool.rulers()) == 1
    show(view, "LCC_POST")
    assert tool.rulers() == first
    assert all(label.isVisible() for label in tool.label_items())
    tool.delete_last()
    assert tool.rulers() == first[:1]
    tool.clear()
    assert tool.rulers() == []
    show(view, "LCC_MAG_POST")
    assert [m.pixels for m in tool.rulers()] == [pytest.approx(50.0)]
    view.clear_image()
    assert tool.rulers() == []


def test_dragging_an_end_handle_updates_the_label_and_reports(qtbot: QtBot, view: Viewport) -> None:
    show(view, "LCC_POST")
    tool = RulerTool(view)
    tool.add_ruler((100.0, 100.0), (200.0, 100.0))
    (label,) = tool.label_items()
    before = label.toPlainText()
    roi = label.parentItem().childItems()
    (ruler_roi,) = [item for item in roi if hasattr(item, "getHandles")]
    handle = ruler_roi.getHandles()[1]
    with qtbot.waitSignal(tool.measured) as blocker:
        ruler_roi.movePoint(handle, QPointF(300.0, 100.0), coords="parent")
    (m,) = tool.rulers()
    assert m.end == pytest.approx((300.0, 100.0))
    assert blocker.args == [m]
    assert m.length_mm is not None
    assert label.toPlainText() == f"{m.length_mm:.1f} mm\nmag-corrected ×1.0815"
    assert label.toPlainText() != before


def test_label_is_not_mirrored_on_the_flipped_prior_rcc(view: Viewport) -> None:
    decoded = show(view, "RCC")
    assert view.flip.horizontal  # stored A\L, hung P\L
    tool = RulerTool(view)
    tool.add_ruler((200.0, 300.0), (900.0, 700.0))
    view.grab()  # paint: TextItem fixes its transform when painted
    (label,) = tool.label_items()
    assert label.isVisible()
    image_device = view.image_item.deviceTransform(view.viewportTransform())
    assert image_device.m11() < 0.0  # the image (and the ruler) is mirrored...
    device = label.deviceTransform(view.viewportTransform())
    assert device.m11() > 0.0  # ...the text is not
    assert device.m22() > 0.0
    assert device.m12() == pytest.approx(0.0, abs=1e-9)
    assert device.m21() == pytest.approx(0.0, abs=1e-9)
    assert device.m11() == pytest.approx(1.0, rel=1e-6)  # text drawn 1:1 on screen
    assert label.pos() == QPointF(900.0, 700.0)  # at the ruler's end point
    assert decoded.record.view.label == "R CC"


def test_unknown_calibration_labels_say_uncalibrated(view: Viewport) -> None:
    decoded = sample_image("LCC_POST")
    view.set_image(decoded.stored, decoded.pipeline, None)  # no record, no calibration
    tool = RulerTool(view)
    tool.add_ruler((0.0, 0.0), (0.0, 512.0))
    (m,) = tool.rulers()
    assert m.length_mm is None
    assert tool.label_items()[0].toPlainText() == "512 px — uncalibrated, no mm"
    (label,) = tool.label_items()
    view.clear_image()  # rulers of an image without a UID are not kept
    assert label.scene() is None
    view.set_image(decoded.stored, decoded.pipeline, None)
    assert tool.rulers() == []
    tool.add_ruler((0.0, 0.0), (0.0, 100.0))
    show(view, "LCC_POST")
    view.set_image(decoded.stored, decoded.pipeline, None)
    assert tool.rulers() == []


# QTest warns when the press/release is "not accepted": pyqtgraph's scene accepts the
# drag that follows, not the press itself.
@pytest.mark.qt_log_ignore(r'Mouse event "Mouse(Press|Release)" not accepted by receiving widget')
def test_a_real_mouse_drag_in_measure_mode_draws_the_ruler(qtbot: QtBot, view: Viewport) -> None:
    show(view, "LCC_POST")
    view.mouse_mode = MouseMode.MEASURE
    tool = RulerTool(view)
    view.grab()  # lay out and paint once, so that scene mappings are up to date
    widget = view.viewport()
    press, release = QPoint(300, 300), QPoint(500, 400)
    with qtbot.waitSignal(tool.measured) as blocker:
        QTest.mousePress(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, press)
        for step in range(1, 11):
            QTest.mouseMove(widget, press + (release - press) * (step / 10))
        QTest.mouseRelease(
            widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, release
        )
    (m,) = tool.rulers()
    assert blocker.args == [m]
    expected = [view.image_item.mapFromScene(view.mapToScene(point)) for point in (press, release)]
    assert m.start == pytest.approx((expected[0].x(), expected[0].y()))
    assert m.end == pytest.approx((expected[1].x(), expected[1].y()))
    assert m.pixels > 100.0
