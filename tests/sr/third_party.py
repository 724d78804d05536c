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
"""

from __future__ import annotations

import copy
from pathlib import Path

import highdicom as hd
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
