"""Small 8-bit renderings of images for a study browser (Qt-free).

:func:`render_thumbnail` renders the first frame of an image through the same display
pipeline as the viewer (:class:`~galactoview.imaging.display.DisplayPipeline`: Modality
LUT, PS3.3 C.11.1 → the file's default VOI, PS3.3 C.11.2, or the automatic window →
Presentation LUT / MONOCHROME1 inversion, PS3.3 C.11.6), shrinks it so that its longer
side is at most ``max_size`` pixels and applies the mammography hanging flip
(:func:`~galactoview.dicom.mammography.hanging_flip`), so the thumbnail looks like the
image as it is hung. Only a copy is flipped; source files are only read. A colour image
(RGB, YBR, palette) becomes an RGB thumbnail of its 8-bit samples, without a window,
as the viewer shows it (:mod:`galactoview.imaging.colour`).

Speed: a full-field JPEG 2000 mammogram takes 0.1–1.5 s to decode, but a thumbnail
needs a fraction of its pixels. JPEG 2000 (ISO/IEC 15444-1) stores a resolution
pyramid: decoding only the lowest ``r`` of its resolution levels gives the image
reduced by ``2**r`` (each sample the wavelet low-pass of a ``2**r`` block) for a small
fraction of the work. ``imagecodecs.jpeg2k_decode`` (2026.3) has no argument for that
(only ``htj2k_decode`` has ``skipres``), so the reduced decode goes through Pillow's
OpenJPEG plugin (its ``reduce`` attribute, OpenJPEG's ``cp_reduce``). The level chosen
keeps at least ``max_size`` pixels on the longer side, so the final shrink is still a
downsampling. Anything unusual (archive members, signed or colour data, several
components, an image offset, a Pillow without OpenJPEG) or any failure falls back to
a full decode (:func:`~galactoview.imaging.decode_service.decode_stored`) and
downsampling.

:func:`thumbnail_in_worker` runs :func:`render_thumbnail` in a worker process (see
:class:`~concurrent.futures.ProcessPoolExecutor`): it never raises and returns
either the pixels or the error message, because :class:`PixelDataError` does not
pickle.
"""

from __future__ import annotations

import hashlib
import warnings
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.encaps import generate_frames

from galactoview.dicom.loading import ImageRecord, PixelDataError, read_header
from galactoview.dicom.mammography import hanging_flip
from galactoview.imaging.colour import colour_pipeline, is_colour, rgb8
from galactoview.imaging.decode_service import J2K_SYNTAXES, decode_stored
from galactoview.imaging.display import DisplayPipeline
from galactoview.imaging.export import choose_voi
from galactoview.imaging.reduced_decode import (
    decode_codestream_reduced,
    read_codestream_size,
    reduced_level,
)

__all__ = [
    "THUMBNAIL_SIZE",
    "reduced_level",
    "render_thumbnail",
    "thumbnail_in_worker",
    "thumbnail_key",
    "thumbnail_shape",
]

#: Default bound on the longer side of a thumbnail, in pixels.
THUMBNAIL_SIZE: Final = 192


def thumbnail_shape(rows: int, columns: int, max_size: int) -> tuple[int, int]:
    """Return the (rows, columns) of a thumbnail, as ``render_image(max_size=...)`` shrinks.

    The longer side becomes ``max_size`` (each side rounded, at least 1), preserving the
    aspect ratio; an image no larger than ``max_size`` keeps its size.

    Parameters
    ----------
    rows, columns
        Size of the image.
    max_size
        Bound on the longer side, at least 1.
    """
    longer = max(rows, columns)
    if longer <= max_size:
        return rows, columns
    scale = max_size / longer
    return max(1, round(rows * scale)), max(1, round(columns * scale))


