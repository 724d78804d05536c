"""Find DICOM images on disk and decode their pixels (Qt-free).

:func:`scan` walks files and folders, reads only the header of each candidate
file (``stop_before_pixels``) and returns an :class:`ImageRecord` per image plus
a :class:`LoadProblem` per file it could not use; it never raises for a bad
file. :func:`load_pixels` decodes the stored values of one image later, when it
is displayed, and raises :class:`PixelDataError` with a message fit for the user.

Files are DICOM Part 10 files (PS3.10 7.1: 128-byte preamble, ``DICM`` prefix,
File Meta Information); they are only ever opened for reading.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels.decoders.base import get_decoder
from pydicom.pixels.utils import pixel_array
from pydicom.uid import UID

from galactoview.dicom.mammography import Laterality, MammoView

__all__ = [
    "SKIPPED_SUFFIXES",
    "ImageRecord",
    "LoadProblem",
    "PixelDataError",
    "ScanResult",
    "initial_image_index",
    "load_pixels",
    "read_header",
    "scan",
]

#: File name suffixes that are obviously not DICOM; skipped silently inside folders.
SKIPPED_SUFFIXES: Final = frozenset(
    {".png", ".jpg", ".jpeg", ".json", ".md", ".txt", ".py", ".csv", ".sha256", ".pdf"}
)

#: Attributes an image must have to be listed, with their tags for messages.
_REQUIRED: Final = (
    ("SOPInstanceUID", "(0008,0018)"),
    ("StudyInstanceUID", "(0020,000D)"),
    ("SeriesInstanceUID", "(0020,000E)"),
    ("Rows", "(0028,0010)"),
    ("Columns", "(0028,0011)"),
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
    """

    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True, slots=True)
class ImageRecord:
    """What the header of one DICOM image file says (no pixel data).

    Attributes use the DICOM keyword they come from; missing optional values are
    ``""`` (strings) or ``None`` (numbers).

    Attributes
    ----------
    path
        The file.
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
    """

    path: Path
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
            str(self.path),
        )


