"""DICOMweb client for a PACS node: verify, query, retrieve and store (Qt-free).

Built on ``dicomweb-client`` (synchronous, ``requests``), following PS3.18:

* :func:`echo` — a QIDO-RS study search (PS3.18 10.6) that must answer: DICOMweb has no
  C-ECHO, so "the node answers a query" is the connection test.
* :func:`find_studies` — QIDO-RS Search for Studies, then Search for Series of each
  study (PS3.18 10.6.1, result attributes 10.6.3.3), giving the same
  :class:`~galactoview.pacs.results.StudyMatch` / :class:`~galactoview.pacs.results.SeriesMatch`
  the DIMSE client returns.
* :func:`retrieve_study` — the instances QIDO lists, in the transfer syntax the PACS
  holds them in (``transfer-syntax=*``): the first of ``order`` alone by WADO-RS
  Retrieve Instance (PS3.18 10.4.1.1.3; :mod:`galactoview.pacs.retrieve_order` plans
  it so that the hanging protocol's first cell arrives first), the others streamed a
  series at a time by WADO-RS Retrieve Series (PS3.18 10.4.1.1.2), the series of
  ``order`` first; each written with :func:`galactoview.files.write_atomically` as
  ``<out_dir>/<SOP Instance UID>.dcm`` as soon as its part is in; an instance already
  there complete is not fetched again (a retry resumes).
* :func:`retrieve_study_metadata` — WADO-RS Retrieve Study Metadata (PS3.18
  10.4.1.1.2): every instance's header as DICOM JSON, bulk data left as URIs.
* :func:`retrieve_reports` — the study's SR instances (QIDO ``Modality=SR``), for
  :func:`galactoview.pacs.revisions.adopt_newest_report`.
* :func:`retrieve_frames` — WADO-RS Retrieve Frames (PS3.18 10.4.1.1.4) as stored.
* :func:`store` — STOW-RS (PS3.18 10.5), one instance per request, after a QIDO of the
  study's instances so that one the PACS holds is not sent again.

Orthanc's traps (/work/shared/reference/pacs.md), handled here so any PACS works:

1. Orthanc 1.10 does not decode percent-escapes in query values (``PatientID=%2A``
   matches nothing), and ``dicomweb-client`` percent-encodes every value
   (:func:`urllib.parse.quote_plus`: ``*`` becomes ``%2A``), and ``requests`` / ``urllib3``
   encode ``^`` and spaces whatever we do. So every matching value is first reduced to
   characters a URL query carries literally (letters, digits, ``-._~*?,:/@``); any other
   character (the PN separator ``^``, a space, ``&``, non-ASCII) becomes the
   single-character wildcard ``?`` (PS3.4 C.2.2.2.4), and :class:`_LiteralQuerySession`
   undoes dicomweb-client's encoding on the wire. What such a widened key let in is
   then filtered out here by the original value (case-insensitively, as PN matching is).
2. Orthanc answers HTTP 400 to dicomweb-client's default media types for frames and bulk
   data (``*/*``): :data:`FRAME_MEDIA_TYPES` asks for ``application/octet-stream`` in the
   stored transfer syntax explicitly.
5. Orthanc reports success when the same SOP Instance is stored twice: :func:`store`
   asks which instances the study already holds first (and sends an input once).

Every failure of the node itself (connection refused, name not resolved, timeout, TLS,
credentials refused, an HTTP error on a query) raises :class:`DicomWebError`, one line
naming the node by its URL. Problems with single instances do not raise: they are listed
in the result with their reason. Callbacks (``progress``, ``cancel``) are plain
callables, called in the calling thread between instances.
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

import requests
from dicomweb_client.api import DICOMwebClient
from pydicom import dcmread
from pydicom.dataset import Dataset

from galactoview.annotations.model import is_valid_uid
from galactoview.files import read_regular_file, write_atomically
from galactoview.pacs.nodes import AuthKind, DicomWebNode
from galactoview.pacs.outgoing import is_sidecar, sidecar_sr
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
from galactoview.sr import sr_codec

__all__ = [
    "FRAME_MEDIA_TYPES",
    "DicomWebError",
    "echo",
    "find_studies",
    "qido_value",
    "retrieve_frames",
    "retrieve_reports",
    "retrieve_study",
    "retrieve_study_metadata",
    "store",
]

#: WADO-RS media types for frames and bulk data: uncompressed or compressed bytes as
#: stored (PS3.18 8.7.3.3.2, ``transfer-syntax=*``). Orthanc refuses ``*/*`` (trap 2).
FRAME_MEDIA_TYPES: Final = (("application/octet-stream", "*"),)
#: WADO-RS media type for whole instances: Part 10 files as stored (PS3.18 8.7.3.3.1).
INSTANCE_MEDIA_TYPES: Final = (("application/dicom", "*"),)
#: Largest file :func:`store` reads (a 4096 x 5120 16-bit mammogram is 42 MB).
MAX_STORE_BYTES: Final = 2 * 1024**3

#: Characters a query value keeps (they reach the server literally); others become "?".
_LITERAL: Final = re.compile(r"[A-Za-z0-9\-._~*?,:/@]")
#: Keys matched by string comparison, whose widened values are checked again here.
_STRING_KEYS: Final = (
    "PatientName",
    "PatientID",
    "AccessionNumber",
    "StudyDescription",
)
#: QIDO study attributes asked for besides the defaults (PS3.18 10.6.3.3.1).
_STUDY_FIELDS: Final = (
    "StudyDescription",
    "ModalitiesInStudy",
    "NumberOfStudyRelatedSeries",
    "NumberOfStudyRelatedInstances",
    "PatientBirthDate",
)
#: QIDO series attributes asked for besides the defaults (PS3.18 10.6.3.3.2).
_SERIES_FIELDS: Final = ("SeriesDescription", "NumberOfSeriesRelatedInstances")


_T = TypeVar("_T")


class DicomWebError(Exception):
    """The node failed as a whole (unreachable, refused the login, an HTTP error).

    The message is one line, ``<base URL>: <what failed>``.

    Attributes
    ----------
    node
        The node.
    what
        What failed, without the node.
    written
        For a retrieve: the complete instance files already in place.
    """

    def __init__(self, node: DicomWebNode, what: str, *, written: Sequence[Path] = ()) -> None:
        super().__init__(f"{node}: {what}")
        self.node = node
        self.what = what
        self.written = tuple(written)


class _LiteralQuerySession(requests.Session):
    """A session that sends QIDO query values unescaped (trap 1; see the module docstring).

    dicomweb-client builds the query with :func:`urllib.parse.quote_plus`; every value
    reaching it went through :func:`qido_value`, so unescaping the whole query string gives
    back exactly the characters meant, none of which can break the query apart.
    """

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if request.url and request.method == "GET":
            parts = urlsplit(request.url)
            if parts.query:
                request.url = urlunsplit(parts._replace(query=unquote(parts.query)))
        return super().send(request, **kwargs)


def qido_value(value: str) -> str:
    """Return a QIDO matching value made of characters a URL query carries literally.

    Any other character becomes ``?``, the single-character wildcard (PS3.4 C.2.2.2.4):
    ``"DOE^JANE"`` → ``"DOE?JANE"``, ``"DUCTOGRAM LEFT"`` → ``"DUCTOGRAM?LEFT"``.
    """
    return "".join(c if _LITERAL.fullmatch(c) else "?" for c in value)


def _wildcard_match(pattern: str, value: str) -> bool:
    """Whether ``value`` matches a DICOM wildcard pattern (``*``, ``?``), ignoring case."""
    regex = "".join(
        ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.strip()
    )
    return re.fullmatch(regex, value.strip(), re.IGNORECASE | re.DOTALL) is not None


def _client(node: DicomWebNode) -> DICOMwebClient:
    """Return a dicomweb-client for the node: its login, TLS check, timeout, no retries."""
    session = _LiteralQuerySession()
    session.verify = node.verify_tls
    headers: dict[str, str] = {}
    if node.auth.kind is AuthKind.BASIC:
        session.auth = (node.auth.username, node.auth.secret)
    elif node.auth.kind is AuthKind.BEARER:
        headers["Authorization"] = f"Bearer {node.auth.secret}"
    client = DICOMwebClient(node.url, session=session, headers=headers, timeout=node.timeout_s)
    # Retrying with back-off would turn "server down" into a long silent wait; a retry is
    # the user's (or the panel's) decision, and a retrieve resumes.
    client.set_http_retry_params(retry=False)
    return client


@contextlib.contextmanager
def _connected(node: DicomWebNode) -> Iterator[DICOMwebClient]:
    """Give a client for one call to the node and close its connections afterwards.

    ``requests`` keeps pooled connections open until the session is closed; left to the
    garbage collector they are closed late (and Python warns of an unclosed socket).
    """
    client = _client(node)
    try:
        yield client
    finally:
        client._session.close()


def _http_reason(error: requests.HTTPError) -> str:
    response = error.response
    if response is None:
        return str(error)
    reason = f"HTTP {response.status_code} {response.reason or ''}".strip()
    if response.status_code in (401, 403):
        return f"refused the login ({reason}): wrong user name, password or token"
    return reason


@contextlib.contextmanager
def _node_call(node: DicomWebNode, what: str, written: Sequence[Path] = ()) -> Iterator[None]:
    """Turn what ``requests`` raises for the node as a whole into :class:`DicomWebError`."""
    try:
        yield
    except requests.exceptions.SSLError as error:
        raise DicomWebError(
            node, f"{what}: TLS failed ({_first_line(error)})", written=written
        ) from None
    except requests.exceptions.ConnectTimeout:
        raise DicomWebError(
            node, f"{what}: no connection within {node.timeout_s:g} s", written=written
        ) from None
    except requests.exceptions.ConnectionError as error:
        raise DicomWebError(
            node, f"{what}: cannot connect ({_connection_reason(error)})", written=written
        ) from None
    except requests.exceptions.Timeout:
        raise DicomWebError(
            node, f"{what}: no answer within {node.timeout_s:g} s", written=written
        ) from None
    except requests.HTTPError as error:
        raise DicomWebError(node, f"{what}: {_http_reason(error)}", written=written) from None
    except requests.exceptions.JSONDecodeError as error:  # a JSON answer that is not JSON
        raise DicomWebError(
            node, f"{what}: malformed answer (not JSON: {_first_line(error)})", written=written
        ) from None
    except requests.RequestException as error:
        raise DicomWebError(node, f"{what}: {_first_line(error)}", written=written) from None
    except ValueError as error:  # dicomweb-client: an answer it cannot parse
        raise DicomWebError(
            node, f"{what}: malformed answer ({_first_line(error)})", written=written
        ) from None


def _per_instance(
    node: DicomWebNode, what: str, call: Callable[[], _T], written: Sequence[Path] = ()
) -> tuple[_T, None] | tuple[None, str]:
    """Run one request about one instance: its own failure is returned, the node's raised.

    An HTTP error other than a refused login (e.g. 404, 409, 500 for that instance) or an
    answer that cannot be read (a malformed multipart body, a part pydicom cannot read)
    is that instance's problem: returned as one line. A connection failure, a timeout or
    a cut transfer is the node's: raised as :class:`DicomWebError`.
    """
    with _node_call(node, what, written):
        try:
            return call(), None
        except requests.HTTPError as error:
            response = error.response
            if response is not None and response.status_code not in (401, 403):
                return None, f"the PACS answered {_http_reason(error)}{_failure_reason(response)}"
            raise
        except requests.RequestException:
            raise
        except Exception as error:  # dicomweb-client / pydicom reading untrusted bytes
            return None, f"unreadable answer ({sr_codec.describe_error(error)})"
    raise AssertionError("unreachable")  # pragma: no cover - _node_call re-raises


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _connection_reason(error: requests.exceptions.ConnectionError) -> str:
    text = str(error)
    for known in (
        "Connection refused",
        "Name or service not known",
        "No route to host",
        "Network is unreachable",
        "Temporary failure in name resolution",
        "nodename nor servname provided",
        "Connection reset by peer",
        "Remote end closed connection",
    ):
        if known in text:
            return known.lower()
    return _first_line(error)[:200]


def _value(item: dict[str, Any], tag: str) -> Any:
    values = item.get(tag, {}).get("Value") or []
    return values[0] if values else None


def _text(item: dict[str, Any], tag: str) -> str:
    value = _value(item, tag)
    if isinstance(value, dict):  # PN: {"Alphabetic": "..."}
        return str(value.get("Alphabetic", ""))
    return "" if value is None else str(value)


def _texts(item: dict[str, Any], tag: str) -> tuple[str, ...]:
    return tuple(str(v) for v in item.get(tag, {}).get("Value") or () if v is not None)


def _count(item: dict[str, Any], tag: str) -> int | None:
    value = _value(item, tag)
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


# DICOM JSON tags (PS3.18 F.2) of the QIDO attributes read.
_STUDY_UID, _SERIES_UID, _SOP_UID = "0020000D", "0020000E", "00080018"
_TAGS: Final = {
    "PatientName": "00100010",
    "PatientID": "00100020",
    "PatientBirthDate": "00100030",
    "AccessionNumber": "00080050",
    "StudyDate": "00080020",
    "StudyTime": "00080030",
    "StudyDescription": "00081030",
    "ModalitiesInStudy": "00080061",
    "Modality": "00080060",
}


def echo(node: DicomWebNode) -> None:
    """Verify that the node answers a QIDO-RS study search (PS3.18 10.6.1).

    Raises
    ------
    DicomWebError
        It cannot be reached, refuses the login, or answers with an error.
    """
    with _connected(node) as client, _node_call(node, "QIDO-RS search for studies"):
        client.search_for_studies(limit=1)


def find_studies(
    node: DicomWebNode,
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
    """Query the node's studies: QIDO-RS Search for Studies, then for Series of each.

    PS3.18 10.6.1 (Search transactions), matching as PS3.4 C.2.2.2 (single value,
    wildcard, range). Wildcard and ``^`` values work on Orthanc (trap 1; see the module
    docstring).

    Parameters
    ----------
    node
        The PACS.
    patient_id, patient_name, accession_number, study_description
        Matching keys; ``""`` matches anything, ``*`` and ``?`` are wildcards. A name is
        written as DICOM does, ``FAMILY^GIVEN`` (``FAMILY*`` finds every given name).
    study_date
        ``YYYYMMDD`` or a range ``YYYYMMDD-YYYYMMDD`` (either end may be open).
    modality
        Matched against Modalities in Study; ``"MG"`` by default, ``""`` for any.
    study_uid
        One study by its Study Instance UID; ``""`` for any.
    with_series
        Also search each study's series (one QIDO per study).
    limit
        At most this many studies (the server may return fewer).

    Returns
    -------
    tuple of StudyMatch
        The studies, newest first, each with its series when ``with_series``.

    Raises
    ------
    DicomWebError
        The node cannot be reached or answers a search with an error.
    """
    wanted = {
        "PatientID": patient_id,
        "PatientName": patient_name,
        "AccessionNumber": accession_number,
        "StudyDescription": study_description,
        "StudyDate": study_date,
        "ModalitiesInStudy": modality,
        "StudyInstanceUID": study_uid,
    }
    filters = {key: qido_value(value) for key, value in wanted.items() if value}
    with _connected(node) as client:
        with _node_call(node, "QIDO-RS search for studies"):
            answers = client.search_for_studies(
                fields=list(_STUDY_FIELDS), search_filters=filters, limit=limit
            )
        studies: list[StudyMatch] = []
        for answer in answers:
            uid = _text(answer, _STUDY_UID)
            if not is_valid_uid(uid) or not _still_matches(answer, wanted):
                continue
            series: tuple[SeriesMatch, ...] = ()
            if with_series:
                with _node_call(node, f"QIDO-RS search for series of study {uid}"):
                    found = client.search_for_series(uid, fields=list(_SERIES_FIELDS))
                series = in_series_order(_series_match(uid, item) for item in found)
            studies.append(_study_match(answer, series))
        return newest_first(studies)


def _still_matches(answer: dict[str, Any], wanted: dict[str, str]) -> bool:
    """Whether a study the widened query returned matches the keys as given."""
    for key in _STRING_KEYS:
        pattern = wanted[key]
        if not pattern or qido_value(pattern) == pattern or _TAGS[key] not in answer:
            continue  # sent unchanged, so the server matched it; or nothing to compare
        if not _wildcard_match(pattern, _text(answer, _TAGS[key])):
            return False
    return True


def _study_match(answer: dict[str, Any], series: tuple[SeriesMatch, ...]) -> StudyMatch:
    return StudyMatch(
        study_instance_uid=_text(answer, _STUDY_UID),
        patient_id=_text(answer, _TAGS["PatientID"]),
        patient_name=_text(answer, _TAGS["PatientName"]),
        patient_birth_date=_text(answer, _TAGS["PatientBirthDate"]),
        accession_number=_text(answer, _TAGS["AccessionNumber"]),
        study_date=_text(answer, _TAGS["StudyDate"]),
        study_time=_text(answer, _TAGS["StudyTime"]),
        study_description=_text(answer, _TAGS["StudyDescription"]),
        modalities=_texts(answer, _TAGS["ModalitiesInStudy"]),
        number_of_series=_count(answer, "00201206"),
        number_of_instances=_count(answer, "00201208"),
        series=series,
    )


def _series_match(study_uid: str, answer: dict[str, Any]) -> SeriesMatch:
    return SeriesMatch(
        study_instance_uid=study_uid,
        series_instance_uid=_text(answer, _SERIES_UID),
        modality=_text(answer, _TAGS["Modality"]),
        series_number=_count(answer, "00200011"),
        series_description=_text(answer, "0008103E"),
        number_of_instances=_count(answer, "00201209"),
    )


# --------------------------------------------------------------------------- retrieve


@dataclass(frozen=True)
class _Listed:
    series_instance_uid: str
    sop_instance_uid: str


def _list_instances(
    node: DicomWebNode, client: DICOMwebClient, study_uid: str, series: Sequence[str] | None
) -> tuple[list[_Listed], list[InstanceFailure]]:
    """List the instances to retrieve: of the series given, else of every series but SR."""
    with _node_call(node, f"QIDO-RS search for series of study {study_uid}"):
        found = client.search_for_series(study_uid)
    modality = {_text(item, _SERIES_UID): _text(item, _TAGS["Modality"]) for item in found}
    failures: list[InstanceFailure] = []
    if series is None:
        chosen = [uid for uid, kind in modality.items() if kind != "SR" and is_valid_uid(uid)]
    else:
        chosen = []
        for uid in dict.fromkeys(series):
            if uid in modality:
                chosen.append(uid)
            else:
                failures.append(InstanceFailure("", f"series {uid} is not in study {study_uid}"))
    listed: list[_Listed] = []
    for series_uid in chosen:
        with _node_call(node, f"QIDO-RS search for instances of series {series_uid}"):
            instances = client.search_for_instances(study_uid, series_uid)
        for item in instances:
            sop = _text(item, _SOP_UID)
            if is_valid_uid(sop):
                listed.append(_Listed(series_uid, sop))
            else:
                failures.append(InstanceFailure(sop, "the PACS listed it with an invalid UID"))
    return listed, failures


def _in_order(listed: Sequence[_Listed], order: Sequence[str]) -> list[_Listed]:
    """Return the instances named in ``order`` first, in that order, then the others as listed.

    SOP Instance UIDs in ``order`` that are not listed (another series, not on the PACS)
    are ignored; the sort is stable, so the others keep the PACS's order.
    """
    rank = {uid: number for number, uid in enumerate(dict.fromkeys(order))}
    last = len(rank)
    return sorted(listed, key=lambda item: rank.get(item.sop_instance_uid, last))


def _encoded(dataset: Dataset) -> bytes:
    """Return the Part 10 bytes of a dataset (its file meta kept)."""
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def retrieve_study(
    node: DicomWebNode,
    study_uid: str,
    out_dir: Path,
    *,
    series: Sequence[str] | None = None,
    progress: Callable[[RetrieveProgress], object] | None = None,
    cancel: Callable[[], bool] | None = None,
    order: Sequence[str] = (),
) -> RetrieveResult:
    """Retrieve a study, or some of its series, into a folder by WADO-RS.

    QIDO-RS lists the series (PS3.18 10.6.1) and their instances; the first instance of
    ``order`` comes alone by WADO-RS Retrieve Instance (PS3.18 10.4.1.1.3), the others
    a series at a time by WADO-RS Retrieve Series (PS3.18 10.4.1.1.2, see
    :class:`_Transfer` for why), in the transfer syntax the PACS holds them in; each is
    written to ``out_dir / "<SOP Instance UID>.dcm"`` atomically (a
    temporary file then a rename), so a cut transfer leaves no half file under that
    name, and an instance already there (its header naming it) is not fetched again: a
    retry resumes. Structured
    reports (series of modality SR) are left out unless their series is asked for: the
    newest revision becomes the study's sidecar instead (:func:`retrieve_reports`).

    Parameters
    ----------
    node
        The PACS.
    study_uid
        Study Instance UID.
    out_dir
        The study's folder; created if missing.
    series
        Series Instance UIDs to retrieve; ``None`` for every series but SR ones.
    progress
        Called after each instance with a :class:`RetrieveProgress`.
    cancel
        Polled before each instance; when it returns ``True`` no more are fetched and
        the result says ``cancelled``.
    order
        SOP Instance UIDs in the order they are wanted (e.g.
        :attr:`galactoview.pacs.retrieve_order.RetrieveOrder.order`): the first is
        fetched alone and first, then the series in the order their instances appear
        here, each streamed in the PACS's order. Empty: the PACS's order throughout.

    Returns
    -------
    RetrieveResult
        The files written (or already there), the instances that failed with their
        reasons, whether cancelled.

    Raises
    ------
    DicomWebError
        The node cannot be reached, refuses the login or a search; its ``written``
        lists the complete files already in place.
    OSError
        ``out_dir`` cannot be created.
    """
    if not is_valid_uid(study_uid):
        raise ValueError(f"not a Study Instance UID (PS3.5 9.1): {study_uid!r}")
    with _connected(node) as client:
        listed, failures = _list_instances(node, client, study_uid, series)
        listed = _in_order(listed, order)
        out_dir.mkdir(parents=True, exist_ok=True)
        transfer = _Transfer(node, client, study_uid, out_dir, len(listed), failures, progress)
        alone = listed[:1] if order else []
        for item in listed:
            if cancel is not None and cancel():
                transfer.cancelled = True
                break
            if item in alone or item.sop_instance_uid in transfer.done:
                transfer.one(item)
                continue
            wanted = [i for i in listed if i.series_instance_uid == item.series_instance_uid]
            missing = transfer.not_yet_here(wanted)
            if len(missing) >= _STREAM_AT_LEAST:
                transfer.series(item.series_instance_uid, missing, cancel)
            if transfer.cancelled:
                break
            if item.sop_instance_uid not in transfer.done:
                transfer.one(item)  # not in the series' stream (cut, or a PACS that skips it)
        return RetrieveResult(tuple(transfer.written), tuple(transfer.failures), transfer.cancelled)

    #: Missing instances of a series from which one streamed request fetches them all.


_STREAM_AT_LEAST: Final = 2


class _Transfer:
    """One retrieve's instances: fetched one by one or streamed a series at a time.

    Why streamed: Orthanc answers a single-instance WADO-RS request ~0.2 s after it
    is made (it reads and parses the file first) but streams a whole series or study
    at disk speed (4 x 9.6 MB in 0.05 s, measured here), and a PACS's own CPU competes
    with our decoding. So only the instance of the hanging's first cell is asked for
    alone (it opens the window); the others come by WADO-RS Retrieve Series (PS3.18
    10.4.1.1.2), dicomweb-client parsing the multipart answer as it arrives
    (``iter_series``), each instance written as soon as its part is complete.
    """

    def __init__(
        self,
        node: DicomWebNode,
        client: DICOMwebClient,
        study_uid: str,
        out_dir: Path,
        total: int,
        failures: list[InstanceFailure],
        progress: Callable[[RetrieveProgress], object] | None,
    ) -> None:
        self.node, self.client, self.study_uid, self.out_dir = node, client, study_uid, out_dir
        self.total, self.failures, self.progress = total, failures, progress
        self.written: list[Path] = []
        self.done: set[str] = set()
        self.cancelled = False

    def _report(self, sop: str, path: Path | None, error: str | None) -> None:
        self.done.add(sop)
        if error is None and path is not None:
            self.written.append(path)
        else:
            self.failures.append(InstanceFailure(sop, error or "not retrieved"))
        if self.progress is not None:
            left = self.total - len(self.done)
            step = RetrieveProgress(
                sop,
                path if error is None else None,
                error,
                len(self.written),
                len(self.failures),
                left,
            )
            self.progress(step)

    def not_yet_here(self, items: Sequence[_Listed]) -> list[_Listed]:
        """Report the instances already whole in the folder (a retry); return the others."""
        missing = []
        for item in items:
            if item.sop_instance_uid in self.done:
                continue
            path = self.out_dir / f"{item.sop_instance_uid}.dcm"
            if complete_instance_file(path, item.sop_instance_uid):
                self._report(item.sop_instance_uid, path, None)
            else:
                missing.append(item)
        return missing

    def one(self, item: _Listed) -> None:
        """Fetch one instance by WADO-RS Retrieve Instance (PS3.18 10.4.1.1.3)."""
        if item.sop_instance_uid in self.done:
            return
        path = self.out_dir / f"{item.sop_instance_uid}.dcm"
        error = None
        if not complete_instance_file(path, item.sop_instance_uid):
            error = _fetch_instance(
                self.node, self.client, self.study_uid, item, path, self.written
            )
        self._report(item.sop_instance_uid, path, error)

    def series(
        self, series_uid: str, missing: Sequence[_Listed], cancel: Callable[[], bool] | None
    ) -> None:
        """Stream a series; write the ``missing`` instances as their parts arrive.

        A stream cut or unreadable part stops the stream quietly: what did not come is
        fetched alone afterwards (:meth:`one`), which says why for each.
        """
        wanted = {item.sop_instance_uid for item in missing}
        what = f"WADO-RS retrieve of series {series_uid}"
        stream: Iterator[Dataset] | None = None
        try:
            with _node_call(self.node, what, self.written):
                stream = self.client.iter_series(
                    self.study_uid, series_uid, media_types=INSTANCE_MEDIA_TYPES
                )
                for dataset in stream:
                    sop = str(dataset.get("SOPInstanceUID", ""))
                    if sop not in wanted or sop in self.done:
                        continue
                    path = self.out_dir / f"{sop}.dcm"
                    self._report(sop, path, _write_instance(dataset, path))
                    if cancel is not None and cancel():
                        self.cancelled = True
                        return
        except Exception:  # the node's errors, or dicomweb-client / pydicom reading a part
            return  # on a cut or unreadable stream: each instance missing is asked for alone
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # a generator stopped early closes its response


def _write_instance(dataset: Dataset, path: Path) -> str | None:
    """Write a received instance atomically as ``path``; return why not, or ``None``."""
    try:
        data = _encoded(dataset)
    except Exception as error:
        return f"cannot be written as DICOM ({sr_codec.describe_error(error)})"
    try:
        write_atomically(path, lambda stream: stream.write(data))
    except OSError as error:
        return f"{path}: cannot be written ({error.strerror or error})"
    return None


def _fetch_instance(
    node: DicomWebNode,
    client: DICOMwebClient,
    study_uid: str,
    item: _Listed,
    path: Path,
    written: Sequence[Path],
) -> str | None:
    """Fetch one instance into ``path``; return why it failed, or ``None``."""
    dataset, error = _per_instance(
        node,
        f"WADO-RS retrieve of instance {item.sop_instance_uid}",
        lambda: client.retrieve_instance(
            study_uid,
            item.series_instance_uid,
            item.sop_instance_uid,
            media_types=INSTANCE_MEDIA_TYPES,
        ),
        written,
    )
    if dataset is None:
        return error
    got = str(dataset.get("SOPInstanceUID", ""))
    if got != item.sop_instance_uid:
        return f"the PACS sent instance {got or '(none)'} instead"
    return _write_instance(dataset, path)


def _no_bulk_data(tag: str, vr: str, uri: str) -> None:
    """Bulk data handler of :meth:`Dataset.from_json`: leave a BulkDataURI unfetched."""
    return None


def _modality_of(item: dict[str, Any]) -> str:
    """Return the Modality (0008,0060) of a DICOM JSON item, ``""`` if absent or malformed."""
    try:
        return _text(item, _TAGS["Modality"])
    except (AttributeError, TypeError):
        return ""


def retrieve_study_metadata(
    node: DicomWebNode, study_uid: str, *, skip_modalities: Collection[str] = ()
) -> tuple[tuple[Dataset, ...], tuple[str, ...]]:
    """Retrieve every instance's header in one request: WADO-RS Retrieve Study Metadata.

    PS3.18 10.4.1.1.2 (``GET {base}/studies/{uid}/metadata``, ``application/dicom+json``,
    the DICOM JSON Model of PS3.18 F.2). Bulk data (pixel data, large values) comes as
    a BulkDataURI (F.2.6) and is never fetched: the element is left empty. The headers
    have no File Meta Information (no transfer syntax).

    Parameters
    ----------
    node
        The PACS.
    study_uid
        The study.
    skip_modalities
        Items whose Modality (0008,0060) is one of these are left out unread: an SR's
        content tree is thousands of elements, and reading it costs more than the
        request (0.1 s for the sample's SR).

    Returns
    -------
    tuple
        The headers the PACS sent, and one line per item that is not a DICOM JSON
        dataset (skipped).

    Raises
    ------
    DicomWebError
        The node cannot be reached, refuses the login, answers with an HTTP error or
        with something that is not JSON.
    ValueError
        ``study_uid`` is not a UID.
    """
    if not is_valid_uid(study_uid):
        raise ValueError(f"not a Study Instance UID (PS3.5 9.1): {study_uid!r}")
    with _connected(node) as client:
        with _node_call(node, f"WADO-RS retrieve of the metadata of study {study_uid}"):
            answer: object = client.retrieve_study_metadata(study_uid)
        if not isinstance(answer, list):
            what = type(answer).__name__
            return (), (f"{node}: study {study_uid} metadata: not a list of datasets ({what})",)
        headers: list[Dataset] = []
        problems: list[str] = []
        for number, item in enumerate(answer, start=1):
            if isinstance(item, dict) and _modality_of(item) in skip_modalities:
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    headers.append(Dataset.from_json(item, bulk_data_uri_handler=_no_bulk_data))
            except Exception as error:  # untrusted JSON: pydicom raises many kinds
                reason = sr_codec.describe_error(error)
                problems.append(f"{node}: study {study_uid} metadata item {number}: {reason}")
        return tuple(headers), tuple(problems)


def retrieve_reports(
    node: DicomWebNode, study_uid: str
) -> tuple[tuple[Dataset, ...], tuple[InstanceFailure, ...]]:
    """Retrieve the study's structured reports: QIDO ``Modality=SR``, then WADO-RS each.

    PS3.18 10.6.1 (Search for Instances of a study) and 10.4.1.1.3. The datasets stay in
    memory: :func:`galactoview.pacs.revisions.adopt_newest_report` picks the newest
    revision and writes it as the study's sidecar.

    Returns
    -------
    tuple
        The SR datasets, and the SR instances that failed with their reasons.

    Raises
    ------
    DicomWebError
        The node cannot be reached, refuses the login or the search.
    """
    with _connected(node) as client:
        with _node_call(node, f"QIDO-RS search for the SRs of study {study_uid}"):
            found = client.search_for_instances(study_uid, search_filters={"Modality": "SR"})
        reports: list[Dataset] = []
        failures: list[InstanceFailure] = []
        for item in found:
            sop, series_uid = _text(item, _SOP_UID), _text(item, _SERIES_UID)
            if not (is_valid_uid(sop) and is_valid_uid(series_uid)):
                continue
            dataset, error = _per_instance(
                node,
                f"WADO-RS retrieve of SR {sop}",
                functools.partial(
                    client.retrieve_instance,
                    study_uid,
                    series_uid,
                    sop,
                    media_types=INSTANCE_MEDIA_TYPES,
                ),
            )
            if dataset is None:
                failures.append(InstanceFailure(sop, error or "not retrieved"))
            else:
                reports.append(dataset)
        return tuple(reports), tuple(failures)


def retrieve_frames(
    node: DicomWebNode,
    study_uid: str,
    series_uid: str,
    sop_instance_uid: str,
    frames: Sequence[int] = (1,),
) -> tuple[bytes, ...]:
    """Retrieve frames of an instance as stored: WADO-RS Retrieve Frames (PS3.18 10.4.1.1.4).

    Asks for ``application/octet-stream`` with ``transfer-syntax=*`` explicitly (Orthanc
    refuses dicomweb-client's ``*/*``, trap 2): the frame's bytes in the instance's own
    transfer syntax (a JPEG 2000 code stream for the sample).

    Raises
    ------
    DicomWebError
        The node cannot be reached or refuses the request.
    """
    what = f"WADO-RS retrieve of frames of instance {sop_instance_uid}"
    with _connected(node) as client, _node_call(node, what):
        return tuple(
            client.retrieve_instance_frames(
                study_uid,
                series_uid,
                sop_instance_uid,
                list(frames),
                media_types=FRAME_MEDIA_TYPES,
            )
        )


# --------------------------------------------------------------------------- store


@dataclass(frozen=True)
class _Outgoing:
    dataset: Dataset
    label: str
    path: Path | None

    @property
    def sop_instance_uid(self) -> str:
        return str(self.dataset.get("SOPInstanceUID", ""))

    @property
    def study_instance_uid(self) -> str:
        return str(self.dataset.get("StudyInstanceUID", ""))


def _outgoing(source: Path | Dataset) -> _Outgoing | InstanceFailure:
    """Read one input of :func:`store`: a DICOM file, a sidecar (as its SR), a dataset."""
    if isinstance(source, Dataset):
        uid = str(source.get("SOPInstanceUID", ""))
        try:
            dataset = _as_part10(source)
        except Exception as error:
            return InstanceFailure(uid, f"cannot be encoded ({sr_codec.describe_error(error)})")
        item = _Outgoing(dataset, uid or "dataset", None)
    else:
        if is_sidecar(source):  # its SR revision, as `galactoview sr export` writes it
            try:
                dataset = _as_part10(sidecar_sr(source))
            except ValueError as error:
                return InstanceFailure("", str(error), source)
            except Exception as error:
                reason = f"cannot be encoded ({sr_codec.describe_error(error)})"
                return InstanceFailure("", reason, source)
        else:
            try:
                data = read_regular_file(source, MAX_STORE_BYTES, what="DICOM")[0]
            except OSError as error:
                return InstanceFailure("", f"cannot be read ({error.strerror or error})", source)
            try:
                dataset = dcmread(io.BytesIO(data))
            except Exception as error:  # untrusted bytes: pydicom raises many kinds
                reason = f"not a DICOM file ({sr_codec.describe_error(error)})"
                return InstanceFailure("", reason, source)
        item = _Outgoing(dataset, str(source), source)
    if not is_valid_uid(item.sop_instance_uid) or not is_valid_uid(item.study_instance_uid):
        return InstanceFailure(
            item.sop_instance_uid, "has no valid SOP or Study Instance UID", item.path
        )
    if "SOPClassUID" not in item.dataset:
        return InstanceFailure(item.sop_instance_uid, "has no SOP Class UID", item.path)
    return item


def _as_part10(dataset: Dataset) -> Dataset:
    """Return the dataset as read back from its Part 10 bytes (preamble, ``DICM``, file meta).

    dicomweb-client writes each instance with :func:`pydicom.dcmwrite` as it is; a
    dataset built in memory (an SR from its DICOM JSON) has no preamble and would be sent
    without the ``DICM`` prefix, which Orthanc stores and later serves unreadable.
    """
    return dcmread(io.BytesIO(_encoded(dataset)))


def _present(node: DicomWebNode, client: DICOMwebClient, study_uid: str) -> set[str]:
    """SOP Instance UIDs the node holds in a study (QIDO-RS, PS3.18 10.6.1)."""
    with _node_call(node, f"QIDO-RS search for instances of study {study_uid}"):
        found = client.search_for_instances(study_uid)
    return {_text(item, _SOP_UID) for item in found}


def store(
    node: DicomWebNode,
    sources: Iterable[Path | Dataset],
    *,
    progress: Callable[[StoreProgress], object] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> StoreResult:
    """Send instances to the node with STOW-RS, skipping those it already holds.

    STOW-RS (PS3.18 10.5), one instance per request so that each gets its own outcome,
    after a QIDO-RS of each study's instances: an instance whose SOP Instance UID the
    node already lists is not sent (Orthanc answers success for a duplicate, trap 5).
    Inputs repeating a SOP Instance UID are sent once. A sidecar is sent as the binary
    SR of the revision it holds (``galactoview sr export``).

    Parameters
    ----------
    node
        The PACS.
    sources
        DICOM files (Part 10), sidecars (``galactoview-*.sr.json``), or datasets.
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
    DicomWebError
        The node cannot be reached, refuses the login or the search.
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
    with _connected(node) as client:
        present: dict[str, set[str]] = {}
        stored: list[str] = []
        already: list[str] = []
        total = len(outgoing)
        cancelled = False
        for done, item in enumerate(outgoing, start=1):
            if cancel is not None and cancel():
                cancelled = True
                break
            study = item.study_instance_uid
            if study not in present:
                present[study] = _present(node, client, study)
            uid = item.sop_instance_uid
            error: str | None = None
            outcome: Literal["stored", "present", "failed"]
            if uid in present[study]:
                already.append(uid)
                outcome = "present"
            else:
                error = _stow_one(node, client, item)
                if error is None:
                    stored.append(uid)
                    present[study].add(uid)
                    outcome = "stored"
                else:
                    failures.append(InstanceFailure(uid, error, item.path))
                    outcome = "failed"
            if progress is not None:
                progress(StoreProgress(uid, outcome, done, total, error))
        return StoreResult(tuple(stored), tuple(already), tuple(failures), cancelled)


def _stow_one(node: DicomWebNode, client: DICOMwebClient, item: _Outgoing) -> str | None:
    """STOW one instance; return why it failed, or ``None`` (PS3.18 10.5.3 response)."""
    answer, error = _per_instance(
        node,
        f"STOW-RS of instance {item.sop_instance_uid}",
        lambda: client.store_instances([item.dataset], item.study_instance_uid),
    )
    if answer is None:
        return f"not stored: {error}"
    for failed in answer.get("FailedSOPSequence", None) or ():
        if str(failed.get("ReferencedSOPInstanceUID", "")) == item.sop_instance_uid:
            return f"the PACS refused it (Failure Reason {failed.get('FailureReason', '?')})"
    return None


def _failure_reason(response: requests.Response) -> str:
    """Return the Failure Reasons (0008,1197) of a STOW-RS error answer, if it has some."""
    try:
        answer = Dataset.from_json(response.json())
        reasons = [str(f.get("FailureReason", "")) for f in answer.get("FailedSOPSequence", [])]
    except Exception:  # not DICOM JSON: nothing more to say
        return ""
    return f"; Failure Reason {', '.join(reasons)}" if reasons else ""
