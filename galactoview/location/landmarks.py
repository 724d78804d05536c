"""Automatic nipple and chest-wall suggestions from a mammogram's pixels (Qt-free).

The radiologist confirms or moves both; these are starting points:

* :func:`suggest_nipple` — the point of the breast outline (skin line) farthest from the
  chest-wall edge of the image, refined by the contrast-filled duct when one enters the
  nipple (galactography);
* :func:`suggest_chest_wall` — the posterior image edge for CC-like and lateral views, the
  pectoral muscle line for oblique views (MLO), as the standard localisation reference;
* :class:`BreastRegion` — where the breast is, to warn about a mark placed in air.

Which image edge is posterior follows from Patient Orientation (0020,0020), PS3.3
C.7.6.1.1.1: the edge towards which the rows (or columns) run ``P``. Brightness is judged
on modality values (PS3.3 C.11.1), negated when the pipeline inverts (MONOCHROME1 /
Presentation LUT Shape INVERSE, PS3.3 C.11.6), so that dense tissue is always bright.

All work is done on a strided, downsampled copy (at most about 600 pixels a side), so a
30-megapixel image takes a few tens of milliseconds; the stored array is never modified.
Points are SCOORD image coordinates ``(column, row)`` of the stored grid, origin at the
top-left corner of the top-left pixel (PS3.3 C.18.6.1.2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from galactoview.dicom.mammography import Laterality, MammoView, PatientOrientation
from galactoview.imaging.display import DisplayPipeline

__all__ = [
    "BreastRegion",
    "ChestWallKind",
    "ChestWallSuggestion",
    "NippleSuggestion",
    "suggest_chest_wall",
    "suggest_nipple",
]

#: An SCOORD point ``(column, row)`` in stored pixels.
Point = tuple[float, float]

#: Longest side of the downsampled working image, in pixels.
_WORK_SIZE = 600
#: A tip plateau narrower than this fraction of the image height is a nipple in profile.
_PLATEAU = 0.05
_OBLIQUE = frozenset({"MLO", "LMO", "SIO", "ISO"})
Float2D = NDArray[np.float64]


class ChestWallKind(StrEnum):
    """What the chest-wall reference of an image is."""

    IMAGE_EDGE = "image_edge"
    PECTORAL_LINE = "pectoral_line"


@dataclass(frozen=True, slots=True)
class NippleSuggestion:
    """An automatically suggested nipple position.

    Attributes
    ----------
    point : tuple of float
        SCOORD ``(column, row)`` of the nipple tip in the stored grid.
    confidence : float
        0..1; higher when a nipple in profile and a contrast-filled duct agree.
    method : str
        How the point was found: ``"outline"``, ``"outline+duct"`` or
        ``"outline (orientation guessed)"``.
    """

    point: Point
    confidence: float
    method: str


@dataclass(frozen=True, slots=True)
class ChestWallSuggestion:
    """An automatically suggested chest-wall reference line.

    Attributes
    ----------
    points : tuple of two points
        SCOORD ``((c0, r0), (c1, r1))``. For an image edge the line runs the full image
        height (or width) along that edge; for the pectoral line, from its upper end on
        the breast outline to where it meets the chest-wall edge.
    kind : ChestWallKind
        ``image_edge`` or ``pectoral_line``.
    confidence : float
        0..1; low when the pectoral muscle was not found and the edge is a fallback.
    """

    points: tuple[Point, Point]
    kind: ChestWallKind
    confidence: float


@dataclass(frozen=True, slots=True)
class _Frame:
    """Flips / transpose that bring the chest wall to column 0 and superior to row 0."""

    transpose: bool
    flip_columns: bool
    flip_rows: bool
    guessed: bool

    def view(self, array: NDArray[Any]) -> NDArray[Any]:
        """Return a (no-copy) view of `array` in the normal frame."""
        out = array.T if self.transpose else array
        if self.flip_columns:
            out = out[:, ::-1]
        if self.flip_rows:
            out = out[::-1, :]
        return out

    def to_stored(self, point: Point, shape: tuple[int, int]) -> Point:
        """Map an SCOORD point of the normal frame back to the stored grid (`shape` stored)."""
        height, width = (shape[1], shape[0]) if self.transpose else shape
        x, y = point
        if self.flip_columns:
            x = width - x
        if self.flip_rows:
            y = height - y
        return (y, x) if self.transpose else (x, y)


def suggest_nipple(
    stored: NDArray[Any],
    pipeline: DisplayPipeline,
    orientation: PatientOrientation | None,
    laterality: Laterality,
    view: MammoView | str,
) -> NippleSuggestion:
    """Suggest the nipple: the skin-line point farthest from the chest wall.

    The breast is separated from the background by a threshold halfway between the
    background level and Otsu's threshold on the downsampled image (so the nipple, less
    dense than the breast, stays inside). For each line parallel to the chest wall the
    breast extent is measured from the chest-wall edge; the nipple is the middle of the
    lines within 0.25 % of the image of the largest extent. When a bright, straight,
    contrast-filled duct runs into that tip (galactography), it confirms a nipple in
    profile (narrow tip) and, on a flat or broad front where the outline alone is
    ambiguous, its line extrapolated to the skin sets the position along the outline.

    Parameters
    ----------
    stored : numpy.ndarray
        Stored pixel values ``(rows, columns)``; not modified.
    pipeline : DisplayPipeline
        The image's display pipeline (modality values and inversion).
    orientation : PatientOrientation or None
        Patient Orientation (0020,0020); ``None`` makes the chest-wall edge a guess (the
        image edge with the most tissue).
    laterality : Laterality
        The breast (used only to report; the geometry comes from `orientation`).
    view : MammoView or str
        The view (or its short name, e.g. ``"CC"``).

    Returns
    -------
    NippleSuggestion
        The suggested nipple tip.

    Raises
    ------
    ValueError
        If `stored` is not 2-D or holds no breast.
    """
    del laterality  # the chest-wall edge follows from the orientation alone
    work = _Work.build(stored, pipeline, orientation)
    extent = work.extent
    if extent.max() <= 0:
        raise ValueError("no breast found in the image")
    top = int(extent.max())
    tolerance = max(1, round(0.0025 * max(work.values.shape)))
    tip_rows = np.flatnonzero(extent >= top - tolerance)
    row = float(np.median(tip_rows))
    in_profile = (tip_rows[-1] - tip_rows[0] + 1) / extent.size < _PLATEAU
    confidence = 0.8 if in_profile else 0.4
    method = "outline"
    duct_row = _duct_row(work, row, top, (float(tip_rows[0]), float(tip_rows[-1])))
    if duct_row is not None:
        # A nipple in profile is sharper than an extrapolated (curving) duct: the duct
        # then only confirms it; on a flat or broad front it decides the position.
        row = row if in_profile else duct_row
        method, confidence = "outline+duct", confidence + (0.15 if in_profile else 0.3)
    if work.frame.guessed:
        method, confidence = f"{method} (orientation guessed)", confidence * 0.5
    column = work.full_extent_at(row)
    point = work.frame.to_stored((column, row * work.step + 0.5), work.shape)
    return NippleSuggestion(point, round(confidence, 3), method)


def suggest_chest_wall(
    stored: NDArray[Any],
    pipeline: DisplayPipeline,
    orientation: PatientOrientation | None,
    view: MammoView | str,
) -> ChestWallSuggestion:
    """Suggest the chest-wall reference line of an image.

    CC, ML, LM and other non-oblique views: the posterior image edge, full length. Oblique
    views (MLO): the pectoral muscle's anterior edge, found per line in the superior half
    as the strongest bright-to-dark step between the chest wall and the skin, and fitted
    by a robust straight line; without a plausible muscle, the image edge with low
    confidence.

    Parameters
    ----------
    stored : numpy.ndarray
        Stored pixel values ``(rows, columns)``; not modified.
    pipeline : DisplayPipeline
        The image's display pipeline.
    orientation : PatientOrientation or None
        Patient Orientation (0020,0020); ``None`` guesses the chest-wall edge.
    view : MammoView or str
        The view (or its short name).

    Returns
    -------
    ChestWallSuggestion
        The suggested line.

    Raises
    ------
    ValueError
        If `stored` is not 2-D.
    """
    name = _short_name(view)
    work = _Work.build(stored, pipeline, orientation)
    edge_confidence = 0.5 if work.frame.guessed else 0.95
    height = stored.shape[1] if work.frame.transpose else stored.shape[0]
    edge = ChestWallSuggestion(
        (
            work.frame.to_stored((0.0, 0.0), work.shape),
            work.frame.to_stored((0.0, float(height)), work.shape),
        ),
        ChestWallKind.IMAGE_EDGE,
        edge_confidence,
    )
    if name not in _OBLIQUE:
        return edge
    line = _pectoral_line(work)
    if line is None:
        return ChestWallSuggestion(edge.points, edge.kind, 0.2)
    upper, lower, confidence = line
    if work.frame.guessed:
        confidence *= 0.5
    return ChestWallSuggestion(
        (work.frame.to_stored(upper, work.shape), work.frame.to_stored(lower, work.shape)),
        ChestWallKind.PECTORAL_LINE,
        round(confidence, 3),
    )


# ---------------------------------------------------------------- working image


@dataclass(frozen=True, slots=True)
class _Work:
    """The downsampled image in the normal frame: chest wall at column 0, superior up."""

    frame: _Frame
    shape: tuple[int, int]
    step: int
    full: NDArray[Any]
    values: Float2D
    threshold: float
    mask: NDArray[np.bool_]
    extent: NDArray[np.int64]
    pipeline: DisplayPipeline

    @classmethod
    def build(
        cls,
        stored: NDArray[Any],
        pipeline: DisplayPipeline,
        orientation: PatientOrientation | None,
    ) -> _Work:
        if stored.ndim != 2:
            raise ValueError(f"expected a 2-D grayscale image, got shape {stored.shape}")
        shape = (int(stored.shape[0]), int(stored.shape[1]))
        step = max(1, math.ceil(max(shape) / _WORK_SIZE))
        raw = _brightness(pipeline, stored[::step, ::step])
        threshold = _breast_threshold(raw)
        frame = _frame_of(orientation, raw > threshold)
        values = _box3(frame.view(raw))
        mask = values > threshold
        extent = _extent(mask)
        return cls(
            frame, shape, step, frame.view(stored), values, threshold, mask, extent, pipeline
        )

    def full_extent_at(self, row: float) -> float:
        """Skin-line column (SCOORD, normal frame, full resolution) on a given work row."""
        r = min(round(row) * self.step, self.full.shape[0] - 1)
        e = int(self.extent[min(round(row), self.extent.size - 1)])
        start = max(0, (e - 2) * self.step)
        stop = min(self.full.shape[1], (e + 2) * self.step)
        line = _brightness(self.pipeline, self.full[r, start:stop])
        inside = np.flatnonzero(line > self.threshold)
        if inside.size == 0:
            return float(e * self.step)
        return float(start + inside[-1] + 1)


#: Tissue within this many working pixels of a point counts as "at the breast": a mark
#: on the skin line (a nipple, a lesion just under the skin) is never "in air".
_AIR_MARGIN = 3


@dataclass(frozen=True, slots=True)
class BreastRegion:
    """Where the breast is in an image, on the downsampled grid of the suggestions.

    The breast is what :func:`suggest_nipple` separates from the background (the same
    threshold), grown by a few working pixels so that the skin line itself and the
    nipple count as breast. A mark whose every point lies outside it was placed in air.

    Attributes
    ----------
    mask : numpy.ndarray
        Breast (True) per working pixel, rows × columns of the stored grid strided by
        ``step``.
    step : int
        Stored pixels per working pixel.
    """

    mask: NDArray[np.bool_]
    step: int

    @classmethod
    def of(cls, stored: NDArray[Any], pipeline: DisplayPipeline) -> BreastRegion:
        """Find the breast in an image.

        Parameters
        ----------
        stored : numpy.ndarray
            Stored pixel values ``(rows, columns)``; not modified.
        pipeline : DisplayPipeline
            The image's display pipeline (modality values and inversion).

        Returns
        -------
        BreastRegion
            The breast; an image without a clear background (no two levels) is all breast.

        Raises
        ------
        ValueError
            If `stored` is not 2-D.
        """
        if stored.ndim != 2:
            raise ValueError(f"expected a 2-D grayscale image, got shape {stored.shape}")
        step = max(1, math.ceil(max(stored.shape) / _WORK_SIZE))
        raw = _brightness(pipeline, stored[::step, ::step])
        mask = _box3(raw) > _breast_threshold(raw)
        if not mask.any():
            mask = np.ones_like(mask)
        # A square dilation by shifts, not SciPy's: the window's start imports this
        # module and SciPy takes ~160 ms to import (docs/performance.md).
        grown = np.pad(mask, _AIR_MARGIN)
        rows, columns = mask.shape
        near = np.zeros_like(mask)
        for dr in range(2 * _AIR_MARGIN + 1):
            for dc in range(2 * _AIR_MARGIN + 1):
                near |= grown[dr : dr + rows, dc : dc + columns]
        return cls(near, step)

    def contains(self, point: Point) -> bool:
        """Return whether an SCOORD point ``(column, row)`` lies on the breast (or its skin)."""
        column, row = (int(value // self.step) for value in point)
        rows, columns = self.mask.shape
        return 0 <= row < rows and 0 <= column < columns and bool(self.mask[row, column])

    def in_air(self, points: Sequence[Point]) -> bool:
        """Return whether a mark lies wholly in air: none of its points nor their centre on it."""
        if not points:
            return False
        centre = (
            sum(p[0] for p in points) / len(points),
            sum(p[1] for p in points) / len(points),
        )
        return not any(self.contains(p) for p in (*points, centre))


def _short_name(view: MammoView | str) -> str:
    return view.short_name if isinstance(view, MammoView) else str(view).strip().upper()


def _brightness(pipeline: DisplayPipeline, stored: NDArray[Any]) -> Float2D:
    """Modality values with dense tissue bright, whatever the photometric interpretation."""
    values = pipeline.modality_values(stored)
    return -values if pipeline.invert else values


def _otsu(values: NDArray[np.float64]) -> float:
    """Otsu's threshold of `values` on a 256-bin histogram."""
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return low
    hist, edges = np.histogram(values, bins=256, range=(low, high))
    centres = (edges[:-1] + edges[1:]) / 2
    weight = np.cumsum(hist).astype(np.float64)
    total = weight[-1]
    mean = np.cumsum(hist * centres)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean[-1] * weight / total - mean) ** 2 / (weight * (total - weight))
    between = np.nan_to_num(between[:-1], nan=-1.0, posinf=-1.0)
    return float(edges[int(np.argmax(between)) + 1])


