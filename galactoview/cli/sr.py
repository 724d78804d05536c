"""``galactoview sr export | import | show``: the parser, and which module runs each command."""

from __future__ import annotations

import argparse
from pathlib import Path

from galactoview.cli import sr_export, sr_import, sr_show
from galactoview.cli.common import PROG

__all__ = ["build_parser", "run"]


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``galactoview sr`` (``export``, ``import``, ``show``)."""
    parser = argparse.ArgumentParser(
        prog=f"{PROG} sr",
        description=(
            "Convert and list a study's annotations: the sidecar "
            "galactoview-<StudyInstanceUID>.sr.json next to the study (the DICOM JSON Model, "
            "PS3.18 Annex F, of a TID 1500 Comprehensive SR) and binary DICOM SR files. "
            "Exit status: 0 done, 1 unreadable input or nothing written, 2 usage error."
        ),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    export = commands.add_parser(
        "export",
        help="write a sidecar as a binary DICOM SR file (PS3.10)",
        description=(
            "Write the SR held by an annotation sidecar as a binary DICOM Part 10 file "
            "(file meta information rebuilt, Explicit VR Little Endian). The content is "
            "copied unchanged, so the SOP Instance UID stays that of the saved revision. "
            "OUT.dcm is replaced atomically."
        ),
    )
    export.add_argument("sidecar", type=Path, metavar="SIDECAR", help="annotation sidecar")
    export.add_argument("out", type=Path, metavar="OUT.dcm", help="DICOM file to write")
    imported = commands.add_parser(
        "import",
        help="store a TID 1500 SR (binary or JSON) as a study's sidecar",
        description=(
            "Read a TID 1500 Imaging Measurement Report (GalactoView's or another "
            "program's; binary Part 10 or DICOM JSON) and store it unchanged as the "
            "sidecar of its study, where the viewer and 'report' look for it: STUDY_DIR "
            "(e.g. the folder you open) is scanned for the images of the SR's study and "
            "the sidecar goes to their folder, or to the per-user folder when that one is "
            "read-only. Refused (exit status 1), with nothing written: a Key Object "
            "Selection, Basic Text or other non-TID-1500 SR (another SOP Class, Content "
            "Template or document title), an SR without any readable mark, and a STUDY_DIR "
            "without an image of the SR's study (the message names the studies it holds; "
            "--force stores the SR there anyway and says so). Marks on images not found "
            "under STUDY_DIR are listed as warnings, one line per image, and kept in the "
            "sidecar. An existing sidecar is never overwritten: "
            "when the study already has a different one, the SR is written next to it "
            "under a new name (printed); the viewer opens the newest revision of the two "
            "(by the SR's Content Date/Time) and lists the other. "
            "Problems found while reading are printed on stderr."
        ),
    )
    imported.add_argument("sr", type=Path, metavar="SR.dcm", help="SR file to import")
    imported.add_argument(
        "study_dir",
        type=Path,
        metavar="STUDY_DIR",
        help="a folder holding the study's images (searched recursively)",
    )
    imported.add_argument(
        "--force",
        action="store_true",
        help="store the SR in STUDY_DIR even when it holds no image of the SR's study",
    )
    show = commands.add_parser(
        "show",
        help="list the findings of a sidecar or an SR file",
        description=(
            "List the annotations of a sidecar or SR file: per finding its id, type, "
            "laterality, each region's image (view and instance number when the image is "
            "found, else its SOP Instance UID), graphic type and points (pixels), the "
            "measurements with their calibration, impression and note; duct trees "
            "indented by parent; nipple landmarks; the stored location of each finding "
            "(clock face, quadrant, depth, distance from the nipple). Images are looked "
            "for in the file's folder unless --images or --no-images is given. Given a "
            "folder, it lists the marks of each study found in it as the viewer and "
            "'report' read them: its sidecar, else the first SR with marks beside its "
            "images (--json: a list, each with its 'sidecar' path: the file read)."
        ),
    )
    show.add_argument(
        "file",
        type=Path,
        metavar="SIDECAR_OR_SR",
        help="sidecar, SR file, or a folder of studies",
    )
    show.add_argument("--json", action="store_true", help="print the listing as JSON")
    where = show.add_mutually_exclusive_group()
    where.add_argument(
        "--images", type=Path, metavar="PATH", help="file or folder holding the study's images"
    )
    where.add_argument("--no-images", action="store_true", help="do not look for the images")
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``galactoview sr``."""
    if args.command == "export":
        return sr_export.run(args.sidecar, args.out)
    if args.command == "import":
        return sr_import.run(args.sr, args.study_dir, force=args.force)
    return sr_show.run(args.file, args.json, args.images, args.no_images)
