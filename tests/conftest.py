"""Test configuration shared by the whole suite.

GUI tests run headless: the Qt platform is forced to ``offscreen`` here, before
any test module can import Qt, so no display is needed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from galactoview.dicom.loading import ImageRecord
from tests.helpers import sample_images

os.environ["QT_QPA_PLATFORM"] = "offscreen"


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
