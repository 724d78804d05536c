"""Pictograms for surgeons: a frontal clock face and a side depth schematic, painted with QPainter.

The same painting serves the review mode (on screen) and the printed report (on a
``QPdfWriter`` page): both give a :class:`QPainter`, a rectangle and the Qt-free
:class:`~galactoview.report.content.PictogramMark` of each located finding. Sizes are
fractions of the rectangle, so the drawing is the same at any resolution.

Conventions (reference notes §3): the clock is read **facing the patient**, 12 o'clock
superior, 3 o'clock on the viewer's right — lateral in the left breast, medial in the
right, and the words "lateral" / "medial" under the clock say which side is which. The side
schematic shows the nipple–chest wall distance in thirds (anterior, middle, posterior), the
nipple pointing away from the body's midline as seen from that side (left breast: nipple on
the right); a finding's height follows its clock position.

For the surgeon's page: a **nipple diagram** (the nipple seen facing the patient, a circle
with 12 hour ticks, the cannulated duct's orifice marked at its clock hour, or in the
centre, and labelled) and a **duct schematic** per image with traced ducts (the traced
segments, the nipple and the lesions, drawn as the image hangs, to the image's scale,
without its pixels): the path from the orifice to each lesion.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Final

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPolygonF

from galactoview.annotations.model import FindingType
from galactoview.dicom.mammography import Laterality
from galactoview.reading.hanging import EdgeLetters
from galactoview.report.content import PictogramMark
from galactoview.report.duct_path import DuctView
from galactoview.ui.annotate.finding_palette import FINDING_COLOURS

__all__ = [
    "RING_MM",
    "MarkColour",
    "outer_ring_mm",
    "paint_clock_face",
    "paint_depth_schematic",
    "paint_duct_schematic",
    "paint_nipple_diagram",
    "ring_label_angle",
    "screen_colour",
]

#: Spacing of the distance rings, in mm.
RING_MM: Final = 20.0

MarkColour = Callable[[PictogramMark], QColor]

_INK = QColor(0, 0, 0)
_GRID = QColor(150, 150, 150)
_LABEL = QColor(90, 90, 90)
_THIRDS = (QColor(245, 245, 245), QColor(228, 228, 228), QColor(245, 245, 245))
_SIDES = {Laterality.LEFT: "LEFT", Laterality.RIGHT: "RIGHT"}


def screen_colour(mark: PictogramMark) -> QColor:
    """Return the finding type's colour of a mark (light grey for an unknown type)."""
    try:
        return QColor(FINDING_COLOURS[FindingType(mark.colour_key)])
    except ValueError:
        return QColor(220, 220, 220)


def outer_ring_mm(marks: Sequence[PictogramMark]) -> float:
    """Return the radius (mm) of the outer ring: at least 60, whole rings past every mark."""
    known = [m.distance_mm for m in marks if m.distance_mm is not None]
    return max(60.0, math.ceil(max(known, default=0.0) / RING_MM + 0.5) * RING_MM)


def _font(painter: QPainter, size: float, bold: bool = False, min_points: float = 6.0) -> None:
    """Use a font ``size`` device pixels high, but never smaller than ``min_points``.

    Sizes follow the drawing (the same look on screen and on paper); the floor keeps
    text readable in a small widget, whatever the device's resolution.
    """
    device = painter.device()
    dpi = float(device.logicalDpiY()) if device is not None else 96.0
    font = QFont(painter.font())
    font.setPixelSize(max(round(size), round(dpi * min_points / 72.0), 1))
    font.setBold(bold)
    painter.setFont(font)


def _title(painter: QPainter, rect: QRectF, text: str, size: float) -> float:
    """Draw a bold centred title at the top of ``rect``; return its height."""
    _font(painter, size, bold=True, min_points=8.0)
    painter.setPen(_INK)
    height = painter.fontMetrics().height() * 1.3
    painter.drawText(
        QRectF(rect.left(), rect.top(), rect.width(), height),
        int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter),
        text,
    )
    return height


