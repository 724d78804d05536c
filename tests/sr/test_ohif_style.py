"""dcmjs/OHIF TID 1500 SRs (SCOORD under a TID 300 NUM) decode to placed marks (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from pydicom.sr.coding import Code

from galactoview import cli
from galactoview.annotations import codes
from galactoview.annotations.model import AnnotationSet, Finding, FindingType, GraphicType
from galactoview.location import codes as location_codes
from galactoview.sr import sidecar
from galactoview.sr.sr_codec import decode, from_json
from tests.helpers import sample_headers
from tests.sr.ohif_style import (
    ARROW_TEXT,
    BIDIRECTIONAL_FINDING,
    LEGACY,
    MARKS,
    Mark,
    ohif_report,
)
from tests.sr.third_party import save, unmarked_ductogram

#: Our graphic type of each dcmjs tool's region.
EXPECTED_TYPES = {
    "Length": GraphicType.POLYLINE,
    "Bidirectional": GraphicType.POLYLINE,
    "ArrowAnnotate": GraphicType.POINT,
    "EllipticalROI": GraphicType.ELLIPSE,
    "CircleROI": GraphicType.CIRCLE,
    "PlanarFreehandROI": GraphicType.POLYLINE,
    "RectangleROI": GraphicType.POLYLINE,
    "Probe": GraphicType.POINT,
}
SCOORD3D_LINE = "measurement group 10 skipped: SCOORD3D region not placed (3-D coordinates)"


def expected_points(mark: Mark) -> list[tuple[tuple[float, float], ...]]:
    if EXPECTED_TYPES[mark.tool] is GraphicType.POINT:
        return [line[:1] for line in mark.lines]
    return list(mark.lines)


def check_marks(annotations: AnnotationSet) -> None:
    """Assert every mark of :data:`MARKS` is a finding on its image, in group order."""
    headers = sample_headers()
    assert len(annotations.findings) == len(MARKS)
    for mark, finding in zip(MARKS, annotations.findings, strict=True):
        uid = str(headers[mark.image].SOPInstanceUID)
        assert [r.sop_instance_uid for r in finding.regions] == [uid] * len(mark.lines), mark
        assert [r.frame for r in finding.regions] == [None] * len(mark.lines)
        assert [r.graphic_type for r in finding.regions] == [EXPECTED_TYPES[mark.tool]] * len(
            mark.lines
        ), mark
        assert [r.points for r in finding.regions] == expected_points(mark), mark


@pytest.fixture(scope="module")
def report() -> Dataset:
    return ohif_report()


def test_every_dcmjs_tool_is_placed_on_its_image(report: Dataset) -> None:
    result = decode(report)
    check_marks(result.annotations)
    assert {m.tool for m in MARKS} == set(EXPECTED_TYPES)  # all 8 tool kinds
    assert MARKS[-1].prefix == LEGACY  # and the older adapter's Length


def test_closed_shapes_stay_closed(report: Dataset) -> None:
    findings = decode(report).annotations.findings
    by_tool = {m.tool: f for m, f in zip(MARKS, findings, strict=True) if m.prefix != LEGACY}
    assert by_tool["PlanarFreehandROI"].regions[0].is_closed
    assert by_tool["RectangleROI"].regions[0].is_closed
    assert not by_tool["Length"].regions[0].is_closed


def test_findings_keep_our_codes_and_text(report: Dataset) -> None:
    findings = decode(report).annotations.findings
    by_tool: dict[str, Finding] = {
        m.tool: f for m, f in zip(MARKS, findings, strict=True) if m.prefix != LEGACY
    }
    bidirectional = by_tool["Bidirectional"]
    assert bidirectional.finding_type is BIDIRECTIONAL_FINDING
    assert [(m.name.meaning, m.value, m.region_index) for m in bidirectional.measurements] == [
        ("Long Axis", 141.4, 0),
        ("Short Axis", 56.6, 1),
    ]
    arrow = by_tool["ArrowAnnotate"]
    assert arrow.finding_type is FindingType.OTHER
    assert arrow.other_text == ARROW_TEXT  # the foreign Finding's meaning, as before
    assert arrow.note == ARROW_TEXT
    assert arrow.measurements == ()  # the "label" NUM (0, no units) is no measurement
    assert by_tool["Probe"].measurements == ()
    assert by_tool["PlanarFreehandROI"].measurements == ()  # the adapter's 0 perimeter/area
    length = by_tool["Length"]
    assert length.finding_type is FindingType.OTHER
    assert length.other_text == "Length (OHIF measurement)"  # no Finding: the tool's name
    assert [(m.name.meaning, m.value, m.unit.value) for m in length.measurements] == [
        ("Length", 141.4, "mm")
    ]
    assert [m.name.meaning for m in by_tool["CircleROI"].measurements] == [
        "Area",
        "Radius",
        "Mean",
    ]
    # The tracking identifiers name the tool, not the mark: our short ids instead.
    assert [f.short_id for f in findings] == [
        "OT-1",
        "FD-1",
        "OT-2",
        "OT-3",
        "OT-4",
        "OT-5",
        "OT-6",
        "OT-7",
        "OT-8",
    ]


def test_scoord3d_region_is_listed_not_placed(report: Dataset) -> None:
    result = decode(report)
    assert result.problems == (SCOORD3D_LINE,)
    (kept,) = result.annotations.unreadable_groups
    assert "SCOORD3D" in kept


def test_scoord3d_beside_a_placed_region_is_listed() -> None:
    ds = ohif_report()
    groups = ds.ContentSequence[-1].ContentSequence
    length_3d = groups[-1].ContentSequence[-1]
    groups[0].ContentSequence.append(length_3d)  # the 2-D Length gets a 3-D one too
    del groups[-1]
    result = decode(ds)
    assert result.problems == ("measurement group 1: SCOORD3D region not placed (3-D coordinates)",)
    check_marks(result.annotations)


def test_open_rectangle_is_closed() -> None:
    """The older adapter's RectangleRoi: its 4 corners, not closed (dcmjs 8266ad6)."""
    ds = ohif_report()
    index = next(i for i, m in enumerate(MARKS) if m.tool == "RectangleROI")
    group = ds.ContentSequence[-1].ContentSequence[index]
    group.ContentSequence[0].TextValue = f"{LEGACY}:RectangleRoi"
    num = next(i for i in group.ContentSequence if i.ValueType == "NUM")
    num.ContentSequence[0].GraphicData = num.ContentSequence[0].GraphicData[:-2]
    (region,) = decode(ds).annotations.findings[index].regions
    assert region.points == MARKS[index].lines[0]


