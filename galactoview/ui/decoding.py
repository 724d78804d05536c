"""ImageDecoder: decodes images off the GUI thread and keeps the last few decoded.

Decoding a JPEG 2000 mammogram takes 0.1–1.5 s. :class:`ImageDecoder` runs
:func:`decode_image` in a :class:`QThreadPool` worker and reports back with a
signal, which Qt delivers in the GUI thread (queued connection). The last
:data:`CACHE_SIZE` decoded images are kept, keyed by SOP Instance UID
(0008,0018), so going back and forth, or to a prefetched image, shows at once.

The JPEG 2000 decoders pydicom uses (pylibjpeg-openjpeg, Pillow) hold the GIL
while they decode, so decoding in a pool *thread* would freeze the GUI. The
decode itself therefore runs in a worker *process* of a
:class:`~galactoview.dicom.decode_service.DecodeService`; the pool thread only
reads the header and waits for the process (without the GIL). Requests run
before prefetches (:meth:`ImageDecoder.prefetch`) still waiting in the queue.
"""

from __future__ import annotations

import functools
import itertools
import sys
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from numpy.typing import NDArray
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from galactoview.dicom.decode_service import DecodeService
from galactoview.dicom.display import DisplayPipeline
from galactoview.dicom.loading import ImageRecord, PixelDataError, read_header

__all__ = [
    "CACHE_SIZE",
    "DecodedImage",
    "ImageDecoder",
    "decode_image",
    "shared_service",
    "shutdown_shared_service",
]

#: Number of decoded images kept (about 9 MB each for a 2294 x 1914 16-bit mammogram).
CACHE_SIZE: Final = 4


@dataclass(frozen=True, slots=True, eq=False)
class DecodedImage:
    """An image ready to display: its stored values and display pipeline.

    Attributes
    ----------
    record
        The image.
    stored
        Stored values, shape ``(Rows, Columns)``; read-only.
    pipeline
        Display pipeline built from the full header (PS3.3 C.11).
    """

    record: ImageRecord
    stored: NDArray[Any]
    pipeline: DisplayPipeline

    @property
    def sop_instance_uid(self) -> str:
        """Return the SOP Instance UID (0008,0018) of the image."""
        return self.record.sop_instance_uid


_shared_lock = threading.Lock()
_shared: DecodeService | None = None


def shared_service() -> DecodeService:
    """Return the process-wide :class:`DecodeService` (no disk cache), starting it if needed.

    The composition root may instead give each :class:`ImageDecoder` a service with a
    :class:`~galactoview.dicom.pixel_cache.PixelCache`.
    """
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = DecodeService()
        return _shared


def shutdown_shared_service() -> None:
    """Stop the worker processes of :func:`shared_service` (at application exit)."""
    global _shared
    with _shared_lock:
        service, _shared = _shared, None
    if service is not None:
        service.shutdown()


def decode_image(record: ImageRecord, service: DecodeService | None = None) -> DecodedImage:
    """Read the header and decode the pixels of an image (no Qt; runs in any thread).

    The pixels are decoded in a worker process of ``service`` (:func:`shared_service`
    by default); this thread waits without holding the GIL.

    Raises
    ------
    PixelDataError
        If the file cannot be read or decoded (see
        :func:`~galactoview.dicom.loading.load_pixels`).
    """
    future = (service or shared_service()).submit(record)
    header = read_header(record)  # while the worker decodes
    stored = future.result()
    stored.setflags(write=False)  # shared between the cache and the viewport
    return DecodedImage(record, stored, DisplayPipeline.from_dataset(header))


Decode = Callable[[ImageRecord], DecodedImage]
Outcome = DecodedImage | PixelDataError

#: QThreadPool priorities: higher starts first.
_REQUEST_PRIORITY: Final = 1
_PREFETCH_PRIORITY: Final = 0


class _Relay(QObject):
    """Carries outcomes from pool threads to the decoder's thread (a queued connection)."""

    finished = Signal(int, object)  # task serial, DecodedImage or PixelDataError


class _DecodeTask(QRunnable):
    """Decode one image in a pool thread and report through the relay; never raises."""

    def __init__(self, serial: int, record: ImageRecord, decode: Decode, relay: _Relay) -> None:
        super().__init__()
        self._serial = serial
        self._record = record
        self._decode = decode
        self._relay = relay

    def run(self) -> None:
        """Decode (pool thread)."""
        outcome: Outcome
        try:
            outcome = self._decode(self._record)
        except PixelDataError as exc:
            outcome = exc
        except Exception as exc:  # a bug must not leave "Decoding…" forever
            traceback.print_exc(file=sys.stderr)
            outcome = PixelDataError(
                self._record.path,
                f"unexpected error while decoding: {type(exc).__name__}: {exc}",
            )
        self._relay.finished.emit(self._serial, outcome)


