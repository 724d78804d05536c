"""The report PDF (rendered by poppler's pdftoppm / pdftotext) and the annotated key-image PNGs."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import unicodedata
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pytestqt.qtbot import QtBot

from galactoview.dicom.loading import ImageRecord
from galactoview.paths import sample_dicom_dir
from galactoview.reading.hanging import placement
from galactoview.report.content import DISCLAIMER, LoadedReport, load_report
from galactoview.ui.review.report_pdf import marked_image, write_key_images_png, write_report_pdf

DATE = dt.date(2026, 3, 13)


@pytest.fixture(scope="module")
def loaded() -> LoadedReport:
    """The report of the sample study."""
    folder = sample_dicom_dir()
    if not folder.is_dir():
        pytest.skip(f"no sample study in {folder}")
    return load_report([folder], DATE)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(
            f"{name} (poppler-utils) is not on PATH; .ci/install-system-deps.sh installs it"
        )
    return found


def test_pdf_renders_and_holds_the_table_values(
    qtbot: QtBot, loaded: LoadedReport, tmp_path: Path
) -> None:
    pdftotext, pdftoppm = _tool("pdftotext"), _tool("pdftoppm")
    out = tmp_path / "report.pdf"
    pages = write_report_pdf(loaded.content, loaded.records, out)
    assert pages == 5  # report, surgeon's page, a page per key image (3) with its close-ups
    raw = subprocess.run(
        [pdftotext, str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    text = " ".join(unicodedata.normalize("NFKC", raw).split())  # ligatures, wrapped cells
    study = loaded.content.studies[0]
    fd1 = next(r for r in study.rows if r.short_id == "FD-1")
    for value in ("FD-1", "7 o'clock", "LIQ", "middle", fd1.distance):
        assert value in text
    # A cell wrapped over lines comes out interleaved with its neighbours' lines.
    assert "Intraductal" in text and "papilloma" in text
    assert "5.8 cm" in text
    assert study.sr_sop_instance_uid in text
    assert text.count(DISCLAIMER) >= pages
    assert f"Page 4/{pages}" in text
    # One close-up per finding on each key image, its magnification stated under it.
    assert text.count("close-up ×") == 9
    assert "FD-1: close-up ×" in text
    assert DATE.isoformat() in text
    subprocess.run([pdftoppm, "-r", "30", "-png", str(out), str(tmp_path / "page")], check=True)
    rendered = sorted(tmp_path.glob("page-*.png"))
    assert len(rendered) == pages
    first = np.asarray(Image.open(rendered[0]).convert("L"))
    assert first.shape[0] > first.shape[1]  # portrait
    assert (first < 128).mean() > 0.005  # something is drawn


def _marked_pixel(record: ImageRecord, point: tuple[float, float]) -> tuple[int, int]:
    """Return (x, y) of a SCOORD point in the hung (flipped) image."""
    flip, _ = placement(record)
    column, row = point
    x = record.columns - column if flip.horizontal else column
    y = record.rows - row if flip.vertical else row
    return int(x), int(y)


def test_png_key_images_carry_the_marks(qtbot: QtBot, loaded: LoadedReport, tmp_path: Path) -> None:
    written = write_key_images_png(loaded.content, loaded.records, tmp_path / "png")
    study = loaded.content.studies[0]
    assert [p.name for p in written] == ["01_L_CC_3.png", "01_L_ML_4.png", "01_L_CC_MAG_5.png"]
    key = study.key_images[0]
    record = next(r for r in loaded.records if r.sop_instance_uid == key.sop_instance_uid)
    cyst = next(m for m in key.marks if m.short_id == "CY-1")
    x, y = _marked_pixel(record, cyst.region.points[1])  # a point of the circle's perimeter
    marked = np.asarray(Image.open(written[0]).convert("RGB")).astype(int)
    assert marked.shape[:2] == (record.rows, record.columns)
    plain = marked_image(replace(key, marks=(), nipples=()), record)
    colour = plain.pixelColor(x, y)
    unmarked = np.array([colour.red(), colour.green(), colour.blue()])
    assert np.abs(marked[y, x] - unmarked).sum() > 60
    assert marked[y, x][1] > marked[y, x][0]  # the cyst's green


def test_a_finding_is_labelled_once_per_key_image(
    qtbot: QtBot, loaded: LoadedReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Bidirectional's two axes (two regions of one finding on one image): one label."""
    from PySide6.QtGui import QPainter

    key = loaded.content.studies[0].key_images[0]
    record = next(r for r in loaded.records if r.sop_instance_uid == key.sop_instance_uid)
    cyst = next(m for m in key.marks if m.short_id == "CY-1")
    shifted = tuple((c + 40.0, r + 40.0) for c, r in cyst.region.points)
    second = replace(cyst, region=replace(cyst.region, points=shifted))
    texts: list[str] = []
    original = QPainter.drawText

    def recording(painter: QPainter, *args: object) -> None:
        texts.append(str(args[-1]))
        original(painter, *args)  # type: ignore[call-overload]

    monkeypatch.setattr(QPainter, "drawText", recording)
    marked_image(replace(key, marks=(*key.marks, second)), record)
    assert texts.count("CY-1") == 1
    frame = {"N", "P", "A", "L", "R", "10 mm", "20 mm"}  # nipple, letters, scale bar
    assert sorted(t for t in texts if t not in frame) == sorted({m.short_id for m in key.marks})
