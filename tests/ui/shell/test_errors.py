"""The Problems dock and its reporter: one line per problem, many lines in one batch."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow, QMessageBox
from pytestqt.qtbot import QtBot

from galactoview.ui.shell.errors import ProblemReporter, ProblemsDock
from tests.ui.conftest import OpenWindow


def _reporter(qtbot: QtBot) -> tuple[QMainWindow, ProblemReporter]:
    window = QMainWindow()
    qtbot.addWidget(window)
    dock = ProblemsDock(window)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    dock.hide()
    return window, ProblemReporter(dock, window.statusBar())


def test_report_many_adds_every_new_line_once(qtbot: QtBot, tmp_path: Path) -> None:
    window, reporter = _reporter(qtbot)
    emitted: list[str] = []
    reporter.reported.connect(emitted.append)
    reporter.report("cannot decode", tmp_path / "a.dcm")
    reporter.report_many(
        [
            ("cannot decode", tmp_path / "a.dcm"),  # already listed
            ("not a DICOM file", tmp_path / "b.dcm"),
            ("a study-wide note", None),
            ("not a DICOM file", tmp_path / "b.dcm"),  # twice in the batch
        ]
    )
    assert reporter.messages() == [
        "a.dcm: cannot decode",
        "b.dcm: not a DICOM file",
        "a study-wide note",
    ]
    assert emitted == reporter.messages()
    dock = window.findChild(ProblemsDock)
    assert dock is not None and not dock.isHidden()
    assert dock.list_widget.item(1).toolTip() == f"{tmp_path / 'b.dcm'}: not a DICOM file"
    assert window.statusBar().currentMessage() == "4 problems — listed in the Problems panel"


def test_report_many_of_one_line_reads_like_report(qtbot: QtBot, tmp_path: Path) -> None:
    window, reporter = _reporter(qtbot)
    reporter.report_many([("empty file", tmp_path / "a.dcm")])
    assert window.statusBar().currentMessage() == "Problem — a.dcm: empty file"
    reporter.report_many([])
    assert reporter.messages() == ["a.dcm: empty file"]


def test_empty_folder_is_listed_in_the_problems_panel(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    # The README promises a line in the Problems panel; an empty folder had none (issue 10).
    empty = tmp_path / "empty"
    empty.mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "read me.txt").write_text("no images\n")
    window = open_window([])
    with qtbot.waitSignal(window.scan_finished, timeout=10_000):
        window.open_paths([empty, tmp_path / "notes"])
    assert window.problems.messages()[:2] == [
        "empty: no DICOM image found",
        "notes: no DICOM image found",
    ]
    assert window.image_label.text() == "No images"
    dialog = window.findChild(QMessageBox, "ErrorDialog")
    assert dialog is not None
    assert dialog.detailedText() == (
        f"{empty}: no DICOM image found\n{tmp_path / 'notes'}: no DICOM image found"
    )
    dialog.close()


def test_notes_are_listed_without_raising_the_panel(qtbot: QtBot, tmp_path: Path) -> None:
    window, reporter = _reporter(qtbot)
    emitted: list[str] = []
    reporter.reported.connect(emitted.append)
    note = "Key Object Selection document — not an image, not marks; ignored"
    reporter.note_many([(note, tmp_path / "kos.dcm"), (note, tmp_path / "kos.dcm")])
    assert reporter.messages() == [f"kos.dcm: {note}"]
    dock = window.findChild(ProblemsDock)
    assert dock is not None and dock.isHidden()  # nothing is wrong: not brought forward
    assert window.statusBar().currentMessage() == f"Note — kos.dcm: {note}"
    assert emitted == []  # not a problem
