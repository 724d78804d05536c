"""Prior studies of a patient on a PACS: same Patient ID, mammography, an earlier date (Qt-free).

:func:`find_priors` is the query behind "compare with prior": a Study Root STUDY-level
C-FIND (PS3.4 C.6.2.1) or a QIDO-RS Search for Studies (PS3.18 10.6.1) with

* Patient ID (0010,0020) matched as a single value (PS3.4 C.2.2.2.1);
* Modalities in Study (0008,0061) ``MG``;
* Study Date (0008,0020) as the range ``-YYYYMMDD`` (PS3.4 C.2.2.2.5.1: every date up to
  and including the day before ``before``; PS3.18 8.3.4 carries the same range in QIDO).

A PACS may match more loosely than asked (Patient ID case-insensitively, a range it
ignores, a wildcard character in an ID — PS3.4 has no escape for ``*`` and ``?``), so the
answers are checked again here: exactly that Patient ID, a Study Date before ``before``,
MG among the modalities when the PACS lists them.
"""

from __future__ import annotations

import datetime as dt

from galactoview.pacs.fetch import protocol_of
from galactoview.pacs.nodes import PacsNode
from galactoview.pacs.results import StudyMatch, newest_first

__all__ = ["find_priors"]


def _day_before(before: str) -> str:
    """Return the DA value of the day before ``before`` (``YYYYMMDD``)."""
    try:
        day = dt.datetime.strptime(before, "%Y%m%d").date()
    except ValueError:
        raise ValueError(f"not a DICOM date YYYYMMDD (PS3.5 6.2, DA): {before!r}") from None
    if len(before) != 8 or not before.isdigit() or day == dt.date.min:
        raise ValueError(f"not a DICOM date YYYYMMDD (PS3.5 6.2, DA): {before!r}")
    return (day - dt.timedelta(days=1)).strftime("%Y%m%d")


def find_priors(
    node: PacsNode,
    patient_id: str,
    before: str,
    *,
    exclude: str = "",
    with_series: bool = True,
) -> tuple[StudyMatch, ...]:
    """Return the patient's mammography studies dated before ``before``, newest first.

    Parameters
    ----------
    node
        The PACS (DICOMweb or DIMSE), queried through its protocol's ``find_studies``.
    patient_id
        Patient ID (0010,0020) of the current study; ``""`` finds nothing (it would
        match every patient).
    before
        Study Date of the current study, ``YYYYMMDD``; only studies dated strictly
        earlier are priors (a study without a Study Date is not one).
    exclude
        A Study Instance UID never to return (the current study).
    with_series
        Also query each prior's series (one more query per study).

    Returns
    -------
    tuple of StudyMatch
        Newest first (:func:`~galactoview.pacs.results.newest_first`); empty when the
        node has none.

    Raises
    ------
    ValueError
        ``before`` is not a date ``YYYYMMDD``.
    DicomWebError, DimseError
        The node cannot be reached or refuses the query, as ``find_studies`` raises.
    """
    last_day = _day_before(before)
    if not patient_id.strip():
        return ()
    protocol, _how, _errors = protocol_of(node)
    found: tuple[StudyMatch, ...] = protocol.find_studies(
        node,
        patient_id=patient_id,
        study_date=f"-{last_day}",
        modality="MG",
        with_series=with_series,
    )
    return newest_first(
        study
        for study in found
        if study.patient_id == patient_id
        and study.study_instance_uid != exclude
        and study.study_date
        and study.study_date < before
        and (not study.modalities or "MG" in study.modalities)
    )
