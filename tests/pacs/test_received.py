"""Tests for galactoview.pacs.received: when a received instance counts as whole."""

from __future__ import annotations

from pathlib import Path

from pydicom import dcmread

from galactoview.pacs.received import complete_instance_file
from galactoview.paths import sample_dicom_dir


def _sample_image(tmp_path: Path) -> tuple[Path, str]:
    source = sorted((sample_dicom_dir() / "20260312_DUCTOGRAM_L").glob("*.dcm"))[0]
    copy = tmp_path / source.name
    copy.write_bytes(source.read_bytes())
    return copy, str(dcmread(copy, stop_before_pixels=True).SOPInstanceUID)


def test_a_whole_image_is_complete_and_only_under_its_own_uid(tmp_path: Path) -> None:
    path, uid = _sample_image(tmp_path)
    assert complete_instance_file(path, uid)
    assert not complete_instance_file(path, uid + ".1")
    assert not complete_instance_file(tmp_path / "missing.dcm", uid)


def test_an_image_cut_short_anywhere_is_not_complete(tmp_path: Path) -> None:
    path, uid = _sample_image(tmp_path)
    data = path.read_bytes()
    for size in (1000, len(data) // 2, len(data) - 10):
        path.write_bytes(data[:size])
        assert not complete_instance_file(path, uid), size
