"""The parts the main window is made of: status bar texts, what opening remembers."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMainWindow
from pytestqt.qtbot import QtBot

from galactoview.dicom.loading import ImageRecord, scan
from galactoview.ui.shell.opening import last_folder, remember_opened
from galactoview.ui.shell.settings import Settings
from galactoview.ui.shell.status_bar import (
    DECODING_MESSAGE,
    StatusPanel,
    image_text,
    window_title,
)
from tests.helpers import write_study


def study_records(folder: Path) -> tuple[ImageRecord, ...]:
    """Return the records of the small synthetic study written into ``folder``."""
    write_study(folder)
    return scan([folder]).images


def test_window_title_names_patient_and_study_and_marks_unsaved(tmp_path: Path) -> None:
    record = study_records(tmp_path)[0]
    assert window_title(None, False) == "GalactoView"
    assert window_title(None, True) == "GalactoView"  # no study: nothing unsaved
    title = window_title(record, True)
    assert title == f"• Phantom, Jane — {record.study_description or 'Study'}"
    assert "GalactoView" not in title  # Qt appends the application display name itself
    assert not window_title(record, False).startswith("•")


def test_image_text_names_view_and_contrast_phase(tmp_path: Path) -> None:
    texts = {image_text(record) for record in study_records(tmp_path)}
    assert texts == {
        "L CC · pre-contrast",
        "L CC · post-contrast",
        "L ML · post-contrast",
        "L CC MAG · post-contrast",
    }


def test_status_panel_shows_decoding_progress_then_clears_it(qtbot: QtBot) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    panel = StatusPanel(window.statusBar(), window)
    panel.show_decoding(2, 3)
    assert window.statusBar().currentMessage() == f"{DECODING_MESSAGE} 1 of 3"
    assert (panel.progress.maximum(), panel.progress.value()) == (3, 1)
    assert not panel.progress.isHidden()
    panel.show_decoding(0, 3)
    assert window.statusBar().currentMessage() == ""
    assert panel.progress.isHidden()
    panel.show_busy("Scanning study…")
    panel.show_decoding(0, 0)  # a scan's busy bar stays until the scan is over
    assert not panel.progress.isHidden()
    panel.hide_busy()
    assert panel.progress.isHidden() and window.statusBar().currentMessage() == ""


def test_a_message_gets_the_room_of_the_layout_and_image_fields(qtbot: QtBot) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    window.resize(1920, 1000)  # wide: every field shown
    panel = StatusPanel(window.statusBar(), window)
    panel.image_label.setText("L CC · post-contrast")
    assert not panel.compact and not panel.image_label.isHidden()
    message = "Duct tree suggested on L CC: its 7 branches are all traced already"
    window.statusBar().showMessage(message)
    assert panel.image_label.isHidden() and panel.layout_label.isHidden()
    assert not panel.voi_label.isHidden() and not panel.cursor_label.isHidden()
    assert window.statusBar().toolTip() == message  # the whole of it, however long
    window.statusBar().clearMessage()
    assert not panel.image_label.isHidden() and not panel.layout_label.isHidden()
    assert window.statusBar().toolTip() == ""


def test_opening_remembers_the_paths_and_the_folder_to_start_in(
    settings: Settings, tmp_path: Path
) -> None:
    assert last_folder(settings) == str(Path.home())
    folder = tmp_path / "study"
    folder.mkdir()
    remember_opened(settings, [folder])
    assert last_folder(settings) == str(folder)
    file = folder / "image.dcm"
    file.write_bytes(b"")
    remember_opened(settings, [file])
    assert last_folder(settings) == str(folder)
    assert settings.recent()[:2] == [[file.resolve()], [folder.resolve()]]
