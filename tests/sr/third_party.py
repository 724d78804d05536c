"""SRs GalactoView did not write, generated for the tests (issue 13): what must be refused.

Each builder returns a new dataset made with highdicom or pydicom from the sample
ductogram; :func:`save` writes one as a Part 10 file. The sample's committed sidecar
(:func:`sample_report`) is the TID 1500 SR the variants start from.

- :func:`key_object_selection`: a Key Object Selection document (PS3.3 A.35.4, TID 2010),
  built with :class:`highdicom.ko.KeyObjectSelectionDocument`;
- :func:`basic_text_sr`: a Basic Text SR (PS3.3 A.35.1), built by hand with pydicom;
- :func:`other_title`: a Comprehensive (or Enhanced) SR titled "Diagnostic Imaging Report"
  (18748-4, LN) instead of TID 1500's "Imaging Measurement Report" (126000, DCM);
- :func:`other_template`: a Comprehensive SR whose Content Template Sequence (PS3.3 C.17.3)
  names TID 2000 (Basic Diagnostic Imaging Report) with that template's title;
- :func:`no_readable_mark`: the TID 1500 SR with every image region broken;
- :func:`empty_report`: a TID 1500 SR without any measurement group;
- :func:`other_study`: the TID 1500 SR moved to a study that is nowhere on disk.

And a TID 1500 SR to read and keep (issue 13, lossless round trip):

- :func:`highdicom_report`: three TID 1410 groups built with highdicom's
  :class:`~highdicom.sr.PlanarROIMeasurementsAndQualitativeEvaluations` as another
  viewer would write them — a "Mass" (SCT 4147007, not CID 6057) with two finding sites
  (Breast with its laterality, Upper outer quadrant), a "Margins" qualitative evaluation,
  the algorithm identification of TID 4019 and a TEXT item; a CID 6057 filling defect
  without any finding site; a third finding to edit.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import highdicom as hd
import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sr.codedict import codes as sr_codes
from pydicom.uid import BasicTextSRStorage, EnhancedSRStorage, ExplicitVRLittleEndian, generate_uid

from galactoview.annotations.model import AnnotationSet
from galactoview.paths import sample_dicom_dir
from galactoview.sr.sr_codec import encode, from_json, to_json
from tests.helpers import sample_headers

__all__ = [
    "DUCTOGRAM",
    "basic_text_sr",
    "empty_report",
    "highdicom_report",
    "key_object_selection",
    "no_readable_mark",
    "other_study",
    "other_template",
    "other_title",
    "sample_report",
    "sample_report_path",
    "save",
]

#: The sample study whose images the SRs reference.
DUCTOGRAM = "20260312_DUCTOGRAM_L"
_KEY_IMAGE = "03_LCC_POST"


def sample_report_path() -> Path:
    """Return the committed sidecar of the sample ductogram (skip the test without it)."""
    found = sorted((sample_dicom_dir() / DUCTOGRAM).glob("galactoview-*.sr.json"))
    if not found:
        pytest.skip("the sample study has no sidecar")
    return found[0]


def sample_report() -> Dataset:
    """Return the sample ductogram's TID 1500 SR as a new dataset."""
    return from_json(sample_report_path().read_text("utf-8"))


def unmarked_ductogram(target: Path) -> Path:
    """Copy the sample ductogram's images, not its sidecar, to ``target``; return it."""
    shutil.copytree(
        sample_dicom_dir() / DUCTOGRAM, target, ignore=shutil.ignore_patterns("galactoview-*")
    )
    return target


def save(dataset: Dataset, path: Path) -> Path:
    """Write ``dataset`` as a Part 10 file at ``path`` (folders made); return ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    dataset.save_as(path, enforce_file_format=True)
    return path


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def key_object_selection() -> Dataset:
    """Return a Key Object Selection document (PS3.3 A.35.4) flagging a sample image."""
    image = sample_headers()[_KEY_IMAGE]
    content = hd.ko.KeyObjectSelection(
        document_title=sr_codes.DCM.OfInterest, referenced_objects=[image], description="key image"
    )
    return hd.ko.KeyObjectSelectionDocument(
        evidence=[image],
        content=content,
        series_instance_uid=generate_uid(),
        series_number=99,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="Other Vendor",
    )


def basic_text_sr() -> Dataset:
    """Return a hand-built Basic Text SR (PS3.3 A.35.1) of the sample study: a titled text."""
    image = sample_headers()[_KEY_IMAGE]
    text = Dataset()
    text.RelationshipType, text.ValueType = "CONTAINS", "TEXT"
    text.ConceptNameCodeSequence = [_code("121071", "DCM", "Finding")]
    text.TextValue = "Filling defect at 7 o'clock."
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = BasicTextSRStorage
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = image.StudyInstanceUID
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "SR"
    ds.ValueType = "CONTAINER"
    ds.ContinuityOfContent = "SEPARATE"
    ds.ConceptNameCodeSequence = [_code("18748-4", "LN", "Diagnostic Imaging Report")]
    ds.ContentSequence = [text]
    return ds


def other_title(*, enhanced: bool = False) -> Dataset:
    """Return the sample SR titled "Diagnostic Imaging Report" (18748-4, LN), not TID 1500's."""
    ds = sample_report()
    ds.ConceptNameCodeSequence = [_code("18748-4", "LN", "Diagnostic Imaging Report")]
    if enhanced:
        ds.SOPClassUID = EnhancedSRStorage
        ds.file_meta.MediaStorageSOPClassUID = EnhancedSRStorage
    return ds


