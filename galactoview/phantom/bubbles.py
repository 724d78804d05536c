"""Air bubbles in the injected ducts: the filling defects' classic look-alikes.

Air injected with the contrast shows on a galactogram as round lucencies inside the
opacified lumen, often several, and — unlike a papilloma, which is attached to the duct
wall — they move: the breast is repositioned between the CC and the ML exposure, so the
bubbles are elsewhere on each view (issue 16: a filling-defect flagger must tell them apart
or at least say "bubble-like").

Each post-contrast exposure therefore gets its own bubbles, drawn from a generator seeded by
the phantom's seed, the side and the exposure's label (:func:`bubble_rng`): 1–4 balls of air
centred on the axis of a duct whose lumen radius is at least :data:`MIN_LUMEN_RADIUS_MM`, of
radius 0.5–1.0 × the local lumen radius, kept away from the papillomas, the other lesions and
each other (in 3-D and along the exposure's beam, so that each stays a separate lucency on its
image), and away from where the earlier exposures had theirs: they have moved.
:func:`~galactoview.phantom.render.render_view` replaces the contrast along each bubble's
chord with air.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from galactoview.phantom.anatomy import Breast, DuctSegment, LesionKind, Side
from galactoview.phantom.geometry import ViewGeometry

__all__ = [
    "MIN_LUMEN_RADIUS_MM",
    "AirBubble",
    "bubble_rng",
    "bubble_truth",
    "place_bubbles",
]

F64 = NDArray[np.float64]

#: Only ducts at least this wide (lumen radius, mm, along the whole segment) hold bubbles.
MIN_LUMEN_RADIUS_MM = 0.6
#: Bubble radius as a fraction of the local lumen radius.
RADIUS_FRACTION = (0.5, 1.0)
#: Gap (mm) between a bubble's surface and a papilloma's, in 3-D and across the beam.
PAPILLOMA_GAP_MM = 5.0
#: Gap (mm) between a bubble's surface and a cyst's.
CYST_GAP_MM = 3.0
#: Gap (mm) between a bubble's surface and the other marked lesions (cyst fill, ectasia: a
#: ball of their ``size_mm`` around their centre), in 3-D and across the beam: a bubble never
#: covers the point where a lesion's ground truth says it is.
LESION_GAP_MM = 2.0
#: Gap (mm) between two bubbles' surfaces, in 3-D and across the beam.
BUBBLE_GAP_MM = 2.0
#: Fraction of a segment's ends left free: bubbles sit away from the joints.
_END_MARGIN = 0.15
_ATTEMPTS = 200


@dataclass(frozen=True, slots=True)
class AirBubble:
    """One ball of air in the lumen of an injected duct.

    Attributes
    ----------
    center
        Centre in the nipple frame (mm), on the duct's axis.
    radius
        Radius (mm), at most the local lumen radius.
    segment
        Index in :attr:`Breast.ducts` of the segment it sits in.
    """

    center: tuple[float, float, float]
    radius: float
    segment: int


def bubble_rng(seed: int, side: Side, label: str) -> np.random.Generator:
    """Return the generator of one exposure's bubbles: fixed by seed, side and image label.

    The label (e.g. ``"LCC_POST"``, ``"LML_POST"``) names the exposure, so each exposure
    gets its own, reproducible draw, independent of the detector and of the render's noise.
    """
    side_code = 1 if side is Side.LEFT else 2
    return np.random.default_rng([seed, side_code, 0xB0BB1E, zlib.crc32(label.encode("ascii"))])


def _across(offset: F64, beam: F64) -> float:
    """Length of ``offset`` across the beam (its distance on the image, at the object)."""
    along = float(offset @ beam)
    return math.sqrt(max(float(offset @ offset) - along * along, 0.0))


def _eligible(ducts: tuple[DuctSegment, ...]) -> list[int]:
    return [
        i
        for i, seg in enumerate(ducts)
        if min(seg.radius_start, seg.radius_end) >= MIN_LUMEN_RADIUS_MM and seg.length >= 2.0
    ]


def _clear(
    center: F64,
    radius: float,
    breast: Breast,
    placed: list[AirBubble],
    beam: F64,
    elsewhere: Sequence[AirBubble],
) -> bool:
    """Tell whether a bubble at ``center`` keeps its distances to lesions and other bubbles."""
    for other in elsewhere:
        gap = other.radius + radius + BUBBLE_GAP_MM
        if float(np.linalg.norm(center - np.asarray(other.center))) < gap:
            return False
    for ball in breast.papillomas:
        offset = center - np.asarray(ball.center)
        gap = ball.radius + radius + PAPILLOMA_GAP_MM
        if float(np.linalg.norm(offset)) < gap or _across(offset, beam) < gap:
            return False
    for ball in breast.cysts:
        if float(np.linalg.norm(center - np.asarray(ball.center))) < (
            ball.radius + radius + CYST_GAP_MM
        ):
            return False
    for lesion in breast.lesions:
        if lesion.kind is LesionKind.FILLING_DEFECT:
            continue  # the papillomas, above
        offset = center - np.asarray(lesion.center)
        gap = lesion.size_mm / 2.0 + radius + LESION_GAP_MM
        if float(np.linalg.norm(offset)) < gap or _across(offset, beam) < gap:
            return False
    for other in placed:
        offset = center - np.asarray(other.center)
        gap = other.radius + radius + BUBBLE_GAP_MM
        if float(np.linalg.norm(offset)) < gap or _across(offset, beam) < gap:
            return False
    return True


def place_bubbles(
    breast: Breast,
    beam: F64,
    rng: np.random.Generator,
    *,
    elsewhere: Sequence[AirBubble] = (),
) -> tuple[AirBubble, ...]:
    """Draw one exposure's air bubbles.

    Parameters
    ----------
    breast
        The injected breast (none are placed in a breast without ducts).
    beam
        Unit beam direction of the exposure (:attr:`ViewGeometry.beam`): bubbles keep their
        gaps across it too, so that none overlaps a papilloma or another bubble on the image.
    rng
        The exposure's generator (:func:`bubble_rng`).
    elsewhere
        Where the bubbles of the earlier exposures were: the new ones keep
        :data:`BUBBLE_GAP_MM` from them, so each view shows its bubbles in new places.
        When they leave no room for a single bubble (a small tree after several
        exposures), the draw goes on without them.

    Returns
    -------
    tuple of AirBubble
        One to four bubbles (none only if the tree has no room at all), in draw order.
    """
    candidates = _eligible(breast.ducts)
    if not candidates:
        return ()
    lengths = np.array([breast.ducts[i].length for i in candidates])
    weights = lengths / lengths.sum()
    wanted = int(rng.integers(1, 5))
    placed: list[AirBubble] = []
    b = np.asarray(beam, dtype=np.float64)
    avoid = elsewhere
    for attempt in range(2 * _ATTEMPTS):
        if len(placed) == wanted:
            break
        if attempt == _ATTEMPTS:
            if placed:
                break
            avoid = ()  # no room away from the earlier bubbles: they may come back
        index = int(rng.choice(candidates, p=weights))
        t = float(rng.uniform(_END_MARGIN, 1.0 - _END_MARGIN))
        fraction = float(rng.uniform(*RADIUS_FRACTION))
        seg = breast.ducts[index]
        start, end = np.asarray(seg.start), np.asarray(seg.end)
        center = start + t * (end - start)
        lumen = seg.radius_start + t * (seg.radius_end - seg.radius_start)
        radius = round(fraction * lumen, 3)
        if _clear(center, radius, breast, placed, b, avoid):
            placed.append(
                AirBubble((float(center[0]), float(center[1]), float(center[2])), radius, index)
            )
    return tuple(placed)


def bubble_truth(bubbles: Sequence[AirBubble], geometry: ViewGeometry) -> list[dict[str, Any]]:
    """Return one exposure's bubbles as its image shows them (JSON-ready, 2 decimals).

    Parameters
    ----------
    bubbles
        The bubbles rendered in the exposure.
    geometry
        The exposure.

    Returns
    -------
    list of dict
        ``{"id", "column", "row", "radius_px", "radius_mm", "segment", "distractor": true}``
        per bubble: projected centre (SCOORD pixels), radius projected with the local
        magnification, radius in mm, index of the duct segment it sits in. ``distractor``
        says it is not a finding: a flag on it is a false flag unless called bubble-like.
    """
    if not bubbles:
        return []
    centres = np.array([bubble.center for bubble in bubbles], dtype=np.float64)
    projected = geometry.project(centres)
    magnification = geometry.local_magnification(centres)
    return [
        {
            "id": f"bubble-{number + 1}",
            "column": round(float(projected[number][0]), 2),
            "row": round(float(projected[number][1]), 2),
            "radius_px": round(
                bubble.radius * float(magnification[number]) / geometry.pixel_spacing, 2
            ),
            "radius_mm": round(bubble.radius, 3),
            "segment": bubble.segment,
            "distractor": True,
        }
        for number, bubble in enumerate(bubbles)
    ]
