"""Key images of the report: the marked image as hung, and a close-up per finding.

A key image is rendered with the file's default window (PS3.3 C.11.2), hung with the
hanging flips (:func:`galactoview.reading.hanging.placement`) and the marks (SCOORD,
PS3.3 C.18.6.1.2) burned in. On it:

* the patient direction letters at the middle of each edge, from Patient Orientation
  (0020,0020) after the flips (PS3.3 C.7.6.1.1.1;
  :func:`galactoview.reading.hanging.edge_letters`, as the viewer's overlay);
* a scale bar of 20 or 10 mm at the image's calibration (the column spacing, PS3.3
  10.7.1.3), or "no calibration" and no bar when the calibration is unknown;
* each finding's label on a dark plate, placed by
  :func:`galactoview.reading.label_layout.place_labels` so that no two labels overlap
  and none covers a mark, with an arrow from the label to the finding.

A close-up per finding crops the hung image around the finding's regions on that image
and enlarges it by a whole factor (stated on it, "×3", relative to the key image's
pixels, so relative to the key image printed beside it at the same scale) with its own
scale bar. All rectangles are kept (:class:`KeyImageDrawing`) so tests can check the
layout rather than the pixels.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPainterPath, QPen

from galactoview.annotations.model import FindingType, GraphicType
from galactoview.dicom.loading import ImageRecord
from galactoview.dicom.mammography import Flip
from galactoview.imaging.export import read_dataset, render_image
from galactoview.reading.hanging import EdgeLetters, edge_letters, placement
from galactoview.reading.label_layout import LabelLayout, LabelRequest, Rect, place_labels
from galactoview.report.content import KeyImage, KeyMark
from galactoview.ui.annotate.finding_palette import FINDING_COLOURS, NIPPLE_COLOUR

__all__ = [
    "NO_CALIBRATION_TEXT",
    "KeyImageDrawing",
    "ScaleBar",
    "close_up_factor",
    "key_image_drawings",
    "marked_image",
    "scale_bar_mm",
]

#: Printed instead of a scale bar when the image's calibration is unknown.
NO_CALIBRATION_TEXT: Final = "no calibration"
#: Scale bar lengths of a key image (mm), preferred first.
_KEY_BAR_MM: Final = (20.0, 10.0)
#: Scale bar lengths of a close-up (mm), preferred first.
_CLOSE_UP_BAR_MM: Final = (10.0, 5.0, 2.0, 1.0)
#: Side of a close-up, as a fraction of the key image's larger side (three fit beneath it).
CLOSE_UP_FRACTION: Final = 1.0 / 3.0
#: Enlargements a close-up may have, preferred (largest) first.
_FACTORS: Final = (8, 6, 5, 4, 3, 2)
#: Plate behind labels, letters and the scale bar.
_PLATE: Final = QColor(0, 0, 0, 200)
_TEXT: Final = QColor(255, 255, 255)
_NIPPLE_KEY: Final = "N"


@dataclass(frozen=True, slots=True)
class ScaleBar:
    """A scale bar drawn on an image.

    Attributes
    ----------
    length_mm
        Its physical length; ``None`` when uncalibrated or too narrow for a bar (then
        only the text is drawn).
    length_px
        Its length in the drawing's pixels (0 when uncalibrated).
    text
        ``"20 mm"``, :data:`NO_CALIBRATION_TEXT`, or ``"0.9 mm wide"`` for a calibrated
        drawing too narrow for a bar.
    plate
        The dark plate behind the bar and its text.
    """

    length_mm: float | None
    length_px: float
    text: str
    plate: Rect


@dataclass(frozen=True, slots=True)
class KeyImageDrawing:
    """A rendered key image or close-up, with where everything on it went.

    Attributes
    ----------
    image
        RGB32; a key image has the image's native size.
    labels
        The labels' boxes and leaders, in the drawing's pixels.
    letters
        Patient direction letters of the edges (``None``: orientation unknown, or a
        close-up, which has none).
    letter_boxes
        The letters' plates, left, right, top, bottom (empty without letters).
    scale_bar
        The scale bar or the "no calibration" text.
    magnification
        1 for a key image; a close-up's whole enlargement factor.
    crop
        The part of the hung key image a close-up shows, in key-image pixels
        (the whole image for a key image).
    short_id
        The close-up's finding ("" for a key image).
    caption
        A close-up's stated magnification, e.g. ``"FD-1 ×3"`` (drawn on it); "" for a
        key image.
    """

    image: QImage
    labels: LabelLayout
    letters: EdgeLetters | None
    letter_boxes: tuple[Rect, ...]
    scale_bar: ScaleBar
    magnification: int
    crop: Rect
    short_id: str = ""
    caption: str = ""


def scale_bar_mm(
    mm_per_px: float | None, width_px: float, choices: Sequence[float]
) -> float | None:
    """Return the first length of `choices` whose bar fits in a third of the width.

    Parameters
    ----------
    mm_per_px
        Physical size of a drawing pixel horizontally; ``None`` when uncalibrated.
    width_px
        The drawing's width.
    choices
        Lengths in mm, preferred first; the last one is used when none fits a third
        (and not at all when it is wider than the drawing).

    Returns
    -------
    float or None
        ``None`` when uncalibrated or when even the last choice is wider than the image.
    """
    if mm_per_px is None or not (math.isfinite(mm_per_px) and mm_per_px > 0.0):
        return None
    for length in choices:
        if length / mm_per_px <= width_px / 3.0:
            return length
    last = choices[-1]
    return last if last / mm_per_px <= width_px * 0.9 else None


def close_up_factor(target: Rect, side_px: float, image_width: float, image_height: float) -> int:
    """Return the enlargement of a finding's close-up.

    The largest of 8, 6, 5, 4, 3, 2 at which the finding spans at most 40 % of the
    close-up (room around it for its neighbours and its label), else 2 while it spans
    at most 80 %, else 1; the crop (``side_px / factor``) must fit in the image.

    Parameters
    ----------
    target
        The finding's regions' bounding box, in key-image pixels.
    side_px
        The close-up's side, in its own pixels.
    image_width, image_height
        The key image's size.

    Returns
    -------
    int
        The factor.
    """
    extent = max(target.width, target.height, 1.0)
    smallest = min(image_width, image_height)
    for factor in _FACTORS:
        if extent * factor <= 0.4 * side_px and side_px / factor <= smallest:
            return factor
    return 2 if extent * 2 <= 0.8 * side_px and side_px / 2 <= smallest else 1


# ------------------------------------------------------------------ geometry


@dataclass(frozen=True, slots=True)
class _Shape:
    """A region mapped to drawing pixels."""

    short_id: str
    colour_key: str
    graphic: GraphicType
    points: tuple[tuple[float, float], ...]


def _colour(key: str) -> QColor:
    try:
        return QColor(FINDING_COLOURS[FindingType(key)])
    except ValueError:
        return QColor(220, 220, 220)


def _bounds(shape: _Shape, point_size: float) -> Rect:
    """Return the bounding box of a drawn region."""
    pts = shape.points
    if shape.graphic is GraphicType.POINT:
        return Rect.around(pts[:1], point_size)
    if shape.graphic is GraphicType.CIRCLE:
        (cx, cy), (px, py) = pts[0], pts[1]
        return Rect.around([(cx, cy)], math.hypot(px - cx, py - cy))
    if shape.graphic is GraphicType.ELLIPSE and len(pts) == 4:
        (ax0, ay0), (ax1, ay1), (bx0, by0), (bx1, by1) = pts
        cx, cy = (ax0 + ax1 + bx0 + bx1) / 4.0, (ay0 + ay1 + by0 + by1) / 4.0
        ux, uy = (ax1 - ax0) / 2.0, (ay1 - ay0) / 2.0
        vx, vy = (bx1 - bx0) / 2.0, (by1 - by0) / 2.0
        half_w, half_h = math.hypot(ux, vx), math.hypot(uy, vy)
        return Rect(cx - half_w, cy - half_h, 2 * half_w, 2 * half_h)
    return Rect.around(pts)


def _pieces(shape: _Shape, point_size: float, width: float) -> list[Rect]:
    """Return boxes covering a drawn region: its bounds, or short pieces of a polyline."""
    if shape.graphic is not GraphicType.POLYLINE or len(shape.points) < 2:
        return [_bounds(shape, point_size)]
    boxes = []
    step = max(8.0 * width, 4.0)
    for (x0, y0), (x1, y1) in zip(shape.points, shape.points[1:], strict=False):
        count = max(1, math.ceil(math.hypot(x1 - x0, y1 - y0) / step))
        for i in range(count):
            a, b = i / count, (i + 1) / count
            start = (x0 + a * (x1 - x0), y0 + a * (y1 - y0))
            end = (x0 + b * (x1 - x0), y0 + b * (y1 - y0))
            boxes.append(Rect.around([start, end], width))
    return boxes


def _union(rects: Sequence[Rect]) -> Rect:
    corners = [(r.left, r.top) for r in rects] + [(r.right, r.bottom) for r in rects]
    return Rect.around(corners)


def _clipped(rect: Rect, canvas: Rect) -> Rect | None:
    """Return the part of `rect` on the canvas (a close-up shows part of a mark), if any."""
    left, top = max(rect.left, canvas.left), max(rect.top, canvas.top)
    right, bottom = min(rect.right, canvas.right), min(rect.bottom, canvas.bottom)
    if right <= left or bottom <= top:
        return None
    return Rect(left, top, right - left, bottom - top)


def _onto_outline(
    leader: tuple[tuple[float, float], tuple[float, float]], shape: _Shape, canvas: Rect
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Return the leader ending on a circle's or ellipse's outline rather than its box.

    The leader is continued towards the centre up to the outline, which lies inside the
    box the layout aimed at; other shapes, and an outline point off the canvas, keep
    the layout's end.
    """
    pts = shape.points
    if shape.graphic is GraphicType.CIRCLE and len(pts) >= 2:
        (cx, cy), (px, py) = pts[0], pts[1]
        radius = math.hypot(px - cx, py - cy)
        u, v = (radius, 0.0), (0.0, radius)
    elif shape.graphic is GraphicType.ELLIPSE and len(pts) == 4:
        (ax0, ay0), (ax1, ay1), (bx0, by0), (bx1, by1) = pts
        cx, cy = (ax0 + ax1 + bx0 + bx1) / 4.0, (ay0 + ay1 + by0 + by1) / 4.0
        u, v = ((ax1 - ax0) / 2.0, (ay1 - ay0) / 2.0), ((bx1 - bx0) / 2.0, (by1 - by0) / 2.0)
    else:
        return leader
    start = leader[0]
    dx, dy = start[0] - cx, start[1] - cy
    lu, lv = u[0] ** 2 + u[1] ** 2, v[0] ** 2 + v[1] ** 2
    if lu <= 0.0 or lv <= 0.0:
        return leader
    # The start in the ellipse's own axes (unit circle); the outline is at norm 1.
    x, y = (dx * u[0] + dy * u[1]) / lu, (dx * v[0] + dy * v[1]) / lv
    norm = math.hypot(x, y)
    if norm <= 1.0:
        return leader
    end = (cx + dx / norm, cy + dy / norm)
    inside = canvas.left <= end[0] <= canvas.right and canvas.top <= end[1] <= canvas.bottom
    return (start, end) if inside else leader


