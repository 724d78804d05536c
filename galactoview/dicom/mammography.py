"""Mammography view semantics: laterality, view and view modifiers (Qt-free).

A mammography image says which breast it shows and from which direction in
three places, in decreasing order of trust (PS3.3 C.8.11.7 Mammography Image
Module):

* View Code Sequence (0054,0220), a code from CID 4014 "View for Mammography",
  with its nested View Modifier Code Sequence (0054,0222), codes from CID 4015
  "View Modifier for Mammography" (PS3.16);
* View Position (0018,5101), a free-ish defined term that vendors fill in
  inconsistently;
* Image Laterality (0020,0062), or else the series-level Laterality (0020,0060).

Older files may carry the legacy SNOMED-RT ("SRT") codes instead of SNOMED CT
("SCT") ones; both are recognised.

The module also reads Patient Orientation (0020,0020) and tells how to flip a
stored image so it hangs conventionally (:func:`hanging_flip`), and guesses the
contrast phase of a galactography image (:func:`contrast_phase`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

from pydicom.dataset import Dataset

__all__ = [
    "VIEW_CODES",
    "VIEW_MODIFIER_CODES",
    "ContrastPhase",
    "Flip",
    "Laterality",
    "MammoView",
    "PatientOrientation",
    "ViewCode",
    "contrast_phase",
    "hanging_flip",
    "hanging_target",
]


class Laterality(StrEnum):
    """Side of a paired body part, as coded in Image Laterality (0020,0062).

    The enumerated values are those of PS3.3 C.8.11.7 (``L``, ``R``, ``B`` for
    both breasts); an absent or unrecognised value is :attr:`UNKNOWN`.
    """

    LEFT = "L"
    RIGHT = "R"
    BOTH = "B"
    UNKNOWN = ""

    @classmethod
    def from_dicom(cls, value: object) -> Laterality:
        """Normalise a DICOM laterality value.

        Parameters
        ----------
        value
            The raw element value (``"L"``, ``"r "``, ``None``, ...).

        Returns
        -------
        Laterality
            The matching member, :attr:`UNKNOWN` when absent or unrecognised.
        """
        text = str(value or "").strip().upper()
        for member in cls:
            if member.value and member.value == text:
                return member
        return cls.UNKNOWN


@dataclass(frozen=True, slots=True)
class ViewCode:
    """One coded mammography view or view modifier.

    Attributes
    ----------
    value
        SNOMED CT concept id (coding scheme ``SCT``).
    legacy_value
        The equivalent legacy SNOMED-RT code (coding scheme ``SRT``).
    short_name
        The abbreviation radiologists use on labels (``CC``, ``MLO``, ``MAG``).
    meaning
        The code meaning, as in PS3.16.
    """

    value: str
    legacy_value: str
    short_name: str
    meaning: str


def _table(*codes: ViewCode) -> MappingProxyType[str, ViewCode]:
    """Index view codes by both their SCT and legacy SRT code values."""
    table: dict[str, ViewCode] = {}
    for code in codes:
        table[code.value] = code
        table[code.legacy_value] = code
    return MappingProxyType(table)


#: PS3.16 CID 4014 "View for Mammography", indexed by SCT and legacy SRT code value.
VIEW_CODES: Final = _table(
    ViewCode("399162004", "R-10242", "CC", "cranio-caudal"),
    ViewCode("399368009", "R-10226", "MLO", "medio-lateral oblique"),
    ViewCode("399260004", "R-10224", "ML", "medio-lateral"),
    ViewCode("399352003", "R-10228", "LM", "latero-medial"),
    ViewCode("399099002", "R-10230", "LMO", "latero-medial oblique"),
    ViewCode("399192008", "R-1024A", "XCCL", "cranio-caudal exaggerated laterally"),
    ViewCode("399101009", "R-1024B", "XCCM", "cranio-caudal exaggerated medially"),
    ViewCode("399196006", "R-10244", "FB", "caudo-cranial"),
    ViewCode("399188001", "R-102D0", "SIO", "superolateral to inferomedial oblique"),
    ViewCode("441555000", "R-40AAA", "ISO", "inferomedial to superolateral oblique"),
    ViewCode("127457009", "G-8310", "SPECIMEN", "tissue specimen from breast"),
)

#: PS3.16 CID 4015 "View Modifier for Mammography", indexed by SCT and legacy SRT code value.
VIEW_MODIFIER_CODES: Final = _table(
    ViewCode("399163009", "R-102D6", "MAG", "magnification"),
    ViewCode("399055006", "R-102D7", "SPOT", "spot compression"),
    ViewCode("399209000", "R-102D5", "ID", "implant displaced"),
    ViewCode("399197002", "R-102D3", "RL", "rolled lateral"),
    ViewCode("399226006", "R-102D4", "RM", "rolled medial"),
    ViewCode("415670009", "R-102C9", "RS", "rolled superior"),
    ViewCode("414493004", "R-102CA", "RI", "rolled inferior"),
    ViewCode("399110001", "R-102C2", "TAN", "tangential"),
    ViewCode("399161006", "R-102D2", "CV", "cleavage"),
    ViewCode("399011000", "R-102D1", "AT", "axillary tail"),
    ViewCode("442581004", "R-40AB3", "NP", "nipple in profile"),
    ViewCode("441752004", "P2-00161", "AC", "anterior compression"),
    ViewCode("442593008", "R-40ABE", "IMF", "infra-mammary fold"),
    ViewCode("442580003", "R-40AB2", "AX", "axillary tissue"),
)

#: Short names accepted in View Position (0018,5101), the fallback when no view is coded.
_VIEW_BY_SHORT_NAME: Final = MappingProxyType(
    {code.short_name: code for code in VIEW_CODES.values()}
)


@dataclass(frozen=True, slots=True)
class MammoView:
    """The laterality and view of one mammography image (PS3.3 C.8.11.7).

    Attributes
    ----------
    laterality
        Which breast the image shows.
    view_code
        SNOMED CT code value of the view (CID 4014), ``""`` when only View
        Position was available or nothing was recognised.
    short_name
        View abbreviation (``"CC"``, ``"MLO"``, ``"ML"``, ...), ``""`` if unknown.
    modifiers
        Short names of the view modifiers (CID 4015), e.g. ``("MAG",)``.
    source
        Where the view came from: ``"View Code Sequence"``, ``"View Position"``
        or ``""`` when unknown.
    """

    laterality: Laterality = Laterality.UNKNOWN
    view_code: str = ""
    short_name: str = ""
    modifiers: tuple[str, ...] = ()
    source: str = ""

    @property
    def label(self) -> str:
        """Return the usual label, e.g. ``"L CC"``, ``"R ML"``, ``"L CC MAG"``.

        Unknown parts are left out; an image with neither laterality nor view
        gives ``""``.
        """
        parts = [self.laterality.value, self.short_name, *self.modifiers]
        return " ".join(part for part in parts if part)

    @property
    def is_magnified(self) -> bool:
        """Return whether the view has the magnification modifier (SCT 399163009)."""
        return "MAG" in self.modifiers

    @classmethod
    def from_dataset(cls, ds: Dataset) -> MammoView:
        """Read the view of an image, tolerating missing or malformed attributes.

        Parameters
        ----------
        ds
            A dataset; header-only (``stop_before_pixels``) is enough.

        Returns
        -------
        MammoView
            The view; unknown parts are left empty, never an exception.
        """
        # PS3.3 C.8.11.7: Image Laterality (0020,0062) is required in MG; the
        # series-level Laterality (0020,0060) is the fallback for other IODs.
        laterality = Laterality.from_dicom(ds.get("ImageLaterality"))
        if laterality is Laterality.UNKNOWN:
            laterality = Laterality.from_dicom(ds.get("Laterality"))

        view_item = _first_item(ds.get("ViewCodeSequence"))
        view = _lookup(view_item, VIEW_CODES) if view_item is not None else None
        # PS3.3 C.8.11.7: View Modifier Code Sequence (0054,0222) is nested in the
        # View Code Sequence item; some writers put it at the top level instead.
        modifier_items = list(
            _items(view_item.get("ViewModifierCodeSequence")) if view_item else []
        )
        modifier_items += _items(ds.get("ViewModifierCodeSequence"))
        modifiers: list[str] = []
        for item in modifier_items:
            modifier = _lookup(item, VIEW_MODIFIER_CODES)
            if modifier is not None and modifier.short_name not in modifiers:
                modifiers.append(modifier.short_name)

        if view is not None:
            return cls(
                laterality, view.value, view.short_name, tuple(modifiers), "View Code Sequence"
            )

        # Fallback: View Position (0018,5101). Mammography writers put CID 4014
        # abbreviations there ("CC", "MLO"); anything else is not a known view.
        position = str(ds.get("ViewPosition") or "").strip().upper()
        by_position = _VIEW_BY_SHORT_NAME.get(position)
        if by_position is not None:
            return cls(
                laterality,
                by_position.value,
                by_position.short_name,
                tuple(modifiers),
                "View Position",
            )
        return cls(laterality, "", "", tuple(modifiers), "")


def _items(value: Any) -> list[Dataset]:
    """Return the items of a sequence value, or ``[]`` for anything else."""
    if value is None or isinstance(value, str | bytes):
        return []
    try:
        return [item for item in value if isinstance(item, Dataset)]
    except TypeError:
        return []


def _first_item(value: Any) -> Dataset | None:
    """Return the first item of a sequence value, if any."""
    items = _items(value)
    return items[0] if items else None


def _lookup(item: Dataset, table: MappingProxyType[str, ViewCode]) -> ViewCode | None:
    """Find a code item (Code Value (0008,0100)) in a code table."""
    value = str(item.get("CodeValue") or "").strip()
    return table.get(value)


# ------------------------------------------------------------------- orientation

#: Patient direction letters of PS3.3 C.7.6.1.1.1 and their opposites.
_OPPOSITE: Final = MappingProxyType({"A": "P", "P": "A", "R": "L", "L": "R", "H": "F", "F": "H"})

#: Views hung like a cranio-caudal: the second letter is the medial side.
_CC_LIKE: Final = frozenset({"CC", "XCCL", "XCCM"})
#: Views hung like a lateral or oblique: feet at the bottom.
_LATERAL_LIKE: Final = frozenset({"MLO", "ML", "LM", "LMO", "SIO", "ISO"})


@dataclass(frozen=True, slots=True)
class PatientOrientation:
    """Patient Orientation (0020,0020): patient directions of the image axes.

    PS3.3 C.7.6.1.1.1: the first value is the direction of the rows (towards
    increasing column index, left to right on screen), the second the direction
    of the columns (towards increasing row index, top to bottom). Each value is
    one or more of ``A``/``P`` (anterior/posterior), ``R``/``L`` (right/left),
    ``H``/``F`` (head/foot), the dominant direction first (``FR``).

    Attributes
    ----------
    row
        Direction of the rows, e.g. ``"A"``.
    column
        Direction of the columns, e.g. ``"FR"``.

    Raises
    ------
    ValueError
        If a value is empty or holds a letter outside ``APRLHF``, or repeats an axis.
    """

    row: str
    column: str

    def __post_init__(self) -> None:
        for value in (self.row, self.column):
            if not value or any(letter not in _OPPOSITE for letter in value):
                raise ValueError(f"not a patient direction: {value!r}")
            axes = [frozenset((letter, _OPPOSITE[letter])) for letter in value]
            if len(set(axes)) != len(axes):
                raise ValueError(f"patient direction repeats an axis: {value!r}")

    def __str__(self) -> str:
        return f"{self.row}\\{self.column}"

    @classmethod
    def from_dicom(cls, value: object) -> PatientOrientation | None:
        r"""Parse a raw Patient Orientation value.

        Parameters
        ----------
        value
            The element value: a two-item sequence (``["A", "FR"]``) or a
            backslash-separated string (``"A\FR"``); case and spaces are ignored.

        Returns
        -------
        PatientOrientation or None
            ``None`` when absent or not two valid patient directions.
        """
        if value is None:
            return None
        if isinstance(value, str | bytes):
            text = value.decode("ascii", "replace") if isinstance(value, bytes) else value
            parts = text.split("\\")
        else:
            try:
                parts = [str(part) for part in value]  # type: ignore[attr-defined]
            except TypeError:
                return None
        parts = [part.strip().upper() for part in parts]
        if len(parts) != 2:
            return None
        try:
            return cls(parts[0], parts[1])
        except ValueError:
            return None

    @classmethod
    def from_dataset(cls, ds: Dataset) -> PatientOrientation | None:
        """Read Patient Orientation (0020,0020) from a dataset, ``None`` if unusable."""
        try:
            return cls.from_dicom(ds.get("PatientOrientation"))
        except Exception:  # reading is tolerant
            return None


@dataclass(frozen=True, slots=True)
class Flip:
    """How to flip a stored image so that it hangs conventionally.

    Attributes
    ----------
    horizontal
        Mirror left–right (reverse the column order).
    vertical
        Mirror top–bottom (reverse the row order).
    reason
        One line for people saying why (or why nothing can be decided).
    """

    horizontal: bool = False
    vertical: bool = False
    reason: str = ""


def hanging_target(view: MammoView) -> PatientOrientation | None:
    r"""Return the Patient Orientation an image of this view should have when hung.

    The targets follow the IHE Mammography Image profile and PS3.3 C.8.11.7:
    nipple towards the viewer's right for the left breast (rows run anterior,
    ``A``) and towards the viewer's left for the right breast (``P``), so that
    the two breasts hang back to back; CC-like views put the medial side at the
    bottom (``R`` for the left breast, ``L`` for the right), lateral and
    oblique views the feet (``F``). LCC ``A\R``, RCC ``P\L``, LMLO/LML ``A\F``,
    RMLO/RML ``P\F``.

    Parameters
    ----------
    view
        The image's view and laterality.

    Returns
    -------
    PatientOrientation or None
        ``None`` when the laterality is not left or right or the view has no
        conventional orientation.
    """
    if view.laterality is Laterality.LEFT:
        row, medial = "A", "R"
    elif view.laterality is Laterality.RIGHT:
        row, medial = "P", "L"
    else:
        return None
    if view.short_name in _CC_LIKE:
        return PatientOrientation(row, medial)
    if view.short_name in _LATERAL_LIKE:
        return PatientOrientation(row, "F")
    return None


def _axis_letter(value: str, axis_of: str) -> str | None:
    """Return the first letter of ``value`` on the same axis as ``axis_of``."""
    axis = {axis_of, _OPPOSITE[axis_of]}
    return next((letter for letter in value if letter in axis), None)


def hanging_flip(view: MammoView, orientation: PatientOrientation | None) -> Flip:
    r"""Tell how to flip a stored image so it hangs like :func:`hanging_target`.

    Flips only: the horizontal flip is needed when the row direction's
    anterior/posterior letter is opposite the target's, the vertical flip when
    the column direction's letter on the target axis (R/L for CC, H/F for
    lateral and oblique views) is opposite. A compound letter such as ``FR``
    is judged by its letter on the target axis. An image whose rows do not run
    anterior or posterior is rotated, which flipping cannot fix: no flip.

    The synthetic phantom's prior RCC is stored mirrored (``A\L`` instead of
    ``P\L``): it needs ``Flip(horizontal=True, vertical=False)``.

    Parameters
    ----------
    view
        The image's view and laterality (:meth:`MammoView.from_dataset`).
    orientation
        The image's Patient Orientation (:meth:`PatientOrientation.from_dataset`),
        ``None`` when absent or invalid.

    Returns
    -------
    Flip
        The flips to apply to the stored pixels, with the reason. Unknown
        orientation, laterality or view gives no flip and says why.
    """
    if orientation is None:
        return Flip(reason="no valid Patient Orientation (0020,0020): shown as stored")
    target = hanging_target(view)
    if target is None:
        what = view.label or "unknown view"
        return Flip(reason=f"no hanging convention for '{what}': shown as stored")
    row_letter = _axis_letter(orientation.row, target.row)
    if row_letter is None:
        return Flip(
            reason=f"rows run {orientation.row}, not anterior/posterior: the image is "
            "rotated and is shown as stored"
        )
    horizontal = row_letter != target.row
    column_letter = _axis_letter(orientation.column, target.column)
    vertical = column_letter is not None and column_letter != target.column
    if column_letter is None:
        note = f"; columns run {orientation.column}, vertical sense unknown"
    else:
        note = ""
    flips = [
        name for name, flag in (("horizontally", horizontal), ("vertically", vertical)) if flag
    ]
    action = "flip " + " and ".join(flips) if flips else "no flip"
    return Flip(
        horizontal,
        vertical,
        f"{view.label} stored {orientation}, hung as {target}: {action}{note}",
    )


# ----------------------------------------------------------------- contrast phase


class ContrastPhase(StrEnum):
    """Whether an image was taken before or after contrast injection."""

    PRE = "pre"
    POST = "post"
    UNKNOWN = "unknown"


#: Description words meaning "before contrast"; checked before :data:`_POST_WORDS`
#: because "PRE-CONTRAST" also contains "CONTRAST".
_PRE_WORDS: Final = re.compile(
    r"\bPRE[- ]?(CONTRAST|INJ\w*)|\b(NON|NO|WITHOUT)[- ]?CONTRAST\b|\bW/O(?:[- ]?CONTRAST)?\b"
    r"|\b(PRE|SCOUT|NATIVE|PLAIN)\b"
)
#: Description words meaning "after contrast" (searched once the pre words are removed).
_POST_WORDS: Final = re.compile(
    r"\bPOST[- ]?(CONTRAST|INJ\w*)|\b(W/|WITH)[- ]?CONTRAST\b|\b(POST|CONTRAST)\b"
)
#: Attributes searched for those words: series then image descriptions.
_DESCRIPTION_KEYWORDS: Final = ("SeriesDescription", "ImageComments", "ProtocolName")


def contrast_phase(ds: Dataset) -> ContrastPhase:
    """Guess the contrast phase of an image from its header.

    Heuristics, in order (there is no attribute stating "pre-contrast"):

    1. Series Description (0008,103E), Image Comments (0020,4000) or Protocol
       Name (0018,1030) containing a pre-contrast word (``PRE``,
       ``PRE-CONTRAST``, ``SCOUT``, ``NATIVE``, ``PLAIN``, ``NON-CONTRAST``,
       ``WITHOUT CONTRAST``, ``W/O``) → :attr:`ContrastPhase.PRE`, even if a contrast
       agent is named (worklists often copy it onto every image of the study);
    2. one containing ``POST``, ``POST-CONTRAST`` or ``CONTRAST`` →
       :attr:`ContrastPhase.POST`;
    3. a non-empty Contrast/Bolus Agent (0018,0010) or Contrast/Bolus Agent
       Sequence (0018,0012) (PS3.3 C.7.6.4 Contrast/Bolus Module) →
       :attr:`ContrastPhase.POST`;
    4. otherwise :attr:`ContrastPhase.UNKNOWN`. Absent contrast attributes are
       not evidence of "pre": many writers never fill them, and a screening
       study (such as the phantom's prior) has no contrast phase at all.

    The Study Description is not used: it names the whole examination
    ("DUCTOGRAM"), pre and post alike.

    Parameters
    ----------
    ds
        A dataset; header-only is enough.

    Returns
    -------
    ContrastPhase
        The guess; never raises.
    """
    try:
        return _contrast_phase(ds)
    except Exception:  # reading is tolerant
        return ContrastPhase.UNKNOWN


def _contrast_phase(ds: Dataset) -> ContrastPhase:
    """Apply the :func:`contrast_phase` heuristics (may raise on odd values)."""
    for keyword in _DESCRIPTION_KEYWORDS:
        text = str(ds.get(keyword) or "").upper()
        is_pre = _PRE_WORDS.search(text) is not None
        is_post = _POST_WORDS.search(_PRE_WORDS.sub(" ", text)) is not None
        if is_pre and not is_post:
            return ContrastPhase.PRE
        if is_post and not is_pre:
            return ContrastPhase.POST
    # PS3.3 C.7.6.4: the Contrast/Bolus Module is present when contrast was used.
    if str(ds.get("ContrastBolusAgent") or "").strip() or _items(
        ds.get("ContrastBolusAgentSequence")
    ):
        return ContrastPhase.POST
    return ContrastPhase.UNKNOWN
