"""The written report in the report's content: signature, technique, table cells in cm, ducts."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from pydicom.sr.coding import Code

from galactoview.annotations import codes
from galactoview.annotations.document import StudySnapshot
from galactoview.annotations.model import (
    Finding,
    FindingType,
    GraphicType,
    ImageRegion,
    MeasurementValue,
)
from galactoview.annotations.report import (
    Addendum,
    Assessment,
    ClinicalReport,
    NippleOrifice,
    Technique,
    UnlocatedFinding,
)
from galactoview.dicom.loading import ImageRecord
from galactoview.report.content import (
    TABLE_COLUMNS,
    build_study_report,
    calibration_note,
    cm_text,
    load_report,
    short_size,
)
from galactoview.report.written import (
    INVALID_SIGNATURE,
    NOT_GIVEN,
    assessment_text,
    technique_lines,
    written_report,
)
from galactoview.sr.persistence import open_annotations
from galactoview.sr.signing import Signature
from tests.report.signed_sample import REPORT, SIGNATURE, SIGNER, SUGGESTER, signed_ductogram

DATE = dt.date(2026, 12, 4)
STUDY = "2.25.1"
IMAGE = "2.25.2"


def _finding(
    *measurements: MeasurementValue, graphic: GraphicType = GraphicType.ELLIPSE
) -> Finding:
    points = {
        GraphicType.ELLIPSE: ((10.0, 10.0), (20.0, 10.0), (15.0, 8.0), (15.0, 12.0)),
        GraphicType.CIRCLE: ((0.0, 0.0), (5.0, 0.0)),
        GraphicType.POINT: ((0.0, 0.0),),
    }[graphic]
    region = ImageRegion(IMAGE, None, graphic, points)
    finding = Finding.new(FindingType.CYST_FILL, (region,), short_id="CY-1")
    return replace(finding, measurements=measurements)


def _value(name: Code, value: float, unit: Code = codes.MILLIMETER) -> MeasurementValue:
    return MeasurementValue(name, value, unit, "0.1 mm (detector)")


def test_cm_has_one_decimal() -> None:
    assert cm_text(41.6) == "4.2 cm"
    assert cm_text(58.0) == "5.8 cm"
    assert cm_text(5.0) == "0.5 cm"


def test_a_size_is_one_short_number() -> None:
    ellipse = _finding(_value(codes.LONG_AXIS, 8.04), _value(codes.SHORT_AXIS, 4.96))
    text, measurement = short_size(ellipse)
    assert text == "8 × 5 mm"
    assert measurement is not None and measurement.calibration_source == "0.1 mm (detector)"
    round_one = _finding(_value(codes.LONG_AXIS, 6.64), _value(codes.SHORT_AXIS, 6.64))
    assert short_size(round_one)[0] == "6.6 mm"
    circle = _finding(_value(codes.DIAMETER, 11.83), graphic=GraphicType.CIRCLE)
    assert short_size(circle)[0] == "11.8 mm"
    pixels = _finding(_value(codes.LONG_AXIS, 80.0, codes.PIXEL))
    assert short_size(pixels)[0] == "80 px"
    assert short_size(_finding())[0] == "uncalibrated"
    assert short_size(_finding(graphic=GraphicType.POINT))[0] == "—"


def test_the_calibration_footnote_says_what_the_pixel_spacing_is() -> None:
    assert calibration_note("0.1 mm (detector)") == (
        "Sizes measured at 0.1 mm per pixel: Imager Pixel Spacing of the detector; "
        "magnification not corrected, the lesion is smaller than measured"
    )
    assert "divided by the magnification ×1.8" in calibration_note("0.0556 mm (mag-corrected ×1.8)")
    assert calibration_note("weird") == "Sizes measured with the calibration weird"


def test_written_texts() -> None:
    written = written_report(REPORT, SIGNATURE)
    assert written.indication == (
        "Bloody nipple discharge. Single-duct discharge from the left nipple for three weeks"
    )
    assert written.technique == (
        "Cannulated duct: orifice at 2 o'clock on the nipple",
        "Contrast: 1.5 mL",
        "Views: CC, ML, magnification",
        "Complications: none",
    )
    assert (written.orifice, written.orifice_hour) == ("2 o'clock", 2)
    assert written.assessment == "BI-RADS 4A: Low suspicion"
    assert written.recommendations == (
        "Duct excision (microdochectomy)",
        "Ultrasound-guided biopsy",
        "Preoperative duct marking with blue dye.",
    )
    assert written.signature is not None
    assert written.signature.text == (
        f"Electronically signed by {SIGNER}, Brustzentrum Süd, 2026-12-04 18:30"
    )
    assert written.watermark == ""
    draft = written_report(ClinicalReport(), None)
    assert draft.watermark == "DRAFT — not signed"
    assert draft.state == "DRAFT — not signed"
    assert draft.impression == NOT_GIVEN
    assert draft.comparison == NOT_GIVEN  # as every other empty field, not "no prior compared"
    assert assessment_text(None) == "BI-RADS category not given"
    assert assessment_text(Assessment.CATEGORY_0).startswith("BI-RADS 0: Incomplete")
    assert technique_lines(Technique(orifice=NippleOrifice(None)))[0] == (
        "Cannulated duct: central orifice of the nipple"
    )


def test_verified_without_an_observer_is_not_a_signature() -> None:
    unnamed = written_report(REPORT, Signature("", "", None))
    assert unnamed.signature is None
    assert unnamed.invalid_signature == INVALID_SIGNATURE
    assert unnamed.state == INVALID_SIGNATURE
    assert unnamed.watermark == "DRAFT — not signed"
    assert unnamed.footer_state == "DRAFT — not a valid signature: no verifying observer"
    signed = written_report(REPORT, SIGNATURE)
    assert (signed.invalid_signature, signed.footer_state) == ("", "")


def test_an_addendum_names_the_signed_revision_and_whether_it_is_signed() -> None:
    report = replace(REPORT, addendum=Addendum("2.25.77", "Second defect at 2 o'clock."))
    draft = written_report(report, None)
    assert draft.addendum is not None
    assert draft.addendum.heading == (
        "Addendum (not signed yet) to the report signed as SR revision 2.25.77"
    )
    assert draft.watermark == "DRAFT — addendum not signed"
    signed = written_report(report, SIGNATURE)
    assert signed.addendum is not None
    assert signed.addendum.heading == (
        f"Addendum (2026-12-04 18:30, {SIGNER}) to the report signed as SR revision 2.25.77"
    )
    assert signed.watermark == ""
    # Said at the top of page 1 and in every footer.
    assert signed.amended == f"AMENDED — addendum signed by {SIGNER} on 2026-12-04 18:30 (below)"
    assert signed.footer_state == "with addendum"
    assert draft.amended == "AMENDED — this report has an addendum (below), not signed yet"
    assert draft.footer_state == "with addendum · DRAFT — addendum not signed"
    plain = written_report(REPORT, SIGNATURE)
    assert (plain.amended, plain.footer_state) == ("", "")


@pytest.fixture(scope="module")
def signed_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return signed_ductogram(tmp_path_factory.mktemp("signed"))


def test_load_report_carries_the_report_signature_and_duct_paths(signed_folder: Path) -> None:
    loaded = load_report([signed_folder], DATE)
    assert loaded.problems == ()
    (study,) = loaded.content.studies
    assert study.written == written_report(REPORT, SIGNATURE)
    assert len(TABLE_COLUMNS) == len(study.rows[0].cells())
    paths = {path.short_id: path for path in study.duct_paths}
    assert paths["FD-1"].segments == ("DS-1", "DS-2")
    assert paths["CY-1"].segments == ("DS-1", "DS-2", "DS-4")
    assert paths["DE-1"].segments == ("DS-1",)
    # DE-1 lies on the root about 460 px from the nipple at 0.0925 mm per pixel; CY-1 at
    # the end of DS-4: the whole tree's length from the orifice.
    fd1, cy1, de1 = (paths[k].length_mm for k in ("FD-1", "CY-1", "DE-1"))
    assert de1 is not None and 40.0 < de1 < 45.0
    assert fd1 is not None and cy1 is not None and de1 < fd1 < cy1
    assert paths["FD-1"].text == (
        "FD-1: 55 mm along the traced duct DS-1 → DS-2 on the L CC #3 "
        "(projected, not corrected for depth)"
    )
    assert [view.view_label for view in study.duct_views] == ["L CC #3", "L ML #4"]
    assert {lesion.short_id for lesion in study.duct_views[0].lesions} == {"FD-1", "CY-1", "DE-1"}


#: The footnote of marks that started as SUGGESTER's suggestions, accepted by the signer.
SUGGESTED_NOTE = (
    "started as an automatic suggestion (GalactoView duct-tree suggestion 1.0) and was "
    f"accepted by {SIGNER}"
)


def test_a_finding_and_ducts_that_started_as_suggestions_say_so(tmp_path: Path) -> None:
    """Through the SR (TID 4019) to the report: "FD-1§", "DS-1§ → DS-2§", one footnote."""
    loaded = load_report([signed_ductogram(tmp_path, suggested=True)], DATE)
    assert loaded.problems == ()
    (study,) = loaded.content.studies
    rows = {row.short_id: row for row in study.rows}
    assert rows["FD-1"].label == "FD-1§"
    assert rows["FD-1"].cells()[0] == "FD-1§"
    assert rows["FD-1"].suggested == f"§ {SUGGESTED_NOTE}"
    assert [(r.label, r.marker) for r in study.rows if r.short_id != "FD-1"] == [
        ("CY-1", ""),
        ("DE-1", ""),
    ]
    suggestions = [note for note in study.footnotes if note.marker.startswith("§")]
    assert [(note.marker, note.text) for note in suggestions] == [("§", SUGGESTED_NOTE)]
    assert study.footnotes[-1].marker == "§"  # after the calibration's
    paths = {path.short_id: path for path in study.duct_paths}
    assert paths["FD-1"].text == (
        "FD-1: 55 mm along the traced duct DS-1§ → DS-2§ on the L CC #3 "
        "(projected, not corrected for depth)"
    )
    assert paths["CY-1"].segments == ("DS-1", "DS-2", "DS-4")  # the ids stay as they are
    assert "DS-1§ → DS-2§ → DS-4 on" in paths["CY-1"].text


def test_another_algorithm_or_reader_gets_its_own_marker(tmp_path: Path) -> None:
    """§ for the first (algorithm, reader), §§ for the next; a drawn finding gets none."""
    loaded = load_report([signed_ductogram(tmp_path, suggested=True)], DATE)
    (record, *_rest) = loaded.records
    annotations = open_annotations(
        record.study_instance_uid, [r.path for r in loaded.records]
    ).annotations
    older = replace(SUGGESTER, version="0.9")
    findings = tuple(
        replace(f, algorithm=older, observer="") if f.short_id == "CY-1" else f
        for f in annotations.findings
    )
    study = build_study_report(replace(annotations, findings=findings), loaded.records)
    assert [row.label for row in study.rows] == ["FD-1§", "CY-1§§", "DE-1"]
    assert [(n.marker, n.text) for n in study.footnotes if n.marker.startswith("§")] == [
        ("§", SUGGESTED_NOTE),
        (
            "§§",
            "started as an automatic suggestion (GalactoView duct-tree suggestion 0.9) and "
            f"was accepted by {SIGNER}",  # CY-1 names no observer: the SR's reader took it
        ),
    ]


def test_an_unsigned_revision_is_a_draft(tmp_path: Path) -> None:
    loaded = load_report([signed_ductogram(tmp_path, signed=False)], DATE)
    (study,) = loaded.content.studies
    assert study.written.signature is None
    assert study.written.watermark == "DRAFT — not signed"
    assert study.written.assessment == "BI-RADS 4A: Low suspicion"


def test_a_finding_not_located_gives_the_readers_reason(
    sample_records: tuple[ImageRecord, ...],
) -> None:
    ductogram = [r for r in sample_records if r.study_description.upper().startswith("DUCTOGRAM")]
    opened = open_annotations(ductogram[0].study_instance_uid, [r.path for r in ductogram])
    fd1 = opened.annotations.findings[0]
    one_view = replace(fd1, regions=fd1.regions[:1], measurements=())
    annotations = replace(opened.annotations, findings=(one_view,))
    report = ClinicalReport(unlocated=(UnlocatedFinding(fd1.tracking_uid, "seen on CC only"),))
    study = build_study_report(StudySnapshot.of(annotations, report=report), sample_records)
    (row,) = study.rows
    assert (row.located, row.clock) == (False, "not located")
    assert row.reason == "Not located: seen on CC only"
    assert row.cells()[-1].startswith("Not located: seen on CC only. ")
