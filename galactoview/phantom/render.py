"""X-ray projection of the breast model into a "For Presentation" mammogram.

Each detector pixel receives ``N0 · exp(-∫ μ dl)`` quanta along the ray from the focal spot
(a line integral of linear attenuation through the model). The image is then log-transformed
back to attenuation, thickness-equalised as vendors do for presentation, and scaled to 12-bit
presentation values (higher = more attenuating = brighter, MONOCHROME2).

How the integral is computed — two scales, both physical:

* **Tissue texture** (fat / fibroglandular mixture from a 3-D power-law noise volume, and the
  pectoral muscle) is ray-marched through the volume along the true perspective rays on a
  0.5 mm detector grid, giving the *mean* attenuation along each ray.
* **Sharp structures** — the compressed envelope and its skin, the nipple, every duct segment,
  the papilloma, the cyst — have closed-form chord lengths (``2·sqrt(r² − d²)/sin θ`` for a
  cone segment, ``2·sqrt(R² − d²)`` for a ball), evaluated at full resolution with the local
  magnification of each structure.

Attenuation coefficients are per mm at an effective energy near 20 keV.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from galactoview.phantom.anatomy import Breast
from galactoview.phantom.bubbles import AirBubble
from galactoview.phantom.geometry import ViewGeometry, ViewKind

F64 = NDArray[np.float64]

# Linear attenuation coefficients, 1/mm, near 20 keV.
MU_FAT = 0.046
MU_GLAND = 0.080
MU_SKIN = 0.080
MU_MUSCLE = 0.072
MU_CONTRAST = 0.40  # iodinated contrast in the duct lumen
MU_CYST_CONTRAST = 0.30  # contrast diluted by cyst fluid
MU_CYST_FLUID = 0.072
MU_PAPILLOMA = 0.082
MU_AIR = 0.0  # an air bubble in the lumen (air attenuates ~1000 x less than tissue)

SKIN_MM = 1.5
#: Quanta per pixel before the breast: sets the quantum noise.
INCIDENT_QUANTA = 2.7e5
#: Presentation scaling: value = OFFSET + GAIN · (equalised line integral).
PRESENTATION_OFFSET = 260.0
PRESENTATION_GAIN = 640.0
#: Fraction of the thickness fall-off at the breast edge that equalisation restores.
EQUALISATION = 0.55
BACKGROUND_VALUE = 40
MAX_VALUE = 4095  # 12-bit

_COARSE = 5  # coarse ray-march grid: 5 x 5 detector pixels (0.5 mm)
_MARCH_SAMPLES = 40
_TEXTURE_VOXEL_MM = 1.5


@dataclass(frozen=True, slots=True)
class TextureVolume:
    """Glandular fraction (0..1) on a regular grid in the nipple frame."""

    fraction: F64
    origin: tuple[float, float, float]
    voxel_mm: float

    def sample(self, points: F64) -> F64:
        """Trilinear glandular fraction at nipple-frame points (N, 3); 0 outside the grid."""
        idx = (points - np.asarray(self.origin)) / self.voxel_mm
        return np.asarray(
            ndimage.map_coordinates(self.fraction, idx.T, order=1, mode="constant", cval=0.0)
        )


def power_law_noise(shape: tuple[int, ...], beta: float, rng: np.random.Generator) -> F64:
    """Gaussian noise with power spectrum ∝ 1/f^beta, normalised to zero mean, unit std.

    Mammographic parenchyma has a power-law spectrum with beta ≈ 3 (Burgess 2001); a
    projection of a 3-D field keeps the exponent, so the same beta serves both.
    """
    white = rng.standard_normal(shape)
    spectrum = np.fft.rfftn(white)
    freqs = np.meshgrid(
        *[np.fft.fftfreq(n) for n in shape[:-1]], np.fft.rfftfreq(shape[-1]), indexing="ij"
    )
    f = np.sqrt(sum(fr**2 for fr in freqs))
    f[(0,) * len(shape)] = 1.0
    spectrum *= f ** (-beta / 2.0)
    spectrum[(0,) * len(shape)] = 0.0
    field = np.fft.irfftn(spectrum, s=shape, axes=tuple(range(len(shape))))
    return np.asarray((field - field.mean()) / field.std())


def make_texture(breast: Breast) -> TextureVolume:
    """Build the breast's 3-D fibroglandular texture (deterministic from its texture seed)."""
    rng = np.random.default_rng(breast.texture_seed)
    extent = 125.0
    origin = (-extent, -12.0, -extent)
    shape = (
        int(2 * extent / _TEXTURE_VOXEL_MM),
        int((breast.chest_wall_depth + 24.0) / _TEXTURE_VOXEL_MM),
        int(2 * extent / _TEXTURE_VOXEL_MM),
    )
    noise = power_law_noise(shape, 3.0, rng)
    x = origin[0] + _TEXTURE_VOXEL_MM * np.arange(shape[0])
    y = origin[1] + _TEXTURE_VOXEL_MM * np.arange(shape[1])
    z = origin[2] + _TEXTURE_VOXEL_MM * np.arange(shape[2])
    xx, yy, zz = np.meshgrid(x, y, z, indexing="ij")
    # Glandular tissue gathers behind the nipple and fades towards the retromammary fat.
    radial = np.sqrt(xx**2 + zz**2)
    central = np.exp(-((radial / (0.75 * breast.half_width)) ** 2))
    depth = np.clip((breast.chest_wall_depth - 10.0 - yy) / 25.0, 0.0, 1.0)
    weight = central * depth
    bias = (breast.density - 0.45) * 2.5
    fraction = weight * (0.5 + 0.5 * np.tanh((noise + bias) / 0.4))
    return TextureVolume(np.clip(fraction, 0.0, 1.0), origin, _TEXTURE_VOXEL_MM)


