"""ViewportTools: the tools attached to every viewport and the choices they share.

Each viewport of the hanging gets its overlay, magnifier, ruler, chest-wall editor,
annotation layer and marking tool controller when it is made; the choices made in
the window (mouse mode, marking tool, finding type, overlays shown, loupe size and
zoom) apply to all of them, including viewports made later. The commands that act
on the active viewport's tools (finish a drawing, delete the selected mark or the last
ruler, clear the rulers, centre on a mark) are here too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSignalBlocker
from PySide6.QtGui import QAction

from galactoview.annotations.model import FindingType, GraphicType
from galactoview.ui.annotate.annotation_items import AnnotationLayer
from galactoview.ui.annotate.annotation_tools import AnnotationTool, AnnotationToolController
from galactoview.ui.annotate.annotation_workspace import AnnotationWorkspace
from galactoview.ui.annotate.chest_wall_item import ChestWallEditor
from galactoview.ui.annotate.finding_palette import FindingPalette
from galactoview.ui.annotate.findings_dock import FindingsDock
from galactoview.ui.shell.settings import Settings
from galactoview.ui.viewer.magnifier import Magnifier
from galactoview.ui.viewer.overlays import ViewportOverlay
from galactoview.ui.viewer.ruler import RulerTool
from galactoview.ui.viewer.viewport import MouseMode, Viewport

__all__ = ["ViewportTools"]

#: The tool that draws each region shape (linking starts with the linked finding's).
_SHAPE_TOOLS = {
    GraphicType.POINT: AnnotationTool.POINT,
    GraphicType.CIRCLE: AnnotationTool.CIRCLE,
    GraphicType.ELLIPSE: AnnotationTool.ELLIPSE,
    GraphicType.POLYLINE: AnnotationTool.POLYLINE,
}


class ViewportTools(QObject):
    """The per-viewport tools, by viewport, and what they all share.

    Parameters
    ----------
    settings
        Remembers the overlays shown and the loupe size and zoom.
    workspace
        The marks the annotation tools edit.
    finding_palette
        Gives the type of the next finding drawn.
    findings_dock
        Receives the regions drawn to link a finding to another view.
    report
        The one error path: ``report(line, path)``.
    active
        Returns the active viewport.
    parent
        Parent object.
    """

    def __init__(
        self,
        settings: Settings,
        workspace: AnnotationWorkspace,
        finding_palette: FindingPalette,
        findings_dock: FindingsDock,
        report: Callable[[str, Path | None], None],
        active: Callable[[], Viewport],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self._workspace = workspace
        self._palette = finding_palette
        self._findings_dock = findings_dock
        self._report = report
        self._active = active
        self.overlays: dict[Viewport, ViewportOverlay] = {}
        self.layers: dict[Viewport, AnnotationLayer] = {}
        self.chest_wall_editors: dict[Viewport, ChestWallEditor] = {}
        self.annotators: dict[Viewport, AnnotationToolController] = {}
        self.magnifiers: dict[Viewport, Magnifier] = {}
        self.rulers: dict[Viewport, RulerTool] = {}
        self.mouse_mode = MouseMode.WINDOW
        self.annotation_tool = AnnotationTool.SELECT
        self.overlays_visible = settings.flag("view/overlays", True)
        #: The window's actions by name (the tool ones are kept checked as tools change).
        self.actions: dict[str, QAction] = {}
        #: Called when a marking tool (not Select) is chosen: the window asks who reads.
        self.before_marking: Callable[[], None] | None = None
        #: Says what an action did, in the status line (the window sets it).
        self.say: Callable[[str], None] = lambda _text: None
        finding_palette.type_chosen.connect(self.set_finding_type)
        workspace.selection_changed.connect(self._on_selection_changed)
        findings_dock.linking_changed.connect(self._on_linking_changed)

    def attach(self, viewport: Viewport) -> None:
        """Give a new viewport its overlays, magnifier, ruler and annotation tools."""
        viewport.mouse_mode = self.mouse_mode
        overlay = ViewportOverlay(viewport)
        overlay.set_visible(self.overlays_visible)
        viewport.set_overlay_planes_visible(self.overlays_visible)
        self.overlays[viewport] = overlay
        magnifier = Magnifier(viewport)
        magnifier.size_px = int(
            self._settings.number("magnifier/size", magnifier.size_px, 100, 600)
        )
        magnifier.zoom = self._settings.number("magnifier/zoom", magnifier.zoom, 1.5, 8.0)
        magnifier.settings_changed.connect(lambda m=magnifier: self._on_magnifier_settings(m))
        self.magnifiers[viewport] = magnifier
        self.rulers[viewport] = RulerTool(viewport)
        self.chest_wall_editors[viewport] = ChestWallEditor(viewport, self._workspace)
        layer = AnnotationLayer(viewport, self._workspace)
        self.layers[viewport] = layer
        annotator = AnnotationToolController(viewport, self._workspace, layer)
        annotator.set_tool(self.annotation_tool)
        annotator.set_finding_type(self._palette.current_type())
        annotator.finding_sink = self._findings_dock.take_drawn_finding
        annotator.refused.connect(lambda text, path: self._report(text, path))
        annotator.warned.connect(lambda text, path: self._report(text, path))
        annotator.said.connect(lambda text: self.say(text))
        self.annotators[viewport] = annotator

    def _on_magnifier_settings(self, changed: Magnifier) -> None:
        """Remember the loupe size and zoom, and use them in every viewport."""
        self._settings.set("magnifier/size", changed.size_px)
        self._settings.set("magnifier/zoom", changed.zoom)
        for magnifier in self.magnifiers.values():
            if magnifier is not changed:
                blocker = QSignalBlocker(magnifier)
                magnifier.size_px = changed.size_px
                magnifier.zoom = changed.zoom
                del blocker

    def set_mouse_mode(self, mode: MouseMode | str) -> None:
        """Choose what a left-button drag does in every viewport."""
        mode = MouseMode(mode)
        self.mouse_mode = mode
        for viewport in self.overlays:
            viewport.mouse_mode = mode
        action = self.actions.get(f"tool_{mode.name.lower()}")  # ANNOTATE has none
        if action is not None and not action.isChecked():
            action.setChecked(True)

    def set_annotation_tool(self, tool: AnnotationTool | str) -> None:
        """Choose a marking tool: the left button draws (or selects) marks in every viewport."""
        tool = AnnotationTool(tool)
        if tool is not AnnotationTool.SELECT and self.before_marking is not None:
            self.before_marking()
        self.annotation_tool = tool
        for annotator in self.annotators.values():
            annotator.set_tool(tool)
        self.set_mouse_mode(MouseMode.ANNOTATE)
        action = self.actions.get(f"annotate_{tool.name.lower()}")
        if action is not None and not action.isChecked():
            action.setChecked(True)

    def set_finding_type(self, finding_type: FindingType) -> None:
        """Choose the type of the next finding drawn, in every viewport."""
        for annotator in self.annotators.values():
            annotator.set_finding_type(finding_type)

    def set_overlays_visible(self, on: bool) -> None:
        """Show or hide the text overlays and overlay planes of every viewport (remembered)."""
        self.overlays_visible = on
        for viewport, overlay in self.overlays.items():
            overlay.set_visible(on)
            viewport.set_overlay_planes_visible(on)
        self._settings.set("view/overlays", on)

    def _on_selection_changed(self, tracking_uid: object) -> None:
        """Let the palette show the type of the finding selected."""
        if not isinstance(tracking_uid, str):
            return
        study = self._workspace.study_of(tracking_uid)
        if study is None:
            return
        for finding in self._workspace.annotations(study).findings:
            if finding.tracking_uid == tracking_uid:
                self._palette.set_current_type(finding.finding_type)
                self.set_finding_type(finding.finding_type)

    def _on_linking_changed(self, on: bool) -> None:
        """Linking started: the left button draws (the finding's first shape, if no shape tool)."""
        finding = self._findings_dock.current_finding() if on else None
        if finding is None:
            return
        tool = self.annotation_tool
        if tool not in _SHAPE_TOOLS.values():
            tool = _SHAPE_TOOLS[finding.regions[0].graphic_type]
        if tool is not self.annotation_tool or self.mouse_mode is not MouseMode.ANNOTATE:
            self.set_annotation_tool(tool)

    def finish_drawing(self) -> bool:
        """Finish the polyline or duct trace being drawn in the active viewport (Enter).

        Returns
        -------
        bool
            Whether a mark was made (False: nothing, or too little, was being drawn).
        """
        return self.annotators[self._active()].finish()

    def is_drawing(self) -> bool:
        """Return whether a drawing or the linking of a finding is in progress (Esc drops it)."""
        return self._findings_dock.is_linking() or any(
            annotator.is_drawing() for annotator in self.annotators.values()
        )

    def cancel_drawing(self) -> None:
        """Drop the drawing in progress and stop linking a finding to another view (Esc)."""
        for annotator in self.annotators.values():
            annotator.cancel()
        self._findings_dock.cancel_linking()

    def delete_selected(self) -> None:
        """Delete the selected mark; with none selected, the last ruler of the active view.

        The status line says what went (a finding goes with its regions on every view) or
        that nothing did.
        """
        what = self._describe(self._workspace.selected)
        if self.layers[self._active()].delete_selected():
            self.say(f"Deleted {what}: Edit → Undo (Ctrl+Z) brings it back")
        elif self.rulers[self._active()].delete_last():
            self.say("Deleted the last ruler of this image")
        else:
            self.say(
                "Nothing selected to delete: click a mark with Select (V); a nipple is "
                "deleted from the Findings list"
            )

    def _describe(self, tracking_uid: str | None) -> str:
        """Name a finding or duct segment with the views of its regions, e.g. FD-2 (L CC, L ML)."""
        study = None if tracking_uid is None else self._workspace.study_of(tracking_uid)
        if study is None:
            return "the mark"
        annotations = self._workspace.annotations(study)
        views = {
            record.sop_instance_uid: record.view.label
            for viewport in self.layers
            if (record := viewport.record) is not None
        }
        for finding in annotations.findings:
            if finding.tracking_uid == tracking_uid:
                names = [views.get(r.sop_instance_uid, "") for r in finding.regions]
                shown = ", ".join(n for n in names if n)
                return f"{finding.short_id} ({shown})" if shown else finding.short_id
        for segment in annotations.duct_segments:
            if segment.tracking_uid == tracking_uid:
                return f"{segment.short_id} and its branches"
        return "the mark"

    def clear_rulers(self) -> None:
        """Remove every ruler of the active viewport (Shift+Del)."""
        self.rulers[self._active()].clear()

    def centre_on_mark(self, tracking_uid: str, sop_instance_uid: str) -> None:
        """Centre the active viewport on the mark's region on that image, if any."""
        study = self._workspace.study_of(tracking_uid)
        if study is None:
            return
        annotations = self._workspace.annotations(study)
        regions = [
            region
            for finding in annotations.findings
            if finding.tracking_uid == tracking_uid
            for region in finding.regions
        ] + [s.region for s in annotations.duct_segments if s.tracking_uid == tracking_uid]
        points = [
            p
            for region in regions
            if region.sop_instance_uid == sop_instance_uid
            for p in region.points
        ]
        viewport = self._active()
        if points and viewport.has_image():
            column = sum(p[0] for p in points) / len(points)
            row = sum(p[1] for p in points) / len(points)
            viewport.center_on(column, row)
