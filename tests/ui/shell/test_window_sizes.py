"""Any window size (issue 15 item 4): the images keep their room, all finding types reachable."""

from __future__ import annotations

import functools

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from galactoview import paths
from galactoview.annotations.model import FindingType
from galactoview.app import create_main_window
from galactoview.dicom.loading import scan
from galactoview.imaging.decode_service import DecodeService
from galactoview.ui.annotate.finding_palette import PALETTE_ORDER
from galactoview.ui.shell.main_window import MainWindow
from galactoview.ui.shell.settings import Settings
from galactoview.ui.viewer.decoding import ImageDecoder, decode_image
from tests.ui.conftest import OpenWindow, wait_until_settled

SMALL = ((800, 600), (1024, 768))


def sample_window(open_window: OpenWindow) -> MainWindow:
    sample = paths.sample_dicom_dir()
    if not sample.is_dir():
        pytest.skip(f"sample study not generated yet: {sample} does not exist")
    return open_window([sample])


def central_width(window: MainWindow) -> int:
    """The width of the images' area (the central widget)."""
    central = window.centralWidget()
    assert central is not None
    return central.width()


def image_shares(window: MainWindow) -> list[float]:
    """Each cell's viewport width as a share of the window's width."""
    return [v.width() / window.width() for v in window.hanging_view.viewports]


def inside_window(window: MainWindow, widget: QWidget) -> bool:
    """Whether a widget is shown with a non-empty geometry inside the window."""
    if not widget.isVisible() or widget.width() <= 0 or widget.height() <= 0:
        return False
    corner = widget.mapTo(window, QPoint(0, 0))
    return window.rect().contains(QRect(corner, widget.size()))


@pytest.mark.parametrize(("width", "height"), SMALL)
def test_small_windows_keep_each_image_at_least_40_percent(
    open_window: OpenWindow, qtbot: QtBot, width: int, height: int
) -> None:
    window = sample_window(open_window)
    assert window.session.hanging is not None
    assert (window.session.hanging.rows, window.session.hanging.columns) == (1, 2)
    window.resize(width, height)
    qtbot.waitUntil(lambda: min(image_shares(window)) >= 0.4)
    assert window.side_panels.compact
    assert window.findings_dock.isHidden() and window.browser.isHidden()
    assert not window.named_actions["side_panels"].isChecked()


def test_wide_windows_keep_the_docks_and_f6_toggles_them(
    open_window: OpenWindow, qtbot: QtBot
) -> None:
    window = sample_window(open_window)
    window.resize(1600, 1000)
    qtbot.waitUntil(lambda: not window.findings_dock.isHidden())
    assert not window.side_panels.compact and not window.browser.isHidden()
    toggle = window.named_actions["side_panels"]
    assert toggle.isChecked()
    toggle.trigger()
    assert window.findings_dock.isHidden() and window.browser.isHidden()
    toggle.trigger()
    assert not window.findings_dock.isHidden() and not window.browser.isHidden()


def test_the_panels_come_back_when_the_window_grows(open_window: OpenWindow, qtbot: QtBot) -> None:
    window = sample_window(open_window)
    window.resize(1600, 1000)
    qtbot.waitUntil(lambda: not window.browser.isHidden())
    window.resize(800, 600)
    qtbot.waitUntil(lambda: window.browser.isHidden())
    window.named_actions["side_panels"].trigger()  # shown as one column, tabbed
    assert not window.findings_dock.isHidden() and not window.browser.isHidden()
    assert window.tabifiedDockWidgets(window.findings_dock)
    window.named_actions["side_panels"].trigger()
    assert window.findings_dock.isHidden()
    window.resize(1600, 1000)
    qtbot.waitUntil(lambda: not window.browser.isHidden())
    assert window.dockWidgetArea(window.browser) != window.dockWidgetArea(window.findings_dock)
    assert not window.findings_dock.isHidden()


@pytest.mark.parametrize(("width", "height"), [*SMALL, (1920, 1080)])
def test_every_finding_type_is_reachable(
    open_window: OpenWindow, qtbot: QtBot, width: int, height: int
) -> None:
    window = sample_window(open_window)
    window.resize(width, height)
    qtbot.waitUntil(lambda: window.width() == width)
    chooser = window.finding_palette.chooser
    qtbot.waitUntil(lambda: chooser.width() > 0 and inside_window(window, chooser))
    if chooser.is_compact():
        combo = chooser.combo
        assert inside_window(window, combo)
        assert [combo.itemText(i) for i in range(combo.count())] == [t.value for t in PALETTE_ORDER]
        combo.setCurrentIndex(PALETTE_ORDER.index(FindingType.CYST_FILL))
        combo.activated.emit(PALETTE_ORDER.index(FindingType.CYST_FILL))
        assert window.finding_palette.current_type() is FindingType.CYST_FILL
    else:
        for finding_type in PALETTE_ORDER:
            assert inside_window(window, chooser.buttons[finding_type]), finding_type
    assert chooser.is_compact() == (width < 1920)


