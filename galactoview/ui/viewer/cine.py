"""CineBar: plays the frames of a multi-frame image, never faster than they are shown.

A multi-frame image (PS3.3 C.7.6.6 Multi-frame Module) may be a cine loop, e.g. the
fluoroscopy of a contrast injection; the Cine Module (PS3.3 C.7.6.5) gives the
intended rate as Frame Time (0018,1063) in ms or Recommended Display Frame Rate
(0008,2144) (:attr:`~galactoview.dicom.loading.ImageRecord.frame_time_ms`).

:class:`CineBar` holds a frame slider, a play/pause button, a rate in frames per
second and a loop switch. It does not decode or draw anything: it asks for a frame
with :attr:`CineBar.frame_requested` and waits to be told, through
:meth:`CineBar.frame_shown`, that the frame is on screen. While playing, the next
frame is asked for only once the previous one has been shown *and* a frame interval
has passed since it was asked for, so a slow decode lowers the rate instead of
queueing requests. The bar installs no keyboard shortcuts; the main window adds
actions that call :meth:`CineBar.toggle_playing`, :meth:`CineBar.step` and so on.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QStyle,
    QToolButton,
    QWidget,
)

__all__ = ["DEFAULT_FPS", "MAX_FPS", "MIN_FPS", "CineBar", "default_fps", "frame_text"]

#: Rate when the image gives none, in frames per second.
DEFAULT_FPS: Final = 10.0
#: Slowest rate offered, in frames per second.
MIN_FPS: Final = 1
#: Fastest rate offered, in frames per second.
MAX_FPS: Final = 60


def default_fps(frame_time_ms: float | None) -> float:
    """Return the rate to play an image at, from its Frame Time in ms.

    Parameters
    ----------
    frame_time_ms
        Frame Time (0018,1063), or 1000 / Recommended Display Frame Rate (0008,2144)
        (PS3.3 C.7.6.5); ``None`` when the image gives neither.

    Returns
    -------
    float
        ``1000 / frame_time_ms`` within :data:`MIN_FPS` .. :data:`MAX_FPS`, else
        :data:`DEFAULT_FPS`.
    """
    if frame_time_ms is None or not frame_time_ms > 0:
        return DEFAULT_FPS
    return min(float(MAX_FPS), max(float(MIN_FPS), 1000.0 / frame_time_ms))


def frame_text(index: int, count: int) -> str:
    """Return the label of a frame, numbered from 1, e.g. ``"Frame 3 / 24"`` for index 2."""
    return f"Frame {index + 1} / {count}"


class CineBar(QWidget):
    """Frame slider, play/pause, rate and loop for a multi-frame image.

    Hidden while the image has a single frame (:meth:`set_frame_count`).

    Parameters
    ----------
    parent
        Owner of the bar.

    Signals
    -------
    frame_requested(int)
        The frame (index from 0) to show: asked for by playback or by the slider. Answer
        with :meth:`frame_shown` once it is on screen (or has failed to decode).
    playing_changed(bool)
        Playback started (``True``) or stopped.
    """

    frame_requested = Signal(int)
    playing_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.play_button = QToolButton(self)
        self.play_button.setCheckable(True)
        self.play_button.setAutoRaise(True)
        self.play_button.setToolTip("Play the frames")
        self.play_button.setAccessibleName("Play")
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(0, 0)
        self.slider.setToolTip("Frame")
        self.label = QLabel(frame_text(0, 1), self)
        self.rate_spin = QSpinBox(self)
        self.rate_spin.setRange(MIN_FPS, MAX_FPS)
        self.rate_spin.setValue(round(DEFAULT_FPS))
        self.rate_spin.setSuffix(" fps")
        self.rate_spin.setToolTip("Frames per second")
        self.loop_check = QCheckBox("Loop", self)
        self.loop_check.setChecked(True)
        self.loop_check.setToolTip("Start again at the first frame after the last")

        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.play_button)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        layout.addWidget(self.rate_spin)
        layout.addWidget(self.loop_check)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._on_tick)
        self._count = 1
        self._playing = False
        #: The frame asked for and not yet reported shown.
        self._awaiting: int | None = None
        #: A frame interval passed while waiting: ask for the next frame once shown.
        self._due = False

        self.play_button.toggled.connect(self._on_play_toggled)
        self.slider.valueChanged.connect(self._on_slider_changed)
        self.rate_spin.valueChanged.connect(self._on_rate_changed)
        self._show_playing(False)
        self.setHidden(True)

    # --- model -> view ------------------------------------------------------------

    def set_frame_count(self, count: int, fps: float | None = None) -> None:
        """Show the frames of a new image; stop playing and go to the first frame.

        Parameters
        ----------
        count
            Number of frames, Number of Frames (0028,0008); the bar hides itself when
            it is 1 or less.
        fps
            Rate in frames per second, e.g. :func:`default_fps` of the image's Frame
            Time; :data:`DEFAULT_FPS` when ``None``.
        """
        self.pause()
        self._count = max(1, count)
        self._awaiting = None
        self._due = False
        blocker = QSignalBlocker(self.slider)
        self.slider.setRange(0, self._count - 1)
        self.slider.setValue(0)
        del blocker
        self._update_label()
        self.set_fps(DEFAULT_FPS if fps is None else fps)
        self.setHidden(self._count <= 1)

    def set_frame(self, index: int) -> None:
        """Show ``index`` as the current frame, without asking for it (no signal)."""
        blocker = QSignalBlocker(self.slider)
        self.slider.setValue(index)
        del blocker
        self._update_label()

    @Slot(int)
    def frame_shown(self, index: int) -> None:
        """Report a frame shown (or given up): it becomes current, and playback goes on.

        Call it for every :attr:`frame_requested`, also when the frame failed to
        decode, else playback waits for it.
        """
        self.set_frame(index)
        if index != self._awaiting:
            return
        self._awaiting = None
        if self._due and self._playing:
            self._due = False
            self._advance()

    def set_fps(self, fps: float) -> None:
        """Set the rate, rounded to whole frames per second within 1–60."""
        self.rate_spin.setValue(min(MAX_FPS, max(MIN_FPS, round(fps))))

    def set_loop(self, loop: bool) -> None:
        """Set whether playback starts again at the first frame after the last."""
        self.loop_check.setChecked(loop)

    # --- state ----------------------------------------------------------------------

    @property
    def fps(self) -> float:
        """Return the rate, in frames per second."""
        return float(self.rate_spin.value())

    @property
    def frame(self) -> int:
        """Return the index of the current frame (shown by the slider)."""
        return self.slider.value()

    @property
    def frame_count(self) -> int:
        """Return the number of frames."""
        return self._count

    @property
    def loop(self) -> bool:
        """Return whether playback starts again at the first frame after the last."""
        return self.loop_check.isChecked()

    def is_playing(self) -> bool:
        """Return whether the frames are playing."""
        return self._playing

    # --- actions --------------------------------------------------------------------

    @Slot()
    def play(self) -> None:
        """Start playing from the current frame (from the first, at the end without loop).

        Does nothing for a single-frame image or when already playing.
        """
        if self._playing or self._count <= 1:
            return
        self._playing = True
        self._due = False
        self._show_playing(True)
        if not self.loop and self.frame == self._count - 1:
            self._request(0)
        self._timer.start(self._interval_ms())
        self.playing_changed.emit(True)

    @Slot()
    def pause(self) -> None:
        """Stop playing; the current frame stays."""
        if not self._playing:
            return
        self._playing = False
        self._due = False
        self._timer.stop()
        self._show_playing(False)
        self.playing_changed.emit(False)

    @Slot()
    def toggle_playing(self) -> None:
        """Play when paused, pause when playing (for a Space shortcut)."""
        if self._playing:
            self.pause()
        else:
            self.play()

    def step(self, delta: int) -> None:
        """Ask for the frame ``delta`` frames away, wrapping round when looping.

        Parameters
        ----------
        delta
            E.g. ``1`` for the next frame, ``-1`` for the previous one.
        """
        if self._count <= 1:
            return
        target = self.frame + delta
        target = target % self._count if self.loop else min(self._count - 1, max(0, target))
        if target != self.frame:
            self.slider.setValue(target)  # asks for it, as a drag would

    # --- internals ------------------------------------------------------------------

    def _interval_ms(self) -> int:
        return max(1, round(1000.0 / self.fps))

    def _request(self, index: int) -> None:
        self._awaiting = index
        self.frame_requested.emit(index)

    def _advance(self) -> None:
        """Ask for the next frame and time the one after (playing, previous frame shown)."""
        target = self.frame + 1
        if target >= self._count:
            if not self.loop:
                self.pause()
                return
            target = 0
        self._request(target)
        self._timer.start(self._interval_ms())

    def _on_tick(self) -> None:
        """Go on after a frame interval: ask for the next frame, or note it is due."""
        if not self._playing:
            return
        if self._awaiting is not None:
            self._due = True  # the previous frame is still on its way
            return
        self._advance()

    def _on_play_toggled(self, checked: bool) -> None:
        if checked:
            self.play()
        else:
            self.pause()
        self._show_playing(self._playing)  # e.g. play refused for one frame

    def _on_slider_changed(self, index: int) -> None:
        self._update_label()
        self._request(index)

    def _on_rate_changed(self, _fps: int) -> None:
        if self._timer.isActive():
            self._timer.start(self._interval_ms())

    def _show_playing(self, playing: bool) -> None:
        blocker = QSignalBlocker(self.play_button)
        self.play_button.setChecked(playing)
        del blocker
        pixmap = (
            QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        )
        self.play_button.setIcon(self.style().standardIcon(pixmap))
        self.play_button.setToolTip("Pause" if playing else "Play the frames")
        self.play_button.setAccessibleName("Pause" if playing else "Play")

    def _update_label(self) -> None:
        self.label.setText(frame_text(self.frame, self._count))
