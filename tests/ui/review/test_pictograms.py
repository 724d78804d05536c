"""The clock face's ring labels go on the diagonal farthest from the findings (issue 15)."""

from __future__ import annotations

from galactoview.dicom.mammography import Laterality
from galactoview.report.content import PictogramMark
from galactoview.ui.review.pictograms import ring_label_angle


def mark(angle: float) -> PictogramMark:
    return PictogramMark(Laterality.LEFT, angle, 50.0, 0.5, "FD-1", "Intraluminal filling defect")


def test_ring_labels_avoid_the_findings() -> None:
    assert ring_label_angle([]) == 135.0  # 4:30 when nothing is in the way
    # The sample's left-breast findings at 7 and 8 o'clock (210°, 240°): 1:30 is free.
    assert ring_label_angle([mark(210.0), mark(240.0), mark(215.0)]) == 45.0
    assert ring_label_angle([mark(130.0)]) == 315.0  # one at 4:20: the opposite diagonal
