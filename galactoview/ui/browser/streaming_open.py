"""StreamingOpen: show a study being retrieved as soon as its first image is in.

The retrieve (:func:`galactoview.pacs.fetch.fetch_study`) fetches the study's marks
first, then the instance of the hanging protocol's first cell, then the rest; it calls
back with each complete file as it is written. :class:`StreamingOpen` turns those
arrivals into what the window shows: the first one opens the study's cache folder
(:meth:`MainWindow.open_paths` without asking again — the panel asked before the
retrieve started), each later batch is added to what is open
(:meth:`MainWindow.add_paths`), which keeps the reader's hanging, zoom and marks. One
scan at a time, and batches at least :data:`BATCH_INTERVAL_MS` apart while the
retrieve runs: each batch lays the hanging out again (~50 ms of the GUI thread for a
30 Mpix 4-up, measured by ``make bench``), so a fast PACS means the first image, then
one batch with the rest, and a slow one a batch every half second.

Nothing partial is shown as complete: only whole files are ever announced (the
retrieve writes each instance atomically), the panel says how many instances are
still on their way, and a cancelled or failed retrieve leaves open exactly the images
that arrived. If the reader opens another study meanwhile, the arrivals are no longer
added (the retrieve still completes into the cache).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final, Protocol

from PySide6.QtCore import QElapsedTimer, QObject, QTimer, Signal, SignalInstance

from galactoview.dicom.loading import ImageRecord

__all__ = ["BATCH_INTERVAL_MS", "StreamingOpen", "StudyWindow"]

#: Shortest time between two batches added while the retrieve runs.
BATCH_INTERVAL_MS: Final = 500


class StudyWindow(Protocol):
    """What :class:`StreamingOpen` needs of the main window."""

    @property
    def scan_finished(self) -> SignalInstance:
        """Emitted when an :meth:`open_paths` scan is shown."""

    @property
    def images_added(self) -> SignalInstance:
        """Emitted when an :meth:`add_paths` batch is shown."""

    def open_paths(self, paths: Sequence[Path], *, confirm: bool = True) -> None:
        """Open files and folders (replacing what is open)."""

    def add_paths(self, paths: Sequence[Path]) -> None:
        """Add files and folders to what is open."""

    @property
    def records(self) -> Sequence[ImageRecord]:
        """The images open."""

    def pause_hanging_notes(self, message: str | None) -> None:
        """Say ``message`` instead of the hanging's notes while images arrive; None: stop."""

    def is_scanning(self) -> bool:
        """Whether a scan (opening or adding) runs or waits."""


class StreamingOpen(QObject):
    """Opens one study as its instances arrive (see the module docstring).

    Parameters
    ----------
    window
        The main window.
    study_uid
        Study Instance UID being retrieved.
    folder
        Its folder in the retrieve cache.
    parent
        Owner of this object.

    Signals
    -------
    shown(int)
        A batch of arrivals is shown; the number of files announced so far.
    complete()
        The retrieve is over (:meth:`finish`) and everything that arrived is shown — or
        will never be (nothing arrived, or the reader opened something else).
    """

    shown = Signal(int)
    complete = Signal()

    def __init__(
        self, window: StudyWindow, study_uid: str, folder: Path, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._window = window
        self.study_uid = study_uid
        self.folder = folder
        self._pending: list[Path] = []
        self._announced = 0
        self._opened = False
        self._scanning = False
        self._abandoned = False
        self._finished = False
        self._hold = QElapsedTimer()  # since the last batch was shown
        self._timer_set = False
        window.scan_finished.connect(self._on_scanned)
        window.images_added.connect(self._on_scanned)

    @property
    def opened(self) -> bool:
        """Whether the study has been opened in the window."""
        return self._opened

    @property
    def abandoned(self) -> bool:
        """Whether the reader opened something else meanwhile (arrivals are dropped)."""
        return self._abandoned

    def arrived(self, path: Path) -> None:
        """Take one complete instance file (GUI thread); shown in the next batch."""
        if self._abandoned:
            return
        self._announced += 1
        self._pending.append(path)
        self._pump()

    def finish(self, openable: bool) -> None:
        """End the stream: open the folder if nothing was shown yet and it is worth it."""
        self._finished = True
        if not self._opened and not self._scanning and not self._pending and openable:
            self._pending.append(self.folder)
        self._pump()
        self._check_complete()

    def _check_complete(self) -> None:
        if not self._finished or self._scanning:
            return
        if self._abandoned or not self._pending:
            self._finished = False  # said once
            self.complete.emit()

    def _open_studies(self) -> set[str]:
        return {record.study_instance_uid for record in self._window.records}

    def _pump(self) -> None:
        if self._scanning or not self._pending or self._abandoned:
            return
        if self._window.is_scanning():
            return  # someone else's scan first: it may open another study (_on_scanned)
        if self._opened and not self._finished and self._hold.isValid():
            wait = BATCH_INTERVAL_MS - self._hold.elapsed()
            if wait > 0:
                if not self._timer_set:
                    self._timer_set = True
                    QTimer.singleShot(wait, self._on_hold_over)
                return
        batch, self._pending = self._pending, []
        self._scanning = True
        if not self._opened:
            # The folder holds the marks adopted before the first image (its sidecar) and
            # every instance already written; recent files remember the folder, not a file.
            self._window.open_paths([self.folder], confirm=False)
        elif self.study_uid not in self._open_studies():
            self._scanning = False
            self._abandoned = True
            self._pending.clear()
            self._check_complete()
        else:
            self._window.add_paths(batch)

    def _on_scanned(self) -> None:
        if not self._scanning:  # someone else's scan
            if self._opened and self.study_uid not in self._open_studies():
                self._abandoned = True  # the reader opened another study
                self._pending.clear()
                self._check_complete()
            else:
                QTimer.singleShot(0, self._pump_or_complete)  # once its queue moved on
            return
        self._scanning = False
        if not self._opened:
            self._opened = self.study_uid in self._open_studies()
            if not self._opened:
                self._abandoned = True
                self._check_complete()
                return
        self.shown.emit(self._announced)
        self._hold.start()
        # After the window's scan queue has started what waits (another open, maybe).
        QTimer.singleShot(0, self._pump_or_complete)

    def _on_hold_over(self) -> None:
        self._timer_set = False
        self._pump_or_complete()

    def _pump_or_complete(self) -> None:
        self._pump()
        self._check_complete()

    def disconnect_window(self) -> None:
        """Stop listening to the window (the panel drops this object)."""
        self._window.scan_finished.disconnect(self._on_scanned)
        self._window.images_added.disconnect(self._on_scanned)
