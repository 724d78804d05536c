"""The radiologist's galactography report: its model and its place in the TID 1500 SR (Qt-free).

What the report holds (issue 14; the clinical content is that of a breast imaging
report, PS3.16 TID 4200 "Breast Imaging Report" and its element groups):

* **indication**: a coded choice of CID 6055 "Breast Clinical Finding or Indicated
  Problem" — *Bloody nipple discharge* (SCT 290113009), *Non-bloody discharge (from
  nipple)* (DCM 111478, the clear or serous discharge), *Nipple discharge symptom*
  (SCT 162164007) — plus free text (e.g. "spontaneous, single duct");
* **technique**: the cannulated duct's orifice on the nipple as a clock-face hour 1–12
  (CID 6018 values, SCT 129772004 … 129783008) or the centre of the nipple (*Central
  region*, SCT 129786000), the contrast volume in mL, the views taken (CID 4014: CC
  399162004, MLO 399368009, ML 399260004, LM 399352003, XCCL 399192008, all SCT) with
  the *Magnification* modifier (CID 4015, SCT 399163009), and the complications (CID 6062
  *No complications* DCM 111492 and *Vasovagal syncope* SCT 398665005; *Extravasation*
  DCM 111428 of CID 6057);
* **comparison** with priors, **impression** (text);
* **BI-RADS assessment category** 0–6 (with 4A/4B/4C): CID 6027 "Assessment from
  BI-RADS®" (part of CID 6026 "Mammography Assessment"): SCT 397138000, 397140005,
  397141009, 397143007, 397144001, 397145000 for 0–5 and the ACR BI-RADS® scheme (``BI``,
  version 4.0) codes MA.II.A.5.4A/4B/4C and MA.II.A.5.6 for 4A–4C and 6, with the code
  meanings of CID 6027 (pydicom 3.0.2's CID tables leave CID 6027 empty; its concept
  table has the SCT codes);
* **recommendation**: codes of CID 6028 "Mammography Recommended Follow-up" (e.g.
  *Surgical consult* DCM 111410, *Diagnostic ultrasonography* SCT 16310003, *Mammary
  ductogram* SCT 18102001, *Needle localization and biopsy* DCM 111144, *Follow-up at
  short interval (1-11 months)* DCM 111142), plus three ductography follow-ups for which
  neither PS3.16 nor pydicom's tables have a code, as private codes of the local scheme
  ``99GALACTOVIEW`` (declared in the Coding Scheme Identification Sequence):
  ``DUCT-EXCISION`` "Duct excision (microdochectomy)", ``US-GUIDED-BIOPSY``
  "Ultrasound-guided biopsy", ``DUCTOSCOPY`` "Ductoscopy"; and free text;
* **free text**; for each finding that could not be located, the reader's **reason**
  (signing needs every finding located or explained, :mod:`galactoview.sr.signing`);
* an **addendum**: its text, and the signed revision it amends.

Where it lives in the SR
------------------------
In the TID 1500 document itself, in the root's **"Qualitative Evaluations"**
container (C0034375, UMLS; TID 1500 rows "Qualitative Evaluations" > CODE / TEXT),
after "Imaging Measurements". Why there: it is the place TID 1500 gives for evaluations
of the whole examination rather than of one region; the report stays in the **same**
document as the marks it interprets, so one revision (one SOP Instance UID) is what is
signed and what an addendum references, and the existing revision chain (Predecessor
Documents Sequence) and sidecar store need nothing new. A second SR (TID 4200 root)
referencing the measurement report would have to be signed, stored and kept in step
separately. Readers that know TID 1500 (highdicom, OHIF/dcmjs) parse the container and
ignore what they do not use. Concept names are those of CID 6053 "Breast Imaging Report
Element" where it has one:

==========================  ===========================================================
Item                        Content item (relationship CONTAINS unless said)
==========================  ===========================================================
indication                  CODE (18785-6, LN, "Indications for Procedure") = CID 6055
indication text             TEXT (18785-6, LN, "Indications for Procedure")
orifice                     CODE (ORIFICE-POSITION, 99GALACTOVIEW) = CID 6018 value
contrast volume             NUM (CONTRAST-VOLUME, 99GALACTOVIEW), UCUM ``ml``
views                       CODE (111031, DCM, "Image View") = CID 4014, one per view
magnification               CODE (111032, DCM, "Image View Modifier") = SCT 399163009
complications               CODE (116224001, SCT, "Complication of Procedure"), one each
comparison                  TEXT (111424, DCM, "Comparison to previous studies")
impression                  TEXT (121073, DCM, "Impression")
BI-RADS                     CODE (111005, DCM, "Assessment Category") = CID 6027
recommendations             CODE (111053, DCM, "Recommended Follow-up") = CID 6028 / private
recommendation text         TEXT (121075, DCM, "Recommendation")
reason not located          TEXT (UNLOCATED-REASON, 99GALACTOVIEW) > HAS PROPERTIES UIDREF
                            (112040, DCM, "Tracking Unique Identifier") of the finding
free text                   TEXT (121106, DCM, "Comment")
addendum                    TEXT (121078, DCM, "Addendum") > HAS PROPERTIES UIDREF
                            (ADDENDUM-TO, 99GALACTOVIEW) = SOP Instance UID of the signed
                            revision amended
==========================  ===========================================================

No code was found for the orifice's position on the nipple or for the contrast volume
injected (DCM 130228 is a volume *limit*), hence the two private concept names; their
values are standard. For the orifice, *Central region* means the centre of the nipple.

Reading (:func:`read_report`) is tolerant: items it does not know are ignored, values it
cannot read become one problem line each; a container without any known item gives no
report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final, TypeVar

import highdicom as hd
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code

from galactoview.annotations.codes import PRIVATE_SCHEME
from galactoview.annotations.report import (
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
from galactoview.location import codes as location_codes

__all__ = [
    "QUALITATIVE_EVALUATIONS",
    "Addendum",
    "Assessment",
    "ClinicalReport",
    "Complication",
    "Indication",
    "NippleOrifice",
    "Recommendation",
    "ReportedView",
    "Technique",
    "UnlocatedFinding",
    "orifice_code",
    "read_report",
    "report_container",
]

#: TID 1500's root container of evaluations of the whole examination.
QUALITATIVE_EVALUATIONS: Final = Code("C0034375", "UMLS", "Qualitative Evaluations")

# -------------------------------------------------------------------- concept names
INDICATIONS: Final = Code("18785-6", "LN", "Indications for Procedure")  # CID 6053
ORIFICE_POSITION: Final = Code(
    "ORIFICE-POSITION", PRIVATE_SCHEME, "Cannulated duct orifice on the nipple"
)
CONTRAST_VOLUME: Final = Code("CONTRAST-VOLUME", PRIVATE_SCHEME, "Contrast volume injected")
IMAGE_VIEW: Final = codes.DCM.ImageView  # 111031
IMAGE_VIEW_MODIFIER: Final = codes.DCM.ImageViewModifier  # 111032
COMPLICATION: Final = codes.SCT.ComplicationOfProcedure  # 116224001 (CID 7002)
COMPARISON: Final = codes.DCM.ComparisonToPreviousStudies  # 111424 (CID 6053)
IMPRESSION: Final = codes.DCM.Impression  # 121073 (CID 6053)
ASSESSMENT_CATEGORY: Final = codes.DCM.AssessmentCategory  # 111005
RECOMMENDED_FOLLOW_UP: Final = codes.DCM.RecommendedFollowUp  # 111053
RECOMMENDATION: Final = codes.DCM.Recommendation  # 121075 (CID 6053)
UNLOCATED_REASON: Final = Code("UNLOCATED-REASON", PRIVATE_SCHEME, "Why finding is not located")
TRACKING_UID: Final = codes.DCM.TrackingUniqueIdentifier  # 112040
COMMENT: Final = codes.DCM.Comment  # 121106
ADDENDUM: Final = codes.DCM.Addendum  # 121078
ADDENDUM_TO: Final = Code("ADDENDUM-TO", PRIVATE_SCHEME, "Signed report amended")
MILLILITER: Final = Code("ml", "UCUM", "milliliter")
MAGNIFICATION: Final = codes.cid4015.Magnification  # 399163009


def orifice_code(orifice: NippleOrifice) -> Code:
    """Return the CID 6018 value of an orifice: an o'clock position or *Central region*."""
    if orifice.clock_hour is None:
        return location_codes.CENTRAL_REGION
    return location_codes.CLOCK_HOURS[orifice.clock_hour]


