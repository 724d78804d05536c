"""Synthetic mammography DICOM files for tests (made in code, no patient data).

``write_mg(tmp_path / "a.dcm", laterality="L", view="CC")`` writes a small
uncompressed (Explicit VR Little Endian) 12-bit MG image with window presets,
Image Laterality and a coded view; keyword arguments vary every attribute the
loader and the display care about.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from galactoview.dicom.loading import ImageRecord, scan
from galactoview.paths import sample_data_dir, sample_dicom_dir
from galactoview.phantom.dicom_writer import code_item

#: Digital Mammography X-Ray Image Storage - For Presentation (PS3.4 B.5).
MG_FOR_PRESENTATION = UID("1.2.840.10008.5.1.4.1.1.1.2")

STUDY_UID = generate_uid(entropy_srcs=["galactoview-test-study"])

#: view short name -> (SCT code, legacy SRT code, meaning), PS3.16 CID 4014
VIEW_CODES = {
    "CC": ("399162004", "R-10242", "cranio-caudal"),
    "MLO": ("399368009", "R-10226", "medio-lateral oblique"),
    "ML": ("399260004", "R-10224", "medial-lateral"),
    "LM": ("399352003", "R-10228", "latero-medial"),
    "XCCL": ("399192008", "R-1024A", "cranio-caudal exaggerated laterally"),
}
#: modifier short name -> (SCT code, legacy SRT code, meaning), PS3.16 CID 4015
MODIFIER_CODES = {
    "MAG": ("399163009", "R-102D6", "Magnification"),
    "SPOT": ("399055006", "R-102D7", "Spot Compression"),
}

#: (center, width, explanation) presets written by default
DEFAULT_WINDOWS: tuple[tuple[float, float, str], ...] = (
    (2048.0, 4096.0, "NORMAL"),
    (1500.0, 1000.0, "HARDER"),
    (2600.0, 1800.0, "SOFTER"),
)


def make_pixels(rows: int, columns: int, seed: int = 0, bits_stored: int = 12) -> np.ndarray:
    """Return a seeded 12-bit test pattern: a gradient with noise and a bright duct."""
    rng = np.random.default_rng(seed)
    top = 2**bits_stored - 1
    r, c = np.mgrid[0:rows, 0:columns]
    gradient = (c / max(columns - 1, 1)) * 0.6 * top + 0.1 * top
    duct = np.exp(-(((r - rows / 2) / (rows / 10 + 1)) ** 2)) * 0.3 * top
    noise = rng.normal(0, 0.02 * top, size=(rows, columns))
    pixels: np.ndarray = np.clip(gradient + duct + noise, 0, top).astype(np.uint16)
    return pixels


def make_mg_dataset(
    *,
    laterality: str | None = "L",
    view: str | None = "CC",
    modifiers: Sequence[str] = (),
    legacy_codes: bool = False,
    view_position: str | None = None,
    series_laterality: str | None = None,
    rows: int = 64,
    columns: int = 48,
    seed: int = 0,
    pixels: np.ndarray | None = None,
    windows: Sequence[tuple[float, float, str]] = DEFAULT_WINDOWS,
    voi_lut_function: str | None = None,
    photometric: str = "MONOCHROME2",
    study_uid: str = STUDY_UID,
    study_date: str = "20240102",
    study_description: str = "Galactography left",
    series_number: int = 2,
    series_uid: str | None = None,
    series_description: str = "post-contrast",
    instance_number: int = 1,
    contrast: bool = True,
    patient_name: str = "Phantom^Jane",
) -> Dataset:
    """Build an MG "For Presentation" dataset with file meta, ready to save."""
    sop_uid = generate_uid()
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = MG_FOR_PRESENTATION
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = MG_FOR_PRESENTATION
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid or generate_uid(entropy_srcs=[study_uid, str(series_number)])
    ds.PatientName = patient_name
    ds.PatientID = "GV-TEST-001"
    ds.StudyDate = study_date
    ds.StudyDescription = study_description
    ds.SeriesDescription = series_description
    ds.SeriesNumber = series_number
    ds.InstanceNumber = instance_number
    ds.Modality = "MG"
    ds.PresentationIntentType = "FOR PRESENTATION"
    if contrast:
        ds.ContrastBolusAgent = "Iodinated contrast"
    if laterality is not None:
        ds.ImageLaterality = laterality
    if series_laterality is not None:
        ds.Laterality = series_laterality
    if view is not None:
        value, legacy, meaning = VIEW_CODES[view]
        item = (
            code_item(legacy, "SRT", meaning) if legacy_codes else code_item(value, "SCT", meaning)
        )
        mods = []
        for name in modifiers:
            m_value, m_legacy, m_meaning = MODIFIER_CODES[name]
            mods.append(
                code_item(m_legacy, "SRT", m_meaning)
                if legacy_codes
                else code_item(m_value, "SCT", m_meaning)
            )
        item.ViewModifierCodeSequence = DicomSequence(mods)
        ds.ViewCodeSequence = DicomSequence([item])
    if view_position is not None:
        ds.ViewPosition = view_position

    data = make_pixels(rows, columns, seed) if pixels is None else pixels
    ds.Rows, ds.Columns = data.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.RescaleSlope = 1
    ds.RescaleIntercept = 0
    ds.RescaleType = "US"
    if windows:
        ds.WindowCenter = [center for center, _, _ in windows]
        ds.WindowWidth = [width for _, width, _ in windows]
        ds.WindowCenterWidthExplanation = [text for _, _, text in windows]
    if voi_lut_function is not None:
        ds.VOILUTFunction = voi_lut_function
    if photometric == "MONOCHROME1":
        ds.PresentationLUTShape = "INVERSE"
    else:
        ds.PresentationLUTShape = "IDENTITY"
    ds.PixelData = data.astype("<u2").tobytes()
    return ds


def write_dataset(ds: Dataset, path: Path) -> Path:
    """Save a dataset as a DICOM Part 10 file (PS3.10), creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def write_mg(path: Path, **options: Any) -> Path:
    """Write a synthetic MG file; ``options`` are those of :func:`make_mg_dataset`."""
    return write_dataset(make_mg_dataset(**options), path)


