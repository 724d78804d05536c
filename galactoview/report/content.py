"""What the surgeon's report says: header, findings table, pictogram data, key images (Qt-free).

The report is built from the study's document (its annotations and the reader's
chest-wall lines, the TID 1500 SR held in the sidecar, and the pectoral lines suggested
for the other oblique views, as in the window) and the localization of each
finding (:func:`galactoview.location.study.locate_document`, as everywhere else):
clock face (PS3.16 CID 6018), quadrant (CID 6020), depth third (CID 6024) and distance
from the nipple (DCM 121242). Values that rest on an assumption (no calibration, the
oblique approximation, a calibration that is not known to be exact) are flagged in the
row, never shown as plain numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from galactoview.annotations.document import StudySnapshot
from galactoview.annotations.model import (
    AnnotationSet,
    ChestWallLine,
    Finding,
    ImageRegion,
    is_valid_uid,
)
from galactoview.dicom.loading import ImageRecord, scan
from galactoview.dicom.mammography import Laterality
from galactoview.dicom.person_name import format_person_name
from galactoview.location.chest_wall import study_chest_walls
from galactoview.location.describe import NOT_LOCATED, describe_finding
from galactoview.location.localize import FindingLocation
from galactoview.location.study import locate_document
from galactoview.sr.beside import study_marks
from galactoview.sr.sr_codec import describe_error

__all__ = [
    "DISCLAIMER",
    "NOT_LOCATED",
    "KeyImage",
    "KeyMark",
    "LoadedReport",
    "PictogramMark",
    "ReportContent",
    "StudyHeader",
    "StudyReport",
    "TableRow",
    "build_report",
    "build_study_report",
    "load_report",
]

#: Printed on every page.
DISCLAIMER: Final = "Synthetic/for research — not a certified medical device"


@dataclass(frozen=True, slots=True)
class StudyHeader:
    """Patient and study identification printed at the top of the report.

    Attributes
    ----------
    patient_name
        Formatted for display ("Family, Given").
    patient_id, birth_date, sex, study_date, study_description, accession_number, institution
        As in the DICOM header (dates formatted YYYY-MM-DD), empty when absent.
    study_instance_uid
        The study.
    """

    patient_name: str
    patient_id: str
    birth_date: str
    sex: str
    study_date: str
    study_description: str
    accession_number: str
    institution: str
    study_instance_uid: str


@dataclass(frozen=True, slots=True)
class TableRow:
    """One finding in the findings table; every value already formatted as text.

    The texts are those of :func:`~galactoview.location.describe.describe_finding`
    (the dock, the marks and ``sr show`` use the same), "—" where there is none.

    Attributes
    ----------
    short_id, finding_type, side, clock, quadrant, depth, distance, size, impression, note
        The columns. ``clock`` is "7 o'clock" or "subareolar"; ``distance`` is whole mm
        with a flag in brackets when it rests on an assumption; the location columns
        are "—" when the finding is not located.
    located
        Whether a two-view location exists.
    reason
        Why not (empty when located).
    flags
        Assumptions and problems behind the values, one line each.
    """

    short_id: str
    finding_type: str
    side: str
    clock: str
    quadrant: str
    depth: str
    distance: str
    size: str
    impression: str
    note: str
    located: bool
    reason: str = ""
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PictogramMark:
    """A finding on the clock-face and side pictograms of its breast.

    Attributes
    ----------
    laterality
        The breast.
    clock_angle_deg
        Clockwise from 12 o'clock as if facing the patient (90° is the patient's left).
    distance_mm
        Distance from the nipple; ``None`` when uncalibrated (drawn on the rim).
    depth_fraction
        Fraction of the nipple–chest wall distance, ``None`` when unknown.
    short_id
        Label.
    colour_key
        The finding type (its code meaning), which picks the colour.
    """

    laterality: Laterality
    clock_angle_deg: float
    distance_mm: float | None
    depth_fraction: float | None
    short_id: str
    colour_key: str


@dataclass(frozen=True, slots=True)
class KeyMark:
    """A region to burn into a key image.

    Attributes
    ----------
    short_id
        Label.
    colour_key
        The finding type.
    region
        SCOORD geometry.
    """

    short_id: str
    colour_key: str
    region: ImageRegion


@dataclass(frozen=True, slots=True)
class KeyImage:
    """An image that carries marks.

    Attributes
    ----------
    sop_instance_uid
        The image.
    frame
        1-based frame the marks are on.
    view_label
        e.g. "L CC #3" (view and instance number).
    marks
        The findings' regions on this image (frame).
    nipples
        Nipple landmarks on it, SCOORD (column, row).
    """

    sop_instance_uid: str
    frame: int
    view_label: str
    marks: tuple[KeyMark, ...]
    nipples: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True, slots=True)
class StudyReport:
    """The report of one annotated study.

    Attributes
    ----------
    header
        Patient and study.
    rows
        One per finding, in finding order.
    marks
        Pictogram data of the located findings.
    key_images
        Images with marks, in the order they are first referenced.
    notes
        Footnotes: why findings could not be located, assumptions.
    observer
        The SR's observer, formatted.
    sr_sop_instance_uid
        SOP Instance UID of the SR revision the report was generated from ("unsaved" if none).
    """

    header: StudyHeader
    rows: tuple[TableRow, ...]
    marks: tuple[PictogramMark, ...]
    key_images: tuple[KeyImage, ...]
    notes: tuple[str, ...]
    observer: str
    sr_sop_instance_uid: str


@dataclass(frozen=True, slots=True)
class ReportContent:
    """Everything a report prints.

    Attributes
    ----------
    studies
        One section per annotated study.
    report_date
        Date printed on the report.
    disclaimer
        :data:`DISCLAIMER`.
    """

    studies: tuple[StudyReport, ...]
    report_date: dt.date
    disclaimer: str = DISCLAIMER


@dataclass(frozen=True, slots=True)
class LoadedReport:
    """What :func:`load_report` read.

    Attributes
    ----------
    content
        The report (no study when nothing is annotated).
    records
        The images found.
    problems
        Unreadable files and sidecar problems, one line each (``path: message``).
    """

    content: ReportContent
    records: tuple[ImageRecord, ...]
    problems: tuple[str, ...]


# ------------------------------------------------------------------ formatting


def _date(value: str) -> str:
    """Return a DICOM DA (YYYYMMDD) as YYYY-MM-DD; other text unchanged."""
    text = value.strip()
    if len(text) == 8 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return text


def _header(record: ImageRecord) -> StudyHeader:
    return StudyHeader(
        format_person_name(str(record.patient_name or "")),
        str(record.patient_id or ""),
        _date(str(record.patient_birth_date or "")),
        str(record.patient_sex or ""),
        _date(str(record.study_date or "")),
        str(record.study_description or ""),
        str(record.accession_number or ""),
        str(record.institution_name or ""),
        record.study_instance_uid,
    )


def _view_label(record: ImageRecord | None, uid: str) -> str:
    if record is None:
        return uid
    label = record.view.label or record.series_description or "image"
    return f"{label} #{record.instance_number}" if record.instance_number is not None else label


def _row(
    finding: Finding,
    location: FindingLocation | None,
    records: Mapping[str, ImageRecord],
) -> TableRow:
    """Return a finding's row: the texts of :func:`describe_finding`, "—" for none."""
    calibrations = {uid: record.calibration for uid, record in records.items()}
    described = describe_finding(finding, location, calibrations)
    where = described.location
    size = described.size.text or "—"
    impression = "" if finding.impression is None else str(finding.impression.meaning)
    if not where.located:
        return TableRow(
            described.label,
            described.type_text,
            where.side,
            "—",
            "—",
            "—",
            "—",
            size,
            impression,
            finding.note,
            False,
            NOT_LOCATED,
            tuple(f"{finding.short_id}: {p}" for p in (*where.problems, *described.size.flags)),
        )
    return TableRow(
        described.label,
        described.type_text,
        where.side,
        where.clock,
        where.quadrant,
        where.depth,
        where.distance,
        size,
        impression,
        finding.note,
        True,
        "",
        tuple(f"{finding.short_id}: {f}" for f in described.flags),
    )


