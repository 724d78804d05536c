"""The galactography report as a printable PDF (QPdfWriter + QPainter) and key-image PNGs.

One document, two audiences, per study:

1. **The report** (page 1, flowing onto more pages when long): header (patient, ID,
   birth date, sex, study, date, accession, institution, reader), indication, technique
   (the cannulated duct's orifice on the nipple, contrast, views, complications),
   comparison, the findings table (:data:`~galactoview.report.content.TABLE_COLUMNS`:
   side, clock face, cm from the nipple, depth in cm and third, one short size with a
   calibration footnote, note), impression, the BI-RADS® category with its meaning,
   recommendations, free text, the addendum when there is one, and the signature block
   ("Electronically signed by …", PS3.3 C.17.2 Verifying Observer). An unsigned report
   has a light-grey diagonal **DRAFT — not signed** watermark on every page.
2. **The surgeon's page**: a frontal clock-face pictogram per breast (as seen facing the
   patient: the right breast on the viewer's left, 12 o'clock at the top, 3 o'clock on
   the viewer's right; rings every 20 mm) and a side schematic with the depth thirds from
   the nipple to the chest wall; the nipple diagram with the cannulated orifice; per
   image with traced ducts (up to two) a schematic of the traced segments, the nipple and
   the lesions as the image hangs (to scale, 1 cm bar); one line per lesion (where, and
   the duct path from the orifice: ``FD-1: 42 mm along the traced duct DS-1 → DS-3 on
   the L CC #3 (projected, not corrected for depth; …)``).
3. A page per key image (:mod:`galactoview.ui.review.key_images`: rendered with the
   file's default window, PS3.3 C.11.2, hung with the hanging flips, the marks — SCOORD,
   PS3.3 C.18.6.1.2 — burned in, orientation letters, scale bar, labels placed without
   collisions with arrows) with a close-up of each of its findings under it.

Every page has a footer: reader, date, the SR's SOP Instance UID, page n/m and the
disclaimer. ``galactoview report`` and the window's export call :func:`write_report_pdf`
with the same content (:func:`galactoview.report.content.build_report`).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Final

from PySide6.QtCore import QByteArray, QMarginsF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QImageWriter,
    QPageLayout,
    QPageSize,
    QPainter,
    QPainterPath,
    QPdfWriter,
    QPen,
    QTextLayout,
    QTextOption,
    QTransform,
)

from galactoview import files
from galactoview.annotations.model import FindingType
from galactoview.dicom.loading import ImageRecord
from galactoview.dicom.mammography import Laterality
from galactoview.reading.hanging import EdgeLetters, edge_letters, placement
from galactoview.report.content import (
    DISCLAIMER,
    TABLE_COLUMNS,
    KeyImage,
    PictogramMark,
    ReportContent,
    StudyReport,
)
from galactoview.ui.annotate.finding_palette import FINDING_COLOURS
from galactoview.ui.review.key_images import KeyImageDrawing, key_image_drawings, marked_image
from galactoview.ui.review.pictograms import (
    outer_ring_mm,
    paint_clock_face,
    paint_depth_schematic,
    paint_duct_schematic,
    paint_nipple_diagram,
)

__all__ = [
    "marked_image",
    "offscreen_application",
    "unrendered_line",
    "watermark_path",
    "write_key_images_png",
    "write_report_pdf",
]

_DPI: Final = 300
_MARGIN_MM: Final = 12.0
#: Shares of the page width of the findings table's columns (TABLE_COLUMNS, in order).
_SHARES: Final = (0.06, 0.18, 0.055, 0.085, 0.09, 0.085, 0.125, 0.125, 0.195)
_COLUMNS: Final = tuple(zip(TABLE_COLUMNS, _SHARES, strict=True))
#: Font sizes (points) of the report's text; the table never below 8 pt.
_BODY_PT: Final = 9.5
_TABLE_PT: Final = 8.0
_HEADING_PT: Final = 10.5


def offscreen_application() -> QGuiApplication:
    """Return the running Qt application, or a new offscreen one for a command-line caller.

    ``QT_QPA_PLATFORM=offscreen`` is set only when there is no application and no
    ``DISPLAY`` / ``WAYLAND_DISPLAY``. The caller keeps the application it gets alive
    while it paints (the CLI's ``report`` command is the composition root there; this
    module keeps no application of its own).

    Returns
    -------
    QGuiApplication
        The application.
    """
    existing = QGuiApplication.instance()
    if isinstance(existing, QGuiApplication):
        return existing
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    return QGuiApplication([])


def _require_application() -> None:
    """Refuse to paint without a Qt application (Qt would abort the process)."""
    if QGuiApplication.instance() is None:
        raise RuntimeError("a Qt application is needed: call offscreen_application() first")


def _colour(key: str, on_paper: bool) -> QColor:
    try:
        colour = QColor(FINDING_COLOURS[FindingType(key)])
    except ValueError:
        colour = QColor(220, 220, 220)
    return colour.darker(170) if on_paper else colour


# ------------------------------------------------------------------ key images


def write_key_images_png(
    content: ReportContent,
    records: Sequence[ImageRecord],
    folder: Path,
    problems: list[str] | None = None,
) -> list[Path]:
    """Write each key image with its marks burned in as a PNG.

    Parameters
    ----------
    content
        The report.
    records
        The loaded images.
    folder
        Created when missing; files are named ``<study n>_<view label>.png``.
    problems
        When given, one line is appended per key image that cannot be rendered
        (:func:`unrendered_line`); that image is skipped, the others are written.

    Returns
    -------
    list of Path
        The files written, one per key image that could be rendered.

    Raises
    ------
    OSError
        If a file cannot be written.
    """
    _require_application()
    folder.mkdir(parents=True, exist_ok=True)
    by_uid = {r.sop_instance_uid: r for r in records}
    written: list[Path] = []
    for number, study in enumerate(content.studies, start=1):
        for key in study.key_images:
            record = by_uid.get(key.sop_instance_uid)
            if record is None:
                continue
            name = re.sub(r"[^A-Za-z0-9]+", "_", key.view_label).strip("_") or "image"
            path = folder / f"{number:02d}_{name}.png"
            try:
                image = marked_image(key, record)
            except Exception as error:  # any render failure: that image is skipped
                if problems is not None:
                    problems.append(unrendered_line(record, error))
                continue
            with files.replacing(path) as temporary:
                writer = QImageWriter(str(temporary), QByteArray(b"PNG"))
                if not writer.write(image):
                    raise OSError(f"{path}: cannot write the PNG ({writer.errorString()})")
                del writer  # closes the file before it is put in place
            written.append(path)
    return written


# ------------------------------------------------------------------ PDF


class _Pages:
    """Page geometry and text helpers on a QPdfWriter."""

    def __init__(self, writer: QPdfWriter, painter: QPainter) -> None:
        self.writer = writer
        self.painter = painter
        self.width = float(writer.width())
        self.height = float(writer.height())
        self.footer_top = self.height - self.px(10)

    @staticmethod
    def px(mm: float) -> float:
        return mm / 25.4 * _DPI

    def font(self, points: float, bold: bool = False) -> QFont:
        font = QFont("DejaVu Sans")
        font.setPointSizeF(points)
        font.setBold(bold)
        self.painter.setFont(font)
        return font

    @staticmethod
    def _option(anywhere: bool = True) -> QTextOption:
        """Wrap at word boundaries, and (``anywhere``) in a word wider than the line."""
        option = QTextOption(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        option.setWrapMode(
            QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere
            if anywhere
            else QTextOption.WrapMode.WordWrap
        )
        return option

    def text(self, rect: QRectF, text: str, *, anywhere: bool = True) -> None:
        """Draw ``text`` in ``rect``, wrapped (long words broken unless not ``anywhere``)."""
        self.painter.drawText(rect, text, self._option(anywhere))

    def text_height(self, width: float, text: str) -> float:
        """Return the height of ``text`` wrapped as :meth:`text` wraps it to ``width``."""
        font = self.painter.font()
        leading = QFontMetricsF(font, self.writer).leading()
        height = 0.0
        lines = 0
        for paragraph in (text or " ").split("\n"):
            layout = QTextLayout(paragraph or " ", font, self.writer)
            layout.setTextOption(self._option())
            layout.beginLayout()
            while True:
                line = layout.createLine()
                if not line.isValid():
                    break
                line.setLineWidth(width)
                height += line.height()
                lines += 1
            layout.endLayout()
        return height + max(0, lines - 1) * leading


def unrendered_line(record: ImageRecord, error: BaseException) -> str:
    """Return the problem line of a key image that cannot be rendered in the report.

    ``path: cannot be rendered in the report: why`` (``path [member]`` for a member of
    an archive), the reason being the one printed on the key-image page.
    """
    return f"{record.name}: cannot be rendered in the report: {_reason(error)}"


def _reason(error: BaseException) -> str:
    """One line saying why an image cannot be rendered."""
    lines = str(error).strip().splitlines()
    return (lines[0] if lines else "") or type(error).__name__


def write_report_pdf(
    content: ReportContent,
    records: Sequence[ImageRecord],
    out: Path,
    problems: list[str] | None = None,
) -> int:
    """Write the report as an A4 portrait PDF at 300 dpi.

    Parameters
    ----------
    content
        The report (:func:`galactoview.report.content.build_report`).
    records
        The loaded images (for the key images).
    out
        The PDF file, replaced.
    problems
        When given, one line is appended per key image that cannot be rendered
        (:func:`unrendered_line`); its page then says so in place of the image.

    Returns
    -------
    int
        The number of pages.

    Raises
    ------
    OSError
        If the PDF cannot be written.
    """
    _require_application()
    out.parent.mkdir(parents=True, exist_ok=True)
    unrendered: list[str] = []
    with files.replacing(out) as temporary:
        total = _paint_pdf(content, records, temporary, unrendered)
    if problems is not None:
        problems.extend(unrendered)
    return total


def _paint_pdf(
    content: ReportContent, records: Sequence[ImageRecord], out: Path, unrendered: list[str]
) -> int:
    """Paint the report into the PDF file ``out``; return the number of pages.

    The writer and painter are local, so the file is closed when this returns.
    """
    writer = QPdfWriter(str(out))
    writer.setResolution(_DPI)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageOrientation(QPageLayout.Orientation.Portrait)
    writer.setPageMargins(QMarginsF(_MARGIN_MM, _MARGIN_MM, _MARGIN_MM, _MARGIN_MM))
    writer.setTitle("GalactoView galactography report")
    writer.setCreator("GalactoView")
    by_uid = {r.sop_instance_uid: r for r in records}
    painter = QPainter()
    if not painter.begin(writer):
        raise OSError(f"{out}: cannot write the PDF")
    pages = _Pages(writer, painter)
    plan: Plan = []
    for section in content.studies:
        plan.extend(_study_pages(pages, section, by_uid, unrendered))
    if not plan:
        plan.append((None, lambda: None))
    total = len(plan)
    for number, (study, draw) in enumerate(plan, start=1):
        if number > 1:
            writer.newPage()
        draw()
        _footer(pages, content, study, number, total)
        if study is not None and study.written.watermark:
            _watermark(pages, study.written.watermark)
    painter.end()
    return total


Plan = list[tuple[StudyReport | None, Callable[[], None]]]


def _study_pages(
    pages: _Pages, study: StudyReport, records: dict[str, ImageRecord], unrendered: list[str]
) -> Plan:
    """Plan the pages of one study: the report, the surgeon's page, the key-image pages."""
    result: Plan = [(study, draw) for draw in _report_pages(pages, study)]
    result.append((study, partial(_surgeon_page, pages, study, records)))
    for key in study.key_images:
        if key.sop_instance_uid in records:
            draws = _key_pages(pages, key, records[key.sop_instance_uid], unrendered)
            result.extend((study, draw) for draw in draws)
    return result


