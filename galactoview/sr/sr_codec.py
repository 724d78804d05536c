"""TID 1500 Comprehensive SR codec of an :class:`~galactoview.annotations.model.AnnotationSet`.

Writing (strict) builds a Comprehensive SR (PS3.3 A.35.3) with highdicom whose
root is a TID 1500 "Measurement Report" (PS3.16); the measurement groups are built
as plain pydicom datasets, item for item the tree highdicom's TID 1410/1501 classes
build and with their checks, but without their cost (about 3 ms a group):

* the observer as the person observer of TID 1002 (a device observer
  "GalactoView" when no person is known), procedure reported "Mammary
  ductogram" (SCT 18102001), an Image Library (TID 1600) of the referenced images;
* one TID 1410 "Planar ROI Measurements and Qualitative Evaluations" group per
  region of a finding: Tracking Identifier = short id (the same in every group of
  the finding), Tracking Unique Identifier = the finding's tracking UID in the first
  group and a UID derived from it in each later one, which also carries a UIDREF
  ``(REGION-FINDING, 99GALACTOVIEW)`` naming the finding
  (:func:`region_tracking_uid`; OHIF's loader merges groups sharing a UID and draws
  only the first region, so a defect seen on CC and ML would show on one view only;
  :func:`decode` also still merges groups sharing a UID, as revisions before issue 13
  wrote them) —, the Image Region SCOORD, Finding (CID 6057 code), Finding Site
  Breast with a Laterality modifier, measurements (TID 300 NUM items), the
  impression as a qualitative evaluation "Differential Diagnosis/Impression"
  (111023, DCM), the note as TEXT "Comment" (121106, DCM) and the finding's
  observer as PNAME "Person Observer Name" (121008, DCM, HAS OBS CONTEXT);
* one TID 1501 "Measurements and Qualitative Evaluations" group per duct segment:
  finding type ``(DUCT-SEGMENT, 99GALACTOVIEW)``, a "Path length" (121211, DCM)
  NUM whose only child is its INFERRED FROM SCOORD, the POLYLINE (its calibration
  label a TEXT of the group: OHIF draws a NUM's region only when it is the NUM's one
  child; earlier revisions put the label under the NUM, still read), the parent link as a
  UIDREF ``(PARENT-SEGMENT, 99GALACTOVIEW)`` holding the parent's tracking UID
  (absent for a root). An uncalibrated path length is written in the UCUM unit
  ``{pixel}`` and read back as "no mm value";
* a finding or duct segment that started as an accepted suggestion of
  :mod:`galactoview.analysis` names the algorithm that proposed it in each of its groups:
  TID 4019 "Algorithm Identification" after the finding site (:mod:`galactoview.sr.algorithm`;
  the reader who accepted it is its observer as usual);
* a finding located on a CC plus an ML/LM or MLO view
  (:class:`~galactoview.location.localize.BreastLocation`, passed to :func:`encode` as
  ``locations``) carries its location in **every** TID 1410 group, after the impression:
  qualitative evaluations (CODE, CONTAINS) "Clockface or region" (111014, DCM) with a
  CID 6018 value (the o'clock position, or *Subareolar region* within
  :data:`~galactoview.location.localize.SUBAREOLAR_RADIUS_MM` of the nipple), "Quadrant
  location" (111048, DCM) with a CID 6020 value and "Depth" (111020, DCM) with a CID 6024
  value, and the measurement (NUM) "Distance from nipple" (121242, DCM) in mm rounded to
  0.1 mm. When the superior offset came from an oblique view, the clock-face item has a
  TEXT ``(OBLIQUE-APPROX, 99GALACTOVIEW)`` modifier (HAS CONCEPT MOD) saying so.
  Values not known (no depth without a chest-wall reference, no mm without calibration)
  are left out; :func:`decode` reads them into :attr:`DecodeResult.locations`;
* one TID 1410 group per nipple landmark: a POINT region with finding type
  "Nipple" (SCT 24142002) and a tracking UID derived from the image UID
  (stable across saves);
* one TID 1410 group per chest-wall line of the reader (an oblique view's pectoral line
  the reader moved, passed to :func:`encode` as ``chest_walls``; suggested lines are not
  stored): an open POLYLINE region of its two points with finding type "Chest wall"
  (SCT 78904004), tracking identifier ``CHEST-WALL-n`` and a tracking UID derived from
  the image UID, as for the nipple. :func:`decode` reads them into
  :attr:`DecodeResult.chest_walls`.

Every NUM item carries its calibration label as TEXT ``(CALIBRATION,
99GALACTOVIEW)`` (HAS CONCEPT MOD); an OTHER finding has finding type
``(OTHER, 99GALACTOVIEW)`` and its description as TEXT ``(OTHER-TEXT,
99GALACTOVIEW)``. Specific Character Set is ISO_IR 192 (UTF-8). Each encode gets
a new SOP Instance UID; the revision it replaces is referenced in the
Predecessor Documents Sequence (0040,A360) (PS3.3 C.17.2.3).

The DICOM JSON Model (PS3.18 Annex F) is written with tags in ascending order
(F.2) by :func:`to_json` and read by :func:`from_json` (the datasets
``Dataset.from_json`` builds, faster). The four public functions pause Python's
cyclic garbage collector while they run (see :func:`_collector_paused`).

Reading (tolerant, :func:`decode`) walks the content tree directly, so it also
reads TID 1500 SRs written by other software (binary or JSON, with empty
sequences with or without ``"Value"``): unknown finding codes become OTHER with
the code meaning (and code) as text, and malformed groups are skipped with a problem. A
skipped group is not lost: its DICOM JSON is kept verbatim in
:attr:`AnnotationSet.unreadable_groups <galactoview.annotations.model.AnnotationSet>` and
:func:`encode` writes it back unchanged into the "Imaging Measurements" container.

A finding read from groups another writer wrote is kept with them
(:attr:`AnnotationSet.foreign_findings <galactoview.annotations.model.AnnotationSet>`):
:func:`encode` writes those groups verbatim while the finding is unchanged and, once it
is edited, carries every item GalactoView does not model into its groups; an SR written
here names such findings in the private element (0099,1001) "GalactoView". The rules are
in :mod:`galactoview.sr.foreign`. A finding code outside CID 6057 is read as an OTHER
finding described as ``"<meaning> (<scheme> <value>)"`` (e.g. "Mass (SCT 4147007)") and
written back as the code itself.

A TID 1501 group's region is its own SCOORD (PS3.3 C.18.6, TID 1410, as written
here) or, as dcmjs's Cornerstone adapters (OHIF) write it, the INFERRED FROM SCOORD
under a TID 300 NUM, with its SELECTED FROM image; every such SCOORD is a region of
the finding (a Bidirectional's two axes), each NUM measuring its own. A Tracking
Identifier ``Cornerstone3DTools@^0.1.0:<Tool>`` (or ``cornerstoneTools@^4.0.0:<Tool>``)
names the tool: an ArrowAnnotate or Probe is a POINT, a rectangle a closed POLYLINE,
the arrow's free text (dcmjs's ``99dcmjs`` Finding) the finding's note. A SCOORD3D
region (C.18.9) is not placed: a problem line says so.

Only a TID 1500 "Imaging Measurement Report" (126000, DCM) in an Enhanced,
Comprehensive, Comprehensive 3D or Extensible SR (PS3.3 A.35) is read: a Key Object
Selection document (A.35.4), a Basic Text SR (A.35.1) or an SR with another root
template is refused. :func:`decode` and :func:`from_json` raise only
:class:`SRDecodeError` (a :class:`ValueError`), whatever the input: truncated or
mislabelled elements, unknown VRs, nesting too deep for the interpreter, exhausted memory.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import Any, Final

import highdicom as hd
import numpy as np
from highdicom.valuerep import check_person_name
from pydicom.dataelem import DataElement, empty_value_for_VR
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.jsonrep import JSON_VALUE_KEYS
from pydicom.sr.coding import Code
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    Comprehensive3DSRStorage,
    EnhancedSRStorage,
    ExplicitVRLittleEndian,
    ExtensibleSRStorage,
    generate_uid,
)
from pydicom.valuerep import DS

from galactoview.annotations import codes
from galactoview.annotations.model import (
    AlgorithmIdentification,
    AnnotationSet,
    ChestWallLine,
    DuctSegment,
    Finding,
    FindingType,
    ForeignFinding,
    GraphicType,
    ImageRegion,
    Laterality,
    MeasurementValue,
    NippleLandmark,
    is_valid_uid,
    next_segment_id,
    next_short_id,
)
from galactoview.location import codes as location_codes
from galactoview.location.localize import BreastLocation, FindingLocation
from galactoview.sr import clinical_report, foreign, signing
from galactoview.sr.algorithm import algorithm_items, read_algorithm
from galactoview.sr.group_cache import GroupCache

__all__ = [
    "DecodeResult",
    "NotAMeasurementReportError",
    "SRDecodeError",
    "StoredLocation",
    "check_measurement_report",
    "chest_wall_tracking_uid",
    "decode",
    "describe_document",
    "describe_error",
    "encode",
    "from_json",
    "to_json",
]

COMPREHENSIVE_SR: Final = UID("1.2.840.10008.5.1.4.1.1.88.33")
#: SR storage classes whose IOD allows the TID 1500 tree (PS3.3 A.35.2, A.35.3, A.35.13,
#: A.35.21); Basic Text SR (A.35.1) cannot hold its SCOORDs, Key Object Selection (A.35.4)
#: is another document.
MEASUREMENT_REPORT_CLASSES: Final = frozenset(
    {EnhancedSRStorage, COMPREHENSIVE_SR, Comprehensive3DSRStorage, ExtensibleSRStorage}
)
#: Document title of TID 1500 (PS3.16): "Imaging Measurement Report" (126000, DCM).
MEASUREMENT_REPORT: Final = Code("126000", "DCM", "Imaging Measurement Report")
_MEASUREMENT_GROUP: Final = Code("125007", "DCM", "Measurement Group")
_IMAGING_MEASUREMENTS: Final = Code("126010", "DCM", "Imaging Measurements")
_IMAGE_REGION: Final = Code("111030", "DCM", "Image Region")
_DEVICE_UID: Final = generate_uid(entropy_srcs=["GalactoView device observer"])
_NOT_RECORDED: Final = "calibration not recorded"
_LATERALITY_CODES: Final = {
    Laterality.LEFT: codes.LEFT,
    Laterality.RIGHT: codes.RIGHT,
    Laterality.BOTH: codes.RIGHT_AND_LEFT,
}
#: TEXT modifier of the clock-face item when an oblique (MLO) view gave the superior offset.
OBLIQUE_APPROXIMATION: Final = Code(
    "OBLIQUE-APPROX", codes.PRIVATE_SCHEME, "Oblique view approximation"
)
_OBLIQUE_TEXT: Final = (
    "superior-inferior offset measured on an oblique (MLO) view: "
    "the oblique axis is taken as superior-inferior"
)
_DISTANCE_LABEL: Final = "two-view localization, magnification-corrected calibration of both views"


class SRDecodeError(ValueError):
    """An SR, or its DICOM JSON, cannot be read; the message says why in one line.

    :func:`decode` and :func:`from_json` raise nothing else, so callers that catch
    :class:`ValueError` are safe from any input.
    """


def describe_error(error: BaseException) -> str:
    """Return an exception met reading untrusted bytes as one short line.

    Parameters
    ----------
    error
        What pydicom, highdicom or Python raised.

    Returns
    -------
    str
        ``"nested too deeply"`` for a :class:`RecursionError`, ``"too large to read
        into memory"`` for a :class:`MemoryError`, else its type and at most 200
        characters of the first line of its message (pydicom appends the element
        and even tracebacks on the following lines).
    """
    if isinstance(error, RecursionError):
        return "nested too deeply"
    if isinstance(error, MemoryError):
        return "too large to read into memory"
    lines = [line for line in str(error).splitlines() if line.strip()]
    text = " ".join(lines[0].split()) if lines else ""
    if len(text) > 200:
        text = f"{text[:200]}…"
    kind = type(error).__name__
    return f"{kind}: {text}" if text else kind


def _reason_text(error: BaseException) -> str:
    """Return the message of our own checks as it is (one line), else :func:`_reason`."""
    if type(error) in (ValueError, TypeError, KeyError, AttributeError):
        return " ".join(str(error).split())
    return describe_error(error)


def _decode_error(error: BaseException, what: str) -> SRDecodeError:
    """Return the :class:`SRDecodeError` reporting ``error`` met while reading ``what``."""
    if isinstance(error, SRDecodeError):
        return error
    if isinstance(error, RecursionError):
        return SRDecodeError(f"{what} is nested too deeply to be read")
    if isinstance(error, MemoryError):
        return SRDecodeError(f"{what} is too large to be read into memory")
    return SRDecodeError(f"{what} cannot be read ({describe_error(error)})")


@dataclass(frozen=True, slots=True)
class StoredLocation:
    """A finding's location in the breast as the SR stores it (coded values, PS3.16).

    Attributes
    ----------
    clock_or_region
        CID 6018 value of "Clockface or region" (111014, DCM): an o'clock position or
        *Subareolar region*; ``None`` when absent.
    quadrant
        CID 6020 value of "Quadrant location" (111048, DCM), or ``None``.
    depth
        CID 6024 value of "Depth" (111020, DCM), or ``None``.
    distance_from_nipple_mm
        "Distance from nipple" (121242, DCM) in mm, 0.1 mm resolution, or ``None``.
    oblique_approximated
        True when the superior offset came from an oblique (MLO) view.
    """

    clock_or_region: Code | None
    quadrant: Code | None
    depth: Code | None
    distance_from_nipple_mm: float | None
    oblique_approximated: bool = False

    @classmethod
    def from_breast(cls, breast: BreastLocation) -> StoredLocation:
        """Return what :func:`encode` stores of a two-view location.

        Parameters
        ----------
        breast
            The two-view result of :func:`galactoview.location.localize.localize_pair`.

        Returns
        -------
        StoredLocation
            Its CID 6018/6020/6024 codes and the distance rounded to 0.1 mm.
        """
        distance = breast.distance_mm
        return cls(
            breast.region_code,
            breast.quadrant.code,
            None if breast.depth is None else breast.depth.code,
            None if distance is None else round(distance, 1),
            breast.oblique_approximated,
        )

    @property
    def clock_hour(self) -> int | None:
        """Return the o'clock position 1..12, ``None`` for a region or when absent."""
        # Compared with Code.__eq__, not looked up by hash: a legacy SRT code equals its
        # SCT twin (PS3.16 Annex O) but hashes differently.
        return next(
            (
                hour
                for hour, code in location_codes.CLOCK_HOURS.items()
                if _same(self.clock_or_region, code)
            ),
            None,
        )

    @property
    def subareolar(self) -> bool:
        """Return whether the stored CID 6018 value is *Subareolar region*."""
        return _same(self.clock_or_region, location_codes.SUBAREOLAR_REGION)


