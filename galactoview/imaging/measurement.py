"""Distances between two image points, in pixels and (when calibrated) in mm (Qt-free).

Points are SCOORD image coordinates (PS3.3 C.18.6.1.2): ``(column, row)``, sub-pixel,
origin at the top-left corner of the top-left pixel of the *stored* image, so a
measurement does not depend on how the image is hung (flipped) or zoomed. The
length in mm comes from :meth:`Calibration.distance_mm`, which applies the column
and row spacings separately (anisotropic pixels are measured correctly); where the
spacing came from is always said next to the number (PS3.3 10.7.1, C.8.11.4, C.8.11.5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from galactoview.dicom.calibration import Calibration, CalibrationSource

__all__ = [
    "Measurement",
    "calibration_source_label",
    "measure",
    "measurement_label",
]

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Measurement:
    """A straight-line distance between two image points.

    Attributes
    ----------
    start, end
        SCOORD ``(column, row)`` of the two end points in the stored image.
    pixels
        Length in pixels (``hypot(d_columns, d_rows)``).
    length_mm
        Length in mm, ``None`` when the calibration is unknown.
    calibration_label
        Where the mm come from, for people: e.g. ``"mag-corrected ×1.8"``,
        ``"pixel spacing"``, ``"uncalibrated"``.
    """

    start: Point
    end: Point
    pixels: float
    length_mm: float | None
    calibration_label: str


def calibration_source_label(calibration: Calibration | None) -> str:
    """Return a short phrase saying where the mm of a measurement come from.

    Parameters
    ----------
    calibration
        The image's calibration; ``None`` is taken as unknown.

    Returns
    -------
    str
        ``"calibrated pixel spacing"`` (Pixel Spacing with a Pixel Spacing Calibration
        Type, PS3.3 10.7.1.2), ``"pixel spacing"`` (Pixel Spacing of unstated meaning,
        10.7.1.1), ``"mag-corrected ×1.8"`` (Imager Pixel Spacing ÷ the magnification,
        C.8.11.5), ``"detector (not corrected for magnification)"`` (Imager Pixel
        Spacing only, C.8.11.4) or ``"uncalibrated"``.
    """
    if calibration is None or not calibration.is_known:
        return "uncalibrated"
    source = calibration.source
    if source is CalibrationSource.MAGNIFICATION_CORRECTED:
        factor = calibration.magnification
        return f"mag-corrected ×{factor:.5g}" if factor is not None else "mag-corrected"
    if source is CalibrationSource.CALIBRATED:
        return "calibrated pixel spacing"
    if source is CalibrationSource.DETECTOR:
        return "detector (not corrected for magnification)"
    return "pixel spacing"


def measure(start: Point, end: Point, calibration: Calibration | None) -> Measurement:
    """Measure the distance between two SCOORD points (PS3.3 C.18.6.1.2).

    Parameters
    ----------
    start, end
        ``(column, row)`` image coordinates of the stored image.
    calibration
        The image's calibration; ``None`` or unknown gives a length in pixels only.

    Returns
    -------
    Measurement
        The length in pixels, in mm when the calibration is known
        (:meth:`Calibration.distance_mm`), and the calibration source label.
    """
    d_columns = float(end[0]) - float(start[0])
    d_rows = float(end[1]) - float(start[1])
    length_mm = calibration.distance_mm(d_columns, d_rows) if calibration is not None else None
    return Measurement(
        start=(float(start[0]), float(start[1])),
        end=(float(end[0]), float(end[1])),
        pixels=math.hypot(d_columns, d_rows),
        length_mm=length_mm,
        calibration_label=calibration_source_label(calibration),
    )


def measurement_label(measurement: Measurement) -> str:
    r"""Return the text shown next to a ruler.

    Parameters
    ----------
    measurement
        The measurement.

    Returns
    -------
    str
        Two lines, the length with one decimal and the calibration source, e.g.
        ``"23.4 mm\nmag-corrected ×1.8"``; without a calibration one line that says
        so, e.g. ``"512 px — uncalibrated, no mm"`` (never a bare number).
    """
    if measurement.length_mm is None:
        return f"{measurement.pixels:.0f} px — uncalibrated, no mm"
    return f"{measurement.length_mm:.1f} mm\n{measurement.calibration_label}"
