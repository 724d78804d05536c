"""Decoding every transfer syntax users meet, through ``scan`` + ``load_pixels``.

Real files come from ``pydicom.data`` (bundled with pydicom, no network). Each is
compared with a reference that does not go through the decoder under test: the
native pixel bytes of an uncompressed twin read with numpy, the known colour
stripes of pydicom's ``SC_rgb`` family, the array a file was made from (HTJ2K,
encoded here with imagecodecs), or pixel values pydicom's own tests check.
Files only in the separate ``pydicom-data`` package are skipped when absent; this
module never downloads anything.

Transfer syntaxes: PS3.5 Annex A (A.1 native, A.4 encapsulated, A.5 deflated).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import imagecodecs
import numpy as np
import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate, get_frame
from pydicom.uid import (
    HTJ2K,
    JPEG2000,
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    HTJ2KLossless,
    HTJ2KLosslessRPCL,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
    generate_uid,
)

from galactoview.dicom import loading
from galactoview.dicom.loading import ImageRecord, PixelDataError, load_pixels, scan
from galactoview.imaging import decode_service
from tests.helpers import make_mg_dataset, make_pixels, pydicom_test_file, write_dataset


def _optional(name: str) -> Path:
    """Return a file of the separate ``pydicom-data`` package, or skip the test."""
    path = get_testdata_file(name, download=False)
    if not isinstance(path, str):
        pytest.skip(f"{name} is neither bundled with pydicom nor in an installed pydicom-data")
    return Path(path)


def _record(path: Path) -> ImageRecord:
    result = scan([path])
    assert result.problems == ()
    (record,) = result.images
    return record


def _native(name: str, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    """Read the native Pixel Data of a bundled file with numpy alone (PS3.5 8.1.1)."""
    data: bytes = dcmread(pydicom_test_file(name)).PixelData
    return np.frombuffer(data, dtype=dtype)[: int(np.prod(shape))].reshape(shape)


def _stripes() -> np.ndarray:
    """Return frame 0 of pydicom's ``SC_rgb`` family: ten 10-row stripes, 100 x 100 RGB."""
    colours = [
        (255, 0, 0),
        (255, 128, 128),
        (0, 255, 0),
        (128, 255, 128),
        (0, 0, 255),
        (128, 128, 255),
        (0, 0, 0),
        (64, 64, 64),
        (192, 192, 192),
        (255, 255, 255),
    ]
    rows = np.repeat(np.array(colours, dtype=np.uint8), 10, axis=0)
    return np.repeat(rows[:, np.newaxis, :], 100, axis=1)


def _with_uids(name: str, tmp_path: Path) -> Path:
    """Copy a bundled file lacking Study/Series Instance UIDs, adding them.

    The pixel data bytes are copied unchanged; only the header gains the UIDs
    :func:`scan` requires.
    """
    ds = dcmread(pydicom_test_file(name))
    ds.StudyInstanceUID = ds.get("StudyInstanceUID") or generate_uid()
    ds.SeriesInstanceUID = ds.get("SeriesInstanceUID") or generate_uid()
    return write_dataset(ds, tmp_path / name)


def _syntax(record: ImageRecord) -> UID:
    return UID(record.transfer_syntax_uid)


# --- grayscale, lossless: MR_small and its twins --------------------------------------

MR_SMALL_TWINS = [
    ("MR_small.dcm", ExplicitVRLittleEndian),
    ("MR_small_implicit.dcm", ImplicitVRLittleEndian),
    ("MR_small_bigendian.dcm", ExplicitVRBigEndian),
    ("MR_small_expb.dcm", ExplicitVRBigEndian),
    ("MR_small_RLE.dcm", RLELossless),
    ("MR_small_jp2klossless.dcm", JPEG2000Lossless),
    ("MR_small_jpeg_ls_lossless.dcm", JPEGLSLossless),
]