def _place_label(
    painter: QPainter, anchor: QPointF, text: str, taken: list[QRectF], gap: float
) -> None:
    """Draw a label next to a dot at the first candidate place not overlapping ``taken``."""
    metrics = painter.fontMetrics()
    width, height = metrics.horizontalAdvance(text) + 4.0, float(metrics.height())
    candidates = (
        QPointF(gap, -height / 2),
        QPointF(-gap - width, -height / 2),
        QPointF(gap, -height - gap / 2),
        QPointF(-gap - width, -height - gap / 2),
        QPointF(gap, gap / 2),
        QPointF(-gap - width, gap / 2),
        QPointF(-width / 2, gap),
        QPointF(-width / 2, -gap - height),
    )
    chosen = QRectF(anchor + candidates[0], QSizeF(width, height))
    for offset in candidates:
        rect = QRectF(anchor + offset, QSizeF(width, height))
        if not any(rect.intersects(other) for other in taken):
            chosen = rect
            break
    taken.append(chosen)
    painter.drawText(chosen, int(Qt.AlignmentFlag.AlignCenter), text)


def _inner_label(
    painter: QPainter, body: QRectF, x: float, top: float, height: float, text: str
) -> None:
    """Draw a label at ``x`` on an edge of ``body``, kept inside it (aligned to that edge)."""
    width = painter.fontMetrics().horizontalAdvance(text) + 6.0
    at_right = x > body.center().x()
    left = x - width - 2.0 if at_right else x + 2.0
    align = Qt.AlignmentFlag.AlignRight if at_right else Qt.AlignmentFlag.AlignLeft
    painter.drawText(QRectF(left, top, width, height), int(align), text)


def _dots(
    painter: QPainter,
    placed: Sequence[tuple[QPointF, PictogramMark]],
    radius: float,
    colour: MarkColour,
    taken: list[QRectF] | None = None,
) -> None:
    """Draw the finding dots, then their labels where they overlap nothing (nor ``taken``)."""
    taken = [] if taken is None else taken
    for point, mark in placed:
        painter.setPen(QPen(_INK, radius / 4.0))
        painter.setBrush(colour(mark))
        painter.drawEllipse(point, radius, radius)
        taken.append(QRectF(point - QPointF(radius, radius), QSizeF(2 * radius, 2 * radius)))
    _font(painter, radius * 1.6, bold=True, min_points=7.0)
    for point, mark in placed:
        painter.setPen(colour(mark).darker(150))
        _place_label(painter, point, mark.short_id, taken, radius * 1.5)
    painter.setBrush(Qt.BrushStyle.NoBrush)


def ring_label_angle(marks: Sequence[PictogramMark]) -> float:
    """Return the diagonal (degrees clockwise from 12 o'clock) the ring labels go on.

    Of 4:30, 1:30, 7:30 and 10:30, the one farthest in angle from every finding, so the
    "20 mm", "40 mm"… do not cover the findings' dots and labels; 4:30 when none.
    """

    def apart(a: float, b: float) -> float:
        difference = abs(a - b) % 360.0
        return min(difference, 360.0 - difference)

    taken = [m.clock_angle_deg for m in marks]
    candidates = (135.0, 45.0, 225.0, 315.0)
    if not taken:
        return candidates[0]
    return max(candidates, key=lambda c: min(apart(c, a) for a in taken))


