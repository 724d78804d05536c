"""The newest revision of a study's marks among the SRs a PACS holds, as the study's sidecar.

Every save of GalactoView's marks is a new SR (a new SOP Instance UID) naming the one it
replaces in its Predecessor Documents Sequence (0040,A360) (PS3.3 C.17.2.3). A PACS
therefore holds a chain of revisions, and a viewer that loads "the" SR of a study may
load an old one (OHIF #2078). :func:`newest_revision` picks the head of the chain: the
TID 1500 measurement report that no other report of the study names as a predecessor;
when several do (two workstations each saved a revision of the same predecessor), the
one with the latest Content Date/Time (0008,0023 / 0008,0033), then the greatest SOP
Instance UID so that the choice never depends on the order the PACS answered in.

:func:`adopt_newest_report` writes that revision as the study's sidecar through
:func:`galactoview.sr.persistence.import_report` (what ``galactoview sr import`` does),
replacing a sidecar that holds an earlier revision of the same chain;
:func:`adopt_revision` does the same for one revision chosen otherwise (the reader's
"reload theirs" after a conflict, :mod:`galactoview.pacs.conflict`). Protocol-free:
the DICOMweb and DIMSE clients hand it the SR datasets they retrieved.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset

from galactoview.sr import sidecar, sr_codec
from galactoview.sr.persistence import (
    ImportedReport,
    ImportRefusedError,
    import_report,
    report_text,
)

__all__ = [
    "Adoption",
    "Revision",
    "adopt_newest_report",
    "adopt_revision",
    "newest_revision",
    "predecessors",
]


@dataclass(frozen=True)
class Revision:
    """The newest revision of a study's marks and the revisions it supersedes.

    Attributes
    ----------
    dataset
        The SR.
    result
        What :func:`sr_codec.decode` read from it.
    supersedes
        SOP Instance UIDs of its earlier revisions (its predecessors, theirs, ...).
    """

    dataset: Dataset
    result: sr_codec.DecodeResult
    supersedes: frozenset[str]

    @property
    def sop_instance_uid(self) -> str:
        """The revision's SOP Instance UID."""
        return str(self.dataset.SOPInstanceUID)


@dataclass(frozen=True)
class Adoption:
    """What :func:`adopt_newest_report` did.

    Attributes
    ----------
    revision
        The newest revision found; ``None`` when the study has no readable TID 1500 SR.
    imported
        What became of the study's sidecar; ``None`` when nothing could be written.
    problems
        One line per SR skipped or per thing that went wrong, naming the object.
    """

    revision: Revision | None
    imported: ImportedReport | None
    problems: tuple[str, ...]


def predecessors(dataset: Dataset) -> tuple[str, ...]:
    """Return the SOP Instance UIDs an SR names in its Predecessor Documents Sequence.

    PS3.3 C.17.2.3: (0040,A360) > Referenced Series Sequence > Referenced SOP Sequence.
    """
    found: list[str] = []
    for study in dataset.get("PredecessorDocumentsSequence", None) or ():
        for series in study.get("ReferencedSeriesSequence", None) or ():
            for instance in series.get("ReferencedSOPSequence", None) or ():
                uid = str(instance.get("ReferencedSOPInstanceUID", "") or "")
                if uid:
                    found.append(uid)
    return tuple(found)


def _content_moment(dataset: Dataset) -> str:
    """Content Date + Content Time as one sortable string (``""`` when absent)."""
    date = str(dataset.get("ContentDate", "") or "")
    time = str(dataset.get("ContentTime", "") or "").ljust(6, "0")
    return date + time if date else ""


