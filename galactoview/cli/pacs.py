"""``galactoview pacs echo | find | get | store``: talk to a PACS from scripts (Qt-free).

The node is given inline: ``--url http://HOST:PORT/dicom-web`` for DICOMweb (PS3.18),
``--dimse AET@HOST:PORT`` for DIMSE (PS3.4 / PS3.7, handed to
:mod:`galactoview.pacs.dimse` when that module is installed). Secrets never come from
the command line itself: ``--user NAME --password-env VAR`` (HTTP Basic) or
``--token-env VAR`` (bearer token) name the environment variable holding them.

Progress goes to stderr, one line per instance; results to stdout. Exit codes:

* 0 — done, every object handled;
* 1 — some object failed (an instance not retrieved or not stored, the marks not
  written), each named on stderr with its reason;
* 2 — usage error (bad arguments, a node that cannot be parsed, an empty secret
  variable, DIMSE not available);
* 3 — the node could not be reached or refused us (connection refused, timeout, name
  not resolved, TLS, wrong credentials, an error answer to a query); one line naming it.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final

from galactoview.cli.common import EXIT_FAILURE, EXIT_USAGE, PROG, iso_date

if TYPE_CHECKING:
    from galactoview.pacs.nodes import DicomWebNode, DimseNode
    from galactoview.pacs.results import RetrieveProgress, StoreProgress, StudyMatch

__all__ = ["EXIT_NODE", "build_parser", "run"]

#: Exit code when the node could not be reached or refused us.
EXIT_NODE: Final = 3

_EXIT_TEXT: Final = (
    "Exit status: 0 done; 1 some object failed (named on stderr); 2 usage error; "
    "3 the node could not be reached or refused us (named on stderr)."
)


def _node_options() -> argparse.ArgumentParser:
    """Return the options every ``pacs`` command takes to name the node."""
    parent = argparse.ArgumentParser(add_help=False)
    where = parent.add_argument_group("node")
    which = where.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--url", metavar="URL", help="DICOMweb base URL, e.g. http://127.0.0.1:8042/dicom-web"
    )
    which.add_argument(
        "--dimse", metavar="AET@HOST:PORT", help="DIMSE peer: called AE title, host and port"
    )
    where.add_argument("--user", metavar="NAME", help="HTTP Basic user name (DICOMweb)")
    where.add_argument(
        "--password-env",
        metavar="VAR",
        help="environment variable holding the HTTP Basic password (never the password)",
    )
    where.add_argument(
        "--token-env", metavar="VAR", help="environment variable holding a bearer token"
    )
    where.add_argument(
        "--no-verify-tls",
        action="store_true",
        help="do not check the server's TLS certificate (test servers only)",
    )
    where.add_argument(
        "--timeout", type=float, default=30.0, metavar="S", help="seconds (default 30)"
    )
    where.add_argument(
        "--calling-ae", default="GALACTOVIEW", metavar="AET", help="our AE title (DIMSE)"
    )
    where.add_argument(
        "--scp-port",
        type=int,
        metavar="PORT",
        help="port of our storage SCP, for C-MOVE (DIMSE; with --move)",
    )
    return parent


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``galactoview pacs``."""
    parser = argparse.ArgumentParser(
        prog=f"{PROG} pacs",
        description=(
            "Query a PACS, retrieve a study with its marks, store images and marks. "
            "The node is --url (DICOMweb) or --dimse (DIMSE). " + _EXIT_TEXT
        ),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    node = _node_options()
    commands.add_parser(
        "echo",
        parents=[node],
        help="test the connection (a QIDO-RS search, or C-ECHO)",
        description="Test the connection: a study search (DICOMweb) or C-ECHO (DIMSE). "
        + _EXIT_TEXT,
    )
    find = commands.add_parser(
        "find",
        parents=[node],
        help="search studies (and their series)",
        description=(
            "List the node's studies matching the keys, newest first, each with its "
            "series and their instance counts. '*' and '?' are wildcards; a name is "
            "written FAMILY^GIVEN (FAMILY* finds every given name). " + _EXIT_TEXT
        ),
    )
    find.add_argument("--patient-id", default="", metavar="ID")
    find.add_argument("--patient-name", default="", metavar="NAME")
    find.add_argument("--accession", default="", metavar="N", help="accession number")
    find.add_argument("--description", default="", metavar="TEXT", help="study description")
    find.add_argument("--date-from", type=iso_date, metavar="YYYY-MM-DD", help="studies from")
    find.add_argument("--date-to", type=iso_date, metavar="YYYY-MM-DD", help="studies until")
    find.add_argument(
        "--modality", default="MG", metavar="MOD", help="modality in study (default MG; '' any)"
    )
    find.add_argument("--json", action="store_true", help="print the studies as JSON")
    get = commands.add_parser(
        "get",
        parents=[node],
        help="retrieve a study and the newest revision of its marks",
        description=(
            "Retrieve a study into OUT_DIR (created if missing): each instance is written "
            "as <SOP Instance UID>.dcm, atomically (a cut transfer leaves no half file; "
            "running it again fetches only what is missing). The study's SRs are queried "
            "and the newest revision of the marks (the head of the Predecessor Documents "
            "chain) becomes the study's sidecar, so that 'galactoview OUT_DIR' and "
            "'galactoview report OUT_DIR' show them. A sidecar already there holding an "
            "earlier revision is replaced (kept as .bak); one with other marks is kept "
            "and the PACS revision written next to it. " + _EXIT_TEXT
        ),
    )
    get.add_argument("study_uid", metavar="STUDY_UID", help="Study Instance UID")
    get.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="the study's folder")
    get.add_argument(
        "--series",
        action="append",
        metavar="SERIES_UID",
        help="retrieve only this series (repeatable); default every image series",
    )
    get.add_argument("--move", action="store_true", help="C-MOVE instead of C-GET (DIMSE)")
    store = commands.add_parser(
        "store",
        parents=[node],
        help="store images, SR files and sidecars (the marks)",
        description=(
            "Store DICOM files, SR files and annotation sidecars (sent as the binary SR "
            "of the revision they hold, as 'sr export' writes it). A folder sends its "
            "images, SR files and each study's current sidecar. Instances the node "
            "already holds (same SOP Instance UID) are not sent again. With --with-pdf, "
            "the report's PDF is sent too, as an Encapsulated PDF instance of the study "
            "referencing the SR of the one sidecar given. " + _EXIT_TEXT
        ),
    )
    store.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    store.add_argument(
        "--with-pdf",
        type=Path,
        metavar="REPORT.pdf",
        help=(
            "also store this PDF (from 'galactoview report') as an Encapsulated PDF of "
            "the report in the one sidecar among the paths"
        ),
    )
    return parser


