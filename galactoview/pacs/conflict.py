"""Whether a PACS holds a newer revision of a study's marks than the one edited here (Qt-free).

Every save of the marks is a new SR naming the revision it replaces in its Predecessor
Documents Sequence (0040,A360) (PS3.3 C.17.2.3); :func:`galactoview.pacs.revisions.newest_revision`
picks the head of a study's chain on the PACS. While a reader edits the marks, a colleague
at another workstation may store a revision of the same study's marks: storing ours
then would silently make theirs an old branch (and viewers load the newest, OHIF #2078).
:func:`newer_revision_on_pacs` asks the PACS (QIDO-RS + WADO-RS, or C-FIND + C-GET /
C-MOVE: the clients' ``retrieve_reports``) and compares its newest revision with ours:

* **the PACS's newest is ours** (the revision being edited, already stored): no conflict;
* **the PACS's newest is an ancestor of ours** (we started from it, or stored it, and
  edited since; we are ahead): no conflict — storing ours makes it the newest;
* **the PACS's newest descends from ours** (a colleague opened our stored revision and
  stored theirs): conflict, :attr:`Relation.DESCENDS`;
* **both descend from a common earlier revision** (we both edited the same revision):
  conflict, :attr:`Relation.BRANCHES`;
* **nothing in common** (the marks here never came from nor went to this PACS, and
  someone stored marks of the study there): conflict, :attr:`Relation.UNRELATED`.

"Ours" is the revision being edited and its predecessors as far as they are known here
(a sidecar names only its immediate predecessor, and autosave makes a revision every
few seconds, so the caller adds the revisions it loaded from or stored to the PACS);
the PACS's own chain fills in the rest: a revision of ours that the PACS holds brings
its predecessors there along. When the PACS's chain has two heads (two workstations
each saved a revision of the same predecessor), the newest of them is compared, as
:func:`~galactoview.pacs.revisions.newest_revision` picks it: a colleague's branch older
than our stored revision is not reported, since ours is what every viewer loads.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass

from pydicom.dataset import Dataset

from galactoview.dicom.person_name import format_person_name
from galactoview.pacs.nodes import DicomWebNode, DimseNode
from galactoview.pacs.revisions import Revision, newest_revision, predecessors

__all__ = ["NewerRevision", "PacsCheck", "Relation", "newer_revision", "newer_revision_on_pacs"]


class Relation(enum.Enum):
    """How the PACS's newer revision relates to ours."""

    #: It names our revision among its predecessors: made from ours.
    DESCENDS = "made from your revision"
    #: It and ours descend from a common earlier revision.
    BRANCHES = "made from an earlier revision you also edited"
    #: No revision in common.
    UNRELATED = "not made from your marks"


@dataclass(frozen=True)
class NewerRevision:
    """A revision on the PACS newer than ours (see the module docstring).

    Attributes
    ----------
    revision
        The PACS's newest revision (its SR and what was read from it).
    relation
        How it relates to ours.
    """

    revision: Revision
    relation: Relation

    @property
    def sop_instance_uid(self) -> str:
        """Its SOP Instance UID."""
        return self.revision.sop_instance_uid

    @property
    def author(self) -> str:
        """Its person observer (TID 1002), formatted for reading; ``""`` when it names none."""
        return format_person_name(self.revision.result.annotations.observer)

    @property
    def content_datetime(self) -> dt.datetime | None:
        """Its Content Date and Time (0008,0023 / 0008,0033); ``None`` when absent or bad."""
        return content_datetime(self.revision.dataset)

    def describe(self) -> str:
        """Return "SR <uid> by <author> of <date time>" for messages."""
        when = self.content_datetime
        by = f" by {self.author}" if self.author else ""
        of = f" of {when:%Y-%m-%d %H:%M}" if when is not None else ""
        return f"SR {self.sop_instance_uid}{by}{of}"


@dataclass(frozen=True)
class PacsCheck:
    """What :func:`newer_revision_on_pacs` found.

    Attributes
    ----------
    newer
        The PACS's newest revision when it is not ours nor an ancestor of ours, else ``None``.
    problems
        One line per SR of the study on the PACS that was skipped or not retrieved.
    """

    newer: NewerRevision | None
    problems: tuple[str, ...]


def content_datetime(dataset: Dataset) -> dt.datetime | None:
    """Return an SR's Content Date and Time (PS3.3 C.17.2, DA and TM of PS3.5 6.2), or None."""
    date = str(dataset.get("ContentDate", "") or "").strip()
    time = str(dataset.get("ContentTime", "") or "").strip()
    whole = time.partition(".")[0].ljust(6, "0")[:6]
    try:
        return dt.datetime.strptime(date[:8] + whole, "%Y%m%d%H%M%S")
    except ValueError:
        return None


