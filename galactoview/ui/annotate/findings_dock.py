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
(the "Link to another view" button) remembers the selected finding and emits
``linking_changed(True)``. While :meth:`FindingsDock.is_linking` is true, whoever
turns a drawing into a finding must instead call
:meth:`FindingsDock.link_region` with the drawn region and its image's
calibration: the region (and its measurements) is added to the remembered finding
as one undoable edit and linking ends (``linking_changed(False)``).
:meth:`FindingsDock.cancel_linking` ends it without change (e.g. on Escape).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Final

from pydicom.sr.coding import Code
from PySide6.QtCore import QModelIndex, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from galactoview.annotations import codes
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
from galactoview.location.localize import FindingLocation
from galactoview.location.study import locate_document
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
    "NoteEdit",
    "images_text",
    "measurement_tooltip",
    "with_region",
]

#: Columns of the list.
COLUMNS: Final = ("Id", "Type", "Location", "Images", "Measurement", "Impression", "Note")
_ID, _TYPE, _LOCATION, _IMAGES, _MEASUREMENT, _IMPRESSION, _NOTE = range(len(COLUMNS))
#: Item data roles: what a row is, its tracking UID, its image (SOP Instance UID, frame).
_KIND_ROLE: Final = Qt.ItemDataRole.UserRole
_UID_ROLE: Final = Qt.ItemDataRole.UserRole + 1
_SOP_ROLE: Final = Qt.ItemDataRole.UserRole + 2
_FRAME_ROLE: Final = Qt.ItemDataRole.UserRole + 3
_STUDY_ROLE: Final = Qt.ItemDataRole.UserRole + 4
_NOTE_EXCERPT: Final = 40


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

        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        self.tree.currentItemChanged.connect(self._on_current_item_changed)
        self.tree.itemClicked.connect(self._on_item_clicked)
        self.tree.itemActivated.connect(self._on_item_clicked)

        self.id_label = QLabel()
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
        self.link_button.setToolTip(
            "Draw the same finding on another image: the next region drawn is added to it"
        )
        self.link_button.toggled.connect(self._on_link_toggled)
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(self.delete_selected)

        self.editor = QWidget()
        form = QFormLayout(self.editor)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Finding", self.id_label)
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
        del blocker
        self._show_selection(self._workspace.selected)

    def _add_finding(
        self, parent: QTreeWidgetItem, finding: Finding, location: FindingLocation | None
    ) -> None:
        calibrations = {uid: record.calibration for uid, record in self._records.items()}
        described = describe_finding(finding, location, calibrations)
        impression = finding.impression.meaning if finding.impression is not None else ""
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
        item.setToolTip(_LOCATION, "\n".join((*where.flags, *where.problems)))
        item.setToolTip(_NOTE, finding.note)
        self._mark(item, ItemKind.FINDING, finding.tracking_uid, finding.regions[0])
        self._items[finding.tracking_uid] = item
        if len(finding.regions) > 1:
            for index, region in enumerate(finding.regions, start=1):
                child = QTreeWidgetItem(
                    item, [f"region {index}", "", "", _image_label(region, self._records)]
                )
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
            item = QTreeWidgetItem(nipples, ["nipple", "Nipple landmark"])
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
            self.impression_combo.addItem(code.meaning, code)
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
        self.editor.setEnabled(finding is not None)
        self.link_button.setEnabled(finding is not None)
        self.delete_button.setEnabled(uid is not None or self._current_is_landmark())
        blockers = [
            QSignalBlocker(widget)
            for widget in (self.type_combo, self.other_edit, self.note_edit, self.link_button)
        ]
        self.link_button.setChecked(self._linking_uid is not None)
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
        what = impression.meaning if impression is not None else "no impression"
        self._replace(changed, f"Set {finding.short_id} impression: {what}")

    def _commit_note(self) -> None:
        finding = self.current_finding()
        if finding is None:
            return
        note = self.note_edit.toPlainText()
        if note != finding.note:
            self._replace(dataclasses.replace(finding, note=note), f"Note on {finding.short_id}")

    # --- linking ---------------------------------------------------------------------------

    def _on_link_toggled(self, checked: bool) -> None:
        if checked:
            if not self.start_linking():
                with QSignalBlocker(self.link_button):
                    self.link_button.setChecked(False)
        else:
            self.cancel_linking()

    def _set_linking(self, uid: str | None) -> None:
        was = self._linking_uid is not None
        self._linking_uid = uid
        with QSignalBlocker(self.link_button):
            self.link_button.setChecked(uid is not None)
        if was != (uid is not None):
            self.linking_changed.emit(uid is not None)
