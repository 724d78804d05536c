"""Automatic nipple and chest-wall suggestions on the sample study and synthetic images."""

from __future__ import annotations

import math
from functools import cache
from typing import Any, NamedTuple

import numpy as np
import pytest

from galactoview.dicom.calibration import Calibration
from galactoview.dicom.loading import load_pixels, read_header
from galactoview.dicom.mammography import Laterality, MammoView, PatientOrientation
from galactoview.imaging.display import DisplayPipeline, Window
from galactoview.location.landmarks import (
    BreastRegion,
    ChestWallKind,
    ChestWallSuggestion,
    NippleSuggestion,
    suggest_chest_wall,
    suggest_nipple,
)
from tests.helpers import ground_truth, sample_images

LEFT = Laterality.LEFT

LABELS = (
    "LCC_PRE",
    "LML_PRE",
    "LCC_POST",
    "LML_POST",
    "LCC_MAG_POST",
    "RCC",
    "LCC",
    "RMLO",
    "LMLO",
)


class Sample(NamedTuple):
    stored: np.ndarray
    pipeline: DisplayPipeline
    orientation: PatientOrientation | None
    view: MammoView
    calibration: Calibration
    truth: dict[str, Any]


@cache
def sample(label: str) -> Sample:
    """Decode a sample image (once per session) with its ground truth entry."""
    (truth,) = (i for i in ground_truth()["images"] if i["label"] == label)
    (record,) = (r for r in sample_images() if r.sop_instance_uid == truth["sop_instance_uid"])
    stored = load_pixels(record)
    stored.setflags(write=False)  # the suggestions must never write into it
    assert record.calibration is not None
    return Sample(
        stored,
        DisplayPipeline.from_dataset(read_header(record)),
        record.patient_orientation,
        record.view,
        record.calibration,
        truth,
    )


def nipple_of(s: Sample, stored: np.ndarray | None = None, **kw: Any) -> NippleSuggestion:
    orientation = kw.get("orientation", s.orientation)
    array = s.stored if stored is None else stored
    return suggest_nipple(array, s.pipeline, orientation, s.view.laterality, s.view)


def error_mm(s: Sample, point: tuple[float, float], truth: tuple[float, float]) -> float:
    distance = s.calibration.distance_mm(point[0] - truth[0], point[1] - truth[1])
    assert distance is not None
    return distance


def truth_nipple(s: Sample) -> tuple[float, float]:
    return float(s.truth["nipple"]["column"]), float(s.truth["nipple"]["row"])


# ------------------------------------------------------------------------------ nipple


@pytest.mark.parametrize("label", LABELS)
def test_nipple_within_3_mm_of_ground_truth(label: str) -> None:
    s = sample(label)
    assert s.truth["nipple"]["visible"]
    suggestion = nipple_of(s)
    assert error_mm(s, suggestion.point, truth_nipple(s)) <= 3.0
    assert 0.5 <= suggestion.confidence <= 1.0
    assert "guessed" not in suggestion.method


@pytest.mark.parametrize("label", ["LCC_POST", "LCC_MAG_POST"])
def test_contrast_filled_duct_confirms_the_nipple(label: str) -> None:
    suggestion = nipple_of(sample(label))
    assert suggestion.method == "outline+duct"
    assert suggestion.confidence > nipple_of(sample("LCC_PRE")).confidence


def test_pre_contrast_image_has_no_duct() -> None:
    assert nipple_of(sample("LCC_PRE")).method == "outline"


def test_mirrored_right_breast_mirrors_the_nipple() -> None:
    s = sample("LCC_POST")
    width = s.stored.shape[1]
    mirrored = s.stored[:, ::-1]
    assert s.orientation == PatientOrientation("A", "R")
    original = nipple_of(s)
    flipped = nipple_of(s, mirrored, orientation=PatientOrientation("P", "R"))
    # equal within the working image's sampling step (4 pixels, 0.37 mm)
    assert error_mm(s, flipped.point, (width - original.point[0], original.point[1])) <= 0.5
    assert flipped.method == original.method


def test_transposed_image_transposes_the_nipple() -> None:
    s = sample("LCC")
    original = nipple_of(s)
    turned = nipple_of(s, s.stored.T, orientation=PatientOrientation("R", "A"))
    assert turned.point[0] == pytest.approx(original.point[1], abs=1.0)
    assert turned.point[1] == pytest.approx(original.point[0], abs=1.0)


