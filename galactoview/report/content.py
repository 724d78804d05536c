"""What the report says: the written report, header, findings table, pictograms, ducts (Qt-free).

The report is built from the study's document (its annotations, the reader's
chest-wall lines and the radiologist's written report, the TID 1500 SR held in the
sidecar, and the pectoral lines suggested for the other oblique views, as in the window),
the SR revision's signature (PS3.3 C.17.2 Verifying Observer; ``None`` for a draft) and
the localization of each finding (:func:`galactoview.location.study.locate_document`, as
everywhere else): clock face (PS3.16 CID 6018), quadrant (CID 6020), depth third (CID
6024) and distance from the nipple (DCM 121242). ``galactoview report`` and the window's
export and review mode all print this content (:func:`build_report`).

The table's cells (:meth:`TableRow.cells`, the same on paper and on screen):

* **From nipple**: the 3-D distance from the nipple in cm, one decimal (``"5.8 cm"``);
* **Depth**: the depth behind the nipple in cm and its third (``"3.1 cm, middle
  third"``): the offset along the posterior nipple line (the nipple → chest-wall axis,
  :attr:`galactoview.location.localize.BreastLocation.posterior`, the mean of the two
  views), and the third of the nipple–chest wall distance it falls in;
* **Size**: one short number (``"6.6 mm"``, ``"14.3 × 4.8 mm"`` for an ellipse's long ×
  short axis, ``"12 mm²"`` for an area) with a footnote marker; the footnote says the
  calibration the number used (:class:`Footnote`).

A value that rests on an assumption carries a marker too (``†`` the MLO used as the
lateral view, ``‡`` a calibration not known to be exact, ``*`` a size in pixels); a
value whose calibration is unknown is never printed as a bare number
(``"unknown (uncalibrated)"``).

A finding that started as an automatic suggestion (its TID 4019 algorithm
identification, :attr:`~galactoview.annotations.model.Finding.algorithm`) has ``§`` after
its id (``"FD-1§"``) and the footnote says so: ``"§ started as an automatic suggestion
(GalactoView duct-tree suggestion 1.0) and was accepted by Marie Curie"`` (the finding's
observer, else the SR's reader). A traced segment of an accepted suggested duct tree is
marked the same way where the report lists the traced duct to a lesion
(:class:`~galactoview.report.duct_path.DuctPath`: ``"DS-1§ → DS-2§"``). Another algorithm
or reader gets ``§§``, then ``§§§``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from galactoview.annotations import codes
from galactoview.annotations.document import StudySnapshot
from galactoview.annotations.model import (
    AlgorithmIdentification,
    AnnotationSet,
    ChestWallLine,
    Finding,
    ImageRegion,
    MeasurementValue,
    is_valid_uid,
)
from galactoview.annotations.report import ClinicalReport
from galactoview.dicom.loading import ImageRecord, scan
from galactoview.dicom.mammography import Laterality
from galactoview.dicom.person_name import format_person_name
from galactoview.location.chest_wall import study_chest_walls
from galactoview.location.describe import NOT_LOCATED, describe_finding, describe_size, unit_text
from galactoview.location.localize import BreastLocation, FindingLocation
from galactoview.location.study import locate_document
from galactoview.report.duct_path import DuctPath, DuctView, duct_paths, duct_views
from galactoview.report.written import WrittenReport, written_report
from galactoview.sr.beside import study_marks
from galactoview.sr.signing import Signature
from galactoview.sr.sr_codec import describe_error

__all__ = [
    "DISCLAIMER",
    "NOT_LOCATED",
    "TABLE_COLUMNS",
    "Footnote",
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
    "calibration_note",
    "cm_text",
    "load_report",
    "short_size",
    "to_chest_wall_text",
]

#: Printed on every page.
DISCLAIMER: Final = "Synthetic/for research — not a certified medical device"

#: The findings table's columns (:meth:`TableRow.cells`), on paper and in the review.
TABLE_COLUMNS: Final = (
    "ID",
    "Finding",
    "Side",
    "Clock",
    "Quadrant",
    "From nipple",
    "Depth",
    "Size",
    "Note",
)

#: Footnote markers of the calibrations sizes were measured with, in the order met.
_CALIBRATION_MARKERS: Final = "¹²³⁴⁵⁶⁷⁸⁹"
_PIXELS_MARKER: Final = "*"
_MLO_MARKER: Final = "†"
_INEXACT_MARKER: Final = "‡"
_MLO_TEXT: Final = "MLO used as lateral view: superior–inferior offset approximated"
_INEXACT_TEXT: Final = "calibration of the images is not known to be exact"
_SUGGESTED_MARKER: Final = "§"
_UNCALIBRATED_CELL: Final = "unknown (uncalibrated)"


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

    Type, side, clock and quadrant are the texts of
    :func:`~galactoview.location.describe.describe_finding` (the dock, the marks and
    ``sr show`` use the same); distance, depth and size are the report's (see the
    module), "—" where there is none.

    Attributes
    ----------
    short_id, finding_type, side, clock, quadrant, depth, distance, size, impression, note
        The columns. ``clock`` is "7 o'clock" or "subareolar" (``"not located"`` without
        a two-view location); ``distance`` is ``"5.8 cm"``, ``depth`` ``"3.1 cm, middle
        third"``, ``size`` ``"6.6 mm¹"``, each with the markers of its footnotes; the
        location columns are "—" when the finding is not located.
    located
        Whether a two-view location exists.
    reason
        Why not (empty when located): the reader's reason from the written report, else
        :data:`NOT_LOCATED`.
    flags
        Assumptions and problems behind the values, one line each.
    to_chest_wall
        How far in front of the chest wall the lesion lies (``"4.6 cm"``,
        :func:`to_chest_wall_text`); ``""`` when unknown. Not a table cell: the
        surgeon's page prints it.
    marker
        ``"§"`` (``"§§"``, …) when the finding started as an automatic suggestion the
        reader accepted; ``""`` for a finding the reader drew. Printed after the id
        (:attr:`label`).
    suggested
        Its footnote (``"§ started as an automatic suggestion (…) and was accepted by
        …"``), ``""`` for none.
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
    to_chest_wall: str = ""
    marker: str = ""
    suggested: str = ""

    @property
    def label(self) -> str:
        """The id as printed: with its suggestion marker (``"FD-1§"``) if any."""
        return self.short_id + self.marker

    def cells(self) -> tuple[str, ...]:
        """Return the texts of the table's columns (:data:`TABLE_COLUMNS`), as printed.

        The finding cell adds the impression (``"Intraluminal filling defect —
        Intraductal papilloma"``); the note of a finding that is not located starts with
        why.
        """
        finding = self.finding_type
        if self.impression:
            finding = f"{finding} — {self.impression}"
        note = self.note if self.located else ". ".join(p for p in (self.reason, self.note) if p)
        return (
            self.label,
            finding,
            self.side,
            self.clock,
            self.quadrant,
            self.distance,
            self.depth,
            self.size,
            note,
        )


@dataclass(frozen=True, slots=True)
class Footnote:
    """A footnote of the findings table: its marker and what it says.

    Attributes
    ----------
    marker
        ``"¹"``, ``"²"`` … (calibrations), ``"*"`` (a size in pixels), ``"†"`` (MLO
        approximation), ``"‡"`` (calibration not known to be exact), ``"§"``, ``"§§"`` …
        (started as an automatic suggestion).
    text
        e.g. ``"Sizes measured at 0.0925 mm per pixel: Imager Pixel Spacing divided by
        the magnification ×1.0815"``.
    """

    marker: str
    text: str


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


_EMPTY_WRITTEN: Final = written_report(ClinicalReport(), None)


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
    written
        The radiologist's written report and the revision's signature (``written.
        signature`` is ``None`` for a draft), as printed.
    footnotes
        The table's footnotes, in marker order.
    duct_paths
        The traced duct from the orifice to each finding on an image with a trace.
    duct_views
        The images with traced ducts, for the surgeon's page.
    """

    header: StudyHeader
    rows: tuple[TableRow, ...]
    marks: tuple[PictogramMark, ...]
    key_images: tuple[KeyImage, ...]
    notes: tuple[str, ...]
    observer: str
    sr_sop_instance_uid: str
    written: WrittenReport = _EMPTY_WRITTEN
    footnotes: tuple[Footnote, ...] = ()
    duct_paths: tuple[DuctPath, ...] = ()
    duct_views: tuple[DuctView, ...] = ()


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


def report_file_name(record: ImageRecord | None) -> str:
    """Return the file name suggested for a study's report PDF.

    ``<Patient ID>_<Study Date>_galactography-report.pdf`` from the study's header,
    with anything but letters, digits, ``-``, ``.`` and ``_`` replaced by ``_`` (a
    Patient ID may hold ``/`` or spaces); ``galactography-report.pdf`` without a study.
    """
    if record is None:
        return "galactography-report.pdf"
    parts = [str(record.patient_id or "").strip(), str(record.study_date or "").strip()]
    stem = "_".join(p for p in parts if p)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._")[:80]
    return f"{stem}_galactography-report.pdf" if stem else "galactography-report.pdf"


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


def cm_text(mm: float) -> str:
    """Return a length in mm as cm with one decimal: ``41.6`` → ``"4.2 cm"``."""
    return f"{mm / 10.0:.1f} cm"


def _short_number(value: float) -> str:
    """One decimal, without a trailing ``.0``: ``8.0`` → ``"8"``, ``6.64`` → ``"6.6"``."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def short_size(finding: Finding) -> tuple[str, MeasurementValue | None]:
    """Return a finding's size as one short number, and the measurement it comes from.

    The size is that of :func:`~galactoview.location.describe.describe_size` (the first
    region's main measurement); an ellipse's long axis is printed with its short axis
    (``"14.3 × 4.8 mm"``) when they differ. The calibration is left to a footnote
    (:func:`calibration_note`).

    Parameters
    ----------
    finding
        The finding.

    Returns
    -------
    tuple of str and MeasurementValue or None
        ``("6.6 mm", long axis)``, ``("12 mm²", area)``, ``("uncalibrated", None)`` for a
        measurable region without a value, ``("—", None)`` when nothing is measurable.
    """
    described = describe_size(finding)
    main = described.measurement
    if main is None:
        return described.text or "—", None
    unit = unit_text(main.unit)
    number = _short_number(main.value)
    if main.name == codes.LONG_AXIS:
        short = next(
            (
                m
                for m in finding.measurements
                if m.region_index == main.region_index
                and m.name == codes.SHORT_AXIS
                and str(m.unit.value) == str(main.unit.value)
            ),
            None,
        )
        if short is not None and _short_number(short.value) != number:
            return f"{number} × {_short_number(short.value)} {unit}".rstrip(), main
    return f"{number} {unit}".rstrip(), main


def calibration_note(source: str) -> str:
    """Return the footnote of the calibration a size was measured with.

    Parameters
    ----------
    source
        The measurement's calibration as stored
        (:meth:`galactoview.dicom.calibration.Calibration.short_label`), e.g.
        ``"0.0925 mm (mag-corrected ×1.0815)"``.

    Returns
    -------
    str
        ``"Sizes measured at 0.0925 mm per pixel: Imager Pixel Spacing divided by the
        magnification ×1.0815 (PS3.3 C.8.11.4)"``; ``"0.1 mm (detector)"`` says the
        magnification is not corrected (the lesion is smaller than measured).
    """
    spacing, _, rest = source.partition(" (")
    kind = rest.rstrip(")")
    if not rest or not spacing.endswith(" mm"):
        return f"Sizes measured with the calibration {source}"
    if kind.startswith("mag-corrected"):
        factor = kind.removeprefix("mag-corrected").strip()
        meaning = f"Imager Pixel Spacing divided by the magnification {factor} (PS3.3 C.8.11.4)"
    elif kind == "detector":
        meaning = (
            "Imager Pixel Spacing of the detector; magnification not corrected, the "
            "lesion is smaller than measured"
        )
    elif kind == "calibrated":
        meaning = "Pixel Spacing calibrated by geometry or a fiducial (PS3.3 10.7.1.2)"
    elif kind == "pixel spacing":
        meaning = "Pixel Spacing as written by the modality; what it refers to is not stated"
    else:
        meaning = kind
    return f"Sizes measured at {spacing} per pixel: {meaning}"


class _Footnotes:
    """The footnotes of one study's table, markers given in the order met."""

    def __init__(self) -> None:
        self._notes: dict[str, Footnote] = {}

    def marker(self, key: str, marker: str, text: str) -> str:
        note = self._notes.setdefault(key, Footnote(marker, text))
        return note.marker

    def calibration(self, source: str) -> str:
        taken = sum(1 for n in self._notes.values() if n.marker in _CALIBRATION_MARKERS)
        marker = _CALIBRATION_MARKERS[taken] if taken < len(_CALIBRATION_MARKERS) else "⁺"
        return self.marker(f"calibration {source}", marker, calibration_note(source))

    def suggestion(self, algorithm: AlgorithmIdentification, reader: str) -> str:
        """Return the marker of marks an algorithm suggested and ``reader`` accepted."""
        taken = sum(1 for n in self._notes.values() if n.marker.startswith(_SUGGESTED_MARKER))
        text = (
            f"started as an automatic suggestion ({algorithm.describe()}) and was accepted "
            f"by {reader}"
        )
        return self.marker(f"suggestion {text}", _SUGGESTED_MARKER * (taken + 1), text)

    def note(self, marker: str) -> str:
        """Return the footnote of a marker as printed (``"§ started as …"``)."""
        return next(f"{n.marker} {n.text}" for n in self._notes.values() if n.marker == marker)

    def notes(self) -> tuple[Footnote, ...]:
        order = {m: i for i, m in enumerate(_CALIBRATION_MARKERS + "⁺" + _PIXELS_MARKER)}
        order |= {_MLO_MARKER: 100, _INEXACT_MARKER: 101}

        def rank(note: Footnote) -> int:
            if note.marker.startswith(_SUGGESTED_MARKER):
                return 101 + len(note.marker)
            return order.get(note.marker, 200)

        return tuple(sorted(self._notes.values(), key=rank))


def _size_cell(finding: Finding, footnotes: _Footnotes) -> str:
    text, measurement = short_size(finding)
    if measurement is None:
        return text
    if str(measurement.unit.value) not in {"mm", "mm2"}:
        unit = unit_text(measurement.unit)
        return text + footnotes.marker(
            "pixels", _PIXELS_MARKER, f"Size in {unit}: not calibrated, not in mm"
        )
    return text + footnotes.calibration(measurement.calibration_source)


def _location_cells(
    breast: BreastLocation, inexact: bool, footnotes: _Footnotes
) -> tuple[str, str]:
    """Return the distance and depth cells of a located finding (see the module)."""
    marks = ""
    if breast.oblique_approximated:
        marks += footnotes.marker("mlo", _MLO_MARKER, _MLO_TEXT)
    if inexact and breast.in_mm:
        marks += footnotes.marker("inexact", _INEXACT_MARKER, _INEXACT_TEXT)
    third = f"{breast.depth.value} third" if breast.depth is not None else "third unknown"
    if breast.distance_mm is None or not breast.in_mm:
        distance = _UNCALIBRATED_CELL
        depth = (
            f"{third} (cm unknown: uncalibrated)"
            if breast.depth is not None
            else _UNCALIBRATED_CELL
        )
        return distance, depth
    depth_mm = max(0.0, breast.posterior)
    return cm_text(breast.distance_mm) + marks, f"{cm_text(depth_mm)}{marks}, {third}"


def to_chest_wall_text(breast: BreastLocation) -> str:
    """Return how far in front of the chest wall a lesion lies, ``""`` when unknown.

    The nipple–chest wall distance is the depth behind the nipple divided by the depth
    fraction (both the mean of the two views, so it is their mean distance, about); the
    lesion lies that distance less its depth in front of the chest wall, e.g.
    ``"4.6 cm"``. Unknown without a calibration, a chest-wall reference, or for a lesion
    at the nipple.
    """
    fraction = breast.depth_fraction
    if not breast.in_mm or fraction is None or fraction <= 0 or breast.posterior <= 0:
        return ""
    return cm_text(max(0.0, breast.posterior / fraction - breast.posterior))


def _reader(person: str) -> str:
    """Return who accepted a suggestion, as printed: a formatted name, else "the reader"."""
    return format_person_name(person) if person else "the reader"


def _row(
    finding: Finding,
    location: FindingLocation | None,
    records: Mapping[str, ImageRecord],
    report: ClinicalReport,
    footnotes: _Footnotes,
    observer: str = "",
) -> TableRow:
    """Return a finding's row: see the module; "—" for none.

    ``observer`` is the SR's reader, who accepted a suggested finding that names no
    observer of its own.
    """
    marker = suggested = ""
    if finding.algorithm is not None:
        marker = footnotes.suggestion(finding.algorithm, _reader(finding.observer or observer))
        suggested = footnotes.note(marker)
    calibrations = {uid: record.calibration for uid, record in records.items()}
    described = describe_finding(finding, location, calibrations)
    where = described.location
    size = _size_cell(finding, footnotes)
    impression = "" if finding.impression is None else codes.impression_text(finding.impression)
    covered = {_MLO_TEXT, _INEXACT_TEXT}
    breast = None if location is None else location.breast
    if not where.located or breast is None:
        reason = report.reason_not_located(finding.tracking_uid).strip()
        return TableRow(
            described.label,
            described.type_text,
            where.side,
            "not located",
            "—",
            "—",
            "—",
            size,
            impression,
            finding.note,
            False,
            # The reader's reason, else exactly what the marks lack ("needs a CC region").
            f"Not located: {reason}" if reason else (where.text[:1].upper() + where.text[1:]),
            tuple(f"{finding.short_id}: {p}" for p in (*where.problems, *described.size.flags)),
            marker=marker,
            suggested=suggested,
        )
    inexact = any(flag == _INEXACT_TEXT for flag in where.flags)
    distance, depth = _location_cells(breast, inexact, footnotes)
    return TableRow(
        described.label,
        described.type_text,
        where.side,
        where.clock,
        where.quadrant,
        depth,
        distance,
        size,
        impression,
        finding.note,
        True,
        "",
        tuple(f"{finding.short_id}: {f}" for f in described.flags if f not in covered),
        to_chest_wall_text(breast),
        marker,
        suggested,
    )


def _marked_paths(
    paths: Iterable[DuctPath],
    annotations: AnnotationSet,
    footnotes: _Footnotes,
    observer: str,
) -> tuple[DuctPath, ...]:
    """Return the duct paths with the suggestion marker of each accepted suggested segment.

    Only segments on a listed path get a marker (and their footnote): the report lists
    traced ducts nowhere else. Segments have no observer: the SR's reader accepted them.
    """
    algorithms = {s.short_id: s.algorithm for s in annotations.duct_segments}
    result = []
    for path in paths:
        markers = tuple(
            ""
            if (algorithm := algorithms.get(short_id)) is None
            else footnotes.suggestion(algorithm, _reader(observer))
            for short_id in path.segments
        )
        result.append(replace(path, markers=markers) if any(markers) else path)
    return tuple(result)


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
    signature: Signature | None = None,
) -> StudyReport:
    """Build the report section of one study.

    Parameters
    ----------
    document
        The study's document state: annotations (one SR revision), chest-wall lines
        (pectoral lines of oblique views) and the written report; annotations alone
        have no chest-wall line and an empty report.
    records
        The loaded images (the study's and any other; only the study's are used for
        the header).
    signature
        The Verifying Observer of the SR revision the document is (PS3.3 C.17.2);
        ``None``: not signed, the report is a draft.

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
    report = document.report if isinstance(document, StudySnapshot) else ClinicalReport()
    study = [r for r in records if r.study_instance_uid == annotations.study_instance_uid]
    if not study:
        raise ValueError(f"no image of study {annotations.study_instance_uid} is loaded")
    by_uid = {r.sop_instance_uid: r for r in records}
    locations = locate_document(document, records)
    rows: list[TableRow] = []
    marks: list[PictogramMark] = []
    notes: list[str] = []
    footnotes = _Footnotes()
    for finding in annotations.findings:
        location = locations.get(finding.tracking_uid)
        row = _row(finding, location, by_uid, report, footnotes, annotations.observer)
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
    labels = {uid: _view_label(record, uid) for uid, record in by_uid.items()}
    paths = _marked_paths(
        duct_paths(annotations, by_uid, labels), annotations, footnotes, annotations.observer
    )
    return StudyReport(
        _header(study[0]),
        tuple(rows),
        tuple(marks),
        _key_images(annotations, by_uid),
        tuple(notes),
        reader,
        annotations.sop_instance_uid or "unsaved (no SR revision)",
        written_report(report, signature),
        footnotes.notes(),
        paths,
        duct_views(annotations, labels),
    )


def build_report(
    records: Sequence[ImageRecord],
    documents: Iterable[StudySnapshot | AnnotationSet],
    report_date: dt.date,
    problems: list[str] | None = None,
    signatures: Mapping[str, Signature | None] | None = None,
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
    signatures
        The signature of each study's SR revision by Study Instance UID (PS3.3 C.17.2);
        a study absent or ``None`` is a draft.

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
        signature = (signatures or {}).get(study.study_instance_uid)
        if problems is None:
            studies.append(build_study_report(document, records, signature))
            continue
        try:
            studies.append(build_study_report(document, records, signature))
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
    findings are marked on that has none (those images are decoded). Its written report
    and signature are those of the same SR revision (the sidecar's, else the SR beside
    the images: :func:`galactoview.sr.beside.study_marks`).

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
    signatures: dict[str, Signature | None] = {}
    for study_uid, members in by_study.items():
        image_paths = [record.path for record in members]
        try:
            marks = study_marks(study_uid, members, result.reports)
        except Exception as error:  # e.g. ValueError: the UID cannot name a sidecar
            problems.extend(_unusable_study(study_uid, image_paths, error))
            continue
        problems.extend(marks.problems)
        signatures[study_uid] = marks.signature
        documents.append(
            _study_document(marks.annotations, marks.chest_walls, members, problems, marks.report)
        )
    content = build_report(result.images, documents, report_date, problems, signatures)
    return LoadedReport(content, tuple(result.images), tuple(problems))


def _study_document(
    annotations: AnnotationSet,
    stored: Mapping[str, ChestWallLine],
    members: Sequence[ImageRecord],
    problems: list[str],
    report: ClinicalReport | None = None,
) -> StudySnapshot:
    """Return a study's document as the window has it: the SR's lines, else suggested ones.

    The oblique images the findings are marked on, without a line of the reader's, get
    the pectoral line the window suggests from their pixels
    (:func:`galactoview.location.chest_wall.study_chest_walls`), so the report and the
    window locate the findings alike.
    """
    if not annotations.findings:
        return StudySnapshot.of(annotations, stored, report=report)
    marked = {region.sop_instance_uid for f in annotations.findings for region in f.regions}
    walls = study_chest_walls(members, stored, wanted=marked, problems=problems)
    suggested = {uid: line for uid, line in walls.items() if uid not in stored}
    return StudySnapshot.of(annotations, stored, suggested, report)


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
