r"""Acquisition geometry of one mammographic view: beam, detector axes and perspective.

A point source at ``source_image_distance`` above the detector casts a cone beam. The
central ray hits the detector at its chest-wall edge (the *foot point*), as on real
mammography units, so the chest-wall plane projects onto that edge at any magnification.
Heights are measured from the detector plane towards the source. A point at height
``h`` is magnified by ``SID / (SID - h)`` about the foot point.

Image axes follow the stored Patient Orientation (0020,0020), PS3.3 C.7.6.1.1.1: the first
value names the direction of increasing column, the second of increasing row. The
phantom stores every view in the conventional hanging orientation of the IHE
Mammography Image profile (LCC ``A\R``, RCC ``P\L``, LML ``A\F``, LMLO ``A\FR``, ...)
unless asked to store it mirrored.

Detector coordinates are millimetres from the top-left corner of the detector; dividing by
the pixel spacing gives SCOORD image coordinates (PS3.3 C.18.6.1.2: (column, row), origin at
the top-left corner of the top-left pixel).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from galactoview.phantom.anatomy import Side

_X = np.array([1.0, 0.0, 0.0])  # patient left
_Y = np.array([0.0, 1.0, 0.0])  # posterior
_Z = np.array([0.0, 0.0, 1.0])  # superior


class ViewKind(StrEnum):
    """Projection, named by the View Code Sequence meaning's abbreviation (CID 4014)."""

    CC = "CC"
    ML = "ML"
    MLO = "MLO"


#: SNOMED CT codes of CID 4014 "View for Mammography" and their code meanings.
VIEW_CODES: dict[ViewKind, tuple[str, str]] = {
    ViewKind.CC: ("399162004", "cranio-caudal"),
    ViewKind.ML: ("399260004", "medio-lateral"),
    ViewKind.MLO: ("399368009", "medio-lateral oblique"),
}

#: Positioner Primary Angle (0018,1510) of each view, PS3.3 C.8.7.5 (sign flips by side).
_OBLIQUE_ANGLE_DEG: dict[ViewKind, float] = {
    ViewKind.CC: 0.0,
    ViewKind.ML: 90.0,
    ViewKind.MLO: 45.0,
}

_LETTERS = {"L": _X, "R": -_X, "P": _Y, "A": -_Y, "H": _Z, "F": -_Z}


def orientation_letters(direction: NDArray[np.float64]) -> str:
    """Patient Orientation letters of a direction (PS3.3 C.7.6.1.1.1), major axis first.

    Components under 0.25 are left out. Equal components (a 45° oblique) are ordered
    head/foot first, so the MLO column direction reads ``FR`` / ``FL`` as is customary.
    """
    weights = [
        (round(float(np.dot(direction, vec)), 6), letter) for letter, vec in _LETTERS.items()
    ]
    ranked = sorted(
        ((w, letter) for w, letter in weights if w > 0.25),
        key=lambda item: (-item[0], "HFLRAP".index(item[1])),
    )
    return "".join(letter for _, letter in ranked)


@dataclass(frozen=True, slots=True)
class Detector:
    """A flat-panel detector: its matrix and pixel pitch (Imager Pixel Spacing, PS3.3 C.8.11.4).

    Attributes
    ----------
    rows, columns
        Matrix size (Rows (0028,0010) × Columns (0028,0011) of the stored image).
    pixel_spacing_mm
        Pixel pitch at the detector, mm (the same along rows and columns).
    """

    rows: int
    columns: int
    pixel_spacing_mm: float

    def __post_init__(self) -> None:
        if self.rows <= 0 or self.columns <= 0 or not self.pixel_spacing_mm > 0:
            raise ValueError(f"not a detector: {self}")

    @property
    def height_mm(self) -> float:
        """Extent along the rows (top to bottom), mm."""
        return self.rows * self.pixel_spacing_mm

    @property
    def width_mm(self) -> float:
        """Extent along the columns (left to right), mm."""
        return self.columns * self.pixel_spacing_mm


