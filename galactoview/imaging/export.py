"""Render a DICOM image as the viewer shows it, to an 8-bit array or a PNG file (Qt-free).

Grayscale images go through the same :class:`~galactoview.imaging.display.DisplayPipeline`
as the viewer: Modality LUT (PS3.3 C.11.1) → VOI window or VOI LUT with the file's VOI
LUT Function (PS3.3 C.11.2) → Presentation LUT Shape / MONOCHROME1 inversion, applied
once (PS3.3 C.11.6). Colour images (RGB, YBR_*, PALETTE COLOR; PS3.3 C.7.6.3.1.2) have
no VOI transform: they are converted to RGB by pydicom and scaled to 8 bits.
Overlay planes (60xx, PS3.3 C.9.2/C.9.3) are drawn into the 8-bit values at full
resolution, before any downsampling, as DCMTK's ``dcmj2pnm`` draws them by default
(:func:`~galactoview.imaging.overlays.burn_in`); ``overlays=False`` leaves them out.

Source files are only read. :func:`write_png` replaces its target atomically, through
:func:`write_atomically`, which other writers (``sr export``) share.
"""

from __future__ import annotations

import math
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.pixels.decoders.base import get_decoder
from pydicom.pixels.processing import apply_color_lut
from pydicom.pixels.utils import pixel_array
from pydicom.uid import UID

from galactoview.dicom.loading import PixelDataError
from galactoview.dicom.source import FileSource, ImageSource
from galactoview.files import write_atomically
from galactoview.imaging.colour import colour_bits, is_colour, rgb8
from galactoview.imaging.display import DisplayPipeline, VoiLut, VoiLutFunction, Window, auto_window
from galactoview.imaging.overlays import burn_in, read_overlay_planes

__all__ = [
    "RenderError",
    "choose_voi",
    "parse_window",
    "read_dataset",
    "render_image",
    "write_png",
]

#: Photometric interpretations shown through the grayscale pipeline (PS3.3 C.7.6.3.1.2).
_MONOCHROME = frozenset({"MONOCHROME1", "MONOCHROME2"})


class RenderError(Exception):
    """An image cannot be rendered; the message is one line for the user."""


def read_dataset(image: ImageSource | Path) -> Dataset:
    """Read a whole DICOM image (with its pixel data) for :func:`render_image`.

    Parameters
    ----------
    image
        Its source (:class:`~galactoview.dicom.source.ImageSource`), or a DICOM file
        (PS3.10 7.1, or a dataset without File Meta Information as the loader accepts);
        it is opened read-only.

    Returns
    -------
    Dataset
        The dataset, with file meta.

    Raises
    ------
    RenderError
        If the file does not exist, cannot be read or is not DICOM, or its header and
        pixel data disagree: the header is read and the pixel data checked as
        :func:`~galactoview.dicom.loading.read_image_dataset` does (sizes claimed
        against sizes held, the transfer syntax against the data) before anything
        large is allocated.
    """
    if isinstance(image, Path):
        if not image.exists():
            raise RenderError("no such file")
        if not image.is_file():
            raise RenderError("not a regular file")
        image = FileSource(image)
    try:
        return image.read_dataset()
    except PixelDataError as exc:
        raise RenderError(exc.message) from exc
    except KeyError as exc:  # zipfile: no such member
        raise RenderError(f"no member {image.archive_member!r} in the archive") from exc
    except zipfile.BadZipFile as exc:
        raise RenderError(f"not a readable .zip archive ({exc})") from exc
    except OSError as exc:
        raise RenderError(f"cannot be read ({exc.strerror or exc})") from exc


def parse_window(text: str) -> tuple[float, float]:
    """Parse ``"CENTER,WIDTH"`` (e.g. ``"2048,4096"``) into two finite numbers.

    Raises
    ------
    ValueError
        If the text is not two comma-separated finite numbers or the width is not > 0.
    """
    parts = text.split(",")
    if len(parts) != 2:
        raise ValueError(f"expected CENTER,WIDTH (e.g. 2048,4096), got {text!r}")
    try:
        center, width = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError(f"expected two numbers CENTER,WIDTH, got {text!r}") from None
    if not (math.isfinite(center) and math.isfinite(width)):
        raise ValueError(f"expected finite numbers, got {text!r}")
    if width <= 0:
        raise ValueError(f"window width must be > 0, got {width:g}")
    return center, width


