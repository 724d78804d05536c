"""Millimetres per pixel for projection images, and where the number came from (Qt-free).

A projection radiograph (MG, DX, CR) can carry three kinds of spacing information
(PS3.3 10.7 Basic Pixel Spacing Calibration Macro; C.8.11.4 DX Detector Module;
C.8.11.5 DX Positioning Module; C.8.11.7 Mammography Image Module):

* **Imager Pixel Spacing (0018,1164)** — the distance between pixel centres *at the
  front plane of the detector*. An object between the source and the detector is
  projected larger than it is, so this overstates distances in the breast: by
  about 8 % in a contact mammogram and by 1.5–2× in a magnification view.
* **Estimated Radiographic Magnification Factor (0018,1114)** (ERMF, C.8.11.5) —
  the vendor's estimate of the magnification at the object, and **Distance Source
  to Detector (0018,1110)** (SID) / **Distance Source to Patient (0018,1111)**
  (SOD) from which a magnification SID/SOD can be computed. SOD is measured to
  the patient's entrance surface (or the breast support), so SID/SOD is not the
  magnification at the middle of the breast: it is only a fallback when no ERMF
  is given, and a mismatch between the two is expected, not a problem.
* **Pixel Spacing (0028,0030)** — "in the patient"; for projection images it is
  only meaningful together with **Pixel Spacing Calibration Type (0028,0A02)**
  (PS3.3 10.7.1.2: ``GEOMETRY`` — corrected for the geometric magnification;
  ``FIDUCIAL`` — calibrated against an object of known size). Without a
  calibration type its meaning depends on the writer: in MG/DX it is very often
  just a copy of Imager Pixel Spacing.

Precedence used by :func:`calibration_from_dataset`
---------------------------------------------------
1. Pixel Spacing with a calibration type ``GEOMETRY`` or ``FIDUCIAL`` →
   :attr:`CalibrationSource.CALIBRATED`. The writer did the work; trust it. For
   ``GEOMETRY`` a disagreement > 2 % with Imager Pixel Spacing ÷ ERMF is reported
   as a problem (both describe the same correction).
2. Pixel Spacing without a (valid) calibration type:

   a. equal (within 2 %) to Imager Pixel Spacing: it is the detector spacing
      copied by the vendor. With a magnification factor available the result is
      Imager Pixel Spacing ÷ magnification (:attr:`~CalibrationSource.MAGNIFICATION_CORRECTED`),
      with an explanation in ``problems`` when the factor is not 1; without one
      the result is :attr:`~CalibrationSource.DETECTOR`.
   b. different from Imager Pixel Spacing, or no Imager Pixel Spacing: the
      writer corrected it in some unstated way → :attr:`~CalibrationSource.PIXEL_SPACING`;
      a disagreement > 2 % with Imager Pixel Spacing ÷ ERMF is a problem.
3. Imager Pixel Spacing and a magnification factor (ERMF first, else SID/SOD) →
   :attr:`~CalibrationSource.MAGNIFICATION_CORRECTED`: the best estimate at the
   object, as Weasis does (Cornerstone3D issue 2387 shows the cost of not
   doing so: magnification views measured 1.8× too large).
4. Imager Pixel Spacing alone → :attr:`~CalibrationSource.DETECTOR`.
5. Nothing usable → :attr:`~CalibrationSource.UNKNOWN`.

Reading is tolerant (bad values become ``problems`` and fall through to the next
rule); :func:`calibration_from_dataset` never raises.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from pydicom.dataset import Dataset

from galactoview.dicom.functional_groups import frame_view

__all__ = [
    "Calibration",
    "CalibrationSource",
    "calibration_from_dataset",
]

#: Relative tolerance under which two spacings are considered the same.
AGREEMENT_TOLERANCE: Final = 0.02
#: Plausible range of a radiographic magnification factor (mammography stands give 1.5–2).
MAGNIFICATION_RANGE: Final = (1.0, 3.0)
#: Plausible pixel spacing in mm: detectors range from ~0.025 mm (specimen radiography) to
#: ~1 mm (scanned film at low resolution); anything outside this range is a wrong value,
#: and a value like 1e308 would turn every distance into infinity.
SPACING_RANGE_MM: Final = (1e-3, 10.0)
#: Calibration types of PS3.3 10.7.1.2 (Enumerated Values).
_CALIBRATION_TYPES: Final = frozenset({"GEOMETRY", "FIDUCIAL"})
#: SOP Classes whose frames are reconstructed slices, not projections: their Pixel Spacing
#: (in the Pixel Measures functional group, PS3.3 C.7.6.16.2.1) is in the patient.
_RECONSTRUCTION_SOP_CLASSES: Final = frozenset(
    {
        "1.2.840.10008.5.1.4.1.1.13.1.3",  # Breast Tomosynthesis Image (PS3.3 A.55)
        "1.2.840.10008.5.1.4.1.1.13.1.1",  # X-Ray 3D Angiographic Image (PS3.3 A.53)
        "1.2.840.10008.5.1.4.1.1.13.1.2",  # X-Ray 3D Craniofacial Image (PS3.3 A.54)
    }
)
#: Modalities whose Pixel Spacing is a projection quantity (PS3.3 C.8.11).
_PROJECTION_MODALITIES: Final = frozenset({"MG", "DX", "CR", "IO", "PX", "RF", "XA", "RG"})


class CalibrationSource(StrEnum):
    """Which attributes a :class:`Calibration` was derived from."""

    #: Pixel Spacing (0028,0030) with Pixel Spacing Calibration Type (0028,0A02)
    #: GEOMETRY or FIDUCIAL (PS3.3 10.7.1.2).
    CALIBRATED = "calibrated"
    #: Pixel Spacing (0028,0030) without a calibration type; its meaning depends
    #: on the modality and the writer (PS3.3 10.7.1.1).
    PIXEL_SPACING = "pixel spacing"
    #: Imager Pixel Spacing (0018,1164) divided by the Estimated Radiographic
    #: Magnification Factor (0018,1114), or by SID/SOD from (0018,1110)/(0018,1111)
    #: (PS3.3 C.8.11.4, C.8.11.5).
    MAGNIFICATION_CORRECTED = "magnification-corrected"
    #: Imager Pixel Spacing (0018,1164) only: valid at the detector plane, objects
    #: in the breast appear magnified.
    DETECTOR = "detector"
    #: No usable spacing: distances cannot be given in mm.
    UNKNOWN = "unknown"


def _fmt(value: float, digits: int = 3) -> str:
    """Format a number with ``digits`` significant digits and no trailing zeros."""
    return f"{value:.{digits}g}"


def _fmt_pair(row: float, column: float, digits: int = 3) -> str:
    """Format a spacing pair, one number when square."""
    if _fmt(row, digits) == _fmt(column, digits):
        return _fmt(row, digits)
    return f"{_fmt(row, digits)} × {_fmt(column, digits)}"


@dataclass(frozen=True, slots=True)
class Calibration:
    """Physical size of a pixel of a projection image, with its provenance.

    Attributes
    ----------
    row_spacing_mm
        Distance between the centres of adjacent rows (vertical), the first value
        of the spacing attributes (PS3.3 10.7.1.3); ``None`` when unknown.
    column_spacing_mm
        Distance between the centres of adjacent columns (horizontal), the second
        value; ``None`` when unknown.
    source
        Which attributes the spacing came from.
    magnification
        The magnification factor divided out; only for
        :attr:`CalibrationSource.MAGNIFICATION_CORRECTED`, else ``None``.
    description
        One line for people, saying what the numbers are and where they came from.
    problems
        Things found wrong or doubtful while reading, one line each.

    Raises
    ------
    ValueError
        If the fields contradict each other (a known source without spacings,
        spacings for UNKNOWN, a non-positive spacing, a stray magnification).
    """

    row_spacing_mm: float | None
    column_spacing_mm: float | None
    source: CalibrationSource
    magnification: float | None
    description: str
    problems: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        spacings = (self.row_spacing_mm, self.column_spacing_mm)
        if self.source is CalibrationSource.UNKNOWN:
            if spacings != (None, None):
                raise ValueError("an UNKNOWN calibration has no spacings")
        else:
            for spacing in spacings:
                if spacing is None or not math.isfinite(spacing) or spacing <= 0:
                    raise ValueError(f"spacing must be positive and finite, got {spacing!r}")
        if self.source is CalibrationSource.MAGNIFICATION_CORRECTED:
            if self.magnification is None or not (
                math.isfinite(self.magnification) and self.magnification > 0
            ):
                raise ValueError("a magnification-corrected calibration needs its factor")
        elif self.magnification is not None:
            raise ValueError("magnification is only set when MAGNIFICATION_CORRECTED")

    @property
    def is_known(self) -> bool:
        """Return whether distances can be given in mm."""
        return self.source is not CalibrationSource.UNKNOWN

    def distance_mm(self, d_columns: float, d_rows: float) -> float | None:
        """Return the length of a displacement given in pixels, in mm.

        Parameters
        ----------
        d_columns
            Displacement along a row (horizontal), in columns.
        d_rows
            Displacement along a column (vertical), in rows.

        Returns
        -------
        float or None
            ``hypot(d_columns · column spacing, d_rows · row spacing)``, or
            ``None`` when the calibration is unknown.
        """
        if self.row_spacing_mm is None or self.column_spacing_mm is None:
            return None
        return math.hypot(d_columns * self.column_spacing_mm, d_rows * self.row_spacing_mm)

    def short_label(self) -> str:
        """Return a compact label for a status bar.

        Returns
        -------
        str
            E.g. ``"0.0556 mm (mag-corrected ×1.8)"``, ``"0.1 mm (detector)"``,
            ``"uncalibrated"``.
        """
        if self.row_spacing_mm is None or self.column_spacing_mm is None:
            return "uncalibrated"
        size = _fmt_pair(self.row_spacing_mm, self.column_spacing_mm).replace(" × ", "×")
        if self.source is CalibrationSource.MAGNIFICATION_CORRECTED:
            assert self.magnification is not None  # guaranteed by __post_init__
            note = f"mag-corrected ×{_fmt(self.magnification, 5)}"
        else:
            note = str(self.source.value)
        return f"{size} mm ({note})"


_UNKNOWN_DESCRIPTION: Final = "no pixel spacing in the file: distances cannot be shown in mm"


def calibration_from_dataset(ds: Dataset, frame: int = 0) -> Calibration:
    """Work out mm per pixel for one frame of an image, following the module's precedence.

    For an enhanced multi-frame image, the frame's Pixel Measures functional group
    (PS3.3 C.7.6.16.2.1) wins over the shared one, which wins over the top level
    (:func:`~galactoview.dicom.functional_groups.frame_view`); the description then
    says which, e.g. ``Pixel Spacing of frame 2's Pixel Measures``.

    Parameters
    ----------
    ds
        A dataset; header-only (``stop_before_pixels``) is enough.
    frame
        The frame, from 0 (single-frame images: 0).

    Returns
    -------
    Calibration
        The calibration; :attr:`CalibrationSource.UNKNOWN` with ``problems`` when
        nothing usable is present. Never raises.
    """
    try:
        view = frame_view(ds, frame)
        calibration = _calibration(view.dataset, view.origin("PixelSpacing"))
        if view.problems:
            problems = (*calibration.problems, *view.problems)
            calibration = dataclasses.replace(calibration, problems=problems)
        return calibration
    except Exception as exc:  # reading is tolerant: a surprise becomes a problem
        return Calibration(
            None,
            None,
            CalibrationSource.UNKNOWN,
            None,
            _UNKNOWN_DESCRIPTION,
            (f"could not read the calibration attributes: {exc}",),
        )


# --------------------------------------------------------------------- reading


def _text_values(ds: Dataset, keyword: str) -> list[str] | None:
    """Return the values of an element as stripped strings, ``None`` if absent or empty."""
    with warnings.catch_warnings():
        # pydicom warns about invalid DS values; they are reported as problems here.
        warnings.simplefilter("ignore")
        value = ds.get(keyword)
    if value is None:
        return None
    items: Iterable[object]
    if isinstance(value, str | bytes | int | float):
        items = [value]
    else:
        try:
            items = list(value)
        except TypeError:
            items = [value]
    texts = [
        (item.decode("ascii", "replace") if isinstance(item, bytes) else str(item)).strip()
        for item in items
    ]
    # A single string holding backslash-separated values (raw, unsplit).
    if len(texts) == 1 and "\\" in texts[0]:
        texts = [part.strip() for part in texts[0].split("\\")]
    if not any(texts):
        return None
    return texts


def _number(text: str) -> float | None:
    """Parse a finite float, ``None`` for anything else."""
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _spacing_pair(
    ds: Dataset, keyword: str, name: str, problems: list[str]
) -> tuple[float, float] | None:
    """Read a spacing attribute (PS3.3 10.7.1.3: two positive values, row then column)."""
    texts = _text_values(ds, keyword)
    if texts is None:
        return None
    shown = "\\".join(texts)
    if len(texts) != 2:
        problems.append(f"{name} '{shown}' has {len(texts)} value(s), 2 expected: ignored")
        return None
    numbers = [_number(text) for text in texts]
    if numbers[0] is None or numbers[1] is None:
        problems.append(f"{name} '{shown}' is not numeric: ignored")
        return None
    if numbers[0] <= 0 or numbers[1] <= 0:
        problems.append(f"{name} '{shown}' is not positive: ignored")
        return None
    low, high = SPACING_RANGE_MM
    if not (low <= numbers[0] <= high and low <= numbers[1] <= high):
        problems.append(
            f"{name} '{shown}' is outside {low:g}–{high:g} mm, not a pixel of a projection "
            "image: ignored"
        )
        return None
    return numbers[0], numbers[1]


def _positive(ds: Dataset, keyword: str, name: str, problems: list[str]) -> float | None:
    """Read a single positive number (DS, VM 1)."""
    texts = _text_values(ds, keyword)
    if texts is None:
        return None
    shown = "\\".join(texts)
    number = _number(texts[0]) if len(texts) == 1 else None
    if number is None:
        problems.append(f"{name} '{shown}' is not a single number: ignored")
        return None
    if number <= 0:
        problems.append(f"{name} '{shown}' is not positive: ignored")
        return None
    return number


def _in_range(value: float) -> bool:
    low, high = MAGNIFICATION_RANGE
    return low <= value <= high


def _magnification(ds: Dataset, problems: list[str]) -> tuple[float, str] | None:
    """Return the magnification factor and a note saying where it came from.

    PS3.3 C.8.11.5: Estimated Radiographic Magnification Factor (0018,1114) first;
    else Distance Source to Detector (0018,1110) / Distance Source to Patient
    (0018,1111). A factor below 1 is impossible in a projection and one above 3 is
    implausible for mammography; both are ignored with a problem.
    """
    ermf = _positive(
        ds,
        "EstimatedRadiographicMagnificationFactor",
        "Estimated Radiographic Magnification Factor",
        problems,
    )
    if ermf is not None:
        if _in_range(ermf):
            return ermf, "ERMF"
        problems.append(
            f"Estimated Radiographic Magnification Factor {_fmt(ermf, 5)} is outside "
            f"{MAGNIFICATION_RANGE[0]:g}–{MAGNIFICATION_RANGE[1]:g}: ignored"
        )
    sid = _positive(ds, "DistanceSourceToDetector", "Distance Source to Detector", problems)
    sod = _positive(ds, "DistanceSourceToPatient", "Distance Source to Patient", problems)
    if sid is not None and sod is not None:
        ratio = sid / sod
        if _in_range(ratio):
            return ratio, f"SID {_fmt(sid, 5)} mm / SOD {_fmt(sod, 5)} mm"
        problems.append(
            f"Distance Source to Detector / to Patient = {_fmt(ratio, 4)} is outside "
            f"{MAGNIFICATION_RANGE[0]:g}–{MAGNIFICATION_RANGE[1]:g}: ignored"
        )
    return None


def _agree(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Return whether two spacing pairs agree within :data:`AGREEMENT_TOLERANCE`."""
    return all(
        abs(x - y) <= AGREEMENT_TOLERANCE * max(abs(x), abs(y)) for x, y in zip(a, b, strict=True)
    )