# --- compressed envelope ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Envelope:
    """The compressed breast of one view: outline in the image plane and thickness profile."""

    breast: Breast
    geometry: ViewGeometry
    shrink: float = 0.0  # inner surface of the skin when SKIN_MM

    def _half_widths(self, s: F64) -> F64:
        w = self.breast.half_width - self.shrink
        if self.geometry.view is ViewKind.MLO:
            # The oblique view reaches up into the axillary tail.
            return np.where(s < 0, 1.45 * w, w)
        return np.full_like(s, w)

    def outline_radius(self, y: F64, s: F64) -> F64:
        """Normalised outline radius: < 1 inside the breast outline, 1 on the skin line."""
        span = self.breast.chest_wall_depth - self.breast.nipple_length - self.shrink
        q = np.clip((self.breast.chest_wall_depth - y) / span, 0.0, None)
        k = 2.2
        return np.asarray((q**k + (np.abs(s) / self._half_widths(s)) ** k) ** (1.0 / k))

    def thickness(self, y: F64, s: F64) -> F64:
        """Compressed thickness (mm) at outline position (depth y, transverse s)."""
        rho = self.outline_radius(y, s)
        rho0 = 0.72
        edge = np.clip((rho - rho0) / (1.0 - rho0), 0.0, 1.0)
        t = (self.breast.thickness - 2 * self.shrink) * np.sqrt(np.clip(1.0 - edge**2, 0.0, 1.0))
        return np.where(rho < 1.0, t, 0.0)

    def pectoral_depth(self, s: F64) -> F64:
        """Depth (y) of the pectoral muscle's anterior border at transverse position s (MLO)."""
        w_up = 1.45 * self.breast.half_width
        s_end = 0.2 * self.breast.half_width
        width = 48.0 * np.clip((s_end - s) / (s_end + w_up), 0.0, 1.0)
        return np.asarray(self.breast.chest_wall_depth - width)


# --- the projection -----------------------------------------------------------------------


def _detector_grid(geometry: ViewGeometry, step: int) -> tuple[F64, F64]:
    """Detector mm coordinates (a, b) of the centres of a grid of ``step``-pixel blocks."""
    sp = geometry.pixel_spacing
    cols = (np.arange(0, geometry.columns, step) + step / 2.0) * sp
    rows = (np.arange(0, geometry.rows, step) + step / 2.0) * sp
    bb, aa = np.meshgrid(rows, cols, indexing="ij")
    return aa, bb


