"""The Qt-free overlay layout: nothing overlaps, low priorities go first, names are elided."""

from __future__ import annotations

import itertools

import pytest

from galactoview.reading.overlay_layout import (
    OverlayItem,
    OverlayLayout,
    Rect,
    Slot,
    layout_overlay,
)

LINE = 16.0


def corner(slot: Slot, name: str, *lines: tuple[float, int]) -> list[OverlayItem]:
    """Return the lines of a corner block: (width, priority) each, top line first."""
    return [
        OverlayItem(f"{name}:{index}", slot, width, LINE, priority)
        for index, (width, priority) in enumerate(lines)
    ]


def letters() -> list[OverlayItem]:
    return [
        OverlayItem(f"letter_{slot.value}", slot, 14.0, 20.0, 100)
        for slot in (Slot.LEFT, Slot.RIGHT, Slot.TOP, Slot.BOTTOM)
    ]


def viewer_items() -> list[OverlayItem]:
    """A full viewport: four corner blocks, four letters and a scale bar."""
    return [
        OverlayItem("top_left:0", Slot.TOP_LEFT, 190.0, LINE, 85, min_width=60.0),
        OverlayItem("top_left:1", Slot.TOP_LEFT, 80.0, LINE, 75),
        OverlayItem("top_left:2", Slot.TOP_LEFT, 120.0, LINE, 40),
        OverlayItem("top_right:0", Slot.TOP_RIGHT, 210.0, LINE, 30, min_width=60.0),
        OverlayItem("top_right:1", Slot.TOP_RIGHT, 110.0, LINE, 50),
        OverlayItem("top_right:2", Slot.TOP_RIGHT, 150.0, LINE, 25, min_width=60.0),
        *corner(Slot.BOTTOM_LEFT, "bottom_left", (70.0, 45), (100.0, 80), (70.0, 55)),
        *corner(Slot.BOTTOM_RIGHT, "bottom_right", (60.0, 95), (60.0, 70), (200.0, 90)),
        *letters(),
        OverlayItem("scale_bar", Slot.SCALE_BAR, 110.0, 24.0, 62),
    ]


def assert_apart(layout: OverlayLayout, width: float, height: float) -> None:
    for item in layout.placed:
        assert item.rect.inside(width, height), item
    for first, second in itertools.combinations(layout.placed, 2):
        assert not first.rect.intersects(second.rect), (first, second)


def test_a_large_cell_shows_everything_in_its_place() -> None:
    items = viewer_items()
    layout = layout_overlay(1000.0, 800.0, items, margin=4.0, gap=2.0)
    assert layout.dropped == ()
    assert [item.key for item in layout.placed] == [item.key for item in items]
    assert not any(item.elided for item in layout.placed)
    rects = layout.rects()
    assert rects["top_left:0"] == Rect(4.0, 4.0, 190.0, LINE)
    assert rects["top_left:1"] == Rect(4.0, 4.0 + LINE, 80.0, LINE)
    assert rects["top_right:0"] == Rect(1000.0 - 4.0 - 210.0, 4.0, 210.0, LINE)
    assert rects["bottom_right:2"].bottom == pytest.approx(800.0 - 4.0)
    assert rects["bottom_right:2"].right == pytest.approx(1000.0 - 4.0)
    assert rects["letter_left"] == Rect(4.0, 390.0, 14.0, 20.0)
    assert rects["letter_bottom"] == Rect(493.0, 776.0, 14.0, 20.0)
    # The scale bar sits above the bottom letter, a gap apart.
    assert rects["scale_bar"] == Rect(445.0, 776.0 - 2.0 - 24.0, 110.0, 24.0)
    assert_apart(layout, 1000.0, 800.0)


def test_a_narrow_cell_elides_the_institution_beside_the_name() -> None:
    items = [item for item in viewer_items() if not item.key.startswith("letter")]
    layout = layout_overlay(320.0, 600.0, items, margin=4.0, gap=2.0)
    assert_apart(layout, 320.0, 600.0)
    name, institution = layout.get("top_left:0"), layout.get("top_right:0")
    assert name is not None and not name.elided and name.rect.width == 190.0
    assert institution is not None and institution.elided
    # The institution keeps all the room left beside the name, down to the gap.
    assert institution.rect.width == pytest.approx(320.0 - 8.0 - 190.0 - 2.0, abs=0.5)


def test_a_block_moves_clear_of_the_letter_rather_than_losing_a_line() -> None:
    layout = layout_overlay(320.0, 600.0, viewer_items(), margin=4.0, gap=2.0)
    assert_apart(layout, 320.0, 600.0)
    name, letter = layout.get("top_left:0"), layout.get("letter_top")
    assert name is not None and letter is not None and not name.elided
    # The patient block moved under the top letter, its lines still stacked.
    assert name.rect.top == pytest.approx(letter.rect.bottom + 2.0)
    assert name.rect.left == 4.0
    below = layout.get("top_left:1")
    assert below is not None and below.rect.top == name.rect.bottom


