"""Findings dock: the list of every finding, duct trace and nipple landmark, and an editor.

The dock shows the annotations of the :class:`AnnotationWorkspace`, one group per
study (study date and description), each holding its findings (short id, type,
location, the views of the images it is on such as ``"L CC, L ML"``, size with its
calibration, impression, note excerpt — the texts of
:func:`galactoview.location.describe.describe_finding`), a "Ducts" tree (root
segments with their branches below) and the images that have a nipple landmark.

Clicking a finding (or one of its regions) selects it in the workspace and emits
:attr:`FindingsDock.navigate` so the main window shows that image centred on the
region; a selection made elsewhere selects the row without navigating.

The editor below the list changes the selected finding's type (an OTHER finding
needs a description), impression (PS3.16 CID 6030/6031 codes of
:data:`~galactoview.annotations.codes.IMPRESSIONS`) and note; each change is one
undoable :meth:`AnnotationWorkspace.replace_finding` (the note once per commit, on
focus-out or Enter, never per keystroke).

Linking contract ("the same defect on CC and ML"): :meth:`FindingsDock.start_linking`
(the "Link to another view" button, the Annotate menu's :attr:`FindingsDock.link_action`)
remembers the selected finding and emits ``linking_changed(True)``: the button and the
action stay pressed and :attr:`FindingsDock.banner` (placed above the images by the
window) says "Drawing the ML or MLO partner of FD-1 (on the L CC) — Esc to cancel". While
:meth:`FindingsDock.is_linking` is true, whoever turns a drawing into a finding must
instead call :meth:`FindingsDock.link_region` with the drawn region and its image's
calibration: the region (and its measurements) is added to the remembered finding as
one undoable edit and linking ends (``linking_changed(False)``).
:meth:`FindingsDock.cancel_linking` ends it without change (Escape, the banner's Cancel).

Without the mode, :meth:`FindingsDock.take_drawn_finding` (the marking tools' sink)
asks "Same lesion as FD-1?" when the new mark has the type of a finding marked only on
the other view of the same breast (:func:`galactoview.location.same_lesion.same_lesion_candidate`;
the default answer is yes when the distances from the nipple agree): yes adds the
region to that finding (one undoable edit), no makes the new finding. The question is
a non-blocking message box (:func:`ask_same_lesion_with_dialog`); tests replace
:attr:`FindingsDock.ask_same_lesion`.

Merging: the context menu of a finding row (and Annotate → Merge Findings…) offers
"Merge FD-2 into FD-1" for every other finding of the study; the one listed first is
kept (:class:`~galactoview.annotations.document.MergeFindings`, one undoable edit).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Final

from pydicom.sr.coding import Code
from PySide6.QtCore import QModelIndex, QPoint, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QAction, QCursor, QFocusEvent, QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from galactoview.annotations import codes
from galactoview.annotations.document import MergeFindings
from galactoview.annotations.geometry import measure_region
from galactoview.annotations.model import (
    AnnotationSet,
    DuctSegment,
    Finding,
    FindingType,
    ImageRegion,
    children,
    next_short_id,
    roots,
)
from galactoview.dicom.calibration import Calibration
from galactoview.dicom.loading import ImageRecord
from galactoview.dicom.person_name import format_person_name
from galactoview.location.describe import (
    UNCALIBRATED,
    describe_finding,
    describe_size,
    measurement_text,
)
from galactoview.location.frame import ViewFamily
from galactoview.location.localize import FindingLocation, view_label
from galactoview.location.same_lesion import SameLesionCandidate, same_lesion_candidate
from galactoview.location.study import image_infos, locate_document
from galactoview.ui.annotate.annotation_workspace import AnnotationWorkspace
from galactoview.ui.annotate.finding_palette import (
    DUCT_COLOUR,
    FINDING_COLOURS,
    NIPPLE_COLOUR,
    PALETTE_ORDER,
    OtherTextAsker,
    ask_other_text,
    swatch_icon,
)

__all__ = [
    "COLUMNS",
    "FindingsDock",
    "ItemKind",
    "LinkingBanner",
    "NoteEdit",
    "SameLesionAsker",
    "ask_same_lesion_with_dialog",
    "images_text",
    "measurement_tooltip",
    "with_region",
]

#: Columns of the list.
COLUMNS: Final = ("Id", "Type", "Location", "Images", "Measurement", "Impression", "Note")
_ID, _TYPE, _LOCATION, _IMAGES, _MEASUREMENT, _IMPRESSION, _NOTE = range(len(COLUMNS))
#: Widest the Type column gets by itself, in pixels (the location stays in view).
_TYPE_WIDTH: Final = 120
#: Widest the Location column gets by itself, in pixels: shown right after the id (the
#: whole line is in its tooltip and under the list, word-wrapped, for the selected one).
_LOCATION_WIDTH: Final = 220
#: Indentation of the tree's levels, in pixels (study, finding, region: kept narrow).
_INDENTATION: Final = 12
#: Item data roles: what a row is, its tracking UID, its image (SOP Instance UID, frame).
_KIND_ROLE: Final = Qt.ItemDataRole.UserRole
_UID_ROLE: Final = Qt.ItemDataRole.UserRole + 1
_SOP_ROLE: Final = Qt.ItemDataRole.UserRole + 2
_FRAME_ROLE: Final = Qt.ItemDataRole.UserRole + 3
_STUDY_ROLE: Final = Qt.ItemDataRole.UserRole + 4
_NOTE_EXCERPT: Final = 40
_LINK_TIP: Final = "Draw the same finding on another image: the next region drawn is added to it"


class ItemKind:
    """What a row of the list is (stored in its data)."""

    STUDY: Final = "study"
    FINDING: Final = "finding"
    REGION: Final = "region"
    DUCTS: Final = "ducts"
    SEGMENT: Final = "segment"
    NIPPLES: Final = "nipples"
    LANDMARK: Final = "landmark"


# --------------------------------------------------------------------- Qt-free helpers


def with_region(finding: Finding, region: ImageRegion, calibration: Calibration | None) -> Finding:
    """Return a finding with one more region and that region's measurements.

    Parameters
    ----------
    finding
        The finding (e.g. the defect marked on CC).
    region
        The new region (e.g. the same defect on ML).
    calibration
        Calibration of the region's image (``None``: no measurement).

    Returns
    -------
    Finding
        Same tracking UID and short id, the region appended.
    """
    index = len(finding.regions)
    return dataclasses.replace(
        finding,
        regions=(*finding.regions, region),
        measurements=(*finding.measurements, *measure_region(region, calibration, index)),
    )


def _image_label(region: ImageRegion, records: dict[str, ImageRecord]) -> str:
    record = records.get(region.sop_instance_uid)
    label = record.view.label if record is not None else "unknown image"
    return label if region.frame is None else f"{label} #{region.frame}"


def images_text(regions: Sequence[ImageRegion], records: dict[str, ImageRecord]) -> str:
    """Return the views of the images regions are on, e.g. ``"L CC, L ML"``.

    Parameters
    ----------
    regions
        The regions.
    records
        Image records by SOP Instance UID.

    Returns
    -------
    str
        Distinct view labels (frame numbers of multi-frame images after ``#``) in order.
    """
    labels = dict.fromkeys(_image_label(region, records) for region in regions)
    return ", ".join(labels)


def _same_code(a: Code | None, b: Code | None) -> bool:
    """Compare optional codes (pydicom's ``Code.__eq__`` fails on ``None``)."""
    if a is None or b is None:
        return a is b
    return bool(a == b)


def measurement_tooltip(finding: Finding) -> str:
    """Return the tooltip of a finding's size: every measurement as stored, and caveats.

    Parameters
    ----------
    finding
        The finding.

    Returns
    -------
    str
        One measurement per line (:func:`~galactoview.location.describe.measurement_text`),
        then the size's caveats; a line saying why when a measurable finding has none.
    """
    size = describe_size(finding)
    if not finding.measurements:
        return "No pixel spacing: no measurement in mm" if size.text else ""
    lines = [measurement_text(m, stored=True) for m in finding.measurements]
    return "\n".join((*lines, *size.flags))


def _excerpt(note: str) -> str:
    first = note.strip().splitlines()[0] if note.strip() else ""
    if len(first) > _NOTE_EXCERPT or len(note.strip().splitlines()) > 1:
        return first[:_NOTE_EXCERPT].rstrip() + "…"
    return first


def _study_text(study_uid: str, records: Sequence[ImageRecord]) -> str:
    for record in records:
        if record.study_instance_uid == study_uid:
            date = record.study_date
            if len(date) == 8 and date.isdigit():
                date = f"{date[:4]}-{date[4:6]}-{date[6:]}"
            text = " ".join(part for part in (date, record.study_description) if part)
            return text or study_uid
    return f"Study {study_uid}"


# --------------------------------------------------------------------------- widgets

#: Asks "Same lesion as FD-1?" without blocking: ``(parent, candidate, answer)``; calls
#: ``answer(True)`` for yes, ``answer(False)`` for no (also when closed unanswered).
SameLesionAsker = Callable[[QWidget, SameLesionCandidate, Callable[[bool], None]], None]


def ask_same_lesion_with_dialog(
    parent: QWidget, candidate: SameLesionCandidate, answer: Callable[[bool], None]
) -> None:
    """Ask whether a new mark is the other view of a finding (non-blocking message box).

    The box (object name ``"SameLesionDialog"``) has Yes and No; the default button is
    Yes when the distances from the nipple agree (:attr:`SameLesionCandidate.likely`).
    Closing it without answering is a no: the mark stays a finding of its own.

    Parameters
    ----------
    parent
        The window.
    candidate
        The finding asked about and the distances.
    answer
        Called once with the answer.
    """
    box = QMessageBox(
        QMessageBox.Icon.Question, "Same lesion?", candidate.question(), parent=parent
    )
    box.setObjectName("SameLesionDialog")
    box.setInformativeText(
        f"{candidate.details()}\n\nYes: add this mark to {candidate.finding.short_id}.\n"
        "No: keep it as a finding of its own."
    )
    box.setStyleSheet("QLabel#qt_msgbox_informativelabel { min-width: 420px; }")
    yes = box.addButton(QMessageBox.StandardButton.Yes)
    no = box.addButton(QMessageBox.StandardButton.No)
    box.setDefaultButton(yes if candidate.likely else no)
    box.setEscapeButton(no)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.finished.connect(lambda _result: answer(box.clickedButton() is yes))
    box.open()


class LinkingBanner(QFrame):
    """The strip above the images while a finding is being linked to another view.

    Shows what to draw ("Drawing the ML or MLO partner of FD-1 (on the L CC) — Esc to
    cancel") and a Cancel button; hidden when not linking.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("LinkingBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "#LinkingBanner { background: #1d4f7a; border: 1px solid #4a90d9; }"
            "#LinkingBanner QLabel { color: white; font-weight: bold; }"
        )
        self.label = QLabel()
        self.cancel_button = QPushButton("Cancel (Esc)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 3, 8, 3)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.cancel_button)
        self.hide()

    def text(self) -> str:
        """Return the text shown."""
        return self.label.text()


class NoteEdit(QPlainTextEdit):
    """A note editor that commits on focus-out and on Enter (Shift+Enter: new line).

    Signals
    -------
    committed()
        The user finished editing.
    """

    committed = Signal()

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802
        """Commit when the editor loses the focus."""
        super().focusOutEvent(event)
        self.committed.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        """Commit on Enter; Shift+Enter inserts a line break."""
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.committed.emit()
            return
        super().keyPressEvent(event)


class FindingsDock(QDockWidget):
    """Dock listing the workspace's annotations, with an editor for the selected finding.

    Parameters
    ----------
    workspace
        The annotations and their undo stack.
    parent
        Parent widget.
    ask_text
        Asks for the description of an OTHER finding (tests answer at once).

    Signals
    -------
    navigate(str, str)
        Show an image and centre on a finding's region there: (tracking UID,
        SOP Instance UID).
    linking_changed(bool)
        Linking started (the next drawn region goes to the selected finding) or ended.

    Attributes
    ----------
    ask_same_lesion
        Asks "Same lesion as FD-1?" (:data:`SameLesionAsker`; tests answer at once).
    banner
        Says what is being drawn while linking; the window puts it above the images.
    link_action, merge_action
        The Annotate menu's "Link to Another View" (checked while linking) and "Merge
        Findings…" (a menu of the merges of the selected finding).
    """

    navigate = Signal(str, str)
    linking_changed = Signal(bool)

    def __init__(
        self,
        workspace: AnnotationWorkspace,
        parent: QWidget | None = None,
        ask_text: OtherTextAsker = ask_other_text,
    ) -> None:
        super().__init__("Findings", parent)
        self.setObjectName("findings_dock")
        self._workspace = workspace
        self._ask_text = ask_text
        self._records: dict[str, ImageRecord] = {}
        self._record_list: tuple[ImageRecord, ...] = ()
        self._items: dict[str, QTreeWidgetItem] = {}
        self._editing_uid: str | None = None
        self._linking_uid: str | None = None
        self._study: str | None = None  # the study shown in the window
        self._locations: dict[str, str] = {}  # each finding's location line
        self._asking = False
        self.ask_same_lesion: SameLesionAsker = ask_same_lesion_with_dialog
        self.banner = LinkingBanner()
        self.banner.cancel_button.clicked.connect(self.cancel_linking)
        self.link_action = QAction("Link to Another View", self)
        self.link_action.setCheckable(True)
        self.link_action.setEnabled(False)
        self.link_action.toggled.connect(self._on_link_toggled)
        self.merge_action = QAction("Merge Findings…", self)
        self.merge_action.setEnabled(False)
        self.merge_action.triggered.connect(lambda: self.show_merge_menu())

        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setIndentation(_INDENTATION)
        # Where the finding is comes right after its id: in view in a narrow dock.
        self.tree.header().moveSection(self.tree.header().visualIndex(_LOCATION), 1)
        self.tree.currentItemChanged.connect(self._on_current_item_changed)
        self.tree.itemClicked.connect(self._on_item_clicked)
        self.tree.itemActivated.connect(self._on_item_clicked)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._on_context_menu)

        self.id_label = QLabel()
        #: The selected finding's whole location line, word-wrapped (readable when narrow).
        self.location_label = QLabel()
        self.location_label.setObjectName("FindingLocation")
        self.location_label.setWordWrap(True)
        self.location_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.type_combo = QComboBox()
        for finding_type in PALETTE_ORDER:
            self.type_combo.addItem(
                swatch_icon(FINDING_COLOURS[finding_type]), finding_type.value, finding_type.value
            )
        self.type_combo.currentIndexChanged.connect(self._on_type_changed)
        self.other_edit = QLineEdit()
        self.other_edit.setPlaceholderText("Description of the other finding")
        self.other_edit.editingFinished.connect(self._on_other_text_edited)
        self.impression_combo = QComboBox()
        self._fill_impressions(None)
        self.impression_combo.currentIndexChanged.connect(self._on_impression_changed)
        self.note_edit = NoteEdit()
        self.note_edit.setPlaceholderText("Note (Enter to commit, Shift+Enter: new line)")
        self.note_edit.setMaximumHeight(80)
        self.note_edit.committed.connect(self._commit_note)
        self.observer_label = QLabel()
        self.link_button = QPushButton("Link to another view")
        self.link_button.setCheckable(True)
        self.link_button.setStyleSheet(
            "QPushButton:checked { background: #1d4f7a; color: white;"
            " border: 1px solid #4a90d9; border-radius: 3px; padding: 3px 8px; }"
        )
        self.link_button.setToolTip(_LINK_TIP)
        self.link_button.toggled.connect(self._on_link_toggled)
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(self.delete_selected)
        #: Says why the selected finding's study cannot be edited (a signed report).
        self.read_only_label = QLabel()
        self.read_only_label.setObjectName("FindingsReadOnly")
        self.read_only_label.setWordWrap(True)
        self.read_only_label.setStyleSheet("color: #e0b050;")
        self.read_only_label.hide()

        self.editor = QWidget()
        form = QFormLayout(self.editor)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Finding", self.id_label)
        form.addRow("Location", self.location_label)
        form.addRow("Type", self.type_combo)
        form.addRow("Description", self.other_edit)
        form.addRow("Impression", self.impression_combo)
        form.addRow("Note", self.note_edit)
        form.addRow("Observer", self.observer_label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.link_button)
        buttons.addStretch(1)
        buttons.addWidget(self.delete_button)

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.read_only_label)
        layout.addWidget(self.editor)
        layout.addLayout(buttons)
        self.setWidget(body)

        workspace.changed.connect(self._on_workspace_changed)
        workspace.selection_changed.connect(self._on_workspace_selection)
        self._rebuild()

    # --- public API ----------------------------------------------------------------------

    def set_images(self, records: Sequence[ImageRecord]) -> None:
        """Tell the dock which images are loaded (view labels, studies, calibrations).

        Parameters
        ----------
        records
            Every loaded image.
        """
        self._record_list = tuple(records)
        self._records = {record.sop_instance_uid: record for record in records}
        self._rebuild()

    def item_for(self, tracking_uid: str) -> QTreeWidgetItem | None:
        """Return the row of a finding or duct segment, ``None`` when not listed.

        Parameters
        ----------
        tracking_uid
            The tracking UID of the finding or segment.

        Returns
        -------
        QTreeWidgetItem or None
            The row.
        """
        return self._items.get(tracking_uid)

    def row_texts(self, tracking_uid: str) -> tuple[str, ...]:
        """Return the texts of a finding's or segment's row, one per column.

        Parameters
        ----------
        tracking_uid
            The row's tracking UID (:meth:`item_for`).

        Returns
        -------
        tuple of str
            Empty when not listed.
        """
        item = self.item_for(tracking_uid)
        if item is None:
            return ()
        return tuple(item.text(column) for column in range(len(COLUMNS)))

    def current_finding(self) -> Finding | None:
        """Return the finding shown in the editor, ``None`` if none."""
        return self._finding(self._editing_uid)

    def set_study(self, study_instance_uid: str | None) -> None:
        """Tell the dock which study the window shows (its read-only state when none is selected).

        Parameters
        ----------
        study_instance_uid
            The study of the image shown, ``None`` when nothing is open.
        """
        self._study = study_instance_uid
        self._show_read_only(actions=False)

    def read_only_reason(self) -> str | None:
        """Return why the selected finding (or the study shown) cannot be edited, if it cannot.

        Returns
        -------
        str or None
            :meth:`AnnotationWorkspace.read_only_reason` of the study of the finding or
            landmark selected, else of the study shown (:meth:`set_study`); ``None``
            when it can be edited (also while an addendum is written).
        """
        uid = self._editing_uid or self._workspace.selected
        study = self._workspace.study_of(uid) if uid is not None else None
        item = self.tree.currentItem()
        if study is None and item is not None and item.data(0, _STUDY_ROLE) is not None:
            study = str(item.data(0, _STUDY_ROLE))
        study = study or self._study
        return self._workspace.read_only_reason(study) if study is not None else None

    def is_linking(self) -> bool:
        """Return whether the next drawn region is to be added to a finding."""
        return self._linking_uid is not None

    @property
    def linking_uid(self) -> str | None:
        """Return the tracking UID of the finding being linked, ``None`` if not linking."""
        return self._linking_uid

    def start_linking(self) -> bool:
        """Start linking the selected finding to a region drawn on another image.

        Returns
        -------
        bool
            ``False`` (nothing changes) when no finding is selected.
        """
        uid = self._editing_uid
        if self._finding(uid) is None:
            self._set_linking(None)
            return False
        self._set_linking(uid)
        return True

    def cancel_linking(self) -> None:
        """Stop linking without changing anything."""
        self._set_linking(None)

    def link_region(self, region: ImageRegion, calibration: Calibration | None) -> bool:
        """Add a drawn region to the finding being linked and stop linking.

        Parameters
        ----------
        region
            The region drawn.
        calibration
            Calibration of its image (for its measurements).

        Returns
        -------
        bool
            ``False`` when not linking (or the finding is gone): the caller makes a
            new finding as usual.
        """
        uid = self._linking_uid
        self._set_linking(None)
        if uid is None or self._finding(uid) is None:
            return False
        self.add_region_to(uid, region, calibration)
        return True

    def add_region_to(
        self, tracking_uid: str, region: ImageRegion, calibration: Calibration | None = None
    ) -> None:
        """Add a region to a finding as one undoable edit (and select the finding).

        Parameters
        ----------
        tracking_uid
            The finding (``KeyError`` when absent).
        region
            The new region.
        calibration
            Calibration of the region's image; ``None`` looks it up in the images
            given to :meth:`set_images`.
        """
        finding = self._finding(tracking_uid)
        if finding is None:
            raise KeyError(tracking_uid)
        if calibration is None:
            record = self._records.get(region.sop_instance_uid)
            calibration = record.calibration if record is not None else None
        label = _image_label(region, self._records)
        self._workspace.replace_finding(
            with_region(finding, region, calibration), f"Link {finding.short_id} to {label}"
        )
        self._workspace.select(tracking_uid)

    def delete_selected(self) -> None:
        """Delete the selected finding, duct segment (with branches) or landmark."""
        item = self.tree.currentItem()
        if item is not None and item.data(0, _KIND_ROLE) == ItemKind.LANDMARK:
            frame = item.data(0, _FRAME_ROLE)
            self._workspace.remove_landmark(
                str(item.data(0, _STUDY_ROLE)),
                str(item.data(0, _SOP_ROLE)),
                int(frame) if frame is not None else None,
            )
            return
        uid = self._workspace.selected
        if uid is not None:
            self._workspace.remove(uid)

    # --- list ------------------------------------------------------------------------------

    def _finding(self, uid: str | None) -> Finding | None:
        if uid is None:
            return None
        study = self._workspace.study_of(uid)
        if study is None:
            return None
        try:
            return self._workspace.annotations(study).finding(uid)
        except KeyError:  # a duct segment
            return None

    def _rebuild(self) -> None:
        blocker = QSignalBlocker(self.tree)
        self.tree.clear()
        self._items = {}
        self._locations = {}
        for study in self._workspace.studies():
            annotations = self._workspace.annotations(study)
            if not (annotations.findings or annotations.duct_segments or annotations.landmarks):
                continue
            group = QTreeWidgetItem(self.tree, [_study_text(study, self._record_list)])
            group.setData(0, _KIND_ROLE, ItemKind.STUDY)
            group.setFirstColumnSpanned(True)
            locations = locate_document(self._workspace.snapshot(study), self._record_list)
            for finding in annotations.findings:
                self._add_finding(group, finding, locations.get(finding.tracking_uid))
            self._add_ducts(group, annotations)
            self._add_landmarks(group, study, annotations)
        self.tree.expandAll()
        for column in range(len(COLUMNS) - 1):
            self.tree.resizeColumnToContents(column)
        # The type's words are long ("Intraluminal filling defect"): capped (elided, the
        # tooltip has them all) so that the location is in view in a narrow dock.
        self.tree.setColumnWidth(_TYPE, min(self.tree.columnWidth(_TYPE), _TYPE_WIDTH))
        width = min(self.tree.columnWidth(_LOCATION), _LOCATION_WIDTH)
        self.tree.setColumnWidth(_LOCATION, width)
        del blocker
        self._show_selection(self._workspace.selected)

    def _add_finding(
        self, parent: QTreeWidgetItem, finding: Finding, location: FindingLocation | None
    ) -> None:
        calibrations = {uid: record.calibration for uid, record in self._records.items()}
        described = describe_finding(finding, location, calibrations)
        impression = codes.impression_text(finding.impression) if finding.impression else ""
        where = described.location
        item = QTreeWidgetItem(
            parent,
            [
                described.label,
                described.type_text,
                where.text,
                images_text(finding.regions, self._records),
                described.size.text,
                impression,
                _excerpt(finding.note),
            ],
        )
        item.setIcon(_ID, swatch_icon(FINDING_COLOURS[finding.finding_type]))
        item.setToolTip(_MEASUREMENT, measurement_tooltip(finding))
        item.setToolTip(_TYPE, described.type_text)
        item.setToolTip(
            _LOCATION, "\n".join(t for t in (where.text, *where.flags, *where.problems) if t)
        )
        item.setToolTip(_NOTE, finding.note)
        self._mark(item, ItemKind.FINDING, finding.tracking_uid, finding.regions[0])
        self._items[finding.tracking_uid] = item
        self._locations[finding.tracking_uid] = where.text
        if len(finding.regions) > 1:
            for index, region in enumerate(finding.regions, start=1):
                view = _image_label(region, self._records)
                child = QTreeWidgetItem(item, [view, f"region {index}", "", view])
                self._mark(child, ItemKind.REGION, finding.tracking_uid, region)

    def _add_ducts(self, parent: QTreeWidgetItem, annotations: AnnotationSet) -> None:
        segments = annotations.duct_segments
        if not segments:
            return
        ducts = QTreeWidgetItem(parent, ["Ducts"])
        ducts.setData(0, _KIND_ROLE, ItemKind.DUCTS)
        ducts.setFirstColumnSpanned(True)

        def add(under: QTreeWidgetItem, segment: DuctSegment) -> None:
            length = segment.path_length
            measurement = measurement_text(length) if length is not None else UNCALIBRATED
            kind = "Duct segment" if segment.parent_uid is not None else "Duct (root)"
            item = QTreeWidgetItem(under, [segment.short_id, kind])
            item.setText(_IMAGES, _image_label(segment.region, self._records))
            item.setText(_MEASUREMENT, measurement)
            item.setText(_NOTE, _excerpt(segment.note))
            item.setIcon(_ID, swatch_icon(DUCT_COLOUR))
            self._mark(item, ItemKind.SEGMENT, segment.tracking_uid, segment.region)
            self._items[segment.tracking_uid] = item
            for child in children(segments, segment.tracking_uid):
                add(item, child)

        for root in roots(segments):
            add(ducts, root)

    def _add_landmarks(
        self, parent: QTreeWidgetItem, study: str, annotations: AnnotationSet
    ) -> None:
        if not annotations.landmarks:
            return
        labels = [_image_label(m.region, self._records) for m in annotations.landmarks]
        nipples = QTreeWidgetItem(parent, ["Nipple"])
        nipples.setText(_IMAGES, ", ".join(labels))
        nipples.setData(0, _KIND_ROLE, ItemKind.NIPPLES)
        for landmark, label in zip(annotations.landmarks, labels, strict=True):
            item = QTreeWidgetItem(nipples, [label, "Nipple landmark"])
            item.setText(_IMAGES, label)
            item.setIcon(_ID, swatch_icon(NIPPLE_COLOUR))
            item.setData(0, _KIND_ROLE, ItemKind.LANDMARK)
            item.setData(0, _STUDY_ROLE, study)
            item.setData(0, _SOP_ROLE, landmark.sop_instance_uid)
            item.setData(0, _FRAME_ROLE, landmark.frame)

    @staticmethod
    def _mark(item: QTreeWidgetItem, kind: str, uid: str, region: ImageRegion) -> None:
        item.setData(0, _KIND_ROLE, kind)
        item.setData(0, _UID_ROLE, uid)
        item.setData(0, _SOP_ROLE, region.sop_instance_uid)
        item.setData(0, _FRAME_ROLE, region.frame)

    def _show_selection(self, uid: str | None) -> None:
        """Select the row of a tracking UID without emitting anything; refresh the editor."""
        item = self._items.get(uid) if uid is not None else None
        blocker = QSignalBlocker(self.tree)
        current = self.tree.currentItem()
        # Keep a region row of the selected finding, or a landmark or heading row
        # when nothing is selected: the user clicked it.
        keep = current is not None and (
            (item is not None and current.data(0, _UID_ROLE) == uid)
            or (item is None and current.data(0, _UID_ROLE) is None)
        )
        if not keep:
            if item is None:
                self.tree.setCurrentIndex(QModelIndex())
                self.tree.clearSelection()
            else:
                self.tree.setCurrentItem(item)
        if item is not None:
            self.tree.scrollToItem(item)
        del blocker
        self._show_editor(uid)

    # --- reactions -------------------------------------------------------------------------

    def _on_workspace_changed(self, _study: str) -> None:
        if self._linking_uid is not None and self._finding(self._linking_uid) is None:
            self._set_linking(None)
        self._rebuild()

    def _on_workspace_selection(self, uid: object) -> None:
        tracking_uid = uid if isinstance(uid, str) else None
        if self._linking_uid is not None and tracking_uid != self._linking_uid:
            self._set_linking(None)
        self._show_selection(tracking_uid)

    def _on_current_item_changed(
        self, current: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None
    ) -> None:
        uid = current.data(0, _UID_ROLE) if current is not None else None
        self._workspace.select(uid if isinstance(uid, str) else None)
        if current is not None and current.data(0, _KIND_ROLE) == ItemKind.LANDMARK:
            self._show_editor(None)

    def _on_item_clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        uid = item.data(0, _UID_ROLE)
        sop = item.data(0, _SOP_ROLE)
        if not isinstance(uid, str) or not isinstance(sop, str):
            return
        self._workspace.select(uid)
        self.navigate.emit(uid, sop)

    # --- editor ----------------------------------------------------------------------------

    def _fill_impressions(self, current: Code | None) -> None:
        blocker = QSignalBlocker(self.impression_combo)
        self.impression_combo.clear()
        self.impression_combo.addItem("None", None)
        choices = list(codes.IMPRESSIONS)
        if current is not None and current not in choices:
            choices.append(current)  # read from another program's SR: keep it selectable
        for code in choices:
            self.impression_combo.addItem(codes.impression_text(code), code)
        index = 0 if current is None else 1 + choices.index(current)
        self.impression_combo.setCurrentIndex(index)
        del blocker

    def _show_editor(self, uid: str | None) -> None:
        finding = self._finding(uid)
        # A note being typed survives unrelated refreshes (an edit elsewhere, autosave).
        typing = (
            finding is not None
            and self.note_edit.hasFocus()
            and finding.tracking_uid == self._editing_uid
        )
        self._editing_uid = finding.tracking_uid if finding is not None else None
        self._show_read_only()
        self.location_label.setText(self._locations.get(uid, "") if uid is not None else "")
        blockers = [
            QSignalBlocker(widget) for widget in (self.type_combo, self.other_edit, self.note_edit)
        ]
        self._show_linking()
        if finding is None:
            self.id_label.setText("")
            self.type_combo.setCurrentIndex(-1)
            self.other_edit.clear()
            self.other_edit.setVisible(False)
            self._fill_impressions(None)
            self.note_edit.setPlainText("")
            self.observer_label.setText("")
        else:
            self.id_label.setText(finding.short_id)
            self.type_combo.setCurrentIndex(PALETTE_ORDER.index(finding.finding_type))
            self.other_edit.setText(finding.other_text)
            self.other_edit.setVisible(finding.finding_type is FindingType.OTHER)
            self._fill_impressions(finding.impression)
            if not typing and self.note_edit.toPlainText() != finding.note:
                self.note_edit.setPlainText(finding.note)
            self.observer_label.setText(format_person_name(finding.observer) or "—")
        del blockers

    def _show_read_only(self, *, actions: bool = True) -> None:
        """Enable the editing controls for an editable selection; else say why not.

        On a signed study (PS3.3 C.17.2: a signed revision is never changed) the editor,
        Link and Delete are disabled with the reason as their tooltip and above the
        editor; an addendum being written makes them editable again. ``actions``: also
        the Annotate menu's Link and Merge (on a change of selection or of the marks).
        """
        reason = self.read_only_reason()
        editable = reason is None
        selected = self._editing_uid is not None
        self.editor.setEnabled(selected and editable)
        self.link_button.setEnabled(selected and editable)
        if actions:
            self.merge_action.setEnabled(selected and editable)
            self.link_action.setEnabled(self.is_linking() or (selected and editable))
        deletable = self._workspace.selected is not None or self._current_is_landmark()
        self.delete_button.setEnabled(deletable and editable)
        why = f"Read-only: {reason}" if reason is not None else ""
        self.read_only_label.setText(why)
        self.read_only_label.setVisible(not editable)
        self.editor.setToolTip(why)
        self.delete_button.setToolTip(why)
        self.link_button.setToolTip(why or _LINK_TIP)

    def _current_is_landmark(self) -> bool:
        item = self.tree.currentItem()
        return item is not None and item.data(0, _KIND_ROLE) == ItemKind.LANDMARK

    def _replace(self, finding: Finding, text: str) -> None:
        self._workspace.replace_finding(finding, text)

    def _on_type_changed(self, index: int) -> None:
        finding = self.current_finding()
        if finding is None or index < 0:
            return
        new_type = PALETTE_ORDER[index]
        if new_type is finding.finding_type:
            return
        other_text = ""
        if new_type is FindingType.OTHER:
            answer = self._ask_text(self.window(), finding.other_text)
            if answer is None or not answer.strip():
                self._show_editor(finding.tracking_uid)  # refused: put the combo back
                return
            other_text = answer.strip()
        study = self._workspace.study_of(finding.tracking_uid)
        assert study is not None  # current_finding found it
        others = [
            f
            for f in self._workspace.annotations(study).findings
            if f.tracking_uid != finding.tracking_uid
        ]
        changed = dataclasses.replace(
            finding,
            finding_type=new_type,
            other_text=other_text,
            short_id=next_short_id(others, new_type),
        )
        self._replace(changed, f"Change {finding.short_id} to {new_type.value}")

    def _on_other_text_edited(self) -> None:
        finding = self.current_finding()
        if finding is None or finding.finding_type is not FindingType.OTHER:
            return
        text = self.other_edit.text().strip()
        if not text:
            with QSignalBlocker(self.other_edit):
                self.other_edit.setText(finding.other_text)  # OTHER needs a description
            return
        if text != finding.other_text:
            changed = dataclasses.replace(finding, other_text=text)
            self._replace(changed, f"Describe {finding.short_id}")

    def _on_impression_changed(self, index: int) -> None:
        finding = self.current_finding()
        if finding is None or index < 0:
            return
        data = self.impression_combo.itemData(index)
        impression = data if isinstance(data, Code) else None
        if _same_code(impression, finding.impression):
            return
        changed = dataclasses.replace(finding, impression=impression)
        what = codes.impression_text(impression) if impression is not None else "no impression"
        self._replace(changed, f"Set {finding.short_id} impression: {what}")

    def _commit_note(self) -> None:
        finding = self.current_finding()
        if finding is None:
            return
        note = self.note_edit.toPlainText()
        if note != finding.note:
            self._replace(dataclasses.replace(finding, note=note), f"Note on {finding.short_id}")

    # --- linking ---------------------------------------------------------------------------

    def linking_text(self) -> str:
        """Return what the banner says while linking, ``""`` when not linking.

        E.g. ``"Drawing the ML or MLO partner of FD-1 (on the L CC) — Esc to cancel"``.
        """
        finding = self._finding(self._linking_uid)
        if finding is None:
            return ""
        infos = image_infos(self._record_list)
        views = [infos.get(r.sop_instance_uid) for r in finding.regions]
        families = {v.family is ViewFamily.CC for v in views if v is not None and v.family}
        partner = {
            frozenset({True}): "ML or MLO partner",
            frozenset({False}): "CC partner",
        }.get(frozenset(families), "partner on another view")
        labels = dict.fromkeys(view_label(v) for v in views if v is not None)
        on = f" (on the {', '.join(labels)})" if labels else ""
        return f"Drawing the {partner} of {finding.short_id}{on} — Esc to cancel"

    def _on_link_toggled(self, checked: bool) -> None:
        if checked:
            if not self.start_linking():
                self._show_linking()
        else:
            self.cancel_linking()

    def _set_linking(self, uid: str | None) -> None:
        was = self._linking_uid is not None
        self._linking_uid = uid
        self._show_linking()
        if was != (uid is not None):
            self.linking_changed.emit(uid is not None)

    def _show_linking(self) -> None:
        """Press the button and the action, and show the banner, while linking."""
        on = self._linking_uid is not None
        for control in (self.link_button, self.link_action):
            with QSignalBlocker(control):
                control.setChecked(on)
        finding = self._finding(self._linking_uid)
        self.link_button.setText(
            f"Linking {finding.short_id}… (Esc)" if finding is not None else "Link to another view"
        )
        editable = self._finding(self._editing_uid) is not None and self.read_only_reason() is None
        self.link_action.setEnabled(on or editable)
        self.banner.label.setText(self.linking_text())
        self.banner.setVisible(on)

    # --- a mark drawn: linked, the same lesion, or a new finding ---------------------------

    def take_drawn_finding(
        self, study_instance_uid: str, finding: Finding, calibration: Calibration | None
    ) -> bool:
        """Decide where a newly drawn mark goes (the marking tools' sink).

        While linking, its region joins the finding being linked (:meth:`link_region`).
        Otherwise, when it may be the other view of a finding marked on one view only
        (same type, same breast, other view family, same study), the reader is asked
        "Same lesion as FD-1?" without blocking: yes adds the region to that finding, no
        adds ``finding`` as it is. A question already open lets the next mark through.

        Parameters
        ----------
        study_instance_uid
            The study of the image drawn on.
        finding
            The finding the tools would add (one region, a fresh tracking UID and short id).
        calibration
            Calibration of the image drawn on.

        Returns
        -------
        bool
            ``True`` when the dock took the mark (linked now, or asked); ``False``: the
            caller adds the finding as usual.
        """
        region = finding.regions[0]
        if self.link_region(region, calibration):
            return True
        if self._asking:
            return False
        annotations = self._workspace.annotations(study_instance_uid)
        snapshot = self._workspace.snapshot(study_instance_uid)
        candidate = same_lesion_candidate(
            region,
            finding.finding_type,
            annotations,
            image_infos(self._record_list),
            snapshot.chest_wall_lines(),
        )
        if candidate is None:
            return False
        self._asking = True

        def answered(same: bool) -> None:
            self._asking = False
            self._answer_same_lesion(study_instance_uid, candidate, finding, calibration, same)

        self.ask_same_lesion(self.window(), candidate, answered)
        return True

    def _answer_same_lesion(
        self,
        study: str,
        candidate: SameLesionCandidate,
        finding: Finding,
        calibration: Calibration | None,
        same: bool,
    ) -> None:
        """Add the region to the candidate (yes) or the new finding (no) — one edit."""
        region = finding.regions[0]
        if region.sop_instance_uid not in self._records:
            return  # its images were closed while the question was open
        if same and self._finding(candidate.finding.tracking_uid) is not None:
            self.add_region_to(candidate.finding.tracking_uid, region, calibration)
            return
        findings = self._workspace.annotations(study).findings
        fresh = dataclasses.replace(
            finding, short_id=next_short_id(findings, finding.finding_type)
        )  # another finding may have taken the id while the question was open
        self._workspace.add_finding(study, fresh)

    # --- merging ---------------------------------------------------------------------------

    def merge_choices(self, tracking_uid: str) -> tuple[tuple[str, str, str], ...]:
        """Return the merges offered for a finding: ``(text, kept UID, absorbed UID)``.

        One per other finding of its study, those of the same type first; the finding
        listed first in the study is kept (its id, type, impression and note), e.g.
        ``("Merge FD-2 into FD-1", fd1, fd2)``.

        Parameters
        ----------
        tracking_uid
            The finding (none offered for anything else).

        Returns
        -------
        tuple
            The merges.
        """
        finding = self._finding(tracking_uid)
        study = self._workspace.study_of(tracking_uid)
        if finding is None or study is None:
            return ()
        findings = self._workspace.annotations(study).findings
        order = {f.tracking_uid: index for index, f in enumerate(findings)}
        choices: list[tuple[bool, str, str, str]] = []
        for other in findings:
            if other.tracking_uid == tracking_uid:
                continue
            kept, absorbed = sorted((finding, other), key=lambda f: order[f.tracking_uid])
            text = f"Merge {absorbed.short_id} into {kept.short_id}"
            same = other.finding_type is finding.finding_type
            choices.append((not same, text, kept.tracking_uid, absorbed.tracking_uid))
        choices.sort(key=lambda c: c[0])
        return tuple((text, kept, absorbed) for _, text, kept, absorbed in choices)

    def merge_findings(self, kept_uid: str, absorbed_uid: str) -> bool:
        """Merge one finding into another as one undoable edit, and select the result.

        Parameters
        ----------
        kept_uid
            The finding that stays.
        absorbed_uid
            The finding merged into it (same study).

        Returns
        -------
        bool
            Whether the merge was made (not for a missing finding, findings of two
            studies, or a study that cannot be changed).
        """
        study = self._workspace.study_of(kept_uid)
        if study is None or study != self._workspace.study_of(absorbed_uid):
            return False
        if self._finding(kept_uid) is None or self._finding(absorbed_uid) is None:
            return False
        if not self._workspace.execute(study, MergeFindings(kept_uid, absorbed_uid)):
            return False
        self._workspace.select(kept_uid)
        return True

    def merge_menu(self, tracking_uid: str | None = None) -> QMenu:
        """Return a menu of the merges of a finding (the selected one by default).

        Parameters
        ----------
        tracking_uid
            The finding; the one in the editor when ``None``.

        Returns
        -------
        QMenu
            One action per :meth:`merge_choices` entry, or a disabled line saying why
            there is none.
        """
        uid = tracking_uid if tracking_uid is not None else self._editing_uid
        menu = QMenu("Merge", self)
        choices = self.merge_choices(uid) if uid is not None else ()
        for text, kept, absorbed in choices:
            action = menu.addAction(text)
            action.triggered.connect(
                lambda _checked=False, k=kept, a=absorbed: self.merge_findings(k, a)
            )
        if not choices:
            why = "Select a finding first" if uid is None else "No other finding in this study"
            menu.addAction(why).setEnabled(False)
        return menu

    def show_merge_menu(self, at: QPoint | None = None) -> QMenu:
        """Pop up :meth:`merge_menu` at a point (the mouse cursor by default), not blocking.

        Parameters
        ----------
        at
            Global position.

        Returns
        -------
        QMenu
            The menu shown (deleted when closed).
        """
        menu = self.merge_menu()
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(at if at is not None else QCursor.pos())
        return menu

    def context_menu(self, item: QTreeWidgetItem | None) -> QMenu | None:
        """Return the context menu of a row: linking and merging a finding.

        Parameters
        ----------
        item
            The row.

        Returns
        -------
        QMenu or None
            ``None`` for rows that are not findings (or their regions).
        """
        uid = item.data(0, _UID_ROLE) if item is not None else None
        if not isinstance(uid, str) or self._finding(uid) is None:
            return None
        menu = QMenu(self)
        link = menu.addAction("Link to Another View")
        link.triggered.connect(lambda: self._link_from_menu(uid))
        merges = self.merge_menu(uid)
        merges.setTitle("Merge Findings")
        menu.addMenu(merges)
        return menu

    def _link_from_menu(self, uid: str) -> None:
        self._workspace.select(uid)
        self.start_linking()

    def _on_context_menu(self, position: QPoint) -> None:
        menu = self.context_menu(self.tree.itemAt(position))
        if menu is not None:
            menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            menu.popup(self.tree.viewport().mapToGlobal(position))
