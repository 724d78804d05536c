"""CellDecoding: puts the images the reading session places into the viewports, once decoded.

The :class:`~galactoview.reading.session.ReadingSession` says which image (and frame)
each cell of the hanging shows; this keeps the bookkeeping between that and the
:class:`~galactoview.ui.viewer.decoding.ImageDecoder`: an image already decoded is
shown at once, else its cell is cleared (unless it shows another frame of the same
image) and the image is asked for; when it arrives (or fails) every cell that still
wants it is served. It also remembers each cell's automatic window and decodes ahead
the next image and the other galactography stages.

Progressive first picture: a cell that waits for a large JPEG 2000 image asks for its
reduced-resolution preview first (:meth:`ImageDecoder.request_preview`) and shows it,
fitted, over the full image's extent (pixel coordinates, marks, rulers and mm are the
full image's; the corner says "preview"; no pixel value is read out), then the full image
replaces it without refitting, keeping the reader's zoom and window. The automatic window
(a file without one) is computed on the preview and kept when the full image arrives, so
the picture does not change contrast under the reader: the preview's low-pass values
move the 1st–99.5th percentiles a little (on the bench images and the sample study the
centre by at most 0.8 % and the width by at most 1.4 % of the width); "reset display"
computes it on the full image.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from galactoview.dicom.loading import ImageRecord, PixelDataError
from galactoview.imaging.display import Window
from galactoview.reading.session import ReadingSession
from galactoview.ui.viewer.decoding import DecodedImage, ImageDecoder
from galactoview.ui.viewer.hanging_view import HangingView

__all__ = ["CellDecoding"]


class CellDecoding(QObject):
    """Decoded images into the cells of the hanging view, as the session places them.

    Parameters
    ----------
    session
        Says which image and frame each cell shows.
    decoder
        Decodes off the GUI thread and caches.
    view
        The viewports, one per cell.
    report
        The one error path: ``report(line, path)``.
    parent
        Parent object.

    Signals
    -------
    displayed(int, object)
        A cell now shows this :class:`DecodedImage`.
    failed(int, int)
        The image (index) a cell wants could not be decoded (reported).
    progress_changed(int, int)
        How many placed images are still decoding, of how many placed.
    previewed(int, object)
        A cell now shows this preview (:class:`DecodedImage` with ``reduction >= 1``);
        :attr:`displayed` follows when the full image replaces it.
    """

    displayed = Signal(int, object)
    previewed = Signal(int, object)
    failed = Signal(int, int)
    progress_changed = Signal(int, int)

    def __init__(
        self,
        session: ReadingSession,
        decoder: ImageDecoder,
        view: HangingView,
        report: Callable[[str, Path | None], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._decoder = decoder
        self._view = view
        self._report = report
        self._shown: dict[int, int] = {}  # cell -> image index displayed
        self._auto: dict[int, Window | None] = {}
        decoder.decoded.connect(self._on_decoded)
        decoder.failed.connect(self._on_decode_failed)
        decoder.previewed.connect(self._on_previewed)

    def reset(self) -> None:
        """Forget what the cells show (new studies opened)."""
        self._decoder.clear()
        self._shown.clear()
        self._auto.clear()

    def show_hanging(self, keep: Collection[int] = ()) -> None:
        """Put the images of a new hanging in their cells (the view has its new grid).

        Cells in ``keep`` show their image already (the session's
        :attr:`~galactoview.reading.session.ReadingSession.kept_cells`): they are left as
        they are, neither decoded, fitted nor windowed again.
        """
        self._shown = {cell: index for cell, index in self._shown.items() if cell in keep}
        for cell in self._session.cells:
            if cell not in self._shown:
                self.place(cell)

    def remap(self, moved: Mapping[int, int]) -> None:
        """Follow the images to new indices (images added to those open; old → new index)."""
        self._shown = {cell: moved[index] for cell, index in self._shown.items() if index in moved}

    def place(self, cell: int) -> None:
        """Show what the session puts in ``cell``: now if decoded, else once it is."""
        wanted = self._session.cells.get(cell)
        if wanted is None:
            return
        index, frame = wanted.image, wanted.frame
        record = self._session.records[index]
        decoded = self._decoder.cached(record, frame)
        if decoded is not None:
            self._display(cell, decoded)
            return
        if frame == 0 or self._shown.get(cell) != index:
            self._view.viewports[cell].clear_image()
            self._shown.pop(cell, None)
            if frame == 0:
                self._decoder.request_preview(record)  # before the full image
        self._decoder.request(record, frame)
        self._update_progress()

    def prefetch(self, indices: Iterable[int]) -> None:
        """Decode these images ahead, so showing them later is instant."""
        for index in indices:
            self._decoder.prefetch(self._session.records[index])

    def place_frame(self, cell: int) -> None:
        """Show the frame the session now wants in ``cell``; decode the next ones ahead."""
        self.place(cell)
        wanted = self._session.cells.get(cell)
        if wanted is None:
            return
        record = self._session.records[wanted.image]
        if record.frame_count > 1:
            ahead = [(wanted.frame + step) % record.frame_count for step in range(1, 5)]
            self._decoder.prefetch_frames(record, ahead)

    def is_decoding(self) -> bool:
        """Return whether an image placed in a cell is still being decoded."""
        records = self._session.records
        return any(
            self._decoder.is_pending(records[shown.image], shown.frame)
            for shown in self._session.cells.values()
        )

    def auto_window(self, cell: int, compute: bool = True) -> Window | None:
        """Return the automatic window of the image in ``cell`` (computed once when asked)."""
        if compute and self._auto.get(cell) is None:
            self._auto[cell] = self._view.viewports[cell].auto_window()
        return self._auto.get(cell)

    def _display(self, cell: int, decoded: DecodedImage) -> None:
        """Show a decoded image in a cell of the hanging."""
        wanted = self._session.cells[cell]
        index, frame = wanted.image, wanted.frame
        viewport = self._view.viewports[cell]
        same_image = self._shown.get(cell) == index and viewport.has_image()
        pipeline = decoded.pipeline
        if not same_image:
            for note in pipeline.problems:
                self._report(note, decoded.record.path)
            for line in decoded.overlays.problems if decoded.overlays is not None else ():
                self._report(line, decoded.record.path)
        flip, alignment = self._session.flip_and_anchor(cell, index)
        # Another frame of the image shown keeps the reader's window, but a window that
        # is still the file's for the previous frame follows the file: an enhanced
        # multi-frame image may give each frame its own (Frame VOI LUT, PS3.3 C.7.6.16.2.10).
        shown = viewport.pipeline
        follows_file = (
            shown is not None and viewport.voi is not None and viewport.voi == shown.default_voi()
        )
        keep = same_image and not follows_file
        voi = viewport.voi if keep else pipeline.default_voi()
        preview = decoded.reduction > 0
        # The full image replacing its preview keeps an inversion the reader chose meanwhile.
        invert = same_image and viewport.is_preview and viewport.inverted
        viewport.set_image(
            decoded.stored,
            pipeline,
            voi,
            record=decoded.record,
            flip=flip,
            calibration=decoded.calibration,
            alignment=alignment,
            frame=frame,
            fit=not same_image,
            ready=decoded.ready,
            overlays=decoded.overlays,
            frame_label=decoded.frame_label,
            full_shape=decoded.full_shape if preview else None,
        )
        self._shown[cell] = index
        if invert:
            viewport.toggle_invert()
        if voi is None:
            auto = viewport.auto_window()
            self._auto[cell] = auto
            if auto is not None:
                viewport.set_voi(auto, chosen=False)
        if not same_image:
            self._view.refit_if_untouched()
        if preview:
            self.previewed.emit(cell, decoded)
            return
        self._update_progress()
        self.displayed.emit(cell, decoded)
        records = self._session.records
        if cell == self._session.active_cell and index + 1 < len(records):
            self._decoder.prefetch(records[index + 1])

    def _on_decoded(self, decoded: DecodedImage) -> None:
        records = self._session.records
        for cell, wanted in self._session.cells.items():
            if decoded.record == records[wanted.image] and wanted.frame == decoded.frame:
                self._display(cell, decoded)

    def _on_previewed(self, preview: DecodedImage) -> None:
        """Show a preview in the cells that want its image and show nothing of it yet."""
        records = self._session.records
        for cell, wanted in self._session.cells.items():
            if (
                wanted.frame == 0
                and preview.record == records[wanted.image]
                and self._shown.get(cell) != wanted.image
            ):
                self._display(cell, preview)

    def _on_decode_failed(self, record: ImageRecord, error: PixelDataError) -> None:
        records = self._session.records
        failed = [
            (cell, wanted.image)
            for cell, wanted in self._session.cells.items()
            if records[wanted.image] == record
        ]
        if not failed:
            return  # a prefetch: reported if and when the image is placed
        for cell, index in failed:
            self._view.viewports[cell].clear_image()
            self._shown.pop(cell, None)
            self._report(error.message, error.path)
            self.failed.emit(cell, index)
        self._update_progress()

    def _update_progress(self) -> None:
        """Tell how many placed images are still decoding."""
        records = self._session.records
        placed = self._session.cells.values()
        pending = sum(self._decoder.is_pending(records[s.image], s.frame) for s in placed)
        self.progress_changed.emit(pending, len(placed))
