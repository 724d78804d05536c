"""A study streamed from the private Orthanc into the window: first cell first, the rest
added, the reader's state kept, the prior fetched in the background, another study opened
meanwhile left alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from galactoview.pacs import dicomweb
from galactoview.pacs.fetch import Fetched
from galactoview.pacs.nodes import parse_dicomweb_url
from galactoview.pacs.origin import recall_origin
from galactoview.pacs.results import RetrieveProgress, StudyMatch
from galactoview.reading.hanging import GalactographyStage
from galactoview.ui.browser.pacs_panel import URL_ENVIRONMENT, PacsPanelDock
from galactoview.ui.shell.main_window import MainWindow
from tests.pacs.conftest import orthanc  # noqa: F401 (the session's private Orthanc)
from tests.pacs.orthanc import OrthancServer
from tests.pacs.sample import copy_sample
from tests.ui.browser.test_pacs_panel import TIMEOUT_MS, cache_root, ductogram, open_panel
from tests.ui.conftest import OpenWindow

__all__ = ["cache_root", "ductogram"]  # fixtures shared with test_pacs_panel


@pytest.fixture
def window(open_window: OpenWindow) -> MainWindow:
    return open_window([])


@pytest.fixture
def panel(
    window: MainWindow,
    orthanc: OrthancServer,  # noqa: F811
    cache_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> PacsPanelDock:
    monkeypatch.setenv(URL_ENVIRONMENT, orthanc.dicomweb_url)
    return open_panel(window)


def test_the_first_cell_opens_before_the_rest_arrives_and_keeps_its_view(
    qtbot: QtBot, window: MainWindow, panel: PacsPanelDock, ductogram: StudyMatch
) -> None:
    records_when_opened: list[int] = []
    viewports: list[object] = []
    progress_when_opened: list[int] = []
    steps: list[RetrieveProgress] = []
    panel.transfer.progressed.connect(steps.append, Qt.ConnectionType.DirectConnection)

    ranges: list[list[list[float]]] = []
    zooms: list[float] = []

    said_while_arriving: list[str] = []

    def opened() -> None:
        said_while_arriving.append(window.statusBar().currentMessage())
        records_when_opened.append(len(window.records))
        progress_when_opened.append(len(steps))

    def first_image(_index: int) -> None:
        viewport = window.hanging_view.viewports[0]
        if viewports or not viewport.has_image():
            return  # zoom once, in the first cell, once it shows its image
        viewports.append(viewport)
        viewport.set_zoom(2.0)  # the reader zooms as soon as the image is up
        viewport.view_changed_by_user.emit()  # as a wheel turn tells it
        ranges.append([list(axis) for axis in viewport.view_box.viewRange()])
        zooms.append(viewport.zoom_factor())

    window.scan_finished.connect(opened)
    window.image_shown.connect(first_image)
    with qtbot.waitSignal(panel.study_shown, timeout=TIMEOUT_MS) as shown:
        panel.retrieve_study(ductogram)
    fetched: Fetched = shown.args[0]
    qtbot.waitUntil(lambda: bool(viewports) and not window.is_decoding(), timeout=TIMEOUT_MS)
    assert fetched.error == "" and fetched.failures == ()
    # Opened once, on fewer than all five images, then grown to all five.
    assert len(records_when_opened) == 1
    assert said_while_arriving[0].endswith("images are added as they arrive…")
    assert records_when_opened[0] < 5
    uid = ductogram.study_instance_uid
    assert sum(r.study_instance_uid == uid for r in window.records) == 5
    # The first cell shows the instance planned first, in the same viewport, still zoomed.
    hanging = window.session.hanging
    assert hanging is not None and hanging.stage is GalactographyStage.POST
    first = hanging.cells[0].image
    assert first is not None
    assert window.records[first].sop_instance_uid == fetched.order.first
    viewport = window.hanging_view.viewports[0]
    assert viewport is viewports[0]
    # Same zoom, same centre (a cell laid out anew may show more or less above and below).
    assert viewport.zoom_factor() == pytest.approx(zooms[0])
    assert viewport.view_box.viewRange()[0] == pytest.approx(ranges[0][0])
    # With no node configured, the environment's stores the marks; the revision just
    # retrieved from it is not "new" (nothing to send), and the status bar no longer says
    # images are arriving.
    store = window.named_actions["store_marks"]
    default = window.pacs.config.default()
    assert default is not None and default.address() == str(panel.node())
    assert not store.isEnabled()
    assert store.text() == "Marks Stored to PACS (nothing new)"
    assert "images are added as they arrive" not in window.statusBar().currentMessage()
    # The study came from this node, as the conflict check will need.
    origin = recall_origin(panel.cache.root, ductogram.study_instance_uid)
    assert origin is not None and origin.address == str(panel.node())


def test_the_prior_is_found_fetched_and_added_in_the_background(
    qtbot: QtBot, window: MainWindow, panel: PacsPanelDock, ductogram: StudyMatch
) -> None:
    with qtbot.waitSignal(panel.prior.finished, timeout=TIMEOUT_MS) as done:
        panel.retrieve_study(ductogram)
    prior: Fetched = done.args[0]
    node = parse_dicomweb_url(str(panel.node()))
    (screening,) = dicomweb.find_studies(node, study_description="SCREENING*")
    assert prior.study_instance_uid == screening.study_instance_uid
    qtbot.waitUntil(
        lambda: screening.study_instance_uid in {r.study_instance_uid for r in window.records},
        timeout=TIMEOUT_MS,
    )
    assert len(window.records) == 9  # the ductogram's five, the prior's four
    assert panel.prior_line.text().startswith("Prior in (4 images)")
    # The reader's hanging was kept; the prior stage is now in the cycle.
    hanging = window.session.hanging
    assert hanging is not None and hanging.stage is GalactographyStage.POST
    assert GalactographyStage.COMPARE_PRIOR.value in window.session.layouts
    # Both studies stay in the cache: the prior's trim never evicts the ductogram.
    assert (panel.cache.study_folder(ductogram.study_instance_uid)).is_dir()


def test_a_study_opened_meanwhile_is_left_alone(
    qtbot: QtBot,
    window: MainWindow,
    panel: PacsPanelDock,
    ductogram: StudyMatch,
    tmp_path: Path,
) -> None:
    local = copy_sample(tmp_path / "local") / "20240220_SCREENING_PRIOR"

    def open_another_study(_path: object) -> None:
        panel.transfer.arrived.disconnect(open_another_study)
        window.open_paths([local])

    panel.transfer.arrived.connect(open_another_study)
    with qtbot.waitSignal(panel.study_shown, timeout=TIMEOUT_MS):
        panel.retrieve_study(ductogram)
    qtbot.waitUntil(lambda: not window.is_scanning(), timeout=TIMEOUT_MS)
    studies = {record.study_instance_uid for record in window.records}
    assert ductogram.study_instance_uid not in studies
    assert len(window.records) == 4  # the screening study the reader opened, alone
    assert panel.streaming is not None and panel.streaming.abandoned


def test_unsaved_marks_the_reader_keeps_stop_the_retrieve(
    qtbot: QtBot, window: MainWindow, panel: PacsPanelDock, ductogram: StudyMatch
) -> None:
    asked: list[bool] = []

    def keep_them() -> bool:
        asked.append(True)
        return False

    panel._confirm_leave = keep_them
    assert panel.retrieve_study(ductogram) is None
    assert asked == [True]
    assert panel.current_job is None
