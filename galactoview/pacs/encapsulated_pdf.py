"""The report's PDF as a DICOM Encapsulated PDF instance, to store beside its SR (Qt-free).

A PACS keeps documents as DICOM instances of the study: the PDF a reader signs goes
there as an **Encapsulated PDF** (PS3.3 A.45.1; SOP Class 1.2.840.10008.5.1.4.1.1.104.1),
beside the SR revision it was rendered from. Neither pydicom nor highdicom builds one,
so :func:`encapsulated_pdf` assembles the modules of Table A.45.1-1 from the PDF bytes
and that SR (whose header carries the study's identity: highdicom copies the Patient
and General Study modules from the images into it):

* Patient (C.7.1.1) and General Study (C.7.2.1): copied from the SR, Type 2 attributes
  it lacks left empty;
* Encapsulated Document Series (C.24.1): Modality ``DOC``, a series of its own
  (number :data:`SERIES_NUMBER`, the SR's being 9001);
* General Equipment (C.7.5.1) and SC Equipment (C.8.6.1): GalactoView, Conversion Type
  ``WSD`` (made on a workstation);
* Encapsulated Document (C.24.2): Document Title, its coded form (Concept Name Code
  Sequence, BCID 7020 "Document Title", which includes CID 7000 "Diagnostic Imaging
  Report Document Title": (111400, DCM, "Breast Imaging Report"), the title of the
  TID 4200 breast imaging report the signed SR's report section follows — more telling
  than LOINC 18748-4 "Diagnostic Imaging Report", also in CID 7000), MIME Type
  ``application/pdf``, Burned In Annotation ``YES`` (the PDF names the patient and the
  date), Verification Flag as the SR's (VERIFIED once signed), Source Instance Sequence
  referencing the SR (Purpose of Reference (128225, DCM, "Source report"), CID 7060),
  the document padded to even length with one trailing NUL and its unpadded length in
  Encapsulated Document Length (0042,0015) (CP 1851), so a reader gives back exactly
  the bytes put in (:func:`pdf_bytes`);
* SOP Common (C.12.1): the SR's Specific Character Set, instance creation date/time.

The SOP and Series Instance UIDs derive from the SR's SOP Instance UID and the PDF's
SHA-256: storing the same PDF of the same revision twice finds it already on the PACS
instead of making a copy.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Final

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    EncapsulatedPDFStorage,
    ExplicitVRLittleEndian,
    generate_uid,
)

import galactoview

__all__ = [
    "DOCUMENT_TITLE",
    "MIME_TYPE",
    "SERIES_NUMBER",
    "encapsulated_pdf",
    "is_encapsulated_pdf",
    "pdf_bytes",
]

#: Document Title (0042,0010) of the report's PDF.
DOCUMENT_TITLE: Final = "Galactography report"
#: MIME Type of Encapsulated Document (0042,0012), PS3.3 A.45.1.4.1.
MIME_TYPE: Final = "application/pdf"
#: Series Number (0020,0011) of the PDF's series (the SR's is 9001).
SERIES_NUMBER: Final = 9002
#: What every PDF starts with (ISO 32000-1 7.5.2, the file header).
_PDF_MAGIC: Final = b"%PDF-"
#: Largest document an OB value holds (PS3.5 7.1.1: 0xFFFFFFFE, even).
_MAX_BYTES: Final = 0xFFFFFFFE

#: Patient (C.7.1.1) and General Study (C.7.2.1) attributes taken from the SR, with
#: their Type: a Type 2 one the SR lacks is present and empty, a Type 3 one left out.
_IDENTITY: Final = (
    ("PatientName", "2"),
    ("PatientID", "2"),
    ("IssuerOfPatientID", "3"),
    ("PatientBirthDate", "2"),
    ("PatientSex", "2"),
    ("StudyInstanceUID", "1"),
    ("StudyDate", "2"),
    ("StudyTime", "2"),
    ("ReferringPhysicianName", "2"),
    ("StudyID", "2"),
    ("AccessionNumber", "2"),
    ("StudyDescription", "3"),
)


def encapsulated_pdf(
    pdf: bytes,
    report: Dataset,
    *,
    title: str = DOCUMENT_TITLE,
    created: datetime | None = None,
) -> Dataset:
    """Return the Encapsulated PDF instance of a report's PDF (PS3.3 A.45.1).

    Parameters
    ----------
    pdf
        The PDF file's bytes, as written.
    report
        The SR revision the PDF was rendered from (e.g. the signed SR
        :func:`galactoview.pacs.outgoing.sidecar_sr` returns): the patient and study
        are copied from it, and the instance references it.
    title
        Document Title (0042,0010).
    created
        When the document was made (Content and Instance Creation Date/Time); now
        when ``None``.

    Returns
    -------
    pydicom.dataset.Dataset
        The instance, with file meta (Explicit VR Little Endian), ready to send or to
        write with :func:`pydicom.dcmwrite`.

    Raises
    ------
    ValueError
        The bytes are not a PDF, or the SR has no SOP Class, SOP or Study Instance UID.
    """
    if not pdf.startswith(_PDF_MAGIC):
        raise ValueError("not a PDF (it does not start with '%PDF-')")
    if len(pdf) > _MAX_BYTES - 1:
        raise ValueError(f"a PDF of {len(pdf)} bytes is too large for a DICOM instance")
    source_class = str(report.get("SOPClassUID") or "")
    source_uid = str(report.get("SOPInstanceUID") or "")
    if not (source_class and source_uid and report.get("StudyInstanceUID")):
        raise ValueError("the SR has no SOP Class, SOP Instance or Study Instance UID")
    moment = (created or datetime.now()).astimezone()
    digest = hashlib.sha256(pdf).hexdigest()
    ds = Dataset()
    # SOP Common (C.12.1)
    ds.SpecificCharacterSet = report.get("SpecificCharacterSet", "ISO_IR 192")
    ds.SOPClassUID = EncapsulatedPDFStorage
    ds.SOPInstanceUID = generate_uid(entropy_srcs=["GalactoView PDF", source_uid, digest])
    ds.InstanceCreationDate = moment.strftime("%Y%m%d")
    ds.InstanceCreationTime = moment.strftime("%H%M%S")
    # Patient (C.7.1.1), General Study (C.7.2.1)
    for keyword, kind in _IDENTITY:
        if keyword in report:
            setattr(ds, keyword, report[keyword].value)
        elif kind == "2":
            setattr(ds, keyword, "")
    # Encapsulated Document Series (C.24.1)
    ds.Modality = "DOC"
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=["GalactoView PDF series", source_uid, digest])
    ds.SeriesNumber = SERIES_NUMBER
    ds.SeriesDescription = f"{title} (PDF)"
    # General Equipment (C.7.5.1), SC Equipment (C.8.6.1)
    ds.Manufacturer = "GalactoView"
    ds.SoftwareVersions = galactoview.__version__
    ds.ConversionType = "WSD"
    # Encapsulated Document (C.24.2)
    ds.InstanceNumber = 1
    ds.ContentDate = moment.strftime("%Y%m%d")
    ds.ContentTime = moment.strftime("%H%M%S")
    ds.AcquisitionDateTime = _report_datetime(report)
    ds.BurnedInAnnotation = "YES"
    if report.get("VerificationFlag") in ("VERIFIED", "UNVERIFIED"):
        ds.VerificationFlag = report.VerificationFlag  # a signed SR: the PDF shows it signed
    source = Dataset()
    source.ReferencedSOPClassUID = source_class
    source.ReferencedSOPInstanceUID = source_uid
    source.PurposeOfReferenceCodeSequence = [_code_item(codes.DCM.SourceReport)]
    ds.SourceInstanceSequence = [source]
    ds.DocumentTitle = title
    ds.ConceptNameCodeSequence = [_code_item(codes.DCM.BreastImagingReport)]
    ds.MIMETypeOfEncapsulatedDocument = MIME_TYPE
    ds.EncapsulatedDocument = pdf + b"\0" if len(pdf) % 2 else pdf
    ds.EncapsulatedDocumentLength = len(pdf)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.file_meta = meta
    return ds


def is_encapsulated_pdf(dataset: Dataset) -> bool:
    """Whether a dataset is an Encapsulated PDF instance (by its SOP Class UID)."""
    return str(dataset.get("SOPClassUID") or "") == EncapsulatedPDFStorage


def pdf_bytes(dataset: Dataset) -> bytes:
    """Return the PDF an Encapsulated PDF instance holds, without its padding (C.24.2).

    The Encapsulated Document Length (0042,0015), when present and consistent, says
    how many bytes are the document; else one trailing NUL pad byte is dropped.

    Raises
    ------
    ValueError
        The dataset holds no encapsulated document.
    """
    value = dataset.get("EncapsulatedDocument")
    data = bytes(value) if isinstance(value, (bytes, bytearray)) else b""
    if not data:
        raise ValueError("no Encapsulated Document (0042,0011)")
    length = dataset.get("EncapsulatedDocumentLength")
    if isinstance(length, int) and length in (len(data), len(data) - 1):
        return data[:length]
    return data[:-1] if data.endswith(b"\0") else data


def _report_datetime(report: Dataset) -> str:
    """Return the SR's Content Date and Time as a DT value (the data's generation), or ''."""
    date = str(report.get("ContentDate") or "")
    time = str(report.get("ContentTime") or "")
    return f"{date}{time}" if date else ""


def _code_item(code: Code) -> Dataset:
    """Return a Code Sequence Macro item (PS3.3 Table 8.8-1) of a pydicom Code."""
    item = Dataset()
    item.CodeValue = code.value
    item.CodingSchemeDesignator = code.scheme_designator
    item.CodeMeaning = code.meaning
    return item
