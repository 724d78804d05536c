"""Find DICOM images on disk and decode their pixels (Qt-free).

:func:`scan` walks files and folders, reads only the header of each candidate
file (``stop_before_pixels``) and returns an :class:`ImageRecord` per image plus
a :class:`LoadProblem` per file it could not use; it never raises for a bad
file. :func:`load_pixels` decodes the stored values of one image later, when it
is displayed, and raises :class:`PixelDataError` with a message fit for the user.

Files are DICOM Part 10 files (PS3.10 7.1: 128-byte preamble, ``DICM`` prefix,
File Meta Information); they are only ever opened for reading. :func:`scan` also
follows a DICOMDIR (PS3.10 8.6, PS3.3 F.5) to the files it references and reads
the members of a ``.zip`` archive in memory. Each record carries its
:class:`~galactoview.dicom.source.ImageSource` (a file, a zip member, a DICOMDIR entry),
through which every later read goes: :func:`read_header`, :func:`load_pixels` and
:func:`read_image_dataset` are the package's one guarded reader.

Reading is tolerant: a dataset stored without preamble and File Meta Information
(not conformant to PS3.10 7.1, but written by old software) is accepted when its
first element is in group 0002 or 0008; its transfer syntax is then inferred from
the encoding pydicom detects.

Reading is also guarded, since the bytes are untrusted: a header is read without its
large values and refused when it would need more than :data:`MAX_HEADER_BYTES`
(e.g. a zip member that inflates a 4 GiB private element); the size a header claims
for its pixel data is checked against the bytes the file holds, and encapsulated data
against its codec's marker, before anything is decoded or allocated; any exception
while reading one file becomes one :class:`LoadProblem` or :class:`PixelDataError`.
A file whose first element after ``DICM`` is a command element (group 0000, never
stored in a file: PS3.10 7.1, PS3.7 E.1), or whose header turns into a run of
elements tagged (0000,0000) (e.g. zeros after a valid start; PS3.5 7.1 wants the
tags of a dataset ascending), is refused at once instead of parsed 8 bytes at a time.
"""

from __future__ import annotations

import dataclasses
import errno
import io
import math
import os
import struct
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final, Literal, NamedTuple, cast

import numpy as np
from pydicom import dcmread
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.encaps import get_frame
from pydicom.errors import InvalidDicomError
from pydicom.pixels.decoders.base import get_decoder
from pydicom.pixels.processing import apply_color_lut, convert_color_space
from pydicom.pixels.utils import pixel_array
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
)

from galactoview.dicom.calibration import Calibration, calibration_from_dataset
from galactoview.dicom.mammography import (
    ContrastPhase,
    Laterality,
    MammoView,
    PatientOrientation,
    contrast_phase,
)
from galactoview.dicom.source import (
    DicomDirEntrySource,
    FileSource,
    ImageSource,
    ZipMemberSource,
    member_label,
)

__all__ = [
    "DICOM_SUFFIXES",
    "MAX_DECODED_BYTES",
    "MAX_HEADER_BYTES",
    "SKIPPED_SUFFIXES",
    "HeaderRefusedError",
    "HeaderTooLargeError",
    "ImageRecord",
    "LoadProblem",
    "PixelDataError",
    "ScanResult",
    "StructuredReportFile",
    "cut_short",
    "document_note",
    "initial_image_index",
    "load_pixels",
    "read_dicom_bytes",
    "read_header",
    "read_image_dataset",
    "record_from_header",
    "scan",
]

#: File name suffixes that are obviously not DICOM; skipped silently inside folders.
SKIPPED_SUFFIXES: Final = frozenset(
    {".png", ".jpg", ".jpeg", ".json", ".md", ".txt", ".py", ".csv", ".sha256", ".pdf"}
)

#: Suffixes that claim a file is DICOM: inside folders, such a file without the
#: ``DICM`` prefix is reported; other files without it are skipped silently.
DICOM_SUFFIXES: Final = frozenset({".dcm", ".dicom", ".dic"})

#: Largest decoded frame :func:`load_pixels` allocates (2 GiB); a header claiming more
#: (Rows x Columns x Samples per Pixel x bytes per sample) is refused before decoding.
MAX_DECODED_BYTES: Final = 2 * 1024**3

#: Most bytes a header (everything before Pixel Data) may make us read: values above
#: :data:`_DEFER_SIZE` are skipped, not read, and a header that needs more than this
#: (a 4 GiB private element in a zip member, thousands of large elements) is refused.
MAX_HEADER_BYTES: Final = 64 * 1024**2

#: Values larger than this are not read with the header (pydicom ``defer_size``); a
#: deferred private value is dropped, a deferred standard one is read only when used.
_DEFER_SIZE: Final = 4 * 1024**2
#: Float Pixel Data, Double Float Pixel Data, Pixel Data (PS3.3 C.7.6.3).
_PIXEL_DATA_TAGS: Final = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})

#: Elements tagged (0000,0000) in a row after which a header or dataset is no longer
#: read: no file stores them (PS3.10 7.1), and a file of zeros would otherwise be parsed
#: 8 bytes at a time (23 s for 64 MiB).
_ZERO_TAG_RUN: Final = 64

#: Bytes a zip member's stream keeps behind its position: seeking back within them is free.
_ZIP_READ_BUFFER: Final = 4096

#: Bytes of the file start searched for a deflated Transfer Syntax UID (File Meta).
_META_PEEK: Final = 1024

#: Largest inflated size of a deflated dataset (PS3.5 A.5), which pydicom reads whole.
_MAX_DEFLATED_BYTES: Final = 256 * 1024**2

#: Most bytes the headers of all members of one ``.zip`` archive may make us inflate.
_ARCHIVE_HEADER_BUDGET: Final = 1024**3

#: Largest compression ratio accepted for an encapsulated frame above
#: :data:`_RATIO_FREE_BYTES`: JPEG-LS and JPEG 2000 reach a few hundred on flat images.
_MAX_COMPRESSION_RATIO: Final = 2000

#: Decoded frames up to this size are decoded whatever their compression ratio.
_RATIO_FREE_BYTES: Final = 64 * 1024**2

#: Media Storage Directory Storage, the SOP Class of a DICOMDIR (PS3.10 8.6, PS3.4 Annex I).
_MEDIA_STORAGE_DIRECTORY: Final = UID("1.2.840.10008.1.3.10")

#: SOP Classes that carry Pixel Data but are not images to read (PS3.3 A.51 Segmentation).
_NOT_IMAGES: Final = frozenset({UID("1.2.840.10008.5.1.4.1.1.66.4")})

#: Structured Report storage SOP Classes (PS3.4 B.5): Basic Text, Enhanced, Comprehensive,
#: Comprehensive 3D SR. Collected by :func:`scan` for their annotations, not reported.
_STRUCTURED_REPORTS: Final = frozenset(
    UID(uid)
    for uid in (
        "1.2.840.10008.5.1.4.1.1.88.11",
        "1.2.840.10008.5.1.4.1.1.88.22",
        "1.2.840.10008.5.1.4.1.1.88.33",
        "1.2.840.10008.5.1.4.1.1.88.34",
    )
)

#: Prefix of the SR-family storage SOP Classes (PS3.4 B.5, e.g. Key Object Selection
#: Document Storage ``...88.59``, X-Ray Radiation Dose SR ``...88.67``).
_SR_FAMILY_PREFIX: Final = "1.2.840.10008.5.1.4.1.1.88."

#: Pixel Data (7FE0,0010); Float and Double Float Pixel Data are not images we show.
_PIXEL_DATA_TAG: Final = (0x7FE0, 0x0010)

#: Value Representations Pixel Data may have in explicit VR (PS3.5 8.2, A.4).
_PIXEL_VRS: Final = frozenset({b"OB", b"OW", b"UN"})

#: Value Length of an element with undefined length (PS3.5 7.1.1), i.e. encapsulated.
_UNDEFINED_LENGTH: Final = 0xFFFFFFFF

#: Attributes an image must have to be listed, with their tags for messages.
_REQUIRED: Final = (
    ("SOPInstanceUID", "(0008,0018)"),
    ("StudyInstanceUID", "(0020,000D)"),
    ("SeriesInstanceUID", "(0020,000E)"),
    ("Rows", "(0028,0010)"),
    ("Columns", "(0028,0011)"),
)

#: JPEG transfer syntaxes (PS3.5 A.4.1, 8.2.1) decoded with imagecodecs when pydicom fails.
_JPEG_SYNTAXES: Final = frozenset(
    {JPEGBaseline8Bit, JPEGExtended12Bit, JPEGLossless, JPEGLosslessSV1}
)

#: Photometric interpretations the grayscale display pipeline can show (PS3.3 C.7.6.3.1.2).
_MONOCHROME: Final = frozenset({"MONOCHROME1", "MONOCHROME2"})


