"""Pictograms for surgeons: a frontal clock face and a side depth schematic, painted with QPainter.

The same painting serves the review mode (on screen) and the printed report (on a
``QPdfWriter`` page): both are given a :class:`QPainter` and a rectangle.

Conventions (reference notes §3): the clock is read **facing the patient**, 12 o'clock
superior, 3 o'clock on the viewer's right — lateral in the left breast, medial in the right.
The side schematic puts the nipple on the left and the chest wall on the right, split into the
anterior, middle and posterior thirds of the nipple–chest wall distance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen

from galactoview.dicom.mammography import Laterality

__all__ = ["PictogramMark", "paint_clock_face", "paint_depth_schematic", "ring_step_mm"]

_INK = QColor(20, 20, 20)
_GRID = QColor(150, 150, 150)
_THIRDS = (QColor(235, 242, 250), QColor(220, 232, 245), QColor(205, 222, 240))


@dataclass(frozen=True, slots=True)
class PictogramMark:
    """One located finding to place on the pictograms.

    Attributes
    ----------
    label
        Its short id (FD-1).
    colour
        Its finding type's colour.
    clock_angle_deg
        Clockwise from 12 o'clock, facing the patient.
    distance_mm
        From the nipple (3-D), None when uncalibrated (then placed on the outer ring).
    depth_fraction
        0 at the nipple, 1 at the chest wall; None when unknown.
    z_superior_mm
        Height above the nipple (negative below), for the side schematic.
    """

    label: str
    colour: QColor
    clock_angle_deg: float
    distance_mm: float | None
    depth_fraction: float | None
    z_superior_mm: float


def ring_step_mm(largest_mm: float) -> tuple[float, int]:
    """Return the ring spacing (mm) and ring count that cover ``largest_mm``: 20 mm rings."""
    rings = max(3, math.ceil(max(largest_mm, 1.0) / 20.0))
    return 20.0, rings


def _font(painter: QPainter, size_pt: float, bold: bool = False) -> None:
    font = QFont(painter.font())
    font.setPointSizeF(size_pt)
    font.setBold(bold)
    painter.setFont(font)


def paint_clock_face(
    painter: QPainter,
    rect: QRectF,
    laterality: Laterality,
    marks: Sequence[PictogramMark],
    *,
    title_pt: float = 10.0,
) -> None:
    """Paint one breast's frontal clock face with its findings.

    Parameters
    ----------
    painter
        Where to paint (a widget, an image or a PDF page).
    rect
        The area; the clock is the largest circle that fits below the title.
    laterality
        The breast, named in the title ("Left breast"); the clock is always drawn as
        seen facing the patient.
    marks
        The findings of this breast.
    title_pt
        Title size; other text scales with the clock.
    """
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    side = {Laterality.LEFT: "Left", Laterality.RIGHT: "Right"}.get(laterality, "Unknown")
    _font(painter, title_pt, bold=True)
    painter.setPen(_INK)
    title_height = painter.fontMetrics().height() * 1.4
    painter.drawText(
        QRectF(rect.left(), rect.top(), rect.width(), title_height),
        Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter,
        f"{side} breast",
    )
    area = QRectF(
        rect.left(), rect.top() + title_height, rect.width(), rect.height() - title_height
    )
    radius = min(area.width(), area.height()) / 2.0 * 0.82
    centre = area.center()
    largest = max((m.distance_mm or 0.0 for m in marks), default=0.0)
    step, rings = ring_step_mm(largest)
    scale = radius / (step * rings)
    grid = QPen(_GRID, max(radius / 150.0, 0.5))
    painter.setPen(grid)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for ring in range(1, rings + 1):
        r = ring * step * scale
        painter.drawEllipse(centre, r, r)
    _font(painter, max(radius / 16.0, 5.0))
    metrics = painter.fontMetrics()
    for hour in range(1, 13):
        angle = math.radians(hour * 30.0)
        direction = QPointF(math.sin(angle), -math.cos(angle))
        painter.setPen(grid)
        painter.drawLine(centre + direction * radius * 0.97, centre + direction * radius)
        painter.setPen(_INK)
        text = str(hour)
        at = centre + direction * (radius + metrics.height() * 0.8)
        painter.drawText(
            QRectF(
                at.x() - metrics.horizontalAdvance(text),
                at.y() - metrics.height() / 2,
                2 * metrics.horizontalAdvance(text),
                metrics.height(),
            ),
            Qt.AlignmentFlag.AlignCenter,
            text,
        )
    painter.setPen(_GRID)
    painter.drawText(
        QRectF(centre.x() + 2, centre.y() + 2, radius, metrics.height()),
        Qt.AlignmentFlag.AlignLeft,
        f"rings every {step:g} mm",
    )
    painter.setBrush(QBrush(_INK))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(centre, radius / 40.0, radius / 40.0)  # the nipple
    dot = max(radius / 22.0, 2.0)
    for mark in marks:
        distance = mark.distance_mm if mark.distance_mm is not None else step * rings
        angle = math.radians(mark.clock_angle_deg)
        at = centre + QPointF(math.sin(angle), -math.cos(angle)) * distance * scale
        painter.setPen(QPen(_INK, dot / 4.0))
        painter.setBrush(QBrush(mark.colour))
        painter.drawEllipse(at, dot, dot)
        painter.setPen(_INK)
        painter.drawText(at + QPointF(dot * 1.3, -dot * 0.3), mark.label)
    painter.restore()


def paint_depth_schematic(
    painter: QPainter,
    rect: QRectF,
    laterality: Laterality,
    marks: Sequence[PictogramMark],
    *,
    title_pt: float = 10.0,
) -> None:
    """Paint one breast's side schematic: nipple left, chest wall right, thirds shaded.

    Parameters
    ----------
    painter
        Where to paint.
    rect
        The area.
    laterality
        The breast, named in the title.
    marks
        The findings of this breast; those without a depth are listed as such.
    title_pt
        Title size.
    """
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    side = {Laterality.LEFT: "Left", Laterality.RIGHT: "Right"}.get(laterality, "Unknown")
    _font(painter, title_pt, bold=True)
    painter.setPen(_INK)
    title_height = painter.fontMetrics().height() * 1.4
    painter.drawText(
        QRectF(rect.left(), rect.top(), rect.width(), title_height),
        Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter,
        f"{side} breast — depth",
    )
    _font(painter, max(title_pt * 0.8, 5.0))
    label_height = painter.fontMetrics().height() * 1.3
    band = QRectF(
        rect.left() + rect.width() * 0.06,
        rect.top() + title_height,
        rect.width() * 0.88,
        rect.height() - title_height - label_height,
    )
    names = ("anterior", "middle", "posterior")
    third = band.width() / 3.0
    for index, (name, colour) in enumerate(zip(names, _THIRDS, strict=True)):
        cell = QRectF(band.left() + index * third, band.top(), third, band.height())
        painter.fillRect(cell, colour)
        painter.setPen(_INK)
        painter.drawText(
            QRectF(cell.left(), band.bottom(), cell.width(), label_height),
            Qt.AlignmentFlag.AlignCenter,
            name,
        )
    painter.setPen(QPen(_INK, max(band.height() / 100.0, 0.8)))
    painter.drawLine(band.topRight(), band.bottomRight())  # chest wall
    painter.drawText(
        QRectF(band.right() - third, band.top(), third - 4, label_height),
        Qt.AlignmentFlag.AlignRight,
        "chest wall",
    )
    nipple = QPointF(band.left(), band.center().y())
    painter.setBrush(QBrush(_INK))
    painter.drawEllipse(nipple, band.height() / 40.0 + 1, band.height() / 40.0 + 1)
    painter.drawText(
        QRectF(band.left() + 4, band.top(), third, label_height),
        Qt.AlignmentFlag.AlignLeft,
        "nipple",
    )
    tallest = max((abs(m.z_superior_mm) for m in marks), default=0.0)
    half = max(tallest * 1.2, 30.0)
    dot = max(band.height() / 22.0, 2.0)
    for mark in marks:
        if mark.depth_fraction is None:
            continue
        x = band.left() + min(max(mark.depth_fraction, 0.0), 1.0) * band.width()
        y = band.center().y() - mark.z_superior_mm / half * band.height() / 2.0
        at = QPointF(x, y)
        painter.setPen(QPen(_INK, dot / 4.0))
        painter.setBrush(QBrush(mark.colour))
        painter.drawEllipse(at, dot, dot)
        painter.setPen(_INK)
        painter.drawText(at + QPointF(dot * 1.3, -dot * 0.3), mark.label)
    painter.restore()
