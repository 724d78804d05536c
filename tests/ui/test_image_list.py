"""Tests for galactoview.ui.image_list: the study → series → image tree and its labels."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from galactoview.dicom.loading import scan
from galactoview.ui.image_list import ImageListDock, image_row_text, image_text
from tests.helpers import write_mg
from tests.ui.qt_helpers import tree_item


def test_series_numbers_repeat_across_studies_but_labels_differ(
    qtbot: QtBot, tmp_path: Path
) -> None:
    # Series Number is unique only within a study (PS3.3 C.7.3.1): both studies have "1".
    write_mg(
        tmp_path / "prior.dcm",
        study_uid="1.2.3.1",
        study_date="20240220",
        study_description="SCREENING",
        series_number=1,
        series_description="SCREENING",
        contrast=False,
    )
    write_mg(
        tmp_path / "pre.dcm",
        study_uid="1.2.3.2",
        study_date="20260312",
        study_description="DUCTOGRAM LEFT",
        series_number=1,
        series_description="L PRE-CONTRAST",
        contrast=False,
    )
    dock = ImageListDock()
    qtbot.addWidget(dock)
    dock.set_images(scan([tmp_path]).images)
    tree = dock.tree
    assert tree.topLevelItemCount() == 2
    assert [(tree_item(tree, i).text(0), tree_item(tree, i, 0).text(0)) for i in (0, 1)] == [
        ("2026-03-12 · DUCTOGRAM LEFT", "Series 1 · L PRE-CONTRAST"),
        ("2024-02-20 · SCREENING", "Series 1 · SCREENING"),
    ]


def test_same_view_twice_in_a_series_shows_instance_numbers(qtbot: QtBot, tmp_path: Path) -> None:
    write_mg(tmp_path / "a.dcm", instance_number=1, view="CC")
    write_mg(tmp_path / "b.dcm", instance_number=2, view="CC")
    write_mg(tmp_path / "c.dcm", instance_number=3, view="ML")
    write_mg(tmp_path / "d.dcm", instance_number=4, view=None, laterality=None)
    images = scan([tmp_path]).images
    dock = ImageListDock()
    qtbot.addWidget(dock)
    dock.set_images(images)
    assert dock.item_texts() == ["L CC · #1", "L CC · #2", "L ML", "Image 4"]
    assert image_row_text(images[0]) == "L CC"
    assert image_text(images[0]) == "L CC · post-contrast"


def test_choosing_an_image_row_emits_its_index(qtbot: QtBot, tmp_path: Path) -> None:
    write_mg(tmp_path / "a.dcm", instance_number=1, view="CC")
    write_mg(tmp_path / "b.dcm", instance_number=2, view="ML")
    dock = ImageListDock()
    qtbot.addWidget(dock)
    dock.set_images(scan([tmp_path]).images)
    with qtbot.assertNotEmitted(dock.image_selected):
        dock.set_current_index(0)  # model -> view: no signal back
    assert dock.current_index() == 0
    with qtbot.waitSignal(dock.image_selected) as chosen:
        dock.tree.setCurrentItem(tree_item(dock.tree, 0, 0, 1))
    assert chosen.args == [1]
