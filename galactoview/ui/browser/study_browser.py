"""StudyBrowserDock: the patient's studies, series and image thumbnails.

The dock shows who and what is open (a header with the patient and the current
study) above a tree: Study (date · description · number of images) → Series
(number · description) → the images, each a thumbnail with its view, contrast
phase and Instance Number. The images hung in the viewports are marked (bold,
highlighted); clicking an image, or Enter on it, asks for it to be shown.

Thumbnails are rendered by :func:`~galactoview.imaging.thumbnails.render_thumbnail`
in worker *processes* (:class:`ThumbnailLoader`): the JPEG 2000 decoders hold the
GIL, so rendering in a thread would freeze the GUI. Results come back through a
Qt signal, delivered in the GUI thread (queued connection); the GUI never waits
for a decode. A placeholder shows while a thumbnail is on its way, a "broken
image" icon (with the error in the tooltip) when it cannot be made.
"""

from __future__ import annotations

import contextlib
import functools
import html
import multiprocessing
import os
import sys
import threading
import traceback
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.context import BaseContext
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPointF,
    QRectF,
    QRunnable,
    QSignalBlocker,
    QSize,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QIcon, QImage, QKeyEvent, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from galactoview.dicom.loading import ImageRecord, PixelDataError
from galactoview.dicom.mammography import ContrastPhase
from galactoview.dicom.person_name import format_person_name
from galactoview.imaging.thumbnails import (
    THUMBNAIL_SIZE,
    thumbnail_in_worker,
    thumbnail_key,
)

__all__ = [
    "ICON_SIZE",
    "RenderThumbnail",
    "StudyBrowserDock",
    "ThumbnailLoader",
    "format_dicom_date",
    "image_label",
    "series_label",
    "study_label",
]

#: Size of the thumbnail icons in the tree, in pixels.
ICON_SIZE: Final = 112

#: Number of thumbnail icons the dock keeps for images no longer listed.
_ICON_CACHE_SIZE: Final = 512

_INDEX_ROLE = Qt.ItemDataRole.UserRole

#: Renders a thumbnail: (record, max_size) -> uint8 (rows, columns); raises PixelDataError.
RenderThumbnail = Callable[[ImageRecord, int], NDArray[np.uint8]]

#: What a thumbnail request ends with: the pixels or the error.
ThumbnailOutcome = NDArray[np.uint8] | PixelDataError


# ------------------------------------------------------------------------ labels


def format_dicom_date(value: str) -> str:
    """Format a DICOM DA value (PS3.5 6.2, ``YYYYMMDD``) as ``YYYY-MM-DD``; others as given."""
    value = value.strip()
    if len(value) == 8 and value.isdigit():
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return value


def study_label(record: ImageRecord, image_count: int) -> str:
    """Return the label of a study row, e.g. ``"2026-03-12 · DUCTOGRAM · 5 images"``."""
    count = f"{image_count} image" + ("" if image_count == 1 else "s")
    parts = [format_dicom_date(record.study_date), record.study_description, count]
    return " · ".join(part for part in parts if part)


def series_label(record: ImageRecord) -> str:
    """Return the label of a series row, e.g. ``"Series 2 · L POST-CONTRAST"``.

    Series Number (0020,0011) is only unique within a study (PS3.3 C.7.3.1), so the
    Series Description (0008,103E) is part of the label.
    """
    number = f"Series {record.series_number}" if record.series_number is not None else "Series"
    return f"{number} · {record.series_description}" if record.series_description else number


def image_label(record: ImageRecord) -> str:
    """Return the two-line label of an image, e.g. ``"L CC"`` over ``"pre · #1"``.

    First line: the view (laterality, view, modifiers; PS3.3 C.8.11.7), else the file
    name. Second line: the contrast phase when known and the Instance Number
    (0020,0013).
    """
    first = record.view.label or record.path.name
    details = []
    if record.contrast_phase is not ContrastPhase.UNKNOWN:
        details.append(record.contrast_phase.value)
    if record.instance_number is not None:
        details.append(f"#{record.instance_number}")
    return f"{first}\n{' · '.join(details)}" if details else first


