"""Fixtures of the DIMSE tests (tests/pacs/test_dimse.py imports them).

* ``sample_copy`` — the bundled sample studies copied to ``tmp_path`` (never written in
  place), with their SOP Instance UIDs.
* ``dimse_node`` — the session's private Orthanc as a :class:`DimseNode`, our AE being
  the one it knows (``GALACTOVIEW`` at its ``scp_port``).
* ``stocked_orthanc`` — that Orthanc emptied and given the sample studies through its
  REST API (not through the code under test).
* ``rejecting_peer`` — a pynetdicom Verification SCP that rejects any called AE title
  but its own (a real A-ASSOCIATE-RJ).
* ``silent_peer`` — a TCP port that accepts connections and never answers.
* ``cutting_peer`` — a pynetdicom Query/Retrieve SCP whose C-GET sends one instance
  whole, then part of the next one, and closes the connection (a transfer cut
  mid-instance).
"""

from __future__ import annotations

import io
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.association import Association
from pynetdicom.dimse_messages import C_STORE_RQ
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.dsutils import encode
from pynetdicom.events import Event
from pynetdicom.pdu import P_DATA_TF

from galactoview.pacs.dimse import (
    RETRIEVED_SOP_CLASSES,
    STUDY_ROOT_FIND,
    STUDY_ROOT_GET,
    VERIFICATION,
)
from galactoview.pacs.nodes import DimseNode
from galactoview.paths import sample_dicom_dir
from tests.pacs.orthanc import ORTHANC_AE, OUR_AE, OrthancServer

#: The AE title of the local pynetdicom peers.
PEER_AE = "REAL-PACS"


@dataclass(frozen=True)
class SampleCopy:
    """The sample studies copied to a temporary folder.

    Attributes
    ----------
    folder
        The copy of ``sample_data/dicom``.
    images
        Every DICOM file in it.
    study_files
        Study Instance UID -> its files.
    sop_uids
        File -> its SOP Instance UID.
    """

    folder: Path
    images: tuple[Path, ...]
    study_files: dict[str, tuple[Path, ...]]
    sop_uids: dict[Path, str]

    def study_with(self, accession: str) -> str:
        """Return the Study Instance UID of the study with this Accession Number."""
        for uid, files in self.study_files.items():
            if pydicom.dcmread(files[0], stop_before_pixels=True).AccessionNumber == accession:
                return uid
        raise KeyError(accession)


@pytest.fixture
def sample_copy(tmp_path: Path) -> SampleCopy:
    folder = tmp_path / "sample"
    shutil.copytree(sample_dicom_dir(), folder)
    images = tuple(sorted(folder.rglob("*.dcm")))
    studies: dict[str, list[Path]] = {}
    sop_uids: dict[Path, str] = {}
    for path in images:
        header = pydicom.dcmread(path, stop_before_pixels=True)
        studies.setdefault(str(header.StudyInstanceUID), []).append(path)
        sop_uids[path] = str(header.SOPInstanceUID)
    return SampleCopy(
        folder, images, {uid: tuple(files) for uid, files in studies.items()}, sop_uids
    )


@pytest.fixture
def dimse_node(orthanc: OrthancServer) -> DimseNode:
    return DimseNode(
        ORTHANC_AE,
        "127.0.0.1",
        orthanc.dicom_port,
        calling_ae=OUR_AE,
        storage_scp_port=orthanc.scp_port,
        timeout_s=20.0,
    )


@pytest.fixture
def stocked_orthanc(orthanc: OrthancServer, sample_copy: SampleCopy) -> OrthancServer:
    orthanc.clear()
    for path in sample_copy.images:
        orthanc.upload(path.read_bytes())
    assert orthanc.instance_count() == len(sample_copy.images)
    return orthanc


