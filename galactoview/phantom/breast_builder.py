"""Draw a breast with a cannulated lobe and unambiguous lesions from a seed.

A draw is rejected (and the next one tried) when a ground-truth answer would be
ambiguous: a lesion within a few degrees of a clock-hour boundary or of a quadrant
boundary, near a depth-third boundary, too close to the nipple axis for a clock hour,
or a filling defect hidden behind another duct in the CC or ML projection.
"""

from __future__ import annotations

import math

import numpy as np

from galactoview.phantom.anatomy import (
    Breast,
    Distension,
    DuctSegment,
    Lesion,
    LesionKind,
    Side,
    Sphere,
    Vec,
    as_point,
    clock_angle_deg,
    grow_duct_tree,
    radial_offset_mm,
)

_MAX_DRAWS = 400


class PhantomDesignError(RuntimeError):
    """No acceptable breast could be drawn from this seed (never seen in practice)."""


def _point_segment_distance_2d(p: Vec, a: Vec, b: Vec) -> float:
    ab = b - a
    denom = float(np.dot(ab, ab))
    t = 0.0 if denom == 0 else min(1.0, max(0.0, float(np.dot(p - a, ab)) / denom))
    return float(np.linalg.norm(p - (a + t * ab)))


def _point_segment_distance_3d(p: Vec, seg: DuctSegment) -> float:
    return _point_segment_distance_2d(p, np.asarray(seg.start), np.asarray(seg.end))


def _unambiguous(center: tuple[float, float, float], chest_wall_depth: float) -> bool:
    """Tell whether clock hour, quadrant and depth third of ``center`` are clear-cut."""
    angle = clock_angle_deg(center)
    off_hour_boundary = abs((angle % 30.0) - 15.0) > 4.0
    x, y, z = center
    off_quadrant_boundary = abs(x) > 3.0 and abs(z) > 3.0
    third = y / chest_wall_depth
    off_third_boundary = abs(third - 1 / 3) > 0.04 and abs(third - 2 / 3) > 0.04
    far_from_axis = radial_offset_mm(center) >= 10.0
    return off_hour_boundary and off_quadrant_boundary and off_third_boundary and far_from_axis


def _hidden_in_projection(
    center: Vec, radius: float, segments: list[DuctSegment], own: set[int]
) -> bool:
    """Tell whether another duct overlaps ``center`` in the CC (drop z) or ML (drop x) view."""
    for axes in ((0, 1), (1, 2)):
        c2 = center[list(axes)]
        for i, seg in enumerate(segments):
            # Thin ducts crossing in projection do not hide a defect (lumens join by maximum).
            if (
                i in own
                or seg.radius_start < 0.8
                or _point_segment_distance_3d(center, seg) < radius + 5.0
            ):
                continue
            a = np.asarray(seg.start)[list(axes)]
            b = np.asarray(seg.end)[list(axes)]
            if _point_segment_distance_2d(c2, a, b) < radius + max(seg.radius_start, 0.4) + 0.5:
                return True
    return False


def _runs(segments: list[DuctSegment]) -> list[list[int]]:
    """Group consecutive segments of one duct (same order, end meets start) into runs."""
    runs: list[list[int]] = []
    for i, seg in enumerate(segments):
        if (
            runs
            and segments[runs[-1][-1]].end == seg.start
            and segments[runs[-1][-1]].order == seg.order
        ):
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _dilate(seg: DuctSegment, factor: float, minimum: float) -> DuctSegment:
    return DuctSegment(
        seg.start,
        seg.end,
        max(seg.radius_start * factor, minimum),
        max(seg.radius_end * factor, minimum),
        seg.order,
        seg.terminal,
    )


