"""Seeded mutations of DICOM Part 10 files and of DICOM JSON documents.

Every mutation is a pure function of its input and a :class:`random.Random`, so a mutant
is reproduced from the campaign seed and its index alone. A mutation returns the new bytes
and a one-line description (e.g. ``"(0028,0010) Rows value 2294 -> 65535"``) that names
what was changed when the mutant makes the program fail.

Part 10 files (PS3.10 §7.1) are walked element by element, nested ones included (PS3.5
§7.1: tag, VR of explicit VR syntaxes, value length; §7.5: sequence items and delimiters,
defined or undefined length; §A.4: encapsulated pixel data fragments), so mutations can aim
at what readers trust: value lengths, VRs, and the values of the attributes that size the
pixel data or name files. DICOM JSON (PS3.18 Annex F) is mutated as a tree (wrong ``vr``,
missing or mistyped ``Value``, extreme numbers, hostile strings, deep nesting) and as text
(truncation, bit flips, documents that are not objects).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from random import Random
from typing import Any, Final

from pydicom.datadict import dictionary_VR, tag_for_keyword

__all__ = [
    "IMAGE",
    "IMAGE_DELETABLE",
    "IMAGE_IDENTITY",
    "IMAGE_VALUES",
    "SR",
    "SR_DELETABLE",
    "SR_VALUES",
    "Element",
    "Layout",
    "Mutation",
    "Profile",
    "Value",
    "claim_size",
    "mutate_json",
    "mutate_part10",
    "mutate_value",
    "walk",
]

#: A value written into an element: text for string VRs, an int or float for binary
#: VRs, or raw bytes written as they are.
Value = str | int | float | bytes

#: Value representations (PS3.5 §6.2).
ALL_VRS: Final = (
    "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "OB", "OD", "OF",
    "OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN",
    "UR", "US", "UT", "UV",
)  # fmt: skip
#: VRs with a reserved field and a 4-byte value length in explicit VR (PS3.5 §7.1.2).
_LONG_VRS: Final = frozenset(
    {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}
)
UNDEFINED: Final = 0xFFFFFFFF
_ITEM: Final = 0xFFFEE000
_ITEM_END: Final = 0xFFFEE00D
_SEQUENCE_END: Final = 0xFFFEE0DD
_PIXEL_DATA: Final = 0x7FE00010
_GROUP_LENGTH: Final = 0x00020000
_TRANSFER_SYNTAX: Final = 0x00020010
IMPLICIT_VR_LITTLE_ENDIAN: Final = "1.2.840.10008.1.2"
#: Syntaxes whose dataset is not walked: deflated, big endian (PS3.5 §A.5, §A.3).
_NOT_WALKED: Final = frozenset({"1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2"})


@dataclass(frozen=True, slots=True)
class Mutation:
    """A mutant's bytes and what was done to make them."""

    data: bytes
    description: str


@dataclass(frozen=True, slots=True)
class Element:
    """Where one data element, item or delimiter lies in a Part 10 file.

    ``vr`` is None for implicit VR elements, items and delimiters; ``length`` is the value
    length as written (:data:`UNDEFINED` for undefined lengths).
    """

    tag: int
    vr: str | None
    offset: int
    length_offset: int
    length_size: int
    length: int
    value_offset: int
    depth: int

    @property
    def name(self) -> str:
        """The tag as ``(gggg,eeee)``."""
        return f"({self.tag >> 16:04X},{self.tag & 0xFFFF:04X})"

    @property
    def end(self) -> int:
        """The offset after a defined-length value (the value offset when undefined)."""
        return self.value_offset + (0 if self.length == UNDEFINED else self.length)


@dataclass(frozen=True, slots=True)
class Layout:
    """The elements of a Part 10 file in file order and how its dataset is encoded."""

    elements: tuple[Element, ...]
    implicit: bool
    pixel_data_offset: int | None

    def top_level(self, tag: int) -> Element | None:
        """Return the top-level element with this tag, if any."""
        return next((e for e in self.elements if e.depth == 0 and e.tag == tag), None)


class _StopError(Exception):
    """The bytes stop making sense; the walk keeps what it found so far."""