@pytest.mark.parametrize(("name", "syntax"), MR_SMALL_TWINS, ids=[n for n, _ in MR_SMALL_TWINS])
def test_lossless_grayscale_matches_uncompressed_twin(name: str, syntax: UID) -> None:
    record = _record(pydicom_test_file(name))
    assert _syntax(record) == syntax
    stored = load_pixels(record)
    assert stored.dtype == np.int16  # Pixel Representation 1
    np.testing.assert_array_equal(stored, _native("MR_small.dcm", "<i2", (64, 64)))


def test_deflated_explicit_vr_little_endian() -> None:
    record = _record(pydicom_test_file("image_dfl.dcm"))
    assert _syntax(record) == DeflatedExplicitVRLittleEndian
    # dcmread inflates the dataset (PS3.5 A.5); the pixel bytes are then native.
    np.testing.assert_array_equal(load_pixels(record), _native("image_dfl.dcm", "u1", (512, 512)))


def test_monochrome1_stored_values_are_returned_as_stored(tmp_path: Path) -> None:
    # No bundled MONOCHROME1 file; inversion (PS3.3 C.7.6.3.1.2) is the display's job.
    pixels = make_pixels(16, 12, seed=6)
    ds = make_mg_dataset(pixels=pixels, photometric="MONOCHROME1")
    record = _record(write_dataset(ds, tmp_path / "m1.dcm"))
    assert record.photometric_interpretation == "MONOCHROME1"
    np.testing.assert_array_equal(load_pixels(record), pixels)


def test_one_bit_data_is_unpacked(tmp_path: Path) -> None:
    # Bits Allocated 1: eight pixels a byte, least significant bit first (PS3.5 8.1.1).
    bits = np.random.default_rng(2).integers(0, 2, (8, 16), dtype=np.uint8)
    ds = make_mg_dataset(pixels=bits.astype(np.uint16))
    ds.BitsAllocated = ds.BitsStored = 1
    ds.HighBit = 0
    ds.PixelData = np.packbits(bits, bitorder="little").tobytes()
    ds["PixelData"].VR = "OB"
    np.testing.assert_array_equal(load_pixels(_record(write_dataset(ds, tmp_path / "b.dcm"))), bits)


# --- colour: the SC_rgb stripes --------------------------------------------------------

STRIPES = [
    # (file, transfer syntax, largest difference allowed from the stripes)
    ("SC_rgb_rle.dcm", RLELossless, 0),
    ("SC_rgb_gdcm_KY.dcm", JPEG2000, 0),  # stored losslessly under the lossy-capable UID
    ("SC_rgb_jpeg_gdcm.dcm", JPEGLosslessSV1, 0),
    ("SC_rgb_jls_lossy_line.dcm", JPEGLSNearLossless, 2),  # NEAR = 2
    ("SC_rgb_jpeg_dcmtk.dcm", JPEGBaseline8Bit, 8),  # YBR_FULL, lossy
    ("SC_ybr_full_422_uncompressed.dcm", ExplicitVRLittleEndian, 8),  # YBR_FULL_422
    ("ExplVR_BigEnd.dcm", ExplicitVRBigEndian, None),  # not the stripes: shape only
]


@pytest.mark.parametrize(("name", "syntax", "tolerance"), STRIPES, ids=[s[0] for s in STRIPES])
def test_colour_files_decode_to_rgb(
    tmp_path: Path, name: str, syntax: UID, tolerance: int | None
) -> None:
    record = _record(_with_uids(name, tmp_path))
    assert _syntax(record) == syntax
    with pytest.raises(PixelDataError, match="is not supported"):
        load_pixels(record)  # the grayscale pipeline refuses colour
    rgb = load_pixels(record, colour=True)
    assert rgb.dtype == np.uint8
    if tolerance is None:
        assert rgb.shape == (record.rows, record.columns, 3)
        return
    difference = np.abs(rgb.astype(np.int16) - _stripes()).max()
    assert difference <= tolerance


