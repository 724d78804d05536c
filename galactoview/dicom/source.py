"""Where the bytes of one DICOM image come from: the one way every image is read (Qt-free).

An :class:`ImageSource` is the handle :func:`~galactoview.dicom.loading.scan` puts in
each :class:`~galactoview.dicom.loading.ImageRecord`; everything that reads an image
later (the header again, the pixels, the whole dataset for ``render`` and the report,
thumbnails, the decode workers) goes through it, and every cache keys on its
:meth:`~ImageSource.identity`, never on ``stat()`` of a path. What a source offers:

* :meth:`~ImageSource.open` — the bytes of the Part 10 file (PS3.10 7.1), read-only,
  as a seekable binary stream; :attr:`~ImageSource.costly_seeks` says whether seeking
  far means inflating (a zip member), so readers bound what they skip;
* :meth:`~ImageSource.read_header` — every element before Pixel Data, read as
  :func:`~galactoview.dicom.loading.scan` reads it (bounded: at most
  :data:`~galactoview.dicom.loading.MAX_HEADER_BYTES`, refusals for zeros and garbage);
* :meth:`~ImageSource.read_dataset` — the whole dataset, its Pixel Data checked
  against its header before anything large is allocated
  (:func:`~galactoview.dicom.loading.read_image_dataset`);
* :attr:`~ImageSource.name` — how messages name it (``/data/a.dcm``,
  ``/data/study.zip [IMG0001.dcm]``);
* :meth:`~ImageSource.identity` — a stable :attr:`SourceIdentity.key` plus a
  :attr:`SourceIdentity.version` that changes when the content may have changed;
* :attr:`~ImageSource.path` — the file on disk that holds the image (the file itself,
  the archive of a member): shown to the user, and the place near which the study's
  annotation sidecar is looked for (:mod:`galactoview.sr.sidecar`).

Implementations
---------------
:class:`FileSource`
    A plain file; identity: resolved path, (size, mtime in ns).
:class:`ZipMemberSource`
    A member of a ``.zip`` archive (read, never extracted); identity: the archive's
    resolved path and member name, (archive size, archive mtime, member CRC-32, size).
:class:`DicomDirEntrySource`
    A file referenced by a DICOMDIR's directory record (PS3.3 F.5, PS3.10 8.6); a
    file, which remembers the DICOMDIR it was found through.
:class:`BytesSource`
    A Part 10 file held in memory; identity: a key the caller gives, (size, CRC-32).

Adding a source
---------------
An instance retrieved from a PACS (DICOMweb WADO-RS, PS3.18 10.4; DIMSE C-GET or
C-MOVE, PS3.4 C.4.2-C.4.3) is one more implementation: its bytes are either kept in
memory (:class:`BytesSource`, keyed by the SOP Instance UID) or written to a cache
file, whose source is a :class:`FileSource` subclass whose identity key is the
SOP Instance UID and whose version is the retrieval's ETag or the instance's
hash. Nothing else changes: the readers, the pixel cache and the decode workers only
use the protocol below (a source must pickle, to travel to a decode worker).
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol, cast, runtime_checkable

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

__all__ = [
    "BytesSource",
    "DicomDirEntrySource",
    "FileSource",
    "ImageSource",
    "SourceIdentity",
    "ZipMemberSource",
    "member_label",
]


@dataclass(frozen=True, slots=True)
class SourceIdentity:
    """What identifies the content of a source, for caches.

    Attributes
    ----------
    key
        Stable for the same image in the same place (e.g. a resolved file path).
    version
        Changes when the content may have changed (e.g. size and modification time).
    """

    key: str
    version: tuple[int, ...]

    def token(self) -> str:
        """Return key and version as one text, e.g. for a hash."""
        return "\0".join([self.key, *(str(part) for part in self.version)])


@runtime_checkable
class ImageSource(Protocol):
    """How the bytes of one DICOM image are read (see the module documentation)."""

    @property
    def name(self) -> str:
        """How messages name the image, e.g. ``study.zip [IMG0001.dcm]``."""

    @property
    def path(self) -> Path:
        """The file on disk holding the image (the archive of a member)."""

    @property
    def archive_member(self) -> str | None:
        """The member's name within the archive :attr:`path`; ``None`` otherwise."""

    @property
    def costly_seeks(self) -> bool:
        """Whether seeking far in :meth:`open`'s stream means inflating (a zip member)."""

    def identity(self) -> SourceIdentity:
        """Return what identifies the content now; raises :class:`OSError` if unreadable."""

    def size(self) -> int:
        """Return the number of bytes :meth:`open` gives; raises :class:`OSError`."""

    def open(self) -> AbstractContextManager[BinaryIO]:
        """Open the bytes read-only; raises :class:`OSError` (or zipfile's errors)."""

    def read_header(self) -> Dataset:
        """Read every element before Pixel Data, bounded; raises ``PixelDataError``."""

    def read_dataset(self) -> Dataset:
        """Read the whole dataset, Pixel Data checked first; raises ``PixelDataError``."""


