"""Measurements of annotation regions in mm (Qt-free).

Regions are in SCOORD pixel coordinates (column, row; PS3.3 C.18.6.1.2). A
:class:`~galactoview.dicom.calibration.Calibration` gives mm per column and per
row, which may differ (anisotropic spacing): lengths are measured in mm after
scaling each displacement, areas are pixel areas × column spacing × row spacing
(exact for any affine scaling).

With an unknown calibration no mm value exists: the functions return ``None``
(or no measurements) and the caller says "uncalibrated".

Values are rounded so that they are valid, short Decimal Strings (DS, PS3.5 6.2):
lengths to 0.01 mm, areas to 0.1 mm².
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

from pydicom.sr.coding import Code

from galactoview.annotations import codes
from galactoview.annotations.model import GraphicType, ImageRegion, MeasurementValue
from galactoview.dicom.calibration import Calibration

__all__ = [
    "area_mm2",
    "ellipse_axes_mm",
    "measure_region",
    "path_length_measurement",
    "path_length_mm",
]

#: Decimal places of lengths in mm and of areas in mm².
LENGTH_DIGITS: Final = 2
AREA_DIGITS: Final = 1


def _spacings(calibration: Calibration | None) -> tuple[float, float] | None:
    """Return (column spacing, row spacing) in mm, ``None`` when unknown."""
    if calibration is None or not calibration.is_known:
        return None
    if calibration.column_spacing_mm is None or calibration.row_spacing_mm is None:
        return None
    return calibration.column_spacing_mm, calibration.row_spacing_mm


def _length(a: tuple[float, float], b: tuple[float, float], spacing: tuple[float, float]) -> float:
    return math.hypot((b[0] - a[0]) * spacing[0], (b[1] - a[1]) * spacing[1])


def _round(value: float, digits: int) -> float:
    """Round for DS; ``+ 0.0`` turns ``-0.0`` into ``0.0``."""
    return round(value, digits) + 0.0


def path_length_mm(region: ImageRegion, calibration: Calibration | None) -> float | None:
    """Return the length of a POLYLINE: the sum of its segment lengths, in mm.

    Parameters
    ----------
    region
        A POLYLINE (open or closed; a closed one gives its perimeter).
    calibration
        The image's calibration.

    Returns
    -------
    float or None
        Rounded to 0.01 mm; ``None`` when uncalibrated.
    """
    spacing = _spacings(calibration)
    if spacing is None:
        return None
    points = region.points
    total = sum(_length(points[i], points[i + 1], spacing) for i in range(len(points) - 1))
    return _round(total, LENGTH_DIGITS)


def ellipse_axes_mm(
    region: ImageRegion, calibration: Calibration | None
) -> tuple[float, float] | None:
    """Return the long and short axis of an ELLIPSE in mm.

    Parameters
    ----------
    region
        An ELLIPSE: major axis end points, then minor axis end points (PS3.3
        C.18.6.1.2).
    calibration
        The image's calibration.

    Returns
    -------
    tuple of float or None
        (long axis, short axis), the longer first after scaling, rounded to
        0.01 mm; ``None`` when uncalibrated.
    """
    spacing = _spacings(calibration)
    if spacing is None:
        return None
    p = region.points
    first = _length(p[0], p[1], spacing)
    second = _length(p[2], p[3], spacing)
    return _round(max(first, second), LENGTH_DIGITS), _round(min(first, second), LENGTH_DIGITS)


def _shoelace(points: Sequence[tuple[float, float]]) -> float:
    """Return the area of a polygon in pixels² (shoelace formula)."""
    total = 0.0
    for i in range(len(points) - 1):
        (x0, y0), (x1, y1) = points[i], points[i + 1]
        total += x0 * y1 - x1 * y0
    return abs(total) / 2.0


def area_mm2(region: ImageRegion, calibration: Calibration | None) -> float | None:
    """Return the area of a CIRCLE, ELLIPSE or closed POLYLINE in mm².

    The area in pixels² times column spacing × row spacing: exact under anisotropic
    spacing (a circle in pixels is an ellipse in mm).

    * ELLIPSE: π/4 · |u × v| for the axis vectors u, v (π·a·b for perpendicular axes);
    * CIRCLE: π · r², r the distance from the centre to the perimeter point in pixels;
    * closed POLYLINE: the shoelace formula.

    Parameters
    ----------
    region, calibration
        The region and its image's calibration.

    Returns
    -------
    float or None
        Rounded to 0.1 mm²; ``None`` when uncalibrated or the region has no area
        (POINT, open POLYLINE).
    """
    spacing = _spacings(calibration)
    if spacing is None:
        return None
    p = region.points
    if region.graphic_type is GraphicType.ELLIPSE:
        u = (p[1][0] - p[0][0], p[1][1] - p[0][1])
        v = (p[3][0] - p[2][0], p[3][1] - p[2][1])
        pixels = math.pi / 4.0 * abs(u[0] * v[1] - u[1] * v[0])
    elif region.graphic_type is GraphicType.CIRCLE:
        pixels = math.pi * ((p[1][0] - p[0][0]) ** 2 + (p[1][1] - p[0][1]) ** 2)
    elif region.is_closed:
        pixels = _shoelace(p)
    else:
        return None
    return _round(pixels * spacing[0] * spacing[1], AREA_DIGITS)


def _value(
    name: Code, value: float | None, unit: Code, label: str, index: int
) -> list[MeasurementValue]:
    if value is None:
        return []
    return [MeasurementValue(name, value, unit, label, index)]


def measure_region(
    region: ImageRegion, calibration: Calibration | None, region_index: int = 0
) -> tuple[MeasurementValue, ...]:
    """Return the standard measurements of a region.

    * ELLIPSE: Long axis, Short axis (mm), Area (mm²);
    * CIRCLE: Diameter (mm, through the perimeter point), Area (mm²);
    * closed POLYLINE: Path length (perimeter, mm), Area (mm²);
    * open POLYLINE: Path length (mm);
    * POINT: nothing.

    Parameters
    ----------
    region
        The region, of any graphic type.
    calibration
        The image's calibration (its label is recorded in each value).
    region_index
        Index of the region in its finding, recorded in each value.

    Returns
    -------
    tuple of MeasurementValue
        Empty when the calibration is unknown: the caller shows "uncalibrated".
    """
    spacing = _spacings(calibration)
    if spacing is None or calibration is None:
        return ()
    label = calibration.short_label()
    result: list[MeasurementValue] = []
    kind = region.graphic_type
    if kind is GraphicType.ELLIPSE:
        axes = ellipse_axes_mm(region, calibration)
        assert axes is not None
        result += _value(codes.LONG_AXIS, axes[0], codes.MILLIMETER, label, region_index)
        result += _value(codes.SHORT_AXIS, axes[1], codes.MILLIMETER, label, region_index)
    elif kind is GraphicType.CIRCLE:
        radius = _length(region.points[0], region.points[1], spacing)
        diameter = _round(2.0 * radius, LENGTH_DIGITS)
        result += _value(codes.DIAMETER, diameter, codes.MILLIMETER, label, region_index)
    elif kind is GraphicType.POLYLINE:
        length = path_length_mm(region, calibration)
        result += _value(codes.PATH_LENGTH, length, codes.MILLIMETER, label, region_index)
    area = area_mm2(region, calibration)
    result += _value(codes.AREA, area, codes.SQUARE_MILLIMETER, label, region_index)
    return tuple(result)


def path_length_measurement(
    region: ImageRegion, calibration: Calibration | None
) -> MeasurementValue | None:
    """Return the Path length (121211, DCM) of a duct trace, ``None`` when uncalibrated.

    Parameters
    ----------
    region
        An open POLYLINE.
    calibration
        The image's calibration.

    Returns
    -------
    MeasurementValue or None
        The length in mm with the calibration label.
    """
    length = path_length_mm(region, calibration)
    if length is None or calibration is None:
        return None
    return MeasurementValue(codes.PATH_LENGTH, length, codes.MILLIMETER, calibration.short_label())
