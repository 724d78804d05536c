"""File → Store Marks to PACS: the current SR revision reaches a real Orthanc, once."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from dicomweb_client.api import DICOMwebClient
from PySide6.QtCore import QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from galactoview.pacs import dimse
from galactoview.pacs.configured import NodeKind, NodeSettings, SecretStore
from galactoview.pacs.nodes import AuthKind, parse_dimse_address
from galactoview.pacs.outgoing import sidecar_sr
from galactoview.pacs.results import StoreResult
from galactoview.sr import sidecar
from galactoview.ui.shell.main_window import MainWindow
from galactoview.ui.shell.pacs_store import STORED_KEY, StoreChoice, ask_store_with_dialog
from tests.pacs.conftest import orthanc
from tests.pacs.memory_keyring import MemoryKeyring
from tests.pacs.orthanc import ORTHANC_AE, OrthancServer, free_port
from tests.ui.annotate.test_annotation_saver import copy_ductogram, mark
from tests.ui.conftest import OpenWindow

__all__ = ["orthanc"]  # the fixture, used by name


def use_node(window: MainWindow, node: NodeSettings) -> None:
    window.pacs.config.secrets = SecretStore(MemoryKeyring())
    window.pacs.config.save([node], node.name)
    window.pacs.refresh()


def store(qtbot: QtBot, window: MainWindow) -> StoreResult | None:
    with qtbot.waitSignal(window.pacs.store_finished, timeout=60_000) as signal:
        assert window.pacs.store_marks()
        action = window.named_actions["store_marks"]
        assert not action.isEnabled()  # busy: the window goes on meanwhile
        assert action.text() == "Storing Marks to PACS…"
    result = signal.args[0]
    assert result is None or isinstance(result, StoreResult)
    return result


def sr_uid(folder: Path, study: str) -> str:
    """The SOP Instance UID of the SR revision the study's sidecar holds."""
    return str(sidecar_sr(folder / sidecar.sidecar_name(study)).SOPInstanceUID)


def test_store_marks_by_stow_sends_the_saved_revision_once(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path, orthanc: OrthancServer
) -> None:
    orthanc.clear()  # no revision of another test's marks: nothing newer than ours
    folder = copy_ductogram(tmp_path)
    window = open_window([folder])
    action = window.named_actions["store_marks"]
    use_node(window, NodeSettings("Orthanc", NodeKind.DICOMWEB, url=orthanc.dicomweb_url))
    assert action.isEnabled()
    study, _finding = mark(window)  # not saved yet: Store saves first

    result = store(qtbot, window)

    uid = sr_uid(folder, study)
    assert result == StoreResult((uid,), (), ())
    client = DICOMwebClient(orthanc.dicomweb_url)
    found = client.search_for_instances(study, search_filters={"Modality": "SR"})
    assert uid in {item["00080018"]["Value"][0] for item in found}
    assert window.settings.text(f"{STORED_KEY}/{study}") == f"Orthanc\n{uid}"
    assert not action.isEnabled()
    assert action.text() == "Marks Stored to PACS (nothing new)"
    assert not window.pacs.store_marks()  # a second store sends nothing
    assert window.statusBar().currentMessage() == "Marks already stored on Orthanc"

    # Forgotten locally, the PACS still holds it: the client skips it (same SOP UID).
    window.settings.store.remove(f"{STORED_KEY}/{study}")
    window.pacs.refresh()
    assert action.isEnabled()
    assert store(qtbot, window) == StoreResult((), (uid,), ())
    assert not action.isEnabled()

    # A new edit makes a new revision: something new to send.
    mark(window)
    assert action.isEnabled() and action.text() == "Store &Marks to PACS"
    second = store(qtbot, window)
    new_uid = sr_uid(folder, study)
    assert new_uid != uid
    assert second == StoreResult((new_uid,), (), ())
    assert window.problems.messages() == []


