"""The Query/Retrieve panel against the private Orthanc: search, retrieve, open, cancel, down."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pydicom import dcmread
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QTreeWidgetItem
from pytestqt.qtbot import QtBot

from galactoview.pacs import dicomweb
from galactoview.pacs.nodes import parse_dicomweb_url
from galactoview.pacs.outgoing import collect
from galactoview.pacs.results import StudyMatch
from galactoview.sr.sidecar import sidecar_name
from galactoview.sr.sr_codec import decode
from galactoview.ui.browser.pacs_panel import (
    DIMSE_ENVIRONMENT,
    URL_ENVIRONMENT,
    Fetched,
    PacsPanelDock,
    environment_nodes,
)
from galactoview.ui.shell.main_window import MainWindow
from tests.pacs.conftest import orthanc  # noqa: F401 (the session's private Orthanc)
from tests.pacs.orthanc import OrthancServer, free_port
from tests.pacs.sample import copy_sample, sample_sr
from tests.ui.conftest import OpenWindow

TIMEOUT_MS = 120_000


@pytest.fixture
def cache_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The per-user cache folder of retrieved studies, in the test's folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache-home"))
    return tmp_path / "cache-home" / "GalactoView" / "pacs"


@pytest.fixture
def ductogram(orthanc: OrthancServer, tmp_path: Path) -> StudyMatch:  # noqa: F811
    """The sample's two studies and the ductogram's SR stored on an empty Orthanc."""
    orthanc.clear()
    node = parse_dicomweb_url(orthanc.dicomweb_url)
    items, failures = collect([copy_sample(tmp_path / "radiologist")])
    assert failures == []
    assert dicomweb.store(node, items).failures == ()
    (study,) = dicomweb.find_studies(node, study_description="DUCTOGRAM LEFT")
    return study


@pytest.fixture
def window(open_window: OpenWindow) -> MainWindow:
    return open_window([])


def open_panel(window: MainWindow) -> PacsPanelDock:
    window.named_actions["pacs_query"].trigger()  # File → Query/Retrieve… (Ctrl+Shift+Q)
    panel = window.findChild(PacsPanelDock)
    assert panel is not None
    assert panel.isVisible()
    return panel


@pytest.fixture
def panel(
    window: MainWindow,
    orthanc: OrthancServer,  # noqa: F811
    cache_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> PacsPanelDock:
    """The window's panel, its node the private Orthanc by DICOMweb, its cache in tmp."""
    monkeypatch.setenv(URL_ENVIRONMENT, orthanc.dicomweb_url)
    return open_panel(window)


def search(qtbot: QtBot, panel: PacsPanelDock, patient_id: str) -> list[QTreeWidgetItem]:
    panel.patient_id.setText(patient_id)
    with qtbot.waitSignal(panel.search_finished, timeout=TIMEOUT_MS):
        panel.search_button.click()
    tree = panel.results
    return [i for row in range(tree.topLevelItemCount()) if (i := tree.topLevelItem(row))]


def children(item: QTreeWidgetItem) -> list[QTreeWidgetItem]:
    return [c for row in range(item.childCount()) if (c := item.child(row)) is not None]


def item_of(items: list[QTreeWidgetItem], study: StudyMatch) -> QTreeWidgetItem:
    (item,) = [i for i in items if i.toolTip(0) == study.study_instance_uid]
    return item


def done_first_cell(window: MainWindow, fetched: list[Fetched]) -> bool:
    """Whether the hanging's first cell shows the instance the retrieve fetched first."""
    (done,) = fetched
    first = done.order.first
    hanging = window.session.hanging
    assert first is not None and hanging is not None
    cell = hanging.cells[0].image
    return cell is not None and window.records[cell].sop_instance_uid == first


