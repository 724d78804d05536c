"""Tests for galactoview.files: the one atomic writer and the non-blocking reader."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from galactoview import files


def test_replacing_puts_the_new_content_in_place_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "report.pdf"
    target.write_bytes(b"old")
    with files.replacing(target) as temporary:
        assert temporary.parent == tmp_path and temporary.name.startswith(".report.pdf.")
        temporary.write_bytes(b"new")
        assert target.read_bytes() == b"old"  # not replaced before the block ends
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.pdf"]


def test_replacing_keeps_the_old_file_when_the_writer_fails(tmp_path: Path) -> None:
    target = tmp_path / "report.pdf"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="painter"), files.replacing(target) as temporary:
        temporary.write_bytes(b"half")
        raise RuntimeError("painter failed")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.pdf"]


@pytest.mark.parametrize(("keep_mode", "expected"), [(True, 0o640), (False, None)])
def test_keep_mode_keeps_the_replaced_files_permissions(
    tmp_path: Path, keep_mode: bool, expected: int | None
) -> None:
    target = tmp_path / "shared.sr.json"
    target.write_bytes(b"{}")
    target.chmod(0o640)
    umask = os.umask(0o022)
    try:
        files.write_atomically(target, lambda s: s.write(b"{ }"), keep_mode=keep_mode)
    finally:
        os.umask(umask)
    mode = stat.S_IMODE(target.stat().st_mode)
    assert mode == (expected if expected is not None else 0o644)
    assert target.read_bytes() == b"{ }"


@pytest.mark.parametrize("durable", [True, False])
def test_durable_decides_whether_anything_is_fsynced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, durable: bool
) -> None:
    calls: list[int] = []
    real = os.fsync

    def fsync(descriptor: int) -> None:
        calls.append(descriptor)
        real(descriptor)

    monkeypatch.setattr(os, "fsync", fsync)
    files.write_atomically(tmp_path / "entry.npy", lambda s: s.write(b"x"), durable=durable)
    assert (tmp_path / "entry.npy").read_bytes() == b"x"
    assert (len(calls) >= 2) is durable  # the file, then the folder
    assert (len(calls) == 0) is not durable


def test_read_regular_file_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(files.NotARegularFileError, match=r"a FIFO .* not a sidecar file"):
        files.read_regular_file(fifo, 100, what="sidecar")


def test_read_regular_file_refuses_what_is_larger_than_the_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b"x" * 2000)
    with pytest.raises(files.TooLargeError, match="more than any SR") as raised:
        files.read_regular_file(big, 1000, what="SR")
    assert raised.value.size == 2000
    data, mtime_ns = files.read_regular_file(big, 4000)
    assert data == b"x" * 2000 and mtime_ns == big.stat().st_mtime_ns
