"""Opening and saving a study's annotations: codec + sidecar, with every bad file kept safe."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset

from galactoview.annotations.model import (
    AnnotationSet,
    ChestWallLine,
    Finding,
    FindingType,
    GraphicType,
    ImageRegion,
)
from galactoview.dicom.loading import ImageRecord
from galactoview.dicom.mammography import Laterality
from galactoview.location import codes as location_codes
from galactoview.sr import sidecar
from galactoview.sr.clinical_report import (
    Addendum,
    Assessment,
    ClinicalReport,
    Recommendation,
    UnlocatedFinding,
)
from galactoview.sr.persistence import (
    IncompleteReportError,
    OpenedAnnotations,
    SidecarTarget,
    SignedRevisionError,
    evidence_headers,
    open_annotations,
    save_annotations,
)
from galactoview.sr.signing import MISSING_ASSESSMENT, Signature
from galactoview.sr.sr_codec import StoredLocation, from_json
from tests.helpers import sample_images


@dataclass(frozen=True)
class StudyCopy:
    """A writable copy of one sample image: its folder, record and header."""

    folder: Path
    record: ImageRecord
    header: Dataset

    @property
    def uid(self) -> str:
        """Return the Study Instance UID."""
        return self.record.study_instance_uid

    def open(self, user_dir: Path, uid: str | None = None) -> OpenedAnnotations:
        """Open the annotations of the study (or of ``uid``) from the copied image."""
        image = self.folder / self.record.path.name
        return open_annotations(uid or self.uid, [image], user_dir=user_dir)

    def save(
        self, annotations: AnnotationSet, target: SidecarTarget
    ) -> tuple[AnnotationSet, SidecarTarget]:
        """Save annotations of the study to a sidecar target."""
        return save_annotations(annotations, [self.header], target)

    def save_defect(self, opened: OpenedAnnotations) -> tuple[AnnotationSet, SidecarTarget]:
        """Add a filling defect to opened annotations and save them where they were opened."""
        return self.save(opened.annotations.with_finding(defect(self.record)), opened.target)


@pytest.fixture
def study(tmp_path: Path) -> StudyCopy:
    """Copy the sample ductogram's post-contrast CC into a writable folder."""
    record = next(
        r for r in sample_images() if r.view.label == "L CC" and r.contrast_phase.value == "post"
    )
    folder = tmp_path / "study"
    folder.mkdir()
    shutil.copy(record.path, folder / record.path.name)
    header = dcmread(folder / record.path.name, stop_before_pixels=True)
    return StudyCopy(folder, record, header)


def defect(record: ImageRecord, note: str = "") -> Finding:
    region = ImageRegion(record.sop_instance_uid, None, GraphicType.POINT, ((528.5, 1256.0),))
    return Finding.new(
        FindingType.INTRALUMINAL_FILLING_DEFECT,
        [region],
        short_id="FD-1",
        laterality=Laterality.LEFT,
        note=note,
    )


def test_save_then_open_gives_the_same_findings_and_a_revision_chain(
    study: StudyCopy, tmp_path: Path
) -> None:
    opened = study.open(tmp_path / "user")
    assert opened.annotations == AnnotationSet(study.uid)
    assert opened.target.path == study.folder / sidecar.sidecar_name(study.uid)
    annotations = opened.annotations.with_finding(defect(study.record, "Papillom – Größe ≈ 4 mm"))
    first, target = study.save(annotations, opened.target)
    assert first.sop_instance_uid is not None and first.previous_revision_uid is None
    second, target = study.save(first, target)
    assert second.previous_revision_uid == first.sop_instance_uid
    again = study.open(tmp_path / "user")
    assert again.problems == ()
    assert again.annotations.findings == annotations.findings
    assert again.annotations.sop_instance_uid == second.sop_instance_uid
    assert again.annotations.previous_revision_uid == first.sop_instance_uid


