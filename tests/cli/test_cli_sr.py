"""Tests for ``galactoview sr export | import | show`` (with dciodvfy and dsrdump when on PATH)."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset

from galactoview import cli
from galactoview.annotations import codes
from galactoview.annotations.geometry import measure_region, path_length_measurement
from galactoview.annotations.model import (
    AlgorithmIdentification,
    AnnotationSet,
    DuctSegment,
    Finding,
    FindingType,
    GraphicType,
    ImageRegion,
    Laterality,
    NippleLandmark,
)
from galactoview.dicom.calibration import calibration_from_dataset
from galactoview.paths import sample_dicom_dir
from galactoview.sr import sidecar
from galactoview.sr.sr_codec import decode, encode, from_json, to_json
from tests.helpers import sample_headers

NOTE = "Papillom vermutet – Größe ≈ 4 mm, 乳頭"


@pytest.fixture(scope="module")
def headers() -> dict[str, Dataset]:
    """Headers of the sample study's images by file stem."""
    return sample_headers()


@pytest.fixture(scope="module")
def sample_sidecar() -> Path:
    """The committed sample study's sidecar."""
    found = sorted(sample_dicom_dir().rglob(f"{sidecar.SIDECAR_PREFIX}*{sidecar.SIDECAR_SUFFIX}"))
    if not found:
        pytest.skip("the sample study has no sidecar")
    return found[0]


def _sr(*args: str | Path) -> int:
    return cli.main(["sr", *(str(a) for a in args)])


def study_copy(tmp_path: Path) -> Path:
    """A copy of the sample ductogram's images (no sidecar): where ``sr import`` writes."""
    study = tmp_path / "study"
    study.mkdir()
    images = sorted((sample_dicom_dir() / "20260312_DUCTOGRAM_L").glob("*.dcm"))
    if not images:
        pytest.skip("no sample study")
    for image in images:
        shutil.copyfile(image, study / image.name)
    return study


def build(headers: dict[str, Dataset]) -> AnnotationSet:
    """Every graphic type, a finding on two views, a branching duct tree, a non-ASCII note."""
    cc, ml = headers["03_LCC_POST"], headers["04_LML_POST"]
    cc_cal, ml_cal = calibration_from_dataset(cc), calibration_from_dataset(ml)

    def region(ds: Dataset, kind: GraphicType, *points: tuple[float, float]) -> ImageRegion:
        return ImageRegion(ds.SOPInstanceUID, None, kind, points)

    ellipse = region(cc, GraphicType.ELLIPSE, (900, 700), (940, 700), (920, 690), (920, 710))
    circle = region(ml, GraphicType.CIRCLE, (850, 1100), (862.5, 1100))
    closed = region(cc, GraphicType.POLYLINE, (100, 100), (140, 100), (140, 130), (100, 100))
    point = region(ml, GraphicType.POINT, (12.5, 13.5))
    findings = (
        Finding.new(
            FindingType.INTRALUMINAL_FILLING_DEFECT,
            [ellipse, circle],
            short_id="FD-1",
            laterality=Laterality.LEFT,
            measurements=measure_region(ellipse, cc_cal) + measure_region(circle, ml_cal, 1),
            impression=codes.INTRADUCTAL_PAPILLOMA,
            note=NOTE,
            observer="Müller^Anna",
        ),
        Finding.new(
            FindingType.MAMMARY_DUCT_ECTASIA,
            [closed],
            short_id="DE-1",
            laterality=Laterality.LEFT,
            measurements=measure_region(closed, cc_cal),
        ),
        Finding.new(
            FindingType.OTHER,
            [point],
            short_id="OT-1",
            other_text="Luftblase",
            laterality=Laterality.LEFT,
        ),
    )
    trunk_region = region(cc, GraphicType.POLYLINE, (1100, 1140), (900, 1150), (700, 1200))
    trunk = DuctSegment.new(
        trunk_region,
        short_id="DS-1",
        laterality=Laterality.LEFT,
        path_length=path_length_measurement(trunk_region, cc_cal),
    )
    branches = tuple(
        DuctSegment.new(
            region(cc, GraphicType.POLYLINE, (700, 1200), (600 + 10 * i, 1100 + 150 * i)),
            short_id=f"DS-{i + 2}",
            parent_uid=trunk.tracking_uid,
            laterality=Laterality.LEFT,
        )
        for i in range(2)
    )
    landmarks = (NippleLandmark(cc.SOPInstanceUID, None, (1122.7, 1147.0)),)
    return AnnotationSet(
        str(cc.StudyInstanceUID), findings, (trunk, *branches), landmarks, observer="Müller^Anna"
    )


