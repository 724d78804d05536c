"""Tests for galactoview.imaging.display, with pydicom's own processing functions as oracle."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from pydicom import Dataset
from pydicom.dataelem import RawDataElement
from pydicom.dataset import FileMetaDataset
from pydicom.pixels.processing import (
    apply_modality_lut,
    apply_voi,
    apply_voi_lut,
    apply_windowing,
)
from pydicom.tag import Tag
from pydicom.uid import ExplicitVRLittleEndian

from galactoview.imaging.display import (
    DisplayPipeline,
    ModalityLut,
    PresentationLutShape,
    VoiLut,
    VoiLutFunction,
    Window,
    auto_window,
)


def make_ds(bits: int = 12, signed: bool = False, photometric: str = "MONOCHROME2") -> Dataset:
    ds = Dataset()
    ds.SamplesPerPixel = 1
    ds.BitsAllocated = 16
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = int(signed)
    ds.PhotometricInterpretation = photometric
    return ds


def all_stored(pipeline: DisplayPipeline) -> NDArray[np.int64]:
    low, high = pipeline.stored_range
    return np.arange(low, high + 1, dtype=np.int64)


def to_display(values: NDArray[Any], y_min: float, y_max: float) -> NDArray[np.int64]:
    """Scale pydicom's float output range [y_min, y_max] to rounded display levels 0..255."""
    scaled = (np.asarray(values, dtype=np.float64) - y_min) / (y_max - y_min) * 255.0
    return np.clip(np.rint(scaled), 0, 255).astype(np.int64)


def assert_within_one_level(ours: NDArray[np.uint8], oracle: NDArray[np.int64]) -> None:
    assert ours.dtype == np.uint8
    assert ours.shape == oracle.shape
    assert int(np.abs(ours.astype(np.int64) - oracle).max()) <= 1


def raw_ds_element(keyword_tag: int, vr: str, value: bytes) -> RawDataElement:
    """An element as read from a file, before pydicom converts (and validates) its value."""
    return RawDataElement(Tag(keyword_tag), vr, len(value), value, 0, False, True)


# --- windows against pydicom.apply_windowing ------------------------------------------------


@pytest.mark.parametrize("function", ["LINEAR", "LINEAR_EXACT", "SIGMOID"])
@pytest.mark.parametrize(("center", "width"), [(2048.0, 4096.0), (1500.0, 301.0), (900.5, 1.0)])
def test_window_matches_pydicom_unsigned(function: str, center: float, width: float) -> None:
    ds = make_ds(12)
    ds.WindowCenter = center
    ds.WindowWidth = width
    ds.VOILUTFunction = function
    pipeline = DisplayPipeline.from_dataset(ds)
    assert pipeline.problems == ()
    window = pipeline.default_voi()
    assert window == Window(center, width, VoiLutFunction(function))
    stored = all_stored(pipeline)
    with np.errstate(over="ignore"):  # pydicom's SIGMOID overflows exp() for width 1
        oracle = to_display(apply_windowing(stored, ds), 0, 4095)
    assert_within_one_level(pipeline.lut(window), oracle)


@pytest.mark.parametrize("function", ["LINEAR", "LINEAR_EXACT", "SIGMOID"])
def test_window_in_modality_units_with_rescale_and_signed_data(function: str) -> None:
    ds = make_ds(12, signed=True)
    ds.RescaleSlope = 2
    ds.RescaleIntercept = -100
    ds.WindowCenter = 300
    ds.WindowWidth = 1200
    ds.VOILUTFunction = function
    pipeline = DisplayPipeline.from_dataset(ds)
    stored = all_stored(pipeline)
    modality = apply_modality_lut(stored, ds)
    np.testing.assert_array_equal(pipeline.modality_values(stored), modality)
    # pydicom's output range is the rescaled stored range: -2048*2-100 .. 2047*2-100
    oracle = to_display(apply_windowing(modality, ds), -4196, 3994)
    assert_within_one_level(pipeline.lut(pipeline.default_voi()), oracle)