def paint_clock_face(
    painter: QPainter,
    rect: QRectF,
    laterality: Laterality,
    marks: Sequence[PictogramMark],
    *,
    outer_mm: float | None = None,
    colour: MarkColour = screen_colour,
) -> None:
    """Paint one breast's frontal clock face (as seen facing the patient) with its findings.

    Parameters
    ----------
    painter
        Where to paint (a widget, an image or a PDF page).
    rect
        The area; the clock is the largest circle that fits below the title.
    laterality
        The breast: named in the title, and it decides which side is lateral.
    marks
        The located findings of this breast.
    outer_mm
        Radius of the outer ring, to draw both breasts at one scale;
        :func:`outer_ring_mm` of ``marks`` when None.
    colour
        The colour of a mark's dot.
    """
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    unit = min(rect.width(), rect.height()) / 100.0
    side = _SIDES.get(laterality, "UNKNOWN")
    title = _title(painter, rect, f"{side} breast — frontal view", unit * 6.0)
    words_height = unit * 8.0
    area = QRectF(
        rect.left(), rect.top() + title, rect.width(), rect.height() - title - words_height
    )
    radius = min(area.width(), area.height()) / 2.0 * 0.84
    centre = area.center()
    outer = outer_mm if outer_mm is not None else outer_ring_mm(marks)
    _font(painter, unit * 3.2)
    label_angle = math.radians(ring_label_angle(marks))
    diagonal = QPointF(math.sin(label_angle), -math.cos(label_angle))
    for ring in range(1, int(outer / RING_MM) + 1):
        r = radius * ring * RING_MM / outer
        painter.setPen(QPen(_GRID, unit * 0.3))
        painter.drawEllipse(centre, r, r)
        painter.setPen(_LABEL)
        # Just inside the ring where it crosses the diagonal farthest from the findings.
        at = centre + diagonal * (r - unit * 2.2)
        painter.drawText(
            QRectF(at.x() - unit * 8, at.y() - unit * 2, unit * 16, unit * 4),
            int(Qt.AlignmentFlag.AlignCenter),
            f"{ring * RING_MM:.0f} mm",
        )
    painter.setPen(QPen(_INK, unit * 0.6))
    painter.drawEllipse(centre, radius, radius)
    _font(painter, unit * 4.5, bold=True)
    for hour in range(1, 13):
        angle = math.radians(hour * 30)
        at = centre + QPointF(math.sin(angle), -math.cos(angle)) * (radius + unit * 4.5)
        painter.drawText(
            QRectF(at.x() - unit * 5, at.y() - unit * 4, unit * 10, unit * 8),
            int(Qt.AlignmentFlag.AlignCenter),
            str(hour),
        )
    # Facing the patient, her right side is on the viewer's left.
    lateral_left = laterality is Laterality.RIGHT
    left_word, right_word = ("lateral", "medial") if lateral_left else ("medial", "lateral")
    _font(painter, unit * 3.2)
    painter.setPen(_LABEL)
    below = area.bottom() + unit
    for text, x in ((left_word, area.left()), (right_word, area.right() - unit * 20)):
        painter.drawText(
            QRectF(x, below, unit * 20, unit * 4), int(Qt.AlignmentFlag.AlignCenter), text
        )
    painter.drawText(
        QRectF(centre.x() - unit * 20, below + unit * 3.5, unit * 40, unit * 4),
        int(Qt.AlignmentFlag.AlignCenter),
        f"rings every {RING_MM:.0f} mm",
    )
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(_INK)
    painter.drawEllipse(centre, unit * 1.2, unit * 1.2)  # the nipple
    placed = []
    for mark in marks:
        distance = outer if mark.distance_mm is None else min(mark.distance_mm, outer)
        angle = math.radians(mark.clock_angle_deg)
        direction = QPointF(math.sin(angle), -math.cos(angle))
        placed.append((centre + direction * radius * distance / outer, mark))
    _dots(painter, placed, unit * 2.2, colour)
    painter.restore()