def test_rle_multiframe_colour_decodes_each_frame() -> None:
    record = _record(pydicom_test_file("SC_rgb_rle_2frame.dcm"))
    assert record.frame_count == 2
    np.testing.assert_array_equal(load_pixels(record, 0, colour=True), _stripes())
    np.testing.assert_array_equal(load_pixels(record, 1, colour=True), 255 - _stripes())


def test_palette_colour_is_mapped_through_its_lut() -> None:
    path = pydicom_test_file("examples_palette.dcm")
    record = _record(path)
    assert record.photometric_interpretation == "PALETTE COLOR"
    ds = dcmread(path)
    stored = np.frombuffer(ds.PixelData, dtype=np.uint8).reshape(350, 800)
    entries, first, bits = ds.RedPaletteColorLookupTableDescriptor
    assert (entries, first, bits) == (256, 0, 16)
    # PS3.3 C.7.6.3.1.5: each channel is its LUT indexed by the stored value.
    lut = np.stack(
        [
            np.frombuffer(ds[f"{colour}PaletteColorLookupTableData"].value, dtype="<u2")
            for colour in ("Red", "Green", "Blue")
        ],
        axis=-1,
    )
    np.testing.assert_array_equal(load_pixels(record, colour=True), lut[stored])
    with pytest.raises(PixelDataError, match="PALETTE COLOR is not supported"):
        load_pixels(record)


def test_jpeg_baseline_multiframe_ybr_decodes_one_frame() -> None:
    path = pydicom_test_file("examples_ybr_color.dcm")
    record = _record(path)
    assert _syntax(record) == JPEGBaseline8Bit
    assert record.frame_count == 30
    last = load_pixels(record, 29, colour=True)
    assert last.shape == (240, 320, 3)
    # Reference: every frame decoded at once by pydicom, YBR converted to RGB.
    np.testing.assert_array_equal(last, dcmread(path).pixel_array[29])


# --- multi-frame grayscale ----------------------------------------------------------------

RTDOSE = ["rtdose.dcm", "rtdose_rle.dcm", "rtdose_expb.dcm"]


@pytest.mark.parametrize("name", RTDOSE)
def test_multiframe_grayscale_frames_match_native_bytes(name: str) -> None:
    record = _record(pydicom_test_file(name))
    assert record.frame_count == 15
    reference = _native("rtdose.dcm", "<u4", (15, 10, 10))
    for index in (0, 7, 14):
        np.testing.assert_array_equal(load_pixels(record, index), reference[index])


# --- lossy: made here from a known array, and pydicom's files ----------------------------


def _jpeg_file(tmp_path: Path, syntax: UID) -> tuple[ImageRecord, np.ndarray]:
    """Encode an 8-bit grayscale array as a JPEG process 1 stream with Pillow."""
    image_module = pytest.importorskip("PIL.Image", reason="Pillow encodes the JPEG stream")
    pixels = (make_pixels(64, 48, seed=11, bits_stored=8)).astype(np.uint8)
    buffer = io.BytesIO()
    image_module.fromarray(pixels).save(buffer, format="JPEG", quality=95)
    ds = make_mg_dataset(pixels=pixels.astype(np.uint16))
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.file_meta.TransferSyntaxUID = syntax
    ds.PixelData = encapsulate([buffer.getvalue()])
    ds["PixelData"].VR = "OB"
    ds.LossyImageCompression = "01"
    return _record(write_dataset(ds, tmp_path / "jpeg.dcm")), pixels


@pytest.mark.parametrize("syntax", [JPEGBaseline8Bit, JPEGExtended12Bit], ids=["p1", "p2-4"])
def test_jpeg_lossy_grayscale_is_close_to_its_source(tmp_path: Path, syntax: UID) -> None:
    # An 8-bit baseline stream is also a valid JPEG Extended (process 2) stream.
    record, pixels = _jpeg_file(tmp_path, syntax)
    stored = load_pixels(record)
    assert stored.shape == pixels.shape
    assert stored.dtype == np.uint8
    assert np.abs(stored.astype(int) - pixels).mean() < 2


