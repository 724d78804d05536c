"""Viewport overlays: four-corner text, orientation letters and a scale bar.

:class:`ViewportOverlay` lays widgets over a :class:`~galactoview.ui.viewer.viewport.Viewport`:

* one label per corner with the lines of :func:`~galactoview.reading.corner_text.corner_text`
  (patient, study, image, view; the view label in the bottom-right corner larger and bold);
* the patient direction letters at the middle of each edge, from
  :func:`~galactoview.reading.hanging.edge_letters` (PS3.3 C.7.6.1.1.1) after the hanging flip;
* a scale bar at the bottom centre, a "nice" length
  (:func:`~galactoview.reading.corner_text.scale_bar_length_mm`) drawn at the current
  physical scale, replaced by ``"no mm scale: uncalibrated"`` when the image has no
  known calibration.

Text is never flipped with the image: the widgets sit on the viewport, not in its
scene. They let the mouse through, have no background and a dark shadow so they read
on white breast tissue as on the black background. Nothing is shown without an image;
:meth:`ViewportOverlay.set_visible` hides or shows all of them at once.
"""

from __future__ import annotations

import html
import math
from typing import Final

from PySide6.QtCore import QEvent, QObject, QPointF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QGraphicsDropShadowEffect, QLabel, QWidget

from galactoview.reading.corner_text import CornerText, corner_text, scale_bar_length_mm
from galactoview.reading.hanging import EdgeLetters, edge_letters
from galactoview.ui.viewer.viewport import Viewport

__all__ = ["UNCALIBRATED_SCALE_TEXT", "ScaleBar", "ViewportOverlay"]

#: Shown instead of the scale bar when the image's calibration is unknown.
UNCALIBRATED_SCALE_TEXT: Final = "no mm scale: uncalibrated"

#: Distance of the overlays from the viewport edges, in logical pixels.
MARGIN: Final = 6

#: Light grey text, readable on the black background; the shadow makes it readable on white.
TEXT_COLOUR: Final = QColor(225, 225, 225)
SHADOW_COLOUR: Final = QColor(0, 0, 0, 230)

#: Font sizes relative to the viewport's font: corner text, view label, edge letters.
TEXT_SCALE: Final = 0.9
VIEW_LABEL_SCALE: Final = 1.5
LETTER_SCALE: Final = 1.3


def _shadowed(widget: QWidget) -> None:
    """Give a widget a small dark drop shadow: light text reads on bright tissue too."""
    effect = QGraphicsDropShadowEffect(widget)
    effect.setOffset(1.0, 1.0)
    effect.setBlurRadius(4.0)
    effect.setColor(SHADOW_COLOUR)
    widget.setGraphicsEffect(effect)


def _overlay_widget(widget: QWidget) -> None:
    """Make a widget an overlay: the mouse goes through it and it has no background."""
    widget.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
    widget.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground, True)
    widget.setAutoFillBackground(False)
    widget.hide()


def _label(parent: QWidget, font: QFont, alignment: Qt.AlignmentFlag) -> QLabel:
    label = QLabel(parent)
    label.setFont(font)
    label.setAlignment(alignment)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setStyleSheet(f"QLabel {{ color: {TEXT_COLOUR.name()}; background: transparent; }}")
    _overlay_widget(label)
    _shadowed(label)
    return label


def _scaled_font(base: QFont, scale: float, *, bold: bool = False) -> QFont:
    font = QFont(base)
    size = base.pointSizeF()
    if size > 0:
        font.setPointSizeF(max(7.0, size * scale))
    font.setBold(bold)
    return font


