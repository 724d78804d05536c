"""The radiologist's report: its model, and its round trip through the TID 1500 SR."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import highdicom as hd
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from galactoview.sr import clinical_report as cr
from galactoview.sr.clinical_report import (
    Addendum,
    Assessment,
    ClinicalReport,
    Complication,
    Indication,
    NippleOrifice,
    Recommendation,
    ReportedView,
    Technique,
    UnlocatedFinding,
)
from galactoview.sr.sr_codec import decode, encode, from_json, to_json
from tests.sr import test_sr_codec as codec_tests

headers = codec_tests.headers  # the module-scoped fixture of the codec tests


def full_report(unlocated_uid: str) -> ClinicalReport:
    """A report with every item set (non-ASCII text included)."""
    return ClinicalReport(
        indication=Indication.BLOODY_NIPPLE_DISCHARGE,
        indication_text="spontan, einseitig, ein Gang – seit 3 Wochen",
        technique=Technique(
            orifice=NippleOrifice(10),
            contrast_ml=1.5,
            views=(ReportedView.CRANIO_CAUDAL, ReportedView.MEDIO_LATERAL),
            magnification=True,
            complications=(Complication.EXTRAVASATION, Complication.VASOVAGAL_SYNCOPE),
        ),
        comparison="Screening-Mammographie 2025: unauffällig",
        impression="Intraduktaler Füllungsdefekt, am ehesten Papillom",
        assessment=Assessment.CATEGORY_4A,
        recommendations=(Recommendation.DUCT_EXCISION, Recommendation.SURGICAL_CONSULT),
        recommendation_text="Präoperative Markierung mit Methylenblau",
        free_text="Luftblasen ausgeschlossen (beweglich)",
        unlocated=(UnlocatedFinding(unlocated_uid, "nur im CC sichtbar"),),
    )


def round_trip(sr: Dataset) -> Dataset:
    return from_json(to_json(sr))


# ------------------------------------------------------------------------------- model


def test_orifice_hours_are_1_to_12_or_central() -> None:
    assert NippleOrifice().central
    assert str(NippleOrifice()) == "central"
    assert str(NippleOrifice(12)) == "12 o'clock"
    assert cr.orifice_code(NippleOrifice(3)).value == "129774003"  # CID 6018 "3 o'clock position"
    assert cr.orifice_code(NippleOrifice(None)).value == "129786000"  # "Central region"
    for hour in (0, 13):
        with pytest.raises(ValueError, match="1-12"):
            NippleOrifice(hour)


@pytest.mark.parametrize("volume", [0.0, -1.0, float("nan"), float("inf")])
def test_contrast_volume_must_be_a_positive_number(volume: float) -> None:
    with pytest.raises(ValueError, match="contrast volume"):
        Technique(contrast_ml=volume)


def test_no_complications_excludes_a_complication() -> None:
    with pytest.raises(ValueError, match="no complications"):
        Technique(complications=(Complication.NO_COMPLICATIONS, Complication.EXTRAVASATION))


def test_addendum_and_reason_need_text_and_a_uid() -> None:
    with pytest.raises(ValueError, match="empty"):
        Addendum(generate_uid(), "  ")
    with pytest.raises(ValueError, match="UID"):
        Addendum("not-a-uid", "text")
    with pytest.raises(ValueError, match="empty"):
        UnlocatedFinding(generate_uid(), "")


def test_standard_codes_come_from_the_dicom_tables() -> None:
    assert Indication.BLOODY_NIPPLE_DISCHARGE.code.value == "290113009"  # CID 6055
    assert (
        Indication.NON_BLOODY_DISCHARGE.code.value,
        Indication.NON_BLOODY_DISCHARGE.code.scheme_designator,
    ) == ("111478", "DCM")
    assert ReportedView.MEDIO_LATERAL_OBLIQUE.code.value == "399368009"  # CID 4014
    assert Complication.VASOVAGAL_SYNCOPE.code.value == "398665005"  # CID 6062
    assert Complication.EXTRAVASATION.code.value == "111428"  # CID 6057
    assert Recommendation.SURGICAL_CONSULT.code.value == "111410"  # CID 6028
    assert Recommendation.DIAGNOSTIC_ULTRASONOGRAPHY.code.value == "16310003"
    private = {r for r in Recommendation if r.code.scheme_designator == "99GALACTOVIEW"}
    assert private == {
        Recommendation.DUCT_EXCISION,
        Recommendation.ULTRASOUND_GUIDED_BIOPSY,
        Recommendation.DUCTOSCOPY,
    }


def test_bi_rads_categories_are_the_cid_6027_codes() -> None:
    values = {a.value: (a.code.value, a.code.scheme_designator) for a in Assessment}
    assert values["0"] == ("397138000", "SCT")
    assert values["1"] == ("397140005", "SCT")
    assert values["2"] == ("397141009", "SCT")
    assert values["3"] == ("397143007", "SCT")
    assert values["4"] == ("397144001", "SCT")
    assert values["5"] == ("397145000", "SCT")
    assert values["4B"] == ("MA.II.A.5.4B", "BI")
    assert values["6"] == ("MA.II.A.5.6", "BI")
    assert Assessment.CATEGORY_6.code.scheme_version == "4.0"
    assert all(len(a.code.meaning) <= 64 for a in Assessment)  # LO


# ------------------------------------------------------------------------- round trip


def test_every_report_item_survives_save_and_reload(headers: dict[str, Dataset]) -> None:
    annotations = codec_tests.build(headers)
    report = full_report(annotations.findings[1].tracking_uid)
    sr = encode(annotations, codec_tests.sources(headers), report=report)
    result = decode(round_trip(sr))
    assert result.problems == ()
    assert result.annotations == codec_tests.revised(annotations, sr)
    read = result.report
    assert read is not None
    assert read.indication is Indication.BLOODY_NIPPLE_DISCHARGE
    assert read.indication_text == report.indication_text
    assert read.technique.orifice == NippleOrifice(10)
    assert read.technique.contrast_ml == 1.5
    assert read.technique.views == (ReportedView.CRANIO_CAUDAL, ReportedView.MEDIO_LATERAL)
    assert read.technique.magnification is True
    assert read.technique.complications == (
        Complication.EXTRAVASATION,
        Complication.VASOVAGAL_SYNCOPE,
    )
    assert read.comparison == report.comparison
    assert read.impression == report.impression
    assert read.assessment is Assessment.CATEGORY_4A
    assert read.recommendations == report.recommendations
    assert read.recommendation_text == report.recommendation_text
    assert read.free_text == report.free_text
    assert read.reason_not_located(annotations.findings[1].tracking_uid) == "nur im CC sichtbar"
    assert read.addendum is None
    assert read == report
    assert result.signature is None
    assert result.complete is False


@pytest.mark.parametrize(
    "report",
    [
        ClinicalReport(),
        ClinicalReport(assessment=Assessment.CATEGORY_1),
        ClinicalReport(technique=Technique(orifice=NippleOrifice(None), contrast_ml=0.75)),
        ClinicalReport(technique=Technique(complications=(Complication.NO_COMPLICATIONS,))),
        ClinicalReport(indication=Indication.NON_BLOODY_DISCHARGE),
        ClinicalReport(recommendations=(Recommendation.FOLLOW_UP_AT_SHORT_INTERVAL,)),
    ],
)
def test_partial_reports_round_trip(headers: dict[str, Dataset], report: ClinicalReport) -> None:
    annotations = codec_tests.build(headers)
    result = decode(round_trip(encode(annotations, codec_tests.sources(headers), report=report)))
    expected = report
    if report.technique.contrast_ml is not None:  # stored to 0.1 mL
        rounded = round(report.technique.contrast_ml, 1)
        expected = replace(report, technique=replace(report.technique, contrast_ml=rounded))
    # An empty report writes no container: nothing to read back.
    assert result.report == (None if report == ClinicalReport() else expected)


@pytest.mark.parametrize("report", [None, ClinicalReport(), ClinicalReport(impression="  ")])
def test_without_a_report_there_is_no_container(
    headers: dict[str, Dataset], report: ClinicalReport | None
) -> None:
    sr = encode(codec_tests.build(headers), codec_tests.sources(headers), report=report)
    names = [item.ConceptNameCodeSequence[0].CodeValue for item in sr.ContentSequence]
    assert names[-1] == "126010"  # "Imaging Measurements" is the last root container
    assert cr.QUALITATIVE_EVALUATIONS.value not in names
    assert decode(sr).report is None


def test_the_report_is_the_last_root_container_and_highdicom_parses_it(
    headers: dict[str, Dataset], tmp_path: Path
) -> None:
    annotations = codec_tests.build(headers)
    sr = encode(
        annotations,
        codec_tests.sources(headers),
        report=full_report(annotations.findings[0].tracking_uid),
    )
    names = [item.ConceptNameCodeSequence[0].CodeValue for item in sr.ContentSequence]
    assert names[-2:] == ["126010", "C0034375"]  # after "Imaging Measurements" (TID 1500)
    path = tmp_path / "report.dcm"
    round_trip(sr).save_as(path, enforce_file_format=True)
    parsed = hd.sr.ComprehensiveSR.from_dataset(dcmread(path))
    root = parsed.content
    assert isinstance(root, hd.sr.MeasurementReport)
    evaluations = root[0].ContentSequence[-1]
    assert evaluations.name == cr.QUALITATIVE_EVALUATIONS
    assessment = [i for i in evaluations.ContentSequence if i.name == cr.ASSESSMENT_CATEGORY]
    assert [i.value.value for i in assessment] == ["MA.II.A.5.4A"]
    dump = codec_tests.validate(path)
    assert b"Bloody nipple discharge" in dump
    assert b"10 o'clock position" in dump


def test_unknown_items_and_values_are_skipped_with_a_problem(
    headers: dict[str, Dataset],
) -> None:
    annotations = codec_tests.build(headers)
    report = ClinicalReport(assessment=Assessment.CATEGORY_2, impression="benigne")
    document = json.loads(to_json(encode(annotations, codec_tests.sources(headers), report=report)))
    container = document["0040A730"]["Value"][-1]
    items = container["0040A730"]["Value"]
    assessment = next(
        i for i in items if i["0040A043"]["Value"][0]["00080100"]["Value"] == ["111005"]
    )
    assessment["0040A168"]["Value"][0]["00080100"]["Value"] = ["999999"]  # not a BI-RADS code
    foreign = json.loads(json.dumps(items[0]))
    foreign["0040A043"]["Value"][0]["00080100"]["Value"] = ["12345"]  # another writer's item
    items.append(foreign)
    result = decode(from_json(json.dumps(document, sort_keys=True)))
    assert result.report == ClinicalReport(impression="benigne")
    assert result.problems == (
        "report: assessment category (999999, SCT) is not one GalactoView knows; skipped",
    )
