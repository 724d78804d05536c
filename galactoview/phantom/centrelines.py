"""Ground truth of the opacified duct tree as each image shows it: projected centrelines.

Issue 16 validates a duct-tree suggestion on phantoms: it needs, per image, where the
centreline of every contrast-filled duct segment projects (a polyline in SCOORD pixel
coordinates ``(column, row)``, PS3.3 C.18.6.1.2, the same as the marks'), which segment it
branches from, and its projected radius, i.e. what a perfect tracer would find.

The phantom's ducts are straight truncated cones (:class:`~galactoview.phantom.anatomy.
DuctSegment`); the tree is implicit in their geometry (a branch starts where its parent
ends), so the parent links are recovered here. Projection is the exposure's own
perspective projection (:meth:`~galactoview.phantom.geometry.ViewGeometry.project`), the
radius scales with the local magnification, as the lesions' ``projected_radius_px`` does.
The filling defects (papillomas) are given the same way, with the segment that holds them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from galactoview.phantom.anatomy import Breast, DuctSegment, LesionKind
from galactoview.phantom.geometry import ViewGeometry

__all__ = [
    "ProjectedSegment",
    "centreline_truth",
    "defect_truth",
    "duct_parents",
    "projected_centrelines",
    "segment_holding",
]

#: Two segment ends closer than this (mm) are the same branch point.
_JOIN_MM = 1e-6


@dataclass(frozen=True, slots=True)
class ProjectedSegment:
    """One duct segment's centreline on one image.

    Attributes
    ----------
    index
        The segment's index in :attr:`Breast.ducts` (growth order, trunk first).
    parent
        Index of the segment it branches from; ``None`` for the trunk at the orifice.
    order
        Branch order (0: trunk, +1 at each bifurcation).
    points
        Start and end of the centreline, SCOORD ``(column, row)`` in stored pixels.
    radius_px
        Projected lumen radius at the start and the end, in pixels.
    radius_mm
        Lumen radius at the start and the end, in mm (in the breast).
    """

    index: int
    parent: int | None
    order: int
    points: tuple[tuple[float, float], tuple[float, float]]
    radius_px: tuple[float, float]
    radius_mm: tuple[float, float]

    @property
    def length_px(self) -> float:
        """Length of the projected centreline in pixels."""
        (x0, y0), (x1, y1) = self.points
        return math.hypot(x1 - x0, y1 - y0)


def duct_parents(ducts: Sequence[DuctSegment]) -> tuple[int | None, ...]:
    """Return each segment's parent: the earlier segment whose end is its start.

    Parameters
    ----------
    ducts
        The segments in growth order (a parent comes before its branches).

    Returns
    -------
    tuple of int or None
        The parent's index per segment; ``None`` where no earlier segment ends at its
        start (the trunk).
    """
    parents: list[int | None] = []
    for number, segment in enumerate(ducts):
        found = None
        for candidate in range(number - 1, -1, -1):
            if math.dist(ducts[candidate].end, segment.start) <= _JOIN_MM:
                found = candidate
                break
        parents.append(found)
    return tuple(parents)


def projected_centrelines(breast: Breast, geometry: ViewGeometry) -> tuple[ProjectedSegment, ...]:
    """Project every contrast-filled duct segment of a breast onto one exposure.

    Parameters
    ----------
    breast
        The phantom breast (its :attr:`~Breast.ducts`; none for a breast not injected).
    geometry
        The exposure.

    Returns
    -------
    tuple of ProjectedSegment
        One per segment, in growth order.
    """
    if not breast.ducts:
        return ()
    ends = np.array([(s.start, s.end) for s in breast.ducts], dtype=np.float64)  # (n, 2, 3)
    flat = ends.reshape(-1, 3)
    projected = geometry.project(flat).reshape(-1, 2, 2)
    magnification = geometry.local_magnification(flat).reshape(-1, 2)
    result = []
    for number, (segment, parent) in enumerate(
        zip(breast.ducts, duct_parents(breast.ducts), strict=True)
    ):
        (c0, r0), (c1, r1) = projected[number]
        m0, m1 = magnification[number]
        result.append(
            ProjectedSegment(
                number,
                parent,
                segment.order,
                ((float(c0), float(r0)), (float(c1), float(r1))),
                (
                    segment.radius_start * float(m0) / geometry.pixel_spacing,
                    segment.radius_end * float(m1) / geometry.pixel_spacing,
                ),
                (segment.radius_start, segment.radius_end),
            )
        )
    return tuple(result)


def centreline_truth(breast: Breast, geometry: ViewGeometry) -> list[dict[str, Any]]:
    """Return the projected centrelines as JSON-ready ground truth (2 decimals).

    Parameters
    ----------
    breast, geometry
        As :func:`projected_centrelines`.

    Returns
    -------
    list of dict
        ``{"index", "parent", "order", "points": [[column, row], [column, row]],
        "radius_px": [start, end], "radius_mm": [start, end]}`` per segment.
    """
    return [
        {
            "index": segment.index,
            "parent": segment.parent,
            "order": segment.order,
            "points": [[round(c, 2), round(r, 2)] for c, r in segment.points],
            "radius_px": [round(v, 2) for v in segment.radius_px],
            "radius_mm": [round(v, 3) for v in segment.radius_mm],
        }
        for segment in projected_centrelines(breast, geometry)
    ]


def segment_holding(point: tuple[float, float, float], ducts: Sequence[DuctSegment]) -> int:
    """Return the index of the segment whose axis passes nearest to ``point`` (3-D).

    Parameters
    ----------
    point
        A point in the nipple frame (mm), e.g. a papilloma's centre.
    ducts
        The segments (not empty).

    Returns
    -------
    int
        The index in ``ducts``; the first one on a tie (a point on a joint).
    """
    p = np.asarray(point, dtype=np.float64)
    best, best_distance = 0, math.inf
    for number, segment in enumerate(ducts):
        a, b = np.asarray(segment.start), np.asarray(segment.end)
        ab = b - a
        denom = float(ab @ ab)
        t = 0.0 if denom == 0.0 else min(1.0, max(0.0, float((p - a) @ ab) / denom))
        distance = float(np.linalg.norm(p - (a + t * ab)))
        if distance < best_distance:
            best, best_distance = number, distance
    return best


def defect_truth(breast: Breast, geometry: ViewGeometry) -> list[dict[str, Any]]:
    """Return each filling defect as one image shows it (JSON-ready, 2 decimals).

    A filling defect is a papilloma: a soft-tissue ball in the lumen, which the contrast
    flows around (:attr:`Breast.papillomas`, paired in order with the
    ``intraluminal_filling_defect`` lesions).

    Parameters
    ----------
    breast, geometry
        As :func:`projected_centrelines`.

    Returns
    -------
    list of dict
        ``{"id", "column", "row", "projected_radius_px", "radius_mm", "segment"}`` per
        defect: the projected centre (SCOORD pixels), the ball's radius projected with the
        local magnification, its radius in mm and the index of the duct segment it sits in.
    """
    if not breast.ducts or not breast.papillomas:
        return []
    ids = [
        lesion.identifier for lesion in breast.lesions if lesion.kind is LesionKind.FILLING_DEFECT
    ]
    ids += [f"defect-{n}" for n in range(len(ids) + 1, len(breast.papillomas) + 1)]
    centres = np.array([ball.center for ball in breast.papillomas], dtype=np.float64)
    projected = geometry.project(centres)
    magnification = geometry.local_magnification(centres)
    return [
        {
            "id": identifier,
            "column": round(float(projected[number][0]), 2),
            "row": round(float(projected[number][1]), 2),
            "projected_radius_px": round(
                ball.radius * float(magnification[number]) / geometry.pixel_spacing, 2
            ),
            "radius_mm": round(ball.radius, 3),
            "segment": segment_holding(ball.center, breast.ducts),
        }
        for number, (identifier, ball) in enumerate(zip(ids, breast.papillomas, strict=False))
    ]