@dataclass(frozen=True, slots=True)
class DecodeResult:
    """What :func:`decode` read.

    Attributes
    ----------
    annotations
        The annotations found.
    problems
        One line per piece skipped or repaired.
    locations
        The stored location of each located finding, by tracking UID (findings without
        location items are absent).
    chest_walls
        The reader's chest-wall lines, by SOP Instance UID of their image (none in an
        SR written before they were stored).
    report
        The radiologist's report (:mod:`galactoview.sr.clinical_report`); ``None`` when
        the SR holds none.
    signature
        Who verified (signed) this revision and when; ``None`` when it is not
        ``VERIFIED`` (:func:`galactoview.sr.signing.read_signature`).
    complete
        Whether the Completion Flag is ``COMPLETE``.
    """

    annotations: AnnotationSet
    problems: tuple[str, ...] = ()
    locations: Mapping[str, StoredLocation] = field(default_factory=dict)
    chest_walls: Mapping[str, ChestWallLine] = field(default_factory=dict)
    report: clinical_report.ClinicalReport | None = None
    signature: signing.Signature | None = None
    complete: bool = False

    @property
    def signed(self) -> bool:
        """Whether this revision is signed (Verification Flag ``VERIFIED``)."""
        return self.signature is not None


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a document is built, written or read.

    A document of 50 findings is tens of thousands of short-lived objects. With the
    collector running, its young collections promote them to the oldest generation
    while they are still alive, which sets off a full collection of the whole heap
    every second or third save (about 90 ms in the benchmark, longer than encoding).
    Paused, they are freed by reference counting when the document is dropped and
    never promoted: that work is avoided, not postponed. Nothing is disabled when the
    collector already was.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# ====================================================================== writing


def _person_name(name: str) -> str:
    """Return a PN highdicom accepts: a single component gets a trailing caret."""
    return name if "^" in name else f"{name}^"


# The measurement groups are built as plain pydicom datasets, item for item what
# highdicom's TID 1410/1501 classes build (PS3.16; tests compare both trees), with
# highdicom's checks of the values: its classes re-validate every attribute they set,
# about 3 ms per finding, most of the save time for 50 findings.

_SOURCE: Final = Code("260753009", "SCT", "Source")
_MAX_MEANING: Final = 64
_CONTENT_SEQUENCE: Final = 0x0040A730
_REGION_POINTS: Final = {
    GraphicType.POINT: (1, 1),
    GraphicType.CIRCLE: (2, 2),
    GraphicType.ELLIPSE: (4, 4),
    GraphicType.POLYLINE: (2, None),
}


def _dataset(*elements: tuple[int, str, Any]) -> Dataset:
    """Return a dataset of ``(tag, VR, value)`` elements."""
    dataset = Dataset()
    for tag, vr, value in elements:
        dataset[tag] = DataElement(tag, vr, value)
    return dataset


def _coded(code: Code) -> Dataset:
    """Return a Code Sequence item (PS3.3 8.8) as :class:`highdicom.sr.CodedConcept` does."""
    if len(code.meaning) > _MAX_MEANING:
        raise ValueError("Code meaning can have maximally 64 characters.")
    value = str(code.value)
    tag, vr = 0x00080100, "SH"  # Code Value
    if len(value) > 16 and (value.startswith("urn") or "://" in value):
        tag, vr = 0x00080120, "UR"  # URN Code Value
    elif len(value) > 16:
        tag, vr = 0x00080119, "UC"  # Long Code Value
    item = _dataset(
        (tag, vr, value),
        (0x00080102, "SH", str(code.scheme_designator)),
        (0x00080104, "LO", str(code.meaning)),
    )
    if code.scheme_version is not None:
        item[0x00080103] = DataElement(0x00080103, "SH", str(code.scheme_version))
    return item


def _item(
    value_type: str, name: Code, relationship: str, *elements: tuple[int, str, Any]
) -> Dataset:
    """Return an SR content item (PS3.3 C.17.3): relationship, value type, concept name."""
    return _dataset(
        (0x0040A010, "CS", relationship),
        (0x0040A040, "CS", value_type),
        (0x0040A043, "SQ", [_coded(name)]),
        *elements,
    )


def _text(name: Code, value: str, relationship: str = "CONTAINS") -> Dataset:
    return _item("TEXT", name, relationship, (0x0040A160, "UT", str(value)))


def _uidref(name: Code, value: str, relationship: str) -> Dataset:
    return _item("UIDREF", name, relationship, (0x0040A124, "UI", value))


def _code_item(name: Code, value: Code, relationship: str = "CONTAINS") -> Dataset:
    return _item("CODE", name, relationship, (0x0040A168, "SQ", [_coded(value)]))


def _pname(name: Code, value: str, relationship: str) -> Dataset:
    check_person_name(value)
    return _item("PNAME", name, relationship, (0x0040A123, "PN", value))


def _with_children(item: Dataset, children: Sequence[Dataset]) -> Dataset:
    if children:
        item[_CONTENT_SEQUENCE] = DataElement(_CONTENT_SEQUENCE, "SQ", list(children))
    return item


def _source_image(region: ImageRegion, images: dict[str, Dataset]) -> Dataset:
    """Return the SELECTED FROM IMAGE item of a region (highdicom's SourceImageForRegion)."""
    image = images.get(region.sop_instance_uid)
    if image is None:
        raise ValueError(f"image {region.sop_instance_uid} is not among the source images")
    reference = _dataset(
        (0x00081150, "UI", str(image.SOPClassUID)),
        (0x00081155, "UI", str(region.sop_instance_uid)),
    )
    if region.frame is not None:
        if region.frame < 1:
            raise ValueError("Referenced frame numbers must be >= 1. Frame indexing is 1-based.")
        reference[0x00081160] = DataElement(0x00081160, "IS", [region.frame])
    return _item("IMAGE", _SOURCE, "SELECTED FROM", (0x00081199, "SQ", [reference]))


def _scoord_item(
    name: Code, relationship: str, region: ImageRegion, images: dict[str, Dataset]
) -> Dataset:
    """Return a SCOORD item (PS3.3 C.18.6) with its source image, as highdicom checks it."""
    low, high = _REGION_POINTS[region.graphic_type]
    count = len(region.points)
    if count < low or (high is not None and count > high):
        raise ValueError(
            f'Graphic data of a SCOORD of graphic type "{region.graphic_type.value}" '
            f"has {count} (column, row) pairs."
        )
    data = [float(v) for point in region.points for v in point]
    item = _item(
        "SCOORD",
        name,
        relationship,
        (0x00700022, "FL", data),
        (0x00700023, "CS", region.graphic_type.value),
    )
    return _with_children(item, [_source_image(region, images)])