# ------------------------------------------------------------------ page 1: the report


@dataclass(frozen=True, slots=True)
class _Block:
    """A piece of the report's flow: its height and how to draw it at a given top.

    ``keep_with_next`` keeps a heading on the page of what follows; ``header`` (a table
    row's) is drawn first when the block starts a page.
    """

    height: float
    draw: Callable[[float], None]
    keep_with_next: bool = False
    header: _Block | None = None


def _paginate(
    blocks: Sequence[_Block], first_top: float, top: float, bottom: float
) -> list[list[tuple[float, Callable[[float], None]]]]:
    """Lay the blocks out top to bottom, starting a new page where one does not fit."""
    laid: list[list[tuple[float, Callable[[float], None]]]] = [[]]
    y = first_top
    for index, block in enumerate(blocks):
        need = block.height
        if block.keep_with_next and index + 1 < len(blocks):
            need += blocks[index + 1].height
        if y + need > bottom and laid[-1]:
            laid.append([])
            y = top
            if block.header is not None:
                laid[-1].append((y, block.header.draw))
                y += block.header.height
        laid[-1].append((y, block.draw))
        y += block.height
    return laid


def _measure(pages: _Pages, points: float, bold: bool, width: float, text: str) -> float:
    pages.font(points, bold)
    return pages.text_height(width, text)