def _draw_shape(painter: QPainter, shape: _Shape, point_size: float) -> None:
    """Draw one region (already mapped) with the painter's pen."""
    points = [QPointF(x, y) for x, y in shape.points]
    if shape.graphic is GraphicType.POINT:
        p = points[0]
        painter.drawLine(p + QPointF(-point_size, 0), p + QPointF(point_size, 0))
        painter.drawLine(p + QPointF(0, -point_size), p + QPointF(0, point_size))
    elif shape.graphic is GraphicType.CIRCLE:
        centre = points[0]
        radius = math.hypot(points[1].x() - centre.x(), points[1].y() - centre.y())
        painter.drawEllipse(centre, radius, radius)
    elif shape.graphic is GraphicType.ELLIPSE and len(points) == 4:
        a0, a1, b0, b1 = points
        centre = (a0 + a1 + b0 + b1) / 4.0
        major = math.hypot(a1.x() - a0.x(), a1.y() - a0.y()) / 2.0
        minor = math.hypot(b1.x() - b0.x(), b1.y() - b0.y()) / 2.0
        angle = math.degrees(math.atan2(a1.y() - a0.y(), a1.x() - a0.x()))
        painter.save()
        painter.translate(centre)
        painter.rotate(angle)
        painter.drawEllipse(QPointF(0.0, 0.0), major, minor)
        painter.restore()
    else:
        path = QPainterPath(points[0])
        for p in points[1:]:
            path.lineTo(p)
        painter.drawPath(path)


