"""The traced duct from the cannulated orifice to each lesion (Qt-free).

The reader traces the opacified ducts as open POLYLINE segments linked parent → child
(:class:`~galactoview.annotations.model.DuctSegment`, a TID 1501 group each; the root
starts at the orifice on the nipple). For the surgeon the report says, per finding,
which segments lead to it and how much duct lies between the orifice and the lesion:

* the finding's **image**: the first of its regions on an image (frame) that has traced
  segments;
* the **segment it lies on**: the segment passing nearest the region's centre
  (:func:`galactoview.location.localize.region_center`), if within
  :data:`NEAR_DUCT_MM` (or :data:`NEAR_DUCT_PX` on an image without a calibration);
  else the finding is "not on a traced duct";
* the **path**: that segment's ancestors up to the root, root first
  (``DS-1 → DS-3``);
* the **duct length** from the orifice: the Path Length (121211, DCM) of every ancestor
  plus the share of the nearest segment's Path Length up to the point nearest the lesion
  (the share in pixels along the polyline, measured from the segment's end nearer its
  parent, or nearer the nipple for a root). It is a length **on the image** (the
  projection; the duct's course towards or away from the detector is not seen) and
  ``None`` when a segment has no Path Length in mm (uncalibrated).

:class:`DuctView` carries what the surgeon's page draws per image: the segments, the
nipple and the lesions, in SCOORD pixel coordinates (PS3.3 C.18.6.1.2).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from galactoview.annotations.model import AnnotationSet, DuctSegment, Finding
from galactoview.dicom.loading import ImageRecord
from galactoview.location.localize import region_center

__all__ = [
    "NEAR_DUCT_MM",
    "NEAR_DUCT_PX",
    "DuctLesion",
    "DuctLine",
    "DuctPath",
    "DuctView",
    "duct_paths",
    "duct_views",
]

#: A lesion whose centre is farther than this from every traced segment is not on one.
NEAR_DUCT_MM: Final = 15.0
#: The same on an image without a calibration, in pixels.
NEAR_DUCT_PX: Final = 150.0

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class DuctPath:
    """The traced duct leading to one finding.

    Attributes
    ----------
    short_id
        The finding.
    segments
        Short ids of the segments from the orifice to the lesion, root first; empty
        when the finding is not on a traced duct.
    length_mm
        Duct length from the orifice to the lesion on the image, mm; ``None`` when a
        segment is uncalibrated or the finding is on no duct.
    view_label
        The image it was measured on (``"L CC #3"``).
    markers
        A footnote marker per segment, printed after its id: ``"§"`` for a segment of an
        accepted suggested duct tree (:mod:`galactoview.report.content`), ``""`` for a
        traced one; empty when no segment has one.
    """

    short_id: str
    segments: tuple[str, ...]
    length_mm: float | None
    view_label: str
    markers: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """``"FD-1: 42 mm along the traced duct DS-1 → DS-3 on the L CC #3 (projected, …)"``."""
        return self.describe()

    def describe(self, distance: str = "") -> str:
        """Return the path in words, saying the length is measured on one projection.

        The duct length is measured on the image, along the traced duct: a projection,
        not corrected for depth, so it may differ from the 3-D distance from the nipple.

        Parameters
        ----------
        distance
            The finding's 3-D distance from the nipple as printed (``"5.8 cm"``), said
            beside the projected length; ``""`` leaves it out.

        Returns
        -------
        str
            ``"FD-1: 55 mm along the traced duct DS-1 → DS-2 on the L CC #3 (projected,
            not corrected for depth; the 3-D distance from the nipple is 5.8 cm)"``.
        """
        if not self.segments:
            return f"{self.short_id}: not on a traced duct ({self.view_label})"
        markers = self.markers or ("",) * len(self.segments)
        ids = [s + m for s, m in zip(self.segments, markers, strict=True)]
        duct = f"the traced duct {' → '.join(ids)} on the {self.view_label}"
        if self.length_mm is None:
            return f"{self.short_id}: on {duct}, duct length unknown (uncalibrated)"
        beside = f"; the 3-D distance from the nipple is {distance}" if distance else ""
        return (
            f"{self.short_id}: {self.length_mm:.0f} mm along {duct} "
            f"(projected, not corrected for depth{beside})"
        )


@dataclass(frozen=True, slots=True)
class DuctLine:
    """One traced segment as drawn: its short id, points (SCOORD) and whether it is a root."""

    short_id: str
    points: tuple[Point, ...]
    root: bool


@dataclass(frozen=True, slots=True)
class DuctLesion:
    """A finding's centre on a duct view, with the finding type (its colour)."""

    short_id: str
    colour_key: str
    centre: Point


