"""Keep what other writers put in their measurement groups through edit and save (issue 13).

GalactoView models a finding as :class:`~galactoview.annotations.model.Finding`; a TID 1500
SR written by other software says more than that: a finding code outside CID 6057 (SCT
"Mass"), qualitative evaluations other than ours (TID 1410/1501 rows "Qualitative
Evaluations", e.g. "Margins"), finding sites, the algorithm identification of TID 4019,
text items, SCOORD3D regions, ... (PS3.16 TID 1410, TID 1501, TID 1419, TID 4019).
Re-saving must not lose them. The rules, shared by :func:`galactoview.sr.sr_codec.decode`
and :func:`~galactoview.sr.sr_codec.encode`:

* **whose group it is**: every finding of an SR another writer wrote is *foreign*; in an
  SR GalactoView wrote (it names its coding scheme, PS3.3 C.12.1.1.2), the findings it
  lists in its private element (0099,1001) (:func:`write_kept`: those it wrote from such
  a record) are. The decoder keeps a foreign finding's value and its groups' DICOM JSON
  as a :class:`~galactoview.annotations.model.ForeignFinding` in the annotation set (so
  it travels through the document's undo/redo and every save of the session);
* **unchanged** (the finding equals the value read): its groups are written back
  **verbatim** — nothing added (no finding site it did not have, no location evaluations
  from nipples placed since: the viewer shows those computed), nothing dropped;
* **edited**: it is written by GalactoView's encoder and every item of the source groups
  that GalactoView does not model is carried along (:func:`merge_groups`), at its place in
  the source group: the first item of each modelled kind (tracking, link to the finding,
  finding, breast site, measurements, impression, location, region, note, observer) takes
  the place of the source's first item of that kind; items of the kinds the edit did not
  change (the finding code with its "Other" description, the breast finding site when
  the laterality is the one read, the location when none is given or it is the one read,
  the TID 4019 algorithm identification when the algorithm is the one read) are the
  source's own. The children of a source NUM that GalactoView does not model
  (everything but its calibration label and SCOORD) are carried into the re-encoded NUM
  of the same concept. Region group *i* of the finding gets the unmodelled items of
  source group *i*.

Laterality: a foreign finding read with laterality UNKNOWN (no finding site, or one
without a Laterality modifier) takes the laterality of the images its regions are on,
when the load layer knows them (:func:`with_image_laterality`); decoding does not see
the images. The value it compares with changes with it, so an untouched group is still
written back verbatim, without a finding site it did not have.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Final

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sr.coding import Code

from galactoview.annotations import codes
from galactoview.annotations.model import AnnotationSet, Laterality
from galactoview.location import codes as location_codes
from galactoview.sr.algorithm import ALGORITHM_CONCEPTS

__all__ = [
    "Kind",
    "kept_in",
    "kinds",
    "merge_groups",
    "with_image_laterality",
    "write_kept",
]

_CONTENT_SEQUENCE: Final = 0x0040A730

#: What an item of a measurement group is to GalactoView: the kinds the encoder writes from
#: a :class:`~galactoview.annotations.model.Finding` and its location; ``None`` (not
#: listed) is an item it does not model.
Kind = str
TRACKING: Final[Kind] = "tracking"
#: The link of a finding's later region group to the finding (REGION-FINDING UIDREF).
LINK: Final[Kind] = "link"
FINDING: Final[Kind] = "finding"
SITE: Final[Kind] = "site"
NUM: Final[Kind] = "num"
IMPRESSION: Final[Kind] = "impression"
LOCATION: Final[Kind] = "location"
REGION: Final[Kind] = "region"
NOTE: Final[Kind] = "note"
OBSERVER: Final[Kind] = "observer"
#: The TID 4019 items (:mod:`galactoview.sr.algorithm`): name, version, parameters, family,
#: manufacturer.
ALGORITHM: Final[Kind] = "algorithm"

#: dcmjs's placeholder NUM of a point or arrow (value 0, no units): no measurement.
_DCMJS_PLACEHOLDER: Final = ("111010", "DCM")
_LOCATION_CODES: Final = (
    location_codes.CLOCKFACE_OR_REGION,
    location_codes.QUADRANT_LOCATION,
    location_codes.DEPTH,
)


def _key(item: Dataset | None) -> tuple[str, str] | None:
    """Return (value, scheme) of a Code Sequence item, ``None`` for none."""
    if item is None:
        return None
    value = item.get("CodeValue") or item.get("LongCodeValue") or item.get("URNCodeValue")
    if not value:
        return None
    return (str(value), str(item.get("CodingSchemeDesignator") or ""))


def _first(item: Dataset, keyword: str) -> Dataset | None:
    value = item.get(keyword)
    return value[0] if value else None


def _name(item: Dataset) -> tuple[str, str] | None:
    return _key(_first(item, "ConceptNameCodeSequence"))


def _is(key: tuple[str, str] | None, *concepts: Code) -> bool:
    """Return whether a code key is one of the concepts (legacy SRT equals SCT, PS3.16 O)."""
    if key is None:
        return False
    code = Code(key[0], key[1], "-")
    return any(c == code for c in concepts)


def _children(item: Dataset) -> list[Dataset]:
    value = item.get("ContentSequence")
    return list(value) if value else []


def _value_type(item: Dataset) -> str:
    return str(item.get("ValueType") or "").upper()


def kinds(group: Dataset, *, tool: bool = False) -> list[tuple[Dataset, Kind | None]]:
    """Return the children of a measurement group with what each is to GalactoView.

    Mirrors what the decoder reads (:func:`galactoview.sr.sr_codec.decode`): the first
    Tracking Identifier and Tracking Unique Identifier, the first link of a region group
    to its finding (``REGION-FINDING``), the first Finding with the first
    "Other" description, every Finding Site of Breast, every NUM that has a value with
    units (the location's "Distance from nipple" is location), the CID 6018/6020/6024
    location evaluations, the first impression, the first SCOORD, the first Comment (for a
    dcmjs tool, its first free text), the first Person Observer Name, the TID 4019 items
    (algorithm name, version, parameters, family, manufacturer). Everything else is
    ``None``: kept as it is.

    Parameters
    ----------
    group
        A measurement group (TID 1410/1501 CONTAINER).
    tool
        Whether dcmjs drew it (its free text is the note; its placeholder NUMs, value 0
        "no units", are part of the region).

    Returns
    -------
    list of (Dataset, str or None)
        Each child with its kind.
    """
    seen: set[tuple[Kind, tuple[str, str] | None]] = set()
    result: list[tuple[Dataset, Kind | None]] = []
    for item in _children(group):
        name = _name(item)
        kind, first_only = _kind(item, name, _value_type(item), tool)
        if kind is not None and first_only:
            # the decoder reads the first of these; a second one is kept as it is
            key = (kind, name if kind in (TRACKING, FINDING) else None)
            if key in seen:
                kind = None
            seen.add(key)
        result.append((item, kind))
    return result


#: (value type, concept) of the items the decoder reads once per group, and their kind.
_FIRST_ONLY: Final = (
    ("TEXT", codes.TRACKING_IDENTIFIER, TRACKING),
    ("UIDREF", codes.TRACKING_UID, TRACKING),
    ("UIDREF", codes.FINDING_OF_REGION, LINK),
    ("CODE", codes.FINDING, FINDING),
    ("TEXT", codes.OTHER_FINDING_TEXT, FINDING),
    ("CODE", codes.DIFFERENTIAL_DIAGNOSIS_IMPRESSION, IMPRESSION),
    ("TEXT", codes.COMMENT, NOTE),
    ("PNAME", codes.PERSON_OBSERVER_NAME, OBSERVER),
)


def _kind(
    item: Dataset, name: tuple[str, str] | None, value_type: str, tool: bool
) -> tuple[Kind | None, bool]:
    """Return what a group's child is to GalactoView and whether only the first counts."""
    for wanted_type, concept, kind in _FIRST_ONLY:
        if value_type == wanted_type and _is(name, concept):
            return kind, True
    if value_type == "SCOORD":
        return REGION, True
    if value_type in ("TEXT", "CODE") and name in ALGORITHM_CONCEPTS:
        return ALGORITHM, False
    if value_type == "CODE" and _is(name, codes.FINDING_SITE):
        breast = _is(_key(_first(item, "ConceptCodeSequence")), codes.BREAST)
        return (SITE if breast else None), False
    if value_type == "NUM" and _is(name, location_codes.DISTANCE_FROM_NIPPLE):
        return LOCATION, False
    if value_type == "NUM":
        measured = _measured(item) or (tool and name == _DCMJS_PLACEHOLDER)
        return (NUM if measured else None), False
    if value_type == "CODE" and _is(name, *_LOCATION_CODES):
        return LOCATION, False
    free_text = (
        value_type == "TEXT"
        and str(item.get("RelationshipType") or "") == "CONTAINS"
        and bool(str(item.get("TextValue") or "").strip())
    )
    if tool and free_text:
        return NOTE, True
    return None, False


def _measured(num: Dataset) -> bool:
    """Return whether a NUM has a value with units (what the decoder reads as a measurement)."""
    value = _first(num, "MeasuredValueSequence")
    return value is not None and _first(value, "MeasurementUnitsCodeSequence") is not None


def _num_extras(num: Dataset) -> list[Dataset]:
    """Return the children of a NUM GalactoView does not model (all but calibration, SCOORD)."""
    return [
        child
        for child in _children(num)
        if _value_type(child) != "SCOORD"
        and not (_value_type(child) == "TEXT" and _is(_name(child), codes.CALIBRATION_LABEL))
    ]


def _with_children(item: Dataset, children: Sequence[Dataset]) -> Dataset:
    copy = Dataset()
    for element in item:
        if element.tag != _CONTENT_SEQUENCE:
            copy.add(element)
    if children:
        copy[_CONTENT_SEQUENCE] = DataElement(_CONTENT_SEQUENCE, "SQ", list(children))
    return copy


def _merged_nums(ours: list[Dataset], source: list[Dataset]) -> list[Dataset]:
    """Return our NUMs, each with the unmodelled children of the source NUM of its concept."""
    unused = list(source)
    result = []
    for num in ours:
        match = next((s for s in unused if _name(s) == _name(num)), None)
        extras = [] if match is None else _num_extras(match)
        if match is not None:
            unused.remove(match)
        result.append(_with_children(num, [*_children(num), *extras]) if extras else num)
    return result


def merge_groups(
    ours: Sequence[Dataset],
    sources: Sequence[Dataset],
    *,
    keep: frozenset[Kind],
    tool: bool = False,
) -> list[Dataset]:
    """Return GalactoView's groups of an edited foreign finding with the source's other items.

    Parameters
    ----------
    ours
        The groups GalactoView's encoder wrote for the finding (one per region).
    sources
        The finding's groups as read (:attr:`ForeignFinding.groups`, as datasets).
    keep
        The kinds the edit did not change and whose source items are written instead of
        ours (:data:`FINDING`, :data:`SITE`, :data:`LOCATION`, :data:`ALGORITHM`); taken
        from the source group of the same index, else the first.
    tool
        Whether dcmjs drew the source groups (see :func:`kinds`).

    Returns
    -------
    list of Dataset
        One group per group of ``ours``: its container, with the source's unmodelled
        items at their places (see the module's docstring).
    """
    result = []
    for index, group in enumerate(ours):
        paired = index < len(sources)
        source = sources[index] if paired else sources[0]
        ours_by_kind: dict[Kind, list[Dataset]] = {}
        for item, kind in kinds(group):
            ours_by_kind.setdefault(kind or "", []).append(item)
        source_kinds = kinds(source, tool=tool)
        source_nums = [item for item, kind in source_kinds if kind == NUM]
        ours_by_kind[NUM] = _merged_nums(ours_by_kind.get(NUM, []), source_nums)
        children: list[Dataset] = []
        placed: set[Kind] = set()
        for item, kind in source_kinds:
            if kind is None:
                if paired:
                    children.append(item)
            elif kind in keep:
                children.append(item)
            elif kind not in placed:
                placed.add(kind)
                children.extend(ours_by_kind.get(kind, []))
        for kind, items in ours_by_kind.items():
            if kind not in placed and kind not in keep:  # "": ours, of no kind (none today)
                children.extend(items)
        result.append(_with_children(group, children))
    return result


#: The private block of GalactoView's SRs (PS3.5 7.8.1): group 0099, Private Creator
#: (0099,0010) "GalactoView"; element (0099,1001) UI, VM 1-n, lists the tracking UIDs of
#: the findings whose groups another writer wrote (kept verbatim or carried along).
PRIVATE_GROUP: Final = 0x0099
PRIVATE_CREATOR: Final = "GalactoView"
_KEPT_FINDINGS: Final = 0x01


def write_kept(dataset: Dataset, tracking_uids: Sequence[str]) -> None:
    """Name in an SR the findings whose groups another writer wrote (none: nothing written).

    Parameters
    ----------
    dataset
        The SR GalactoView writes.
    tracking_uids
        The findings written from a :class:`ForeignFinding` record.
    """
    if tracking_uids:
        block = dataset.private_block(PRIVATE_GROUP, PRIVATE_CREATOR, create=True)
        block.add_new(_KEPT_FINDINGS, "UI", list(tracking_uids))


def kept_in(dataset: Dataset, private_scheme: str) -> frozenset[str] | None:
    """Return which findings of an SR another writer wrote, ``None`` for all of them.

    Parameters
    ----------
    dataset
        An SR being read.
    private_scheme
        GalactoView's coding scheme designator: an SR identifying it in its Coding
        Scheme Identification Sequence (0008,0110) (PS3.3 C.12.1.1.2) was written by
        GalactoView.

    Returns
    -------
    frozenset of str or None
        The tracking UIDs :func:`write_kept` listed, none for an SR GalactoView wrote
        without such findings; ``None`` for another writer's SR, or when the list cannot
        be read (every finding is then kept as read: nothing is lost).
    """
    try:
        block = dataset.private_block(PRIVATE_GROUP, PRIVATE_CREATOR)
    except KeyError:
        schemes = dataset.get("CodingSchemeIdentificationSequence") or ()
        ours = any(str(s.get("CodingSchemeDesignator") or "") == private_scheme for s in schemes)
        return frozenset() if ours else None
    try:
        value = block[_KEPT_FINDINGS].value
    except (KeyError, ValueError):
        return None
    values = [value] if isinstance(value, str) else list(value or ())
    return frozenset(str(v) for v in values)


def with_image_laterality(
    annotations: AnnotationSet, lateralities: Mapping[str, Laterality]
) -> AnnotationSet:
    """Give foreign findings read without a laterality that of the images they are on.

    A finding kept as foreign (:attr:`AnnotationSet.foreign_findings`) that is still as
    read and whose laterality is UNKNOWN (its groups have no finding site, or one without
    a Laterality modifier) gets the Image Laterality (0020,0062) its regions' images share
    (LEFT or RIGHT; images disagreeing or unknown change nothing); the value the record
    compares with gets it too, so an untouched finding is still written back verbatim.

    Parameters
    ----------
    annotations
        The annotations as loaded.
    lateralities
        Image Laterality by SOP Instance UID of the study's images.

    Returns
    -------
    AnnotationSet
        The same object when nothing changed.
    """
    findings = list(annotations.findings)
    records = list(annotations.foreign_findings)
    changed = False
    for number, record in enumerate(records):
        finding = record.finding
        if finding.laterality is not Laterality.UNKNOWN:
            continue
        found = {lateralities.get(region.sop_instance_uid) for region in finding.regions}
        if len(found) != 1 or (laterality := found.pop()) not in (
            Laterality.LEFT,
            Laterality.RIGHT,
        ):
            continue
        for index, current in enumerate(findings):
            if current.tracking_uid == finding.tracking_uid and current == finding:
                findings[index] = replace(current, laterality=laterality)
                records[number] = replace(record, finding=findings[index])
                changed = True
    if not changed:
        return annotations
    return replace(annotations, findings=tuple(findings), foreign_findings=tuple(records))