class _Walker:
    """Recursive-descent reader of element positions (never of values)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.found: list[Element] = []

    def _u16(self, pos: int) -> int:
        value: int = struct.unpack_from("<H", self.data, pos)[0]
        return value

    def _u32(self, pos: int) -> int:
        value: int = struct.unpack_from("<I", self.data, pos)[0]
        return value

    def tag(self, pos: int) -> int:
        return (self._u16(pos) << 16) | self._u16(pos + 2)

    def element(self, pos: int, implicit: bool, depth: int) -> int:
        tag = self.tag(pos)
        vr: str | None = None
        if implicit or tag >> 16 == 0xFFFE:
            length_offset, length_size = pos + 4, 4
        else:
            vr = self.data[pos + 4 : pos + 6].decode("latin-1")
            if vr not in ALL_VRS:
                raise _StopError
            length_offset, length_size = (pos + 8, 4) if vr in _LONG_VRS else (pos + 6, 2)
        length = self._u32(length_offset) if length_size == 4 else self._u16(length_offset)
        value_offset = length_offset + length_size
        self.found.append(
            Element(tag, vr, pos, length_offset, length_size, length, value_offset, depth)
        )
        if tag == _PIXEL_DATA and length == UNDEFINED:
            return self.fragments(value_offset, depth + 1)
        if vr == "SQ" or (vr is None and _is_sequence(tag, length)):
            return self.sequence(value_offset, length, implicit, depth + 1)
        if length == UNDEFINED or value_offset + length > len(self.data):
            raise _StopError
        return value_offset + length

    def dataset(self, pos: int, end: int, implicit: bool, depth: int, *, until: int) -> int:
        while pos < end:
            if until and self.tag(pos) == until:
                self.found.append(Element(until, None, pos, pos + 4, 4, 0, pos + 8, depth))
                return pos + 8
            pos = self.element(pos, implicit, depth)
        if until:
            raise _StopError
        return pos

    def sequence(self, pos: int, length: int, implicit: bool, depth: int) -> int:
        end = len(self.data) if length == UNDEFINED else pos + length
        while pos < end:
            tag, item_length = self.tag(pos), self._u32(pos + 4)
            self.found.append(Element(tag, None, pos, pos + 4, 4, item_length, pos + 8, depth))
            if tag == _SEQUENCE_END and length == UNDEFINED:
                return pos + 8
            if tag != _ITEM:
                raise _StopError
            if item_length == UNDEFINED:
                pos = self.dataset(pos + 8, end, implicit, depth + 1, until=_ITEM_END)
            else:
                self.dataset(pos + 8, pos + 8 + item_length, implicit, depth + 1, until=0)
                pos += 8 + item_length
        if length == UNDEFINED:
            raise _StopError
        return pos

    def fragments(self, pos: int, depth: int) -> int:
        while True:
            tag, length = self.tag(pos), self._u32(pos + 4)
            self.found.append(Element(tag, None, pos, pos + 4, 4, length, pos + 8, depth))
            if tag == _SEQUENCE_END:
                return pos + 8
            if tag != _ITEM or length == UNDEFINED:
                raise _StopError
            pos += 8 + length


def _is_sequence(tag: int, length: int) -> bool:
    """Whether an implicit VR element is a sequence (undefined length, or SQ by dictionary)."""
    if length == UNDEFINED:
        return True
    try:
        return bool(dictionary_VR(tag) == "SQ")
    except KeyError:
        return False


def walk(data: bytes) -> Layout:
    """Return where the elements of a Part 10 file lie, nested ones included.

    The walk stops quietly at the first thing that does not parse and returns what it
    found; a deflated or big endian dataset is not walked (only its file meta group).

    Parameters
    ----------
    data
        The file's bytes: 128-byte preamble, ``DICM``, file meta group, dataset.

    Returns
    -------
    Layout
        The elements in file order.
    """
    walker = _Walker(data)
    implicit = False
    if data[128:132] != b"DICM":
        return Layout((), implicit, None)
    try:
        pos = 132
        while pos + 4 <= len(data) and walker.tag(pos) >> 16 == 0x0002:
            pos = walker.element(pos, False, 0)
        syntax = next((e for e in walker.found if e.tag == _TRANSFER_SYNTAX), None)
        uid = "" if syntax is None else data[syntax.value_offset : syntax.end].decode("latin-1")
        uid = uid.rstrip("\x00 ")
        implicit = uid == IMPLICIT_VR_LITTLE_ENDIAN
        if uid not in _NOT_WALKED:
            walker.dataset(pos, len(data), implicit, 0, until=0)
    except (_StopError, struct.error):
        pass
    pixels = next((e for e in walker.found if e.depth == 0 and e.tag == _PIXEL_DATA), None)
    return Layout(tuple(walker.found), implicit, None if pixels is None else pixels.value_offset)


# --- values ---------------------------------------------------------------------------------

#: UIDs that must never name a file or pass as valid (PS3.5 §9.1: 64 chars, digits and dots).
BAD_UIDS: Final[tuple[Value, ...]] = (
    "../../..", "1.2.3\n4", "1." + "9" * 63, "", "/etc/passwd", "..", "x" * 200,
    b"\xff\xfe\x00", "1.2.3.", "a b", "1.2.840.10008.1.2\\1.2", "CON",
)  # fmt: skip
_TRANSFER_SYNTAXES: Final[tuple[Value, ...]] = (
    IMPLICIT_VR_LITTLE_ENDIAN, "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2",
    "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.70",
    "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.5", "1.2.3", "", "../../..",
)  # fmt: skip
_DECIMALS: Final[tuple[Value, ...]] = ("0", "-1", "1e308", "-1e308", "nan", "inf", "x", "")
_NAMES: Final[tuple[Value, ...]] = ("\\\\\\", "=^^^=", b"\xff\xfe\xc3", "x" * 320, "\n")
_CHARSETS: Final[tuple[Value, ...]] = ("ISO_IR 999", "ISO 2022 IR 87", "\\", "", "ISO_IR 100")

#: Extreme or hostile values of image attributes, by keyword.
IMAGE_VALUES: Final[Mapping[str, tuple[Value, ...]]] = {
    "Rows": (0, 1, 32767, 65535),
    "Columns": (0, 1, 32767, 65535),
    "NumberOfFrames": ("0", "-1", "2", "1000", "2147483647", "99999999999", "1e9", "x", ""),
    "BitsAllocated": (0, 1, 7, 12, 24, 32, 33, 64, 65535),
    "BitsStored": (0, 1, 17, 33, 65535),
    "HighBit": (0, 15, 40, 65535),
    "SamplesPerPixel": (0, 2, 3, 4, 65535),
    "PixelRepresentation": (1, 2, 65535),
    "PlanarConfiguration": (1, 2),
    "PhotometricInterpretation": ("MONOCHROME1", "RGB", "YBR_FULL_422", "PALETTE COLOR", "", "X"),
    "TransferSyntaxUID": _TRANSFER_SYNTAXES,
    "StudyInstanceUID": BAD_UIDS,
    "SeriesInstanceUID": BAD_UIDS,
    "SOPInstanceUID": BAD_UIDS,
    "MediaStorageSOPInstanceUID": BAD_UIDS,
    "SOPClassUID": ("1.2.840.10008.5.1.4.1.1.88.33", "1.2.840.10008.5.1.4.1.1.2", "", "1.2.3"),
    "WindowCenter": (*_DECIMALS, "1\\2\\3\\4"),
    "WindowWidth": (*_DECIMALS, "1\\2\\3\\4"),
    "RescaleSlope": _DECIMALS,
    "RescaleIntercept": _DECIMALS,
    "PixelSpacing": ("0\\0", "-1\\-1", "1e308\\1e308", "nan\\nan", "1", "x\\y"),
    "ImagerPixelSpacing": ("0\\0", "-1\\-1", "1e308\\1e308", "inf\\inf", "1"),
    "EstimatedRadiographicMagnificationFactor": ("0", "-1", "1e308", "nan"),
    "DistanceSourceToDetector": ("0", "-1", "1e308"),
    "DistanceSourceToPatient": ("0", "-1", "1e308"),
    "ImageLaterality": ("X", "", "LR", b"\xff"),
    "InstanceNumber": ("-2147483649", "99999999999999", "x"),
    "SeriesNumber": ("-2147483649", "99999999999999", "x"),
    "PatientName": _NAMES,
    "PatientID": ("../../..", "\n", ""),
    "SpecificCharacterSet": _CHARSETS,
    "StudyDate": ("99999999", "2026-13-45", "", "0"),
    "VOILUTFunction": ("SIGMOID", "BOGUS"),
    "PresentationLUTShape": ("INVERSE", "BOGUS"),
}
#: The attributes that tie an image to its study, its marks and its geometry (for ``report``).
IMAGE_IDENTITY: Final = (
    "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "ImageLaterality", "Rows",
    "Columns", "PixelSpacing", "ImagerPixelSpacing", "EstimatedRadiographicMagnificationFactor",
)  # fmt: skip
#: Image attributes a mutant may lose.
IMAGE_DELETABLE: Final = (
    "Rows", "Columns", "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation",
    "SamplesPerPixel", "PhotometricInterpretation", "PixelData", "TransferSyntaxUID",
    "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "SOPClassUID",
    "ImageLaterality", "ViewCodeSequence", "PixelSpacing", "FileMetaInformationGroupLength",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Profile:
    """What value mutations of one kind of file aim at.

    Attributes
    ----------
    values
        Extreme or hostile values per attribute keyword, set or inserted.
    deletable
        Keywords of the attributes a mutant may lose.
    """

    values: Mapping[str, tuple[Value, ...]]
    deletable: tuple[str, ...]


#: Extreme or hostile values of SR attributes, by keyword.
SR_VALUES: Final[Mapping[str, tuple[Value, ...]]] = {
    "SOPClassUID": (
        "1.2.840.10008.5.1.4.1.1.88.59",  # Key Object Selection
        "1.2.840.10008.5.1.4.1.1.88.11",  # Basic Text SR
        "1.2.840.10008.5.1.4.1.1.88.22",  # Enhanced SR
        "1.2.840.10008.5.1.4.1.1.1.2",  # an image
        "",
        "1.2.3",
    ),
    "MediaStorageSOPClassUID": ("1.2.840.10008.5.1.4.1.1.88.59", "", "1.2.3"),
    "StudyInstanceUID": BAD_UIDS,
    "SeriesInstanceUID": BAD_UIDS,
    "SOPInstanceUID": BAD_UIDS,
    "TransferSyntaxUID": _TRANSFER_SYNTAXES,
    "SpecificCharacterSet": _CHARSETS,
    "ValueType": ("TEXT", "NUM", "", "BOGUS"),
    "CompletionFlag": ("X", ""),
    "VerificationFlag": ("X", ""),
    "ContentDate": ("99999999", ""),
    "PatientName": _NAMES,
    "Modality": ("MG", ""),
}
#: SR attributes a mutant may lose.
SR_DELETABLE: Final = (
    "ContentSequence", "ConceptNameCodeSequence", "ValueType", "StudyInstanceUID",
    "SOPClassUID", "SOPInstanceUID", "TransferSyntaxUID", "ContentTemplateSequence",
    "FileMetaInformationGroupLength", "SpecificCharacterSet",
)  # fmt: skip

#: Value mutations of images and of SRs.
IMAGE: Final = Profile(IMAGE_VALUES, IMAGE_DELETABLE)
SR: Final = Profile(SR_VALUES, SR_DELETABLE)


def _vr_of(keyword: str) -> str:
    """Return a keyword's VR from the data dictionary (first of an ambiguous one)."""
    return dictionary_VR(keyword)[:2]


