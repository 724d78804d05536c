"""Test configuration shared by the whole suite.

GUI tests run headless: the Qt platform is forced to ``offscreen`` here, before
any test module can import Qt, so no display is needed.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import platformdirs
import pytest

from galactoview.dicom.loading import ImageRecord
from tests.helpers import sample_images

os.environ["QT_QPA_PLATFORM"] = "offscreen"


@pytest.fixture(autouse=True)
def garbage_collected_after_qt_tests_only(request: pytest.FixtureRequest) -> Iterator[None]:
    """Keep Python's cyclic garbage collector from running inside a Qt call.

    A collection triggered while Qt holds its signal-slot lock (e.g. inside
    ``QObject::disconnect``) can delete a collected QObject whose destructor takes the
    same lock: the test run hung that way once. As in the application (pyqtgraph's
    ``GarbageCollector``), a test with ``qtbot`` runs without automatic collection and
    its garbage is collected afterwards, once its widgets are closed. Everything made
    during the test is still in the youngest generation (no collection promoted it), so
    collecting generation 0 is enough and cheap.
    """
    if "qtbot" not in request.fixturenames:
        yield
        return
    enabled = gc.isenabled()
    gc.disable()
    yield
    gc.collect(0)
    if enabled:
        gc.enable()


@pytest.fixture(autouse=True)
def user_data_in_tmp(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Keep every test's per-user data (fallback sidecars, the sample copy) out of the home.

    platformdirs reads ``XDG_DATA_HOME`` on each call on Linux and the BSDs.
    """
    folder = tmp_path_factory.mktemp("user-data")
    monkeypatch.setenv("XDG_DATA_HOME", str(folder))
    return folder


@pytest.fixture(scope="session")
def sample_records() -> tuple[ImageRecord, ...]:
    """Return the records of the bundled sample study (9 images); skip without it."""
    return sample_images()


@pytest.fixture
def user_data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Redirect the per-user data folders (``platformdirs.user_data_path``) into tmp_path.

    Returns the folder that stands for the user's data home: GalactoView's per-user
    files (sample copy, fallback sidecars) go to ``<it>/GalactoView``. ``XDG_DATA_HOME``
    is set too, for child processes on Linux.
    """
    home = tmp_path / "user-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))

    def user_data_path(appname: str | None = None, *_args: Any, **_kwargs: Any) -> Path:
        return home / appname if appname else home

    monkeypatch.setattr(platformdirs, "user_data_path", user_data_path)
    return home
