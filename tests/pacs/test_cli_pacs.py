"""``galactoview pacs`` end to end against the private Orthanc: radiologist stores, surgeon gets.

Every run goes through :func:`galactoview.cli.main` in-process, as a script would call it.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path

import pytest

from galactoview import cli
from galactoview.report.content import StudyReport, TableRow, load_report
from galactoview.sr import sidecar
from galactoview.sr.sr_codec import to_json
from tests.pacs.conftest import AUTH_PASSWORD, AUTH_USER
from tests.pacs.orthanc import OrthancServer, free_port
from tests.pacs.sample import DUCTOGRAM, copy_sample, revise, sample_sr

REPORT_DATE = dt.date(2026, 3, 13)


def pacs(*args: str) -> int:
    return cli.main(["pacs", *args])


def findings(folder: Path) -> list[tuple[str, tuple[TableRow, ...], str]]:
    """The report's content rows of each annotated study in ``folder``, and its SR revision."""
    loaded = load_report([folder], REPORT_DATE)
    studies: tuple[StudyReport, ...] = loaded.content.studies
    return [(s.header.study_instance_uid, s.rows, s.sr_sop_instance_uid) for s in studies]


def test_radiologist_stores_surgeon_finds_and_gets_the_same_findings(
    orthanc: OrthancServer,
    tmp_path: Path,
    user_data_home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    orthanc.clear()
    url = orthanc.dicomweb_url
    radiologist = copy_sample(tmp_path / "radiologist")

    # The radiologist stores the study folder: 9 images and the sidecar's SR.
    assert pacs("store", "--url", url, str(radiologist)) == 0
    out, err = capsys.readouterr()
    assert out.strip() == f"{url}: 10 stored, 0 already there, 0 failed"
    assert "[10/10]" in err
    assert orthanc.instance_count() == 10
    # Storing again sends nothing (trap 5: Orthanc would say success again).
    assert pacs("store", "--url", url, str(radiologist)) == 0
    assert capsys.readouterr().out.strip() == f"{url}: 0 stored, 10 already there, 0 failed"
    assert orthanc.instance_count() == 10

    # The surgeon, on another workstation: nothing local, finds the study by wildcard.
    assert not (user_data_home / "GalactoView").exists()
    assert pacs("find", "--url", url, "--patient-id", "*", "--json") == 0
    studies = json.loads(capsys.readouterr().out)
    ductogram = next(s for s in studies if s["study_description"] == "DUCTOGRAM LEFT")
    assert ductogram["number_of_instances"] == 6
    assert sorted(s["modality"] for s in ductogram["series"]) == ["MG", "MG", "MG", "SR"]
    assert pacs("find", "--url", url, "--patient-name", "PHANTOM^GALACTO*") == 0
    text = capsys.readouterr().out
    assert ductogram["study_instance_uid"] in text
    assert "DUCTOGRAM LEFT" in text

    assert pacs("find", "--url", url, "--date-from", "2026-01-01", "--json") == 0
    recent = json.loads(capsys.readouterr().out)
    assert [s["study_description"] for s in recent] == ["DUCTOGRAM LEFT"]
    assert pacs("find", "--url", url, "--date-from", "2026-01-01", "--date-to", "2025-01-01") == 2
    assert "--date-from is after --date-to" in capsys.readouterr().err

    surgeon = tmp_path / "surgeon" / "study"
    uid = ductogram["study_instance_uid"]
    assert pacs("get", "--url", url, uid, str(surgeon)) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(surgeon)
    assert "[5/5]" in err
    assert "written as the study's sidecar" in err
    assert len(list(surgeon.glob("*.dcm"))) == 5
    assert len(list(surgeon.glob("galactoview-*.sr.json"))) == 1
    mine = findings(surgeon)
    assert mine == findings(radiologist / DUCTOGRAM)
    assert mine[0][1]  # the findings table is not empty
    assert mine[0][2] == str(sample_sr().SOPInstanceUID)

    # A second revision (the radiologist edits, saves, stores the sidecar) supersedes the
    # first on the surgeon's next get.
    first_sidecar = next((radiologist / DUCTOGRAM).glob("galactoview-*.sr.json"))
    second = revise(sample_sr(), "retro-areolar, 2 cm deep", dt.datetime(2026, 3, 14, 9))
    first_sidecar.write_text(to_json(second), encoding="utf-8")
    assert pacs("store", "--url", url, str(first_sidecar)) == 0
    assert capsys.readouterr().out.strip() == f"{url}: 1 stored, 0 already there, 0 failed"
    assert pacs("get", "--url", url, uid, str(surgeon)) == 0
    err = capsys.readouterr().err
    assert "replaced an earlier revision" in err
    again = findings(surgeon)
    assert again == findings(radiologist / DUCTOGRAM)
    assert again[0][2] == str(second.SOPInstanceUID)
    assert again[0][1][0].note == "retro-areolar, 2 cm deep"
    assert len(list(surgeon.glob(f"*{sidecar.BACKUP_SUFFIX}"))) == 1


def test_auth_right_wrong_and_missing_secret(
    orthanc_auth: OrthancServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = orthanc_auth.dicomweb_url
    login = ("--url", url, "--user", AUTH_USER, "--password-env", "GV_PACS_PASSWORD")
    monkeypatch.setenv("GV_PACS_PASSWORD", AUTH_PASSWORD)
    assert pacs("echo", *login) == 0
    assert capsys.readouterr().out.strip() == f"{url}: answers"
    monkeypatch.setenv("GV_PACS_PASSWORD", "not-the-pass-7Q")
    assert pacs("echo", *login) == 3
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{url}: ")
    assert "refused the login (HTTP 401" in err
    assert "not-the-pass-7Q" not in err  # the password is never printed
    assert pacs("find", "--url", url) == 3
    assert "HTTP 401" in capsys.readouterr().err
    monkeypatch.delenv("GV_PACS_PASSWORD")
    assert pacs("echo", *login) == 2
    assert "GV_PACS_PASSWORD is not set" in capsys.readouterr().err


def test_server_down_or_wrong_port_is_exit_3_naming_the_node(
    orthanc: OrthancServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    down = f"http://127.0.0.1:{free_port()}/dicom-web"
    for command in (["echo"], ["find"], ["get", "1.2.3", str(tmp_path / "x")]):
        assert pacs(*command, "--url", down, "--timeout", "5") == 3
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"{down}: ")
        assert err.endswith("cannot connect (connection refused)")
        assert "\n" not in err
    assert not (tmp_path / "x").exists()
    # Orthanc's DICOM port speaks no HTTP: a wrong port on a live host.
    wrong = f"http://127.0.0.1:{orthanc.dicom_port}/dicom-web"
    assert pacs("echo", "--url", wrong, "--timeout", "5") == 3
    assert capsys.readouterr().err.startswith(f"{wrong}: QIDO-RS search for studies: ")


def test_usage_errors_are_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert pacs("echo") == 2  # no node
    assert "--url" in capsys.readouterr().err
    assert pacs("echo", "--url", "ftp://pacs/x") == 2
    assert "http" in capsys.readouterr().err
    assert pacs("echo", "--url", "http://pacs", "--password", "x") == 2  # never on the line
    capsys.readouterr()
    assert pacs("get", "--url", "http://pacs/x", "../../etc", str(tmp_path)) == 2
    assert "not a Study Instance UID" in capsys.readouterr().err
    assert pacs("echo", "--dimse", "NOAT") == 2
    assert "AET@HOST:PORT" in capsys.readouterr().err


def test_dimse_is_dispatched_or_said_to_be_missing(
    orthanc: OrthancServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code = pacs("echo", "--dimse", orthanc.dimse_address)
    out, err = capsys.readouterr()
    if importlib.util.find_spec("galactoview.pacs.dimse") is None:
        assert code == 2
        assert err.strip() == "galactoview pacs: DIMSE not available yet"
    else:
        assert code == 0
        assert out.strip() == f"{orthanc.dimse_address}: answers"


def test_store_names_each_path_that_failed_and_exits_1(
    orthanc: OrthancServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.dcm"
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"junk")
    assert pacs("store", "--url", orthanc.dicomweb_url, str(missing), str(junk)) == 1
    err = capsys.readouterr().err
    assert f"{missing}: no such file or folder" in err
    assert f"{junk}: not a DICOM file" in err
