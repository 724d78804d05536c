"""``galactoview sr import`` refuses what is no TID 1500 SR and puts the sidecar where it is read.

Every run goes through :func:`galactoview.cli.main` in-process; "nothing written" is checked
by comparing every file under the test's folder (the study copy, the SR's folder and the
per-user sidecar folder) before and after.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from galactoview import cli
from galactoview.paths import sample_dicom_dir
from galactoview.report.content import load_report
from galactoview.sr import sidecar
from galactoview.sr.sr_codec import decode, from_json
from tests.sr import third_party
from tests.sr.third_party import DUCTOGRAM, save

PRIOR = "20240220_SCREENING_PRIOR"


@pytest.fixture(autouse=True)
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The per-user sidecar folder, inside the test's folder (platformdirs reads XDG)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    folder = sidecar.user_sidecar_dir()
    assert folder.is_relative_to(tmp_path)
    return folder


@pytest.fixture(scope="module")
def sample_sidecar() -> Path:
    """The committed sidecar of the sample ductogram."""
    return third_party.sample_report_path()


@pytest.fixture
def top(tmp_path: Path) -> Path:
    """A copy of sample_data/dicom without its sidecar: the studies sit in subfolders."""
    folder = tmp_path / "top"
    shutil.copytree(
        sample_dicom_dir(), folder, ignore=shutil.ignore_patterns("galactoview-*", "*.bak")
    )
    return folder


@pytest.fixture
def exported(sample_sidecar: Path, tmp_path: Path) -> Path:
    """The sample sidecar exported as a binary SR (``sr export``)."""
    out = tmp_path / "in" / "sample-sr.dcm"
    assert cli.main(["sr", "export", str(sample_sidecar), str(out)]) == 0
    return out


def snapshot(root: Path) -> dict[str, str]:
    """Every file and folder under ``root``: relative path -> SHA-256 ("dir" for folders)."""
    return {
        str(path.relative_to(root)): "dir"
        if path.is_dir()
        else hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
    }


def run(*args: str | Path) -> int:
    return cli.main([str(a) for a in args])


def only_line(err: str, path: Path) -> str:
    """Return the last stderr line, checking that every line names ``path`` first."""
    lines = err.splitlines()
    assert lines, "nothing on stderr"
    assert all(line.startswith(f"{path}: ") for line in lines), lines
    return lines[-1]


REFUSED: dict[str, tuple[Callable[[], Dataset], str]] = {
    "key object selection": (
        third_party.key_object_selection,
        "is a Key Object Selection document, not a measurement report (TID 1500): nothing imported",
    ),
    "basic text sr": (
        third_party.basic_text_sr,
        "is a Basic Text SR, not a measurement report (TID 1500): nothing imported",
    ),
    "comprehensive, another title": (
        third_party.other_title,
        "is a Comprehensive SR titled 'Diagnostic Imaging Report' (18748-4, LN), not a "
        "measurement report (TID 1500): nothing imported",
    ),
    "enhanced, another title": (
        lambda: third_party.other_title(enhanced=True),
        "is an Enhanced SR titled 'Diagnostic Imaging Report' (18748-4, LN), not a "
        "measurement report (TID 1500): nothing imported",
    ),
    "comprehensive, another template": (
        third_party.other_template,
        "is a Comprehensive SR of template TID 2000, not a measurement report (TID 1500): "
        "nothing imported",
    ),
    "tid 1500, no readable mark": (
        third_party.no_readable_mark,
        "is a measurement report (TID 1500) with no readable mark (finding, duct segment or "
        "nipple): nothing imported",
    ),
    "tid 1500, empty": (
        third_party.empty_report,
        "is a measurement report (TID 1500) with no readable mark",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_import_refuses_and_writes_nothing(
    case: str,
    sample_sidecar: Path,
    top: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make, why = REFUSED[case]
    sr = save(make(), tmp_path / "in" / "refused.dcm")
    capsys.readouterr()
    before = snapshot(tmp_path)
    assert run("sr", "import", sr, top) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert why in only_line(captured.err, sr)
    assert snapshot(tmp_path) == before


def test_kos_and_basic_text_are_refused_by_show_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kos = save(third_party.key_object_selection(), tmp_path / "kos.dcm")
    text = save(third_party.basic_text_sr(), tmp_path / "text.dcm")
    assert run("sr", "show", kos, "--no-images") == 1
    assert only_line(capsys.readouterr().err, kos).endswith(
        ": is a Key Object Selection document, not a measurement report (TID 1500)"
    )
    assert run("sr", "show", text, "--no-images") == 1
    assert "is a Basic Text SR, not a measurement report" in only_line(
        capsys.readouterr().err, text
    )


def test_import_into_the_top_folder_then_report_finds_it(
    exported: Path,
    top: Path,
    tmp_path: Path,
    user_dir: Path,
    capsys: pytest.CaptureFixture[str],
    qapp: object,
) -> None:
    # qapp: the suite's QApplication exists first, so ``report`` reuses it.
    study = str(dcmread(exported).StudyInstanceUID)
    expected = top / DUCTOGRAM / sidecar.sidecar_name(study)
    capsys.readouterr()
    assert run("sr", "import", exported, top) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(expected)
    assert captured.err == ""
    assert expected.is_file()
    assert not (top / sidecar.sidecar_name(study)).exists()  # not in TOP_FOLDER itself
    assert not user_dir.exists()
    imported = decode(from_json(expected.read_text("utf-8"))).annotations
    assert [f.short_id for f in imported.findings] == ["FD-1", "CY-1", "DE-1"]

    loaded = load_report([top], dt.date(2026, 3, 13))
    (section,) = loaded.content.studies
    assert [row.short_id for row in section.rows] == ["FD-1", "CY-1", "DE-1"]

    out = tmp_path / "report.pdf"
    assert run("report", top, out, "--date", "2026-03-13") == 0
    assert out.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext") is not None:
        pdf = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
        for short_id in ("FD-1", "CY-1", "DE-1"):
            assert short_id in pdf


def test_import_into_a_folder_without_the_study_is_refused(
    exported: Path, top: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = str(dcmread(exported).StudyInstanceUID)
    prior = top / PRIOR
    capsys.readouterr()
    before = snapshot(tmp_path)
    assert run("sr", "import", exported, prior) == 1
    line = only_line(capsys.readouterr().err, prior)
    assert f"holds no image of study {study}" in line
    prior_study = str(dcmread(prior / "06_RCC.dcm").StudyInstanceUID)
    assert f"it holds study {prior_study} (" in line  # the study found there, named
    assert "4 images)" in line
    assert line.endswith(": nothing imported (--force stores it there anyway)")
    assert snapshot(tmp_path) == before


def test_an_sr_of_another_study_is_refused_then_forced(
    top: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    foreign = third_party.other_study()
    sr = save(foreign, tmp_path / "in" / "foreign.dcm")
    ductogram = top / DUCTOGRAM
    found = str(dcmread(ductogram / "03_LCC_POST.dcm").StudyInstanceUID)
    capsys.readouterr()
    before = snapshot(tmp_path)
    assert run("sr", "import", sr, ductogram) == 1
    line = only_line(capsys.readouterr().err, ductogram)
    assert f"holds no image of study {foreign.StudyInstanceUID} (the SR's" in line
    assert f"it holds study {found} (" in line
    assert snapshot(tmp_path) == before

    assert run("sr", "import", sr, ductogram, "--force") == 0
    captured = capsys.readouterr()
    written = ductogram / sidecar.sidecar_name(str(foreign.StudyInstanceUID))
    assert captured.out.strip() == str(written)
    assert f"{sr}: forced: {ductogram} holds no image of study" in captured.err
    stored = decode(from_json(written.read_text("utf-8"))).annotations
    assert stored.study_instance_uid == foreign.StudyInstanceUID
    assert [f.short_id for f in stored.findings] == ["FD-1", "CY-1", "DE-1"]


def test_marks_on_images_not_in_the_folder_are_warned_about_and_kept(
    exported: Path, top: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ductogram = top / DUCTOGRAM
    gone = ductogram / "04_LML_POST.dcm"
    gone_uid = str(dcmread(gone).SOPInstanceUID)
    gone.unlink()
    annotations = decode(dcmread(exported)).annotations
    on_gone = [
        f.short_id
        for f in annotations.findings
        if any(r.sop_instance_uid == gone_uid for r in f.regions)
    ]
    assert on_gone, "the sample has marks on the image removed"
    capsys.readouterr()
    assert run("sr", "import", exported, top) == 0
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if ": warning: " in line]
    assert warnings, captured.err
    assert all(line.startswith(f"{exported}: warning: image {gone_uid} ") for line in warnings)
    for short_id in on_gone:
        assert any(f"finding {short_id} (" in line for line in warnings)
    stored = decode(from_json(Path(captured.out.strip()).read_text("utf-8"))).annotations
    assert stored.findings == annotations.findings  # the marks are kept


def test_import_keeps_an_existing_sidecar_found_from_the_top_folder(
    exported: Path,
    sample_sidecar: Path,
    top: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    existing = top / DUCTOGRAM / sample_sidecar.name
    shutil.copyfile(sample_sidecar, existing)
    before = existing.read_bytes()
    capsys.readouterr()
    assert run("sr", "import", exported, top) == 0  # the export holds the same SR
    captured = capsys.readouterr()
    assert captured.out.strip() == str(existing)
    assert f"{existing}: already holds this SR; nothing written" in captured.err
    assert sidecar.alongside_sidecars(existing) == []

    revision = dcmread(exported)
    revision.SOPInstanceUID = generate_uid()
    other = save(revision, tmp_path / "in" / "revision.dcm")
    assert run("sr", "import", other, top) == 0
    captured = capsys.readouterr()
    assert existing.read_bytes() == before
    (copy,) = sidecar.alongside_sidecars(existing)
    assert captured.out.strip() == str(copy)
    assert f"{existing}: the study already has a sidecar" in captured.err


def test_show_of_a_folder_lists_the_sidecars_the_viewer_reads(
    exported: Path, top: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("sr", "show", top) == 1  # no sidecar yet
    assert only_line(capsys.readouterr().err, top).endswith(
        "no sidecar found for the 2 study(ies) in it"
    )
    assert run("sr", "import", exported, top) == 0
    written = Path(capsys.readouterr().out.strip())

    assert run("sr", "show", top) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"Sidecar {written}"
    assert "FD-1  Intraluminal filling defect  laterality LEFT" in out
    assert "  region 1: L CC #3  ELLIPSE" in "\n".join(out)  # labels from the scanned images

    assert run("sr", "show", top, "--json") == 0
    (document,) = json.loads(capsys.readouterr().out)
    assert document["sidecar"] == str(written)
    assert [f["short_id"] for f in document["findings"]] == ["FD-1", "CY-1", "DE-1"]
    assert document["findings"][0]["regions"][0]["view"] == "L CC"


def test_show_prints_the_stored_locations(
    sample_sidecar: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = decode(from_json(sample_sidecar.read_text("utf-8")))
    stored = {f.short_id: result.locations[f.tracking_uid] for f in result.annotations.findings}
    assert stored["FD-1"].clock_hour == 7

    assert run("sr", "show", sample_sidecar, "--no-images") == 0
    out = capsys.readouterr().out.splitlines()
    start = out.index("FD-1  Intraluminal filling defect  laterality LEFT")
    location = stored["FD-1"]
    assert location.quadrant is not None and location.depth is not None
    assert location.distance_from_nipple_mm is not None
    assert out[start + 1] == (
        "  location: Left, 7 o'clock, LIQ, middle third, "
        f"{location.distance_from_nipple_mm:.0f} mm from the nipple"
    )
    assert sum(line.startswith("  location: ") for line in out) == 3

    assert run("sr", "show", sample_sidecar, "--json", "--no-images") == 0
    document = json.loads(capsys.readouterr().out)
    for finding in document["findings"]:
        expected = stored[finding["short_id"]]
        got = finding["location"]
        assert got["clock_hour"] == expected.clock_hour
        assert got["distance_from_nipple_mm"] == expected.distance_from_nipple_mm
        assert expected.quadrant is not None
        assert got["quadrant"] == {
            "value": expected.quadrant.value,
            "scheme": expected.quadrant.scheme_designator,
            "meaning": expected.quadrant.meaning,
        }
        assert got["oblique_approximated"] is expected.oblique_approximated
