"""Bad network for the DICOMweb client: an instance gone, a malformed or cut answer, a timeout.

A server that breaks on purpose is a small fake DICOMweb service (``http.server`` in a
thread) serving one study of one series of two instances; the first instance comes
well-formed, the second as the test says. A vanished instance uses the real Orthanc.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.uid import UID

from galactoview import cli
from galactoview.pacs import dicomweb
from galactoview.pacs.nodes import DicomWebNode
from galactoview.pacs.results import RetrieveProgress
from tests.pacs.orthanc import start_orthanc
from tests.pacs.sample import DUCTOGRAM, copy_sample

STUDY, SERIES = "1.2.826.0.1.3680043.8.498.1", "1.2.826.0.1.3680043.8.498.2"
GOOD, BAD = "1.2.826.0.1.3680043.8.498.3", "1.2.826.0.1.3680043.8.498.4"
BOUNDARY = "galacto-boundary"
MULTIPART = f'multipart/related; type="application/dicom"; boundary={BOUNDARY}'
PART_HEAD = f"--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n".encode()


def part10(sop: str, source: Path) -> bytes:
    dataset = dcmread(source)
    dataset.SOPInstanceUID = UID(sop)
    dataset.file_meta.MediaStorageSOPInstanceUID = UID(sop)
    dataset.StudyInstanceUID = STUDY
    dataset.SeriesInstanceUID = SERIES
    buffer = BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


class FakeDicomWeb(ThreadingHTTPServer):
    """Serves the study; ``mode`` says how the second instance comes: malformed or cut.

    ``metadata`` is the body of its WADO-RS Retrieve Study Metadata answer, as given.
    """

    def __init__(self, good: bytes, mode: str, metadata: bytes = b"[]") -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.good = good
        self.mode = mode
        self.metadata = metadata

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/dicom-web"


class Handler(BaseHTTPRequestHandler):
    server: FakeDicomWeb

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        base = f"/dicom-web/studies/{STUDY}/series"
        if path == base:
            self.json(
                [
                    {
                        "0020000E": {"vr": "UI", "Value": [SERIES]},
                        "00080060": {"vr": "CS", "Value": ["MG"]},
                    }
                ]
            )
        elif path == f"/dicom-web/studies/{STUDY}/instances":  # the SRs: none
            self.json([])
        elif path == f"/dicom-web/studies/{STUDY}/metadata":
            self.dicom_json(self.server.metadata)
        elif path == f"{base}/{SERIES}/instances":
            self.json([{"00080018": {"vr": "UI", "Value": [sop]}} for sop in (GOOD, BAD)])
        elif path == f"{base}/{SERIES}/instances/{GOOD}":
            self.multipart(self.server.good)
        elif path == f"{base}/{SERIES}/instances/{BAD}":
            if self.server.mode == "malformed":
                self.multipart(b"\x00garbage, not a DICOM file" * 10)
            else:  # cut: promise the whole instance, send a tenth, hang up
                body = self.server.good
                self.send_response(200)
                self.send_header(
                    "Content-Type",
                    f'multipart/related; type="application/dicom"; boundary={BOUNDARY}',
                )
                self.send_header("Content-Length", str(len(body) + 200))
                self.end_headers()
                self.wfile.write(
                    f"--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n".encode()
                )
                self.wfile.write(body[: len(body) // 10])
                self.wfile.flush()
                self.close_connection = True
        else:
            self.send_error(404)

    def json(self, value: object) -> None:
        self.dicom_json(json.dumps(value).encode())

    def dicom_json(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/dicom+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def multipart(self, part: bytes) -> None:
        body = PART_HEAD + part + f"\r\n--{BOUNDARY}--\r\n".encode()
        self.send_response(200)
        self.send_header(
            "Content-Type", f'multipart/related; type="application/dicom"; boundary={BOUNDARY}'
        )
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def serving(server: FakeDicomWeb) -> Iterator[FakeDicomWeb]:
    """Run the fake server in a thread while the block runs."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(params=["malformed", "cut"])
def fake(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FakeDicomWeb]:
    source = copy_sample(tmp_path / "sample") / DUCTOGRAM / "01_LCC_PRE.dcm"
    with serving(FakeDicomWeb(part10(GOOD, source), request.param)) as server:
        yield server


def test_a_malformed_instance_fails_alone_and_a_cut_one_stops_with_no_half_file(
    fake: FakeDicomWeb, tmp_path: Path
) -> None:
    out = tmp_path / "study"
    node = DicomWebNode(fake.url, timeout_s=10)
    if fake.mode == "malformed":
        result = dicomweb.retrieve_study(node, STUDY, out)
        assert [p.name for p in result.written] == [f"{GOOD}.dcm"]
        ((failure),) = result.failures
        assert failure.sop_instance_uid == BAD
        assert failure.reason.startswith("unreadable answer")
    else:
        with pytest.raises(dicomweb.DicomWebError) as cut:
            dicomweb.retrieve_study(node, STUDY, out)
        assert str(cut.value).startswith(f"{fake.url}: WADO-RS retrieve of instance {BAD}: ")
        assert [p.name for p in cut.value.written] == [f"{GOOD}.dcm"]
    # Only complete instances are there, under their final names; nothing half written.
    assert sorted(p.name for p in out.iterdir()) == [f"{GOOD}.dcm"]
    assert dcmread(out / f"{GOOD}.dcm").SOPInstanceUID == GOOD


def test_the_cli_says_which_instance_failed(
    fake: FakeDicomWeb, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["pacs", "get", "--url", fake.url, STUDY, str(tmp_path / "study")])
    err = capsys.readouterr().err
    if fake.mode == "malformed":
        assert code == 1
        assert f"{fake.url}: {BAD}: unreadable answer" in err
    else:
        assert code == 3
        assert f"{fake.url}: WADO-RS retrieve of instance {BAD}: " in err


def test_a_node_that_never_answers_times_out_naming_it() -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/dicom-web"
        with pytest.raises(dicomweb.DicomWebError) as slow:
            dicomweb.echo(DicomWebNode(url, timeout_s=0.5))
    assert str(slow.value) == f"{url}: QIDO-RS search for studies: no answer within 0.5 s"


def test_an_instance_gone_between_listing_and_fetching_fails_with_its_reason(
    tmp_path: Path,
) -> None:
    server = start_orthanc(tmp_path / "pacs")
    try:
        copy = copy_sample(tmp_path / "copy")
        for path in sorted((copy / DUCTOGRAM).glob("*.dcm")):
            server.upload(path.read_bytes())
        node = DicomWebNode(server.dicomweb_url)
        (study,) = dicomweb.find_studies(node)
        gone: list[str] = []

        def delete_the_last(step: RetrieveProgress) -> None:
            if not gone:  # after the first instance: another workstation deletes one
                instances = server.rest_json("GET", "/instances?expand")
                last = max(instances, key=lambda i: i["MainDicomTags"]["SOPInstanceUID"])
                with server.request("DELETE", f"/instances/{last['ID']}"):
                    gone.append(last["MainDicomTags"]["SOPInstanceUID"])

        result = dicomweb.retrieve_study(
            node, study.study_instance_uid, tmp_path / "out", progress=delete_the_last
        )
    finally:
        server.stop()
    assert len(result.written) == 4
    ((failure),) = result.failures
    assert failure.sop_instance_uid == gone[0]
    assert failure.reason == "the PACS answered HTTP 404 Not Found"
