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

import highdicom as hd
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sr.codedict import codes as sr_codes
from pydicom.uid import BasicTextSRStorage, EnhancedSRStorage, ExplicitVRLittleEndian, generate_uid

from galactoview import cli
from galactoview.annotations.model import AnnotationSet
from galactoview.paths import sample_dicom_dir
from galactoview.report.content import load_report
from galactoview.sr import sidecar
from galactoview.sr.sr_codec import decode, encode, from_json, to_json
from tests.helpers import sample_headers

DUCTOGRAM = "20260312_DUCTOGRAM_L"
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
    found = sorted((sample_dicom_dir() / DUCTOGRAM).glob("galactoview-*.sr.json"))
    if not found:
        pytest.skip("the sample study has no sidecar")
    return found[0]


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


def save(dataset: Dataset, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    dataset.save_as(path, enforce_file_format=True)
    return path


def key_object_selection(path: Path) -> Path:
    """A Key Object Selection document (PS3.3 A.35.4) of the sample ductogram."""
    cc = sample_headers()["03_LCC_POST"]
    content = hd.ko.KeyObjectSelection(
        document_title=sr_codes.DCM.OfInterest, referenced_objects=[cc], description="key image"
    )
    document = hd.ko.KeyObjectSelectionDocument(
        evidence=[cc],
        content=content,
        series_instance_uid=generate_uid(),
        series_number=99,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="Other Vendor",
    )
    return save(document, path)


def basic_text_sr(path: Path) -> Path:
    """A hand-built Basic Text SR (PS3.3 A.35.1) of the sample ductogram: a titled text."""
    cc = sample_headers()["03_LCC_POST"]
    title = Dataset()
    title.CodeValue, title.CodingSchemeDesignator = "18748-4", "LN"
    title.CodeMeaning = "Diagnostic Imaging Report"
    text = Dataset()
    text.RelationshipType, text.ValueType = "CONTAINS", "TEXT"
    finding = Dataset()
    finding.CodeValue, finding.CodingSchemeDesignator = "121071", "DCM"
    finding.CodeMeaning = "Finding"
    text.ConceptNameCodeSequence = [finding]
    text.TextValue = "Filling defect at 7 o'clock."
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = BasicTextSRStorage
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = cc.StudyInstanceUID
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "SR"
    ds.ValueType = "CONTAINER"
    ds.ContinuityOfContent = "SEPARATE"
    ds.ConceptNameCodeSequence = [title]
    ds.ContentSequence = [text]
    return save(ds, path)


def other_root(sample_sidecar: Path, path: Path, *, enhanced: bool = False) -> Path:
    """The sample SR with another document title than TID 1500's (126000, DCM)."""
    ds = from_json(sample_sidecar.read_text("utf-8"))
    ds.ConceptNameCodeSequence[0].CodeValue = "18748-4"
    ds.ConceptNameCodeSequence[0].CodingSchemeDesignator = "LN"
    ds.ConceptNameCodeSequence[0].CodeMeaning = "Diagnostic Imaging Report"
    if enhanced:
        ds.SOPClassUID = EnhancedSRStorage
        ds.file_meta.MediaStorageSOPClassUID = EnhancedSRStorage
    return save(ds, path)


def no_readable_mark(sample_sidecar: Path, path: Path) -> Path:
    """The sample TID 1500 SR with every region broken (odd Graphic Data)."""
    ds = from_json(sample_sidecar.read_text("utf-8"))
    measurements = next(
        i for i in ds.ContentSequence if i.ConceptNameCodeSequence[0].CodeValue == "126010"
    )
    for group in measurements.ContentSequence:
        for item in group.ContentSequence:
            if item.ValueType == "SCOORD":
                item.GraphicData = [1.0, 2.0, 3.0]
    return save(ds, path)


def empty_report(path: Path) -> Path:
    """A TID 1500 SR of the sample study without any mark."""
    headers = list(sample_headers().values())
    study = str(sample_headers()["03_LCC_POST"].StudyInstanceUID)
    return save(from_json(to_json(encode(AnnotationSet(study), headers))), path)


REFUSED: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    "key object selection": (lambda _s, p: key_object_selection(p), "Key Object Selection"),
    "basic text sr": (lambda _s, p: basic_text_sr(p), "Basic Text SR"),
    "comprehensive, another root": (other_root, "not the TID 1500 Imaging Measurement Report"),
    "enhanced, another root": (
        lambda s, p: other_root(s, p, enhanced=True),
        "not the TID 1500 Imaging Measurement Report",
    ),
    "tid 1500, no readable mark": (no_readable_mark, "no readable mark"),
    "tid 1500, empty": (lambda _s, p: empty_report(p), "no readable mark"),
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
    sr = tmp_path / "in" / "refused.dcm"
    make(sample_sidecar, sr)
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
    kos = key_object_selection(tmp_path / "kos.dcm")
    text = basic_text_sr(tmp_path / "text.dcm")
    assert run("sr", "show", kos, "--no-images") == 1
    assert "is a Key Object Selection Document Storage, not a TID 1500" in only_line(
        capsys.readouterr().err, kos
    )
    assert run("sr", "show", text, "--no-images") == 1
    assert "is a Basic Text SR Storage" in only_line(capsys.readouterr().err, text)


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
    assert "nothing imported" in line
    assert snapshot(tmp_path) == before


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
