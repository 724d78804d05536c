"""Command line: ``galactoview [PATH ...]`` opens the viewer; subcommands work in batch.

Usage::

    galactoview [PATH ...]                 open the viewer (Qt is imported lazily)
    galactoview info PATH... [--json]      list images as Patient > Study > Series > Instance
    galactoview render FILE OUT.png [--frame N] [--window C,W | --auto] [--max-size PX]
                                           [--no-overlays]
    galactoview sr export SIDECAR OUT.dcm  annotation sidecar -> binary DICOM SR (Part 10)
    galactoview sr import SR.dcm STUDY_DIR binary (or JSON) TID 1500 SR -> the study's sidecar
    galactoview sr show SIDECAR_OR_SR|FOLDER [--json] [--images PATH | --no-images]
    galactoview report PATH... OUT.pdf [--png DIR] [--date YYYY-MM-DD]  surgeon's PDF report
    galactoview analyse PATH... [--json]   suggested duct trees, tree metrics, defect flags
    galactoview pacs echo|find|get|store (--url URL | --dimse AET@HOST:PORT) ...  PACS

A first argument that is exactly ``info``, ``render``, ``sr``, ``report``, ``analyse`` or
``pacs`` selects the subcommand; anything else is a path to open. To open a file or folder
literally named ``info``, ``render``, ``sr``, ``report``, ``analyse`` or ``pacs``, write it
as ``./info``. No module of
this package imports Qt or pyqtgraph at module level, so ``--help``, ``--version`` and the
subcommands work without a display.

One module per command, each with ``build_parser()`` and ``run(args)``:
:mod:`~galactoview.cli.open_window` (the viewer), :mod:`~galactoview.cli.info`,
:mod:`~galactoview.cli.render`, :mod:`~galactoview.cli.report`, :mod:`~galactoview.cli.analyse`,
:mod:`~galactoview.cli.pacs`,
:mod:`~galactoview.cli.sr` (which hands ``export``, ``import`` and ``show`` to
:mod:`~galactoview.cli.sr_export`, :mod:`~galactoview.cli.sr_import` and
:mod:`~galactoview.cli.sr_show`; they read SRs through :mod:`~galactoview.cli.sr_reading`);
:mod:`~galactoview.cli.common` holds what they share.

Errors about a file are printed as one line ``path: message`` on stderr. Exit codes:
0 success, 1 nothing readable / the image could not be rendered or written, 2 usage error
(``pacs`` adds 3: the node could not be reached or refused us).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from galactoview.cli import analyse, info, open_window, pacs, render, report, sr
from galactoview.cli.common import exit_code, run_subcommand
from galactoview.cli.info import info_json

__all__ = [
    "SUBCOMMANDS",
    "build_analyse_parser",
    "build_info_parser",
    "build_parser",
    "build_render_parser",
    "build_report_parser",
    "build_sr_parser",
    "info_json",
    "main",
]

#: The parser of the viewer, ``galactoview [PATH ...]``.
build_parser = open_window.build_parser
build_info_parser = info.build_parser
build_render_parser = render.build_parser
build_sr_parser = sr.build_parser
build_report_parser = report.build_parser
build_analyse_parser = analyse.build_parser

#: First word of the command line -> (parser, command) of a batch subcommand.
_COMMANDS: dict[
    str,
    tuple[Callable[[], argparse.ArgumentParser], Callable[[argparse.Namespace], int]],
] = {
    "info": (info.build_parser, info.run),
    "render": (render.build_parser, render.run),
    "sr": (sr.build_parser, sr.run),
    "report": (report.build_parser, report.run),
    "analyse": (analyse.build_parser, analyse.run),
    "pacs": (pacs.build_parser, pacs.run),
}

#: First words of the command line that select a batch subcommand instead of the viewer.
SUBCOMMANDS = tuple(_COMMANDS)


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
    if args_list and args_list[0] in _COMMANDS:
        build, run = _COMMANDS[args_list[0]]
        return run_subcommand(build(), args_list[1:], run)
    try:
        args = open_window.build_parser().parse_args(args_list)
    except SystemExit as exc:  # --help, --version and usage errors
        return exit_code(exc)
    return open_window.run(args)