class _UsageError(Exception):
    """A node option is unusable; the message says which and why."""


def _dicomweb_node(args: argparse.Namespace) -> DicomWebNode:
    from galactoview.pacs.nodes import Auth, AuthKind, NodeError, parse_dicomweb_url

    if args.token_env and (args.user or args.password_env):
        raise _UsageError("give either --token-env or --user/--password-env, not both")
    if args.password_env and not args.user:
        raise _UsageError("--password-env needs --user")
    auth = Auth()
    try:
        if args.token_env:
            auth = Auth(AuthKind.BEARER, secret=_secret(args.token_env, "--token-env"))
        elif args.user:
            password = _secret(args.password_env, "--password-env") if args.password_env else ""
            auth = Auth(AuthKind.BASIC, args.user, password)
        return parse_dicomweb_url(
            args.url, auth, verify_tls=not args.no_verify_tls, timeout_s=args.timeout
        )
    except NodeError as error:
        raise _UsageError(str(error)) from None


def _dimse_node(args: argparse.Namespace) -> DimseNode:
    from galactoview.pacs.nodes import NodeError, parse_dimse_address

    if args.user or args.password_env or args.token_env:
        raise _UsageError("--user, --password-env and --token-env are for --url (DICOMweb)")
    try:
        return parse_dimse_address(
            args.dimse,
            calling_ae=args.calling_ae,
            storage_scp_port=args.scp_port,
            timeout_s=args.timeout,
        )
    except NodeError as error:
        raise _UsageError(str(error)) from None


def _secret(variable: str, option: str) -> str:
    value = os.environ.get(variable, "")
    if not value:
        raise _UsageError(f"{option}: the environment variable {variable} is not set or empty")
    return value


