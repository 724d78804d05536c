"""Reading an SR for the ``sr`` subcommands: a sidecar (DICOM JSON) or a binary SR, guarded."""

from __future__ import annotations

import contextlib
import stat
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["MAX_SR_BYTES", "UnreadableError", "decode_sr", "warnings_as_problems"]

#: Largest SR file (binary or DICOM JSON) ``sr`` reads; a larger one is refused unread.
MAX_SR_BYTES = 256 * 1024 * 1024


class UnreadableError(Exception):
    """An input file cannot be read as an SR; the message follows the file name."""


def _read_sr_bytes(path: Path) -> bytes:
    """Return the content of an SR file, never blocking on a FIFO or device.

    Read by :func:`galactoview.files.read_regular_file` (non-blocking
    open, ``fstat`` before reading, at most :data:`MAX_SR_BYTES`).

    Raises
    ------
    UnreadableError
        When it is not a regular file, too large, or cannot be read.
    """
    from galactoview.files import NotARegularFileError, TooLargeError, read_regular_file

    try:
        return read_regular_file(path, MAX_SR_BYTES, what="SR")[0]
    except NotARegularFileError as exc:
        if stat.S_ISDIR(exc.mode):
            raise UnreadableError("is a folder, not an SR file") from None
        raise UnreadableError(
            "is not a regular file (a FIFO, device or socket); not read"
        ) from None
    except TooLargeError as exc:
        if exc.size is None:  # grew since it was checked
            raise UnreadableError(
                f"is more than the {MAX_SR_BYTES >> 20} MiB an SR may have"
            ) from None
        raise UnreadableError(
            f"is {exc.size / 2**20:.0f} MiB, more than the {MAX_SR_BYTES >> 20} MiB an SR "
            "may have; not read"
        ) from None
    except OSError as exc:
        raise UnreadableError(f"cannot be read: {exc.strerror or exc}") from None
    except MemoryError:
        raise UnreadableError("is too large to read into memory") from None


def read_sr(path: Path) -> Any:
    """Read a sidecar (DICOM JSON) or a binary SR file into a dataset.

    Raises
    ------
    UnreadableError
        When the file is neither, whatever is wrong with it.
    """
    # Imported here: highdicom and the codec are slow to import and only ``sr`` needs them.
    from pydicom.errors import InvalidDicomError

    from galactoview.dicom.loading import HeaderRefusedError, cut_short, read_dicom_bytes
    from galactoview.sr import sidecar, sr_codec

    data = _read_sr_bytes(path)
    if data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        try:
            text = sidecar.decode_sidecar(path, data)
        except sidecar.SidecarError as exc:
            raise UnreadableError(exc.problem) from None
        except Exception as exc:  # RecursionError (deep nesting), MemoryError
            problem = sr_codec.describe_error(exc)
            raise UnreadableError(f"is not a readable sidecar ({problem})") from None
        try:
            return sr_codec.from_json(text)
        except ValueError as exc:
            raise UnreadableError(f"not a DICOM JSON dataset ({exc})") from None
    if not data:
        raise UnreadableError("is empty, not an SR")
    short = cut_short(data)
    if short is not None:
        raise UnreadableError(f"is cut short ({short}); not read")
    try:
        return read_dicom_bytes(data)
    except HeaderRefusedError as exc:  # zeros or garbage where elements should be
        raise UnreadableError(f"is not a readable DICOM file ({exc})") from None
    except InvalidDicomError:
        raise UnreadableError(
            "is neither a DICOM file (no 'DICM' prefix, PS3.10 7.1) nor a DICOM JSON sidecar"
        ) from None
    except Exception as exc:  # untrusted bytes: pydicom raises many kinds
        raise UnreadableError(
            f"neither a DICOM file nor a sidecar ({sr_codec.describe_error(exc)})"
        ) from None


@contextlib.contextmanager
def warnings_as_problems(path: Path) -> Iterator[None]:
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


def decode_sr(path: Path) -> tuple[Any, Any]:
    """Read and decode an SR file; return (dataset, DecodeResult); problems go to stderr.

    Raises
    ------
    UnreadableError
        When the file is unreadable or holds no TID 1500 SR.
    """
    from galactoview.sr import sr_codec

    with warnings_as_problems(path):
        dataset = read_sr(path)
        try:
            result = sr_codec.decode(dataset)
        except ValueError as exc:  # decode raises SRDecodeError only
            raise UnreadableError(str(exc)) from None
    for problem in result.problems:
        print(f"{path}: {problem}", file=sys.stderr)
    return dataset, result
