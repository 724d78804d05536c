"""The annotated example: the phantom's lesions and nipples as a study annotation sidecar.

:func:`sample_annotations` turns the ground truth written by
:func:`galactoview.phantom.study.generate` into an
:class:`~galactoview.annotations.model.AnnotationSet` of the ductogram study, as a
radiologist would mark it:

* the filling defect: an *Intraluminal filling defect* (CID 6057) with impression
  *Intraductal papilloma*, an ELLIPSE around its projection on each post-contrast image
  where it is visible (CC, ML and the magnified CC), all regions of ONE finding;
* the cyst: a *Cyst fill* CIRCLE on each post-contrast image;
* the ectatic duct: a *Mammary duct ectasia* ELLIPSE along the nipple–lesion direction
  (the ground truth gives no duct path);
* the nipple landmark on every post-contrast image.

Sizes come from each lesion's ``size_mm`` and the image's calibration
(:func:`~galactoview.dicom.calibration.calibration_from_dataset`), measurements from
:func:`~galactoview.annotations.geometry.measure_region`.

:func:`write_sample_sidecar` writes the TID 1500 SR (PS3.16) as the study's sidecar
(:func:`~galactoview.sr.sidecar.sidecar_name`) in the ductogram's folder, with each
finding's location in the breast (clock face, quadrant, depth, distance from the nipple:
:func:`~galactoview.location.study.locate_document` on the marks and nipples, as the viewer
saves them). The bytes
are a pure function of the ground truth and the image headers: tracking, series and SOP
Instance UIDs are derived from the seed (:func:`pydicom.uid.generate_uid` with entropy
sources), the content date/time is the study's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from galactoview import files
from galactoview.annotations import codes
from galactoview.annotations.geometry import measure_region
from galactoview.annotations.model import (
    AnnotationSet,
    Finding,
    FindingType,
    GraphicType,
    ImageRegion,
    Laterality,
    MeasurementValue,
    NippleLandmark,
)
from galactoview.dicom.calibration import calibration_from_dataset
from galactoview.dicom.loading import scan
from galactoview.location.study import locate_document
from galactoview.sr import sidecar, sr_codec

__all__ = ["OBSERVER", "sample_annotations", "sample_sidecar_text", "write_sample_sidecar"]

#: Person observer of the sample's annotations (DICOM PN).
OBSERVER: Final = "PHANTOM^GENERATOR"
#: The marks enclose the lesion with this margin (ratio to its radius).
MARGIN: Final = 1.35
#: An ectatic duct is marked as an ellipse this many times longer than wide.
ECTASIA_ASPECT: Final = 3.0

_TYPES: Final = {
    "intraluminal_filling_defect": (FindingType.INTRALUMINAL_FILLING_DEFECT, GraphicType.ELLIPSE),
    "cyst_fill": (FindingType.CYST_FILL, GraphicType.CIRCLE),
    "duct_ectasia": (FindingType.MAMMARY_DUCT_ECTASIA, GraphicType.ELLIPSE),
}


def _uid(ground_truth: Mapping[str, Any], *parts: str) -> str:
    sources = ["galactoview-phantom-annotations", str(ground_truth["seed"]), ground_truth["side"]]
    return str(generate_uid(entropy_srcs=[*sources, *parts]))


def _post_contrast(ground_truth: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the ductogram's post-contrast images of the injected breast, in file order."""
    return [
        image
        for image in ground_truth["images"]
        if image["contrast"] and image["laterality"] == ground_truth["side"]
    ]


def _region(
    kind: GraphicType,
    image: Mapping[str, Any],
    header: Dataset,
    centre: tuple[float, float],
    size_mm: float,
) -> ImageRegion:
    """Return a mark around a lesion's projection, sized in mm with the calibration."""
    calibration = calibration_from_dataset(header)
    column_mm = calibration.column_spacing_mm or float(image["imager_pixel_spacing_mm"])
    row_mm = calibration.row_spacing_mm or float(image["imager_pixel_spacing_mm"])
    half_mm = MARGIN * size_mm / 2.0
    rc, rr = half_mm / column_mm, half_mm / row_mm  # radius in columns and in rows
    c, r = centre
    uid = str(header.SOPInstanceUID)
    if kind is GraphicType.CIRCLE:
        return ImageRegion(uid, None, kind, ((c, r), (c + rc, r)))
    # ELLIPSE: major axis ends, then minor axis ends (PS3.3 C.18.6.1.2).
    return ImageRegion(uid, None, kind, ((c - rc, r), (c + rc, r), (c, r - rr), (c, r + rr)))


def _ectasia_region(
    image: Mapping[str, Any], header: Dataset, centre: tuple[float, float], size_mm: float
) -> ImageRegion:
    """Return an ELLIPSE along the nipple–lesion direction, where the dilated duct runs."""
    calibration = calibration_from_dataset(header)
    spacing = calibration.column_spacing_mm or float(image["imager_pixel_spacing_mm"])
    c, r = centre
    dc, dr = c - image["nipple"]["column"], r - image["nipple"]["row"]
    norm = math.hypot(dc, dr) or 1.0
    uc, ur = dc / norm, dr / norm
    width = MARGIN * size_mm / 2.0 / spacing
    length = ECTASIA_ASPECT * width
    points = (
        (c - length * uc, r - length * ur),
        (c + length * uc, r + length * ur),
        (c - width * ur, r + width * uc),
        (c + width * ur, r - width * uc),
    )
    return ImageRegion(str(header.SOPInstanceUID), None, GraphicType.ELLIPSE, points)


