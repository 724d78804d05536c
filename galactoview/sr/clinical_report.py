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

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

import highdicom as hd
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code

from galactoview.annotations.codes import PRIVATE_SCHEME
from galactoview.annotations.model import is_valid_uid
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


class Indication(enum.Enum):
    """Coded indication (PS3.16 CID 6055 "Breast Clinical Finding or Indicated Problem")."""

    BLOODY_NIPPLE_DISCHARGE = "BloodyNippleDischarge"  # SCT 290113009
    NON_BLOODY_DISCHARGE = "NonBloodyDischarge"  # DCM 111478, clear / serous
    NIPPLE_DISCHARGE_SYMPTOM = "NippleDischargeSymptom"  # SCT 162164007

    @property
    def code(self) -> Code:
        """The CID 6055 code."""
        return _cid_code(6055, self.value)


class ReportedView(enum.Enum):
    """A view taken (PS3.16 CID 4014 "View for Mammography")."""

    CRANIO_CAUDAL = "CranioCaudal"  # CC, SCT 399162004
    MEDIO_LATERAL_OBLIQUE = "MedioLateralObliqueProjection"  # MLO, SCT 399368009
    MEDIO_LATERAL = "MedioLateralProjection"  # ML, SCT 399260004
    LATERO_MEDIAL = "LateroMedial"  # LM, SCT 399352003
    CRANIO_CAUDAL_EXAGGERATED_LATERALLY = "CranioCaudalExaggeratedLaterally"  # XCCL

    @property
    def code(self) -> Code:
        """The CID 4014 code."""
        return _cid_code(4014, self.value)


class Complication(enum.Enum):
    """A complication of the procedure (CID 6062; extravasation from CID 6057)."""

    NO_COMPLICATIONS = "NoComplications"  # DCM 111492
    EXTRAVASATION = "Extravasation"  # DCM 111428
    VASOVAGAL_SYNCOPE = "VasovagalSyncope"  # SCT 398665005

    @property
    def code(self) -> Code:
        """The CID 6062 (or CID 6057) code."""
        return _cid_code(6057 if self is Complication.EXTRAVASATION else 6062, self.value)


class Assessment(enum.Enum):
    """BI-RADS® assessment category (PS3.16 CID 6027, within CID 6026).

    The value is the category as printed ("0" … "6", "4A" … "4C").
    """

    CATEGORY_0 = "0"
    CATEGORY_1 = "1"
    CATEGORY_2 = "2"
    CATEGORY_3 = "3"
    CATEGORY_4 = "4"
    CATEGORY_4A = "4A"
    CATEGORY_4B = "4B"
    CATEGORY_4C = "4C"
    CATEGORY_5 = "5"
    CATEGORY_6 = "6"

    @property
    def code(self) -> Code:
        """The CID 6027 code, with its code meaning from that table."""
        return _ASSESSMENT_CODES[self]


def _bi_rads(value: str, meaning: str) -> Code:
    return Code(value, "BI", meaning, scheme_version="4.0")


_ASSESSMENT_CODES: Final[dict[Assessment, Code]] = {
    Assessment.CATEGORY_0: Code(
        "397138000", "SCT", "0 - Incomplete - Need additional imaging evaluation +/- priors"
    ),
    Assessment.CATEGORY_1: Code("397140005", "SCT", "1 - Negative"),
    Assessment.CATEGORY_2: Code("397141009", "SCT", "2 - Benign"),
    Assessment.CATEGORY_3: Code("397143007", "SCT", "3 - Probably Benign"),
    Assessment.CATEGORY_4: Code("397144001", "SCT", "4 - Suspicious"),
    Assessment.CATEGORY_4A: _bi_rads("MA.II.A.5.4A", "4A - Low suspicion"),
    Assessment.CATEGORY_4B: _bi_rads("MA.II.A.5.4B", "4B - Intermediate suspicion"),
    Assessment.CATEGORY_4C: _bi_rads("MA.II.A.5.4C", "4C - Moderate suspicion"),
    Assessment.CATEGORY_5: Code("397145000", "SCT", "5 - Highly suggestive of malignancy"),
    Assessment.CATEGORY_6: _bi_rads("MA.II.A.5.6", "6 - Known biopsy proven malignancy"),
}


