"""Tests of the benchmark's report: targets and the display subprocess (no timings)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from benchmarks import bench


def _core_figures() -> dict[str, Any]:
    return {
        "open_first_image_s": 0.6,
        "decode_one_s": 1.2,
        "open_all_s": 2.6,
        "naive_open_all_s": 4.8,
        "reopen_cached_s": 0.003,
        "window_change_viewport_ms": 0.4,
        "peak_rss_mb": 139.0,
        "raw_pixel_mb": 104.0,
    }


def test_targets_include_the_display_figures() -> None:
    figures = _core_figures() | {"wl_step_4up_ms": 17.0, "startup_to_first_image_s": 2.0}
    rows = {row["metric"]: row for row in bench._targets(figures)}
    assert rows["wl_step_4up_ms"]["limit"] == 16.0
    assert rows["wl_step_4up_ms"]["pass"] is False
    assert rows["startup_to_first_image_s"]["limit"] == 2.5
    assert rows["startup_to_first_image_s"]["pass"] is True


def test_pacs_targets_are_ratios_of_the_naive_retrieve() -> None:
    figures = _core_figures() | {
        "naive_pacs_all_s": 6.0,
        "pacs_first_image_s": 3.5,
        "pacs_all_s": 5.0,
        "pacs_gui_stall_ms": 10.0,
        "pacs_open_stall_ms": 65.0,
    }
    rows = {row["metric"]: row for row in bench._targets(figures)}
    assert rows["pacs_first_image_s"]["limit"] == pytest.approx(3.0)
    assert rows["pacs_first_image_s"]["pass"] is False  # 3.5 s > 0.5 x 6 s
    assert rows["pacs_all_s"]["limit"] == pytest.approx(6.0)
    assert rows["pacs_all_s"]["pass"] is True
    assert rows["pacs_gui_stall_ms"]["pass"] is True
    assert "pacs_open_stall_ms" not in rows  # a figure, not a target


def test_pacs_window_runs_report_a_failure_instead_of_raising(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from benchmarks import bench_pacs

    def failing(*_args: object, **_kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess([], 1, stdout="", stderr="Traceback\nboom")

    monkeypatch.setattr("benchmarks.bench_pacs.subprocess.run", failing)
    result = bench_pacs._window_runs("http://127.0.0.1:1/dicom-web", "1.2.3", 1, Path("/nowhere"))
    assert result == {"error": "window run exited 1: Traceback\nboom"}


def test_targets_without_display_figures_keep_the_core_rows() -> None:
    metrics = [row["metric"] for row in bench._targets(_core_figures())]
    assert "wl_step_4up_ms" not in metrics
    assert "startup_to_first_image_s" not in metrics
    assert "open_all_s" in metrics


def test_print_table_shows_platform_and_error(capsys: pytest.CaptureFixture[str]) -> None:
    figures = _core_figures() | {
        "wl_step_4up_ms": 6.0,
        "startup_to_first_image_s": 1.5,
        "qt_platform": "offscreen",
        "display_error": "boom",
    }
    figures["targets"] = bench._targets(figures)
    bench._print_table(figures)
    out = capsys.readouterr().out
    assert "wl_step_4up_ms" in out
    assert "offscreen" in out
    assert "boom" in out


def test_display_benchmark_failure_is_reported_not_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(command: list[str], **_options: Any) -> Any:
        raise subprocess.CalledProcessError(1, command, output="", stderr="no Qt platform")

    monkeypatch.setattr(subprocess, "run", fail)
    result = bench._display_benchmarks(Path("data"), Path("study"))
    assert set(result) == {"display_error"}
    assert "no Qt platform" in result["display_error"]


def test_targets_include_the_sr_figures() -> None:
    figures = _core_figures() | {
        "sr_save_50_ms": 90.0,
        "sr_save_50_ratio": 0.6,
        "sr_open_50_ms": 120.0,
        "sr_open_50_ratio": 0.4,
    }
    rows = {row["metric"]: row for row in bench._targets(figures)}
    assert rows["sr_save_50_ms"]["limit"] == 100.0
    assert rows["sr_save_50_ms"]["pass"] is True
    assert rows["sr_save_50_ratio"]["pass"] is False  # not half the old way's time
    assert rows["sr_open_50_ms"]["limit"] == 150.0
    assert rows["sr_open_50_ms"]["pass"] is True
    assert rows["sr_open_50_ratio"]["pass"] is True
    assert rows["sr_open_50_ms"]["rule"] == "150 ms (GUI thread)"


def test_sr_benchmarks_report_both_keys() -> None:
    from galactoview.paths import sample_dicom_dir

    if not sample_dicom_dir().is_dir():
        pytest.skip("no sample study")
    figures = bench.sr_benchmarks(sample_dicom_dir(), repeat=1, show=False)
    assert {"sr_save_50_ms", "sr_encode_50_ms", "sr_open_50_core_ms"} <= set(figures)
    # The autosave way and the old way, measured in the same run.
    assert figures["sr_save_50_ratio"] == figures["sr_save_50_ms"] / figures["sr_save_50_full_ms"]
    assert "sr_open_50_ms" not in figures  # loading and showing is measured with Qt
    assert figures["sr_sidecar_kib"] > 0


def test_sr_open_comes_from_the_qt_subprocess(monkeypatch: pytest.MonkeyPatch) -> None:
    from galactoview.paths import sample_dicom_dir

    if not sample_dicom_dir().is_dir():
        pytest.skip("no sample study")
    commands: list[list[str]] = []

    def qt_probe(command: list[str], **_options: Any) -> Any:
        commands.append(command)
        stdout = '{"qt_platform": "offscreen", "sr_open_50_ms": 210.0, "sr_open_50_core_ms": 80.0}'
        return subprocess.CompletedProcess(command, 0, stdout=stdout, stderr="")

    monkeypatch.setattr(subprocess, "run", qt_probe)
    figures = bench.sr_benchmarks(sample_dicom_dir(), repeat=1)
    assert figures["sr_open_50_ms"] == 210.0
    assert figures["sr_open_50_core_ms"] == 80.0  # the share measured in the viewer
    assert "--sr-open-only" in commands[0]
    assert commands[0][commands[0].index("--study") + 1] == str(sample_dicom_dir())


def test_sr_open_failure_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(command: list[str], **_options: Any) -> Any:
        raise subprocess.TimeoutExpired(command, 300, stderr="stuck")

    monkeypatch.setattr(subprocess, "run", fail)
    result = bench._sr_show_benchmark(Path("study"), 3)
    assert set(result) == {"sr_open_error"}
    assert "stuck" in result["sr_open_error"]


def test_the_first_picture_target_is_a_fifth_of_one_decode() -> None:
    figures = _core_figures() | {"first_picture_s": 0.25}
    rows = {row["metric"]: row for row in bench._targets(figures)}
    assert rows["first_picture_s"]["limit"] == pytest.approx(0.2 * figures["decode_one_s"])
    assert rows["first_picture_s"]["pass"] is False  # 0.25 s > 0.24 s
    assert "first_picture_s" not in {r["metric"] for r in bench._targets(_core_figures())}
