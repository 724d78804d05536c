"""Tests for galactoview.imaging.thumbnails: size, hanging flip, values, speed path, errors."""

from __future__ import annotations

import os
import pickle
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from galactoview.dicom.loading import ImageRecord, PixelDataError, scan
from galactoview.dicom.mammography import hanging_flip
from galactoview.imaging import thumbnails
from galactoview.imaging.export import read_dataset, render_image
from galactoview.imaging.thumbnails import (
    reduced_level,
    render_thumbnail,
    thumbnail_in_worker,
    thumbnail_key,
    thumbnail_shape,
)
from tests.helpers import write_mg


def by_name(records: tuple[ImageRecord, ...], name: str) -> ImageRecord:
    return next(record for record in records if record.path.name == name)


def engine_render(record: ImageRecord, max_size: int) -> np.ndarray:
    """The CLI/export render of the file, downsampled, hung like the viewer hangs it."""
    display = render_image(read_dataset(record.path), max_size=max_size)
    flip = hanging_flip(record.view, record.patient_orientation)
    if flip.horizontal:
        display = display[:, ::-1]
    if flip.vertical:
        display = display[::-1, :]
    return display


def test_thumbnail_shape_keeps_the_aspect_ratio() -> None:
    assert thumbnail_shape(2294, 1914, 192) == (192, 160)
    assert thumbnail_shape(1914, 2294, 192) == (160, 192)
    assert thumbnail_shape(100, 80, 192) == (100, 80)  # never enlarged
    assert thumbnail_shape(5000, 3, 64) == (64, 1)  # at least one pixel


@pytest.mark.parametrize("max_size", [192, 64])
def test_sample_thumbnails_fit_max_size_with_the_images_aspect_ratio(
    sample_records: tuple[ImageRecord, ...], max_size: int
) -> None:
    for record in sample_records:
        thumb = render_thumbnail(record, max_size)
        assert thumb.dtype == np.uint8
        assert max(thumb.shape) == max_size
        assert thumb.shape == thumbnail_shape(record.rows, record.columns, max_size)
        # Rounding each side to whole pixels changes the ratio by at most 1/max_size.
        assert thumb.shape[0] / thumb.shape[1] == pytest.approx(
            record.rows / record.columns, rel=1.0 / thumb.shape[1]
        )
        assert thumb.std() > 10  # a picture, not a flat field


def test_prior_rcc_stored_mirrored_is_flipped_like_the_hung_image(
    sample_records: tuple[ImageRecord, ...],
) -> None:
    rcc = by_name(sample_records, "06_RCC.dcm")
    assert str(rcc.patient_orientation) == "A\\L"  # stored mirrored; hangs as P\L
    hung = render_thumbnail(rcc)
    stored = render_thumbnail(rcc, hang=False)
    assert not np.array_equal(hung, stored)
    np.testing.assert_array_equal(hung, stored[:, ::-1])
    # An image stored as it hangs is not flipped.
    lcc = by_name(sample_records, "07_LCC.dcm")
    np.testing.assert_array_equal(render_thumbnail(lcc), render_thumbnail(lcc, hang=False))


def test_full_decode_thumbnail_equals_the_engine_render(
    sample_records: tuple[ImageRecord, ...],
) -> None:
    # Same pipeline, same VOI choice, same Lanczos shrink: identical, not just close.
    for name in ("01_LCC_PRE.dcm", "06_RCC.dcm"):
        record = by_name(sample_records, name)
        np.testing.assert_array_equal(
            render_thumbnail(record, reduced=False), engine_render(record, 192)
        )


def test_reduced_resolution_thumbnail_is_close_to_the_engine_render(
    sample_records: tuple[ImageRecord, ...],
) -> None:
    # The reduced J2K level holds the 5/3 wavelet low-pass of 4x4 blocks (the values
    # are averaged, then windowed), where the engine windows every pixel, then averages
    # (box + Lanczos). Both are local means of the same pixels, so they agree except
    # at sharp, high-contrast edges (skin line, contrast-filled ducts) where the window
    # is non-linear: measured on the sample, mean |diff| <= 0.3 grey levels and the
    # 99th percentile <= 4. The bounds below leave room for decoder versions, yet a
    # wrong window, shift or flip gives differences of tens of grey levels.
    for record in sample_records:
        fast = render_thumbnail(record).astype(np.int16)
        reference = engine_render(record, 192).astype(np.int16)
        difference = np.abs(fast - reference)
        assert difference.mean() <= 1.0, record.path.name
        assert np.percentile(difference, 99) <= 8, record.path.name


