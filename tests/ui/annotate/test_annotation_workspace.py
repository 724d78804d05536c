"""AnnotationWorkspace: every edit is one undoable command on immutable snapshots."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pytestqt.qtbot import QtBot

from galactoview.annotations.model import AnnotationSet, ChestWallLine, NippleLandmark
from galactoview.annotations.report import ClinicalReport
from galactoview.ui.annotate.annotation_workspace import AnnotationWorkspace
from tests.annotations.test_document import IMAGE, STUDY, point_finding, trace


def test_edits_undo_and_redo_as_snapshots(qtbot: QtBot) -> None:
    workspace = AnnotationWorkspace()
    finding = point_finding()
    with qtbot.waitSignal(workspace.changed) as changed:
        workspace.add_finding(STUDY, finding)
    assert changed.args == [STUDY]
    assert workspace.annotations(STUDY).findings == (finding,)
    assert workspace.selected == finding.tracking_uid
    assert workspace.undo_stack.undoText() == "Add FD-1"
    assert workspace.is_modified()
    workspace.undo_stack.undo()
    assert workspace.annotations(STUDY).findings == ()
    workspace.undo_stack.redo()
    assert workspace.annotations(STUDY).findings == (finding,)


def test_deleting_a_segment_deletes_its_branches_in_one_command() -> None:
    workspace = AnnotationWorkspace()
    root = trace(None, "DS-1")
    workspace.add_duct_segment(STUDY, root)
    branch = trace(root.tracking_uid, "DS-2")
    workspace.add_duct_segment(STUDY, branch)
    twig = trace(branch.tracking_uid, "DS-3")
    workspace.add_duct_segment(STUDY, twig)
    workspace.remove(branch.tracking_uid)
    assert [s.short_id for s in workspace.annotations(STUDY).duct_segments] == ["DS-1"]
    assert workspace.undo_stack.undoText() == "Delete DS-2 and 1 branch(es)"
    workspace.undo_stack.undo()
    assert len(workspace.annotations(STUDY).duct_segments) == 3


def test_landmark_place_move_and_loaded_state_is_clean() -> None:
    workspace = AnnotationWorkspace()
    workspace.set_landmark(STUDY, NippleLandmark(IMAGE, None, (100.0, 200.0)))
    workspace.set_landmark(STUDY, NippleLandmark(IMAGE, None, (110.0, 200.0)))
    assert workspace.undo_stack.undoText() == "Move nipple"
    moved = workspace.annotations(STUDY).landmark(IMAGE)
    assert moved is not None and moved.point == (110.0, 200.0)
    workspace.undo_stack.undo()
    back = workspace.annotations(STUDY).landmark(IMAGE)
    assert back is not None and back.point == (100.0, 200.0)
    workspace.set_loaded(AnnotationSet(STUDY, findings=(point_finding(),)))
    assert not workspace.is_modified()
    assert workspace.undo_stack.count() == 0


def test_mark_saved_makes_the_study_clean_and_undo_past_it_unsaved(qtbot: QtBot) -> None:
    workspace = AnnotationWorkspace()
    with qtbot.waitSignal(workspace.modified_changed) as modified:
        workspace.add_finding(STUDY, point_finding())
    assert modified.args == [True]
    assert workspace.dirty_studies() == (STUDY,)
    with qtbot.waitSignal(workspace.modified_changed) as modified:
        workspace.mark_saved(workspace.annotations(STUDY))
    assert modified.args == [False]
    assert workspace.dirty_studies() == ()
    assert not workspace.is_modified()
    workspace.undo_stack.undo()  # the finding saved is gone: unsaved again
    assert workspace.dirty_studies() == (STUDY,)
    workspace.undo_stack.redo()  # back to what was saved
    assert workspace.dirty_studies() == ()


def test_an_edit_made_while_saving_keeps_the_study_unsaved() -> None:
    workspace = AnnotationWorkspace()
    workspace.add_finding(STUDY, point_finding())
    document = workspace.document(STUDY)
    assert document is not None
    revision = document.revision
    workspace.set_landmark(STUDY, NippleLandmark(IMAGE, None, (100.0, 200.0)))
    workspace.mark_saved(workspace.annotations(STUDY), revision)
    assert workspace.dirty_studies() == (STUDY,)


def test_a_chest_wall_move_is_one_undoable_edit_and_a_suggestion_is_none() -> None:
    workspace = AnnotationWorkspace()
    suggested = ChestWallLine((0.0, 0.0), (10.0, 100.0))
    workspace.suggest_chest_wall(STUDY, IMAGE, suggested)
    assert workspace.chest_wall(IMAGE) == suggested
    assert workspace.undo_stack.count() == 0 and not workspace.is_modified()
    moved = ChestWallLine((5.0, 0.0), (15.0, 100.0))
    assert workspace.move_chest_wall(STUDY, IMAGE, moved)
    assert workspace.undo_stack.undoText() == "Move chest wall"
    assert workspace.chest_wall(IMAGE) == moved
    assert workspace.dirty_studies() == (STUDY,)
    assert workspace.snapshot(STUDY).chest_wall(IMAGE) == moved
    workspace.undo_stack.undo()
    assert workspace.chest_wall(IMAGE) == suggested
    assert not workspace.is_modified()
    workspace.suggest_chest_wall(STUDY, IMAGE, moved)  # the image has a line: kept
    assert workspace.chest_wall(IMAGE) == suggested


def test_a_study_that_cannot_be_stored_takes_no_edit() -> None:
    workspace = AnnotationWorkspace()
    study = "not a UID"
    line = ChestWallLine((0.0, 0.0), (10.0, 100.0))
    workspace.suggest_chest_wall(study, IMAGE, line)
    assert workspace.chest_wall(IMAGE) == line  # shown
    assert not workspace.move_chest_wall(study, IMAGE, ChestWallLine((1.0, 0.0), (9.0, 9.0)))
    assert workspace.chest_wall(IMAGE) == line
    assert workspace.studies() == () and workspace.undo_stack.count() == 0


def test_loaded_chest_walls_are_the_readers_and_suggestions_fill_the_others() -> None:
    workspace = AnnotationWorkspace()
    other_image = "1.2.3.4.6"
    suggested = ChestWallLine((0.0, 0.0), (10.0, 100.0))
    workspace.suggest_chest_wall(STUDY, IMAGE, suggested)
    workspace.suggest_chest_wall(STUDY, other_image, suggested)
    stored = ChestWallLine((5.0, 0.0), (15.0, 100.0))
    workspace.set_loaded(AnnotationSet(STUDY), {IMAGE: stored})
    assert workspace.chest_wall(IMAGE) == stored  # the SR's line, not the suggestion
    assert workspace.chest_wall(other_image) == suggested
    snapshot = workspace.snapshot(STUDY)
    assert snapshot.reader_chest_walls() == {IMAGE: stored}
    assert snapshot.suggested == frozenset({other_image})
    assert not workspace.is_modified()


def test_a_study_added_keeps_the_undo_history_of_the_studies_open() -> None:
    workspace = AnnotationWorkspace()
    finding = point_finding()
    workspace.add_finding(STUDY, finding)
    other = "1.2.826.0.1.3680043.8.498.2"
    loaded = point_finding()
    workspace.add_loaded(AnnotationSet(other, findings=(loaded,)))
    assert workspace.annotations(other).findings == (loaded,)
    assert workspace.dirty_studies() == (STUDY,)
    assert workspace.undo_stack.count() == 1
    workspace.undo_stack.undo()
    assert workspace.annotations(STUDY).findings == ()
    assert workspace.annotations(other).findings == (loaded,)
    workspace.undo_stack.redo()
    with pytest.raises(ValueError, match="has edits to undo"):
        workspace.add_loaded(AnnotationSet(STUDY))
    assert workspace.annotations(STUDY).findings == (finding,)


def test_a_report_edit_is_one_undoable_edit_that_makes_the_study_unsaved() -> None:
    workspace = AnnotationWorkspace()
    workspace.set_loaded(AnnotationSet(STUDY))
    report = ClinicalReport(impression="Intraductal filling defect, 2 o'clock.")
    assert workspace.set_report(STUDY, report, "Edit report: impression")
    assert workspace.report(STUDY) == report
    assert workspace.is_modified()
    assert workspace.undo_stack.undoText() == "Edit report: impression"
    assert not workspace.set_report(STUDY, report)  # unchanged: no edit
    workspace.undo_stack.undo()
    assert workspace.report(STUDY) == ClinicalReport()
    assert not workspace.is_modified()


def test_a_signed_study_is_editable_only_while_its_report_is_an_addendum() -> None:
    workspace = AnnotationWorkspace()
    signed_uid = "1.2.826.0.1.3680043.8.498.1"
    workspace.set_loaded(AnnotationSet(STUDY), report=ClinicalReport(impression="Signed."))
    workspace.set_read_only(STUDY, "signed by Dr X", signed_uid)
    refused: list[str] = []
    workspace.read_only_refused.connect(refused.append)
    assert not workspace.set_report(STUDY, ClinicalReport(impression="Changed."))
    assert refused == ["signed by Dr X"]
    assert workspace.begin_addendum(STUDY, "Second lesion seen on the ML.")
    assert workspace.read_only_reason(STUDY) is None
    addendum = workspace.report(STUDY).addendum
    assert addendum is not None and addendum.signed_revision_uid == signed_uid
    assert workspace.report(STUDY).impression == "Signed."  # the signed text is kept
    assert workspace.set_report(
        STUDY, replace(workspace.report(STUDY), impression="Signed. See addendum.")
    )
    workspace.undo_stack.undo()
    workspace.undo_stack.undo()  # the addendum taken back: read only again
    assert workspace.read_only_reason(STUDY) == "signed by Dr X"
    unsigned = "1.2.826.0.1.3680043.8.498.99"
    assert not workspace.begin_addendum(unsigned, "not signed")
