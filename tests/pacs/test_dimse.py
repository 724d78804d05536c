"""DIMSE against a real PACS: C-ECHO, C-FIND, C-GET, C-MOVE and C-STORE with a private Orthanc.

The failure tests use real peers too: Orthanc (unknown move destination), a closed
port, a pynetdicom SCP that rejects the association or aborts a C-GET after one
instance, and a port that accepts TCP and never answers.
"""

# The fixtures imported from tests/pacs/dimse_fixtures.py are parameters of the tests.
# ruff: noqa: F811

from __future__ import annotations

import io
from pathlib import Path
from typing import Literal

import pydicom
import pytest
from pydicom.uid import CTImageStorage, generate_uid
from pynetdicom import PYNETDICOM_IMPLEMENTATION_VERSION

from galactoview.pacs.dimse import (
    DimseError,
    echo,
    find_studies,
    retrieve_reports,
    retrieve_study,
    store,
)
from galactoview.pacs.nodes import DimseNode
from galactoview.pacs.results import InstanceFailure, RetrieveProgress, StoreProgress
from galactoview.sr import sr_codec
from tests.pacs.dimse_fixtures import (  # noqa: F401  (the fixtures, used by name)
    PEER_AE,
    SampleCopy,
    cutting_peer,
    dimse_node,
    rejecting_peer,
    sample_copy,
    silent_peer,
    stocked_orthanc,
)
from tests.pacs.orthanc import OUR_AE, OrthancServer, free_port


def _only_instance_files(folder: Path) -> list[str]:
    """Every name in the folder, asserting none is a temporary or partial file."""
    names = sorted(path.name for path in folder.iterdir())
    assert all(name.endswith(".dcm") and not name.startswith(".") for name in names), names
    return names


def _same_instance(received: Path, original: Path) -> None:
    """The received file is the original instance, pixel data byte for byte."""
    got = pydicom.dcmread(received)
    want = pydicom.dcmread(original)
    assert got.SOPInstanceUID == want.SOPInstanceUID
    assert got.file_meta.TransferSyntaxUID == want.file_meta.TransferSyntaxUID
    assert got.PixelData == want.PixelData


# --------------------------------------------------------------------------- C-ECHO


def test_echo_succeeds_against_orthanc_and_names_its_implementation(
    dimse_node: DimseNode,
) -> None:
    # Orthanc speaks DICOM through DCMTK, whose version name starts OFFIS_DCMTK.
    assert echo(dimse_node).startswith("OFFIS_DCMTK")


def test_echo_to_a_closed_port_names_the_node_and_the_refusal() -> None:
    node = DimseNode("ORTHANC", "127.0.0.1", free_port(), timeout_s=5.0)
    with pytest.raises(DimseError) as failure:
        echo(node)
    message = str(failure.value)
    assert message == f"ORTHANC@127.0.0.1:{node.port}: C-ECHO: cannot connect (connection refused)"
    assert "\n" not in message


def test_echo_with_an_unknown_called_ae_is_rejected_clearly(rejecting_peer: int) -> None:
    node = DimseNode("NOT-THE-PACS", "127.0.0.1", rejecting_peer, timeout_s=5.0)
    with pytest.raises(DimseError) as failure:
        echo(node)
    message = str(failure.value)
    assert message.startswith(f"NOT-THE-PACS@127.0.0.1:{rejecting_peer}: C-ECHO: ")
    assert "association rejected" in message
    assert "called AE title not recognised" in message


def test_echo_with_the_right_called_ae_is_accepted_by_the_same_peer(rejecting_peer: int) -> None:
    node = DimseNode(PEER_AE, "127.0.0.1", rejecting_peer, timeout_s=5.0)
    assert echo(node) == PYNETDICOM_IMPLEMENTATION_VERSION


def test_echo_to_a_port_that_never_answers_times_out_with_the_node_named(
    silent_peer: int,
) -> None:
    node = DimseNode("ORTHANC", "127.0.0.1", silent_peer, timeout_s=0.5)
    with pytest.raises(DimseError) as failure:
        echo(node)
    message = str(failure.value)
    assert message.startswith(f"ORTHANC@127.0.0.1:{silent_peer}: C-ECHO: ")
    assert "not answered within 0.5 s" in message


