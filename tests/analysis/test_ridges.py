"""The ridge measure finds the contrast-filled ducts of the phantom (issue 16, first slice)."""

from __future__ import annotations

import numpy as np
import pytest

from galactoview.analysis.ridges import RidgeMap, ridge_map
from galactoview.dicom.loading import load_pixels, read_header
from galactoview.imaging.display import DisplayPipeline, Window
from galactoview.location.landmarks import BreastRegion
from galactoview.phantom.anatomy import Side
from galactoview.phantom.breast_builder import draw_injected_breast
from galactoview.phantom.centrelines import projected_centrelines
from galactoview.phantom.study import _geometry, plan
from tests.helpers import ground_truth, sample_images


def _image(label: str) -> tuple[np.ndarray, DisplayPipeline, float]:
    (truth,) = (i for i in ground_truth()["images"] if i["label"] == label)
    (record,) = (r for r in sample_images() if r.sop_instance_uid == truth["sop_instance_uid"])
    stored = load_pixels(record)
    stored.setflags(write=False)  # never written into
    return (
        stored,
        DisplayPipeline.from_dataset(read_header(record)),
        truth["imager_pixel_spacing_mm"],
    )


@pytest.mark.parametrize("label", ["LCC_POST", "LML_POST"])
def test_the_ducts_answer_far_more_than_the_breast_around_them(label: str) -> None:
    stored, pipeline, spacing = _image(label)
    ridges = ridge_map(stored, pipeline, spacing)
    assert ridges.step == 4  # 0.1 mm pixels: a quarter
    assert ridges.response.shape == (stored.shape[0] // 4, stored.shape[1] // 4)
    # The sample is seed 7, left side: the same breast gives its true centrelines.
    sample = ground_truth()
    breast = draw_injected_breast(sample["seed"], Side(sample["side"]))
    (item,) = (i for i in plan(breast.side) if i.label == label)
    segments = projected_centrelines(breast, _geometry(item, breast))
    wide = [s for s in segments if min(s.radius_mm) >= 0.5 and s.length_px > 40]
    assert len(wide) >= 5
    on_ducts = [
        ridges.at(((a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0)) for s in wide for a, b in [s.points]
    ]
    breast_region = BreastRegion.of(stored, pipeline)
    rng = np.random.default_rng(0)
    rows, columns = stored.shape
    elsewhere: list[float] = []
    while len(elsewhere) < 200:
        point = (float(rng.uniform(0, columns)), float(rng.uniform(0, rows)))
        if (
            breast_region.contains(point)
            and min(
                np.hypot(point[0] - (a[0] + b[0]) / 2, point[1] - (a[1] + b[1]) / 2)
                for s in segments
                for a, b in [s.points]
            )
            > 60
        ):
            elsewhere.append(ridges.at(point))
    assert np.median(on_ducts) > 3.0 * np.median(elsewhere)


def test_a_bright_bar_on_an_inverted_image_is_a_ridge_and_bad_input_is_refused() -> None:
    image = np.full((200, 200), 3000, dtype=np.uint16)
    image[95:105, 20:180] = 1000  # MONOCHROME1-like: dense contrast stored dark
    inverted = DisplayPipeline(12, 0, windows=(Window(2048.0, 4096.0),), invert=True)
    ridges = ridge_map(image, inverted, 0.1)
    assert ridges.at((100.0, 100.0)) > 10 * ridges.at((100.0, 40.0))
    assert ridges.scale_mm[100 // ridges.step, 100 // ridges.step] in (0.5, 1.0)
    plain = DisplayPipeline(12, 0, windows=(Window(2048.0, 4096.0),))
    dark = ridge_map(image, plain, 0.1).at((100.0, 100.0))
    assert dark < 0.01 * ridges.at((100.0, 100.0))  # a dark bar is no ridge
    assert isinstance(ridges, RidgeMap) and ridges.at((-5.0, 10.0)) == 0.0
    with pytest.raises(ValueError, match="2-D"):
        ridge_map(np.zeros((2, 3, 3), dtype=np.uint16), plain, 0.1)
    with pytest.raises(ValueError, match="spacing"):
        ridge_map(image, plain, 0.0)