def test_jpeg2000_lossy_is_close_to_its_source(tmp_path: Path) -> None:
    pixels = make_pixels(64, 48, seed=12)
    ds = make_mg_dataset(pixels=pixels)
    ds.compress(JPEG2000, j2k_cr=[4])  # 4:1 compression ratio, lossy
    record = _record(write_dataset(ds, tmp_path / "j2k.dcm"))
    stored = load_pixels(record)
    assert stored.dtype == np.uint16
    error = np.abs(stored.astype(int) - pixels.astype(int))
    # Lossy but close: 12-bit data (0..4095) whose own noise has a deviation of 82.
    assert 0 < error.max() < 200
    assert error.mean() < 40
    assert np.corrcoef(stored.ravel(), pixels.ravel())[0, 1] > 0.999


@pytest.mark.parametrize(
    ("name", "shape", "dtype"),
    [("JPEG2000.dcm", (1024, 256), np.int16), ("693_J2KI.dcm", (512, 512), np.int16)],
)
def test_pydicom_jpeg2000_lossy_files_decode(
    name: str, shape: tuple[int, int], dtype: type
) -> None:
    # Their uncompressed references (JPEG2000_UNC.dcm, 693_UNCI.dcm) are in pydicom-data.
    record = _record(pydicom_test_file(name))
    assert _syntax(record) == JPEG2000
    stored = load_pixels(record)
    assert stored.shape == shape
    assert stored.dtype == dtype
    assert stored.std() > 0


def test_jpeg_ls_near_lossless_16_bit(tmp_path: Path) -> None:
    record = _record(_with_uids("JPEGLSNearLossless_16.dcm", tmp_path))
    assert _syntax(record) == JPEGLSNearLossless
    stored = load_pixels(record)
    assert stored.shape == (50, 10)
    assert stored.dtype == np.uint16


# --- JPEG Extended 12-bit and the imagecodecs fallback (PS3.5 A.4.1) ---------------------

#: Pixels of JPEG-lossy.dcm and its fixed twin that pydicom's own test suite checks
#: (``tests/pixels/pixels_reference.py``, JPGE_BAD and JPGE_16_12_1_0_1F_M2).
JPEG_EXTENDED_PIXELS = {(420, 140): 244, (230, 120): 95}


def _first_frame(path: Path) -> bytes:
    return get_frame(dcmread(path).PixelData, 0, number_of_frames=1)


@pytest.mark.parametrize("name", ["JPGExtended.dcm", "JPEG-lossy.dcm"])
def test_jpeg_extended_12_bit_decodes(name: str) -> None:
    # JPEG-lossy.dcm's scan header has Se 0 instead of 63 (its only difference from
    # JPGExtended.dcm, the fixed version): pylibjpeg-libjpeg refuses it, Pillow cannot
    # do 12 bits, so load_pixels falls back to imagecodecs (libjpeg-turbo).
    record = _record(pydicom_test_file(name))
    assert _syntax(record) == JPEGExtended12Bit
    stored = load_pixels(record)
    assert stored.shape == (1024, 256)
    assert stored.dtype == np.uint16  # Bits Allocated 16, Pixel Representation 0
    assert stored.max() <= 4095  # Bits Stored 12
    for (row, column), value in JPEG_EXTENDED_PIXELS.items():
        assert stored[row, column] == value
    # Two more decoders on the fixed twin, JPGExtended.dcm: pydicom (pylibjpeg-libjpeg,
    # which decodes the twin itself) and libjpeg-turbo, which the fallback uses for
    # JPEG-lossy.dcm; they differ only by the rounding of their inverse DCT.
    fixed = pydicom_test_file("JPGExtended.dcm")
    turbo = imagecodecs.jpeg8_decode(_first_frame(fixed))
    for reference in (dcmread(fixed).pixel_array, turbo):
        assert np.abs(stored.astype(int) - reference).max() <= 1
    if name == "JPEG-lossy.dcm":
        np.testing.assert_array_equal(stored, turbo)


