"""Edit → Reader Identity: asked once before the first mark, recorded on marks and revisions."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from galactoview.analysis.results import DefectFlag, DefectFlags
from galactoview.annotations.reader import ReaderIdentity
from galactoview.sr import sidecar
from galactoview.sr.sr_codec import decode, from_json
from galactoview.ui.annotate.annotation_tools import AnnotationTool
from galactoview.ui.shell import reader_identity
from galactoview.ui.shell.reader_identity import load_reader
from galactoview.ui.shell.settings import Settings
from tests.ui.annotate.test_analysis_suggestions import opened_on_post_cc, suggested
from tests.ui.annotate.test_annotation_saver import copy_ductogram, mark
from tests.ui.conftest import OpenWindow


@pytest.fixture
def asking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader_identity, "ASK_BEFORE_FIRST_MARK", True)


def test_first_marking_tool_asks_who_reads_and_the_marks_and_revision_say_it(
    asking: None, open_window: OpenWindow, qtbot: QtBot, settings: Settings, tmp_path: Path
) -> None:
    folder = copy_ductogram(tmp_path)
    window = open_window([folder])
    assert window.workspace.reader == ""
    window.set_annotation_tool(AnnotationTool.POINT)
    dialog = window.reader.dialog
    assert dialog is not None and dialog.isVisible()
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()  # no name yet
    dialog.family.setText("Cu^rie")
    assert not ok.isEnabled()
    assert "cannot contain '^'" in dialog.problem_label.text()
    dialog.family.setText("Curie")
    dialog.given.setText("Marie")
    dialog.prefix.setText("Dr")
    dialog.institution.setText("Institut du Radium")
    assert ok.isEnabled()
    ok.click()
    assert window.reader.dialog is None
    assert window.workspace.reader == "Curie^Marie^^Dr"
    assert load_reader(settings) == ReaderIdentity("Curie", "Marie", "Dr", "Institut du Radium")
    window.set_annotation_tool(AnnotationTool.ELLIPSE)
    assert window.reader.dialog is None  # asked once

    study, _ = mark(window)
    (finding,) = window.workspace.annotations(study).findings
    assert finding.observer == "Curie^Marie^^Dr"
    assert window.findings_dock.observer_label.text() == "Curie, Marie Dr"
    with qtbot.waitSignal(window.saver.saved, timeout=10_000):
        window.saver.save_now()
    text = (folder / sidecar.sidecar_name(study)).read_text("utf-8")
    saved = decode(from_json(text)).annotations
    assert saved.observer == "Curie^Marie^^Dr"
    assert saved.observer_organization == "Institut du Radium"  # TID 1003, DCM 121009
    assert [f.observer for f in saved.findings] == ["Curie^Marie^^Dr"]


def test_cancel_leaves_marks_unattributed_and_is_not_asked_again(
    asking: None, open_window: OpenWindow, tmp_path: Path
) -> None:
    window = open_window([copy_ductogram(tmp_path)])
    window.set_annotation_tool(AnnotationTool.POINT)
    dialog = window.reader.dialog
    assert dialog is not None
    dialog.reject()
    window.set_annotation_tool(AnnotationTool.ELLIPSE)
    assert window.reader.dialog is None
    study, _ = mark(window)
    assert window.workspace.annotations(study).findings[0].observer == ""
    assert window.findings_dock.observer_label.text() == "—"


def test_a_stored_identity_is_used_without_asking(
    asking: None, open_window: OpenWindow, settings: Settings, tmp_path: Path
) -> None:
    settings.set("reader/person_name", "Curie^Marie")
    window = open_window([copy_ductogram(tmp_path)])
    window.set_annotation_tool(AnnotationTool.POINT)
    assert window.reader.dialog is None
    assert window.workspace.reader == "Curie^Marie"
    # Edit → Reader Identity… changes it for the edits that follow.
    action = window.named_actions["reader_identity"]
    action.trigger()
    dialog = window.reader.dialog
    assert dialog is not None and dialog.family.text() == "Curie"
    dialog.given.setText("Pierre")
    dialog.accept()
    assert window.workspace.reader == "Curie^Pierre"


def test_suggestions_shown_ask_who_reads_before_one_is_accepted(
    asking: None, open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    window, _viewport, record = opened_on_post_cc(open_window, qtbot, tmp_path)
    assert window.reader.dialog is None  # looking is not marking
    suggested(qtbot, window, Qt.Key.Key_T)  # a tree is shown: a click accepts
    dialog = window.reader.dialog
    assert dialog is not None and dialog.isVisible()
    dialog.family.setText("Curie")
    dialog.given.setText("Marie")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    away = DefectFlag((400.0, 1200.0), 12.0, 0, 0.9, 2.2, 0.62, False, False, "lumen gap 2.2 mm")
    assert window.suggestions.show_flags(record.sop_instance_uid, None, DefectFlags((away,), 0.01))
    assert window.suggestions.accept_flag(record.sop_instance_uid, None, 0)
    added = window.workspace.annotations(record.study_instance_uid).findings[-1]
    assert added.algorithm is not None and added.observer == "Curie^Marie"
