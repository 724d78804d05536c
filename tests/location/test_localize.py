"""Lesion localization against the phantom's ground truth (issue 6, "Done when").

Tolerances, as the issue sets them:

* clock hour: exact when the lesion lies more than 10 mm off the nipple axis
  (``radial_offset_mm > 10``), else ±1 h;
* quadrant: exact;
* depth third: exact, except that a lesion whose ground-truth depth fraction lies within
  :data:`THIRD_MARGIN` (3 % of the nipple–chest wall distance) of a third boundary may be
  given either neighbouring third — the CC and ML compressions differ and each view's
  fraction is relative to its own chest-wall distance;
* distance from the nipple: within 5 mm or 10 %.

Ground truth for the sample study comes from ``sample_data/ground_truth.json`` with the
headers read from its DICOM files; for other seeds from the phantom's own projection
functions without rendering pixels (:mod:`tests.location.phantom_cases`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from galactoview.annotations.model import (
    Finding,
    FindingType,
    GraphicType,
    ImageRegion,
    NippleLandmark,
)
from galactoview.dicom.calibration import Calibration, CalibrationSource
from galactoview.dicom.mammography import Laterality, PatientOrientation
from galactoview.location import codes
from galactoview.location.frame import ChestWallLine, ImageFrame, ImageInfo, ViewFamily
from galactoview.location.localize import (
    SUBAREOLAR_RADIUS_MM,
    UNCONFIRMED_NIPPLE_NOTE,
    BreastLocation,
    ClockHalf,
    DepthThird,
    Quadrant,
    clock_hour,
    depth_third,
    localize_finding,
    localize_pair,
    localize_view,
    missing_marks,
    quadrant_of,
    region_center,
    view_label,
)
from galactoview.paths import sample_dicom_dir
from galactoview.phantom import study
from galactoview.phantom.anatomy import Side
from galactoview.phantom.breast_builder import draw_injected_breast
from galactoview.sr.sr_codec import decode, from_json
from tests.helpers import ground_truth, sample_images
from tests.location.phantom_cases import (
    PhantomCase,
    PhantomImage,
    calibration_of,
    case_from_breast,
    mirrored_breast,
    phantom_case,
)

#: A ground-truth depth fraction this close to ⅓ or ⅔ may land in either third.
THIRD_MARGIN = 0.03
#: Phantoms besides the sample (seed 7, left): both breasts, different lesion positions.
OTHER_PHANTOMS = [(42, Side.RIGHT), (3, Side.LEFT), (11, Side.RIGHT), (5, Side.RIGHT)]
SAMPLE_UID = "1.2.826.0.1.3680043.10.999.1"


def assert_matches_truth(location: BreastLocation, truth: dict[str, Any]) -> None:
    """Check a two-view location against one lesion's ground truth (module docstring)."""
    what = f"{truth['id']}: {location}"
    if truth["radial_offset_mm"] > 10.0:
        assert location.clock_hour == truth["clock_hour"], what
    else:
        assert abs((location.clock_hour - truth["clock_hour"] + 6) % 12 - 6) <= 1, what
    assert location.quadrant == Quadrant(truth["quadrant"]), what
    allowed = {truth["depth_third"]}
    for boundary in (1 / 3, 2 / 3):
        if abs(truth["depth_fraction"] - boundary) < THIRD_MARGIN:
            allowed |= {depth_third(boundary - THIRD_MARGIN), depth_third(boundary + THIRD_MARGIN)}
    assert location.depth in allowed, what
    expected = truth["distance_from_nipple_mm"]
    assert location.distance_mm is not None
    assert abs(location.distance_mm - expected) <= max(5.0, 0.1 * expected), what
    assert location.subareolar == truth["subareolar"], what


def view(image: PhantomImage, lesion_id: str) -> Any:
    """Localize a lesion's ground-truth projection on one phantom image."""
    return localize_view(image.info, image.lesion(lesion_id), image.nipple, image.chest_wall)