def _encode(value: Value, vr: str | None) -> bytes:
    """Return the value bytes of ``value`` as an element of ``vr``, padded to even length."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, int) and vr in {"US", "SS", "UL", "SL"}:
        fmt = {"US": "<H", "SS": "<h", "UL": "<I", "SL": "<i"}[vr]
        bits = struct.calcsize(fmt) * 8
        wrapped = value % (1 << bits)
        if fmt.islower() and wrapped >= 1 << (bits - 1):
            wrapped -= 1 << bits
        return struct.pack(fmt, wrapped)
    if isinstance(value, float) and vr in {"FD", "FL"}:
        return struct.pack("<d" if vr == "FD" else "<f", value)
    raw = str(value).encode("utf-8", "surrogateescape")
    if len(raw) % 2:
        raw += b"\x00" if vr == "UI" else b" "
    return raw


# --- Part 10 mutations ------------------------------------------------------------------


def _fix_group_length(data: bytes, layout: Layout, changed: Element, delta: int) -> bytes:
    """Keep the file meta group length (PS3.10 §7.1) right after a change in group 0002."""
    group_length = layout.top_level(_GROUP_LENGTH)
    if changed.tag >> 16 != 0x0002 or group_length is None or group_length.length != 4:
        return data
    if changed.tag == _GROUP_LENGTH:
        return data
    fixed = bytearray(data)
    old = struct.unpack_from("<I", fixed, group_length.value_offset)[0]
    struct.pack_into("<I", fixed, group_length.value_offset, (old + delta) % (1 << 32))
    return bytes(fixed)


def _replace_value(data: bytes, layout: Layout, element: Element, value: bytes) -> bytes:
    """Return ``data`` with an element's value (and its length field) replaced."""
    if element.length_size == 2:
        value = value[:0xFFFE]
    header = bytearray(data[element.offset : element.value_offset])
    fmt = "<H" if element.length_size == 2 else "<I"
    struct.pack_into(fmt, header, element.length_offset - element.offset, len(value))
    new = data[: element.offset] + bytes(header) + value + data[element.end :]
    return _fix_group_length(new, layout, element, len(new) - len(data))


