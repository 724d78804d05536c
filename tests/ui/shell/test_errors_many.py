"""Many problems at once (issue 10): a folder of 10,000 unreadable files opens quickly.

The Problems dock takes the lines of a scan in one batch (:meth:`ProblemReporter.report_many`):
one status-bar message, one scroll, one signal, never one repaint per line.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from tests.ui.conftest import OpenWindow

#: Files in the folder of the issue's acceptance criterion.
_COUNT = 10_000


def _unreadable_folder(folder: Path, count: int) -> list[Path]:
    """Write ``count`` small files that claim DICOM by their suffix and are not."""
    folder.mkdir()
    paths = [folder / f"IM{index:05d}.dcm" for index in range(count)]
    for path in paths:
        path.write_bytes(b"not a DICOM file\n")
    return paths


def test_folder_of_10000_unreadable_files_opens_in_under_5_s(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    paths = _unreadable_folder(tmp_path / "junk", _COUNT)
    window = open_window([])
    # The acceptance criterion is a time bound: under 5 s (generous, as stated).
    start = time.perf_counter()
    with qtbot.waitSignal(window.scan_finished, timeout=60_000):
        window.open_paths([tmp_path / "junk"])
    # What is left to draw is drawn now: the window is usable when this returns.
    window.problems_dock.list_widget.doItemsLayout()
    QApplication.processEvents()
    elapsed = time.perf_counter() - start
    summary = f"No images could be opened ({_COUNT} problem(s))."
    expected = "not a DICOM file (no 'DICM' prefix after the preamble)"
    # Every file's line, then the summary the error dialog repeats.
    assert window.problems.messages() == [
        *(f"{path.name}: {expected}" for path in paths),
        summary,
    ]
    assert elapsed < 5.0, f"{elapsed:.1f} s"
    dialog = window.findChild(QMessageBox, "ErrorDialog")
    assert dialog is not None
    assert dialog.text() == summary
    assert len(dialog.detailedText().splitlines()) == _COUNT
    dialog.close()