def test_a_corrupt_sidecar_is_reported_kept_and_a_new_file_is_written(
    study: StudyCopy, tmp_path: Path
) -> None:
    bad = study.folder / sidecar.sidecar_name(study.uid)
    bad.write_bytes(b'{"00080005": {"vr": "CS", "Val')
    before = bad.read_bytes()
    opened = study.open(tmp_path / "user")
    assert opened.annotations.findings == ()
    assert any(str(bad) in line for line in opened.problems)
    assert opened.target.alongside
    saved, target = study.save_defect(opened)
    assert bad.read_bytes() == before
    assert target.path != bad and target.path.parent == study.folder and target.path.is_file()
    assert not target.alongside  # from now on the new file is the sidecar
    assert saved.sop_instance_uid is not None


def test_a_change_on_disk_since_loading_is_never_overwritten(
    study: StudyCopy, tmp_path: Path
) -> None:
    opened = study.open(tmp_path / "user")
    _saved, target = study.save_defect(opened)
    other_workstation = study.open(tmp_path)
    other = other_workstation.annotations
    study.save(other.without_finding(other.findings[0].tracking_uid), other_workstation.target)
    on_disk = target.path.read_bytes()
    with pytest.raises(sidecar.SidecarConflict):
        study.save(opened.annotations, target)
    assert target.path.read_bytes() == on_disk


def test_an_sr_of_another_study_is_kept_and_not_loaded(study: StudyCopy, tmp_path: Path) -> None:
    _saved, target = study.save_defect(study.open(tmp_path / "user"))
    other_uid = "1.2.826.0.1.3680043.8.498.1"
    foreign = study.folder / sidecar.sidecar_name(other_uid)
    target.path.rename(foreign)
    reopened = study.open(tmp_path, other_uid)
    assert reopened.annotations.findings == ()
    assert reopened.target.alongside
    assert any("not" in line and study.uid in line for line in reopened.problems)


def test_locations_are_saved_and_come_back_with_the_annotations(
    study: StudyCopy, tmp_path: Path
) -> None:
    opened = study.open(tmp_path / "user")
    assert opened.locations == {}
    finding = defect(study.record)
    stored = StoredLocation(
        location_codes.CLOCK_HOURS[5],
        location_codes.LOWER_OUTER_QUADRANT,
        location_codes.ANTERIOR,
        31.4,
    )
    saved, _target = save_annotations(
        opened.annotations.with_finding(finding),
        [study.header],
        opened.target,
        {finding.tracking_uid: stored},
    )
    again = study.open(tmp_path / "user")
    assert again.problems == ()
    assert again.annotations.findings == saved.findings
    assert again.locations == {finding.tracking_uid: stored}
    assert again.locations[finding.tracking_uid].clock_hour == 5


