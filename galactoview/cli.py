"""Command line: ``galactoview [PATH ...]`` opens the viewer (Qt is imported lazily).

This module never imports Qt or pyqtgraph at module level, so ``--help``,
``--version`` and future batch subcommands work without a display.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from galactoview import __version__
from galactoview.dicom.loading import ScanResult, scan
from galactoview.paths import sample_dicom_dir

__all__ = ["build_parser", "main"]

PROG = "galactoview"

#: Exit code for a usage error (as argparse uses).
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``galactoview`` command.

    Returns
    -------
    argparse.ArgumentParser
        The parser. Batch subcommands (``info``, ``render``, ...) will be added
        here as subparsers; the default remains opening the viewer.
    """
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "DICOM viewer for galactography (ductography). Opens the given DICOM files "
            "and folders (searched recursively), or the bundled sample study."
        ),
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="DICOM file or folder to open (default: the sample study)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``galactoview`` command.

    Parameters
    ----------
    argv
        Arguments without the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        Exit code: 0 on success, 2 on a usage error (including a missing sample
        study when no path is given), else the GUI's exit code.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    paths: list[Path] = list(args.paths)
    if not paths:
        sample = sample_dicom_dir()
        if not sample.is_dir():
            print(
                f"{PROG}: error: no PATH given and the sample study {sample} does not exist;"
                " pass DICOM files or folders",
                file=sys.stderr,
            )
            return EXIT_USAGE
        paths = [sample]
    result = scan(paths)
    _print_problems(result)
    return _open_window(paths, result)


def _print_problems(result: ScanResult) -> None:
    """Print one line per problem to stderr: ``path: message``."""
    for problem in result.problems:
        print(f"{problem.path}: {problem.message}", file=sys.stderr)


def _open_window(paths: Sequence[Path], result: ScanResult) -> int:
    """Open the main window (imports Qt now, not before)."""
    from galactoview.app import run_gui  # lazy: keeps the CLI Qt-free

    return run_gui(list(paths), result)
