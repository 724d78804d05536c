"""``galactoview render FILE OUT.png``: one frame as the viewer shows it, as an 8-bit PNG."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from galactoview.cli.common import PROG, fail, positive_int, same_file
from galactoview.dicom.source import ImageSource, ZipMemberSource

__all__ = ["build_parser", "run"]


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``galactoview render``."""
    parser = argparse.ArgumentParser(
        prog=f"{PROG} render",
        description=(
            "Write one frame of a DICOM image as an 8-bit PNG exactly as the viewer "
            "displays it (Modality LUT, VOI, Presentation LUT Shape; PS3.3 C.11). "
            "Default VOI: the file's first window with its VOI LUT Function, else its "
            "first VOI LUT, else the automatic window. Colour images (RGB, YBR, palette) "
            "are written as RGB PNGs without VOI. Overlay planes (60xx) are drawn as "
            "DCMTK's dcmj2pnm draws them (graphics white, outside an ROI darkened) "
            "unless --no-overlays; a group that cannot be drawn is a warning line. "
            "The source file is never modified; "
            "the PNG is replaced atomically. Exit status: 0 written, 1 error, 2 usage."
        ),
    )
    parser.add_argument(
        "file",
        type=Path,
        metavar="FILE",
        help=(
            "DICOM image file, or a member of a .zip archive written as `info` lists it "
            "('ARCHIVE.zip [MEMBER]') or as a path through the archive (ARCHIVE.zip/MEMBER)"
        ),
    )
    parser.add_argument("out", type=Path, metavar="OUT.png", help="PNG file to write")
    parser.add_argument(
        "--frame", type=int, default=1, metavar="N", help="1-based frame number (default 1)"
    )
    voi = parser.add_mutually_exclusive_group()
    voi.add_argument(
        "--window",
        metavar="CENTER,WIDTH",
        help=(
            "window in modality units, keeping the file's VOI LUT Function (LINEAR if "
            "the file has no window); write a negative center as --window=-100,400"
        ),
    )
    voi.add_argument(
        "--auto", action="store_true", help="automatic mammography window over the tissue"
    )
    parser.add_argument(
        "--max-size",
        type=positive_int,
        metavar="PX",
        help=(
            "downsample so the longer side is at most PX pixels, preserving the aspect "
            "ratio (Lanczos filter on the display values); default: native size"
        ),
    )
    parser.add_argument(
        "--no-overlays",
        dest="overlays",
        action="store_false",
        help="do not draw the overlay planes (60xx; PS3.3 C.9.2) of the image",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``galactoview render``."""
    # Imported here so that opening the viewer does not pay for Pillow.
    from galactoview.imaging.export import (
        RenderError,
        parse_window,
        read_dataset,
        render_image,
        write_png,
    )
    from galactoview.imaging.overlays import read_overlay_planes

    source: Path = args.file
    out: Path = args.out
    try:
        window = None if args.window is None else parse_window(args.window)
    except ValueError as exc:
        return fail(source, f"bad --window: {exc}")
    if same_file(source, out):
        return fail(out, "refusing to overwrite the source DICOM file")
    try:
        ds = read_dataset(_image_source(source))
        array = render_image(
            ds,
            frame=args.frame,
            window=window,
            auto=args.auto,
            max_size=args.max_size,
            overlays=args.overlays,
        )
    except RenderError as exc:
        return fail(source, str(exc))
    if args.overlays:  # the groups left out (e.g. embedded in the pixel data, retired)
        for problem in read_overlay_planes(ds).problems:
            print(f"{source}: {problem}", file=sys.stderr)
    try:
        write_png(array, out)
    except OSError as exc:
        return fail(out, f"cannot write the PNG: {exc.strerror or exc}")
    return 0


def _image_source(argument: Path) -> ImageSource | Path:
    """Return the zip member an argument names, else the file path itself.

    ``ARCHIVE.zip [MEMBER]`` is how ``galactoview info`` names a member
    (:func:`galactoview.dicom.source.member_label`); ``ARCHIVE.zip/MEMBER`` is the
    path through the archive. A path that exists is always a plain file.
    """
    if argument.exists():
        return argument
    text = str(argument)
    labelled = re.fullmatch(r"(?P<archive>.+\.zip) \[(?P<member>.+)\]", text, re.IGNORECASE)
    if labelled is not None:
        return ZipMemberSource(Path(labelled["archive"]), labelled["member"])
    for parent in argument.parents:
        if parent.suffix.lower() == ".zip" and parent.is_file():
            return ZipMemberSource(parent, argument.relative_to(parent).as_posix())
    return argument
