"""What a suggested tree knows of the ducts already traced on its image (issue 16)."""

from __future__ import annotations

from galactoview.analysis.results import DuctTreeSuggestion, SuggestedBranch


def _tree() -> DuctTreeSuggestion:
    """A trunk along the row 100 and a branch leaving it downwards at column 200."""
    trunk = SuggestedBranch(0, None, 0, ((0.0, 100.0), (200.0, 100.0)), None, None)
    branch = SuggestedBranch(1, 0, 1, ((200.0, 100.0), (260.0, 180.0)), None, None)
    return DuctTreeSuggestion((0.0, 100.0), (trunk, branch), False, 0.1, 0.01)


def test_a_branch_traced_beside_its_centreline_is_traced_already() -> None:
    tree = _tree()
    traced = [
        [(300.0, 400.0), (350.0, 400.0)],  # elsewhere
        [(-5.0, 104.0), (90.0, 96.0), (210.0, 103.0)],  # the trunk, drawn by hand, 4 px off
    ]
    assert tree.traced_already(traced, 10.0) == {0: 1}
    assert tree.traced_already(traced, 2.0) == {}  # more than 2 px off


def test_a_trace_along_part_of_a_branch_is_not_that_branch() -> None:
    tree = _tree()
    half = [[(0.0, 100.0), (140.0, 100.0)]]  # 70 % of the trunk
    assert tree.traced_already(half, 10.0) == {}
    most = [[(0.0, 100.0), (170.0, 100.0)]]  # 85 %
    assert tree.traced_already(most, 10.0) == {0: 0}


def test_nothing_traced_or_degenerate_traces_match_nothing() -> None:
    tree = _tree()
    assert tree.traced_already([], 10.0) == {}
    assert tree.traced_already([[(0.0, 100.0)]], 10.0) == {}  # a single point is no duct
    assert tree.traced_already([[(0.0, 100.0), (200.0, 100.0)]], 0.0) == {}
