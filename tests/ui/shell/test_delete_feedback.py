"""Del says what it deleted (a finding goes with its regions on every view), or that nothing was."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from galactoview import paths
from tests.ui.conftest import OpenWindow


def test_delete_names_the_finding_and_its_views_and_undo_brings_it_back(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    sample = paths.sample_dicom_dir()
    if not sample.is_dir():
        pytest.skip(f"sample study not generated yet: {sample} does not exist")
    copy = tmp_path / "dicom"
    shutil.copytree(sample, copy)
    window = open_window([copy])
    study = window.records[0].study_instance_uid
    (finding,) = (f for f in window.workspace.annotations(study).findings if f.short_id == "FD-1")
    window.workspace.select(finding.tracking_uid)
    window.named_actions["delete_selected"].trigger()
    message = window.statusBar().currentMessage()
    assert message.startswith("Deleted FD-1 (L CC, L ML")  # both views it is on, shown here
    assert "Ctrl+Z" in message
    assert finding.tracking_uid not in {
        f.tracking_uid for f in window.workspace.annotations(study).findings
    }
    window.workspace.undo_stack.undo()
    assert finding in window.workspace.annotations(study).findings
    window.workspace.select(None)
    window.named_actions["delete_selected"].trigger()
    assert window.statusBar().currentMessage().startswith("Nothing selected to delete")
