"""ImageDecoder: decodes images off the GUI thread and keeps the last few decoded.

Decoding a JPEG 2000 mammogram takes 0.1–1.5 s. :class:`ImageDecoder` runs
:func:`decode_image` in a :class:`QThreadPool` worker and reports back with a
signal, which Qt delivers in the GUI thread (queued connection). Decoded frames are
kept in memory, keyed by SOP Instance UID (0008,0018) and frame index (0 for a
single-frame image), so going back and forth, to a prefetched image, or round a
cine loop, shows at once.

The in-memory cache holds at most :data:`CACHE_SIZE` frames *and* at most
:data:`CACHE_BYTES` of stored values and display pyramids (computed with the decode, off
the GUI thread: :mod:`galactoview.imaging.display_ready`), whichever bound is reached
first; the least recently used frames go first, and the newest is always kept. A cine
loop of a multi-frame image (PS3.3 C.7.6.6 Multi-frame Module, C.7.6.5 Cine Module) is
many small frames, e.g. 60 frames of 1024 x 1024 16-bit (2 MiB each, 120 MiB in all); a
full-field mammogram is about 9–27 MiB, so the byte budget keeps some 20–55 of them.
Frames memory-mapped from the on-disk pixel cache are counted too, though they only
occupy the operating system's page cache.

The JPEG 2000 decoders pydicom uses (pylibjpeg-openjpeg, Pillow) hold the GIL
while they decode, so decoding in a pool *thread* would freeze the GUI. The
decode itself therefore runs in a worker *process* of a
:class:`~galactoview.imaging.decode_service.DecodeService`; the pool thread only
reads the header and waits for the process (without the GIL). Requests run
before prefetches (:meth:`ImageDecoder.prefetch`) still waiting in the queue;
:meth:`ImageDecoder.prefetch_frames` queues the frames a cine player will show next.

Progressive first picture: :meth:`ImageDecoder.request_preview` decodes a large JPEG 2000
image's lower resolution levels first (:mod:`galactoview.imaging.reduced_decode`, a
tenth of the full decode's time), before anything else waiting, and announces it with
:attr:`ImageDecoder.previewed`; a :class:`DecodedImage` whose ``reduction`` is not 0. It is
not cached: the full image, requested as usual, replaces it.
"""

from __future__ import annotations

import functools
import itertools
import sys
import traceback
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from numpy.typing import NDArray
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from galactoview.dicom.calibration import Calibration, calibration_from_dataset
from galactoview.dicom.functional_groups import frame_view
from galactoview.dicom.loading import ImageRecord, PixelDataError, read_header
from galactoview.imaging.colour import colour_pipeline, is_colour
from galactoview.imaging.decode_service import DecodeService, check_frame, decode_stored
from galactoview.imaging.display import DisplayPipeline
from galactoview.imaging.display_ready import DisplayReady, display_ready
from galactoview.imaging.overlays import OverlayPlanes, read_overlay_planes
from galactoview.imaging.reduced_decode import decode_reduced, wants_preview

__all__ = [
    "CACHE_BYTES",
    "CACHE_SIZE",
    "Decode",
    "DecodedImage",
    "FrameDecode",
    "ImageDecoder",
    "PreviewDecode",
    "decode_image",
    "decode_preview",
]

#: Number of decoded frames kept in memory (a single-frame image is one frame).
CACHE_SIZE: Final = 256

#: Bound on the stored values kept in memory: 512 MiB (about 9 MiB for a 2294 x 1914
#: 16-bit mammogram, 27 MiB for 4096 x 3328, 0.5 MiB for a 512 x 512 cine frame).
CACHE_BYTES: Final = 512 * 1024**2


