"""The order to retrieve a study in so that the hanging protocol's first cell comes first.

Before any instance is fetched, :func:`plan_retrieve_order` asks the PACS for every
instance's header — WADO-RS Retrieve Study Metadata (PS3.18 10.4.1.1.2) for a DICOMweb
node, C-FIND at the SERIES and IMAGE levels (PS3.4 C.6.2.1.2) for a DIMSE node — builds
the :class:`~galactoview.dicom.loading.ImageRecord` each image will have once it is in
the study's folder (:func:`~galactoview.dicom.loading.record_from_header`), chooses the
default hanging the viewer will show (:func:`~galactoview.reading.hanging.choose_hanging`)
and orders the SOP Instance UIDs:

1. the default hanging's filled cells, in cell order (its first one is
   :attr:`RetrieveOrder.first`, the instance the window opens the study with);
2. the images of the other galactography stages (pre-contrast, magnification), in
   stage order and cell order (:func:`~galactoview.reading.hanging.galactography_stages`);
3. every other image in display order (Study Date, Series Number, Instance Number:
   :meth:`~galactoview.dicom.loading.ImageRecord.sort_key`).

Structured reports and other non-image instances are not in the order (the SRs come
first anyway: :func:`galactoview.pacs.fetch.fetch_study`). Planning never raises: a
node that cannot answer, metadata that cannot be read or a PACS whose C-FIND does not
return the views gives an empty order (the retrieve then goes in the PACS's order) and
a problem line saying why.

DIMSE: an IMAGE-level C-FIND's optional return keys are up to the PACS. Orthanc 1.10
returns Image Laterality (0020,0062), View Position (0018,5101), the View Code Sequence,
Rows/Columns and Contrast/Bolus Agent (0018,0010) (it reads them from the stored file),
so a DIMSE node is planned like a DICOMweb one; a PACS that answers none of the view
attributes (laterality, view position, view code) gets the PACS's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pydicom.dataset import Dataset

from galactoview.dicom.loading import ImageRecord, record_from_header
from galactoview.dicom.source import FileSource
from galactoview.pacs.nodes import DicomWebNode, DimseNode
from galactoview.reading.hanging import choose_hanging, galactography_hanging, galactography_stages

__all__ = ["RetrieveOrder", "order_of", "plan_from_headers", "plan_retrieve_order"]

#: Modalities of a study's instances that are never images: SR, Key Objects, Presentation
#: States (PS3.3 C.7.3.1.1.1); their metadata is not even read.
_NOT_IMAGES: Final = frozenset({"SR", "KO", "PR"})
#: Attributes of which a header must have at least one for the hanging to place it.
_VIEW_KEYWORDS = ("ImageLaterality", "Laterality", "ViewPosition", "ViewCodeSequence")


@dataclass(frozen=True)
class RetrieveOrder:
    """The order to retrieve a study's images in (see the module docstring).

    Attributes
    ----------
    order
        SOP Instance UIDs of the study's images, first needed first; empty: retrieve
        in the PACS's order.
    first
        The instance of the default hanging's first filled cell, ``None`` if no cell
        is filled (or no order).
    problems
        One line per thing that kept the plan from being made or complete.
    """

    order: tuple[str, ...] = ()
    first: str | None = None
    problems: tuple[str, ...] = ()


def order_of(records: Sequence[ImageRecord]) -> RetrieveOrder:
    """Order images as the viewer will need them (steps 1-3 of the module docstring).

    Parameters
    ----------
    records
        The study's images (any order).

    Returns
    -------
    RetrieveOrder
        Without problems; empty for no images.
    """
    images = sorted(records, key=ImageRecord.sort_key)
    images.sort(key=lambda record: record.study_date, reverse=True)  # as scan() does
    if not images:
        return RetrieveOrder()
    hanging = choose_hanging(images)
    indices = list(hanging.image_indices())
    for stage in galactography_stages(images):
        layout = galactography_hanging(images, stage)
        if layout is not None:
            indices += layout.image_indices()
    indices += range(len(images))
    order = tuple(dict.fromkeys(images[index].sop_instance_uid for index in indices))
    first = hanging.image_indices()[:1]
    return RetrieveOrder(order, images[first[0]].sop_instance_uid if first else None)


def _records(
    headers: Sequence[Dataset], study_uid: str, folder: Path
) -> tuple[list[ImageRecord], list[str]]:
    """Build the records the headers' images will have in ``folder``; say what was skipped."""
    records: list[ImageRecord] = []
    problems: list[str] = []
    for header in headers:
        sop = str(header.get("SOPInstanceUID", "") or "")
        if str(header.get("StudyInstanceUID", "") or "") != study_uid:
            problems.append(f"instance {sop or '(no UID)'}: not of study {study_uid}; skipped")
            continue
        outcome = record_from_header(header, FileSource(folder / f"{sop}.dcm"))
        if isinstance(outcome, ImageRecord):
            records.append(outcome)
        elif not (outcome.note or outcome.message.startswith("not an image")):  # SRs, KOS
            problems.append(f"instance {sop or '(no UID)'}: {outcome.message}")
    return records, problems


