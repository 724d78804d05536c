"""Collision-free placement of the labels of marks on an image or in a view (Qt-free).

Each mark's label is a box of a given size (measured by the caller, e.g. with Qt's font
metrics) placed near the mark so that no two label boxes overlap, no box covers a mark
(when that can be avoided) and every box stays inside the image; a box placed away from
its mark gets a leader segment from the box's edge to the mark.

Written by hand: point-feature label placement is an NP-hard problem with no small,
maintained Python library to lean on (the cartographic tools that solve it are whole GIS
stacks), and a deterministic greedy placement is enough for a few marks per image. For
each label in turn, candidate boxes are tried on rings of growing radius around the
mark (16 directions each), then on a grid over the whole image nearest first; the first
box that overlaps no placed label, no obstacle and no other placed leader, and is at
least half the gap from its mark, wins. When none exists the rules relax in order (first
a box may cover a mark, then its leader may cross one, then it may be nearer); a label
for which no box fits inside the image beside the ones placed is returned as not
placed, so the caller can list it beside the image instead.

All coordinates are image pixels: x to the right, y down.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from galactoview.reading.rect import Rect

__all__ = [
    "LabelLayout",
    "LabelRequest",
    "PlacedLabel",
    "Rect",
    "place_labels",
]

#: Directions tried on each ring, in preference order (0° is to the right, 90° up):
#: upper right first (the habit of annotation labels), then round the compass.
_ANGLES_DEG: Final = (
    *(45.0, 0.0, 90.0, 315.0, 135.0, 270.0, 180.0, 225.0),
    *(22.5, 67.5, 337.5, 112.5, 292.5, 157.5, 247.5, 202.5),
)
#: Number of rings tried before the grid over the whole image.
_RINGS: Final = 8
#: The rules of :func:`_choose`, strictest first, relaxed in turn: (the box covers no
#: mark, its leader crosses no mark or label, it keeps half the gap from its mark).
_LEVELS: Final = (
    (True, True, True),
    (False, True, True),
    (False, False, True),
    (False, False, False),
)


@dataclass(frozen=True, slots=True)
class LabelRequest:
    """A label to place.

    Attributes
    ----------
    key
        Identifies the label to the caller (e.g. the finding's short id).
    target
        The mark's bounding box: the label goes around it and its leader ends on it.
    width, height
        The label box's size, as the caller will draw it (text plus its plate).
    """

    key: str
    target: Rect
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class PlacedLabel:
    """Where a label goes.

    Attributes
    ----------
    key
        The request's key.
    box
        The label's box, inside the image.
    leader
        ``(start, end)``: from the point of the box nearest the mark to the mark's edge;
        ``None`` when the box is next to its mark.
    covers_mark
        True when no box was free of every mark and this one covers part of one.
    """

    key: str
    box: Rect
    leader: tuple[tuple[float, float], tuple[float, float]] | None
    covers_mark: bool = False


@dataclass(frozen=True, slots=True)
class LabelLayout:
    """The placed labels of one image.

    Attributes
    ----------
    placed
        In request order (without the unplaced ones).
    unplaced
        Keys of the labels for which no free box inside the image exists.
    """

    placed: tuple[PlacedLabel, ...]
    unplaced: tuple[str, ...] = ()

    def boxes(self) -> dict[str, Rect]:
        """Return each placed label's box by key."""
        return {label.key: label.box for label in self.placed}


def _leader(
    box: Rect, target: Rect, touching: float
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Return the segment from the box towards the target's centre, ending on its edge."""
    if box.separation(target) <= touching:
        return None
    cx, cy = target.centre
    start = box.nearest_point(cx, cy)
    # Enter the target's box along the segment from `start` to the centre.
    sx, sy = start
    dx, dy = cx - sx, cy - sy
    # Parameters along start → centre where the segment meets the target's edges.
    hits = [0.0]
    if dx != 0.0:
        hits.append(((target.left if dx > 0 else target.right) - sx) / dx)
    if dy != 0.0:
        hits.append(((target.top if dy > 0 else target.bottom) - sy) / dy)
    t = min(max(hits), 1.0)
    return (start, (sx + t * dx, sy + t * dy))


def _ring(request: LabelRequest, radius: float) -> list[Rect]:
    """Return the candidate boxes at `radius` around the target, in preference order.

    A box's centre lies on the edge of the target grown by the radius and half the box,
    in each direction, so at radius ``r`` the box is ``r`` away from the target.
    """
    cx, cy = request.target.centre
    half_w = request.target.width / 2.0 + radius + request.width / 2.0
    half_h = request.target.height / 2.0 + radius + request.height / 2.0
    boxes = []
    for angle in _ANGLES_DEG:
        ux, uy = math.cos(math.radians(angle)), -math.sin(math.radians(angle))
        scale = max(abs(ux), abs(uy))
        x, y = cx + half_w * ux / scale, cy + half_h * uy / scale
        boxes.append(
            Rect(x - request.width / 2.0, y - request.height / 2.0, request.width, request.height)
        )
    return boxes


def _grid(request: LabelRequest, image: Rect) -> list[Rect]:
    """Return boxes on a grid over the whole image, nearest the target first."""
    step_x = max(request.width / 2.0, 1.0)
    step_y = max(request.height / 2.0, 1.0)
    columns = max(int((image.width - request.width) / step_x), 0)
    rows = max(int((image.height - request.height) / step_y), 0)
    cx, cy = request.target.centre
    boxes = [
        Rect(image.left + i * step_x, image.top + j * step_y, request.width, request.height)
        for j in range(rows + 1)
        for i in range(columns + 1)
    ]
    boxes.sort(key=lambda b: (math.hypot(b.centre[0] - cx, b.centre[1] - cy), b.top, b.left))
    return boxes


def _inside(box: Rect, image: Rect) -> Rect:
    """Return the box shifted (not resized) to lie inside the image where it fits."""
    left = min(max(box.left, image.left), image.right - box.width)
    top = min(max(box.top, image.top), image.bottom - box.height)
    return Rect(left, top, box.width, box.height)


def place_labels(
    width: float,
    height: float,
    requests: Sequence[LabelRequest],
    obstacles: Sequence[Rect] = (),
    *,
    gap: float = 4.0,
    step: float | None = None,
    leader_beyond: float | None = None,
) -> LabelLayout:
    """Place labels next to their marks without collisions, deterministically.

    Parameters
    ----------
    width, height
        The image's size in pixels.
    requests
        The labels, placed in this order (the first gets the best spot).
    obstacles
        Other things a label must not cover when avoidable: the marks' geometry (the
        requests' targets are obstacles too), orientation letters, a scale bar.
    gap
        Distance between a label and its mark on the first ring.
    step
        Growth of the ring's radius; by default the tallest label's height.
    leader_beyond
        A box further than this from its mark gets a leader; by default `gap` (a box on
        the first ring has none). 0 gives every label a leader (an arrow to its mark).

    Returns
    -------
    LabelLayout
        No two placed boxes intersect and every one lies inside the image; a box
        further than `leader_beyond` from its mark has a leader.
    """
    image = Rect(0.0, 0.0, width, height)
    walls = [*obstacles, *(r.target for r in requests)]
    ring_step = step if step is not None else max((r.height for r in requests), default=1.0)
    touching = (gap if leader_beyond is None else leader_beyond) + 1e-6
    placed: list[PlacedLabel] = []
    unplaced: list[str] = []
    for request in requests:
        if request.width > width or request.height > height:
            unplaced.append(request.key)
            continue
        # Ring by ring, nearest first: the first ring with a box passing every rule
        # gives the same answer as trying all the rings in order, without building and
        # testing the outer ones (most of opening 50 marks). Only the walls near a ring
        # can meet its boxes or their leaders (both lie within the ring's bounds).
        rings: list[Rect] = []
        choice = None
        for ring in range(_RINGS):
            boxes = [_inside(box, image) for box in _ring(request, gap + ring * ring_step)]
            bounds = Rect.around(
                [corner for box in (*boxes, request.target) for corner in _corners(box)], 1.0
            )
            near = [wall for wall in walls if wall.intersects(bounds)]
            choice = _choose(request, boxes, placed, near, touching, gap / 2.0, _LEVELS[:1])
            if choice is not None:
                break
            rings.extend(boxes)
        # The grid (thousands of boxes, sorted) only when no ring box passes every rule:
        # the result is the same, since the rings come first in the order tried.
        if choice is None:
            candidates = [*rings, *_grid(request, image)]
            choice = _choose(request, candidates, placed, walls, touching, gap / 2.0, _LEVELS)
        if choice is None:
            unplaced.append(request.key)
            continue
        placed.append(choice)
    return LabelLayout(tuple(placed), tuple(unplaced))


def _choose(
    request: LabelRequest,
    candidates: Sequence[Rect],
    placed: Sequence[PlacedLabel],
    walls: Sequence[Rect],
    touching: float,
    near: float,
    levels: Sequence[tuple[bool, bool, bool]],
) -> PlacedLabel | None:
    """Return the first candidate that passes the strictest rules any candidate passes."""
    own = request.target
    others = [wall for wall in walls if wall is not own]
    for strict_marks, strict_leaders, strict_gap in levels:
        for box in candidates:
            if any(box.intersects(label.box) for label in placed):
                continue
            if strict_gap and box.separation(own) < near:
                continue  # pushed against its mark by the image's edge: the arrow would vanish
            covers = box.intersects(own) or any(box.intersects(w) for w in others)
            if strict_marks and covers:
                continue
            leader = _leader(box, own, touching)
            if strict_leaders and leader is not None:
                start, end = leader
                if any(label.box.crosses(start, end) for label in placed) or any(
                    w.crosses(start, end) for w in others if not w.intersects(own)
                ):
                    continue
                if any(
                    label.leader is not None and _segments_cross(leader, label.leader)
                    for label in placed
                ):
                    continue
            return PlacedLabel(request.key, box, leader, covers)
    return None


def _corners(box: Rect) -> tuple[tuple[float, float], tuple[float, float]]:
    """Return a box's top-left and bottom-right corners."""
    return (box.left, box.top), (box.right, box.bottom)


def _segments_cross(
    a: tuple[tuple[float, float], tuple[float, float]],
    b: tuple[tuple[float, float], tuple[float, float]],
) -> bool:
    """Return whether two segments properly cross."""

    def side(p: tuple[float, float], q: tuple[float, float], r: tuple[float, float]) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    (p1, p2), (q1, q2) = a, b
    d1, d2 = side(q1, q2, p1), side(q1, q2, p2)
    d3, d4 = side(p1, p2, q1), side(p1, p2, q2)
    return d1 * d2 < 0.0 and d3 * d4 < 0.0