def _paragraph(
    pages: _Pages,
    text: str,
    *,
    points: float = _BODY_PT,
    bold: bool = False,
    colour: QColor | None = None,
    indent: float = 0.0,
    after: float = 1.2,
) -> _Block:
    """Return a wrapped paragraph over the page's width (less ``indent``), ``after`` mm below."""
    width = pages.width - indent
    height = _measure(pages, points, bold, width, text)
    ink = colour or QColor(0, 0, 0)

    def draw(y: float) -> None:
        pages.font(points, bold)
        pages.painter.setPen(ink)
        pages.text(QRectF(indent, y, width, height + pages.px(1)), text)

    return _Block(height + pages.px(after), draw)


def _heading(pages: _Pages, text: str) -> _Block:
    """Return a section heading, kept with what follows."""
    height = _measure(pages, _HEADING_PT, True, pages.width, text)
    before = pages.px(2.2)

    def draw(y: float) -> None:
        pages.font(_HEADING_PT, bold=True)
        pages.painter.setPen(QColor(20, 40, 90))
        pages.text(QRectF(0, y + before, pages.width, height + pages.px(1)), text)
        pages.painter.setPen(QPen(QColor(170, 180, 200), 2))
        line = y + before + height + pages.px(0.3)
        pages.painter.drawLine(QPointF(0, line), QPointF(pages.width, line))

    return _Block(before + height + pages.px(1.5), draw, keep_with_next=True)