def _insert_element(data: bytes, layout: Layout, tag: int, vr: str, value: bytes) -> bytes:
    """Return ``data`` with a new top-level element, placed in ascending tag order."""
    group, number = tag >> 16, tag & 0xFFFF
    header = struct.pack("<HH", group, number)
    if layout.implicit and group != 0x0002:
        header += struct.pack("<I", len(value))
    elif vr in _LONG_VRS:
        header += vr.encode() + b"\x00\x00" + struct.pack("<I", len(value))
    else:
        value = value[:0xFFFE]
        header += vr.encode() + struct.pack("<H", len(value))
    after = next((e for e in layout.elements if e.depth == 0 and e.tag > tag), None)
    at = len(data) if after is None else after.offset
    new = data[:at] + header + value + data[at:]
    probe = Element(tag, vr, at, at, 0, 0, at, 0)
    return _fix_group_length(new, layout, probe, len(header) + len(value))


def _flip_bits(data: bytes, rng: Random, limit: int) -> Mutation:
    count = rng.choice((1, 1, 2, 3, 4, 8, 32))
    out = bytearray(data)
    flips = []
    for position in sorted(rng.randrange(limit) for _ in range(count)):
        bit = rng.randrange(8)
        out[position] ^= 1 << bit
        flips.append(f"0x{position:x}.{bit}")
    shown = ", ".join(flips[:6]) + (", ..." if len(flips) > 6 else "")
    return Mutation(bytes(out), f"flip {count} bit(s) at {shown}")


