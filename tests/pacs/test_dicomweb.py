"""The DICOMweb client against a real Orthanc: searches, retrieve, store, and Orthanc's traps.

Traps (numbered as in /work/shared/reference/pacs.md): 1 percent-escaped query values
match nothing, 2 frames and bulk data need an explicit media type, 3 a restart on the
same database while the old process still runs, 5 a duplicate STOW reports success.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from dicomweb_client.api import DICOMwebClient
from pydicom import dcmread

from galactoview.pacs import dicomweb
from galactoview.pacs.nodes import Auth, AuthKind, DicomWebNode
from galactoview.pacs.results import RetrieveProgress, StudyMatch
from tests.pacs.conftest import AUTH_PASSWORD, AUTH_USER
from tests.pacs.orthanc import OrthancServer, OrthancStartError, free_port, start_orthanc
from tests.pacs.sample import DUCTOGRAM, copy_sample, revise, sample_sr

PATIENT_NAME = "PHANTOM^GALACTO^SYNTHETIC"
PATIENT_ID = "GV-PHANTOM-0001"


@pytest.fixture(scope="module")
def loaded(orthanc: OrthancServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Orthanc holding exactly the sample (both studies, the ductogram's SR); its copy."""
    orthanc.clear()
    copy = copy_sample(tmp_path_factory.mktemp("sample") / "dicom")
    for path in sorted(copy.rglob("*.dcm")):
        orthanc.upload(path.read_bytes())
    (sidecar,) = (copy / DUCTOGRAM).glob("galactoview-*.sr.json")
    result = dicomweb.store(DicomWebNode(orthanc.dicomweb_url), [sidecar])
    assert not result.failures
    yield copy


@pytest.fixture
def node(orthanc: OrthancServer) -> DicomWebNode:
    return DicomWebNode(orthanc.dicomweb_url, timeout_s=30)


def ductogram(node: DicomWebNode) -> StudyMatch:
    (study,) = dicomweb.find_studies(node, study_description="DUCTOGRAM*")
    return study


# --- trap 1: wildcard and ^ values ----------------------------------------------------------


def test_trap1_orthanc_matches_nothing_for_a_percent_escaped_wildcard(
    loaded: Path, orthanc: OrthancServer
) -> None:
    """The trap itself, as dicomweb-client alone meets it: PatientID=%2A matches nothing."""
    plain = DICOMwebClient(orthanc.dicomweb_url)
    assert plain.search_for_studies(search_filters={"PatientID": "*"}) == []
    assert len(requests.get(orthanc.dicomweb_url + "/studies?PatientID=*", timeout=10).json()) == 2


@pytest.mark.parametrize(
    "keys",
    [
        {"patient_id": "*"},
        {"patient_id": "GV-PHANTOM-*"},
        {"patient_name": PATIENT_NAME},
        {"patient_name": "phantom^galacto*"},
        {"patient_name": "*GALACTO*"},
        {"patient_id": PATIENT_ID, "study_date": "20200101-"},
    ],
)
def test_trap1_wildcard_and_caret_searches_find_both_studies(
    loaded: Path, node: DicomWebNode, keys: dict[str, str]
) -> None:
    studies = dicomweb.find_studies(node, **keys)  # type: ignore[arg-type]
    assert [s.study_description for s in studies] == [
        "DUCTOGRAM LEFT",
        "SCREENING MAMMOGRAM BILATERAL",
    ]
    assert {s.patient_name for s in studies} == {PATIENT_NAME}


def test_a_space_in_a_value_finds_exactly_that_description(
    loaded: Path, node: DicomWebNode
) -> None:
    (study,) = dicomweb.find_studies(node, study_description="DUCTOGRAM LEFT")
    assert study.study_description == "DUCTOGRAM LEFT"
    # "?" stood in for the space on the wire; a value it would also let through is filtered.
    assert dicomweb.find_studies(node, study_description="DUCTOGRAM RIGHT") == ()
    assert dicomweb.qido_value("DUCTOGRAM LEFT") == "DUCTOGRAM?LEFT"
    assert dicomweb.qido_value("DOE^JANE") == "DOE?JANE"


def test_study_to_series_with_counts_and_the_mg_default(loaded: Path, node: DicomWebNode) -> None:
    study = ductogram(node)
    assert study.patient_id == PATIENT_ID
    assert study.accession_number == "GV0007D"
    assert set(study.modalities) == {"MG", "SR"}
    assert study.number_of_instances == 6
    assert study.number_of_series == len(study.series) == 4
    counts = sorted((s.modality, s.number_of_instances) for s in study.series)
    assert counts == [("MG", 1), ("MG", 2), ("MG", 2), ("SR", 1)]
    assert dicomweb.find_studies(node, modality="CT") == ()
    assert len(dicomweb.find_studies(node, modality="")) == 2
    (by_accession,) = dicomweb.find_studies(node, accession_number="GV0007S")
    assert by_accession.study_description == "SCREENING MAMMOGRAM BILATERAL"
    assert dicomweb.find_studies(node, study_date="20250101-20251231") == ()