def test_an_unresolvable_host_is_one_line() -> None:
    node = DimseNode("ORTHANC", "no-such-host.invalid", 104, timeout_s=5.0)
    with pytest.raises(DimseError) as failure:
        echo(node)
    assert str(failure.value).startswith(
        "ORTHANC@no-such-host.invalid:104: C-ECHO: cannot resolve host"
    )


# --------------------------------------------------------------------------- C-FIND


def test_find_with_a_wildcard_lists_both_studies_newest_first_with_their_series(
    dimse_node: DimseNode, stocked_orthanc: OrthancServer, sample_copy: SampleCopy
) -> None:
    studies = find_studies(dimse_node, patient_id="GV-PHANTOM-*")
    assert [study.accession_number for study in studies] == ["GV0007D", "GV0007S"]
    ductogram, screening = studies
    assert ductogram.study_instance_uid == sample_copy.study_with("GV0007D")
    assert ductogram.patient_id == "GV-PHANTOM-0001"
    assert ductogram.study_date == "20260312"
    assert ductogram.study_description == "DUCTOGRAM LEFT"
    assert ductogram.modalities == ("MG",)
    assert (ductogram.number_of_series, ductogram.number_of_instances) == (3, 5)
    assert [(s.series_number, s.number_of_instances) for s in ductogram.series] == [
        (1, 2),
        (2, 2),
        (3, 1),
    ]
    assert {s.modality for s in ductogram.series} == {"MG"}
    assert [len(screening.series), screening.number_of_instances] == [1, 4]


def test_find_matches_wildcards_in_names_dates_and_modality(
    dimse_node: DimseNode, stocked_orthanc: OrthancServer
) -> None:
    by_name = find_studies(dimse_node, patient_name="PHANTOM^*", with_series=False)
    assert len(by_name) == 2
    assert all(study.series == () for study in by_name)
    since_2025 = find_studies(dimse_node, study_date="20250101-", modality="MG")
    assert [study.accession_number for study in since_2025] == ["GV0007D"]
    by_description = find_studies(dimse_node, study_description="SCREEN*")
    assert [study.accession_number for study in by_description] == ["GV0007S"]
    assert find_studies(dimse_node, patient_id="NOBODY*") == ()
    assert find_studies(dimse_node, modality="CT") == ()
    assert len(find_studies(dimse_node, modality="")) == 2


def test_find_with_a_limit_stops_after_that_many_studies(
    dimse_node: DimseNode, stocked_orthanc: OrthancServer
) -> None:
    (only,) = find_studies(dimse_node, patient_id="GV-*", limit=1)
    assert only.accession_number in {"GV0007D", "GV0007S"}
    assert only.series != ()
    # The association is still good for the next query after the C-CANCEL.
    assert len(find_studies(dimse_node, patient_id="GV-*", limit=5)) == 2


# --------------------------------------------------------------------------- retrieve


@pytest.mark.parametrize("method", ["get", "move"])
def test_retrieve_writes_every_instance_of_the_study_whole(
    method: Literal["get", "move"],
    dimse_node: DimseNode,
    stocked_orthanc: OrthancServer,
    sample_copy: SampleCopy,
    tmp_path: Path,
) -> None:
    study_uid = sample_copy.study_with("GV0007D")
    originals = {sample_copy.sop_uids[path]: path for path in sample_copy.study_files[study_uid]}
    reports: list[RetrieveProgress] = []
    out = tmp_path / f"retrieved-{method}"
    result = retrieve_study(
        dimse_node,
        study_uid,
        out,
        progress=reports.append,
        method=method,
    )
    assert result.complete
    assert sorted(result.written) == sorted(out / f"{uid}.dcm" for uid in originals)
    assert _only_instance_files(out) == sorted(f"{uid}.dcm" for uid in originals)
    for path in result.written:
        _same_instance(path, originals[path.stem])
    assert [report.received for report in reports] == [1, 2, 3, 4, 5]
    assert {report.sop_instance_uid for report in reports} == set(originals)
    assert all(report.error is None and report.failed == 0 for report in reports)