def _truncate(data: bytes, rng: Random, elements: Sequence[Element], limit: int) -> Mutation:
    if elements and rng.random() < 0.6:
        element = rng.choice(elements)
        cut = rng.choice(
            (
                element.offset,
                element.offset + rng.randrange(1, 12),
                element.value_offset + (element.end - element.value_offset) // 2,
            )
        )
        where = f" (inside {element.name})"
    else:
        cut = rng.randrange(limit)
        where = ""
    cut = min(cut, len(data) - 1)
    return Mutation(data[:cut], f"truncate to {cut} of {len(data)} bytes{where}")


def _corrupt_length(data: bytes, rng: Random, elements: Sequence[Element]) -> Mutation:
    element = rng.choice(elements)
    old = element.length
    if element.length_size == 2:
        new = rng.choice((0, 1, old + 1, max(old - 1, 0), 0xFFFF, 0xFFFE)) & 0xFFFF
        fmt = "<H"
    else:
        choices = (
            0, 1, old + 1, max(old - 1, 0), UNDEFINED, 0xFFFFFFFE, 0x7FFFFFFF, 0x80000000,
            len(data), old * 4 + 2,
        )  # fmt: skip
        new = rng.choice(choices) & UNDEFINED
        fmt = "<I"
    out = bytearray(data)
    struct.pack_into(fmt, out, element.length_offset, new)
    kind = element.vr or ("item" if element.tag >> 16 == 0xFFFE else "implicit")
    return Mutation(
        bytes(out),
        f"{element.name} {kind} length {old:#x} -> {new:#x} at {element.length_offset:#x}",
    )


def _corrupt_vr(data: bytes, rng: Random, elements: Sequence[Element]) -> Mutation:
    explicit = [e for e in elements if e.vr is not None]
    if not explicit:
        return _corrupt_length(data, rng, elements)
    element = rng.choice(explicit)
    assert element.vr is not None
    new = rng.choice(
        ("UN", "SQ", "OB", "OW", "US", "UI", "FD", "XX", "\x00\x00", "  ", element.vr.lower(),
         rng.choice(ALL_VRS))
    )  # fmt: skip
    out = bytearray(data)
    out[element.offset + 4 : element.offset + 6] = new.encode("latin-1")
    return Mutation(bytes(out), f"{element.name} VR {element.vr} -> {new!r}")


