"""One description of a finding: label, type, size and location text (each rule once)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest
from pydicom.sr.coding import Code

from galactoview.annotations import codes
from galactoview.annotations.model import (
    Finding,
    FindingType,
    GraphicType,
    ImageRegion,
    MeasurementValue,
)
from galactoview.dicom.calibration import Calibration, CalibrationSource
from galactoview.dicom.mammography import Laterality
from galactoview.location import codes as location_codes
from galactoview.location.describe import (
    NOT_LOCATED,
    UNCALIBRATED,
    describe_finding,
    describe_location,
    describe_size,
    describe_stored_location,
    measurement_text,
    type_text,
    value_text,
)
from galactoview.location.frame import ViewFamily
from galactoview.location.localize import (
    BreastLocation,
    DepthThird,
    FindingLocation,
    Quadrant,
    ViewLocation,
)

CC, ML = "1.2.3.1", "1.2.3.2"
CAL = "0.1 mm (detector)"

ELLIPSE = ImageRegion(CC, None, GraphicType.ELLIPSE, ((0, 10), (40, 10), (20, 0), (20, 20)))
CIRCLE = ImageRegion(CC, None, GraphicType.CIRCLE, ((10, 10), (14, 10)))
CLOSED = ImageRegion(CC, None, GraphicType.POLYLINE, ((0, 0), (10, 0), (10, 10), (0, 0)))
OPEN = ImageRegion(CC, None, GraphicType.POLYLINE, ((0, 0), (10, 0), (10, 10)))
POINT = ImageRegion(ML, None, GraphicType.POINT, ((5, 5),))


def mm(name: Code, value: float, index: int = 0, unit: Code = codes.MILLIMETER) -> MeasurementValue:
    return MeasurementValue(name, value, unit, CAL, index)


def finding(
    regions: tuple[ImageRegion, ...],
    measurements: tuple[MeasurementValue, ...] = (),
    finding_type: FindingType = FindingType.INTRALUMINAL_FILLING_DEFECT,
    other_text: str = "",
) -> Finding:
    return Finding(
        "1.9.1", "FD-1", finding_type, other_text, Laterality.LEFT, regions, measurements
    )


# ------------------------------------------------------------------------ label and type


def test_label_is_the_short_id_and_a_mark_adds_its_regions_size() -> None:
    described = describe_finding(
        finding((ELLIPSE, POINT), (mm(codes.LONG_AXIS, 4.92), mm(codes.SHORT_AXIS, 2.0)))
    )
    assert described.label == "FD-1"
    assert described.mark_label(0) == "FD-1 4.9 mm"
    assert described.mark_label(1) == "FD-1"  # a point has no size


def test_type_text_is_the_code_meaning_and_other_adds_its_description() -> None:
    assert type_text(finding((POINT,))) == "Intraluminal filling defect"
    other = finding((POINT,), finding_type=FindingType.OTHER, other_text="Calcified plug")
    assert type_text(other) == "Other finding: Calcified plug"
    assert describe_finding(other).type_text == "Other finding: Calcified plug"


# ---------------------------------------------------------------------------------- size


@pytest.mark.parametrize(
    ("region", "measurements", "expected"),
    [
        (ELLIPSE, (mm(codes.LONG_AXIS, 4.0), mm(codes.SHORT_AXIS, 2.0)), "Long axis 4.0 mm"),
        (
            CIRCLE,
            (mm(codes.DIAMETER, 0.8), mm(codes.AREA, 0.5, unit=codes.SQUARE_MILLIMETER)),
            "Diameter 0.8 mm",
        ),
        (
            CLOSED,
            (mm(codes.PATH_LENGTH, 34.14), mm(codes.AREA, 50.0, unit=codes.SQUARE_MILLIMETER)),
            "Area 50.0 mm²",
        ),
        (OPEN, (mm(codes.PATH_LENGTH, 20.0),), "Path length 20.0 mm"),
    ],
)
def test_the_size_of_a_region_depends_on_its_graphic_type(
    region: ImageRegion, measurements: tuple[MeasurementValue, ...], expected: str
) -> None:
    size = describe_size(finding((region,), measurements))
    assert size.text == f"{expected} [{CAL}]"
    assert size.flags == ()


def test_a_finding_is_sized_by_its_first_region_that_has_a_size() -> None:
    measurements = (mm(codes.DIAMETER, 1.25, 1), mm(codes.LONG_AXIS, 9.0, 2))
    described = describe_finding(finding((POINT, CIRCLE, ELLIPSE), measurements))
    assert described.size.measurement == measurements[0]
    assert described.size.text == f"Diameter 1.2 mm [{CAL}]"  # one decimal
    assert [s.value for s in described.region_sizes] == ["", "1.2 mm", "9.0 mm"]


def test_a_region_without_its_main_measurement_uses_its_first_one() -> None:
    short = mm(codes.SHORT_AXIS, 2.0)
    assert describe_size(finding((ELLIPSE,), (short,))).measurement == short


def test_uncalibrated_says_so_and_shows_no_number() -> None:
    described = describe_finding(finding((ELLIPSE,)))
    assert described.size.text == UNCALIBRATED == "uncalibrated"
    assert described.size.value == ""
    assert described.mark_label(0) == "FD-1"
    points = describe_size(finding((POINT,)))
    assert (points.text, points.value, points.measurement) == ("", "", None)


def test_a_size_in_pixels_says_its_unit_and_is_flagged() -> None:
    pixels = MeasurementValue(codes.LONG_AXIS, 42.0, codes.PIXEL, "uncalibrated")
    described = describe_finding(finding((ELLIPSE,), (pixels,)))
    assert described.size.text == "Long axis 42.0 px [uncalibrated]"
    assert described.size.flags == ("size in px, not calibrated",)
    assert described.mark_label(0) == "FD-1 42.0 px"
    assert described.flags == ("size in px, not calibrated",)


def test_a_statistic_is_no_size_but_a_foreign_length_is() -> None:
    """An OHIF freehand ROI's Mean (UCUM "1") is no size; a diameter in mm on it is."""
    mean = MeasurementValue(Code("373098007", "SCT", "Mean"), 600.0, Code("1", "UCUM", "px"), CAL)
    assert describe_finding(finding((CLOSED,), (mean,))).mark_label(0) == "FD-1"
    diameter = mm(codes.DIAMETER, 7.0)
    assert describe_finding(finding((CLOSED,), (mean, diameter))).mark_label(0) == "FD-1 7.0 mm"


