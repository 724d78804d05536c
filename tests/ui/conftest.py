"""Fixtures for GUI tests: synthetic studies and main windows, Qt warnings as failures."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from galactoview.app import create_main_window
from galactoview.dicom.loading import scan
from galactoview.imaging.decode_service import DecodeService
from galactoview.ui.shell import reader_identity
from galactoview.ui.shell.main_window import MainWindow
from galactoview.ui.shell.pacs_store import StoreChoice
from galactoview.ui.shell.save_guard import UnsavedChoice
from galactoview.ui.shell.settings import Settings
from galactoview.ui.viewer.decoding import Decode, ImageDecoder, decode_image
from tests.helpers import write_study

_UI_TESTS = Path(__file__).parent

#: Qt messages of the headless "offscreen" platform that say nothing about our code.
_OFFSCREEN_NOISE = r"This plugin does not support (propagateSizeHints|raise|grabbing)"


def pytest_configure(config: pytest.Config) -> None:
    """Keep every QSettings the tests make away from the user's own settings."""
    folder = Path(config.rootpath) / "build" / "test-settings"
    folder.mkdir(parents=True, exist_ok=True)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))


@pytest.fixture(autouse=True)
def _no_reader_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    """No "who is reading?" dialog over windows whose tests are not about it."""
    monkeypatch.setattr(reader_identity, "ASK_BEFORE_FIRST_MARK", False)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Return empty settings kept in an INI file of the test's own folder."""
    return Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Make Qt warnings fail every GUI test (house style: tests/ui run strict)."""
    for item in items:
        if _UI_TESTS in item.path.parents:
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            item.add_marker(pytest.mark.qt_log_ignore(_OFFSCREEN_NOISE))


@pytest.fixture
def study_dir(tmp_path: Path) -> Path:
    """Return a folder holding a small synthetic galactography study (4 MG images)."""
    folder = tmp_path / "study"
    write_study(folder)
    return folder


def wait_until_settled(qtbot: QtBot, window: MainWindow) -> None:
    """Wait until the image selected is displayed (or has failed) and the marks are read."""
    qtbot.waitUntil(lambda: not window.is_decoding(), timeout=10_000)
    qtbot.waitUntil(lambda: not window.saver.is_reading(), timeout=10_000)


OpenWindow = Callable[..., MainWindow]


def unexpected_unsaved_prompt(_parent: QWidget, lines: Sequence[str]) -> UnsavedChoice:
    """Fail loudly instead of blocking in a modal dialog: tests that expect it replace it."""
    raise AssertionError(f"unexpected 'marks not saved' question: {list(lines)}")


def unexpected_store_prompt(_parent: QWidget, lines: Sequence[str], node: str) -> StoreChoice:
    """Fail loudly instead of blocking in a modal dialog: tests that expect it replace it."""
    raise AssertionError(f"unexpected 'store marks to {node}?' question: {list(lines)}")


@pytest.fixture(scope="session")
def decode_service() -> Iterator[DecodeService]:
    """Return the decode worker processes the windows of the tests share (as app.run_gui's)."""
    service = DecodeService()
    yield service
    service.shutdown()


@pytest.fixture
def open_window(qtbot: QtBot, settings: Settings, decode_service: DecodeService) -> OpenWindow:
    """Return a function that opens a shown main window on files and folders.

    ``open_window(paths, decode=...)`` replaces the decoding function (run in pool
    threads; by default :func:`decode_image` in ``decode_service``'s processes, as the
    application decodes); the window is returned once its first image is displayed.
    """
    in_workers = functools.partial(decode_image, service=decode_service)

    def _open(paths: Sequence[Path], decode: Decode = in_workers) -> MainWindow:
        window = create_main_window(scan(paths), ImageDecoder(decode=decode), settings)
        window.unsaved_guard.ask = unexpected_unsaved_prompt
        window.pacs.ask_store = unexpected_store_prompt
        qtbot.addWidget(window)
        window.resize(1000, 700)
        window.show()
        qtbot.waitExposed(window)
        wait_until_settled(qtbot, window)
        return window

    return _open
