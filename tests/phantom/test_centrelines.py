"""Ground truth of the duct tree per image (issue 16 item 1): centrelines and defects."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from galactoview.phantom.anatomy import Side
from galactoview.phantom.breast_builder import draw_injected_breast, draw_plain_breast
from galactoview.phantom.centrelines import (
    centreline_truth,
    defect_truth,
    duct_parents,
    projected_centrelines,
    segment_holding,
)
from galactoview.phantom.study import PlannedImage, _geometry, _image_truth, plan


def _post_contrast(side: Side) -> list[PlannedImage]:
    return [item for item in plan(side) if item.contrast and item.side is side]


@pytest.mark.parametrize("side", [Side.LEFT, Side.RIGHT])
def test_the_parent_links_make_one_tree_rooted_at_the_orifice(side: Side) -> None:
    breast = draw_injected_breast(11, side)
    parents = duct_parents(breast.ducts)
    assert parents[0] is None and parents.count(None) == 1  # one trunk
    for number, parent in enumerate(parents[1:], start=1):
        assert parent is not None and parent < number  # parents come first
        child, mother = breast.ducts[number], breast.ducts[parent]
        assert math.dist(mother.end, child.start) < 1e-6
        # The order grows by one at a bifurcation, stays along an unbranched run.
        assert child.order - mother.order in (0, 1)
    assert len(breast.ducts) >= 8  # a real tree, not a single duct


@pytest.mark.parametrize("side", [Side.LEFT, Side.RIGHT])
def test_each_image_gets_the_projected_centrelines_joined_at_the_branch_points(
    side: Side,
) -> None:
    breast = draw_injected_breast(11, side)
    for item in _post_contrast(side):
        geometry = _geometry(item, breast)
        segments = projected_centrelines(breast, geometry)
        assert len(segments) == len(breast.ducts)
        for segment, duct in zip(segments, breast.ducts, strict=True):
            expected = geometry.project(np.array([duct.start, duct.end]))
            assert np.allclose(segment.points, expected)
            magnification = geometry.local_magnification(np.array([duct.start, duct.end]))
            assert segment.radius_px == pytest.approx(
                tuple(
                    r * m / geometry.pixel_spacing
                    for r, m in zip(
                        (duct.radius_start, duct.radius_end), magnification, strict=True
                    )
                )
            )
            assert segment.radius_px[0] > segment.radius_mm[0] / geometry.pixel_spacing  # magnified
            if segment.parent is not None:
                assert segments[segment.parent].points[1] == pytest.approx(segment.points[0])
        # Most of the tree lies on the detector.
        inside = [
            0 <= c <= geometry.columns and 0 <= r <= geometry.rows
            for s in segments
            for c, r in s.points
        ]
        assert sum(inside) >= 0.9 * len(inside)


def test_the_truth_is_json_and_a_breast_not_injected_has_none() -> None:
    breast = draw_injected_breast(11, Side.LEFT)
    item = _post_contrast(Side.LEFT)[0]
    truth = centreline_truth(breast, _geometry(item, breast))
    again = json.loads(json.dumps(truth))
    assert again == truth and again[0]["parent"] is None
    assert set(again[0]) == {"index", "parent", "order", "points", "radius_px", "radius_mm"}
    assert len(again[0]["points"]) == 2 and len(again[0]["points"][0]) == 2
    plain = draw_plain_breast(11, Side.LEFT)
    assert projected_centrelines(plain, _geometry(item, breast)) == ()


def _distance_to_line(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Distance from ``p`` to the segment a-b, and where along it (0..1) the foot lies."""
    ab = b - a
    t = float(np.clip((p - a) @ ab / (ab @ ab), 0.0, 1.0))
    return float(np.linalg.norm(p - (a + t * ab))), t


@pytest.mark.parametrize("seed", [13, 16, 19])
@pytest.mark.parametrize("side", [Side.LEFT, Side.RIGHT])
def test_each_defect_sits_in_the_segment_its_truth_names(seed: int, side: Side) -> None:
    breast = draw_injected_breast(seed, side)
    for item in _post_contrast(side):
        geometry = _geometry(item, breast)
        ducts = centreline_truth(breast, geometry)
        defects = defect_truth(breast, geometry)
        assert [d["id"] for d in defects] == ["defect-1"]
        (defect,) = defects
        (ball,) = breast.papillomas
        segment = breast.ducts[defect["segment"]]
        # In 3-D: on the segment's axis, well inside its lumen.
        distance, t = _distance_to_line(
            np.asarray(ball.center), np.asarray(segment.start), np.asarray(segment.end)
        )
        assert distance < 1e-6 and 0.0 < t < 1.0
        assert segment_holding(ball.center, breast.ducts) == defect["segment"]
        # On the image: the projected centre lies on that segment's projected centreline,
        # within its projected radius; the defect's projected radius is the ball's.
        a, b = (np.asarray(p) for p in ducts[defect["segment"]]["points"])
        centre = np.array([defect["column"], defect["row"]])
        on_image, _ = _distance_to_line(centre, a, b)
        assert on_image < min(ducts[defect["segment"]]["radius_px"])
        m = float(geometry.local_magnification(np.array([ball.center]))[0])
        assert defect["projected_radius_px"] == pytest.approx(ball.radius * m / 0.1, abs=0.01)
        # The lesion entry of the same defect agrees.
        lesion = next(x for x in _image_truth(item, geometry, breast, "f", "1.2")["lesions"])
        assert (lesion["id"], lesion["column"], lesion["row"]) == (
            defect["id"],
            defect["column"],
            defect["row"],
        )


def test_the_image_truth_lists_ducts_defects_and_bubbles_after_contrast_only() -> None:
    side = Side.LEFT
    breast = draw_injected_breast(12, side)
    for item in plan(side):
        own = breast if item.side is side else draw_plain_breast(12, item.side)
        geometry = _geometry(item, own)
        truth = _image_truth(item, geometry, own, "f.dcm", "1.2.3")
        assert truth["bubbles"] == []  # none asked for
        if item.contrast and item.side is side:
            assert truth["ducts"] == centreline_truth(breast, geometry)
            assert len(truth["ducts"]) == len(breast.ducts)
            assert truth["defects"] == defect_truth(breast, geometry)
        else:
            assert truth["ducts"] == [] and truth["defects"] == []
