"""Command line: ``galactoview [PATH ...]`` opens the viewer; subcommands work in batch.

Usage::

    galactoview [PATH ...]                 open the viewer (Qt is imported lazily)
    galactoview info PATH... [--json]      list images as Patient > Study > Series > Instance
    galactoview render FILE OUT.png [--frame N] [--window C,W | --auto] [--max-size PX]
    galactoview sr export SIDECAR OUT.dcm  annotation sidecar -> binary DICOM SR (Part 10)
    galactoview sr import SR.dcm STUDY_DIR binary (or JSON) TID 1500 SR -> the study's sidecar
    galactoview sr show SIDECAR_OR_SR|FOLDER [--json] [--images PATH | --no-images]
    galactoview report PATH... OUT.pdf [--png DIR] [--date YYYY-MM-DD]  surgeon's PDF report

A first argument that is exactly ``info``, ``render``, ``sr`` or ``report`` selects the
subcommand; anything else is a path to open. To open a file or folder literally named
``info``, ``render``, ``sr`` or ``report``, write it as ``./info``. This module never imports Qt or
pyqtgraph at module level, so ``--help``, ``--version`` and the subcommands work without a display.

Errors about a file are printed as one line ``path: message`` on stderr. Exit codes:
0 success, 1 nothing readable / the image could not be rendered or written, 2 usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import stat
import struct
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydicom.uid import UID

from galactoview import __version__
from galactoview.dicom.calibration import Calibration, calibration_from_dataset
from galactoview.dicom.loading import ImageRecord, PixelDataError, ScanResult, read_header, scan
from galactoview.dicom.study_tree import PatientNode, build_study_tree
from galactoview.paths import SampleStudyError, sample_study_copy

__all__ = [
    "SUBCOMMANDS",
    "build_info_parser",
    "build_parser",
    "build_render_parser",
    "build_report_parser",
    "build_sr_parser",
    "info_json",
    "main",
]

PROG = "galactoview"

#: Exit code when nothing could be read, rendered or written.
EXIT_FAILURE = 1
#: Exit code for a usage error (as argparse uses).
EXIT_USAGE = 2

#: First words of the command line that select a batch subcommand instead of the viewer.
SUBCOMMANDS = ("info", "render", "sr", "report")

_EPILOG = """\
batch subcommands (see 'galactoview info --help', 'galactoview render --help',
'galactoview sr --help'):
  galactoview info PATH... [--json]
  galactoview render FILE OUT.png [--frame N] [--window C,W | --auto] [--max-size PX]
  galactoview sr export SIDECAR OUT.dcm
  galactoview sr import SR.dcm STUDY_DIR
  galactoview sr show SIDECAR_OR_SR|FOLDER [--json]
  galactoview report PATH... OUT.pdf [--png DIR] [--date YYYY-MM-DD]

A PATH literally named 'info', 'render', 'sr' or 'report' must be written as ./info,
./render, ./sr or ./report.
"""


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``galactoview`` command (the viewer).

    Returns
    -------
    argparse.ArgumentParser
        The parser for ``galactoview [PATH ...]``; the subcommands have their own
        parsers (:func:`build_info_parser`, :func:`build_render_parser`), chosen by
        :func:`main` from the first word of the command line.
    """
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "DICOM viewer for galactography (ductography). Opens the given DICOM files "
            "and folders (searched recursively), or the bundled sample study."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="DICOM file or folder to open (default: the sample study)",
    )
    parser.add_argument(
        "--review",
        action="store_true",
        help="open in the surgeon's read-only review mode (clock face, depth, distance)",
    )
    return parser


def build_info_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``galactoview info``."""
    parser = argparse.ArgumentParser(
        prog=f"{PROG} info",
        description=(
            "List the DICOM images found in files and folders (searched recursively) as "
            "Patient > Study > Series > Instance, newest study first: laterality, view, "
            "size, transfer syntax and pixel spacing calibration of each image. Unusable "
            "files are reported on stderr, one line each. Exit status: 0 if any image "
            "was found, 1 if none, 2 on a usage error."
        ),
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="file or folder")
    parser.add_argument(
        "--json", action="store_true", help="print the tree as JSON (keys: see the docs)"
    )
    return parser


def build_render_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``galactoview render``."""
    parser = argparse.ArgumentParser(
        prog=f"{PROG} render",
        description=(
            "Write one frame of a DICOM image as an 8-bit PNG exactly as the viewer "
            "displays it (Modality LUT, VOI, Presentation LUT Shape; PS3.3 C.11). "
            "Default VOI: the file's first window with its VOI LUT Function, else its "
            "first VOI LUT, else the automatic window. Colour images (RGB, YBR, palette) "
            "are written as RGB PNGs without VOI. The source file is never modified; "
            "the PNG is replaced atomically. Exit status: 0 written, 1 error, 2 usage."
        ),
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="DICOM image file")
    parser.add_argument("out", type=Path, metavar="OUT.png", help="PNG file to write")
    parser.add_argument(
        "--frame", type=int, default=1, metavar="N", help="1-based frame number (default 1)"
    )
    voi = parser.add_mutually_exclusive_group()
    voi.add_argument(
        "--window",
        metavar="CENTER,WIDTH",
        help=(
            "window in modality units, keeping the file's VOI LUT Function (LINEAR if "
            "the file has no window); write a negative center as --window=-100,400"
        ),
    )
    voi.add_argument(
        "--auto", action="store_true", help="automatic mammography window over the tissue"
    )
    parser.add_argument(
        "--max-size",
        type=_positive_int,
        metavar="PX",
        help=(
            "downsample so the longer side is at most PX pixels, preserving the aspect "
            "ratio (Lanczos filter on the display values); default: native size"
        ),
    )
    return parser


