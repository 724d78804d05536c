"""The actions table builds the window's keys, menus, toolbar, shortcuts dialog and docs."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QMenu, QToolBar, QWidgetAction
from pytestqt.qtbot import QtBot

from galactoview.annotations.model import FindingType
from galactoview.reading.hanging import ProtocolKind
from galactoview.ui.annotate.annotation_tools import AnnotationTool
from galactoview.ui.annotate.finding_palette import PALETTE_ORDER, PALETTE_SHORTCUTS
from galactoview.ui.shell.actions import ACTIONS, Check, Menu, main, markdown, shortcut_rows, spec
from galactoview.ui.shell.main_window import MainWindow
from galactoview.ui.shell.menus import resolve
from galactoview.ui.viewer.viewport import MouseMode
from tests.ui.conftest import OpenWindow

DOC = Path(__file__).resolve().parents[3] / "docs" / "shortcuts.md"
PORTABLE = QKeySequence.SequenceFormat.PortableText


@pytest.fixture
def window(open_window: OpenWindow, study_dir: Path) -> MainWindow:
    """Return the main window opened on the small synthetic study."""
    return open_window([study_dir])


def keys_of(action: QAction) -> list[str]:
    """Return an action's shortcuts in Qt's portable text."""
    return [sequence.toString(PORTABLE) for sequence in action.shortcuts()]


def test_docs_shortcuts_md_is_generated_from_the_table() -> None:
    assert DOC.read_text(encoding="utf-8") == markdown(), (
        "docs/shortcuts.md is stale: python -m galactoview.ui.shell.actions --markdown "
        "> docs/shortcuts.md"
    )


def test_the_module_prints_the_document(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--markdown"]) == 0
    assert capsys.readouterr().out == markdown()
    assert main([]) == 2  # nothing asked: the help


def test_table_keys_are_written_as_qt_shows_them() -> None:
    for row in ACTIONS:
        for key in row.shortcuts:
            assert QKeySequence(key).toString(PORTABLE) == key, row.name


def test_table_names_are_unique_and_found_by_spec() -> None:
    names = [row.name for row in ACTIONS]
    assert len(names) == len(set(names))
    assert spec("next_layout").handler == "session.next_layout"
    with pytest.raises(KeyError):
        spec("no such action")


def test_every_mouse_mode_and_marking_tool_has_its_row() -> None:
    for mode in MouseMode:
        if mode is not MouseMode.ANNOTATE:  # chosen by the marking tools
            assert spec(f"tool_{mode.name.lower()}").args == (mode.value,)
    for tool in AnnotationTool:
        assert spec(f"annotate_{tool.name.lower()}").args == (tool.value,)
    for finding_type in FindingType:
        assert spec(f"finding_{finding_type.name.lower()}").args == (finding_type,)


def test_the_palette_keys_agree_with_the_table_and_every_tool_has_a_row() -> None:
    rows = [row for row in ACTIONS if row.name.startswith("finding_")]
    assert [row.args[0] for row in rows] == list(PALETTE_ORDER)
    assert {row.args[0]: row.shortcuts[0] for row in rows} == PALETTE_SHORTCUTS
    tools = {
        AnnotationTool(str(row.args[0])) for row in ACTIONS if row.name.startswith("annotate_")
    }
    assert tools == set(AnnotationTool)  # every marking tool has its row and key


def test_every_row_is_an_action_of_the_window_with_its_keys(window: MainWindow) -> None:
    assert list(window.named_actions) == [row.name for row in ACTIONS]
    window_actions = window.actions()
    for row in ACTIONS:
        action = window.named_actions[row.name]
        assert action in window_actions, row.name  # its keys work anywhere in the window
        assert keys_of(action) == list(row.shortcuts), row.name
        assert action.isCheckable() is (row.check is not Check.NO), row.name


def test_every_handler_resolves_to_something_callable(window: MainWindow) -> None:
    for row in ACTIONS:
        if row.handler is not None:
            assert callable(resolve(window, row.handler)), row.handler
    with pytest.raises(TypeError):
        resolve(window, "records")


def test_provided_actions_are_the_undo_stack_and_palette_ones(window: MainWindow) -> None:
    palette = window.finding_palette.type_actions()
    for row in ACTIONS:
        if row.name.startswith("finding_"):
            assert window.named_actions[row.name] is palette[row.args[0]]  # type: ignore[index]
    window.workspace.undo_stack.setClean()
    assert window.named_actions["undo"].text().replace("&", "") == "Undo"
    assert not window.named_actions["undo"].isEnabled()  # nothing to undo


def test_menus_follow_the_table(window: MainWindow) -> None:
    bar = window.menuBar()
    menus = [m for action in bar.actions() if isinstance(m := action.menu(), QMenu)]
    assert [action.text() for action in bar.actions()] == [menu.value for menu in Menu]
    recent = window.recent_menu.menuAction()
    docks = [
        d.toggleViewAction() for d in (window.browser, window.findings_dock, window.report_editor)
    ]
    for menu, qmenu in zip(Menu, menus, strict=True):
        listed = [a for a in qmenu.actions() if not a.isSeparator()]
        rows = [window.named_actions[row.name] for row in ACTIONS if row.menu is menu]
        extra = {recent, *docks, window.problems_dock.toggleViewAction()}
        assert [a for a in listed if a not in extra] == rows, menu
        separators = sum(a.isSeparator() for a in qmenu.actions())
        expected = sum(row.separator for row in ACTIONS if row.menu is menu)
        assert separators == expected + (menu is Menu.VIEW), menu  # the docks' separator
    file_actions = menus[0].actions()
    assert file_actions.index(recent) == file_actions.index(window.named_actions["open_files"]) + 1


def test_the_tools_toolbar_shows_the_rows_with_a_place_in_order(window: MainWindow) -> None:
    toolbar = window.findChild(QToolBar, "ToolsToolBar")
    assert isinstance(toolbar, QToolBar)
    placed = sorted((row.toolbar, row.name) for row in ACTIONS if row.toolbar is not None)
    shown = [
        a for a in toolbar.actions() if not a.isSeparator() and not isinstance(a, QWidgetAction)
    ]
    assert shown == [window.named_actions[name] for _place, name in placed]
    assert [a.iconText() for a in shown] == [place[1] for place, _name in placed]
    assert (
        sum(a.isSeparator() for a in toolbar.actions()) == len({p[0] // 10 for p, _ in placed}) - 1
    )
    combo = window.window_controls.combo
    widgets = [toolbar.widgetForAction(a) for a in toolbar.actions()]
    assert widgets.index(combo) + 1 == toolbar.actions().index(window.named_actions["auto"])
    label = widgets[widgets.index(combo) - 1]
    assert isinstance(label, QLabel) and label.text() == " Window: "


def test_tooltips_name_the_keys(window: MainWindow) -> None:
    assert window.named_actions["report"].toolTip() == (
        "Clock face, depth, distance from the nipple and key images of every finding (Ctrl+P)"
    )
    assert window.named_actions["previous_layout"].toolTip() == "Previous Layout (Shift+L)"


def test_the_shortcuts_dialog_lists_the_table_rows(window: MainWindow) -> None:
    dialog = window.show_shortcuts()
    rows = dialog.rows()
    dialog.close()
    assert rows == shortcut_rows()
    assert ("Window", "1 … 9", "Window preset 1–9 from the file") in rows
    assert not any(text.startswith("Preset") for _section, _keys, text in rows)
    assert ("Hanging", "Shift+L", "Previous Layout") in rows
    assert rows[-1][0] == "Mouse"


def test_triggering_an_action_runs_its_handler_with_its_arguments(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.named_actions["layout_4"].trigger()
    hanging = window.session.hanging
    assert hanging is not None and hanging.kind is ProtocolKind.MANUAL
    assert (hanging.rows, hanging.columns) == (2, 2)
    window.named_actions["tool_pan"].trigger()
    assert window.mouse_mode.value == "pan"
    window.named_actions["annotate_duct_trace"].trigger()
    assert window.annotation_tool.value == "duct trace"
    assert window.mouse_mode.value == "annotate"


def test_toggles_pass_their_state(window: MainWindow) -> None:
    overlays = window.named_actions["overlays"]
    assert overlays.isChecked()
    overlays.trigger()
    assert window.tools.overlays_visible is False
    assert not any(o.is_visible() for o in window.tools.overlays.values())
    window.named_actions["review"].trigger()
    assert window.is_review_mode()


def test_review_mode_disables_exactly_the_editing_rows(window: MainWindow) -> None:
    window.set_review_mode(True)
    assert window.named_actions["review"].isChecked()
    for row in ACTIONS:
        if row.name.startswith("preset_"):
            continue  # enabled with the image's presets
        enabled = window.named_actions[row.name].isEnabled()
        assert enabled is not row.editing or row.name in ("undo", "redo"), row.name
    window.set_review_mode(False)
    assert not window.named_actions["review"].isChecked()
    editing = [row.name for row in ACTIONS if row.editing and row.name != "write_addendum"]
    assert all(window.named_actions[name].isEnabled() for name in editing)
    assert not window.named_actions["write_addendum"].isEnabled()  # a signed study only


def test_the_marking_toolbar_shows_each_tool_with_its_key(window: MainWindow) -> None:
    """Issue 15: marking was menu or keys only."""
    toolbar = window.marking_toolbar
    texts = [action.iconText() for action in toolbar.actions()]
    assert texts == [
        "Select V",
        "Point M",
        "Ellipse ⇧E",
        "Circle ⇧O",
        "Outline ⇧P",
        "Duct D",
        "Nipple N",
        "",  # the separator before the analysis suggestions (issue 16)
        "Suggest tree ⇧T",
        "Flag defects ⇧F",
    ]
    assert toolbar.actions()[-2] is window.named_actions["suggest_duct_tree"]
    ellipse = toolbar.actions()[2]
    assert ellipse is window.named_actions["annotate_ellipse"]  # one state with the menu
    ellipse.trigger()
    assert window.annotation_tool is AnnotationTool.ELLIPSE
    assert ellipse.isChecked() and not toolbar.actions()[1].isChecked()


def test_a_smaller_layout_from_another_active_cell_keeps_the_keys_on_the_images(
    window: MainWindow, qtbot: QtBot
) -> None:
    """Ctrl+1 with the 4th cell active failed, and the focus fell to a dock's text field."""
    window.named_actions["layout_4"].trigger()
    view = window.hanging_view
    last = view.viewports[3]
    view.set_active(3)  # as a click in it does
    last.setFocus()
    assert view.active_index == 3
    window.named_actions["layout_1"].trigger()  # an exception here fails the test (pytest-qt)
    assert len(view.viewports) == 1 and view.active_index == 0
    assert view.active_viewport() is view.viewports[0]
    focus = QApplication.focusWidget()
    assert focus is not None and view.isAncestorOf(focus)