def _header_html(record: ImageRecord | None, study_count: int) -> str:
    """Rich text of the patient/study header for the image ``record``."""
    if record is None:
        return "<i>No images</i>"
    name = format_person_name(record.patient_name) or "(no name)"
    patient = [
        f"ID {record.patient_id}" if record.patient_id else "",
        f"born {format_dicom_date(record.patient_birth_date)}" if record.patient_birth_date else "",
        record.patient_sex,
    ]
    study = [
        format_dicom_date(record.study_date),
        record.study_description,
        f"Acc. {record.accession_number}" if record.accession_number else "",
    ]
    studies = f" ({study_count} studies)" if study_count > 1 else ""
    lines = [
        f"<b>{html.escape(name)}</b>",
        html.escape(" · ".join(part for part in patient if part)),
        "Study: " + html.escape(" · ".join(part for part in study if part)) + studies,
    ]
    return "<br>".join(line for line in lines if line)


# ------------------------------------------------------------------------ icons


def _pixmap_of(array: NDArray[np.uint8]) -> QPixmap:
    """Return a pixmap of an 8-bit grayscale (rows, columns) or RGB array (GUI thread only)."""
    pixels = np.ascontiguousarray(array, dtype=np.uint8)
    rows, columns = pixels.shape[:2]
    if pixels.ndim == 3:  # a colour image's thumbnail
        image = QImage(pixels.data, columns, rows, 3 * columns, QImage.Format.Format_RGB888)
    else:
        image = QImage(pixels.data, columns, rows, columns, QImage.Format.Format_Grayscale8)
    return QPixmap.fromImage(image.copy())  # copy: the QImage borrowed `pixels`


def _status_icon(broken: bool) -> QIcon:
    """Return the placeholder (loading) or the broken-image icon, drawn for a dark room."""
    pixmap = QPixmap(ICON_SIZE, ICON_SIZE)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    frame = QRectF(ICON_SIZE * 0.1, 4.0, ICON_SIZE * 0.8, ICON_SIZE - 8.0)
    painter.setBrush(QBrush(QColor(28, 28, 28)))
    painter.setPen(QPen(QColor(70, 70, 70), 2.0))
    painter.drawRoundedRect(frame, 6.0, 6.0)
    centre = frame.center()
    if broken:  # a red-brown cross: the image cannot be shown
        painter.setPen(QPen(QColor(170, 70, 60), 5.0))
        arm = ICON_SIZE * 0.18
        for dy in (-arm, arm):
            painter.drawLine(
                QPointF(centre.x() - arm, centre.y() + dy),
                QPointF(centre.x() + arm, centre.y() - dy),
            )
    else:  # three dots: on its way
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(QColor(110, 110, 110)))
        for step in (-1, 0, 1):
            painter.drawEllipse(QRectF(centre.x() + step * 14.0 - 4.0, centre.y() - 4.0, 8.0, 8.0))
    painter.end()
    return QIcon(pixmap)


# ------------------------------------------------------------------------ loader


class _Relay(QObject):
    """Carries outcomes from worker threads to the loader's thread (queued connection)."""

    finished = Signal(int, str, object)  # generation, key, ThumbnailOutcome


class _RenderTask(QRunnable):
    """Run an injected render function in a pool thread; never raises."""

    def __init__(
        self,
        generation: int,
        key: str,
        record: ImageRecord,
        render: RenderThumbnail,
        max_size: int,
        relay: _Relay,
    ) -> None:
        super().__init__()
        self._args = (generation, key, record, render, max_size, relay)

    def run(self) -> None:
        """Render (pool thread)."""
        generation, key, record, render, max_size, relay = self._args
        outcome: ThumbnailOutcome
        try:
            outcome = render(record, max_size)
        except PixelDataError as exc:
            outcome = exc
        except Exception as exc:  # a bug must not leave the placeholder forever
            traceback.print_exc(file=sys.stderr)
            outcome = PixelDataError(
                record.path, f"unexpected error while making the thumbnail: {exc}"
            )
        relay.finished.emit(generation, key, outcome)


