"""Tree metrics on hand-made trees whose Strahler orders and R matrices are known (issue 16)."""

from __future__ import annotations

import itertools
import json

import pytest

from galactoview.analysis.duct_tree import DuctTreeSuggestion, SuggestedBranch
from galactoview.analysis.tree_metrics import segment_metrics, suggestion_metrics, tree_metrics
from galactoview.annotations.codes import MILLIMETER, PATH_LENGTH
from galactoview.annotations.model import (
    DuctSegment,
    GraphicType,
    ImageRegion,
    MeasurementValue,
)


def _perfect_binary(depth: int) -> list[int | None]:
    """Parents of a perfect binary tree with ``depth`` generations, the trunk first."""
    parents: list[int | None] = [None]
    level = [0]
    for _ in range(depth - 1):
        nxt = []
        for parent in level:
            for _ in range(2):
                parents.append(parent)
                nxt.append(len(parents) - 1)
        level = nxt
    return parents


def test_a_perfect_binary_tree_of_depth_3_branches_only_symmetrically() -> None:
    parents = _perfect_binary(3)  # 1 + 2 + 4 branches
    metrics = tree_metrics(parents, [10.0, 5.0, 5.0, 2.0, 2.0, 2.0, 2.0])
    assert metrics.branch_count == 7
    assert metrics.generations == 3
    assert metrics.branches_per_generation == (1, 2, 4)
    assert metrics.length_per_generation == (10.0, 10.0, 8.0)
    assert metrics.total_length == 28.0
    assert metrics.branch_orders == (3, 2, 2, 1, 1, 1, 1)
    assert metrics.strahler_order == 3
    # Orders 2 and 3: every bifurcation into two of the order below, the diagonal.
    assert metrics.bifurcation_counts == ((0, 2), (0, 0, 1))
    assert metrics.ramification_matrix == ((0.0, 1.0), (0.0, 0.0, 1.0))


def test_a_comb_has_side_branches_of_order_1_off_the_diagonal() -> None:
    # A caterpillar: the main duct 0 -> 2 -> 4, a leaf side branch 1, 3 at each
    # division on the way, and 4 ends in the two leaves 5, 6.
    parents: list[int | None] = [None, 0, 0, 2, 2, 4, 4]
    metrics = tree_metrics(parents, [1.0] * 7)
    assert metrics.branch_orders == (2, 1, 2, 1, 2, 1, 1)
    assert metrics.strahler_order == 2
    # Three bifurcations of order 2: one into (1, 1) at the end, two with side branch 1.
    assert metrics.bifurcation_counts == ((2, 1),)
    assert metrics.ramification_matrix == ((2 / 3, 1 / 3),)
    assert metrics.generations == 4


def test_a_mixed_tree_of_order_3_fills_every_kind_of_its_row() -> None:
    # Root 0 -> (1, 2); 1 -> (3, 4) leaves: order 2; 2 -> (5, 6) where 5 -> (7, 8):
    # 5 is order 2, 6 a leaf, so 2 is order 2 with a side branch of order 1.
    # Root: (2, 2) -> order 3, diagonal.
    parents: list[int | None] = [None, 0, 0, 1, 1, 2, 2, 5, 5]
    metrics = tree_metrics(parents, [1.0] * 9)
    assert metrics.branch_orders == (3, 2, 2, 1, 1, 2, 1, 1, 1)
    assert metrics.bifurcation_counts == ((1, 2), (0, 0, 1))
    for row in metrics.ramification_matrix:
        assert sum(row) == pytest.approx(1.0)
    assert metrics.ramification_matrix[0] == pytest.approx((1 / 3, 2 / 3))


def test_a_trifurcation_counts_as_two_bifurcations_highest_orders_first() -> None:
    # The trunk divides into three leaves: order 2; (1, 1) diagonal, then side branch 1.
    metrics = tree_metrics([None, 0, 0, 0], [4.0, 1.0, 1.0, 1.0])
    assert metrics.branch_orders == (2, 1, 1, 1)
    assert metrics.bifurcation_counts == ((1, 1),)
    assert metrics.bifurcations == 2
    assert metrics.generations == 2
    # Children of orders 2, 2, 1: order 3, one diagonal bifurcation and side branch 1.
    parents: list[int | None] = [None, 0, 0, 0, 1, 1, 2, 2]
    metrics = tree_metrics(parents, [1.0] * 8)
    assert metrics.branch_orders[0] == 3
    assert metrics.bifurcation_counts == ((0, 2), (1, 0, 1))
    assert metrics.ramification_matrix[1] == (0.5, 0.0, 0.5)


