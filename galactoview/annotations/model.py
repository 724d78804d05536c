"""Immutable model of a galactography reading: findings, duct trees, nipple landmarks (Qt-free).

Every object validates itself in its constructor (an ELLIPSE has four points, a
duct tree has no cycle), so an invalid annotation never exists. Updates are pure:
:class:`AnnotationSet` methods return new objects.

Geometry is in SCOORD pixel coordinates (PS3.3 C.18.6.1.2): (column, row) pairs,
origin (0.0, 0.0) at the top-left corner of the top-left pixel; the centre of
the stored pixel ``a[r, c]`` is ``(c + 0.5, r + 0.5)``. Graphic Data is FL
(float32) in DICOM, so coordinates are rounded to float32 on construction: a
region read back from an SR equals the one written.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Final, Self, TypeVar

import numpy as np
from pydicom.sr.coding import Code
from pydicom.uid import generate_uid

from galactoview.annotations import codes
from galactoview.dicom.mammography import Laterality

__all__ = [
    "AlgorithmIdentification",
    "AnnotationSet",
    "ChestWallLine",
    "DuctSegment",
    "Finding",
    "FindingType",
    "ForeignFinding",
    "GraphicType",
    "ImageRegion",
    "Laterality",
    "MeasurementValue",
    "NippleLandmark",
    "children",
    "descendants",
    "is_valid_uid",
    "next_segment_id",
    "next_short_id",
    "roots",
    "validate_duct_tree",
]


class GraphicType(StrEnum):
    """Graphic Type (0070,0023) of a region (PS3.3 C.18.6.1.2; MULTIPOINT is no region)."""

    POINT = "POINT"
    CIRCLE = "CIRCLE"
    ELLIPSE = "ELLIPSE"
    POLYLINE = "POLYLINE"


class FindingType(StrEnum):
    """Type of a ductography finding (PS3.16 CID 6057), values are the code meanings."""

    INTRALUMINAL_FILLING_DEFECT = "Intraluminal filling defect"
    MULTIPLE_FILLING_DEFECTS = "Multiple filling defect"
    ABRUPT_DUCT_TERMINATION = "Abrupt duct termination"
    EXTRAVASATION = "Extravasation"
    DUCT_NARROWING = "Duct narrowing"
    CYST_FILL = "Cyst fill"
    MAMMARY_DUCT_ECTASIA = "Mammary duct ectasia"
    #: Not in CID 6057: described by :attr:`Finding.other_text`.
    OTHER = "Other finding"

    @property
    def code(self) -> Code:
        """Return the coded concept of this finding type."""
        return _FINDING_CODES[self]

    @property
    def prefix(self) -> str:
        """Return the prefix of the short ids of this type (``"FD"`` for FD-1)."""
        return _PREFIXES[self]

    @classmethod
    def from_code(cls, code: Code) -> FindingType | None:
        """Return the finding type of a code, ``None`` when the code is not one of ours.

        Parameters
        ----------
        code
            A coded concept; legacy SRT codes compare equal to their SCT twins.

        Returns
        -------
        FindingType or None
            The matching member.
        """
        for member, member_code in _FINDING_CODES.items():
            if member_code == code:
                return member
        return None


_FINDING_CODES: Final[dict[FindingType, Code]] = {
    FindingType.INTRALUMINAL_FILLING_DEFECT: codes.INTRALUMINAL_FILLING_DEFECT,
    FindingType.MULTIPLE_FILLING_DEFECTS: codes.MULTIPLE_FILLING_DEFECTS,
    FindingType.ABRUPT_DUCT_TERMINATION: codes.ABRUPT_DUCT_TERMINATION,
    FindingType.EXTRAVASATION: codes.EXTRAVASATION,
    FindingType.DUCT_NARROWING: codes.DUCT_NARROWING,
    FindingType.CYST_FILL: codes.CYST_FILL,
    FindingType.MAMMARY_DUCT_ECTASIA: codes.MAMMARY_DUCT_ECTASIA,
    FindingType.OTHER: codes.OTHER_FINDING,
}
_PREFIXES: Final[dict[FindingType, str]] = {
    FindingType.INTRALUMINAL_FILLING_DEFECT: "FD",
    FindingType.MULTIPLE_FILLING_DEFECTS: "MFD",
    FindingType.ABRUPT_DUCT_TERMINATION: "ADT",
    FindingType.EXTRAVASATION: "EX",
    FindingType.DUCT_NARROWING: "DN",
    FindingType.CYST_FILL: "CY",
    FindingType.MAMMARY_DUCT_ECTASIA: "DE",
    FindingType.OTHER: "OT",
}
#: Prefix of the short ids of duct segments (DS-1, DS-2, ...).
SEGMENT_PREFIX: Final = "DS"
_POINT_COUNTS: Final = {GraphicType.POINT: 1, GraphicType.CIRCLE: 2, GraphicType.ELLIPSE: 4}


#: A UID (PS3.5 9.1): dot-separated numbers without leading zeros, at most 64 characters.
_UID: Final = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")


def is_valid_uid(value: object) -> bool:
    """Return whether a value is a valid UID (PS3.5 9.1).

    Parameters
    ----------
    value
        Anything.

    Returns
    -------
    bool
        ``True`` for a string of at most 64 characters of dot-separated numbers.
    """
    return isinstance(value, str) and len(value) <= 64 and _UID.match(value) is not None


def _check_uid(value: str, what: str) -> None:
    if not is_valid_uid(value):
        raise ValueError(f"{what} {value!r} is not a valid UID")


def _float32(value: float) -> float:
    """Round to the nearest float32, the precision of Graphic Data (FL).

    A value beyond the float32 range becomes infinite (rejected by the caller's checks)
    without numpy's overflow warning.
    """
    with np.errstate(over="ignore"):
        return float(np.float32(value))


@dataclass(frozen=True, slots=True)
class ImageRegion:
    """A graphic on one image (frame): a TID 1410 Image Region / SCOORD (PS3.3 C.18.6).

    Attributes
    ----------
    sop_instance_uid
        Referenced SOP Instance UID of the image.
    frame
        Referenced Frame Number (1-based) of a multi-frame image, else ``None``.
    graphic_type
        POINT (1 pair), CIRCLE (centre, a perimeter point), ELLIPSE (major axis
        ends, then minor axis ends) or POLYLINE (≥ 2 pairs; closed when the first
        equals the last, PS3.3 C.18.6.1.2).
    points
        (column, row) pairs in SCOORD pixel coordinates, rounded to float32.

    Raises
    ------
    ValueError
        On a wrong number of points, a negative or non-finite coordinate, a
        frame below 1, an invalid UID or a closed polyline with fewer than three
        distinct vertices.
    """

    sop_instance_uid: str
    frame: int | None
    graphic_type: GraphicType
    points: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        _check_uid(self.sop_instance_uid, "Referenced SOP Instance UID")
        object.__setattr__(self, "graphic_type", GraphicType(self.graphic_type))
        if self.frame is not None and (isinstance(self.frame, bool) or self.frame < 1):
            raise ValueError(f"frame numbers start at 1, got {self.frame!r}")
        points = tuple((_float32(float(c)), _float32(float(r))) for c, r in self.points)
        for column, row in points:
            if not (math.isfinite(column) and math.isfinite(row)) or column < 0 or row < 0:
                raise ValueError(f"({column}, {row}) is not a valid pixel coordinate")
        object.__setattr__(self, "points", points)
        expected = _POINT_COUNTS.get(self.graphic_type)
        if expected is not None and len(points) != expected:
            raise ValueError(
                f"a {self.graphic_type} has {expected} point(s), got {len(points)} "
                "(PS3.3 C.18.6.1.2)"
            )
        if self.graphic_type is GraphicType.POLYLINE:
            if len(points) < 2:
                raise ValueError("a POLYLINE has at least 2 points")
            if self.is_closed and len(set(points)) < 3:
                raise ValueError("a closed POLYLINE needs at least 3 distinct vertices")

    @property
    def is_closed(self) -> bool:
        """Return whether this is a closed POLYLINE (first point equals the last)."""
        return (
            self.graphic_type is GraphicType.POLYLINE
            and len(self.points) > 2
            and self.points[0] == self.points[-1]
        )


@dataclass(frozen=True, slots=True)
class MeasurementValue:
    """A measurement of a region in physical units (a TID 300 NUM item).

    Attributes
    ----------
    name
        Concept name, e.g. :data:`~galactoview.annotations.codes.LONG_AXIS`.
    value
        Numeric value, already rounded to a valid DS.
    unit
        UCUM unit code (mm, mm2).
    calibration_source
        Which calibration the value used, as shown to people
        (:meth:`~galactoview.dicom.calibration.Calibration.short_label`).
    region_index
        Index of the measured region in :attr:`Finding.regions`.

    Raises
    ------
    ValueError
        If the value is not finite or the index is negative.
    """

    name: Code
    value: float
    unit: Code
    calibration_source: str
    region_index: int = 0

    def __post_init__(self) -> None:
        if not math.isfinite(self.value):
            raise ValueError(f"measurement value {self.value!r} is not finite")
        if self.region_index < 0:
            raise ValueError("region_index must not be negative")


@dataclass(frozen=True, slots=True)
class AlgorithmIdentification:
    """The algorithm a mark started from: TID 4019 Algorithm Identification (PS3.16).

    A suggestion of :mod:`galactoview.analysis` becomes a finding or a duct segment only
    when a reader accepts it; the accepted mark keeps the algorithm that proposed it
    (written in its measurement group as TID 4019, read back from it), so the SR and the
    report can say which findings started as suggestions.

    Attributes
    ----------
    name
        Algorithm Name (111001, DCM).
    version
        Algorithm Version (111003, DCM).
    parameters
        Algorithm Parameters (111002, DCM), each a short ``name=value`` text.

    Raises
    ------
    ValueError
        If the name or the version is empty.
    """

    name: str
    version: str
    parameters: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", tuple(self.parameters))
        if not self.name.strip() or not self.version.strip():
            raise ValueError("an algorithm needs a name and a version")

    def describe(self) -> str:
        """Return ``"name version"`` for people."""
        return f"{self.name} {self.version}"


def _code_key(code: Code | None) -> tuple[str, str] | None:
    """Return what identifies a code (value, scheme), or None.

    pydicom's ``Code.__eq__`` raises on ``None``, so findings compare these keys.
    """
    return None if code is None else (code.value, code.scheme_designator)


@dataclass(frozen=True, slots=True, eq=False)
class Finding:
    """A coded finding on one or more images (a TID 1410 group per region).

    Attributes
    ----------
    tracking_uid
        Tracking Unique Identifier (112040, DCM): made once, stable forever; the
        same for every region of the finding (the same defect on CC and ML).
    short_id
        Tracking Identifier (112039, DCM) for people: FD-1, CY-2, ...
    finding_type
        The type (CID 6057), or :attr:`FindingType.OTHER` with :attr:`other_text`.
    other_text
        Description of an OTHER finding; empty for every other type.
    laterality
        The breast.
    regions
        One or more image regions.
    measurements
        Measurements, each naming its region by index.
    impression
        Differential Diagnosis/Impression (111023, DCM), e.g. intraductal papilloma.
    note
        Free-text comment.
    observer
        Person who marked it (DICOM PN, ``Family^Given``), may be empty.
    algorithm
        The algorithm whose suggestion the reader accepted as this finding
        (TID 4019); ``None`` for a finding the reader drew.

    Raises
    ------
    ValueError
        On an invalid UID, empty short id, no region, a measurement of a missing
        region, or other text on a non-OTHER finding (or none on an OTHER one).
    """

    tracking_uid: str
    short_id: str
    finding_type: FindingType
    other_text: str
    laterality: Laterality
    regions: tuple[ImageRegion, ...]
    measurements: tuple[MeasurementValue, ...] = ()
    impression: Code | None = None
    note: str = ""
    observer: str = ""
    algorithm: AlgorithmIdentification | None = None

    def __post_init__(self) -> None:
        _check_uid(self.tracking_uid, "Tracking UID")
        object.__setattr__(self, "finding_type", FindingType(self.finding_type))
        object.__setattr__(self, "laterality", Laterality(self.laterality))
        object.__setattr__(self, "regions", tuple(self.regions))
        object.__setattr__(self, "measurements", tuple(self.measurements))
        if not self.short_id.strip():
            raise ValueError("a finding needs a short id")
        if not self.regions:
            raise ValueError("a finding needs at least one image region")
        if (self.finding_type is FindingType.OTHER) != bool(self.other_text.strip()):
            raise ValueError("other_text is required for OTHER findings and only for them")
        for measurement in self.measurements:
            if measurement.region_index >= len(self.regions):
                raise ValueError(f"measurement of missing region {measurement.region_index}")

    def _key(self) -> tuple[object, ...]:
        return (
            self.tracking_uid,
            self.short_id,
            self.finding_type,
            self.other_text,
            self.laterality,
            self.regions,
            self.measurements,
            _code_key(self.impression),
            self.note,
            self.observer,
            self.algorithm,
        )

    def __eq__(self, other: object) -> bool:
        """Compare every attribute; impressions by code value and scheme (None-safe)."""
        if not isinstance(other, Finding):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @classmethod
    def new(
        cls,
        finding_type: FindingType,
        regions: Sequence[ImageRegion],
        *,
        short_id: str,
        laterality: Laterality = Laterality.UNKNOWN,
        other_text: str = "",
        measurements: Sequence[MeasurementValue] = (),
        impression: Code | None = None,
        note: str = "",
        observer: str = "",
        algorithm: AlgorithmIdentification | None = None,
    ) -> Self:
        """Create a finding with a newly generated tracking UID.

        Parameters
        ----------
        finding_type, regions, short_id, laterality, other_text, measurements, impression, note, observer, algorithm
            As the attributes of the class.

        Returns
        -------
        Finding
            The new finding.
        """  # noqa: E501
        return cls(
            generate_uid(),
            short_id,
            finding_type,
            other_text,
            laterality,
            tuple(regions),
            tuple(measurements),
            impression,
            note,
            observer,
            algorithm,
        )


@dataclass(frozen=True, slots=True)
class DuctSegment:
    """A traced duct segment: an open POLYLINE linked to its parent (a TID 1501 group).

    The segments form trees rooted at the cannulated orifice on the nipple: a root
    segment has no parent.

    Attributes
    ----------
    tracking_uid
        Tracking Unique Identifier, stable forever.
    short_id
        Tracking Identifier for people: DS-1, DS-2, ...
    parent_uid
        Tracking UID of the parent segment, ``None`` for a root.
    region
        The trace: an open POLYLINE.
    laterality
        The breast.
    path_length
        Path length (121211, DCM) in mm, ``None`` when uncalibrated.
    note
        Free-text comment.
    algorithm
        The algorithm whose suggested branch the reader accepted as this segment
        (TID 4019); ``None`` for a segment the reader traced.

    Raises
    ------
    ValueError
        If the region is not an open POLYLINE, a UID is invalid or the segment is
        its own parent.
    """

    tracking_uid: str
    short_id: str
    parent_uid: str | None
    region: ImageRegion
    laterality: Laterality
    path_length: MeasurementValue | None = None
    note: str = ""
    algorithm: AlgorithmIdentification | None = None

    def __post_init__(self) -> None:
        _check_uid(self.tracking_uid, "Tracking UID")
        object.__setattr__(self, "laterality", Laterality(self.laterality))
        if self.parent_uid is not None:
            _check_uid(self.parent_uid, "parent tracking UID")
            if self.parent_uid == self.tracking_uid:
                raise ValueError("a duct segment cannot be its own parent")
        if self.region.graphic_type is not GraphicType.POLYLINE or self.region.is_closed:
            raise ValueError("a duct segment is an open POLYLINE")
        if not self.short_id.strip():
            raise ValueError("a duct segment needs a short id")

    @classmethod
    def new(
        cls,
        region: ImageRegion,
        *,
        short_id: str,
        parent_uid: str | None = None,
        laterality: Laterality = Laterality.UNKNOWN,
        path_length: MeasurementValue | None = None,
        note: str = "",
        algorithm: AlgorithmIdentification | None = None,
    ) -> Self:
        """Create a duct segment with a newly generated tracking UID.

        Parameters
        ----------
        region, short_id, parent_uid, laterality, path_length, note, algorithm
            As the attributes of the class.

        Returns
        -------
        DuctSegment
            The new segment.
        """
        return cls(
            generate_uid(),
            short_id,
            parent_uid,
            region,
            laterality,
            path_length,
            note,
            algorithm,
        )


@dataclass(frozen=True, slots=True)
class NippleLandmark:
    """The nipple position on one image (frame); at most one per image.

    Attributes
    ----------
    sop_instance_uid
        The image.
    frame
        Frame number (1-based) or ``None``.
    point
        (column, row) in SCOORD pixel coordinates, rounded to float32.
    confirmed
        False for a nipple suggested from the pixels
        (:func:`galactoview.location.landmarks.suggest_nipple`) that the reader has not
        accepted yet (drawn differently; the locations resting on it say so; saved with
        a "suggested" qualifier, :mod:`galactoview.sr.sr_codec`). True (the default) for
        one the reader placed, moved or accepted, and for every landmark read from an SR
        without that qualifier.
    """

    sop_instance_uid: str
    frame: int | None
    point: tuple[float, float]
    confirmed: bool = True

    def __post_init__(self) -> None:
        region = self.region  # validates
        object.__setattr__(self, "point", region.points[0])

    @property
    def region(self) -> ImageRegion:
        """Return the landmark as a POINT region."""
        return ImageRegion(self.sop_instance_uid, self.frame, GraphicType.POINT, (self.point,))


@dataclass(frozen=True, slots=True)
class ChestWallLine:
    """A line on the image standing for the chest wall: two (column, row) points.

    For CC and lateral views it is the posterior image edge (the default); for an
    oblique view the anterior border of the pectoral muscle, suggested by
    :func:`galactoview.location.landmarks.suggest_chest_wall` and movable by the
    reader. A value of the study's document (:mod:`galactoview.annotations.document`)
    used to locate findings (:mod:`galactoview.location.frame`); the reader's lines (moved,
    not merely suggested) are stored in the SR (:mod:`galactoview.sr.sr_codec`).
    """

    start: tuple[float, float]
    end: tuple[float, float]

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError("a chest-wall line needs two distinct points")


# ------------------------------------------------------------------ helpers

_SHORT_ID = re.compile(r"^([A-Z]+)-(\d+)$")


def _next_id(prefix: str, taken: Iterable[str]) -> str:
    highest = 0
    for short_id in taken:
        match = _SHORT_ID.match(short_id)
        if match and match.group(1) == prefix:
            highest = max(highest, int(match.group(2)))
    return f"{prefix}-{highest + 1}"


def next_short_id(findings: Iterable[Finding], finding_type: FindingType) -> str:
    """Return the next free short id for a finding type.

    Parameters
    ----------
    findings
        The existing findings.
    finding_type
        Type of the new finding.

    Returns
    -------
    str
        ``PREFIX-n`` with n one above the highest number in use for the prefix
        (numbers of deleted findings are not reused while higher ones exist).
    """
    return _next_id(finding_type.prefix, (f.short_id for f in findings))


def next_segment_id(segments: Iterable[DuctSegment]) -> str:
    """Return the next free duct segment short id (``DS-n``).

    Parameters
    ----------
    segments
        The existing segments.

    Returns
    -------
    str
        The id.
    """
    return _next_id(SEGMENT_PREFIX, (s.short_id for s in segments))


def roots(segments: Iterable[DuctSegment]) -> tuple[DuctSegment, ...]:
    """Return the root segments (cannulated orifices), in order.

    Parameters
    ----------
    segments
        All segments.

    Returns
    -------
    tuple of DuctSegment
        Segments without parent.
    """
    return tuple(s for s in segments if s.parent_uid is None)


def children(segments: Iterable[DuctSegment], tracking_uid: str) -> tuple[DuctSegment, ...]:
    """Return the direct children of a segment, in order.

    Parameters
    ----------
    segments
        All segments.
    tracking_uid
        The parent's tracking UID.

    Returns
    -------
    tuple of DuctSegment
        Segments whose parent is ``tracking_uid``.
    """
    return tuple(s for s in segments if s.parent_uid == tracking_uid)


def descendants(segments: Sequence[DuctSegment], tracking_uid: str) -> tuple[DuctSegment, ...]:
    """Return all segments below a segment (depth first, in order).

    Parameters
    ----------
    segments
        All segments (a valid tree).
    tracking_uid
        The top segment's tracking UID (not included).

    Returns
    -------
    tuple of DuctSegment
        The subtree without its top.
    """
    result: list[DuctSegment] = []
    for child in children(segments, tracking_uid):
        result.append(child)
        result.extend(descendants(segments, child.tracking_uid))
    return tuple(result)


def validate_duct_tree(segments: Sequence[DuctSegment]) -> None:
    """Check that segments form trees: unique UIDs, existing parents, no cycles.

    Parameters
    ----------
    segments
        All segments.

    Raises
    ------
    ValueError
        Describing the first defect found.
    """
    by_uid: dict[str, DuctSegment] = {}
    for segment in segments:
        if segment.tracking_uid in by_uid:
            raise ValueError(f"duplicate duct segment tracking UID {segment.tracking_uid}")
        by_uid[segment.tracking_uid] = segment
    for segment in segments:
        seen = {segment.tracking_uid}
        parent = segment.parent_uid
        while parent is not None:
            if parent not in by_uid:
                raise ValueError(f"{segment.short_id}: parent {parent} does not exist")
            if parent in seen:
                raise ValueError(f"{segment.short_id}: the duct tree has a cycle")
            seen.add(parent)
            parent = by_uid[parent].parent_uid


@dataclass(frozen=True, slots=True)
class ForeignFinding:
    """A finding read from measurement groups another writer wrote, with those groups.

    What :mod:`galactoview.sr.sr_codec` keeps so that saving loses nothing it does not
    model (issue 13): while the finding equals :attr:`finding`, its groups are written
    back verbatim; once edited, it is written by GalactoView with every item of
    :attr:`groups` it does not model carried along (:mod:`galactoview.sr.foreign`).

    Attributes
    ----------
    finding
        The finding as read (the value an unchanged finding equals).
    groups
        Its measurement groups (TID 1410/1501 content items), in document order, each
        as its DICOM JSON text (PS3.18 Annex F).

    Raises
    ------
    TypeError
        If a group is not a string.
    ValueError
        If there is no group.
    """

    finding: Finding
    groups: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "groups", tuple(self.groups))
        if not self.groups:
            raise ValueError("a foreign finding keeps at least one measurement group")
        if not all(isinstance(group, str) for group in self.groups):
            raise TypeError("foreign measurement groups are kept as DICOM JSON text")

    @property
    def tracking_uid(self) -> str:
        """Return the tracking UID of the finding."""
        return self.finding.tracking_uid


#: A finding or a duct segment: the items an :class:`AnnotationSet` keeps by tracking UID.
_Tracked = TypeVar("_Tracked", Finding, DuctSegment)


def _index(items: Sequence[Finding | DuctSegment], tracking_uid: str) -> int:
    for i, item in enumerate(items):
        if item.tracking_uid == tracking_uid:
            return i
    raise KeyError(tracking_uid)


def _replaced(items: tuple[_Tracked, ...], item: _Tracked) -> tuple[_Tracked, ...]:
    """Return ``items`` with the one of ``item``'s tracking UID replaced in place (``KeyError``)."""
    result = list(items)
    result[_index(items, item.tracking_uid)] = item
    return tuple(result)


