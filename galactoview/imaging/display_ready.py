"""What a viewer needs of a decoded frame before it can show it, computed off the GUI thread.

A 30 Mpix mammogram's stored-value extremes (two passes over the pixels) and its
display pyramid (:class:`~galactoview.imaging.pyramid.Pyramid`) cost 20–35 ms together;
done in the viewport when the image is put up, they held the window's event loop that
long for every image of a study arriving from a PACS (``make bench``,
``pacs_open_stall_ms``). :func:`display_ready` computes them where the frame is decoded
(a pool thread: numpy releases the GIL for these loops), and the viewport only uses them.
Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from galactoview.imaging.colour import is_colour, rgb8
from galactoview.imaging.display import DisplayPipeline
from galactoview.imaging.pyramid import Pyramid

__all__ = ["DisplayReady", "display_ready"]


@dataclass(frozen=True, slots=True, eq=False)
class DisplayReady:
    """A frame's stored-value extremes and its pyramid of LUT indices.

    Attributes
    ----------
    low, high
        Smallest and largest stored value of the frame.
    pyramid
        Level 0 the LUT indices of every pixel (:meth:`DisplayPipeline.lut_indices`, or
        the stored values themselves when they already are), then its 2 x 2 means. For
        a colour image, level 0 is its 8-bit RGB display values
        (:func:`~galactoview.imaging.colour.rgb8`; no LUT applies to colour, see
        :mod:`galactoview.imaging.colour`).
    """

    low: Any
    high: Any
    pyramid: Pyramid

    def extra_bytes(self, stored: NDArray[Any]) -> int:
        """Return the bytes it holds beyond ``stored`` (levels not sharing its memory)."""
        return sum(
            level.nbytes for level in self.pyramid.levels if not np.shares_memory(level, stored)
        )


def display_ready(stored: NDArray[Any], pipeline: DisplayPipeline) -> DisplayReady:
    """Return the extremes and the pyramid of a frame (any thread).

    Parameters
    ----------
    stored
        Stored values, shape ``(Rows, Columns)``, or RGB ``(Rows, Columns, 3)``.
    pipeline
        The frame's display pipeline (PS3.3 C.11); for a colour frame its
        ``bits_stored`` is the samples' bit depth
        (:func:`~galactoview.imaging.colour.colour_bits`).
    """
    low, high = stored.min(), stored.max()
    indices: NDArray[Any]
    if is_colour(stored):
        indices = rgb8(stored, pipeline.bits_stored)
    elif (
        stored.dtype == np.uint16
        and pipeline.stored_range[0] == 0
        and int(high) < 2**pipeline.bits_stored
    ):
        # Unsigned and in range: the LUT indices are the stored values themselves;
        # share them instead of holding a second full-resolution copy.
        indices = stored
    else:
        indices = pipeline.lut_indices(stored)
    return DisplayReady(low, high, Pyramid(indices))