def _report_header(pages: _Pages, study: StudyReport) -> _Block:
    """Title, patient and study identification, reader and the disclaimer."""
    h = study.header
    lines = [
        f"Patient: {h.patient_name or '—'}    ID: {h.patient_id or '—'}    "
        f"Born: {h.birth_date or '—'}    Sex: {h.sex or '—'}",
        f"Study: {h.study_description or '—'}    Date: {h.study_date or '—'}    "
        f"Accession: {h.accession_number or '—'}",
        f"Institution: {h.institution or '—'}    Reader: {study.observer}",
    ]
    text = "\n".join(lines)
    amended = study.written.amended
    title_height = pages.px(9)
    if amended:  # said at the top: the report below carries an addendum
        title_height += _measure(pages, 10.5, True, pages.width, amended) + pages.px(1)
    body = _measure(pages, _BODY_PT, False, pages.width, text)

    def draw(y: float) -> None:
        painter = pages.painter
        painter.setPen(QColor(0, 0, 0))
        pages.font(15, bold=True)
        pages.text(QRectF(0, y, pages.width, title_height), "Galactography (ductography) report")
        if amended:
            pages.font(10.5, bold=True)
            painter.setPen(QColor(20, 40, 90) if study.written.signed else QColor(150, 0, 0))
            pages.text(QRectF(0, y + pages.px(8), pages.width, title_height), amended)
            painter.setPen(QColor(0, 0, 0))
        pages.font(_BODY_PT)
        pages.text(QRectF(0, y + title_height, pages.width, body + pages.px(1)), text)
        pages.font(8.5, bold=True)
        painter.setPen(QColor(170, 0, 0))
        pages.text(
            QRectF(0, y + title_height + body + pages.px(0.8), pages.width, pages.px(5)),
            DISCLAIMER,
        )

    return _Block(title_height + body + pages.px(6.5), draw)


def _cell_bold(column: int) -> bool:
    """Return whether a column is bold (ID, clock, distance, depth: what a surgeon seeks)."""
    return column in (0, 3, 5, 6)


def _table_header(pages: _Pages) -> _Block:
    width = [pages.width * share - pages.px(1.5) for _, share in _COLUMNS]
    height = max(
        _measure(pages, _TABLE_PT, True, w, title)
        for (title, _), w in zip(_COLUMNS, width, strict=True)
    ) + pages.px(1.4)

    def draw(y: float) -> None:
        pages.painter.fillRect(QRectF(0, y, pages.width, height), QColor(222, 226, 234))
        pages.painter.setPen(QColor(0, 0, 0))
        x = 0.0
        for (title, share), w in zip(_COLUMNS, width, strict=True):
            pages.font(_TABLE_PT, bold=True)
            pages.text(QRectF(x + pages.px(0.6), y + pages.px(0.7), w, height), title)
            x += pages.width * share

    return _Block(height, draw, keep_with_next=True)


def _table_row(pages: _Pages, cells: Sequence[str], shaded: bool, header: _Block) -> _Block:
    widths = [pages.width * share - pages.px(1.5) for _, share in _COLUMNS]
    height = max(
        _measure(pages, _TABLE_PT, _cell_bold(column), w, cell)
        for column, (cell, w) in enumerate(zip(cells, widths, strict=True))
    ) + pages.px(1.8)

    def draw(y: float) -> None:
        painter = pages.painter
        if shaded:
            painter.fillRect(QRectF(0, y, pages.width, height), QColor(246, 247, 250))
        painter.setPen(QPen(QColor(170, 170, 170), 2))
        painter.drawLine(QPointF(0, y + height), QPointF(pages.width, y + height))
        painter.setPen(QColor(0, 0, 0))
        x = 0.0
        for column, (cell, (_, share)) in enumerate(zip(cells, _COLUMNS, strict=True)):
            pages.font(_TABLE_PT, bold=_cell_bold(column))
            pages.text(QRectF(x + pages.px(0.6), y + pages.px(0.9), widths[column], height), cell)
            x += pages.width * share

    return _Block(height, draw, header=header)


