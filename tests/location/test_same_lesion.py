"""Which one-view finding a mark on the other view may be, and the suggested answer."""

from __future__ import annotations

import dataclasses

import pytest

from galactoview.annotations.model import (
    AnnotationSet,
    Finding,
    FindingType,
    GraphicType,
    ImageRegion,
    NippleLandmark,
)
from galactoview.dicom.calibration import Calibration, CalibrationSource
from galactoview.dicom.mammography import Laterality, PatientOrientation
from galactoview.location.frame import ImageInfo
from galactoview.location.same_lesion import (
    SAME_LESION_TOLERANCE_MM,
    distances_agree,
    nipple_distance_mm,
    same_lesion_candidate,
)

STUDY = "1.2.3"
L_CC, L_ML, R_ML, L_CC2 = "1.2.3.1", "1.2.3.2", "1.2.3.3", "1.2.3.4"
NIPPLE = (700.0, 500.0)


def info(uid: str, view: str, laterality: Laterality, spacing: float | None = 0.1) -> ImageInfo:
    calibration = (
        Calibration(spacing, spacing, CalibrationSource.CALIBRATED, None, "test")
        if spacing is not None
        else None
    )
    orientation = PatientOrientation("A", "R" if view == "CC" else "F")
    return ImageInfo(uid, laterality, view, orientation, calibration, 1000, 800)


INFOS = {
    L_CC: info(L_CC, "CC", Laterality.LEFT),
    L_ML: info(L_ML, "ML", Laterality.LEFT),
    R_ML: info(R_ML, "ML", Laterality.RIGHT),
    L_CC2: info(L_CC2, "CC", Laterality.LEFT),
}


def point(uid: str, x: float, y: float = 500.0) -> ImageRegion:
    return ImageRegion(uid, None, GraphicType.POINT, ((x, y),))


def finding(
    short_id: str, *regions: ImageRegion, kind: FindingType = FindingType.CYST_FILL
) -> Finding:
    return Finding.new(kind, list(regions), short_id=short_id, laterality=Laterality.LEFT)


def marks(*findings: Finding, nipples: tuple[str, ...] = (L_CC, L_ML, R_ML)) -> AnnotationSet:
    landmarks = tuple(NippleLandmark(uid, None, NIPPLE) for uid in nipples)
    return AnnotationSet(STUDY, findings=tuple(findings), landmarks=landmarks)


def test_distances_agree_within_15_mm_or_20_percent() -> None:
    assert SAME_LESION_TOLERANCE_MM == 15.0
    assert distances_agree(40.0, 55.0) and not distances_agree(40.0, 55.5)
    assert distances_agree(100.0, 80.0)  # 20 % of 100 = 20 mm allowed
    assert not distances_agree(100.0, 79.0)


def test_the_distance_from_the_nipple_is_in_mm() -> None:
    annotations = marks()
    assert nipple_distance_mm(point(L_CC, 300.0), annotations, INFOS) == pytest.approx(40.0)
    assert nipple_distance_mm(point(L_CC2, 300.0), annotations, INFOS) is None  # no nipple
    uncalibrated = {L_CC: info(L_CC, "CC", Laterality.LEFT, spacing=None)}
    assert nipple_distance_mm(point(L_CC, 300.0), annotations, uncalibrated) is None


def test_a_one_view_finding_of_the_type_on_the_other_view_of_the_breast() -> None:
    cc = finding("CY-1", point(L_CC, 300.0))
    candidate = same_lesion_candidate(point(L_ML, 310.0), FindingType.CYST_FILL, marks(cc), INFOS)
    assert candidate is not None and candidate.finding == cc
    assert (candidate.old_view, candidate.new_view) == ("L CC", "L ML")
    assert candidate.old_distance_mm == pytest.approx(40.0)
    assert candidate.new_distance_mm == pytest.approx(39.0)
    assert candidate.likely and candidate.question() == "Same lesion as CY-1?"
    assert "they agree (within 15 mm or 20%)" in candidate.details()
    far = same_lesion_candidate(point(L_ML, 650.0), FindingType.CYST_FILL, marks(cc), INFOS)
    assert far is not None and not far.likely and "do not agree" in far.details()
    unknown = same_lesion_candidate(
        point(L_ML, 310.0), FindingType.CYST_FILL, marks(cc, nipples=(L_CC,)), INFOS
    )
    assert unknown is not None and not unknown.likely and not unknown.distances_known
    assert "unknown on the L ML" in unknown.details()


@pytest.mark.parametrize(
    ("new", "kind", "existing"),
    [
        (point(L_CC2, 310.0), FindingType.CYST_FILL, point(L_CC, 300.0)),  # same family
        (point(R_ML, 310.0), FindingType.CYST_FILL, point(L_CC, 300.0)),  # other breast
        (point(L_ML, 310.0), FindingType.DUCT_NARROWING, point(L_CC, 300.0)),  # other type
        (point("9.9.9", 310.0), FindingType.CYST_FILL, point(L_CC, 300.0)),  # not loaded
    ],
)
def test_no_candidate(new: ImageRegion, kind: FindingType, existing: ImageRegion) -> None:
    annotations = marks(finding("CY-1", existing))
    assert same_lesion_candidate(new, kind, annotations, INFOS) is None


def test_a_finding_on_both_views_is_no_candidate_and_the_closest_wins() -> None:
    both = finding("CY-1", point(L_CC, 300.0), point(L_ML, 300.0))
    near = finding("CY-2", point(L_CC, 450.0))
    far = finding("CY-3", point(L_CC, 100.0))
    annotations = marks(both, near, far)
    candidate = same_lesion_candidate(point(L_ML, 440.0), FindingType.CYST_FILL, annotations, INFOS)
    assert candidate is not None and candidate.finding.short_id == "CY-2"
    # without distances the one marked last is asked about
    unknown = dataclasses.replace(annotations, landmarks=())
    last = same_lesion_candidate(point(L_ML, 440.0), FindingType.CYST_FILL, unknown, INFOS)
    assert last is not None and last.finding.short_id == "CY-3"
