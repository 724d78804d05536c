"""In-memory phantom cases for the evaluation (issue 16 item 1): pixels, bubbles, loading."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from numpy.typing import NDArray

from galactoview.dicom.calibration import CalibrationSource, calibration_from_dataset
from galactoview.dicom.loading import load_pixels, read_image_dataset, scan
from galactoview.dicom.mammography import ContrastPhase
from galactoview.imaging.display import DisplayPipeline
from galactoview.paths import sample_data_dir
from galactoview.phantom.anatomy import Side
from galactoview.phantom.cases import (
    SAMPLE_DETECTOR,
    SELENIA_DIMENSIONS,
    Detector,
    PhantomCase,
    post_contrast_cases,
)
from tests.pixel_probes import disk_mean

# The bundled sample's phantom: without bubbles the cases are its post-contrast images.
SAMPLE_SEED = 7


def _pixels(case: PhantomCase) -> NDArray[np.float64]:
    return np.asarray(case.dataset.pixel_array, dtype=np.float64)


@pytest.fixture(scope="module")
def plain() -> tuple[PhantomCase, ...]:
    return post_contrast_cases(SAMPLE_SEED, Side.LEFT, bubbles=False)


@pytest.fixture(scope="module")
def bubbly() -> tuple[PhantomCase, ...]:
    return post_contrast_cases(SAMPLE_SEED, Side.LEFT)


@pytest.fixture(scope="module")
def large() -> tuple[PhantomCase, ...]:
    return post_contrast_cases(13, Side.RIGHT, detector=SELENIA_DIMENSIONS)


def test_without_bubbles_the_cases_are_the_sample_post_contrast_images(
    plain: tuple[PhantomCase, ...],
) -> None:
    assert [case.label for case in plain] == ["LCC_POST", "LML_POST"]  # not the magnified CC
    folder = sample_data_dir()
    if not (folder / "ground_truth.json").is_file():
        pytest.skip(f"no sample study in {folder}")
    truth: dict[str, Any] = json.loads((folder / "ground_truth.json").read_text("utf-8"))
    for case in plain:
        assert (case.seed, case.side) == (SAMPLE_SEED, Side.LEFT)
        (entry,) = (image for image in truth["images"] if image["label"] == case.label)
        assert case.truth == entry  # the same dict as ground_truth.json's image entry
        assert case.truth["bubbles"] == [] and case.truth["ducts"] and case.truth["defects"]
        stored = pydicom.dcmread(folder / entry["file"])
        assert np.array_equal(stored.pixel_array, case.dataset.pixel_array)
        assert stored.SOPInstanceUID == case.dataset.SOPInstanceUID
        assert (case.dataset.Rows, case.dataset.Columns) == (
            SAMPLE_DETECTOR.rows,
            SAMPLE_DETECTOR.columns,
        )


def _axis_direction(truth: dict[str, Any], bubble: dict[str, Any]) -> NDArray[np.float64]:
    (a, b) = (np.asarray(p, dtype=np.float64) for p in truth["ducts"][bubble["segment"]]["points"])
    return (b - a) / float(np.linalg.norm(b - a))


def _moved(at: tuple[float, float], by: NDArray[np.float64]) -> tuple[float, float]:
    return (at[0] + float(by[0]), at[1] + float(by[1]))


def test_bubbles_are_round_lucencies_inside_the_contrast_filled_lumen(
    plain: tuple[PhantomCase, ...], bubbly: tuple[PhantomCase, ...]
) -> None:
    for without, with_ in zip(plain, bubbly, strict=True):
        assert with_.label == without.label
        bubbles = with_.truth["bubbles"]
        assert 1 <= len(bubbles) <= 4
        before, after = _pixels(without), _pixels(with_)
        # Only the bubbles changed the image (same noise): nothing outside their discs.
        rows, cols = np.ogrid[: after.shape[0], : after.shape[1]]
        near = np.zeros(after.shape, dtype=bool)
        for bubble in bubbles:
            reach = bubble["radius_px"] + 4.0
            near |= (rows + 0.5 - bubble["row"]) ** 2 + (cols + 0.5 - bubble["column"]) ** 2 <= (
                reach**2
            )
        assert np.array_equal(before[~near], after[~near])
        assert not np.array_equal(before[near], after[near])
        for bubble in bubbles:
            at = (bubble["column"], bubble["row"])
            core = 0.5 * bubble["radius_px"]
            # Air where contrast was: darker than the same spot without the bubble ...
            assert disk_mean(after, *at, core) < disk_mean(before, *at, core) - 40.0, bubble
            # ... and than the contrast in the same duct just beyond it, on either side.
            step = bubble["radius_px"] + 4.0
            axis = _axis_direction(with_.truth, bubble)
            lumen = max(
                disk_mean(after, *_moved(at, sign * step * axis), 0.3 * core + 1.0)
                for sign in (-1.0, 1.0)
            )
            assert disk_mean(after, *at, core) < lumen - 40.0, bubble
            # Round: half-way out, the air takes as much contrast along the duct as across it.
            drop = before - after
            across = np.array([-axis[1], axis[0]])
            along_drop, across_drop = (
                np.mean([disk_mean(drop, *_moved(at, s * core * d), 1.0) for s in (-1, 1)])
                for d in (axis, across)
            )
            assert across_drop > 20.0
            assert along_drop == pytest.approx(across_drop, rel=0.25), bubble
    cc, ml = (case.truth["bubbles"] for case in bubbly)
    assert {(b["column"], b["row"]) for b in cc}.isdisjoint({(b["column"], b["row"]) for b in ml})
    assert all(b["distractor"] is True for b in cc + ml)


def test_the_same_seed_gives_the_same_bytes_on_any_detector() -> None:
    coarse = Detector(574, 479, 0.4)  # the sample's field of view, quickly rendered
    first = post_contrast_cases(14, Side.LEFT, detector=coarse)
    again = post_contrast_cases(14, Side.LEFT, detector=coarse)
    for a, b in zip(first, again, strict=True):
        assert a.dataset.PixelData == b.dataset.PixelData
        assert a.truth == b.truth and a.truth["bubbles"]
    other = post_contrast_cases(15, Side.LEFT, detector=coarse)
    assert other[0].dataset.PixelData != first[0].dataset.PixelData


def _save(case: PhantomCase, path: Path) -> Path:
    buffer = io.BytesIO()
    case.dataset.save_as(buffer, enforce_file_format=True)
    path.write_bytes(buffer.getvalue())
    return path


def test_large_detector_cases_load_as_the_viewer_loads_files(
    large: tuple[PhantomCase, ...], tmp_path: Path
) -> None:
    assert [case.label for case in large] == ["RCC_POST", "RML_POST"]
    paths = [_save(case, tmp_path / f"{case.label}.dcm") for case in large]
    found = scan(paths)
    assert found.problems == ()
    records = {record.sop_instance_uid: record for record in found.images}
    for case, path in zip(large, paths, strict=True):
        record = records[case.dataset.SOPInstanceUID]
        assert (record.rows, record.columns) == (4096, 3328)
        assert record.contrast_phase is ContrastPhase.POST
        pixels = load_pixels(record)
        assert pixels.shape == (4096, 3328)
        assert np.array_equal(pixels, case.dataset.pixel_array)
        # mm per pixel: the 0.07 mm detector pitch over the mid-plane magnification.
        calibration = calibration_from_dataset(case.dataset)
        assert calibration.source is CalibrationSource.MAGNIFICATION_CORRECTED
        magnification = case.truth["magnification_factor"]
        assert calibration.row_spacing_mm == pytest.approx(0.07 / magnification, rel=1e-4)
        assert record.calibration == calibration
        assert DisplayPipeline.from_dataset(case.dataset).problems == ()
        # What `galactoview render` and the decode service read: the whole dataset.
        whole = read_image_dataset(path)
        assert np.array_equal(whole.pixel_array, pixels)


def test_the_breast_lies_wholly_on_the_large_detector(large: tuple[PhantomCase, ...]) -> None:
    for case in large:
        pixels = case.dataset.pixel_array
        background = pixels == 40  # render.BACKGROUND_VALUE
        # Right breast: the chest wall is the right-hand edge; the other three are empty.
        assert background[0].all() and background[-1].all() and background[:, 0].all()
        assert background[:, -1].mean() < 0.9  # the breast meets the chest-wall edge
        truth = case.truth
        assert truth["imager_pixel_spacing_mm"] == 0.07
        assert truth["nipple"]["visible"]
        assert truth["nipple"]["row"] == pytest.approx(4096 / 2)
        # Every duct end, defect and bubble on the breast (the orifice is on the nipple's tip).
        points = [duct["points"][1] for duct in truth["ducts"]]
        points += [(d["column"], d["row"]) for d in truth["defects"] + truth["bubbles"]]
        for column, row in points:
            assert 0 <= column <= 3328 and 0 <= row <= 4096
            assert not background[math.floor(row), math.floor(column)]
