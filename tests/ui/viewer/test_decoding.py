"""Tests: processes, priorities, LRU cache, stale results, frames."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from PySide6.QtCore import QCoreApplication
from pytestqt.qtbot import QtBot

from galactoview.dicom.loading import ImageRecord, load_pixels, scan
from galactoview.imaging.decode_service import DecodeService
from galactoview.ui.viewer.decoding import DecodedImage, ImageDecoder, decode_image
from tests.helpers import pydicom_test_file, write_truncated


@pytest.fixture
def records(study_dir: Path) -> tuple[ImageRecord, ...]:
    images = scan([study_dir]).images
    assert len(images) == 4
    return images


def decode_and_wait(qtbot: QtBot, decoder: ImageDecoder, record: ImageRecord) -> DecodedImage:
    with qtbot.waitSignal(decoder.decoded) as blocker:
        decoder.request(record)
    (image,) = blocker.args
    assert isinstance(image, DecodedImage)
    return image


def test_decoded_image_is_the_files_stored_values_read_only(
    qtbot: QtBot, records: tuple[ImageRecord, ...]
) -> None:
    decoder = ImageDecoder()
    image = decode_and_wait(qtbot, decoder, records[1])
    assert image.record == records[1]
    assert image.sop_instance_uid == records[1].sop_instance_uid
    np.testing.assert_array_equal(image.stored, load_pixels(records[1]))
    assert not image.stored.flags.writeable
    assert [w.explanation for w in image.pipeline.windows] == ["NORMAL", "HARDER", "SOFTER"]
    assert decoder.cached(records[1]) is image
    assert not decoder.is_busy()
    decoder.shutdown()


def test_cache_keeps_the_most_recently_used(qtbot: QtBot, records: tuple[ImageRecord, ...]) -> None:
    calls: list[str] = []

    def decode(record: ImageRecord) -> DecodedImage:
        calls.append(record.sop_instance_uid)
        return decode_image(record)

    decoder = ImageDecoder(decode=decode, cache_size=2)
    uids = [record.sop_instance_uid for record in records]
    decode_and_wait(qtbot, decoder, records[0])
    decode_and_wait(qtbot, decoder, records[1])
    assert decoder.cached(records[0]) is not None  # now the most recently used
    decode_and_wait(qtbot, decoder, records[2])
    assert decoder.cached_uids() == [uids[0], uids[2]]
    assert decoder.cached(records[1]) is None

    decoder.request(records[0])  # cached: no decode, no signal
    assert calls == uids[:3]
    assert not decoder.is_busy()
    decoder.shutdown()
    with pytest.raises(ValueError):
        ImageDecoder(cache_size=0)


def test_a_pending_image_is_decoded_once(qtbot: QtBot, records: tuple[ImageRecord, ...]) -> None:
    release = threading.Event()
    calls: list[str] = []

    def decode(record: ImageRecord) -> DecodedImage:
        calls.append(record.sop_instance_uid)
        release.wait(timeout=10)
        return decode_image(record)

    decoder = ImageDecoder(decode=decode)
    try:
        decoder.request(records[0])
        decoder.request(records[0])
        assert decoder.is_pending(records[0])
        assert not decoder.is_pending(records[1])
    finally:
        release.set()
    with qtbot.waitSignal(decoder.decoded):
        pass
    assert calls == [records[0].sop_instance_uid]
    decoder.shutdown()


def test_failures_are_reported_and_not_cached(qtbot: QtBot, tmp_path: Path) -> None:
    (record,) = scan([write_truncated(tmp_path / "cut.dcm")]).images
    decoder = ImageDecoder()
    for _ in range(2):
        with qtbot.waitSignal(decoder.failed) as blocker:
            decoder.request(record)
        failed_record, error = blocker.args
        assert failed_record == record
        assert error.path == record.path
        assert error.message.startswith("the pixel data is truncated")
        assert decoder.cached_uids() == []
    decoder.shutdown()


def test_a_bug_in_decoding_becomes_a_reported_failure(
    qtbot: QtBot, records: tuple[ImageRecord, ...], capfd: pytest.CaptureFixture[str]
) -> None:
    def decode(record: ImageRecord) -> DecodedImage:
        raise ZeroDivisionError("boom")

    decoder = ImageDecoder(decode=decode)
    with qtbot.waitSignal(decoder.failed) as blocker:
        decoder.request(records[0])
    _, error = blocker.args
    assert error.message == "unexpected error while decoding: ZeroDivisionError: boom"
    assert "Traceback" in capfd.readouterr().err
    assert not decoder.is_busy()
    decoder.shutdown()


def test_results_requested_before_clear_are_dropped(
    qtbot: QtBot, records: tuple[ImageRecord, ...]
) -> None:
    started = threading.Event()
    release = threading.Event()

    def decode(record: ImageRecord) -> DecodedImage:
        started.set()
        release.wait(timeout=10)
        return decode_image(record)

    decoder = ImageDecoder(decode=decode, max_threads=1)
    announced: list[object] = []
    decoder.decoded.connect(announced.append)
    decoder.failed.connect(announced.append)
    try:
        decoder.request(records[0])
        decoder.request(records[1])  # queued behind records[0]: never starts
        assert started.wait(timeout=10)
        decoder.clear()
        assert not decoder.is_busy()
    finally:
        release.set()
    decoder.shutdown()  # waits for the decode of records[0] to end
    QCoreApplication.processEvents()  # deliver its queued result
    assert announced == []
    assert decoder.cached_uids() == []


def test_pixels_are_decoded_in_a_worker_process(
    qtbot: QtBot, records: tuple[ImageRecord, ...]
) -> None:
    service = DecodeService()  # built by the composition root (app.run_gui) and passed in
    decoder = ImageDecoder(service=service)
    try:
        decode_and_wait(qtbot, decoder, records[2])
        workers = service.worker_pids()
        assert workers and os.getpid() not in workers  # the GUI process never decodes
    finally:
        decoder.shutdown()
        service.shutdown()


def test_requests_run_before_waiting_prefetches(
    qtbot: QtBot, records: tuple[ImageRecord, ...]
) -> None:
    release = threading.Event()
    calls: list[str] = []

    def decode(record: ImageRecord) -> DecodedImage:
        calls.append(record.sop_instance_uid)
        release.wait(timeout=10)
        return decode_image(record)

    decoder = ImageDecoder(decode=decode, max_threads=1)
    try:
        decoder.request(records[0])
        decoder.prefetch(records[1])
        decoder.prefetch(records[1])  # already pending: once
        decoder.request(records[2])
    finally:
        release.set()
    qtbot.waitUntil(lambda: not decoder.is_busy(), timeout=30_000)
    assert calls == [records[i].sop_instance_uid for i in (0, 2, 1)]
    assert len(decoder.cached_uids()) == 3
    decoder.shutdown()


@pytest.fixture
def cine() -> ImageRecord:
    (record,) = scan([pydicom_test_file("emri_small_jpeg_2k_lossless.dcm")]).images
    assert record.frame_count == 10
    return record


def test_frames_are_decoded_and_cached_each_on_its_own(qtbot: QtBot, cine: ImageRecord) -> None:
    expected = dcmread(cine.path).pixel_array
    decoder = ImageDecoder()
    images: dict[int, DecodedImage] = {}
    for frame in (0, 7):
        with qtbot.waitSignal(decoder.decoded) as blocker:
            decoder.request(cine, frame)
        (image,) = blocker.args
        assert isinstance(image, DecodedImage)
        assert image.frame == frame
        np.testing.assert_array_equal(image.stored, expected[frame])
        np.testing.assert_array_equal(image.stored, load_pixels(cine, frame))
        images[frame] = image
    assert decoder.cached(cine, 0) is images[0]
    assert decoder.cached(cine, 7) is images[7]
    assert not np.array_equal(images[0].stored, images[7].stored)
    assert decoder.cached(cine) is images[0]  # frame 0 by default
    assert decoder.cached(cine, 3) is None
    assert decoder.cached_frames() == [(cine.sop_instance_uid, 7), (cine.sop_instance_uid, 0)]
    assert decoder.cached_uids() == [cine.sop_instance_uid]
    assert decoder.cached_bytes() == 2 * images[0].stored.nbytes
    decoder.shutdown()


def test_a_frame_that_does_not_exist_fails_naming_it(qtbot: QtBot, cine: ImageRecord) -> None:
    decoder = ImageDecoder()
    with qtbot.waitSignal(decoder.failed) as blocker:
        decoder.request(cine, 10)
    failed_record, error = blocker.args
    assert failed_record == cine
    assert error.message == "frame 10 does not exist; the image has 10 frame(s)"
    assert str(error).startswith(str(cine.path))
    assert decoder.cached_frames() == []
    assert not decoder.is_busy()
    decoder.shutdown()


def test_prefetched_frames_come_in_order(qtbot: QtBot, cine: ImageRecord) -> None:
    frames: list[int] = []

    def decode_frame(record: ImageRecord, frame: int) -> DecodedImage:
        frames.append(frame)
        return decode_image(record, frame=frame)

    decoder = ImageDecoder(decode_frame=decode_frame, max_threads=1)
    decoder.prefetch_frames(cine, [8, 9, 10, 0])  # 10 does not exist: skipped
    assert decoder.is_pending(cine, 9)
    assert not decoder.is_pending(cine, 10)
    qtbot.waitUntil(lambda: not decoder.is_busy(), timeout=30_000)
    assert frames == [8, 9, 0]
    assert [decoder.cached(cine, k) is not None for k in (8, 9, 0, 1)] == [True, True, True, False]
    decoder.shutdown()


def test_a_first_frame_decoder_still_serves_single_frame_callers(
    qtbot: QtBot, cine: ImageRecord
) -> None:
    calls: list[str] = []

    def decode(record: ImageRecord) -> DecodedImage:
        calls.append(record.sop_instance_uid)
        return decode_image(record)

    decoder = ImageDecoder(decode=decode)
    for frame in (0, 4):
        with qtbot.waitSignal(decoder.decoded) as blocker:
            decoder.request(cine, frame)
        assert blocker.args[0].frame == frame
    assert calls == [cine.sop_instance_uid]  # frame 4 went to decode_image
    decoder.shutdown()


def test_the_cache_is_bounded_by_bytes_too(qtbot: QtBot, cine: ImageRecord) -> None:
    frame_bytes = cine.rows * cine.columns * 2  # 16-bit
    decoder = ImageDecoder(cache_bytes=2 * frame_bytes)
    for frame in range(3):
        with qtbot.waitSignal(decoder.decoded):
            decoder.request(cine, frame)
    uid = cine.sop_instance_uid
    assert decoder.cached_frames() == [(uid, 1), (uid, 2)]
    assert decoder.cached_bytes() == 2 * frame_bytes
    with pytest.raises(ValueError):
        ImageDecoder(cache_bytes=-1)
    tiny = ImageDecoder(cache_bytes=0)  # the newest frame stays anyway
    with qtbot.waitSignal(tiny.decoded):
        tiny.request(cine, 5)
    assert tiny.cached_frames() == [(uid, 5)]
    tiny.shutdown()
    decoder.shutdown()


def test_no_process_wide_decode_service() -> None:
    # One composition root: app.run_gui builds the service and passes it down.
    from galactoview.ui.viewer import decoding

    assert not [name for name, value in vars(decoding).items() if isinstance(value, DecodeService)]
    assert not hasattr(decoding, "shared_service")


def test_a_preview_comes_before_its_full_image_and_not_after_it(
    qtbot: QtBot, sample_records: tuple[ImageRecord, ...]
) -> None:
    from galactoview.ui.viewer.decoding import decode_preview

    record = sample_records[0]  # 2294 x 1914 JPEG 2000: a half-resolution preview
    decoder = ImageDecoder(decode=decode_image, preview_decode=decode_preview, max_threads=1)
    shown: list[str] = []
    decoder.previewed.connect(lambda image: shown.append(f"preview {image.reduction}"))
    decoder.decoded.connect(lambda image: shown.append(f"full {image.reduction}"))
    decoder.request_preview(record)
    decoder.request(record)
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=20_000)
    assert shown == ["preview 1", "full 0"]
    decoder.request_preview(record)  # decoded already: no preview
    assert decoder._preview_pending == {}
    decoder.shutdown()


def test_a_preview_later_than_its_full_image_is_dropped(
    qtbot: QtBot, sample_records: tuple[ImageRecord, ...]
) -> None:
    from galactoview.ui.viewer.decoding import decode_preview

    record = sample_records[0]
    full_shown = threading.Event()

    def late_preview(record: ImageRecord) -> DecodedImage | None:
        assert full_shown.wait(20)
        return decode_preview(record)

    decoder = ImageDecoder(decode=decode_image, preview_decode=late_preview, max_threads=2)
    shown: list[str] = []
    decoder.previewed.connect(lambda image: shown.append("preview"))

    def on_decoded(_image: DecodedImage) -> None:
        shown.append("full")
        full_shown.set()

    decoder.decoded.connect(on_decoded)
    decoder.request_preview(record)
    decoder.request(record)
    qtbot.waitUntil(lambda: not decoder._preview_pending and not decoder.is_busy(), timeout=20_000)
    assert shown == ["full"]
    decoder.shutdown()


def test_no_preview_without_a_preview_decoder(
    qtbot: QtBot, sample_records: tuple[ImageRecord, ...]
) -> None:
    decoder = ImageDecoder()  # no service: previews are not asked for
    with qtbot.assertNotEmitted(decoder.previewed):
        decoder.request_preview(sample_records[0])
        decode_and_wait(qtbot, decoder, sample_records[0])
    decoder.shutdown()