def read_only(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Make the write probe see ``folder`` as read-only (root writes through chmod)."""
    probe = sidecar.folder_write_problem
    monkeypatch.setattr(
        sidecar,
        "folder_write_problem",
        lambda path: "Read-only file system" if Path(path) == folder else probe(path),
    )


def test_a_read_only_folder_reads_its_sidecar_and_then_prefers_the_per_user_one(
    study: StudyCopy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "user"
    first = study.save_defect(study.open(user))[0]  # a sidecar next to the study
    read_only(monkeypatch, study.folder)
    opened = study.open(user)
    assert opened.annotations.findings == first.findings
    assert opened.target == SidecarTarget(
        study.uid, user / sidecar.sidecar_name(study.uid), None, notice=opened.target.notice
    )
    assert opened.target.notice.startswith(f"Read-only study folder ({study.folder}")
    second = replace(defect(study.record, "mine"), short_id="FD-2")
    mine = study.save(opened.annotations.with_finding(second), opened.target)
    again = study.open(user)
    assert again.target.path == user / sidecar.sidecar_name(study.uid)
    assert again.annotations.findings == mine[0].findings
    assert len(again.annotations.findings) == 2


def test_the_newest_readable_version_is_loaded_and_the_others_are_named(
    study: StudyCopy, tmp_path: Path
) -> None:
    user = tmp_path / "user"
    saved, target = study.save_defect(study.open(user))
    copy = sidecar.save_alongside(target.path, (target.path).read_text(encoding="utf-8"))
    newest = study.folder / (copy.name.replace(".sr.json", "-2.sr.json"))
    newest.write_text("{ truncated", encoding="utf-8")  # the newest copy is unreadable
    for age, path in enumerate((target.path, copy, newest)):
        stamp = 1_700_000_000 + age * 60
        os.utime(path, (stamp, stamp))
    opened = study.open(user)
    assert opened.target.path == copy
    assert opened.annotations.findings == saved.findings
    problems = "\n".join(opened.problems)
    assert f"{newest}: is not valid JSON" in problems
    assert f"{target.path}: another version of these annotations, kept and not loaded" in problems
    assert newest.read_text(encoding="utf-8") == "{ truncated"  # never touched


def test_killed_saves_leave_no_temporaries_after_the_next_open(
    study: StudyCopy, tmp_path: Path
) -> None:
    left = study.folder / f".{sidecar.sidecar_name(study.uid)}.0123456789ab.tmp"
    left.write_bytes(b"half a sidecar")
    os.utime(left, (1_000_000, 1_000_000))
    study.open(tmp_path / "user")
    assert not left.exists()


def test_evidence_headers_list_every_referenced_image(study: StudyCopy, tmp_path: Path) -> None:
    _, target = study.save_defect(study.open(tmp_path / "user"))
    dataset = from_json(target.path.read_text(encoding="utf-8"))
    headers = evidence_headers(dataset)
    header = headers[study.record.sop_instance_uid]
    assert header.SOPClassUID == study.header.SOPClassUID
    assert header.StudyInstanceUID == study.uid
    assert header.SeriesInstanceUID == study.header.SeriesInstanceUID
    assert "Rows" not in header


def test_a_newer_per_user_sidecar_is_loaded_and_said_when_the_folder_has_an_older_one(
    study: StudyCopy, tmp_path: Path
) -> None:
    # The study folder's disk was full once: that save went to the per-user folder.
    user = tmp_path / "user"
    _, here = study.save_defect(study.open(user))
    theirs = study.open(user)
    mine = user / sidecar.sidecar_name(study.uid)
    second = replace(defect(study.record, "saved per user"), short_id="FD-2")
    study.save(theirs.annotations.with_finding(second), SidecarTarget(study.uid, mine, None))
    os.utime(here.path, (1_700_000_000, 1_700_000_000))
    opened = study.open(user)
    assert len(opened.annotations.findings) == 2
    assert opened.target.path == mine
    assert opened.target.notice.startswith(f"Marks are read from and saved in {mine}")
    assert any(
        line.startswith(f"{here.path}: another version of these annotations")
        for line in opened.problems
    )


def test_a_newer_sidecar_on_a_read_only_share_wins_and_the_older_per_user_one_is_kept(
    study: StudyCopy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "user"
    mine = user / sidecar.sidecar_name(study.uid)
    here = study.folder / sidecar.sidecar_name(study.uid)
    empty = AnnotationSet(study.uid)
    study.save(
        empty.with_finding(defect(study.record, "mine")), SidecarTarget(study.uid, mine, None)
    )
    # A colleague's revision, saved later, on the share (still writable for them).
    study.save(empty.with_finding(defect(study.record)), SidecarTarget(study.uid, here, None))
    os.utime(here, (1_700_000_000, 1_700_000_000))  # file times do not decide
    read_only(monkeypatch, study.folder)
    opened = study.open(user)
    assert opened.annotations.findings[0].note == ""  # the share's version
    assert opened.target.path == mine and opened.target.alongside  # ours is not overwritten
    assert any(line.startswith(f"{mine}: another version") for line in opened.problems)


def test_the_newest_revision_wins_by_its_content_time_not_by_file_time(
    study: StudyCopy, tmp_path: Path
) -> None:
    user = tmp_path / "user"
    first, target = study.save_defect(study.open(user))
    older_text = target.path.read_text(encoding="utf-8")
    second = replace(defect(study.record, "second revision"), short_id="FD-2")
    newer, _ = study.save(first.with_finding(second), target)
    # The first revision lies beside it as a copy that was touched last (e.g. copied).
    copy = sidecar.save_alongside(target.path, older_text)
    os.utime(target.path, (1_700_000_000, 1_700_000_000))
    opened = study.open(user)
    assert opened.target.path == target.path
    assert opened.annotations.findings == newer.findings
    assert any(line.startswith(f"{copy}: another version") for line in opened.problems)


def test_the_readers_chest_walls_are_saved_and_come_back(study: StudyCopy, tmp_path: Path) -> None:
    opened = study.open(tmp_path / "user")
    assert opened.chest_walls == {}  # none yet (and none in a sidecar written before)
    line = ChestWallLine((120.0, 0.0), (0.0, 1500.5))
    walls = {study.record.sop_instance_uid: line}
    save_annotations(opened.annotations, [study.header], opened.target, chest_walls=walls)
    again = study.open(tmp_path / "user")
    assert again.problems == ()
    assert again.chest_walls == walls
    assert again.annotations.findings == ()
    save_annotations(again.annotations, [study.header], again.target)  # a save without lines
    assert study.open(tmp_path / "user").chest_walls == {}


# --- the signed report: never changed, except by an addendum -------------------------------


SIGNATURE = Signature(
    "Lindqvist^Åsa", "Brustzentrum Süd", datetime(2026, 12, 4, 18, 30, tzinfo=UTC)
)


def explained(finding: Finding, addendum: Addendum | None = None) -> ClinicalReport:
    """A complete report for a study whose one finding is on one view (not located)."""
    return ClinicalReport(
        assessment=Assessment.CATEGORY_4,
        recommendations=(Recommendation.DUCT_EXCISION,),
        unlocated=(UnlocatedFinding(finding.tracking_uid, "nur im CC sichtbar"),),
        addendum=addendum,
    )


def signed_study(study: StudyCopy, tmp_path: Path) -> tuple[AnnotationSet, SidecarTarget]:
    """Save a finding and a complete report, signed; return the saved revision and target."""
    opened = study.open(tmp_path / "user")
    annotations = opened.annotations.with_finding(defect(study.record))
    report = explained(annotations.findings[0])
    return save_annotations(
        annotations, [study.header], opened.target, report=report, signature=SIGNATURE
    )


def test_a_signed_revision_reopens_signed_with_its_report(study: StudyCopy, tmp_path: Path) -> None:
    saved, target = signed_study(study, tmp_path)
    assert target.signed_revision_uid == saved.sop_instance_uid
    again = study.open(tmp_path / "user")
    assert again.problems == ()
    assert again.signature == SIGNATURE
    assert again.report == explained(saved.findings[0])
    assert again.target.signed_revision_uid == saved.sop_instance_uid


def test_a_signed_revision_is_not_overwritten_except_by_an_addendum(
    study: StudyCopy, tmp_path: Path
) -> None:
    signed, _target = signed_study(study, tmp_path)
    opened = study.open(tmp_path / "user")
    on_disk = opened.target.path.read_bytes()
    changed = replace(opened.annotations, observer="Lindqvist^Åsa")
    for report in (None, opened.report):
        with pytest.raises(SignedRevisionError, match="is signed and cannot be changed"):
            save_annotations(changed, [study.header], opened.target, report=report)
    wrong = Addendum(study.record.sop_instance_uid, "names another revision")
    with pytest.raises(SignedRevisionError, match="addendum"):
        save_annotations(
            changed, [study.header], opened.target, report=explained(signed.findings[0], wrong)
        )
    assert opened.target.path.read_bytes() == on_disk
    assert signed.sop_instance_uid is not None
    addendum = Addendum(signed.sop_instance_uid, "Zweiter Defekt nachgetragen")
    report = explained(signed.findings[0], addendum)
    first, target = save_annotations(changed, [study.header], opened.target, report=report)
    assert first.previous_revision_uid == signed.sop_instance_uid
    assert target.signed_revision_uid == signed.sop_instance_uid  # still an addendum to it
    with pytest.raises(SignedRevisionError):
        save_annotations(first, [study.header], target)
    second, target = save_annotations(first, [study.header], target, report=report)
    reopened = study.open(tmp_path / "user")
    assert reopened.signature is None
    assert reopened.report is not None and reopened.report.addendum == addendum
    assert reopened.annotations.sop_instance_uid == second.sop_instance_uid
    assert reopened.target.signed_revision_uid == signed.sop_instance_uid
    # Signing the addendum makes it the revision later changes must amend.
    third, target = save_annotations(
        second, [study.header], reopened.target, report=report, signature=SIGNATURE
    )
    assert target.signed_revision_uid == third.sop_instance_uid
    with pytest.raises(SignedRevisionError):
        save_annotations(third, [study.header], target, report=report)


def test_an_addendum_needs_a_signed_revision(study: StudyCopy, tmp_path: Path) -> None:
    opened = study.open(tmp_path / "user")
    annotations = opened.annotations.with_finding(defect(study.record))
    report = explained(annotations.findings[0], Addendum(study.record.sop_instance_uid, "x"))
    with pytest.raises(SignedRevisionError, match="is not signed"):
        save_annotations(annotations, [study.header], opened.target, report=report)
    assert not opened.target.path.exists()


def test_an_incomplete_report_is_not_signed(study: StudyCopy, tmp_path: Path) -> None:
    opened = study.open(tmp_path / "user")
    annotations = opened.annotations.with_finding(defect(study.record))
    report = ClinicalReport(recommendations=(Recommendation.SURGICAL_CONSULT,))
    with pytest.raises(IncompleteReportError) as raised:
        save_annotations(
            annotations, [study.header], opened.target, report=report, signature=SIGNATURE
        )
    assert raised.value.missing == ("FD-1: not located and no reason given", MISSING_ASSESSMENT)
    assert not opened.target.path.exists()


def test_the_signed_revision_is_kept_and_every_addendum_revision_follows_it(
    study: StudyCopy, tmp_path: Path
) -> None:
    """Tester (issue 14): after an addendum's autosaves the signed report was nowhere on disk."""
    signed, _target = signed_study(study, tmp_path)
    assert signed.sop_instance_uid is not None
    opened = study.open(tmp_path / "user")
    signed_bytes = opened.target.path.read_bytes()
    report = explained(signed.findings[0], Addendum(signed.sop_instance_uid, "Nachtrag"))
    first, target = save_annotations(
        opened.annotations, [study.header], opened.target, report=report
    )
    second, target = save_annotations(first, [study.header], target, report=report)
    kept = sidecar.signed_copy_path(opened.target.path, signed.sop_instance_uid)
    assert kept.read_bytes() == signed_bytes  # the signed revision, byte for byte
    assert kept.name.endswith(f".signed-{signed.sop_instance_uid}.sr.json")
    for revision in (first, second):  # the drafts follow the signed revision, not each other
        assert revision.previous_revision_uid == signed.sop_instance_uid
    on_disk = from_json(opened.target.path.read_text())
    (predecessor,) = (
        on_disk.PredecessorDocumentsSequence[0]
        .ReferencedSeriesSequence[0]["ReferencedSOPSequence"]
        .value
    )
    assert predecessor.ReferencedSOPInstanceUID == signed.sop_instance_uid
    again = study.open(tmp_path / "user")  # the kept copy is not taken for the sidecar
    assert again.annotations.sop_instance_uid == second.sop_instance_uid
    assert again.problems == ()