def paint_depth_schematic(
    painter: QPainter,
    rect: QRectF,
    laterality: Laterality,
    marks: Sequence[PictogramMark],
    *,
    colour: MarkColour = screen_colour,
) -> None:
    """Paint one breast's side schematic: nipple to chest wall in thirds, findings placed.

    Parameters
    ----------
    painter
        Where to paint.
    rect
        The area.
    laterality
        The breast: named in the title; the left breast's nipple points right.
    marks
        The located findings of this breast; those without a depth are left out.
    colour
        The colour of a mark's dot.
    """
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    unit = min(rect.width() / 3.0, rect.height()) / 30.0
    side = _SIDES.get(laterality, "UNKNOWN")
    title = _title(painter, rect, f"{side} breast — depth from the nipple", unit * 2.6)
    _font(painter, unit * 2.0)
    label = painter.fontMetrics().height() * 1.2
    body = QRectF(rect.left(), rect.top() + title, rect.width(), rect.height() - title)
    nipple_right = laterality is Laterality.LEFT

    def x_at(fraction: float) -> float:
        if nipple_right:
            return body.right() - fraction * body.width()
        return body.left() + fraction * body.width()

    for third, name in enumerate(("anterior", "middle", "posterior")):
        x0, x1 = sorted((x_at(third / 3.0), x_at((third + 1) / 3.0)))
        painter.setPen(QPen(_GRID, unit * 0.2))
        painter.setBrush(_THIRDS[third])
        painter.drawRect(QRectF(x0, body.top(), x1 - x0, body.height()))
        painter.setPen(_LABEL)
        painter.drawText(
            QRectF(x0, body.bottom() - label, x1 - x0, label),
            int(Qt.AlignmentFlag.AlignHCenter),
            name,
        )
    wall = x_at(1.0)
    painter.setPen(QPen(_INK, unit * 0.6))
    painter.drawLine(QPointF(wall, body.top()), QPointF(wall, body.bottom()))
    painter.setPen(_INK)
    _inner_label(painter, body, wall, body.top(), label, "chest wall")
    nipple = QPointF(x_at(0.0), body.center().y())
    painter.setBrush(_INK)
    painter.drawEllipse(nipple, unit * 0.9, unit * 0.9)
    _inner_label(painter, body, nipple.x(), nipple.y() + unit, label, "nipple")
    placed = []
    for mark in marks:
        if mark.depth_fraction is None:
            continue
        fraction = min(max(mark.depth_fraction, 0.0), 1.0)
        up = math.cos(math.radians(mark.clock_angle_deg))  # 12 o'clock up, 6 down
        placed.append((QPointF(x_at(fraction), body.center().y() - up * body.height() * 0.3), mark))
    _dots(painter, placed, unit * 1.4, colour)
    painter.restore()


def paint_nipple_diagram(
    painter: QPainter,
    rect: QRectF,
    laterality: Laterality,
    orifice_hour: int | None,
    orifice: str,
) -> None:
    """Paint the nipple facing the patient with 12 hour ticks and the cannulated orifice.

    Parameters
    ----------
    painter
        Where to paint.
    rect
        The area.
    laterality
        The breast (named, and it decides which side is lateral).
    orifice_hour
        The orifice's clock hour (1–12), ``None`` for the centre (or not recorded).
    orifice
        ``"2 o'clock"``, ``"central"``, or ``""`` when not recorded (then no mark).
    """
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    unit = min(rect.width(), rect.height()) / 100.0
    side = _SIDES.get(laterality, "")
    title = _title(painter, rect, f"{side} nipple".strip(), unit * 6.0)
    words = unit * 16.0
    area = QRectF(rect.left(), rect.top() + title, rect.width(), rect.height() - title - words)
    radius = min(area.width(), area.height()) / 2.0 * 0.6
    centre = area.center()
    painter.setPen(QPen(_GRID, unit * 0.4))
    painter.setBrush(QColor(246, 232, 226))
    painter.drawEllipse(centre, radius * 1.25, radius * 1.25)  # the areola
    painter.setPen(QPen(_INK, unit * 0.7))
    painter.setBrush(QColor(232, 200, 190))
    painter.drawEllipse(centre, radius, radius)
    _font(painter, unit * 4.2, bold=True)
    for hour in range(1, 13):
        angle = math.radians(hour * 30)
        direction = QPointF(math.sin(angle), -math.cos(angle))
        inner = 0.86 if hour % 3 else 0.78
        painter.setPen(QPen(_INK, unit * (0.8 if hour % 3 == 0 else 0.45)))
        painter.drawLine(centre + direction * radius * inner, centre + direction * radius)
        if hour % 3 == 0:
            at = centre + direction * (radius * 1.25 + unit * 5.0)
            painter.drawText(
                QRectF(at.x() - unit * 5, at.y() - unit * 4, unit * 10, unit * 8),
                int(Qt.AlignmentFlag.AlignCenter),
                str(hour),
            )
    lateral_left = laterality is Laterality.RIGHT
    left_word, right_word = ("lateral", "medial") if lateral_left else ("medial", "lateral")
    if laterality in _SIDES:
        _font(painter, unit * 3.6)
        painter.setPen(_LABEL)
        for text, x in ((left_word, area.left()), (right_word, area.right() - unit * 22)):
            painter.drawText(
                QRectF(x, centre.y() + radius * 1.3, unit * 22, unit * 6),
                int(Qt.AlignmentFlag.AlignCenter),
                text,
            )
    _font(painter, unit * 4.4, bold=True)
    below = QRectF(rect.left(), area.bottom() + unit * 2, rect.width(), words - unit * 2)
    if not orifice:
        painter.setPen(_LABEL)
        painter.drawText(below, int(Qt.AlignmentFlag.AlignHCenter), "orifice not recorded")
        painter.restore()
        return
    if orifice_hour is None:
        spot = centre
    else:
        angle = math.radians(orifice_hour * 30)
        spot = centre + QPointF(math.sin(angle), -math.cos(angle)) * radius * 0.55
    painter.setPen(QPen(_INK, unit * 0.6))
    painter.setBrush(QColor(200, 30, 30))
    painter.drawEllipse(spot, unit * 3.2, unit * 3.2)
    painter.setPen(QColor(150, 0, 0))
    painter.drawText(below, int(Qt.AlignmentFlag.AlignHCenter), f"Cannulated orifice: {orifice}")
    painter.restore()