def test_linear_window_concrete_values() -> None:
    # PS3.3 C.11.2.1.2.1: c=100, w=11 -> x <= 94.5 black, x > 104.5 white
    pipeline = DisplayPipeline(bits_stored=8, pixel_representation=0)
    lut = pipeline.lut(Window(100, 11))
    assert lut[94] == 0
    assert lut[105] == 255
    assert lut[100] == 140  # (100 - 99.5) / 10 + 0.5 = 0.55 -> 140.25
    assert np.all(np.diff(lut.astype(np.int64)) >= 0)


# --- VOI LUT Sequence and Modality LUT Sequence ---------------------------------------------


def voi_lut_item(first: int, bits: int, data: list[int], text: str = "") -> Dataset:
    item = Dataset()
    item.LUTDescriptor = [len(data), first, bits]
    item.LUTData = data
    if text:
        item.LUTExplanation = text
    return item


def test_voi_lut_sequence_matches_pydicom() -> None:
    ds = make_ds(12)
    curve = (np.linspace(0.0, 1.0, 2048) ** 0.5 * 4095).round().astype(int).tolist()
    ds.VOILUTSequence = [voi_lut_item(1000, 12, curve, "GAMMA")]
    pipeline = DisplayPipeline.from_dataset(ds)
    assert pipeline.problems == ()
    voi = pipeline.default_voi()
    assert isinstance(voi, VoiLut)
    assert (voi.first_mapped, voi.bits, voi.explanation) == (1000, 12, "GAMMA")
    assert not voi.data.flags.writeable
    stored = all_stored(pipeline)
    oracle = to_display(apply_voi(stored, ds), 0, 4095)
    lut = pipeline.lut(voi)
    assert_within_one_level(lut, oracle)
    assert lut[0] == 0  # below first mapped -> first entry
    assert lut[4095] == 255  # beyond the table -> last entry


def test_voi_lut_ow_bytes_and_signed_first_mapped() -> None:
    ds = make_ds(12, signed=True)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    data = np.linspace(0, 65535, 1000).round().astype("<u2")
    item = Dataset()
    item.LUTDescriptor = [1000, 65536 - 500, 16]  # -500 read as US
    item.add_new(0x00283006, "OW", data.tobytes())
    ds.VOILUTSequence = [item]
    pipeline = DisplayPipeline.from_dataset(ds)
    voi = pipeline.default_voi()
    assert isinstance(voi, VoiLut)
    assert voi.first_mapped == -500
    np.testing.assert_array_equal(voi.data, data)
    oracle_ds = make_ds(12, signed=True)
    oracle_ds.VOILUTSequence = [voi_lut_item(-500, 16, data.tolist())]
    stored = all_stored(pipeline)
    oracle = to_display(apply_voi_lut(stored, oracle_ds), 0, 65535)
    assert_within_one_level(pipeline.lut(voi), oracle)
    assert pipeline.render(np.array([-2048, -500, 499, 2047], np.int16), voi).tolist() == [
        0,
        0,
        255,
        255,
    ]


def test_modality_lut_sequence_then_window_matches_pydicom() -> None:
    ds = make_ds(12)
    table = (np.linspace(0.0, 1.0, 4096) ** 2 * 65535).round().astype(int).tolist()
    mod_item = voi_lut_item(0, 16, table)
    mod_item.ModalityLUTType = "OD"
    ds.ModalityLUTSequence = [mod_item]
    ds.WindowCenter = 20000
    ds.WindowWidth = 30000
    pipeline = DisplayPipeline.from_dataset(ds)
    assert pipeline.problems == ()
    assert isinstance(pipeline.modality_lut, ModalityLut)
    assert pipeline.modality_lut.lut_type == "OD"
    stored = all_stored(pipeline)
    modality = apply_modality_lut(stored, ds)
    np.testing.assert_array_equal(pipeline.modality_values(stored), modality)
    oracle = to_display(apply_windowing(modality, ds), 0, 65535)
    assert_within_one_level(pipeline.lut(pipeline.default_voi()), oracle)