@dataclass(frozen=True, slots=True)
class DuctView:
    """An image with traced ducts, for the surgeon's page schematic.

    Attributes
    ----------
    sop_instance_uid, frame
        The image (frame 1-based).
    view_label
        e.g. ``"L CC #3"``.
    lines
        The segments traced on it.
    nipple
        The nipple landmark on it, ``None`` when not placed.
    lesions
        The findings marked on it.
    """

    sop_instance_uid: str
    frame: int
    view_label: str
    lines: tuple[DuctLine, ...]
    nipple: Point | None
    lesions: tuple[DuctLesion, ...]


def _key(uid: str, frame: int | None) -> tuple[str, int]:
    return uid, frame or 1


def _nearest_on(points: Sequence[Point], target: Point) -> tuple[float, float]:
    """Return (distance to the polyline, arc length from its first point to the foot)."""
    best, along, walked = math.inf, 0.0, 0.0
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        dx, dy = x1 - x0, y1 - y0
        length = math.hypot(dx, dy)
        t = 0.0 if length == 0 else ((target[0] - x0) * dx + (target[1] - y0) * dy) / length**2
        t = min(1.0, max(0.0, t))
        distance = math.hypot(x0 + t * dx - target[0], y0 + t * dy - target[1])
        if distance < best:
            best, along = distance, walked + t * length
        walked += length
    return best, along


def _pixel_length(points: Sequence[Point]) -> float:
    return sum(math.hypot(x1 - x0, y1 - y0) for (x0, y0), (x1, y1) in itertools.pairwise(points))


def _mm(segment: DuctSegment) -> float | None:
    value = segment.path_length
    if value is None or str(value.unit.value) != "mm":
        return None
    return float(value.value)


def _chain(segment: DuctSegment, by_uid: Mapping[str, DuctSegment]) -> list[DuctSegment]:
    """Return the segment's ancestors and itself, root first (a cycle stops the walk)."""
    chain = [segment]
    seen = {segment.tracking_uid}
    while (parent := chain[-1].parent_uid) is not None and parent in by_uid:
        if parent in seen:
            break
        seen.add(parent)
        chain.append(by_uid[parent])
    return chain[::-1]


def _proximal_is_first(
    segment: DuctSegment, by_uid: Mapping[str, DuctSegment], nipple: Point | None
) -> bool:
    """Whether the segment's first point is its end nearer the orifice."""
    first, last = segment.region.points[0], segment.region.points[-1]
    parent = by_uid.get(segment.parent_uid or "")
    if parent is not None and parent.region.sop_instance_uid == segment.region.sop_instance_uid:
        to_first, _ = _nearest_on(parent.region.points, first)
        to_last, _ = _nearest_on(parent.region.points, last)
        return to_first <= to_last
    if nipple is not None:
        return math.dist(first, nipple) <= math.dist(last, nipple)
    return True


def _near_px(record: ImageRecord | None) -> float:
    calibration = None if record is None else record.calibration
    if calibration is None or calibration.row_spacing_mm is None:
        return NEAR_DUCT_PX
    spacing = calibration.row_spacing_mm
    if calibration.column_spacing_mm is not None:
        spacing = (spacing + calibration.column_spacing_mm) / 2.0
    return NEAR_DUCT_MM / spacing


