"""Tests for galactoview.imaging.overlays (overlay planes 60xx, PS3.3 C.9.2 / C.9.3)."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset

from galactoview.imaging.export import render_image
from galactoview.imaging.overlays import (
    OverlayPlane,
    OverlayType,
    burn_in,
    overlay_rgba,
    read_overlay_planes,
)
from tests.helpers import make_mg_dataset
from tests.overlay_data import (
    add_overlay,
    multi_frame_with_overlay,
    random_bits,
    single_frame_with_overlays,
)


def test_reads_every_group_with_origin_type_and_bits() -> None:
    ds = single_frame_with_overlays()
    overlays = read_overlay_planes(ds)
    assert overlays.problems == ()
    assert [p.group for p in overlays.planes] == [0x6000, 0x6002, 0x6004]
    first, second, roi = overlays.planes
    assert first.origin == (5, 7) and second.origin == (-2, 26)
    assert roi.overlay_type is OverlayType.R and first.overlay_type is OverlayType.G
    assert first.bits.shape == (1, 10, 12) and first.all_frames
    np.testing.assert_array_equal(first.bits[0], random_bits((10, 12), 1).astype(bool))


def test_placed_clips_a_negative_origin_and_the_right_edge() -> None:
    plane = read_overlay_planes(single_frame_with_overlays()).planes[1]
    placed = plane.placed(1, (40, 30))
    assert placed is not None
    bits, (rows, columns) = placed
    # 8 x 9 at row -2 (0-based -3), column 26 (0-based 25): rows 0..4, columns 25..29
    assert (rows, columns) == (slice(0, 5), slice(25, 30))
    np.testing.assert_array_equal(bits, random_bits((8, 9), 2)[3:8, 0:5].astype(bool))
    assert plane.placed(1, (2, 20)) is None  # entirely right of a narrow image


def test_burn_in_replaces_graphics_with_255_and_darkens_outside_an_roi() -> None:
    ds = single_frame_with_overlays()
    display = np.full((40, 30), 100, np.uint8)
    out = burn_in(display, read_overlay_planes(ds))
    assert display.max() == 100  # not modified
    expected = display.copy()
    expected[4:14, 6:18][random_bits((10, 12), 1).astype(bool)] = 255
    expected[0:5, 25:30][random_bits((8, 9), 2)[3:8, 0:5].astype(bool)] = 255
    expected[29:35, 2:8] = 100 // 16
    expected[31:33, 4:6] = 100  # the ROI's region is kept
    np.testing.assert_array_equal(out, expected)


def test_burn_in_rgb_treats_every_channel_alike() -> None:
    ds = make_mg_dataset(rows=8, columns=8)
    add_overlay(ds, 0x6000, np.eye(3, dtype=np.uint8), (2, 2))
    display = np.full((8, 8, 3), 7, np.uint8)
    out = burn_in(display, read_overlay_planes(ds))
    assert out[1, 1].tolist() == [255, 255, 255] and out[1, 2].tolist() == [7, 7, 7]
    assert int((out == 255).all(axis=2).sum()) == 3


def test_multi_frame_overlay_applies_from_image_frame_origin() -> None:
    plane = read_overlay_planes(multi_frame_with_overlay()).planes[0]
    assert not plane.all_frames and plane.image_frame_origin == 2
    assert plane.frame_bits(1) is None and plane.frame_bits(4) is None
    frames = random_bits((2, 5, 6), 3).astype(bool)
    np.testing.assert_array_equal(plane.frame_bits(2), frames[0])
    np.testing.assert_array_equal(plane.frame_bits(3), frames[1])


def test_overlay_without_number_of_frames_applies_to_every_frame() -> None:
    ds = multi_frame_with_overlay()
    del ds[0x6000, 0x3000]
    for element in list(ds.group_dataset(0x6000).keys()):
        del ds[element]
    add_overlay(ds, 0x6002, np.ones((2, 2), np.uint8), (1, 1))
    for frame in (1, 2, 3, 4):
        pixels = render_image(ds, frame=frame)
        assert (pixels[0:2, 0:2] == 255).all(), frame


def test_render_draws_overlays_unless_asked_not_to() -> None:
    ds = single_frame_with_overlays()
    plain = render_image(ds, overlays=False)
    drawn = render_image(ds)
    np.testing.assert_array_equal(drawn, burn_in(plain, read_overlay_planes(ds)))
    assert int((drawn != plain).sum()) > 50


def test_embedded_overlay_is_reported_not_drawn() -> None:
    """Bits in the Pixel Data's high bits (retired, PS3.5 8.1.2): no Overlay Data."""
    ds = make_mg_dataset(rows=8, columns=8)
    add_overlay(ds, 0x6000, np.ones((8, 8), np.uint8), (1, 1))
    del ds[0x6000, 0x3000]
    ds[0x6000, 0x0102].value = 15
    overlays = read_overlay_planes(ds)
    assert overlays.planes == () and not overlays
    assert overlays.problems == (
        "overlay 6000: no Overlay Data: bits embedded in the Pixel Data (retired,"
        " PS3.5 8.1.2) are not drawn",
    )
    np.testing.assert_array_equal(render_image(ds), render_image(ds, overlays=False))


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda ds: ds.__delitem__((0x6000, 0x0050)), "no Overlay Origin (6000,0050)"),
        (lambda ds: ds[0x6000, 0x0050].__setattr__("value", [3]), "Overlay Origin has 1 value"),
        (
            lambda ds: ds[0x6000, 0x3000].__setattr__("value", b"\x01"),
            "The length of the overlay data",
        ),
        (lambda ds: ds[0x6000, 0x0100].__setattr__("value", 16), "Overlay Bits Allocated 16"),
        (lambda ds: ds[0x6000, 0x0010].__setattr__("value", 0), "Overlay Rows/Columns 0x4"),
    ],
)
def test_bad_group_is_one_problem_and_others_still_drawn(change: object, problem: str) -> None:
    ds = make_mg_dataset(rows=8, columns=8)
    add_overlay(ds, 0x6000, np.ones((4, 4), np.uint8), (1, 1))
    add_overlay(ds, 0x6010, np.ones((2, 2), np.uint8), (7, 7))
    assert callable(change)
    change(ds)
    overlays = read_overlay_planes(ds)
    assert [p.group for p in overlays.planes] == [0x6010]
    assert len(overlays.problems) == 1
    assert overlays.problems[0].startswith(f"overlay 6000: {problem}"), overlays.problems


