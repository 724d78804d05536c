"""Images with overlay planes (60xx, PS3.3 C.9.2 / C.9.3), made in code (seeded).

Shared by the overlay tests of ``imaging``, ``cli`` (``render`` against DCMTK) and the
viewer. Bits are packed by pydicom (:func:`pydicom.pixels.utils.pack_bits`).
"""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels.utils import pack_bits

from tests.helpers import make_mg_dataset


def add_overlay(
    ds: Dataset,
    group: int,
    bits: np.ndarray,
    origin: tuple[int, int],
    overlay_type: str = "G",
    frame_origin: int | None = None,
) -> Dataset:
    """Add an overlay group to `ds`: ``bits`` is (rows, columns) or (frames, rows, columns).

    A 3-D `bits` writes Number of Frames in Overlay (60xx,0015) and, when given, Image
    Frame Origin (60xx,0051); a 2-D one writes neither (the overlay applies to every frame).
    """
    ds.add_new((group, 0x0010), "US", int(bits.shape[-2]))
    ds.add_new((group, 0x0011), "US", int(bits.shape[-1]))
    ds.add_new((group, 0x0040), "CS", overlay_type)
    ds.add_new((group, 0x0050), "SS", list(origin))
    ds.add_new((group, 0x0100), "US", 1)
    ds.add_new((group, 0x0102), "US", 0)
    if bits.ndim == 3:
        ds.add_new((group, 0x0015), "IS", int(bits.shape[0]))
        if frame_origin is not None:
            ds.add_new((group, 0x0051), "US", frame_origin)
    ds.add_new((group, 0x3000), "OW", pack_bits(bits.astype(np.uint8).ravel()))
    return ds


def random_bits(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Return a seeded random 0/1 bitmap."""
    return (np.random.default_rng(seed).random(shape) > 0.5).astype(np.uint8)


def single_frame_with_overlays(photometric: str = "MONOCHROME2") -> Dataset:
    """A 40 x 30 MG image with three overlays.

    6000: graphics 10 x 12 at (5, 7); 6002: graphics 8 x 9 at (-2, 26), clipped above
    and on the right; 6004: an ROI 6 x 6 at (30, 3) whose region is its 2 x 2 centre.
    """
    ds = make_mg_dataset(rows=40, columns=30, photometric=photometric)
    add_overlay(ds, 0x6000, random_bits((10, 12), 1), (5, 7))
    add_overlay(ds, 0x6002, random_bits((8, 9), 2), (-2, 26))
    region = np.zeros((6, 6), np.uint8)
    region[2:4, 2:4] = 1
    add_overlay(ds, 0x6004, region, (30, 3), overlay_type="R")
    return ds


def multi_frame_with_overlay() -> Dataset:
    """A 4-frame 20 x 16 MG-like image; overlay 6000 has 2 frames from image frame 2.

    Its bitmaps are 5 x 6 at (3, 4); frame ``k`` of the image is the first frame's values
    plus ``100 * k``.
    """
    ds = make_mg_dataset(rows=20, columns=16)
    first = ds.pixel_array.astype(np.uint16)
    ds.NumberOfFrames = 4
    ds.PixelData = np.stack([first + 100 * k for k in range(4)]).astype("<u2").tobytes()
    add_overlay(ds, 0x6000, random_bits((2, 5, 6), 3), (3, 4), frame_origin=2)
    return ds
