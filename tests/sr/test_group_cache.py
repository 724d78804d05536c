"""Autosave re-encodes only what changed: the cached groups give the same SR, byte for byte."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from pydicom.dataset import Dataset

from galactoview.annotations.model import AnnotationSet, ChestWallLine, NippleLandmark
from galactoview.location.study import locate_study
from galactoview.sr.group_cache import GroupCache
from galactoview.sr.sr_codec import encode, to_json
from tests.helpers import sample_images
from tests.sr.test_sr_codec import SUGGESTER, build, headers, sources

__all__ = ["headers"]  # the fixture, shared with the codec's tests

FIXED: dict[str, Any] = {
    "series_instance_uid": "1.2.826.0.1.3680043.8.498.1",
    "sop_instance_uid": "1.2.826.0.1.3680043.8.498.2",
    "content_datetime": datetime(2026, 12, 5, 3, 0, 0),
}


def _json(annotations: AnnotationSet, images: list[Dataset], **options: Any) -> str:
    return to_json(encode(annotations, images, **FIXED, **options))


def _edits(annotations: AnnotationSet, cc_uid: str) -> list[AnnotationSet]:
    """A note edited, a finding removed, a nipple moved, a segment re-parented, nothing,
    a finding and the root segment marked as accepted suggestions, then their algorithm's
    version changed (TID 4019)."""
    first, *rest = annotations.findings
    noted = replace(annotations, findings=(replace(first, note="edited"), *rest))
    removed = replace(noted, findings=noted.findings[:-1])
    moved = replace(
        removed,
        landmarks=(NippleLandmark(cc_uid, None, (1690.0, 1040.0)), *removed.landmarks[1:]),
    )
    root, *segments = moved.duct_segments
    reparented = replace(
        moved, duct_segments=(root, *segments[:-1], replace(segments[-1], parent_uid=None))
    )
    head, *others = reparented.findings
    root, *branches = reparented.duct_segments
    suggested = replace(
        reparented,
        findings=(replace(head, algorithm=SUGGESTER), *others),
        duct_segments=(replace(root, algorithm=SUGGESTER), *branches),
    )
    newer = replace(SUGGESTER, version="1.1")
    upgraded = replace(
        suggested,
        findings=(replace(suggested.findings[0], algorithm=newer), *others),
        duct_segments=(replace(suggested.duct_segments[0], algorithm=newer), *branches),
    )
    return [noted, removed, moved, reparented, reparented, suggested, upgraded]


def test_each_save_with_the_cache_equals_a_save_from_scratch(
    headers: dict[str, Dataset],
) -> None:
    images = sources(headers)
    original = build(headers)
    cc_uid = str(headers["03_LCC_POST"].SOPInstanceUID)
    locations = locate_study(original, sample_images())
    walls = {cc_uid: ChestWallLine((10.0, 0.0), (12.0, 2000.0))}
    cache = GroupCache()
    cached = _json(original, images, cache=cache, locations=locations, chest_walls=walls)
    assert cached == _json(original, images, locations=locations, chest_walls=walls)
    assert cache.hits == 0 and cache.misses > 10
    for edited in _edits(original, cc_uid):
        with_cache = _json(edited, images, cache=cache, locations=locations, chest_walls=walls)
        assert with_cache == _json(edited, images, locations=locations, chest_walls=walls)


def test_only_the_changed_groups_are_built_again(headers: dict[str, Dataset]) -> None:
    images = sources(headers)
    original = build(headers)
    cache = GroupCache()
    _json(original, images, cache=cache)
    built_first = cache.misses
    assert len(cache) == len(original.findings) + len(original.duct_segments) + 2
    first, *rest = original.findings
    _json(replace(original, findings=(replace(first, note="edited"), *rest)), images, cache=cache)
    # FD-1 has two regions, so two groups; everything else is reused.
    assert cache.misses == len(first.regions) == 2
    assert cache.hits == built_first - 2
    # The edited finding's old groups are dropped: one entry per finding, segment, nipple.
    assert len(cache) == len(original.findings) + len(original.duct_segments) + 2


def test_a_changed_image_header_builds_its_groups_again(headers: dict[str, Dataset]) -> None:
    images = sources(headers)
    original = build(headers)
    cache = GroupCache()
    _json(original, images, cache=cache)
    relabelled = [
        _with(image, ImageLaterality="R") if image is headers["03_LCC_POST"] else image
        for image in images
    ]
    assert _json(original, relabelled, cache=cache) == _json(original, relabelled)
    assert cache.misses == 1  # the nipple on that image: its laterality comes from the header


def _with(image: Dataset, **values: Any) -> Dataset:
    changed = Dataset()
    changed.update(image)
    for keyword, value in values.items():
        setattr(changed, keyword, value)
    return changed


def test_a_failed_build_caches_nothing() -> None:
    cache = GroupCache()
    cache.begin_encode()

    def failing() -> list[Dataset]:
        raise ValueError("image is not among the source images")

    with pytest.raises(ValueError, match="not among"):
        cache.groups(("finding", 1), failing)
    assert len(cache) == 0
    assert cache.groups(("finding", ["a list"]), lambda: [Dataset()]) != []
    assert len(cache) == 0  # built each time, never cached


def test_an_algorithm_given_or_changed_builds_the_groups_again(
    headers: dict[str, Dataset],
) -> None:
    images = sources(headers)
    original = build(headers)
    cache = GroupCache()
    _json(original, images, cache=cache)
    first, *rest = original.findings
    root, *branches = original.duct_segments
    for algorithm in (SUGGESTER, replace(SUGGESTER, parameters=())):
        edited = replace(
            original,
            findings=(replace(first, algorithm=algorithm), *rest),
            duct_segments=(replace(root, algorithm=algorithm), *branches),
        )
        text = _json(edited, images, cache=cache)
        # FD-1's two region groups and DS-1's group; the cached groups name no algorithm.
        assert cache.misses == 3
        assert text.count('"Algorithm Name"') == 3
        assert text == _json(edited, images)