def build_sr_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``galactoview sr`` (``export``, ``import``, ``show``)."""
    parser = argparse.ArgumentParser(
        prog=f"{PROG} sr",
        description=(
            "Convert and list a study's annotations: the sidecar "
            "galactoview-<StudyInstanceUID>.sr.json next to the study (the DICOM JSON Model, "
            "PS3.18 Annex F, of a TID 1500 Comprehensive SR) and binary DICOM SR files. "
            "Exit status: 0 done, 1 unreadable input or nothing written, 2 usage error."
        ),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    export = commands.add_parser(
        "export",
        help="write a sidecar as a binary DICOM SR file (PS3.10)",
        description=(
            "Write the SR held by an annotation sidecar as a binary DICOM Part 10 file "
            "(file meta information rebuilt, Explicit VR Little Endian). The content is "
            "copied unchanged, so the SOP Instance UID stays that of the saved revision. "
            "OUT.dcm is replaced atomically."
        ),
    )
    export.add_argument("sidecar", type=Path, metavar="SIDECAR", help="annotation sidecar")
    export.add_argument("out", type=Path, metavar="OUT.dcm", help="DICOM file to write")
    imported = commands.add_parser(
        "import",
        help="store a TID 1500 SR (binary or JSON) as a study's sidecar",
        description=(
            "Read a TID 1500 Imaging Measurement Report (GalactoView's or another "
            "program's; binary Part 10 or DICOM JSON) and store it unchanged as the "
            "sidecar of its study, where the viewer and 'report' look for it: STUDY_DIR "
            "(e.g. the folder you open) is scanned for the images of the SR's study and "
            "the sidecar goes to their folder, or to the per-user folder when that one is "
            "read-only. Refused, with nothing written: a Key Object Selection, Basic Text "
            "or other non-TID-1500 SR, an SR without any readable mark, and a STUDY_DIR "
            "without an image of the SR's study. An existing sidecar is never overwritten: "
            "when the study already has a different one, the SR is written next to it "
            "under a new name (printed); the viewer opens the newest revision of the two "
            "(by the SR's Content Date/Time) and lists the other. "
            "Problems found while reading are printed on stderr."
        ),
    )
    imported.add_argument("sr", type=Path, metavar="SR.dcm", help="SR file to import")
    imported.add_argument(
        "study_dir",
        type=Path,
        metavar="STUDY_DIR",
        help="a folder holding the study's images (searched recursively)",
    )
    show = commands.add_parser(
        "show",
        help="list the findings of a sidecar or an SR file",
        description=(
            "List the annotations of a sidecar or SR file: per finding its id, type, "
            "laterality, each region's image (view and instance number when the image is "
            "found, else its SOP Instance UID), graphic type and points (pixels), the "
            "measurements with their calibration, impression and note; duct trees "
            "indented by parent; nipple landmarks; the stored location of each finding "
            "(clock face, quadrant, depth, distance from the nipple). Images are looked "
            "for in the file's folder unless --images or --no-images is given. Given a "
            "folder, it lists the sidecar of each study found in it, looked for where "
            "the viewer and 'report' look (--json: a list, each with its 'sidecar' path)."
        ),
    )
    show.add_argument(
        "file",
        type=Path,
        metavar="SIDECAR_OR_SR",
        help="sidecar, SR file, or a folder of studies",
    )
    show.add_argument("--json", action="store_true", help="print the listing as JSON")
    where = show.add_mutually_exclusive_group()
    where.add_argument(
        "--images", type=Path, metavar="PATH", help="file or folder holding the study's images"
    )
    where.add_argument("--no-images", action="store_true", help="do not look for the images")
    return parser


def build_report_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``galactoview report``."""
    parser = argparse.ArgumentParser(
        prog=f"{PROG} report",
        description=(
            "Write the surgeon's localization report of the annotated studies as a PDF "
            "(A4): patient and study header, a clock-face and a side pictogram per breast, "
            "the findings table (side, o'clock, quadrant, depth third, distance from the "
            "nipple, size, impression), the key images with the marks burned in, and the "
            "observer, date and SR SOP Instance UID on every page. Each study's annotations "
            "are read from its sidecar. Exit status: 0 written, 1 nothing annotated or "
            "not written, 2 usage error."
        ),
    )
    parser.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="DICOM file or folder (as for the viewer)",
    )
    parser.add_argument("out", type=Path, metavar="OUT.pdf", help="PDF file to write")
    parser.add_argument(
        "--png", type=Path, metavar="DIR", help="also write each key image with its marks as a PNG"
    )
    parser.add_argument(
        "--date",
        type=_iso_date,
        metavar="YYYY-MM-DD",
        help="report date printed on the pages (default: today)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``galactoview`` command.

    Parameters
    ----------
    argv
        Arguments without the program name; ``sys.argv[1:]`` when None. A first
        argument in :data:`SUBCOMMANDS` runs that subcommand; otherwise the viewer opens.

    Returns
    -------
    int
        Exit code: 0 on success, 1 when a subcommand fails or the sample's per-user
        copy cannot be made, 2 on a usage error (including a missing sample study
        when no path is given), else the GUI's exit code.
    """
    args_list = sys.argv[1:] if argv is None else list(argv)
    if args_list and args_list[0] == "info":
        return _run_subcommand(build_info_parser(), args_list[1:], _info)
    if args_list and args_list[0] == "render":
        return _run_subcommand(build_render_parser(), args_list[1:], _render)
    if args_list and args_list[0] == "sr":
        return _run_subcommand(build_sr_parser(), args_list[1:], _sr)
    if args_list and args_list[0] == "report":
        return _run_subcommand(build_report_parser(), args_list[1:], _report)
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # --help, --version and usage errors
        return _exit_code(exc)
    paths: list[Path] = list(args.paths)
    if not paths:  # the sample, from its per-user copy: the repository is never written
        try:
            paths = [sample_study_copy()]
        except SampleStudyError as error:
            print(
                f"{PROG}: error: no PATH given and {error}; pass DICOM files or folders",
                file=sys.stderr,
            )
            return EXIT_USAGE if error.missing else EXIT_FAILURE
    result = scan(paths)
    _print_problems(result)
    return _open_window(paths, result, review=bool(args.review))


def _run_subcommand(
    parser: argparse.ArgumentParser,
    argv: list[str],
    run: Callable[[argparse.Namespace], int],
) -> int:
    """Parse a subcommand's arguments and run it; argparse exits become return codes."""
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return _exit_code(exc)
    return run(args)


def _exit_code(exc: SystemExit) -> int:
    """Return the exit code argparse wanted (2 for usage errors)."""
    return exc.code if isinstance(exc.code, int) else EXIT_USAGE


def _positive_int(text: str) -> int:
    """Argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid positive integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _iso_date(text: str) -> dt.date:
    """Argparse type: a date written YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _print_problems(result: ScanResult) -> None:
    """Print one line per problem to stderr: ``path: message``."""
    for problem in result.problems:
        print(problem, file=sys.stderr)


def _open_window(paths: Sequence[Path], result: ScanResult, *, review: bool = False) -> int:
    """Open the main window (imports Qt now, not before), in review mode if asked."""
    from galactoview.app import run_gui  # lazy: keeps the CLI Qt-free

    return run_gui(list(paths), result, review=review)


# --- info ----------------------------------------------------------------------------------


def _info(args: argparse.Namespace) -> int:
    """Run ``galactoview info``."""
    result = scan(args.paths)
    _print_problems(result)
    tree = build_study_tree(result.images)
    calibrations: dict[str, Calibration | None] = {}
    for image in result.images:
        calibration = _calibration(image)
        if isinstance(calibration, str):  # the header could not be read again
            print(f"{_where(image)}: {calibration}", file=sys.stderr)
        calibrations[image.sop_instance_uid] = None if isinstance(calibration, str) else calibration
    if args.json:
        document = info_json(tree, result, calibrations)
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        for line in _info_lines(tree, calibrations):
            print(line)
    for report in result.reports:
        print(
            f"{report.path}: a {report.sop_class_name} document, not an image "
            f"('{PROG} sr show {report.path}' lists its marks)",
            file=sys.stderr,
        )
    if not result.images:
        if not (result.problems or result.reports):  # else each path was named above
            print(f"{PROG} info: no DICOM images found", file=sys.stderr)
        return EXIT_FAILURE
    return 0


def _calibration(image: ImageRecord) -> Calibration | str:
    """Return the calibration of an image from its header, or an error message."""
    try:
        return calibration_from_dataset(read_header(image))
    except PixelDataError as exc:
        return exc.message


def _size(image: ImageRecord) -> str:
    """Return ``rows×columns``, plus ``×frames`` for multi-frame images."""
    size = f"{image.rows}×{image.columns}"
    return f"{size}×{image.number_of_frames}" if image.number_of_frames > 1 else size


def _view(image: ImageRecord) -> str:
    """Return view and modifiers without laterality, e.g. ``"CC MAG"``; ``"-"`` if unknown."""
    return " ".join([image.view.short_name, *image.view.modifiers]).strip() or "-"


def _where(image: ImageRecord) -> str:
    """Return the file of an image, with the member name when it is inside a ``.zip``."""
    member = image.archive_member
    return str(image.path) if member is None else f"{image.path} [{member}]"


def _syntax_name(uid: str) -> str:
    """Return the name of a transfer syntax UID (PS3.6 Annex A), the UID if unknown."""
    return UID(uid).name if uid else "(no transfer syntax)"


def _info_lines(
    tree: Sequence[PatientNode], calibrations: Mapping[str, Calibration | None]
) -> list[str]:
    """Return the indented text tree of ``galactoview info``."""
    lines: list[str] = []
    for patient in tree:
        lines.append(
            f"Patient {patient.patient_name or '(no name)'}"
            f" [{patient.patient_id or 'no ID'}]: {patient.image_count} image(s)"
        )
        for study in patient.studies:
            date = study.study_date
            shown = f"{date[:4]}-{date[4:6]}-{date[6:]}" if len(date) == 8 else date or "no date"
            lines.append(
                f"  Study {shown} {study.study_description or '(no description)'}"
                f" ({study.study_instance_uid})"
            )
            for series in study.series:
                number = "?" if series.series_number is None else series.series_number
                lines.append(
                    f"    Series {number} {series.modality or '?'}"
                    f" {series.series_description or '(no description)'}"
                )
                for image in series.images:
                    calibration = calibrations.get(image.sop_instance_uid)
                    label = calibration.short_label() if calibration is not None else "?"
                    instance = "?" if image.instance_number is None else image.instance_number
                    lines.append(
                        f"      #{instance} {image.image_laterality.value or '-'}"
                        f" {_view(image)}  {_size(image)}"
                        f"  {_syntax_name(image.transfer_syntax_uid)}  {label}  {_where(image)}"
                    )
    return lines


def info_json(
    tree: Sequence[PatientNode], result: ScanResult, calibrations: Mapping[str, Calibration | None]
) -> dict[str, Any]:
    """Return the ``galactoview info --json`` document.

    Keys (values are strings unless noted; missing numbers are ``null``)::

        patients: list of
          patient_id, patient_name
          studies: list of (newest first)
            study_instance_uid, study_date (YYYYMMDD), study_description
            series: list of
              series_instance_uid, series_number (int), series_description, modality
              images: list of
                path, archive_member (member name inside a .zip ``path``, else null),
                sop_instance_uid, instance_number (int)
                laterality ("L", "R", "B" or ""), view (e.g. "L CC MAG"),
                view_code (SNOMED CT), view_modifiers (list)
                rows, columns, number_of_frames (int), photometric_interpretation
                transfer_syntax: {uid, name}
                calibration: null if the header could not be read again, else
                  {source ("calibrated", "pixel spacing", "magnification-corrected",
                   "detector" or "unknown"), row_spacing_mm, column_spacing_mm,
                   magnification (float or null), label, description, problems (list)}
        problems: list of {path, archive_member, message}, one per unusable file

    Parameters
    ----------
    tree
        The study tree of ``result.images``.
    result
        The scan result (for its problems).
    calibrations
        Calibration of each image by SOP Instance UID (None when unknown).

    Returns
    -------
    dict
        A JSON-serialisable document.
    """
    return {
        "patients": [
            {
                "patient_id": patient.patient_id,
                "patient_name": patient.patient_name,
                "studies": [
                    {
                        "study_instance_uid": study.study_instance_uid,
                        "study_date": study.study_date,
                        "study_description": study.study_description,
                        "series": [
                            {
                                "series_instance_uid": series.series_instance_uid,
                                "series_number": series.series_number,
                                "series_description": series.series_description,
                                "modality": series.modality,
                                "images": [
                                    _image_json(image, calibrations.get(image.sop_instance_uid))
                                    for image in series.images
                                ],
                            }
                            for series in study.series
                        ],
                    }
                    for study in patient.studies
                ],
            }
            for patient in tree
        ],
        "problems": [
            {
                "path": str(problem.path),
                "archive_member": problem.archive_member,
                "message": problem.message,
            }
            for problem in result.problems
        ],
    }


def _image_json(image: ImageRecord, calibration: Calibration | None) -> dict[str, Any]:
    """Return the JSON object of one image (see :func:`info_json`)."""
    return {
        "path": str(image.path),
        "archive_member": image.archive_member,
        "sop_instance_uid": image.sop_instance_uid,
        "instance_number": image.instance_number,
        "laterality": image.image_laterality.value,
        "view": image.view.label,
        "view_code": image.view.view_code,
        "view_modifiers": list(image.view.modifiers),
        "rows": image.rows,
        "columns": image.columns,
        "number_of_frames": image.number_of_frames,
        "photometric_interpretation": image.photometric_interpretation,
        "transfer_syntax": {
            "uid": image.transfer_syntax_uid,
            "name": _syntax_name(image.transfer_syntax_uid),
        },
        "calibration": None
        if calibration is None
        else {
            "source": calibration.source.value,
            "row_spacing_mm": calibration.row_spacing_mm,
            "column_spacing_mm": calibration.column_spacing_mm,
            "magnification": calibration.magnification,
            "label": calibration.short_label(),
            "description": calibration.description,
            "problems": list(calibration.problems),
        },
    }


# --- render --------------------------------------------------------------------------------


def _render(args: argparse.Namespace) -> int:
    """Run ``galactoview render``."""
    # Imported here so that opening the viewer does not pay for Pillow.
    from galactoview.imaging.export import (
        RenderError,
        parse_window,
        read_dataset,
        render_image,
        write_png,
    )

    source: Path = args.file
    out: Path = args.out
    try:
        window = None if args.window is None else parse_window(args.window)
    except ValueError as exc:
        return _fail(source, f"bad --window: {exc}")
    if _same_file(source, out):
        return _fail(out, "refusing to overwrite the source DICOM file")
    try:
        ds = read_dataset(source)
        array = render_image(
            ds, frame=args.frame, window=window, auto=args.auto, max_size=args.max_size
        )
    except RenderError as exc:
        return _fail(source, str(exc))
    try:
        write_png(array, out)
    except OSError as exc:
        return _fail(out, f"cannot write the PNG: {exc.strerror or exc}")
    return 0


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name the same existing file."""
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def _fail(path: Path, message: str) -> int:
    """Print ``path: message`` on stderr and return the failure exit code."""
    print(f"{path}: {message}", file=sys.stderr)
    return EXIT_FAILURE


# --- sr ------------------------------------------------------------------------------------

#: Largest SR file (binary or DICOM JSON) ``sr`` reads; a larger one is refused unread.
MAX_SR_BYTES = 256 * 1024 * 1024


class _UnreadableError(Exception):
    """An input file cannot be read as an SR; the message follows the file name."""


def _sr(args: argparse.Namespace) -> int:
    """Run ``galactoview sr``."""
    if args.command == "export":
        return _sr_export(args.sidecar, args.out)
    if args.command == "import":
        return _sr_import(args.sr, args.study_dir)
    return _sr_show(args.file, args.json, args.images, args.no_images)


def _read_sr_bytes(path: Path) -> bytes:
    """Return the content of an SR file, never blocking on a FIFO or device.

    Read by :func:`galactoview.sr.sidecar.read_regular_file` (non-blocking
    open, ``fstat`` before reading, at most :data:`MAX_SR_BYTES`).

    Raises
    ------
    _UnreadableError
        When it is not a regular file, too large, or cannot be read.
    """
    from galactoview.files import NotARegularFileError, TooLargeError, read_regular_file

    try:
        return read_regular_file(path, MAX_SR_BYTES, what="SR")[0]
    except NotARegularFileError as exc:
        if stat.S_ISDIR(exc.mode):
            raise _UnreadableError("is a folder, not an SR file") from None
        raise _UnreadableError(
            "is not a regular file (a FIFO, device or socket); not read"
        ) from None
    except TooLargeError as exc:
        if exc.size is None:  # grew since it was checked
            raise _UnreadableError(
                f"is more than the {MAX_SR_BYTES >> 20} MiB an SR may have"
            ) from None
        raise _UnreadableError(
            f"is {exc.size / 2**20:.0f} MiB, more than the {MAX_SR_BYTES >> 20} MiB an SR "
            "may have; not read"
        ) from None
    except OSError as exc:
        raise _UnreadableError(f"cannot be read: {exc.strerror or exc}") from None
    except MemoryError:
        raise _UnreadableError("is too large to read into memory") from None


#: Explicit VRs with a reserved field and a 4-byte length (PS3.5 7.1.2, Table 7.1-1).
_LONG_VRS = frozenset(
    {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
)
_ITEM, _ITEM_END, _SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_UNDEFINED = 0xFFFFFFFF
_WALKED_SYNTAXES = {"1.2.840.10008.1.2": False, "1.2.840.10008.1.2.1": True}  # explicit?


def _element_header(data: bytes, pos: int, explicit: bool) -> tuple[int, bytes, int, int] | None:
    """Return (tag, VR, value length, header size) of the element at ``pos``; None if cut."""
    if len(data) - pos < 8:
        return None
    group, element = struct.unpack_from("<HH", data, pos)
    tag = group << 16 | element
    if group == 0xFFFE or not explicit:  # items and delimiters have no VR (PS3.5 7.5)
        return tag, b"", struct.unpack_from("<L", data, pos + 4)[0], 8
    vr = data[pos + 4 : pos + 6]
    if vr not in _LONG_VRS:
        return tag, vr, struct.unpack_from("<H", data, pos + 6)[0], 8
    if len(data) - pos < 12:
        return None
    return tag, vr, struct.unpack_from("<L", data, pos + 8)[0], 12


def _cut_short(data: bytes) -> str | None:
    """Return how a Part 10 file is cut short, ``None`` when it is whole or cannot be judged.

    pydicom stops reading silently where the data ends, so a truncated SR would read as
    a shorter one. This walks the elements (PS3.5 7.1) of a file in Implicit or Explicit
    VR Little Endian: every length must fit in the file and every undefined-length
    sequence and item must be closed by its delimitation item (PS3.5 7.5). Other
    transfer syntaxes, undefined-length elements other than SQ and odd bytes are not
    judged (``None``): only a certain truncation is reported.
    """
    if len(data) < 132 or data[128:132] != b"DICM":
        return None
    pos, syntax = 132, ""
    while True:  # file meta information: Explicit VR Little Endian, group 0002 (PS3.10 7.1)
        header = _element_header(data, pos, explicit=True)
        if header is None and pos < len(data):
            return "the file meta information is cut short"
        if header is None or header[0] >> 16 != 0x0002:
            break
        tag, _vr, length, size = header
        if length == _UNDEFINED or pos + size + length > len(data):
            return "the file meta information is cut short"
        if tag == 0x00020010:
            syntax = data[pos + size : pos + size + length].decode("ascii", "replace")
        pos += size + length
    explicit = _WALKED_SYNTAXES.get(syntax.rstrip("\0 "))
    if explicit is None:
        return None
    open_containers = 0  # undefined-length sequences and items still waiting for their end
    while pos < len(data):
        header = _element_header(data, pos, explicit)
        if header is None:
            return f"the data ends inside an element header at byte {pos}"
        tag, vr, length, size = header
        if explicit and tag >> 16 != 0xFFFE and not (vr.isalpha() and vr.isupper()):
            return None  # not an explicit VR: cannot be judged here
        pos += size
        if tag in (_ITEM_END, _SEQUENCE_END):
            open_containers -= 1
        elif length == _UNDEFINED:
            if explicit and tag != _ITEM and vr != b"SQ":
                return None  # undefined-length UN/OB: encoded otherwise inside
            open_containers += 1
        elif pos + length > len(data):
            return (
                f"element ({tag >> 16:04X},{tag & 0xFFFF:04X}) announces {length} bytes but "
                f"only {len(data) - pos} remain"
            )
        else:
            pos += length
        if open_containers < 0:
            return None  # a stray delimiter: malformed, not cut short
    if open_containers:
        return f"the data ends inside {open_containers} unterminated sequence(s) and item(s)"
    return None


def _read_sr(path: Path) -> Any:
    """Read a sidecar (DICOM JSON) or a binary SR file into a dataset.

    Raises
    ------
    _UnreadableError
        When the file is neither, whatever is wrong with it.
    """
    # Imported here: highdicom and the codec are slow to import and only ``sr`` needs them.
    from pydicom.errors import InvalidDicomError

    from galactoview.dicom.loading import HeaderRefusedError, read_dicom_bytes
    from galactoview.sr import sidecar, sr_codec

    data = _read_sr_bytes(path)
    if data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        try:
            text = sidecar.decode_sidecar(path, data)
        except sidecar.SidecarError as exc:
            raise _UnreadableError(exc.problem) from None
        except Exception as exc:  # RecursionError (deep nesting), MemoryError
            problem = sr_codec.describe_error(exc)
            raise _UnreadableError(f"is not a readable sidecar ({problem})") from None
        try:
            return sr_codec.from_json(text)
        except ValueError as exc:
            raise _UnreadableError(f"not a DICOM JSON dataset ({exc})") from None
    if not data:
        raise _UnreadableError("is empty, not an SR")
    short = _cut_short(data)
    if short is not None:
        raise _UnreadableError(f"is cut short ({short}); not read")
    try:
        return read_dicom_bytes(data)
    except HeaderRefusedError as exc:  # zeros or garbage where elements should be
        raise _UnreadableError(f"is not a readable DICOM file ({exc})") from None
    except InvalidDicomError:
        raise _UnreadableError(
            "is neither a DICOM file (no 'DICM' prefix, PS3.10 7.1) nor a DICOM JSON sidecar"
        ) from None
    except Exception as exc:  # untrusted bytes: pydicom raises many kinds
        raise _UnreadableError(
            f"neither a DICOM file nor a sidecar ({sr_codec.describe_error(exc)})"
        ) from None


@contextlib.contextmanager
def _warnings_as_problems(path: Path) -> Iterator[None]:
    """Print the warnings raised inside (pydicom's about bad values) as ``path: warning: ...``.

    One line each, once per message, instead of Python's two-line warning display.
    A ResourceWarning is not about the file (an unrelated object collected meanwhile,
    e.g. an unclosed temporary folder) and is not printed as the file's problem.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            yield
        finally:
            messages = dict.fromkeys(" ".join(str(w.message).split()) for w in caught)
            for message in messages:
                print(f"{path}: warning: {message}", file=sys.stderr)


def _decode_sr(path: Path) -> tuple[Any, Any]:
    """Read and decode an SR file; return (dataset, DecodeResult); problems go to stderr.

    Raises
    ------
    _UnreadableError
        When the file is unreadable or holds no TID 1500 SR.
    """
    from galactoview.sr import sr_codec

    with _warnings_as_problems(path):
        dataset = _read_sr(path)
        try:
            result = sr_codec.decode(dataset)
        except ValueError as exc:  # decode raises SRDecodeError only
            raise _UnreadableError(str(exc)) from None
    for problem in result.problems:
        print(f"{path}: {problem}", file=sys.stderr)
    return dataset, result


def _sr_export(source: Path, out: Path) -> int:
    """Run ``galactoview sr export``: sidecar -> binary Part 10 SR."""
    from galactoview.files import write_atomically
    from galactoview.sr import sr_codec

    if _same_file(source, out):
        return _fail(out, "refusing to overwrite the input file")
    try:
        dataset, _ = _decode_sr(source)
        with _warnings_as_problems(source):
            dataset = sr_codec.from_json(sr_codec.to_json(dataset))  # file meta rebuilt
    except _UnreadableError as exc:
        return _fail(source, str(exc))
    except Exception as exc:  # a value of a binary SR that has no DICOM JSON form
        return _fail(source, f"cannot be converted ({sr_codec.describe_error(exc)})")
    encoded = io.BytesIO()
    try:  # encoded first, so that nothing is created when it cannot be
        with _warnings_as_problems(source):
            dataset.save_as(encoded, enforce_file_format=True)
    except Exception as exc:  # e.g. a coordinate beyond the range of FL (pydicom: OSError)
        problem = sr_codec.describe_error(exc)
        return _fail(source, f"cannot be written as binary DICOM ({problem})")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _fail(out, f"cannot write the SR: cannot create its folder ({exc.strerror or exc})")
    try:
        # Mode 0666 less the umask, as any new file: a PACS sender may run as another user.
        write_atomically(out, lambda stream: stream.write(encoded.getbuffer()))
    except OSError as exc:
        return _fail(out, f"cannot write the SR: {exc.strerror or exc}")
    return 0


def _sr_import(source: Path, study_dir: Path) -> int:
    """Run ``galactoview sr import``: SR file -> the study's sidecar, never clobbering one.

    The sidecar goes where the viewer and ``report`` look for it: the study's images
    are found by scanning ``study_dir`` and :func:`persistence.open_annotations` (the
    viewer's rule) decides the folder. Nothing is written when the SR is not a TID 1500
    measurement report, holds no readable mark, or ``study_dir`` holds no image of its
    study.
    """
    from galactoview.annotations.document import ReplaceAnnotations, StudyDocument
    from galactoview.sr import sidecar, sr_codec
    from galactoview.sr.persistence import open_annotations

    if not study_dir.is_dir():
        return _fail(study_dir, "not a folder")
    try:
        dataset, result = _decode_sr(source)
    except _UnreadableError as exc:
        return _fail(source, str(exc))
    annotations = result.annotations
    if not (annotations.findings or annotations.duct_segments or annotations.landmarks):
        return _fail(
            source, "holds no readable mark (finding, duct segment or nipple); nothing imported"
        )
    try:
        with _warnings_as_problems(source):
            text = sr_codec.to_json(dataset)
        sidecar.decode_sidecar(source, text.encode("utf-8"))  # the viewer will load it
    except sidecar.SidecarError as exc:
        return _fail(source, f"cannot be stored as a sidecar: {exc.problem}")
    except Exception as exc:  # a value of a binary SR that has no DICOM JSON form
        return _fail(source, f"cannot be stored as a sidecar ({sr_codec.describe_error(exc)})")
    study_uid = annotations.study_instance_uid
    members = [r.path for r in scan([study_dir]).images if r.study_instance_uid == study_uid]
    if not members:
        return _fail(
            study_dir,
            f"holds no image of study {study_uid} (the SR's Study Instance UID), so the "
            "viewer would never find its sidecar; nothing imported",
        )
    try:
        opened = open_annotations(study_uid, members)
    except Exception as exc:  # e.g. an unreadable existing sidecar the reader chokes on
        return _fail(
            study_dir, f"the study's sidecar cannot be looked for ({sr_codec.describe_error(exc)})"
        )
    for problem in opened.problems:
        print(problem, file=sys.stderr)
    target = opened.target
    if target.notice:
        print(target.notice, file=sys.stderr)
    # The study's document, edited by the command the viewer would run: no change means
    # the sidecar already holds this SR revision (same marks, same SOP Instance UID).
    document = StudyDocument(opened.annotations)
    imported = document.execute(ReplaceAnnotations(annotations, "Import SR"))
    try:
        if target.fingerprint is not None and imported is None:
            print(f"{target.path}: already holds this SR; nothing written", file=sys.stderr)
            print(target.path)
            return 0
        if target.fingerprint is None and not target.alongside:
            sidecar.save(target.path, text, expected=None)
            written = target.path
        else:
            written = sidecar.save_alongside(target.path, text)
            print(
                f"{target.path}: the study already has a sidecar; it was kept and the SR was "
                f"written next to it as {written.name} (the viewer opens the newer revision "
                "of the two and lists the other)",
                file=sys.stderr,
            )
    except sidecar.SidecarError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAILURE
    except ValueError as exc:
        return _fail(source, str(exc))
    print(written)
    return 0


def _sr_show(source: Path, as_json: bool, images: Path | None, no_images: bool) -> int:
    """Run ``galactoview sr show`` on a sidecar, an SR file or a folder of studies."""
    from galactoview.sr.listing import image_labels, listing_json, listing_lines

    if source.is_dir():
        return _sr_show_folder(source, as_json, images, no_images)
    try:
        _, result = _decode_sr(source)
    except _UnreadableError as exc:
        return _fail(source, str(exc))
    labels = {}
    if not no_images:
        folder = images if images is not None else source.absolute().parent
        labels = image_labels(scan([folder]).images)
    annotations, locations = result.annotations, result.locations
    if as_json:
        document = listing_json(annotations, labels, locations)
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        for line in listing_lines(annotations, labels, locations):
            print(line)
    return 0


def _sr_show_folder(folder: Path, as_json: bool, images: Path | None, no_images: bool) -> int:
    """Show the sidecars of the studies in a folder, found as the viewer and ``report`` do.

    The folder is scanned like ``report PATH`` scans it; each study's sidecar is found
    and read by :func:`persistence.open_annotations`. Problems go to stderr; exit 1 when
    no study in the folder has a readable sidecar.
    """
    from galactoview.sr import sr_codec
    from galactoview.sr.listing import image_labels, listing_json, listing_lines
    from galactoview.sr.persistence import open_annotations

    found = scan([folder])
    _print_problems(found)
    labels = {}
    if not no_images:
        labels = image_labels(found.images if images is None else scan([images]).images)
    studies: dict[str, list[Path]] = {}
    for record in found.images:
        studies.setdefault(record.study_instance_uid, []).append(record.path)
    if not studies:
        return _fail(folder, "no DICOM image found, so no study whose sidecar could be shown")
    documents: list[dict[str, Any]] = []
    lines: list[str] = []
    for study_uid, paths in studies.items():
        try:
            opened = open_annotations(study_uid, paths)
        except Exception as exc:  # a Study Instance UID that cannot name a file, ...
            print(
                f"{paths[0]}: the sidecar of study {study_uid!r} cannot be looked for "
                f"({sr_codec.describe_error(exc)})",
                file=sys.stderr,
            )
            continue
        for problem in opened.problems:
            print(problem, file=sys.stderr)
        if opened.target.fingerprint is None or opened.target.alongside:
            continue  # no sidecar, or one that could not be read (said above)
        if as_json:
            document = listing_json(opened.annotations, labels, opened.locations)
            documents.append({"sidecar": str(opened.target.path), **document})
        else:
            if lines:
                lines.append("")
            lines.append(f"Sidecar {opened.target.path}")
            lines += listing_lines(opened.annotations, labels, opened.locations)
    if not (documents or lines):
        return _fail(folder, f"no sidecar found for the {len(studies)} study(ies) in it")
    if as_json:
        print(json.dumps(documents, indent=2, ensure_ascii=False))
    else:
        for line in lines:
            print(line)
    return 0


# --- report --------------------------------------------------------------------------------


def _report(args: argparse.Namespace) -> int:
    """Run ``galactoview report`` (Qt is imported here, not before)."""
    from galactoview.report.content import load_report

    out: Path = args.out
    if out.suffix.lower() != ".pdf":
        return _fail(out, "the report file must end in .pdf")
    for path in args.paths:
        if not path.exists():
            return _fail(path, "no such file or folder")
    loaded = load_report(args.paths, args.date or dt.date.today())
    for problem in loaded.problems:
        print(problem, file=sys.stderr)
    if not loaded.records:
        if loaded.problems:  # the scan already said why, naming each path
            return EXIT_FAILURE
        return _fail(args.paths[0], "no DICOM image found")
    if not loaded.content.studies:
        return _fail(args.paths[0], "no annotated study (no sidecar with findings) found")
    import gc

    # No cyclic collection while Qt paints: a collection inside a Qt call can deadlock
    # on Qt's signal-slot lock (see galactoview.app). Restored when the report is done.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _write_report(args, loaded, out)
    finally:
        if collecting:
            gc.enable()


def _write_report(args: argparse.Namespace, loaded: Any, out: Path) -> int:
    """Write the PDF (and ``--png`` key images) of a loaded report; Qt is imported here."""
    from galactoview.ui.review.report_pdf import write_key_images_png, write_report_pdf

    unrendered: list[str] = []  # one line per key image that cannot be rendered
    try:
        pages = write_report_pdf(loaded.content, loaded.records, out, unrendered)
    except OSError as exc:
        return _fail(out, f"cannot write the PDF: {exc}")
    _print_new(unrendered, [])
    print(f"{out}: {pages} page(s)")
    if args.png is not None:
        more: list[str] = []
        try:
            written = write_key_images_png(loaded.content, loaded.records, args.png, more)
        except OSError as exc:
            _print_new(more, unrendered)
            return _fail(args.png, f"cannot write the key images: {exc}")
        _print_new(more, unrendered)
        for path in written:
            print(path)
    return 0


def _print_new(lines: list[str], printed: list[str]) -> None:
    """Print each line on stderr once, unless it is among ``printed`` already."""
    for line in dict.fromkeys(lines):
        if line not in printed:
            print(line, file=sys.stderr)
