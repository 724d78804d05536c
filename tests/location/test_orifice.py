"""The cannulated orifice's clock face from the duct trace's root (issue 14)."""

from __future__ import annotations

from galactoview.annotations.document import StudySnapshot
from galactoview.annotations.model import AnnotationSet, DuctSegment, GraphicType, ImageRegion
from galactoview.annotations.report import NippleOrifice
from galactoview.dicom.loading import ImageRecord
from galactoview.dicom.mammography import Laterality
from galactoview.location.localize import region_center
from galactoview.location.orifice import OrificeEstimate, orifice_from_duct_trace
from galactoview.location.study import locate_document
from galactoview.sr.persistence import open_annotations
from tests.helpers import sample_images


def _sample() -> tuple[AnnotationSet, list[ImageRecord]]:
    records = [r for r in sample_images() if r.contrast_phase.value == "post"]
    folder = records[0].path.parent
    study = records[0].study_instance_uid
    opened = open_annotations(study, sorted(folder.glob("*.dcm")))
    return opened.annotations, records


def _through(region: ImageRegion) -> ImageRegion:
    """A trace whose middle is the region's centre."""
    column, row = region_center(region)
    points = ((column - 30.0, row + 5.0), (column + 30.0, row - 5.0))
    return ImageRegion(region.sop_instance_uid, region.frame, GraphicType.POLYLINE, points)


def test_a_root_on_cc_and_ml_has_the_clock_face_of_its_middle() -> None:
    annotations, records = _sample()
    finding = annotations.findings[1]  # CY-1
    for number, region in enumerate(finding.regions[:2], start=1):
        root = DuctSegment.new(
            _through(region), short_id=f"DS-{number}", laterality=Laterality.LEFT
        )
        annotations = annotations.with_duct_segment(root)
    snapshot = StudySnapshot(annotations)
    breast = locate_document(snapshot, records)[finding.tracking_uid].breast
    assert breast is not None
    assert orifice_from_duct_trace(snapshot, records) == OrificeEstimate(
        NippleOrifice(breast.clock_hour)
    )


def test_a_root_on_one_view_only_gives_no_clock_face() -> None:
    annotations, records = _sample()
    region = annotations.findings[0].regions[0]
    root = DuctSegment.new(_through(region), short_id="DS-1", laterality=Laterality.LEFT)
    estimate = orifice_from_duct_trace(StudySnapshot(annotations.with_duct_segment(root)), records)
    assert estimate.orifice is None
    assert estimate.problem.startswith("the duct's root must be traced on a CC and an ML/LM")
    assert orifice_from_duct_trace(StudySnapshot(annotations), records).problem == (
        "no duct is traced"
    )
