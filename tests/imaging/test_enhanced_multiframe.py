"""The display pipeline of each frame of an enhanced multi-frame image, and the test object."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from galactoview.imaging.display import DisplayPipeline, VoiLutFunction, Window
from galactoview.imaging.export import render_image
from tests.helpers import write_dataset
from tests.imaging.enhanced_multiframe import (
    FRAME_RESCALES,
    FRAME_WINDOWS,
    IDENTITY_RESCALES,
    breast_tomosynthesis,
    frame_pixels,
)

DCIODVFY = shutil.which("dciodvfy")


@pytest.mark.parametrize("frame", [1, 2, 3])
def test_the_pipeline_of_each_frame_has_its_rescale_and_windows(frame: int) -> None:
    pipeline = DisplayPipeline.from_dataset(breast_tomosynthesis(), frame - 1)
    intercept, slope = FRAME_RESCALES[frame - 1]
    assert (pipeline.rescale_intercept, pipeline.rescale_slope) == (intercept, slope)
    assert pipeline.rescale_type == "US"
    assert pipeline.windows == tuple(
        Window(center, width, VoiLutFunction(function), text)
        for center, width, text, function in FRAME_WINDOWS[frame - 1]
    )
    assert pipeline.default_voi() == pipeline.windows[0]
    assert not pipeline.invert and pipeline.problems == ()


def test_the_first_frame_is_the_default() -> None:
    ds = breast_tomosynthesis()
    assert DisplayPipeline.from_dataset(ds) == DisplayPipeline.from_dataset(ds, 0)
    assert DisplayPipeline.from_dataset(ds) != DisplayPipeline.from_dataset(ds, 1)


def test_render_applies_the_frame_rescale_and_window() -> None:
    """Frame 2: modality value = stored - 1024, LINEAR window 800/1600 (PS3.3 C.11.2.1.2.1)."""
    rendered = render_image(breast_tomosynthesis(), frame=2, overlays=False)
    modality = frame_pixels(2).astype(np.float64) - 1024.0
    expected = np.clip(((modality - 799.5) / 1599.0 + 0.5) * 255.0, 0, 255)
    assert float(np.abs(rendered - expected).max()) <= 0.5 + 1e-9  # rounded to nearest
    assert int(rendered.max()) == 255 and int(rendered.min()) < 128  # the window bites


def _dciodvfy(path: Path) -> list[str]:
    assert DCIODVFY is not None
    done = subprocess.run(
        [DCIODVFY, str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    lines = (done.stdout + done.stderr).splitlines()
    return [line for line in lines if line.startswith(("Error", "Warning"))]


def test_dciodvfy_finds_the_identity_rescale_object_valid(tmp_path: Path) -> None:
    if DCIODVFY is None:
        pytest.skip("dicom3tools' dciodvfy is not installed (apt install dicom3tools)")
    path = write_dataset(breast_tomosynthesis(IDENTITY_RESCALES), tmp_path / "bto.dcm")
    assert _dciodvfy(path) == []


def test_dciodvfy_reports_only_the_rescales_the_iod_forbids(tmp_path: Path) -> None:
    """The Breast Tomosynthesis IOD wants Rescale Intercept 0 and Slope 1 in every frame."""
    if DCIODVFY is None:
        pytest.skip("dicom3tools' dciodvfy is not installed (apt install dicom3tools)")
    path = write_dataset(breast_tomosynthesis(), tmp_path / "bto.dcm")
    assert _dciodvfy(path) == [
        "Error - Unrecognized enumerated value <0xfc00> for value 1 of attribute "
        "<Rescale Intercept>",
        "Error - Unrecognized enumerated value <0x64> for value 1 of attribute <Rescale Intercept>",
        "Error - Unrecognized enumerated value <0> for value 1 of attribute <Rescale Slope>",
    ]