class _Part10Reading:
    """What every source shares: the readers, which are :mod:`galactoview.dicom.loading`'s.

    Imported when called: ``loading`` builds records that hold sources, and its guarded
    reader (bounded header, checked pixel data) is the one reader of the package. By
    default a source is no archive member and seeks for free.
    """

    __slots__ = ()

    @property
    def archive_member(self) -> str | None:
        """``None``: not a member of an archive."""
        return None

    @property
    def costly_seeks(self) -> bool:
        """``False``: seeking is free (a file, bytes in memory)."""
        return False

    def read_header(self) -> Dataset:
        """Read every element before Pixel Data, bounded (see ``loading.read_header``)."""
        from galactoview.dicom import loading

        return loading.read_header(self)  # type: ignore[arg-type]

    def read_dataset(self) -> Dataset:
        """Read the whole dataset, Pixel Data checked (``loading.read_image_dataset``)."""
        from galactoview.dicom import loading

        return loading.read_image_dataset(self)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class FileSource(_Part10Reading):
    """A DICOM file on disk.

    Attributes
    ----------
    path
        The file; opened read-only.
    """

    path: Path

    @property
    def name(self) -> str:
        """The file's path as given."""
        return str(self.path)

    def identity(self) -> SourceIdentity:
        """Return the resolved path, with (size, modification time in ns) as version."""
        info = self.path.stat()
        return SourceIdentity(str(self.path.resolve()), (info.st_size, info.st_mtime_ns))

    def size(self) -> int:
        """Return the file's size."""
        return self.path.stat().st_size

    def open(self) -> AbstractContextManager[BinaryIO]:
        """Open the file read-only."""
        return self.path.open("rb")


@dataclass(frozen=True, slots=True)
class DicomDirEntrySource(FileSource):
    """A file referenced by a DICOMDIR (Referenced File ID (0004,1500), PS3.3 F.5).

    Read as the file it is; :attr:`dicomdir` is the DICOMDIR it was found through.
    """

    dicomdir: Path = Path()


@dataclass(frozen=True, slots=True)
class ZipMemberSource(_Part10Reading):
    """A member of a ``.zip`` archive, read in place (never extracted).

    Attributes
    ----------
    path
        The archive.
    member
        The member's name in the archive (checked at scan: no ``..``, not absolute).
    crc, file_size
        The member's CRC-32 and uncompressed size as the archive listed them at scan.
    """

    path: Path
    member: str
    crc: int = 0
    file_size: int = 0

    @property
    def name(self) -> str:
        """``archive [member]``."""
        return member_label(self.path, self.member)

    @property
    def archive_member(self) -> str | None:
        """The member's name."""
        return self.member

    @property
    def costly_seeks(self) -> bool:
        """Always ``True``: seeking in a member inflates what is skipped."""
        return True

    def identity(self) -> SourceIdentity:
        """Return archive and member, with the archive's size and mtime, CRC and size."""
        info = self.path.stat()
        return SourceIdentity(
            f"{self.path.resolve()}\0{self.member}",
            (info.st_size, info.st_mtime_ns, self.crc, self.file_size),
        )

    def size(self) -> int:
        """Return the member's uncompressed size as the archive lists it now."""
        with zipfile.ZipFile(self.path) as archive:
            return archive.getinfo(self.member).file_size

    def open(self) -> AbstractContextManager[BinaryIO]:
        """Open the member as a stream (seeking far inflates; see :attr:`costly_seeks`)."""
        return _open_member(self.path, self.member)


@dataclass(frozen=True, slots=True)
class BytesSource(_Part10Reading):
    """A Part 10 file held in memory, e.g. an instance retrieved from a PACS.

    Attributes
    ----------
    data
        The file's bytes.
    key
        What identifies the instance, e.g. its SOP Instance UID and origin.
    path
        Where the study is kept on disk (its sidecar is looked for next to it).
    """

    data: bytes
    key: str
    path: Path = Path()

    @property
    def name(self) -> str:
        """The key."""
        return self.key

    def identity(self) -> SourceIdentity:
        """Return the key, with (size, CRC-32 of the bytes) as version."""
        return SourceIdentity(self.key, (len(self.data), zlib.crc32(self.data)))

    def size(self) -> int:
        """Return the number of bytes."""
        return len(self.data)

    def open(self) -> AbstractContextManager[BinaryIO]:
        """Return a stream over the bytes."""
        return io.BytesIO(self.data)


@contextmanager
def _open_member(path: Path, member: str) -> Iterator[BinaryIO]:
    """Open a member of a zip archive as a (seekable) stream."""
    with zipfile.ZipFile(path) as archive, archive.open(member) as stream:
        yield cast(BinaryIO, stream)


def member_label(path: Path, member: str | None) -> str:
    """Name a file, or a member of an archive, for messages: ``path [member]``."""
    return str(path) if member is None else f"{path} [{member}]"
