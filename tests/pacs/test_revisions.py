"""The newest SR revision is the head of the Predecessor Documents chain, not the latest date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset

from galactoview.pacs.revisions import (
    adopt_newest_report,
    adopt_revision,
    newest_revision,
    predecessors,
)
from galactoview.report.content import load_report
from galactoview.sr.persistence import ImportOutcome
from galactoview.sr.sr_codec import decode, from_json, to_json
from tests.pacs.sample import DUCTOGRAM, copy_sample, revise, sample_sr
from tests.sr import third_party

EARLY = dt.datetime(2020, 1, 1, 8, 0, 0)
LATE = dt.datetime(2030, 1, 1, 8, 0, 0)


def study_of(dataset: Dataset) -> str:
    return str(dataset.StudyInstanceUID)


def test_revision_names_its_predecessor() -> None:
    first = sample_sr()
    second = revise(first, "second", LATE)
    assert predecessors(second) == (str(first.SOPInstanceUID),)
    assert predecessors(first) == ()


def test_head_of_the_chain_wins_over_a_later_content_date() -> None:
    first = sample_sr()
    # The second revision's clock was wrong: it says 2020, before the first.
    second = revise(first, "second", EARLY)
    newest = newest_revision([second, first], study_of(first))
    assert newest is not None
    assert newest.sop_instance_uid == str(second.SOPInstanceUID)
    assert newest.supersedes == {str(first.SOPInstanceUID)}


def test_two_heads_fall_back_to_content_date_time_then_the_whole_chain_is_superseded() -> None:
    first = sample_sr()
    left = revise(first, "left", EARLY)
    right = revise(first, "right", LATE)
    third = revise(right, "third", LATE + dt.timedelta(hours=1))
    for order in ([first, left, right], [right, left, first]):
        newest = newest_revision(order, study_of(first))
        assert newest is not None
        assert newest.sop_instance_uid == str(right.SOPInstanceUID)
    newest = newest_revision([third, left, first, right], study_of(first))
    assert newest is not None
    assert newest.sop_instance_uid == str(third.SOPInstanceUID)
    assert newest.supersedes == {str(right.SOPInstanceUID), str(first.SOPInstanceUID)}


def test_other_studies_and_unreadable_srs_are_left_out_with_a_reason() -> None:
    first = sample_sr()
    other = revise(first, "other study", LATE)
    other.StudyInstanceUID = "1.2.3.4"
    broken = Dataset()
    broken.SOPInstanceUID = "1.2.3.5"
    broken.StudyInstanceUID = study_of(first)
    problems: list[str] = []
    newest = newest_revision([other, broken, first], study_of(first), problems)
    assert newest is not None
    assert newest.sop_instance_uid == str(first.SOPInstanceUID)
    assert problems == [
        "SR 1.2.3.5: the dataset is not a structured report (no Content Sequence); skipped"
    ]
    assert newest_revision([broken], study_of(first)) is None


def test_adopting_a_newer_revision_replaces_the_older_sidecar_and_keeps_it_as_bak(
    tmp_path: Path,
) -> None:
    copy = copy_sample(tmp_path / "copy")
    study = copy / DUCTOGRAM
    first = sample_sr()
    (sidecar_path,) = study.glob("galactoview-*.sr.json")
    old_text = sidecar_path.read_text(encoding="utf-8")
    again = adopt_newest_report(study_of(first), study, [first])
    assert again.imported is not None
    assert again.imported.outcome is ImportOutcome.ALREADY_HELD
    second = revise(first, "now retro-areolar", LATE)
    adopted = adopt_newest_report(study_of(first), study, [first, second])
    assert adopted.imported is not None
    assert adopted.imported.outcome is ImportOutcome.SUPERSEDED
    assert adopted.imported.path == sidecar_path
    assert sidecar_path.with_name(sidecar_path.name + ".bak").read_text("utf-8") == old_text
    (report,) = load_report([study], dt.date(2026, 3, 12)).content.studies
    assert report.sr_sop_instance_uid == str(second.SOPInstanceUID)
    assert report.rows[0].note == "now retro-areolar"
    # The older revision again (e.g. a stale PACS) never replaces the newer sidecar.
    older = adopt_newest_report(study_of(first), study, [first])
    assert older.imported is not None
    assert older.imported.outcome is ImportOutcome.OLDER
    assert sorted(p.name for p in study.glob("galactoview-*")) == [
        sidecar_path.name,
        sidecar_path.name + ".bak",
    ]


def edited_here_and_elsewhere(tmp_path: Path) -> tuple[Path, Path, Dataset, Dataset, Dataset]:
    """A copy of the sample whose sidecar holds a revision edited here (not stored), and a
    revision of the same predecessor edited elsewhere: (study folder, sidecar, first,
    local, elsewhere)."""
    study = copy_sample(tmp_path / "copy") / DUCTOGRAM
    first = sample_sr()
    local = revise(first, "edited here", LATE)
    (sidecar_path,) = study.glob("galactoview-*.sr.json")
    sidecar_path.write_text(to_json(local), encoding="utf-8")
    elsewhere = revise(first, "edited on another workstation", EARLY)
    return study, sidecar_path, first, local, elsewhere


def test_marks_edited_here_and_not_stored_are_kept_beside_the_pacs_revision(
    tmp_path: Path,
) -> None:
    study, sidecar_path, first, local, elsewhere = edited_here_and_elsewhere(tmp_path)
    adopted = adopt_newest_report(study_of(first), study, [first, elsewhere])
    assert adopted.imported is not None
    assert adopted.imported.outcome is ImportOutcome.ALONGSIDE
    assert adopted.imported.kept == sidecar_path
    assert sidecar_path.read_text(encoding="utf-8") == to_json(local)
    assert adopted.imported.path.exists()
    assert adopted.imported.path != sidecar_path


def test_a_revision_adopted_replacing_ours_replaces_marks_edited_here(tmp_path: Path) -> None:
    """After "reload theirs" the reader agreed to replace the marks edited here (kept as .bak)."""
    study, sidecar_path, first, local, elsewhere = edited_here_and_elsewhere(tmp_path)
    theirs = newest_revision([elsewhere, first], study_of(first))
    assert theirs is not None
    adopted = adopt_revision(theirs, study, replacing=[str(local.SOPInstanceUID)])
    assert adopted.imported is not None
    assert adopted.imported.outcome is ImportOutcome.SUPERSEDED
    assert adopted.imported.path == sidecar_path
    assert adopted.problems == ()
    assert sidecar_path.with_name(sidecar_path.name + ".bak").read_text("utf-8") == to_json(local)
    (report,) = load_report([study], dt.date(2026, 3, 12)).content.studies
    assert report.sr_sop_instance_uid == str(elsewhere.SOPInstanceUID)
    assert report.rows[0].note == "edited on another workstation"


def test_no_image_of_the_study_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    first = sample_sr()
    adopted = adopt_newest_report(study_of(first), empty, [first])
    assert adopted.imported is None
    assert adopted.revision is not None
    assert any(p.startswith(f"{empty}: holds no image of study") for p in adopted.problems)
    assert list(empty.iterdir()) == []


def test_third_party_srs_are_refused_with_one_line_each_and_nothing_written(
    tmp_path: Path,
) -> None:
    copy = copy_sample(tmp_path / "copy")
    study = copy / DUCTOGRAM
    for old in study.glob("galactoview-*"):
        old.unlink()
    kos = third_party.key_object_selection()
    text = third_party.basic_text_sr()
    other = third_party.other_template()
    other.SOPInstanceUID = "1.2.3.7"
    adopted = adopt_newest_report(study_of(kos), study, [kos, text, other])
    assert adopted.revision is None
    assert adopted.imported is None
    assert adopted.problems == (
        f"SR {kos.SOPInstanceUID}: is a Key Object Selection document, not a measurement "
        "report (TID 1500); skipped",
        f"SR {text.SOPInstanceUID}: is a Basic Text SR, not a measurement report "
        "(TID 1500); skipped",
        "SR 1.2.3.7: is a Comprehensive SR of template TID 2000, not a measurement report "
        "(TID 1500); skipped",
    )
    assert list(study.glob("galactoview-*")) == []

    empty = third_party.no_readable_mark()
    adopted = adopt_newest_report(study_of(empty), study, [empty])
    assert adopted.imported is None
    assert adopted.problems == (
        f"SR {empty.SOPInstanceUID}: is a measurement report (TID 1500) with no readable "
        "mark (finding, duct segment or nipple): nothing imported",
    )
    assert list(study.glob("galactoview-*")) == []


def test_marks_on_images_not_retrieved_are_kept_and_listed_apart(tmp_path: Path) -> None:
    copy = copy_sample(tmp_path / "copy")
    study = copy / DUCTOGRAM
    for old in study.glob("galactoview-*"):
        old.unlink()
    gone = study / "04_LML_POST.dcm"
    gone_uid = str(dcmread(gone).SOPInstanceUID)
    gone.unlink()
    first = sample_sr()
    adopted = adopt_newest_report(study_of(first), study, [first])
    assert adopted.imported is not None
    assert adopted.imported.outcome is ImportOutcome.WRITTEN
    assert adopted.problems == ()  # a retrieve's images may still be arriving
    (warning,) = adopted.imported.warnings  # one line for the image, naming every mark on it
    assert warning.startswith(f"image {gone_uid} is not under {study}: finding FD-1 ")
    assert warning.endswith(" on it are kept but not shown")
    assert warning.count("finding ") + warning.count("nipple") >= 2
    stored = decode(from_json(adopted.imported.path.read_text("utf-8"))).annotations
    assert stored.findings == decode(first).annotations.findings
