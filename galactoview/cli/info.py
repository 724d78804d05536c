"""``galactoview info PATH... [--json]``: the images found, Patient > Study > Series > Instance."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydicom.uid import UID

from galactoview.cli.common import EXIT_FAILURE, PROG, print_problems
from galactoview.dicom.calibration import Calibration, calibration_from_dataset
from galactoview.dicom.loading import ImageRecord, PixelDataError, ScanResult, read_header, scan
from galactoview.dicom.study_tree import PatientNode, build_study_tree

__all__ = ["build_parser", "info_json", "run"]


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``galactoview info``."""
    parser = argparse.ArgumentParser(
        prog=f"{PROG} info",
        description=(
            "List the DICOM images found in files and folders (searched recursively) as "
            "Patient > Study > Series > Instance, newest study first: laterality, view, "
            "size, transfer syntax and pixel spacing calibration of each image. Unusable "
            "files are reported on stderr, one line each. Exit status: 0 if any image "
            "was found, 1 if none, 2 on a usage error."
        ),
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="file or folder")
    parser.add_argument(
        "--json", action="store_true", help="print the tree as JSON (keys: see the docs)"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``galactoview info``."""
    result = scan(args.paths)
    print_problems(result)
    tree = build_study_tree(result.images)
    calibrations: dict[str, Calibration | None] = {}
    for image in result.images:
        calibration = _calibration(image)
        if isinstance(calibration, str):  # the header could not be read again
            print(f"{image.name}: {calibration}", file=sys.stderr)
        calibrations[image.sop_instance_uid] = None if isinstance(calibration, str) else calibration
    if args.json:
        document = info_json(tree, result, calibrations)
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        for line in _info_lines(tree, calibrations):
            print(line)
    for report in result.reports:
        print(f"{report.path}: {_report_note(report.path, report.sop_class_name)}", file=sys.stderr)
    if not result.images:
        if not (result.problems or result.reports):  # else each path was named above
            print(f"{PROG} info: no DICOM images found", file=sys.stderr)
        return EXIT_FAILURE
    return 0


def _calibration(image: ImageRecord) -> Calibration | str:
    """Return the calibration of an image from its header, or an error message."""
    try:
        return calibration_from_dataset(read_header(image))
    except PixelDataError as exc:
        return exc.message


def _size(image: ImageRecord) -> str:
    """Return ``rows×columns``, plus ``×frames`` for multi-frame images."""
    size = f"{image.rows}×{image.columns}"
    return f"{size}×{image.number_of_frames}" if image.number_of_frames > 1 else size


def _view(image: ImageRecord) -> str:
    """Return view and modifiers without laterality, e.g. ``"CC MAG"``; ``"-"`` if unknown."""
    return " ".join([image.view.short_name, *image.view.modifiers]).strip() or "-"


def _syntax_name(uid: str) -> str:
    """Return the name of a transfer syntax UID (PS3.6 Annex A), the UID if unknown."""
    return UID(uid).name if uid else "(no transfer syntax)"


def _info_lines(
    tree: Sequence[PatientNode], calibrations: Mapping[str, Calibration | None]
) -> list[str]:
    """Return the indented text tree of ``galactoview info``."""
    lines: list[str] = []
    for patient in tree:
        lines.append(
            f"Patient {patient.patient_name or '(no name)'}"
            f" [{patient.patient_id or 'no ID'}]: {patient.image_count} image(s)"
        )
        for study in patient.studies:
            date = study.study_date
            shown = f"{date[:4]}-{date[4:6]}-{date[6:]}" if len(date) == 8 else date or "no date"
            lines.append(
                f"  Study {shown} {study.study_description or '(no description)'}"
                f" ({study.study_instance_uid})"
            )
            for series in study.series:
                number = "?" if series.series_number is None else series.series_number
                lines.append(
                    f"    Series {number} {series.modality or '?'}"
                    f" {series.series_description or '(no description)'}"
                )
                for image in series.images:
                    calibration = calibrations.get(image.sop_instance_uid)
                    label = calibration.short_label() if calibration is not None else "?"
                    instance = "?" if image.instance_number is None else image.instance_number
                    lines.append(
                        f"      #{instance} {image.image_laterality.value or '-'}"
                        f" {_view(image)}  {_size(image)}"
                        f"  {_syntax_name(image.transfer_syntax_uid)}  {label}  {image.name}"
                    )
    return lines


def info_json(
    tree: Sequence[PatientNode], result: ScanResult, calibrations: Mapping[str, Calibration | None]
) -> dict[str, Any]:
    """Return the ``galactoview info --json`` document.

    Keys (values are strings unless noted; missing numbers are ``null``)::

        patients: list of
          patient_id, patient_name
          studies: list of (newest first)
            study_instance_uid, study_date (YYYYMMDD), study_description
            series: list of
              series_instance_uid, series_number (int), series_description, modality
              images: list of
                path, archive_member (member name inside a .zip ``path``, else null),
                sop_instance_uid, instance_number (int)
                laterality ("L", "R", "B" or ""), view (e.g. "L CC MAG"),
                view_code (SNOMED CT), view_modifiers (list)
                rows, columns, number_of_frames (int), photometric_interpretation
                transfer_syntax: {uid, name}
                calibration: null if the header could not be read again, else
                  {source ("calibrated", "pixel spacing", "magnification-corrected",
                   "detector" or "unknown"), row_spacing_mm, column_spacing_mm,
                   magnification (float or null), label, description, problems (list)}
        problems: list of {path, archive_member, message}, one per unusable file

    Parameters
    ----------
    tree
        The study tree of ``result.images``.
    result
        The scan result (for its problems).
    calibrations
        Calibration of each image by SOP Instance UID (None when unknown).

    Returns
    -------
    dict
        A JSON-serialisable document.
    """
    return {
        "patients": [
            {
                "patient_id": patient.patient_id,
                "patient_name": patient.patient_name,
                "studies": [
                    {
                        "study_instance_uid": study.study_instance_uid,
                        "study_date": study.study_date,
                        "study_description": study.study_description,
                        "series": [
                            {
                                "series_instance_uid": series.series_instance_uid,
                                "series_number": series.series_number,
                                "series_description": series.series_description,
                                "modality": series.modality,
                                "images": [
                                    _image_json(image, calibrations.get(image.sop_instance_uid))
                                    for image in series.images
                                ],
                            }
                            for series in study.series
                        ],
                    }
                    for study in patient.studies
                ],
            }
            for patient in tree
        ],
        "problems": [
            {
                "path": str(problem.path),
                "archive_member": problem.archive_member,
                "message": problem.message,
            }
            for problem in result.problems
        ],
    }


def _image_json(image: ImageRecord, calibration: Calibration | None) -> dict[str, Any]:
    """Return the JSON object of one image (see :func:`info_json`)."""
    return {
        "path": str(image.path),
        "archive_member": image.archive_member,
        "sop_instance_uid": image.sop_instance_uid,
        "instance_number": image.instance_number,
        "laterality": image.image_laterality.value,
        "view": image.view.label,
        "view_code": image.view.view_code,
        "view_modifiers": list(image.view.modifiers),
        "rows": image.rows,
        "columns": image.columns,
        "number_of_frames": image.number_of_frames,
        "photometric_interpretation": image.photometric_interpretation,
        "transfer_syntax": {
            "uid": image.transfer_syntax_uid,
            "name": _syntax_name(image.transfer_syntax_uid),
        },
        "calibration": None
        if calibration is None
        else {
            "source": calibration.source.value,
            "row_spacing_mm": calibration.row_spacing_mm,
            "column_spacing_mm": calibration.column_spacing_mm,
            "magnification": calibration.magnification,
            "label": calibration.short_label(),
            "description": calibration.description,
            "problems": list(calibration.problems),
        },
    }


def _report_note(path: Path, sop_class_name: str) -> str:
    """Say what an SR file beside the images is, and point at ``sr show`` only for marks."""
    from pydicom import dcmread

    from galactoview.sr.sr_codec import describe_document

    try:
        what = describe_document(dcmread(path, stop_before_pixels=True))
    except Exception:  # unreadable now: say what the scan saw
        what = None
    if what is not None:
        return f"{what}, not an image and not a measurement report: holds no marks"
    return (
        f"a {sop_class_name} document (TID 1500 measurement report), not an image "
        f"('{PROG} sr show {path}' lists its marks)"
    )
