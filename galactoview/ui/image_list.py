"""ImageListDock: Qt view of the images of a scan, grouped by study and series."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import QDockWidget, QTreeWidget, QTreeWidgetItem, QWidget

from galactoview.dicom.loading import ImageRecord

__all__ = ["ImageListDock", "image_row_text", "image_text", "series_text", "study_text"]

_INDEX_ROLE = Qt.ItemDataRole.UserRole


def study_text(record: ImageRecord) -> str:
    """Return the label of a study row, e.g. ``"2024-01-02 · Galactography left"``."""
    date = record.study_date
    if len(date) == 8 and date.isdigit():
        date = f"{date[:4]}-{date[4:6]}-{date[6:]}"
    parts = [part for part in (date, record.study_description) if part]
    return " · ".join(parts) or "Study"


def series_text(record: ImageRecord) -> str:
    """Return the label of a series row, e.g. ``"Series 2 · post-contrast"``.

    Series Number (0020,0011) is only unique within a study, so the Series Description
    (0008,103E) is part of the label.
    """
    number = f"Series {record.series_number}" if record.series_number is not None else "Series"
    return f"{number} · {record.series_description}" if record.series_description else number


def image_row_text(record: ImageRecord) -> str:
    """Return the label of an image row under its series row, e.g. ``"L CC MAG"``.

    The view (laterality, view, modifiers), else ``"Image <Instance Number>"``, else
    the file name.
    """
    label = record.view.label
    if label:
        return label
    number = record.instance_number
    return f"Image {number}" if number is not None else record.path.name


def image_text(record: ImageRecord) -> str:
    """Return the label of an image on its own, e.g. ``"L CC · post-contrast"``."""
    label = image_row_text(record)
    return f"{label} · {record.series_description}" if record.series_description else label


class ImageListDock(QDockWidget):
    """Qt view of a sequence of :class:`ImageRecord`: a study → series → image tree.

    Signals
    -------
    image_selected(int)
        The user chose the image at this index of :meth:`set_images`' sequence.
    """

    image_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Images", parent)
        self.setObjectName("ImageListDock")
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("ImageTree")
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.setWidget(self.tree)
        self._items: list[QTreeWidgetItem] = []
        self.tree.currentItemChanged.connect(self._on_current_item_changed)

    def set_images(self, images: Sequence[ImageRecord]) -> None:
        """Show images (already in display order), grouped by study and series.

        An image row shows the view (:func:`image_row_text`); when two images of a
        series have the same view, their Instance Numbers (or file names) tell them apart.
        """
        blocker = QSignalBlocker(self.tree)
        self.tree.clear()
        self._items = []
        studies: dict[str, QTreeWidgetItem] = {}
        series: dict[tuple[str, str], QTreeWidgetItem] = {}
        repeated = Counter(
            (r.study_instance_uid, r.series_instance_uid, image_row_text(r)) for r in images
        )
        for index, record in enumerate(images):
            study_item = studies.get(record.study_instance_uid)
            if study_item is None:
                text = study_text(record)
                study_item = QTreeWidgetItem(self.tree, [text])
                study_item.setToolTip(0, f"{text}\nStudy Instance UID {record.study_instance_uid}")
                studies[record.study_instance_uid] = study_item
            key = (record.study_instance_uid, record.series_instance_uid)
            series_item = series.get(key)
            if series_item is None:
                text = series_text(record)
                series_item = QTreeWidgetItem(study_item, [text])
                series_item.setToolTip(
                    0, f"{text}\nSeries Instance UID {record.series_instance_uid}"
                )
                series[key] = series_item
            text = image_row_text(record)
            if repeated[(*key, text)] > 1:
                number = record.instance_number
                text += f" · #{number}" if number is not None else f" · {record.path.name}"
            item = QTreeWidgetItem(series_item, [text])
            item.setData(0, _INDEX_ROLE, index)
            item.setToolTip(0, f"{image_text(record)}\n{record.path}")
            self._items.append(item)
        self.tree.expandAll()
        del blocker

    def set_current_index(self, index: int) -> None:
        """Highlight the image at ``index`` without emitting :attr:`image_selected`."""
        if 0 <= index < len(self._items):
            blocker = QSignalBlocker(self.tree)
            self.tree.setCurrentItem(self._items[index])
            del blocker

    def current_index(self) -> int | None:
        """Return the index of the highlighted image, if an image row is highlighted."""
        return self._index_of(self.tree.currentItem())

    def item_texts(self) -> list[str]:
        """Return the labels of the image rows, in order."""
        return [item.text(0) for item in self._items]

    def _on_current_item_changed(
        self, current: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None
    ) -> None:
        index = self._index_of(current)
        if index is not None:
            self.image_selected.emit(index)

    @staticmethod
    def _index_of(item: QTreeWidgetItem | None) -> int | None:
        if item is None:
            return None
        value = item.data(0, _INDEX_ROLE)
        return value if isinstance(value, int) else None