def _dimse_module() -> ModuleType | None:
    """Return :mod:`galactoview.pacs.dimse`, or ``None`` while it is not installed."""
    try:
        return importlib.import_module("galactoview.pacs.dimse")
    except ModuleNotFoundError as error:
        if error.name != "galactoview.pacs.dimse":
            raise
        return None


def run(args: argparse.Namespace) -> int:
    """Run ``galactoview pacs``."""
    from galactoview.pacs import dicomweb

    protocol: ModuleType = dicomweb
    node: Any
    try:
        if args.url is not None:
            node = _dicomweb_node(args)
        else:
            node = _dimse_node(args)
            dimse = _dimse_module()
            if dimse is None:
                print(f"{PROG} pacs: DIMSE not available yet", file=sys.stderr)
                return EXIT_USAGE
            protocol = dimse
        if args.command == "get" and args.move and args.url is not None:
            raise _UsageError("--move is for --dimse (C-MOVE)")
    except _UsageError as error:
        print(f"{PROG} pacs: {error}", file=sys.stderr)
        return EXIT_USAGE
    node_errors: tuple[type[BaseException], ...] = (dicomweb.DicomWebError,)
    if protocol is not dicomweb:
        node_errors += (protocol.DimseError,)
    try:
        if args.command == "echo":
            protocol.echo(node)
            print(f"{node}: answers")
            return 0
        if args.command == "find":
            return _find(protocol, node, args)
        if args.command == "get":
            return _get(protocol, node, args)
        return _store(protocol, node, args.paths, args.with_pdf)
    except node_errors as error:
        print(str(error), file=sys.stderr)
        return EXIT_NODE


def _dicom_date(day: dt.date | None) -> str:
    return "" if day is None else day.strftime("%Y%m%d")


def _find(protocol: ModuleType, node: Any, args: argparse.Namespace) -> int:
    study_date = ""
    if args.date_from or args.date_to:
        if args.date_from and args.date_to and args.date_from > args.date_to:
            print(f"{PROG} pacs find: --date-from is after --date-to", file=sys.stderr)
            return EXIT_USAGE
        study_date = f"{_dicom_date(args.date_from)}-{_dicom_date(args.date_to)}"
        if args.date_from == args.date_to:
            study_date = _dicom_date(args.date_from)
    studies: Sequence[StudyMatch] = protocol.find_studies(
        node,
        patient_id=args.patient_id,
        patient_name=args.patient_name,
        accession_number=args.accession,
        study_date=study_date,
        modality=args.modality,
        study_description=args.description,
    )
    if args.json:
        print(json.dumps([dataclasses.asdict(study) for study in studies], indent=2))
        return 0
    for study in studies:
        counts = f"{_n(study.number_of_series)} series, {_n(study.number_of_instances)} instances"
        print(
            f"{study.study_date or '--------'}  {study.patient_name or '(no name)'}  "
            f"ID {study.patient_id or '-'}  acc {study.accession_number or '-'}  "
            f"{study.study_description or '(no description)'}  "
            f"[{','.join(study.modalities) or '-'}]  {counts}  {study.study_instance_uid}"
        )
        for series in study.series:
            number = "-" if series.series_number is None else str(series.series_number)
            print(
                f"    series {number}  {series.modality or '-'}  "
                f"{series.series_description or '(no description)'}  "
                f"{_n(series.number_of_instances)} instances  {series.series_instance_uid}"
            )
    print(f"{len(studies)} studies", file=sys.stderr)
    return 0


def _n(count: int | None) -> str:
    return "?" if count is None else str(count)


def _retrieve_progress(step: RetrieveProgress) -> None:
    done = step.received + step.failed
    total = "" if step.remaining is None else f"/{done + step.remaining}"
    if step.error is None:
        print(f"[{done}{total}] {step.path}", file=sys.stderr)
    else:
        print(f"[{done}{total}] {step.sop_instance_uid}: {step.error}", file=sys.stderr)


