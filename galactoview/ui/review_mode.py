"""SurgeonReview: the read-only surgeon's view of the located findings.

Per breast, a frontal clock face and a side depth schematic (:mod:`galactoview.ui.pictograms`)
place every finding that is marked on a CC and an ML (or MLO) with the nipple on both; a table
gives, for each finding, the side, clock hour, quadrant, depth third, distance from the nipple,
size, impression and note. Clicking a row shows the finding on its image. The locations come
from :func:`galactoview.location.study.locate_study` and are recomputed whenever marks or
nipple landmarks change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QRectF, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from galactoview.annotations.model import Finding, FindingType
from galactoview.dicom.loading import ImageRecord
from galactoview.dicom.mammography import Laterality
from galactoview.location.localize import FindingLocation
from galactoview.location.study import locate_study
from galactoview.ui.annotation_workspace import AnnotationWorkspace
from galactoview.ui.finding_palette import FINDING_COLOURS
from galactoview.ui.findings_dock import measurement_text
from galactoview.ui.pictograms import PictogramMark, paint_clock_face, paint_depth_schematic

__all__ = ["REVIEW_COLUMNS", "SurgeonReview", "review_row"]

#: Columns of the findings table, in order.
REVIEW_COLUMNS = (
    "Id",
    "Finding",
    "Side",
    "Clock",
    "Quadrant",
    "Depth",
    "From nipple",
    "Size",
    "Impression",
    "Note",
)

Painter = Callable[[QPainter, QRectF, Laterality, Sequence[PictogramMark]], None]


def review_row(finding: Finding, location: FindingLocation | None) -> tuple[str, ...]:
    """Return the table row of a finding, e.g. ``("FD-1", ..., "Left", "7 o'clock", ...)``.

    Values that cannot be known say why ("needs CC + ML", "uncalibrated").
    """
    kind = finding.other_text if finding.finding_type is FindingType.OTHER else finding.finding_type
    side = {Laterality.LEFT: "Left", Laterality.RIGHT: "Right"}.get(finding.laterality, "?")
    size, _tip = measurement_text(finding)
    impression = finding.impression.meaning if finding.impression is not None else ""
    breast = location.breast if location is not None else None
    if breast is None:
        located = ("needs CC + ML and nipples", "", "", "")
    else:
        clock = "subareolar" if breast.subareolar else f"{breast.clock_hour} o'clock"
        if breast.oblique_approximated:
            clock += " (MLO, approx.)"
        depth = breast.depth.value if breast.depth is not None else "unknown"
        distance = (
            f"{breast.distance_mm:.0f} mm" if breast.distance_mm is not None else "uncalibrated"
        )
        located = (clock, breast.quadrant.value, depth, distance)
    return (finding.short_id, str(kind), side, *located, size, impression, finding.note)


class _Pictogram(QWidget):
    """A widget that paints one pictogram of one breast."""

    def __init__(self, paint: Painter, laterality: Laterality, parent: QWidget) -> None:
        super().__init__(parent)
        self._paint = paint
        self.laterality = laterality
        self.marks: tuple[PictogramMark, ...] = ()
        self.setMinimumSize(220, 160)
        self.setAutoFillBackground(True)
        palette = self.palette()
        palette.setColor(self.backgroundRole(), QColor(250, 250, 250))
        self.setPalette(palette)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        """Paint the pictogram over the whole widget."""
        painter = QPainter(self)
        self._paint(
            painter, QRectF(self.rect()).adjusted(6, 6, -6, -6), self.laterality, self.marks
        )
        painter.end()


class SurgeonReview(QWidget):
    """Qt view of the located findings of the studies loaded (read-only).

    Signals
    -------
    finding_clicked(str, str)
        Tracking UID and the SOP Instance UID of its first region: show it.
    """

    finding_clicked = Signal(str, str)

    def __init__(self, workspace: AnnotationWorkspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SurgeonReview")
        self._workspace = workspace
        self._records: tuple[ImageRecord, ...] = ()
        self._rows: list[tuple[str, str]] = []
        self.locations: dict[str, FindingLocation] = {}
        self.note = QLabel(
            "Surgeon review (read-only). Clock faces as seen facing the patient (3 o'clock is "
            "lateral in the left breast, medial in the right). Positions are computed from "
            "the radiologist's marks and nipple landmarks; GalactoView is not a certified "
            "medical device.",
            self,
        )
        self.note.setWordWrap(True)
        self.pictograms: dict[Laterality, tuple[_Pictogram, _Pictogram]] = {}
        grid = QGridLayout()
        for column, laterality in enumerate((Laterality.RIGHT, Laterality.LEFT)):
            clock = _Pictogram(paint_clock_face, laterality, self)
            depth = _Pictogram(paint_depth_schematic, laterality, self)
            grid.addWidget(clock, 0, column)
            grid.addWidget(depth, 1, column)
            grid.setRowStretch(0, 3)
            grid.setRowStretch(1, 2)
            self.pictograms[laterality] = (clock, depth)
        self.table = QTableWidget(0, len(REVIEW_COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(REVIEW_COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.cellClicked.connect(self._on_clicked)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addLayout(grid, 3)
        layout.addWidget(self.table, 2)
        workspace.changed.connect(lambda _study: self.refresh())

    def set_images(self, records: Sequence[ImageRecord]) -> None:
        """Tell the review which images are loaded, then recompute."""
        self._records = tuple(records)
        self.refresh()

    def refresh(self) -> None:
        """Recompute every location and redraw the pictograms and the table."""
        self.locations = {}
        findings: list[Finding] = []
        for study in self._workspace.studies():
            annotations = self._workspace.annotations(study)
            self.locations.update(
                locate_study(annotations, self._records, self._workspace.chest_walls)
            )
            findings.extend(annotations.findings)
        marks: dict[Laterality, list[PictogramMark]] = {Laterality.LEFT: [], Laterality.RIGHT: []}
        self.table.setRowCount(len(findings))
        self._rows = []
        for row, finding in enumerate(findings):
            location = self.locations.get(finding.tracking_uid)
            for column, text in enumerate(review_row(finding, location)):
                self.table.setItem(row, column, QTableWidgetItem(text))
            self._rows.append((finding.tracking_uid, finding.regions[0].sop_instance_uid))
            breast = location.breast if location is not None else None
            if breast is not None and breast.laterality in marks:
                marks[breast.laterality].append(
                    PictogramMark(
                        finding.short_id,
                        FINDING_COLOURS[finding.finding_type],
                        breast.clock_angle_deg,
                        breast.distance_mm,
                        breast.depth_fraction,
                        breast.z_superior,
                    )
                )
        for laterality, widgets in self.pictograms.items():
            for widget in widgets:
                widget.marks = tuple(marks[laterality])
                widget.update()

    def rows(self) -> list[tuple[str, ...]]:
        """Return the table's texts, row by row (for tests and export)."""
        return [
            tuple(
                (item.text() if (item := self.table.item(row, column)) is not None else "")
                for column in range(self.table.columnCount())
            )
            for row in range(self.table.rowCount())
        ]

    def _on_clicked(self, row: int, _column: int) -> None:
        if 0 <= row < len(self._rows):
            self.finding_clicked.emit(*self._rows[row])
