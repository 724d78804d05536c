"""The report's content from the sample study: header, table rows, pictogram data, key images."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import pytest

from galactoview.annotations.model import AnnotationSet
from galactoview.dicom.loading import ImageRecord, scan
from galactoview.dicom.mammography import Laterality
from galactoview.paths import sample_dicom_dir
from galactoview.report.content import (
    DISCLAIMER,
    StudyReport,
    build_report,
    build_study_report,
    load_report,
    report_file_name,
)
from galactoview.sr.persistence import open_annotations

TRUTH = json.loads((Path(__file__).parents[2] / "sample_data" / "ground_truth.json").read_text())
DATE = dt.date(2026, 3, 13)


def _ductogram_annotations(records: tuple[ImageRecord, ...]) -> AnnotationSet:
    ductogram = [r for r in records if r.study_description.upper().startswith("DUCTOGRAM")]
    return open_annotations(
        ductogram[0].study_instance_uid, [r.path for r in ductogram]
    ).annotations


def _ductogram(records: tuple[ImageRecord, ...]) -> StudyReport:
    return build_study_report(_ductogram_annotations(records), records)


def test_fd1_row_gives_the_surgeon_the_ground_truth(
    sample_records: tuple[ImageRecord, ...],
) -> None:
    study = _ductogram(sample_records)
    row = next(r for r in study.rows if r.short_id == "FD-1")
    truth = next(lesion for lesion in TRUTH["lesions"] if lesion["id"] == "defect-1")
    assert row.located and row.reason == ""
    assert row.side == "Left"
    assert row.clock == "7 o'clock"
    assert row.quadrant == "LIQ"
    assert row.depth.endswith(" cm, middle third")  # depth behind the nipple in cm, third
    assert row.finding_type == "Intraluminal filling defect"
    assert row.impression == "Intraductal papilloma"
    assert row.distance.endswith(" cm")
    assert abs(10 * float(row.distance.split()[0]) - truth["distance_from_nipple_mm"]) <= 5.0
    assert row.size == "6.6 mm¹"  # one short number, the calibration in footnote ¹
    # In front of the chest wall: the nipple–chest wall distance less the depth.
    depth_cm = float(row.depth.split()[0])
    assert 0.0 < float(row.to_chest_wall.split()[0]) < 2.0 * depth_cm
    (footnote,) = study.footnotes
    assert footnote.marker == "¹"
    assert footnote.text.startswith("Sizes measured at 0.0925 mm per pixel: Imager Pixel")
    mark = next(m for m in study.marks if m.short_id == "FD-1")
    assert mark.laterality is Laterality.LEFT
    assert mark.distance_mm is not None
    assert abs(mark.distance_mm - truth["distance_from_nipple_mm"]) <= 5.0
    assert 195.0 <= mark.clock_angle_deg <= 225.0  # 7 o'clock is 210°
    assert mark.depth_fraction is not None and 1 / 3 <= mark.depth_fraction < 2 / 3


def test_header_observer_sr_uid_and_key_images(sample_records: tuple[ImageRecord, ...]) -> None:
    study = _ductogram(sample_records)
    assert study.header.patient_name == "PHANTOM, GALACTO SYNTHETIC"
    assert study.header.study_date == "2026-03-12"
    assert study.header.accession_number == "GV0007D"
    assert study.observer == "PHANTOM, GENERATOR"
    assert study.sr_sop_instance_uid.startswith("1.2.826.0.1.3680043.8.498.")
    assert [k.view_label for k in study.key_images] == ["L CC #3", "L ML #4", "L CC MAG #5"]
    assert {m.short_id for m in study.key_images[0].marks} == {"FD-1", "CY-1", "DE-1"}
    assert len(study.key_images[0].nipples) == 1
    assert [r.short_id for r in study.rows] == ["FD-1", "CY-1", "DE-1"]


def test_a_finding_on_one_view_says_why_it_is_not_located(
    sample_records: tuple[ImageRecord, ...],
) -> None:
    annotations = _ductogram_annotations(sample_records)
    fd1 = annotations.findings[0]
    one_view = replace(fd1, regions=fd1.regions[:1], measurements=())
    study = build_study_report(replace(annotations, findings=(one_view,)), sample_records)
    (row,) = study.rows
    assert not row.located
    assert row.reason == "Not located: needs an ML or MLO region"  # exactly what is missing
    assert row.clock == "not located"
    assert row.distance == row.depth == "—"
    assert study.marks == ()
    assert any("CC and an ML/LM or MLO" in note for note in study.notes)


def test_uncalibrated_images_are_flagged(sample_records: tuple[ImageRecord, ...]) -> None:
    records = tuple(replace(r, calibration=None) for r in sample_records)
    study = _ductogram(records)
    row = next(r for r in study.rows if r.short_id == "FD-1")
    assert row.distance == "unknown (uncalibrated)"
    assert row.depth == "middle third (cm unknown: uncalibrated)"  # never a bare number
    assert row.clock == "7 o'clock"  # the clock face still comes from the pixel offsets
    assert any("uncalibrated" in flag for flag in row.flags)
    assert any("uncalibrated" in note for note in study.notes)


def test_load_report_keeps_only_annotated_studies() -> None:
    folder = sample_dicom_dir()
    if not folder.is_dir():
        pytest.skip(f"no sample study in {folder}")
    loaded = load_report([folder], DATE)
    assert len(loaded.records) == 9
    assert [s.header.study_description for s in loaded.content.studies] == ["DUCTOGRAM LEFT"]
    assert loaded.content.report_date == DATE
    assert loaded.content.disclaimer == DISCLAIMER
    assert build_report(loaded.records, [], DATE).studies == ()


def test_the_reader_is_who_made_the_revision_with_the_organisation(
    sample_records: tuple[ImageRecord, ...],
) -> None:
    """Issue 14: "Reader" is the revision's person observer, not some finding's author."""
    annotations = _ductogram_annotations(sample_records)
    signed = replace(annotations, observer="Curie^Marie^^Dr", observer_organization="Radium")
    assert build_study_report(signed, sample_records).observer == "Curie, Marie Dr (Radium)"
    findings = tuple(replace(f, observer="Other^Reader") for f in annotations.findings)
    nobody = replace(annotations, observer="", findings=findings)
    assert build_study_report(nobody, sample_records).observer == "not recorded"


def test_the_report_file_name_names_patient_and_study_safely() -> None:
    record = scan([sample_dicom_dir()]).images[0]
    assert report_file_name(record) == (
        f"{record.patient_id}_{record.study_date}_galactography-report.pdf"
    )
    odd = replace(record, patient_id="A/B 7", study_date="")
    assert report_file_name(odd) == "A_B_7_galactography-report.pdf"
    assert report_file_name(None) == "galactography-report.pdf"
