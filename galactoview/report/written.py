"""The radiologist's written report and its signature, as the lines the PDF prints (Qt-free).

The model is :class:`galactoview.annotations.report.ClinicalReport` (stored in the SR,
:mod:`galactoview.sr.clinical_report`); the signature is the SR's Verifying Observer
(PS3.3 C.17.2, :func:`galactoview.sr.signing.read_signature`). Everything here is text,
so the PDF's page 1, the review mode and the tests read the same words:

* indication: its label (the words the window uses too, for a CID 6055 code), then the
  reader's text;
* technique: the cannulated duct's orifice on the nipple (``"2 o'clock"`` or
  ``"central"``), the contrast volume in mL, the views (CID 4014, abbreviated), the
  complications (CID 6062 / extravasation);
* the BI-RADS® category with its meaning (CID 6027), ``"BI-RADS 4A: Low suspicion"``;
* recommendations: their labels (the window's words, for CID 6028 codes and the private
  ductography follow-ups), then the reader's text;
* the signature block ``"Electronically signed by <name>, <organisation>, <date time>"``,
  or ``None`` for a draft (and for a revision marked VERIFIED that names no verifying
  observer: :data:`INVALID_SIGNATURE`); an addendum says which signed revision it amends
  and whether it is signed itself (:attr:`WrittenReport.amended`, under page 1's title).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from galactoview.annotations.report import (
    Assessment,
    ClinicalReport,
    Complication,
    ReportedView,
    Technique,
)
from galactoview.dicom.person_name import format_person_name
from galactoview.sr.signing import Signature

__all__ = [
    "INVALID_SIGNATURE",
    "NOT_GIVEN",
    "AddendumBlock",
    "SignatureBlock",
    "WrittenReport",
    "assessment_text",
    "signature_block",
    "technique_lines",
    "written_report",
]

#: What a section the reader has not written says.
NOT_GIVEN: Final = "not given"
#: What a revision marked VERIFIED without a Verifying Observer Sequence prints: a
#: signature names who signed (PS3.3 C.17.2, Table C.17-2, Type 1C when VERIFIED).
INVALID_SIGNATURE: Final = (
    "Marked VERIFIED but names no verifying observer (PS3.3 C.17.2): not a valid signature"
)

_VIEWS: Final = {
    ReportedView.CRANIO_CAUDAL: "CC",
    ReportedView.MEDIO_LATERAL_OBLIQUE: "MLO",
    ReportedView.MEDIO_LATERAL: "ML",
    ReportedView.LATERO_MEDIAL: "LM",
    ReportedView.CRANIO_CAUDAL_EXAGGERATED_LATERALLY: "XCCL",
}


@dataclass(frozen=True, slots=True)
class SignatureBlock:
    """Who signed the revision printed, for whom and when.

    Attributes
    ----------
    signer
        Verifying Observer Name formatted for people (``"Curie, Marie Dr"``).
    organization
        Verifying Organization.
    signed_at
        Verification DateTime as ``YYYY-MM-DD HH:MM`` (local time of the signature),
        ``"date not recorded"`` when the SR lacks it.
    """

    signer: str
    organization: str
    signed_at: str

    @property
    def text(self) -> str:
        """``"Electronically signed by <name>, <organisation>, <date time>"``."""
        parts = [self.signer or "an unnamed reader", self.organization, self.signed_at]
        return "Electronically signed by " + ", ".join(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class AddendumBlock:
    """An addendum: what it adds, which signed revision it amends, whether it is signed.

    Attributes
    ----------
    text
        What the addendum says.
    amends_uid
        SOP Instance UID of the signed revision it amends.
    signature
        The addendum revision's own signature; ``None`` while it is a draft.
    """

    text: str
    amends_uid: str
    signature: SignatureBlock | None

    @property
    def heading(self) -> str:
        """``"Addendum (<date>, <signer>) to the report signed as SR revision <uid>"``."""
        if self.signature is None:
            who = "not signed yet"
        else:
            who = ", ".join(p for p in (self.signature.signed_at, self.signature.signer) if p)
        return f"Addendum ({who}) to the report signed as SR revision {self.amends_uid}"


@dataclass(frozen=True, slots=True)
class WrittenReport:
    """The written report of one study, as printed.

    Attributes
    ----------
    indication, comparison, impression, free_text
        One paragraph each; :data:`NOT_GIVEN` (free text: ``""``) when the reader wrote
        none.
    technique
        One line each: orifice, contrast, views, complications.
    orifice
        ``"2 o'clock"``, ``"central"``, or ``""`` when not recorded.
    orifice_hour
        The orifice's clock hour (1–12), ``None`` for central or not recorded.
    assessment
        :func:`assessment_text`.
    recommendations
        One line per recommendation; ``(NOT_GIVEN,)`` when none.
    signature
        The signature of the revision printed; ``None``: a draft (not signed), or a
        revision marked VERIFIED that names no verifying observer.
    addendum
        The addendum this revision carries, if any.
    invalid_signature
        :data:`INVALID_SIGNATURE` when the revision is marked VERIFIED but names no
        verifying observer (printed as not validly signed, with the draft watermark);
        else ``""``.
    """

    indication: str
    technique: tuple[str, ...]
    orifice: str
    orifice_hour: int | None
    comparison: str
    impression: str
    assessment: str
    recommendations: tuple[str, ...]
    free_text: str
    signature: SignatureBlock | None
    addendum: AddendumBlock | None
    invalid_signature: str = ""

    @property
    def signed(self) -> bool:
        """Whether everything printed is signed (the report, and its addendum if any)."""
        return self.signature is not None

    @property
    def state(self) -> str:
        """One line for the review: signed by whom, or draft."""
        if self.invalid_signature:
            return self.invalid_signature
        if self.addendum is not None:
            if self.signature is None:
                return "Signed report with an addendum that is NOT SIGNED (draft)"
            return f"Addendum signed — {self.signature.text}"
        if self.signature is None:
            return "DRAFT — not signed"
        return f"Signed — {self.signature.text}"

    @property
    def watermark(self) -> str:
        """The watermark of every page; ``""`` when signed."""
        if self.signature is not None:
            return ""
        return "DRAFT — addendum not signed" if self.addendum is not None else "DRAFT — not signed"

    @property
    def amended(self) -> str:
        """What page 1 says under its title of an addendum; ``""`` without one.

        ``"AMENDED — this report has an addendum (below), not signed yet"``, or
        ``"AMENDED — addendum signed by <name> on <date time> (below)"``.
        """
        if self.addendum is None:
            return ""
        if self.signature is None:
            return "AMENDED — this report has an addendum (below), not signed yet"
        by = f" by {self.signature.signer}" if self.signature.signer else ""
        return f"AMENDED — addendum signed{by} on {self.signature.signed_at} (below)"

    @property
    def footer_state(self) -> str:
        """What every page's footer says of the signature and addendum (``""``: none)."""
        if self.invalid_signature:
            state = "DRAFT — not a valid signature: no verifying observer"
        else:
            state = self.watermark
        if self.addendum is None:
            return state
        return "with addendum" + (f" · {state}" if state else "")