def _signature(pages: _Pages, study: StudyReport) -> _Block:
    """Return the signature block, or the statement that the report is a draft."""
    written = study.written
    if written.signature is not None:
        text = written.signature.text
        detail = f"SR revision {study.sr_sop_instance_uid} (Verification Flag VERIFIED)"
        ink = QColor(0, 0, 0)
    elif written.invalid_signature:
        text = written.invalid_signature
        detail = "Not valid for clinical use until the reader signs it."
        ink = QColor(150, 0, 0)
    else:
        text = "NOT SIGNED — this report is a DRAFT"
        detail = "Not valid for clinical use until the reader signs it."
        ink = QColor(150, 0, 0)
    height = _measure(pages, 10.5, True, pages.width, text)
    small = _measure(pages, 8.5, False, pages.width, detail)
    before = pages.px(4)

    def draw(y: float) -> None:
        painter = pages.painter
        painter.setPen(QPen(QColor(60, 60, 60), 3))
        painter.drawLine(QPointF(0, y + before), QPointF(pages.width * 0.6, y + before))
        pages.font(10.5, bold=True)
        painter.setPen(ink)
        pages.text(QRectF(0, y + before + pages.px(1.5), pages.width, height + pages.px(1)), text)
        pages.font(8.5)
        painter.setPen(QColor(60, 60, 60))
        pages.text(
            QRectF(0, y + before + pages.px(2) + height, pages.width, small + pages.px(1)),
            detail,
        )

    return _Block(before + pages.px(3) + height + small, draw)


def _report_blocks(pages: _Pages, study: StudyReport) -> list[_Block]:
    """Return the report's flow: header, sections, findings table, signature."""
    written = study.written
    blocks = [_report_header(pages, study)]
    blocks += [_heading(pages, "Indication"), _paragraph(pages, written.indication)]
    blocks.append(_heading(pages, "Technique"))
    blocks += [_paragraph(pages, line, after=0.4) for line in written.technique]
    blocks += [
        _heading(pages, "Comparison"),
        _paragraph(pages, written.comparison),
    ]
    blocks.append(_heading(pages, "Findings"))
    if study.rows:
        header = _table_header(pages)
        blocks.append(header)
        blocks += [
            _table_row(pages, row.cells(), index % 2 == 1, header)
            for index, row in enumerate(study.rows)
        ]
        blocks.append(
            _paragraph(
                pages,
                "Clock face as seen facing the patient; distance from the nipple in 3-D; "
                "depth = distance behind the nipple along the nipple–chest wall axis, and "
                "its third.",
                points=_TABLE_PT,
                colour=QColor(70, 70, 70),
                after=0.6,
            )
        )
    else:
        blocks.append(_paragraph(pages, "No finding marked."))
    for note in study.footnotes:
        blocks.append(_paragraph(pages, f"{note.marker} {note.text}", points=_TABLE_PT, after=0.4))
    if study.notes:
        blocks.append(
            _paragraph(
                pages,
                "Notes: " + "  •  ".join(study.notes),
                points=_TABLE_PT,
                colour=QColor(70, 70, 70),
            )
        )
    blocks += [_heading(pages, "Impression"), _paragraph(pages, written.impression)]
    blocks += [
        _heading(pages, "Assessment"),
        _paragraph(pages, written.assessment, bold=True, points=10.5),
    ]
    recommendations = written.recommendations
    blocks.append(_heading(pages, "Recommendation" + ("s" if len(recommendations) > 1 else "")))
    blocks += [_paragraph(pages, f"• {line}", after=0.4) for line in recommendations]
    if written.free_text:
        blocks += [_heading(pages, "Additional remarks"), _paragraph(pages, written.free_text)]
    if written.addendum is not None:
        blocks += [
            _heading(pages, written.addendum.heading),
            _paragraph(pages, written.addendum.text),
        ]
    blocks.append(_signature(pages, study))
    return blocks


def _report_pages(pages: _Pages, study: StudyReport) -> list[Callable[[], None]]:
    """Return a drawing function per page of the written report."""
    laid = _paginate(_report_blocks(pages, study), 0.0, 0.0, pages.footer_top - pages.px(2))

    def draw(placed: list[tuple[float, Callable[[float], None]]]) -> None:
        for y, block in placed:
            block(y)

    return [partial(draw, placed) for placed in laid]


# ------------------------------------------------------------------ the surgeon's page