@dataclass(frozen=True, slots=True)
class LoadProblem:
    """A file that could not be used, and why.

    Attributes
    ----------
    path
        The file (or folder) concerned.
    message
        One line for the user, e.g. ``"not a DICOM file (no 'DICM' prefix)"``.
    archive_member
        Name of the member within a ``.zip`` archive ``path``, ``None`` for plain files.
    note
        ``True`` when nothing is wrong with the file: it is a document the viewer has no
        use for (see :func:`document_note`), told calmly, not as a problem.
    """

    path: Path
    message: str
    archive_member: str | None = None
    note: bool = False

    def __str__(self) -> str:
        where = str(self.path) if self.archive_member is None else _member_label(self)
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class ImageRecord:
    """What the header of one DICOM image file says (no pixel data).

    Attributes use the DICOM keyword they come from; missing optional values are
    ``""`` (strings) or ``None`` (numbers).

    Attributes
    ----------
    source
        Where the image is read from (:class:`~galactoview.dicom.source.ImageSource`):
        every later read of the image goes through it, and caches key on its identity.
        :attr:`path` and :attr:`archive_member` are the source's, for messages and for
        locating the study's sidecar.
    sop_instance_uid, study_instance_uid, series_instance_uid
        SOP Instance UID (0008,0018), Study Instance UID (0020,000D) and Series
        Instance UID (0020,000E).
    patient_name, patient_id
        Patient's Name (0010,0010) as the DICOM PN string, Patient ID (0010,0020).
    study_date
        Study Date (0008,0020), ``YYYYMMDD``.
    study_description, series_description
        Study Description (0008,1030), Series Description (0008,103E).
    series_number, instance_number
        Series Number (0020,0011), Instance Number (0020,0013).
    modality
        Modality (0008,0060), e.g. ``"MG"``.
    rows, columns
        Rows (0028,0010), Columns (0028,0011).
    image_laterality
        Laterality of the image (see :class:`~galactoview.dicom.mammography.MammoView`).
    view
        Laterality, view and view modifiers.
    photometric_interpretation
        Photometric Interpretation (0028,0004).
    transfer_syntax_uid
        Transfer Syntax UID (0002,0010) of the file.
    contrast_bolus_agent
        Contrast/Bolus Agent (0018,0010), ``""`` if no contrast is recorded.
    number_of_frames
        Number of Frames (0028,0008), 1 when absent.
    patient_orientation
        Patient Orientation (0020,0020), ``None`` when absent or invalid; with
        :attr:`view` it decides the hanging flips
        (:func:`~galactoview.dicom.mammography.hanging_flip`).
    contrast_phase
        Pre- or post-contrast, from :func:`~galactoview.dicom.mammography.contrast_phase`.
    calibration
        mm per pixel and where it came from
        (:func:`~galactoview.dicom.calibration.calibration_from_dataset`); ``None``
        only for records built by hand without one.
    patient_birth_date, patient_sex
        Patient's Birth Date (0010,0030) ``YYYYMMDD`` and Patient's Sex (0010,0040).
    accession_number, institution_name
        Accession Number (0008,0050) and Institution Name (0008,0080).
    acquisition_date_time
        Acquisition DateTime (0008,002A), else Acquisition Date (0008,0022) +
        Acquisition Time (0008,0032), else Content Date + Time (0008,0023/0033); ``""``.
    frame_time_ms
        Frame Time (0018,1063) in ms, or 1000 / Recommended Display Frame Rate
        (0008,2144), for cine of multi-frame images; ``None`` when neither is given.
    """

    source: ImageSource
    sop_instance_uid: str
    study_instance_uid: str
    series_instance_uid: str
    patient_name: str
    patient_id: str
    study_date: str
    study_description: str
    series_description: str
    series_number: int | None
    instance_number: int | None
    modality: str
    rows: int
    columns: int
    image_laterality: Laterality
    view: MammoView
    photometric_interpretation: str
    transfer_syntax_uid: str
    contrast_bolus_agent: str = ""
    number_of_frames: int = 1
    patient_orientation: PatientOrientation | None = None
    contrast_phase: ContrastPhase = ContrastPhase.UNKNOWN
    calibration: Calibration | None = None
    frame_time_ms: float | None = None
    patient_birth_date: str = ""
    patient_sex: str = ""
    accession_number: str = ""
    institution_name: str = ""
    acquisition_date_time: str = ""

    @property
    def path(self) -> Path:
        """Return the file on disk holding the image (the archive of a zip member).

        For messages, and to locate the study's sidecar next to it; read the image
        through :attr:`source`, never through this path.
        """
        return self.source.path

    @property
    def archive_member(self) -> str | None:
        """Return the member of the ``.zip`` archive :attr:`path` holding the image, or None."""
        return self.source.archive_member

    @property
    def name(self) -> str:
        """Return how messages name the image: its file, or ``archive [member]``."""
        return self.source.name

    @property
    def frame_count(self) -> int:
        """Return the number of frames, Number of Frames (0028,0008) or 1."""
        return self.number_of_frames

    @property
    def is_post_contrast(self) -> bool:
        """Return whether the image was taken after contrast injection.

        True when Contrast/Bolus Agent (0018,0010) is present (PS3.3 C.7.6.4),
        or the series description says ``post``.
        """
        return bool(self.contrast_bolus_agent) or "post" in self.series_description.lower()

    def sort_key(self) -> tuple[str, str, int, int, str, str]:
        """Return the ordering key within a study list: study date and UID, series, instance.

        Series Instance UID and the path break ties; a missing number sorts last.
        """
        big = 2**31
        return (
            self.study_date,
            self.study_instance_uid,
            big if self.series_number is None else self.series_number,
            big if self.instance_number is None else self.instance_number,
            self.series_instance_uid,
            str(self.path) + "\0" + (self.archive_member or ""),
        )


@dataclass(frozen=True, slots=True)
class ScanResult:
    """The images found by :func:`scan`, sorted, the structured reports and the files that failed.

    Attributes
    ----------
    images
        Images sorted by study date and UID, series number, instance number.
    problems
        One entry per unusable file, in the order met.
    reports
        Structured Report documents found next to the images (plain files; PS3.3 A.35),
        in the order met: the viewer reads annotations from TID 1500 measurement reports.
    """

    images: tuple[ImageRecord, ...] = ()
    problems: tuple[LoadProblem, ...] = ()
    reports: tuple[StructuredReportFile, ...] = ()


@dataclass(frozen=True, slots=True)
class StructuredReportFile:
    """A Structured Report document met while scanning (not an image).

    Attributes
    ----------
    path
        The file.
    study_instance_uid, sop_instance_uid
        Study Instance UID (0020,000D) and SOP Instance UID (0008,0018) of the report.
    sop_class_name
        Name of its SOP Class, e.g. ``"Comprehensive SR Storage"``.
    """

    path: Path
    study_instance_uid: str
    sop_instance_uid: str
    sop_class_name: str


class PixelDataError(Exception):
    """The pixel data of an image could not be decoded.

    Parameters
    ----------
    path
        The file.
    message
        What is wrong, one line for the user.
    """

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def scan(paths: Iterable[Path]) -> ScanResult:
    """Find the DICOM images in files, folders, DICOMDIRs and ``.zip`` archives.

    Folders are walked recursively in sorted order; hidden files and folders,
    files with an obviously non-DICOM suffix (:data:`SKIPPED_SUFFIXES`) and files
    without the ``DICM`` prefix (PS3.10 7.1) are skipped silently, unless their
    suffix claims DICOM (:data:`DICOM_SUFFIXES`). Symbolic links to folders are not
    followed; a symbolic link loop is reported. A folder in which nothing at all is
    found is reported (``no DICOM image found``). Files named explicitly are always
    tried and reported when unusable. A DICOMDIR (PS3.10 8.6) is followed to the
    files its directory records reference (PS3.3 F.5); a missing referenced file is
    reported, and so is one whose File ID leaves the DICOMDIR's folder (PS3.10 8.2),
    which is not read. The members of a ``.zip`` archive are read in memory, headers
    only; a member named with ``..`` or an absolute path is reported and not read.

    Only headers are read: Pixel Data (7FE0,0010) is never read nor decoded here.

    Parameters
    ----------
    paths
        Files and folders, in any mix.

    Returns
    -------
    ScanResult
        The images, sorted, and a problem for each path that does not exist and
        each file that is not a usable DICOM image. Never raises for bad input.
    """
    scanner = _Scanner()
    for path in paths:
        scanner.add_path(Path(path))
    images = sorted(scanner.images, key=ImageRecord.sort_key)
    # Newest study first, as on a reading list: the current exam above its priors. The sort
    # is stable, so series and instances keep their order within each study.
    images.sort(key=lambda record: record.study_date, reverse=True)
    return ScanResult(tuple(images), tuple(scanner.problems), tuple(scanner.reports))


def read_header(image: ImageRecord | ImageSource) -> Dataset:
    """Read the whole header of an image again, without its pixel data.

    Read as :func:`scan` reads it: at most :data:`MAX_HEADER_BYTES`, large values
    skipped, zeros and garbage refused; a zip member is read as a stream, not inflated
    whole.

    Parameters
    ----------
    image
        The image, or its source.

    Returns
    -------
    Dataset
        Every element before Pixel Data (7FE0,0010), with the file meta.

    Raises
    ------
    PixelDataError
        If the file can no longer be read.
    """
    source = image.source if isinstance(image, ImageRecord) else image
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with source.open() as stream:
                return _read_header(stream, costly_seeks=source.costly_seeks)
    except PixelDataError:
        raise
    except HeaderRefusedError as exc:
        raise PixelDataError(source.path, f"refused: {exc}") from exc
    except (OSError, InvalidDicomError, zipfile.BadZipFile, KeyError) as exc:
        raise PixelDataError(source.path, f"cannot read the file: {_describe(exc)}") from exc
    except Exception as exc:  # pydicom raises many types for damaged files
        raise PixelDataError(source.path, f"damaged DICOM header: {_describe_any(exc)}") from exc


def load_pixels(
    record: ImageRecord, frame: int | None = None, *, colour: bool = False
) -> np.ndarray:
    """Decode the stored pixel values of one frame of an image.

    Pixel data is decoded by pydicom and its plugins. JPEG (PS3.5 A.4.1) that they
    cannot decode, e.g. a 12-bit Extended stream whose scan header pylibjpeg-libjpeg
    refuses, is decoded by imagecodecs (libjpeg-turbo) instead, to the same layout.

    Only the requested frame is decoded where the encoding allows it (PS3.5 8.2:
    an encapsulated transfer syntax stores each frame in its own fragments; native
    frames are read from their offset). The header is checked first, so an image
    whose frame would need more than :data:`MAX_DECODED_BYTES` is refused before
    anything is allocated.

    Parameters
    ----------
    record
        The image, as found by :func:`scan`.
    frame
        Index of the frame, from 0 to ``record.frame_count - 1``; ``None`` means the
        first frame.
    colour
        ``False`` (the default, for the grayscale display pipeline): only
        MONOCHROME1 and MONOCHROME2 images are decoded. ``True``: colour images are
        also decoded, as RGB of shape ``(Rows, Columns, 3)``: YBR_FULL and
        YBR_FULL_422 are converted to RGB (PS3.3 C.7.6.3.1.2) and PALETTE COLOR
        is mapped through its palette (PS3.3 C.7.6.3.1.5, C.7.9).

    Returns
    -------
    numpy.ndarray
        The stored values of the frame, shape ``(Rows, Columns)`` (``(Rows,
        Columns, 3)`` for colour), unsigned or signed integers as Pixel
        Representation (0028,0103) says, in native byte order; no Modality LUT
        applied.

    Raises
    ------
    PixelDataError
        If the file cannot be read, has no Pixel Data, the frame does not exist,
        the image is not grayscale (unless ``colour``), would need too much memory,
        needs a decoder that is not installed, or its pixel data is damaged,
        truncated or does not match its transfer syntax.
    """
    path = record.path
    index = 0 if frame is None else frame
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with _open_image(record) as stream:
                return _decode_frame(path, stream, index, colour)
    except PixelDataError:
        raise
    except MemoryError as exc:
        raise PixelDataError(path, "not enough memory to decode the image") from exc
    except HeaderRefusedError as exc:
        raise PixelDataError(path, f"refused: {exc}") from exc
    except (OSError, InvalidDicomError, zipfile.BadZipFile, KeyError) as exc:
        raise PixelDataError(path, f"cannot read the file: {_describe(exc)}") from exc
    except Exception as exc:  # pydicom raises many types for damaged files
        raise PixelDataError(path, f"damaged DICOM file: {_describe_any(exc)}") from exc


def read_dicom_bytes(data: bytes) -> Dataset:
    """Read a whole DICOM Part 10 file held in memory (e.g. an SR), guarded as headers are.

    For untrusted files read whole: a first element after ``DICM`` in group 0000 or a
    run of elements tagged (0000,0000) is refused at once (PS3.10 7.1, PS3.5 7.1)
    instead of being parsed 8 bytes at a time (a file of zeros took seconds).

    Parameters
    ----------
    data
        The file's bytes; nothing larger than them is read or allocated by the guard.

    Returns
    -------
    Dataset
        The dataset with its file meta, every value read.

    Raises
    ------
    HeaderRefusedError
        If the bytes are zeros or garbage where elements should be.
    InvalidDicomError
        If there is no ``DICM`` prefix after the preamble.
    """
    head = data[:140]
    if _sniff(head) == "part10":
        _check_first_element(head)
    return _guarded_read(io.BytesIO(data), defer_size=None)


