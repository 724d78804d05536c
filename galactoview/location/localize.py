"""Where a lesion lies in the breast, for the surgeon: clock face, quadrant, depth, distance.

Qt-free. Input is what the radiologist marks: the lesion and the nipple on a CC view and
on a lateral (ML/LM) or oblique (MLO) view of the same breast, and the chest-wall
reference of each image. Conventions (reference: ``galactography.md`` section 3; the
phantom's ground truth, ``sample_data/README.md``):

* **Nipple frame**: DICOM patient axes (PS3.3 C.7.6.2.1.1) with the origin at the
  nipple: ``x`` patient-left, ``ap`` posterior, ``z`` superior. A CC view gives ``x``
  and ``ap``, a lateral view ``z`` and ``ap`` (:mod:`galactoview.location.frame`).
* **Clock face** (CID 6018): as if facing the patient, 12 o'clock superior; the angle
  ``atan2(x, z)`` clockwise from 12, so 3 o'clock is the patient's left — lateral in the
  left breast, medial in the right. Hour = the angle rounded to the nearest 30°, 0 → 12.
* **Quadrant** (CID 6020): upper/lower from ``z``, outer when ``x`` points laterally
  (patient-left for the left breast, patient-right for the right).
* **Subareolar** (CID 6018 *Subareolar region*): within :data:`SUBAREOLAR_RADIUS_MM` of
  the nipple, 3-D distance — the phantom's definition. The quadrant is still given.
* **Depth** (CID 6024): the fraction of the nipple–chest wall distance along the
  posterior nipple line; thirds at ⅓ and ⅔. With two views the fraction is the **mean
  of the two views' fractions** (each view compresses the breast on its own, so each
  fraction is relative to its own chest-wall distance).
* **Distance from the nipple** (121242, DCM): in one view the 2-D image distance; for a
  pair ``sqrt(ap² + x² + z²)`` with ``ap`` the mean of the two views' posterior offsets.
  mm come from each image's calibration (magnification-corrected for the breast's
  mid-plane, :mod:`galactoview.dicom.calibration`); without calibration no mm are given.
* **Oblique views**: the oblique axis is taken as superior–inferior (lateral lesions
  project higher); a result using an MLO says so (:attr:`BreastLocation.oblique_approximated`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

from pydicom.sr.coding import Code

from galactoview.annotations.model import Finding, GraphicType, ImageRegion, NippleLandmark
from galactoview.dicom.mammography import Laterality
from galactoview.location import codes
from galactoview.location.frame import ChestWallLine, ImageFrame, ImageInfo, ViewFamily

__all__ = [
    "SUBAREOLAR_RADIUS_MM",
    "UNCONFIRMED_NIPPLE_NOTE",
    "BreastLocation",
    "ClockHalf",
    "DepthThird",
    "FindingLocation",
    "Quadrant",
    "ViewLocation",
    "clock_angle_deg",
    "clock_hour",
    "depth_third",
    "localize_finding",
    "localize_pair",
    "localize_view",
    "missing_marks",
    "quadrant_of",
    "region_center",
    "view_label",
]

#: A lesion within this 3-D distance of the nipple is subareolar (as the phantom defines it).
SUBAREOLAR_RADIUS_MM: Final = 20.0
#: End of the note of a location resting on a suggested nipple the reader has not
#: confirmed (:attr:`NippleLandmark.confirmed`): "nipple on L CC suggested, not confirmed…".
UNCONFIRMED_NIPPLE_NOTE: Final = "suggested, not confirmed by the reader"
#: Offsets smaller than this (mm or px) are "on the axis": no half of the clock.
_ON_AXIS: Final = 1e-6


class ClockHalf(StrEnum):
    """The half of the clock face one view constrains."""

    LATERAL = "lateral"
    MEDIAL = "medial"
    SUPERIOR = "superior"
    INFERIOR = "inferior"


class Quadrant(StrEnum):
    """Quadrant of the breast (PS3.16 CID 6020), valued by its usual abbreviation."""

    UOQ = "UOQ"
    UIQ = "UIQ"
    LOQ = "LOQ"
    LIQ = "LIQ"

    @property
    def code(self) -> Code:
        """Return the coded concept (CID 6020)."""
        return _QUADRANT_CODES[self]


_QUADRANT_CODES: Final[dict[Quadrant, Code]] = {
    Quadrant.UOQ: codes.UPPER_OUTER_QUADRANT,
    Quadrant.UIQ: codes.UPPER_INNER_QUADRANT,
    Quadrant.LOQ: codes.LOWER_OUTER_QUADRANT,
    Quadrant.LIQ: codes.LOWER_INNER_QUADRANT,
}


class DepthThird(StrEnum):
    """Third of the nipple–chest wall distance (PS3.16 CID 6024)."""

    ANTERIOR = "anterior"
    MIDDLE = "middle"
    POSTERIOR = "posterior"

    @property
    def code(self) -> Code:
        """Return the coded concept (CID 6024)."""
        return _DEPTH_CODES[self]


_DEPTH_CODES: Final[dict[DepthThird, Code]] = {
    DepthThird.ANTERIOR: codes.ANTERIOR,
    DepthThird.MIDDLE: codes.MIDDLE,
    DepthThird.POSTERIOR: codes.POSTERIOR,
}


# --------------------------------------------------------------------- small rules


def clock_angle_deg(x_left: float, z_superior: float) -> float:
    """Return the clock-face angle in degrees, clockwise from 12 as if facing the patient.

    Parameters
    ----------
    x_left, z_superior
        Offset from the nipple towards the patient's left and head.

    Returns
    -------
    float
        In [0, 360): 90° is 3 o'clock, the patient's left.
    """
    return math.degrees(math.atan2(x_left, z_superior)) % 360.0


def clock_hour(angle_deg: float) -> int:
    """Return the clock hour 1..12 nearest an angle from :func:`clock_angle_deg`.

    Parameters
    ----------
    angle_deg
        Clockwise from 12 o'clock.

    Returns
    -------
    int
        1..12.
    """
    return round(angle_deg / 30.0) % 12 or 12


def quadrant_of(x_left: float, z_superior: float, laterality: Laterality) -> Quadrant:
    """Return the quadrant of a position: outer means lateral for that breast.

    Parameters
    ----------
    x_left, z_superior
        Offset from the nipple.
    laterality
        The breast, LEFT or RIGHT.

    Returns
    -------
    Quadrant
        Upper when ``z > 0``; outer when ``x`` points laterally.
    """
    lateral = x_left * _lateral_sign(laterality) > 0
    upper = z_superior > 0
    return {
        (True, True): Quadrant.UOQ,
        (True, False): Quadrant.UIQ,
        (False, True): Quadrant.LOQ,
        (False, False): Quadrant.LIQ,
    }[(upper, lateral)]


def depth_third(fraction: float) -> DepthThird:
    """Return the third of a depth fraction (< ⅓ anterior, < ⅔ middle, else posterior).

    Parameters
    ----------
    fraction
        Posterior offset over the nipple–chest wall distance.

    Returns
    -------
    DepthThird
        The third.
    """
    if fraction < 1.0 / 3.0:
        return DepthThird.ANTERIOR
    if fraction < 2.0 / 3.0:
        return DepthThird.MIDDLE
    return DepthThird.POSTERIOR


def _lateral_sign(laterality: Laterality) -> float:
    if laterality is Laterality.LEFT:
        return 1.0
    if laterality is Laterality.RIGHT:
        return -1.0
    raise ValueError("laterality must be LEFT or RIGHT")


# --------------------------------------------------------------------- one view


@dataclass(frozen=True, slots=True)
class ViewLocation:
    """What one view says about a point's location.

    Attributes
    ----------
    sop_instance_uid
        The image.
    family
        CC, lateral or oblique.
    laterality
        The breast.
    posterior_mm, across_mm
        Offset from the nipple along the posterior nipple line and across it
        (patient-left on CC, superior on lateral/oblique), mm; ``None`` uncalibrated.
    posterior_px, across_px
        The same in the image's pixel space (mm / spacing is not needed to use them).
    distance_mm
        2-D distance from the nipple on this image, mm (magnification-corrected by the
        calibration); ``None`` when the image is not calibrated.
    depth_fraction
        Posterior offset / nipple–chest wall distance; ``None`` without a chest-wall
        reference.
    depth
        Its third, or ``None``.
    half
        Half of the clock: LATERAL/MEDIAL (CC) or SUPERIOR/INFERIOR (lateral, oblique);
        ``None`` exactly on the nipple axis.
    notes
        Assumptions and missing inputs, one line each (uncalibrated, oblique, ...).
    """

    sop_instance_uid: str
    family: ViewFamily
    laterality: Laterality
    posterior_mm: float | None
    across_mm: float | None
    posterior_px: float
    across_px: float
    distance_mm: float | None
    depth_fraction: float | None
    depth: DepthThird | None
    half: ClockHalf | None
    notes: tuple[str, ...] = ()

    @property
    def is_oblique(self) -> bool:
        """Return whether the superior–inferior offset is approximate (MLO)."""
        return self.family is ViewFamily.OBLIQUE


def localize_view(
    info: ImageInfo,
    point: tuple[float, float],
    nipple: tuple[float, float],
    chest_wall: ChestWallLine | None = None,
) -> ViewLocation:
    """Locate a point on one image relative to the nipple.

    Parameters
    ----------
    info
        The image's header values.
    point, nipple
        SCOORD (column, row) coordinates of the lesion and the nipple on this image.
    chest_wall
        Chest-wall reference. For CC and lateral views the default is the posterior
        image edge (from the orientation), except on magnification views, whose edge
        is not the chest wall; for an oblique view the pectoral line must be given.
        Without a reference the depth is ``None``.

    Returns
    -------
    ViewLocation
        Distance, depth and clock half.

    Raises
    ------
    ValueError
        When the image cannot be localized (see :meth:`ImageFrame.from_info`).
    """
    frame = ImageFrame.from_info(info)
    notes = list(frame.notes)
    reference = chest_wall
    if reference is None:
        if frame.family is ViewFamily.OBLIQUE:
            notes.append(f"no pectoral line: {_DEPTH_UNKNOWN}")
        elif info.magnified:
            notes.append(
                f"magnification view: the image edge is not the chest wall, {_DEPTH_UNKNOWN}"
            )
        else:
            reference = frame.posterior_edge()
    mm = frame.offset(point, nipple)
    d_col, d_row = point[0] - nipple[0], point[1] - nipple[1]
    posterior_px = d_col * frame.posterior_axis[0] + d_row * frame.posterior_axis[1]
    across_px = d_col * frame.across_axis[0] + d_row * frame.across_axis[1]
    fraction: float | None = None
    if reference is not None:
        fraction = frame.depth_fraction(point, nipple, reference)
        if fraction is None:
            notes.append(f"the chest-wall reference is not behind the nipple: {_DEPTH_UNKNOWN}")
    calibrated = info.is_calibrated
    if not calibrated:
        notes.append("uncalibrated image: no distances in mm")
    if abs(mm.across) < _ON_AXIS:
        half = None
    elif frame.family is ViewFamily.CC:
        lateral = mm.across * _lateral_sign(info.laterality) > 0
        half = ClockHalf.LATERAL if lateral else ClockHalf.MEDIAL
    else:
        half = ClockHalf.SUPERIOR if mm.across > 0 else ClockHalf.INFERIOR
    return ViewLocation(
        info.sop_instance_uid,
        frame.family,
        info.laterality,
        mm.posterior if calibrated else None,
        mm.across if calibrated else None,
        posterior_px,
        across_px,
        math.hypot(mm.posterior, mm.across) if calibrated else None,
        fraction,
        None if fraction is None else depth_third(fraction),
        half,
        tuple(notes),
    )


# --------------------------------------------------------------------- two views


@dataclass(frozen=True, slots=True)
class BreastLocation:
    """A lesion's location in the breast from a CC view and a lateral or oblique view.

    Attributes
    ----------
    laterality
        The breast.
    x_left, z_superior, posterior
        Offset from the nipple (mm; pixels when :attr:`in_mm` is false): patient-left
        from the CC view, superior from the lateral/oblique view, posterior the mean of
        both views.
    in_mm
        Whether both views were calibrated.
    clock_angle_deg
        Clockwise from 12, facing the patient.
    clock_hour
        1..12.
    quadrant
        UOQ / UIQ / LOQ / LIQ.
    subareolar
        Within :data:`SUBAREOLAR_RADIUS_MM` of the nipple (3-D); ``None`` uncalibrated.
    depth_fraction, depth
        Mean of the two views' depth fractions and its third; ``None`` when neither
        view has a chest-wall reference (one view's fraction is used when only it has).
    distance_mm
        3-D distance from the nipple ``sqrt(posterior² + x² + z²)``; ``None`` uncalibrated.
    cc, other
        The two views used.
    oblique_approximated
        True when the superior offset came from an oblique view.
    notes
        Assumptions, one line each.
    """

    laterality: Laterality
    x_left: float
    z_superior: float
    posterior: float
    in_mm: bool
    clock_angle_deg: float
    clock_hour: int
    quadrant: Quadrant
    subareolar: bool | None
    depth_fraction: float | None
    depth: DepthThird | None
    distance_mm: float | None
    cc: ViewLocation
    other: ViewLocation
    oblique_approximated: bool
    notes: tuple[str, ...] = ()

    @property
    def source_sop_instance_uids(self) -> tuple[str, str]:
        """Return the images used: (CC, lateral or oblique)."""
        return (self.cc.sop_instance_uid, self.other.sop_instance_uid)

    @property
    def clock_code(self) -> Code:
        """Return the o'clock position (CID 6018)."""
        return codes.CLOCK_HOURS[self.clock_hour]

    @property
    def region_code(self) -> Code:
        """Return the CID 6018 value: *Subareolar region* when subareolar, else the hour."""
        return codes.SUBAREOLAR_REGION if self.subareolar else self.clock_code


def localize_pair(cc: ViewLocation, other: ViewLocation) -> BreastLocation:
    """Combine a CC view and a lateral (or oblique) view of the same point.

    Parameters
    ----------
    cc
        From a CC-like view.
    other
        From a lateral (ML/LM) or oblique (MLO) view of the same breast.

    Returns
    -------
    BreastLocation
        Clock, quadrant, depth and distance.

    Raises
    ------
    ValueError
        If the views are not a CC plus a lateral/oblique view of the same breast.
    """
    if cc.family is not ViewFamily.CC:
        raise ValueError("the first view must be CC-like")
    if other.family is ViewFamily.CC:
        raise ValueError("the second view must be lateral or oblique")
    if cc.laterality is not other.laterality:
        raise ValueError("the two views show different breasts")
    notes = [*cc.notes, *(n for n in other.notes if n not in cc.notes)]
    in_mm = cc.posterior_mm is not None and other.posterior_mm is not None
    if in_mm:
        assert cc.posterior_mm is not None and cc.across_mm is not None
        assert other.posterior_mm is not None and other.across_mm is not None
        x, z = cc.across_mm, other.across_mm
        ap = (cc.posterior_mm + other.posterior_mm) / 2.0
    else:
        x, z = cc.across_px, other.across_px
        ap = (cc.posterior_px + other.posterior_px) / 2.0
        notes.append("clock face from pixel offsets: assumes equal pixel sizes on both views")
    fractions = [f for f in (cc.depth_fraction, other.depth_fraction) if f is not None]
    fraction = sum(fractions) / len(fractions) if fractions else None
    if len(fractions) == 1:  # one view gave the depth: its notes must not say "unknown"
        only = cc if cc.depth_fraction is not None else other
        notes = [_depth_from(note, only.family) for note in notes]
    distance = math.sqrt(ap * ap + x * x + z * z) if in_mm else None
    angle = clock_angle_deg(x, z)
    return BreastLocation(
        cc.laterality,
        x,
        z,
        ap,
        in_mm,
        angle,
        clock_hour(angle),
        quadrant_of(x, z, cc.laterality),
        None if distance is None else distance < SUBAREOLAR_RADIUS_MM,
        fraction,
        None if fraction is None else depth_third(fraction),
        distance,
        cc,
        other,
        other.is_oblique,
        tuple(notes),
    )


_DEPTH_UNKNOWN: Final = "depth unknown"


def _depth_from(note: str, family: ViewFamily) -> str:
    """Return a view's "…: depth unknown" note as "…: depth from the CC view only"."""
    if not note.endswith(_DEPTH_UNKNOWN):
        return note
    return f"{note.removesuffix(_DEPTH_UNKNOWN)}depth from the {family.value} view only"


# --------------------------------------------------------------------- annotations


def region_center(region: ImageRegion) -> tuple[float, float]:
    """Return the point a region stands for.

    POINT: the point; CIRCLE: its centre (first point); ELLIPSE: the centre (mean of the
    four axis ends); POLYLINE: the mean of its vertices (the closing duplicate of a
    closed polyline counted once).

    Parameters
    ----------
    region
        A TID 1410 image region (PS3.3 C.18.6.1.2).

    Returns
    -------
    tuple of float
        (column, row).
    """
    points: Sequence[tuple[float, float]] = region.points
    if region.graphic_type in (GraphicType.POINT, GraphicType.CIRCLE):
        return points[0]
    if region.is_closed:
        points = points[:-1]
    n = len(points)
    return (sum(p[0] for p in points) / n, sum(p[1] for p in points) / n)


@dataclass(frozen=True, slots=True)
class FindingLocation:
    """Localization of one annotated finding.

    Attributes
    ----------
    tracking_uid
        The finding's Tracking UID.
    views
        One :class:`ViewLocation` per region that could be localized.
    breast
        The two-view result, ``None`` without a CC plus a lateral/oblique view.
    problems
        Why regions were skipped or no two-view result was made.
    missing
        Without a two-view result: what the reader still has to mark, one item each,
        e.g. ``"an ML or MLO region"``, ``"the nipple on the L ML"``, ``"a CC region"``
        (:func:`missing_marks`); empty when located or when nothing marking could fix.
    """

    tracking_uid: str
    views: tuple[ViewLocation, ...]
    breast: BreastLocation | None
    problems: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()


def view_label(info: ImageInfo) -> str:
    """Return how a view is named to the reader, e.g. ``"L CC"`` (``"CC"`` without a side)."""
    side = info.laterality.value if info.laterality in (Laterality.LEFT, Laterality.RIGHT) else ""
    return f"{side} {info.view}".strip()


def missing_marks(
    finding: Finding,
    landmarks: Iterable[NippleLandmark],
    images: Mapping[str, ImageInfo],
) -> tuple[str, ...]:
    """Return what a finding still needs for a two-view location, one item each.

    A two-view location needs a region on a CC view and one on an ML/LM or MLO view of
    the same breast, each image with its nipple landmark (same image and frame). Items:

    * ``"a CC region"`` / ``"an ML or MLO region"`` when no region is on such a view;
    * ``"the nipple on the L CC"`` when the regions of a view family are all on images
      without a nipple landmark (the first such image named);
    * ``"a CC and an ML or MLO region of the same breast"`` when both families are
      marked but on different breasts.

    Regions on images that are not loaded (or of no usable view) are left out.

    Parameters
    ----------
    finding
        The finding.
    landmarks
        The study's nipple landmarks.
    images
        Header values by SOP Instance UID.

    Returns
    -------
    tuple of str
        Empty when nothing is missing.
    """
    nipples = {(n.sop_instance_uid, n.frame) for n in landmarks}
    on: dict[bool, list[tuple[ImageInfo, bool]]] = {True: [], False: []}
    for region in finding.regions:
        info = images.get(region.sop_instance_uid)
        if info is None or info.family is None:
            continue
        has_nipple = (region.sop_instance_uid, region.frame) in nipples
        on[info.family is ViewFamily.CC].append((info, has_nipple))
    missing: list[str] = []
    for is_cc, what in ((True, "a CC region"), (False, "an ML or MLO region")):
        marked = on[is_cc]
        if not marked:
            missing.append(what)
        elif not any(has_nipple for _, has_nipple in marked):
            missing.append(f"the nipple on the {view_label(marked[0][0])}")
    if not missing:
        sides = {info.laterality for info, _ in on[True]}
        if not sides & {info.laterality for info, _ in on[False]}:
            missing.append("a CC and an ML or MLO region of the same breast")
    return tuple(missing)


def _preference(info: ImageInfo) -> tuple[int, int]:
    """Order candidate images: true lateral before oblique, standard before magnified."""
    return (1 if info.family is ViewFamily.OBLIQUE else 0, 1 if info.magnified else 0)


def localize_finding(
    finding: Finding,
    landmarks: Iterable[NippleLandmark],
    images: Mapping[str, ImageInfo],
    chest_walls: Mapping[str, ChestWallLine] | None = None,
) -> FindingLocation:
    """Locate a finding from its regions on a CC and a lateral (or oblique) image.

    Parameters
    ----------
    finding
        The annotated finding; each region's centre (:func:`region_center`) is its point.
    landmarks
        Nipple landmarks; a region needs the landmark of the same image and frame.
    images
        Header values by SOP Instance UID.
    chest_walls
        Chest-wall lines by SOP Instance UID (pectoral lines of oblique views, or any
        override of the posterior image edge).

    Returns
    -------
    FindingLocation
        Per-view results and, when a CC and a lateral/oblique view of the same breast
        are marked, the two-view location. Among several candidates the first region on
        a standard (not magnified) view is used, a true lateral before an oblique one.
    """
    landmarks_seen = tuple(landmarks)
    nipples = {(n.sop_instance_uid, n.frame): n.point for n in landmarks_seen}
    unconfirmed = {(n.sop_instance_uid, n.frame) for n in landmarks_seen if not n.confirmed}
    suggested_on: dict[str, str] = {}  # images whose nipple is only suggested, by UID
    walls = chest_walls or {}
    problems: list[str] = []
    located: list[tuple[ImageInfo, ViewLocation]] = []
    for region in finding.regions:
        uid = region.sop_instance_uid
        info = images.get(uid)
        if info is None:
            problems.append(f"image {uid} is not loaded")
            continue
        nipple = nipples.get((uid, region.frame))
        if nipple is None:
            problems.append(f"no nipple marked on {info.laterality.value}{info.view} ({uid})")
            continue
        try:
            view = localize_view(info, region_center(region), nipple, walls.get(uid))
        except ValueError as error:
            problems.append(f"{info.laterality.value}{info.view}: {error}")
            continue
        located.append((info, view))
        if (uid, region.frame) in unconfirmed:
            suggested_on[uid] = view_label(info)
    ccs = sorted(
        ((i, v) for i, v in located if v.family is ViewFamily.CC), key=lambda p: _preference(p[0])
    )
    others = sorted(
        ((i, v) for i, v in located if v.family is not ViewFamily.CC),
        key=lambda p: _preference(p[0]),
    )
    breast: BreastLocation | None = None
    pairs = [(c, o) for _, c in ccs for _, o in others if c.laterality is o.laterality]
    if pairs:
        breast = localize_pair(*pairs[0])
        resting = [suggested_on[u] for u in breast.source_sop_instance_uids if u in suggested_on]
        if resting:
            note = f"nipple on {' and '.join(resting)} {UNCONFIRMED_NIPPLE_NOTE}"
            breast = replace(breast, notes=(*breast.notes, note))
    elif not ccs or not others:
        problems.append("a clock position needs the finding on a CC and an ML/LM or MLO view")
    else:
        problems.append("the CC and lateral views marked show different breasts")
    missing = () if breast is not None else missing_marks(finding, landmarks_seen, images)
    return FindingLocation(
        finding.tracking_uid, tuple(v for _, v in located), breast, tuple(problems), missing
    )