# --- trap 2: media types of frames and bulk data --------------------------------------------


def test_trap2_frames_need_an_explicit_octet_stream_media_type(
    loaded: Path, node: DicomWebNode, orthanc: OrthancServer
) -> None:
    study = ductogram(node)
    series = next(s for s in study.series if s.modality == "MG")
    plain = DICOMwebClient(orthanc.dicomweb_url)
    (instance,) = plain.search_for_instances(study.study_instance_uid, series.series_instance_uid)[
        :1
    ]
    sop = instance["00080018"]["Value"][0]
    with pytest.raises(requests.HTTPError) as refused:
        plain.retrieve_instance_frames(
            study.study_instance_uid, series.series_instance_uid, sop, [1]
        )
    assert refused.value.response is not None
    assert refused.value.response.status_code == 400
    (frame,) = dicomweb.retrieve_frames(
        node, study.study_instance_uid, series.series_instance_uid, sop
    )
    assert frame[:4] == b"\xff\x4f\xff\x51"  # a JPEG 2000 code stream (SOC, SIZ), as stored
    bulk = (
        f"{orthanc.dicomweb_url}/studies/{study.study_instance_uid}"
        f"/series/{series.series_instance_uid}/instances/{sop}/bulk/7fe00010"
    )
    with pytest.raises(requests.HTTPError):
        plain.retrieve_bulkdata(bulk)
    assert plain.retrieve_bulkdata(bulk, media_types=dicomweb.FRAME_MEDIA_TYPES)


# --- retrieve --------------------------------------------------------------------------------


def test_retrieve_writes_every_image_once_and_a_retry_resumes(
    loaded: Path, node: DicomWebNode, tmp_path: Path
) -> None:
    study = ductogram(node)
    out = tmp_path / "study"
    steps: list[RetrieveProgress] = []
    result = dicomweb.retrieve_study(node, study.study_instance_uid, out, progress=steps.append)
    assert result.complete
    originals = {dcmread(p).SOPInstanceUID: p for p in (loaded / DUCTOGRAM).glob("*.dcm")}
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{uid}.dcm" for uid in originals)
    for path in result.written:
        got, original = dcmread(path), dcmread(originals[path.stem])
        assert got.PixelData == original.PixelData
        assert got.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID
    assert [s.received for s in steps] == [1, 2, 3, 4, 5]
    assert steps[-1].remaining == 0
    assert not list(out.glob(".*.tmp"))
    # A transfer cut during the first instance: its file never appeared (only a temporary
    # of a killed run may be left). The retry fetches it and keeps the others as they are.
    missing = result.written[0]
    missing.unlink()
    (out / f".{missing.name}.a1b2c3.tmp").write_bytes(b"half")
    kept = {p: p.stat().st_mtime_ns for p in result.written[1:]}
    again = dicomweb.retrieve_study(node, study.study_instance_uid, out)
    assert again.complete
    assert sorted(again.written) == sorted(result.written)
    assert dcmread(missing).PixelData == dcmread(originals[missing.stem]).PixelData
    assert {p: p.stat().st_mtime_ns for p in kept} == kept


def test_retrieve_selected_series_and_cancel(
    loaded: Path, node: DicomWebNode, tmp_path: Path
) -> None:
    study = ductogram(node)
    two = next(s for s in study.series if s.number_of_instances == 2)
    result = dicomweb.retrieve_study(
        node, study.study_instance_uid, tmp_path / "one", series=[two.series_instance_uid]
    )
    assert len(result.written) == 2
    assert {dcmread(p).SeriesInstanceUID for p in result.written} == {two.series_instance_uid}
    cancelled = dicomweb.retrieve_study(
        node, study.study_instance_uid, tmp_path / "none", cancel=lambda: True
    )
    assert cancelled.cancelled
    assert cancelled.written == ()
    unknown = dicomweb.retrieve_study(
        node, study.study_instance_uid, tmp_path / "x", series=["1.2.3.4"]
    )
    assert [f.reason for f in unknown.failures] == [
        f"series 1.2.3.4 is not in study {study.study_instance_uid}"
    ]


