"""dcmjs reads our exported SR: OHIF draws every region of every finding (issue 13 item 4).

``tests/interop/node/read_sr.mjs`` reads the SR with dcmjs and applies OHIF's SR loader rules
(measurement groups merged by Tracking Unique Identifier, the first SCOORD of a merged group
drawn, the measurement placed on the image of its first coordinate). Every region of every
finding, every duct segment, nipple and chest-wall line must be drawn, on its image and frame,
with its points: the multiset of drawn (image, frame, graphic type, points) must equal ours.
Points are compared as float32, the VR of Graphic Data (FL).

Before issue 13 the encoder gave all region groups of a finding one Tracking Unique
Identifier, so OHIF merged them and drew only the first region (6 of the sample's 12); now
each region group has its own. Duct segments were not drawn either: OHIF reads a NUM's Content
Sequence as one item (dcmjs gives only single-item sequences the item's attributes), and the
"Path length" NUM held the calibration TEXT before its SCOORD; the label is now in the group.
"""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset

from galactoview import cli
from galactoview.annotations.model import AnnotationSet, ChestWallLine, GraphicType
from galactoview.sr.sr_codec import DecodeResult, decode, encode
from tests.interop.dcmjs import SRReading, read_sr
from tests.sr.test_sr_codec import (  # noqa: F401 (headers: a fixture)
    build,
    headers,
    sources,
    with_algorithm,
)
from tests.sr.third_party import sample_report_path, save

#: (image, frame, graphic type, points as float32) of one drawn or stored SCOORD.
Placed = tuple[str, int, str, tuple[tuple[float, ...], ...]]


def _f32(points: tuple[tuple[float, ...], ...]) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(np.float32(v)) for v in point) for point in points)


def ours(result: DecodeResult) -> Counter[Placed]:
    """Every SCOORD our SR holds: regions, duct segments, nipples, chest-wall lines."""
    annotations: AnnotationSet = result.annotations
    placed: Counter[Placed] = Counter()
    regions = [r for f in annotations.findings for r in f.regions]
    regions += [s.region for s in annotations.duct_segments]
    regions += [n.region for n in annotations.landmarks]
    for region in regions:
        placed[
            (region.sop_instance_uid, region.frame or 1, region.graphic_type.value, region.points)
        ] += 1
    for sop_instance_uid, line in result.chest_walls.items():
        placed[(sop_instance_uid, 1, GraphicType.POLYLINE.value, (line.start, line.end))] += 1
    return Counter({(s, f, g, _f32(p)): n for (s, f, g, p), n in placed.items()})


def drawn(reading: SRReading) -> Counter[Placed]:
    """What OHIF draws: each coordinate on the image and frame its measurement is placed on."""
    return Counter(
        (m.sop_instance_uid, m.frame, c.graphic_type, _f32(c.points))
        for m in reading.drawn
        for c in m.coords
    )


def check(path: Path, result: DecodeResult) -> None:
    expected = ours(result)
    assert sum(expected.values()) > 0
    reading = read_sr(path)
    assert reading.skipped == ()
    assert drawn(reading) == expected


def export_sample(tmp_path: Path) -> Path:
    """``galactoview sr export`` of a copy of the bundled sample's sidecar."""
    source = tmp_path / sample_report_path().name
    shutil.copyfile(sample_report_path(), source)
    out = tmp_path / "export.dcm"
    assert cli.main(["sr", "export", str(source), str(out)]) == 0
    return out


def test_the_sample_export_has_regions_on_several_images(tmp_path: Path) -> None:
    """What the tests below check is there: findings with regions on 3 images, nipples."""
    result = decode(dcmread(export_sample(tmp_path)))
    assert len(result.annotations.findings) == 3
    assert [len(f.regions) for f in result.annotations.findings] == [3, 3, 3]
    assert len(result.annotations.landmarks) == 3
    assert sum(ours(result).values()) == 12


def test_ohif_draws_the_nipples_of_the_sample_export(tmp_path: Path) -> None:
    """One group per nipple, each with its own tracking UID, already draws fully."""
    out = export_sample(tmp_path)
    result = decode(dcmread(out))
    landmarks = result.annotations.landmarks
    nipples = Counter((n.sop_instance_uid, 1, "POINT", _f32(n.region.points)) for n in landmarks)
    assert nipples
    assert drawn(read_sr(out)) & nipples == nipples


def test_ohif_draws_every_region_of_the_sample_export(tmp_path: Path) -> None:
    out = export_sample(tmp_path)
    check(out, decode(dcmread(out)))


