"""The attributes of one frame of an enhanced multi-frame image (PS3.3 C.7.6.16), Qt-free.

Enhanced multi-frame objects (Breast Tomosynthesis Image, PS3.3 A.55; Breast Projection
X-Ray Image; Enhanced CT/MR/XA ...) do not say Rescale, Window or Pixel Spacing at the
top level of the dataset: each frame's values are in functional group macros, either in
the one item of Shared Functional Groups Sequence (5200,9229), valid for every frame, or
in the frame's item of Per-Frame Functional Groups Sequence (5200,9230) (PS3.3
C.7.6.16.1: a macro is in one of the two, never both).

:func:`frame_view` returns the dataset a classic single-frame reader expects for frame
``k``: the top-level attributes, overridden by those of the shared macros, overridden by
those of frame ``k``'s macros. The macros read (their items are copied to the top
level) are:

* Pixel Measures (C.7.6.16.2.1): Pixel Spacing, Slice Thickness, and the Basic Pixel
  Spacing Calibration Macro (10.7) — what :mod:`galactoview.dicom.calibration` reads;
* Frame Content (C.7.6.16.2.2): Frame Label, Stack ID, In-Stack Position Number, ...;
* Plane Position (Patient) and Plane Orientation (Patient) (C.7.6.16.2.3, C.7.6.16.2.4);
* Pixel Value Transformation (C.7.6.16.2.9): Rescale Intercept, Slope and Type, and the
  Modality LUT of C.7.6.16.2.9b — what the Modality LUT step reads (C.11.1);
* Frame VOI LUT (C.7.6.16.2.10, and the VOI LUT Sequence of C.7.6.16.2.10b): Window
  Center, Width, Explanation and VOI LUT Function — the default windows (C.11.2).

When a macro is present at a level, the attributes it defines are taken from it alone:
a per-frame Frame VOI LUT with one window replaces the top-level windows and their
explanations entirely, rather than mixing its center with a top-level explanation.
Reading is tolerant: a malformed functional group is a line in
:attr:`FrameView.problems` and is ignored; :func:`frame_view` never raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

__all__ = [
    "FUNCTIONAL_GROUP_MACROS",
    "FrameView",
    "GroupLevel",
    "frame_view",
]


@dataclass(frozen=True, slots=True)
class _Macro:
    """A functional group macro: its name, its section and the attributes it defines."""

    name: str
    section: str
    keywords: frozenset[str]


#: The functional group macros copied to the top level, by sequence keyword (PS3.3 C.7.6.16.2).
FUNCTIONAL_GROUP_MACROS: Final[Mapping[str, _Macro]] = MappingProxyType(
    {
        "PixelMeasuresSequence": _Macro(
            "Pixel Measures",
            "PS3.3 C.7.6.16.2.1",
            frozenset(
                {
                    "PixelSpacing",
                    "SliceThickness",
                    "PixelSpacingCalibrationType",
                    "PixelSpacingCalibrationDescription",
                }
            ),
        ),
        "FrameContentSequence": _Macro(
            "Frame Content",
            "PS3.3 C.7.6.16.2.2",
            frozenset(
                {
                    "FrameAcquisitionNumber",
                    "FrameReferenceDateTime",
                    "FrameAcquisitionDateTime",
                    "FrameAcquisitionDuration",
                    "DimensionIndexValues",
                    "TemporalPositionIndex",
                    "StackID",
                    "InStackPositionNumber",
                    "FrameComments",
                    "FrameLabel",
                }
            ),
        ),
        "PlanePositionSequence": _Macro(
            "Plane Position (Patient)",
            "PS3.3 C.7.6.16.2.3",
            frozenset({"ImagePositionPatient"}),
        ),
        "PlaneOrientationSequence": _Macro(
            "Plane Orientation (Patient)",
            "PS3.3 C.7.6.16.2.4",
            frozenset({"ImageOrientationPatient"}),
        ),
        "PixelValueTransformationSequence": _Macro(
            "Pixel Value Transformation",
            "PS3.3 C.7.6.16.2.9",
            frozenset({"RescaleIntercept", "RescaleSlope", "RescaleType", "ModalityLUTSequence"}),
        ),
        "FrameVOILUTSequence": _Macro(
            "Frame VOI LUT",
            "PS3.3 C.7.6.16.2.10",
            frozenset(
                {
                    "WindowCenter",
                    "WindowWidth",
                    "WindowCenterWidthExplanation",
                    "VOILUTFunction",
                    "VOILUTSequence",
                }
            ),
        ),
    }
)

_SHARED: Final = "SharedFunctionalGroupsSequence"
_PER_FRAME: Final = "PerFrameFunctionalGroupsSequence"


class GroupLevel(StrEnum):
    """Where a frame's value of an attribute came from (PS3.3 C.7.6.16)."""

    #: Shared Functional Groups Sequence (5200,9229): the same for every frame.
    SHARED = "shared functional groups"
    #: Per-Frame Functional Groups Sequence (5200,9230): this frame's own item.
    PER_FRAME = "per-frame functional groups"


