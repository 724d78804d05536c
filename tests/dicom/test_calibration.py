"""Tests for galactoview.dicom.calibration: mm per pixel and its source."""

from __future__ import annotations

import math
from pathlib import Path

import pydicom
import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from galactoview.dicom.calibration import (
    Calibration,
    CalibrationSource,
    calibration_from_dataset,
)

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "dicom"
MAG_VIEW = SAMPLE / "20260312_DUCTOGRAM_L" / "05_LCC_MAG_POST.dcm"


def mg(
    *,
    pixel_spacing: object = None,
    calibration_type: str | None = None,
    imager: object = None,
    ermf: object = None,
    sid: object = None,
    sod: object = None,
    modality: str = "MG",
) -> Dataset:
    ds = Dataset()
    ds.Modality = modality
    if pixel_spacing is not None:
        ds.PixelSpacing = pixel_spacing
    if calibration_type is not None:
        ds.PixelSpacingCalibrationType = calibration_type
    if imager is not None:
        ds.ImagerPixelSpacing = imager
    if ermf is not None:
        ds.EstimatedRadiographicMagnificationFactor = ermf
    if sid is not None:
        ds.DistanceSourceToDetector = sid
    if sod is not None:
        ds.DistanceSourceToPatient = sod
    return ds


def raw(ds: Dataset, tag: int, vr: str, value: bytes) -> Dataset:
    """Store an element as read from a file, so invalid values survive."""
    ds[tag] = RawDataElement(Tag(tag), vr, len(value), value, 0, True, True)
    return ds


# ---------------------------------------------------------------- each source


def test_calibrated_pixel_spacing() -> None:
    cal = calibration_from_dataset(
        mg(pixel_spacing=[0.07, 0.08], calibration_type="FIDUCIAL", imager=[0.1, 0.1])
    )
    assert cal.source is CalibrationSource.CALIBRATED
    assert (cal.row_spacing_mm, cal.column_spacing_mm) == (0.07, 0.08)
    assert cal.magnification is None
    assert "FIDUCIAL" in cal.description
    assert cal.problems == ()
    assert cal.short_label() == "0.07×0.08 mm (calibrated)"


def test_calibrated_description_includes_calibration_description() -> None:
    ds = mg(pixel_spacing=[0.05, 0.05], calibration_type="GEOMETRY")
    ds.PixelSpacingCalibrationDescription = "ruler on the support"
    cal = calibration_from_dataset(ds)
    assert cal.source is CalibrationSource.CALIBRATED
    assert cal.description == "0.05 mm/px: Pixel Spacing (GEOMETRY), ruler on the support"


def test_pixel_spacing_without_type_in_ct_like_image() -> None:
    cal = calibration_from_dataset(mg(pixel_spacing=[0.5, 0.5], modality="CT"))
    assert cal.source is CalibrationSource.PIXEL_SPACING
    assert cal.row_spacing_mm == 0.5
    assert cal.short_label() == "0.5 mm (pixel spacing)"


def test_pixel_spacing_without_type_in_mg_says_meaning_not_stated() -> None:
    cal = calibration_from_dataset(mg(pixel_spacing=[0.1, 0.1]))
    assert cal.source is CalibrationSource.PIXEL_SPACING
    assert "may be the detector spacing" in cal.description


def test_imager_pixel_spacing_with_ermf_is_magnification_corrected() -> None:
    cal = calibration_from_dataset(mg(imager=[0.1, 0.1], ermf="1.8"))
    assert cal.source is CalibrationSource.MAGNIFICATION_CORRECTED
    assert cal.magnification == pytest.approx(1.8)
    assert cal.row_spacing_mm == pytest.approx(0.1 / 1.8)
    assert cal.column_spacing_mm == pytest.approx(0.1 / 1.8)
    assert cal.description == "0.0556 mm/px: Imager Pixel Spacing 0.1 mm ÷ magnification 1.8 (ERMF)"
    assert cal.short_label() == "0.0556 mm (mag-corrected ×1.8)"
    assert cal.problems == ()


def test_sid_sod_fallback_when_no_ermf() -> None:
    cal = calibration_from_dataset(mg(imager=[0.1, 0.1], sid="650", sod="400"))
    assert cal.source is CalibrationSource.MAGNIFICATION_CORRECTED
    assert cal.magnification == pytest.approx(650 / 400)
    assert cal.row_spacing_mm == pytest.approx(0.1 * 400 / 650)
    assert "SID 650 mm / SOD 400 mm" in cal.description