def _set_value(
    data: bytes, rng: Random, layout: Layout, values: Mapping[str, tuple[Value, ...]]
) -> Mutation:
    keyword = rng.choice(sorted(values))
    value = rng.choice(values[keyword])
    tag = tag_for_keyword(keyword)
    assert tag is not None, keyword
    element = layout.top_level(tag)
    if element is None:
        vr = _vr_of(keyword)
        new = _insert_element(data, layout, tag, vr, _encode(value, vr))
        return Mutation(new, f"insert {keyword} = {value!r:.80}")
    vr = element.vr or _vr_of(keyword)
    old = data[element.value_offset : element.end][:40]
    new = _replace_value(data, layout, element, _encode(value, vr))
    return Mutation(new, f"{element.name} {keyword} value {old!r} -> {value!r:.80}")


def mutate_value(data: bytes, rng: Random, values: Mapping[str, tuple[Value, ...]]) -> Mutation:
    """Return a Part 10 file with one listed attribute set to (or inserted with) a listed value.

    Parameters
    ----------
    data
        The pristine file.
    rng
        The mutant's own random generator.
    values
        Values per attribute keyword.

    Returns
    -------
    Mutation
        The mutant and its description.
    """
    return _set_value(data, rng, walk(data), values)


def _delete(data: bytes, rng: Random, layout: Layout, deletable: Sequence[str]) -> Mutation:
    present = [
        (k, e)
        for k in deletable
        if (e := layout.top_level(tag_for_keyword(k) or 0)) is not None and e.length != UNDEFINED
    ]
    if not present:
        return _flip_bits(data, rng, len(data))
    keyword, element = rng.choice(present)
    new = data[: element.offset] + data[element.end :]
    new = _fix_group_length(new, layout, element, len(new) - len(data))
    return Mutation(new, f"delete {element.name} {keyword}")


def _insert_bytes(data: bytes, rng: Random, limit: int) -> Mutation:
    at = rng.randrange(limit)
    junk = bytes(rng.randrange(256) for _ in range(rng.choice((1, 2, 4, 7, 16))))
    return Mutation(data[:at] + junk + data[at:], f"insert {len(junk)} byte(s) at {at:#x}")


#: Image sizes a header may claim, far beyond the data that follows (a "header bomb").
_SIZE_CLAIMS: Final[tuple[dict[str, Value], ...]] = (
    {"Rows": 32767, "Columns": 32767, "NumberOfFrames": "1000"},
    {"Rows": 65535, "Columns": 65535},
    {"Rows": 65535, "Columns": 65535, "BitsAllocated": 32, "SamplesPerPixel": 3},
    {"NumberOfFrames": "2147483647"},
    {"Rows": 32767, "Columns": 32767, "NumberOfFrames": "1000", "BitsAllocated": 32},
)


def claim_size(data: bytes, rng: Random) -> Mutation:
    """Return an image whose header claims a size far beyond its data (a "header bomb").

    Parameters
    ----------
    data
        The pristine image file.
    rng
        The mutant's own random generator.

    Returns
    -------
    Mutation
        The mutant, e.g. ``header claims Rows=32767, Columns=32767, NumberOfFrames='1000'``.
    """
    claim = rng.choice(_SIZE_CLAIMS)
    for keyword, value in claim.items():
        data = _set_value(data, rng, walk(data), {keyword: (value,)}).data
    shown = ", ".join(f"{keyword}={value!r}" for keyword, value in claim.items())
    return Mutation(data, f"header claims {shown}")


#: Mutation kinds of Part 10 files and their relative weights.
_PART10_KINDS: Final = (
    ("flip", 20), ("truncate", 12), ("length", 20), ("vr", 12), ("value", 26), ("delete", 5),
    ("insert", 5), ("size", 5),
)  # fmt: skip


