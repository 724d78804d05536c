"""Safe storage of a study's annotation sidecar: where it lives, loading, atomic saving (Qt-free).

The sidecar holds the DICOM JSON Model (PS3.18 Annex F) of the study's annotation SR
as UTF-8 text. This module stores and loads that *text*; building and reading the SR
is the codec's job.

Name and location
-----------------
One sidecar per study, named after its Study Instance UID (0020,000D)::

    galactoview-<StudyInstanceUID>.sr.json

It lives in the **study folder** (:func:`study_folder`): the deepest folder common
to the study's image files (an image inside a ``.zip`` counts as the archive, so its
sidecar is beside the archive; a DICOMDIR's images are the files it references).
When that folder is not writable (tested by creating and removing a temporary file,
since ``os.access`` ignores read-only
mounts, ACLs and network shares), the sidecar goes to the per-user data folder
``platformdirs.user_data_path("GalactoView") / "sidecars"`` under the same name,
and :func:`sidecar_location` returns a notice saying where and why. Loading looks
next to the study first, then in the per-user folder (:func:`sidecar_candidates`). A study
opened from a ``.zip`` archive may also hold its sidecar as a member of the archive
(:func:`archived_sidecar`): it is read when there is none next to the archive, and the
first save writes one next to the archive (an archive is never modified).

Files written next to a sidecar ``<name>``:

* ``<name>.bak`` — the previous good version, replaced atomically on every save
  that overwrites an existing sidecar;
* ``.<name>.<random>.tmp`` — a temporary file that exists only during a save
  and is removed when the save fails;
* ``galactoview-<StudyInstanceUID>-<UTC timestamp>[-<n>].sr.json`` — a copy saved
  by :func:`save_alongside` ("keep both" after a conflict or a corrupt sidecar);
* ``galactoview-<StudyInstanceUID>.signed-<SOPInstanceUID>.sr.json`` — a **signed**
  revision, kept by :func:`keep_signed` before the first addendum revision replaces it
  (a signed report is never lost; the ``.bak`` only holds the last version).

Save safety
-----------
:func:`save` writes the whole text to a temporary file in the same folder, flushes
and fsyncs it, keeps the previous version as ``<name>.bak``, renames the
temporary file over the sidecar with :func:`os.replace` (atomic on POSIX and NTFS)
and fsyncs the folder where the platform allows. A crash at any step leaves
either the old or the new sidecar, never a truncated one.

A save never overwrites a sidecar that is not the version the caller loaded
(:class:`Fingerprint`): when another workstation changed it, when it appeared
while the caller had none, or when it is corrupt (a corrupt file cannot have been
loaded), :func:`save` raises :class:`SidecarConflict` and writes nothing; the
caller offers "reload" or "keep both" (:func:`save_alongside`). A sidecar
**deleted** since it was loaded is simply written again: nothing on disk can be
lost by that, and the reader's marks would be lost otherwise.

Only regular files are read or replaced: a folder, FIFO, socket or device at a
sidecar's path is a :class:`SidecarError` at once (opened with ``O_NONBLOCK``, so
a FIFO never blocks), and so is a file larger than :data:`MAX_SIDECAR_BYTES`.
Temporary files left by a save that was killed are removed by
:func:`remove_stale_temporaries` once they are older than a few minutes.
Versions are compared by **content** (size and SHA-256): a change of the
modification time alone (``touch``, a copy that kept the bytes) is not a conflict,
since nothing written by the other side would be lost. The check happens right
before the rename, but two writers racing within that instant are not excluded
(there is no portable lock on network shares).
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import re
import stat
import time
import zipfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import platformdirs

from galactoview import files
from galactoview.files import NotARegularFileError, TooLargeError

#: Prefix and suffix of a sidecar's file name: ``galactoview-<StudyInstanceUID>.sr.json``.
SIDECAR_PREFIX: Final = "galactoview-"
SIDECAR_SUFFIX: Final = ".sr.json"
#: Appended to a sidecar's name for the previous good version.
BACKUP_SUFFIX: Final = ".bak"
#: Application name for the per-user data folder.
APP_NAME: Final = "GalactoView"

# PS3.5 9.1: a UID is digit components separated by "." and at most 64 characters.
# Leading zeros (forbidden by 9.1) are tolerated; anything that could leave the folder is not.
_UID = re.compile(r"[0-9]+(?:\.[0-9]+)*")
_UID_MAX_LENGTH: Final = 64
# PS3.18 F.2.1.1: an attribute's key is its tag as eight hexadecimal digits ("0020000D").
_TAG_KEY = re.compile(r"[0-9A-Fa-f]{8}")
# PS3.18 F.2.2: "vr" is the two upper-case letters of the Value Representation.
_VR = re.compile(r"[A-Z]{2}")
_READ_CHUNK: Final = 1 << 20
#: Largest sidecar read, in bytes: 50 findings take about 0.5 MB, so this is far beyond
#: any real study and keeps a wrong or hostile file from filling the memory.
MAX_SIDECAR_BYTES: Final = 64 << 20
#: Age in seconds after which a left-over temporary file is certainly not a save in
#: progress (a save takes well under a second, even on a network share).
STALE_TEMPORARY_S: Final = 600.0


class SidecarError(Exception):
    """A sidecar cannot be read or written; the message names the file and the problem.

    Parameters
    ----------
    path
        The sidecar concerned.
    problem
        What is wrong, as a phrase that follows the file name.
    """

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class SidecarConflict(SidecarError):  # noqa: N818 - named after the situation, as the issue does
    """The sidecar on disk is not the version the caller loaded; nothing was written.

    Parameters
    ----------
    path
        The sidecar concerned.
    expected
        Fingerprint of the version the caller loaded, ``None`` when it had none.
    actual
        Fingerprint of the file now on disk, ``None`` when there is none.
    """

    def __init__(
        self, path: Path, expected: Fingerprint | None, actual: Fingerprint | None
    ) -> None:
        if expected is None:
            problem = "a sidecar appeared on disk since the study was opened"
        else:
            problem = "the sidecar changed on disk since it was loaded"
        found = "nothing" if actual is None else actual.short()
        wanted = "nothing" if expected is None else expected.short()
        super().__init__(path, f"{problem} (expected {wanted}, found {found}); not overwritten")
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """Identifies one exact version of a sidecar file.

    Parameters
    ----------
    size
        Size in bytes.
    mtime_ns
        Modification time in nanoseconds, as :func:`os.stat` reports it.
    sha256
        SHA-256 of the content, lower-case hexadecimal.
    """

    size: int
    mtime_ns: int
    sha256: str

    @classmethod
    def of_bytes(cls, data: bytes, mtime_ns: int) -> Fingerprint:
        """Return the fingerprint of ``data`` written at ``mtime_ns``.

        Parameters
        ----------
        data
            The file's complete content.
        mtime_ns
            The file's modification time in nanoseconds.

        Returns
        -------
        Fingerprint
            Size, time and SHA-256 of ``data``.
        """
        return cls(len(data), mtime_ns, hashlib.sha256(data).hexdigest())

    def same_content(self, other: Fingerprint) -> bool:
        """Return whether ``other`` has the same bytes; the modification time is ignored.

        Parameters
        ----------
        other
            Another fingerprint.

        Returns
        -------
        bool
            ``True`` when size and SHA-256 are equal.
        """
        return self.size == other.size and self.sha256 == other.sha256

    def short(self) -> str:
        """Return a short description for messages: size and the first SHA-256 digits."""
        return f"{self.size} bytes, sha256 {self.sha256[:12]}"


@dataclass(frozen=True, slots=True)
class LoadedSidecar:
    """The text of a sidecar and the version it was read from.

    Parameters
    ----------
    text
        The DICOM JSON text (a JSON object).
    fingerprint
        The version read; pass it as ``expected`` to :func:`save`.
    path
        The file read.
    """

    text: str
    fingerprint: Fingerprint
    path: Path


@dataclass(frozen=True, slots=True)
class SidecarLocation:
    """Where a study's sidecar is saved.

    Parameters
    ----------
    path
        The sidecar's path.
    fallback
        ``True`` when ``path`` is in the per-user data folder because the study
        folder is not writable.
    notice
        For the user when ``fallback``: where the annotations go and why; else ``""``.
    """

    path: Path
    fallback: bool
    notice: str


# --- naming and location -------------------------------------------------------------------


def sidecar_name(study_instance_uid: str) -> str:
    """Return the sidecar's file name for a study.

    Parameters
    ----------
    study_instance_uid
        Study Instance UID (0020,000D); trailing NUL / space padding (PS3.5 6.2,
        9.1) is removed.

    Returns
    -------
    str
        ``galactoview-<StudyInstanceUID>.sr.json``.

    Raises
    ------
    ValueError
        When the value is not a UID (PS3.5 9.1: digits and dots, at most 64
        characters), so it can never name a file outside the folder.
    """
    uid = study_instance_uid.rstrip("\0 ")
    if len(uid) > _UID_MAX_LENGTH or _UID.fullmatch(uid) is None:
        raise ValueError(f"not a DICOM UID (PS3.5 9.1): {study_instance_uid!r}")
    return f"{SIDECAR_PREFIX}{uid}{SIDECAR_SUFFIX}"


def study_folder(image_paths: Iterable[Path], *, container: Path | None = None) -> Path:
    """Return the folder a study's sidecar belongs in.

    Parameters
    ----------
    image_paths
        The files holding the study's images (for images inside a ``.zip``
        archive, the archive's path, as :class:`~galactoview.dicom.loading.ImageRecord`
        gives it).
    container
        The DICOMDIR or ``.zip`` archive the study was opened from, if any.

    Returns
    -------
    Path
        The folder holding ``container``, else the deepest folder common to the
        image files (the first file's folder when they share none, e.g. on two
        Windows drives).

    Raises
    ------
    ValueError
        When there is neither a container nor an image path.
    """
    if container is not None:
        return Path(container).absolute().parent
    folders = sorted({str(Path(path).absolute().parent) for path in image_paths})
    if not folders:
        raise ValueError("a study folder needs at least one image path or a container")
    try:
        return Path(os.path.commonpath(folders))
    except ValueError:
        return Path(folders[0])


def user_sidecar_dir() -> Path:
    """Return the per-user folder for sidecars of studies in read-only folders.

    Returns
    -------
    Path
        ``platformdirs.user_data_path("GalactoView") / "sidecars"`` (not created).
    """
    return platformdirs.user_data_path(APP_NAME) / "sidecars"


def folder_write_problem(folder: Path) -> str | None:
    """Return why files cannot be created in ``folder``, or ``None`` when they can.

    Creates and removes a temporary file: unlike :func:`os.access` this sees
    read-only mounts and media, ACLs and network-share permissions.

    Parameters
    ----------
    folder
        The folder to test.

    Returns
    -------
    str or None
        ``None`` when writable, else the reason (the operating system's message).
    """
    try:
        descriptor, path = files.create_exclusive(folder, f"{SIDECAR_PREFIX}probe")
    except OSError as exc:
        cause = exc.__cause__ if isinstance(exc.__cause__, OSError) else exc
        return cause.strerror or str(cause)
    os.close(descriptor)
    with contextlib.suppress(OSError):
        path.unlink()
    return None


def sidecar_location(
    study_folder: Path, study_instance_uid: str, *, user_dir: Path | None = None
) -> SidecarLocation:
    """Decide where a study's sidecar is saved.

    Parameters
    ----------
    study_folder
        The study folder (:func:`study_folder`).
    study_instance_uid
        The study's Study Instance UID (0020,000D).
    user_dir
        The per-user sidecar folder; :func:`user_sidecar_dir` when ``None``.

    Returns
    -------
    SidecarLocation
        Next to the study when :func:`folder_write_problem` finds the folder
        writable; else in the per-user folder, with a notice for the user.

    Raises
    ------
    ValueError
        When ``study_instance_uid`` is not a UID.
    """
    here, path = sidecar_candidates(study_folder, study_instance_uid, user_dir=user_dir)
    problem = folder_write_problem(study_folder)
    if problem is None:
        return SidecarLocation(here, fallback=False, notice="")
    notice = (
        f"The study folder {study_folder} is not writable ({problem}); "
        f"annotations are saved to {path} instead."
    )
    return SidecarLocation(path, fallback=True, notice=notice)


def sidecar_candidates(
    study_folder: Path, study_instance_uid: str, *, user_dir: Path | None = None
) -> tuple[Path, Path]:
    """Return the places a study's sidecar may be, in the order to look.

    Parameters
    ----------
    study_folder, study_instance_uid, user_dir
        As for :func:`sidecar_location`.

    Returns
    -------
    tuple of Path
        Next to the study, then in the per-user folder.

    Raises
    ------
    ValueError
        When ``study_instance_uid`` is not a UID.
    """
    name = sidecar_name(study_instance_uid)
    return study_folder / name, (user_sidecar_dir() if user_dir is None else user_dir) / name


def alongside_sidecars(path: Path) -> list[Path]:
    """Return the copies :func:`save_alongside` made next to ``path``, oldest name first.

    Parameters
    ----------
    path
        A sidecar.

    Returns
    -------
    list of Path
        ``<base>-*.sr.json`` files in the same folder, sorted by name.
    """
    base, suffix = _split_name(path.name)
    return sorted(path.parent.glob(f"{glob.escape(base)}-*{suffix}"))


def in_the_way(path: Path) -> str | None:
    """Return what blocks a sidecar at ``path`` when it is not a regular file, else ``None``.

    Parameters
    ----------
    path
        A sidecar's path.

    Returns
    -------
    str or None
        ``"a folder"``, ``"a FIFO (named pipe)"``, … when something that is not a
        regular file (after following symbolic links) is there; ``None`` when there
        is a regular file or nothing (or it cannot be examined: reading will say why).
    """
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    return None if stat.S_ISREG(mode) else files.file_kind(mode)


def remove_stale_temporaries(
    folder: Path, *, older_than_s: float = STALE_TEMPORARY_S, now: float | None = None
) -> list[Path]:
    """Remove the temporary files that killed saves left in ``folder``; return them.

    Only this module's own names are touched (``.galactoview-*.tmp``: the
    temporary copies of sidecars and backups, and write probes), and only when
    they are older than ``older_than_s`` seconds, so a save in progress on
    another workstation sharing the folder is never disturbed.

    Parameters
    ----------
    folder
        A folder holding sidecars.
    older_than_s
        Minimum age by modification time.
    now
        The current time (seconds since the epoch); :func:`time.time` when ``None``.

    Returns
    -------
    list of Path
        The files removed; a file that cannot be removed is left and not listed.
    """
    limit = (time.time() if now is None else now) - older_than_s
    removed: list[Path] = []
    try:
        candidates = sorted(folder.glob(f".{glob.escape(SIDECAR_PREFIX)}*.tmp"))
    except OSError:
        return removed
    for path in candidates:
        try:
            status = path.lstat()
            if not stat.S_ISREG(status.st_mode) or status.st_mtime > limit:
                continue
            path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


# --- loading -------------------------------------------------------------------------------


def load(path: Path) -> LoadedSidecar | None:
    """Read a sidecar and check that it holds a DICOM JSON object (PS3.18 F.2).

    Nothing is ever written: a bad file is left exactly as it is.

    Parameters
    ----------
    path
        The sidecar.

    Returns
    -------
    LoadedSidecar or None
        The text and the fingerprint of the version read; ``None`` when the file
        does not exist.

    Raises
    ------
    SidecarError
        When the file cannot be read, is not UTF-8, is not JSON, or is not a
        DICOM JSON object; the message names the file and the problem.
    """
    read = _read_if_present(path)
    if read is None:
        return None
    data, mtime_ns = read
    return LoadedSidecar(decode_sidecar(path, data), Fingerprint.of_bytes(data, mtime_ns), path)


def archived_sidecar(
    image_paths: Iterable[Path], study_instance_uid: str
) -> tuple[str, LoadedSidecar] | None:
    """Return the study's sidecar kept as a member of a ``.zip`` archive its images are in.

    An archive is a path ending in ``.zip``, or one that holds several of the study's
    images (a member's record gives the archive as its path). The member may be in any
    folder of the archive; the first by name is read (at most :data:`MAX_SIDECAR_BYTES`).

    Parameters
    ----------
    image_paths
        The files holding the study's images, as for :func:`study_folder`.
    study_instance_uid
        The study (0020,000D).

    Returns
    -------
    tuple of str and LoadedSidecar, or None
        ``archive [member]`` for messages, and the text read (its fingerprint is that
        of the member's bytes; its path is the archive's); ``None`` when no archive holds
        the study's sidecar.

    Raises
    ------
    SidecarError
        When the member cannot be read or is not a DICOM JSON sidecar.
    ValueError
        When ``study_instance_uid`` is not a UID.
    """
    name = sidecar_name(study_instance_uid)
    counts = Counter(Path(path) for path in image_paths)
    for path, count in counts.items():
        if (path.suffix.lower() != ".zip" and count < 2) or not zipfile.is_zipfile(path):
            continue
        try:
            with zipfile.ZipFile(path) as archive:
                members = sorted(
                    (
                        info
                        for info in archive.infolist()
                        if not info.is_dir()
                        and info.filename.replace("\\", "/").rpartition("/")[2] == name
                    ),
                    key=lambda info: info.filename,
                )
                if not members:
                    continue
                info = members[0]
                label = f"{path} [{info.filename}]"
                if info.file_size > MAX_SIDECAR_BYTES:
                    raise SidecarError(
                        Path(label), f"is larger than {MAX_SIDECAR_BYTES >> 20} MiB; not read"
                    )
                with archive.open(info) as stream:
                    data = stream.read(MAX_SIDECAR_BYTES + 1)
        except SidecarError:
            raise
        except Exception as exc:  # zipfile raises many types for damaged archives
            raise SidecarError(path, f"cannot read its sidecar member {name}: {exc}") from exc
        if len(data) > MAX_SIDECAR_BYTES:
            raise SidecarError(Path(label), f"is larger than {MAX_SIDECAR_BYTES >> 20} MiB")
        text = decode_sidecar(Path(label), data)
        return label, LoadedSidecar(text, Fingerprint.of_bytes(data, 0), path)
    return None


def fingerprint(path: Path) -> Fingerprint | None:
    """Return the fingerprint of the file at ``path``, ``None`` when there is none.

    Parameters
    ----------
    path
        A file.

    Returns
    -------
    Fingerprint or None
        Its current version.

    Raises
    ------
    SidecarError
        When the file exists but cannot be read.
    """
    read = _read_if_present(path)
    return None if read is None else Fingerprint.of_bytes(*read)


def decode_sidecar(path: Path, data: bytes) -> str:
    """Decode a sidecar's bytes and check the DICOM JSON object they must hold.

    Parameters
    ----------
    path
        The file the bytes come from, for messages.
    data
        The content: UTF-8 (a leading byte-order mark is tolerated) JSON whose
        top level is an object of attributes keyed by eight-digit hexadecimal
        tags, each an object with a ``"vr"`` (PS3.18 F.2.1, F.2.2).

    Returns
    -------
    str
        The text (without a byte-order mark).

    Raises
    ------
    SidecarError
        Naming ``path`` and what is wrong.
    """
    if not data:
        raise SidecarError(path, "is empty, not a DICOM JSON sidecar")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SidecarError(
            path, f"is not UTF-8 text (invalid byte at offset {exc.start}); not a sidecar"
        ) from exc
    _check_dicom_json(path, text)
    return text


def _check_dicom_json(path: Path, text: str) -> None:
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise SidecarError(
            path, f"is not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})"
        ) from exc
    except ValueError as exc:  # NaN / Infinity: not JSON (RFC 8259 6), not DICOM JSON
        raise SidecarError(path, f"is not valid JSON ({exc})") from exc
    except RecursionError as exc:
        raise SidecarError(path, "is nested too deeply to be a DICOM JSON sidecar") from exc
    if not isinstance(value, dict):
        kind = type(value).__name__ if value is not None else "null"
        raise SidecarError(path, f"holds a JSON {kind}, not a DICOM JSON object (PS3.18 F.2.1)")
    if not value:
        raise SidecarError(path, "holds an empty JSON object, not a DICOM dataset")
    for key, attribute in value.items():
        if _TAG_KEY.fullmatch(key) is None:
            raise SidecarError(
                path, f"key {key[:40]!r} is not a DICOM tag (PS3.18 F.2.1.1); not a sidecar"
            )
        vr = attribute.get("vr") if isinstance(attribute, dict) else None
        if not isinstance(vr, str) or _VR.fullmatch(vr) is None:
            raise SidecarError(
                path, f'attribute {key} has no valid "vr" (PS3.18 F.2.2); not a sidecar'
            )


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def read_regular_file(path: Path, max_bytes: int | None = None) -> tuple[bytes, int]:
    """Return :func:`galactoview.files.read_regular_file` of a sidecar (or SR file).

    ``max_bytes`` defaults to :data:`MAX_SIDECAR_BYTES`; the messages say "sidecar".
    """
    limit = MAX_SIDECAR_BYTES if max_bytes is None else max_bytes
    return files.read_regular_file(path, limit, what="sidecar")


def _read_if_present(path: Path) -> tuple[bytes, int] | None:
    """Return :func:`read_regular_file` of ``path``, ``None`` when it does not exist.

    Raises
    ------
    SidecarError
        When the file exists but cannot be read.
    """
    try:
        return read_regular_file(path)
    except FileNotFoundError:
        return None
    except (NotARegularFileError, TooLargeError) as exc:
        raise SidecarError(path, str(exc.strerror)) from exc
    except OSError as exc:
        raise SidecarError(path, f"cannot be read: {exc.strerror or exc}") from exc


# --- saving --------------------------------------------------------------------------------


def signed_copy_path(path: Path, sop_instance_uid: str) -> Path:
    """Return where :func:`keep_signed` keeps the signed revision ``sop_instance_uid``."""
    base, suffix = _split_name(path.name)
    return path.with_name(f"{base}.signed-{sop_instance_uid}{suffix}")


def keep_signed(path: Path, sop_instance_uid: str, *, expected: Fingerprint | None) -> Path:
    """Copy the signed revision the sidecar holds to its own file, before it is replaced.

    Parameters
    ----------
    path
        The sidecar, holding the signed revision.
    sop_instance_uid
        The signed revision's SOP Instance UID (names the copy).
    expected
        The version the caller read: only that version is copied (a file changed on
        disk since is the save's conflict to report, not a signed report to keep).

    Returns
    -------
    Path
        The copy (:func:`signed_copy_path`); an existing copy is left as it is.

    Raises
    ------
    SidecarError
        When the sidecar cannot be read or the copy cannot be written: the save that
        would replace the signed revision must not go on.
    """
    copy = signed_copy_path(path, sop_instance_uid)
    if copy.is_file():
        return copy
    try:
        data, mtime_ns = files.read_regular_file(path, MAX_SIDECAR_BYTES)
    except OSError as error:
        why = f"the signed revision cannot be read to keep it: {error}"
        raise SidecarError(path, why) from error
    actual = Fingerprint.of_bytes(data, mtime_ns)
    if expected is not None and actual.sha256 != expected.sha256:
        raise SidecarConflict(path, expected, actual)
    try:
        files.write_atomically(copy, lambda stream: stream.write(data), keep_mode=True)
    except OSError as error:
        raise SidecarError(copy, f"the signed revision could not be kept: {error}") from error
    return copy


def save(path: Path, text: str, *, expected: Fingerprint | None) -> Fingerprint:
    """Replace the sidecar atomically with ``text``, keeping the previous version as a backup.

    Steps: write a temporary file in the same folder, flush and ``fsync`` it;
    check that the sidecar on disk is still the ``expected`` version; copy that
    version to ``<name>.bak`` (through its own temporary file, so the backup is
    also replaced atomically); :func:`os.replace` the temporary file onto the
    sidecar; ``fsync`` the folder where the platform allows. On failure the
    temporary files are removed and the sidecar is as before.

    Parameters
    ----------
    path
        The sidecar; its folder is created when missing (the per-user folder).
    text
        DICOM JSON text (PS3.18 Annex F); written as UTF-8.
    expected
        The version the caller loaded (:attr:`LoadedSidecar.fingerprint` or the
        result of the previous save); ``None`` when the study had no sidecar.

    Returns
    -------
    Fingerprint
        The version written: pass it as ``expected`` to the next save.

    Raises
    ------
    ValueError
        When ``text`` is not a DICOM JSON object (writing is strict).
    SidecarConflict
        When the file on disk is not ``expected`` (changed by contents, appeared,
        or corrupt); nothing is written. A file deleted since is written again.
    SidecarError
        When writing fails, or something other than a regular file (a folder, a
        FIFO) is at ``path``; the sidecar is unchanged.
    """
    data = _encode_checked(path, text)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SidecarError(path, f"cannot create its folder: {exc.strerror or exc}") from exc
    temporary: Path | None = None
    try:
        temporary, written = _write_temporary(path, data)
        try:
            previous, mtime_ns = read_regular_file(path)
        except FileNotFoundError:
            actual = None
        except (NotARegularFileError, TooLargeError) as exc:
            raise SidecarError(path, f"{exc.strerror}; nothing was written there") from exc
        else:
            actual = Fingerprint.of_bytes(previous, mtime_ns)
        # Deleted since loaded (expected, nothing there): written again, nothing to lose.
        if actual is not None and (expected is None or not actual.same_content(expected)):
            raise SidecarConflict(path, expected, actual)
        if actual is not None:
            _keep_backup(path, previous)
        files.put_in_place(temporary, path)
        temporary = None
    except OSError as exc:
        raise SidecarError(path, f"could not be saved: {exc.strerror or exc}") from exc
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                temporary.unlink()
    return written


def save_alongside(path: Path, text: str, *, now: datetime | None = None) -> Path:
    """Save ``text`` under a new name next to ``path``, never replacing any file ("keep both").

    Parameters
    ----------
    path
        The sidecar that must not be overwritten.
    text
        DICOM JSON text (PS3.18 Annex F).
    now
        Time for the name; the current time when ``None``.

    Returns
    -------
    Path
        ``<base>-<YYYYMMDDTHHMMSSZ>[-<n>].sr.json`` in the same folder (``<base>``
        is the sidecar's name without ``.sr.json``); the name is reserved with an
        exclusive create before the content is renamed onto it, so it never
        clashes, even with a concurrent writer. Use :func:`fingerprint` on it
        before saving to it again.

    Raises
    ------
    ValueError
        When ``text`` is not a DICOM JSON object.
    SidecarError
        When writing fails; any partial file is removed.
    """
    data = _encode_checked(path, text)
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    base, suffix = _split_name(path.name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SidecarError(path, f"cannot create its folder: {exc.strerror or exc}") from exc
    temporary: Path | None = None
    target: Path | None = None
    try:
        temporary, _ = _write_temporary(path, data)
        for count in range(1, 10_000):
            name = f"{base}-{stamp}{suffix}" if count == 1 else f"{base}-{stamp}-{count}{suffix}"
            try:
                descriptor = os.open(path.parent / name, _EXCLUSIVE_FLAGS, 0o666)
            except FileExistsError:
                continue
            os.close(descriptor)
            target = result = path.parent / name
            break
        else:  # pragma: no cover - ten thousand copies in one second
            raise SidecarError(path, "no free name for a copy next to it")
        files.put_in_place(temporary, target)
        temporary = target = None
    except OSError as exc:
        raise SidecarError(
            path, f"a copy could not be saved next to it: {exc.strerror or exc}"
        ) from exc
    finally:
        for leftover in (temporary, target):
            if leftover is not None:
                with contextlib.suppress(OSError):
                    leftover.unlink()
    return result


_EXCLUSIVE_FLAGS: Final = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def _encode_checked(path: Path, text: str) -> bytes:
    try:
        _check_dicom_json(path, text)
    except SidecarError as exc:
        raise ValueError(f"refusing to write {exc}") from None
    return text.encode("utf-8")


def _split_name(name: str) -> tuple[str, str]:
    if name.endswith(SIDECAR_SUFFIX) and len(name) > len(SIDECAR_SUFFIX):
        return name[: -len(SIDECAR_SUFFIX)], SIDECAR_SUFFIX
    stem, dot, extension = name.rpartition(".")
    return (stem, dot + extension) if stem else (name, "")


def _write_temporary(path: Path, data: bytes) -> tuple[Path, Fingerprint]:
    """Write ``data`` to a new temporary file next to ``path`` (:func:`files.write_temporary`).

    Returns
    -------
    tuple
        The temporary file and the fingerprint of its content.
    """
    temporary, mtime_ns = files.write_temporary(
        path, lambda stream: stream.write(data), keep_mode=True
    )
    return temporary, Fingerprint.of_bytes(data, mtime_ns)


def _keep_backup(path: Path, previous: bytes) -> None:
    """Atomically replace ``<name>.bak`` with ``previous``, the verified version on disk."""
    files.write_atomically(
        path.with_name(path.name + BACKUP_SUFFIX),
        lambda stream: stream.write(previous),
        keep_mode=True,
    )