def paint_duct_schematic(
    painter: QPainter,
    rect: QRectF,
    view: DuctView,
    *,
    flip: tuple[bool, bool, float, float] = (False, False, 0.0, 0.0),
    mm_per_pixel: float | None = None,
    colour: Callable[[str], QColor] | None = None,
    letters: EdgeLetters | None = None,
) -> None:
    """Paint the traced ducts of one image with its nipple and lesions, as the image hangs.

    Parameters
    ----------
    painter
        Where to paint.
    rect
        The area; the drawing keeps the image's proportions (to its scale).
    view
        The segments, nipple and lesions, SCOORD (column, row) pixels.
    flip
        ``(horizontal, vertical, columns, rows)``: the hanging flips of the image
        (:func:`galactoview.reading.hanging.placement`) and its size.
    mm_per_pixel
        The image's pixel spacing; a 1 cm scale bar is drawn when given.
    colour
        A lesion's colour from its finding type (the code meaning).
    letters
        The patient direction letters of the hung image's edges
        (:func:`galactoview.reading.hanging.edge_letters`, as on the key images),
        printed at the middle of each edge; ``None`` (orientation unknown): none.
    """
    horizontal, vertical, columns, rows = flip

    def hung(point: tuple[float, float]) -> QPointF:
        x, y = point
        return QPointF(columns - x if horizontal else x, rows - y if vertical else y)

    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    unit = min(rect.width(), rect.height()) / 100.0
    title = _title(painter, rect, f"{view.view_label}: traced ducts", unit * 5.0)
    body = QRectF(rect.left(), rect.top() + title, rect.width(), rect.height() - title)
    painter.setPen(QPen(_GRID, unit * 0.3))
    painter.setBrush(QColor(250, 250, 250))
    painter.drawRect(body)
    points = [hung(p) for line in view.lines for p in line.points]
    points += [hung(lesion.centre) for lesion in view.lesions]
    if view.nipple is not None:
        points.append(hung(view.nipple))
    left, right = min(p.x() for p in points), max(p.x() for p in points)
    top, bottom = min(p.y() for p in points), max(p.y() for p in points)
    inner = body.adjusted(unit * 16, unit * 9, -unit * 16, -unit * 12)
    scale = min(inner.width() / max(right - left, 1.0), inner.height() / max(bottom - top, 1.0))
    offset = QPointF(
        inner.center().x() - (left + right) / 2.0 * scale,
        inner.center().y() - (top + bottom) / 2.0 * scale,
    )

    def place(point: tuple[float, float]) -> QPointF:
        return hung(point) * scale + offset

    taken: list[QRectF] = []
    if letters is not None:
        taken += _edge_letters(painter, body, letters, unit)
    anchors: list[tuple[QPointF, str]] = []
    for line in view.lines:
        placed = [place(p) for p in line.points]
        painter.setPen(
            QPen(
                QColor(40, 70, 140),
                unit * (1.3 if line.root else 0.9),
                Qt.PenStyle.SolidLine,
                Qt.PenCapStyle.RoundCap,
                Qt.PenJoinStyle.RoundJoin,
            )
        )
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPolyline(QPolygonF(placed))
        anchors.append((_halfway(placed), line.short_id))
    if view.nipple is not None:
        nipple = place(view.nipple)
        painter.setPen(QPen(_INK, unit * 0.5))
        painter.setBrush(QColor(232, 200, 190))
        painter.drawEllipse(nipple, unit * 2.4, unit * 2.4)
        taken.append(
            QRectF(nipple - QPointF(unit * 2.4, unit * 2.4), QSizeF(unit * 4.8, unit * 4.8))
        )
    marks = [
        (
            place(lesion.centre),
            PictogramMark(Laterality.UNKNOWN, 0.0, None, None, lesion.short_id, lesion.colour_key),
        )
        for lesion in view.lesions
    ]
    paint = colour

    def by_type(mark: PictogramMark) -> QColor:
        return paint(mark.colour_key) if paint is not None else screen_colour(mark)

    _dots(painter, marks, unit * 2.0, by_type, taken)
    _font(painter, unit * 3.4, min_points=8.0)
    if view.nipple is not None:
        painter.setPen(_INK)
        _place_label(painter, place(view.nipple), "nipple", taken, unit * 3.0)
    painter.setPen(QColor(40, 70, 140))
    for anchor, text in anchors:
        _place_label(painter, anchor, text, taken, unit * 2.0)
    if mm_per_pixel is not None and mm_per_pixel > 0:
        length = 10.0 / mm_per_pixel * scale
        start = QPointF(body.right() - unit * 4 - length, body.bottom() - unit * 4)
        painter.setPen(QPen(_INK, unit * 0.7))
        painter.drawLine(start, start + QPointF(length, 0))
        _font(painter, unit * 3.2, min_points=8.0)
        painter.drawText(
            QRectF(start.x() - unit * 10, start.y() - unit * 8, length + unit * 20, unit * 7),
            int(Qt.AlignmentFlag.AlignCenter),
            "1 cm",
        )
    painter.restore()