def test_measurement_text_names_the_value_and_its_calibration() -> None:
    area = mm(codes.AREA, 12.0, unit=codes.SQUARE_MILLIMETER)
    assert measurement_text(area) == f"Area 12.0 mm² [{CAL}]"
    assert measurement_text(mm(codes.LONG_AXIS, 4.234), stored=True) == f"Long axis 4.23 mm [{CAL}]"
    assert value_text(mm(codes.LONG_AXIS, 12.0), stored=True) == "12 mm"


# ------------------------------------------------------------------------------ location


def view(uid: str, family: ViewFamily) -> ViewLocation:
    return ViewLocation(
        uid, family, Laterality.LEFT, 50.0, -10.0, 500.0, -100.0, 51.0, 0.5, DepthThird.MIDDLE, None
    )


@dataclass(frozen=True)
class Stored:
    """What an SR stores (the shape of sr_codec.StoredLocation)."""

    clock_or_region: Code | None
    quadrant: Code | None
    depth: Code | None
    distance_from_nipple_mm: float | None
    oblique_approximated: bool = False


BREAST = BreastLocation(
    Laterality.LEFT,
    -10.0,
    -30.0,
    50.0,
    True,
    210.0,
    7,
    Quadrant.LIQ,
    False,
    0.5,
    DepthThird.MIDDLE,
    57.75,
    view(CC, ViewFamily.CC),
    view(ML, ViewFamily.LATERAL),
    False,
)


def located(breast: BreastLocation = BREAST) -> FindingLocation:
    return FindingLocation("1.9.1", (), breast)


def test_a_location_gives_the_report_columns_and_one_line() -> None:
    where = describe_location(located(), Laterality.RIGHT)
    assert where.located
    assert (where.side, where.clock, where.quadrant, where.depth, where.distance) == (
        "Left",  # the two-view result's breast wins over the finding's laterality
        "7 o'clock",
        "LIQ",
        "middle",
        "58 mm",
    )
    assert where.text == "Left, 7 o'clock, LIQ, middle third, 58 mm from the nipple"
    assert where.flags == ()


def test_subareolar_unknown_depth_and_mlo_are_said() -> None:
    breast = replace(BREAST, subareolar=True, depth=None, oblique_approximated=True)
    where = describe_location(located(breast))
    assert where.clock == "subareolar"
    assert where.depth == "unknown"
    assert where.distance == "58 mm (MLO approx.)"
    assert where.text == (
        "Left, subareolar, LIQ, depth unknown, 58 mm from the nipple (MLO approx.)"
    )
    assert where.flags == ("MLO used as lateral view: superior–inferior offset approximated",)


def test_an_uncalibrated_distance_is_never_a_number() -> None:
    breast = replace(
        BREAST,
        distance_mm=None,
        in_mm=False,
        oblique_approximated=True,
        notes=("uncalibrated view",),
    )
    where = describe_location(located(breast))
    assert where.distance == "unknown (uncalibrated)"
    assert where.text.endswith(", distance unknown (uncalibrated), MLO approx.")
    assert where.flags == (
        "uncalibrated: no distance in mm",
        "MLO used as lateral view: superior–inferior offset approximated",
        "uncalibrated view",
    )