def _num_item(
    value: MeasurementValue, coordinates: Dataset | None = None, *, labelled: bool = True
) -> Dataset:
    """Return a NUM item (TID 300) with its calibration label and, if any, its SCOORD.

    With ``labelled=False`` the NUM holds only its SCOORD (the caller puts the label in
    the group): OHIF reads a NUM's Content Sequence as one item and draws nothing when
    it holds two.
    """
    number = value.value
    if not isinstance(number, int | float):
        raise TypeError('Argument "value" must have type "int" or "float".')
    measured = _dataset(
        (0x004008EA, "SQ", [_coded(value.unit)]),
        (0x0040A30A, "DS", DS(number, auto_format=True)),
    )
    if isinstance(number, float):
        measured[0x0040A161] = DataElement(0x0040A161, "FD", number)
    item = _item("NUM", value.name, "CONTAINS", (0x0040A300, "SQ", [measured]))
    children = (
        [_text(codes.CALIBRATION_LABEL, value.calibration_source, "HAS CONCEPT MOD")]
        if labelled
        else []
    )
    if coordinates is not None:
        children.append(coordinates)
    return _with_children(item, children)


def _finding_site(laterality: Laterality) -> Dataset:
    site = _code_item(codes.FINDING_SITE, codes.BREAST, "HAS CONCEPT MOD")
    code = _LATERALITY_CODES.get(laterality)
    modifiers = [] if code is None else [_code_item(codes.LATERALITY, code, "HAS CONCEPT MOD")]
    return _with_children(site, modifiers)


def _measurement_group(
    template: str,
    short_id: str,
    tracking_uid: str,
    finding_type: Code,
    laterality: Laterality,
    content: Sequence[Dataset],
    algorithm: AlgorithmIdentification | None = None,
) -> Dataset:
    """Return a measurement group (TID 1410 or 1501): tracking, finding, site, then content.

    An algorithm's TID 4019 items follow the finding site, where TID 1410/1501 (PS3.16)
    include them and highdicom puts them (:func:`galactoview.sr.algorithm.algorithm_items`).
    """
    if not short_id:
        raise ValueError("a measurement group needs a human readable tracking identifier")
    container = _item(
        "CONTAINER",
        _MEASUREMENT_GROUP,
        "CONTAINS",
        (0x0040A050, "CS", "CONTINUOUS"),
        (0x0040A504, "SQ", [_dataset((0x00080105, "CS", "DCMR"), (0x0040DB00, "CS", template))]),
    )
    return _with_children(
        container,
        [
            _text(codes.TRACKING_IDENTIFIER, short_id, "HAS OBS CONTEXT"),
            _uidref(codes.TRACKING_UID, tracking_uid, "HAS OBS CONTEXT"),
            _code_item(codes.FINDING, finding_type),
            _finding_site(laterality),
            *(algorithm_items(algorithm) if algorithm is not None else ()),
            *content,
        ],
    )


def _location_items(location: StoredLocation) -> list[Dataset]:
    """Return the location's qualitative evaluations and "Distance from nipple" NUM."""
    items = []
    if location.clock_or_region is not None:
        note = (
            [_text(OBLIQUE_APPROXIMATION, _OBLIQUE_TEXT, "HAS CONCEPT MOD")]
            if location.oblique_approximated
            else []
        )
        clock = _code_item(location_codes.CLOCKFACE_OR_REGION, location.clock_or_region)
        items.append(_with_children(clock, note))
    if location.quadrant is not None:
        items.append(_code_item(location_codes.QUADRANT_LOCATION, location.quadrant))
    if location.depth is not None:
        items.append(_code_item(location_codes.DEPTH, location.depth))
    if location.distance_from_nipple_mm is not None:
        # DS-safe: one decimal, written from its text (PS3.5 6.2).
        measured = _dataset(
            (0x004008EA, "SQ", [_coded(codes.MILLIMETER)]),
            (0x0040A30A, "DS", DS(f"{location.distance_from_nipple_mm:.1f}")),
        )
        num = _item(
            "NUM", location_codes.DISTANCE_FROM_NIPPLE, "CONTAINS", (0x0040A300, "SQ", [measured])
        )
        label = _text(codes.CALIBRATION_LABEL, _DISTANCE_LABEL, "HAS CONCEPT MOD")
        items.append(_with_children(num, [label]))
    return items


def region_tracking_uid(finding_tracking_uid: str, region_index: int) -> str:
    """Return the Tracking Unique Identifier of a finding's region group.

    The first region's group (index 0) carries the finding's own tracking UID; each later
    region gets its own, derived from the finding's UID and the index (the same in every
    revision), and a "Finding of this region" UIDREF naming the finding. TID 1501/1410
    allow one finding to span several groups sharing a UID (PS3.16 TID 1501 "Tracking
    Unique Identifier"), but OHIF's SR loader merges such groups and draws only the first
    region; one UID per group makes every region drawn by it.

    Parameters
    ----------
    finding_tracking_uid
        The finding's tracking UID.
    region_index
        The region's 0-based index in the finding.

    Returns
    -------
    str
        The group's tracking UID.
    """
    if region_index == 0:
        return finding_tracking_uid
    sources = ["finding-region", finding_tracking_uid, str(region_index)]
    return str(generate_uid(entropy_srcs=sources))


def _finding_groups(
    finding: Finding, images: dict[str, Dataset], location: StoredLocation | None = None
) -> list[Dataset]:
    """Return a finding's TID 1410 groups, one per region (:func:`region_tracking_uid`)."""
    groups = []
    for index, region in enumerate(finding.regions):
        content = [_num_item(m) for m in finding.measurements if m.region_index == index]
        if finding.impression is not None:
            content.append(_code_item(codes.DIFFERENTIAL_DIAGNOSIS_IMPRESSION, finding.impression))
        if location is not None:
            content.extend(_location_items(location))
        content.append(_scoord_item(_IMAGE_REGION, "CONTAINS", region, images))
        if finding.finding_type is FindingType.OTHER:
            content.append(_text(codes.OTHER_FINDING_TEXT, finding.other_text))
        if finding.note:
            content.append(_text(codes.COMMENT, finding.note))
        if finding.observer:
            content.append(
                _pname(
                    codes.PERSON_OBSERVER_NAME,
                    _person_name(finding.observer),
                    "HAS OBS CONTEXT",
                )
            )
        if index:
            content.append(
                _uidref(codes.FINDING_OF_REGION, finding.tracking_uid, "HAS OBS CONTEXT")
            )
        groups.append(
            _measurement_group(
                "1410",
                finding.short_id,
                region_tracking_uid(finding.tracking_uid, index),
                finding.finding_type.code,
                finding.laterality,
                content,
                finding.algorithm,
            )
        )
    return groups


def _pixel_length(region: ImageRegion) -> float:
    p = np.array(region.points, dtype=np.float64)
    return round(float(np.hypot(*np.diff(p, axis=0).T).sum()), 2)


def _segment_group(segment: DuctSegment, images: dict[str, Dataset]) -> Dataset:
    coordinates = _scoord_item(_SOURCE, "INFERRED FROM", segment.region, images)
    length = segment.path_length or MeasurementValue(
        codes.PATH_LENGTH, _pixel_length(segment.region), codes.PIXEL, "uncalibrated"
    )
    # The path length's calibration label sits in the group, not under the NUM, whose
    # only child is the POLYLINE (what OHIF's loader needs to draw the segment).
    content = [
        _num_item(length, coordinates, labelled=False),
        _text(codes.CALIBRATION_LABEL, length.calibration_source),
    ]
    if segment.parent_uid is not None:
        content.append(_uidref(codes.PARENT_DUCT_SEGMENT, segment.parent_uid, "CONTAINS"))
    if segment.note:
        content.append(_text(codes.COMMENT, segment.note))
    return _measurement_group(
        "1501",
        segment.short_id,
        segment.tracking_uid,
        codes.DUCT_SEGMENT,
        segment.laterality,
        content,
        segment.algorithm,
    )


def landmark_tracking_uid(study_instance_uid: str, landmark: NippleLandmark) -> str:
    """Return the tracking UID of a nipple landmark's group, derived from its image.

    Parameters
    ----------
    study_instance_uid
        The study.
    landmark
        The landmark.

    Returns
    -------
    str
        The same UID for every revision (it does not depend on the position).
    """
    sources = ["nipple", study_instance_uid, landmark.sop_instance_uid, str(landmark.frame)]
    return str(generate_uid(entropy_srcs=sources))


def _landmark_group(
    study_instance_uid: str, landmark: NippleLandmark, number: int, images: dict[str, Dataset]
) -> Dataset:
    """Return the TID 1410 group of a nipple landmark: a POINT region.

    A suggested landmark the reader has not confirmed also holds a qualitative
    evaluation (TID 1410 "CONTAINS CODE", PS3.16) "Landmark status" = "Suggested by
    software, not confirmed by the reader" (local codes, PS3.16 section 8), so the
    locations resting on it can say so after reading.
    """
    image = images.get(landmark.sop_instance_uid)
    laterality = Laterality.from_dicom(image.get("ImageLaterality") if image else None)
    status = (
        [] if landmark.confirmed else [_code_item(codes.LANDMARK_STATUS, codes.SUGGESTED_LANDMARK)]
    )
    return _measurement_group(
        "1410",
        f"NIPPLE-{number}",
        landmark_tracking_uid(study_instance_uid, landmark),
        codes.NIPPLE,
        laterality,
        [_scoord_item(_IMAGE_REGION, "CONTAINS", landmark.region, images), *status],
    )


def chest_wall_tracking_uid(study_instance_uid: str, sop_instance_uid: str) -> str:
    """Return the tracking UID of a chest-wall line's group, derived from its image.

    Parameters
    ----------
    study_instance_uid
        The study.
    sop_instance_uid
        The image the line is on.

    Returns
    -------
    str
        The same UID for every revision (it does not depend on the position).
    """
    sources = ["chest-wall", study_instance_uid, sop_instance_uid]
    return str(generate_uid(entropy_srcs=sources))


def _chest_wall_group(
    study_instance_uid: str,
    sop_instance_uid: str,
    line: ChestWallLine,
    number: int,
    images: dict[str, Dataset],
) -> Dataset:
    """Return the TID 1410 group of a chest-wall line: an open two-point POLYLINE region."""
    image = images.get(sop_instance_uid)
    laterality = Laterality.from_dicom(image.get("ImageLaterality") if image else None)
    region = ImageRegion(sop_instance_uid, None, GraphicType.POLYLINE, (line.start, line.end))
    return _measurement_group(
        "1410",
        f"CHEST-WALL-{number}",
        chest_wall_tracking_uid(study_instance_uid, sop_instance_uid),
        location_codes.CHEST_WALL,
        laterality,
        [_scoord_item(_IMAGE_REGION, "CONTAINS", region, images)],
    )


def _observation_context(observer: str, organization: str = "") -> hd.sr.ObservationContext:
    """Return the TID 1001 observation context of a revision.

    The person observer (TID 1003, with the organisation when known), else the device
    "GalactoView" (TID 1004).
    """
    if observer:
        return hd.sr.ObservationContext(
            observer_person_context=hd.sr.ObserverContext(
                observer_type=codes.PERSON,
                observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(
                    name=_person_name(observer), organization_name=organization or None
                ),
            )
        )
    return hd.sr.ObservationContext(
        observer_device_context=hd.sr.ObserverContext(
            observer_type=codes.DEVICE,
            observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
                uid=_DEVICE_UID, name="GalactoView"
            ),
        )
    )