@pytest.mark.parametrize("kind", ["dicomweb", "dimse"])
def test_search_retrieve_open_shows_the_radiologists_findings(
    kind: str,
    qtbot: QtBot,
    window: MainWindow,
    ductogram: StudyMatch,
    orthanc: OrthancServer,  # noqa: F811
    cache_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if kind == "dicomweb":
        monkeypatch.setenv(URL_ENVIRONMENT, orthanc.dicomweb_url)
    else:
        monkeypatch.setenv(DIMSE_ENVIRONMENT, orthanc.dimse_address)
    panel = open_panel(window)
    assert panel.node_combo.count() == 1
    assert panel.modality.text() == "MG"  # mammography by default

    items = search(qtbot, panel, "*")  # a wildcard (Orthanc's trap 1)
    assert len(items) == 2  # the ductogram and the prior screening study
    item = item_of(items, ductogram)
    assert item.text(2) == "DUCTOGRAM LEFT"
    assert item.text(4) == "4 series, 6 instances"
    series = children(item)
    assert len(series) == 4
    assert sum(int(child.text(4)) for child in series) == 6
    assert sorted(child.text(3) for child in series) == ["MG", "MG", "MG", "SR"]

    panel.results.setCurrentItem(item)
    assert panel.retrieve_study_button.isEnabled()
    fetched: list[Fetched] = []
    panel.retrieve_finished.connect(fetched.append)
    first_shown: list[int] = []
    window.scan_finished.connect(lambda: first_shown.append(len(window.records)))
    with qtbot.waitSignal(panel.study_shown, timeout=TIMEOUT_MS):
        panel.retrieve_study_button.click()
        assert panel.cancel_button.isEnabled()  # the window did not wait for the PACS
    # Streamed: opened on the first instance (the hanging's first cell), the rest added.
    assert first_shown[0] < 5
    assert done_first_cell(window, fetched)

    (done,) = fetched
    uid = ductogram.study_instance_uid
    folder = cache_root / uid
    assert done.folder == folder
    assert done.error == ""
    assert done.failures == ()
    assert len(list(folder.glob("*.dcm"))) == 5  # the images; the SR became the sidecar
    assert (folder / sidecar_name(uid)).is_file()
    assert panel.progress.value() == panel.progress.maximum() == 5
    assert panel.message.text() == (
        "5 instances retrieved, with the newest revision of its marks; opened."
    )
    assert panel.message.toolTip().startswith("SR ")  # which revision, for the curious
    # Opened like a local folder, with the radiologist's findings from the SR.
    assert {record.study_instance_uid for record in window.records} == {uid}
    assert len(window.records) == 5
    expected = sorted(f.tracking_uid for f in decode(sample_sr()).annotations.findings)
    assert expected
    assert sorted(f.tracking_uid for _, f in window.workspace.all_findings()) == expected
    assert window.problems.messages() == []


def test_retrieve_selected_series_fetches_only_them(
    qtbot: QtBot, window: MainWindow, panel: PacsPanelDock, ductogram: StudyMatch, cache_root: Path
) -> None:
    item = item_of(search(qtbot, panel, "GV-*"), ductogram)
    chosen = next(child for child in children(item) if child.text(3) == "MG")
    panel.results.clearSelection()
    chosen.setSelected(True)
    assert panel.retrieve_series_button.isEnabled()
    with qtbot.waitSignal(panel.study_shown, timeout=TIMEOUT_MS):
        panel.retrieve_series_button.click()
    count = int(chosen.text(4))
    assert len(list((cache_root / ductogram.study_instance_uid).glob("*.dcm"))) == count
    assert {r.series_instance_uid for r in window.records} == {chosen.toolTip(0)}


def test_cancel_mid_retrieve_leaves_no_half_file_and_a_retry_resumes(
    qtbot: QtBot, window: MainWindow, panel: PacsPanelDock, ductogram: StudyMatch, cache_root: Path
) -> None:

    def cancel_in_the_worker(_step: object) -> None:  # right after the first instance
        assert panel.current_job is not None
        panel.current_job.cancel()

    panel.transfer.progressed.connect(cancel_in_the_worker, Qt.ConnectionType.DirectConnection)
    with qtbot.waitSignal(panel.study_shown, timeout=TIMEOUT_MS) as blocker:
        assert panel.retrieve_study(ductogram) is not None
    panel.transfer.progressed.disconnect(cancel_in_the_worker)
    fetched: Fetched = blocker.args[0]
    assert fetched.result is not None
    assert fetched.result.cancelled
    assert len(fetched.result.written) == 1
    folder = cache_root / ductogram.study_instance_uid
    files = sorted(folder.glob("*.dcm"))
    assert len(files) == 1
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []
    assert dcmread(files[0]).SOPInstanceUID + ".dcm" == files[0].name  # a whole instance
    # The marks are adopted before the first image is announced (fetch_study), so the
    # first image kept has its sidecar next to it.
    assert (folder / sidecar_name(ductogram.study_instance_uid)).exists()
    assert panel.message.text().startswith("Cancelled: 1 instances kept")
    # The instance that arrived is open, and the panel says the study is incomplete.
    qtbot.waitUntil(lambda: len(window.records) == 1, timeout=TIMEOUT_MS)
    assert "The study is incomplete: only the 1 instances that arrived are open." in (
        panel.message.text()
    )
    assert not panel.cancel_button.isEnabled()

    with qtbot.waitSignal(panel.study_shown, timeout=TIMEOUT_MS):
        panel.retrieve_study(ductogram)
    assert len(window.records) == 5
    assert files[0].stat().st_mtime_ns == (folder / files[0].name).stat().st_mtime_ns


def test_closing_the_window_cancels_the_retrieve(
    qtbot: QtBot, window: MainWindow, panel: PacsPanelDock, ductogram: StudyMatch, cache_root: Path
) -> None:
    closed = threading.Event()

    def hold_the_worker(_step: object) -> None:  # in the worker, after the first instance
        assert closed.wait(TIMEOUT_MS / 1000)
        panel.transfer.progressed.disconnect(hold_the_worker)

    def close_the_window(_step: object) -> None:  # in the GUI thread
        panel.transfer.progressed.disconnect(close_the_window)
        window.close()
        QTimer.singleShot(0, closed.set)  # after the panel has seen the window closed

    # In this order: an emission posts the queued call, then runs the direct one.
    panel.transfer.progressed.connect(close_the_window)
    panel.transfer.progressed.connect(hold_the_worker, Qt.ConnectionType.DirectConnection)
    with qtbot.waitSignal(panel.retrieve_finished, timeout=TIMEOUT_MS) as blocker:
        panel.retrieve_study(ductogram)
    assert not window.isVisible()
    fetched: Fetched = blocker.args[0]
    assert fetched.result is not None
    assert fetched.result.cancelled
    assert len(fetched.result.written) == 1


def test_a_node_that_is_down_is_said_clearly(
    qtbot: QtBot, window: MainWindow, cache_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    down = f"http://127.0.0.1:{free_port()}/dicom-web"
    monkeypatch.setenv(URL_ENVIRONMENT, down)
    panel = open_panel(window)
    assert search(qtbot, panel, "*") == []
    said = panel.message.text()
    assert said.startswith(f"{down}: ")
    assert said.endswith("cannot connect (connection refused)")
    assert said in window.problems.messages()
    assert panel.search_button.isEnabled()  # try again

    with qtbot.waitSignal(panel.retrieve_finished, timeout=TIMEOUT_MS) as blocker:
        panel.retrieve_study(StudyMatch("1.2.826.0.1.99"))
    assert blocker.args[0].error.startswith(f"{down}: ")
    assert panel.message.text() == blocker.args[0].error
    assert window.records == ()


def test_no_node_configured_says_how_to_add_one(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(URL_ENVIRONMENT, raising=False)
    monkeypatch.delenv(DIMSE_ENVIRONMENT, raising=False)
    panel = open_panel(window)
    assert panel.node_combo.count() == 0
    assert panel.message.text().startswith("No PACS node configured.")
    assert URL_ENVIRONMENT in panel.message.text()
    assert not panel.search_button.isEnabled()


def test_environment_nodes() -> None:
    assert environment_nodes({}) == []
    (name, node), (_, peer) = environment_nodes(
        {URL_ENVIRONMENT: "http://pacs:8042/dicom-web/", DIMSE_ENVIRONMENT: "PACS@pacs:104"}
    )
    assert name == "DICOMweb http://pacs:8042/dicom-web/"
    assert str(node) == "http://pacs:8042/dicom-web"
    assert str(peer) == "PACS@pacs:104"
    assert environment_nodes({URL_ENVIRONMENT: "ftp://x", DIMSE_ENVIRONMENT: "nope"}) == []
