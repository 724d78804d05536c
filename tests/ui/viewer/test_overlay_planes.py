"""Overlay planes (60xx, PS3.3 C.9.2 / C.9.3) drawn over the image in the viewport."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from galactoview.dicom.loading import ImageRecord, scan
from galactoview.dicom.mammography import Flip
from galactoview.imaging.overlays import overlay_rgba, read_overlay_planes
from galactoview.ui.viewer.decoding import decode_image
from galactoview.ui.viewer.viewport import OVERLAY_COLOUR, Viewport
from tests.helpers import write_dataset
from tests.overlay_data import multi_frame_with_overlay, random_bits, single_frame_with_overlays
from tests.ui.conftest import OpenWindow
from tests.ui.qt_helpers import shown_viewport


def _record(path: Path) -> ImageRecord:
    (record,) = scan([path]).images
    return record


def _screen_colour(viewport: Viewport, column: int, row: int) -> tuple[int, int, int]:
    """Return the colour on screen at the centre of stored pixel (column, row)."""
    x, y = viewport.map_image_to_widget(column + 0.5, row + 0.5)
    colour: QColor = viewport.grab().toImage().pixelColor(round(x), round(y))
    return colour.red(), colour.green(), colour.blue()


def _show(viewport: Viewport, record: ImageRecord, qtbot: QtBot, **options: object) -> None:
    decoded = decode_image(record, frame=int(options.pop("frame", 0)))  # type: ignore[call-overload]
    with qtbot.waitSignal(viewport.overlay_planes_changed, timeout=10_000):
        viewport.set_image(
            decoded.stored,
            decoded.pipeline,
            decoded.pipeline.default_voi(),
            record=record,
            frame=decoded.frame,
            **options,  # type: ignore[arg-type]
        )


def test_overlay_bits_are_drawn_at_their_origin_under_the_hanging_flip(
    qtbot: QtBot, tmp_path: Path
) -> None:
    ds = single_frame_with_overlays()
    record = _record(write_dataset(ds, tmp_path / "overlays.dcm"))
    viewport = shown_viewport(qtbot, 600, 500)
    _show(viewport, record, qtbot, flip=Flip(horizontal=True))
    item = viewport.overlay_item
    assert item.isVisible() and item.parentItem() is viewport.image_item
    expected = overlay_rgba(read_overlay_planes(ds), 1, (40, 30), OVERLAY_COLOUR)
    assert expected is not None
    np.testing.assert_array_equal(item.image, expected[0])
    rect = item.mapRectToParent(item.boundingRect())
    assert (rect.left(), rect.top(), rect.width(), rect.height()) == (2.0, 0.0, 28.0, 35.0)
    # On screen: overlay 6000 (10 x 12 at row 5, column 7) over the flipped image.
    bits = random_bits((10, 12), 1)
    (on_row, on_column), (off_row, off_column) = (
        np.argwhere(bits == 1)[0],
        np.argwhere(bits == 0)[0],
    )
    assert _screen_colour(viewport, 6 + on_column, 4 + on_row) == OVERLAY_COLOUR
    red, green, blue = _screen_colour(viewport, 6 + off_column, 4 + off_row)
    assert red == green == blue  # the grey image
    x_view, _ = viewport.map_image_to_view(6.5 + on_column, 4.5 + on_row)
    assert x_view == 30.0 - (6.5 + on_column)  # flipped: item x is shown at columns - x
    viewport.set_overlay_planes_visible(False)
    assert not item.isVisible()
    red, green, blue = _screen_colour(viewport, 6 + on_column, 4 + on_row)
    assert red == green == blue
    viewport.set_overlay_planes_visible(True)
    assert item.isVisible()


def test_multi_frame_overlay_follows_the_frame_shown(qtbot: QtBot, tmp_path: Path) -> None:
    record = _record(write_dataset(multi_frame_with_overlay(), tmp_path / "cine.dcm"))
    viewport = shown_viewport(qtbot, 400, 400)
    _show(viewport, record, qtbot, frame=0)
    assert len(viewport.overlay_planes.planes) == 1
    assert not viewport.overlay_item.isVisible()  # the overlay's frames are 2 and 3
    frames = random_bits((2, 5, 6), 3)
    for frame in (1, 2):  # same record: the planes read are kept, drawn at once
        decoded = decode_image(record, frame=frame)
        viewport.set_image(
            decoded.stored, decoded.pipeline, None, record=record, frame=frame, fit=False
        )
        item = viewport.overlay_item
        assert item.isVisible()
        np.testing.assert_array_equal(item.image[..., 3] == 255, frames[frame - 1] == 1)
    decoded = decode_image(record, frame=3)
    viewport.set_image(decoded.stored, decoded.pipeline, None, record=record, frame=3, fit=False)
    assert not viewport.overlay_item.isVisible()


def test_an_image_without_overlays_draws_none_and_clearing_hides_them(
    qtbot: QtBot, tmp_path: Path
) -> None:
    record = _record(write_dataset(single_frame_with_overlays(), tmp_path / "o.dcm"))
    viewport = shown_viewport(qtbot, 300, 300)
    _show(viewport, record, qtbot)
    assert viewport.overlay_item.isVisible()
    viewport.clear_image()
    assert not viewport.overlay_item.isVisible() and not viewport.overlay_planes


def test_the_overlays_key_hides_and_shows_the_overlay_planes(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    path = write_dataset(single_frame_with_overlays(), tmp_path / "study" / "o.dcm")
    window = open_window([path.parent])
    viewport = window.hanging_view.viewports[0]
    qtbot.waitUntil(lambda: bool(viewport.overlay_planes), timeout=10_000)
    assert viewport.overlay_item.isVisible()
    action = window.named_actions["overlays"]
    assert action.isChecked() and action.shortcut().toString() == "O"
    action.trigger()
    assert not viewport.overlay_item.isVisible() and not viewport.overlay_planes_visible
    action.trigger()
    assert viewport.overlay_item.isVisible()
