"""Pixel statistics around a point given in SCOORD image coordinates (column, row)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def annulus(
    arr: NDArray[np.float64], col: float, row: float, r0: float, r1: float
) -> NDArray[np.float64]:
    """Return the pixels whose centres lie between radii ``r0`` and ``r1`` of (col, row)."""
    rr, cc = np.ogrid[: arr.shape[0], : arr.shape[1]]
    d2 = (rr + 0.5 - row) ** 2 + (cc + 0.5 - col) ** 2
    return arr[(d2 >= r0**2) & (d2 <= r1**2)]


def disk_mean(arr: NDArray[np.float64], col: float, row: float, radius: float) -> float:
    """Return the mean of the pixels whose centres lie within ``radius`` of (col, row)."""
    return float(annulus(arr, col, row, 0.0, radius).mean())