# ------------------------------------------------------------------ rendering


def _hung(key: KeyImage, record: ImageRecord) -> tuple[QImage, Flip]:
    """Return the image rendered with its default window and flipped as hung."""
    array = render_image(read_dataset(record.source), frame=key.frame)
    rows, columns = array.shape[0], array.shape[1]
    if array.ndim == 2:
        image = QImage(array.tobytes(), columns, rows, columns, QImage.Format.Format_Grayscale8)
    else:
        image = QImage(array.tobytes(), columns, rows, 3 * columns, QImage.Format.Format_RGB888)
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    flip, _ = placement(record)
    orientation = Qt.Orientation(0)
    if flip.horizontal:
        orientation |= Qt.Orientation.Horizontal
    if flip.vertical:
        orientation |= Qt.Orientation.Vertical
    return image.flipped(orientation), flip


class _Style:
    """Sizes of the drawing, in its pixels, for a key image of a given size."""

    def __init__(self, rows: int, columns: int) -> None:
        scale = max(rows, columns) / 1000.0
        self.line = max(2.0, 2.5 * scale)
        self.point = 8.0 * scale
        self.font = QFont("DejaVu Sans")
        self.font.setPixelSize(max(12, round(30 * scale)))
        self.font.setBold(True)
        self.letter_font = QFont(self.font)
        self.letter_font.setPixelSize(max(14, round(40 * scale)))
        self.pad = max(3.0, 0.25 * self.font.pixelSize())
        self.margin = max(4.0, 12.0 * scale)
        self.gap = 1.4 * self.font.pixelSize()

    def text_box(self, font: QFont, text: str) -> tuple[float, float]:
        metrics = QFontMetricsF(font)
        return (
            metrics.horizontalAdvance(text) + 2 * self.pad,
            metrics.height() + 2 * self.pad,
        )


