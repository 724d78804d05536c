"""Viewport overlays: four-corner text, orientation letters and a scale bar, never overlapping.

:class:`ViewportOverlay` draws over a :class:`~galactoview.ui.viewer.viewport.Viewport`:

* the four corner blocks of :func:`~galactoview.reading.corner_text.corner_lines`
  (patient, study, image, view; the view label in the bottom-right corner larger and
  bold; ``"INVERTED"``, in amber, under the window when the reader inverted the grayscale);
* the patient direction letters at the middle of each edge, from
  :func:`~galactoview.reading.hanging.edge_letters` (PS3.3 C.7.6.1.1.1) after the hanging flip;
* a scale bar at the bottom centre, a "nice" length
  (:func:`~galactoview.reading.corner_text.scale_bar_length_mm`) drawn at the current
  physical scale, replaced by ``"no mm scale: uncalibrated"`` when the image has no
  known calibration.

Every item is measured here (:class:`QFontMetricsF`) and placed by
:func:`~galactoview.reading.overlay_layout.layout_overlay` on each change of the text,
zoom or size: no two items overlap and all stay inside the viewport; in a small cell
the lowest-priority lines are dropped and long names abbreviated with "…"
(:meth:`ViewportOverlay.layout_rects` returns the rectangles placed).

Text is never flipped with the image: it is painted by one widget over the viewport,
not in its scene, which lets the mouse through. Each item sits on a semi-transparent
dark plate, so the light text reads on white tissue or an inverted image as on the
black background. Nothing is shown without an image; :meth:`ViewportOverlay.set_visible`
hides or shows everything at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from galactoview.reading.corner_text import (
    CornerLine,
    CornerLineKind,
    CornerLines,
    CornerText,
    corner_lines,
    scale_bar_length_mm,
)
from galactoview.reading.hanging import EdgeLetters, edge_letters
from galactoview.reading.overlay_layout import (
    CORNER_LINE_PRIORITY,
    ELIDABLE_KINDS,
    LETTER_PRIORITY,
    SCALE_BAR_PRIORITY,
    OverlayItem,
    OverlayLayout,
    Rect,
    Slot,
    layout_overlay,
)
from galactoview.ui.viewer.view_labels import view_labels
from galactoview.ui.viewer.viewport import Viewport

__all__ = ["UNCALIBRATED_SCALE_TEXT", "OverlayCanvas", "ViewportOverlay"]

#: Shown instead of the scale bar when the image's calibration is unknown.
UNCALIBRATED_SCALE_TEXT: Final = "no mm scale: uncalibrated"

#: Distance of the overlays from the viewport edges, in logical pixels.
MARGIN: Final = 4.0
#: Least distance between two overlay items of different places, in logical pixels.
GAP: Final = 3.0
#: Space between a text and the edge of its plate, in logical pixels.
PAD_X: Final = 3.0
PAD_Y: Final = 1.0
#: An abbreviated line keeps at least this many characters before its "…".
ELIDED_CHARACTERS: Final = 6

#: Light grey text on a semi-transparent dark plate: readable on black, white or inverted.
TEXT_COLOUR: Final = QColor(230, 230, 230)
PLATE_COLOUR: Final = QColor(0, 0, 0, 180)
#: ``"INVERTED"`` stands out: the grayscale shown is not the one the reader expects.
WARNING_COLOUR: Final = QColor(255, 200, 80)
#: The dark outline under the scale bar's light line.
SHADOW_COLOUR: Final = QColor(0, 0, 0, 230)

#: Font sizes relative to the viewport's font: corner text, view label, edge letters.
TEXT_SCALE: Final = 0.9
VIEW_LABEL_SCALE: Final = 1.5
LETTER_SCALE: Final = 1.3

#: Layout keys of the corners (in :class:`CornerText` order) and of the letters.
CORNER_KEYS: Final = ("top_left", "top_right", "bottom_left", "bottom_right")
_CORNER_SLOTS: Final = (Slot.TOP_LEFT, Slot.TOP_RIGHT, Slot.BOTTOM_LEFT, Slot.BOTTOM_RIGHT)
LETTER_KEYS: Final = ("letter_left", "letter_right", "letter_top", "letter_bottom")
_LETTER_SLOTS: Final = (Slot.LEFT, Slot.RIGHT, Slot.TOP, Slot.BOTTOM)
SCALE_BAR_KEY: Final = "scale_bar"
SCALE_NOTE_KEY: Final = "scale_note"

#: Scale bar: height of its end ticks, in logical pixels.
TICK: Final = 6.0


def _scaled_font(base: QFont, scale: float, *, bold: bool = False) -> QFont:
    font = QFont(base)
    size = base.pointSizeF()
    if size > 0:
        font.setPointSizeF(max(7.0, size * scale))
    font.setBold(bold)
    return font


@dataclass(frozen=True, slots=True)
class _Drawn:
    """One item to paint: its plate, its text and, for the scale bar, the bar's length."""

    rect: QRectF
    text: str
    font: QFont
    bar_px: float | None
    colour: QColor


