"""The phantom generator: deterministic, either breast, geometry and ground truth consistent."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest

from galactoview.paths import sample_data_dir
from galactoview.phantom.__main__ import SAMPLE_SEED, main
from galactoview.phantom.anatomy import Side, clock_angle_deg
from galactoview.phantom.breast_builder import draw_injected_breast
from galactoview.phantom.bubbles import bubble_truth
from galactoview.phantom.geometry import ViewGeometry, ViewKind
from galactoview.phantom.study import _geometry, exposure_bubbles, lesion_truth, plan
from tests.pixel_probes import annulus, disk_mean


@pytest.fixture(scope="module")
def right_phantom(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("phantom-r")
    argv = ["--seed", "11", "--side", "R", "--out", str(out), "--no-previews", "--bubbles"]
    assert main(argv) == 0
    truth: dict[str, Any] = json.loads((out / "ground_truth.json").read_text("utf-8"))
    return out, truth


@pytest.mark.slow
def test_regenerating_the_sample_study_reproduces_the_committed_bytes(tmp_path: Path) -> None:
    committed = sample_data_dir() / "SHA256SUMS"
    if not committed.is_file():
        pytest.skip("no committed sample study")
    assert main(["--seed", str(SAMPLE_SEED), "--side", "L", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "SHA256SUMS").read_text("utf-8") == committed.read_text("utf-8")


def test_same_seed_same_breast_other_seed_other_breast() -> None:
    a, b = draw_injected_breast(5, Side.LEFT), draw_injected_breast(5, Side.LEFT)
    c = draw_injected_breast(6, Side.LEFT)
    assert a == b
    assert a.lesions != c.lesions


def test_right_phantom_files_and_orientation(right_phantom: tuple[Path, dict[str, Any]]) -> None:
    out, truth = right_phantom
    assert truth["side"] == "R" and truth["seed"] == 11
    duct = [img for img in truth["images"] if "DUCTOGRAM" in img["file"]]
    assert [img["label"] for img in duct] == [
        "RCC_PRE",
        "RML_PRE",
        "RCC_POST",
        "RML_POST",
        "RCC_MAG_POST",
    ]
    for img in duct:
        ds = pydicom.dcmread(out / img["file"], stop_before_pixels=True)
        assert ds.ImageLaterality == "R"
        assert ds.StudyDescription == "DUCTOGRAM RIGHT"
        assert ds.PatientOrientation[0] == "P"  # right breast: nipple towards column 0
    assert not (out / "previews").exists()


def test_right_phantom_lesions_project_onto_contrast(
    right_phantom: tuple[Path, dict[str, Any]],
) -> None:
    out, truth = right_phantom
    for img in truth["images"]:
        if not img["contrast"]:
            continue
        arr = pydicom.dcmread(out / img["file"]).pixel_array.astype(np.float64)
        for lesion in img["lesions"]:
            r = lesion["projected_radius_px"]
            at = (arr, lesion["column"], lesion["row"])
            centre = disk_mean(*at, 0.25 * r)
            if lesion["id"].startswith("defect"):
                ring = annulus(*at, r, 1.6 * r)
                assert centre < float(np.percentile(ring, 98)) - 150, (img["label"], lesion["id"])
            else:
                far = annulus(*at, 2.5 * r, 4 * r)
                assert centre > float(np.median(far)) + 300, (img["label"], lesion["id"])


def test_with_bubbles_each_post_contrast_image_shows_its_own(
    right_phantom: tuple[Path, dict[str, Any]],
) -> None:
    out, truth = right_phantom
    assert truth["bubbles"] is True and truth["schema_version"] == 2
    breast = draw_injected_breast(11, Side.RIGHT)
    drawn = exposure_bubbles(11, Side.RIGHT, breast)
    seen = []
    for item, img in zip(plan(Side.RIGHT), truth["images"], strict=True):
        if not (img["contrast"] and img["laterality"] == "R"):
            assert img["bubbles"] == [] and img["ducts"] == []
            continue
        expected = bubble_truth(drawn[item.label], _geometry(item, breast))
        assert img["bubbles"] == expected and 1 <= len(expected) <= 4
        arr = pydicom.dcmread(out / img["file"]).pixel_array.astype(np.float64)
        for bubble in img["bubbles"]:
            at = (arr, bubble["column"], bubble["row"])
            # A lucency in the bright lumen: darker than the contrast around its rim.
            ring = annulus(*at, bubble["radius_px"] + 1.5, bubble["radius_px"] + 4.0)
            assert disk_mean(*at, 0.5 * bubble["radius_px"]) < float(np.max(ring)) - 100.0
        seen.append({(b["column"], b["row"]) for b in img["bubbles"]})
    assert len(seen) == 3 and seen[0].isdisjoint(seen[1])  # CC and ML: elsewhere


def test_clock_face_is_mirrored_between_breasts() -> None:
    # 3 o'clock is lateral in the left breast and medial in the right breast: a point
    # towards the patient's left reads 3 o'clock in both, but its quadrant differs.
    assert clock_angle_deg((10.0, 40.0, 0.0)) == pytest.approx(90.0)
    assert clock_angle_deg((0.0, 40.0, 10.0)) == pytest.approx(0.0)
    assert clock_angle_deg((-10.0, 40.0, 0.0)) == pytest.approx(270.0)
    left = draw_injected_breast(3, Side.LEFT)
    right = draw_injected_breast(3, Side.RIGHT)
    for breast in (left, right):
        for item, lesion in zip(lesion_truth(breast), breast.lesions, strict=True):
            x, _, z = lesion.center
            towards_patient_left = x > 0
            lateral = towards_patient_left == (breast.side is Side.LEFT)
            assert item["quadrant"][1] == ("O" if lateral else "I")
            assert item["quadrant"][0] == ("U" if z > 0 else "L")
            assert 1 <= item["clock_hour"] <= 12
            # Hours on the patient's left half of the clock (1-5) are lateral only on the left.
            if 1 <= item["clock_hour"] <= 5:
                assert towards_patient_left


def test_ground_truth_is_unambiguous_for_many_seeds() -> None:
    for seed in range(20, 30):
        for side in Side:
            breast = draw_injected_breast(seed, side)
            for item in lesion_truth(breast):
                assert item["radial_offset_mm"] >= 10.0
                angle = item["clock_angle_deg"] % 30.0
                assert abs(angle - 15.0) > 4.0  # not on a half-hour boundary
                assert abs(item["depth_fraction"] - 1 / 3) > 0.04
                assert abs(item["depth_fraction"] - 2 / 3) > 0.04


@pytest.mark.parametrize("side", list(Side))
def test_projection_geometry(side: Side) -> None:
    g = ViewGeometry(side, ViewKind.CC, 2294, 1914, 0.1, 650.0, 18.0, 60.0, (100.0, 114.7))
    # The chest wall plane (100 mm behind the nipple) projects onto the chest-wall edge.
    wall = g.project(np.array([[0.0, 100.0, -30.0], [0.0, 100.0, 25.0], [20.0, 100.0, 0.0]]))
    edge = 0.0 if side is Side.LEFT else 1914.0
    assert wall[:, 0] == pytest.approx([edge] * 3, abs=1e-6)
    # The nipple is on the mid-plane: magnified by SID / (SID - support - thickness / 2).
    nipple = g.project(np.zeros((1, 3)))[0]
    m = 650.0 / (650.0 - 48.0)
    assert g.magnification == pytest.approx(m)
    assert abs(nipple[0] - edge) * 0.1 == pytest.approx(100.0 * m)
    # CC: lateral is up (smaller row) in both breasts.
    lateral = np.array([[side.lateral_sign * 20.0, 0.0, 0.0]])
    assert g.project(lateral)[0][1] < nipple[1]
    # ML: superior is up.
    ml = ViewGeometry(side, ViewKind.ML, 2294, 1914, 0.1, 650.0, 18.0, 60.0, (100.0, 114.7))
    assert ml.project(np.array([[0.0, 0.0, 20.0]]))[0][1] < ml.project(np.zeros((1, 3)))[0][1]
    # The distance from the nipple measured on the image, corrected by the magnification
    # factor, matches the in-plane distance.
    p = np.array([[side.lateral_sign * 15.0, 40.0, 0.0]])
    d_px = float(np.hypot(*(g.project(p)[0] - nipple)))
    assert d_px * 0.1 / m == pytest.approx(math.hypot(15.0, 40.0), rel=0.01)
