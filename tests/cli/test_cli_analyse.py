"""Tests for ``galactoview analyse PATH... [--json]`` on copies of the bundled sample study."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread

from galactoview import cli
from galactoview.paths import sample_dicom_dir

STUDY = "20260312_DUCTOGRAM_L"


@pytest.fixture(scope="module")
def study_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sample ductogram (with its sidecar) and a file that is not DICOM."""
    source = sample_dicom_dir() / STUDY
    if not source.is_dir():
        pytest.skip(f"no sample study in {source}")
    folder = tmp_path_factory.mktemp("analyse") / STUDY
    shutil.copytree(source, folder)
    (folder / "06_broken.dcm").write_bytes(b"DICM" * 3)  # neither Part 10 nor raw DICOM
    return folder


@pytest.fixture(scope="module")
def analysed(study_copy: Path) -> tuple[int, dict[str, Any], str]:
    """Exit code, JSON document and stderr of one ``analyse --json`` run on the copy.

    Run once for the module (the analysis takes seconds): capsys is per test, so the
    output is captured by redirecting the streams.
    """
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["analyse", str(study_copy), "--json"])
    return code, json.loads(out.getvalue()), err.getvalue()


def test_json_has_every_post_contrast_view_rooted_at_the_sidecar_nipple(
    analysed: tuple[int, dict[str, Any], str], study_copy: Path
) -> None:
    code, document, _ = analysed
    assert code == 0
    images = document["images"]
    # The two full-field post-contrast views and the magnified one; the scouts are not.
    assert [Path(i["path"]).name for i in images] == [
        "03_LCC_POST.dcm",
        "04_LML_POST.dcm",
        "05_LCC_MAG_POST.dcm",
    ]
    assert [i["view"] for i in images] == ["L CC", "L ML", "L CC MAG"]
    assert [i["magnified"] for i in images] == [False, False, True]
    for image in images:
        assert image["orifice"]["source"] == "sidecar"
        assert image["orifice"]["confirmed"] is True
        assert image["calibration"]["source"] == "magnification-corrected"
        branches = image["tree"]["branches"]
        assert len(branches) >= 3
        assert image["tree"]["problem"] == ""
        assert branches[0]["parent"] is None
        assert all(b["parent"] < b["index"] for b in branches[1:])
        assert all(b["length_mm"] > 0 and len(b["points"]) >= 2 for b in branches)
        metrics = image["metrics"]
        assert metrics["branch_count"] == len(branches)
        assert metrics["length_unit"] == "mm"
        total = sum(b["length_mm"] for b in branches)
        assert metrics["total_length"] == pytest.approx(total, abs=0.05)
        assert metrics["strahler_order"] >= 2
        matrix = metrics["ramification_matrix"]
        assert matrix["orders"] == list(range(2, metrics["strahler_order"] + 1))
        for order, row in zip(matrix["orders"], matrix["rows"], strict=True):
            assert len(row) == order
            assert sum(row) == pytest.approx(1.0, abs=1e-3)
        assert image["tree"]["algorithm"]["name"] == "GalactoView duct-tree suggestion"
        assert image["flags"]["algorithm"]["version"]
        assert image["tree"]["runtime_s"] > 0


def test_the_nipple_landmarks_are_the_sidecars(analysed: tuple[int, dict[str, Any], str]) -> None:
    _, document, _ = analysed
    by_view = {i["view"]: i for i in document["images"]}
    # The sample's sidecar: the same nipple on CC and ML, another on the magnified CC.
    assert by_view["L CC"]["orifice"]["point"] == pytest.approx([1122.74, 1147.0])
    assert by_view["L CC MAG"]["orifice"]["point"] == pytest.approx([1794.0, 931.78])


def test_round_flags_are_compared_with_the_other_projection(
    analysed: tuple[int, dict[str, Any], str],
) -> None:
    _, document, _ = analysed
    by_view = {i["view"]: i for i in document["images"]}
    assert "L ML" in by_view["L CC"]["flags"]["bubble_check"]
    assert "L CC" in by_view["L ML"]["flags"]["bubble_check"]
    assert "L CC MAG" not in by_view["L ML"]["flags"]["bubble_check"]  # full field first
    for image in document["images"]:
        for flag in image["flags"]["items"]:
            assert flag["nipple_distance_mm"] > 0
            assert flag["reason"]
            if flag["bubble_like"]:
                assert flag["round"]
                assert "air bubble?" in flag["reason"]


