"""``galactoview render --frame N`` of an enhanced multi-frame image against DCMTK's dcmj2pnm.

The Breast Tomosynthesis test object (tests/imaging/enhanced_multiframe.py) keeps each
frame's rescale and windows in Pixel Value Transformation and Frame VOI LUT functional
groups (PS3.3 C.7.6.16.2.9, C.7.6.16.2.10). DCMTK 3.6.7's dcmj2pnm does not read those
two (it finds Pixel Spacing in the shared group, but says "only 0 window(s) in file"), so
the reference for frame N is dcmj2pnm of frame N written as a classic single-frame
image whose top-level Rescale and Window are the frame's values, taken from the
generator's tables (not from our reader). A DCMTK that reads the groups is compared
with the enhanced file directly as well.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from galactoview import cli
from tests.helpers import MG_FOR_PRESENTATION, write_dataset
from tests.imaging.enhanced_multiframe import (
    COLUMNS,
    FRAME_RESCALES,
    FRAME_WINDOWS,
    ROWS,
    breast_tomosynthesis,
    frame_pixels,
)

DCMJ2PNM = shutil.which("dcmj2pnm")


def _png(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.mode == "L"
        return np.asarray(image).astype(np.int16)


def _classic_frame(frame: int) -> Dataset:
    """Frame ``frame`` (1-based) as a single-frame image with its values at the top level."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = MG_FOR_PRESENTATION
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=["classic", str(frame)])
    ds.SOPClassUID = MG_FOR_PRESENTATION
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = "MG"
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows, ds.Columns = ROWS, COLUMNS
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.RescaleIntercept, ds.RescaleSlope = FRAME_RESCALES[frame - 1]
    ds.RescaleType = "US"
    windows = FRAME_WINDOWS[frame - 1]
    ds.WindowCenter = [center for center, _, _, _ in windows]
    ds.WindowWidth = [width for _, width, _, _ in windows]
    ds.VOILUTFunction = windows[0][3]
    ds.PixelData = frame_pixels(frame).astype("<u2").tobytes()
    return ds


def _dcmj2pnm(source: Path, out: Path, *options: str) -> subprocess.CompletedProcess[str]:
    assert DCMJ2PNM is not None
    return subprocess.run(
        [DCMJ2PNM, "--write-png", *options, "+Wi", "1", str(source), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def enhanced(tmp_path: Path) -> Path:
    return write_dataset(breast_tomosynthesis(), tmp_path / "bto.dcm")


@pytest.mark.parametrize("frame", [1, 2, 3])
def test_each_frame_agrees_with_dcmj2pnm(tmp_path: Path, enhanced: Path, frame: int) -> None:
    """Within 1 grey level: DCMTK truncates the VOI output, we round to nearest.

    Frames: 1 LINEAR with the identity rescale (and a second window, not used),
    2 LINEAR with intercept -1024, 3 SIGMOID with slope 0.5 and intercept 100.
    """
    if DCMJ2PNM is None:
        pytest.skip("DCMTK's dcmj2pnm is not installed (apt install dcmtk)")
    classic = write_dataset(_classic_frame(frame), tmp_path / "classic.dcm")
    theirs, ours = tmp_path / "dcmtk.png", tmp_path / "ours.png"
    done = _dcmj2pnm(classic, theirs)
    assert done.returncode == 0, done.stderr
    assert cli.main(["render", str(enhanced), str(ours), "--frame", str(frame)]) == 0
    difference = _png(ours) - _png(theirs)
    assert int(np.abs(difference).max()) <= 1
    # The frames really differ: rendering with another frame's values would not agree.
    other = tmp_path / "other.png"
    assert cli.main(["render", str(enhanced), str(other), "--frame", str(frame % 3 + 1)]) == 0
    assert int(np.abs(_png(other) - _png(theirs)).max()) > 1


@pytest.mark.parametrize("frame", [1, 2, 3])
def test_dcmj2pnm_reading_the_functional_groups_agrees(
    tmp_path: Path, enhanced: Path, frame: int
) -> None:
    """``dcmj2pnm +F N +Wi 1`` on the enhanced file itself, when DCMTK reads Frame VOI LUT."""
    if DCMJ2PNM is None:
        pytest.skip("DCMTK's dcmj2pnm is not installed (apt install dcmtk)")
    theirs, ours = tmp_path / "dcmtk.png", tmp_path / "ours.png"
    done = _dcmj2pnm(enhanced, theirs, "+F", str(frame))
    if "0 window(s)" in done.stderr:
        pytest.skip("this DCMTK does not read Frame VOI LUT functional groups (3.6.7 does not)")
    assert done.returncode == 0, done.stderr
    assert cli.main(["render", str(enhanced), str(ours), "--frame", str(frame)]) == 0
    assert int(np.abs(_png(ours) - _png(theirs)).max()) <= 1


def test_a_frame_beyond_the_last_is_refused(
    tmp_path: Path, enhanced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["render", str(enhanced), str(tmp_path / "x.png"), "--frame", "4"]) == 1
    assert capsys.readouterr().err == (
        f"{enhanced}: frame 4 out of range: the image has 3 frame(s)\n"
    )
    assert not (tmp_path / "x.png").exists()