def _chain(reports: Sequence[Dataset], study_uid: str, problems: list[str]) -> dict[str, set[str]]:
    """Return each SR of the study's predecessors, by SOP Instance UID (bad ones: a problem)."""
    chain: dict[str, set[str]] = {}
    for dataset in reports:
        uid = ""
        try:
            uid = str(dataset.get("SOPInstanceUID", "") or "")
            if uid and str(dataset.get("StudyInstanceUID", "") or "") == study_uid:
                chain.setdefault(uid, set()).update(predecessors(dataset))
        except Exception as error:  # a malformed sequence: that SR's chain is unknown
            problems.append(f"SR {uid or '(no UID)'}: its predecessors cannot be read ({error})")
    return chain


def _ancestors(start: Sequence[str], chain: dict[str, set[str]]) -> set[str]:
    """Return ``start`` and every revision reached through the predecessors in ``chain``."""
    found: set[str] = set()
    todo = list(start)
    while todo:
        uid = todo.pop()
        if uid not in found:
            found.add(uid)
            todo.extend(chain.get(uid, ()))
    return found


def newer_revision(
    reports: Sequence[Dataset],
    study_uid: str,
    ours: Sequence[str],
    problems: list[str] | None = None,
) -> NewerRevision | None:
    """Return the newest revision among ``reports`` when it is newer than ours, else None.

    The cases are those of the module docstring.

    Parameters
    ----------
    reports
        The study's SR datasets (others, and SRs of other studies, are ignored).
    study_uid
        The study.
    ours
        SOP Instance UIDs of the revision being edited (first; ``""`` when the study
        has none here) and of its predecessors as known here.
    problems
        When given, a line is appended for each SR of the study that was skipped.

    Returns
    -------
    NewerRevision or None
        Never raises for a bad SR: it is skipped and said in ``problems``.
    """
    lines: list[str] = []
    chain = _chain(reports, study_uid, lines)
    head = newest_revision(reports, study_uid, lines)
    if problems is not None:
        problems.extend(lines)
    if head is None:
        return None
    mine = _ancestors([uid for uid in ours if uid], chain)
    if head.sop_instance_uid in mine:
        return None  # ours, or one we started from: we are ahead
    theirs = _ancestors([head.sop_instance_uid], chain) | head.supersedes
    if ours and ours[0] in theirs:
        relation = Relation.DESCENDS
    elif mine & theirs:
        relation = Relation.BRANCHES
    else:
        relation = Relation.UNRELATED
    return NewerRevision(head, relation)


def newer_revision_on_pacs(
    node: DicomWebNode | DimseNode, study_uid: str, ours: Sequence[str]
) -> PacsCheck:
    """Ask a PACS whether it holds a revision of a study's marks newer than ours.

    The study's SRs come by the node's protocol (DICOMweb: QIDO-RS ``Modality=SR`` then
    WADO-RS each, PS3.18 10.6.1 / 10.4.1.1.3; DIMSE: C-FIND then C-GET, or C-MOVE when
    the node has a storage port, PS3.4 C.6.2) and :func:`newer_revision` compares.

    Parameters
    ----------
    node
        The PACS.
    study_uid
        The study.
    ours
        As :func:`newer_revision`.

    Returns
    -------
    PacsCheck
        ``newer`` is ``None`` when the PACS's newest revision is ours or an ancestor of
        ours (we are ahead), or the PACS has none; else it is that revision, which
        descends from ours, branches from a common ancestor, or is unrelated (the cases
        of the module docstring). Never raises for a bad SR on the PACS, or one not
        retrieved: each is a problem line.

    Raises
    ------
    galactoview.pacs.dicomweb.DicomWebError, galactoview.pacs.dimse.DimseError
        The node cannot be reached, refuses the login or the search.
    """
    # The clients (~0.5 s to import) are imported when a node is used.
    if isinstance(node, DimseNode):
        from galactoview.pacs import dimse

        moved = node.storage_scp_port is not None
        reports, failures = dimse.retrieve_reports(
            node, study_uid, method="move" if moved else "get"
        )
    else:
        from galactoview.pacs import dicomweb

        reports, failures = dicomweb.retrieve_reports(node, study_uid)
    problems = [f"SR {item.sop_instance_uid}: not retrieved ({item.reason})" for item in failures]
    newer = newer_revision(reports, study_uid, ours, problems)
    return PacsCheck(newer, tuple(problems))
