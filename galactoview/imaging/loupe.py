"""The pixels a magnifier loupe shows: full resolution, same LUT as the view (Qt-free).

A loupe shows the *stored* pixels round a point at full resolution, whatever
display-resolution level the view draws, through exactly the lookup table the view
uses (``pipeline.lut(voi)[pipeline.lut_indices(patch)]``, PS3.3 C.11), so the loupe
shows the displayed values and nothing else. The hanging flip is applied to a copy
of the patch, as the view mirrors the image; the stored values are never changed.
A colour image's patch is RGB, shown as the view shows it (8-bit samples, inverted
when the view is, no window: :mod:`galactoview.imaging.colour`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from galactoview.dicom.mammography import Flip
from galactoview.imaging.colour import invert_rgb8, is_colour, rgb8
from galactoview.imaging.display import DisplayPipeline, VoiLut, Window

__all__ = ["loupe_patch"]


def loupe_patch(
    stored: NDArray[Any],
    pipeline: DisplayPipeline,
    voi: Window | VoiLut | None,
    centre: tuple[float, float],
    half_size: int,
    flip: Flip | None = None,
    *,
    lut: NDArray[np.uint8] | None = None,
) -> NDArray[np.uint8]:
    """Return the displayed pixels round a point, mirrored like the hung image.

    Parameters
    ----------
    stored
        Stored values, shape ``(Rows, Columns)``, or RGB ``(Rows, Columns, 3)``;
        read only, never modified.
    pipeline
        The image's display pipeline.
    voi
        The VOI transform shown (PS3.3 C.11.2); ignored for colour.
    centre
        SCOORD ``(column, row)`` of the point (PS3.3 C.18.6.1.2); the patch is centred
        on the pixel that contains it, ``stored[floor(row), floor(column)]``.
    half_size
        Stored pixels on each side of the centre pixel (>= 0): the patch is
        ``2 * half_size + 1`` pixels square.
    flip
        The hanging flip: horizontal reverses the columns of the patch, vertical
        its rows (the centre pixel stays in the middle).
    lut
        ``pipeline.lut(voi)`` when already computed (it is computed otherwise).

    Returns
    -------
    numpy.ndarray
        uint8 display values, shape ``(2 * half_size + 1,) * 2`` (and 3 channels for
        colour), C-contiguous; pixels outside the image are 0 (black).

    Raises
    ------
    ValueError
        If `half_size` is negative or `centre` is not finite.
    """
    if half_size < 0:
        raise ValueError(f"half_size must be >= 0, got {half_size}")
    if not (math.isfinite(centre[0]) and math.isfinite(centre[1])):
        raise ValueError(f"centre must be finite, got {centre!r}")
    side = 2 * half_size + 1
    colour = is_colour(stored)
    out = np.zeros((side, side, 3) if colour else (side, side), dtype=np.uint8)
    rows, columns = stored.shape[:2]
    column0 = math.floor(centre[0]) - half_size
    row0 = math.floor(centre[1]) - half_size
    top, bottom = max(row0, 0), min(row0 + side, rows)
    left, right = max(column0, 0), min(column0 + side, columns)
    if top < bottom and left < right and colour:
        region = rgb8(stored[top:bottom, left:right], pipeline.bits_stored)
        out[top - row0 : bottom - row0, left - column0 : right - column0] = (
            invert_rgb8(region) if pipeline.invert else region
        )
    elif top < bottom and left < right:
        table = pipeline.lut(voi) if lut is None else lut
        region = stored[top:bottom, left:right]
        out[top - row0 : bottom - row0, left - column0 : right - column0] = np.take(
            table, pipeline.lut_indices(region)
        )
    if flip is not None and flip.horizontal:
        out = out[:, ::-1]
    if flip is not None and flip.vertical:
        out = out[::-1, :]
    return np.ascontiguousarray(out)