@dataclass(frozen=True, slots=True)
class ScanResult:
    """The images found by :func:`scan`, sorted, and the files that failed.

    Attributes
    ----------
    images
        Images sorted by study date and UID, series number, instance number.
    problems
        One entry per unusable file, in the order met.
    """

    images: tuple[ImageRecord, ...] = ()
    problems: tuple[LoadProblem, ...] = ()


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
    """Find the DICOM images in files and folders.

    Folders are walked recursively in sorted order; hidden files and folders
    and files with an obviously non-DICOM suffix (:data:`SKIPPED_SUFFIXES`) are
    skipped silently. Files named explicitly are always tried.

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
    images: list[ImageRecord] = []
    problems: list[LoadProblem] = []
    seen_files: set[Path] = set()
    seen_uids: dict[str, Path] = {}
    for path in paths:
        for file in _candidate_files(Path(path), problems):
            key = file.resolve()
            if key in seen_files:
                continue
            seen_files.add(key)
            outcome = _read_record(file)
            if isinstance(outcome, LoadProblem):
                problems.append(outcome)
                continue
            first = seen_uids.get(outcome.sop_instance_uid)
            if first is not None:
                problems.append(
                    LoadProblem(file, f"same SOP Instance UID as {first}; duplicate skipped")
                )
                continue
            seen_uids[outcome.sop_instance_uid] = file
            images.append(outcome)
    images.sort(key=ImageRecord.sort_key)
    # Newest study first, as on a reading list: the current exam above its priors. The sort
    # is stable, so series and instances keep their order within each study.
    images.sort(key=lambda record: record.study_date, reverse=True)
    return ScanResult(tuple(images), tuple(problems))


def read_header(record: ImageRecord) -> Dataset:
    """Read the whole header of an image again, without its pixel data.

    Parameters
    ----------
    record
        The image.

    Returns
    -------
    Dataset
        Every element before Pixel Data (7FE0,0010), with the file meta.

    Raises
    ------
    PixelDataError
        If the file can no longer be read.
    """
    try:
        with record.path.open("rb") as stream:
            return dcmread(stream, stop_before_pixels=True)
    except (OSError, InvalidDicomError) as exc:
        raise PixelDataError(record.path, f"cannot read the file: {_describe(exc)}") from exc
    except Exception as exc:  # pydicom raises many types for damaged files
        raise PixelDataError(record.path, f"damaged DICOM header: {_describe(exc)}") from exc


def load_pixels(record: ImageRecord) -> np.ndarray:
    """Decode the stored pixel values of an image (first frame only).

    Parameters
    ----------
    record
        The image, as found by :func:`scan`.

    Returns
    -------
    numpy.ndarray
        The stored values, shape ``(Rows, Columns)``, unsigned or signed integers
        as Pixel Representation (0028,0103) says; no Modality LUT applied.

    Raises
    ------
    PixelDataError
        If the file cannot be read, has no Pixel Data, is not grayscale, needs a
        decoder that is not installed, or its pixel data is damaged or truncated.
    """
    path = record.path
    try:
        with path.open("rb") as stream:
            ds = dcmread(stream)
            return _decode_first_frame(path, ds)
    except PixelDataError:
        raise
    except (OSError, InvalidDicomError) as exc:
        raise PixelDataError(path, f"cannot read the file: {_describe(exc)}") from exc
    except Exception as exc:  # pydicom raises many types for damaged files
        raise PixelDataError(path, f"damaged DICOM file: {_describe(exc)}") from exc


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


def _decode_first_frame(path: Path, ds: Dataset) -> np.ndarray:
    """Decode frame 0 of an open dataset, turning decoder failures into messages."""
    if "PixelData" not in ds:
        raise PixelDataError(path, "the file has no Pixel Data (7FE0,0010)")
    photometric = str(ds.get("PhotometricInterpretation", "")).strip()
    if photometric not in _MONOCHROME:
        raise PixelDataError(
            path,
            f"Photometric Interpretation {photometric or '(missing)'} is not supported;"
            " only MONOCHROME1 and MONOCHROME2 images can be shown",
        )
    syntax = UID(str(ds.file_meta.get("TransferSyntaxUID", "")))
    _check_decoder(path, syntax)
    try:
        # PS3.5 8.2: encapsulated transfer syntaxes hold one fragment set per frame;
        # decoding only frame 0 avoids decompressing a whole multi-frame image.
        frames = int(ds.get("NumberOfFrames") or 1)
        stored = pixel_array(ds, index=0) if frames > 1 else pixel_array(ds)
    except (ValueError, RuntimeError, NotImplementedError, AttributeError) as exc:
        raise PixelDataError(path, _pixel_message(syntax, exc)) from exc
    if stored.ndim != 2:
        raise PixelDataError(
            path, f"expected one grayscale frame, decoded an array of shape {stored.shape}"
        )
    return stored


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
    if "less than expected" in text:
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


def _candidate_files(path: Path, problems: list[LoadProblem]) -> Iterator[Path]:
    """Yield the files to try for a path; record a missing path as a problem."""
    if path.is_dir():
        yield from _walk(path)
    elif path.is_file():
        # Named explicitly: always tried, whatever its suffix.
        yield path
    elif path.exists():
        problems.append(LoadProblem(path, "not a regular file or folder"))
    else:
        problems.append(LoadProblem(path, "no such file or folder"))


def _walk(folder: Path) -> Iterator[Path]:
    """Yield the files of a folder tree in sorted order, skipping hidden and non-DICOM files."""
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(name for name in dirs if not name.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or Path(name).suffix.lower() in SKIPPED_SUFFIXES:
                continue
            yield Path(root) / name


def _read_record(path: Path) -> ImageRecord | LoadProblem:
    """Read the header of one file into an :class:`ImageRecord`, or say what is wrong."""
    with warnings.catch_warnings():
        # Reading is tolerant: pydicom's warnings about non-conformant values
        # would only be noise on the command line.
        warnings.simplefilter("ignore")
        return _read_record_quietly(path)


def _read_record_quietly(path: Path) -> ImageRecord | LoadProblem:
    """Do the work of :func:`_read_record`."""
    try:
        with path.open("rb") as stream:
            ds = dcmread(stream, stop_before_pixels=True)
    except InvalidDicomError:
        # PS3.10 7.1: a DICOM file starts with a 128-byte preamble and "DICM".
        return LoadProblem(path, "not a DICOM file (no 'DICM' prefix after the preamble)")
    except OSError as exc:
        return LoadProblem(path, f"cannot read the file: {exc.strerror or _describe(exc)}")
    except Exception as exc:  # pydicom raises many types for damaged files
        return LoadProblem(path, f"damaged DICOM file: {_describe(exc)}")
    try:
        return _record_from_dataset(path, ds)
    except Exception as exc:  # a malformed value deep in the header
        return LoadProblem(path, f"damaged DICOM header: {_describe(exc)}")


def _record_from_dataset(path: Path, ds: Dataset) -> ImageRecord | LoadProblem:
    """Build the record of a header, or a problem naming the missing attributes."""
    absent = [keyword for keyword, _ in _REQUIRED if not ds.get(keyword)]
    if absent:
        sop_class = UID(str(ds.get("SOPClassUID") or ""))
        if "Rows" in absent and sop_class and "Image" not in sop_class.name:
            # e.g. a Structured Report or Presentation State next to the images
            return LoadProblem(path, f"not an image ({sop_class.name}); skipped")
        if len(absent) == len(_REQUIRED):
            return LoadProblem(path, "damaged or empty DICOM file: no image attributes found")
        missing = ", ".join(f"{keyword} {tag}" for keyword, tag in _REQUIRED if keyword in absent)
        return LoadProblem(path, f"missing required attribute {missing}")
    view = MammoView.from_dataset(ds)
    return ImageRecord(
        path=path,
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
        transfer_syntax_uid=str(ds.file_meta.get("TransferSyntaxUID") or ""),
        contrast_bolus_agent=str(ds.get("ContrastBolusAgent") or ""),
        number_of_frames=_optional_int(ds.get("NumberOfFrames")) or 1,
    )


def _optional_int(value: object) -> int | None:
    """Convert an IS value to ``int``; ``None`` when absent or malformed."""
    if value is None or value == "":
        return None
    try:
        return int(str(value))
    except ValueError:
        return None
