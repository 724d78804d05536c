"""TID 4019 "Algorithm Identification" in a measurement group: written and read (issue 16).

A finding or a duct segment that started as a suggestion of :mod:`galactoview.analysis`
keeps the algorithm that proposed it
(:class:`~galactoview.annotations.model.AlgorithmIdentification`). TID 1410 and TID 1501
(PS3.16) include TID 4019 with HAS CONCEPT MOD, after the finding sites; TID 4019's rows are
one level deep (PS3.16 TID 4019), so the group gets, each HAS CONCEPT MOD TEXT:

* "Algorithm Name" (111001, DCM), required;
* "Algorithm Version" (111003, DCM), required;
* "Algorithm Parameters" (111002, DCM), one item per parameter, optional.

The items are built by :class:`highdicom.sr.AlgorithmIdentification`. Reading is tolerant:
the version and parameters are also found as children of the name item (as some writers
nest them), a name without a version keeps the name with :data:`VERSION_NOT_RECORDED`, and
"Algorithm Family" (111000, DCM) and "Algorithm Manufacturer" (122405, DCM), which
GalactoView does not model, are recognised as part of the template (kept by
:mod:`galactoview.sr.foreign` as they are).
"""

from __future__ import annotations

from typing import Final

import highdicom as hd
from pydicom.dataset import Dataset
from pydicom.sr.coding import Code

from galactoview.annotations.model import AlgorithmIdentification

__all__ = [
    "ALGORITHM_CONCEPTS",
    "ALGORITHM_NAME",
    "ALGORITHM_PARAMETERS",
    "ALGORITHM_VERSION",
    "VERSION_NOT_RECORDED",
    "algorithm_items",
    "read_algorithm",
]

ALGORITHM_NAME: Final = Code("111001", "DCM", "Algorithm Name")
ALGORITHM_VERSION: Final = Code("111003", "DCM", "Algorithm Version")
ALGORITHM_PARAMETERS: Final = Code("111002", "DCM", "Algorithm Parameters")
_ALGORITHM_FAMILY: Final = Code("111000", "DCM", "Algorithm Family")
_ALGORITHM_MANUFACTURER: Final = Code("122405", "DCM", "Algorithm Manufacturer")
#: (value, scheme) of every row of TID 4019: the items that belong to the template.
ALGORITHM_CONCEPTS: Final = frozenset(
    (c.value, c.scheme_designator)
    for c in (
        ALGORITHM_NAME,
        ALGORITHM_VERSION,
        ALGORITHM_PARAMETERS,
        _ALGORITHM_FAMILY,
        _ALGORITHM_MANUFACTURER,
    )
)
#: The version of an algorithm read from a group naming it without "Algorithm Version".
VERSION_NOT_RECORDED: Final = "(version not recorded)"


def algorithm_items(algorithm: AlgorithmIdentification) -> list[Dataset]:
    """Return the TID 4019 items of an algorithm, to include in a TID 1410/1501 group.

    Parameters
    ----------
    algorithm
        The algorithm a mark started from.

    Returns
    -------
    list of pydicom.dataset.Dataset
        HAS CONCEPT MOD TEXT items: name, version, then each parameter, as
        :class:`highdicom.sr.AlgorithmIdentification` builds them (PS3.16 TID 4019).
    """
    template = hd.sr.AlgorithmIdentification(
        name=algorithm.name,
        version=algorithm.version,
        parameters=list(algorithm.parameters) or None,
    )
    return list(template)


def _key(item: Dataset) -> tuple[str, str] | None:
    names = item.get("ConceptNameCodeSequence")
    if not names:
        return None
    name = names[0]
    value = name.get("CodeValue") or name.get("LongCodeValue") or name.get("URNCodeValue")
    return (str(value), str(name.get("CodingSchemeDesignator") or "")) if value else None


def _texts(items: list[Dataset], concept: Code) -> list[str]:
    wanted = (concept.value, concept.scheme_designator)
    return [
        str(item.get("TextValue") or "").strip()
        for item in items
        if str(item.get("ValueType") or "").upper() == "TEXT" and _key(item) == wanted
    ]


def _children(item: Dataset) -> list[Dataset]:
    value = item.get("ContentSequence")
    return list(value) if value else []


def read_algorithm(group_children: list[Dataset]) -> AlgorithmIdentification | None:
    """Return the algorithm a measurement group names (TID 4019), ``None`` when none.

    Parameters
    ----------
    group_children
        The content items of a TID 1410/1501 group.

    Returns
    -------
    AlgorithmIdentification or None
        From the first non-empty "Algorithm Name" TEXT: the version and parameters are
        its siblings (as PS3.16 and highdicom write them) or, failing those, its children;
        a missing version becomes :data:`VERSION_NOT_RECORDED`. ``None`` when the group
        names no algorithm.
    """
    wanted = (ALGORITHM_NAME.value, ALGORITHM_NAME.scheme_designator)
    name_item = next(
        (
            item
            for item in group_children
            if str(item.get("ValueType") or "").upper() == "TEXT"
            and _key(item) == wanted
            and str(item.get("TextValue") or "").strip()
        ),
        None,
    )
    if name_item is None:
        return None
    nested = _children(name_item)
    versions = [v for v in _texts(group_children, ALGORITHM_VERSION) if v] or [
        v for v in _texts(nested, ALGORITHM_VERSION) if v
    ]
    parameters = _texts(group_children, ALGORITHM_PARAMETERS) or _texts(
        nested, ALGORITHM_PARAMETERS
    )
    return AlgorithmIdentification(
        str(name_item.get("TextValue")).strip(),
        versions[0] if versions else VERSION_NOT_RECORDED,
        tuple(p for p in parameters if p),
    )
