"""Where each overlay text of a viewport goes, so that none overlaps another (Qt-free).

A viewport shows four corner blocks of text (:mod:`galactoview.reading.corner_text`),
the four orientation letters at the middle of its edges, and a scale bar (or the note
that there is none) at the bottom centre. In a small cell they do not all fit: drawn
independently, the letters cover the patient name and the calibration line, and the
patient name runs into the institution. :func:`layout_overlay` places all of them at
once:

* every item has a *slot* (:class:`Slot`): the corner blocks stack their lines from their
  corner (top line first, the bottom blocks ending at the bottom edge), the letters sit
  at the middle of their edge, the scale bar at the bottom centre above the bottom letter;
* items are taken in order of priority (highest first; ties in the order given) and each
  is kept only when the whole arrangement with it still has no two rectangles closer
  than ``gap`` and all of them inside the cell. A corner line is tried at its full width
  with its block in the corner, then with the block moved clear of the letter of its
  edge (under the top letter, above the bottom one: the block stays there for the lines
  that follow); a line that may be abbreviated (``min_width``) is then tried at the
  widest width down to ``min_width`` that fits (the caller elides its text to that
  width with "…"); when a block moves clear of its letter, the lines abbreviated so far
  are widened again as far as the room then allows;
* a line dropped from a block closes the gap: the lines after it move up (or down).

Written by hand: this is a fixed-slot packing problem with a handful of boxes, which no
layout library solves (Qt's layouts place widgets, not prioritised text that may be
dropped; label-placement libraries search free positions around point features, see
:mod:`galactoview.reading.label_layout`), and a greedy pass in priority order is
deterministic, explainable ("the lowest-priority lines go first") and fast enough for
every resize and zoom step (a few dozen boxes).

Sizes are measured by the caller (e.g. Qt's font metrics) and passed in; all coordinates
are logical pixels of the cell: x to the right, y down.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Final

from galactoview.reading.corner_text import CornerLineKind
from galactoview.reading.rect import Rect

__all__ = [
    "CORNER_LINE_PRIORITY",
    "ELIDABLE_KINDS",
    "LETTER_PRIORITY",
    "SCALE_BAR_PRIORITY",
    "OverlayItem",
    "OverlayLayout",
    "PlacedItem",
    "Rect",
    "Slot",
    "layout_overlay",
]

#: Priority of the orientation letters: the reader must always know which side is which.
LETTER_PRIORITY: Final = 100

#: Priority of the scale bar (or of the note that there is none).
SCALE_BAR_PRIORITY: Final = 62

#: Priority of each kind of corner line (higher is kept longer in a small cell). The view
#: label, the window, the calibration (where the mm come from; abbreviated to the pixel
#: size when it must), the inversion and the patient's name come first; the institution
#: and study description go first. The window is placed before the calibration: it is
#: never abbreviated, the calibration's provenance may be.
CORNER_LINE_PRIORITY: Final[Mapping[CornerLineKind, int]] = {
    CornerLineKind.VIEW: 95,
    CornerLineKind.VOI: 92,
    CornerLineKind.CALIBRATION: 90,
    CornerLineKind.INVERTED: 88,
    CornerLineKind.PATIENT_NAME: 85,
    CornerLineKind.PATIENT_ID: 75,
    CornerLineKind.FLIP: 70,
    CornerLineKind.CONTRAST: 68,
    CornerLineKind.FRAME: 66,
    CornerLineKind.PREVIEW: 60,
    CornerLineKind.ZOOM: 55,
    CornerLineKind.STUDY_DATE: 50,
    CornerLineKind.SERIES: 45,
    CornerLineKind.BIRTH_DATE_AND_SEX: 40,
    CornerLineKind.ACCESSION: 35,
    CornerLineKind.INSTITUTION: 30,
    CornerLineKind.STUDY_DESCRIPTION: 25,
}

#: Kinds of corner line that may be abbreviated with "…" rather than dropped.
ELIDABLE_KINDS: Final = frozenset(
    {
        CornerLineKind.PATIENT_NAME,
        CornerLineKind.INSTITUTION,
        CornerLineKind.STUDY_DESCRIPTION,
        CornerLineKind.FRAME,
        CornerLineKind.CALIBRATION,
    }
)

#: Rounding allowed when a rectangle is compared with the margin.
_TOLERANCE: Final = 1e-6

#: Steps of the search for the widest abbreviated width that fits (1/1024 of the range).
_WIDTH_STEPS: Final = 10


class Slot(Enum):
    """Where an overlay item is anchored in its cell."""

    TOP_LEFT = "top left"
    TOP_RIGHT = "top right"
    BOTTOM_LEFT = "bottom left"
    BOTTOM_RIGHT = "bottom right"
    LEFT = "left"
    RIGHT = "right"
    TOP = "top"
    BOTTOM = "bottom"
    SCALE_BAR = "scale bar"

    @property
    def is_corner(self) -> bool:
        """Return whether the slot is a corner block (its items stack)."""
        return self in _CORNERS


@dataclass(frozen=True, slots=True)
class OverlayItem:
    """One box to place: a corner line, a letter or the scale bar.

    Attributes
    ----------
    key
        Unique name of the item, returned with its place.
    slot
        Where it is anchored; the items of a corner slot stack in the order given.
    width, height
        Its measured size (text plus any plate around it).
    priority
        Higher is kept longer when not everything fits.
    min_width
        The narrowest width its text may be abbreviated to; ``None`` when it may not be.
    """

    key: str
    slot: Slot
    width: float
    height: float
    priority: int
    min_width: float | None = None


@dataclass(frozen=True, slots=True)
class PlacedItem:
    """Where an item goes.

    Attributes
    ----------
    key
        The item's key.
    rect
        Its rectangle in the cell.
    elided
        Its width is less than the width measured: the caller abbreviates its text to
        ``rect.width``.
    """

    key: str
    rect: Rect
    elided: bool


@dataclass(frozen=True, slots=True)
class OverlayLayout:
    """The items shown, in the order given, and the keys of those left out.

    Attributes
    ----------
    placed
        The items shown with their rectangles; no two intersect, all inside the cell.
    dropped
        The keys of the items that did not fit, in the order given.
    """

    placed: tuple[PlacedItem, ...] = ()
    dropped: tuple[str, ...] = ()

    def get(self, key: str) -> PlacedItem | None:
        """Return the place of the item with this key, None when it is not shown."""
        return next((item for item in self.placed if item.key == key), None)

    def rects(self) -> dict[str, Rect]:
        """Return the rectangle of each item shown, by key."""
        return {item.key: item.rect for item in self.placed}


def layout_overlay(
    width: float,
    height: float,
    items: Sequence[OverlayItem],
    *,
    margin: float = 4.0,
    gap: float = 2.0,
) -> OverlayLayout:
    """Place the overlay items of a cell so that none overlaps another.

    Parameters
    ----------
    width, height
        Size of the cell.
    items
        The items, corner lines of a block top line first; keys must be unique.
    margin
        Distance of the items from the cell's edges.
    gap
        Least distance between items of different slots (the lines of a block touch).

    Returns
    -------
    OverlayLayout
        The rectangle of each item kept. The same input gives the same layout.

    Raises
    ------
    ValueError
        If two items have the same key.
    """
    keys = [item.key for item in items]
    if len(set(keys)) != len(keys):
        raise ValueError("overlay items must have unique keys")
    geometry = _Geometry(width, height, tuple(items), margin, gap)
    widths: dict[int, float] = {}
    offsets = dict.fromkeys(_CORNERS, 0.0)
    order = sorted(range(len(items)), key=lambda index: (-items[index].priority, index))
    for index in order:
        item = items[index]
        if not (item.width > 0.0 and item.height > 0.0):
            continue
        choices = [offsets]
        clearance = geometry.clearance(item.slot)
        if item.slot.is_corner and clearance > offsets[item.slot]:
            choices.append({**offsets, item.slot: clearance})
        fitted = _fit(geometry, widths, offsets, index, choices)
        if fitted is None:
            continue
        moved = fitted[1] != offsets
        widths[index], offsets = fitted
        if moved:  # a block moved clear of a letter may have room for an abbreviated line
            for done in order:
                if done in widths and widths[done] < items[done].width:
                    widths[done] = _widest(geometry, widths, offsets, done, widths[done])
    rects = geometry.arrange(widths, offsets)
    placed = tuple(
        PlacedItem(items[index].key, rects[index], widths[index] < items[index].width)
        for index in sorted(widths)
    )
    dropped = tuple(item.key for index, item in enumerate(items) if index not in widths)
    return OverlayLayout(placed, dropped)


def _fit(
    geometry: _Geometry,
    widths: Mapping[int, float],
    offsets: Mapping[Slot, float],
    index: int,
    choices: Sequence[dict[Slot, float]],
) -> tuple[float, dict[Slot, float]] | None:
    """Return the width and block offsets at which ``items[index]`` fits, None if none.

    Its full width at each choice of offsets first (the block in place, then moved clear
    of the letter), then the widest abbreviated width down to its ``min_width``.
    """
    item = geometry.items[index]
    before = geometry.arrange(widths, offsets)
    for choice in choices:
        if geometry.fits(before, widths, choice, index, item.width):
            return item.width, choice
    narrowest = item.min_width
    if narrowest is None or not 0.0 < narrowest < item.width:
        return None
    for choice in choices:
        if not geometry.fits(before, widths, choice, index, narrowest):
            continue
        return _widest(geometry, widths, choice, index, narrowest), choice
    return None


def _widest(
    geometry: _Geometry,
    widths: Mapping[int, float],
    offsets: Mapping[Slot, float],
    index: int,
    narrowest: float,
) -> float:
    """Return the widest width of ``items[index]`` that fits, given that `narrowest` does."""
    rest = {key: width for key, width in widths.items() if key != index}
    before = geometry.arrange({**rest, index: narrowest}, offsets)
    low, high = narrowest, geometry.items[index].width  # low fits
    if geometry.fits(before, rest, offsets, index, high):
        return high
    for _ in range(_WIDTH_STEPS):
        middle = (low + high) / 2.0
        if geometry.fits(before, rest, offsets, index, middle):
            low = middle
        else:
            high = middle
    return low


@dataclass(frozen=True, slots=True)
class _Geometry:
    """The cell, the items and the spacing: arranges and checks sets of items kept."""

    width: float
    height: float
    items: tuple[OverlayItem, ...]
    margin: float
    gap: float

    def clearance(self, slot: Slot) -> float:
        """Return how far a corner block moves to clear the letter of its edge (0: none)."""
        edge = {
            Slot.TOP_LEFT: Slot.TOP,
            Slot.TOP_RIGHT: Slot.TOP,
            Slot.BOTTOM_LEFT: Slot.BOTTOM,
            Slot.BOTTOM_RIGHT: Slot.BOTTOM,
        }.get(slot)
        heights = [item.height for item in self.items if item.slot is edge and item.width > 0.0]
        return max(heights) + self.gap if heights else 0.0

    def within_margin(self, rect: Rect) -> bool:
        """Return whether a rectangle keeps the margin from every edge of the cell."""
        margin = max(self.margin - _TOLERANCE, 0.0)
        return (
            rect.left >= margin
            and rect.top >= margin
            and rect.right <= self.width - margin
            and rect.bottom <= self.height - margin
        )

    def fits(
        self,
        before: Mapping[int, Rect],
        widths: Mapping[int, float],
        offsets: Mapping[Slot, float],
        index: int,
        item_width: float,
    ) -> bool:
        """Whether the items kept plus ``items[index]`` at ``item_width`` are apart and inside.

        Only the rectangles that change (the new item, the block lines it pushes or
        moves, the scale bar it lifts) are checked: the others were apart before.
        """
        after = self.arrange({**widths, index: item_width}, offsets)
        changed = [key for key, rect in after.items() if before.get(key) != rect]
        for key in changed:
            rect = after[key]
            if not self.within_margin(rect):
                return False
            slot = self.items[key].slot
            for other, other_rect in after.items():
                if other == key or (other in changed and other < key):
                    continue
                same_block = slot.is_corner and self.items[other].slot is slot
                if rect.intersects(other_rect, 0.0 if same_block else self.gap):
                    return False
        return True

    def arrange(
        self, widths: Mapping[int, float], offsets: Mapping[Slot, float]
    ) -> dict[int, Rect]:
        """Return the rectangle of each item kept (index → rect), at the widths given.

        A corner block is moved ``offsets[slot]`` away from its corner's edge (down for
        the top blocks, up for the bottom ones).
        """
        width, height, items, margin = self.width, self.height, self.items, self.margin
        rects: dict[int, Rect] = {}
        for slot in _CORNERS:
            kept = [index for index in sorted(widths) if items[index].slot is slot]
            sizes = [(widths[index], items[index].height) for index in kept]
            stacked = _stack(slot, sizes, width, height, margin, offsets.get(slot, 0.0))
            rects.update(zip(kept, stacked, strict=True))
        base = height - margin
        for index in sorted(widths):
            item = items[index]
            item_width, item_height = widths[index], item.height
            middle_x, middle_y = (width - item_width) / 2.0, (height - item_height) / 2.0
            if item.slot is Slot.LEFT:
                rects[index] = Rect(margin, middle_y, item_width, item_height)
            elif item.slot is Slot.RIGHT:
                rects[index] = Rect(width - margin - item_width, middle_y, item_width, item_height)
            elif item.slot is Slot.TOP:
                rects[index] = Rect(middle_x, margin, item_width, item_height)
            elif item.slot is Slot.BOTTOM:
                top = height - margin - item_height
                rects[index] = Rect(middle_x, top, item_width, item_height)
                base = top - self.gap
        for index in sorted(widths):
            item = items[index]
            if item.slot is Slot.SCALE_BAR:
                left = (width - widths[index]) / 2.0
                rects[index] = Rect(left, base - item.height, widths[index], item.height)
        return rects


_CORNERS: Final = (Slot.TOP_LEFT, Slot.TOP_RIGHT, Slot.BOTTOM_LEFT, Slot.BOTTOM_RIGHT)


def _stack(
    slot: Slot,
    sizes: Iterable[tuple[float, float]],
    width: float,
    height: float,
    margin: float,
    offset: float,
) -> list[Rect]:
    """Stack a corner block's lines (top line first) from its corner, `offset` off its edge."""
    sizes = list(sizes)
    at_right = slot in (Slot.TOP_RIGHT, Slot.BOTTOM_RIGHT)
    if slot in (Slot.TOP_LEFT, Slot.TOP_RIGHT):
        top = margin + offset
    else:
        top = height - margin - offset - sum(line_height for _, line_height in sizes)
    rects = []
    for line_width, line_height in sizes:
        left = width - margin - line_width if at_right else margin
        rects.append(Rect(left, top, line_width, line_height))
        top += line_height
    return rects
