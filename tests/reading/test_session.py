"""Tests for galactoview.reading.session: hanging, layout cycling and navigation, no window.

The sample study (tests.helpers.sample_images) holds, in display order:
0 L CC pre, 1 L ML pre (one series), 2 L CC post, 3 L ML post (one series),
4 L CC MAG post (one series) of the 2026 galactography, then 5 R CC, 6 L CC,
7 R MLO, 8 L MLO of the 2024 screening study (one series).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from galactoview.dicom.loading import ImageRecord, scan
from galactoview.dicom.mammography import Flip
from galactoview.reading.hanging import (
    Anchor,
    GalactographyStage,
    Hanging,
    ProtocolKind,
    choose_hanging,
    placement,
)
from galactoview.reading.session import CellImage, ReadingSession
from tests.helpers import write_study


class Recorder:
    """Records what a session tells its observers, in order."""

    def __init__(self, session: ReadingSession) -> None:
        self.events: list[tuple[str, object]] = []
        session.hanging_changed.connect(lambda h: self.events.append(("hanging", h.name)))
        session.image_selected.connect(lambda c: self.events.append(("image", c)))
        session.frame_selected.connect(lambda c: self.events.append(("frame", c)))
        session.active_changed.connect(lambda c: self.events.append(("active", c)))
        session.review_mode_changed.connect(lambda on: self.events.append(("review", on)))
        session.notice.connect(lambda text: self.events.append(("notice", text)))

    def take(self) -> list[tuple[str, object]]:
        """Return the events so far and forget them."""
        events, self.events = self.events, []
        return events


@pytest.fixture
def session(sample_records: tuple[ImageRecord, ...]) -> ReadingSession:
    """Return a session reading the sample study."""
    opened = ReadingSession()
    opened.open(sample_records)
    return opened


def hung(session: ReadingSession) -> Hanging:
    """Return the session's hanging (there is one after open)."""
    assert session.hanging is not None
    return session.hanging


def images(session: ReadingSession) -> dict[int, int]:
    """Return the image index each cell shows."""
    return {cell: shown.image for cell, shown in session.cells.items()}


# ------------------------------------------------------------------ opening and hanging


def test_open_hangs_the_default_protocol_and_tells_the_observers(
    sample_records: tuple[ImageRecord, ...],
) -> None:
    session = ReadingSession()
    recorder = Recorder(session)
    session.open(sample_records)
    assert session.records == sample_records
    assert hung(session) == choose_hanging(sample_records)
    assert hung(session).stage is GalactographyStage.POST
    assert session.cells == {0: CellImage(2), 1: CellImage(3)}
    assert session.active_cell == 0 and session.current_index == 2
    assert session.current_record() is sample_records[2]
    assert recorder.take() == [("hanging", hung(session).name)]


def test_studies_are_listed_newest_first(
    session: ReadingSession, sample_records: tuple[ImageRecord, ...]
) -> None:
    assert session.studies == (
        sample_records[0].study_instance_uid,
        sample_records[5].study_instance_uid,
    )


def test_opening_nothing_hangs_one_empty_cell() -> None:
    session = ReadingSession()
    session.open([])
    assert hung(session).kind is ProtocolKind.MANUAL
    assert hung(session).notes == ("no images",)
    assert session.cells == {} and session.current_index is None
    assert session.layouts == ("1×1", "1×2", "2×2")
    session.next_image()
    session.select_image(0)
    assert session.current_index is None


def test_the_layout_cycle_lists_stages_then_4ups_then_manual_layouts(
    session: ReadingSession, sample_records: tuple[ImageRecord, ...]
) -> None:
    newest, prior = sample_records[0].study_instance_uid, sample_records[5].study_instance_uid
    assert session.layouts == (
        "post-contrast",
        "pre-contrast scout",
        "post vs pre",
        "magnification",
        "post vs prior",
        f"4-up {newest}",
        f"4-up {prior}",
        "1×1",
        "1×2",
        "2×2",
    )


