"""``galactoview pacs --dimse`` end to end against the private Orthanc (DIMSE).

The same story as tests/pacs/test_cli_pacs.py tells over DICOMweb: the radiologist
stores the sample folder (images and the sidecar's SR), a surgeon with nothing local
finds the study and gets it, by C-GET or by C-MOVE to our storage SCP, and the report
of the surgeon's folder has the radiologist's findings; a node that is down is exit 3.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from galactoview import cli
from galactoview.report.content import StudyReport, TableRow, load_report
from tests.pacs.orthanc import OUR_AE, OrthancServer, free_port
from tests.pacs.sample import DUCTOGRAM, copy_sample, sample_sr

REPORT_DATE = dt.date(2026, 3, 13)


def pacs(*args: str) -> int:
    return cli.main(["pacs", *args])


def findings(folder: Path) -> list[tuple[str, tuple[TableRow, ...], str]]:
    """The report's content rows of each annotated study in ``folder``, and its SR revision."""
    studies: tuple[StudyReport, ...] = load_report([folder], REPORT_DATE).content.studies
    return [(s.header.study_instance_uid, s.rows, s.sr_sop_instance_uid) for s in studies]


@pytest.mark.parametrize("move", [False, True], ids=["c-get", "c-move"])
def test_radiologist_stores_surgeon_gets_the_same_findings_over_dimse(
    move: bool,
    orthanc: OrthancServer,
    tmp_path: Path,
    user_data_home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    orthanc.clear()
    node = ("--dimse", orthanc.dimse_address, "--calling-ae", OUR_AE)
    radiologist = copy_sample(tmp_path / "radiologist")

    assert pacs("echo", *node) == 0
    assert capsys.readouterr().out.strip() == f"{orthanc.dimse_address}: answers"

    assert pacs("store", *node, str(radiologist)) == 0
    out, err = capsys.readouterr()
    assert out.strip() == f"{orthanc.dimse_address}: 10 stored, 0 already there, 0 failed"
    assert "[10/10]" in err
    assert orthanc.instance_count() == 10
    assert pacs("store", *node, str(radiologist)) == 0
    out = capsys.readouterr().out.strip()
    assert out == f"{orthanc.dimse_address}: 0 stored, 10 already there, 0 failed"
    assert orthanc.instance_count() == 10

    assert not (user_data_home / "GalactoView").exists()
    assert pacs("find", *node, "--patient-id", "GV-*", "--json") == 0
    studies = json.loads(capsys.readouterr().out)
    ductogram = next(s for s in studies if s["study_description"] == "DUCTOGRAM LEFT")
    assert ductogram["number_of_instances"] == 6
    assert sorted(s["modality"] for s in ductogram["series"]) == ["MG", "MG", "MG", "SR"]

    surgeon = tmp_path / "surgeon" / "study"
    how = ("--move", "--scp-port", str(orthanc.scp_port)) if move else ()
    assert pacs("get", *node, *how, ductogram["study_instance_uid"], str(surgeon)) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(surgeon)
    assert "[5/5]" in err
    assert "written as the study's sidecar" in err
    assert len(list(surgeon.glob("*.dcm"))) == 5
    mine = findings(surgeon)
    assert mine == findings(radiologist / DUCTOGRAM)
    assert mine[0][1]  # the findings table is not empty
    assert mine[0][2] == str(sample_sr().SOPInstanceUID)


def test_dimse_node_down_is_exit_3_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    down = f"ORTHANC@127.0.0.1:{free_port()}"
    for command in (["echo"], ["find"], ["get", "1.2.3", str(tmp_path / "x")]):
        assert pacs(*command, "--dimse", down, "--timeout", "5") == 3
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"{down}: C-")
        assert err.endswith("cannot connect (connection refused)")
        assert "\n" not in err
    assert not (tmp_path / "x").exists()
