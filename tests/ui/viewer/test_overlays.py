"""Viewport overlays: corner text, orientation letters and the scale bar over real images."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from galactoview.dicom.loading import scan
from galactoview.imaging.display import VoiLut, VoiLutFunction, Window
from galactoview.reading.corner_text import CornerText, voi_label
from galactoview.reading.hanging import EdgeLetters, edge_letters
from galactoview.ui.viewer.decoding import DecodedImage, decode_image
from galactoview.ui.viewer.overlays import UNCALIBRATED_SCALE_TEXT, ViewportOverlay
from galactoview.ui.viewer.viewport import Viewport
from galactoview.ui.viewer.window_level import describe_voi
from tests.helpers import sample_images, write_mg
from tests.ui.qt_helpers import show_decoded, shown_viewport


@cache
def _decoded(label: str, series: str) -> DecodedImage:
    """Decode (once per session) the sample image with this view label and series word."""
    record = next(
        r for r in sample_images() if r.view.label == label and series in r.series_description
    )
    return decode_image(record)


Shown = Callable[..., tuple[Viewport, ViewportOverlay]]


@pytest.fixture
def shown(qtbot: QtBot) -> Shown:
    """Return a function giving a shown 700 x 600 viewport with an overlay on a sample image."""

    def _make(label: str | None = "L CC", series: str = "POST") -> tuple[Viewport, ViewportOverlay]:
        viewport = shown_viewport(qtbot, 700, 600)
        overlay = ViewportOverlay(viewport)
        if label is not None:
            show_decoded(viewport, _decoded(label, series))
        return viewport, overlay

    return _make


def plain(label: QLabel) -> str:
    """Return the text a (rich text) label shows, lines separated by newlines."""
    document = QTextDocument()
    document.setHtml(label.text())
    return document.toPlainText().replace("\u2028", "\n")


def shown_corners(overlay: ViewportOverlay) -> CornerText:
    """Return the lines the corner labels show, as a :class:`CornerText`."""
    lines = [tuple(plain(label).splitlines()) for label in overlay.corner_labels]
    return CornerText(*lines)


def shown_letters(overlay: ViewportOverlay) -> EdgeLetters:
    return EdgeLetters(*(label.text() for label in overlay.letter_labels))


def test_hung_prior_rcc_letters(shown: Shown) -> None:
    viewport, overlay = shown("R CC", "SCREENING")
    record = viewport.record
    assert record is not None and viewport.flip.horizontal
    expected = edge_letters(record.patient_orientation, viewport.flip)
    assert overlay.letters() == expected
    assert overlay.letters() == EdgeLetters(left="A", right="P", top="R", bottom="L")
    assert shown_letters(overlay) == expected
    assert all(label.isVisible() for label in overlay.letter_labels)
    assert "flipped H" in overlay.texts().bottom_right


def test_unflipped_lcc_post_letters(shown: Shown) -> None:
    viewport, overlay = shown("L CC", "POST")
    assert not viewport.flip.horizontal and not viewport.flip.vertical
    assert overlay.letters() == EdgeLetters(left="P", right="A", top="L", bottom="R")
    assert shown_letters(overlay) == overlay.letters()


def test_letters_sit_at_the_middle_of_each_edge(shown: Shown) -> None:
    viewport, overlay = shown()
    left, right, top, bottom = overlay.letter_labels
    width, height = viewport.width(), viewport.height()
    assert left.geometry().center().y() == pytest.approx(height / 2, abs=2)
    assert right.geometry().center().y() == pytest.approx(height / 2, abs=2)
    assert top.geometry().center().x() == pytest.approx(width / 2, abs=2)
    assert bottom.geometry().center().x() == pytest.approx(width / 2, abs=2)
    assert left.x() < width / 4 < 3 * width / 4 < right.x()
    assert top.y() < height / 4 < 3 * height / 4 < bottom.y()


def test_corner_labels_show_corner_text(shown: Shown) -> None:
    _viewport, overlay = shown("L CC", "POST")
    texts = overlay.texts()
    assert shown_corners(overlay) == texts
    assert texts.top_right[1].startswith("2026-03-12")
    assert texts.bottom_right[:2] == ("L CC", "POST-CONTRAST")
    assert texts.bottom_right[-1] == "0.0925 mm (mag-corrected ×1.0815)"
    assert all(label.isVisible() for label in overlay.corner_labels)


def test_corner_labels_are_in_their_corners(shown: Shown) -> None:
    viewport, overlay = shown()
    width, height = viewport.width(), viewport.height()
    top_left, top_right, bottom_left, bottom_right = (
        label.geometry() for label in overlay.corner_labels
    )
    assert top_left.left() < width / 2 and top_left.top() < height / 2
    assert top_right.right() < width and top_right.right() > width - 20
    assert bottom_left.bottom() < height and bottom_left.bottom() > height - 20
    assert bottom_right.right() > width - 20 and bottom_right.bottom() > height - 20


def test_overlays_let_the_mouse_through(shown: Shown) -> None:
    _viewport, overlay = shown()
    attribute = Qt.WidgetAttribute.WA_TransparentForMouseEvents
    assert all(widget.testAttribute(attribute) for widget in overlay.widgets())


def test_window_label_follows_set_voi(shown: Shown, qtbot: QtBot) -> None:
    viewport, overlay = shown()
    with qtbot.waitSignal(viewport.voi_changed):
        viewport.set_voi(Window(1000.0, 500.0))
    assert "W 500 L 1000" in overlay.texts().bottom_left
    assert "W 500 L 1000" in plain(overlay.corner_labels[2]).splitlines()


def test_zoom_label_follows_set_zoom(shown: Shown) -> None:
    viewport, overlay = shown()
    viewport.set_zoom(0.5)
    assert "Zoom 50%" in overlay.texts().bottom_left
    assert "Zoom 50%" in plain(overlay.corner_labels[2]).splitlines()


@pytest.mark.parametrize(("label", "series"), [("L CC", "POST"), ("L CC MAG", "POST")])
@pytest.mark.parametrize("zoom", [0.1, 0.37, 1.0])
def test_scale_bar_is_its_length_in_mm(shown: Shown, label: str, series: str, zoom: float) -> None:
    viewport, overlay = shown(label, series)
    viewport.set_zoom(zoom)
    mm_per_pixel = viewport.mm_per_screen_pixel()
    length = overlay.scale_bar_mm()
    assert mm_per_pixel is not None and length is not None
    bar = overlay.scale_bar
    assert bar.bar_length_px() == pytest.approx(length / mm_per_pixel, abs=1.0)
    assert 60.0 <= bar.bar_length_px() <= 150.0
    assert bar.width() >= bar.bar_length_px()
    assert bar.text() == f"{length:g} mm"
    assert bar.isVisible() and not overlay.scale_note.isVisible()


def test_scale_bar_follows_the_zoom(shown: Shown) -> None:
    viewport, overlay = shown()
    viewport.set_zoom(1.0)  # 0.0925 mm per pixel: 10 mm
    assert overlay.scale_bar_mm() == pytest.approx(10.0)
    viewport.set_zoom(0.1)  # 0.925 mm per pixel: 100 mm
    assert overlay.scale_bar_mm() == pytest.approx(100.0)


def test_set_visible_false_hides_everything(shown: Shown) -> None:
    _viewport, overlay = shown()
    overlay.set_visible(False)
    assert not overlay.is_visible()
    assert not any(widget.isVisible() for widget in overlay.widgets())
    overlay.set_visible(True)
    assert overlay.is_visible()
    assert all(label.isVisible() for label in overlay.corner_labels)
    assert overlay.scale_bar.isVisible()


def test_nothing_without_an_image(shown: Shown) -> None:
    viewport, overlay = shown(None)
    assert not any(widget.isVisible() for widget in overlay.widgets())
    assert overlay.texts() == CornerText()
    assert overlay.letters() is None and overlay.scale_bar_mm() is None
    show_decoded(viewport, _decoded("L CC", "POST"))
    assert overlay.corner_labels[0].isVisible()
    viewport.clear_image()
    assert not any(widget.isVisible() for widget in overlay.widgets())
    assert overlay.texts() == CornerText()


def test_uncalibrated_image_has_no_bar_and_says_so(shown: Shown, tmp_path: Path) -> None:
    viewport, overlay = shown(None)
    (record,) = scan([write_mg(tmp_path / "a.dcm", rows=200, columns=160)]).images
    decoded = decode_image(record)
    show_decoded(viewport, decoded)
    assert overlay.scale_bar_mm() is None and overlay.scale_bar_px() is None
    assert not overlay.scale_bar.isVisible()
    assert overlay.scale_note.isVisible()
    assert plain(overlay.scale_note) == UNCALIBRATED_SCALE_TEXT
    assert overlay.texts().bottom_right[-1] == "UNCALIBRATED: no mm"
    # No Patient Orientation in the synthetic file: no letters.
    assert overlay.letters() is None
    assert not any(label.isVisible() for label in overlay.letter_labels)


def test_frame_count_and_frame(shown: Shown) -> None:
    viewport, overlay = shown()
    assert not any(line.startswith("Fr ") for line in overlay.texts().bottom_left)
    overlay.set_frame_count(24)
    assert "Fr 1/24" in overlay.texts().bottom_left
    decoded = _decoded("L CC", "POST")
    viewport.set_image(
        decoded.stored, decoded.pipeline, viewport.voi, record=decoded.record, frame=2, fit=False
    )
    assert "Fr 3/24" in overlay.texts().bottom_left
    assert "Fr 3/24" in plain(overlay.corner_labels[2]).splitlines()


def test_overlays_move_with_a_resize(shown: Shown, qtbot: QtBot) -> None:
    viewport, overlay = shown()
    right = overlay.letter_labels[1]
    viewport.resize(900, 600)
    qtbot.waitUntil(lambda: right.geometry().right() > 850)
    assert overlay.corner_labels[1].geometry().right() > 850


@pytest.mark.parametrize(
    "voi",
    [
        Window(2048.0, 4096.0),
        Window(1500.5, 1000.0, VoiLutFunction.SIGMOID, "HARDER"),
        VoiLut(0, 12, np.arange(4096, dtype=np.uint16), "GAMMA"),
        VoiLut(0, 12, np.arange(4096, dtype=np.uint16)),
        None,
    ],
)
def test_detailed_voi_label_matches_the_status_bar_wording(voi: Window | VoiLut | None) -> None:
    # The Qt-free wording can replace window_level.describe_voi unchanged.
    assert voi_label(voi, detailed=True) == describe_voi(voi)


def test_corner_texts_never_overlap_in_a_narrow_viewport(qtbot: QtBot) -> None:
    from tests.ui.qt_helpers import sample_image, show_decoded, shown_viewport

    viewport = shown_viewport(qtbot, 260, 500)
    overlay = ViewportOverlay(viewport)
    show_decoded(viewport, sample_image("LCC_POST"))
    top_left, top_right, bottom_left, bottom_right = overlay.corner_labels
    for first, second in ((top_left, top_right), (bottom_left, bottom_right)):
        assert first.isVisible() and second.isVisible()
        assert not first.geometry().intersects(second.geometry())
