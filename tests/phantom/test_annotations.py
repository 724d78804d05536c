"""The annotated sample: the sidecar marks the phantom's lesions and nipples, reproducibly."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from galactoview.annotations import codes
from galactoview.annotations.model import FindingType, GraphicType, ImageRegion, Laterality
from galactoview.location import codes as location_codes
from galactoview.location.localize import DepthThird, Quadrant
from galactoview.paths import sample_data_dir
from galactoview.phantom.annotations import OBSERVER, sample_sidecar_text
from galactoview.sr.sr_codec import decode, from_json


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    path = sample_data_dir() / "ground_truth.json"
    if not path.is_file():
        pytest.skip("no sample study")
    result: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return result


@pytest.fixture(scope="module")
def generated(truth: dict[str, Any]) -> tuple[Path, str]:
    return sample_sidecar_text(sample_data_dir(), truth)


def contains(region: ImageRegion, column: float, row: float) -> bool:
    p = region.points
    if region.graphic_type is GraphicType.CIRCLE:
        return math.dist(p[0], (column, row)) < math.dist(p[0], p[1])
    assert region.graphic_type is GraphicType.ELLIPSE
    centre = ((p[0][0] + p[1][0]) / 2, (p[0][1] + p[1][1]) / 2)
    a, b = math.dist(p[0], p[1]) / 2, math.dist(p[2], p[3]) / 2
    u = ((p[1][0] - p[0][0]) / (2 * a), (p[1][1] - p[0][1]) / (2 * a))
    d = (column - centre[0], row - centre[1])
    along, across = d[0] * u[0] + d[1] * u[1], -d[0] * u[1] + d[1] * u[0]
    return (along / a) ** 2 + (across / b) ** 2 < 1.0


def test_the_committed_sidecar_is_reproduced_byte_for_byte(generated: tuple[Path, str]) -> None:
    path, text = generated
    assert path.is_file(), "sample_data lacks the sidecar: run make sample-data"
    assert path.read_bytes() == text.encode("utf-8")
    assert (
        sample_sidecar_text(
            sample_data_dir(),
            json.loads((sample_data_dir() / "ground_truth.json").read_text("utf-8")),
        )[1]
        == text
    )


def test_the_sidecar_marks_every_lesion_and_nipple(
    truth: dict[str, Any], generated: tuple[Path, str]
) -> None:
    result = decode(from_json(generated[1]))
    assert result.problems == ()
    annotations = result.annotations
    assert annotations.observer == OBSERVER
    by_type = {f.finding_type: f for f in annotations.findings}
    assert set(by_type) == {
        FindingType.INTRALUMINAL_FILLING_DEFECT,
        FindingType.CYST_FILL,
        FindingType.MAMMARY_DUCT_ECTASIA,
    }
    assert (
        by_type[FindingType.INTRALUMINAL_FILLING_DEFECT].impression == codes.INTRADUCTAL_PAPILLOMA
    )
    assert {r.graphic_type for r in by_type[FindingType.CYST_FILL].regions} == {GraphicType.CIRCLE}
    kinds = {
        "defect-1": FindingType.INTRALUMINAL_FILLING_DEFECT,
        "cyst-1": FindingType.CYST_FILL,
        "ectasia-1": FindingType.MAMMARY_DUCT_ECTASIA,
    }
    post = [i for i in truth["images"] if i["contrast"] and i["laterality"] == truth["side"]]
    assert [i["label"] for i in post] == ["LCC_POST", "LML_POST", "LCC_MAG_POST"]
    for image in post:
        for projection in image["lesions"]:
            finding = by_type[kinds[projection["id"]]]
            assert finding.laterality is Laterality.LEFT
            (region,) = [
                r for r in finding.regions if r.sop_instance_uid == image["sop_instance_uid"]
            ]
            assert contains(region, projection["column"], projection["row"]), (
                image["label"],
                projection["id"],
            )
        landmark = annotations.landmark(image["sop_instance_uid"])
        assert landmark is not None
        assert landmark.point == pytest.approx(
            (image["nipple"]["column"], image["nipple"]["row"]), abs=1e-3
        )
    # Each region is measured (ellipse: long, short axis, area; circle: diameter, area).
    for finding in annotations.findings:
        assert {m.region_index for m in finding.measurements} == set(range(len(finding.regions)))
        assert all(
            m.unit == codes.MILLIMETER or m.unit == codes.SQUARE_MILLIMETER
            for m in finding.measurements
        )


def test_the_sidecar_stores_each_lesions_ground_truth_location(
    truth: dict[str, Any], generated: tuple[Path, str]
) -> None:
    result = decode(from_json(generated[1]))
    by_id = {f.short_id: f.tracking_uid for f in result.annotations.findings}
    defect = result.locations[by_id["FD-1"]]
    assert defect.clock_hour == 7
    assert defect.clock_or_region == location_codes.CLOCK_HOURS[7]
    assert defect.quadrant == location_codes.LOWER_INNER_QUADRANT
    assert defect.depth == location_codes.MIDDLE
    assert defect.distance_from_nipple_mm == pytest.approx(58.0, abs=1.5)
    assert defect.oblique_approximated is False
    quadrants = {q.name: q.code for q in Quadrant}
    depths = {d.value: d.code for d in DepthThird}
    lesions = {lesion["id"]: lesion for lesion in truth["lesions"]}
    expected = {"FD-1": "defect-1", "CY-1": "cyst-1", "DE-1": "ectasia-1"}
    assert set(result.locations) == {by_id[short_id] for short_id in expected}
    for short_id, lesion_id in expected.items():
        stored, lesion = result.locations[by_id[short_id]], lesions[lesion_id]
        assert stored.clock_hour == lesion["clock_hour"], short_id
        assert stored.quadrant == quadrants[lesion["quadrant"]], short_id
        assert stored.depth == depths[lesion["depth_third"]], short_id
        assert stored.distance_from_nipple_mm is not None
        tolerance = max(5.0, 0.1 * lesion["distance_from_nipple_mm"])
        assert abs(stored.distance_from_nipple_mm - lesion["distance_from_nipple_mm"]) <= tolerance
