"""Grayscale display pipeline: stored pixel value → 8-bit display value (PS3.3 C.11).

The chain is stored value → Modality LUT (PS3.3 C.11.1) → VOI LUT or window (PS3.3 C.11.2)
→ Presentation LUT Shape (PS3.3 C.11.6) → display value, where 0 is black and 255 is white.
Every step is evaluated once per possible stored value, so a :meth:`DisplayPipeline.lut`
has ``2**bits_stored`` entries and rendering any image is a single indexing operation.

This module never imports Qt; it is pure numpy and pydicom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

import numpy as np
import pydicom
from numpy.typing import NDArray

from galactoview.dicom.functional_groups import frame_view

__all__ = [
    "DisplayPipeline",
    "ModalityLut",
    "PresentationLutShape",
    "VoiLut",
    "VoiLutFunction",
    "Window",
    "auto_window",
]

_WHITE = 255.0
#: Smallest width accepted by :meth:`Window.with_center_width` for each function: LINEAR needs
#: ``width >= 1`` (PS3.3 C.11.2.1.2.1), the others only ``width > 0`` (PS3.3 C.11.2.1.3).
_MIN_WIDTH = {"LINEAR": 1.0, "LINEAR_EXACT": 1e-6, "SIGMOID": 1e-6}


class VoiLutFunction(StrEnum):
    """(0028,1056) VOI LUT Function, PS3.3 C.11.2.1.3; absent means LINEAR."""

    LINEAR = "LINEAR"
    LINEAR_EXACT = "LINEAR_EXACT"
    SIGMOID = "SIGMOID"


class PresentationLutShape(StrEnum):
    """(2050,0020) Presentation LUT Shape, PS3.3 C.11.6; INVERSE means invert."""

    IDENTITY = "IDENTITY"
    INVERSE = "INVERSE"


@dataclass(frozen=True, slots=True)
class Window:
    """A VOI window (Window Center / Width) in modality units, PS3.3 C.11.2.1.2.

    Parameters
    ----------
    center, width : float
        Window Center (0028,1050) and Window Width (0028,1051). ``width >= 1`` for LINEAR
        (PS3.3 C.11.2.1.2.1), ``width > 0`` for LINEAR_EXACT and SIGMOID (PS3.3 C.11.2.1.3).
    function : VoiLutFunction
        VOI LUT Function (0028,1056); a plain string is normalised to the enum.
    explanation : str
        Window Center & Width Explanation (0028,1055).

    Raises
    ------
    ValueError
        If center or width is not finite, the width is too small, or the function is unknown.
    """

    center: float
    width: float
    function: VoiLutFunction = VoiLutFunction.LINEAR
    explanation: str = ""

    def __post_init__(self) -> None:
        function = VoiLutFunction(self.function)
        center, width = float(self.center), float(self.width)
        if not (math.isfinite(center) and math.isfinite(width)):
            raise ValueError(f"window center {center} / width {width} must be finite")
        if function is VoiLutFunction.LINEAR and width < 1.0:
            raise ValueError(f"LINEAR window width must be >= 1, got {width:g}")
        if width <= 0.0:
            raise ValueError(f"{function} window width must be > 0, got {width:g}")
        object.__setattr__(self, "function", function)
        object.__setattr__(self, "center", center)
        object.__setattr__(self, "width", width)
        object.__setattr__(self, "explanation", str(self.explanation))

    def with_center_width(self, center: float, width: float) -> Window:
        """Return a copy with a new center and width, keeping function and explanation.

        A width below the minimum valid value (1 for LINEAR, 1e-6 otherwise) is clamped to it.
        """
        return Window(
            center, max(width, _MIN_WIDTH[self.function]), self.function, self.explanation
        )

    def _apply(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Map modality values to 0..255 (float), PS3.3 C.11.2.1.2.1 and C.11.2.1.3."""
        c, w = self.center, self.width
        if self.function is VoiLutFunction.SIGMOID:  # PS3.3 C.11.2.1.3.1
            with np.errstate(over="ignore"):
                return _WHITE / (1.0 + np.exp(-4.0 * (x - c) / w))
        if self.function is VoiLutFunction.LINEAR_EXACT:  # PS3.3 C.11.2.1.3.2
            return np.clip((x - c) / w + 0.5, 0.0, 1.0) * _WHITE
        # PS3.3 C.11.2.1.2.1 LINEAR: x <= c - 0.5 - (w-1)/2 -> ymin, x > c - 0.5 + (w-1)/2 -> ymax
        if w == 1.0:
            return np.where(x > c - 0.5, _WHITE, 0.0)
        return np.clip((x - (c - 0.5)) / (w - 1.0) + 0.5, 0.0, 1.0) * _WHITE


