"""The report's PDF as an Encapsulated PDF instance (PS3.3 A.45.1): valid, and lossless."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydicom import dcmread, dcmwrite
from pydicom.dataset import Dataset
from pydicom.uid import ComprehensiveSRStorage, EncapsulatedPDFStorage, ExplicitVRLittleEndian

from galactoview.pacs.encapsulated_pdf import encapsulated_pdf, is_encapsulated_pdf, pdf_bytes
from galactoview.pacs.outgoing import pdf_instance
from galactoview.sr.signing import Signature, sign
from tests.pacs.sample import sample_sr

SIGNATURE = Signature(
    "Lindqvist^Åsa", "Brustzentrum Süd", datetime(2026, 12, 4, 18, 30, tzinfo=UTC)
)
CREATED = datetime(2026, 12, 4, 18, 31, tzinfo=UTC)


def tiny_pdf(text: str = "Galactography report", *, odd: bool = True) -> bytes:
    """A valid one-page PDF showing ``text`` (ISO 32000-1: header, objects, xref, trailer).

    ``odd``: of odd length (then the instance needs its pad byte), else even.
    """
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 100] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        None,  # the content stream, below
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    stream = f"BT /F1 12 Tf 10 50 Td ({text}) Tj ET".encode("latin-1")
    objects[3] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    if (len(out) % 2 == 1) != odd:
        out += b"\n"  # a trailing end-of-line after %%EOF is allowed
    return bytes(out)


def signed_sr() -> Dataset:
    """The sample ductogram's SR, signed."""
    sr = sample_sr()
    sign(sr, SIGNATURE)
    return sr


def test_the_instance_carries_the_study_the_title_and_references_the_signed_sr() -> None:
    sr = signed_sr()
    pdf = tiny_pdf()
    ds = encapsulated_pdf(pdf, sr, created=CREATED)
    assert is_encapsulated_pdf(ds) and ds.SOPClassUID == EncapsulatedPDFStorage
    for keyword in ("PatientName", "PatientID", "StudyInstanceUID", "AccessionNumber"):
        assert ds[keyword].value == sr[keyword].value
    assert ds.SpecificCharacterSet == sr.SpecificCharacterSet
    assert ds.Modality == "DOC"
    assert ds.MIMETypeOfEncapsulatedDocument == "application/pdf"
    assert ds.BurnedInAnnotation == "YES"
    assert ds.VerificationFlag == "VERIFIED"
    assert ds.DocumentTitle == "Galactography report"
    (title,) = ds.ConceptNameCodeSequence
    assert (title.CodeValue, title.CodingSchemeDesignator) == ("111400", "DCM")
    (source,) = ds.SourceInstanceSequence
    assert source.ReferencedSOPClassUID == ComprehensiveSRStorage
    assert source.ReferencedSOPInstanceUID == sr.SOPInstanceUID
    assert source.PurposeOfReferenceCodeSequence[0].CodeValue == "128225"
    assert ds.SeriesInstanceUID not in (sr.SeriesInstanceUID, ds.SOPInstanceUID)
    assert ds.ContentDate == "20261204"
    # Odd length: one NUL pad byte, the length without it (PS3.3 C.24.2, CP 1851).
    assert len(pdf) % 2 == 1
    assert ds.EncapsulatedDocument == pdf + b"\0"
    assert ds.EncapsulatedDocumentLength == len(pdf)
    # The same PDF of the same revision is the same instance; another PDF another one.
    assert encapsulated_pdf(pdf, sr).SOPInstanceUID == ds.SOPInstanceUID
    assert encapsulated_pdf(tiny_pdf("other"), sr).SOPInstanceUID != ds.SOPInstanceUID


@pytest.mark.parametrize("odd", [True, False])
def test_written_and_read_back_the_pdf_is_the_same_bytes(tmp_path: Path, odd: bool) -> None:
    pdf = tiny_pdf(odd=odd)
    path = tmp_path / "report.dcm"
    dcmwrite(path, encapsulated_pdf(pdf, signed_sr()), enforce_file_format=True)
    back = dcmread(path)
    assert back.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert len(back.EncapsulatedDocument) % 2 == 0
    assert pdf_bytes(back) == pdf


def test_dciodvfy_finds_no_error(tmp_path: Path) -> None:
    if shutil.which("dciodvfy") is None:
        pytest.skip("dciodvfy (dicom3tools) is not on PATH")
    path = tmp_path / "report.dcm"
    dcmwrite(path, encapsulated_pdf(tiny_pdf(), signed_sr()), enforce_file_format=True)
    check = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, check=False)
    said = (check.stdout + check.stderr).splitlines()
    assert said[0] == "EncapsulatedPDF"  # the IOD it was checked against
    assert [line for line in said if "Error" in line or "Warning" in line] == []


def test_dcmtk_extracts_the_same_bytes(tmp_path: Path) -> None:
    if shutil.which("dcm2pdf") is None:
        pytest.skip("dcm2pdf (DCMTK) is not on PATH")
    pdf = tiny_pdf()
    path = tmp_path / "report.dcm"
    dcmwrite(path, encapsulated_pdf(pdf, signed_sr()), enforce_file_format=True)
    out = tmp_path / "out.pdf"
    subprocess.run(["dcm2pdf", str(path), str(out)], check=True, capture_output=True)
    assert out.read_bytes() == pdf


def test_what_is_not_a_pdf_or_has_no_sr_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a PDF"):
        encapsulated_pdf(b"<html>", signed_sr())
    with pytest.raises(ValueError, match="no SOP Class"):
        encapsulated_pdf(tiny_pdf(), Dataset())
    with pytest.raises(ValueError, match="no Encapsulated Document"):
        pdf_bytes(Dataset())
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(tiny_pdf())
    with pytest.raises(ValueError, match=r"exactly one sidecar .* none was given"):
        pdf_instance([tmp_path / "image.dcm"], pdf)
    with pytest.raises(ValueError, match="2 were given"):
        pdf_instance([signed_sr(), sample_sr()], pdf)
    with pytest.raises(ValueError, match="cannot be read"):
        pdf_instance([signed_sr()], tmp_path / "missing.pdf")
    made = pdf_instance([signed_sr()], pdf)
    assert pdf_bytes(made) == tiny_pdf()