# ============================================================================ writing


def _text(name: Code, value: str, relationship: str = "CONTAINS") -> hd.sr.ContentItem:
    return hd.sr.TextContentItem(name=name, value=value, relationship_type=relationship)


def _code(name: Code, value: Code) -> hd.sr.ContentItem:
    return hd.sr.CodeContentItem(name=name, value=value, relationship_type="CONTAINS")


def _with_uidref(item: hd.sr.ContentItem, name: Code, uid: str) -> hd.sr.ContentItem:
    uidref = hd.sr.UIDRefContentItem(name=name, value=uid, relationship_type="HAS PROPERTIES")
    item.ContentSequence = hd.sr.ContentSequence([uidref])
    return item


def report_items(report: ClinicalReport) -> list[hd.sr.ContentItem]:
    """Return the content items of a report, in the order of the module's table."""
    items: list[hd.sr.ContentItem] = []
    if report.indication is not None:
        items.append(_code(INDICATIONS, report.indication.code))
    if report.indication_text.strip():
        items.append(_text(INDICATIONS, report.indication_text))
    technique = report.technique
    if technique.orifice is not None:
        items.append(_code(ORIFICE_POSITION, orifice_code(technique.orifice)))
    if technique.contrast_ml is not None:
        items.append(
            hd.sr.NumContentItem(
                name=CONTRAST_VOLUME,
                value=round(technique.contrast_ml, 1),
                unit=MILLILITER,
                relationship_type="CONTAINS",
            )
        )
    items += [_code(IMAGE_VIEW, view.code) for view in technique.views]
    if technique.magnification:
        items.append(_code(IMAGE_VIEW_MODIFIER, MAGNIFICATION))
    items += [_code(COMPLICATION, complication.code) for complication in technique.complications]
    if report.comparison.strip():
        items.append(_text(COMPARISON, report.comparison))
    if report.impression.strip():
        items.append(_text(IMPRESSION, report.impression))
    if report.assessment is not None:
        items.append(_code(ASSESSMENT_CATEGORY, report.assessment.code))
    items += [_code(RECOMMENDED_FOLLOW_UP, r.code) for r in report.recommendations]
    if report.recommendation_text.strip():
        items.append(_text(RECOMMENDATION, report.recommendation_text))
    for unlocated in report.unlocated:
        item = _text(UNLOCATED_REASON, unlocated.reason)
        items.append(_with_uidref(item, TRACKING_UID, unlocated.tracking_uid))
    if report.free_text.strip():
        items.append(_text(COMMENT, report.free_text))
    if report.addendum is not None:
        item = _text(ADDENDUM, report.addendum.text)
        items.append(_with_uidref(item, ADDENDUM_TO, report.addendum.signed_revision_uid))
    return items