def test_retrieve_reports_gives_the_study_sr(loaded: Path, node: DicomWebNode) -> None:
    study = ductogram(node)
    reports, failures = dicomweb.retrieve_reports(node, study.study_instance_uid)
    assert failures == ()
    assert [str(r.SOPInstanceUID) for r in reports] == [str(sample_sr().SOPInstanceUID)]


# --- store, trap 5 ---------------------------------------------------------------------------


def test_trap5_a_duplicate_is_not_sent_again(
    loaded: Path, node: DicomWebNode, orthanc: OrthancServer
) -> None:
    sr = revise(sample_sr(), "trap 5", dt.datetime(2031, 1, 1))
    plain = DICOMwebClient(orthanc.dicomweb_url)
    before = orthanc.instance_count()
    # The trap: Orthanc answers success to the same instance twice.
    for _ in range(2):
        answer = plain.store_instances([dicomweb._as_part10(sr)])
        assert not answer.get("FailedSOPSequence")
        (stored,) = answer.ReferencedSOPSequence
        assert stored.ReferencedSOPInstanceUID == sr.SOPInstanceUID
    assert orthanc.instance_count() == before + 1
    result = dicomweb.store(node, [sr, sr])
    assert result.stored == ()
    assert result.already_present == (str(sr.SOPInstanceUID),)
    assert orthanc.instance_count() == before + 1
    with orthanc.request("DELETE", "/instances/" + _orthanc_id(orthanc, str(sr.SOPInstanceUID))):
        pass


def _orthanc_id(orthanc: OrthancServer, sop: str) -> str:
    found = orthanc.rest_json(
        "POST", "/tools/lookup", sop.encode("ascii")
    )  # Orthanc's own id of an instance
    return str(found[0]["ID"])


def test_store_reports_each_unreadable_input(
    loaded: Path, node: DicomWebNode, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not dicom")
    bad_sidecar = tmp_path / "galactoview-1.2.3.sr.json"
    bad_sidecar.write_text("{not json", encoding="utf-8")
    result = dicomweb.store(node, [junk, bad_sidecar])
    assert result.stored == ()
    assert [f.path for f in result.failures] == [junk, bad_sidecar]
    assert all(f.reason for f in result.failures)


# --- trap 3: restart on the same database ----------------------------------------------------


def test_trap3_restart_on_the_same_database_after_the_old_one_exited(tmp_path: Path) -> None:
    first = start_orthanc(tmp_path / "pacs")
    try:
        first.upload((copy_sample(tmp_path / "copy") / DUCTOGRAM / "01_LCC_PRE.dcm").read_bytes())
        # A second Orthanc on the same database while the first runs: SQLite refuses it.
        second = type(first)(first.folder, free_port(), free_port(), free_port())
        with pytest.raises(OrthancStartError, match="locked"):
            second.start()
    finally:
        assert first.stop() == 0  # waited for: the process has exited
    again = type(first)(first.folder, free_port(), free_port(), free_port())
    again.start()
    try:
        assert again.instance_count() == 1
    finally:
        again.stop()


# --- auth and bad network ---------------------------------------------------------------------


def test_basic_auth_right_and_wrong_credentials(orthanc_auth: OrthancServer) -> None:
    right = DicomWebNode(orthanc_auth.dicomweb_url, Auth(AuthKind.BASIC, AUTH_USER, AUTH_PASSWORD))
    dicomweb.echo(right)
    assert dicomweb.find_studies(right, patient_id="*") == ()
    wrong = DicomWebNode(orthanc_auth.dicomweb_url, Auth(AuthKind.BASIC, AUTH_USER, "nope"))
    with pytest.raises(dicomweb.DicomWebError) as refused:
        dicomweb.echo(wrong)
    assert str(refused.value).startswith(f"{orthanc_auth.dicomweb_url}: ")
    assert "refused the login (HTTP 401" in str(refused.value)
    with pytest.raises(dicomweb.DicomWebError, match="HTTP 401"):
        dicomweb.find_studies(DicomWebNode(orthanc_auth.dicomweb_url))


def test_nothing_listening_is_one_line_naming_the_node() -> None:
    url = f"http://127.0.0.1:{free_port()}/dicom-web"
    with pytest.raises(dicomweb.DicomWebError) as down:
        dicomweb.echo(DicomWebNode(url, timeout_s=5))
    assert (
        str(down.value) == f"{url}: QIDO-RS search for studies: cannot connect (connection refused)"
    )


def test_a_wrong_path_on_a_live_server_is_an_http_error(orthanc: OrthancServer) -> None:
    with pytest.raises(dicomweb.DicomWebError, match="HTTP 404"):
        dicomweb.echo(DicomWebNode(orthanc.url + "/not-dicom-web"))
