"""Tests of the readable annotation listing (pure functions, no images needed)."""

from __future__ import annotations

import json
from dataclasses import replace

from galactoview.annotations import codes
from galactoview.annotations.model import (
    AlgorithmIdentification,
    AnnotationSet,
    DuctSegment,
    Finding,
    FindingType,
    GraphicType,
    ImageRegion,
    Laterality,
    MeasurementValue,
    NippleLandmark,
)
from galactoview.sr.listing import ImageLabel, listing_json, listing_lines

STUDY = "1.2.3"
CC, ML = "1.2.3.1", "1.2.3.2"
IMAGES = {CC: ImageLabel("L CC", 3)}


def sample_set() -> AnnotationSet:
    circle = ImageRegion(CC, None, GraphicType.CIRCLE, ((10.0, 20.0), (14.25, 20.0)))
    point = ImageRegion(ML, 2, GraphicType.POINT, ((5.0, 6.04),))
    diameter = MeasurementValue(codes.DIAMETER, 0.85, codes.MILLIMETER, "0.1 mm (detector)")
    cyst = Finding(
        "1.9.1", "CY-1", FindingType.CYST_FILL, "", Laterality.LEFT, (circle,), (diameter,)
    )
    other = Finding("1.9.2", "OT-1", FindingType.OTHER, "Luftblase", Laterality.RIGHT, (point,))
    trunk = DuctSegment(
        "1.9.3",
        "DS-1",
        None,
        ImageRegion(CC, None, GraphicType.POLYLINE, ((0, 0), (9, 9))),
        Laterality.LEFT,
    )
    branch = DuctSegment(
        "1.9.4",
        "DS-2",
        "1.9.3",
        ImageRegion(CC, None, GraphicType.POLYLINE, ((9, 9), (12, 3))),
        Laterality.LEFT,
        note="Seitenast",
    )
    leaf = DuctSegment(
        "1.9.5",
        "DS-3",
        "1.9.4",
        ImageRegion(CC, None, GraphicType.POLYLINE, ((12, 3), (15, 1))),
        Laterality.LEFT,
    )
    nipple = NippleLandmark(CC, None, (100.0, 50.0))
    return AnnotationSet(STUDY, (cyst, other), (leaf, trunk, branch), (nipple,))


def test_findings_regions_and_measurements() -> None:
    lines = listing_lines(sample_set(), IMAGES)
    assert lines[0] == f"Study {STUDY}"
    assert "2 finding(s), 3 duct segment(s), 1 nipple landmark(s)" in lines
    assert "CY-1  Cyst fill  laterality LEFT" in lines
    assert "  region 1: L CC #3  CIRCLE (10, 20) (14.2, 20)" in lines
    assert "    Diameter 0.85 mm [0.1 mm (detector)]" in lines
    assert "OT-1  Other finding: Luftblase  laterality RIGHT" in lines
    # An image not found is named by its UID, with the frame.
    assert f"  region 1: {ML} frame 2  POINT (5, 6)" in lines


def test_duct_tree_is_indented_by_parent() -> None:
    lines = listing_lines(sample_set(), IMAGES)
    start = lines.index("Duct trees:")
    tree = [line for line in lines[start + 1 :] if "DS-" in line]
    assert tree[0].startswith("  DS-1  root")
    assert tree[1].startswith("    DS-2  branch")
    assert tree[2].startswith("      DS-3  branch")
    assert "      note: Seitenast" in lines
    assert lines[-1] == "  L CC #3  (100, 50)"


def test_location_hook_shows_only_known_locations() -> None:
    lines = listing_lines(sample_set(), IMAGES, {"1.9.1": "8 o'clock, LIQ"})
    assert "  location: 8 o'clock, LIQ" in lines
    assert sum(line.startswith("  location:") for line in lines) == 1


