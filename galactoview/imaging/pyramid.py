"""Display-resolution levels of an image: factor-2 reductions of the stored values (Qt-free).

A full-field mammogram (4096 x 3328, 13.6 Mpix) zoomed to fit a 1920 x 1080 screen is
shown at about a quarter of its resolution. Applying a window LUT to every stored value
costs ~26 ms per change; applying it to a reduced copy costs 1/4 or 1/16 of that.
:class:`Pyramid` holds level 0 (the stored values themselves) and levels 1, 2, ... where
each is the 2 x 2 **mean** of the one before, computed once per image.

Mean, not max or subsampling: a mammogram is a smooth projection image, so the mean is
the box-filtered image the screen would show anyway, without the aliasing of plain
subsampling; max would brighten the image (it biases every window towards dense
tissue), although it keeps isolated calcifications visible. Either way only the
*overview* is reduced: at 1:1 and closer zoom, level 0 is used, so nothing is lost for
reading. The mean is rounded to the nearest integer and stays in the stored dtype, so
the values stay valid stored values and the same LUT (``DisplayPipeline.lut``) applies
(PS3.3 C.11: the display chain is a function of the stored value).

An odd last row or column is dropped at each level; level ``k`` pixel ``(r, c)`` covers
stored pixels ``[r * 2**k, (r + 1) * 2**k)`` x ``[c * 2**k, (c + 1) * 2**k)``, so a
viewer places level ``k`` at the image's origin scaled by ``2**k``.
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

__all__ = ["MIN_LEVEL_SIDE", "Pyramid", "level_for_scale", "reduce_mean"]

#: Output rows computed at a time by :func:`reduce_mean`.
_STRIP: Final = 128

#: Levels stop when the shorter side would drop below this many pixels.
MIN_LEVEL_SIDE: Final = 256


def reduce_mean(image: NDArray[Any]) -> NDArray[Any]:
    """Return the 2 x 2 mean of an integer or float image, in its dtype.

    Integer means are rounded half up; an odd last row or column is dropped. A colour
    image (RGB, ``(rows, columns, 3)``) is reduced channel by channel.

    Parameters
    ----------
    image
        Shape ``(rows, columns)`` or ``(rows, columns, channels)``; rows and columns
        at least 2.

    Returns
    -------
    numpy.ndarray
        Shape ``(rows // 2, columns // 2[, channels])``, same dtype.
    """
    if image.ndim not in (2, 3) or min(image.shape[:2]) < 2:
        raise ValueError(f"need an image of at least 2 x 2, got shape {image.shape}")
    out = np.empty((image.shape[0] // 2, image.shape[1] // 2, *image.shape[2:]), dtype=image.dtype)
    # Strips of _STRIP output rows keep the temporaries small (and in cache).
    for start in range(0, out.shape[0], _STRIP):
        stop = min(start + _STRIP, out.shape[0])
        out[start:stop] = _reduce_strip(image[2 * start : 2 * stop, : 2 * out.shape[1]])
    return out


def _reduce_strip(block: NDArray[Any]) -> NDArray[Any]:
    """Return the 2 x 2 mean of a block with an even number of rows and columns.

    Rows are axis 0 and columns axis 1, so colour channels (axis 2) stay apart.
    """
    top, bottom = block[0::2], block[1::2]
    if np.issubdtype(block.dtype, np.integer):
        wide = np.int64 if block.dtype.itemsize >= 4 else np.int32
        pairs: NDArray[np.signedinteger[Any]] = top.astype(wide)
        pairs += bottom.astype(wide)
        total: NDArray[np.signedinteger[Any]] = pairs[:, 0::2] + pairs[:, 1::2]
        # floor((sum + 2) / 4): round half up, exact for signed values too
        total += 2
        total >>= 2
        return total
    pairs_f: NDArray[np.float64] = top.astype(np.float64) + bottom.astype(np.float64)
    mean: NDArray[np.float64] = (pairs_f[:, 0::2] + pairs_f[:, 1::2]) / 4.0
    return mean


def level_for_scale(scale: float, levels: int) -> int:
    """Return the level to draw at a zoom of ``scale`` screen pixels per stored pixel.

    The level whose resolution is nearest in log2 (as OpenGL's nearest-mipmap
    selection): level ``k`` has ``2**-k`` of the resolution, so ``k = round(log2(1 /
    scale))``, clamped to ``0 .. levels - 1``. At 1:1 or closer, level 0 (full
    resolution). The chosen level is at most sqrt(2) coarser than the screen.

    Parameters
    ----------
    scale
        Screen pixels per stored pixel (0.26 for 4096 rows fitted to 1080).
    levels
        Number of levels available.
    """
    if levels < 1:
        raise ValueError(f"levels must be >= 1, got {levels}")
    if not scale > 0.0 or not math.isfinite(scale):
        return 0
    level = round(math.log2(1.0 / scale)) if scale < 1.0 else 0
    return max(0, min(levels - 1, level))


class Pyramid:
    """Factor-2 mean reductions of a stored image, computed once.

    Parameters
    ----------
    stored
        Stored values, shape ``(Rows, Columns)``, or 8-bit RGB display values of a
        colour image, ``(Rows, Columns, 3)``; kept as level 0 (not copied).
    min_side
        The coarsest level is the last whose shorter side is at least this.

    Attributes
    ----------
    levels
        Level 0 is ``stored``; level ``k`` is ``reduce_mean`` of level ``k - 1``; all
        read-only.
    """

    def __init__(self, stored: NDArray[Any], min_side: int = MIN_LEVEL_SIDE) -> None:
        if stored.ndim not in (2, 3):
            raise ValueError(f"need a 2-D or RGB image, got shape {stored.shape}")
        levels = [stored]
        while min(levels[-1].shape[:2]) // 2 >= max(min_side, 1):
            reduced = reduce_mean(levels[-1])
            reduced.setflags(write=False)
            levels.append(reduced)
        self.levels: tuple[NDArray[Any], ...] = tuple(levels)

    def __len__(self) -> int:
        return len(self.levels)

    @property
    def shape(self) -> tuple[int, int]:
        """Return the full-resolution shape ``(Rows, Columns)``."""
        rows, columns = self.levels[0].shape[:2]
        return int(rows), int(columns)

    def level_for(self, scale: float) -> NDArray[Any]:
        """Return the level to draw at ``scale`` screen pixels per stored pixel.

        See :func:`level_for_scale`; ``self.levels.index`` is not needed: use
        :meth:`index_for` to know which level (and so its pixel size ``2**k``).
        """
        return self.levels[self.index_for(scale)]

    def index_for(self, scale: float) -> int:
        """Return the index of the level :meth:`level_for` returns."""
        return level_for_scale(scale, len(self.levels))

    @staticmethod
    def fit_scale(shape: tuple[int, int], view: tuple[int, int]) -> float:
        """Return the scale at which an image of ``shape`` fits a view of ``view`` pixels.

        Parameters
        ----------
        shape
            Image ``(rows, columns)``.
        view
            View ``(width, height)`` in screen pixels.
        """
        rows, columns = shape
        width, height = view
        return min(width / columns, height / rows)
