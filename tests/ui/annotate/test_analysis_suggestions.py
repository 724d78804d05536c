"""Suggested duct tree and defect flags in the window: worker, accept, undo, save, dismiss."""

from __future__ import annotations

import itertools
import math
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt, QThread
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from galactoview.analysis.algorithms import FILLING_DEFECT_ALGORITHM
from galactoview.analysis.filling_defects import DefectFlag, DefectFlags
from galactoview.annotations.model import FindingType, GraphicType, NippleLandmark
from galactoview.dicom.loading import ImageRecord
from galactoview.dicom.mammography import ContrastPhase
from galactoview.location.localize import region_center
from galactoview.sr.persistence import open_annotations
from galactoview.ui.annotate.analysis_suggestions import ImageSuggestions
from galactoview.ui.annotate.annotation_tools import AnnotationTool
from galactoview.ui.shell.main_window import MainWindow
from galactoview.ui.viewer.viewport import MouseMode, ToolClick, Viewport
from tests.helpers import sample_images
from tests.sr.test_persistence import SIGNATURE
from tests.ui.annotate.test_signed_read_only import study_with_report
from tests.ui.conftest import OpenWindow
from tests.ui.shell.test_workstation import settle

#: The status line of Enter with no suggested tree to accept.
NOTHING_TO_ACCEPT = "No suggested duct tree to accept: Shift+T suggests one"


def copy_ductogram_with_marks(tmp_path: Path) -> Path:
    """Copy the sample ductogram with its sidecar (its nipple landmarks) into a writable folder."""
    source = next(r for r in sample_images() if r.contrast_phase is ContrastPhase.POST).path.parent
    return Path(shutil.copytree(source, tmp_path / source.name))


def post_cc(qtbot: QtBot, window: MainWindow) -> Viewport:
    """Make the viewport showing the L CC post-contrast image the active one and return it."""
    settle(qtbot, window)
    for cell, viewport in enumerate(window.hanging_view.viewports):
        record = viewport.record
        if (
            record is not None
            and record.view.label == "L CC"
            and record.contrast_phase is ContrastPhase.POST
        ):
            window.session.set_active(cell)
            assert window.viewport is viewport
            return viewport
    raise AssertionError("no L CC post-contrast image shown")


def suggested(qtbot: QtBot, window: MainWindow, key: Qt.Key) -> ImageSuggestions:
    """Press Shift+key, wait for the worker, return the active image's suggestions."""
    with qtbot.waitSignal(window.suggestions.finished, timeout=30_000):
        QTest.keyClick(window, key, Qt.KeyboardModifier.ShiftModifier)
        assert window.suggestions.is_running()
        doing = "Flagging possible filling defects" if key is Qt.Key.Key_F else "Suggesting"
        assert window.statusBar().currentMessage().startswith(doing)  # until it is done
    record = window.viewport.record
    assert record is not None
    found = window.suggestions.suggestions(record.sop_instance_uid)
    assert found is not None
    return found


