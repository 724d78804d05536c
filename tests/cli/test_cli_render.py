"""Tests for ``galactoview render`` (and its agreement with DCMTK's dcmj2pnm)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.data import get_testdata_file

from galactoview import cli
from galactoview.imaging.display import DisplayPipeline, VoiLutFunction, Window, auto_window
from galactoview.imaging.export import render_image
from galactoview.imaging.overlays import burn_in, read_overlay_planes
from galactoview.paths import sample_dicom_dir
from tests.helpers import make_mg_dataset, write_dataset, write_garbage, write_mg
from tests.overlay_data import multi_frame_with_overlay, single_frame_with_overlays

DCMJ2PNM = shutil.which("dcmj2pnm")


def _png(path: Path) -> tuple[str, np.ndarray]:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.mode, np.asarray(image)


def _render(*args: str | Path) -> int:
    return cli.main(["render", *(str(a) for a in args)])


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_default_render_is_first_window_grayscale_png(tmp_path: Path) -> None:
    source = write_mg(tmp_path / "a.dcm", voi_lut_function="SIGMOID", rows=40, columns=30)
    before = _sha(source)
    out = tmp_path / "a.png"
    assert _render(source, out) == 0
    mode, pixels = _png(out)
    assert mode == "L"
    assert pixels.shape == (40, 30)
    ds = pydicom.dcmread(source)
    pipeline = DisplayPipeline.from_dataset(ds)
    assert pipeline.windows[0].function is VoiLutFunction.SIGMOID
    np.testing.assert_array_equal(pixels, pipeline.render(ds.pixel_array, pipeline.windows[0]))
    assert _sha(source) == before  # the source file is never modified


def test_window_option_keeps_sigmoid(tmp_path: Path) -> None:
    source = write_mg(tmp_path / "a.dcm", voi_lut_function="SIGMOID")
    out = tmp_path / "a.png"
    assert _render(source, out, "--window", "1500,800") == 0
    ds = pydicom.dcmread(source)
    expected = DisplayPipeline.from_dataset(ds).render(
        ds.pixel_array, Window(1500, 800, VoiLutFunction.SIGMOID)
    )
    np.testing.assert_array_equal(_png(out)[1], expected)


def test_negative_window_center_with_equals(tmp_path: Path) -> None:
    source = write_mg(tmp_path / "a.dcm")
    assert _render(source, tmp_path / "a.png", "--window=-100,400") == 0
    assert np.all(_png(tmp_path / "a.png")[1] == 255)  # every value is above the window


def test_auto_option(tmp_path: Path) -> None:
    source = write_mg(tmp_path / "a.dcm")
    out = tmp_path / "a.png"
    assert _render(source, out, "--auto") == 0
    ds = pydicom.dcmread(source)
    pipeline = DisplayPipeline.from_dataset(ds)
    expected = pipeline.render(ds.pixel_array, auto_window(pipeline, ds.pixel_array))
    np.testing.assert_array_equal(_png(out)[1], expected)


def test_no_window_in_file_means_auto(tmp_path: Path) -> None:
    source = write_mg(tmp_path / "a.dcm", windows=())
    assert _render(source, tmp_path / "a.png") == 0
    assert _render(source, tmp_path / "b.png", "--auto") == 0
    np.testing.assert_array_equal(_png(tmp_path / "a.png")[1], _png(tmp_path / "b.png")[1])


def test_max_size(tmp_path: Path) -> None:
    source = write_mg(tmp_path / "a.dcm", rows=64, columns=48)
    out = tmp_path / "a.png"
    assert _render(source, out, "--max-size", "16") == 0
    assert _png(out)[1].shape == (16, 12)


def test_frame_option_on_pydicom_multiframe(tmp_path: Path) -> None:
    name = get_testdata_file("SC_rgb_rle_2frame.dcm")
    if name is None:
        pytest.skip("pydicom test file SC_rgb_rle_2frame.dcm not installed")
    source = Path(str(name))
    out = tmp_path / "f2.png"
    assert _render(source, out, "--frame", "2") == 0
    mode, pixels = _png(out)
    assert mode == "RGB"
    np.testing.assert_array_equal(pixels, pydicom.dcmread(source).pixel_array[1])


def test_replaces_existing_png(tmp_path: Path) -> None:
    source = write_mg(tmp_path / "a.dcm")
    out = tmp_path / "a.png"
    out.write_bytes(b"old")
    assert _render(source, out) == 0
    assert _png(out)[0] == "L"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.dcm", "a.png"]


# --- errors: one line "path: message" on stderr, exit 1; usage errors exit 2 -------------


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    return lines[0]


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.dcm"
    assert _render(missing, tmp_path / "o.png") == 1
    assert _one_error_line(capsys) == f"{missing}: no such file"
    assert not (tmp_path / "o.png").exists()


def test_not_dicom(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write_garbage(tmp_path / "bad.dcm")
    assert _render(bad, tmp_path / "o.png") == 1
    assert _one_error_line(capsys).startswith(f"{bad}: not a DICOM file")


def test_no_pixel_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ds = make_mg_dataset()
    del ds.PixelData
    source = write_dataset(ds, tmp_path / "header.dcm")
    assert _render(source, tmp_path / "o.png") == 1
    assert _one_error_line(capsys) == f"{source}: the file has no Pixel Data (7FE0,0010)"


@pytest.mark.parametrize("window", ["2048", "a,b", "1,2,3", "100,0"])
def test_bad_window_syntax(tmp_path: Path, capsys: pytest.CaptureFixture[str], window: str) -> None:
    source = write_mg(tmp_path / "a.dcm")
    assert _render(source, tmp_path / "o.png", f"--window={window}") == 1
    assert _one_error_line(capsys).startswith(f"{source}: bad --window: ")
    assert not (tmp_path / "o.png").exists()


def test_frame_out_of_range(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_mg(tmp_path / "a.dcm")
    assert _render(source, tmp_path / "o.png", "--frame", "2") == 1
    assert _one_error_line(capsys) == (f"{source}: frame 2 out of range: the image has 1 frame(s)")


def test_decoder_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from galactoview.imaging import export

    class Missing:
        is_available = False
        missing_dependencies = ("pylibjpeg-openjpeg",)

    monkeypatch.setattr(export, "get_decoder", lambda uid: Missing())
    source = write_mg(tmp_path / "a.dcm")
    assert _render(source, tmp_path / "o.png") == 1
    line = _one_error_line(capsys)
    assert line.startswith(f"{source}: no decoder installed for Explicit VR Little Endian")


def test_output_folder_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_mg(tmp_path / "a.dcm")
    out = tmp_path / "nope" / "o.png"
    assert _render(source, out) == 1
    assert _one_error_line(capsys).startswith(f"{out}: cannot write the PNG:")


def test_refuses_to_overwrite_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_mg(tmp_path / "a.dcm")
    before = _sha(source)
    assert _render(source, source) == 1
    assert "refusing to overwrite the source" in _one_error_line(capsys)
    assert _sha(source) == before


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["only-one.dcm"],
        ["a.dcm", "o.png", "--frame", "x"],
        ["a.dcm", "o.png", "--max-size", "0"],
        ["a.dcm", "o.png", "--window", "1,2", "--auto"],
        ["a.dcm", "o.png", "--bogus"],
    ],
)
def test_usage_errors_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["render", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: galactoview render")
    assert "Traceback" not in err


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["render", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--frame", "--window", "--auto", "--max-size", "FILE", "OUT.png"):
        assert option in out


def test_subprocess_no_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "galactoview", "render", str(tmp_path / "x.dcm"), "o.png"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr == f"{tmp_path / 'x.dcm'}: no such file\n"


# --- agreement with DCMTK (dcmj2pnm renders the file's first window) -------------------------

_DCMTK_FILES = {
    # name in the sample study: what it exercises
    "20260312_DUCTOGRAM_L/03_LCC_POST.dcm": "MONOCHROME2, SIGMOID",
    "20260312_DUCTOGRAM_L/05_LCC_MAG_POST.dcm": "MONOCHROME2, SIGMOID, magnified",
    "20240220_SCREENING_PRIOR/07_LCC.dcm": "MONOCHROME1 + INVERSE, LINEAR",
}


@pytest.fixture(scope="module")
def uncompressed_samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Sample files decompressed to Explicit VR Little Endian (dcmj2pnm has no JPEG 2000)."""
    if DCMJ2PNM is None:
        pytest.skip("DCMTK's dcmj2pnm is not installed (apt install dcmtk)")
    folder = tmp_path_factory.mktemp("uncompressed")
    files: dict[str, Path] = {}
    for name in _DCMTK_FILES:
        source = sample_dicom_dir() / name
        if not source.is_file():
            pytest.skip(f"sample file {source} not present")
        ds = pydicom.dcmread(source)
        ds.decompress()
        files[name] = folder / Path(name).name
        ds.save_as(files[name], enforce_file_format=True)
    return files