def _midplane_points(geometry: ViewGeometry, aa: F64, bb: F64) -> F64:
    """Back-project detector points to the compressed breast's mid-plane (nipple frame)."""
    fa, fb = geometry.foot_point
    m = geometry.magnification
    abh = np.stack(
        [fa + (aa - fa) / m, fb + (bb - fb) / m, np.full_like(aa, geometry.nipple_height)],
        axis=-1,
    )
    return geometry.from_view_frame(abh)


def mean_tissue_attenuation(breast: Breast, geometry: ViewGeometry, texture: TextureVolume) -> F64:
    """Mean μ (1/mm) along each ray of the 0.5 mm grid, ray-marched in perspective."""
    aa, bb = _detector_grid(geometry, _COARSE)
    fa, fb = geometry.foot_point
    sid = geometry.source_image_distance
    envelope = Envelope(breast, geometry)
    half = breast.thickness / 2.0 + 1.0
    heights = np.linspace(
        geometry.nipple_height - half, geometry.nipple_height + half, _MARCH_SAMPLES
    )
    total = np.zeros(aa.shape)
    count = np.zeros(aa.shape)
    for h in heights:
        scale = (sid - h) / sid
        abh = np.stack([fa + (aa - fa) * scale, fb + (bb - fb) * scale, np.full_like(aa, h)], -1)
        p = geometry.from_view_frame(abh)
        y = p[..., 1]
        s = p @ geometry.row_axis
        c = -(p @ geometry.beam)
        inside = np.abs(c) <= envelope.thickness(y, s) / 2.0
        if not inside.any():
            continue
        g = texture.sample(p[inside])
        mu = MU_FAT + g * (MU_GLAND - MU_FAT)
        if geometry.view is ViewKind.MLO:
            muscle = y[inside] >= envelope.pectoral_depth(s[inside])
            mu = np.where(muscle, MU_MUSCLE, mu)
        total[inside] += mu
        count[inside] += 1
    mean = np.where(count > 0, total / np.maximum(count, 1), MU_FAT)
    # Upsample to full resolution: coarse centre i sits at full-res pixel 5i + 2.
    rr = (np.arange(geometry.rows) - (_COARSE - 1) / 2.0) / _COARSE
    cc = (np.arange(geometry.columns) - (_COARSE - 1) / 2.0) / _COARSE
    r2, c2 = np.meshgrid(rr, cc, indexing="ij")
    return np.asarray(ndimage.map_coordinates(mean, [r2, c2], order=1, mode="nearest"))


def path_lengths(breast: Breast, geometry: ViewGeometry) -> tuple[F64, F64, F64]:
    """Full-resolution chord lengths (mm) through the breast, its skin and the nipple."""
    aa, bb = _detector_grid(geometry, 1)
    p = _midplane_points(geometry, aa, bb)
    y = p[..., 1]
    s = p @ geometry.row_axis
    # Obliquity of each ray: path = thickness / cos(angle from the central ray).
    fa, fb = geometry.foot_point
    obliquity = np.sqrt(1.0 + ((aa - fa) ** 2 + (bb - fb) ** 2) / geometry.source_image_distance**2)
    outer = Envelope(breast, geometry).thickness(y, s)
    inner = Envelope(breast, geometry, shrink=SKIN_MM).thickness(y, s)
    skin = np.where(outer > 0, outer - inner, 0.0)
    # Nipple: a cylinder along the posterior axis, rounded at the tip.
    dome = np.clip(1.0 - ((breast.nipple_length - y) / breast.nipple_length) ** 2, 0.0, 1.0)
    r_eff = breast.nipple_radius * np.sqrt(dome)
    in_nipple = (y >= 0.0) & (y <= breast.nipple_length + 1.0)
    nipple = np.where(in_nipple, 2.0 * np.sqrt(np.clip(r_eff**2 - s**2, 0.0, None)), 0.0)
    nipple = np.where(outer > 0, 0.0, nipple)  # behind the nipple base the envelope takes over
    return outer * obliquity, skin * obliquity, nipple


def _box(center: F64, radius_px: float, geometry: ViewGeometry) -> tuple[slice, slice] | None:
    r0 = max(int(center[1] - radius_px) - 1, 0)
    r1 = min(int(center[1] + radius_px) + 2, geometry.rows)
    c0 = max(int(center[0] - radius_px) - 1, 0)
    c1 = min(int(center[0] + radius_px) + 2, geometry.columns)
    if r0 >= r1 or c0 >= c1:
        return None
    return slice(r0, r1), slice(c0, c1)