def test_next_layout_steps_through_the_cycle_and_wraps(session: ReadingSession) -> None:
    recorder = Recorder(session)
    stages = []
    for _ in range(5):
        session.next_layout()
        stages.append(hung(session).stage)
    assert stages == [
        GalactographyStage.PRE,
        GalactographyStage.COMPARE_PRE,
        GalactographyStage.MAGNIFICATION,
        GalactographyStage.COMPARE_PRIOR,
        None,  # the 4-up of the newest study
    ]
    assert hung(session).kind is ProtocolKind.MAMMOGRAPHY
    assert len(recorder.take()) == 5
    for _ in range(5):
        session.next_layout()
    assert session.layout_position == 0
    assert hung(session).stage is GalactographyStage.POST


def test_previous_layout_wraps_to_the_last_manual_layout(session: ReadingSession) -> None:
    session.previous_layout()
    assert session.layout_position == len(session.layouts) - 1
    assert hung(session).kind is ProtocolKind.MANUAL
    assert (hung(session).rows, hung(session).columns) == (2, 2)
    # the manual layouts start at the image of the active cell (post CC, index 2)
    assert images(session) == {0: 2, 1: 3, 2: 4, 3: 5}


def test_manual_layouts_of_the_cycle_start_at_the_active_image(session: ReadingSession) -> None:
    session.select_image(6)
    session.previous_layout()  # 2×2
    session.previous_layout()  # 1×2
    assert hung(session).name == "1×2"
    assert images(session) == {0: 6, 1: 7}


def test_default_hanging_restarts_the_cycle(session: ReadingSession) -> None:
    session.next_layout()
    session.next_layout()
    session.hang_default()
    assert session.layout_position == 0
    assert hung(session).stage is GalactographyStage.POST
    session.next_layout()
    assert hung(session).stage is GalactographyStage.PRE


def test_a_new_hanging_shows_its_images_from_frame_0_in_cell_0(session: ReadingSession) -> None:
    session.next_layout()  # pre-contrast pair
    session.set_active(1)
    session.select_frame(3)
    session.hang_manual(2, 2)
    assert session.active_cell == 0
    assert all(shown.frame == 0 for shown in session.cells.values())
    assert images(session) == {0: 1, 1: 2, 2: 3, 3: 4}  # from the active image (pre ML)


def test_toggle_stage_switches_and_a_second_press_returns_to_post(
    session: ReadingSession,
) -> None:
    session.toggle_stage(GalactographyStage.COMPARE_PRE)
    assert hung(session).stage is GalactographyStage.COMPARE_PRE
    assert images(session) == {0: 2, 1: 3, 2: 0, 3: 1}
    session.toggle_stage(GalactographyStage.COMPARE_PRE)
    assert hung(session).stage is GalactographyStage.POST
    session.toggle_stage(GalactographyStage.MAGNIFICATION)
    assert images(session) == {0: 2, 1: 4}


def test_a_stage_the_studies_cannot_show_is_a_notice(tmp_path: Path) -> None:
    write_study(tmp_path)  # no prior study
    session = ReadingSession()
    session.open(scan([tmp_path]).images)
    before = hung(session)
    recorder = Recorder(session)
    session.toggle_stage(GalactographyStage.COMPARE_PRIOR)
    assert recorder.take() == [("notice", "No post vs prior images in the studies loaded")]
    assert hung(session) is before


def test_prior_mammography_hangs_the_other_study_4up(
    session: ReadingSession, sample_records: tuple[ImageRecord, ...]
) -> None:
    session.hang_prior_mammography()
    assert hung(session).kind is ProtocolKind.MAMMOGRAPHY
    assert hung(session).study_instance_uid == sample_records[5].study_instance_uid
    assert sorted(images(session).values()) == [5, 6, 7, 8]
    session.hang_prior_mammography()  # from the prior's 4-up: the other study's
    assert hung(session).study_instance_uid == sample_records[0].study_instance_uid


