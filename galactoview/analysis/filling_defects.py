"""Flag candidate filling defects along a suggested duct tree (Qt-free).

A filling defect (papilloma, clot, debris) is a lucency **inside** the opacified lumen:
contrast on both sides of it, less or none where it is. Five kinds of candidates are
found on the working grid of the tree's ridge map:

* **holes** — lucent areas enclosed by the suggested lumen (contrast flowing round a
  papilloma in a widened duct): the lumen's filled holes (SciPy);
* **gaps** — dips of brightness along a branch's centreline well below the lumen's own
  level on both sides (a defect filling the whole lumen, an air bubble);
* **ringed lucencies** — places darker than a rim of contrast all round them, however
  faintly (:func:`_ringed`): a papilloma seen through the contrast in front of it;
* **abrupt ends** — a branch whose contrast stops short instead of tapering away;
* **focal widenings** — a duct at least twice as wide over a few mm as before and after,
  whose middle is no brighter than its rim (:func:`_widenings`): a duct distended round a
  papilloma that the contrast in front of and behind it hides on this view.

A candidate stays only where it is darker than a rim of contrast all round it
(:func:`_darker_than_their_rims`; a focal widening by its own, wider ring) inside a lumen
wider than it (:func:`_inside_wide_lumen`), each judged where it lies before the evidence
of those left within a few mm is combined. Each is scored by its contrast drop (how far its
brightness falls from the lumen's towards the tissue around the duct, or below the rim)
and its size, and carries a short reason, e.g. ``"lumen gap 3.1 mm, 62 % contrast
drop"``. Air bubbles mimic defects: they are
round and move between exposures, so a round candidate with no counterpart at about the
same distance from the nipple on the other view is marked *bubble-like*
(:func:`mark_bubble_like`). Nothing here is a finding: the reader accepts or rejects each
flag.
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray
from scipy import ndimage
from scipy.signal import fftconvolve

from galactoview.analysis.results import (
    DefectFlag,
    DefectFlags,
    DuctTreeSuggestion,
    Point,
    mark_bubble_like,
)
from galactoview.analysis.ridges import RidgeMap

__all__ = ["DefectFlag", "DefectFlags", "flag_filling_defects", "mark_bubble_like"]

#: Smallest contrast drop (fraction of lumen minus tissue) worth a flag.
MIN_DROP = 0.35
#: Largest contrast drop of a lucency inside a lumen (more is tissue between ducts).
MAX_DROP = 0.85
#: Smallest candidate size (mm) worth a flag.
MIN_SIZE_MM = 0.8
#: Flags below this score are not shown.
MIN_SCORE = 0.25
#: Radii of the dark spots looked for inside a ring of contrast (mm).
RING_RADII_MM = (1.0, 1.5, 2.0, 2.5)
#: The ring round a dark spot of radius r runs from r to this multiple of r.
RING_OUTER = 1.4
#: The ring's contrast in each sector: this percentile (its bright rim, not its mean).
RING_PERCENTILE = 90.0
_SECTORS = tuple((k * math.pi / 3, (k + 1) * math.pi / 3) for k in range(6))
#: Smallest dip of a dark spot below its ring of contrast…
RING_DROP = 0.05
#: …and the dip that is full evidence (the score grows linearly up to it).
RING_FULL_DROP = 0.2
#: A ringed dark spot keeps this fraction of the lumen's typical contrast (less is
#: tissue between ducts ringing it, not something in a lumen).
RING_RESIDUAL = 0.5
#: How far from a suggested centreline a ringed lucency may lie (mm).
NEAR_CENTRELINE_MM = 2.5
#: The ring's contrast must reach this fraction of the lumen's typical contrast.
RING_CONTRAST = 0.3
#: Length of a branch's end looked at for an abrupt cut-off (mm).
END_WINDOW_MM = 4.0
#: Length of the path from the orifice through the nipple, where no gap is looked for (mm).
NIPPLE_MM = 10.0
#: Contrast looked for on each side of a gap (mm).
SIDE_WINDOW_MM = 3.0
#: Contrast a defect must have on each side in the lumen where it lies (mm).
RIM_MM = 0.6
#: The lumen's width is taken as its widest this close to a candidate's centre (mm).
WIDTH_WINDOW_MM = 0.5
#: Flags closer than this are one lesion: the best one is shown (mm).
LESION_MM = 5.0
#: Candidates this close are one place (mm).
MERGE_MM = 3.0
#: Largest hole looked for (mm).
DEFECT_MAX_MM = 6.0
#: Window wider than the widest duct (mm): the opening that leaves the tissue.
TISSUE_WINDOW_MM = 10.0
#: A focal widening is at least this many times the duct's half-width before and after it…
WIDENING_RATIO = 2.0
#: …which is the median half-width between these distances (mm) along the path on each
#: side (a papilloma's distension is 3–6 mm long each way from its middle)…
WIDENING_SIDES_MM = (3.5, 9.0)
#: …taking the duct's half-width there as this percentile (a long widening reaches into
#: the nearer part of the windows)…
WIDENING_BASE_PERCENTILE = 25.0
#: …and the widened lumen is at least this wide (mm).
WIDENING_MIN_MM = 3.2
#: The ring that tells a widening's middle from its rim lies at this fraction of its
#: half-width.
WIDENING_RING = 0.6
#: Evidence of a focal widening whose middle is just as bright as its rim (it grows
#: with the middle's dip, as a ringed lucency's does).
WIDENING_EVIDENCE = 0.5
#: The kinds of a ringed-lucency and a focal-widening candidate: both are measured
#: against a rim of contrast all round them where they are found.
RINGED = "ringed lucency"
WIDENING = "focal widening"


def flag_filling_defects(tree: DuctTreeSuggestion) -> DefectFlags:
    """Look for lucencies inside the opacified lumen of a suggested duct tree.

    Parameters
    ----------
    tree
        The image's :func:`~galactoview.analysis.duct_tree.suggest_duct_tree` result.

    Returns
    -------
    DefectFlags
        The flags scoring at least :data:`MIN_SCORE`, best first.
    """
    started = time.perf_counter()
    if tree.ridges is None or tree.lumen is None or not tree.branches:
        return DefectFlags((), 0.0, tree.problem or "no duct tree to look along")
    filled = ndimage.binary_fill_holes(tree.lumen)  # the lumen with the holes it flows round
    contrast = _contrast(tree)
    # The lumen's typical contrast over its tissue: the yardstick of the ring tests.
    typical = float(np.median(contrast[tree.lumen])) if tree.lumen.any() else 0.0
    half_width = ndimage.distance_transform_edt(filled) * _mm(tree)
    found = [
        *_candidates(tree, filled, contrast, typical, half_width),
        *_widenings(tree, contrast, half_width, typical),
    ]
    # Each candidate is judged where it lies, then the survivors' evidence is combined.
    # (Version 1.2 merged first and judged the merged flag at its best candidate's
    # point: a strong candidate a little off a papilloma took its neighbours' evidence
    # there and failed, and the papilloma with it.)
    all_round = _darker_than_their_rims(found, tree, contrast, typical)
    plausible = _inside_wide_lumen(all_round, tree, half_width)
    merged = _merged(sorted(plausible, key=lambda f: -f.score), tree)
    shown = _apart([f for f in merged if f.score >= MIN_SCORE], tree)
    # The other view's bubble rule counts every candidate, judged or not.
    kept = _merged(sorted(found, key=lambda f: -f.score), tree)
    weaker = tuple(f for f in kept if all(f.point != s.point for s in shown))
    return DefectFlags(shown, time.perf_counter() - started, weaker=weaker)


def _apart(flags: Sequence[DefectFlag], tree: DuctTreeSuggestion) -> tuple[DefectFlag, ...]:
    """Keep the best flag of each :data:`LESION_MM` neighbourhood (one lesion, one flag)."""
    assert tree.ridges is not None
    apart = LESION_MM / (_mm(tree) / tree.ridges.step)
    kept: list[DefectFlag] = []
    for flag in sorted(flags, key=lambda f: -f.score):
        if all(math.dist(flag.point, other.point) > apart for other in kept):
            kept.append(flag)
    return tuple(kept)


def _inside_wide_lumen(
    flags: Sequence[DefectFlag], tree: DuctTreeSuggestion, half_width: NDArray[np.float64]
) -> list[DefectFlag]:
    """Keep the candidates inside a lumen wider than they are, by :data:`RIM_MM` a side.

    Something inside a duct has contrast all round it, so where it sits the opacified
    lumen (holes filled) is wider than it; a papilloma widens its duct. A strand of
    tissue crossing a thin duct, or a narrowing, has no such rim, and a pocket of tissue
    between ducts, or a gap where the trace crosses from one duct to another, is not in
    the lumen at all. The width is the lumen's where the candidate lies (the widest
    within :data:`WIDTH_WINDOW_MM` of its centre), not the widest duct near it: version
    1.0 looked 3 mm round and let pockets beside a wide duct through. The rim is what a
    papilloma's widening gives (about a quarter of its radius, 0.4–0.7 mm): 1.1 asked
    0.75 mm to keep out pockets between ducts, which :func:`_darker_than_their_rims`
    now does. ``half_width`` is the hole-filled lumen's distance transform in mm.
    """
    assert tree.ridges is not None and tree.lumen is not None
    spacing = _mm(tree)
    step = tree.ridges.step
    widest = ndimage.maximum_filter(half_width, size=_odd(2.0 * WIDTH_WINDOW_MM, spacing))
    rows, columns = half_width.shape
    kept = []
    for flag in flags:
        at_column, at_row = tree.ridges.working(flag.point)
        row = min(max(round(at_row), 0), rows - 1)
        column = min(max(round(at_column), 0), columns - 1)
        lumen_mm = 2.0 * float(widest[row, column])
        size_mm = flag.radius_px * 2.0 * spacing / step
        if lumen_mm >= size_mm + 2.0 * RIM_MM:
            wide = (
                f"{lumen_mm:.1f} mm" if tree.calibrated else f"{lumen_mm / spacing * step:.0f} px"
            )
            kept.append(replace(flag, reason=f"{flag.reason}; in a lumen {wide} wide"))
    return kept


def _odd(size_mm: float, spacing_mm: float) -> int:
    """Return an odd filter size in working pixels covering ``size_mm``."""
    return 2 * max(1, round(size_mm / spacing_mm / 2.0)) + 1


def _contrast(tree: DuctTreeSuggestion) -> NDArray[np.float64]:
    """Return the brightness over the tissue under the ducts (a grey opening wider than any)."""
    assert tree.ridges is not None
    brightness = ndimage.gaussian_filter(tree.ridges.brightness, 0.7)
    opening = ndimage.grey_opening(brightness, size=_odd(TISSUE_WINDOW_MM, _mm(tree)))
    return np.asarray(brightness - opening, dtype=np.float64)


def _candidates(
    tree: DuctTreeSuggestion,
    filled: NDArray[np.bool_],
    contrast: NDArray[np.float64],
    typical: float,
    half_width: NDArray[np.float64],
) -> list[DefectFlag]:
    """Gaps along the centrelines, holes the lumen flows round, dark spots ringed by contrast."""
    assert tree.ridges is not None and tree.lumen is not None
    found = [
        *_gaps(tree, contrast),
        *_holes(tree, contrast, filled),
        *_ringed(tree, contrast, typical, half_width),
        *_abrupt_ends(tree, contrast),
    ]
    # A lucency with no contrast left in it is tissue between two ducts (or a bridge
    # across a gap), not something inside one lumen: a papilloma or a bubble has
    # contrast above and below it in the projection.
    return [f for f in found if f.contrast_drop <= MAX_DROP]


def _disk(
    radius_px: float, inner_px: float = 0.0, sector: tuple[float, float] | None = None
) -> NDArray[np.float64]:
    """Return a normalised disk (annulus from ``inner_px``, or a sector of it) mean kernel."""
    half = math.ceil(radius_px)
    y, x = np.mgrid[-half : half + 1, -half : half + 1]
    distance = np.hypot(x, y)
    kernel = (distance <= radius_px) & (distance > inner_px)
    if sector is not None:
        angle = np.arctan2(y, x) % (2 * math.pi)
        kernel &= (angle >= sector[0]) & (angle < sector[1])
    return np.asarray(kernel, dtype=np.float64) / max(1, int(kernel.sum()))


def _ringed(
    tree: DuctTreeSuggestion,
    contrast: NDArray[np.float64],
    typical: float,
    half_width: NDArray[np.float64],
) -> list[DefectFlag]:
    """Places in the lumen darker than a rim of contrast all round them.

    A contrast-filled lumen, a tube or a ball, is brightest in its middle, where the
    chord through it is longest. A papilloma sits in a duct widened round it by about a
    quarter of its radius, a thin rim of contrast; where that duct runs obliquely to the
    beam, contrast in front of and behind the papilloma leaves its middle only 5–20 %
    darker than the rim (measured on the phantom's development seeds). So the disks of
    radius r whose mean contrast is a local minimum — among all disks, or among those
    that fit inside the hole-filled lumen (``half_width`` ≥ r, in mm; a papilloma that
    fills most of its duct's width is no minimum among all disks, since those a little
    off it reach the tissue beside the duct) — lying within :data:`NEAR_CENTRELINE_MM` of
    a suggested centreline or inside the lumen (the tree can leave out a distended
    stretch of duct the lumen holds: a stray patch, a pruned leaf) are compared with
    the ring r to
    :data:`RING_OUTER` r round it: the ring's bright rim (its :data:`RING_PERCENTILE`
    in each of six sectors, the weakest sector counting) must reach :data:`RING_CONTRAST`
    of the lumen's typical contrast and the disk be darker than it by
    :data:`RING_DROP`; the evidence is full at
    :data:`RING_FULL_DROP`. The disk must keep :data:`RING_RESIDUAL` of the lumen's
    typical contrast: a papilloma has iodine in front of and behind it, a pocket of
    tissue that ducts ring round has none. Disk means are FFT convolutions (SciPy);
    the rims are measured at the minima only.
    """
    assert tree.ridges is not None and tree.lumen is not None
    spacing = _mm(tree)
    if typical <= 0:
        return []
    height, width = contrast.shape
    centre = np.zeros((height, width), dtype=bool)
    for branch in tree.branches:
        samples = np.rint(_along(branch.points, tree.ridges)).astype(int)
        columns, rows = samples[:, 0], samples[:, 1]
        keep = (rows >= 0) & (rows < height) & (columns >= 0) & (columns < width)
        centre[rows[keep], columns[keep]] = True
    near = ndimage.distance_transform_edt(~centre) * spacing <= NEAR_CENTRELINE_MM
    found = []
    for radius_mm in RING_RADII_MM:
        radius = max(radius_mm / spacing, 1.0)
        inner = fftconvolve(contrast, _disk(radius), mode="same")
        size = 2 * int(radius) + 1
        fits = half_width >= radius_mm
        within = np.where(fits, inner, np.inf)
        minima = (inner <= ndimage.minimum_filter(inner, size=size)) | (
            fits & (inner <= ndimage.minimum_filter(within, size=size))
        )
        for row, column in zip(*np.nonzero(minima & (near | fits)), strict=True):
            measured = _disk_and_rim(contrast, (int(row), int(column)), radius)
            if measured is None:
                continue
            disk, rim = measured
            if rim <= RING_CONTRAST * typical or disk < RING_RESIDUAL * typical:
                continue
            dip = 1.0 - disk / rim
            if dip >= RING_DROP:
                centre_rc = (float(row), float(column))
                evidence = min(1.0, dip / RING_FULL_DROP)
                found.append(
                    _flag(
                        tree,
                        centre_rc,
                        2.0 * radius,
                        dip,
                        True,
                        RINGED,
                        evidence,
                        "darker than its rim",
                    )
                )
    return found


def _disk_and_rim(
    contrast: NDArray[np.float64], centre_rc: tuple[int, int], radius: float
) -> tuple[float, float] | None:
    """Return the mean contrast over a disk and its ring's weakest bright rim.

    The rim is the :data:`RING_PERCENTILE` of the contrast in each of six sectors of the
    ring ``radius`` to :data:`RING_OUTER` × ``radius`` round the disk, the weakest
    sector counting (contrast all round, not on one side). ``None`` when the ring
    leaves the grid.
    """
    row, column = centre_rc
    half = math.ceil(RING_OUTER * radius)
    height, width = contrast.shape
    if not (half <= row < height - half and half <= column < width - half):
        return None
    inside, sectors = _ring_masks(radius)
    if not all(sector.any() for sector in sectors):
        return None  # a ring one or two pixels across (coarse pixels): no sector is measured
    patch = contrast[row - half : row + half + 1, column - half : column + half + 1]
    rim = min(float(np.percentile(patch[sector], RING_PERCENTILE)) for sector in sectors)
    return float(patch[inside].mean()), rim


@functools.lru_cache(maxsize=128)
def _ring_masks(radius: float) -> tuple[NDArray[np.bool_], tuple[NDArray[np.bool_], ...]]:
    """Return the disk and the six ring sectors of :func:`_disk_and_rim`, on one patch.

    The same few radii are measured at every candidate: the masks are made once each
    (a focal widening's radius follows its width, so the cache is bounded).
    """
    half = math.ceil(RING_OUTER * radius)
    inside = np.pad(_disk(radius), half - math.ceil(radius)) > 0
    sectors = tuple(_disk(RING_OUTER * radius, radius, sector) > 0 for sector in _SECTORS)
    return inside, sectors


def _darker_than_their_rims(
    flags: Sequence[DefectFlag],
    tree: DuctTreeSuggestion,
    contrast: NDArray[np.float64],
    typical: float,
) -> list[DefectFlag]:
    """Keep the candidates darker than a bright rim of contrast on every side of them.

    Something inside the lumen has contrast all round it: at one of the
    :data:`RING_RADII_MM` the disk round the candidate is darker, by any amount, than
    its ring's weakest bright rim (:func:`_disk_and_rim`), and that rim reaches
    :data:`RING_CONTRAST` of the lumen's typical contrast. Tissue between two ducts that
    leave each other at a small angle is open along the ducts; where a duct ends, or a
    gap lies between two ducts the trace crosses, the contrast is on one or two sides
    only. These were most of version 1.1's false flags. A candidate whose ring leaves
    the working grid at every radius is dropped (the grid reaches 10 mm beyond the
    tree, so only a lucency at the image's edge can be). Ringed lucencies and focal
    widenings were found by this very test (:func:`_disk_and_rim`) and are not measured
    again.
    """
    assert tree.ridges is not None
    spacing = _mm(tree)
    kept = []
    for flag in flags:
        if flag.kind in (RINGED, WIDENING):
            kept.append(flag)  # found darker than such a rim: measured once, not again
            continue
        column, row = tree.ridges.working(flag.point)
        centre_rc = (round(row), round(column))
        for radius_mm in RING_RADII_MM:
            measured = _disk_and_rim(contrast, centre_rc, max(radius_mm / spacing, 1.0))
            if measured is not None and measured[0] < measured[1] > RING_CONTRAST * typical:
                kept.append(flag)
                break
    return kept


def _gaps(tree: DuctTreeSuggestion, contrast: NDArray[np.float64]) -> list[DefectFlag]:
    """Stretches of a centreline whose contrast falls well below it on **both** sides.

    A duct ending, a branching or a taper has contrast on one side only; a plug, a
    papilloma filling the lumen or a bubble has it on both. Each path from the orifice
    to a branch end is followed whole, so a lucency at a branch point is seen too.
    """
    assert tree.ridges is not None
    spacing = _mm(tree)
    window = max(2, round(SIDE_WINDOW_MM / spacing))
    found = []
    for path in _paths(tree):
        samples = _along(path, tree.ridges)
        if len(samples) < 2 * window:
            continue
        values = ndimage.map_coordinates(contrast, samples.T[::-1], order=1, mode="nearest")
        padded = np.concatenate([np.full(window, -np.inf), values, np.full(window, -np.inf)])
        windows = sliding_window_view(padded, window).max(axis=1)
        # The best contrast in the window just before and just after each sample.
        level = np.minimum(windows[: len(values)], windows[window + 1 : window + 1 + len(values)])
        drop = np.where(level > 0, 1.0 - values / np.maximum(level, 1e-9), 0.0)
        # The duct through the nipple is narrow and widens into the lactiferous sinus:
        # its lower contrast is anatomy, not a gap.
        drop[: round(NIPPLE_MM / spacing)] = 0.0
        labels, count = ndimage.label(drop >= MIN_DROP)
        for number in range(1, count + 1):
            where = np.flatnonzero(labels == number)
            size_px = float(len(where))
            if size_px * spacing < MIN_SIZE_MM:
                continue
            deepest = where[np.argmax(drop[where])]
            column, row = samples[deepest]
            deepest_drop = min(1.0, float(drop[deepest]))
            found.append(_flag(tree, (row, column), size_px, deepest_drop, True, "lumen gap"))
    return found


def _widenings(
    tree: DuctTreeSuggestion,
    contrast: NDArray[np.float64],
    half_width: NDArray[np.float64],
    typical: float,
) -> list[DefectFlag]:
    """Focal widenings of a duct whose middle is no brighter than their rim.

    A papilloma distends its duct round it. Where that duct runs obliquely to the beam,
    the contrast in front of and behind the papilloma fills in its lucency: the
    distension shows as a widening of the lumen with no dip a ringed-lucency test could
    see (five of the eight papillomas version 1.2 missed on the development phantoms).
    But a lumen filled with contrast, a tube or a ball, is brightest in its middle,
    where the chord through it is longest; a widening whose middle is no brighter than
    its rim has something in it. So along each path from the orifice, every local
    maximum of the lumen's half-width (the hole-filled lumen's distance transform, in
    mm) at least :data:`WIDENING_MIN_MM` wide and :data:`WIDENING_RATIO` times the
    duct's median half-width :data:`WIDENING_SIDES_MM` before **and** after it (a duct
    that just widens, ends in a contrast-filled cyst or tapers has no duct on one side)
    is a candidate when the disk of :data:`WIDENING_RING` of its half-width is no
    brighter than that disk's ring (:func:`_disk_and_rim`, a rim of at least
    :data:`RING_CONTRAST` of the lumen's contrast). The evidence is
    :data:`WIDENING_EVIDENCE` when the middle is as bright as the rim, growing to full
    as it dips below it like a ringed lucency's. The path through the nipple is left
    out: the lactiferous sinus widens there.
    """
    assert tree.ridges is not None
    spacing = _mm(tree)
    near, far = WIDENING_SIDES_MM
    found = []
    for path in _paths(tree):
        samples = _along(path, tree.ridges)
        if len(samples) < 3:
            continue
        # Distances along the path in mm (samples are not always one pixel apart).
        steps = np.hypot(*np.diff(samples, axis=0).T) * spacing
        along = np.concatenate([[0.0], np.cumsum(steps)])
        if along[-1] <= 2.0 * far:
            continue
        widths = ndimage.map_coordinates(half_width, samples.T[::-1], order=1, mode="nearest")
        reach = max(1, round(near * len(samples) / along[-1]))
        peaks = widths >= ndimage.maximum_filter1d(widths, 2 * reach + 1)
        inside = (along >= max(far, NIPPLE_MM)) & (along <= along[-1] - far)
        for index in np.flatnonzero(peaks & inside & (2.0 * widths >= WIDENING_MIN_MM)):
            distance = along - along[index]
            before = widths[(distance >= -far) & (distance <= -near)]
            after = widths[(distance >= near) & (distance <= far)]
            if not (before.size and after.size):
                continue
            base = max(
                float(np.percentile(before, WIDENING_BASE_PERCENTILE)),
                float(np.percentile(after, WIDENING_BASE_PERCENTILE)),
                spacing,
            )
            ratio = float(widths[index]) / base
            if not ratio >= WIDENING_RATIO:
                continue
            column, row = samples[index]
            radius = max(WIDENING_RING * float(widths[index]) / spacing, 1.0)
            measured = _disk_and_rim(contrast, (round(row), round(column)), radius)
            if measured is None or measured[1] <= RING_CONTRAST * typical:
                continue
            disk, rim = measured
            if disk > rim:
                continue
            dip = 1.0 - disk / rim
            evidence = min(1.0, WIDENING_EVIDENCE + dip / RING_FULL_DROP)
            flag = _flag(
                tree, (float(row), float(column)), 2.0 * radius, dip, False, WIDENING, evidence
            )
            middle = f"{100 * dip:.0f} % darker than" if dip >= 0.005 else "no brighter than"
            reason = (
                f"focal widening, {ratio:.1f} × the duct's width before and after it,"
                f" its middle {middle} its rim (contrast alone is brightest in the middle)"
            )
            found.append(replace(flag, reason=reason))
    return found


def _paths(tree: DuctTreeSuggestion) -> list[list[Point]]:
    """Return the centreline from the orifice to each branch end."""
    parents = {b.parent for b in tree.branches}
    paths = []
    for leaf in (b for b in tree.branches if b.index not in parents):
        chain = [leaf]
        while chain[-1].parent is not None:
            chain.append(tree.branches[chain[-1].parent])
        points: list[Point] = []
        for branch in reversed(chain):
            points.extend(branch.points if not points else branch.points[1:])
        paths.append(points)
    return paths


def _abrupt_ends(tree: DuctTreeSuggestion, contrast: NDArray[np.float64]) -> list[DefectFlag]:
    """Branch ends where the contrast stops short instead of tapering away.

    A duct ends by narrowing until its contrast fades into the tissue; a lesion that
    fills the lumen stops the column of contrast while the lumen is still wide (the
    "abrupt cut-off" of galactography), with some contrast still over the lesion.
    """
    assert tree.ridges is not None
    spacing = _mm(tree)
    window = max(3, round(END_WINDOW_MM / spacing))
    leaves = {b.index for b in tree.branches} - {b.parent for b in tree.branches}
    found = []
    for branch in tree.branches:
        if branch.index not in leaves:
            continue
        samples = _along([*branch.points, branch.points[-1]], tree.ridges)
        if len(samples) < window + 2:
            continue
        values = ndimage.map_coordinates(contrast, samples.T[::-1], order=1, mode="nearest")
        level = float(values[-window:-2].max())
        end = float(values[-2:].mean())
        if level <= 0:
            continue
        drop = 1.0 - end / level
        if drop >= MIN_DROP:
            column, row = samples[-1]
            found.append(
                _flag(tree, (row, column), 2.0 / spacing, min(drop, 1.0), True, "abrupt end")
            )
    return found


def _holes(
    tree: DuctTreeSuggestion, contrast: NDArray[np.float64], filled: NDArray[np.bool_]
) -> list[DefectFlag]:
    """Lucent holes of 1–6 mm the lumen flows round (a papilloma in a widened duct)."""
    assert tree.lumen is not None
    spacing = _mm(tree)
    holes = filled & ~tree.lumen
    labels, _count = ndimage.label(holes)
    found = []
    for number, where in enumerate(ndimage.find_objects(labels), start=1):
        if where is None:
            continue
        grown = tuple(slice(max(0, s.start - 2), s.stop + 2) for s in where)
        mask = labels[grown] == number
        rows, columns = np.nonzero(mask)
        size_px = float(max(np.ptp(rows), np.ptp(columns)) + 1)
        if not MIN_SIZE_MM <= size_px * spacing <= DEFECT_MAX_MM:
            continue
        rim = ndimage.binary_dilation(mask, iterations=2) & ~mask & tree.lumen[grown]
        if not rim.any():
            continue
        level = float(np.median(contrast[grown][rim]))
        inside = float(np.percentile(contrast[grown][mask], 20))
        drop = 0.0 if level <= 0 else min(1.0, max(0.0, 1.0 - inside / level))
        if drop < MIN_DROP:
            continue
        width = min(np.ptp(rows), np.ptp(columns)) + 1
        centre = (grown[0].start + rows.mean(), grown[1].start + columns.mean())
        found.append(_flag(tree, centre, size_px, drop, bool(width / size_px > 0.6), "lucent hole"))
    return found


def _along(points: Sequence[Point], ridges: RidgeMap) -> NDArray[np.float64]:
    """Return working-grid (column, row) samples every working pixel along a polyline."""
    out = []
    for a, b in itertools.pairwise(points):
        count = max(2, int(math.dist(a, b) / ridges.step) + 1)
        t = np.linspace(0.0, 1.0, count, endpoint=False)[:, None]
        start = np.asarray(ridges.working(a))
        out.append(start + t * (np.subtract(b, a) / ridges.step))
    return np.concatenate(out) if out else np.zeros((0, 2))


def _mm(tree: DuctTreeSuggestion) -> float:
    """Size of a working pixel in mm (nominal when uncalibrated)."""
    assert tree.ridges is not None
    return tree.ridges.spacing_mm


def _flag(
    tree: DuctTreeSuggestion,
    centre_rc: tuple[float, float],
    size_px: float,
    drop: float,
    is_round: bool,
    kind: str,
    evidence: float | None = None,
    measure: str = "contrast drop",
) -> DefectFlag:
    """Build a flag from a working-grid candidate (row, column centre, size in pixels).

    The score is the ``evidence`` (0–1; the contrast drop unless given), weighted up to
    full at a 3 mm candidate; the reason names the drop as ``measure``.
    """
    assert tree.ridges is not None
    step = tree.ridges.step
    point = tree.ridges.stored(centre_rc[1], centre_rc[0])
    size_mm = size_px * _mm(tree)
    nearest = tree.nearest_branch(point)
    branch = nearest[0] if nearest is not None else None
    strength = min(1.0, drop if evidence is None else evidence)
    score = round(strength * min(1.0, 0.4 + size_mm / 5.0), 3)
    shown = f"{size_mm:.1f} mm" if tree.calibrated else f"{size_px * step:.0f} px"
    reason = f"{kind} {shown}, {100 * drop:.0f} % {measure}"
    return DefectFlag(
        point=point,
        radius_px=size_px * step / 2.0,
        branch=branch,
        score=score,
        size_mm=round(size_mm, 2) if tree.calibrated else None,
        contrast_drop=round(drop, 3),
        round=is_round,
        bubble_like=False,
        reason=reason,
        kind=kind,
    )


def _merged(flags: Sequence[DefectFlag], tree: DuctTreeSuggestion) -> list[DefectFlag]:
    """Merge candidates within :data:`MERGE_MM` into one flag, their evidence combined.

    A papilloma is seen by several detectors at once (a hole the lumen flows round, a
    gap on the centreline passing it, a dark spot in a ring); a strand of texture
    crossing a duct by one. The best candidate of each detector counts once, combined
    as independent evidence: ``1 - Π(1 - score)``. The flag keeps the best candidate's
    place and reason, and names the other detectors.
    """
    assert tree.ridges is not None
    apart = MERGE_MM / (_mm(tree) / tree.ridges.step)
    used = [False] * len(flags)
    merged: list[DefectFlag] = []
    for number, flag in enumerate(flags):
        if used[number]:
            continue
        best: dict[str, float] = {}
        for other_number, other in enumerate(flags):
            if not used[other_number] and math.dist(flag.point, other.point) <= apart:
                used[other_number] = True
                best[other.kind] = max(best.get(other.kind, 0.0), other.score)
        combined = 1.0 - math.prod(1.0 - score for score in best.values())
        others = sorted(set(best) - {flag.kind})
        reason = flag.reason + (f"; also a {' and a '.join(others)}" if others else "")
        merged.append(replace(flag, score=round(combined, 3), reason=reason))
    return sorted(merged, key=lambda f: -f.score)