@pytest.fixture
def rich(headers: dict[str, Dataset], tmp_path: Path) -> tuple[Path, DecodeResult]:  # noqa: F811
    """Every graphic type, a finding on two views, a duct tree, a frame, a prior, chest walls."""
    ml, prior = headers["04_LML_POST"], headers["07_LCC"]
    walls = {
        ml.SOPInstanceUID: ChestWallLine((40.5, 0.0), (12.25, 2000.0)),
        prior.SOPInstanceUID: ChestWallLine((300.0, 10.0), (0.0, 900.0)),
    }
    sr = encode(build(headers), sources(headers), chest_walls=walls)
    out = save(sr, tmp_path / "rich.dcm")
    result = decode(dcmread(out))
    assert result.problems == ()
    assert len(result.chest_walls) == 2
    assert len(result.annotations.duct_segments) == 4
    assert any(r.frame == 2 for f in result.annotations.findings for r in f.regions)
    return out, result


def without_segments(result: DecodeResult) -> DecodeResult:
    return replace(result, annotations=replace(result.annotations, duct_segments=()))


def segments_only(result: DecodeResult) -> DecodeResult:
    annotations = replace(result.annotations, findings=(), landmarks=())
    return replace(result, annotations=annotations, chest_walls={})


def test_ohif_draws_every_region_nipple_and_chest_wall(rich: tuple[Path, DecodeResult]) -> None:
    out, result = rich
    reading = read_sr(out)
    expected = ours(without_segments(result))
    assert drawn(reading) & expected == expected


def test_ohif_draws_the_regions_on_a_frame_and_the_chest_walls(
    rich: tuple[Path, DecodeResult],
) -> None:
    """Single-region findings (one on frame 2, one on a prior) and chest walls already draw."""
    out, result = rich
    single = replace(
        result.annotations,
        findings=tuple(f for f in result.annotations.findings if len(f.regions) == 1),
        duct_segments=(),
    )
    expected = ours(replace(result, annotations=single))
    assert any(frame == 2 for _, frame, _, _ in expected)
    assert drawn(read_sr(out)) & expected == expected


def test_ohif_draws_every_duct_segment(rich: tuple[Path, DecodeResult]) -> None:
    out, result = rich
    reading = read_sr(out)
    assert reading.skipped == ()
    expected = ours(segments_only(result))
    assert sum(expected.values()) == 4
    assert drawn(reading) & expected == expected


def test_ohif_draws_everything_of_a_rich_export(rich: tuple[Path, DecodeResult]) -> None:
    """The whole set: every region, segment, nipple and chest wall, nothing drawn twice."""
    out, result = rich
    check(out, result)


def test_what_dcmjs_rehydrates_of_our_export_is_where_our_marks_are(
    rich: tuple[Path, DecodeResult],
) -> None:
    """The adapter's generateToolState (OHIF's "rehydrate"): our POINTs come back as Probes.

    Our tracking identifiers name no Cornerstone tool, so the adapter picks a tool by the
    SCOORD: today only the POINT regions ("Image Region" POINT: Probe) rehydrate; the other
    groups it skips. Whatever it rehydrates must lie on our image, frame and points.
    """
    out, result = rich
    reading = read_sr(out)
    assert reading.rehydrate_error is None
    stored = {(s, f, p) for s, f, _, p in ours(result)}
    back = [(r.sop_instance_uid, r.frame, _f32(r.points)) for r in reading.rehydrated]
    assert back and set(back) <= stored
    points = {(s, f, p) for s, f, g, p in ours(result) if g == GraphicType.POINT.value}
    assert {b for b, r in zip(back, reading.rehydrated, strict=True) if r.tool == "Probe"} == points


def test_ohif_draws_accepted_suggestions_naming_their_algorithm(
    headers: dict[str, Dataset],  # noqa: F811
    tmp_path: Path,
) -> None:
    """TID 4019 items in a finding's and a segment's groups change nothing of what OHIF draws."""
    sr = encode(with_algorithm(build(headers)), sources(headers))
    out = save(sr, tmp_path / "suggested.dcm")
    result = decode(dcmread(out))
    assert result.problems == ()
    assert sum(f.algorithm is not None for f in result.annotations.findings) == 1
    assert sum(s.algorithm is not None for s in result.annotations.duct_segments) == 1
    check(out, result)  # every region, segment and nipple drawn, nothing skipped
    assert read_sr(out).rehydrate_error is None
