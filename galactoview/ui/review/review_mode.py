"""SurgeonReview: the read-only surgeon's view of the located findings.

Per breast, a frontal clock face and a side depth schematic
(:mod:`galactoview.ui.review.pictograms`)
place every finding that is marked on a CC and an ML (or MLO) with the nipple on both; a table
gives, for each finding, the cells of the printed table (:meth:`TableRow.cells
<galactoview.report.content.TableRow.cells>`: side, clock hour, quadrant, cm from the nipple,
depth in cm and third, size, note), and a summary gives each study's report state (signed by
whom, or draft), impression, BI-RADS category and recommendations. Clicking a row shows the
finding on its image. The content is the printed report's (:func:`review_content`: the report
built from the studies' documents, with their chest-wall lines, written reports and the
signature of their SR revision), so screen and paper always agree. Whenever the review is visible it
shows the current findings: it is recomputed when marks, nipples or chest-wall lines change
while it is shown, and when it becomes visible after changes made while it was hidden
(however it is shown: F9, or a restored dock layout).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QShowEvent
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

from galactoview.dicom.loading import ImageRecord
from galactoview.dicom.mammography import Laterality
from galactoview.report.content import (
    TABLE_COLUMNS,
    PictogramMark,
    ReportContent,
    StudyReport,
    TableRow,
    build_report,
)
from galactoview.ui.annotate.annotation_workspace import AnnotationWorkspace
from galactoview.ui.review.pictograms import outer_ring_mm, paint_clock_face, paint_depth_schematic

__all__ = [
    "REVIEW_COLUMNS",
    "SurgeonReview",
    "report_summary",
    "review_content",
    "review_row",
]

#: Columns of the findings table, in order: the printed table's.
REVIEW_COLUMNS = TABLE_COLUMNS

#: Width of the review table's Finding column (the reader can drag it wider).
FINDING_COLUMN_PX = 170


Painter = Callable[[QPainter, QRectF, Laterality, Sequence[PictogramMark], float], None]


def review_row(row: TableRow) -> tuple[str, ...]:
    """Return the table texts of a report row: the printed cells (:meth:`TableRow.cells`)."""
    return row.cells()


def report_summary(study: StudyReport) -> str:
    """Return the review's lines about a study's written report.

    The state (``"Signed — Electronically signed by …"`` or ``"DRAFT — not signed"``),
    the impression, the BI-RADS category with its meaning and the recommendations, as
    the PDF prints them.
    """
    written = study.written
    lines = [
        f"{study.header.patient_name} — {study.header.study_date}: {written.state}",
        f"Impression: {written.impression}",
        written.assessment,
        "Recommendation: " + "; ".join(written.recommendations),
    ]
    return "\n".join(lines)


def review_content(
    workspace: AnnotationWorkspace,
    records: Sequence[ImageRecord],
    report_date: dt.date,
    problems: list[str] | None = None,
) -> ReportContent:
    """Return the report of the studies being read: what the review shows and the PDF prints.

    Built from each study's document as it is now (marks, nipples, chest-wall lines and
    the written report) with the signature of its SR revision as the workspace holds it
    (:meth:`AnnotationWorkspace.signature`: the revision read or signed, unchanged), so the
    window's PDF export, the review and ``galactoview report`` agree row for row.

    Parameters
    ----------
    workspace
        The studies' documents.
    records
        The loaded images.
    report_date
        Printed on the report.
    problems
        When given, a study that cannot be reported is left out with a line saying why
        (see :func:`~galactoview.report.content.build_report`).

    Returns
    -------
    ReportContent
        One section per study with findings, newest study first.
    """
    documents = [workspace.snapshot(study) for study in workspace.studies()]
    signatures = {study: workspace.signature(study) for study in workspace.studies()}
    return build_report(records, documents, report_date, problems, signatures)


def _clock(
    painter: QPainter, rect: QRectF, side: Laterality, marks: Sequence[PictogramMark], outer: float
) -> None:
    paint_clock_face(painter, rect, side, marks, outer_mm=outer)


def _depth(
    painter: QPainter, rect: QRectF, side: Laterality, marks: Sequence[PictogramMark], _outer: float
) -> None:
    paint_depth_schematic(painter, rect, side, marks)


class _Pictogram(QWidget):
    """A widget that paints one pictogram of one breast."""

    def __init__(self, paint: Painter, laterality: Laterality, parent: QWidget) -> None:
        super().__init__(parent)
        self._paint = paint
        self.laterality = laterality
        self.marks: tuple[PictogramMark, ...] = ()
        self.outer_mm = 60.0
        self.setMinimumSize(220, 160)
        self.setAutoFillBackground(True)
        palette = self.palette()
        palette.setColor(self.backgroundRole(), QColor(250, 250, 250))
        self.setPalette(palette)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        """Paint the pictogram over the whole widget."""
        painter = QPainter(self)
        area = QRectF(self.rect()).adjusted(6, 6, -6, -6)
        self._paint(painter, area, self.laterality, self.marks, self.outer_mm)
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
        self._stale = True  # something changed since the last refresh
        self.note = QLabel(
            "Surgeon review (read-only). Clock faces as seen facing the patient (3 o'clock is "
            "lateral in the left breast, medial in the right). Positions are computed from "
            "the radiologist's marks and nipple landmarks; GalactoView is not a certified "
            "medical device.",
            self,
        )
        self.note.setWordWrap(True)
        self.summary = QLabel("", self)
        self.summary.setObjectName("ReportSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.pictograms: dict[Laterality, tuple[_Pictogram, _Pictogram]] = {}
        grid = QGridLayout()
        for column, laterality in enumerate((Laterality.RIGHT, Laterality.LEFT)):
            clock = _Pictogram(_clock, laterality, self)
            depth = _Pictogram(_depth, laterality, self)
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
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        # What the surgeon needs first — side, clock, quadrant, distance and depth — in
        # view without scrolling: the finding's name (long, with its impression) is shown
        # after them, capped and elided (whole in its tooltip). The PDF keeps its order.
        finding = REVIEW_COLUMNS.index("Finding")
        header.moveSection(header.visualIndex(finding), REVIEW_COLUMNS.index("Depth"))
        header.setSectionResizeMode(finding, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(finding, FINDING_COLUMN_PX)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.cellClicked.connect(self._on_clicked)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.summary)
        layout.addLayout(grid, 3)
        layout.addWidget(self.table, 2)
        workspace.changed.connect(lambda _study: self._refresh_if_shown())

    def set_images(self, records: Sequence[ImageRecord]) -> None:
        """Tell the review which images are loaded, then recompute."""
        self._records = tuple(records)
        self.refresh()

    def _refresh_if_shown(self) -> None:
        """Recompute after an edit while the review is on screen; else when it is shown."""
        self._stale = True
        if self.isVisible():
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        """Catch up with the changes made while the review was hidden."""
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def refresh(self) -> None:
        """Recompute the report content, then redraw the pictograms and the table."""
        self._stale = False
        rows: list[TableRow] = []
        marks: list[PictogramMark] = []
        self._rows = []
        # A study none of whose images is loaded is left out (the export reports it).
        content = review_content(self._workspace, self._records, dt.date.today(), [])
        self.summary.setText("\n\n".join(report_summary(study) for study in content.studies))
        for report in content.studies:
            annotations = self._workspace.annotations(report.header.study_instance_uid)
            rows.extend(report.rows)
            marks.extend(report.marks)
            self._rows.extend(
                (f.tracking_uid, f.regions[0].sop_instance_uid) for f in annotations.findings
            )
        self.table.setRowCount(len(rows))
        for number, row in enumerate(rows):
            for column, text in enumerate(review_row(row)):
                item = QTableWidgetItem(text)
                # The id of an accepted suggestion ("FD-1§") explains its marker.
                suggested = column == 0 and row.suggested
                item.setToolTip(f"{text}\n{row.suggested}" if suggested else text)
                self.table.setItem(number, column, item)
        outer = outer_ring_mm(marks)
        for laterality, widgets in self.pictograms.items():
            for widget in widgets:
                widget.marks = tuple(m for m in marks if m.laterality is laterality)
                widget.outer_mm = outer
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
