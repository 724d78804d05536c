"""Tiny colour images made with pydicom (and Pillow for JPEG), for the colour tests.

Secondary Capture Image Storage (PS3.3 A.8.1) datasets with Photometric Interpretation
RGB, YBR_FULL (native), YBR_FULL_422 (JPEG Baseline, PS3.5 A.4.1 and 8.2.1: the JPEG
codestream is YCbCr with 4:2:2 subsampling) and PALETTE COLOR (PS3.3 C.7.6.3.1.5/6);
no binary fixtures. The colours are blocks of 16 x 16 pixels, so that JPEG's 16 x 8
minimum coded units (4:2:2) do not mix them.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.pixels.processing import convert_color_space
from pydicom.uid import UID, JPEGBaseline8Bit, generate_uid

from tests.helpers import STUDY_UID, make_mg_dataset, write_dataset

#: Secondary Capture Image Storage (PS3.4 B.5).
SECONDARY_CAPTURE = UID("1.2.840.10008.5.1.4.1.1.7")

#: The colours of :func:`blocks`, row by row (red, green, blue; white, brown, black).
BLOCK_COLOURS = (
    ((255, 0, 0), (0, 255, 0), (0, 0, 255)),
    ((255, 255, 255), (128, 64, 32), (0, 0, 0)),
)

#: Side of a colour block, in pixels.
BLOCK = 16


def blocks(repeat: int = 1) -> np.ndarray:
    """Return RGB uint8 ``(32 * repeat, 48 * repeat, 3)``: 2 x 3 blocks of :data:`BLOCK_COLOURS`."""
    side = BLOCK * repeat
    rgb = np.zeros((2 * side, 3 * side, 3), dtype=np.uint8)
    for row, colours in enumerate(BLOCK_COLOURS):
        for column, colour in enumerate(colours):
            rgb[row * side : (row + 1) * side, column * side : (column + 1) * side] = colour
    return rgb


def _colour_dataset(
    rows: int, columns: int, photometric: str, modality: str, study_uid: str = STUDY_UID
) -> Dataset:
    """Return a Secondary Capture header (left CC, as :func:`make_mg_dataset` makes)."""
    ds = make_mg_dataset(
        pixels=np.zeros((rows, columns), dtype=np.uint16),
        study_uid=study_uid,
        windows=(),
        series_number=90,
        series_description="key images",
        instance_number=1,
    )
    uid = generate_uid()
    ds.file_meta.MediaStorageSOPClassUID = SECONDARY_CAPTURE
    ds.file_meta.MediaStorageSOPInstanceUID = uid
    ds.SOPClassUID = SECONDARY_CAPTURE
    ds.SOPInstanceUID = uid
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = modality
    for keyword in ("RescaleSlope", "RescaleIntercept", "RescaleType", "PresentationLUTShape"):
        delattr(ds, keyword)
    ds.PhotometricInterpretation = photometric
    ds.SamplesPerPixel = 3
    ds.PlanarConfiguration = 0
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    return ds


def rgb_dataset(
    rgb: np.ndarray, *, planar: int = 0, modality: str = "OT", study_uid: str = STUDY_UID
) -> Dataset:
    """Return an RGB Secondary Capture of ``rgb`` (PS3.3 C.7.6.3.1.3 Planar Configuration)."""
    ds = _colour_dataset(rgb.shape[0], rgb.shape[1], "RGB", modality, study_uid)
    ds.PlanarConfiguration = planar
    data = rgb.transpose(2, 0, 1) if planar else rgb
    ds.PixelData = np.ascontiguousarray(data).tobytes()
    return ds


def ybr_full_dataset(rgb: np.ndarray) -> tuple[Dataset, np.ndarray]:
    """Return a native YBR_FULL Secondary Capture of ``rgb`` and its stored YCbCr.

    The YCbCr values are pydicom's conversion of ``rgb`` (PS3.3 C.7.6.3.1.2).
    """
    ybr = convert_color_space(rgb, "RGB", "YBR_FULL")
    ds = _colour_dataset(rgb.shape[0], rgb.shape[1], "YBR_FULL", "OT")
    ds.PixelData = np.ascontiguousarray(ybr).tobytes()
    return ds, ybr


def ybr_full_422_jpeg_dataset(rgb: np.ndarray) -> Dataset:
    """Return a JPEG Baseline YBR_FULL_422 Secondary Capture of ``rgb`` (Pillow, 4:2:2)."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=95, subsampling=1)  # 4:2:2
    ds = _colour_dataset(rgb.shape[0], rgb.shape[1], "YBR_FULL_422", "OT")
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.PixelData = encapsulate([buffer.getvalue()])
    ds["PixelData"].VR = "OB"
    return ds


def palette_dataset(indices: np.ndarray) -> Dataset:
    """Return a PALETTE COLOR Secondary Capture of 8-bit ``indices``, 16-bit palettes.

    The palettes (PS3.3 C.7.6.3.1.5, C.7.6.3.1.6): red ``i * 257``, green ``(255 - i) *
    257``, blue ``128 * 257``, so the 8-bit display of index ``i`` is ``(i, 255 - i, 128)``.
    """
    ds = _colour_dataset(indices.shape[0], indices.shape[1], "PALETTE COLOR", "OT")
    del ds.PlanarConfiguration
    ds.SamplesPerPixel = 1
    index = np.arange(256, dtype=np.uint16)
    for colour, values in (
        ("Red", index * 257),
        ("Green", (255 - index) * 257),
        ("Blue", np.full(256, 128 * 257, dtype=np.uint16)),
    ):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [256, 0, 16])
        setattr(ds, f"{colour}PaletteColorLookupTableData", values.astype("<u2").tobytes())
    ds.PixelData = np.ascontiguousarray(indices, dtype=np.uint8).tobytes()
    return ds


def write_colour_key_image(
    folder: Path, study_uid: str = STUDY_UID, *, repeat: int = 1, name: str = "key_image.dcm"
) -> Path:
    """Write an RGB key image of :func:`blocks` (Modality MG, left CC) into ``folder``.

    Filed as MG with a laterality and a view, as some modalities file their captures:
    the hanging must still not take it for a mammogram.
    """
    ds = rgb_dataset(blocks(repeat), modality="MG", study_uid=study_uid)
    return write_dataset(ds, folder / name)
