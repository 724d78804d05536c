"""What the four corners of a viewport say, and the length of its scale bar (Qt-free).

Mammography workstations print the same facts in the same corners (IHE Mammography
Image profile, display of "patient, study and image identification"):

* **top left — the patient**: name as ``"FAMILY, Given Middle"`` (Person Name, PS3.5
  6.2.1; :func:`~galactoview.dicom.person_name.format_person_name`), Patient ID,
  ``"DOB 1976-05-17 F"`` (birth date and sex);
* **top right — the study**: institution, study date (+ acquisition time), study
  description, ``"Acc GV0007D"`` (accession number);
* **bottom left — the image**: ``"Se 2 Im 3"``, ``"Fr 3/24"`` for multi-frame images,
  the VOI transform (``"W 4096 L 2048"``), ``"INVERTED"`` when the reader inverted the
  grayscale, and the zoom (``"Zoom 37%"``);
* **bottom right — the view**: ``"L CC MAG"``, the contrast phase, a hanging flip
  (``"flipped H"``) and the pixel size, or ``"UNCALIBRATED: no mm"``: a distance is
  never shown in mm without saying where the mm come from.

Missing values are left out: no ``"None"``, no empty lines. Each line also has a
:class:`CornerLineKind` (:func:`corner_lines`), from which
:mod:`galactoview.reading.overlay_layout` knows which lines to drop or shorten first in a
small cell. The viewport overlay (:mod:`galactoview.ui.viewer.overlays`) only places them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import Enum
from typing import Final

from galactoview.dicom.calibration import Calibration
from galactoview.dicom.loading import ImageRecord
from galactoview.dicom.mammography import ContrastPhase, Flip
from galactoview.dicom.person_name import format_person_name
from galactoview.imaging.display import VoiLut, VoiLutFunction, Window

__all__ = [
    "COLOUR_VOI_TEXT",
    "INVERTED_TEXT",
    "PREVIEW_TEXT",
    "SCALE_BAR_RANGE_PX",
    "UNCALIBRATED_TEXT",
    "CornerLine",
    "CornerLineKind",
    "CornerLines",
    "CornerText",
    "calibration_label",
    "corner_lines",
    "format_date",
    "scale_bar_length_mm",
    "voi_label",
    "zoom_label",
]

#: What the calibration line says when distances cannot be given in mm.
UNCALIBRATED_TEXT: Final = "UNCALIBRATED: no mm"

#: The VOI line of a colour image, which no window/level applies to (PS3.3 C.11.2).
COLOUR_VOI_TEXT: Final = "colour: no W/L"

#: The line saying the reader inverted the grayscale shown (the Presentation LUT, PS3.3 C.11.6).
INVERTED_TEXT: Final = "INVERTED"
#: Says the image shown is a reduced-resolution preview, the full image still decoding.
PREVIEW_TEXT: Final = "preview"

#: Shortest and longest scale bar (screen pixels) :func:`scale_bar_length_mm` aims for.
SCALE_BAR_RANGE_PX: Final = (60.0, 150.0)

#: Mantissas of the "nice" scale bar lengths: 1, 2 and 5 times a power of ten.
_NICE_MANTISSAS: Final = (1, 2, 5)

_CONTRAST_TEXT: Final = {
    ContrastPhase.PRE: "PRE-CONTRAST",
    ContrastPhase.POST: "POST-CONTRAST",
}

#: DA (PS3.5 6.2) ``YYYYMMDD``, or the ACR-NEMA ``YYYY.MM.DD`` still found in old files.
_DATE: Final = re.compile(r"^(\d{4})\.?(\d{2})\.?(\d{2})$")
#: The start of a DT (PS3.5 6.2) ``YYYYMMDDHHMM...``: date, hours and minutes.
_DATE_TIME: Final = re.compile(r"^(\d{8})(\d{2})(\d{2})")


@dataclass(frozen=True, slots=True)
class CornerText:
    """The lines printed in each corner of a viewport, top line first.

    Attributes
    ----------
    top_left
        Patient: name, ID, birth date and sex.
    top_right
        Study: institution, date and time, description, accession number.
    bottom_left
        Image: series/instance, frame, VOI transform, zoom.
    bottom_right
        View label, contrast phase, hanging flip, calibration.
    """

    top_left: tuple[str, ...] = ()
    top_right: tuple[str, ...] = ()
    bottom_left: tuple[str, ...] = ()
    bottom_right: tuple[str, ...] = ()

    def corners(self) -> tuple[tuple[str, ...], ...]:
        """Return the four corners: top left, top right, bottom left, bottom right."""
        return (self.top_left, self.top_right, self.bottom_left, self.bottom_right)


class CornerLineKind(Enum):
    """What a corner line says (the overlay layout ranks the lines by it)."""

    PATIENT_NAME = "patient name"
    PATIENT_ID = "patient ID"
    BIRTH_DATE_AND_SEX = "birth date and sex"
    INSTITUTION = "institution"
    STUDY_DATE = "study date"
    STUDY_DESCRIPTION = "study description"
    ACCESSION = "accession number"
    SERIES = "series and instance"
    FRAME = "frame"
    VOI = "VOI transform"
    INVERTED = "inverted"
    PREVIEW = "preview"
    ZOOM = "zoom"
    VIEW = "view"
    CONTRAST = "contrast phase"
    FLIP = "hanging flip"
    CALIBRATION = "calibration"


@dataclass(frozen=True, slots=True)
class CornerLine:
    """One line of corner text and what it says.

    Attributes
    ----------
    text
        The line, stripped, never empty.
    kind
        What the line says.
    """

    text: str
    kind: CornerLineKind


@dataclass(frozen=True, slots=True)
class CornerLines:
    """The lines of each corner with their kinds, top line first (see :class:`CornerText`)."""

    top_left: tuple[CornerLine, ...] = ()
    top_right: tuple[CornerLine, ...] = ()
    bottom_left: tuple[CornerLine, ...] = ()
    bottom_right: tuple[CornerLine, ...] = ()

    def corners(self) -> tuple[tuple[CornerLine, ...], ...]:
        """Return the four corners: top left, top right, bottom left, bottom right."""
        return (self.top_left, self.top_right, self.bottom_left, self.bottom_right)

    def text(self) -> CornerText:
        """Return the lines without their kinds."""
        return CornerText(*(tuple(line.text for line in lines) for lines in self.corners()))


def format_date(value: str) -> str:
    """Return a DA value (PS3.5 6.2, ``YYYYMMDD``) as ``YYYY-MM-DD``.

    A value that is not a date is returned stripped, as written (better shown than
    hidden); an empty value gives ``""``.
    """
    text = value.strip()
    match = _DATE.match(text)
    return f"{match[1]}-{match[2]}-{match[3]}" if match else text


def voi_label(voi: Window | VoiLut | None, *, detailed: bool = False) -> str:
    """Return the wording of a VOI transform (PS3.3 C.11.2).

    Parameters
    ----------
    voi
        A window, a VOI LUT, or ``None`` for the full modality range.
    detailed
        Add the VOI LUT Function and the Window Center & Width Explanation
        (0028,1055), as a status bar does: ``"W 4096 L 2048 LINEAR (NORMAL)"``.

    Returns
    -------
    str
        ``"W 4096 L 2048"`` (a non-LINEAR function is named: ``"W 4096 L 2048
        SIGMOID"``), ``"VOI LUT <explanation>"`` or ``"full range"``.
    """
    if isinstance(voi, Window):
        text = f"W {voi.width:g} L {voi.center:g}"
        if detailed:
            text = f"{text} {voi.function.value}"
            return f"{text} ({voi.explanation})" if voi.explanation else text
        if voi.function is not VoiLutFunction.LINEAR:
            text = f"{text} {voi.function.value}"
        return text
    if isinstance(voi, VoiLut):
        return f"VOI LUT {voi.explanation}".rstrip()
    return "full range"


def zoom_label(zoom: float) -> str:
    """Return ``"Zoom 37%"`` for 0.37 screen pixels per image pixel; ``""`` if unknown."""
    if not (math.isfinite(zoom) and zoom > 0.0):
        return ""
    percent = zoom * 100.0
    return f"Zoom {percent:.0f}%" if percent >= 10.0 else f"Zoom {percent:.2g}%"


def _date_and_time(record: ImageRecord) -> str:
    """Return the study date with the acquisition time, e.g. ``"2026-03-12 10:05"``."""
    study = format_date(record.study_date)
    match = _DATE_TIME.match(record.acquisition_date_time.strip())
    if match is None:
        return study
    acquired, time = format_date(match[1]), f"{match[2]}:{match[3]}"
    if not study:
        return f"{acquired} {time}"
    if acquired != study:
        return f"{study} (acquired {acquired} {time})"
    return f"{study} {time}"


def _patient_lines(record: ImageRecord) -> tuple[CornerLine, ...]:
    birth = format_date(record.patient_birth_date)
    birth_and_sex = " ".join(
        part for part in (f"DOB {birth}" if birth else "", record.patient_sex.strip()) if part
    )
    return _lines(
        (format_person_name(record.patient_name, upper_family=True), CornerLineKind.PATIENT_NAME),
        (record.patient_id, CornerLineKind.PATIENT_ID),
        (birth_and_sex, CornerLineKind.BIRTH_DATE_AND_SEX),
    )


def _study_lines(record: ImageRecord) -> tuple[CornerLine, ...]:
    accession = record.accession_number.strip()
    return _lines(
        (record.institution_name, CornerLineKind.INSTITUTION),
        (_date_and_time(record), CornerLineKind.STUDY_DATE),
        (record.study_description, CornerLineKind.STUDY_DESCRIPTION),
        (f"Acc {accession}" if accession else "", CornerLineKind.ACCESSION),
    )


def _series_line(record: ImageRecord | None, image_position: tuple[int, int] | None) -> str:
    parts = []
    if record is not None and record.series_number is not None:
        parts.append(f"Se {record.series_number}")
    if record is not None and record.instance_number is not None:
        parts.append(f"Im {record.instance_number}")
    if image_position is not None:
        index, count = image_position
        parts.append(f"({index} of {count})")
    return " ".join(parts)


def _flip_label(flip: Flip) -> str:
    axes = "+".join(name for name, flag in (("H", flip.horizontal), ("V", flip.vertical)) if flag)
    return f"flipped {axes}" if axes else ""


def calibration_label(calibration: Calibration | None) -> str:
    """Return the pixel size with its provenance, or :data:`UNCALIBRATED_TEXT`.

    Parameters
    ----------
    calibration
        The image's calibration; ``None`` when unknown.

    Returns
    -------
    str
        :meth:`Calibration.short_label`, e.g. ``"0.0925 mm (mag-corrected ×1.0815)"``,
        or ``"UNCALIBRATED: no mm"``.
    """
    if calibration is None or not calibration.is_known:
        return UNCALIBRATED_TEXT
    return calibration.short_label()


def _lines(*lines: tuple[str, CornerLineKind]) -> tuple[CornerLine, ...]:
    """Return the non-empty lines, stripped, with their kinds."""
    return tuple(CornerLine(text.strip(), kind) for text, kind in lines if text and text.strip())


def corner_lines(
    record: ImageRecord | None,
    *,
    voi: Window | VoiLut | None,
    zoom: float,
    frame: int,
    frame_count: int,
    flip: Flip,
    calibration: Calibration | None,
    image_position: tuple[int, int] | None = None,
    frame_label: str = "",
    colour: bool = False,
    inverted: bool = False,
    preview: bool = False,
) -> CornerLines:
    """Return the four-corner lines of a viewport showing an image, with their kinds.

    Parameters
    ----------
    record
        The header summary of the image; ``None`` for a bare image (only the image
        and view corners then say anything).
    voi
        The VOI transform shown (:func:`voi_label`).
    zoom
        Screen pixels per image pixel; 0 or less when unknown (left out).
    frame
        The 0-based frame shown.
    frame_count
        Number of frames; ``"Fr k/n"`` only when greater than 1.
    flip
        The hanging flip applied to the display.
    calibration
        The calibration used for mm (:func:`calibration_label`).
    image_position
        1-based position of the image among those loaded and their number,
        ``(3, 9)`` → ``"(3 of 9)"`` after the series and instance numbers.
    frame_label
        What the frame's Frame Content says (PS3.3 C.7.6.16.2.2, e.g. ``"slice 2 (stack
        1, position 2)"``), after ``"Fr k/n"``; ``""`` for none.
    colour
        The image is a colour image: no window applies
        (:mod:`galactoview.imaging.colour`), the VOI line reads :data:`COLOUR_VOI_TEXT`.
    inverted
        The reader inverted the grayscale shown (the Presentation LUT, PS3.3 C.11.6):
        :data:`INVERTED_TEXT` follows the VOI line.
    preview
        A reduced-resolution preview shows while the full image decodes:
        :data:`PREVIEW_TEXT` follows the zoom.

    Returns
    -------
    CornerLines
        The lines of each corner with their kinds; missing values are left out.
    """
    kind = CornerLineKind
    frame_line = f"Fr {frame + 1}/{frame_count} {frame_label}" if frame_count > 1 else ""
    bottom_left = _lines(
        (_series_line(record, image_position), kind.SERIES),
        (frame_line, kind.FRAME),
        (COLOUR_VOI_TEXT if colour else voi_label(voi), kind.VOI),
        (INVERTED_TEXT if inverted else "", kind.INVERTED),
        (zoom_label(zoom), kind.ZOOM),
        (PREVIEW_TEXT if preview else "", kind.PREVIEW),
    )
    view_lines: tuple[CornerLine, ...] = ()
    if record is not None:
        view_lines = _lines(
            (record.view.label, kind.VIEW),
            (_CONTRAST_TEXT.get(record.contrast_phase, ""), kind.CONTRAST),
        )
    bottom_right = view_lines + _lines(
        (_flip_label(flip), kind.FLIP), (calibration_label(calibration), kind.CALIBRATION)
    )
    if record is None:
        return CornerLines(bottom_left=bottom_left, bottom_right=bottom_right)
    return CornerLines(_patient_lines(record), _study_lines(record), bottom_left, bottom_right)


def scale_bar_length_mm(mm_per_screen_pixel: float, target_px: float = 100.0) -> float:
    """Return a "nice" scale bar length: 1, 2 or 5 × 10ⁿ mm.

    Of the nice lengths whose bar is between 60 and 150 screen pixels
    (:data:`SCALE_BAR_RANGE_PX`; consecutive nice lengths differ by at most 2.5×, the
    ratio of the bounds, so there always is one), the one closest to `target_px`.

    Parameters
    ----------
    mm_per_screen_pixel
        Physical size of one screen pixel on the image.
    target_px
        Preferred bar length in screen pixels.

    Returns
    -------
    float
        The length in mm, e.g. ``10.0`` at 0.1 mm per pixel.

    Raises
    ------
    ValueError
        If `mm_per_screen_pixel` or `target_px` is not positive and finite.
    """
    if not (math.isfinite(mm_per_screen_pixel) and mm_per_screen_pixel > 0.0):
        raise ValueError(f"mm per screen pixel must be positive, got {mm_per_screen_pixel!r}")
    if not (math.isfinite(target_px) and target_px > 0.0):
        raise ValueError(f"target length must be positive, got {target_px!r}")
    low, high = SCALE_BAR_RANGE_PX
    exponent = math.floor(math.log10(target_px * mm_per_screen_pixel))
    candidates = [
        mantissa * 10.0**power if power >= 0 else mantissa / 10.0**-power
        for power in range(exponent - 2, exponent + 3)
        for mantissa in _NICE_MANTISSAS
    ]
    tolerance = 1e-9

    def pixels(length: float) -> float:
        return length / mm_per_screen_pixel

    fitting = [
        length
        for length in candidates
        if low * (1.0 - tolerance) <= pixels(length) <= high * (1.0 + tolerance)
    ]
    return min(fitting or candidates, key=lambda length: abs(pixels(length) - target_px))