@_collector_paused()
def encode(
    annotations: AnnotationSet,
    source_images: Sequence[Dataset],
    *,
    series_instance_uid: str | None = None,
    series_number: int = 9001,
    instance_number: int = 1,
    manufacturer: str = "GalactoView",
    series_description: str = "GalactoView annotations",
    sop_instance_uid: str | None = None,
    content_datetime: datetime | None = None,
    locations: Mapping[str, FindingLocation | StoredLocation] | None = None,
    chest_walls: Mapping[str, ChestWallLine] | None = None,
    report: clinical_report.ClinicalReport | None = None,
    signature: signing.Signature | None = None,
    cache: GroupCache | None = None,
) -> Dataset:
    """Build a Comprehensive SR (TID 1500) holding the annotations.

    Parameters
    ----------
    annotations
        What to write; its ``sop_instance_uid`` (if any) becomes the predecessor.
    source_images
        Headers of the images (``stop_before_pixels`` is enough): every referenced
        image must be among them, and at least one of the annotated study (it gives
        patient and study); images of other studies (priors) are allowed.
    series_instance_uid
        Series of the SR; default the annotations' series, else a new one.
    series_number, instance_number, manufacturer, series_description
        Attributes of the SR.
    sop_instance_uid
        SOP Instance UID of the new revision; default a new one (pass one only to
        make a reproducible document, e.g. the bundled sample's sidecar).
    content_datetime
        Content Date/Time (PS3.3 C.17.2), Instance Creation Date/Time and the
        Contribution DateTime of highdicom's Contributing Equipment item (C.12.1);
        default now. With both options the output depends on the inputs alone.
    locations
        Where the findings lie in the breast, by tracking UID: results of
        :func:`galactoview.location.study.locate_document` (those with a two-view
        :class:`~galactoview.location.localize.BreastLocation` are stored) or
        :class:`StoredLocation` values read back by :func:`decode`. Each located
        finding's TID 1410 groups get the CID 6018/6020/6024 evaluations and the
        "Distance from nipple" (121242, DCM) NUM; default none.
    chest_walls
        The reader's chest-wall lines by SOP Instance UID (not the suggested ones:
        :meth:`galactoview.annotations.document.StudySnapshot.reader_chest_walls`), each
        stored as a "Chest wall" group after the nipples; default none.
    report
        The radiologist's report, stored in the root's "Qualitative Evaluations"
        container after "Imaging Measurements" (:mod:`galactoview.sr.clinical_report`);
        default none.
    signature
        Sign this revision: Completion Flag COMPLETE, Verification Flag VERIFIED,
        Preliminary Flag FINAL and the Verifying Observer Sequence
        (:func:`galactoview.sr.signing.sign`); default unsigned (PARTIAL, UNVERIFIED).
    cache
        Reuse the groups of findings, duct segments, nipples and chest walls whose
        inputs did not change since the previous encode with the same cache (autosave;
        :class:`~galactoview.sr.group_cache.GroupCache`); the result is the same.
        The groups of the returned dataset then belong to the cache: do not modify
        them. Default none (everything is built anew).

    The groups :func:`decode` could not read (``annotations.unreadable_groups``) are
    written after the others, unchanged.

    Returns
    -------
    pydicom.dataset.Dataset
        A :class:`highdicom.sr.ComprehensiveSR` with a new SOP Instance UID.

    Raises
    ------
    ValueError
        If an image is missing, no image is of the annotated study, or highdicom
        rejects the content (strict writing).
    """
    # highdicom takes patient and study from the first piece of evidence.
    evidence = sorted(
        source_images, key=lambda ds: ds.get("StudyInstanceUID") != annotations.study_instance_uid
    )
    if not evidence or evidence[0].get("StudyInstanceUID") != annotations.study_instance_uid:
        raise ValueError("no source image of the annotated study")
    evidence = [_with_type2_patient_and_study(evidence[0]), *evidence[1:]]
    images = {str(ds.SOPInstanceUID): ds for ds in source_images}
    groups: list[Dataset] = []
    referenced: dict[str, None] = {}
    if cache is not None:
        cache.begin_encode()

    def built(key: Hashable, build: Callable[[], Sequence[Dataset]]) -> list[Dataset]:
        return list(build()) if cache is None else cache.groups(key, build)

    def image_class(uid: str) -> str | None:
        image = images.get(uid)
        return None if image is None else str(image.get("SOPClassUID", ""))

    def image_laterality(uid: str) -> str | None:
        image = images.get(uid)
        return None if image is None else str(image.get("ImageLaterality", ""))

    for finding in annotations.findings:
        location = _stored(locations.get(finding.tracking_uid) if locations else None)
        record = annotations.foreign(finding.tracking_uid)
        if record is None:
            key: Hashable = (
                "finding",
                finding,
                location,
                tuple(image_class(r.sop_instance_uid) for r in finding.regions),
            )
            groups.extend(built(key, partial(_finding_groups, finding, images, location)))
        else:
            groups.extend(_foreign_groups(finding, record, images, location))
        referenced.update((r.sop_instance_uid, None) for r in finding.regions)
    for segment in annotations.duct_segments:
        uid = segment.region.sop_instance_uid
        key = ("segment", segment, image_class(uid))
        groups.extend(built(key, partial(_one, _segment_group, segment, images)))
        referenced[uid] = None
    study = annotations.study_instance_uid
    for number, landmark in enumerate(annotations.landmarks, start=1):
        uid = landmark.sop_instance_uid
        key = ("nipple", study, landmark, number, image_class(uid), image_laterality(uid))
        build = partial(_one, _landmark_group, study, landmark, number, images)
        groups.extend(built(key, build))
        referenced[uid] = None
    for number, (uid, line) in enumerate((chest_walls or {}).items(), start=1):
        key = ("chest wall", study, uid, line, number, image_class(uid), image_laterality(uid))
        build = partial(_one, _chest_wall_group, study, uid, line, number, images)
        groups.extend(built(key, build))
        referenced[uid] = None
    if cache is not None:
        cache.end_encode()
    groups.extend(_kept_group(text) for text in annotations.unreadable_groups)
    # Images known only from a previous revision's evidence (not loaded, no Rows), or whose
    # header lacks what a TID 1602 entry needs, stay referenced from their regions and the
    # evidence, but are left out of the Image Library.
    library = [images[uid] for uid in referenced if _describable(images[uid])]
    # The groups are spliced into the document after construction: highdicom's SR
    # constructor deep-copies, re-parses and searches (once per evidence image) the
    # whole content tree, two thirds of the time for 50 findings. It gets the report
    # with a placeholder group instead (highdicom requires one); the Image Library
    # still references every image, so the evidence sequences come out the same.
    placeholder = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(identifier="placeholder")
    )
    measurement_report = hd.sr.MeasurementReport(
        observation_context=_observation_context(
            annotations.observer, annotations.observer_organization
        ),
        procedure_reported=codes.MAMMARY_DUCTOGRAM,
        imaging_measurements=[placeholder],
        referenced_images=library or None,
    )
    series = series_instance_uid or annotations.series_instance_uid or generate_uid()
    previous: list[Dataset] | None = None
    if annotations.sop_instance_uid is not None:
        predecessor = Dataset()
        predecessor.SOPClassUID = COMPREHENSIVE_SR
        predecessor.SOPInstanceUID = annotations.sop_instance_uid
        predecessor.StudyInstanceUID = annotations.study_instance_uid
        predecessor.SeriesInstanceUID = annotations.series_instance_uid or series
        previous = [predecessor]
    sr = hd.sr.ComprehensiveSR(
        evidence=evidence,
        content=measurement_report,
        series_instance_uid=series,
        series_number=series_number,
        sop_instance_uid=sop_instance_uid or generate_uid(),
        instance_number=instance_number,
        manufacturer=manufacturer,
        previous_versions=previous,
        specific_character_set="ISO_IR 192",
        series_description=series_description,
        **_content_datetime(content_datetime),
    )
    if content_datetime is not None:
        sr.InstanceCreationDate = sr.ContentDate
        sr.InstanceCreationTime = sr.ContentTime
        # highdicom stamps its own Contributing Equipment item (PS3.3 C.12.1) with "now".
        for equipment in sr.get("ContributingEquipmentSequence") or []:
            if "ContributionDateTime" in equipment and equipment.get("ManufacturerModelName") == (
                "highdicom"
            ):
                equipment.ContributionDateTime = content_datetime.strftime("%Y%m%d%H%M%S")
    # Splice into the dataset and into ``sr.content`` (the constructor's typed copy of the
    # tree), instead of re-parsing the whole document with ``from_dataset`` (a third of
    # the time for 50 findings). Below "Imaging Measurements" both hold the same plain
    # datasets: ``hd.sr.ContentSequence.from_sequence`` types them when needed.
    _splice(sr.ContentSequence, groups)
    for root in sr.content:
        _splice(root.ContentSequence, groups)
    evaluations = None if report is None else clinical_report.report_container(report)
    if evaluations is not None:  # TID 1500 "Qualitative Evaluations", after the measurements
        sr.ContentSequence.append(evaluations)
        for root in sr.content:
            if root.ContentSequence is not sr.ContentSequence:
                root.ContentSequence.append(evaluations)
    if signature is not None:
        signing.sign(sr, signature)
    # PS3.3 C.12.1.1.2: identify the local coding scheme used by the private concepts.
    scheme = Dataset()
    scheme.CodingSchemeDesignator = codes.PRIVATE_SCHEME
    scheme.CodingSchemeName = "GalactoView local concepts"
    scheme.CodingSchemeResponsibleOrganization = "GalactoView"
    sr.CodingSchemeIdentificationSequence = [scheme]
    foreign.write_kept(
        sr, [f.tracking_uid for f in annotations.findings if annotations.foreign(f.tracking_uid)]
    )
    return sr


def _one(build: Callable[..., Dataset], *args: Any) -> list[Dataset]:
    """Return the one group ``build(*args)`` makes, in a list (a :class:`GroupCache` entry)."""
    return [build(*args)]


def _same_location(one: StoredLocation | None, other: StoredLocation | None) -> bool:
    """Compare stored locations; codes by value and scheme (``Code.__eq__`` rejects ``None``)."""
    if one is None or other is None:
        return one is other

    def key(location: StoredLocation) -> tuple[object, ...]:
        codes_ = (location.clock_or_region, location.quadrant, location.depth)
        return (
            *(None if c is None else (c.value, c.scheme_designator) for c in codes_),
            location.distance_from_nipple_mm,
            location.oblique_approximated,
        )

    return key(one) == key(other)


