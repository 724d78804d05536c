"""Tests for galactoview.imaging.pyramid: level shapes, 2 x 2 means, level choice."""

from __future__ import annotations

import numpy as np
import pytest

from galactoview.imaging.pyramid import Pyramid, level_for_scale, reduce_mean


def test_reduce_mean_rounds_half_up_and_keeps_dtype() -> None:
    image = np.array([[0, 1, 4, 4, 9], [1, 1, 4, 5, 9], [7, 7, 7, 7, 9]], dtype=np.uint16)
    reduced = reduce_mean(image)
    assert reduced.dtype == np.uint16
    # (0+1+1+1)/4 = 0.75 -> 1; (4+4+4+5)/4 = 4.25 -> 4; odd row and column dropped
    np.testing.assert_array_equal(reduced, [[1, 4]])
    assert reduce_mean(np.full((2, 2), 4095, np.uint16))[0, 0] == 4095  # no overflow
    signed = np.array([[-3, -2], [-2, -2]], dtype=np.int16)  # -2.25 -> -2
    assert reduce_mean(signed)[0, 0] == -2
    floats = reduce_mean(np.array([[0.0, 1.0], [2.0, 3.0]], np.float32))
    assert floats.dtype == np.float32 and floats[0, 0] == pytest.approx(1.5)
    with pytest.raises(ValueError):
        reduce_mean(np.zeros((1, 4), np.uint16))


def test_levels_halve_down_to_the_minimum_side() -> None:
    rng = np.random.default_rng(3)
    stored = rng.integers(0, 4096, size=(1030, 840), dtype=np.uint16)
    pyramid = Pyramid(stored, min_side=100)
    assert pyramid.levels[0] is stored
    assert [level.shape for level in pyramid.levels] == [
        (1030, 840),
        (515, 420),
        (257, 210),
        (128, 105),
    ]
    assert len(pyramid) == 4 and pyramid.shape == (1030, 840)
    level1 = pyramid.levels[1]
    expected = (stored[0:2, 0:2].astype(np.int64).sum() + 2) // 4
    assert level1[0, 0] == expected
    assert not level1.flags.writeable
    # A constant image stays constant at every level; values stay in the stored range.
    for level in Pyramid(np.full((64, 64), 1234, np.uint16), min_side=4).levels:
        assert np.all(level == 1234)
    assert all(level.max() <= stored.max() for level in pyramid.levels)


def test_level_choice_is_nearest_in_log2() -> None:
    assert level_for_scale(1.0, 5) == 0
    assert level_for_scale(4.0, 5) == 0  # zoomed in: full resolution
    assert level_for_scale(0.5, 5) == 1
    assert level_for_scale(0.26, 5) == 2  # 4096 rows fitted to 1080
    assert level_for_scale(0.36, 5) == 1
    assert level_for_scale(0.001, 5) == 4  # clamped to the coarsest
    assert level_for_scale(float("nan"), 5) == 0
    with pytest.raises(ValueError):
        level_for_scale(1.0, 0)

    pyramid = Pyramid(np.zeros((4096, 3328), np.uint16))
    scale = Pyramid.fit_scale(pyramid.shape, (1920, 1080))
    assert scale == pytest.approx(1080 / 4096)
    assert pyramid.index_for(scale) == 2
    assert pyramid.level_for(scale).shape == (1024, 832)
