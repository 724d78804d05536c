"""Signing the report: completeness, the verification attributes, addenda (PS3.3 C.17.2)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import highdicom as hd
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset

from galactoview.location.localize import FindingLocation
from galactoview.sr.clinical_report import (
    Addendum,
    Assessment,
    ClinicalReport,
    Recommendation,
    UnlocatedFinding,
)
from galactoview.sr.signing import (
    MISSING_ASSESSMENT,
    MISSING_RECOMMENDATION,
    Signature,
    missing_for_signing,
    read_signature,
)
from galactoview.sr.sr_codec import (
    DecodeResult,
    StoredLocation,
    decode,
    encode,
    from_json,
    to_json,
)
from tests.sr import test_sr_codec as codec_tests

headers = codec_tests.headers  # the module-scoped fixture of the codec tests

SIGNED_AT = dt.datetime(2026, 12, 4, 18, 30, 5, tzinfo=dt.timezone(dt.timedelta(hours=1)))
SIGNATURE = Signature("Lindqvist^Åsa^^Dr.", "Brustzentrum Süd", SIGNED_AT)
COMPLETE = ClinicalReport(
    assessment=Assessment.CATEGORY_4,
    recommendations=(Recommendation.DUCT_EXCISION,),
)


def stored() -> StoredLocation:
    return StoredLocation(None, None, None, None)


# ------------------------------------------------------------------------ completeness


def test_an_empty_report_lacks_assessment_recommendation_and_locations(
    headers: dict[str, Dataset],
) -> None:
    annotations = codec_tests.build(headers)
    missing = missing_for_signing(annotations, None, {})
    assert missing == (
        *(f"{f.short_id}: not located and no reason given" for f in annotations.findings),
        MISSING_ASSESSMENT,
        MISSING_RECOMMENDATION,
    )


def test_missing_assessment_is_listed(headers: dict[str, Dataset]) -> None:
    annotations = codec_tests.build(headers)
    located = {f.tracking_uid: stored() for f in annotations.findings}
    report = ClinicalReport(recommendations=(Recommendation.SURGICAL_CONSULT,))
    assert missing_for_signing(annotations, report, located) == (MISSING_ASSESSMENT,)
    text_only = ClinicalReport(assessment=Assessment.CATEGORY_2, recommendation_text="Kontrolle")
    assert missing_for_signing(annotations, text_only, located) == ()


def test_a_finding_is_located_or_explained(headers: dict[str, Dataset]) -> None:
    annotations = codec_tests.build(headers)
    first, second, *rest = annotations.findings
    one_view = FindingLocation(second.tracking_uid, (), None)  # no two-view result
    locations: dict[str, object] = {f.tracking_uid: stored() for f in rest}
    locations[second.tracking_uid] = one_view
    assert missing_for_signing(annotations, COMPLETE, locations) == (
        f"{first.short_id}: not located and no reason given",
        f"{second.short_id}: not located and no reason given",
    )
    explained = ClinicalReport(
        assessment=Assessment.CATEGORY_4,
        recommendations=(Recommendation.DUCT_EXCISION,),
        unlocated=(
            UnlocatedFinding(first.tracking_uid, "nur im CC sichtbar"),
            UnlocatedFinding(second.tracking_uid, "Luftblase"),
        ),
    )
    assert missing_for_signing(annotations, explained, locations) == ()


def test_a_suggested_nipple_must_be_confirmed_before_signing(headers: dict[str, Dataset]) -> None:
    annotations = codec_tests.build(headers)
    first, *others = annotations.landmarks
    suggested = replace(annotations, landmarks=(replace(first, confirmed=False), *others))
    located = {f.tracking_uid: stored() for f in annotations.findings}
    assert missing_for_signing(annotations, COMPLETE, located) == ()
    assert missing_for_signing(suggested, COMPLETE, located) == (
        "1 suggested nipple(s) not confirmed: drag each into place "
        "or Annotate → Accept Suggested Nipples (Shift+A)",
    )
    views = {first.sop_instance_uid: "L CC · post-contrast"}
    assert missing_for_signing(suggested, COMPLETE, located, views) == (
        "1 suggested nipple(s) not confirmed (on L CC · post-contrast): drag each into place "
        "or Annotate → Accept Suggested Nipples (Shift+A)",
    )


# ----------------------------------------------------------------------- the SR flags


def test_signature_needs_a_name_and_an_organisation(headers: dict[str, Dataset]) -> None:
    annotations = codec_tests.build(headers)
    for bad in (Signature("", "Org", SIGNED_AT), Signature("Doe^Jane", " ", SIGNED_AT)):
        with pytest.raises(ValueError, match="empty"):
            encode(annotations, codec_tests.sources(headers), signature=bad)


def test_a_signed_revision_is_complete_verified_final_with_its_observer(
    headers: dict[str, Dataset], tmp_path: Path
) -> None:
    annotations = codec_tests.build(headers)
    sr = encode(annotations, codec_tests.sources(headers), report=COMPLETE, signature=SIGNATURE)
    assert (sr.CompletionFlag, sr.VerificationFlag, sr.PreliminaryFlag) == (
        "COMPLETE",
        "VERIFIED",
        "FINAL",
    )
    observer = sr.VerifyingObserverSequence[0]
    assert observer.VerifyingObserverName == "Lindqvist^Åsa^^Dr."
    assert observer.VerifyingOrganization == "Brustzentrum Süd"
    assert str(observer.VerificationDateTime) == "20261204183005.000000+0100"
    path = tmp_path / "signed.dcm"
    from_json(to_json(sr)).save_as(path, enforce_file_format=True)
    result = decode(dcmread(path))
    assert result.signed
    assert result.complete
    assert result.signature == SIGNATURE
    assert result.report == COMPLETE
    parsed = hd.sr.ComprehensiveSR.from_dataset(dcmread(path))
    assert isinstance(parsed.content, hd.sr.MeasurementReport)
    assert parsed.VerifyingObserverSequence[0].VerifyingOrganization == "Brustzentrum Süd"
    assert b"Lindqvist" in codec_tests.validate(path)


def test_an_unsigned_revision_is_partial_and_unverified(headers: dict[str, Dataset]) -> None:
    sr = encode(codec_tests.build(headers), codec_tests.sources(headers), report=COMPLETE)
    assert (sr.CompletionFlag, sr.VerificationFlag) == ("PARTIAL", "UNVERIFIED")
    assert "VerifyingObserverSequence" not in sr
    result = decode(from_json(to_json(sr)))
    assert (result.signed, result.signature, result.complete) == (False, None, False)


def test_an_addendum_references_the_signed_revision_and_validates(
    headers: dict[str, Dataset], tmp_path: Path
) -> None:
    annotations = codec_tests.build(headers)
    signed_sr = encode(
        annotations, codec_tests.sources(headers), report=COMPLETE, signature=SIGNATURE
    )
    signed = decode(from_json(to_json(signed_sr)))
    addendum = Addendum(str(signed_sr.SOPInstanceUID), "Zweiter Defekt bei 2 Uhr nachgetragen")
    report = ClinicalReport(
        assessment=Assessment.CATEGORY_4,
        recommendations=(Recommendation.DUCT_EXCISION,),
        addendum=addendum,
    )
    sr = encode(signed.annotations, codec_tests.sources(headers), report=report)
    predecessor = sr.PredecessorDocumentsSequence[0].ReferencedSeriesSequence[0]
    assert predecessor.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == signed_sr.SOPInstanceUID
    path = tmp_path / "addendum.dcm"
    from_json(to_json(sr)).save_as(path, enforce_file_format=True)
    result = decode(dcmread(path))
    assert result.report is not None
    assert result.report.addendum == addendum
    assert not result.signed
    assert b"Zweiter Defekt" in codec_tests.validate(path)
    # The addendum signed in its turn: still an addendum, now verified.
    later = replace_signed(sr, report, headers)
    assert later.signed and later.report is not None and later.report.addendum == addendum


def replace_signed(
    sr: Dataset, report: ClinicalReport, headers: dict[str, Dataset]
) -> DecodeResult:
    """Decode ``sr``, sign its next revision with ``report``, decode that."""
    result = decode(from_json(to_json(sr)))
    signed = encode(
        result.annotations, codec_tests.sources(headers), report=report, signature=SIGNATURE
    )
    return decode(from_json(to_json(signed)))


def test_a_verified_sr_without_an_observer_still_counts_as_signed() -> None:
    sr = Dataset()
    sr.VerificationFlag = "VERIFIED"
    problems: list[str] = []
    signature = read_signature(sr, problems)
    assert signature == Signature("", "", None)
    assert problems == ["signed (VERIFIED) but no Verifying Observer Sequence (PS3.3 C.17.2)"]


def test_an_unreadable_verification_datetime_is_a_problem() -> None:
    observer = Dataset()
    observer.VerifyingObserverName = "Doe^Jane"
    observer.VerifyingOrganization = "Org"
    with pytest.warns(UserWarning, match="Invalid value for VR DT"):
        observer.VerificationDateTime = "yesterday"
    sr = Dataset()
    sr.VerificationFlag = "VERIFIED"
    sr.VerifyingObserverSequence = [observer]
    problems: list[str] = []
    assert read_signature(sr, problems) == Signature("Doe^Jane", "Org", None)
    assert len(problems) == 1
    assert "'yesterday' is not a DT" in problems[0]
