"""Readable listing of a study's annotations, for ``galactoview sr show`` (Qt-free).

Pure functions: :func:`listing_lines` returns the text lines, :func:`listing_json` a
JSON-serialisable document. Images are named by :class:`ImageLabel` (view label and
Instance Number) when the caller found the study's images, else by their SOP
Instance UID. Positions are SCOORD pixel coordinates (column, row; PS3.3 C.18.6.1.2)
rounded to 0.1 pixel.

A finding or duct segment that started as an accepted suggestion of
:mod:`galactoview.analysis` (its TID 4019 algorithm identification, PS3.16) says so:
``suggested by GalactoView duct-tree suggestion 1.0, accepted by Curie^Marie``
(:func:`suggestion_line`; the reader is the finding's observer, else the SR's).

A finding's anatomical location is shown when the caller passes it in ``locations``:
the :class:`~galactoview.sr.sr_codec.StoredLocation` the SR holds (clock face
or region, CID 6018; quadrant, CID 6020; depth, CID 6024; distance from the nipple,
121242 DCM; PS3.16), or a text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from galactoview.annotations.codes import impression_text
from galactoview.annotations.model import (
    AlgorithmIdentification,
    AnnotationSet,
    DuctSegment,
    Finding,
    ImageRegion,
    MeasurementValue,
    NippleLandmark,
    children,
    roots,
)
from galactoview.dicom.loading import ImageRecord
from galactoview.dicom.mammography import Laterality
from galactoview.location.describe import (
    describe_finding,
    describe_stored_location,
    measurement_text,
    number_text,
)

if TYPE_CHECKING:  # the codec pulls in highdicom; only its type is needed here
    from pydicom.sr.coding import Code

    from galactoview.sr.sr_codec import StoredLocation
__all__ = [
    "ImageLabel",
    "Location",
    "image_labels",
    "listing_json",
    "listing_lines",
    "suggestion_line",
]

#: A finding's location as listed: what the SR stores, or a ready-made text.
Location: TypeAlias = "StoredLocation | str"

_INDENT = "  "


@dataclass(frozen=True, slots=True)
class ImageLabel:
    """How an image is named in the listing.

    Attributes
    ----------
    view
        View label, e.g. ``"L CC MAG"`` (``""`` when unknown).
    instance_number
        Instance Number (0020,0013), ``None`` when absent.
    """

    view: str
    instance_number: int | None

    def text(self) -> str:
        """Return ``"L CC #3"``; ``"?"`` stands for an unknown part."""
        number = "?" if self.instance_number is None else str(self.instance_number)
        return f"{self.view or '?'} #{number}"


def image_labels(records: Iterable[ImageRecord]) -> dict[str, ImageLabel]:
    """Return the label of each image by SOP Instance UID.

    Parameters
    ----------
    records
        Images found by :func:`galactoview.dicom.loading.scan`.

    Returns
    -------
    dict
        SOP Instance UID → :class:`ImageLabel`.
    """
    return {r.sop_instance_uid: ImageLabel(r.view.label, r.instance_number) for r in records}


def _pixel(value: float) -> str:
    """Return a SCOORD coordinate rounded to 0.1 pixel (``12.0`` → ``"12"``)."""
    return number_text(value, 1)


def _image(region: ImageRegion | NippleLandmark, images: Mapping[str, ImageLabel]) -> str:
    label = images.get(region.sop_instance_uid)
    text = label.text() if label is not None else region.sop_instance_uid
    return text if region.frame is None else f"{text} frame {region.frame}"


def _points(region: ImageRegion) -> str:
    return " ".join(f"({_pixel(c)}, {_pixel(r)})" for c, r in region.points)


def _shape(region: ImageRegion) -> str:
    if region.graphic_type.value == "POLYLINE":
        return "POLYLINE closed" if region.is_closed else "POLYLINE open"
    return region.graphic_type.value


def _location_text(location: Location, laterality: Laterality) -> str:
    """Return a location as text (:func:`describe_stored_location`), a text unchanged.

    E.g. ``"Left, 7 o'clock, LIQ, middle third, 58 mm from the nipple"``; parts the SR
    does not store are left out.
    """
    if isinstance(location, str):
        return location
    return describe_stored_location(location, laterality).text


def _code_json(code: Code | None) -> dict[str, str] | None:
    if code is None:
        return None
    return {
        "value": str(code.value),
        "scheme": str(code.scheme_designator),
        "meaning": str(code.meaning),
    }


def _location_json(
    location: Location | None, laterality: Laterality
) -> str | dict[str, Any] | None:
    if location is None or isinstance(location, str):
        return location
    return {
        "text": _location_text(location, laterality),
        "clock_hour": location.clock_hour,
        "clock_or_region": _code_json(location.clock_or_region),
        "quadrant": _code_json(location.quadrant),
        "depth": _code_json(location.depth),
        "distance_from_nipple_mm": location.distance_from_nipple_mm,
        "oblique_approximated": location.oblique_approximated,
    }


def suggestion_line(algorithm: AlgorithmIdentification, reader: str) -> str:
    """Say which algorithm proposed a mark and who accepted it.

    Parameters
    ----------
    algorithm
        The mark's algorithm (TID 4019).
    reader
        Who accepted it (DICOM PN as stored); ``""`` when not recorded.

    Returns
    -------
    str
        ``"suggested by GalactoView duct-tree suggestion 1.0, accepted by Curie^Marie"``
        (``"accepted by the reader"`` when nobody is recorded).
    """
    return f"suggested by {algorithm.describe()}, accepted by {reader or 'the reader'}"


def _finding_lines(
    finding: Finding,
    images: Mapping[str, ImageLabel],
    location: Location | None,
    observer: str = "",
) -> list[str]:
    described = describe_finding(finding)
    lines = [f"{described.label}  {described.type_text}  laterality {finding.laterality.name}"]
    if finding.algorithm is not None:
        reader = finding.observer or observer
        lines.append(f"{_INDENT}{suggestion_line(finding.algorithm, reader)}")
    if location:
        lines.append(f"{_INDENT}location: {_location_text(location, finding.laterality)}")
    if finding.impression is not None:
        lines.append(f"{_INDENT}impression: {impression_text(finding.impression)}")
    if finding.note:
        lines.append(f"{_INDENT}note: {finding.note}")
    if finding.observer:
        lines.append(f"{_INDENT}observer: {finding.observer}")
    for index, region in enumerate(finding.regions):
        lines.append(
            f"{_INDENT}region {index + 1}: {_image(region, images)}  {_shape(region)}"
            f" {_points(region)}"
        )
        lines.extend(
            f"{_INDENT * 2}{measurement_text(m, stored=True)}"
            for m in finding.measurements
            if m.region_index == index
        )
    return lines


def _segment_lines(
    segment: DuctSegment, images: Mapping[str, ImageLabel], depth: int, observer: str
) -> list[str]:
    pad = _INDENT * (depth + 1)
    parent = "root" if segment.parent_uid is None else "branch"
    length = (
        measurement_text(segment.path_length, stored=True)
        if segment.path_length is not None
        else "Path length uncalibrated"
    )
    lines = [
        f"{pad}{segment.short_id}  {parent}  laterality {segment.laterality.name}  {length}",
        f"{pad}{_INDENT}{_image(segment.region, images)}  {_shape(segment.region)}"
        f" {_points(segment.region)}",
    ]
    if segment.algorithm is not None:
        lines.append(f"{pad}{_INDENT}{suggestion_line(segment.algorithm, observer)}")
    if segment.note:
        lines.append(f"{pad}{_INDENT}note: {segment.note}")
    return lines


def _tree(
    segments: tuple[DuctSegment, ...],
    segment: DuctSegment,
    images: Mapping[str, ImageLabel],
    depth: int,
    observer: str,
) -> list[str]:
    lines = _segment_lines(segment, images, depth, observer)
    for child in children(segments, segment.tracking_uid):
        lines.extend(_tree(segments, child, images, depth + 1, observer))
    return lines


def listing_lines(
    annotations: AnnotationSet,
    images: Mapping[str, ImageLabel] | None = None,
    locations: Mapping[str, Location] | None = None,
) -> list[str]:
    """Return the readable listing of a study's annotations.

    Parameters
    ----------
    annotations
        What to list.
    images
        Labels of the referenced images by SOP Instance UID (:func:`image_labels`);
        an image not in it is shown by its UID.
    locations
        Anatomical location of findings by tracking UID: the
        :attr:`~galactoview.sr.sr_codec.DecodeResult.locations` read from the
        SR, or texts; a finding without one shows no location line.

    Returns
    -------
    list of str
        A header, one block per finding (id, type, laterality, the algorithm that
        suggested it and who accepted it (:func:`suggestion_line`), location,
        impression, note, observer, each region with its image, graphic type, points
        and measurements), the duct trees indented by parent (a suggested segment
        saying so too) and the nipple landmarks.
    """
    images = images or {}
    locations = locations or {}
    lines = [f"Study {annotations.study_instance_uid}"]
    if annotations.sop_instance_uid is not None:
        lines.append(f"SR revision {annotations.sop_instance_uid}")
    if annotations.previous_revision_uid is not None:
        lines.append(f"previous revision {annotations.previous_revision_uid}")
    if annotations.observer:
        lines.append(f"observer {annotations.observer}")
    lines.append(
        f"{len(annotations.findings)} finding(s), {len(annotations.duct_segments)} duct "
        f"segment(s), {len(annotations.landmarks)} nipple landmark(s)"
    )
    for finding in annotations.findings:
        lines.append("")
        location = locations.get(finding.tracking_uid)
        lines.extend(_finding_lines(finding, images, location, annotations.observer))
    if annotations.duct_segments:
        lines += ["", "Duct trees:"]
        for root in roots(annotations.duct_segments):
            lines.extend(_tree(annotations.duct_segments, root, images, 0, annotations.observer))
    if annotations.landmarks:
        lines += ["", "Nipple landmarks:"]
        for landmark in annotations.landmarks:
            column, row = landmark.point
            status = "" if landmark.confirmed else "  suggested, not confirmed by the reader"
            lines.append(
                f"{_INDENT}{_image(landmark, images)}  ({_pixel(column)}, {_pixel(row)}){status}"
            )
    return lines


def _region_json(region: ImageRegion, images: Mapping[str, ImageLabel]) -> dict[str, Any]:
    label = images.get(region.sop_instance_uid)
    return {
        "sop_instance_uid": region.sop_instance_uid,
        "frame": region.frame,
        "view": label.view if label is not None else None,
        "instance_number": label.instance_number if label is not None else None,
        "graphic_type": region.graphic_type.value,
        "closed": region.is_closed,
        "points": [[c, r] for c, r in region.points],
    }


def _algorithm_json(
    algorithm: AlgorithmIdentification | None, reader: str
) -> dict[str, Any] | None:
    if algorithm is None:
        return None
    return {
        "name": algorithm.name,
        "version": algorithm.version,
        "parameters": list(algorithm.parameters),
        "accepted_by": reader,
    }


def _measurement_json(value: MeasurementValue) -> dict[str, Any]:
    return {
        "name": value.name.meaning,
        "value": value.value,
        "unit": value.unit.value,
        "calibration": value.calibration_source,
        "region_index": value.region_index,
    }


def listing_json(
    annotations: AnnotationSet,
    images: Mapping[str, ImageLabel] | None = None,
    locations: Mapping[str, Location] | None = None,
) -> dict[str, Any]:
    """Return the listing as a JSON-serialisable document (``galactoview sr show --json``).

    Parameters
    ----------
    annotations, images, locations
        As for :func:`listing_lines`.

    Returns
    -------
    dict
        Keys ``study_instance_uid``, ``sop_instance_uid``, ``previous_revision_uid``,
        ``observer``, ``findings`` (``short_id``, ``tracking_uid``, ``type``,
        ``other_text``, ``laterality``, ``location``, ``impression``, ``note``,
        ``observer``, ``suggested_by``, ``regions``, ``measurements``),
        ``duct_segments`` (with ``parent_uid``, ``path_length`` and ``suggested_by``) and
        ``landmarks``. ``suggested_by`` is ``null`` for a mark the reader drew, else the
        algorithm that proposed it (TID 4019): ``name``, ``version``, ``parameters`` (a
        list of texts) and ``accepted_by`` (the finding's observer, else the SR's; ``""``
        when not recorded). A stored ``location`` is
        an object: ``text`` (as listed), ``clock_hour`` (1-12 or null),
        ``clock_or_region``, ``quadrant``, ``depth`` (each null or ``{value, scheme,
        meaning}``, CID 6018/6020/6024), ``distance_from_nipple_mm`` (number or null)
        and ``oblique_approximated``; a text location stays a string; ``null`` when the
        finding has none.
    """
    images = images or {}
    locations = locations or {}
    return {
        "study_instance_uid": annotations.study_instance_uid,
        "sop_instance_uid": annotations.sop_instance_uid,
        "previous_revision_uid": annotations.previous_revision_uid,
        "observer": annotations.observer,
        "findings": [
            {
                "short_id": f.short_id,
                "tracking_uid": f.tracking_uid,
                "type": f.finding_type.value,
                "other_text": f.other_text,
                "laterality": f.laterality.value,
                "location": _location_json(locations.get(f.tracking_uid), f.laterality),
                "impression": f.impression.meaning if f.impression is not None else None,
                "note": f.note,
                "observer": f.observer,
                "suggested_by": _algorithm_json(f.algorithm, f.observer or annotations.observer),
                "regions": [_region_json(r, images) for r in f.regions],
                "measurements": [_measurement_json(m) for m in f.measurements],
            }
            for f in annotations.findings
        ],
        "duct_segments": [
            {
                "short_id": s.short_id,
                "tracking_uid": s.tracking_uid,
                "parent_uid": s.parent_uid,
                "laterality": s.laterality.value,
                "region": _region_json(s.region, images),
                "path_length": _measurement_json(s.path_length)
                if s.path_length is not None
                else None,
                "note": s.note,
                "suggested_by": _algorithm_json(s.algorithm, annotations.observer),
            }
            for s in annotations.duct_segments
        ],
        "landmarks": [
            {
                "sop_instance_uid": m.sop_instance_uid,
                "frame": m.frame,
                "point": list(m.point),
                "confirmed": m.confirmed,
            }
            for m in annotations.landmarks
        ],
    }
