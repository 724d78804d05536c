"""Opening and saving a study's annotations: codec + sidecar, with every bad file kept safe."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset

from galactoview.annotations import sidecar
from galactoview.annotations.model import (
    AnnotationSet,
    Finding,
    FindingType,
    GraphicType,
    ImageRegion,
)
from galactoview.annotations.persistence import open_annotations, save_annotations
from galactoview.dicom.loading import ImageRecord
from galactoview.dicom.mammography import Laterality
from tests.helpers import sample_images


@pytest.fixture
def study(tmp_path: Path) -> tuple[Path, list[ImageRecord], list[Dataset]]:
    """Copy the sample ductogram's post-contrast CC into a writable folder."""
    record = next(
        r for r in sample_images() if r.view.label == "L CC" and r.contrast_phase.value == "post"
    )
    folder = tmp_path / "study"
    folder.mkdir()
    shutil.copy(record.path, folder / record.path.name)
    header = dcmread(folder / record.path.name, stop_before_pixels=True)
    return folder, [record], [header]


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
    study: tuple[Path, list[ImageRecord], list[Dataset]], tmp_path: Path
) -> None:
    folder, records, headers = study
    uid = records[0].study_instance_uid
    opened = open_annotations(uid, [folder / records[0].path.name], user_dir=tmp_path / "user")
    assert opened.annotations == AnnotationSet(uid)
    assert opened.target.path == folder / sidecar.sidecar_name(uid)
    annotations = opened.annotations.with_finding(defect(records[0], "Papillom – Größe ≈ 4 mm"))
    first, target = save_annotations(annotations, headers, opened.target)
    assert first.sop_instance_uid is not None and first.previous_revision_uid is None
    second, target = save_annotations(first, headers, target)
    assert second.previous_revision_uid == first.sop_instance_uid
    again = open_annotations(uid, [folder / records[0].path.name], user_dir=tmp_path / "user")
    assert again.problems == ()
    assert again.annotations.findings == annotations.findings
    assert again.annotations.sop_instance_uid == second.sop_instance_uid
    assert again.annotations.previous_revision_uid == first.sop_instance_uid


def test_a_corrupt_sidecar_is_reported_kept_and_a_new_file_is_written(
    study: tuple[Path, list[ImageRecord], list[Dataset]], tmp_path: Path
) -> None:
    folder, records, headers = study
    uid = records[0].study_instance_uid
    bad = folder / sidecar.sidecar_name(uid)
    bad.write_bytes(b'{"00080005": {"vr": "CS", "Val')
    before = bad.read_bytes()
    opened = open_annotations(uid, [folder / records[0].path.name], user_dir=tmp_path / "user")
    assert opened.annotations.findings == ()
    assert any(str(bad) in line for line in opened.problems)
    assert opened.target.alongside
    saved, target = save_annotations(
        opened.annotations.with_finding(defect(records[0])), headers, opened.target
    )
    assert bad.read_bytes() == before
    assert target.path != bad and target.path.parent == folder and target.path.is_file()
    assert not target.alongside  # from now on the new file is the sidecar
    assert saved.sop_instance_uid is not None


def test_a_change_on_disk_since_loading_is_never_overwritten(
    study: tuple[Path, list[ImageRecord], list[Dataset]], tmp_path: Path
) -> None:
    folder, records, headers = study
    uid = records[0].study_instance_uid
    opened = open_annotations(uid, [folder / records[0].path.name], user_dir=tmp_path / "user")
    _saved, target = save_annotations(
        opened.annotations.with_finding(defect(records[0])), headers, opened.target
    )
    other_workstation = open_annotations(uid, [folder / records[0].path.name], user_dir=tmp_path)
    save_annotations(
        other_workstation.annotations.without_finding(
            other_workstation.annotations.findings[0].tracking_uid
        ),
        headers,
        other_workstation.target,
    )
    on_disk = target.path.read_bytes()
    with pytest.raises(sidecar.SidecarConflict):
        save_annotations(opened.annotations, headers, target)
    assert target.path.read_bytes() == on_disk


def test_an_sr_of_another_study_is_kept_and_not_loaded(
    study: tuple[Path, list[ImageRecord], list[Dataset]], tmp_path: Path
) -> None:
    folder, records, headers = study
    uid = records[0].study_instance_uid
    opened = open_annotations(uid, [folder / records[0].path.name], user_dir=tmp_path / "user")
    _saved, target = save_annotations(
        opened.annotations.with_finding(defect(records[0])), headers, opened.target
    )
    other_uid = "1.2.826.0.1.3680043.8.498.1"
    foreign = folder / sidecar.sidecar_name(other_uid)
    target.path.rename(foreign)
    reopened = open_annotations(other_uid, [folder / records[0].path.name], user_dir=tmp_path)
    assert reopened.annotations.findings == ()
    assert reopened.target.alongside
    assert any("not" in line and uid in line for line in reopened.problems)
