"""Key images of the report: letters, scale bar, labels without collisions, close-ups."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from galactoview.dicom.calibration import Calibration, CalibrationSource
from galactoview.dicom.loading import ImageRecord
from galactoview.paths import sample_dicom_dir
from galactoview.reading.hanging import edge_letters, placement
from galactoview.reading.label_layout import Rect
from galactoview.report.content import KeyImage, LoadedReport, load_report
from galactoview.ui.review.key_images import (
    NO_CALIBRATION_TEXT,
    KeyImageDrawing,
    close_up_factor,
    key_image_drawings,
    scale_bar_mm,
)
from galactoview.ui.review.report_pdf import write_report_pdf

DATE = dt.date(2026, 3, 13)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> LoadedReport:
    """The report of a copy of the sample study."""
    folder = sample_dicom_dir()
    if not folder.is_dir():
        pytest.skip(f"no sample study in {folder}")
    copy = tmp_path_factory.mktemp("sample") / "dicom"
    shutil.copytree(folder, copy)
    return load_report([copy], DATE)


def _record(loaded: LoadedReport, uid: str) -> ImageRecord:
    return next(r for r in loaded.records if r.sop_instance_uid == uid)


def _all_drawings(loaded: LoadedReport) -> list[tuple[str, KeyImageDrawing]]:
    result = []
    for study in loaded.content.studies:
        for key in study.key_images:
            full, close_ups = key_image_drawings(key, _record(loaded, key.sop_instance_uid))
            result.append((key.view_label, full))
            result.extend((f"{key.view_label} close-up {c.short_id}", c) for c in close_ups)
    return result


def test_no_two_labels_overlap_on_any_key_image_of_the_sample_report(
    qtbot: QtBot, loaded: LoadedReport
) -> None:
    drawings = _all_drawings(loaded)
    assert len(drawings) == 3 + 3 * 3  # three key images, three findings on each
    for name, drawing in drawings:
        labels = drawing.labels.placed
        canvas = Rect(0, 0, drawing.image.width(), drawing.image.height())
        assert drawing.labels.unplaced == (), name
        for a, b in itertools.combinations(labels, 2):
            assert not a.box.intersects(b.box), (name, a.key, b.key)
        frame = [*drawing.letter_boxes, drawing.scale_bar.plate]
        for label in labels:
            assert canvas.contains(label.box), (name, label.key)
            assert not label.covers_mark, (name, label.key)
            assert not any(label.box.intersects(f) for f in frame), (name, label.key)
            if not label.key.startswith("nipple"):
                assert label.leader is not None, (name, label.key)  # the arrow to the lesion
    full = dict(drawings)["L ML #4"]
    assert {label.key for label in full.labels.placed} == {"FD-1", "CY-1", "DE-1", "nipple 1"}


def test_a_dense_cluster_near_the_nipple_keeps_labels_apart(
    qtbot: QtBot, loaded: LoadedReport
) -> None:
    """FD-1, FD-2, DS-1 and DE-1 within a few mm of the nipple, as a reader marked them."""
    key = loaded.content.studies[0].key_images[1]  # L ML
    fd1 = next(m for m in key.marks if m.short_id == "FD-1")
    nipple = key.nipples[0]
    extra = []
    for index, short_id in enumerate(("FD-2", "DS-1", "FD-3", "FD-4")):
        dx = 20.0 + 18.0 * index
        points = tuple(
            (nipple[0] - dx + c - fd1.region.points[0][0], nipple[1] + r - fd1.region.points[0][1])
            for c, r in fd1.region.points
        )
        extra.append(replace(fd1, short_id=short_id, region=replace(fd1.region, points=points)))
    crowded = replace(key, marks=(*key.marks, *extra))
    full, close_ups = key_image_drawings(crowded, _record(loaded, key.sop_instance_uid))
    assert len(close_ups) == 7
    for drawing in (full, *close_ups):
        placed = drawing.labels.placed
        for a, b in itertools.combinations(placed, 2):
            assert not a.box.intersects(b.box), (drawing.short_id, a.key, b.key)
    assert {p.key for p in full.labels.placed} >= {"FD-1", "FD-2", "DS-1", "FD-3", "FD-4", "DE-1"}


def test_orientation_letters_after_the_hanging_flips(qtbot: QtBot, loaded: LoadedReport) -> None:
    """L CC stored A\\R hangs unflipped; the prior R CC stored A\\L is flipped horizontally."""
    left_cc = loaded.content.studies[0].key_images[0]
    record = _record(loaded, left_cc.sop_instance_uid)
    full, _ = key_image_drawings(left_cc, record, close_ups=False)
    assert full.letters is not None
    letters = full.letters
    assert (letters.left, letters.right, letters.top, letters.bottom) == ("P", "A", "L", "R")
    right_cc = next(r for r in loaded.records if r.view.label == "R CC")
    assert str(right_cc.patient_orientation.row) == "A"  # type: ignore[union-attr]
    plain = KeyImage(right_cc.sop_instance_uid, 1, "R CC", ())
    drawn, close_ups = key_image_drawings(plain, right_cc)
    assert close_ups == ()
    assert drawn.letters == edge_letters(right_cc.patient_orientation, placement(right_cc)[0])
    assert drawn.letters is not None
    flipped = drawn.letters
    assert (flipped.left, flipped.right, flipped.top, flipped.bottom) == ("A", "P", "R", "L")
    # The plates sit at the middle of the edges, inside the image.
    left_box, right_box, top_box, bottom_box = drawn.letter_boxes
    width, height = drawn.image.width(), drawn.image.height()
    assert left_box.left < width * 0.05 and right_box.right > width * 0.95
    assert top_box.top < height * 0.05 and bottom_box.bottom > height * 0.95
    assert abs(left_box.centre[1] - height / 2) < 1 and abs(top_box.centre[0] - width / 2) < 1


def test_scale_bar_is_its_length_over_the_pixel_spacing(qtbot: QtBot, loaded: LoadedReport) -> None:
    key = loaded.content.studies[0].key_images[0]
    record = _record(loaded, key.sop_instance_uid)
    assert record.calibration is not None and record.calibration.column_spacing_mm is not None
    spacing = record.calibration.column_spacing_mm
    full, close_ups = key_image_drawings(key, record)
    bar = full.scale_bar
    assert bar.length_mm in (10.0, 20.0)
    assert bar.length_px == pytest.approx(bar.length_mm / spacing)
    assert bar.text == f"{bar.length_mm:g} mm"
    for close_up in close_ups:
        enlarged = close_up.scale_bar
        assert enlarged.length_mm is not None
        expected = enlarged.length_mm * close_up.magnification / spacing
        assert enlarged.length_px == pytest.approx(expected)
        assert enlarged.length_px <= close_up.image.width()


def test_no_calibration_no_bar(qtbot: QtBot, loaded: LoadedReport) -> None:
    key = loaded.content.studies[0].key_images[0]
    unknown = Calibration(None, None, CalibrationSource.UNKNOWN, None, "unknown")
    record = replace(_record(loaded, key.sop_instance_uid), calibration=unknown)
    full, close_ups = key_image_drawings(key, record)
    for drawing in (full, *close_ups):
        assert drawing.scale_bar.length_mm is None
        assert drawing.scale_bar.length_px == 0.0
        assert drawing.scale_bar.text == NO_CALIBRATION_TEXT


def test_close_ups_state_their_magnification(qtbot: QtBot, loaded: LoadedReport) -> None:
    key = loaded.content.studies[0].key_images[0]
    record = _record(loaded, key.sop_instance_uid)
    _, close_ups = key_image_drawings(key, record)
    assert [c.short_id for c in close_ups] == ["FD-1", "CY-1", "DE-1"]
    for close_up in close_ups:
        factor = close_up.magnification
        assert factor >= 2
        assert close_up.caption == f"{close_up.short_id} ×{factor}"
        assert close_up.image.width() == close_up.crop.width * factor
        assert close_up.image.height() == close_up.crop.height * factor
        whole = Rect(0, 0, record.columns, record.rows)
        assert whole.contains(close_up.crop)
        caption = next(lb for lb in close_up.labels.placed if lb.key == close_up.short_id)
        assert caption.leader is not None


def test_close_up_factor() -> None:
    small = Rect(0, 0, 20, 20)
    assert close_up_factor(small, 600, 2000, 2000) == 8
    assert close_up_factor(Rect(0, 0, 60, 30), 600, 2000, 2000) == 4  # 60 × 4 ≤ 240
    assert close_up_factor(Rect(0, 0, 200, 10), 600, 2000, 2000) == 2  # 400 ≤ 480
    assert close_up_factor(Rect(0, 0, 500, 10), 600, 2000, 2000) == 1
    # ×2 would crop 300 px of an image 200 px wide.
    assert close_up_factor(Rect(0, 0, 100, 100), 600, 200, 200) == 1


def test_more_close_ups_than_fit_go_on_a_continuation_page(
    qtbot: QtBot, loaded: LoadedReport, tmp_path: Path
) -> None:
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.skip("pdftotext (poppler-utils) is not on PATH")
    study = loaded.content.studies[0]
    key = study.key_images[0]
    cyst = next(m for m in key.marks if m.short_id == "CY-1")
    extra = tuple(
        replace(
            cyst,
            short_id=f"CY-{n}",
            region=replace(
                cyst.region, points=tuple((c, r - 150.0 * n) for c, r in cyst.region.points)
            ),
        )
        for n in range(2, 7)
    )
    crowded = replace(key, marks=(*key.marks, *extra))  # 8 findings on the L CC
    content = replace(loaded.content, studies=(replace(study, key_images=(crowded,)),))
    out = tmp_path / "report.pdf"
    # report, surgeon's page, image + 6 close-ups, 2 more
    assert write_report_pdf(content, loaded.records, out) == 4
    text = subprocess.run(
        [pdftotext, str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "close-ups (continued)" in text
    assert text.count("close-up ×") == 8


def test_scale_bar_lengths() -> None:
    assert scale_bar_mm(None, 1000, (20.0, 10.0)) is None  # never a number uncalibrated
    assert scale_bar_mm(0.1, 1000, (20.0, 10.0)) == 20.0  # 200 px of 1000
    assert scale_bar_mm(0.1, 400, (20.0, 10.0)) == 10.0  # 200 px would pass a third
    assert scale_bar_mm(1.0, 5, (10.0, 5.0, 2.0, 1.0)) == 1.0  # the last one, 1 px of 5
    assert scale_bar_mm(1.0, 0.5, (10.0, 5.0, 2.0, 1.0)) is None  # not even that
