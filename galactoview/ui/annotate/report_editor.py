"""The Report dock: the radiologist's written report of the current study (issue 14).

One field per part of :class:`~galactoview.annotations.report.ClinicalReport`:
indication (the PS3.16 CID 6055 choices and free text), technique (the cannulated
duct's orifice on the nipple, picked on a clock face or computed from the duct trace's
root, :func:`~galactoview.location.orifice.orifice_from_duct_trace`; contrast volume;
views; magnification; complications), the findings as the marks locate them (one
read-only line each: side, clock face, distance from the nipple in cm, depth third —
numbers are never typed) with its wording (the finding's note, which the report's table
prints: one undoable edit of the finding), a "why not located" reason for each finding
that has no two-view location, comparison with priors, impression, BI-RADS® category,
recommendations and free text.

Every field commits to the :class:`AnnotationWorkspace` as one undoable edit named
after it ("Edit report: impression"): a choice at once, a text when its editing
finishes (focus leaves it, Enter in a line, Ctrl+Enter in a paragraph), never per
keystroke. The dock shows the workspace's report again whenever the study changes
(an undo shows in the dock). A signed study is shown read-only with who signed it
(:meth:`AnnotationWorkspace.read_only_reason`); an addendum in progress is shown as
such, its text editable, while the rest of the report can be amended.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Final

from PySide6.QtCore import QEvent, QPointF, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QColor, QFocusEvent, QKeyEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from galactoview.annotations.model import Finding
from galactoview.annotations.report import (
    RECOMMENDATIONS_IN_ORDER,
    Addendum,
    Assessment,
    ClinicalReport,
    Complication,
    Indication,
    NippleOrifice,
    Recommendation,
    ReportedView,
    UnlocatedFinding,
)
from galactoview.dicom.loading import ImageRecord
from galactoview.dicom.person_name import format_person_name
from galactoview.location.describe import describe_finding
from galactoview.location.localize import FindingLocation
from galactoview.location.orifice import orifice_from_duct_trace
from galactoview.location.study import locate_document
from galactoview.sr.signing import Signature
from galactoview.ui.annotate.annotation_workspace import UNSTORABLE_STUDY, AnnotationWorkspace

__all__ = [
    "ASSESSMENT_NAMES",
    "COMPLICATION_NAMES",
    "INDICATION_NAMES",
    "RECOMMENDATION_NAMES",
    "VIEW_NAMES",
    "ClockFacePicker",
    "ReportEditor",
    "ReportLineEdit",
    "ReportTextEdit",
    "addendum_notice",
    "finding_line",
    "signed_by",
]

#: The indications offered, with the words the reader sees.
INDICATION_NAMES: Final[dict[Indication, str]] = {i: i.label for i in Indication}
#: The views' usual abbreviations.
VIEW_NAMES: Final[dict[ReportedView, str]] = {
    ReportedView.CRANIO_CAUDAL: "CC",
    ReportedView.MEDIO_LATERAL: "ML",
    ReportedView.LATERO_MEDIAL: "LM",
    ReportedView.MEDIO_LATERAL_OBLIQUE: "MLO",
    ReportedView.CRANIO_CAUDAL_EXAGGERATED_LATERALLY: "XCCL",
}
#: Complications, "none" first.
COMPLICATION_NAMES: Final[dict[Complication, str]] = {
    Complication.NO_COMPLICATIONS: "None",
    Complication.EXTRAVASATION: "Extravasation",
    Complication.VASOVAGAL_SYNCOPE: "Vasovagal reaction",
}
#: BI-RADS® categories as the combo box lists them (the CID 6027 code meaning).
ASSESSMENT_NAMES: Final[dict[Assessment, str]] = {
    assessment: f"BI-RADS {assessment.code.meaning}" for assessment in Assessment
}
#: Recommendations in the order a galactography report usually needs them.
RECOMMENDATION_NAMES: Final[dict[Recommendation, str]] = {
    r: r.label for r in RECOMMENDATIONS_IN_ORDER
}
_MAX_CONTRAST_ML: Final = 20.0
_PARAGRAPH_HEIGHT: Final = 64


# --------------------------------------------------------------------- Qt-free helpers


def finding_line(finding: Finding, location: FindingLocation | None) -> str:
    """Return a finding's read-only line of the report: where the marks put it.

    Parameters
    ----------
    finding
        The finding.
    location
        Its location (:func:`~galactoview.location.study.locate_document`).

    Returns
    -------
    str
        ``"FD-1 Intraluminal filling defect: Left, 2 o'clock, 5.8 cm from the nipple,
        middle third"``; ``"…: Left, not located"`` without a two-view location. The
        distance is in cm (the surgeon's unit) to 0.1 cm.
    """
    described = describe_finding(finding, location)
    where = described.location
    head = f"{described.label} {described.type_text}"
    breast = location.breast if location is not None else None
    if not where.located or breast is None:
        return f"{head}: {where.side}, not located"
    parts = [where.side, where.clock]
    if breast.distance_mm is not None:
        parts.append(f"{breast.distance_mm / 10:.1f} cm from the nipple")
    else:
        parts.append("distance unknown (uncalibrated)")
    parts.append("depth unknown" if where.depth == "unknown" else f"{where.depth} third")
    return f"{head}: {', '.join(parts)}"


def signed_by(signature: Signature | None) -> str:
    """Return "who on when" of a signature ("Lindqvist, Åsa on 2026-12-04 18:30").

    ``"an unnamed reader"`` for a signature without a name (another writer's SR).
    """
    if signature is None:
        return "an unknown reader"
    who = format_person_name(signature.observer_name) or "an unnamed reader"
    return f"{who} on {signature.verified_at:%Y-%m-%d %H:%M}" if signature.verified_at else who


def addendum_notice(signature: Signature | None, addendum: Addendum) -> str:
    """Return what is shown while a report is an addendum to a signed revision.

    Parameters
    ----------
    signature
        Who signed the revision amended; ``None`` when unknown (an addendum reopened
        before it is signed: the signed revision is its predecessor).
    addendum
        The addendum.
    """
    if signature is not None:
        return f"Addendum to the report signed by {signed_by(signature)}"
    return f"Addendum to the signed report {addendum.signed_revision_uid}"


# --------------------------------------------------------------------------- widgets


class ReportTextEdit(QPlainTextEdit):
    """A paragraph of the report: commits when the focus leaves it or on Ctrl+Enter.

    Signals
    -------
    committed()
        The reader finished editing.
    """

    committed = Signal()

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 (Qt override)
        """Commit when the editor loses the focus."""
        super().focusOutEvent(event)
        self.committed.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        """Commit on Ctrl+Enter; Enter alone starts a new line."""
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.committed.emit()
            return
        super().keyPressEvent(event)


class ReportLineEdit(QLineEdit):
    """A line of the report: Enter commits it here, not the window's Enter shortcut."""

    def event(self, event: QEvent) -> bool:
        """Take Enter before the window's shortcuts (Finish Drawing) do."""
        enter = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        override = event.type() == QEvent.Type.ShortcutOverride
        if override and isinstance(event, QKeyEvent) and event.key() in enter:
            event.accept()
            return True
        return super().event(event)


class ClockFacePicker(QWidget):
    """The nipple seen as a clock face (facing the patient): 12 hours and the centre.

    Clicking an hour (or the centre, "C") picks the cannulated orifice there; clicking
    the hour picked again clears it.

    Signals
    -------
    picked(object)
        The reader picked a :class:`NippleOrifice`, or ``None`` to clear it.
    """

    picked = Signal(object)
    SIZE: Final = 124
    _RADIUS: Final = 47

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedSize(self.SIZE, self.SIZE)
        self.setToolTip("The cannulated duct's orifice on the nipple, facing the patient")
        self._value: NippleOrifice | None = None
        self.group = QButtonGroup(self)
        self.group.setExclusive(False)
        centre = self.SIZE / 2
        for hour in range(13):  # 0: the centre
            button = QToolButton(self)
            button.setText("C" if hour == 0 else str(hour))
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.setFixedSize(24, 22)
            button.setToolTip("central orifice" if hour == 0 else f"{hour} o'clock")
            angle = math.radians(hour * 30)
            radius = 0 if hour == 0 else self._RADIUS
            x = centre + radius * math.sin(angle) - 12
            y = centre - radius * math.cos(angle) - 11
            button.move(round(x), round(y))
            self.group.addButton(button, hour)
        self.group.idClicked.connect(self._on_clicked)

    def button(self, orifice: NippleOrifice) -> QToolButton:
        """Return the button of an orifice position (tests click it)."""
        found = self.group.button(orifice.clock_hour or 0)
        assert isinstance(found, QToolButton)
        return found

    def value(self) -> NippleOrifice | None:
        """Return the orifice shown, ``None`` when none is picked."""
        return self._value

    def set_value(self, orifice: NippleOrifice | None) -> None:
        """Show an orifice (nothing is emitted)."""
        self._value = orifice
        chosen = None if orifice is None else orifice.clock_hour or 0
        for button in self.group.buttons():
            with QSignalBlocker(button):
                button.setChecked(self.group.id(button) == chosen)

    def _on_clicked(self, hour: int) -> None:
        orifice = NippleOrifice(hour or None)
        self.picked.emit(None if orifice == self._value else orifice)
        self.set_value(self._value)  # until the report says otherwise

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        """Draw the nipple (a disc) behind the hour buttons."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = self.palette().color(self.foregroundRole())
        painter.setPen(QPen(colour, 1))
        fill = QColor(colour)
        fill.setAlpha(28)
        painter.setBrush(fill)
        centre = QPointF(self.SIZE / 2, self.SIZE / 2)
        painter.drawEllipse(centre, self._RADIUS + 14, self._RADIUS + 14)
        painter.drawEllipse(centre, 16, 16)
        painter.end()


def _checks(names: Sequence[str], columns: int) -> tuple[QWidget, list[QCheckBox]]:
    """Return a grid of check boxes and the boxes."""
    holder = QWidget()
    grid = QGridLayout(holder)
    grid.setContentsMargins(0, 0, 0, 0)
    grid.setHorizontalSpacing(8)
    grid.setVerticalSpacing(2)
    boxes = []
    for index, name in enumerate(names):
        box = QCheckBox(name)
        grid.addWidget(box, index // columns, index % columns)
        boxes.append(box)
    return holder, boxes


def _heading(text: str) -> QLabel:
    label = QLabel(f"<b>{text}</b>")
    label.setContentsMargins(0, 6, 0, 0)
    return label


class ReportEditor(QDockWidget):
    """Dock editing the current study's written report (see the module docstring).

    Parameters
    ----------
    workspace
        Holds each study's report and the undo stack.
    parent
        Parent widget.

    Attributes
    ----------
    unlocated_edits
        The "why not located" editors of the findings shown, by tracking UID.
    wording_edits
        Each finding's wording (its note, printed in the report's table), by tracking UID.

    Signals
    -------
    study_changed(object)
        The dock shows another study's report (its Study Instance UID, or ``None``).
    """

    study_changed = Signal(object)

    def __init__(self, workspace: AnnotationWorkspace, parent: QWidget | None = None) -> None:
        super().__init__("Report", parent)
        self.setObjectName("ReportDock")
        self._workspace = workspace
        self._study: str | None = None
        self._records: tuple[ImageRecord, ...] = ()
        self.unlocated_edits: dict[str, ReportLineEdit] = {}
        self.wording_edits: dict[str, ReportLineEdit] = {}
        #: Text fields typed in and not committed yet: a refresh leaves them as typed.
        self._typing: set[QWidget] = set()
        self._finding_lines: list[str] = []

        self.study_label = QLabel()
        self.study_label.setWordWrap(True)
        self.status_label = QLabel()
        self.status_label.setObjectName("ReportStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setStyleSheet(
            "QLabel#ReportStatus { font-weight: bold; border: 1px solid palette(mid);"
            " padding: 3px; }"
        )
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.addendum_heading = _heading("Addendum")
        self.addendum_edit = ReportTextEdit()
        self.addendum_edit.setPlaceholderText("What the addendum adds or corrects")
        self.addendum_edit.setMaximumHeight(_PARAGRAPH_HEIGHT)

        self.indication_combo = QComboBox()
        self.indication_combo.addItem("Not given", None)
        for indication, name in INDICATION_NAMES.items():
            self.indication_combo.addItem(name, indication)
        self.indication_edit = ReportLineEdit()
        self.indication_edit.setPlaceholderText("Clinical history, side, duration…")

        self.orifice_picker = ClockFacePicker()
        self.orifice_label = QLabel()
        self.orifice_label.setWordWrap(True)
        self.trace_button = QPushButton("From the duct trace")
        self.trace_button.setToolTip(
            "The clock face of the traced duct's root (traced on CC and ML/MLO with the nipple)"
        )
        self.contrast_spin = QDoubleSpinBox()
        self.contrast_spin.setRange(0.0, _MAX_CONTRAST_ML)
        self.contrast_spin.setDecimals(1)
        self.contrast_spin.setSingleStep(0.1)
        self.contrast_spin.setSuffix(" mL")
        self.contrast_spin.setSpecialValueText("not recorded")
        self.contrast_spin.setKeyboardTracking(False)
        views, self.view_checks = _checks(list(VIEW_NAMES.values()), 3)
        self.magnification_check = QCheckBox("Magnification views")
        complications, self.complication_checks = _checks(list(COMPLICATION_NAMES.values()), 2)

        self.findings_label = QLabel()
        self.findings_label.setWordWrap(True)
        self.findings_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.unlocated_box = QWidget()
        self._unlocated_form = QFormLayout(self.unlocated_box)
        self._unlocated_form.setContentsMargins(0, 0, 0, 0)
        self.wording_box = QWidget()
        self._wording_form = QFormLayout(self.wording_box)
        self._wording_form.setContentsMargins(0, 0, 0, 0)

        self.comparison_edit = ReportTextEdit()
        self.comparison_edit.setPlaceholderText("Prior examinations compared")
        self.comparison_edit.setMaximumHeight(_PARAGRAPH_HEIGHT)
        self.impression_edit = ReportTextEdit()
        self.impression_edit.setPlaceholderText("Impression (Ctrl+Enter or leave the field)")
        self.impression_edit.setMaximumHeight(_PARAGRAPH_HEIGHT + 16)
        self.assessment_combo = QComboBox()
        self.assessment_combo.addItem("Not given", None)
        for assessment, name in ASSESSMENT_NAMES.items():
            self.assessment_combo.addItem(name, assessment)
        recommendations, self.recommendation_checks = _checks(
            list(RECOMMENDATION_NAMES.values()), 1
        )
        self.recommendation_edit = ReportLineEdit()
        self.recommendation_edit.setPlaceholderText("Other recommendation, timing…")
        self.free_text_edit = ReportTextEdit()
        self.free_text_edit.setPlaceholderText("Anything else")
        self.free_text_edit.setMaximumHeight(_PARAGRAPH_HEIGHT)

        for combo in (self.indication_combo, self.assessment_combo):
            # Long choices ("0 - Incomplete - Need additional imaging evaluation…") must
            # not widen the dock: the list shows them whole.
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(16)
            combo.view().setMinimumWidth(combo.view().sizeHintForColumn(0) + 24)

        self.fields = QWidget()
        fields = QVBoxLayout(self.fields)
        fields.setContentsMargins(0, 0, 0, 0)
        fields.setSpacing(3)
        fields.addWidget(_heading("Indication"))
        fields.addWidget(self.indication_combo)
        fields.addWidget(self.indication_edit)
        fields.addWidget(_heading("Technique"))
        orifice_row = QHBoxLayout()
        orifice_row.addWidget(self.orifice_picker)
        orifice_side = QVBoxLayout()
        orifice_side.addWidget(QLabel("Cannulated orifice"))
        orifice_side.addWidget(self.orifice_label)
        orifice_side.addWidget(self.trace_button)
        orifice_side.addStretch(1)
        orifice_row.addLayout(orifice_side, 1)
        fields.addLayout(orifice_row)
        technique = QFormLayout()
        technique.setContentsMargins(0, 0, 0, 0)
        technique.addRow("Contrast", self.contrast_spin)
        technique.addRow("Views", views)
        technique.addRow("", self.magnification_check)
        technique.addRow("Complications", complications)
        technique.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        fields.addLayout(technique)
        fields.addWidget(_heading("Findings"))
        fields.addWidget(self.findings_label)
        fields.addWidget(self.wording_box)
        fields.addWidget(self.unlocated_box)
        fields.addWidget(_heading("Comparison"))
        fields.addWidget(self.comparison_edit)
        fields.addWidget(_heading("Impression"))
        fields.addWidget(self.impression_edit)
        fields.addWidget(self.assessment_combo)
        fields.addWidget(_heading("Recommendation"))
        fields.addWidget(recommendations)
        fields.addWidget(self.recommendation_edit)
        fields.addWidget(_heading("Other"))
        fields.addWidget(self.free_text_edit)

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self.study_label)
        layout.addWidget(self.status_label)
        layout.addWidget(self.addendum_heading)
        layout.addWidget(self.addendum_edit)
        layout.addWidget(self.fields)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        self.setWidget(scroll)

        self._connect()
        workspace.changed.connect(self._on_changed)
        self.refresh()

    # --- public API ----------------------------------------------------------------------

    @property
    def study(self) -> str | None:
        """Return the study whose report is shown, ``None`` when none."""
        return self._study

    def set_images(self, records: Sequence[ImageRecord]) -> None:
        """Tell the dock which images are loaded (the findings are located on them)."""
        self._records = tuple(records)
        self.refresh()

    def set_study(self, study_instance_uid: str | None) -> None:
        """Show the report of a study (the one of the active image)."""
        if study_instance_uid != self._study:
            self._study = study_instance_uid
            self.refresh()
            self.study_changed.emit(study_instance_uid)

    def status_text(self) -> str:
        """Return what the dock says about the report's state (signed, addendum), or ``""``."""
        return self.status_label.text() if not self.status_label.isHidden() else ""

    def finding_lines(self) -> list[str]:
        """Return the findings' read-only lines."""
        return list(self._finding_lines)

    def notice(self) -> str:
        """Return the one line said about the study's report elsewhere (title, status).

        ``"Report signed by … (read only)"`` on a signed study, ``"Addendum to the
        report signed by …"`` while one is written; ``""`` otherwise.
        """
        study = self._study
        if study is None:
            return ""
        signer = self._workspace.signer(study)
        if self._workspace.read_only_reason(study) is not None:
            return f"Report signed by {signed_by(signer)} (read only)"
        addendum = self._workspace.report(study).addendum
        if addendum is None:
            return ""
        return addendum_notice(signer, addendum)

    def refresh(self) -> None:
        """Show the study's report as the workspace holds it."""
        study = self._study
        storable = (
            study is not None
            and self._workspace.annotations(study).study_instance_uid != UNSTORABLE_STUDY
        )
        if study is None or not storable:
            self.study_label.setText(
                "No study" if study is None else "This study cannot be reported"
            )
            self.status_label.hide()
            self.addendum_edit.hide()
            self.addendum_heading.hide()
            self.fields.setEnabled(False)
            self._show(ClinicalReport(), {})
            return
        self.study_label.setText(self._study_text(study))
        notice = self.notice()
        read_only = self._workspace.read_only_reason(study)
        report = self._workspace.report(study)
        if read_only is not None:
            signer = signed_by(self._workspace.signer(study))
            notice = f"Signed by {signer}. Report → Write Addendum… to amend it."
        self.status_label.setText(notice)
        self.status_label.setVisible(bool(notice))
        self.fields.setEnabled(read_only is None)
        addendum = report.addendum
        self.addendum_edit.setVisible(addendum is not None)
        self.addendum_heading.setVisible(addendum is not None)
        self.addendum_edit.setEnabled(read_only is None)
        if addendum is not None:
            self._set_text(self.addendum_edit, addendum.text)
        snapshot = self._workspace.snapshot(study)
        locations = locate_document(snapshot, self._records) if self._records else {}
        self._show(report, locations)

    # --- showing ---------------------------------------------------------------------------

    def _study_text(self, study: str) -> str:
        for record in self._records:
            if record.study_instance_uid == study:
                date = record.study_date
                if len(date) == 8 and date.isdigit():
                    date = f"{date[:4]}-{date[4:6]}-{date[6:]}"
                text = " ".join(p for p in (date, record.study_description) if p)
                return text or study
        return study

    def _set_text(self, edit: QLineEdit | QPlainTextEdit, text: str) -> None:
        """Show a stored text, unless the reader is typing in that field (not committed)."""
        if edit in self._typing and edit.hasFocus():
            return
        self._typing.discard(edit)
        with QSignalBlocker(edit):
            if isinstance(edit, QLineEdit):
                if edit.text() != text:
                    edit.setText(text)
            elif edit.toPlainText() != text:
                edit.setPlainText(text)

    @staticmethod
    def _set_combo(combo: QComboBox, value: object) -> None:
        with QSignalBlocker(combo):
            combo.setCurrentIndex(max(0, combo.findData(value)))

    @staticmethod
    def _set_checks(
        boxes: Sequence[QCheckBox], keys: Sequence[object], on: Sequence[object]
    ) -> None:
        for box, key in zip(boxes, keys, strict=True):
            with QSignalBlocker(box):
                box.setChecked(key in on)

    def _show(self, report: ClinicalReport, locations: dict[str, FindingLocation]) -> None:
        technique = report.technique
        self._set_combo(self.indication_combo, report.indication)
        self._set_text(self.indication_edit, report.indication_text)
        self.orifice_picker.set_value(technique.orifice)
        self.orifice_label.setText(
            "not recorded" if technique.orifice is None else str(technique.orifice)
        )
        with QSignalBlocker(self.contrast_spin):
            self.contrast_spin.setValue(technique.contrast_ml or 0.0)
        self._set_checks(self.view_checks, list(VIEW_NAMES), technique.views)
        with QSignalBlocker(self.magnification_check):
            self.magnification_check.setChecked(technique.magnification)
        self._set_checks(
            self.complication_checks, list(COMPLICATION_NAMES), technique.complications
        )
        self._show_findings(report, locations)
        self._set_text(self.comparison_edit, report.comparison)
        self._set_text(self.impression_edit, report.impression)
        self._set_combo(self.assessment_combo, report.assessment)
        self._set_checks(
            self.recommendation_checks, list(RECOMMENDATION_NAMES), report.recommendations
        )
        self._set_text(self.recommendation_edit, report.recommendation_text)
        self._set_text(self.free_text_edit, report.free_text)

    def _show_findings(self, report: ClinicalReport, locations: dict[str, FindingLocation]) -> None:
        study = self._study
        findings = self._workspace.annotations(study).findings if study is not None else ()
        lines = [finding_line(f, locations.get(f.tracking_uid)) for f in findings]
        self._finding_lines = lines
        self.findings_label.setText(
            "\n".join(f"• {line}" for line in lines) or "No findings marked"
        )
        unlocated = [
            f
            for f in findings
            if (found := locations.get(f.tracking_uid)) is None or found.breast is None
        ]
        self.wording_edits = self._rebuild_edits(
            self._wording_form,
            self.wording_edits,
            findings,
            lambda f: f"{f.short_id} wording",
            "what the report says of it (the numbers above stay as measured)",
            self._commit_wording,
        )
        for finding in findings:
            self._set_text(self.wording_edits[finding.tracking_uid], finding.note)
        self.wording_box.setVisible(bool(findings))
        self.unlocated_edits = self._rebuild_edits(
            self._unlocated_form,
            self.unlocated_edits,
            unlocated,
            lambda f: f"Why {f.short_id} not located",
            "e.g. seen on the CC view only",
            self._commit_unlocated,
        )
        for uid, edit in self.unlocated_edits.items():
            self._set_text(edit, report.reason_not_located(uid))
        self.unlocated_box.setVisible(bool(unlocated))

    def _rebuild_edits(
        self,
        form: QFormLayout,
        edits: dict[str, ReportLineEdit],
        findings: Sequence[Finding],
        label: Callable[[Finding], str],
        placeholder: str,
        commit: Callable[[Finding, str], None],
    ) -> dict[str, ReportLineEdit]:
        """Return one line editor per finding, rebuilding ``form`` when the findings changed."""
        wanted = [f.tracking_uid for f in findings]
        if wanted == list(edits):
            return edits
        self._typing.difference_update(edits.values())
        while form.rowCount():
            form.removeRow(0)
        rebuilt: dict[str, ReportLineEdit] = {}
        for finding in findings:
            edit = ReportLineEdit()
            edit.setPlaceholderText(placeholder)
            self._track(edit)
            edit.editingFinished.connect(lambda f=finding, e=edit: commit(f, e.text()))
            form.addRow(label(finding), edit)
            rebuilt[finding.tracking_uid] = edit
        return rebuilt

    # --- editing ---------------------------------------------------------------------------

    def _track(self, edit: QLineEdit | ReportTextEdit) -> None:
        """Note typing in a text field; its commit (connected after this) ends it."""
        if isinstance(edit, QLineEdit):
            edit.textEdited.connect(lambda _text: self._typing.add(edit))
            edit.editingFinished.connect(lambda: self._typing.discard(edit))
        else:
            edit.textChanged.connect(lambda: self._typing.add(edit))
            edit.committed.connect(lambda: self._typing.discard(edit))

    def _connect(self) -> None:
        for edit in (
            self.indication_edit,
            self.comparison_edit,
            self.impression_edit,
            self.recommendation_edit,
            self.free_text_edit,
            self.addendum_edit,
        ):
            self._track(edit)
        self.indication_combo.currentIndexChanged.connect(
            lambda _i: self._edit("indication", indication=self.indication_combo.currentData())
        )
        self.indication_edit.editingFinished.connect(
            lambda: self._edit("indication", indication_text=self.indication_edit.text().strip())
        )
        self.orifice_picker.picked.connect(lambda o: self._edit_technique("orifice", orifice=o))
        self.trace_button.clicked.connect(self.orifice_from_trace)
        self.contrast_spin.valueChanged.connect(
            lambda v: self._edit_technique("contrast volume", contrast_ml=v or None)
        )
        for box in self.view_checks:
            box.toggled.connect(lambda _on: self._edit_views())
        self.magnification_check.toggled.connect(
            lambda on: self._edit_technique("magnification", magnification=on)
        )
        for box, complication in zip(self.complication_checks, COMPLICATION_NAMES, strict=True):
            box.toggled.connect(lambda on, c=complication: self._edit_complications(c, bool(on)))
        self.comparison_edit.committed.connect(
            lambda: self._edit("comparison", comparison=self.comparison_edit.toPlainText().strip())
        )
        self.impression_edit.committed.connect(
            lambda: self._edit("impression", impression=self.impression_edit.toPlainText().strip())
        )
        self.assessment_combo.currentIndexChanged.connect(
            lambda _i: self._edit(
                "BI-RADS category", assessment=self.assessment_combo.currentData()
            )
        )
        for box in self.recommendation_checks:
            box.toggled.connect(lambda _on: self._edit_recommendations())
        self.recommendation_edit.editingFinished.connect(
            lambda: self._edit(
                "recommendation text", recommendation_text=self.recommendation_edit.text().strip()
            )
        )
        self.free_text_edit.committed.connect(
            lambda: self._edit("free text", free_text=self.free_text_edit.toPlainText().strip())
        )
        self.addendum_edit.committed.connect(self._commit_addendum)

    def _report(self) -> ClinicalReport | None:
        study = self._study
        return self._workspace.report(study) if study is not None else None

    def _commit(self, field: str, report: ClinicalReport) -> None:
        """Put the report in the workspace as one undoable edit; show what it holds."""
        study = self._study
        if study is None:
            return
        if report == self._workspace.report(study) or not self._workspace.set_report(
            study, report, f"Edit report: {field}"
        ):
            self.refresh()  # unchanged or refused (read only): show the report again

    def _edit(self, field: str, **changes: object) -> None:
        report = self._report()
        if report is not None:
            self._commit(field, replace(report, **changes))  # type: ignore[arg-type]

    def _edit_technique(self, field: str, **changes: object) -> None:
        report = self._report()
        if report is not None:
            technique = replace(report.technique, **changes)  # type: ignore[arg-type]
            self._commit(field, replace(report, technique=technique))

    def _edit_views(self) -> None:
        views = tuple(
            v for v, box in zip(VIEW_NAMES, self.view_checks, strict=True) if box.isChecked()
        )
        self._edit_technique("views", views=views)

    def _edit_complications(self, complication: Complication, on: bool) -> None:
        report = self._report()
        if report is None:
            return
        now = [c for c in report.technique.complications if c is not complication]
        if on:
            # "None" and a complication exclude each other (Technique refuses both).
            none = Complication.NO_COMPLICATIONS
            now = [c for c in now if (c is none) == (complication is none)]
            now.append(complication)
        ordered = tuple(c for c in COMPLICATION_NAMES if c in now)
        self._edit_technique("complications", complications=ordered)

    def _edit_recommendations(self) -> None:
        chosen = tuple(
            r
            for r, box in zip(RECOMMENDATION_NAMES, self.recommendation_checks, strict=True)
            if box.isChecked()
        )
        self._edit("recommendations", recommendations=chosen)

    def _commit_wording(self, finding: Finding, text: str) -> None:
        """Put a finding's wording (its note) in place: one undoable edit of the finding."""
        current = next(
            (
                f
                for f in self._workspace.all_findings()
                if f[1].tracking_uid == finding.tracking_uid
            ),
            None,
        )
        if current is None or current[1].note == text.strip():
            return
        self._workspace.replace_finding(
            replace(current[1], note=text.strip()), f"Edit {finding.short_id} wording"
        )

    def _commit_unlocated(self, finding: Finding, text: str) -> None:
        report = self._report()
        if report is None:
            return
        others = tuple(u for u in report.unlocated if u.tracking_uid != finding.tracking_uid)
        reason = text.strip()
        mine = (UnlocatedFinding(finding.tracking_uid, reason),) if reason else ()
        self._commit(
            f"why {finding.short_id} is not located", replace(report, unlocated=others + mine)
        )

    def _commit_addendum(self) -> None:
        report = self._report()
        if report is None or report.addendum is None:
            return
        text = self.addendum_edit.toPlainText().strip()
        if not text:  # an addendum always says something: show what it says
            self.refresh()
            return
        self._commit("addendum", replace(report, addendum=replace(report.addendum, text=text)))

    def _locations(self) -> dict[str, FindingLocation]:
        study = self._study
        if study is None or not self._records:
            return {}
        return locate_document(self._workspace.snapshot(study), self._records)

    def orifice_from_trace(self) -> str:
        """Set the orifice from the duct trace's root ("From the duct trace").

        Returns
        -------
        str
            ``""`` when set; else why not (also shown beside the clock face).
        """
        study = self._study
        if study is None:
            return "no study"
        estimate = orifice_from_duct_trace(self._workspace.snapshot(study), self._records)
        if estimate.orifice is None:
            self.orifice_label.setText(estimate.problem)
            return estimate.problem
        self._edit_technique("orifice from the duct trace", orifice=estimate.orifice)
        return ""

    # --- reactions -------------------------------------------------------------------------

    def _on_changed(self, study: str) -> None:
        if study == self._study:
            self.refresh()
