"""Locating the sample study's annotated findings end to end: sidecar → surgeon's answers."""

from __future__ import annotations

import json
from pathlib import Path

from galactoview.location.localize import DepthThird, Quadrant
from galactoview.location.study import locate_study
from galactoview.sr.persistence import open_annotations
from tests.helpers import sample_images

TRUTH = json.loads((Path(__file__).parents[2] / "sample_data" / "ground_truth.json").read_text())


def test_the_sample_sidecar_gives_the_ground_truth_locations() -> None:
    records = sample_images()
    ductogram = [r for r in records if r.study_description.upper().startswith("DUCTOGRAM")]
    study = ductogram[0].study_instance_uid
    annotations = open_annotations(study, [r.path for r in ductogram]).annotations
    locations = locate_study(annotations, records)
    by_id = {f.short_id: locations[f.tracking_uid] for f in annotations.findings}
    expected = {"FD-1": "defect-1", "CY-1": "cyst-1", "DE-1": "ectasia-1"}
    lesions = {lesion["id"]: lesion for lesion in TRUTH["lesions"]}
    for short_id, lesion_id in expected.items():
        breast = by_id[short_id].breast
        truth = lesions[lesion_id]
        assert breast is not None, by_id[short_id].problems
        assert breast.clock_hour == truth["clock_hour"]
        assert breast.quadrant is Quadrant(truth["quadrant"])
        assert breast.depth is DepthThird(truth["depth_third"])
        assert breast.distance_mm is not None
        tolerance = max(5.0, 0.1 * truth["distance_from_nipple_mm"])
        assert abs(breast.distance_mm - truth["distance_from_nipple_mm"]) <= tolerance
