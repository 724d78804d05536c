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
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

from pydicom.dataset import Dataset

__all__ = [
    "VIEW_CODES",
    "VIEW_MODIFIER_CODES",
    "Laterality",
    "MammoView",
    "ViewCode",
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
