"""Tests of the display benchmarks: structure and correctness of what is measured, no timings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from benchmarks.bench_display import (
    LoadedImage,
    load_images,
    main,
    measure_pyqtgraph_setlevels,
    measure_sr_open_50,
    measure_startup,
    measure_wl_step_4up,
)
from galactoview.paths import sample_dicom_dir
from tests.helpers import write_mg

#: Small stand-ins for the 4096 x 3328 benchmark images.
_ROWS, _COLUMNS = 256, 208


def _write_4up(folder: Path) -> Path:
    """Write RCC, LCC, RMLO, LMLO of one study, small, in a shuffled file order."""
    views = (("L", "MLO"), ("R", "CC"), ("L", "CC"), ("R", "MLO"))
    for number, (laterality, view) in enumerate(views):
        write_mg(
            folder / f"{number}.dcm",
            laterality=laterality,
            view=view,
            rows=_ROWS,
            columns=_COLUMNS,
            seed=number,
            series_description=f"{laterality} {view}",
            instance_number=number + 1,
            contrast=False,
        )
    return folder


@pytest.fixture
def four_up(tmp_path: Path) -> list[LoadedImage]:
    """Return the four small images, decoded."""
    return load_images(_write_4up(tmp_path / "four-up"))


def _positive(value: object) -> bool:
    return isinstance(value, float) and value > 0.0


def test_wl_step_4up_repaints_all_four_linked_views(
    qtbot: QtBot, four_up: list[LoadedImage]
) -> None:
    result = measure_wl_step_4up(four_up, window_size=(640, 480), steps=4, warmup=1)
    assert _positive(result["wl_step_4up_ms"])
    assert _positive(result["wl_step_4up_max_ms"])
    assert result["wl_step_4up_max_ms"] >= result["wl_step_4up_ms"]
    assert result["steps"] == 4
    assert result["views"] == 4
    assert len(result["levels"]) == 4
    assert result["window_size"] == [640, 480]
    # Every measured step painted every view, and after the drag all four show the window.
    assert result["all_views_painted"] is True
    assert result["paints_per_view_per_step"] >= 1.0
    assert result["all_views_linked"] is True


def test_wl_step_4up_needs_a_4up(qtbot: QtBot, four_up: list[LoadedImage]) -> None:
    with pytest.raises(ValueError, match="4-up"):
        measure_wl_step_4up(four_up[:2], window_size=(320, 240), steps=1, warmup=0)


def test_pyqtgraph_setlevels_reference_repaints(qtbot: QtBot, four_up: list[LoadedImage]) -> None:
    stored = four_up[0].stored
    result = measure_pyqtgraph_setlevels(stored, view_size=(320, 240), steps=4, warmup=1)
    assert _positive(result["pyqtgraph_fullres_setlevels_ms"])
    assert result["pyqtgraph_fullres_setlevels_max_ms"] >= result["pyqtgraph_fullres_setlevels_ms"]
    assert result["image_shape"] == [_ROWS, _COLUMNS]
    assert result["all_steps_painted"] is True


def test_startup_reaches_the_first_image(study_dir: Path) -> None:
    result = measure_startup(study_dir, runs=1, timeout=60.0)
    assert _positive(result["startup_to_first_image_s"])
    assert _positive(result["startup_warm_to_first_image_s"])
    assert result["startup_to_first_image_max_s"] == result["startup_to_first_image_s"]
    assert result["startup_runs"] == 1


def test_main_prints_one_json_object(
    qtbot: QtBot, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _write_4up(tmp_path / "four-up")
    missing = tmp_path / "no-study"
    code = main(
        ["--json", "--data", str(data), "--study", str(missing), "--steps", "2", "--warmup", "0"]
    )
    assert code == 0
    results = json.loads(capsys.readouterr().out)
    assert results["qt_platform"] == "offscreen"
    assert _positive(results["wl_step_4up_ms"])
    assert _positive(results["pyqtgraph_fullres_setlevels_ms"])
    assert results["wl_step_4up"]["all_views_linked"] is True
    assert "no-study" in results["startup_skipped"]
    assert "startup_to_first_image_s" not in results


@pytest.fixture
def sample_study() -> Path:
    """The bundled sample study (its ductogram gets the 50 findings)."""
    folder = sample_dicom_dir()
    if not folder.is_dir():
        pytest.skip(f"no sample study in {folder}")
    return folder


def test_sr_open_50_loads_and_draws_every_finding(qtbot: QtBot, sample_study: Path) -> None:
    before = sorted(p.name for p in sample_study.rglob("*"))
    result = measure_sr_open_50(sample_study, runs=2, warmup=0, window_size=(960, 540))
    details = result["sr_open_50"]
    assert details["findings"] == 50
    assert details["marks_drawn"] == 50  # every finding has a mark on a shown viewport
    assert details["views"] == 5  # pre/post CC and ML, magnified CC
    assert details["all_views_painted"] is True
    assert details["problems"] == []
    assert _positive(result["sr_open_50_core_ms"])
    assert _positive(result["sr_open_50_show_ms"])
    # The old way does everything in the GUI thread: at least the read and decode.
    assert result["sr_open_50_sync_ms"] >= result["sr_open_50_core_ms"]
    assert details["read_in_thread"] is True  # the new way read it in the save thread
    assert result["sr_open_50_ratio"] == result["sr_open_50_ms"] / result["sr_open_50_sync_ms"]
    assert result["sr_open_50_wall_ms"] >= result["sr_open_50_ms"]
    assert details["max_ms"] >= result["sr_open_50_ms"]
    assert sorted(p.name for p in sample_study.rglob("*")) == before  # worked on a copy


def test_main_sr_open_only_prints_only_that(
    qtbot: QtBot, sample_study: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--json", "--sr-open-only", "--study", str(sample_study), "--sr-runs", "1"])
    assert code == 0
    results = json.loads(capsys.readouterr().out)
    assert _positive(results["sr_open_50_ms"])
    assert results["sr_open_50"]["marks_drawn"] == 50
    assert "wl_step_4up_ms" not in results
    assert "startup_to_first_image_s" not in results
