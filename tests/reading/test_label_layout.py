"""Collision-free label placement: boxes never overlap, stay inside, leaders when displaced."""

from __future__ import annotations

import itertools

import pytest

from galactoview.reading.label_layout import (
    LabelLayout,
    LabelRequest,
    Rect,
    place_labels,
)


def _square(x: float, y: float, half: float) -> Rect:
    return Rect(x - half, y - half, 2 * half, 2 * half)


def _check(layout: LabelLayout, width: float, height: float, gap: float) -> None:
    """No two boxes intersect, all inside the image, a leader whenever a box is displaced."""
    image = Rect(0, 0, width, height)
    for a, b in itertools.combinations(layout.placed, 2):
        assert not a.box.intersects(b.box), (a, b)
    for label in layout.placed:
        assert image.contains(label.box), label


def _requests(
    marks: dict[str, Rect], width: float = 90.0, height: float = 40.0
) -> list[LabelRequest]:
    return [LabelRequest(key, target, width, height) for key, target in marks.items()]


def test_the_sample_cluster_near_the_nipple() -> None:
    """FD-1, FD-2, DS-1, DE-1 within a few mm of each other, as on the sample's L ML."""
    marks = {
        "FD-1": _square(555, 1361, 36),
        "FD-2": _square(600, 1340, 20),
        "DS-1": _square(640, 1380, 12),
        "DE-1": Rect(605, 1257, 148, 49),
    }
    requests = _requests(marks, 150, 70)
    layout = place_labels(1914, 2294, requests, gap=30, leader_beyond=0)
    _check(layout, 1914, 2294, 30)
    assert layout.unplaced == ()
    assert [p.key for p in layout.placed] == list(marks)
    for label in layout.placed:
        for target in marks.values():
            assert not label.box.intersects(target), label.key
        assert not label.covers_mark
        assert label.leader is not None  # 30 px away at least: every label has its arrow
        start, end = label.leader
        own = marks[label.key]
        assert own.nearest_point(*end) == pytest.approx(end)  # ends on its own mark
        assert label.box.nearest_point(*start) == pytest.approx(start)  # starts on the box


def test_ten_marks_within_50_px() -> None:
    centres = [(500 + 15 * (i % 4), 500 + 15 * (i // 4)) for i in range(10)]
    marks = {f"FD-{i + 1}": _square(x, y, 4) for i, (x, y) in enumerate(centres)}
    assert max(x for x, _ in centres) - min(x for x, _ in centres) <= 50
    layout = place_labels(1000, 1000, _requests(marks), gap=4)
    _check(layout, 1000, 1000, 4)
    assert layout.unplaced == ()
    for label in layout.placed:
        assert not any(label.box.intersects(t) for t in marks.values())
        far = label.box.separation(marks[label.key]) > 4 + 1e-6
        assert (label.leader is not None) == far


def test_next_to_its_mark_no_leader() -> None:
    layout = place_labels(400, 400, _requests({"CY-1": _square(200, 200, 10)}), gap=4)
    (label,) = layout.placed
    assert label.leader is None
    assert label.box.separation(_square(200, 200, 10)) == pytest.approx(4)
    # Upper right first.
    assert label.box.left >= 210 and label.box.bottom <= 190


@pytest.mark.parametrize(
    "centre", [(3, 3), (397, 3), (3, 397), (397, 397), (200, 1), (1, 200), (399, 200)]
)
def test_marks_at_the_edge(centre: tuple[float, float]) -> None:
    marks = {"A": _square(*centre, 3), "B": _square(centre[0], centre[1], 1)}
    layout = place_labels(400, 400, _requests(marks), gap=4)
    _check(layout, 400, 400, 4)
    assert layout.unplaced == ()
    for label in layout.placed:
        assert not any(label.box.intersects(t) for t in marks.values())


def test_a_tiny_image() -> None:
    marks = {k: _square(30, 30, 2) for k in ("A", "B", "C", "D")}
    layout = place_labels(64, 64, _requests(marks, 30, 12), gap=2)
    _check(layout, 64, 64, 2)
    assert {p.key for p in layout.placed} == set(marks)


def test_no_room_is_said_not_overlapped() -> None:
    """More labels than fit: the rest are returned as unplaced, never stacked."""
    marks = {f"L{i}": _square(20, 20, 1) for i in range(20)}
    layout = place_labels(60, 40, _requests(marks, 30, 12), gap=1)
    _check(layout, 60, 40, 1)
    assert 0 < len(layout.placed) < 20
    assert len(layout.placed) + len(layout.unplaced) == 20
    wider = place_labels(20, 20, _requests({"X": _square(5, 5, 1)}, 30, 12))
    assert wider.placed == () and wider.unplaced == ("X",)


def test_obstacles_are_avoided_and_the_result_is_deterministic() -> None:
    letters = [Rect(180, 0, 40, 40), Rect(360, 180, 40, 40)]
    marks = {"A": _square(200, 60, 10), "B": _square(340, 200, 10)}
    first = place_labels(400, 400, _requests(marks, 60, 20), letters, gap=4)
    assert first == place_labels(400, 400, _requests(marks, 60, 20), letters, gap=4)
    for label in first.placed:
        assert not any(label.box.intersects(w) for w in letters)


def test_rect_geometry() -> None:
    box = Rect(0, 0, 10, 10)
    assert box.crosses((-5, 5), (15, 5))
    assert not box.crosses((-5, -5), (15, -1))
    assert not box.intersects(Rect(10, 0, 5, 5))  # touching edges do not overlap
    assert Rect.around([(1, 2), (5, 8)], 1) == Rect(0, 1, 6, 8)


def test_the_edge_does_not_push_a_label_onto_its_mark() -> None:
    """Right of a mark near the right edge is shifted to 4 px of it: another spot is taken."""
    target = _square(333, 200, 3)
    above = Rect(300, 100, 100, 89)  # the spots above it are taken
    layout = place_labels(400, 400, _requests({"FD-1": target}, 60, 20), [above], gap=10)
    (label,) = layout.placed
    assert label.box.separation(target) >= 5.0
    assert not label.box.intersects(above)
    assert label.box.right <= 400
