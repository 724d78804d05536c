"""ReadingSession: the studies being read, how they hang and where the reader is (Qt-free).

The session holds what a reading workstation shows, without any window:

- the images opened (:attr:`ReadingSession.records`, newest study first, as the
  loader sorts them) and the studies they belong to;
- the hanging shown (decided by :mod:`galactoview.reading.hanging`) and the
  *layout cycle* the reader steps through with L / Shift+L: every galactography
  stage offered, the mammography 4-up of every study that has one, then the manual
  1-up, 1×2 and 2×2 layouts (from the image in the active cell);
- what each cell shows (image index and frame; a cell can show another image than
  its hanging placed, after the reader stepped through the images in it), the active
  cell, and whether the surgeon's read-only review is on;
- navigation: next/previous image and series in the active cell, frames, going to
  the image a mark is on;
- images added to those open (:meth:`ReadingSession.grow`: the rest of a study arriving
  from the PACS, a prior fetched in the background) without losing the reader's place.

Views observe the session through plain callbacks (:class:`Callbacks`): a view
connects to :attr:`ReadingSession.hanging_changed`, :attr:`~ReadingSession.image_selected`,
:attr:`~ReadingSession.frame_selected`, :attr:`~ReadingSession.active_changed`,
:attr:`~ReadingSession.review_mode_changed`, :attr:`~ReadingSession.notice`,
:attr:`~ReadingSession.records_changed` and :attr:`~ReadingSession.hanging_remapped` and
draws what the session says. No decision about layouts or navigation is left to the
view, so all of it is tested without a window.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from galactoview.dicom.loading import ImageRecord
from galactoview.dicom.mammography import Flip
from galactoview.reading.hanging import (
    Anchor,
    GalactographyStage,
    Hanging,
    choose_hanging,
    galactography_hanging,
    galactography_stages,
    mammography_hanging,
    mammography_studies,
    manual_hanging,
    placement,
)

__all__ = ["Callbacks", "CellImage", "Layout", "ReadingSession"]

T = TypeVar("T")

#: The manual layouts at the end of the layout cycle: (rows, columns).
MANUAL_LAYOUTS: tuple[tuple[int, int], ...] = ((1, 1), (1, 2), (2, 2))


class Callbacks(Generic[T]):
    """Functions called, in connection order, with one value when something happens."""

    def __init__(self) -> None:
        self._functions: list[Callable[[T], object]] = []

    def connect(self, function: Callable[[T], object]) -> None:
        """Call ``function`` with the value each time :meth:`emit` is called."""
        self._functions.append(function)

    def emit(self, value: T) -> None:
        """Call every connected function with ``value``."""
        for function in list(self._functions):
            function(value)


@dataclass(frozen=True, slots=True)
class CellImage:
    """What one cell shows: an image (index into the records) and its frame (0-based)."""

    image: int
    frame: int = 0


@dataclass(frozen=True, slots=True)
class Layout:
    """One stop of the layout cycle.

    Attributes
    ----------
    name
        What it is, e.g. ``"post-contrast"``, ``"4-up <Study Instance UID>"``, ``"2×2"``.
    make
        Lays it out for the images loaded (and the image in the active cell, for the
        manual layouts); ``None`` when it cannot be hung now.
    """

    name: str
    make: Callable[[], Hanging | None]


class ReadingSession:
    """The studies opened, their hanging, the layout cycle, the active cell, review mode.

    Attributes
    ----------
    hanging_changed
        Called with the new :class:`Hanging` once it is laid out (cells, active cell 0;
        after :meth:`grow`, see :attr:`kept_cells` and :attr:`active_cell`).
    hanging_remapped
        Called by :meth:`grow` with how the images moved (old index → new index),
        before any new hanging: the hanging, the cells and the active cell now use
        the new indices and show the same images. A view moves its bookkeeping to
        the new indices and changes nothing on screen.
    records_changed
        Called with the images now open after :meth:`open` and every :meth:`grow`.
    image_selected
        Called with a cell that now shows another image (:meth:`select_image`, the
        navigation methods).
    frame_selected
        Called with the cell (the active one) whose frame changed (:meth:`select_frame`).
    active_changed
        Called with the new active cell.
    review_mode_changed
        Called with whether the surgeon's review is now on.
    notice
        Called with one line the reader should be told (e.g. a layout asked for that
        the studies loaded cannot give).
    """

    def __init__(self) -> None:
        self._records: tuple[ImageRecord, ...] = ()
        self._hanging: Hanging | None = None
        self._cells: dict[int, CellImage] = {}
        self._active = 0
        self._layouts: tuple[Layout, ...] = ()
        self._layout_position = 0
        self._review = False
        self._default_shown = False  # the hanging shown is the automatic default
        self._kept: frozenset[int] = frozenset()
        self.hanging_changed: Callbacks[Hanging] = Callbacks()
        self.hanging_remapped: Callbacks[Mapping[int, int]] = Callbacks()
        self.records_changed: Callbacks[tuple[ImageRecord, ...]] = Callbacks()
        self.image_selected: Callbacks[int] = Callbacks()
        self.frame_selected: Callbacks[int] = Callbacks()
        self.active_changed: Callbacks[int] = Callbacks()
        self.review_mode_changed: Callbacks[bool] = Callbacks()
        self.notice: Callbacks[str] = Callbacks()

    # --- what is open -----------------------------------------------------------------

    def open(self, records: Sequence[ImageRecord]) -> None:
        """Read these images (replacing any): build the layout cycle, hang the default.

        Parameters
        ----------
        records
            The images in display order (newest study first); cells, the active
            image and the navigation refer to them by index.
        """
        self._records = tuple(records)
        self._layouts = self._build_layout_cycle()
        self._layout_position = 0
        self._cells.clear()
        self._hang(choose_hanging(self._records), default=True)
        self.records_changed.emit(self._records)

    def grow(self, records: Sequence[ImageRecord]) -> None:
        """Read more images (or fewer): keep the reader's place, re-hang the default if it grew.

        The images already open keep what the reader did with them: the hanging shown,
        the image and frame of each cell, the active cell and the layout of the cycle
        reached are moved to the new indices (images are matched by SOP Instance UID),
        :attr:`hanging_remapped` telling how. The layout cycle is rebuilt for the new
        images (a prior adds its stages and 4-up).

        When the hanging shown is the automatic default (:meth:`open`,
        :meth:`hang_default`, and the reader has hung nothing else since), the default
        is chosen again for the new images and hung when its layout differs (a cell
        that was empty has its image now, or a protocol applies now): cells that show
        the same image as before keep it with its frame, a cell the reader stepped to
        another image keeps that image, and the active cell stays active
        (:attr:`kept_cells` lists these cells, so a view leaves them as they are).
        Otherwise the hanging is kept and nothing is re-hung.

        Parameters
        ----------
        records
            All the images now open, in display order (newest study first): normally
            those open plus new ones. An image open before and missing here leaves its
            cells empty. Nothing is open yet: the same as :meth:`open`.
        """
        if self._hanging is None:
            self.open(records)
            return
        new = tuple(records)
        where: dict[str, int] = {}
        for number, record in enumerate(new):
            where.setdefault(record.sop_instance_uid, number)
        moved = {
            old: where[record.sop_instance_uid]
            for old, record in enumerate(self._records)
            if record.sop_instance_uid in where
        }
        reached = self._layouts[self._layout_position].name if self._layouts else None
        self._records = new
        self._layouts = self._build_layout_cycle()
        self._layout_position = next(
            (n for n, layout in enumerate(self._layouts) if layout.name == reached), 0
        )
        remapped = _remapped_hanging(self._hanging, moved)
        self._cells = {
            cell: CellImage(moved[shown.image], shown.frame)
            for cell, shown in self._cells.items()
            if shown.image in moved
        }
        default = choose_hanging(new) if self._default_shown else None
        if default is not None and _layout_of(default) == _layout_of(remapped):
            remapped = default  # the same cells; its notes are those of the images now open
        self._hanging = remapped
        self.hanging_remapped.emit(moved)
        if default is not None and remapped is not default:
            self._rehang_keeping(default)
        self.records_changed.emit(new)

    def _rehang_keeping(self, hanging: Hanging) -> None:
        """Hang the default again after :meth:`grow`, leaving the cells the reader sees alone."""
        before = self._hanging
        cells = {
            number: CellImage(cell.image)
            for number, cell in enumerate(hanging.cells)
            if cell.image is not None
        }
        kept: set[int] = set()
        for number, shown in self._cells.items():
            if number >= len(hanging.cells):
                continue
            hung = hanging.cells[number]
            placed = before.cells[number].image if before is not None else None
            if hung.image == shown.image:
                looks = (hung.flip, hung.anchor)
            elif shown.image != placed:  # the reader stepped to this image: it stays
                looks = placement(self._records[shown.image])
            else:
                continue
            if looks == self.flip_and_anchor(number, shown.image):
                cells[number] = shown
                kept.add(number)
        active = self._active if self._active < len(hanging.cells) else 0
        self._hanging = hanging
        self._cells = cells
        self._active = active
        self._kept = frozenset(kept)
        self._default_shown = True
        self._layout_position = 0  # the cycle restarts, as with hang_default
        try:
            self.hanging_changed.emit(hanging)
        finally:
            self._kept = frozenset()

    @property
    def kept_cells(self) -> frozenset[int]:
        """Return the cells a new hanging leaves as they were (only while it is told).

        Empty except while :attr:`hanging_changed` is emitted by :meth:`grow`: then the
        cells that show the same image, frame and flip as before, which a view need not
        decode, fit or window again.
        """
        return self._kept

    @property
    def records(self) -> tuple[ImageRecord, ...]:
        """Return the images opened, in display order (newest study first)."""
        return self._records

    @property
    def studies(self) -> tuple[str, ...]:
        """Return the Study Instance UIDs of the images opened, in display order."""
        return tuple(dict.fromkeys(record.study_instance_uid for record in self._records))

    # --- hanging and the layout cycle -------------------------------------------------

    def _build_layout_cycle(self) -> tuple[Layout, ...]:
        """List the layouts L / Shift+L step through for the images opened."""
        images = self._records
        layouts: list[Layout] = []
        for stage in galactography_stages(images):
            layouts.append(
                Layout(stage.value, functools.partial(galactography_hanging, images, stage))
            )
        for study in mammography_studies(images):
            layouts.append(
                Layout(f"4-up {study}", functools.partial(mammography_hanging, images, study))
            )
        for rows, columns in MANUAL_LAYOUTS:
            layouts.append(
                Layout(f"{rows}×{columns}", functools.partial(self._manual, rows, columns))
            )
        return tuple(layouts)

    def _manual(self, rows: int, columns: int) -> Hanging:
        """Return a manual layout starting at the image in the active cell."""
        return manual_hanging(self._records, rows, columns, self.current_index or 0)

    @property
    def layouts(self) -> tuple[str, ...]:
        """Return the names of the layouts of the cycle, in cycle order."""
        return tuple(layout.name for layout in self._layouts)

    @property
    def layout_position(self) -> int:
        """Return the position in :attr:`layouts` the last step of the cycle reached."""
        return self._layout_position

    @property
    def hanging(self) -> Hanging | None:
        """Return the hanging shown, None before :meth:`open`."""
        return self._hanging

    def hang(self, hanging: Hanging) -> None:
        """Lay out a hanging: each cell shows its image (frame 0), the first cell is active."""
        self._hang(hanging, default=False)

    def _hang(self, hanging: Hanging, *, default: bool) -> None:
        self._hanging = hanging
        self._cells = {
            number: CellImage(cell.image)
            for number, cell in enumerate(hanging.cells)
            if cell.image is not None
        }
        self._active = 0
        self._default_shown = default
        self.hanging_changed.emit(hanging)

    def hang_default(self) -> None:
        """Hang the default protocol for the images opened (key H); the cycle restarts."""
        self._layout_position = 0
        self._hang(choose_hanging(self._records), default=True)

    @property
    def default_shown(self) -> bool:
        """Return whether the hanging shown is the automatic default (re-chosen by :meth:`grow`)."""
        return self._default_shown

    def _hang_from_cycle(self, step: int) -> None:
        if not self._layouts:
            return
        for _ in range(len(self._layouts)):
            self._layout_position = (self._layout_position + step) % len(self._layouts)
            hanging = self._layouts[self._layout_position].make()
            if hanging is not None:
                self.hang(hanging)
                return

    def next_layout(self) -> None:
        """Step to the next layout: galactography stages, 4-ups, manual layouts (key L)."""
        self._hang_from_cycle(1)

    def previous_layout(self) -> None:
        """Step to the previous layout (Shift+L)."""
        self._hang_from_cycle(-1)

    def toggle_stage(self, stage: GalactographyStage) -> None:
        """Switch to a galactography stage, or back to post-contrast if it is shown."""
        current = self._hanging
        target = stage
        if current is not None and current.stage is stage:
            target = GalactographyStage.POST
        hanging = galactography_hanging(self._records, target)
        if hanging is None:
            self.notice.emit(f"No {stage.value} images in the studies loaded")
            return
        self.hang(hanging)

    def hang_prior_mammography(self) -> None:
        """Hang the 4-up of the prior screening study (or of the only study)."""
        studies = mammography_studies(self._records)
        current = self._hanging
        for study in studies:
            if current is None or study != current.study_instance_uid or len(studies) == 1:
                hanging = mammography_hanging(self._records, study)
                if hanging is not None:
                    self.hang(hanging)
                    return
        self.notice.emit("No mammography study to hang 4-up")

    def hang_manual(self, rows: int, columns: int) -> None:
        """Hang a manual layout from the image in the active cell (Ctrl+1/2/4)."""
        self.hang(manual_hanging(self._records, rows, columns, self.current_index or 0))

    def flip_and_anchor(self, cell: int, index: int) -> tuple[Flip, Anchor]:
        """Return the flip and chest-wall side of image ``index`` shown in ``cell``.

        The hanging's own when the cell shows the image it placed, else the image's
        conventional placement (:func:`galactoview.reading.hanging.placement`).
        """
        hanging = self._hanging
        if hanging is not None and 0 <= cell < len(hanging.cells):
            hung = hanging.cells[cell]
            if hung.image == index:
                return hung.flip, hung.anchor
        return placement(self._records[index])

    def stage_images_not_shown(self) -> list[int]:
        """Return the images of the other galactography stages, to decode ahead."""
        shown = self._hanging.image_indices() if self._hanging is not None else ()
        wanted: list[int] = []
        for stage in galactography_stages(self._records):
            other = galactography_hanging(self._records, stage)
            if other is not None:
                wanted += [i for i in other.image_indices() if i not in shown]
        return list(dict.fromkeys(wanted))

    # --- cells ------------------------------------------------------------------------

    @property
    def cells(self) -> Mapping[int, CellImage]:
        """Return what each cell shows (cells showing nothing are left out), in cell order."""
        return dict(sorted(self._cells.items()))

    @property
    def active_cell(self) -> int:
        """Return the active cell (the one navigation, tools and presets act on)."""
        return self._active

    def set_active(self, cell: int) -> None:
        """Make ``cell`` the active cell (a click in its viewport)."""
        if cell != self._active:
            self._active = cell
            self.active_changed.emit(cell)

    @property
    def current_index(self) -> int | None:
        """Return the index of the image in the active cell, None when it is empty."""
        shown = self._cells.get(self._active)
        return shown.image if shown is not None else None

    def current_record(self) -> ImageRecord | None:
        """Return the image in the active cell, if any."""
        index = self.current_index
        return self._records[index] if index is not None else None

    def shown_images(self) -> list[int]:
        """Return the images some cell shows, in index order."""
        return sorted({shown.image for shown in self._cells.values()})

    # --- navigation -------------------------------------------------------------------

    def select_image(self, index: int) -> None:
        """Show image ``index`` (frame 0) in the active cell; out-of-range indices are ignored."""
        if not 0 <= index < len(self._records):
            return
        self._cells[self._active] = CellImage(index)
        self.image_selected.emit(self._active)

    def select_frame(self, frame: int) -> None:
        """Show frame ``frame`` (0-based) of the image in the active cell."""
        index = self.current_index
        if index is None:
            return
        self._cells[self._active] = CellImage(index, frame)
        self.frame_selected.emit(self._active)

    def next_image(self) -> None:
        """Show the next image of the list in the active cell."""
        index = self.current_index
        if index is not None and index + 1 < len(self._records):
            self.select_image(index + 1)

    def previous_image(self) -> None:
        """Show the previous image of the list in the active cell."""
        index = self.current_index
        if index is not None and index > 0:
            self.select_image(index - 1)

    def _series_starts(self) -> list[int]:
        starts: list[int] = []
        previous: tuple[str, str] | None = None
        for number, record in enumerate(self._records):
            key = (record.study_instance_uid, record.series_instance_uid)
            if key != previous:
                starts.append(number)
                previous = key
        return starts

    def next_series(self) -> None:
        """Show the first image of the next series in the active cell."""
        index = self.current_index or 0
        later = [start for start in self._series_starts() if start > index]
        if later:
            self.select_image(later[0])

    def previous_series(self) -> None:
        """Show the first image of the previous series (or of this one) in the active cell."""
        index = self.current_index or 0
        starts = self._series_starts()
        this = max((start for start in starts if start <= index), default=0)
        earlier = [start for start in starts if start < this]
        self.select_image(earlier[-1] if earlier else this)

    def go_to_image(self, sop_instance_uid: str) -> bool:
        """Make the image with this SOP Instance UID the active one (a mark's image).

        The first cell showing it becomes active; when none does, it is shown in the
        active cell.

        Returns
        -------
        bool
            False (and a :attr:`notice`) when no image opened has that UID.
        """
        index = next(
            (n for n, r in enumerate(self._records) if r.sop_instance_uid == sop_instance_uid),
            None,
        )
        if index is None:
            self.notice.emit("The image of this mark is not loaded")
            return False
        cells = [cell for cell, shown in self.cells.items() if shown.image == index]
        if cells:
            self.set_active(cells[0])
        else:
            self.select_image(index)
        return True

    # --- review -----------------------------------------------------------------------

    @property
    def review_mode(self) -> bool:
        """Return whether the surgeon's read-only review is on."""
        return self._review

    def set_review_mode(self, on: bool) -> None:
        """Switch the surgeon's read-only review on or off (observers are told on a change)."""
        if on != self._review:
            self._review = on
            self.review_mode_changed.emit(on)


def _remapped_hanging(hanging: Hanging, moved: Mapping[int, int]) -> Hanging:
    """Return the hanging with its images at their new indices (emptied where one went)."""
    cells = tuple(
        cell
        if cell.image is None
        else dataclasses.replace(cell, image=moved[cell.image])
        if cell.image in moved
        else dataclasses.replace(cell, image=None)
        for cell in hanging.cells
    )
    return dataclasses.replace(hanging, cells=cells)


def _layout_of(hanging: Hanging) -> tuple[object, ...]:
    """Return what a hanging shows and how, its name and notes left out."""
    return (
        hanging.kind,
        hanging.rows,
        hanging.columns,
        hanging.cells,
        hanging.stage,
        hanging.study_instance_uid,
    )