def opened_on_post_cc(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> tuple[MainWindow, Viewport, ImageRecord]:
    """Open a copy of the sample ductogram with its marks; the L CC post-contrast active."""
    window = open_window([copy_ductogram_with_marks(tmp_path)])
    viewport = post_cc(qtbot, window)
    assert viewport.record is not None
    return window, viewport, viewport.record


def click(viewport: Viewport, at: tuple[float, float], modifiers: Qt.KeyboardModifier) -> None:
    viewport.tool_click.emit(ToolClick(MouseMode.ANNOTATE, at, False, modifiers))


def test_a_suggested_tree_is_computed_in_a_worker_and_accepted_as_one_undoable_edit(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window, viewport, record = opened_on_post_cc(open_window, qtbot, tmp_path)
    study = record.study_instance_uid
    before = window.workspace.annotations(study)
    assert before.landmark(record.sop_instance_uid) is not None  # the sidecar's nipple
    undo_count = window.workspace.undo_stack.count()

    image = suggested(qtbot, window, Qt.Key.Key_T)
    tree = image.tree
    assert window.suggestions.last_thread is not None
    assert window.suggestions.last_thread is not QThread.currentThread()  # not the window's
    assert len(tree.branches) >= 3, tree.problem
    message = window.statusBar().currentMessage()
    assert message.startswith(f"Duct tree suggested on L CC: {len(tree.branches)} branches in")
    assert message.endswith("click accepts a branch, Enter the tree, Esc dismisses")
    layer = window.suggestions.layers[viewport]
    assert len(layer.branches) == len(tree.branches)
    assert layer.label_texts() == [f"tree? {len(tree.branches)} branch(es)"]
    # Not marks: nothing in the document, nothing to undo, the clicks go to the SELECT tool.
    assert window.workspace.annotations(study) == before
    assert window.workspace.undo_stack.count() == undo_count
    assert window.mouse_mode is MouseMode.ANNOTATE
    assert window.annotation_tool is AnnotationTool.SELECT

    QTest.keyClick(window, Qt.Key.Key_Return)  # nothing being drawn: accept the tree
    segments = window.workspace.annotations(study).duct_segments
    assert len(segments) == len(tree.branches)
    assert window.workspace.undo_stack.count() == undo_count + 1  # ONE edit
    by_id = {s.short_id: s for s in segments}
    uid_of = {b.index: segments[n].tracking_uid for n, b in enumerate(tree.branches)}
    for segment, branch in zip(segments, tree.branches, strict=True):
        assert segment.algorithm == tree.algorithm
        assert segment.laterality is record.view.laterality
        assert segment.parent_uid == (None if branch.parent is None else uid_of[branch.parent])
        assert segment.path_length is not None and segment.path_length.value > 0.0
        assert segment.region.sop_instance_uid == record.sop_instance_uid
    assert set(by_id) == {f"DS-{n}" for n in range(1, len(tree.branches) + 1)}
    assert layer.is_empty()  # accepted: no longer a suggestion
    assert (
        window.named_actions["undo"]
        .text()
        .replace("&", "")
        .startswith("Undo Accept suggested DS-1…")
    )

    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.workspace.annotations(study).duct_segments == ()
    assert len(layer.branches) == len(tree.branches)  # undone: suggested again
    window.workspace.undo_stack.redo()
    assert window.workspace.annotations(study).duct_segments == segments
    assert layer.is_empty()

    with qtbot.waitSignal(window.saver.saved, timeout=10_000):
        window.saver.save_now()
    folder = record.path.parent
    read = open_annotations(study, sorted(folder.glob("*.dcm"))).annotations
    assert [(s.short_id, s.parent_uid, s.algorithm) for s in read.duct_segments] == [
        (s.short_id, s.parent_uid, tree.algorithm) for s in segments
    ]  # the algorithm read back from the sidecar's TID 4019


def test_a_click_accepts_a_branch_with_those_beyond_and_the_path_to_the_orifice(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window, viewport, record = opened_on_post_cc(open_window, qtbot, tmp_path)
    study = record.study_instance_uid
    tree = suggested(qtbot, window, Qt.Key.Key_T).tree
    leaf = next(b for b in reversed(tree.branches) if b.parent is not None and b.generation >= 1)
    middle = leaf.points[len(leaf.points) // 2]
    click(viewport, middle, Qt.KeyboardModifier.ShiftModifier)  # that branch only
    segments = window.workspace.annotations(study).duct_segments
    path = []  # the leaf and its ancestors back to the trunk
    index: int | None = leaf.index
    while index is not None:
        path.append(index)
        index = tree.branches[index].parent
    assert len(segments) == len(path)
    assert segments[-1].region.points[0] == pytest.approx(leaf.points[0], abs=1e-3)
    assert segments[0].parent_uid is None
    assert all(s.parent_uid == p.tracking_uid for p, s in itertools.pairwise(segments))
    assert window.workspace.selected == segments[0].tracking_uid
    layer = window.suggestions.layers[viewport]
    assert {b.index for b in layer.branches} == {b.index for b in tree.branches} - set(path)

    # Ctrl+click rejects what is left of the trunk's other children; Esc dismisses the rest.
    undo_count = window.workspace.undo_stack.count()
    if layer.branches:
        other = layer.branches[0]
        click(viewport, other.points[len(other.points) // 2], Qt.KeyboardModifier.ControlModifier)
        assert other.index not in {b.index for b in layer.branches}
    QTest.keyClick(window, Qt.Key.Key_Escape)
    assert layer.is_empty()
    assert window.suggestions.suggestions(record.sop_instance_uid) is None
    assert window.workspace.annotations(study).duct_segments == segments
    assert window.workspace.undo_stack.count() == undo_count


def test_a_flag_becomes_a_filling_defect_finding_with_its_algorithm_and_reason(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window, viewport, record = opened_on_post_cc(open_window, qtbot, tmp_path)
    study = record.study_instance_uid
    before = window.workspace.annotations(study)
    image = suggested(qtbot, window, Qt.Key.Key_F)  # the tree is computed first
    assert image.tree.branches
    assert image.flags is not None
    # The sample's papilloma, FD-1, is marked on the L CC already, and flagged.
    fd1 = next(f for f in before.findings if f.short_id == "FD-1")
    (marked,) = [r for r in fd1.regions if r.sop_instance_uid == record.sop_instance_uid]
    marked_at = region_center(marked)
    assert record.calibration is not None and record.calibration.row_spacing_mm is not None
    millimetre = 1.0 / record.calibration.row_spacing_mm
    assert any(math.dist(f.point, marked_at) <= 3.0 * millimetre for f in image.flags.flags)
    layer = window.suggestions.layers[viewport]
    # A flag where nothing is marked, and one on FD-1 (shown as the flagger's own).
    away = DefectFlag(
        (400.0, 1200.0), 12.0, 0, 0.9, 2.2, 0.62, False, False, "lumen gap 2.2 mm, 62 %"
    )
    on_fd1 = DefectFlag(marked_at, 12.0, 0, 0.8, 2.0, 0.6, True, False, "lucent hole 2.0 mm")
    flags = DefectFlags((away, on_fd1), 0.01)
    assert window.suggestions.show_flags(record.sop_instance_uid, None, flags)
    shown = window.suggestions.suggestions(record.sop_instance_uid)
    assert shown is not None and shown.flags is not None
    flag = shown.flags.flags[0]
    assert len(layer.flags) == len(shown.flags.flags)
    assert any(f"Possible filling defect: {flag.reason}" in tip for tip in layer.tooltips())
    labels = {"?", "bubble?", f"tree? {len(shown.tree.branches)} branch(es)"}
    assert set(layer.label_texts()) <= labels
    # Hovering anywhere inside a flag's circle shows why (its disc is the item's shape).
    centre = viewport.image_item.mapToScene(QPointF(float(flag.point[0]), float(flag.point[1])))
    tips = [item.toolTip() for item in viewport.scene().items(centre)]
    assert any(tip.startswith("Possible filling defect: ") for tip in tips)
    undo_count = window.workspace.undo_stack.count()
    click(viewport, (float(flag.point[0]), float(flag.point[1])), Qt.KeyboardModifier.NoModifier)
    after = window.workspace.annotations(study)
    (added,) = [f for f in after.findings if f not in before.findings]
    assert window.workspace.undo_stack.count() == undo_count + 1
    assert added.finding_type is FindingType.INTRALUMINAL_FILLING_DEFECT
    assert added.algorithm == shown.flags.algorithm == FILLING_DEFECT_ALGORITHM
    assert added.note == f"Suggested: {flag.reason}"
    assert added.regions[0].graphic_type is GraphicType.CIRCLE
    assert added.regions[0].points[0] == pytest.approx(flag.point, abs=1e-3)  # float32 SCOORD
    assert added.laterality is record.view.laterality
    assert 0 not in {i for i, _ in layer.flags}
    # The flag on FD-1 is FD-1: nothing added, nothing to undo, the status line says so.
    click(viewport, marked_at, Qt.KeyboardModifier.NoModifier)
    assert window.workspace.annotations(study).findings == after.findings
    assert window.workspace.undo_stack.count() == undo_count + 1
    assert window.statusBar().currentMessage() == (
        "The flag is on FD-1, already marked on L CC: nothing added"
    )
    assert {i for i, _ in layer.flags} == set()
    with qtbot.waitSignal(window.saver.saved, timeout=10_000):
        window.saver.save_now()
    read = open_annotations(study, sorted(record.path.parent.glob("*.dcm"))).annotations
    (saved,) = [f for f in read.findings if f.tracking_uid == added.tracking_uid]
    assert saved.note == added.note and saved.short_id == added.short_id
    assert saved.algorithm == FILLING_DEFECT_ALGORITHM  # TID 4019 read back


def test_dismissing_leaves_no_trace(open_window: OpenWindow, qtbot: QtBot, tmp_path: Path) -> None:
    window, viewport, record = opened_on_post_cc(open_window, qtbot, tmp_path)
    study = record.study_instance_uid
    before = window.workspace.annotations(study)
    undo_count = window.workspace.undo_stack.count()
    suggested(qtbot, window, Qt.Key.Key_F)
    assert not window.suggestions.layers[viewport].is_empty()
    window.named_actions["dismiss_suggestions"].trigger()
    assert window.suggestions.layers[viewport].is_empty()
    assert window.statusBar().currentMessage() == "Suggestions dismissed: nothing was recorded"
    assert window.workspace.annotations(study) == before
    assert window.workspace.undo_stack.count() == undo_count
    assert not window.workspace.is_modified()


def test_without_a_nipple_the_status_line_says_to_place_it(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    folder = copy_ductogram_with_marks(tmp_path)
    for sidecar in folder.glob("*.sr.json"):
        sidecar.unlink()
    window = open_window([folder])
    post_cc(qtbot, window)
    assert not window.suggestions.suggest_tree()
    assert not window.suggestions.is_running()
    assert window.statusBar().currentMessage() == (
        "Suggest duct tree: L CC has no nipple landmark to root the tree at the orifice — "
        "place it first (N), or Shift+N suggests one"
    )


def test_a_signed_study_gets_no_suggestions(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    """Like every edit of a signed report's marks: refused, the status line says who signed."""
    folder, study, _finding, _report = study_with_report(open_window, tmp_path, SIGNATURE)
    window = open_window([folder])
    post_cc(qtbot, window)
    reason = window.workspace.read_only_reason(study)
    assert reason is not None
    QTest.keyClick(window, Qt.Key.Key_T, Qt.KeyboardModifier.ShiftModifier)
    assert not window.suggestions.is_running()
    assert window.statusBar().currentMessage() == f"Not suggested: {reason}"
    window.set_review_mode(True)  # the surgeon's review: disabled like the marking tools
    assert not window.named_actions["suggest_duct_tree"].isEnabled()
    assert not window.named_actions["flag_filling_defects"].isEnabled()


def test_branches_accepted_while_flags_are_computed_stay_accepted(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window, viewport, record = opened_on_post_cc(open_window, qtbot, tmp_path)
    tree = suggested(qtbot, window, Qt.Key.Key_T).tree
    with qtbot.waitSignal(window.suggestions.finished, timeout=30_000):
        assert window.suggestions.flag_defects()  # along the tree shown
        # The outcome is queued to this thread: it cannot arrive before the next line.
        assert window.suggestions.accept_tree()
    image = window.suggestions.suggestions(record.sop_instance_uid)
    assert image is not None and image.flags is not None and image.tree == tree
    assert len(image.accepted_branches) == len(tree.branches)
    assert window.suggestions.layers[viewport].branches == ()
    assert not window.suggestions.accept_tree()  # nothing left
    assert window.statusBar().currentMessage() == NOTHING_TO_ACCEPT


def test_a_tree_suggested_again_offers_only_what_is_not_traced_yet(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window, viewport, record = opened_on_post_cc(open_window, qtbot, tmp_path)
    study = record.study_instance_uid
    tree = suggested(qtbot, window, Qt.Key.Key_T).tree
    trunk = tree.branches[0]
    beyond = [b for b in tree.branches if b.parent == trunk.index]
    assert beyond, "the sample's tree forks"
    assert window.suggestions.accept_branch(
        record.sop_instance_uid, None, trunk.index, beyond=False
    )
    (traced,) = window.workspace.annotations(study).duct_segments

    again = suggested(qtbot, window, Qt.Key.Key_T)  # the trunk is traced: not offered twice
    assert again.tree.branches == tree.branches  # the same image, the same tree
    assert again.accepted_branches == {trunk.index: traced.tracking_uid}
    layer = window.suggestions.layers[viewport]
    assert len(layer.branches) == len(tree.branches) - 1
    assert (
        window.statusBar()
        .currentMessage()
        .startswith(
            f"Duct tree suggested on L CC: {len(tree.branches) - 1} branches "
            "(1 traced already, not shown) in"
        )
    )
    QTest.keyClick(window, Qt.Key.Key_Return)
    segments = window.workspace.annotations(study).duct_segments
    assert len(segments) == len(tree.branches)  # each duct once
    children = [s for s in segments if s.parent_uid == traced.tracking_uid]
    assert len(children) == len(beyond)  # joined to the trunk traced before

    suggested(qtbot, window, Qt.Key.Key_T)
    assert window.suggestions.layers[viewport].branches == ()
    assert window.statusBar().currentMessage() == (
        f"Duct tree suggested on L CC: its {len(tree.branches)} branches are all traced "
        "already — nothing new to accept"
    )
    QTest.keyClick(window, Qt.Key.Key_Return)
    assert window.workspace.annotations(study).duct_segments == segments


def test_enter_never_accepts_a_tree_no_viewport_shows(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window, _viewport, record = opened_on_post_cc(open_window, qtbot, tmp_path)
    suggested(qtbot, window, Qt.Key.Key_T)
    window.named_actions["layout_1"].trigger()
    settle(qtbot, window)
    view = window.hanging_view
    while (shown := view.viewports[0].record) is not None and (
        shown.sop_instance_uid == record.sop_instance_uid
    ):
        QTest.keyClick(window, Qt.Key.Key_PageDown)  # another image in the only cell
    assert not any(
        v.record is not None
        and v.record.sop_instance_uid == record.sop_instance_uid
        and v.isVisible()
        for v in view.viewports
    )
    QTest.keyClick(window, Qt.Key.Key_Return)
    assert window.workspace.annotations(record.study_instance_uid).duct_segments == ()
    assert window.statusBar().currentMessage() == NOTHING_TO_ACCEPT


def test_undo_and_redo_say_which_edit_they_took_back(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window, _viewport, record = opened_on_post_cc(open_window, qtbot, tmp_path)
    suggested(qtbot, window, Qt.Key.Key_T)
    QTest.keyClick(window, Qt.Key.Key_Return)
    segments = window.workspace.annotations(record.study_instance_uid).duct_segments
    names = f"{segments[0].short_id}…{segments[-1].short_id}"
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.statusBar().currentMessage() == f"Undone: Accept suggested {names}"
    QTest.keyClick(
        window,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert window.statusBar().currentMessage() == f"Redone: Accept suggested {names}"


def test_on_an_image_not_known_as_post_contrast_the_status_line_says_so(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    folder = Path(shutil.copytree(Path(__file__).parents[3] / "sample_data", tmp_path / "s"))
    window = open_window([folder / "dicom"])
    settle(qtbot, window)
    window.session.hang_prior_mammography()
    settle(qtbot, window)
    cell, viewport = next(
        (n, v)
        for n, v in enumerate(window.hanging_view.viewports)
        if v.record is not None and v.record.contrast_phase is ContrastPhase.UNKNOWN
    )
    window.session.set_active(cell)
    record = viewport.record
    assert record is not None
    rows, columns = viewport.stored.shape if viewport.stored is not None else (0, 0)
    nipple = NippleLandmark(record.sop_instance_uid, None, (columns / 2.0, rows / 2.0))
    window.workspace.set_landmark(record.study_instance_uid, nipple)
    with qtbot.waitSignal(window.suggestions.finished, timeout=30_000):
        assert window.suggestions.suggest_tree()
    message = window.statusBar().currentMessage()
    assert message.startswith(
        f"No duct tree suggested on {record.view.label} (not known to be a post-contrast image): "
    ), message


def test_the_trees_label_by_the_cells_edge_ends_at_the_orifice_inside_the_cell(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window, viewport, record = opened_on_post_cc(open_window, qtbot, tmp_path)
    nipple = window.workspace.annotations(record.study_instance_uid).landmark(
        record.sop_instance_uid
    )
    assert nipple is not None
    item = viewport.image_item
    column, row = nipple.point
    first, next_ = (item.mapToDevice(QPointF(column + d, row)) for d in (0.0, 1.0))
    assert first is not None and next_ is not None
    screen_per_column = next_.x() - first.x()  # signed: a cell may show the image flipped
    width = viewport.width()
    viewport.center_on(column - (width / 2.0 - 20.0) / screen_per_column, row)
    viewport.view_box.updateMatrix()  # pyqtgraph applies a new range at the next paint
    at = item.mapToDevice(QPointF(column, row))
    assert at is not None and width - 40.0 < at.x() < width  # the nipple by the right edge
    tree = suggested(qtbot, window, Qt.Key.Key_T).tree
    (label,) = window.suggestions.layers[viewport].label_rects()
    assert label.right() == pytest.approx(at.x(), abs=2.0)  # it ends at the orifice…
    assert label.right() <= width  # …not cut off past it
    assert tree.branches[0].points[0] == pytest.approx(nipple.point, abs=0.5)