def pair(case: PhantomCase, lesion_id: str, cc: str = "CC_POST", other: str = "ML_POST") -> Any:
    """Two-view location of a lesion from the ground-truth projections."""
    return localize_pair(view(case.image(cc), lesion_id), view(case.image(other), lesion_id))


# ------------------------------------------------------------------ sample study


@pytest.fixture(scope="module")
def sample_infos() -> dict[str, ImageInfo]:
    """Header values of the sample images (read from the DICOM files) by label."""
    truth = {image["sop_instance_uid"]: image["label"] for image in ground_truth()["images"]}
    return {
        truth[record.sop_instance_uid]: ImageInfo.from_record(record) for record in sample_images()
    }


def test_sample_headers_give_the_expected_frames(sample_infos: dict[str, ImageInfo]) -> None:
    cc = ImageFrame.from_info(sample_infos["LCC_POST"])
    ml = ImageFrame.from_info(sample_infos["LML_POST"])
    mlo = ImageFrame.from_info(sample_infos["LMLO"])
    rcc = ImageFrame.from_info(sample_infos["RCC"])  # stored mirrored: A\L
    assert (cc.family, cc.posterior_axis, cc.across_axis) == (
        ViewFamily.CC,
        (-1.0, 0.0),
        (0.0, -1.0),
    )
    assert (ml.family, ml.posterior_axis, ml.across_axis) == (
        ViewFamily.LATERAL,
        (-1.0, 0.0),
        (0.0, -1.0),
    )
    assert mlo.is_oblique and mlo.across_axis == (0.0, -1.0)  # "FR": F is used
    assert str(rcc.orientation) == "A\\L" and rcc.across_axis == (0.0, 1.0)
    assert sample_infos["LCC_MAG_POST"].magnified
    assert cc.notes == () and any("oblique" in note for note in mlo.notes)


@pytest.mark.parametrize("lesion_id", ["defect-1", "cyst-1", "ectasia-1"])
def test_sample_lesions_match_ground_truth(
    sample_infos: dict[str, ImageInfo], lesion_id: str
) -> None:
    images = {image["label"]: image for image in ground_truth()["images"]}
    (truth,) = (t for t in ground_truth()["lesions"] if t["id"] == lesion_id)
    views = []
    for label in ("LCC_POST", "LML_POST"):
        image = images[label]
        (point,) = (p for p in image["lesions"] if p["id"] == lesion_id)
        nipple = (image["nipple"]["column"], image["nipple"]["row"])
        views.append(localize_view(sample_infos[label], (point["column"], point["row"]), nipple))
    location = localize_pair(*views)
    assert_matches_truth(location, truth)
    assert location.source_sop_instance_uids == (
        images["LCC_POST"]["sop_instance_uid"],
        images["LML_POST"]["sop_instance_uid"],
    )
    assert not location.oblique_approximated and location.in_mm
    assert location.laterality is Laterality.LEFT


def test_sample_sidecar_findings_are_localized(sample_infos: dict[str, ImageInfo]) -> None:
    """The sample sidecar's marks (ellipses/circles around each lesion) localize right."""
    (path,) = (sample_dicom_dir() / "20260312_DUCTOGRAM_L").glob("*.sr.json")
    annotations = decode(from_json(path.read_text("utf-8"))).annotations
    by_uid = {info.sop_instance_uid: info for info in sample_infos.values()}
    truths = {t["id"]: t for t in ground_truth()["lesions"]}
    ids = {"FD-1": "defect-1", "CY-1": "cyst-1", "DE-1": "ectasia-1"}
    assert {f.short_id for f in annotations.findings} >= set(ids)
    for finding in annotations.findings:
        if finding.short_id not in ids:
            continue
        result = localize_finding(finding, annotations.landmarks, by_uid)
        assert result.breast is not None, result.problems
        assert_matches_truth(result.breast, truths[ids[finding.short_id]])
        # The standard CC is preferred to the magnified one; all three views are located.
        assert result.breast.cc.sop_instance_uid == sample_infos["LCC_POST"].sop_instance_uid
        assert len(result.views) == 3 and result.problems == ()


# ------------------------------------------------------------------ other seeds


