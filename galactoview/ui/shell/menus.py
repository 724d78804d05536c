"""The window's QActions, menus and tools toolbar, built from the actions table.

:mod:`galactoview.ui.shell.actions` says what each command is (text, keys, handler,
menu, toolbar place, help); this module makes the Qt objects: one :class:`QAction`
per row, added to the window (so its keys work anywhere in it), the menu bar in
:class:`~galactoview.ui.shell.actions.Menu` order and the tools toolbar.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Final

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar, QWidget

from galactoview.ui.shell.actions import ACTIONS, ActionSpec, Check, Menu
from galactoview.ui.shell.settings import Settings

__all__ = [
    "build_actions",
    "build_menus",
    "build_tools_toolbar",
    "fill_recent_menu",
    "resolve",
]


def resolve(owner: object, path: str) -> Callable[..., object]:
    """Return the callable at a dotted path from ``owner`` (``"session.next_layout"``)."""
    target: object = functools.reduce(getattr, path.split("."), owner)
    if not callable(target):
        raise TypeError(f"{path} is not callable")
    return target


def _run(owner: object, spec: ActionSpec, *extra: object) -> None:
    """Run the handler of ``spec``, looked up now (``viewport`` is the active one now)."""
    assert spec.handler is not None
    resolve(owner, spec.handler)(*spec.args, *extra)


def build_actions(
    window: QWidget,
    provided: Mapping[str, QAction],
    specs: Sequence[ActionSpec] = ACTIONS,
) -> tuple[dict[str, QAction], QActionGroup]:
    """Make the action of every row and add it to ``window``.

    Parameters
    ----------
    window
        Owns the actions and their handlers (dotted paths start from it).
    provided
        The actions made by their owners (rows whose handler is None): the table
        gives them their keys.
    specs
        The rows.

    Returns
    -------
    dict of str to QAction, QActionGroup
        The actions by row name, and the exclusive group of the tool rows.
    """
    actions: dict[str, QAction] = {}
    tools = QActionGroup(window)
    for spec in specs:
        if spec.handler is None:
            action = provided[spec.name]
        else:
            action = QAction(spec.text, window)
            action.setCheckable(spec.check is not Check.NO)
            if spec.check is Check.TOGGLE:
                action.toggled.connect(functools.partial(_run, window, spec))
            else:
                action.triggered.connect(lambda _checked=False, s=spec: _run(window, s))
        action.setShortcuts([QKeySequence(key) for key in spec.shortcuts])
        if spec.handler is not None and (spec.help or spec.shortcuts):
            keys = ", ".join(spec.shortcuts)
            tip = spec.help or spec.text.replace("&", "")
            action.setToolTip(f"{tip} ({keys})" if keys else tip)
        if spec.check is Check.TOOL:
            tools.addAction(action)
        window.addAction(action)
        actions[spec.name] = action
    return actions, tools


def build_menus(
    window: QMainWindow,
    actions: Mapping[str, QAction],
    submenus: Mapping[str, QMenu],
    trailing: Mapping[Menu, Sequence[QAction]],
    specs: Sequence[ActionSpec] = ACTIONS,
) -> dict[Menu, QMenu]:
    """Fill the menu bar from the rows, in :class:`Menu` order.

    Parameters
    ----------
    window
        The main window.
    actions
        The actions by row name (:func:`build_actions`).
    submenus
        Submenus put right after the action of the row named by the key.
    trailing
        Actions that are not commands (e.g. dock toggles), after a menu's rows.
    specs
        The rows.
    """
    menus: dict[Menu, QMenu] = {}
    for menu in Menu:
        qmenu = window.menuBar().addMenu(menu.value)
        menus[menu] = qmenu
        for spec in specs:
            if spec.menu is not menu:
                continue
            if spec.separator:
                qmenu.addSeparator()
            qmenu.addAction(actions[spec.name])
            if spec.name in submenus:
                qmenu.addMenu(submenus[spec.name])
        if trailing.get(menu):
            qmenu.addSeparator()
            qmenu.addActions(list(trailing[menu]))
    return menus


def build_tools_toolbar(
    window: QMainWindow,
    actions: Mapping[str, QAction],
    widgets: Mapping[int, Sequence[QWidget]],
    specs: Sequence[ActionSpec] = ACTIONS,
) -> QToolBar:
    """Make the tools toolbar: the rows with a toolbar place, with their short texts.

    Parameters
    ----------
    window
        The main window.
    actions
        The actions by row name.
    widgets
        Widgets put at the start of a group of positions (key: its tens, e.g. 5 for 50–59).
    specs
        The rows.
    """
    toolbar = QToolBar("Tools", window)
    toolbar.setObjectName("ToolsToolBar")
    toolbar.setMovable(False)
    placed = sorted((s.toolbar[0], s.toolbar[1], s.name) for s in specs if s.toolbar is not None)
    group: int | None = None
    for position, short, name in placed:
        if position // 10 != group:
            if group is not None:
                toolbar.addSeparator()
            group = position // 10
            for widget in widgets.get(group, ()):
                toolbar.addWidget(widget)
        action = actions[name]
        action.setIconText(short)  # short texts (the menus keep the full ones): fits 1280 px
        toolbar.addAction(action)
    return toolbar


#: The marking tools on the marking toolbar, with their short names.
MARKING_TOOLS: Final = (
    ("annotate_select", "Select"),
    ("annotate_point", "Point"),
    ("annotate_ellipse", "Ellipse"),
    ("annotate_circle", "Circle"),
    ("annotate_polyline", "Outline"),
    ("annotate_duct_trace", "Duct"),
    ("annotate_nipple", "Nipple"),
)


#: The analysis suggestions after them (not tools: each runs once on the active image).
MARKING_SUGGESTIONS: Final = (
    ("suggest_duct_tree", "Suggest tree"),
    ("flag_filling_defects", "Flag defects"),
)


def build_marking_toolbar(window: QMainWindow, actions: Mapping[str, QAction]) -> QToolBar:
    """Make the marking toolbar: each marking tool with its key ("Point M", "Ellipse ⇧E").

    The analysis suggestions follow after a separator ("Suggest tree ⇧T").

    The actions are the Annotate menu's (checkable, one checked: the tool in use), so the
    toolbar, the menu and the keys stay one state.
    """
    toolbar = QToolBar("Marking Tools", window)
    toolbar.setObjectName("MarkingToolBar")
    toolbar.setMovable(False)
    for tools in (MARKING_TOOLS, MARKING_SUGGESTIONS):
        if tools is MARKING_SUGGESTIONS:
            toolbar.addSeparator()
        for name, short in tools:
            action = actions[name]
            key = action.shortcut().toString().replace("Shift+", "⇧")
            action.setIconText(f"{short} {key}".strip())
            toolbar.addAction(action)
    return toolbar


def fill_recent_menu(
    menu: QMenu, settings: Settings, open_paths: Callable[[list[Path]], None]
) -> None:
    """List the studies opened recently in File → Open Recent (filled as it opens)."""
    menu.clear()
    recent = settings.recent()
    if not recent:
        empty = menu.addAction("No recent studies")
        empty.setEnabled(False)
        return
    for paths in recent:
        text = " + ".join(str(path) for path in paths)
        action = menu.addAction(text)
        action.triggered.connect(lambda _checked=False, p=paths: open_paths(p))
    menu.addSeparator()
    menu.addAction("Clear List").triggered.connect(settings.clear_recent)
