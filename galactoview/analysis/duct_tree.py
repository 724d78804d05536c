"""Suggest the opacified duct tree of a galactogram, rooted at the cannulated orifice (Qt-free).

Nothing here is a finding: the viewer shows the result as a suggestion, and a branch
becomes a traced duct segment only when a reader accepts it.

The method, in order (each step a well-kept library call where one exists):

1. **Ridges** — :func:`galactoview.analysis.ridges.ridge_map`, a multiscale Hessian
   measure on a ~0.4 mm working grid (contrast is bright).
2. **Lumen** — hysteresis thresholding (scikit-image) of the ridge measure at 2.5 and 7.5
   times its median over the breast, leaving out a 5 mm band inside the skin line (the
   skin is a ridge too). The connected part nearest the orifice, within 12 mm, is the
   injected lobe; anything else bright (a vessel, calcified duct of another lobe) is not
   connected to the cannula and is left out.
3. **Skeleton** — scikit-image's ``skeletonize``.
4. **Tree** — the skeleton as a graph (networkx), the shortest-path tree from the
   skeleton pixel nearest the orifice: where ducts cross in projection the loop is cut
   on the longer way round. Branches run between branch points; leaf branches shorter
   than 3 mm are spurs of the skeleton and pruned. The trunk starts at the orifice (the
   few mm through the nipple, inside the skin band, are the straight link).

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
from skimage.morphology import skeletonize

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
#: Hysteresis thresholds, as multiples of the ridge measure's median over the breast.
LOW_FACTOR, HIGH_FACTOR = 2.5, 7.5
#: A leaf branch must reach this multiple somewhere beyond its first few mm.
LEAF_FACTOR = 4.5
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
#: Leaf branches shorter than this (plus the lumen's width) are skeleton spurs (mm).
SPUR_MM = 3.0
#: Farthest a branch point moves back to where its children's axes meet (mm).
REFINE_MM = 4.0
#: Polyline simplification tolerance (mm).
SIMPLIFY_MM = 0.25


def suggest_duct_tree(
    stored: NDArray[Any],
    pipeline: DisplayPipeline,
    pixel_spacing_mm: float | None,
    orifice: Point,
    *,
    ridges: RidgeMap | None = None,
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
    ridges
        A ridge map already computed for this image (else computed here).

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
    ridges = ridges if ridges is not None else ridge_map(stored, pipeline, spacing)
    step = ridges.step
    root = (orifice[0] / step - 0.5, orifice[1] / step - 0.5)  # working (column, row)
    lumen, strong, problem = _lumen(ridges, root)
    branches: tuple[SuggestedBranch, ...] = ()
    if not problem:
        skeleton = skeletonize(lumen)  # type: ignore[no-untyped-call]  # scikit-image is not annotated
        width = ndimage.distance_transform_edt(lumen)
        pieces = _prune(_pieces(skeleton, root), SPUR_MM / ridges.spacing_mm, width, strong)
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


def _lumen(ridges: RidgeMap, root: Point) -> tuple[NDArray[np.bool_], NDArray[np.bool_], str]:
    """Return the lumen connected to the orifice, where it passed the high threshold, and why not.

    The lumen is empty (and the reason said) when nothing bright and tubular reaches
    the orifice.
    """
    brightness = ridges.brightness
    empty = np.zeros(brightness.shape, dtype=bool)
    if float(brightness.max()) <= float(brightness.min()):
        return empty, empty, "the image is uniform: no breast, no contrast"
    breast = brightness > threshold_otsu(brightness)  # type: ignore[no-untyped-call]  # scikit-image is not annotated
    depth = ndimage.distance_transform_edt(breast) * ridges.spacing_mm
    interior = depth > SKIN_BAND_MM
    reference = float(np.median(ridges.response[interior])) if interior.any() else 0.0
    if reference <= 0.0:
        return empty, empty, "no breast tissue found away from the skin line"
    # Contrast over the local tissue (a grey opening wider than a duct): a strand of
    # gland is a ridge too, but far less bright over its surroundings than iodine.
    smooth = ndimage.gaussian_filter(brightness, 0.7)
    size = 2 * max(1, round(TOPHAT_MM / ridges.spacing_mm / 2)) + 1
    excess = smooth - ndimage.grey_opening(smooth, size=size)
    bright = excess >= np.percentile(excess[interior], TOPHAT_PERCENTILE)
    response = np.where(interior & bright, ridges.response, 0.0)
    mask = apply_hysteresis_threshold(response, LOW_FACTOR * reference, HIGH_FACTOR * reference)  # type: ignore[no-untyped-call]  # scikit-image is not annotated
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    if count == 0:
        return empty, empty, "no bright tubular structure (contrast-filled duct) in the breast"
    distance, (rows, columns) = ndimage.distance_transform_edt(labels == 0, return_indices=True)
    row = min(max(round(root[1]), 0), labels.shape[0] - 1)
    column = min(max(round(root[0]), 0), labels.shape[1] - 1)
    reach = float(distance[row, column]) * ridges.spacing_mm
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


def _length(pixels: Sequence[tuple[int, int]]) -> float:
    return float(sum(math.dist(a, b) for a, b in itertools.pairwise(pixels)))


def _prune(
    pieces: list[_Piece],
    spur_px: float,
    width: NDArray[np.float64],
    strong: NDArray[np.bool_],
) -> list[_Piece]:
    """Drop spurs and weak leaves, and merge through the branch points left.

    A leaf is a spur when shorter than :data:`SPUR_MM` plus twice the lumen's half-width
    at its branch point: the skeleton of a wide duct sprouts side twigs about as long as
    the duct is wide. A leaf is weak when, beyond its first :data:`SPUR_MM`, it never
    reaches :data:`LEAF_FACTOR` itself: a strand of gland that only the low threshold
    joined to a duct.
    """
    changed = True
    while changed:
        changed = False
        kids: dict[int, list[int]] = {}
        for number, piece in enumerate(pieces):
            if piece.alive and piece.parent is not None:
                kids.setdefault(piece.parent, []).append(number)
        for number, piece in enumerate(pieces):
            leaf = piece.alive and piece.parent is not None and number not in kids
            short = _length(piece.pixels) < spur_px + 2.0 * width[piece.pixels[0]]
            weak = sum(bool(strong[p]) for p in piece.pixels[int(spur_px) :]) < 2
            if leaf and (short or weak):
                piece.alive = False
                changed = True
        if changed:
            continue
        for number, piece in enumerate(pieces):
            only = kids.get(number, [])
            if piece.alive and len(only) == 1:
                child = pieces[only[0]]
                piece.pixels.extend(child.pixels[1:])
                child.alive = False
                for other in pieces:
                    if other.parent == only[0]:
                        other.parent = number
                changed = True
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
    step = ridges.step
    simplified = approximate_polygon(  # type: ignore[no-untyped-call]  # scikit-image is not annotated
        np.asarray(piece.pixels, dtype=np.float64), SIMPLIFY_MM / ridges.spacing_mm
    )
    points = [((c + 0.5) * step, (r + 0.5) * step) for r, c in simplified.tolist()]
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
    """Move each branch point back to where its two children's axes meet.

    Where two ducts leave each other at an acute angle their lumens overlap for a few
    mm, so the skeleton forks only where they separate, (r1 + r2) / sin(angle) beyond
    the true branch point. The children's first few mm, extended backwards, cross at
    the true one; the fork moves there when it is less than :data:`REFINE_MM` away.
    """
    points = {b.index: list(b.points) for b in branches}
    for branch in branches:
        kids = [b for b in branches if b.parent == branch.index]
        if len(kids) < 2:
            continue
        fork = points[branch.index][-1]
        near, far = 1.0 / spacing_mm, 4.0 / spacing_mm
        (one, two) = kids[:2]
        meet = _crossing(
            _point_at(points[one.index], near),
            _point_at(points[one.index], far),
            _point_at(points[two.index], near),
            _point_at(points[two.index], far),
        )
        if meet is None or math.dist(meet, fork) * spacing_mm > REFINE_MM:
            continue
        points[branch.index][-1] = meet
        for kid in kids:
            points[kid.index][0] = meet
    moved = (replace(b, points=tuple(points[b.index])) for b in branches)
    return tuple(
        replace(b, length_mm=round(b.length_px * spacing_mm, 2) if calibrated else None)
        for b in moved
    )