class ThumbnailLoader(QObject):
    """Renders thumbnails in worker processes and reports them in its own thread.

    Each request runs :func:`~galactoview.imaging.thumbnails.thumbnail_in_worker` in a
    :class:`~concurrent.futures.ProcessPoolExecutor` started with ``forkserver``
    (``spawn`` where that does not exist; never ``fork``, which would copy the running
    Qt application), like :class:`~galactoview.imaging.decode_service.DecodeService`.
    Its future's callback (in the executor's thread) re-emits the outcome through a
    signal, which Qt queues to this object's thread. Nothing here waits for a worker,
    except :meth:`shutdown`.

    Parameters
    ----------
    parent
        Owner of the loader.
    render
        Replaces the process pool: ``render(record, max_size)`` runs in threads of a
        :class:`QThreadPool` (for tests, or for renderers that release the GIL).
    max_size
        Bound on the longer side of the thumbnails.
    max_workers
        Worker processes (or threads with ``render``): by default
        ``min(2, os.cpu_count())``; a thumbnail decodes only a reduced resolution
        level of a JPEG 2000 image, so a few workers keep up with the tree.

    Signals
    -------
    finished(str, object)
        The key (:func:`~galactoview.imaging.thumbnails.thumbnail_key`) of a requested
        thumbnail and either its pixels (uint8, rows × columns) or the
        :class:`~galactoview.dicom.loading.PixelDataError` saying why it failed.
    """

    finished = Signal(str, object)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        render: RenderThumbnail | None = None,
        max_size: int = THUMBNAIL_SIZE,
        max_workers: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.max_size = max_size
        self.max_workers = max_workers or min(2, os.cpu_count() or 1)
        self._render = render
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._broken = False
        self._generation = 0
        #: key -> future (process pool) or None (thread pool) of requests under way
        self._pending: dict[str, Future[NDArray[np.uint8] | str] | None] = {}
        # Children are destroyed in creation order: the pool (whose destructor waits
        # for running tasks) goes before the relay they emit through.
        self._threads = QThreadPool(self)
        self._threads.setMaxThreadCount(self.max_workers)
        self._relay = _Relay(self)
        self._relay.finished.connect(self._on_finished)

    def request(self, record: ImageRecord) -> str:
        """Start rendering the thumbnail of an image unless it is under way already.

        Returns
        -------
        str
            Its key; :attr:`finished` follows with the same key.
        """
        key = thumbnail_key(record, self.max_size)
        if key in self._pending:
            return key
        generation = self._generation
        if self._render is not None:
            self._pending[key] = None
            task = _RenderTask(generation, key, record, self._render, self.max_size, self._relay)
            self._threads.start(task)
            return key
        try:
            future = self._pool().submit(thumbnail_in_worker, record, self.max_size)
        except (BrokenProcessPool, RuntimeError) as exc:
            self._pending[key] = None
            with self._lock:
                self._broken = True
            error = PixelDataError(record.path, f"cannot start a thumbnail process: {exc}")
            self._relay.finished.emit(generation, key, error)
            return key
        self._pending[key] = future
        future.add_done_callback(functools.partial(self._future_done, generation, key, record))
        return key

    def is_busy(self) -> bool:
        """Return whether any requested thumbnail is still to come."""
        return bool(self._pending)

    def clear(self) -> None:
        """Forget every request: work not started is cancelled, results to come are dropped."""
        self._generation += 1
        self._threads.clear()  # queued tasks that have not started never run
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if future is not None:
                future.cancel()

    def shutdown(self) -> None:
        """Cancel everything and stop the workers (waits for renders already running).

        Called from the main window's ``closeEvent``. A later :meth:`request` starts
        new workers.
        """
        self.clear()
        self._threads.waitForDone()
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _pool(self) -> ProcessPoolExecutor:
        """Return the process pool, starting it (again, after a crash) when needed."""
        with self._lock:
            if self._broken and self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None
            self._broken = False
            if self._executor is None:
                context: BaseContext
                if "forkserver" in multiprocessing.get_all_start_methods():
                    context = multiprocessing.get_context("forkserver")
                else:
                    context = multiprocessing.get_context("spawn")
                self._executor = ProcessPoolExecutor(self.max_workers, mp_context=context)
            return self._executor

    def _future_done(
        self, generation: int, key: str, record: ImageRecord, done: Future[NDArray[Any] | str]
    ) -> None:
        """Turn a worker's reply into an outcome and queue it (runs in the executor thread)."""
        if done.cancelled():
            return
        outcome: ThumbnailOutcome
        try:
            reply = done.result()
            if isinstance(reply, str):
                outcome = PixelDataError(record.path, reply)
            else:
                outcome = np.asarray(reply, dtype=np.uint8)
        except BrokenProcessPool:
            with self._lock:
                self._broken = True
            outcome = PixelDataError(record.path, "the thumbnail process stopped unexpectedly")
        except Exception as exc:  # e.g. the result could not be unpickled
            outcome = PixelDataError(
                record.path, f"cannot receive the thumbnail: {type(exc).__name__}: {exc}"
            )
        with contextlib.suppress(RuntimeError):  # the loader was deleted without shutdown()
            self._relay.finished.emit(generation, key, outcome)

    def _on_finished(self, generation: int, key: str, outcome: ThumbnailOutcome) -> None:
        """Announce a result, unless it was cleared since it was requested."""
        if generation != self._generation or key not in self._pending:
            return
        del self._pending[key]
        self.finished.emit(key, outcome)


