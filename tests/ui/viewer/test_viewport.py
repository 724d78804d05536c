"""Viewport display-resolution levels: what is drawn, where, and at what cost per window."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pytest
from numpy.typing import NDArray
from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from galactoview.imaging.display import DisplayPipeline, Window
from galactoview.ui.viewer.viewport import Viewport, level_for_view
from tests.ui.qt_helpers import shown_viewport
from tests.ui.shell.test_main_window import (
    assert_shows_core_output,
    core_level_pixels,
    core_pixels,
    displayed_pixels,
    zoom_to_full_resolution,
)

SIDE = 2048
BLOCK = 128
PIPELINE = DisplayPipeline(bits_stored=12, pixel_representation=0)
WINDOW = Window(2048.0, 4096.0)


def block_image() -> NDArray[np.uint16]:
    """Return 2048 x 2048 12-bit values: 16 x 16 blocks of 128 x 128, each its own value.

    Blocks are multiples of every level's pixel size, so each level keeps them exact.
    """
    rows, columns = np.indices((SIDE, SIDE))
    blocks = (rows // BLOCK) * (SIDE // BLOCK) + columns // BLOCK
    return (blocks * 16 + 8).astype(np.uint16)


@pytest.fixture
def viewport(qtbot: QtBot) -> Viewport:
    """Return a shown 600 x 500 viewport on the block image, fitted."""
    view = shown_viewport(qtbot, 600, 500)
    view.set_image(block_image(), PIPELINE, WINDOW)
    return view


def scene_of_pixel_centre(view: Viewport, column: int, row: int) -> QPointF:
    """Return the scene position of the centre of full-resolution pixel (column, row)."""
    return cast(QPointF, view.view_box.mapViewToScene(QPointF(column + 0.5, row + 0.5)))


def test_level_for_view_is_never_coarser_than_the_screen() -> None:
    assert level_for_view(0.25, 4) == 0
    assert level_for_view(1.0, 4) == 0
    assert level_for_view(1.99, 4) == 0
    assert level_for_view(2.0, 4) == 1
    assert level_for_view(3.99, 4) == 1
    assert level_for_view(4.0, 4) == 2
    assert level_for_view(1000.0, 4) == 3
    assert level_for_view(float("nan"), 4) == 0
    assert level_for_view(0.0, 4) == 0


def test_fit_shows_a_reduced_level_exactly_as_the_core_lut_on_it(viewport: Viewport) -> None:
    pyramid = viewport.pyramid
    assert pyramid is not None
    level = viewport.current_level
    ratio = viewport.image_pixels_per_screen_pixel()
    assert level > 0
    assert 2**level <= ratio < 2 ** (level + 1)
    shown = displayed_pixels(viewport)
    assert shown.shape == pyramid.levels[level].shape
    assert viewport.image_item.image.base is pyramid.levels[level]
    assert viewport.pipeline is not None
    np.testing.assert_array_equal(shown, PIPELINE.lut(WINDOW)[pyramid.levels[level]])
    assert_shows_core_output(viewport)


def test_window_change_at_fit_swaps_only_the_lut(viewport: Viewport) -> None:
    level = viewport.current_level
    assert level > 0
    image = viewport.image_item.image
    before = displayed_pixels(viewport)
    viewport.set_voi(Window(1000.0, 500.0))
    assert viewport.image_item.image is image  # no new image, no full-resolution work
    assert viewport.current_level == level
    after = displayed_pixels(viewport)
    assert after.shape == image.shape
    assert not np.array_equal(after, before)
    np.testing.assert_array_equal(after, core_level_pixels(viewport))


def test_item_coordinates_stay_full_resolution_scoord(viewport: Viewport) -> None:
    assert viewport.current_level > 0
    for column, row in [(0, 0), (1, 1), (3, 2), (1000, 777), (2047, 2047), (2046, 5)]:
        item = viewport.image_item.mapFromScene(scene_of_pixel_centre(viewport, column, row))
        assert item.x() == pytest.approx(column + 0.5, abs=1e-6)
        assert item.y() == pytest.approx(row + 0.5, abs=1e-6)
        sample = viewport.sample_at(item.x(), item.y())
        assert sample is not None
        assert (sample.column, sample.row) == (column, row)
    rect = viewport.image_item.boundingRect()
    assert (rect.x(), rect.y(), rect.width(), rect.height()) == (0, 0, SIDE, SIDE)


def test_the_level_is_drawn_over_the_whole_image_where_it_belongs(viewport: Viewport) -> None:
    """Grab the widget: each block's centre shows that block's display value."""
    assert viewport.current_level > 0
    QApplication.processEvents()
    grab = viewport.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    ratio = grab.devicePixelRatio()
    lut = PIPELINE.lut(WINDOW)
    stored = viewport.stored
    assert stored is not None
    transform = viewport.viewportTransform()
    for block_row in (0, 5, 15):
        for block_column in (0, 9, 15):
            column = block_column * BLOCK + BLOCK // 2
            row = block_row * BLOCK + BLOCK // 2
            pos = transform.map(scene_of_pixel_centre(viewport, column, row))
            x, y = int(pos.x() * ratio), int(pos.y() * ratio)
            gray = grab.pixelColor(x, y).red()
            assert gray == lut[stored[row, column]], (block_row, block_column)


def test_zooming_in_to_one_to_one_switches_to_full_resolution(viewport: Viewport) -> None:
    assert viewport.current_level > 0
    zoom_to_full_resolution(viewport)
    assert viewport.current_level == 0
    stored = viewport.stored
    assert stored is not None
    assert viewport.image_item.image.base is stored
    shown = displayed_pixels(viewport)
    assert shown.shape == stored.shape
    np.testing.assert_array_equal(shown, core_pixels(viewport))
    item = viewport.image_item.mapFromScene(scene_of_pixel_centre(viewport, 10, 20))
    assert (item.x(), item.y()) == (pytest.approx(10.5), pytest.approx(20.5))
    viewport.fit()
    assert viewport.current_level > 0
    assert_shows_core_output(viewport)


def test_range_changes_within_a_level_do_not_redraw(
    viewport: Viewport, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    original = viewport.image_item.set_level

    def counting(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        original(*args, **kwargs)

    monkeypatch.setattr(viewport.image_item, "set_level", counting)
    level = viewport.current_level
    viewport.view_box.translateBy(x=10.0, y=5.0)
    viewport.view_box.scaleBy((1.01, 1.01))
    QApplication.processEvents()
    assert viewport.current_level == level
    assert calls == []
    viewport.view_box.scaleBy((0.25, 0.25))  # 4x closer: a finer level, drawn once
    QApplication.processEvents()
    assert viewport.current_level < level
    assert len(calls) == 1


def test_in_range_unsigned_values_are_shared_not_copied(qtbot: QtBot) -> None:
    view = Viewport()
    qtbot.addWidget(view)
    stored = block_image()
    view.set_image(stored, PIPELINE, WINDOW)
    assert view.pyramid is not None
    assert view.pyramid.levels[0] is stored
    np.testing.assert_array_equal(view.pyramid.levels[0], PIPELINE.lut_indices(stored))
    # Values above Bits Stored: the core's indices (masked), not the raw values.
    high = stored | np.uint16(0x8000)
    view.set_image(high, PIPELINE, WINDOW)
    assert view.pyramid is not None
    assert view.pyramid.levels[0] is not high
    np.testing.assert_array_equal(view.pyramid.levels[0], PIPELINE.lut_indices(high))
    view.clear_image()
    assert view.pyramid is None
    assert view.current_level == 0
