"""Side panels that give way to the images in a small window (issue 15: any window size).

At 800 x 600 the study browser (300 px) and the Findings dock (320 px) kept their width
and left each image of a 1 x 2 hanging about 70 px. :class:`SidePanels` decides on the
window's width each time the window is resized:

* **wide** (:data:`COMPACT_BELOW` px and more): the docks are where the reader put them;
  when the window is resized (or a saved layout restored) so that the images get less
  than :data:`MIN_IMAGE_FRACTION` of the width, the side docks go back to their default
  widths;
* **compact** (narrower, e.g. 1024 x 768 and 800 x 600): the side docks collapse —
  hidden, the browser tabbed with the Findings and Report docks in one column on the
  right — and the toggle :attr:`SidePanels.action` (View → Side Panels, F6, "Panels" on
  the toolbar) shows that column, :data:`COMPACT_PANEL_FRACTION` of the width, over the
  images' side and hides it again. Widening the window brings back the docks shown
  before (each in its area, at its width).

The layout the window saves at quit is the wide one: a compact session leaves the
saved layout as it was (:meth:`SidePanels.saves_layout`), so a layout saved on a large
screen never comes back in a small window as docks that hide the images, and a small
window's collapsed docks never come back on a large screen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Final

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QResizeEvent
from PySide6.QtWidgets import QDockWidget, QMainWindow

__all__ = [
    "COMPACT_BELOW",
    "COMPACT_PANEL_FRACTION",
    "MIN_IMAGE_FRACTION",
    "SidePanels",
    "is_compact_width",
]

#: Window widths below this (logical pixels) collapse the side docks: at 1280 px the
#: default docks (620 px) still leave the images half the window.
COMPACT_BELOW: Final = 1280
#: Least share of the window's width the images keep in a wide window.
MIN_IMAGE_FRACTION: Final = 0.5
#: Width of the panel column shown in a compact window, as a share of the window.
COMPACT_PANEL_FRACTION: Final = 0.35
#: A dock narrower than this (pixels) when the docks collapse was not laid out yet.
_LEAST_WIDTH: Final = 120


def is_compact_width(width: int) -> bool:
    """Return whether a window this wide collapses its side docks.

    Parameters
    ----------
    width
        The window's width in logical pixels.

    Returns
    -------
    bool
        True below :data:`COMPACT_BELOW`.
    """
    return width < COMPACT_BELOW


class SidePanels(QObject):
    """Collapses a main window's side docks when it is narrow; a toggle shows them.

    Parameters
    ----------
    window
        The main window (its resizes are watched).
    widths
        The side docks and their default widths, in pixels; the first is the column the
        others are tabbed with when compact (the Findings dock).
    allowed
        Whether a dock may be shown now (e.g. not the Findings dock in the surgeon's
        review); docks not allowed are left as the window put them.

    Attributes
    ----------
    action
        Checkable "Side Panels": checked while any side dock is shown.
    """

    def __init__(
        self,
        window: QMainWindow,
        widths: Mapping[QDockWidget, int],
        allowed: Callable[[QDockWidget], bool],
    ) -> None:
        super().__init__(window)
        self._window = window
        self._widths = dict(widths)
        self._docks: tuple[QDockWidget, ...] = tuple(widths)
        self._allowed = allowed
        #: Where each dock was put by the window: the default layout.
        self._home = {dock: window.dockWidgetArea(dock) for dock in self._docks}
        self._compact = False
        self._wanted = False  # the reader asked for the panels while compact (F6)
        #: Docks shown in the wide layout when it collapsed: (area, width) of each.
        self._remembered: dict[QDockWidget, tuple[Qt.DockWidgetArea, int]] = {}
        #: The window was resized or the docks expanded: check the images' share (until the
        #: reader presses the mouse on the window, e.g. to drag a dock's edge).
        self._check_pending = True
        self._busy = False
        self.action = QAction("Side &Panels", self)
        self.action.setCheckable(True)
        self.action.setToolTip("Show or hide the side panels: studies, findings, report (F6)")
        self.action.toggled.connect(self.set_shown)
        for dock in self._docks:
            dock.visibilityChanged.connect(lambda _visible: self._update_action())
        window.installEventFilter(self)
        self._central = window.centralWidget()
        if self._central is not None:
            self._central.installEventFilter(self)
        self._update_action()

    # --- state --------------------------------------------------------------------------

    @property
    def compact(self) -> bool:
        """Return whether the side docks are collapsed for a narrow window."""
        return self._compact

    def saves_layout(self) -> bool:
        """Return whether the window's layout is to be saved now (not while compact)."""
        return not self._compact

    def is_shown(self) -> bool:
        """Return whether any side dock is shown."""
        return any(not dock.isHidden() for dock in self._docks)

    # --- commands -----------------------------------------------------------------------

    def set_shown(self, on: bool) -> None:
        """Show the side docks (those the mode allows) or hide them all (F6)."""
        self._wanted = on
        if not on:
            for dock in self._docks:
                dock.hide()
        elif self._compact:
            self._show_column()
        else:
            self._show_wide(self._default_layout())
        self._update_action()

    def refresh(self, keep: Sequence[QDockWidget] = ()) -> None:
        """Keep the collapsed layout after the window showed or hid docks (a mode change).

        Parameters
        ----------
        keep
            Docks the mode is about (the surgeon's review): while compact they stay
            shown, in the column's width; the others stay hidden unless the reader asked
            for the panels (F6).
        """
        if self._compact and self._wanted:
            self._show_column()
        elif self._compact:
            for dock in self._docks:
                if dock not in keep:
                    dock.hide()
            self._narrow([dock for dock in keep if not dock.isHidden()])
        self._update_action()

    def apply_width(self, width: int) -> None:
        """Collapse or expand the side docks for a window this wide (on every resize)."""
        compact = is_compact_width(width)
        if compact and not self._compact:
            self._collapse()
        elif not compact and self._compact:
            self._expand()

    # --- layouts ------------------------------------------------------------------------

    def _collapse(self) -> None:
        """Hide the side docks, remembering where they were; tab them in one column."""
        window = self._window
        self._remembered = {
            dock: (window.dockWidgetArea(dock), self._width_of(dock))
            for dock in self._docks
            if not dock.isHidden()
        }
        self._compact = True
        self._wanted = False
        for dock in self._docks:
            dock.hide()
        column = self._docks[0]
        for dock in self._docks[1:]:
            if not dock.isFloating() and not column.isFloating():
                window.tabifyDockWidget(column, dock)
        self._update_action()

    def _width_of(self, dock: QDockWidget) -> int:
        """Return a dock's width as laid out; its default when it is not (yet) laid out."""
        laid_out = self._window.isVisible() and dock.isVisible()
        return dock.width() if laid_out and dock.width() >= _LEAST_WIDTH else self._widths[dock]

    def _expand(self) -> None:
        """Put the side docks back as they were before collapsing (or the defaults)."""
        self._compact = False
        self._busy = True  # no check on the way: the layout is not final
        column_shown = self.is_shown()
        for dock in self._docks:
            dock.hide()
        for dock, area in self._home.items():
            wanted = self._remembered.get(dock, (area, 0))[0]
            if wanted != self._window.dockWidgetArea(dock):
                self._window.addDockWidget(wanted, dock)
        if self._remembered:
            self._show_wide(self._remembered)
        elif column_shown:
            self._show_wide(self._default_layout())
        self._busy = False
        self._check_pending = True
        self._update_action()

    def _default_layout(self) -> dict[QDockWidget, tuple[Qt.DockWidgetArea, int]]:
        return {dock: (self._home[dock], width) for dock, width in self._widths.items()}

    def _show_wide(self, layout: Mapping[QDockWidget, tuple[Qt.DockWidgetArea, int]]) -> None:
        shown = [dock for dock in layout if self._allowed(dock)]
        for dock in shown:
            dock.show()
        self._raise_first(shown)
        self._window.resizeDocks(
            shown, [layout[dock][1] for dock in shown], Qt.Orientation.Horizontal
        )

    def _show_column(self) -> None:
        shown = [dock for dock in self._docks if self._allowed(dock)]
        for dock in shown:
            dock.show()
        self._raise_first(shown)
        self._narrow(shown)

    def _narrow(self, docks: Sequence[QDockWidget]) -> None:
        """Give docks the compact column's width (or the least their contents allow)."""
        width = round(COMPACT_PANEL_FRACTION * self._window.width())
        self._window.resizeDocks(list(docks), [width] * len(docks), Qt.Orientation.Horizontal)

    @staticmethod
    def _raise_first(docks: Sequence[QDockWidget]) -> None:
        if docks:
            docks[0].raise_()

    def _keep_images_wide(self) -> None:
        """In a wide window, give docks that leave the images too little their defaults."""
        window, central = self._window, self._central
        if self._compact or self._busy or central is None or not window.isVisible():
            return
        if not self._check_pending or central.width() >= MIN_IMAGE_FRACTION * window.width():
            return  # (not pending: a dock's edge dragged by the reader, their choice)
        shown = [dock for dock in self._docks if not dock.isHidden() and not dock.isFloating()]
        self._window.resizeDocks(
            shown, [self._widths[dock] for dock in shown], Qt.Orientation.Horizontal
        )

    def _update_action(self) -> None:
        shown = self.is_shown()
        if self.action.isChecked() != shown:
            self.action.blockSignals(True)
            self.action.setChecked(shown)
            self.action.blockSignals(False)

    # --- events -------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt)
        """Follow the window's width: collapse, expand, keep the images' share."""
        if watched is self._window and event.type() is QEvent.Type.Resize:
            assert isinstance(event, QResizeEvent)
            self._check_pending = True
            self.apply_width(event.size().width())
        elif watched is self._window and event.type() is QEvent.Type.MouseButtonPress:
            self._check_pending = False
        elif watched is self._central and event.type() is QEvent.Type.Resize:
            self._keep_images_wide()
        return False