def report_container(report: ClinicalReport) -> Dataset | None:
    """Return the "Qualitative Evaluations" container (TID 1500) holding the report.

    Returns
    -------
    pydicom.dataset.Dataset or None
        ``None`` for a report without any item (no empty container is written).

    Raises
    ------
    ValueError
        If highdicom rejects a value (e.g. a text longer than UT allows).
    """
    items = report_items(report)
    if not items:
        return None
    container = hd.sr.ContainerContentItem(
        name=QUALITATIVE_EVALUATIONS, relationship_type="CONTAINS"
    )
    container.ContentSequence = hd.sr.ContentSequence(items)
    return container


# ============================================================================ reading


def _first(item: Dataset, keyword: str) -> Dataset | None:
    sequence = item.get(keyword)
    return sequence[0] if sequence else None


def _coded(item: Dataset | None) -> Code | None:
    if item is None:
        return None
    value = str(
        item.get("CodeValue") or item.get("LongCodeValue") or item.get("URNCodeValue") or ""
    )
    scheme = str(item.get("CodingSchemeDesignator") or "")
    if not value or not scheme:
        return None
    return Code(value, scheme, str(item.get("CodeMeaning") or value))


def _same(code: Code | None, other: Code) -> bool:
    return (
        code is not None
        and code.value == other.value
        and (code.scheme_designator == other.scheme_designator)
    )


