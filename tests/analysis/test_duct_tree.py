"""The duct-tree suggestion finds the phantom's opacified tree from the nipple (issue 16)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from galactoview.analysis.algorithms import DUCT_TREE_ALGORITHM
from galactoview.analysis.duct_tree import DuctTreeSuggestion, suggest_duct_tree
from galactoview.dicom.calibration import calibration_from_dataset
from galactoview.dicom.loading import load_pixels, read_header
from galactoview.imaging.display import DisplayPipeline
from galactoview.phantom.anatomy import Side
from galactoview.phantom.breast_builder import draw_injected_breast
from galactoview.phantom.centrelines import projected_centrelines
from galactoview.phantom.study import _geometry, plan
from tests.analysis.synthetic import PIPELINE, SPACING_MM, breast_with_tubes
from tests.helpers import ground_truth, sample_images

#: A Y: trunk from the nipple, a fork at (600, 600), two children.
FORK = (600.0, 600.0)
Y_TREE = [((940, 600), FORK, 1.2), (FORK, (250, 420), 0.8), (FORK, (250, 780), 0.8)]


def _sample(label: str) -> tuple[DuctTreeSuggestion, float, str]:
    (truth,) = (i for i in ground_truth()["images"] if i["label"] == label)
    (record,) = (r for r in sample_images() if r.sop_instance_uid == truth["sop_instance_uid"])
    stored = load_pixels(record)
    stored.setflags(write=False)  # never written into
    header = read_header(record)
    calibration = calibration_from_dataset(header)
    assert calibration.row_spacing_mm is not None
    nipple = (truth["nipple"]["column"], truth["nipple"]["row"])
    tree = suggest_duct_tree(
        stored, DisplayPipeline.from_dataset(header), calibration.row_spacing_mm, nipple
    )
    return tree, calibration.row_spacing_mm, label


def _dense(points: list[tuple[float, float]] | tuple[tuple[float, float], ...]) -> np.ndarray:
    out = []
    for a, b in itertools.pairwise(points):
        t = np.linspace(0.0, 1.0, max(2, int(math.dist(a, b) / 2) + 1))[:, None]
        out.append(np.asarray(a) + t * np.subtract(b, a))
    return np.concatenate(out)


@pytest.mark.parametrize(
    ("label", "branches", "recall", "precision"),
    # The ML's tree beyond the papilloma is thin ducts over dense tissue: found in part
    # (docs/analysis.md). Version 1.0 found 0.92 / 0.91 (CC) and 0.72 / 0.84 (ML), 1.1
    # finds 0.90 / 0.96 and 0.81 / 0.91: the CC's recall fell a little (a thin branch
    # beyond the cyst), the rest rose; the bounds keep 1.1 from regressing.
    [("LCC_POST", 5, 0.85, 0.9), ("LML_POST", 3, 0.78, 0.85)],
)
def test_the_sample_tree_is_found_from_the_nipple_within_a_millimetre(
    label: str, branches: int, recall: float, precision: float
) -> None:
    tree, spacing, _ = _sample(label)
    assert tree.problem == "" and tree.calibrated and len(tree.branches) >= branches
    sample = ground_truth()
    breast = draw_injected_breast(sample["seed"], Side(sample["side"]))
    (item,) = (i for i in plan(breast.side) if i.label == label)
    segments = projected_centrelines(breast, _geometry(item, breast))
    wide = np.concatenate([_dense(s.points) for s in segments if min(s.radius_mm) >= 0.5])
    every = np.concatenate([_dense(s.points) for s in segments])
    found = np.concatenate([_dense(b.points) for b in tree.branches])
    millimetre = 1.0 / spacing

    def near(points: np.ndarray, others: np.ndarray) -> float:
        distance = np.min(np.hypot(*(points[:, None, :] - others[None, :, :]).T), axis=0)
        return float(np.mean(distance <= millimetre))

    assert near(wide, found) >= recall  # of the ducts ≥ 0.5 mm in radius
    assert near(found, every) >= precision


def test_branches_form_a_tree_rooted_at_the_orifice() -> None:
    tree, spacing, _ = _sample("LCC_POST")
    trunk = tree.branches[0]
    assert trunk.parent is None and trunk.generation == 0
    assert trunk.points[0] == tree.orifice
    for branch in tree.branches[1:]:
        assert branch.parent is not None and branch.parent < branch.index
        parent = tree.branches[branch.parent]
        assert branch.generation == parent.generation + 1
        assert branch.points[0] == parent.points[-1]  # children leave their parent's end
        assert branch.length_mm == pytest.approx(branch.length_px * spacing, abs=0.01)
        assert branch.calibre_mm is not None and 0.3 <= branch.calibre_mm <= 6.0
    assert {b.index for b in tree.subtree(0)} == {b.index for b in tree.branches}
    assert tree.algorithm == DUCT_TREE_ALGORITHM


def _turns(points: tuple[tuple[float, float], ...]) -> list[float]:
    """Return the turn (degrees) at each inner vertex of a polyline."""
    turns = []
    for a, m, c in zip(points, points[1:], points[2:], strict=False):
        one, two = (m[0] - a[0], m[1] - a[1]), (c[0] - m[0], c[1] - m[1])
        cross, dot = one[0] * two[1] - one[1] * two[0], one[0] * two[0] + one[1] * two[1]
        turns.append(abs(math.degrees(math.atan2(cross, dot))))
    return turns


@pytest.mark.parametrize("label", ["LCC_POST", "LML_POST"])
def test_a_fork_moved_back_cuts_its_parent_there_no_line_doubles_back(label: str) -> None:
    tree, _, _ = _sample(label)
    assert any(tree.children(b.index) for b in tree.branches)  # forks to move
    assert max(t for b in tree.branches for t in _turns(b.points)) < 120.0


def test_a_y_shaped_tree_gives_three_branches_and_its_fork_within_two_millimetres() -> None:
    image = breast_with_tubes(Y_TREE)
    tree = suggest_duct_tree(image, PIPELINE, SPACING_MM, (940.0, 600.0))
    assert [(b.parent, b.generation) for b in tree.branches] == [(None, 0), (0, 1), (0, 1)]
    (fork,) = tree.branch_points()
    assert math.dist(fork, FORK) * SPACING_MM <= 2.0
    trunk = tree.branches[0]
    assert trunk.length_mm == pytest.approx(34.0, abs=2.5)
    assert trunk.calibre_mm == pytest.approx(2.4, abs=0.6)
    assert tree.children(0) == tree.branches[1:]


def test_without_calibration_the_tree_is_the_same_and_has_no_millimetres() -> None:
    image = breast_with_tubes(Y_TREE)
    calibrated = suggest_duct_tree(image, PIPELINE, SPACING_MM, (940.0, 600.0))
    plain = suggest_duct_tree(image, PIPELINE, None, (940.0, 600.0))
    assert not plain.calibrated and plain.pixel_spacing_mm == SPACING_MM
    assert [b.points for b in plain.branches] == [b.points for b in calibrated.branches]
    assert all(b.length_mm is None and b.calibre_mm is None for b in plain.branches)


def test_an_orifice_far_from_any_duct_or_an_empty_image_gives_a_reason_not_a_tree() -> None:
    image = breast_with_tubes(Y_TREE)
    far = suggest_duct_tree(image, PIPELINE, SPACING_MM, (300.0, 1000.0))
    assert far.branches == () and "orifice" in far.problem and "nipple" in far.problem
    off = suggest_duct_tree(image, PIPELINE, SPACING_MM, (5000.0, 600.0))  # off the image
    assert off.branches == () and "orifice" in off.problem
    blank = suggest_duct_tree(np.full((400, 300), 900, np.uint16), PIPELINE, SPACING_MM, (1, 1))
    assert blank.branches == () and "uniform" in blank.problem
    plain = suggest_duct_tree(breast_with_tubes([]), PIPELINE, SPACING_MM, (940.0, 600.0))
    assert plain.branches == () and plain.problem
    with pytest.raises(ValueError, match="2-D"):
        suggest_duct_tree(np.zeros((2, 5, 5), np.uint16), PIPELINE, SPACING_MM, (1, 1))
    with pytest.raises(ValueError, match="positive"):
        suggest_duct_tree(image, PIPELINE, 0.0, (940.0, 600.0))
