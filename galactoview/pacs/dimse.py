"""DIMSE client for a PACS node: verify, query, retrieve and store (Qt-free).

The network half of issue 12 for PACS that speak the DICOM Upper Layer protocol rather
than DICOMweb, built on :mod:`pynetdicom`:

* :func:`echo` — the Verification Service, C-ECHO (PS3.4 Annex A; PS3.7 9.1.5).
* :func:`find_studies` — Study Root Query/Retrieve Information Model - FIND (PS3.4
  C.6.2.1), a C-FIND (PS3.7 9.1.2) at the STUDY level, then one at the SERIES level per
  study matched, giving the same :class:`~galactoview.pacs.results.StudyMatch` /
  :class:`~galactoview.pacs.results.SeriesMatch` the DICOMweb client returns.
* :func:`retrieve_study` — a study's image series, or the series asked for, listed by
  C-FIND (SERIES, IMAGE) and fetched by C-GET (PS3.4 C.6.2.3; PS3.7 9.1.3) with
  SCP/SCU role selection (PS3.7 D.3.3.4) for the storage SOP classes a mammography
  study holds, or by C-MOVE (PS3.4 C.6.2.2; PS3.7 9.1.4) to our own Storage SCP
  (PS3.4 Annex B) listening on the node's storage port while it runs. Each instance
  received is written with :func:`galactoview.files.write_atomically` into the
  output folder as ``<SOP Instance UID>.dcm``, so a transfer cut mid-instance leaves
  no half file, and one already there whole is not fetched again (a retry resumes);
  the instances named in ``order`` come first, one IMAGE-level request each, in that
  order; progress is reported per instance, cancelling sends a C-CANCEL (PS3.7 9.3.2.3), and
  failures are reported per instance with their reason.
* :func:`find_instance_headers` — what the hanging protocols need of each instance of a
  study, by C-FIND at the SERIES and IMAGE levels (PS3.4 C.6.2.1.2), to plan the
  retrieve order before any instance is fetched (:mod:`galactoview.pacs.retrieve_order`).
* :func:`retrieve_reports` — the study's SR series, into memory, for
  :func:`galactoview.pacs.revisions.adopt_newest_report`.
* :func:`store` — C-STORE (PS3.4 Annex B; PS3.7 9.1.1) of files or datasets, after a
  C-FIND at the IMAGE level (PS3.4 C.6.2.1) so an instance the PACS already holds is
  not sent again (the PACS may well accept a duplicate and report success).

Every failure of the node itself (name not resolved, connection refused, association
rejected or aborted, no answer within a timeout, a status the PACS refuses with) raises
:class:`DimseError`, whose message is one line naming the node as ``AET@host:port`` and
saying what failed. Problems with single instances do not raise: they are listed in
the result.

Timeouts: pynetdicom waits 30 s by default for each DIMSE message; a PACS that
compresses or fetches a 30-70 MB mammogram from slow storage exceeds that and the
transfer is aborted half-way (pynetdicom issue #792), so :data:`LARGE_INSTANCE_TIMEOUT_S`
is the least we wait for each message while instances travel.

Callbacks (``progress``, ``cancel``) are plain callables so that the command line and
a Qt panel can both use them: ``progress`` is called in the thread that called the
function; ``cancel`` may also be called from one of pynetdicom's threads while a C-MOVE
runs, so it must be thread-safe (``threading.Event().is_set`` is).
"""

from __future__ import annotations

import copy
import os
import queue
import socket
import stat
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.uid import (
    JPEG2000,
    UID,
    BasicTextSRStorage,
    Comprehensive3DSRStorage,
    ComprehensiveSRStorage,
    DeflatedExplicitVRLittleEndian,
    DigitalMammographyXRayImageStorageForPresentation,
    DigitalMammographyXRayImageStorageForProcessing,
    DigitalXRayImageStorageForPresentation,
    EnhancedSRStorage,
    ExplicitVRLittleEndian,
    ExtensibleSRStorage,
    GrayscaleSoftcopyPresentationStateStorage,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    KeyObjectSelectionDocumentStorage,
    SecondaryCaptureImageStorage,
)
from pynetdicom import AE, evt
from pynetdicom.association import Association
from pynetdicom.events import Event, EventHandlerType
from pynetdicom.pdu_primitives import SCP_SCU_RoleSelectionNegotiation
from pynetdicom.presentation import build_role
from pynetdicom.status import (
    QR_FIND_SERVICE_CLASS_STATUS,
    QR_GET_SERVICE_CLASS_STATUS,
    QR_MOVE_SERVICE_CLASS_STATUS,
    STATUS_CANCEL,
    STATUS_FAILURE,
    STATUS_PENDING,
    STATUS_SUCCESS,
    STATUS_UNKNOWN,
    STATUS_WARNING,
    STORAGE_SERVICE_CLASS_STATUS,
    VERIFICATION_SERVICE_CLASS_STATUS,
    code_to_category,
)

from galactoview.annotations.model import is_valid_uid
from galactoview.files import write_atomically
from galactoview.pacs.nodes import DimseNode
from galactoview.pacs.received import complete_instance_file
from galactoview.pacs.results import (
    InstanceFailure,
    RetrieveProgress,
    RetrieveResult,
    SeriesMatch,
    StoreProgress,
    StoreResult,
    StudyMatch,
    in_series_order,
    newest_first,
)

__all__ = [
    "LARGE_INSTANCE_TIMEOUT_S",
    "RETRIEVED_SOP_CLASSES",
    "DimseError",
    "echo",
    "find_instance_headers",
    "find_studies",
    "retrieve_reports",
    "retrieve_study",
    "store",
]

#: Verification SOP Class (PS3.4 A.4).
VERIFICATION: Final = UID("1.2.840.10008.1.1")
#: Study Root Query/Retrieve Information Model - FIND / MOVE / GET (PS3.4 C.6.2).
STUDY_ROOT_FIND: Final = UID("1.2.840.10008.5.1.4.1.2.2.1")
STUDY_ROOT_MOVE: Final = UID("1.2.840.10008.5.1.4.1.2.2.2")
STUDY_ROOT_GET: Final = UID("1.2.840.10008.5.1.4.1.2.2.3")

#: The image storage SOP classes of a galactography / mammography study (PS3.4 B.5):
#: MG For Presentation and For Processing, DX for the devices that label a ductogram
#: so, Secondary Capture.
_IMAGE_CLASSES: Final = (
    DigitalMammographyXRayImageStorageForPresentation,
    DigitalMammographyXRayImageStorageForProcessing,
    DigitalXRayImageStorageForPresentation,
    SecondaryCaptureImageStorage,
)
#: Its document classes (PS3.3 A.35): the structured reports GalactoView and CAD write
#: (Basic Text, Enhanced, Comprehensive, Comprehensive 3D, Extensible SR) and key
#: object selections; their content is the Content Sequence.
_DOCUMENT_CLASSES: Final = (
    BasicTextSRStorage,
    EnhancedSRStorage,
    ComprehensiveSRStorage,
    Comprehensive3DSRStorage,
    ExtensibleSRStorage,
    KeyObjectSelectionDocumentStorage,
)
#: The storage SOP classes we retrieve: images, documents and grayscale presentation
#: states. C-GET negotiates the SCP role for these (PS3.4 C.4.3.1; PS3.7 D.3.3.4);
#: instances of other classes are refused by the association and listed as failures.
RETRIEVED_SOP_CLASSES: Final[tuple[UID, ...]] = (
    *_IMAGE_CLASSES,
    *_DOCUMENT_CLASSES,
    GrayscaleSoftcopyPresentationStateStorage,
)

