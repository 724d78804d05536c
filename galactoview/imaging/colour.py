"""Colour images (RGB, YBR, palette) in the viewer: true colour, no window/level (Qt-free).

Key images and secondary captures arrive with mammography studies in colour:
Photometric Interpretation (0028,0004) RGB, YBR_FULL, YBR_FULL_422, YBR_ICT/YBR_RCT
(JPEG 2000) or PALETTE COLOR (PS3.3 C.7.6.3.1.2). They are decoded by
:func:`~galactoview.dicom.loading.load_pixels` with ``colour=True``, which leaves every
colour conversion to pydicom: the YBR families become RGB in pydicom's decoding (its
``as_rgb`` option, :func:`pydicom.pixels.convert_color_space`), Planar Configuration
(PS3.3 C.7.6.3.1.3) is undone by pydicom, and PALETTE COLOR values go through the Red,
Green and Blue Palette Color Lookup Tables with :func:`pydicom.pixels.apply_color_lut`
(PS3.3 C.7.6.3.1.5, C.7.6.3.1.6; segmented palettes too). The viewer's stored array of
a colour image is therefore RGB, shape ``(Rows, Columns, 3)``.

Window/level: not applied to colour images (decision). The Modality LUT (PS3.3 C.11.1)
and the VOI LUT (C.11.2) are grayscale transformations; the colour branch of the
display model (PS3.4 N.2, Figure N.2-1) has only the palette and the ICC profile. So a
colour image is shown as stored, scaled to 8 bits (:func:`rgb8`); window drags, presets,
Auto and the numeric entry leave it unchanged, and the W/L readout says so
(:data:`COLOUR_WINDOW_NOTE`) instead of showing a window that does nothing. Applying one
window to the three channels would change the colours a key image was captured with
without the reader being able to tell. Inversion (a display aid, as for grayscale) is
``255 - value`` on each channel.

The same 8-bit scaling is used by ``galactoview render``
(:func:`galactoview.imaging.export.render_image`) and by the thumbnails.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset

from galactoview.imaging.display import DisplayPipeline

__all__ = [
    "COLOUR_WINDOW_NOTE",
    "colour_bits",
    "colour_pipeline",
    "invert_rgb8",
    "is_colour",
    "rgb8",
]

#: What the W/L readout says for a colour image (see the module's decision).
COLOUR_WINDOW_NOTE: Final = "colour image: window/level does not apply (shown as stored)"


def is_colour(stored: NDArray[Any]) -> bool:
    """Return whether decoded values are a colour frame, shape ``(Rows, Columns, 3)``."""
    return stored.ndim == 3 and stored.shape[2] == 3


def colour_bits(photometric: str, stored: NDArray[Any], bits_stored: int) -> int:
    """Return the bit depth of a decoded colour frame's samples.

    Parameters
    ----------
    photometric
        Photometric Interpretation (0028,0004) of the image.
    stored
        The decoded frame: RGB, after the palette for PALETTE COLOR.
    bits_stored
        Bits Stored (0028,0101) of the image.

    Returns
    -------
    int
        For PALETTE COLOR the palette entries' size: 8 when pydicom returned bytes,
        else 16 (PS3.3 C.7.6.3.1.5: entries are 8 or 16 bits, the range of the
        output); otherwise Bits Stored.
    """
    if photometric.strip().upper() == "PALETTE COLOR":
        return 8 if stored.dtype.itemsize == 1 else 16
    return int(bits_stored)


def rgb8(stored: NDArray[Any], bits: int) -> NDArray[np.uint8]:
    """Return 8-bit RGB display values of a decoded colour frame.

    ``value * 255 / (2**bits - 1)``, rounded, after clipping to ``0 .. 2**bits - 1``;
    8-bit unsigned samples are returned as they are (not copied when contiguous).

    Parameters
    ----------
    stored
        RGB samples, shape ``(Rows, Columns, 3)``, integers.
    bits
        Their bit depth (:func:`colour_bits`), 1..16.

    Raises
    ------
    ValueError
        If the array is not integer RGB or ``bits`` is outside 1..16.
    """
    if not is_colour(stored) or stored.dtype.kind not in "ui":
        raise ValueError(f"expected integer RGB samples, got {stored.dtype} {stored.shape}")
    if not 1 <= bits <= 16:
        raise ValueError(f"{bits}-bit colour samples are not supported (1 to 16 only)")
    if bits == 8 and stored.dtype == np.uint8:
        return np.ascontiguousarray(stored)
    top = float(2**bits - 1)
    scaled = np.rint(np.clip(stored.astype(np.float64), 0.0, top) * (255.0 / top))
    return scaled.astype(np.uint8)


def invert_rgb8(display: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Return ``255 - value`` on every channel (a new array; the display values kept)."""
    return np.subtract(np.uint8(255), display, dtype=np.uint8)


def colour_pipeline(header: Dataset, stored: NDArray[Any]) -> DisplayPipeline:
    """Return the pipeline of a colour frame: its samples' bit depth, nothing else.

    No Modality LUT, windows or VOI LUT (PS3.3 C.11.1 and C.11.2 are grayscale
    transformations; see the module's decision), so there is no preset to
    offer and no note about them; unsigned, as RGB samples are (PS3.3 C.7.6.3.1.2).

    Parameters
    ----------
    header
        The image's header.
    stored
        The decoded RGB frame (after the palette for PALETTE COLOR).

    Raises
    ------
    ValueError
        If its samples have more than 16 bits (the 8-bit display of :func:`rgb8`
        covers 1 to 16), with a message for the user.
    """
    photometric = str(header.get("PhotometricInterpretation") or "")
    try:
        bits = int(header.get("BitsStored") or 8)
    except (TypeError, ValueError):
        bits = 8
    bits = colour_bits(photometric, stored, bits)
    if not 1 <= bits <= 16:
        raise ValueError(f"{bits}-bit colour images are not supported (1 to 16 bits only)")
    return DisplayPipeline(bits, 0)
