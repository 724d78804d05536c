"""The per-user copy of the sample study (galactoview.paths): made, checked, kept, re-made."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from galactoview import paths
from galactoview.paths import SampleStudyError, sample_checksums, sample_study_copy
from tests.helpers import write_sample_data

SIDECAR = '{"sample": "marks"}'


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A stand-in ``sample_data/`` with four images and a sidecar."""
    folder = tmp_path / "sample_data"
    write_sample_data(folder, sidecar=SIDECAR)
    return folder


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sidecar_of(copy: Path) -> Path:
    (found,) = copy.rglob("galactoview-*.sr.json")
    return found


def test_the_copy_holds_exactly_the_listed_sample_files(data: Path, tmp_path: Path) -> None:
    (data / "dicom" / "series2" / "stray.sr.json.bak").write_text("not listed")
    copies = tmp_path / "copies"
    copy = sample_study_copy(data, copies)
    sums = sample_checksums(data)
    assert copy.parent == copies and len(copy.name) == 16
    assert sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file()) == sorted(
        sums
    )
    assert all(digest(copy / name) == sums[name] for name in sums)
    assert [p.name for p in copies.iterdir()] == [copy.name]  # no temporary folder left


def test_the_checksum_list_names_only_the_dicom_files(data: Path) -> None:
    sums = sample_checksums(data)
    assert len(sums) == 5 and "ground_truth.json" not in sums
    assert sums["series1/scout.dcm"] == digest(data / "dicom" / "series1" / "scout.dcm")


def test_the_readers_marks_stay_in_the_copy_between_runs(data: Path, tmp_path: Path) -> None:
    copies = tmp_path / "copies"
    copy = sample_study_copy(data, copies)
    sidecar_of(copy).write_text('{"my": "marks"}')
    (copy / "series2" / (sidecar_of(copy).name + ".bak")).write_text(SIDECAR)
    assert sample_study_copy(data, copies) == copy
    assert sidecar_of(copy).read_text() == '{"my": "marks"}'
    assert (copy / "series2" / (sidecar_of(copy).name + ".bak")).is_file()


def test_a_damaged_copy_is_made_again_keeping_the_readers_files(data: Path, tmp_path: Path) -> None:
    copies = tmp_path / "copies"
    copy = sample_study_copy(data, copies)
    sidecar_of(copy).write_text('{"my": "marks"}')
    backup = copy / "series2" / (sidecar_of(copy).name + ".bak")
    backup.write_text(SIDECAR)
    image = copy / "series2" / "cc.dcm"
    image.write_bytes(image.read_bytes()[:-10])  # truncated
    (copy / "series3" / "ml.dcm").unlink()
    assert sample_study_copy(data, copies) == copy
    sums = sample_checksums(data)
    assert digest(image) == sums["series2/cc.dcm"]
    assert digest(copy / "series3" / "ml.dcm") == sums["series3/ml.dcm"]
    assert sidecar_of(copy).read_text() == '{"my": "marks"}'
    assert backup.read_text() == SIDECAR
    assert [p.name for p in copies.iterdir()] == [copy.name]  # the old copy is gone


def test_a_missing_sidecar_comes_back_as_the_samples(data: Path, tmp_path: Path) -> None:
    copies = tmp_path / "copies"
    copy = sample_study_copy(data, copies)
    sidecar_of(copy).unlink()
    assert sample_study_copy(data, copies) == copy
    assert sidecar_of(copy).read_text() == SIDECAR


def test_a_changed_sample_gets_a_fresh_copy_and_the_old_one_stays(
    data: Path, tmp_path: Path
) -> None:
    copies = tmp_path / "copies"
    first = sample_study_copy(data, copies)
    sidecar_of(first).write_text('{"my": "marks"}')
    write_sample_data(data, sidecar='{"a new": "sample"}')
    second = sample_study_copy(data, copies)
    assert second != first
    assert sidecar_of(second).read_text() == '{"a new": "sample"}'
    assert sidecar_of(first).read_text() == '{"my": "marks"}'


def test_a_sample_file_that_differs_from_its_checksum_is_refused(
    data: Path, tmp_path: Path
) -> None:
    changed = sidecar_of(data)
    changed.write_text('{"rewritten": "in the repository"}')
    copies = tmp_path / "copies"
    with pytest.raises(SampleStudyError) as raised:
        sample_study_copy(data, copies)
    assert str(raised.value).startswith(f"{changed} differs from {data / 'SHA256SUMS'}")
    assert not raised.value.missing
    assert list(copies.iterdir()) == []  # no half copy


def test_no_sample_study_is_missing(tmp_path: Path) -> None:
    with pytest.raises(SampleStudyError) as raised:
        sample_study_copy(tmp_path / "nothing", tmp_path / "copies")
    assert raised.value.missing
    assert str(tmp_path / "nothing" / "dicom") in str(raised.value)
    assert not (tmp_path / "copies").exists()


@pytest.mark.parametrize(
    "text", ["", "not a checksum line\n", f"{'0' * 64}  dicom/../../etc/passwd\n"]
)
def test_a_malformed_checksum_list_is_one_message(data: Path, tmp_path: Path, text: str) -> None:
    (data / "SHA256SUMS").write_text(text)
    with pytest.raises(SampleStudyError) as raised:
        sample_study_copy(data, tmp_path / "copies")
    assert str(raised.value).startswith(f"{data / 'SHA256SUMS'}: ")


def test_an_unwritable_place_for_copies_is_one_message(data: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "copies"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(SampleStudyError) as raised:
        sample_study_copy(data, blocker)
    assert not raised.value.missing
    assert str(raised.value).startswith("the sample study could not be copied to")


def test_copies_live_in_the_per_user_data_folder(user_data_home: Path) -> None:
    assert paths.sample_copies_dir() == user_data_home / "GalactoView" / "sample-study"
