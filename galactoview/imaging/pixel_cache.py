"""A bounded on-disk cache of decoded pixels, stored as memory-mappable ``.npy`` files (Qt-free).

Decoding a full-field JPEG 2000 mammogram takes over a second; reading it back from a
``.npy`` file is a memory map, a few milliseconds. :class:`PixelCache` keeps the stored
values of decoded images in a folder, by default under
``platformdirs.user_cache_dir("galactoview")/pixels``.

An entry is keyed by the SOP Instance UID (0008,0018) *and* the identity of the source
it was decoded from (:meth:`~galactoview.dicom.source.ImageSource.identity`: for a file
its resolved path, size and modification time in nanoseconds; for a zip member the
archive's, the member's name, CRC-32 and size), so an edited or replaced file is decoded
again. The cache is bounded by the total size of its
entries (:data:`DEFAULT_MAX_BYTES`, 2 GiB, about 75 full-field 4096 x 3328 images);
the least recently used entries are removed first. Writes go to a temporary name and
are renamed into place (``os.replace``), so a reader never sees half an entry, and an
entry that cannot be read (damaged, truncated, of the wrong shape) is removed and
treated as missing.

The environment variable :data:`CACHE_ENV` relocates the cache (a folder path) or
disables it (``off``, ``0``, ``none`` or an empty value); see :func:`default_cache`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import Any, Final

import numpy as np
import platformdirs
from numpy.typing import NDArray

from galactoview import files
from galactoview.dicom.loading import ImageRecord

__all__ = ["CACHE_ENV", "DEFAULT_MAX_BYTES", "PixelCache", "default_cache"]

#: Default bound on the total size of the entries: 2 GiB.
DEFAULT_MAX_BYTES: Final = 2 * 1024**3

#: Environment variable: a folder to hold the cache, or ``off`` to disable it.
CACHE_ENV: Final = "GALACTOVIEW_PIXEL_CACHE"

_DISABLED: Final = frozenset({"", "0", "off", "none", "false", "no"})
_SUFFIX: Final = ".npy"


def default_cache(max_bytes: int = DEFAULT_MAX_BYTES) -> PixelCache | None:
    """Return the cache in the user cache folder, or where :data:`CACHE_ENV` says.

    Parameters
    ----------
    max_bytes
        Bound on the total size of the entries.

    Returns
    -------
    PixelCache or None
        ``None`` when :data:`CACHE_ENV` disables the cache.
    """
    setting = os.environ.get(CACHE_ENV)
    if setting is not None and setting.strip().lower() in _DISABLED:
        return None
    if setting:
        folder = Path(setting).expanduser()
    else:
        folder = Path(platformdirs.user_cache_dir("galactoview")) / "pixels"
    return PixelCache(folder, max_bytes)


class PixelCache:
    """Decoded stored values of images, one ``.npy`` file each, bounded by total bytes.

    Safe to share between processes: entries are written atomically, and a reader that
    loses a race with an eviction just sees a miss.

    Parameters
    ----------
    folder
        Where the entries live; created when needed.
    max_bytes
        Bound on the total size of the entries; least recently used entries go first.
    """

    def __init__(self, folder: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self.folder = Path(folder)
        self.max_bytes = max_bytes

    def __repr__(self) -> str:
        return f"PixelCache({str(self.folder)!r}, max_bytes={self.max_bytes})"

    def entry_path(self, record: ImageRecord) -> Path:
        """Return the file an image's entry lives in (whether or not it exists).

        Raises
        ------
        OSError
            If the image's source cannot be examined.
        """
        key = f"{record.sop_instance_uid}\0{record.source.identity().token()}"
        return self.folder / (hashlib.sha256(key.encode()).hexdigest()[:40] + _SUFFIX)

    def get(self, record: ImageRecord) -> NDArray[Any] | None:
        """Return the cached stored values of an image, memory-mapped read-only.

        Marks the entry most recently used. A damaged entry, or one whose shape is not
        ``(Rows, Columns)`` (``(Rows, Columns, 3)`` for a colour image, decoded as RGB),
        is removed.

        Returns
        -------
        numpy.ndarray or None
            ``None`` when not cached (or the image file is gone).
        """
        try:
            entry = self.entry_path(record)
        except OSError:
            return None
        try:
            array: NDArray[Any] = np.load(entry, mmap_mode="r", allow_pickle=False)
        except FileNotFoundError:
            return None
        except Exception:  # damaged or truncated: drop it
            _remove(entry)
            return None
        if array.shape[:2] != (record.rows, record.columns) or array.shape[2:] not in ((), (3,)):
            del array
            _remove(entry)
            return None
        with contextlib.suppress(OSError):
            os.utime(entry)  # LRU order is modification time
        return array

    def put(self, record: ImageRecord, stored: NDArray[Any]) -> Path | None:
        """Store the stored values of an image, then evict down to :attr:`max_bytes`.

        Returns
        -------
        Path or None
            The entry, or ``None`` if it could not be written (disk full, no
            permission, image file gone, or larger than the whole bound): caching is
            best effort and never raises.
        """
        if stored.nbytes > self.max_bytes:
            return None
        try:
            entry = self.entry_path(record)
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
        try:
            files.write_atomically(
                entry,
                lambda stream: np.save(stream, np.ascontiguousarray(stored), allow_pickle=False),
                # A cache: an entry lost or torn by a power cut is re-decoded (np.load fails).
                durable=False,
            )
        except OSError:
            return None
        self.evict(keep=entry)
        return entry

    def total_bytes(self) -> int:
        """Return the total size of the entries."""
        return sum(size for _, _, size in self._entries())

    def evict(self, keep: Path | None = None) -> None:
        """Remove least recently used entries until the total fits :attr:`max_bytes`.

        Parameters
        ----------
        keep
            An entry never removed (the one just written).
        """
        entries = sorted(self._entries())  # oldest first
        total = sum(size for _, _, size in entries)
        for _, path, size in entries:
            if total <= self.max_bytes:
                break
            if path != keep:
                _remove(path)
                total -= size

    def clear(self) -> None:
        """Remove every entry (and stale temporary files)."""
        for _, path, _ in self._entries():
            _remove(path)
        with contextlib.suppress(OSError):
            for tmp in self.folder.glob(f".*{_SUFFIX}.*.tmp"):
                _remove(tmp)

    def _entries(self) -> list[tuple[int, Path, int]]:
        """Return ``(mtime_ns, path, size)`` of every entry."""
        entries: list[tuple[int, Path, int]] = []
        try:
            with os.scandir(self.folder) as scan:
                for item in scan:
                    if not item.name.endswith(_SUFFIX) or item.name.startswith("."):
                        continue
                    with contextlib.suppress(OSError):
                        info = item.stat()
                        entries.append((info.st_mtime_ns, Path(item.path), info.st_size))
        except OSError:
            pass
        return entries


def _remove(path: Path) -> None:
    """Delete a file if it exists; never raises."""
    with contextlib.suppress(OSError):
        path.unlink()
