"""Tests: a large JPEG 2000 image shows a reduced-resolution preview first, then the full image."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.encaps import encapsulate, generate_frames
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsEllipseItem
from pytestqt.qtbot import QtBot

from galactoview.app import create_main_window
from galactoview.dicom.loading import ImageRecord, load_pixels, scan
from galactoview.imaging.display import Window
from galactoview.reading.corner_text import PREVIEW_TEXT
from galactoview.ui.shell.main_window import MainWindow
from galactoview.ui.shell.settings import Settings
from galactoview.ui.viewer.decoding import DecodedImage, ImageDecoder, decode_image, decode_preview
from tests.helpers import sample_images
from tests.ui.conftest import unexpected_store_prompt, unexpected_unsaved_prompt


@pytest.fixture
def one_image(tmp_path: Path) -> Path:
    """A copy of one 2294 x 1914 JPEG 2000 sample image (worth a half-resolution preview)."""
    record = sample_images()[0]
    assert (record.rows, record.columns) == (2294, 1914)
    folder = tmp_path / "study"
    folder.mkdir()
    shutil.copy(record.path, folder / "image.dcm")
    return folder


def _drop_windows(path: Path) -> None:
    """Remove the file's windows: the viewer then computes its automatic window."""
    dataset = dcmread(path)
    for keyword in ("WindowCenter", "WindowWidth", "WindowCenterWidthExplanation"):
        if keyword in dataset:
            delattr(dataset, keyword)
    dataset.save_as(path, enforce_file_format=True)


def _open(
    qtbot: QtBot, folder: Path, settings: Settings, decode: Callable[[ImageRecord], DecodedImage]
) -> MainWindow:
    decoder = ImageDecoder(decode=decode, preview_decode=decode_preview, max_threads=2)
    window = create_main_window(scan([folder]), decoder, settings)
    window.unsaved_guard.ask = unexpected_unsaved_prompt
    window.pacs.ask_store = unexpected_store_prompt
    qtbot.addWidget(window)
    window.resize(1000, 700)
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.mark.parametrize("windows", ["file", "auto"])
def test_the_preview_shows_first_over_the_full_extent_then_the_full_image(
    qtbot: QtBot, one_image: Path, settings: Settings, windows: str
) -> None:
    if windows == "auto":
        _drop_windows(one_image / "image.dcm")
    release = threading.Event()

    def held_back(record: ImageRecord) -> DecodedImage:
        assert release.wait(20)  # the full image comes only once the test lets it
        return decode_image(record)

    window = _open(qtbot, one_image, settings, held_back)
    try:
        with qtbot.waitSignal(window.cells.previewed, timeout=20_000) as previewed:
            pass
        cell, preview = previewed.args
        assert preview.reduction == 1
        viewport = window.hanging_view.viewports[cell]
        assert viewport.is_preview
        full_extent = QRectF(0.0, 0.0, 1914.0, 2294.0)
        assert viewport.image_item.boundingRect() == full_extent
        assert viewport.image_shape == (2294, 1914)
        assert viewport.stored is None  # nothing may read preview values as stored values
        assert viewport.sample_at(100.0, 100.0) is None  # no pixel readout yet
        assert window.is_decoding()
        texts = window.tools.overlays[viewport].texts()
        assert PREVIEW_TEXT in texts.bottom_left
        # A mark: a child of the image item at a stored-pixel (SCOORD) point.
        mark = QGraphicsEllipseItem(950.0, 1140.0, 20.0, 20.0, viewport.image_item)
        viewport.view_box.prepareForPaint()  # the range's matrix, as before painting
        scene_before = mark.sceneBoundingRect()
        corner_before = viewport.map_image_to_widget(1914.0, 2294.0)
        range_before = viewport.view_box.viewRange()
        voi_before = viewport.voi
        assert isinstance(voi_before, Window)
        assert (voi_before.explanation == "AUTO") is (windows == "auto")
    finally:
        release.set()
    with qtbot.waitSignal(window.cells.displayed, timeout=20_000):
        pass
    assert not viewport.is_preview
    viewport.view_box.prepareForPaint()
    assert viewport.stored is not None and viewport.stored.shape == (2294, 1914)
    np.testing.assert_array_equal(viewport.stored, load_pixels(scan([one_image]).images[0]))
    assert viewport.image_item.boundingRect() == full_extent
    assert mark.sceneBoundingRect() == scene_before  # marks stay where they were
    assert viewport.map_image_to_widget(1914.0, 2294.0) == pytest.approx(corner_before)
    assert viewport.view_box.viewRange() == range_before  # not refitted
    assert viewport.voi == voi_before  # the automatic window too: no jump in contrast
    assert PREVIEW_TEXT not in window.tools.overlays[viewport].texts().bottom_left
    sample = viewport.sample_at(100.0, 200.0)
    assert sample is not None and sample.stored == int(viewport.stored[200, 100])
    assert window.problems.messages() == []


def test_damaged_jpeg_2000_gives_one_line_and_no_picture(
    qtbot: QtBot, one_image: Path, settings: Settings
) -> None:
    path = one_image / "image.dcm"
    dataset = dcmread(path)
    codestream = next(generate_frames(dataset.PixelData, number_of_frames=1))
    dataset.PixelData = encapsulate([codestream[:400]])  # main header kept, tile data cut
    dataset.save_as(path, enforce_file_format=True)
    previews: list[object] = []
    window = _open(qtbot, one_image, settings, decode_image)
    window.cells.previewed.connect(lambda cell, image: previews.append(image))
    qtbot.waitUntil(lambda: bool(window.problems.messages()), timeout=20_000)
    (message,) = window.problems.messages()
    assert message.startswith("image.dcm: cannot decode JPEG 2000")
    assert "\n" not in message
    assert previews == []
    assert not window.viewport.has_image()
