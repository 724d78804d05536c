"""Files written by ``sr export`` and ``render``: their mode, and what a failure says.

They used to be created by :func:`tempfile.mkstemp`, mode 0600, so that a PACS sender
running as another user could not read them (a PDF got 0644). They now get what an
ordinary ``open()`` gives: 0666 less the umask.
"""

from __future__ import annotations

import os
import stat
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from galactoview import cli
from galactoview.files import WriteFileError, write_atomically
from galactoview.paths import sample_dicom_dir
from galactoview.sr import sidecar
from tests.helpers import write_mg


@pytest.fixture(params=[0o022, 0o002, 0o077])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """Run a test under a given umask, restored afterwards."""
    wanted: int = request.param
    previous = os.umask(wanted)
    try:
        yield wanted
    finally:
        os.umask(previous)


@pytest.fixture(scope="module")
def sample_sidecar() -> Path:
    """The committed sample study's sidecar (only read)."""
    found = sorted(sample_dicom_dir().rglob(f"{sidecar.SIDECAR_PREFIX}*{sidecar.SIDECAR_SUFFIX}"))
    if not found:
        pytest.skip("the sample study has no sidecar")
    return found[0]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _ordinary_mode(umask: int) -> int:
    return 0o666 & ~umask


def test_sr_export_gets_the_mode_of_a_new_file(
    sample_sidecar: Path, tmp_path: Path, umask: int
) -> None:
    out = tmp_path / "sr.dcm"
    assert cli.main(["sr", "export", str(sample_sidecar), str(out)]) == 0
    assert _mode(out) == _ordinary_mode(umask)
    assert out.read_bytes()[128:132] == b"DICM"
    assert [p.name for p in tmp_path.iterdir()] == ["sr.dcm"]  # no temporary left


def test_sr_export_replacing_a_file_gets_the_mode_of_a_new_file(
    sample_sidecar: Path, tmp_path: Path, umask: int
) -> None:
    out = tmp_path / "sr.dcm"
    out.write_bytes(b"old")
    out.chmod(0o600)
    assert cli.main(["sr", "export", str(sample_sidecar), str(out)]) == 0
    assert _mode(out) == _ordinary_mode(umask)
    assert out.read_bytes()[128:132] == b"DICM"


def test_render_gets_the_mode_of_a_new_file(tmp_path: Path, umask: int) -> None:
    source = write_mg(tmp_path / "a.dcm", rows=20, columns=16)
    out = tmp_path / "a.png"
    assert cli.main(["render", str(source), str(out)]) == 0
    assert _mode(out) == _ordinary_mode(umask)
    assert out.read_bytes().startswith(b"\x89PNG")


def test_write_atomically_matches_open(tmp_path: Path, umask: int) -> None:
    plain = tmp_path / "plain.bin"
    with plain.open("wb") as stream:
        stream.write(b"x")
    atomic = tmp_path / "atomic.bin"
    write_atomically(atomic, lambda stream: stream.write(b"x"))
    assert _mode(atomic) == _mode(plain) == _ordinary_mode(umask)
    assert atomic.read_bytes() == b"x"


def test_write_atomically_failure_keeps_the_target_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def broken(stream: object) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, broken)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_write_atomically_names_the_folder_that_refuses(tmp_path: Path) -> None:
    with pytest.raises(WriteFileError) as raised:
        write_atomically(tmp_path / "missing" / "x.bin", lambda stream: stream.write(b"x"))
    assert str(raised.value) == f"{tmp_path / 'missing'} does not exist"


def test_write_atomically_over_a_folder_says_it_cannot_replace(tmp_path: Path) -> None:
    target = tmp_path / "folder"
    target.mkdir()
    with pytest.raises(WriteFileError) as raised:
        write_atomically(target, lambda stream: stream.write(b"x"))
    assert str(raised.value) == (
        f"cannot put the new file in place of {target} ({os.strerror(21)})"  # EISDIR
    )
    assert [p.name for p in tmp_path.iterdir()] == ["folder"]


@pytest.mark.skipif(not Path("/proc/version").is_file(), reason="needs Linux /proc")
def test_sr_export_into_proc_says_the_folder_refuses(
    sample_sidecar: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Was "/proc/version: cannot write the SR: No such file or directory".
    assert cli.main(["sr", "export", str(sample_sidecar), "/proc/version"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "/proc/version: cannot write the SR: the folder /proc does not accept a new file"
        f" ({os.strerror(2)})"  # ENOENT: /proc creates no files
    ]


def test_sr_export_into_a_read_only_folder_says_so(
    sample_sidecar: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as root: a read-only folder is writable")
        out = folder / "sr.dcm"
        assert cli.main(["sr", "export", str(sample_sidecar), str(out)]) == 1
        assert capsys.readouterr().err.splitlines() == [
            f"{out}: cannot write the SR: the folder {folder} does not accept a new file"
            f" ({os.strerror(13)})"  # EACCES
        ]
        assert not list(folder.iterdir())
    finally:
        folder.chmod(0o755)


def test_render_into_a_missing_folder_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_mg(tmp_path / "a.dcm", rows=20, columns=16)
    out = tmp_path / "missing" / "a.png"
    assert cli.main(["render", str(source), str(out)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{out}: cannot write the PNG: {out.parent} does not exist"
    ]
    assert not out.parent.exists()


def test_an_unrelated_resource_warning_is_not_the_files_problem(
    sample_sidecar: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Seen in the suite: a temporary folder of another test, collected during the export,
    # printed as "<sidecar>: warning: Implicitly cleaning up <TemporaryDirectory ...>".
    from galactoview.sr import sr_codec

    original = sr_codec.to_json

    def collecting(*args: Any, **kwargs: Any) -> Any:
        warnings.warn("Implicitly cleaning up <TemporaryDirectory>", ResourceWarning, stacklevel=1)
        return original(*args, **kwargs)

    monkeypatch.setattr(sr_codec, "to_json", collecting)
    out = tmp_path / "sr.dcm"
    assert cli.main(["sr", "export", str(sample_sidecar), str(out)]) == 0
    assert "TemporaryDirectory" not in capsys.readouterr().err
    assert out.read_bytes()[128:132] == b"DICM"
