"""Overlay planes (60xx): read, placed on the image grid, drawn into display values (Qt-free).

An image may carry up to 16 Overlay Planes in the repeating groups 6000-601E (PS3.3
C.9.2, PS3.5 7.6): a 1-bit bitmap of Overlay Rows x Overlay Columns whose first point lies
at Overlay Origin (row, column; 1-based, may be < 1 or beyond the image: it is clipped),
of Overlay Type ``G`` (graphics) or ``R`` (region of interest). A multi-frame overlay
(Multi-frame Overlay, PS3.3 C.9.3) has Number of Frames in Overlay bitmaps applied to
the image frames from Image Frame Origin (1-based) on; an overlay without Number of
Frames in Overlay applies to every frame.

The bits are unpacked by pydicom (:meth:`pydicom.dataset.Dataset.overlay_array`).
:func:`burn_in` combines them with 8-bit display values as DCMTK's ``dcmj2pnm`` does by
default (all overlays shown, foreground density 1): graphics overlays *replace* the
display value with the maximum (255, white whatever the Photometric Interpretation);
ROI overlays keep the pixels inside the region and darken the rest of the overlay's
rectangle by 4 bits (value // 16). :func:`overlay_rgba` gives the same as a coloured
layer for the viewer.

Overlays embedded in the unused high bits of Pixel Data (Overlay Data absent; retired,
PS3.5 8.1.2) are not drawn: the usage was retired from the standard,
is not allowed with compressed transfer syntaxes, pydicom does not read it, and the
stored values the viewer decodes are those of Bits Stored only. Such a group is reported
in :attr:`OverlayPlanes.problems` instead.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from enum import Enum

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset

from galactoview.dicom.source import ImageSource

__all__ = [
    "OVERLAY_GROUPS",
    "OverlayPlane",
    "OverlayPlanes",
    "OverlayType",
    "burn_in",
    "overlay_rgba",
    "read_overlay_planes",
    "read_overlay_planes_of",
]

#: The 16 overlay groups 6000, 6002, ... 601E (PS3.5 7.6 repeating groups).
OVERLAY_GROUPS: tuple[int, ...] = tuple(range(0x6000, 0x6020, 2))

#: Bits an ROI overlay shifts the display values outside its region by (DCMTK's
#: "Region of Interest" mode: half the bits of the 8-bit output).
_ROI_DIM_BITS = 4


class OverlayType(Enum):
    """Overlay Type (60xx,0040), PS3.3 C.9.2.1.1."""

    G = "G"
    """Graphics: the bits set are drawn."""
    R = "R"
    """Region of interest: the bits set are the region."""


@dataclass(frozen=True)
class OverlayPlane:
    """One overlay plane of an image (PS3.3 C.9.2, C.9.3).

    Attributes
    ----------
    group
        Its group number, 0x6000 to 0x601E.
    overlay_type
        Overlay Type (60xx,0040); ``G`` when absent or unknown.
    origin
        Overlay Origin (60xx,0050): row and column of the bitmap's first point on the
        image, 1-based (``(1, 1)`` is the image's top-left pixel).
    bits
        The bitmap, bool, shape ``(frames, Overlay Rows, Overlay Columns)``.
    image_frame_origin
        Image Frame Origin (60xx,0051): the 1-based image frame of the first bitmap.
    all_frames
        True when Number of Frames in Overlay (60xx,0015) is absent: the single bitmap
        applies to every frame of the image.
    label
        Overlay Label (60xx,1500), ``""`` when absent.
    """

    group: int
    overlay_type: OverlayType
    origin: tuple[int, int]
    bits: NDArray[np.bool_]
    image_frame_origin: int = 1
    all_frames: bool = True
    label: str = ""

    def frame_bits(self, frame: int) -> NDArray[np.bool_] | None:
        """Return the bitmap that applies to a 1-based image frame, None if none does."""
        index = 0 if self.all_frames else frame - self.image_frame_origin
        if not 0 <= index < self.bits.shape[0]:
            return None
        bits: NDArray[np.bool_] = self.bits[index]
        return bits

    def placed(
        self, frame: int, shape: tuple[int, int]
    ) -> tuple[NDArray[np.bool_], tuple[slice, slice]] | None:
        """Return the bitmap of a frame clipped to an image and where it goes on it.

        Parameters
        ----------
        frame
            1-based image frame.
        shape
            The image's ``(Rows, Columns)``.

        Returns
        -------
        tuple or None
            The clipped bits and the ``(rows, columns)`` slices of the image they
            cover; None when no bitmap applies to the frame or it lies off the image.
        """
        bits = self.frame_bits(frame)
        if bits is None:
            return None
        top, left = self.origin[0] - 1, self.origin[1] - 1
        height, width = bits.shape
        rows, columns = shape
        r0, c0 = max(top, 0), max(left, 0)
        r1, c1 = min(top + height, rows), min(left + width, columns)
        if r0 >= r1 or c0 >= c1:
            return None
        clipped = bits[r0 - top : r1 - top, c0 - left : c1 - left]
        return clipped, (slice(r0, r1), slice(c0, c1))


@dataclass(frozen=True)
class OverlayPlanes:
    """The overlay planes of an image and what could not be read.

    Attributes
    ----------
    planes
        The planes read, in group order.
    problems
        One line per group not drawn, e.g. ``overlay 6002: ...``.
    """

    planes: tuple[OverlayPlane, ...] = ()
    problems: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        """Whether there is any plane to draw."""
        return bool(self.planes)


def read_overlay_planes(ds: Dataset) -> OverlayPlanes:
    """Read every overlay plane of a dataset (PS3.3 C.9.2, C.9.3).

    Parameters
    ----------
    ds
        A dataset; the header (read ``stop_before_pixels``) is enough, since Overlay
        Data (60xx,3000) comes before Pixel Data. It is not modified.

    Returns
    -------
    OverlayPlanes
        Never raises: a group that cannot be drawn (no Overlay Data, a missing or
        malformed Overlay Origin / Rows / Columns, data shorter than they say) is one
        line in ``problems``.
    """
    tags = ds.keys()  # the tags only: iterating the dataset would convert every element
    present = sorted({tag.group for tag in tags if tag.group in _GROUP_SET})
    planes: list[OverlayPlane] = []
    problems: list[str] = []
    for group in present:
        try:
            planes.append(_read_plane(ds, group))
        except _OverlayError as exc:
            problems.append(f"overlay {group:04X}: {exc}")
        except Exception as exc:  # a malformed value pydicom trips on
            text = str(exc).strip().splitlines()
            problems.append(f"overlay {group:04X}: cannot be read ({text[0] if text else exc!r})")
    return OverlayPlanes(tuple(planes), tuple(problems))


def burn_in(
    display: NDArray[np.uint8], planes: OverlayPlanes | tuple[OverlayPlane, ...], frame: int = 1
) -> NDArray[np.uint8]:
    """Draw overlay planes into 8-bit display values, as DCMTK ``dcmj2pnm`` does by default.

    Each plane, in group order: a graphics (``G``) plane sets its bits to 255 (DCMTK's
    "Replace" mode, foreground density 1); an ROI (``R``) plane divides the values of its
    rectangle outside the region by 16 (DCMTK's "Region of Interest" mode). Bitmaps are
    placed by Overlay Origin and clipped to the image (:meth:`OverlayPlane.placed`).

    Parameters
    ----------
    display
        uint8, ``(rows, columns)`` grayscale or ``(rows, columns, 3)`` RGB (every
        channel treated alike). It is not modified.
    planes
        The planes (:func:`read_overlay_planes`).
    frame
        The 1-based image frame shown.

    Returns
    -------
    numpy.ndarray
        A copy with the overlays drawn (`display` itself when there is none).
    """
    items = planes.planes if isinstance(planes, OverlayPlanes) else planes
    shape = (int(display.shape[0]), int(display.shape[1]))
    out = display
    for plane in items:
        placed = plane.placed(frame, shape)
        if placed is None:
            continue
        if out is display:
            out = display.copy()
        bits, (rows, columns) = placed
        region = out[rows, columns]
        if plane.overlay_type is OverlayType.R:
            region[~bits] >>= _ROI_DIM_BITS
        else:
            region[bits] = 255
    return out


def overlay_rgba(
    planes: OverlayPlanes | tuple[OverlayPlane, ...],
    frame: int,
    shape: tuple[int, int],
    colour: tuple[int, int, int] = (255, 255, 0),
) -> tuple[NDArray[np.uint8], tuple[int, int]] | None:
    """Return the overlays of a frame as an RGBA layer to draw over the image (viewer).

    Graphics bits are `colour`, opaque; outside an ROI plane's region (in its
    rectangle) the layer is black at 15/16 opacity, the darkening :func:`burn_in` does.
    The layer covers only the rectangle of the image the planes touch.

    Parameters
    ----------
    planes
        The planes (:func:`read_overlay_planes`).
    frame
        The 1-based image frame shown.
    shape
        The image's ``(Rows, Columns)``.
    colour
        RGB of the graphics bits.

    Returns
    -------
    tuple or None
        The layer (uint8, ``(rows, columns, 4)``, transparent where nothing is drawn)
        and the image ``(row, column)`` of its top-left pixel; None when no plane
        applies to the frame.
    """
    items = planes.planes if isinstance(planes, OverlayPlanes) else planes
    placed = [(plane, p) for plane in items if (p := plane.placed(frame, shape)) is not None]
    if not placed:
        return None
    top = min(where[0].start for _, (_, where) in placed)
    left = min(where[1].start for _, (_, where) in placed)
    bottom = max(where[0].stop for _, (_, where) in placed)
    right = max(where[1].stop for _, (_, where) in placed)
    layer = np.zeros((bottom - top, right - left, 4), dtype=np.uint8)
    for plane, (bits, (rows, columns)) in placed:
        region = layer[
            rows.start - top : rows.stop - top, columns.start - left : columns.stop - left
        ]
        if plane.overlay_type is OverlayType.R:
            region[~bits] = (0, 0, 0, 255 - 255 // (1 << _ROI_DIM_BITS))
        else:
            region[bits] = (*colour, 255)
    return layer, (top, left)


_GROUP_SET = frozenset(OVERLAY_GROUPS)


class _OverlayError(Exception):
    """A group cannot be drawn; the message says why, in one line."""


def _read_plane(ds: Dataset, group: int) -> OverlayPlane:
    """Read one overlay group (PS3.3 C.9.2.1, C.9.3.1)."""
    if (group, 0x3000) not in ds:
        if (group, 0x0010) in ds:
            raise _OverlayError(
                "no Overlay Data: bits embedded in the Pixel Data (retired, PS3.5 8.1.2)"
                " are not drawn"
            )
        raise _OverlayError("no Overlay Data (60xx,3000)")
    rows = _int(ds, group, 0x0010, "Overlay Rows")
    columns = _int(ds, group, 0x0011, "Overlay Columns")
    if rows < 1 or columns < 1:
        raise _OverlayError(f"Overlay Rows/Columns {rows}x{columns} is empty")
    allocated = _int(ds, group, 0x0100, "Overlay Bits Allocated")
    if allocated != 1:
        raise _OverlayError(f"Overlay Bits Allocated {allocated} (must be 1 with Overlay Data)")
    origin = _values(ds, group, 0x0050, "Overlay Origin")
    if len(origin) != 2:
        raise _OverlayError(f"Overlay Origin has {len(origin)} value(s), expected row\\column")
    frames_element = ds.get((group, 0x0015))
    all_frames = frames_element is None or frames_element.value in (None, "")
    frames = 1 if all_frames else _int(ds, group, 0x0015, "Number of Frames in Overlay")
    if frames < 1:
        raise _OverlayError(f"Number of Frames in Overlay is {frames}")
    frame_origin = 1
    if (group, 0x0051) in ds and ds[group, 0x0051].value not in (None, ""):
        frame_origin = _int(ds, group, 0x0051, "Image Frame Origin")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # excess padding is tolerated
        try:
            array = ds.overlay_array(group)
        except ValueError as exc:
            raise _OverlayError(str(exc).split(". ")[0]) from exc
    bits = np.asarray(array, dtype=bool).reshape(frames, rows, columns)
    label = ds.get((group, 0x1500))
    overlay_type = str(ds[group, 0x0040].value).strip() if (group, 0x0040) in ds else "G"
    return OverlayPlane(
        group=group,
        overlay_type=OverlayType.R if overlay_type == "R" else OverlayType.G,
        origin=(origin[0], origin[1]),
        bits=bits,
        image_frame_origin=frame_origin,
        all_frames=all_frames,
        label=str(label.value) if label is not None and label.value else "",
    )


def _values(ds: Dataset, group: int, element: int, name: str) -> list[int]:
    """Return an element's values as integers; raises :class:`_OverlayError`."""
    if (group, element) not in ds:
        raise _OverlayError(f"no {name} ({group:04X},{element:04X})")
    value = ds[group, element].value
    items = [value] if isinstance(value, str | bytes | int | float) else list(value or ())
    try:
        return [int(str(item)) for item in items]
    except ValueError:
        raise _OverlayError(f"{name} is not an integer: {value!r}") from None


def _int(ds: Dataset, group: int, element: int, name: str) -> int:
    """Return an element's first value as an integer; raises :class:`_OverlayError`."""
    return _values(ds, group, element, name)[0]


def read_overlay_planes_of(source: ImageSource) -> OverlayPlanes:
    """Read the overlay planes of an image from its header (any thread; never raises).

    Parameters
    ----------
    source
        Where the image is read from; only its header (before Pixel Data) is read.

    Returns
    -------
    OverlayPlanes
        Its planes; a header that cannot be read is one line in ``problems``.
    """
    try:
        header = source.read_header()
    except Exception as exc:  # the loader's errors, OSError, zipfile's: all one line
        text = str(exc).strip().splitlines()
        return OverlayPlanes(problems=(f"overlays not read: {text[0] if text else exc!r}",))
    return read_overlay_planes(header)
