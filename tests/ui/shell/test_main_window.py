"""GUI tests: what the main window shows must be what the core display pipeline computes."""

from __future__ import annotations

import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from galactoview import paths
from galactoview.dicom.loading import ImageRecord, load_pixels
from galactoview.imaging.display import VoiLut, VoiLutFunction, Window
from galactoview.reading.corner_text import voi_label
from galactoview.ui.shell.main_window import DECODING_MESSAGE, MainWindow, format_person_name
from galactoview.ui.viewer.decoding import DecodedImage, decode_image
from galactoview.ui.viewer.viewport import Viewport
from galactoview.ui.viewer.window_level import window_after_drag
from tests.helpers import make_mg_dataset, write_corrupt, write_dataset, write_mg, write_truncated
from tests.ui.conftest import OpenWindow, wait_until_settled


def displayed_pixels(viewport: Viewport) -> NDArray[np.uint8]:
    """Return the gray levels pyqtgraph draws for the image (its QImage, as numpy)."""
    item = viewport.image_item
    item.render()
    qimage = item.qimage
    assert qimage is not None
    gray = qimage.convertToFormat(QImage.Format.Format_Grayscale8)
    rows, columns = gray.height(), gray.width()
    data = np.frombuffer(gray.constBits(), np.uint8).reshape(rows, gray.bytesPerLine())
    return data[:, :columns].copy()


def core_pixels(viewport: Viewport) -> NDArray[np.uint8]:
    """Return what the core pipeline says the image should look like at full resolution."""
    assert viewport.pipeline is not None
    assert viewport.stored is not None
    return viewport.pipeline.render(viewport.stored, viewport.voi)


def core_level_pixels(viewport: Viewport) -> NDArray[np.uint8]:
    """Return the core's LUT applied to the core's pyramid level the viewport shows."""
    assert viewport.pipeline is not None
    assert viewport.pyramid is not None
    level = viewport.pyramid.levels[viewport.current_level]
    pixels: NDArray[np.uint8] = viewport.pipeline.lut(viewport.voi)[level]
    return pixels


def assert_shows_core_output(viewport: Viewport) -> None:
    """Assert that pyqtgraph draws exactly what the core computes for the level shown.

    At level 0 (1:1 and closer, and every image too small for a pyramid) that is
    ``DisplayPipeline.render(stored, voi)`` itself.
    """
    shown = displayed_pixels(viewport)
    expected = core_level_pixels(viewport)
    assert shown.shape == expected.shape
    mismatches = int(np.count_nonzero(shown != expected))
    assert mismatches == 0, f"{mismatches} pixels differ from the core's LUT on the level"
    if viewport.current_level == 0:
        full = core_pixels(viewport)
        assert shown.shape == full.shape
        mismatches = int(np.count_nonzero(shown != full))
        assert mismatches == 0, f"{mismatches} pixels differ from DisplayPipeline.render"


def zoom_to_full_resolution(viewport: Viewport) -> None:
    """Zoom to one stored pixel per screen pixel (top-left corner of the image)."""
    rect = viewport.view_box.rect()
    ratio = viewport.devicePixelRatioF()
    viewport.view_box.setRange(
        xRange=(0, rect.width() * ratio), yRange=(0, rect.height() * ratio), padding=0
    )


