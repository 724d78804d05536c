"""The Report dock and Report → Sign / Write Addendum, as a radiologist uses them (issue 14).

Done when: a pytest-qt test fills the editor, signs, reopens: the revision is VERIFIED
with the reader as verifying observer, read-only, and an addendum references it;
dciodvfy 0 errors, highdicom parses the report.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import highdicom as hd
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from galactoview.annotations.model import DuctSegment, GraphicType, ImageRegion
from galactoview.annotations.reader import ReaderIdentity
from galactoview.annotations.report import (
    Assessment,
    ClinicalReport,
    Complication,
    Indication,
    NippleOrifice,
    Recommendation,
    ReportedView,
    Technique,
    UnlocatedFinding,
)
from galactoview.dicom.mammography import Laterality
from galactoview.location.localize import region_center
from galactoview.location.study import locate_document
from galactoview.pacs.configured import NodeKind, NodeSettings
from galactoview.pacs.outgoing import sidecar_sr
from galactoview.sr import sidecar
from galactoview.sr.persistence import open_annotations
from galactoview.sr.signing import MISSING_ASSESSMENT, MISSING_RECOMMENDATION
from galactoview.ui.annotate.report_editor import (
    COMPLICATION_NAMES,
    RECOMMENDATION_NAMES,
    VIEW_NAMES,
    ReportEditor,
    ReportTextEdit,
)
from galactoview.ui.shell.main_window import MainWindow
from galactoview.ui.shell.report_signing import IDENTITY_MISSING
from tests.helpers import sample_images
from tests.sr.test_sr_codec import validate
from tests.ui.annotate.test_annotation_saver import copy_ductogram, mark
from tests.ui.conftest import OpenWindow

READER = ReaderIdentity("Lindqvist", "Åsa", "Dr", "Brustzentrum Süd")


def marked_ductogram(tmp_path: Path) -> Path:
    """Copy the sample ductogram with its sidecar (FD-1, CY-1, DE-1 located on CC + ML)."""
    source = next(r for r in sample_images() if r.contrast_phase.value == "post").path.parent
    return Path(shutil.copytree(source, tmp_path / source.name))


def _sidecar(folder: Path, study: str) -> Path:
    return folder / sidecar.sidecar_name(study)


def _no_confirm(_parent: QWidget, question: str) -> bool:
    raise AssertionError(f"unexpected question: {question}")


def _no_missing(_parent: QWidget, missing: Sequence[str]) -> None:
    raise AssertionError(f"unexpected 'missing': {list(missing)}")


def _yes(questions: list[str]) -> Callable[[QWidget, str], bool]:
    """Answer yes to every question, noting it."""

    def answer(_parent: QWidget, question: str) -> bool:
        questions.append(question)
        return True

    return answer


def _type(qtbot: QtBot, edit: QWidget, text: str) -> None:
    """Replace a field's text as typed (ASCII: QTest types no other), then finish the edit."""
    QTest.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(edit, text)
    if isinstance(edit, ReportTextEdit):
        QTest.keyClick(edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    else:
        QTest.keyClick(edit, Qt.Key.Key_Return)


def _check(qtbot: QtBot, editor: ReportEditor, box_text: str) -> None:
    box = next(
        b
        for b in (
            *editor.view_checks,
            *editor.complication_checks,
            *editor.recommendation_checks,
            editor.magnification_check,
        )
        if b.text() == box_text
    )
    QTest.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def _reading(open_window: OpenWindow, folder: Path) -> tuple[MainWindow, ReportEditor, str]:
    window = open_window([folder])
    window.reader.set_identity(READER)
    editor = window.report_editor
    editor.show()
    editor.raise_()
    study = editor.study
    assert study == window.records[0].study_instance_uid
    return window, editor, study


def test_fill_the_report_undo_a_field_sign_reopen_and_amend(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    folder = marked_ductogram(tmp_path)
    window, editor, study = _reading(open_window, folder)
    assert [line.split(":")[0] for line in editor.finding_lines()] == [
        "FD-1 Intraluminal filling defect",
        "CY-1 Cyst fill",
        "DE-1 Mammary duct ectasia",
    ]
    assert editor.finding_lines()[0].endswith(", 5.8 cm from the nipple, middle third")
    assert editor.finding_lines()[0].startswith("FD-1 Intraluminal filling defect: Left, ")
    assert editor.unlocated_edits == {}  # every finding is located: no reason asked

    combo = editor.indication_combo
    combo.setCurrentIndex(combo.findData(Indication.BLOODY_NIPPLE_DISCHARGE))
    _type(qtbot, editor.indication_edit, "for 3 months, left")
    QTest.mouseClick(editor.orifice_picker.button(NippleOrifice(10)), Qt.MouseButton.LeftButton)
    editor.contrast_spin.setValue(1.5)
    for text in (
        VIEW_NAMES[ReportedView.CRANIO_CAUDAL],
        VIEW_NAMES[ReportedView.MEDIO_LATERAL],
        "Magnification views",
        COMPLICATION_NAMES[Complication.NO_COMPLICATIONS],
        RECOMMENDATION_NAMES[Recommendation.DUCT_EXCISION],
    ):
        _check(qtbot, editor, text)
    _type(qtbot, editor.comparison_edit, "Mammography 2024-02-20: normal")
    _type(qtbot, editor.impression_edit, "Intraductal filling defects")
    _type(qtbot, editor.impression_edit, "Papilloma at 7 o'clock")
    combo = editor.assessment_combo
    combo.setCurrentIndex(combo.findData(Assessment.CATEGORY_4A))
    _type(qtbot, editor.recommendation_edit, "within 4 weeks")

    filled = ClinicalReport(
        indication=Indication.BLOODY_NIPPLE_DISCHARGE,
        indication_text="for 3 months, left",
        technique=Technique(
            NippleOrifice(10),
            1.5,
            (ReportedView.CRANIO_CAUDAL, ReportedView.MEDIO_LATERAL),
            True,
            (Complication.NO_COMPLICATIONS,),
        ),
        comparison="Mammography 2024-02-20: normal",
        impression="Papilloma at 7 o'clock",
        assessment=Assessment.CATEGORY_4A,
        recommendations=(Recommendation.DUCT_EXCISION,),
        recommendation_text="within 4 weeks",
    )
    assert window.workspace.report(study) == filled
    stack = window.workspace.undo_stack
    texts = [stack.text(i) for i in range(stack.count())]
    assert "Edit report: impression" in texts
    assert "Edit report: BI-RADS category" in texts
    assert texts.count("Edit report: views") == 2  # one edit per check box clicked

    # Undo the last impression: the panel shows the impression typed before.
    while stack.undoText() != "Edit report: impression":
        stack.undo()
    stack.undo()
    assert editor.impression_edit.toPlainText() == "Intraductal filling defects"
    assert editor.assessment_combo.currentData() is None  # undone after it
    stack.redo()
    stack.redo()
    stack.redo()
    assert window.workspace.report(study) == filled
    assert editor.impression_edit.toPlainText() == "Papilloma at 7 o'clock"
    assert editor.assessment_combo.currentData() is Assessment.CATEGORY_4A

    questions: list[str] = []
    window.report_signing.confirm = _yes(questions)
    window.report_signing.show_missing = _no_missing
    assert not window.named_actions["write_addendum"].isEnabled()
    first = window.report_signing.sign()
    assert first is not None
    assert questions == [
        "Sign as Lindqvist, Åsa Dr (Brustzentrum Süd)? The signed report cannot be changed, "
        "only amended by an addendum."
    ]
    assert window.statusBar().currentMessage() == (
        f"Report signed by Lindqvist, Åsa Dr — revision {first}"
    )
    assert not editor.fields.isEnabled()
    assert editor.status_text().startswith("Signed by ")
    assert "Report signed by " in window.windowTitle()
    assert window.named_actions["write_addendum"].isEnabled()
    assert not window.named_actions["sign_report"].isEnabled()
    window.close()

    signed = sidecar_sr(_sidecar(folder, study))
    assert signed.SOPInstanceUID == first
    assert signed.CompletionFlag == "COMPLETE"
    assert signed.VerificationFlag == "VERIFIED"
    observer = signed.VerifyingObserverSequence[0]
    assert observer.VerifyingObserverName == READER.person_name
    assert observer.VerifyingOrganization == "Brustzentrum Süd"

    again, editor, _ = _reading(open_window, folder)
    assert again.workspace.report(study) == filled
    assert again.workspace.read_only_reason(study) is not None
    assert not editor.fields.isEnabled()
    assert editor.status_text().startswith("Signed by Lindqvist")
    assert not again.workspace.set_report(study, replace(filled, impression="changed"))
    assert again.workspace.report(study) == filled  # refused

    again.report_signing.ask_addendum = lambda _parent, _text: "Ultrasound added"
    assert again.report_signing.write_addendum()
    assert editor.fields.isEnabled()
    notice = "Addendum to the report signed by Lindqvist"
    assert editor.status_text().startswith(notice)
    assert notice in again.windowTitle()
    assert editor.addendum_edit.toPlainText() == "Ultrasound added"
    _type(qtbot, editor.impression_edit, "Papilloma at 7 o'clock, seen on ultrasound")
    again.report_signing.confirm = lambda _parent, _q: True
    again.report_signing.show_missing = _no_missing
    second = again.report_signing.sign()
    assert second is not None and second != first
    again.close()

    reopened = open_annotations(study, sorted(folder.glob("*.dcm")))
    assert reopened.signature is not None
    assert reopened.signature.observer_name == READER.person_name
    assert reopened.report is not None
    assert reopened.report.addendum is not None
    assert reopened.report.addendum.signed_revision_uid == first
    assert reopened.report.addendum.text == "Ultrasound added"
    assert reopened.report.impression == "Papilloma at 7 o'clock, seen on ultrasound"
    amended = sidecar_sr(_sidecar(folder, study))
    assert amended.SOPInstanceUID == second
    assert amended.VerificationFlag == "VERIFIED"
    assert amended.VerifyingObserverSequence[0].VerifyingObserverName == READER.person_name
    path = tmp_path / "amended.dcm"
    amended.save_as(path, enforce_file_format=True)
    parsed = hd.sr.srread(path)
    assert parsed.VerificationFlag == "VERIFIED"
    assert parsed.SOPInstanceUID == second
    validate(path)  # dciodvfy: 0 errors (skips when dicom3tools is absent)


def test_signing_with_something_missing_lists_it_and_writes_nothing(
    open_window: OpenWindow, tmp_path: Path
) -> None:
    folder = marked_ductogram(tmp_path)
    window, editor, study = _reading(open_window, folder)
    before = _sidecar(folder, study).read_bytes()
    shown: list[Sequence[str]] = []
    window.report_signing.show_missing = lambda _parent, lines: shown.append(tuple(lines))
    window.report_signing.confirm = _no_confirm
    assert window.report_signing.sign() is None
    assert shown == [(MISSING_ASSESSMENT, MISSING_RECOMMENDATION)]
    assert _sidecar(folder, study).read_bytes() == before
    assert window.workspace.read_only_reason(study) is None
    assert editor.fields.isEnabled()


def test_a_finding_not_located_asks_why_and_signing_needs_it(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    folder = copy_ductogram(tmp_path)
    window = open_window([folder])
    window.reader.set_identity(READER)
    study, finding = mark(window)  # one point on one view: no clock face
    editor = window.report_editor
    assert editor.finding_lines() == ["CY-1 Cyst fill: Left, not located"]
    complete = ClinicalReport(
        assessment=Assessment.CATEGORY_2, recommendations=(Recommendation.DUCTOSCOPY,)
    )
    window.workspace.set_report(study, complete)
    shown: list[Sequence[str]] = []
    window.report_signing.show_missing = lambda _parent, lines: shown.append(tuple(lines))
    assert window.report_signing.sign() is None
    assert shown == [("CY-1: not located and no reason given",)]

    edit = editor.unlocated_edits[finding.tracking_uid]
    _type(qtbot, edit, "seen on the CC only")
    assert window.workspace.report(study).unlocated == (
        UnlocatedFinding(finding.tracking_uid, "seen on the CC only"),
    )
    assert window.workspace.undo_stack.undoText() == "Edit report: why CY-1 is not located"
    window.report_signing.confirm = lambda _parent, _q: True
    assert window.report_signing.sign() is not None
    assert not editor.fields.isEnabled()
    assert not edit.isEnabledTo(window)


def test_signing_without_an_identity_asks_for_it_first(
    open_window: OpenWindow, tmp_path: Path
) -> None:
    folder = marked_ductogram(tmp_path)
    window = open_window([folder])
    study = window.report_editor.study
    assert study is not None and not window.workspace.reader
    window.workspace.set_report(
        study,
        ClinicalReport(
            assessment=Assessment.CATEGORY_3, recommendations=(Recommendation.MRI_OF_BREAST,)
        ),
    )
    asked: list[str] = []
    window.report_signing.confirm = _yes(asked)
    assert window.report_signing.sign() is None
    dialog = window.reader.dialog
    assert dialog is not None and asked == []
    dialog.family.setText("Lindqvist")
    dialog.given.setText("Åsa")
    dialog.institution.setText("Brustzentrum Süd")
    dialog.accept()  # signs now
    assert len(asked) == 1
    assert window.workspace.read_only_reason(study) is not None
    assert sidecar_sr(_sidecar(folder, study)).VerificationFlag == "VERIFIED"


def test_the_orifice_from_the_duct_trace_is_the_clock_face_of_its_root(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    """A root traced through FD-1 on CC and ML has FD-1's clock face (its middle is FD-1)."""
    folder = marked_ductogram(tmp_path)
    window, editor, study = _reading(open_window, folder)
    QTest.mouseClick(editor.trace_button, Qt.MouseButton.LeftButton)
    assert editor.orifice_label.text() == "no duct is traced"
    assert window.workspace.report(study).technique.orifice is None

    annotations = window.workspace.annotations(study)
    fd1 = annotations.findings[0]
    for number, region in enumerate(fd1.regions[:2], start=1):  # the CC and the ML
        column, row = region_center(region)
        trace = ImageRegion(
            region.sop_instance_uid,
            region.frame,
            GraphicType.POLYLINE,
            ((column - 40.0, row - 10.0), (column + 40.0, row + 10.0)),
        )
        window.workspace.add_duct_segment(
            study, DuctSegment.new(trace, short_id=f"DS-{number}", laterality=Laterality.LEFT)
        )
    location = locate_document(window.workspace.snapshot(study), window.records)[fd1.tracking_uid]
    assert location.breast is not None
    QTest.mouseClick(editor.trace_button, Qt.MouseButton.LeftButton)
    expected = NippleOrifice(location.breast.clock_hour)
    assert window.workspace.report(study).technique.orifice == expected
    assert editor.orifice_picker.value() == expected
    assert editor.orifice_picker.button(expected).isChecked()
    assert window.workspace.undo_stack.undoText() == "Edit report: orifice from the duct trace"
    # Clicking the hour picked clears it (one undoable edit).
    QTest.mouseClick(editor.orifice_picker.button(expected), Qt.MouseButton.LeftButton)
    assert window.workspace.report(study).technique.orifice is None
    window.workspace.undo_stack.undo()
    assert editor.orifice_picker.value() == expected


@pytest.mark.parametrize("size", [(1024, 768)])
def test_the_report_dock_fits_a_small_screen(
    open_window: OpenWindow, tmp_path: Path, size: tuple[int, int]
) -> None:
    folder = marked_ductogram(tmp_path)
    window, editor, _ = _reading(open_window, folder)
    window.resize(*size)
    window.side_panels.set_shown(True)  # collapsed in a small window (issue 15): F6
    editor.raise_()
    assert editor.isVisible()
    assert window.findings_dock in window.tabifiedDockWidgets(editor)
    assert editor.widget().minimumSizeHint().height() < size[1] // 2  # it scrolls


def test_after_signing_the_pacs_actions_are_offered_the_report_pdf(
    open_window: OpenWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a PACS node configured, the PACS actions get the study and its report's PDF."""
    folder = marked_ductogram(tmp_path)
    window, _, study = _reading(open_window, folder)
    window.workspace.set_report(
        study,
        ClinicalReport(
            assessment=Assessment.CATEGORY_2, recommendations=(Recommendation.DUCTOSCOPY,)
        ),
    )
    offered: list[tuple[str, bytes | Path]] = []
    node = NodeSettings("Orthanc", NodeKind.DICOMWEB, url="http://127.0.0.1:9/dicom-web")
    monkeypatch.setattr(window.pacs.config, "default", lambda: node)
    monkeypatch.setattr(window.pacs, "offer_signed_store", lambda s, pdf: offered.append((s, pdf)))
    window.report_signing.confirm = _yes([])
    assert window.report_signing.sign() is not None
    assert [s for s, _ in offered] == [study]
    pdf = offered[0][1]
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF")
    monkeypatch.undo()  # no node again: closing the window asks nothing


def test_the_dock_and_the_menu_follow_the_study_of_the_active_image(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    ductogram = marked_ductogram(tmp_path)
    prior_source = next(p for p in ductogram_parent().iterdir() if "PRIOR" in p.name)
    prior = Path(shutil.copytree(prior_source, tmp_path / prior_source.name))
    window = open_window([ductogram, prior])
    window.reader.set_identity(READER)
    editor = window.report_editor
    study = editor.study
    assert study is not None
    window.workspace.set_report(
        study,
        ClinicalReport(
            assessment=Assessment.CATEGORY_2, recommendations=(Recommendation.DUCTOSCOPY,)
        ),
    )
    window.report_signing.confirm = _yes([])
    assert window.report_signing.sign() is not None
    actions = window.named_actions
    assert actions["write_addendum"].isEnabled() and not actions["sign_report"].isEnabled()

    other = next(i for i, r in enumerate(window.records) if r.study_instance_uid != study)
    window.select_image(other)
    qtbot.waitUntil(lambda: editor.study == window.records[other].study_instance_uid)
    assert editor.fields.isEnabled() and editor.status_text() == ""
    assert editor.finding_lines() == []
    assert actions["sign_report"].isEnabled() and not actions["write_addendum"].isEnabled()
    assert "Report signed" not in window.windowTitle()

    back = next(i for i, r in enumerate(window.records) if r.study_instance_uid == study)
    window.select_image(back)
    qtbot.waitUntil(lambda: editor.study == study)
    assert not editor.fields.isEnabled()
    assert actions["write_addendum"].isEnabled()


def ductogram_parent() -> Path:
    """The sample's folder of studies."""
    post = next(r for r in sample_images() if r.contrast_phase.value == "post")
    return post.path.parent.parent


def test_a_findings_wording_is_editable_and_its_numbers_are_not(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    """Issue 14: findings pre-filled from the marks, editable wording, never editable numbers."""
    folder = marked_ductogram(tmp_path)
    window, editor, study = _reading(open_window, folder)
    defect = next(f for f in window.workspace.annotations(study).findings if f.short_id == "FD-1")
    lines = editor.finding_lines()
    edit = editor.wording_edits[defect.tracking_uid]
    assert edit.text() == defect.note  # pre-filled with the finding's note
    _type(qtbot, edit, "Smooth 7 mm filling defect, no duct cut-off")
    changed = next(f for f in window.workspace.annotations(study).findings if f.short_id == "FD-1")
    assert changed.note == "Smooth 7 mm filling defect, no duct cut-off"
    assert window.workspace.undo_stack.undoText() == "Edit FD-1 wording"
    assert editor.finding_lines() == lines  # the located numbers are the marks', unchanged
    window.workspace.undo_stack.undo()
    assert editor.wording_edits[defect.tracking_uid].text() == defect.note


def test_without_identity_and_assessment_everything_missing_is_listed_at_once(
    open_window: OpenWindow, tmp_path: Path
) -> None:
    """Tester (issue 14): the institution was asked first, BI-RADS only on the next try."""
    folder = marked_ductogram(tmp_path)
    window = open_window([folder])
    shown: list[Sequence[str]] = []
    window.report_signing.show_missing = lambda _parent, lines: shown.append(tuple(lines))
    window.report_signing.confirm = _no_confirm
    assert window.report_signing.sign() is None
    assert shown == [(IDENTITY_MISSING, MISSING_ASSESSMENT, MISSING_RECOMMENDATION)]
    assert window.reader.dialog is None  # the list says it all; no dialog on top of it


def test_after_signing_nothing_can_be_undone_into_the_signed_report(
    open_window: OpenWindow, tmp_path: Path
) -> None:
    """Tester (issue 14): Undo emptied a field of the signed report, autosave then failed."""
    folder = marked_ductogram(tmp_path)
    window, _editor, study = _reading(open_window, folder)
    window.workspace.set_report(
        study,
        ClinicalReport(
            assessment=Assessment.CATEGORY_2, recommendations=(Recommendation.DUCTOSCOPY,)
        ),
        "Edit report: recommendation",
    )
    assert window.workspace.undo_stack.canUndo()
    window.report_signing.confirm = _yes([])
    assert window.report_signing.sign() is not None
    assert not window.workspace.undo_stack.canUndo()
    window.workspace.undo_stack.undo()  # Ctrl+Z does nothing now
    assert window.workspace.report(study).recommendations == (Recommendation.DUCTOSCOPY,)
    assert not window.workspace.is_modified()
    assert window.saver.failure_reasons() == {}
