"""``galactoview report PATH... OUT.pdf [--png DIR]``: the galactography report (Qt lazily)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from galactoview.cli.common import EXIT_FAILURE, PROG, fail, iso_date

if TYPE_CHECKING:
    from galactoview.report.content import LoadedReport

__all__ = ["build_parser", "run"]


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``galactoview report``."""
    parser = argparse.ArgumentParser(
        prog=f"{PROG} report",
        description=(
            "Write the galactography report of the annotated studies as a PDF (A4), the "
            "same as the window's File → Export: page 1 the radiologist's report (header, "
            "indication, technique with the cannulated orifice, comparison, the findings "
            "table: side, o'clock, quadrant, cm from the nipple, depth in cm and third, "
            "size with a calibration footnote; impression, BI-RADS category, "
            "recommendations, addendum, and the signature block, or a DRAFT watermark "
            "when the SR revision is not signed); then the surgeon's page (clock faces, "
            "depth schematics, the nipple diagram with the orifice, the traced ducts to "
            "each lesion); then the key images with the marks burned in. Reader, date and "
            "SR SOP Instance UID on every page. Each study's annotations, report and "
            "signature are read from its sidecar (else the SR beside its images). Exit "
            "status: 0 written, 1 nothing annotated or not written, 2 usage error."
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
        type=iso_date,
        metavar="YYYY-MM-DD",
        help="report date printed on the pages (default: today)",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``galactoview report`` (Qt is imported here, not before)."""
    from galactoview.report.content import load_report

    out: Path = args.out
    if out.suffix.lower() != ".pdf":
        return fail(out, "the report file must end in .pdf")
    for path in args.paths:
        if not path.exists():
            return fail(path, "no such file or folder")
    loaded = load_report(args.paths, args.date or dt.date.today())
    for problem in loaded.problems:
        print(problem, file=sys.stderr)
    if not loaded.records:
        if loaded.problems:  # the scan already said why, naming each path
            return EXIT_FAILURE
        return fail(args.paths[0], "no DICOM image found")
    if not loaded.content.studies:
        return fail(args.paths[0], "no annotated study (no sidecar with findings) found")
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


def _write_report(args: argparse.Namespace, loaded: LoadedReport, out: Path) -> int:
    """Write the PDF (and ``--png`` key images) of a loaded report; Qt is imported here."""
    from galactoview.ui.review.report_pdf import (
        offscreen_application,
        write_key_images_png,
        write_report_pdf,
    )

    application = offscreen_application()  # kept alive while the report is painted
    unrendered: list[str] = []  # one line per key image that cannot be rendered
    try:
        pages = write_report_pdf(loaded.content, loaded.records, out, unrendered)
    except OSError as exc:
        return fail(out, f"cannot write the PDF: {exc}")
    _print_new(unrendered, [])
    print(f"{out}: {pages} page(s)")
    if args.png is not None:
        more: list[str] = []
        try:
            written = write_key_images_png(loaded.content, loaded.records, args.png, more)
        except OSError as exc:
            _print_new(more, unrendered)
            return fail(args.png, f"cannot write the key images: {exc}")
        _print_new(more, unrendered)
        for path in written:
            print(path)
    del application
    return 0


def _print_new(lines: list[str], printed: list[str]) -> None:
    """Print each line on stderr once, unless it is among ``printed`` already."""
    for line in dict.fromkeys(lines):
        if line not in printed:
            print(line, file=sys.stderr)
