"""A first picture of a JPEG 2000 image from its own lower resolution levels (Qt-free).

A JPEG 2000 codestream is a wavelet pyramid (ISO/IEC 15444-1 Annex F; DICOM PS3.5 A.4.4
and A.4.11 carry it unchanged): discarding its ``n`` finest resolution levels decodes an
image ``2**n`` times smaller each way — its low-pass (LL) band, not a decoded-then-shrunk
full image — in a fraction of the full decode's time (the bench's 4096 x 3328 lossless
image: 0.75 s in full with imagecodecs, 0.09 s at a quarter, see ``docs/performance.md``).
The viewer shows it, fitted to the cell, while the full image decodes, then replaces it.

Library: the JPEG 2000 decoder of Pillow (its ``Jpeg2KImagePlugin`` over the OpenJPEG the
Pillow wheel bundles), with ``reduce`` set before loading — OpenJPEG's own "discard the
highest resolution levels". The pinned ``imagecodecs.jpeg2k_decode`` (``data, planar,
verbose, numthreads, out``) and pylibjpeg-openjpeg's ``decode`` (``stream, j2k_format,
reshape``) have no resolution-level argument, and glymur needs a system libopenjp2 that a
fresh machine does not have. Pillow widens every sample to its mode: a ``prec``-bit
component comes back as ``(value + offset) << (16 - prec)`` in mode ``I;16`` (``<< (8 -
prec)`` in mode ``L``), ``offset`` being ``2**(prec - 1)`` for a signed component and 0
otherwise; :func:`decode_reduced` undoes both, so the values are stored values as
:func:`~galactoview.imaging.decode_service.decode_stored` gives them (low-pass filtered).

Only what the full path decodes the same way is reduced: one frame, MONOCHROME1 or
MONOCHROME2, one sample per pixel, Bits Allocated 8 or 16, a codestream whose SIZ
(ISO/IEC 15444-1 A.5.1) has the image's Rows and Columns, one component and a precision
equal to Bits Stored, signed exactly when Pixel Representation (0028,0103) is 1 (PS3.3
C.7.6.3.1; PS3.5 A.4.4 requires that agreement). Anything else — another transfer syntax,
colour, a JP2 file instead of a bare codestream, damaged data, any error — gives ``None``
and the caller shows the full image only, which words any error.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from PIL.Jpeg2KImagePlugin import Jpeg2KImageFile

from galactoview.dicom.loading import ImageRecord, read_image_dataset

__all__ = [
    "J2K_SYNTAXES",
    "PREVIEW_MIN_SIDE",
    "CodestreamSize",
    "ReducedImage",
    "decode_codestream_reduced",
    "decode_reduced",
    "read_codestream_size",
    "reduced_level",
    "wants_preview",
]

#: JPEG 2000 and HTJ2K transfer syntaxes (PS3.5 A.4.4 and A.4.11): a codestream with a
#: resolution pyramid.
J2K_SYNTAXES: Final = frozenset(
    {
        "1.2.840.10008.1.2.4.90",  # JPEG 2000 Image Compression (Lossless Only)
        "1.2.840.10008.1.2.4.91",  # JPEG 2000 Image Compression
        "1.2.840.10008.1.2.4.201",  # HTJ2K Lossless
        "1.2.840.10008.1.2.4.202",  # HTJ2K Lossless RPCL
        "1.2.840.10008.1.2.4.203",  # HTJ2K
    }
)

#: The first picture's longer side is at least this many pixels: a cell of a 1920 x 1080
#: screen shows a whole mammogram in about 1000 device pixels of height, so a picture of
#: 1024 or more looks as sharp as the full image there, and a 4096-row image is decoded at
#: a quarter (16 times fewer pixels). Images not larger than twice this get no preview.
PREVIEW_MIN_SIDE: Final = 1024

# Marker codes (ISO/IEC 15444-1 A.2, Table A.2): start of codestream, image and tile size,
# coding style default, start of tile-part.
_SOC, _SIZ, _COD, _SOT = 0xFF4F, 0xFF51, 0xFF52, 0xFF90


@dataclass(frozen=True, slots=True)
class CodestreamSize:
    """What a JPEG 2000 codestream's main header says of its image.

    Attributes
    ----------
    rows, columns
        Image size on the reference grid: ``Ysiz - YOsiz`` and ``Xsiz - XOsiz`` (SIZ,
        ISO/IEC 15444-1 A.5.1).
    components
        Number of components (``Csiz``).
    precision
        Bits of the first component (``Ssiz & 0x7F`` plus one).
    signed
        Whether the first component is signed (``Ssiz & 0x80``).
    levels
        Number of wavelet decomposition levels (``SPcod`` of COD, A.6.1): at most this
        many resolution levels can be discarded.
    """

    rows: int
    columns: int
    components: int
    precision: int
    signed: bool
    levels: int


@dataclass(frozen=True, slots=True, eq=False)
class ReducedImage:
    """The first frame of an image at a reduced resolution.

    Attributes
    ----------
    stored
        Stored values (low-pass), shape ``(ceil(Rows / 2**reduction), ceil(Columns /
        2**reduction))``, the dtype of the full decode (Bits Allocated and Pixel
        Representation); read-only.
    reduction
        Number of resolution levels discarded (``n >= 1``): one pixel per ``2**n`` x
        ``2**n`` stored pixels.
    """

    stored: NDArray[Any]
    reduction: int


def read_codestream_size(codestream: bytes) -> CodestreamSize | None:
    """Read the SIZ and COD marker segments of a JPEG 2000 codestream's main header.

    Parameters
    ----------
    codestream
        A bare codestream (starting with SOC, as PS3.5 A.4.4 encapsulates it).

    Returns
    -------
    CodestreamSize or None
        ``None`` if it does not start with SOC and SIZ, places the image at an offset on
        the reference grid (``XOsiz``, ``YOsiz``: its reduced size would not be the
        image's halved), or its main header is cut or has no COD before the first
        tile-part.
    """
    try:
        if struct.unpack_from(">HH", codestream, 0) != (_SOC, _SIZ):
            return None
        # SIZ: Lsiz, Rsiz, Xsiz, Ysiz, XOsiz, YOsiz, XTsiz, YTsiz, XTOsiz, YTOsiz, Csiz, Ssiz.
        length, _, xsiz, ysiz, xo, yo, _, _, _, _, csiz, ssiz = struct.unpack_from(
            ">HHIIIIIIIIHB", codestream, 4
        )
        if xo or yo:
            return None
        position = 4 + length
        while True:  # the main header's other marker segments, up to COD
            marker, size = struct.unpack_from(">HH", codestream, position)
            if marker == _SOT or size < 2:
                return None
            if marker == _COD:  # Lcod, Scod, progression, layers (2), MCT, levels
                levels = codestream[position + 9]
                break
            position += 2 + size
    except (struct.error, IndexError):
        return None
    return CodestreamSize(
        rows=ysiz,
        columns=xsiz,
        components=csiz,
        precision=(ssiz & 0x7F) + 1,
        signed=bool(ssiz & 0x80),
        levels=levels,
    )


def reduced_level(rows: int, columns: int, max_size: int, levels: int) -> int:
    """Return how many JPEG 2000 resolution levels can be discarded for a picture.

    The largest ``r`` not above ``levels`` (the codestream's decomposition levels) such
    that the reduced image, ``ceil(size / 2**r)`` (ISO/IEC 15444-1 B.5), still has at
    least ``max_size`` pixels on its longer side. Levels at which Pillow 13 computes
    a reduced size that differs from OpenJPEG's (it rounds instead of taking the
    ceiling, and then fails) are skipped.
    """
    best = 0
    for level in range(1, levels + 1):
        power = 1 << level
        if max(-(-rows // power), -(-columns // power)) < max_size:
            break
        if all((n + (power >> 1)) // power == -(-n // power) for n in (rows, columns)):
            best = level
    return best


def decode_codestream_reduced(
    codestream: bytes, size: CodestreamSize, reduction: int
) -> NDArray[Any]:
    """Decode a one-component codestream with its ``reduction`` finest levels discarded.

    Pillow's OpenJPEG plugin with ``reduce`` set before loading (OpenJPEG's
    ``cp_reduce``); the widening Pillow applies (see the module's description) is
    undone.

    Parameters
    ----------
    codestream
        The codestream, whose main header says ``size``.
    size
        Its :func:`read_codestream_size`; one component of at most 16 bits.
    reduction
        Resolution levels to discard, from 0 to ``size.levels``.

    Returns
    -------
    numpy.ndarray
        Shape ``(ceil(rows / 2**reduction), ceil(columns / 2**reduction))``: uint8 or
        uint16 (the precision's byte size) for an unsigned component, int8 or int16
        for a signed one.

    Raises
    ------
    ValueError
        For a component Pillow would not decode as one gray sample, or a result of
        another shape.
    OSError
        For a codestream OpenJPEG cannot decode.
    """
    if size.components != 1 or not 1 <= size.precision <= 16:
        raise ValueError(f"{size.components} component(s) of {size.precision} bits")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DecompressionBombWarning: the caller checked
        with Image.open(io.BytesIO(codestream), formats=["JPEG2000"]) as image:
            if not isinstance(image, Jpeg2KImageFile):
                raise ValueError("not a JPEG 2000 codestream")
            image.reduce = reduction
            image.load()
            widened = np.asarray(image)
    factor = 1 << reduction
    expected = (-(-size.rows // factor), -(-size.columns // factor))
    if widened.shape != expected or widened.dtype.kind != "u":
        raise ValueError(f"decoded {widened.shape}, expected {expected}")
    shift = widened.dtype.itemsize * 8 - size.precision  # Pillow's mode L or I;16
    if not size.signed:
        return np.right_shift(widened, shift) if shift else widened
    offset = 1 << (size.precision - 1)
    signed = (widened.astype(np.int32) >> shift) - offset
    return signed.astype(np.int8 if size.precision <= 8 else np.int16)


def wants_preview(record: ImageRecord, min_side: int = PREVIEW_MIN_SIDE) -> bool:
    """Return whether a reduced first picture of ``record`` is worth decoding.

    True for a single-frame JPEG 2000 or HTJ2K image (PS3.5 A.4.4, A.4.11) whose longer
    side is at least twice ``min_side``; whether its codestream allows it is found out
    by :func:`decode_reduced`.
    """
    return (
        record.transfer_syntax_uid in J2K_SYNTAXES
        and record.number_of_frames == 1
        and max(record.rows, record.columns) >= 2 * min_side
    )


def decode_reduced(record: ImageRecord, min_side: int = PREVIEW_MIN_SIDE) -> ReducedImage | None:
    """Decode the first frame of a JPEG 2000 image at a reduced resolution.

    Parameters
    ----------
    record
        The image.
    min_side
        The reduced image's longer side is at least this (:func:`reduced_level`).

    Returns
    -------
    ReducedImage or None
        ``None`` when it cannot be done here (see the module's description) or would not
        reduce anything: the caller decodes the full image instead. Never raises.
    """
    if not wants_preview(record, min_side):
        return None
    try:
        return _decode_reduced(record, min_side)
    except Exception:  # damaged data, Pillow refusing it, a decompression bomb: full decode
        return None


def _decode_reduced(record: ImageRecord, min_side: int) -> ReducedImage | None:
    from pydicom.encaps import generate_frames

    ds = read_image_dataset(record.source)
    allocated = int(ds.get("BitsAllocated", 0))
    bits_stored = int(ds.get("BitsStored", allocated))
    signed = int(ds.get("PixelRepresentation", 0)) == 1
    if (
        str(ds.get("PhotometricInterpretation", "")).strip() not in ("MONOCHROME1", "MONOCHROME2")
        or int(ds.get("SamplesPerPixel", 1)) != 1
        or int(ds.get("NumberOfFrames", 1) or 1) != 1
        or allocated not in (8, 16)
    ):
        return None
    codestream = next(generate_frames(ds.PixelData, number_of_frames=1))
    size = read_codestream_size(codestream)
    if (
        size is None
        or (size.rows, size.columns) != (record.rows, record.columns)
        or size.precision != bits_stored
        or size.precision > allocated
        or size.signed != signed
    ):
        return None
    reduction = reduced_level(size.rows, size.columns, min_side, size.levels)
    if reduction < 1:
        return None
    values = decode_codestream_reduced(codestream, size, reduction)
    stored = values.astype(f"{'i' if signed else 'u'}{allocated // 8}", copy=False)
    stored.setflags(write=False)
    return ReducedImage(stored, reduction)
