"""make eval's scores count what issue 16 defines (no rendering: hand-made truth)."""

from __future__ import annotations

import pytest

from benchmarks.analysis_eval import (
    ImageScore,
    _by_parting,
    _met,
    branch_point_recall,
    centreline_scores,
    defect_scores,
    lumens_part_mm,
    true_branch_points,
)
from galactoview.analysis.filling_defects import DefectFlag, DefectFlags

MM = 0.1  # mm per pixel: 1 mm = 10 px


def _duct(
    index: int, parent: int | None, a: tuple[float, float], b: tuple[float, float], r: float
) -> dict[str, object]:
    return {"index": index, "parent": parent, "points": [list(a), list(b)], "radius_mm": [r, r]}


DUCTS = [
    _duct(0, None, (0, 100), (100, 100), 1.0),
    _duct(1, 0, (100, 100), (200, 50), 0.8),
    _duct(2, 0, (100, 100), (200, 150), 0.8),
    _duct(3, 1, (200, 50), (260, 20), 0.3),  # thin: not required, but a duct
]


def test_centrelines_within_a_millimetre_count_and_thin_ducts_are_not_required() -> None:
    exact = [
        [(0.0, 100.0), (100.0, 100.0)],
        [(100.0, 100.0), (200.0, 50.0)],
        [(100.0, 100.0), (200.0, 150.0)],
    ]
    assert centreline_scores(exact, DUCTS, MM, (300, 300)) == (1.0, 1.0)
    shifted = [[(x, y + 8.0) for x, y in line] for line in exact]  # 0.8 mm off: still found
    assert centreline_scores(shifted, DUCTS, MM, (300, 300))[0] == pytest.approx(1.0, abs=0.02)
    half = [[(0.0, 100.0), (100.0, 100.0)]]
    recall, precision = centreline_scores(half, DUCTS, MM, (300, 300))
    assert 0.3 < recall < 0.5 and precision == 1.0
    stray = [*exact, [(0.0, 250.0), (100.0, 250.0)]]  # 100 px of nothing
    assert centreline_scores(stray, DUCTS, MM, (300, 300))[1] == pytest.approx(0.75, abs=0.03)
    assert centreline_scores([], DUCTS, MM, (300, 300)) == (0.0, 0.0)


def test_a_branch_point_needs_two_wide_children_and_a_suggestion_within_two_millimetres() -> None:
    assert true_branch_points(DUCTS) == [(100.0, 100.0)]  # duct 3 alone is no bifurcation
    assert branch_point_recall([(115.0, 100.0)], [(100.0, 100.0)], MM) == (1, 1)
    assert branch_point_recall([(125.0, 100.0)], [(100.0, 100.0)], MM) == (0, 1)


def test_how_far_the_childrens_lumens_overlap_beyond_a_fork_in_projection() -> None:
    # 53° apart, 0.8 mm radii: 1.6 mm apart once 0.8 x L = 1.6 mm, L = 2 mm.
    assert lumens_part_mm(DUCTS, MM) == [pytest.approx(2.0, abs=0.1)]
    along = [
        _duct(0, None, (0, 100), (100, 100), 1.0),
        _duct(1, 0, (100, 100), (300, 110), 0.8),  # 3° apart: overlap for 16 mm
        _duct(2, 0, (100, 100), (300, 100), 0.8),
    ]
    assert lumens_part_mm(along, MM) == [float("inf")]
    continued = [*along[:2], _duct(3, 1, (300, 110), (400, 200), 0.8), along[2]]
    continued = [{**d, "order": 1} for d in continued]  # duct 3 continues duct 1
    assert lumens_part_mm(continued, MM) == [pytest.approx(21.0, abs=1.0)]


def test_forks_whose_lumens_never_part_are_counted_in_the_last_bin() -> None:
    score = ImageScore(
        1, "L", "LCC_POST", 1.0, 1.0, 1, 3, (True, False, False), (1.0, 9.0, None),
        1, 1, 0, 0, 0, 0, 3, 0.1, "",
    )  # fmt: skip
    assert _by_parting([score]) == {
        "0-2": {"found": 1, "total": 1},
        "2-4": {"found": 0, "total": 0},
        "4-8": {"found": 0, "total": 0},
        "> 8": {"found": 0, "total": 2},
    }


def _flag(point: tuple[float, float], *, bubble: bool = False) -> DefectFlag:
    return DefectFlag(point, 10.0, 0, 0.8, 2.0, 0.6, True, bubble, "lumen gap")


def test_defects_found_and_false_flags_with_bubbles_forgiven_only_when_marked() -> None:
    defect = {"column": 150.0, "row": 75.0, "projected_radius_px": 20.0}
    bubble = {"column": 150.0, "row": 125.0, "radius_px": 5.0}
    flags = DefectFlags((_flag((160.0, 80.0)), _flag((150.0, 126.0), bubble=True)), 0.1)
    assert defect_scores(flags, [defect], [bubble], MM) == (1, 1, 0)
    unmarked = DefectFlags((_flag((150.0, 126.0)),), 0.1)
    assert defect_scores(unmarked, [defect], [bubble], MM) == (0, 1, 1)
    called_bubble = DefectFlags((_flag((150.0, 75.0), bubble=True),), 0.1)
    assert defect_scores(called_bubble, [defect], [bubble], MM) == (0, 1, 1)


def test_goals_are_minimums_except_false_flags_and_time() -> None:
    assert _met("centreline_recall", 0.91, 0.9) and not _met("centreline_recall", 0.89, 0.9)
    assert _met("false_flags_per_image", 0.8, 1.0) and not _met("runtime_s_4096x3328", 1.2, 1.0)
    assert not _met("defect_sensitivity", None, 0.9)