def _pydicom_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make pydicom's decoding fail, as its plugins do for JPEG-lossy.dcm."""

    def fail(*args: object, **kwargs: object) -> np.ndarray:
        raise RuntimeError("Unable to decode as exceptions were raised by all plugins")

    monkeypatch.setattr(loading, "pixel_array", fail)


FALLBACK = [
    # (file, colour, largest difference allowed from pydicom's own decode)
    ("JPGExtended.dcm", False, 1),  # 12-bit DCT: inverse DCT rounding
    ("SC_rgb_jpeg_dcmtk.dcm", True, 1),  # baseline YBR_FULL, converted to RGB
    ("SC_rgb_jpeg_gdcm.dcm", True, 0),  # lossless RGB
    ("JPGLosslessP14SV1_1s_1f_8b.dcm", False, 0),  # lossless, pydicom-data
    ("JPEG-LL.dcm", False, 0),  # lossless signed 16-bit, pydicom-data
]


@pytest.mark.parametrize(("name", "colour", "tolerance"), FALLBACK, ids=[f[0] for f in FALLBACK])
def test_jpeg_fallback_matches_pydicom(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, colour: bool, tolerance: int
) -> None:
    if name.startswith(("JPGLossless", "JPEG-LL")):
        _optional(name)  # skip without pydicom-data
    record = _record(_with_uids(name, tmp_path))
    expected = load_pixels(record, colour=colour)  # through pydicom
    _pydicom_fails(monkeypatch)
    calls: list[int] = []
    fallback = loading._decode_jpeg_fallback

    def spy(*args: Any) -> np.ndarray | None:
        calls.append(1)
        return fallback(*args)

    monkeypatch.setattr(loading, "_decode_jpeg_fallback", spy)
    stored = load_pixels(record, colour=colour)  # through imagecodecs
    assert calls == [1]
    assert stored.dtype == expected.dtype
    assert stored.shape == expected.shape
    assert np.abs(stored.astype(int) - expected).max() <= tolerance


def test_fallback_is_only_for_jpeg(monkeypatch: pytest.MonkeyPatch) -> None:
    _pydicom_fails(monkeypatch)

    def never(*args: object) -> np.ndarray:
        raise AssertionError("the JPEG fallback must not run for RLE")

    monkeypatch.setattr(loading, "_decode_jpeg_fallback", never)
    with pytest.raises(PixelDataError, match="cannot decode RLE Lossless pixel data: Unable"):
        load_pixels(_record(pydicom_test_file("MR_small_RLE.dcm")))


def test_undecodable_jpeg_extended_is_one_clear_line(tmp_path: Path) -> None:
    # A JPEG stream no decoder reads: SOI, a truncated SOF1 (12-bit, PS3.5 A.4.1), EOI.
    ds = make_mg_dataset()
    ds.file_meta.TransferSyntaxUID = JPEGExtended12Bit
    ds.PixelData = encapsulate([b"\xff\xd8\xff\xc1\x00\x0b\x0c\x00\x40\xff\xd9\x00"])
    ds["PixelData"].VR = "OB"
    record = _record(write_dataset(ds, tmp_path / "bad.dcm"))
    with pytest.raises(PixelDataError) as raised:
        load_pixels(record)
    message = raised.value.message
    assert message.startswith("cannot decode JPEG Extended (Process 2 and 4) pixel data: ")
    assert "\n" not in message


# --- HTJ2K (PS3.5 10.18, A.4), made here with OpenJPH through imagecodecs --------------

HTJ2K_SYNTAXES = [HTJ2KLossless, HTJ2KLosslessRPCL, HTJ2K]


