"""What the image analysis suggests: duct trees and filling-defect flags (Qt-free, light).

The result types of :mod:`galactoview.analysis.duct_tree` and
:mod:`galactoview.analysis.filling_defects`, and the cross-view bubble rule, without the
image-processing libraries those modules import (SciPy, scikit-image, networkx: about a
second to import), so that the viewer and the command line load them only when a
suggestion is asked for.

Points are SCOORD ``(column, row)`` in stored pixels (PS3.3 C.18.6.1.2), as the marks'.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from galactoview.analysis.algorithms import DUCT_TREE_ALGORITHM, FILLING_DEFECT_ALGORITHM
from galactoview.annotations.model import AlgorithmIdentification

if TYPE_CHECKING:
    from galactoview.analysis.ridges import RidgeMap

__all__ = [
    "SAME_PLACE_MM",
    "TRACED_SHARE",
    "DefectFlag",
    "DefectFlags",
    "DuctTreeSuggestion",
    "Point",
    "SuggestedBranch",
    "mark_bubble_like",
    "nipple_distances_mm",
]

#: An SCOORD point ``(column, row)`` in stored pixels.
Point = tuple[float, float]

#: Two candidates on the two views are the same lesion within this nipple distance (mm).
SAME_PLACE_MM = 15.0

#: A suggested branch runs along a duct already traced when this share of it lies near it.
TRACED_SHARE = 0.8


@dataclass(frozen=True, slots=True)
class SuggestedBranch:
    """One suggested duct branch: from its branch point (or the orifice) to its end.

    Attributes
    ----------
    index
        Position in :attr:`DuctTreeSuggestion.branches` (parents come first).
    parent
        Index of the branch it leaves, ``None`` for the trunk.
    generation
        0 for the trunk, +1 at each branching (branch order).
    points
        The centreline, proximal to distal, SCOORD ``(column, row)``.
    length_mm
        Centreline length in mm; ``None`` when the image is not calibrated.
    calibre_mm
        Median lumen diameter in mm (from the suggested lumen's width on the ~0.2 mm
        working grid, which measures wide ducts up to 0.7 mm narrow); ``None`` when the
        image is not calibrated.
    """

    index: int
    parent: int | None
    generation: int
    points: tuple[Point, ...]
    length_mm: float | None
    calibre_mm: float | None

    @property
    def length_px(self) -> float:
        """Centreline length in stored pixels."""
        return float(sum(math.dist(a, b) for a, b in itertools.pairwise(self.points)))


@dataclass(frozen=True, slots=True)
class DuctTreeSuggestion:
    """A suggested duct tree on one image.

    Attributes
    ----------
    orifice
        Where the tree is rooted (the cannulated orifice), SCOORD.
    branches
        The branches, trunk first, each after its parent.
    calibrated
        Whether mm values are known (else lengths and calibres are ``None``).
    pixel_spacing_mm
        The stored pixel size used (nominal when not calibrated).
    runtime_s
        Wall time of the suggestion in seconds.
    problem
        Why no tree was found (empty when one was).
    algorithm
        The algorithm, as recorded in the SR when a branch is accepted.
    ridges
        The ridge measure the tree was traced on (over the lobe's region when one was
        found; reused by the filling-defect flags).
    lumen
        The suggested lumen on the ridge map's working grid.
    """

    orifice: Point
    branches: tuple[SuggestedBranch, ...]
    calibrated: bool
    pixel_spacing_mm: float
    runtime_s: float
    problem: str = ""
    algorithm: AlgorithmIdentification = DUCT_TREE_ALGORITHM
    ridges: RidgeMap | None = field(default=None, compare=False, repr=False)
    lumen: NDArray[np.bool_] | None = field(default=None, compare=False, repr=False)

    def children(self, index: int) -> tuple[SuggestedBranch, ...]:
        """Return the branches leaving branch ``index``."""
        return tuple(b for b in self.branches if b.parent == index)

    def subtree(self, index: int) -> tuple[SuggestedBranch, ...]:
        """Return branch ``index`` and every branch beyond it, parents first."""
        wanted = {index}
        for branch in self.branches:  # parents come first
            if branch.parent in wanted:
                wanted.add(branch.index)
        return tuple(b for b in self.branches if b.index in wanted)

    def branch_points(self) -> tuple[Point, ...]:
        """Return where branches leave their parents (one point per branching)."""
        return tuple(dict.fromkeys(b.points[0] for b in self.branches if b.parent is not None))

    def traced_already(self, traced: Sequence[Sequence[Point]], reach_px: float) -> dict[int, int]:
        """Return, per branch that runs along a duct already traced, that trace's index.

        A branch runs along a trace when at least :data:`TRACED_SHARE` of its centreline
        (sampled every half ``reach_px``) lies within ``reach_px`` of it: suggesting it
        again would let the reader accept the same duct twice.

        Parameters
        ----------
        traced
            The polylines of the duct segments already on this image, SCOORD.
        reach_px
            How far from a trace a branch may run and still be on it (px).
        """
        found: dict[int, int] = {}
        lines = [np.asarray(t, dtype=np.float64) for t in traced if len(t) >= 2]
        if not lines or reach_px <= 0:
            return found
        for branch in self.branches:
            samples = _resampled(branch.points, reach_px / 2.0)
            shares = [float(np.mean(_distances(samples, line) <= reach_px)) for line in lines]
            best = int(np.argmax(shares))
            if shares[best] >= TRACED_SHARE:
                found[branch.index] = best
        return found

    def nearest_branch(self, point: Point) -> tuple[int, float] | None:
        """Return the branch whose centreline passes nearest ``point`` and the distance (px)."""
        best: tuple[int, float] | None = None
        for branch in self.branches:
            distance = _polyline_distance(point, branch.points)
            if best is None or distance < best[1]:
                best = (branch.index, distance)
        return best


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
        0..1, higher is more defect-like: the detector's evidence (its contrast drop;
        for a ringed lucency the dip below its rim, full at 20 %; for a focal widening
        0.5 plus that) weighted by size.
    size_mm
        Its extent in mm (along the duct for a gap, equivalent diameter for a hole,
        the middle measured against its rim for a ringed lucency or a focal widening);
        ``None`` when the image is not calibrated.
    contrast_drop
        0..1: its brightness fall from the lumen's level towards the surrounding
        tissue's; for a ringed lucency or a focal widening (``kind``) how much darker
        its middle is than the bright rim of contrast round it.
    round
        Whether it is about as wide as long (air bubbles are round).
    bubble_like
        Round and not seen at about the same nipple distance on the other view.
    reason
        Why it was flagged, for people.
    kind
        The detector that found it ("lumen gap", "lucent hole", ...); empty when made
        elsewhere.
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
    kind: str = ""


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
    weaker
        The candidates not shown (below the score, not darker than a rim of contrast
        all round, not in a wider lumen, or near a better flag): a lesion flagged on one
        view is often only a weaker candidate on the other, so these count as
        counterparts for :func:`mark_bubble_like`.
    """

    flags: tuple[DefectFlag, ...]
    runtime_s: float
    problem: str = ""
    algorithm: AlgorithmIdentification = FILLING_DEFECT_ALGORITHM
    weaker: tuple[DefectFlag, ...] = ()

    @property
    def counterparts(self) -> tuple[DefectFlag, ...]:
        """Return the flags and the weaker candidates: what the other view is matched to."""
        return self.flags + self.weaker


