"""Tests for galactoview.dicom.study_tree."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from galactoview.dicom.loading import scan
from galactoview.dicom.study_tree import build_study_tree
from galactoview.paths import sample_dicom_dir
from tests.helpers import write_mg, write_study


def test_empty() -> None:
    assert build_study_tree([]) == ()


def test_one_study_grouped_in_series_order(tmp_path: Path) -> None:
    write_study(tmp_path)
    result = scan([tmp_path])
    (patient,) = build_study_tree(result.images)
    assert (patient.patient_id, patient.patient_name) == ("GV-TEST-001", "Phantom^Jane")
    assert patient.image_count == 4
    (study,) = patient.studies
    assert study.study_date == "20240102"
    assert study.study_description == "Galactography left"
    assert [s.series_number for s in study.series] == [1, 2, 3]
    assert [len(s.images) for s in study.series] == [1, 2, 1]
    assert [s.series_description for s in study.series] == [
        "pre-contrast",
        "post-contrast",
        "post-contrast",
    ]
    assert study.series[0].modality == "MG"
    # Flattening the tree gives back the scan order.
    flat = [i for st in patient.studies for se in st.series for i in se.images]
    assert flat == list(result.images)


def test_newest_study_first_and_patients_apart(tmp_path: Path) -> None:
    write_mg(tmp_path / "old.dcm", study_uid="1.2.3.1", study_date="20200101")
    write_mg(tmp_path / "new.dcm", study_uid="1.2.3.2", study_date="20250101")
    write_mg(tmp_path / "other.dcm", study_uid="1.2.3.3", patient_name="Other^Ann")
    tree = build_study_tree(scan([tmp_path]).images)
    assert [p.patient_name for p in tree] == ["Phantom^Jane", "Other^Ann"]
    assert [s.study_date for s in tree[0].studies] == ["20250101", "20200101"]
    assert tree[1].image_count == 1


def test_nodes_are_frozen(tmp_path: Path) -> None:
    write_mg(tmp_path / "a.dcm")
    (patient,) = build_study_tree(scan([tmp_path]).images)
    with pytest.raises(dataclasses.FrozenInstanceError):
        patient.patient_id = "x"  # type: ignore[misc]
    assert isinstance(patient.studies, tuple)
    assert isinstance(patient.studies[0].series[0].images, tuple)


def test_sample_study() -> None:
    sample = sample_dicom_dir()
    if not sample.is_dir():
        pytest.skip(f"sample study {sample} not present")
    (patient,) = build_study_tree(scan([sample]).images)
    assert patient.image_count == 9
    assert [s.image_count for s in patient.studies] == [5, 4]
    assert patient.studies[0].study_date > patient.studies[1].study_date