def test_ermf_wins_over_sid_sod_without_problem() -> None:
    # SOD is measured to the entrance surface, so SID/SOD < ERMF is expected.
    cal = calibration_from_dataset(mg(imager=[0.1, 0.1], ermf="1.0815", sid="650", sod="632"))
    assert cal.magnification == pytest.approx(1.0815)
    assert cal.problems == ()


def test_imager_pixel_spacing_only_is_detector() -> None:
    cal = calibration_from_dataset(mg(imager=[0.1, 0.1]))
    assert cal.source is CalibrationSource.DETECTOR
    assert cal.row_spacing_mm == 0.1
    assert cal.magnification is None
    assert cal.short_label() == "0.1 mm (detector)"
    assert "magnified" in cal.description


def test_nothing_is_unknown() -> None:
    cal = calibration_from_dataset(Dataset())
    assert cal.source is CalibrationSource.UNKNOWN
    assert not cal.is_known
    assert cal.row_spacing_mm is None and cal.column_spacing_mm is None
    assert cal.description == "no pixel spacing in the file: distances cannot be shown in mm"
    assert cal.short_label() == "uncalibrated"
    assert cal.distance_mm(10, 10) is None
    assert cal.problems == ()


# ----------------------------------------------------------------- precedence


def test_calibrated_pixel_spacing_wins_over_imager_and_ermf() -> None:
    cal = calibration_from_dataset(
        mg(pixel_spacing=[0.055, 0.055], calibration_type="GEOMETRY", imager=[0.1, 0.1], ermf="1.8")
    )
    assert cal.source is CalibrationSource.CALIBRATED
    assert cal.row_spacing_mm == 0.055  # not 0.1 / 1.8 = 0.0556: the file's value is used
    assert cal.magnification is None
    assert cal.problems == ()  # within 2 % of Imager Pixel Spacing / ERMF


def test_geometry_calibration_disagreeing_with_ermf_is_a_problem() -> None:
    cal = calibration_from_dataset(
        mg(pixel_spacing=[0.07, 0.07], calibration_type="GEOMETRY", imager=[0.1, 0.1], ermf="1.8")
    )
    assert cal.source is CalibrationSource.CALIBRATED
    assert cal.row_spacing_mm == 0.07
    assert len(cal.problems) == 1
    assert "differs by 21%" in cal.problems[0]


def test_fiducial_calibration_may_differ_from_ermf() -> None:
    cal = calibration_from_dataset(
        mg(pixel_spacing=[0.07, 0.07], calibration_type="FIDUCIAL", imager=[0.1, 0.1], ermf="1.8")
    )
    assert cal.source is CalibrationSource.CALIBRATED
    assert cal.problems == ()


def test_pixel_spacing_copied_from_detector_is_corrected_by_ermf() -> None:
    cal = calibration_from_dataset(mg(pixel_spacing=[0.1, 0.1], imager=[0.1, 0.1], ermf="1.8"))
    assert cal.source is CalibrationSource.MAGNIFICATION_CORRECTED
    assert cal.row_spacing_mm == pytest.approx(0.1 / 1.8)
    assert len(cal.problems) == 1
    assert "detector spacing" in cal.problems[0]


def test_pixel_spacing_copied_from_detector_with_ermf_one_has_no_problem() -> None:
    cal = calibration_from_dataset(mg(pixel_spacing=[0.1, 0.1], imager=[0.1, 0.1], ermf="1.0"))
    assert cal.source is CalibrationSource.MAGNIFICATION_CORRECTED
    assert cal.row_spacing_mm == pytest.approx(0.1)
    assert cal.problems == ()


def test_pixel_spacing_copied_from_detector_without_magnification_is_detector() -> None:
    cal = calibration_from_dataset(mg(pixel_spacing=[0.1, 0.1], imager=[0.1, 0.1]))
    assert cal.source is CalibrationSource.DETECTOR
    assert cal.row_spacing_mm == 0.1


def test_pixel_spacing_differing_from_imager_is_used() -> None:
    cal = calibration_from_dataset(mg(pixel_spacing=[0.0556, 0.0556], imager=[0.1, 0.1]))
    assert cal.source is CalibrationSource.PIXEL_SPACING
    assert cal.row_spacing_mm == 0.0556
    assert "differs from Imager Pixel Spacing" in cal.description
    assert cal.problems == ()


