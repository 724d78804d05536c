"""Tests: the reduced-resolution first picture of a JPEG 2000 image (its own resolution levels)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from pydicom.uid import JPEG2000Lossless

from galactoview.dicom.loading import ImageRecord, PixelDataError, scan
from galactoview.imaging.decode_service import DecodeService, decode_stored
from galactoview.imaging.pixel_cache import PixelCache
from galactoview.imaging.reduced_decode import (
    PREVIEW_MIN_SIDE,
    decode_reduced,
    read_codestream_size,
    wants_preview,
)
from tests.helpers import make_mg_dataset, make_pixels, write_dataset

MIN_SIDE = 64  # small test images: a 256 x 192 image is reduced twice


def _block_means(full: NDArray[np.generic], reduction: int) -> NDArray[np.float64]:
    """Return the means of the ``2**reduction`` blocks (edge blocks padded with the edge)."""
    factor = 2**reduction
    rows, columns = full.shape
    height, width = -(-rows // factor), -(-columns // factor)
    pad = ((0, height * factor - rows), (0, width * factor - columns))
    padded = np.pad(full.astype(np.float64), pad, "edge")
    means: NDArray[np.float64] = padded.reshape(height, factor, width, factor).mean(axis=(1, 3))
    return means


def _write_j2k(
    path: Path,
    pixels: NDArray[np.generic],
    *,
    bits_stored: int = 12,
    signed: bool = False,
    photometric: str = "MONOCHROME2",
) -> ImageRecord:
    dataset = make_mg_dataset(pixels=pixels.astype(np.uint16), photometric=photometric)
    dataset.BitsStored, dataset.HighBit = bits_stored, bits_stored - 1
    if signed:
        dataset.PixelRepresentation = 1
        dataset.PixelData = pixels.astype("<i2").tobytes()
    try:
        dataset.compress(JPEG2000Lossless, encoding_plugin="pylibjpeg")
    except (RuntimeError, NotImplementedError) as error:  # no JPEG 2000 encoder installed
        pytest.skip(f"cannot encode JPEG 2000 here: {error}")
    (record,) = scan([write_dataset(dataset, path)]).images
    return record


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("reduced")


def _check_close(record: ImageRecord, expected_dtype: str) -> None:
    reduced = decode_reduced(record, MIN_SIDE)
    assert reduced is not None
    full = np.asarray(decode_stored(record))
    n = reduced.reduction
    assert n == 1 + (max(record.rows, record.columns) >= 4 * MIN_SIDE)
    assert reduced.stored.shape == (-(-record.rows // 2**n), -(-record.columns // 2**n))
    assert reduced.stored.dtype == np.dtype(expected_dtype) == full.dtype
    assert not reduced.stored.flags.writeable
    difference = np.abs(reduced.stored.astype(np.float64) - _block_means(full, n))
    # The 5/3 wavelet's low-pass is not a box filter, but close to one: within about
    # 1 % of the value range on average (a mean difference of 0 would need a box filter).
    span = float(full.max()) - float(full.min())
    assert difference.mean() < 0.01 * span
    assert np.percentile(difference, 99) < 0.05 * span


@pytest.mark.parametrize(("shape", "bits"), [((256, 192), 12), ((250, 197), 16), ((160, 130), 12)])
def test_unsigned_reduced_is_the_block_means_shape_and_close(
    folder: Path, shape: tuple[int, int], bits: int
) -> None:
    pixels = make_pixels(*shape, seed=3, bits_stored=bits)
    record = _write_j2k(folder / f"u{bits}_{shape[0]}.dcm", pixels, bits_stored=bits)
    _check_close(record, "uint16")


def test_signed_values_come_back_signed_and_close(folder: Path) -> None:
    pixels = make_pixels(256, 192, seed=4).astype(np.int32) - 2048  # -2048 .. 2047
    record = _write_j2k(folder / "signed.dcm", pixels, signed=True)
    assert int(np.asarray(decode_stored(record)).min()) < 0
    _check_close(record, "int16")


def test_monochrome1_is_reduced_too(folder: Path) -> None:
    record = _write_j2k(folder / "m1.dcm", make_pixels(256, 192, seed=5), photometric="MONOCHROME1")
    _check_close(record, "uint16")


def test_the_codestream_size_is_read_from_siz_and_cod(folder: Path) -> None:
    from pydicom import dcmread
    from pydicom.encaps import generate_frames

    record = _write_j2k(folder / "siz.dcm", make_pixels(250, 197, seed=6))
    codestream = next(generate_frames(dcmread(record.path).PixelData, number_of_frames=1))
    size = read_codestream_size(codestream)
    assert size is not None
    assert (size.rows, size.columns, size.components) == (250, 197, 1)
    assert (size.precision, size.signed) == (12, False)
    assert size.levels >= 1
    assert read_codestream_size(codestream[:20]) is None  # cut in SIZ
    assert read_codestream_size(b"\x00" * 64) is None  # no SOC


def test_what_is_not_worth_or_not_j2k_falls_back(sample_records: tuple[ImageRecord, ...]) -> None:
    (first, *_) = sample_records
    assert (first.rows, first.columns) == (2294, 1914)
    assert wants_preview(first)  # JPEG 2000, at least twice PREVIEW_MIN_SIDE
    small = replace(first, rows=2 * PREVIEW_MIN_SIDE - 1, columns=1000)
    assert not wants_preview(small)
    native = replace(first, transfer_syntax_uid="1.2.840.10008.1.2.1")
    assert not wants_preview(native, 512)
    assert decode_reduced(native, 512) is None
    assert decode_reduced(replace(first, number_of_frames=2), 512) is None


def test_native_pixel_data_gives_no_preview(folder: Path) -> None:
    path = write_dataset(make_mg_dataset(rows=256, columns=192), folder / "native.dcm")
    (record,) = scan([path]).images
    assert not wants_preview(record, MIN_SIDE)
    assert decode_reduced(record, MIN_SIDE) is None


def test_corrupt_codestream_gives_none_and_the_full_decode_words_it(folder: Path) -> None:
    from pydicom import dcmread
    from pydicom.encaps import encapsulate, generate_frames

    record = _write_j2k(folder / "good.dcm", make_pixels(256, 192, seed=8))
    dataset = dcmread(record.path)
    codestream = next(generate_frames(dataset.PixelData, number_of_frames=1))
    dataset.PixelData = encapsulate([codestream[:400]])  # main header kept, tile data cut
    bad = folder / "damaged.dcm"
    dataset.save_as(bad, enforce_file_format=True)
    (broken,) = scan([bad]).images
    assert decode_reduced(broken, MIN_SIDE) is None
    with pytest.raises(PixelDataError) as caught:
        decode_stored(broken)
    line = str(caught.value)
    assert line.startswith(f"{bad}: ") and "\n" not in line


@pytest.fixture(scope="module")
def service() -> Iterator[DecodeService]:
    service = DecodeService(max_workers=1)
    yield service
    service.shutdown()


def test_the_service_decodes_it_in_a_worker(
    service: DecodeService, sample_records: tuple[ImageRecord, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    (first, *_) = sample_records
    reduced = service.submit_reduced(first).result()
    assert reduced is not None
    assert (reduced.reduction, reduced.stored.shape) == (1, (1147, 957))  # 2294 x 1914
    small = replace(first, rows=1000, columns=800)
    assert service.submit_reduced(small).result() is None  # nothing to gain, no worker
    monkeypatch.setattr("galactoview.imaging.decode_service.wants_preview", lambda r: True)
    native = replace(first, transfer_syntax_uid="1.2.840.10008.1.2.1")
    assert service.submit_reduced(native).result() is None  # the worker refuses it


def test_the_service_gives_none_when_the_full_image_is_cached(
    tmp_path: Path, sample_records: tuple[ImageRecord, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    (first, *_) = sample_records
    monkeypatch.setattr("galactoview.imaging.decode_service.wants_preview", lambda r: True)
    cache = PixelCache(tmp_path / "cache")
    cache.put(first, np.zeros((first.rows, first.columns), np.uint16))
    service = DecodeService(cache, max_workers=1)
    try:
        assert service.submit_reduced(first).result() is None
    finally:
        service.shutdown()
