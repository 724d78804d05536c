"""Small helpers shared by the Qt tests."""

from __future__ import annotations

from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem


def tree_item(tree: QTreeWidget, *rows: int) -> QTreeWidgetItem:
    """Return the tree item at a path of row numbers (study, series, image)."""
    item = tree.topLevelItem(rows[0])
    for row in rows[1:]:
        assert item is not None
        item = item.child(row)
    assert item is not None
    return item