#: Explicit VRs with a reserved field and a 4-byte length (PS3.5 7.1.2, Table 7.1-1).
_LONG_VRS = frozenset(
    {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
)
#: Item, Item Delimitation and Sequence Delimitation Item tags (PS3.5 7.5).
_ITEM, _ITEM_END, _SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
#: Transfer syntaxes :func:`cut_short` walks: Implicit, Explicit VR Little Endian -> explicit?
_WALKED_SYNTAXES: Final = {"1.2.840.10008.1.2": False, "1.2.840.10008.1.2.1": True}


def _element_header(data: bytes, pos: int, explicit: bool) -> tuple[int, bytes, int, int] | None:
    """Return (tag, VR, value length, header size) of the element at ``pos``; None if cut."""
    if len(data) - pos < 8:
        return None
    group, element = struct.unpack_from("<HH", data, pos)
    tag = group << 16 | element
    if group == 0xFFFE or not explicit:  # items and delimiters have no VR (PS3.5 7.5)
        return tag, b"", struct.unpack_from("<L", data, pos + 4)[0], 8
    vr = data[pos + 4 : pos + 6]
    if vr not in _LONG_VRS:
        return tag, vr, struct.unpack_from("<H", data, pos + 6)[0], 8
    if len(data) - pos < 12:
        return None
    return tag, vr, struct.unpack_from("<L", data, pos + 8)[0], 12


def cut_short(data: bytes) -> str | None:
    """Return how a Part 10 file is cut short, ``None`` when it is whole or cannot be judged.

    pydicom stops reading silently where the data ends, so a truncated SR would read as
    a shorter one. This walks the elements (PS3.5 7.1) of a file in Implicit or Explicit
    VR Little Endian: every length must fit in the file and every undefined-length
    sequence and item must be closed by its delimitation item (PS3.5 7.5). Other
    transfer syntaxes, undefined-length elements other than SQ and odd bytes are not
    judged (``None``): only a certain truncation is reported. Meant for a file read
    whole (e.g. an SR, before :func:`read_dicom_bytes`).

    Parameters
    ----------
    data
        The file's bytes.

    Returns
    -------
    str or None
        What is cut short, one phrase for the user; ``None`` when nothing certainly is.
    """
    if len(data) < 132 or data[128:132] != b"DICM":
        return None
    pos, syntax = 132, ""
    while True:  # file meta information: Explicit VR Little Endian, group 0002 (PS3.10 7.1)
        header = _element_header(data, pos, explicit=True)
        if header is None and pos < len(data):
            return "the file meta information is cut short"
        if header is None or header[0] >> 16 != 0x0002:
            break
        tag, _vr, length, size = header
        if length == _UNDEFINED_LENGTH or pos + size + length > len(data):
            return "the file meta information is cut short"
        if tag == 0x00020010:
            syntax = data[pos + size : pos + size + length].decode("ascii", "replace")
        pos += size + length
    explicit = _WALKED_SYNTAXES.get(syntax.rstrip("\0 "))
    if explicit is None:
        return None
    open_containers = 0  # undefined-length sequences and items still waiting for their end
    while pos < len(data):
        header = _element_header(data, pos, explicit)
        if header is None:
            return f"the data ends inside an element header at byte {pos}"
        tag, vr, length, size = header
        if explicit and tag >> 16 != 0xFFFE and not (vr.isalpha() and vr.isupper()):
            return None  # not an explicit VR: cannot be judged here
        pos += size
        if tag in (_ITEM_END, _SEQUENCE_END):
            open_containers -= 1
        elif length == _UNDEFINED_LENGTH:
            if explicit and tag != _ITEM and vr != b"SQ":
                return None  # undefined-length UN/OB: encoded otherwise inside
            open_containers += 1
        elif pos + length > len(data):
            return (
                f"element ({tag >> 16:04X},{tag & 0xFFFF:04X}) announces {length} bytes but "
                f"only {len(data) - pos} remain"
            )
        else:
            pos += length
        if open_containers < 0:
            return None  # a stray delimiter: malformed, not cut short
    if open_containers:
        return f"the data ends inside {open_containers} unterminated sequence(s) and item(s)"
    return None


def initial_image_index(images: Sequence[ImageRecord]) -> int | None:
    """Choose the image to show first: a post-contrast CC if any, else the first.

    Parameters
    ----------
    images
        Images in display order.

    Returns
    -------
    int or None
        Index into ``images``, ``None`` when empty.
    """
    for index, image in enumerate(images):
        if image.is_post_contrast and image.view.short_name == "CC":
            return index
    return 0 if images else None


# --- decoding -------------------------------------------------------------------------


class _PixelElement(NamedTuple):
    """The Pixel Data (7FE0,0010) element as found after the header.

    ``length`` is its Value Length (``0xFFFFFFFF`` when encapsulated), ``available``
    the bytes the file holds after the length field, ``implicit`` whether it was
    encoded with implicit VR.
    """

    length: int
    available: int
    implicit: bool
    value_start: int = 0


def read_image_dataset(image: ImageSource | Path) -> Dataset:
    """Read a whole image, its pixel data checked against its header first.

    For ``render`` and other readers that want the dataset itself: the header is read
    as :func:`scan` reads it (no value larger than :data:`MAX_HEADER_BYTES`), the Pixel
    Data is checked as :func:`load_pixels` checks it (the size the header claims
    against the bytes the file holds, the transfer syntax against the data), and only
    then is the file read, values above a few MB being read when first used.
    A file without Pixel Data is returned as it is (the caller says what is missing).
    As for :func:`load_pixels`, the Transfer Syntax UID of the result is the encoding
    found: inferred for a dataset without File Meta Information, Implicit VR when the
    meta claims explicit VR over an implicit VR dataset (PS3.5 A.1). A zip member is
    inflated into memory (at most :data:`MAX_DECODED_BYTES` and a header).

    Parameters
    ----------
    image
        The image's source; a path is read as a :class:`~galactoview.dicom.source.FileSource`.

    Returns
    -------
    Dataset
        The dataset with its file meta; private values too large for a header dropped.

    Raises
    ------
    PixelDataError
        If the file cannot be read, or its header and pixel data do not agree.
    """
    source = FileSource(image) if isinstance(image, Path) else image
    path = source.path
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with _random_access(source, MAX_HEADER_BYTES + MAX_DECODED_BYTES) as stream:
                header = _read_header(stream)
                element: _PixelElement | None = None
                with suppress(_NoPixelDataError):
                    element = _check_frame_request(path, stream, header, 0, colour=True)[1]
                stream.seek(0)
                force = _sniff(stream.read(132)) == "raw"
                stream.seek(0)
                # pydicom reads a deferred value by reopening the file: a source held
                # in memory (a zip member, a retrieved instance) is read whole instead.
                defer = _DEFER_SIZE if isinstance(source, FileSource) else None
                ds = _guarded_read(stream, force=force, end_at_zero_run=True, defer_size=defer)
                syntax = _syntax_of(header)
                if element is not None and element.implicit and not syntax.is_implicit_VR:
                    syntax = ImplicitVRLittleEndian  # the dataset as found (PS3.5 A.1)
                if syntax != _syntax_of(ds) or not _has_meta_syntax(ds):
                    ds.file_meta.TransferSyntaxUID = syntax
                return ds
    except PixelDataError:
        raise
    except HeaderRefusedError as exc:
        raise PixelDataError(path, f"refused: {exc}") from exc
    except InvalidDicomError as exc:
        raise PixelDataError(
            path, "not a DICOM file (no 'DICM' prefix after the preamble)"
        ) from exc
    except OSError as exc:
        raise PixelDataError(
            path, f"cannot read the file: {exc.strerror or _describe(exc)}"
        ) from exc
    except Exception as exc:  # pydicom raises many types for damaged files
        raise PixelDataError(path, f"damaged DICOM file: {_describe_any(exc)}") from exc


def _check_frame_request(
    path: Path, stream: BinaryIO, header: Dataset, index: int, *, colour: bool
) -> tuple[UID, _PixelElement | None, int, str]:
    """Check an open image before decoding frame ``index``; the stream follows its header.

    Returns (transfer syntax, Pixel Data element or None when deflated, number of
    frames, Photometric Interpretation); raises :class:`_NoPixelDataError` without
    Pixel Data and :class:`PixelDataError` for anything else that is wrong.
    """
    syntax = _syntax_of(header)
    element = _pixel_element(stream, header, syntax)
    frames = _optional_int(header.get("NumberOfFrames")) or 1
    if not 0 <= index < frames:
        raise PixelDataError(path, f"frame {index} does not exist; the image has {frames} frame(s)")
    photometric = str(header.get("PhotometricInterpretation", "")).strip()
    if photometric not in _MONOCHROME and not colour:
        raise PixelDataError(
            path,
            f"Photometric Interpretation {photometric or '(missing)'} is not supported;"
            " only MONOCHROME1 and MONOCHROME2 images can be shown",
        )
    stored_bits = _check_image_pixel_module(path, header)
    if photometric == "YBR_FULL_422" and not syntax.is_encapsulated:
        # PS3.3 C.7.6.3.1.2: native YBR_FULL_422 stores two samples a pixel, not three.
        stored_bits = stored_bits * 2 // 3
    _check_decoder(path, syntax)
    if element is not None:
        claim = _Claim.of(header, frames, (stored_bits * frames + 7) // 8)
        _check_pixel_element(path, syntax, element, claim)
        if element.length == _UNDEFINED_LENGTH:
            stream.seek(element.value_start)
            _check_encapsulated(path, syntax, stream, element.available, claim)
    return syntax, element, frames, photometric


def _decode_frame(path: Path, stream: BinaryIO, index: int, colour: bool) -> np.ndarray:
    """Check the header of an open image, then decode frame ``index``."""
    header = _read_header(stream)
    try:
        syntax, element, frames, photometric = _check_frame_request(
            path, stream, header, index, colour=colour
        )
    except _NoPixelDataError:
        raise PixelDataError(path, "the file has no Pixel Data (7FE0,0010)") from None
    found = syntax
    if element is not None and element.implicit and not syntax.is_implicit_VR:
        # The file meta claims explicit VR, the dataset is implicit VR (PS3.5 A.1).
        found = ImplicitVRLittleEndian
    stream.seek(0)
    try:
        if found.is_deflated or found != syntax or not _has_meta_syntax(header):
            # Deflated (PS3.5 A.5), without File Meta or with the wrong Transfer Syntax
            # UID: parse it all (pydicom detects the encoding), then decode.
            ds = _guarded_read(stream, force=True, defer_size=None, end_at_zero_run=True)
            ds.file_meta.TransferSyntaxUID = found
            if "PixelData" not in ds:
                raise PixelDataError(path, "the file has no Pixel Data (7FE0,0010)")
            stored = pixel_array(ds, index=index) if frames > 1 else pixel_array(ds)
        else:
            # From the stream, pydicom reads only the requested frame.
            stored = pixel_array(stream, index=index) if frames > 1 else pixel_array(stream)
    except PixelDataError:
        raise
    except (ValueError, RuntimeError, NotImplementedError, AttributeError, KeyError) as exc:
        fallback = (
            _decode_jpeg_fallback(stream, header, index, frames)
            if syntax in _JPEG_SYNTAXES
            else None
        )
        if fallback is None:
            raise PixelDataError(path, _pixel_message(syntax, exc)) from exc
        stored = fallback
    if photometric == "PALETTE COLOR":
        # PS3.3 C.7.6.3.1.5: stored values index the Red, Green and Blue palettes.
        stored = apply_color_lut(stored, header)
    if not stored.dtype.isnative:
        # Explicit VR Big Endian (PS3.5 A.3) decodes to big-endian values.
        stored = stored.astype(stored.dtype.newbyteorder("="))
    if stored.ndim != (2 if photometric in _MONOCHROME else 3):
        raise PixelDataError(
            path, f"expected one {photometric} frame, decoded an array of shape {stored.shape}"
        )
    return stored


def _decode_jpeg_fallback(
    stream: BinaryIO, header: Dataset, index: int, frames: int
) -> np.ndarray | None:
    """Decode one JPEG frame with imagecodecs, after pydicom's plugins failed.

    For the JPEG transfer syntaxes of PS3.5 A.4.1 and 8.2.1 (Baseline, Process 1;
    Extended, Processes 2 and 4, 12-bit DCT; Lossless, Process 14), which
    pylibjpeg-libjpeg refuses for some real streams (e.g. a sequential scan whose Se
    is 0 instead of 63) and Pillow cannot decode at 12 bits. The frame's fragments
    are found as PS3.5 A.4 lays them out (Basic Offset Table, or the Extended Offset
    Table of PS3.3 C.7.6.3), decoded by libjpeg-turbo (``imagecodecs.jpeg8_decode``),
    else by ``ljpeg_decode`` or ``jpegsof3_decode`` (lossless only), and processed
    as pydicom does: shape ``(Rows, Columns[, Samples per Pixel])``, dtype from Bits
    Allocated and Pixel Representation, bits above Bits Stored cleared or
    sign-extended (PS3.5 8.1.1), YBR_FULL and YBR_FULL_422 converted to RGB
    (PS3.3 C.7.6.3.1.2).

    Parameters
    ----------
    stream
        The open file, any position.
    header
        Its header, as read by :func:`_read_header`.
    index
        Index of the frame, already checked against ``frames``.
    frames
        Number of Frames (0028,0008), 1 when absent.

    Returns
    -------
    numpy.ndarray or None
        The stored values, or ``None`` when imagecodecs is missing, cannot decode the
        frame or decodes something that does not match the header.
    """
    try:
        import imagecodecs  # a dependency; imported here, only when needed
    except ImportError:
        return None
    rows = _optional_int(header.get("Rows")) or 0
    columns = _optional_int(header.get("Columns")) or 0
    samples = _optional_int(header.get("SamplesPerPixel")) or 1
    allocated = _optional_int(header.get("BitsAllocated")) or 0
    stored_bits = _optional_int(header.get("BitsStored")) or allocated
    signed = (_optional_int(header.get("PixelRepresentation")) or 0) == 1
    photometric = str(header.get("PhotometricInterpretation", "")).strip()
    if allocated not in (8, 16) or samples not in (1, 3):
        return None
    stream.seek(0)
    try:
        ds = _guarded_read(stream, force=True, defer_size=None, end_at_zero_run=True)
        offsets = None
        if "ExtendedOffsetTable" in ds and "ExtendedOffsetTableLengths" in ds:
            offsets = (ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths)
        codestream = get_frame(
            ds.PixelData, index, extended_offsets=offsets, number_of_frames=frames
        )
    except Exception:  # pydicom raises many types for damaged data; keep its message
        return None
    shape = (rows, columns) if samples == 1 else (rows, columns, samples)
    decoded: np.ndarray | None = None
    for decode in (imagecodecs.jpeg8_decode, imagecodecs.ljpeg_decode, imagecodecs.jpegsof3_decode):
        try:
            if decode is imagecodecs.jpeg8_decode and samples == 3:
                # Keep the stored colour space; converted below as pydicom does.
                space = (
                    imagecodecs.JPEG8.CS.YCbCr if "YBR" in photometric else imagecodecs.JPEG8.CS.RGB
                )
                candidate = decode(codestream, colorspace=space, outcolorspace=space)
            else:
                candidate = decode(codestream)
        except Exception:  # imagecodecs raises its own error types per codec
            continue
        if samples == 1 and candidate.ndim == 3 and candidate.shape[-1] == 1:
            candidate = candidate[..., 0]
        if candidate.shape == shape and candidate.dtype.kind == "u":
            decoded = candidate
            break
    if decoded is None or decoded.dtype.itemsize * 8 > allocated:
        return None
    unsigned = decoded.astype(np.uint8 if allocated == 8 else np.uint16)
    values = unsigned.view(np.int8 if allocated == 8 else np.int16) if signed else unsigned
    if stored_bits < allocated:
        # PS3.5 8.1.1: bits above Bits Stored are not part of the value.
        shift = allocated - stored_bits
        values = np.right_shift(np.left_shift(values, shift), shift)
    if samples == 3 and photometric in ("YBR_FULL", "YBR_FULL_422"):
        values = convert_color_space(values, "YBR_FULL", "RGB")
    return values


def _check_image_pixel_module(path: Path, header: Dataset) -> int:
    """Check the Image Pixel module (PS3.3 C.7.6.3); return the bits of one stored frame."""
    rows = _optional_int(header.get("Rows")) or 0
    columns = _optional_int(header.get("Columns")) or 0
    samples = _optional_int(header.get("SamplesPerPixel")) or 1
    allocated = _optional_int(header.get("BitsAllocated"))
    stored_bits = _optional_int(header.get("BitsStored"))
    if rows <= 0 or columns <= 0:
        raise PixelDataError(path, f"invalid image size: Rows {rows}, Columns {columns}")
    if allocated is None:
        raise PixelDataError(path, "the header has no Bits Allocated (0028,0100)")
    # PS3.5 8.1.1: Bits Allocated is 1 or a multiple of 8.
    if allocated != 1 and (allocated <= 0 or allocated % 8):
        raise PixelDataError(
            path,
            f"Bits Allocated {allocated} is not supported"
            " (PS3.5 8.1.1: it must be 1 or a multiple of 8)",
        )
    if stored_bits is not None and not 0 < stored_bits <= allocated:
        raise PixelDataError(
            path, f"Bits Stored {stored_bits} does not fit in Bits Allocated {allocated}"
        )
    per_sample = max(1, allocated // 8)
    frame_bytes = rows * columns * samples * per_sample
    if frame_bytes > MAX_DECODED_BYTES:
        raise PixelDataError(
            path,
            f"the image is too large: one frame would need {_size(frame_bytes)}"
            f" (Rows {rows} x Columns {columns} x Samples per Pixel {samples}"
            f" x {per_sample} byte(s)), more than the limit of {_size(MAX_DECODED_BYTES)}",
        )
    # PS3.5 8.1.1: native frames are contiguous; 1-bit data is packed 8 pixels a byte.
    return rows * columns * samples * allocated


class _Claim(NamedTuple):
    """What a header says the pixel data holds (PS3.3 C.7.6.3), for size checks."""

    rows: int
    columns: int
    frames: int
    samples: int
    bits: int
    total: int  # bytes of all frames, native (PS3.5 8.1.1)

    @classmethod
    def of(cls, header: Dataset, frames: int, total: int) -> _Claim:
        return cls(
            _optional_int(header.get("Rows")) or 0,
            _optional_int(header.get("Columns")) or 0,
            frames,
            _optional_int(header.get("SamplesPerPixel")) or 1,
            _optional_int(header.get("BitsAllocated")) or 0,
            total,
        )

    def text(self) -> str:
        """Say it in words, e.g. ``Rows 8 x Columns 8 x 1 frame(s) ... = 128 bytes``."""
        return (
            f"Rows {self.rows} x Columns {self.columns} x {self.frames} frame(s)"
            f" x {self.samples} sample(s) x {self.bits} bit(s) = {_size(self.total)}"
        )


def _check_pixel_element(path: Path, syntax: UID, element: _PixelElement, claim: _Claim) -> None:
    """Check Pixel Data against the transfer syntax and the size the header claims.

    Native pixel data (PS3.5 8.1.1) must hold what Rows, Columns, Number of Frames,
    Samples per Pixel and Bits Allocated say, padded to an even length (PS3.5 7.1.1);
    more means the header or the transfer syntax is wrong (e.g. 16-bit data labelled
    8-bit, compressed data labelled native), less that the data is truncated.
    """
    encapsulated = element.length == _UNDEFINED_LENGTH
    if syntax.is_encapsulated and not encapsulated:
        # PS3.5 A.4: compressed pixel data is encapsulated, with undefined length.
        raise PixelDataError(
            path,
            f"the transfer syntax {_syntax_name(syntax)} says the pixel data is compressed,"
            " but it is stored uncompressed (PS3.5 A.4)",
        )
    if encapsulated and not syntax.is_encapsulated:
        raise PixelDataError(
            path,
            f"the pixel data is compressed (encapsulated), but the transfer syntax"
            f" {_syntax_name(syntax)} says it is not (PS3.5 A.4)",
        )
    if encapsulated:
        return
    if element.available < element.length:
        raise PixelDataError(
            path,
            f"the pixel data is truncated: the file ends {element.length - element.available}"
            f" bytes before the end of Pixel Data ({element.length} bytes)",
        )
    if element.length < claim.total:
        raise PixelDataError(
            path,
            f"the pixel data is truncated: the header claims {claim.text()},"
            f" but the pixel data holds {_size(element.length)}",
        )
    # Trailing bytes after the image (vendor padding) are ignored, as pydicom does; twice
    # the claimed size or more means the attributes or the syntax are wrong.
    if element.length >= 2 * claim.total > 0:
        raise PixelDataError(
            path,
            f"the header claims {claim.text()}, but the pixel data holds"
            f" {_size(element.length)}: the transfer syntax {_syntax_name(syntax)}"
            " or the image attributes are wrong (PS3.5 8.1.1)",
        )


#: Item tag (FFFE,E000) as stored in encapsulated pixel data (little endian, PS3.5 A.4).
_ITEM_TAG: Final = b"\xfe\xff\x00\xe0"

#: The JP2 file signature box (ISO/IEC 15444-1 I.5.1).
_JP2_SIGNATURE: Final = b"\x00\x00\x00\x0cjP  \r\n\x87\n"


def _check_encapsulated(
    path: Path, syntax: UID, stream: BinaryIO, available: int, claim: _Claim
) -> None:
    """Check encapsulated pixel data (PS3.5 A.4) before it is decoded.

    The first fragment must start as the transfer syntax's codec starts: JPEG (PS3.5
    A.4.1, A.4.3, ISO/IEC 10918-1, 14495-1) with SOI ``FFD8``; JPEG 2000 (A.4.4,
    A.4.6) with SOC ``FF4F`` or a JP2 signature box; RLE (A.4.2, Annex G) with its
    64-byte header (1 to 15 segments, the first at offset 64). And the size the header
    claims may exceed the bytes stored by at most :data:`_MAX_COMPRESSION_RATIO` once
    it is above :data:`_RATIO_FREE_BYTES`.
    """
    if claim.total > _RATIO_FREE_BYTES and claim.total > _MAX_COMPRESSION_RATIO * max(available, 1):
        raise PixelDataError(
            path,
            f"the header claims {claim.text()}, but the pixel data holds {_size(available)}"
            f" compressed, a ratio above {_MAX_COMPRESSION_RATIO}:1",
        )
    head = _first_fragment_head(stream)
    if head is None:
        raise PixelDataError(
            path, "the encapsulated pixel data does not start with items (PS3.5 A.4)"
        )
    expected = _codec_start(syntax, head)
    if expected:
        raise PixelDataError(
            path,
            f"the transfer syntax {_syntax_name(syntax)} says the pixel data is"
            f" {expected}, but its first fragment starts with {head[:4].hex(' ').upper()}"
            " (PS3.5 A.4)",
        )


def _first_fragment_head(stream: BinaryIO) -> bytes | None:
    """Read the start of the first fragment after the Basic Offset Table item (PS3.5 A.4)."""
    item = stream.read(8)
    if len(item) < 8 or item[:4] != _ITEM_TAG:
        return None
    (table,) = struct.unpack("<I", item[4:8])
    stream.seek(table, io.SEEK_CUR)
    item = stream.read(8)
    if len(item) < 8 or item[:4] != _ITEM_TAG:
        return None
    (length,) = struct.unpack("<I", item[4:8])
    return stream.read(min(length, 64))


def _codec_start(syntax: UID, head: bytes) -> str:
    """Name the codec a fragment should start as, ``""`` when it does (or is not checked)."""
    name = syntax.name
    if syntax == "1.2.840.10008.1.2.5":  # RLE Lossless, PS3.5 G.5
        if len(head) >= 8:
            segments, first = struct.unpack("<II", head[:8])
            if 1 <= segments <= 15 and first == 64:
                return ""
        return "RLE (a 64-byte header: 1 to 15 segments, the first at offset 64)"
    if "JPEG 2000" in name or "HTJ2K" in name:
        if head.startswith(b"\xff\x4f") or head.startswith(_JP2_SIGNATURE):
            return ""
        return "JPEG 2000 (a codestream starting FF 4F, or a JP2 box)"
    if "JPEG" in name and "XL" not in name:
        return "" if head.startswith(b"\xff\xd8") else "JPEG (starting FF D8)"
    return ""


def _pixel_element(stream: BinaryIO, header: Dataset, syntax: UID) -> _PixelElement | None:
    """Peek at the element where reading the header stopped (PS3.5 7.1).

    Returns ``None`` for deflated data, whose stream position says nothing; raises
    :class:`_NoPixelDataError` when the element is not Pixel Data (7FE0,0010).
    """
    if syntax.is_deflated:
        return None
    start = stream.tell()
    head = stream.read(12)
    end = stream.seek(0, io.SEEK_END)
    if len(head) < 8:
        raise _NoPixelDataError
    # The encoding pydicom found while reading, which wins over a wrong Transfer Syntax UID.
    implicit, little = _encoding_of(header, syntax)
    order = "<" if little else ">"
    group, elem = struct.unpack(f"{order}HH", head[:4])
    if (group, elem) != _PIXEL_DATA_TAG:
        raise _NoPixelDataError
    if not implicit and head[4:6] not in _PIXEL_VRS:
        # PS3.5 7.1.2: no VR where one belongs; like pydicom, read it as implicit VR.
        implicit = True
    if implicit:
        (length,) = struct.unpack(f"{order}I", head[4:8])
        offset = 8
    else:
        # PS3.5 7.1.2: OB/OW/... have two reserved bytes and a 32-bit length.
        if len(head) < 12:
            raise _NoPixelDataError
        (length,) = struct.unpack(f"{order}I", head[8:12])
        offset = 12
    return _PixelElement(length, max(0, end - start - offset), implicit, start + offset)


class _NoPixelDataError(Exception):
    """Raised when no Pixel Data (7FE0,0010) follows the header."""


def _encoding_of(header: Dataset, syntax: UID) -> tuple[bool, bool]:
    """Return (implicit VR, little endian) as read, else as the transfer syntax says."""
    encoding = getattr(header, "original_encoding", None)
    if encoding is not None and None not in encoding:
        return bool(encoding[0]), bool(encoding[1])
    return bool(syntax.is_implicit_VR), bool(syntax.is_little_endian)


class HeaderRefusedError(Exception):
    """A header is refused unread: it is absurdly large or malformed beyond reading."""


class HeaderTooLargeError(HeaderRefusedError):
    """A header would need more than :data:`MAX_HEADER_BYTES` read (or inflated)."""


class _ArchiveBudget:
    """Bytes the headers of one archive's members may still inflate (shared, mutable)."""

    def __init__(self) -> None:
        self.left = _ARCHIVE_HEADER_BUDGET


class _BoundedStream:
    """A read-only view of a stream that refuses to read a header of absurd size.

    Reads count against ``limit`` (:data:`MAX_HEADER_BYTES`; ``None`` for a whole
    file, read only after its header was checked). When seeking is costly (a member of
    a ``.zip`` archive, where skipping forward means inflating), the position itself
    may not pass that bound, and every byte inflated counts against the archive's
    budget. A run of :data:`_ZERO_TAG_RUN` element headers tagged (0000,0000) is
    refused too: pydicom reads a tag and its length (8 bytes) at a time, and no file
    stores such an element (PS3.10 7.1), so such a run is zeros or garbage. With
    ``end_at_zero_run`` (a whole file whose header was read and checked already, so
    the run lies after the Pixel Data) the run ends the data instead: later reads
    return nothing. The refusal is raised as :class:`HeaderRefusedError`
    (:class:`HeaderTooLargeError` for sizes) and kept in :attr:`refusal`, since
    pydicom turns some exceptions raised while reading into others; once refused,
    every later read is refused too.
    """

    def __init__(
        self,
        stream: BinaryIO,
        *,
        costly_seeks: bool,
        budget: _ArchiveBudget | None = None,
        limit: int | None = MAX_HEADER_BYTES,
        end_at_zero_run: bool = False,
    ) -> None:
        self._stream = stream
        self._end_at_zero_run = end_at_zero_run
        self._costly = costly_seeks
        self._budget = budget
        self._limit = limit
        self._read = 0
        self._zero_tags = 0
        self._zero_start = 0
        self._zero_end = 0
        self._ended = False
        self.refusal: HeaderRefusedError | None = None
        name = getattr(stream, "name", None)
        if isinstance(name, str) and not costly_seeks:
            # Lets pydicom read a deferred value from the file again. Never for a zip
            # member, whose name is no path on disk (it could name another file).
            self.name = name

    def _refuse(self, refusal: HeaderRefusedError) -> HeaderRefusedError:
        self.refusal = self.refusal or refusal
        return self.refusal

    def _too_large(self, message: str) -> HeaderRefusedError:
        return self._refuse(HeaderTooLargeError(message))

    def read(self, size: int | None = -1) -> bytes:
        if self.refusal is not None:  # pydicom caught the refusal and carried on
            raise self.refusal
        if self._ended:
            return b""
        position = self._stream.tell()
        limit = self._limit
        if limit is None:
            data = self._stream.read(-1 if size is None else size)
        elif size is None or size < 0:  # pydicom reads a deflated dataset whole
            left = limit - self._read
            data = self._stream.read(left + 1)
            if len(data) > left:
                raise self._too_large(
                    f"the dataset after byte {position} is larger than"
                    f" {_size(limit)}, too large to read as a header"
                )
        elif self._read + size > limit:
            raise self._too_large(
                f"a header value of {_size(size)} at byte {position} is too large to read"
                f" (a header may hold at most {_size(limit)} before Pixel Data)"
            )
        else:
            data = self._stream.read(size)
        self._read += len(data)
        self._charge(len(data))
        if len(data) == 8 and self._zero_tag_run(data, position):
            self._ended = True
            return b""
        return data

    def _zero_tag_run(self, head: bytes, position: int) -> bool:
        """Count an 8-byte read (an element's tag and length) tagged (0000,0000).

        Returns whether a run ends the data; raises when it refuses the header.
        """
        if head[:4] != b"\0\0\0\0":
            self._zero_tags = 0
            return False
        if not self._zero_tags:
            self._zero_start = position
        elif position < self._zero_end:
            return False  # read again (pydicom peeks at a dataset's first element)
        self._zero_tags += 1
        self._zero_end = position + 8
        if self._zero_tags < _ZERO_TAG_RUN:
            return False
        if self._end_at_zero_run:
            return True
        raise self._refuse(
            HeaderRefusedError(
                f"from byte {self._zero_start} the header holds only elements tagged (0000,0000)"
                f" ({self._zero_tags} in a row, e.g. zeros), which no DICOM file stores"
                " (PS3.10 7.1; PS3.5 7.1: tags ascend); not read further"
            )
        )

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        position = self._stream.tell()
        if whence == io.SEEK_CUR:
            target = position + offset
        elif whence == io.SEEK_SET:
            target = offset
        else:
            return self._stream.seek(offset, whence)
        if self._costly and self._limit is not None and target > self._limit:
            raise self._too_large(
                f"a header value of {_size(target - position)} at byte {position} is too large"
                f" to read (a header may hold at most {_size(self._limit)}"
                " before Pixel Data)"
            )
        if self._costly:
            # Going forward inflates what is skipped; going back beyond the read buffer
            # (a few KB) inflates again from the start (zipfile.ZipExtFile.seek).
            if target >= position:
                self._charge(target - position)
            elif position - target > _ZIP_READ_BUFFER:
                self._charge(target)
        return self._stream.seek(target)

    def tell(self) -> int:
        return self._stream.tell()

    @property
    def closed(self) -> bool:
        """Whether the stream is closed: pydicom then reads a deferred value by path."""
        return bool(getattr(self._stream, "closed", False))

    def _charge(self, count: int) -> None:
        if self._budget is None:
            return
        self._budget.left -= count
        if self._budget.left < 0:
            raise self._too_large(
                f"the headers of this archive's members need more than"
                f" {_size(_ARCHIVE_HEADER_BUDGET)} inflated; the rest is not read"
            )


def _read_header(
    stream: BinaryIO, *, costly_seeks: bool = False, budget: _ArchiveBudget | None = None
) -> Dataset:
    """Read a header (no pixel data), accepting a dataset without File Meta Information.

    Pixel Data (7FE0,0010) is not read (``stop_before_pixels``); values larger than
    :data:`_DEFER_SIZE` are skipped (``defer_size``), and a private one of those is
    dropped from the result. At most :data:`MAX_HEADER_BYTES` are read; with
    ``costly_seeks`` (a zip member) the header must also end within that bound. A
    command element first (:func:`_check_first_element`) or a run of elements tagged
    (0000,0000) is refused.

    Raises
    ------
    HeaderRefusedError
        If the header would need more than that (:class:`HeaderTooLargeError`), or is
        zeros or garbage.
    InvalidDicomError
        If the stream is not DICOM.
    """
    head = stream.read(140)
    stream.seek(0)
    kind = _sniff(head)
    if kind in ("empty", "other"):
        raise InvalidDicomError("no 'DICM' prefix after the preamble")
    if kind == "part10":
        _check_first_element(head)
        _check_deflated(stream)
    return _guarded_read(
        stream,
        costly_seeks=costly_seeks,
        budget=budget,
        limit=MAX_HEADER_BYTES,
        stop_before_pixels=True,
        force=kind == "raw",
    )


def _guarded_read(
    stream: BinaryIO,
    *,
    costly_seeks: bool = False,
    budget: _ArchiveBudget | None = None,
    limit: int | None = None,
    stop_before_pixels: bool = False,
    force: bool = False,
    defer_size: int | None = _DEFER_SIZE,
    end_at_zero_run: bool = False,
) -> Dataset:
    """Read a dataset with pydicom through a :class:`_BoundedStream`.

    With ``limit`` (a header), at most that many bytes are read. A run of elements
    tagged (0000,0000) is refused, or ends the data with ``end_at_zero_run`` (a whole
    file whose header was checked: the run lies after the Pixel Data).
    Values above ``defer_size`` are deferred; deferred private values are dropped.

    Raises
    ------
    HeaderRefusedError
        If the stream refused to be read further.
    """
    bounded = _BoundedStream(
        stream,
        costly_seeks=costly_seeks,
        budget=budget,
        limit=limit,
        end_at_zero_run=end_at_zero_run,
    )
    try:
        ds = dcmread(
            cast(BinaryIO, bounded),
            stop_before_pixels=stop_before_pixels,
            force=force,
            defer_size=defer_size,
        )
    except Exception as exc:
        if bounded.refusal is not None:
            raise _again(bounded.refusal) from exc
        raise
    if bounded.refusal is not None:  # raised inside pydicom, which carried on
        raise _again(bounded.refusal)
    _drop_deferred(ds)
    if getattr(ds, "fileobj_type", None) is _BoundedStream:
        # pydicom opens the file again with the type of the stream it read from.
        ds.fileobj_type = open
    return ds


def _again(refusal: HeaderRefusedError) -> HeaderRefusedError:
    """Return a new exception of the same type and message as ``refusal``."""
    return type(refusal)(str(refusal))


def _check_first_element(head: bytes) -> None:
    """Refuse a Part 10 file whose first element after ``DICM`` is in group 0000.

    PS3.10 7.1: the File Meta Information (group 0002) follows the prefix; command
    elements (group 0000, PS3.7 E.1) are exchanged on the network, never stored in a
    file, and as the lowest tags they cannot come first in a dataset either (PS3.5
    7.1: ascending tags) unless the file is zeros or garbage.

    Raises
    ------
    HeaderRefusedError
        If it is.
    """
    if len(head) < 136 or head[132:134] != b"\0\0":
        return
    group, element = struct.unpack("<HH", head[132:136])
    raise HeaderRefusedError(
        f"the first element after the 'DICM' prefix is ({group:04X},{element:04X}), a"
        " command element no file stores (PS3.10 7.1: the File Meta Information, group"
        " 0002, comes first); not read"
        + (" (the file holds zeros there)" if head[132:140] == bytes(8) else "")
    )


def _check_deflated(stream: BinaryIO) -> None:
    """Refuse a Deflated Explicit VR Little Endian dataset that inflates absurdly (PS3.5 A.5).

    pydicom inflates such a dataset whole, in memory; it is inflated here first in
    small pieces, counting, so that a few MB that inflate to gigabytes are refused.
    The File Meta Information must start with its Group Length (PS3.10 7.1), as it
    must; without it the check is skipped. Leaves the stream at its start.
    """
    head = stream.read(_META_PEEK)
    stream.seek(0)
    if DeflatedExplicitVRLittleEndian.encode() not in head:
        return
    if head[132:138] != b"\x02\x00\x00\x00UL" or len(head) < 144:
        return
    (meta_length,) = struct.unpack("<I", head[140:144])
    stream.seek(144 + meta_length)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    total = 0
    try:
        while chunk := stream.read(1024**2):
            total += len(inflater.decompress(chunk, _MAX_DEFLATED_BYTES - total + 1))
            while inflater.unconsumed_tail and total <= _MAX_DEFLATED_BYTES:
                tail = inflater.unconsumed_tail
                total += len(inflater.decompress(tail, _MAX_DEFLATED_BYTES - total + 1))
            if total > _MAX_DEFLATED_BYTES or inflater.eof:
                break
    except zlib.error:
        pass  # pydicom says what is wrong
    finally:
        stream.seek(0)
    if total > _MAX_DEFLATED_BYTES:
        raise HeaderTooLargeError(
            f"the deflated dataset inflates to more than {_size(_MAX_DEFLATED_BYTES)}"
            " (PS3.5 A.5); refused"
        )


def _drop_deferred(ds: Dataset) -> None:
    """Drop deferred private values; refuse a deferred standard value of absurd size.

    A deferred value (pydicom ``defer_size``) is read from the file when first used;
    private values (odd groups, PS3.5 7.8) are never used here, and a standard value
    larger than :data:`MAX_HEADER_BYTES` is not a header value anyone should read.
    """
    for tag in list(ds.keys()):
        if tag in _PIXEL_DATA_TAGS:  # checked against the header before (and undefined
            continue  # length, 0xFFFFFFFF, when encapsulated: PS3.5 A.4)
        raw = ds.get_item(tag, keep_deferred=True)
        if not isinstance(raw, RawDataElement) or raw.value is not None:
            continue
        if raw.length <= _DEFER_SIZE:
            continue
        if tag.is_private:
            del ds[tag]
        elif raw.length > MAX_HEADER_BYTES:
            raise HeaderTooLargeError(
                f"the header element {tag} claims {_size(raw.length)}, too large for a header"
                f" (at most {_size(MAX_HEADER_BYTES)})"
            )


def _syntax_of(ds: Dataset) -> UID:
    """Return the Transfer Syntax UID (0002,0010), inferred from the encoding when absent."""
    if _has_meta_syntax(ds):
        return UID(str(ds.file_meta.TransferSyntaxUID))
    implicit, little = getattr(ds, "original_encoding", (True, True))
    if not little:
        return ExplicitVRBigEndian
    return ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian


def _has_meta_syntax(ds: Dataset) -> bool:
    """Whether the File Meta Information has a Transfer Syntax UID (0002,0010)."""
    meta = getattr(ds, "file_meta", None)
    return meta is not None and bool(meta.get("TransferSyntaxUID"))


def _syntax_name(syntax: UID) -> str:
    """Return ``"Name (UID)"`` for a known transfer syntax, else the UID."""
    return f"{syntax.name} ({syntax})" if syntax.name != str(syntax) else str(syntax)


def _check_decoder(path: Path, syntax: UID) -> None:
    """Raise a clear :class:`PixelDataError` when no decoder can read ``syntax``."""
    name = f"{syntax.name} ({syntax})" if syntax.name != str(syntax) else str(syntax)
    if not syntax:
        raise PixelDataError(path, "the file meta has no Transfer Syntax UID (0002,0010)")
    try:
        decoder = get_decoder(syntax)
    except NotImplementedError as exc:
        raise PixelDataError(
            path, f"no pixel data decoder exists for transfer syntax {name}"
        ) from exc
    if not decoder.is_available:
        missing = "; ".join(decoder.missing_dependencies) or "a decoder plugin"
        raise PixelDataError(
            path, f"no decoder installed for transfer syntax {name} (needs {missing})"
        )


def _pixel_message(syntax: UID, exc: Exception) -> str:
    """Make a one-line user message from a pydicom decoding exception."""
    text = _describe(exc)
    if "less than expected" in text or "truncated" in text:
        return f"the pixel data is truncated ({text.split(' - ')[0]})"
    if syntax.is_compressed:
        return f"cannot decode {syntax.name} pixel data: {text}"
    return f"cannot read the pixel data: {text}"


def _describe(exc: BaseException) -> str:
    """Return the first line of an exception message, or its type name."""
    lines = str(exc).strip().splitlines()
    first = lines[0].rstrip(":") if lines else ""
    detail = " ".join(line.strip() for line in lines[1:3])
    text = f"{first}: {detail}" if detail else first
    return text or type(exc).__name__


def _describe_any(exc: BaseException) -> str:
    """Describe any exception in one line, naming the kinds whose message says little."""
    if isinstance(exc, RecursionError):
        return "too deeply nested (sequences within sequences)"
    if isinstance(exc, MemoryError):
        return "not enough memory to read it"
    text = _describe(exc)
    return text if text != type(exc).__name__ else f"{type(exc).__name__} (no message)"


def _size(count: int) -> str:
    """Format a byte count for a message, e.g. ``"8.0 GiB"``."""
    value = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{count} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _open_image(record: ImageRecord) -> AbstractContextManager[BinaryIO]:
    """Open an image read-only for random access: a zip member inflated in memory.

    A header, then at most 4 samples of 8 bytes a pixel (PS3.3 C.7.6.3): anything
    beyond is not this image, and is not inflated into memory.
    """
    needed = MAX_HEADER_BYTES + record.rows * record.columns * record.frame_count * 32
    return _random_access(
        record.source,
        needed,
        f" more than a header and the pixel data of its {record.rows} x"
        f" {record.columns} x {record.frame_count} frame(s) can need; not read",
    )


@contextmanager
def _random_access(
    source: ImageSource, needed: int, why: str = " more than an image can need; not read"
) -> Iterator[BinaryIO]:
    """Open a source for random access; one whose seeks are costly is read into memory.

    Such a source (a zip member) is refused unread when it holds more than
    :data:`MAX_DECODED_BYTES` or ``needed`` bytes (``why`` completes the message).
    """
    if not source.costly_seeks:
        with source.open() as stream:
            yield stream
        return
    size = source.size()
    member = source.archive_member or source.name
    if size > MAX_DECODED_BYTES:
        raise PixelDataError(
            source.path,
            f"archive member {member} is too large to read in memory ({_size(size)})",
        )
    if size > needed:
        raise PixelDataError(source.path, f"archive member {member} holds {_size(size)},{why}")
    with source.open() as stream:
        yield io.BytesIO(stream.read(size + 1))


# --- scanning -------------------------------------------------------------------------


def _sniff(head: bytes) -> Literal["part10", "raw", "empty", "other"]:
    """Classify the first 132 bytes of a file.

    ``part10``: 128-byte preamble and ``DICM`` (PS3.10 7.1). ``raw``: a dataset
    without preamble, starting with an element of group 0002 or 0008 (either byte
    order) whose VR is two capital letters (explicit VR, PS3.5 7.1.2) or whose 32-bit
    length is plausible for a first element (implicit VR, PS3.5 7.1.3). ``empty``: no
    bytes. ``other``: anything else, rejected without a parse.
    """
    if not head:
        return "empty"
    if len(head) >= 132 and head[128:132] == b"DICM":
        return "part10"
    if len(head) >= 8 and head[:2] in (b"\x02\x00", b"\x08\x00", b"\x00\x08"):
        vr = head[4:6]
        explicit = vr.isalpha() and vr.isupper()
        little = head[:2] != b"\x00\x08"
        (length,) = struct.unpack("<I" if little else ">I", head[4:8])
        if explicit or length < _PLAUSIBLE_FIRST_LENGTH:
            return "raw"
    return "other"


#: Largest Value Length believed for the first element of a dataset without preamble.
_PLAUSIBLE_FIRST_LENGTH: Final = 1024**2


class _Scanner:
    """Collects records and problems for :func:`scan`; keeps the first of duplicates."""

    def __init__(self) -> None:
        self.images: list[ImageRecord] = []
        self.problems: list[LoadProblem] = []
        self.reports: list[StructuredReportFile] = []
        self._seen_files: set[tuple[Path, str | None]] = set()
        self._seen_uids: dict[str, str] = {}
        self._found = 0  # images met, duplicates included

    def add_path(self, path: Path) -> None:
        """Scan a path given by the user; never raises for bad input.

        A folder in which nothing was found (no image, report or problem) gets a line
        of its own, so that an empty folder (or one holding only a text file) is never
        met in silence.
        """
        before = (self._found, len(self.problems), len(self.reports))
        try:
            if path.is_dir():
                for file in _walk(path, self.problems):
                    self._add_file(file, explicit=False)
                if (self._found, len(self.problems), len(self.reports)) == before:
                    self.problems.append(LoadProblem(path, "no DICOM image found"))
            elif path.is_file():
                # Named explicitly: always tried, whatever its suffix.
                self._add_file(path, explicit=True)
            elif path.is_symlink() and _is_link_loop(path):
                self.problems.append(LoadProblem(path, _LOOP_MESSAGE))
            elif path.exists():
                self.problems.append(LoadProblem(path, "not a regular file or folder"))
            else:
                self.problems.append(LoadProblem(path, "no such file or folder"))
        except Exception as exc:  # a bug or an exotic failure must not stop the others
            self.problems.append(LoadProblem(path, f"cannot scan it: {_describe_any(exc)}"))

    def _add_file(self, path: Path, *, explicit: bool, dicomdir: Path | None = None) -> None:
        """Scan one file: an image, a DICOMDIR, an archive, or something to report or skip.

        ``dicomdir``: the DICOMDIR that referenced the file, if any.
        """
        try:
            self._add_file_unguarded(path, explicit=explicit, dicomdir=dicomdir)
        except Exception as exc:  # one file's failure never stops the others
            self.problems.append(LoadProblem(path, f"cannot read the file: {_describe_any(exc)}"))

    def _add_file_unguarded(self, path: Path, *, explicit: bool, dicomdir: Path | None) -> None:
        """Do the work of :meth:`_add_file`."""
        try:
            key = (path.resolve(), None)
        except (OSError, RuntimeError):  # RuntimeError: a symbolic link loop (Python < 3.13)
            if path.is_symlink() and _is_link_loop(path):
                self.problems.append(LoadProblem(path, _LOOP_MESSAGE))
                return
            key = (path.absolute(), None)
        if key in self._seen_files:
            return
        self._seen_files.add(key)
        if not path.is_file():
            # A FIFO, socket or device met in a folder would block or never end.
            if explicit:
                self.problems.append(LoadProblem(path, "not a regular file or folder"))
            return
        try:
            with path.open("rb") as stream:
                head = stream.read(132)
                kind = _sniff(head)
                if kind == "other" and head[:4] == b"PK\x03\x04":
                    self._add_archive(path)
                    return
                if not self._wanted(path, None, kind, explicit):
                    return
                source = (
                    FileSource(path) if dicomdir is None else DicomDirEntrySource(path, dicomdir)
                )
                outcome = _read_record(source, stream)
        except OSError as exc:
            self.problems.append(
                LoadProblem(path, f"cannot read the file: {exc.strerror or _describe(exc)}")
            )
            return
        if isinstance(outcome, _DicomDir):
            self._add_dicomdir(path, outcome)
        else:
            self._add_outcome(outcome)

    def _wanted(self, path: Path, member: str | None, kind: str, explicit: bool) -> bool:
        """Say whether to read a file; record a problem for a non-DICOM file that matters."""
        if kind in ("part10", "raw"):
            return True
        claims_dicom = Path(member or path.name).suffix.lower() in DICOM_SUFFIXES
        if explicit or claims_dicom:
            if kind == "empty":
                message = "empty file (0 bytes); not a DICOM file"
            else:
                message = "not a DICOM file (no 'DICM' prefix after the preamble)"
            self.problems.append(LoadProblem(path, message, member))
        return False

    def _add_outcome(self, outcome: ImageRecord | LoadProblem | StructuredReportFile) -> None:
        """Keep an image unless its SOP Instance UID was seen; keep a problem or a report."""
        if isinstance(outcome, LoadProblem):
            self.problems.append(outcome)
            return
        if isinstance(outcome, StructuredReportFile):
            self.reports.append(outcome)
            return
        self._found += 1
        first = self._seen_uids.get(outcome.sop_instance_uid)
        if first is not None:
            self.problems.append(
                LoadProblem(
                    outcome.path,
                    f"same SOP Instance UID as {first}; duplicate skipped",
                    outcome.archive_member,
                )
            )
            return
        self._seen_uids[outcome.sop_instance_uid] = _label(outcome.path, outcome.archive_member)
        self.images.append(outcome)

    def _add_dicomdir(self, path: Path, dicomdir: _DicomDir) -> None:
        """Scan the files a DICOMDIR references; report those missing or outside its folder."""
        for file_id, file in dicomdir.files:
            if isinstance(file, str):
                self.problems.append(
                    LoadProblem(path, f"referenced file {file_id} refused: {file}")
                )
            elif file is None:
                self.problems.append(
                    LoadProblem(path, f"referenced file {file_id} does not exist; skipped")
                )
            else:
                self._add_file(file, explicit=True, dicomdir=path)

    def _add_archive(self, path: Path) -> None:
        """Scan the members of a ``.zip`` archive in memory, headers only."""
        budget = _ArchiveBudget()
        try:
            with zipfile.ZipFile(path) as archive:
                for info in sorted(archive.infolist(), key=lambda item: item.filename):
                    if budget.left < 0:
                        self.problems.append(
                            LoadProblem(
                                path,
                                f"the members' headers need more than"
                                f" {_size(_ARCHIVE_HEADER_BUDGET)} inflated;"
                                " the remaining members are not read",
                            )
                        )
                        return
                    self._add_member(path, archive, info, budget)
        except Exception as exc:  # zipfile raises many types for damaged archives
            self.problems.append(LoadProblem(path, f"damaged zip archive: {_describe_any(exc)}"))

    def _add_member(
        self, path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _ArchiveBudget
    ) -> None:
        """Scan one archive member, skipping folders, hidden and non-DICOM members."""
        name = info.filename
        parts = Path(name).parts
        if info.is_dir() or any(part.startswith(".") and part != ".." for part in parts):
            return
        if Path(name).suffix.lower() in SKIPPED_SUFFIXES or Path(name).name == "DICOMDIR":
            # The files a DICOMDIR in an archive references are its other members.
            return
        unsafe = _unsafe_member_name(name)
        if unsafe:
            # "Zip slip": such a name must never name a file; the member is not used.
            self.problems.append(LoadProblem(path, f"member name {unsafe}; skipped", name))
            return
        try:
            with archive.open(info) as member:
                head = member.read(132)
            kind = _sniff(head)
            if not self._wanted(path, name, kind, explicit=False):
                return
            with archive.open(info) as member:
                source = ZipMemberSource(path, name, info.CRC, info.file_size)
                outcome = _read_record(source, cast(BinaryIO, member), budget=budget)
        except Exception as exc:  # zipfile raises many types for damaged members
            self.problems.append(
                LoadProblem(path, f"cannot read the archive member: {_describe_any(exc)}", name)
            )
            return
        if isinstance(outcome, _DicomDir):
            return
        self._add_outcome(outcome)


#: The problem line of a symbolic link that leads back to itself.
_LOOP_MESSAGE: Final = "symbolic link loop (it leads back to itself); skipped"


def _is_link_loop(path: Path) -> bool:
    """Whether following a symbolic link never ends (ELOOP, or Python's loop error)."""
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def _unsafe_member_name(name: str) -> str:
    """Say why an archive member name could leave the archive's folder, ``""`` if it cannot."""
    text = name.replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        return f"{name} is an absolute path"
    if ".." in text.split("/"):
        return f"{name} leads out of the archive (..)"
    return ""


class _DicomDir(NamedTuple):
    """The files a DICOMDIR references: (File ID as written, path, None if missing, or why not).

    A reason (a ``str``) is given for a File ID that would leave the folder of the
    DICOMDIR (PS3.10 8.5: File IDs are relative to the File-set root).
    """

    files: tuple[tuple[str, Path | str | None], ...]


def _walk(folder: Path, problems: list[LoadProblem]) -> Iterator[Path]:
    """Yield the files of a folder tree in sorted order, skipping hidden and non-DICOM files.

    Symbolic links to folders are not followed (no loop can be entered); a symbolic
    link that leads back to itself is reported once, in ``problems``; a folder that
    cannot be listed is reported and the walk goes on.
    """

    def on_error(error: OSError) -> None:
        where = Path(error.filename) if error.filename else folder
        problems.append(LoadProblem(where, f"cannot list the folder: {error.strerror or error}"))

    for root, dirs, files in os.walk(folder, onerror=on_error, followlinks=False):
        dirs[:] = sorted(name for name in dirs if not name.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or Path(name).suffix.lower() in SKIPPED_SUFFIXES:
                continue
            yield Path(root) / name


def _read_record(
    source: ImageSource, stream: BinaryIO, *, budget: _ArchiveBudget | None = None
) -> ImageRecord | LoadProblem | StructuredReportFile | _DicomDir:
    """Read the header of one file (``stream``, opened from ``source``) into a record.

    Returns an :class:`ImageRecord`, or a :class:`LoadProblem` saying what is wrong.
    """
    with warnings.catch_warnings():
        # Reading is tolerant: pydicom's warnings about non-conformant values
        # would only be noise on the command line.
        warnings.simplefilter("ignore")
        return _read_record_quietly(source, stream, budget)


def _read_record_quietly(
    source: ImageSource, stream: BinaryIO, budget: _ArchiveBudget | None
) -> ImageRecord | LoadProblem | StructuredReportFile | _DicomDir:
    """Do the work of :func:`_read_record`."""
    path, member = source.path, source.archive_member
    try:
        stream.seek(0)
        ds = _read_header(stream, costly_seeks=source.costly_seeks, budget=budget)
    except HeaderRefusedError as exc:
        return LoadProblem(path, f"refused: {exc}", member)
    except InvalidDicomError:
        # PS3.10 7.1: a DICOM file starts with a 128-byte preamble and "DICM".
        return LoadProblem(path, "not a DICOM file (no 'DICM' prefix after the preamble)", member)
    except OSError as exc:
        return LoadProblem(path, f"cannot read the file: {exc.strerror or _describe(exc)}", member)
    except Exception as exc:  # pydicom raises many types for damaged files
        return LoadProblem(path, f"damaged DICOM file: {_describe_any(exc)}", member)
    try:
        if _is_dicomdir(ds):
            if member is not None:
                return _DicomDir(())
            return _dicomdir_files(path, ds)
        at_end = not stream.read(1)
        return _record_from_dataset(source, ds, at_end=at_end)
    except Exception as exc:  # a malformed value deep in the header
        return LoadProblem(path, f"damaged DICOM header: {_describe_any(exc)}", member)


def _is_dicomdir(ds: Dataset) -> bool:
    """Whether a dataset is a DICOMDIR (Media Storage Directory, PS3.10 8.6)."""
    sop_class = str(ds.file_meta.get("MediaStorageSOPClassUID") or ds.get("SOPClassUID") or "")
    return sop_class == _MEDIA_STORAGE_DIRECTORY or "DirectoryRecordSequence" in ds


def _dicomdir_files(path: Path, ds: Dataset) -> _DicomDir:
    """List the files the directory records of a DICOMDIR reference (PS3.3 F.5).

    Referenced File ID (0004,1500) holds up to eight path components relative to
    the folder of the DICOMDIR, the File-set root (PS3.10 8.5, 8.2); media often store
    upper-case IDs while the files were copied in lower case, so a case-insensitive
    match is tried. A File ID that is absolute, has a ``..`` or ``.`` component or
    resolves (through symbolic links) outside the root is refused with the reason.
    """
    files: list[tuple[str, Path | str | None]] = []
    root = path.parent
    for item in ds.get("DirectoryRecordSequence") or []:
        value = item.get("ReferencedFileID")
        if not value:
            continue
        parts = [str(part) for part in value] if not isinstance(value, str) else [value]
        if "\\" in parts[0]:
            parts = parts[0].split("\\")
        file_id = "\\".join(parts)
        reason = _file_id_problem(parts)
        if reason:
            files.append((file_id, reason))
            continue
        found = _find_referenced(root, parts)
        if found is not None and not _inside(found, root):
            files.append((file_id, "it leads outside the folder of the DICOMDIR (a link)"))
            continue
        files.append((file_id, found))
    return _DicomDir(tuple(files))


def _file_id_problem(parts: Sequence[str]) -> str:
    """Say why File ID components cannot name a file below the File-set root, else ``""``."""
    for part in parts:
        text = part.replace("/", "\\")
        if not part or text.startswith("\\") or (len(text) > 1 and text[1] == ":"):
            return "an absolute or empty path component (PS3.10 8.2: relative to the File-set)"
        if part.strip() in ("..", ".") or "/" in part:
            return "it leads outside the folder of the DICOMDIR (PS3.10 8.2)"
    return ""


def _inside(path: Path, root: Path) -> bool:
    """Whether ``path`` resolves to a place within ``root`` (symbolic links followed)."""
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):
        return False


def _find_referenced(folder: Path, parts: Sequence[str]) -> Path | None:
    """Resolve File ID components below ``folder``, ignoring case if needed."""
    current = folder
    for part in parts:
        candidate = current / part
        if not candidate.exists():
            try:
                matches = [
                    entry for entry in current.iterdir() if entry.name.lower() == part.lower()
                ]
            except OSError:
                return None
            if not matches:
                return None
            candidate = matches[0]
        current = candidate
    return current if current.is_file() else None


def document_note(sop_class: UID) -> str:
    """Return the note for an SR-family document that cannot hold GalactoView's marks.

    Decision: a Key Object Selection document (PS3.3 A.59) or another document of the
    SR family (PS3.4 B.5: SOP Classes ``1.2.840.10008.5.1.4.1.1.88.x``, e.g. a dose
    report or a CAD SR) whose SOP Class is not one the marks are read from (Basic Text,
    Enhanced, Comprehensive and Comprehensive 3D SR, which :func:`scan` collects as
    :class:`StructuredReportFile` for the TID 1500 reader) is expected beside the images
    of a study: nothing is wrong with it. The scanner says so in one calm line naming
    the document kind, as a :class:`LoadProblem` with ``note=True`` (the one channel for
    a file's line, ``path: what it is``), and does not call it an image that could not
    be read; the viewer lists it without raising the Problems panel.

    Parameters
    ----------
    sop_class
        Its SOP Class UID (0008,0016).

    Returns
    -------
    str
        E.g. ``"Key Object Selection document — not an image, not marks; ignored"``.
    """
    name = sop_class.name if sop_class.is_valid and sop_class.name != sop_class else ""
    kind = name.removesuffix(" Storage").removesuffix(" Document") or f"SR-family ({sop_class})"
    return f"{kind} document — not an image, not marks; ignored"


def record_from_header(ds: Dataset, source: ImageSource) -> ImageRecord | LoadProblem:
    """Build the record of an image from a header that did not come from its file.

    E.g. an instance's metadata from WADO-RS Retrieve Study Metadata (PS3.18
    10.4.1.1.2) or a C-FIND answer at the IMAGE level (PS3.4 C.6.2.1.2), to plan
    before the file exists: ``source`` says where the file will be. Such a header has
    no File Meta Information (PS3.10 7.1), so the transfer syntax is the Available
    Transfer Syntax UID (0008,3002) if the header gives one, else ``""``.

    Parameters
    ----------
    ds
        The header (no pixel data needed).
    source
        Where the image is (or will be) read from.

    Returns
    -------
    ImageRecord or LoadProblem
        The record, or why the header is not a usable image (a Structured Report or
        another non-image instance, missing UIDs or Rows/Columns). Never raises.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcome = _record_from_dataset(source, ds)
            if isinstance(outcome, ImageRecord) and not _has_meta_syntax(ds):
                available = str(ds.get("AvailableTransferSyntaxUID") or "")
                outcome = dataclasses.replace(outcome, transfer_syntax_uid=available)
    except Exception as exc:  # a malformed value in an untrusted header
        return LoadProblem(
            source.path, f"damaged DICOM header: {_describe_any(exc)}", source.archive_member
        )
    if isinstance(outcome, StructuredReportFile):
        return LoadProblem(
            source.path, f"not an image ({outcome.sop_class_name}); skipped", source.archive_member
        )
    return outcome


def _record_from_dataset(
    source: ImageSource, ds: Dataset, *, at_end: bool = False
) -> ImageRecord | LoadProblem | StructuredReportFile:
    """Build the record of a header, or a problem naming the missing attributes.

    ``at_end`` says the file ended with the header, without Pixel Data: with
    attributes missing, the file was most likely cut short.
    """
    path, member = source.path, source.archive_member
    sop_class = UID(str(ds.get("SOPClassUID") or ""))
    if sop_class in _STRUCTURED_REPORTS and member is None and ds.get("StudyInstanceUID"):
        return StructuredReportFile(
            path,
            str(ds.StudyInstanceUID),
            str(ds.get("SOPInstanceUID") or ""),
            sop_class.name,
        )
    if sop_class.startswith(_SR_FAMILY_PREFIX) and sop_class not in _STRUCTURED_REPORTS:
        return LoadProblem(path, document_note(sop_class), member, note=True)
    if sop_class in _NOT_IMAGES:
        return LoadProblem(path, f"not an image ({sop_class.name}); skipped", member)
    absent = [keyword for keyword, _ in _REQUIRED if not ds.get(keyword)]
    if absent:
        if "Rows" in absent and sop_class and "Image" not in sop_class.name:
            # e.g. a Structured Report or Presentation State next to the images
            return LoadProblem(path, f"not an image ({sop_class.name}); skipped", member)
        if len(absent) == len(_REQUIRED):
            return LoadProblem(
                path, "damaged or empty DICOM file: no image attributes found", member
            )
        cut = "truncated DICOM file (it ends without Pixel Data): " if at_end else ""
        missing = ", ".join(f"{keyword} {tag}" for keyword, tag in _REQUIRED if keyword in absent)
        return LoadProblem(path, f"{cut}missing required attribute {missing}", member)
    view = MammoView.from_dataset(ds)
    return ImageRecord(
        source=source,
        sop_instance_uid=str(ds.SOPInstanceUID),
        study_instance_uid=str(ds.StudyInstanceUID),
        series_instance_uid=str(ds.SeriesInstanceUID),
        patient_name=str(ds.get("PatientName") or ""),
        patient_id=str(ds.get("PatientID") or ""),
        study_date=str(ds.get("StudyDate") or ""),
        study_description=str(ds.get("StudyDescription") or ""),
        series_description=str(ds.get("SeriesDescription") or ""),
        series_number=_optional_int(ds.get("SeriesNumber")),
        instance_number=_optional_int(ds.get("InstanceNumber")),
        modality=str(ds.get("Modality") or ""),
        rows=int(ds.Rows),
        columns=int(ds.Columns),
        image_laterality=view.laterality,
        view=view,
        photometric_interpretation=str(ds.get("PhotometricInterpretation") or ""),
        transfer_syntax_uid=str(_syntax_of(ds)),
        contrast_bolus_agent=str(ds.get("ContrastBolusAgent") or ""),
        number_of_frames=_optional_int(ds.get("NumberOfFrames")) or 1,
        patient_orientation=PatientOrientation.from_dataset(ds),
        contrast_phase=contrast_phase(ds),
        calibration=calibration_from_dataset(ds),
        frame_time_ms=_frame_time_ms(ds),
        patient_birth_date=str(ds.get("PatientBirthDate") or ""),
        patient_sex=str(ds.get("PatientSex") or ""),
        accession_number=str(ds.get("AccessionNumber") or ""),
        institution_name=str(ds.get("InstitutionName") or ""),
        acquisition_date_time=_acquisition_date_time(ds),
    )


def _acquisition_date_time(ds: Dataset) -> str:
    """Return when the image was acquired, as DICOM DT text (PS3.5 6.2), ``""`` if unknown."""
    text = str(ds.get("AcquisitionDateTime") or "")
    if text:
        return text
    for date, time in (("AcquisitionDate", "AcquisitionTime"), ("ContentDate", "ContentTime")):
        day = str(ds.get(date) or "")
        if day:
            return day + str(ds.get(time) or "")
    return ""


def _frame_time_ms(ds: Dataset) -> float | None:
    """Return the cine frame interval in ms (PS3.3 C.7.6.5 Cine Module), None if not given.

    Frame Time (0018,1063) first, else Recommended Display Frame Rate (0008,2144).
    """
    for keyword, to_ms in (("FrameTime", 1.0), ("RecommendedDisplayFrameRate", -1.0)):
        try:
            value = float(ds.get(keyword) or 0.0)
        except (TypeError, ValueError):
            continue
        if math.isfinite(value) and value > 0:
            return value if to_ms > 0 else 1000.0 / value
    return None


def _label(path: Path, member: str | None) -> str:
    """Name a file, or a member of an archive, for messages."""
    return member_label(path, member)


def _member_label(problem: LoadProblem) -> str:
    """Name the file of a problem for :meth:`LoadProblem.__str__`."""
    return _label(problem.path, problem.archive_member)


def _optional_int(value: object) -> int | None:
    """Convert an IS value to ``int``; ``None`` when absent or malformed."""
    if value is None or value == "":
        return None
    try:
        return int(str(value))
    except ValueError:
        return None
