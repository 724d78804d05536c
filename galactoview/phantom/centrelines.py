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
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from galactoview.phantom.anatomy import Breast, DuctSegment
from galactoview.phantom.geometry import ViewGeometry

__all__ = ["ProjectedSegment", "centreline_truth", "duct_parents", "projected_centrelines"]

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
