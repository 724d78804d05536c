"""The viewer shows each frame of an enhanced multi-frame image with that frame's values.

Breast Tomosynthesis test object (tests/imaging/enhanced_multiframe.py): each frame has
its own Frame VOI LUT (PS3.3 C.7.6.16.2.10) and, here, its own Pixel Measures
(C.7.6.16.2.1).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from galactoview.imaging.display import VoiLutFunction, Window
from galactoview.ui.shell.main_window import MainWindow
from tests.helpers import write_dataset
from tests.imaging.enhanced_multiframe import FRAME_WINDOWS, breast_tomosynthesis
from tests.ui.conftest import OpenWindow

#: Pixel Spacing of frames 1..3 (per-frame Pixel Measures).
SPACINGS = (0.1, 0.2, 0.05)


def _first_window(frame: int) -> Window:
    center, width, text, function = FRAME_WINDOWS[frame - 1][0]
    return Window(center, width, VoiLutFunction(function), text)


@pytest.fixture
def tomosynthesis(open_window: OpenWindow, tmp_path: Path) -> MainWindow:
    ds = breast_tomosynthesis()
    del ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence
    for item, spacing in zip(ds.PerFrameFunctionalGroupsSequence, SPACINGS, strict=True):
        measures = Dataset()
        measures.PixelSpacing = [spacing, spacing]
        measures.SliceThickness = 1.0
        item.PixelMeasuresSequence = Sequence([measures])
    return open_window([write_dataset(ds, tmp_path / "study" / "bto.dcm")])


def _step(window: MainWindow, qtbot: QtBot, key: Qt.Key) -> None:
    with qtbot.waitSignal(window.image_shown, timeout=10_000):
        QTest.keyClick(window, key)


def test_each_frame_is_shown_with_its_window_and_calibration(
    tomosynthesis: MainWindow, qtbot: QtBot
) -> None:
    window, viewport = tomosynthesis, tomosynthesis.viewport
    for frame in (1, 2, 3):
        if frame > 1:
            _step(window, qtbot, Qt.Key.Key_Right)
        assert viewport.frame == frame - 1
        assert viewport.voi == _first_window(frame)
        voi = _first_window(frame)
        expected = f"W {voi.width:g} L {voi.center:g} {voi.function.value} ({voi.explanation})"
        assert window.voi_label.text() == expected
        calibration = viewport.calibration
        assert calibration is not None
        assert calibration.row_spacing_mm == SPACINGS[frame - 1]
        assert f"frame {frame}'s Pixel Measures" in calibration.description
        # Frame Content (PS3.3 C.7.6.16.2.2) in the corner text.
        corners = window.tools.overlays[viewport].texts()
        assert f"Fr {frame}/3 slice {frame} (stack 1, position {frame})" in corners.bottom_left


def test_a_window_the_reader_chose_is_kept_from_frame_to_frame(
    tomosynthesis: MainWindow, qtbot: QtBot
) -> None:
    viewport = tomosynthesis.viewport
    chosen = Window(1000.0, 500.0)
    viewport.set_voi(chosen)
    _step(tomosynthesis, qtbot, Qt.Key.Key_Right)
    assert viewport.frame == 1 and viewport.voi == chosen
    assert tomosynthesis.voi_label.text() == "W 500 L 1000 LINEAR"