def test_missing_orientation_guesses_the_chest_wall_edge() -> None:
    s = sample("RCC")
    suggestion = nipple_of(s, orientation=None)
    assert "orientation guessed" in suggestion.method
    assert suggestion.confidence < nipple_of(s).confidence
    assert error_mm(s, suggestion.point, truth_nipple(s)) <= 3.0


def test_monochrome1_is_judged_on_tissue_not_on_stored_values() -> None:
    s = sample("LCC")  # MONOCHROME1: stored values are low where tissue is dense
    assert s.pipeline.invert
    other = sample("LCC_PRE")  # same breast, MONOCHROME2
    assert error_mm(s, nipple_of(s).point, nipple_of(other).point) <= 1.0


def _flat_front_breast(duct_row: int | None) -> tuple[np.ndarray, DisplayPipeline]:
    """A breast whose front is cut flat (no nipple in profile), optionally with a duct."""
    rng = np.random.default_rng(6)
    rows, columns = 600, 500
    r, c = np.mgrid[0:rows, 0:columns]
    inside = ((r - 300) / 260.0) ** 2 + (c / 420.0) ** 2 <= 1.0
    inside &= c <= 330  # flat front from row ~150 to ~450
    image = np.where(inside, 2000.0 + rng.normal(0.0, 60.0, (rows, columns)), 40.0)
    if duct_row is not None:
        start_row, start_col = 250.0, 120.0
        for column in range(int(start_col), 331):
            t = (column - start_col) / (330 - start_col)
            row = start_row + t * (duct_row - start_row)
            image[round(row) - 2 : round(row) + 3, column] += 1500.0
    pipeline = DisplayPipeline(12, 0, windows=(Window(2048.0, 4096.0),))
    return np.clip(image, 0, 4095).astype(np.uint16), pipeline


def test_duct_decides_the_nipple_on_a_flat_front() -> None:
    view = MammoView(Laterality.LEFT, short_name="CC")
    orientation = PatientOrientation("A", "R")
    stored, pipeline = _flat_front_breast(duct_row=380)
    with_duct = suggest_nipple(stored, pipeline, orientation, Laterality.LEFT, view)
    assert with_duct.method == "outline+duct"
    assert with_duct.point[1] == pytest.approx(380.5, abs=6.0)
    assert with_duct.point[0] == pytest.approx(331.0, abs=3.0)

    plain, pipeline = _flat_front_breast(duct_row=None)
    without = suggest_nipple(plain, pipeline, orientation, Laterality.LEFT, view)
    assert without.method == "outline"
    assert without.point[1] == pytest.approx(300.5, abs=10.0)  # middle of the flat front
    assert without.confidence < with_duct.confidence


def test_empty_or_non_2d_image_is_refused() -> None:
    pipeline = DisplayPipeline(12, 0)
    orientation = PatientOrientation("A", "R")
    with pytest.raises(ValueError, match="no breast"):
        suggest_nipple(np.full((50, 40), 40, np.uint16), pipeline, orientation, LEFT, "CC")
    with pytest.raises(ValueError, match="2-D"):
        suggest_chest_wall(np.zeros((5, 5, 3), np.uint16), pipeline, orientation, "CC")


# ------------------------------------------------------------------------------ chest wall


def chest_wall_of(s: Sample, stored: np.ndarray | None = None, **kw: Any) -> ChestWallSuggestion:
    array = s.stored if stored is None else stored
    return suggest_chest_wall(array, s.pipeline, kw.get("orientation", s.orientation), s.view)


@pytest.mark.parametrize(
    "label", ["LCC_PRE", "LML_PRE", "LCC_POST", "LML_POST", "LCC_MAG_POST", "RCC", "LCC"]
)
def test_chest_wall_of_cc_and_ml_is_the_posterior_image_edge(label: str) -> None:
    s = sample(label)
    suggestion = chest_wall_of(s)
    assert suggestion.kind is ChestWallKind.IMAGE_EDGE
    assert s.truth["chest_wall"]["kind"] == "image_edge"
    (c0, r0), (c1, r1) = suggestion.points
    rows, columns = s.stored.shape
    assert c0 == c1 and {r0, r1} == {0.0, float(rows)}  # vertical, full height
    truth_columns = [point[0] for point in s.truth["chest_wall"]["points"]]
    for column in truth_columns:  # the same edge (the magnified view's lies off the image)
        assert abs(column - c0) < columns / 2
    assert suggestion.confidence >= 0.9


