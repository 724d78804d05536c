"""Bad input: every broken file gives one clear line naming it, never an exception.

The files are made in code by :mod:`tests.data_factory`, or are pydicom's own
bundled test files (``pydicom.data``, no network).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import galactoview.dicom.loading as loading
from galactoview.dicom.loading import (
    MAX_DECODED_BYTES,
    ImageRecord,
    LoadProblem,
    PixelDataError,
    ScanResult,
    load_pixels,
    read_header,
    scan,
)
from tests import data_factory
from tests.helpers import make_pixels, pydicom_test_file, write_mg, write_study, write_truncated


def _only_problem(result: ScanResult, path: Path) -> str:
    """Assert the scan found no image and exactly one problem, for ``path``; return it."""
    assert result.images == ()
    (problem,) = result.problems
    assert problem.path == path
    _assert_one_line(problem)
    return problem.message


def _only_image(result: ScanResult) -> ImageRecord:
    assert result.problems == ()
    (image,) = result.images
    return image


def _pixel_error(record: ImageRecord) -> str:
    """Return the message of the :class:`PixelDataError` ``load_pixels`` raises."""
    with pytest.raises(PixelDataError) as caught:
        load_pixels(record)
    assert caught.value.path == record.path
    assert "\n" not in caught.value.message
    assert str(caught.value).startswith(f"{record.path}: ")
    return caught.value.message


def _assert_one_line(problem: LoadProblem) -> None:
    text = str(problem)
    assert "\n" not in text
    assert text.startswith(f"{problem.path}: ")
    assert problem.message


# --- files that are not DICOM, or not there -----------------------------------------


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (data_factory.write_empty, "empty file (0 bytes); not a DICOM file"),
        (data_factory.write_random_bytes, "not a DICOM file (no 'DICM' prefix after the preamble)"),
        (data_factory.write_text, "not a DICOM file (no 'DICM' prefix after the preamble)"),
    ],
    ids=["empty", "random-bytes", "text"],
)
def test_non_dicom_file_named_explicitly_is_reported(
    tmp_path: Path, make: Callable[[Path], Path], expected: str
) -> None:
    path = make(tmp_path / "input")
    assert _only_problem(scan([path]), path) == expected


def test_folder_of_mixed_non_dicom_files_is_quiet(tmp_path: Path) -> None:
    image = write_mg(tmp_path / "study" / "IM0001")
    data_factory.write_random_bytes(tmp_path / "study" / "thumbs.db")
    data_factory.write_random_bytes(tmp_path / "study" / "scan.bin", seed=2)
    data_factory.write_text(tmp_path / "study" / "README")
    data_factory.write_text(tmp_path / "notes.log")
    data_factory.write_empty(tmp_path / "study" / "lock")
    (tmp_path / "empty_folder").mkdir()
    result = scan([tmp_path])
    assert [record.path for record in result.images] == [image]
    assert result.problems == ()


def test_non_dicom_file_with_dicom_suffix_in_folder_is_reported(tmp_path: Path) -> None:
    path = data_factory.write_empty(tmp_path / "IM0002.dcm")
    assert _only_problem(scan([tmp_path]), path) == "empty file (0 bytes); not a DICOM file"


def test_path_that_does_not_exist(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such.dcm"
    assert _only_problem(scan([path]), path) == "no such file or folder"


# --- damaged DICOM files --------------------------------------------------------------


def test_truncated_file_meta(tmp_path: Path) -> None:
    path = data_factory.write_cut_in_meta(tmp_path / "cut.dcm")
    message = _only_problem(scan([path]), path)
    assert message == "damaged or empty DICOM file: no image attributes found"


def test_truncated_header(tmp_path: Path) -> None:
    path = data_factory.write_cut_in_header(tmp_path / "cut.dcm")
    message = _only_problem(scan([path]), path)
    assert message.startswith("truncated DICOM file (it ends without Pixel Data): missing")


def test_damaged_files_are_reported_one_by_one(tmp_path: Path) -> None:
    cut_meta = data_factory.write_cut_in_meta(tmp_path / "a.dcm")
    good = write_mg(tmp_path / "b.dcm")
    cut_header = data_factory.write_cut_in_header(tmp_path / "c.dcm")
    result = scan([tmp_path])
    assert [record.path for record in result.images] == [good]
    assert [problem.path for problem in result.problems] == [cut_meta, cut_header]


@pytest.mark.parametrize("cut", ["length-field-short", "file-cut"])
def test_truncated_pixel_data_scans_but_does_not_decode(tmp_path: Path, cut: str) -> None:
    if cut == "file-cut":
        path = data_factory.write_cut_in_pixels(tmp_path / "cut.dcm")
    else:
        path = write_truncated(tmp_path / "cut.dcm")
    record = _only_image(scan([path]))
    assert _pixel_error(record).startswith("the pixel data is truncated")


def test_no_pixel_data(tmp_path: Path) -> None:
    from tests.helpers import make_mg_dataset, write_dataset

    ds = make_mg_dataset()
    del ds.PixelData
    record = _only_image(scan([write_dataset(ds, tmp_path / "nopix.dcm")]))
    assert _pixel_error(record) == "the file has no Pixel Data (7FE0,0010)"


def test_garbage_pixel_data_scans_without_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Scanning reads headers only: a decoder call would fail this test.
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("scan decoded pixel data")

    monkeypatch.setattr(loading, "pixel_array", forbidden)
    monkeypatch.setattr("pydicom.pixels.utils.pixel_array", forbidden)
    monkeypatch.setattr("pydicom.dataset.Dataset.convert_pixel_data", forbidden)
    path = data_factory.write_native_syntax_encapsulated_data(tmp_path / "garbage.dcm")
    record = _only_image(scan([path]))
    assert record.rows == 64


# --- files without File Meta Information, or with wrong VRs ---------------------------


def test_dataset_without_file_meta_is_accepted(tmp_path: Path) -> None:
    # Decision: reading is tolerant. A dataset without preamble and File Meta
    # Information (not PS3.10 7.1) is read with pydicom's force mode when its first
    # element is in group 0002 or 0008; the transfer syntax is inferred.
    pixels = make_pixels(16, 12, seed=3)
    path = data_factory.write_without_meta(tmp_path / "IM_OLD", pixels=pixels)
    record = _only_image(scan([tmp_path]))
    assert record.path == path
    assert record.transfer_syntax_uid == "1.2.840.10008.1.2"  # Implicit VR Little Endian
    np.testing.assert_array_equal(load_pixels(record), pixels)
    assert read_header(record).Modality == "MG"


def test_pydicom_no_meta_file_is_reported() -> None:
    # pydicom's no_meta.dcm starts with a stray byte, not with a group 0008 element:
    # it is not recognised as a dataset and is reported, not guessed at.
    path = pydicom_test_file("no_meta.dcm")
    assert _only_problem(scan([path]), path).startswith("not a DICOM file")


def test_file_meta_without_transfer_syntax_is_reported() -> None:
    path = pydicom_test_file("meta_missing_tsyntax.dcm")
    assert _only_problem(scan([path]), path) == (
        "damaged or empty DICOM file: no image attributes found"
    )


def test_unknown_vr_gives_one_clear_line() -> None:
    # badVR.dcm has an element whose VR is not a DICOM VR (PS3.5 6.2).
    path = pydicom_test_file("badVR.dcm")
    record = _only_image(scan([path]))
    # Its Pixel Data holds far more than Rows x Columns x Bits Allocated: mislabelled.
    assert _pixel_error(record).startswith(
        "the header claims Rows 10 x Columns 10 x 1 frame(s) x 1 sample(s) x 32 bit(s)"
        " = 400 bytes, but the pixel data holds"
    )


def test_explicit_vr_claimed_for_implicit_data_is_read(tmp_path: Path) -> None:
    pixels = make_pixels(16, 12, seed=4)
    path = data_factory.write_explicit_meta_implicit_data(tmp_path / "mixed.dcm", pixels=pixels)
    record = _only_image(scan([path]))
    np.testing.assert_array_equal(load_pixels(record), pixels)


def test_bad_window_values_do_not_stop_scanning(tmp_path: Path) -> None:
    # The display pipeline reports bad VOI values; scanning and decoding do not care.
    path = data_factory.write_bad_window(tmp_path / "window.dcm")
    record = _only_image(scan([path]))
    assert load_pixels(record).shape == (64, 48)


# --- headers that do not match the pixel data -----------------------------------------


def test_bits_allocated_not_a_multiple_of_8(tmp_path: Path) -> None:
    record = _only_image(scan([data_factory.write_bits_allocated(tmp_path / "b.dcm", 12)]))
    assert _pixel_error(record) == (
        "Bits Allocated 12 is not supported (PS3.5 8.1.1: it must be 1 or a multiple of 8)"
    )


def test_compressed_syntax_with_uncompressed_data(tmp_path: Path) -> None:
    path = data_factory.write_compressed_syntax_uncompressed_data(tmp_path / "j2k.dcm")
    record = _only_image(scan([path]))
    assert _pixel_error(record) == (
        "the transfer syntax JPEG 2000 Image Compression (Lossless Only)"
        " (1.2.840.10008.1.2.4.90) says the pixel data is compressed,"
        " but it is stored uncompressed (PS3.5 A.4)"
    )


def test_uncompressed_syntax_with_compressed_data(tmp_path: Path) -> None:
    path = data_factory.write_native_syntax_encapsulated_data(tmp_path / "native.dcm")
    record = _only_image(scan([path]))
    assert "the pixel data is compressed (encapsulated)" in _pixel_error(record)


def _no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("pixel data decoded despite the size check")

    monkeypatch.setattr(loading, "pixel_array", forbidden)


def test_absurd_image_size_is_refused_before_allocating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = _only_image(scan([data_factory.write_huge_claim(tmp_path / "huge.dcm")]))
    _no_decoding(monkeypatch)
    message = _pixel_error(record)
    assert message == (
        "the image is too large: one frame would need 8.0 GiB (Rows 65535 x Columns 65535"
        " x Samples per Pixel 1 x 2 byte(s)), more than the limit of 2.0 GiB"
    )
    assert MAX_DECODED_BYTES == 2 * 1024**3


def test_absurd_frame_count_is_refused_before_allocating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = data_factory.write_huge_claim(tmp_path / "frames.dcm", 1024, 1024, frames=100_000)
    record = _only_image(scan([path]))
    assert record.frame_count == 100_000
    _no_decoding(monkeypatch)
    assert _pixel_error(record) == (
        "the pixel data is truncated: the header claims Rows 1024 x Columns 1024"
        " x 100000 frame(s) x 1 sample(s) x 16 bit(s) = 195.3 GiB,"
        " but the pixel data holds 128 bytes"
    )


def test_frame_out_of_range(tmp_path: Path) -> None:
    record = _only_image(scan([write_mg(tmp_path / "a.dcm")]))
    with pytest.raises(PixelDataError, match=r"frame 1 does not exist; the image has 1 frame\(s\)"):
        load_pixels(record, 1)


# --- objects that are not images ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "sop_class"),
    [
        ("reportsi.dcm", "Basic Text SR Storage"),
        ("test-SR.dcm", "Comprehensive SR Storage"),
    ],
)
def test_structured_reports_are_collected_not_reported(name: str, sop_class: str) -> None:
    path = pydicom_test_file(name)
    result = scan([path])
    assert result.images == () and result.problems == ()
    (report,) = result.reports
    assert (report.path, report.sop_class_name) == (path, sop_class)


@pytest.mark.parametrize(
    ("name", "sop_class"),
    [
        ("rtplan.dcm", "RT Plan Storage"),
        ("rtstruct.dcm", "RT Structure Set Storage"),
        ("liver_1frame.dcm", "Segmentation Storage"),
    ],
)
def test_non_image_objects_are_reported(name: str, sop_class: str) -> None:
    path = pydicom_test_file(name)
    assert _only_problem(scan([path]), path) == f"not an image ({sop_class}); skipped"


# --- source files are never modified --------------------------------------------------


def test_scan_and_load_leave_files_untouched(tmp_path: Path) -> None:
    paths = [*write_study(tmp_path), data_factory.write_cut_in_pixels(tmp_path / "cut.dcm")]
    for path in paths:
        path.chmod(0o444)  # read-only files must still scan and decode
    before = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in paths}
    result = scan([tmp_path])
    assert len(result.images) == 5
    for record in result.images:
        try:
            load_pixels(record)
            read_header(record)
        except PixelDataError:
            assert record.path.name == "cut.dcm"
    after = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in paths}
    assert before == after


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX named pipes")
def test_named_pipe_in_a_folder_does_not_hang(tmp_path: Path) -> None:
    image = write_mg(tmp_path / "a.dcm")
    os.mkfifo(tmp_path / "pipe.dcm")  # opening it for reading would block forever
    result = scan([tmp_path])
    assert [record.path for record in result.images] == [image]
    assert result.problems == ()
    pipe = tmp_path / "pipe.dcm"
    assert _only_problem(scan([pipe]), pipe) == "not a regular file or folder"
