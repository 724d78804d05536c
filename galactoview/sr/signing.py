"""Signing a galactography report: completeness, the SR's verification attributes (Qt-free).

A signed revision is an SR whose SR Document General module (PS3.3 C.17.2) says
Completion Flag (0040,A491) ``COMPLETE``, Verification Flag (0040,A493) ``VERIFIED``
and Preliminary Flag (0040,A496) ``FINAL``, with one Verifying Observer Sequence
(0040,A073) item: Verifying Observer Name (PN), Verifying Organization and Verification
DateTime, and an empty Verifying Observer Identification Code Sequence (Type 2). An
unsigned revision is ``PARTIAL`` / ``UNVERIFIED`` / ``PRELIMINARY`` (highdicom's defaults).

A signed revision is never changed: a change after signing is a new revision, an
**addendum** (:class:`~galactoview.sr.clinical_report.Addendum`): its report holds a
TEXT "Addendum" (121078, DCM) with the UID of the signed revision it amends, and it
names its predecessor in the Predecessor Documents Sequence as every revision does. An
addendum stays an addendum (naming the same signed revision) until it is signed itself;
:mod:`galactoview.sr.persistence` refuses any other save over a signed revision.

Before signing, :func:`missing_for_signing` lists what is missing: every finding located
(a two-view location) or explained (a reason in the report), a BI-RADS assessment
category, and a recommendation (coded or text).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from highdicom.valuerep import check_person_name
from pydicom.dataset import Dataset
from pydicom.valuerep import DT

from galactoview.annotations.model import AnnotationSet
from galactoview.location.localize import FindingLocation
from galactoview.sr.clinical_report import ClinicalReport

__all__ = [
    "MISSING_ASSESSMENT",
    "MISSING_RECOMMENDATION",
    "Signature",
    "is_complete",
    "missing_for_signing",
    "read_signature",
    "sign",
]

MISSING_ASSESSMENT: Final = "BI-RADS assessment category"
MISSING_RECOMMENDATION: Final = "recommendation"


@dataclass(frozen=True, slots=True)
class Signature:
    """Who verified (signed) a revision, for whom and when (PS3.3 C.17.2, Table C.17-2).

    Attributes
    ----------
    observer_name
        Verifying Observer Name, DICOM PN (``Family^Given^Middle^Prefix^Suffix``).
    organization
        Verifying Organization.
    verified_at
        Verification DateTime; ``None`` only when read from an SR that lacks it (when
        written, ``None`` means now).

    What :func:`read_signature` returns may be incomplete (another writer's SR);
    :meth:`check` says whether a signature can be written.
    """

    observer_name: str
    organization: str
    verified_at: datetime | None

    def check(self) -> None:
        """Raise ``ValueError`` unless this signature can be written.

        Raises
        ------
        ValueError
            For an empty or invalid name (highdicom's PN check) or an empty organisation.
        """
        if not self.observer_name.strip("^ "):
            raise ValueError("the verifying observer's name is empty")
        check_person_name(self.observer_name)
        if not self.organization.strip():
            raise ValueError("the verifying organisation is empty")


def sign(sr: Dataset, signature: Signature) -> None:
    """Mark an SR (just built, before it is written) as complete, verified and final.

    Raises
    ------
    ValueError
        For a signature that cannot be written (:meth:`Signature.check`).
    """
    signature.check()
    moment = signature.verified_at or datetime.now().astimezone()
    observer = Dataset()
    observer.VerifyingObserverName = signature.observer_name
    observer.VerifyingOrganization = signature.organization
    observer.VerificationDateTime = DT(moment.strftime("%Y%m%d%H%M%S.%f") + _offset(moment))
    observer.VerifyingObserverIdentificationCodeSequence = []
    sr.CompletionFlag = "COMPLETE"
    sr.VerificationFlag = "VERIFIED"
    sr.PreliminaryFlag = "FINAL"
    sr.VerifyingObserverSequence = [observer]


def _offset(moment: datetime) -> str:
    offset = moment.strftime("%z")
    return offset if offset else ""


def is_complete(sr: Dataset) -> bool:
    """Return whether the SR's Completion Flag is ``COMPLETE``."""
    return str(sr.get("CompletionFlag") or "").strip().upper() == "COMPLETE"


def read_signature(sr: Dataset, problems: list[str]) -> Signature | None:
    """Return who verified the SR, ``None`` when its Verification Flag is not ``VERIFIED``.

    The first Verifying Observer Sequence item is read (ours have one). A ``VERIFIED`` SR
    whose observer is missing or unreadable still counts as signed (it must not be
    changed): the signature has what could be read, and ``problems`` gets a line.
    """
    if str(sr.get("VerificationFlag") or "").strip().upper() != "VERIFIED":
        return None
    items = sr.get("VerifyingObserverSequence") or []
    if not items:
        problems.append("signed (VERIFIED) but no Verifying Observer Sequence (PS3.3 C.17.2)")
        return Signature("", "", None)
    observer = items[0]
    name = str(observer.get("VerifyingObserverName") or "")
    organization = str(observer.get("VerifyingOrganization") or "")
    moment: datetime | None = None
    raw = observer.get("VerificationDateTime")
    if raw:
        try:
            parsed = DT(str(raw))  # a datetime subclass: kept as a plain datetime
            moment = datetime.fromisoformat(parsed.isoformat())
        except ValueError:
            problems.append(f"signed, but the Verification DateTime {str(raw)!r} is not a DT")
    return Signature(name, organization, moment)


def missing_for_signing(
    annotations: AnnotationSet,
    report: ClinicalReport | None,
    locations: Mapping[str, object],
    views: Mapping[str, str] | None = None,
) -> tuple[str, ...]:
    """List what must be added before the report can be signed; empty when complete.

    Parameters
    ----------
    annotations
        The marks (their findings must be located or explained).
    report
        The report; ``None`` counts as an empty one.
    locations
        Each finding's location by tracking UID: a
        :class:`~galactoview.location.localize.FindingLocation` (located when it has a
        two-view :attr:`~galactoview.location.localize.FindingLocation.breast`) or a
        stored location read from an SR (any other value: located).
    views
        Each image's view label by SOP Instance UID (e.g. ``"L ML pre-contrast"``), to
        name the images of suggested nipples; default none (counted only).

    Returns
    -------
    tuple of str
        One line per thing missing, for the reader: :data:`MISSING_ASSESSMENT`,
        :data:`MISSING_RECOMMENDATION`, and ``"<short id>: not located and no reason
        given"`` per finding, and one line naming the images whose nipple is still a
        suggestion (a location must not rest on a landmark no reader confirmed).
    """
    report = report or ClinicalReport()
    missing: list[str] = []
    suggested = [landmark for landmark in annotations.landmarks if not landmark.confirmed]
    if suggested:
        named = [(views or {}).get(landmark.sop_instance_uid, "") for landmark in suggested]
        which = f" (on {', '.join(named)})" if all(named) else ""
        missing.append(
            f"{len(suggested)} suggested nipple(s) not confirmed{which}: drag each into place "
            "or Annotate → Accept Suggested Nipples (Shift+A)"
        )
    for finding in annotations.findings:
        location = locations.get(finding.tracking_uid)
        located = location is not None and (
            not isinstance(location, FindingLocation) or location.breast is not None
        )
        if not located and not report.reason_not_located(finding.tracking_uid).strip():
            missing.append(f"{finding.short_id}: not located and no reason given")
    if report.assessment is None:
        missing.append(MISSING_ASSESSMENT)
    if not report.recommendations and not report.recommendation_text.strip():
        missing.append(MISSING_RECOMMENDATION)
    return tuple(missing)
