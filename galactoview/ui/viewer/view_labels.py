"""ViewLabels: the labels of every mark of one :class:`Viewport`, placed together.

The finding and duct-segment labels (``FD-1 4.9 mm``, ``DS-1``), the nipple's ``N``
and the rulers' measurements are :class:`pyqtgraph.TextItem` children of
:attr:`Viewport.image_item` owned by their layers (the annotation layer, the ruler
tool); each layer registers a provider here that lists its labels with the screen
(scene) extent of their marks. One Qt-free placer,
:func:`galactoview.reading.label_layout.place_labels`, then puts every label in the
cell: no two labels overlap, a label avoids the marks (its own and the others') when
it can, a label moved away from its mark gets a leader line to it, and every label
lies inside the cell (the view box's rectangle), clear of the overlay text (corner
lines, orientation letters, scale bar) when it can be. The placement is done in screen
pixels (labels keep their size at any zoom) and stored in image item coordinates, so
a pan carries the labels with the image until the next placement.

When: a placement is scheduled (debounced by :data:`PLACE_DELAY_MS`, a single-shot
timer restarted by each request) when the view's range or size changes
(``sigRangeChanged``/``sigResized`` via :attr:`Viewport.view_changed`), when the image
changes and when a layer's marks or label texts change; never per paint. A burst of
wheel steps or a window resize is one placement.

Hidden below a scale: the labels hide (the marks stay) when the image is shown at less
than :data:`MIN_PIXELS_PER_MM` screen pixels per millimetre, or, whatever the scale,
when the cell is less than :data:`MIN_CELL_PX` pixels wide or high. Why: a label is
about 16 screen pixels high and 40-90 wide; below 1 pixel per mm it covers 16 mm x
40 mm or more of breast, more than the intraductal lesions a galactogram shows
(papillomas and filling defects of 2-10 mm, ectatic duct segments), so at that scale
the labels would hide the very findings they name and pile up over the subareolar
ducts. A cell under 160 pixels (an uncalibrated image gives no mm scale, and thumbnails
or a 4x2 layout in a small window) has no room beside its marks for even a few labels.
Zooming in or enlarging the cell brings them back (the Findings dock lists them all).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import shiboken6
from PySide6.QtCore import QLineF, QObject, QPointF, QRectF, QTimer
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsLineItem

# isort: split
# pyqtgraph must come after PySide6 so that it binds to PySide6.
import pyqtgraph as pg

from galactoview.reading.label_layout import LabelRequest, place_labels
from galactoview.reading.rect import Rect
from galactoview.ui.viewer.viewport import Viewport

__all__ = [
    "MIN_CELL_PX",
    "MIN_PIXELS_PER_MM",
    "PLACE_DELAY_MS",
    "MarkLabel",
    "ViewLabels",
    "marker_rect",
    "marker_target",
    "scene_points",
    "view_labels",
]

Point = tuple[float, float]

#: Below this many screen pixels per mm of the image, the labels hide (see the module).
MIN_PIXELS_PER_MM: Final = 1.0
#: A cell narrower or lower than this (screen pixels) shows no labels.
MIN_CELL_PX: Final = 160.0
#: Delay of a scheduled placement, restarted by each request (debounce), in ms.
PLACE_DELAY_MS: Final = 30
#: Half the side of the square kept free around each point of a mark, screen pixels.
POINT_CLEARANCE_PX: Final = 3.0
#: Gap between a label and its mark on the first ring, screen pixels.
LABEL_GAP_PX: Final = 4.0
#: At most this many points of a mark's outline become obstacles (evenly spaced).
MAX_OUTLINE_OBSTACLES: Final = 24
#: Z value of the leader lines (below the marks' labels, over the image).
LEADER_Z: Final = 10.25


@dataclass(frozen=True, slots=True)
class MarkLabel:
    """One label to place, as a layer lists it.

    Attributes
    ----------
    key
        Unique among the viewport's labels (e.g. a tracking UID and region index).
    item
        The label (a child of the viewport's image item); it is moved, not restyled.
    target
        The mark's extent in scene coordinates (its markers and lines): the label goes
        beside it and its leader ends on it.
    points
        Scene points of the mark no label should cover (its vertices, outline samples).
    priority
        Lower is placed first and gets the best spot (e.g. the selected mark: 0).
    colour
        The leader line's colour.
    """

    key: str
    item: pg.TextItem
    target: QRectF
    points: tuple[Point, ...]
    priority: int = 1
    colour: QColor | None = None


#: A layer's list of its labels now (called at each placement).
Provider = Callable[[], Sequence[MarkLabel]]


def scene_points(item: QGraphicsItem, points: Iterable[Point]) -> tuple[Point, ...]:
    """Return item points in scene coordinates (e.g. SCOORD points of the image item)."""
    result = []
    for x, y in points:
        mapped = item.mapToScene(QPointF(x, y))
        result.append((float(mapped.x()), float(mapped.y())))
    return tuple(result)


def marker_rect(item: QGraphicsItem) -> QRectF:
    """Return the scene rectangle of a marker drawn in screen pixels (ignoring transforms).

    ``sceneBoundingRect`` scales such an item by the view's zoom; its true extent is its
    bounding rectangle, unscaled, at its scene position (a viewport's scene coordinates
    are its widget's pixels).
    """
    return QRectF(item.boundingRect()).translated(item.scenePos())


def _bounds(points: Sequence[Point]) -> QRectF:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return QRectF(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


def _thin(points: Sequence[Point], limit: int) -> list[Point]:
    if len(points) <= limit:
        return list(points)
    step = len(points) / limit
    return [points[int(i * step)] for i in range(limit)]


class ViewLabels(QObject):
    """Places the labels of all the marks of one viewport (see the module).

    Get it with :func:`view_labels` (one per viewport, created on first use).

    Parameters
    ----------
    viewport
        The viewport (also the parent).
    """

    def __init__(self, viewport: Viewport) -> None:
        super().__init__(viewport)
        self.viewport = viewport
        self._providers: list[Provider] = []
        self._obstacles: list[Callable[[], Sequence[QRectF]]] = []
        self._leaders: list[QGraphicsLineItem] = []
        self._boxes: dict[str, QRectF] = {}
        self._shown = True
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PLACE_DELAY_MS)
        self._timer.timeout.connect(self.place_now)
        viewport.view_changed.connect(self.schedule)
        viewport.image_changed.connect(self.schedule)

    # --- public API -------------------------------------------------------------------

    def add_provider(self, provider: Provider) -> None:
        """Register a layer's list of labels, and schedule a placement."""
        self._providers.append(provider)
        self.schedule()

    def add_obstacles(self, provider: Callable[[], Sequence[QRectF]]) -> None:
        """Register scene rectangles labels keep clear of (the overlay text), and schedule."""
        self._obstacles.append(provider)
        self.schedule()

    def schedule(self) -> None:
        """Place the labels soon (once for a burst of requests)."""
        self._timer.start()

    def pending(self) -> bool:
        """Return whether a placement is scheduled and not done yet."""
        return bool(self._timer.isActive())

    def labels_shown(self) -> bool:
        """Return whether the scale and the cell size let the labels show."""
        return self._shown

    def boxes(self) -> dict[str, QRectF]:
        """Return the scene rectangle of each label placed (hidden ones left out)."""
        return dict(self._boxes)

    def leader_lines(self) -> list[QLineF]:
        """Return the leader lines shown, in scene coordinates."""
        parent = self.viewport.image_item
        return [
            QLineF(parent.mapToScene(leader.line().p1()), parent.mapToScene(leader.line().p2()))
            for leader in self._leaders
            if leader.isVisible()
        ]

    def cell_rect(self) -> QRectF:
        """Return the rectangle the labels stay in: the view box's, in scene coordinates."""
        box = self.viewport.view_box
        return QRectF(box.mapRectToScene(box.rect()))

    def scale_allows_labels(self) -> bool:
        """Return whether labels show at the current scale and cell size (see the module)."""
        cell = self.cell_rect()
        if min(cell.width(), cell.height()) < MIN_CELL_PX:
            return False
        mm_per_pixel = self.viewport.mm_per_screen_pixel()
        return mm_per_pixel is None or mm_per_pixel <= 1.0 / MIN_PIXELS_PER_MM

    def place_now(self) -> None:
        """Place every label now (the scheduled placement; tests may call it)."""
        self._timer.stop()
        if not shiboken6.isValid(self.viewport.image_item):
            return  # the viewport is being destroyed
        # pyqtgraph defers the view box's new transform to the next paint: apply it now,
        # or a placement right after a range change maps the marks with the old one.
        self.viewport.view_box.updateMatrix()
        labels = sorted(
            (label for provider in self._providers for label in provider()),
            key=lambda label: label.priority,
        )
        self._boxes.clear()
        used = 0
        self._shown = self.viewport.has_image() and self.scale_allows_labels()
        if not self._shown:
            for label in labels:
                label.item.setVisible(False)
            self._hide_leaders(0)
            return
        cell = self.cell_rect()
        ox, oy = float(cell.left()), float(cell.top())

        def local(rect: QRectF) -> Rect:
            left, top = float(rect.left()) - ox, float(rect.top()) - oy
            return Rect(left, top, float(rect.width()), float(rect.height()))

        requests = []
        obstacles = [local(rect) for provider in self._obstacles for rect in provider()]
        pad = POINT_CLEARANCE_PX
        shown = []
        for label in labels:
            target = label.target
            if not (cell.intersects(target) or cell.contains(target.topLeft())):
                label.item.setVisible(False)  # its mark is out of view: no label in the cell
                continue
            shown.append(label)
            size = label.item.boundingRect()
            width, height = float(size.width()), float(size.height())
            requests.append(LabelRequest(label.key, local(label.target), width, height))
            for x, y in _thin(label.points, MAX_OUTLINE_OBSTACLES):
                obstacles.append(Rect(x - ox - pad, y - oy - pad, 2.0 * pad, 2.0 * pad))
        layout = place_labels(
            float(cell.width()), float(cell.height()), requests, obstacles, gap=LABEL_GAP_PX
        )
        placed = {p.key: p for p in layout.placed}
        parent = self.viewport.image_item
        for label in shown:
            spot = placed.get(label.key)
            if spot is None:
                label.item.setVisible(False)
                continue
            box = spot.box
            label.item.setAnchor((0.0, 0.0))
            label.item.setPos(parent.mapFromScene(QPointF(box.left + ox, box.top + oy)))
            label.item.setVisible(True)
            label.item.updateTransform(force=True)
            self._boxes[label.key] = QRectF(box.left + ox, box.top + oy, box.width, box.height)
            if spot.leader is not None:
                (x0, y0), (x1, y1) = spot.leader
                self._leader(used, label.colour or label.item.color).setLine(
                    QLineF(
                        parent.mapFromScene(QPointF(x0 + ox, y0 + oy)),
                        parent.mapFromScene(QPointF(x1 + ox, y1 + oy)),
                    )
                )
                used += 1
        self._hide_leaders(used)

    # --- internals --------------------------------------------------------------------

    def _leader(self, index: int, colour: QColor) -> QGraphicsLineItem:
        parent = self.viewport.image_item
        if index < len(self._leaders) and self._leaders[index].parentItem() is not parent:
            del self._leaders[index:]  # the image item lost them (should not happen)
        if index == len(self._leaders):
            line = QGraphicsLineItem(parent)
            line.setZValue(LEADER_Z)
            self._leaders.append(line)
        line = self._leaders[index]
        pen = QPen(colour, 1.5)
        pen.setCosmetic(True)
        line.setPen(pen)
        line.setVisible(True)
        return line

    def _hide_leaders(self, used: int) -> None:
        for line in self._leaders[used:]:
            line.setVisible(False)


def view_labels(viewport: Viewport) -> ViewLabels:
    """Return the viewport's label placer, created on first use.

    Parameters
    ----------
    viewport
        The viewport.

    Returns
    -------
    ViewLabels
        The same object for every layer of this viewport.
    """
    found = viewport.findChild(ViewLabels)
    if isinstance(found, ViewLabels):
        return found
    return ViewLabels(viewport)


def marker_target(points: Sequence[Point], extra: Iterable[QRectF] = ()) -> QRectF:
    """Return the bounding rectangle of scene points and of marker rectangles.

    Parameters
    ----------
    points
        Scene points of the mark (at least one).
    extra
        Scene rectangles of its screen-sized markers (arrow, ring, vertices).

    Returns
    -------
    QRectF
        Their union (a point alone gives a rectangle of zero size).
    """
    rect = _bounds(points)
    for other in extra:
        rect = rect.united(other)
    if not math.isfinite(rect.width()) or not math.isfinite(rect.height()):
        return QRectF()
    return rect