def test_json_document() -> None:
    document = listing_json(sample_set(), IMAGES, {"1.9.2": "somewhere"})
    json.dumps(document)  # serialisable
    cyst, other = document["findings"]
    assert cyst["regions"][0]["view"] == "L CC"
    assert cyst["measurements"][0]["unit"] == "mm"
    assert other["regions"][0]["view"] is None
    assert other["location"] == "somewhere"
    assert [s["parent_uid"] for s in document["duct_segments"]] == ["1.9.4", None, "1.9.3"]
    assert document["landmarks"] == [
        {"sop_instance_uid": CC, "frame": None, "point": [100.0, 50.0], "confirmed": True}
    ]


def test_a_suggested_nipple_is_listed_as_such() -> None:
    annotations = sample_set()
    (nipple,) = annotations.landmarks
    suggested = replace(annotations, landmarks=(replace(nipple, confirmed=False),))
    (line,) = (line for line in listing_lines(suggested, IMAGES) if "(100, 50)" in line)
    assert line.endswith("suggested, not confirmed by the reader")
    assert listing_json(suggested, IMAGES)["landmarks"][0]["confirmed"] is False
    (confirmed,) = (line for line in listing_lines(annotations, IMAGES) if "(100, 50)" in line)
    assert "suggested" not in confirmed


def test_a_stored_location_is_listed_as_the_dock_shows_the_computed_one() -> None:
    """``sr show`` and the dock describe one location with the same words."""
    from galactoview.location.describe import describe_location
    from galactoview.sr.sr_codec import StoredLocation
    from tests.location.test_describe import BREAST, located

    stored = StoredLocation.from_breast(BREAST)
    lines = listing_lines(sample_set(), IMAGES, {"1.9.1": stored})
    expected = describe_location(located()).text
    assert expected == "Left, 7 o'clock, LIQ, middle third, 58 mm from the nipple"
    assert f"  location: {expected}" in lines
    document = listing_json(sample_set(), IMAGES, {"1.9.1": stored})
    assert document["findings"][0]["location"]["text"] == expected
    assert document["findings"][0]["location"]["distance_from_nipple_mm"] == 57.8


SUGGESTER = AlgorithmIdentification("GalactoView duct-tree suggestion", "1.0", ("threshold=0.35",))


def suggested_set() -> AnnotationSet:
    """CY-1 accepted by its own observer, DS-2 by the SR's reader; the rest drawn."""
    annotations = sample_set()
    cyst, other = annotations.findings
    leaf, trunk, branch = annotations.duct_segments
    return replace(
        annotations,
        findings=(replace(cyst, algorithm=SUGGESTER, observer="Curie^Marie"), other),
        duct_segments=(leaf, trunk, replace(branch, algorithm=SUGGESTER)),
        observer="Meitner^Lise",
    )


def test_an_accepted_suggestion_says_which_algorithm_and_who_accepted_it() -> None:
    lines = listing_lines(suggested_set(), IMAGES)
    cyst = lines.index(next(line for line in lines if line.startswith("CY-1")))
    assert lines[cyst + 1] == (
        "  suggested by GalactoView duct-tree suggestion 1.0, accepted by Curie^Marie"
    )
    branch = lines.index(next(line for line in lines if line.lstrip().startswith("DS-2")))
    assert lines[branch + 2] == (
        "      suggested by GalactoView duct-tree suggestion 1.0, accepted by Meitner^Lise"
    )
    assert sum("suggested by" in line for line in lines) == 2  # OT-1, DS-1, DS-3 were drawn
    document = listing_json(suggested_set(), IMAGES)
    assert document["findings"][0]["suggested_by"] == {
        "name": "GalactoView duct-tree suggestion",
        "version": "1.0",
        "parameters": ["threshold=0.35"],
        "accepted_by": "Curie^Marie",
    }
    assert document["findings"][1]["suggested_by"] is None
    assert [s["suggested_by"] is not None for s in document["duct_segments"]] == [
        False,
        False,
        True,
    ]


def test_a_suggestion_without_a_recorded_reader_is_accepted_by_the_reader() -> None:
    annotations = replace(suggested_set(), observer="")
    lines = listing_lines(annotations, IMAGES)
    assert any(
        line.endswith("suggested by GalactoView duct-tree suggestion 1.0, accepted by the reader")
        for line in lines
    )
