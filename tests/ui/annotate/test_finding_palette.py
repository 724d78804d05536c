"""Finding-type palette: exclusive buttons, Alt+1..8 shortcuts, colours, OTHER text."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from galactoview.annotations.model import FindingType
from galactoview.ui.annotate.finding_palette import (
    DUCT_COLOUR,
    FINDING_COLOURS,
    NIPPLE_COLOUR,
    PALETTE_ORDER,
    FindingPalette,
)


def make_palette(qtbot: QtBot, answer: str | None = None) -> FindingPalette:
    def ask(_parent: QWidget | None, _initial: str) -> str | None:
        return answer

    palette = FindingPalette(ask_text=ask)
    qtbot.addWidget(palette)
    return palette


def test_one_checkable_action_per_type_in_cid_order(qtbot: QtBot) -> None:
    palette = make_palette(qtbot)
    actions = palette.type_actions()
    assert tuple(actions) == PALETTE_ORDER
    assert set(PALETTE_ORDER) == set(FindingType)
    assert PALETTE_ORDER[-2:] == (FindingType.MAMMARY_DUCT_ECTASIA, FindingType.OTHER)
    assert all(action.isCheckable() for action in actions.values())
    assert palette.current_type() is FindingType.INTRALUMINAL_FILLING_DEFECT


def test_shortcuts_are_alt_1_to_8_and_unique(qtbot: QtBot) -> None:
    palette = make_palette(qtbot)
    keys = [action.shortcut() for action in palette.type_actions().values()]
    assert keys == [QKeySequence(f"Alt+{n}") for n in range(1, 9)]
    assert len({key.toString() for key in keys}) == len(keys)


def test_choosing_a_type_emits_and_is_exclusive(qtbot: QtBot) -> None:
    palette = make_palette(qtbot)
    actions = palette.type_actions()
    with qtbot.waitSignal(palette.type_chosen) as chosen:
        actions[FindingType.CYST_FILL].trigger()
    assert chosen.args == [FindingType.CYST_FILL]
    assert palette.current_type() is FindingType.CYST_FILL
    checked = [t for t, action in actions.items() if action.isChecked()]
    assert checked == [FindingType.CYST_FILL]


def test_set_current_type_does_not_emit(qtbot: QtBot) -> None:
    palette = make_palette(qtbot)
    with qtbot.assertNotEmitted(palette.type_chosen):
        palette.set_current_type(FindingType.EXTRAVASATION)
    assert palette.current_type() is FindingType.EXTRAVASATION
    assert not palette.type_actions()[FindingType.INTRALUMINAL_FILLING_DEFECT].isChecked()


def test_other_text_is_asked_through_the_injected_function(qtbot: QtBot) -> None:
    assert make_palette(qtbot, "  Calcified plug ").ask_other_text() == "Calcified plug"
    assert make_palette(qtbot, "   ").ask_other_text() is None
    assert make_palette(qtbot, None).ask_other_text() is None


def test_every_type_has_its_own_colour() -> None:
    assert set(FINDING_COLOURS) == set(FindingType)
    names = {colour.name() for colour in FINDING_COLOURS.values()}
    assert len(names) == len(FindingType)
    assert DUCT_COLOUR.name() not in names
    assert NIPPLE_COLOUR.name() not in names | {DUCT_COLOUR.name()}


def test_a_narrow_palette_shows_all_types_in_a_combo_box(qtbot: QtBot) -> None:
    palette = make_palette(qtbot)
    chooser = palette.chooser
    palette.resize(chooser.sizeHint().width() + 40, 40)
    palette.show()
    qtbot.waitExposed(palette)
    assert not chooser.is_compact()
    assert all(button.isVisible() for button in chooser.buttons.values())
    palette.resize(chooser.minimumSizeHint().width() + 40, 40)
    qtbot.waitUntil(chooser.is_compact)
    assert chooser.combo.isVisible()
    assert not any(button.isVisible() for button in chooser.buttons.values())
    texts = [chooser.combo.itemText(i) for i in range(chooser.combo.count())]
    assert texts == [finding_type.value for finding_type in PALETTE_ORDER]
    index = PALETTE_ORDER.index(FindingType.DUCT_NARROWING)
    with qtbot.waitSignal(palette.type_chosen) as chosen:
        chooser.combo.activated.emit(index)  # what a click on the item emits
    assert chosen.args == [FindingType.DUCT_NARROWING]
    assert palette.current_type() is FindingType.DUCT_NARROWING
    palette.set_current_type(FindingType.OTHER)  # the combo box follows
    assert chooser.combo.currentText() == FindingType.OTHER.value
    palette.resize(chooser.sizeHint().width() + 40, 40)
    qtbot.waitUntil(lambda: not chooser.is_compact())
    assert chooser.buttons[FindingType.OTHER].isChecked()