@dataclass(frozen=True, slots=True, eq=False)
class DecodedImage:
    """One frame of an image ready to display: its stored values and display pipeline.

    Attributes
    ----------
    record
        The image.
    stored
        Stored values of the frame, shape ``(Rows, Columns)``; read-only. A colour
        image's RGB values, ``(Rows, Columns, 3)`` (:mod:`galactoview.imaging.colour`).
    pipeline
        Display pipeline of the frame built from the full header (PS3.3 C.11): an
        enhanced multi-frame image's functional groups for this frame (C.7.6.16); for a
        colour image only its sample depth (``bits_stored``) and inversion are used
        (:func:`~galactoview.imaging.colour.colour_pipeline`).
    frame
        Index of the frame, from 0 to ``record.frame_count - 1``; 0 for a
        single-frame image.
    ready
        Its extremes and display pyramid, computed where it was decoded (off the GUI
        thread); ``None`` when the decoder did not (the viewport computes them).
    overlays
        Its overlay planes (PS3.3 C.9.2) read from the header decoding read anyway;
        ``None`` when the decoder did not read them (the viewport reads them).
    calibration
        mm per pixel of this frame (its Pixel Measures, PS3.3 C.7.6.16.2.1, for an
        enhanced multi-frame image); ``None`` when the decoder did not work it out (the
        viewport uses the record's).
    frame_label
        What the frame's Frame Content says (PS3.3 C.7.6.16.2.2), ``""`` if nothing.
    reduction
        0 for the image itself; ``n >= 1`` for a preview: ``stored`` is its first frame
        with the ``n`` finest JPEG 2000 resolution levels discarded, shape
        ``ceil(full_shape / 2**n)``, low-pass values (:func:`decode_preview`).
    """

    record: ImageRecord
    stored: NDArray[Any]
    pipeline: DisplayPipeline
    frame: int = 0
    ready: DisplayReady | None = None
    overlays: OverlayPlanes | None = None
    calibration: Calibration | None = None
    frame_label: str = ""
    reduction: int = 0

    @property
    def sop_instance_uid(self) -> str:
        """Return the SOP Instance UID (0008,0018) of the image."""
        return self.record.sop_instance_uid

    @property
    def full_shape(self) -> tuple[int, int]:
        """Return (Rows, Columns) of the image (not of a preview's reduced values)."""
        return self.record.rows, self.record.columns


def decode_image(
    record: ImageRecord, service: DecodeService | None = None, *, frame: int = 0
) -> DecodedImage:
    """Read the header and decode the pixels of one frame of an image (no Qt; any thread).

    The pixels are decoded in a worker process of ``service``, while this thread waits
    without holding the GIL. Without a service (tests, tools) they are decoded in this
    thread by :func:`~galactoview.imaging.decode_service.decode_stored`.

    Parameters
    ----------
    record
        The image.
    service
        Worker processes that decode: the one the composition root
        (:mod:`galactoview.app`) built; ``None`` to decode in this thread.
    frame
        Index of the frame, from 0 to ``record.frame_count - 1``.

    Raises
    ------
    PixelDataError
        If the file cannot be read or decoded (see
        :func:`~galactoview.dicom.loading.load_pixels`), or the frame does not exist.
    """
    if service is None:
        check_frame(record, frame)
        header = read_header(record)
        stored = decode_stored(record, frame=frame, colour=True)
    else:
        future = service.submit(record, frame)
        header = read_header(record)  # while the worker decodes
        stored = future.result()
    stored.setflags(write=False)  # shared between the cache and the viewport
    return _ready_to_show(record, header, stored, frame)


def decode_preview(
    record: ImageRecord, service: DecodeService | None = None
) -> DecodedImage | None:
    """Decode a reduced-resolution first picture of an image, if that gains anything.

    The first frame of a large JPEG 2000 image with its finest resolution levels
    discarded (:func:`~galactoview.imaging.reduced_decode.decode_reduced`), in a worker
    process of ``service`` (in this thread without one), with the full image's display
    pipeline, calibration and overlays. No Qt; any thread.

    Parameters
    ----------
    record
        The image.
    service
        Worker processes that decode; ``None`` to decode in this thread.

    Returns
    -------
    DecodedImage or None
        Its ``reduction`` is at least 1; ``None`` when there is no preview to show (not
        worth it, cannot be done, any error): the full decode shows, or words, it all.
    """
    if not wants_preview(record):
        return None
    future = service.submit_reduced(record) if service is not None else None
    try:
        header = read_header(record)  # while the worker decodes
    except PixelDataError:
        return None
    reduced = future.result() if future is not None else decode_reduced(record)
    if reduced is None:
        return None
    try:
        return _ready_to_show(record, header, reduced.stored, 0, reduced.reduction)
    except PixelDataError:
        return None


