"""Opening studies: the file dialogs, the scan in a pool thread, what is remembered.

:class:`BackgroundScan` scans files and folders in a pool thread, the window staying
responsive; :func:`ask_folder` and :func:`ask_files` ask which ones;
:func:`remember_opened` keeps them in the recent list and as the next dialogs' start.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from galactoview.dicom.loading import scan
from galactoview.ui.shell.settings import Settings

__all__ = ["BackgroundScan", "ask_files", "ask_folder", "last_folder", "remember_opened"]


class _ScanTask(QRunnable):
    """Scans paths in a pool thread (headers only) and reports back through a relay."""

    def __init__(self, paths: list[Path], relay: BackgroundScan) -> None:
        super().__init__()
        self._paths = paths
        self._relay = relay

    def run(self) -> None:
        """Scan, then hand the result to the GUI thread (if anyone still waits for it)."""
        result = scan(self._paths)
        try:
            self._relay.finished.emit(self._paths, result)
        except RuntimeError:  # the relay was deleted (its window closed while scanning)
            return


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


def last_folder(settings: Settings) -> str:
    """Return the folder the file dialogs start in: the last one opened, else home."""
    return settings.text("files/last_folder", str(Path.home()))


def remember_opened(settings: Settings, paths: list[Path]) -> None:
    """Remember paths that opened images: the recent list, and the folder to start in."""
    settings.add_recent(paths)
    if paths and paths[0].is_dir():
        settings.set("files/last_folder", str(paths[0]))
    elif paths:
        settings.set("files/last_folder", str(paths[0].parent))


def ask_folder(parent: QWidget, settings: Settings) -> list[Path]:
    """Ask for a folder to open (modal); no path when cancelled."""
    folder = QFileDialog.getExistingDirectory(parent, "Open DICOM Folder", last_folder(settings))
    return [Path(folder)] if folder else []


def ask_files(parent: QWidget, settings: Settings) -> list[Path]:
    """Ask for files, a DICOMDIR or zip archives to open (modal); none when cancelled."""
    files, _ = QFileDialog.getOpenFileNames(
        parent,
        "Open DICOM Files, DICOMDIR or Zip",
        last_folder(settings),
        "DICOM files, DICOMDIR and zip archives (*.dcm *.dicom *.DCM DICOMDIR *.zip);;"
        "All files (*)",
    )
    return [Path(name) for name in files]