def sample_annotations(
    ground_truth: Mapping[str, Any], headers: Mapping[str, Dataset]
) -> AnnotationSet:
    """Return the annotations of the phantom's ductogram, marked from the ground truth.

    Parameters
    ----------
    ground_truth
        The dict :func:`galactoview.phantom.study.generate` writes to ``ground_truth.json``.
    headers
        The image headers by the ground truth's ``file`` (relative path).

    Returns
    -------
    AnnotationSet
        One finding per lesion (regions on every post-contrast image where it is
        visible, measured), the nipple landmark on every post-contrast image,
        observer :data:`OBSERVER`; deterministic tracking UIDs.
    """
    images = _post_contrast(ground_truth)
    if not images:
        raise ValueError("the ground truth has no post-contrast image of the injected breast")
    laterality = Laterality(ground_truth["side"])
    study_uid = str(headers[images[0]["file"]].StudyInstanceUID)
    findings = []
    counters: dict[FindingType, int] = {}
    for lesion in ground_truth["lesions"]:
        finding_type, kind = _TYPES[lesion["kind"]]
        regions: list[ImageRegion] = []
        measurements: list[MeasurementValue] = []
        for image in images:
            projection = next(p for p in image["lesions"] if p["id"] == lesion["id"])
            if not projection["visible"]:
                continue
            header = headers[image["file"]]
            centre = (float(projection["column"]), float(projection["row"]))
            if finding_type is FindingType.MAMMARY_DUCT_ECTASIA:
                region = _ectasia_region(image, header, centre, float(lesion["size_mm"]))
            else:
                region = _region(kind, image, header, centre, float(lesion["size_mm"]))
            calibration = calibration_from_dataset(header)
            measurements += measure_region(region, calibration, len(regions))
            regions.append(region)
        if not regions:
            continue
        counters[finding_type] = counters.get(finding_type, 0) + 1
        impression = (
            codes.INTRADUCTAL_PAPILLOMA
            if finding_type is FindingType.INTRALUMINAL_FILLING_DEFECT
            else None
        )
        findings.append(
            Finding(
                _uid(ground_truth, "finding", lesion["id"]),
                f"{finding_type.prefix}-{counters[finding_type]}",
                finding_type,
                "",
                laterality,
                tuple(regions),
                tuple(measurements),
                impression,
                f"Phantom ground truth {lesion['id']}: {lesion['size_mm']} mm, "
                f"{lesion['clock_hour']} o'clock, {lesion['quadrant']}, "
                f"{lesion['distance_from_nipple_mm']} mm from the nipple",
                OBSERVER,
            )
        )
    landmarks = tuple(
        NippleLandmark(
            str(headers[image["file"]].SOPInstanceUID),
            None,
            (float(image["nipple"]["column"]), float(image["nipple"]["row"])),
        )
        for image in images
        if image["nipple"]["visible"]
    )
    return AnnotationSet(study_uid, tuple(findings), (), landmarks, observer=OBSERVER)


def _study_datetime(header: Dataset) -> datetime:
    """Study Date and Time (0008,0020/0030) of an image header as a datetime."""
    text = f"{header.StudyDate}{str(header.get('StudyTime') or '000000')[:6]:0<6}"
    return datetime.strptime(text, "%Y%m%d%H%M%S")


def sample_sidecar_text(out: Path, ground_truth: Mapping[str, Any]) -> tuple[Path, str]:
    """Return where the sample's sidecar goes and its text (DICOM JSON, PS3.18 Annex F).

    Parameters
    ----------
    out
        The generator's output folder (holding ``ground_truth["images"][i]["file"]``).
    ground_truth
        The ground truth of the phantom written there.

    Returns
    -------
    tuple of Path and str
        The sidecar path in the ductogram study's folder and its content (with the
        findings' locations): the same bytes for the same ground truth and images.
    """
    headers = {
        image["file"]: dcmread(out / image["file"], stop_before_pixels=True)
        for image in ground_truth["images"]
    }
    annotations = sample_annotations(ground_truth, headers)
    records = scan([out / image["file"] for image in ground_truth["images"]]).images
    first = next(
        ds for ds in headers.values() if str(ds.StudyInstanceUID) == annotations.study_instance_uid
    )
    dataset = sr_codec.encode(
        annotations,
        list(headers.values()),
        series_instance_uid=_uid(ground_truth, "sr", "series"),
        sop_instance_uid=_uid(ground_truth, "sr", "instance"),
        content_datetime=_study_datetime(first),
        locations=locate_document(annotations, records),
    )
    folder = next(
        (out / image["file"]).parent
        for image in _post_contrast(ground_truth)
        if str(headers[image["file"]].StudyInstanceUID) == annotations.study_instance_uid
    )
    return folder / sidecar.sidecar_name(annotations.study_instance_uid), sr_codec.to_json(dataset)


def write_sample_sidecar(out: Path, ground_truth: Mapping[str, Any]) -> Path:
    """Write the sample's annotation sidecar next to the ductogram's images.

    Parameters
    ----------
    out, ground_truth
        As for :func:`sample_sidecar_text`.

    Returns
    -------
    Path
        The sidecar written (replacing any previous one: the generator owns ``out``).
    """
    path, text = sample_sidecar_text(out, ground_truth)
    data = text.encode("utf-8")
    files.write_atomically(path, lambda stream: stream.write(data))
    return path