def test_pixel_spacing_agreeing_with_ermf_has_no_problem() -> None:
    cal = calibration_from_dataset(
        mg(pixel_spacing=[0.0556, 0.0556], imager=[0.1, 0.1], ermf="1.8")
    )
    assert cal.source is CalibrationSource.PIXEL_SPACING
    assert cal.problems == ()


def test_pixel_spacing_disagreeing_with_ermf_is_a_problem() -> None:
    cal = calibration_from_dataset(mg(pixel_spacing=[0.08, 0.08], imager=[0.1, 0.1], ermf="1.8"))
    assert cal.source is CalibrationSource.PIXEL_SPACING
    assert cal.row_spacing_mm == 0.08
    assert len(cal.problems) == 1
    assert "Pixel Spacing 0.08 mm differs by 31%" in cal.problems[0]


def test_unknown_calibration_type_is_treated_as_absent() -> None:
    cal = calibration_from_dataset(
        mg(pixel_spacing=[0.1, 0.1], calibration_type="MAGIC", imager=[0.1, 0.1], ermf="1.8")
    )
    assert cal.source is CalibrationSource.MAGNIFICATION_CORRECTED
    assert any("MAGIC" in problem for problem in cal.problems)


# ---------------------------------------------------------------- sample file


def test_sample_magnified_view_is_corrected_by_1_8() -> None:
    ds = pydicom.dcmread(MAG_VIEW, stop_before_pixels=True)
    cal = calibration_from_dataset(ds)
    assert cal.source is CalibrationSource.MAGNIFICATION_CORRECTED
    assert cal.magnification == pytest.approx(1.8)
    assert cal.row_spacing_mm == pytest.approx(0.0556, abs=5e-5)
    assert cal.column_spacing_mm == pytest.approx(0.0556, abs=5e-5)
    assert cal.short_label() == "0.0556 mm (mag-corrected ×1.8)"
    assert cal.problems == ()
    # 100 px along a row is 5.56 mm in the breast, not the 10 mm at the detector.
    assert cal.distance_mm(100, 0) == pytest.approx(100 * 0.1 / 1.8)


def test_all_sample_files_are_magnification_corrected() -> None:
    files = sorted(SAMPLE.glob("*/*.dcm"))
    assert len(files) == 9
    for path in files:
        cal = calibration_from_dataset(pydicom.dcmread(path, stop_before_pixels=True))
        assert cal.source is CalibrationSource.MAGNIFICATION_CORRECTED, path
        assert cal.problems == (), path


# ------------------------------------------------------------------ bad values


def test_non_numeric_pixel_spacing_falls_back_to_imager() -> None:
    ds = raw(mg(imager=[0.1, 0.1], ermf="1.8"), 0x00280030, "DS", b"abc\\0.1 ")
    cal = calibration_from_dataset(ds)
    assert cal.source is CalibrationSource.MAGNIFICATION_CORRECTED
    assert cal.problems == ("Pixel Spacing 'abc\\0.1' is not numeric: ignored",)


def test_non_numeric_imager_pixel_spacing_is_unknown() -> None:
    ds = raw(mg(ermf="1.8"), 0x00181164, "DS", b"0.1\\x ")
    cal = calibration_from_dataset(ds)
    assert cal.source is CalibrationSource.UNKNOWN
    assert cal.problems == ("Imager Pixel Spacing '0.1\\x' is not numeric: ignored",)
    assert cal.description.startswith("no usable pixel spacing")


def test_zero_spacing_is_rejected() -> None:
    cal = calibration_from_dataset(mg(imager=["0", "0.1"]))
    assert cal.source is CalibrationSource.UNKNOWN
    assert cal.problems == ("Imager Pixel Spacing '0\\0.1' is not positive: ignored",)


@pytest.mark.parametrize("value", ["1e308", "0.00001", "25"])
def test_an_absurd_spacing_is_rejected_so_no_distance_becomes_infinite(value: str) -> None:
    cal = calibration_from_dataset(mg(imager=[value, "0.1"]))
    assert cal.source is CalibrationSource.UNKNOWN
    assert cal.problems == (
        f"Imager Pixel Spacing '{value}\\0.1' is outside 0.001–10 mm, not a pixel of a "
        "projection image: ignored",
    )


def test_negative_pixel_spacing_falls_back_to_detector() -> None:
    cal = calibration_from_dataset(mg(pixel_spacing=[-0.1, -0.1], imager=[0.1, 0.1]))
    assert cal.source is CalibrationSource.DETECTOR
    assert len(cal.problems) == 1 and "not positive" in cal.problems[0]


