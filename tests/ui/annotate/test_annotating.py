"""Marking findings in the main window: tools, undo/redo, linking views, and restart."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from galactoview.annotations.model import FindingType, GraphicType
from galactoview.ui.annotate.annotation_tools import AnnotationTool
from galactoview.ui.shell.main_window import MainWindow
from galactoview.ui.viewer.viewport import DragPhase, MouseMode, ToolClick, ToolDrag, Viewport
from tests.helpers import sample_images
from tests.ui.annotate.test_annotation_saver import copy_ductogram
from tests.ui.conftest import OpenWindow
from tests.ui.shell.test_workstation import settle


def drag(viewport: Viewport, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Emit a left-button drag in item coordinates, as the view box does for a real drag."""
    for phase, now in ((DragPhase.START, start), (DragPhase.MOVE, end), (DragPhase.FINISH, end)):
        viewport.tool_drag.emit(ToolDrag(phase, viewport.mouse_mode, start, now, (0.0, 0.0)))


def click(viewport: Viewport, at: tuple[float, float], double: bool = False) -> None:
    """Emit a left-button click in item coordinates."""
    viewport.tool_click.emit(
        ToolClick(viewport.mouse_mode, at, double, Qt.KeyboardModifier.NoModifier)
    )


def opened(open_window: OpenWindow, qtbot: QtBot, tmp_path: Path) -> MainWindow:
    return opened_in(open_window, qtbot, copy_ductogram(tmp_path))


def opened_in(open_window: OpenWindow, qtbot: QtBot, folder: Path) -> MainWindow:
    window = open_window([folder])
    settle(qtbot, window)
    return window