#: Transfer syntaxes we accept instances in, one presentation context each for C-GET so
#: that the PACS can send every instance as it holds it rather than transcode it
#: (an acceptor picks one transfer syntax per context, PS3.8 9.3.2.2).
RECEIVED_TRANSFER_SYNTAXES: Final[tuple[UID, ...]] = (
    JPEG2000Lossless,
    JPEGLSLossless,
    JPEGLosslessSV1,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000,
    JPEGLSNearLossless,
    JPEGBaseline8Bit,
)

#: All the transfer syntaxes our C-MOVE Storage SCP accepts (PS3.5 10; PS3.5 Annex A).
_SCP_TRANSFER_SYNTAXES: Final[tuple[UID, ...]] = (
    *RECEIVED_TRANSFER_SYNTAXES,
    JPEGExtended12Bit,
    DeflatedExplicitVRLittleEndian,
)

#: Association negotiation proposes at most 128 presentation contexts (PS3.8 9.3.2.2:
#: context IDs are the odd numbers 1-255).
_MAX_CONTEXTS: Final = 128

#: Largest file :func:`store` reads (a 4096 x 5120 16-bit mammogram is 42 MB).
MAX_STORE_BYTES: Final = 2 * 1024**3

#: A C-STORE refusal while the user cancels: PS3.4 B.2.3 has no "cancelled" status;
#: "Refused: Out of resources" is the refusal every SCU handles.
_REFUSED: Final = 0xA700
#: C-STORE status "Cannot understand" (PS3.4 B.2.3), for an instance we cannot name.
_CANNOT_UNDERSTAND: Final = 0xC000


#: Seconds to wait for each DIMSE message while instances travel (retrieve, store),
#: whatever shorter timeout the node has: pynetdicom's default of 30 s aborts a C-MOVE
#: or C-GET while the PACS prepares a large mammogram (pynetdicom #792).
LARGE_INSTANCE_TIMEOUT_S: Final = 300.0


@dataclass(frozen=True)
class _Timeouts:
    """How long to wait at each stage of a DIMSE exchange, in seconds.

    Attributes
    ----------
    connection_s
        For the TCP connection to be accepted.
    acse_s
        For the answer to an association request or release (PS3.8 9.1).
    dimse_s
        For each DIMSE message, e.g. the next C-GET response or C-STORE request.
    network_s
        For any data on an idle connection.
    """

    connection_s: float
    acse_s: float
    dimse_s: float
    network_s: float


def _timeouts(node: DimseNode, *, large: bool = False) -> _Timeouts:
    """Return the node's timeouts, raised for DIMSE messages when instances travel."""
    waiting = max(node.timeout_s, LARGE_INSTANCE_TIMEOUT_S) if large else node.timeout_s
    return _Timeouts(node.timeout_s, node.timeout_s, waiting, waiting)


class DimseError(Exception):
    """A DIMSE exchange with a node failed; the message is one line naming the node.

    E.g. ``ORTHANC@127.0.0.1:4242: C-ECHO: cannot connect (connection refused)``.

    Attributes
    ----------
    written
        Complete instances already written by a retrieve that then failed (they are
        whole files; a retry replaces them).
    """

    def __init__(self, node: DimseNode, what: str, *, written: Sequence[Path] = ()) -> None:
        super().__init__(f"{node}: {what}")
        self.written: tuple[Path, ...] = tuple(written)


# --------------------------------------------------------------------------- association


def _application_entity(node: DimseNode, timeouts: _Timeouts) -> AE:
    """Return an AE with our calling AE title and the timeouts set."""
    ae = AE(ae_title=node.calling_ae)
    ae.connection_timeout = timeouts.connection_s
    ae.acse_timeout = timeouts.acse_s
    ae.dimse_timeout = timeouts.dimse_s
    ae.network_timeout = timeouts.network_s
    return ae