def _pixel_centres(box: tuple[slice, slice]) -> tuple[F64, F64]:
    rows = np.arange(box[0].start, box[0].stop) + 0.5
    cols = np.arange(box[1].start, box[1].stop) + 0.5
    r, c = np.meshgrid(rows, cols, indexing="ij")
    return c, r


def _add_ball(
    out: F64,
    center: tuple[float, float, float],
    radius: float,
    geometry: ViewGeometry,
    combine: str = "add",
) -> None:
    """Chord length (mm) through a ball, at full resolution, into ``out``."""
    pt = np.asarray([center], dtype=np.float64)
    c2 = geometry.project(pt)[0]
    m = float(geometry.local_magnification(pt)[0])
    box = _box(c2, radius * m / geometry.pixel_spacing, geometry)
    if box is None:
        return
    cx, cy = _pixel_centres(box)
    d_mm = np.hypot(cx - c2[0], cy - c2[1]) * geometry.pixel_spacing / m
    chord = 2.0 * np.sqrt(np.clip(radius**2 - d_mm**2, 0.0, None))
    if combine == "max":
        out[box] = np.maximum(out[box], chord)
    else:
        out[box] += chord


def duct_lumen(breast: Breast, geometry: ViewGeometry) -> F64:
    """Full-resolution contrast path length (mm) through the lumen of the injected lobe."""
    out = np.zeros((geometry.rows, geometry.columns))
    beam = geometry.beam
    sp = geometry.pixel_spacing
    for seg in breast.ducts:
        ends = np.asarray([seg.start, seg.end], dtype=np.float64)
        p2 = geometry.project(ends)
        m = float(geometry.local_magnification(ends).mean())
        axis3 = ends[1] - ends[0]
        sin_theta = max(float(np.linalg.norm(np.cross(axis3 / seg.length, beam))), 0.3)
        r_max = max(seg.radius_start, seg.radius_end) * m / sp
        lo = np.minimum(p2[0], p2[1]) - r_max - 1
        hi = np.maximum(p2[0], p2[1]) + r_max + 1
        box = _box((lo + hi) / 2, float(max(hi[0] - lo[0], hi[1] - lo[1]) / 2), geometry)
        if box is None:
            continue
        cx, cy = _pixel_centres(box)
        d = p2[1] - p2[0]
        len2 = float(d @ d)
        if len2 < 1e-9:
            continue
        t = ((cx - p2[0][0]) * d[0] + (cy - p2[0][1]) * d[1]) / len2
        # A capsule: cone between the ends, ball caps at both ends. Segments are joined by
        # taking the maximum, so joints and bends show neither seams nor double density.
        tc = np.clip(t, 0.0, 1.0)
        dist_mm = np.hypot(cx - (p2[0][0] + tc * d[0]), cy - (p2[0][1] + tc * d[1])) * sp / m
        radius = seg.radius_start + tc * (seg.radius_end - seg.radius_start)
        obliquity = np.where((t >= 0.0) & (t <= 1.0), sin_theta, 1.0)
        chord = 2.0 * np.sqrt(np.clip(radius**2 - dist_mm**2, 0.0, None)) / obliquity
        out[box] = np.maximum(out[box], chord)
    for dist in breast.distensions:
        _add_spheroid_max(out, dist.center, dist.axis, dist.half_length, dist.radius, geometry)
    return out


