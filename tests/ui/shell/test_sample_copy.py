"""`galactoview` with no path opens a per-user copy of the sample: marking never writes the repo."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from galactoview import cli
from galactoview.dicom.loading import ScanResult
from galactoview.paths import sample_data_dir
from galactoview.sr import sidecar
from galactoview.sr.persistence import open_annotations
from galactoview.ui.shell.main_window import MainWindow
from tests.ui.annotate.test_annotation_saver import mark
from tests.ui.conftest import OpenWindow
from tests.ui.shell.test_workstation import settle


def snapshot(folder: Path) -> dict[str, str]:
    """Return every file under a folder with its SHA-256."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def git_status(folder: Path) -> str | None:
    """Return ``git status --porcelain`` of a folder of the checkout; None when not a checkout."""
    git = shutil.which("git")
    if git is None:
        return None
    root = folder.parent
    inside = subprocess.run(
        [git, "-C", str(root), "rev-parse", "--is-inside-work-tree"],
        capture_output=True,
        text=True,
        check=False,
    )
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        return None
    return subprocess.run(
        [git, "-C", str(root), "status", "--porcelain", "--", folder.name],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_a_mark_on_the_sample_opened_with_no_path_leaves_the_repository_alone(
    open_window: OpenWindow,
    qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
    user_data_home: Path,
) -> None:
    data = sample_data_dir()
    if not (data / "dicom").is_dir():
        pytest.skip(f"no sample study in {data}")
    status_before = git_status(data)
    files_before = snapshot(data)
    opened: list[MainWindow] = []

    def launch(
        paths: Sequence[Path], _result: ScanResult, *, review: bool = False, pacs: bool = False
    ) -> int:
        assert not review and not pacs
        opened.append(open_window(list(paths)))
        return 0

    monkeypatch.setattr(cli.open_window, "launch", launch)
    assert cli.main([]) == 0  # exactly what `make run` / `galactoview` does
    (window,) = opened
    settle(qtbot, window)
    copies = user_data_home / "GalactoView" / "sample-study"
    assert all(copies in record.path.parents for record in window.records)
    study, finding = mark(window)
    assert window.saver.save_now()
    window.close()

    (copy,) = copies.iterdir()
    images = [r.path for r in window.records if r.study_instance_uid == study]
    reopened = open_annotations(study, images, user_dir=user_data_home / "elsewhere")
    assert reopened.target.path == images[0].parent / sidecar.sidecar_name(study)
    assert copy in reopened.target.path.parents
    assert finding in reopened.annotations.findings
    assert [f.short_id for f in reopened.annotations.findings] == ["FD-1", "CY-1", "DE-1", "CY-2"]
    assert snapshot(data) == files_before  # no file of sample_data changed, none added
    if status_before is None:
        pytest.skip(f"{data.parent} is not a git checkout: the files were checked, not git")
    assert git_status(data) == status_before  # empty in a clean checkout
