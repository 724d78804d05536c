"""Findings dock: listing, navigation, selection, undoable editing, linking, deleting."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFocusEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QTreeWidgetItem, QWidget
from pytestqt.qtbot import QtBot

from galactoview.annotations import codes
from galactoview.annotations.geometry import measure_region, path_length_measurement
from galactoview.annotations.model import (
    DuctSegment,
    Finding,
    FindingType,
    GraphicType,
    ImageRegion,
    NippleLandmark,
)
from galactoview.dicom.loading import ImageRecord
from galactoview.dicom.mammography import Laterality
from galactoview.ui.annotate.annotation_workspace import AnnotationWorkspace
from galactoview.ui.annotate.findings_dock import FindingsDock

# Indices into the sample study (see sample_data/README.md).
PRE_CC, PRE_ML, PRIOR_LCC = 0, 1, 6


@dataclass
class Scene:
    """A dock on a workspace holding findings, a duct tree and a landmark."""

    dock: FindingsDock
    workspace: AnnotationWorkspace
    records: tuple[ImageRecord, ...]
    defect: Finding
    prior: Finding
    root: DuctSegment
    branch: DuctSegment
    answers: list[str | None]


def ellipse(record: ImageRecord) -> ImageRegion:
    points = ((100.0, 200.0), (140.0, 200.0), (120.0, 190.0), (120.0, 210.0))
    return ImageRegion(record.sop_instance_uid, None, GraphicType.ELLIPSE, points)


def polyline(record: ImageRecord, *points: tuple[float, float]) -> ImageRegion:
    return ImageRegion(record.sop_instance_uid, None, GraphicType.POLYLINE, points)


@pytest.fixture
def scene(qtbot: QtBot, sample_records: tuple[ImageRecord, ...]) -> Scene:
    records = sample_records
    cc, prior_cc = records[PRE_CC], records[PRIOR_LCC]
    region = ellipse(cc)
    defect = Finding.new(
        FindingType.INTRALUMINAL_FILLING_DEFECT,
        [region],
        short_id="FD-1",
        laterality=Laterality.LEFT,
        measurements=measure_region(region, cc.calibration),
        impression=codes.INTRADUCTAL_PAPILLOMA,
        note="Smooth margin\nsecond line",
        observer="Curie^Marie",
    )
    prior = Finding.new(
        FindingType.CYST_FILL,
        [ImageRegion(prior_cc.sop_instance_uid, None, GraphicType.POINT, ((50.0, 60.0),))],
        short_id="CY-1",
        laterality=Laterality.LEFT,
    )
    trace = polyline(cc, (10.0, 10.0), (40.0, 50.0))
    root = DuctSegment.new(
        trace,
        short_id="DS-1",
        laterality=Laterality.LEFT,
        path_length=path_length_measurement(trace, cc.calibration),
    )
    branch = DuctSegment.new(
        polyline(cc, (40.0, 50.0), (60.0, 90.0)), short_id="DS-2", parent_uid=root.tracking_uid
    )
    workspace = AnnotationWorkspace()
    workspace.add_finding(cc.study_instance_uid, defect)
    workspace.add_finding(prior_cc.study_instance_uid, prior)
    workspace.add_duct_segment(cc.study_instance_uid, root)
    workspace.add_duct_segment(cc.study_instance_uid, branch)
    workspace.set_landmark(cc.study_instance_uid, NippleLandmark(cc.sop_instance_uid, None, (5, 5)))
    workspace.select(None)
    workspace.undo_stack.clear()
    answers: list[str | None] = []

    def ask(_parent: QWidget | None, _initial: str) -> str | None:
        return answers.pop(0) if answers else None

    dock = FindingsDock(workspace, ask_text=ask)
    qtbot.addWidget(dock)
    dock.set_images(records)
    dock.resize(900, 600)
    dock.show()
    qtbot.waitExposed(dock)
    return Scene(dock, workspace, records, defect, prior, root, branch, answers)


def click(qtbot: QtBot, scene: Scene, item: QTreeWidgetItem) -> None:
    tree = scene.dock.tree
    tree.scrollToItem(item)
    QTest.mouseClick(
        tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(item).center()
    )


def finding(scene: Scene, uid: str) -> Finding:
    study = scene.workspace.study_of(uid)
    assert study is not None
    return scene.workspace.annotations(study).finding(uid)


def test_lists_findings_ducts_and_landmarks(scene: Scene) -> None:
    dock = scene.dock
    texts = dock.row_texts(scene.defect.tracking_uid)
    calibration = scene.records[PRE_CC].calibration
    assert calibration is not None
    long_axis = scene.defect.measurements[0]
    assert long_axis.name == codes.LONG_AXIS
    assert texts == (
        "FD-1",
        "Intraluminal filling defect",
        "not located: needs an ML or MLO region",  # the CC has its nipple
        "L CC",
        f"Long axis {long_axis.value:.1f} mm [{calibration.short_label()}]",
        "Intraductal papilloma",
        "Smooth margin…",
    )
    prior = dock.row_texts(scene.prior.tracking_uid)
    assert (prior[:2], prior[3:5]) == (("CY-1", "Cyst fill"), ("L CC", ""))
    # one group per study, named by date and description
    tops = [dock.tree.topLevelItem(i) for i in range(dock.tree.topLevelItemCount())]
    groups = [top.text(0) for top in tops if top is not None]
    assert groups == ["2026-03-12 DUCTOGRAM LEFT", "2024-02-20 SCREENING MAMMOGRAM BILATERAL"]
    # the duct tree: Ducts → DS-1 → DS-2
    root_item = dock.item_for(scene.root.tracking_uid)
    branch_item = dock.item_for(scene.branch.tracking_uid)
    assert root_item is not None and branch_item is not None
    assert branch_item.parent() is root_item
    ducts = root_item.parent()
    assert ducts is not None and ducts.text(0) == "Ducts"
    # duct rows fill the same columns as findings: image, then measurement
    assert root_item.text(3) == "L CC"
    assert root_item.text(4).startswith("Path length ")
    assert branch_item.text(4) == "uncalibrated"
    # the landmark row names its image
    group = tops[0]
    assert group is not None
    rows = [group.child(i) for i in range(group.childCount())]
    assert [row.text(0) for row in rows if row is not None] == ["FD-1", "Ducts", "Nipple"]
    nipple = rows[2]
    assert nipple is not None and nipple.text(3) == "L CC"
    landmark = nipple.child(0)
    assert landmark is not None and landmark.text(0) == "L CC"  # not "nipple" three times
    # the long type is capped, so the location is in view in a narrow dock
    assert dock.tree.columnWidth(1) <= 120


def test_clicking_a_row_navigates_and_selects(qtbot: QtBot, scene: Scene) -> None:
    item = scene.dock.item_for(scene.prior.tracking_uid)
    assert item is not None
    with qtbot.waitSignal(scene.dock.navigate) as navigated:
        click(qtbot, scene, item)
    prior_cc = scene.records[PRIOR_LCC]
    assert navigated.args == [scene.prior.tracking_uid, prior_cc.sop_instance_uid]
    assert scene.workspace.selected == scene.prior.tracking_uid
    assert scene.dock.id_label.text() == "CY-1"


def test_workspace_selection_selects_the_row_without_navigating(qtbot: QtBot, scene: Scene) -> None:
    with qtbot.assertNotEmitted(scene.dock.navigate):
        scene.workspace.select(scene.defect.tracking_uid)
    assert scene.dock.tree.currentItem() is scene.dock.item_for(scene.defect.tracking_uid)
    assert scene.dock.id_label.text() == "FD-1"
    assert scene.dock.note_edit.toPlainText() == "Smooth margin\nsecond line"
    assert scene.dock.observer_label.text() == "Curie, Marie"
    scene.workspace.select(None)
    assert scene.dock.tree.currentItem() is None
    assert not scene.dock.editor.isEnabled()


def test_changing_the_type_is_one_undoable_command(scene: Scene) -> None:
    uid = scene.defect.tracking_uid
    scene.workspace.select(uid)
    scene.dock.type_combo.setCurrentText(FindingType.CYST_FILL.value)
    assert scene.workspace.undo_stack.count() == 1
    changed = finding(scene, uid)
    assert changed.finding_type is FindingType.CYST_FILL
    assert changed.short_id == "CY-1"  # the prior study's CY-1 is another study
    assert scene.dock.row_texts(uid)[:2] == ("CY-1", "Cyst fill")
    scene.workspace.undo_stack.undo()
    assert finding(scene, uid) == scene.defect
    assert scene.dock.type_combo.currentText() == FindingType.INTRALUMINAL_FILLING_DEFECT.value


def test_other_requires_a_description(scene: Scene) -> None:
    uid = scene.defect.tracking_uid
    scene.workspace.select(uid)
    scene.answers.append(None)  # cancelled
    scene.dock.type_combo.setCurrentText(FindingType.OTHER.value)
    assert scene.workspace.undo_stack.count() == 0
    assert scene.dock.type_combo.currentText() == FindingType.INTRALUMINAL_FILLING_DEFECT.value
    scene.answers.append("Calcified plug")
    scene.dock.type_combo.setCurrentText(FindingType.OTHER.value)
    assert scene.workspace.undo_stack.count() == 1
    other = finding(scene, uid)
    assert (other.finding_type, other.other_text, other.short_id) == (
        FindingType.OTHER,
        "Calcified plug",
        "OT-1",
    )
    assert scene.dock.row_texts(uid)[1] == "Other finding: Calcified plug"
    # the description cannot be emptied
    scene.dock.other_edit.setText("")
    scene.dock.other_edit.editingFinished.emit()
    assert scene.workspace.undo_stack.count() == 1
    assert scene.dock.other_edit.text() == "Calcified plug"


def test_changing_the_impression_is_one_undoable_command(scene: Scene) -> None:
    uid = scene.defect.tracking_uid
    scene.workspace.select(uid)
    scene.dock.impression_combo.setCurrentText(codes.CYST_OF_BREAST.meaning)
    assert scene.workspace.undo_stack.count() == 1
    assert finding(scene, uid).impression == codes.CYST_OF_BREAST
    assert scene.dock.row_texts(uid)[5] == codes.CYST_OF_BREAST.meaning
    scene.workspace.undo_stack.undo()
    assert finding(scene, uid).impression == codes.INTRADUCTAL_PAPILLOMA
    assert scene.dock.impression_combo.currentText() == codes.INTRADUCTAL_PAPILLOMA.meaning


def test_clearing_the_impression_is_one_undoable_command(qtbot: QtBot, scene: Scene) -> None:
    uid = scene.defect.tracking_uid
    scene.workspace.select(uid)
    with qtbot.capture_exceptions() as exceptions:
        scene.dock.impression_combo.setCurrentIndex(0)  # "None"
    assert not exceptions
    assert scene.workspace.undo_stack.count() == 1
    assert finding(scene, uid).impression is None
    scene.workspace.undo_stack.undo()
    assert finding(scene, uid).impression == codes.INTRADUCTAL_PAPILLOMA


def test_note_is_committed_once_on_enter_and_on_focus_out(qtbot: QtBot, scene: Scene) -> None:
    uid = scene.prior.tracking_uid
    scene.workspace.select(uid)
    note = scene.dock.note_edit
    QTest.keyClicks(note, "Thin wall")
    assert scene.workspace.undo_stack.count() == 0  # not per keystroke
    QTest.keyClick(note, Qt.Key.Key_Return)
    assert scene.workspace.undo_stack.count() == 1
    assert finding(scene, uid).note == "Thin wall"
    QTest.keyClick(note, Qt.Key.Key_Return)  # nothing changed: no command
    assert scene.workspace.undo_stack.count() == 1
    QTest.keyClicks(note, " ok")
    QApplication.sendEvent(note, QFocusEvent(QEvent.Type.FocusOut))
    assert scene.workspace.undo_stack.count() == 2
    assert finding(scene, uid).note == "Thin wall ok"
    scene.workspace.undo_stack.undo()
    scene.workspace.undo_stack.undo()
    assert finding(scene, uid).note == ""
    assert note.toPlainText() == ""


def test_linking_adds_the_next_region_to_the_selected_finding(qtbot: QtBot, scene: Scene) -> None:
    dock, uid = scene.dock, scene.defect.tracking_uid
    assert not dock.start_linking()  # nothing selected
    scene.workspace.select(uid)
    with qtbot.waitSignal(dock.linking_changed) as started:
        dock.link_button.click()
    assert started.args == [True]
    assert dock.is_linking() and dock.linking_uid == uid
    ml = scene.records[PRE_ML]
    with qtbot.waitSignal(dock.linking_changed) as ended:
        assert dock.link_region(ellipse(ml), ml.calibration)
    assert ended.args == [False]
    assert not dock.is_linking() and not dock.link_button.isChecked()
    assert scene.workspace.undo_stack.count() == 1
    assert scene.workspace.undo_stack.undoText() == "Link FD-1 to L ML"
    linked = finding(scene, uid)
    assert [r.sop_instance_uid for r in linked.regions] == [
        scene.records[PRE_CC].sop_instance_uid,
        ml.sop_instance_uid,
    ]
    assert {m.region_index for m in linked.measurements} == {0, 1}
    assert dock.row_texts(uid)[3] == "L CC, L ML"
    # each region has its own row that navigates to its image
    row = dock.item_for(uid)
    assert row is not None and row.childCount() == 2
    second = row.child(1)
    assert second is not None
    # each region row is named by its view (it read "region 2", the view off screen)
    first = row.child(0)
    assert first is not None
    assert (first.text(0), second.text(0), second.text(1)) == ("L CC", "L ML", "region 2")
    with qtbot.waitSignal(dock.navigate) as navigated:
        click(qtbot, scene, second)
    assert navigated.args == [uid, ml.sop_instance_uid]
    assert not dock.link_region(ellipse(ml), ml.calibration)  # no longer linking
    scene.workspace.undo_stack.undo()
    assert finding(scene, uid) == scene.defect


def test_selecting_another_finding_cancels_linking(qtbot: QtBot, scene: Scene) -> None:
    scene.workspace.select(scene.defect.tracking_uid)
    assert scene.dock.start_linking()
    with qtbot.waitSignal(scene.dock.linking_changed) as ended:
        scene.workspace.select(scene.prior.tracking_uid)
    assert ended.args == [False]
    assert not scene.dock.is_linking()


def test_delete_removes_and_undo_restores(scene: Scene) -> None:
    uid = scene.defect.tracking_uid
    scene.workspace.select(uid)
    scene.dock.delete_button.click()
    assert scene.dock.item_for(uid) is None
    assert scene.workspace.study_of(uid) is None
    assert scene.workspace.selected is None
    assert scene.workspace.undo_stack.count() == 1
    scene.workspace.undo_stack.undo()
    assert finding(scene, uid) == scene.defect
    assert scene.dock.row_texts(uid)[0] == "FD-1"


def test_deleting_a_root_segment_removes_its_branches(scene: Scene) -> None:
    scene.workspace.select(scene.root.tracking_uid)
    scene.dock.delete_button.click()
    assert scene.dock.item_for(scene.root.tracking_uid) is None
    assert scene.dock.item_for(scene.branch.tracking_uid) is None
    assert scene.workspace.undo_stack.count() == 1


def test_a_landmark_row_can_be_deleted(qtbot: QtBot, scene: Scene) -> None:
    group = scene.dock.tree.topLevelItem(0)
    nipples = group.child(2) if group is not None else None
    landmark = nipples.child(0) if nipples is not None else None
    assert landmark is not None and landmark.text(3) == "L CC"
    with qtbot.assertNotEmitted(scene.dock.navigate):
        click(qtbot, scene, landmark)
    assert scene.dock.tree.currentItem() is landmark
    assert scene.dock.delete_button.isEnabled()
    scene.dock.delete_button.click()
    study = scene.records[PRE_CC].study_instance_uid
    assert scene.workspace.annotations(study).landmarks == ()
    assert scene.workspace.undo_stack.undoText() == "Delete nipple"
