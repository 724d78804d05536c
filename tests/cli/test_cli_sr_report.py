"""``galactoview sr show`` says what the report is: signed or draft, BI-RADS, recommendations."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from galactoview import cli
from galactoview.annotations.report import Addendum
from galactoview.cli.sr_show import report_json, report_lines
from tests.report.signed_sample import REPORT, SIGNATURE, SIGNER, signed_ductogram

RECOMMENDATIONS = [
    "Duct excision (microdochectomy)",
    "Ultrasound-guided biopsy",
    "Preoperative duct marking with blue dye.",
]


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return signed_ductogram(tmp_path_factory.mktemp("signed"))


def test_show_says_who_signed_the_report_and_what_it_concludes(
    signed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (sidecar,) = signed.glob("*.sr.json")
    for source in (signed, sidecar):  # a folder of studies, and the sidecar itself
        assert cli.main(["sr", "show", str(source)]) == 0
        out = capsys.readouterr().out
        assert (
            f"Report: Signed — Electronically signed by {SIGNER}, Brustzentrum Süd, "
            "2026-12-04 18:30 (Verification Flag VERIFIED)"
        ) in out
        assert "  Assessment: BI-RADS 4A: Low suspicion" in out
        assert "  Recommendations: " + "; ".join(RECOMMENDATIONS) in out
        assert "  Cannulated orifice: 2 o'clock" in out


def test_show_json_has_a_report_object(signed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (sidecar,) = signed.glob("*.sr.json")
    assert cli.main(["sr", "show", str(signed), "--json"]) == 0
    (study,) = json.loads(capsys.readouterr().out)
    assert cli.main(["sr", "show", str(sidecar), "--json"]) == 0
    single = json.loads(capsys.readouterr().out)
    for report in (study["report"], single["report"]):
        assert report["state"] == "signed"
        assert report["verification_flag"] == "VERIFIED"
        assert (report["signed_by"], report["organization"], report["signed_at"]) == (
            SIGNER,
            "Brustzentrum Süd",
            "2026-12-04 18:30",
        )
        assert report["addendum"] is None
        assert (report["bi_rads"], report["assessment"]) == ("4A", "BI-RADS 4A: Low suspicion")
        assert report["recommendations"] == RECOMMENDATIONS
        assert report["orifice"] == "2 o'clock"


def test_show_says_a_draft_is_a_draft(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = signed_ductogram(tmp_path, signed=False)
    assert cli.main(["sr", "show", str(folder)]) == 0
    assert "Report: DRAFT — not signed" in capsys.readouterr().out
    assert cli.main(["sr", "show", str(folder), "--json"]) == 0
    (study,) = json.loads(capsys.readouterr().out)
    report = study["report"]
    assert (report["state"], report["verification_flag"], report["signed_by"]) == (
        "draft",
        "UNVERIFIED",
        None,
    )
    assert report["bi_rads"] == "4A"


def test_an_addendum_is_said() -> None:
    report = replace(REPORT, addendum=Addendum("2.25.77", "Second defect at 2 o'clock."))
    (state, *_) = report_lines(report, SIGNATURE)
    assert state == (
        f"Report: Addendum signed — Electronically signed by {SIGNER}, Brustzentrum Süd, "
        "2026-12-04 18:30; with addendum to SR revision 2.25.77"
    )
    document = report_json(report, None)
    assert document["state"] == "draft"
    assert document["addendum"] == {
        "amends_sop_instance_uid": "2.25.77",
        "text": "Second defect at 2 o'clock.",
    }
