"""A signed report and its PDF reach the real Orthanc: ``pacs store --with-pdf``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from dicomweb_client.api import DICOMwebClient
from pydicom.dataset import Dataset
from pydicom.uid import ComprehensiveSRStorage, EncapsulatedPDFStorage

from galactoview import cli
from galactoview.pacs.encapsulated_pdf import pdf_bytes
from galactoview.sr import sidecar
from galactoview.sr.signing import sign
from galactoview.sr.sr_codec import to_json
from tests.pacs.orthanc import OrthancServer
from tests.pacs.sample import revise, sample_sr
from tests.pacs.test_encapsulated_pdf import SIGNATURE, tiny_pdf


def signed_sidecar(folder: Path) -> tuple[Path, Dataset]:
    """Write a new signed revision of the sample's marks as a sidecar; return it and its SR."""
    sr = revise(sample_sr(), "signed", dt.datetime(2026, 12, 4, 18, 30, tzinfo=dt.UTC))
    sign(sr, SIGNATURE)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / sidecar.sidecar_name(str(sr.StudyInstanceUID))
    path.write_text(to_json(sr), encoding="utf-8")
    return path, sr


def on_pacs(url: str, study: str) -> dict[str, tuple[str, str]]:
    """SOP Instance UID -> (SOP Class UID, Series Instance UID) of the study's instances."""
    found = DICOMwebClient(url).search_for_instances(study)
    return {
        item["00080018"]["Value"][0]: (item["00080016"]["Value"][0], item["0020000E"]["Value"][0])
        for item in found
    }


def test_pacs_store_with_pdf_sends_the_signed_sr_and_the_pdf_once(
    orthanc: OrthancServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orthanc.clear()
    url = orthanc.dicomweb_url
    path, sr = signed_sidecar(tmp_path / "study")
    pdf = tiny_pdf("Signed by Lindqvist")
    report = tmp_path / "report.pdf"
    report.write_bytes(pdf)

    assert cli.main(["pacs", "store", "--url", url, str(path), "--with-pdf", str(report)]) == 0
    assert capsys.readouterr().out.strip() == f"{url}: 2 stored, 0 already there, 0 failed"

    study = str(sr.StudyInstanceUID)
    instances = on_pacs(url, study)
    assert len(instances) == 2
    assert instances[str(sr.SOPInstanceUID)][0] == ComprehensiveSRStorage
    ((pdf_uid, (_, series_uid)),) = [
        (uid, found) for uid, found in instances.items() if found[0] == EncapsulatedPDFStorage
    ]
    back = DICOMwebClient(url).retrieve_instance(study, series_uid, pdf_uid)
    assert pdf_bytes(back) == pdf
    assert back.SourceInstanceSequence[0].ReferencedSOPInstanceUID == sr.SOPInstanceUID
    assert back.VerificationFlag == "VERIFIED"

    # Again: the same PDF of the same revision is the same instance, already there.
    assert cli.main(["pacs", "store", "--url", url, str(path), "--with-pdf", str(report)]) == 0
    assert capsys.readouterr().out.strip() == f"{url}: 0 stored, 2 already there, 0 failed"
    assert orthanc.instance_count() == 2


def test_pacs_store_with_pdf_by_c_store(
    orthanc: OrthancServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orthanc.clear()
    path, sr = signed_sidecar(tmp_path / "study")
    pdf = tiny_pdf(odd=False)
    report = tmp_path / "report.pdf"
    report.write_bytes(pdf)
    node = orthanc.dimse_address
    code = cli.main(["pacs", "store", "--dimse", node, str(path), "--with-pdf", str(report)])
    assert code == 0
    assert capsys.readouterr().out.strip() == f"{node}: 2 stored, 0 already there, 0 failed"
    instances = on_pacs(orthanc.dicomweb_url, str(sr.StudyInstanceUID))
    assert sorted(found[0] for found in instances.values()) == sorted(
        [ComprehensiveSRStorage, EncapsulatedPDFStorage]
    )


def test_with_pdf_needs_one_sidecar_and_a_pdf(
    orthanc: OrthancServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orthanc.clear()
    path, _sr = signed_sidecar(tmp_path / "study")
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"not a pdf")
    url = orthanc.dicomweb_url
    assert cli.main(["pacs", "store", "--url", url, str(path), "--with-pdf", str(junk)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"{junk}: not stored: not a PDF (it does not start with '%PDF-')"
    )
    report = tmp_path / "report.pdf"
    report.write_bytes(tiny_pdf())
    image = tmp_path / "image.dcm"
    image.write_bytes(b"junk")
    assert cli.main(["pacs", "store", "--url", url, str(image), "--with-pdf", str(report)]) == 1
    assert "needs exactly one sidecar" in capsys.readouterr().err
    assert orthanc.instance_count() == 0  # nothing sent
