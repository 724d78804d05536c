"""The background scan: results reach the window, or are dropped once it has closed."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QObject, QThreadPool
from pytestqt.qtbot import QtBot

from galactoview.dicom.loading import ScanResult
from galactoview.ui.shell import opening


def _held_scan(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Make scans wait until the event returned is set; they then find nothing."""
    release = threading.Event()

    def held(paths: list[Path]) -> ScanResult:
        release.wait(timeout=30)
        return ScanResult(images=(), problems=())

    monkeypatch.setattr(opening, "scan", held)
    return release


def test_a_scan_reports_its_paths_and_result(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    release = _held_scan(monkeypatch)
    scanner = opening.BackgroundScan()
    with qtbot.waitSignal(scanner.finished, timeout=10_000) as blocker:
        scanner.start([tmp_path])
        release.set()
    paths, result = blocker.args
    assert paths == [tmp_path] and result.images == ()


def test_a_scan_ending_after_its_window_closed_is_dropped_without_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A test run under load once failed with "Signal source has been deleted" raised in
    # the pool thread: a window closed while the folder it was opening was scanned.
    release = _held_scan(monkeypatch)
    owner = QObject()
    scanner = opening.BackgroundScan(owner)
    scanner.start([tmp_path])
    shiboken6.delete(owner)  # the window and its scanner are gone; the scan still runs
    assert not shiboken6.isValid(scanner)
    caught: list[BaseException] = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, value, trace: caught.append(value))
    release.set()
    assert QThreadPool.globalInstance().waitForDone(10_000)
    assert caught == []