class ScaleBar(QWidget):
    """A horizontal bar with end and middle ticks and its length, e.g. ``"10 mm"``.

    The bar is centred in the widget (its left end at :meth:`bar_left`) and is
    :meth:`bar_length_px` logical pixels long; the label is centred above it.
    """

    #: Space around the bar and its label, in logical pixels.
    PADDING: Final = 3
    #: Height of the end ticks, in logical pixels.
    TICK: Final = 6

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        _overlay_widget(self)
        self._length_px = 0.0
        self._text = ""

    def set_bar(self, length_px: float, text: str) -> None:
        """Draw a bar `length_px` logical pixels long, labelled `text`."""
        self._length_px = max(0.0, float(length_px))
        self._text = text
        self.resize(self.sizeHint())
        self.update()

    def bar_length_px(self) -> float:
        """Return the length of the bar drawn, in logical pixels."""
        return self._length_px

    def text(self) -> str:
        """Return the label of the bar, e.g. ``"10 mm"``."""
        return self._text

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt)
        """Return room for the bar, its ticks and its label."""
        metrics = QFontMetricsF(self.font())
        width = max(self._length_px, metrics.horizontalAdvance(self._text))
        height = metrics.height() + self.TICK + 2 * self.PADDING
        return QSize(math.ceil(width) + 2 * self.PADDING + 2, math.ceil(height))

    def bar_left(self) -> float:
        """Return the x of the bar's left end in widget coordinates."""
        return (self.width() - self._length_px) / 2.0

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt)
        """Draw the bar with a dark outline, then the label above it."""
        painter = QPainter(self)
        try:
            left = self.bar_left()
            right = left + self._length_px
            y = self.height() - self.PADDING - 0.5
            lines = [
                (QPointF(left, y), QPointF(right, y)),
                (QPointF(left, y), QPointF(left, y - self.TICK)),
                (QPointF(right, y), QPointF(right, y - self.TICK)),
                (
                    QPointF((left + right) / 2.0, y),
                    QPointF((left + right) / 2.0, y - self.TICK / 2),
                ),
            ]
            for colour, width in ((SHADOW_COLOUR, 3.0), (TEXT_COLOUR, 1.0)):
                pen = QPen(colour, width)
                pen.setCapStyle(Qt.PenCapStyle.SquareCap)
                painter.setPen(pen)
                for start, end in lines:
                    painter.drawLine(start, end)
            metrics = QFontMetricsF(self.font())
            baseline = y - self.TICK - metrics.descent() - 1.0
            x = (self.width() - metrics.horizontalAdvance(self._text)) / 2.0
            painter.setPen(SHADOW_COLOUR)
            painter.drawText(QPointF(x + 1.0, baseline + 1.0), self._text)
            painter.setPen(TEXT_COLOUR)
            painter.drawText(QPointF(x, baseline), self._text)
        finally:
            painter.end()