def _study_side(study: StudyReport) -> Laterality:
    """Return the breast of the study's findings (the first located one), else unknown."""
    if study.marks:
        return study.marks[0].laterality
    sides = {"Left": Laterality.LEFT, "Right": Laterality.RIGHT}
    return next((sides[r.side] for r in study.rows if r.side in sides), Laterality.UNKNOWN)


def _lesion_lines(study: StudyReport) -> list[str]:
    """One line per finding (where it is), then its duct path when one is traced."""
    paths = {path.short_id: path for path in study.duct_paths}
    lines: list[str] = []
    for row in study.rows:
        what = row.finding_type + (f" — {row.impression}" if row.impression else "")
        if row.located:
            wall = f", {row.to_chest_wall} in front of the chest wall" if row.to_chest_wall else ""
            lines.append(
                f"{row.label} {what}: {row.side} breast, {row.clock}, {row.quadrant}, "
                f"{row.distance} from the nipple, depth {row.depth}{wall}, size {row.size}"
            )
        else:
            lines.append(f"{row.label} {what}: {row.reason}")
        path = paths.get(row.short_id)
        if path is not None:
            lines.append(f"      duct: {path.describe(row.distance if row.located else '')}")
    return lines


def _surgeon_page(pages: _Pages, study: StudyReport, records: dict[str, ImageRecord]) -> None:
    """Pictograms, nipple diagram, duct schematics and one line per lesion."""
    painter = pages.painter
    h = study.header
    painter.setPen(QColor(0, 0, 0))
    pages.font(13, bold=True)
    pages.text(QRectF(0, 0, pages.width, pages.px(7)), "For the surgeon — where the lesions are")
    pages.font(_BODY_PT)
    pages.text(
        QRectF(0, pages.px(7), pages.width, pages.px(5)),
        f"{h.patient_name}    ID {h.patient_id}    Study {h.study_date}    "
        f"Accession {h.accession_number}",
    )
    _pictograms(pages, study, pages.px(14), pages.px(80), pages.px(26))
    row_top, row_height = pages.px(125), pages.px(64)
    written = study.written
    nipple_width = pages.px(56)
    paint_nipple_diagram(
        painter,
        QRectF(0, row_top, nipple_width, row_height),
        _study_side(study),
        written.orifice_hour,
        written.orifice,
    )
    views = study.duct_views[:2]  # drawn as the images hang, to their scale
    left = nipple_width + pages.px(4)
    if views:
        width = (pages.width - left) / len(views) - pages.px(3)
        for index, view in enumerate(views):
            record = records.get(view.sop_instance_uid)
            flip = (False, False, 0.0, 0.0)
            spacing: float | None = None
            letters: EdgeLetters | None = None
            if record is not None:
                hanging, _ = placement(record)
                letters = edge_letters(record.patient_orientation, hanging)
                flip = (
                    hanging.horizontal,
                    hanging.vertical,
                    float(record.columns),
                    float(record.rows),
                )
                calibration = record.calibration
                if calibration is not None and calibration.is_known:
                    spacing = calibration.row_spacing_mm
            paint_duct_schematic(
                painter,
                QRectF(left + index * (width + pages.px(3)), row_top, width, row_height),
                view,
                flip=flip,
                mm_per_pixel=spacing,
                colour=lambda key: _colour(key, on_paper=True),
                letters=letters,
            )
    else:
        pages.font(_BODY_PT)
        painter.setPen(QColor(90, 90, 90))
        pages.text(
            QRectF(left, row_top + pages.px(20), pages.width - left, pages.px(20)),
            "No duct traced: the path from the orifice to the lesions is not drawn (trace "
            "the opacified duct with the duct tool to show it here).",
        )
    top = row_top + row_height + pages.px(3)
    pages.font(_HEADING_PT, bold=True)
    painter.setPen(QColor(20, 40, 90))
    pages.text(QRectF(0, top, pages.width, pages.px(6)), "Lesions")
    lines = _lesion_lines(study) + [f"{n.marker} {n.text}" for n in study.footnotes]
    pages.font(_BODY_PT)
    painter.setPen(QColor(0, 0, 0))
    pages.text(
        QRectF(0, top + pages.px(6), pages.width, pages.footer_top - top - pages.px(7)),
        "\n".join(lines),
    )


def _pictograms(
    pages: _Pages, study: StudyReport, top: float, clock_height: float, depth_height: float
) -> None:
    """Two clock faces (R on the viewer's left) at one scale, two side schematics below."""
    half = pages.width / 2.0
    outer = outer_ring_mm(study.marks)
    for index, side in enumerate((Laterality.RIGHT, Laterality.LEFT)):
        marks = [m for m in study.marks if m.laterality is side]
        left = half * index + pages.px(8)
        width = half - pages.px(16)
        paint_clock_face(
            pages.painter,
            QRectF(left, top, width, clock_height),
            side,
            marks,
            outer_mm=outer,
            colour=_on_paper,
        )
        paint_depth_schematic(
            pages.painter,
            QRectF(left, top + clock_height + pages.px(3), width, depth_height),
            side,
            marks,
            colour=_on_paper,
        )