@pytest.mark.parametrize("method", ["get", "move"])
def test_an_instance_of_a_class_we_do_not_take_is_a_failure_of_its_own(
    method: Literal["get", "move"],
    dimse_node: DimseNode,
    stocked_orthanc: OrthancServer,
    sample_copy: SampleCopy,
    tmp_path: Path,
) -> None:
    # A CT image in a series of the ductogram study: not a class a mammography
    # workstation negotiates, so the PACS cannot send it and says so.
    study_uid = sample_copy.study_with("GV0007D")
    stranger = pydicom.dcmread(sample_copy.study_files[study_uid][0])
    stranger.SOPClassUID = stranger.file_meta.MediaStorageSOPClassUID = CTImageStorage
    stranger.SOPInstanceUID = stranger.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    stranger.SeriesInstanceUID = generate_uid()
    stranger.Modality = "CT"
    buffer = io.BytesIO()
    stranger.save_as(buffer, enforce_file_format=True)
    stocked_orthanc.upload(buffer.getvalue())

    result = retrieve_study(dimse_node, study_uid, tmp_path / "out", method=method)
    assert len(result.written) == 5
    assert len(result.failures) == 1
    (failure,) = result.failures
    # By C-GET Orthanc counts one failed sub-operation of the series without naming it;
    # by C-MOVE, where our SCP refuses the class, it refuses the series' request.
    series = f"series {stranger.SeriesInstanceUID}"
    assert (
        failure.reason
        == {
            "get": f"C-GET of {series}: the PACS reported 1 failed sub-operation(s) "
            "without naming the instances",
            "move": f"C-MOVE of {series} answered 0xC000 Unable to Process",
        }[method]
    )
    assert not result.complete
    assert _only_instance_files(tmp_path / "out") == sorted(p.name for p in result.written)


def test_retrieve_of_one_series_brings_only_its_instances(
    dimse_node: DimseNode, stocked_orthanc: OrthancServer, sample_copy: SampleCopy, tmp_path: Path
) -> None:
    study = next(s for s in find_studies(dimse_node, accession_number="GV0007D"))
    post = next(s for s in study.series if s.series_description == "L POST-CONTRAST")
    result = retrieve_study(
        dimse_node,
        study.study_instance_uid,
        tmp_path / "series",
        series=[post.series_instance_uid],
    )
    assert result.complete
    assert len(result.written) == 2
    for path in result.written:
        assert pydicom.dcmread(path).SeriesInstanceUID == post.series_instance_uid


@pytest.mark.parametrize("method", ["get", "move"])
def test_cancel_stops_the_retrieve_and_leaves_only_whole_files(
    method: Literal["get", "move"],
    dimse_node: DimseNode,
    stocked_orthanc: OrthancServer,
    sample_copy: SampleCopy,
    tmp_path: Path,
) -> None:
    # The user cancels as soon as the first instance is in the folder.
    study_uid = sample_copy.study_with("GV0007D")
    out = tmp_path / "cancelled"

    def cancel() -> bool:
        return any(out.glob("*.dcm"))

    result = retrieve_study(dimse_node, study_uid, out, cancel=cancel, method=method)
    assert result.cancelled
    assert not result.complete
    assert len(result.written) == 1
    assert result.failures == ()
    assert len(_only_instance_files(out)) == len(result.written)
    for path in result.written:
        assert pydicom.dcmread(path).StudyInstanceUID == study_uid


def test_move_to_an_ae_the_pacs_does_not_know_says_so(
    dimse_node: DimseNode, stocked_orthanc: OrthancServer, sample_copy: SampleCopy, tmp_path: Path
) -> None:
    stranger = DimseNode(
        dimse_node.called_ae,
        dimse_node.host,
        dimse_node.port,
        calling_ae="STRANGER",
        storage_scp_port=free_port(),
        timeout_s=20.0,
    )
    with pytest.raises(DimseError) as failure:
        retrieve_study(
            stranger, sample_copy.study_with("GV0007D"), tmp_path / "nothing", method="move"
        )
    message = str(failure.value)
    assert message.startswith(f"{dimse_node}: C-MOVE of series ")
    assert "'STRANGER' as a move destination" in message
    assert list((tmp_path / "nothing").iterdir()) == []