def _ready_to_show(
    record: ImageRecord, header: Any, stored: NDArray[Any], frame: int, reduction: int = 0
) -> DecodedImage:
    """Return a decoded frame with what its header says about showing it (any thread)."""
    if is_colour(stored):
        try:
            pipeline = colour_pipeline(header, stored)
        except ValueError as exc:  # e.g. 32-bit samples
            raise PixelDataError(record.path, str(exc)) from None
    else:
        pipeline = DisplayPipeline.from_dataset(header, frame)
    ready = display_ready(stored, pipeline)
    calibration = calibration_from_dataset(header, frame)
    overlays = read_overlay_planes(header)
    label = frame_view(header, frame).frame_label
    return DecodedImage(
        record, stored, pipeline, frame, ready, overlays, calibration, label, reduction
    )


def _held_bytes(image: DecodedImage) -> int:
    """Return the memory a cached frame holds: its stored values and its display pyramid."""
    extra = image.ready.extra_bytes(image.stored) if image.ready is not None else 0
    return image.stored.nbytes + extra


#: Decodes the first frame of an image (every image, before multi-frame support).
Decode = Callable[[ImageRecord], DecodedImage]
#: Decodes frame ``frame`` of an image: ``decode_frame(record, frame)``.
FrameDecode = Callable[[ImageRecord, int], DecodedImage]
#: Decodes a reduced first picture of an image, or None (:func:`decode_preview`).
PreviewDecode = Callable[[ImageRecord], DecodedImage | None]
#: Key of the in-memory cache: SOP Instance UID and frame index.
_Key = tuple[str, int]
Outcome = DecodedImage | PixelDataError

#: QThreadPool priorities: higher starts first.
_PREVIEW_PRIORITY: Final = 2
_REQUEST_PRIORITY: Final = 1
_PREFETCH_PRIORITY: Final = 0


class _Relay(QObject):
    """Carries outcomes from pool threads to the decoder's thread (a queued connection)."""

    finished = Signal(int, object)  # task serial, DecodedImage or PixelDataError
    previewed = Signal(int, object)  # task serial, DecodedImage or None


class _DecodeTask(QRunnable):
    """Decode one frame in a pool thread and report through the relay; never raises."""

    def __init__(
        self, serial: int, record: ImageRecord, frame: int, decode: FrameDecode, relay: _Relay
    ) -> None:
        super().__init__()
        self._serial = serial
        self._record = record
        self._frame = frame
        self._decode = decode
        self._relay = relay

    def run(self) -> None:
        """Decode (pool thread)."""
        outcome: Outcome
        try:
            check_frame(self._record, self._frame)  # whatever the decoding function
            outcome = self._decode(self._record, self._frame)
        except PixelDataError as exc:
            outcome = exc
        except Exception as exc:  # a bug must not leave "Decoding…" forever
            traceback.print_exc(file=sys.stderr)
            outcome = PixelDataError(
                self._record.path,
                f"unexpected error while decoding: {type(exc).__name__}: {exc}",
            )
        self._relay.finished.emit(self._serial, outcome)


class _PreviewTask(QRunnable):
    """Decode a preview in a pool thread and report through the relay; never raises."""

    def __init__(
        self, serial: int, record: ImageRecord, decode: PreviewDecode, relay: _Relay
    ) -> None:
        super().__init__()
        self._serial = serial
        self._record = record
        self._decode = decode
        self._relay = relay

    def run(self) -> None:
        """Decode (pool thread); a failure is None: the full decode reports errors."""
        outcome: DecodedImage | None
        try:
            outcome = self._decode(self._record)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            outcome = None
        self._relay.previewed.emit(self._serial, outcome)


