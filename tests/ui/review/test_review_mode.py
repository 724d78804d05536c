"""Surgeon review mode: every located finding with side, o'clock, quadrant, depth and distance."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QAction, QImage, QPainter
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

# isort: split

from galactoview.app import create_main_window
from galactoview.dicom.loading import scan
from galactoview.dicom.mammography import Laterality
from galactoview.report.content import PictogramMark
from galactoview.ui.review.pictograms import paint_clock_face
from galactoview.ui.review.review_mode import FINDING_COLUMN_PX, REVIEW_COLUMNS
from galactoview.ui.shell import main_window
from galactoview.ui.shell.main_window import MainWindow
from galactoview.ui.shell.settings import Settings
from galactoview.ui.viewer.decoding import ImageDecoder, decode_image
from galactoview.ui.viewer.viewport import MouseMode
from tests.helpers import sample_images
from tests.ui.annotate.test_annotation_saver import copy_ductogram, mark
from tests.ui.conftest import OpenWindow
from tests.ui.shell.test_workstation import settle

TRUTH = json.loads((Path(__file__).parents[3] / "sample_data" / "ground_truth.json").read_text())


def marking_tools(window: MainWindow) -> list[QAction]:
    """Return the actions choosing a marking tool (select, point ... nipple)."""
    return [a for name, a in window.named_actions.items() if name.startswith("annotate_")]


def annotated_folder(tmp_path: Path) -> Path:
    """Copy the sample ductogram with its annotated sidecar into tmp_path."""
    folder = copy_ductogram(tmp_path)
    source = next(r for r in sample_images() if r.contrast_phase.value == "post").path.parent
    for sidecar in source.glob("galactoview-*.sr.json"):
        shutil.copy(sidecar, folder / sidecar.name)
    return folder


def annotated_copy(open_window: OpenWindow, qtbot: QtBot, tmp_path: Path) -> MainWindow:
    """Open a copy of the sample ductogram with its annotated sidecar."""
    window = open_window([annotated_folder(tmp_path)])
    settle(qtbot, window)
    return window


def test_review_mode_lists_what_a_surgeon_needs(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window = annotated_copy(open_window, qtbot, tmp_path)
    window.set_annotation_tool(window.annotation_tool)
    QTest.keyClick(window, Qt.Key.Key_F9)
    assert window.is_review_mode()
    assert not window.review_dock.isHidden() and window.findings_dock.isHidden()
    assert window.mouse_mode is MouseMode.WINDOW
    assert not any(a.isEnabled() for a in marking_tools(window))
    rows = {row[0]: row for row in window.review.rows()}
    lesions = {lesion["id"]: lesion for lesion in TRUTH["lesions"]}
    for short_id, lesion_id in (("FD-1", "defect-1"), ("CY-1", "cyst-1"), ("DE-1", "ectasia-1")):
        row = rows[short_id]
        truth = lesions[lesion_id]
        assert row[2] == "Left"
        assert row[3] == f"{truth['clock_hour']} o'clock"
        assert row[4] == truth["quadrant"]
        assert row[6].endswith(f" cm, {truth['depth_third']} third")
        distance = 10 * float(row[5].split()[0])
        assert abs(distance - truth["distance_from_nipple_mm"]) <= max(
            5.0, 0.1 * truth["distance_from_nipple_mm"]
        )
    assert rows["FD-1"][1] == "Intraluminal filling defect — Intraductal papilloma"
    clock, depth = window.review.pictograms[Laterality.LEFT]
    assert sorted(mark.short_id for mark in depth.marks) == ["CY-1", "DE-1", "FD-1"]
    assert sorted(mark.short_id for mark in clock.marks) == ["CY-1", "DE-1", "FD-1"]
    assert window.review.pictograms[Laterality.RIGHT][0].marks == ()
    QTest.keyClick(window, Qt.Key.Key_F9)
    assert not window.is_review_mode() and window.review_dock.isHidden()
    assert all(a.isEnabled() for a in marking_tools(window))


def test_clicking_a_row_shows_the_finding(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window = annotated_copy(open_window, qtbot, tmp_path)
    window.set_review_mode(True)
    with qtbot.waitSignal(window.review.finding_clicked) as clicked:
        window.review.table.cellClicked.emit(0, 0)
    _uid, sop = clicked.args
    assert window.viewport.record is not None
    assert window.viewport.record.sop_instance_uid == sop
    assert window.workspace.selected is None  # read-only: no handles appear


def test_clock_face_puts_three_oclock_on_the_viewers_right(qtbot: QtBot) -> None:
    image = QImage(400, 440, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    from PySide6.QtGui import QColor

    mark = PictogramMark(Laterality.LEFT, 90.0, 50.0, 0.5, "X-1", "test")
    paint_clock_face(
        painter,
        QRectF(0, 0, 400, 440),
        Laterality.LEFT,
        [mark],
        colour=lambda _m: QColor(255, 0, 0),
    )
    painter.end()
    reds = [
        (x, y)
        for y in range(image.height())
        for x in range(0, image.width(), 2)
        if QColor(image.pixel(x, y)).red() > 200
        and QColor(image.pixel(x, y)).green() < 60
        and QColor(image.pixel(x, y)).blue() < 60
    ]
    assert reds, "the mark was not painted"
    mean_x = sum(x for x, _ in reds) / len(reds)
    mean_y = sum(y for _, y in reds) / len(reds)
    assert mean_x > 200 + 40  # right of the centre
    assert abs(mean_y - (440 + 30) / 2) < 40  # level with the centre


def test_the_report_is_exported_from_the_window(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    import shutil as shell

    window = annotated_copy(open_window, qtbot, tmp_path)
    out = window.export_report(tmp_path / "report.pdf")
    assert out is not None and out.read_bytes().startswith(b"%PDF")
    if shell.which("pdftotext") is None:
        return  # the text check needs poppler-utils (make test installs it as root)
    import subprocess

    text = subprocess.run(
        ["pdftotext", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "FD-1" in text and "7 o" in text and "LIQ" in text


def test_oblique_views_get_a_suggested_pectoral_line(open_window: OpenWindow, qtbot: QtBot) -> None:
    window = open_window([Path(__file__).parents[3] / "sample_data" / "dicom"])
    window.session.hang_prior_mammography()
    settle(qtbot, window)
    obliques = [
        v.record.sop_instance_uid
        for v in window.hanging_view.viewports
        if v.record is not None and v.record.view.short_name == "MLO"
    ]
    assert len(obliques) == 2
    assert all(window.workspace.chest_wall(uid) is not None for uid in obliques)
    assert window.workspace.dirty_studies() == ()  # a suggestion is not an edit


def test_review_mode_is_not_restored_at_start_and_then_shows_every_finding(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path, settings: Settings
) -> None:
    first = annotated_copy(open_window, qtbot, tmp_path)
    first.resize(1400, 900)  # wide: its layout is saved (a small window's is not)
    settle(qtbot, first)
    folder = first.records[0].path.parent
    first.close()  # quits marking: the dock layout goes to the settings
    marking = settings.bytes_value("window/marking_layout")
    assert marking is not None
    first = open_window([folder])
    first.resize(1400, 900)
    settle(qtbot, first)
    first.set_review_mode(True)
    assert not first.review_dock.isHidden() and first.findings_dock.isHidden()
    first.close()  # quits in review mode: the marking layout saved before stays
    assert settings.bytes_value("window/marking_layout") == marking
    second = open_window([folder])  # the same settings object
    second.resize(1400, 900)
    settle(qtbot, second)
    assert not second.is_review_mode()
    assert second.review_dock.isHidden()
    assert not second.findings_dock.isHidden() and not second.finding_palette.isHidden()
    assert all(a.isEnabled() for a in marking_tools(second))
    second.set_review_mode(True)
    marked = [finding.short_id for _study, finding in second.workspace.all_findings()]
    assert marked == ["FD-1", "CY-1", "DE-1"]  # every finding of the sample's sidecar
    assert [row[0] for row in second.review.rows()] == marked


def test_the_review_shows_the_current_findings_whenever_it_is_visible(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window = annotated_copy(open_window, qtbot, tmp_path)
    assert window.review_dock.isHidden()
    mark(window)  # edited while the review is hidden
    window.review_dock.show()  # shown by other means than F9 (as restoreState did)
    assert [row[0] for row in window.review.rows()] == ["FD-1", "CY-1", "DE-1", "CY-2"]
    window.workspace.undo_stack.undo()  # a change while it is visible
    assert [row[0] for row in window.review.rows()] == ["FD-1", "CY-1", "DE-1"]


def test_review_turned_on_before_the_window_is_shown_lists_the_findings(
    qtbot: QtBot, tmp_path: Path, settings: Settings
) -> None:
    folder = annotated_folder(tmp_path)
    decoder = ImageDecoder(decode=decode_image)
    window = create_main_window(scan([folder]), decoder, settings)  # as `--review` does
    qtbot.addWidget(window)
    window.set_review_mode(True)
    window.show()
    qtbot.waitExposed(window)
    settle(qtbot, window)
    assert window.is_review_mode() and not window.findings_dock.isVisible()
    assert [row[0] for row in window.review.rows()] == ["FD-1", "CY-1", "DE-1"]


def test_key_images_left_out_of_the_report_are_listed_in_the_problems_panel(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = annotated_copy(open_window, qtbot, tmp_path)
    from galactoview.ui.review.report_pdf import write_report_pdf as real

    def one_image_unrenderable(
        content: object, records: object, out: Path, problems: list[str] | None = None
    ) -> int:
        assert problems is not None  # the window collects what is left out
        problems.append("cc.dcm: cannot be rendered in the report: truncated pixel data")
        return real(content, records, out, problems)  # type: ignore[arg-type]

    monkeypatch.setattr(main_window, "write_report_pdf", one_image_unrenderable)
    assert window.export_report(tmp_path / "report.pdf") is not None
    assert (
        "cc.dcm: cannot be rendered in the report: truncated pixel data"
        in window.problems_dock.messages()
    )


def test_the_export_dialog_suggests_a_named_file_outside_the_study_folder(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: the export dialog opened in the home folder without a file name."""
    window = annotated_copy(open_window, qtbot, tmp_path)
    suggested: list[str] = []

    def dialog(_parent: object, _title: str, path: str, _filter: str) -> tuple[str, str]:
        suggested.append(path)
        return str(tmp_path / "chosen" / "mine.pdf"), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    (tmp_path / "chosen").mkdir()
    assert window.export_report() == tmp_path / "chosen" / "mine.pdf"
    assert Path(suggested[0]).name == "GV-PHANTOM-0001_20260312_galactography-report.pdf"
    assert window.export_report() is not None  # the next export starts where this one went
    assert Path(suggested[1]).parent == tmp_path / "chosen"


def test_the_surgeons_columns_are_in_view_without_scrolling(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    """At 1920 px the long finding name pushed distance and depth out of view (tester)."""
    window = annotated_copy(open_window, qtbot, tmp_path)
    window.resize(1920, 1080)
    qtbot.waitUntil(lambda: window.width() == 1920)
    QTest.keyClick(window, Qt.Key.Key_F9)
    table = window.review.table
    qtbot.waitUntil(lambda: table.isVisible() and table.viewport().width() > 0)
    header = table.horizontalHeader()
    for name in ("Side", "Clock", "Quadrant", "From nipple", "Depth"):
        column = REVIEW_COLUMNS.index(name)
        right = header.sectionViewportPosition(column) + header.sectionSize(column)
        assert right <= table.viewport().width(), f"{name} is out of view"
    finding = REVIEW_COLUMNS.index("Finding")
    assert header.sectionSize(finding) == FINDING_COLUMN_PX
    long_name = "Intraluminal filling defect — Intraductal papilloma"
    row = [r[0] for r in window.review.rows()].index("FD-1")
    item = table.item(row, finding)
    assert item is not None and item.toolTip() == long_name  # whole in the tooltip