def _path_of(
    finding: Finding,
    segments: Mapping[tuple[str, int], list[DuctSegment]],
    by_uid: Mapping[str, DuctSegment],
    nipples: Mapping[tuple[str, int], Point],
    records: Mapping[str, ImageRecord],
    labels: Mapping[str, str],
) -> DuctPath | None:
    for region in finding.regions:
        key = _key(region.sop_instance_uid, region.frame)
        on_image = segments.get(key)
        if not on_image:
            continue
        label = labels.get(region.sop_instance_uid, region.sop_instance_uid)
        centre = region_center(region)
        segment = min(on_image, key=lambda s: _nearest_on(s.region.points, centre)[0])
        distance, along = _nearest_on(segment.region.points, centre)
        if distance > _near_px(records.get(region.sop_instance_uid)):
            return DuctPath(finding.short_id, (), None, label)
        chain = _chain(segment, by_uid)
        total_px = _pixel_length(segment.region.points)
        if not _proximal_is_first(segment, by_uid, nipples.get(key)):
            along = total_px - along
        lengths = [_mm(s) for s in chain]
        length: float | None = None
        if all(value is not None for value in lengths) and total_px > 0:
            whole = [value for value in lengths if value is not None]
            length = sum(whole[:-1]) + whole[-1] * along / total_px
        return DuctPath(finding.short_id, tuple(s.short_id for s in chain), length, label)
    return None


def duct_paths(
    annotations: AnnotationSet,
    records: Mapping[str, ImageRecord],
    labels: Mapping[str, str],
) -> tuple[DuctPath, ...]:
    """Return the duct path of every finding marked on an image with traced segments.

    Parameters
    ----------
    annotations
        The study's marks.
    records
        The images by SOP Instance UID (their calibration sets the "near" distance).
    labels
        View labels by SOP Instance UID.

    Returns
    -------
    tuple of DuctPath
        In finding order; findings on no image with a traced duct are left out.
    """
    segments: dict[tuple[str, int], list[DuctSegment]] = {}
    for segment in annotations.duct_segments:
        region = segment.region
        segments.setdefault(_key(region.sop_instance_uid, region.frame), []).append(segment)
    by_uid = {s.tracking_uid: s for s in annotations.duct_segments}
    nipples = {_key(n.sop_instance_uid, n.frame): n.point for n in annotations.landmarks}
    found = (
        _path_of(finding, segments, by_uid, nipples, records, labels)
        for finding in annotations.findings
    )
    return tuple(path for path in found if path is not None)


def duct_views(annotations: AnnotationSet, labels: Mapping[str, str]) -> tuple[DuctView, ...]:
    """Return each image (frame) with traced segments, in the order first traced.

    Parameters
    ----------
    annotations
        The study's marks.
    labels
        View labels by SOP Instance UID.

    Returns
    -------
    tuple of DuctView
        Segments, nipple and findings of each image.
    """
    order: list[tuple[str, int]] = []
    lines: dict[tuple[str, int], list[DuctLine]] = {}
    for segment in annotations.duct_segments:
        key = _key(segment.region.sop_instance_uid, segment.region.frame)
        if key not in lines:
            order.append(key)
            lines[key] = []
        lines[key].append(
            DuctLine(segment.short_id, tuple(segment.region.points), segment.parent_uid is None)
        )
    nipples = {_key(n.sop_instance_uid, n.frame): n.point for n in annotations.landmarks}
    views: list[DuctView] = []
    for key in order:
        lesions = tuple(
            DuctLesion(f.short_id, f.finding_type.value, region_center(region))
            for f in annotations.findings
            for region in f.regions
            if _key(region.sop_instance_uid, region.frame) == key
        )
        views.append(
            DuctView(
                key[0],
                key[1],
                labels.get(key[0], key[0]),
                tuple(lines[key]),
                nipples.get(key),
                lesions,
            )
        )
    return tuple(views)