def mutate_part10(data: bytes, rng: Random, profile: Profile, *, header_only: bool) -> Mutation:
    """Return one seeded mutant of a Part 10 file.

    Kinds: bit flips, truncation (often at or inside an element), a corrupt value length
    (0, odd, undefined, huge), a corrupt VR, an extreme value of a listed attribute (set or
    inserted), a deleted attribute, inserted junk bytes, an image size claim far beyond the
    data (rows, columns, frames, bits; images only).

    Parameters
    ----------
    data
        The pristine file.
    rng
        The mutant's own random generator.
    profile
        The attributes value mutations aim at (:data:`IMAGE`, :data:`SR`).
    header_only
        Keep bit flips, junk and structural changes in the header (up to the first
        bytes of the pixel data), which is what a header reader sees and keeps large
        compressed images cheap to run; else anywhere in the file.

    Returns
    -------
    Mutation
        The mutant and its description.
    """
    layout = walk(data)
    limit = len(data)
    if header_only and layout.pixel_data_offset is not None:
        limit = min(len(data), layout.pixel_data_offset + 256)
    elements = [e for e in layout.elements if e.offset < limit] or list(layout.elements)
    kind = rng.choices([k for k, _ in _PART10_KINDS], [w for _, w in _PART10_KINDS])[0]
    if not elements and kind in {"length", "vr", "value", "delete"}:
        kind = "flip"
    if kind == "flip":
        return _flip_bits(data, rng, limit)
    if kind == "truncate":
        return _truncate(data, rng, elements, limit)
    if kind == "length":
        return _corrupt_length(data, rng, elements)
    if kind == "vr":
        return _corrupt_vr(data, rng, elements)
    if kind == "value":
        return _set_value(data, rng, layout, profile.values)
    if kind == "delete":
        return _delete(data, rng, layout, profile.deletable)
    if kind == "size" and "Rows" in profile.values:
        return claim_size(data, rng)
    if kind == "size":
        return _set_value(data, rng, layout, profile.values)
    return _insert_bytes(data, rng, limit)


# --- DICOM JSON mutations -----------------------------------------------------------------

#: A DICOM JSON attribute: its path for the description, the object holding it, its key.
_Node = tuple[str, dict[str, Any], str]

_NUMBERS: Final[tuple[Any, ...]] = (
    1e308, -1e308, float("nan"), float("inf"), float("-inf"), 10**400, -1, 2**64, 0, "1e308",
    "NaN", True,
)  # fmt: skip
_STRINGS: Final[tuple[Any, ...]] = (
    "../../..", "1.2.3\n4", "1." + "9" * 63, "", "\x00", "x" * 100_000, "\ud800", "\\", "NaN",
    "-1", "1e308", 7,
)  # fmt: skip
_VALUES: Final[tuple[Any, ...]] = (
    None, "text", 5, {}, [None], [[]], [{}], [{"vr": "SQ"}], ["a", "b", "c"], [True],
    [{"Alphabetic": 5}], [{"00080100": None}],
)  # fmt: skip
_VRS: Final[tuple[Any, ...]] = ("SQ", "UN", "OB", "FD", "US", "UI", "PN", "XX", "", None, 5, "sq")
_KEYS: Final = ("zzzz", "(0020,000D)", "", "FFFFFFFF", "0020000D0")
#: Attributes an SR reader needs most (PS3.3 A.35.3): dropped first.
_IMPORTANT: Final = (
    "0020000D", "0040A730", "0040A043", "0040A040", "00080016", "00080018", "0040A504",
)  # fmt: skip
#: Whole documents that are not what a reader hopes for.
_DOCUMENTS: Final = (
    "", "null", "[]", "{}", '{"vr": "SQ"}',
    '{"00080016": {"vr": "UI", "Value": [' + "1" * 5000 + "]}}", "{" * 100_000,
    '{"0040A730": {"vr": "SQ", "Value": [' * 3000,
)  # fmt: skip


def _nodes(document: dict[str, Any]) -> list[_Node]:
    """Return every attribute of a DICOM JSON dataset, nested ones included."""
    found: list[_Node] = []
    pending: list[tuple[str, dict[str, Any]]] = [("", document)]
    while pending:
        prefix, dataset = pending.pop()
        for key, attribute in dataset.items():
            path = f"{prefix}{key}"
            found.append((path, dataset, key))
            values = attribute.get("Value") if isinstance(attribute, dict) else None
            if isinstance(values, list):
                for index, item in enumerate(values):
                    if isinstance(item, dict) and attribute.get("vr") == "SQ":
                        pending.append((f"{path}[{index}].", item))
    found.sort(key=lambda node: node[0])
    return found


def _with_values(nodes: Sequence[_Node], kind: type | tuple[type, ...]) -> list[_Node]:
    """Return the attributes whose Value list holds an element of ``kind`` (not bool)."""
    return [
        node
        for node in nodes
        if isinstance(values := node[1][node[2]].get("Value"), list)
        and any(isinstance(v, kind) and not isinstance(v, bool) for v in values)
    ]


