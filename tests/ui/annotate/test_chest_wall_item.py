"""The chest-wall line: moving it is an undoable edit that changes the saved and printed depth."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

# isort: split
import pyqtgraph as pg

from galactoview.annotations.model import (
    ChestWallLine,
    Finding,
    FindingType,
    GraphicType,
    ImageRegion,
)
from galactoview.dicom.loading import ImageRecord
from galactoview.location.frame import ImageFrame, ImageInfo
from galactoview.location.localize import DepthThird, FindingLocation
from galactoview.location.study import locate_document
from galactoview.report.content import ReportContent, load_report
from galactoview.sr.persistence import open_annotations
from galactoview.sr.sr_codec import StoredLocation
from galactoview.ui.annotate.chest_wall_item import ChestWallEditor
from galactoview.ui.review.review_mode import review_row
from galactoview.ui.shell import main_window
from galactoview.ui.shell.main_window import MainWindow
from galactoview.ui.viewer.viewport import Viewport
from tests.ui.conftest import OpenWindow
from tests.ui.shell.test_workstation import settle

PRIOR = Path(__file__).parents[3] / "sample_data" / "dicom" / "20240220_SCREENING_PRIOR"

Point = tuple[float, float]


def open_prior_copy(open_window: OpenWindow, qtbot: QtBot, tmp_path: Path) -> MainWindow:
    """Open a copy of the sample's prior screening (CC and MLO views): edits are saved there."""
    folder = tmp_path / PRIOR.name
    folder.mkdir()
    for path in PRIOR.glob("*.dcm"):
        shutil.copy(path, folder / path.name)
    window = open_window([folder])
    settle(qtbot, window)
    return window


def shown(window: MainWindow, label: str) -> Viewport:
    viewport = next(
        v for v in window.hanging_view.viewports if v.record and v.record.view.label == label
    )
    assert viewport.record is not None
    return viewport


def foot(point: Point, line: ChestWallLine) -> Point:
    """Return the foot of the perpendicular from a point to a line (image pixels)."""
    (ax, ay), (bx, by) = line.start, line.end
    dx, dy = bx - ax, by - ay
    t = ((point[0] - ax) * dx + (point[1] - ay) * dy) / (dx * dx + dy * dy)
    return ax + t * dx, ay + t * dy


def towards(start: Point, end: Point, fraction: float) -> Point:
    return start[0] + fraction * (end[0] - start[0]), start[1] + fraction * (end[1] - start[1])


def drag_line(editor: ChestWallEditor, line: ChestWallLine) -> None:
    """Drag both ends of the editor's line as a reader does: one release at the end."""
    first, second = editor.roi.endpoints
    editor.roi.movePoint(first, pg.Point(*line.start), finish=False)
    editor.roi.movePoint(second, pg.Point(*line.end), finish=True)


def marked_finding(window: MainWindow, qtbot: QtBot) -> tuple[Finding, ChestWallLine]:
    """Place nipples, mark a finding on LCC and LMLO, and return it and a closer chest wall.

    The finding lies a quarter of the way from the nipple to the chest wall on both views
    (anterior third); the returned line is the suggested pectoral line moved 70 % of the
    way towards the nipple, which puts the finding in a deeper third.
    """
    assert window.suggest_nipples() >= 2
    cc, mlo = shown(window, "L CC").record, shown(window, "L MLO").record
    assert cc is not None and mlo is not None
    study = cc.study_instance_uid
    annotations = window.workspace.annotations(study)
    cc_nipple = annotations.landmark(cc.sop_instance_uid)
    mlo_nipple = annotations.landmark(mlo.sop_instance_uid)
    assert cc_nipple is not None and mlo_nipple is not None
    pectoral = window.workspace.chest_wall(mlo.sop_instance_uid)
    assert pectoral is not None
    cc_edge = ImageFrame.from_info(ImageInfo.from_record(cc)).posterior_edge()
    cc_point = towards(cc_nipple.point, foot(cc_nipple.point, cc_edge), 0.25)
    mlo_foot = foot(mlo_nipple.point, pectoral)
    mlo_point = towards(mlo_nipple.point, mlo_foot, 0.25)
    finding = Finding.new(
        FindingType.CYST_FILL,
        [
            ImageRegion(cc.sop_instance_uid, None, GraphicType.POINT, (cc_point,)),
            ImageRegion(mlo.sop_instance_uid, None, GraphicType.POINT, (mlo_point,)),
        ],
        short_id="CY-1",
        laterality=cc.view.laterality,
    )
    window.workspace.add_finding(study, finding)
    shift = (0.7 * (mlo_nipple.point[0] - mlo_foot[0]), 0.7 * (mlo_nipple.point[1] - mlo_foot[1]))
    closer = ChestWallLine(
        (pectoral.start[0] + shift[0], pectoral.start[1] + shift[1]),
        (pectoral.end[0] + shift[0], pectoral.end[1] + shift[1]),
    )
    return finding, closer