def test_prior_mammography_without_mammography_is_a_notice() -> None:
    session = ReadingSession()
    session.open([])
    recorder = Recorder(session)
    session.hang_prior_mammography()
    assert recorder.take() == [("notice", "No mammography study to hang 4-up")]


def test_flip_and_anchor_are_the_hangings_until_another_image_is_shown(
    session: ReadingSession, sample_records: tuple[ImageRecord, ...]
) -> None:
    session.hang_prior_mammography()
    cell = next(c for c, shown in session.cells.items() if shown.image == 5)  # R CC
    hanging_cell = hung(session).cells[cell]
    assert session.flip_and_anchor(cell, 5) == (hanging_cell.flip, hanging_cell.anchor)
    assert hanging_cell.anchor is Anchor.RIGHT  # back to back with the L CC
    assert session.flip_and_anchor(cell, 2) == placement(sample_records[2])
    assert session.flip_and_anchor(99, 2) == placement(sample_records[2])
    assert isinstance(session.flip_and_anchor(cell, 5)[0], Flip)


def test_the_other_stages_images_are_named_for_decoding_ahead(session: ReadingSession) -> None:
    assert session.stage_images_not_shown() == [0, 1, 4, 6, 8]
    session.toggle_stage(GalactographyStage.COMPARE_PRE)
    assert session.stage_images_not_shown() == [4, 6, 8]


# ------------------------------------------------------------------ navigation


def test_select_image_shows_it_in_the_active_cell_only(session: ReadingSession) -> None:
    recorder = Recorder(session)
    session.set_active(1)
    session.select_image(7)
    assert images(session) == {0: 2, 1: 7}
    assert session.current_index == 7
    assert session.shown_images() == [2, 7]
    assert recorder.take() == [("active", 1), ("image", 1)]
    session.select_image(9)  # out of range: nothing happens
    session.select_image(-1)
    assert session.current_index == 7
    assert recorder.take() == []


def test_next_and_previous_image_stop_at_the_ends(session: ReadingSession) -> None:
    session.select_image(7)
    session.next_image()
    assert session.current_index == 8
    session.next_image()
    assert session.current_index == 8
    session.select_image(1)
    session.previous_image()
    session.previous_image()
    assert session.current_index == 0


def test_navigation_in_an_empty_cell_does_nothing(session: ReadingSession) -> None:
    session.toggle_stage(GalactographyStage.MAGNIFICATION)
    session.hang_manual(2, 2)  # from image 2: cells 0..3 show 2..5
    session.select_image(8)
    session.hang_manual(1, 2)  # from image 8: the second cell is empty
    session.set_active(1)
    recorder = Recorder(session)
    session.next_image()
    session.previous_image()
    session.select_frame(1)
    assert recorder.take() == []
    assert session.current_index is None


def test_series_navigation_goes_to_series_starts(session: ReadingSession) -> None:
    session.select_image(3)  # post ML, second image of its series
    session.next_series()
    assert session.current_index == 4  # the magnification series
    session.next_series()
    assert session.current_index == 5  # the prior study's series
    session.next_series()
    assert session.current_index == 5  # no later series
    session.select_image(7)
    session.previous_series()
    assert session.current_index == 4  # previous series' start (7 is not a start)
    session.select_image(3)
    session.previous_series()
    assert session.current_index == 0
    session.previous_series()
    assert session.current_index == 0  # the first series: its own start


def test_set_active_tells_only_changes(session: ReadingSession) -> None:
    recorder = Recorder(session)
    session.set_active(0)
    session.set_active(1)
    session.set_active(1)
    assert recorder.take() == [("active", 1)]
    assert session.current_index == 3