def big_saved_layout(open_window: OpenWindow, qtbot: QtBot) -> None:
    """Quit a 1920 x 1080 window whose Findings dock was widened to 1100 px (saved)."""
    window = sample_window(open_window)
    window.resize(1920, 1080)
    qtbot.waitUntil(lambda: window.findings_dock.isVisible())
    qtbot.waitUntil(lambda: central_width(window) > 1000)  # laid out
    # The reader drags the dock's edge: a press on the window, then the docks resized.
    QTest.mousePress(
        window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(2, 300)
    )
    docks = [window.findings_dock, window.report_editor]  # tabbed: one width
    window.resizeDocks(docks, [1100, 1100], Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: window.findings_dock.width() >= 1000)
    window.close()
    assert window.settings.bytes_value("window/marking_layout") is not None


def test_a_big_saved_layout_restored_small_keeps_the_images(
    open_window: OpenWindow, qtbot: QtBot
) -> None:
    big_saved_layout(open_window, qtbot)
    small = sample_window(open_window)
    small.resize(800, 600)
    qtbot.waitUntil(lambda: min(image_shares(small)) >= 0.4)
    assert small.side_panels.compact
    small.close()  # a compact window leaves the saved (wide) layout as it was
    again = sample_window(open_window)
    again.resize(1920, 1080)
    qtbot.waitUntil(lambda: not again.browser.isHidden())
    assert not again.findings_dock.isHidden()


def test_a_big_saved_layout_restored_in_a_wide_window_leaves_half_to_the_images(
    open_window: OpenWindow, qtbot: QtBot, settings: Settings, decode_service: DecodeService
) -> None:
    big_saved_layout(open_window, qtbot)
    decoder = ImageDecoder(decode=functools.partial(decode_image, service=decode_service))
    window = create_main_window(scan([paths.sample_dicom_dir()]), decoder, settings)
    qtbot.addWidget(window)
    window.resize(1400, 900)  # wide from the start: the saved docks are restored
    window.show()
    qtbot.waitExposed(window)
    wait_until_settled(qtbot, window)
    assert not window.side_panels.compact and window.findings_dock.isVisible()
    qtbot.waitUntil(lambda: central_width(window) >= 0.5 * window.width())
    assert window.findings_dock.width() < 1000


def test_review_mode_in_a_small_window_shows_the_review_narrow_and_nothing_else(
    open_window: OpenWindow, qtbot: QtBot
) -> None:
    window = sample_window(open_window)
    window.resize(800, 600)
    qtbot.waitUntil(lambda: window.side_panels.compact)
    window.set_review_mode(True)  # F9: the review is what the mode is about
    assert not window.review_dock.isHidden()
    assert window.findings_dock.isHidden() and window.browser.isHidden()
    narrowest = max(round(0.35 * 800), window.review_dock.minimumSizeHint().width())
    qtbot.waitUntil(lambda: window.review_dock.width() <= narrowest)  # not its 520 px
    assert window.named_actions["side_panels"].isChecked()
    window.set_review_mode(False)  # back to marking: the Findings dock stays collapsed
    assert window.findings_dock.isHidden() and window.review_dock.isHidden()
    qtbot.waitUntil(lambda: min(image_shares(window)) >= 0.4)


@pytest.mark.parametrize(("width", "height"), SMALL)
def test_small_windows_leave_the_status_bar_room_for_its_messages(
    open_window: OpenWindow, qtbot: QtBot, width: int, height: int
) -> None:
    """The permanent fields took the whole bar at 800 px: "Accepted …" never showed (tester)."""
    window = sample_window(open_window)
    window.resize(width, height)
    qtbot.waitUntil(lambda: window.width() == width)
    status = window.status
    assert not status.image_label.isVisible() and not status.layout_label.isVisible()
    assert status.voi_label.isVisible() and status.cursor_label.isVisible()
    fields = sum(w.width() for w in (status.voi_label, status.cursor_label))
    assert window.width() - fields >= 0.4 * window.width()  # the message's share
    window.resize(1600, 1000)
    qtbot.waitUntil(lambda: window.width() == 1600)
    assert status.image_label.isVisible() and status.layout_label.isVisible()
