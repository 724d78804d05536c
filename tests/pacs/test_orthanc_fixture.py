"""The private Orthanc of the PACS tests answers, with and without authentication."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from tests.pacs.orthanc import ORTHANC_AE, OrthancServer


def test_orthanc_answers_with_its_configured_name_and_ports(orthanc: OrthancServer) -> None:
    system = orthanc.rest_json("GET", "/system")
    assert system["Name"] == "GALACTO-TEST-PACS"
    assert system["DicomAet"] == ORTHANC_AE
    assert system["DicomPort"] == orthanc.dicom_port
    assert system["HttpPort"] == orthanc.http_port


def test_orthanc_serves_dicomweb(orthanc: OrthancServer) -> None:
    with urllib.request.urlopen(orthanc.dicomweb_url + "/studies", timeout=10) as answer:
        assert answer.status in (200, 204)


def test_orthanc_auth_refuses_anonymous_and_accepts_its_user(orthanc_auth: OrthancServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(orthanc_auth.url + "/system", timeout=10)
    assert refused.value.code == 401
    assert orthanc_auth.rest_json("GET", "/system")["Name"] == "GALACTO-TEST-PACS"