@pytest.mark.parametrize("method", ["get", "move"])
def test_retrieve_of_what_the_pacs_does_not_hold_is_a_failure_not_a_crash(
    method: Literal["get", "move"],
    dimse_node: DimseNode,
    stocked_orthanc: OrthancServer,
    sample_copy: SampleCopy,
    tmp_path: Path,
) -> None:
    nothing = retrieve_study(dimse_node, "1.2.3.4", tmp_path / "none", method=method)
    assert nothing.written == ()
    assert nothing.failures == (InstanceFailure("", "the PACS has no study 1.2.3.4"),)
    assert not nothing.complete

    study_uid = sample_copy.study_with("GV0007D")
    some = retrieve_study(
        dimse_node, study_uid, tmp_path / "some", series=["1.2.3.5"], method=method
    )
    assert some.failures == (InstanceFailure("", f"series 1.2.3.5 is not in study {study_uid}"),)
    with pytest.raises(ValueError, match="not a Study Instance UID"):
        retrieve_study(dimse_node, "../etc", tmp_path / "bad", method=method)


def test_move_without_a_storage_port_says_what_is_missing(
    dimse_node: DimseNode, sample_copy: SampleCopy, tmp_path: Path
) -> None:
    node = DimseNode(dimse_node.called_ae, dimse_node.host, dimse_node.port, OUR_AE)
    with pytest.raises(DimseError, match="no storage SCP port configured"):
        retrieve_study(node, sample_copy.study_with("GV0007D"), tmp_path / "x", method="move")


def test_a_get_cut_inside_an_instance_keeps_the_whole_ones_and_no_partial_file(
    cutting_peer: tuple[int, str], sample_copy: SampleCopy, tmp_path: Path
) -> None:
    port, study_uid = cutting_peer
    node = DimseNode(PEER_AE, "127.0.0.1", port, OUR_AE, timeout_s=10.0)
    out = tmp_path / "cut"
    with pytest.raises(DimseError) as failure:
        retrieve_study(node, study_uid, out)
    message = str(failure.value)
    first = sample_copy.study_files[study_uid][0]
    series_uid = pydicom.dcmread(first, stop_before_pixels=True).SeriesInstanceUID
    assert message.startswith(f"{PEER_AE}@127.0.0.1:{port}: C-GET of series {series_uid}: ")
    assert "aborted" in message
    assert "\n" not in message
    assert failure.value.written == (out / f"{sample_copy.sop_uids[first]}.dcm",)
    assert _only_instance_files(out) == [f"{sample_copy.sop_uids[first]}.dcm"]
    _same_instance(failure.value.written[0], first)


def test_a_second_retrieve_resumes_fetching_only_what_is_missing_or_cut(
    dimse_node: DimseNode, stocked_orthanc: OrthancServer, sample_copy: SampleCopy, tmp_path: Path
) -> None:
    study_uid = sample_copy.study_with("GV0007D")
    out = tmp_path / "study"
    first = retrieve_study(dimse_node, study_uid, out)
    assert first.complete
    removed, cut, *kept = sorted(first.written)
    removed.unlink()
    cut.write_bytes(cut.read_bytes()[:1000])  # as a crash in another writer might leave it
    kept_inodes = {path: path.stat().st_ino for path in kept}
    cut_inode = cut.stat().st_ino
    reports: list[RetrieveProgress] = []
    second = retrieve_study(dimse_node, study_uid, out, progress=reports.append, method="move")
    assert second.complete
    assert sorted(second.written) == sorted(first.written)
    assert [report.remaining for report in reports] == [4, 3, 2, 1, 0]
    assert {path: path.stat().st_ino for path in kept} == kept_inodes  # not fetched again
    assert cut.stat().st_ino != cut_inode
    by_uid = {uid: path for path, uid in sample_copy.sop_uids.items()}
    for path in (removed, cut):
        _same_instance(path, by_uid[path.stem])


@pytest.mark.parametrize("method", ["get", "move"])
def test_reports_are_left_out_of_a_study_retrieve_and_fetched_into_memory_apart(
    method: Literal["get", "move"],
    dimse_node: DimseNode,
    stocked_orthanc: OrthancServer,
    sample_copy: SampleCopy,
    tmp_path: Path,
) -> None:
    sidecar = next(sample_copy.folder.rglob("*.sr.json"))
    report = sr_codec.from_json(sidecar.read_text(encoding="utf-8"))
    assert store(dimse_node, [report]).stored == (str(report.SOPInstanceUID),)
    study_uid = str(report.StudyInstanceUID)

    images = retrieve_study(dimse_node, study_uid, tmp_path / "images", method=method)
    assert images.complete
    assert len(images.written) == 5
    assert {pydicom.dcmread(path).Modality for path in images.written} == {"MG"}

    reports, failures = retrieve_reports(dimse_node, study_uid, method=method)
    assert failures == ()
    (back,) = reports
    assert back.SOPInstanceUID == report.SOPInstanceUID
    assert back.ContentSequence == report.ContentSequence
    assert back.file_meta.TransferSyntaxUID == report.file_meta.TransferSyntaxUID


