"""ShortcutsDialog: Help → Keyboard shortcuts, listed from the window's own actions.

The list is built from the :class:`QAction` objects themselves, so it can never
disagree with what the keys do; ``docs/shortcuts.md`` is checked against the same
rows by a test.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

__all__ = ["MOUSE_BINDINGS", "ShortcutsDialog", "shortcut_rows"]

#: Mouse bindings, which have no QAction: (section, input, what it does).
MOUSE_BINDINGS: tuple[tuple[str, str, str], ...] = (
    ("Mouse", "Left drag", "Current tool: window/level (default), pan, zoom, ruler or magnifier"),
    ("Mouse", "Left drag (window/level)", "Right/left: wider/narrower; down/up: darker/brighter"),
    ("Mouse", "Middle drag", "Pan"),
    ("Mouse", "Right drag", "Zoom"),
    ("Mouse", "Wheel", "Zoom about the cursor"),
    ("Mouse", "Click in a viewport", "Make it the active viewport"),
    ("Mouse", "Ctrl+wheel / Shift+wheel (magnifier shown)", "Magnifier zoom / size"),
    ("Mouse", "Drop files or folders on the window", "Open them"),
)


def _clean(text: str) -> str:
    return text.replace("&", "").replace("…", "").strip()


def shortcut_rows(
    sections: Sequence[tuple[str, Sequence[QAction]]],
) -> list[tuple[str, str, str]]:
    """Return ``(section, keys, action)`` rows for the actions that have shortcuts.

    Parameters
    ----------
    sections
        Section titles with their actions, in the order to list them.
    """
    rows: list[tuple[str, str, str]] = []
    for title, actions in sections:
        for action in actions:
            keys = ", ".join(
                sequence.toString(QKeySequence.SequenceFormat.PortableText)
                for sequence in action.shortcuts()
                if not sequence.isEmpty()
            )
            if keys:
                rows.append((title, keys, _clean(action.text())))
    return rows


class ShortcutsDialog(QDialog):
    """Qt view of the shortcut rows: a three-column table (section, keys, action)."""

    def __init__(self, rows: Sequence[tuple[str, str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ShortcutsDialog")
        self.setWindowTitle("Keyboard Shortcuts")
        self.resize(640, 720)
        self.table = QTableWidget(len(rows), 3, self)
        self.table.setHorizontalHeaderLabels(["Group", "Keys", "Action"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        for row, values in enumerate(rows):
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)

    def rows(self) -> list[tuple[str, str, str]]:
        """Return the rows shown."""
        rows: list[tuple[str, str, str]] = []
        for row in range(self.table.rowCount()):
            texts = [self.table.item(row, column) for column in range(3)]
            section, keys, text = (item.text() if item is not None else "" for item in texts)
            rows.append((section, keys, text))
        return rows
