"""Tests for galactoview.cli (no window is ever opened: the GUI launch is replaced)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from galactoview import __version__, cli, paths
from galactoview.cli import open_window
from galactoview.dicom.loading import ScanResult
from tests.helpers import write_garbage, write_mg, write_sample_data


class FakeLauncher:
    """Stands in for ``cli._open_window`` and records what it was asked to show."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[Path], ScanResult]] = []
        self.review: list[bool] = []
        self.pacs: list[bool] = []

    def __call__(
        self, paths: Sequence[Path], result: ScanResult, *, review: bool = False, pacs: bool = False
    ) -> int:
        self.calls.append((list(paths), result))
        self.review.append(review)
        self.pacs.append(pacs)
        return 0


@pytest.fixture
def launcher(monkeypatch: pytest.MonkeyPatch) -> FakeLauncher:
    fake = FakeLauncher()
    monkeypatch.setattr(open_window, "launch", fake)
    return fake


def test_pacs_flag_opens_nothing_and_shows_the_query_retrieve_panel(
    launcher: FakeLauncher,
) -> None:
    assert cli.main(["--pacs"]) == 0
    assert launcher.calls == [([], ScanResult())]
    assert launcher.pacs == [True]


def test_version(capsys: pytest.CaptureFixture[str], launcher: FakeLauncher) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == f"galactoview {__version__}\n"
    assert __version__ == "0.1.0"
    assert launcher.calls == []


def test_help(capsys: pytest.CaptureFixture[str], launcher: FakeLauncher) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: galactoview")
    assert "PATH" in out
    assert launcher.calls == []


def test_unknown_option_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], launcher: FakeLauncher
) -> None:
    assert cli.main(["--frobnicate"]) == 2
    assert "unrecognized arguments" in capsys.readouterr().err
    assert launcher.calls == []


def test_build_parser_parses_paths() -> None:
    args = cli.build_parser().parse_args(["a.dcm", "folder"])
    assert args.paths == [Path("a.dcm"), Path("folder")]


def test_missing_sample_dir_exits_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    launcher: FakeLauncher,
    user_data_home: Path,
) -> None:
    monkeypatch.setattr(paths, "sample_data_dir", lambda: tmp_path / "sample_data")
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("galactoview: error:")
    assert str(tmp_path / "sample_data" / "dicom") in err
    assert launcher.calls == []
    assert not user_data_home.exists()


def test_no_args_opens_the_per_user_copy_of_the_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, launcher: FakeLauncher, user_data_home: Path
) -> None:
    data = tmp_path / "sample_data"
    write_sample_data(data)
    monkeypatch.setattr(paths, "sample_data_dir", lambda: data)
    assert cli.main([]) == 0
    ((opened, result),) = launcher.calls
    assert opened == [paths.sample_study_copy()]
    assert opened[0].parent == user_data_home / "GalactoView" / "sample-study"
    assert len(result.images) == 4
    assert all(user_data_home in image.path.parents for image in result.images)


def test_paths_are_scanned_and_problems_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], launcher: FakeLauncher
) -> None:
    good = write_mg(tmp_path / "good.dcm")
    bad = write_garbage(tmp_path / "bad.dcm")
    missing = tmp_path / "missing.dcm"
    assert cli.main([str(good), str(bad), str(missing)]) == 0
    err_lines = capsys.readouterr().err.splitlines()
    assert err_lines == [
        f"{bad}: not a DICOM file (no 'DICM' prefix after the preamble)",
        f"{missing}: no such file or folder",
    ]
    ((_, result),) = launcher.calls
    assert [image.path for image in result.images] == [good]


def test_gui_exit_code_is_returned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(open_window, "launch", lambda paths, result, review=False, pacs=False: 7)
    assert cli.main([str(write_mg(tmp_path / "a.dcm"))]) == 7


def test_cli_does_not_import_qt() -> None:
    code = (
        "import sys, galactoview.cli\n"
        "bad = [m for m in ('PySide6', 'pyqtgraph', 'galactoview.app', 'galactoview.ui')"
        " if m in sys.modules]\n"
        "print(bad)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_python_dash_m_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "galactoview", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert done.stdout == f"galactoview {__version__}\n"


def test_help_lists_subcommands(capsys: pytest.CaptureFixture[str], launcher: FakeLauncher) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "galactoview info PATH..." in out
    assert "galactoview render FILE OUT.png" in out
    for word in cli.SUBCOMMANDS:  # every one, the newer analyse and pacs too
        assert f"  galactoview {word} " in out
        assert f"./{word}" in out


@pytest.mark.parametrize("word", cli.SUBCOMMANDS)
def test_subcommand_word_never_opens_the_window(
    word: str, capsys: pytest.CaptureFixture[str], launcher: FakeLauncher
) -> None:
    assert cli.main([word]) == 2  # missing arguments: a usage error of the subcommand
    assert capsys.readouterr().err.startswith(f"usage: galactoview {word}")
    assert launcher.calls == []


@pytest.mark.parametrize("word", cli.SUBCOMMANDS)
def test_path_named_like_a_subcommand_opens_as_dot_slash(
    word: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, launcher: FakeLauncher
) -> None:
    image = write_mg(tmp_path / word / "a.dcm")
    monkeypatch.chdir(tmp_path)
    assert cli.main([f"./{word}"]) == 0
    ((paths, result),) = launcher.calls
    assert paths == [Path(word)]
    assert [record.path.resolve() for record in result.images] == [image]


def test_subcommand_word_later_is_a_path(tmp_path: Path, launcher: FakeLauncher) -> None:
    good = write_mg(tmp_path / "good.dcm")
    assert cli.main([str(good), "info"]) == 0
    ((paths, _),) = launcher.calls
    assert paths == [good, Path("info")]


def test_review_flag_opens_the_review_mode(tmp_path: Path, launcher: FakeLauncher) -> None:
    image = write_mg(tmp_path / "a.dcm")
    assert cli.main(["--review", str(image)]) == 0
    assert cli.main([str(image)]) == 0
    assert launcher.review == [True, False]


def test_output_piped_into_a_reader_that_stops_early_ends_quietly() -> None:
    """``galactoview sr show … | head``: no BrokenPipeError traceback, exit 141."""
    study = next(p for p in paths.sample_dicom_dir().iterdir() if "DUCTOGRAM" in p.name)
    (sidecar_path,) = study.glob("*.sr.json")
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line: the write fails, always
    try:
        done = subprocess.run(
            [sys.executable, "-m", "galactoview", "sr", "show", str(sidecar_path)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
    assert done.returncode == 141