def _key_images(
    annotations: AnnotationSet, records: Mapping[str, ImageRecord]
) -> tuple[KeyImage, ...]:
    order: list[tuple[str, int]] = []
    marks: dict[tuple[str, int], list[KeyMark]] = {}
    for finding in annotations.findings:
        for region in finding.regions:
            key = (region.sop_instance_uid, region.frame or 1)
            if key not in marks:
                order.append(key)
                marks[key] = []
            marks[key].append(KeyMark(finding.short_id, finding.finding_type.value, region))
    nipples: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for landmark in annotations.landmarks:
        nipples.setdefault((landmark.sop_instance_uid, landmark.frame or 1), []).append(
            landmark.point
        )
    return tuple(
        KeyImage(
            uid,
            frame,
            _view_label(records.get(uid), uid),
            tuple(marks[(uid, frame)]),
            tuple(nipples.get((uid, frame), ())),
        )
        for uid, frame in order
    )


# ------------------------------------------------------------------ building


def build_study_report(
    document: StudySnapshot | AnnotationSet,
    records: Sequence[ImageRecord],
) -> StudyReport:
    """Build the report section of one study.

    Parameters
    ----------
    document
        The study's document state: annotations (one SR revision) and chest-wall lines
        (pectoral lines of oblique views); annotations alone have no chest-wall line.
    records
        The loaded images (the study's and any other; only the study's are used for
        the header).

    Returns
    -------
    StudyReport
        Header, table rows, pictogram data and key images.

    Raises
    ------
    ValueError
        If no image of the annotated study is among `records`.
    """
    annotations = document.annotations if isinstance(document, StudySnapshot) else document
    study = [r for r in records if r.study_instance_uid == annotations.study_instance_uid]
    if not study:
        raise ValueError(f"no image of study {annotations.study_instance_uid} is loaded")
    by_uid = {r.sop_instance_uid: r for r in records}
    locations = locate_document(document, records)
    rows: list[TableRow] = []
    marks: list[PictogramMark] = []
    notes: list[str] = []
    for finding in annotations.findings:
        location = locations.get(finding.tracking_uid)
        row = _row(finding, location, by_uid)
        rows.append(row)
        notes.extend(f for f in row.flags if f not in notes)
        breast = None if location is None else location.breast
        if breast is not None:
            marks.append(
                PictogramMark(
                    breast.laterality,
                    breast.clock_angle_deg,
                    breast.distance_mm,
                    breast.depth_fraction,
                    finding.short_id,
                    finding.finding_type.value,
                )
            )
    # The reader is the person who made this revision (its TID 1002 person observer, with
    # the organisation of TID 1003), not the author of some finding in it.
    reader = "not recorded"
    if annotations.observer:
        reader = format_person_name(annotations.observer)
        if annotations.observer_organization:
            reader = f"{reader} ({annotations.observer_organization})"
    return StudyReport(
        _header(study[0]),
        tuple(rows),
        tuple(marks),
        _key_images(annotations, by_uid),
        tuple(notes),
        reader,
        annotations.sop_instance_uid or "unsaved (no SR revision)",
    )


