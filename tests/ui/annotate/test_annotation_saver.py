"""The main window loads each study's sidecar and autosaves edits, never clobbering a change."""

from __future__ import annotations

import json
import shutil
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from galactoview.annotations.model import (
    Finding,
    FindingType,
    GraphicType,
    ImageRegion,
    next_short_id,
)
from galactoview.dicom.loading import ImageRecord, read_header
from galactoview.dicom.mammography import Laterality
from galactoview.location import codes as location_codes
from galactoview.location.describe import type_text
from galactoview.sr import sidecar
from galactoview.sr.persistence import open_annotations, save_annotations
from galactoview.sr.sr_codec import StoredLocation, decode, from_json, to_json
from galactoview.ui.annotate import annotation_saver
from galactoview.ui.shell.main_window import MainWindow
from tests.helpers import sample_images
from tests.interop.dcmjs import FIXTURES
from tests.sr import third_party
from tests.sr.test_sr_codec_kept import groups_of
from tests.ui.conftest import OpenWindow


def copy_ductogram(tmp_path: Path) -> Path:
    """Copy the sample ductogram's DICOM files (not its sidecar) into a writable folder."""
    source = next(r for r in sample_images() if r.contrast_phase.value == "post").path.parent
    target = tmp_path / source.name
    target.mkdir()
    for path in source.glob("*.dcm"):
        shutil.copy(path, target / path.name)
    return target


def mark(window: MainWindow) -> tuple[str, Finding]:
    record = window.records[0]
    region = ImageRegion(record.sop_instance_uid, None, GraphicType.POINT, ((500.0, 600.0),))
    taken = window.workspace.annotations(record.study_instance_uid).findings
    finding = Finding.new(
        FindingType.CYST_FILL,
        [region],
        short_id=next_short_id(taken, FindingType.CYST_FILL),
        laterality=Laterality.LEFT,
    )
    window.workspace.add_finding(record.study_instance_uid, finding)
    return record.study_instance_uid, finding