def test_an_image_without_known_calibration_marks_the_distance() -> None:
    unknown = Calibration(None, None, CalibrationSource.UNKNOWN, None, "none")
    known = Calibration(0.1, 0.1, CalibrationSource.DETECTOR, None, "detector")
    assert describe_location(located(), calibrations={CC: known, ML: known}).flags == ()
    where = describe_location(located(), calibrations={CC: known, ML: unknown})
    assert where.distance == "58 mm (calibration not exact)"
    assert where.flags == ("calibration of the images is not known to be exact",)


def test_without_two_views_the_line_says_what_is_needed() -> None:
    where = describe_location(FindingLocation("1.9.1", (), None, ("no ML mark",)), Laterality.LEFT)
    assert not where.located
    assert (where.side, where.text, where.problems) == (
        "Left",
        "not located: no ML mark",
        ("no ML mark",),
    )
    assert where.clock == where.distance == ""
    one = FindingLocation("1.9.1", (), None, ("x",), ("an ML or MLO region",))
    assert describe_location(one).text == "not located: needs an ML or MLO region"
    two = FindingLocation("1.9.1", (), None, (), ("a CC region", "the nipple on the L ML"))
    assert describe_location(two).text == (
        "not located: needs a CC region and the nipple on the L ML"
    )
    three = FindingLocation("1.9.1", (), None, (), ("a", "b", "c"))
    assert describe_location(three).text == "not located: needs a, b and c"
    assert describe_location(FindingLocation("1.9.1", (), None)).text == NOT_LOCATED
    none = describe_location(None)
    assert (none.located, none.side, none.text) == (False, "unknown", "")


def test_a_stored_location_reads_like_a_computed_one() -> None:
    stored = Stored(
        location_codes.CLOCK_HOURS[7],
        location_codes.LOWER_INNER_QUADRANT,
        location_codes.MIDDLE,
        57.8,
    )
    where = describe_stored_location(stored, Laterality.LEFT)
    assert where.text == describe_location(located()).text
    assert where.distance == "58 mm"


def test_a_stored_location_leaves_out_what_it_does_not_hold() -> None:
    partial = Stored(location_codes.SUBAREOLAR_REGION, None, None, None, True)
    where = describe_stored_location(partial, Laterality.RIGHT)
    assert where.text == "Right, subareolar, MLO approx."
    assert where.flags == ("MLO used as lateral view: superior–inferior offset approximated",)
    assert describe_stored_location(Stored(None, None, None, None)).text == "stored without values"
    central = Stored(location_codes.CENTRAL_REGION, None, None, None)
    assert describe_stored_location(central, Laterality.LEFT).text == (
        f"Left, {location_codes.CENTRAL_REGION.meaning}"
    )


def test_the_finding_description_joins_location_and_size_caveats() -> None:
    pixels = MeasurementValue(codes.LONG_AXIS, 42.0, codes.PIXEL, "uncalibrated")
    breast = replace(BREAST, oblique_approximated=True)
    described = describe_finding(finding((ELLIPSE,), (pixels,)), located(breast))
    assert described.location.text.endswith("(MLO approx.)")
    assert described.flags == (
        "MLO used as lateral view: superior–inferior offset approximated",
        "size in px, not calibrated",
    )


def test_a_stored_location_in_legacy_srt_codes_reads_the_same() -> None:
    """An SR from an older system codes the same concepts in SNOMED RT (PS3.16 Annex O)."""
    stored = Stored(
        Code("F-01783", "SRT", "3 o'clock position"),  # SCT 129774003
        Code("T-04004", "SRT", "Upper outer quadrant of breast"),  # SCT 76365002
        Code("R-404CE", "SRT", "Posterior"),  # SCT 255551008
        31.0,
    )
    where = describe_stored_location(stored, Laterality.LEFT)
    assert where.text == "Left, 3 o'clock, UOQ, posterior third, 31 mm from the nipple"


def test_dimensionless_and_hounsfield_units_read_plainly() -> None:
    mean = MeasurementValue(Code("373098007", "SCT", "Mean"), 650.0, Code("1", "UCUM", "px"), CAL)
    assert measurement_text(mean, stored=True) == f"Mean 650 [{CAL}]"
    hu = MeasurementValue(
        Code("373098007", "SCT", "Mean"), 812.5, Code("[hnsf'U]", "UCUM", "HU"), CAL
    )
    assert value_text(hu, stored=True) == "812.5 HU"