def test_store_marks_by_c_store(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path, orthanc: OrthancServer
) -> None:
    orthanc.clear()
    folder = copy_ductogram(tmp_path)
    window = open_window([folder])
    node = NodeSettings(
        "Orthanc DIMSE",
        NodeKind.DIMSE,
        called_ae=ORTHANC_AE,
        host="127.0.0.1",
        port=orthanc.dicom_port,
    )
    use_node(window, node)
    study, _finding = mark(window)
    result = store(qtbot, window)
    uid = sr_uid(folder, study)
    assert result == StoreResult((uid,), (), ())
    found = dimse.find_studies(
        parse_dimse_address(orthanc.dimse_address), study_uid=study, modality=""
    )
    assert found and found[0].study_instance_uid == study
    assert "SR" in {series.modality for series in found[0].series}
    assert not window.named_actions["store_marks"].isEnabled()


def test_a_store_that_cannot_connect_is_one_problem_and_can_be_retried(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window = open_window([copy_ductogram(tmp_path)])
    url = f"http://127.0.0.1:{free_port()}/dicom-web"
    use_node(window, NodeSettings("Down", NodeKind.DICOMWEB, url=url))
    study, _finding = mark(window)
    assert store(qtbot, window) is None
    (line,) = window.problems.messages()
    assert line.startswith(f"marks not stored: {url}: QIDO-RS search for instances of study ")
    assert line.endswith("cannot connect (connection refused)")
    assert window.settings.text(f"{STORED_KEY}/{study}") == ""
    assert window.named_actions["store_marks"].isEnabled()  # try again later

    # Closing offers to store them; the store fails again: said, and the window stays open.
    answers = Answers(StoreChoice.STORE)
    window.pacs.ask_store = answers
    window.problems.clear()
    assert not window.close()
    assert window.isVisible()
    assert len(answers.asked) == 1
    (line,) = window.problems.messages()
    assert line.startswith(f"marks not stored: {url}: ")
    assert window.statusBar().currentMessage() == "Marks not stored to Down: the window stays open"
    window.pacs.ask_store = Answers(StoreChoice.CLOSE)


def test_without_a_node_the_action_opens_the_settings(
    open_window: OpenWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = open_window([copy_ductogram(tmp_path)])
    opened: list[bool] = []
    monkeypatch.setattr(window.pacs, "edit_nodes", lambda: opened.append(True))
    assert "Configure a PACS node first" in window.named_actions["store_marks"].toolTip()
    assert not window.pacs.store_marks()
    assert opened == [True]


class _LockedKeyring(MemoryKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("the keyring is locked")


def test_a_keyring_that_refuses_the_secret_is_one_problem_line(
    open_window: OpenWindow, tmp_path: Path
) -> None:
    window = open_window([copy_ductogram(tmp_path)])
    window.pacs.config.secrets = SecretStore(_LockedKeyring())
    dialog = window.pacs.edit_nodes()
    dialog.add_dicomweb_button.click()
    QTest.keyClicks(dialog.url_edit, "https://pacs.example.org/dicom-web")
    dialog.auth_combo.setCurrentIndex(dialog.auth_combo.findData(AuthKind.BEARER))
    QTest.keyClicks(dialog.secret_edit, "token-1")
    dialog.save()
    assert window.problems.messages() == [
        "OS keyring: cannot keep the secret of 'DICOMweb PACS' (the keyring is locked); "
        "kept for this session only"
    ]
    assert window.pacs.config.secrets.get("DICOMweb PACS") == "token-1"  # this session
    assert "token-1" not in window.settings.text("pacs/nodes")
    assert window.named_actions["store_marks"].toolTip().endswith("to DICOMweb PACS")


def folder_in(tmp_path: Path, name: str) -> Path:
    (tmp_path / name).mkdir()
    return tmp_path / name


class Answers:
    """Answers the "store them now?" question when a window closes, and notes each question."""

    def __init__(self, choice: StoreChoice) -> None:
        self.choice = choice
        self.asked: list[tuple[list[str], str]] = []

    def __call__(self, _parent: QWidget, studies: Sequence[str], node: str) -> StoreChoice:
        self.asked.append((list(studies), node))
        return self.choice


def sr_on_pacs(orthanc: OrthancServer, study: str) -> set[str]:
    """The SOP Instance UIDs of the SR instances Orthanc holds for a study (QIDO-RS)."""
    client = DICOMwebClient(orthanc.dicomweb_url)
    found = client.search_for_instances(study, search_filters={"Modality": "SR"})
    return {item["00080018"]["Value"][0] for item in found}


def marked_on_orthanc(
    open_window: OpenWindow, into: Path, orthanc: OrthancServer
) -> tuple[MainWindow, Path, str]:
    """Open a copy of the ductogram with Orthanc (emptied) as the node, mark it.

    Returns (window, copy, study).
    """
    orthanc.clear()
    folder = copy_ductogram(into)
    window = open_window([folder])
    use_node(window, NodeSettings("Orthanc", NodeKind.DICOMWEB, url=orthanc.dicomweb_url))
    study, _finding = mark(window)
    return window, folder, study


def test_closing_with_marks_not_on_the_pacs_asks_and_stores_them(
    open_window: OpenWindow, tmp_path: Path, orthanc: OrthancServer
) -> None:
    window, folder, study = marked_on_orthanc(open_window, tmp_path, orthanc)
    answers = Answers(StoreChoice.STORE)
    window.pacs.ask_store = answers

    assert window.close()

    uid = sr_uid(folder, study)  # saved by the close, then stored
    record = window.records[0]
    (described,) = answers.asked[0][0]
    assert answers.asked == [([described], "Orthanc")]
    assert described.startswith("PHANTOM, GALACTO SYNTHETIC, 2026-03-12 ")  # readable name, date
    assert record.patient_name == "PHANTOM^GALACTO^SYNTHETIC"
    assert uid in sr_on_pacs(orthanc, study)
    assert window.settings.text(f"{STORED_KEY}/{study}") == f"Orthanc\n{uid}"
    assert window.problems.messages() == []


def test_close_without_storing_and_cancel(
    open_window: OpenWindow, tmp_path: Path, orthanc: OrthancServer
) -> None:
    window, folder, study = marked_on_orthanc(open_window, tmp_path, orthanc)

    cancel = Answers(StoreChoice.CANCEL)
    window.pacs.ask_store = cancel
    assert not window.close()
    assert window.isVisible()
    assert len(cancel.asked) == 1
    uid = sr_uid(folder, study)  # saved here all the same

    leave = Answers(StoreChoice.CLOSE)
    window.pacs.ask_store = leave
    assert window.close()
    assert len(leave.asked) == 1
    assert uid not in sr_on_pacs(orthanc, study)
    assert window.settings.text(f"{STORED_KEY}/{study}") == ""


def test_nothing_is_asked_when_stored_already_without_a_node_or_when_terminating(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path, orthanc: OrthancServer
) -> None:
    # No node: the conftest's asker would fail the test if asked.
    window = open_window([copy_ductogram(folder_in(tmp_path, "a"))])
    mark(window)
    assert window.close()

    # Stored already: nothing new to ask about.
    window, _folder, _study = marked_on_orthanc(open_window, folder_in(tmp_path, "b"), orthanc)
    assert store(qtbot, window) is not None
    assert window.close()

    # Terminating (SIGTERM): saved, nobody asked.
    window, folder, study = marked_on_orthanc(open_window, folder_in(tmp_path, "c"), orthanc)
    window.unsaved_guard.terminating = True
    assert window.close()
    assert sr_uid(folder, study) not in sr_on_pacs(orthanc, study)

    # No marks at all (a study opened and closed): nothing asked either.
    window = open_window([copy_ductogram(folder_in(tmp_path, "d"))])
    use_node(window, NodeSettings("Orthanc", NodeKind.DICOMWEB, url=orthanc.dicomweb_url))
    assert window.close()


def test_the_real_store_question_names_the_study_and_the_node(qtbot: QtBot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    seen: list[tuple[str, list[str]]] = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        seen.append((box.text(), sorted(button.text() for button in box.buttons())))
        next(b for b in box.buttons() if b.text() == "Close Without Storing").click()

    QTimer.singleShot(0, answer)
    assert ask_store_with_dialog(parent, ["DOE^JANE, 20260312"], "Orthanc") is StoreChoice.CLOSE
    assert seen == [
        (
            "The marks of DOE^JANE, 20260312 are saved here but not stored to Orthanc. "
            "Store them now?",
            ["Cancel", "Close Without Storing", "Store and Close"],
        )
    ]