def test_select_frame_changes_the_frame_of_the_active_cell(session: ReadingSession) -> None:
    recorder = Recorder(session)
    session.set_active(1)
    session.select_frame(4)
    assert session.cells[1] == CellImage(3, 4)
    assert session.cells[0] == CellImage(2, 0)
    assert recorder.take() == [("active", 1), ("frame", 1)]
    session.select_image(3)  # an image is selected from its first frame
    assert session.cells[1] == CellImage(3, 0)


def test_go_to_image_activates_the_cell_showing_it_or_shows_it(
    session: ReadingSession, sample_records: tuple[ImageRecord, ...]
) -> None:
    recorder = Recorder(session)
    assert session.go_to_image(sample_records[3].sop_instance_uid)
    assert session.active_cell == 1
    assert recorder.take() == [("active", 1)]
    assert session.go_to_image(sample_records[8].sop_instance_uid)
    assert images(session) == {0: 2, 1: 8}
    assert recorder.take() == [("image", 1)]
    assert not session.go_to_image("1.2.3.4")
    assert recorder.take() == [("notice", "The image of this mark is not loaded")]


# ------------------------------------------------------------------ review mode


def test_review_mode_is_off_at_first_and_observers_hear_changes_only(
    session: ReadingSession,
) -> None:
    recorder = Recorder(session)
    assert not session.review_mode
    session.set_review_mode(True)
    session.set_review_mode(True)
    assert session.review_mode
    session.set_review_mode(False)
    assert recorder.take() == [("review", True), ("review", False)]


# ------------------------------------------------------------------ growing


class GrowRecorder(Recorder):
    """Also records what grow tells: the index moves, the records, the cells kept."""

    def __init__(self, session: ReadingSession) -> None:
        super().__init__(session)
        self.kept: list[frozenset[int]] = []
        session.hanging_remapped.connect(lambda moved: self.events.append(("moved", moved)))
        session.records_changed.connect(lambda r: self.events.append(("records", len(r))))
        session.hanging_changed.connect(lambda _h: self.kept.append(session.kept_cells))


def test_grow_moves_a_hanging_the_reader_chose_to_the_new_indices(
    sample_records: tuple[ImageRecord, ...],
) -> None:
    prior = sample_records[5:]
    session = ReadingSession()
    session.open(prior)
    session.next_layout()
    session.previous_layout()  # the 4-up again, but hung by the reader
    assert not session.default_shown
    session.set_active(3)
    session.select_frame(2)
    recorder = GrowRecorder(session)
    session.grow(sample_records)  # the galactography sorts first: every index moves by 5
    assert recorder.take() == [("moved", {0: 5, 1: 6, 2: 7, 3: 8}), ("records", 9)]
    assert session.records == sample_records
    assert hung(session).kind is ProtocolKind.MAMMOGRAPHY
    assert hung(session).image_indices() == (5, 6, 7, 8)
    assert session.cells == {0: CellImage(5), 1: CellImage(6), 2: CellImage(7), 3: CellImage(8, 2)}
    assert session.active_cell == 3 and session.current_record() is sample_records[8]
    prior_uid = sample_records[5].study_instance_uid
    assert session.layouts[session.layout_position] == f"4-up {prior_uid}"
    assert GalactographyStage.COMPARE_PRIOR.value in session.layouts


def test_grow_hangs_the_default_again_when_it_fills_an_empty_cell(
    sample_records: tuple[ImageRecord, ...],
) -> None:
    ductogram = sample_records[:5]
    session = ReadingSession()
    session.open(ductogram[2:3])  # the first instance to arrive: L CC post
    assert [cell.image for cell in hung(session).cells] == [0, None]
    session.select_frame(1)
    recorder = GrowRecorder(session)
    session.grow(ductogram)
    assert recorder.take() == [
        ("moved", {0: 2}),
        ("hanging", choose_hanging(ductogram).name),
        ("records", 5),
    ]
    assert hung(session) == choose_hanging(ductogram)
    assert session.cells == {0: CellImage(2, 1), 1: CellImage(3)}
    assert session.layout_position == 0
    assert recorder.kept == [frozenset({0})]
    assert session.kept_cells == frozenset()  # only while the new hanging is told
    assert session.default_shown


