"""Ruler measurements: pixels, mm from the calibration, and labels that say where mm come from."""

from __future__ import annotations

import math

import pytest

from galactoview.dicom.calibration import Calibration, CalibrationSource
from galactoview.imaging.measurement import (
    Measurement,
    calibration_source_label,
    measure,
    measurement_label,
)

MAG = Calibration(0.1 / 1.8, 0.1 / 1.8, CalibrationSource.MAGNIFICATION_CORRECTED, 1.8, "mag")
DETECTOR = Calibration(0.1, 0.1, CalibrationSource.DETECTOR, None, "detector")
PIXEL_SPACING = Calibration(0.085, 0.085, CalibrationSource.PIXEL_SPACING, None, "ps")
CALIBRATED = Calibration(0.07, 0.07, CalibrationSource.CALIBRATED, None, "geometry")
UNKNOWN = Calibration(None, None, CalibrationSource.UNKNOWN, None, "none")


def test_calibrated_length_is_pixels_times_spacing() -> None:
    m = measure((10.0, 20.0), (13.0, 24.0), DETECTOR)
    assert m.start == (10.0, 20.0)
    assert m.end == (13.0, 24.0)
    assert m.pixels == pytest.approx(5.0)
    assert m.length_mm == pytest.approx(0.5)
    assert measurement_label(m) == "0.5 mm\ndetector (not corrected for magnification)"


def test_anisotropic_spacing_applies_column_and_row_spacing_separately() -> None:
    # Row spacing (vertical) 0.2 mm, column spacing (horizontal) 0.1 mm.
    calibration = Calibration(0.2, 0.1, CalibrationSource.PIXEL_SPACING, None, "aniso")
    horizontal = measure((0.0, 0.0), (100.0, 0.0), calibration)
    vertical = measure((0.0, 0.0), (0.0, 100.0), calibration)
    diagonal = measure((0.0, 0.0), (30.0, 40.0), calibration)
    assert horizontal.length_mm == pytest.approx(10.0)
    assert vertical.length_mm == pytest.approx(20.0)
    assert diagonal.pixels == pytest.approx(50.0)
    assert diagonal.length_mm == pytest.approx(math.hypot(3.0, 8.0))
    assert measurement_label(vertical) == "20.0 mm\npixel spacing"


def test_magnification_corrected_label_gives_the_factor_and_one_decimal() -> None:
    m = measure((0.0, 0.0), (421.2, 0.0), MAG)
    assert m.length_mm == pytest.approx(421.2 / 18.0)
    assert m.calibration_label == "mag-corrected ×1.8"
    assert measurement_label(m) == "23.4 mm\nmag-corrected ×1.8"


def test_calibrated_pixel_spacing_label() -> None:
    m = measure((0.0, 0.0), (0.0, 100.0), CALIBRATED)
    assert measurement_label(m) == "7.0 mm\ncalibrated pixel spacing"


@pytest.mark.parametrize("calibration", [UNKNOWN, None])
def test_unknown_calibration_says_uncalibrated_and_gives_no_mm(
    calibration: Calibration | None,
) -> None:
    m = measure((0.0, 0.0), (512.0, 0.0), calibration)
    assert m.length_mm is None
    assert m.pixels == pytest.approx(512.0)
    label = measurement_label(m)
    assert label == "512 px — uncalibrated, no mm"
    assert "mm" in label and "uncalibrated" in label


def test_source_labels_distinguish_every_source() -> None:
    labels = {
        calibration_source_label(c) for c in (MAG, DETECTOR, PIXEL_SPACING, CALIBRATED, UNKNOWN)
    }
    assert len(labels) == 5
    assert calibration_source_label(None) == "uncalibrated"


def test_measurement_is_frozen() -> None:
    m = measure((0.0, 0.0), (1.0, 0.0), DETECTOR)
    assert isinstance(m, Measurement)
    with pytest.raises(AttributeError):
        m.pixels = 2.0  # type: ignore[misc]
