"""Composition root of the GUI: the only place that wires the application together.

Importing this module imports Qt; :mod:`galactoview.cli` imports it lazily, only
when a window is to be opened.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtWidgets import QApplication

# isort: split
# pyqtgraph must come after PySide6 so that it binds to PySide6.
import pyqtgraph as pg
from pyqtgraph.util.garbage_collector import GarbageCollector

from galactoview import __version__
from galactoview.dicom.loading import ScanResult, scan
from galactoview.imaging.decode_service import DecodeService
from galactoview.imaging.pixel_cache import default_cache
from galactoview.reading.session import ReadingSession
from galactoview.ui.shell.main_window import MainWindow
from galactoview.ui.shell.save_guard import SaveOnTermination
from galactoview.ui.shell.settings import Settings
from galactoview.ui.shell.theme import apply_dark_theme
from galactoview.ui.viewer.decoding import ImageDecoder

__all__ = [
    "QUIT_AFTER_FIRST_IMAGE",
    "configure_pyqtgraph",
    "create_application",
    "create_main_window",
    "run_gui",
]

#: Environment variable: when set, the GUI prints ``first image shown`` and quits as
#: soon as a first image is on screen (``make bench`` times start-up with it).
QUIT_AFTER_FIRST_IMAGE = "GALACTOVIEW_QUIT_AFTER_FIRST_IMAGE"


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
    # Sharp on high-DPI screens: fractional scale factors (1.25, 1.5) are passed through
    # instead of rounded, so an image pixel maps to a predictable number of device pixels.
    QApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setApplicationName("GalactoView")
    app.setApplicationDisplayName("GalactoView")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("GalactoView")
    apply_dark_theme(app)
    return app


def create_main_window(
    scan_result: ScanResult,
    decoder: ImageDecoder | None = None,
    settings: Settings | None = None,
    *,
    service: DecodeService | None = None,
) -> MainWindow:
    """Build the main window showing a scan (needs a QApplication).

    Parameters
    ----------
    scan_result
        The images to list and their problems to report.
    decoder
        What decodes the images off the GUI thread; when None, an :class:`ImageDecoder`
        that decodes in the worker processes of ``service`` (in its own threads when
        ``service`` is None too, e.g. for tools).
    service
        The decode service :func:`run_gui` built; used only when ``decoder`` is None.
    settings
        What is remembered between sessions; the application's QSettings when None.

    Returns
    -------
    MainWindow
        The window, not yet shown, with the preferred image selected; it is displayed
        once decoded (:attr:`MainWindow.image_shown`).
    """
    configure_pyqtgraph()
    window = MainWindow(
        decoder if decoder is not None else ImageDecoder(service=service),
        settings if settings is not None else Settings(),
        session=ReadingSession(),
    )
    window.set_scan_result(scan_result)
    return window


def run_gui(
    paths: list[Path],
    scan_result: ScanResult | None = None,
    *,
    review: bool = False,
    pacs: bool = False,
) -> int:
    """Open the main window on files and folders and run the event loop.

    Parameters
    ----------
    paths
        Files and folders to show.
    scan_result
        Their scan, if the caller already made it (the CLI does, to print problems).
    review
        Open in the surgeon's read-only review mode (``galactoview --review``).
    pacs
        Show the Query/Retrieve panel at once (``galactoview --pacs``).

    Returns
    -------
    int
        The event loop's exit code.
    """
    app = create_application()
    # Decode in worker processes (JPEG 2000 decoders hold the GIL) through the on-disk
    # pixel cache in the user cache folder, so a second open of a study is near instant.
    service = DecodeService(default_cache())
    window = create_main_window(
        scan_result if scan_result is not None else scan(paths), service=service
    )
    _route_unexpected_errors(window)
    termination = SaveOnTermination(window, window.unsaved_guard)
    # Python's cyclic collector runs on a timer in the GUI thread instead of at any
    # allocation: a collection inside a Qt call (holding its signal-slot lock) can delete
    # a QObject whose destructor waits for that lock, a deadlock seen in the test suite.
    collector = GarbageCollector(interval=1.0)
    if review:
        window.set_review_mode(True)
    if pacs:
        window.show_pacs_panel()
    if os.environ.get(QUIT_AFTER_FIRST_IMAGE):
        window.image_shown.connect(lambda _index: _quit_after_first_image(app))
    if window.settings.bytes_value("window/geometry") is None:
        window.showMaximized()  # first start: the whole screen, as on a reading workstation
    else:
        window.show()
    try:
        return app.exec()
    finally:
        collector.timer.stop()
        termination.uninstall()
        service.shutdown()


def _quit_after_first_image(app: QApplication) -> None:
    """Say that an image is on screen, then quit (start-up benchmark)."""
    print("first image shown", flush=True)
    QTimer.singleShot(0, app.quit)


def _route_unexpected_errors(window: MainWindow) -> None:
    """Send exceptions escaping a Qt slot to the Problems dock instead of losing them.

    The traceback still goes to stderr for bug reports; the window stays usable.
    """

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        traceback.print_exception(kind, value, tb, file=sys.stderr)
        window.problems.report(f"unexpected error: {kind.__name__}: {value}")

    sys.excepthook = hook