@pytest.fixture(scope="module", params=OTHER_PHANTOMS, ids=lambda p: f"seed{p[0]}{p[1].value}")
def other_case(request: pytest.FixtureRequest) -> PhantomCase:
    seed, side = request.param
    return phantom_case(seed, side)


def test_other_phantoms_match_ground_truth(other_case: PhantomCase) -> None:
    assert len(other_case.lesions) == 3
    for truth in other_case.lesions:
        location = pair(other_case, truth["id"])
        assert_matches_truth(location, truth)
        assert location.laterality.value == other_case.side.value
        # The pre-contrast pair (same geometry, plain names) gives the same answer.
        assert pair(other_case, truth["id"], "CC", "ML").clock_hour == location.clock_hour


def test_other_phantoms_cover_both_breasts_and_positions() -> None:
    sides = {side for _, side in OTHER_PHANTOMS}
    assert sides == {Side.LEFT, Side.RIGHT}
    hours = {
        t["clock_hour"] for seed, side in OTHER_PHANTOMS for t in phantom_case(seed, side).lesions
    }
    assert len(hours) >= 4  # lesions spread over the clock face, not one spot


def test_single_view_clock_half_and_depth(other_case: PhantomCase) -> None:
    for truth in other_case.lesions:
        cc = view(other_case.image("CC_POST"), truth["id"])
        ml = view(other_case.image("ML_POST"), truth["id"])
        lateral = truth["quadrant"][1] == "O"
        assert cc.half is (ClockHalf.LATERAL if lateral else ClockHalf.MEDIAL)
        assert ml.half is (
            ClockHalf.SUPERIOR if truth["quadrant"][0] == "U" else ClockHalf.INFERIOR
        )
        for one in (cc, ml):
            assert one.depth_fraction is not None
            assert abs(one.depth_fraction - truth["depth_fraction"]) < 0.05
            assert one.distance_mm is not None
            assert one.distance_mm <= truth["distance_from_nipple_mm"] + 1.0  # a projection


def test_magnification_view_gives_the_standard_distance(other_case: PhantomCase) -> None:
    """Mag CC (×1.8) + ML gives the standard CC + ML distance within 1 mm or 2 %.

    The 2-D distance on the mag CC alone agrees within 1.5 mm or 3 %: the calibration
    corrects the mid-plane magnification, a lesion off the mid-plane (its ``z``) is
    magnified a little more or less, more so on the stand (perspective, not an error of
    the calibration).
    """
    for truth in other_case.lesions:
        standard = pair(other_case, truth["id"])
        magnified = pair(other_case, truth["id"], cc="CC_MAG_POST")
        assert standard.distance_mm is not None and magnified.distance_mm is not None
        difference = abs(standard.distance_mm - magnified.distance_mm)
        assert difference <= max(1.0, 0.02 * standard.distance_mm), truth["id"]
        assert magnified.clock_hour == standard.clock_hour
        cc, mag = (
            view(other_case.image("CC_POST"), truth["id"]),
            view(other_case.image("CC_MAG_POST"), truth["id"]),
        )
        assert cc.distance_mm is not None and mag.distance_mm is not None
        assert abs(cc.distance_mm - mag.distance_mm) <= max(1.5, 0.03 * cc.distance_mm)


def test_magnification_view_without_chest_wall_has_no_depth(other_case: PhantomCase) -> None:
    image = other_case.image("CC_MAG_POST")
    mag = localize_view(image.info, image.lesion("cyst-1"), image.nipple)
    assert mag.depth is None and mag.distance_mm is not None
    assert any("magnification" in note for note in mag.notes)


def test_mlo_pair_is_an_approximation(other_case: PhantomCase) -> None:
    """CC + MLO: the oblique axis taken as superior-inferior; within 2 h and 5 mm / 10 %."""
    for truth in other_case.lesions:
        location = pair(other_case, truth["id"], other="MLO")
        assert location.oblique_approximated
        assert any("oblique" in note for note in location.notes)
        assert abs((location.clock_hour - truth["clock_hour"] + 6) % 12 - 6) <= 2
        expected = truth["distance_from_nipple_mm"]
        assert location.distance_mm is not None
        assert abs(location.distance_mm - expected) <= max(5.0, 0.1 * expected)
        assert location.depth_fraction is not None
        assert abs(location.depth_fraction - truth["depth_fraction"]) < 0.1