def test_modality_lut_sequence_wins_over_rescale() -> None:
    ds = make_ds(8)
    ds.ModalityLUTSequence = [voi_lut_item(0, 8, list(range(255, -1, -1)))]
    ds.RescaleSlope = 3
    ds.RescaleIntercept = 7
    pipeline = DisplayPipeline.from_dataset(ds)
    assert pipeline.modality_values(np.array([0, 255])).tolist() == [255.0, 0.0]
    assert any("Rescale ignored" in p for p in pipeline.problems)


def test_lut_table_equality_and_hash_use_contents() -> None:
    a = VoiLut(0, 8, np.arange(256))
    b = VoiLut(0, 8, np.arange(256), "")
    c = VoiLut(0, 8, np.arange(256)[::-1].copy())
    assert a == b
    assert hash(a) == hash(b)
    assert a != c
    with pytest.raises(ValueError):
        VoiLut(0, 8, np.array([0, 256]))


# --- inversion: exactly once ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("photometric", "shape", "inverted"),
    [
        ("MONOCHROME1", "INVERSE", True),
        ("MONOCHROME1", None, True),
        ("MONOCHROME2", "INVERSE", True),
        ("MONOCHROME2", None, False),
        ("MONOCHROME2", "IDENTITY", False),
        ("MONOCHROME1", "IDENTITY", False),
    ],
)
def test_inversion_decided_once(photometric: str, shape: str | None, inverted: bool) -> None:
    ds = make_ds(12, photometric=photometric)
    ds.WindowCenter = 2048
    ds.WindowWidth = 4096
    if shape is not None:
        ds.PresentationLUTShape = shape
    pipeline = DisplayPipeline.from_dataset(ds)
    assert pipeline.invert is inverted
    low_high = pipeline.render(np.array([0, 4095], np.uint16), pipeline.default_voi())
    assert low_high.tolist() == ([255, 0] if inverted else [0, 255])
    plain = DisplayPipeline(12, 0, windows=pipeline.windows).lut(pipeline.default_voi())
    lut = pipeline.lut(pipeline.default_voi())
    np.testing.assert_array_equal(lut, 255 - plain if inverted else plain)


def test_inconsistent_or_unknown_presentation_shape_is_reported() -> None:
    ds = make_ds(12, photometric="MONOCHROME1")
    ds.PresentationLUTShape = "IDENTITY"
    assert any("IDENTITY" in p for p in DisplayPipeline.from_dataset(ds).problems)
    ds.PresentationLUTShape = "FOO"
    pipeline = DisplayPipeline.from_dataset(ds)
    assert pipeline.invert is True  # falls back to MONOCHROME1
    assert any("FOO" in p for p in pipeline.problems)
    assert PresentationLutShape("INVERSE") is PresentationLutShape.INVERSE


# --- multi-valued windows and tolerant reading ----------------------------------------------


def test_multi_valued_windows_with_explanations() -> None:
    ds = make_ds(12)
    ds.WindowCenter = [1000, 2000, 3000]
    ds.WindowWidth = [500, 1500, 4000]
    ds.WindowCenterWidthExplanation = ["SOFT", "NORMAL", "HARD"]
    ds.VOILUTFunction = "SIGMOID"
    ds.VOILUTSequence = [voi_lut_item(0, 8, list(range(256)))]
    pipeline = DisplayPipeline.from_dataset(ds)
    assert pipeline.problems == ()
    sigmoid = VoiLutFunction.SIGMOID
    assert pipeline.windows == (
        Window(1000, 500, sigmoid, "SOFT"),
        Window(2000, 1500, sigmoid, "NORMAL"),
        Window(3000, 4000, sigmoid, "HARD"),
    )
    assert pipeline.default_voi() == pipeline.windows[0]
    assert len(pipeline.voi_luts) == 1
    assert DisplayPipeline(12, 0, voi_luts=pipeline.voi_luts).default_voi() == pipeline.voi_luts[0]
    assert DisplayPipeline(12, 0).default_voi() is None