def _has_views(headers: Sequence[Dataset]) -> bool:
    return any(header.get(keyword) for header in headers for keyword in _VIEW_KEYWORDS)


def plan_retrieve_order(
    node: DicomWebNode | DimseNode, study_uid: str, folder: Path
) -> RetrieveOrder:
    """Plan the order to retrieve a study in, from its instances' headers on the PACS.

    Parameters
    ----------
    node
        The PACS: DICOMweb (WADO-RS Retrieve Study Metadata, PS3.18 10.4.1.1.2, one
        request; bulk data never fetched) or DIMSE (C-FIND at the SERIES and IMAGE
        levels, PS3.4 C.6.2.1.2).
    study_uid
        The study.
    folder
        Where the retrieve writes it (``<SOP Instance UID>.dcm``): the records' sources.

    Returns
    -------
    RetrieveOrder
        Never raises: when the node fails or its answer is unusable the order is empty
        (the PACS's order) and :attr:`RetrieveOrder.problems` says why.
    """
    headers: Sequence[Dataset]
    if isinstance(node, DicomWebNode):
        from galactoview.pacs import dicomweb

        try:
            headers, problems = dicomweb.retrieve_study_metadata(
                node, study_uid, skip_modalities=_NOT_IMAGES
            )
        except (dicomweb.DicomWebError, ValueError) as error:
            return RetrieveOrder(problems=(f"{error}; retrieving in the PACS's order",))
    else:
        from galactoview.pacs import dimse

        try:
            headers, problems = dimse.find_instance_headers(node, study_uid), ()
        except (dimse.DimseError, ValueError) as error:
            return RetrieveOrder(problems=(f"{error}; retrieving in the PACS's order",))
    planned = plan_from_headers(node, headers, study_uid, folder)
    return RetrieveOrder(planned.order, planned.first, (*problems, *planned.problems))


def plan_from_headers(
    node: DicomWebNode | DimseNode, headers: Sequence[Dataset], study_uid: str, folder: Path
) -> RetrieveOrder:
    """Plan the order from headers already at hand (the second half of :func:`plan_retrieve_order`).

    E.g. the C-FIND answers :func:`galactoview.pacs.dimse.retrieve_study` lists the
    instances with when given a ``planner``. From a DIMSE node, headers without any view
    attribute (Image Laterality, View Position, View Code Sequence) mean the PACS does
    not return them: the PACS's order, saying so. Never raises.
    """
    if isinstance(node, DimseNode) and headers and not _has_views(headers):
        why = (
            f"{node}: its IMAGE-level C-FIND returns no Image Laterality (0020,0062), "
            "View Position (0018,5101) nor View Code Sequence; retrieving in the "
            "PACS's order"
        )
        return RetrieveOrder(problems=(why,))
    records, skipped = _records(headers, study_uid, folder)
    if not records:
        why = f"study {study_uid}: no image header usable to plan the order; PACS order"
        return RetrieveOrder(problems=(*skipped, why))
    planned = order_of(records)
    return RetrieveOrder(planned.order, planned.first, tuple(skipped))