def test_an_unbranched_chain_is_one_duct_no_bifurcation_no_new_generation() -> None:
    # The trunk continues in branch 1 (its only child), which divides into 2 and 3.
    metrics = tree_metrics([None, 0, 1, 1], [3.0, 2.0, 1.0, 1.0])
    assert metrics.branch_orders == (2, 2, 1, 1)
    assert metrics.branch_generations == (0, 0, 1, 1)
    assert metrics.generations == 2
    assert metrics.bifurcation_counts == ((0, 1),)
    # A single unbranched duct: order 1, no matrix.
    single = tree_metrics([None, 0], [3.0, 2.0])
    assert (single.strahler_order, single.ramification_matrix) == (1, ())
    assert single.generations == 1


def test_no_branches_gives_zeros_and_a_forest_takes_its_highest_order() -> None:
    empty = tree_metrics([], [])
    assert (empty.branch_count, empty.generations, empty.strahler_order) == (0, 0, 0)
    assert empty.total_length == 0.0
    assert empty.as_dict()["ramification_matrix"]["rows"] == []
    forest = tree_metrics([None, 0, 0, None], [1.0, 1.0, 1.0, 5.0])
    assert forest.branch_orders == (2, 1, 1, 1)
    assert forest.strahler_order == 2
    assert forest.branches_per_generation == (2, 2)


@pytest.mark.parametrize(
    ("parents", "lengths", "message"),
    [
        ([None, 0], [1.0], "2 parents but 1 lengths"),
        ([None, 5], [1.0, 1.0], "parent 5 is not another branch"),
        ([None, 1], [1.0, 1.0], "parent 1 is not another branch"),
        ([None, 2, 1], [1.0, 1.0, 1.0], "cycle"),
        ([None], [-1.0], "finite and >= 0"),
        ([None], [float("nan")], "finite and >= 0"),
    ],
)
def test_what_is_not_a_tree_is_refused(
    parents: list[int | None], lengths: list[float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        tree_metrics(parents, lengths)


def _branch(
    index: int, parent: int | None, points: list[tuple[float, float]], mm: bool
) -> SuggestedBranch:
    length_px = sum(abs(b[0] - a[0]) + abs(b[1] - a[1]) for a, b in itertools.pairwise(points))
    return SuggestedBranch(
        index,
        parent,
        0 if parent is None else 1,
        tuple(points),
        length_px * 0.1 if mm else None,
        None,
    )


def test_a_suggestion_is_measured_in_mm_when_calibrated_else_in_pixels() -> None:
    def suggestion(calibrated: bool) -> DuctTreeSuggestion:
        branches = (
            _branch(0, None, [(0.0, 0.0), (100.0, 0.0)], calibrated),
            _branch(1, 0, [(100.0, 0.0), (100.0, 50.0)], calibrated),
            _branch(2, 0, [(100.0, 0.0), (100.0, -30.0)], calibrated),
        )
        return DuctTreeSuggestion((0.0, 0.0), branches, calibrated, 0.1, 0.01)

    in_mm = suggestion_metrics(suggestion(True))
    assert in_mm.length_unit == "mm"
    assert in_mm.total_length == pytest.approx(18.0)
    in_px = suggestion_metrics(suggestion(False))
    assert in_px.length_unit == "px"
    assert in_px.total_length == pytest.approx(180.0)
    document = json.loads(json.dumps(in_px.as_dict()))
    assert document["length_unit"] == "px"
    assert document["ramification_matrix"]["orders"] == [2]
    assert document["ramification_matrix"]["rows"] == [[0.0, 1.0]]


def _segment(
    short_id: str,
    parent: DuctSegment | None,
    points: list[tuple[float, float]],
    length_mm: float | None,
) -> DuctSegment:
    region = ImageRegion("1.2.3.4", None, GraphicType.POLYLINE, tuple(points))
    value = (
        None
        if length_mm is None
        else MeasurementValue(PATH_LENGTH, length_mm, MILLIMETER, "0.1 mm (detector)")
    )
    return DuctSegment.new(
        region,
        short_id=short_id,
        parent_uid=None if parent is None else parent.tracking_uid,
        path_length=value,
    )


def test_the_readers_duct_segments_are_measured_like_a_suggestion() -> None:
    trunk = _segment("DS-1", None, [(50.0, 0.0), (50.0, 40.0)], 4.0)
    left = _segment("DS-2", trunk, [(50.0, 40.0), (20.0, 80.0)], 5.0)
    right = _segment("DS-3", trunk, [(50.0, 40.0), (80.0, 80.0)], 5.0)
    metrics = segment_metrics([trunk, left, right])
    assert (metrics.length_unit, metrics.total_length) == ("mm", 14.0)
    assert metrics.branch_orders == (2, 1, 1)
    # One segment without a path length: every length in pixels, never mixed.
    bare = _segment("DS-3", trunk, [(50.0, 40.0), (80.0, 80.0)], None)
    metrics = segment_metrics([trunk, left, bare])
    assert metrics.length_unit == "px"
    assert metrics.total_length == pytest.approx(140.0)
