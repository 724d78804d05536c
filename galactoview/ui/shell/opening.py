"""Opening studies: the file dialogs, the scan in a pool thread, what is remembered.

:class:`BackgroundScan` scans files and folders in a pool thread, the window staying
responsive; :func:`ask_folder` and :func:`ask_files` ask which ones;
:func:`remember_opened` keeps them in the recent list and as the next dialogs' start.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from galactoview.dicom.loading import ScanResult, scan
from galactoview.ui.background import BackgroundCall
from galactoview.ui.shell.settings import Settings

__all__ = ["BackgroundScan", "ask_files", "ask_folder", "last_folder", "remember_opened"]


class BackgroundScan(QObject):
    """Scans in a pool thread (:class:`BackgroundCall`) and carries the results back.

    A scan that ends after this object was deleted (its window closed) is dropped.

    Signals
    -------
    finished(list, object)
        The paths scanned and their :class:`~galactoview.dicom.loading.ScanResult`
        (emitted in the GUI thread, through :class:`~galactoview.ui.background.BackgroundCall`).
    """

    finished = Signal(object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._call = BackgroundCall(self)
        self._call.done.connect(self._on_done)

    def start(self, paths: list[Path]) -> None:
        """Scan ``paths`` (headers only) in a pool thread."""
        self._call.start(lambda: (paths, scan(paths)))

    def _on_done(self, ok: bool, value: object) -> None:
        if ok:  # scan() reports unreadable files in its result and does not raise
            paths, result = cast("tuple[list[Path], ScanResult]", value)  # start()'s pair
            self.finished.emit(paths, result)


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