def test_single_value_spacing_is_rejected() -> None:
    cal = calibration_from_dataset(mg(imager="0.1"))
    assert cal.source is CalibrationSource.UNKNOWN
    assert cal.problems == ("Imager Pixel Spacing '0.1' has 1 value(s), 2 expected: ignored",)


def test_ermf_zero_falls_back_to_sid_sod() -> None:
    cal = calibration_from_dataset(mg(imager=[0.1, 0.1], ermf="0", sid="650", sod="325"))
    assert cal.source is CalibrationSource.MAGNIFICATION_CORRECTED
    assert cal.magnification == pytest.approx(2.0)
    assert cal.problems == (
        "Estimated Radiographic Magnification Factor '0' is not positive: ignored",
    )


def test_ermf_zero_alone_gives_detector() -> None:
    cal = calibration_from_dataset(mg(imager=[0.1, 0.1], ermf="0"))
    assert cal.source is CalibrationSource.DETECTOR
    assert len(cal.problems) == 1


@pytest.mark.parametrize("ermf", ["0.5", "3.5"])
def test_implausible_ermf_is_ignored(ermf: str) -> None:
    cal = calibration_from_dataset(mg(imager=[0.1, 0.1], ermf=ermf))
    assert cal.source is CalibrationSource.DETECTOR
    assert len(cal.problems) == 1 and "outside 1–3" in cal.problems[0]


def test_non_numeric_ermf_is_ignored() -> None:
    ds = raw(mg(imager=[0.1, 0.1]), 0x00181114, "DS", b"big ")
    cal = calibration_from_dataset(ds)
    assert cal.source is CalibrationSource.DETECTOR
    assert cal.problems == (
        "Estimated Radiographic Magnification Factor 'big' is not a single number: ignored",
    )


def test_sod_greater_than_sid_is_ignored() -> None:
    cal = calibration_from_dataset(mg(imager=[0.1, 0.1], sid="600", sod="650"))
    assert cal.source is CalibrationSource.DETECTOR
    assert len(cal.problems) == 1 and "outside" in cal.problems[0]


def test_garbage_everywhere_never_raises() -> None:
    ds = Dataset()
    raw(ds, 0x00280030, "DS", b"\\\\\\ ")
    raw(ds, 0x00181164, "DS", b"nan\\inf ")
    raw(ds, 0x00181114, "DS", b"1.2\\1.3 ")
    raw(ds, 0x00280A02, "CS", b"\xff\xfe")
    cal = calibration_from_dataset(ds)
    assert cal.source is CalibrationSource.UNKNOWN
    assert cal.problems  # reported, not raised


# ----------------------------------------------------------- value semantics


def test_distance_uses_row_and_column_spacing() -> None:
    # PS3.3 10.7.1.3: first value = row spacing (vertical), second = column spacing.
    cal = calibration_from_dataset(mg(pixel_spacing=[0.2, 0.1], calibration_type="GEOMETRY"))
    assert cal.row_spacing_mm == 0.2
    assert cal.column_spacing_mm == 0.1
    assert cal.distance_mm(10, 0) == pytest.approx(1.0)
    assert cal.distance_mm(0, 10) == pytest.approx(2.0)
    assert cal.distance_mm(30, 20) == pytest.approx(math.hypot(3.0, 4.0))
    assert cal.distance_mm(-30, -20) == pytest.approx(5.0)
    assert cal.short_label() == "0.2×0.1 mm (calibrated)"


def test_calibration_is_frozen() -> None:
    cal = calibration_from_dataset(mg(imager=[0.1, 0.1]))
    with pytest.raises(AttributeError):
        cal.source = CalibrationSource.UNKNOWN  # type: ignore[misc]


@pytest.mark.parametrize(
    ("row", "column", "source", "magnification"),
    [
        (None, None, CalibrationSource.DETECTOR, None),
        (0.1, 0.1, CalibrationSource.UNKNOWN, None),
        (0.0, 0.1, CalibrationSource.DETECTOR, None),
        (0.1, 0.1, CalibrationSource.MAGNIFICATION_CORRECTED, None),
        (0.1, 0.1, CalibrationSource.DETECTOR, 1.8),
    ],
)
def test_invalid_calibration_cannot_be_built(
    row: float | None,
    column: float | None,
    source: CalibrationSource,
    magnification: float | None,
) -> None:
    with pytest.raises(ValueError):
        Calibration(row, column, source, magnification, "x")