def signature_block(signature: Signature) -> SignatureBlock:
    """Return the printed form of an SR's Verifying Observer (PS3.3 C.17.2)."""
    when = signature.verified_at
    return SignatureBlock(
        format_person_name(signature.observer_name),
        signature.organization.strip(),
        when.strftime("%Y-%m-%d %H:%M") if when is not None else "date not recorded",
    )


def assessment_text(assessment: Assessment | None) -> str:
    """Return ``"BI-RADS 4A: Low suspicion"`` (the CID 6027 meaning), or :data:`NOT_GIVEN`."""
    if assessment is None:
        return f"BI-RADS category {NOT_GIVEN}"
    meaning = str(assessment.code.meaning)
    _, _, words = meaning.partition(" - ")
    return f"BI-RADS {assessment.value}: {words or meaning}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def technique_lines(technique: Technique) -> tuple[str, ...]:
    """Return the technique as printed: orifice, contrast, views, complications.

    Parameters
    ----------
    technique
        The report's technique.

    Returns
    -------
    tuple of str
        ``"Cannulated duct: orifice at 2 o'clock on the nipple"``, ``"Contrast: 1.5 mL"``,
        ``"Views: CC, ML, magnification"``, ``"Complications: none"``; what was not
        recorded says so.
    """
    orifice = technique.orifice
    if orifice is None:
        duct = f"Cannulated duct: orifice {NOT_GIVEN}"
    elif orifice.central:
        duct = "Cannulated duct: central orifice of the nipple"
    else:
        duct = f"Cannulated duct: orifice at {orifice} on the nipple"
    contrast = (
        f"Contrast: {technique.contrast_ml:.1f} mL".replace(".0 mL", " mL")
        if technique.contrast_ml is not None
        else f"Contrast volume {NOT_GIVEN}"
    )
    views = [_VIEWS.get(view, str(view.code.meaning)) for view in technique.views]
    if technique.magnification:
        views.append("magnification")
    shown = f"Views: {', '.join(views)}" if views else f"Views {NOT_GIVEN}"
    if not technique.complications:
        complications = f"Complications {NOT_GIVEN}"
    elif technique.complications == (Complication.NO_COMPLICATIONS,):
        complications = "Complications: none"
    else:
        complications = "Complications: " + ", ".join(
            str(c.code.meaning).lower() for c in technique.complications
        )
    return (duct, contrast, shown, complications)


def written_report(report: ClinicalReport, signature: Signature | None) -> WrittenReport:
    """Return the printed form of a study's written report and its signature.

    Parameters
    ----------
    report
        The study's report (an empty one when none was written).
    signature
        The Verifying Observer of the revision printed; ``None`` when it is not signed.

    Returns
    -------
    WrittenReport
        The texts.
    """
    indication = [report.indication.label] if report.indication is not None else []
    if report.indication_text.strip():
        indication.append(report.indication_text.strip())
    recommendations = [r.label for r in report.recommendations]
    if report.recommendation_text.strip():
        recommendations.append(report.recommendation_text.strip())
    orifice = report.technique.orifice
    invalid = signature is not None and not signature.observer_name.strip("^ ")
    block = None if signature is None or invalid else signature_block(signature)
    addendum = None
    if report.addendum is not None:
        addendum = AddendumBlock(
            report.addendum.text.strip(), report.addendum.signed_revision_uid, block
        )
    return WrittenReport(
        indication=". ".join(_sentence(i) for i in indication) or NOT_GIVEN,
        technique=technique_lines(report.technique),
        orifice="" if orifice is None else str(orifice),
        orifice_hour=None if orifice is None else orifice.clock_hour,
        comparison=report.comparison.strip() or NOT_GIVEN,
        impression=report.impression.strip() or NOT_GIVEN,
        assessment=assessment_text(report.assessment),
        recommendations=tuple(recommendations) or (NOT_GIVEN,),
        free_text=report.free_text.strip(),
        signature=block,
        addendum=addendum,
        invalid_signature=INVALID_SIGNATURE if invalid else "",
    )