def _try_draw(rng: np.random.Generator, side: Side) -> Breast | None:
    chest_wall_depth = float(rng.uniform(96.0, 112.0))
    half_width = float(rng.uniform(64.0, 76.0))
    thickness = float(rng.uniform(58.0, 64.0))
    texture_seed = int(rng.integers(0, 2**31 - 1))
    density = float(rng.uniform(0.35, 0.55))

    lobe_angle = float(rng.uniform(0.0, 2 * math.pi))
    tilt = math.radians(float(rng.uniform(16.0, 26.0)))
    lobe_axis = np.array(
        [
            math.sin(tilt) * math.sin(lobe_angle),
            math.cos(tilt),
            math.sin(tilt) * math.cos(lobe_angle),
        ]
    )
    orifice = np.array([rng.uniform(-2.0, 2.0), 0.0, rng.uniform(-2.0, 2.0)])
    segments = grow_duct_tree(rng, orifice, lobe_axis, chest_wall_depth)
    if len(segments) < 25:
        return None

    # Filling defect (papilloma): a central duct of order 1-3, 15-60 mm from the nipple.
    defect_candidates = [
        i
        for i, s in enumerate(segments)
        if 1 <= s.order <= 3
        and s.length >= 3.6
        and 15.0 <= float(np.linalg.norm(s.midpoint)) <= 60.0
        and _unambiguous(s.midpoint, chest_wall_depth)
    ]
    # Cyst fill: a rounded sac at the end of a terminal duct.
    cyst_candidates = [
        i
        for i, s in enumerate(segments)
        if s.terminal and s.order >= 3 and radial_offset_mm(s.end) < 24.0
    ]
    if not defect_candidates or not cyst_candidates:
        return None
    # Papillomas sit mostly in the central (subareolar) ducts: favour the shallow ones.
    defect_weights = np.array(
        [1.0 / float(np.linalg.norm(segments[i].midpoint)) ** 2 for i in defect_candidates]
    )
    defect_index = int(rng.choice(defect_candidates, p=defect_weights / defect_weights.sum()))
    cyst_weights = np.array([1.0 / segments[i].end[1] ** 2 for i in cyst_candidates])
    cyst_index = int(rng.choice(cyst_candidates, p=cyst_weights / cyst_weights.sum()))
    defect_seg = segments[defect_index]
    papilloma_radius = round(float(rng.uniform(1.5, 2.8)), 2)
    lumen = papilloma_radius / 0.8
    seg_axis = (np.asarray(defect_seg.end) - np.asarray(defect_seg.start)) / defect_seg.length
    papilloma = Sphere(defect_seg.midpoint, papilloma_radius)
    distension = Distension(defect_seg.midpoint, as_point(seg_axis), 1.6 * lumen, lumen)

    cyst_seg = segments[cyst_index]
    direction = (np.asarray(cyst_seg.end) - np.asarray(cyst_seg.start)) / cyst_seg.length
    cyst_radius = float(rng.uniform(3.0, 4.5))
    cyst_center = as_point(np.asarray(cyst_seg.end) + direction * (cyst_radius - 0.6))
    if not _unambiguous(cyst_center, chest_wall_depth):
        return None
    if radial_offset_mm(cyst_center) > 28.0:
        return None

    # Duct ectasia: a whole duct run of order 1-2 that holds neither lesion.
    runs = [
        r
        for r in _runs(segments)
        if 1 <= segments[r[0]].order <= 2
        and defect_index not in r
        and cyst_index not in r
        and _unambiguous(segments[r[len(r) // 2]].midpoint, chest_wall_depth)
    ]
    if not runs:
        return None
    ectatic = runs[int(rng.integers(0, len(runs)))]

    ectatic_radius = float(rng.uniform(1.6, 2.3))
    new_segments = [
        _dilate(seg, 2.4, ectatic_radius) if i in ectatic else seg for i, seg in enumerate(segments)
    ]
    papilloma_center = np.asarray(papilloma.center)
    if _hidden_in_projection(papilloma_center, papilloma.radius, new_segments, {defect_index}):
        return None
    cyst_sphere = Sphere(cyst_center, round(cyst_radius, 3))
    if _hidden_in_projection(
        np.asarray(cyst_center),
        cyst_radius,
        new_segments,
        {j for j, s in enumerate(new_segments) if s.end == cyst_seg.end or s.start == cyst_seg.end},
    ):
        return None

    ectasia_mid = new_segments[ectatic[len(ectatic) // 2]]
    lesions = (
        Lesion(
            "defect-1", LesionKind.FILLING_DEFECT, papilloma.center, round(2 * papilloma.radius, 2)
        ),
        Lesion("cyst-1", LesionKind.CYST_FILL, cyst_center, round(2 * cyst_radius, 2)),
        Lesion(
            "ectasia-1",
            LesionKind.DUCT_ECTASIA,
            ectasia_mid.midpoint,
            round(ectasia_mid.radius_start + ectasia_mid.radius_end, 2),
        ),
    )
    return Breast(
        side=side,
        chest_wall_depth=chest_wall_depth,
        half_width=half_width,
        thickness=thickness,
        nipple_length=7.0,
        nipple_radius=5.5,
        texture_seed=texture_seed,
        density=density,
        ducts=tuple(new_segments),
        papillomas=(papilloma,),
        distensions=(distension,),
        cysts=(cyst_sphere,),
        lesions=lesions,
    )


def draw_injected_breast(seed: int, side: Side) -> Breast:
    """Draw the breast whose duct is cannulated and injected.

    Parameters
    ----------
    seed
        Seed of the whole phantom; the same seed gives the same breast on every machine.
    side
        Which breast.

    Returns
    -------
    Breast
        With duct tree, one filling defect, one cyst fill and one ectatic duct.

    Raises
    ------
    PhantomDesignError
        If no acceptable draw was found.
    """
    rng = np.random.default_rng([seed, 1 if side is Side.LEFT else 2])
    for _ in range(_MAX_DRAWS):
        breast = _try_draw(rng, side)
        if breast is not None:
            return breast
    raise PhantomDesignError(f"no acceptable duct tree for seed {seed} after {_MAX_DRAWS} draws")


def draw_plain_breast(seed: int, side: Side) -> Breast:
    """Draw a breast without a cannulated lobe (the contralateral breast of the prior study)."""
    rng = np.random.default_rng([seed, 3 if side is Side.LEFT else 4])
    return Breast(
        side=side,
        chest_wall_depth=float(rng.uniform(96.0, 112.0)),
        half_width=float(rng.uniform(64.0, 76.0)),
        thickness=float(rng.uniform(58.0, 64.0)),
        nipple_length=7.0,
        nipple_radius=5.5,
        texture_seed=int(rng.integers(0, 2**31 - 1)),
        density=float(rng.uniform(0.35, 0.55)),
    )