def test_width_zero_is_dropped_with_a_problem() -> None:
    ds = make_ds(12)
    ds.WindowCenter = "2048"
    ds.WindowWidth = "0"
    pipeline = DisplayPipeline.from_dataset(ds)
    assert pipeline.windows == ()
    assert any("window 1" in p for p in pipeline.problems)
    assert pipeline.default_voi() is None
    assert pipeline.lut(None)[[0, 4095]].tolist() == [0, 255]


def test_non_numeric_window_is_dropped_with_a_problem() -> None:
    ds = make_ds(12)
    ds[0x00281050] = raw_ds_element(0x00281050, "DS", b"100\\200 ")
    ds[0x00281051] = raw_ds_element(0x00281051, "DS", b"abc\\50")
    pipeline = DisplayPipeline.from_dataset(ds)
    assert pipeline.windows == (Window(200, 50),)
    assert any("abc" in p for p in pipeline.problems)


def test_mismatched_center_and_width_counts() -> None:
    ds = make_ds(12)
    ds.WindowCenter = [100, 200, 300]
    ds.WindowWidth = [10, 20]
    pipeline = DisplayPipeline.from_dataset(ds)
    assert pipeline.windows == (Window(100, 10), Window(200, 20))
    assert any("3 Window Center but 2 Window Width" in p for p in pipeline.problems)


def test_unknown_voi_lut_function_means_linear() -> None:
    ds = make_ds(12)
    ds.WindowCenter = 100
    ds.WindowWidth = 10
    ds.VOILUTFunction = "FOO"
    pipeline = DisplayPipeline.from_dataset(ds)
    assert pipeline.windows == (Window(100, 10, VoiLutFunction.LINEAR),)
    assert any("FOO" in p for p in pipeline.problems)


def test_header_only_garbage_never_raises() -> None:
    ds = Dataset()
    ds[0x00281053] = raw_ds_element(0x00281053, "DS", b"abc ")
    ds.RescaleIntercept = 5
    bad_item = Dataset()
    bad_item.LUTDescriptor = [10, 0]
    ds.VOILUTSequence = [bad_item]
    ds.ModalityLUTSequence = [bad_item]
    pipeline = DisplayPipeline.from_dataset(ds)
    assert (pipeline.bits_stored, pipeline.pixel_representation) == (16, 0)
    assert (pipeline.rescale_slope, pipeline.rescale_intercept) == (1.0, 5.0)
    assert pipeline.voi_luts == ()
    assert pipeline.modality_lut is None
    assert pipeline.invert is False
    text = "\n".join(pipeline.problems)
    for expected in ("BitsStored", "Rescale Slope", "VOI LUT 1", "Modality LUT", "Photometric"):
        assert expected in text
    assert pipeline.lut(pipeline.default_voi()).shape == (65536,)


# --- Window value object --------------------------------------------------------------------


def test_window_validation_and_with_center_width() -> None:
    with pytest.raises(ValueError):
        Window(0, 0.5)
    with pytest.raises(ValueError):
        Window(0, 0, VoiLutFunction.SIGMOID)
    with pytest.raises(ValueError):
        Window(float("nan"), 10)
    assert Window(0, 0.5, VoiLutFunction.LINEAR_EXACT).width == 0.5
    base = Window(10, 20, VoiLutFunction.LINEAR, "SOFT")
    assert base.with_center_width(5, 0) == Window(5, 1, VoiLutFunction.LINEAR, "SOFT")
    sig = Window(10, 20, VoiLutFunction.SIGMOID, "X").with_center_width(7, -3)
    assert (sig.center, sig.function, sig.explanation) == (7, VoiLutFunction.SIGMOID, "X")
    assert 0 < sig.width < 1e-3