# --------------------------------------------------------------------------- C-STORE


def test_store_sends_each_instance_once_and_skips_what_the_pacs_holds(
    dimse_node: DimseNode, orthanc: OrthancServer, sample_copy: SampleCopy
) -> None:
    orthanc.clear()
    sidecar = next(sample_copy.folder.rglob("*.sr.json"))
    duplicate = sample_copy.images[0]
    reports: list[StoreProgress] = []
    first = store(dimse_node, [*sample_copy.images, duplicate, sidecar], progress=reports.append)
    assert sorted(first.stored) == sorted(sample_copy.sop_uids.values())
    assert first.already_present == ()
    assert [(f.path, f.reason) for f in first.failures] == [
        (sidecar, "not a DICOM file (no Part 10 'DICM' header)")
    ]
    assert [report.done for report in reports] == list(range(1, 10))
    assert {report.outcome for report in reports} == {"stored"}
    assert orthanc.instance_count() == 9

    second = store(dimse_node, sample_copy.images)
    assert second.stored == ()
    assert sorted(second.already_present) == sorted(sample_copy.sop_uids.values())
    assert second.failures == ()
    assert orthanc.instance_count() == 9


def test_store_after_a_partial_upload_sends_only_the_missing_instances(
    dimse_node: DimseNode, orthanc: OrthancServer, sample_copy: SampleCopy, tmp_path: Path
) -> None:
    orthanc.clear()
    held = sample_copy.images[:3]
    for path in held:
        orthanc.upload(path.read_bytes())
    result = store(dimse_node, sample_copy.images)
    assert sorted(result.already_present) == sorted(sample_copy.sop_uids[p] for p in held)
    assert len(result.stored) == 6
    assert orthanc.instance_count() == 9
    # And what was stored comes back whole.
    retrieved = retrieve_study(
        dimse_node, sample_copy.study_with("GV0007S"), tmp_path / "back", method="get"
    )
    assert len(retrieved.written) == 4
    by_uid = {uid: path for path, uid in sample_copy.sop_uids.items()}
    for path in retrieved.written:
        _same_instance(path, by_uid[path.stem])


def test_an_sr_dataset_is_stored_once_and_comes_back_by_c_get(
    dimse_node: DimseNode, stocked_orthanc: OrthancServer, sample_copy: SampleCopy, tmp_path: Path
) -> None:
    sidecar = next(sample_copy.folder.rglob("*.sr.json"))
    report = sr_codec.from_json(sidecar.read_text(encoding="utf-8"))
    del report.file_meta  # as a dataset built in memory may come: sent uncompressed
    first = store(dimse_node, [report])
    assert first.stored == (str(report.SOPInstanceUID),)
    assert "file_meta" not in dir(report)  # the caller's dataset is left as it was
    again = store(dimse_node, [report])
    assert (again.stored, again.already_present) == ((), (str(report.SOPInstanceUID),))

    study_uid = str(report.StudyInstanceUID)
    (study,) = find_studies(dimse_node, study_uid=study_uid, modality="SR")
    assert "SR" in study.modalities
    sr_series = [s for s in study.series if s.modality == "SR"]
    assert [s.series_instance_uid for s in sr_series] == [str(report.SeriesInstanceUID)]
    result = retrieve_study(
        dimse_node, study_uid, tmp_path / "sr", series=[sr_series[0].series_instance_uid]
    )
    assert result.complete
    (path,) = result.written
    back = pydicom.dcmread(path)
    assert back.SOPClassUID == report.SOPClassUID
    assert back.ContentSequence == report.ContentSequence


def test_store_reports_unreadable_inputs_per_file_without_contacting_anyone(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "empty.dcm"
    empty.write_bytes(b"")
    missing = tmp_path / "missing.dcm"
    node = DimseNode("ORTHANC", "127.0.0.1", free_port(), timeout_s=5.0)
    result = store(node, [empty, missing, tmp_path])
    assert [f.path for f in result.failures] == [empty, missing, tmp_path]
    assert result.failures[1].reason.startswith("cannot read")
    assert result.failures[2].reason == "not a regular file"
    assert result.stored == ()