def _get(protocol: ModuleType, node: Any, args: argparse.Namespace) -> int:
    from galactoview.annotations.model import is_valid_uid

    if not is_valid_uid(args.study_uid):
        print(f"{PROG} pacs get: not a Study Instance UID: {args.study_uid!r}", file=sys.stderr)
        return EXIT_USAGE
    out_dir: Path = args.out_dir
    if out_dir.exists() and not out_dir.is_dir():
        print(f"{out_dir}: not a folder", file=sys.stderr)
        return EXIT_FAILURE
    # C-GET or C-MOVE for DIMSE; DICOMweb has one way (WADO-RS).
    how: dict[str, str] = {} if args.url is not None else {"method": "move" if args.move else "get"}
    try:
        result = protocol.retrieve_study(
            node, args.study_uid, out_dir, series=args.series, progress=_retrieve_progress, **how
        )
        reports, report_failures = protocol.retrieve_reports(node, args.study_uid, **how)
    except OSError as error:
        print(f"{out_dir}: cannot be written ({error.strerror or error})", file=sys.stderr)
        return EXIT_FAILURE
    failed = bool(result.failures or report_failures)
    for failure in (*result.failures, *report_failures):
        print(f"{node}: {failure}", file=sys.stderr)
    if not result.written:
        print(f"{node}: no instance of study {args.study_uid} retrieved", file=sys.stderr)
        return EXIT_FAILURE
    if not _adopt(args.study_uid, out_dir, reports):
        failed = True
    print(out_dir)
    return EXIT_FAILURE if failed else 0


def _adopt(study_uid: str, out_dir: Path, reports: Sequence[Any]) -> bool:
    """Write the newest revision of the marks as the sidecar; say what happened."""
    from galactoview.pacs.revisions import adopt_newest_report
    from galactoview.sr.persistence import ImportOutcome

    adoption = adopt_newest_report(study_uid, out_dir, reports)
    for problem in adoption.problems:
        print(problem, file=sys.stderr)
    if adoption.revision is None:
        print(f"study {study_uid}: no marks (no TID 1500 SR) on the PACS", file=sys.stderr)
        return True
    imported = adoption.imported
    if imported is None:
        return False
    if imported.notice:
        print(imported.notice, file=sys.stderr)
    uid = adoption.revision.sop_instance_uid
    said = {
        ImportOutcome.WRITTEN: f"marks: SR {uid} written as the study's sidecar",
        ImportOutcome.ALREADY_HELD: f"marks: the sidecar already holds SR {uid}",
        ImportOutcome.SUPERSEDED: f"marks: SR {uid} replaced an earlier revision (kept as .bak)",
        ImportOutcome.OLDER: f"marks: the sidecar is newer than SR {uid} (not stored yet?); kept",
        ImportOutcome.ALONGSIDE: (
            f"marks: {imported.kept} holds other marks; kept, and SR {uid} written next to "
            f"it as {imported.path.name} (the viewer opens the newer)"
        ),
    }[imported.outcome]
    print(f"{imported.path}: {said}", file=sys.stderr)
    return True


def _store_progress(step: StoreProgress) -> None:
    said = {"stored": "stored", "present": "already on the node, not sent", "failed": "FAILED"}
    line = f"[{step.done}/{step.total}] {step.sop_instance_uid}: {said[step.outcome]}"
    if step.error:
        line += f" ({step.error})"
    print(line, file=sys.stderr)


def _store(protocol: ModuleType, node: Any, paths: Sequence[Path], pdf: Path | None) -> int:
    from galactoview.pacs.outgoing import collect, pdf_instance

    items, failures = collect(paths)
    for failure in failures:
        print(str(failure), file=sys.stderr)
    if pdf is not None:
        try:
            items.append(pdf_instance(items, pdf))
        except ValueError as error:
            print(f"{pdf}: not stored: {error}", file=sys.stderr)
            return EXIT_FAILURE
    if not items:
        print(f"{PROG} pacs store: nothing to store", file=sys.stderr)
        return EXIT_FAILURE
    store: Callable[..., Any] = protocol.store
    result = store(node, items, progress=_store_progress)
    for failure in result.failures:
        print(f"{node}: {failure}", file=sys.stderr)
    print(
        f"{node}: {len(result.stored)} stored, {len(result.already_present)} already there, "
        f"{len(result.failures) + len(failures)} failed"
    )
    return EXIT_FAILURE if (result.failures or failures) else 0
