"""Tests: the cine bar's frames, playback paced by frames shown, loop."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QStyle, QWidget
from pytestqt.qtbot import QtBot

from galactoview.ui.viewer.cine import DEFAULT_FPS, CineBar, default_fps, frame_text


@pytest.fixture
def bar(qtbot: QtBot) -> Iterator[CineBar]:
    host = QWidget()  # the bar lives in a window, never on its own
    qtbot.addWidget(host)
    cine = CineBar(host)
    host.show()
    yield cine  # host stays referenced until the test ends


def timer_of(bar: CineBar) -> QTimer:
    timer = bar.findChild(QTimer)
    assert isinstance(timer, QTimer)
    return timer


def recorded(bar: CineBar) -> list[int]:
    frames: list[int] = []
    bar.frame_requested.connect(frames.append)
    return frames


def test_frame_count_sets_range_rate_and_visibility(bar: CineBar) -> None:
    assert bar.isHidden()  # a new bar has one frame
    bar.set_frame_count(10, 5.0)
    assert not bar.isHidden()
    assert (bar.slider.minimum(), bar.slider.maximum()) == (0, 9)
    assert bar.fps == 5.0
    assert bar.frame == 0
    assert bar.frame_count == 10
    assert bar.label.text() == "Frame 1 / 10"
    bar.set_frame_count(1, None)
    assert bar.isHidden()
    assert bar.fps == DEFAULT_FPS
    bar.play()  # nothing to play
    assert not bar.is_playing()


def test_rates_from_frame_time() -> None:
    assert default_fps(None) == DEFAULT_FPS
    assert default_fps(0.0) == DEFAULT_FPS
    assert default_fps(40.0) == 25.0
    assert default_fps(5.0) == 60.0  # 200 fps offered as the fastest
    assert default_fps(5000.0) == 1.0
    assert frame_text(2, 24) == "Frame 3 / 24"


def test_set_frame_shows_it_without_asking(bar: CineBar) -> None:
    bar.set_frame_count(24, None)
    frames = recorded(bar)
    bar.set_frame(2)
    assert bar.frame == 2
    assert bar.label.text() == "Frame 3 / 24"
    assert frames == []


def test_playback_waits_for_each_frame_to_be_shown(qtbot: QtBot, bar: CineBar) -> None:
    bar.set_frame_count(10, 60.0)
    frames = recorded(bar)
    with qtbot.waitSignal(bar.playing_changed, timeout=1000) as started:
        bar.play()
    assert started.args == [True]
    assert bar.play_button.isChecked()
    with qtbot.waitSignal(bar.frame_requested, timeout=5000) as first:
        pass
    assert first.args == [1]
    # Another frame interval passes: frame 1 is not shown yet, so nothing more is asked.
    with qtbot.waitSignal(timer_of(bar).timeout, timeout=5000):
        pass
    assert frames == [1]
    assert bar.frame == 0
    with qtbot.waitSignal(bar.frame_requested, timeout=5000) as second:
        bar.frame_shown(1)
    assert second.args == [2]
    assert bar.frame == 1
    assert bar.label.text() == "Frame 2 / 10"
    assert frames == [1, 2]


def test_pause_stops_playback(qtbot: QtBot, bar: CineBar) -> None:
    bar.set_frame_count(10, 60.0)
    bar.play()
    with qtbot.waitSignal(bar.frame_requested, timeout=5000):
        pass
    with qtbot.waitSignal(bar.playing_changed, timeout=1000) as stopped:
        bar.pause()
    assert stopped.args == [False]
    assert not bar.is_playing()
    assert not bar.play_button.isChecked()
    assert not timer_of(bar).isActive()
    frames = recorded(bar)
    bar.frame_shown(1)  # a frame asked for before the pause arrives: nothing more is asked
    assert frames == []
    assert not timer_of(bar).isActive()


def test_play_button_toggles_playback_and_its_icon(bar: CineBar) -> None:
    bar.set_frame_count(10, 60.0)
    play_icon = bar.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay)
    pause_icon = bar.style().standardIcon(QStyle.StandardPixmap.SP_MediaPause)
    assert play_icon.pixmap(16).toImage() != pause_icon.pixmap(16).toImage()
    assert bar.play_button.icon().pixmap(16).toImage() == play_icon.pixmap(16).toImage()
    bar.play_button.click()
    assert bar.is_playing()
    assert bar.play_button.icon().pixmap(16).toImage() == pause_icon.pixmap(16).toImage()
    assert bar.play_button.toolTip() == "Pause"
    bar.play_button.click()
    assert not bar.is_playing()
    assert bar.play_button.toolTip() == "Play the frames"
    bar.toggle_playing()
    assert bar.is_playing()
    bar.set_frame_count(5, 10.0)  # a new image stops playback
    assert not bar.is_playing()
    assert not bar.play_button.isChecked()


def test_dragging_the_slider_asks_for_the_frame(qtbot: QtBot, bar: CineBar) -> None:
    bar.set_frame_count(10, 5.0)
    bar.slider.setSliderDown(True)
    with qtbot.waitSignal(bar.frame_requested, timeout=1000) as blocker:
        bar.slider.setSliderPosition(6)
    bar.slider.setSliderDown(False)
    assert blocker.args == [6]
    assert bar.label.text() == "Frame 7 / 10"


def test_loop_wraps_from_the_last_frame_to_the_first(qtbot: QtBot, bar: CineBar) -> None:
    bar.set_frame_count(10, 60.0)
    bar.set_frame(9)
    assert bar.loop
    bar.play()
    with qtbot.waitSignal(bar.frame_requested, timeout=5000) as blocker:
        pass
    assert blocker.args == [0]
    assert bar.is_playing()


def test_without_loop_playback_stops_at_the_last_frame(qtbot: QtBot, bar: CineBar) -> None:
    bar.set_frame_count(10, 60.0)
    bar.set_loop(False)
    bar.set_frame(8)
    frames = recorded(bar)
    bar.play()
    with qtbot.waitSignal(bar.frame_requested, timeout=5000):
        pass
    with qtbot.waitSignal(bar.playing_changed, timeout=5000) as stopped:
        bar.frame_shown(9)
    assert stopped.args == [False]
    assert frames == [9]
    assert bar.frame == 9


def test_step_wraps_only_when_looping(bar: CineBar) -> None:
    bar.set_frame_count(10, None)
    frames = recorded(bar)
    bar.step(-1)
    bar.set_loop(False)
    bar.set_frame(0)
    bar.step(-1)  # already the first frame: nothing asked
    bar.step(3)
    assert frames == [9, 3]
