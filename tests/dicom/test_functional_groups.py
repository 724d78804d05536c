"""Per-frame attributes of enhanced multi-frame images (PS3.3 C.7.6.16) and their calibration."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from galactoview.dicom.calibration import CalibrationSource, calibration_from_dataset
from galactoview.dicom.functional_groups import GroupLevel, frame_view
from galactoview.dicom.loading import scan
from tests.helpers import make_mg_dataset, write_dataset
from tests.imaging.enhanced_multiframe import (
    FRAME_RESCALES,
    FRAME_WINDOWS,
    PIXEL_SPACING,
    breast_tomosynthesis,
)


def _per_frame_pixel_measures(ds: Dataset, spacings: list[float]) -> Dataset:
    """Move Pixel Measures from the shared group to each frame, with its own spacing."""
    del ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence
    for item, spacing in zip(ds.PerFrameFunctionalGroupsSequence, spacings, strict=True):
        measures = Dataset()
        measures.PixelSpacing = [spacing, spacing]
        measures.SliceThickness = 1.0
        item.PixelMeasuresSequence = Sequence([measures])
    return ds


@pytest.mark.parametrize("frame", [1, 2, 3])
def test_each_frame_reads_its_own_rescale_and_windows(frame: int) -> None:
    view = frame_view(breast_tomosynthesis(), frame - 1)
    ds = view.dataset
    intercept, slope = FRAME_RESCALES[frame - 1]
    assert (float(ds.RescaleIntercept), float(ds.RescaleSlope)) == (intercept, slope)
    assert ds.RescaleType == "US"
    windows = FRAME_WINDOWS[frame - 1]
    centers = ds.WindowCenter if len(windows) > 1 else [ds.WindowCenter]
    assert [float(c) for c in centers] == [center for center, *_ in windows]
    assert ds.VOILUTFunction == windows[0][3]
    assert [float(v) for v in ds.PixelSpacing] == list(PIXEL_SPACING)
    assert view.origins["PixelSpacing"] == (GroupLevel.SHARED, "Pixel Measures")
    assert view.origins["WindowWidth"] == (GroupLevel.PER_FRAME, "Frame VOI LUT")
    assert view.origin("RescaleSlope") == f"frame {frame}'s Pixel Value Transformation"
    assert view.origin("PixelSpacing") == "the shared Pixel Measures"
    assert view.frame_label == f"slice {frame} (stack 1, position {frame})"
    assert view.problems == ()
    assert "PerFrameFunctionalGroupsSequence" not in ds


def test_per_frame_wins_over_shared_wins_over_top_level() -> None:
    ds = breast_tomosynthesis()
    ds.PixelSpacing = [0.5, 0.5]  # top level: overridden by the shared group
    ds.WindowCenter, ds.WindowWidth = [10.0, 20.0], [30.0, 40.0]
    ds.WindowCenterWidthExplanation = ["TOP1", "TOP2"]
    shared_voi = Dataset()
    shared_voi.WindowCenter, shared_voi.WindowWidth = 1.0, 2.0
    ds.SharedFunctionalGroupsSequence[0].FrameVOILUTSequence = Sequence([shared_voi])
    del ds.PerFrameFunctionalGroupsSequence[2].FrameVOILUTSequence
    first = frame_view(ds, 0).dataset
    assert [float(v) for v in first.PixelSpacing] == list(PIXEL_SPACING)
    assert first.WindowCenterWidthExplanation == ["FULL", "NARROW"]  # per frame
    third = frame_view(ds, 2)
    # The shared macro replaces the top-level windows entirely: no TOP1 explanation left.
    assert float(third.dataset.WindowCenter) == 1.0
    assert "WindowCenterWidthExplanation" not in third.dataset
    assert third.origin("WindowCenter") == "the shared Frame VOI LUT"
    assert ds.WindowCenterWidthExplanation == ["TOP1", "TOP2"]  # the source is not modified
    assert "PerFrameFunctionalGroupsSequence" in ds


def test_a_classic_image_comes_back_unchanged() -> None:
    ds = make_mg_dataset()
    view = frame_view(ds)
    assert view.dataset == ds
    assert view.origins == {} and view.problems == () and view.frame_label == ""


def test_a_frame_without_its_item_takes_the_shared_values_and_says_so() -> None:
    view = frame_view(breast_tomosynthesis(), 5)
    assert "WindowCenter" not in view.dataset
    assert [float(v) for v in view.dataset.PixelSpacing] == list(PIXEL_SPACING)
    assert view.problems == (
        "Per-Frame Functional Groups Sequence has 3 item(s), no item for frame 6; "
        "using the shared values",
    )


def test_malformed_functional_groups_are_problems_not_crashes() -> None:
    ds = breast_tomosynthesis()
    ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence.append(Dataset())
    ds.PerFrameFunctionalGroupsSequence[0].add_new(0x00289110, "UT", "not a sequence")
    view = frame_view(ds, 0)
    assert "shared Pixel Measures has 2 items; using the first" in view.problems
    assert "PixelMeasuresSequence is not a sequence: ignored" in view.problems
    assert float(view.dataset.WindowCenter[0]) == 2048.0  # the rest is still read


def test_frame_view_reads_raw_elements_of_a_file(tmp_path: Path) -> None:
    path = write_dataset(breast_tomosynthesis(), tmp_path / "bto.dcm")
    header = pydicom.dcmread(path, stop_before_pixels=True)
    view = frame_view(header, 1)
    assert float(view.dataset.RescaleIntercept) == -1024.0
    assert view.dataset.original_encoding == (False, True)


# --- calibration per frame (Pixel Measures, PS3.3 C.7.6.16.2.1) -----------------------------


def test_shared_pixel_measures_calibrate_every_frame_and_say_so() -> None:
    ds = breast_tomosynthesis()
    for frame in range(3):
        calibration = calibration_from_dataset(ds, frame)
        assert calibration.source is CalibrationSource.PIXEL_SPACING
        assert (calibration.row_spacing_mm, calibration.column_spacing_mm) == PIXEL_SPACING
        assert calibration.description == (
            "0.085 mm/px: Pixel Spacing of the shared Pixel Measures "
            "(a reconstructed slice: in the patient)"
        )
        assert calibration.problems == ()


def test_a_measurement_on_frame_k_uses_frame_k_pixel_measures() -> None:
    ds = _per_frame_pixel_measures(breast_tomosynthesis(), [0.1, 0.2, 0.05])
    for frame, spacing in enumerate([0.1, 0.2, 0.05]):
        calibration = calibration_from_dataset(ds, frame)
        assert calibration.distance_mm(10, 0) == pytest.approx(10 * spacing)
        assert f"Pixel Spacing of frame {frame + 1}'s Pixel Measures" in calibration.description


def test_calibrated_pixel_measures_keep_their_calibration_type() -> None:
    ds = breast_tomosynthesis()
    measures = ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0]
    measures.PixelSpacingCalibrationType = "GEOMETRY"
    calibration = calibration_from_dataset(ds, 2)
    assert calibration.source is CalibrationSource.CALIBRATED
    assert calibration.description == (
        "0.085 mm/px: Pixel Spacing of the shared Pixel Measures (GEOMETRY)"
    )


def test_the_record_of_an_enhanced_image_is_calibrated(tmp_path: Path) -> None:
    path = write_dataset(breast_tomosynthesis(), tmp_path / "bto.dcm")
    (record,) = scan([path]).images
    assert record.frame_count == 3
    assert record.calibration is not None
    assert record.calibration.row_spacing_mm == PIXEL_SPACING[0]