def test_sample_jpeg2000_thumbnails_do_not_decode_the_full_image(
    sample_records: tuple[ImageRecord, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_full_decode(record: ImageRecord, **_: object) -> np.ndarray:
        raise AssertionError(f"full decode of {record.path.name}")

    monkeypatch.setattr(thumbnails, "decode_stored", no_full_decode)
    record = by_name(sample_records, "03_LCC_POST.dcm")
    assert record.transfer_syntax_uid == "1.2.840.10008.1.2.4.90"
    assert render_thumbnail(record).shape == (192, 160)
    with pytest.raises(AssertionError, match="full decode"):
        render_thumbnail(record, reduced=False)


def test_reduced_level_keeps_at_least_max_size_and_avoids_pillow_rounding() -> None:
    # 4096 x 3328 / 16 = 256 x 208 >= 192; / 32 would be 128 x 104.
    assert reduced_level(4096, 3328, 192, levels=5) == 4
    assert reduced_level(4096, 3328, 192, levels=2) == 2  # no more levels in the stream
    # 2294 x 1914: / 8 = 287 x 240 by ceil, but Pillow would round 1914 / 8 to 239 -> 2.
    assert reduced_level(2294, 1914, 192, levels=5) == 2
    assert reduced_level(150, 120, 192, levels=5) == 0


def test_uncompressed_image_thumbnail(tmp_path: Path) -> None:
    (record,) = scan([write_mg(tmp_path / "a.dcm", rows=300, columns=200)]).images
    thumb = render_thumbnail(record, 60)
    assert thumb.shape == (60, 40)
    assert 0 < thumb.mean() < 255


def test_unreadable_file_raises_pixel_data_error_naming_the_file(
    sample_records: tuple[ImageRecord, ...], tmp_path: Path
) -> None:
    source = by_name(sample_records, "02_LML_PRE.dcm")
    path = tmp_path / "02_LML_PRE.dcm"
    shutil.copyfile(source.path, path)
    (record,) = scan([path]).images
    path.write_bytes(os.urandom(4096))  # replaced by junk after the scan
    with pytest.raises(PixelDataError) as caught:
        render_thumbnail(record)
    assert caught.value.path == path
    assert str(path) in str(caught.value)
    reply = thumbnail_in_worker(record)
    assert isinstance(reply, str) and reply == caught.value.message

    path.unlink()
    with pytest.raises(PixelDataError, match=re.escape("02_LML_PRE.dcm")):
        render_thumbnail(record)


def test_truncated_jpeg2000_falls_back_and_raises(
    sample_records: tuple[ImageRecord, ...], tmp_path: Path
) -> None:
    source = by_name(sample_records, "07_LCC.dcm")
    data = source.path.read_bytes()
    path = tmp_path / "cut.dcm"
    path.write_bytes(data[: len(data) * 2 // 3])
    (record,) = scan([path]).images
    with pytest.raises(PixelDataError) as caught:
        render_thumbnail(record)
    assert caught.value.path == path


def test_worker_function_returns_pixels_that_pickle(
    sample_records: tuple[ImageRecord, ...],
) -> None:
    record = sample_records[0]
    reply = thumbnail_in_worker(pickle.loads(pickle.dumps(record)), 48)
    assert isinstance(reply, np.ndarray)
    assert reply.shape == (48, 40)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(reply)), render_thumbnail(record, 48))


def test_thumbnail_key_changes_with_the_file_and_the_size(tmp_path: Path) -> None:
    path = write_mg(tmp_path / "a.dcm")
    (record,) = scan([path]).images
    key = thumbnail_key(record)
    assert thumbnail_key(record) == key
    assert thumbnail_key(record, 96) != key
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))
    assert thumbnail_key(record) != key
    path.unlink()
    assert thumbnail_key(record)  # still a key when the file is gone
