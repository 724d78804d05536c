"""Colour images (RGB, YBR, palette) as the viewer decodes and reduces them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels.processing import apply_color_lut, convert_color_space
from pydicom.pixels.utils import pixel_array

from galactoview.dicom.loading import ImageRecord, PixelDataError, scan
from galactoview.dicom.mammography import Flip
from galactoview.imaging.colour import (
    colour_bits,
    colour_pipeline,
    invert_rgb8,
    is_colour,
    rgb8,
)
from galactoview.imaging.decode_service import decode_stored
from galactoview.imaging.display_ready import display_ready
from galactoview.imaging.loupe import loupe_patch
from galactoview.imaging.pixel_cache import PixelCache
from galactoview.imaging.pyramid import Pyramid, reduce_mean
from galactoview.imaging.thumbnails import render_thumbnail
from tests.colour_images import (
    BLOCK,
    BLOCK_COLOURS,
    blocks,
    palette_dataset,
    rgb_dataset,
    ybr_full_422_jpeg_dataset,
    ybr_full_dataset,
)
from tests.helpers import write_dataset


def _record(path: Path) -> ImageRecord:
    result = scan([path])
    assert result.problems == ()
    return result.images[0]


def _block_centre(row: int, column: int, repeat: int = 1) -> tuple[int, int]:
    side = BLOCK * repeat
    return row * side + side // 2, column * side + side // 2


@pytest.mark.parametrize("planar", [0, 1])
def test_rgb_decodes_to_its_samples_whatever_the_planar_configuration(
    tmp_path: Path, planar: int
) -> None:
    rgb = blocks()
    record = _record(write_dataset(rgb_dataset(rgb, planar=planar), tmp_path / "rgb.dcm"))
    stored = decode_stored(record, colour=True)
    np.testing.assert_array_equal(stored, rgb)
    assert stored[_block_centre(1, 1)].tolist() == [128, 64, 32]


def test_colour_is_still_refused_where_grayscale_is_wanted(tmp_path: Path) -> None:
    record = _record(write_dataset(rgb_dataset(blocks()), tmp_path / "rgb.dcm"))
    with pytest.raises(PixelDataError, match="RGB is not supported"):
        decode_stored(record)  # e.g. the chest-wall suggestion of `report`


def test_ybr_full_is_converted_as_pydicom_converts(tmp_path: Path) -> None:
    rgb = blocks()
    ds, ybr = ybr_full_dataset(rgb)
    record = _record(write_dataset(ds, tmp_path / "ybr.dcm"))
    stored = decode_stored(record, colour=True)
    np.testing.assert_array_equal(stored, convert_color_space(ybr, "YBR_FULL", "RGB"))
    assert np.abs(stored.astype(int) - rgb).max() <= 1  # the round trip of PS3.3 C.7.6.3.1.2
    assert stored[_block_centre(0, 0)].tolist() == [254, 0, 0]  # red, after 8-bit rounding


def test_ybr_full_422_jpeg_is_converted_as_pydicom_converts(tmp_path: Path) -> None:
    rgb = blocks()
    path = write_dataset(ybr_full_422_jpeg_dataset(rgb), tmp_path / "jpeg.dcm")
    record = _record(path)
    assert record.photometric_interpretation == "YBR_FULL_422"
    stored = decode_stored(record, colour=True)
    ycbcr = pixel_array(str(path), as_rgb=False)  # the stored YCbCr, decoded
    np.testing.assert_array_equal(stored, convert_color_space(ycbcr, "YBR_FULL", "RGB"))
    for row, colours in enumerate(BLOCK_COLOURS):
        for column, colour in enumerate(colours):
            found = stored[_block_centre(row, column)].astype(int)
            assert np.abs(found - colour).max() <= 6, (row, column, found)  # lossy JPEG


def test_palette_colour_goes_through_its_palettes(tmp_path: Path) -> None:
    indices = np.arange(256, dtype=np.uint8).reshape(16, 16)
    path = write_dataset(palette_dataset(indices), tmp_path / "palette.dcm")
    stored = decode_stored(_record(path), colour=True)
    np.testing.assert_array_equal(stored, apply_color_lut(indices, pydicom.dcmread(path)))
    assert stored[0, 5].tolist() == [5 * 257, 250 * 257, 128 * 257]
    header = pydicom.dcmread(path, stop_before_pixels=True)
    pipeline = colour_pipeline(header, stored)
    assert (pipeline.bits_stored, pipeline.windows, pipeline.problems) == (16, (), ())
    display = rgb8(stored, pipeline.bits_stored)
    assert display.dtype == np.uint8
    assert display[0, 5].tolist() == [5, 250, 128]


def test_colour_bits_and_8_bit_scaling() -> None:
    rgb = blocks()
    assert colour_bits("RGB", rgb, 8) == 8
    assert colour_bits("PALETTE COLOR", rgb.astype(np.uint16), 8) == 16
    assert np.shares_memory(rgb8(rgb, 8), rgb)  # 8-bit samples are not copied
    twelve = np.full((2, 2, 3), 4095, dtype=np.uint16)
    twelve[0, 0] = (0, 2048, 5000)  # above Bits Stored: clipped
    assert rgb8(twelve, 12)[0, 0].tolist() == [0, 128, 255]
    assert invert_rgb8(rgb)[_block_centre(1, 1)].tolist() == [127, 191, 223]
    with pytest.raises(ValueError, match="integer RGB"):
        rgb8(np.zeros((2, 2), dtype=np.uint8), 8)


def test_pyramid_reduces_each_channel() -> None:
    image = np.zeros((4, 4, 3), dtype=np.uint8)
    image[:2, :2] = [[(10, 20, 30), (11, 21, 31)], [(12, 22, 32), (14, 24, 34)]]
    reduced = reduce_mean(image)
    assert reduced.shape == (2, 2, 3)
    # (10 + 11 + 12 + 14 + 2) // 4 = 12, rounding half up on each channel
    assert reduced[0, 0].tolist() == [12, 22, 32]
    big = blocks(repeat=16)  # 512 x 768: one reduced level of at least 256 rows
    pyramid = Pyramid(big)
    assert len(pyramid) == 2 and pyramid.shape == (512, 768)
    assert pyramid.levels[1].shape == (256, 384, 3)
    assert pyramid.levels[1][_block_centre(1, 1, 8)].tolist() == [128, 64, 32]


def test_display_ready_of_a_colour_frame_holds_its_display_values() -> None:
    big = blocks(repeat=16)
    sixteen = big.astype(np.uint16) * 257
    header = pydicom.Dataset()
    header.PhotometricInterpretation = "RGB"
    header.BitsStored = 16
    ready = display_ready(sixteen, colour_pipeline(header, sixteen))
    assert (int(ready.low), int(ready.high)) == (0, 65535)
    np.testing.assert_array_equal(ready.pyramid.levels[0], big)
    assert ready.pyramid.levels[1].dtype == np.uint8


def test_loupe_patch_of_a_colour_image_is_rgb_and_follows_invert_and_flip() -> None:
    rgb = blocks()
    header = pydicom.Dataset()
    header.PhotometricInterpretation = "RGB"
    header.BitsStored = 8
    pipeline = colour_pipeline(header, rgb)
    centre = (float(BLOCK), float(BLOCK // 2))  # the red | green edge of the top row
    patch = loupe_patch(rgb, pipeline, None, centre, 1)
    assert patch.shape == (3, 3, 3)
    assert patch[1].tolist() == [[255, 0, 0], [0, 255, 0], [0, 255, 0]]
    flipped = loupe_patch(rgb, pipeline, None, centre, 1, Flip(horizontal=True))
    assert flipped[1].tolist() == [[0, 255, 0], [0, 255, 0], [255, 0, 0]]
    inverted = loupe_patch(rgb, pipeline.__class__(8, 0, invert=True), None, centre, 1)
    assert inverted[1, 0].tolist() == [0, 255, 255]
    outside = loupe_patch(rgb, pipeline, None, (-5.0, -5.0), 1)
    assert outside.max() == 0


def test_colour_thumbnail_is_rgb(tmp_path: Path) -> None:
    record = _record(write_dataset(rgb_dataset(blocks(4)), tmp_path / "rgb.dcm"))
    thumbnail = render_thumbnail(record, 48, hang=False)
    assert thumbnail.shape == (32, 48, 3)
    assert thumbnail[_block_centre(0, 2)].tolist() == [0, 0, 255]
    assert thumbnail[_block_centre(1, 0)].tolist() == [255, 255, 255]


def test_pixel_cache_keeps_rgb_frames(tmp_path: Path) -> None:
    record = _record(write_dataset(rgb_dataset(blocks()), tmp_path / "rgb.dcm"))
    cache = PixelCache(tmp_path / "cache")
    cache.put(record, blocks())
    cached = cache.get(record)
    assert cached is not None and is_colour(cached)
    np.testing.assert_array_equal(cached, blocks())


def test_colour_samples_above_16_bits_are_refused_with_a_reason() -> None:
    header = pydicom.Dataset()
    header.PhotometricInterpretation = "RGB"
    header.BitsStored = 32
    wide = np.zeros((2, 2, 3), dtype=np.uint32)
    with pytest.raises(ValueError, match="32-bit colour images are not supported"):
        colour_pipeline(header, wide)