def _tree_mutation(document: dict[str, Any], rng: Random, kind: str) -> str:
    """Mutate ``document`` in place; return the description (or ``""`` if not possible)."""
    nodes = _nodes(document)
    if kind == "number":
        nodes = _with_values(nodes, (int, float)) or nodes
    elif kind == "string":
        nodes = _with_values(nodes, str) or nodes
    elif kind in {"nest", "duplicate"}:
        nodes = [n for n in nodes if n[1][n[2]].get("vr") == "SQ" and n[1][n[2]].get("Value")]
    elif kind == "drop" and rng.random() < 0.5:
        nodes = [n for n in nodes if n[0] in _IMPORTANT] or nodes
    if not nodes:
        return ""
    path, parent, key = rng.choice(nodes)
    attribute = parent[key]
    if kind == "vr":
        attribute["vr"] = new = rng.choice(_VRS)
        return f"{path} vr -> {new!r}"
    if kind == "drop-value":
        attribute.pop("Value", None)
        extra = rng.choice(
            ({}, {"InlineBinary": "!!!"}, {"InlineBinary": "AAAA"},
             {"BulkDataURI": "file:///nonexistent/galactoview-fuzz"})
        )  # fmt: skip
        attribute.update(extra)
        return f"{path} Value removed{' ' + str(extra) if extra else ''}"
    if kind == "value-type":
        attribute["Value"] = new = rng.choice(_VALUES)
        return f"{path} Value -> {new!r}"
    if kind in {"number", "string"}:
        values = attribute.get("Value")
        if not isinstance(values, list) or not values:
            attribute["Value"] = values = [None]
        index = rng.randrange(len(values))
        values[index] = new = rng.choice(_NUMBERS if kind == "number" else _STRINGS)
        return f"{path} Value[{index}] -> {new!r:.60}"
    if kind == "drop":
        del parent[key]
        return f"{path} removed"
    if kind == "key":
        parent[new_key := rng.choice((*_KEYS, key.lower()))] = parent.pop(key)
        return f"{path} key -> {new_key!r}"
    if kind == "duplicate":
        items = attribute["Value"]
        size = max(len(json.dumps(items)), 1)
        factor = max(2, min(rng.choice((2, 50, 500)), 2_000_000 // size))
        attribute["Value"] = items * factor
        return f"{path} items x{factor}"
    # nest: the SQ's items replaced by one chain of nested items (text built in mutate_json)
    attribute["Value"] = ["__GALACTOVIEW_FUZZ_NEST__"]
    return path


#: JSON mutation kinds and their relative weights.
_JSON_KINDS: Final = (
    ("vr", 10), ("drop-value", 8), ("value-type", 10), ("number", 14), ("string", 12),
    ("drop", 10), ("nest", 6), ("duplicate", 4), ("key", 6), ("truncate", 8), ("flip", 6),
    ("document", 6),
)  # fmt: skip


def mutate_json(text: str, rng: Random) -> Mutation:
    """Return one seeded mutant of a DICOM JSON document (PS3.18 Annex F).

    Tree kinds: wrong ``vr``, ``Value`` removed (or replaced by bulk data), ``Value`` of a
    wrong type, an extreme number (1e308, NaN, 10**400) or hostile string, an attribute
    removed (often one an SR needs), a bad key, a sequence nested thousands of levels deep
    or its items duplicated. Text kinds: truncation, bit flips, a whole other document.

    Parameters
    ----------
    text
        The pristine document.
    rng
        The mutant's own random generator.

    Returns
    -------
    Mutation
        The mutant (UTF-8, or invalid bytes for bit flips) and its description.
    """
    kind = rng.choices([k for k, _ in _JSON_KINDS], [w for _, w in _JSON_KINDS])[0]
    raw = text.encode("utf-8")
    if kind == "truncate":
        cut = rng.randrange(len(raw))
        return Mutation(raw[:cut], f"JSON truncated to {cut} of {len(raw)} bytes")
    if kind == "flip":
        return _flip_bits(raw, rng, len(raw))
    if kind == "document":
        document = rng.choice((*_DOCUMENTS, "\ufeff" + text, text + "}garbage"))
        return Mutation(document.encode("utf-8"), f"JSON document replaced by {document!r:.60}")
    tree = json.loads(text)
    description = _tree_mutation(tree, rng, kind)
    if not description:
        return Mutation(raw[: len(raw) // 2], "JSON truncated to half (no node to mutate)")
    mutated = json.dumps(tree)
    if kind == "nest":
        depth = rng.choice((100, 1000, 5000, 50_000))
        chain = '{"0040A730": {"vr": "SQ", "Value": [' * depth + "{}" + "]}}" * depth
        mutated = mutated.replace('"__GALACTOVIEW_FUZZ_NEST__"', chain)
        description = f"{description} nested {depth} levels deep"
    return Mutation(mutated.encode("utf-8"), description)
