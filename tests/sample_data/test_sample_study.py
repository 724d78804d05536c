"""The committed sample study: integrity, DICOM attributes, and ground truth on the pixels."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from numpy.typing import NDArray
from pydicom.uid import DigitalMammographyXRayImageStorageForPresentation, JPEG2000Lossless

from galactoview.imaging.display import DisplayPipeline
from tests.pixel_probes import annulus, disk_mean

MAX_SAMPLE_BYTES = 30 * 1024 * 1024
VIEW_CODES = {"CC": "399162004", "ML": "399260004", "MLO": "399368009"}
MAGNIFICATION_CODE = "399163009"


def images(ground_truth: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = ground_truth["images"]
    return result


@cache
def _pixels(path: Path) -> NDArray[np.float64]:
    """Presentation values in the MONOCHROME2 sense (brighter = more attenuating)."""
    ds = pydicom.dcmread(path)
    arr = ds.pixel_array.astype(np.float64)
    return 4095.0 - arr if ds.PhotometricInterpretation == "MONOCHROME1" else arr


def test_checksums_match_committed_files(sample_dir: Path) -> None:
    lines = (sample_dir / "SHA256SUMS").read_text("utf-8").splitlines()
    listed = {}
    for line in lines:
        digest, rel = line.split("  ", 1)
        listed[rel] = digest
    assert len(listed) >= 9 + 9 + 1  # DICOM files, previews, ground truth
    for rel, digest in listed.items():
        assert hashlib.sha256((sample_dir / rel).read_bytes()).hexdigest() == digest, rel
    on_disk = {
        p.relative_to(sample_dir).as_posix()
        for p in sample_dir.rglob("*")
        if p.is_file() and p.name not in {"SHA256SUMS", "README.md"}
    }
    assert on_disk == set(listed), "files not covered by SHA256SUMS"


def test_sample_data_is_small(sample_dir: Path) -> None:
    total = sum(p.stat().st_size for p in sample_dir.rglob("*") if p.is_file())
    assert total <= MAX_SAMPLE_BYTES


def test_study_composition(ground_truth: dict[str, Any]) -> None:
    labels = [img["label"] for img in images(ground_truth)]
    assert labels == [
        "LCC_PRE", "LML_PRE", "LCC_POST", "LML_POST", "LCC_MAG_POST",
        "RCC", "LCC", "RMLO", "LMLO",
    ]  # fmt: skip
    kinds = {lesion["kind"] for lesion in ground_truth["lesions"]}
    assert kinds == {"intraluminal_filling_defect", "cyst_fill", "duct_ectasia"}


@pytest.mark.parametrize("index", range(9))
def test_every_file_is_a_full_mg_for_presentation_image(
    sample_dir: Path, ground_truth: dict[str, Any], index: int
) -> None:
    truth = images(ground_truth)[index]
    ds = pydicom.dcmread(sample_dir / truth["file"])
    assert ds.SOPClassUID == DigitalMammographyXRayImageStorageForPresentation
    assert ds.file_meta.TransferSyntaxUID == JPEG2000Lossless
    assert ds.Modality == "MG"
    assert ds.PresentationIntentType == "FOR PRESENTATION"
    assert ds.SOPInstanceUID == truth["sop_instance_uid"]
    assert "PHANTOM" in str(ds.PatientName)
    assert ds.ImageLaterality == truth["laterality"]
    view_item = ds.ViewCodeSequence[0]
    assert view_item.CodeValue == VIEW_CODES[truth["view"]]
    assert view_item.CodingSchemeDesignator == "SCT"
    modifiers = [m.CodeValue for m in view_item.ViewModifierCodeSequence]
    assert modifiers == ([MAGNIFICATION_CODE] if truth["magnified"] else [])
    assert ds.ViewPosition == truth["view"]
    assert list(ds.PatientOrientation) == truth["patient_orientation"]
    assert [float(v) for v in ds.ImagerPixelSpacing] == [0.1, 0.1]
    assert float(ds.DistanceSourceToDetector) == 650.0
    assert float(ds.DistanceSourceToPatient) < float(ds.DistanceSourceToDetector)
    ermf = float(ds.EstimatedRadiographicMagnificationFactor)
    assert ermf == pytest.approx(1.8 if truth["magnified"] else 1.08, abs=0.01)
    assert 12 <= ds.BitsStored <= 14
    assert ds.Rows >= 2294 and ds.Columns >= 1914
    assert len(ds.WindowCenter) >= 2
    assert len(ds.WindowCenterWidthExplanation) == len(ds.WindowCenter)
    assert ds.VOILUTFunction in {"LINEAR", "SIGMOID"}
    expected_shape = "INVERSE" if ds.PhotometricInterpretation == "MONOCHROME1" else "IDENTITY"
    assert ds.PresentationLUTShape == expected_shape
    assert ds.PhotometricInterpretation == truth["photometric_interpretation"]
    assert ("ContrastBolusAgent" in ds) == truth["contrast"]
    if "DUCTOGRAM" in ds.StudyDescription:
        assert ds.ProcedureCodeSequence[0].CodeValue == "18102001"  # Mammary ductogram
        assert ds.StudyDescription == "DUCTOGRAM LEFT"
    arr = ds.pixel_array
    assert arr.shape == (ds.Rows, ds.Columns)
    assert int(arr.max()) < 2**ds.BitsStored


def test_patient_orientation_follows_view_and_laterality(ground_truth: dict[str, Any]) -> None:
    # IHE Mammography Image profile hanging orientations; the prior RCC is stored mirrored
    # on purpose (the viewer must flip it).
    expected = {
        "LCC_PRE": ["A", "R"], "LML_PRE": ["A", "F"], "LCC_POST": ["A", "R"],
        "LML_POST": ["A", "F"], "LCC_MAG_POST": ["A", "R"], "RCC": ["A", "L"],
        "LCC": ["A", "R"], "RMLO": ["P", "FL"], "LMLO": ["A", "FR"],
    }  # fmt: skip
    assert {img["label"]: img["patient_orientation"] for img in images(ground_truth)} == expected


def _visible(
    ground_truth: dict[str, Any], lesion_id: str
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    found = []
    for img in images(ground_truth):
        for lesion in img["lesions"]:
            if lesion["id"] == lesion_id and lesion["visible"]:
                found.append((img, lesion))
    return found


def test_filling_defect_is_darker_than_the_contrast_around_it(
    sample_dir: Path, ground_truth: dict[str, Any]
) -> None:
    views = _visible(ground_truth, "defect-1")
    assert {img["label"] for img, _ in views} == {"LCC_POST", "LML_POST", "LCC_MAG_POST"}
    for img, lesion in views:
        arr = _pixels(sample_dir / img["file"])
        r = lesion["projected_radius_px"]
        centre = disk_mean(arr, lesion["column"], lesion["row"], 0.25 * r)
        ring = annulus(arr, lesion["column"], lesion["row"], 1.0 * r, 1.6 * r)
        contrast_around = float(np.percentile(ring, 98))
        assert centre < contrast_around - 150, img["label"]


def test_cyst_fill_is_brighter_than_its_surroundings(
    sample_dir: Path, ground_truth: dict[str, Any]
) -> None:
    views = _visible(ground_truth, "cyst-1")
    assert len(views) == 3
    for img, lesion in views:
        arr = _pixels(sample_dir / img["file"])
        r = lesion["projected_radius_px"]
        centre = disk_mean(arr, lesion["column"], lesion["row"], 0.4 * r)
        around = float(np.median(annulus(arr, lesion["column"], lesion["row"], 1.5 * r, 2.5 * r)))
        assert centre > around + 300, img["label"]


def test_ectasia_is_a_wide_bright_duct(sample_dir: Path, ground_truth: dict[str, Any]) -> None:
    for img, lesion in _visible(ground_truth, "ectasia-1"):
        arr = _pixels(sample_dir / img["file"])
        r = lesion["projected_radius_px"]
        centre = disk_mean(arr, lesion["column"], lesion["row"], 0.3 * r)
        around = float(np.median(annulus(arr, lesion["column"], lesion["row"], 2.5 * r, 4.0 * r)))
        assert centre > around + 300, img["label"]


def test_lesions_do_not_show_before_contrast(
    sample_dir: Path, ground_truth: dict[str, Any]
) -> None:
    pre = next(img for img in images(ground_truth) if img["label"] == "LCC_PRE")
    post = next(img for img in images(ground_truth) if img["label"] == "LCC_POST")
    defect_pre = next(x for x in pre["lesions"] if x["id"] == "defect-1")
    assert defect_pre["visible"] is False
    arr_pre = _pixels(sample_dir / pre["file"])
    arr_post = _pixels(sample_dir / post["file"])
    ecta = next(x for x in post["lesions"] if x["id"] == "ectasia-1")
    r = ecta["projected_radius_px"]
    # The ectatic duct is bright only after injection.
    gain = disk_mean(arr_post, ecta["column"], ecta["row"], 0.3 * r) - disk_mean(
        arr_pre, ecta["column"], ecta["row"], 0.3 * r
    )
    assert gain > 400


def test_nipple_projection_is_at_the_breast_tip(
    sample_dir: Path, ground_truth: dict[str, Any]
) -> None:
    for img in images(ground_truth):
        ds = pydicom.dcmread(sample_dir / img["file"], stop_before_pixels=True)
        arr = _pixels(sample_dir / img["file"])
        col, row = img["nipple"]["column"], img["nipple"]["row"]
        anterior = 1.0 if ds.PatientOrientation[0] == "A" else -1.0
        background = float(arr[0, -1 if anterior > 0 else 0])
        inside = arr[int(row), int(col - anterior * 20)]
        outside = arr[int(row), int(col + anterior * 15)]
        assert inside > background + 200, img["label"]
        assert outside == background, img["label"]


def test_chest_wall_is_the_image_edge_on_contact_cc_and_ml(ground_truth: dict[str, Any]) -> None:
    for img in images(ground_truth):
        wall = img["chest_wall"]
        if img["view"] == "MLO":
            assert wall["kind"] == "pectoral_line" and wall["visible"]
            (c0, r0), (c1, r1) = wall["points"]
            assert r0 < r1 and abs(c0 - c1) > 100  # slants away from the chest-wall edge
        elif not img["magnified"]:
            assert wall["kind"] == "image_edge" and wall["visible"]
            cols = {p[0] for p in wall["points"]}
            assert cols in ({0.0}, {1914.0})


def test_magnified_view_scales_distances_by_its_factor(ground_truth: dict[str, Any]) -> None:
    by_label = {img["label"]: img for img in images(ground_truth)}
    contact, mag = by_label["LCC_POST"], by_label["LCC_MAG_POST"]

    def nipple_to_cyst_mm(img: dict[str, Any]) -> float:
        cyst = next(x for x in img["lesions"] if x["id"] == "cyst-1")
        d_px = np.hypot(
            cyst["column"] - img["nipple"]["column"], cyst["row"] - img["nipple"]["row"]
        )
        return float(d_px * img["imager_pixel_spacing_mm"] / img["magnification_factor"])

    assert nipple_to_cyst_mm(mag) == pytest.approx(nipple_to_cyst_mm(contact), rel=0.03)


@pytest.mark.parametrize("index", [2, 5])
def test_display_pipeline_shows_breast_brighter_than_background(
    sample_dir: Path, ground_truth: dict[str, Any], index: int
) -> None:
    # MONOCHROME2 (ductogram) and MONOCHROME1 + INVERSE (prior) must both show the breast
    # bright on a dark background: inverted exactly once.
    img = images(ground_truth)[index]
    ds = pydicom.dcmread(sample_dir / img["file"])
    pipeline = DisplayPipeline.from_dataset(ds)
    shown = pipeline.render(ds.pixel_array, pipeline.default_voi())
    col, row = img["nipple"]["column"], img["nipple"]["row"]
    anterior = 1.0 if ds.PatientOrientation[0] == "A" else -1.0
    assert shown[int(row), int(col - anterior * 300)] > shown[5, 5] + 50
    assert pipeline.problems == ()


@pytest.mark.skipif(
    shutil.which("dciodvfy") is None, reason="dciodvfy (Debian dicom3tools) not installed"
)
@pytest.mark.parametrize("index", range(9))
def test_dciodvfy_reports_no_errors(
    sample_dir: Path, ground_truth: dict[str, Any], index: int
) -> None:
    path = sample_dir / images(ground_truth)[index]["file"]
    result = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, check=False)
    errors = [
        line for line in (result.stdout + result.stderr).splitlines() if line.startswith("Error")
    ]
    assert errors == []
    assert "MammographyImageForPresentation" in result.stdout + result.stderr
