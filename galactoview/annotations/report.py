"""The radiologist's galactography report: the model (Qt-free, no SR encoding).

What the radiologist writes beside the marks (issue 14): indication, technique (the
cannulated duct's orifice on the nipple, contrast volume, views, complications),
comparison, impression, BI-RADS® assessment, recommendations, free text, the reasons why
findings are not located, and an addendum after signing. The choices are coded with the
PS3.16 context groups named on each enum (CID 6055, 4014, 6062/6057, 6027, 6028; three
private ductography follow-ups); :mod:`galactoview.sr.clinical_report` says where each
item sits in the TID 1500 SR and reads it back.

It lives here, beside the marks' model, because a study's document
(:class:`galactoview.annotations.document.StudySnapshot`) holds it: a report edit is an
undoable edit like any mark's, and "unsaved" means the marks *or* the report.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Final

from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code

from galactoview.annotations.codes import PRIVATE_SCHEME
from galactoview.annotations.model import is_valid_uid

__all__ = [
    "RECOMMENDATIONS_IN_ORDER",
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
]


class Indication(enum.Enum):
    """Coded indication (PS3.16 CID 6055 "Breast Clinical Finding or Indicated Problem")."""

    BLOODY_NIPPLE_DISCHARGE = "BloodyNippleDischarge"  # SCT 290113009
    NON_BLOODY_DISCHARGE = "NonBloodyDischarge"  # DCM 111478, clear / serous
    NIPPLE_DISCHARGE_SYMPTOM = "NippleDischargeSymptom"  # SCT 162164007

    @property
    def code(self) -> Code:
        """The CID 6055 code."""
        return _cid_code(6055, self.value)

    @property
    def label(self) -> str:
        """The words the window and the printed report use (one wording everywhere)."""
        return _INDICATION_LABELS[self]


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

    @property
    def label(self) -> str:
        """The words the window and the printed report use (one wording everywhere)."""
        return _RECOMMENDATION_LABELS[self]


_PRIVATE_RECOMMENDATIONS: Final[dict[Recommendation, Code]] = {
    Recommendation.DUCT_EXCISION: Code(
        "DUCT-EXCISION", PRIVATE_SCHEME, "Duct excision (microdochectomy)"
    ),
    Recommendation.ULTRASOUND_GUIDED_BIOPSY: Code(
        "US-GUIDED-BIOPSY", PRIVATE_SCHEME, "Ultrasound-guided biopsy"
    ),
    Recommendation.DUCTOSCOPY: Code("DUCTOSCOPY", PRIVATE_SCHEME, "Ductoscopy"),
}


_INDICATION_LABELS: Final[dict[Indication, str]] = {
    Indication.BLOODY_NIPPLE_DISCHARGE: "Bloody nipple discharge",
    Indication.NON_BLOODY_DISCHARGE: "Clear (non-bloody) nipple discharge",
    Indication.NIPPLE_DISCHARGE_SYMPTOM: "Nipple discharge",
}
#: In the order a galactography report usually needs them (the window lists them so).
_RECOMMENDATION_LABELS: Final[dict[Recommendation, str]] = {
    Recommendation.DUCT_EXCISION: "Duct excision (microdochectomy)",
    Recommendation.ULTRASOUND_GUIDED_BIOPSY: "Ultrasound-guided biopsy",
    Recommendation.DUCTOSCOPY: "Ductoscopy",
    Recommendation.DIAGNOSTIC_ULTRASONOGRAPHY: "Diagnostic ultrasound",
    Recommendation.MRI_OF_BREAST: "Breast MRI",
    Recommendation.SURGICAL_CONSULT: "Surgical consultation",
    Recommendation.HISTOLOGY_USING_CORE_BIOPSY: "Core biopsy",
    Recommendation.NEEDLE_LOCALIZATION_AND_BIOPSY: "Needle localization and biopsy",
    Recommendation.BIOPSY_SHOULD_BE_CONSIDERED: "Biopsy should be considered",
    Recommendation.MAMMARY_DUCTOGRAM: "Repeat ductogram",
    Recommendation.FOLLOW_UP_AT_SHORT_INTERVAL: "Short-interval follow-up",
    Recommendation.NORMAL_INTERVAL_FOLLOW_UP: "Routine follow-up",
}

#: The recommendations in the order a galactography report usually needs them.
RECOMMENDATIONS_IN_ORDER: Final = tuple(_RECOMMENDATION_LABELS)


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
