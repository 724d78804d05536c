"""Tests for galactoview.dicom.decode_service: process decoding, cache transport, errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from galactoview.dicom.decode_service import DecodeService, decode_stored, fast_path_available
from galactoview.dicom.loading import ImageRecord, PixelDataError, load_pixels, scan
from galactoview.dicom.pixel_cache import PixelCache
from galactoview.paths import sample_dicom_dir
from tests.helpers import write_truncated


@pytest.fixture(scope="module")
def samples() -> tuple[ImageRecord, ...]:
    images = scan([sample_dicom_dir()]).images
    if not images:
        pytest.skip("no sample study")
    return images


@pytest.fixture(scope="module")
def service() -> Iterator[DecodeService]:
    service = DecodeService(max_workers=2)
    yield service
    service.shutdown()


def test_same_values_as_load_pixels(
    service: DecodeService, samples: tuple[ImageRecord, ...]
) -> None:
    record = samples[0]
    assert record.transfer_syntax_uid == "1.2.840.10008.1.2.4.90"  # JPEG 2000 lossless
    stored = service.decode(record)
    expected = load_pixels(record)
    assert stored.dtype == expected.dtype
    np.testing.assert_array_equal(stored, expected)
    assert not stored.flags.writeable


@pytest.mark.skipif(not fast_path_available(), reason="imagecodecs not installed")
def test_fast_path_matches_pydicom(samples: tuple[ImageRecord, ...]) -> None:
    np.testing.assert_array_equal(decode_stored(samples[1], fast=True), load_pixels(samples[1]))


def test_errors_come_back_as_messages(service: DecodeService, tmp_path: Path) -> None:
    (record,) = scan([write_truncated(tmp_path / "cut.dcm")]).images
    with pytest.raises(PixelDataError) as caught:
        service.decode(record)
    assert caught.value.path == record.path
    assert caught.value.message.startswith("the pixel data is truncated")
    record.path.unlink()
    with pytest.raises(PixelDataError, match="cannot read the file"):
        service.decode(record)


def test_study_through_the_cache(tmp_path: Path, samples: tuple[ImageRecord, ...]) -> None:
    cache = PixelCache(tmp_path / "cache")
    service = DecodeService(cache, max_workers=2, fast=False)
    try:
        records = samples[:3]
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
