"""One description of a finding, for every place that shows one (Qt-free).

The findings dock, the marks' labels on the images, ``galactoview sr show`` and the
report (its table, the review mode and the PDF) all describe a finding through
:func:`describe_finding`; they differ only in layout. The rules, chosen from the four
that existed before (issue 11):

* **Label**: the short id (``"FD-1"``); a mark's label adds the size of its region
  (:meth:`FindingDescription.mark_label`, ``"FD-1 4.9 mm"``).
* **Type**: the code meaning of the finding type (CID 6057); an OTHER finding adds its
  description after a colon, ``"Other finding: Calcified plug"`` (the rule of
  ``sr show``: it keeps both that the type is not a CID 6057 one and what it is).
* **Size** of a region (the rule of the marks' labels, the only one that covers every
  graphic type): ELLIPSE → long axis, CIRCLE → diameter, closed POLYLINE → area, open
  POLYLINE → path length, POINT → none. A region without that measurement (an SR made
  elsewhere) uses its first length or area (a statistic such as a Mean is no size). The
  **size of a finding** is the size of its first region that has one (regions in order).
  Written ``"Long axis 4.9 mm [0.1 mm (detector)]"``: one decimal, then the calibration
  the value used, always.
* **Uncalibrated** (rule 10: never show a number whose calibration is unknown without
  saying so): a measurable region without any value reads ``"uncalibrated"``; a finding
  of POINT regions only has no size (``""``). A value in another unit than mm or mm²
  (e.g. pixels from an SR made elsewhere) is shown in that unit (``px``) and flagged
  ``"size in px, not calibrated"``. A mark's label shows a number only with its unit,
  and nothing after the short id when there is no value.
* **Location**: the report's columns (side ``"Left"``, ``"7 o'clock"`` or
  ``"subareolar"``, quadrant abbreviation ``"LIQ"``, depth third ``"middle"``, distance
  in whole mm with its caveats ``"58 mm (MLO approx.)"`` or ``"unknown
  (uncalibrated)"``) and one line made of them, ``"Left, 7 o'clock, LIQ, middle third,
  58 mm from the nipple"``; an uncalibrated distance reads ``"distance unknown
  (uncalibrated)"`` and an MLO used as the lateral view adds ``"MLO approx."`` with or
  without a distance. Without a two-view result the line names exactly what is
  missing (:func:`not_located_text`: ``"not located: needs an ML or MLO region"``,
  ``"not located: needs the nipple on the L ML"``), else :data:`NOT_LOCATED`; and
  :attr:`LocationDescription.problems` say why. A location read from an SR
  (:func:`describe_stored_location`: what ``sr show`` lists) follows the same rules;
  parts the SR does not hold are left out.

Values: measurements are TID 300 NUM items (PS3.16); the location concepts are CID
6018 (clock face or region), CID 6020 (quadrant), CID 6024 (depth) and 121242 DCM
(distance from the nipple).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from pydicom.sr.coding import Code

from galactoview.annotations import codes
from galactoview.annotations.model import (
    Finding,
    FindingType,
    GraphicType,
    ImageRegion,
    MeasurementValue,
)
from galactoview.dicom.calibration import Calibration
from galactoview.dicom.mammography import Laterality
from galactoview.location import codes as location_codes
from galactoview.location.localize import BreastLocation, DepthThird, FindingLocation, Quadrant

__all__ = [
    "NOT_LOCATED",
    "UNCALIBRATED",
    "CodedLocation",
    "FindingDescription",
    "LocationDescription",
    "SizeDescription",
    "describe_finding",
    "describe_location",
    "describe_size",
    "describe_stored_location",
    "measurement_text",
    "not_located_text",
    "number_text",
    "type_text",
    "unit_text",
    "value_text",
]

#: The location line of a finding that has no two-view location, when nothing more
#: precise is known (:func:`not_located_text` names what is missing when it can).
NOT_LOCATED: Final = "not located: needs CC and ML (or MLO) marks and the nipple on both"
#: Size of a measurable region (or finding) without any value.
UNCALIBRATED: Final = "uncalibrated"

_UNITS: Final = {"mm": "mm", "mm2": "mm²", "{pixel}": "px", "1": "", "[hnsf'U]": "HU"}
_CALIBRATED_UNITS: Final = frozenset({"mm", "mm2"})
_SIDES: Final = {Laterality.LEFT: "Left", Laterality.RIGHT: "Right"}
_MAIN_MEASUREMENT: Final = {
    GraphicType.ELLIPSE: codes.LONG_AXIS,
    GraphicType.CIRCLE: codes.DIAMETER,
}
#: Stored codes to text; searched with ``==`` (pydicom's ``Code.__eq__`` matches a legacy
#: SRT code to its SCT twin, its hash does not).
_CLOCK_TEXTS: Final = (
    *((code, f"{hour} o'clock") for hour, code in location_codes.CLOCK_HOURS.items()),
    (location_codes.SUBAREOLAR_REGION, "subareolar"),
)
_QUADRANT_TEXTS: Final = tuple((quadrant.code, quadrant.value) for quadrant in Quadrant)
_DEPTH_TEXTS: Final = tuple((depth.code, depth.value) for depth in DepthThird)


# ------------------------------------------------------------------------- numbers


def number_text(value: float, digits: int = 2) -> str:
    """Return a number rounded to ``digits`` decimals without trailing zeros.

    Parameters
    ----------
    value
        The number.
    digits
        Decimals kept.

    Returns
    -------
    str
        ``12.0`` → ``"12"``, ``4.234`` → ``"4.23"``; never ``"-0"``.
    """
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in {"", "-0"} else text


def unit_text(unit: Code) -> str:
    """Return how a UCUM unit is written: ``mm``, ``mm²``, ``px``, ``HU``, or its code.

    The dimensionless ``1`` (e.g. an OHIF ROI's Mean) is written as nothing.
    """
    return _UNITS.get(str(unit.value), str(unit.value))


def value_text(value: MeasurementValue, *, stored: bool = False) -> str:
    """Return a measurement's number and unit, e.g. ``"4.9 mm"``.

    Parameters
    ----------
    value
        The measurement.
    stored
        ``True``: the value as stored (up to 0.01, :func:`number_text`) for listings
        of every measurement; ``False``: one decimal, as a size is shown.

    Returns
    -------
    str
        Number and unit.
    """
    number = number_text(value.value) if stored else f"{value.value:.1f}"
    return f"{number} {unit_text(value.unit)}".rstrip()  # the unit "1" is written as none


def measurement_text(value: MeasurementValue, *, stored: bool = False) -> str:
    """Return a measurement with its name and calibration.

    Parameters
    ----------
    value
        The measurement.
    stored
        As for :func:`value_text`.

    Returns
    -------
    str
        E.g. ``"Long axis 4.9 mm [0.0925 mm (mag-corrected ×1.08)]"``.
    """
    return f"{value.name.meaning} {value_text(value, stored=stored)} [{value.calibration_source}]"


# --------------------------------------------------------------------------- size


@dataclass(frozen=True, slots=True)
class SizeDescription:
    """The size of a region or a finding.

    Attributes
    ----------
    measurement
        The measurement that is the size; ``None`` when there is none.
    value
        Its number and unit (``"4.9 mm"``), ``""`` without one: what a mark's label adds.
    text
        ``"Long axis 4.9 mm [0.1 mm (detector)]"``, ``"uncalibrated"`` for a measurable
        region without values, ``""`` when nothing is measurable (points).
    flags
        Caveats, one line each (``"size in px, not calibrated"``).
    """

    measurement: MeasurementValue | None
    value: str
    text: str
    flags: tuple[str, ...] = ()


_NO_SIZE: Final = SizeDescription(None, "", "")
#: UCUM units of a length or an area: what a region's size may be written in.
_SIZE_UNITS: Final = frozenset({"mm", "mm2", "cm", "cm2", "um", "{pixel}", "{pixels}", "px"})


def _main_measurement(
    region: ImageRegion, values: list[MeasurementValue]
) -> MeasurementValue | None:
    if region.graphic_type in _MAIN_MEASUREMENT:
        wanted = _MAIN_MEASUREMENT[region.graphic_type]
    elif region.graphic_type is GraphicType.POLYLINE:
        wanted = codes.AREA if region.is_closed else codes.PATH_LENGTH
    else:
        wanted = None
    for value in values:
        if wanted is not None and value.name == wanted:
            return value
    # Else the first length or area: a statistic (an OHIF ROI's Mean or Maximum, in the
    # dimensionless UCUM unit "1") is no size.
    return next((v for v in values if str(v.unit.value) in _SIZE_UNITS), None)


def _size_of(measurement: MeasurementValue) -> SizeDescription:
    unit = str(measurement.unit.value)
    flags = (
        ()
        if unit in _CALIBRATED_UNITS
        else (f"size in {unit_text(measurement.unit)}, not calibrated",)
    )
    return SizeDescription(
        measurement, value_text(measurement), measurement_text(measurement), flags
    )


def describe_size(finding: Finding, region_index: int | None = None) -> SizeDescription:
    """Return the size of a finding, or of one of its regions.

    Parameters
    ----------
    finding
        The finding.
    region_index
        A region (index in :attr:`Finding.regions`); ``None``: the finding's size, that
        of its first region that has one.

    Returns
    -------
    SizeDescription
        See the module's rules.
    """
    indices = range(len(finding.regions)) if region_index is None else (region_index,)
    measurable = False
    for index in indices:
        region = finding.regions[index]
        values = [m for m in finding.measurements if m.region_index == index]
        main = _main_measurement(region, values)
        if main is not None:
            return _size_of(main)
        measurable = measurable or region.graphic_type is not GraphicType.POINT
    return SizeDescription(None, "", UNCALIBRATED) if measurable else _NO_SIZE


def type_text(finding: Finding) -> str:
    """Return the type of a finding: ``"Cyst fill"``, ``"Other finding: Calcified plug"``."""
    if finding.finding_type is FindingType.OTHER:
        return f"{finding.finding_type.value}: {finding.other_text}"
    return str(finding.finding_type.value)


# ----------------------------------------------------------------------- location


@dataclass(frozen=True, slots=True)
class LocationDescription:
    """Where a finding lies, as text.

    Attributes
    ----------
    located
        Whether a location exists (a two-view result, or a stored one).
    side
        ``"Left"``, ``"Right"`` or ``"unknown"``.
    clock, quadrant, depth, distance
        ``"7 o'clock"`` or ``"subareolar"``; ``"LIQ"``; ``"middle"`` or ``"unknown"``;
        ``"58 mm"`` with caveats in brackets, or ``"unknown (uncalibrated)"``. ``""``
        when not located (or not stored).
    text
        One line: ``"Left, 7 o'clock, LIQ, middle third, 58 mm from the nipple"``;
        :data:`NOT_LOCATED` without a location; ``""`` when none was asked for.
    flags
        Assumptions behind the values, one line each.
    problems
        Why there is no location (or parts of it are missing).
    """

    located: bool
    side: str
    clock: str = ""
    quadrant: str = ""
    depth: str = ""
    distance: str = ""
    text: str = ""
    flags: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


class CodedLocation(Protocol):
    """A location as an SR stores it (e.g. :class:`galactoview.sr.sr_codec.StoredLocation`)."""

    @property
    def clock_or_region(self) -> Code | None:
        """CID 6018 value, or ``None``."""

    @property
    def quadrant(self) -> Code | None:
        """CID 6020 value, or ``None``."""

    @property
    def depth(self) -> Code | None:
        """CID 6024 value, or ``None``."""

    @property
    def distance_from_nipple_mm(self) -> float | None:
        """121242 DCM in mm, or ``None``."""

    @property
    def oblique_approximated(self) -> bool:
        """Whether the superior offset came from an oblique view."""


def _side(laterality: Laterality) -> str:
    return _SIDES.get(laterality, "unknown")


def _line(side: str, clock: str, quadrant: str, depth: str, distance: _Distance) -> str:
    """Join the parts present into the location line."""
    parts = [side if side != "unknown" else "side unknown", clock, quadrant]
    if depth:
        parts.append("depth unknown" if depth == "unknown" else f"{depth} third")
    parts.append(distance.line)
    return ", ".join(part for part in parts if part)


@dataclass(frozen=True, slots=True)
class _Distance:
    """The distance column, its part of the line and the caveats of the location."""

    column: str
    line: str
    flags: tuple[str, ...]


_MLO_FLAG: Final = "MLO used as lateral view: superior–inferior offset approximated"
_MLO_MARK: Final = "MLO approx."


def _distance(
    distance_mm: float | None, oblique: bool, inexact: bool, *, stored: bool = False
) -> _Distance:
    """Return the distance texts; the MLO caveat is flagged with or without a distance.

    Without a distance a computed location is uncalibrated; a stored one just holds none.
    """
    if distance_mm is None:
        column, line = "", ""
        flags: tuple[str, ...] = ()
        if not stored:
            column, line = "unknown (uncalibrated)", "distance unknown (uncalibrated)"
            flags = ("uncalibrated: no distance in mm",)
        if oblique:
            line = ", ".join(part for part in (line, _MLO_MARK) if part)
            flags = (*flags, _MLO_FLAG)
        return _Distance(column, line, flags)
    marks: list[str] = []
    caveats: list[str] = []
    if inexact:
        marks.append("calibration not exact")
        caveats.append("calibration of the images is not known to be exact")
    if oblique:
        marks.append(_MLO_MARK)
        caveats.append(_MLO_FLAG)
    brackets = f" ({', '.join(marks)})" if marks else ""
    mm = f"{distance_mm:.0f} mm"
    return _Distance(mm + brackets, f"{mm} from the nipple{brackets}", tuple(caveats))


def _inexact(breast: BreastLocation, calibrations: Mapping[str, Calibration | None] | None) -> bool:
    """Return whether an image the location used has no known calibration."""
    if calibrations is None:
        return False
    used = [uid for uid in breast.source_sop_instance_uids if uid in calibrations]
    return any(
        (calibration := calibrations[uid]) is None or not calibration.is_known for uid in used
    )


def not_located_text(location: FindingLocation) -> str:
    """Return the location line of a finding without a two-view location.

    Parameters
    ----------
    location
        Its computed location (:attr:`FindingLocation.missing` says what is missing).

    Returns
    -------
    str
        ``"not located: needs an ML or MLO region"``, ``"not located: needs a CC region
        and the nipple on the L ML"``…; the first problem when nothing marking could fix
        is missing (e.g. an image whose orientation cannot be read); else
        :data:`NOT_LOCATED`.
    """
    missing = location.missing
    if missing:
        items = ", ".join(missing[:-1])
        joined = f"{items} and {missing[-1]}" if items else missing[-1]
        return f"not located: needs {joined}"
    if location.problems:
        return f"not located: {location.problems[0]}"
    return NOT_LOCATED


def describe_location(
    location: FindingLocation | None,
    laterality: Laterality = Laterality.UNKNOWN,
    calibrations: Mapping[str, Calibration | None] | None = None,
) -> LocationDescription:
    """Return the description of a computed location.

    Parameters
    ----------
    location
        From :func:`galactoview.location.study.locate_study`; ``None``: none was
        computed (the text is then empty).
    laterality
        The finding's laterality, the side when there is no two-view result.
    calibrations
        Calibrations of the images by SOP Instance UID; when given, a distance from an
        image without a known calibration is marked "calibration not exact".

    Returns
    -------
    LocationDescription
        The columns, the line, the flags and the problems.
    """
    if location is None:
        return LocationDescription(False, _side(laterality))
    breast = location.breast
    if breast is None:
        return LocationDescription(
            False, _side(laterality), text=not_located_text(location), problems=location.problems
        )
    side = _SIDES.get(breast.laterality, _side(laterality))
    clock = "subareolar" if breast.subareolar else f"{breast.clock_hour} o'clock"
    depth = breast.depth.value if breast.depth is not None else "unknown"
    distance = _distance(
        breast.distance_mm, breast.oblique_approximated, _inexact(breast, calibrations)
    )
    quadrant = breast.quadrant.value
    return LocationDescription(
        True,
        side,
        clock,
        quadrant,
        depth,
        distance.column,
        _line(side, clock, quadrant, depth, distance),
        (*distance.flags, *breast.notes),
        location.problems,
    )


def _code_text(code: Code | None, texts: tuple[tuple[Code, str], ...]) -> str:
    """Return the text of a stored code: ours from the table, another's meaning, ``""``."""
    if code is None:
        return ""
    return next((text for known, text in texts if known == code), str(code.meaning))


def describe_stored_location(
    stored: CodedLocation, laterality: Laterality = Laterality.UNKNOWN
) -> LocationDescription:
    """Return the description of a location read from an SR.

    Parameters
    ----------
    stored
        Its coded values (CID 6018, 6020, 6024) and distance (121242 DCM).
    laterality
        The finding's laterality (an SR stores the side on the finding).

    Returns
    -------
    LocationDescription
        As :func:`describe_location`; parts the SR does not hold are ``""`` and left
        out of the line (``"stored without values"`` when it holds none).
    """
    clock = _code_text(stored.clock_or_region, _CLOCK_TEXTS)
    quadrant = _code_text(stored.quadrant, _QUADRANT_TEXTS)
    depth = _code_text(stored.depth, _DEPTH_TEXTS)
    distance = _distance(
        stored.distance_from_nipple_mm, stored.oblique_approximated, False, stored=True
    )
    side = _side(laterality)
    text = (
        _line(side, clock, quadrant, depth, distance)
        if clock or quadrant or depth or distance.line
        else "stored without values"
    )
    return LocationDescription(
        True, side, clock, quadrant, depth, distance.column, text, distance.flags
    )


# ------------------------------------------------------------------------ finding


@dataclass(frozen=True, slots=True)
class FindingDescription:
    """Everything shown of a finding, as text.

    Attributes
    ----------
    label
        The short id, e.g. ``"FD-1"``.
    type_text
        :func:`type_text`.
    size
        The finding's size (:func:`describe_size`).
    region_sizes
        The size of each region, in region order.
    location
        Where it lies (:func:`describe_location`).
    """

    label: str
    type_text: str
    size: SizeDescription
    region_sizes: tuple[SizeDescription, ...]
    location: LocationDescription

    def mark_label(self, region_index: int) -> str:
        """Return the label of a region's mark: ``"FD-1 4.9 mm"``, or ``"FD-1"`` without a value.

        Parameters
        ----------
        region_index
            The region.

        Returns
        -------
        str
            Short id and the region's size.
        """
        value = self.region_sizes[region_index].value
        return f"{self.label} {value}" if value else self.label

    @property
    def flags(self) -> tuple[str, ...]:
        """Return the caveats of the location and the size, one line each."""
        return (*self.location.flags, *self.size.flags)


def describe_finding(
    finding: Finding,
    location: FindingLocation | None = None,
    calibrations: Mapping[str, Calibration | None] | None = None,
) -> FindingDescription:
    """Describe a finding.

    Parameters
    ----------
    finding
        The finding.
    location
        Its location (:func:`galactoview.location.study.locate_study`); ``None`` when
        not computed.
    calibrations
        Calibrations of the images by SOP Instance UID (:func:`describe_location`).

    Returns
    -------
    FindingDescription
        Label, type, sizes and location as text.
    """
    return FindingDescription(
        finding.short_id,
        type_text(finding),
        describe_size(finding),
        tuple(describe_size(finding, index) for index in range(len(finding.regions))),
        describe_location(location, finding.laterality, calibrations),
    )
