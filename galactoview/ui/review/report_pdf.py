"""The surgeon's report as a printable PDF (QPdfWriter + QPainter) and annotated key-image PNGs.

Page 1 of each study: header, a frontal clock-face pictogram per breast (as seen facing
the patient: the right breast on the viewer's left, 12 o'clock at the top, 3 o'clock on
the viewer's right; rings every 20 mm), a side schematic per breast with the depth thirds
from the nipple to the chest wall, and the findings table. Then a page per key image
(:mod:`galactoview.ui.review.key_images`: hung, marks burned in, orientation letters,
scale bar, labels with arrows) with a close-up of each of its findings under it. Every
page has a footer: observer, date, the SR's SOP Instance UID, page n/m and the disclaimer.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Sequence
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
    QPdfWriter,
    QPen,
)

from galactoview import files
from galactoview.annotations.model import FindingType
from galactoview.dicom.loading import ImageRecord
from galactoview.dicom.mammography import Laterality
from galactoview.report.content import (
    DISCLAIMER,
    KeyImage,
    PictogramMark,
    ReportContent,
    StudyReport,
    TableRow,
)
from galactoview.ui.annotate.finding_palette import FINDING_COLOURS
from galactoview.ui.review.key_images import KeyImageDrawing, key_image_drawings, marked_image
from galactoview.ui.review.pictograms import outer_ring_mm, paint_clock_face, paint_depth_schematic

__all__ = [
    "marked_image",
    "offscreen_application",
    "unrendered_line",
    "write_key_images_png",
    "write_report_pdf",
]

_DPI: Final = 300
_MARGIN_MM: Final = 12.0
_COLUMNS: Final = (
    ("ID", 0.06),
    ("Type", 0.12),
    ("Side", 0.05),
    ("Clock", 0.08),
    ("Quadrant", 0.08),
    ("Depth", 0.07),
    ("Distance from nipple", 0.10),
    ("Size", 0.13),
    ("Impression", 0.11),
    ("Note / why not located", 0.20),
)


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

    def text(self, rect: QRectF, text: str, flags: int = 0) -> None:
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
        self.painter.drawText(rect, int(align) | int(Qt.TextFlag.TextWordWrap) | flags, text)

    def text_height(self, width: float, text: str) -> float:
        metrics = QFontMetricsF(self.painter.font(), self.writer)
        rect = metrics.boundingRect(
            QRectF(0, 0, width, 1e6), int(Qt.TextFlag.TextWordWrap), text or " "
        )
        return rect.height()


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
    writer.setTitle("GalactoView surgeon's localization report")
    writer.setCreator("GalactoView")
    by_uid = {r.sop_instance_uid: r for r in records}
    painter = QPainter()
    if not painter.begin(writer):
        raise OSError(f"{out}: cannot write the PDF")
    pages = _Pages(writer, painter)
    plan: list[tuple[StudyReport | None, Callable[[], None]]] = []
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
    painter.end()
    return total


def _study_pages(
    pages: _Pages, study: StudyReport, records: dict[str, ImageRecord], unrendered: list[str]
) -> list[tuple[StudyReport | None, Callable[[], None]]]:
    """Plan the pages of one study: page 1, table overflow pages, key-image pages."""
    result: list[tuple[StudyReport | None, Callable[[], None]]] = []
    top_of_table = pages.px(172)
    chunks = _table_chunks(pages, study, top_of_table)
    first, rest = chunks[0], chunks[1:]

    def page_one() -> None:
        _header(pages, study)
        _pictograms(pages, study, pages.px(40))
        _table(pages, study, first, top_of_table, last=not rest)

    result.append((study, page_one))
    for index, chunk in enumerate(rest):
        result.append(
            (study, partial(_table, pages, study, chunk, pages.px(13), index == len(rest) - 1))
        )
    for key in study.key_images:
        if key.sop_instance_uid in records:
            draws = _key_pages(pages, key, records[key.sop_instance_uid], unrendered)
            result.extend((study, draw) for draw in draws)
    return result


def _header(pages: _Pages, study: StudyReport) -> None:
    h = study.header
    painter = pages.painter
    painter.setPen(QColor(0, 0, 0))
    pages.font(15, bold=True)
    pages.text(QRectF(0, 0, pages.width, pages.px(9)), "Ductography — lesion localization")
    pages.font(9)
    lines = (
        f"Patient: {h.patient_name}   ID: {h.patient_id}   Born: {h.birth_date}   Sex: {h.sex}",
        f"Study: {h.study_description}   Date: {h.study_date}   Accession: {h.accession_number}"
        f"   {h.institution}",
        f"Clock face as seen facing the patient; distances from the nipple; depth in thirds "
        f"of the nipple–chest wall distance. Reader: {study.observer}",
    )
    pages.text(QRectF(0, pages.px(10), pages.width, pages.px(20)), "\n".join(lines))
    pages.font(9, bold=True)
    painter.setPen(QColor(170, 0, 0))
    pages.text(QRectF(0, pages.px(27), pages.width, pages.px(6)), DISCLAIMER)
    painter.setPen(QColor(0, 0, 0))


def _pictograms(pages: _Pages, study: StudyReport, top: float) -> None:
    """Two clock faces (R on the viewer's left) at one scale, two side schematics below."""
    half = pages.width / 2.0
    outer = outer_ring_mm(study.marks)
    for index, side in enumerate((Laterality.RIGHT, Laterality.LEFT)):
        marks = [m for m in study.marks if m.laterality is side]
        left = half * index + pages.px(8)
        width = half - pages.px(16)
        paint_clock_face(
            pages.painter,
            QRectF(left, top, width, pages.px(88)),
            side,
            marks,
            outer_mm=outer,
            colour=_on_paper,
        )
        paint_depth_schematic(
            pages.painter,
            QRectF(left, top + pages.px(92), width, pages.px(30)),
            side,
            marks,
            colour=_on_paper,
        )


def _on_paper(mark: PictogramMark) -> QColor:
    """Return a mark's colour darkened for print."""
    return _colour(mark.colour_key, on_paper=True)


def _row_cells(row: TableRow) -> list[str]:
    note = row.note if row.located else f"{row.reason}. {row.note}".strip()
    return [
        row.short_id,
        row.finding_type,
        row.side,
        row.clock,
        row.quadrant,
        row.depth,
        row.distance,
        row.size,
        row.impression,
        note,
    ]


def _table_chunks(pages: _Pages, study: StudyReport, top: float) -> list[list[int]]:
    """Split the rows into pages (the first page starts at `top`)."""
    pages.font(7)
    chunks: list[list[int]] = [[]]
    y = top + pages.px(8)
    for index, row in enumerate(study.rows):
        height = _row_height(pages, _row_cells(row))
        if y + height > pages.footer_top - pages.px(25) and chunks[-1]:
            chunks.append([])
            y = pages.px(13)
        chunks[-1].append(index)
        y += height
    return chunks


def _row_height(pages: _Pages, cells: list[str]) -> float:
    heights = [
        pages.text_height(pages.width * share - pages.px(1.5), cell)
        for cell, (_, share) in zip(cells, _COLUMNS, strict=True)
    ]
    return max(heights) + pages.px(2)


def _table(pages: _Pages, study: StudyReport, rows: list[int], top: float, last: bool) -> None:
    painter = pages.painter
    pages.font(11, bold=True)
    painter.setPen(QColor(0, 0, 0))
    painter.drawText(QRectF(0, top - pages.px(7), pages.width, pages.px(6)), 0, "Findings")
    pages.font(7, bold=True)
    y = top
    x = 0.0
    painter.fillRect(QRectF(0, y, pages.width, pages.px(6)), QColor(225, 225, 225))
    for title, share in _COLUMNS:
        pages.text(
            QRectF(x + pages.px(0.5), y + pages.px(0.5), pages.width * share, pages.px(6)), title
        )
        x += pages.width * share
    y += pages.px(6)
    pages.font(7)
    for index in rows:
        cells = _row_cells(study.rows[index])
        height = _row_height(pages, cells)
        painter.setPen(QPen(QColor(170, 170, 170), 2))
        painter.drawLine(QPointF(0, y), QPointF(pages.width, y))
        painter.setPen(QColor(0, 0, 0))
        x = 0.0
        for column, (cell, (_, share)) in enumerate(zip(cells, _COLUMNS, strict=True)):
            pages.font(7, bold=column in (0, 2, 3, 6))
            pages.text(
                QRectF(
                    x + pages.px(0.5), y + pages.px(1), pages.width * share - pages.px(1.5), height
                ),
                cell,
            )
            x += pages.width * share
        y += height
    painter.setPen(QPen(QColor(170, 170, 170), 2))
    painter.drawLine(QPointF(0, y), QPointF(pages.width, y))
    if last:
        pages.font(7)
        painter.setPen(QColor(60, 60, 60))
        notes = list(study.notes) or ["No assumption beyond the stated calibration."]
        text = "Notes: " + "  •  ".join(notes)
        pages.text(
            QRectF(0, y + pages.px(2), pages.width, pages.footer_top - y - pages.px(3)), text
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
    pages.font(6.5)
    painter.setPen(QColor(40, 40, 40))
    observer = study.observer if study is not None else "—"
    uid = study.sr_sop_instance_uid if study is not None else "—"
    text = (
        f"Reader: {observer}   Report date: {content.report_date.isoformat()}   "
        f"SR SOP Instance UID: {uid}   Page {number}/{total}\n{content.disclaimer}"
    )
    pages.text(QRectF(0, pages.footer_top + pages.px(1), pages.width, pages.px(9)), text)