@pytest.mark.parametrize("name", sorted(_DCMTK_FILES))
@pytest.mark.parametrize("window", [1, 2])
def test_agrees_with_dcmj2pnm(
    uncompressed_samples: dict[str, Path], tmp_path: Path, name: str, window: int
) -> None:
    """Max difference 1 grey level: DCMTK truncates the VOI output, we round to nearest.

    Both follow PS3.3 C.11.2.1.2.1 (LINEAR) / C.11.2.1.3.1 (SIGMOID), which define a
    continuous output and no rounding rule; ours is within 0.5 of the formula, DCMTK's
    within 1 (it is always equal or one below ours).
    """
    assert DCMJ2PNM is not None
    source = uncompressed_samples[name]
    theirs = tmp_path / "dcmtk.png"
    subprocess.run(
        [DCMJ2PNM, "--write-png", "+Wi", str(window), str(source), str(theirs)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    ds = pydicom.dcmread(source, stop_before_pixels=True)
    ours = tmp_path / "ours.png"
    args: list[str | Path] = [source, ours]
    if window > 1:
        center, width = ds.WindowCenter[window - 1], ds.WindowWidth[window - 1]
        args.append(f"--window={center},{width}")
    assert _render(*args) == 0
    their_mode, their_pixels = _png(theirs)
    our_mode, our_pixels = _png(ours)
    assert their_mode == our_mode == "L"
    difference = our_pixels.astype(np.int16) - their_pixels.astype(np.int16)
    assert int(np.abs(difference).max()) <= 1, _DCMTK_FILES[name]
    assert difference.min() >= 0  # DCMTK truncates; it is never above our rounded value


def test_sample_jpeg2000_with_max_size(tmp_path: Path) -> None:
    source = sample_dicom_dir() / "20240220_SCREENING_PRIOR" / "07_LCC.dcm"
    if not source.is_file():
        pytest.skip(f"sample file {source} not present")
    out = tmp_path / "prior.png"
    assert _render(source, out, "--max-size", "256") == 0
    mode, pixels = _png(out)
    assert mode == "L"
    assert pixels.shape == (256, 214)  # 2294 x 1914 scaled by 256 / 2294


@pytest.mark.parametrize(
    ("bits", "photometric"), [(8, "MONOCHROME2"), (12, "MONOCHROME2"), (16, "MONOCHROME1")]
)
def test_voi_lut_agrees_with_dcmj2pnm(tmp_path: Path, bits: int, photometric: str) -> None:
    """A file with only a VOI LUT (PS3.3 C.11.2.1.1): ``dcmj2pnm +Wl 1`` is the reference.

    The LUT output (0..2**bits-1) is scaled to 0..255; DCMTK and we round that scaling
    differently, hence 1 grey level of tolerance either way.
    """
    if DCMJ2PNM is None:
        pytest.skip("DCMTK's dcmj2pnm is not installed (apt install dcmtk)")
    ds = make_mg_dataset(windows=(), rows=96, columns=64, photometric=photometric)
    item = pydicom.Dataset()
    item.LUTDescriptor = [4096, 0, bits]
    curve = np.rint((2**bits - 1) * (np.arange(4096) / 4095) ** 0.6).astype(int)
    item.add(pydicom.DataElement(0x00283006, "US", [int(v) for v in curve]))  # LUT Data
    ds.VOILUTSequence = pydicom.Sequence([item])
    source = write_dataset(ds, tmp_path / "voilut.dcm")
    theirs, ours = tmp_path / "dcmtk.png", tmp_path / "ours.png"
    subprocess.run(
        [DCMJ2PNM, "--write-png", "+Wl", "1", str(source), str(theirs)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert _render(source, ours) == 0
    difference = _png(ours)[1].astype(np.int16) - _png(theirs)[1].astype(np.int16)
    assert int(np.abs(difference).max()) <= 1


# --- overlay planes (60xx) against DCMTK: dcmj2pnm draws every overlay by default ------------


@pytest.mark.parametrize(
    ("kind", "frame"),
    [
        ("single MONOCHROME2", 1),
        ("single MONOCHROME1", 1),
        ("multi-frame", 1),
        ("multi-frame", 2),
        ("multi-frame", 3),
        ("multi-frame", 4),
    ],
)
@pytest.mark.parametrize("drawn", [True, False])
def test_overlays_agree_with_dcmj2pnm(tmp_path: Path, kind: str, frame: int, drawn: bool) -> None:
    """``dcmj2pnm +F N`` (its default ``+O 0``: all overlays, graphics "Replace" with
    foreground density 1, ROI "Region of Interest") against ``render --frame N``, and
    ``dcmj2pnm -O`` against ``render --no-overlays``: within 1 grey level.

    Files: graphics overlays at (5, 7) and at (-2, 26) (clipped above and on the right)
    and an ROI overlay; a 4-frame image whose 2-frame overlay starts at image frame 2.
    """
    if DCMJ2PNM is None:
        pytest.skip("DCMTK's dcmj2pnm is not installed (apt install dcmtk)")
    if kind == "multi-frame":
        ds = multi_frame_with_overlay()
    else:
        ds = single_frame_with_overlays(photometric=kind.split()[1])
    source = write_dataset(ds, tmp_path / "overlays.dcm")
    theirs, ours = tmp_path / "dcmtk.png", tmp_path / "ours.png"
    subprocess.run(
        [DCMJ2PNM, "--write-png", "+F", str(frame), *(() if drawn else ("-O",)), source, theirs],
        check=True,
        capture_output=True,
        timeout=120,
    )
    options = ("--frame", str(frame), *(() if drawn else ("--no-overlays",)))
    assert _render(source, ours, *options) == 0
    their_pixels, our_pixels = _png(theirs)[1], _png(ours)[1]
    difference = our_pixels.astype(np.int16) - their_pixels.astype(np.int16)
    assert int(np.abs(difference).max()) <= 1
    # The overlays are really there (or not): the pixels set to 255 by each agree.
    overlays = read_overlay_planes(ds)
    without = render_image(ds, frame=frame, overlays=False)
    painted = burn_in(without, overlays, frame) != without
    if drawn and kind == "multi-frame" and frame in (1, 4):
        assert not painted.any()  # the overlay's 2 frames are image frames 2 and 3
    elif drawn:
        assert painted.sum() > 10
        np.testing.assert_array_equal(their_pixels[painted] == 255, our_pixels[painted] == 255)
    elif painted.any():  # -O really left them out
        assert (their_pixels[painted] != burn_in(without, overlays, frame)[painted]).all()


def test_an_overlay_group_that_cannot_be_drawn_is_a_warning_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Overlay bits embedded in the pixel data (retired, PS3.5 8.1.2) are not drawn."""
    ds = single_frame_with_overlays()
    del ds[0x6002, 0x3000]
    source = write_dataset(ds, tmp_path / "embedded.dcm")
    out = tmp_path / "out.png"
    assert _render(source, out) == 0
    assert capsys.readouterr().err == (
        f"{source}: overlay 6002: no Overlay Data: bits embedded in the Pixel Data"
        " (retired, PS3.5 8.1.2) are not drawn\n"
    )
    assert int((_png(out)[1] == 255).sum()) > 10  # 6000 is still drawn
    assert _render(source, out, "--no-overlays") == 0
    assert capsys.readouterr().err == ""