# --- stored value indexing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bits", "rep", "expected"),
    [(12, 0, (0, 4095)), (12, 1, (-2048, 2047)), (16, 1, (-32768, 32767)), (1, 0, (0, 1))],
)
def test_stored_range(bits: int, rep: int, expected: tuple[int, int]) -> None:
    pipeline = DisplayPipeline(bits, rep)
    assert pipeline.stored_range == expected
    assert pipeline.lut(None).shape == (2**bits,)


@pytest.mark.parametrize(
    ("bits_stored", "signed"), [(8, False), (12, False), (16, False), (12, True), (16, True)]
)
def test_lut_indices_are_what_render_looks_up(bits_stored: int, signed: bool) -> None:
    pipeline = DisplayPipeline(bits_stored=bits_stored, pixel_representation=int(signed))
    low, high = pipeline.stored_range
    rng = np.random.default_rng(bits_stored)
    stored = rng.integers(low, high + 1, size=(16, 16)).astype(np.int16 if signed else np.uint16)
    indices = pipeline.lut_indices(stored)
    assert indices.dtype == np.uint16
    assert indices.shape == stored.shape
    np.testing.assert_array_equal(indices, stored.astype(np.int64) - low)
    voi = Window((low + high) / 2, (high - low) / 3)
    np.testing.assert_array_equal(pipeline.lut(voi)[indices], pipeline.render(stored, voi))


def test_lut_indices_wrap_mask_and_clip() -> None:
    signed12 = DisplayPipeline(12, 1)
    sign_extended = np.array([-2048, -1, 0, 2047], dtype=np.int16)
    assert signed12.lut_indices(sign_extended).tolist() == [0, 2047, 2048, 4095]
    # PS3.5 8.1.1: the same values not sign-extended, and with garbage above bit 11
    raw = np.array([0x0800, 0x0FFF, 0xF000, 0x77FF], dtype=np.uint16)
    assert signed12.lut_indices(raw).tolist() == [0, 2047, 2048, 4095]
    wide = np.array([70_000, -1, True], dtype=np.int64)
    assert DisplayPipeline(16, 0).lut_indices(wide).tolist() == [70_000 - 65_536, 65_535, 1]
    floats = np.array([-1e9, -0.4, 0.6, np.nan, 1e9])
    assert signed12.lut_indices(floats).tolist() == [0, 2048, 2049, 0, 4095]


def test_signed_values_index_correctly() -> None:
    pipeline = DisplayPipeline(12, 1)
    stored = np.array([[-2048, -1], [0, 2047]], dtype=np.int16)
    assert pipeline.render(stored, None).tolist() == [[0, 127], [128, 255]]
    # the same 12-bit two's complement values, not sign-extended, in a uint16 array
    raw = np.array([[0x0800, 0x0FFF], [0x0000, 0x07FF]], dtype=np.uint16)
    assert pipeline.render(raw, None).tolist() == [[0, 127], [128, 255]]
    assert pipeline.modality_values(raw).tolist() == [[-2048.0, -1.0], [0.0, 2047.0]]


def test_signed_16_bit_extremes() -> None:
    pipeline = DisplayPipeline(16, 1, rescale_slope=0.5)
    stored = np.array([-32768, 0, 32767], dtype=np.int16)
    assert pipeline.render(stored, None).tolist() == [0, 128, 255]
    assert pipeline.modality_values(stored).tolist() == [-16384.0, 0.0, 16383.5]


def test_bits_beyond_bits_stored_are_masked() -> None:
    pipeline = DisplayPipeline(12, 0, rescale_slope=2.0, rescale_intercept=1.0)
    stored = np.array([100, 0xF000 | 100, 0x1000 | 4095], dtype=np.uint16)
    assert pipeline.modality_values(stored).tolist() == [201.0, 201.0, 8191.0]
    rendered = pipeline.render(stored, Window(2048, 4096))
    assert rendered[0] == rendered[1] == 13  # ((201 - 2047.5) / 4095 + 0.5) * 255 = 12.5
    assert rendered[2] == 255
    wide = np.array([100, 0x7000 | 100], dtype=np.int32)
    assert pipeline.render(wide, None).tolist() == [6, 6]