def _on_paper(mark: PictogramMark) -> QColor:
    """Return a mark's colour darkened for print."""
    return _colour(mark.colour_key, on_paper=True)


#: Share of the page's width and height the diagonal watermark may span.
_WATERMARK_SPAN: Final = 0.86


def watermark_path(text: str, width: float, height: float) -> QPainterPath:
    """Return the diagonal watermark of a ``width`` × ``height`` page as a filled outline.

    The text is turned into glyph outlines (QPainterPath.addText), so it is no text a
    PDF reader extracts (the footer says the same words as text), rotated along the
    page's rising diagonal and scaled so that its bounding box stays inside the page.

    Parameters
    ----------
    text
        ``"DRAFT — not signed"`` and the like.
    width, height
        The page's printable area, in its coordinates (origin top left).

    Returns
    -------
    QPainterPath
        The outline in page coordinates, centred on the page.
    """
    font = QFont("DejaVu Sans")
    font.setPointSizeF(48)
    font.setBold(True)
    glyphs = QPainterPath()
    glyphs.addText(0.0, 0.0, font, text)
    box = glyphs.boundingRect()
    angle = math.atan2(height, width)
    cos, sin = math.cos(angle), math.sin(angle)
    scale = _WATERMARK_SPAN * min(
        width / (box.width() * cos + box.height() * sin),
        height / (box.width() * sin + box.height() * cos),
    )
    transform = QTransform()
    transform.translate(width / 2.0, height / 2.0)
    transform.rotate(-math.degrees(angle))
    transform.scale(scale, scale)
    transform.translate(-box.center().x(), -box.center().y())
    return transform.map(glyphs)


def _watermark(pages: _Pages, text: str) -> None:
    """Fill a light-grey diagonal watermark across the page (an unsigned report)."""
    pages.painter.fillPath(
        watermark_path(text, pages.width, pages.height), QColor(150, 150, 150, 85)
    )


#: Close-ups under the key image on its page, and on each continuation page.
_CLOSE_UPS_FIRST: Final = 6
_CLOSE_UPS_MORE: Final = 9
_CLOSE_UP_COLUMNS: Final = 3


def _key_pages(
    pages: _Pages, key: KeyImage, record: ImageRecord, unrendered: list[str]
) -> list[Callable[[], None]]:
    """Plan the pages of one key image: the image with close-ups under it, then the rest.

    The key image and its close-ups are printed at one scale (a close-up pixel is as
    big on paper as a key-image pixel), so a close-up's stated "×3" is its enlargement
    relative to the key image above it. The image is rendered once, when the first of
    its pages is painted.
    """
    count = len(dict.fromkeys(m.short_id for m in key.marks))
    more = max(0, count - _CLOSE_UPS_FIRST)
    rendered: list[tuple[KeyImageDrawing, tuple[KeyImageDrawing, ...]] | str] = []

    def drawings() -> tuple[KeyImageDrawing, tuple[KeyImageDrawing, ...]] | str:
        if not rendered:
            try:
                rendered.append(key_image_drawings(key, record))
            except Exception as error:  # any render failure is printed on the page, and said
                unrendered.append(unrendered_line(record, error))
                rendered.append(_reason(error))
        return rendered[0]

    result: list[Callable[[], None]] = [partial(_key_page, pages, key, drawings, 0)]
    for start in range(_CLOSE_UPS_FIRST, _CLOSE_UPS_FIRST + more, _CLOSE_UPS_MORE):
        result.append(partial(_key_page, pages, key, drawings, start))
    return result


def _print_scale(pages: _Pages, full: KeyImageDrawing, close_up_rows: int) -> float:
    """Return page pixels per key-image pixel: the image and its close-up rows fit the page."""
    gap, caption = pages.px(3), pages.px(5)
    width = full.image.width()
    height = full.image.height()
    side = max(width, height) / 3.0
    room = pages.footer_top - pages.px(9) - close_up_rows * (gap + caption) - gap
    return min(
        pages.width / width,
        room / (height + close_up_rows * side),
        (pages.width - 2 * gap) / (_CLOSE_UP_COLUMNS * side),
    )