@dataclass(frozen=True, slots=True)
class FrameView:
    """The attributes of one frame, as a classic single-frame reader expects them.

    Attributes
    ----------
    dataset
        A new dataset: the top level of the source (without the two functional group
        sequences), with the values of the frame's functional group macros on top. The
        source dataset is not modified; element values are shared with it.
    index
        The frame, from 0 (frame number ``index + 1`` in DICOM terms).
    origins
        For every attribute taken from a functional group: the level it came from
        and the macro's name, e.g. ``{"PixelSpacing": (GroupLevel.SHARED, "Pixel
        Measures")}``. Attributes of the top level are not listed.
    problems
        Malformed functional groups, one line each (they were ignored).
    """

    dataset: Dataset
    index: int = 0
    origins: Mapping[str, tuple[GroupLevel, str]] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    def origin(self, keyword: str) -> str | None:
        """Say where ``keyword`` came from, e.g. ``"frame 2's Pixel Measures"``.

        ``None`` when the attribute is absent from the functional groups (it is the
        top-level one, if any).
        """
        found = self.origins.get(keyword)
        if found is None:
            return None
        level, macro = found
        if level is GroupLevel.SHARED:
            return f"the shared {macro}"
        return f"frame {self.index + 1}'s {macro}"

    @property
    def frame_label(self) -> str:
        """Frame Content in a few words: Frame Label, stack and position; ``""`` if none.

        PS3.3 C.7.6.16.2.2: Frame Label (0020,9453), Stack ID (0020,9056), In-Stack
        Position Number (0020,9057), e.g. ``"slice 2 (stack 1, position 2)"``.
        """
        ds = self.dataset
        label = _text(ds, "FrameLabel")
        stack, position = _text(ds, "StackID"), _text(ds, "InStackPositionNumber")
        parts = (f"stack {stack}" if stack else "", f"position {position}" if position else "")
        where = ", ".join(part for part in parts if part)
        if label and where:
            return f"{label} ({where})"
        return label or where


def frame_view(ds: Dataset, index: int = 0) -> FrameView:
    """Return the attributes of frame ``index`` (from 0) of ``ds``; never raises.

    Per-frame values win over shared ones, which win over the top level (PS3.3
    C.7.6.16.1). A dataset without functional groups comes back with the same values
    (and no origins), so every reader can call this whatever the image.

    Parameters
    ----------
    ds
        The dataset (a header without pixel data is enough). It is not modified.
    index
        The frame, from 0. An index outside Per-Frame Functional Groups Sequence takes
        the shared values only, and says so in ``problems`` when that sequence is
        present.

    Returns
    -------
    FrameView
        The frame's attributes and where they came from.
    """
    problems: list[str] = []
    view = Dataset()
    view.update(ds)  # a new dict of the same (possibly raw) elements
    for keyword in (_SHARED, _PER_FRAME):
        if keyword in view:
            del view[keyword]
    if getattr(ds, "file_meta", None) is not None:
        view.file_meta = ds.file_meta
    implicit, little = ds.original_encoding
    view.set_original_encoding(implicit, little, ds.original_character_set)
    origins: dict[str, tuple[GroupLevel, str]] = {}

    shared = _items(ds, _SHARED, problems)
    if shared:
        if len(shared) > 1:
            problems.append(
                f"Shared Functional Groups Sequence has {len(shared)} items; using the first"
            )
        _apply(view, shared[0], GroupLevel.SHARED, origins, problems)
    per_frame = _items(ds, _PER_FRAME, problems)
    if 0 <= index < len(per_frame):
        _apply(view, per_frame[index], GroupLevel.PER_FRAME, origins, problems)
    elif _PER_FRAME in ds:
        problems.append(
            f"Per-Frame Functional Groups Sequence has {len(per_frame)} item(s), no item for "
            f"frame {index + 1}; using the shared values"
        )
    return FrameView(view, index, MappingProxyType(origins), tuple(problems))


def _items(ds: Dataset, keyword: str, problems: list[str]) -> list[Dataset]:
    """Items of a sequence; [] when absent or unreadable (with a problem)."""
    try:
        value = ds.get(keyword)
    except Exception as exc:  # pydicom may raise anything while converting a raw value
        problems.append(f"{keyword} unreadable: {exc}")
        return []
    if value is None:
        return []
    if not isinstance(value, Sequence):
        problems.append(f"{keyword} is not a sequence: ignored")
        return []
    return [item for item in value if isinstance(item, Dataset)]


def _apply(
    view: Dataset,
    group: Dataset,
    level: GroupLevel,
    origins: dict[str, tuple[GroupLevel, str]],
    problems: list[str],
) -> None:
    """Copy the items of the macros in one functional group item to the top level."""
    where = "shared" if level is GroupLevel.SHARED else "per-frame"
    for keyword, macro in FUNCTIONAL_GROUP_MACROS.items():
        items = _items(group, keyword, problems)
        if not items:
            continue
        if len(items) > 1:
            problems.append(f"{where} {macro.name} has {len(items)} items; using the first")
        item = items[0]
        try:
            elements = list(item)  # converts raw elements: a bad value is caught here
        except Exception as exc:  # pydicom may raise anything while converting a raw value
            problems.append(f"{where} {macro.name} ({macro.section}) unreadable: {exc}")
            continue
        for name in macro.keywords:  # the macro replaces what the lower level said
            if name in view:
                del view[name]
                origins.pop(name, None)
        for element in elements:
            view.add(element)
            if element.keyword:
                origins[element.keyword] = (level, macro.name)


def _text(ds: Dataset, keyword: str) -> str:
    """One element as text, ``""`` when absent or unreadable."""
    try:
        value = ds.get(keyword)
    except Exception:  # pydicom may raise anything while converting a raw value
        return ""
    return "" if value is None else str(value).strip()
