"""Whether a mark on the other view is the same lesion as a one-view finding (Qt-free).

When the reader draws a mark on one view of a breast (CC, or ML/LM/MLO) and the study
already has a finding of the same type marked only on the *other* view family of the
same breast, the mark is probably that finding seen again: the viewer asks "Same lesion
as FD-1?" (:func:`same_lesion_candidate`) instead of silently making FD-2.

The suggested answer compares the **distance from the nipple** on each view (the 2-D
distance from the nipple landmark of the same image, in mm with the image's calibration,
:func:`galactoview.location.localize.localize_view`). A lesion keeps its distance from
the nipple between the CC and the ML/MLO fairly well (the radial distance is what the
"arc" triangulation of two-view mammography relies on), but each view compresses the
breast differently and the ML/MLO projects part of the medio-lateral offset, so they
never agree exactly. The distances **agree** when they differ by at most
:data:`SAME_LESION_TOLERANCE_MM` (15 mm) or by at most :data:`SAME_LESION_TOLERANCE_FRACTION`
(20 %) of the larger one, whichever allows more: 15 mm covers the compression
difference near the nipple, 20 % the larger spread of deep lesions. The default answer is
yes when they agree, no when they do not or when a distance is unknown (no nipple on an
image, or no calibration) — the reader decides either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from galactoview.annotations.model import AnnotationSet, Finding, FindingType, ImageRegion
from galactoview.location.frame import ChestWallLine, ImageInfo, ViewFamily
from galactoview.location.localize import localize_view, region_center, view_label

__all__ = [
    "SAME_LESION_TOLERANCE_FRACTION",
    "SAME_LESION_TOLERANCE_MM",
    "SameLesionCandidate",
    "distances_agree",
    "nipple_distance_mm",
    "same_lesion_candidate",
]

#: Nipple distances on the two views agree when they differ by at most this many mm …
SAME_LESION_TOLERANCE_MM: Final = 15.0
#: … or by at most this fraction of the larger distance (whichever allows more).
SAME_LESION_TOLERANCE_FRACTION: Final = 0.2


def _is_cc(info: ImageInfo) -> bool | None:
    """Return whether an image is a CC-like view, ``None`` when its view is not usable."""
    family = info.family
    return None if family is None else family is ViewFamily.CC


def distances_agree(first_mm: float, second_mm: float) -> bool:
    """Return whether two distances from the nipple agree within the tolerance.

    Parameters
    ----------
    first_mm, second_mm
        The distances, mm.

    Returns
    -------
    bool
        ``|a − b| ≤ max(SAME_LESION_TOLERANCE_MM, SAME_LESION_TOLERANCE_FRACTION × max(a, b))``.
    """
    allowed = max(
        SAME_LESION_TOLERANCE_MM, SAME_LESION_TOLERANCE_FRACTION * max(first_mm, second_mm)
    )
    return abs(first_mm - second_mm) <= allowed


def nipple_distance_mm(
    region: ImageRegion,
    annotations: AnnotationSet,
    images: Mapping[str, ImageInfo],
    chest_walls: Mapping[str, ChestWallLine] | None = None,
) -> float | None:
    """Return the distance of a region's centre from its image's nipple landmark, mm.

    Parameters
    ----------
    region
        The region (its centre: :func:`~galactoview.location.localize.region_center`).
    annotations
        The study's marks (its nipple landmarks).
    images
        Header values by SOP Instance UID.
    chest_walls
        Chest-wall lines by SOP Instance UID (not needed for the distance).

    Returns
    -------
    float or None
        ``None`` without the image, its nipple landmark (same frame) or a calibration.
    """
    info = images.get(region.sop_instance_uid)
    landmark = annotations.landmark(region.sop_instance_uid, region.frame)
    if info is None or landmark is None:
        return None
    walls = chest_walls or {}
    try:
        view = localize_view(
            info, region_center(region), landmark.point, walls.get(region.sop_instance_uid)
        )
    except ValueError:
        return None
    return view.distance_mm


@dataclass(frozen=True, slots=True)
class SameLesionCandidate:
    """A finding the new mark may be the other view of.

    Attributes
    ----------
    finding
        The finding marked on one view only.
    new_distance_mm, old_distance_mm
        Distance from the nipple of the new mark and of the finding's region on its view
        (mm), ``None`` when unknown.
    new_view, old_view
        The views, e.g. ``"L ML"`` and ``"L CC"``.
    """

    finding: Finding
    new_distance_mm: float | None
    old_distance_mm: float | None
    new_view: str
    old_view: str

    @property
    def distances_known(self) -> bool:
        """Return whether both distances from the nipple are known."""
        return self.new_distance_mm is not None and self.old_distance_mm is not None

    @property
    def likely(self) -> bool:
        """Return whether the default answer is yes: both distances known and agreeing."""
        if self.new_distance_mm is None or self.old_distance_mm is None:
            return False
        return distances_agree(self.new_distance_mm, self.old_distance_mm)

    def question(self) -> str:
        """Return the question, e.g. ``"Same lesion as FD-1?"``."""
        return f"Same lesion as {self.finding.short_id}?"

    def details(self) -> str:
        """Return what the suggested answer rests on: two lines (marked where, distances)."""
        where = f"{self.finding.short_id} is marked on the {self.old_view} only."
        if self.new_distance_mm is None or self.old_distance_mm is None:
            unknown = [
                view
                for view, mm in (
                    (self.old_view, self.old_distance_mm),
                    (self.new_view, self.new_distance_mm),
                )
                if mm is None
            ]
            return (
                f"{where}\nDistance from the nipple unknown on the {' and '.join(unknown)} "
                "(no nipple landmark or no calibration)."
            )
        verdict = "agree" if self.likely else "do not agree"
        return (
            f"{where}\nDistance from the nipple: {self.old_distance_mm:.0f} mm on the "
            f"{self.old_view}, {self.new_distance_mm:.0f} mm on the {self.new_view}: they "
            f"{verdict} (within {SAME_LESION_TOLERANCE_MM:.0f} mm or "
            f"{SAME_LESION_TOLERANCE_FRACTION:.0%})."
        )


def same_lesion_candidate(
    region: ImageRegion,
    finding_type: FindingType,
    annotations: AnnotationSet,
    images: Mapping[str, ImageInfo],
    chest_walls: Mapping[str, ChestWallLine] | None = None,
) -> SameLesionCandidate | None:
    """Return the finding a new mark may be the other view of, ``None`` if there is none.

    A candidate has the new mark's type (an OTHER finding also its description is not
    compared: the reader is asked), every region on the other view family (CC versus
    ML/LM/MLO) of the same breast as the new mark's image, in the same study (the
    annotations are one study's). Among several, the one whose distance from the nipple
    is closest to the new mark's; without distances, the one marked last.

    Parameters
    ----------
    region
        The new mark's region.
    finding_type
        The new mark's type.
    annotations
        The study's marks.
    images
        Header values by SOP Instance UID.
    chest_walls
        Chest-wall lines by SOP Instance UID.

    Returns
    -------
    SameLesionCandidate or None
        The finding to ask about, with both distances.
    """
    info = images.get(region.sop_instance_uid)
    new_is_cc = None if info is None else _is_cc(info)
    if info is None or new_is_cc is None:
        return None
    new_mm = nipple_distance_mm(region, annotations, images, chest_walls)
    found: list[SameLesionCandidate] = []
    for finding in annotations.findings:
        if finding.finding_type is not finding_type:
            continue
        infos = [images.get(r.sop_instance_uid) for r in finding.regions]
        if any(i is None or i.laterality is not info.laterality for i in infos):
            continue
        if any(_is_cc(i) is not (not new_is_cc) for i in infos if i is not None):
            continue
        first = finding.regions[0]
        old_info = images[first.sop_instance_uid]
        found.append(
            SameLesionCandidate(
                finding,
                new_mm,
                nipple_distance_mm(first, annotations, images, chest_walls),
                view_label(info),
                view_label(old_info),
            )
        )
    if not found:
        return None

    def closeness(candidate: SameLesionCandidate) -> float:
        old = candidate.old_distance_mm
        return abs(old - new_mm) if old is not None and new_mm is not None else float("inf")

    best = min(closeness(c) for c in found)
    return [c for c in found if closeness(c) == best][-1]