def _key_page(
    pages: _Pages,
    key: KeyImage,
    drawings: Callable[[], tuple[KeyImageDrawing, tuple[KeyImageDrawing, ...]] | str],
    start: int,
) -> None:
    """Paint a key image and its first close-ups (`start` 0), or later close-ups."""
    painter = pages.painter
    pages.font(10, bold=True)
    painter.setPen(QColor(0, 0, 0))
    ids = ", ".join(dict.fromkeys(m.short_id for m in key.marks))
    title = f"Key image {key.view_label} (as hung) — {ids}"
    if start:
        title = f"Key image {key.view_label} — close-ups (continued)"
    painter.drawText(QRectF(0, 0, pages.width, pages.px(6)), 0, title)
    area_top = pages.px(7)
    result = drawings()
    if isinstance(result, str):
        pages.font(8)
        pages.text(
            QRectF(0, area_top, pages.width, pages.px(20)),
            f"cannot render this image: {result}",
        )
        return
    full, close_ups = result
    first_rows = math.ceil(min(len(close_ups), _CLOSE_UPS_FIRST) / _CLOSE_UP_COLUMNS)
    scale = _print_scale(pages, full, first_rows)
    gap, caption = pages.px(3), pages.px(5)
    y = area_top
    if start == 0:
        width, height = full.image.width() * scale, full.image.height() * scale
        target = QRectF((pages.width - width) / 2.0, y, width, height)
        painter.drawImage(target, full.image)
        y += height + pages.px(1)
        unplaced = [k for k in full.labels.unplaced if not k.startswith("nipple")]
        pages.font(7)
        painter.setPen(QColor(60, 60, 60))
        note = (
            "Letters: patient directions at the edges. Close-ups below at the stated "
            "enlargement of this image, each with its own scale bar."
        )
        if unplaced:
            note += f" No room on the image for the label of {', '.join(unplaced)}."
        pages.text(QRectF(0, y, pages.width, pages.px(4)), note)
        y += pages.px(4)
        shown = close_ups[:_CLOSE_UPS_FIRST]
    else:
        shown = close_ups[start : start + _CLOSE_UPS_MORE]
    cell = (pages.width - (_CLOSE_UP_COLUMNS - 1) * gap) / _CLOSE_UP_COLUMNS
    row_height = 0.0
    for index, close_up in enumerate(shown):
        column = index % _CLOSE_UP_COLUMNS
        if column == 0 and index:
            y += row_height + caption + gap
        width = close_up.image.width() * scale
        height = close_up.image.height() * scale
        row_height = max(row_height if column else 0.0, height)
        left = column * (cell + gap) + (cell - width) / 2.0
        painter.drawImage(QRectF(left, y + gap, width, height), close_up.image)
        pages.font(7, bold=True)
        painter.setPen(QColor(0, 0, 0))
        bar = close_up.scale_bar
        said = f"{bar.text} bar" if bar.length_mm is not None else bar.text
        painter.drawText(
            QRectF(column * (cell + gap), y + gap + height + pages.px(0.5), cell, caption),
            int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop),
            f"{close_up.short_id}: close-up ×{close_up.magnification} ({said})",
        )


def _footer(
    pages: _Pages, content: ReportContent, study: StudyReport | None, number: int, total: int
) -> None:
    painter = pages.painter
    painter.setPen(QPen(QColor(120, 120, 120), 2))
    painter.drawLine(QPointF(0, pages.footer_top), QPointF(pages.width, pages.footer_top))
    pages.font(7.5)
    painter.setPen(QColor(40, 40, 40))
    observer = study.observer if study is not None else "—"
    uid = study.sr_sop_instance_uid if study is not None else "—"
    text = (
        f"Page {number}/{total}   Reader: {observer}   Report date: "
        f"{content.report_date.isoformat()}   SR: {uid}\n{content.disclaimer}"
    )
    pages.text(
        QRectF(0, pages.footer_top + pages.px(1), pages.width, pages.px(9)), text, anywhere=False
    )
    draft = study.written.footer_state if study is not None else ""
    if draft:  # said in words too: the diagonal watermark is a picture to a text reader
        # On the last line, right of the short disclaimer (the UID line above is long).
        lines = _footer_lines(pages, text)
        pages.font(7.5, bold=True)
        painter.setPen(QColor(150, 0, 0))
        pages.painter.drawText(
            QRectF(0, pages.footer_top + pages.px(1), pages.width, lines),
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom),
            draft,
        )


def _footer_lines(pages: _Pages, text: str) -> float:
    """Return the height of the footer's text as word-wrapped in it."""
    pages.font(7.5)
    metrics = QFontMetricsF(pages.painter.font(), pages.writer)
    return metrics.boundingRect(
        QRectF(0, 0, pages.width, 1e6), int(Qt.TextFlag.TextWordWrap), text
    ).height()
