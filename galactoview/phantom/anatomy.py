"""The 3-D breast model of the phantom: envelope, cannulated duct tree and lesions.

Coordinates are millimetres in a *nipple frame* attached to the breast:

* origin at the nipple tip (the landmark surgeons measure from);
* ``x`` towards the patient's **left**, ``y`` **posterior** (from the nipple towards the
  chest wall), ``z`` **superior** — the axes of the DICOM patient coordinate system
  (PS3.3 C.7.6.2.1.1, LPS) with the origin moved to the nipple.

The ductal lobe, its lesions and the nipple are rigid in this frame and shared by every
view of a breast, so a lesion's ground truth is exact in each projection. Each view
compresses the envelope on its own (see :mod:`galactoview.phantom.geometry`); the lobe is
kept within the central slab that every view's compression holds. That is the model's one
simplification: real compression deforms the lobe a little differently in CC and ML.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

Vec = NDArray[np.float64]


class Side(StrEnum):
    """Breast laterality, valued as Image Laterality (0020,0062), PS3.3 C.8.11.7."""

    LEFT = "L"
    RIGHT = "R"

    @property
    def lateral_sign(self) -> float:
        """+1 when lateral is the patient's left (+x), -1 when it is the patient's right."""
        return 1.0 if self is Side.LEFT else -1.0


class LesionKind(StrEnum):
    """Ground-truth lesion kinds, named after their CID 6057 Ductography Findings concept."""

    FILLING_DEFECT = "intraluminal_filling_defect"
    CYST_FILL = "cyst_fill"
    DUCT_ECTASIA = "duct_ectasia"


@dataclass(frozen=True, slots=True)
class DuctSegment:
    """One straight piece of duct: a truncated cone from ``start`` to ``end``.

    Attributes
    ----------
    start, end
        Axis end points in the nipple frame (mm).
    radius_start, radius_end
        Lumen radius at each end (mm).
    order
        Branch order: 0 for the cannulated trunk, +1 at each bifurcation.
    terminal
        True when nothing branches from ``end`` (a rounded duct end).
    """

    start: tuple[float, float, float]
    end: tuple[float, float, float]
    radius_start: float
    radius_end: float
    order: int
    terminal: bool = False

    def __post_init__(self) -> None:
        if self.radius_start <= 0 or self.radius_end <= 0:
            raise ValueError("duct radii must be positive")

    @property
    def length(self) -> float:
        """Axis length in mm."""
        return float(np.linalg.norm(np.subtract(self.end, self.start)))

    @property
    def midpoint(self) -> tuple[float, float, float]:
        """Centre of the axis."""
        s, e = np.asarray(self.start), np.asarray(self.end)
        m = (s + e) / 2.0
        return (float(m[0]), float(m[1]), float(m[2]))


@dataclass(frozen=True, slots=True)
class Sphere:
    """A ball of given centre and radius (mm), used for cysts and papillomas."""

    center: tuple[float, float, float]
    radius: float


@dataclass(frozen=True, slots=True)
class Distension:
    """A spheroid widening of the lumen around a papilloma (the duct it distends).

    Attributes
    ----------
    center
        Centre (nipple frame, mm), on the duct axis.
    axis
        Unit vector along the duct.
    half_length
        Semi-axis along the duct (mm).
    radius
        Semi-axis across the duct (mm).
    """

    center: tuple[float, float, float]
    axis: tuple[float, float, float]
    half_length: float
    radius: float


@dataclass(frozen=True, slots=True)
class Lesion:
    """A ground-truth lesion: what a radiologist should mark and a surgeon should find.

    Attributes
    ----------
    identifier
        Stable short id, e.g. ``"defect-1"``.
    kind
        What it is.
    center
        Position in the nipple frame (mm).
    size_mm
        Diameter of the filling defect or cyst; calibre of the ectatic segment.
    """

    identifier: str
    kind: LesionKind
    center: tuple[float, float, float]
    size_mm: float


@dataclass(frozen=True, slots=True)
class Breast:
    """One breast: envelope dimensions, texture seed, duct tree and lesions.

    Attributes
    ----------
    side
        Laterality.
    chest_wall_depth
        Distance from the nipple tip to the chest wall along the posterior nipple line (mm).
    half_width
        Half extent of the breast at the chest wall, across the depth axis (mm).
    thickness
        Compressed thickness used by every view (mm).
    nipple_length, nipple_radius
        Nipple protrusion (mm).
    texture_seed
        Seed of the 3-D fibroglandular texture.
    density
        Mean glandular fraction scale, 0..1.
    ducts
        Contrast-filled lumen of the cannulated lobe (empty for a breast not injected).
    papillomas
        Soft-tissue balls inside the lumen: intraluminal filling defects.
    distensions
        Lumen widenings around the papillomas, filled with contrast around them.
    cysts
        Round sacs at duct ends, filled with contrast after injection.
    lesions
        Ground-truth lesions (defects, cysts, ectatic segment).
    """

    side: Side
    chest_wall_depth: float
    half_width: float
    thickness: float
    nipple_length: float
    nipple_radius: float
    texture_seed: int
    density: float
    ducts: tuple[DuctSegment, ...] = ()
    papillomas: tuple[Sphere, ...] = ()
    distensions: tuple[Distension, ...] = ()
    cysts: tuple[Sphere, ...] = ()
    lesions: tuple[Lesion, ...] = field(default=())


# --- duct tree growth -----------------------------------------------------------------

#: The lobe is kept inside this distance of the nipple axis so that the CC and ML
#: compressions (thickness >= 58 mm, mid-plane through the nipple) both hold it.
LOBE_RADIUS_LIMIT_MM = 28.0


def as_point(v: Vec) -> tuple[float, float, float]:
    """Convert a 3-vector to a plain-float point (hashable, JSON-friendly)."""
    return (float(v[0]), float(v[1]), float(v[2]))


def _unit(v: Vec) -> Vec:
    return v / float(np.linalg.norm(v))


def _rotate_towards(direction: Vec, angle_rad: float, azimuth_rad: float) -> Vec:
    """Rotate ``direction`` by ``angle_rad`` away from itself, in the plane set by ``azimuth``."""
    helper = np.array([1.0, 0.0, 0.0]) if abs(direction[0]) < 0.9 else np.array([0.0, 0.0, 1.0])
    e1 = _unit(np.cross(direction, helper))
    e2 = np.cross(direction, e1)
    off = math.cos(azimuth_rad) * e1 + math.sin(azimuth_rad) * e2
    return _unit(math.cos(angle_rad) * direction + math.sin(angle_rad) * off)


@dataclass(slots=True)
class _TreeGrower:
    """Grows a bifurcating duct tree inside a lobe cone (mutable helper, internal)."""

    rng: np.random.Generator
    lobe_axis: Vec
    max_depth: float
    max_order: int
    segments: list[DuctSegment] = field(default_factory=list)

    def _steer(self, direction: Vec, position: Vec) -> Vec:
        # Keep branches in the lobe cone and inside the slab every view's compression holds.
        d = direction
        cos_cone = float(np.dot(d, self.lobe_axis))
        if cos_cone < math.cos(math.radians(48.0)):
            d = _unit(d + 0.6 * self.lobe_axis)
        radial = math.hypot(position[0], position[2])
        if radial > 0.8 * LOBE_RADIUS_LIMIT_MM:
            inward = -np.array([position[0], 0.0, position[2]]) / radial
            d = _unit(d + 0.8 * inward + 0.3 * np.array([0.0, 1.0, 0.0]))
        if d[1] < 0.35:  # ducts run from the nipple towards the chest wall
            d = _unit(d + np.array([0.0, 0.6, 0.0]))
        return d

    def grow(self, start: Vec, direction: Vec, radius: float, order: int) -> None:
        """Grow one duct (a gently curved run of 3 segments) and recurse into its branches."""
        length = float(self.rng.uniform(12.0, 22.0)) * 0.9**order
        position, d = start, direction
        r0 = radius
        r1 = radius * 0.93
        pieces = 3
        stop = False
        for k in range(pieces):
            d = self._steer(
                _rotate_towards(d, math.radians(self.rng.uniform(0, 12)), self.rng.uniform(0, 6.3)),
                position,
            )
            end = position + d * (length / pieces)
            ra = r0 + (r1 - r0) * k / pieces
            rb = r0 + (r1 - r0) * (k + 1) / pieces
            last = k == pieces - 1
            stop = self._stops(end, r1, order) if last else False
            self.segments.append(
                DuctSegment(
                    as_point(position), as_point(end), ra, rb, order, terminal=last and stop
                )
            )
            position = end
        if stop:
            return
        spread = math.radians(self.rng.uniform(30.0, 55.0))
        azimuth = float(self.rng.uniform(0.0, 2 * math.pi))
        share = float(self.rng.uniform(0.45, 0.6))
        for child, (angle, az, scale) in enumerate(
            ((spread * share, azimuth, 0.86), (spread * (1 - share), azimuth + math.pi, 0.78))
        ):
            del child
            self.grow(
                position,
                self._steer(_rotate_towards(d, angle, az), position),
                r1 * scale,
                order + 1,
            )

    def _stops(self, position: Vec, radius: float, order: int) -> bool:
        # One draw per call whatever the outcome, so the rng stream stays easy to follow.
        chance = float(self.rng.uniform())
        if order >= self.max_order or radius < 0.25 or position[1] > self.max_depth:
            return True
        return order >= 3 and chance < 0.35


def grow_duct_tree(
    rng: np.random.Generator, orifice: Vec, lobe_axis: Vec, chest_wall_depth: float
) -> list[DuctSegment]:
    """Grow the cannulated lobe: orifice → lactiferous sinus → branching ducts.

    Parameters
    ----------
    rng
        Random generator (the only source of randomness).
    orifice
        Duct orifice on the nipple surface (nipple frame, mm).
    lobe_axis
        Unit vector the lobe spreads around.
    chest_wall_depth
        Depth of the chest wall (mm); ducts stop short of it.

    Returns
    -------
    list of DuctSegment
        Segments in growth order, trunk first.
    """
    segments: list[DuctSegment] = []
    # The orifice canal through the nipple is narrow; behind the nipple the lactiferous
    # sinus (ampulla) widens before the collecting duct.
    sinus_start = orifice + np.array([0.0, 9.0, 0.0])
    sinus_end = sinus_start + _unit(np.array([0.0, 1.0, 0.0]) + 0.4 * lobe_axis) * 9.0
    segments.append(DuctSegment(as_point(orifice), as_point(sinus_start), 0.35, 0.7, 0))
    segments.append(DuctSegment(as_point(sinus_start), as_point(sinus_end), 1.4, 1.2, 0))
    grower = _TreeGrower(rng, lobe_axis, max_depth=0.82 * chest_wall_depth, max_order=6)
    grower.segments = segments
    grower.grow(sinus_end, _unit(0.5 * lobe_axis + 0.5 * _unit(sinus_end - sinus_start)), 1.05, 1)
    return grower.segments


def clock_angle_deg(point: tuple[float, float, float]) -> float:
    """Clock-face angle of a point, in degrees clockwise from 12 o'clock.

    The clock is read facing the patient: 12 o'clock is superior (+z), 3 o'clock is the
    viewer's right, which is the patient's left (+x). So 3 o'clock is lateral in the left
    breast and medial in the right breast.
    """
    x, _, z = point
    return math.degrees(math.atan2(x, z)) % 360.0


def radial_offset_mm(point: tuple[float, float, float]) -> float:
    """Distance of a point from the nipple axis (the posterior nipple line), in mm."""
    return math.hypot(point[0], point[2])