def _breast_threshold(values: Float2D) -> float:
    """Halfway between the background level and Otsu's threshold."""
    otsu = _otsu(values.ravel())
    below = values[values <= otsu]
    background = float(np.median(below)) if below.size else float(values.min())
    return background + 0.5 * (otsu - background)


def _box3(values: Float2D) -> Float2D:
    """3 × 3 box mean (edges replicated; by shifts, not SciPy: see :meth:`BreastRegion.of`)."""
    padded = np.pad(values, 1, mode="edge")
    out = np.zeros_like(values)
    rows, cols = values.shape
    for dr in range(3):
        for dc in range(3):
            out += padded[dr : dr + rows, dc : dc + cols]
    result: Float2D = out / 9.0
    return result


def _extent(mask: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Per row, the number of breast pixels in one run from column 0 (small gaps bridged)."""
    filled = mask.copy()
    filled[:, 1:-1] |= mask[:, :-2] & mask[:, 2:]
    outside = ~filled
    first_out: NDArray[np.int64] = np.where(
        outside.any(axis=1), np.argmax(outside, axis=1), mask.shape[1]
    ).astype(np.int64)
    return first_out


def _frame_of(orientation: PatientOrientation | None, mask: NDArray[np.bool_]) -> _Frame:
    """Decide the flips that put the posterior edge at column 0 (PS3.3 C.7.6.1.1.1)."""
    if orientation is not None:
        row_ap = _letter(orientation.row, "AP")
        column_ap = _letter(orientation.column, "AP")
        if row_ap is not None:
            superior_down = _letter(orientation.column, "HF") == "H"
            return _Frame(False, row_ap == "P", superior_down, False)
        if column_ap is not None:
            superior_right = _letter(orientation.row, "HF") == "H"
            return _Frame(True, column_ap == "P", superior_right, False)
    # No usable orientation: the chest wall is the edge with the most tissue.
    scores = (mask[:, 0].mean(), mask[:, -1].mean(), mask[0, :].mean(), mask[-1, :].mean())
    best = int(np.argmax(scores))
    return _Frame(best >= 2, best in (1, 3), False, True)


def _letter(value: str, letters: str) -> str | None:
    return next((letter for letter in value if letter in letters), None)


# ---------------------------------------------------------------- duct refinement


def _duct_row(
    work: _Work, tip_row: float, tip_extent: int, tip_span: tuple[float, float]
) -> float | None:
    """Row (work grid) where a straight contrast-filled duct reaches the skin, or None.

    In a band behind the tip (4-25 % of the image height deep, within 12 % of the height
    above or below the tip), each column's brightest pixel is taken when it stands out
    from the column's tissue by more than four median absolute deviations; a duct gives
    a run of such peaks on a straight line (in at least half the columns), which is
    fitted robustly and extrapolated to the tip.
    """
    values, mask = work.values, work.mask
    height = values.shape[0]
    near, far = round(0.04 * height), round(0.25 * height)
    half = round(0.12 * height)
    r0, r1 = max(0, int(tip_row) - half), min(height, int(tip_row) + half + 1)
    columns = range(max(1, tip_extent - far), max(1, tip_extent - near))
    points: list[tuple[float, float]] = []
    for c in columns:
        column = values[r0:r1, c]
        inside = mask[r0:r1, c]
        if inside.sum() < 5:
            continue
        tissue = column[inside]
        median = float(np.median(tissue))
        spread = float(np.median(np.abs(tissue - median))) + 1e-9
        peak = int(np.argmax(np.where(inside, column, -np.inf)))
        if column[peak] - median > 4.0 * spread:
            points.append((float(c), float(r0 + peak)))
    if len(points) < max(5, len(columns) // 2):
        return None
    cols, rows = np.array(points).T
    fit = _robust_line(cols, rows, tolerance=1.5)
    if fit is None or fit[2].sum() < max(5, len(columns) // 2):
        return None  # bright spots, but not one straight duct
    slope, intercept, _ = fit
    row = float(slope * tip_extent + intercept)
    margin = 0.03 * height
    if not tip_span[0] - margin <= row <= tip_span[1] + margin:
        return None  # the duct does not run to this tip
    return row


# ---------------------------------------------------------------- pectoral muscle


def _pectoral_line(work: _Work) -> tuple[Point, Point, float] | None:
    """Pectoral muscle edge as ((upper end), (chest-wall end), confidence), normal frame."""
    values, mask, extent = work.values, work.mask, work.extent
    height, width = values.shape
    breast_rows = np.flatnonzero(extent > 0)
    if breast_rows.size < 10:
        return None
    first, last = int(breast_rows[0]), int(breast_rows[-1])
    rows_used = range(first, first + int(0.7 * (last - first)))
    gap = 2
    found: list[tuple[float, float, float]] = []
    for r in rows_used:
        e = int(extent[r])
        stop = e - max(4, round(0.03 * width))
        if stop <= gap + 2:
            continue
        line = values[r, :e]
        step = line[: stop - gap] - line[gap:stop]  # bright (chest side) to dark
        c = int(np.argmax(step))
        if step[c] > 0:
            found.append((float(r), float(c + gap / 2), float(step[c])))
    if len(found) < 10:
        return None
    rows, cols, strength = np.array(found).T
    fit = _robust_line(rows, cols, tolerance=max(1.5, 0.004 * width))
    if fit is None:
        return None
    slope, intercept, keep = fit
    if slope >= -0.05 or keep.sum() < 10:
        return None  # the muscle edge must run towards the chest wall going down
    noise = float(np.median(np.abs(np.diff(values, axis=1)[mask[:, 1:] & mask[:, :-1]])))
    if float(np.median(strength[keep])) < 6.0 * noise:
        return None  # no step clearly above the tissue texture: no muscle edge
    wall_row = -intercept / slope  # where it meets column 0
    upper_row = float(first)  # the superior border of the breast
    upper = ((slope * upper_row + intercept) * work.step + 0.5, upper_row * work.step + 0.5)
    lower = (0.0, wall_row * work.step + 0.5)
    fraction = keep.sum() / max(1, len(rows_used))
    confidence = float(min(0.9, 0.3 + fraction))
    if not 0 <= wall_row <= height:
        confidence *= 0.5
    return upper, lower, confidence


def _robust_line(
    xs: NDArray[np.float64], ys: NDArray[np.float64], tolerance: float
) -> tuple[float, float, NDArray[np.bool_]] | None:
    """Fit ``y = slope * x + intercept`` robustly, or None.

    The pair of points of a deterministic subsample with the most inliers (within
    `tolerance`) seeds the line; least squares on its inliers refines it. Returns the
    slope, the intercept and the inlier mask.
    """
    pick = np.unique(np.linspace(0, xs.size - 1, min(xs.size, 48)).round().astype(int))
    i, j = np.triu_indices(pick.size, k=1)
    a, b = pick[i], pick[j]
    dx = xs[b] - xs[a]
    valid = dx != 0
    a, b, dx = a[valid], b[valid], dx[valid]
    if a.size == 0:
        return None
    slopes = (ys[b] - ys[a]) / dx
    intercepts = ys[a] - slopes * xs[a]
    residual = np.abs(ys[None, :] - (slopes[:, None] * xs[None, :] + intercepts[:, None]))
    best = int(np.argmax((residual < tolerance).sum(axis=1)))
    keep = residual[best] < tolerance
    if keep.sum() < 3:
        return None
    slope, intercept = np.polyfit(xs[keep], ys[keep], 1)
    keep = np.abs(ys - (slope * xs + intercept)) < tolerance
    slope, intercept = np.polyfit(xs[keep], ys[keep], 1)
    return float(slope), float(intercept), keep
