"""Adding images to what a window has open (MainWindow.add_paths): the reader's place is kept.

Copies of the sample study: the ductogram (5 images, its sidecar copied where a test
needs its marks) and the prior screening study (4 images).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from galactoview.dicom.loading import ImageRecord
from galactoview.reading.hanging import GalactographyStage, ProtocolKind
from galactoview.ui.annotate import annotation_saver
from galactoview.ui.shell.growing import merge
from galactoview.ui.shell.main_window import MainWindow
from galactoview.ui.viewer.viewport import Viewport
from tests.helpers import sample_images, write_garbage
from tests.ui.annotate.test_annotation_saver import mark
from tests.ui.conftest import OpenWindow
from tests.ui.shell.test_nothing_lost import sample_finding_count, sample_sidecar
from tests.ui.shell.test_workstation import settle


def copy_study(tmp_path: Path, folder_name: str, *, with_sidecar: bool = False) -> Path:
    """Copy one study folder of the sample (its DICOM files; the sidecar when asked)."""
    source = next(r.path.parent for r in sample_images() if r.path.parent.name == folder_name)
    target = tmp_path / folder_name
    target.mkdir(parents=True)
    for path in source.glob("*.dcm"):
        shutil.copy(path, target / path.name)
    if with_sidecar:
        shutil.copy(sample_sidecar(), target)
    return target


@pytest.fixture
def ductogram(tmp_path: Path) -> Path:
    """Return a copy of the sample ductogram, without its sidecar."""
    return copy_study(tmp_path, "20260312_DUCTOGRAM_L")


@pytest.fixture
def prior(tmp_path: Path) -> Path:
    """Return a copy of the sample's prior screening study."""
    return copy_study(tmp_path, "20240220_SCREENING_PRIOR")


def add_and_wait(qtbot: QtBot, window: MainWindow, paths: list[Path]) -> None:
    """Add paths to the window and wait until their images are shown."""
    with qtbot.waitSignal(window.images_added, timeout=20_000):
        window.add_paths(paths)
    settle(qtbot, window)


