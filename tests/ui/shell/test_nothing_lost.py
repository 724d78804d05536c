"""Nothing a reader marks is lost: read-only folders, files in the way, a full disk, quitting.

Each test edits a copy of the sample ductogram through the window and checks where the
marks end up on disk, what the banner says, and what is asked before closing.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
from collections.abc import Sequence
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from galactoview.sr import sidecar
from galactoview.sr.persistence import open_annotations
from galactoview.ui.annotate import annotation_saver
from galactoview.ui.annotate.annotation_tools import AnnotationTool
from galactoview.ui.shell.main_window import MainWindow
from galactoview.ui.shell.save_guard import SaveOnTermination, UnsavedChoice, ask_with_dialog
from galactoview.ui.viewer.viewport import MouseMode, ToolClick
from tests.helpers import make_mg_dataset, sample_images, write_dataset
from tests.ui.annotate.test_annotation_saver import copy_ductogram, mark
from tests.ui.conftest import OpenWindow


def sample_finding_count() -> int:
    """Return the number of findings in the bundled sidecar."""
    folder = next(r for r in sample_images() if r.contrast_phase.value == "post").path.parent
    study = next(r for r in sample_images() if r.path.parent == folder).study_instance_uid
    return len(open_annotations(study, list(folder.glob("*.dcm"))).annotations.findings)


def sample_sidecar() -> Path:
    """Return the bundled ductogram's sidecar (read only, never written by tests)."""
    folder = next(r for r in sample_images() if r.contrast_phase.value == "post").path.parent
    return next(folder.glob("galactoview-*.sr.json"))


