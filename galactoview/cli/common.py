"""What the subcommands share: exit codes, argument types, one-line problems (Qt-free)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Callable
from pathlib import Path

from galactoview.dicom.loading import ScanResult

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_FAILURE",
    "EXIT_USAGE",
    "PROG",
    "exit_code",
    "fail",
    "iso_date",
    "positive_int",
    "print_problems",
    "run_subcommand",
    "same_file",
]

PROG = "galactoview"

#: Exit code when nothing could be read, rendered or written.
EXIT_FAILURE = 1
#: Exit code for a usage error (as argparse uses).
EXIT_USAGE = 2
#: Exit code when the reader of the output went away (128 + SIGPIPE).
EXIT_BROKEN_PIPE = 141


def run_subcommand(
    parser: argparse.ArgumentParser,
    argv: list[str],
    run: Callable[[argparse.Namespace], int],
) -> int:
    """Parse a subcommand's arguments and run it; argparse exits become return codes.

    Output piped into a reader that stops early (``galactoview sr show … | head``) ends the
    command quietly with 141 (128 + SIGPIPE, as a shell reports it), no traceback: stdout
    is pointed at /dev/null so the interpreter's final flush cannot fail again (the recipe
    of Python's ``signal`` documentation, "Note on SIGPIPE").
    """
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exit_code(exc)
    try:
        code = run(args)
        sys.stdout.flush()  # here, not at exit, where a broken pipe could not be caught
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return code


def exit_code(exc: SystemExit) -> int:
    """Return the exit code argparse wanted (2 for usage errors)."""
    return exc.code if isinstance(exc.code, int) else EXIT_USAGE


def positive_int(text: str) -> int:
    """Argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid positive integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def iso_date(text: str) -> dt.date:
    """Argparse type: a date written YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def print_problems(result: ScanResult) -> None:
    """Print one line per problem to stderr: ``path: message``."""
    for problem in result.problems:
        print(problem, file=sys.stderr)


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name the same existing file."""
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def fail(path: Path, message: str) -> int:
    """Print ``path: message`` on stderr and return the failure exit code."""
    print(f"{path}: {message}", file=sys.stderr)
    return EXIT_FAILURE
