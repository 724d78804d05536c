"""Streaming a study from the PACS: the retrieve order, the marks first, priors (real Orthanc).

Orthanc holds the sample (the ductogram with its SR, the screening prior) and an earlier
copy of the screening study (a new Study Instance UID, Study Date 2022-01-10).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydicom import dcmread

from galactoview.dicom.loading import scan
from galactoview.dicom.mammography import ContrastPhase
from galactoview.pacs import dicomweb, dimse
from galactoview.pacs.cache import RetrieveCache
from galactoview.pacs.fetch import fetch_study
from galactoview.pacs.nodes import DicomWebNode, DimseNode, PacsNode
from galactoview.pacs.priors import find_priors
from galactoview.pacs.received import complete_instance_file
from galactoview.pacs.results import RetrieveProgress
from galactoview.pacs.retrieve_order import order_of, plan_from_headers, plan_retrieve_order
from galactoview.reading.hanging import GalactographyStage, choose_hanging
from tests.pacs.orthanc import ORTHANC_AE, OUR_AE, OrthancServer
from tests.pacs.sample import DUCTOGRAM, copy_sample, earlier_copy
from tests.pacs.test_bad_network import SERIES, STUDY, FakeDicomWeb, serving

PATIENT_ID = "GV-PHANTOM-0001"
SCREENING = "20240220_SCREENING_PRIOR"
COPY_DATE = "20220110"


@dataclass(frozen=True)
class Stocked:
    """What Orthanc holds, and the sample copy it came from."""

    sample: Path
    ductogram: str
    screening: str
    earlier: str

    def images(self, study: str) -> list[Path]:
        return sorted((self.sample / study).glob("*.dcm"))


@pytest.fixture(scope="module")
def stocked(orthanc: OrthancServer, tmp_path_factory: pytest.TempPathFactory) -> Stocked:
    orthanc.clear()
    sample = copy_sample(tmp_path_factory.mktemp("fetch") / "dicom")
    earlier, copies = earlier_copy(sample / SCREENING, sample.parent / "earlier", COPY_DATE)
    for path in [*sorted(sample.rglob("*.dcm")), *copies]:
        orthanc.upload(path.read_bytes())
    (sidecar,) = (sample / DUCTOGRAM).glob("galactoview-*.sr.json")
    assert not dicomweb.store(DicomWebNode(orthanc.dicomweb_url), [sidecar]).failures
    uid = {
        study: str(dcmread(next((sample / study).glob("*.dcm"))).StudyInstanceUID)
        for study in (DUCTOGRAM, SCREENING)
    }
    return Stocked(sample, uid[DUCTOGRAM], uid[SCREENING], earlier)


@pytest.fixture
def web(orthanc: OrthancServer) -> DicomWebNode:
    return DicomWebNode(orthanc.dicomweb_url, timeout_s=30)


@pytest.fixture
def get_node(orthanc: OrthancServer) -> DimseNode:
    return DimseNode(ORTHANC_AE, "127.0.0.1", orthanc.dicom_port, OUR_AE, timeout_s=20.0)


def hung_first(folder: Path) -> tuple[str, tuple[str, ...]]:
    """The first cell's instance and every filled cell's, as the viewer hangs the folder."""
    images = scan([folder]).images
    cells = [images[index].sop_instance_uid for index in choose_hanging(images).image_indices()]
    return cells[0], tuple(cells)


# --- the order -------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["dicomweb", "dimse"])
def test_the_plan_starts_with_the_default_hangings_cells(
    stocked: Stocked, web: DicomWebNode, get_node: DimseNode, protocol: str, tmp_path: Path
) -> None:
    node: PacsNode = web if protocol == "dicomweb" else get_node
    plan = plan_retrieve_order(node, stocked.ductogram, tmp_path / "study")
    first, cells = hung_first(stocked.sample / DUCTOGRAM)
    assert plan.problems == ()
    assert plan.first == first
    assert plan.order[: len(cells)] == cells
    # The same order the scanned folder gives: the metadata make the same records.
    assert plan.order == order_of(scan([stocked.sample / DUCTOGRAM]).images).order
    images = {str(dcmread(p).SOPInstanceUID) for p in stocked.images(DUCTOGRAM)}
    assert sorted(plan.order) == sorted(images)  # every image once, the SR not at all


def test_the_order_then_holds_the_other_stages_then_the_rest(stocked: Stocked) -> None:
    images = scan([stocked.sample / DUCTOGRAM]).images
    plan = order_of(images)
    by_sop = {image.sop_instance_uid: image for image in images}
    hanging = choose_hanging(images)
    assert hanging.stage is GalactographyStage.POST
    post, pre = ContrastPhase.POST, ContrastPhase.PRE
    assert [by_sop[uid].contrast_phase for uid in plan.order[:2]] == [post, post]
    # Then the pre-contrast pair (stage PRE), then the magnified view (MAGNIFICATION).
    assert [by_sop[uid].contrast_phase for uid in plan.order[2:4]] == [pre, pre]
    assert by_sop[plan.order[4]].view.is_magnified
    assert order_of(()).order == () and order_of(()).first is None


def test_a_study_the_pacs_does_not_hold_gives_the_pacs_order_and_says_why(
    stocked: Stocked, web: DicomWebNode, tmp_path: Path
) -> None:
    unknown = "1.2.826.0.1.3680043.8.498.999"
    plan = plan_retrieve_order(web, unknown, tmp_path)
    assert plan.order == () and plan.first is None
    (problem,) = plan.problems
    assert problem.startswith(f"{web}: WADO-RS retrieve of the metadata of study {unknown}: ")
    assert problem.endswith("; retrieving in the PACS's order")


@pytest.fixture
def metadata_server(request: pytest.FixtureRequest) -> Iterator[FakeDicomWeb]:
    with serving(FakeDicomWeb(b"", "malformed", metadata=request.param)) as server:
        yield server


_NO_ROWS = {
    "00080018": {"vr": "UI", "Value": ["1.2.826.0.1.3680043.8.498.3"]},
    "0020000D": {"vr": "UI", "Value": [STUDY]},
    "0020000E": {"vr": "UI", "Value": [SERIES]},
}


@pytest.mark.parametrize(
    ("metadata_server", "said"),
    [
        (b"\x00 not JSON at all", ["malformed answer (not JSON: "]),
        (b'{"not": "a list"}', ["metadata item 1: TypeError"]),
        (
            json.dumps([42, {"00080018": "x"}, {"zz": {}}, _NO_ROWS]).encode(),
            [
                "metadata item 1: ",
                "metadata item 2: TypeError",
                "metadata item 3: KeyError",
                "missing required attribute Rows",
            ],
        ),
    ],
    indirect=["metadata_server"],
)
def test_bad_metadata_gives_an_empty_order_and_a_problem(
    metadata_server: FakeDicomWeb, said: list[str], tmp_path: Path
) -> None:
    node = DicomWebNode(metadata_server.url, timeout_s=10)
    plan = plan_retrieve_order(node, STUDY, tmp_path)
    assert plan.order == () and plan.first is None
    assert plan.problems
    text = "\n".join(plan.problems)
    for part in said:
        assert part in text
    assert plan.problems[-1].endswith(("; PACS order", "; retrieving in the PACS's order"))


# --- the ordered retrieve --------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["dicomweb", "dimse"])
def test_the_retrieve_follows_the_order_given(
    stocked: Stocked, web: DicomWebNode, get_node: DimseNode, protocol: str, tmp_path: Path
) -> None:
    client = dicomweb if protocol == "dicomweb" else dimse
    node: PacsNode = web if protocol == "dicomweb" else get_node
    plan = plan_retrieve_order(node, stocked.ductogram, tmp_path / "study")
    wanted = tuple(reversed(plan.order[:3]))  # any order: the last cells first
    steps: list[RetrieveProgress] = []
    result = client.retrieve_study(
        node, stocked.ductogram, tmp_path / "study", progress=steps.append, order=wanted
    )
    assert result.complete
    got = tuple(step.sop_instance_uid for step in steps)
    # The first alone, first; the others a series at a time, the first's series first.
    assert got[0] == wanted[0]
    assert sorted(got) == sorted(plan.order)
    assert [step.received for step in steps] == [1, 2, 3, 4, 5]


# --- fetch_study -----------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["dicomweb", "dimse"])
def test_fetch_adopts_the_marks_first_and_reports_each_image_as_it_arrives(
    stocked: Stocked, web: DicomWebNode, get_node: DimseNode, protocol: str, tmp_path: Path
) -> None:
    node: PacsNode = web if protocol == "dicomweb" else get_node
    cache = RetrieveCache(tmp_path / "cache")
    folder = cache.study_folder(stocked.ductogram)
    events: list[tuple[str, str]] = []
    on_disk_at_arrival: list[int] = []
    sidecar_at_first: list[bool] = []

    def arrived(path: Path) -> None:
        if not sidecar_at_first:
            sidecar_at_first.append(bool(list(folder.glob("galactoview-*.sr.json"))))
        assert complete_instance_file(path, path.stem)
        on_disk_at_arrival.append(len(list(folder.glob("*.dcm"))))
        events.append(("arrived", path.stem))

    def progress(step: RetrieveProgress) -> None:
        events.append(("progress", step.sop_instance_uid))

    fetched = fetch_study(node, stocked.ductogram, cache, progress=progress, arrived=arrived)
    assert fetched.error == "" and fetched.openable and fetched.failures == ()
    first, _cells = hung_first(stocked.sample / DUCTOGRAM)
    assert fetched.order.first == first
    assert sidecar_at_first == [True]
    arrivals = [uid for kind, uid in events if kind == "arrived"]
    assert arrivals[0] == first  # then a series at a time, for both protocols
    assert sorted(arrivals) == sorted(fetched.order.order)
    # Each image is announced while the retrieve runs: when the first arrives, it alone
    # is in the folder; progress follows each arrival.
    assert on_disk_at_arrival == [1, 2, 3, 4, 5]
    assert events[::2] == [("arrived", uid) for uid in arrivals]
    assert events[1::2] == [("progress", uid) for uid in arrivals]
    assert any(line.startswith("marks: SR ") for line in fetched.messages)
    (sidecar,) = folder.glob("galactoview-*.sr.json")
    assert sidecar.name == f"galactoview-{stocked.ductogram}.sr.json"


def test_cancel_after_the_first_image_stops_with_it_and_the_marks(
    stocked: Stocked, web: DicomWebNode, tmp_path: Path
) -> None:
    cache = RetrieveCache(tmp_path / "cache")
    arrivals: list[Path] = []
    fetched = fetch_study(
        web, stocked.ductogram, cache, arrived=arrivals.append, cancel=lambda: bool(arrivals)
    )
    assert fetched.result is not None and fetched.result.cancelled
    assert not fetched.openable
    first, _cells = hung_first(stocked.sample / DUCTOGRAM)
    assert [path.stem for path in arrivals] == [first]
    assert fetched.result.written == tuple(arrivals)
    folder = cache.study_folder(stocked.ductogram)
    assert sorted(p.name for p in folder.glob("*.dcm")) == [f"{first}.dcm"]
    assert len(list(folder.glob("galactoview-*.sr.json"))) == 1


def test_fetch_from_a_node_that_is_down_is_one_error_line(tmp_path: Path) -> None:
    from tests.pacs.orthanc import free_port

    node = DicomWebNode(f"http://127.0.0.1:{free_port()}/dicom-web", timeout_s=5)
    arrivals: list[Path] = []
    fetched = fetch_study(node, STUDY, RetrieveCache(tmp_path), arrived=arrivals.append)
    assert fetched.result is None and arrivals == []
    assert fetched.error.startswith(f"{node}: QIDO-RS search for the SRs of study {STUDY}: ")
    assert "connection refused" in fetched.error


# --- priors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["dicomweb", "dimse"])
def test_priors_are_the_earlier_mg_studies_of_the_patient_newest_first(
    stocked: Stocked, web: DicomWebNode, get_node: DimseNode, protocol: str
) -> None:
    node: PacsNode = web if protocol == "dicomweb" else get_node
    priors = find_priors(node, PATIENT_ID, "20260312", exclude=stocked.ductogram)
    assert [p.study_instance_uid for p in priors] == [stocked.screening, stocked.earlier]
    assert [p.study_date for p in priors] == ["20240220", COPY_DATE]
    assert {p.patient_id for p in priors} == {PATIENT_ID}
    assert all(p.series for p in priors)
    # "before" is exclusive; the study itself is excluded even when dated before.
    assert [p.study_instance_uid for p in find_priors(node, PATIENT_ID, "20240220")] == [
        stocked.earlier
    ]
    later = find_priors(node, PATIENT_ID, "20270101", exclude=stocked.ductogram)
    assert stocked.ductogram not in {p.study_instance_uid for p in later}
    assert len(later) == 2
    assert find_priors(node, PATIENT_ID, "20220110") == ()
    assert find_priors(node, "NO-SUCH-PATIENT", "20260312") == ()
    assert find_priors(node, "GV-PHANTOM-*", "20260312") == ()  # an ID, not a pattern
    assert find_priors(node, "", "20260312") == ()


def test_priors_refuse_a_date_that_is_not_one(web: DicomWebNode) -> None:
    for bad in ("2026-03-12", "2026312", "yesterday", ""):
        with pytest.raises(ValueError, match="not a DICOM date"):
            find_priors(web, PATIENT_ID, bad)


def test_a_dimse_pacs_that_returns_no_view_attributes_gives_the_pacs_order(
    stocked: Stocked, get_node: DimseNode, tmp_path: Path
) -> None:
    headers = dimse.find_instance_headers(get_node, stocked.ductogram)
    assert len(headers) == 6  # the five images and the SR
    planned = plan_from_headers(get_node, headers, stocked.ductogram, tmp_path)
    assert planned.first == hung_first(stocked.sample / DUCTOGRAM)[0]
    for header in headers:  # as a PACS that does not return the optional keys answers
        for keyword in ("ImageLaterality", "ViewPosition", "ViewCodeSequence", "Laterality"):
            if keyword in header:
                delattr(header, keyword)
    plan = plan_from_headers(get_node, headers, stocked.ductogram, tmp_path)
    assert plan.order == () and plan.first is None
    assert plan.problems == (
        f"{get_node}: its IMAGE-level C-FIND returns no Image Laterality (0020,0062), "
        "View Position (0018,5101) nor View Code Sequence; retrieving in the PACS's order",
    )