def test_cli_import_writes_the_marks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    study = tmp_path / "study"
    unmarked_ductogram(study)
    report = ohif_report()
    source = save(report, tmp_path / "in" / "ohif.dcm")
    capsys.readouterr()
    assert cli.main(["sr", "import", str(source), str(study)]) == 0
    captured = capsys.readouterr()
    written = study / sidecar.sidecar_name(str(report.StudyInstanceUID))
    assert captured.out.strip() == str(written)
    assert SCOORD3D_LINE in captured.err
    stored = decode(from_json(written.read_text("utf-8")))
    check_marks(stored.annotations)
    assert len(stored.annotations.unreadable_groups) == 1  # the 3-D Length, kept verbatim


def test_nipple_and_chest_wall_under_a_num_are_landmarks() -> None:
    """A dcmjs Probe with Finding "Nipple" and a Length with "Chest wall" (TID 1501/300)."""
    ds = ohif_report()
    groups = ds.ContentSequence[-1].ContentSequence
    probe = next(i for i, m in enumerate(MARKS) if m.tool == "Probe")
    length = next(i for i, m in enumerate(MARKS) if m.tool == "Length" and m.prefix != LEGACY)
    for index, code in ((probe, codes.NIPPLE), (length, location_codes.CHEST_WALL)):
        finding = Dataset()
        finding.RelationshipType, finding.ValueType = "CONTAINS", "CODE"
        finding.ConceptNameCodeSequence = [_concept(codes.FINDING)]
        finding.ConceptCodeSequence = [_concept(code)]
        groups[index].ContentSequence.insert(2, finding)
    result = decode(ds)
    headers = sample_headers()
    probe_mark, length_mark = MARKS[probe], MARKS[length]
    (landmark,) = result.annotations.landmarks
    assert landmark.sop_instance_uid == str(headers[probe_mark.image].SOPInstanceUID)
    assert landmark.point == probe_mark.lines[0][0]
    wall = result.chest_walls[str(headers[length_mark.image].SOPInstanceUID)]
    assert (wall.start, wall.end) == length_mark.lines[0]
    assert len(result.annotations.findings) == len(MARKS) - 2


def _concept(code: Code) -> Dataset:
    item = Dataset()
    item.CodeValue = code.value
    item.CodingSchemeDesignator = code.scheme_designator
    item.CodeMeaning = code.meaning
    return item