def location(window: MainWindow, study: str, finding: Finding) -> FindingLocation:
    return locate_document(window.workspace.snapshot(study), window.records)[finding.tracking_uid]


def test_moving_the_chest_wall_is_one_undoable_edit_that_marks_the_study_unsaved(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window = open_prior_copy(open_window, qtbot, tmp_path)
    viewport = shown(window, "L MLO")
    record = viewport.record
    assert record is not None
    editor = window.tools.chest_wall_editors[viewport]
    suggested = window.workspace.chest_wall(record.sop_instance_uid)
    assert suggested is not None
    assert not window.workspace.is_modified() and not window.windowTitle().startswith("•")
    moved = ChestWallLine(
        (suggested.start[0] + 40.0, suggested.start[1]), (suggested.end[0] + 25.0, suggested.end[1])
    )
    first = editor.roi.endpoints[0]
    editor.roi.movePoint(first, pg.Point(*moved.start), finish=False)
    assert window.workspace.undo_stack.count() == 0  # still dragging: no edit yet
    with qtbot.waitSignal(window.workspace.changed):
        drag_line(editor, moved)
    assert window.workspace.undo_stack.count() == 1  # one command on release
    assert window.named_actions["undo"].text().endswith("Move chest wall")
    line = window.workspace.chest_wall(record.sop_instance_uid)
    assert line is not None
    assert line.start == pytest.approx(moved.start, abs=0.5)
    assert line.end == pytest.approx(moved.end, abs=0.5)
    assert window.workspace.dirty_studies() == (record.study_instance_uid,)
    assert window.saver.unsaved_studies() == (record.study_instance_uid,)
    assert window.windowTitle().startswith("• ")
    window.named_actions["undo"].trigger()
    assert window.workspace.chest_wall(record.sop_instance_uid) == suggested
    ends = editor.ends()
    assert ends is not None and ends[0] == pytest.approx(suggested.start, abs=0.01)
    assert not window.workspace.is_modified() and not window.windowTitle().startswith("•")
    window.named_actions["redo"].trigger()
    assert window.workspace.chest_wall(record.sop_instance_uid) == line
    assert window.windowTitle().startswith("• ")


def test_a_moved_chest_wall_changes_the_depth_the_sidecar_stores(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window = open_prior_copy(open_window, qtbot, tmp_path)
    finding, closer = marked_finding(window, qtbot)
    mlo = shown(window, "L MLO").record
    assert mlo is not None
    study = mlo.study_instance_uid
    before = location(window, study, finding).breast
    assert before is not None and before.depth is DepthThird.ANTERIOR
    assert window.saver.save_now()
    assert not window.workspace.is_modified()
    drag_line(window.tools.chest_wall_editors[shown(window, "L MLO")], closer)
    assert window.workspace.dirty_studies() == (study,)
    after = location(window, study, finding).breast
    assert after is not None and after.depth is not DepthThird.ANTERIOR
    assert window.saver.save_now()
    assert not window.workspace.is_modified()
    members: list[ImageRecord] = [r for r in window.records if r.study_instance_uid == study]
    stored = open_annotations(study, [r.path for r in members]).locations[finding.tracking_uid]
    assert stored.depth == StoredLocation.from_breast(after).depth
    assert stored.depth != StoredLocation.from_breast(before).depth


def test_the_pdf_exported_from_the_window_prints_the_review_rows(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = open_prior_copy(open_window, qtbot, tmp_path)
    finding, closer = marked_finding(window, qtbot)
    drag_line(window.tools.chest_wall_editors[shown(window, "L MLO")], closer)
    printed: list[ReportContent] = []
    from galactoview.ui.review.report_pdf import write_report_pdf as real

    def spy(
        content: ReportContent, records: object, out: Path, problems: list[str] | None = None
    ) -> int:
        printed.append(content)
        return real(content, records, out, problems)  # type: ignore[arg-type]

    monkeypatch.setattr(main_window, "write_report_pdf", spy)
    assert window.export_report(tmp_path / "report.pdf") is not None
    window.set_review_mode(True)
    (content,) = printed
    paper = [review_row(row) for study in content.studies for row in study.rows]
    assert paper == window.review.rows()
    assert [row[0] for row in paper] == [finding.short_id]
    mlo = shown(window, "L MLO").record
    assert mlo is not None
    breast = location(window, mlo.study_instance_uid, finding).breast
    assert breast is not None and breast.depth in (DepthThird.MIDDLE, DepthThird.POSTERIOR)
    # The moved line's depth, on paper and screen.
    assert paper[0][6].endswith(f", {breast.depth.value} third")


def reopen(window: MainWindow, qtbot: QtBot, folder: Path) -> None:
    """Open the study folder again in the window (a new session on the saved sidecar)."""
    with qtbot.waitSignal(window.scan_finished, timeout=20_000):
        window.open_paths([folder])
    settle(qtbot, window)


def test_a_moved_line_alone_is_saved_and_comes_back_when_the_study_is_reopened(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window = open_prior_copy(open_window, qtbot, tmp_path)
    mlo = shown(window, "L MLO").record
    assert mlo is not None
    study, uid = mlo.study_instance_uid, mlo.sop_instance_uid
    suggested = window.workspace.chest_wall(uid)
    assert suggested is not None and window.workspace.snapshot(study).is_suggested(uid)
    assert window.workspace.snapshot(study).reader_chest_walls() == {}  # nothing to save
    moved = ChestWallLine(
        (suggested.start[0] + 60.0, suggested.start[1]), (suggested.end[0] + 30.0, suggested.end[1])
    )
    drag_line(window.tools.chest_wall_editors[shown(window, "L MLO")], moved)
    line = window.workspace.chest_wall(uid)
    assert line is not None and window.workspace.dirty_studies() == (study,)
    assert window.saver.save_now() and not window.workspace.is_modified()
    folder = tmp_path / PRIOR.name
    opened = open_annotations(study, [folder / mlo.path.name])
    assert opened.annotations.findings == () and opened.annotations.landmarks == ()
    assert list(opened.chest_walls) == [uid]  # the SR holds the line: it is not empty
    stored = opened.chest_walls[uid]  # as Graphic Data (FL, float32) holds it
    assert stored.start == pytest.approx(line.start, abs=1e-3)
    assert stored.end == pytest.approx(line.end, abs=1e-3)
    assert "CHEST-WALL-1" in opened.target.path.read_text(encoding="utf-8")
    reopen(window, qtbot, folder)
    assert window.workspace.chest_wall(uid) == stored  # the reader's line, not a suggestion
    assert not window.workspace.snapshot(study).is_suggested(uid)
    assert not window.workspace.is_modified() and not window.windowTitle().startswith("•")
    ends = window.tools.chest_wall_editors[shown(window, "L MLO")].ends()
    assert ends is not None and ends[0] == pytest.approx(line.start, abs=0.01)


def test_the_report_command_prints_the_windows_rows_before_and_after_a_move(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window = open_prior_copy(open_window, qtbot, tmp_path)
    finding, closer = marked_finding(window, qtbot)
    folder = tmp_path / PRIOR.name

    def report_rows() -> tuple[list[tuple[str, ...]], tuple[str, ...]]:
        loaded = load_report([folder], dt.date(2026, 12, 4))
        (study,) = loaded.content.studies
        return [review_row(row) for row in study.rows], study.notes

    def window_rows() -> list[tuple[str, ...]]:
        window.set_review_mode(True)
        rows = window.review.rows()
        window.set_review_mode(False)
        return rows

    assert window.saver.save_now()
    rows, notes = report_rows()  # the suggested pectoral line, on both sides
    assert rows == window_rows()
    assert rows[0][6].endswith(f", {DepthThird.ANTERIOR.value} third")
    assert not any("depth unknown" in note for note in notes)
    drag_line(window.tools.chest_wall_editors[shown(window, "L MLO")], closer)
    assert window.saver.save_now()
    rows, notes = report_rows()  # the reader's line, read from the SR
    assert rows == window_rows()
    assert [row[0] for row in rows] == [finding.short_id]
    assert rows[0][6].split(", ")[-1] in ("middle third", "posterior third")
    assert not any("depth unknown" in note for note in notes)
