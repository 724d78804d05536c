"""A colour key image beside the sample mammograms: shown in true colour, not hung as MG."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from galactoview.annotations.model import GraphicType
from galactoview.imaging.colour import COLOUR_WINDOW_NOTE, colour_pipeline
from galactoview.imaging.display import Window
from galactoview.reading.corner_text import COLOUR_VOI_TEXT
from galactoview.ui.viewer.magnifier import Magnifier
from galactoview.ui.viewer.ruler import RulerTool
from galactoview.ui.viewer.viewport import DragPhase, MouseMode, PixelSample, ToolDrag
from tests.colour_images import BLOCK, BLOCK_COLOURS, blocks, write_colour_key_image
from tests.helpers import sample_images
from tests.ui.conftest import OpenWindow, wait_until_settled
from tests.ui.qt_helpers import shown_viewport


def _ductogram_with_key_image(tmp_path: Path) -> Path:
    """Copy the sample ductogram's images and add an RGB key image of its study."""
    post = next(r for r in sample_images() if r.contrast_phase.value == "post")
    target = tmp_path / post.path.parent.name
    target.mkdir()
    for path in post.path.parent.glob("*.dcm"):
        shutil.copy(path, target / path.name)
    write_colour_key_image(target, post.study_instance_uid)
    return target


def test_colour_key_image_is_shown_in_true_colour(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window = open_window([_ductogram_with_key_image(tmp_path)])
    index = next(i for i, r in enumerate(window.records) if r.path.name == "key_image.dcm")
    hanging = window.session.hanging
    assert hanging is not None
    assert index not in hanging.image_indices()  # filed as MG, L CC: still no mammogram
    assert any(
        "not hung: a colour image (key image or capture), not a mammogram" in note
        for note in hanging.notes
    )
    window.select_image(index)
    wait_until_settled(qtbot, window)
    viewport = window.viewport
    assert viewport.record is not None and viewport.record.path.name == "key_image.dcm"
    assert viewport.is_colour
    shown = viewport.image_item.image
    assert shown.dtype == np.uint8 and shown.shape == (32, 48, 3)
    np.testing.assert_array_equal(shown, blocks())
    for row, colours in enumerate(BLOCK_COLOURS):
        for column, colour in enumerate(colours):
            centre = (row * BLOCK + BLOCK // 2, column * BLOCK + BLOCK // 2)
            assert shown[centre].tolist() == list(colour)
    messages = window.problems.messages()
    assert not [line for line in messages if "key_image.dcm" in line], messages
    assert not [line for line in messages if "not supported" in line], messages

    # Window/level does not apply, and the readouts say so.
    assert window.voi_label.text() == COLOUR_WINDOW_NOTE
    assert COLOUR_VOI_TEXT in window.tools.overlays[viewport].texts().bottom_left
    viewport.set_voi(Window(100.0, 10.0))
    assert viewport.voi is None
    np.testing.assert_array_equal(viewport.image_item.image, blocks())
    assert viewport.auto_window() is None

    # Invert: 255 - value on each channel, and back.
    viewport.toggle_invert()
    np.testing.assert_array_equal(viewport.image_item.image, 255 - blocks())
    viewport.toggle_invert()
    np.testing.assert_array_equal(viewport.image_item.image, blocks())

    # The pixel under the cursor is told as RGB.
    sample = viewport.sample_at(BLOCK + 3.5, BLOCK + 2.5)
    assert sample == PixelSample(BLOCK + 3, BLOCK + 2, 0, 0.0, (128, 64, 32))
    window.status.show_pixel(sample)
    assert window.status.cursor_label.text() == f"({BLOCK + 3}, {BLOCK + 2})  RGB 128 64 32"

    # The loupe shows the RGB pixels, in colour.
    viewport.grab()  # lay out once, so that scene mappings are up to date
    magnifier = Magnifier(viewport)
    magnifier.show_at(BLOCK + 0.5, 0.5)  # the top-left pixel of the green block
    patch = magnifier.current_patch()
    assert patch is not None and patch.shape[2] == 3
    middle = patch.shape[0] // 2
    assert patch[middle, middle].tolist() == [0, 255, 0]
    assert patch[middle, middle - 1].tolist() == [255, 0, 0]
    picture = magnifier.loupe.pixmap().toImage()
    pixel = picture.pixelColor(picture.width() // 2 + 2, picture.height() // 2 + 2)
    assert (pixel.red(), pixel.green(), pixel.blue()) == (0, 255, 0)
    magnifier.hide()

    # A mark on the key image, as on a mammogram.
    QTest.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ShiftModifier)
    assert window.mouse_mode is MouseMode.ANNOTATE
    for phase, now in ((DragPhase.START, (8.0, 8.0)), (DragPhase.FINISH, (30.0, 20.0))):
        viewport.tool_drag.emit(ToolDrag(phase, MouseMode.ANNOTATE, (8.0, 8.0), now, (0.0, 0.0)))
    (finding,) = window.workspace.annotations(viewport.record.study_instance_uid).findings
    assert finding.regions[0].sop_instance_uid == viewport.record.sop_instance_uid
    assert finding.regions[0].graphic_type is GraphicType.ELLIPSE
    assert any(finding.short_id in text for text in window.tools.layers[viewport].label_texts())
    window.set_mouse_mode(MouseMode.WINDOW)

    # Back to a mammogram: the window readout is a window again.
    window.select_image(0)
    wait_until_settled(qtbot, window)
    assert not window.viewport.is_colour
    assert window.voi_label.text().startswith("W ")


def test_large_colour_image_draws_a_reduced_rgb_level_and_measures(qtbot: QtBot) -> None:
    big = blocks(repeat=32)  # 1024 x 1536 fitted to 400 x 300: a reduced level is drawn
    header = pydicom.Dataset()
    header.PhotometricInterpretation = "RGB"
    header.BitsStored = 8
    view = shown_viewport(qtbot, 400, 300)
    view.set_image(big, colour_pipeline(header, big), None)
    assert view.is_colour and view.current_level >= 1
    level = view.current_level
    shown = view.image_item.image
    assert view.pyramid is not None
    np.testing.assert_array_equal(shown, view.pyramid.levels[level])
    assert shown.shape == (1024 >> level, 1536 >> level, 3)
    side = (BLOCK * 32) >> level
    assert shown[side + side // 2, side + side // 2].tolist() == [128, 64, 32]
    assert view.image_item.boundingRect().width() == 1536.0  # SCOORD stay full-resolution
    view.set_zoom(2.0)  # closer than 1:1: the full-resolution RGB itself
    assert view.current_level == 0
    np.testing.assert_array_equal(view.image_item.image, big)
    tool = RulerTool(view)
    tool.add_ruler((10.0, 20.0), (40.0, 60.0))
    (ruler,) = tool.rulers()
    assert ruler.pixels == pytest.approx(50.0)
    assert ruler.length_mm is None  # a capture without Pixel Spacing: pixels only