def choose_voi(
    pipeline: DisplayPipeline,
    stored: NDArray[Any],
    window: tuple[float, float] | None = None,
    auto: bool = False,
) -> Window | VoiLut:
    """Choose the VOI transform the way the viewer does.

    Parameters
    ----------
    pipeline
        The image's display pipeline.
    stored
        Its stored values (used only for the automatic window).
    window
        Center and width to use. The file's VOI LUT Function is kept (its first window
        with a new center and width, PS3.3 C.11.2.1.3); a LINEAR window when the file
        has none. A width below the function's minimum is clamped (1 for LINEAR).
    auto
        Use :func:`~galactoview.imaging.display.auto_window` with the VOI LUT Function of
        the file's first window (LINEAR when it has none). Ignored when `window` is given.

    Returns
    -------
    Window or VoiLut
        Without options: the first window, else the first VOI LUT (PS3.3 C.11.2), else
        the automatic LINEAR window.
    """
    function = pipeline.windows[0].function if pipeline.windows else VoiLutFunction.LINEAR
    if window is not None:
        base = pipeline.windows[0] if pipeline.windows else Window(0.0, 1.0, function)
        return base.with_center_width(*window)
    default = pipeline.default_voi()
    if auto or default is None:
        return auto_window(pipeline, stored, function)
    return default


def render_image(
    ds: Dataset,
    frame: int = 1,
    window: tuple[float, float] | None = None,
    auto: bool = False,
    max_size: int | None = None,
    overlays: bool = True,
) -> NDArray[np.uint8]:
    """Render one frame of an image as 8-bit display values, as the viewer shows it.

    Parameters
    ----------
    ds
        The dataset, with pixel data (see :func:`read_dataset`). It is not modified.
    frame
        1-based frame number (PS3.3 C.7.6.6 Number of Frames).
    window
        Center and width, see :func:`choose_voi`. Ignored for colour images.
    auto
        Use the automatic window, see :func:`choose_voi`. Ignored for colour images.
    max_size
        When given and the image is larger, downsample so that its longer side is
        `max_size` pixels, preserving the aspect ratio (each side rounded, at least 1).
        Downsampling is done on the display values with Pillow's Lanczos filter after an
        integer box pre-reduction (``reducing_gap=3``), as a display would.
    overlays
        Draw the overlay planes (60xx) that apply to the frame (PS3.3 C.9.2, C.9.3):
        graphics bits white (255), outside an ROI darkened, as ``dcmj2pnm`` does by
        default (:func:`~galactoview.imaging.overlays.burn_in`). A group that cannot be
        drawn (e.g. overlay bits embedded in the pixel data, retired) is left out.

    Returns
    -------
    numpy.ndarray
        uint8, shape ``(rows, columns)`` for grayscale (0 black, 255 white) or
        ``(rows, columns, 3)`` RGB for colour images.

    Raises
    ------
    RenderError
        If the dataset has no pixel data, the frame is out of range, the photometric
        interpretation or bit depth is not supported, no decoder is installed, or
        decoding (or anything else) fails: it never raises another exception.
    """
    if max_size is not None and max_size < 1:
        raise RenderError(f"--max-size must be at least 1, got {max_size}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # reading is tolerant
            return _render_image(ds, frame, window, auto, max_size, overlays)
    except RenderError:
        raise
    except MemoryError as exc:
        raise RenderError("not enough memory to render the image") from exc
    except Exception as exc:  # a malformed value pydicom or the pipeline trips on
        raise RenderError(f"cannot render the image: {_first_line(exc)}") from exc


def _render_image(
    ds: Dataset,
    frame: int,
    window: tuple[float, float] | None,
    auto: bool,
    max_size: int | None,
    overlays: bool = True,
) -> NDArray[np.uint8]:
    """Do the work of :func:`render_image`."""
    if "PixelData" not in ds:
        if "FloatPixelData" in ds or "DoubleFloatPixelData" in ds:
            raise RenderError("float pixel data is not supported")
        raise RenderError("the file has no Pixel Data (7FE0,0010)")
    frames = _number_of_frames(ds)
    if not 1 <= frame <= frames:
        raise RenderError(f"frame {frame} out of range: the image has {frames} frame(s)")
    photometric = str(ds.get("PhotometricInterpretation") or "").strip().upper()
    if photometric in _MONOCHROME:
        bits = _int_or_zero(ds.get("BitsStored"))
        if not 1 <= bits <= 16:
            raise RenderError(f"Bits Stored {bits} is not supported (1 to 16 only)")
        stored = _decode(ds, frame, frames)
        if stored.ndim != 2:
            raise RenderError(f"expected one grayscale frame, decoded shape {stored.shape}")
        pipeline = DisplayPipeline.from_dataset(ds, frame - 1)  # the frame's groups
        display = pipeline.render(stored, choose_voi(pipeline, stored, window, auto))
    else:
        display = _colour(ds, _decode(ds, frame, frames), photometric)
    if overlays:
        display = burn_in(display, read_overlay_planes(ds), frame)
    return _downsample(display, max_size)


def write_png(array: NDArray[np.uint8], path: Path) -> None:
    """Write an 8-bit grayscale (``L``) or RGB array as a PNG, atomically.

    The PNG is written to a temporary file in the target's folder and moved over the
    target with :func:`os.replace`, so the target is never seen half written.

    Parameters
    ----------
    array
        uint8, shape ``(rows, columns)`` or ``(rows, columns, 3)``.
    path
        The PNG file to create or replace.

    Raises
    ------
    ValueError
        If the array is not uint8 grayscale or RGB.
    OSError
        If the file cannot be written.
    """
    if array.dtype != np.uint8 or not (
        array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 3)
    ):
        raise ValueError(f"expected a uint8 (rows, columns[, 3]) array, got {array.dtype}")
    image = Image.fromarray(np.ascontiguousarray(array))
    write_atomically(path, lambda stream: image.save(stream, format="PNG"))