def _edge_letters(
    painter: QPainter, body: QRectF, letters: EdgeLetters, unit: float
) -> list[QRectF]:
    """Print the direction letters inside the middle of each edge; return their boxes."""
    _font(painter, unit * 3.6, bold=True, min_points=8.0)
    painter.setPen(_INK)
    size = unit * 7.0
    middle = body.center()
    boxes = (
        (QRectF(body.left(), middle.y() - size / 2, size, size), letters.left),
        (QRectF(body.right() - size, middle.y() - size / 2, size, size), letters.right),
        (QRectF(middle.x() - size / 2, body.top(), size, size), letters.top),
        (QRectF(middle.x() - size / 2, body.bottom() - size, size, size), letters.bottom),
    )
    for box, letter in boxes:
        painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), letter)
    return [box for box, _ in boxes]


def _halfway(points: Sequence[QPointF]) -> QPointF:
    """Return the point halfway along a polyline (by length)."""
    lengths = [math.dist((a.x(), a.y()), (b.x(), b.y())) for a, b in itertools.pairwise(points)]
    remaining = sum(lengths) / 2.0
    for (a, b), length in zip(itertools.pairwise(points), lengths, strict=True):
        if remaining <= length and length > 0:
            return a + (b - a) * (remaining / length)
        remaining -= length
    return points[-1]
