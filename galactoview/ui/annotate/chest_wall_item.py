"""ChestWallEditor: shows an oblique view's chest-wall line and lets the reader move its ends.

The line is the pectoral muscle edge suggested by
:func:`galactoview.location.landmarks.suggest_chest_wall`, kept in the study's document
(:class:`~galactoview.annotations.document.StudyDocument`); it sets the depth third of the
findings marked on that view. It is a pyqtgraph ``LineSegmentROI`` child of the image item
(SCOORD coordinates of the stored image, following zoom, pan and flips) with a handle at
each end; releasing a dragged handle is one undoable edit
(:meth:`AnnotationWorkspace.move_chest_wall`): the study is unsaved, every location is
recomputed, and the next save stores the moved line (the reader's, a "Chest wall" group of
the SR) with the findings' new locations. When the study is opened again the stored line is
shown; an oblique view whose line the reader never moved gets the suggestion again.
"""

from __future__ import annotations

from typing import Any, Final

from PySide6.QtCore import QObject
from PySide6.QtGui import QColor

# isort: split
# pyqtgraph must come after PySide6 so that it binds to PySide6.
import pyqtgraph as pg

from galactoview.annotations.model import ChestWallLine
from galactoview.ui.annotate.annotation_workspace import AnnotationWorkspace
from galactoview.ui.viewer.viewport import Viewport

__all__ = ["CHEST_WALL_COLOUR", "ChestWallEditor"]

#: Colour of the chest-wall line (a muted cyan, apart from the findings' colours).
CHEST_WALL_COLOUR: Final = QColor(110, 200, 220)


class ChestWallEditor(QObject):
    """Qt view of one viewport image's chest-wall line, with draggable ends.

    Parameters
    ----------
    viewport
        The viewport; the line is drawn when its image has one in the workspace.
    workspace
        Where the chest-wall lines live.
    """

    def __init__(self, viewport: Viewport, workspace: AnnotationWorkspace) -> None:
        super().__init__(viewport)
        self._viewport = viewport
        self._workspace = workspace
        self.roi: Any = None
        self._updating = False
        viewport.image_changed.connect(self.refresh)
        workspace.changed.connect(lambda _study: self.refresh())

    def _uid(self) -> str | None:
        record = self._viewport.record
        return record.sop_instance_uid if record is not None else None

    def line(self) -> ChestWallLine | None:
        """Return the chest-wall line of the image shown, None when it has none."""
        uid = self._uid()
        return self._workspace.chest_wall(uid) if uid is not None else None

    def refresh(self) -> None:
        """Draw the line of the image shown (or nothing)."""
        if self._updating:
            return
        line = self.line() if self._viewport.has_image() else None
        if line is None:
            self._remove()
            return
        if self.roi is None:
            pen = pg.mkPen(CHEST_WALL_COLOUR, width=2, style=pg.QtCore.Qt.PenStyle.DashLine)
            self.roi = pg.LineSegmentROI(
                positions=[line.start, line.end],
                parent=self._viewport.image_item,
                pen=pen,
                handlePen=pg.mkPen(CHEST_WALL_COLOUR, width=2),
                movable=False,
                rotatable=False,
                resizable=False,
            )
            self.roi.setToolTip("Chest wall (pectoral line): drag an end to correct it")
            self.roi.sigRegionChangeFinished.connect(self._on_moved)
            return
        self._set_ends(line)

    def ends(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """Return the line's ends in image (SCOORD) coordinates, None when not drawn."""
        if self.roi is None:
            return None
        first, second = (self.roi.mapToParent(handle.pos()) for handle in self.roi.endpoints)
        return (float(first.x()), float(first.y())), (float(second.x()), float(second.y()))

    def _set_ends(self, line: ChestWallLine) -> None:
        """Move the handles to a line without reporting it back (model → view)."""
        self.roi.blockSignals(True)
        try:
            for handle, point in zip(self.roi.endpoints, (line.start, line.end), strict=True):
                self.roi.movePoint(handle, pg.Point(*point), finish=False)
        finally:
            self.roi.blockSignals(False)

    def _on_moved(self, *_args: object) -> None:
        """Replace the document's line with the one the reader dragged (one undoable edit)."""
        record = self._viewport.record
        ends = self.ends()
        if record is None or ends is None:
            return
        try:
            line = ChestWallLine(*ends)
        except ValueError:  # both ends dragged onto one point: keep the line there was
            self.refresh()
            return
        self._updating = True
        try:
            moved = self._workspace.move_chest_wall(
                record.study_instance_uid, record.sop_instance_uid, line
            )
        finally:
            self._updating = False
        if not moved:  # a study that cannot be stored: the line goes back
            self.refresh()

    def _remove(self) -> None:
        if self.roi is not None:
            scene = self.roi.scene()
            if scene is not None:
                scene.removeItem(self.roi)
            self.roi = None
