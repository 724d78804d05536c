"""SuggestionLayer: a suggested duct tree and filling-defect flags drawn on a :class:`Viewport`.

Suggestions are not marks: they are drawn in their own style, never saved, never listed
in the Findings dock, and go when accepted (they become ordinary marks, drawn by the
:class:`~galactoview.ui.annotate.annotation_items.AnnotationLayer`) or dismissed.

* A suggested branch is a dashed azure polyline over a black underlay (the traced ducts
  are solid teal); the orifice gets a label "tree? N branches".
* A flag (a possible filling defect) is a dashed orange circle labelled "?"; a
  bubble-like flag (round, not seen on the other view) is grey and labelled "bubble?".
  Hovering over a flag shows why it was flagged (its tooltip).

Like the marks, every item is a child of :attr:`Viewport.image_item`, so its points are
SCOORD stored pixels (PS3.3 C.18.6.1.2) and it follows zoom, pan and the hanging flip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

# isort: split
# pyqtgraph must come after PySide6 so that it binds to PySide6.
import pyqtgraph as pg

from galactoview.analysis.results import DefectFlag, SuggestedBranch
from galactoview.ui.annotate.annotation_items import (
    LABEL_FILL,
    MARK_Z,
    SHADOW_COLOR,
    polyline_path,
)
from galactoview.ui.viewer.viewport import Viewport

__all__ = [
    "BRANCH_COLOUR",
    "BUBBLE_COLOUR",
    "FLAG_COLOUR",
    "SUGGESTION_Z",
    "SuggestionLayer",
    "flag_label",
]

#: A suggested branch (traced ducts are solid teal: this is dashed azure).
BRANCH_COLOUR: Final = QColor(90, 180, 255)
#: A possible filling defect.
FLAG_COLOUR: Final = QColor(255, 165, 0)
#: A bubble-like flag (round, not on the other view).
BUBBLE_COLOUR: Final = QColor(175, 175, 175)
#: Above the image, below the marks (an accepted mark is drawn over what is left).
SUGGESTION_Z: Final = MARK_Z - 1.0
#: Smallest radius a flag's circle is drawn with, in screen pixels.
MIN_FLAG_RADIUS_PX: Final = 8.0

Point = tuple[float, float]


def flag_label(flag: DefectFlag) -> str:
    """Return what a flag's label says: ``"?"``, or ``"bubble?"`` when bubble-like."""
    return "bubble?" if flag.bubble_like else "?"


def _pen(color: QColor, width: float, *, dashed: bool) -> QPen:
    pen = QPen(color, width)
    pen.setCosmetic(True)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    if dashed:
        pen.setStyle(Qt.PenStyle.CustomDashLine)
        pen.setDashPattern([4.0, 3.0])
    return pen


class _Disc(QGraphicsPathItem):
    """A flag's ring whose whole disc is its shape: hovering anywhere inside shows why."""

    def shape(self) -> QPainterPath:
        """Return the circle's area (a stroked ring of 2 screen pixels is hard to hover)."""
        return self.path()


