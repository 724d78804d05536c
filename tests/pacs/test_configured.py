"""Configured PACS nodes: JSON for the settings without secrets, secrets in the keyring."""

from __future__ import annotations

import json

import pytest
from keyring.backends.fail import Keyring as FailKeyring

from galactoview.pacs.configured import (
    KEYRING_SERVICE,
    NodeKind,
    NodeSettings,
    SecretStore,
    dumps_nodes,
    loads_nodes,
    unique_name,
)
from galactoview.pacs.nodes import AuthKind, DicomWebNode, DimseNode, NodeError
from tests.pacs.memory_keyring import MemoryKeyring, memory_keyring

__all__ = ["memory_keyring"]  # the fixture, used by name

WEB = NodeSettings(
    "Hospital PACS",
    NodeKind.DICOMWEB,
    url="https://pacs.example.org/dicom-web/",
    auth=AuthKind.BASIC,
    username="radiologist",
    verify_tls=True,
    timeout_s=12.5,
)
DIMSE = NodeSettings(
    "Archive",
    NodeKind.DIMSE,
    called_ae="ORTHANC ",
    host="10.0.0.5",
    port=4242,
    calling_ae="GV-WS1",
    storage_scp_port=11112,
)


def test_nodes_round_trip_through_json_without_secrets() -> None:
    text = dumps_nodes([WEB, DIMSE])
    nodes, problems = loads_nodes(text)
    assert (nodes, problems) == ([WEB, DIMSE], [])
    assert WEB.url == "https://pacs.example.org/dicom-web"  # normalised
    assert DIMSE.called_ae == "ORTHANC"
    data = json.loads(text)
    assert set(data[0]) == {"name", "kind", "url", "auth", "username", "verify_tls", "timeout_s"}
    assert "secret" not in text and "password" not in text
    assert data[1]["storage_scp_port"] == 11112


def test_a_node_with_its_secret_is_the_clients_node() -> None:
    web = WEB.to_node("s3cret")
    assert isinstance(web, DicomWebNode)
    assert (web.auth.kind, web.auth.username, web.auth.secret) == (
        AuthKind.BASIC,
        "radiologist",
        "s3cret",
    )
    assert "s3cret" not in repr(web)
    dimse = DIMSE.to_node()
    assert isinstance(dimse, DimseNode)
    assert str(dimse) == "ORTHANC@10.0.0.5:4242"
    assert WEB.needs_secret and not DIMSE.needs_secret
    assert DIMSE.address() == "ORTHANC@10.0.0.5:4242"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": " ", "kind": NodeKind.DIMSE}, "needs a name"),
        ({"name": "x", "kind": NodeKind.DICOMWEB, "url": "ftp://h"}, "not an http"),
        (
            {"name": "x", "kind": NodeKind.DIMSE, "called_ae": "A" * 17, "host": "h", "port": 1},
            "longer than 16",
        ),
        (
            {"name": "x", "kind": NodeKind.DIMSE, "called_ae": "A", "host": "h", "port": 0},
            "1-65535",
        ),
        (
            {"name": "x", "kind": NodeKind.DICOMWEB, "url": "http://h", "auth": AuthKind.BASIC},
            "user name",
        ),
    ],
)
def test_unusable_fields_are_refused_with_a_reason(fields: dict[str, object], message: str) -> None:
    with pytest.raises(NodeError, match=message):
        NodeSettings(**fields)  # type: ignore[arg-type]


def test_a_bad_setting_never_raises_and_says_what_was_left_out() -> None:
    assert loads_nodes("") == ([], [])
    assert loads_nodes("{not json")[0] == []
    assert "not JSON" in loads_nodes("{not json")[1][0]
    assert "not a JSON list" in loads_nodes('{"a": 1}')[1][0]
    good = WEB.to_json()
    entries = [
        good,
        good,  # repeated name
        {"name": "p", "kind": "dimse", "called_ae": "A", "host": "h", "port": "104"},
        {"name": "q", "kind": "telnet"},
        {"name": "r", "kind": "dimse", "called_ae": "A", "host": "h", "port": True},
        42,
        {**DIMSE.to_json(), "future_field": 1},
    ]
    nodes, problems = loads_nodes(json.dumps(entries))
    assert nodes == [WEB, DIMSE]
    assert len(problems) == 5
    assert "used twice" in problems[0]
    assert "port is not a int" in problems[1]
    assert "'telnet' is not a valid NodeKind" in problems[2]


def test_unique_names() -> None:
    assert unique_name("PACS", []) == "PACS"
    assert unique_name("PACS", ["PACS", "PACS 2"]) == "PACS 3"


def test_secrets_go_to_a_usable_keyring(memory_keyring: MemoryKeyring) -> None:
    store = SecretStore()
    assert store.persistent
    assert store.put("Hospital PACS", "s3cret") is True
    assert memory_keyring.passwords == {(KEYRING_SERVICE, "Hospital PACS"): "s3cret"}
    assert SecretStore().get("Hospital PACS") == "s3cret"  # a new session reads it back
    store.forget("Hospital PACS")
    assert memory_keyring.passwords == {}
    assert SecretStore().get("Hospital PACS") is None
    store.forget("never kept")  # nothing to drop: no error
    assert store.problems == []


def test_without_a_usable_keyring_secrets_last_the_session_only() -> None:
    fail = FailKeyring()  # type: ignore[no-untyped-call]
    store = SecretStore(fail)
    assert not store.persistent
    assert store.put("Hospital PACS", "s3cret") is False
    assert store.get("Hospital PACS") == "s3cret"
    assert SecretStore(fail).get("Hospital PACS") is None  # a new session
    store.forget("Hospital PACS")
    assert store.get("Hospital PACS") is None


class _BrokenKeyring(MemoryKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("the keyring is locked")


def test_a_failing_keyring_keeps_the_secret_for_the_session_and_says_why() -> None:
    store = SecretStore(_BrokenKeyring())
    assert store.put("Hospital PACS", "s3cret") is False
    assert store.get("Hospital PACS") == "s3cret"
    assert store.problems == [
        "OS keyring: cannot keep the secret of 'Hospital PACS' (the keyring is locked); "
        "kept for this session only"
    ]
