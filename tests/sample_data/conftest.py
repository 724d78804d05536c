"""Fixtures for tests of the committed sample study."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from galactoview.paths import sample_data_dir


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    path = sample_data_dir()
    if not (path / "ground_truth.json").is_file():
        pytest.skip(f"no sample study in {path}")
    return path


@pytest.fixture(scope="session")
def ground_truth(sample_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((sample_dir / "ground_truth.json").read_text("utf-8"))
    return data
