"""The marks of an SR file lying beside a study's images, chosen as the viewer chooses (Qt-free).

A study folder may hold DICOM SR files next to its images (another viewer's measurement
report, a Key Object Selection, a dose report). When the study has no sidecar, the viewer,
``galactoview report`` and ``galactoview sr show FOLDER`` take its marks from the first
TID 1500 measurement report (PS3.16 TID 1500) among them, in the scan's order, that has a
readable mark; every other file gets one line naming it and saying why it is not read: not
a measurement report, no readable mark, or another SR with marks of the study (one study
has one set of marks; ``galactoview sr import`` takes another instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset

from galactoview.dicom.loading import StructuredReportFile
from galactoview.sr import sr_codec

__all__ = ["MarksBeside", "marks_beside"]


@dataclass(frozen=True, slots=True)
class MarksBeside:
    """What the SR files beside a study's images give.

    Attributes
    ----------
    path
        The SR file the marks were read from; ``None`` when none had any.
    dataset
        That file's dataset (its evidence gives the images' minimal headers).
    result
        What :func:`galactoview.sr.sr_codec.decode` read from it.
    problems
        ``(file, line)`` for each file not read (and each group of the one read that was
        skipped), in the order met.
    """

    path: Path | None
    dataset: Dataset | None
    result: sr_codec.DecodeResult | None
    problems: tuple[tuple[Path, str], ...]


def marks_beside(reports: Sequence[StructuredReportFile]) -> MarksBeside:
    """Return the marks of the first SR among ``reports`` that has some, and why not the rest.

    Parameters
    ----------
    reports
        The SR files of one study found by the scan, in its order.

    Returns
    -------
    MarksBeside
        The file read (if any) and one problem line for every other file.
    """
    chosen: tuple[Path, Dataset, sr_codec.DecodeResult] | None = None
    problems: list[tuple[Path, str]] = []
    for report in reports:
        try:
            dataset = dcmread(report.path)
            result = sr_codec.decode(dataset)
        except sr_codec.NotAMeasurementReportError as error:
            problems.append((report.path, f"{error}: no marks read from it"))
            continue
        except Exception as error:  # an unreadable file names itself, the others go on
            problems.append((report.path, f"no annotations read from this SR: {error}"))
            continue
        annotations = result.annotations
        marks = annotations.findings or annotations.duct_segments or annotations.landmarks
        if not (marks or result.chest_walls):
            skipped = ""
            if result.problems:
                skipped = f" ({len(result.problems)} skipped: {result.problems[0]})"
            problems.append(
                (
                    report.path,
                    "is a measurement report (TID 1500) with no readable mark (finding, duct "
                    f"segment or nipple){skipped}: no marks read from it",
                )
            )
            continue
        if chosen is not None:
            problems.append(
                (
                    report.path,
                    "another SR with marks of this study: not read (the marks shown are "
                    f"those of {chosen[0].name}; 'galactoview sr import' takes this one "
                    "instead)",
                )
            )
            continue
        chosen = (report.path, dataset, result)
        problems.extend((report.path, line) for line in result.problems)
    if chosen is None:
        return MarksBeside(None, None, None, tuple(problems))
    return MarksBeside(chosen[0], chosen[1], chosen[2], tuple(problems))
