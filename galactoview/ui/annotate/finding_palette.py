"""Finding-type palette: one checkable button per finding type, with colours and shortcuts.

The palette chooses the :class:`~galactoview.annotations.model.FindingType` of the
next finding drawn. Its colour table (:data:`FINDING_COLOURS`, :data:`DUCT_COLOUR`,
:data:`NIPPLE_COLOUR`) is the one the annotation items draw with, so a mark on the
image and its palette swatch always agree.

Types are listed in PS3.16 CID 6057 order (intraluminal filling defect, multiple
filling defects, abrupt duct termination, extravasation, duct narrowing, cyst fill),
then mammary duct ectasia and "other"; their proposed shortcuts are Alt+1 .. Alt+8
(:data:`PALETTE_SHORTCUTS`). An OTHER finding needs a free-text description, asked
with :func:`ask_other_text` (replaceable, so tests never block on a dialog).

In a narrow window (issue 15: at 800 x 600 the toolbar showed 4 of the 8 types, the
others behind its overflow arrow) the buttons give way to one combo box holding all
eight types (:class:`TypeChooser`): whichever is shown, every type is one click away,
and the buttons, the combo box, the actions and their keys stay one state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from PySide6.QtCore import QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QColor,
    QIcon,
    QKeySequence,
    QPainter,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLayout,
    QLineEdit,
    QToolBar,
    QToolButton,
    QWidget,
)

from galactoview.annotations.model import FindingType

__all__ = [
    "DUCT_COLOUR",
    "FINDING_COLOURS",
    "NIPPLE_COLOUR",
    "PALETTE_ORDER",
    "PALETTE_SHORTCUTS",
    "FindingPalette",
    "OtherTextAsker",
    "TypeChooser",
    "ask_other_text",
    "swatch_icon",
]

#: Colour of the marks and labels of each finding type (shared with the annotation items).
FINDING_COLOURS: Final[dict[FindingType, QColor]] = {
    FindingType.INTRALUMINAL_FILLING_DEFECT: QColor(255, 80, 80),
    FindingType.MULTIPLE_FILLING_DEFECTS: QColor(255, 150, 40),
    FindingType.ABRUPT_DUCT_TERMINATION: QColor(235, 90, 235),
    FindingType.EXTRAVASATION: QColor(255, 225, 60),
    FindingType.DUCT_NARROWING: QColor(90, 220, 255),
    FindingType.CYST_FILL: QColor(110, 235, 110),
    FindingType.MAMMARY_DUCT_ECTASIA: QColor(150, 140, 255),
    FindingType.OTHER: QColor(220, 220, 220),
}
#: Colour of duct traces.
DUCT_COLOUR: Final = QColor(60, 200, 180)
#: Colour of nipple landmarks.
NIPPLE_COLOUR: Final = QColor(255, 120, 190)

#: Order of the palette: CID 6057 order, then duct ectasia, then "other".
PALETTE_ORDER: Final[tuple[FindingType, ...]] = (
    FindingType.INTRALUMINAL_FILLING_DEFECT,
    FindingType.MULTIPLE_FILLING_DEFECTS,
    FindingType.ABRUPT_DUCT_TERMINATION,
    FindingType.EXTRAVASATION,
    FindingType.DUCT_NARROWING,
    FindingType.CYST_FILL,
    FindingType.MAMMARY_DUCT_ECTASIA,
    FindingType.OTHER,
)
#: Proposed shortcut of each type: Alt+1 .. Alt+8 in palette order.
PALETTE_SHORTCUTS: Final[dict[FindingType, str]] = {
    finding_type: f"Alt+{number}" for number, finding_type in enumerate(PALETTE_ORDER, start=1)
}

#: Asks for the description of an OTHER finding: ``(parent, initial text) -> text or None``.
OtherTextAsker = Callable[[QWidget | None, str], str | None]


def ask_other_text(parent: QWidget | None, initial: str = "") -> str | None:
    """Ask the user to describe an OTHER finding (modal dialog).

    Parameters
    ----------
    parent
        Parent of the dialog.
    initial
        Text shown at first (the current description when editing).

    Returns
    -------
    str or None
        The stripped description; ``None`` when cancelled or left empty.
    """
    text, accepted = QInputDialog.getText(
        parent,
        "Other finding",
        "Describe the finding:",
        QLineEdit.EchoMode.Normal,
        initial,
    )
    text = text.strip()
    return text if accepted and text else None


def swatch_icon(colour: QColor, size: int = 14) -> QIcon:
    """Return an icon that is a square of a colour with a dark border.

    Parameters
    ----------
    colour
        Fill colour.
    size
        Side length in pixels.

    Returns
    -------
    QIcon
        The swatch.
    """
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setPen(QColor(40, 40, 40))
    painter.setBrush(colour)
    painter.drawRect(0, 0, size - 1, size - 1)
    painter.end()
    return QIcon(pixmap)


class TypeChooser(QWidget):
    """The palette's contents: a row of type buttons, or one combo box when too narrow.

    Its size hint is the row of buttons, its minimum the combo box: a toolbar squeezed
    by a narrow window gives it less than the buttons need, and it then shows the
    combo box instead (:meth:`is_compact`), which lists all the types.

    Parameters
    ----------
    actions
        The checkable action of each type, in palette order (the buttons' actions).
    parent
        Parent widget.
    """

    def __init__(self, actions: dict[FindingType, QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._actions = actions
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)  # min: the combo
        self.buttons: dict[FindingType, QToolButton] = {}
        for finding_type, action in actions.items():
            button = QToolButton(self)
            button.setDefaultAction(action)
            button.setIconSize(QSize(14, 14))
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setAutoRaise(True)
            layout.addWidget(button)
            self.buttons[finding_type] = button
        #: All the types in one list, shown instead of the buttons when narrow.
        self.combo = QComboBox(self)
        self.combo.setObjectName("FindingTypeCombo")
        self.combo.setToolTip("Type of the next finding (Alt+1 .. Alt+8)")
        for finding_type, action in actions.items():
            self.combo.addItem(action.icon(), finding_type.value, finding_type.value)
            action.toggled.connect(
                lambda on, chosen=finding_type: self._show(chosen) if on else None
            )
        self.combo.activated.connect(lambda index: self._actions[PALETTE_ORDER[index]].trigger())
        layout.addWidget(self.combo)
        layout.addStretch(1)  # the combo box keeps its size in a wide toolbar
        self.combo.hide()
        self._compact = False

    def is_compact(self) -> bool:
        """Return whether the combo box is shown instead of the buttons."""
        return self._compact

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        """Return the size of the row of buttons."""
        layout = self.layout()
        spacing = layout.spacing() if layout is not None else 0
        hints = [button.sizeHint() for button in self.buttons.values()]
        width = sum(hint.width() for hint in hints) + spacing * (len(hints) - 1)
        return QSize(width, max(hint.height() for hint in hints))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        """Return the size of the combo box."""
        return self.combo.sizeHint()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        """Show the buttons when they fit in the width given, else the combo box."""
        super().resizeEvent(event)
        self._set_compact(event.size().width() < self.sizeHint().width())

    def _set_compact(self, compact: bool) -> None:
        if compact == self._compact:
            return
        self._compact = compact
        for button in self.buttons.values():
            button.setVisible(not compact)
        self.combo.setVisible(compact)

    def _show(self, finding_type: FindingType) -> None:
        with QSignalBlocker(self.combo):
            self.combo.setCurrentIndex(PALETTE_ORDER.index(finding_type))


class FindingPalette(QToolBar):
    """Exclusive checkable buttons choosing the type of the next finding.

    The buttons are those of :attr:`chooser` (:class:`TypeChooser`): a combo box
    replaces them when the toolbar is too narrow for them all.

    Parameters
    ----------
    parent
        Parent widget.
    ask_text
        Asks for the description of an OTHER finding; :func:`ask_other_text` by
        default (tests pass a function that answers at once).

    Signals
    -------
    type_chosen(object)
        The user chose a :class:`FindingType` (button or shortcut); not emitted by
        :meth:`set_current_type`.
    """

    type_chosen = Signal(object)

    def __init__(
        self, parent: QWidget | None = None, ask_text: OtherTextAsker = ask_other_text
    ) -> None:
        super().__init__("Finding type", parent)
        self.setObjectName("finding_palette")
        self.setIconSize(QSize(14, 14))
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self._ask_text = ask_text
        self._group = QActionGroup(self)
        self._group.setExclusive(True)
        self._actions: dict[FindingType, QAction] = {}
        for finding_type in PALETTE_ORDER:
            action = QAction(swatch_icon(FINDING_COLOURS[finding_type]), finding_type.value, self)
            action.setCheckable(True)
            action.setData(finding_type.value)
            shortcut = PALETTE_SHORTCUTS[finding_type]
            action.setShortcut(QKeySequence(shortcut))
            action.setToolTip(f"{finding_type.value} ({finding_type.prefix}) — {shortcut}")
            action.triggered.connect(
                lambda _checked=False, chosen=finding_type: self._on_triggered(chosen)
            )
            self._group.addAction(action)
            self._actions[finding_type] = action
        #: The buttons, or the combo box in a narrow window.
        self.chooser = TypeChooser(self._actions, self)
        self.chooser.addActions(list(self._actions.values()))  # their keys, also when compact
        self.addWidget(self.chooser)
        self._actions[PALETTE_ORDER[0]].setChecked(True)

    def type_actions(self) -> dict[FindingType, QAction]:
        """Return the action of each type (the main window may add them to a menu).

        Returns
        -------
        dict of FindingType to QAction
            In palette order.
        """
        return dict(self._actions)

    def current_type(self) -> FindingType:
        """Return the type of the next finding.

        Returns
        -------
        FindingType
            The checked type.
        """
        checked = self._group.checkedAction()
        if checked is None:
            return PALETTE_ORDER[0]
        return FindingType(str(checked.data()))

    def set_current_type(self, finding_type: FindingType) -> None:
        """Check a type without emitting :attr:`type_chosen`.

        Parameters
        ----------
        finding_type
            The type (e.g. of the finding just selected).
        """
        self._actions[finding_type].setChecked(True)

    def ask_other_text(self, initial: str = "") -> str | None:
        """Ask for the description of an OTHER finding with the palette's asker.

        Parameters
        ----------
        initial
            Text shown at first.

        Returns
        -------
        str or None
            The description, ``None`` when cancelled (then no finding is made).
        """
        text = self._ask_text(self.window(), initial)
        if text is None or not text.strip():
            return None
        return text.strip()

    def _on_triggered(self, finding_type: FindingType) -> None:
        self._actions[finding_type].setChecked(True)
        self.type_chosen.emit(finding_type)