def test_float_input_is_rounded_and_clipped() -> None:
    pipeline = DisplayPipeline(12, 0)
    stored = np.array([-5.0, 4095.4, 9000.0, np.nan])
    assert pipeline.render(stored, None).tolist() == [0, 255, 255, 0]


def test_render_is_a_lut_lookup_and_keeps_shape() -> None:
    rng = np.random.default_rng(7)
    stored = rng.integers(0, 4096, size=(37, 23), dtype=np.uint16)
    pipeline = DisplayPipeline(12, 0, invert=True)
    window = Window(1000, 800, VoiLutFunction.SIGMOID)
    rendered = pipeline.render(stored, window)
    assert rendered.shape == stored.shape
    assert rendered.dtype == np.uint8
    np.testing.assert_array_equal(rendered, pipeline.lut(window)[stored])


# --- automatic window -----------------------------------------------------------------------


def synthetic_mammogram(seed: int = 3) -> NDArray[np.uint16]:
    """12-bit image: direct-exposure background ~3800, collimation ~60, tissue 1000..2500."""
    rng = np.random.default_rng(seed)
    image = rng.normal(3800.0, 6.0, size=(400, 320))
    image[:, :30] = rng.normal(60.0, 3.0, size=(400, 30))  # collimated strip
    rows, cols = np.mgrid[0:400, 0:320]
    breast = (rows - 200) ** 2 / 180**2 + (cols - 30) ** 2 / 200**2 < 1.0
    breast &= cols >= 30
    tissue = rng.uniform(1000.0, 2500.0, size=image.shape)
    image[breast] = tissue[breast]
    return np.clip(np.rint(image), 0, 4095).astype(np.uint16)


def window_edges(window: Window) -> tuple[float, float]:
    """Modality values mapped to 0 and 255 by a LINEAR window (PS3.3 C.11.2.1.2.1)."""
    half = (window.width - 1) / 2
    return window.center - 0.5 - half, window.center - 0.5 + half


def test_auto_window_spans_tissue_not_background() -> None:
    image = synthetic_mammogram()
    pipeline = DisplayPipeline(12, 0)
    window = auto_window(pipeline, image)
    assert window.explanation == "AUTO"
    assert window.function is VoiLutFunction.LINEAR
    low, high = window_edges(window)
    assert 1000 <= low <= 1040
    assert 2460 <= high <= 2500
    lut = pipeline.lut(window)
    assert lut[3800] == 255
    assert lut[60] == 0
    assert 100 <= lut[1750] <= 155


def test_auto_window_in_modality_units_for_other_functions() -> None:
    image = synthetic_mammogram()
    pipeline = DisplayPipeline(12, 0, rescale_slope=-1.0, rescale_intercept=4095.0)
    window = auto_window(pipeline, image, VoiLutFunction.SIGMOID)
    assert window.function is VoiLutFunction.SIGMOID
    # tissue 1000..2500 stored is 1595..3095 in modality units
    assert 1595 <= window.center - window.width / 2 <= 1640
    assert 3055 <= window.center + window.width / 2 <= 3095


def test_auto_window_without_background_uses_all_pixels() -> None:
    ramp = np.tile(np.arange(0, 4096, dtype=np.uint16), (64, 1))
    window = auto_window(DisplayPipeline(12, 0), ramp, VoiLutFunction.LINEAR_EXACT)
    low, high = window.center - window.width / 2, window.center + window.width / 2
    assert 0 <= low <= 60
    assert 4060 <= high <= 4095


def test_auto_window_on_constant_image_is_valid() -> None:
    window = auto_window(DisplayPipeline(12, 0), np.full((16, 16), 700, np.uint16))
    assert window.width == 1.0
    assert window_edges(window) == (700.0, 700.0)
