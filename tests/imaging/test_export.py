"""Tests for galactoview.imaging.export (render to 8-bit array / PNG)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import UID

from galactoview.imaging import export
from galactoview.imaging.display import DisplayPipeline, VoiLutFunction, Window, auto_window
from galactoview.imaging.export import (
    RenderError,
    choose_voi,
    parse_window,
    read_dataset,
    render_image,
    write_png,
)
from tests.helpers import make_mg_dataset, make_pixels, write_garbage, write_mg


def _testdata(name: str) -> Path:
    path = get_testdata_file(name)
    if path is None:
        pytest.skip(f"pydicom test file {name} not installed")
    return Path(str(path))


def _expected(ds: Dataset, voi: Any) -> np.ndarray:
    return DisplayPipeline.from_dataset(ds).render(ds.pixel_array, voi)


# --- parse_window ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2048,4096", (2048.0, 4096.0)), ("-100.5, 400", (-100.5, 400.0)), ("1e3,2", (1000.0, 2.0))],
)
def test_parse_window(text: str, expected: tuple[float, float]) -> None:
    assert parse_window(text) == expected


@pytest.mark.parametrize("text", ["", "2048", "1,2,3", "a,b", "nan,4", "1,inf", "10,0", "10,-5"])
def test_parse_window_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_window(text)


# --- VOI choice --------------------------------------------------------------------------------


def test_default_is_first_window() -> None:
    ds = make_mg_dataset()
    out = render_image(ds)
    assert out.dtype == np.uint8
    assert out.shape == (64, 48)
    np.testing.assert_array_equal(
        out, _expected(ds, Window(2048, 4096, VoiLutFunction.LINEAR, "NORMAL"))
    )


def test_default_keeps_sigmoid() -> None:
    ds = make_mg_dataset(voi_lut_function="SIGMOID")
    stored = ds.pixel_array.astype(np.float64)
    # PS3.3 C.11.2.1.3.1: y = 255 / (1 + exp(-4 (x - c) / w)), rounded.
    expected = np.rint(255.0 / (1.0 + np.exp(-4.0 * (stored - 2048.0) / 4096.0)))
    np.testing.assert_array_equal(render_image(ds), expected.astype(np.uint8))


def test_window_option_keeps_sigmoid() -> None:
    ds = make_mg_dataset(voi_lut_function="SIGMOID")
    out = render_image(ds, window=(1500.0, 800.0))
    np.testing.assert_array_equal(out, _expected(ds, Window(1500, 800, VoiLutFunction.SIGMOID)))
    assert not np.array_equal(out, _expected(ds, Window(1500, 800, VoiLutFunction.LINEAR)))


def test_window_option_without_file_window_is_linear() -> None:
    ds = make_mg_dataset(windows=())
    out = render_image(ds, window=(1500.0, 800.0))
    np.testing.assert_array_equal(out, _expected(ds, Window(1500, 800)))


def test_window_option_clamps_linear_width() -> None:
    ds = make_mg_dataset()
    out = render_image(ds, window=(2000.0, 0.25))
    np.testing.assert_array_equal(out, _expected(ds, Window(2000, 1)))


def test_auto_option_uses_auto_window_with_file_function() -> None:
    ds = make_mg_dataset(voi_lut_function="SIGMOID")
    pipeline = DisplayPipeline.from_dataset(ds)
    window = auto_window(pipeline, ds.pixel_array, VoiLutFunction.SIGMOID)
    np.testing.assert_array_equal(render_image(ds, auto=True), _expected(ds, window))
    chosen = choose_voi(pipeline, ds.pixel_array, auto=True)
    assert isinstance(chosen, Window)
    assert chosen.function is VoiLutFunction.SIGMOID
    assert chosen.explanation == "AUTO"


def test_no_window_and_no_voi_lut_means_auto() -> None:
    ds = make_mg_dataset(windows=())
    pipeline = DisplayPipeline.from_dataset(ds)
    window = auto_window(pipeline, ds.pixel_array)
    assert window.function is VoiLutFunction.LINEAR
    np.testing.assert_array_equal(render_image(ds), _expected(ds, window))


def _with_voi_lut(ds: Dataset) -> Dataset:
    item = Dataset()
    item.LUTDescriptor = [4096, 0, 8]
    item.LUTData = list(255 - np.arange(4096) // 16)  # a decreasing 8-bit table
    item.LUTExplanation = "REVERSED"
    ds.VOILUTSequence = DicomSequence([item])
    return ds


def test_voi_lut_when_no_window() -> None:
    ds = _with_voi_lut(make_mg_dataset(windows=()))
    stored = ds.pixel_array.astype(np.int64)
    np.testing.assert_array_equal(render_image(ds), (255 - stored // 16).astype(np.uint8))


def test_window_comes_before_voi_lut() -> None:
    ds = _with_voi_lut(make_mg_dataset())
    np.testing.assert_array_equal(render_image(ds), _expected(ds, Window(2048, 4096)))


def test_monochrome1_inverted_once() -> None:
    pixels = np.array([[0, 4095], [2048, 1000]], dtype=np.uint16)
    ds = make_mg_dataset(photometric="MONOCHROME1", pixels=pixels, windows=[(2048, 4096, "")])
    out = render_image(ds)
    assert out[0, 0] == 255  # lowest value is white in MONOCHROME1 (PS3.3 C.7.6.3.1.2)
    assert out[0, 1] == 0


# --- size and frames -----------------------------------------------------------------------------


def test_max_size_preserves_aspect() -> None:
    ds = make_mg_dataset(rows=64, columns=48)
    assert render_image(ds, max_size=32).shape == (32, 24)
    assert render_image(ds, max_size=10).shape == (10, 8)  # 7.5 rounds to 8
    assert render_image(ds, max_size=64).shape == (64, 48)
    assert render_image(ds, max_size=1000).shape == (64, 48)


def test_max_size_keeps_uniform_areas() -> None:
    pixels = np.full((100, 60), 3000, dtype=np.uint16)
    ds = make_mg_dataset(pixels=pixels)
    full = render_image(ds)
    small = render_image(ds, max_size=20)
    assert small.shape == (20, 12)
    assert np.all(small == full[0, 0])


def test_max_size_must_be_positive() -> None:
    with pytest.raises(RenderError, match="at least 1"):
        render_image(make_mg_dataset(), max_size=0)


def _multiframe(frames: int = 3) -> Dataset:
    ds = make_mg_dataset(rows=8, columns=6)
    data = np.stack([np.full((8, 6), 1000 * (i + 1), dtype=np.uint16) for i in range(frames)])
    ds.NumberOfFrames = frames
    ds.PixelData = data.astype("<u2").tobytes()
    ds.WindowCenter, ds.WindowWidth = 2048, 4096
    return ds


@pytest.mark.parametrize("frame", [1, 2, 3])
def test_frame_of_grayscale_multiframe(frame: int) -> None:
    ds = _multiframe()
    stored = np.full((8, 6), 1000 * frame, dtype=np.uint16)
    expected = DisplayPipeline.from_dataset(ds).render(stored, Window(2048, 4096))
    np.testing.assert_array_equal(render_image(ds, frame=frame), expected)


@pytest.mark.parametrize("frame", [0, 4, -1])
def test_frame_out_of_range(frame: int) -> None:
    with pytest.raises(RenderError, match=f"frame {frame} out of range: the image has 3"):
        render_image(_multiframe(), frame=frame)


def test_frame_of_pydicom_rgb_multiframe() -> None:
    ds = pydicom.dcmread(_testdata("SC_rgb_rle_2frame.dcm"))
    first, second = render_image(ds, frame=1), render_image(ds, frame=2)
    assert first.shape == second.shape == (100, 100, 3)
    np.testing.assert_array_equal(first, ds.pixel_array[0])
    np.testing.assert_array_equal(second, ds.pixel_array[1])
    assert not np.array_equal(first, second)
    with pytest.raises(RenderError, match="frame 3 out of range: the image has 2"):
        render_image(ds, frame=3)


# --- colour ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["SC_rgb_small_odd.dcm", "SC_ybr_full_422_uncompressed.dcm", "examples_ybr_color.dcm"],
)
def test_colour_is_rgb_without_voi(name: str) -> None:
    ds = pydicom.dcmread(_testdata(name))
    out = render_image(ds, window=(10.0, 20.0), auto=True)  # VOI options are ignored
    assert out.dtype == np.uint8
    assert out.ndim == 3 and out.shape[2] == 3
    expected = ds.pixel_array[0] if int(ds.get("NumberOfFrames") or 1) > 1 else ds.pixel_array
    np.testing.assert_array_equal(out, expected)  # pydicom converts YBR to RGB


def test_16_bit_rgb_scaled_to_8_bits() -> None:
    ds = pydicom.dcmread(_testdata("SC_rgb_rle_16bit.dcm"))
    out = render_image(ds)
    expected = np.rint(ds.pixel_array.astype(np.float64) * 255.0 / 65535.0).astype(np.uint8)
    np.testing.assert_array_equal(out, expected)


def test_palette_colour_becomes_rgb() -> None:
    ds = pydicom.dcmread(_testdata("examples_palette.dcm"))
    out = render_image(ds, max_size=100)
    assert out.shape == (44, 100, 3)


# --- errors ---------------------------------------------------------------------------------------


def test_no_pixel_data() -> None:
    ds = make_mg_dataset()
    del ds.PixelData
    with pytest.raises(RenderError, match=r"no Pixel Data \(7FE0,0010\)"):
        render_image(ds)


def test_more_than_16_bits_refused() -> None:
    ds = pydicom.dcmread(_testdata("rtdose_1frame.dcm"))
    with pytest.raises(RenderError, match="Bits Stored 32 is not supported"):
        render_image(ds)


def test_truncated_pixel_data() -> None:
    ds = make_mg_dataset()
    ds.PixelData = ds.PixelData[:100]
    with pytest.raises(RenderError, match="truncated"):
        render_image(ds)


def test_unknown_transfer_syntax() -> None:
    ds = make_mg_dataset()
    ds.file_meta.TransferSyntaxUID = UID("1.2.3.4.5")
    with pytest.raises(RenderError, match="no pixel data decoder exists"):
        render_image(ds)


def test_missing_decoder_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = SimpleNamespace(is_available=False, missing_dependencies=["pylibjpeg-openjpeg"])
    monkeypatch.setattr(export, "get_decoder", lambda uid: fake)
    with pytest.raises(RenderError, match=r"no decoder installed for .*pylibjpeg-openjpeg"):
        render_image(make_mg_dataset())


def test_read_dataset_errors(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="no such file"):
        read_dataset(tmp_path / "missing.dcm")
    with pytest.raises(RenderError, match="not a regular file"):
        read_dataset(tmp_path)
    with pytest.raises(RenderError, match="not a DICOM file"):
        read_dataset(write_garbage(tmp_path / "x.dcm"))


def test_read_dataset_reads_pixels(tmp_path: Path) -> None:
    pixels = make_pixels(16, 12)
    ds = read_dataset(write_mg(tmp_path / "a.dcm", pixels=pixels))
    np.testing.assert_array_equal(ds.pixel_array, pixels)


# --- write_png ------------------------------------------------------------------------------------


def test_write_png_gray_and_rgb(tmp_path: Path) -> None:
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    rgb = np.arange(36, dtype=np.uint8).reshape(3, 4, 3)
    write_png(gray, tmp_path / "g.png")
    write_png(rgb, tmp_path / "c.png")
    with Image.open(tmp_path / "g.png") as image:
        assert (image.format, image.mode, image.size) == ("PNG", "L", (4, 3))
        np.testing.assert_array_equal(np.asarray(image), gray)
    with Image.open(tmp_path / "c.png") as image:
        assert (image.mode, image.size) == ("RGB", (4, 3))
        np.testing.assert_array_equal(np.asarray(image), rgb)


def test_write_png_replaces_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    write_png(np.zeros((2, 2), dtype=np.uint8), target)
    assert target.read_bytes().startswith(b"\x89PNG")
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_write_png_failure_keeps_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.png"
    target.write_bytes(b"old")

    def broken_save(self: Image.Image, *args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        write_png(np.zeros((2, 2), dtype=np.uint8), target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


@pytest.mark.parametrize(
    "array",
    [np.zeros((2, 2), dtype=np.uint16), np.zeros((2, 2, 4), dtype=np.uint8), np.zeros(3, np.uint8)],
)
def test_write_png_rejects_other_arrays(tmp_path: Path, array: np.ndarray) -> None:
    with pytest.raises(ValueError):
        write_png(array, tmp_path / "x.png")
    assert not list(tmp_path.iterdir())