def _htj2k_file(
    tmp_path: Path, syntax: UID, pixels: np.ndarray, photometric: str = "MONOCHROME2"
) -> ImageRecord:
    """Encode ``pixels`` reversibly (lossless) as an HTJ2K codestream in a DICOM file.

    ``htj2k_encode`` (OpenJPH) writes RPCL progression and, asked, TLM markers, as
    HTJ2K Lossless RPCL requires (PS3.5 10.18). Colour is coded with the reversible
    colour transform, so its Photometric Interpretation is YBR_RCT (PS3.5 8.2.4).
    The HTJ2K (lossy-capable) UID may hold a reversible codestream too.
    """
    codestream = imagecodecs.htj2k_encode(pixels, reversible=True, tlm=True)
    grey = pixels if pixels.ndim == 2 else pixels[..., 0].astype(np.uint16)
    ds = make_mg_dataset(pixels=grey, rows=pixels.shape[0], columns=pixels.shape[1])
    if pixels.ndim == 3:
        ds.SamplesPerPixel = 3
        ds.PlanarConfiguration = 0
        ds.BitsAllocated = ds.BitsStored = 8
        ds.HighBit = 7
    ds.PhotometricInterpretation = photometric
    ds.file_meta.TransferSyntaxUID = syntax
    ds.PixelData = encapsulate([bytes(codestream)])
    ds["PixelData"].VR = "OB"
    record = _record(write_dataset(ds, tmp_path / f"htj2k_{syntax}.dcm"))
    assert _syntax(record) == syntax
    return record


@pytest.mark.parametrize("syntax", HTJ2K_SYNTAXES, ids=[s.keyword for s in HTJ2K_SYNTAXES])
def test_htj2k_12_bit_grayscale_is_lossless(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, syntax: UID
) -> None:
    pixels = make_pixels(64, 48, seed=21)  # 12-bit values in 16-bit words
    record = _htj2k_file(tmp_path, syntax, pixels)
    stored = load_pixels(record)  # pydicom + pylibjpeg-openjpeg
    assert stored.dtype == np.uint16
    np.testing.assert_array_equal(stored, pixels)

    def no_fallback(*args: object, **kwargs: object) -> np.ndarray:
        raise AssertionError("the imagecodecs fast path should have decoded it")

    monkeypatch.setattr(decode_service, "load_pixels", no_fallback)
    fast = decode_service.decode_stored(record, fast=True)  # imagecodecs (OpenJPEG)
    assert fast.dtype == np.uint16
    np.testing.assert_array_equal(fast, pixels)


@pytest.mark.parametrize("syntax", HTJ2K_SYNTAXES, ids=[s.keyword for s in HTJ2K_SYNTAXES])
def test_htj2k_rgb_is_lossless(tmp_path: Path, syntax: UID) -> None:
    record = _htj2k_file(tmp_path, syntax, _stripes(), "YBR_RCT")
    with pytest.raises(PixelDataError, match="is not supported"):
        load_pixels(record)  # the grayscale pipeline refuses colour
    rgb = load_pixels(record, colour=True)
    assert rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb, _stripes())


# --- files only in pydicom-data ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("emri_small_RLE.dcm", "emri_small.dcm"),
        ("emri_small_big_endian.dcm", "emri_small.dcm"),
        ("emri_small_jpeg_2k_lossless.dcm", "emri_small.dcm"),
        ("emri_small_jpeg_ls_lossless.dcm", "emri_small.dcm"),
        ("JPGLosslessP14SV1_1s_1f_8b.dcm", None),
        ("JPEG-LL.dcm", None),
    ],
)
def test_pydicom_data_files(name: str, reference: str | None) -> None:
    record = _record(_optional(name))
    if reference is None:
        assert load_pixels(record).ndim == 2
        return
    expected = _record(_optional(reference))
    for index in range(record.frame_count):
        np.testing.assert_array_equal(load_pixels(record, index), load_pixels(expected, index))