class SuggestionLayer:
    """The suggestions drawn on one viewport (replaced whole by :meth:`show`).

    Parameters
    ----------
    viewport
        The viewport drawn on.
    """

    def __init__(self, viewport: Viewport) -> None:
        self.viewport = viewport
        self._items: list[QGraphicsItem] = []
        self._branches: tuple[SuggestedBranch, ...] = ()
        self._flags: tuple[tuple[int, DefectFlag], ...] = ()
        self._label = ""

    # --- reading (tests, hit tests) ---------------------------------------------------------

    @property
    def branches(self) -> tuple[SuggestedBranch, ...]:
        """Return the branches drawn now."""
        return self._branches

    @property
    def flags(self) -> tuple[tuple[int, DefectFlag], ...]:
        """Return the flags drawn now, with their index in the image's flags."""
        return self._flags

    def label_texts(self) -> list[str]:
        """Return the texts of the labels drawn (the tree's, then the flags')."""
        return [item.toPlainText() for item in self._items if isinstance(item, pg.TextItem)]

    def label_rects(self) -> list[QRectF]:
        """Return where the labels are drawn, in the viewport's pixels (as :meth:`label_texts`)."""
        return [
            item.mapRectToDevice(item.boundingRect())
            for item in self._items
            if isinstance(item, pg.TextItem)
        ]

    def tooltips(self) -> list[str]:
        """Return the tooltips of the items drawn (a flag's says why it was flagged)."""
        return [item.toolTip() for item in self._items if item.toolTip()]

    def is_empty(self) -> bool:
        """Return whether nothing is drawn."""
        return not self._items

    # --- drawing ----------------------------------------------------------------------------

    def show(
        self,
        branches: Sequence[SuggestedBranch],
        flags: Sequence[tuple[int, DefectFlag]],
        tree_label: str = "",
    ) -> None:
        """Draw these branches and flags (and nothing else).

        Parameters
        ----------
        branches
            The suggested branches still to accept or reject.
        flags
            ``(index, flag)`` of the flags still to accept or reject.
        tree_label
            The label at the tree's orifice (e.g. ``"tree? 9 branches"``); none when empty.
        """
        self.clear()
        self._branches = tuple(branches)
        self._flags = tuple(flags)
        parent = self.viewport.image_item
        for branch in self._branches:
            path = polyline_path(branch.points)
            tip = (
                f"Suggested duct branch {branch.index + 1} (generation {branch.generation}"
                + (f", {branch.length_mm:.1f} mm" if branch.length_mm is not None else "")
                + "): click accepts it with the branches beyond, Shift+click this branch "
                "only, Ctrl+click rejects it"
            )
            for pen in (
                _pen(SHADOW_COLOR, 4.0, dashed=False),
                _pen(BRANCH_COLOUR, 2.0, dashed=True),
            ):
                line = QGraphicsPathItem(path, parent)
                line.setPen(pen)
                line.setZValue(SUGGESTION_Z)
                line.setToolTip(tip)
                self._items.append(line)
        if tree_label and self._branches:
            label = self._add_label(tree_label, self._branches[0].points[0], BRANCH_COLOUR, "")
            self._keep_in_cell(label)
        scale = self.viewport.image_pixels_per_screen_pixel() or 1.0
        for _index, flag in self._flags:
            colour = BUBBLE_COLOUR if flag.bubble_like else FLAG_COLOUR
            radius = max(float(flag.radius_px), MIN_FLAG_RADIUS_PX * scale)
            centre = QPointF(float(flag.point[0]), float(flag.point[1]))
            path = QPainterPath()
            path.addEllipse(centre, radius, radius)
            tip = (
                f"Possible filling defect: {flag.reason} (score {flag.score:.2f}) — click "
                "accepts it as a finding, Ctrl+click rejects it"
            )
            for pen in (_pen(SHADOW_COLOR, 3.5, dashed=False), _pen(colour, 2.0, dashed=True)):
                ring = _Disc(path, parent)
                ring.setPen(pen)
                ring.setZValue(SUGGESTION_Z)
                ring.setToolTip(tip)
                self._items.append(ring)
            corner = (
                float(flag.point[0]) + radius / math.sqrt(2.0),
                float(flag.point[1]) - radius / math.sqrt(2.0),
            )
            self._add_label(flag_label(flag), corner, colour, tip)

    def _keep_in_cell(self, label: pg.TextItem) -> None:
        """End the label at its point instead of starting there when it would leave the cell.

        At the orifice the tree's label ran past the nipple and was cut at the cell's edge
        ("tree? 9"); on screen, since a cell may show the image flipped.
        """
        drawn = label.mapRectToDevice(label.boundingRect())
        if drawn is not None and drawn.right() > self.viewport.width():
            label.setAnchor((1.0, 1.0))

    def _add_label(self, text: str, at: Point, colour: QColor, tip: str) -> pg.TextItem:
        label = pg.TextItem(text, color=colour, fill=pg.mkBrush(LABEL_FILL), anchor=(0.0, 1.0))
        label.setParentItem(self.viewport.image_item)
        label.setPos(QPointF(*at))
        label.setZValue(SUGGESTION_Z + 0.5)
        if tip:
            label.setToolTip(tip)
        self._items.append(label)
        return label

    def clear(self) -> None:
        """Remove everything drawn."""
        for item in self._items:
            scene = item.scene()
            if scene is not None:
                scene.removeItem(item)
            else:
                item.setParentItem(None)
        self._items.clear()
        self._branches = ()
        self._flags = ()