class OverlayCanvas(QWidget):
    """The widget over a viewport that paints the overlay items, letting the mouse through."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground, True)
        self.setAutoFillBackground(False)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._drawn: tuple[_Drawn, ...] = ()
        self.hide()

    def set_drawn(self, drawn: tuple[_Drawn, ...]) -> None:
        """Paint these items (replacing those painted)."""
        self._drawn = drawn
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt)
        """Draw each item's plate, then its text (and the scale bar's bar)."""
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            for item in self._drawn:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(PLATE_COLOUR)
                painter.drawRoundedRect(item.rect, 2.0, 2.0)
                painter.setFont(item.font)
                metrics = QFontMetricsF(item.font)
                if item.bar_px is None:
                    painter.setPen(item.colour)
                    baseline = item.rect.top() + PAD_Y + metrics.ascent()
                    painter.drawText(QPointF(item.rect.left() + PAD_X, baseline), item.text)
                else:
                    _paint_scale_bar(painter, item, metrics)
        finally:
            painter.end()


def _paint_scale_bar(painter: QPainter, item: _Drawn, metrics: QFontMetricsF) -> None:
    """Draw a bar with end and middle ticks, outlined, and its length centred above it."""
    rect, length = item.rect, item.bar_px or 0.0
    left = rect.center().x() - length / 2.0
    right = left + length
    y = rect.bottom() - PAD_Y - 2.0
    lines = [
        (QPointF(left, y), QPointF(right, y)),
        (QPointF(left, y), QPointF(left, y - TICK)),
        (QPointF(right, y), QPointF(right, y - TICK)),
        (QPointF((left + right) / 2.0, y), QPointF((left + right) / 2.0, y - TICK / 2)),
    ]
    for colour, width in ((SHADOW_COLOUR, 3.0), (TEXT_COLOUR, 1.0)):
        pen = QPen(colour, width)
        pen.setCapStyle(Qt.PenCapStyle.SquareCap)
        painter.setPen(pen)
        for start, end in lines:
            painter.drawLine(start, end)
    baseline = rect.top() + PAD_Y + metrics.ascent()
    x = rect.center().x() - metrics.horizontalAdvance(item.text) / 2.0
    painter.setPen(TEXT_COLOUR)
    painter.drawText(QPointF(x, baseline), item.text)


class ViewportOverlay(QObject):
    """Corner text, orientation letters and a scale bar over a :class:`Viewport`.

    Kept up to date from the viewport's ``image_changed``, ``voi_changed`` and
    ``view_changed`` signals, and laid out again when the viewport is resized. The
    overlay is a child of the viewport and lives as long as it does.

    Parameters
    ----------
    viewport
        The viewport to draw over.
    """

    def __init__(self, viewport: Viewport) -> None:
        super().__init__(viewport)
        self._viewport = viewport
        self._visible = True
        self._frame_count: int | None = None
        self._lines = CornerLines()
        self._letters: EdgeLetters | None = None
        self._scale_mm: float | None = None
        self._scale_px = 0.0
        self._uncalibrated = False
        self._layout = OverlayLayout()
        self._request: tuple[int, int, tuple[OverlayItem, ...]] | None = None
        self._shown_text = CornerText()
        self._shown_letters = EdgeLetters("", "", "", "")
        base = viewport.font()
        self._text_font = _scaled_font(base, TEXT_SCALE)
        self._view_font = _scaled_font(base, VIEW_LABEL_SCALE, bold=True)
        self._letter_font = _scaled_font(base, LETTER_SCALE, bold=True)
        self._canvas = OverlayCanvas(viewport)
        self._labels = view_labels(viewport)  # the marks' labels keep clear of the overlays
        self._labels.add_obstacles(self._label_obstacles)
        viewport.image_changed.connect(self.refresh)
        viewport.voi_changed.connect(self._on_voi_changed)
        viewport.view_changed.connect(self.refresh)
        viewport.installEventFilter(self)
        self.refresh()

    # --- API ------------------------------------------------------------------------

    def set_visible(self, visible: bool) -> None:
        """Show or hide all overlays (still nothing without an image)."""
        self._visible = bool(visible)
        self._apply_visibility()

    def is_visible(self) -> bool:
        """Return whether the overlays are switched on (see :meth:`set_visible`)."""
        return self._visible

    def is_shown(self) -> bool:
        """Return whether the overlays are on the screen (switched on, with an image)."""
        return self._canvas.isVisible()

    def set_frame_count(self, count: int) -> None:
        """Set the number of frames for ``"Fr k/n"``; 0 or less uses the record's."""
        self._frame_count = count if count > 0 else None
        self.refresh()

    def texts(self) -> CornerText:
        """Return the corner text of the image (all lines, also those left out of a small cell)."""
        return self._lines.text()

    def shown_texts(self) -> CornerText:
        """Return the corner lines drawn, abbreviated as drawn (or as they would be drawn)."""
        return self._shown_text

    def letters(self) -> EdgeLetters | None:
        """Return the orientation letters of the image, None without an image or orientation."""
        return self._letters

    def shown_letters(self) -> EdgeLetters:
        """Return the orientation letters drawn (``""`` for a letter left out)."""
        return self._shown_letters

    def scale_bar_mm(self) -> float | None:
        """Return the length of the scale bar in mm, None when there is none."""
        return self._scale_mm

    def scale_bar_px(self) -> float | None:
        """Return the length of the scale bar in logical pixels, None when there is none."""
        return self._scale_px if self._scale_mm is not None else None

    def scale_bar_text(self) -> str:
        """Return the scale bar's label, e.g. ``"10 mm"``; ``""`` when there is none."""
        return f"{self._scale_mm:g} mm" if self._scale_mm is not None else ""

    def layout(self) -> OverlayLayout:
        """Return the layout of the items drawn (keys :data:`CORNER_KEYS` ``:<line>``, ...)."""
        return self._layout

    def layout_rects(self) -> dict[str, Rect]:
        """Return the rectangle of each item drawn, by key, in viewport coordinates.

        Keys: ``"top_left:0"`` … (corner and line index in :meth:`texts`), ``"letter_left"``
        … (:data:`LETTER_KEYS`), :data:`SCALE_BAR_KEY` or :data:`SCALE_NOTE_KEY`.
        """
        return self._layout.rects()

    @property
    def canvas(self) -> OverlayCanvas:
        """Return the widget that paints the overlays."""
        return self._canvas

    def widgets(self) -> tuple[QWidget, ...]:
        """Return every overlay widget."""
        return (self._canvas,)

    # --- updates ----------------------------------------------------------------------

    def refresh(self) -> None:
        """Recompute the text, letters and scale bar from the viewport, and lay them out."""
        viewport = self._viewport
        record = viewport.record
        if viewport.has_image():
            frame_count = self._frame_count or (record.frame_count if record else 1)
            self._lines = corner_lines(
                record,
                voi=viewport.voi,
                zoom=viewport.zoom_factor(),
                frame=viewport.frame,
                frame_count=frame_count,
                flip=viewport.flip,
                calibration=viewport.calibration,
                frame_label=viewport.frame_label,
                colour=viewport.is_colour,
                inverted=viewport.inverted,
                preview=viewport.is_preview,
            )
            orientation = record.patient_orientation if record is not None else None
            self._letters = edge_letters(orientation, viewport.flip)
        else:
            self._lines = CornerLines()
            self._letters = None
        self._update_scale_bar()
        self._relayout()
        self._apply_visibility()

    def _on_voi_changed(self, _voi: object) -> None:
        self.refresh()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt)
        """Lay the overlays out again when the viewport is resized."""
        if watched is self._viewport and event.type() == QEvent.Type.Resize:
            self._relayout()
        return False

    def _update_scale_bar(self) -> None:
        calibration = self._viewport.calibration
        has_image = self._viewport.has_image()
        self._uncalibrated = has_image and (calibration is None or not calibration.is_known)
        mm_per_pixel = self._viewport.mm_per_screen_pixel() if has_image else None
        if mm_per_pixel is None or not (math.isfinite(mm_per_pixel) and mm_per_pixel > 0.0):
            self._scale_mm = None
            self._scale_px = 0.0
            return
        length = scale_bar_length_mm(mm_per_pixel)
        self._scale_mm = length
        self._scale_px = length / mm_per_pixel

    def _line_font(self, corner: int, line: CornerLine) -> QFont:
        if corner == 3 and line.kind is CornerLineKind.VIEW:
            return self._view_font
        return self._text_font

    def _relayout(self) -> None:
        """Measure every item, lay them out and hand the canvas what to paint."""
        viewport = self._viewport
        self._canvas.setGeometry(viewport.rect())
        items: list[OverlayItem] = []
        texts: dict[str, tuple[str, QFont]] = {}
        warnings: set[str] = set()
        for corner, (key, slot, lines) in enumerate(
            zip(CORNER_KEYS, _CORNER_SLOTS, self._lines.corners(), strict=True)
        ):
            for index, line in enumerate(lines):
                font = self._line_font(corner, line)
                item_key = f"{key}:{index}"
                texts[item_key] = (line.text, font)
                if line.kind is CornerLineKind.INVERTED:
                    warnings.add(item_key)
                shortest = _shortest(line)
                min_width = None if shortest is None else _text_size(font, shortest)[0]
                width, height = _text_size(font, line.text)
                priority = CORNER_LINE_PRIORITY[line.kind]
                items.append(OverlayItem(item_key, slot, width, height, priority, min_width))
        letters = self._letters
        values = (letters.left, letters.right, letters.top, letters.bottom) if letters else ()
        for key, slot, letter in zip(LETTER_KEYS, _LETTER_SLOTS, values, strict=False):
            if letter:
                texts[key] = (letter, self._letter_font)
                width, height = _text_size(self._letter_font, letter)
                items.append(OverlayItem(key, slot, width, height, LETTER_PRIORITY))
        if self._scale_mm is not None:
            text = self.scale_bar_text()
            texts[SCALE_BAR_KEY] = (text, self._text_font)
            width, height = _text_size(self._text_font, text)
            width = max(width, self._scale_px + 2 * PAD_X + 2.0)
            items.append(
                OverlayItem(
                    SCALE_BAR_KEY, Slot.SCALE_BAR, width, height + TICK + 2.0, SCALE_BAR_PRIORITY
                )
            )
        elif self._uncalibrated:
            texts[SCALE_NOTE_KEY] = (UNCALIBRATED_SCALE_TEXT, self._text_font)
            width, height = _text_size(self._text_font, UNCALIBRATED_SCALE_TEXT)
            note = OverlayItem(SCALE_NOTE_KEY, Slot.SCALE_BAR, width, height, SCALE_BAR_PRIORITY)
            items.append(note)
        request = (viewport.width(), viewport.height(), tuple(items))
        if request != self._request:  # a pan changes nothing laid out
            self._request = request
            self._layout = layout_overlay(*request[:2], items, margin=MARGIN, gap=GAP)
            self._labels.schedule()
        drawn: list[_Drawn] = []
        shown: dict[str, str] = {}
        for placed in self._layout.placed:
            text, font = texts[placed.key]
            if placed.elided:
                metrics = QFontMetricsF(font)
                available = placed.rect.width - 2 * PAD_X
                text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, available)
            shown[placed.key] = text
            rect = placed.rect
            bar = self._scale_px if placed.key == SCALE_BAR_KEY else None
            colour = WARNING_COLOUR if placed.key in warnings else TEXT_COLOUR
            box = QRectF(rect.left, rect.top, rect.width, rect.height)
            drawn.append(_Drawn(box, text, font, bar, colour))
        self._shown_text = CornerText(
            *(
                tuple(
                    shown[f"{key}:{index}"]
                    for index in range(len(lines))
                    if f"{key}:{index}" in shown
                )
                for key, lines in zip(CORNER_KEYS, self._lines.corners(), strict=True)
            )
        )
        self._shown_letters = EdgeLetters(*(shown.get(key, "") for key in LETTER_KEYS))
        self._canvas.set_drawn(tuple(drawn))

    def _apply_visibility(self) -> None:
        shown = self._visible and self._viewport.has_image()
        if shown != self._canvas.isVisible():
            self._labels.schedule()
        self._canvas.setVisible(shown)

    def _label_obstacles(self) -> list[QRectF]:
        """Return the scene rectangles of the overlay items drawn (none when hidden)."""
        if not self._canvas.isVisible():
            return []
        viewport = self._viewport
        return [
            viewport.mapToScene(
                QRectF(r.left, r.top, r.width, r.height).toAlignedRect()
            ).boundingRect()
            for r in self._layout.rects().values()
        ]


def _shortest(line: CornerLine) -> str | None:
    """Return the shortest abbreviation of a line allowed, None when it may not be abbreviated.

    A calibration keeps its pixel size (``"0.0925 mm …"``; ``"UNCALIBRATED: no mm"`` is
    never shortened); other lines keep :data:`ELIDED_CHARACTERS` characters.
    """
    text = line.text
    if line.kind not in ELIDABLE_KINDS:
        return None
    if line.kind is CornerLineKind.CALIBRATION:
        head, separator, _rest = text.partition(" (")
        return f"{head} …" if separator else None
    return text[:ELIDED_CHARACTERS] + "…" if len(text) > ELIDED_CHARACTERS + 1 else None


def _text_size(font: QFont, text: str) -> tuple[float, float]:
    """Return the size of a text's plate: the text's advance and line height plus padding."""
    metrics = QFontMetricsF(font)
    return (
        math.ceil(metrics.horizontalAdvance(text) + 2 * PAD_X),
        math.ceil(metrics.height() + 2 * PAD_Y),
    )
