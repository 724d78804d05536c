"""Tests for ``galactoview report PATH... OUT.pdf [--png DIR] [--date YYYY-MM-DD]``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from pydicom import dcmread
from PySide6.QtWidgets import QApplication

from galactoview import cli
from galactoview.paths import sample_dicom_dir
from tests.helpers import write_mg


@pytest.fixture
def sample() -> Path:
    """The bundled sample study's folder."""
    folder = sample_dicom_dir()
    if not folder.is_dir():
        pytest.skip(f"no sample study in {folder}")
    return folder


def test_report_writes_the_pdf_and_the_key_images(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], qapp: QApplication
) -> None:
    # qapp: the suite's QApplication exists first, so the command reuses it rather than
    # creating the QGuiApplication it makes on its own (widget tests need a QApplication).
    out = tmp_path / "report.pdf"
    code = cli.main(["report", str(sample), str(out), "--png", str(tmp_path / "png"),
                     "--date", "2026-03-13"])  # fmt: skip
    assert code == 0
    assert out.read_bytes().startswith(b"%PDF")
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == f"{out}: 5 page(s)"  # report, surgeon's page, a page per key image
    pngs = sorted((tmp_path / "png").glob("*.png"))
    assert [p.name for p in pngs] == ["01_L_CC_3.png", "01_L_CC_MAG_5.png", "01_L_ML_4.png"]
    pdftotext = shutil.which("pdftotext")
    if pdftotext is not None:
        text = subprocess.run([pdftotext, str(out), "-"], capture_output=True, text=True).stdout
        assert "Report date: 2026-03-13" in text


def test_a_study_without_annotations_fails(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prior = sample / "20240220_SCREENING_PRIOR"
    assert cli.main(["report", str(prior), str(tmp_path / "r.pdf")]) == 1
    assert capsys.readouterr().err.strip() == (
        f"{prior}: no annotated study (no sidecar with findings) found"
    )
    assert not (tmp_path / "r.pdf").exists()


def test_missing_path_and_no_images_fail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nothing"
    assert cli.main(["report", str(missing), str(tmp_path / "r.pdf")]) == 1
    assert capsys.readouterr().err.strip() == f"{missing}: no such file or folder"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli.main(["report", str(empty), str(tmp_path / "r.pdf")]) == 1
    assert capsys.readouterr().err.strip() == f"{empty}: no DICOM image found"
    write_mg(tmp_path / "plain" / "a.dcm")
    assert cli.main(["report", str(tmp_path / "plain"), str(tmp_path / "r.pdf")]) == 1
    assert "no annotated study" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["report"],
        ["report", "only.pdf"],
        ["report", "x", "r.pdf", "--date", "2026-13-01"],
        ["report", "x", "r.pdf", "--bogus"],
    ],
)
def test_usage_errors_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(args) == 2
    assert capsys.readouterr().err.startswith("usage: galactoview report")


def test_output_must_be_a_pdf(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.png"
    assert cli.main(["report", str(sample), str(out)]) == 1
    assert capsys.readouterr().err.strip() == f"{out}: the report file must end in .pdf"


def test_a_key_image_that_cannot_be_rendered_is_one_stderr_line(
    sample: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    qapp: QApplication,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The field test: the note "cannot render this image" was only inside the PDF, and
    # the command printed nothing on stderr. Now one line per such key image, exit 0.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    study = tmp_path / "study"
    shutil.copytree(sample / "20260312_DUCTOGRAM_L", study, ignore=shutil.ignore_patterns("*.bak"))
    bad = study / "04_LML_POST.dcm"  # a key image (L ML #4)
    ds = dcmread(bad)
    ds.Rows, ds.Columns, ds.NumberOfFrames = 32767, 32767, "1000"
    ds.save_as(bad)
    out = tmp_path / "report.pdf"
    png = tmp_path / "png"
    code = cli.main(["report", str(study), str(out), "--png", str(png), "--date", "2026-03-13"])
    assert code == 0
    assert out.read_bytes().startswith(b"%PDF")
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0] == f"{out}: 5 page(s)"  # report, surgeon, 3 key images
    # Once, though both the PDF and the PNGs tried to render it.
    (line,) = captured.err.splitlines()
    assert line.startswith(
        f"{bad}: cannot be rendered in the report: the header claims Rows 32767 x"
        " Columns 32767 x 1000 frame(s)"
    )
    assert sorted(p.name for p in png.glob("*.png")) == ["01_L_CC_3.png", "01_L_CC_MAG_5.png"]
    pdftotext = shutil.which("pdftotext")
    if pdftotext is not None:
        text = subprocess.run([pdftotext, str(out), "-"], capture_output=True, text=True).stdout
        assert "cannot render this image: the header claims Rows 32767" in text
