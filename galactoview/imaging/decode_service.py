"""Decode pixel data in worker processes, so decoding never stalls the caller (Qt-free).

The JPEG 2000 decoder pydicom uses (pylibjpeg-openjpeg) holds the GIL for the whole
decode, 1.5 s for a 4096 x 3328 mammogram, so decoding in a *thread* freezes every
other Python thread, the GUI included. :class:`DecodeService` decodes in a
:class:`~concurrent.futures.ProcessPoolExecutor` instead: one process per CPU, started
with ``forkserver`` (``spawn`` where that does not exist) — never ``fork``, which would
copy a running Qt application into the child.

How the pixels come back: when a :class:`~galactoview.imaging.pixel_cache.PixelCache` is
given, the worker writes the decoded values into the cache as a ``.npy`` file and the
parent memory-maps it (no 27 MB pickle through a pipe; the next open of the study is a
cache hit, a few milliseconds). Without a cache the array is pickled back. Both
transports cost ~1–2 % of a JPEG 2000 decode; see ``docs/performance.md``.

Order: :meth:`DecodeService.open_study` submits the image to show first, then the
others (prefetch); the pool runs them first come, first served. With the
multi-threaded fast path there is one worker, which decodes one image at a time on
every core; otherwise one worker per core, each decoding one image.

Errors come back as :class:`~galactoview.dicom.loading.PixelDataError` raised by
:meth:`concurrent.futures.Future.result`; the worker sends only the message (the
exception class itself does not pickle), and a crashed worker becomes an error too.

Decoders: :func:`~galactoview.dicom.loading.load_pixels` (pydicom and its plugins) is
the reference. The service decodes for the viewer, so colour images (RGB, YBR, palette)
come back as RGB, ``(Rows, Columns, 3)`` (``load_pixels(..., colour=True)``; see
:mod:`galactoview.imaging.colour`); grayscale images are unaffected. If
``imagecodecs`` is installed, JPEG 2000 and HTJ2K single-frame unsigned images take a
fast path through ``imagecodecs.jpeg2k_decode`` (OpenJPEG with threads); anything
unusual, or any failure, falls back to ``load_pixels``, which also words every error
message. Set :data:`FAST_PATH_ENV` to ``0`` to disable the fast path.

Frames: :meth:`DecodeService.submit` decodes one frame of a multi-frame image
(``frame``, from 0; PS3.5 8.2 keeps each encapsulated frame in its own fragments, and
:func:`~galactoview.dicom.loading.load_pixels` decodes only that one). A frame that
does not exist fails at once, without a worker. In the pixel cache, the first frame is
keyed as a single-frame image always was; frame ``k > 0`` is keyed by the SOP
Instance UID with the suffix ``#frame=k`` (see :func:`cache_key_record`), which no
UID can end with (PS3.5 9.1: digits and dots only). Each frame opens the file again:
the header of a small multi-frame image takes well under a millisecond to parse, and
the operating system keeps the file's pages, so the cine player relies on prefetching
the next frames rather than on keeping files open in the workers.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from multiprocessing.context import BaseContext
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from galactoview.dicom.loading import (
    ImageRecord,
    PixelDataError,
    load_pixels,
    read_image_dataset,
)
from galactoview.dicom.source import ImageSource
from galactoview.imaging.pixel_cache import PixelCache
from galactoview.imaging.reduced_decode import (
    J2K_SYNTAXES,
    ReducedImage,
    decode_reduced,
    wants_preview,
)

__all__ = [
    "FAST_PATH_ENV",
    "J2K_SYNTAXES",
    "DecodeService",
    "cache_key_record",
    "check_frame",
    "decode_stored",
    "fast_path_available",
]

#: Environment variable: ``0`` disables the imagecodecs fast path.
FAST_PATH_ENV: Final = "GALACTOVIEW_FAST_DECODE"

# A decode under way: SOP Instance UID, source, frame index.
_Key = tuple[str, ImageSource, int]

# What a worker sends back: ("file", path of a .npy), ("array", values) or ("error", message).
_Reply = tuple[str, Any]


def fast_path_available() -> bool:
    """Return whether the imagecodecs JPEG 2000 fast path is installed and enabled."""
    if os.environ.get(FAST_PATH_ENV, "1").strip() == "0":
        return False
    try:
        imagecodecs = importlib.import_module("imagecodecs")  # optional
    except ImportError:
        return False
    return bool(imagecodecs.JPEG2K.available)


def check_frame(record: ImageRecord, frame: int) -> None:
    """Check that ``frame`` is the index of a frame of ``record``.

    Parameters
    ----------
    record
        The image; Number of Frames (0028,0008) gives its frame count (PS3.3 C.7.6.6).
    frame
        Index of a frame, from 0 to ``record.frame_count - 1``.

    Raises
    ------
    PixelDataError
        Naming the file and the frame, if there is no such frame (the same words as
        :func:`~galactoview.dicom.loading.load_pixels`).
    """
    count = record.frame_count
    if not 0 <= frame < count:
        raise PixelDataError(
            record.path, f"frame {frame} does not exist; the image has {count} frame(s)"
        )


def cache_key_record(record: ImageRecord, frame: int = 0) -> ImageRecord:
    """Return the record a frame's pixel cache entry is keyed by.

    The first frame is keyed by the image itself (so entries written before frames
    were cached separately stay valid); frame ``k > 0`` by a copy whose SOP Instance
    UID (0008,0018) ends with ``#frame=k``, which no UID can (PS3.5 9.1).

    Parameters
    ----------
    record
        The image.
    frame
        Index of the frame.

    Returns
    -------
    ImageRecord
        ``record`` itself for frame 0, else the keyed copy.
    """
    if frame == 0:
        return record
    return replace(record, sop_instance_uid=f"{record.sop_instance_uid}#frame={frame}")


def decode_stored(
    record: ImageRecord, *, fast: bool | None = None, frame: int = 0, colour: bool = False
) -> NDArray[Any]:
    """Decode the stored values of one frame of an image in this process, fast path first.

    Same result as :func:`~galactoview.dicom.loading.load_pixels`.

    Parameters
    ----------
    record
        The image.
    fast
        Try the imagecodecs fast path (single-frame images only); by default when
        :func:`fast_path_available`.
    frame
        Index of the frame, from 0 to ``record.frame_count - 1``.
    colour
        Decode colour images too, as RGB (``load_pixels``'s ``colour``); by default
        they are refused, as by the grayscale-only readers.

    Raises
    ------
    PixelDataError
        As :func:`~galactoview.dicom.loading.load_pixels`, e.g. for a frame that does
        not exist.
    """
    if fast is None:
        fast = fast_path_available()
    if (
        fast
        and frame == 0
        and record.transfer_syntax_uid in J2K_SYNTAXES
        and record.number_of_frames == 1
    ):
        stored = _decode_j2k_imagecodecs(record)
        if stored is not None:
            return stored
    return load_pixels(record, frame, colour=colour)


def _decode_j2k_imagecodecs(record: ImageRecord) -> NDArray[Any] | None:
    """Decode a single-frame unsigned JPEG 2000 image with imagecodecs; None to fall back."""
    try:
        imagecodecs = importlib.import_module("imagecodecs")  # optional
        from pydicom.encaps import generate_frames

        # Header bounded, pixel data checked against it (sizes, codec) before reading.
        ds = read_image_dataset(record.source)
        if (
            str(ds.get("PhotometricInterpretation", "")).strip()
            not in ("MONOCHROME1", "MONOCHROME2")
            or int(ds.get("PixelRepresentation", 0)) != 0  # PS3.3 C.7.6.3.1: unsigned only
            or int(ds.get("BitsAllocated", 0)) != 16
            or int(ds.get("SamplesPerPixel", 1)) != 1
        ):
            return None
        codestream = next(generate_frames(ds.PixelData, number_of_frames=1))
        stored = imagecodecs.jpeg2k_decode(codestream, numthreads=os.cpu_count() or 1)
    except Exception:  # let load_pixels decode it, or word the error
        return None
    if stored.shape != (record.rows, record.columns) or stored.dtype.kind != "u":
        return None
    return np.asarray(stored, dtype=np.uint16)


def _worker_decode_reduced(record: ImageRecord) -> ReducedImage | None:
    """Decode a reduced first picture in a worker process; None (never raises) if not."""
    return decode_reduced(record)


def _worker_init() -> None:
    """Start a worker process: imports done once, before the first image."""
    import pydicom.pixels  # noqa: F401 (warm import)


def _ping() -> int:
    """Do nothing in a worker (used to start the processes ahead of time)."""
    return os.getpid()


def _worker_decode(
    record: ImageRecord, cache: PixelCache | None, fast: bool, frame: int = 0
) -> _Reply:
    """Decode one frame of an image in a worker process; never raises."""
    try:
        key = cache_key_record(record, frame)
        if cache is not None:
            cached = cache.get(key)  # another process may have written it meanwhile
            if cached is not None:
                return ("file", str(cache.entry_path(key)))
        stored = decode_stored(record, fast=fast, frame=frame, colour=True)
        if cache is not None:
            entry = cache.put(key, stored)
            if entry is not None:
                return ("file", str(entry))
        return ("array", stored)
    except PixelDataError as exc:
        return ("error", exc.message)
    except Exception as exc:  # a bug must never take the worker down
        return ("error", f"unexpected error while decoding: {type(exc).__name__}: {exc}")


class DecodeService:
    """Decodes images in a pool of worker processes; results are read-only arrays.

    Parameters
    ----------
    cache
        Where decoded values are kept between sessions, and how they travel back from
        the workers; ``None`` to pickle them back and keep nothing.
    max_workers
        Number of worker processes. By default one with the fast path, whose decoder
        uses every core for one image (so the first image comes twice as soon, and
        two multi-threaded decoders would only fight over the cores), else
        ``os.cpu_count()``, one single-threaded decode per core.
    fast
        Use the imagecodecs fast path; by default when :func:`fast_path_available`.
    """

    def __init__(
        self,
        cache: PixelCache | None = None,
        *,
        max_workers: int | None = None,
        fast: bool | None = None,
    ) -> None:
        self.cache = cache
        self.fast = fast_path_available() if fast is None else fast
        self.max_workers = max_workers or (1 if self.fast else os.cpu_count() or 1)
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        #: (SOP Instance UID, source, frame) -> future of a decode under way
        self._pending: dict[_Key, Future[NDArray[Any]]] = {}

    def _pool(self) -> ProcessPoolExecutor:
        """Return the process pool, starting it (again, after a crash) when needed."""
        with self._lock:
            if self._executor is None:
                context: BaseContext
                if "forkserver" in multiprocessing.get_all_start_methods():
                    context = multiprocessing.get_context("forkserver")
                    # Workers fork from a server that has imported the decoders already
                    # (instead of re-running the application's __main__ there).
                    multiprocessing.get_context("forkserver").set_forkserver_preload([__name__])
                else:
                    context = multiprocessing.get_context("spawn")
                self._executor = ProcessPoolExecutor(
                    self.max_workers, mp_context=context, initializer=_worker_init
                )
            return self._executor

    def warm_up(self) -> None:
        """Start the worker processes now (they take ~0.5 s to import pydicom and numpy)."""
        pool = self._pool()
        for future in [pool.submit(_ping) for _ in range(self.max_workers)]:
            future.result()

    def submit(self, record: ImageRecord, frame: int = 0) -> Future[NDArray[Any]]:
        """Start decoding one frame of an image; return a future of its stored values.

        A cached frame resolves at once; a frame already being decoded returns the
        same future. :meth:`~concurrent.futures.Future.result` raises
        :class:`~galactoview.dicom.loading.PixelDataError` for a frame that cannot be
        decoded, or that does not exist (at once, naming the file and the frame).

        Parameters
        ----------
        record
            The image.
        frame
            Index of the frame, from 0 to ``record.frame_count - 1``; 0 for a
            single-frame image.
        """
        result: Future[NDArray[Any]] = Future()
        try:
            check_frame(record, frame)
        except PixelDataError as exc:
            result.set_exception(exc)
            return result
        if self.cache is not None:
            cached = self.cache.get(cache_key_record(record, frame))
            if cached is not None:
                result.set_result(cached)
                return result
        key = (record.sop_instance_uid, record.source, frame)
        with self._lock:
            pending = self._pending.get(key)
            if pending is not None:
                return pending
            self._pending[key] = result
        try:
            inner = self._pool().submit(_worker_decode, record, self.cache, self.fast, frame)
        except (BrokenProcessPool, RuntimeError) as exc:
            self._forget(key)
            self._reset()
            result.set_exception(PixelDataError(record.path, f"cannot start a decoder: {exc}"))
            return result
        inner.add_done_callback(lambda done: self._resolve(key, record, done, result))
        return result

    def submit_reduced(self, record: ImageRecord) -> Future[ReducedImage | None]:
        """Start decoding a reduced-resolution first picture of an image (a worker process).

        For the viewer to show while the full image decodes: see
        :mod:`galactoview.imaging.reduced_decode`. Submit it before :meth:`submit`, so the
        workers take it first. The future's result is ``None`` when there is nothing to
        gain or it cannot be done (not a large single-frame JPEG 2000 image, unusual
        data, an error, the full image already in the pixel cache, no worker): the full
        decode then shows, or words, everything. It never raises.

        Parameters
        ----------
        record
            The image (its first frame).
        """
        result: Future[ReducedImage | None] = Future()
        if not wants_preview(record) or self._in_cache(record):
            result.set_result(None)
            return result
        try:
            inner = self._pool().submit(_worker_decode_reduced, record)
        except (BrokenProcessPool, RuntimeError):
            result.set_result(None)  # the full decode reports a pool that cannot start
            return result

        def resolve(done: Future[ReducedImage | None]) -> None:
            try:
                result.set_result(None if done.cancelled() else done.result())
            except Exception:  # a crashed worker: the full decode reports it
                result.set_result(None)

        inner.add_done_callback(resolve)
        return result

    def _in_cache(self, record: ImageRecord) -> bool:
        """Return whether the first frame of an image has a pixel cache entry."""
        try:
            return self.cache is not None and self.cache.entry_path(record).is_file()
        except OSError:
            return False

    def open_study(
        self, records: Sequence[ImageRecord], first: int = 0
    ) -> list[Future[NDArray[Any]]]:
        """Decode every image of a study, ``records[first]`` before the rest.

        Returns
        -------
        list of Future
            One per record, in the order of ``records``.
        """
        order = [first, *(i for i in range(len(records)) if i != first)]
        futures: dict[int, Future[NDArray[Any]]] = {i: self.submit(records[i]) for i in order}
        return [futures[i] for i in range(len(records))]

    def worker_pids(self) -> list[int]:
        """Return the process ids of the running workers (for diagnostics)."""
        with self._lock:
            executor = self._executor
        processes = getattr(executor, "_processes", None) or {}
        return sorted(int(pid) for pid in processes)

    def decode(self, record: ImageRecord, frame: int = 0) -> NDArray[Any]:
        """Decode one frame of an image (the first by default) and wait for it.

        Raises
        ------
        PixelDataError
            If it cannot be decoded or does not exist.
        """
        return self.submit(record, frame).result()

    def shutdown(self) -> None:
        """Stop the worker processes; decodes not started are cancelled."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _forget(self, key: _Key) -> None:
        with self._lock:
            self._pending.pop(key, None)

    def _reset(self) -> None:
        """Drop a broken pool; the next submit starts a new one."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def _resolve(
        self,
        key: _Key,
        record: ImageRecord,
        done: Future[_Reply],
        result: Future[NDArray[Any]],
    ) -> None:
        """Turn a worker's reply into the caller's result (runs in the pool's thread)."""
        self._forget(key)
        if done.cancelled():
            result.cancel()
            return
        try:
            kind, value = done.result()
            if kind == "error":
                raise PixelDataError(record.path, str(value))
            if kind == "file":
                stored = np.load(value, mmap_mode="r", allow_pickle=False)
            else:
                stored = value
                stored.setflags(write=False)
            result.set_result(stored)
        except PixelDataError as exc:
            result.set_exception(exc)
        except BrokenProcessPool:
            self._reset()
            result.set_exception(
                PixelDataError(record.path, "the decoder process stopped unexpectedly")
            )
        except Exception as exc:  # e.g. the cache entry was evicted before it was mapped
            result.set_exception(
                PixelDataError(
                    record.path, f"cannot receive the decoded pixels: {type(exc).__name__}: {exc}"
                )
            )