def _add_spheroid_max(
    out: F64,
    center: tuple[float, float, float],
    axis: tuple[float, float, float],
    half_length: float,
    radius: float,
    geometry: ViewGeometry,
) -> None:
    """Union (by maximum) of ``out`` with the chord through a prolate spheroid."""
    # Chord of a ray through a spheroid: sample the ray densely near the structure. The
    # spheroid is small (a few mm), so 64 samples across it are ample.
    pt = np.asarray([center], dtype=np.float64)
    c2 = geometry.project(pt)[0]
    m = float(geometry.local_magnification(pt)[0])
    box = _box(c2, half_length * m / geometry.pixel_spacing + 2, geometry)
    if box is None:
        return
    cx, cy = _pixel_centres(box)
    sp = geometry.pixel_spacing
    # In the structure's neighbourhood the rays are parallel to the beam (mm in the mid-plane).
    du = (cx - c2[0]) * sp / m
    dv = (cy - c2[1]) * sp / m
    base = du[..., None] * geometry.column_axis + dv[..., None] * geometry.row_axis
    ts = np.linspace(-half_length - radius, half_length + radius, 64)
    step = float(ts[1] - ts[0])
    a = np.asarray(axis)
    inside = np.zeros(du.shape)
    for t in ts:
        q = base + t * geometry.beam
        along = q @ a
        perp2 = np.sum(q * q, axis=-1) - along**2
        inside += ((along / half_length) ** 2 + perp2 / radius**2) <= 1.0
    out[box] = np.maximum(out[box], inside * step)


@dataclass(frozen=True, slots=True)
class Projection:
    """One rendered exposure: presentation values and the masks the writer needs."""

    pixels: NDArray[np.uint16]
    breast_mask: NDArray[np.bool_]


def render_view(
    breast: Breast,
    geometry: ViewGeometry,
    texture: TextureVolume,
    *,
    contrast: bool,
    rng: np.random.Generator,
    bubbles: Sequence[AirBubble] = (),
) -> Projection:
    """Project the breast for one exposure and return 12-bit presentation values.

    Parameters
    ----------
    breast, geometry, texture
        Model, view and the breast's texture volume.
    contrast
        Whether the lobe is filled with contrast (post-injection exposure).
    rng
        Noise source for this exposure.
    bubbles
        Air bubbles in the lumen (:mod:`galactoview.phantom.bubbles`), post-contrast only:
        along each bubble's chord the contrast is replaced by air, as a papilloma replaces
        it with soft tissue. None by default, which leaves the image as it always was.
    """
    mean_mu = mean_tissue_attenuation(breast, geometry, texture)
    path, skin, nipple = path_lengths(breast, geometry)
    fine = power_law_noise((geometry.rows, geometry.columns), 3.0, rng)
    line = (mean_mu + 0.006 * fine) * (path - skin) + MU_SKIN * (skin + nipple)
    if contrast:
        lumen = duct_lumen(breast, geometry)
        papilloma = np.zeros_like(lumen)
        for ball in breast.papillomas:
            _add_ball(papilloma, ball.center, ball.radius, geometry)
        cyst = np.zeros_like(lumen)
        for ball in breast.cysts:
            _add_ball(cyst, ball.center, ball.radius, geometry)
        line += (MU_CONTRAST - MU_GLAND) * (lumen - papilloma)
        line += (MU_PAPILLOMA - MU_GLAND) * papilloma
        line += (MU_CYST_CONTRAST - MU_GLAND) * cyst
        if bubbles:
            air = np.zeros_like(lumen)
            for bubble in bubbles:
                _add_ball(air, bubble.center, bubble.radius, geometry)
            # Air displaces contrast only: never more than the contrast chord left there.
            air = np.minimum(air, np.clip(lumen - papilloma, 0.0, None))
            line += (MU_AIR - MU_CONTRAST) * air
    else:
        cyst = np.zeros((geometry.rows, geometry.columns))
        for ball in breast.cysts:
            _add_ball(cyst, ball.center, ball.radius, geometry)
        line += (MU_CYST_FLUID - MU_FAT) * cyst
    # Focal spot and detector blur (about one pixel).
    line = ndimage.gaussian_filter(line, 0.7)
    tissue = (path + nipple) > 0
    expected = INCIDENT_QUANTA * np.exp(-line)
    quanta = expected + rng.standard_normal(expected.shape) * np.sqrt(expected)
    measured = -np.log(np.clip(quanta, 1.0, None) / INCIDENT_QUANTA)
    equalised = measured + EQUALISATION * 0.06 * np.clip(breast.thickness - path, 0.0, None)
    values = PRESENTATION_OFFSET + PRESENTATION_GAIN * equalised
    values = np.where(tissue, values, BACKGROUND_VALUE)
    pixels = np.clip(np.rint(values), 0, MAX_VALUE).astype(np.uint16)
    return Projection(pixels, tissue)
