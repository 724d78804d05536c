"""StudyDocument: snapshots, commands, undo/redo, clean state and revision (Qt-free)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from galactoview.annotations import codes
from galactoview.annotations.document import (
    AddDuctSegment,
    AddDuctSegments,
    AddFinding,
    ConfirmNipples,
    DeleteMark,
    DeleteNipple,
    MergeFindings,
    MoveChestWall,
    ObservedBy,
    ReplaceAnnotations,
    ReplaceDuctSegment,
    ReplaceFinding,
    SetNipple,
    StudyDocument,
    StudySnapshot,
    merged_finding,
)
from galactoview.annotations.model import (
    AnnotationSet,
    ChestWallLine,
    DuctSegment,
    Finding,
    FindingType,
    GraphicType,
    ImageRegion,
    MeasurementValue,
    NippleLandmark,
)
from galactoview.dicom.mammography import Laterality

STUDY = "1.2.3.4"
IMAGE = "1.2.3.4.5"
LINE = ChestWallLine((0.0, 0.0), (10.0, 100.0))


def point_finding(short_id: str = "FD-1", at: tuple[float, float] = (10.0, 20.0)) -> Finding:
    region = ImageRegion(IMAGE, None, GraphicType.POINT, (at,))
    return Finding.new(
        FindingType.INTRALUMINAL_FILLING_DEFECT,
        [region],
        short_id=short_id,
        laterality=Laterality.LEFT,
    )


def trace(parent: str | None, short_id: str) -> DuctSegment:
    region = ImageRegion(IMAGE, None, GraphicType.POLYLINE, ((1.0, 1.0), (5.0, 5.0)))
    return DuctSegment.new(region, short_id=short_id, parent_uid=parent)


def empty() -> StudyDocument:
    return StudyDocument(AnnotationSet(STUDY))


def test_a_new_document_is_clean_with_no_history() -> None:
    document = empty()
    assert document.snapshot == StudySnapshot(AnnotationSet(STUDY))
    assert document.study_instance_uid == STUDY
    assert not document.is_modified
    assert not document.can_undo() and not document.can_redo()
    assert document.undo_text == "" and document.redo_text == ""
    assert document.revision == 0


def test_execute_undo_redo_move_between_snapshots_and_count_revisions() -> None:
    document = empty()
    finding = point_finding()
    edit = document.execute(AddFinding(finding))
    assert edit is not None and edit.text == "Add FD-1"
    assert edit.before.annotations.findings == () and edit.after == document.snapshot
    assert document.annotations.findings == (finding,)
    assert document.is_modified and document.revision == 1
    assert document.undo() is edit
    assert not document.annotations.findings and not document.is_modified
    assert document.redo_text == "Add FD-1" and document.revision == 2
    assert document.redo() is edit
    assert document.annotations.findings == (finding,) and document.revision == 3
    assert document.history() == (edit,)


def test_undo_or_redo_with_nothing_to_do_raises() -> None:
    document = empty()
    with pytest.raises(IndexError):
        document.undo()
    with pytest.raises(IndexError):
        document.redo()


def test_a_command_that_changes_nothing_makes_no_history() -> None:
    document = StudyDocument(StudySnapshot(AnnotationSet(STUDY), ((IMAGE, LINE),)))
    assert document.execute(MoveChestWall(IMAGE, LINE)) is None
    assert not document.can_undo() and document.revision == 0 and not document.is_modified


def test_a_command_that_cannot_apply_changes_nothing() -> None:
    document = empty()
    with pytest.raises(KeyError):
        document.execute(DeleteMark("1.2.3.999"))
    other = AnnotationSet("1.2.3.5")
    with pytest.raises(ValueError, match="cannot replace"):
        document.execute(ReplaceAnnotations(other))
    assert document.revision == 0 and not document.can_undo()


def test_a_new_edit_drops_the_redo_history() -> None:
    document = empty()
    document.execute(AddFinding(point_finding("FD-1")))
    document.undo()
    document.execute(AddFinding(point_finding("FD-2")))
    assert not document.can_redo()
    assert [f.short_id for f in document.annotations.findings] == ["FD-2"]


def test_saved_state_is_clean_and_undoing_past_it_is_not() -> None:
    document = empty()
    document.execute(AddFinding(point_finding("FD-1")))
    saved = document.annotations
    document.mark_saved(saved)
    assert not document.is_modified
    document.undo()
    assert document.is_modified
    document.redo()
    assert not document.is_modified
    document.undo()
    document.execute(AddFinding(point_finding("FD-2")))  # the saved state is out of reach
    document.undo()
    assert document.is_modified


def test_an_edit_after_the_revision_saved_keeps_the_document_unsaved() -> None:
    document = empty()
    document.execute(AddFinding(point_finding("FD-1")))
    revision = document.revision
    saved = document.annotations
    document.execute(AddFinding(point_finding("FD-2")))
    document.mark_saved(saved, revision)
    assert document.is_modified


def test_a_save_stamps_its_revision_on_every_snapshot() -> None:
    document = empty()
    document.execute(AddFinding(point_finding("FD-1")))
    document.execute(AddFinding(point_finding("FD-2")))
    saved = AnnotationSet(
        STUDY,
        document.annotations.findings,
        sop_instance_uid="1.2.3.100",
        series_instance_uid="1.2.3.101",
    )
    document.mark_saved(saved)
    assert document.annotations == saved
    document.undo()
    assert document.annotations.sop_instance_uid == "1.2.3.100"  # the next predecessor
    assert document.annotations.series_instance_uid == "1.2.3.101"
    with pytest.raises(ValueError):
        document.mark_saved(AnnotationSet("1.2.3.5"))


def test_load_replaces_the_state_clean_and_keeps_the_suggested_chest_walls() -> None:
    document = empty()
    other_image = "1.2.3.4.6"
    document.suggest_chest_wall(IMAGE, LINE)
    moved = ChestWallLine((5.0, 0.0), (15.0, 100.0))
    document.execute(MoveChestWall(IMAGE, moved))
    document.execute(MoveChestWall(other_image, moved))
    document.execute(AddFinding(point_finding()))
    revision = document.revision
    document.load(AnnotationSet(STUDY))  # a reload: the unsaved moves are dropped
    assert not document.is_modified and not document.can_undo()
    assert document.snapshot.chest_wall(IMAGE) == LINE  # the suggestion is back
    assert document.snapshot.is_suggested(IMAGE)
    assert document.snapshot.chest_wall(other_image) is None  # never suggested
    assert document.revision == revision + 1
    document.load(StudySnapshot.of(AnnotationSet(STUDY), {IMAGE: moved}))  # the SR's line
    assert document.snapshot.chest_wall(IMAGE) == moved
    assert not document.snapshot.is_suggested(IMAGE)
    assert document.snapshot.reader_chest_walls() == {IMAGE: moved}


def test_the_document_knows_which_chest_walls_are_the_readers() -> None:
    document = empty()
    document.suggest_chest_wall(IMAGE, LINE)
    assert document.snapshot.is_suggested(IMAGE)
    assert document.snapshot.reader_chest_walls() == {}  # nothing to save
    assert document.snapshot.chest_wall_lines() == {IMAGE: LINE}  # but located with
    assert document.execute(MoveChestWall(IMAGE, LINE)) is None  # not moved: no edit
    moved = ChestWallLine((5.0, 0.0), (15.0, 100.0))
    document.execute(MoveChestWall(IMAGE, moved))
    assert not document.snapshot.is_suggested(IMAGE)
    assert document.snapshot.reader_chest_walls() == {IMAGE: moved}
    document.undo()
    assert document.snapshot.is_suggested(IMAGE)
    assert document.snapshot.reader_chest_walls() == {}
    snapshot = StudySnapshot.of(AnnotationSet(STUDY), {IMAGE: moved}, {IMAGE: LINE, "1.2.9": LINE})
    assert snapshot.chest_wall(IMAGE) == moved  # the reader's line wins over a suggestion
    assert snapshot.suggested == frozenset({"1.2.9"})


def test_clear_history_keeps_whether_the_state_is_saved() -> None:
    document = empty()
    document.execute(AddFinding(point_finding()))
    document.clear_history()
    assert document.is_modified and not document.can_undo()
    document.mark_saved(document.annotations)
    document.clear_history()
    assert not document.is_modified


def test_a_suggested_chest_wall_is_no_edit_and_survives_undo() -> None:
    document = empty()
    document.execute(AddFinding(point_finding()))
    document.mark_saved(document.annotations)
    revision = document.revision
    assert document.suggest_chest_wall(IMAGE, LINE)
    assert not document.is_modified and not document.can_redo()
    assert document.revision == revision + 1
    document.undo()
    assert document.snapshot.chest_wall(IMAGE) == LINE
    moved = ChestWallLine((1.0, 0.0), (11.0, 100.0))
    document.redo()
    document.execute(MoveChestWall(IMAGE, moved))
    assert not document.suggest_chest_wall(IMAGE, LINE)  # the image has a line
    assert document.snapshot.chest_wall(IMAGE) == moved


def test_move_chest_wall_is_undoable_and_unsaved() -> None:
    document = StudyDocument(StudySnapshot.of(AnnotationSet(STUDY), {IMAGE: LINE}))
    moved = ChestWallLine((5.0, 0.0), (15.0, 100.0))
    edit = document.execute(MoveChestWall(IMAGE, moved))
    assert edit is not None and edit.text == "Move chest wall"
    assert document.snapshot.chest_wall_lines() == {IMAGE: moved}
    assert document.is_modified
    document.undo()
    assert document.snapshot.chest_wall(IMAGE) == LINE and not document.is_modified


def test_a_finding_is_added_moved_and_moved_back() -> None:
    document = empty()
    finding = point_finding()
    document.execute(AddFinding(finding))
    moved = Finding(
        finding.tracking_uid,
        finding.short_id,
        finding.finding_type,
        finding.other_text,
        finding.laterality,
        (ImageRegion(IMAGE, None, GraphicType.POINT, ((30.0, 40.0),)),),
    )
    edit = document.execute(ReplaceFinding(moved))
    assert edit is not None and edit.text == "Edit FD-1"
    assert document.annotations.findings == (moved,)
    document.undo()
    assert document.annotations.findings == (finding,)


def test_replace_finding_of_an_unknown_uid_raises_and_labels_are_used() -> None:
    document = empty()
    finding = point_finding()
    document.execute(AddFinding(finding))
    with pytest.raises(KeyError):
        document.execute(ReplaceFinding(point_finding()))
    renamed = Finding(
        finding.tracking_uid,
        finding.short_id,
        finding.finding_type,
        finding.other_text,
        finding.laterality,
        finding.regions,
        note="papilloma?",
    )
    edit = document.execute(ReplaceFinding(renamed, "Note FD-1"))
    assert edit is not None and edit.text == "Note FD-1"
    assert document.annotations.finding(finding.tracking_uid).note == "papilloma?"
    edit = document.execute(DeleteMark(finding.tracking_uid))
    assert edit is not None and edit.text == "Delete FD-1"
    assert document.annotations.findings == ()


def test_duct_commands_delete_a_segment_with_its_branches() -> None:
    document = empty()
    root = trace(None, "DS-1")
    branch = trace(root.tracking_uid, "DS-2")
    twig = trace(branch.tracking_uid, "DS-3")
    for segment in (root, branch, twig):
        edit = document.execute(AddDuctSegment(segment))
        assert edit is not None and edit.text == f"Trace {segment.short_id}"
    reshaped = DuctSegment(
        twig.tracking_uid,
        twig.short_id,
        twig.parent_uid,
        ImageRegion(IMAGE, None, GraphicType.POLYLINE, ((1.0, 1.0), (9.0, 9.0))),
        twig.laterality,
    )
    edit = document.execute(ReplaceDuctSegment(reshaped))
    assert edit is not None and edit.text == "Edit DS-3"
    edit = document.execute(DeleteMark(branch.tracking_uid))
    assert edit is not None and edit.text == "Delete DS-2 and 1 branch(es)"
    assert [s.short_id for s in document.annotations.duct_segments] == ["DS-1"]
    document.undo()
    assert document.annotations.duct_segment(twig.tracking_uid) == reshaped


def test_confirm_nipples_accepts_only_the_suggested_ones_named() -> None:
    document = empty()
    document.execute(SetNipple(NippleLandmark(IMAGE, None, (100.0, 200.0), confirmed=False)))
    document.execute(SetNipple(NippleLandmark("1.2.3.9", 2, (5.0, 6.0), confirmed=False)))
    edit = document.execute(ConfirmNipples(((IMAGE, None), ("1.2.3.9", 2), ("1.2.3.8", None))))
    assert edit is not None and edit.text == "Accept 2 suggested nipples"
    assert [(n.point, n.confirmed) for n in document.annotations.landmarks] == [
        ((100.0, 200.0), True),
        ((5.0, 6.0), True),
    ]
    assert document.execute(ConfirmNipples(((IMAGE, None),))) is None  # nothing changes
    document.undo()
    assert not any(n.confirmed for n in document.annotations.landmarks)


def test_nipple_commands_place_move_and_delete() -> None:
    document = empty()
    edit = document.execute(SetNipple(NippleLandmark(IMAGE, None, (100.0, 200.0))))
    assert edit is not None and edit.text == "Place nipple"
    edit = document.execute(SetNipple(NippleLandmark(IMAGE, None, (110.0, 200.0))))
    assert edit is not None and edit.text == "Move nipple"
    landmark = document.annotations.landmark(IMAGE)
    assert landmark is not None and landmark.point == (110.0, 200.0)
    edit = document.execute(DeleteNipple(IMAGE))
    assert edit is not None and edit.text == "Delete nipple"
    assert document.annotations.landmarks == ()
    with pytest.raises(KeyError):
        document.execute(DeleteNipple(IMAGE))


def test_replace_annotations_keeps_the_chest_walls() -> None:
    document = StudyDocument(StudySnapshot.of(AnnotationSet(STUDY), {IMAGE: LINE}))
    imported = AnnotationSet(STUDY, (point_finding(),), sop_instance_uid="1.2.3.100")
    edit = document.execute(ReplaceAnnotations(imported, "Import SR"))
    assert edit is not None and edit.text == "Import SR"
    assert document.annotations == imported
    assert document.snapshot.chest_wall(IMAGE) == LINE


def test_a_snapshot_has_one_chest_wall_per_image() -> None:
    with pytest.raises(ValueError, match="one chest-wall line"):
        StudySnapshot(AnnotationSet(STUDY), ((IMAGE, LINE), (IMAGE, LINE)))
    snapshot = StudySnapshot(AnnotationSet(STUDY)).with_chest_wall(IMAGE, LINE)
    other = ChestWallLine((1.0, 1.0), (2.0, 2.0))
    assert snapshot.with_chest_wall(IMAGE, other).chest_walls == ((IMAGE, other),)
    assert snapshot.chest_wall("1.2.3.9") is None


def test_an_edit_records_its_reader_on_what_it_changes_and_on_the_revision() -> None:
    """Issue 14: every new or edited finding, and the revision, name the reader who made it."""
    first, second = point_finding("FD-1"), point_finding("FD-2", (30.0, 40.0))
    theirs = AnnotationSet(STUDY, (replace(first, observer="Other^Reader"), second))
    document = StudyDocument(replace(theirs, observer="Other^Reader"))
    me = "Curie^Marie^^Dr"
    document.execute(ObservedBy(AddFinding(point_finding("FD-3", (5.0, 5.0))), me, "Radium"))
    assert document.annotations.observer_organization == "Radium"
    findings = document.annotations.findings
    assert [f.observer for f in findings] == ["Other^Reader", "", me]  # untouched kept
    assert document.annotations.observer == me
    moved = replace(findings[0], regions=(replace(findings[0].regions[0], points=((1.0, 2.0),)),))
    edit = document.execute(ObservedBy(ReplaceFinding(moved), me))
    assert edit is not None and edit.text == "Edit FD-1"
    assert [f.observer for f in document.annotations.findings] == [me, "", me]
    document.undo()
    assert document.annotations.findings[0].observer == "Other^Reader"
    # No reader set: a change is nobody's (the device's), not the previous author's.
    document.execute(ObservedBy(ReplaceFinding(moved), "", "Radium"))
    assert document.annotations.findings[0].observer == ""
    assert document.annotations.observer == ""
    assert document.annotations.observer_organization == ""  # no organisation without a name


def test_an_observed_command_that_changes_nothing_makes_no_history() -> None:
    finding = point_finding()
    document = StudyDocument(AnnotationSet(STUDY, (finding,), observer="A^B"))
    assert document.execute(ObservedBy(ReplaceFinding(finding), "C^D")) is None
    assert document.annotations.observer == "A^B"


def test_a_save_stamps_who_made_the_revision_on_every_snapshot() -> None:
    """A reader who signs a report written before their identity was set made the revision."""
    document = empty()
    document.execute(AddFinding(point_finding("FD-1")))  # by nobody (no identity yet)
    saved = replace(
        document.annotations,
        sop_instance_uid="1.2.826.0.1.3680043.8.498.11",
        observer="Lindqvist^Åsa^^Dr",
        observer_organization="Brustzentrum Süd",
    )
    document.mark_saved(saved)
    assert document.annotations.observer == "Lindqvist^Åsa^^Dr"
    assert document.annotations.observer_organization == "Brustzentrum Süd"
    assert not document.is_modified
    document.undo()  # the snapshot before the save carries the revision identity too
    assert document.annotations.sop_instance_uid == "1.2.826.0.1.3680043.8.498.11"
    assert document.annotations.observer == "Lindqvist^Åsa^^Dr"


# --------------------------------------------------------------------- merging findings


def test_merging_two_findings_is_one_undoable_edit() -> None:
    second_image = "1.2.3.4.6"
    kept = replace(
        point_finding("FD-1"),
        note="Smooth margin",
        measurements=(MeasurementValue(codes.LONG_AXIS, 4.9, codes.MILLIMETER, "detector", 0),),
    )
    other_region = ImageRegion(second_image, None, GraphicType.POINT, ((40.0, 50.0),))
    absorbed = Finding.new(
        FindingType.INTRALUMINAL_FILLING_DEFECT,
        [other_region, other_region],
        short_id="FD-2",
        laterality=Laterality.LEFT,
        measurements=(MeasurementValue(codes.LONG_AXIS, 5.2, codes.MILLIMETER, "detector", 1),),
        impression=codes.IMPRESSIONS[0],
        note="Seen on ML",
    )
    third = point_finding("FD-3", at=(90.0, 90.0))
    document = empty()
    for finding in (kept, absorbed, third):
        document.execute(AddFinding(finding))
    before = document.annotations
    edit = document.execute(MergeFindings(kept.tracking_uid, absorbed.tracking_uid))
    assert edit is not None and edit.text == "Merge FD-2 into FD-1"
    merged, rest = document.annotations.findings
    assert rest == third
    assert (merged.tracking_uid, merged.short_id) == (kept.tracking_uid, "FD-1")
    assert merged.regions == (*kept.regions, other_region, other_region)
    assert [m.region_index for m in merged.measurements] == [0, 2]
    assert [m.value for m in merged.measurements] == [4.9, 5.2]
    assert merged.note == "Smooth margin\nSeen on ML"
    assert merged.impression == codes.IMPRESSIONS[0]  # kept had none
    document.undo()
    assert document.annotations == before
    document.redo()
    assert document.annotations.findings == (merged, third)


def test_merging_keeps_the_first_findings_own_values() -> None:
    kept = replace(point_finding("CY-1"), impression=codes.IMPRESSIONS[1], note="same")
    absorbed = replace(
        point_finding("FD-2", at=(1.0, 2.0)), impression=codes.IMPRESSIONS[0], note=" same "
    )
    merged = merged_finding(kept, absorbed)
    assert (merged.short_id, merged.finding_type) == ("CY-1", kept.finding_type)
    assert merged.impression == codes.IMPRESSIONS[1]
    assert merged.note == "same"  # the same note is not repeated
    assert len(merged.regions) == 2


def test_a_merge_that_cannot_apply_changes_nothing() -> None:
    first, second = point_finding("FD-1"), point_finding("FD-2", at=(3.0, 4.0))
    document = empty()
    document.execute(AddFinding(first))
    with pytest.raises(ValueError, match="itself"):
        document.execute(MergeFindings(first.tracking_uid, first.tracking_uid))
    with pytest.raises(KeyError):
        document.execute(MergeFindings(first.tracking_uid, second.tracking_uid))
    assert document.annotations.findings == (first,) and len(document.history()) == 1


def test_several_duct_segments_are_added_as_one_edit() -> None:
    """An accepted suggested tree: one undo takes every branch back (issue 16)."""
    document = empty()
    root = trace(None, "DS-1")
    branch = trace(root.tracking_uid, "DS-2")
    twig = trace(branch.tracking_uid, "DS-3")
    edit = document.execute(AddDuctSegments((root, branch, twig)))
    assert edit is not None and edit.text == "Trace DS-1…DS-3"
    assert [s.short_id for s in document.annotations.duct_segments] == ["DS-1", "DS-2", "DS-3"]
    document.undo()
    assert not document.annotations.duct_segments
    labelled = document.execute(AddDuctSegments((root,), "Accept suggested DS-1"))
    assert labelled is not None and labelled.text == "Accept suggested DS-1"
    with pytest.raises(ValueError, match="no duct segments"):
        document.execute(AddDuctSegments(()))
    assert document.annotations.duct_segments == (root,)