class ImageDecoder(QObject):
    """Decodes frames of :class:`ImageRecord` images in a thread pool, with an LRU cache.

    Every method takes the frame index (``frame``, from 0 to ``record.frame_count -
    1``); it defaults to 0, the only frame of a single-frame image.

    Parameters
    ----------
    parent
        Owner of the decoder.
    decode
        The decoding function of first frames, run in pool threads; by default
        :func:`decode_image` with ``service``. Other frames are decoded by
        ``decode_frame``.
    decode_frame
        The decoding function of any frame, ``decode_frame(record, frame)``, run in pool
        threads; when given it also decodes first frames (``decode`` is then unused).
        By default :func:`decode_image` with ``service``.
    cache_size
        Number of decoded frames kept.
    cache_bytes
        Bound on the total size of the stored values of the frames kept (the most
        recently decoded frame is kept whatever its size).
    max_threads
        Number of images decoded at the same time. By default one when the service's
        decoder is multi-threaded (imagecodecs: one image on every core comes twice as
        soon as two images on one core each), else two.
    service
        Worker processes that decode (and their disk cache), built by the composition
        root (:mod:`galactoview.app`) and not shut down by :meth:`shutdown`; ``None``
        decodes in the pool threads (tests, tools). Used by the default decoding
        functions only.
    preview_decode
        Decodes reduced first pictures (:meth:`request_preview`), run in pool threads;
        by default :func:`decode_preview` with ``service`` when the default decoding
        functions and a service are used, else none (previews are not asked for).

    Signals
    -------
    decoded(object)
        A :class:`DecodedImage` asked for with :meth:`request` or :meth:`prefetch` is
        ready (and cached); its :attr:`DecodedImage.frame` says which frame.
    failed(object, object)
        The :class:`ImageRecord` and the :class:`PixelDataError` of a frame that could
        not be decoded; the message names the frame when it does not exist. Failures
        are not cached: a new request tries again.
    previewed(object)
        A preview (:class:`DecodedImage` with ``reduction >= 1``) asked for with
        :meth:`request_preview` is ready, and its image is not decoded yet. Not cached.
    """

    decoded = Signal(object)
    failed = Signal(object, object)
    previewed = Signal(object)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        decode: Decode | None = None,
        decode_frame: FrameDecode | None = None,
        cache_size: int = CACHE_SIZE,
        cache_bytes: int = CACHE_BYTES,
        max_threads: int | None = None,
        service: DecodeService | None = None,
        preview_decode: PreviewDecode | None = None,
    ) -> None:
        super().__init__(parent)
        if cache_size < 1:
            raise ValueError(f"cache_size must be >= 1, got {cache_size}")
        if cache_bytes < 0:
            raise ValueError(f"cache_bytes must be >= 0, got {cache_bytes}")
        if max_threads is None:
            default = decode is None and decode_frame is None
            fast = service.fast if default and service is not None else False
            max_threads = 1 if fast else 2
        defaults = decode is None and decode_frame is None
        if preview_decode is None and defaults and service is not None:
            preview_decode = functools.partial(decode_preview, service=service)
        self._decode_preview = preview_decode
        #: SOP Instance UID -> (serial of its preview task, record) for previews under way.
        self._preview_pending: dict[str, tuple[int, ImageRecord]] = {}
        if decode_frame is None:
            decode_frame = functools.partial(_decode_frame, decode=decode, service=service)
        self._decode = decode_frame
        self._cache_size = cache_size
        self._cache_bytes = cache_bytes
        self._cache: OrderedDict[_Key, DecodedImage] = OrderedDict()
        self._cached_bytes = 0
        #: (SOP Instance UID, frame) -> (serial of its task, record) for decodes under way.
        self._pending: dict[_Key, tuple[int, ImageRecord]] = {}
        self._serials = itertools.count(1)
        # Children are destroyed in creation order: the pool (whose destructor waits for
        # running tasks) goes before the relay those tasks emit through.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._relay = _Relay(self)
        self._relay.finished.connect(self._on_finished)
        self._relay.previewed.connect(self._on_previewed)

    def cached(self, record: ImageRecord, frame: int = 0) -> DecodedImage | None:
        """Return a frame of an image if it is cached, marking it most recently used."""
        key = (record.sop_instance_uid, frame)
        image = self._cache.get(key)
        if image is None or image.record != record:
            return None
        self._cache.move_to_end(key)
        return image

    def cached_uids(self) -> list[str]:
        """Return the SOP Instance UIDs with a frame cached, each once, least recently used first.

        An image is placed by its least recently used frame.
        """
        return list(dict.fromkeys(uid for uid, _ in self._cache))

    def cached_frames(self) -> list[tuple[str, int]]:
        """Return the ``(SOP Instance UID, frame)`` pairs cached, least recently used first."""
        return list(self._cache)

    def cached_bytes(self) -> int:
        """Return the total size of the stored values cached."""
        return self._cached_bytes

    def is_pending(self, record: ImageRecord, frame: int = 0) -> bool:
        """Return whether a frame of an image is being decoded."""
        pending = self._pending.get((record.sop_instance_uid, frame))
        return pending is not None and pending[1] == record

    def is_busy(self) -> bool:
        """Return whether any requested image is still being decoded."""
        return bool(self._pending)

    def request(self, record: ImageRecord, frame: int = 0) -> None:
        """Start decoding a frame of an image unless it is cached or already being decoded.

        It runs before any :meth:`prefetch` still waiting. :attr:`decoded` or
        :attr:`failed` follows, emitted in the thread of this object (never from within
        this call, even for a frame that does not exist).
        """
        self._start(record, frame, _REQUEST_PRIORITY)

    def request_preview(self, record: ImageRecord) -> None:
        """Decode a reduced first picture of an image, before anything else waiting.

        Nothing happens without a preview decoder, for an image that gains nothing
        (:func:`~galactoview.imaging.reduced_decode.wants_preview`), or one decoded or
        being previewed already. Ask before :meth:`request`, which the full image still
        needs. :attr:`previewed` follows unless the preview cannot be made or the full
        image is decoded first; never from within this call.
        """
        uid = record.sop_instance_uid
        if (
            self._decode_preview is None
            or not wants_preview(record)
            or self.cached(record) is not None
            or uid in self._preview_pending
        ):
            return
        serial = next(self._serials)
        self._preview_pending[uid] = (serial, record)
        task = _PreviewTask(serial, record, self._decode_preview, self._relay)
        self._pool.start(task, _PREVIEW_PRIORITY)

    def prefetch(self, record: ImageRecord, frame: int = 0) -> None:
        """Like :meth:`request`, but after every request still waiting (e.g. the next image)."""
        self._start(record, frame, _PREFETCH_PRIORITY)

    def prefetch_frames(self, record: ImageRecord, frames: Iterable[int]) -> None:
        """Prefetch several frames of an image, in the order given (e.g. the next of a cine).

        Frames outside ``0 .. record.frame_count - 1`` are skipped.
        """
        for frame in frames:
            if 0 <= frame < record.frame_count:
                self.prefetch(record, frame)

    def _start(self, record: ImageRecord, frame: int, priority: int) -> None:
        if self.cached(record, frame) is not None or self.is_pending(record, frame):
            return
        serial = next(self._serials)
        self._pending[(record.sop_instance_uid, frame)] = (serial, record)
        task = _DecodeTask(serial, record, frame, self._decode, self._relay)
        self._pool.start(task, priority)

    def clear(self) -> None:
        """Forget the cache and every request; results still to come are dropped."""
        self._pool.clear()  # queued tasks that have not started never run
        self._pending.clear()
        self._preview_pending.clear()
        self._cache.clear()
        self._cached_bytes = 0

    def shutdown(self) -> None:
        """Drop everything and wait for the decodes already running to end."""
        self.clear()
        self._pool.waitForDone()

    def _on_finished(self, serial: int, outcome: Outcome) -> None:
        """Cache a result and announce it, unless it is no longer wanted."""
        key = next((k for k, (s, _) in self._pending.items() if s == serial), None)
        if key is None:  # cleared since it was requested
            return
        _, record = self._pending.pop(key)
        if isinstance(outcome, PixelDataError):
            self.failed.emit(record, outcome)
            return
        self._store(key, outcome)
        self.decoded.emit(outcome)

    def _on_previewed(self, serial: int, outcome: DecodedImage | None) -> None:
        """Announce a preview, unless cleared since, failed, or the full image came first."""
        uid = next((u for u, (s, _) in self._preview_pending.items() if s == serial), None)
        if uid is None:
            return
        _, record = self._preview_pending.pop(uid)
        if outcome is None or self.cached(record) is not None:
            return
        self.previewed.emit(outcome)

    def _store(self, key: _Key, image: DecodedImage) -> None:
        """Cache a frame, then evict down to both bounds (never the frame just cached)."""
        replaced = self._cache.pop(key, None)
        if replaced is not None:
            self._cached_bytes -= _held_bytes(replaced)
        self._cache[key] = image
        self._cached_bytes += _held_bytes(image)
        while len(self._cache) > 1 and (
            len(self._cache) > self._cache_size or self._cached_bytes > self._cache_bytes
        ):
            _, evicted = self._cache.popitem(last=False)
            self._cached_bytes -= _held_bytes(evicted)


def _decode_frame(
    record: ImageRecord, frame: int, *, decode: Decode | None, service: DecodeService | None
) -> DecodedImage:
    """Decode a frame: the first with ``decode`` when given, else with :func:`decode_image`."""
    if decode is not None and frame == 0:
        return decode(record)
    return decode_image(record, service, frame=frame)