def count_set_image(monkeypatch: pytest.MonkeyPatch, viewport: Viewport) -> list[int]:
    """Count the images put in a viewport from now on (decoded or not)."""
    calls: list[int] = []
    original = viewport.set_image

    def counted(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        original(*args, **kwargs)

    monkeypatch.setattr(viewport, "set_image", counted)
    return calls


def view_range(viewport: Viewport) -> list[list[float]]:
    return [list(axis) for axis in viewport.view_box.viewRange()]


def uids(records: tuple[ImageRecord, ...]) -> list[str]:
    return [record.sop_instance_uid for record in records]


def test_the_rest_of_a_study_arriving_fills_the_hanging_and_leaves_the_first_cell_alone(
    open_window: OpenWindow, qtbot: QtBot, ductogram: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = open_window([ductogram / "03_LCC_POST.dcm"])  # the first instance to arrive
    settle(qtbot, window)
    hanging = window.hanging_view.hanging
    assert hanging is not None and [c.image for c in hanging.cells] == [0, None]
    first = window.hanging_view.viewports[0]
    first.set_zoom(2.0)
    first.view_changed_by_user.emit()  # as a wheel turn tells it
    zoomed, voi = view_range(first), first.voi
    put = count_set_image(monkeypatch, first)
    with qtbot.waitSignal(window.hanging_changed, timeout=10_000) as hung:
        add_and_wait(qtbot, window, [ductogram])  # the folder: the file open is skipped
    assert hung.args is not None
    assert hung.args[0].stage is GalactographyStage.POST
    assert [c.image for c in hung.args[0].cells] == [2, 3]
    assert window.hanging_view.viewports[0] is first
    assert put == [] and view_range(first) == zoomed and first.voi == voi
    assert first.zoom_factor() == pytest.approx(2.0)
    assert window.hanging_view.viewports[1].record == window.records[3]
    assert len(window.records) == 5 and window.current_index == 2
    assert window.browser.image_texts()[2].startswith("L CC")
    assert window.browser.shown_indices() == [2, 3] and window.browser.current_index() == 2
    assert window.problems.messages() == []


def test_a_prior_added_keeps_the_hanging_and_the_cells_and_gains_its_layouts(
    open_window: OpenWindow,
    qtbot: QtBot,
    ductogram: Path,
    prior: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = open_window([ductogram])
    settle(qtbot, window)
    assert GalactographyStage.COMPARE_PRIOR.value not in window.session.layouts
    window.session.set_active(1)
    puts = [count_set_image(monkeypatch, v) for v in window.hanging_view.viewports]
    ranges = [view_range(v) for v in window.hanging_view.viewports]
    with qtbot.assertNotEmitted(window.hanging_changed):
        add_and_wait(qtbot, window, [prior])
    assert len(window.records) == 9
    assert puts == [[], []] and [view_range(v) for v in window.hanging_view.viewports] == ranges
    assert window.session.active_cell == 1 and window.hanging_view.active_index == 1
    prior_uid = window.records[5].study_instance_uid
    assert GalactographyStage.COMPARE_PRIOR.value in window.session.layouts
    assert f"4-up {prior_uid}" in window.session.layouts
    assert window.browser.tree.topLevelItemCount() == 2
    window.session.next_layout()  # the cycle goes on from where it was
    assert window.session.hanging is not None
    assert window.session.hanging.kind is ProtocolKind.GALACTOGRAPHY


def test_unsaved_marks_survive_adding_a_study_whose_sidecar_is_read(
    open_window: OpenWindow,
    qtbot: QtBot,
    tmp_path: Path,
    prior: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(annotation_saver, "AUTOSAVE_DELAY_S", 3600.0)
    annotated = copy_study(tmp_path / "annotated", "20260312_DUCTOGRAM_L", with_sidecar=True)
    window = open_window([prior])
    study, finding = mark(window)  # on the prior, not saved yet
    document = window.workspace.document(study)
    assert document is not None
    revision = document.revision
    assert window.workspace.dirty_studies() == (study,)
    assert window.workspace.undo_stack.count() == 1
    add_and_wait(qtbot, window, [annotated])
    assert window.workspace.document(study) is document and document.revision == revision
    assert window.workspace.dirty_studies() == (study,)
    assert window.workspace.undo_stack.count() == 1
    assert window.windowTitle().startswith("• ")
    ductogram_uid = window.records[0].study_instance_uid
    assert len(window.workspace.annotations(ductogram_uid).findings) == sample_finding_count()
    assert window.findings_dock.item_for(finding.tracking_uid) is not None
    assert window.saver.target(ductogram_uid) is not None
    # The default (the prior's 4-up) gave way to the galactography, the newest study.
    assert GalactographyStage.POST.value in window.session.layouts
    assert window.session.hanging is not None
    assert window.session.hanging.stage is GalactographyStage.POST
    window.workspace.undo_stack.undo()  # the history is still the reader's
    assert window.workspace.annotations(study).findings == ()


def test_a_bad_file_among_those_added_is_one_problem_line_and_the_rest_is_added(
    open_window: OpenWindow, qtbot: QtBot, ductogram: Path, prior: Path, tmp_path: Path
) -> None:
    window = open_window([ductogram])
    garbage = write_garbage(tmp_path / "junk" / "broken.dcm")
    add_and_wait(qtbot, window, [prior / "06_RCC.dcm", garbage])
    assert len(window.records) == 6 and window.records[5].path == prior / "06_RCC.dcm"
    (line,) = window.problems.messages()
    assert line.startswith("broken.dcm: ")


def test_adds_asked_during_a_scan_wait_for_it_and_run_in_order(
    open_window: OpenWindow, qtbot: QtBot, ductogram: Path, prior: Path
) -> None:
    window = open_window([])
    events: list[tuple[str, int]] = []
    window.scan_finished.connect(lambda: events.append(("opened", len(window.records))))
    window.images_added.connect(lambda: events.append(("added", len(window.records))))
    window.open_paths([ductogram / "03_LCC_POST.dcm"], confirm=False)
    window.add_paths([ductogram / "04_LML_POST.dcm"])
    window.add_paths([prior])
    assert window.is_scanning()
    qtbot.waitUntil(lambda: len(events) == 3, timeout=20_000)
    assert events == [("opened", 1), ("added", 2), ("added", 6)]
    assert not window.is_scanning()
    settle(qtbot, window)
    assert window.hanging_view.viewports[1].record is not None


def test_adding_with_nothing_open_opens_without_asking(
    open_window: OpenWindow, qtbot: QtBot, ductogram: Path
) -> None:
    window = open_window([])
    add_and_wait(qtbot, window, [ductogram])  # asking would fail: unexpected_unsaved_prompt
    assert len(window.records) == 5
    assert window.session.hanging is not None
    assert window.session.hanging.stage is GalactographyStage.POST


def test_open_paths_without_confirm_does_not_ask_about_unsaved_marks(
    open_window: OpenWindow,
    qtbot: QtBot,
    ductogram: Path,
    prior: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = open_window([ductogram])
    asked: list[str] = []

    def confirm_leave() -> bool:
        asked.append("?")
        return True

    monkeypatch.setattr(window.unsaved_guard, "confirm_leave", confirm_leave)
    with qtbot.waitSignal(window.scan_finished, timeout=20_000):
        window.open_paths([prior], confirm=False)
    assert len(window.records) == 4 and asked == []
    with qtbot.waitSignal(window.scan_finished, timeout=20_000):
        window.open_paths([ductogram])
    assert asked == ["?"]


def test_merge_keeps_the_open_records_and_reports_an_instance_found_in_another_file(
    tmp_path: Path, ductogram: Path
) -> None:
    from galactoview.dicom.loading import scan

    opened = scan([ductogram / "03_LCC_POST.dcm"]).images
    again = tmp_path / "again"
    again.mkdir()
    shutil.copy(ductogram / "03_LCC_POST.dcm", again / "copy.dcm")
    merged = merge(opened, scan([ductogram, again]))
    assert len(merged.records) == 5 and merged.records[2] is opened[0]
    assert uids(merged.records) == uids(scan([ductogram]).images)
    assert len(merged.added) == 4
    (problem,) = merged.problems
    assert problem.path == again / "copy.dcm" and "duplicate skipped" in problem.message
    assert merge(merged.records, scan([ductogram])).added == ()


def test_marks_made_while_a_study_arrives_stay_and_are_saved_with_all_its_images(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(annotation_saver, "AUTOSAVE_DELAY_S", 3600.0)
    folder = copy_study(tmp_path, "20260312_DUCTOGRAM_L", with_sidecar=True)
    window = open_window([folder / "03_LCC_POST.dcm"])
    study, finding = mark(window)
    document = window.workspace.document(study)
    assert document is not None
    revision, target = document.revision, window.saver.target(study)
    add_and_wait(qtbot, window, [folder])
    assert window.workspace.document(study) is document and document.revision == revision
    assert window.saver.target(study) == target
    findings = window.workspace.annotations(study).findings
    assert len(findings) == sample_finding_count() + 1 and finding in findings
    assert window.saver.save_now()
    assert window.workspace.dirty_studies() == ()
    assert window.problems.messages() == []


def test_the_active_cell_stays_active_when_the_default_is_hung_again(
    open_window: OpenWindow, qtbot: QtBot, ductogram: Path
) -> None:
    window = open_window([ductogram / "04_LML_POST.dcm"])  # the ML cell first
    settle(qtbot, window)
    window.hanging_view.set_active(1)  # the reader clicked it
    assert window.session.active_cell == 1
    lateral = window.hanging_view.viewports[1]
    before = view_range(lateral)
    with qtbot.waitSignal(window.hanging_changed, timeout=10_000):
        add_and_wait(qtbot, window, [ductogram])
    assert window.session.active_cell == 1 and window.hanging_view.active_index == 1
    assert window.current_record() == window.records[3]
    assert window.hanging_view.viewports[0].record == window.records[2]
    assert lateral.record == window.records[3] and view_range(lateral) == before
    assert window.image_label.text() != ""
