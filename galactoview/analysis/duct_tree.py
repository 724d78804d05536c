"""Suggest the opacified duct tree of a galactogram, rooted at the cannulated orifice (Qt-free).

Nothing here is a finding: the viewer shows the result as a suggestion, and a branch
becomes a traced duct segment only when a reader accepts it.

The method, in order (each step a well-kept library call where one exists):

1. **Ridges** — :func:`galactoview.analysis.ridges.ridge_map`, a multiscale Hessian
   measure of bright lines (not blobs) on a ~0.4 mm working grid over the whole image.
2. **Lumen** — hysteresis thresholding (scikit-image) of the ridge measure at 1.5 and 5
   times the median curvature of the breast (lines and blobs alike: the gland's texture),
   where the brightness over the local tissue is in the breast's top 15 %, leaving out a
   5 mm band inside the skin line (the skin is a ridge too). The connected part nearest
   the orifice, within 12 mm, is the injected lobe; anything else bright (a vessel, a
   calcified duct of another lobe) is not connected to the cannula and is left out.
3. **Trace** — steps 1 and 2 again on a ~0.2 mm grid, over the lobe's region only (10 mm
   round it), with the whole breast's thresholds carried over as ranks: on the coarse
   grid thin ducts running side by side in projection merge and the skeleton runs
   between them; the whole image at 0.2 mm would take four times as long. Holes of the
   lumen up to 10 mm² (a papilloma, a cyst's lucent middle) are filled, so that the
   skeleton runs through them, not round them.
4. **Skeleton** — scikit-image's ``skeletonize``.
5. **Tree** — the skeleton as a graph (networkx), the shortest-path tree from the
   skeleton pixel nearest the orifice: where ducts cross in projection the loop is cut
   on the longer way round. Branches run between branch points; spurs of the skeleton,
   weak leaves and stray patches of gland are pruned (:func:`_leaf_kept`). The trunk
   starts at the orifice (the few mm through the nipple, inside the skin band, are the
   straight link). Each branch point moves back to where its children's axes cross.

The graph walk and the pruning are written here: scikit-image stops at the skeleton and
the skeleton-analysis packages that go further (skan) depend on numba, hundreds of MB.

Points are SCOORD ``(column, row)`` in stored pixels (PS3.3 C.18.6.1.2), as the marks'.
Lengths and calibres are in mm when the image is calibrated, else ``None`` (the scales
then assume a nominal 0.1 mm pixel, said in :attr:`DuctTreeSuggestion.calibrated`).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import networkx as nx
import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from skimage.draw import line
from skimage.filters import apply_hysteresis_threshold, threshold_otsu
from skimage.measure import approximate_polygon
from skimage.morphology import remove_small_holes, skeletonize

from galactoview.analysis.results import DuctTreeSuggestion, Point, SuggestedBranch
from galactoview.analysis.ridges import RidgeMap, ridge_map
from galactoview.imaging.display import DisplayPipeline

__all__ = [
    "NOMINAL_SPACING_MM",
    "DuctTreeSuggestion",
    "SuggestedBranch",
    "suggest_duct_tree",
]

#: Pixel size assumed for the scales when an image has no calibration (mm).
NOMINAL_SPACING_MM = 0.1
#: Working pixel of the search for the lobe over the whole image (mm).
COARSE_SPACING_MM = 0.4
#: Working pixel of the trace, in the lobe's region (mm).
TRACE_SPACING_MM = 0.2
#: Margin of the traced region round the lobe found on the coarse grid (mm).
REGION_MARGIN_MM = 10.0
#: Holes of the lumen up to this area are filled before the skeleton (mm²).
SMALL_HOLE_MM2 = 10.0
#: Hysteresis thresholds, as multiples of the breast's median curvature.
LOW_FACTOR, HIGH_FACTOR = 1.5, 5.0
#: A leaf branch must reach this multiple beyond its first few mm…
LEAF_FACTOR = 3.5
#: …along this fraction of its length.
STRONG_FRACTION = 0.35
#: A leaf wider than this (half-width, mm)…
PATCH_HALF_WIDTH_MM = 0.8
#: …that gains less than this fraction of its length in distance from the orifice is
#: a patch of gland.
AWAY_FRACTION = 0.3
#: Width of the grey opening that estimates the tissue under a duct (mm).
TOPHAT_MM = 5.0
#: A lumen pixel is brighter over its tissue than this percentile of the breast's pixels.
TOPHAT_PERCENTILE = 85.0
#: Band inside the skin line left out (mm): the skin line answers the ridge measure.
SKIN_BAND_MM = 5.0
#: The lobe must come this close to the orifice (mm).
ORIFICE_REACH_MM = 12.0
#: Pieces of lumen this close to the lobe are the same ducts, bridged (mm).
GAP_MM = 3.0
#: Leaf branches shorter than this (plus the lumen's half-width) are skeleton spurs (mm).
SPUR_MM = 2.0
#: Farthest a branch point moves back along its parent to where its children's axes meet
#: (mm)…
REFINE_MM = 8.0
#: …when the children's axes cross this close to the parent's centreline (mm).
MEET_OFF_MM = 2.0
#: The stretch of each child (from, to, mm beyond the fork) whose axis is extended back.
AXIS_NEAR_MM, AXIS_FAR_MM = 2.0, 6.0
#: Polyline simplification tolerance (mm).
SIMPLIFY_MM = 0.25


def suggest_duct_tree(
    stored: NDArray[Any],
    pipeline: DisplayPipeline,
    pixel_spacing_mm: float | None,
    orifice: Point,
) -> DuctTreeSuggestion:
    """Suggest the contrast-filled duct tree of a post-contrast image.

    Parameters
    ----------
    stored
        Stored pixel values ``(rows, columns)``; not modified.
    pipeline
        The image's display pipeline (modality values, inversion).
    pixel_spacing_mm
        Calibrated size of a stored pixel in mm, ``None`` when unknown.
    orifice
        The cannulated orifice (the nipple landmark or a traced duct's root), SCOORD.

    Returns
    -------
    DuctTreeSuggestion
        The tree; no branches (and :attr:`~DuctTreeSuggestion.problem` saying why) when
        nothing bright and tubular reaches the orifice.

    Raises
    ------
    ValueError
        If the image is not 2-D or the spacing is not positive.
    """
    started = time.perf_counter()
    calibrated = pixel_spacing_mm is not None
    spacing = pixel_spacing_mm if pixel_spacing_mm is not None else NOMINAL_SPACING_MM
    if not spacing > 0:
        raise ValueError(f"pixel spacing must be positive, got {spacing!r}")
    ridges = ridge_map(stored, pipeline, spacing, work_spacing_mm=COARSE_SPACING_MM)
    level = _breast_level(ridges.brightness)
    gates = _gates(ridges, level)
    problem = gates.problem
    lumen = strong = np.zeros(ridges.response.shape, dtype=bool)
    if not problem:
        lumen, strong, problem = _lumen(ridges, ridges.working(orifice), gates)
    branches: tuple[SuggestedBranch, ...] = ()
    if not problem:
        region = _region(ridges, lumen, orifice, stored.shape)
        ranks = gates.ranks(ridges, region)
        coarse = ridges
        ridges = ridge_map(
            stored, pipeline, spacing, work_spacing_mm=TRACE_SPACING_MM, region=region
        )
        root = ridges.working(orifice)
        traced = _gates(ridges, level, ranks, _carried(gates.interior, coarse, ridges))
        lumen = strong = np.zeros(ridges.response.shape, dtype=bool)
        problem = traced.problem
        if not problem:
            lumen, strong, problem = _lumen(ridges, root, traced)
    if not problem:
        hole = max(1, round(SMALL_HOLE_MM2 / ridges.spacing_mm**2))
        solid = remove_small_holes(lumen, max_size=hole)
        skeleton = skeletonize(solid)  # type: ignore[no-untyped-call]  # scikit-image is not annotated
        width = ndimage.distance_transform_edt(solid)
        pieces = _prune(
            _pieces(skeleton, root),
            SPUR_MM / ridges.spacing_mm,
            width,
            strong,
            root,
            ridges.spacing_mm,
        )
        built: list[SuggestedBranch] = []
        for number, piece in enumerate(pieces):
            generation = 0 if piece.parent is None else built[piece.parent].generation + 1
            built.append(
                _branch(
                    number,
                    piece,
                    generation,
                    orifice,
                    ridges,
                    width,
                    spacing if calibrated else None,
                )
            )
        branches = _refined_branch_points(built, spacing, calibrated)
        if not branches:
            problem = "the contrast near the orifice forms no duct longer than the spurs"
    return DuctTreeSuggestion(
        orifice=orifice,
        branches=branches,
        calibrated=calibrated,
        pixel_spacing_mm=spacing,
        runtime_s=time.perf_counter() - started,
        problem=problem,
        ridges=ridges,
        lumen=lumen,
    )


# ------------------------------------------------------------------ the lumen


def _breast_level(brightness: NDArray[np.float64]) -> float | None:
    """Return the brightness above which the breast lies (Otsu), ``None`` on a uniform image."""
    if float(brightness.max()) <= float(brightness.min()):
        return None
    return float(threshold_otsu(brightness))  # type: ignore[no-untyped-call]  # scikit-image is not annotated


def _region(
    ridges: RidgeMap, lobe: NDArray[np.bool_], orifice: Point, shape: tuple[int, ...]
) -> tuple[slice, slice]:
    """Return the stored rows and columns of the lobe and the orifice, with a margin."""
    rows, columns = np.nonzero(lobe)
    left, top = ridges.stored(float(columns.min()), float(rows.min()))
    right, bottom = ridges.stored(float(columns.max()), float(rows.max()))
    margin = REGION_MARGIN_MM / ridges.spacing_mm * ridges.step
    top, bottom = min(top, orifice[1]) - margin, max(bottom, orifice[1]) + margin
    left, right = min(left, orifice[0]) - margin, max(right, orifice[0]) + margin
    return (
        slice(max(0, int(top)), min(shape[0], math.ceil(bottom) + 1)),
        slice(max(0, int(left)), min(shape[1], math.ceil(right) + 1)),
    )


def _carried(mask: NDArray[np.bool_], coarse: RidgeMap, fine: RidgeMap) -> NDArray[np.bool_]:
    """Return a mask of the coarse grid on the fine one (each pixel takes the one it lies in)."""
    picks = []
    for axis in (0, 1):
        centres = (np.arange(fine.response.shape[axis]) + 0.5) * fine.step + fine.origin[axis]
        index = np.floor((centres - coarse.origin[axis]) / coarse.step).astype(np.intp)
        picks.append(np.clip(index, 0, mask.shape[axis] - 1))
    return np.asarray(mask[np.ix_(picks[0], picks[1])], dtype=bool)


@dataclass(frozen=True, slots=True)
class _Gates:
    """Where, on one working grid, the ridge measure is judged, and against what.

    Attributes
    ----------
    interior
        The breast, less a :data:`SKIN_BAND_MM` band inside the skin line.
    bright
        Pixels whose brightness over the local tissue (a grey opening wider than a
        duct) is in the breast's top :data:`TOPHAT_PERCENTILE`: a strand of gland is a
        ridge too, but far less bright over its surroundings than iodine.
    excess
        That brightness over the local tissue.
    bright_at
        The least ``excess`` that is bright.
    reference
        The median curvature over the interior (:attr:`RidgeMap.curvature`; on a region,
        the whole breast's median carried over as a rank): the thresholds are
        multiples of it.
    problem
        Why nothing can be judged (no breast), else empty.
    """

    interior: NDArray[np.bool_]
    bright: NDArray[np.bool_]
    excess: NDArray[np.float64]
    bright_at: float
    reference: float
    problem: str = ""

    def ranks(self, ridges: RidgeMap, region: tuple[slice, slice]) -> tuple[float, float]:
        """Return the ranks of the reference and the brightness gate within ``region``.

        The trace's finer grid covers the lobe's region only, which holds the ducts
        (a tenth or more of it): a median or percentile taken there is not the whole
        breast's. The whole breast's thresholds are carried over as quantiles of the
        same region, which the two grids measure alike.
        """
        rows, columns = (
            slice(
                int((part.start - start) // ridges.step), -(-int(part.stop - start) // ridges.step)
            )
            for part, start in zip(region, ridges.origin, strict=True)
        )
        inside = self.interior[rows, columns]
        if not inside.any():
            return 0.5, TOPHAT_PERCENTILE / 100.0
        response = ridges.curvature[rows, columns][inside]
        excess = self.excess[rows, columns][inside]
        return (
            float(np.mean(response < self.reference)),
            float(np.mean(excess < self.bright_at)),
        )


def _gates(
    ridges: RidgeMap,
    level: float | None,
    ranks: tuple[float, float] | None = None,
    interior: NDArray[np.bool_] | None = None,
) -> _Gates:
    """Measure the breast's interior, the contrast over tissue and the reference.

    ``level`` is the breast's brightness threshold, found on the whole image (a region
    round the ducts is nearly all breast: Otsu there would split the gland). ``ranks``
    (from :meth:`_Gates.ranks` on the whole image) set the reference and the brightness
    gate on a region; without, they are the median and :data:`TOPHAT_PERCENTILE`.
    ``interior`` is the whole image's, carried to a region (whose edge is no skin line).
    """
    brightness = ridges.brightness
    empty = np.zeros(brightness.shape, dtype=bool)
    if level is None:
        no_breast = "the image is uniform: no breast, no contrast"
        return _Gates(empty, empty, np.zeros(brightness.shape), 0.0, 0.0, no_breast)
    if interior is None:
        depth = ndimage.distance_transform_edt(brightness > level) * ridges.spacing_mm
        interior = depth > SKIN_BAND_MM
    smooth = ndimage.gaussian_filter(brightness, 0.7)
    size = 2 * max(1, round(TOPHAT_MM / ridges.spacing_mm / 2)) + 1
    excess = smooth - ndimage.grey_opening(smooth, size=size)
    if not interior.any():
        no_interior = "no breast tissue found away from the skin line"
        return _Gates(interior, empty, excess, 0.0, 0.0, no_interior)
    reference_rank, bright_rank = ranks if ranks is not None else (0.5, TOPHAT_PERCENTILE / 100.0)
    reference = float(np.quantile(ridges.curvature[interior], reference_rank))
    bright_at = float(np.quantile(excess[interior], bright_rank))
    problem = "" if reference > 0.0 else "no breast tissue found away from the skin line"
    return _Gates(interior, excess >= bright_at, excess, bright_at, reference, problem)


def _lumen(
    ridges: RidgeMap, root: Point, gates: _Gates
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], str]:
    """Return the lumen connected to the orifice, where it passed the high threshold, and why not.

    The lumen is empty (and the reason said) when nothing bright and tubular reaches
    the orifice.
    """
    empty = np.zeros(ridges.response.shape, dtype=bool)
    reference = gates.reference
    response = np.where(gates.interior & gates.bright, ridges.response, 0.0)
    mask = apply_hysteresis_threshold(response, LOW_FACTOR * reference, HIGH_FACTOR * reference)  # type: ignore[no-untyped-call]  # scikit-image is not annotated
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    if count == 0:
        return empty, empty, "no bright tubular structure (contrast-filled duct) in the breast"
    distance, (rows, columns) = ndimage.distance_transform_edt(labels == 0, return_indices=True)
    row = min(max(round(root[1]), 0), labels.shape[0] - 1)
    column = min(max(round(root[0]), 0), labels.shape[1] - 1)
    # From the orifice itself: it may lie off the grid (a landmark outside the image).
    outside = math.dist(root, (column, row))
    reach = (float(distance[row, column]) + outside) * ridges.spacing_mm
    if reach > ORIFICE_REACH_MM:
        return (
            empty,
            empty,
            (
                f"no contrast-filled duct within {ORIFICE_REACH_MM:.0f} mm of the orifice "
                f"(nearest {reach:.0f} mm): is the nipple landmark right?"
            ),
        )
    nearest = labels[rows[row, column], columns[row, column]]
    lobe = _bridged(labels, labels == nearest, GAP_MM / ridges.spacing_mm)
    return lobe, lobe & (response >= LEAF_FACTOR * reference), ""


def _bridged(
    labels: NDArray[np.int32], lobe: NDArray[np.bool_], gap_px: float
) -> NDArray[np.bool_]:
    """Grow the lobe by the pieces within ``gap_px`` of it, each joined by a straight bridge.

    The ridge measure is weak where a duct branches, narrows or holds a defect, so one
    duct's lumen falls apart into pieces a few pixels apart; each piece (which passed
    the high threshold on its own) is joined to the lobe at its nearest point.
    """
    lobe = lobe.copy()
    while True:
        distance, (rows, columns) = ndimage.distance_transform_edt(~lobe, return_indices=True)
        close = (distance <= gap_px) & (labels > 0) & ~lobe
        found = np.unique(labels[close])
        if found.size == 0:
            return lobe
        for number in found.tolist():
            piece = labels == number
            inside = np.where(piece, distance, np.inf)
            start = np.unravel_index(int(np.argmin(inside)), inside.shape)
            end = (rows[start], columns[start])
            ends = (int(start[0]), int(start[1]), int(end[0]), int(end[1]))
            bridge_rows, bridge_columns = line(*ends)  # type: ignore[no-untyped-call]  # scikit-image is not annotated
            lobe |= piece
            lobe[bridge_rows, bridge_columns] = True


# ------------------------------------------------------------------ the tree


@dataclass(slots=True)
class _Piece:
    """A branch under construction: working-grid pixels (row, column), parent piece."""

    pixels: list[tuple[int, int]]
    parent: int | None
    alive: bool = True


def _pieces(skeleton: NDArray[np.bool_], root: Point) -> list[_Piece]:
    """Split the shortest-path tree of the skeleton from the orifice into branches."""
    rows, columns = np.nonzero(skeleton)
    if rows.size == 0:
        return []
    graph: nx.Graph[tuple[int, int]] = nx.Graph()
    graph.add_nodes_from(zip(rows.tolist(), columns.tolist(), strict=True))
    padded = np.pad(skeleton, 1)
    for d_row, d_column in ((0, 1), (1, 0), (1, 1), (1, -1)):
        neighbour = padded[1 + d_row : 1 + d_row + skeleton.shape[0], 1 + d_column :][
            :, : skeleton.shape[1]
        ]
        r, c = np.nonzero(skeleton & neighbour)
        weight = math.hypot(d_row, d_column)
        graph.add_edges_from(
            ((a, b), (a + d_row, b + d_column), {"weight": weight})
            for a, b in zip(r.tolist(), c.tolist(), strict=True)
        )
    nearest = int(np.argmin(np.hypot(columns - root[0], rows - root[1])))
    start = (int(rows[nearest]), int(columns[nearest]))
    predecessors, _distance = nx.dijkstra_predecessor_and_distance(graph, start)
    below: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for node, before in predecessors.items():
        if before:
            below.setdefault(before[0], []).append(node)
    pieces: list[_Piece] = []
    stack: list[tuple[tuple[int, int], int | None]] = [(start, None)]
    while stack:
        node, parent = stack.pop()
        # A branch starts at its parent's last pixel (the branch point) so they join.
        pixels = [node] if parent is None else [pieces[parent].pixels[-1], node]
        following = below.get(node, [])
        while len(following) == 1:
            node = following[0]
            pixels.append(node)
            following = below.get(node, [])
        pieces.append(_Piece(pixels, parent))
        number = len(pieces) - 1
        stack.extend((child, number) for child in following)
    return pieces


def _length(pixels: Sequence[tuple[float, float]]) -> float:
    return float(sum(math.dist(a, b) for a, b in itertools.pairwise(pixels)))


def _prune(
    pieces: list[_Piece],
    spur_px: float,
    width: NDArray[np.float64],
    strong: NDArray[np.bool_],
    root: Point,
    spacing_mm: float,
) -> list[_Piece]:
    """Drop spurs, weak leaves and stray patches, merging through the branch points left.

    Leaves are judged, the pruned ones dropped and the branch points left with one
    child merged away, until no leaf is dropped (merging first, so that a duct whose
    skeleton sprouts a twig every few mm is judged whole, not eaten twig by twig).
    """
    while True:
        _merge_chains(pieces)
        kids = _kids(pieces)
        pruned = False
        for number, piece in enumerate(pieces):
            leaf = piece.alive and piece.parent is not None and number not in kids
            if leaf and not _leaf_kept(piece.pixels, spur_px, width, strong, root, spacing_mm):
                piece.alive = False
                pruned = True
        if not pruned:
            break
    order: list[int] = []
    todo = [n for n, p in enumerate(pieces) if p.alive and p.parent is None][:1]
    while todo:
        number = todo.pop(0)
        order.append(number)
        todo.extend(n for n, p in enumerate(pieces) if p.alive and p.parent == number)
    renumber = {old: new for new, old in enumerate(order)}
    result = []
    for old in order:
        parent = pieces[old].parent
        result.append(_Piece(pieces[old].pixels, None if parent is None else renumber[parent]))
    return result


def _leaf_kept(
    pixels: Sequence[tuple[int, int]],
    spur_px: float,
    width: NDArray[np.float64],
    strong: NDArray[np.bool_],
    root: Point,
    spacing_mm: float,
) -> bool:
    """Return whether a leaf branch is a duct.

    * a **spur** is shorter than :data:`SPUR_MM` plus the lumen's half-width where it
      leaves: the skeleton of a wide duct sprouts side twigs about that long;
    * a **weak** leaf passes :data:`LEAF_FACTOR` on under :data:`STRONG_FRACTION` of its
      length beyond its first :data:`SPUR_MM`: a strand of gland that only the low
      threshold joined to a duct;
    * a **stray patch** is wider than :data:`PATCH_HALF_WIDTH_MM` (half-width, median)
      and does not head away from the orifice (it gains less than :data:`AWAY_FRACTION`
      of its length in distance from it): ducts branch out from the nipple, a patch
      of dense gland beside a duct lies any way.
    """
    length = _length(pixels)
    if length < spur_px + width[pixels[0]]:
        return False
    beyond = pixels[int(spur_px) :]
    hits = sum(bool(strong[p]) for p in beyond)
    if hits < 2 or hits < STRONG_FRACTION * len(beyond):
        return False
    (first_row, first_column), (last_row, last_column) = pixels[0], pixels[-1]
    away = math.dist((last_column, last_row), root) - math.dist((first_column, first_row), root)
    rows, columns = zip(*pixels, strict=True)
    half_width_mm = float(np.median(width[list(rows), list(columns)])) * spacing_mm
    return not (away < AWAY_FRACTION * length and half_width_mm > PATCH_HALF_WIDTH_MM)


def _kids(pieces: Sequence[_Piece]) -> dict[int, list[int]]:
    """Return the living children of each piece."""
    kids: dict[int, list[int]] = {}
    for number, piece in enumerate(pieces):
        if piece.alive and piece.parent is not None:
            kids.setdefault(piece.parent, []).append(number)
    return kids


def _merge_chains(pieces: list[_Piece]) -> None:
    """Join each piece left with one child to that child (the branch point is gone)."""
    merged = True
    while merged:
        merged = False
        kids = _kids(pieces)
        for number, piece in enumerate(pieces):
            only = kids.get(number, [])
            if piece.alive and len(only) == 1:
                child = pieces[only[0]]
                piece.pixels.extend(child.pixels[1:])
                child.alive = False
                for other in pieces:
                    if other.alive and other.parent == only[0]:
                        other.parent = number
                merged = True
                break


def _branch(
    number: int,
    piece: _Piece,
    generation: int,
    orifice: Point,
    ridges: RidgeMap,
    width: NDArray[np.float64],
    spacing: float | None,
) -> SuggestedBranch:
    """Turn a piece into a branch: SCOORD polyline, simplified; length and calibre."""
    simplified = approximate_polygon(  # type: ignore[no-untyped-call]  # scikit-image is not annotated
        np.asarray(piece.pixels, dtype=np.float64), SIMPLIFY_MM / ridges.spacing_mm
    )
    points = [ridges.stored(c, r) for r, c in simplified.tolist()]
    if piece.parent is None:
        points.insert(0, (float(orifice[0]), float(orifice[1])))
    radii = [float(width[r, c]) - 0.5 for r, c in piece.pixels]
    parent = piece.parent
    branch = SuggestedBranch(number, parent, generation, tuple(points), None, None)
    length = None if spacing is None else round(branch.length_px * spacing, 2)
    calibre = None
    if spacing is not None:
        calibre = round(max(2.0 * float(np.median(radii)), 1.0) * ridges.spacing_mm, 2)
    return SuggestedBranch(number, parent, generation, tuple(points), length, calibre)


def _point_at(points: Sequence[Point], distance: float) -> Point:
    """Return the point ``distance`` px along a polyline (its end if shorter)."""
    for a, b in itertools.pairwise(points):
        length = math.dist(a, b)
        if distance <= length and length > 0:
            t = distance / length
            return (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))
        distance -= length
    return points[-1]


def _crossing(a: Point, b: Point, c: Point, d: Point) -> Point | None:
    """Return where the lines a→b and c→d cross, ``None`` when about parallel."""
    r = (b[0] - a[0], b[1] - a[1])
    q = (d[0] - c[0], d[1] - c[1])
    cross = r[0] * q[1] - r[1] * q[0]
    if abs(cross) < 1e-6 * math.hypot(*r) * math.hypot(*q) + 1e-12:
        return None
    t = ((c[0] - a[0]) * q[1] - (c[1] - a[1]) * q[0]) / cross
    return (a[0] + t * r[0], a[1] + t * r[1])


def _refined_branch_points(
    branches: Sequence[SuggestedBranch], spacing_mm: float, calibrated: bool
) -> tuple[SuggestedBranch, ...]:
    """Move each branch point back along its parent to where its children's axes meet.

    Where two ducts leave each other at an acute angle their lumens overlap for a few
    mm, so the skeleton forks only where they separate, (r1 + r2) / sin(angle) beyond
    the true branch point. The children's axes (their stretch from :data:`AXIS_NEAR_MM`
    to :data:`AXIS_FAR_MM` beyond the fork, past the skeleton's bend into it), extended
    backwards, cross at the true one. When that crossing lies within :data:`MEET_OFF_MM`
    of the parent's centreline and less than :data:`REFINE_MM` back along it, the parent
    is cut at its point nearest the crossing and ends at the crossing, where the
    children start.
    """
    points = {b.index: list(b.points) for b in branches}
    near, far = AXIS_NEAR_MM / spacing_mm, AXIS_FAR_MM / spacing_mm
    for branch in branches:
        kids = [b for b in branches if b.parent == branch.index]
        if len(kids) < 2:
            continue
        (one, two) = kids[:2]
        ends = {kid.index: _point_at(points[kid.index], far) for kid in kids}
        meet = _crossing(
            _point_at(points[one.index], near),
            ends[one.index],
            _point_at(points[two.index], near),
            ends[two.index],
        )
        if meet is None:
            continue
        cut = _cut_back(points[branch.index], meet, REFINE_MM / spacing_mm)
        if cut is None or math.dist(cut[-1], meet) * spacing_mm > MEET_OFF_MM:
            continue
        # The parent ends where the children's axes cross, a step off its own centreline
        # at most: the children's first segments then run along their axes.
        points[branch.index] = [*cut, meet]
        for kid in kids:
            # From the crossing along the child's axis: its vertices behind it are dropped.
            end = ends[kid.index]
            axis = (end[0] - meet[0], end[1] - meet[1])
            ahead = [
                p
                for p in points[kid.index][1:-1]
                if (p[0] - meet[0]) * axis[0] + (p[1] - meet[1]) * axis[1] > 0
            ]
            points[kid.index] = [meet, *ahead, points[kid.index][-1]]
    moved = (replace(b, points=tuple(points[b.index])) for b in branches)
    return tuple(
        replace(b, length_mm=round(b.length_px * spacing_mm, 2) if calibrated else None)
        for b in moved
    )


def _cut_back(points: Sequence[Point], target: Point, reach: float) -> list[Point] | None:
    """Return the polyline cut at its point nearest ``target``, if within ``reach`` of its end.

    ``None`` when that point lies farther back along the polyline than ``reach`` px, or
    at its very start (a branch keeps some length).
    """
    best: tuple[float, int, Point] | None = None
    for number, (a, b) in enumerate(itertools.pairwise(points)):
        dx, dy = b[0] - a[0], b[1] - a[1]
        squared = dx * dx + dy * dy
        t = 0.0 if squared == 0 else ((target[0] - a[0]) * dx + (target[1] - a[1]) * dy) / squared
        t = min(max(t, 0.0), 1.0)
        foot = (a[0] + t * dx, a[1] + t * dy)
        distance = math.dist(foot, target)
        if best is None or distance < best[0]:
            best = (distance, number, foot)
    if best is None:
        return None
    _, number, foot = best
    kept = [*points[: number + 1], foot]
    before = _length(kept)
    if _length(points) - before > reach or before <= 0.0:
        return None
    return kept
