"""Tests for the four-corner viewport text and the scale bar length (Qt-free)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from galactoview.dicom.calibration import Calibration, CalibrationSource
from galactoview.dicom.loading import ImageRecord, scan
from galactoview.dicom.mammography import Flip, hanging_flip
from galactoview.imaging.display import VoiLut, VoiLutFunction, Window
from galactoview.reading.corner_text import (
    UNCALIBRATED_TEXT,
    CornerText,
    calibration_label,
    corner_lines,
    format_date,
    scale_bar_length_mm,
    voi_label,
    zoom_label,
)
from tests.helpers import write_mg


def _find(records: tuple[ImageRecord, ...], label: str, series: str) -> ImageRecord:
    """Return the record with this view label whose series description contains ``series``."""
    return next(r for r in records if r.view.label == label and series in r.series_description)


_NORMAL = Window(2048.0, 4096.0, explanation="NORMAL")


def _text(
    record: ImageRecord | None,
    *,
    voi: Window | VoiLut | None = _NORMAL,
    zoom: float = 0.37,
    frame: int = 0,
    frame_count: int = 1,
    flip: Flip | None = None,
    image_position: tuple[int, int] | None = None,
) -> CornerText:
    """Return the corner text of a record with everyday defaults and its own calibration."""
    return corner_lines(
        record,
        voi=voi,
        zoom=zoom,
        frame=frame,
        frame_count=frame_count,
        flip=flip or Flip(),
        calibration=record.calibration if record is not None else None,
        image_position=image_position,
    ).text()


def _all_lines(text: CornerText) -> tuple[str, ...]:
    return text.top_left + text.top_right + text.bottom_left + text.bottom_right


def test_sample_post_cc_corners(sample_records: tuple[ImageRecord, ...]) -> None:
    record = _find(sample_records, "L CC", "POST")
    text = _text(record)
    assert text.top_left == ("PHANTOM, GALACTO SYNTHETIC", "GV-PHANTOM-0001", "DOB 1976-05-17 F")
    assert text.top_right == (
        "Synthetic Breast Imaging Centre",
        "2026-03-12 10:13",
        "DUCTOGRAM LEFT",
        "Acc GV0007D",
    )
    assert text.bottom_left == ("Se 2 Im 3", "W 4096 L 2048", "Zoom 37%")
    assert text.bottom_right == (
        "L CC",
        "POST-CONTRAST",
        "0.0925 mm (mag-corrected ×1.0815)",
    )


def test_sample_mag_pre_and_prior(sample_records: tuple[ImageRecord, ...]) -> None:
    mag = _text(_find(sample_records, "L CC MAG", "POST"))
    assert mag.bottom_right[:2] == ("L CC MAG", "POST-CONTRAST")
    assert mag.bottom_right[-1] == "0.0556 mm (mag-corrected ×1.8)"
    pre = _text(_find(sample_records, "L ML", "PRE"))
    assert pre.bottom_right[:2] == ("L ML", "PRE-CONTRAST")
    prior = _find(sample_records, "R CC", "SCREENING")
    flip = hanging_flip(prior.view, prior.patient_orientation)
    text = _text(prior, flip=flip)
    # Screening: no contrast phase at all; the hanging flip is said.
    assert text.bottom_right == ("R CC", "flipped H", "0.0925 mm (mag-corrected ×1.0805)")
    assert text.top_right[1] == "2024-02-20 09:30"


@pytest.mark.parametrize(
    ("flip", "expected"),
    [
        (Flip(), None),
        (Flip(horizontal=True), "flipped H"),
        (Flip(vertical=True), "flipped V"),
        (Flip(horizontal=True, vertical=True), "flipped H+V"),
    ],
)
def test_flip_line(
    sample_records: tuple[ImageRecord, ...], flip: Flip, expected: str | None
) -> None:
    lines = _text(sample_records[0], flip=flip).bottom_right
    flipped = [line for line in lines if line.startswith("flipped")]
    assert flipped == ([expected] if expected else [])


def test_frames_and_image_position(sample_records: tuple[ImageRecord, ...]) -> None:
    text = _text(sample_records[0], frame=2, frame_count=24, image_position=(1, 9))
    assert text.bottom_left[:2] == ("Se 1 Im 1 (1 of 9)", "Fr 3/24")
    assert not any(line.startswith("Fr") for line in _text(sample_records[0]).bottom_left)


def test_frame_line_says_the_frame_content(sample_records: tuple[ImageRecord, ...]) -> None:
    """PS3.3 C.7.6.16.2.2: Frame Label, Stack ID, In-Stack Position Number after Fr k/n."""

    def bottom_left(frame: int, frame_count: int) -> tuple[str, ...]:
        text = corner_lines(
            sample_records[0],
            voi=None,
            zoom=1.0,
            frame=frame,
            frame_count=frame_count,
            flip=Flip(),
            calibration=None,
            frame_label="slice 2 (stack 1, position 2)",
        ).text()
        return text.bottom_left

    assert "Fr 2/3 slice 2 (stack 1, position 2)" in bottom_left(1, 3)
    assert not any("slice" in line for line in bottom_left(0, 1))


@pytest.mark.parametrize(
    ("voi", "short", "detailed"),
    [
        (Window(2048.0, 4096.0), "W 4096 L 2048", "W 4096 L 2048 LINEAR"),
        (
            Window(1500.5, 1000.0, VoiLutFunction.SIGMOID, "HARDER"),
            "W 1000 L 1500.5 SIGMOID",
            "W 1000 L 1500.5 SIGMOID (HARDER)",
        ),
        (
            VoiLut(0, 12, np.arange(4096, dtype=np.uint16), "GAMMA"),
            "VOI LUT GAMMA",
            "VOI LUT GAMMA",
        ),
        (None, "full range", "full range"),
    ],
)
def test_voi_label(voi: Window | VoiLut | None, short: str, detailed: str) -> None:
    assert voi_label(voi) == short
    assert voi_label(voi, detailed=True) == detailed


def test_voi_in_bottom_left(sample_records: tuple[ImageRecord, ...]) -> None:
    assert "full range" in _text(sample_records[0], voi=None).bottom_left
    assert "W 500 L 1000" in _text(sample_records[0], voi=Window(1000.0, 500.0)).bottom_left


@pytest.mark.parametrize(
    ("zoom", "expected"),
    [(0.37, "Zoom 37%"), (1.0, "Zoom 100%"), (2.5, "Zoom 250%"), (0.037, "Zoom 3.7%"), (0.0, "")],
)
def test_zoom_label(zoom: float, expected: str) -> None:
    assert zoom_label(zoom) == expected


def test_uncalibrated_record_says_so(tmp_path: Path) -> None:
    (record,) = scan([write_mg(tmp_path / "a.dcm")]).images
    assert record.calibration is not None and not record.calibration.is_known
    text = _text(record)
    assert text.bottom_right[-1] == UNCALIBRATED_TEXT == "UNCALIBRATED: no mm"
    assert not any(" mm (" in line for line in _all_lines(text))
    assert calibration_label(None) == UNCALIBRATED_TEXT


def test_calibration_label_known() -> None:
    detector = Calibration(0.1, 0.1, CalibrationSource.DETECTOR, None, "detector")
    assert calibration_label(detector) == "0.1 mm (detector)"


def test_missing_attributes_leave_no_gaps(sample_records: tuple[ImageRecord, ...]) -> None:
    bare = dataclasses.replace(
        sample_records[0],
        patient_name="",
        patient_id="",
        patient_birth_date="",
        patient_sex="",
        study_date="",
        study_description="",
        series_number=None,
        instance_number=None,
        accession_number="",
        institution_name="",
        acquisition_date_time="",
    )
    text = _text(bare, zoom=0.0)
    assert text.top_left == ()
    assert text.top_right == ()
    assert text.bottom_left == ("W 4096 L 2048",)
    for line in _all_lines(text):
        assert line and line.strip() == line
        assert "None" not in line


def test_no_record_gives_image_corners_only() -> None:
    text = corner_lines(
        None,
        voi=None,
        zoom=1.0,
        frame=0,
        frame_count=1,
        flip=Flip(vertical=True),
        calibration=None,
    ).text()
    assert text == CornerText(
        bottom_left=("full range", "Zoom 100%"),
        bottom_right=("flipped V", UNCALIBRATED_TEXT),
    )


def test_birth_date_without_sex_and_sex_alone(sample_records: tuple[ImageRecord, ...]) -> None:
    assert (
        _text(dataclasses.replace(sample_records[0], patient_sex="")).top_left[2]
        == "DOB 1976-05-17"
    )
    no_birth = dataclasses.replace(sample_records[0], patient_birth_date="")
    assert _text(no_birth).top_left[2] == "F"


def test_study_time_from_acquisition(sample_records: tuple[ImageRecord, ...]) -> None:
    other_day = dataclasses.replace(
        sample_records[0], acquisition_date_time="20260313081500.000000"
    )
    assert _text(other_day).top_right[1] == "2026-03-12 (acquired 2026-03-13 08:15)"
    no_study_date = dataclasses.replace(sample_records[0], study_date="")
    assert _text(no_study_date).top_right[1] == "2026-03-12 10:05"
    date_only = dataclasses.replace(sample_records[0], acquisition_date_time="20260312")
    assert _text(date_only).top_right[1] == "2026-03-12"


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Doe^Jane", "DOE, Jane"), ("=山田^太郎", "山田, 太郎"), ("", "GV-PHANTOM-0001")],
)
def test_patient_name_line(
    sample_records: tuple[ImageRecord, ...], name: str, expected: str
) -> None:
    """The first patient line is the name, family name upper-cased (PS3.5 6.2.1)."""
    text = _text(dataclasses.replace(sample_records[0], patient_name=name))
    assert text.top_left[0] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("20260312", "2026-03-12"), ("2026.03.12", "2026-03-12"), (" 1976 ", "1976"), ("", "")],
)
def test_format_date(value: str, expected: str) -> None:
    assert format_date(value) == expected


@pytest.mark.parametrize(
    ("mm_per_pixel", "expected_mm"),
    [
        (0.001, 0.1),
        (0.01, 1.0),
        (0.0925, 10.0),
        (0.1, 10.0),
        (0.16, 20.0),
        (0.37, 50.0),
        (1.0, 100.0),
        (2.5, 200.0),
        (3.3, 200.0),
        (0.004, 0.5),
    ],
)
def test_scale_bar_nice_length(mm_per_pixel: float, expected_mm: float) -> None:
    length = scale_bar_length_mm(mm_per_pixel)
    assert length == pytest.approx(expected_mm)
    assert 60.0 <= length / mm_per_pixel <= 150.0


@pytest.mark.parametrize("mm_per_pixel", np.geomspace(1e-4, 1e3, 97).tolist())
def test_scale_bar_always_nice_and_in_range(mm_per_pixel: float) -> None:
    length = scale_bar_length_mm(mm_per_pixel)
    mantissa = length / 10.0 ** math.floor(math.log10(length))
    assert min(abs(mantissa - nice) for nice in (1.0, 2.0, 5.0)) < 1e-9
    assert 60.0 * (1 - 1e-9) <= length / mm_per_pixel <= 150.0 * (1 + 1e-9)


@pytest.mark.parametrize("bad", [0.0, -1.0, math.inf, math.nan])
def test_scale_bar_rejects_bad_scale(bad: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        scale_bar_length_mm(bad)
