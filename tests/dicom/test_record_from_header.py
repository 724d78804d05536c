"""record_from_header: an ImageRecord from a header that did not come from its file."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.uid import ComprehensiveSRStorage

from galactoview.dicom.loading import ImageRecord, LoadProblem, record_from_header, scan
from galactoview.dicom.source import FileSource
from tests.helpers import make_mg_dataset, write_dataset


def header_only(dataset: Dataset) -> Dataset:
    """The dataset as WADO-RS metadata gives it: DICOM JSON, no File Meta, no pixels."""
    del dataset.PixelData
    return Dataset.from_json(dataset.to_json_dict())


def test_the_record_is_the_one_the_file_gives_but_for_the_transfer_syntax(
    tmp_path: Path,
) -> None:
    dataset = make_mg_dataset(laterality="L", view="CC")
    path = write_dataset(copy.deepcopy(dataset), tmp_path / "a.dcm")
    (scanned,) = scan([path]).images
    record = record_from_header(header_only(dataset), FileSource(path))
    assert isinstance(record, ImageRecord)
    assert record.transfer_syntax_uid == ""
    assert record == dataclasses.replace(scanned, transfer_syntax_uid="")


def test_available_transfer_syntax_is_taken_when_given(tmp_path: Path) -> None:
    header = header_only(make_mg_dataset())
    header.AvailableTransferSyntaxUID = "1.2.840.10008.1.2.4.90"
    record = record_from_header(header, FileSource(tmp_path / "later.dcm"))
    assert isinstance(record, ImageRecord)
    assert record.transfer_syntax_uid == "1.2.840.10008.1.2.4.90"
    assert record.path == tmp_path / "later.dcm"


def test_a_report_or_a_header_without_rows_is_a_problem_line(tmp_path: Path) -> None:
    report = header_only(make_mg_dataset())
    report.SOPClassUID = ComprehensiveSRStorage
    outcome = record_from_header(report, FileSource(tmp_path / "sr.dcm"))
    assert isinstance(outcome, LoadProblem)
    assert (
        str(outcome) == f"{tmp_path / 'sr.dcm'}: not an image (Comprehensive SR Storage); skipped"
    )
    rowless = header_only(make_mg_dataset())
    del rowless.Rows
    outcome = record_from_header(rowless, FileSource(tmp_path / "x.dcm"))
    assert isinstance(outcome, LoadProblem)
    assert outcome.message == "missing required attribute Rows (0028,0010)"