def validate(path: Path) -> None:
    """Run dciodvfy (0 errors) and dsrdump (exit 0) on a file; skip when they are missing."""
    missing = [tool for tool in ("dciodvfy", "dsrdump") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not on PATH (dicom3tools, dcmtk)")
    if shutil.which("dciodvfy") is not None:
        check = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True)
        errors = [line for line in (check.stdout + check.stderr).splitlines() if "Error" in line]
        assert errors == []
    if shutil.which("dsrdump") is not None:
        assert subprocess.run(["dsrdump", str(path)], capture_output=True).returncode == 0


def test_save_export_import_round_trip(headers: dict[str, Dataset], tmp_path: Path) -> None:
    original = build(headers)
    dataset = encode(original, list(headers.values()))
    saved = tmp_path / "saved.sr.json"
    saved.write_text(to_json(dataset), encoding="utf-8")
    expected = decode(from_json(saved.read_text("utf-8"))).annotations
    assert expected.findings == original.findings
    assert expected.duct_segments == original.duct_segments

    out = tmp_path / "out" / "annotations.dcm"
    assert _sr("export", saved, out) == 0
    reread = dcmread(out)
    assert reread.file_meta.MediaStorageSOPInstanceUID == dataset.SOPInstanceUID
    assert reread.SpecificCharacterSet == "ISO_IR 192"
    validate(out)

    study = study_copy(tmp_path)
    assert _sr("import", out, study) == 0
    written = study / sidecar.sidecar_name(original.study_instance_uid)
    assert written.is_file()
    assert decode(from_json(written.read_text("utf-8"))).annotations == expected


def test_export_of_the_sample_sidecar_validates(sample_sidecar: Path, tmp_path: Path) -> None:
    if shutil.which("dciodvfy") is None or shutil.which("dsrdump") is None:
        pytest.skip("dciodvfy (dicom3tools) or dsrdump (DCMTK) is not on PATH")
    out = tmp_path / "sample.dcm"
    assert _sr("export", sample_sidecar, out) == 0
    validate(out)


