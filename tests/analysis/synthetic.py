"""Hand-made galactogram-like images for the analysis tests: bright tubes in a breast."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from galactoview.imaging.display import DisplayPipeline, Window

#: Stored pixel size of the synthetic images (mm).
SPACING_MM = 0.1
PIPELINE = DisplayPipeline(12, 0, windows=(Window(2048.0, 4096.0),))

Point = tuple[float, float]


def breast_with_tubes(
    tubes: Sequence[tuple[Point, Point, float]],
    *,
    shape: tuple[int, int] = (1200, 1000),
    holes: Sequence[tuple[Point, float]] = (),
    filled_in: float = 0.0,
    seed: int = 0,
) -> NDArray[np.uint16]:
    """Return a 12-bit image: a breast (an ellipse) with contrast-filled tubes.

    Parameters
    ----------
    tubes
        ``(start, end, radius_mm)`` per straight tube, SCOORD pixels.
    shape
        Rows, columns.
    holes
        ``(centre, radius_mm)`` balls of no contrast inside the tubes (filling defects).
    filled_in
        The fraction of each hole's lucency that contrast in front of and behind it fills
        in (a papilloma in a duct running obliquely to the beam); 0 shows it whole.
    seed
        Noise seed.
    """
    rows, columns = shape
    yy, xx = np.mgrid[0:rows, 0:columns] + 0.5
    breast = ((xx / (0.95 * columns)) ** 2 + ((yy - rows / 2) / (0.48 * rows)) ** 2) < 1.0
    chord = np.zeros(shape)
    for start, end, radius_mm in tubes:
        a, b = np.asarray(start), np.asarray(end)
        d = b - a
        t = np.clip(((xx - a[0]) * d[0] + (yy - a[1]) * d[1]) / float(d @ d), 0.0, 1.0)
        distance = np.hypot(xx - (a[0] + t * d[0]), yy - (a[1] + t * d[1])) * SPACING_MM
        chord = np.maximum(chord, 2.0 * np.sqrt(np.clip(radius_mm**2 - distance**2, 0.0, None)))
    for centre, radius_mm in holes:
        distance = np.hypot(xx - centre[0], yy - centre[1]) * SPACING_MM
        chord -= (1.0 - filled_in) * 2.0 * np.sqrt(np.clip(radius_mm**2 - distance**2, 0.0, None))
    rng = np.random.default_rng(seed)
    texture = ndimage.gaussian_filter(rng.standard_normal(shape), 15.0)
    texture *= 40.0 / texture.std()
    values = 1200.0 + texture + 200.0 * np.clip(chord, 0.0, None) + rng.normal(0, 8, shape)
    values = ndimage.gaussian_filter(values, 0.7)
    return np.where(breast, np.clip(values, 0, 4095), 40).astype(np.uint16)
