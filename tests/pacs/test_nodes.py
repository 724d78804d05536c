"""PACS nodes: the --url and --dimse forms, and what a node refuses."""

from __future__ import annotations

import pytest

from galactoview.pacs.nodes import (
    DEFAULT_CALLING_AE,
    Auth,
    AuthKind,
    DicomWebNode,
    DimseNode,
    NodeError,
    parse_ae_title,
    parse_dicomweb_url,
    parse_dimse_address,
)


def test_dicomweb_url_loses_its_trailing_slash_and_names_the_node() -> None:
    node = parse_dicomweb_url("http://127.0.0.1:8042/dicom-web/")
    assert node.url == "http://127.0.0.1:8042/dicom-web"
    assert str(node) == "http://127.0.0.1:8042/dicom-web"
    assert node.verify_tls is True
    assert node.auth.kind is AuthKind.NONE


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ftp://pacs/dicom-web", "http"),
        ("http:///dicom-web", "no host"),
        ("pacs.example:8042", "http"),
        ("http://pacs:99999/x", "not a URL"),
        ("http://pacs/dicom-web?x=1", "no query"),
    ],
)
def test_bad_dicomweb_urls_are_refused(text: str, message: str) -> None:
    with pytest.raises(NodeError, match=message):
        parse_dicomweb_url(text)


def test_credentials_in_the_url_are_refused_without_echoing_the_password() -> None:
    with pytest.raises(NodeError) as refused:
        parse_dicomweb_url("https://user:hunter2@pacs.example/dicom-web")
    assert "hunter2" not in str(refused.value)
    assert "--password-env" in str(refused.value)


def test_secret_is_not_in_the_repr() -> None:
    node = DicomWebNode("https://pacs/dicom-web", Auth(AuthKind.BASIC, "ann", "hunter2"))
    assert "hunter2" not in repr(node)
    assert "ann" in repr(node)


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        (lambda: Auth(AuthKind.BASIC, "", "pw"), "user name"),
        (lambda: Auth(AuthKind.BASIC, "a:b", "pw"), "':'"),
        (lambda: Auth(AuthKind.BEARER), "token"),
        (lambda: Auth(AuthKind.NONE, "ann"), "'none'"),
    ],
)
def test_inconsistent_auth_is_refused(auth: object, message: str) -> None:
    with pytest.raises(NodeError, match=message):
        auth()  # type: ignore[operator]


def test_dimse_address_parts_and_name() -> None:
    node = parse_dimse_address("ORTHANC@127.0.0.1:4242")
    assert node == DimseNode("ORTHANC", "127.0.0.1", 4242)
    assert node.calling_ae == DEFAULT_CALLING_AE
    assert node.storage_scp_port is None
    assert str(node) == "ORTHANC@127.0.0.1:4242"


def test_dimse_ipv6_address_in_brackets() -> None:
    node = parse_dimse_address("PACS@[::1]:104", calling_ae="WS1", storage_scp_port=11112)
    assert (node.called_ae, node.host, node.port) == ("PACS", "::1", 104)
    assert (node.calling_ae, node.storage_scp_port) == ("WS1", 11112)
    assert str(node) == "PACS@[::1]:104"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("127.0.0.1:4242", "no '@'"),
        ("ORTHANC@127.0.0.1", "no ':PORT'"),
        ("ORTHANC@host:port", "not a number"),
        ("ORTHANC@host:0", "1-65535"),
        ("ORTHANC@host:70000", "1-65535"),
        ("@host:104", "empty"),
        ("SEVENTEEN_CHARS_X@host:104", "longer than 16"),
        ("BAD\\AE@host:104", "backslash"),
        ("PACS@::1:104", "brackets"),
        ("PACS@[nothost]:104", "IPv6"),
        ("PACS@:104", "host"),
    ],
)
def test_bad_dimse_addresses_are_refused(text: str, message: str) -> None:
    with pytest.raises(NodeError, match=message):
        parse_dimse_address(text)


def test_ae_title_padding_is_removed() -> None:
    assert parse_ae_title("  ORTHANC  ") == "ORTHANC"


def test_nodes_are_frozen() -> None:
    node = parse_dimse_address("A@h:1")
    with pytest.raises(AttributeError):
        node.port = 2  # type: ignore[misc]
