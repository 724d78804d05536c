"""The signed report on paper (pdftotext), its draft watermark, and window == command line."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import unicodedata
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from galactoview import cli
from galactoview.annotations.report import Addendum
from galactoview.reading.hanging import edge_letters, placement
from galactoview.report.content import LoadedReport, load_report
from galactoview.report.written import INVALID_SIGNATURE, written_report
from galactoview.ui.review.report_pdf import watermark_path, write_report_pdf
from galactoview.ui.shell.main_window import MainWindow
from tests.report.signed_sample import REPORT, SIGNATURE, SIGNER, signed_ductogram
from tests.ui.conftest import OpenWindow
from tests.ui.shell.test_workstation import settle

DATE = dt.date(2026, 12, 4)


def _pdftotext() -> str:
    found = shutil.which("pdftotext")
    if found is None:
        pytest.skip("pdftotext (poppler-utils) is not on PATH; .ci/install-system-deps.sh has it")
    return found


def _text(pdf: Path) -> str:
    """The PDF's text, whitespace collapsed (wrapped cells and lines joined)."""
    raw = subprocess.run(
        [_pdftotext(), str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return " ".join(unicodedata.normalize("NFKC", raw).split())


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return signed_ductogram(tmp_path_factory.mktemp("signed"))


def _write(loaded: LoadedReport, out: Path) -> str:
    write_report_pdf(loaded.content, loaded.records, out)
    return _text(out)


def test_the_signed_report_holds_what_the_referrer_and_the_surgeon_need(
    qtbot: QtBot, signed: Path, tmp_path: Path
) -> None:
    _pdftotext()
    loaded = load_report([signed], DATE)
    text = _write(loaded, tmp_path / "signed.pdf")
    assert "Single-duct discharge from the left nipple for three weeks" in text  # indication
    assert "orifice at 2 o'clock on the nipple" in text
    assert "Cannulated orifice: 2 o'clock" in text  # the nipple diagram's label
    (study,) = loaded.content.studies
    for row in study.rows:
        assert row.distance.endswith(" cm")
        for value in (row.short_id, row.clock, row.distance):
            assert value in text
    assert "5.8 cm" in text  # FD-1, 58 mm from the nipple
    assert "BI-RADS 4A: Low suspicion" in text
    assert "Duct excision (microdochectomy)" in text
    assert f"Electronically signed by {SIGNER}, Brustzentrum Süd, 2026-12-04 18:30" in text
    # The duct length is the projected one, said so beside the 3-D distance it differs from.
    assert (
        "FD-1: 55 mm along the traced duct DS-1 → DS-2 on the L CC #3 (projected, not "
        "corrected for depth; the 3-D distance from the nipple is 5.8 cm)"
    ) in text
    assert "mm of duct from the orifice" not in text
    assert "1 Sizes measured at 0.0925 mm per pixel" in text  # NFKC: ¹ is 1
    assert "DRAFT" not in text


def _grey(pdf: Path, page: int, folder: Path) -> float:
    """Return the mean darkness of a page's centre rendered at 20 dpi (0 white, 255 black)."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("pdftoppm (poppler-utils) is not on PATH")
    prefix = folder / f"{pdf.stem}-{page}"
    subprocess.run(
        [pdftoppm, "-r", "20", "-gray", "-f", str(page), "-l", str(page), str(pdf), str(prefix)],
        check=True,
    )
    (png,) = folder.glob(f"{prefix.name}*.pgm")
    pixels = np.asarray(Image.open(png))
    rows, columns = pixels.shape
    centre = pixels[int(rows * 0.35) : int(rows * 0.65), int(columns * 0.2) : int(columns * 0.8)]
    return 255.0 - float(centre.mean())


def test_an_unsigned_report_is_marked_draft(qtbot: QtBot, signed: Path, tmp_path: Path) -> None:
    _pdftotext()
    loaded = load_report([signed_ductogram(tmp_path, signed=False)], DATE)
    text = _write(loaded, tmp_path / "draft.pdf")
    pages = write_report_pdf(loaded.content, loaded.records, tmp_path / "draft.pdf")
    assert text.count("DRAFT — not signed") == pages  # said on every page
    assert "NOT SIGNED — this report is a DRAFT" in text
    assert "Electronically signed" not in text
    # The diagonal watermark is a picture, not text: no stray letters of it in the text
    # (the findings table's cells are read whole), and "DRAFT" comes from the footer.
    raw = subprocess.run(
        [_pdftotext(), str(tmp_path / "draft.pdf"), "-"], capture_output=True, text=True
    ).stdout
    # (A, F and R are also the traced-duct panels' direction letters, so not sought.)
    stray = [line for line in raw.splitlines() if line.strip() in set("DTnotsigd") | {"ig"}]
    assert stray == []
    _write(load_report([signed], DATE), tmp_path / "signed.pdf")
    # The surgeon's page is the same but for the diagonal watermark across it.
    draft_grey = _grey(tmp_path / "draft.pdf", 2, tmp_path)
    assert draft_grey > _grey(tmp_path / "signed.pdf", 2, tmp_path) + 1.0


def _window_and_command_print_alike(
    open_window: OpenWindow,
    qtbot: QtBot,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    *,
    suggested: bool,
) -> tuple[MainWindow, str]:
    """Open a signed ductogram, export its report from the window and with ``report``.

    Asserts the two PDFs say the same and that the review mode shows the report's rows;
    returns the window (in review mode) and the text of the PDF.
    """
    _pdftotext()
    folder = signed_ductogram(tmp_path / "study", suggested=suggested)
    window = open_window([folder])
    settle(qtbot, window)
    from_window = window.export_report(tmp_path / "window.pdf")
    assert from_window is not None
    assert cli.main(["report", str(folder), str(tmp_path / "cli.pdf")]) == 0
    capsys.readouterr()
    paper = _text(tmp_path / "cli.pdf")
    assert _text(from_window) == paper
    window.set_review_mode(True)
    (study,) = load_report([folder], DATE).content.studies
    assert window.review.rows() == [row.cells() for row in study.rows]
    return window, paper


def test_the_window_prints_what_the_command_prints(
    open_window: OpenWindow,
    qtbot: QtBot,
    qapp: QApplication,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    window, paper = _window_and_command_print_alike(
        open_window, qtbot, tmp_path, capsys, suggested=False
    )
    assert "Electronically signed by" in paper
    summary = window.review.summary.text()
    assert f"Signed — Electronically signed by {SIGNER}" in summary
    assert "BI-RADS 4A: Low suspicion" in summary
    assert "Impression: Intraductal filling defect at 7 o'clock" in summary
    assert "Recommendation: Duct excision (microdochectomy); Ultrasound-guided biopsy" in summary


def test_accepted_suggestions_are_marked_alike_on_paper_and_in_the_review(
    open_window: OpenWindow,
    qtbot: QtBot,
    qapp: QApplication,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """FD-1, DS-1 and DS-2 started as suggestions: "§" after their ids and one footnote."""
    window, paper = _window_and_command_print_alike(
        open_window, qtbot, tmp_path, capsys, suggested=True
    )
    note = (
        "§ started as an automatic suggestion (GalactoView duct-tree suggestion 1.0) and was "
        f"accepted by {SIGNER}"
    )
    assert paper.count(note) == 2  # under the findings table and on the surgeon's page
    assert "FD-1§ Intraluminal filling defect" in paper  # the table's id cell, the lesion line
    assert "FD-1: 55 mm along the traced duct DS-1§ → DS-2§ on the L CC #3" in paper
    assert "CY-1§" not in paper and "DE-1§" not in paper
    assert [row[0] for row in window.review.rows()] == ["FD-1§", "CY-1", "DE-1"]
    table = window.review.table
    tips = [item.toolTip() for row in (0, 1) if (item := table.item(row, 0)) is not None]
    assert tips == [f"FD-1§\n{note}", "CY-1"]


def test_a_word_longer_than_the_line_is_broken_not_clipped(
    qtbot: QtBot, signed: Path, tmp_path: Path
) -> None:
    _pdftotext()
    loaded = load_report([signed], DATE)
    (study,) = loaded.content.studies
    impression = "Filling defect, see " + "X" * 160
    long = replace(study, written=replace(study.written, impression=impression))
    content = replace(loaded.content, studies=(long,))
    raw = _write(LoadedReport(content, loaded.records, loaded.problems), tmp_path / "long.pdf")
    # Lines joined: every X is on the page (a clipped line loses those past the edge).
    assert "X" * 160 in raw.replace(" ", "")
    assert "Filling defect, see" in raw


@pytest.mark.parametrize("text", ["DRAFT — not signed", "DRAFT — addendum not signed"])
def test_the_watermark_lies_inside_the_page_along_its_diagonal(qtbot: QtBot, text: str) -> None:
    width, height = 2197.0, 3225.0  # A4 less 12 mm margins at 300 dpi
    box = watermark_path(text, width, height).boundingRect()
    assert box.left() > 0 and box.top() > 0
    assert box.right() < width and box.bottom() < height
    assert box.width() > 0.7 * width and box.height() > 0.7 * height  # large: across the page
    assert abs(box.center().x() - width / 2) < 0.02 * width  # centred on the page
    assert abs(box.center().y() - height / 2) < 0.02 * height


def test_verified_without_a_verifying_observer_is_no_valid_signature(
    qtbot: QtBot, tmp_path: Path
) -> None:
    _pdftotext()
    folder = signed_ductogram(tmp_path)
    (sidecar,) = folder.glob("*.sr.json")
    stored = json.loads(sidecar.read_text(encoding="utf-8"))
    del stored["0040A073"]  # Verifying Observer Sequence; the flag stays VERIFIED
    assert stored["0040A493"]["Value"] == ["VERIFIED"]
    sidecar.write_text(json.dumps(stored), encoding="utf-8")
    loaded = load_report([folder], DATE)
    (study,) = loaded.content.studies
    assert study.written.signature is None
    pages = write_report_pdf(loaded.content, loaded.records, tmp_path / "unnamed.pdf")
    text = _text(tmp_path / "unnamed.pdf")
    assert "unnamed reader" not in text and "Electronically signed" not in text
    assert INVALID_SIGNATURE in text  # page 1's signature block
    assert text.count("DRAFT — not a valid signature: no verifying observer") == pages
    assert _grey(tmp_path / "unnamed.pdf", 2, tmp_path) > 1.0  # the draft watermark


def test_the_traced_duct_panels_have_the_key_images_direction_letters(
    qtbot: QtBot, signed: Path, tmp_path: Path
) -> None:
    loaded = load_report([signed], DATE)
    write_report_pdf(loaded.content, loaded.records, tmp_path / "letters.pdf")
    raw = subprocess.run(
        [_pdftotext(), "-f", "2", "-l", "2", str(tmp_path / "letters.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    single = [line.strip() for line in raw.splitlines() if line.strip().isalpha()]
    by_label = {r.instance_number: r for r in loaded.records}
    expected: list[str] = []
    for number in (3, 4):  # the L CC #3 and L ML #4 panels
        record = by_label[number]
        letters = edge_letters(record.patient_orientation, placement(record)[0])
        assert letters is not None
        expected += [letters.left, letters.right, letters.top, letters.bottom]
    assert sorted(expected) == sorted(c for c in single if len(c) == 1)
    assert set(expected) == set("LRAPHF")  # CC: L/R and A/P; ML: H/F and A/P


@pytest.mark.parametrize("signed_addendum", [True, False])
def test_an_amended_report_says_so_at_the_top_and_on_every_page(
    qtbot: QtBot, signed: Path, tmp_path: Path, signed_addendum: bool
) -> None:
    _pdftotext()
    loaded = load_report([signed], DATE)
    (study,) = loaded.content.studies
    report = replace(REPORT, addendum=Addendum("2.25.77", "Second defect at 2 o'clock."))
    written = written_report(report, SIGNATURE if signed_addendum else None)
    content = replace(loaded.content, studies=(replace(study, written=written),))
    pdf = tmp_path / "amended.pdf"
    pages = write_report_pdf(content, loaded.records, pdf)
    first = _page_text(pdf, 1)
    assert first.startswith(f"Galactography (ductography) report {written.amended}")
    if signed_addendum:
        assert f"AMENDED — addendum signed by {SIGNER} on 2026-12-04 18:30 (below)" in first
    else:
        assert "AMENDED — this report has an addendum (below), not signed yet" in first
    assert "to the report signed as SR revision 2.25.77" in first
    assert _text(pdf).count("with addendum") == pages


def _page_text(pdf: Path, page: int) -> str:
    raw = subprocess.run(
        [_pdftotext(), "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return " ".join(unicodedata.normalize("NFKC", raw).split())
