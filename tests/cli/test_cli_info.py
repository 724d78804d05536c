"""Tests for ``galactoview info`` (text tree, JSON, problems on stderr, exit codes)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom.data import get_testdata_file

from galactoview import cli
from galactoview.paths import sample_dicom_dir
from tests.helpers import make_mg_dataset, sample_images, write_dataset, write_mg
from tests.sr import third_party

#: pydicom test files copied into the mixed folder: name -> expected transfer syntax name
_PYDICOM_IMAGES = {
    "CT_small.dcm": "Explicit VR Little Endian",
    "MR_small_jp2klossless.dcm": "JPEG 2000 Image Compression (Lossless Only)",
    "SC_rgb_rle_2frame.dcm": "RLE Lossless",
    "JPEG2000.dcm": "JPEG 2000 Image Compression",
}


def _sample() -> Path:
    sample = sample_dicom_dir()
    if not sample.is_dir():
        pytest.skip(f"sample study {sample} not present")
    return sample


def _images(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        image
        for patient in document["patients"]
        for study in patient["studies"]
        for series in study["series"]
        for image in series["images"]
    ]


def test_sample_text(capsys: pytest.CaptureFixture[str]) -> None:
    sample = _sample()
    assert cli.main(["info", str(sample)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    lines = captured.out.splitlines()
    assert lines[0].startswith("Patient ")
    assert lines[0].endswith(": 9 image(s)")
    studies = [line for line in lines if line.startswith("  Study ")]
    assert len(studies) == 2
    assert studies[0].startswith("  Study 2026-03-12")  # newest first
    assert studies[1].startswith("  Study 2024-02-20")
    images = [line for line in lines if line.startswith("      #")]
    assert len(images) == 9
    mag = next(line for line in images if "05_LCC_MAG_POST.dcm" in line)
    assert " L CC MAG  2294×1914  JPEG 2000 Image Compression (Lossless Only)  " in mag


def test_sample_json(capsys: pytest.CaptureFixture[str]) -> None:
    sample = _sample()
    assert cli.main(["info", "--json", str(sample)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["problems"] == []
    (patient,) = document["patients"]
    assert [study["study_date"] for study in patient["studies"]] == ["20260312", "20240220"]
    images = _images(document)
    assert len(images) == 9
    assert len({image["sop_instance_uid"] for image in images}) == 9
    for image in images:
        assert Path(image["path"]).is_file()
        assert image["transfer_syntax"] == {
            "uid": "1.2.840.10008.1.2.4.90",
            "name": "JPEG 2000 Image Compression (Lossless Only)",
        }
        assert (image["rows"], image["columns"], image["number_of_frames"]) == (2294, 1914, 1)
        assert image["laterality"] in ("L", "R")
    (mag,) = [image for image in images if image["path"].endswith("05_LCC_MAG_POST.dcm")]
    assert mag["view"] == "L CC MAG"
    assert mag["view_modifiers"] == ["MAG"]
    calibration = mag["calibration"]
    assert calibration["source"] == "magnification-corrected"
    # Imager Pixel Spacing 0.1 mm / Estimated Radiographic Magnification Factor 1.8
    assert calibration["row_spacing_mm"] == pytest.approx(0.1 / 1.8, abs=1e-4)
    assert calibration["column_spacing_mm"] == pytest.approx(0.0556, abs=1e-4)
    assert calibration["magnification"] == pytest.approx(1.8)
    assert isinstance(calibration["label"], str) and calibration["label"]
    assert isinstance(calibration["problems"], list)


def _mixed_folder(folder: Path) -> tuple[list[Path], list[Path]]:
    """Copy pydicom test images plus bad files into ``folder``; return (images, bad)."""
    images = []
    for name in _PYDICOM_IMAGES:
        source = get_testdata_file(name)
        if source is None:
            pytest.skip(f"pydicom test file {name} not installed")
        images.append(Path(shutil.copy(str(source), folder / name)))
    # Named *.dcm so that the scan reports them (other non-DICOM files in folders are
    # skipped silently).
    text = folder / "notes.dcm"
    text.write_text("Not a DICOM file, just some notes.\n" * 10)
    noise = folder / "noise.dcm"
    noise.write_bytes(np.random.default_rng(7).bytes(4096))
    return images, [noise, text]


def test_mixed_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    images, bad = _mixed_folder(tmp_path)
    assert cli.main(["info", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    for path in images:
        assert str(path) in captured.out
    for name, syntax in _PYDICOM_IMAGES.items():
        (line,) = [line for line in captured.out.splitlines() if line.endswith(name)]
        assert f"  {syntax}  " in line
    (rgb,) = [line for line in captured.out.splitlines() if "SC_rgb_rle_2frame" in line]
    assert "  100×100×2  " in rgb
    assert captured.err.splitlines() == [
        f"{path}: not a DICOM file (no 'DICM' prefix after the preamble)" for path in bad
    ]


def test_mixed_folder_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    images, bad = _mixed_folder(tmp_path)
    assert cli.main(["info", "--json", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert sorted(image["path"] for image in _images(document)) == sorted(map(str, images))
    assert [problem["path"] for problem in document["problems"]] == [str(p) for p in bad]
    assert all(problem["archive_member"] is None for problem in document["problems"])
    assert len(captured.err.splitlines()) == 2


def test_nothing_readable_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.dcm").write_text("hello\n")
    missing = tmp_path / "missing"
    assert cli.main(["info", str(tmp_path), str(missing)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"{tmp_path / 'notes.dcm'}: not a DICOM file (no 'DICM' prefix after the preamble)",
        f"{missing}: no such file or folder",
    ]  # each path named once; no extra summary line


def test_an_sr_file_is_named_and_pointed_to_sr_show(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = next(r for r in sample_images() if r.contrast_phase.value == "post").path.parent
    sidecar = next(folder.glob("galactoview-*.sr.json"))
    sr = tmp_path / "marks.dcm"
    assert cli.main(["sr", "export", str(sidecar), str(sr)]) == 0
    capsys.readouterr()
    assert cli.main(["info", str(sr)]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"{sr}: a Comprehensive SR Storage document (TID 1500 measurement report), not an "
        f"image ('galactoview sr show {sr}' lists its marks)"
    ]


def test_an_sr_that_holds_no_marks_is_not_pointed_to_sr_show(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "text.dcm"
    third_party.save(third_party.basic_text_sr(), text)
    assert cli.main(["info", str(text)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{text}: a Basic Text SR, not an image and not a measurement report: holds no marks"
    ]


def test_empty_folder_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The folder itself is the problem: the README promises a line for it (issue 10).
    assert cli.main(["info", "--json", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {
        "patients": [],
        "problems": [
            {"path": str(tmp_path), "archive_member": None, "message": "no DICOM image found"}
        ],
    }
    assert f"{tmp_path}: no DICOM image found\n" in captured.err


def test_folder_with_only_a_text_file_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("no images here\n")
    assert cli.main(["info", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines()[0] == f"{tmp_path}: no DICOM image found"
    assert captured.out == ""


def test_multiframe_size_and_study_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ds = make_mg_dataset(rows=8, columns=6, view="CC", modifiers=("MAG",))
    ds.NumberOfFrames = 3
    ds.PixelData = np.zeros((3, 8, 6), dtype="<u2").tobytes()
    write_dataset(ds, tmp_path / "multi.dcm")
    write_mg(tmp_path / "old.dcm", study_uid="1.2.3.9", study_date="20200101", laterality="R")
    assert cli.main(["info", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Patient Phantom^Jane [GV-TEST-001]: 2 image(s)"
    assert lines[1].startswith("  Study 2024-01-02 Galactography left (")
    assert lines[2] == "    Series 2 MG post-contrast"
    assert lines[3].startswith("      #1 L CC MAG  8×6×3  Explicit VR Little Endian  ")
    assert lines[3].endswith(str(tmp_path / "multi.dcm"))
    assert lines[4].startswith("  Study 2020-01-01 ")
    assert lines[6].startswith("      #1 R CC  64×48  ")


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["info"]) == 2
    assert capsys.readouterr().err.startswith("usage: galactoview info")
    assert cli.main(["info", "x", "--bogus"]) == 2
    assert cli.main(["info", "--help"]) == 0
    assert "--json" in capsys.readouterr().out


def test_info_subprocess_is_qt_free(tmp_path: Path) -> None:
    write_mg(tmp_path / "a.dcm")
    code = (
        "import sys\n"
        "from galactoview.cli import main\n"
        f"code = main(['info', {str(tmp_path)!r}])\n"
        "bad = [m for m in ('PySide6', 'pyqtgraph', 'galactoview.app', 'galactoview.ui')"
        " if m in sys.modules]\n"
        "print(code, bad)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.splitlines()[-1] == "0 []"


def test_explicit_non_dicom_file_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_mg(tmp_path / "good.dcm")
    noise = tmp_path / "noise.bin"
    noise.write_bytes(np.random.default_rng(3).bytes(1000))
    assert cli.main(["info", str(good), str(noise)]) == 0
    captured = capsys.readouterr()
    assert str(good) in captured.out
    assert captured.err == f"{noise}: not a DICOM file (no 'DICM' prefix after the preamble)\n"


def test_zip_member_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_mg(tmp_path / "src" / "a.dcm")
    archive = tmp_path / "study.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(source, "a.dcm")
    assert cli.main(["info", "--json", str(archive)]) == 0
    captured = capsys.readouterr()
    (image,) = _images(json.loads(captured.out))
    assert (image["path"], image["archive_member"]) == (str(archive), "a.dcm")
    assert cli.main(["info", str(archive)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith(f"{archive} [a.dcm]")
