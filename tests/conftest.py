"""Test configuration shared by the whole suite.

GUI tests run headless: the Qt platform is forced to ``offscreen`` here, before
any test module can import Qt, so no display is needed.
"""

from __future__ import annotations

import os

import pytest

from galactoview.dicom.loading import ImageRecord
from tests.helpers import sample_images

os.environ["QT_QPA_PLATFORM"] = "offscreen"


@pytest.fixture(scope="session")
def sample_records() -> tuple[ImageRecord, ...]:
    """Return the records of the bundled sample study (9 images); skip without it."""
    return sample_images()