def test_mlo_without_pectoral_line_has_no_depth(other_case: PhantomCase) -> None:
    image = other_case.image("MLO")
    one = localize_view(image.info, image.lesion("defect-1"), image.nipple)
    assert one.depth is None and any("pectoral" in note for note in one.notes)


# ------------------------------------------------------------------ mirroring


def mirrored_hour(hour: int) -> int:
    """Return the hour of the mirror image position in the other breast (h → 12 − h)."""
    return (12 - hour) % 12 or 12


@pytest.mark.parametrize(("seed", "side"), [(7, Side.LEFT), (42, Side.RIGHT)])
def test_mirrored_breast_mirrors_the_clock(seed: int, side: Side) -> None:
    """The same anatomy in the other breast: hour h → 12 − h, the quadrant is unchanged."""
    original = phantom_case(seed, side)
    breast = mirrored_breast(draw_injected_breast(seed, side))
    mirror = case_from_breast(seed, breast)
    assert mirror.side is not side
    for truth, mirrored_truth in zip(original.lesions, mirror.lesions, strict=True):
        here, there = pair(original, truth["id"]), pair(mirror, truth["id"])
        assert there.clock_hour == mirrored_hour(here.clock_hour)
        assert mirrored_truth["clock_hour"] == mirrored_hour(truth["clock_hour"])
        assert there.quadrant is here.quadrant
        assert there.depth is here.depth
        assert there.distance_mm == pytest.approx(here.distance_mm, abs=0.05)
        assert_matches_truth(there, mirrored_truth)


def test_same_clock_position_in_the_other_breast_swaps_outer_and_inner() -> None:
    """3 o'clock is lateral in the left breast and medial in the right one."""
    assert quadrant_of(10.0, 5.0, Laterality.LEFT) is Quadrant.UOQ
    assert quadrant_of(10.0, 5.0, Laterality.RIGHT) is Quadrant.UIQ
    assert quadrant_of(-10.0, -5.0, Laterality.LEFT) is Quadrant.LIQ
    assert quadrant_of(-10.0, -5.0, Laterality.RIGHT) is Quadrant.LOQ
    assert [mirrored_hour(h) for h in (1, 3, 6, 9, 11, 12)] == [11, 9, 6, 3, 1, 12]
    assert clock_hour(90.0) == 3 and clock_hour(359.0) == 12 and clock_hour(14.9) == 12


def test_image_stored_mirrored_gives_the_same_location() -> None:
    """A CC stored mirrored (like the prior RCC, A\\L) is read through its orientation."""
    breast = draw_injected_breast(42, Side.RIGHT)
    case = case_from_breast(42, breast)
    (item,) = (i for i in study.plan(Side.RIGHT) if i.label == "RCC_POST")
    flipped = dataclasses.replace(item, mirrored=True)
    geometry = study._geometry(flipped, breast)
    truth = study._image_truth(flipped, geometry, breast, "x.dcm", SAMPLE_UID)
    info = dataclasses.replace(
        case.image("CC_POST").info,
        patient_orientation=PatientOrientation(*geometry.patient_orientation),
        calibration=calibration_of(geometry),
    )
    image = PhantomImage("RCC_POST", info, truth)
    assert str(info.patient_orientation) == "A\\L"
    for lesion in case.lesions:
        as_stored = view(case.image("CC_POST"), lesion["id"])
        mirrored = view(image, lesion["id"])
        assert mirrored.across_mm == pytest.approx(as_stored.across_mm, abs=0.05)
        assert mirrored.depth_fraction == pytest.approx(as_stored.depth_fraction, abs=0.005)
        assert mirrored.half is as_stored.half


# ------------------------------------------------------------------ units