def other_template() -> Dataset:
    """Return the sample SR as a TID 2000 Basic Diagnostic Imaging Report (template and title).

    Content Template Sequence (0040,A504): Mapping Resource DCMR, Template Identifier
    2000 (PS3.3 C.17.3); the measurement groups are left in, so only the template and
    title tell it is not TID 1500.
    """
    ds = other_title()
    template = Dataset()
    template.MappingResource = "DCMR"
    template.TemplateIdentifier = "2000"
    ds.ContentTemplateSequence = [template]
    return ds


def no_readable_mark() -> Dataset:
    """Return the sample TID 1500 SR with every region broken (odd Graphic Data)."""
    ds = sample_report()
    measurements = next(
        i for i in ds.ContentSequence if i.ConceptNameCodeSequence[0].CodeValue == "126010"
    )
    for group in measurements.ContentSequence:
        for item in group.ContentSequence:
            if item.ValueType == "SCOORD":
                item.GraphicData = [1.0, 2.0, 3.0]
    return ds


def empty_report() -> Dataset:
    """Return a TID 1500 SR of the sample study without any mark."""
    headers = list(sample_headers().values())
    study = str(sample_headers()[_KEY_IMAGE].StudyInstanceUID)
    return from_json(to_json(encode(AnnotationSet(study), headers)))


def other_study() -> Dataset:
    """Return the sample TID 1500 SR as if about another study (new Study Instance UID).

    Its marks still reference the sample's images (by SOP Instance UID); only the
    study differs, as for an SR filed with the wrong study.
    """
    ds = copy.deepcopy(sample_report())
    ds.StudyInstanceUID = generate_uid()
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def highdicom_report() -> Dataset:
    """Return a TID 1500 SR of the sample study as another highdicom-based viewer writes it.

    Groups, in order (tracking identifiers): ``MASS-A`` a "Mass" (SCT 4147007) ELLIPSE on
    03_LCC_POST with finding sites Breast (laterality Left) and Upper outer quadrant of
    breast, a Long Axis, "Margins" = Circumscribed (DCM 111037/112142), algorithm
    identification (TID 4019) and a TEXT "Impression"; ``DEFECT-B`` an "Intraluminal
    filling defect" POINT on 01_LCC_PRE without finding site, with "Margins" =
    Spiculated; ``EDIT-C`` a CID 6057 "Duct narrowing" open POLYLINE on 04_LML_POST, with
    finding site Breast (Left).
    """
    headers = sample_headers()
    algorithm = hd.sr.AlgorithmIdentification(name="OtherCAD", version="2.1")
    left = [hd.sr.FindingSite(sr_codes.SCT.Breast, laterality=sr_codes.SCT.Left)]

    def region(stem: str, kind: str, points: list[list[float]]) -> hd.sr.ImageRegion:
        image = headers[stem]
        source = hd.sr.SourceImageForRegion(image.SOPClassUID, image.SOPInstanceUID)
        return hd.sr.ImageRegion(kind, np.array(points, float), source)

    mass = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=generate_uid(), identifier="MASS-A"),
        referenced_region=region(
            "03_LCC_POST", "ELLIPSE", [[100, 200], [180, 200], [140, 180], [140, 220]]
        ),
        finding_type=sr_codes.SCT.Mass,
        algorithm_id=algorithm,
        finding_sites=[
            *left,
            hd.sr.FindingSite(sr_codes.SCT.UpperOuterQuadrantOfBreast),
        ],
        measurements=[hd.sr.Measurement(sr_codes.SCT.LongAxis, 8.5, sr_codes.UCUM.Millimeter)],
        qualitative_evaluations=[
            hd.sr.QualitativeEvaluation(sr_codes.DCM.Margins, sr_codes.DCM.Circumscribed)
        ],
    )
    defect = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=generate_uid(), identifier="DEFECT-B"),
        referenced_region=region("01_LCC_PRE", "POINT", [[300.5, 310.25]]),
        finding_type=sr_codes.DCM.IntraluminalFillingDefect,
        algorithm_id=algorithm,
        qualitative_evaluations=[
            hd.sr.QualitativeEvaluation(sr_codes.DCM.Margins, sr_codes.DCM.Spiculated)
        ],
    )
    other = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=generate_uid(), identifier="EDIT-C"),
        referenced_region=region("04_LML_POST", "POLYLINE", [[50, 60], [70, 90], [95, 120]]),
        finding_type=sr_codes.DCM.DuctNarrowing,
        finding_sites=left,
    )
    text = hd.sr.TextContentItem(
        name=sr_codes.DCM.Impression,
        value="well-defined, no change since prior",
        relationship_type=hd.sr.RelationshipTypeValues.CONTAINS,
    )
    mass[0].ContentSequence.append(text)
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(
            observer_device_context=hd.sr.ObserverContext(
                observer_type=sr_codes.DCM.Device,
                observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
                    uid=generate_uid(), name="OtherCAD"
                ),
            )
        ),
        procedure_reported=sr_codes.SCT.MammaryDuctogram,
        imaging_measurements=[mass, defect, other],
    )
    images = [headers[stem] for stem in ("03_LCC_POST", "01_LCC_PRE", "04_LML_POST")]
    return hd.sr.ComprehensiveSR(
        evidence=images,
        content=report,
        series_instance_uid=generate_uid(),
        series_number=78,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="Other Vendor",
    )