_T = TypeVar("_T")


def _lookup(code: Code | None, of: dict[_T, Code]) -> _T | None:
    return next((choice for choice, known in of.items() if _same(code, known)), None)


_INDICATION_CODES: Final = {choice: choice.code for choice in Indication}
_VIEW_CODES: Final = {choice: choice.code for choice in ReportedView}
_COMPLICATION_CODES: Final = {choice: choice.code for choice in Complication}
_RECOMMENDATION_CODES: Final = {choice: choice.code for choice in Recommendation}
_ASSESSMENT_CODES: Final = {choice: choice.code for choice in Assessment}
_ORIFICE_CODES: Final = {
    NippleOrifice(None): location_codes.CENTRAL_REGION,
    **{NippleOrifice(hour): code for hour, code in location_codes.CLOCK_HOURS.items()},
}


class _ReportReader:
    """Collects the report's items from a "Qualitative Evaluations" container."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        self.known = False
        self.indication: Indication | None = None
        self.texts: dict[str, str] = {}
        self.orifice: NippleOrifice | None = None
        self.contrast_ml: float | None = None
        self.views: list[ReportedView] = []
        self.magnification = False
        self.complications: list[Complication] = []
        self.assessment: Assessment | None = None
        self.recommendations: list[Recommendation] = []
        self.unlocated: list[UnlocatedFinding] = []
        self.addendum: Addendum | None = None

    def _value(self, value: Code | None, what: str, of: dict[_T, Code]) -> _T | None:
        choice = _lookup(value, of)
        if choice is None:
            shown = "none" if value is None else f"({value.value}, {value.scheme_designator})"
            self.problems.append(f"report: {what} {shown} is not one GalactoView knows; skipped")
        return choice

    def add_code(self, name: Code, value: Code | None) -> None:
        if _same(name, INDICATIONS):
            self.indication = self._value(value, "indication", _INDICATION_CODES)
        elif _same(name, ORIFICE_POSITION):
            self.orifice = self._value(value, "orifice position", _ORIFICE_CODES)
        elif _same(name, IMAGE_VIEW):
            view = self._value(value, "view", _VIEW_CODES)
            self.views += [view] if view is not None else []
        elif _same(name, IMAGE_VIEW_MODIFIER) and _same(value, MAGNIFICATION):
            self.magnification = True
        elif _same(name, COMPLICATION):
            complication = self._value(value, "complication", _COMPLICATION_CODES)
            self.complications += [complication] if complication is not None else []
        elif _same(name, ASSESSMENT_CATEGORY):
            self.assessment = self._value(value, "assessment category", _ASSESSMENT_CODES)
        elif _same(name, RECOMMENDED_FOLLOW_UP):
            choice = self._value(value, "recommendation", _RECOMMENDATION_CODES)
            self.recommendations += [choice] if choice is not None else []
        else:
            return
        self.known = True

    def add_text(self, name: Code, item: Dataset) -> None:
        text = str(item.get("TextValue") or "")
        simple = {
            INDICATIONS: "indication",
            COMPARISON: "comparison",
            IMPRESSION: "impression",
            RECOMMENDATION: "recommendation",
            COMMENT: "free",
        }
        for concept, key in simple.items():
            if _same(name, concept):
                self.texts[key] = text
                self.known = True
                return
        if _same(name, UNLOCATED_REASON) or _same(name, ADDENDUM):
            self.known = True
            uid = ""
            for child in item.get("ContentSequence") or []:
                if str(child.get("ValueType") or "") == "UIDREF":
                    uid = str(child.get("UID") or "")
            try:
                if _same(name, ADDENDUM):
                    self.addendum = Addendum(uid, text)
                else:
                    self.unlocated.append(UnlocatedFinding(uid, text))
            except ValueError as error:
                what = "addendum" if _same(name, ADDENDUM) else "reason a finding is not located"
                self.problems.append(f"report: {what} skipped: {error}")

    def add_num(self, name: Code, item: Dataset) -> None:
        if not _same(name, CONTRAST_VOLUME):
            return
        self.known = True
        value = _first(item, "MeasuredValueSequence")
        unit = None if value is None else _coded(_first(value, "MeasurementUnitsCodeSequence"))
        try:
            if value is None or not _same(unit, MILLILITER):
                raise ValueError("not a value in mL")
            volume = float(value.NumericValue)
            if not (math.isfinite(volume) and volume > 0):
                raise ValueError(f"{volume} is not a positive number")
        except (AttributeError, TypeError, ValueError) as error:
            self.problems.append(f"report: contrast volume skipped: {error}")
            return
        self.contrast_ml = volume

    def report(self) -> ClinicalReport | None:
        if not self.known:
            return None
        complications = tuple(dict.fromkeys(self.complications))
        if Complication.NO_COMPLICATIONS in complications and len(complications) > 1:
            self.problems.append("report: 'no complications' beside a complication; dropped")
            complications = tuple(
                c for c in complications if c is not Complication.NO_COMPLICATIONS
            )
        return ClinicalReport(
            indication=self.indication,
            indication_text=self.texts.get("indication", ""),
            technique=Technique(
                orifice=self.orifice,
                contrast_ml=self.contrast_ml,
                views=tuple(self.views),
                magnification=self.magnification,
                complications=complications,
            ),
            comparison=self.texts.get("comparison", ""),
            impression=self.texts.get("impression", ""),
            assessment=self.assessment,
            recommendations=tuple(self.recommendations),
            recommendation_text=self.texts.get("recommendation", ""),
            free_text=self.texts.get("free", ""),
            unlocated=tuple(self.unlocated),
            addendum=self.addendum,
        )


def _containers(dataset: Dataset) -> Sequence[Dataset]:
    return [
        item
        for item in dataset.get("ContentSequence") or []
        if _same(_coded(_first(item, "ConceptNameCodeSequence")), QUALITATIVE_EVALUATIONS)
    ]


def read_report(dataset: Dataset, problems: list[str]) -> ClinicalReport | None:
    """Read the report from a TID 1500 SR's "Qualitative Evaluations" container.

    Parameters
    ----------
    dataset
        The SR (its root content).
    problems
        Receives one line per item that could not be read.

    Returns
    -------
    ClinicalReport or None
        ``None`` when the SR holds none of the report's items (e.g. another program's SR,
        or one saved before the report existed).
    """
    reader = _ReportReader(problems)
    for container in _containers(dataset):
        for item in container.get("ContentSequence") or []:
            name = _coded(_first(item, "ConceptNameCodeSequence"))
            if name is None:
                continue
            value_type = str(item.get("ValueType") or "")
            if value_type == "CODE":
                reader.add_code(name, _coded(_first(item, "ConceptCodeSequence")))
            elif value_type == "TEXT":
                reader.add_text(name, item)
            elif value_type == "NUM":
                reader.add_num(name, item)
    return reader.report()