def _cut_inside(assoc: Association, dataset: Dataset) -> None:
    """Send the first P-DATA PDUs of a C-STORE request of ``dataset``, then close the socket.

    The bytes go straight to the socket (not through pynetdicom's queue), so the peer has
    received part of the instance, and not all of it, when the connection ends.
    """
    request = C_STORE()
    request.MessageID = 0xFFFF
    request.AffectedSOPClassUID = dataset.SOPClassUID
    request.AffectedSOPInstanceUID = dataset.SOPInstanceUID
    request.Priority = 2
    request.DataSet = io.BytesIO(encode(dataset, False, True) or b"")
    message = C_STORE_RQ()
    message.primitive_to_message(request)
    context = next(
        cx for cx in assoc.accepted_contexts if cx.abstract_syntax == dataset.SOPClassUID
    )
    assert context.context_id is not None
    sock = assoc.dul.socket
    assert sock is not None and sock.socket is not None
    fragments = list(message.encode_msg(context.context_id, 16_000))
    assert len(fragments) > 4  # an instance of several PDUs: the cut is inside it
    for fragment in fragments[:3]:
        pdu = P_DATA_TF()
        pdu.from_primitive(fragment)
        sock.socket.sendall(pdu.encode())
    sock.close()


def _loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def rejecting_peer() -> Iterator[int]:
    ae = AE(ae_title=PEER_AE)
    ae.require_called_aet = True
    ae.add_supported_context(VERIFICATION)
    server = ae.start_server(("127.0.0.1", _loopback_port()), block=False)
    assert server is not None
    yield int(server.server_address[1])
    server.shutdown()


@pytest.fixture
def silent_peer() -> Iterator[int]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    yield int(listener.getsockname()[1])
    listener.close()


@pytest.fixture
def cutting_peer(sample_copy: SampleCopy) -> Iterator[tuple[int, str]]:
    """Yield the port and study UID of a Q/R SCP whose C-GET is cut inside an instance.

    It answers C-FIND at SERIES and IMAGE level from the sample study's files, and a
    C-GET by sending the first matching instance whole and the start of the second,
    then closing the connection.
    """
    study_uid = sample_copy.study_with("GV0007D")
    datasets = [pydicom.dcmread(path) for path in sample_copy.study_files[study_uid]]

    def matching(identifier: Dataset) -> list[Dataset]:
        series = identifier.get("SeriesInstanceUID", "")
        return [ds for ds in datasets if not series or ds.SeriesInstanceUID == series]

    def handle_find(event: Event) -> Iterator[tuple[int, Dataset | None]]:
        identifier = event.identifier
        answers: dict[str, Dataset] = {}
        for ds in matching(identifier):
            answer = Dataset()
            answer.QueryRetrieveLevel = identifier.QueryRetrieveLevel
            answer.StudyInstanceUID = ds.StudyInstanceUID
            answer.SeriesInstanceUID = ds.SeriesInstanceUID
            answer.Modality = ds.Modality
            if identifier.QueryRetrieveLevel == "IMAGE":
                answer.SOPInstanceUID = ds.SOPInstanceUID
            answers[answer.get("SOPInstanceUID", ds.SeriesInstanceUID)] = answer
        for answer in answers.values():
            yield 0xFF00, answer
        yield 0x0000, None

    def handle_get(event: Event) -> Iterator[int | tuple[int, Dataset | None]]:
        found = matching(event.identifier)
        yield len(found)
        yield 0xFF00, found[0]
        _cut_inside(event.assoc, found[1])
        yield 0xFF00, found[1]  # the connection is gone: never sent

    ae = AE(ae_title=PEER_AE)
    ae.add_supported_context(STUDY_ROOT_FIND)
    ae.add_supported_context(STUDY_ROOT_GET)
    for sop_class in RETRIEVED_SOP_CLASSES:
        ae.add_supported_context(
            sop_class, datasets[0].file_meta.TransferSyntaxUID, scu_role=False, scp_role=True
        )
    server = ae.start_server(
        ("127.0.0.1", _loopback_port()),
        block=False,
        evt_handlers=[(evt.EVT_C_FIND, handle_find), (evt.EVT_C_GET, handle_get)],
    )
    assert server is not None
    yield int(server.server_address[1]), study_uid
    server.shutdown()
