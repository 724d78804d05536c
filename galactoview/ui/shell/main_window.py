"""MainWindow: the reading workstation — Qt view of a scanned study hung in viewports.

The window composes the pieces: the study browser (left dock), the hanging view
(centre: one viewport per cell of a :class:`~galactoview.reading.hanging.Hanging`), the
problems dock, the cine bar, the tools attached to each viewport (overlays,
magnifier, ruler), the menus and keyboard shortcuts, and the settings remembered
between sessions. Decisions live elsewhere: the hanging protocol in
:mod:`galactoview.reading.hanging`, the display math in :mod:`galactoview.imaging.display`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QSignalBlocker, Qt, QThreadPool, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QPalette,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QMenu,
    QProgressBar,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from galactoview.annotations.model import NippleLandmark
from galactoview.dicom.loading import ImageRecord, PixelDataError, ScanResult, scan
from galactoview.dicom.mammography import Flip
from galactoview.dicom.person_name import format_person_name
from galactoview.imaging.display import VoiLut, Window
from galactoview.location.frame import ChestWallLine
from galactoview.location.landmarks import ChestWallKind, suggest_chest_wall, suggest_nipple
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
from galactoview.ui.annotate.annotation_items import AnnotationLayer
from galactoview.ui.annotate.annotation_saver import AnnotationSaver
from galactoview.ui.annotate.annotation_tools import (
    TOOL_SHORTCUTS,
    AnnotationTool,
    AnnotationToolController,
)
from galactoview.ui.annotate.annotation_workspace import AnnotationWorkspace
from galactoview.ui.annotate.chest_wall_item import ChestWallEditor
from galactoview.ui.annotate.finding_palette import FindingPalette
from galactoview.ui.annotate.findings_dock import FindingsDock
from galactoview.ui.browser.study_browser import StudyBrowserDock
from galactoview.ui.review.report_pdf import write_report_pdf
from galactoview.ui.review.review_mode import SurgeonReview, review_content
from galactoview.ui.shell.errors import ProblemReporter, ProblemsDock
from galactoview.ui.shell.save_guard import StorageBanner, UnsavedMarksGuard
from galactoview.ui.shell.settings import Settings
from galactoview.ui.shell.shortcuts_dialog import MOUSE_BINDINGS, ShortcutsDialog, shortcut_rows
from galactoview.ui.viewer.cine import CineBar, default_fps
from galactoview.ui.viewer.decoding import DecodedImage, ImageDecoder
from galactoview.ui.viewer.hanging_view import HangingView
from galactoview.ui.viewer.magnifier import Magnifier
from galactoview.ui.viewer.overlays import ViewportOverlay
from galactoview.ui.viewer.ruler import RulerTool
from galactoview.ui.viewer.viewport import MouseMode, PixelSample, Viewport
from galactoview.ui.viewer.window_entry import WindowEntryDialog
from galactoview.ui.viewer.window_level import describe_voi, preset_label

__all__ = ["MainWindow", "format_person_name"]

Voi = Window | VoiLut | None

#: Number of presets reachable with the keys 1..9.
_PRESET_KEYS = 9

#: Initial width of the study browser, in pixels.
_BROWSER_WIDTH = 300

#: Initial width of the findings dock, in pixels.
_FINDINGS_WIDTH = 320

#: Oblique views, whose chest wall is the pectoral line rather than the image edge.
_OBLIQUE_VIEWS = frozenset({"MLO", "LMO", "SIO", "ISO"})

#: Status-bar message while images are being decoded.
DECODING_MESSAGE = "Decoding…"


class _ScanRelay(QObject):
    """Carries a finished scan from the pool thread to the GUI thread (queued)."""

    finished = Signal(object, object)


class _ScanTask(QRunnable):
    """Scans paths in a pool thread (headers only) and reports back through a relay."""

    def __init__(self, paths: list[Path], relay: _ScanRelay) -> None:
        super().__init__()
        self._paths = paths
        self._relay = relay

    def run(self) -> None:
        """Scan, then hand the result to the GUI thread."""
        result = scan(self._paths)
        self._relay.finished.emit(self._paths, result)


class MainWindow(QMainWindow):
    """Qt view of a :class:`ScanResult` hung in viewports, with its tools.

    Public attributes are the parts tests and the composition root use:
    ``hanging_view``, ``browser``, ``problems_dock``, ``problems`` (the one error
    path), ``preset_combo``, ``decoder``, ``cine``, ``settings`` and the actions.

    Parameters
    ----------
    decoder
        Decodes the images off the GUI thread; the window becomes its parent.
    settings
        What is remembered between sessions; the application's QSettings when None.
    parent
        Parent widget.

    Signals
    -------
    image_shown(int)
        The image at this index of :attr:`records` is displayed in a viewport.
    image_failed(int)
        The image at this index could not be decoded; the problem was reported.
    hanging_changed(object)
        A new :class:`Hanging` was laid out.
    scan_finished()
        A scan started by :meth:`open_paths` is over and shown.
    """

    image_shown = Signal(int)
    image_failed = Signal(int)
    hanging_changed = Signal(object)
    scan_finished = Signal()

    def __init__(
        self,
        decoder: ImageDecoder,
        settings: Settings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.setAcceptDrops(True)
        self.resize(1400, 900)
        self.settings = settings if settings is not None else Settings()
        self._records: tuple[ImageRecord, ...] = ()
        self._requests: dict[int, tuple[int, int]] = {}  # cell -> (image index, frame)
        self._shown: dict[int, int] = {}  # cell -> image index displayed
        self._presets: list[Voi] = []
        self._auto: dict[int, Window | None] = {}
        self._layouts: list[Callable[[], Hanging | None]] = []
        self._layout_names: list[str] = []
        self._layout_position = 0
        self._last_paths: list[Path] = []
        self._cine_record: ImageRecord | None = None
        self.decoder = decoder
        decoder.setParent(self)
        self.overlays: dict[Viewport, ViewportOverlay] = {}
        self.layers: dict[Viewport, AnnotationLayer] = {}
        self.chest_wall_editors: dict[Viewport, ChestWallEditor] = {}
        self.annotators: dict[Viewport, AnnotationToolController] = {}
        self._annotation_tool = AnnotationTool.SELECT
        self.magnifiers: dict[Viewport, Magnifier] = {}
        self.rulers: dict[Viewport, RulerTool] = {}
        self._overlays_visible = self.settings.flag("view/overlays", True)
        self._mouse_mode = MouseMode.WINDOW
        self._scan_relay = _ScanRelay(self)
        self._scan_relay.finished.connect(self._on_scan_finished)

        self.workspace = AnnotationWorkspace(parent=self)
        self.finding_palette = FindingPalette(self)
        self.finding_palette.setObjectName("FindingPalette")
        self.findings_dock = FindingsDock(self.workspace, self)
        self.findings_dock.setObjectName("FindingsDock")
        self.hanging_view = HangingView(self, on_new_viewport=self._attach_tools)
        self.hanging_view.link_window = self.settings.flag("link/window", True)
        self.hanging_view.link_zoom = self.settings.flag("link/zoom", True)
        central = QWidget(self)
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.setSpacing(0)
        self.setCentralWidget(central)
        self.browser = StudyBrowserDock(self)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.browser)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.findings_dock)
        self.review = SurgeonReview(self.workspace, self)
        self.review_dock = QDockWidget("Surgeon Review", self)
        self.review_dock.setObjectName("ReviewDock")
        self.review_dock.setWidget(self.review)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.review_dock)
        self.review_dock.hide()
        self.problems_dock = ProblemsDock(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.problems_dock)
        self.problems_dock.hide()
        self.resizeDocks(
            [self.browser, self.findings_dock],
            [_BROWSER_WIDTH, _FINDINGS_WIDTH],
            Qt.Orientation.Horizontal,
        )
        self.resizeDocks([self.problems_dock], [110], Qt.Orientation.Vertical)
        self.problems = ProblemReporter(self.problems_dock, self.statusBar())
        self.saver = AnnotationSaver(self.workspace, self.problems, self)
        self.unsaved_guard = UnsavedMarksGuard(self.saver, self)
        self.storage_banner = StorageBanner(self.saver, self.unsaved_guard, central)
        central_layout.addWidget(self.storage_banner)
        central_layout.addWidget(self.hanging_view, 1)
        self.workspace.modified_changed.connect(self._update_title)

        self.layout_label = QLabel(self)
        self.image_label = QLabel(self)
        self.voi_label = QLabel(self)
        self.cursor_label = QLabel(self)
        self.cursor_label.setMinimumWidth(300)
        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.statusBar().addPermanentWidget(self.progress)
        labels = (self.layout_label, self.image_label, self.voi_label, self.cursor_label)
        for number, label in enumerate(labels):
            if number:
                separator = QFrame(self)
                separator.setFrameShape(QFrame.Shape.VLine)
                separator.setFrameShadow(QFrame.Shadow.Plain)
                separator.setForegroundRole(QPalette.ColorRole.Mid)
                self.statusBar().addPermanentWidget(separator)
            label.setContentsMargins(6, 0, 6, 0)
            self.statusBar().addPermanentWidget(label)

        self.preset_combo = QComboBox(self)
        self.preset_combo.setObjectName("PresetCombo")
        self.preset_combo.setPlaceholderText("Custom")
        self.preset_combo.setMinimumContentsLength(22)
        self.preset_combo.setToolTip("Window presets from the file (keys 1–9) and Auto (A)")
        self.cine = CineBar(self)
        self._build_actions()
        self._restore_settings()

        self.browser.image_activated.connect(self.select_image)
        self.findings_dock.navigate.connect(self.show_mark)
        self.review.finding_clicked.connect(self.show_mark)
        self.finding_palette.type_chosen.connect(self._on_finding_type_chosen)
        self.workspace.selection_changed.connect(self._on_selection_changed)
        self.decoder.decoded.connect(self._on_decoded)
        self.decoder.failed.connect(self._on_decode_failed)
        self.hanging_view.active_changed.connect(self._on_active_changed)
        self.preset_combo.activated.connect(self._on_preset_activated)
        self.cine.frame_requested.connect(self._on_frame_requested)
        self._update_title()

    # --- tools on each viewport ---------------------------------------------------------

    def _attach_tools(self, viewport: Viewport) -> None:
        """Give a new viewport its overlays, magnifier and ruler, and the window's signals."""
        viewport.mouse_mode = self._mouse_mode
        overlay = ViewportOverlay(viewport)
        overlay.set_visible(self._overlays_visible)
        self.overlays[viewport] = overlay
        magnifier = Magnifier(viewport)
        magnifier.size_px = int(self.settings.number("magnifier/size", magnifier.size_px, 100, 600))
        magnifier.zoom = self.settings.number("magnifier/zoom", magnifier.zoom, 1.5, 8.0)
        magnifier.settings_changed.connect(lambda m=magnifier: self._on_magnifier_settings(m))
        self.magnifiers[viewport] = magnifier
        self.rulers[viewport] = RulerTool(viewport)
        self.chest_wall_editors[viewport] = ChestWallEditor(viewport, self.workspace)
        layer = AnnotationLayer(viewport, self.workspace)
        self.layers[viewport] = layer
        annotator = AnnotationToolController(viewport, self.workspace, layer)
        annotator.set_tool(self._annotation_tool)
        annotator.set_finding_type(self.finding_palette.current_type())
        annotator.region_sink = self.findings_dock.link_region
        annotator.refused.connect(lambda text, path: self.problems.report(text, path))
        self.annotators[viewport] = annotator
        viewport.voi_changed.connect(lambda voi, v=viewport: self._on_voi_changed(v, voi))
        viewport.pixel_hovered.connect(self._on_pixel_hovered)

    def _on_magnifier_settings(self, changed: Magnifier) -> None:
        """Remember the loupe size and zoom, and use them in every viewport."""
        self.settings.set("magnifier/size", changed.size_px)
        self.settings.set("magnifier/zoom", changed.zoom)
        for magnifier in self.magnifiers.values():
            if magnifier is not changed:
                blocker = QSignalBlocker(magnifier)
                magnifier.size_px = changed.size_px
                magnifier.zoom = changed.zoom
                del blocker

    # --- actions ----------------------------------------------------------------------

    def _action(
        self,
        text: str,
        shortcuts: Sequence[QKeySequence | str] | QKeySequence | str | None,
        slot: Callable[[], object],
        tip: str = "",
        checkable: bool = False,
    ) -> QAction:
        action = QAction(text, self)
        if shortcuts is not None:
            if isinstance(shortcuts, QKeySequence | str):
                shortcuts = [shortcuts]
            action.setShortcuts([QKeySequence(key) for key in shortcuts])
        action.setCheckable(checkable)
        if checkable:
            action.toggled.connect(lambda _checked: slot())
        else:
            action.triggered.connect(lambda _checked=False: slot())
        keys = ", ".join(QKeySequence(k).toString() for k in (shortcuts or []))
        if tip or keys:
            action.setToolTip(f"{tip or text.replace('&', '')} ({keys})" if keys else tip)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        standard = QKeySequence.StandardKey
        # File
        self.open_folder_action = self._action(
            "Open &Folder…", QKeySequence(standard.Open), self._open_folder
        )
        self.open_files_action = self._action(
            "Open F&iles, DICOMDIR or Zip…", "Ctrl+Shift+O", self._open_files
        )
        self.quit_action = self._action("&Quit", "Ctrl+Q", self.close)
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        # Edit: Qt's own undo/redo actions, named after the command they undo ("Undo Add FD-1").
        self.undo_action = self.workspace.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcuts([QKeySequence("Ctrl+Z")])
        self.redo_action = self.workspace.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.addActions([self.undo_action, self.redo_action])
        self.report_action = self._action(
            "Export Surgeon &Report (PDF)…",
            "Ctrl+P",
            self.export_report,
            "Clock face, depth, distance from the nipple and key images of every finding",
        )
        self.save_annotations_action = self._action(
            "&Save Annotations", "Ctrl+S", self.saver.save_now, "Save now (they autosave anyway)"
        )
        self.save_elsewhere_action = self._action(
            "Save Annotations &Elsewhere…",
            "Ctrl+Shift+S",
            self.unsaved_guard.save_elsewhere,
            "Save the marks to a file you choose (e.g. when the study folder cannot be written)",
        )
        # Images
        self.next_action = self._action(
            "&Next Image", ["PgDown", "Down"], self.next_image, "Next image in the active viewport"
        )
        self.previous_action = self._action(
            "&Previous Image", ["PgUp", "Up"], self.previous_image, "Previous image"
        )
        self.next_series_action = self._action(
            "Next &Series", ["Ctrl+PgDown", "Ctrl+Down"], self.next_series
        )
        self.previous_series_action = self._action(
            "Previous S&eries", ["Ctrl+PgUp", "Ctrl+Up"], self.previous_series
        )
        # Hanging
        self.default_hanging_action = self._action(
            "&Default Hanging Protocol", "H", self.hang_default
        )
        self.next_layout_action = self._action("Next &Layout", "L", self.next_layout)
        self.previous_layout_action = self._action(
            "Previous La&yout", "Shift+L", self.previous_layout
        )
        self.compare_pre_action = self._action(
            "Compare with Pre-contrast Scout",
            "C",
            lambda: self.toggle_stage(GalactographyStage.COMPARE_PRE),
        )
        self.scout_action = self._action(
            "Switch to Pre-contrast Scout",
            "S",
            lambda: self.toggle_stage(GalactographyStage.PRE),
        )
        self.magnification_action = self._action(
            "Magnification Views",
            "X",
            lambda: self.toggle_stage(GalactographyStage.MAGNIFICATION),
        )
        self.compare_prior_action = self._action(
            "Compare with Prior Study",
            "Shift+C",
            lambda: self.toggle_stage(GalactographyStage.COMPARE_PRIOR),
        )
        self.prior_4up_action = self._action(
            "Prior Mammography 4-up", "Shift+M", self.hang_prior_mammography
        )
        self.layout_1_action = self._action("1-up", "Ctrl+1", lambda: self.hang_manual(1, 1))
        self.layout_2_action = self._action("1×2", "Ctrl+2", lambda: self.hang_manual(1, 2))
        self.layout_4_action = self._action("2×2", "Ctrl+4", lambda: self.hang_manual(2, 2))
        # Zoom
        self.fit_action = self._action(
            "&Fit", "F", self.fit_all, "Fit the images, pairs at the same scale"
        )
        self.actual_pixels_action = self._action(
            "1:1 Pixels", "Ctrl+0", lambda: self.viewport.actual_pixels()
        )
        self.true_size_action = self._action(
            "True Size (mm on screen)", "T", self.true_size, "Physical size at the screen's DPI"
        )
        self.link_zoom_action = self._action(
            "Link Zoom and Pan in Pairs", "Ctrl+K", self._on_link_zoom, checkable=True
        )
        self.link_zoom_action.setChecked(self.hanging_view.link_zoom)
        self.overlays_action = self._action(
            "Show &Overlays", "O", self._on_overlays_toggled, checkable=True
        )
        self.overlays_action.setChecked(self._overlays_visible)
        # Window
        self.auto_action = self._action(
            "&Auto Window", "A", self.apply_auto_window, "Automatic window over the breast"
        )
        self.invert_action = self._action("&Invert", "I", self.invert, "Invert the grayscale")
        self.reset_action = self._action("&Reset Window and Zoom", "Home", self.reset_view)
        self.enter_window_action = self._action(
            "&Enter Window/Level…", "E", self.enter_window, "Type the window centre and width"
        )
        self.link_window_action = self._action(
            "Link Window/Level", "Ctrl+L", self._on_link_window, checkable=True
        )
        self.link_window_action.setChecked(self.hanging_view.link_window)
        self.preset_actions: list[QAction] = []
        for number in range(1, _PRESET_KEYS + 1):
            action = self._action(
                f"Preset {number}", str(number), functools.partial(self.apply_preset, number - 1)
            )
            action.setEnabled(False)
            self.preset_actions.append(action)
        # Tools
        self.tool_group = QActionGroup(self)
        self.tool_actions: dict[MouseMode, QAction] = {}
        for mode, text, key in (
            (MouseMode.WINDOW, "&Window/Level Tool", "W"),
            (MouseMode.PAN, "&Pan Tool", "P"),
            (MouseMode.ZOOM, "&Zoom Tool", "Z"),
            (MouseMode.MEASURE, "&Ruler Tool", "R"),
            (MouseMode.MAGNIFY, "&Magnifying Glass", "G"),
        ):
            action = self._action(text, key, functools.partial(self.set_mouse_mode, mode))
            action.setCheckable(True)
            self.tool_group.addAction(action)
            self.tool_actions[mode] = action
        self.tool_actions[MouseMode.WINDOW].setChecked(True)
        self.delete_ruler_action = self._action(
            "Delete Selected Mark (else Last Ruler)", ["Del", "Backspace"], self.delete_selected
        )
        self.clear_rulers_action = self._action(
            "Clear Rulers", "Shift+Del", lambda: self.rulers[self.viewport].clear()
        )
        # Annotation tools (left button in the ANNOTATE mode)
        self.annotation_tool_actions: dict[AnnotationTool, QAction] = {}
        for tool in AnnotationTool:
            action = self._action(
                f"{tool.value.capitalize()} Tool"
                if tool is not AnnotationTool.NIPPLE
                else "Nipple Landmark Tool",
                TOOL_SHORTCUTS[tool],
                functools.partial(self.set_annotation_tool, tool),
            )
            action.setCheckable(True)
            self.tool_group.addAction(action)
            self.annotation_tool_actions[tool] = action
        self.suggest_nipple_action = self._action(
            "Suggest Nipple Landmarks",
            "Shift+N",
            self.suggest_nipples,
            "Place a suggested nipple on each shown image that has none; move it if needed",
        )
        self.finish_drawing_action = self._action(
            "Finish Drawing", ["Return", "Enter"], self.finish_drawing
        )
        self.cancel_drawing_action = self._action(
            "Cancel Drawing or Linking", "Esc", self.cancel_drawing
        )
        # Cine
        self.play_action = self._action("Play/Pause Cine", "Space", self._toggle_cine)
        self.next_frame_action = self._action("Next Frame", "Right", lambda: self.step_frame(1))
        self.previous_frame_action = self._action(
            "Previous Frame", "Left", lambda: self.step_frame(-1)
        )
        # Review
        self.review_action = self._action(
            "Surgeon &Review Mode", "F9", self._on_review_toggled, checkable=True
        )
        self.review_action.setToolTip(
            "Read-only: clock face, depth and distance from the nipple of each finding (F9)"
        )
        # Help
        self.shortcuts_action = self._action(
            "&Keyboard Shortcuts", QKeySequence(standard.HelpContents), self.show_shortcuts
        )
        self._build_menus()
        self._build_toolbars()

    def _build_menus(self) -> None:
        menu_bar = self.menuBar()
        file_menu = menu_bar.addMenu("&File")
        file_menu.addActions([self.open_folder_action, self.open_files_action])
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        file_menu.addActions(
            [self.save_annotations_action, self.save_elsewhere_action, self.report_action]
        )
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = menu_bar.addMenu("&Edit")
        edit_menu.addActions([self.undo_action, self.redo_action])
        hanging_menu = menu_bar.addMenu("&Hanging")
        hanging_menu.addActions(
            [self.default_hanging_action, self.next_layout_action, self.previous_layout_action]
        )
        hanging_menu.addSeparator()
        hanging_menu.addActions(
            [
                self.compare_pre_action,
                self.scout_action,
                self.magnification_action,
                self.compare_prior_action,
                self.prior_4up_action,
            ]
        )
        hanging_menu.addSeparator()
        hanging_menu.addActions([self.layout_1_action, self.layout_2_action, self.layout_4_action])
        hanging_menu.addSeparator()
        hanging_menu.addActions(
            [
                self.next_action,
                self.previous_action,
                self.next_series_action,
                self.previous_series_action,
            ]
        )
        view_menu = menu_bar.addMenu("&View")
        view_menu.addActions([self.fit_action, self.actual_pixels_action, self.true_size_action])
        view_menu.addSeparator()
        view_menu.addActions([self.link_zoom_action, self.overlays_action])
        view_menu.addSeparator()
        view_menu.addAction(self.review_action)
        view_menu.addSeparator()
        view_menu.addAction(self.browser.toggleViewAction())
        view_menu.addAction(self.findings_dock.toggleViewAction())
        view_menu.addAction(self.problems_dock.toggleViewAction())
        self.window_menu = menu_bar.addMenu("&Window")
        self.window_menu.addActions(
            [
                self.auto_action,
                self.invert_action,
                self.reset_action,
                self.enter_window_action,
                self.link_window_action,
            ]
        )
        self.window_menu.addSeparator()
        self.window_menu.addActions(self.preset_actions)
        tools_menu = menu_bar.addMenu("&Tools")
        tools_menu.addActions(list(self.tool_actions.values()))
        tools_menu.addSeparator()
        tools_menu.addActions([self.delete_ruler_action, self.clear_rulers_action])
        annotate_menu = menu_bar.addMenu("&Annotate")
        annotate_menu.addActions(list(self.annotation_tool_actions.values()))
        annotate_menu.addSeparator()
        annotate_menu.addActions(list(self.finding_palette.type_actions().values()))
        annotate_menu.addSeparator()
        annotate_menu.addActions([self.finish_drawing_action, self.cancel_drawing_action])
        annotate_menu.addSeparator()
        annotate_menu.addAction(self.suggest_nipple_action)
        tools_menu.addSeparator()
        tools_menu.addActions(
            [self.play_action, self.next_frame_action, self.previous_frame_action]
        )
        help_menu = menu_bar.addMenu("&Help")
        help_menu.addAction(self.shortcuts_action)

    def _build_toolbars(self) -> None:
        # Short toolbar texts (the menus keep the full names), so the bar fits 1280 px.
        for action, short in (
            (self.previous_action, "◀ Prev"),
            (self.next_action, "Next ▶"),
            (self.default_hanging_action, "Hang"),
            (self.next_layout_action, "Layout"),
            (self.tool_actions[MouseMode.WINDOW], "W/L"),
            (self.tool_actions[MouseMode.PAN], "Pan"),
            (self.tool_actions[MouseMode.ZOOM], "Zoom"),
            (self.tool_actions[MouseMode.MEASURE], "Ruler"),
            (self.tool_actions[MouseMode.MAGNIFY], "Loupe"),
            (self.fit_action, "Fit"),
            (self.true_size_action, "True size"),
            (self.auto_action, "Auto"),
            (self.invert_action, "Invert"),
            (self.link_window_action, "Link W/L"),
            (self.link_zoom_action, "Link zoom"),
        ):
            action.setIconText(short)
        toolbar = QToolBar("Tools", self)
        toolbar.setObjectName("ToolsToolBar")
        toolbar.setMovable(False)
        toolbar.addActions([self.previous_action, self.next_action])
        toolbar.addSeparator()
        toolbar.addActions([self.default_hanging_action, self.next_layout_action])
        toolbar.addSeparator()
        toolbar.addActions(list(self.tool_actions.values()))
        toolbar.addSeparator()
        toolbar.addActions([self.fit_action, self.true_size_action])
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" Window: ", toolbar))
        toolbar.addWidget(self.preset_combo)
        toolbar.addActions([self.auto_action, self.invert_action])
        toolbar.addSeparator()
        toolbar.addActions([self.link_window_action, self.link_zoom_action])
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
        cine_bar = QToolBar("Cine", self)
        cine_bar.setObjectName("CineToolBar")
        cine_bar.setMovable(False)
        cine_bar.addWidget(self.cine)
        self.cine_toolbar = cine_bar
        self.addToolBar(Qt.ToolBarArea.BottomToolBarArea, cine_bar)
        cine_bar.hide()
        self.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.finding_palette)
        self.addActions(list(self.finding_palette.type_actions().values()))

    def shortcut_sections(self) -> list[tuple[str, list[QAction]]]:
        """Return the actions by menu section, for Help → Keyboard shortcuts."""
        return [
            (
                "File",
                [
                    self.open_folder_action,
                    self.open_files_action,
                    self.save_annotations_action,
                    self.save_elsewhere_action,
                    self.report_action,
                    self.quit_action,
                ],
            ),
            ("Edit", [self.undo_action, self.redo_action]),
            (
                "Images",
                [
                    self.next_action,
                    self.previous_action,
                    self.next_series_action,
                    self.previous_series_action,
                ],
            ),
            (
                "Hanging",
                [
                    self.default_hanging_action,
                    self.next_layout_action,
                    self.previous_layout_action,
                    self.compare_pre_action,
                    self.scout_action,
                    self.magnification_action,
                    self.compare_prior_action,
                    self.prior_4up_action,
                    self.layout_1_action,
                    self.layout_2_action,
                    self.layout_4_action,
                ],
            ),
            (
                "Zoom",
                [
                    self.fit_action,
                    self.actual_pixels_action,
                    self.true_size_action,
                    self.link_zoom_action,
                    self.overlays_action,
                ],
            ),
            (
                "Window",
                [
                    self.auto_action,
                    self.invert_action,
                    self.reset_action,
                    self.enter_window_action,
                    self.link_window_action,
                    *self.preset_actions,
                ],
            ),
            (
                "Tools",
                [
                    *self.tool_actions.values(),
                    self.delete_ruler_action,
                    self.clear_rulers_action,
                ],
            ),
            (
                "Annotate",
                [
                    *self.annotation_tool_actions.values(),
                    *self.finding_palette.type_actions().values(),
                    self.finish_drawing_action,
                    self.cancel_drawing_action,
                    self.suggest_nipple_action,
                ],
            ),
            ("Cine", [self.play_action, self.next_frame_action, self.previous_frame_action]),
            ("Review", [self.review_action]),
            ("Help", [self.shortcuts_action]),
        ]

    def shortcut_list(self) -> list[tuple[str, str, str]]:
        """Return every keyboard and mouse binding as ``(section, keys, action)`` rows."""
        sections = [
            (title, [action for action in actions if action not in self.preset_actions])
            for title, actions in self.shortcut_sections()
        ]
        rows = shortcut_rows(sections)
        # Presets are listed once, as a range, after the other Window rows.
        last_window = max(n for n, row in enumerate(rows) if row[0] == "Window")
        rows.insert(last_window + 1, ("Window", "1 … 9", "Window preset 1–9 from the file"))
        return [*rows, *MOUSE_BINDINGS]

    def show_shortcuts(self) -> ShortcutsDialog:
        """Open Help → Keyboard shortcuts (not blocking)."""
        dialog = ShortcutsDialog(self.shortcut_list(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # --- settings ---------------------------------------------------------------------

    def _restore_settings(self) -> None:
        geometry = self.settings.bytes_value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.bytes_value("window/state")
        if state is not None:
            self.restoreState(state)
        # restoreState brings back the docks as they were at quit, also in review mode, while
        # the review action starts unchecked: start consistently in marking mode (the
        # radiologist's default; `galactoview --review` turns the review on afterwards).
        self.set_review_mode(False)
        mode = self.settings.text("tools/mouse_mode", MouseMode.WINDOW.value)
        if mode in {m.value for m in MouseMode}:
            self.set_mouse_mode(MouseMode(mode))

    def _save_settings(self) -> None:
        self.settings.set("window/geometry", self.saveGeometry())
        self.settings.set("window/state", self.saveState())
        self.settings.set("tools/mouse_mode", self._mouse_mode.value)

    # --- model -> view ----------------------------------------------------------------

    @property
    def records(self) -> tuple[ImageRecord, ...]:
        """Return the images loaded, in display order (newest study first)."""
        return self._records

    @property
    def viewport(self) -> Viewport:
        """Return the active viewport."""
        return self.hanging_view.active_viewport()

    @property
    def current_index(self) -> int | None:
        """Return the index of the image in the active viewport (shown or on its way)."""
        request = self._requests.get(self.hanging_view.active_index)
        return request[0] if request is not None else None

    @property
    def presets(self) -> list[Voi]:
        """Return the VOI presets of the image in the active viewport, in file order."""
        return list(self._presets)

    def set_scan_result(self, result: ScanResult) -> None:
        """Show what a scan found: list the images, report the problems, hang the default.

        When nothing could be opened but problems were found, the error dialog says so
        with the problems as details.
        """
        self.decoder.clear()
        self._records = result.images
        self._requests.clear()
        self._shown.clear()
        self._auto.clear()
        self.browser.set_images(result.images)
        self.findings_dock.set_images(result.images)
        self.review.set_images(result.images)
        self.saver.open_studies(result.images, result.reports)
        # One batch: ten thousand lines must not mean ten thousand repaints.
        self.problems.report_many(
            (f"[{p.archive_member}] {p.message}" if p.archive_member else p.message, p.path)
            for p in result.problems
        )
        if not result.images and result.problems:
            self.problems.alert(
                f"No images could be opened ({len(result.problems)} problem(s)).",
                "\n".join(str(problem) for problem in result.problems),
            )
        self._build_layout_cycle()
        self.hang(choose_hanging(result.images))
        if not result.images:
            self.image_label.setText("No images")
        self._update_title()

    def open_paths(self, paths: Sequence[Path]) -> None:
        """Scan files and folders in the background, then show what they hold.

        The window stays responsive; the status bar shows a busy bar meanwhile and
        :attr:`scan_finished` tells when it is over.
        """
        chosen = [Path(path) for path in paths]
        if not chosen or not self.unsaved_guard.confirm_leave():
            return
        self._last_paths = chosen
        self.statusBar().showMessage(f"Scanning {', '.join(p.name or str(p) for p in chosen)}…")
        self.progress.setRange(0, 0)
        self.progress.show()
        QThreadPool.globalInstance().start(_ScanTask(chosen, self._scan_relay))

    def _on_scan_finished(self, paths: list[Path], result: ScanResult) -> None:
        self.progress.hide()
        self.statusBar().clearMessage()
        if result.images:
            self.settings.add_recent(paths)
            if paths and paths[0].is_dir():
                self.settings.set("files/last_folder", str(paths[0]))
            elif paths:
                self.settings.set("files/last_folder", str(paths[0].parent))
        self.set_scan_result(result)
        self.scan_finished.emit()

    def current_record(self) -> ImageRecord | None:
        """Return the image in the active viewport, if any."""
        index = self.current_index
        return self._records[index] if index is not None else None

    def is_decoding(self) -> bool:
        """Return whether an image placed in a viewport is still being decoded."""
        return any(
            self.decoder.is_pending(self._records[index], frame)
            for index, frame in self._requests.values()
        )

    # --- hanging ----------------------------------------------------------------------

    def _build_layout_cycle(self) -> None:
        """List the layouts L / Shift+L step through for the images loaded."""
        images = self._records
        layouts: list[tuple[str, Callable[[], Hanging | None]]] = []
        for stage in galactography_stages(images):
            layouts.append((stage.value, functools.partial(galactography_hanging, images, stage)))
        for study in mammography_studies(images):
            layouts.append((f"4-up {study}", functools.partial(mammography_hanging, images, study)))
        for rows, columns in ((1, 1), (1, 2), (2, 2)):
            layouts.append((f"{rows}×{columns}", functools.partial(self._manual, rows, columns)))
        self._layout_names = [name for name, _ in layouts]
        self._layouts = [make for _, make in layouts]
        self._layout_position = 0

    def _manual(self, rows: int, columns: int) -> Hanging:
        """Return a manual layout starting at the image in the active viewport."""
        return manual_hanging(self._records, rows, columns, self.current_index or 0)

    def hang(self, hanging: Hanging) -> None:
        """Lay out a hanging and put its images in their viewports (decoded as needed)."""
        self.cine.pause()
        self.hanging_view.set_hanging(hanging)
        self._requests.clear()
        self._shown.clear()
        for number, cell in enumerate(hanging.cells):
            if cell.image is not None:
                self._place(number, cell.image)
        self.layout_label.setText(hanging.name)
        if hanging.notes:
            self.statusBar().showMessage("; ".join(hanging.notes), 8000)
        self.browser.set_shown(hanging.image_indices())
        self._on_active_changed(self.hanging_view.active_index)
        self._prefetch_other_layouts(hanging)
        self.hanging_changed.emit(hanging)

    def _prefetch_other_layouts(self, hanging: Hanging) -> None:
        """Decode ahead the images of the galactography stages, so switching is instant."""
        wanted: list[int] = []
        for stage in galactography_stages(self._records):
            other = galactography_hanging(self._records, stage)
            if other is not None:
                wanted += [i for i in other.image_indices() if i not in hanging.image_indices()]
        for index in dict.fromkeys(wanted):
            self.decoder.prefetch(self._records[index])

    def hang_default(self) -> None:
        """Hang the default protocol for the images loaded (key H)."""
        self._layout_position = 0
        self.hang(choose_hanging(self._records))

    def _hang_from_cycle(self, step: int) -> None:
        if not self._layouts:
            return
        for _ in range(len(self._layouts)):
            self._layout_position = (self._layout_position + step) % len(self._layouts)
            hanging = self._layouts[self._layout_position]()
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
        current = self.hanging_view.hanging
        target = stage
        if current is not None and current.stage is stage:
            target = GalactographyStage.POST
        hanging = galactography_hanging(self._records, target)
        if hanging is None:
            self.statusBar().showMessage(f"No {stage.value} images in the studies loaded", 5000)
            return
        self.hang(hanging)

    def hang_prior_mammography(self) -> None:
        """Hang the 4-up of the prior screening study (or of the only study)."""
        studies = mammography_studies(self._records)
        current = self.hanging_view.hanging
        for study in studies:
            if current is None or study != current.study_instance_uid or len(studies) == 1:
                hanging = mammography_hanging(self._records, study)
                if hanging is not None:
                    self.hang(hanging)
                    return
        self.statusBar().showMessage("No mammography study to hang 4-up", 5000)

    def hang_manual(self, rows: int, columns: int) -> None:
        """Hang a manual layout from the image in the active viewport (Ctrl+1/2/4)."""
        self.hang(manual_hanging(self._records, rows, columns, self.current_index or 0))

    def _placement(self, cell: int, index: int) -> tuple[Flip, Anchor]:
        """Return the flip and chest-wall side of image ``index`` in ``cell``."""
        hung = self.hanging_view.cell(cell)
        if hung is not None and hung.image == index:
            return hung.flip, hung.anchor
        return placement(self._records[index])

    def _place(self, cell: int, index: int, frame: int = 0) -> None:
        """Put image ``index`` (frame) in a cell: now if decoded, else once it is."""
        record = self._records[index]
        self._requests[cell] = (index, frame)
        decoded = self.decoder.cached(record, frame)
        if decoded is not None:
            self._display(cell, decoded)
            return
        if frame == 0 or self._shown.get(cell) != index:
            self.hanging_view.viewports[cell].clear_image()
            self._shown.pop(cell, None)
        self.decoder.request(record, frame)
        self._update_progress()

    def _display(self, cell: int, decoded: DecodedImage) -> None:
        """Show a decoded image in a cell of the hanging."""
        index, frame = self._requests[cell]
        viewport = self.hanging_view.viewports[cell]
        same_image = self._shown.get(cell) == index and viewport.has_image()
        pipeline = decoded.pipeline
        if not same_image:
            for note in pipeline.problems:
                self.problems.report(note, decoded.record.path)
        flip, alignment = self._placement(cell, index)
        voi = viewport.voi if same_image else pipeline.default_voi()
        viewport.set_image(
            decoded.stored,
            pipeline,
            voi,
            record=decoded.record,
            flip=flip,
            alignment=alignment,
            frame=frame,
            fit=not same_image,
        )
        self._shown[cell] = index
        self._suggest_chest_wall(decoded)
        overlay = self.overlays.get(viewport)
        if overlay is not None:
            overlay.set_frame_count(decoded.record.frame_count)
        if voi is None:
            auto = viewport.auto_window()
            self._auto[cell] = auto
            if auto is not None:
                viewport.set_voi(auto, chosen=False)
        if not same_image:
            self.hanging_view.refit_if_untouched()
        if cell == self.hanging_view.active_index:
            self._on_active_changed(cell)
            if frame:
                self.cine.frame_shown(frame)
        self._update_progress()
        self.image_shown.emit(index)
        if cell == self.hanging_view.active_index and index + 1 < len(self._records):
            self.decoder.prefetch(self._records[index + 1])

    def _on_decoded(self, decoded: DecodedImage) -> None:
        for cell, (index, frame) in list(self._requests.items()):
            if decoded.record == self._records[index] and frame == decoded.frame:
                self._display(cell, decoded)

    def _on_decode_failed(self, record: ImageRecord, error: PixelDataError) -> None:
        failed = [
            (cell, index)
            for cell, (index, _frame) in self._requests.items()
            if self._records[index] == record
        ]
        if not failed:
            return  # a prefetch: reported if and when the image is placed
        for cell, index in failed:
            if cell == self.hanging_view.active_index and self.cine.is_playing():
                self.cine.pause()  # a frame that cannot be decoded stops the cine
            self.hanging_view.viewports[cell].clear_image()
            self._shown.pop(cell, None)
            self.problems.report(error.message, error.path)
            self.image_failed.emit(index)
        self._update_progress()

    def _update_progress(self) -> None:
        """Show how many placed images are still decoding."""
        total = len(self._requests)
        pending = sum(
            self.decoder.is_pending(self._records[index], frame)
            for index, frame in self._requests.values()
        )
        if pending and total:
            self.progress.setRange(0, total)
            self.progress.setValue(total - pending)
            self.progress.show()
            self.statusBar().showMessage(f"{DECODING_MESSAGE} {total - pending} of {total}")
        else:
            if self.progress.maximum() != 0:  # not a scan's busy bar
                self.progress.hide()
            if self.statusBar().currentMessage().startswith(DECODING_MESSAGE):
                self.statusBar().clearMessage()

    # --- images -----------------------------------------------------------------------

    def select_image(self, index: int) -> None:
        """Show image ``index`` in the active viewport (from the browser or the keys)."""
        if not 0 <= index < len(self._records):
            return
        cell = self.hanging_view.active_index
        self._place(cell, index)
        self._update_title()
        self.browser.set_current(index)
        self.browser.set_shown(sorted({i for i, _ in self._requests.values()}))
        self._on_active_changed(cell)

    def next_image(self) -> None:
        """Show the next image of the list in the active viewport."""
        index = self.current_index
        if index is not None and index + 1 < len(self._records):
            self.select_image(index + 1)

    def previous_image(self) -> None:
        """Show the previous image of the list in the active viewport."""
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
        """Show the first image of the next series in the active viewport."""
        index = self.current_index or 0
        later = [start for start in self._series_starts() if start > index]
        if later:
            self.select_image(later[0])

    def previous_series(self) -> None:
        """Show the first image of the previous series (or of this one) in the active viewport."""
        index = self.current_index or 0
        starts = self._series_starts()
        this = max((start for start in starts if start <= index), default=0)
        earlier = [start for start in starts if start < this]
        self.select_image(earlier[-1] if earlier else this)

    def show_mark(self, tracking_uid: str, sop_instance_uid: str) -> None:
        """Show the image a finding is marked on, centred on the mark (findings dock)."""
        index = next(
            (n for n, r in enumerate(self._records) if r.sop_instance_uid == sop_instance_uid),
            None,
        )
        if index is None:
            self.statusBar().showMessage("The image of this mark is not loaded", 5000)
            return
        cells = [cell for cell, (shown, _frame) in self._requests.items() if shown == index]
        if cells:
            self.hanging_view.set_active(cells[0])
        else:
            self.select_image(index)
        self._centre_on_mark(tracking_uid, sop_instance_uid)

    def _centre_on_mark(self, tracking_uid: str, sop_instance_uid: str) -> None:
        """Centre the active viewport on the mark's region on that image, if any."""
        study = self.workspace.study_of(tracking_uid)
        if study is None:
            return
        annotations = self.workspace.annotations(study)
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
        if points and self.viewport.has_image():
            column = sum(p[0] for p in points) / len(points)
            row = sum(p[1] for p in points) / len(points)
            self.viewport.center_on(column, row)

    # --- frames -----------------------------------------------------------------------

    def _on_frame_requested(self, frame: int) -> None:
        index = self.current_index
        if index is None:
            return
        record = self._records[index]
        self._place(self.hanging_view.active_index, index, frame)
        if record.frame_count > 1:
            ahead = [(frame + step) % record.frame_count for step in range(1, 5)]
            self.decoder.prefetch_frames(record, ahead)

    def step_frame(self, step: int) -> None:
        """Show the next (or previous) frame of a multi-frame image in the active viewport."""
        record = self.current_record()
        if record is None or record.frame_count <= 1:
            return
        self.cine.step(step)

    def _toggle_cine(self) -> None:
        record = self.current_record()
        if record is None or record.frame_count <= 1:
            return
        self.cine.toggle_playing()

    # --- window / level -----------------------------------------------------------------

    def apply_preset(self, number: int) -> None:
        """Use the window preset at 0-based ``number`` (key ``number + 1``)."""
        if 0 <= number < len(self._presets):
            self.viewport.set_voi(self._presets[number])

    def apply_auto_window(self) -> None:
        """Use the automatic window of the image in the active viewport."""
        cell = self.hanging_view.active_index
        if cell not in self._auto or self._auto[cell] is None:
            self._auto[cell] = self.viewport.auto_window()
        auto = self._auto[cell]
        if auto is not None:
            self.viewport.set_voi(auto)

    def invert(self) -> None:
        """Invert the grayscale of the active viewport (all of them when W/L is linked)."""
        targets = (
            self.hanging_view.viewports_showing_images()
            if self.hanging_view.link_window
            else [self.viewport]
        )
        for viewport in targets:
            viewport.toggle_invert()

    def reset_view(self) -> None:
        """Back to the files' windows, no inversion, images fitted (Home / Esc)."""
        for viewport in self.hanging_view.viewports_showing_images():
            viewport.reset_display()
        self.fit_all()

    def enter_window(self) -> WindowEntryDialog | None:
        """Open the numeric window/level entry for the active viewport (not blocking)."""
        viewport = self.viewport
        start = viewport.voi if isinstance(viewport.voi, Window) else viewport.auto_window()
        if start is None:
            return None
        dialog = WindowEntryDialog(start, viewport.value_range(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: viewport.set_voi(dialog.entered_window()))
        dialog.open()
        return dialog

    def _set_presets(self, presets: list[Voi]) -> None:
        self._presets = presets
        blocker = QSignalBlocker(self.preset_combo)
        self.preset_combo.clear()
        for number, voi in enumerate(presets, start=1):
            self.preset_combo.addItem(preset_label(voi, number))
        self.preset_combo.addItem("Auto")
        del blocker
        for number, action in enumerate(self.preset_actions):
            enabled = number < len(presets)
            action.setEnabled(enabled)
            action.setText(
                preset_label(presets[number], number + 1) if enabled else f"Preset {number + 1}"
            )

    # --- zoom -------------------------------------------------------------------------

    def fit_all(self) -> None:
        """Fit every viewport, pairs at the same physical scale (F)."""
        self.hanging_view.fit_all()

    def true_size(self) -> None:
        """Show the active image at its physical size on this screen (T)."""
        if not self.viewport.true_size():
            self.statusBar().showMessage(
                "True size unavailable: the image's pixel spacing is unknown", 5000
            )

    # --- tools ------------------------------------------------------------------------

    def set_mouse_mode(self, mode: MouseMode) -> None:
        """Choose what a left-button drag does in every viewport."""
        self._mouse_mode = mode
        for viewport in self.hanging_view.all_viewports:
            viewport.mouse_mode = mode
        action = self.tool_actions.get(mode)
        if action is not None and not action.isChecked():
            action.setChecked(True)

    def _suggest_chest_wall(self, decoded: DecodedImage) -> None:
        """Remember the suggested pectoral line of an oblique view, for its findings' depth.

        CC and lateral views use the posterior image edge and need nothing here.
        """
        record = decoded.record
        uid = record.sop_instance_uid
        if record.view.short_name not in _OBLIQUE_VIEWS or self.workspace.chest_wall(uid):
            return
        try:
            wall = suggest_chest_wall(
                decoded.stored, decoded.pipeline, record.patient_orientation, record.view
            )
        except ValueError:
            return
        if wall.kind is ChestWallKind.PECTORAL_LINE:
            self.workspace.suggest_chest_wall(
                record.study_instance_uid, uid, ChestWallLine(*wall.points)
            )

    def suggest_nipples(self) -> int:
        """Place a suggested nipple landmark on every shown image that has none (Shift+N).

        The suggestion (:func:`galactoview.location.landmarks.suggest_nipple`: the breast
        outline's tip, refined by the contrast-filled duct) is an ordinary undoable landmark:
        the radiologist confirms it by leaving it, or moves it with the nipple tool.

        Returns
        -------
        int
            How many landmarks were placed.
        """
        placed = 0
        for viewport in self.hanging_view.viewports_showing_images():
            record, stored, pipeline = viewport.record, viewport.stored, viewport.pipeline
            if record is None or stored is None or pipeline is None:
                continue
            frame = viewport.frame + 1 if record.frame_count > 1 else None
            study = record.study_instance_uid
            if self.workspace.annotations(study).landmark(record.sop_instance_uid, frame):
                continue
            try:
                suggestion = suggest_nipple(
                    stored,
                    pipeline,
                    record.patient_orientation,
                    record.view.laterality,
                    record.view,
                )
            except ValueError as error:
                self.problems.report(f"no nipple suggested: {error}", record.path)
                continue
            self.workspace.set_landmark(
                study, NippleLandmark(record.sop_instance_uid, frame, suggestion.point)
            )
            placed += 1
        self.statusBar().showMessage(
            f"{placed} nipple landmark(s) suggested: check them, move any that is off "
            "(nipple tool N or drag), Ctrl+Z removes them",
            10_000,
        )
        return placed

    def export_report(self, out: Path | None = None) -> Path | None:
        """Write the surgeon's PDF report of the annotated studies (File menu, Ctrl+P).

        Parameters
        ----------
        out
            The PDF to write; asked with a file dialog when None.

        Returns
        -------
        Path or None
            The file written, None when cancelled or nothing could be written (reported).
        """
        if out is None:
            name, _ = QFileDialog.getSaveFileName(
                self, "Export Surgeon Report", self._last_folder(), "PDF (*.pdf)"
            )
            if not name:
                return None
            out = Path(name)
        self.saver.save_now()
        problems: list[str] = []  # a study or key image left out, with why
        try:
            content = review_content(self.workspace, self._records, dt.date.today(), problems)
            pages = write_report_pdf(content, self._records, out, problems)
        except (OSError, ValueError) as error:
            self.problems.alert("The report could not be written.", f"{out}: {error}")
            return None
        finally:
            self.problems.report_many([(line, None) for line in problems])
        self.statusBar().showMessage(f"Report written: {out} ({pages} page(s))", 8000)
        return out

    def set_review_mode(self, on: bool) -> None:
        """Switch the surgeon's read-only review on or off (F9)."""
        if self.review_action.isChecked() != on:
            self.review_action.setChecked(on)  # runs _on_review_toggled
        else:
            self._on_review_toggled()

    def is_review_mode(self) -> bool:
        """Return whether the surgeon's read-only review is on."""
        return self.review_action.isChecked()

    def _on_review_toggled(self) -> None:
        """Show the review and make the marks read-only, or go back to marking."""
        on = self.review_action.isChecked()
        editing = [
            *self.annotation_tool_actions.values(),
            *self.finding_palette.type_actions().values(),
            self.delete_ruler_action,
            self.finish_drawing_action,
            self.suggest_nipple_action,
        ]
        for action in editing:
            action.setEnabled(not on)
        self.finding_palette.setVisible(not on)
        self.findings_dock.setVisible(not on)
        self.review_dock.setVisible(on)  # the review recomputes itself when it is shown
        if on:
            self.cancel_drawing()
            self.workspace.select(None)  # no handles: nothing can be moved
            if self._mouse_mode is MouseMode.ANNOTATE:
                self.set_mouse_mode(MouseMode.WINDOW)
            self.resizeDocks([self.review_dock], [520], Qt.Orientation.Horizontal)
        self._update_title()

    def set_annotation_tool(self, tool: AnnotationTool) -> None:
        """Choose a marking tool: the left button draws (or selects) marks in every viewport."""
        self._annotation_tool = tool
        for annotator in self.annotators.values():
            annotator.set_tool(tool)
        self.set_mouse_mode(MouseMode.ANNOTATE)
        action = self.annotation_tool_actions[tool]
        if not action.isChecked():
            action.setChecked(True)

    @property
    def annotation_tool(self) -> AnnotationTool:
        """Return the marking tool used in the ANNOTATE mode."""
        return self._annotation_tool

    def finish_drawing(self) -> None:
        """Finish the polyline or duct trace being drawn in the active viewport (Enter)."""
        self.annotators[self.viewport].finish()

    def cancel_drawing(self) -> None:
        """Drop the drawing in progress and stop linking a finding to another view (Esc)."""
        for annotator in self.annotators.values():
            annotator.cancel()
        self.findings_dock.cancel_linking()

    def delete_selected(self) -> None:
        """Delete the selected mark; with none selected, the last ruler of the active view."""
        if not self.layers[self.viewport].delete_selected():
            self.rulers[self.viewport].delete_last()

    def _on_finding_type_chosen(self, finding_type: object) -> None:
        for annotator in self.annotators.values():
            annotator.set_finding_type(finding_type)  # type: ignore[arg-type]

    def _on_selection_changed(self, tracking_uid: object) -> None:
        """Let the palette show the type of the finding selected."""
        if not isinstance(tracking_uid, str):
            return
        study = self.workspace.study_of(tracking_uid)
        if study is None:
            return
        for finding in self.workspace.annotations(study).findings:
            if finding.tracking_uid == tracking_uid:
                self.finding_palette.set_current_type(finding.finding_type)
                self._on_finding_type_chosen(finding.finding_type)

    @property
    def mouse_mode(self) -> MouseMode:
        """Return what a left-button drag does."""
        return self._mouse_mode

    def _on_overlays_toggled(self) -> None:
        self._overlays_visible = self.overlays_action.isChecked()
        for overlay in self.overlays.values():
            overlay.set_visible(self._overlays_visible)
        self.settings.set("view/overlays", self._overlays_visible)

    def _on_link_window(self) -> None:
        self.hanging_view.link_window = self.link_window_action.isChecked()
        self.settings.set("link/window", self.hanging_view.link_window)

    def _on_link_zoom(self) -> None:
        self.hanging_view.link_zoom = self.link_zoom_action.isChecked()
        self.settings.set("link/zoom", self.hanging_view.link_zoom)

    # --- view -> model ----------------------------------------------------------------

    def _on_active_changed(self, cell: int) -> None:
        """Show the active viewport's image, presets and frames in the window's controls."""
        viewport = self.hanging_view.viewports[cell]
        pipeline = viewport.pipeline
        self._set_presets([*pipeline.windows, *pipeline.voi_luts] if pipeline else [])
        self._on_voi_changed(viewport, viewport.voi)
        record = self.current_record()
        self.image_label.setText(_image_text(record) if record is not None else "")
        self.browser.set_current(self.current_index)
        frames = record.frame_count if record is not None else 1
        if frames != self.cine.frame_count or record != self._cine_record:
            self._cine_record = record
            self.cine.set_frame_count(
                frames, default_fps(record.frame_time_ms if record is not None else None)
            )
        self.cine.set_frame(viewport.frame)
        self.cine_toolbar.setVisible(frames > 1)
        self._update_title()

    def _on_voi_changed(self, viewport: Viewport, voi: Voi) -> None:
        if viewport is not self.viewport:
            return
        self.voi_label.setText(describe_voi(voi) if viewport.has_image() else "")
        auto = self._auto.get(self.hanging_view.active_index)
        if voi in self._presets:
            row = self._presets.index(voi)
        elif voi is not None and voi == auto:
            row = len(self._presets)
        else:
            row = -1  # a dragged window: the placeholder says "Custom"
        blocker = QSignalBlocker(self.preset_combo)
        self.preset_combo.setCurrentIndex(row)
        del blocker

    def _on_preset_activated(self, row: int) -> None:
        if row < len(self._presets):
            self.apply_preset(row)
        elif row == len(self._presets):
            self.apply_auto_window()

    def _on_pixel_hovered(self, sample: PixelSample | None) -> None:
        if sample is None:
            self.cursor_label.setText("")
            return
        self.cursor_label.setText(
            f"({sample.column}, {sample.row})  stored {sample.stored}  value {sample.modality:g}"
        )

    def _update_title(self) -> None:
        parts = ["GalactoView"]
        record = self.current_record()
        if record is None and self._records:
            record = self._records[0]
        if record is not None:
            parts += [
                format_person_name(record.patient_name) or record.patient_id or "Unknown patient",
                record.study_description or "Study",
            ]
        modified = self.workspace.is_modified()
        # A leading bullet says that annotations are not saved yet.
        self.setWindowTitle(("• " if modified else "") + " — ".join(parts))

    # --- opening ----------------------------------------------------------------------

    def _last_folder(self) -> str:
        return self.settings.text("files/last_folder", str(Path.home()))

    def _open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open DICOM Folder", self._last_folder())
        if folder:
            self.open_paths([Path(folder)])

    def _open_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self,
            "Open DICOM Files, DICOMDIR or Zip",
            self._last_folder(),
            "DICOM files, DICOMDIR and zip archives (*.dcm *.dicom *.DCM DICOMDIR *.zip);;"
            "All files (*)",
        )
        if files:
            self.open_paths([Path(name) for name in files])

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent()
        if not recent:
            empty = self.recent_menu.addAction("No recent studies")
            empty.setEnabled(False)
            return
        for paths in recent:
            text = " + ".join(str(path) for path in paths)
            action = self.recent_menu.addAction(text)
            action.triggered.connect(lambda _checked=False, p=paths: self.open_paths(p))
        self.recent_menu.addSeparator()
        self.recent_menu.addAction("Clear List").triggered.connect(self.settings.clear_recent)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        """Accept files and folders dragged from a file manager."""
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt override)
        """Open the files and folders dropped on the window."""
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_paths(paths)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        """Save the marks (or ask when they cannot be), remember the layout, free the images."""
        if not self.unsaved_guard.confirm_leave():
            event.ignore()
            return
        self._save_settings()
        self.cine.pause()
        self.browser.shutdown()
        self.decoder.shutdown()
        for viewport in self.hanging_view.all_viewports:
            viewport.clear_image()
        super().closeEvent(event)


def _image_text(record: ImageRecord) -> str:
    """Return the status-bar description of an image, e.g. ``"L CC · post-contrast"``."""
    label = record.view.label or "image"
    phase = record.contrast_phase.value
    return label if phase == "unknown" else f"{label} · {phase}-contrast"