def test_grow_keeps_the_active_cell_and_an_image_the_reader_stepped_to(
    sample_records: tuple[ImageRecord, ...],
) -> None:
    session = ReadingSession()
    session.open(sample_records[3:4])  # L ML post: the CC cell is empty
    assert [cell.image for cell in hung(session).cells] == [None, 0]
    session.set_active(1)
    recorder = GrowRecorder(session)
    session.grow(sample_records[:5])
    assert hung(session) == choose_hanging(sample_records[:5])
    assert session.active_cell == 1 and session.current_index == 3
    assert recorder.kept == [frozenset({1})]
    # The reader put L CC post in the empty cell too; the default re-hung leaves it there.
    session.open(sample_records[2:3])
    session.set_active(1)
    session.select_image(0)
    recorder.kept.clear()
    session.grow(sample_records[:5])
    assert hung(session).cells[1].image == 3
    assert session.cells == {0: CellImage(2), 1: CellImage(2)}
    assert recorder.kept == [frozenset({0, 1})]


def test_grow_keeps_a_manual_layout_and_the_cycle_stop_reached(
    sample_records: tuple[ImageRecord, ...],
) -> None:
    session = ReadingSession()
    session.open(sample_records[2:3])
    while session.layouts[session.layout_position] != "1×2":
        session.next_layout()
    recorder = GrowRecorder(session)
    session.grow(sample_records)
    assert recorder.take() == [("moved", {0: 2}), ("records", 9)]
    assert hung(session).kind is ProtocolKind.MANUAL
    assert [cell.image for cell in hung(session).cells] == [2, None]
    assert session.layouts[session.layout_position] == "1×2"
    assert session.layouts[0] == GalactographyStage.POST.value  # the cycle is rebuilt
    assert len(session.layouts) > 4


def test_a_default_re_hung_for_another_protocol_restarts_the_cycle(
    sample_records: tuple[ImageRecord, ...],
) -> None:
    session = ReadingSession()
    session.open(sample_records[5:])  # the prior alone: its 4-up
    assert hung(session).kind is ProtocolKind.MAMMOGRAPHY
    recorder = GrowRecorder(session)
    session.grow(sample_records)  # the galactography, newer, takes the default
    assert hung(session).stage is GalactographyStage.POST
    assert recorder.kept == [frozenset()]  # no cell shows what it showed
    assert session.layout_position == 0
    assert session.layouts[0] == GalactographyStage.POST.value
    assert session.active_cell == 0


def test_grow_with_the_same_default_layout_re_hangs_nothing(
    sample_records: tuple[ImageRecord, ...],
) -> None:
    session = ReadingSession()
    session.open(sample_records[:5])
    recorder = GrowRecorder(session)
    session.grow(sample_records)  # the prior adds a stage, not a cell to post-contrast
    assert recorder.take() == [("moved", {n: n for n in range(5)}), ("records", 9)]
    assert hung(session) == choose_hanging(sample_records)  # its notes are the new ones
    assert session.default_shown


def test_grow_empties_the_cell_of_an_image_no_longer_open_and_opens_when_nothing_is(
    sample_records: tuple[ImageRecord, ...],
) -> None:
    session = ReadingSession()
    recorder = GrowRecorder(session)
    session.grow(sample_records[:5])  # nothing open: the same as open
    assert hung(session) == choose_hanging(sample_records[:5])
    assert recorder.take()[-1] == ("records", 5)
    session.hang_manual(1, 2)
    session.grow([sample_records[3]])  # L CC post went
    assert [cell.image for cell in hung(session).cells] == [None, 0]
    assert session.cells == {1: CellImage(0)}