def send_mouse(
    viewport: Viewport,
    kind: QEvent.Type,
    pos: QPointF,
    button: Qt.MouseButton,
    buttons: Qt.MouseButton,
) -> None:
    """Deliver a real mouse event (with held buttons, which QTest.mouseMove cannot)."""
    widget = viewport.viewport()
    global_pos = QPointF(widget.mapToGlobal(pos.toPoint()))
    event = QMouseEvent(kind, pos, global_pos, button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def left_drag(viewport: Viewport, start: QPointF, end: QPointF, steps: int = 5) -> None:
    left = Qt.MouseButton.LeftButton
    send_mouse(viewport, QEvent.Type.MouseButtonPress, start, left, left)
    for step in range(1, steps + 1):
        pos = start + (end - start) * (step / steps)
        send_mouse(viewport, QEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton, left)
    send_mouse(viewport, QEvent.Type.MouseButtonRelease, end, left, Qt.MouseButton.NoButton)


def widget_pos(viewport: Viewport, x: float, y: float) -> QPointF:
    """Return the widget position of image item (SCOORD) coordinates, unrounded.

    (``QGraphicsView.mapFromScene`` rounds to whole pixels.)
    """
    scene = viewport.image_item.mapToScene(QPointF(x, y))
    return QPointF(viewport.viewportTransform().map(scene))


def current_window(window: MainWindow) -> Window:
    voi = window.viewport.voi
    assert isinstance(voi, Window)
    return voi


# --- start-up ---------------------------------------------------------------------------


def test_opens_on_post_contrast_cc_showing_core_output(
    open_window: OpenWindow, study_dir: Path
) -> None:
    window = open_window([study_dir])
    assert window.windowTitle() == "Phantom, Jane — Galactography left"
    assert window.current_index == 1
    assert window.records[1].path.name == "cc.dcm"
    assert window.browser.current_index() == 1
    viewport = window.viewport
    assert viewport.image_item.axisOrder == "row-major"
    assert viewport.stored is not None
    assert viewport.stored.shape == (64, 48)
    # Default VOI: the file's first window.
    assert viewport.voi == Window(2048.0, 4096.0, VoiLutFunction.LINEAR, "NORMAL")
    assert_shows_core_output(viewport)
    assert window.voi_label.text() == "W 4096 L 2048 LINEAR (NORMAL)"
    assert window.image_label.text() == "L CC · post-contrast"
    assert window.problems.messages() == []


def test_browser_lists_the_images_and_marks_those_hung(
    open_window: OpenWindow, study_dir: Path
) -> None:
    window = open_window([study_dir])
    assert window.browser.tree.topLevelItemCount() == 1
    assert [text.split("\n")[0] for text in window.browser.image_texts()] == [
        "L CC",
        "L CC",
        "L CC MAG",
        "L ML",
    ]
    assert window.browser.shown_indices() == [1, 3]  # post-contrast CC | ML


def test_row_zero_is_at_the_top_and_aspect_is_locked(
    open_window: OpenWindow, study_dir: Path
) -> None:
    viewport = open_window([study_dir]).viewport
    top_left = widget_pos(viewport, 0, 0)
    bottom_right = widget_pos(viewport, 48, 64)
    assert top_left.y() < bottom_right.y()
    assert top_left.x() < bottom_right.x()
    pixel_width = (bottom_right.x() - top_left.x()) / 48
    pixel_height = (bottom_right.y() - top_left.y()) / 64
    assert pixel_width == pytest.approx(pixel_height, rel=1e-6)


def test_selecting_an_image_decodes_and_shows_it(
    open_window: OpenWindow, study_dir: Path, qtbot: QtBot
) -> None:
    window = open_window([study_dir])
    window.session.hang_manual(1, 1)
    with qtbot.waitSignal(window.image_shown) as shown:
        window.browser.image_activated.emit(3)
    assert shown.args == [3]
    assert window.current_index == 3
    assert window.image_label.text() == "L ML · post-contrast"
    assert window.viewport.stored is not None
    assert window.viewport.stored[0, 0] != window.viewport.stored[0, -1]
    assert_shows_core_output(window.viewport)


def test_page_keys_move_through_images(
    open_window: OpenWindow, study_dir: Path, qtbot: QtBot
) -> None:
    window = open_window([study_dir])
    window.named_actions["next"].trigger()
    assert window.current_index == 2
    assert window.browser.current_index() == 2
    window.named_actions["previous"].trigger()
    window.named_actions["previous"].trigger()
    window.named_actions["previous"].trigger()  # stays on the first image
    assert window.current_index == 0
    wait_until_settled(qtbot, window)
    assert window.named_actions["next"].shortcut().toString() == "PgDown"
    assert window.named_actions["previous"].shortcut().toString() == "PgUp"
    assert_shows_core_output(window.viewport)


# --- decoding off the GUI thread ----------------------------------------------------------


def test_image_is_decoded_in_a_pool_thread_then_shown_as_the_core_renders(
    open_window: OpenWindow, study_dir: Path, qtbot: QtBot
) -> None:
    threads: list[int] = []

    def decode(record: ImageRecord) -> DecodedImage:
        threads.append(threading.get_ident())
        return decode_image(record)

    window = open_window([study_dir], decode=decode)
    window.session.hang_manual(1, 1)
    qtbot.waitUntil(lambda: not window.decoder.is_busy())  # the prefetches
    window.decoder.clear()  # so image 3 must be decoded again
    decoded_before = len(threads)
    with qtbot.waitSignal(window.image_shown) as shown:
        window.select_image(3)
        assert window.is_decoding()
        assert window.statusBar().currentMessage().startswith(DECODING_MESSAGE)
        assert window.image_label.text() == "L ML · post-contrast"
        assert not window.viewport.has_image()  # never the previous image under this label
    assert shown.args == [3]
    assert window.statusBar().currentMessage() == ""
    assert len(threads) == decoded_before + 1
    assert threading.get_ident() not in threads
    assert window.viewport.stored is not None
    np.testing.assert_array_equal(window.viewport.stored, load_pixels(window.records[3]))
    assert_shows_core_output(window.viewport)


def test_next_image_is_prefetched_and_shown_at_once(
    open_window: OpenWindow, study_dir: Path, qtbot: QtBot
) -> None:
    window = open_window([study_dir])
    assert window.current_index == 1
    following = window.records[2]
    qtbot.waitUntil(lambda: following.sop_instance_uid in window.decoder.cached_uids())
    shown: list[int] = []
    window.image_shown.connect(shown.append)
    window.session.next_image()  # no event loop turn: it must come from the cache
    assert shown == [2]
    assert not window.is_decoding()
    assert window.statusBar().currentMessage() != DECODING_MESSAGE
    assert_shows_core_output(window.viewport)


def test_selecting_a_then_b_quickly_ends_with_b_displayed(
    open_window: OpenWindow, study_dir: Path, qtbot: QtBot
) -> None:
    release_a = threading.Event()
    armed = threading.Event()

    def decode(record: ImageRecord) -> DecodedImage:
        if armed.is_set() and record.path.name == "scout.dcm":
            release_a.wait(timeout=10)  # image A, index 0: held back until B is shown
        return decode_image(record)

    window = open_window([study_dir], decode=decode)
    window.session.hang_manual(1, 1)
    qtbot.waitUntil(lambda: not window.decoder.is_busy())
    window.decoder.clear()
    armed.set()
    shown: list[int] = []
    window.image_shown.connect(shown.append)
    a_uid = window.records[0].sop_instance_uid
    try:
        window.select_image(0)
        with qtbot.waitSignal(window.image_shown) as b_shown:
            window.select_image(3)
        assert b_shown.args == [3]
    finally:
        release_a.set()
    # A's late result is cached, not shown.
    qtbot.waitUntil(lambda: a_uid in window.decoder.cached_uids())
    assert shown == [3]
    assert window.current_index == 3
    assert window.image_label.text() == "L ML · post-contrast"
    assert window.viewport.stored is not None
    np.testing.assert_array_equal(window.viewport.stored, load_pixels(window.records[3]))
    assert_shows_core_output(window.viewport)


# --- window / level -----------------------------------------------------------------------


def test_left_drag_changes_window_in_the_right_direction(
    open_window: OpenWindow, study_dir: Path
) -> None:
    window = open_window([study_dir])
    viewport = window.viewport
    before = current_window(window)
    before_pixels = displayed_pixels(viewport)
    size = viewport.viewport().size()
    start = QPointF(size.width() / 2, size.height() / 2)
    dx, dy = 0.2 * size.width(), 0.1 * size.height()
    left_drag(viewport, start, start + QPointF(dx, dy))

    after = current_window(window)
    stored = viewport.stored
    assert stored is not None and viewport.pipeline is not None
    extremes = viewport.pipeline.modality_values(np.array([stored.min(), stored.max()]))
    span = float(extremes[1] - extremes[0])
    # Right widens, down raises the center; a full-width drag would span the data range.
    assert after.width == pytest.approx(before.width + 0.2 * span, rel=0.02)
    assert after.center == pytest.approx(before.center + 0.1 * span, rel=0.02)
    assert after.function is before.function
    assert window.window_controls.combo.currentIndex() == -1  # "Custom"
    assert window.voi_label.text().startswith(f"W {after.width:g} L {after.center:g}")
    assert not np.array_equal(displayed_pixels(viewport), before_pixels)
    assert_shows_core_output(viewport)


def test_drag_left_and_up_narrows_and_lowers(open_window: OpenWindow, study_dir: Path) -> None:
    window = open_window([study_dir])
    window.window_controls.apply_preset(1)  # W 1000 L 1500
    before = current_window(window)
    viewport = window.viewport
    viewport.begin_window_drag()
    viewport.drag_window(-0.05, -0.05)
    viewport.drag_window(-0.1, -0.1)  # fractions are since the start of the drag
    viewport.end_window_drag()
    after = current_window(window)
    assert after.width < before.width
    assert after.center < before.center
    assert_shows_core_output(viewport)


def test_window_width_never_drops_below_one(open_window: OpenWindow, study_dir: Path) -> None:
    viewport = open_window([study_dir]).viewport
    viewport.begin_window_drag()
    viewport.drag_window(-5.0, 0.0)
    viewport.end_window_drag()
    voi = viewport.voi
    assert isinstance(voi, Window)
    assert voi.width == 1.0
    assert_shows_core_output(viewport)


def test_window_after_drag_is_pure_math() -> None:
    start = Window(100.0, 50.0, VoiLutFunction.SIGMOID, "SOFT")
    moved = window_after_drag(start, 0.5, -0.25, 400.0)
    assert moved == Window(0.0, 250.0, VoiLutFunction.SIGMOID, "")


def test_a_dragged_window_has_no_stray_decimals() -> None:
    """A 12-16-bit span gives whole values ("W 6119"); a span of 0.8 keeps 4 decimals."""
    dragged = window_after_drag(Window(2048.0, 4096.0), 0.123456, -0.0333, 16383.0)
    assert (dragged.center, dragged.width) == (1502.0, 6119.0)  # 6118.58, 1502.45
    assert voi_label(dragged) == "W 6119 L 1502"
    fine = window_after_drag(Window(0.5, 0.5, VoiLutFunction.SIGMOID), 0.0123, 0.0, 0.8)
    assert fine.width == 0.5098


def test_presets_switch_from_combo_and_keys(
    open_window: OpenWindow, study_dir: Path, qtbot: QtBot
) -> None:
    window = open_window([study_dir])
    combo = window.window_controls.combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "1  NORMAL (W 4096 L 2048)",
        "2  HARDER (W 1000 L 1500)",
        "3  SOFTER (W 1800 L 2600)",
        "Auto",
    ]
    assert combo.currentIndex() == 0

    combo.setCurrentIndex(2)
    combo.activated.emit(2)
    assert window.viewport.voi == window.window_controls.presets[2]
    assert_shows_core_output(window.viewport)

    window.activateWindow()
    handle = window.windowHandle()
    assert handle is not None
    handle.requestActivate()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    QTest.keyClick(window, Qt.Key.Key_2)
    assert window.viewport.voi == Window(1500.0, 1000.0, VoiLutFunction.LINEAR, "HARDER")
    assert combo.currentIndex() == 1
    assert_shows_core_output(window.viewport)

    QTest.keyClick(window, Qt.Key.Key_A)
    auto = current_window(window)
    assert auto.explanation == "AUTO"
    assert combo.currentText() == "Auto"
    assert_shows_core_output(window.viewport)
    enabled = [action.isEnabled() for action in window.window_controls.actions]
    assert enabled == [True] * 3 + [False] * 6


