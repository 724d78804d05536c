"""One lesion on two views: the linking mode, the "same lesion?" question, merging findings."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from galactoview.annotations.model import Finding, FindingType
from galactoview.location.same_lesion import SameLesionCandidate
from galactoview.ui.annotate.annotation_tools import AnnotationTool
from galactoview.ui.shell.main_window import MainWindow
from galactoview.ui.viewer.viewport import Viewport
from tests.ui.annotate.test_annotating import click, drag, opened
from tests.ui.conftest import OpenWindow

#: The sample ductogram (post-contrast L CC and L ML, ground_truth.json): the nipple and
#: the filling defect "defect-1" on each view, SCOORD (column, row).
NIPPLE = (1122.74, 1147.0)
CC_DEFECT = (528.56, 1255.82)
ML_DEFECT = (555.3, 1361.49)
#: A point on the ML a few mm from the nipple: not the defect's distance.
ML_NEAR_NIPPLE = (1060.0, 1150.0)


def with_nipples(open_window: OpenWindow, qtbot: QtBot, tmp_path: Path) -> MainWindow:
    """Open the ductogram with the nipple marked on both views."""
    window = opened(open_window, qtbot, tmp_path)
    window.set_annotation_tool(AnnotationTool.NIPPLE)
    for viewport in window.hanging_view.viewports:
        click(viewport, NIPPLE)
    return window


def views(window: MainWindow) -> tuple[Viewport, Viewport]:
    cc, ml = window.hanging_view.viewports
    assert cc.record is not None and ml.record is not None
    assert (cc.record.view.short_name, ml.record.view.short_name) == ("CC", "ML")
    return cc, ml


def uid(viewport: Viewport) -> str:
    assert viewport.record is not None
    return viewport.record.sop_instance_uid


def circle_at(viewport: Viewport, centre: tuple[float, float], radius: float = 60.0) -> None:
    drag(viewport, centre, (centre[0] + radius, centre[1]))


def findings(window: MainWindow) -> tuple[Finding, ...]:
    record = window.viewport.record
    assert record is not None
    return window.workspace.annotations(record.study_instance_uid).findings


def location(window: MainWindow, finding: Finding) -> str:
    return window.findings_dock.row_texts(finding.tracking_uid)[2]


def same_lesion_box() -> QMessageBox:
    boxes = [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QMessageBox) and w.objectName() == "SameLesionDialog" and w.isVisible()
    ]
    assert len(boxes) == 1
    return boxes[0]


Answer = Callable[[QWidget, SameLesionCandidate, Callable[[bool], None]], None]


def answering(same: bool, asked: list[SameLesionCandidate]) -> Answer:
    def ask(
        _parent: QWidget, candidate: SameLesionCandidate, answer: Callable[[bool], None]
    ) -> None:
        asked.append(candidate)
        answer(same)

    return ask


def test_linking_mode_is_shown_and_gives_one_located_finding(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window = with_nipples(open_window, qtbot, tmp_path)
    cc, ml = views(window)
    dock = window.findings_dock
    asked: list[SameLesionCandidate] = []
    dock.ask_same_lesion = answering(False, asked)
    window.set_annotation_tool(AnnotationTool.CIRCLE)
    circle_at(cc, CC_DEFECT)
    (defect,) = findings(window)
    assert location(window, defect) == "not located: needs an ML or MLO region"
    window.set_annotation_tool(AnnotationTool.SELECT)
    window.workspace.select(defect.tracking_uid)
    action = window.named_actions["link_finding"]
    assert action is dock.link_action and action.isEnabled() and not action.isChecked()
    action.trigger()
    # pressed, a banner above the images and the status bar say what to draw
    assert dock.is_linking() and action.isChecked() and dock.link_button.isChecked()
    banner = "Drawing the ML or MLO partner of FD-1 (on the L CC) — Esc to cancel"
    assert dock.banner.isVisible() and dock.banner.text() == banner
    assert window.statusBar().currentMessage() == banner
    assert dock.link_button.text() == "Linking FD-1… (Esc)"
    # linking from the Select tool takes the linked finding's shape
    assert window.annotation_tool is AnnotationTool.CIRCLE
    circle_at(ml, ML_DEFECT)
    (linked,) = findings(window)
    assert asked == []  # the mode decides: no question
    assert linked.tracking_uid == defect.tracking_uid
    assert [r.sop_instance_uid for r in linked.regions] == [uid(cc), uid(ml)]
    assert location(window, linked).startswith("Left, 7 o'clock, LIQ, ")
    assert not dock.is_linking() and not action.isChecked() and not dock.link_button.isChecked()
    assert not dock.banner.isVisible() and window.statusBar().currentMessage() == ""
    assert window.workspace.undo_stack.undoText() == "Link FD-1 to L ML"


def test_escape_and_the_banner_cancel_linking(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window = with_nipples(open_window, qtbot, tmp_path)
    cc, _ml = views(window)
    dock = window.findings_dock
    window.set_annotation_tool(AnnotationTool.CIRCLE)
    circle_at(cc, CC_DEFECT)
    (defect,) = findings(window)
    window.workspace.select(defect.tracking_uid)
    assert dock.start_linking() and dock.banner.isVisible()
    QTest.keyClick(window, Qt.Key.Key_Escape)
    assert not dock.is_linking() and not dock.banner.isVisible()
    assert not window.named_actions["link_finding"].isChecked()
    dock.link_button.click()
    assert dock.is_linking() and dock.link_action.isChecked()
    dock.banner.cancel_button.click()
    assert not dock.is_linking() and not dock.link_button.isChecked()
    assert findings(window) == (defect,)  # nothing changed


def test_same_lesion_question_yes_joins_the_finding_in_one_undoable_edit(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window = with_nipples(open_window, qtbot, tmp_path)
    cc, ml = views(window)
    window.set_annotation_tool(AnnotationTool.CIRCLE)
    circle_at(cc, CC_DEFECT)
    (defect,) = findings(window)
    circle_at(ml, ML_DEFECT)  # not linking: the question is asked, nothing added yet
    box = same_lesion_box()
    assert box.text() == "Same lesion as FD-1?"
    assert "agree" in box.informativeText() and "do not agree" not in box.informativeText()
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Yes)
    assert findings(window) == (defect,)
    box.button(QMessageBox.StandardButton.Yes).click()
    (joined,) = findings(window)
    assert joined.tracking_uid == defect.tracking_uid and len(joined.regions) == 2
    assert location(window, joined).startswith("Left, 7 o'clock, LIQ, ")
    window.workspace.undo_stack.undo()  # one edit: back to the CC only
    assert findings(window) == (defect,)


def test_same_lesion_question_no_makes_a_second_finding_that_says_what_it_needs(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window = with_nipples(open_window, qtbot, tmp_path)
    cc, ml = views(window)
    window.finding_palette.type_actions()[FindingType.CYST_FILL].trigger()
    window.set_annotation_tool(AnnotationTool.CIRCLE)
    circle_at(cc, CC_DEFECT)
    circle_at(ml, ML_NEAR_NIPPLE)
    box = same_lesion_box()
    assert box.text() == "Same lesion as CY-1?"
    assert "do not agree" in box.informativeText()
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.No)
    box.button(QMessageBox.StandardButton.No).click()
    first, second = findings(window)
    assert (first.short_id, second.short_id) == ("CY-1", "CY-2")
    # both nipples are marked: each finding asks only for the view it lacks
    assert location(window, first) == "not located: needs an ML or MLO region"
    assert location(window, second) == "not located: needs a CC region"


def test_no_question_for_another_type_or_the_same_view(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window = with_nipples(open_window, qtbot, tmp_path)
    cc, ml = views(window)
    asked: list[SameLesionCandidate] = []
    window.findings_dock.ask_same_lesion = answering(True, asked)
    window.set_annotation_tool(AnnotationTool.CIRCLE)
    circle_at(cc, CC_DEFECT)
    circle_at(cc, (700.0, 1200.0))  # same view
    window.finding_palette.type_actions()[FindingType.CYST_FILL].trigger()
    circle_at(ml, ML_DEFECT)  # other type
    assert asked == []
    assert [f.short_id for f in findings(window)] == ["FD-1", "FD-2", "CY-1"]


@pytest.mark.parametrize("answer", [True, False])
def test_the_question_hook_gets_the_distances(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path, answer: bool
) -> None:
    window = with_nipples(open_window, qtbot, tmp_path)
    cc, ml = views(window)
    asked: list[SameLesionCandidate] = []
    window.findings_dock.ask_same_lesion = answering(answer, asked)
    window.set_annotation_tool(AnnotationTool.POINT)
    click(cc, CC_DEFECT)
    click(ml, ML_DEFECT)
    (candidate,) = asked
    assert (candidate.old_view, candidate.new_view) == ("L CC", "L ML")
    assert candidate.old_distance_mm is not None and candidate.new_distance_mm is not None
    assert candidate.likely
    assert len(findings(window)) == (1 if answer else 2)


def test_merging_two_findings_is_undoable(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window = with_nipples(open_window, qtbot, tmp_path)
    cc, ml = views(window)
    dock = window.findings_dock
    dock.ask_same_lesion = answering(False, [])
    window.set_annotation_tool(AnnotationTool.CIRCLE)
    circle_at(cc, CC_DEFECT)
    circle_at(ml, ML_DEFECT)
    first, second = findings(window)
    window.workspace.replace_finding(dataclasses.replace(second, note="ML: smooth"))
    # the context menu of FD-2's row offers the merge, the first finding kept
    menu = dock.context_menu(dock.item_for(second.tracking_uid))
    assert menu is not None
    merge_menu = next(m for a in menu.actions() if isinstance(m := a.menu(), QMenu))
    assert [a.text() for a in merge_menu.actions()] == ["Merge FD-2 into FD-1"]
    assert dock.merge_choices(second.tracking_uid) == (
        ("Merge FD-2 into FD-1", first.tracking_uid, second.tracking_uid),
    )
    merge_menu.actions()[0].trigger()
    (merged,) = findings(window)
    assert (merged.tracking_uid, merged.short_id) == (first.tracking_uid, "FD-1")
    assert len(merged.regions) == 2 and merged.note == "ML: smooth"
    assert location(window, merged).startswith("Left, 7 o'clock, LIQ, ")
    assert window.workspace.selected == first.tracking_uid
    assert window.named_actions["undo"].text().replace("&", "") == "Undo Merge FD-2 into FD-1"
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert [f.tracking_uid for f in findings(window)] == [first.tracking_uid, second.tracking_uid]
    assert findings(window)[1].note == "ML: smooth"
    window.workspace.undo_stack.redo()
    assert findings(window) == (merged,)


def test_merge_menu_of_the_annotate_menu(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window = with_nipples(open_window, qtbot, tmp_path)
    cc, _ml = views(window)
    dock = window.findings_dock
    window.workspace.select(None)
    assert not window.named_actions["merge_findings"].isEnabled()
    assert [a.text() for a in dock.merge_menu().actions()] == ["Select a finding first"]
    window.set_annotation_tool(AnnotationTool.CIRCLE)
    circle_at(cc, CC_DEFECT)
    (only,) = findings(window)
    window.workspace.select(only.tracking_uid)
    assert window.named_actions["merge_findings"].isEnabled()
    menu = dock.show_merge_menu()
    assert [a.text() for a in menu.actions()] == ["No other finding in this study"]
    assert not menu.actions()[0].isEnabled()
    menu.close()
