"""Tests for galactoview.ui.browser.study_browser: the tree, the header, thumbnails, activation."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from galactoview.dicom.loading import ImageRecord, PixelDataError, scan
from galactoview.imaging.thumbnails import thumbnail_shape
from galactoview.paths import sample_dicom_dir
from galactoview.ui.browser.study_browser import (
    StudyBrowserDock,
    ThumbnailLoader,
    format_dicom_date,
    image_label,
)
from tests.ui.qt_helpers import tree_item


class FakeRender:
    """A fast thumbnail renderer (run in pool threads): a flat field, or an error."""

    def __init__(self, fail: set[str] | None = None) -> None:
        self.fail = fail or set()
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, record: ImageRecord, max_size: int) -> np.ndarray:
        with self._lock:
            self.calls.append(record.path.name)
        if record.path.name in self.fail:
            raise PixelDataError(record.path, "damaged DICOM file: fake")
        value = 40 + 20 * (record.instance_number or 0)
        return np.full(thumbnail_shape(record.rows, record.columns, max_size), value, np.uint8)


def make_dock(qtbot: QtBot, render: FakeRender | None = None) -> StudyBrowserDock:
    loader = None if render is None else ThumbnailLoader(render=render)
    dock = StudyBrowserDock(loader=loader)
    if loader is not None:
        loader.setParent(dock)
    qtbot.addWidget(dock)
    dock.resize(360, 900)
    return dock


@pytest.fixture
def fake_dock(qtbot: QtBot) -> Iterator[tuple[StudyBrowserDock, FakeRender]]:
    render = FakeRender()
    dock = make_dock(qtbot, render)
    yield dock, render
    dock.shutdown()


@pytest.fixture
def sample_dock(
    qtbot: QtBot,
    fake_dock: tuple[StudyBrowserDock, FakeRender],
    sample_records: tuple[ImageRecord, ...],
) -> tuple[StudyBrowserDock, FakeRender]:
    """The dock with fake thumbnails, showing the sample study, its thumbnails arrived."""
    dock, render = fake_dock
    with qtbot.waitSignal(dock.thumbnails_done, timeout=10_000):
        dock.set_images(sample_records)
    return dock, render


def test_lists_studies_newest_first_with_series_and_image_labels(
    sample_dock: tuple[StudyBrowserDock, FakeRender],
) -> None:
    dock, _ = sample_dock
    tree = dock.tree
    assert tree.topLevelItemCount() == 2
    assert tree_item(tree, 0).text(0) == "2026-03-12 · DUCTOGRAM LEFT · 5 images"
    assert tree_item(tree, 1).text(0).startswith("2024-02-20 · ")
    assert tree_item(tree, 1).text(0).endswith(" · 4 images")
    assert [tree_item(tree, 0, s).text(0) for s in range(3)] == [
        "Series 1 · L PRE-CONTRAST",
        "Series 2 · L POST-CONTRAST",
        "Series 3 · L POST-CONTRAST MAGNIFICATION",
    ]
    assert tree_item(tree, 1).childCount() == 1
    assert dock.image_texts() == [
        "L CC\npre · #1",
        "L ML\npre · #2",
        "L CC\npost · #3",
        "L ML\npost · #4",
        "L CC MAG\npost · #5",
        "R CC\n#6",
        "L CC\n#7",
        "R MLO\n#8",
        "L MLO\n#9",
    ]
    assert tree_item(tree, 1, 0, 0) is dock.image_item(5)


def test_header_shows_patient_and_current_study(
    sample_dock: tuple[StudyBrowserDock, FakeRender],
) -> None:
    dock, _ = sample_dock
    text = dock.header.text()
    assert "PHANTOM, GALACTO SYNTHETIC" in text
    assert "ID GV-PHANTOM-0001" in text
    assert "born 1976-05-17" in text
    assert "2026-03-12 · DUCTOGRAM LEFT · Acc. GV0007D" in text
    dock.set_current(6)  # an image of the prior
    assert "2024-02-20" in dock.header.text()
    assert "Acc. GV0007S" in dock.header.text()
    assert format_dicom_date("20240220") == "2024-02-20"
    assert format_dicom_date("2024") == "2024"


def test_fake_thumbnails_arrive_as_pixmaps(
    qtbot: QtBot,
    sample_dock: tuple[StudyBrowserDock, FakeRender],
    sample_records: tuple[ImageRecord, ...],
) -> None:
    dock, render = sample_dock
    assert sorted(render.calls) == sorted(r.path.name for r in sample_records)
    for index in range(9):
        pixmap = dock.thumbnail(index)
        assert pixmap is not None and not pixmap.isNull()
        assert (pixmap.height(), pixmap.width()) == (192, 160)
        assert pixmap.toImage().pixelColor(10, 10).value() == 40 + 20 * (index + 1)
        assert dock.image_item(index).icon(0).cacheKey() != dock.loading_icon.cacheKey()
    assert not dock.is_loading()

    # The same files again: thumbnails come from the dock's cache, no new renders.
    render.calls.clear()
    with qtbot.waitSignal(dock.thumbnails_done, timeout=1_000):
        dock.set_images(sample_records[:3])
    assert render.calls == []
    assert dock.thumbnail(2) is not None


def test_failed_thumbnail_gets_the_broken_icon_and_the_error_in_its_tooltip(
    qtbot: QtBot, sample_records: tuple[ImageRecord, ...]
) -> None:
    render = FakeRender(fail={"04_LML_POST.dcm"})
    dock = make_dock(qtbot, render)
    with qtbot.waitSignal(dock.thumbnails_done, timeout=10_000):
        dock.set_images(sample_records)
    assert dock.thumbnail(3) is None
    assert dock.thumbnail_error(3) == "damaged DICOM file: fake"
    assert dock.image_item(3).icon(0).cacheKey() == dock.broken_icon.cacheKey()
    assert "damaged DICOM file: fake" in dock.image_item(3).toolTip(0)
    assert all(dock.thumbnail(i) is not None for i in range(9) if i != 3)
    dock.shutdown()


def test_clicking_or_enter_activates_the_image(
    qtbot: QtBot, sample_dock: tuple[StudyBrowserDock, FakeRender]
) -> None:
    dock, _ = sample_dock
    dock.show()
    qtbot.waitExposed(dock)
    item = dock.image_item(6)
    dock.tree.scrollToItem(item)
    rect = dock.tree.visualItemRect(item)
    assert rect.isValid()
    with qtbot.waitSignal(dock.image_activated, timeout=1_000) as blocker:
        QTest.mouseClick(dock.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [6]

    dock.set_current(2)
    with qtbot.waitSignal(dock.image_activated, timeout=1_000) as blocker:
        QTest.keyClick(dock.tree, Qt.Key.Key_Return)
    assert blocker.args == [2]

    # Clicking a study row activates nothing.
    study = dock.tree.topLevelItem(0)
    assert study is not None
    dock.tree.scrollToItem(study)
    with qtbot.assertNotEmitted(dock.image_activated):
        QTest.mouseClick(
            dock.tree.viewport(),
            Qt.MouseButton.LeftButton,
            pos=dock.tree.visualItemRect(study).center(),
        )


def test_set_current_and_set_shown_do_not_emit(
    qtbot: QtBot, sample_dock: tuple[StudyBrowserDock, FakeRender]
) -> None:
    dock, _ = sample_dock
    with qtbot.assertNotEmitted(dock.image_activated):
        dock.set_current(4)
        dock.set_shown([2, 3, 42])
    assert dock.current_index() == 4
    assert dock.shown_indices() == [2, 3]
    assert dock.image_item(2).font(0).bold()
    assert dock.image_item(3).font(0).bold()
    assert not dock.image_item(4).font(0).bold()
    dock.set_shown([5])
    assert not dock.image_item(2).font(0).bold()
    assert dock.image_item(5).font(0).bold()
    dock.set_current(None)
    assert dock.current_index() is None


def test_results_for_an_older_image_set_are_dropped(
    qtbot: QtBot,
    fake_dock: tuple[StudyBrowserDock, FakeRender],
    sample_records: tuple[ImageRecord, ...],
) -> None:
    dock, _ = fake_dock
    dock.set_images(sample_records)  # its results may still be on their way...
    with qtbot.waitSignal(dock.thumbnails_done, timeout=10_000):
        dock.set_images(sample_records[5:])  # ...but only these count
    assert dock.image_texts() == [image_label(r) for r in sample_records[5:]]
    assert all(dock.thumbnail(i) is not None for i in range(4))


def test_real_thumbnails_load_in_worker_processes_and_a_corrupt_file_fails(
    qtbot: QtBot, sample_records: tuple[ImageRecord, ...], tmp_path: Path
) -> None:
    folder = tmp_path / "study"
    shutil.copytree(sample_dicom_dir(), folder)
    records = scan([folder]).images
    assert len(records) == 9
    bad = records[1].path
    bad.write_bytes(os.urandom(8192))  # corrupted after the scan
    dock = make_dock(qtbot)  # the default loader: worker processes
    try:
        with qtbot.waitSignal(dock.thumbnails_done, timeout=120_000):
            dock.set_images(records)
        for index in range(9):
            if index == 1:
                continue
            pixmap = dock.thumbnail(index)
            assert pixmap is not None and not pixmap.isNull(), index
            assert (pixmap.height(), pixmap.width()) == (192, 160)
            image = pixmap.toImage()
            assert len({image.pixelColor(x, 96).value() for x in range(0, 160, 8)}) > 2
        assert dock.thumbnail(1) is None
        assert dock.image_item(1).icon(0).cacheKey() == dock.broken_icon.cacheKey()
        error = dock.thumbnail_error(1)
        assert error is not None
        assert error in dock.image_item(1).toolTip(0)
        assert str(bad) in dock.image_item(1).toolTip(0)
    finally:
        dock.shutdown()
    assert not dock.loader.is_busy()


def test_shutdown_cancels_pending_thumbnails_and_a_new_set_starts_again(
    qtbot: QtBot, sample_records: tuple[ImageRecord, ...]
) -> None:
    loader = ThumbnailLoader(max_workers=1)  # one worker process: the rest must wait
    dock = StudyBrowserDock(loader=loader)
    loader.setParent(dock)
    qtbot.addWidget(dock)
    dock.set_images(sample_records)
    assert dock.is_loading() and loader.is_busy()
    with qtbot.assertNotEmitted(dock.thumbnails_done):
        dock.shutdown()  # joins the executor: every late result is queued by now
        QCoreApplication.processEvents()  # ...and delivered, to be dropped
    assert not loader.is_busy()
    assert not dock.is_loading()
    # Pending thumbnails were dropped: at most the ones already running got through,
    # and none of them reached the dock.
    assert sum(dock.thumbnail(i) is not None for i in range(9)) == 0
    try:
        with qtbot.waitSignal(dock.thumbnails_done, timeout=120_000):
            dock.set_images(sample_records[:2])
        assert dock.thumbnail(0) is not None and dock.thumbnail(1) is not None
    finally:
        dock.shutdown()


def test_images_added_keep_collapsed_rows_failed_and_pending_thumbnails(
    qtbot: QtBot, sample_records: tuple[ImageRecord, ...]
) -> None:
    render = FakeRender(fail={"04_LML_POST.dcm"})
    dock = make_dock(qtbot, render)
    with qtbot.waitSignal(dock.thumbnails_done, timeout=10_000):
        dock.set_images(sample_records[:5])
    ductogram = tree_item(dock.tree, 0)
    series = tree_item(dock.tree, 0, 0)
    series.setExpanded(False)
    assert render.calls.count("04_LML_POST.dcm") == 1
    with qtbot.waitSignal(dock.thumbnails_done, timeout=10_000):
        dock.set_images(sample_records, keep_view=True)  # the prior arrived
    assert dock.tree.topLevelItemCount() == 2
    assert not tree_item(dock.tree, 0, 0).isExpanded()
    assert tree_item(dock.tree, 0).isExpanded() and tree_item(dock.tree, 0, 1).isExpanded()
    assert tree_item(dock.tree, 1).isExpanded()
    assert dock.thumbnail_error(3) == "damaged DICOM file: fake"  # not tried again
    assert render.calls.count("04_LML_POST.dcm") == 1
    assert all(dock.thumbnail(i) is not None for i in range(9) if i != 3)
    assert ductogram is not tree_item(dock.tree, 0)  # the rows are new, their state is not
    dock.shutdown()


def test_thumbnails_on_their_way_are_not_asked_for_again_when_images_are_added(
    qtbot: QtBot,
    fake_dock: tuple[StudyBrowserDock, FakeRender],
    sample_records: tuple[ImageRecord, ...],
) -> None:
    dock, render = fake_dock
    dock.set_images(sample_records[:1])
    dock.set_images(sample_records[:5], keep_view=True)
    with qtbot.waitSignal(dock.thumbnails_done, timeout=10_000):
        dock.set_images(sample_records, keep_view=True)
    assert sorted(render.calls) == sorted({r.path.name for r in sample_records})
    assert all(dock.thumbnail(i) is not None for i in range(9))


def test_images_added_do_not_scroll_the_list(
    qtbot: QtBot,
    fake_dock: tuple[StudyBrowserDock, FakeRender],
    sample_records: tuple[ImageRecord, ...],
) -> None:
    dock, _ = fake_dock
    dock.show()
    qtbot.waitExposed(dock)
    with qtbot.waitSignal(dock.thumbnails_done, timeout=10_000):
        dock.set_images(sample_records[:8])
    dock.set_current(0)
    dock.set_shown([0, 1])
    bar = dock.tree.verticalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(bar.maximum())  # the current image is out of sight
    scrolled = bar.value()
    dock.set_images(sample_records, keep_view=True)
    assert dock.current_index() == 0 and dock.shown_indices() == [0, 1]
    assert dock.image_item(1).font(0).bold()
    dock.set_shown([0, 1], scroll=False)  # as the window tells it after images are added
    dock.set_current(0)
    qtbot.waitUntil(lambda: bar.maximum() > scrolled)  # the new rows are laid out
    assert bar.value() == scrolled
    dock.set_shown([0, 1])  # a new hanging shows its images
    assert bar.value() < scrolled
