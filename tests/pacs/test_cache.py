"""The per-user retrieve cache: layout, size limit, LRU eviction that never loses the marks."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from galactoview.pacs.cache import (
    DEFAULT_LIMIT_BYTES,
    LIMIT_ENVIRONMENT,
    OPENED_MARKER,
    RetrieveCache,
    default_cache_root,
    limit_from_environment,
)
from galactoview.sr.sidecar import sidecar_name

A, B, C = "1.2.826.0.1.1", "1.2.826.0.1.2", "1.2.826.0.1.3"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def put_study(cache: RetrieveCache, uid: str, sizes: list[int], *, sidecar: bool = False) -> Path:
    """Write a study folder as a retrieve does: instances, and the sidecar if asked."""
    folder = cache.study_folder(uid)
    folder.mkdir(parents=True, exist_ok=True)
    for number, size in enumerate(sizes, start=1):
        (folder / f"{uid}.{number}.dcm").write_bytes(b"x" * size)
    if sidecar:
        (folder / sidecar_name(uid)).write_text("{}", encoding="utf-8")
        (folder / f"{sidecar_name(uid)}.bak").write_text("{}", encoding="utf-8")
    return folder


def test_default_root_is_the_user_cache_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platformdirs, "user_cache_path", lambda app: Path("/cache-home") / app)
    assert default_cache_root() == Path("/cache-home/GalactoView/pacs")
    assert RetrieveCache().root == Path("/cache-home/GalactoView/pacs")


def test_a_study_folder_is_named_by_its_uid_and_never_leaves_the_cache(tmp_path: Path) -> None:
    cache = RetrieveCache(tmp_path / "pacs")
    assert cache.study_folder(A) == tmp_path / "pacs" / A
    for bad in ("../etc", "", "1.2/3", "/tmp"):
        with pytest.raises(ValueError, match="not a Study Instance UID"):
            cache.study_folder(bad)


def test_size_counts_instances_not_the_sidecar(tmp_path: Path) -> None:
    cache = RetrieveCache(tmp_path, clock=Clock())
    put_study(cache, A, [100, 50], sidecar=True)
    (cache.study_folder(A) / ".x.dcm.0a1b2c.tmp").write_bytes(b"y" * 7)  # a cut transfer's
    cache.mark_opened(A)
    (study,) = cache.studies()
    assert study.study_instance_uid == A
    assert study.size_bytes == 157
    assert study.last_opened == 1001.0
    assert cache.size_bytes() == 157
    (tmp_path / "not-a-uid").mkdir()  # ignored: not a study folder of the cache
    assert [s.study_instance_uid for s in cache.studies()] == [A]


def test_eviction_is_least_recently_opened_first_and_keeps_the_marks(tmp_path: Path) -> None:
    cache = RetrieveCache(tmp_path, limit_bytes=250, clock=Clock())
    a = put_study(cache, A, [100], sidecar=True)
    b = put_study(cache, B, [100])
    c = put_study(cache, C, [100])
    cache.mark_opened(B)
    cache.mark_opened(A)
    cache.mark_opened(C)
    cache.mark_opened(B)  # order now: A, C, B
    assert [s.study_instance_uid for s in cache.studies()] == [A, C, B]

    done = cache.evict()
    assert done.evicted == (A,)
    assert done.freed_bytes == 100
    assert done.problems == ()
    # A's images are gone, its marks are not: the folder stays with the sidecar only.
    assert sorted(p.name for p in a.iterdir()) == [
        sidecar_name(A),
        f"{sidecar_name(A)}.bak",
    ]
    assert b.is_dir() and c.is_dir()
    assert cache.size_bytes() == 200
    assert cache.evict().evicted == ()  # within the limit: nothing more


def test_the_study_being_opened_is_never_evicted(tmp_path: Path) -> None:
    cache = RetrieveCache(tmp_path, limit_bytes=150, clock=Clock())
    put_study(cache, A, [100])
    put_study(cache, B, [300])
    cache.mark_opened(B)  # oldest
    cache.mark_opened(A)
    done = cache.evict(keep={B})
    assert done.evicted == (A,)
    assert not cache.study_folder(A).exists()  # nothing but cache files: folder removed
    assert cache.size_bytes() == 300  # B alone exceeds the limit, and stays
    assert cache.evict(keep={B}).evicted == ()
    assert cache.evict(limit_bytes=0).evicted == (B,)


def test_a_study_never_opened_counts_by_its_files_time(tmp_path: Path) -> None:
    cache = RetrieveCache(tmp_path, limit_bytes=100, clock=Clock())
    put_study(cache, A, [100])
    put_study(cache, B, [100])
    cache.mark_opened(B)  # opened at 1001 s (the test clock)
    # A was never opened: its files' time (today, far later than 1001 s) orders it.
    assert [s.study_instance_uid for s in cache.studies()] == [B, A]
    assert cache.evict().evicted == (B,)


def test_limit_from_environment() -> None:
    assert limit_from_environment({}) == (DEFAULT_LIMIT_BYTES, None)
    assert limit_from_environment({LIMIT_ENVIRONMENT: "2.5"}) == (2_500_000_000, None)
    limit, problem = limit_from_environment({LIMIT_ENVIRONMENT: "lots"})
    assert limit == DEFAULT_LIMIT_BYTES
    assert problem is not None and problem.startswith(f"{LIMIT_ENVIRONMENT}='lots': ")
    assert limit_from_environment({LIMIT_ENVIRONMENT: "-1"})[0] == DEFAULT_LIMIT_BYTES
    with pytest.raises(ValueError, match="negative"):
        RetrieveCache(Path("/x"), -1)


def test_an_unreadable_marker_falls_back_to_the_files_time(tmp_path: Path) -> None:
    cache = RetrieveCache(tmp_path, clock=Clock())
    folder = put_study(cache, A, [10])
    (folder / OPENED_MARKER).write_text("garbage", encoding="ascii")
    (study,) = cache.studies()
    assert study.last_opened > 1_000_000  # a file time, not the clock's 1000-ish
