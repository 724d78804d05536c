"""The sample study and SR revisions of its marks, for the PACS tests."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import pytest
from pydicom.dataset import Dataset

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
