"""Locate every finding of a study at once: the one place locations are computed.

:func:`locate_document` locates the findings of a study's document snapshot (its marks,
nipple landmarks and chest-wall lines); the saver (locations stored in the SR), the
findings dock, the review mode and the report (screen and PDF) all call it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from galactoview.annotations.document import StudySnapshot
from galactoview.annotations.model import AnnotationSet
from galactoview.dicom.loading import ImageRecord
from galactoview.location.frame import ChestWallLine, ImageInfo
from galactoview.location.localize import FindingLocation, localize_finding

__all__ = ["image_infos", "locate_document", "locate_study"]


def image_infos(records: Iterable[ImageRecord]) -> dict[str, ImageInfo]:
    """Return what localization needs of each image, by SOP Instance UID.

    Images that localization cannot use (no laterality or view) are left out; their
    regions are then reported as "not loaded" by :func:`localize_finding`.
    """
    infos: dict[str, ImageInfo] = {}
    for record in records:
        try:
            infos[record.sop_instance_uid] = ImageInfo.from_record(record)
        except ValueError:
            continue
    return infos


def locate_study(
    annotations: AnnotationSet,
    records: Iterable[ImageRecord],
    chest_walls: Mapping[str, ChestWallLine] | None = None,
) -> dict[str, FindingLocation]:
    """Locate every finding of a study from its marks and nipple landmarks.

    Parameters
    ----------
    annotations
        The study's findings and nipple landmarks.
    records
        The loaded images (any study; the findings' images must be among them).
    chest_walls
        Chest-wall lines by SOP Instance UID (pectoral lines of oblique views).

    Returns
    -------
    dict
        A :class:`FindingLocation` per finding, by tracking UID, in finding order.
    """
    infos = image_infos(records)
    return {
        finding.tracking_uid: localize_finding(finding, annotations.landmarks, infos, chest_walls)
        for finding in annotations.findings
    }


def locate_document(
    snapshot: StudySnapshot | AnnotationSet, records: Iterable[ImageRecord]
) -> dict[str, FindingLocation]:
    """Locate every finding of a study's document from its marks, nipples and chest walls.

    Parameters
    ----------
    snapshot
        The study's document state (:class:`~galactoview.annotations.document.StudySnapshot`);
        annotations alone (e.g. read from a sidecar) have no chest-wall line: the depth
        third on an oblique view is then unknown.
    records
        The loaded images (any study; the findings' images must be among them).

    Returns
    -------
    dict
        A :class:`FindingLocation` per finding, by tracking UID, in finding order.
    """
    if isinstance(snapshot, AnnotationSet):
        snapshot = StudySnapshot(snapshot)
    return locate_study(snapshot.annotations, records, snapshot.chest_wall_lines())
