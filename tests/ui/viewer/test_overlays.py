"""Viewport overlays: corner text, orientation letters and the scale bar over real images."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from galactoview.dicom.loading import scan
from galactoview.imaging.display import VoiLut, VoiLutFunction, Window
from galactoview.reading.corner_text import INVERTED_TEXT, CornerText, voi_label
from galactoview.reading.hanging import EdgeLetters, edge_letters
from galactoview.reading.overlay_layout import Rect
from galactoview.ui.viewer.decoding import DecodedImage, decode_image
from galactoview.ui.viewer.overlays import (
    CORNER_KEYS,
    LETTER_KEYS,
    SCALE_BAR_KEY,
    SCALE_NOTE_KEY,
    ViewportOverlay,
)
from galactoview.ui.viewer.viewport import Viewport
from galactoview.ui.viewer.window_level import describe_voi
from tests.helpers import sample_images, write_mg
from tests.ui.conftest import OpenWindow
from tests.ui.qt_helpers import show_decoded, shown_viewport
from tests.ui.shell.test_workstation import SAMPLE, settle


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


def shown_corners(overlay: ViewportOverlay) -> CornerText:
    """Return the corner lines the overlay draws, as a :class:`CornerText`."""
    return overlay.shown_texts()


def shown_letters(overlay: ViewportOverlay) -> EdgeLetters:
    return overlay.shown_letters()


def test_hung_prior_rcc_letters(shown: Shown) -> None:
    viewport, overlay = shown("R CC", "SCREENING")
    record = viewport.record
    assert record is not None and viewport.flip.horizontal
    expected = edge_letters(record.patient_orientation, viewport.flip)
    assert overlay.letters() == expected
    assert overlay.letters() == EdgeLetters(left="A", right="P", top="R", bottom="L")
    assert shown_letters(overlay) == expected
    assert overlay.is_shown() and all(key in overlay.layout_rects() for key in LETTER_KEYS)
    assert "flipped H" in overlay.texts().bottom_right


def test_unflipped_lcc_post_letters(shown: Shown) -> None:
    viewport, overlay = shown("L CC", "POST")
    assert not viewport.flip.horizontal and not viewport.flip.vertical
    assert overlay.letters() == EdgeLetters(left="P", right="A", top="L", bottom="R")
    assert shown_letters(overlay) == overlay.letters()


def test_letters_sit_at_the_middle_of_each_edge(shown: Shown) -> None:
    viewport, overlay = shown()
    rects = overlay.layout_rects()
    left, right, top, bottom = (rects[key] for key in LETTER_KEYS)
    width, height = viewport.width(), viewport.height()
    assert left.top + left.height / 2 == pytest.approx(height / 2, abs=2)
    assert right.top + right.height / 2 == pytest.approx(height / 2, abs=2)
    assert top.left + top.width / 2 == pytest.approx(width / 2, abs=2)
    assert bottom.left + bottom.width / 2 == pytest.approx(width / 2, abs=2)
    assert left.left < width / 4 < 3 * width / 4 < right.left
    assert top.top < height / 4 < 3 * height / 4 < bottom.top


def test_corner_labels_show_corner_text(shown: Shown) -> None:
    _viewport, overlay = shown("L CC", "POST")
    texts = overlay.texts()
    assert shown_corners(overlay) == texts
    assert texts.top_right[1].startswith("2026-03-12")
    assert texts.bottom_right[:2] == ("L CC", "POST-CONTRAST")
    assert texts.bottom_right[-1] == "0.0925 mm (mag-corrected ×1.0815)"
    assert overlay.is_shown()


def test_corner_labels_are_in_their_corners(shown: Shown) -> None:
    viewport, overlay = shown()
    width, height = viewport.width(), viewport.height()
    rects = overlay.layout_rects()
    top_left, top_right, bottom_left, bottom_right = (rects[f"{key}:0"] for key in CORNER_KEYS)
    last_left = rects[f"bottom_left:{len(overlay.texts().bottom_left) - 1}"]
    last_right = rects[f"bottom_right:{len(overlay.texts().bottom_right) - 1}"]
    assert top_left.left < width / 2 and top_left.top < 20
    assert width - 20 < top_right.right < width and top_right.top < 20
    assert bottom_left.left < 20 and height - 20 < last_left.bottom < height
    assert width - 20 < bottom_right.right < width and height - 20 < last_right.bottom < height


def test_overlays_let_the_mouse_through(shown: Shown) -> None:
    _viewport, overlay = shown()
    attribute = Qt.WidgetAttribute.WA_TransparentForMouseEvents
    assert all(widget.testAttribute(attribute) for widget in overlay.widgets())


def test_window_label_follows_set_voi(shown: Shown, qtbot: QtBot) -> None:
    viewport, overlay = shown()
    with qtbot.waitSignal(viewport.voi_changed):
        viewport.set_voi(Window(1000.0, 500.0))
    assert "W 500 L 1000" in overlay.texts().bottom_left
    assert "W 500 L 1000" in overlay.shown_texts().bottom_left


def test_zoom_label_follows_set_zoom(shown: Shown) -> None:
    viewport, overlay = shown()
    viewport.set_zoom(0.5)
    assert "Zoom 50%" in overlay.texts().bottom_left
    assert "Zoom 50%" in overlay.shown_texts().bottom_left


@pytest.mark.parametrize(("label", "series"), [("L CC", "POST"), ("L CC MAG", "POST")])
@pytest.mark.parametrize("zoom", [0.1, 0.37, 1.0])
def test_scale_bar_is_its_length_in_mm(shown: Shown, label: str, series: str, zoom: float) -> None:
    viewport, overlay = shown(label, series)
    viewport.set_zoom(zoom)
    mm_per_pixel = viewport.mm_per_screen_pixel()
    length = overlay.scale_bar_mm()
    assert mm_per_pixel is not None and length is not None
    bar_px = overlay.scale_bar_px()
    assert bar_px is not None
    assert bar_px == pytest.approx(length / mm_per_pixel, abs=1.0)
    assert 60.0 <= bar_px <= 150.0
    rects = overlay.layout_rects()
    assert rects[SCALE_BAR_KEY].width >= bar_px
    assert overlay.scale_bar_text() == f"{length:g} mm"
    assert overlay.is_shown() and SCALE_NOTE_KEY not in rects


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
    assert overlay.is_shown() and SCALE_BAR_KEY in overlay.layout_rects()


def test_nothing_without_an_image(shown: Shown) -> None:
    viewport, overlay = shown(None)
    assert not any(widget.isVisible() for widget in overlay.widgets())
    assert overlay.texts() == CornerText()
    assert overlay.letters() is None and overlay.scale_bar_mm() is None
    show_decoded(viewport, _decoded("L CC", "POST"))
    assert overlay.is_shown() and overlay.shown_texts().top_left
    viewport.clear_image()
    assert not any(widget.isVisible() for widget in overlay.widgets())
    assert overlay.texts() == CornerText()


def test_uncalibrated_image_has_no_bar_and_says_so(shown: Shown, tmp_path: Path) -> None:
    viewport, overlay = shown(None)
    (record,) = scan([write_mg(tmp_path / "a.dcm", rows=200, columns=160)]).images
    decoded = decode_image(record)
    show_decoded(viewport, decoded)
    assert overlay.scale_bar_mm() is None and overlay.scale_bar_px() is None
    rects = overlay.layout_rects()
    assert SCALE_BAR_KEY not in rects and SCALE_NOTE_KEY in rects
    assert overlay.is_shown()
    assert overlay.texts().bottom_right[-1] == "UNCALIBRATED: no mm"
    # No Patient Orientation in the synthetic file: no letters.
    assert overlay.letters() is None
    assert not any(key in rects for key in LETTER_KEYS)


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
    assert "Fr 3/24" in overlay.shown_texts().bottom_left


def test_overlays_move_with_a_resize(shown: Shown, qtbot: QtBot) -> None:
    viewport, overlay = shown()
    viewport.resize(900, 600)
    qtbot.waitUntil(lambda: overlay.layout_rects()["letter_right"].right > 850)
    assert overlay.layout_rects()["top_right:0"].right > 850
    assert overlay.canvas.geometry() == viewport.rect()


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
    rects = overlay.layout_rects()
    # The patient's name, the study date, the window and the view label stay.
    assert overlay.shown_texts().top_left[0] == overlay.texts().top_left[0]
    assert any(line.startswith("2026-") for line in overlay.shown_texts().top_right)
    assert any(line.startswith("W ") for line in overlay.shown_texts().bottom_left)
    assert overlay.shown_texts().bottom_right[0] == "L CC"
    assert_apart(rects, viewport.width(), viewport.height())


def assert_apart(rects: dict[str, Rect], width: float, height: float) -> None:
    """Assert that no two rectangles intersect and that all are inside the cell."""
    for key, rect in rects.items():
        assert rect.inside(width, height), (key, rect, width, height)
    for (key, rect), (other, other_rect) in itertools.combinations(rects.items(), 2):
        assert not rect.intersects(other_rect), (key, rect, other, other_rect)


def test_inverting_says_inverted(shown: Shown, qtbot: QtBot) -> None:
    viewport, overlay = shown()
    assert INVERTED_TEXT not in overlay.shown_texts().bottom_left
    with qtbot.waitSignal(viewport.voi_changed):
        viewport.toggle_invert()
    lines = overlay.shown_texts().bottom_left
    assert lines[lines.index(INVERTED_TEXT) - 1].startswith("W ")
    key = f"bottom_left:{overlay.texts().bottom_left.index(INVERTED_TEXT)}"
    assert key in overlay.layout_rects()
    viewport.toggle_invert()
    assert INVERTED_TEXT not in overlay.shown_texts().bottom_left


def test_a_small_viewport_drops_and_abbreviates_but_keeps_the_essentials(
    shown: Shown, qtbot: QtBot
) -> None:
    viewport, overlay = shown()
    full = overlay.texts()
    viewport.resize(230, 170)
    qtbot.waitUntil(lambda: overlay.canvas.width() == 230)
    rects = overlay.layout_rects()
    assert_apart(rects, 230, 170)
    shown_text = overlay.shown_texts()
    assert sum(map(len, shown_text.corners())) < sum(map(len, full.corners()))
    assert shown_text.bottom_right[0] == "L CC"
    assert overlay.shown_letters() == overlay.letters()


@pytest.mark.parametrize(("width", "height"), [(800, 600), (1920, 1080)])
def test_no_overlay_boxes_intersect_in_any_layout(
    open_window: OpenWindow, qtbot: QtBot, width: int, height: int
) -> None:
    """Issue 15: 1-up, 1×2 and 2×2 (and review mode) at 800 × 600 and 1920 × 1080."""
    window = open_window([SAMPLE / "dicom"])
    window.resize(width, height)
    qtbot.waitUntil(lambda: window.width() == width and window.height() == height)
    checked: set[tuple[str, int]] = set()
    # Review mode (read-only, its own corner text) over the 2×2 last hung.
    for name, rows, columns in (("1-up", 1, 1), ("1×2", 1, 2), ("2×2", 2, 2), ("review", 2, 2)):
        if name == "review":
            window.set_review_mode(True)
        else:
            window.session.hang_manual(rows, columns)
        settle(qtbot, window)
        shown = [v for v in window.hanging_view.viewports if v.isVisible() and v.has_image()]
        assert len(shown) == rows * columns, name
        for viewport in shown:
            overlay = window.tools.overlays[viewport]
            # Laid out for the viewport's present size (the canvas follows each resize).
            assert overlay.canvas.size() == viewport.size()
            rects = overlay.layout_rects()
            # The essentials are there in any cell not made tiny by the side panels
            # (800 × 600 before they collapse): the view label and the four letters.
            if viewport.width() >= 200:
                assert "bottom_right:0" in rects, (name, viewport.size())
                assert all(key in rects for key in LETTER_KEYS), (name, viewport.size())
            assert_apart(rects, viewport.width(), viewport.height())
            checked.add((name, viewport.width()))
    assert len(checked) >= 4
