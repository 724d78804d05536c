from __future__ import annotations

import math

import pytest
from pydicom.uid import generate_uid

from galactoview.annotations import codes
from galactoview.annotations.geometry import (
    area_mm2,
    ellipse_axes_mm,
    measure_region,
    path_length_measurement,
    path_length_mm,
)
from galactoview.annotations.model import GraphicType, ImageRegion
from galactoview.dicom.calibration import Calibration, CalibrationSource

IMAGE = generate_uid(entropy_srcs=["geometry-test-image"])
ISOTROPIC = Calibration(0.1, 0.1, CalibrationSource.DETECTOR, None, "0.1 mm")
#: rows 0.2 mm apart, columns 0.05 mm apart
ANISOTROPIC = Calibration(0.2, 0.05, CalibrationSource.CALIBRATED, None, "aniso")
UNKNOWN = Calibration(None, None, CalibrationSource.UNKNOWN, None, "none")


def region(kind: GraphicType, *points: tuple[float, float]) -> ImageRegion:
    return ImageRegion(IMAGE, None, kind, points)


ELLIPSE = region(GraphicType.ELLIPSE, (10, 20), (50, 20), (30, 10), (30, 30))


def test_ellipse_isotropic() -> None:
    assert ellipse_axes_mm(ELLIPSE, ISOTROPIC) == (4.0, 2.0)
    assert area_mm2(ELLIPSE, ISOTROPIC) == round(math.pi * 2.0 * 1.0, 1)
    values = measure_region(ELLIPSE, ISOTROPIC)
    assert [v.name for v in values] == [codes.LONG_AXIS, codes.SHORT_AXIS, codes.AREA]
    assert [v.unit for v in values] == [codes.MILLIMETER] * 2 + [codes.SQUARE_MILLIMETER]
    assert {v.calibration_source for v in values} == {ISOTROPIC.short_label()}


def test_ellipse_anisotropic_swaps_long_and_short() -> None:
    # 40 columns × 0.05 = 2 mm; 20 rows × 0.2 = 4 mm: the vertical axis is longer in mm.
    assert ellipse_axes_mm(ELLIPSE, ANISOTROPIC) == (4.0, 2.0)
    assert area_mm2(ELLIPSE, ANISOTROPIC) == round(math.pi * 1.0 * 2.0, 1)


def test_circle_diameter_and_area() -> None:
    circle = region(GraphicType.CIRCLE, (10, 10), (13, 14))  # radius 5 px
    values = {v.name: v.value for v in measure_region(circle, ISOTROPIC, region_index=2)}
    assert values == {codes.DIAMETER: 1.0, codes.AREA: round(math.pi * 0.25, 1)}
    assert {v.region_index for v in measure_region(circle, ISOTROPIC, 2)} == {2}
    horizontal = region(GraphicType.CIRCLE, (10, 10), (20, 10))
    assert {v.name: v.value for v in measure_region(horizontal, ANISOTROPIC)}[codes.DIAMETER] == 1.0
    assert area_mm2(horizontal, ANISOTROPIC) == round(math.pi * 100 * 0.01, 1)


def test_polyline_length_and_closed_area() -> None:
    path = region(GraphicType.POLYLINE, (0, 0), (30, 40), (30, 50))  # 50 + 10 px
    assert path_length_mm(path, ISOTROPIC) == 6.0
    assert path_length_mm(path, ANISOTROPIC) == round(math.hypot(1.5, 8.0) + 2.0, 2)
    assert area_mm2(path, ISOTROPIC) is None
    square = region(GraphicType.POLYLINE, (0, 0), (10, 0), (10, 10), (0, 10), (0, 0))
    assert area_mm2(square, ANISOTROPIC) == 1.0  # 100 px² × 0.05 × 0.2
    names = [v.name for v in measure_region(square, ISOTROPIC)]
    assert names == [codes.PATH_LENGTH, codes.AREA]
    length = path_length_measurement(path, ISOTROPIC)
    assert length is not None
    assert (length.name, length.value, length.unit) == (codes.PATH_LENGTH, 6.0, codes.MILLIMETER)


def test_values_are_valid_short_decimal_strings() -> None:
    odd = region(GraphicType.POLYLINE, (0.1, 0.2), (0.3, 0.7), (1.9, 2.3))
    length = path_length_mm(odd, Calibration(0.07, 0.07, CalibrationSource.DETECTOR, None, "x"))
    assert length is not None
    assert len(repr(length)) <= 16
    assert round(length, 2) == length


@pytest.mark.parametrize("calibration", [UNKNOWN, None])
def test_uncalibrated_gives_no_mm(calibration: Calibration | None) -> None:
    assert measure_region(ELLIPSE, calibration) == ()
    assert ellipse_axes_mm(ELLIPSE, calibration) is None
    assert area_mm2(ELLIPSE, calibration) is None
    path = region(GraphicType.POLYLINE, (0, 0), (3, 4))
    assert path_length_mm(path, calibration) is None
    assert path_length_measurement(path, calibration) is None


def test_point_has_no_measurements() -> None:
    assert measure_region(region(GraphicType.POINT, (1, 1)), ISOTROPIC) == ()