def test_import_never_clobbers_an_existing_sidecar(
    headers: dict[str, Dataset], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = tmp_path / "first.dcm"
    from_json(to_json(encode(build(headers), list(headers.values())))).save_as(
        first, enforce_file_format=True
    )
    study = study_copy(tmp_path)
    assert _sr("import", first, study) == 0
    target = study / sidecar.sidecar_name(str(headers["03_LCC_POST"].StudyInstanceUID))
    before = target.read_bytes()
    capsys.readouterr()

    assert _sr("import", first, study) == 0  # the same SR again: nothing to do
    assert "nothing written" in capsys.readouterr().err
    assert sorted(p.name for p in study.glob("*.sr.json*")) == [target.name]

    second = tmp_path / "second.dcm"
    from_json(to_json(encode(build(headers), list(headers.values())))).save_as(
        second, enforce_file_format=True
    )
    assert _sr("import", second, study) == 0
    captured = capsys.readouterr()
    assert target.read_bytes() == before
    copies = sidecar.alongside_sidecars(target)
    assert len(copies) == 1
    assert captured.out.strip() == str(copies[0])
    assert "already has a sidecar" in captured.err


def test_import_reports_decode_problems_and_proceeds(
    sample_sidecar: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = from_json(sample_sidecar.read_text("utf-8"))
    measurements = next(
        item
        for item in dataset.ContentSequence
        if item.ConceptNameCodeSequence[0].CodeValue == "126010"
    )
    group = measurements.ContentSequence[0]
    scoord = next(item for item in group.ContentSequence if item.ValueType == "SCOORD")
    scoord.GraphicData = [1.0, 2.0, 3.0]  # odd: not (column, row) pairs
    broken = tmp_path / "broken.dcm"
    dataset.save_as(broken, enforce_file_format=True)
    study = study_copy(tmp_path)
    assert _sr("import", broken, study) == 0
    err = capsys.readouterr().err.splitlines()
    assert any(line.startswith(f"{broken}: measurement group 1") for line in err)
    (written,) = study.glob("*.sr.json")
    assert len(decode(from_json(written.read_text("utf-8"))).annotations.findings) == 3


def test_show_lists_findings_with_views(
    sample_sidecar: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _sr("show", sample_sidecar) == 0
    out = capsys.readouterr().out
    assert "FD-1  Intraluminal filling defect  laterality LEFT" in out
    assert "impression: Intraductal papilloma" in out
    assert "region 1: L CC #3  ELLIPSE" in out
    assert "L CC MAG #5" in out
    assert "Long axis" in out and "mm [0.0925 mm (mag-corrected" in out
    assert "Nipple landmarks:" in out


def test_show_binary_without_images_names_uids(
    headers: dict[str, Dataset], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "a.dcm"
    annotations = build(headers)
    from_json(to_json(encode(annotations, list(headers.values())))).save_as(
        path, enforce_file_format=True
    )
    assert _sr("show", path, "--no-images") == 0
    out = capsys.readouterr().out
    assert f"region 1: {headers['03_LCC_POST'].SOPInstanceUID}  ELLIPSE" in out
    assert NOTE in out
    assert "\n    DS-2  branch" in out  # indented below its parent DS-1

    assert _sr("show", path, "--json", "--images", sample_dicom_dir()) == 0
    document = json.loads(capsys.readouterr().out)
    first = document["findings"][0]
    assert first["short_id"] == "FD-1"
    assert first["regions"][0]["view"] == "L CC"
    assert first["regions"][0]["instance_number"] == 3
    assert first["location"] is None
    assert len(document["duct_segments"]) == 3


@pytest.mark.parametrize("command", ["show", "export"])
def test_unreadable_input_is_exit_1_with_path(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.sr.json"
    bad.write_text("{not json", encoding="utf-8")
    args: list[str | Path] = [command, bad]
    if command == "export":
        args.append(tmp_path / "out.dcm")
    assert _sr(*args) == 1
    assert capsys.readouterr().err.startswith(f"{bad}: ")
    assert not (tmp_path / "out.dcm").exists()


def test_non_sr_dicom_is_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = next(sample_dicom_dir().rglob("*.dcm"), None)
    if image is None:
        pytest.skip("no sample study")
    assert _sr("import", image, tmp_path) == 1
    assert "not a structured report" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [[], ["bogus"], ["export", "only-one"], ["show"]])
def test_usage_errors_are_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert _sr(*args) == 2
    assert capsys.readouterr().err.startswith("usage: galactoview sr")


def test_show_says_which_marks_started_as_accepted_suggestions(
    headers: dict[str, Dataset], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """TID 4019 read from the SR: the algorithm that proposed the mark, the reader who took it."""
    annotations = build(headers)
    suggester = AlgorithmIdentification("GalactoView duct-tree suggestion", "1.0")
    first, *rest = annotations.findings
    trunk, *branches = annotations.duct_segments
    accepted = replace(
        annotations,
        findings=(replace(first, algorithm=suggester, observer="Curie^Marie"), *rest),
        duct_segments=(replace(trunk, algorithm=suggester), *branches),
    )
    path = tmp_path / "suggested.dcm"
    from_json(to_json(encode(accepted, list(headers.values())))).save_as(
        path, enforce_file_format=True
    )
    assert _sr("show", path, "--no-images") == 0
    out = capsys.readouterr().out
    assert (
        "FD-1  Intraluminal filling defect  laterality LEFT\n"
        "  suggested by GalactoView duct-tree suggestion 1.0, accepted by Curie^Marie\n"
    ) in out
    assert "    suggested by GalactoView duct-tree suggestion 1.0, accepted by Müller^Anna" in out
    assert out.count("suggested by") == 2