def _foreign_groups(
    finding: Finding,
    record: ForeignFinding,
    images: dict[str, Dataset],
    location: StoredLocation | None,
) -> list[Dataset]:
    """Return the groups of a finding read from another writer's groups (:mod:`.foreign`).

    Unchanged (equal to the value read): its source groups, verbatim, whatever
    ``location`` says. Edited: GalactoView's groups with every source item it does not
    model carried along; the finding code and its description, the breast finding site
    the location (none given, or the one read) and the algorithm identification (TID 4019)
    are the source's while the edit left them as read; so is a dcmjs group's tracking (its tool).
    """
    sources = [_kept_group(text) for text in record.groups]
    if finding == record.finding:
        return sources
    contents = [_Content.of(source) for source in sources]
    read = next(
        (found for c in contents if (found := _location(c, [], 0)) is not None),
        None,
    )
    same_place = location is None or _same_location(location, read)
    before = record.finding
    keep = set()
    if (finding.finding_type, finding.other_text) == (before.finding_type, before.other_text):
        keep.add(foreign.FINDING)
    if finding.laterality is before.laterality:
        keep.add(foreign.SITE)
    if same_place:
        keep.add(foreign.LOCATION)
    if finding.algorithm == before.algorithm:
        keep.add(foreign.ALGORITHM)
    tool = any(
        _dcmjs_tool((c.first_text(codes.TRACKING_IDENTIFIER) or "").strip()) for c in contents
    )
    ours = _finding_groups(finding, images, None if same_place else location)
    merged = foreign.merge_groups(ours, sources, keep=frozenset(keep), tool=tool)
    if tool:
        # dcmjs names the tool in the Tracking Identifier: kept (each region group keeps
        # its own tracking UID), so an edited OHIF mark stays one OHIF rehydrates as its
        # tool and this reader names after it.
        identifier = next(c.first_text(codes.TRACKING_IDENTIFIER) for c in contents)
        for group in merged:
            for item in _items(group, "ContentSequence"):
                if _same(_concept(item), codes.TRACKING_IDENTIFIER) and identifier:
                    item.TextValue = identifier
                    break
    return merged


def _kept_group(text: str) -> Dataset:
    """Return a measurement group kept verbatim by :func:`decode`, as a dataset again."""
    try:
        document = json.loads(text)
        if not isinstance(document, dict):
            raise TypeError("not a JSON object")
        return _dataset_from_json(document)
    except Exception as error:
        raise ValueError(
            f"a kept unreadable measurement group is not DICOM JSON ({describe_error(error)})"
        ) from None


#: Type 2 attributes of the Patient (PS3.3 C.7.1.1) and General Study (C.7.2.1) modules that
#: highdicom copies from the first evidence image into the SR; empty means "unknown".
_TYPE2_PATIENT_AND_STUDY: Final = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "ReferringPhysicianName",
    "StudyID",
    "AccessionNumber",
)


def _with_type2_patient_and_study(image: Dataset) -> Dataset:
    """Return ``image`` or a shallow copy with missing Type 2 patient/study values empty.

    Anonymised or minimal images often lack e.g. Patient's Birth Date; the SR's Patient
    and General Study modules (PS3.3 C.7.1.1, C.7.2.1) must still hold these attributes,
    zero length when unknown (PS3.5 7.4.2, Type 2), so a missing one must not stop a save.
    """
    missing = [keyword for keyword in _TYPE2_PATIENT_AND_STUDY if keyword not in image]
    if not missing:
        return image
    copy = Dataset()
    copy.update(image)  # shallow: the elements are shared, the source is not changed
    for keyword in missing:
        setattr(copy, keyword, "")
    return copy


def _describable(image: Dataset) -> bool:
    """Return whether highdicom can make a TID 1602 Image Library entry for ``image``.

    The entry needs e.g. Modality, Rows, Columns and, for projection images, Patient
    Orientation and Imager Pixel Spacing; which ones depends on the SOP Class, so the
    entry is simply tried (a few microseconds).
    """
    if "Rows" not in image:
        return False
    # Tried once per image header (a save references the same few images every time).
    key = (str(image.get("SOPInstanceUID", "")), len(image))
    known = _DESCRIBABLE.get(key)
    if known is None:
        try:
            hd.sr.ImageLibraryEntryDescriptors(image)
        except (AttributeError, KeyError, ValueError, TypeError):
            known = False
        else:
            known = True
        if len(_DESCRIBABLE) > 4096:
            _DESCRIBABLE.clear()
        _DESCRIBABLE[key] = known
    return known


_DESCRIBABLE: dict[tuple[str, int], bool] = {}


def _stored(location: FindingLocation | StoredLocation | None) -> StoredLocation | None:
    """Return what is stored of a finding's location (only a two-view result is)."""
    if location is None or isinstance(location, StoredLocation):
        return location
    return None if location.breast is None else StoredLocation.from_breast(location.breast)


def _splice(content: Sequence[Dataset], groups: Sequence[Dataset]) -> None:
    """Put the measurement groups into the "Imaging Measurements" container of a report."""
    for item in content:
        if _same(_concept(item), _IMAGING_MEASUREMENTS):
            if groups:
                # Set as a plain element: highdicom's ``__setattr__`` would turn the groups
                # into typed content items, re-parsing them (longer than building them).
                item[_CONTENT_SEQUENCE] = DataElement(_CONTENT_SEQUENCE, "SQ", list(groups))
            else:  # an empty "Imaging Measurements" container (TID 1500 row 6)
                del item.ContentSequence


def _content_datetime(moment: datetime | None) -> dict[str, Any]:
    """Return highdicom's ``content_date``/``content_time`` options for a moment, none if None."""
    if moment is None:
        return {}
    return {"content_date": moment.date(), "content_time": moment.time()}


# ========================================================================= JSON


@_collector_paused()
def to_json(dataset: Dataset) -> str:
    """Return the DICOM JSON Model of a dataset (PS3.18 Annex F).

    Parameters
    ----------
    dataset
        The SR.

    Returns
    -------
    str
        JSON with tags in ascending order (F.2), dates as strings; encode as UTF-8.
    """
    return json.dumps(dataset.to_json_dict(), sort_keys=True, default=str, ensure_ascii=False)


@_collector_paused()
def from_json(text: str | bytes) -> Dataset:
    """Read the DICOM JSON Model of an SR and give it file meta information.

    Parameters
    ----------
    text
        JSON text (UTF-8 bytes accepted).

    Returns
    -------
    pydicom.dataset.Dataset
        With a file meta (Explicit VR Little Endian) so that it can be saved and
        read by :meth:`highdicom.sr.ComprehensiveSR.from_dataset`.

    Raises
    ------
    SRDecodeError
        For any text that is not the DICOM JSON of one dataset (not UTF-8, not JSON,
        not an object, an attribute pydicom cannot build, nesting too deep, ...).
    """
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        document = json.loads(text)
    except UnicodeDecodeError as error:
        raise SRDecodeError(f"not UTF-8 text (invalid byte at offset {error.start})") from None
    except json.JSONDecodeError as error:
        raise SRDecodeError(
            f"not valid JSON (line {error.lineno} column {error.colno}: {error.msg})"
        ) from None
    except Exception as error:  # RecursionError, MemoryError, ...
        raise _decode_error(error, "the JSON") from None
    if not isinstance(document, dict):
        raise SRDecodeError("the DICOM JSON Model of one dataset is a JSON object")
    try:
        dataset = _dataset_from_json(document)
        _add_file_meta(dataset)
    except Exception as error:
        raise _decode_error(error, "the DICOM JSON dataset") from None
    return dataset


# VRs whose JSON values (PS3.18 F.2.3) become element values as they are, or as numbers.
_STRING_VRS: Final = frozenset(
    {"AE", "AS", "CS", "DA", "DT", "LO", "LT", "SH", "ST", "TM", "UC", "UI", "UR", "UT"}
)
_NUMBER_VRS: Final = {
    **{vr: int for vr in ("IS", "SL", "SS", "SV", "UL", "US", "UV")},
    **{vr: float for vr in ("DS", "FD", "FL")},
}


def _dataset_from_json(document: dict[str, Any]) -> Dataset:
    """Return the dataset of a DICOM JSON object, as :meth:`Dataset.from_json` builds it.

    The common attributes (strings, numbers, sequences, absent or empty values) are
    converted here, with pydicom's conversions (numbers by VR, one value unwrapped,
    empty values per VR); anything else (PN, AT, UN, inline binary, bulk data URIs,
    ``null`` values) goes to :meth:`DataElement.from_json`. For the 50-finding sidecar
    of the benchmark this takes 50 ms instead of 90 ms.
    """
    dataset = Dataset()
    for key, attribute in document.items():
        vr = attribute["vr"]
        value = attribute.get("Value")
        if len(attribute) == 1:  # "vr" only: no value (PS3.18 F.2.5)
            element = DataElement(int(key, 16), vr, empty_value_for_VR(vr))
        elif len(attribute) == 2 and isinstance(value, list) and _plain(vr, value):
            element = _plain_element(int(key, 16), vr, value)
        else:
            value_key = next((k for k in JSON_VALUE_KEYS if k in attribute), None)
            value = [""] if value_key is None else attribute[value_key]
            element = DataElement.from_json(Dataset, key, vr, value, value_key)
        dataset.add(element)
    return dataset


def _plain(vr: str, values: list[Any]) -> bool:
    """Return whether the values of an attribute can be taken without pydicom's converter."""
    if vr == "SQ":
        return all(isinstance(item, dict) for item in values)
    if vr in _STRING_VRS:
        return all(isinstance(item, str) for item in values)
    if vr in _NUMBER_VRS:
        return all(isinstance(item, int | float) and not isinstance(item, bool) for item in values)
    return False


def _plain_element(tag: int, vr: str, values: list[Any]) -> DataElement:
    if vr == "SQ":
        return DataElement(tag, vr, [_dataset_from_json(item) for item in values])
    if not values:
        return DataElement(tag, vr, empty_value_for_VR(vr))
    number = _NUMBER_VRS.get(vr)
    converted = values if number is None else [number(item) for item in values]
    try:
        return DataElement(tag, vr, converted[0] if len(converted) == 1 else converted)
    except Exception as error:  # as DataElement.from_json reports it
        raise ValueError(f"Data element '{tag:08X}' could not be loaded from JSON") from error


def _add_file_meta(dataset: Dataset) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = dataset.get("SOPClassUID", COMPREHENSIVE_SR)
    meta.MediaStorageSOPInstanceUID = dataset.get("SOPInstanceUID", generate_uid())
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    dataset.file_meta = meta


# ====================================================================== reading


def _items(item: Dataset, keyword: str) -> list[Dataset]:
    """Return the items of a sequence, none when absent or empty (with or without Value)."""
    value = item.get(keyword)
    return list(value) if value else []


def _code(item: Dataset | None) -> Code | None:
    if item is None:
        return None
    value = str(
        item.get("CodeValue") or item.get("LongCodeValue") or item.get("URNCodeValue") or ""
    )
    scheme = str(item.get("CodingSchemeDesignator") or "")
    if not value:
        return None
    return Code(value, scheme, str(item.get("CodeMeaning") or value))