def test_edits_autosave_next_to_the_study_and_come_back(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    folder = copy_ductogram(tmp_path)
    window = open_window([folder])
    study, finding = mark(window)
    assert window.windowTitle().startswith("• ")
    with qtbot.waitSignal(window.saver.saved, timeout=10_000):
        pass  # the autosave timer fires by itself
    path = folder / sidecar.sidecar_name(study)
    assert path.is_file()
    assert not window.windowTitle().startswith("• ")
    window.close()
    again = open_window([folder])
    assert again.workspace.annotations(study).findings == (finding,)
    assert again.workspace.undo_stack.count() == 0


def test_closing_saves_what_is_pending(open_window: OpenWindow, tmp_path: Path) -> None:
    folder = copy_ductogram(tmp_path)
    window = open_window([folder])
    study, finding = mark(window)
    window.close()
    opened = open_annotations(study, list(folder.glob("*.dcm")))
    assert opened.annotations.findings == (finding,)


def test_a_change_on_disk_asks_and_keep_both_writes_a_second_file(
    open_window: OpenWindow, tmp_path: Path, qtbot: QtBot
) -> None:
    folder = copy_ductogram(tmp_path)
    window = open_window([folder])
    study, _finding = mark(window)
    assert window.saver.save_now()
    # Another workstation saves its own revision meanwhile.
    theirs = open_annotations(study, list(folder.glob("*.dcm")))
    records: list[ImageRecord] = [r for r in window.records if r.study_instance_uid == study]
    save_annotations(theirs.annotations, [read_header(r) for r in records], theirs.target)
    on_disk = (folder / sidecar.sidecar_name(study)).read_bytes()
    mark_two = window.records[1]
    region = ImageRegion(mark_two.sop_instance_uid, None, GraphicType.POINT, ((50.0, 60.0),))
    window.workspace.add_finding(
        study,
        Finding.new(FindingType.CYST_FILL, [region], short_id="CY-2", laterality=Laterality.LEFT),
    )
    with qtbot.waitSignal(window.saver.conflict, timeout=5_000):
        window.saver.save_now()
    assert (folder / sidecar.sidecar_name(study)).read_bytes() == on_disk
    dialog = window.findChild(QMessageBox, "ConflictDialog")
    assert dialog is not None
    window.saver.keep_both(study)
    dialog.close()
    copies = sidecar.alongside_sidecars(folder / sidecar.sidecar_name(study))
    assert len(copies) == 1
    assert (folder / sidecar.sidecar_name(study)).read_bytes() == on_disk


def test_a_binary_sr_next_to_the_images_loads_its_marks(
    open_window: OpenWindow, tmp_path: Path, qtbot: QtBot
) -> None:
    from galactoview.cli import main as cli_main

    folder = copy_ductogram(tmp_path)
    source = next(r for r in sample_images() if r.contrast_phase.value == "post").path.parent
    (sample_sidecar,) = source.glob("galactoview-*.sr.json")
    exported = folder / "annotations-from-pacs.dcm"
    assert cli_main(["sr", "export", str(sample_sidecar), str(exported)]) == 0
    before = exported.read_bytes()
    window = open_window([folder])
    study = window.records[0].study_instance_uid
    annotations = window.workspace.annotations(study)
    assert [f.short_id for f in annotations.findings] == ["FD-1", "CY-1", "DE-1"]
    assert len(annotations.landmarks) == 3
    assert not (folder / sidecar.sidecar_name(study)).exists()  # nothing written unasked
    mark(window)
    assert window.saver.save_now()
    assert (folder / sidecar.sidecar_name(study)).is_file()
    assert exported.read_bytes() == before


def test_each_save_stores_the_locations_of_the_marks_and_nipples_as_they_are(
    open_window: OpenWindow, tmp_path: Path
) -> None:
    folder = copy_ductogram(tmp_path)
    source = next(r for r in sample_images() if r.contrast_phase.value == "post").path.parent
    (sample_sidecar,) = source.glob("galactoview-*.sr.json")
    shutil.copy(sample_sidecar, folder / sample_sidecar.name)
    window = open_window([folder])
    study = window.records[0].study_instance_uid
    path = folder / sidecar.sidecar_name(study)

    def stored_fd1() -> StoredLocation:
        result = decode(from_json(path.read_bytes()))
        (defect,) = [f for f in result.annotations.findings if f.short_id == "FD-1"]
        return result.locations[defect.tracking_uid]

    mark(window)  # any edit: the next save recomputes every finding's location
    assert window.saver.save_now()
    before = stored_fd1()
    assert before.clock_hour == 7
    assert before.quadrant == location_codes.LOWER_INNER_QUADRANT
    assert before.distance_from_nipple_mm is not None
    # The radiologist moves the nipple on the CC view 100 pixels away from the lesion.
    annotations = window.workspace.annotations(study)
    cc = next(
        r
        for r in window.records
        if r.view.label == "L CC" and not r.view.modifiers and r.contrast_phase.value == "post"
    )
    nipple = next(n for n in annotations.landmarks if n.sop_instance_uid == cc.sop_instance_uid)
    (defect,) = [f for f in annotations.findings if f.short_id == "FD-1"]
    lesion = next(r for r in defect.regions if r.sop_instance_uid == cc.sop_instance_uid)
    away = 1.0 if nipple.point[1] >= lesion.points[0][1] else -1.0
    moved = replace(nipple, point=(nipple.point[0], nipple.point[1] + away * 100.0))
    window.workspace.set_landmark(study, moved)
    assert window.saver.save_now()
    after = stored_fd1()
    assert after.distance_from_nipple_mm is not None
    assert after.distance_from_nipple_mm > before.distance_from_nipple_mm + 1.0


def test_third_party_srs_next_to_the_images_are_refused_with_one_line_each(
    open_window: OpenWindow, tmp_path: Path
) -> None:
    folder = copy_ductogram(tmp_path)
    refused = {
        # Not collected as an SR by the scan (no marks can be in a KOS): the scan's calm note.
        "kos.dcm": (
            third_party.key_object_selection(),
            "Key Object Selection document — not an image, not marks; ignored",
        ),
        "text.dcm": (
            third_party.basic_text_sr(),
            "is a Basic Text SR, not a measurement report (TID 1500): no marks read from it",
        ),
        "template.dcm": (
            third_party.other_template(),
            "is a Comprehensive SR of template TID 2000, not a measurement report (TID 1500): "
            "no marks read from it",
        ),
        "broken.dcm": (
            third_party.no_readable_mark(),
            "is a measurement report (TID 1500) with no readable mark (finding, duct segment "
            "or nipple) (",
        ),
        "foreign.dcm": (third_party.other_study(), "is about study "),
    }
    for name, (dataset, _) in refused.items():
        third_party.save(dataset, folder / name)
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    window = open_window([folder])
    study = window.records[0].study_instance_uid
    annotations = window.workspace.annotations(study)
    assert annotations.findings == ()
    assert annotations.landmarks == ()
    messages = window.problems_dock.messages()
    for name, (_, why) in refused.items():
        lines = [line for line in messages if name in line]
        assert len(lines) == 1, (name, lines)
        assert why in lines[0], lines[0]
    assert "no marks read from it" in next(line for line in messages if "broken.dcm" in line)
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before


def test_another_viewers_sr_keeps_its_content_through_an_edit_in_the_window(
    open_window: OpenWindow, tmp_path: Path
) -> None:
    """Issue 13: edit one finding of a third-party SR, save: the others are the source's."""
    folder = copy_ductogram(tmp_path)
    source = from_json(to_json(third_party.highdicom_report()))
    third_party.save(source, folder / "other-viewer.dcm")
    window = open_window([folder])
    study = str(source.StudyInstanceUID)
    annotations = window.workspace.annotations(study)
    by_id = {f.short_id: f for f in annotations.findings}
    assert sorted(by_id) == ["DEFECT-B", "EDIT-C", "MASS-A"]
    assert type_text(by_id["MASS-A"]) == "Other finding: Mass (SCT 4147007)"
    assert by_id["DEFECT-B"].laterality is Laterality.LEFT  # no finding site: its image's

    edit = by_id["EDIT-C"]
    first = edit.regions[0]
    region = replace(first, points=tuple((c + 5.0, r) for c, r in first.points))
    window.workspace.replace_finding(replace(edit, regions=(region, *edit.regions[1:])))
    assert window.saver.save_now()
    path = folder / sidecar.sidecar_name(study)
    saved = groups_of(json.loads(path.read_text("utf-8")))
    mass, defect, _edited = groups_of(json.loads(to_json(source)))
    assert mass in saved
    assert defect in saved  # item for item: no finding site added, Margins kept

    window.workspace.undo_stack.undo()  # the edit taken back: every group is the source's
    assert window.saver.save_now()
    assert groups_of(json.loads(path.read_text("utf-8"))) == groups_of(json.loads(to_json(source)))


def test_every_sr_beside_the_images_is_named_the_one_read_and_the_others(
    open_window: OpenWindow, tmp_path: Path
) -> None:
    """One study, several SR files: the first with marks is read; each other one says why not."""
    folder = copy_ductogram(tmp_path)
    shutil.copy(FIXTURES / "all_tools.dcm", folder / "a_ohif.dcm")
    shutil.copy(FIXTURES / "Length.dcm", folder / "b_ohif_length.dcm")
    third_party.save(third_party.basic_text_sr(), folder / "c_text.dcm")
    window = open_window([folder])
    study = window.records[0].study_instance_uid
    assert len(window.workspace.annotations(study).findings) == 16  # a_ohif.dcm's
    messages = window.problems_dock.messages()

    def line(name: str) -> str:
        (found,) = [m for m in messages if m.startswith(f"{name}: ")]
        return found

    assert "annotations read from this DICOM SR" in line("a_ohif.dcm")
    assert "another SR with marks of this study: not read" in line("b_ohif_length.dcm")
    assert "is a Basic Text SR, not a measurement report" in line("c_text.dcm")


def test_autosave_encodes_and_writes_in_the_save_thread_and_keeps_later_edits(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: the GUI thread never encodes nor writes an autosave; nothing is lost."""
    folder = copy_ductogram(tmp_path)
    window = open_window([folder])
    threads: list[str] = []
    release = threading.Event()
    real_save = save_annotations

    def recording_save(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        release.wait(timeout=30)  # holds the save thread until the test has edited again
        return real_save(*args, **kwargs)

    monkeypatch.setattr(annotation_saver, "save_annotations", recording_save)
    study, first = mark(window)
    window.saver._on_timer()  # what the autosave timer runs
    assert window.saver._in_flight  # under way, and the GUI thread is free:
    _, second = mark(window)  # an edit made while the first save runs
    release.set()
    with qtbot.waitSignal(window.saver.saved, timeout=10_000):
        pass
    assert threads and threads[0].startswith("sr-autosave")
    assert study in window.saver.unsaved_studies()  # the second edit is not on disk yet
    assert window.saver.save_now()  # Ctrl+S / close: in this thread, after the autosave
    assert threads[-1] == threading.main_thread().name
    reopened = open_annotations(study, sorted(folder.glob("*.dcm")))
    assert [f.tracking_uid for f in reopened.annotations.findings] == [
        first.tracking_uid,
        second.tracking_uid,
    ]


def test_opening_reads_the_sidecar_in_the_save_thread_and_refuses_edits_until_it_is_in(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: opening a study never freezes the window while its SR is parsed."""
    folder = copy_ductogram(tmp_path)
    window = open_window([folder])
    study, finding = mark(window)
    assert window.saver.save_now()
    threads: list[str] = []
    release = threading.Event()
    real_open = open_annotations

    def held_open(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        release.wait(timeout=30)  # holds the read until the test has tried to edit
        return real_open(*args, **kwargs)

    monkeypatch.setattr(annotation_saver, "open_annotations", held_open)
    window.saver.open_studies(window.records)  # what opening the folder again does
    assert window.saver.is_reading()
    assert window.workspace.annotations(study).findings == ()  # not in place yet
    assert window.workspace.read_only_reason(study) == annotation_saver.READING_MARKS
    window.workspace.add_finding(study, replace(finding, tracking_uid="2.25.1"))
    assert window.workspace.annotations(study).findings == ()  # refused, said in the status
    release.set()
    qtbot.waitUntil(lambda: not window.saver.is_reading(), timeout=10_000)
    assert threads == ["sr-autosave_0"]
    assert window.workspace.annotations(study).findings == (finding,)
    assert window.workspace.read_only_reason(study) is None
    assert not window.workspace.is_modified()