def _int_or_zero(value: object) -> int:
    """Return an integer element value, 0 when absent or malformed."""
    try:
        return int(str(value or 0))
    except ValueError:
        return 0


def _number_of_frames(ds: Dataset) -> int:
    """Return Number of Frames (0028,0008); 1 when absent or malformed."""
    return max(_int_or_zero(ds.get("NumberOfFrames")), 1)


def _decode(ds: Dataset, frame: int, frames: int) -> NDArray[Any]:
    """Decode one frame (1-based), colour converted to RGB by pydicom."""
    syntax = UID(str(getattr(ds, "file_meta", {}).get("TransferSyntaxUID", "")))
    if not syntax:
        raise RenderError("the file meta has no Transfer Syntax UID (0002,0010)")
    try:
        decoder = get_decoder(syntax)
    except NotImplementedError:
        raise RenderError(f"no pixel data decoder exists for {syntax.name}") from None
    if not decoder.is_available:
        needs = "; ".join(decoder.missing_dependencies) or "a decoder plugin"
        raise RenderError(f"no decoder installed for {syntax.name} (needs {needs})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # PS3.5 8.2: decode only the requested frame of a multi-frame image.
            array: NDArray[Any] = (
                pixel_array(ds, index=frame - 1) if frames > 1 else pixel_array(ds)
            )
    except Exception as exc:  # decoders raise many types for damaged data
        text = _first_line(exc)
        if "less than expected" in text:
            raise RenderError(f"the pixel data is truncated ({text.split(' - ')[0]})") from exc
        raise RenderError(f"cannot decode the {syntax.name} pixel data: {text}") from exc
    return array


def _colour(ds: Dataset, array: NDArray[Any], photometric: str) -> NDArray[np.uint8]:
    """8-bit RGB of a decoded colour frame (no VOI: see :mod:`galactoview.imaging.colour`)."""
    if photometric == "PALETTE COLOR":  # PS3.3 C.7.6.3.1.5
        try:
            array = apply_color_lut(array, ds)
        except Exception as exc:  # malformed palette
            raise RenderError(f"cannot apply the palette: {_first_line(exc)}") from exc
    # pydicom converts YBR_* to RGB while decoding (as_rgb=True).
    bits = colour_bits(photometric, array, int(ds.get("BitsStored") or 8))
    if not is_colour(array):
        raise RenderError(
            f"Photometric Interpretation {photometric or '(missing)'} is not supported"
            f" (decoded shape {array.shape})"
        )
    try:
        return rgb8(array, bits)
    except ValueError:
        raise RenderError(f"{bits}-bit colour images are not supported") from None


def _downsample(display: NDArray[np.uint8], max_size: int | None) -> NDArray[np.uint8]:
    """Shrink so that the longer side is at most `max_size`, preserving the aspect ratio."""
    rows, columns = display.shape[:2]
    longer = max(rows, columns)
    if max_size is None or longer <= max_size:
        return display
    scale = max_size / longer
    size = (max(1, round(columns * scale)), max(1, round(rows * scale)))
    image = Image.fromarray(np.ascontiguousarray(display))
    resized = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return np.asarray(resized, dtype=np.uint8)


def _first_line(exc: BaseException) -> str:
    """First line of an exception message, or its type name."""
    lines = str(exc).strip().splitlines()
    return (lines[0].rstrip(":") if lines else "") or type(exc).__name__
