"""MainWindow: Qt view of a scanned study (image list, viewport, VOI presets, problems)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QToolBar,
    QWidget,
)

from galactoview.dicom.display import VoiLut, Window
from galactoview.dicom.loading import (
    ImageRecord,
    PixelDataError,
    ScanResult,
    initial_image_index,
    scan,
)
from galactoview.ui.decoding import DecodedImage, ImageDecoder
from galactoview.ui.errors import ProblemReporter, ProblemsDock
from galactoview.ui.image_list import ImageListDock, image_text
from galactoview.ui.viewport import PixelSample, Viewport
from galactoview.ui.window_level import describe_voi, preset_label

__all__ = ["MainWindow", "format_person_name"]

Voi = Window | VoiLut | None

#: Number of presets reachable with the keys 1..9.
_PRESET_KEYS = 9

#: Initial width of the image list, in pixels (fits "2024-01-02 · SCREENING MAMMOGRAM ...").
_IMAGE_LIST_WIDTH = 340

#: Status-bar message while the image selected is being decoded.
DECODING_MESSAGE = "Decoding…"


def format_person_name(value: str) -> str:
    """Format a DICOM PN value for display: ``"Phantom^Jane"`` → ``"Phantom, Jane"`` (PS3.5 6.2)."""
    alphabetic = value.split("=")[0]
    family, _, rest = alphabetic.partition("^")
    given = " ".join(part for part in rest.split("^") if part)
    return f"{family}, {given}" if family and given else (family or given)


class MainWindow(QMainWindow):
    """Qt view of a :class:`ScanResult`: the images, the one shown, its VOI and the problems.

    Public attributes are the parts tests and the composition root use:
    ``viewport``, ``image_list``, ``problems_dock``, ``problems`` (the one error
    path), ``preset_combo``, ``decoder``.

    Parameters
    ----------
    decoder
        Decodes the images off the GUI thread; the window becomes its parent.
    parent
        Parent widget.

    Signals
    -------
    image_shown(int)
        The image at this index of :attr:`records` is displayed.
    image_failed(int)
        The image at this index could not be decoded; the problem was reported.
    """

    image_shown = Signal(int)
    image_failed = Signal(int)

    def __init__(self, decoder: ImageDecoder, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.resize(1400, 900)
        self._records: tuple[ImageRecord, ...] = ()
        self._current: int | None = None
        self._presets: list[Voi] = []
        self._auto: Window | None = None
        self.decoder = decoder
        decoder.setParent(self)

        self.viewport = Viewport(self)
        self.setCentralWidget(self.viewport)
        self.image_list = ImageListDock(self)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.image_list)
        self.problems_dock = ProblemsDock(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.problems_dock)
        self.problems_dock.hide()
        self.resizeDocks([self.image_list], [_IMAGE_LIST_WIDTH], Qt.Orientation.Horizontal)
        self.resizeDocks([self.problems_dock], [110], Qt.Orientation.Vertical)
        self.problems = ProblemReporter(self.problems_dock, self.statusBar())

        self.image_label = QLabel(self)
        self.voi_label = QLabel(self)
        self.cursor_label = QLabel(self)
        self.cursor_label.setMinimumWidth(300)
        for number, label in enumerate((self.image_label, self.voi_label, self.cursor_label)):
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
        self.preset_combo.setMinimumContentsLength(24)
        self.preset_combo.setToolTip("Window presets from the file (keys 1–9) and Auto (A)")
        self._build_actions()

        self.image_list.image_selected.connect(self.select_image)
        self.decoder.decoded.connect(self._on_decoded)
        self.decoder.failed.connect(self._on_decode_failed)
        self.viewport.voi_changed.connect(self._on_voi_changed)
        self.viewport.pixel_hovered.connect(self._on_pixel_hovered)
        self.preset_combo.activated.connect(self._on_preset_activated)
        self._update_title()

    # --- actions ----------------------------------------------------------------------

    def _action(self, text: str, shortcut: QKeySequence | None, slot: object) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        key = Qt.Key
        self.open_folder_action = self._action(
            "Open &Folder…", QKeySequence(QKeySequence.StandardKey.Open), self._open_folder
        )
        self.open_files_action = self._action("Open F&iles…", None, self._open_files)
        self.quit_action = self._action(
            "&Quit", QKeySequence(QKeySequence.StandardKey.Quit), self.close
        )
        self.fit_action = self._action("&Fit", QKeySequence(key.Key_F), self.viewport.fit)
        self.fit_action.setToolTip("Fit the image to the view (F)")
        self.auto_action = self._action(
            "&Auto Window", QKeySequence(key.Key_A), self.apply_auto_window
        )
        self.auto_action.setToolTip("Automatic window over the breast tissue (A)")
        self.previous_action = self._action(
            "&Previous Image", QKeySequence(key.Key_PageUp), self.previous_image
        )
        self.next_action = self._action(
            "&Next Image", QKeySequence(key.Key_PageDown), self.next_image
        )
        self.preset_actions: list[QAction] = []
        for number in range(1, _PRESET_KEYS + 1):
            action = QAction(f"Preset {number}", self)
            action.setShortcut(QKeySequence(getattr(key, f"Key_{number}")))
            action.triggered.connect(lambda _checked=False, i=number - 1: self.apply_preset(i))
            action.setEnabled(False)
            self.addAction(action)
            self.preset_actions.append(action)

        menu_bar = self.menuBar()
        file_menu = menu_bar.addMenu("&File")
        file_menu.addActions([self.open_folder_action, self.open_files_action])
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        view_menu = menu_bar.addMenu("&View")
        view_menu.addActions([self.fit_action, self.previous_action, self.next_action])
        view_menu.addSeparator()
        view_menu.addAction(self.image_list.toggleViewAction())
        view_menu.addAction(self.problems_dock.toggleViewAction())
        self.window_menu = menu_bar.addMenu("&Window")
        self.window_menu.addAction(self.auto_action)
        self.window_menu.addSeparator()
        self.window_menu.addActions(self.preset_actions)

        toolbar = QToolBar("Tools", self)
        toolbar.setObjectName("ToolsToolBar")
        toolbar.setMovable(False)
        toolbar.addActions([self.previous_action, self.next_action])
        toolbar.addSeparator()
        toolbar.addAction(self.fit_action)
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" Window: ", toolbar))
        toolbar.addWidget(self.preset_combo)
        toolbar.addAction(self.auto_action)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)

    # --- model -> view ----------------------------------------------------------------

    @property
    def records(self) -> tuple[ImageRecord, ...]:
        """Return the images listed, in display order."""
        return self._records

    @property
    def current_index(self) -> int | None:
        """Return the index of the image shown (or that failed to load)."""
        return self._current

    @property
    def presets(self) -> list[Voi]:
        """Return the VOI presets of the image shown, in file order."""
        return list(self._presets)

    def set_scan_result(self, result: ScanResult) -> None:
        """List the images of a scan, report its problems and select the preferred image.

        The first image selected is a post-contrast CC if there is one, else the first;
        it is displayed once decoded (:attr:`image_shown`).
        """
        self.decoder.clear()
        self._records = result.images
        self._current = None
        self.image_list.set_images(result.images)
        for problem in result.problems:
            member = f"[{problem.archive_member}] " if problem.archive_member else ""
            self.problems.report(f"{member}{problem.message}", problem.path)
        index = initial_image_index(result.images)
        if index is None:
            self.viewport.clear_image()
            self._set_presets([])
            self._update_title()
            self.image_label.setText("No images")
            return
        self.select_image(index)

    def open_paths(self, paths: Sequence[Path]) -> None:
        """Scan files and folders and show what they hold."""
        self.set_scan_result(scan(paths))

    def current_record(self) -> ImageRecord | None:
        """Return the image selected, if any."""
        return self._records[self._current] if self._current is not None else None

    def is_decoding(self) -> bool:
        """Return whether the image selected is still being decoded."""
        record = self.current_record()
        return record is not None and self.decoder.is_pending(record)

    def select_image(self, index: int) -> None:
        """Select the image at ``index``: display it now if it is cached, else once decoded.

        While it is decoded the viewport is empty and the status bar says "Decoding…";
        :attr:`image_shown` or :attr:`image_failed` tells when it is over. A result
        that arrives after another image was selected is kept in the cache only.
        """
        if not 0 <= index < len(self._records):
            return
        record = self._records[index]
        self._current = index
        self.image_list.set_current_index(index)
        self._update_title()
        self.image_label.setText(image_text(record))
        decoded = self.decoder.cached(record)
        if decoded is not None:
            self._show(index, decoded)
            return
        self.viewport.clear_image()  # never show one image under another's label
        self._set_presets([])
        self.statusBar().showMessage(DECODING_MESSAGE)
        self.decoder.request(record)

    def _show(self, index: int, decoded: DecodedImage) -> None:
        """Display the selected image (at ``index``), then prefetch the next one."""
        if self.statusBar().currentMessage() == DECODING_MESSAGE:
            self.statusBar().clearMessage()
        pipeline = decoded.pipeline
        for note in pipeline.problems:
            self.problems.report(note, decoded.record.path)
        self._set_presets([*pipeline.windows, *pipeline.voi_luts])
        self._auto = None
        voi = pipeline.default_voi()
        self.viewport.set_image(decoded.stored, pipeline, voi)
        if voi is None:
            self.apply_auto_window()
        self.image_shown.emit(index)
        if index + 1 < len(self._records):
            self.decoder.request(self._records[index + 1])

    def _on_decoded(self, decoded: DecodedImage) -> None:
        if self._current is not None and decoded.record == self._records[self._current]:
            self._show(self._current, decoded)

    def _on_decode_failed(self, record: ImageRecord, error: PixelDataError) -> None:
        if self._current is None or record != self._records[self._current]:
            return  # a prefetch: reported if and when the image is selected
        if self.statusBar().currentMessage() == DECODING_MESSAGE:
            self.statusBar().clearMessage()
        self.viewport.clear_image()
        self._set_presets([])
        self.problems.report(error.message, error.path)
        self.image_failed.emit(self._current)

    def next_image(self) -> None:
        """Show the next image in the list, if any."""
        if self._current is not None and self._current + 1 < len(self._records):
            self.select_image(self._current + 1)

    def previous_image(self) -> None:
        """Show the previous image in the list, if any."""
        if self._current is not None and self._current > 0:
            self.select_image(self._current - 1)

    def apply_preset(self, number: int) -> None:
        """Use the window preset at 0-based ``number`` (key ``number + 1``)."""
        if 0 <= number < len(self._presets):
            self.viewport.set_voi(self._presets[number])

    def apply_auto_window(self) -> None:
        """Use the automatic window of the image shown."""
        if self._auto is None:
            self._auto = self.viewport.auto_window()
        if self._auto is not None:
            self.viewport.set_voi(self._auto)

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

    def _update_title(self) -> None:
        parts = ["GalactoView"]
        record = self._records[self._current] if self._current is not None else None
        if record is None and self._records:
            record = self._records[0]
        if record is not None:
            parts += [
                format_person_name(record.patient_name) or record.patient_id or "Unknown patient",
                record.study_description or "Study",
            ]
        self.setWindowTitle(" — ".join(parts))

    # --- view -> model ----------------------------------------------------------------

    def _on_preset_activated(self, row: int) -> None:
        if row < len(self._presets):
            self.apply_preset(row)
        elif row == len(self._presets):
            self.apply_auto_window()

    def _on_voi_changed(self, voi: Voi) -> None:
        self.voi_label.setText(describe_voi(voi) if self.viewport.has_image() else "")
        if voi in self._presets:
            row = self._presets.index(voi)
        elif voi is not None and voi == self._auto:
            row = len(self._presets)
        else:
            row = -1  # a dragged window: the placeholder says "Custom"
        blocker = QSignalBlocker(self.preset_combo)
        self.preset_combo.setCurrentIndex(row)
        del blocker

    def _on_pixel_hovered(self, sample: PixelSample | None) -> None:
        if sample is None:
            self.cursor_label.setText("")
            return
        self.cursor_label.setText(
            f"({sample.column}, {sample.row})  stored {sample.stored}  value {sample.modality:g}"
        )

    def _open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open DICOM Folder")
        if folder:
            self.open_paths([Path(folder)])

    def _open_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open DICOM Files")
        if files:
            self.open_paths([Path(name) for name in files])

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        """Stop decoding and drop the image before closing, so memory is freed at once."""
        self.decoder.shutdown()
        self.viewport.clear_image()
        super().closeEvent(event)
