"""Growing what a window has open: scans run one at a time, images merged with those open.

The PACS panel opens a study as soon as its first instance arrives and adds the others
as they come (a few batches in a few seconds), and adds a prior fetched in the
background. :class:`ScanQueue` runs the window's scans (opening and adding) one at a
time, in the order asked, so two merges never overlap; :func:`merge` puts what a scan
found together with the images open, by SOP Instance UID (PS3.3 C.12.1.1.1: it names
one instance, whatever file holds it).
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from galactoview.dicom.loading import ImageRecord, LoadProblem, ScanResult
from galactoview.ui.shell.opening import BackgroundScan

__all__ = ["Merge", "ScanKind", "ScanQueue", "merge", "not_open"]


class ScanKind(enum.Enum):
    """Why a scan runs: to open (replacing what is open) or to add to what is open."""

    OPEN = "open"
    ADD = "add"


@dataclass(frozen=True, slots=True)
class Merge:
    """The images open once a scan's are added.

    Attributes
    ----------
    records
        Every image, in display order (newest study first, as
        :func:`~galactoview.dicom.loading.scan` sorts): the records open before are
        the same objects (decoded pixels and thumbnails are cached on them).
    added
        The images new to the window, in display order.
    problems
        The scan's problems, then one per image found again in another file.
    """

    records: tuple[ImageRecord, ...]
    added: tuple[ImageRecord, ...]
    problems: tuple[LoadProblem, ...]


def display_order(records: Sequence[ImageRecord]) -> list[ImageRecord]:
    """Return images in the order :func:`~galactoview.dicom.loading.scan` lists them.

    Newest study first; within a study by series and instance
    (:meth:`ImageRecord.sort_key`).
    """
    ordered = sorted(records, key=ImageRecord.sort_key)
    ordered.sort(key=lambda record: record.study_date, reverse=True)
    return ordered


def merge(open_records: Sequence[ImageRecord], found: ScanResult) -> Merge:
    """Add the images a scan found to those open, each SOP Instance UID once.

    An image already open stays as it is; found again in the same file it is skipped
    silently (a folder scanned again), found in another file it is reported as
    :func:`~galactoview.dicom.loading.scan` reports a duplicate.
    """
    opened = {record.sop_instance_uid: record for record in open_records}
    added: list[ImageRecord] = []
    problems = list(found.problems)
    for record in found.images:
        first = opened.get(record.sop_instance_uid)
        if first is None:
            opened[record.sop_instance_uid] = record
            added.append(record)
        elif (first.path, first.archive_member) != (record.path, record.archive_member):
            problems.append(
                LoadProblem(
                    record.path,
                    f"same SOP Instance UID as {first.name}; duplicate skipped",
                    record.archive_member,
                )
            )
    if not added:
        return Merge(tuple(open_records), (), tuple(problems))
    records = display_order([*open_records, *added])
    return Merge(tuple(records), tuple(display_order(added)), tuple(problems))


def not_open(paths: Sequence[Path], open_records: Sequence[ImageRecord]) -> list[Path]:
    """Return the paths that are not the file (or archive) of an image open."""
    files = {record.path for record in open_records}
    return [path for path in paths if path not in files]


class ScanQueue(QObject):
    """Runs scans in a pool thread one at a time, in the order they are asked for.

    A scan asked for while one runs waits for it: its result is handled (merged, shown)
    before the next scan starts, so two merges never overlap.

    Parameters
    ----------
    parent
        Owner.

    Signals
    -------
    finished(object, list, object)
        A scan is over: its :class:`ScanKind`, the paths scanned and the
        :class:`~galactoview.dicom.loading.ScanResult`. The next scan starts once the
        slots connected have returned.
    """

    finished = Signal(object, object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._scan = BackgroundScan(self)
        self._scan.finished.connect(self._on_finished)
        self._waiting: deque[tuple[ScanKind, list[Path]]] = deque()
        self._running: ScanKind | None = None

    def submit(self, kind: ScanKind, paths: Sequence[Path]) -> None:
        """Scan ``paths`` now, or after the scans asked for before."""
        self._waiting.append((kind, list(paths)))
        if self._running is None:
            self._next()

    def is_busy(self) -> bool:
        """Return whether a scan runs or waits."""
        return self._running is not None or bool(self._waiting)

    def _next(self) -> None:
        if not self._waiting:
            self._running = None
            return
        kind, paths = self._waiting.popleft()
        self._running = kind
        self._scan.start(paths)

    def _on_finished(self, paths: list[Path], result: ScanResult) -> None:
        kind = self._running
        assert kind is not None  # a result comes only for a scan started
        try:
            self.finished.emit(kind, paths, result)
        finally:
            self._next()
