"""Mark labels placed together in the cell: no overlaps, clear of the marks, hidden when small."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, QRectF
from pytestqt.qtbot import QtBot

from galactoview.annotations.model import (
    AnnotationSet,
    Finding,
    FindingType,
    GraphicType,
    ImageRegion,
    NippleLandmark,
)
from galactoview.phantom.annotations import sample_annotations
from galactoview.reading.label_layout import Rect
from galactoview.ui.annotate.annotation_items import NIPPLE_KEY
from galactoview.ui.viewer.ruler import RulerTool
from galactoview.ui.viewer.view_labels import (
    LABEL_GAP_PX,
    MIN_PIXELS_PER_MM,
    ViewLabels,
    marker_rect,
    view_labels,
)
from tests.helpers import ground_truth, lesion, nipple, sample_headers
from tests.ui.annotate.test_annotation_tools import Bench, make_bench

Point = tuple[float, float]


def sample_marks(bench: Bench) -> AnnotationSet:
    """Return the sample study's annotations (the phantom's ground truth marks)."""
    truth = ground_truth()
    headers = sample_headers()
    by_file = {image["file"]: headers[Path(image["file"]).stem] for image in truth["images"]}
    return sample_annotations(truth, by_file)


def on_image(bench: Bench, annotations: AnnotationSet) -> dict[str, list[Point]]:
    """Return the scene points of each mark on the image shown, by label key prefix."""
    sop = bench.decoded.record.sop_instance_uid
    parent = bench.view.image_item

    def scene(points: tuple[Point, ...]) -> list[Point]:
        mapped = [parent.mapToScene(QPointF(*p)) for p in points]
        return [(float(p.x()), float(p.y())) for p in mapped]

    marks = {
        f.tracking_uid: scene(r.points)
        for f in annotations.findings
        for r in f.regions
        if r.sop_instance_uid == sop
    }
    landmark = annotations.landmark(sop, None)
    if landmark is not None:
        marks[NIPPLE_KEY] = scene(landmark.region.points)
    return marks


def assert_well_placed(labels: ViewLabels, marks: dict[str, list[Point]], count: int) -> None:
    """Check the placement: every label placed, no overlap, clear of marks, inside the cell."""
    boxes = labels.boxes()
    assert len(boxes) == count
    for (key_a, a), (key_b, b) in itertools.combinations(boxes.items(), 2):
        assert not a.intersects(b), f"{key_a} {a} overlaps {key_b} {b}"
    cell = labels.cell_rect()
    for key, box in boxes.items():
        assert cell.contains(box), f"{key} {box} outside the cell {cell}"
        for owner, points in marks.items():
            for x, y in points:
                assert not box.contains(QPointF(x, y)), f"{key} covers a point of {owner}"


def place(labels: ViewLabels) -> None:
    """Run the placement the view change scheduled (as the timer would)."""
    assert labels.pending()
    labels.place_now()


@pytest.fixture
def bench(qtbot: QtBot) -> Bench:
    """Return a bench on the post-contrast L CC at fit zoom (800 x 600)."""
    return make_bench(qtbot)


def test_the_sample_marks_labels_overlap_nothing_at_fit_zoom(bench: Bench) -> None:
    annotations = sample_marks(bench)
    bench.workspace.set_loaded(annotations)
    rulers = RulerTool(bench.view)
    rulers.add_ruler(nipple("LCC_POST"), lesion("LCC_POST"))
    labels = view_labels(bench.view)
    assert view_labels(bench.view) is labels  # one placer for all the layers
    place(labels)
    marks = on_image(bench, annotations)
    assert len(marks) >= 4  # the nipple and the lesions seen on the L CC
    assert labels.labels_shown()
    # Every mark's label and the ruler's.
    assert_well_placed(labels, marks, len(marks) + 1)
    assert sorted(labels.boxes()) == sorted([*(f"{k}#0" for k in marks), "ruler-0"])


def test_a_dense_cluster_by_the_nipple_gets_leaders_and_no_overlap(bench: Bench) -> None:
    sop = bench.decoded.record.sop_instance_uid
    study = bench.study
    nx, ny = nipple("LCC_POST")
    per_mm = 1.0 / bench.spacing  # image pixels per mm
    offsets = [(-2, -1.5), (-3, 2), (1.5, 2.5), (-5, 0), (-1, 4.5), (-4.5, -4)]  # mm, within 5 mm
    findings = tuple(
        Finding.new(
            FindingType.INTRALUMINAL_FILLING_DEFECT,
            [ImageRegion(sop, None, GraphicType.POINT, ((nx + dx * per_mm, ny + dy * per_mm),))],
            short_id=f"FD-{i + 1}",
        )
        for i, (dx, dy) in enumerate(offsets)
    )
    annotations = AnnotationSet(study, findings, (), (NippleLandmark(sop, None, (nx, ny)),))
    bench.workspace.set_loaded(annotations)
    labels = view_labels(bench.view)
    marks = on_image(bench, annotations)
    assert len(marks) == 7
    assert_well_placed(labels, marks, 7)
    # Labels pushed away from their marks are joined to them by a leader line.
    leaders = labels.leader_lines()
    far = 0
    for key in [*(f.tracking_uid for f in findings), NIPPLE_KEY]:
        box = labels.boxes()[f"{key}#0"]
        (marker,) = (
            marker_rect(item)
            for item in bench.layer.items_for(key)
            if item not in bench.layer.label_items()
        )
        mark = Rect(marker.left(), marker.top(), marker.width(), marker.height())
        label = Rect(box.left(), box.top(), box.width(), box.height())
        if label.separation(mark) > LABEL_GAP_PX + 1e-6:
            far += 1
            grown = marker.adjusted(-1.0, -1.0, 1.0, 1.0)
            assert any(
                grown.contains(line.p2()) and box.adjusted(-1, -1, 1, 1).contains(line.p1())
                for line in leaders
            ), f"no leader from {key}'s label to its mark"
    assert len(leaders) == far
    # No label lies under a marker drawn in screen pixels (the nipple ring, point arrows).
    markers = [
        marker_rect(item)
        for key in [*(f.tracking_uid for f in findings), NIPPLE_KEY]
        for item in bench.layer.items_for(key)
        if item not in bench.layer.label_items()
    ]
    for key, box in labels.boxes().items():
        assert not any(box.intersects(m) for m in markers), f"{key}'s label is under a marker"


def test_labels_hide_below_the_threshold_zoom_and_the_marks_stay(
    qtbot: QtBot, bench: Bench
) -> None:
    annotations = sample_marks(bench)
    bench.workspace.set_loaded(annotations)
    labels = view_labels(bench.view)
    assert labels.labels_shown()
    assert all(item.isVisible() for item in bench.layer.label_items())
    # Zoom out to 0.8 screen pixels per mm: the view change schedules a placement.
    bench.view.set_zoom(0.8 * MIN_PIXELS_PER_MM * bench.spacing)
    mm_per_pixel = bench.view.mm_per_screen_pixel()
    assert mm_per_pixel is not None and 1.0 / mm_per_pixel < MIN_PIXELS_PER_MM
    qtbot.waitUntil(lambda: not labels.pending())
    assert not labels.labels_shown()
    assert labels.boxes() == {}
    assert labels.leader_lines() == []
    assert not any(item.isVisible() for item in bench.layer.label_items())
    marks = [
        item
        for key in bench.layer.marked_keys()
        for item in bench.layer.items_for(key)
        if item not in bench.layer.label_items()
    ]
    assert marks and all(item.isVisible() for item in marks)
    # Back to fit: the labels return.
    bench.view.fit()
    qtbot.waitUntil(lambda: not labels.pending())
    assert labels.labels_shown()
    assert all(item.isVisible() for item in bench.layer.label_items())


def test_a_small_cell_hides_the_labels(qtbot: QtBot, bench: Bench) -> None:
    bench.workspace.set_loaded(sample_marks(bench))
    labels = view_labels(bench.view)
    bench.view.resize(800, 140)
    qtbot.waitUntil(lambda: labels.cell_rect().height() <= 140)
    qtbot.waitUntil(lambda: not labels.pending())
    assert not labels.labels_shown()
    assert not any(item.isVisible() for item in bench.layer.label_items())


def test_a_pan_replaces_the_labels_inside_the_cell(qtbot: QtBot, bench: Bench) -> None:
    annotations = sample_marks(bench)
    bench.workspace.set_loaded(annotations)
    labels = view_labels(bench.view)
    before = labels.boxes()
    # Put the nipple at the cell's right edge: its label must move back in.
    bench.view.set_zoom(2.0 * bench.view.zoom_factor())
    nx, ny = nipple("LCC_POST")
    (x0, x1), (y0, y1) = bench.view.view_box.viewRange()
    view_x, view_y = bench.view.map_image_to_view(nx, ny)
    bench.view.view_box.setRange(
        xRange=(view_x - (x1 - x0) + 2.0, view_x + 2.0),
        yRange=(view_y - (y1 - y0) / 2.0, view_y + (y1 - y0) / 2.0),
        padding=0.0,
    )
    qtbot.waitUntil(lambda: not labels.pending())
    after = labels.boxes()
    assert after != before
    assert f"{NIPPLE_KEY}#0" in after
    cell = labels.cell_rect()
    assert all(cell.contains(box) for box in after.values())
    visible = {
        key: points
        for key, points in on_image(bench, annotations).items()
        if all(cell.contains(QPointF(x, y)) for x, y in points)
    }
    nipple_box: QRectF = after[f"{NIPPLE_KEY}#0"]
    for points in visible.values():
        assert not any(nipple_box.contains(QPointF(x, y)) for x, y in points)


def test_labels_keep_clear_of_the_overlay_text(qtbot: QtBot, bench: Bench) -> None:
    from galactoview.ui.viewer.overlays import ViewportOverlay

    overlay = ViewportOverlay(bench.view)
    image = bench.view.image_item.sceneBoundingRect()
    labels = view_labels(bench.view)
    sop = bench.decoded.record.sop_instance_uid
    # A mark on the image 30 pixels below a corner line: its label's first choice (upper
    # right of the arrow) would cover that line.
    spots = []
    for key, r in overlay.layout_rects().items():
        low = max(r.left - 30.0, image.left() + 25.0)
        high = min(r.left + r.width - 10.0, image.right() - 5.0)
        if key.startswith("top_") and low < high:
            spots.append(QPointF(low, r.top + r.height + 30.0))
    assert spots
    tip = bench.view.image_item.mapFromScene(spots[0])
    finding = Finding.new(
        FindingType.CYST_FILL,
        [ImageRegion(sop, None, GraphicType.POINT, ((tip.x(), tip.y()),))],
        short_id="CY-9",
    )
    bench.workspace.set_loaded(AnnotationSet(bench.study, (finding,)))
    assert overlay.is_shown()
    (box,) = labels.boxes().values()
    for key, rect in overlay.layout_rects().items():
        drawn = QRectF(rect.left, rect.top, rect.width, rect.height)
        assert not box.intersects(drawn), f"label {box} covers the overlay {key} {drawn}"
