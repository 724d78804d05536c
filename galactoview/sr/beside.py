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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset

from galactoview.annotations.model import AnnotationSet, ChestWallLine
from galactoview.annotations.report import ClinicalReport
from galactoview.dicom.loading import ImageRecord, StructuredReportFile
from galactoview.sr import signing, sr_codec
from galactoview.sr.foreign import with_image_laterality
from galactoview.sr.persistence import open_annotations

__all__ = ["MarksBeside", "StudyMarks", "marks_beside", "study_marks"]


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


@dataclass(frozen=True, slots=True)
class StudyMarks:
    """A study's marks as the viewer shows them, for ``report`` and ``sr show``.

    Attributes
    ----------
    source
        What they were read from: the sidecar, else the SR beside the images; ``""``
        when neither has marks.
    annotations
        The marks; another writer's findings without a laterality have that of their
        images (:func:`galactoview.sr.foreign.with_image_laterality`).
    locations, chest_walls
        As :func:`galactoview.sr.sr_codec.decode` read them.
    problems
        ``"path: what"`` lines, in the order met.
    report
        The radiologist's written report the same SR revision holds; ``None`` when none.
    signature
        Who signed that revision (PS3.3 C.17.2 Verifying Observer); ``None`` when it is
        not signed.
    """

    source: str
    annotations: AnnotationSet
    locations: Mapping[str, sr_codec.StoredLocation]
    chest_walls: Mapping[str, ChestWallLine]
    problems: tuple[str, ...]
    report: ClinicalReport | None = None
    signature: signing.Signature | None = None


def study_marks(
    study_instance_uid: str,
    images: Sequence[ImageRecord],
    reports: Sequence[StructuredReportFile],
) -> StudyMarks:
    """Return a study's marks: its sidecar's, else those of the first SR beside its images.

    Parameters
    ----------
    study_instance_uid
        The study.
    images
        Its images (their folder holds the sidecar; their Image Laterality is used).
    reports
        The SR files the scan found (those of other studies are left out here).

    Returns
    -------
    StudyMarks
        The marks and the problems met.

    Raises
    ------
    ValueError
        From :func:`galactoview.sr.persistence.open_annotations`, e.g. a Study Instance
        UID that cannot name a sidecar.
    """
    opened = open_annotations(study_instance_uid, [record.path for record in images])
    problems = list(opened.problems)
    source, annotations = opened.read_from, opened.annotations
    locations, chest_walls = opened.locations, opened.chest_walls
    report, signature = opened.report, opened.signature
    if not source:
        mine = [r for r in reports if r.study_instance_uid == study_instance_uid]
        beside = marks_beside(mine)
        problems.extend(f"{path}: {line}" for path, line in beside.problems)
        if beside.path is not None and beside.result is not None:
            source, annotations = str(beside.path), beside.result.annotations
            locations, chest_walls = beside.result.locations, beside.result.chest_walls
            report, signature = beside.result.report, beside.result.signature
    sides = {record.sop_instance_uid: record.image_laterality for record in images}
    annotations = with_image_laterality(annotations, sides)
    return StudyMarks(
        source, annotations, locations, chest_walls, tuple(problems), report, signature
    )
