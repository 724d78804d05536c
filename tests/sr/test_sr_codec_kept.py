"""What the SR codec cannot read is kept and written back; it raises nothing but SRDecodeError."""

from __future__ import annotations

import copy
import json
import struct
from pathlib import Path
from typing import Any

import pytest
from pydicom.dataset import Dataset
from pydicom.errors import BytesLengthException

from galactoview.paths import sample_dicom_dir
from galactoview.sr import sr_codec
from galactoview.sr.persistence import open_annotations, save_annotations
from galactoview.sr.sr_codec import (
    NotAMeasurementReportError,
    SRDecodeError,
    decode,
    encode,
    from_json,
    to_json,
)
from tests.helpers import sample_headers
from tests.sr.third_party import unmarked_ductogram

DUCTOGRAM = "20260312_DUCTOGRAM_L"
IMAGING_MEASUREMENTS = "126010"


@pytest.fixture(scope="module")
def sample_text() -> str:
    """The committed sidecar of the sample ductogram (DICOM JSON)."""
    found = sorted((sample_dicom_dir() / DUCTOGRAM).glob("galactoview-*.sr.json"))
    if not found:
        pytest.skip("the sample study has no sidecar")
    return found[0].read_text("utf-8")


@pytest.fixture(scope="module")
def headers() -> list[Dataset]:
    return list(sample_headers().values())


def groups_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The measurement groups of a DICOM JSON SR document (the list itself, not a copy)."""
    for item in document["0040A730"]["Value"]:
        if item["0040A043"]["Value"][0]["00080100"]["Value"] == [IMAGING_MEASUREMENTS]:
            groups: list[dict[str, Any]] = item["0040A730"]["Value"]
            return groups
    raise AssertionError("no Imaging Measurements container")


def child(group: dict[str, Any], value_type: str) -> dict[str, Any]:
    return next(c for c in group["0040A730"]["Value"] if c["0040A040"]["Value"] == [value_type])


def corrupt(text: str, index: int, damage: str) -> tuple[str, dict[str, Any]]:
    """Return the SR with group ``index`` made unreadable, and that group's JSON."""
    document = json.loads(text)
    group = groups_of(document)[index]
    scoord = child(group, "SCOORD")
    if damage == "huge coordinate":
        scoord["00700022"]["Value"][0] = 1e308  # beyond FL: +inf once read
    elif damage == "bad graphic type":
        scoord["00700023"]["Value"] = ["BOGUS"]
    else:  # the image reference is gone
        del scoord["0040A730"]
    return json.dumps(document), copy.deepcopy(group)


