"""A newer revision on the PACS than ours: the chain cases, against a real Orthanc."""

from __future__ import annotations

import datetime as dt

import pytest
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from galactoview.pacs import dicomweb
from galactoview.pacs.conflict import Relation, newer_revision, newer_revision_on_pacs
from galactoview.pacs.nodes import DicomWebNode, DimseNode, parse_dicomweb_url
from tests.pacs.orthanc import ORTHANC_AE, OrthancServer
from tests.pacs.sample import revise, sample_sr

LATER = dt.datetime(2026, 12, 4, 9, 30, 0)
LATEST = dt.datetime(2026, 12, 4, 10, 45, 0)


def uid_of(dataset: Dataset) -> str:
    return str(dataset.SOPInstanceUID)


def put(orthanc: OrthancServer, *datasets: Dataset) -> None:
    """Store SRs on Orthanc by STOW-RS, as another workstation would."""
    result = dicomweb.store(parse_dicomweb_url(orthanc.dicomweb_url), list(datasets))
    assert set(result.stored) == {uid_of(d) for d in datasets}


@pytest.fixture(params=["dicomweb", "dimse"])
def node(request: pytest.FixtureRequest, orthanc: OrthancServer) -> DicomWebNode | DimseNode:
    """Orthanc, emptied, by DICOMweb or by DIMSE (C-FIND + C-GET)."""
    orthanc.clear()
    if request.param == "dicomweb":
        return parse_dicomweb_url(orthanc.dicomweb_url)
    return DimseNode(ORTHANC_AE, "127.0.0.1", orthanc.dicom_port, timeout_s=20.0)


def test_ours_or_an_ancestor_of_ours_on_the_pacs_is_no_conflict(
    node: DicomWebNode | DimseNode, orthanc: OrthancServer
) -> None:
    first = sample_sr()
    study = str(first.StudyInstanceUID)
    assert newer_revision_on_pacs(node, study, (uid_of(first),)).newer is None  # none there
    put(orthanc, first)
    same = newer_revision_on_pacs(node, study, (uid_of(first),))
    assert same.newer is None
    assert same.problems == ()
    # We edited since (two local revisions, never stored): the PACS's newest is where
    # ours started, known only through our lineage, not the sidecar's one predecessor.
    second = revise(first, "edited here", LATER)
    third = revise(second, "edited here again", LATEST)
    assert newer_revision_on_pacs(node, study, (uid_of(third), uid_of(second))).newer is not None
    ahead = newer_revision_on_pacs(node, study, (uid_of(third), uid_of(second), uid_of(first)))
    assert ahead.newer is None
    # Ours stored: its predecessors come from the PACS's own chain.
    put(orthanc, second)
    assert newer_revision_on_pacs(node, study, (uid_of(third), uid_of(second))).newer is None


def test_a_revision_made_from_ours_is_a_conflict_naming_its_author_and_date(
    node: DicomWebNode | DimseNode, orthanc: OrthancServer
) -> None:
    first = sample_sr()
    study = str(first.StudyInstanceUID)
    theirs = revise(first, "the surgeon's note", LATER, observer="Surgeon^Sam")
    put(orthanc, first, theirs)
    check = newer_revision_on_pacs(node, study, (uid_of(first),))
    assert check.newer is not None
    assert check.newer.sop_instance_uid == uid_of(theirs)
    assert check.newer.relation is Relation.DESCENDS
    assert check.newer.revision.result.annotations.findings[0].note == "the surgeon's note"
    assert check.newer.content_datetime == LATER
    assert check.newer.author == "Surgeon, Sam"
    assert check.newer.describe() == f"SR {uid_of(theirs)} by Surgeon, Sam of 2026-12-04 09:30"


def test_two_revisions_of_the_same_predecessor_and_unrelated_marks_are_conflicts(
    node: DicomWebNode | DimseNode, orthanc: OrthancServer
) -> None:
    first = sample_sr()
    study = str(first.StudyInstanceUID)
    ours = revise(first, "edited here", LATER)  # not stored
    theirs = revise(first, "edited there", LATEST)
    put(orthanc, first, theirs)
    branch = newer_revision_on_pacs(node, study, (uid_of(ours), uid_of(first)))
    assert branch.newer is not None
    assert branch.newer.sop_instance_uid == uid_of(theirs)
    assert branch.newer.relation is Relation.BRANCHES
    # Marks made here from nothing the PACS holds (or none at all): unrelated.
    fresh = newer_revision_on_pacs(node, study, (generate_uid(),))
    assert fresh.newer is not None
    assert fresh.newer.relation is Relation.UNRELATED
    nothing = newer_revision_on_pacs(node, study, ("",))
    assert nothing.newer is not None
    assert nothing.newer.relation is Relation.UNRELATED


def test_a_bad_sr_on_the_pacs_is_a_problem_line_not_an_exception(orthanc: OrthancServer) -> None:
    orthanc.clear()
    first = sample_sr()
    study = str(first.StudyInstanceUID)
    cad = revise(first, "not ours", LATEST)
    cad.ConceptNameCodeSequence[0].CodeValue = "111036"  # Mammography CAD Report, not TID 1500
    put(orthanc, first, cad)
    node = parse_dicomweb_url(orthanc.dicomweb_url)
    check = newer_revision_on_pacs(node, study, (uid_of(first),))
    assert check.newer is None  # the CAD report is skipped: ours is the newest revision
    (line,) = check.problems
    assert line == (
        f"SR {uid_of(cad)}: is a Comprehensive SR titled 'Imaging Measurement Report' "
        "(111036, DCM), not a measurement report (TID 1500); skipped"
    )


def test_the_chain_cases_without_a_pacs() -> None:
    first = sample_sr()
    study = str(first.StudyInstanceUID)
    mine = revise(first, "mine", LATER)
    theirs = revise(mine, "theirs", LATEST)
    broken = Dataset()
    broken.StudyInstanceUID = study
    broken.SOPInstanceUID = "1.2.3.4"
    broken.PredecessorDocumentsSequence = [Dataset()]  # no Referenced Series Sequence
    problems: list[str] = []
    found = newer_revision([first, mine, theirs, broken], study, (uid_of(mine),), problems)
    assert found is not None
    assert (found.sop_instance_uid, found.relation) == (uid_of(theirs), Relation.DESCENDS)
    assert problems == [
        "SR 1.2.3.4: the dataset is not a structured report (no Content Sequence); skipped"
    ]
    assert newer_revision([first, mine, theirs], study, (uid_of(theirs),)) is None
    assert newer_revision([first, mine], study, (uid_of(theirs), uid_of(mine))) is None
    assert newer_revision([], study, ("",)) is None
