"""MainWindow: the reading workstation — Qt view of a reading session hung in viewports.

The window composes the pieces: the study browser (left dock), the hanging view
(centre: one viewport per cell of a :class:`~galactoview.reading.hanging.Hanging`), the
problems dock, the cine bar, the tools attached to each viewport, the menus and
keyboard shortcuts, and the settings remembered between sessions. Decisions live
elsewhere: what is open, how it hangs and where the reader is in the Qt-free
:class:`~galactoview.reading.session.ReadingSession` (the window draws what it says);
the commands, their keys and menus in the actions table
(:mod:`galactoview.ui.shell.actions`); decoding into the cells in
:mod:`galactoview.ui.viewer.cell_decoding`; the display math in
:mod:`galactoview.imaging.display`; scans one at a time and images added to those open
(:meth:`MainWindow.add_paths`) in :mod:`galactoview.ui.shell.growing`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from galactoview.dicom.loading import ImageRecord, LoadProblem, ScanResult
from galactoview.dicom.person_name import format_person_name
from galactoview.imaging.colour import COLOUR_WINDOW_NOTE
from galactoview.reading.hanging import Hanging
from galactoview.reading.session import ReadingSession
from galactoview.report.content import report_file_name
from galactoview.ui.annotate.analysis_suggestions import AnalysisSuggestions
from galactoview.ui.annotate.annotation_saver import AnnotationSaver
from galactoview.ui.annotate.annotation_tools import AnnotationTool
from galactoview.ui.annotate.annotation_workspace import AnnotationWorkspace
from galactoview.ui.annotate.finding_palette import FindingPalette
from galactoview.ui.annotate.findings_dock import FindingsDock
from galactoview.ui.annotate.landmark_suggestions import (
    accept_suggested_nipples,
    place_suggested_nipples,
    remember_pectoral_line,
)
from galactoview.ui.annotate.report_editor import ReportEditor
from galactoview.ui.browser import pacs_panel
from galactoview.ui.browser.study_browser import StudyBrowserDock
from galactoview.ui.review.report_pdf import write_report_pdf
from galactoview.ui.review.review_mode import SurgeonReview, review_content
from galactoview.ui.shell import growing, menus, opening
from galactoview.ui.shell.actions import ACTIONS, Menu, shortcut_rows
from galactoview.ui.shell.errors import ProblemReporter, ProblemsDock
from galactoview.ui.shell.pacs_store import PacsActions
from galactoview.ui.shell.reader_identity import ReaderPrompt
from galactoview.ui.shell.report_signing import ReportSigning
from galactoview.ui.shell.save_guard import StorageBanner, UnsavedMarksGuard
from galactoview.ui.shell.settings import Settings
from galactoview.ui.shell.shortcuts_dialog import ShortcutsDialog
from galactoview.ui.shell.side_panels import SidePanels
from galactoview.ui.shell.status_bar import DECODING_MESSAGE, StatusPanel, image_text, window_title
from galactoview.ui.shell.viewport_tools import ViewportTools
from galactoview.ui.viewer.cell_decoding import CellDecoding
from galactoview.ui.viewer.cine import CineBar, default_fps
from galactoview.ui.viewer.decoding import DecodedImage, ImageDecoder
from galactoview.ui.viewer.hanging_view import HangingView
from galactoview.ui.viewer.viewport import MouseMode, Viewport, Voi
from galactoview.ui.viewer.window_controls import WindowControls
from galactoview.ui.viewer.window_level import describe_voi

__all__ = ["DECODING_MESSAGE", "MainWindow", "format_person_name"]

#: Settings key: the folder the last report PDF was exported to.
REPORT_FOLDER_KEY = "files/last_report_folder"

#: Initial width of the study browser, in pixels.
_BROWSER_WIDTH = 300

#: Initial width of the findings dock, in pixels.
_FINDINGS_WIDTH = 320

#: Settings key: the docks' layout in marking mode (QMainWindow.saveState). Earlier
#: versions saved "window/state" also in review mode, and such a layout restored crashed
#: Qt 6.11 at start, so that key is never read again.
_LAYOUT_KEY = "window/marking_layout"


class MainWindow(QMainWindow):
    """Qt view of a :class:`ReadingSession` hung in viewports, with its tools.

    Public attributes are the parts tests and the composition root use:
    ``session``, ``hanging_view``, ``browser``, ``problems_dock``, ``problems`` (the one
    error path), ``decoder``, ``cells`` (decoding into the viewports), ``tools`` (the
    tools of each viewport), ``window_controls``, ``status`` (the status bar's fields),
    ``cine``, ``settings`` and ``named_actions`` (the actions of the table, by name).

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
    images_added()
        A scan started by :meth:`add_paths` is over and its images are shown (also
        when none was new).
    """

    image_shown = Signal(int)
    image_failed = Signal(int)
    hanging_changed = Signal(object)
    scan_finished = Signal()
    images_added = Signal()

    def __init__(
        self,
        decoder: ImageDecoder,
        settings: Settings | None = None,
        parent: QWidget | None = None,
        *,
        session: ReadingSession | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.setAcceptDrops(True)
        self.resize(1400, 900)
        self.settings = settings if settings is not None else Settings()
        # Built by the composition root (galactoview.app); defaults for tests and tools.
        self.session = session if session is not None else ReadingSession()
        self._arriving: str | None = None  # said instead of the hanging notes (PACS stream)
        self._notes_shown = ""
        self._cine_record: ImageRecord | None = None
        self.decoder = decoder
        decoder.setParent(self)
        self._scans = growing.ScanQueue(self)
        self._scans.finished.connect(self._on_scan_finished)

        self.status = StatusPanel(self.statusBar(), self)
        self.image_label = self.status.image_label  # the fields tests read
        self.voi_label = self.status.voi_label
        self.workspace = AnnotationWorkspace(parent=self)
        self.finding_palette = FindingPalette(self)
        self.finding_palette.setObjectName("FindingPalette")
        self.findings_dock = FindingsDock(self.workspace, self)
        self.findings_dock.setObjectName("FindingsDock")
        self.report_editor = ReportEditor(self.workspace, self)
        self.tools = ViewportTools(
            self.settings,
            self.workspace,
            self.finding_palette,
            self.findings_dock,
            lambda text, path: self.problems.report(text, path),
            lambda: self.viewport,
            self,
        )
        #: The suggested duct tree and filling-defect flags (Shift+T, Shift+F).
        self.suggestions = AnalysisSuggestions(self.workspace, lambda: self.viewport, self)
        self.suggestions.said.connect(self.statusBar().showMessage)
        self.suggestions.select_tool = self._select_for_suggestions
        self.suggestions.selecting = lambda: self.annotation_tool is AnnotationTool.SELECT
        self.hanging_view = HangingView(self, on_new_viewport=self._attach_tools)
        self.hanging_view.link_window = self.settings.flag("link/window", True)
        self.hanging_view.link_zoom = self.settings.flag("link/zoom", True)
        central = QWidget(self)
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.setSpacing(0)
        self.setCentralWidget(central)
        self.browser = StudyBrowserDock(self)
        self.review = SurgeonReview(self.workspace, self)
        self.review_dock = QDockWidget("Surgeon Review", self)
        self.review_dock.setObjectName("ReviewDock")
        self.review_dock.setWidget(self.review)
        self.problems_dock = ProblemsDock(self)
        area = Qt.DockWidgetArea
        for dock, where in (
            (self.browser, area.LeftDockWidgetArea),
            (self.findings_dock, area.RightDockWidgetArea),
            (self.review_dock, area.RightDockWidgetArea),
            (self.problems_dock, area.BottomDockWidgetArea),
        ):
            self.addDockWidget(where, dock)
        self.tabifyDockWidget(self.findings_dock, self.report_editor)  # the report beside
        self.findings_dock.raise_()
        self.review_dock.hide()
        self.problems_dock.hide()
        self.resizeDocks(
            [self.browser, self.findings_dock],
            [_BROWSER_WIDTH, _FINDINGS_WIDTH],
            Qt.Orientation.Horizontal,
        )
        self.resizeDocks([self.problems_dock], [110], Qt.Orientation.Vertical)
        self.side_panels = SidePanels(  # collapsed in a narrow window (F6 shows them)
            self,
            {self.findings_dock: _FINDINGS_WIDTH, self.browser: _BROWSER_WIDTH}
            | {self.report_editor: _FINDINGS_WIDTH, self.review_dock: 520},
            lambda dock: (
                dock is self.browser or (dock is self.review_dock) == self.is_review_mode()
            ),
        )
        self.problems = ProblemReporter(self.problems_dock, self.statusBar())
        self.cells = CellDecoding(
            self.session, decoder, self.hanging_view, self.problems.report, self
        )
        self.reader = ReaderPrompt(self, self.settings, self.workspace)
        self.tools.before_marking = self.reader.ask_once
        self.tools.say = lambda text: self.statusBar().showMessage(text, 8000)
        self.saver = AnnotationSaver(self.workspace, self.problems, self)
        self.unsaved_guard = UnsavedMarksGuard(self.saver, self)
        self.storage_banner = StorageBanner(self.saver, self.unsaved_guard, central)
        central_layout.addWidget(self.storage_banner)
        central_layout.addWidget(self.findings_dock.banner)  # "Drawing the CC partner of …"
        central_layout.addWidget(self.hanging_view, 1)
        self.workspace.modified_changed.connect(self._update_title)
        self.workspace.changed.connect(lambda _study: self._update_title())
        self.saver.storage_changed.connect(self.report_editor.refresh)  # signed on reading
        self.saver.storage_changed.connect(self._update_title)
        self.workspace.read_only_refused.connect(
            lambda why: self.statusBar().showMessage(f"Not changed: {why}", 10_000)
        )

        self.window_controls = WindowControls(self.hanging_view, self.cells.auto_window, self)
        self.cine = CineBar(self)
        self._build_actions()
        self.report_signing = ReportSigning(
            self,
            self.report_editor,
            self.named_actions["sign_report"],
            self.named_actions["write_addendum"],
        )
        self.pacs = PacsActions(self, self.named_actions["store_marks"])
        self._restore_settings()

        self.session.hanging_changed.connect(self._on_hanging_changed)
        self.session.hanging_remapped.connect(self._on_hanging_remapped)
        self.session.image_selected.connect(self._on_image_selected)
        self.session.frame_selected.connect(self.cells.place_frame)
        self.session.active_changed.connect(self._on_session_active_changed)
        self.session.review_mode_changed.connect(self._show_review_mode)
        self.session.notice.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.browser.image_activated.connect(self.select_image)
        self.findings_dock.navigate.connect(self.show_mark)
        self.findings_dock.linking_changed.connect(
            lambda on: (
                self.statusBar().showMessage(self.findings_dock.linking_text())
                if on
                else self.statusBar().clearMessage()
            )
        )
        self.review.finding_clicked.connect(self.show_mark)
        self.cells.displayed.connect(self._on_displayed)
        self.cells.previewed.connect(self._on_previewed)
        self.cells.failed.connect(self._on_decode_failed)
        self.cells.progress_changed.connect(self.status.show_decoding)
        self.hanging_view.active_changed.connect(self.session.set_active)
        self.cine.frame_requested.connect(self.session.select_frame)
        self._update_title()

    # --- tools on each viewport -----------------------------------------------------------

    def _attach_tools(self, viewport: Viewport) -> None:
        """Give a new viewport its tools (:class:`ViewportTools`) and the window's signals."""
        self.tools.attach(viewport)
        self.suggestions.attach(viewport)
        viewport.voi_changed.connect(lambda voi, v=viewport: self._on_voi_changed(v, voi))
        viewport.pixel_hovered.connect(self.status.show_pixel)

    # --- actions ----------------------------------------------------------------------

    def _build_actions(self) -> None:
        """Make the actions, menus and toolbars of the actions table."""
        stack = self.workspace.undo_stack  # Qt's own undo/redo, named after the command
        provided = {
            "undo": stack.createUndoAction(self, "&Undo"),
            "redo": stack.createRedoAction(self, "&Redo"),
        }
        # After the stack's own slot: say what changed, which may be on another image.
        provided["undo"].triggered.connect(lambda: self._said_undo("Undone", stack.redoText()))
        provided["redo"].triggered.connect(lambda: self._said_undo("Redone", stack.undoText()))
        palette = self.finding_palette.type_actions().items()
        provided |= {f"finding_{kind.name.lower()}": action for kind, action in palette}
        provided |= {
            "link_finding": self.findings_dock.link_action,
            "merge_findings": self.findings_dock.merge_action,
            "side_panels": self.side_panels.action,
        }
        self.named_actions, self.tool_group = menus.build_actions(self, provided)
        self.tools.actions = self.named_actions
        presets = [a for name, a in self.named_actions.items() if name.startswith("preset_")]
        self.window_controls.set_actions(presets)
        self.named_actions["tool_window"].setChecked(True)
        self.named_actions["link_zoom"].setChecked(self.hanging_view.link_zoom)
        self.named_actions["overlays"].setChecked(self.tools.overlays_visible)
        self.named_actions["link_window"].setChecked(self.hanging_view.link_window)
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.aboutToShow.connect(
            lambda: menus.fill_recent_menu(self.recent_menu, self.settings, self.open_paths)
        )
        docks = [self.browser, self.findings_dock, self.report_editor, self.problems_dock]
        menus.build_menus(
            self,
            self.named_actions,
            submenus={"open_files": self.recent_menu},
            trailing={Menu.VIEW: [dock.toggleViewAction() for dock in docks]},
        )
        label = QLabel(" Window: ", self)
        toolbar = menus.build_tools_toolbar(
            self, self.named_actions, {5: [label, self.window_controls.combo]}
        )
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
        cine_bar = QToolBar("Cine", self)
        cine_bar.setObjectName("CineToolBar")
        cine_bar.setMovable(False)
        cine_bar.addWidget(self.cine)
        self.cine_toolbar = cine_bar
        self.addToolBar(Qt.ToolBarArea.BottomToolBarArea, cine_bar)
        cine_bar.hide()
        self.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
        self.marking_toolbar = menus.build_marking_toolbar(self, self.named_actions)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.marking_toolbar)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.finding_palette)

    def show_pacs_panel(self) -> QDockWidget:
        """Show the Query/Retrieve panel (File menu, Ctrl+Shift+Q); made on first use."""
        return pacs_panel.show_for(self)

    def show_shortcuts(self) -> ShortcutsDialog:
        """Open Help → Keyboard shortcuts (not blocking)."""
        dialog = ShortcutsDialog(shortcut_rows(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # --- settings ---------------------------------------------------------------------

    def _restore_settings(self) -> None:
        geometry = self.settings.bytes_value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.bytes_value(_LAYOUT_KEY)
        if state is not None:
            self.restoreState(state)
        # restoreState brings back the docks as they were at quit, also in review mode, while
        # the session starts out of it: start consistently in marking mode (the
        # radiologist's default; `galactoview --review` turns the review on afterwards).
        self._show_review_mode(False)
        mode = self.settings.text("tools/mouse_mode", MouseMode.WINDOW.value)
        if mode in {m.value for m in MouseMode}:
            self.set_mouse_mode(MouseMode(mode))

    def _save_settings(self) -> None:
        self.settings.set("window/geometry", self.saveGeometry())
        # Not the docks collapsed in a narrow window, nor the review's: a layout saved in
        # review mode and restored in marking mode crashed Qt 6.11 (QTabBar::insertTab,
        # hiding the review dock while showing the Findings dock); the marking layout
        # saved before stays.
        if self.side_panels.saves_layout() and not self.is_review_mode():
            self.settings.set(_LAYOUT_KEY, self.saveState())
        self.settings.set("tools/mouse_mode", self.tools.mouse_mode.value)

    # --- model -> view ----------------------------------------------------------------

    @property
    def records(self) -> tuple[ImageRecord, ...]:
        """Return the images loaded, in display order (newest study first)."""
        return self.session.records

    @property
    def viewport(self) -> Viewport:
        """Return the active viewport."""
        return self.hanging_view.active_viewport()

    @property
    def current_index(self) -> int | None:
        """Return the index of the image in the active viewport (shown or on its way)."""
        return self.session.current_index

    def set_scan_result(self, result: ScanResult) -> None:
        """Show what a scan found: list the images, report the problems, hang the default.

        When nothing could be opened but problems were found, the error dialog says so
        with the problems as details.
        """
        self.cells.reset()
        self.suggestions.dismiss(quiet=True)  # they were of the images open until now
        self.browser.set_images(result.images)
        self.findings_dock.set_images(result.images)
        self.report_editor.set_images(result.images)
        self.review.set_images(result.images)
        self.saver.open_studies(result.images, result.reports)
        self._report_load_problems(result.problems)
        if not result.images and result.problems:
            self.problems.alert(
                f"No images could be opened ({len(result.problems)} problem(s)).",
                "\n".join(str(problem) for problem in result.problems),
            )
        self.session.open(result.images)
        if not result.images:
            self.image_label.setText("No images")
        self._update_title()

    def add_scan_result(self, result: ScanResult) -> None:
        """Add what a scan found to the images open, keeping the reader's place.

        Images are merged by SOP Instance UID (:func:`growing.merge`); the problems are
        reported; the session grows (:meth:`ReadingSession.grow`: cells showing an image
        keep it, undecoded, unfitted, with their window); the browser, findings and
        review list the new images; the marks of the studies not open yet are read
        (:meth:`AnnotationSaver.add_studies`), those of the studies open are untouched.
        With nothing open, it opens (:meth:`set_scan_result`).
        """
        if not self.records:
            self.set_scan_result(result)
            return
        merged = growing.merge(self.records, result)
        self._report_load_problems(merged.problems)
        if merged.added:
            self.browser.set_images(merged.records, keep_view=True)
            self.findings_dock.set_images(merged.records)
            self.report_editor.set_images(merged.records)
            self.review.set_images(merged.records)
            self.saver.add_studies(merged.records, result.reports)
            self.session.grow(merged.records)
            if self.statusBar().currentMessage() == self._notes_shown:
                self.show_hanging_notes()  # "no prior study" is no longer true, say so
        self._update_title()

    def pause_hanging_notes(self, message: str | None) -> None:
        """Say ``message`` instead of the hanging's notes while images arrive; None: stop.

        While a study streams in from the PACS its hanging's notes ("no post-contrast L
        ML", "stage 'post vs prior' not offered") describe images still on their way;
        when it is all in, the notes of the hanging shown are said again.
        """
        self._arriving = message
        if message is not None:
            self.statusBar().showMessage(message)
        else:
            self.statusBar().clearMessage()
            self.show_hanging_notes()

    def show_hanging_notes(self) -> None:
        """Show in the status bar what the hanging shown could not place (for 8 s)."""
        hanging = self.session.hanging
        if self._arriving is not None:
            self.statusBar().showMessage(self._arriving)
            return
        notes = "; ".join(hanging.notes) if hanging is not None else ""
        if notes:
            self.statusBar().showMessage(notes, 8000)
        elif self.statusBar().currentMessage() == self._notes_shown:
            self.statusBar().clearMessage()
        self._notes_shown = notes

    def _report_load_problems(self, problems: Sequence[LoadProblem]) -> None:
        """Report a scan's problems, one line each (the archive member named).

        Notes (:attr:`LoadProblem.note`, e.g. a Key Object Selection document) are
        listed calmly (:meth:`ProblemReporter.note_many`).
        """

        def line(p: LoadProblem) -> tuple[str, Path]:
            return (f"[{p.archive_member}] {p.message}" if p.archive_member else p.message, p.path)

        # One batch: ten thousand lines must not mean ten thousand repaints.
        self.problems.report_many(line(p) for p in problems if not p.note)
        self.problems.note_many(line(p) for p in problems if p.note)

    def open_paths(self, paths: Sequence[Path], *, confirm: bool = True) -> None:
        """Scan files and folders in the background, then show what they hold.

        The window stays responsive; the status bar shows a busy bar meanwhile and
        :attr:`scan_finished` tells when it is over. Scans asked for before
        (:meth:`add_paths`) are shown first.

        Parameters
        ----------
        paths
            Files and folders.
        confirm
            Ask first when marks could not be saved (False: the caller asked).
        """
        chosen = [Path(path) for path in paths]
        if not chosen or (confirm and not self.unsaved_guard.confirm_leave()):
            return
        self.status.show_busy(f"Scanning {', '.join(p.name or str(p) for p in chosen)}…")
        self._scans.submit(growing.ScanKind.OPEN, chosen)

    def add_paths(self, paths: Sequence[Path]) -> None:
        """Scan files and folders in the background and add their images to those open.

        What is open stays as the reader left it (:meth:`add_scan_result`); paths of
        images already open are skipped. A scan under way (opening or adding) is
        finished and shown first: calls may come in quick succession.
        :attr:`images_added` tells when the images are shown. With nothing open, the
        images are opened (without asking about unsaved marks: there are none).
        """
        chosen = growing.not_open([Path(path) for path in paths], self.records)
        self._scans.submit(growing.ScanKind.ADD, chosen)

    def is_scanning(self) -> bool:
        """Return whether a scan (opening or adding) runs or waits."""
        return self._scans.is_busy()

    def _on_scan_finished(
        self, kind: growing.ScanKind, paths: list[Path], result: ScanResult
    ) -> None:
        opens = kind is growing.ScanKind.OPEN or not self.records
        if kind is growing.ScanKind.OPEN:
            self.status.hide_busy()
        if opens and result.images:
            opening.remember_opened(self.settings, paths)
        if kind is growing.ScanKind.OPEN:
            self.set_scan_result(result)
            self.scan_finished.emit()
        else:
            self.add_scan_result(result)
            self.images_added.emit()

    def current_record(self) -> ImageRecord | None:
        """Return the image in the active viewport, if any."""
        return self.session.current_record()

    def is_decoding(self) -> bool:
        """Return whether an image placed in a viewport is still being decoded."""
        return self.cells.is_decoding()

    # --- hanging ----------------------------------------------------------------------

    def _on_hanging_changed(self, hanging: Hanging) -> None:
        """Lay out a hanging and put its images in their viewports (decoded as needed).

        After images were added, the cells the session kept are left as they are.
        """
        kept = self.session.kept_cells
        active = self.session.active_cell
        if active not in kept:
            self.cine.pause()
        self.hanging_view.set_hanging(hanging, kept)
        self.hanging_view.set_active(active)
        self.cells.show_hanging(kept)
        self.status.layout_label.setText(hanging.name)
        self.show_hanging_notes()
        self.browser.set_shown(hanging.image_indices())
        self._on_active_changed(self.hanging_view.active_index)
        # Decode ahead the images of the galactography stages, so switching is instant.
        self.cells.prefetch(self.session.stage_images_not_shown())
        self.hanging_changed.emit(hanging)

    def _on_hanging_remapped(self, moved: Mapping[int, int]) -> None:
        """Follow the images open to their new indices (images added); nothing is redrawn."""
        hanging, shown = self.session.hanging, self.hanging_view.hanging
        self.cells.remap(moved)
        if hanging is None:
            return
        if shown is None or (shown.rows, shown.columns) != (hanging.rows, hanging.columns):
            self._on_hanging_changed(hanging)  # the view was not showing it: lay it out
            return
        self.hanging_view.remap(hanging)
        self.browser.set_shown(self.session.shown_images(), scroll=False)
        self.browser.set_current(self.current_index)
        self.cells.prefetch(self.session.stage_images_not_shown())

    def _on_displayed(self, cell: int, decoded: DecodedImage) -> None:
        """Suggest the pectoral line of an image shown, update the controls if it is active."""
        remember_pectoral_line(self.workspace, decoded)
        overlay = self.tools.overlays.get(self.hanging_view.viewports[cell])
        if overlay is not None:
            overlay.set_frame_count(decoded.record.frame_count)
        if cell == self.hanging_view.active_index:
            self._on_active_changed(cell)
            if decoded.frame:
                self.cine.frame_shown(decoded.frame)
        self.image_shown.emit(self.session.cells[cell].image)

    def _on_previewed(self, cell: int, _preview: DecodedImage) -> None:
        """Show a preview's window presets in the controls if its cell is the active one."""
        if cell == self.hanging_view.active_index:
            self._on_active_changed(cell)

    def _on_decode_failed(self, cell: int, index: int) -> None:
        if cell == self.hanging_view.active_index and self.cine.is_playing():
            self.cine.pause()  # a frame that cannot be decoded stops the cine
        self.image_failed.emit(index)

    # --- images -----------------------------------------------------------------------

    def select_image(self, index: int) -> None:
        """Show image ``index`` in the active viewport (from the browser or the keys)."""
        self.session.select_image(index)

    def _on_image_selected(self, cell: int) -> None:
        """Show the image the session put in a cell (the active one)."""
        self.cells.place(cell)
        self._update_title()
        self.browser.set_current(self.current_index)
        self.browser.set_shown(self.session.shown_images())
        self._on_active_changed(cell)

    def _on_session_active_changed(self, cell: int) -> None:
        self.hanging_view.set_active(cell)
        self._on_active_changed(cell)

    def show_mark(self, tracking_uid: str, sop_instance_uid: str) -> None:
        """Show the image a finding is marked on, centred on the mark (findings dock)."""
        if self.session.go_to_image(sop_instance_uid):
            self.tools.centre_on_mark(tracking_uid, sop_instance_uid)

    # --- zoom -------------------------------------------------------------------------

    def true_size(self) -> None:
        """Show the active image at its physical size on this screen (T)."""
        if not self.viewport.true_size():
            self.statusBar().showMessage(
                "True size unavailable: the image's pixel spacing is unknown", 5000
            )

    def set_link_zoom(self, on: bool) -> None:
        """Link zoom and pan in pairs, or not (remembered)."""
        self.hanging_view.link_zoom = on
        self.settings.set("link/zoom", on)

    def set_link_window(self, on: bool) -> None:
        """Link window/level across the viewports, or not (remembered)."""
        self.hanging_view.link_window = on
        self.settings.set("link/window", on)

    # --- tools ------------------------------------------------------------------------

    @property
    def mouse_mode(self) -> MouseMode:
        """Return what a left-button drag does."""
        return self.tools.mouse_mode

    def set_mouse_mode(self, mode: MouseMode | str) -> None:
        """Choose what a left-button drag does in every viewport."""
        self.tools.set_mouse_mode(mode)

    @property
    def annotation_tool(self) -> AnnotationTool:
        """Return the marking tool used in the ANNOTATE mode."""
        return self.tools.annotation_tool

    def set_annotation_tool(self, tool: AnnotationTool | str) -> None:
        """Choose a marking tool: the left button draws (or selects) marks in every viewport."""
        self.tools.set_annotation_tool(tool)

    def finish_or_accept(self) -> None:
        """Finish the drawing in progress; with none, accept the suggested duct tree (Enter)."""
        if not self.tools.finish_drawing() and self.suggestions.has_suggestions():
            self.suggestions.accept_tree()

    def cancel_or_dismiss(self) -> None:
        """Drop the drawing or linking in progress; with none, dismiss the suggestions (Esc)."""
        if self.tools.is_drawing():
            self.tools.cancel_drawing()
        else:
            self.suggestions.dismiss()

    def suggest_nipples(self) -> int:
        """Place a suggested nipple on every shown image that has none; return how many.

        The status line says on which views, which already had one and where none was
        found (:meth:`NippleSuggestions.message`).
        """
        suggestions = place_suggested_nipples(
            self.workspace, self.hanging_view.viewports_showing_images(), self.problems.report
        )
        self.statusBar().showMessage(suggestions.message(), 10_000)
        return len(suggestions.placed)

    def accept_nipples(self) -> int:
        """Accept every suggested nipple as the reader's (one undoable edit); return how many.

        The status line names the views (:meth:`NippleAcceptance.message`).
        """
        views = {
            r.sop_instance_uid: r.view.label or r.series_description or "image"
            for r in self.session.records
        }
        acceptance = accept_suggested_nipples(self.workspace, views)
        self.statusBar().showMessage(acceptance.message(), 10_000)
        return len(acceptance.accepted)

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
                self, "Export Surgeon Report", str(self._suggested_report_path()), "PDF (*.pdf)"
            )
            if not name:
                return None
            out = Path(name)
            self.settings.set(REPORT_FOLDER_KEY, str(out.parent))
        self.saver.save_now()
        problems: list[str] = []  # a study or key image left out, with why
        try:
            content = review_content(self.workspace, self.records, dt.date.today(), problems)
            pages = write_report_pdf(content, self.records, out, problems)
        except (OSError, ValueError) as error:
            self.problems.alert("The report could not be written.", f"{out}: {error}")
            return None
        finally:
            self.problems.report_many([(line, None) for line in problems])
        self.statusBar().showMessage(f"Report written: {out} ({pages} page(s))", 8000)
        return out

    def _suggested_report_path(self) -> Path:
        """Return where Export Surgeon Report suggests writing: a named file, a sane folder.

        The folder the last report went to, else the user's documents folder (not the
        study's folder: often a CD or a PACS cache); the name says whose report it is
        (:func:`galactoview.report.content.report_file_name`).
        """
        documents = QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DocumentsLocation
        )
        folder = Path(self.settings.text(REPORT_FOLDER_KEY, documents or str(Path.home())))
        study = self.report_editor.study
        record = next((r for r in self.records if r.study_instance_uid == study), None)
        if record is None and self.records:
            record = self.records[0]
        return folder / report_file_name(record)

    def set_review_mode(self, on: bool) -> None:
        """Switch the surgeon's read-only review on or off (F9)."""
        self.session.set_review_mode(on)

    def is_review_mode(self) -> bool:
        """Return whether the surgeon's read-only review is on."""
        return self.session.review_mode

    def _said_undo(self, done: str, text: str) -> None:
        """Say on the status line which edit Ctrl+Z or Ctrl+Shift+Z just took back or redid."""
        if text:
            self.statusBar().showMessage(f"{done}: {text}", 8000)

    def _select_for_suggestions(self) -> None:
        """Let a click accept the suggestions shown, asking who reads before the first.

        Accepting a suggestion makes a mark, as a marking tool does: the reader is
        recorded on it (the SR's observer), so the question comes before, not after.
        """
        self.set_annotation_tool(AnnotationTool.SELECT)
        self.reader.ask_once()

    def _show_review_mode(self, on: bool) -> None:
        """Show the review and make the marks read-only, or go back to marking."""
        review_action = self.named_actions["review"]
        if review_action.isChecked() != on:
            review_action.setChecked(on)  # back to set_review_mode: the session has it
        for spec in ACTIONS:
            if spec.editing:
                self.named_actions[spec.name].setEnabled(not on)
        self.finding_palette.setVisible(not on)
        self.findings_dock.setVisible(not on)
        self.report_editor.setVisible(not on)
        if not on:
            self.findings_dock.raise_()
        self.report_signing.update_actions()
        self.review_dock.setVisible(on)  # the review recomputes itself when it is shown
        if on:
            self.tools.cancel_drawing()
            self.suggestions.dismiss(quiet=True)  # nothing can be accepted in the review
            self.workspace.select(None)  # no handles: nothing can be moved
            if self.tools.mouse_mode is MouseMode.ANNOTATE:
                self.set_mouse_mode(MouseMode.WINDOW)
            self.resizeDocks([self.review_dock], [520], Qt.Orientation.Horizontal)
        self.side_panels.refresh(keep=[self.review_dock])  # the review stays, narrow
        self._update_title()

    # --- view -> model ----------------------------------------------------------------

    def _on_active_changed(self, cell: int) -> None:
        """Show the active viewport's image, presets and frames in the window's controls."""
        viewport = self.hanging_view.viewports[cell]
        self.window_controls.show_viewport(viewport)
        self._on_voi_changed(viewport, viewport.voi)
        record = self.current_record()
        self.image_label.setText(image_text(record) if record is not None else "")
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
        if viewport.is_colour:  # no window/level for colour (galactoview.imaging.colour)
            self.voi_label.setText(COLOUR_WINDOW_NOTE)
        else:
            self.voi_label.setText(describe_voi(voi) if viewport.has_image() else "")
        self.window_controls.show_voi(voi)

    def _update_title(self) -> None:
        record = self.current_record() or (self.records[0] if self.records else None)
        study = record.study_instance_uid if record is not None else None
        self.report_editor.set_study(study)
        self.findings_dock.set_study(study)  # read-only when signed
        title = window_title(record, self.workspace.is_modified())
        notice = self.report_editor.notice()  # signed, or an addendum being written
        self.setWindowTitle(f"{title} — {notice}" if notice else title)

    def refresh_title(self) -> None:
        """Say again in the title which study is shown and the state of its report."""
        self._update_title()

    # --- opening ----------------------------------------------------------------------

    def open_folder(self) -> None:
        """Ask for a folder and open it (Ctrl+O)."""
        self.open_paths(opening.ask_folder(self, self.settings))

    def open_files(self) -> None:
        """Ask for files, a DICOMDIR or a zip archive and open them (Ctrl+Shift+O)."""
        self.open_paths(opening.ask_files(self, self.settings))

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
        self.suggestions.shutdown()
        self.browser.shutdown()
        self.decoder.shutdown()
        for viewport in self.hanging_view.all_viewports:
            viewport.clear_image()
        super().closeEvent(event)
