"""What :func:`sr_codec.describe_document` says of SRs that are not TID 1500 (issue 13)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydicom.dataset import Dataset

from galactoview.sr.sr_codec import (
    NotAMeasurementReportError,
    check_measurement_report,
    decode,
    describe_document,
)
from tests.sr import third_party

DESCRIBED: dict[str, tuple[Callable[[], Dataset], str]] = {
    "kos": (third_party.key_object_selection, "a Key Object Selection document"),
    "basic text": (third_party.basic_text_sr, "a Basic Text SR"),
    "title": (
        third_party.other_title,
        "a Comprehensive SR titled 'Diagnostic Imaging Report' (18748-4, LN)",
    ),
    "enhanced title": (
        lambda: third_party.other_title(enhanced=True),
        "an Enhanced SR titled 'Diagnostic Imaging Report' (18748-4, LN)",
    ),
    "template": (third_party.other_template, "a Comprehensive SR of template TID 2000"),
}


@pytest.mark.parametrize("case", sorted(DESCRIBED))
def test_what_is_not_a_measurement_report_is_named(case: str) -> None:
    make, what = DESCRIBED[case]
    dataset = make()
    assert describe_document(dataset) == what
    with pytest.raises(NotAMeasurementReportError) as raised:
        decode(dataset)
    assert str(raised.value) == f"is {what}, not a measurement report (TID 1500)"


def test_a_tid_1500_template_or_none_is_accepted() -> None:
    report = third_party.sample_report()
    assert describe_document(report) is None
    template = Dataset()
    template.MappingResource, template.TemplateIdentifier = "DCMR", "1500"
    report.ContentTemplateSequence = [template]
    check_measurement_report(report)  # does not raise
    assert len(decode(report).annotations.findings) == 3
    template.MappingResource = "99LOCAL"  # another mapping resource's "2000" is not DCMR's
    template.TemplateIdentifier = "2000"
    assert describe_document(report) is None


def test_marks_of_no_readable_mark_and_other_study_sr_decode_as_expected() -> None:
    broken = decode(third_party.no_readable_mark())
    assert broken.annotations.findings == ()
    assert broken.problems  # every group skipped, each said
    foreign = third_party.other_study()
    assert decode(foreign).annotations.study_instance_uid == str(foreign.StudyInstanceUID)
    assert foreign.StudyInstanceUID != third_party.sample_report().StudyInstanceUID