def _resolve(node: DimseNode, what: str) -> str:
    """Return the node's IP address (pynetdicom connects to addresses, not names)."""
    try:
        entries = socket.getaddrinfo(node.host, node.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise DimseError(node, f"{what}: cannot resolve host {node.host!r} ({reason})") from error
    ipv4 = [entry for entry in entries if entry[0] == socket.AF_INET]
    return str((ipv4 or entries)[0][4][0])


def _why_not_established(assoc: Association, address: str, node: DimseNode) -> str:
    """Say why an association request did not give an association (PS3.8 7.1)."""
    answer = assoc.acceptor.primitive
    if assoc.is_rejected and answer is not None:
        # A-ASSOCIATE-RJ: result, source and reason (PS3.8 9.3.4, Table 9-21).
        reason = answer.reason_str[:1].lower() + answer.reason_str[1:]
        return (
            f"association rejected: {reason} "
            f"({answer.result_str.lower()}, by the {answer.source_str.lower()})"
        )
    if answer is not None and getattr(answer, "result", None) == 0:
        refused = ", ".join(
            sorted({UID(cx.abstract_syntax or "").name for cx in assoc.rejected_contexts})
        )
        return f"the PACS accepted none of the presentation contexts proposed ({refused})"
    # No A-ASSOCIATE answer: find out whether TCP itself fails.
    try:
        with socket.create_connection((address, node.port), timeout=assoc.ae.connection_timeout):
            pass
    except TimeoutError:
        return f"cannot connect (no answer within {assoc.ae.connection_timeout:g} s)"
    except OSError as error:
        return f"cannot connect ({str(error.strerror or error).lower()})"
    return (
        "association aborted, or not answered within "
        f"{assoc.ae.acse_timeout:g} s (is this a DICOM port?)"
    )


@contextmanager
def _associated(
    node: DimseNode,
    ae: AE,
    what: str,
    *,
    ext_neg: list[SCP_SCU_RoleSelectionNegotiation] | None = None,
    evt_handlers: list[EventHandlerType] | None = None,
) -> Iterator[Association]:
    """Associate with the node, yield the association and release it afterwards.

    Raises
    ------
    DimseError
        If the association is not established, saying why.
    """
    address = _resolve(node, what)
    assoc = ae.associate(
        address,
        node.port,
        ae_title=node.called_ae,
        ext_neg=list(ext_neg or []),
        evt_handlers=evt_handlers,
    )
    if not assoc.is_established:
        raise DimseError(node, f"{what}: {_why_not_established(assoc, address, node)}")
    try:
        yield assoc
    finally:
        if assoc.is_established:
            assoc.release()


def _status_text(code: int, table: dict[int, tuple[str, str]]) -> str:
    """Return ``0xA801 Move destination unknown`` for a status code."""
    description = table.get(code, ("", ""))[1] or code_to_category(code)
    return f"0x{code:04X} {description}"


def _no_response(what: str, timeouts: _Timeouts) -> str:
    """Say that a DIMSE response did not come (pynetdicom returns an empty status)."""
    return (
        f"{what}: no valid response within {timeouts.dimse_s:g} s, or the association was aborted"
    )


# --------------------------------------------------------------------------- C-ECHO


def echo(node: DimseNode) -> str:
    """Verify that the node answers DICOM: C-ECHO (PS3.4 Annex A; PS3.7 9.1.5).

    Parameters
    ----------
    node
        The PACS.

    Returns
    -------
    str
        What the peer says it is, for a "Test connection" answer: its Implementation
        Version Name, else its Implementation Class UID (PS3.7 D.3.3.2), e.g.
        ``"OFFIS_DCMTK_367"``.

    Raises
    ------
    DimseError
        If the node cannot be reached, refuses the association, or does not answer
        C-ECHO with Success.
    """
    timeouts = _timeouts(node)
    ae = _application_entity(node, timeouts)
    ae.add_requested_context(VERIFICATION)
    with _associated(node, ae, "C-ECHO") as assoc:
        status = assoc.send_c_echo()
        peer = assoc.acceptor
        implementation = peer.implementation_version_name or peer.implementation_class_uid or ""
    if "Status" not in status:
        raise DimseError(node, _no_response("C-ECHO", timeouts))
    if status.Status != 0x0000:
        text = _status_text(int(status.Status), VERIFICATION_SERVICE_CLASS_STATUS)
        raise DimseError(node, f"C-ECHO answered {text}")
    return str(implementation).strip()


# --------------------------------------------------------------------------- C-FIND


def _text(dataset: Dataset, keyword: str) -> str:
    """Return an attribute of a C-FIND answer as text, ``""`` if absent or unreadable."""
    try:
        value = dataset.get(keyword)
    except Exception:  # a malformed value in a PACS answer must not stop the query
        return ""
    if value is None:
        return ""
    if isinstance(value, MultiValue):
        return "\\".join(str(item) for item in value)
    return str(value)


def _count(dataset: Dataset, keyword: str) -> int | None:
    """Return an IS count of a C-FIND answer, ``None`` if absent or unreadable."""
    text = _text(dataset, keyword).strip()
    try:
        return int(text) if text else None
    except ValueError:
        return None


def _find(
    node: DimseNode,
    assoc: Association,
    identifier: Dataset,
    what: str,
    timeouts: _Timeouts,
    message_id: int,
    limit: int | None = None,
) -> list[Dataset]:
    """Send one Study Root C-FIND and return its matches (PS3.4 C.4.1.3).

    With a ``limit``, a C-CANCEL (PS3.7 9.3.2.3) is sent once that many matches came,
    and any later ones are ignored.

    Raises
    ------
    DimseError
        If the node answers with a failure status or not at all.
    """
    matches: list[Dataset] = []
    cancelled = False
    for status, answer in assoc.send_c_find(identifier, STUDY_ROOT_FIND, msg_id=message_id):
        if "Status" not in status:
            raise DimseError(node, _no_response(what, timeouts))
        category = code_to_category(int(status.Status))
        if category == STATUS_PENDING:
            if answer is not None and not cancelled:
                matches.append(answer)
            if limit is not None and len(matches) >= limit and not cancelled:
                assoc.send_c_cancel(message_id, query_model=STUDY_ROOT_FIND)
                cancelled = True
            continue
        if category in (STATUS_SUCCESS, STATUS_CANCEL):
            return matches
        text = _status_text(int(status.Status), QR_FIND_SERVICE_CLASS_STATUS)
        raise DimseError(node, f"{what} answered {text}")
    return matches


def _needs_unicode(values: Iterable[str]) -> bool:
    return any(not value.isascii() for value in values)


def _study_identifier(
    *,
    patient_id: str,
    patient_name: str,
    accession_number: str,
    study_date: str,
    modality: str,
    study_description: str,
    study_uid: str,
) -> Dataset:
    """Build the STUDY level C-FIND identifier (PS3.4 C.6.2.1.2, Table C.6-5).

    Empty keys are return keys (universal matching); ``*`` and ``?`` are wildcards
    (PS3.4 C.2.2.2.4); a date may be a range ``YYYYMMDD-YYYYMMDD`` (C.2.2.2.5).
    """
    identifier = Dataset()
    if _needs_unicode((patient_id, patient_name, accession_number, study_description)):
        identifier.SpecificCharacterSet = "ISO_IR 192"
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.StudyInstanceUID = study_uid
    identifier.PatientID = patient_id
    identifier.PatientName = patient_name
    identifier.PatientBirthDate = ""
    identifier.AccessionNumber = accession_number
    identifier.StudyDate = study_date
    identifier.StudyTime = ""
    identifier.StudyDescription = study_description
    identifier.ModalitiesInStudy = modality
    identifier.NumberOfStudyRelatedSeries = ""
    identifier.NumberOfStudyRelatedInstances = ""
    return identifier


def _series_identifier(study_uid: str) -> Dataset:
    """Build the SERIES level C-FIND identifier of one study (PS3.4 C.6.2.1.2)."""
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "SERIES"
    identifier.StudyInstanceUID = study_uid
    identifier.SeriesInstanceUID = ""
    identifier.Modality = ""
    identifier.SeriesNumber = ""
    identifier.SeriesDescription = ""
    identifier.NumberOfSeriesRelatedInstances = ""
    return identifier


def find_studies(
    node: DimseNode,
    *,
    patient_id: str = "",
    patient_name: str = "",
    accession_number: str = "",
    study_date: str = "",
    modality: str = "MG",
    study_description: str = "",
    study_uid: str = "",
    with_series: bool = True,
    limit: int | None = None,
) -> tuple[StudyMatch, ...]:
    """Query the node's studies: Study Root C-FIND at STUDY, then SERIES level.

    PS3.4 C.6.2.1 (Study Root Query/Retrieve Information Model - FIND) over C-FIND
    (PS3.7 9.1.2). One association for all the queries.

    Parameters
    ----------
    node
        The PACS.
    patient_id, patient_name, accession_number, study_description
        Matching keys; ``""`` matches anything, ``*`` and ``?`` are wildcards.
    study_date
        ``YYYYMMDD`` or a range ``YYYYMMDD-YYYYMMDD`` (either end may be open).
    modality
        Matched against Modalities in Study; ``"MG"`` by default, ``""`` for any.
    study_uid
        One study by its Study Instance UID; ``""`` for any.
    with_series
        Also query each study's series (one C-FIND per study).
    limit
        At most this many studies (the C-FIND is cancelled once they came).

    Returns
    -------
    tuple of StudyMatch
        The studies, newest first, each with its series when ``with_series``.

    Raises
    ------
    DimseError
        If the node cannot be reached or answers a query with a failure.
    """
    timeouts = _timeouts(node)
    ae = _application_entity(node, timeouts)
    ae.add_requested_context(STUDY_ROOT_FIND)
    identifier = _study_identifier(
        patient_id=patient_id,
        patient_name=patient_name,
        accession_number=accession_number,
        study_date=study_date,
        modality=modality,
        study_description=study_description,
        study_uid=study_uid,
    )
    studies: list[StudyMatch] = []
    with _associated(node, ae, "C-FIND") as assoc:
        session = _Session(node, assoc, timeouts)
        for answer in session.find(identifier, "C-FIND (STUDY)", limit):
            uid = _text(answer, "StudyInstanceUID")
            if not is_valid_uid(uid):
                continue
            series: tuple[SeriesMatch, ...] = ()
            if with_series:
                found = session.find(_series_identifier(uid), f"C-FIND (SERIES of study {uid})")
                series = in_series_order(_series_match(uid, item) for item in found)
            studies.append(_study_match(answer, series))
    return newest_first(studies)


def _study_match(answer: Dataset, series: tuple[SeriesMatch, ...]) -> StudyMatch:
    """Convert one STUDY level answer."""
    modalities = tuple(part for part in _text(answer, "ModalitiesInStudy").split("\\") if part)
    return StudyMatch(
        study_instance_uid=_text(answer, "StudyInstanceUID"),
        patient_id=_text(answer, "PatientID"),
        patient_name=_text(answer, "PatientName"),
        patient_birth_date=_text(answer, "PatientBirthDate"),
        accession_number=_text(answer, "AccessionNumber"),
        study_date=_text(answer, "StudyDate"),
        study_time=_text(answer, "StudyTime"),
        study_description=_text(answer, "StudyDescription"),
        modalities=modalities,
        number_of_series=_count(answer, "NumberOfStudyRelatedSeries"),
        number_of_instances=_count(answer, "NumberOfStudyRelatedInstances"),
        series=series,
    )


def _series_match(study_uid: str, answer: Dataset) -> SeriesMatch:
    """Convert one SERIES level answer."""
    return SeriesMatch(
        study_instance_uid=study_uid,
        series_instance_uid=_text(answer, "SeriesInstanceUID"),
        modality=_text(answer, "Modality"),
        series_number=_count(answer, "SeriesNumber"),
        series_description=_text(answer, "SeriesDescription"),
        number_of_instances=_count(answer, "NumberOfSeriesRelatedInstances"),
    )


# --------------------------------------------------------------------------- instance headers

#: Return keys of the SERIES level answer merged into each instance's header.
_SERIES_KEYS: Final = (
    "Modality",
    "SeriesNumber",
    "SeriesDescription",
    "ProtocolName",
    "Laterality",
)
#: Return keys of the IMAGE level C-FIND: what a record and the hanging protocols read
#: (view, laterality, orientation, contrast, acquisition order; PS3.3 C.8.11.7, C.7.6.4).
_IMAGE_KEYS: Final = (
    "SOPClassUID",
    "InstanceNumber",
    "SeriesDescription",
    "Rows",
    "Columns",
    "ImageLaterality",
    "ViewPosition",
    "PatientOrientation",
    "ContrastBolusAgent",
    "ImageComments",
    "AcquisitionDateTime",
    "AcquisitionDate",
    "AcquisitionTime",
    "ContentDate",
    "ContentTime",
    "NumberOfFrames",
)


def find_instance_headers(node: DimseNode, study_uid: str) -> tuple[Dataset, ...]:
    """Return a header per instance of a study, as C-FIND answers them (no retrieve).

    Study Root C-FIND (PS3.4 C.6.2.1) at the SERIES level (Modality, Series Number and
    Description, Protocol Name, Laterality), then at the IMAGE level of each series with
    :data:`_IMAGE_KEYS` and an empty View Code Sequence item (sequence matching, PS3.4
    C.2.2.2.6) as return keys. A hierarchical query may carry only unique keys of the
    levels above (PS3.4 C.4.1.2.1), so each series' attributes are merged into its
    instances' answers here. Series Description is asked at the IMAGE level as well:
    some writers vary it per instance, naming the view in it (the benchmark study has
    one series of four views), and the hanging reads the view from it when there is
    no coded one; a PACS that does not return it there leaves the series' value
    (Orthanc returns it; one that refuses the key makes the C-FIND fail, and the plan
    falls back to the PACS's order). No STUDY-level attribute is asked: the headers are of one
    study, and ordering its images needs none (each C-FIND costs ~0.1 s on Orthanc). A PACS
    that does not return an optional key simply leaves it out: the caller decides
    whether what came is enough.

    Raises
    ------
    DimseError
        If the node cannot be reached or answers a query with a failure.
    ValueError
        ``study_uid`` is not a UID.
    """
    if not is_valid_uid(study_uid):
        raise ValueError(f"not a Study Instance UID (PS3.5 9.1): {study_uid!r}")
    timeouts = _timeouts(node)
    ae = _application_entity(node, timeouts)
    ae.add_requested_context(STUDY_ROOT_FIND)
    headers: list[Dataset] = []
    with _associated(node, ae, "C-FIND") as assoc:
        session = _Session(node, assoc, timeouts)
        for series_answer in session.series_answers(study_uid):
            if is_valid_uid(_text(series_answer, "SeriesInstanceUID")):
                headers += session.image_headers(study_uid, series_answer)
    return tuple(headers)


def _merged(answer: Dataset, series: Dataset) -> Dataset:
    """Return an IMAGE answer with the attributes of its series' answer added."""
    header = copy.deepcopy(answer)
    for element in series:
        if element.tag not in header and element.keyword != "QueryRetrieveLevel":
            header.add(copy.deepcopy(element))
    return header


# --------------------------------------------------------------------------- listing


@dataclass
class _Session:
    """An established association with its node, numbering the requests sent on it."""

    node: DimseNode
    assoc: Association
    timeouts: _Timeouts
    last_message_id: int = 0

    def message_id(self) -> int:
        """Return a new Message ID (PS3.7 9.1: unique among the requests outstanding)."""
        self.last_message_id = self.last_message_id % 0xFFFF + 1
        return self.last_message_id

    def find(self, identifier: Dataset, what: str, limit: int | None = None) -> list[Dataset]:
        """Send one Study Root C-FIND and return its matches."""
        return _find(
            self.node, self.assoc, identifier, what, self.timeouts, self.message_id(), limit
        )

    def series_modalities(self, study_uid: str) -> dict[str, str]:
        """Series Instance UID -> Modality of a study (C-FIND at SERIES level)."""
        identifier = _series_identifier(study_uid)
        answers = self.find(identifier, f"C-FIND (SERIES of study {study_uid})")
        return {_text(answer, "SeriesInstanceUID"): _text(answer, "Modality") for answer in answers}

    def series_answers(self, study_uid: str) -> list[Dataset]:
        """Return the SERIES answers of a study with :data:`_SERIES_KEYS` (PS3.4 C.6.2.1.2)."""
        identifier = Dataset()
        identifier.QueryRetrieveLevel = "SERIES"
        identifier.StudyInstanceUID = study_uid
        identifier.SeriesInstanceUID = ""
        for keyword in _SERIES_KEYS:
            setattr(identifier, keyword, "")
        return self.find(identifier, f"C-FIND (SERIES of study {study_uid})")

    def image_headers(self, study_uid: str, series_answer: Dataset) -> list[Dataset]:
        """Return the IMAGE answers of a series with :data:`_IMAGE_KEYS`, merged with its own."""
        series_uid = _text(series_answer, "SeriesInstanceUID")
        identifier = Dataset()
        identifier.QueryRetrieveLevel = "IMAGE"
        identifier.StudyInstanceUID = study_uid
        identifier.SeriesInstanceUID = series_uid
        identifier.SOPInstanceUID = ""
        for keyword in _IMAGE_KEYS:
            setattr(identifier, keyword, None)
        identifier.ViewCodeSequence = [Dataset()]
        answers = self.find(identifier, f"C-FIND (IMAGE of series {series_uid})")
        return [_merged(answer, series_answer) for answer in answers]

    def instance_uids(self, study_uid: str, series_uid: str) -> list[str]:
        """SOP Instance UIDs of a series (C-FIND at IMAGE level, PS3.4 C.6.2.1.2)."""
        identifier = Dataset()
        identifier.QueryRetrieveLevel = "IMAGE"
        identifier.StudyInstanceUID = study_uid
        identifier.SeriesInstanceUID = series_uid
        identifier.SOPInstanceUID = ""
        answers = self.find(identifier, f"C-FIND (IMAGE of series {series_uid})")
        return [uid for answer in answers for uid in _text(answer, "SOPInstanceUID").split("\\")]


# --------------------------------------------------------------------------- retrieve


@dataclass(frozen=True)
class _Arrival:
    """One C-STORE sub-operation handled by our SCP (queued for the calling thread)."""

    sop_instance_uid: str
    path: Path | None = None
    dataset: Dataset | None = None
    error: str | None = None


@dataclass
class _Receiver:
    """Takes the instances the PACS sends (C-GET or C-MOVE sub-operations, PS3.4 B.2.2).

    Into ``out_dir`` (each written atomically), or, without one, into memory.
    """

    out_dir: Path | None
    cancel: Callable[[], bool]
    arrivals: queue.SimpleQueue[_Arrival] = field(default_factory=queue.SimpleQueue)
    cancelled: threading.Event = field(default_factory=threading.Event)

    def handle_store(self, event: Event) -> int:
        """EVT_C_STORE handler: keep one instance, answer the C-STORE status."""
        uid = str(getattr(event.request, "AffectedSOPInstanceUID", "") or "")
        if self.cancelled.is_set() or self.cancel():
            self.cancelled.set()
            return _REFUSED
        if not is_valid_uid(uid):
            self.arrivals.put(_Arrival(uid, error=f"invalid SOP Instance UID {uid!r}"))
            return _CANNOT_UNDERSTAND
        if self.out_dir is None:
            try:
                dataset = event.dataset
                dataset.file_meta = event.file_meta
            except Exception as error:  # undecodable bytes from the PACS
                self.arrivals.put(_Arrival(uid, error=f"cannot be decoded ({error})"))
                return _CANNOT_UNDERSTAND
            self.arrivals.put(_Arrival(uid, dataset=dataset))
            return 0x0000
        path = self.out_dir / f"{uid}.dcm"
        try:
            data = event.encoded_dataset(include_meta=True)
            write_atomically(path, lambda stream: stream.write(data))
        except OSError as error:
            self.arrivals.put(_Arrival(uid, error=f"cannot write {path}: {error}"))
            return _REFUSED
        except Exception as error:  # pynetdicom cannot encode the file meta it was sent
            self.arrivals.put(_Arrival(uid, error=f"cannot encode the instance: {error}"))
            return _CANNOT_UNDERSTAND
        self.arrivals.put(_Arrival(uid, path=path))
        return 0x0000


@dataclass
class _Tally:
    """What a retrieve has done so far."""

    progress: Callable[[RetrieveProgress], object] | None = None
    total: int = 0
    written: list[Path] = field(default_factory=list)
    datasets: list[Dataset] = field(default_factory=list)
    failures: dict[str, InstanceFailure] = field(default_factory=dict)
    #: Failures beyond those listed: a PACS may count several under one unnamed entry.
    unnamed_failures: int = 0
    cancelled: bool = False

    def count(self, arrival: _Arrival) -> None:
        """Count one instance, received or failed, and report it."""
        uid = arrival.sop_instance_uid
        if arrival.path is not None:
            self.written.append(arrival.path)
            self.failures.pop(uid, None)
        elif arrival.dataset is not None:
            self.datasets.append(arrival.dataset)
            self.failures.pop(uid, None)
        else:
            self.failures[uid] = InstanceFailure(uid, arrival.error or "failed")
        if self.progress is not None:
            done = len(self.written) + len(self.datasets)
            failed = len(self.failures) + self.unnamed_failures
            self.progress(
                RetrieveProgress(
                    sop_instance_uid=uid,
                    path=arrival.path,
                    error=arrival.error,
                    received=done,
                    failed=failed,
                    remaining=max(0, self.total - done - failed) if self.total else None,
                )
            )

    def take(self, receiver: _Receiver) -> None:
        """Count what the receiver queued."""
        while True:
            try:
                self.count(receiver.arrivals.get_nowait())
            except queue.Empty:
                return

    def result(self) -> RetrieveResult:
        failures = tuple(self.failures.values())
        return RetrieveResult(tuple(self.written), failures, self.cancelled)


def _failed_uids(identifier: Dataset | None) -> list[str]:
    """Return the Failed SOP Instance UID List of a final response (PS3.4 C.4.3.1.3.1)."""
    if identifier is None:
        return []
    try:
        value = identifier.get("FailedSOPInstanceUIDList")
    except Exception:
        return []
    if value is None:
        return []
    if isinstance(value, (MultiValue, list, tuple)):
        return [str(item) for item in value if str(item)]
    return [str(value)] if str(value) else []


def _retrieve_identifier(study_uid: str, series_uid: str | None, sop_uid: str | None) -> Dataset:
    """Build a C-GET / C-MOVE identifier: unique keys down to its level (PS3.4 C.4.2.2.1)."""
    identifier = Dataset()
    identifier.QueryRetrieveLevel = (
        "STUDY" if series_uid is None else "SERIES" if sop_uid is None else "IMAGE"
    )
    identifier.StudyInstanceUID = study_uid
    if series_uid is not None:
        identifier.SeriesInstanceUID = series_uid
    if sop_uid is not None:
        identifier.SOPInstanceUID = sop_uid
    return identifier


class _RefusedError(Exception):
    """The PACS refused one retrieve request outright; the message says which and how."""


@dataclass
class _Retrieval(_Session):
    """A session that retrieves by C-GET, or by C-MOVE to ``destination``."""

    receiver: _Receiver = field(default_factory=lambda: _Receiver(None, lambda: False))
    destination: str | None = None

    def run_all(
        self, tally: _Tally, study_uid: str, requests: Iterable[tuple[str, str | None]]
    ) -> None:
        """Run C-GETs or C-MOVEs of (series, instance or ``None``) until done or cancelled.

        A request the PACS refuses outright is a failure of that series or instance, and
        the others still run; if it refuses every one and nothing came, it is the node's
        failure (e.g. an unknown move destination) and raises, explained by a C-FIND.
        """
        refusals: list[str] = []
        count = 0
        for series_uid, sop_uid in requests:
            if self.receiver.cancelled.is_set() or self.receiver.cancel():
                self.receiver.cancelled.set()
                tally.cancelled = True
            if tally.cancelled:
                return
            count += 1
            try:
                self.run(tally, study_uid, series_uid, sop_uid)
            except _RefusedError as refusal:
                refusals.append(str(refusal))
                tally.failures[str(refusal)] = InstanceFailure(sop_uid or "", str(refusal))
        if refusals and len(refusals) == count and not (tally.written or tally.datasets):
            raise DimseError(self.node, refusals[0] + self._explain(study_uid))

    def run(
        self, tally: _Tally, study_uid: str, series_uid: str | None, sop_uid: str | None
    ) -> None:
        """Send one C-GET or C-MOVE and follow it to its final response (PS3.4 C.4.2.3).

        Sends C-CANCEL (PS3.7 9.3.2.3 / 9.3.3.3) when ``cancel`` says so, and aborts the
        association if the PACS keeps going regardless.

        Raises
        ------
        _RefusedError
            The PACS refused the request outright (a failure status, nothing done).
        DimseError
            No answer, or the association was aborted.
        """
        name, model, table = (
            ("C-GET", STUDY_ROOT_GET, QR_GET_SERVICE_CLASS_STATUS)
            if self.destination is None
            else ("C-MOVE", STUDY_ROOT_MOVE, QR_MOVE_SERVICE_CLASS_STATUS)
        )
        target = (
            f"instance {sop_uid}"
            if sop_uid is not None
            else f"series {series_uid}"
            if series_uid is not None
            else f"study {study_uid}"
        )
        what = f"{name} of {target}"
        identifier = _retrieve_identifier(study_uid, series_uid, sop_uid)
        message_id = self.message_id()
        if self.destination is None:
            responses = self.assoc.send_c_get(identifier, model, msg_id=message_id)
        else:
            responses = self.assoc.send_c_move(
                identifier, self.destination, model, msg_id=message_id
            )
        receiver = self.receiver
        cancel_sent = False
        taken_before = len(tally.written) + len(tally.datasets)
        failed_before = set(tally.failures)
        for status, answer in responses:
            tally.take(receiver)
            if "Status" not in status:
                raise DimseError(
                    self.node, _no_response(what, self.timeouts), written=tally.written
                )
            code = int(status.Status)
            category = code_to_category(code)
            if category == STATUS_PENDING:
                if cancel_sent:
                    # The PACS ignores C-CANCEL: stop it the hard way (PS3.8 7.3, A-ABORT).
                    self.assoc.abort()
                    tally.cancelled = True
                    break
                if receiver.cancelled.is_set() or receiver.cancel():
                    receiver.cancelled.set()
                    self.assoc.send_c_cancel(message_id, query_model=model)
                    cancel_sent = True
                continue
            # Final response: Success, Warning, Failure or Cancel.
            if category == STATUS_CANCEL or cancel_sent or receiver.cancelled.is_set():
                # What failed after the cancel are the instances we refused: not failures.
                tally.cancelled = True
                break
            named = _failed_uids(answer)
            known = (set(tally.failures) - failed_before) | set(named)  # ours, and named
            for uid in named:
                tally.failures.setdefault(
                    uid,
                    InstanceFailure(uid, f"the PACS reported its sub-operation failed ({what})"),
                )
            failed_count = int(status.get("NumberOfFailedSuboperations") or 0)
            unnamed = max(0, failed_count - len(known))
            if unnamed:
                reason = (
                    f"{what}: the PACS reported it failed"
                    if sop_uid is not None
                    else f"{what}: the PACS reported {unnamed} failed sub-operation(s) "
                    "without naming the instances"
                )
                tally.failures[what] = InstanceFailure(sop_uid or "", reason)
                tally.unnamed_failures += unnamed - 1  # counted in progress, listed once
            taken = len(tally.written) + len(tally.datasets) - taken_before
            if (category == STATUS_FAILURE and not (named or failed_count or taken)) or (
                category == STATUS_UNKNOWN
            ):
                raise _RefusedError(f"{what} answered {_status_text(code, table)}")
            break
        tally.take(receiver)
        if tally.cancelled:
            receiver.cancelled.set()

    def _explain(self, study_uid: str) -> str:
        """Say why a PACS may have refused a retrieve outright, asking it with a C-FIND.

        PACS answer "unable to process" both for a study they do not hold and (C-MOVE)
        for a destination AE title they do not know (Orthanc does; pynetdicom #567).
        """
        if not self.assoc.is_established:
            return ""
        try:
            listed = self.series_modalities(study_uid)
        except (DimseError, ValueError, RuntimeError):  # no C-FIND context, or no answer
            return ""
        if not listed:
            return " (the PACS has no such study)"
        if self.destination is None:
            return ""
        return (
            f" (does the PACS know our AE title {self.destination!r} as a move "
            f"destination at this machine's address, port {self.node.storage_scp_port}?)"
        )


def _get_contexts(ae: AE) -> list[SCP_SCU_RoleSelectionNegotiation]:
    """Request the C-GET contexts and return the SCP role selection items."""
    ae.add_requested_context(STUDY_ROOT_GET)
    for sop_class in RETRIEVED_SOP_CLASSES:
        for syntax in RECEIVED_TRANSFER_SYNTAXES:
            ae.add_requested_context(sop_class, syntax)
    assert len(ae.requested_contexts) <= _MAX_CONTEXTS
    return [build_role(sop_class, scp_role=True) for sop_class in RETRIEVED_SOP_CLASSES]


def _is_loopback(address: str) -> bool:
    return address.startswith("127.") or address == "::1"


@contextmanager
def _storage_scp(
    node: DimseNode, receiver: _Receiver, bind_address: str, timeouts: _Timeouts
) -> Iterator[None]:
    """Run our Storage SCP (PS3.4 B.2.2) on the node's storage port while the block runs."""
    port = node.storage_scp_port
    if port is None:
        raise DimseError(node, "C-MOVE: no storage SCP port configured for our AE")
    ae = AE(ae_title=node.calling_ae)
    ae.acse_timeout = timeouts.acse_s
    ae.dimse_timeout = timeouts.dimse_s
    ae.network_timeout = timeouts.network_s
    for sop_class in RETRIEVED_SOP_CLASSES:
        ae.add_supported_context(sop_class, list(_SCP_TRANSFER_SYNTAXES))
    try:
        server = ae.start_server(
            (bind_address, port),
            block=False,
            evt_handlers=[(evt.EVT_C_STORE, receiver.handle_store)],
        )
    except OSError as error:
        where = f"{bind_address or '*'}:{port}"
        raise DimseError(
            node, f"C-MOVE: cannot listen for the instances on {where} ({error.strerror or error})"
        ) from error
    assert server is not None
    try:
        yield
    finally:
        server.shutdown()


@contextmanager
def _retrieval(
    node: DimseNode, method: Literal["get", "move"], receiver: _Receiver, bind_address: str | None
) -> Iterator[_Retrieval]:
    """Associate for C-FIND and C-GET, or run our SCP and associate for C-FIND and C-MOVE."""
    timeouts = _timeouts(node, large=True)
    ae = _application_entity(node, timeouts)
    ae.add_requested_context(STUDY_ROOT_FIND)
    scp: AbstractContextManager[None] = nullcontext()
    roles: list[SCP_SCU_RoleSelectionNegotiation] = []
    handlers: list[EventHandlerType] = []
    if method == "get":
        name, destination = "C-GET", None
        roles = _get_contexts(ae)
        handlers = [(evt.EVT_C_STORE, receiver.handle_store)]
    else:
        name, destination = "C-MOVE", node.calling_ae
        ae.add_requested_context(STUDY_ROOT_MOVE)
        if bind_address is None:
            bind_address = "127.0.0.1" if _is_loopback(_resolve(node, name)) else ""
        scp = _storage_scp(node, receiver, bind_address, timeouts)
    with scp, _associated(node, ae, name, ext_neg=roles, evt_handlers=handlers) as assoc:
        yield _Retrieval(node, assoc, timeouts, receiver=receiver, destination=destination)


def retrieve_study(
    node: DimseNode,
    study_uid: str,
    out_dir: Path,
    *,
    series: Sequence[str] | None = None,
    progress: Callable[[RetrieveProgress], object] | None = None,
    cancel: Callable[[], bool] | None = None,
    method: Literal["get", "move"] = "get",
    bind_address: str | None = None,
    order: Sequence[str] = (),
    planner: Callable[[Sequence[Dataset]], Sequence[str]] | None = None,
) -> RetrieveResult:
    """Retrieve a study, or some of its series, into a folder by C-GET or C-MOVE.

    Study Root Query/Retrieve Information Model (PS3.4 C.6.2): C-FIND lists the study's
    series (SERIES level) and their instances (IMAGE level); then each series comes by
    one C-GET (PS3.4 C.6.2.3, with the SCP role negotiated for
    :data:`RETRIEVED_SOP_CLASSES`, PS3.7 D.3.3.4) or C-MOVE (PS3.4 C.6.2.2) to our calling
    AE title, for which our Storage SCP (PS3.4 B.2.2) listens on the node's storage port
    until the retrieve ends; the PACS must know that AE title with our address and that
    port. An instance already in ``out_dir`` (same SOP Instance UID, readable) is not
    retrieved again: a series partly there is retrieved instance by instance (IMAGE
    level), so a retry resumes. Structured reports (series of modality SR) are left out
    unless their series is asked for, as by the DICOMweb client: :func:`retrieve_reports`
    fetches them for :func:`galactoview.pacs.revisions.adopt_newest_report`.

    Each instance is written to ``out_dir / "<SOP Instance UID>.dcm"`` atomically (a
    temporary file then a rename), so a cut transfer leaves no half file.

    Parameters
    ----------
    node
        The PACS.
    study_uid
        Study Instance UID.
    out_dir
        The study's folder; created if missing once the PACS has listed the instances.
    series
        Series Instance UIDs to retrieve; ``None`` for every series but SR ones.
    progress
        Called after each instance with a :class:`RetrieveProgress`, in the calling
        thread.
    cancel
        Polled before each request and each instance; when it returns ``True`` a
        C-CANCEL is sent, the instances still arriving are refused and the result says
        ``cancelled``. It may be called from a pynetdicom thread (C-MOVE): it must be
        thread-safe.
    method
        ``"get"`` (C-GET, one association) or ``"move"`` (C-MOVE to our SCP).
    bind_address
        Where our C-MOVE Storage SCP listens: by default ``127.0.0.1`` for a PACS on
        this machine, else all interfaces (the PACS connects to us).
    order
        SOP Instance UIDs to retrieve first, in this order, one IMAGE-level C-GET or
        C-MOVE each (PS3.4 C.4.2.2.1); the rest follow a series at a time. Empty: one
        request per series, in the PACS's order.
    planner
        When given, the listing's C-FINDs ask what :func:`find_instance_headers` asks
        (no extra request), and ``planner`` is called with those headers once the PACS
        has listed the instances; the SOP Instance UIDs it returns come first, after
        those of ``order``. It should not raise.

    Returns
    -------
    RetrieveResult
        The files written (or already there), the instances that failed with their
        reasons (a study or series the PACS does not list is one failure), whether
        cancelled.

    Raises
    ------
    ValueError
        ``study_uid`` is not a UID.
    DimseError
        If the node cannot be reached, refuses the association or a request, stops
        answering, or (C-MOVE) our SCP cannot listen on the storage port; its
        ``written`` lists the complete files already in place.
    OSError
        If ``out_dir`` cannot be created.
    """
    if not is_valid_uid(study_uid):
        raise ValueError(f"not a Study Instance UID (PS3.5 9.1): {study_uid!r}")
    receiver = _Receiver(out_dir, cancel or (lambda: False))
    tally = _Tally(progress)
    with _retrieval(node, method, receiver, bind_address) as session:
        if planner is None:
            modality = session.series_modalities(study_uid)
        else:
            answers = {_text(a, "SeriesInstanceUID"): a for a in session.series_answers(study_uid)}
            modality = {uid: _text(answer, "Modality") for uid, answer in answers.items()}
        if not modality:
            return RetrieveResult(
                (), (InstanceFailure("", f"the PACS has no study {study_uid}"),), False
            )
        if series is None:
            chosen = [uid for uid, kind in modality.items() if kind != "SR" and is_valid_uid(uid)]
        else:
            chosen = []
            for uid in dict.fromkeys(series):
                if uid in modality:
                    chosen.append(uid)
                else:
                    tally.failures[uid] = InstanceFailure(
                        "", f"series {uid} is not in study {study_uid}"
                    )
        plan: list[tuple[str, list[str]]] = []
        headers: list[Dataset] = []
        for series_uid in chosen:
            if planner is None:
                listed = session.instance_uids(study_uid, series_uid)
            else:
                found = session.image_headers(study_uid, answers[series_uid])
                headers += found
                listed = [_text(header, "SOPInstanceUID") for header in found]
            for uid in listed:
                if not is_valid_uid(uid):
                    tally.failures[uid] = InstanceFailure(
                        uid, "the PACS listed it with an invalid UID"
                    )
            plan.append((series_uid, [uid for uid in listed if is_valid_uid(uid)]))
        tally.total = sum(len(uids) for _, uids in plan)
        if plan:
            out_dir.mkdir(parents=True, exist_ok=True)  # once the PACS has answered
        if planner is not None:
            order = (*order, *planner(headers))
        session.run_all(tally, study_uid, _requests(plan, out_dir, tally, order))
    return tally.result()


def _requests(
    plan: Sequence[tuple[str, Sequence[str]]], out_dir: Path, tally: _Tally, order: Sequence[str]
) -> list[tuple[str, str | None]]:
    """Return the (series, instance or ``None``) requests of a retrieve plan.

    Instances already complete in ``out_dir`` are counted now and not requested; those
    in ``order`` come first, one request each; a series none of whose instances is
    there or ordered is one request, the others' instances one request each.
    """
    ordered = set(order)
    series_of: dict[str, str] = {}
    missing: dict[str, list[str]] = {}
    for series_uid, uids in plan:
        missing[series_uid] = []
        for uid in uids:
            series_of[uid] = series_uid
            if complete_instance_file(out_dir / f"{uid}.dcm", uid):
                tally.count(_Arrival(uid, path=out_dir / f"{uid}.dcm"))
            else:
                missing[series_uid].append(uid)
    requests: list[tuple[str, str | None]] = [
        (series_of[uid], uid)
        for uid in dict.fromkeys(order)
        if uid in series_of and uid in missing[series_of[uid]]
    ]
    for series_uid, uids in plan:
        rest = [uid for uid in missing[series_uid] if uid not in ordered]
        if rest and len(rest) == len(uids):
            requests.append((series_uid, None))
        else:
            requests.extend((series_uid, uid) for uid in rest)
    return requests


def retrieve_reports(
    node: DimseNode,
    study_uid: str,
    *,
    method: Literal["get", "move"] = "get",
    bind_address: str | None = None,
) -> tuple[tuple[Dataset, ...], tuple[InstanceFailure, ...]]:
    """Retrieve the study's structured reports (its series of modality SR) into memory.

    C-FIND at SERIES level, then a C-GET or C-MOVE of each SR series, as
    :func:`retrieve_study`; the datasets stay in memory:
    :func:`galactoview.pacs.revisions.adopt_newest_report` picks the newest revision
    and writes it as the study's sidecar.

    Returns
    -------
    tuple
        The SR datasets, and the SR instances that failed with their reasons.

    Raises
    ------
    DimseError
        As :func:`retrieve_study`.
    """
    receiver = _Receiver(None, lambda: False)
    tally = _Tally()
    with _retrieval(node, method, receiver, bind_address) as session:
        modality = session.series_modalities(study_uid)
        reports = [uid for uid, kind in modality.items() if kind == "SR" and is_valid_uid(uid)]
        session.run_all(tally, study_uid, [(uid, None) for uid in reports])
    return tuple(tally.datasets), tally.result().failures


# --------------------------------------------------------------------------- C-STORE


@dataclass(frozen=True)
class _Outgoing:
    """One instance to store, read far enough to know its UIDs."""

    source: Path | Dataset
    sop_class_uid: UID
    sop_instance_uid: str
    study_uid: str
    series_uid: str
    transfer_syntax: UID

    @property
    def path(self) -> Path | None:
        return self.source if isinstance(self.source, Path) else None


def _outgoing(source: Path | Dataset) -> _Outgoing | InstanceFailure:
    """Read what C-STORE needs of one input, or say what is wrong with it."""
    path = source if isinstance(source, Path) else None
    dataset: Dataset
    if isinstance(source, Path):
        try:
            info = os.stat(source)
        except OSError as error:
            return InstanceFailure("", f"cannot read ({error.strerror or error})", path)
        if not stat.S_ISREG(info.st_mode):
            return InstanceFailure("", "not a regular file", path)
        if info.st_size > MAX_STORE_BYTES:
            return InstanceFailure("", f"larger than {MAX_STORE_BYTES} bytes", path)
        try:
            dataset = dcmread(source, stop_before_pixels=True)
        except InvalidDicomError:
            return InstanceFailure("", "not a DICOM file (no Part 10 'DICM' header)", path)
        except Exception as error:  # any unreadable input becomes one line
            return InstanceFailure("", f"not a DICOM file ({error})", path)
    else:
        dataset = source
    try:
        meta = getattr(dataset, "file_meta", None)
        syntax = meta.get("TransferSyntaxUID") if meta is not None else None
        if not syntax and path is None and "PixelData" not in dataset:
            # A dataset built in memory (an SR) without file meta: sent uncompressed.
            syntax = ExplicitVRLittleEndian
        sop_class = dataset.get("SOPClassUID")
        uid = str(dataset.get("SOPInstanceUID") or "")
        study = str(dataset.get("StudyInstanceUID") or "")
        series = str(dataset.get("SeriesInstanceUID") or "")
    except Exception as error:
        return InstanceFailure("", f"unreadable header ({error})", path)
    missing = [
        name
        for name, value in (
            ("Transfer Syntax UID", syntax),
            ("SOP Class UID", sop_class),
            ("SOP Instance UID", uid),
            ("Study Instance UID", study),
            ("Series Instance UID", series),
        )
        if not value
    ]
    if missing:
        return InstanceFailure(uid, f"no {', '.join(missing)}", path)
    return _Outgoing(source, UID(str(sop_class)), uid, study, series, UID(str(syntax)))


def store(
    node: DimseNode,
    sources: Iterable[Path | Dataset],
    *,
    progress: Callable[[StoreProgress], object] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> StoreResult:
    """Send instances to the node with C-STORE, skipping those it already holds.

    C-STORE (PS3.4 Annex B; PS3.7 9.1.1), after a Study Root C-FIND at the IMAGE level
    (PS3.4 C.6.2.1) per series: an instance whose SOP Instance UID the node already
    lists is not sent (a PACS may accept a duplicate and answer Success, and some
    viewers then show either copy). Inputs repeating a SOP Instance UID are sent once.
    Each file is sent in its own transfer syntax; one presentation context per SOP
    class and transfer syntax is proposed.

    Parameters
    ----------
    node
        The PACS.
    sources
        DICOM files (Part 10), or datasets with file meta (e.g. an SR just encoded).
    progress
        Called after each instance with a :class:`StoreProgress`.
    cancel
        Polled between instances; when it returns ``True`` no more are sent.

    Returns
    -------
    StoreResult
        Stored, already present, and failed (each with its reason) instances.

    Raises
    ------
    DimseError
        If the node cannot be reached, refuses the association, or stops answering.
    """
    failures: list[InstanceFailure] = []
    outgoing: list[_Outgoing] = []
    seen: set[str] = set()
    for source in sources:
        item = _outgoing(source)
        if isinstance(item, InstanceFailure):
            failures.append(item)
        elif item.sop_instance_uid not in seen:
            seen.add(item.sop_instance_uid)
            outgoing.append(item)
    stored: list[str] = []
    present_uids: list[str] = []
    total = len(outgoing)
    if not outgoing:
        return StoreResult((), (), tuple(failures))
    pairs = sorted({(item.sop_class_uid, item.transfer_syntax) for item in outgoing})
    # One association per 127 (SOP class, transfer syntax) pairs, plus the C-FIND.
    size = _MAX_CONTEXTS - 1
    chunks = [pairs[start : start + size] for start in range(0, len(pairs), size)]
    done = 0
    cancelled = False
    timeouts = _timeouts(node, large=True)
    for chunk in chunks:
        ae = _application_entity(node, timeouts)
        ae.add_requested_context(STUDY_ROOT_FIND)
        for sop_class, syntax in chunk:
            ae.add_requested_context(sop_class, syntax)
        wanted = set(chunk)
        batch = [item for item in outgoing if (item.sop_class_uid, item.transfer_syntax) in wanted]
        with _associated(node, ae, "C-STORE") as assoc:
            session = _Session(node, assoc, timeouts)
            accepted = {
                (cx.abstract_syntax, cx.transfer_syntax[0]) for cx in assoc.accepted_contexts
            }
            present: set[str] = set()
            if any(syntax == STUDY_ROOT_FIND for syntax, _ in accepted):
                for study_uid, series_uid in sorted({(i.study_uid, i.series_uid) for i in batch}):
                    present.update(session.instance_uids(study_uid, series_uid))
            for item in batch:
                if cancel is not None and cancel():
                    cancelled = True
                    break
                done += 1
                outcome: Literal["stored", "present", "failed"]
                error: str | None = None
                if item.sop_instance_uid in present:
                    outcome = "present"
                    present_uids.append(item.sop_instance_uid)
                elif (item.sop_class_uid, item.transfer_syntax) not in accepted:
                    outcome = "failed"
                    error = (
                        f"the PACS does not accept {item.sop_class_uid.name} "
                        f"in {item.transfer_syntax.name}"
                    )
                else:
                    error = _store_one(session, item)
                    outcome = "stored" if error is None else "failed"
                    if error is None:
                        stored.append(item.sop_instance_uid)
                if error is not None:
                    failures.append(InstanceFailure(item.sop_instance_uid, error, item.path))
                if progress is not None:
                    progress(StoreProgress(item.sop_instance_uid, outcome, done, total, error))
        if cancelled:
            break
    return StoreResult(tuple(stored), tuple(present_uids), tuple(failures), cancelled)


def _store_one(session: _Session, item: _Outgoing) -> str | None:
    """C-STORE one instance; return why it failed, or ``None``.

    Raises
    ------
    DimseError
        If the association is gone (no answer, aborted).
    """
    try:
        dataset: Dataset = dcmread(item.source) if isinstance(item.source, Path) else item.source
        meta = getattr(dataset, "file_meta", None)
        if meta is None or meta.get("TransferSyntaxUID") is None:
            dataset = copy.copy(dataset)  # the caller's dataset is not changed
            dataset.file_meta = FileMetaDataset()
            dataset.file_meta.TransferSyntaxUID = item.transfer_syntax
        status = session.assoc.send_c_store(dataset, msg_id=session.message_id())
    except (OSError, ValueError, AttributeError, TypeError) as error:
        return f"cannot send ({error})"
    except Exception as error:  # a file that read for its header but not in full
        return f"cannot read ({error})"
    if "Status" not in status:
        what = f"C-STORE of {item.sop_instance_uid}"
        raise DimseError(session.node, _no_response(what, session.timeouts))
    code = int(status.Status)
    category = code_to_category(code)
    if category in (STATUS_SUCCESS, STATUS_WARNING):
        return None
    return f"the PACS refused it: {_status_text(code, STORAGE_SERVICE_CLASS_STATUS)}"
