"""The per-user retrieve cache: studies retrieved from a PACS, kept within a size limit (Qt-free).

Layout: one folder per study, named by its Study Instance UID (0020,000D), under
``platformdirs.user_cache_path("GalactoView") / "pacs"``::

    pacs/<StudyInstanceUID>/<SOPInstanceUID>.dcm      the images (what ``pacs get`` writes)
    pacs/<StudyInstanceUID>/galactoview-<uid>.sr.json  the marks (the study's sidecar)
    pacs/<StudyInstanceUID>/.galactoview-opened        when the study was last opened

A study folder is exactly what ``galactoview pacs get STUDY_UID OUT_DIR`` writes
(:func:`galactoview.pacs.dicomweb.retrieve_study` / :func:`galactoview.pacs.dimse.retrieve_study`
into the folder, then :func:`galactoview.pacs.revisions.adopt_newest_report`), so the
study's sidecar follows the rules of :mod:`galactoview.sr.sidecar`: it lives in the
study folder (the viewer and ``galactoview report`` find it there), or in the per-user
sidecar folder when the cache cannot be written.

**The sidecar is not part of the cache.** Only the instances retrieved count towards
the size limit and only they are evicted: the sidecar, its ``.bak`` and "keep both"
copies hold the reader's marks (perhaps not yet stored to the PACS) and are never
removed. A folder is removed only when nothing but cache files was in it.

Eviction is least-recently-opened first (:meth:`RetrieveCache.evict`), by the time
:meth:`RetrieveCache.mark_opened` wrote (a study never opened counts as opened when it
was last written); the studies named in ``keep`` (the one being opened or retrieved)
are never evicted, even when they alone exceed the limit.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import platformdirs

from galactoview.annotations.model import is_valid_uid
from galactoview.files import write_atomically
from galactoview.sr.sidecar import APP_NAME

__all__ = [
    "DEFAULT_LIMIT_BYTES",
    "LIMIT_ENVIRONMENT",
    "OPENED_MARKER",
    "CachedStudy",
    "Eviction",
    "RetrieveCache",
    "default_cache_root",
    "limit_from_environment",
]

#: Default size limit of the cache: 20 GB (about 30 galactography studies of 30 Mpix images).
DEFAULT_LIMIT_BYTES: Final = 20 * 1000**3
#: Environment variable that sets the limit, in gigabytes (10**9 bytes), e.g. ``"50"``.
LIMIT_ENVIRONMENT: Final = "GALACTOVIEW_PACS_CACHE_GB"
#: Hidden file in a study folder holding when the study was last opened (the scan skips it).
OPENED_MARKER: Final = ".galactoview-opened"
#: A retrieved instance: ``<SOP Instance UID>.dcm``.
_INSTANCE_NAME: Final = re.compile(r"^[0-9][0-9.]{0,63}\.dcm$")
#: A temporary file of :func:`galactoview.files.write_atomically` (a cut transfer's).
_TEMPORARY_NAME: Final = re.compile(r"^\..+\.[0-9a-f]+\.tmp$")


def default_cache_root() -> Path:
    """Return the per-user cache folder of retrieved studies (not created)."""
    return platformdirs.user_cache_path(APP_NAME) / "pacs"


def limit_from_environment(environ: Mapping[str, str] | None = None) -> tuple[int, str | None]:
    """Return the size limit :data:`LIMIT_ENVIRONMENT` sets, and a problem line if it is bad.

    Returns
    -------
    tuple
        The limit in bytes (:data:`DEFAULT_LIMIT_BYTES` when unset or unusable) and
        ``None``, or the line saying why the value was not used.
    """
    text = (os.environ if environ is None else environ).get(LIMIT_ENVIRONMENT, "").strip()
    if not text:
        return DEFAULT_LIMIT_BYTES, None
    try:
        gigabytes = float(text)
    except ValueError:
        gigabytes = -1.0
    if not 0 < gigabytes < 1e6:
        return DEFAULT_LIMIT_BYTES, (
            f"{LIMIT_ENVIRONMENT}={text!r}: not a size in GB; the PACS cache keeps "
            f"{DEFAULT_LIMIT_BYTES // 1000**3} GB"
        )
    return round(gigabytes * 1000**3), None


def _is_cache_file(name: str) -> bool:
    """Whether a file of a study folder belongs to the cache (may be evicted)."""
    return bool(name == OPENED_MARKER or _INSTANCE_NAME.match(name) or _TEMPORARY_NAME.match(name))


@dataclass(frozen=True)
class CachedStudy:
    """A study in the cache.

    Attributes
    ----------
    study_instance_uid
        Its Study Instance UID (the folder's name).
    folder
        Its folder.
    size_bytes
        Bytes of its cache files (the instances; not the sidecar).
    last_opened
        When it was last opened (POSIX seconds); its newest file's time if never.
    """

    study_instance_uid: str
    folder: Path
    size_bytes: int
    last_opened: float


@dataclass(frozen=True)
class Eviction:
    """What :meth:`RetrieveCache.evict` did.

    Attributes
    ----------
    evicted
        Study Instance UIDs whose instances were removed, least recently opened first.
    freed_bytes
        Bytes removed.
    problems
        One line per file that could not be removed (``path: why``).
    """

    evicted: tuple[str, ...]
    freed_bytes: int
    problems: tuple[str, ...]


class RetrieveCache:
    """The per-user cache of retrieved studies (see the module docstring).

    Parameters
    ----------
    root
        Its folder; :func:`default_cache_root` when ``None``.
    limit_bytes
        The size limit of the instances kept; :func:`limit_from_environment` when ``None``.
    clock
        Returns the time now (POSIX seconds); tests give their own.
    """

    def __init__(
        self,
        root: Path | None = None,
        limit_bytes: int | None = None,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.root = default_cache_root() if root is None else Path(root)
        self.limit_bytes = limit_from_environment()[0] if limit_bytes is None else limit_bytes
        if self.limit_bytes < 0:
            raise ValueError(f"the cache size limit cannot be negative: {self.limit_bytes}")
        if clock is None:
            import time

            clock = time.time
        self._clock = clock

    def study_folder(self, study_instance_uid: str) -> Path:
        """Return the folder a study is retrieved into (not created).

        Raises
        ------
        ValueError
            Not a UID (PS3.5 9.1): a PACS's answer never names a folder outside the cache.
        """
        if not is_valid_uid(study_instance_uid):
            raise ValueError(f"not a Study Instance UID (PS3.5 9.1): {study_instance_uid!r}")
        return self.root / study_instance_uid

    def mark_opened(self, study_instance_uid: str) -> None:
        """Remember that a study is opened (or being retrieved) now; creates its folder.

        Raises
        ------
        OSError
            The cache folder cannot be written.
        """
        folder = self.study_folder(study_instance_uid)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = f"{self._clock():.6f}\n".encode("ascii")
        write_atomically(folder / OPENED_MARKER, lambda stream: stream.write(stamp), durable=False)

    def studies(self) -> tuple[CachedStudy, ...]:
        """Return the studies in the cache, least recently opened first."""
        try:
            entries = sorted(self.root.iterdir())
        except OSError:
            return ()
        found = [
            study
            for entry in entries
            if is_valid_uid(entry.name) and (study := self._study(entry)) is not None
        ]
        found.sort(key=lambda study: (study.last_opened, study.study_instance_uid))
        return tuple(found)

    def _study(self, folder: Path) -> CachedStudy | None:
        size, newest = 0, 0.0
        try:
            if not folder.is_dir() or folder.is_symlink():
                return None
            for entry in os.scandir(folder):
                if entry.is_file(follow_symlinks=False) and _is_cache_file(entry.name):
                    status = entry.stat(follow_symlinks=False)
                    newest = max(newest, status.st_mtime)
                    if entry.name != OPENED_MARKER:
                        size += status.st_size
        except OSError:
            return None
        return CachedStudy(folder.name, folder, size, self._opened(folder, newest))

    @staticmethod
    def _opened(folder: Path, otherwise: float) -> float:
        try:
            return float((folder / OPENED_MARKER).read_text(encoding="ascii").strip())
        except (OSError, ValueError, UnicodeDecodeError):
            return otherwise

    def size_bytes(self) -> int:
        """Return the bytes of the instances in the cache (sidecars not counted)."""
        return sum(study.size_bytes for study in self.studies())

    def evict(self, keep: Collection[str] = (), *, limit_bytes: int | None = None) -> Eviction:
        """Remove the instances of the least recently opened studies until within the limit.

        Parameters
        ----------
        keep
            Study Instance UIDs never evicted (the study being opened or retrieved).
        limit_bytes
            The limit to reach; :attr:`limit_bytes` when ``None``.

        Returns
        -------
        Eviction
            Never raises for a file that cannot be removed: it is listed.
        """
        limit = self.limit_bytes if limit_bytes is None else limit_bytes
        studies = self.studies()
        total = sum(study.size_bytes for study in studies)
        evicted: list[str] = []
        problems: list[str] = []
        freed = 0
        for study in studies:
            if total <= limit:
                break
            if study.study_instance_uid in keep:
                continue
            removed = self._remove_cache_files(study.folder, problems)
            total -= removed
            freed += removed
            evicted.append(study.study_instance_uid)
        return Eviction(tuple(evicted), freed, tuple(problems))

    @staticmethod
    def _remove_cache_files(folder: Path, problems: list[str]) -> int:
        """Remove a study's cache files (never its sidecars); return the bytes freed."""
        freed = 0
        try:
            entries = list(os.scandir(folder))
        except OSError as error:
            problems.append(f"{folder}: cannot be read ({error.strerror or error})")
            return 0
        for entry in entries:
            if not (entry.is_file(follow_symlinks=False) and _is_cache_file(entry.name)):
                continue
            try:
                size = entry.stat(follow_symlinks=False).st_size
                os.unlink(entry.path)
            except OSError as error:
                problems.append(f"{entry.path}: cannot be removed ({error.strerror or error})")
                continue
            if entry.name != OPENED_MARKER:
                freed += size
        with contextlib.suppress(OSError):  # not empty: the reader's sidecar stays
            folder.rmdir()
        return freed