def _same(code: Code | None, other: Code) -> bool:
    """Compare codes; ``None`` (no code) equals nothing (``Code.__eq__`` rejects ``None``)."""
    return code is not None and code == other


def _concept(item: Dataset) -> Code | None:
    names = _items(item, "ConceptNameCodeSequence")
    return _code(names[0]) if names else None


def _value_code(item: Dataset) -> Code | None:
    values = _items(item, "ConceptCodeSequence")
    return _code(values[0]) if values else None


def _value_type(item: Dataset) -> str:
    return str(item.get("ValueType") or "").upper()


_TEXT_KEYS: Final = {"TEXT": "TextValue", "UIDREF": "UID", "PNAME": "PersonName"}


@dataclass(frozen=True, slots=True)
class _Content:
    """The children of a content item with their concept names and value types, read once.

    A group is searched for a dozen concepts; reading each child's concept name once
    instead of once per search makes decoding several times faster.
    """

    children: tuple[tuple[Dataset, Code | None, str], ...]

    @classmethod
    def of(cls, item: Dataset) -> _Content:
        return cls(tuple((c, _concept(c), _value_type(c)) for c in _items(item, "ContentSequence")))

    def find(self, concept: Code, value_type: str | None = None) -> list[Dataset]:
        return [
            child
            for child, name, kind in self.children
            if _same(name, concept) and (value_type is None or kind == value_type)
        ]

    def of_type(self, value_type: str) -> list[Dataset]:
        return [child for child, _name, kind in self.children if kind == value_type]

    def first_text(self, concept: Code) -> str | None:
        for child, name, kind in self.children:
            if kind in _TEXT_KEYS and _same(name, concept):
                return str(child.get(_TEXT_KEYS[kind]) or "")
        return None


def _children(item: Dataset, concept: Code, value_type: str | None = None) -> list[Dataset]:
    return _Content.of(item).find(concept, value_type)


def _pn(value: str) -> str:
    """Return a person name without trailing empty components."""
    return value.rstrip("^")


@dataclass(slots=True)
class _Scoord:
    graphic_type: str
    points: tuple[tuple[float, float], ...]
    sop_instance_uid: str
    frame: int | None


def _scoord(item: Dataset) -> _Scoord:
    """Read a SCOORD with its SELECTED FROM image (PS3.3 C.18.6); ``ValueError`` if bad."""
    data = [float(v) for v in (item.get("GraphicData") or [])]
    if len(data) % 2:
        raise ValueError("odd number of Graphic Data values")
    image = next((c for c in _items(item, "ContentSequence") if _value_type(c) == "IMAGE"), None)
    refs = _items(image, "ReferencedSOPSequence") if image is not None else []
    if not refs:
        raise ValueError("SCOORD without a referenced image")
    frames = refs[0].get("ReferencedFrameNumber")
    frame: int | None = None
    if frames not in (None, ""):
        frame_list = (
            list(frames)
            if isinstance(frames, Sequence) and not isinstance(frames, str)
            else [frames]
        )
        frame = int(frame_list[0]) if frame_list else None
    return _Scoord(
        str(item.get("GraphicType") or "").upper(),
        tuple(zip(data[0::2], data[1::2], strict=True)),
        str(refs[0].get("ReferencedSOPInstanceUID") or ""),
        frame,
    )


def _region(scoord: _Scoord) -> ImageRegion:
    return ImageRegion(
        scoord.sop_instance_uid, scoord.frame, GraphicType(scoord.graphic_type), scoord.points
    )


@dataclass(slots=True)
class _Num:
    value: MeasurementValue
    scoord: _Scoord | None


def _num(item: Dataset) -> _Num:
    name = _concept(item)
    values = _items(item, "MeasuredValueSequence")
    if name is None or not values:
        raise ValueError("NUM without a concept name or a value")
    units = _items(values[0], "MeasurementUnitsCodeSequence")
    unit = _code(units[0]) if units else None
    if unit is None:
        raise ValueError(f"{name.meaning}: no unit")
    content = _Content.of(item)
    label = content.first_text(codes.CALIBRATION_LABEL)
    scoords = content.of_type("SCOORD")
    number = float(values[0].get("NumericValue"))
    return _Num(
        MeasurementValue(name, number, unit, label if label is not None else _NOT_RECORDED),
        _scoord(scoords[0]) if scoords else None,
    )


@dataclass(slots=True)
class _Group:
    """What one measurement group (TID 1410 or 1501) says, read loosely."""

    index: int
    identifier: str
    tracking_uid: str | None
    finding_type: Code | None
    laterality: Laterality
    region: _Scoord | None
    nums: list[_Num]
    impression: Code | None
    note: str
    other_text: str
    observer: str
    parent_uid: str | None
    location: StoredLocation | None = None
    #: The finding a later region group belongs to (:func:`region_tracking_uid`).
    finding_uid: str | None = None
    #: A calibration label in the group itself (a duct segment's, since issue 13).
    calibration_label: str | None = None
    #: The group's Content Template Sequence identifier (PS3.3 C.18.8): "1410", "1411",
    #: "1501", or "" when it names none.
    template: str = ""
    #: The dcmjs tool that drew the group (:func:`_dcmjs_tool`), ``None`` for other writers.
    tool: str | None = None
    #: The SCOORDs under the group's NUMs (TID 300) when it has none of its own (TID 1410).
    num_regions: tuple[_Scoord, ...] = ()
    #: How many SCOORD3D regions the group has, directly or under a NUM.
    scoord3d_count: int = 0
    #: The free text of a dcmjs annotation: a CONTAINS TEXT or the 99dcmjs text Finding.
    free_text: str = ""
    #: A "Landmark status" = "Suggested…" item: a nipple not confirmed by the reader.
    suggested: bool = False
    #: The algorithm the group names (TID 4019), ``None`` when none.
    algorithm: AlgorithmIdentification | None = None


def _distance_mm(item: Dataset) -> float | None:
    """Return the value of a "Distance from nipple" NUM in mm (other units: ``None``)."""
    values = _items(item, "MeasuredValueSequence")
    units = _items(values[0], "MeasurementUnitsCodeSequence") if values else []
    unit = _code(units[0]) if units else None
    if unit is None or not _same(unit, codes.MILLIMETER):
        return None
    return float(values[0].get("NumericValue"))


def _location(content: _Content, problems: list[str], index: int) -> StoredLocation | None:
    """Read a group's location items; ``None`` when it has none."""
    clocks = content.find(location_codes.CLOCKFACE_OR_REGION, "CODE")
    quadrants = content.find(location_codes.QUADRANT_LOCATION, "CODE")
    depths = content.find(location_codes.DEPTH, "CODE")
    distances = content.find(location_codes.DISTANCE_FROM_NIPPLE, "NUM")
    if not (clocks or quadrants or depths or distances):
        return None
    distance: float | None = None
    if distances:
        try:
            distance = _distance_mm(distances[0])
        except (ValueError, TypeError) as exc:
            problems.append(f"measurement group {index + 1}: distance from nipple skipped: {exc}")
    oblique = any(
        _Content.of(clock).first_text(OBLIQUE_APPROXIMATION) is not None for clock in clocks
    )
    return StoredLocation(
        _value_code(clocks[0]) if clocks else None,
        _value_code(quadrants[0]) if quadrants else None,
        _value_code(depths[0]) if depths else None,
        distance,
        oblique,
    )


def _laterality(group: _Content) -> Laterality:
    for site in group.find(codes.FINDING_SITE):
        for modifier in _children(site, codes.LATERALITY):
            code = _value_code(modifier)
            for laterality, laterality_code in _LATERALITY_CODES.items():
                if _same(code, laterality_code):
                    return laterality
    return Laterality.UNKNOWN


#: The Tracking Identifier prefixes of dcmjs's Cornerstone3D adapter (cornerstone3DTag.js)
#: and of its older Cornerstone adapter, followed by ``:<tool name>``.
_DCMJS_PREFIXES: Final = ("Cornerstone3DTools@^0.1.0", "cornerstoneTools@^4.0.0")
#: dcmjs's private coding scheme and the codes of its free-text Finding (CodingScheme.js).
_DCMJS_SCHEME: Final = "99dcmjs"
_DCMJS_FREE_TEXT: Final = frozenset({"CS3DTEXT", "CORNERSTONEFREETEXT"})
#: The concept of dcmjs's placeholder NUMs of a point ("Center") or arrow ("label"),
#: value 0 "no units" (TID300/Point.js, ArrowAnnotate.js): no measurement.
_DCMJS_PLACEHOLDER: Final = ("111010", "DCM")
#: dcmjs tools whose region is a point (ArrowAnnotate writes a POLYLINE of one point).
_POINT_TOOLS: Final = frozenset({"ArrowAnnotate", "Probe"})
#: The rectangle tools: Cornerstone3D's, and the older adapter's (its 4 corners, open).
_RECTANGLE_TOOLS: Final = frozenset({"RectangleROI", "RectangleRoi"})


def _dcmjs_tool(identifier: str) -> str | None:
    """Return the tool of a dcmjs Tracking Identifier (``<prefix>:<Tool>``), else ``None``."""
    prefix, colon, tool = identifier.partition(":")
    if colon and prefix in _DCMJS_PREFIXES and tool:
        return tool
    return None


def _tool_region(tool: str | None, scoord: _Scoord) -> _Scoord:
    """Return the region a dcmjs tool drew as our graphic type (PS3.3 C.18.6.1.2).

    ArrowAnnotate and Probe are points (the arrow's head is its first point); a
    RectangleROI is a closed POLYLINE (its first corner repeated at the end).
    """
    if tool in _POINT_TOOLS and scoord.graphic_type != "POINT" and scoord.points:
        return _Scoord("POINT", scoord.points[:1], scoord.sop_instance_uid, scoord.frame)
    if (
        tool in _RECTANGLE_TOOLS
        and scoord.graphic_type == "POLYLINE"
        and len(scoord.points) >= 3
        and scoord.points[0] != scoord.points[-1]
    ):
        points = (*scoord.points, scoord.points[0])
        return _Scoord("POLYLINE", points, scoord.sop_instance_uid, scoord.frame)
    return scoord


def _free_text(content: _Content, finding: Code | None) -> str:
    """Return a dcmjs annotation's text: a CONTAINS TEXT item, else its free-text Finding."""
    for child, name, kind in content.children:
        contained = str(child.get("RelationshipType") or "") == "CONTAINS"
        ours = any(_same(name, c) for c in (codes.COMMENT, codes.OTHER_FINDING_TEXT))
        text = str(child.get("TextValue") or "").strip() if kind == "TEXT" else ""
        if contained and not ours and text:
            return text
    if (
        finding is not None
        and finding.scheme_designator == _DCMJS_SCHEME
        and finding.value in _DCMJS_FREE_TEXT
    ):
        return finding.meaning.strip()
    return ""