def _plate(painter: QPainter, box: Rect, font: QFont, text: str, colour: QColor) -> None:
    """Draw `text` in `colour` centred on a dark plate filling `box`."""
    rect = QRectF(box.left, box.top, box.width, box.height)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(_PLATE)
    painter.drawRoundedRect(rect, box.height * 0.15, box.height * 0.15)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setFont(font)
    painter.setPen(colour)
    painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), text)


def _arrow(
    painter: QPainter,
    leader: tuple[tuple[float, float], tuple[float, float]],
    colour: QColor,
    width: float,
    head: bool,
) -> None:
    """Draw a leader (with an arrowhead at its end when `head`), outlined in black."""
    (x0, y0), (x1, y1) = leader
    length = math.hypot(x1 - x0, y1 - y0)
    if length < 1.0:
        return
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    size = min(max(6.0 * width, 12.0), length * 0.8) if head else 0.0
    shaft_end = QPointF(x1 - ux * size * 0.8, y1 - uy * size * 0.8)
    tip = QPointF(x1, y1)
    base = QPointF(x1 - ux * size, y1 - uy * size)
    wing = QPointF(-uy * size * 0.45, ux * size * 0.45)
    halo = QColor(0, 0, 0, 220)
    for pen_width, pen_colour in ((width + 3.0, halo), (width, colour)):
        painter.setPen(QPen(pen_colour, pen_width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.drawLine(QPointF(x0, y0), shaft_end if head else tip)
    if head:
        path = QPainterPath(tip)
        path.lineTo(base + wing)
        path.lineTo(base - wing)
        path.closeSubpath()
        painter.setPen(QPen(halo, 2.0))
        painter.setBrush(colour)
        painter.drawPath(path)
        painter.setBrush(Qt.BrushStyle.NoBrush)


def _letter_boxes(
    style: _Style, letters: EdgeLetters, width: float, height: float
) -> tuple[Rect, ...]:
    """Return the plates of the left, right, top and bottom letters at the edges' middles."""
    boxes = []
    for edge, text in (
        ("left", letters.left),
        ("right", letters.right),
        ("top", letters.top),
        ("bottom", letters.bottom),
    ):
        w, h = style.text_box(style.letter_font, text or " ")
        m = style.margin
        if edge == "left":
            boxes.append(Rect(m, (height - h) / 2.0, w, h))
        elif edge == "right":
            boxes.append(Rect(width - m - w, (height - h) / 2.0, w, h))
        elif edge == "top":
            boxes.append(Rect((width - w) / 2.0, m, w, h))
        else:
            boxes.append(Rect((width - w) / 2.0, height - m - h, w, h))
    return tuple(boxes)


def _scale_bar(
    style: _Style, mm_per_px: float | None, width: float, height: float, choices: Sequence[float]
) -> ScaleBar:
    """Return the scale bar (or the no-calibration text) at the bottom-left corner.

    A calibrated image too narrow for the shortest bar gets its width in mm instead.
    """
    length = scale_bar_mm(mm_per_px, width, choices)
    metrics = QFontMetricsF(style.font)
    m, pad = style.margin, style.pad
    if length is None or mm_per_px is None:
        text = NO_CALIBRATION_TEXT if mm_per_px is None else f"{width * mm_per_px:.2g} mm wide"
        w, h = style.text_box(style.font, text)
        return ScaleBar(None, 0.0, text, Rect(m, height - m - h, w, h))
    text = f"{length:g} mm"
    px = length / mm_per_px
    w = max(px, metrics.horizontalAdvance(text)) + 2 * pad
    h = metrics.height() + 3 * style.line + 3 * pad
    return ScaleBar(length, px, text, Rect(m, height - m - h, w, h))


def _paint_scale_bar(painter: QPainter, style: _Style, bar: ScaleBar) -> None:
    plate = bar.plate
    if bar.length_mm is None:
        _plate(painter, plate, style.font, bar.text, _TEXT)
        return
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(_PLATE)
    painter.drawRoundedRect(QRectF(plate.left, plate.top, plate.width, plate.height), 4, 4)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    left = plate.left + (plate.width - bar.length_px) / 2.0
    y = plate.bottom - style.pad - style.line
    painter.setPen(QPen(_TEXT, style.line, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap))
    painter.drawLine(QPointF(left, y), QPointF(left + bar.length_px, y))
    tick = 2.0 * style.line
    for x in (left, left + bar.length_px):
        painter.drawLine(QPointF(x, y - tick), QPointF(x, y + style.line / 2.0))
    painter.setFont(style.font)
    metrics = QFontMetricsF(style.font)
    text_rect = QRectF(plate.left, plate.top + style.pad, plate.width, metrics.height())
    painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignCenter), bar.text)