def write_study(folder: Path) -> list[Path]:
    """Write a small galactography study: pre-contrast CC, post-contrast CC, ML, CC MAG.

    Files are written in an order that differs from the display order, so sorting
    is exercised.
    """
    return [
        write_mg(
            folder / "series3" / "ml.dcm",
            view="ML",
            series_number=3,
            series_description="post-contrast",
            seed=3,
        ),
        write_mg(
            folder / "series1" / "scout.dcm",
            view="CC",
            series_number=1,
            series_description="pre-contrast",
            contrast=False,
            seed=1,
        ),
        write_mg(
            folder / "series2" / "cc.dcm",
            view="CC",
            series_number=2,
            instance_number=1,
            series_description="post-contrast",
            seed=2,
        ),
        write_mg(
            folder / "series2" / "cc_mag.dcm",
            view="CC",
            modifiers=("MAG",),
            series_number=2,
            instance_number=2,
            series_description="post-contrast",
            seed=4,
        ),
    ]


def write_sample_data(data: Path, sidecar: str | None = None) -> dict[str, str]:
    """Write a stand-in for ``sample_data/``: :func:`write_study` in ``dicom/`` and SHA256SUMS.

    Parameters
    ----------
    data
        The folder to fill.
    sidecar
        Text of a sidecar ``dicom/series2/galactoview-<STUDY_UID>.sr.json`` (listed in
        the sums like the real sample's); none when None.

    Returns
    -------
    dict of str to str
        The checksum list's entries: path relative to ``data`` → SHA-256.
    """
    write_study(data / "dicom")
    if sidecar is not None:
        (data / "dicom" / "series2" / f"galactoview-{STUDY_UID}.sr.json").write_text(sidecar)
    (data / "ground_truth.json").write_text("{}")
    sums = {
        path.relative_to(data).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(data.rglob("*"))
        if path.is_file()
    }
    (data / "SHA256SUMS").write_text("".join(f"{d}  {n}\n" for n, d in sums.items()))
    return sums


def write_garbage(path: Path, data: bytes = b"this is not DICOM\n" * 20) -> Path:
    """Write a file that is not DICOM at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_corrupt(path: Path) -> Path:
    """Write a file with a valid Part 10 preamble and prefix followed by garbage."""
    return write_garbage(path, b"\x00" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\xff\xff" + b"x" * 7)


def write_truncated(path: Path, **options: Any) -> Path:
    """Write a synthetic MG file whose pixel data is cut short."""
    ds = make_mg_dataset(**options)
    pixel_bytes = bytes(ds.PixelData)
    ds.PixelData = pixel_bytes[: len(pixel_bytes) // 2]
    return write_dataset(ds, path)


def pydicom_test_file(name: str) -> Path:
    """Return the path of a test file bundled with pydicom (never downloads)."""
    from pydicom.data import get_testdata_file

    path = get_testdata_file(name, download=False)
    assert isinstance(path, str), f"{name} is not bundled with pydicom"
    return Path(path)


#: Number of images in the bundled sample study (sample_data/dicom).
SAMPLE_IMAGE_COUNT = 9


def sample_images() -> tuple[ImageRecord, ...]:
    """Return the records of the bundled sample study (its 9 images); skip without it."""
    folder = sample_dicom_dir()
    if not folder.is_dir():
        pytest.skip(f"no sample study in {folder}")
    return _scan_sample(folder)


def sample_headers() -> dict[str, Dataset]:
    """Return new header-only datasets of the sample images by file stem; skip without them."""
    folder = sample_dicom_dir()
    if not folder.is_dir():
        pytest.skip(f"no sample study in {folder}")
    return {p.stem: dcmread(p, stop_before_pixels=True) for p in sorted(folder.rglob("*.dcm"))}


@cache
def _scan_sample(folder: Path) -> tuple[ImageRecord, ...]:
    images = scan([folder]).images
    assert len(images) == SAMPLE_IMAGE_COUNT
    return images


# --- sample study ground truth (sample_data/ground_truth.json, schema in its README) -------

#: An SCOORD position (column, row) in pixels.
Point = tuple[float, float]


@cache
def ground_truth() -> dict[str, Any]:
    """Return the sample study's ground truth (skip the test without the sample study)."""
    path = sample_data_dir() / "ground_truth.json"
    if not path.is_file():
        pytest.skip(f"no sample study in {path.parent}")
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def truth_image(label: str) -> dict[str, Any]:
    """Return the ground truth entry of a sample image by its label (e.g. ``"LCC_POST"``)."""
    images: list[dict[str, Any]] = ground_truth()["images"]
    (image,) = (i for i in images if i["label"] == label)
    return image


def nipple(label: str) -> Point:
    """Return the ground-truth nipple projection (SCOORD) on a sample image."""
    point = truth_image(label)["nipple"]
    return float(point["column"]), float(point["row"])


def lesion(label: str, lesion_id: str = "defect-1") -> Point:
    """Return the ground-truth projection (SCOORD) of a lesion on a sample image."""
    (point,) = (p for p in truth_image(label)["lesions"] if p["id"] == lesion_id)
    return float(point["column"]), float(point["row"])