def canonical(value: dict[str, Any]) -> str:
    """JSON as :func:`sr_codec.to_json` writes it (sorted keys, UTF-8)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


@pytest.mark.parametrize("damage", ["huge coordinate", "bad graphic type", "no image"])
def test_a_skipped_group_is_written_back_byte_equal(
    damage: str, sample_text: str, headers: list[Dataset]
) -> None:
    original = decode(from_json(sample_text))
    text, broken = corrupt(sample_text, 0, damage)
    result = decode(from_json(text))
    assert len(result.problems) == 1
    assert result.problems[0].startswith("measurement group 1 skipped: ")
    assert result.annotations.unreadable_groups == (canonical(broken),)
    fd = result.annotations.findings[0]
    assert fd.short_id == "FD-1"
    assert len(fd.regions) == len(original.annotations.findings[0].regions) - 1

    saved = to_json(encode(result.annotations, headers, locations=result.locations))
    assert canonical(broken) in saved  # byte-equal
    assert groups_of(json.loads(saved)).count(broken) == 1

    again = decode(from_json(saved))  # stable: still skipped, still kept, nothing else lost
    (problem,) = again.problems  # the kept group now comes after the readable ones
    assert problem.split(" skipped: ")[1] == result.problems[0].split(" skipped: ")[1]
    assert again.annotations.unreadable_groups == result.annotations.unreadable_groups
    assert again.annotations.findings == result.annotations.findings
    assert again.annotations.landmarks == result.annotations.landmarks


def test_a_save_through_the_sidecar_keeps_the_skipped_group(
    sample_text: str, headers: list[Dataset], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    study = tmp_path / "study"
    unmarked_ductogram(study)
    text, broken = corrupt(sample_text, 1, "huge coordinate")
    name = next((sample_dicom_dir() / DUCTOGRAM).glob("galactoview-*.sr.json")).name
    (study / name).write_text(text, encoding="utf-8")
    uid = json.loads(text)["0020000D"]["Value"][0]

    opened = open_annotations(uid, sorted(study.glob("*.dcm")))
    assert any("measurement group 2 skipped" in line for line in opened.problems)
    annotations = opened.annotations.without_finding(opened.annotations.findings[-1].tracking_uid)
    save_annotations(annotations, headers, opened.target, opened.locations)

    saved = (study / name).read_text("utf-8")
    assert canonical(broken) in saved
    reopened = open_annotations(uid, sorted(study.glob("*.dcm")))
    assert reopened.annotations.unreadable_groups == (canonical(broken),)
    assert len(reopened.annotations.findings) == len(opened.annotations.findings) - 1


def test_an_ordinary_sr_keeps_nothing(sample_text: str) -> None:
    assert decode(from_json(sample_text)).annotations.unreadable_groups == ()


RAISED = [
    MemoryError(),
    RecursionError("maximum recursion depth exceeded"),
    NotImplementedError("Unknown Value Representation 'XX' in tag (0020,000D)"),
    BytesLengthException("Expected total bytes to be an even multiple"),
    struct.error("unpack requires a buffer of 8 bytes"),
    EOFError("unexpected end of file"),
    UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
    KeyError("vr"),
    OverflowError("int too large"),
]


@pytest.mark.parametrize("error", RAISED, ids=lambda e: type(e).__name__)
def test_decode_raises_only_sr_decode_error(
    error: Exception, sample_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = from_json(sample_text)

    def fail(*_args: object) -> None:
        raise error

    monkeypatch.setattr(sr_codec, "_measurement_groups", fail)
    with pytest.raises(SRDecodeError) as raised:
        decode(dataset)
    assert isinstance(raised.value, ValueError)
    message = str(raised.value)
    assert "\n" not in message
    if isinstance(error, RecursionError):
        assert "nested too deeply" in message
    elif isinstance(error, MemoryError):
        assert "too large" in message
    else:
        assert type(error).__name__ in message


@pytest.mark.parametrize("error", RAISED, ids=lambda e: type(e).__name__)
def test_from_json_raises_only_sr_decode_error(
    error: Exception, sample_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_args: object) -> None:
        raise error

    monkeypatch.setattr(sr_codec, "_dataset_from_json", fail)
    with pytest.raises(SRDecodeError):
        from_json(sample_text)


@pytest.mark.parametrize(
    "text",
    [
        b"\xff{",
        "[]",
        "{",
        '{"00080016": ' + "[" * 50_000 + "]" * 50_000 + "}",
        '{"00080016": {"Value": ["1.2"]}}',  # no "vr"
        '{"zz": {"vr": "UI"}}',
        '{"00700022": {"vr": "FL", "Value": ["text"]}}',
    ],
    ids=["not utf-8", "array", "cut", "deep", "no vr", "bad tag", "bad number"],
)
def test_from_json_of_bad_text_is_a_value_error(text: str | bytes) -> None:
    with pytest.raises(SRDecodeError):
        from_json(text)


@pytest.mark.filterwarnings("ignore:Invalid value for VR UI")
def test_decode_refuses_other_documents(sample_text: str) -> None:
    dataset = from_json(sample_text)
    other = copy.deepcopy(dataset)
    other.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.59"
    with pytest.raises(SRDecodeError, match="Key Object Selection"):
        decode(other)
    other = copy.deepcopy(dataset)
    other.ConceptNameCodeSequence[0].CodeValue = "18748-4"
    with pytest.raises(
        NotAMeasurementReportError,
        match=r"^is a Comprehensive SR titled 'Imaging Measurement Report' \(18748-4, DCM\), "
        r"not a measurement report \(TID 1500\)$",
    ):
        decode(other)
    other = copy.deepcopy(dataset)
    del other.ConceptNameCodeSequence
    with pytest.raises(NotAMeasurementReportError, match="without a document title"):
        decode(other)
    other = copy.deepcopy(dataset)
    other.StudyInstanceUID = "../../.."
    with pytest.raises(SRDecodeError, match="Study Instance UID"):
        decode(other)