def _draw(
    image: QImage,
    style: _Style,
    shapes: Sequence[_Shape],
    nipples: Sequence[tuple[float, float]],
    reserved: Sequence[Rect],
    labelled: Sequence[str] | None,
) -> LabelLayout:
    """Draw marks, nipples and their labels with arrows; return the labels' layout.

    `labelled` limits the labels to those findings (``None``: every finding).
    """
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    width, height = image.width(), image.height()
    for shape in shapes:
        painter.setPen(QPen(QColor(0, 0, 0, 160), style.line + 2.0))
        _draw_shape(painter, shape, style.point)
        painter.setPen(QPen(_colour(shape.colour_key), style.line))
        _draw_shape(painter, shape, style.point)
    nipple_radius = 7.0 * style.point / 8.0 + style.line
    for x, y in nipples:
        painter.setPen(QPen(NIPPLE_COLOUR, style.line))
        painter.drawEllipse(QPointF(x, y), nipple_radius, nipple_radius)
    # Labels: one per finding (its regions' union), then each nipple's "N".
    pieces = [p for s in shapes for p in _pieces(s, style.point, style.line)]
    targets: dict[str, list[Rect]] = {}
    colours: dict[str, QColor] = {}
    for shape in shapes:
        if labelled is not None and shape.short_id not in labelled:
            continue
        targets.setdefault(shape.short_id, []).append(_bounds(shape, style.point))
        colours.setdefault(shape.short_id, _colour(shape.colour_key))
    requests = []
    canvas = Rect(0, 0, width, height)
    for short_id, rects in targets.items():
        target = _clipped(_union(rects), canvas)
        if target is None:
            continue
        w, h = style.text_box(style.font, short_id)
        requests.append(LabelRequest(short_id, target, w, h))
    nipple_boxes = [Rect.around([n], nipple_radius) for n in nipples]
    nipple_keys = set()
    for index, box in enumerate(nipple_boxes):
        if box.intersects(canvas):
            w, h = style.text_box(style.font, _NIPPLE_KEY)
            nipple_keys.add(f"nipple {index + 1}")
            requests.append(LabelRequest(f"nipple {index + 1}", box, w, h))
    layout = place_labels(
        width,
        height,
        requests,
        [*pieces, *nipple_boxes, *reserved],
        gap=style.gap,
        leader_beyond=0.0,
    )
    outlines = {
        short_id: only[0]
        for short_id in targets
        if len(only := [s for s in shapes if s.short_id == short_id]) == 1
    }
    for label in layout.placed:
        nipple = label.key in nipple_keys
        colour = NIPPLE_COLOUR if nipple else colours[label.key]
        if label.leader is not None:
            leader = label.leader
            if not nipple and label.key in outlines:
                leader = _onto_outline(leader, outlines[label.key], canvas)
            _arrow(painter, leader, colour, style.line, head=not nipple)
    for label in layout.placed:
        nipple = label.key in nipple_keys
        colour = NIPPLE_COLOUR if nipple else colours[label.key]
        _plate(painter, label.box, style.font, _NIPPLE_KEY if nipple else label.key, colour)
    painter.end()
    return layout