def _relative_difference(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(abs(x - y) / max(abs(x), abs(y)) for x, y in zip(a, b, strict=True))


def _divided(pair: tuple[float, float], factor: float) -> tuple[float, float]:
    return pair[0] / factor, pair[1] / factor


def _check_against_corrected(
    pixel_spacing: tuple[float, float],
    corrected: tuple[float, float] | None,
    note: str,
    problems: list[str],
) -> None:
    """Report Pixel Spacing disagreeing with Imager Pixel Spacing ÷ magnification."""
    if corrected is None or _agree(pixel_spacing, corrected):
        return
    problems.append(
        f"Pixel Spacing {_fmt_pair(*pixel_spacing)} mm differs by "
        f"{_relative_difference(pixel_spacing, corrected):.0%} from Imager Pixel Spacing "
        f"÷ magnification ({note}) = {_fmt_pair(*corrected)} mm"
    )


def _calibration(ds: Dataset, spacing_origin: str | None = None) -> Calibration:
    """Do the work of :func:`calibration_from_dataset` on a frame's attributes.

    ``spacing_origin`` says which functional group Pixel Spacing came from (e.g. ``"the
    shared Pixel Measures"``), ``None`` for the top level.
    """
    problems: list[str] = []
    spacing_name = "Pixel Spacing"
    if spacing_origin is not None:
        spacing_name += f" of {spacing_origin}"
    pixel_spacing = _spacing_pair(ds, "PixelSpacing", "Pixel Spacing", problems)
    imager = _spacing_pair(ds, "ImagerPixelSpacing", "Imager Pixel Spacing", problems)
    magnification = _magnification(ds, problems) if imager is not None else None
    corrected = _divided(imager, magnification[0]) if imager and magnification else None

    calibration_type = " ".join(_text_values(ds, "PixelSpacingCalibrationType") or []).upper()
    if calibration_type and calibration_type not in _CALIBRATION_TYPES:
        problems.append(
            f"Pixel Spacing Calibration Type '{calibration_type}' is not GEOMETRY or "
            "FIDUCIAL: treated as absent"
        )
        calibration_type = ""

    def result(
        spacing: tuple[float, float],
        source: CalibrationSource,
        description: str,
        factor: float | None = None,
    ) -> Calibration:
        return Calibration(spacing[0], spacing[1], source, factor, description, tuple(problems))

    def corrected_result() -> Calibration:
        assert imager is not None and magnification is not None and corrected is not None
        factor, note = magnification
        return result(
            corrected,
            CalibrationSource.MAGNIFICATION_CORRECTED,
            f"{_fmt_pair(*corrected)} mm/px: Imager Pixel Spacing {_fmt_pair(*imager)} mm "
            f"÷ magnification {_fmt(factor, 5)} ({note})",
            factor,
        )

    # 1. PS3.3 10.7.1.2: a calibrated Pixel Spacing wins.
    if pixel_spacing is not None and calibration_type:
        if calibration_type == "GEOMETRY" and magnification is not None:
            _check_against_corrected(pixel_spacing, corrected, magnification[1], problems)
        description = f"{_fmt_pair(*pixel_spacing)} mm/px: {spacing_name} ({calibration_type})"
        calibration_description = " ".join(
            _text_values(ds, "PixelSpacingCalibrationDescription") or []
        )
        if calibration_description:
            description += f", {calibration_description}"
        return result(pixel_spacing, CalibrationSource.CALIBRATED, description)

    # 2. Pixel Spacing without a calibration type (PS3.3 10.7.1.1, C.8.11.4).
    if pixel_spacing is not None:
        if imager is not None and _agree(pixel_spacing, imager):
            # 2a. The detector spacing copied into Pixel Spacing: not at the object.
            if magnification is not None:
                if abs(magnification[0] - 1.0) > 1e-6:
                    problems.append(
                        "Pixel Spacing equals Imager Pixel Spacing and has no calibration "
                        "type, so it is the detector spacing: corrected by the "
                        f"magnification {_fmt(magnification[0], 5)} instead"
                    )
                return corrected_result()
            return result(
                imager,
                CalibrationSource.DETECTOR,
                f"{_fmt_pair(*imager)} mm/px at the detector (Pixel Spacing equals Imager "
                "Pixel Spacing; no magnification factor): objects appear magnified",
            )
        # 2b. Corrected by the writer in a way it does not state.
        if magnification is not None:
            _check_against_corrected(pixel_spacing, corrected, magnification[1], problems)
        modality = " ".join(_text_values(ds, "Modality") or []).upper()
        sop_class = " ".join(_text_values(ds, "SOPClassUID") or [])
        if imager is not None:
            meaning = "differs from Imager Pixel Spacing, so the writer corrected it"
        elif spacing_origin is not None and sop_class in _RECONSTRUCTION_SOP_CLASSES:
            meaning = "a reconstructed slice: in the patient"
        elif modality in _PROJECTION_MODALITIES:
            meaning = f"meaning not stated for {modality}: it may be the detector spacing"
        else:
            meaning = "no calibration type"
        return result(
            pixel_spacing,
            CalibrationSource.PIXEL_SPACING,
            f"{_fmt_pair(*pixel_spacing)} mm/px: {spacing_name} ({meaning})",
        )

    # 3. PS3.3 C.8.11.4 / C.8.11.5: Imager Pixel Spacing ÷ magnification.
    if imager is not None and magnification is not None:
        return corrected_result()

    # 4. Detector plane only.
    if imager is not None:
        return result(
            imager,
            CalibrationSource.DETECTOR,
            f"{_fmt_pair(*imager)} mm/px at the detector (Imager Pixel Spacing, no "
            "magnification factor): objects appear magnified",
        )

    # 5. Nothing usable.
    description = (
        "no usable pixel spacing in the file: distances cannot be shown in mm"
        if problems
        else _UNKNOWN_DESCRIPTION
    )
    return Calibration(None, None, CalibrationSource.UNKNOWN, None, description, tuple(problems))