def _group(index: int, item: Dataset, problems: list[str]) -> _Group:
    """Read a TID 1501 (or TID 1410) measurement group.

    Its region is a SCOORD (PS3.3 C.18.6) directly in the group (TID 1410, our own
    writer) or, as dcmjs writes TID 1501, an INFERRED FROM SCOORD under a TID 300 NUM;
    SCOORD3D regions (C.18.9) are only counted.
    """
    content = _Content.of(item)
    identifier = (content.first_text(codes.TRACKING_IDENTIFIER) or "").strip()
    tool = _dcmjs_tool(identifier)
    finding = next(iter(content.find(codes.FINDING, "CODE")), None)
    impression_items = content.find(codes.DIFFERENTIAL_DIAGNOSIS_IMPRESSION, "CODE")
    regions = content.of_type("SCOORD")
    region = _scoord(regions[0]) if regions else None
    nums = []
    for child, name, kind in content.children:
        if kind != "NUM" or _same(name, location_codes.DISTANCE_FROM_NIPPLE):
            continue  # the distance from the nipple is part of the location
        try:
            nums.append(_num(child))
        except (ValueError, TypeError) as exc:
            problems.append(f"measurement group {index + 1}: measurement skipped: {exc}")
    num_regions: list[_Scoord] = []
    if region is None:
        num_regions = [n.scoord for n in nums if n.scoord is not None]
    scoord3d_count = len(content.of_type("SCOORD3D")) + sum(
        len(_Content.of(child).of_type("SCOORD3D"))
        for child, _name, kind in content.children
        if kind == "NUM"
    )
    finding_code = _value_code(finding) if finding is not None else None
    templates = _items(item, "ContentTemplateSequence")
    template = str(templates[0].get("TemplateIdentifier") or "") if templates else ""
    return _Group(
        template=template,
        index=index,
        identifier="" if tool is not None else identifier,
        tracking_uid=content.first_text(codes.TRACKING_UID) or None,
        finding_type=finding_code,
        laterality=_laterality(content),
        region=region,
        nums=nums,
        impression=_value_code(impression_items[0]) if impression_items else None,
        note=content.first_text(codes.COMMENT) or "",
        other_text=(content.first_text(codes.OTHER_FINDING_TEXT) or "").strip(),
        observer=_pn(content.first_text(codes.PERSON_OBSERVER_NAME) or ""),
        parent_uid=content.first_text(codes.PARENT_DUCT_SEGMENT) or None,
        location=_location(content, problems, index),
        finding_uid=content.first_text(codes.FINDING_OF_REGION) or None,
        calibration_label=content.first_text(codes.CALIBRATION_LABEL),
        tool=tool,
        num_regions=tuple(num_regions),
        scoord3d_count=scoord3d_count,
        free_text=_free_text(content, finding_code) if tool is not None else "",
        suggested=any(
            _same(_value_code(c), codes.SUGGESTED_LANDMARK)
            for c in content.find(codes.LANDMARK_STATUS, "CODE")
        ),
        algorithm=read_algorithm([child for child, _name, _kind in content.children]),
    )


def _measurement_groups(dataset: Dataset) -> list[Dataset]:
    groups = []
    for child in _items(dataset, "ContentSequence"):
        if _same(_concept(child), _IMAGING_MEASUREMENTS):
            groups.extend(_children(child, _MEASUREMENT_GROUP))
    return groups


def _observer(dataset: Dataset) -> str:
    for child in _items(dataset, "ContentSequence"):
        if _same(_concept(child), codes.PERSON_OBSERVER_NAME) and _value_type(child) == "PNAME":
            return _pn(str(child.get("PersonName") or ""))
    return ""


def _observer_organization(dataset: Dataset) -> str:
    """Return the root's "Person Observer's Organization Name" (TID 1003), ``""`` if none."""
    for child in _items(dataset, "ContentSequence"):
        if _same(_concept(child), codes.PERSON_OBSERVER_ORGANIZATION):
            return str(child.get("TextValue") or "").strip()
    return ""


def _predecessor(dataset: Dataset) -> str | None:
    for study in _items(dataset, "PredecessorDocumentsSequence"):
        for series in _items(study, "ReferencedSeriesSequence"):
            for instance in _items(series, "ReferencedSOPSequence"):
                uid = str(instance.get("ReferencedSOPInstanceUID") or "")
                if uid:
                    return uid
    return None


def _foreign_finding_text(code: Code | None) -> str:
    """Return the description of a finding coded outside CID 6057: "Mass (SCT 4147007)".

    A private scheme's code (``99...``, PS3.16 8.2) shows its meaning alone.
    """
    if code is None:
        return "Unspecified finding"
    meaning = str(code.meaning).strip() or str(code.value)
    if code.scheme_designator.startswith("99"):
        return meaning
    return f"{meaning} ({code.scheme_designator} {code.value})"


def _foreign_findings(reader: _Reader, items: Sequence[Dataset]) -> tuple[ForeignFinding, ...]:
    """Return the findings read from another writer's groups, with them (:mod:`.foreign`).

    All findings of another writer's SR; of GalactoView's, those it names as such.
    """
    kept = foreign.kept_in(reader.dataset, codes.PRIVATE_SCHEME)
    records = []
    for uid, finding in reader.findings.items():
        sources = [items[index] for index in reader.finding_groups.get(uid, ())]
        if not sources or (kept is not None and uid not in kept):
            continue
        try:
            records.append(ForeignFinding(finding, tuple(_kept_json(s) for s in sources)))
        except Exception as error:
            reader.problems.append(
                f"{finding.short_id}: what GalactoView does not model in it could not be "
                f"kept ({_reason_text(error)}); saving writes only what it shows"
            )
    return tuple(records)


def _is_segment(group: _Group) -> bool:
    if _same(group.finding_type, codes.DUCT_SEGMENT):
        return True
    return (
        group.region is None
        and group.finding_type is None
        and any(
            n.value.name == codes.PATH_LENGTH
            and n.scoord is not None
            and n.scoord.graphic_type == "POLYLINE"
            for n in group.nums
        )
    )