@pytest.mark.parametrize("label", ["RMLO", "LMLO"])
def test_pectoral_line_of_mlo_matches_ground_truth(label: str) -> None:
    s = sample(label)
    suggestion = chest_wall_of(s)
    assert suggestion.kind is ChestWallKind.PECTORAL_LINE
    truth = [tuple(point) for point in s.truth["chest_wall"]["points"]]
    for found, expected in zip(suggestion.points, truth, strict=True):
        assert error_mm(s, found, expected) <= 5.0
    assert suggestion.confidence >= 0.5


def _angle(points: Any) -> float:
    (c0, r0), (c1, r1) = points
    return math.degrees(math.atan2(r1 - r0, c1 - c0))


def test_mirrored_mlo_mirrors_the_pectoral_line() -> None:
    s = sample("LMLO")
    width = s.stored.shape[1]
    original = chest_wall_of(s)
    flipped = chest_wall_of(s, s.stored[:, ::-1], orientation=PatientOrientation("P", "FR"))
    assert flipped.kind is ChestWallKind.PECTORAL_LINE
    for a, b in zip(original.points, flipped.points, strict=True):
        assert error_mm(s, b, (width - a[0], a[1])) <= 0.5
    assert _angle(flipped.points) == pytest.approx(180.0 - _angle(original.points), abs=0.5)


def test_mlo_without_a_muscle_falls_back_to_the_edge() -> None:
    stored, pipeline = _flat_front_breast(duct_row=None)
    suggestion = suggest_chest_wall(stored, pipeline, PatientOrientation("A", "FR"), "MLO")
    assert suggestion.kind is ChestWallKind.IMAGE_EDGE
    assert suggestion.points == ((0.0, 0.0), (0.0, 600.0))
    assert suggestion.confidence <= 0.3


def test_right_cc_edge_is_on_the_right() -> None:
    s = sample("LCC")
    suggestion = chest_wall_of(s, s.stored[:, ::-1], orientation=PatientOrientation("P", "L"))
    width = float(s.stored.shape[1])
    assert [point[0] for point in suggestion.points] == [width, width]


@pytest.mark.parametrize("label", ["LCC", "LMLO"])
def test_breast_region_holds_the_nipple_and_lesions_and_not_the_air_in_front(label: str) -> None:
    s = sample(label)
    breast = BreastRegion.of(s.stored, s.pipeline)
    nipple = (s.truth["nipple"]["column"], s.truth["nipple"]["row"])
    assert breast.contains(nipple)  # on the skin line: counted as breast
    for lesion in s.truth["lesions"]:
        assert breast.contains((lesion["column"], lesion["row"]))
    _rows, columns = s.stored.shape
    # In front of the nipple, along its row, and the far corners: air (PS3.3 C.7.6.1.1.1:
    # the chest wall is the image edge the orientation calls posterior, here column 0).
    ahead = (min(columns - 5.0, nipple[0] + 150.0), nipple[1])
    assert breast.in_air([ahead])
    assert not breast.contains((columns - 2.0, 2.0))
    assert not breast.contains((columns + 10.0, nipple[1]))  # off the image: not breast
    # A mark is in air only when none of it is on the breast.
    assert not breast.in_air([ahead, nipple])
    assert not breast.in_air([])


def test_breast_region_of_an_image_without_background_is_all_breast() -> None:
    flat = np.full((300, 200), 1000, dtype=np.uint16)
    breast = BreastRegion.of(flat, breast_pipeline())
    assert breast.contains((10.0, 10.0)) and breast.contains((199.0, 299.0))
    with pytest.raises(ValueError, match="2-D"):
        BreastRegion.of(np.zeros((2, 3, 3), dtype=np.uint16), breast_pipeline())


def breast_pipeline() -> DisplayPipeline:
    return DisplayPipeline(12, 0, windows=(Window(2048.0, 4096.0),))