def test_overlay_rgba_colours_graphics_and_shades_outside_an_roi() -> None:
    overlays = read_overlay_planes(single_frame_with_overlays())
    result = overlay_rgba(overlays, 1, (40, 30), colour=(0, 255, 0))
    assert result is not None
    cropped, (top, left) = result
    assert (top, left) == (0, 2) and cropped.shape == (35, 28, 4)  # rows 0..34, columns 2..29
    layer = np.zeros((40, 30, 4), np.uint8)
    layer[0:35, 2:30] = cropped
    graphics = np.zeros((40, 30), bool)
    graphics[4:14, 6:18] |= random_bits((10, 12), 1).astype(bool)
    graphics[0:5, 25:30] |= random_bits((8, 9), 2)[3:8, 0:5].astype(bool)
    np.testing.assert_array_equal(layer[..., 1] == 255, graphics)
    assert layer[29, 2].tolist() == [0, 0, 0, 240] and layer[31, 4, 3] == 0
    assert layer[20, 20, 3] == 0  # transparent elsewhere


def test_no_overlay_means_nothing_to_draw() -> None:
    ds: Dataset = make_mg_dataset(rows=8, columns=8)
    overlays = read_overlay_planes(ds)
    assert not overlays and overlays.problems == ()
    assert overlay_rgba(overlays, 1, (8, 8)) is None
    display = np.zeros((8, 8), np.uint8)
    assert burn_in(display, overlays) is display
    plane = OverlayPlane(0x6000, OverlayType.G, (100, 100), np.ones((1, 2, 2), bool))
    assert overlay_rgba((plane,), 1, (8, 8)) is None  # off the image