def nipple_distances_mm(
    flags: Sequence[DefectFlag],
    orifice: Point,
    distance_mm: Callable[[float, float], float | None],
) -> list[float] | None:
    """Return each flag's distance from the orifice in mm, as :func:`mark_bubble_like` needs.

    Parameters
    ----------
    flags
        The flags (or weaker candidates) of one image.
    orifice
        The image's orifice (nipple), SCOORD.
    distance_mm
        The image's calibration, displacement in (columns, rows) to mm, ``None`` when
        unknown (:meth:`galactoview.dicom.calibration.Calibration.distance_mm`).

    Returns
    -------
    list of float or None
        The distances, or ``None`` when the image is not calibrated (distances on two
        views are then not comparable).
    """
    distances = []
    for flag in flags:
        distance = distance_mm(flag.point[0] - orifice[0], flag.point[1] - orifice[1])
        if distance is None:
            return None
        distances.append(distance)
    return distances


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


def _resampled(points: Sequence[Point], step: float) -> NDArray[np.float64]:
    """Return points every ``step`` px along a polyline (its vertices included)."""
    out = [np.asarray(points[0], dtype=np.float64)]
    for a, b in itertools.pairwise(points):
        start, end = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        count = max(1, math.ceil(float(np.linalg.norm(end - start)) / step))
        out.extend(start + (end - start) * (k / count) for k in range(1, count + 1))
    return np.asarray(out)


def _distances(samples: NDArray[np.float64], line: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return each sample's distance (px) to a polyline of at least two vertices."""
    start, end = line[:-1], line[1:]
    d = end - start
    length2 = np.maximum(np.einsum("ij,ij->i", d, d), 1e-12)
    offset = samples[:, None, :] - start[None, :, :]
    t = np.clip(np.einsum("nij,ij->ni", offset, d) / length2, 0.0, 1.0)
    foot = start[None, :, :] + t[:, :, None] * d[None, :, :]
    return np.asarray(np.min(np.linalg.norm(samples[:, None, :] - foot, axis=2), axis=1))


def _polyline_distance(point: Point, points: Sequence[Point]) -> float:
    """Distance (px) from a point to a polyline (a single point is a polyline too)."""
    line = np.asarray(points if len(points) > 1 else [*points, *points], dtype=np.float64)
    return float(_distances(np.asarray([point], dtype=np.float64), line)[0])
