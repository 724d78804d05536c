"""Loupe patches: the displayed values at full resolution, mirrored like the view, padded black."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from galactoview.dicom.mammography import Flip
from galactoview.imaging.display import DisplayPipeline, Window
from galactoview.imaging.loupe import loupe_patch

PIPELINE = DisplayPipeline(bits_stored=12, pixel_representation=0)
INVERTED = DisplayPipeline(bits_stored=12, pixel_representation=0, invert=True)
WINDOW = Window(1500.0, 2000.0)


def ramp() -> NDArray[np.uint16]:
    """Return 60 x 80 12-bit values, each pixel its own value."""
    rows, columns = np.indices((60, 80))
    values = (rows * 80 + columns) % 4096
    stored = values.astype(np.uint16)
    stored.setflags(write=False)
    return stored


def test_patch_equals_the_pipeline_render_of_the_same_region() -> None:
    stored = ramp()
    patch = loupe_patch(stored, PIPELINE, WINDOW, (30.7, 20.2), 5, Flip())
    expected = PIPELINE.render(stored[15:26, 25:36], WINDOW)
    assert patch.shape == (11, 11)
    assert patch.dtype == np.uint8
    np.testing.assert_array_equal(patch, expected)
    assert patch.flags.c_contiguous


def test_inverted_pipeline_and_precomputed_lut_give_the_render() -> None:
    stored = ramp()
    lut = INVERTED.lut(WINDOW)
    patch = loupe_patch(stored, INVERTED, WINDOW, (40.0, 30.0), 3, None, lut=lut)
    np.testing.assert_array_equal(patch, INVERTED.render(stored[27:34, 37:44], WINDOW))


def test_horizontal_and_vertical_flips_mirror_the_patch() -> None:
    stored = ramp()
    plain = loupe_patch(stored, PIPELINE, WINDOW, (30.5, 20.5), 4, Flip())
    horizontal = loupe_patch(stored, PIPELINE, WINDOW, (30.5, 20.5), 4, Flip(horizontal=True))
    vertical = loupe_patch(stored, PIPELINE, WINDOW, (30.5, 20.5), 4, Flip(vertical=True))
    both = loupe_patch(stored, PIPELINE, WINDOW, (30.5, 20.5), 4, Flip(True, True))
    assert not np.array_equal(plain, horizontal)
    np.testing.assert_array_equal(horizontal, plain[:, ::-1])
    np.testing.assert_array_equal(vertical, plain[::-1, :])
    np.testing.assert_array_equal(both, plain[::-1, ::-1])
    assert horizontal.flags.c_contiguous and both.flags.c_contiguous
    assert horizontal[4, 4] == plain[4, 4]  # the centre pixel stays in the middle


def test_outside_the_image_is_black_even_when_black_is_not_stored_zero() -> None:
    stored = ramp()
    # Inverted: stored 0 would be white, padding must still be display 0 (black).
    patch = loupe_patch(stored, INVERTED, WINDOW, (1.5, 58.5), 4, Flip())
    rendered = INVERTED.render(stored, WINDOW)
    # Top-left corner of the patch is column -3, row 54: columns < 0 and rows >= 60 padded.
    assert (patch[:, :3] == 0).all()
    assert (patch[6:, :] == 0).all()
    np.testing.assert_array_equal(patch[:6, 3:], rendered[54:60, 0:6])
    assert (patch[:6, 3:] > 0).any()


def test_a_centre_far_outside_gives_an_all_black_patch() -> None:
    patch = loupe_patch(ramp(), PIPELINE, WINDOW, (-100.0, -100.0), 2, Flip())
    assert patch.shape == (5, 5)
    assert not patch.any()


def test_stored_is_never_modified_and_the_patch_is_a_copy() -> None:
    stored = ramp().copy()
    before = stored.copy()
    patch = loupe_patch(stored, PIPELINE, None, (10.0, 10.0), 3, Flip(horizontal=True))
    patch[:] = 7
    np.testing.assert_array_equal(stored, before)


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="half_size"):
        loupe_patch(ramp(), PIPELINE, WINDOW, (1.0, 1.0), -1, Flip())
    with pytest.raises(ValueError, match="finite"):
        loupe_patch(ramp(), PIPELINE, WINDOW, (float("nan"), 1.0), 1, Flip())
