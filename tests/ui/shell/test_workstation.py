"""The reading workstation on the sample study: hanging protocols, flips, links, keys, settings.

These drive the real main window (pytest-qt, offscreen) and check what lands where
against the phantom's ground truth (sample_data/ground_truth.json): the nipple and the
chest wall of each image, seen in widget coordinates after the hanging flips.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from galactoview.app import create_main_window
from galactoview.dicom.loading import load_pixels, scan
from galactoview.imaging.display import Window
from galactoview.reading.hanging import Anchor, GalactographyStage, ProtocolKind
from galactoview.ui.shell.main_window import MainWindow
from galactoview.ui.shell.settings import Settings
from galactoview.ui.viewer.decoding import ImageDecoder
from galactoview.ui.viewer.viewport import MouseMode, Viewport
from tests.helpers import pydicom_test_file
from tests.ui.conftest import OpenWindow
from tests.ui.shell.test_main_window import assert_shows_core_output

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "sample_data"
TRUTH: dict[str, Any] = json.loads((SAMPLE / "ground_truth.json").read_text())
IMAGES_BY_UID = {image["sop_instance_uid"]: image for image in TRUTH["images"]}


def settle(qtbot: QtBot, window: MainWindow) -> None:
    """Wait until every image placed in a viewport is decoded and shown."""
    qtbot.waitUntil(lambda: not window.is_decoding(), timeout=20_000)
    qtbot.waitUntil(
        lambda: all(
            viewport.has_image()
            for number, viewport in enumerate(window.hanging_view.viewports)
            if (cell := window.hanging_view.cell(number)) is not None and cell.image is not None
        ),
        timeout=20_000,
    )


@pytest.fixture
def sample_window(open_window: OpenWindow, qtbot: QtBot) -> MainWindow:
    """Return the main window opened on the sample study, every placed image shown."""
    window = open_window([SAMPLE / "dicom"])
    window.resize(1400, 900)
    settle(qtbot, window)
    return window


def truth_of(viewport: Viewport) -> dict[str, Any]:
    """Return the ground truth of the image a viewport shows."""
    assert viewport.record is not None
    truth: dict[str, Any] = IMAGES_BY_UID[viewport.record.sop_instance_uid]
    return truth


def nipple_and_chest_wall_x(viewport: Viewport) -> tuple[float, float]:
    """Return the widget x of the ground-truth nipple and of the chest wall.

    The chest wall is the end of the ground-truth chest-wall line farthest from the
    nipple (the image edge on CC views; the pectoral line's base on MLO views).
    """
    truth = truth_of(viewport)
    nipple = truth["nipple"]
    nipple_x, _ = viewport.map_image_to_widget(nipple["column"], nipple["row"])
    ends = [viewport.map_image_to_widget(c, r)[0] for c, r in truth["chest_wall"]["points"]]
    wall_x = max(ends, key=lambda x: abs(x - nipple_x))
    return nipple_x, wall_x


def test_sample_study_opens_in_the_galactography_protocol(sample_window: MainWindow) -> None:
    hanging = sample_window.hanging_view.hanging
    assert hanging is not None
    assert hanging.kind is ProtocolKind.GALACTOGRAPHY
    assert hanging.stage is GalactographyStage.POST
    labels = [
        viewport.record.view.label
        for viewport in sample_window.hanging_view.viewports
        if viewport.record
    ]
    assert labels == ["L CC", "L ML"]
    phases = {
        viewport.record.contrast_phase.value
        for viewport in sample_window.hanging_view.viewports
        if viewport.record
    }
    assert phases == {"post"}


def test_galactography_pair_hangs_left_breast_nipple_right_at_one_scale(
    sample_window: MainWindow,
) -> None:
    cc, ml = sample_window.hanging_view.viewports
    for viewport in (cc, ml):
        assert viewport.flip.horizontal is False and viewport.flip.vertical is False
        assert viewport.image_item.transform().isIdentity()
        assert viewport.alignment is Anchor.LEFT
        nipple_x, wall_x = nipple_and_chest_wall_x(viewport)
        assert nipple_x > wall_x  # left breast: nipple to the viewer's right
        assert wall_x < 0.1 * viewport.width()  # chest wall against the left edge
    scale_cc, scale_ml = cc.mm_per_screen_pixel(), ml.mm_per_screen_pixel()
    assert scale_cc is not None and scale_ml is not None
    assert scale_cc == pytest.approx(scale_ml, rel=1e-6)


def test_prior_4up_mirrors_the_stored_rcc_and_puts_chest_walls_back_to_back(
    sample_window: MainWindow, qtbot: QtBot
) -> None:
    sample_window.session.hang_prior_mammography()
    settle(qtbot, sample_window)

    def hung_as_expected() -> None:
        hanging = sample_window.hanging_view.hanging
        assert hanging is not None and hanging.kind is ProtocolKind.MAMMOGRAPHY
        viewports = sample_window.hanging_view.viewports
        labels = [viewport.record.view.label if viewport.record else "" for viewport in viewports]
        assert labels == ["R CC", "L CC", "R MLO", "L MLO"]
        rcc, lcc, rmlo, lmlo = viewports
        # The prior RCC is stored A\L (mirrored): hung flipped, as an item transform.
        assert rcc.flip.horizontal is True
        assert rcc.image_item.transform().m11() == -1.0
        assert rcc.stored is not None
        assert rcc.image_item.transform().dx() == rcc.stored.shape[1]
        for viewport in (lcc, rmlo, lmlo):
            assert viewport.image_item.transform().isIdentity()
        for right, left in ((rcc, lcc), (rmlo, lmlo)):
            right_nipple, right_wall = nipple_and_chest_wall_x(right)
            left_nipple, left_wall = nipple_and_chest_wall_x(left)
            assert right_nipple < right_wall  # right breast: nipple to the viewer's left
            assert left_nipple > left_wall
            # Back to back: each chest wall against the middle of the pair.
            assert right_wall > 0.9 * right.width()
            assert left_wall < 0.1 * left.width()
            assert right.alignment is Anchor.RIGHT and left.alignment is Anchor.LEFT
            right_scale, left_scale = right.mm_per_screen_pixel(), left.mm_per_screen_pixel()
            assert right_scale is not None and left_scale is not None
            assert right_scale == pytest.approx(left_scale, rel=1e-6)

    # The layout settles after the images are shown (a resize re-fits and re-anchors the
    # cells); on a busy machine that can come a little later: wait for it, then check.
    qtbot.waitUntil(hung_as_expected, timeout=10_000)


def test_each_image_opens_in_its_own_window_despite_the_link(sample_window: MainWindow) -> None:
    for viewport in sample_window.hanging_view.viewports:
        assert viewport.pipeline is not None
        assert viewport.voi == viewport.pipeline.default_voi()
    assert sample_window.window_controls.combo.currentIndex() == 0  # the file's first preset


def test_linked_window_drag_changes_all_views_as_the_engine_computes(
    sample_window: MainWindow,
) -> None:
    cc, ml = sample_window.hanging_view.viewports
    assert sample_window.hanging_view.link_window
    cc.begin_window_drag()
    cc.drag_window(0.1, -0.05)
    cc.end_window_drag()
    assert isinstance(cc.voi, Window)
    assert ml.voi == cc.voi
    for viewport in (cc, ml):
        assert_shows_core_output(viewport)


def test_unlinked_window_drag_changes_only_the_active_view(sample_window: MainWindow) -> None:
    sample_window.named_actions["link_window"].trigger()
    assert not sample_window.hanging_view.link_window
    cc, ml = sample_window.hanging_view.viewports
    before = ml.voi
    cc.begin_window_drag()
    cc.drag_window(0.2, 0.0)
    cc.end_window_drag()
    assert ml.voi == before
    assert cc.voi != before


def test_linked_zoom_keeps_the_pair_at_one_physical_scale(sample_window: MainWindow) -> None:
    cc, ml = sample_window.hanging_view.viewports
    cc.view_box.scaleBy((0.5, 0.5))
    cc.view_box.sigRangeChangedManually.emit([True, True])
    scale_cc, scale_ml = cc.mm_per_screen_pixel(), ml.mm_per_screen_pixel()
    assert scale_cc is not None and scale_ml is not None
    assert scale_ml == pytest.approx(scale_cc, rel=1e-3)
    fitted = sample_window.hanging_view.viewports[0].fit_mm_per_screen_pixel()
    assert fitted is not None and scale_cc < fitted  # really zoomed in


def test_keys_switch_galactography_stages(sample_window: MainWindow, qtbot: QtBot) -> None:
    QTest.keyClick(sample_window, Qt.Key.Key_C)
    settle(qtbot, sample_window)
    hanging = sample_window.hanging_view.hanging
    assert hanging is not None and hanging.stage is GalactographyStage.COMPARE_PRE
    phases = [
        v.record.contrast_phase.value for v in sample_window.hanging_view.viewports if v.record
    ]
    assert phases == ["post", "post", "pre", "pre"]
    QTest.keyClick(sample_window, Qt.Key.Key_C)  # again: back to post-contrast
    assert sample_window.hanging_view.hanging is not None
    assert sample_window.hanging_view.hanging.stage is GalactographyStage.POST
    QTest.keyClick(sample_window, Qt.Key.Key_X)
    settle(qtbot, sample_window)
    labels = [v.record.view.label for v in sample_window.hanging_view.viewports if v.record]
    assert labels == ["L CC", "L CC MAG"]
    QTest.keyClick(sample_window, Qt.Key.Key_C, Qt.KeyboardModifier.ShiftModifier)
    settle(qtbot, sample_window)
    dates = [v.record.study_date for v in sample_window.hanging_view.viewports if v.record]
    assert dates == ["20260312", "20260312", "20240220", "20240220"]
    QTest.keyClick(sample_window, Qt.Key.Key_H)
    assert sample_window.hanging_view.hanging is not None
    assert sample_window.hanging_view.hanging.stage is GalactographyStage.POST


def test_manual_layout_keys_and_image_stepping(sample_window: MainWindow, qtbot: QtBot) -> None:
    QTest.keyClick(sample_window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, sample_window)
    hanging = sample_window.hanging_view.hanging
    assert hanging is not None and hanging.kind is ProtocolKind.MANUAL
    assert (hanging.rows, hanging.columns) == (2, 2)
    QTest.keyClick(sample_window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, sample_window)
    start = sample_window.current_index
    assert start is not None
    QTest.keyClick(sample_window, Qt.Key.Key_PageDown)
    assert sample_window.current_index == start + 1
    QTest.keyClick(sample_window, Qt.Key.Key_PageUp)
    assert sample_window.current_index == start
    series_before = sample_window.records[start].series_instance_uid
    QTest.keyClick(sample_window, Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier)
    index = sample_window.current_index
    assert index is not None
    assert sample_window.records[index].series_instance_uid != series_before


def test_layout_key_cycles_through_every_layout(sample_window: MainWindow, qtbot: QtBot) -> None:
    names = []
    for _ in range(9):
        QTest.keyClick(sample_window, Qt.Key.Key_L)
        hanging = sample_window.hanging_view.hanging
        assert hanging is not None
        names.append(hanging.name)
    assert len(set(names)) >= 8  # 5 stages + 2 four-ups + 3 manual layouts, cycling


def test_tool_keys_set_the_mouse_mode(sample_window: MainWindow, qtbot: QtBot) -> None:
    for key, mode in (
        (Qt.Key.Key_R, MouseMode.MEASURE),
        (Qt.Key.Key_G, MouseMode.MAGNIFY),
        (Qt.Key.Key_P, MouseMode.PAN),
        (Qt.Key.Key_Z, MouseMode.ZOOM),
        (Qt.Key.Key_W, MouseMode.WINDOW),
    ):
        QTest.keyClick(sample_window, key)
        assert sample_window.mouse_mode is mode
        assert all(v.mouse_mode is mode for v in sample_window.hanging_view.viewports)


def test_invert_and_reset(sample_window: MainWindow, qtbot: QtBot) -> None:
    cc = sample_window.viewport
    before = cc.voi
    assert cc.pipeline is not None
    was = cc.pipeline.invert
    QTest.keyClick(sample_window, Qt.Key.Key_I)
    assert cc.pipeline.invert is not was
    assert_shows_core_output(cc)
    QTest.keyClick(sample_window, Qt.Key.Key_Home)
    assert cc.pipeline.invert is was
    assert cc.voi == before


def test_numeric_window_entry(sample_window: MainWindow) -> None:
    dialog = sample_window.window_controls.enter_window()
    assert dialog is not None
    dialog.center_box.setValue(1500.0)
    dialog.width_box.setValue(900.0)
    dialog.accept()
    voi = sample_window.viewport.voi
    assert isinstance(voi, Window)
    assert (voi.center, voi.width) == (1500.0, 900.0)


def test_overlay_key_toggles_and_is_remembered(
    sample_window: MainWindow, qtbot: QtBot, settings: Settings
) -> None:
    overlays = [sample_window.tools.overlays[v] for v in sample_window.hanging_view.viewports]
    assert all(overlay.is_visible() for overlay in overlays)
    QTest.keyClick(sample_window, Qt.Key.Key_O)
    assert not any(overlay.is_visible() for overlay in overlays)
    assert settings.flag("view/overlays", True) is False


def test_shortcuts_are_unique(sample_window: MainWindow) -> None:
    keys = [
        sequence.toString()
        for action in sample_window.actions()
        for sequence in action.shortcuts()
        if not sequence.isEmpty()
    ]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)


def test_open_paths_scans_in_the_background_and_remembers(
    open_window: OpenWindow, qtbot: QtBot, study_dir: Path, settings: Settings, tmp_path: Path
) -> None:
    window = open_window([])
    (study_dir / "broken.dcm").write_bytes(b"DICM" * 10)
    with qtbot.waitSignal(window.scan_finished, timeout=10_000):
        window.open_paths([study_dir])
    settle(qtbot, window)
    assert window.records
    assert any("broken.dcm" in line for line in window.problems.messages())
    assert settings.recent()[0] == [study_dir.resolve()]
    assert settings.text("files/last_folder") == str(study_dir)


def test_nothing_openable_opens_the_error_dialog(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"not dicom at all")
    window = open_window([])
    with qtbot.waitSignal(window.scan_finished, timeout=10_000):
        window.open_paths([bad])
    dialog = window.findChild(QMessageBox, "ErrorDialog")
    assert dialog is not None
    assert "No images could be opened" in dialog.text()
    assert "bad.dcm" in dialog.detailedText()
    dialog.close()


def test_dropping_a_folder_opens_it(open_window: OpenWindow, qtbot: QtBot, study_dir: Path) -> None:
    window = open_window([])
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(study_dir))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(window.scan_finished, timeout=10_000):
        window.dropEvent(event)
    assert len(window.records) == 4


def test_geometry_and_links_are_restored(
    open_window: OpenWindow, qtbot: QtBot, study_dir: Path, settings: Settings
) -> None:
    window = open_window([study_dir])
    window.named_actions["link_zoom"].trigger()
    window.set_mouse_mode(MouseMode.MEASURE)
    window.resize(640, 480)  # within the offscreen platform's 800 x 600 screen
    window.close()
    again = create_main_window(scan([study_dir]), ImageDecoder(), settings)
    qtbot.addWidget(again)
    assert again.hanging_view.link_zoom is False
    assert again.mouse_mode is MouseMode.MEASURE
    assert (again.size().width(), again.size().height()) == (640, 480)


def test_ruler_on_the_magnified_view_reads_the_contact_distance(
    sample_window: MainWindow, qtbot: QtBot
) -> None:
    """Nipple to cyst on the magnified view, in mm, equals the same on the contact CC (1 %)."""
    distances = []
    for stage_key in (None, Qt.Key.Key_X):
        if stage_key is not None:
            QTest.keyClick(sample_window, stage_key)
            settle(qtbot, sample_window)
            viewport = sample_window.hanging_view.viewports[1]
        else:
            viewport = sample_window.hanging_view.viewports[0]
        truth = truth_of(viewport)
        cyst = next(lesion for lesion in truth["lesions"] if lesion["id"] == "cyst-1")
        nipple = truth["nipple"]
        ruler = sample_window.tools.rulers[viewport]
        ruler.add_ruler((nipple["column"], nipple["row"]), (cyst["column"], cyst["row"]))
        measurement = ruler.rulers()[-1]
        assert measurement.length_mm is not None
        distances.append(measurement.length_mm)
    contact, magnified = distances
    assert magnified == pytest.approx(contact, rel=0.01)
    assert np.isfinite(contact) and contact > 5.0


def test_multi_frame_images_step_and_play_frames(open_window: OpenWindow, qtbot: QtBot) -> None:
    path = pydicom_test_file("emri_small.dcm")  # 10 frames
    window = open_window([path])
    record = window.current_record()
    assert record is not None and record.frame_count == 10
    assert window.cine.frame_count == 10
    assert not window.cine_toolbar.isHidden()
    with qtbot.waitSignal(window.image_shown, timeout=10_000):
        QTest.keyClick(window, Qt.Key.Key_Right)
    assert window.viewport.frame == 1
    assert window.viewport.stored is not None
    np.testing.assert_array_equal(window.viewport.stored, load_pixels(record, 1))
    assert_shows_core_output(window.viewport)
    window.cine.set_fps(60)
    QTest.keyClick(window, Qt.Key.Key_Space)
    assert window.cine.is_playing()
    qtbot.waitUntil(lambda: window.viewport.frame >= 3, timeout=10_000)
    QTest.keyClick(window, Qt.Key.Key_Space)
    assert not window.cine.is_playing()
    shown = window.viewport.frame
    np.testing.assert_array_equal(window.viewport.stored, load_pixels(record, shown))


def test_single_frame_images_hide_the_cine_bar(sample_window: MainWindow) -> None:
    assert sample_window.cine_toolbar.isHidden()
