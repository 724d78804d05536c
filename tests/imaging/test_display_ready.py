"""display_ready: a frame's extremes and pyramid, as the viewport would compute them."""

from __future__ import annotations

import numpy as np

from galactoview.imaging.display import DisplayPipeline
from galactoview.imaging.display_ready import display_ready


def test_unsigned_values_in_range_are_their_own_lut_indices() -> None:
    stored = np.arange(600 * 520, dtype=np.uint16).reshape(600, 520) % 4096
    ready = display_ready(stored, DisplayPipeline(12, 0))
    assert (int(ready.low), int(ready.high)) == (0, 4095)
    assert ready.pyramid.levels[0] is stored  # shared, not copied
    assert len(ready.pyramid) == 2  # 600 x 520, then 300 x 260 (the next would be < 256)
    assert ready.extra_bytes(stored) == ready.pyramid.levels[1].nbytes == 300 * 260 * 2


def test_signed_values_are_shifted_to_lut_indices() -> None:
    stored = np.array([[-2048, -1], [0, 2047]], dtype=np.int16)
    pipeline = DisplayPipeline(12, 1)
    ready = display_ready(stored, pipeline)
    assert (int(ready.low), int(ready.high)) == (-2048, 2047)
    np.testing.assert_array_equal(ready.pyramid.levels[0], pipeline.lut_indices(stored))
    assert ready.extra_bytes(stored) == ready.pyramid.levels[0].nbytes  # a copy: counted
