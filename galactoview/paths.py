"""Where GalactoView finds its bundled files, and the per-user copy of the sample (Qt-free).

The sample study opens from a copy
-----------------------------------
``galactoview`` with no path (``make run``) never opens ``sample_data/dicom`` of the
source checkout in place: a mark would rewrite the tracked sidecar and add a ``.bak``
to the repository. It opens a **per-user copy** instead (:func:`sample_study_copy`)::

    platformdirs.user_data_path("GalactoView") / "sample-study" / <content hash>/

``<content hash>`` is the first 16 hexadecimal digits of the SHA-256 of the
``dicom/`` lines of ``sample_data/SHA256SUMS``, so a changed sample gets a new copy.

Decision: **the reader's marks on the copy are kept between runs** (it is a place to
try marking, and the sidecar is saved there like any study's), **until the sample
itself changes** (a new content hash: a fresh copy; the old one is left where it is).
At every start the copy is checked against ``SHA256SUMS``: every image must be there
with its checksum, and the sidecar must be there (its content is the reader's, so it
is not compared). A missing, damaged or incomplete copy is made again from
``sample_data/dicom``, carrying over every file of the old copy that is not one of
the images (the reader's sidecar, its ``.bak``, "keep both" copies); a missing sidecar
comes back as the sample's own. The copy is made in a temporary folder beside the
target and renamed into place, so a crash never leaves a half copy under the final
name. A sample file of the checkout that differs from ``SHA256SUMS`` is refused (with
the file named) rather than copied.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import platformdirs

from galactoview.sr.sidecar import APP_NAME, SIDECAR_PREFIX, SIDECAR_SUFFIX

__all__ = [
    "SampleStudyError",
    "sample_checksums",
    "sample_copies_dir",
    "sample_data_dir",
    "sample_dicom_dir",
    "sample_study_copy",
]

#: Repository root when running from a source checkout (the package's parent folder).
_SOURCE_ROOT = Path(__file__).resolve().parent.parent
#: The checksum list of the sample, in ``sample_data/``.
_CHECKSUMS: Final = "SHA256SUMS"
#: Prefix of the sample's DICOM files in the checksum list.
_DICOM_PREFIX: Final = "dicom/"
#: Hexadecimal digits of the content hash that names a copy.
_KEY_LENGTH: Final = 16


class SampleStudyError(Exception):
    """The sample study cannot be opened; the message says what is wrong.

    Parameters
    ----------
    message
        What is wrong, naming the file or folder.
    missing
        True when there is no sample study at all (a pip-installed GalactoView).
    """

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


def sample_data_dir() -> Path:
    """Return the folder holding the bundled synthetic sample study and its ground truth.

    Returns
    -------
    Path
        ``sample_data/`` of the source checkout. It is not part of the wheel: a
        pip-installed GalactoView has no sample study and must be given paths.
    """
    return _SOURCE_ROOT / "sample_data"


def sample_dicom_dir() -> Path:
    """Return the folder holding only the sample DICOM files (``sample_data/dicom``).

    This is the repository's own copy: read it, never open it in the viewer (a mark
    would be saved into it) — :func:`sample_study_copy` gives the folder to open.
    """
    return sample_data_dir() / "dicom"


def sample_copies_dir() -> Path:
    """Return the per-user folder that holds copies of the sample study.

    Returns
    -------
    Path
        ``platformdirs.user_data_path("GalactoView") / "sample-study"`` (not created).
    """
    return platformdirs.user_data_path(APP_NAME) / "sample-study"


def sample_checksums(data: Path) -> dict[str, str]:
    """Return the SHA-256 of every sample DICOM file, from ``data/SHA256SUMS``.

    Parameters
    ----------
    data
        A ``sample_data/`` folder.

    Returns
    -------
    dict of str to str
        Path relative to ``data/dicom`` (``/``-separated) → lower-case hex digest,
        for the lines of the ``sha256sum`` format whose path starts with ``dicom/``.

    Raises
    ------
    SampleStudyError
        When the list cannot be read, a line is malformed, a path would leave the
        folder, or no DICOM file is listed.
    """
    path = data / _CHECKSUMS
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SampleStudyError(f"{path}: cannot be read ({error})") from None
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        digest, _, name = line.partition("  ")
        name = name.removeprefix("*")
        parts = name.split("/")
        if (
            len(digest) != 64
            or any(c not in "0123456789abcdef" for c in digest)
            or not name
            or any(part in {"", ".", ".."} for part in parts)
        ):
            raise SampleStudyError(f"{path}: line {number} is not '<sha256>  <relative path>'")
        if name.startswith(_DICOM_PREFIX):
            sums[name.removeprefix(_DICOM_PREFIX)] = digest
    if not sums:
        raise SampleStudyError(f"{path}: lists no file under {_DICOM_PREFIX}")
    return sums


def sample_study_copy(data: Path | None = None, copies: Path | None = None) -> Path:
    """Return the per-user copy of the sample study, making it when missing or damaged.

    What is kept and when the copy is made again is described in the module
    docstring: the reader's marks stay in the copy between runs until the sample
    changes; images that differ from ``SHA256SUMS`` (or anything missing) make it
    be copied again, atomically, with the reader's sidecar carried over.

    Parameters
    ----------
    data
        The ``sample_data/`` folder; :func:`sample_data_dir` when None.
    copies
        Where the copies live; :func:`sample_copies_dir` when None.

    Returns
    -------
    Path
        ``copies/<content hash>``: a folder laid out like ``sample_data/dicom``.

    Raises
    ------
    SampleStudyError
        ``missing`` is set when there is no sample study; otherwise the checksum
        list is unreadable, a sample file differs from it, or the copy cannot be
        written (the message names the file).
    """
    data = sample_data_dir() if data is None else data
    copies = sample_copies_dir() if copies is None else copies
    source = data / "dicom"
    if not source.is_dir():
        raise SampleStudyError(f"the sample study {source} does not exist", missing=True)
    sums = sample_checksums(data)
    listing = "".join(f"{digest}  {name}\n" for name, digest in sorted(sums.items()))
    key = hashlib.sha256(listing.encode()).hexdigest()[:_KEY_LENGTH]
    target = copies / key
    if _copy_problem(target, sums) is None:
        return target
    try:
        _make_copy(source, data / _CHECKSUMS, sums, target)
    except OSError as error:
        problem = f"the sample study could not be copied to {target}: {error}"
        raise SampleStudyError(problem) from None
    return target


def _is_readers_file(name: str) -> bool:
    """Return whether a listed file is a sidecar: its content belongs to the reader."""
    base = name.rpartition("/")[2]
    return base.startswith(SIDECAR_PREFIX) and base.endswith(SIDECAR_SUFFIX)


def _sha256(path: Path) -> str:
    """Return the hex SHA-256 of a regular file's bytes."""
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _copy_problem(folder: Path, sums: Mapping[str, str]) -> str | None:
    """Return what is wrong with a copy of the sample (``path: problem``), None if intact."""
    for name, digest in sums.items():
        path = folder / name
        if path.is_symlink() or not path.is_file():
            return f"{path}: missing"
        if _is_readers_file(name):
            continue  # the reader's marks: present is enough
        try:
            if _sha256(path) != digest:
                return f"{path}: differs from the sample"
        except OSError as error:
            return f"{path}: {error}"
    return None