@dataclass(frozen=True, slots=True, eq=False)
class _LutTable:
    """A LUT Descriptor (0028,3002) plus LUT Data (0028,3006), PS3.3 C.11.1.1.1 / C.11.2.1.1.

    Equality and hashing compare the table contents (a numpy field defeats the generated ones).
    """

    first_mapped: int
    bits: int
    data: NDArray[np.integer[Any]]

    def __post_init__(self) -> None:
        data = np.array(self.data, dtype=np.int64)
        if data.ndim != 1 or data.size == 0:
            raise ValueError("LUT data must be a non-empty 1-D sequence")
        if not 1 <= self.bits <= 16:
            raise ValueError(f"LUT bits per entry must be 1..16, got {self.bits}")
        if not -(2**15) <= self.first_mapped < 2**16:
            raise ValueError(f"first mapped value {self.first_mapped} is out of range")
        if data.min() < 0 or data.max() >= 2**self.bits:
            raise ValueError(f"LUT data do not fit in {self.bits} bits")
        data = data.astype(np.uint16)
        data.setflags(write=False)
        object.__setattr__(self, "data", data)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(_same(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))

    def __hash__(self) -> int:
        return hash(tuple(_hashable(getattr(self, f.name)) for f in fields(self)))

    def _lookup(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Table value for each input; inputs outside the table take the first / last entry."""
        index = np.clip(np.rint(x) - self.first_mapped, 0, self.data.size - 1).astype(np.intp)
        values: NDArray[np.float64] = np.take(self.data, index).astype(np.float64)
        return values


@dataclass(frozen=True, slots=True, eq=False)
class VoiLut(_LutTable):
    """One item of VOI LUT Sequence (0028,3010), PS3.3 C.11.2.1.1; output 0..2**bits-1."""

    explanation: str = ""


@dataclass(frozen=True, slots=True, eq=False)
class ModalityLut(_LutTable):
    """The item of Modality LUT Sequence (0028,3000), PS3.3 C.11.1.1.1.

    Its output (unsigned, 0..2**bits-1) are modality values; it replaces Rescale Slope and
    Intercept when present.
    """

    lut_type: str = ""
    explanation: str = ""


def _same(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return bool(np.array_equal(a, b))
    return a == b


def _hashable(value: object) -> object:
    return value.tobytes() if isinstance(value, np.ndarray) else value


@dataclass(frozen=True, slots=True)
class DisplayPipeline:
    """Everything needed to turn stored values of one grayscale image into display values.

    Parameters
    ----------
    bits_stored : int
        Bits Stored (0028,0101), 1..16.
    pixel_representation : int
        Pixel Representation (0028,0103): 0 unsigned, 1 two's complement.
    rescale_slope, rescale_intercept : float
        Rescale Slope / Intercept (0028,1053) / (0028,1052), PS3.3 C.11.1; ignored when
        `modality_lut` is set.
    modality_lut : ModalityLut or None
        First item of Modality LUT Sequence (0028,3000), PS3.3 C.11.1.
    rescale_type : str
        Rescale Type (0028,1054), PS3.3 C.11.1.1.2: the units of the modality values
        (``"US"`` unspecified); ``""`` when absent.
    windows : tuple of Window
        Windows from the VOI LUT module, in file order (PS3.3 C.11.2).
    voi_luts : tuple of VoiLut
        Items of VOI LUT Sequence (0028,3010).
    invert : bool
        Whether display values are inverted (255 - y), resolved once; see :meth:`from_dataset`.
    problems : tuple of str
        Human-readable notes about missing, bad or ignored header values.
    """

    bits_stored: int
    pixel_representation: int
    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0
    modality_lut: ModalityLut | None = None
    rescale_type: str = ""
    windows: tuple[Window, ...] = ()
    voi_luts: tuple[VoiLut, ...] = ()
    invert: bool = False
    problems: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.bits_stored <= 16:
            raise ValueError(f"bits_stored must be 1..16, got {self.bits_stored}")
        if self.pixel_representation not in (0, 1):
            raise ValueError(
                f"pixel_representation must be 0 or 1, got {self.pixel_representation}"
            )
        slope, intercept = float(self.rescale_slope), float(self.rescale_intercept)
        if not (math.isfinite(slope) and slope != 0.0 and math.isfinite(intercept)):
            raise ValueError(f"bad rescale slope {slope} / intercept {intercept}")
        object.__setattr__(self, "rescale_slope", slope)
        object.__setattr__(self, "rescale_intercept", intercept)
        for name in ("windows", "voi_luts", "problems"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    @classmethod
    def from_dataset(cls, ds: pydicom.Dataset, frame: int = 0) -> DisplayPipeline:
        """Build the pipeline of one frame from a (possibly header-only) dataset.

        Never raises on bad values. For an enhanced multi-frame image the frame's
        functional groups win over the shared ones, which win over the top level
        (PS3.3 C.7.6.16; :func:`~galactoview.dicom.functional_groups.frame_view`):
        Pixel Value Transformation (C.7.6.16.2.9) gives the rescale and Frame VOI LUT
        (C.7.6.16.2.10) the windows and VOI LUT Function of frame ``frame`` (from 0).

        Bad or missing values fall back to defaults and add a message to ``problems``:
        an invalid window (non-numeric, width 0, ...) is dropped, surplus Window Center /
        Width values without a partner are ignored, an unknown VOI LUT Function means
        LINEAR (PS3.3 C.11.2.1.3), and an unusable LUT item is skipped.

        Inversion is decided exactly once (PS3.3 C.8.11.6 / C.11.6): when Presentation LUT
        Shape (2050,0020) is present it decides alone (INVERSE inverts), because in DX/MG
        MONOCHROME1 comes with INVERSE and that INVERSE *is* the MONOCHROME1 inversion;
        applying both would invert twice. When it is absent (or not IDENTITY/INVERSE),
        MONOCHROME1 inverts and MONOCHROME2 does not (PS3.3 C.7.6.3.1.2).
        """
        view = frame_view(ds, frame)
        ds = view.dataset
        problems: list[str] = list(view.problems)
        bits_stored = _read_int(ds, "BitsStored", problems)
        if bits_stored is None or not 1 <= bits_stored <= 16:
            allocated = _read_int(ds, "BitsAllocated", [])
            fallback = allocated if allocated is not None and 1 <= allocated <= 16 else 16
            problems.append(f"Bits Stored {bits_stored} unusable; using {fallback}")
            bits_stored = fallback
        read_rep = _read_int(ds, "PixelRepresentation", problems)
        pixel_rep = read_rep if read_rep in (0, 1) else 0
        if read_rep != pixel_rep:
            problems.append(f"Pixel Representation {read_rep} unusable; using 0 (unsigned)")
        signed = pixel_rep == 1

        slope, intercept = _read_rescale(ds, problems)
        modality_lut = None
        for item in _sequence(ds, "ModalityLUTSequence", problems)[:1]:
            try:
                first, bits, data = _read_lut(item, ds, signed, problems)
                modality_lut = ModalityLut(
                    first, bits, data, str(item.get("ModalityLUTType", "")), _lut_text(item)
                )
            except Exception as exc:  # a bad LUT item must never stop the display
                problems.append(f"Modality LUT Sequence ignored: {exc}")
        if modality_lut is not None and ("RescaleSlope" in ds or "RescaleIntercept" in ds):
            problems.append("both Modality LUT Sequence and Rescale present; Rescale ignored")
            slope, intercept = 1.0, 0.0

        voi_luts: list[VoiLut] = []
        for number, item in enumerate(_sequence(ds, "VOILUTSequence", problems), start=1):
            try:
                first, bits, data = _read_lut(item, ds, signed, problems)
                voi_luts.append(VoiLut(first, bits, data, _lut_text(item)))
            except Exception as exc:  # a bad LUT item must never stop the display
                problems.append(f"VOI LUT {number} ignored: {exc}")

        return cls(
            bits_stored=bits_stored,
            pixel_representation=pixel_rep,
            rescale_slope=slope,
            rescale_intercept=intercept,
            modality_lut=modality_lut,
            rescale_type=" ".join(str(v) for v in _values(ds, "RescaleType", problems)).strip(),
            windows=_read_windows(ds, problems),
            voi_luts=tuple(voi_luts),
            invert=_resolve_invert(ds, problems),
            problems=tuple(problems),
        )

    @property
    def stored_range(self) -> tuple[int, int]:
        """Smallest and largest stored value allowed by Bits Stored and Pixel Representation."""
        if self.pixel_representation == 1:
            return -(2 ** (self.bits_stored - 1)), 2 ** (self.bits_stored - 1) - 1
        return 0, 2**self.bits_stored - 1

    def default_voi(self) -> Window | VoiLut | None:
        """First window, else first VOI LUT, else None (full modality range)."""
        if self.windows:
            return self.windows[0]
        return self.voi_luts[0] if self.voi_luts else None

    def lut(self, voi: Window | VoiLut | None) -> NDArray[np.uint8]:
        """Display value of every stored value; entry i is for ``stored_range[0] + i``.

        Parameters
        ----------
        voi : Window, VoiLut or None
            VOI transform (PS3.3 C.11.2). A VOI LUT output is scaled from 0..2**bits-1 to
            0..255; None maps the full modality value range linearly onto 0..255.

        Returns
        -------
        numpy.ndarray
            uint8 array of length ``2**bits_stored``, inverted if ``invert`` (PS3.3 C.11.6).
        """
        x = self._modality_table()
        if isinstance(voi, Window):
            y = voi._apply(x)
        elif isinstance(voi, VoiLut):
            y = voi._lookup(x) * (_WHITE / (2**voi.bits - 1))
        else:
            low, high = float(x.min()), float(x.max())
            y = (x - low) * (_WHITE / (high - low)) if high > low else np.zeros_like(x)
        out = np.clip(np.rint(y), 0.0, _WHITE).astype(np.uint8)
        return np.subtract(np.uint8(255), out) if self.invert else out

    def render(self, stored: NDArray[Any], voi: Window | VoiLut | None) -> NDArray[np.uint8]:
        """Display values (uint8, same shape) of an array of stored values.

        This is ``lut(voi)[lut_indices(stored)]``: integer input is reduced to its low
        ``bits_stored`` bits (PS3.5 8.1.1: higher bits are not part of the value), which also
        accepts signed values that were not sign-extended; other input is rounded and clipped
        to ``stored_range`` (see :meth:`lut_indices`).
        """
        return np.take(self.lut(voi), self.lut_indices(stored))

    def modality_values(self, stored: NDArray[Any]) -> NDArray[np.float64]:
        """Modality values (float64, same shape) of stored values, for pixel readouts."""
        return np.take(self._modality_table(), self.lut_indices(stored))

    def _modality_table(self) -> NDArray[np.float64]:
        """Modality value of every stored value, PS3.3 C.11.1."""
        low, high = self.stored_range
        stored = np.arange(low, high + 1, dtype=np.float64)
        if self.modality_lut is not None:
            return self.modality_lut._lookup(stored)
        return stored * self.rescale_slope + self.rescale_intercept

    def lut_indices(self, stored: NDArray[Any]) -> NDArray[np.uint16]:
        """Index into :meth:`lut` (and the modality table) of each stored value.

        Entry ``i`` of a LUT is for stored value ``stored_range[0] + i``, so the index is the
        stored value minus the smallest one. Integer input is taken modulo ``2**bits_stored``
        (PS3.5 8.1.1: bits above Bits Stored are not part of the value; for signed data this
        is two's-complement arithmetic, so values that were not sign-extended index correctly
        too). Other input (float) is rounded, NaN taken as the smallest value, and clipped to
        ``stored_range``. :meth:`render` is ``lut(voi)[lut_indices(stored)]``; a viewer can
        upload these indices once and change only the LUT when the window changes.

        Parameters
        ----------
        stored : numpy.ndarray
            Stored values, any shape, any integer, boolean or floating dtype.

        Returns
        -------
        numpy.ndarray
            uint16 indices in ``0 .. 2**bits_stored - 1``, same shape as `stored`. It may be
            `stored` itself (when it is uint16 and needs no change): treat it as read-only.
        """
        arr = np.asarray(stored)
        low, high = self.stored_range
        if arr.dtype.kind not in "biu":
            values = np.nan_to_num(np.rint(arr.astype(np.float64)), nan=low)
            clipped: NDArray[np.uint16] = (np.clip(values, low, high) - low).astype(np.uint16)
            return clipped
        # Arithmetic modulo 2**16 is exact here: the result keeps at most 16 low bits, and
        # casting any integer to uint16 keeps its 16 low bits (two's complement).
        index: NDArray[np.uint16] = arr.astype(np.uint16, copy=False)
        if low:
            index = index + np.uint16(-low % 2**16)
        if self.bits_stored < 16:
            index = index & np.uint16((1 << self.bits_stored) - 1)
        return index


def auto_window(
    pipeline: DisplayPipeline,
    stored: NDArray[Any],
    function: VoiLutFunction = VoiLutFunction.LINEAR,
) -> Window:
    """Mammography-aware automatic window over the tissue, explanation ``"AUTO"``.

    Method: histogram the stored values of every 4th row and column. Direct-exposure
    background and collimated areas show up as tall, narrow peaks at the ends of the occupied
    value range. On a histogram of at most 256 coarse bins (smoothed 1-2-1), a peak within the
    outer fifth of the range at either end that is at least 5 times the mean populated-bin
    count is treated as background; it is removed together with everything beyond it and
    its descending flank inward (until a valley or the mean bin count). The window then spans
    the 1st to 99.5th percentile of the remaining pixels, mapped to modality values. For
    LINEAR and LINEAR_EXACT these bounds map to 0 and 255; SIGMOID is centred on them with
    the width equal to their distance.
    """
    arr = np.atleast_1d(np.asarray(stored))
    sample = arr[..., ::4, ::4] if arr.ndim >= 2 else arr[::4]
    index = pipeline.lut_indices(sample).ravel()
    table = pipeline._modality_table()
    hist = np.bincount(index, minlength=table.size)
    if hist.sum() == 0:
        low, high = 0, table.size - 1
    else:
        first, last = _tissue_range(hist)
        cumulative = np.cumsum(hist[first : last + 1])
        low = first + int(np.searchsorted(cumulative, cumulative[-1] * 0.01))
        high = first + int(np.searchsorted(cumulative, cumulative[-1] * 0.995))
    lo_value, hi_value = float(table[low : high + 1].min()), float(table[low : high + 1].max())
    if function is VoiLutFunction.LINEAR:
        center, width = (lo_value + hi_value) / 2 + 0.5, hi_value - lo_value + 1
    else:
        center, width = (lo_value + hi_value) / 2, hi_value - lo_value
    return Window(center, max(width, _MIN_WIDTH[function]), function, "AUTO")


def _tissue_range(hist: NDArray[np.integer[Any]]) -> tuple[int, int]:
    """Inclusive index range of `hist` left after removing background peaks at both ends."""
    occupied = np.flatnonzero(hist)
    first, last = int(occupied[0]), int(occupied[-1])
    span = last - first + 1
    n_bins = min(256, span)
    edges = first + (np.arange(n_bins + 1) * span) // n_bins
    coarse = np.add.reduceat(hist[first : last + 1], edges[:-1] - first).astype(np.float64)
    smooth = np.convolve(coarse, [0.25, 0.5, 0.25], mode="same")
    typical = coarse.sum() / np.count_nonzero(coarse)
    band = max(n_bins // 5, 1)
    keep_lo, keep_hi = 0, n_bins - 1
    peak = int(np.argmax(smooth[:band]))
    if smooth[peak] >= 5 * typical:
        q = peak
        while q + 1 < keep_hi and smooth[q] > typical and smooth[q + 1] <= smooth[q]:
            q += 1
        keep_lo = q + 1
    peak = n_bins - band + int(np.argmax(smooth[n_bins - band :]))
    if peak > keep_lo and smooth[peak] >= 5 * typical:
        q = peak
        while q - 1 > keep_lo and smooth[q] > typical and smooth[q - 1] <= smooth[q]:
            q -= 1
        keep_hi = q - 1
    if keep_lo > keep_hi or not hist[edges[keep_lo] : edges[keep_hi + 1]].any():
        return first, last
    return int(edges[keep_lo]), int(edges[keep_hi + 1]) - 1


# --- tolerant header reading -------------------------------------------------------------


def _values(ds: pydicom.Dataset, keyword: str, problems: list[str]) -> list[Any]:
    """All values of an element as a list ([] if absent or unreadable)."""
    try:
        value = ds.get(keyword)
    except Exception as exc:  # pydicom may raise anything while converting a raw value
        problems.append(f"{keyword} unreadable: {exc}")
        return []
    if value is None:
        return []
    if isinstance(value, str | bytes) or not hasattr(value, "__len__"):
        return [value]
    return list(value)


def _read_numbers(ds: pydicom.Dataset, keyword: str, problems: list[str]) -> list[float | None]:
    """Values of a numeric element; a non-numeric or non-finite value becomes None."""
    numbers: list[float | None] = []
    for value in _values(ds, keyword, problems):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number):
            problems.append(f"{keyword} value {value!r} is not a number")
            numbers.append(None)
        else:
            numbers.append(number)
    return numbers


def _read_int(ds: pydicom.Dataset, keyword: str, problems: list[str]) -> int | None:
    numbers = _read_numbers(ds, keyword, problems)
    if not numbers:
        problems.append(f"{keyword} missing")
        return None
    number = numbers[0]
    return int(number) if number is not None and number.is_integer() else None


def _read_rescale(ds: pydicom.Dataset, problems: list[str]) -> tuple[float, float]:
    """Rescale Slope and Intercept, PS3.3 C.11.1; defaults 1 and 0."""
    slopes = _read_numbers(ds, "RescaleSlope", problems)
    intercepts = _read_numbers(ds, "RescaleIntercept", problems)
    slope = slopes[0] if slopes else 1.0
    intercept = intercepts[0] if intercepts else 0.0
    if slope is None or slope == 0.0:
        problems.append(f"Rescale Slope {slope} unusable; using 1")
        slope = 1.0
    if intercept is None:
        problems.append("Rescale Intercept unusable; using 0")
        intercept = 0.0
    return slope, intercept


def _read_windows(ds: pydicom.Dataset, problems: list[str]) -> tuple[Window, ...]:
    """Windows from Window Center / Width / Explanation and VOI LUT Function, PS3.3 C.11.2."""
    centers = _read_numbers(ds, "WindowCenter", problems)
    widths = _read_numbers(ds, "WindowWidth", problems)
    texts = [str(text) for text in _values(ds, "WindowCenterWidthExplanation", problems)]
    if len(centers) != len(widths):
        problems.append(
            f"{len(centers)} Window Center but {len(widths)} Window Width values; "
            f"using the first {min(len(centers), len(widths))}"
        )
    names = _values(ds, "VOILUTFunction", problems)
    name = str(names[0]).strip().upper() if names else "LINEAR"
    if name not in VoiLutFunction.__members__:
        problems.append(f"VOI LUT Function {name!r} unknown; using LINEAR")
        name = "LINEAR"
    windows: list[Window] = []
    for number, (center, width) in enumerate(zip(centers, widths, strict=False), start=1):
        if center is None or width is None:
            problems.append(f"window {number} ignored: not numeric")
            continue
        text = texts[number - 1] if number <= len(texts) else ""
        try:
            windows.append(Window(center, width, VoiLutFunction(name), text))
        except ValueError as exc:
            problems.append(f"window {number} ignored: {exc}")
    return tuple(windows)


def _resolve_invert(ds: pydicom.Dataset, problems: list[str]) -> bool:
    """Whether to invert, decided once; see :meth:`DisplayPipeline.from_dataset`."""
    photometric = "".join(str(v) for v in _values(ds, "PhotometricInterpretation", problems))
    photometric = photometric.strip().upper()
    if photometric not in ("MONOCHROME1", "MONOCHROME2"):
        problems.append(f"Photometric Interpretation {photometric!r}: treated as MONOCHROME2")
        photometric = "MONOCHROME2"
    shapes = _values(ds, "PresentationLUTShape", problems)
    shape = str(shapes[0]).strip().upper() if shapes else ""
    if shape in PresentationLutShape.__members__:
        # PS3.3 C.8.11.6 / C.11.6: the shape already accounts for MONOCHROME1.
        expected = "INVERSE" if photometric == "MONOCHROME1" else "IDENTITY"
        if shape != expected:
            problems.append(f"{photometric} with Presentation LUT Shape {shape}; following {shape}")
        return shape == PresentationLutShape.INVERSE
    if shape:
        problems.append(f"Presentation LUT Shape {shape!r} unknown; ignored")
    return photometric == "MONOCHROME1"  # PS3.3 C.7.6.3.1.2


def _sequence(ds: pydicom.Dataset, keyword: str, problems: list[str]) -> list[pydicom.Dataset]:
    return [item for item in _values(ds, keyword, problems) if isinstance(item, pydicom.Dataset)]


def _lut_text(item: pydicom.Dataset) -> str:
    """LUT Explanation (0028,3003)."""
    return str(item.get("LUTExplanation", "") or "")


def _read_lut(
    item: pydicom.Dataset, ds: pydicom.Dataset, signed: bool, problems: list[str]
) -> tuple[int, int, NDArray[np.int64]]:
    """First mapped value, bits per entry and data of a LUT item (PS3.3 C.11.1.1.1 / C.11.2.1.1).

    The first mapped value is read as SS when Pixel Representation is 1, else US. OW data
    (bytes) are decoded as 16-bit words in the dataset's byte order (default little endian).
    """
    descriptor = [int(v) for v in _values(item, "LUTDescriptor", problems)]
    if len(descriptor) != 3:
        raise ValueError(f"LUT Descriptor {descriptor} must have 3 values")
    entries, first, bits = descriptor
    entries = entries % 2**16 or 2**16  # 0 means 65536; undo an SS misreading
    if signed and first >= 2**15:  # US-decoded SS value, PS3.3 C.11.2.1.1
        first -= 2**16
    elif not signed and first < 0:  # SS-decoded US value
        first += 2**16
    raw = item.get("LUTData")
    if isinstance(raw, bytes):
        little = ds.original_encoding[1]
        if little is None and "TransferSyntaxUID" in getattr(ds, "file_meta", {}):
            little = ds.file_meta.TransferSyntaxUID.is_little_endian
        dtype: np.dtype[Any] = np.dtype("<u2" if little in (None, True) else ">u2")
        if bits <= 8 and len(raw) == entries:  # one byte per entry
            dtype = np.dtype("u1")
        words = np.frombuffer(raw[: len(raw) // dtype.itemsize * dtype.itemsize], dtype=dtype)
        data = words.astype(np.int64)
    else:
        data = np.atleast_1d(np.asarray(raw if raw is not None else [], dtype=np.int64))
    if data.size < entries:
        problems.append(f"LUT has {data.size} entries, descriptor says {entries}")
    data = data[:entries]
    if data.size and (data.min() < 0 or data.max() >= 2**bits) and 1 <= bits <= 16:
        problems.append(f"LUT data exceed {bits} bits; clipped")
        data = np.clip(data, 0, 2**bits - 1)
    return first, bits, data
