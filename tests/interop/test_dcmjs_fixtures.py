"""SRs written by dcmjs's Cornerstone3D adapter (what OHIF stores) place every mark (issue 13).

The fixtures in ``tests/interop/node/fixtures`` were written by ``generate.mjs`` with
``MeasurementReport.generateReport`` of @cornerstonejs/adapters (versions in ``marks.json``
and ``package-lock.json``): 16 marks of the 8 tool kinds on the bundled sample ductogram, one
SR per tool and one with all of them. ``marks.json`` holds the tool states the generator
used; from them and the adapter's SCOORD conventions (``expected_regions``) we know where
each mark must land. These tests need no node; ``test_dcmjs_rehydrates_its_own_fixtures``
(which does) checks that the fixtures are what the adapter reads back.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread

from galactoview import cli
from galactoview.annotations.model import Finding, FindingType, GraphicType
from galactoview.dicom.mammography import Laterality
from galactoview.paths import sample_dicom_dir
from galactoview.report.content import load_report
from galactoview.sr import sidecar
from galactoview.sr.sr_codec import decode, from_json
from tests.helpers import sample_headers
from tests.interop.dcmjs import FIXTURES, read_sr
from tests.sr.third_party import DUCTOGRAM, unmarked_ductogram

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Mark:
    """One tool state of marks.json: the tool, its image and handles (image coordinates)."""

    id: str
    tool: str
    image: str
    sop_instance_uid: str
    points: tuple[Point, ...]
    text: str | None
    closed: bool | None
    finding: tuple[str, str] | None  # (CodeValue, CodingSchemeDesignator)


@cache
def description() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / "marks.json").read_text("utf-8"))
    return loaded


@cache
def marks() -> tuple[Mark, ...]:
    return tuple(
        Mark(
            m["id"],
            m["tool"],
            m["image"],
            m["sop_instance_uid"],
            tuple((float(x), float(y)) for x, y in m["points"]),
            m.get("text"),
            m.get("closed"),
            (m["finding"]["CodeValue"], m["finding"]["CodingSchemeDesignator"])
            if "finding" in m
            else None,
        )
        for m in description()["marks"]
    )


def _length(a: Point, b: Point) -> float:
    return float(((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5)


def expected_regions(mark: Mark) -> list[tuple[GraphicType, tuple[Point, ...]]]:
    """Where the adapter's SCOORDs put a tool state, as our regions (type, points).

    Length: the two ends; Probe: the point; ArrowAnnotate: the head (a POINT: the adapter
    writes head and tail as a POLYLINE, the tail only places the text); CircleROI: centre and
    edge; EllipticalROI: the longer axis' ends, then the shorter's; RectangleROI: the corners
    round the rectangle, closed; PlanarFreehandROI: the contour, its first point repeated when
    closed; Bidirectional: the long axis, then the short axis (two regions).
    """
    p = mark.points
    if mark.tool == "Length":
        return [(GraphicType.POLYLINE, p)]
    if mark.tool in {"Probe", "ArrowAnnotate"}:
        return [(GraphicType.POINT, p[:1])]
    if mark.tool == "CircleROI":
        return [(GraphicType.CIRCLE, p)]
    if mark.tool == "EllipticalROI":
        top, bottom, left, right = p
        axes = (top, bottom, left, right)
        if _length(top, bottom) <= _length(left, right):
            axes = (left, right, top, bottom)
        return [(GraphicType.ELLIPSE, axes)]
    if mark.tool == "RectangleROI":
        top_left, top_right, bottom_left, bottom_right = p
        corners = (top_left, top_right, bottom_right, bottom_left, top_left)
        return [(GraphicType.POLYLINE, corners)]
    if mark.tool == "PlanarFreehandROI":
        return [(GraphicType.POLYLINE, p + p[:1] if mark.closed else p)]
    assert mark.tool == "Bidirectional", mark
    long_axis, short_axis = p[:2], p[2:]
    if _length(*long_axis) < _length(*short_axis):
        long_axis, short_axis = short_axis, long_axis
    return [(GraphicType.POLYLINE, long_axis), (GraphicType.POLYLINE, short_axis)]


def rounded(points: tuple[tuple[float, ...], ...]) -> tuple[Point, ...]:
    """Points to 0.001 px: dcmjs maps world (mm) to image points in float32 (Graphic Data FL)."""
    return tuple((round(p[0], 3), round(p[1], 3)) for p in points)


def placed(finding: Finding) -> tuple[str, tuple[tuple[GraphicType, tuple[Point, ...]], ...]]:
    (image,) = {r.sop_instance_uid for r in finding.regions}
    assert {r.frame for r in finding.regions} == {None}
    return image, tuple((r.graphic_type, rounded(r.points)) for r in finding.regions)


def check_findings(findings: tuple[Finding, ...], wanted: tuple[Mark, ...]) -> None:
    """Every mark is exactly one finding on its image with its regions; nothing else."""
    by_placement: dict[Any, Finding] = {}
    for finding in findings:
        key = placed(finding)
        assert key not in by_placement, f"two findings placed alike: {key}"
        by_placement[key] = finding
    expected = {(m.sop_instance_uid, tuple(expected_regions(m))): m for m in wanted}  # one per mark
    assert len(expected) == len(wanted)
    assert set(by_placement) == set(expected)
    for key, mark in expected.items():
        finding = by_placement[key]
        if mark.tool == "ArrowAnnotate":
            assert finding.note == mark.text, mark.id
        if mark.tool in {"RectangleROI"} or (mark.tool == "PlanarFreehandROI" and mark.closed):
            assert finding.regions[0].is_closed, mark.id
        if mark.tool in {"Length", "PlanarFreehandROI"} and not mark.closed:
            assert not finding.regions[0].is_closed, mark.id
        if mark.finding is not None:
            code = finding.finding_type.code
            assert (code.value, code.scheme_designator) == mark.finding, mark.id


def fixture_files() -> list[str]:
    return sorted(description()["files"])


def test_the_fixtures_hold_16_marks_of_the_8_tools_on_the_sample_images() -> None:
    headers = sample_headers()
    assert len(marks()) >= 16
    assert {m.tool for m in marks()} == {
        "Length",
        "Probe",
        "EllipticalROI",
        "CircleROI",
        "RectangleROI",
        "ArrowAnnotate",
        "PlanarFreehandROI",
        "Bidirectional",
    }
    assert all(m.text for m in marks() if m.tool == "ArrowAnnotate")
    for mark in marks():
        assert str(headers[mark.image].SOPInstanceUID) == mark.sop_instance_uid
    for name in fixture_files():
        ds = dcmread(FIXTURES / name)
        assert str(ds.StudyInstanceUID) == str(headers[marks()[0].image].StudyInstanceUID)
        assert (FIXTURES / name).stat().st_size < 40_000  # small fixtures


@pytest.mark.parametrize("name", fixture_files())
def test_decode_places_every_dcmjs_mark_on_its_image(name: str) -> None:
    wanted = tuple(m for m in marks() if m.id in description()["files"][name]["marks"])
    result = decode(dcmread(FIXTURES / name))
    assert result.problems == ()
    assert result.annotations.unreadable_groups == ()
    check_findings(result.annotations.findings, wanted)


def test_all_16_marks_in_one_sr() -> None:
    result = decode(dcmread(FIXTURES / "all_tools.dcm"))
    assert len(result.annotations.findings) == len(marks()) == 16
    check_findings(result.annotations.findings, marks())
    bidirectional = [f for f in result.annotations.findings if len(f.regions) == 2]
    assert len(bidirectional) == 2
    assert {f.finding_type for f in bidirectional} == {
        FindingType.INTRALUMINAL_FILLING_DEFECT,
        FindingType.OTHER,
    }


def test_cli_import_stores_every_mark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    study = tmp_path / "study"
    unmarked_ductogram(study)
    source = tmp_path / "in" / "all_tools.dcm"
    source.parent.mkdir()
    shutil.copyfile(FIXTURES / "all_tools.dcm", source)
    capsys.readouterr()
    assert cli.main(["sr", "import", str(source), str(study)]) == 0
    captured = capsys.readouterr()
    study_uid = str(dcmread(source, stop_before_pixels=True).StudyInstanceUID)
    written = study / sidecar.sidecar_name(study_uid)
    assert captured.out.strip() == str(written)
    assert captured.err == ""
    stored = decode(from_json(written.read_text("utf-8")))
    check_findings(stored.annotations.findings, marks())
    # No finding site in dcmjs's groups: `sr show` takes the (left) images' side, as the
    # viewer and the report do.
    assert {f.laterality for f in stored.annotations.findings} == {Laterality.UNKNOWN}
    for target in (study, written):
        assert cli.main(["sr", "show", "--json", str(target)]) == 0
        shown = json.loads(capsys.readouterr().out)
        document = shown[0] if isinstance(shown, list) else shown
        assert {f["laterality"] for f in document["findings"]} == {"L"}
    loaded = load_report([study], dt.date(2026, 12, 4))
    (report,) = loaded.content.studies
    assert len(report.rows) == 16
    assert {row.side for row in report.rows} == {"Left"}


def rehydrated_points(mark: Mark) -> tuple[Point, ...]:
    """The handles the adapter gives back: the tool's, but an ellipse's longer axis first."""
    if mark.tool == "EllipticalROI":
        return expected_regions(mark)[0][1]
    return mark.points


@pytest.mark.parametrize("name", fixture_files())
def test_dcmjs_rehydrates_its_own_fixtures(name: str) -> None:
    """The adapter reads its fixtures back to the tool states: they are what dcmjs writes."""
    wanted = [m for m in marks() if m.id in description()["files"][name]["marks"]]
    reading = read_sr(FIXTURES / name)
    assert reading.rehydrate_error is None
    got = sorted(
        (r.tool, r.sop_instance_uid, r.frame, rounded(r.points)) for r in reading.rehydrated
    )
    assert got == sorted((m.tool, m.sop_instance_uid, 1, rehydrated_points(m)) for m in wanted)
    assert sorted(r.label or "" for r in reading.rehydrated if r.tool == "ArrowAnnotate") == sorted(
        m.text or "" for m in wanted if m.tool == "ArrowAnnotate"
    )
    # OHIF draws every mark on its image: one measurement per tool state.
    assert reading.skipped == ()
    assert sorted(m.sop_instance_uid for m in reading.drawn) == sorted(
        m.sop_instance_uid for m in wanted
    )


def test_report_and_sr_show_read_an_sr_beside_the_images_as_the_viewer_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No sidecar, OHIF's SR beside the images: the same 16 marks everywhere (left side)."""
    study = tmp_path / "study"
    unmarked_ductogram(study)
    shutil.copyfile(FIXTURES / "all_tools.dcm", study / "ohif.dcm")
    capsys.readouterr()
    assert cli.main(["sr", "show", "--json", str(study)]) == 0
    (document,) = json.loads(capsys.readouterr().out)
    assert document["sidecar"] == str(study / "ohif.dcm")
    assert len(document["findings"]) == 16
    (report,) = load_report([study], dt.date(2026, 12, 4)).content.studies
    assert len(report.rows) == 16
    assert {row.side for row in report.rows} == {"Left"}
    assert sorted(study.iterdir()) == sorted(
        [
            *(study / p.name for p in (sample_dicom_dir() / DUCTOGRAM).glob("*.dcm")),
            study / "ohif.dcm",
        ]
    )  # nothing written
