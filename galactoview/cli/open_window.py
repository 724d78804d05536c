"""The viewer: ``galactoview [PATH ...] [--review]`` opens the main window (Qt imported lazily)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from galactoview import __version__
from galactoview.cli.common import EXIT_FAILURE, EXIT_USAGE, PROG, print_problems
from galactoview.dicom.loading import ScanResult, scan
from galactoview.paths import SampleStudyError, sample_study_copy

__all__ = ["build_parser", "launch", "run"]

_EPILOG = """\
batch subcommands (see 'galactoview COMMAND --help'):
  galactoview info PATH... [--json]
  galactoview render FILE OUT.png [--frame N] [--window C,W | --auto] [--max-size PX]
  galactoview sr export SIDECAR OUT.dcm
  galactoview sr import SR.dcm STUDY_DIR
  galactoview sr show SIDECAR_OR_SR|FOLDER [--json]
  galactoview report PATH... OUT.pdf [--png DIR] [--date YYYY-MM-DD]
  galactoview analyse PATH... [--json]
  galactoview pacs echo|find|get|store ...

A PATH literally named 'info', 'render', 'sr', 'report', 'analyse' or 'pacs' must be
written as ./info, ./render, ./sr, ./report, ./analyse or ./pacs.
"""


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``galactoview`` command (the viewer).

    Returns
    -------
    argparse.ArgumentParser
        The parser for ``galactoview [PATH ...]``; the subcommands have their own
        parsers (``build_parser`` of each subcommand module), chosen by
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
    parser.add_argument(
        "--pacs",
        action="store_true",
        help="start with no study open and the Query/Retrieve panel shown (File → Query/Retrieve…)",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Open the viewer on ``args.paths`` (the sample's per-user copy when none).

    Returns
    -------
    int
        The GUI's exit code; 1 when the sample's per-user copy cannot be made, 2 when
        no path is given and there is no sample study.
    """
    paths: list[Path] = list(args.paths)
    if args.pacs and not paths:
        return launch([], ScanResult(), pacs=True)
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
    print_problems(result)
    return launch(paths, result, review=bool(args.review), pacs=bool(args.pacs))


def launch(
    paths: Sequence[Path], result: ScanResult, *, review: bool = False, pacs: bool = False
) -> int:
    """Open the main window (imports Qt now, not before), in review mode if asked."""
    from galactoview.app import run_gui  # lazy: keeps the CLI Qt-free

    return run_gui(list(paths), result, review=review, pacs=pacs)