def annotated_copy(tmp_path: Path) -> Path:
    """Copy the sample ductogram with its sidecar into a writable folder."""
    folder = copy_ductogram(tmp_path)
    shutil.copy(sample_sidecar(), folder)
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def make_read_only(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Make the write probe see ``folder`` as read-only (root writes through chmod)."""
    probe = sidecar.folder_write_problem

    def read_only(candidate: Path) -> str | None:
        return "Read-only file system" if Path(candidate) == folder else probe(candidate)

    monkeypatch.setattr(sidecar, "folder_write_problem", read_only)


def user_sidecar(study: str) -> Path:
    return sidecar.user_sidecar_dir() / sidecar.sidecar_name(study)


class Answers:
    """Scripted answers to the unsaved-marks question; records what was asked."""

    def __init__(self, *answers: UnsavedChoice) -> None:
        self.answers = list(answers)
        self.asked: list[list[str]] = []

    def __call__(self, _parent: QWidget, lines: Sequence[str]) -> UnsavedChoice:
        self.asked.append(list(lines))
        return self.answers.pop(0)


def fill_the_disk(monkeypatch: pytest.MonkeyPatch, except_in: Path | None = None) -> None:
    """Make every sidecar write fail with ENOSPC, except in the folder ``except_in``."""
    write = sidecar._write_temporary

    def disk_full(path: Path, data: bytes) -> tuple[Path, sidecar.Fingerprint]:
        if except_in is not None and path.parent == except_in:
            return write(path, data)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(sidecar, "_write_temporary", disk_full)


def save_and_wait(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.saver.storage_changed, timeout=10_000):
        window.named_actions["save_annotations"].trigger()


def test_read_only_folder_with_a_sidecar_saves_new_marks_per_user_and_they_reload(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = annotated_copy(tmp_path)
    make_read_only(monkeypatch, folder)
    before = snapshot(folder)
    window = open_window([folder])
    study = window.records[0].study_instance_uid
    existing = len(window.workspace.annotations(study).findings)
    assert existing == sample_finding_count() > 0  # the folder's sidecar was read
    assert "Read-only study folder" in window.storage_banner.text()
    assert str(user_sidecar(study)) in window.storage_banner.text()
    _, finding = mark(window)
    save_and_wait(qtbot, window)
    assert snapshot(folder) == before  # nothing written into the read-only folder
    assert user_sidecar(study).is_file()
    window.close()
    again = open_window([folder])
    findings = again.workspace.annotations(study).findings
    assert len(findings) == existing + 1
    assert finding.tracking_uid in {f.tracking_uid for f in findings}


def test_a_sidecar_deleted_while_open_is_written_again(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    folder = annotated_copy(tmp_path)
    window = open_window([folder])
    study, finding = mark(window)
    path = folder / sidecar.sidecar_name(study)
    path.unlink()
    save_and_wait(qtbot, window)
    assert path.is_file()
    reopened = open_annotations(study, list(folder.glob("*.dcm")))
    assert finding in reopened.annotations.findings
    assert len(reopened.annotations.findings) == sample_finding_count() + 1
    assert window.storage_banner.text() == ""


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_a_folder_or_fifo_at_the_sidecar_path_sends_the_marks_to_the_user_folder(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path, kind: str
) -> None:
    if kind == "fifo" and not hasattr(os, "mkfifo"):
        pytest.skip("FIFOs are a POSIX feature")
    folder = copy_ductogram(tmp_path)
    study = next(r for r in sample_images() if r.path.parent.name == folder.name).study_instance_uid
    blocker = folder / sidecar.sidecar_name(study)
    if kind == "folder":
        blocker.mkdir()
    else:
        os.mkfifo(blocker)
    window = open_window([folder])  # a FIFO read would block here: it must not
    problems = "\n".join(window.problems_dock.messages())
    assert "is in the way of the sidecar" in problems
    assert str(user_sidecar(study)) in window.storage_banner.text()
    _, finding = mark(window)
    save_and_wait(qtbot, window)
    saved = open_annotations(study, list(folder.glob("*.dcm")))
    assert saved.annotations.findings == (finding,)
    assert saved.target.path == user_sidecar(study)


def test_disk_full_keeps_the_marks_and_quitting_asks(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = annotated_copy(tmp_path)
    good = snapshot(folder)
    window = open_window([folder])
    study, finding = mark(window)

    elsewhere = tmp_path / "usb-stick" / "marks.sr.json"
    fill_the_disk(monkeypatch, except_in=elsewhere.parent)  # another disk, with room
    save_and_wait(qtbot, window)
    assert snapshot(folder) == good  # the last good sidecar is kept
    assert not user_sidecar(study).exists()
    banner = window.storage_banner.text()
    assert banner.startswith("Marks NOT saved")
    assert "No space left on device" in banner
    assert window.storage_banner.save_button.isVisible()
    assert window.windowTitle().startswith("• ")

    answers = Answers(UnsavedChoice.CANCEL, UnsavedChoice.SAVE_ELSEWHERE)
    window.unsaved_guard.ask = answers
    assert not window.close()  # cancelled: the window stays with the marks
    assert window.isVisible()
    assert len(answers.asked) == 1 and "No space left on device" in answers.asked[0][0]
    assert finding in window.workspace.annotations(study).findings

    # "Save Elsewhere…" to a file the reader picks, on a disk with room.
    window.unsaved_guard.choose_file = lambda _parent, _suggested: elsewhere
    assert window.close()
    assert len(answers.asked) == 2
    rescued = sidecar.load(elsewhere)
    assert rescued is not None
    assert finding.tracking_uid in rescued.text
    assert any(
        f"galactoview sr import {elsewhere} STUDY_FOLDER" in line
        for line in window.problems_dock.messages()
    )


def test_discarding_on_quit_closes_and_leaves_the_disk_as_it_was(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = annotated_copy(tmp_path)
    good = snapshot(folder)
    window = open_window([folder])
    mark(window)

    fill_the_disk(monkeypatch)
    answers = Answers(UnsavedChoice.DISCARD)
    window.unsaved_guard.ask = answers
    assert window.close()
    assert len(answers.asked) == 1
    assert snapshot(folder) == good


def test_the_real_question_offers_save_elsewhere_discard_and_cancel(qtbot: QtBot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    seen: list[list[str]] = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        seen.append([button.text() for button in box.buttons()])
        discard = next(b for b in box.buttons() if b.text() == "Discard")
        discard.click()

    QTimer.singleShot(0, answer)
    assert ask_with_dialog(parent, ["study 1.2.3: disk full"]) is UnsavedChoice.DISCARD
    assert sorted(seen[0]) == sorted(["Save Elsewhere…", "Discard", "Cancel"])


def test_a_keep_both_copy_is_loaded_again_on_reopen(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    folder = annotated_copy(tmp_path)
    window = open_window([folder])
    study, finding = mark(window)
    target = window.saver.target(study)
    assert target is not None
    window.saver.keep_both(study)  # as after "Keep Both" in the conflict question
    copies = sidecar.alongside_sidecars(folder / sidecar.sidecar_name(study))
    assert len(copies) == 1
    window.close()
    again = open_window([folder])
    assert finding in again.workspace.annotations(study).findings
    assert again.saver.target(study).path == copies[0]  # type: ignore[union-attr]
    problems = "\n".join(again.problems_dock.messages())
    assert "another version of these annotations, kept and not loaded" in problems


def test_marks_on_images_not_loaded_are_saved_and_come_back(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    folder = annotated_copy(tmp_path)
    files = sorted(folder.glob("*.dcm"))
    subset = tmp_path / "one-image"
    subset.mkdir()
    # One image opened on its own, the sidecar beside it: the other marks' images are absent.
    shutil.copy(files[0], subset)
    shutil.copy(next(folder.glob("galactoview-*.sr.json")), subset)
    window = open_window([subset])
    study, finding = mark(window)
    save_and_wait(qtbot, window)
    assert not window.windowTitle().startswith("• ")
    assert window.storage_banner.text() == ""
    window.close()
    for path in files[1:]:
        shutil.copy(path, subset)
    reopened = open_annotations(study, list(subset.glob("*.dcm")))
    findings = reopened.annotations.findings
    assert finding in findings
    assert len(findings) == sample_finding_count() + 1  # marks on the others saved again


def test_a_minimal_study_without_orientation_spacing_or_birth_date_saves_its_marks(
    open_window: OpenWindow, qtbot: QtBot, study_dir: Path
) -> None:
    # The synthetic study has no Patient Orientation, Imager Pixel Spacing or Birth Date,
    # as anonymised or uncalibrated images often do: the SR must still be written.
    window = open_window([study_dir])
    study, finding = mark(window)
    save_and_wait(qtbot, window)
    assert window.saver.failure_reasons() == {}
    assert not window.windowTitle().startswith("• ")
    target = window.saver.target(study)
    assert target is not None and target.path.parent == study_dir
    reopened = open_annotations(study, list(study_dir.rglob("*.dcm")))
    assert reopened.annotations.findings == (finding,)


def test_an_unexpected_failure_building_the_sr_is_shown_and_quitting_asks(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = annotated_copy(tmp_path)
    good = snapshot(folder)
    window = open_window([folder])
    mark(window)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise AttributeError("'FileDataset' object has no attribute 'Something'")

    monkeypatch.setattr(annotation_saver, "save_annotations", broken)
    save_and_wait(qtbot, window)
    assert window.storage_banner.text().startswith(
        "Marks NOT saved: the SR could not be built (AttributeError: 'FileDataset' object"
    )
    answers = Answers(UnsavedChoice.DISCARD)
    window.unsaved_guard.ask = answers
    assert window.close()
    assert len(answers.asked) == 1
    assert snapshot(folder) == good


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name != "posix", reason="POSIX signals")
def test_sigterm_within_the_autosave_delay_saves_the_last_mark(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    folder = annotated_copy(tmp_path)
    window = open_window([folder])
    termination = SaveOnTermination(window, window.unsaved_guard)
    quits: list[bool] = []
    termination.quit = lambda: quits.append(True)
    try:
        study, finding = mark(window)  # the autosave would run two seconds later
        os.kill(os.getpid(), signal.SIGTERM)
        qtbot.waitUntil(lambda: bool(quits), timeout=10_000)
    finally:
        termination.uninstall()
    assert not window.isVisible()
    reopened = open_annotations(study, list(folder.glob("*.dcm")))
    assert finding in reopened.annotations.findings


def test_an_image_whose_study_uid_is_not_a_uid_refuses_marks_with_a_clear_line(
    open_window: OpenWindow, tmp_path: Path
) -> None:
    dataset = make_mg_dataset()
    with pytest.warns(UserWarning, match="Invalid value for VR UI"):
        dataset.StudyInstanceUID = "../../.."  # pydicom warns, as it should
    path = write_dataset(dataset, tmp_path / "bad-uid" / "cc.dcm")
    window = open_window([path.parent])
    window.set_annotation_tool(AnnotationTool.POINT)
    viewport = window.viewport
    assert viewport.record is not None and viewport.record.study_instance_uid == "../../.."
    click = ToolClick(MouseMode.ANNOTATE, (10.0, 10.0), False, Qt.KeyboardModifier.NoModifier)
    viewport.tool_click.emit(click)
    viewport.tool_click.emit(click)  # the same refusal is listed once
    assert window.workspace.all_findings() == ()
    refusals = [line for line in window.problems_dock.messages() if "marks cannot be made" in line]
    assert refusals == [
        "cc.dcm: marks cannot be made on this image: its Study Instance UID '../../..' is "
        "not a DICOM UID"
    ]
