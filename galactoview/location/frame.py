r"""From image coordinates to patient directions: one mammogram's frame (Qt-free).

An image point is given in SCOORD pixel coordinates (PS3.3 C.18.6.1.2: (column, row),
origin at the top-left corner of the top-left pixel). Relative to the nipple on the
same image, :class:`ImageFrame` turns it into millimetres along patient directions:

* every view: **posterior** (from the nipple towards the chest wall);
* CC-like views (CC, XCCL, XCCM): **patient-left** (the ``x`` of the DICOM patient
  coordinate system, PS3.3 C.7.6.2.1.1);
* lateral views (ML, LM): **superior** (``z``);
* oblique views (MLO, LMO, SIO, ISO): an *approximate* superior — the oblique
  image axis is treated as superior–inferior. A 45° MLO mixes in the medio-lateral
  position: a lateral lesion projects higher than it lies (by about its lateral
  offset), a medial one lower. Results from an MLO say so
  (:attr:`ImageFrame.is_oblique`).

Which image axis runs where comes from Patient Orientation (0020,0020), PS3.3
C.7.6.1.1.1: the first value is the patient direction of increasing column, the
second of increasing row. A value may hold several letters, the dominant first
(``FR`` on an MLO: mostly feet, somewhat right). For each needed patient axis the
frame uses the **first letter of that axis** in a value (``F`` of ``FR`` for
superior–inferior, ``R`` of ``FR`` would be used only if medio-lateral were asked
for), and the anterior–posterior axis is the image axis whose *first* letter is
``A`` or ``P`` (else the one holding ``A``/``P`` at all). Without a usable
orientation the IHE hanging orientation of the view
(:func:`~galactoview.dicom.mammography.hanging_target`) is assumed, and said so.

The chest-wall reference (the far end of the posterior nipple line) is the
posterior image edge for CC and lateral views and a pectoral line, given as two
points by the caller, for oblique views (:class:`ChestWallLine`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from galactoview.annotations.model import ChestWallLine
from galactoview.dicom.calibration import Calibration
from galactoview.dicom.loading import ImageRecord
from galactoview.dicom.mammography import (
    Laterality,
    MammoView,
    PatientOrientation,
    hanging_target,
)

__all__ = [
    "ChestWallLine",
    "ImageFrame",
    "ImageInfo",
    "PatientOffset",
    "ViewFamily",
]

_CC_LIKE: Final = frozenset({"CC", "XCCL", "XCCM", "FB"})
_LATERAL: Final = frozenset({"ML", "LM"})
_OBLIQUE: Final = frozenset({"MLO", "LMO", "SIO", "ISO"})
#: Sign of each letter along its patient axis: + for posterior, left, superior (LPS + head).
_SIGN: Final = {"P": 1.0, "A": -1.0, "L": 1.0, "R": -1.0, "H": 1.0, "F": -1.0}


class ViewFamily(StrEnum):
    """What a view can tell about the position across the nipple axis."""

    #: Cranio-caudal-like: the medio-lateral offset (patient-left ``x``).
    CC = "CC"
    #: True lateral (ML, LM): the superior–inferior offset (``z``).
    LATERAL = "ML"
    #: Oblique (MLO ...): superior–inferior approximately.
    OBLIQUE = "MLO"

    @classmethod
    def of(cls, short_name: str) -> ViewFamily | None:
        """Return the family of a view abbreviation (CID 4014 short name).

        Parameters
        ----------
        short_name
            ``"CC"``, ``"ML"``, ``"MLO"``, ...

        Returns
        -------
        ViewFamily or None
            ``None`` for a view that is none of these (specimen, unknown).
        """
        if short_name in _CC_LIKE:
            return cls.CC
        if short_name in _LATERAL:
            return cls.LATERAL
        if short_name in _OBLIQUE:
            return cls.OBLIQUE
        return None


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What localization needs from one image's header.

    Attributes
    ----------
    sop_instance_uid
        The image.
    laterality
        Image Laterality (0020,0062), PS3.3 C.8.11.7.
    view
        View abbreviation from the View Code Sequence (CID 4014): ``"CC"``, ``"ML"``, ...
    patient_orientation
        Patient Orientation (0020,0020), ``None`` when absent or invalid.
    calibration
        mm per pixel (:mod:`galactoview.dicom.calibration`), ``None`` when unknown.
    rows, columns
        Image matrix.
    magnified
        View modifier *magnification* (SCT 399163009): the image edge is then not
        the chest wall.
    """

    sop_instance_uid: str
    laterality: Laterality
    view: str
    patient_orientation: PatientOrientation | None
    calibration: Calibration | None
    rows: int
    columns: int
    magnified: bool = False

    @classmethod
    def from_record(cls, record: ImageRecord) -> ImageInfo:
        """Build from a loaded image header.

        Parameters
        ----------
        record
            From :func:`galactoview.dicom.loading.scan`.

        Returns
        -------
        ImageInfo
            The header values localization uses.
        """
        return cls(
            record.sop_instance_uid,
            record.view.laterality,
            record.view.short_name,
            record.patient_orientation,
            record.calibration,
            record.rows,
            record.columns,
            record.view.is_magnified,
        )

    @property
    def family(self) -> ViewFamily | None:
        """Return the view family, ``None`` when the view is not usable."""
        return ViewFamily.of(self.view)

    @property
    def is_calibrated(self) -> bool:
        """Return whether distances can be given in mm."""
        return self.calibration is not None and self.calibration.is_known