def newest_revision(
    reports: Sequence[Dataset], study_uid: str, problems: list[str] | None = None
) -> Revision | None:
    """Return the head of a study's chain of TID 1500 SR revisions (see the module docstring).

    Parameters
    ----------
    reports
        SR datasets of the study (others, and SRs of other studies, are ignored).
    study_uid
        The study.
    problems
        When given, a line is appended for each SR of the study that is not a readable
        TID 1500 measurement report (e.g. a CAD report or a Key Object Selection
        document: skipped), ``SR <SOP Instance UID>: is …; skipped``.

    Returns
    -------
    Revision or None
        ``None`` when no SR of the study is a readable measurement report.
    """
    readable: dict[str, tuple[Dataset, sr_codec.DecodeResult]] = {}
    for dataset in reports:
        uid = str(dataset.get("SOPInstanceUID", "") or "")
        if str(dataset.get("StudyInstanceUID", "") or "") != study_uid or not uid:
            continue
        try:
            result = sr_codec.decode(dataset)
        except ValueError as error:  # decode raises SRDecodeError only
            if problems is not None:
                problems.append(f"SR {uid}: {error}; skipped")
            continue
        readable[uid] = (dataset, result)
    if not readable:
        return None
    named = {uid for dataset, _ in readable.values() for uid in predecessors(dataset)}
    heads = [uid for uid in readable if uid not in named] or list(readable)  # a cycle: all
    head = max(heads, key=lambda uid: (_content_moment(readable[uid][0]), _uid_key(uid)))
    earlier: set[str] = set()
    todo = list(predecessors(readable[head][0]))
    while todo:
        uid = todo.pop()
        if uid in earlier or uid == head:
            continue
        earlier.add(uid)
        if uid in readable:
            todo.extend(predecessors(readable[uid][0]))
    dataset, result = readable[head]
    return Revision(dataset, result, frozenset(earlier))


def _uid_key(uid: str) -> tuple[int, ...]:
    """Order UIDs by their numeric components (a later ``2.25`` UID is not 'greater')."""
    return tuple(int(part) for part in uid.split(".") if part.isdigit())


def adopt_newest_report(study_uid: str, study_dir: Path, reports: Sequence[Dataset]) -> Adoption:
    """Write the newest revision among ``reports`` as the sidecar of the study in ``study_dir``.

    The sidecar goes where the viewer and ``galactoview report`` read it
    (:func:`galactoview.sr.persistence.import_report`): a study without one gets it; one
    holding an earlier revision of the chain is replaced (kept as ``.bak``); one that is
    already this revision is left; one holding other marks (edited here and not stored)
    is kept and the revision written next to it.

    Parameters
    ----------
    study_uid
        The study.
    study_dir
        The folder its images were retrieved into.
    reports
        Its SR datasets as retrieved from the PACS.

    Returns
    -------
    Adoption
        Never raises for a bad SR or an unwritable sidecar: the problem is listed.
    """
    problems: list[str] = []
    revision = newest_revision(reports, study_uid, problems)
    if revision is None:
        return Adoption(None, None, tuple(problems))
    adoption = adopt_revision(revision, study_dir)
    return Adoption(revision, adoption.imported, (*problems, *adoption.problems))


def adopt_revision(
    revision: Revision, study_dir: Path, *, replacing: Collection[str] = ()
) -> Adoption:
    """Write one revision as the sidecar of its study, as :func:`adopt_newest_report` does.

    Parameters
    ----------
    revision
        The revision (e.g. what :func:`newest_revision` picked).
    study_dir
        The folder of the study's images.
    replacing
        SOP Instance UIDs of revisions the reader agreed to replace besides those
        ``revision`` supersedes (e.g. the marks edited here, after "reload theirs"):
        a sidecar holding one of them is replaced (kept as ``.bak``), not kept beside.

    Returns
    -------
    Adoption
        Never raises for a bad SR or an unwritable sidecar: the problem is listed, one
        line naming the SR (``SR <SOP Instance UID>: …: nothing imported`` for one with
        no readable mark) or the folder. Marks on images not (yet) in ``study_dir`` are
        kept and only listed in :attr:`ImportedReport.warnings`, not as problems: the
        images of a retrieve may still be arriving when the SR is adopted.
    """
    label = f"SR {revision.sop_instance_uid}"
    supersedes = revision.supersedes | frozenset(replacing)
    try:
        text = report_text(revision.dataset, revision.result.annotations)
        imported = import_report(
            text, revision.result.annotations, study_dir, supersedes=supersedes
        )
    except ImportRefusedError as error:
        where = study_dir if error.about_study else label
        return Adoption(revision, None, (f"{where}: {error}",))
    except sidecar.SidecarError as error:
        return Adoption(revision, None, (str(error),))
    except ValueError as error:
        return Adoption(revision, None, (f"{label}: {error}",))
    return Adoption(revision, imported, imported.problems)