def _info(
    view_name: str = "CC",
    laterality: Laterality = Laterality.LEFT,
    orientation: tuple[str, str] | None = ("A", "R"),
    spacing: float | None = 0.1,
    magnified: bool = False,
) -> ImageInfo:
    calibration = (
        Calibration(spacing, spacing, CalibrationSource.CALIBRATED, None, "test")
        if spacing is not None
        else Calibration(None, None, CalibrationSource.UNKNOWN, None, "none")
    )
    return ImageInfo(
        SAMPLE_UID,
        laterality,
        view_name,
        None if orientation is None else PatientOrientation(*orientation),
        calibration,
        1000,
        800,
        magnified,
    )


def test_uncalibrated_view_gives_depth_and_half_but_no_mm() -> None:
    one = localize_view(_info(spacing=None), (300.0, 400.0), (700.0, 500.0))
    assert one.distance_mm is None and one.posterior_mm is None
    assert one.posterior_px == pytest.approx(400.0) and one.across_px == pytest.approx(100.0)
    assert one.depth_fraction == pytest.approx(400.0 / 700.0)
    assert one.depth is DepthThird.MIDDLE
    assert one.half is ClockHalf.LATERAL  # above the nipple on an A\R LCC: patient-left
    assert any("uncalibrated" in note for note in one.notes)
    other = localize_view(
        _info("ML", spacing=None, orientation=("A", "F")), (300.0, 600.0), (700.0, 500.0)
    )
    both = localize_pair(one, other)
    assert both.distance_mm is None and both.subareolar is None and not both.in_mm
    assert both.quadrant is Quadrant.LOQ  # lateral, inferior in the left breast


def test_orientation_letters_decide_the_directions() -> None:
    # RCC P\L: posterior to the right, patient-left downwards = medial for the right breast.
    rcc = localize_view(
        _info(laterality=Laterality.RIGHT, orientation=("P", "L")), (500.0, 600.0), (100.0, 500.0)
    )
    assert rcc.posterior_mm == pytest.approx(40.0) and rcc.across_mm == pytest.approx(10.0)
    assert rcc.half is ClockHalf.MEDIAL
    assert rcc.depth_fraction == pytest.approx(400.0 / 700.0)  # edge at column 800
    # Rotated storage: rows run posterior ("P" second), columns run patient-right.
    rotated = localize_view(_info(orientation=("R", "P")), (300.0, 700.0), (400.0, 100.0))
    assert rotated.posterior_mm == pytest.approx(60.0) and rotated.across_mm == pytest.approx(10.0)
    assert rotated.depth_fraction == pytest.approx(600.0 / 900.0)
    # Compound MLO letters: the H/F letter of "FL" is used, "L" ignored.
    mlo = ImageFrame.from_info(_info("MLO", Laterality.RIGHT, ("P", "FL")))
    assert mlo.across_axis == (0.0, -1.0) and mlo.posterior_axis == (1.0, 0.0)


def test_missing_orientation_assumes_the_hanging_one() -> None:
    frame = ImageFrame.from_info(_info("ML", orientation=None))
    assert str(frame.orientation) == "A\\F"
    assert any("assumed" in note for note in frame.notes)