def test_auto_window_is_default_without_presets(open_window: OpenWindow, tmp_path: Path) -> None:
    path = write_mg(tmp_path / "plain.dcm", windows=())
    window = open_window([path])
    voi = current_window(window)
    assert voi.explanation == "AUTO"
    assert window.window_controls.presets == []
    assert window.window_controls.combo.currentText() == "Auto"
    assert_shows_core_output(window.viewport)


def test_sigmoid_and_monochrome1_are_displayed_as_the_core_renders(
    open_window: OpenWindow, tmp_path: Path
) -> None:
    path = write_mg(tmp_path / "m1.dcm", photometric="MONOCHROME1", voi_lut_function="SIGMOID")
    window = open_window([path])
    viewport = window.viewport
    assert viewport.pipeline is not None and viewport.pipeline.invert
    assert current_window(window).function is VoiLutFunction.SIGMOID
    assert_shows_core_output(viewport)
    window.window_controls.apply_auto_window()
    assert current_window(window).function is VoiLutFunction.SIGMOID
    assert_shows_core_output(viewport)


def test_voi_lut_sequence_preset_is_displayed(open_window: OpenWindow, tmp_path: Path) -> None:
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence as DicomSequence

    ds = make_mg_dataset(windows=())
    item = Dataset()
    item.LUTDescriptor = [4096, 0, 8]
    item.LUTData = (np.arange(4096, dtype="<u2") // 16).tobytes()
    item.LUTExplanation = "GAMMA"
    ds.VOILUTSequence = DicomSequence([item])
    window = open_window([write_dataset(ds, tmp_path / "voilut.dcm")])
    assert isinstance(window.viewport.voi, VoiLut)
    assert window.voi_label.text() == "VOI LUT GAMMA"
    assert_shows_core_output(window.viewport)


# --- navigation and readout ---------------------------------------------------------------


def test_cursor_readout_shows_stored_and_modality_values(
    open_window: OpenWindow, study_dir: Path
) -> None:
    window = open_window([study_dir])
    viewport = window.viewport
    assert viewport.stored is not None
    sample = viewport.sample_at(10.5, 3.5)
    assert sample is not None
    assert (sample.column, sample.row) == (10, 3)
    assert sample.stored == int(viewport.stored[3, 10])
    assert sample.modality == float(viewport.stored[3, 10])  # slope 1, intercept 0
    assert viewport.sample_at(-0.5, 3.0) is None
    assert viewport.sample_at(48.0, 3.0) is None

    send_mouse(
        viewport,
        QEvent.Type.MouseMove,
        widget_pos(viewport, 10.5, 3.5),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
    )
    text = window.status.cursor_label.text()
    assert text.startswith("(10, 3)")
    assert text.endswith(f"{sample.modality:g}")
    if not window.status.compact:  # a narrow window shows the value only
        assert f"stored {sample.stored}" in text


def test_middle_drag_pans_without_changing_the_window(
    open_window: OpenWindow, study_dir: Path
) -> None:
    window = open_window([study_dir])
    viewport = window.viewport
    voi = viewport.voi
    (x0, _), (y0, _) = viewport.view_box.viewRange()
    middle = Qt.MouseButton.MiddleButton
    start = QPointF(viewport.width() / 2, viewport.height() / 2)
    send_mouse(viewport, QEvent.Type.MouseButtonPress, start, middle, middle)
    for step in range(1, 6):
        pos = start + QPointF(-20 * step, -10 * step)
        send_mouse(viewport, QEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton, middle)
    send_mouse(viewport, QEvent.Type.MouseButtonRelease, pos, middle, Qt.MouseButton.NoButton)
    (x1, _), (y1, _) = viewport.view_box.viewRange()
    assert x1 > x0  # dragging left/up moves the view right/down over the image
    assert y1 > y0
    assert viewport.voi == voi


def test_fit_shows_the_whole_image_after_zoom(open_window: OpenWindow, study_dir: Path) -> None:
    window = open_window([study_dir])
    view_box = window.viewport.view_box
    view_box.scaleBy((0.2, 0.2))
    (x0, x1), (y0, y1) = view_box.viewRange()
    assert x1 - x0 < 48
    window.named_actions["fit"].trigger()
    (x0, x1), (y0, y1) = view_box.viewRange()
    assert x0 <= 0 and x1 >= 48 and y0 <= 0 and y1 >= 64
    assert window.named_actions["fit"].shortcut().toString() == "F"


# --- problems -----------------------------------------------------------------------------


def test_corrupt_file_is_listed_while_good_images_display(
    open_window: OpenWindow, study_dir: Path
) -> None:
    corrupt = write_corrupt(study_dir / "corrupt.dcm")
    window = open_window([study_dir])
    assert window.problems.messages() == [
        "corrupt.dcm: damaged or empty DICOM file: no image attributes found"
    ]
    assert window.problems_dock.isVisible()
    assert window.problems_dock.list_widget.item(0).toolTip().startswith(str(corrupt))
    assert len(window.records) == 4
    assert window.viewport.has_image()
    assert_shows_core_output(window.viewport)


def test_problem_inside_a_zip_names_the_member(open_window: OpenWindow, tmp_path: Path) -> None:
    good = write_mg(tmp_path / "good.dcm")
    corrupt = write_corrupt(tmp_path / "corrupt.dcm")
    archive = tmp_path / "study.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(good, "a/good.dcm")
        zf.write(corrupt, "a/corrupt.dcm")
    window = open_window([archive])
    (message,) = window.problems.messages()
    assert message.startswith("study.zip: [a/corrupt.dcm] damaged or empty DICOM file")
    assert len(window.records) == 1


def test_pixel_decode_error_is_reported_and_next_image_still_shows(
    open_window: OpenWindow, study_dir: Path, qtbot: QtBot
) -> None:
    write_truncated(study_dir / "series9" / "cut.dcm", series_number=9)
    window = open_window([study_dir])
    window.session.hang_manual(1, 1)
    window.select_image(0)
    with qtbot.waitSignal(window.image_failed) as failed:
        window.select_image(4)
    assert failed.args == [4]
    assert not window.viewport.has_image()
    (message,) = window.problems.messages()
    assert message.startswith("cut.dcm: the pixel data is truncated")
    assert "Problem — cut.dcm" in window.statusBar().currentMessage()
    assert window.window_controls.presets == []

    with qtbot.waitSignal(window.image_failed):
        window.select_image(4)  # failures are not cached: decoded again, reported once
    assert len(window.problems.messages()) == 1

    with qtbot.waitSignal(window.image_shown):
        window.select_image(0)
    assert_shows_core_output(window.viewport)


def test_empty_scan_opens_an_empty_window(open_window: OpenWindow, tmp_path: Path) -> None:
    window = open_window([tmp_path / "nothing-here"])
    assert window.records == ()
    assert window.windowTitle() == "GalactoView"
    assert not window.viewport.has_image()
    assert window.problems.messages() == [
        "nothing-here: no such file or folder",
        "No images could be opened (1 problem(s)).",
    ]


def test_format_person_name() -> None:
    assert format_person_name("Phantom^Jane") == "Phantom, Jane"
    assert format_person_name("Phantom^Jane^Q^Dr") == "Phantom, Jane Q Dr"
    assert format_person_name("Phantom") == "Phantom"
    assert format_person_name("") == ""


# --- the real sample study ----------------------------------------------------------------


def test_sample_study_displays_core_pipeline_output(open_window: OpenWindow) -> None:
    sample = paths.sample_dicom_dir()
    if not sample.is_dir():
        pytest.skip(f"sample study not generated yet: {sample} does not exist")
    window = open_window([sample])
    assert window.problems.messages() == []
    assert len(window.records) == 9
    assert window.current_index is not None
    record = window.records[window.current_index]
    assert record.transfer_syntax_uid == "1.2.840.10008.1.2.4.90"  # JPEG 2000 lossless
    viewport = window.viewport
    assert viewport.has_image()
    assert viewport.stored is not None and viewport.pyramid is not None
    assert viewport.pipeline is not None
    # Fitted: a reduced level is drawn, exactly the core's LUT on the core's level.
    assert viewport.current_level > 0
    assert viewport.image_item.image.base is viewport.pyramid.levels[viewport.current_level]
    assert_shows_core_output(viewport)
    # At 1:1 the displayed pixels are DisplayPipeline.render(stored, voi), exactly.
    zoom_to_full_resolution(viewport)
    assert viewport.current_level == 0
    shown = displayed_pixels(viewport)
    assert shown.shape == viewport.stored.shape
    np.testing.assert_array_equal(shown, viewport.pipeline.render(viewport.stored, viewport.voi))
    assert_shows_core_output(viewport)