class ViewportOverlay(QObject):
    """Corner text, orientation letters and a scale bar over a :class:`Viewport`.

    Kept up to date from the viewport's ``image_changed``, ``voi_changed`` and
    ``view_changed`` signals, and repositioned when the viewport is resized. The
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
        self._texts = CornerText()
        self._letters: EdgeLetters | None = None
        self._scale_mm: float | None = None
        self._uncalibrated = False
        base = viewport.font()
        text_font = _scaled_font(base, TEXT_SCALE)
        self._view_font = _scaled_font(base, VIEW_LABEL_SCALE, bold=True)
        letter_font = _scaled_font(base, LETTER_SCALE, bold=True)
        top, bottom = Qt.AlignmentFlag.AlignTop, Qt.AlignmentFlag.AlignBottom
        left, right = Qt.AlignmentFlag.AlignLeft, Qt.AlignmentFlag.AlignRight
        self._corners = (
            _label(viewport, text_font, left | top),
            _label(viewport, text_font, right | top),
            _label(viewport, text_font, left | bottom),
            _label(viewport, text_font, right | bottom),
        )
        centre = Qt.AlignmentFlag.AlignCenter
        self._edge_labels = tuple(_label(viewport, letter_font, centre) for _ in range(4))
        self._scale_bar = ScaleBar(viewport)
        self._scale_bar.setFont(text_font)
        self._scale_note = _label(viewport, text_font, centre)
        self._scale_note.setText(html.escape(UNCALIBRATED_SCALE_TEXT))
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

    def set_frame_count(self, count: int) -> None:
        """Set the number of frames for ``"Fr k/n"``; 0 or less uses the record's."""
        self._frame_count = count if count > 0 else None
        self.refresh()

    def texts(self) -> CornerText:
        """Return the corner text shown (or that would be shown when switched off)."""
        return self._texts

    def letters(self) -> EdgeLetters | None:
        """Return the orientation letters shown, None without an image or orientation."""
        return self._letters

    def scale_bar_mm(self) -> float | None:
        """Return the length of the scale bar in mm, None when there is none."""
        return self._scale_mm

    def scale_bar_px(self) -> float | None:
        """Return the length of the scale bar in logical pixels, None when there is none."""
        return self._scale_bar.bar_length_px() if self._scale_mm is not None else None

    @property
    def corner_labels(self) -> tuple[QLabel, QLabel, QLabel, QLabel]:
        """Return the labels of the top-left, top-right, bottom-left, bottom-right corners."""
        return self._corners

    @property
    def letter_labels(self) -> tuple[QLabel, ...]:
        """Return the labels of the left, right, top and bottom orientation letters."""
        return self._edge_labels

    @property
    def scale_bar(self) -> ScaleBar:
        """Return the scale bar widget."""
        return self._scale_bar

    @property
    def scale_note(self) -> QLabel:
        """Return the label shown instead of the scale bar for an uncalibrated image."""
        return self._scale_note

    def widgets(self) -> tuple[QWidget, ...]:
        """Return every overlay widget."""
        return (*self._corners, *self._edge_labels, self._scale_bar, self._scale_note)

    # --- updates ----------------------------------------------------------------------

    def refresh(self) -> None:
        """Recompute the text, letters and scale bar from the viewport, and place them."""
        viewport = self._viewport
        record = viewport.record
        if viewport.has_image():
            frame_count = self._frame_count or (record.frame_count if record else 1)
            self._texts = corner_text(
                record,
                voi=viewport.voi,
                zoom=viewport.zoom_factor(),
                frame=viewport.frame,
                frame_count=frame_count,
                flip=viewport.flip,
                calibration=viewport.calibration,
                frame_label=viewport.frame_label,
                colour=viewport.is_colour,
            )
            orientation = record.patient_orientation if record is not None else None
            self._letters = edge_letters(orientation, viewport.flip)
        else:
            self._texts = CornerText()
            self._letters = None
        self._update_text()
        self._update_scale_bar()
        self._place()
        self._apply_visibility()

    def _on_voi_changed(self, _voi: object) -> None:
        self.refresh()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt)
        """Place the overlays again when the viewport is resized."""
        if watched is self._viewport and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _update_text(self) -> None:
        texts = self._texts
        corners = (texts.top_left, texts.top_right, texts.bottom_left, texts.bottom_right)
        record = self._viewport.record
        view_label = record.view.label if record is not None else ""
        for index, (label, lines) in enumerate(zip(self._corners, corners, strict=True)):
            escaped = [html.escape(line) for line in lines]
            if index == 3 and escaped and view_label and lines[0] == view_label:
                size = self._view_font.pointSizeF()
                style = "font-weight: bold;" + (f" font-size: {size:g}pt;" if size > 0 else "")
                escaped[0] = f'<span style="{style}">{escaped[0]}</span>'
            label.setText("<br>".join(escaped))
            label.adjustSize()
        letters = self._letters
        values = (
            (letters.left, letters.right, letters.top, letters.bottom) if letters else ("",) * 4
        )
        for label, letter in zip(self._edge_labels, values, strict=True):
            label.setText(html.escape(letter))
            label.adjustSize()

    def _update_scale_bar(self) -> None:
        calibration = self._viewport.calibration
        self._uncalibrated = self._viewport.has_image() and (
            calibration is None or not calibration.is_known
        )
        mm_per_pixel = self._viewport.mm_per_screen_pixel() if self._viewport.has_image() else None
        if mm_per_pixel is None or not (math.isfinite(mm_per_pixel) and mm_per_pixel > 0.0):
            self._scale_mm = None
            self._scale_bar.set_bar(0.0, "")
            return
        length = scale_bar_length_mm(mm_per_pixel)
        self._scale_mm = length
        self._scale_bar.set_bar(length / mm_per_pixel, f"{length:g} mm")
        self._scale_note.adjustSize()

    def _place(self) -> None:
        """Put each widget at its corner or edge of the viewport."""
        width, height = self._viewport.width(), self._viewport.height()
        top_left, top_right, bottom_left, bottom_right = self._corners
        # In a narrow viewport the right-hand corner text moves under (top) or over (bottom)
        # the left-hand one instead of overlapping it.
        top_crowded = top_left.width() + top_right.width() + 3 * MARGIN > width
        bottom_crowded = bottom_left.width() + bottom_right.width() + 3 * MARGIN > width
        top_left.move(MARGIN, MARGIN)
        top_right.move(
            width - top_right.width() - MARGIN,
            MARGIN + (top_left.height() if top_crowded and top_left.text() else 0),
        )
        bottom_left.move(MARGIN, height - bottom_left.height() - MARGIN)
        lift = bottom_left.height() if bottom_crowded and bottom_left.text() else 0
        bottom_right.move(
            width - bottom_right.width() - MARGIN,
            height - bottom_right.height() - MARGIN - lift,
        )
        left, right, top, bottom = self._edge_labels
        left.move(MARGIN, (height - left.height()) // 2)
        right.move(width - right.width() - MARGIN, (height - right.height()) // 2)
        top.move((width - top.width()) // 2, MARGIN)
        bottom.move((width - bottom.width()) // 2, height - bottom.height() - MARGIN)
        # The scale bar (or its note) sits at the bottom centre, above the bottom letter.
        above_letter = bottom.y() - (MARGIN // 2 if bottom.text() else -bottom.height())
        for widget in (self._scale_bar, self._scale_note):
            widget.move((width - widget.width()) // 2, above_letter - widget.height())

    def _apply_visibility(self) -> None:
        shown = self._visible and self._viewport.has_image()
        for label in (*self._corners, *self._edge_labels):
            label.setVisible(shown and bool(label.text()))
        self._scale_bar.setVisible(shown and self._scale_mm is not None)
        self._scale_note.setVisible(shown and self._uncalibrated)
