"""A signed report's marks open read-only: an edit is refused and says who signed (issue 14)."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from galactoview.annotations.model import Finding
from galactoview.dicom.loading import read_header
from galactoview.sr.clinical_report import ClinicalReport
from galactoview.sr.persistence import open_annotations, save_annotations
from galactoview.sr.signing import Signature
from tests.sr.test_persistence import SIGNATURE, explained
from tests.ui.annotate.test_annotation_saver import copy_ductogram, mark
from tests.ui.conftest import OpenWindow


def study_with_report(
    open_window: OpenWindow, tmp_path: Path, signature: Signature | None
) -> tuple[Path, str, Finding, ClinicalReport]:
    """A copied ductogram with one finding marked in the window and a report, maybe signed."""
    folder = copy_ductogram(tmp_path)
    window = open_window([folder])
    study, finding = mark(window)
    header = read_header(window.records[0])
    window.close()
    opened = open_annotations(study, sorted(folder.glob("*.dcm")))
    assert opened.annotations.findings == (finding,)
    report = explained(finding)
    save_annotations(
        opened.annotations, [header], opened.target, report=report, signature=signature
    )
    return folder, study, finding, report


def test_a_signed_revision_opens_read_only_and_an_edit_says_why(
    open_window: OpenWindow, tmp_path: Path
) -> None:
    folder, study, finding, _ = study_with_report(open_window, tmp_path, SIGNATURE)
    again = open_window([folder])
    assert again.workspace.annotations(study).findings == (finding,)
    assert again.workspace.read_only_reason(study) is not None
    messages: list[str] = []
    again.workspace.read_only_refused.connect(messages.append)
    mark(again)
    assert again.workspace.annotations(study).findings == (finding,)  # refused
    assert not again.workspace.is_modified()
    assert messages == [again.workspace.read_only_reason(study)]
    assert messages[0] == (  # short enough for the status bar of a 1400 px window
        "signed by Lindqvist, Åsa on 2026-12-04 18:30; Report → Write Addendum… to amend it"
    )
    assert again.statusBar().currentMessage() == f"Not changed: {messages[0]}"


def test_a_draft_report_survives_an_edit_and_autosave(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    """A save after a marks edit writes the report it read, unchanged."""
    folder, study, _, draft = study_with_report(open_window, tmp_path, None)
    again = open_window([folder])
    assert again.workspace.read_only_reason(study) is None  # a draft is not signed
    mark(again)
    with qtbot.waitSignal(again.saver.saved, timeout=10_000):
        again.saver.save_now()
    reopened = open_annotations(study, sorted(folder.glob("*.dcm")))
    assert len(reopened.annotations.findings) == 2
    assert reopened.report == draft