def build_report(
    records: Sequence[ImageRecord],
    documents: Iterable[StudySnapshot | AnnotationSet],
    report_date: dt.date,
    problems: list[str] | None = None,
) -> ReportContent:
    """Build the report of the annotated studies.

    Parameters
    ----------
    records
        The loaded images.
    documents
        One document state (or annotation set) per study; studies without findings
        are left out.
    report_date
        Printed on every page (tests fix it).
    problems
        When given, a study whose section cannot be built is left out and a line
        saying why is appended here, so the other studies are still reported;
        when ``None`` the error is raised.

    Returns
    -------
    ReportContent
        One :class:`StudyReport` per study with findings, newest study first.
    """
    studies: list[StudyReport] = []
    for document in documents:
        study = document.annotations if isinstance(document, StudySnapshot) else document
        if not study.findings:
            continue
        if problems is None:
            studies.append(build_study_report(document, records))
            continue
        try:
            studies.append(build_study_report(document, records))
        except Exception as error:  # one bad study never stops the report of the others
            first = next(
                (r for r in records if r.study_instance_uid == study.study_instance_uid), None
            )
            where = "" if first is None else f"{first.path}: "
            reason = str(error) if type(error) is ValueError else describe_error(error)
            problems.append(
                f"{where}study {study.study_instance_uid} left out of the report: {reason}"
            )
    studies.sort(key=lambda s: s.header.study_date, reverse=True)
    return ReportContent(tuple(studies), report_date)


