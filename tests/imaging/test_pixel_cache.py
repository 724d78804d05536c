"""Tests for galactoview.imaging.pixel_cache: round trip, identity, eviction, damaged entries."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from galactoview.dicom.loading import ImageRecord, scan
from galactoview.imaging.pixel_cache import CACHE_ENV, PixelCache, default_cache
from tests.helpers import make_pixels, write_mg


def _record(tmp_path: Path, name: str, rows: int = 16, columns: int = 12) -> ImageRecord:
    path = write_mg(tmp_path / "images" / name, rows=rows, columns=columns)
    (record,) = scan([path]).images
    return record


def _pixels(record: ImageRecord, seed: int = 0) -> np.ndarray:
    return make_pixels(record.rows, record.columns, seed=seed)


def test_round_trip_is_a_read_only_memory_map(tmp_path: Path) -> None:
    cache = PixelCache(tmp_path / "cache")
    record = _record(tmp_path, "a.dcm")
    assert cache.get(record) is None
    stored = _pixels(record)
    entry = cache.put(record, stored)
    assert entry is not None and entry.parent == tmp_path / "cache"
    back = cache.get(record)
    assert isinstance(back, np.memmap)
    np.testing.assert_array_equal(back, stored)
    assert back.dtype == stored.dtype
    assert not back.flags.writeable
    assert cache.total_bytes() == entry.stat().st_size
    assert not list((tmp_path / "cache").glob(".tmp-*"))  # written atomically


def test_a_changed_file_is_a_miss(tmp_path: Path) -> None:
    cache = PixelCache(tmp_path / "cache")
    record = _record(tmp_path, "a.dcm")
    cache.put(record, _pixels(record))
    stat = record.path.stat()
    os.utime(record.path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert cache.get(record) is None


def test_least_recently_used_entries_are_evicted(tmp_path: Path) -> None:
    records = [_record(tmp_path, f"{name}.dcm") for name in "abc"]
    first = PixelCache(tmp_path / "cache")
    entry = first.put(records[0], _pixels(records[0]))
    assert entry is not None
    size = entry.stat().st_size
    cache = PixelCache(tmp_path / "cache", max_bytes=2 * size)
    cache.put(records[1], _pixels(records[1]))
    # Make a the oldest, then touch it: b becomes the least recently used.
    os.utime(entry, ns=(1, 1))
    os.utime(cache.entry_path(records[1]), ns=(2, 2))
    assert cache.get(records[0]) is not None
    cache.put(records[2], _pixels(records[2]))
    assert cache.get(records[1]) is None
    assert cache.get(records[0]) is not None
    assert cache.get(records[2]) is not None
    assert cache.total_bytes() <= cache.max_bytes
    # Larger than the whole bound: not stored, no error.
    assert PixelCache(tmp_path / "tiny", max_bytes=10).put(records[0], _pixels(records[0])) is None


@pytest.mark.parametrize("damage", ["garbage", "truncate", "wrong_shape"])
def test_damaged_entries_are_ignored_and_removed(tmp_path: Path, damage: str) -> None:
    cache = PixelCache(tmp_path / "cache")
    record = _record(tmp_path, "a.dcm")
    entry = cache.put(record, _pixels(record))
    assert entry is not None
    if damage == "garbage":
        entry.write_bytes(b"not a numpy file")
    elif damage == "truncate":
        entry.write_bytes(entry.read_bytes()[:200])
    else:
        np.save(entry, np.zeros((3, 3), np.uint16))
    assert cache.get(record) is None
    assert not entry.exists()
    assert cache.put(record, _pixels(record)) == entry  # usable again


def test_clear_and_a_missing_image_file(tmp_path: Path) -> None:
    cache = PixelCache(tmp_path / "cache")
    record = _record(tmp_path, "a.dcm")
    cache.put(record, _pixels(record))
    cache.clear()
    assert cache.total_bytes() == 0
    record.path.unlink()
    assert cache.get(record) is None
    assert cache.put(record, np.zeros((16, 12), np.uint16)) is None
    with pytest.raises(ValueError):
        PixelCache(tmp_path, max_bytes=-1)


def test_environment_relocates_or_disables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "elsewhere"))
    cache = default_cache(max_bytes=123)
    assert cache is not None
    assert cache.folder == tmp_path / "elsewhere"
    assert cache.max_bytes == 123
    for value in ("off", "0", ""):
        monkeypatch.setenv(CACHE_ENV, value)
        assert default_cache() is None
