"""Tests: process decoding, cache transport, errors, frames."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread

from galactoview.dicom.loading import ImageRecord, PixelDataError, load_pixels, scan
from galactoview.imaging.decode_service import (
    DecodeService,
    cache_key_record,
    decode_stored,
    fast_path_available,
)
from galactoview.imaging.pixel_cache import PixelCache
from tests.helpers import pydicom_test_file, write_truncated


@pytest.fixture(scope="module")
def service() -> Iterator[DecodeService]:
    service = DecodeService(max_workers=2)
    yield service
    service.shutdown()


def test_same_values_as_load_pixels(
    service: DecodeService, sample_records: tuple[ImageRecord, ...]
) -> None:
    record = sample_records[0]
    assert record.transfer_syntax_uid == "1.2.840.10008.1.2.4.90"  # JPEG 2000 lossless
    stored = service.decode(record)
    expected = load_pixels(record)
    assert stored.dtype == expected.dtype
    np.testing.assert_array_equal(stored, expected)
    assert not stored.flags.writeable


@pytest.mark.skipif(not fast_path_available(), reason="imagecodecs not installed")
def test_fast_path_matches_pydicom(sample_records: tuple[ImageRecord, ...]) -> None:
    np.testing.assert_array_equal(
        decode_stored(sample_records[1], fast=True), load_pixels(sample_records[1])
    )


def test_errors_come_back_as_messages(service: DecodeService, tmp_path: Path) -> None:
    (record,) = scan([write_truncated(tmp_path / "cut.dcm")]).images
    with pytest.raises(PixelDataError) as caught:
        service.decode(record)
    assert caught.value.path == record.path
    assert caught.value.message.startswith("the pixel data is truncated")
    record.path.unlink()
    with pytest.raises(PixelDataError, match="cannot read the file"):
        service.decode(record)


def test_study_through_the_cache(tmp_path: Path, sample_records: tuple[ImageRecord, ...]) -> None:
    cache = PixelCache(tmp_path / "cache")
    service = DecodeService(cache, max_workers=2, fast=False)
    try:
        records = sample_records[:3]
        futures = service.open_study(records, first=2)
        assert len(futures) == 3
        for record, future in zip(records, futures, strict=True):
            stored = future.result(timeout=60)
            assert isinstance(stored, np.memmap)  # mapped from the worker's .npy
            np.testing.assert_array_equal(stored, load_pixels(record))
        # Reopening: cache hits, resolved at once, without the pool.
        again = DecodeService(cache)
        hit = again.submit(records[0])
        assert hit.done()
        np.testing.assert_array_equal(hit.result(), load_pixels(records[0]))
        assert again._executor is None
    finally:
        service.shutdown()


@pytest.fixture(scope="module", params=["emri_small.dcm", "emri_small_jpeg_2k_lossless.dcm"])
def multi_frame(request: pytest.FixtureRequest) -> ImageRecord:
    (record,) = scan([pydicom_test_file(request.param)]).images
    assert record.frame_count == 10
    return record


def test_each_frame_of_a_multi_frame_image(
    service: DecodeService, multi_frame: ImageRecord
) -> None:
    expected = dcmread(multi_frame.path).pixel_array
    frames = [service.submit(multi_frame, k) for k in range(multi_frame.frame_count)]
    for k, future in enumerate(frames):
        stored = future.result(timeout=60)
        np.testing.assert_array_equal(stored, expected[k])
        np.testing.assert_array_equal(stored, load_pixels(multi_frame, k))
    assert not np.array_equal(frames[0].result(), frames[5].result())
    np.testing.assert_array_equal(service.decode(multi_frame), expected[0])  # frame 0 default
    np.testing.assert_array_equal(decode_stored(multi_frame, frame=9), expected[9])


def test_a_frame_that_does_not_exist_fails_at_once(multi_frame: ImageRecord) -> None:
    service = DecodeService(max_workers=1)
    try:
        for frame in (10, -1):
            future = service.submit(multi_frame, frame)
            assert future.done()
            with pytest.raises(PixelDataError) as caught:
                future.result()
            assert caught.value.path == multi_frame.path
            assert caught.value.message == (
                f"frame {frame} does not exist; the image has 10 frame(s)"
            )
            assert str(multi_frame.path) in str(caught.value)
        assert service._executor is None  # no worker was needed
    finally:
        service.shutdown()


def test_the_pixel_cache_keeps_each_frame(tmp_path: Path, multi_frame: ImageRecord) -> None:
    cache = PixelCache(tmp_path / "cache")
    service = DecodeService(cache, max_workers=1, fast=False)
    try:
        first = service.decode(multi_frame, 0)
        fourth = service.decode(multi_frame, 3)
    finally:
        service.shutdown()
    assert not np.array_equal(first, fourth)
    # Frame 0 keeps the single-frame key; frame 3 has its own entry.
    assert cache.entry_path(multi_frame).exists()
    frame_3 = cache_key_record(multi_frame, 3)
    assert frame_3.sop_instance_uid == multi_frame.sop_instance_uid + "#frame=3"
    assert cache.entry_path(frame_3).exists()
    assert cache_key_record(multi_frame, 0) is multi_frame
    again = DecodeService(cache)
    hits = [again.submit(multi_frame, k) for k in (0, 3)]
    assert all(hit.done() for hit in hits)
    np.testing.assert_array_equal(hits[0].result(), first)
    np.testing.assert_array_equal(hits[1].result(), fourth)
    assert again._executor is None