def _without(items: tuple[_Tracked, ...], tracking_uids: set[str]) -> tuple[_Tracked, ...]:
    """Return ``items`` without those of some tracking UIDs, each of which must be present.

    Raises
    ------
    KeyError
        When one of ``tracking_uids`` is not among ``items``.
    """
    missing = tracking_uids - {item.tracking_uid for item in items}
    if missing:
        raise KeyError(min(missing))
    return tuple(item for item in items if item.tracking_uid not in tracking_uids)


@dataclass(frozen=True, slots=True)
class AnnotationSet:
    """All annotations of one study: one revision of the TID 1500 measurement report.

    Attributes
    ----------
    study_instance_uid
        The annotated study.
    findings
        Coded findings, in display order.
    duct_segments
        Duct segments forming trees.
    landmarks
        Nipple landmarks, at most one per image (frame).
    sop_instance_uid
        SOP Instance UID of the SR this revision was read from, ``None`` if never saved.
    previous_revision_uid
        SOP Instance UID of the revision this one replaced (Predecessor Documents
        Sequence), ``None`` for the first.
    observer
        Person observer of the report (DICOM PN), may be empty.
    observer_organization
        The person observer's organisation (TID 1003 "Person Observer's Organization
        Name"), may be empty.
    series_instance_uid
        Series of the SR revisions, ``None`` if never saved.
    unreadable_groups
        Measurement groups (TID 1410/1501 content items) of the SR that could not be
        read, each as its DICOM JSON text (PS3.18 Annex F), kept verbatim so that saving
        writes them back unchanged instead of dropping them.
    foreign_findings
        The findings read from groups another writer wrote, with those groups
        (:class:`ForeignFinding`), at most one per tracking UID; a record whose
        finding was deleted is ignored.

    Raises
    ------
    ValueError
        On duplicate tracking UIDs or short ids, two landmarks on one image, an
        invalid duct tree or an invalid UID.
    """

    study_instance_uid: str
    findings: tuple[Finding, ...] = ()
    duct_segments: tuple[DuctSegment, ...] = ()
    landmarks: tuple[NippleLandmark, ...] = ()
    sop_instance_uid: str | None = None
    previous_revision_uid: str | None = None
    observer: str = ""
    series_instance_uid: str | None = field(default=None)
    unreadable_groups: tuple[str, ...] = ()
    foreign_findings: tuple[ForeignFinding, ...] = ()
    observer_organization: str = ""

    def __post_init__(self) -> None:
        _check_uid(self.study_instance_uid, "Study Instance UID")
        object.__setattr__(self, "foreign_findings", tuple(self.foreign_findings))
        foreign = [record.tracking_uid for record in self.foreign_findings]
        if len(set(foreign)) != len(foreign):
            raise ValueError("at most one foreign record per tracking UID")
        object.__setattr__(self, "unreadable_groups", tuple(self.unreadable_groups))
        if not all(isinstance(group, str) for group in self.unreadable_groups):
            raise TypeError("unreadable groups are kept as DICOM JSON text")
        for name in ("sop_instance_uid", "previous_revision_uid", "series_instance_uid"):
            value = getattr(self, name)
            if value is not None:
                _check_uid(value, name)
        object.__setattr__(self, "findings", tuple(self.findings))
        object.__setattr__(self, "duct_segments", tuple(self.duct_segments))
        object.__setattr__(self, "landmarks", tuple(self.landmarks))
        uids = [f.tracking_uid for f in self.findings] + [
            s.tracking_uid for s in self.duct_segments
        ]
        if len(set(uids)) != len(uids):
            raise ValueError("tracking UIDs must be unique")
        short_ids = [f.short_id for f in self.findings] + [s.short_id for s in self.duct_segments]
        if len(set(short_ids)) != len(short_ids):
            raise ValueError("short ids must be unique")
        images = [(m.sop_instance_uid, m.frame) for m in self.landmarks]
        if len(set(images)) != len(images):
            raise ValueError("at most one nipple landmark per image")
        validate_duct_tree(self.duct_segments)

    def foreign(self, tracking_uid: str) -> ForeignFinding | None:
        """Return the foreign record of a finding (:class:`ForeignFinding`), if any.

        Parameters
        ----------
        tracking_uid
            The finding's tracking UID.

        Returns
        -------
        ForeignFinding or None
            The record, ``None`` for a finding GalactoView wrote or made.
        """
        return next((r for r in self.foreign_findings if r.tracking_uid == tracking_uid), None)

    # ---------------------------------------------------------------- findings
    def finding(self, tracking_uid: str) -> Finding:
        """Return the finding with a tracking UID (``KeyError`` if absent).

        Parameters
        ----------
        tracking_uid
            Its tracking UID.

        Returns
        -------
        Finding
            The finding.
        """
        return self.findings[_index(self.findings, tracking_uid)]

    def with_finding(self, finding: Finding) -> AnnotationSet:
        """Return a copy with a finding appended.

        Parameters
        ----------
        finding
            The new finding (its tracking UID and short id must be unused).

        Returns
        -------
        AnnotationSet
            The new set.
        """
        return replace(self, findings=(*self.findings, finding))

    def replace_finding(self, finding: Finding) -> AnnotationSet:
        """Return a copy with the finding of the same tracking UID replaced in place.

        Parameters
        ----------
        finding
            The new version.

        Returns
        -------
        AnnotationSet
            The new set; ``KeyError`` if no finding has that UID.
        """
        return replace(self, findings=_replaced(self.findings, finding))

    def without_finding(self, tracking_uid: str) -> AnnotationSet:
        """Return a copy without a finding.

        Parameters
        ----------
        tracking_uid
            Its tracking UID (``KeyError`` if absent).

        Returns
        -------
        AnnotationSet
            The new set.
        """
        return replace(self, findings=_without(self.findings, {tracking_uid}))

    # ------------------------------------------------------------ duct segments
    def duct_segment(self, tracking_uid: str) -> DuctSegment:
        """Return the duct segment with a tracking UID (``KeyError`` if absent).

        Parameters
        ----------
        tracking_uid
            Its tracking UID.

        Returns
        -------
        DuctSegment
            The segment.
        """
        return self.duct_segments[_index(self.duct_segments, tracking_uid)]

    def with_duct_segment(self, segment: DuctSegment) -> AnnotationSet:
        """Return a copy with a segment appended (its parent must exist).

        Parameters
        ----------
        segment
            The new segment.

        Returns
        -------
        AnnotationSet
            The new set.
        """
        return replace(self, duct_segments=(*self.duct_segments, segment))

    def replace_duct_segment(self, segment: DuctSegment) -> AnnotationSet:
        """Return a copy with the segment of the same tracking UID replaced in place.

        Parameters
        ----------
        segment
            The new version (a new parent must not create a cycle).

        Returns
        -------
        AnnotationSet
            The new set; ``KeyError`` if no segment has that UID.
        """
        return replace(self, duct_segments=_replaced(self.duct_segments, segment))

    def without_duct_segment(self, tracking_uid: str) -> AnnotationSet:
        """Return a copy without a segment and all segments below it.

        Parameters
        ----------
        tracking_uid
            The segment's tracking UID (``KeyError`` if absent).

        Returns
        -------
        AnnotationSet
            The new set.
        """
        below = descendants(self.duct_segments, tracking_uid)
        removed = {tracking_uid, *(s.tracking_uid for s in below)}
        return replace(self, duct_segments=_without(self.duct_segments, removed))

    # ---------------------------------------------------------------- landmarks
    def landmark(self, sop_instance_uid: str, frame: int | None = None) -> NippleLandmark | None:
        """Return the nipple landmark of an image, ``None`` if not set.

        Parameters
        ----------
        sop_instance_uid, frame
            The image (frame).

        Returns
        -------
        NippleLandmark or None
            The landmark.
        """
        for landmark in self.landmarks:
            if (landmark.sop_instance_uid, landmark.frame) == (sop_instance_uid, frame):
                return landmark
        return None

    def with_landmark(self, landmark: NippleLandmark) -> AnnotationSet:
        """Return a copy with a landmark set, replacing the one of the same image.

        Parameters
        ----------
        landmark
            The landmark.

        Returns
        -------
        AnnotationSet
            The new set.
        """
        key = (landmark.sop_instance_uid, landmark.frame)
        landmarks = [m for m in self.landmarks if (m.sop_instance_uid, m.frame) != key]
        if len(landmarks) == len(self.landmarks):
            return replace(self, landmarks=(*self.landmarks, landmark))
        return self.replace_landmark(landmark)

    def replace_landmark(self, landmark: NippleLandmark) -> AnnotationSet:
        """Return a copy with the landmark of the same image replaced in place.

        Parameters
        ----------
        landmark
            The new version.

        Returns
        -------
        AnnotationSet
            The new set; ``KeyError`` if the image has no landmark.
        """
        key = (landmark.sop_instance_uid, landmark.frame)
        for i, old in enumerate(self.landmarks):
            if (old.sop_instance_uid, old.frame) == key:
                landmarks = (*self.landmarks[:i], landmark, *self.landmarks[i + 1 :])
                return replace(self, landmarks=landmarks)
        raise KeyError(key)

    def without_landmark(self, sop_instance_uid: str, frame: int | None = None) -> AnnotationSet:
        """Return a copy without the landmark of an image.

        Parameters
        ----------
        sop_instance_uid, frame
            The image (``KeyError`` if it has no landmark).

        Returns
        -------
        AnnotationSet
            The new set.
        """
        key = (sop_instance_uid, frame)
        landmarks = tuple(m for m in self.landmarks if (m.sop_instance_uid, m.frame) != key)
        if len(landmarks) == len(self.landmarks):
            raise KeyError(key)
        return replace(self, landmarks=landmarks)