@dataclass(frozen=True, slots=True)
class PatientOffset:
    """A point's position relative to the nipple on one image, along patient directions.

    Attributes
    ----------
    posterior
        Along the posterior nipple line, towards the chest wall (positive) — mm, or
        pixels when :attr:`in_mm` is false.
    across
        Perpendicular to it: patient-left (``x``) on a CC view, superior (``z``) on a
        lateral view, approximately superior on an oblique view.
    in_mm
        Whether the values are mm (calibrated image) or pixels.
    """

    posterior: float
    across: float
    in_mm: bool


def _letter(value: str, axis: str) -> str | None:
    """Return the first letter of a Patient Orientation value on a patient axis (``"AP"``...)."""
    return next((letter for letter in value if letter in axis), None)


@dataclass(frozen=True, slots=True)
class ImageFrame:
    """Patient directions of one image, in the image's mm (or pixel) space.

    Vectors are 2-D in *physical image space*: (column displacement × column
    spacing, row displacement × row spacing); with no calibration the spacings are 1
    and the unit is the pixel.

    Attributes
    ----------
    info
        The image's header values.
    family
        The view family.
    orientation
        The Patient Orientation used (the image's, or the assumed hanging one).
    posterior_axis
        Unit vector of the posterior direction along an image axis.
    across_axis
        Unit vector of patient-left (CC) or superior (lateral, oblique).
    notes
        Assumptions made (orientation assumed, oblique approximation).
    """

    info: ImageInfo
    family: ViewFamily
    orientation: PatientOrientation
    posterior_axis: tuple[float, float]
    across_axis: tuple[float, float]
    notes: tuple[str, ...] = ()

    @classmethod
    def from_info(cls, info: ImageInfo) -> ImageFrame:
        """Work out the patient directions of an image from its header (PS3.3 C.7.6.1.1.1).

        Parameters
        ----------
        info
            The image's header values.

        Returns
        -------
        ImageFrame
            The frame.

        Raises
        ------
        ValueError
            If the view is not CC-like, lateral or oblique, the laterality is not left
            or right, or the orientation has no anterior/posterior image axis or no
            letter on the needed second axis.
        """
        family = info.family
        if family is None:
            raise ValueError(f"view {info.view!r} cannot be localized (not CC, ML/LM or MLO)")
        if info.laterality not in (Laterality.LEFT, Laterality.RIGHT):
            raise ValueError("localization needs the image laterality (L or R)")
        notes: list[str] = []
        orientation = info.patient_orientation
        if orientation is None:
            orientation = hanging_target(MammoView(info.laterality, short_name=info.view))
            if orientation is None:  # pragma: no cover - every family has a hanging target
                raise ValueError("no Patient Orientation and no conventional one")
            notes.append(f"no Patient Orientation (0020,0020): assumed {orientation}")
        columns_value, rows_value = orientation.row, orientation.column
        if columns_value[0] in "AP":
            ap_on_columns = True
        elif rows_value[0] in "AP":
            ap_on_columns = False
        elif _letter(columns_value, "AP") is not None:
            ap_on_columns = True
        elif _letter(rows_value, "AP") is not None:
            ap_on_columns = False
        else:
            raise ValueError(f"Patient Orientation {orientation} has no anterior/posterior axis")
        ap_value, other_value = (
            (columns_value, rows_value) if ap_on_columns else (rows_value, columns_value)
        )
        across_axis_letters = "LR" if family is ViewFamily.CC else "HF"
        ap_letter = _letter(ap_value, "AP")
        across_letter = _letter(other_value, across_axis_letters)
        if ap_letter is None or across_letter is None:
            raise ValueError(
                f"Patient Orientation {orientation} does not give the "
                f"{'medio-lateral' if family is ViewFamily.CC else 'superior-inferior'} "
                f"direction of a {info.view} view"
            )
        along_columns = (1.0, 0.0)
        along_rows = (0.0, 1.0)
        posterior_unit = along_columns if ap_on_columns else along_rows
        across_unit = along_rows if ap_on_columns else along_columns
        posterior_axis = (
            _SIGN[ap_letter] * posterior_unit[0],
            _SIGN[ap_letter] * posterior_unit[1],
        )
        across_axis = (_SIGN[across_letter] * across_unit[0], _SIGN[across_letter] * across_unit[1])
        if family is ViewFamily.OBLIQUE:
            notes.append(
                f"{info.view}: the oblique axis is taken as superior-inferior "
                "(lateral lesions project higher, medial ones lower)"
            )
        return cls(info, family, orientation, posterior_axis, across_axis, tuple(notes))

    @property
    def is_oblique(self) -> bool:
        """Return whether the superior–inferior offset is only approximated (oblique view)."""
        return self.family is ViewFamily.OBLIQUE

    @property
    def spacing(self) -> tuple[float, float]:
        """Return (column spacing, row spacing) in mm, (1, 1) when uncalibrated."""
        cal = self.info.calibration
        if cal is None or cal.row_spacing_mm is None or cal.column_spacing_mm is None:
            return (1.0, 1.0)
        return (cal.column_spacing_mm, cal.row_spacing_mm)

    def physical(
        self, point: tuple[float, float], nipple: tuple[float, float]
    ) -> tuple[float, float]:
        """Return the displacement nipple → point in physical image space.

        Parameters
        ----------
        point, nipple
            SCOORD (column, row) coordinates on this image.

        Returns
        -------
        tuple of float
            (along columns, along rows) in mm, or pixels when uncalibrated.
        """
        sc, sr = self.spacing
        return ((point[0] - nipple[0]) * sc, (point[1] - nipple[1]) * sr)

    def posterior_edge(self) -> ChestWallLine:
        """Return the posterior image edge: the chest-wall reference of CC and lateral views.

        Returns
        -------
        ChestWallLine
            The image edge (column 0 or ``columns``; row 0 or ``rows``) the posterior
            direction points to.
        """
        cols, rows = float(self.info.columns), float(self.info.rows)
        px, py = self.posterior_axis
        if px > 0:
            return ChestWallLine((cols, 0.0), (cols, rows))
        if px < 0:
            return ChestWallLine((0.0, 0.0), (0.0, rows))
        if py > 0:
            return ChestWallLine((0.0, rows), (cols, rows))
        return ChestWallLine((0.0, 0.0), (cols, 0.0))

    def axes_towards(
        self, nipple: tuple[float, float], chest_wall: ChestWallLine
    ) -> tuple[tuple[float, float], tuple[float, float], float]:
        """Return the posterior nipple line's direction, the across direction and its length.

        For CC and lateral views the posterior nipple line runs along the image's
        anterior–posterior axis; for an oblique view it is the perpendicular from the
        nipple to the pectoral line, and "across" is the perpendicular to it that
        points superior (per the orientation's row/column letters).

        Parameters
        ----------
        nipple
            The nipple, (column, row).
        chest_wall
            The chest-wall reference line.

        Returns
        -------
        posterior, across, length
            Unit vectors in physical image space and the nipple → chest-wall
            distance along ``posterior`` (mm or pixels). The length is ``nan`` when
            the line is parallel to the posterior direction.
        """
        a = self.physical(chest_wall.start, nipple)
        b = self.physical(chest_wall.end, nipple)
        if self.family is ViewFamily.OBLIQUE:
            dx, dy = b[0] - a[0], b[1] - a[1]
            norm = math.hypot(dx, dy)
            nx, ny = -dy / norm, dx / norm
            distance = a[0] * nx + a[1] * ny
            if distance < 0:
                nx, ny, distance = -nx, -ny, -distance
            posterior = (nx, ny)
            across = (-ny, nx)
            if across[0] * self.across_axis[0] + across[1] * self.across_axis[1] < 0:
                across = (ny, -nx)
            return posterior, across, distance
        posterior, across = self.posterior_axis, self.across_axis
        # Where the ray nipple + t * posterior meets the line a + s (b - a).
        dx, dy = b[0] - a[0], b[1] - a[1]
        denominator = posterior[0] * dy - posterior[1] * dx
        if abs(denominator) < 1e-12:
            return posterior, across, math.nan
        t = (a[0] * dy - a[1] * dx) / denominator
        return posterior, across, t

    def offset(self, point: tuple[float, float], nipple: tuple[float, float]) -> PatientOffset:
        """Return a point's offset from the nipple along patient directions.

        The components are taken along the image axes the orientation names (for an
        oblique view too: its row axis is the approximate superior–inferior axis).

        Parameters
        ----------
        point, nipple
            SCOORD (column, row) coordinates on this image.

        Returns
        -------
        PatientOffset
            Posterior and across components.
        """
        d = self.physical(point, nipple)
        posterior, across = self.posterior_axis, self.across_axis
        return PatientOffset(
            d[0] * posterior[0] + d[1] * posterior[1],
            d[0] * across[0] + d[1] * across[1],
            self.info.is_calibrated,
        )

    def depth_fraction(
        self, point: tuple[float, float], nipple: tuple[float, float], chest_wall: ChestWallLine
    ) -> float | None:
        """Return how far along the posterior nipple line a point lies (0 nipple, 1 chest wall).

        Parameters
        ----------
        point, nipple
            SCOORD (column, row) coordinates on this image.
        chest_wall
            The chest-wall reference line.

        Returns
        -------
        float or None
            The point's projection on the posterior nipple line over the line's length;
            ``None`` when the chest wall is not behind the nipple.
        """
        posterior, _, length = self.axes_towards(nipple, chest_wall)
        if not (math.isfinite(length) and length > 0):
            return None
        d = self.physical(point, nipple)
        return (d[0] * posterior[0] + d[1] * posterior[1]) / length