def test_the_calibration_line_clears_the_bottom_letter() -> None:
    layout = layout_overlay(400.0, 300.0, viewer_items(), margin=4.0, gap=2.0)
    assert_apart(layout, 400.0, 300.0)
    calibration, letter = layout.get("bottom_right:2"), layout.get("letter_bottom")
    assert calibration is not None and letter is not None and not calibration.elided
    assert calibration.rect.bottom == pytest.approx(letter.rect.top - 2.0)
    assert calibration.rect.right == pytest.approx(400.0 - 4.0)


@pytest.mark.parametrize(("width", "height"), [(150.0, 110.0), (240.0, 160.0), (400.0, 300.0)])
def test_small_cells_drop_the_lowest_priorities_first(width: float, height: float) -> None:
    items = viewer_items()
    layout = layout_overlay(width, height, items, margin=4.0, gap=2.0)
    assert_apart(layout, width, height)
    priority = {item.key: item.priority for item in items}
    shown = {item.key for item in layout.placed}
    assert layout.dropped and shown | set(layout.dropped) == set(priority)
    # The letters and the view label (highest priorities) always stay.
    assert {"letter_left", "letter_right", "letter_top", "letter_bottom"} <= shown
    assert "bottom_right:0" in shown
    # The fewer items fit, the more of them are of low priority.
    dropped = sorted(priority[key] for key in layout.dropped)
    kept = sorted(priority[key] for key in shown)
    assert sum(dropped) / len(dropped) < sum(kept) / len(kept)


def test_a_tiny_cell_keeps_the_letters_then_the_most_important_lines() -> None:
    layout = layout_overlay(120.0, 90.0, viewer_items(), margin=4.0, gap=2.0)
    assert_apart(layout, 120.0, 90.0)
    shown = [item.key for item in layout.placed]
    assert "top_right:2" not in shown and "top_left:2" not in shown
    assert "letter_left" in shown and "letter_right" in shown


def test_a_dropped_line_closes_the_gap_in_its_block() -> None:
    items = corner(Slot.TOP_LEFT, "tl", (50.0, 90), (300.0, 10), (50.0, 80))
    layout = layout_overlay(200.0, 200.0, items, margin=4.0, gap=2.0)
    assert layout.dropped == ("tl:1",)
    assert layout.rects()["tl:2"] == Rect(4.0, 4.0 + LINE, 50.0, LINE)


def test_the_same_input_gives_the_same_layout() -> None:
    items = viewer_items()
    layouts = {layout_overlay(260.0, 210.0, items) for _ in range(3)}
    assert len(layouts) == 1


def test_a_line_that_may_not_be_elided_is_dropped() -> None:
    items = [
        OverlayItem("a", Slot.TOP_LEFT, 150.0, LINE, 90),
        OverlayItem("b", Slot.TOP_RIGHT, 150.0, LINE, 80),
        OverlayItem("c", Slot.BOTTOM_LEFT, 150.0, LINE, 70, min_width=40.0),
        OverlayItem("d", Slot.BOTTOM_RIGHT, 150.0, LINE, 60, min_width=40.0),
    ]
    layout = layout_overlay(250.0, 100.0, items, margin=4.0, gap=2.0)
    assert layout.dropped == ("b",)
    c, d = layout.get("c"), layout.get("d")
    assert c is not None and d is not None
    assert not c.elided and d.elided and d.rect.width == pytest.approx(90.0, abs=0.2)


def test_empty_items_are_left_out_and_keys_must_be_unique() -> None:
    layout = layout_overlay(100.0, 100.0, [OverlayItem("e", Slot.TOP, 0.0, LINE, 100)])
    assert layout == OverlayLayout((), ("e",))
    twice = [OverlayItem("k", Slot.TOP, 5.0, 5.0, 1), OverlayItem("k", Slot.LEFT, 5.0, 5.0, 1)]
    with pytest.raises(ValueError, match="unique"):
        layout_overlay(100.0, 100.0, twice)


def test_touching_rectangles_do_not_intersect() -> None:
    first = Rect(0.0, 0.0, 10.0, 10.0)
    assert not first.intersects(Rect(10.0, 0.0, 5.0, 5.0))
    assert first.intersects(Rect(9.5, 0.0, 5.0, 5.0))
    assert first.intersects(Rect(11.0, 0.0, 5.0, 5.0), gap=2.0)
    assert first.inside(10.0, 10.0) and not first.inside(9.0, 10.0)


def test_an_abbreviated_line_widens_when_its_block_moves_clear_of_the_letter() -> None:
    items = [
        OverlayItem("top", Slot.TOP, 14.0, 20.0, 100),
        OverlayItem("name", Slot.TOP_LEFT, 250.0, LINE, 90, min_width=40.0),
        OverlayItem("id", Slot.TOP_LEFT, 120.0, LINE, 80),
    ]
    layout = layout_overlay(200.0, 300.0, items, margin=4.0, gap=2.0)
    assert layout.dropped == ()
    assert_apart(layout, 200.0, 300.0)
    name, identifier = layout.get("name"), layout.get("id")
    assert name is not None and identifier is not None
    # The ID moved the block under the letter; the name then took the whole width.
    assert name.rect.top == pytest.approx(4.0 + 20.0 + 2.0)
    assert name.elided and name.rect.width == pytest.approx(200.0 - 8.0, abs=0.3)
    assert identifier.rect.top == name.rect.bottom