class ImageDecoder(QObject):
    """Decodes :class:`ImageRecord` images in a thread pool, with an LRU cache of results.

    Parameters
    ----------
    parent
        Owner of the decoder.
    decode
        The decoding function, run in pool threads; by default :func:`decode_image`
        with ``service``.
    cache_size
        Number of decoded images kept.
    max_threads
        Number of images decoded at the same time. By default one when the service's
        decoder is multi-threaded (imagecodecs: one image on every core comes twice as
        soon as two images on one core each), else two.
    service
        Worker processes that decode (and their disk cache); :func:`shared_service`
        by default. Not shut down by :meth:`shutdown`.

    Signals
    -------
    decoded(object)
        A :class:`DecodedImage` asked for with :meth:`request` is ready (and cached).
    failed(object, object)
        The :class:`ImageRecord` and the :class:`PixelDataError` of an image that could
        not be decoded. Failures are not cached: a new request tries again.
    """

    decoded = Signal(object)
    failed = Signal(object, object)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        decode: Decode | None = None,
        cache_size: int = CACHE_SIZE,
        max_threads: int | None = None,
        service: DecodeService | None = None,
    ) -> None:
        super().__init__(parent)
        if cache_size < 1:
            raise ValueError(f"cache_size must be >= 1, got {cache_size}")
        if max_threads is None:
            fast = (service or shared_service()).fast if decode is None else False
            max_threads = 1 if fast else 2
        if decode is None:
            decode = functools.partial(decode_image, service=service)
        self._decode = decode
        self._cache_size = cache_size
        self._cache: OrderedDict[str, DecodedImage] = OrderedDict()
        #: SOP Instance UID -> (serial of its task, record) for decodes under way.
        self._pending: dict[str, tuple[int, ImageRecord]] = {}
        self._serials = itertools.count(1)
        # Children are destroyed in creation order: the pool (whose destructor waits for
        # running tasks) goes before the relay those tasks emit through.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._relay = _Relay(self)
        self._relay.finished.connect(self._on_finished)

    def cached(self, record: ImageRecord) -> DecodedImage | None:
        """Return the decoded image if it is cached, marking it most recently used."""
        image = self._cache.get(record.sop_instance_uid)
        if image is None or image.record != record:
            return None
        self._cache.move_to_end(record.sop_instance_uid)
        return image

    def cached_uids(self) -> list[str]:
        """Return the SOP Instance UIDs cached, least recently used first."""
        return list(self._cache)

    def is_pending(self, record: ImageRecord) -> bool:
        """Return whether the image is being decoded."""
        pending = self._pending.get(record.sop_instance_uid)
        return pending is not None and pending[1] == record

    def is_busy(self) -> bool:
        """Return whether any requested image is still being decoded."""
        return bool(self._pending)

    def request(self, record: ImageRecord) -> None:
        """Start decoding an image unless it is cached or already being decoded.

        It runs before any :meth:`prefetch` still waiting. :attr:`decoded` or
        :attr:`failed` follows, emitted in the thread of this object.
        """
        self._start(record, _REQUEST_PRIORITY)

    def prefetch(self, record: ImageRecord) -> None:
        """Like :meth:`request`, but after every request still waiting (e.g. the next image)."""
        self._start(record, _PREFETCH_PRIORITY)

    def _start(self, record: ImageRecord, priority: int) -> None:
        if self.cached(record) is not None or self.is_pending(record):
            return
        serial = next(self._serials)
        self._pending[record.sop_instance_uid] = (serial, record)
        self._pool.start(_DecodeTask(serial, record, self._decode, self._relay), priority)

    def clear(self) -> None:
        """Forget the cache and every request; results still to come are dropped."""
        self._pool.clear()  # queued tasks that have not started never run
        self._pending.clear()
        self._cache.clear()

    def shutdown(self) -> None:
        """Drop everything and wait for the decodes already running to end."""
        self.clear()
        self._pool.waitForDone()

    def _on_finished(self, serial: int, outcome: Outcome) -> None:
        """Cache a result and announce it, unless it is no longer wanted."""
        uid = next((u for u, (s, _) in self._pending.items() if s == serial), None)
        if uid is None:  # cleared since it was requested
            return
        _, record = self._pending.pop(uid)
        if isinstance(outcome, PixelDataError):
            self.failed.emit(record, outcome)
            return
        self._cache[uid] = outcome
        self._cache.move_to_end(uid)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        self.decoded.emit(outcome)
