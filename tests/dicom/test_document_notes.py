"""SR-family documents that cannot hold marks (KOS, dose SR) get a calm note from the scan."""

from __future__ import annotations

from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from galactoview.dicom.loading import LoadProblem, record_from_header, scan
from galactoview.dicom.source import FileSource
from tests.helpers import STUDY_UID, write_dataset, write_mg

#: X-Ray Radiation Dose SR Storage (PS3.4 B.5); Key Object Selection Document Storage.
DOSE_SR = UID("1.2.840.10008.5.1.4.1.1.88.67")
KOS = UID("1.2.840.10008.5.1.4.1.1.88.59")


def _document(sop_class: UID) -> Dataset:
    """Return a header-only SR-family document of the test study (no content needed)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID = STUDY_UID
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "KO" if sop_class == KOS else "SR"
    return ds


def test_kos_and_dose_sr_beside_images_are_notes_not_problems(tmp_path: Path) -> None:
    write_mg(tmp_path / "cc.dcm")
    write_dataset(_document(KOS), tmp_path / "kos.dcm")
    write_dataset(_document(DOSE_SR), tmp_path / "dose.dcm")
    result = scan([tmp_path])
    assert [image.path.name for image in result.images] == ["cc.dcm"]
    assert result.reports == ()  # no marks can be in them: not given to the SR reader
    lines = sorted((p.path.name, p.message, p.note) for p in result.problems)
    assert lines == [
        ("dose.dcm", "X-Ray Radiation Dose SR document — not an image, not marks; ignored", True),
        ("kos.dcm", "Key Object Selection document — not an image, not marks; ignored", True),
    ]


def test_kos_header_from_a_pacs_is_the_same_note(tmp_path: Path) -> None:
    outcome = record_from_header(_document(KOS), FileSource(tmp_path / "kos.dcm"))
    assert isinstance(outcome, LoadProblem) and outcome.note
    assert str(outcome) == (
        f"{tmp_path / 'kos.dcm'}: Key Object Selection document — not an image, not marks; ignored"
    )


def test_an_unreadable_image_is_still_a_problem(tmp_path: Path) -> None:
    (tmp_path / "broken.dcm").write_bytes(b"\0" * 200)
    problems = scan([tmp_path]).problems
    assert [p.note for p in problems] == [False]