def test_a_bad_file_is_one_line_and_the_rest_is_analysed(
    analysed: tuple[int, dict[str, Any], str], study_copy: Path
) -> None:
    code, document, err = analysed
    assert code == 0
    lines = err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{study_copy / '06_broken.dcm'}: ")
    assert document["problems"] == lines
    assert len(document["images"]) == 3


def test_an_error_in_the_analysis_of_one_image_is_one_line_and_the_rest_is_analysed(
    study_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from galactoview.analysis import filling_defects

    real = filling_defects.flag_filling_defects
    calls: list[int] = []

    def failing_once(tree: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise IndexError("index 0 is out of bounds")
        return real(tree)

    monkeypatch.setattr(filling_defects, "flag_filling_defects", failing_once)
    code = cli.main(["analyse", str(study_copy), "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and len(calls) == 3
    failed = [line for line in err.splitlines() if "unexpected error" in line]
    assert len(failed) == 1
    assert failed[0].endswith(
        "unexpected error in the analysis: IndexError: index 0 is out of bounds"
    )
    assert len(json.loads(out)["images"]) == 2


def test_the_table_says_the_calibration_and_where_the_orifice_came_from(
    study_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["analyse", str(study_copy / "04_LML_POST.dcm")]) == 0
    printed = capsys.readouterr()
    assert printed.err == ""
    lines = printed.out.splitlines()
    assert lines[0] == f"{study_copy / '04_LML_POST.dcm'}  L ML"
    assert lines[1] == "  calibration   0.0925 mm (mag-corrected ×1.0815): lengths in mm"
    assert lines[2].endswith("nipple landmark of the sidecar (confirmed)")
    assert any(line.startswith("  total length  ") and line.endswith(" mm") for line in lines)
    assert any(line.startswith("  R matrix      k=2: ") for line in lines)
    # Alone, the ML has no other projection to tell bubbles by.
    assert "  bubbles       not checked: no duct tree on a post-contrast view" in printed.out


def test_without_landmark_or_calibration_the_nipple_is_suggested_and_lengths_are_pixels(
    study_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = dcmread(study_copy / "03_LCC_POST.dcm")
    for keyword in (
        "PixelSpacing",
        "ImagerPixelSpacing",
        "EstimatedRadiographicMagnificationFactor",
        "DistanceSourceToDetector",
        "DistanceSourceToPatient",
    ):
        if keyword in ds:
            delattr(ds, keyword)
    ds.save_as(tmp_path / "cc.dcm")  # no sidecar in this folder
    assert cli.main(["analyse", str(tmp_path), "--json"]) == 0
    (image,) = json.loads(capsys.readouterr().out)["images"]
    assert image["calibration"]["source"] == "unknown"
    assert image["pixel_spacing_mm"] is None
    assert image["orifice"]["source"] == "suggested"
    assert image["orifice"]["confirmed"] is None
    assert "suggested from the outline" in image["orifice"]["note"]
    assert image["metrics"]["length_unit"] == "px"
    assert all(b["length_mm"] is None for b in image["tree"]["branches"])
    assert cli.main(["analyse", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "  calibration   uncalibrated: lengths in stored pixels (px), no mm" in table
    assert " mm" not in table.replace("no mm", "")


def test_no_post_contrast_image_fails_and_says_why(
    study_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(study_copy / "01_LCC_PRE.dcm", tmp_path)
    assert cli.main(["analyse", str(tmp_path)]) == 1
    printed = capsys.readouterr()
    assert printed.out == ""
    assert printed.err.startswith("galactoview analyse: no post-contrast image found (1 pre-")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli.main(["analyse", str(empty)]) == 1
    assert capsys.readouterr().err == f"{empty}: no DICOM image found\n"  # the scan's line
    assert cli.main(["analyse"]) == 2


@pytest.mark.parametrize("module", ["galactoview.cli", "galactoview.app"])
def test_the_command_line_and_the_window_load_the_analysis_only_when_analysing(
    module: str,
) -> None:
    # Every subcommand starts through galactoview.cli, the window through galactoview.app:
    # SciPy's signal module, scikit-image and networkx would add a second and tens of MB
    # to each start (the viewer imports them in the worker that computes a suggestion).
    code = (
        f"import sys, {module}; "
        "print(sorted(m for m in ('skimage', 'networkx', 'galactoview.analysis.duct_tree') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