def test_ellipse_tool_marks_a_defect_with_mm_and_undo_redo(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window = opened(open_window, qtbot, tmp_path)
    QTest.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ShiftModifier)
    assert window.mouse_mode is MouseMode.ANNOTATE
    assert window.annotation_tool is AnnotationTool.ELLIPSE
    cc = window.viewport
    assert cc.record is not None
    drag(cc, (500.0, 1200.0), (560.0, 1240.0))
    study = cc.record.study_instance_uid
    (finding,) = window.workspace.annotations(study).findings
    assert finding.finding_type is FindingType.INTRALUMINAL_FILLING_DEFECT
    assert finding.short_id == "FD-1"
    assert finding.regions[0].graphic_type is GraphicType.ELLIPSE
    long_axis = next(m for m in finding.measurements if m.name.meaning.lower() == "long axis")
    assert abs(long_axis.value - round(60 * 0.0925, 2)) < 0.011
    assert "mag-corrected" in long_axis.calibration_source
    assert window.windowTitle().startswith("• ")
    assert window.named_actions["undo"].text().replace("&", "") == "Undo Add FD-1"
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.workspace.annotations(study).findings == ()
    QTest.keyClick(
        window,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert window.workspace.annotations(study).findings == (finding,)
    assert any("FD-1" in text for text in window.tools.layers[cc].label_texts())


def test_palette_type_then_point_tool_and_the_findings_dock_lists_it(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window = opened(open_window, qtbot, tmp_path)
    window.finding_palette.type_actions()[FindingType.CYST_FILL].trigger()
    QTest.keyClick(window, Qt.Key.Key_M)
    click(window.viewport, (300.0, 1300.0))
    assert window.viewport.record is not None
    (finding,) = window.workspace.annotations(window.viewport.record.study_instance_uid).findings
    assert (finding.short_id, finding.finding_type) == ("CY-1", FindingType.CYST_FILL)
    assert window.findings_dock.item_for(finding.tracking_uid) is not None
    QTest.keyClick(window, Qt.Key.Key_Delete)
    assert window.workspace.annotations(window.viewport.record.study_instance_uid).findings == ()


def test_linking_adds_the_ml_region_to_the_cc_finding(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window = opened(open_window, qtbot, tmp_path)
    window.set_annotation_tool(AnnotationTool.CIRCLE)
    cc, ml = window.hanging_view.viewports
    drag(cc, (520.0, 1250.0), (600.0, 1250.0))
    assert cc.record is not None and ml.record is not None
    study = cc.record.study_instance_uid
    (finding,) = window.workspace.annotations(study).findings
    window.workspace.select(finding.tracking_uid)
    assert window.findings_dock.start_linking()
    drag(ml, (700.0, 900.0), (780.0, 900.0))
    (linked,) = window.workspace.annotations(study).findings
    assert linked.tracking_uid == finding.tracking_uid
    assert [r.sop_instance_uid for r in linked.regions] == [
        cc.record.sop_instance_uid,
        ml.record.sop_instance_uid,
    ]
    assert not window.findings_dock.is_linking()


def test_marks_come_back_after_a_restart(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    folder = copy_ductogram(tmp_path)
    window = open_window([folder])
    settle(qtbot, window)
    window.set_annotation_tool(AnnotationTool.NIPPLE)
    click(window.viewport, (1100.0, 1150.0))
    window.set_annotation_tool(AnnotationTool.DUCT_TRACE)
    for point in ((1100.0, 1150.0), (900.0, 1180.0), (700.0, 1220.0)):
        click(window.viewport, point)
    QTest.keyClick(window, Qt.Key.Key_Return)
    record = window.viewport.record
    assert record is not None
    before = window.workspace.annotations(record.study_instance_uid)
    assert len(before.duct_segments) == 1 and len(before.landmarks) == 1
    window.close()
    again = open_window([folder])
    after = again.workspace.annotations(record.study_instance_uid)
    assert after.duct_segments == before.duct_segments
    assert after.landmarks == before.landmarks


def test_moving_a_nipple_says_so_on_the_status_line(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window = open_window([copy_ductogram(tmp_path)])
    settle(qtbot, window)
    window.set_annotation_tool(AnnotationTool.NIPPLE)
    window.statusBar().clearMessage()
    click(window.viewport, (1100.0, 1150.0))  # placed: nothing moved
    assert window.statusBar().currentMessage() == ""
    click(window.viewport, (1100.0, 1150.0))  # the same place: nothing moved either
    assert window.statusBar().currentMessage() == ""
    click(window.viewport, (1000.0, 1150.0))  # 100 pixels on: every location moves
    record = window.viewport.record
    assert record is not None and record.calibration is not None
    spacing = record.calibration.column_spacing_mm
    assert record.calibration.is_known and spacing is not None
    assert window.statusBar().currentMessage() == (
        f"Moved the nipple on {record.view.label} by {100.0 * spacing:.1f} mm: the lesions' "
        "distances and clock positions moved with it — Ctrl+Z puts it back"
    )


def test_findings_dock_shows_each_location_and_recomputes_it(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    import shutil

    from galactoview.annotations.model import NippleLandmark

    folder = copy_ductogram(tmp_path)
    source = next(r for r in sample_images() if r.contrast_phase.value == "post").path.parent
    for sidecar_file in source.glob("galactoview-*.sr.json"):
        shutil.copy(sidecar_file, folder / sidecar_file.name)
    window = opened_in(open_window, qtbot, folder)
    study = window.records[0].study_instance_uid
    annotations = window.workspace.annotations(study)
    defect = next(f for f in annotations.findings if f.short_id == "FD-1")
    location = window.findings_dock.row_texts(defect.tracking_uid)[2]
    assert location.startswith("Left, 7 o'clock, LIQ, middle third, ")
    assert location.endswith(" mm from the nipple")
    assert 53 <= float(location.split(", ")[-1].split()[0]) <= 63  # ground truth 57.75 mm
    cc_nipple = next(n for n in annotations.landmarks if n.point[0] > 1000)
    moved = NippleLandmark(
        cc_nipple.sop_instance_uid, cc_nipple.frame, (cc_nipple.point[0] - 300, cc_nipple.point[1])
    )
    window.workspace.set_landmark(study, moved)
    assert window.findings_dock.row_texts(defect.tracking_uid)[2] != location


def test_suggested_nipples_land_on_the_ground_truth_and_undo(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    import json

    truth = json.loads(
        (Path(__file__).parents[3] / "sample_data" / "ground_truth.json").read_text()
    )
    nipples = {image["sop_instance_uid"]: image["nipple"] for image in truth["images"]}
    window = opened(open_window, qtbot, tmp_path)
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ShiftModifier)
    shown = [v.record for v in window.hanging_view.viewports if v.record is not None]
    assert len(shown) == 2
    study = shown[0].study_instance_uid
    for record in shown:
        landmark = window.workspace.annotations(study).landmark(record.sop_instance_uid)
        assert landmark is not None
        expected = nipples[record.sop_instance_uid]
        assert abs(landmark.point[0] - expected["column"]) < 10
        assert abs(landmark.point[1] - expected["row"]) < 10
    assert (
        window.statusBar().currentMessage()
        == "Nipple suggested on L CC, L ML (dashed, N?): drag to correct, Shift+A accepts all"
    )
    assert window.workspace.undo_stack.undoText() == "Suggest nipples"
    assert window.suggest_nipples() == 0  # images with a landmark keep it
    assert window.statusBar().currentMessage() == (
        "No nipple suggested — L CC, L ML already had one"  # not "0 suggested" (issue 15)
    )
    window.workspace.undo_stack.undo()  # one undo takes every suggestion back
    assert window.workspace.annotations(study).landmarks == ()


def test_suggested_nipples_look_suggested_until_shift_a_accepts_them_in_one_undo(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window = opened(open_window, qtbot, tmp_path)
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ShiftModifier)
    study = window.viewport.record.study_instance_uid if window.viewport.record else ""
    landmarks = window.workspace.annotations(study).landmarks
    assert len(landmarks) == 2 and not any(n.confirmed for n in landmarks)
    layers = [window.tools.layers[v] for v in window.hanging_view.viewports_showing_images()]
    assert [layer.nipple_suggested() for layer in layers] == [True, True]
    stack = window.workspace.undo_stack
    before = stack.count()
    QTest.keyClick(window, Qt.Key.Key_A, Qt.KeyboardModifier.ShiftModifier)
    assert window.statusBar().currentMessage() == "Accepted 2 suggested nipples (L CC, L ML)"
    assert stack.count() == before + 1  # one undo step for all of them
    assert stack.undoText() == "Accept 2 suggested nipples"
    accepted = window.workspace.annotations(study).landmarks
    assert all(n.confirmed for n in accepted)
    assert [n.point for n in accepted] == [n.point for n in landmarks]  # not moved
    assert [layer.nipple_suggested() for layer in layers] == [False, False]
    stack.undo()
    assert window.workspace.annotations(study).landmarks == landmarks  # suggested again
    assert [layer.nipple_suggested() for layer in layers] == [True, True]
    stack.redo()
    stack.redo()  # nothing more to redo
    QTest.keyClick(window, Qt.Key.Key_A, Qt.KeyboardModifier.ShiftModifier)
    assert window.statusBar().currentMessage() == "No suggested nipple to accept"
