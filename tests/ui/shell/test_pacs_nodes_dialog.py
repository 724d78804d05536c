"""Edit → PACS Nodes…: nodes in the settings, secrets elsewhere, Test Connection in a thread."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from galactoview.pacs.configured import KEYRING_SERVICE, NodeKind, NodeSettings, SecretStore
from galactoview.pacs.nodes import AuthKind
from galactoview.ui.shell.pacs_nodes_dialog import NODES_KEY, PacsNodes, PacsNodesDialog
from galactoview.ui.shell.settings import Settings
from tests.pacs.conftest import orthanc
from tests.pacs.memory_keyring import MemoryKeyring, memory_keyring
from tests.pacs.orthanc import ORTHANC_AE, OrthancServer, free_port

__all__ = ["memory_keyring", "orthanc"]  # fixtures, used by name


def open_dialog(qtbot: QtBot, nodes: PacsNodes) -> PacsNodesDialog:
    dialog = PacsNodesDialog(nodes)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def add_dicomweb(qtbot: QtBot, dialog: PacsNodesDialog, name: str, url: str) -> None:
    dialog.add_dicomweb_button.click()
    dialog.name_edit.clear()
    QTest.keyClicks(dialog.name_edit, name)
    QTest.keyClicks(dialog.url_edit, url)


def test_nodes_round_trip_through_the_settings_without_their_secrets(
    qtbot: QtBot, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    ini = tmp_path / "settings.ini"
    nodes = PacsNodes(Settings(QSettings(str(ini), QSettings.Format.IniFormat)))
    dialog = open_dialog(qtbot, nodes)
    add_dicomweb(qtbot, dialog, "Hospital", "https://pacs.example.org/dicom-web")
    dialog.auth_combo.setCurrentIndex(dialog.auth_combo.findData(AuthKind.BASIC))
    QTest.keyClicks(dialog.user_edit, "radiologist")
    QTest.keyClicks(dialog.secret_edit, "s3cret-pw")
    dialog.add_dimse_button.click()
    dialog.name_edit.clear()
    QTest.keyClicks(dialog.name_edit, "Archive")
    QTest.keyClicks(dialog.called_edit, "ARCHIVE")
    QTest.keyClicks(dialog.host_edit, "10.0.0.5")
    dialog.port_spin.setValue(4242)
    dialog.default_combo.setCurrentText("Archive")
    assert dialog.verify_check.isEnabled()
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert dialog.result() == PacsNodesDialog.DialogCode.Accepted

    nodes.settings.store.sync()
    text = ini.read_text(encoding="utf-8")
    assert "radiologist" in text and "s3cret-pw" not in text
    assert memory_keyring.passwords == {(KEYRING_SERVICE, "Hospital"): "s3cret-pw"}
    again = PacsNodes(Settings(QSettings(str(ini), QSettings.Format.IniFormat)))
    loaded, problems = again.nodes()
    assert problems == []
    assert loaded == [
        NodeSettings(
            "Hospital",
            NodeKind.DICOMWEB,
            url="https://pacs.example.org/dicom-web",
            auth=AuthKind.BASIC,
            username="radiologist",
        ),
        NodeSettings("Archive", NodeKind.DIMSE, called_ae="ARCHIVE", host="10.0.0.5", port=4242),
    ]
    assert again.default() == loaded[1]
    reopened = open_dialog(qtbot, again)
    assert reopened.secret_edit.text() == "s3cret-pw"  # read back from the keyring
    assert reopened.verify_check.isChecked()  # TLS verification on by default


def test_a_wrong_field_is_named_and_save_waits(qtbot: QtBot, settings: Settings) -> None:
    dialog = open_dialog(qtbot, PacsNodes(settings, SecretStore(MemoryKeyring())))
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    add_dicomweb(qtbot, dialog, "Hospital", "ftp://pacs")
    assert "is not an http:// or https:// URL" in dialog.error_label.text()
    assert not save.isEnabled() and not dialog.test_button.isEnabled()
    dialog.url_edit.clear()
    QTest.keyClicks(dialog.url_edit, "http://pacs/dicom-web")
    assert dialog.error_label.text() == ""
    assert save.isEnabled()
    add_dicomweb(qtbot, dialog, "Hospital", "http://other")
    assert dialog.error_label.text() == "the name 'Hospital' is used by another node"
    assert not save.isEnabled()
    dialog.remove_button.click()
    assert dialog.list.count() == 1 and save.isEnabled()
    assert settings.text(NODES_KEY, "") == ""  # nothing kept before Save


def test_renaming_or_removing_a_node_moves_or_drops_its_secret(
    qtbot: QtBot, settings: Settings
) -> None:
    keyring = MemoryKeyring()
    nodes = PacsNodes(settings, SecretStore(keyring))
    node = NodeSettings("Old", NodeKind.DICOMWEB, url="http://h/dw", auth=AuthKind.BEARER)
    nodes.save([node], "Old")
    nodes.secrets.put("Old", "token-1")
    dialog = open_dialog(qtbot, nodes)
    assert dialog.secret_edit.text() == "token-1"
    dialog.name_edit.clear()
    QTest.keyClicks(dialog.name_edit, "New")
    dialog.save()
    assert keyring.passwords == {(KEYRING_SERVICE, "New"): "token-1"}
    dialog = open_dialog(qtbot, nodes)
    dialog.remove_button.click()
    dialog.save()
    assert keyring.passwords == {}
    assert nodes.nodes() == ([], [])


def test_without_a_keyring_the_dialog_says_secrets_last_the_session(
    qtbot: QtBot, settings: Settings
) -> None:
    dialog = open_dialog(qtbot, PacsNodes(settings, SecretStore(_NoKeyring())))
    assert "No OS keyring" in dialog.keyring_label.text()


class _NoKeyring(MemoryKeyring):
    priority = 0


def test_connection_by_dicomweb_and_c_echo_to_the_real_orthanc(
    qtbot: QtBot, settings: Settings, orthanc: OrthancServer
) -> None:
    dialog = open_dialog(qtbot, PacsNodes(settings, SecretStore(MemoryKeyring())))
    add_dicomweb(qtbot, dialog, "Orthanc", orthanc.dicomweb_url)
    with qtbot.waitSignal(dialog.test_finished, timeout=30_000) as signal:
        dialog.test_button.click()
        assert not dialog.test_button.isEnabled()  # the answer comes later: never waited for
    assert signal.args == [True, f"{orthanc.dicomweb_url}: QIDO-RS search answered"]
    assert dialog.test_label.text() == f"✔ {orthanc.dicomweb_url}: QIDO-RS search answered"
    dialog.add_dimse_button.click()
    QTest.keyClicks(dialog.called_edit, ORTHANC_AE)
    QTest.keyClicks(dialog.host_edit, "127.0.0.1")
    dialog.port_spin.setValue(orthanc.dicom_port)
    with qtbot.waitSignal(dialog.test_finished, timeout=30_000) as signal:
        dialog.test_button.click()
    ok, text = signal.args
    assert ok is True
    assert text.startswith(f"{ORTHANC_AE}@127.0.0.1:{orthanc.dicom_port}: C-ECHO succeeded")


def test_connection_to_a_closed_port_says_so_in_one_line(qtbot: QtBot, settings: Settings) -> None:
    dialog = open_dialog(qtbot, PacsNodes(settings, SecretStore(MemoryKeyring())))
    url = f"http://127.0.0.1:{free_port()}/dicom-web"
    add_dicomweb(qtbot, dialog, "Nowhere", url)
    with qtbot.waitSignal(dialog.test_finished, timeout=30_000) as signal:
        dialog.test_button.click()
    assert signal.args == [
        False,
        f"{url}: QIDO-RS search for studies: cannot connect (connection refused)",
    ]
    assert dialog.test_label.text().startswith("✘ ")
    assert dialog.test_button.isEnabled()


def test_a_login_without_its_password_is_not_tried(qtbot: QtBot, settings: Settings) -> None:
    dialog = open_dialog(qtbot, PacsNodes(settings, SecretStore(MemoryKeyring())))
    add_dicomweb(qtbot, dialog, "Hospital", "http://127.0.0.1:9/dicom-web")
    dialog.auth_combo.setCurrentIndex(dialog.auth_combo.findData(AuthKind.BASIC))
    QTest.keyClicks(dialog.user_edit, "radiologist")
    with qtbot.waitSignal(dialog.test_finished, timeout=1_000) as signal:
        dialog.test_button.click()
    assert signal.args == [
        False,
        "http://127.0.0.1:9/dicom-web: give the password or token first",
    ]


def test_the_query_retrieve_panel_offers_the_configured_nodes_with_their_secrets(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from galactoview.pacs.nodes import DicomWebNode, DimseNode
    from galactoview.ui.browser.pacs_panel import configured_nodes

    monkeypatch.delenv("GALACTOVIEW_PACS_URL", raising=False)
    monkeypatch.setenv("GALACTOVIEW_PACS_DIMSE", "QUICK@127.0.0.1:4242")
    nodes = PacsNodes(settings, SecretStore(MemoryKeyring()))
    web = NodeSettings("Hospital", NodeKind.DICOMWEB, url="https://h/dw", auth=AuthKind.BEARER)
    nodes.save(
        [web, NodeSettings("Archive", NodeKind.DIMSE, called_ae="ARC", host="h", port=104)],
        "Hospital",
    )
    nodes.secrets.put("Hospital", "token-1")
    offered = configured_nodes(nodes)()
    assert [name for name, _ in offered] == ["Hospital", "Archive", "DIMSE QUICK@127.0.0.1:4242"]
    hospital, archive = offered[0][1], offered[1][1]
    assert isinstance(hospital, DicomWebNode) and hospital.auth.secret == "token-1"
    assert isinstance(archive, DimseNode) and archive.called_ae == "ARC"