def _make_copy(source: Path, checksums: Path, sums: Mapping[str, str], target: Path) -> None:
    """Copy the sample into a temporary folder, carry the reader's files over, rename it.

    Raises
    ------
    SampleStudyError
        When a sample file of the checkout differs from ``SHA256SUMS``.
    OSError
        When the copy cannot be written.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    replaced: Path | None = None
    try:
        for name, digest in sums.items():
            copied = partial / name
            copied.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / name, copied)
            if _sha256(copied) != digest:
                raise SampleStudyError(
                    f"{source / name} differs from {checksums} (restore it with"
                    " git checkout -- sample_data)"
                )
        carried_all = True
        if target.exists() or target.is_symlink():
            carried_all = _carry_over(target, partial, sums)
            replaced = Path(tempfile.mkdtemp(prefix=f".{target.name}.replaced-", dir=target.parent))
            os.replace(target, replaced / "copy")
        try:
            os.rename(partial, target)
        except OSError:
            if _copy_problem(target, sums) is not None:
                raise
            # Another GalactoView made the copy meanwhile: use that one.
        if replaced is not None and carried_all:
            shutil.rmtree(replaced, ignore_errors=True)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _carry_over(old: Path, new: Path, sums: Mapping[str, str]) -> bool:
    """Copy the reader's files of an old copy into a new one; return whether all were.

    Every regular file of ``old`` that is not one of the sample's images is the
    reader's (sidecars, backups, "keep both" copies) and overwrites the pristine one.
    """
    if not old.is_dir() or old.is_symlink():
        return True
    images = {name for name in sums if not _is_readers_file(name)}
    carried_all = True
    for folder, _dirs, files in os.walk(old):
        for file_name in files:
            path = Path(folder) / file_name
            name = path.relative_to(old).as_posix()
            if name in images or path.is_symlink() or not path.is_file():
                continue
            try:
                (new / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, new / name)
            except OSError:
                carried_all = False  # the old copy is then kept aside, not deleted
    return carried_all
