"""The sample study and SR revisions of its marks, for the PACS tests."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from galactoview.paths import sample_dicom_dir
from galactoview.sr.sr_codec import decode, encode, from_json, to_json
from tests.helpers import sample_headers

DUCTOGRAM = "20260312_DUCTOGRAM_L"


def sample_sidecar() -> Path:
    """The committed sidecar of the sample ductogram (skip without it)."""
    found = sorted((sample_dicom_dir() / DUCTOGRAM).glob("galactoview-*.sr.json"))
    if not found:
        pytest.skip("the sample study has no sidecar")
    return found[0]


def copy_sample(target: Path) -> Path:
    """Copy sample_data/dicom (both studies, the ductogram's sidecar) to ``target``."""
    if not sample_dicom_dir().is_dir():
        pytest.skip("no sample study")
    shutil.copytree(sample_dicom_dir(), target)
    return target


def sample_sr() -> Dataset:
    """The sample ductogram's SR (the revision its sidecar holds)."""
    return from_json(sample_sidecar().read_text(encoding="utf-8"))


def revise(previous: Dataset, note: str, when: dt.datetime, *, observer: str = "") -> Dataset:
    """A new revision of ``previous`` (it becomes the predecessor): finding 1's note changed.

    ``observer`` (a DICOM PN) becomes the report's person observer when given.
    """
    result = decode(previous)
    annotations = result.annotations
    first, *others = annotations.findings
    changed = dataclasses.replace(
        annotations,
        findings=(dataclasses.replace(first, note=note), *others),
        observer=observer or annotations.observer,
    )
    dataset = encode(
        changed,
        list(sample_headers().values()),
        content_datetime=when,
        locations=result.locations,
    )
    return from_json(to_json(dataset))


def earlier_copy(study: Path, target: Path, study_date: str) -> tuple[str, list[Path]]:
    """Copy a study's images to ``target`` as another study of the same patient.

    New Study, Series and SOP Instance UIDs (the copy is a distinct study on a PACS) and
    ``study_date`` as its Study Date; the source files are only read. Returns the new
    Study Instance UID and the files written.
    """
    study_uid = str(generate_uid())
    series_uids: dict[str, str] = {}
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for path in sorted(study.glob("*.dcm")):
        dataset = dcmread(path)
        dataset.StudyInstanceUID = study_uid
        old_series = str(dataset.SeriesInstanceUID)
        dataset.SeriesInstanceUID = series_uids.setdefault(old_series, str(generate_uid()))
        sop = generate_uid()
        dataset.SOPInstanceUID = sop
        dataset.file_meta.MediaStorageSOPInstanceUID = sop
        dataset.StudyDate = study_date
        dataset.AccessionNumber = f"PRIOR{study_date}"
        written.append(target / path.name)
        dataset.save_as(written[-1], enforce_file_format=True)
    return study_uid, written