# ------------------------------------------------------------------------ dock


class _ThumbnailTree(QTreeWidget):
    """The tree, with Enter/Return reported once as an activation of the current item."""

    enter_pressed = Signal(QTreeWidgetItem)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        """Report Enter/Return on the current item; everything else as usual."""
        item = self.currentItem()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and item is not None:
            self.enter_pressed.emit(item)
            event.accept()
            return
        super().keyPressEvent(event)


class StudyBrowserDock(QDockWidget):
    """The study/series browser: patient header, then studies → series → thumbnails.

    Parameters
    ----------
    parent
        Parent widget.
    loader
        Renders the thumbnails; by default a :class:`ThumbnailLoader` (worker
        processes) owned by the dock.

    Signals
    -------
    image_activated(int)
        The user clicked an image, or pressed Enter on it: its index in the sequence
        given to :meth:`set_images`.
    thumbnails_done()
        Every thumbnail asked for by the last :meth:`set_images` has arrived or failed.
    """

    image_activated = Signal(int)
    thumbnails_done = Signal()

    def __init__(
        self, parent: QWidget | None = None, *, loader: ThumbnailLoader | None = None
    ) -> None:
        super().__init__("Studies", parent)
        self.setObjectName("StudyBrowserDock")
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        self.header = QLabel(body)
        self.header.setObjectName("StudyHeader")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.header)
        self.tree = _ThumbnailTree(body)
        self.tree.setObjectName("StudyTree")
        self.tree.setHeaderHidden(True)
        self.tree.setIconSize(QSize(ICON_SIZE, ICON_SIZE))
        self.tree.setIndentation(14)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        layout.addWidget(self.tree, 1)
        self.setWidget(body)

        self.loader = loader if loader is not None else ThumbnailLoader(self)
        self.loader.finished.connect(self._on_thumbnail)
        self.loading_icon = _status_icon(broken=False)
        self.broken_icon = _status_icon(broken=True)
        self._records: tuple[ImageRecord, ...] = ()
        self._items: list[QTreeWidgetItem] = []
        self._keys: list[str] = []
        self._errors: dict[int, str] = {}
        self._waiting: set[str] = set()
        self._shown: list[int] = []
        self._study_count = 0
        #: thumbnail key -> pixmap, least recently used first
        self._pixmaps: OrderedDict[str, QPixmap] = OrderedDict()
        self.tree.itemClicked.connect(self._on_item_clicked)
        self.tree.enter_pressed.connect(self._activate)
        self.header.setText(_header_html(None, 0))

    # -------------------------------------------------------------- API

    def set_images(self, records: Sequence[ImageRecord], *, keep_view: bool = False) -> None:
        """Show images (already in display order: newest study first) and their thumbnails.

        Thumbnails already made for the same files are shown at once; the others are
        requested from the loader, and :attr:`thumbnails_done` follows when all are in
        (at once when none is needed).

        Parameters
        ----------
        records
            The images.
        keep_view
            Images were added to those listed: the studies and series the user
            collapsed stay collapsed, the list does not scroll, thumbnails on their way
            keep coming and failed ones are not tried again; the images marked shown
            and the current one stay so (by SOP Instance UID), without scrolling to them.
        """
        collapsed: set[tuple[str, ...]] = set()
        failed: dict[str, str] = {}
        scrolled = self.tree.verticalScrollBar().value()
        current = self.current_index()
        marked = [self._records[index].sop_instance_uid for index in self._shown]
        current_uid = self._records[current].sop_instance_uid if current is not None else None
        if keep_view:
            collapsed = self._collapsed()
            failed = {self._keys[index]: error for index, error in self._errors.items()}
        else:
            self.loader.clear()
        blocker = QSignalBlocker(self.tree)
        self.tree.clear()
        self._records = tuple(records)
        self._items, self._keys, self._errors, self._shown = [], [], {}, []
        self._waiting = set()
        study_counts = Counter(r.study_instance_uid for r in self._records)
        self._study_count = len(study_counts)
        studies: dict[str, QTreeWidgetItem] = {}
        series: dict[tuple[str, str], QTreeWidgetItem] = {}
        for index, record in enumerate(self._records):
            study_item = studies.get(record.study_instance_uid)
            if study_item is None:
                text = study_label(record, study_counts[record.study_instance_uid])
                study_item = QTreeWidgetItem(self.tree, [text])
                study_item.setToolTip(0, f"{text}\nStudy Instance UID {record.study_instance_uid}")
                studies[record.study_instance_uid] = study_item
            key = (record.study_instance_uid, record.series_instance_uid)
            series_item = series.get(key)
            if series_item is None:
                text = series_label(record)
                series_item = QTreeWidgetItem(study_item, [text])
                series_item.setToolTip(
                    0, f"{text}\nSeries Instance UID {record.series_instance_uid}"
                )
                series[key] = series_item
            item = QTreeWidgetItem(series_item, [image_label(record)])
            item.setData(0, _INDEX_ROLE, index)
            item.setToolTip(0, self._tooltip(index, record))
            self._items.append(item)
            thumbnail = thumbnail_key(record, self.loader.max_size)
            self._keys.append(thumbnail)
            pixmap = self._pixmaps.get(thumbnail)
            if pixmap is not None:
                self._pixmaps.move_to_end(thumbnail)
                item.setIcon(0, QIcon(pixmap))
            elif thumbnail in failed:
                self._errors[index] = failed[thumbnail]
                item.setIcon(0, self.broken_icon)
                item.setToolTip(0, self._tooltip(index, record))
            else:
                item.setIcon(0, self.loading_icon)
                self._waiting.add(thumbnail)
        self.tree.expandAll()
        for group, row in self._group_items().items():
            if group in collapsed:
                row.setExpanded(False)
        header = 0 if self._records else None
        if keep_view:
            where = {record.sop_instance_uid: n for n, record in enumerate(self._records)}
            self._shown = [where[uid] for uid in marked if uid in where]
            for index in self._shown:
                self._mark(index, True)
            if current_uid in where:
                header = where[current_uid]
                self.tree.setAutoScroll(False)  # a current item scrolls to itself otherwise
                self.tree.setCurrentItem(self._items[header])
                self.tree.setAutoScroll(True)
            self.tree.verticalScrollBar().setValue(scrolled)
        del blocker
        self._update_header(header)
        for index, record in enumerate(self._records):
            if self._keys[index] in self._waiting:
                self.loader.request(record)
        if not self._waiting:
            self.thumbnails_done.emit()

    def set_shown(self, indices: Iterable[int], *, scroll: bool = True) -> None:
        """Mark the images hung in the viewports (bold, highlighted); scroll to the first.

        ``scroll=False`` leaves the list where the user scrolled it (images added).
        """
        for index in self._shown:
            self._mark(index, False)
        self._shown = [i for i in dict.fromkeys(indices) if 0 <= i < len(self._items)]
        for index in self._shown:
            self._mark(index, True)
        if self._shown and scroll:
            self.tree.scrollToItem(self._items[self._shown[0]])

    def set_current(self, index: int | None) -> None:
        """Select the image of the active viewport (``None``: no image) without emitting."""
        blocker = QSignalBlocker(self.tree)
        if index is not None and 0 <= index < len(self._items):
            self.tree.setCurrentItem(self._items[index])
            self._update_header(index)
        else:
            self.tree.setCurrentIndex(QModelIndex())
            self.tree.clearSelection()
        del blocker

    def current_index(self) -> int | None:
        """Return the index of the selected image, if an image is selected."""
        return self._index_of(self.tree.currentItem())

    def shown_indices(self) -> list[int]:
        """Return the indices marked by :meth:`set_shown`."""
        return list(self._shown)

    def image_item(self, index: int) -> QTreeWidgetItem:
        """Return the tree item of the image at ``index`` (for tests and tooltips)."""
        return self._items[index]

    def image_texts(self) -> list[str]:
        """Return the labels of the image items, in order."""
        return [item.text(0) for item in self._items]

    def thumbnail(self, index: int) -> QPixmap | None:
        """Return the thumbnail of the image at ``index``; None while loading or on failure."""
        if not 0 <= index < len(self._keys) or index in self._errors:
            return None
        return self._pixmaps.get(self._keys[index])

    def thumbnail_error(self, index: int) -> str | None:
        """Return why the thumbnail of the image at ``index`` could not be made, if it failed."""
        return self._errors.get(index)

    def is_loading(self) -> bool:
        """Return whether thumbnails are still on their way."""
        return bool(self._waiting)

    def shutdown(self) -> None:
        """Cancel pending thumbnails and stop the loader's workers (from ``closeEvent``)."""
        self._waiting.clear()
        self.loader.shutdown()

    # -------------------------------------------------------------- internals

    def _group_items(self) -> dict[tuple[str, ...], QTreeWidgetItem]:
        """Return the study and series rows: (study UID,) and (study UID, series UID)."""
        groups: dict[tuple[str, ...], QTreeWidgetItem] = {}
        for record, item in zip(self._records, self._items, strict=True):
            series = item.parent()
            study = series.parent() if series is not None else None
            if series is not None and study is not None:
                groups[(record.study_instance_uid, record.series_instance_uid)] = series
                groups[(record.study_instance_uid,)] = study
        return groups

    def _collapsed(self) -> set[tuple[str, ...]]:
        """Return the keys of the study and series rows the user collapsed."""
        return {key for key, item in self._group_items().items() if not item.isExpanded()}

    def _update_header(self, index: int | None) -> None:
        record = self._records[index] if index is not None else None
        self.header.setText(_header_html(record, self._study_count))

    def _tooltip(self, index: int, record: ImageRecord) -> str:
        lines = [
            " · ".join(part for part in (record.view.label, record.series_description) if part),
            record.name,  # the file, or "archive [member]"
        ]
        error = self._errors.get(index)
        if error is not None:
            lines.append(f"Cannot show a thumbnail: {error}")
        return "\n".join(line for line in lines if line)

    def _mark(self, index: int, shown: bool) -> None:
        item = self._items[index]
        font = item.font(0)
        font.setBold(shown)
        item.setFont(0, font)
        if shown:
            colour = QColor(self.palette().highlight().color())
            colour.setAlpha(90)
            item.setBackground(0, QBrush(colour))
        else:
            item.setBackground(0, QBrush())

    def _on_thumbnail(self, key: str, outcome: ThumbnailOutcome) -> None:
        if key not in self._waiting:
            return
        self._waiting.discard(key)
        indices = [i for i, k in enumerate(self._keys) if k == key]
        if isinstance(outcome, PixelDataError):
            for index in indices:
                self._errors[index] = outcome.message
                self._items[index].setIcon(0, self.broken_icon)
                self._items[index].setToolTip(0, self._tooltip(index, self._records[index]))
        else:
            pixmap = _pixmap_of(outcome)
            self._pixmaps[key] = pixmap
            self._pixmaps.move_to_end(key)
            while len(self._pixmaps) > max(_ICON_CACHE_SIZE, len(self._keys)):
                self._pixmaps.popitem(last=False)
            for index in indices:
                self._items[index].setIcon(0, QIcon(pixmap))
        if not self._waiting:
            self.thumbnails_done.emit()

    def _on_item_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        self._activate(item)

    def _activate(self, item: QTreeWidgetItem) -> None:
        index = self._index_of(item)
        if index is not None:
            self.image_activated.emit(index)

    @staticmethod
    def _index_of(item: QTreeWidgetItem | None) -> int | None:
        if item is None:
            return None
        value = item.data(0, _INDEX_ROLE)
        return value if isinstance(value, int) else None