@dataclass(frozen=True, slots=True)
class ViewGeometry:
    """Geometry of one exposure.

    Attributes
    ----------
    side, view
        Breast and projection.
    rows, columns, pixel_spacing
        Detector matrix and its pixel pitch in mm (Imager Pixel Spacing).
    source_image_distance
        Distance Source to Detector (0018,1110), mm.
    support_height
        Height of the breast support's upper surface above the detector, mm.
    thickness
        Compressed breast thickness, mm (Body Part Thickness).
    nipple_offset
        Where the nipple sits before projection, in detector-aligned mm: along the image's
        column axis measured from the foot point, and along the row axis from the top edge.
    mirrored
        Store the image mirrored left-right (an unconventional orientation).
    """

    side: Side
    view: ViewKind
    rows: int
    columns: int
    pixel_spacing: float
    source_image_distance: float
    support_height: float
    thickness: float
    nipple_offset: tuple[float, float]
    mirrored: bool = False

    # --- axes ---------------------------------------------------------------------------
    @property
    def beam(self) -> NDArray[np.float64]:
        """Unit direction of the central ray, source → detector, in the nipple frame."""
        lateral = _X * self.side.lateral_sign
        angle = math.radians(_OBLIQUE_ANGLE_DEG[self.view])
        return math.sin(angle) * lateral - math.cos(angle) * _Z

    @property
    def row_axis(self) -> NDArray[np.float64]:
        """Unit vector of increasing row (down the image): feet-ward, or medial for CC."""
        if self.view is ViewKind.CC:
            return -_X * self.side.lateral_sign  # lateral up, medial down
        feet = -_Z
        v = feet - float(np.dot(feet, self.beam)) * self.beam
        return v / float(np.linalg.norm(v))

    @property
    def column_axis(self) -> NDArray[np.float64]:
        """Unit vector of increasing column: anterior (left breast) or posterior (right)."""
        anterior = -_Y if self.side is Side.LEFT else _Y
        return -anterior if self.mirrored else anterior

    @property
    def chest_wall_on_left(self) -> bool:
        """True when the chest wall is at column 0."""
        return bool(self.column_axis[1] < 0)

    @property
    def patient_orientation(self) -> tuple[str, str]:
        """Patient Orientation (0020,0020) values for the stored image."""
        return orientation_letters(self.column_axis), orientation_letters(self.row_axis)

    @property
    def positioner_primary_angle(self) -> float:
        """Positioner Primary Angle (0018,1510) in degrees."""
        return _OBLIQUE_ANGLE_DEG[self.view] * self.side.lateral_sign

    # --- heights and magnification ------------------------------------------------------
    @property
    def nipple_height(self) -> float:
        """Height of the compressed breast's mid-plane (holding the nipple) above the detector."""
        return self.support_height + self.thickness / 2.0

    @property
    def source_object_distance(self) -> float:
        """Source to the breast mid-plane, mm."""
        return self.source_image_distance - self.nipple_height

    @property
    def magnification(self) -> float:
        """Geometric magnification of the mid-plane: SID / SOD."""
        return self.source_image_distance / self.source_object_distance

    @property
    def foot_point(self) -> tuple[float, float]:
        """Detector position of the central ray (mm): the chest-wall edge, mid-height."""
        width = self.columns * self.pixel_spacing
        return (0.0 if self.chest_wall_on_left else width, self.rows * self.pixel_spacing / 2.0)

    # --- mapping -----------------------------------------------------------------------
    def to_view_frame(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        """Map nipple-frame points (..., 3) to (a, b, h): detector-aligned mm and height."""
        p = np.asarray(points, dtype=np.float64)
        fa, _ = self.foot_point
        col_sign = 1.0 if self.chest_wall_on_left else -1.0
        a0 = fa + col_sign * self.nipple_offset[0]
        a = a0 + p @ self.column_axis
        b = self.nipple_offset[1] + p @ self.row_axis
        h = self.nipple_height - p @ self.beam
        return np.stack([a, b, h], axis=-1)

    def from_view_frame(self, abh: NDArray[np.float64]) -> NDArray[np.float64]:
        """Inverse of :meth:`to_view_frame`."""
        q = np.asarray(abh, dtype=np.float64)
        fa, _ = self.foot_point
        col_sign = 1.0 if self.chest_wall_on_left else -1.0
        a0 = fa + col_sign * self.nipple_offset[0]
        da = q[..., 0] - a0
        db = q[..., 1] - self.nipple_offset[1]
        dh = self.nipple_height - q[..., 2]
        return (
            da[..., None] * self.column_axis
            + db[..., None] * self.row_axis
            + dh[..., None] * self.beam
        )

    def project(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        """Perspective projection of nipple-frame points to SCOORD (column, row) coordinates."""
        abh = self.to_view_frame(points)
        fa, fb = self.foot_point
        m = self.source_image_distance / (self.source_image_distance - abh[..., 2])
        col = (fa + (abh[..., 0] - fa) * m) / self.pixel_spacing
        row = (fb + (abh[..., 1] - fb) * m) / self.pixel_spacing
        return np.stack([col, row], axis=-1)

    def local_magnification(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        """Magnification SID / (SID - h) at each point."""
        h = self.to_view_frame(points)[..., 2]
        return np.asarray(self.source_image_distance / (self.source_image_distance - h))
