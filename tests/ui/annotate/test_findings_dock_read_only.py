"""The Findings dock looks read-only on a signed study, and editable again in an addendum."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from tests.sr.test_persistence import SIGNATURE
from tests.ui.annotate.test_signed_read_only import study_with_report
from tests.ui.conftest import OpenWindow


def test_signed_study_disables_the_editor_with_the_reason_and_an_addendum_enables_it(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    folder, study, finding, _ = study_with_report(open_window, tmp_path, SIGNATURE)
    window = open_window([folder])
    dock = window.findings_dock
    reason = window.workspace.read_only_reason(study)
    assert reason is not None
    window.workspace.select(finding.tracking_uid)
    assert dock.current_finding() == finding
    for control in (dock.editor, dock.link_button, dock.delete_button):
        assert not control.isEnabled()
        assert control.toolTip() == f"Read-only: {reason}"
    assert not dock.link_action.isEnabled() and not dock.merge_action.isEnabled()
    assert not dock.read_only_label.isHidden()
    assert reason in dock.read_only_label.text()

    assert window.workspace.begin_addendum(study, "Second look at FD-1")
    assert window.workspace.read_only_reason(study) is None
    for control in (dock.editor, dock.link_button, dock.delete_button):
        assert control.isEnabled()
        assert "Read-only" not in control.toolTip()
    assert dock.link_action.isEnabled() and dock.merge_action.isEnabled()
    assert dock.read_only_label.isHidden()


def test_an_unsigned_study_is_editable_in_the_dock(open_window: OpenWindow, tmp_path: Path) -> None:
    folder, study, finding, _ = study_with_report(open_window, tmp_path, None)
    window = open_window([folder])
    window.workspace.select(finding.tracking_uid)
    dock = window.findings_dock
    assert window.workspace.read_only_reason(study) is None
    assert dock.editor.isEnabled() and dock.delete_button.isEnabled()
    assert dock.read_only_label.isHidden() and dock.editor.toolTip() == ""


def test_the_selected_finding_shows_its_whole_location_under_the_list(
    open_window: OpenWindow, tmp_path: Path
) -> None:
    folder, _study, finding, _ = study_with_report(open_window, tmp_path, None)
    window = open_window([folder])
    dock = window.findings_dock
    window.workspace.select(finding.tracking_uid)
    location = dock.row_texts(finding.tracking_uid)[2]
    assert location and dock.location_label.text() == location
    assert dock.location_label.wordWrap()
    header = dock.tree.header()
    assert header.visualIndex(2) == 1  # right after the id
    item = dock.item_for(finding.tracking_uid)
    assert item is not None and item.toolTip(2).startswith(location)