class Recommendation(enum.Enum):
    """A recommended follow-up: CID 6028 codes, and private ductography follow-ups."""

    SURGICAL_CONSULT = "SurgicalConsult"  # DCM 111410
    DIAGNOSTIC_ULTRASONOGRAPHY = "DiagnosticUltrasonography"  # SCT 16310003
    MAMMARY_DUCTOGRAM = "MammaryDuctogram"  # SCT 18102001 (repeat ductogram)
    NEEDLE_LOCALIZATION_AND_BIOPSY = "NeedleLocalizationAndBiopsy"  # DCM 111144
    HISTOLOGY_USING_CORE_BIOPSY = "HistologyUsingCoreBiopsy"  # DCM 111145
    MRI_OF_BREAST = "MRIOfBreast"  # SCT 241615005
    FOLLOW_UP_AT_SHORT_INTERVAL = "FollowUpAtShortInterval111Months"  # DCM 111142
    NORMAL_INTERVAL_FOLLOW_UP = "NormalIntervalFollowUp"  # DCM 111140
    BIOPSY_SHOULD_BE_CONSIDERED = "BiopsyShouldBeConsidered"  # DCM 111143
    DUCT_EXCISION = "DUCT-EXCISION"  # private
    ULTRASOUND_GUIDED_BIOPSY = "US-GUIDED-BIOPSY"  # private
    DUCTOSCOPY = "DUCTOSCOPY"  # private

    @property
    def code(self) -> Code:
        """The CID 6028 code, or the private one (see the module docstring)."""
        return _PRIVATE_RECOMMENDATIONS.get(self) or _cid_code(6028, self.value)


_PRIVATE_RECOMMENDATIONS: Final[dict[Recommendation, Code]] = {
    Recommendation.DUCT_EXCISION: Code(
        "DUCT-EXCISION", PRIVATE_SCHEME, "Duct excision (microdochectomy)"
    ),
    Recommendation.ULTRASOUND_GUIDED_BIOPSY: Code(
        "US-GUIDED-BIOPSY", PRIVATE_SCHEME, "Ultrasound-guided biopsy"
    ),
    Recommendation.DUCTOSCOPY: Code("DUCTOSCOPY", PRIVATE_SCHEME, "Ductoscopy"),
}


def _cid_code(cid: int, keyword: str) -> Code:
    code = getattr(getattr(codes, f"cid{cid}"), keyword)
    if not isinstance(code, Code):  # pragma: no cover - pydicom's tables hold Codes
        raise TypeError(f"CID {cid} {keyword} is not a code")
    return code


@dataclass(frozen=True, slots=True)
class NippleOrifice:
    """Where the cannulated duct opens on the nipple, seen as a clock face.

    Attributes
    ----------
    clock_hour
        1–12 (as the breast's clock face: the patient's right breast at 9 o'clock is
        lateral), or ``None`` for the centre of the nipple.

    Raises
    ------
    ValueError
        For an hour outside 1–12.
    """

    clock_hour: int | None = None

    def __post_init__(self) -> None:
        if self.clock_hour is not None and not 1 <= self.clock_hour <= 12:
            raise ValueError(f"orifice clock hour {self.clock_hour} is not 1-12")

    @property
    def central(self) -> bool:
        """Whether the orifice is at the centre of the nipple."""
        return self.clock_hour is None

    @property
    def code(self) -> Code:
        """The CID 6018 value: an o'clock position or *Central region* (the centre)."""
        if self.clock_hour is None:
            return location_codes.CENTRAL_REGION
        return location_codes.CLOCK_HOURS[self.clock_hour]

    def __str__(self) -> str:
        return "central" if self.clock_hour is None else f"{self.clock_hour} o'clock"