def _shape(mark: KeyMark, mapped: Callable[[tuple[float, float]], tuple[float, float]]) -> _Shape:
    return _Shape(
        mark.short_id,
        mark.colour_key,
        mark.region.graphic_type,
        tuple(mapped(p) for p in mark.region.points),
    )


def _mm_per_px(record: ImageRecord) -> float | None:
    """Return the horizontal size of an image pixel (column spacing), None if unknown."""
    calibration = record.calibration
    if calibration is None or not calibration.is_known:
        return None
    return calibration.column_spacing_mm


def key_image_drawings(
    key: KeyImage, record: ImageRecord, close_ups: bool = True
) -> tuple[KeyImageDrawing, tuple[KeyImageDrawing, ...]]:
    """Render a key image and a close-up of each of its findings.

    Parameters
    ----------
    key
        The image's marks.
    record
        The image.
    close_ups
        False renders the key image only.

    Returns
    -------
    tuple
        The key image, and one close-up per finding on it in the order of the marks.

    Raises
    ------
    galactoview.imaging.export.RenderError
        If the image cannot be rendered.
    """
    hung, flip = _hung(key, record)
    rows, columns = hung.height(), hung.width()
    style = _Style(rows, columns)

    def mapped(point: tuple[float, float]) -> tuple[float, float]:
        column, row = point
        return (
            columns - column if flip.horizontal else column,
            rows - row if flip.vertical else row,
        )

    shapes = [_shape(mark, mapped) for mark in key.marks]
    nipples = [mapped(n) for n in key.nipples]
    spacing = _mm_per_px(record)
    letters = edge_letters(record.patient_orientation, flip)
    letter_boxes = _letter_boxes(style, letters, columns, rows) if letters is not None else ()
    bar = _scale_bar(style, spacing, columns, rows, _KEY_BAR_MM)
    image = hung.copy()
    layout = _draw(image, style, shapes, nipples, [*letter_boxes, bar.plate], None)
    _paint_frame(image, style, letters, letter_boxes, bar)
    full = KeyImageDrawing(image, layout, letters, letter_boxes, bar, 1, Rect(0, 0, columns, rows))
    if not close_ups:
        return full, ()
    side = max(rows, columns) * CLOSE_UP_FRACTION
    crops = []
    for short_id in dict.fromkeys(s.short_id for s in shapes):
        target = _union([_bounds(s, style.point) for s in shapes if s.short_id == short_id])
        crops.append(_close_up(hung, style, shapes, nipples, short_id, target, side, spacing))
    return full, tuple(crops)


