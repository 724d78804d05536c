"""HangingView: Qt view of a :class:`~galactoview.reading.hanging.Hanging` — a grid of viewports.

The hanging protocol (which image in which cell, flip, chest-wall side, pairs) is
decided by the Qt-free :mod:`galactoview.reading.hanging`; this widget lays out one
:class:`Viewport` per cell, marks the active one, and links window/level and zoom
across the viewports when the links are on:

- **window/level**: a window the reader chooses in one viewport (drag, preset, auto,
  numeric entry; not a new image's own default) is set in every other viewport
  showing an image (the same centre and width; a VOI
  LUT is not transferable and is not linked);
- **zoom and pan**: a zoom or pan by the user in one viewport sets every viewport of
  the same pair to the same physical scale (mm per screen pixel) and moves it by the
  same amount on screen, mirrored left–right when the two images hang with their
  chest walls on opposite sides (so panning towards one chest wall pans towards the
  other). Viewports outside the pair, or uncalibrated ones, follow the zoom factor.

Cells of a pair are fitted at a common physical scale: the largest mm per screen
pixel any of them needs to fit, so both breasts show at the same size.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QFrame, QGridLayout, QVBoxLayout, QWidget

from galactoview.imaging.display import Window
from galactoview.reading.hanging import Anchor, Cell, Hanging
from galactoview.ui.viewer.viewport import Viewport, Voi

__all__ = ["HangingView"]

#: Width of the frame around each viewport; the active one is highlighted.
_BORDER = 2


class _ViewportFrame(QFrame):
    """A frame around one viewport that shows whether it is the active one."""

    def __init__(self, viewport: Viewport, parent: QWidget) -> None:
        super().__init__(parent)
        self.viewport = viewport
        self.setFrameShape(QFrame.Shape.Box)
        self.setLineWidth(_BORDER)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(viewport)
        self.set_active(False)

    def set_active(self, active: bool) -> None:
        """Highlight the frame (the palette's highlight colour) or make it dark."""
        role = QPalette.ColorRole.Highlight if active else QPalette.ColorRole.Window
        self.setForegroundRole(role)
        palette = self.palette()
        palette.setColor(
            QPalette.ColorRole.WindowText, self.palette().color(QPalette.ColorGroup.Active, role)
        )
        self.setPalette(palette)


class HangingView(QWidget):
    """Qt view of a :class:`Hanging`: one :class:`Viewport` per cell, in its grid.

    Parameters
    ----------
    parent
        Parent widget.
    on_new_viewport
        Called with each :class:`Viewport` as it is made (tools and overlays attach
        to it), the first one included.

    Signals
    -------
    active_changed(int)
        The active viewport (cell index) changed.
    """

    active_changed = Signal(int)

    def __init__(
        self,
        parent: QWidget | None = None,
        on_new_viewport: Callable[[Viewport], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self._on_new_viewport = on_new_viewport
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(2)
        self._frames: list[_ViewportFrame] = []
        self._hanging: Hanging | None = None
        self._active = 0
        self._linking = False
        self._user_zoomed = False
        self.link_window = True
        self.link_zoom = True
        self._rows = self._columns = 0
        self._laid_out = False
        self.set_grid(1, 1)

    # --- layout -----------------------------------------------------------------------

    @property
    def hanging(self) -> Hanging | None:
        """Return the hanging shown, None before the first one."""
        return self._hanging

    @property
    def viewports(self) -> tuple[Viewport, ...]:
        """Return the viewports in cell order (row-major)."""
        return tuple(frame.viewport for frame in self._frames[: self._cell_count()])

    @property
    def all_viewports(self) -> tuple[Viewport, ...]:
        """Return every viewport made so far, shown or not."""
        return tuple(frame.viewport for frame in self._frames)

    @property
    def active_index(self) -> int:
        """Return the cell index of the active viewport."""
        return self._active

    def active_viewport(self) -> Viewport:
        """Return the active viewport (the one tools, presets and image stepping act on).

        While a smaller grid is being laid out the active cell may no longer exist (its
        image is cleared, which tells the window): the first viewport stands in for it.
        """
        viewports = self.viewports
        return viewports[self._active] if self._active < len(viewports) else viewports[0]

    def cell(self, index: int) -> Cell | None:
        """Return the hanging cell at ``index``, None without a hanging."""
        if self._hanging is None or not 0 <= index < len(self._hanging.cells):
            return None
        return self._hanging.cells[index]

    def _cell_count(self) -> int:
        return self._rows * self._columns

    def set_grid(self, rows: int, columns: int, keep: Collection[int] = ()) -> None:
        """Lay out ``rows`` x ``columns`` viewports, reusing the existing ones, all cleared.

        The viewports of the cells in ``keep`` keep their image, view and window (images
        added to those open; :meth:`ReadingSession.grow
        <galactoview.reading.session.ReadingSession.grow>`), and so does the reader's zoom.
        """
        same_grid = (rows, columns) == (self._rows, self._columns) and self._laid_out
        focus = QApplication.focusWidget()
        had_focus = focus is not None and self.isAncestorOf(focus)
        self._rows, self._columns = rows, columns
        try:
            self._lay_out(rows, columns, keep, same_grid=same_grid)
        finally:
            if had_focus:
                # A cell hidden with the keyboard focus would hand it to the next widget
                # in the focus chain, e.g. a text field of a dock: keys meant for the
                # images (tool keys) would then type into a finding's wording.
                self.active_viewport().setFocus(Qt.FocusReason.OtherFocusReason)

    def _lay_out(self, rows: int, columns: int, keep: Collection[int], *, same_grid: bool) -> None:
        """Put the frames of a ``rows`` x ``columns`` grid in place (:meth:`set_grid`)."""
        if same_grid:
            # Only the images change (e.g. a cell filled as a study arrives): moving every
            # frame out of the layout and back costs a relayout and a resize of each
            # pyqtgraph view (~50 ms for a 2 x 2 of 30 Mpix images, ``make bench``).
            kept = {number for number in keep if number < rows * columns}
            for number, frame in enumerate(self._frames[: rows * columns]):
                if frame.viewport.has_image() and number not in kept:
                    frame.viewport.clear_image()
            if not kept:
                self._user_zoomed = False
            self.set_active(0)
            return
        self._laid_out = True
        while len(self._frames) < rows * columns:
            viewport = Viewport(self)
            number = len(self._frames)
            viewport.activated.connect(lambda n=number: self.set_active(n))
            viewport.voi_chosen.connect(lambda voi, n=number: self._on_voi_chosen(n, voi))
            viewport.view_changed_by_user.connect(lambda n=number: self._on_user_view(n))
            viewport.view_box.sigResized.connect(lambda *_args: self.refit_if_untouched())
            self._frames.append(_ViewportFrame(viewport, self))
            if self._on_new_viewport is not None:
                self._on_new_viewport(viewport)
        kept = {number for number in keep if number < rows * columns}
        for number, frame in enumerate(self._frames):
            self._grid.removeWidget(frame)
            frame.hide()
            if frame.viewport.has_image() and number not in kept:
                frame.viewport.clear_image()
        for number in range(rows * columns):
            frame = self._frames[number]
            self._grid.addWidget(frame, number // columns, number % columns)
            frame.show()
        for row in range(max(rows, 3)):
            self._grid.setRowStretch(row, 1 if row < rows else 0)
        for column in range(max(columns, 3)):
            self._grid.setColumnStretch(column, 1 if column < columns else 0)
        if not kept:
            self._user_zoomed = False
        self._grid.activate()  # the viewports get their new sizes before images are fitted
        self.set_active(0)

    def set_hanging(self, hanging: Hanging, keep: Collection[int] = ()) -> None:
        """Lay out the grid of a hanging; the images are shown later with :meth:`show_image`.

        Parameters
        ----------
        hanging
            The new hanging.
        keep
            Cells whose viewport shows the right image already (see :meth:`set_grid`).
        """
        self._hanging = hanging
        self.set_grid(hanging.rows, hanging.columns, keep)

    def remap(self, hanging: Hanging) -> None:
        """Take the hanging shown with its images at other indices: nothing on screen changes.

        Raises
        ------
        ValueError
            If ``hanging`` does not have the grid shown.
        """
        if (hanging.rows, hanging.columns) != (self._rows, self._columns):
            raise ValueError(
                f"a {hanging.rows}×{hanging.columns} hanging cannot replace the "
                f"{self._rows}×{self._columns} one shown without a new layout"
            )
        self._hanging = hanging

    def set_active(self, index: int) -> None:
        """Make the viewport at ``index`` the active one."""
        if not 0 <= index < self._cell_count():
            return
        changed = index != self._active
        self._active = index
        for number, frame in enumerate(self._frames):
            frame.set_active(number == index and self._cell_count() > 1)
        if changed:
            self.active_changed.emit(index)

    # --- images -----------------------------------------------------------------------

    def fit_all(self) -> None:
        """Fit every viewport; the viewports of a pair at their common physical scale."""
        self._user_zoomed = False
        pairs: dict[int, list[Viewport]] = {}
        for number, viewport in enumerate(self.viewports):
            cell = self.cell(number)
            if cell is not None and cell.pair is not None and viewport.has_image():
                pairs.setdefault(cell.pair, []).append(viewport)
            else:
                viewport.fit()
        for members in pairs.values():
            scales = [viewport.fit_mm_per_screen_pixel() for viewport in members]
            known = [scale for scale in scales if scale is not None]
            common = max(known) if len(known) == len(members) else None
            for viewport in members:
                viewport.fit(common)

    def refit_if_untouched(self) -> None:
        """Fit again (an image arrived, a viewport was resized) unless the user zoomed or panned."""
        if not self._user_zoomed and not self._linking:
            self._linking = True  # fitting resizes nothing, but keep re-entry out
            try:
                self.fit_all()
            finally:
                self._linking = False

    # --- links ------------------------------------------------------------------------

    def _others(self, number: int) -> list[Viewport]:
        return [v for n, v in enumerate(self.viewports) if n != number and v.has_image()]

    def _on_voi_chosen(self, number: int, voi: Voi) -> None:
        """Give the other viewports the same window when window/level is linked."""
        if self._linking or not self.link_window or not isinstance(voi, Window):
            return
        self._linking = True
        try:
            for viewport in self._others(number):
                if viewport.voi != voi:
                    viewport.set_voi(voi, chosen=False)
        finally:
            self._linking = False

    def _on_user_view(self, number: int) -> None:
        """Make the linked viewports follow a zoom or pan by the user."""
        self._user_zoomed = True
        if self._linking or not self.link_zoom:
            return
        source = self.viewports[number]
        source_cell = self.cell(number)
        scale = source.mm_per_screen_pixel()
        zoom = source.zoom_factor()
        if zoom <= 0.0:
            return
        shift = self._screen_shift_from_fit(source)
        self._linking = True
        try:
            for other_number, other in enumerate(self.viewports):
                if other_number == number or not other.has_image():
                    continue
                other_cell = self.cell(other_number)
                same_pair = (
                    source_cell is not None
                    and other_cell is not None
                    and source_cell.pair is not None
                    and source_cell.pair == other_cell.pair
                )
                if not same_pair:
                    continue
                other_scale = other.mm_per_screen_pixel()
                if scale is not None and other_scale is not None:
                    other.fit(scale)
                else:
                    other.fit()
                    other.set_zoom(zoom)
                mirrored = {source.alignment, other.alignment} == {
                    Anchor.LEFT,
                    Anchor.RIGHT,
                }
                dx, dy = shift
                self._shift_view(other, -dx if mirrored else dx, dy)
        finally:
            self._linking = False

    @staticmethod
    def _screen_shift_from_fit(viewport: Viewport) -> tuple[float, float]:
        """Return how far (screen px) the view centre is from where a fit at this scale puts it."""
        (x0, x1), (y0, y1) = viewport.view_box.viewRange()
        centre = ((x0 + x1) / 2.0, (y0 + y1) / 2.0)
        scale = viewport.mm_per_screen_pixel()
        linking_range = viewport.view_box.viewRange()
        viewport.view_box.blockSignals(True)
        try:
            viewport.fit(scale)
            if scale is None:
                viewport.set_zoom(viewport.zoom_factor())
            (fx0, fx1), (fy0, fy1) = viewport.view_box.viewRange()
        finally:
            viewport.view_box.setRange(
                xRange=linking_range[0], yRange=linking_range[1], padding=0.0
            )
            viewport.view_box.blockSignals(False)
        zoom = viewport.zoom_factor() or 1.0
        return (
            (centre[0] - (fx0 + fx1) / 2.0) * zoom,
            (centre[1] - (fy0 + fy1) / 2.0) * zoom,
        )

    @staticmethod
    def _shift_view(viewport: Viewport, dx_screen: float, dy_screen: float) -> None:
        """Pan a viewport by a distance in screen pixels."""
        zoom = viewport.zoom_factor()
        if zoom <= 0.0:
            return
        (x0, x1), (y0, y1) = viewport.view_box.viewRange()
        dx, dy = dx_screen / zoom, dy_screen / zoom
        viewport.view_box.setRange(
            xRange=(x0 + dx, x1 + dx), yRange=(y0 + dy, y1 + dy), padding=0.0
        )

    def viewports_showing_images(self) -> Sequence[Viewport]:
        """Return the viewports that show an image."""
        return [viewport for viewport in self.viewports if viewport.has_image()]