def load_report(paths: Sequence[Path], report_date: dt.date) -> LoadedReport:
    """Scan files or folders, read each study's sidecar and build the report.

    Each study is located as the window locates it: with the chest-wall lines its SR
    stored, and the pectoral line suggested from the pixels of each oblique view its
    findings are marked on that has none (those images are decoded).

    Parameters
    ----------
    paths
        DICOM files or folders (searched recursively), as for the viewer.
    report_date
        Printed on the report.

    Returns
    -------
    LoadedReport
        The report, the images and the problems met. A file or study that cannot be
        used is a problem line naming the file; the other studies are still reported:
        e.g. a Study Instance UID that is not a UID (PS3.5 9.1: too long, a newline,
        ``../..``) names no sidecar, so that study's annotations are not read.
    """
    result = scan(list(paths))
    problems = [str(p) for p in result.problems]
    by_study: dict[str, list[ImageRecord]] = {}
    for record in result.images:
        by_study.setdefault(record.study_instance_uid, []).append(record)
    documents: list[StudySnapshot] = []
    for study_uid, members in by_study.items():
        image_paths = [record.path for record in members]
        try:
            marks = study_marks(study_uid, members, result.reports)
        except Exception as error:  # e.g. ValueError: the UID cannot name a sidecar
            problems.extend(_unusable_study(study_uid, image_paths, error))
            continue
        problems.extend(marks.problems)
        documents.append(_study_document(marks.annotations, marks.chest_walls, members, problems))
    content = build_report(result.images, documents, report_date, problems)
    return LoadedReport(content, tuple(result.images), tuple(problems))


def _study_document(
    annotations: AnnotationSet,
    stored: Mapping[str, ChestWallLine],
    members: Sequence[ImageRecord],
    problems: list[str],
) -> StudySnapshot:
    """Return a study's document as the window has it: the SR's lines, else suggested ones.

    The oblique images the findings are marked on, without a line of the reader's, get
    the pectoral line the window suggests from their pixels
    (:func:`galactoview.location.chest_wall.study_chest_walls`), so the report and the
    window locate the findings alike.
    """
    if not annotations.findings:
        return StudySnapshot.of(annotations, stored)
    marked = {region.sop_instance_uid for f in annotations.findings for region in f.regions}
    walls = study_chest_walls(members, stored, wanted=marked, problems=problems)
    suggested = {uid: line for uid, line in walls.items() if uid not in stored}
    return StudySnapshot.of(annotations, stored, suggested)


def _unusable_study(study_uid: str, image_paths: Sequence[Path], error: Exception) -> list[str]:
    """Return one problem line per image of a study whose annotations cannot be read."""
    if is_valid_uid(study_uid):
        why = f"the annotations of its study cannot be read ({describe_error(error)})"
    else:
        shown = repr(study_uid[:80]) + ("…" if len(study_uid) > 80 else "")
        why = (
            f"Study Instance UID {shown} is not a valid UID (PS3.5 9.1), so no sidecar can "
            "be looked for; its annotations are not in the report"
        )
    return [f"{path}: {why}" for path in image_paths]
