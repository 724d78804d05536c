"""Flag candidate filling defects along a suggested duct tree (Qt-free).

A filling defect (papilloma, clot, debris) is a lucency **inside** the opacified lumen:
contrast on both sides of it, less or none where it is. Two kinds of candidates are
found on the working grid of the tree's ridge map:

* **holes** — lucent areas enclosed by the suggested lumen (contrast flowing round a
  papilloma in a widened duct): the lumen's filled holes (SciPy);
* **gaps** — dips of brightness along a branch's centreline well below the lumen's own
  level on both sides (a defect filling the whole lumen, an air bubble).

Each candidate is scored by its contrast drop (how far its brightness falls from the
lumen's towards the tissue around the duct) and its size, and carries a short reason,
e.g. ``"lumen gap 3.1 mm, 62 % contrast drop"``. Air bubbles mimic defects: they are
round and move between exposures, so a round candidate with no counterpart at about the
same distance from the nipple on the other view is marked *bubble-like*
(:func:`mark_bubble_like`). Nothing here is a finding: the reader accepts or rejects each
flag.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from galactoview.analysis.algorithms import FILLING_DEFECT_ALGORITHM
from galactoview.analysis.duct_tree import DuctTreeSuggestion, Point
from galactoview.annotations.model import AlgorithmIdentification

__all__ = ["DefectFlag", "DefectFlags", "flag_filling_defects", "mark_bubble_like"]

#: Smallest contrast drop (fraction of lumen minus tissue) worth a flag.
MIN_DROP = 0.35
#: Smallest candidate size (mm) worth a flag.
MIN_SIZE_MM = 0.8
#: Flags below this score are not shown.
MIN_SCORE = 0.5
#: Two candidates on the two views are the same lesion within this nipple distance (mm).
SAME_PLACE_MM = 15.0
#: Ends of a branch (mm) where a dip is the duct ending, not a gap.
END_MARGIN_MM = 2.0


@dataclass(frozen=True, slots=True)
class DefectFlag:
    """One candidate filling defect.

    Attributes
    ----------
    point
        Centre, SCOORD ``(column, row)`` in stored pixels.
    radius_px
        Half its size, in stored pixels.
    branch
        Index of the suggested branch it lies on (``None`` when between branches).
    score
        0..1, higher is more defect-like (contrast drop and size).
    size_mm
        Its extent in mm (along the duct for a gap, equivalent diameter for a hole);
        ``None`` when the image is not calibrated.
    contrast_drop
        0..1: its brightness fall from the lumen's level towards the surrounding
        tissue's.
    round
        Whether it is about as wide as long (air bubbles are round).
    bubble_like
        Round and not seen at about the same nipple distance on the other view.
    reason
        Why it was flagged, for people.
    """

    point: Point
    radius_px: float
    branch: int | None
    score: float
    size_mm: float | None
    contrast_drop: float
    round: bool
    bubble_like: bool
    reason: str


@dataclass(frozen=True, slots=True)
class DefectFlags:
    """The flags of one image.

    Attributes
    ----------
    flags
        Highest score first.
    runtime_s
        Wall time in seconds (the tree's time not included).
    problem
        Why nothing could be looked for (empty when the tree was there).
    algorithm
        The algorithm, as recorded in the SR when a flag is accepted.
    """

    flags: tuple[DefectFlag, ...]
    runtime_s: float
    problem: str = ""
    algorithm: AlgorithmIdentification = FILLING_DEFECT_ALGORITHM


def flag_filling_defects(tree: DuctTreeSuggestion) -> DefectFlags:
    """Look for lucent holes and gaps in the lumen of a suggested duct tree.

    Parameters
    ----------
    tree
        The image's :func:`~galactoview.analysis.duct_tree.suggest_duct_tree` result.

    Returns
    -------
    DefectFlags
        The flags scoring at least :data:`MIN_SCORE`, best first.
    """
    started = time.perf_counter()
    if tree.ridges is None or tree.lumen is None or not tree.branches:
        return DefectFlags((), 0.0, tree.problem or "no duct tree to look along")
    candidates = [*_holes(tree), *_gaps(tree)]
    kept = _deduplicated(sorted(candidates, key=lambda f: -f.score), tree)
    flags = tuple(f for f in kept if f.score >= MIN_SCORE)
    return DefectFlags(flags, time.perf_counter() - started)


def _levels(tree: DuctTreeSuggestion) -> tuple[NDArray[np.float64], float]:
    """Return the brightness grid and the tissue level around the lumen."""
    assert tree.ridges is not None and tree.lumen is not None
    brightness = tree.ridges.brightness
    near = ndimage.binary_dilation(tree.lumen, iterations=max(1, round(4.0 / _mm(tree))))
    ring = near & ~ndimage.binary_dilation(tree.lumen, iterations=max(1, round(1.5 / _mm(tree))))
    tissue = float(np.median(brightness[ring])) if ring.any() else float(brightness.min())
    return brightness, tissue


def _mm(tree: DuctTreeSuggestion) -> float:
    """Size of a working pixel in mm (nominal when uncalibrated)."""
    assert tree.ridges is not None
    return tree.ridges.spacing_mm


def _flag(
    tree: DuctTreeSuggestion,
    centre_rc: tuple[float, float],
    size_px: float,
    drop: float,
    is_round: bool,
    kind: str,
) -> DefectFlag:
    """Build a flag from a working-grid candidate."""
    assert tree.ridges is not None
    step = tree.ridges.step
    point = ((centre_rc[1] + 0.5) * step, (centre_rc[0] + 0.5) * step)
    size_mm = size_px * _mm(tree)
    nearest = tree.nearest_branch(point)
    branch = nearest[0] if nearest is not None else None
    # Score: the contrast drop, weighted up to full at a 3 mm candidate.
    score = round(min(1.0, drop) * min(1.0, 0.4 + size_mm / 5.0), 3)
    shown = f"{size_mm:.1f} mm" if tree.calibrated else f"{size_px * step:.0f} px"
    reason = f"{kind} {shown}, {100 * drop:.0f} % contrast drop"
    return DefectFlag(
        point=point,
        radius_px=size_px * step / 2.0,
        branch=branch,
        score=score,
        size_mm=round(size_mm, 2) if tree.calibrated else None,
        contrast_drop=round(drop, 3),
        round=is_round,
        bubble_like=False,
        reason=reason,
    )


def _holes(tree: DuctTreeSuggestion) -> list[DefectFlag]:
    """Lucent areas the lumen encloses."""
    assert tree.lumen is not None
    brightness, tissue = _levels(tree)
    holes = ndimage.binary_fill_holes(tree.lumen) & ~tree.lumen
    labels, _count = ndimage.label(holes)
    lumen_level = float(np.percentile(brightness[tree.lumen], 75))
    found = []
    for number, where in enumerate(ndimage.find_objects(labels), start=1):
        if where is None:
            continue
        mask = labels[where] == number
        size_px = 2.0 * math.sqrt(mask.sum() / math.pi) + 1.0
        if size_px * _mm(tree) < MIN_SIZE_MM:
            continue
        around = ndimage.binary_dilation(mask, iterations=2) & tree.lumen[where]
        level = float(np.median(brightness[where][around])) if around.any() else lumen_level
        darkest = float(np.percentile(brightness[where][mask], 20))
        drop = _drop(level, darkest, tissue)
        if drop < MIN_DROP:
            continue
        rows, columns = np.nonzero(mask)
        extent = (int(np.ptp(rows)) + 1, int(np.ptp(columns)) + 1)
        is_round = min(extent) / max(extent) > 0.6
        centre = (where[0].start + rows.mean(), where[1].start + columns.mean())
        found.append(_flag(tree, centre, size_px, drop, is_round, "lucent hole"))
    return found


def _gaps(tree: DuctTreeSuggestion) -> list[DefectFlag]:
    """Dips of brightness along the branches' centrelines."""
    assert tree.ridges is not None
    brightness, tissue = _levels(tree)
    smooth = ndimage.gaussian_filter(brightness, 0.7)
    step = tree.ridges.step
    spacing = _mm(tree)
    found = []
    for branch in tree.branches:
        samples = _along(branch.points, step)
        if len(samples) < 8:
            continue
        values = ndimage.map_coordinates(smooth, samples.T[::-1], order=1, mode="nearest")
        window = max(3, round(4.0 / spacing))
        level = ndimage.maximum_filter1d(
            ndimage.percentile_filter(values, 70, size=window), size=window
        )
        drops = (level - values) / np.maximum(level - tissue, 1e-9)
        margin = round(END_MARGIN_MM / spacing)
        dipping = drops >= MIN_DROP
        dipping[:margin] = dipping[len(dipping) - margin :] = False
        labels, count = ndimage.label(dipping)
        for number in range(1, count + 1):
            where = np.flatnonzero(labels == number)
            size_px = float(len(where))
            if size_px * spacing < MIN_SIZE_MM:
                continue
            deepest = where[np.argmax(drops[where])]
            column, row = samples[deepest]
            found.append(
                _flag(tree, (row, column), size_px, float(drops[deepest]), True, "lumen gap")
            )
    return found


def _along(points: Sequence[Point], step: int) -> NDArray[np.float64]:
    """Working-grid (column, row) samples every working pixel along a polyline."""
    out = []
    for a, b in itertools.pairwise(points):
        length = math.dist(a, b) / step
        count = max(2, int(length) + 1)
        t = np.linspace(0.0, 1.0, count, endpoint=False)[:, None]
        out.append(np.asarray(a) / step - 0.5 + t * (np.subtract(b, a) / step))
    return np.concatenate(out) if out else np.zeros((0, 2))


def _drop(level: float, value: float, tissue: float) -> float:
    """Fraction of the lumen's contrast over the tissue that a candidate loses."""
    contrast = level - tissue
    return 0.0 if contrast <= 0 else max(0.0, min(1.0, (level - value) / contrast))


def _deduplicated(flags: Sequence[DefectFlag], tree: DuctTreeSuggestion) -> list[DefectFlag]:
    """Keep the best of candidates closer than 2 mm (a hole and its gap)."""
    assert tree.ridges is not None
    apart = 2.0 / (_mm(tree) / tree.ridges.step)
    kept: list[DefectFlag] = []
    for flag in flags:
        if all(math.dist(flag.point, other.point) > apart for other in kept):
            kept.append(flag)
    return kept


def mark_bubble_like(
    flags: DefectFlags,
    nipple_distance_mm: Sequence[float],
    other_view_distances_mm: Sequence[float],
) -> DefectFlags:
    """Mark round flags with no counterpart on the other view as bubble-like.

    Parameters
    ----------
    flags
        One view's flags.
    nipple_distance_mm
        Each flag's distance from the nipple on this view (mm), in order.
    other_view_distances_mm
        The other view's flags' distances from the nipple (mm).

    Returns
    -------
    DefectFlags
        The same flags, bubble-like ones marked and their reason extended.
    """
    marked = []
    for flag, distance in zip(flags.flags, nipple_distance_mm, strict=True):
        alone = all(abs(distance - other) > SAME_PLACE_MM for other in other_view_distances_mm)
        if flag.round and alone:
            reason = f"{flag.reason}; round, not on the other view: air bubble?"
            flag = replace(flag, bubble_like=True, reason=reason)
        marked.append(flag)
    return replace(flags, flags=tuple(marked))