@dataclass(frozen=True, slots=True)
class Technique:
    """How the ductogram was done.

    Attributes
    ----------
    orifice
        The cannulated duct's orifice on the nipple; ``None`` when not recorded.
    contrast_ml
        Contrast volume injected in mL (stored to 0.1 mL); ``None`` when not recorded.
    views
        The views taken (CID 4014), in order.
    magnification
        Whether magnification views were taken (CID 4015 *Magnification*).
    complications
        Complications (CID 6062 / extravasation); empty when not recorded.

    Raises
    ------
    ValueError
        For a contrast volume that is not a positive finite number, or
        *No complications* together with a complication.
    """

    orifice: NippleOrifice | None = None
    contrast_ml: float | None = None
    views: tuple[ReportedView, ...] = ()
    magnification: bool = False
    complications: tuple[Complication, ...] = ()

    def __post_init__(self) -> None:
        if self.contrast_ml is not None and not (
            math.isfinite(self.contrast_ml) and self.contrast_ml > 0
        ):
            raise ValueError(f"contrast volume {self.contrast_ml} mL is not a positive number")
        if Complication.NO_COMPLICATIONS in self.complications and len(self.complications) > 1:
            raise ValueError("'no complications' together with a complication")


@dataclass(frozen=True, slots=True)
class UnlocatedFinding:
    """The reader's reason why a finding has no two-view location (e.g. seen on CC only).

    Raises
    ------
    ValueError
        For an invalid tracking UID or an empty reason.
    """

    tracking_uid: str
    reason: str

    def __post_init__(self) -> None:
        if not is_valid_uid(self.tracking_uid):
            raise ValueError(f"invalid tracking UID {self.tracking_uid!r}")
        if not self.reason.strip():
            raise ValueError("a finding's reason for not being located is empty")


@dataclass(frozen=True, slots=True)
class Addendum:
    """What an addendum revision adds to a signed report, and which revision it amends.

    Attributes
    ----------
    signed_revision_uid
        SOP Instance UID of the signed revision amended.
    text
        What the addendum says (an addendum always says something).

    Raises
    ------
    ValueError
        For an invalid UID or an empty text.
    """

    signed_revision_uid: str
    text: str

    def __post_init__(self) -> None:
        if not is_valid_uid(self.signed_revision_uid):
            raise ValueError(f"invalid signed revision UID {self.signed_revision_uid!r}")
        if not self.text.strip():
            raise ValueError("an addendum's text is empty")


@dataclass(frozen=True, slots=True)
class ClinicalReport:
    """The radiologist's report of a galactography (stored in the SR; see the module).

    Attributes
    ----------
    indication, indication_text
        Coded indication (CID 6055) and free text.
    technique
        Orifice, contrast volume, views, complications.
    comparison
        Comparison with prior examinations.
    impression
        The impression.
    assessment
        BI-RADS® assessment category; ``None`` when not given yet.
    recommendations, recommendation_text
        Coded recommendations and free text.
    free_text
        Anything else.
    unlocated
        Reasons why findings could not be located, one per finding.
    addendum
        Set on an addendum revision (after a signed one).
    """

    indication: Indication | None = None
    indication_text: str = ""
    technique: Technique = Technique()
    comparison: str = ""
    impression: str = ""
    assessment: Assessment | None = None
    recommendations: tuple[Recommendation, ...] = ()
    recommendation_text: str = ""
    free_text: str = ""
    unlocated: tuple[UnlocatedFinding, ...] = ()
    addendum: Addendum | None = None

    def reason_not_located(self, tracking_uid: str) -> str:
        """Return the reader's reason why a finding is not located, ``""`` if none."""
        return next((u.reason for u in self.unlocated if u.tracking_uid == tracking_uid), "")


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
        items.append(_code(ORIFICE_POSITION, technique.orifice.code))
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
