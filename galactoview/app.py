"""Composition root of the GUI: the only place that wires the application together.

Importing this module imports Qt; :mod:`galactoview.cli` imports it lazily, only
when a window is to be opened.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication

# isort: split
# pyqtgraph must come after PySide6 so that it binds to PySide6.
import pyqtgraph as pg

from galactoview import __version__
from galactoview.dicom.decode_service import DecodeService
from galactoview.dicom.loading import ScanResult, scan
from galactoview.dicom.pixel_cache import default_cache
from galactoview.ui.decoding import ImageDecoder, shutdown_shared_service
from galactoview.ui.main_window import MainWindow
from galactoview.ui.theme import apply_dark_theme

__all__ = ["configure_pyqtgraph", "create_application", "create_main_window", "run_gui"]


def configure_pyqtgraph() -> None:
    """Set pyqtgraph's global options: row-major images (``image[row, column]``)."""
    pg.setConfigOptions(imageAxisOrder="row-major")


def create_application(argv: Sequence[str] | None = None) -> QApplication:
    """Return the running :class:`QApplication`, creating and naming it if needed.

    Parameters
    ----------
    argv
        Command line for Qt; defaults to the program name only.
    """
    existing = QCoreApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setApplicationName("GalactoView")
    app.setApplicationDisplayName("GalactoView")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("GalactoView")
    apply_dark_theme(app)
    return app


def create_main_window(scan_result: ScanResult, decoder: ImageDecoder | None = None) -> MainWindow:
    """Build the main window showing a scan (needs a QApplication).

    Parameters
    ----------
    scan_result
        The images to list and their problems to report.
    decoder
        What decodes the images off the GUI thread; a default :class:`ImageDecoder`
        when None.

    Returns
    -------
    MainWindow
        The window, not yet shown, with the preferred image selected; it is displayed
        once decoded (:attr:`MainWindow.image_shown`).
    """
    configure_pyqtgraph()
    window = MainWindow(decoder if decoder is not None else ImageDecoder())
    window.set_scan_result(scan_result)
    return window


def run_gui(paths: list[Path], scan_result: ScanResult | None = None) -> int:
    """Open the main window on files and folders and run the event loop.

    Parameters
    ----------
    paths
        Files and folders to show.
    scan_result
        Their scan, if the caller already made it (the CLI does, to print problems).

    Returns
    -------
    int
        The event loop's exit code.
    """
    app = create_application()
    # Decode in worker processes (JPEG 2000 decoders hold the GIL) through the on-disk
    # pixel cache in the user cache folder, so a second open of a study is near instant.
    service = DecodeService(default_cache())
    decoder = ImageDecoder(service=service)
    window = create_main_window(scan_result if scan_result is not None else scan(paths), decoder)
    _route_unexpected_errors(window)
    window.show()
    try:
        return app.exec()
    finally:
        service.shutdown()
        shutdown_shared_service()


def _route_unexpected_errors(window: MainWindow) -> None:
    """Send exceptions escaping a Qt slot to the Problems dock instead of losing them.

    The traceback still goes to stderr for bug reports; the window stays usable.
    """

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        traceback.print_exception(kind, value, tb, file=sys.stderr)
        window.problems.report(f"unexpected error: {kind.__name__}: {value}")

    sys.excepthook = hook