@pytest.mark.parametrize(
    ("info", "message"),
    [
        (_info("SPECIMEN"), "cannot be localized"),
        (_info(laterality=Laterality.UNKNOWN), "laterality"),
        (_info(orientation=("H", "R")), "anterior/posterior"),
        (_info("ML", orientation=("A", "R")), "superior-inferior"),
    ],
)
def test_unusable_images_are_refused(info: ImageInfo, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        localize_view(info, (1.0, 1.0), (2.0, 2.0))


def test_pair_rules_are_checked() -> None:
    cc = localize_view(_info(), (300.0, 400.0), (700.0, 500.0))
    ml = localize_view(_info("ML", orientation=("A", "F")), (300.0, 400.0), (700.0, 500.0))
    rml = localize_view(_info("ML", Laterality.RIGHT, ("P", "F")), (300.0, 400.0), (100.0, 500.0))
    with pytest.raises(ValueError, match="CC-like"):
        localize_pair(ml, cc)
    with pytest.raises(ValueError, match="lateral or oblique"):
        localize_pair(cc, cc)
    with pytest.raises(ValueError, match="different breasts"):
        localize_pair(cc, rml)


def test_codes_of_a_location() -> None:
    cc = localize_view(_info(), (750.0, 480.0), (700.0, 500.0))  # 5 mm posterior, 2 mm left
    ml = localize_view(_info("ML", orientation=("A", "F")), (750.0, 470.0), (700.0, 500.0))
    near = localize_pair(cc, ml)
    assert near.subareolar is True and near.region_code == codes.SUBAREOLAR_REGION
    assert near.clock_hour == 1 and near.clock_code.value == "129772004"
    assert near.quadrant.code == codes.UPPER_OUTER_QUADRANT
    assert DepthThird.MIDDLE.code.value == "C25569" and codes.DEPTH.value == "111020"
    assert codes.DISTANCE_FROM_NIPPLE.value == "121242"
    assert codes.CLOCK_HOURS[12].value == "129783008"


def test_region_centres() -> None:
    def region(kind: GraphicType, *points: tuple[float, float]) -> ImageRegion:
        return ImageRegion(SAMPLE_UID, None, kind, points)

    assert region_center(region(GraphicType.POINT, (3.0, 4.0))) == (3.0, 4.0)
    assert region_center(region(GraphicType.CIRCLE, (3.0, 4.0), (8.0, 4.0))) == (3.0, 4.0)
    ellipse = region(GraphicType.ELLIPSE, (0.0, 5.0), (10.0, 5.0), (5.0, 3.0), (5.0, 7.0))
    assert region_center(ellipse) == (5.0, 5.0)
    closed = region(GraphicType.POLYLINE, (0.0, 0.0), (6.0, 0.0), (0.0, 3.0), (0.0, 0.0))
    assert region_center(closed) == (2.0, 1.0)
    assert region_center(region(GraphicType.POLYLINE, (0.0, 0.0), (4.0, 2.0))) == (2.0, 1.0)


def test_localize_finding_reports_what_is_missing() -> None:
    cc_info = _info()
    region = ImageRegion(SAMPLE_UID, None, GraphicType.POINT, ((300.0, 400.0),))
    finding = Finding.new(
        FindingType.CYST_FILL, [region], short_id="CY-1", laterality=Laterality.LEFT
    )
    no_nipple = localize_finding(finding, [], {SAMPLE_UID: cc_info})
    assert no_nipple.breast is None and no_nipple.views == ()
    assert any("no nipple" in p for p in no_nipple.problems)
    landmark = NippleLandmark(SAMPLE_UID, None, (700.0, 500.0))
    one_view = localize_finding(finding, [landmark], {SAMPLE_UID: cc_info})
    assert len(one_view.views) == 1 and one_view.breast is None
    assert any("needs the finding on a CC and" in p for p in one_view.problems)
    not_loaded = localize_finding(finding, [landmark], {})
    assert any("not loaded" in p for p in not_loaded.problems)


def test_the_missing_marks_are_named_exactly() -> None:
    cc_uid, ml_uid, r_ml_uid = "1.2.3.1", "1.2.3.2", "1.2.3.3"
    infos = {
        cc_uid: dataclasses.replace(_info("CC"), sop_instance_uid=cc_uid),
        ml_uid: dataclasses.replace(_info("ML", orientation=("A", "F")), sop_instance_uid=ml_uid),
        r_ml_uid: dataclasses.replace(
            _info("MLO", Laterality.RIGHT, orientation=("P", "F")), sop_instance_uid=r_ml_uid
        ),
    }
    cc = ImageRegion(cc_uid, None, GraphicType.POINT, ((300.0, 400.0),))
    ml = ImageRegion(ml_uid, None, GraphicType.POINT, ((300.0, 420.0),))
    r_ml = ImageRegion(r_ml_uid, None, GraphicType.POINT, ((300.0, 420.0),))
    nipples = [
        NippleLandmark(cc_uid, None, (700.0, 500.0)),
        NippleLandmark(ml_uid, None, (700.0, 500.0)),
    ]

    def missing(
        *regions: ImageRegion, landmarks: list[NippleLandmark] = nipples
    ) -> tuple[str, ...]:
        finding = Finding.new(
            FindingType.CYST_FILL, list(regions), short_id="CY-1", laterality=Laterality.LEFT
        )
        located = localize_finding(finding, landmarks, infos)
        assert located.missing == missing_marks(finding, landmarks, infos)
        return located.missing

    # both nipples marked, one view each: only the other view's region is asked for
    assert missing(cc) == ("an ML or MLO region",)
    assert missing(ml) == ("a CC region",)
    assert missing(cc, landmarks=[]) == ("the nipple on the L CC", "an ML or MLO region")
    assert missing(cc, ml, landmarks=nipples[:1]) == ("the nipple on the L ML",)
    assert missing(cc, r_ml) == ("the nipple on the R MLO",)
    assert missing(cc, r_ml, landmarks=[*nipples, NippleLandmark(r_ml_uid, None, (9.0, 9.0))]) == (
        "a CC and an ML or MLO region of the same breast",
    )
    assert missing(cc, ml) == ()  # located
    assert view_label(infos[r_ml_uid]) == "R MLO"


def test_chest_wall_line_needs_two_points() -> None:
    with pytest.raises(ValueError, match="two distinct"):
        ChestWallLine((1.0, 2.0), (1.0, 2.0))


def test_subareolar_radius_is_the_phantoms() -> None:
    assert (
        SUBAREOLAR_RADIUS_MM == study.SUBAREOLAR_RADIUS_MM == ground_truth()["subareolar_radius_mm"]
    )


def test_a_depth_from_one_view_is_not_called_unknown(other_case: PhantomCase) -> None:
    """CC + MLO without a pectoral line: the depth is the CC's, and the note says so."""
    truth = other_case.lesions[0]
    mlo = other_case.image("MLO")
    bare = localize_view(mlo.info, mlo.lesion(truth["id"]), mlo.nipple)
    assert bare.depth_fraction is None
    assert "no pectoral line: depth unknown" in bare.notes  # the view alone knows none
    cc = view(other_case.image("CC_POST"), truth["id"])
    location = localize_pair(cc, bare)
    assert location.depth_fraction == cc.depth_fraction and location.depth is not None
    assert "no pectoral line: depth from the CC view only" in location.notes
    assert not any("depth unknown" in note for note in location.notes)
    with_line = pair(other_case, truth["id"], other="MLO")
    assert not any("pectoral" in note for note in with_line.notes)


def test_a_location_on_a_suggested_nipple_says_so() -> None:
    cc_uid, ml_uid = "1.2.3.1", "1.2.3.2"
    infos = {
        cc_uid: dataclasses.replace(_info("CC"), sop_instance_uid=cc_uid),
        ml_uid: dataclasses.replace(_info("ML", orientation=("A", "F")), sop_instance_uid=ml_uid),
    }
    finding = Finding.new(
        FindingType.CYST_FILL,
        [
            ImageRegion(cc_uid, None, GraphicType.POINT, ((300.0, 400.0),)),
            ImageRegion(ml_uid, None, GraphicType.POINT, ((300.0, 420.0),)),
        ],
        short_id="CY-1",
        laterality=Laterality.LEFT,
    )
    confirmed = [
        NippleLandmark(cc_uid, None, (700.0, 500.0)),
        NippleLandmark(ml_uid, None, (700.0, 500.0)),
    ]
    located = localize_finding(finding, confirmed, infos).breast
    assert located is not None
    assert not any(UNCONFIRMED_NIPPLE_NOTE in note for note in located.notes)
    suggested = [confirmed[0], dataclasses.replace(confirmed[1], confirmed=False)]
    on_suggestion = localize_finding(finding, suggested, infos).breast
    assert on_suggestion is not None
    assert on_suggestion.clock_hour == located.clock_hour  # same place, only flagged
    assert on_suggestion.notes == (
        *located.notes,
        f"nipple on L ML {UNCONFIRMED_NIPPLE_NOTE}",
    )