def thumbnail_key(record: ImageRecord, max_size: int = THUMBNAIL_SIZE) -> str:
    """Return a key that identifies a thumbnail, for caches.

    It combines the SOP Instance UID (0008,0018), the identity of the image's source
    (:meth:`~galactoview.dicom.source.ImageSource.identity`, e.g. resolved path, size,
    modification time; only its name when it cannot be examined) and ``max_size``, so an
    edited or replaced file gets a new key.
    """
    try:
        identity = record.source.identity().token()
    except OSError:
        identity = record.name
    text = "\0".join((record.sop_instance_uid, identity, str(max_size)))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def render_thumbnail(
    record: ImageRecord,
    max_size: int = THUMBNAIL_SIZE,
    *,
    hang: bool = True,
    reduced: bool = True,
) -> NDArray[np.uint8]:
    """Render a small 8-bit picture of the first frame of an image (RGB for colour).

    Display values come from :class:`~galactoview.imaging.display.DisplayPipeline` with
    the VOI that :func:`~galactoview.imaging.export.choose_voi` chooses by default: the
    file's first window, else its first VOI LUT, else the automatic window (PS3.3
    C.11.2). The display values are shrunk like
    :func:`~galactoview.imaging.export.render_image` with ``max_size`` (Lanczos after an
    integer box pre-reduction).

    Parameters
    ----------
    record
        The image.
    max_size
        Bound on the longer side, at least 1; see :func:`thumbnail_shape`.
    hang
        Apply :func:`~galactoview.dicom.mammography.hanging_flip` (to the thumbnail,
        never to the source).
    reduced
        For JPEG 2000, decode only the resolution levels needed (see the module
        documentation); ``False`` always decodes the full image.

    Returns
    -------
    numpy.ndarray
        uint8, shape :func:`thumbnail_shape` of the image, 0 black, 255 white; with 3
        RGB channels for a colour image.

    Raises
    ------
    PixelDataError
        If the file cannot be read or decoded (the message names the file).
    """
    if max_size < 1:
        raise ValueError(f"max_size must be at least 1, got {max_size}")
    header = read_header(record)
    stored = _reduced_stored(record, header, max_size) if reduced else None
    if stored is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the fast path reads tolerantly; errors fall back
            stored = decode_stored(record, frame=0, colour=True)
    display: NDArray[np.uint8]
    if is_colour(stored):
        try:
            display = rgb8(stored, colour_pipeline(header, stored).bits_stored)
        except ValueError as exc:  # e.g. 32-bit samples
            raise PixelDataError(record.path, str(exc)) from None
    elif stored.ndim == 2:
        pipeline = DisplayPipeline.from_dataset(header)
        display = pipeline.render(stored, choose_voi(pipeline, stored))
    else:
        raise PixelDataError(record.path, f"expected one frame, decoded shape {stored.shape}")
    thumbnail = _resize(display, thumbnail_shape(record.rows, record.columns, max_size))
    if hang:
        flip = hanging_flip(record.view, record.patient_orientation)
        if flip.horizontal:
            thumbnail = thumbnail[:, ::-1]
        if flip.vertical:
            thumbnail = thumbnail[::-1, :]
    return np.ascontiguousarray(thumbnail)


def thumbnail_in_worker(record: ImageRecord, max_size: int = THUMBNAIL_SIZE) -> NDArray[Any] | str:
    """Run :func:`render_thumbnail` in a worker process; never raises.

    Top-level and with picklable arguments, for
    :meth:`concurrent.futures.ProcessPoolExecutor.submit`.

    Returns
    -------
    numpy.ndarray or str
        The thumbnail, or the message of the :class:`PixelDataError` (rebuild it with
        ``PixelDataError(record.path, message)``).
    """
    try:
        return render_thumbnail(record, max_size)
    except PixelDataError as exc:
        return exc.message
    except Exception as exc:  # a bug must never take the worker down
        return f"unexpected error while making the thumbnail: {type(exc).__name__}: {exc}"


def _resize(display: NDArray[np.uint8], shape: tuple[int, int]) -> NDArray[np.uint8]:
    """Shrink display values to ``shape`` (rows, columns) as export does."""
    if display.shape[:2] == shape:
        return display
    image = Image.fromarray(np.ascontiguousarray(display))
    resized = image.resize((shape[1], shape[0]), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return np.asarray(resized, dtype=np.uint8)


def _reduced_stored(record: ImageRecord, header: Dataset, max_size: int) -> NDArray[Any] | None:
    """Decode a reduced resolution level of a JPEG 2000 image; None to decode it all.

    The values are approximate stored values (wavelet low-pass), in the stored range.
    """
    if (
        record.transfer_syntax_uid not in J2K_SYNTAXES
        or record.source.costly_seeks
        or str(header.get("PhotometricInterpretation", "")).strip()
        not in ("MONOCHROME1", "MONOCHROME2")
        or int(header.get("SamplesPerPixel", 1) or 1) != 1
        or int(header.get("PixelRepresentation", 0) or 0) != 0  # unsigned only
    ):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # reading is tolerant; errors fall back
            codestream = _first_codestream(record)
        size = read_codestream_size(codestream)
        if (
            size is None
            or (size.rows, size.columns) != (record.rows, record.columns)
            or size.components != 1
            or size.signed
        ):
            return None
        level = reduced_level(size.rows, size.columns, max_size, size.levels)
        if level == 0:
            return None
        # Approximate stored values (Pillow's widening undone), in the stored range.
        return decode_codestream_reduced(codestream, size, level)
    except Exception:  # let the full decode word any error
        return None


def _first_codestream(record: ImageRecord) -> bytes:
    """Return the JPEG 2000 codestream of the first frame (PS3.5 A.4)."""
    from pydicom import dcmread

    with record.source.open() as stream:
        ds = dcmread(stream, specific_tags=["PixelData", "NumberOfFrames"])
    frames = max(int(ds.get("NumberOfFrames", 1) or 1), 1)
    return bytes(next(generate_frames(ds.PixelData, number_of_frames=frames)))
