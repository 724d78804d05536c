"""BackgroundScan: scans files and folders in a pool thread, the window staying responsive."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from galactoview.dicom.loading import scan

__all__ = ["BackgroundScan"]


class _ScanTask(QRunnable):
    """Scans paths in a pool thread (headers only) and reports back through a relay."""

    def __init__(self, paths: list[Path], relay: BackgroundScan) -> None:
        super().__init__()
        self._paths = paths
        self._relay = relay

    def run(self) -> None:
        """Scan, then hand the result to the GUI thread."""
        result = scan(self._paths)
        self._relay.finished.emit(self._paths, result)


class BackgroundScan(QObject):
    """Starts scans in the global thread pool and carries their results to the GUI thread.

    Signals
    -------
    finished(list, object)
        The paths scanned and their :class:`~galactoview.dicom.loading.ScanResult`
        (delivered queued, in the thread this object lives in).
    """

    finished = Signal(object, object)

    def start(self, paths: list[Path]) -> None:
        """Scan ``paths`` (headers only) in a pool thread."""
        QThreadPool.globalInstance().start(_ScanTask(paths, self))
