"""The one way GalactoView writes and reads its own files: atomic replace, non-blocking read.

Every file the application writes — annotation sidecars and their backups, the pixel
cache, PNG renderings, exported SR objects, PDF reports — goes through this module, so
a crash, a full disk or a killed process never leaves a half-written file where a good
one was (the brief's rule 4):

* :func:`write_atomically` writes to a new temporary file ``.<name>.<random>.tmp`` in the
  target's folder (created exclusively, mode ``0o666`` less the umask, as ``open(path,
  "wb")`` would, or the mode of the file it replaces), flushes and fsyncs it, moves it
  over the target with :func:`os.replace` (atomic on POSIX and NTFS) and fsyncs the
  folder where the platform allows; on failure the temporary is removed and the target
  is as before.
* :func:`replacing` does the same for writers that want a *path* rather than a stream
  (Qt's PDF and image writers).
* :func:`write_temporary` and :func:`put_in_place` are the two halves, for a writer
  that must check something between them (the sidecar's compare-and-swap, which keeps
  the previous version as ``.bak``).
* :func:`read_regular_file` reads a file in one consistent read, refusing FIFOs,
  devices and folders without blocking, and files larger than a limit.

Why by hand: the standard library has no atomic replace-with-fsync (``tempfile``
creates files with mode ``0o600`` and does not fsync the folder), and the maintained
packages that do (``atomicwrites``) are archived. This module is Qt-free and the lowest
layer of the package: it imports nothing from GalactoView.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, Final

__all__ = [
    "NotARegularFileError",
    "TooLargeError",
    "WriteFileError",
    "create_exclusive",
    "file_kind",
    "fsync_folder",
    "put_in_place",
    "read_regular_file",
    "replacing",
    "write_atomically",
    "write_temporary",
]

#: Attempts at a free temporary name before giving up (each name has 48 random bits).
_TEMPORARY_ATTEMPTS: Final = 100

_EXCLUSIVE_FLAGS: Final = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
)


class WriteFileError(OSError):
    """A file cannot be created or put in place; the message says where and why.

    E.g. ``the folder /proc does not accept a new file (No such file or directory)``,
    one line, for ``path: cannot write ...: <message>``. Its ``strerror`` is the message.
    """

    def __init__(self, message: str, cause: OSError) -> None:
        super().__init__(cause.errno, message)

    def __str__(self) -> str:
        return str(self.strerror)


class NotARegularFileError(OSError):
    """Something other than a regular file (a folder, FIFO, socket, device) is at a path.

    Attributes
    ----------
    mode
        Its ``st_mode``, for callers that word the message themselves.
    """

    def __init__(self, mode: int, message: str) -> None:
        super().__init__(0, message)
        self.mode = mode


class TooLargeError(OSError):
    """A file is larger than the limit it was read with.

    Attributes
    ----------
    size
        Its size in bytes (``None`` when it grew while being read).
    """

    def __init__(self, size: int | None, message: str) -> None:
        super().__init__(0, message)
        self.size = size


# --- writing ---------------------------------------------------------------------------------


def create_exclusive(folder: Path, name: str) -> tuple[int, Path]:
    """Create ``folder/.<name>.<random>.tmp`` exclusively, mode ``0o666`` less the umask.

    Parameters
    ----------
    folder
        Where; the target's folder, so that :func:`os.replace` stays on one filesystem.
    name
        The target's file name.

    Returns
    -------
    tuple
        An open write-only descriptor and the temporary's path.

    Raises
    ------
    WriteFileError
        If the folder does not accept a new file.
    """
    for _ in range(_TEMPORARY_ATTEMPTS):
        temporary = folder / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(temporary, _EXCLUSIVE_FLAGS, 0o666), temporary
        except FileExistsError:  # pragma: no cover - 48 random bits
            continue
        except OSError as exc:
            if not folder.is_dir():
                where = "does not exist" if not folder.exists() else "is not a folder"
                raise WriteFileError(f"{folder} {where}", exc) from exc
            raise WriteFileError(
                f"the folder {folder} does not accept a new file ({exc.strerror or exc})", exc
            ) from exc
    raise WriteFileError(  # pragma: no cover - a hundred collisions of 48 random bits
        f"the folder {folder} has no free temporary name",
        FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST)),
    )


def write_temporary(
    path: Path,
    write: Callable[[BinaryIO], object],
    *,
    durable: bool = True,
    keep_mode: bool = False,
) -> tuple[Path, int]:
    """Write a new temporary file next to ``path`` through ``write``, flushed and fsynced.

    The temporary has mode ``0o666`` less the umask, as a new file from ``open()``;
    with ``keep_mode`` it gets the mode of the file at ``path`` when there is one (so a
    shared sidecar stays readable by the other workstations).

    Parameters
    ----------
    path
        The file the temporary will replace (:func:`put_in_place`).
    write
        Writes the content to the binary stream it is given.
    durable
        ``False`` skips the fsync: for caches, whose entries may be lost in a power
        cut (a torn entry is then detected and dropped by its reader).
    keep_mode
        Give the temporary the permissions of the file it replaces.

    Returns
    -------
    tuple
        The temporary's path and its modification time in ns (kept by the rename).

    Raises
    ------
    WriteFileError
        If the folder does not accept a new file.
    OSError
        Whatever ``write`` (or the disk) raises; the temporary is removed.
    """
    folder = path.parent if str(path.parent) else Path(".")
    descriptor, temporary = create_exclusive(folder, path.name)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            write(stream)
            stream.flush()
            if durable:
                os.fsync(stream.fileno())
            mtime_ns = os.fstat(stream.fileno()).st_mtime_ns
        if keep_mode:
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                os.chmod(temporary, stat.S_IMODE(os.stat(path).st_mode))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return temporary, mtime_ns


def put_in_place(temporary: Path, path: Path, *, durable: bool = True) -> None:
    """Move ``temporary`` over ``path`` atomically and make the rename durable.

    Raises
    ------
    WriteFileError
        If the target cannot be replaced (e.g. a folder is there); the temporary is
        removed.
    """
    try:
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise WriteFileError(
            f"cannot put the new file in place of {path} ({exc.strerror or exc})", exc
        ) from exc
    if durable:
        fsync_folder(path.parent if str(path.parent) else Path("."))


def write_atomically(
    path: Path,
    write: Callable[[BinaryIO], object],
    *,
    durable: bool = True,
    keep_mode: bool = False,
) -> None:
    """Create or replace a file atomically (:func:`write_temporary` + :func:`put_in_place`).

    Parameters
    ----------
    path
        The file to create or replace.
    write
        Writes the content to the binary stream it is given.
    durable
        ``False`` for caches: no fsync (see :func:`write_temporary`).
    keep_mode
        Keep the permissions of the file replaced (see :func:`write_temporary`).

    Raises
    ------
    WriteFileError
        If the folder does not accept a new file, or the target cannot be replaced.
    OSError
        Whatever ``write`` (or the disk) raises while writing, unchanged; the target is
        as before and no temporary is left.
    """
    temporary, _ = write_temporary(path, write, durable=durable, keep_mode=keep_mode)
    put_in_place(temporary, path, durable=durable)


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Give a temporary path to write ``path``'s new content to; put it in place on success.

    For writers that take a file name (``QPdfWriter``, ``QImage.save``). The temporary
    exists (empty) when the block starts; when the block raises, it is removed and the
    target is as before.

    Yields
    ------
    Path
        The temporary file to write to.

    Raises
    ------
    WriteFileError
        If the folder does not accept a new file, or the target cannot be replaced.
    """
    temporary, _ = write_temporary(path, lambda stream: None)
    try:
        yield temporary
        with open(temporary, "rb+") as stream:
            os.fsync(stream.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    put_in_place(temporary, path)


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX); a no-op where folders cannot be opened."""
    if os.name != "posix":  # Windows: NTFS journals the rename; folders cannot be fsynced.
        return
    try:
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):  # some filesystems (e.g. network) refuse: EINVAL
            os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- reading ---------------------------------------------------------------------------------


def file_kind(mode: int) -> str:
    """Return what a non-regular file is, for messages."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def read_regular_file(path: Path, max_bytes: int, *, what: str = "file") -> tuple[bytes, int]:
    """Return the content and modification time of one consistent read of ``path``.

    Opened with ``O_NONBLOCK`` and checked with ``fstat`` before reading, so a FIFO or
    device at the path is refused instead of blocking, and a folder is named as such.

    Parameters
    ----------
    path
        The file.
    max_bytes
        Largest size read.
    what
        What the file should be, for messages ("sidecar", "SR file").

    Raises
    ------
    NotARegularFileError
        When ``path`` is not a regular file.
    TooLargeError
        When it is larger than ``max_bytes``.
    OSError
        When it cannot be opened or read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    descriptor = os.open(path, flags)
    try:
        status = os.fstat(descriptor)
    except BaseException:
        os.close(descriptor)
        raise
    if not stat.S_ISREG(status.st_mode):
        os.close(descriptor)
        raise NotARegularFileError(
            status.st_mode, f"{file_kind(status.st_mode)} is in the way, not a {what} file"
        )
    if status.st_size > max_bytes:
        os.close(descriptor)
        raise TooLargeError(
            status.st_size,
            f"is {status.st_size} bytes, more than any {what} ({max_bytes >> 20} MiB); not read",
        )
    with open(descriptor, "rb", closefd=True) as stream:
        data = stream.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise TooLargeError(None, f"grew past {max_bytes >> 20} MiB while read")
        return data, status.st_mtime_ns