class _Reader:
    """Accumulates decoded pieces, reporting problems instead of failing."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.sop_instance_uid = str(dataset.get("SOPInstanceUID") or "")
        self.problems: list[str] = []
        self.findings: dict[str, Finding] = {}
        self.segments: list[DuctSegment] = []
        self.landmarks: dict[tuple[str, int | None], NippleLandmark] = {}
        self.chest_walls: dict[str, ChestWallLine] = {}
        self.locations: dict[str, StoredLocation] = {}
        self.short_ids: set[str] = set()
        #: The indexes of the measurement groups each finding was read from (:mod:`.foreign`).
        self.finding_groups: dict[str, list[int]] = {}

    def _finding_uid(self, group: _Group) -> str:
        """Return the finding a group belongs to: the one it names, else its own UID."""
        if group.finding_uid and is_valid_uid(group.finding_uid):
            return group.finding_uid
        return self._uid(group)

    def _uid(self, group: _Group) -> str:
        if group.tracking_uid and is_valid_uid(group.tracking_uid):
            return group.tracking_uid
        sources = [self.sop_instance_uid, str(group.index), "tracking"]
        return str(generate_uid(entropy_srcs=sources))

    def _short_id(self, wanted: str, fallback: str) -> str:
        short_id = wanted if wanted and wanted not in self.short_ids else fallback
        self.short_ids.add(short_id)
        return short_id

    def add(self, group: _Group) -> None:
        if group.scoord3d_count and (group.region is not None or group.num_regions):
            self.problems.append(
                f"measurement group {group.index + 1}: SCOORD3D region not placed (3-D coordinates)"
            )
        landmark = _same(group.finding_type, codes.NIPPLE) or _same(
            group.finding_type, location_codes.CHEST_WALL
        )
        if landmark and group.region is None and group.num_regions:
            # A TID 1501 group whose one region is under a NUM (as dcmjs writes a Probe):
            # a nipple or chest-wall line spelled so is read like ours (TID 1410).
            group = replace(group, region=group.num_regions[0], num_regions=())
        if _same(group.finding_type, codes.NIPPLE) and group.region is not None:
            region = _region(group.region)
            key = (region.sop_instance_uid, region.frame)
            if key in self.landmarks:
                self.problems.append(f"measurement group {group.index + 1}: second nipple on image")
                return
            self.landmarks[key] = NippleLandmark(
                region.sop_instance_uid, region.frame, region.points[0], not group.suggested
            )
        elif _same(group.finding_type, location_codes.CHEST_WALL) and group.region is not None:
            self._add_chest_wall(group)
        elif _is_segment(group):
            self._add_segment(group)
        elif group.region is not None or group.num_regions:
            self._add_finding(group)
        elif group.scoord3d_count:
            raise ValueError("SCOORD3D region not placed (3-D coordinates)")
        elif group.template == "1411":
            raise ValueError(
                "volumetric ROI (TID 1411: a segmentation or 3-D region) listed, not placed"
            )
        else:
            raise ValueError("no image region")

    def _add_chest_wall(self, group: _Group) -> None:
        """Read a chest-wall line: the first and last points of its POLYLINE region."""
        assert group.region is not None
        region = _region(group.region)
        if region.graphic_type is not GraphicType.POLYLINE or len(region.points) < 2:
            raise ValueError("a chest-wall line needs a POLYLINE of two points")
        uid = region.sop_instance_uid
        if uid in self.chest_walls:
            self.problems.append(
                f"measurement group {group.index + 1}: second chest-wall line on image {uid}"
            )
            return
        self.chest_walls[uid] = ChestWallLine(region.points[0], region.points[-1])

    def _add_segment(self, group: _Group) -> None:
        lengths = [n for n in group.nums if n.value.name == codes.PATH_LENGTH and n.scoord]
        if not lengths:
            raise ValueError("duct segment without a Path length and its POLYLINE")
        num = lengths[0]
        assert num.scoord is not None
        value = num.value
        if value.calibration_source == _NOT_RECORDED and group.calibration_label is not None:
            value = replace(value, calibration_source=group.calibration_label)
        path_length = None if value.unit == codes.PIXEL else value
        short_id = self._short_id(group.identifier, next_segment_id(self.segments))
        self.segments.append(
            DuctSegment(
                self._uid(group),
                short_id,
                group.parent_uid,
                _region(num.scoord),
                group.laterality,
                path_length,
                group.note,
                group.algorithm,
            )
        )

    def _add_finding(self, group: _Group) -> None:
        """Add a finding's region(s): its own SCOORD, else those under its NUMs (TID 300).

        A NUM measures the region of its SCOORD (a Bidirectional's Long and Short Axis
        each theirs), the other NUMs the group's first region; dcmjs's placeholder NUMs
        (value 0: a point's or an arrow's label, a freehand ROI's perimeter and area) are
        no measurement.
        """
        scoords = (group.region,) if group.region is not None else group.num_regions
        regions = tuple(_region(_tool_region(group.tool, s)) for s in scoords)
        uid = self._finding_uid(group)
        self.finding_groups.setdefault(uid, []).append(group.index)
        if group.location is not None and uid not in self.locations:
            self.locations[uid] = group.location
        existing = self.findings.get(uid)
        index = len(existing.regions) if existing else 0
        # dcmjs writes 0 where a tool computed nothing (a point's or an arrow's "label", a
        # freehand ROI's perimeter and area): no measurement, not a value to show.
        nums = [
            n
            for n in group.nums
            if group.tool is None
            or (
                (n.value.name.value, n.value.name.scheme_designator) != _DCMJS_PLACEHOLDER
                and n.value.value != 0
            )
        ]
        measurements = tuple(
            replace(
                n.value,
                region_index=index + next((i for i, s in enumerate(scoords) if s is n.scoord), 0),
            )
            for n in nums
        )
        if existing is not None:
            self.findings[uid] = replace(
                existing,
                regions=(*existing.regions, *regions),
                measurements=existing.measurements + measurements,
            )
            return
        finding_type = FindingType.from_code(group.finding_type) if group.finding_type else None
        other_text = ""
        if finding_type is FindingType.OTHER:
            other_text = group.other_text or "Other finding"
        elif finding_type is None:
            finding_type = FindingType.OTHER
            if group.finding_type is None and group.tool is not None:
                other_text = f"{group.tool} (OHIF measurement)"  # say which tool drew it
            else:
                other_text = _foreign_finding_text(group.finding_type)
        fallback = next_short_id(self.findings.values(), finding_type)
        while fallback in self.short_ids:  # pragma: no cover - a foreign id took it
            fallback = f"{fallback}'"
        self.findings[uid] = Finding(
            uid,
            self._short_id(group.identifier, fallback),
            finding_type,
            other_text,
            group.laterality,
            regions,
            measurements,
            group.impression,
            group.note or group.free_text,
            group.observer,
            group.algorithm,
        )

    def fix_tree(self) -> None:
        """Make segments with a missing parent or in a cycle roots."""
        by_uid = {s.tracking_uid: s for s in self.segments}
        for i, segment in enumerate(self.segments):
            if segment.parent_uid is not None and segment.parent_uid not in by_uid:
                self.problems.append(f"{segment.short_id}: parent segment missing, made a root")
                self.segments[i] = replace(segment, parent_uid=None)
                by_uid[segment.tracking_uid] = self.segments[i]
        for i, segment in enumerate(self.segments):
            seen = {segment.tracking_uid}
            parent = segment.parent_uid
            while parent is not None:
                if parent in seen:
                    self.problems.append(f"{segment.short_id}: duct tree cycle broken here")
                    self.segments[i] = replace(segment, parent_uid=None)
                    by_uid[segment.tracking_uid] = self.segments[i]
                    break
                seen.add(parent)
                parent = by_uid[parent].parent_uid


_ROOT_NAME: Final = re.compile(r"\s+")


#: What the SR storage classes that cannot hold TID 1500 are called in messages.
_DOCUMENT_KINDS: Final = {
    "1.2.840.10008.5.1.4.1.1.88.59": "Key Object Selection document",
    "1.2.840.10008.5.1.4.1.1.88.11": "Basic Text SR",
    "1.2.840.10008.5.1.4.1.1.88.50": "Mammography CAD SR",
    "1.2.840.10008.5.1.4.1.1.88.65": "Chest CAD SR",
    "1.2.840.10008.5.1.4.1.1.88.67": "X-Ray Radiation Dose SR",
}
#: The Content Template Sequence's identifier of TID 1500 in DCMR (PS3.3 C.17.3, PS3.16).
_TID_1500: Final = "1500"


class NotAMeasurementReportError(SRDecodeError):
    """The document is readable but is no TID 1500 Imaging Measurement Report.

    Its message is ``is <what it is>, not a measurement report (TID 1500)``, to follow
    the file's name (:func:`describe_document`).
    """


def _article(noun: str) -> str:
    """Return ``"a "`` or ``"an "`` for ``noun``."""
    return "an " if noun[:1].lower() in "aeiou" else "a "


def _sop_class_noun(sop_class: str) -> str:
    """Return an SR storage class as a noun ("Comprehensive SR", "Basic Text SR")."""
    if sop_class in _DOCUMENT_KINDS:
        return _DOCUMENT_KINDS[sop_class]
    name = UID(sop_class).name if sop_class else ""
    if not name or name == sop_class:
        return f"object of SOP Class {sop_class}" if sop_class else "SR"
    return name.removesuffix(" Storage")


def _template_identifier(dataset: Dataset) -> str | None:
    """Return the DCMR template the Content Template Sequence (0040,A504) names, if any.

    PS3.3 C.17.3 (Table C.17-6): Mapping Resource (0008,0105) ``DCMR`` and Template
    Identifier (0040,DB00); ``None`` when absent or naming another mapping resource.
    """
    for item in dataset.get("ContentTemplateSequence", None) or ():
        resource = str(item.get("MappingResource", "") or "").strip()
        identifier = str(item.get("TemplateIdentifier", "") or "").strip()
        if resource == "DCMR" and identifier:
            return identifier
    return None


def describe_document(dataset: Dataset) -> str | None:
    """Say what an SR is when it is not a TID 1500 Imaging Measurement Report.

    The checks, in order (PS3.3 A.35 and C.17.3, PS3.16 TID 1500):

    - a Content Sequence (it is a structured document at all);
    - its SOP Class (0008,0016) is one whose IOD holds TID 1500
      (:data:`MEASUREMENT_REPORT_CLASSES`; not e.g. Key Object Selection, PS3.3 A.35.4,
      or Basic Text SR, A.35.1);
    - its Content Template Sequence (0040,A504), when present, names TID 1500 (DCMR);
    - its document title (the root Concept Name Code Sequence, C.17.3) is "Imaging
      Measurement Report" (126000, DCM), the root of TID 1500.

    Parameters
    ----------
    dataset
        The document (binary or from DICOM JSON).

    Returns
    -------
    str or None
        ``None`` for a TID 1500 measurement report; else a noun phrase to follow
        "is", e.g. ``"a Key Object Selection document"`` or ``"a Comprehensive SR
        titled 'Diagnostic Imaging Report' (18748-4, LN)"``.
    """
    sop_class = str(dataset.get("SOPClassUID") or "").rstrip("\0 ")
    if "ContentSequence" not in dataset and sop_class not in _DOCUMENT_KINDS:
        return "not a structured report (no Content Sequence)"
    noun = _sop_class_noun(sop_class)
    if sop_class and sop_class not in MEASUREMENT_REPORT_CLASSES:
        return _article(noun) + noun
    template = _template_identifier(dataset)
    if template is not None and template != _TID_1500:
        return f"{_article(noun)}{noun} of template TID {template}"
    title = _concept(dataset)
    if title is None:
        return f"{_article(noun)}{noun} without a document title (Concept Name Code Sequence)"
    if not _same(title, MEASUREMENT_REPORT):
        meaning = _ROOT_NAME.sub(" ", str(title.meaning))[:64]
        return (
            f"{_article(noun)}{noun} titled {meaning!r} ({title.value}, {title.scheme_designator})"
        )
    return None


def check_measurement_report(dataset: Dataset) -> None:
    """Refuse an SR that is not a TID 1500 Imaging Measurement Report.

    Parameters
    ----------
    dataset
        The document.

    Raises
    ------
    NotAMeasurementReportError
        When :func:`describe_document` finds it is something else (no Content
        Sequence, another SOP Class, another template, another document title); the
        message says what it is, e.g. ``is a Key Object Selection document, not a
        measurement report (TID 1500)``.
    """
    what = describe_document(dataset)
    if what is None:
        return
    if what.startswith("not "):
        raise NotAMeasurementReportError(f"the dataset is {what}")
    raise NotAMeasurementReportError(f"is {what}, not a measurement report (TID 1500)")


def _kept_json(item: Dataset) -> str:
    """Return a content item as DICOM JSON text, as :func:`to_json` writes it."""
    return json.dumps(item.to_json_dict(), sort_keys=True, default=str, ensure_ascii=False)


@_collector_paused()
def decode(dataset: Dataset) -> DecodeResult:
    """Read the annotations of a TID 1500 SR (ours or another writer's).

    A measurement group that cannot be read is skipped with a problem and kept
    verbatim (its DICOM JSON) in ``annotations.unreadable_groups``, so that
    :func:`encode` writes it back; when even that fails the problem says so.

    Parameters
    ----------
    dataset
        A Comprehensive (or Enhanced) SR: from :func:`from_json`, ``dcmread`` or
        ``Dataset.from_json``.

    Returns
    -------
    DecodeResult
        The annotations (``sop_instance_uid`` = the SR's, ``previous_revision_uid``
        = its predecessor) and one line per group or item skipped.

    Raises
    ------
    SRDecodeError
        (a ``ValueError``) If the dataset is no SR, not a TID 1500 measurement report
        (:func:`check_measurement_report`), has no valid Study Instance UID, or
        cannot be read at all; never another exception.
    """
    try:
        return _decode(dataset)
    except Exception as error:  # untrusted bytes: anything pydicom or Python raises
        raise _decode_error(error, "the SR") from None


def _decode(dataset: Dataset) -> DecodeResult:
    check_measurement_report(dataset)
    reader = _Reader(dataset)
    kept: list[str] = []
    items = _measurement_groups(dataset)
    for index, item in enumerate(items):
        try:
            reader.add(_group(index, item, reader.problems))
        except Exception as exc:  # one unreadable group never stops the others
            problem = f"measurement group {index + 1} skipped: {_reason_text(exc)}"
            try:
                kept.append(_kept_json(item))
            except Exception as error:
                problem += f"; it could not be kept either ({_reason_text(error)})"
            reader.problems.append(problem)
    reader.fix_tree()

    def uid_or_none(value: Any) -> str | None:
        text = str(value or "")
        return text if is_valid_uid(text) else None

    study = str(dataset.get("StudyInstanceUID") or "")
    if not is_valid_uid(study):
        shown = repr(study[:80]) if study else "(none)"
        raise SRDecodeError(f"the SR's Study Instance UID {shown} is not a valid UID (PS3.5 9.1)")
    annotations = AnnotationSet(
        study_instance_uid=study,
        findings=tuple(reader.findings.values()),
        duct_segments=tuple(reader.segments),
        landmarks=tuple(reader.landmarks.values()),
        sop_instance_uid=uid_or_none(dataset.get("SOPInstanceUID")),
        previous_revision_uid=_predecessor(dataset),
        observer=_observer(dataset),
        observer_organization=_observer_organization(dataset),
        series_instance_uid=uid_or_none(dataset.get("SeriesInstanceUID")),
        unreadable_groups=tuple(kept),
        foreign_findings=_foreign_findings(reader, items),
    )
    locations = {
        uid: location for uid, location in reader.locations.items() if uid in reader.findings
    }
    report = clinical_report.read_report(dataset, reader.problems)
    signature = signing.read_signature(dataset, reader.problems)
    return DecodeResult(
        annotations,
        tuple(reader.problems),
        locations,
        reader.chest_walls,
        report,
        signature,
        signing.is_complete(dataset),
    )
