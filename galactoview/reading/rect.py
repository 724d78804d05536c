"""Rect: the axis-aligned rectangle the text layouts place (Qt-free).

Shared by the viewport's overlay layout (:mod:`galactoview.reading.overlay_layout`) and
the key images' label placement (:mod:`galactoview.reading.label_layout`); the Qt side
measures text and converts to ``QRectF`` only when drawing, so the layouts stay testable
without a display.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Rect"]


@dataclass(frozen=True, slots=True)
class Rect:
    """An axis-aligned rectangle.

    Attributes
    ----------
    left, top
        The upper-left corner.
    width, height
        Non-negative size.
    """

    left: float
    top: float
    width: float
    height: float

    @property
    def right(self) -> float:
        """Return the x of the right edge."""
        return self.left + self.width

    @property
    def bottom(self) -> float:
        """Return the y of the bottom edge."""
        return self.top + self.height

    @property
    def centre(self) -> tuple[float, float]:
        """Return the centre point."""
        return (self.left + self.width / 2.0, self.top + self.height / 2.0)

    @staticmethod
    def around(points: Iterable[tuple[float, float]], margin: float = 0.0) -> Rect:
        """Return the bounding box of points, grown by `margin` on every side.

        Raises
        ------
        ValueError
            If there is no point.
        """
        xs, ys = zip(*points, strict=True)
        return Rect(
            min(xs) - margin,
            min(ys) - margin,
            max(xs) - min(xs) + 2 * margin,
            max(ys) - min(ys) + 2 * margin,
        )

    def intersects(self, other: Rect, gap: float = 0.0) -> bool:
        """Return whether the rectangles overlap or come closer than `gap`.

        Rectangles that only touch (``gap`` 0) do not intersect.
        """
        return (
            self.left < other.right + gap
            and other.left < self.right + gap
            and self.top < other.bottom + gap
            and other.top < self.bottom + gap
        )

    def inside(self, width: float, height: float) -> bool:
        """Return whether the rectangle lies within a ``width`` x ``height`` cell."""
        return (
            self.left >= 0.0 and self.top >= 0.0 and self.right <= width and self.bottom <= height
        )

    def contains(self, other: Rect) -> bool:
        """Return whether `other` lies inside (edges included)."""
        return (
            self.left <= other.left
            and self.top <= other.top
            and other.right <= self.right
            and other.bottom <= self.bottom
        )

    def separation(self, other: Rect) -> float:
        """Return the larger of the horizontal and vertical gaps, 0 when they touch."""
        dx = max(0.0, other.left - self.right, self.left - other.right)
        dy = max(0.0, other.top - self.bottom, self.top - other.bottom)
        return max(dx, dy)

    def nearest_point(self, x: float, y: float) -> tuple[float, float]:
        """Return the point of the rectangle (edges included) nearest to (x, y)."""
        return (min(max(x, self.left), self.right), min(max(y, self.top), self.bottom))

    def crosses(self, start: tuple[float, float], end: tuple[float, float]) -> bool:
        """Return whether the segment passes through the interior (Liang–Barsky clipping)."""
        x0, y0 = start
        dx, dy = end[0] - x0, end[1] - y0
        low, high = 0.0, 1.0
        for p, q in (
            (-dx, x0 - self.left),
            (dx, self.right - x0),
            (-dy, y0 - self.top),
            (dy, self.bottom - y0),
        ):
            if p == 0.0:
                if q <= 0.0:
                    return False
                continue
            t = q / p
            if p < 0.0:
                low = max(low, t)
            else:
                high = min(high, t)
            if low >= high:
                return False
        return True
