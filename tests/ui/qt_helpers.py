"""Small helpers shared by the Qt tests."""

from __future__ import annotations

import functools

from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem
from pytestqt.qtbot import QtBot

from galactoview.dicom.mammography import Flip, hanging_flip
from galactoview.ui.viewer.decoding import DecodedImage, decode_image
from galactoview.ui.viewer.viewport import Viewport
from tests.helpers import sample_images, truth_image


def tree_item(tree: QTreeWidget, *rows: int) -> QTreeWidgetItem:
    """Return the tree item at a path of row numbers (study, series, image)."""
    item = tree.topLevelItem(rows[0])
    for row in rows[1:]:
        assert item is not None
        item = item.child(row)
    assert item is not None
    return item


def shown_viewport(qtbot: QtBot, width: int, height: int) -> Viewport:
    """Return a new viewport of this size, shown and exposed (closed after the test)."""
    viewport = Viewport()
    qtbot.addWidget(viewport)
    viewport.resize(width, height)
    viewport.show()
    qtbot.waitExposed(viewport)
    return viewport


def show_decoded(viewport: Viewport, decoded: DecodedImage, flip: Flip | None = None) -> None:
    """Show a decoded image at its default VOI, hung as the hanging protocol says.

    `flip` replaces the hanging flip (PS3.3 C.8.11.7 view, Patient Orientation).
    """
    record = decoded.record
    viewport.set_image(
        decoded.stored,
        decoded.pipeline,
        decoded.pipeline.default_voi(),
        record=record,
        flip=flip if flip is not None else hanging_flip(record.view, record.patient_orientation),
    )


@functools.cache
def sample_image(label: str) -> DecodedImage:
    """Return a decoded sample image by its ground-truth label (decoded once per session)."""
    uid = truth_image(label)["sop_instance_uid"]
    (record,) = (r for r in sample_images() if r.sop_instance_uid == uid)
    return decode_image(record)
