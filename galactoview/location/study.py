"""Locate every finding of a study at once (shared by the report, the review mode and the CLI)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from galactoview.annotations.model import AnnotationSet
from galactoview.dicom.loading import ImageRecord
from galactoview.location.frame import ChestWallLine, ImageInfo
from galactoview.location.localize import FindingLocation, localize_finding

__all__ = ["image_infos", "locate_study"]


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