def _close_up(
    hung: QImage,
    style: _Style,
    shapes: Sequence[_Shape],
    nipples: Sequence[tuple[float, float]],
    short_id: str,
    target: Rect,
    side: float,
    spacing: float | None,
) -> KeyImageDrawing:
    """Return the close-up of one finding: a crop of the hung image, enlarged."""
    factor = close_up_factor(target, side, hung.width(), hung.height())
    size = max(1, min(math.ceil(side / factor), hung.width(), hung.height()))
    cx, cy = target.centre
    left = min(max(round(cx - size / 2.0), 0), hung.width() - size)
    top = min(max(round(cy - size / 2.0), 0), hung.height() - size)
    crop = hung.copy(QRect(left, top, size, size)).scaled(
        size * factor,
        size * factor,
        Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )

    def zoomed(point: tuple[float, float]) -> tuple[float, float]:
        return ((point[0] - left) * factor, (point[1] - top) * factor)

    local = [
        _Shape(s.short_id, s.colour_key, s.graphic, tuple(zoomed(p) for p in s.points))
        for s in shapes
    ]
    caption = f"{short_id} ×{factor}"
    w, h = style.text_box(style.font, caption)
    caption_box = Rect(style.margin, style.margin, w, h)
    per_px = None if spacing is None else spacing / factor
    bar = _scale_bar(style, per_px, crop.width(), crop.height(), _CLOSE_UP_BAR_MM)
    visible = Rect(left, top, size, size)
    others = [
        s.short_id
        for s in shapes
        if s.short_id != short_id and _bounds(s, style.point).intersects(visible)
    ]
    layout = _draw(
        crop,
        style,
        local,
        [zoomed(n) for n in nipples],
        [caption_box, bar.plate],
        [short_id, *others],
    )
    painter = QPainter(crop)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    _plate(painter, caption_box, style.font, caption, _TEXT)
    _paint_scale_bar(painter, style, bar)
    painter.end()
    return KeyImageDrawing(crop, layout, None, (), bar, factor, visible, short_id, caption)


def _paint_frame(
    image: QImage,
    style: _Style,
    letters: EdgeLetters | None,
    letter_boxes: Sequence[Rect],
    bar: ScaleBar,
) -> None:
    """Draw the orientation letters and the scale bar."""
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    if letters is not None:
        texts = (letters.left, letters.right, letters.top, letters.bottom)
        for box, text in zip(letter_boxes, texts, strict=True):
            _plate(painter, box, style.letter_font, text, _TEXT)
    _paint_scale_bar(painter, style, bar)
    painter.end()


def marked_image(key: KeyImage, record: ImageRecord) -> QImage:
    """Render a key image as hung with its marks, labels, letters and scale bar.

    Parameters
    ----------
    key
        The image's marks.
    record
        The image.

    Returns
    -------
    QImage
        RGB32, the image's native size.

    Raises
    ------
    galactoview.imaging.export.RenderError
        If the image cannot be rendered.
    """
    return key_image_drawings(key, record, close_ups=False)[0].image
