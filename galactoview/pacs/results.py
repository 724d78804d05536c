"""What a PACS query, retrieve or store returns, whichever protocol carried it (Qt-free).

The DICOMweb client (QIDO-RS / WADO-RS / STOW-RS, PS3.18) and the DIMSE client
(C-FIND / C-GET / C-MOVE / C-STORE, PS3.4 and PS3.7) return the same values, so the
command line and the Query/Retrieve panel do not care which one a node speaks:

* :class:`StudyMatch` / :class:`SeriesMatch` — a study and its series as a query
  found them, with the attributes of the Study Root STUDY and SERIES levels (PS3.4
  C.6.2.1.2) and QIDO-RS's study and series results (PS3.18 10.6.3.3).
* :class:`RetrieveProgress` / :class:`RetrieveResult` — per-instance progress and the
  outcome of a retrieve: the files written, the instances that failed and why.
* :class:`StoreProgress` / :class:`StoreResult` — the same for a store, with the
  instances not sent because the PACS already held them.
* :class:`InstanceFailure` — one instance that failed, with its reason, one line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "InstanceFailure",
    "RetrieveProgress",
    "RetrieveResult",
    "SeriesMatch",
    "StoreProgress",
    "StoreResult",
    "StudyMatch",
    "in_series_order",
    "newest_first",
]


@dataclass(frozen=True)
class SeriesMatch:
    """A series a query found (PS3.4 C.6.2.1.2 SERIES level; PS3.18 10.6.3.3.2).

    Attributes
    ----------
    study_instance_uid
        Its study.
    series_instance_uid
        Series Instance UID (0020,000E).
    modality
        Modality (0008,0060), e.g. ``"MG"`` or ``"SR"``.
    series_number
        Series Number (0020,0011), ``None`` if absent.
    series_description
        Series Description (0008,103E).
    number_of_instances
        Number of Series Related Instances (0020,1209), ``None`` if not given.
    """

    study_instance_uid: str
    series_instance_uid: str
    modality: str = ""
    series_number: int | None = None
    series_description: str = ""
    number_of_instances: int | None = None


@dataclass(frozen=True)
class StudyMatch:
    """A study a query found (PS3.4 C.6.2.1.2 STUDY level; PS3.18 10.6.3.3.1).

    Attributes
    ----------
    study_instance_uid
        Study Instance UID (0020,000D).
    patient_id, patient_name, patient_birth_date
        Patient ID (0010,0020), Patient's Name (0010,0010) as DICOM writes it
        (``Family^Given``), Patient's Birth Date (0010,0030) ``YYYYMMDD``.
    accession_number
        Accession Number (0008,0050).
    study_date, study_time
        Study Date (0008,0020) ``YYYYMMDD`` and Study Time (0008,0030).
    study_description
        Study Description (0008,1030).
    modalities
        Modalities in Study (0008,0061).
    number_of_series, number_of_instances
        Number of Study Related Series / Instances (0020,1206 / 0020,1208), ``None``
        if not given.
    series
        Its series, when the query asked for them.
    """

    study_instance_uid: str
    patient_id: str = ""
    patient_name: str = ""
    patient_birth_date: str = ""
    accession_number: str = ""
    study_date: str = ""
    study_time: str = ""
    study_description: str = ""
    modalities: tuple[str, ...] = ()
    number_of_series: int | None = None
    number_of_instances: int | None = None
    series: tuple[SeriesMatch, ...] = ()


@dataclass(frozen=True)
class InstanceFailure:
    """One instance that was not retrieved or stored, and why.

    Attributes
    ----------
    sop_instance_uid
        Its SOP Instance UID (``""`` when the PACS counted a failure without naming it).
    reason
        One line, e.g. ``the PACS reported the sub-operation failed``.
    path
        For :func:`store`: the file it came from, if it came from a file.
    """

    sop_instance_uid: str
    reason: str
    path: Path | None = None

    def __str__(self) -> str:
        where = str(self.path) if self.path is not None else self.sop_instance_uid or "instance"
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class RetrieveProgress:
    """What :func:`retrieve_study` reports after each instance.

    Attributes
    ----------
    sop_instance_uid
        The instance this report is about.
    path
        Where it was written, or ``None`` if it failed.
    error
        Why it failed, or ``None``.
    received
        Instances written so far.
    failed
        Instances failed so far.
    remaining
        Sub-operations the PACS said were remaining in its last response (PS3.7
        9.1.3.1.6), or ``None`` if it has not said.
    """

    sop_instance_uid: str
    path: Path | None
    error: str | None
    received: int
    failed: int
    remaining: int | None


@dataclass(frozen=True)
class RetrieveResult:
    """The outcome of :func:`retrieve_study`.

    Attributes
    ----------
    written
        The instance files written, in the order they arrived.
    failures
        The instances not retrieved, each with its reason.
    cancelled
        Whether the retrieve stopped because ``cancel`` said so.
    """

    written: tuple[Path, ...]
    failures: tuple[InstanceFailure, ...]
    cancelled: bool

    @property
    def complete(self) -> bool:
        """Whether every instance arrived (nothing failed, nothing cancelled)."""
        return not self.failures and not self.cancelled


@dataclass(frozen=True)
class StoreProgress:
    """What :func:`store` reports after each instance.

    Attributes
    ----------
    sop_instance_uid
        The instance this report is about.
    outcome
        ``"stored"``, ``"present"`` (the PACS already had it, not sent) or ``"failed"``.
    done
        Instances handled so far (of ``total``).
    total
        Instances to handle.
    error
        Why it failed, or ``None``.
    """

    sop_instance_uid: str
    outcome: Literal["stored", "present", "failed"]
    done: int
    total: int
    error: str | None = None


@dataclass(frozen=True)
class StoreResult:
    """The outcome of :func:`store`.

    Attributes
    ----------
    stored
        SOP Instance UIDs the PACS accepted.
    already_present
        SOP Instance UIDs the PACS already held, not sent again.
    failures
        Inputs not stored, each with its reason.
    cancelled
        Whether the store stopped because ``cancel`` said so.
    """

    stored: tuple[str, ...]
    already_present: tuple[str, ...]
    failures: tuple[InstanceFailure, ...]
    cancelled: bool = False


def in_series_order(series: Iterable[SeriesMatch]) -> tuple[SeriesMatch, ...]:
    """Return series by Series Number, those without one last (both query paths)."""
    return tuple(sorted(series, key=lambda s: (s.series_number is None, s.series_number or 0)))


def newest_first(studies: Iterable[StudyMatch]) -> tuple[StudyMatch, ...]:
    """Return studies newest first by Study Date and Time (both query paths)."""
    return tuple(sorted(studies, key=lambda s: (s.study_date, s.study_time), reverse=True))
