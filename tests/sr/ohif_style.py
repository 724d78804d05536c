"""TID 1500 SRs as dcmjs's Cornerstone3D adapter (what OHIF stores) writes them (issue 13).

The tree follows dcmjs-org/dcmjs at commit 81e7e11cdefb56aa1a65bfe259648b865583ff88:
``src/adapters/Cornerstone3D/MeasurementReport.js`` (document, Image Library, Imaging
Measurements), ``src/utilities/TID1500/TID1500MeasurementReport.js`` and
``TID1501MeasurementGroup.js`` (one Measurement Group per tool, SEPARATE),
``src/utilities/TID300/TID300Measurement.js`` (Tracking Identifier TEXT
``Cornerstone3DTools@^0.1.0:<Tool>``, Tracking Unique Identifier, Finding CODE, Finding
Site CODEs), ``TID320ContentItem.js`` (the SCOORD, INFERRED FROM, under a NUM, with its
SELECTED FROM IMAGE; SCOORD3D with a Referenced Frame of Reference UID instead),
``MeasurementBuilder.js`` (only the first NUM of an ROI holds the SCOORD) and the tools:
``Length.js``/``OpenPolyline.js`` (NUM "Length" 410668003 SCT), ``Bidirectional.js``
(NUMs "Long Axis" 103339001 / "Short Axis" 103340004 SCT, one POLYLINE each),
``ArrowAnnotate.js`` (NUM "label" 111010 DCM, value 0 no units, a POLYLINE of one point;
the text is the Finding, coded ``CS3DTEXT`` in ``99dcmjs`` with the text as its meaning),
``Ellipse.js`` (ELLIPSE of 4 points, the axes' ends), ``Circle.js`` (CIRCLE: centre and
a point on the edge), ``Polyline.js`` (PlanarFreehandROI: the first point repeated at the
end when closed) and ``Point.js`` (Probe: NUM "Center" 111010 DCM, value 0 no units, with
a POINT). ``CircleROI.js`` and ``RectangleROI.js`` are not among dcmjs's Cornerstone3D
adapters at that commit: the CircleROI group follows ``TID300/Circle.js`` and the
RectangleROI group ``TID300/Polyline.js`` with a closed contour; dcmjs's older adapter
(commit 8266ad6, ``src/adapters/Cornerstone/RectangleRoi.js``) writes
``cornerstoneTools@^4.0.0:RectangleRoi`` with its 4 corners, not closed (see
``test_open_rectangle_is_closed``).

:func:`ohif_report` returns one SR of the sample ductogram with the 8 tool kinds
(:data:`MARKS` says where each mark is), one older ``cornerstoneTools@^4.0.0:Length`` group
and one Length drawn in 3-D (a SCOORD3D, which cannot be placed on an image).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import Comprehensive3DSRStorage, ExplicitVRLittleEndian, generate_uid

from galactoview.annotations.model import FindingType
from tests.helpers import sample_headers

__all__ = ["CS3D", "LEGACY", "MARKS", "Mark", "ohif_report"]

#: The Tracking Identifier prefix of dcmjs's Cornerstone3D adapter (cornerstone3DTag.js).
CS3D = "Cornerstone3DTools@^0.1.0"
#: The prefix of the older Cornerstone (legacy) adapter.
LEGACY = "cornerstoneTools@^4.0.0"


@dataclass(frozen=True, slots=True)
class Mark:
    """One measurement group of :func:`ohif_report`: the tool, its image and SCOORDs."""

    tool: str
    image: str  # the sample image's file stem
    graphic_type: str  # as written in the SCOORD
    lines: tuple[tuple[tuple[float, float], ...], ...]  # one tuple of points per SCOORD
    prefix: str = CS3D


#: The marks of :func:`ohif_report`, in group order (the SCOORD3D Length comes last).
MARKS: tuple[Mark, ...] = (
    Mark("Length", "01_LCC_PRE", "POLYLINE", (((100.0, 120.0), (200.0, 220.0)),)),
    Mark(
        "Bidirectional",
        "03_LCC_POST",
        "POLYLINE",
        (((100.0, 100.0), (200.0, 200.0)), ((170.0, 130.0), (130.0, 170.0))),
    ),
    Mark("ArrowAnnotate", "03_LCC_POST", "POLYLINE", (((300.0, 310.0),),)),
    Mark(
        "EllipticalROI",
        "02_LML_PRE",
        "ELLIPSE",
        (((100.0, 200.0), (300.0, 200.0), (200.0, 150.0), (200.0, 250.0)),),
    ),
    Mark("CircleROI", "02_LML_PRE", "CIRCLE", (((400.0, 400.0), (450.0, 400.0)),)),
    Mark(
        "PlanarFreehandROI",
        "04_LML_POST",
        "POLYLINE",
        (((100.0, 100.0), (150.0, 90.0), (200.0, 130.0), (160.0, 200.0), (100.0, 100.0)),),
    ),
    Mark(
        "RectangleROI",
        "04_LML_POST",
        "POLYLINE",
        (((300.0, 300.0), (400.0, 300.0), (400.0, 380.0), (300.0, 380.0), (300.0, 300.0)),),
    ),
    Mark("Probe", "05_LCC_MAG_POST", "POINT", (((250.0, 260.0),),)),
    Mark("Length", "05_LCC_MAG_POST", "POLYLINE", (((10.0, 20.0), (30.0, 40.0)),), LEGACY),
)
#: The text of the ArrowAnnotate (its Finding's meaning).
ARROW_TEXT = "Filling defect here?"
#: The Bidirectional's Finding: one of ours (CID 6057).
BIDIRECTIONAL_FINDING = FindingType.INTRALUMINAL_FILLING_DEFECT


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def _item(relationship: str, value_type: str, name: Dataset | None = None) -> Dataset:
    item = Dataset()
    item.RelationshipType, item.ValueType = relationship, value_type
    if name is not None:
        item.ConceptNameCodeSequence = [name]
    return item


def _reference(image: Dataset) -> Dataset:
    ref = Dataset()
    ref.ReferencedSOPClassUID = image.SOPClassUID
    ref.ReferencedSOPInstanceUID = image.SOPInstanceUID
    return ref


def _scoord(graphic_type: str, points: tuple[tuple[float, float], ...], image: Dataset) -> Dataset:
    """TID320ContentItem.contentItem(), 2-D: INFERRED FROM SCOORD with its SELECTED FROM image."""
    item = _item("INFERRED FROM", "SCOORD")
    item.GraphicType = graphic_type
    item.GraphicData = [c for point in points for c in point]
    source = _item("SELECTED FROM", "IMAGE")
    source.ReferencedSOPSequence = [_reference(image)]
    item.ContentSequence = [source]
    return item


def _scoord3d(points: tuple[tuple[float, float, float], ...], frame_of_reference: str) -> Dataset:
    """TID320ContentItem.contentItem(), 3-D: a SCOORD3D in a frame of reference, no image."""
    item = _item("INFERRED FROM", "SCOORD3D")
    item.GraphicType = "POLYLINE"
    item.GraphicData = [c for point in points for c in point]
    item.ReferencedFrameOfReferenceUID = frame_of_reference
    return item


def _num(name: Dataset, value: float, unit: Dataset, scoord: Dataset | None = None) -> Dataset:
    """MeasurementBuilder.createNumericMeasurement: a CONTAINS NUM, maybe with its SCOORD."""
    item = _item("CONTAINS", "NUM", name)
    measured = Dataset()
    measured.MeasurementUnitsCodeSequence = [unit]
    measured.NumericValue = value
    item.MeasuredValueSequence = [measured]
    if scoord is not None:
        item.ContentSequence = [scoord]
    return item


_MM = _code("mm", "UCUM", "mm")
_MM2 = _code("mm2", "UCUM", "mm2")
_NO_UNITS = _code("1", "UCUM", "no units")
_HU = _code("[hnsf'U]", "UCUM", "Hounsfield unit")


def _nums(mark: Mark, scoords: list[Dataset]) -> list[Dataset]:
    """The TID 300 NUMs of one tool, the SCOORD(s) under the first (or each axis)."""
    first = scoords[0]
    if mark.tool == "Length":
        return [_num(_code("410668003", "SCT", "Length"), 141.4, _MM, first)]
    if mark.tool == "Bidirectional":
        return [
            _num(_code("103339001", "SCT", "Long Axis"), 141.4, _MM, scoords[0]),
            _num(_code("103340004", "SCT", "Short Axis"), 56.6, _MM, scoords[1]),
        ]
    if mark.tool == "ArrowAnnotate":
        return [_num(_code("111010", "DCM", "label"), 0, _NO_UNITS, first)]
    if mark.tool == "Probe":
        return [_num(_code("111010", "DCM", "Center"), 0, _NO_UNITS, first)]
    if mark.tool in {"EllipticalROI", "CircleROI", "RectangleROI"}:
        measured = [_num(_code("42798000", "SCT", "Area"), 1570.8, _MM2, first)]
        if mark.tool == "CircleROI":
            measured.append(_num(_code("131190003", "SCT", "Radius"), 50, _MM))
        measured.append(_num(_code("373098007", "SCT", "Mean"), 812.5, _HU))
        return measured
    # PlanarFreehandROI: perimeter first (Polyline.js), then area; both 0 in the adapter.
    return [
        _num(_code("131191004", "SCT", "Perimeter"), 0, _MM, first),
        _num(_code("42798000", "SCT", "Area"), 0, _MM2),
    ]


def _group(mark: Mark, image: Dataset) -> Dataset:
    """TID1501MeasurementGroup.getMeasurementGroup around TID300Measurement.getMeasurement."""
    group = _item("CONTAINS", "CONTAINER", _code("125007", "DCM", "Measurement Group"))
    group.ContinuityOfContent = "SEPARATE"
    tracking = _item("HAS OBS CONTEXT", "TEXT", _code("112039", "DCM", "Tracking Identifier"))
    tracking.TextValue = f"{mark.prefix}:{mark.tool}"
    tracking_uid = _item(
        "HAS OBS CONTEXT", "UIDREF", _code("112040", "DCM", "Tracking Unique Identifier")
    )
    tracking_uid.UID = generate_uid()
    content = [tracking, tracking_uid]
    finding = None
    if mark.tool == "ArrowAnnotate":
        finding = _code("CS3DTEXT", "99dcmjs", ARROW_TEXT)
    elif mark.tool == "Bidirectional":
        finding = _code(
            BIDIRECTIONAL_FINDING.code.value,
            BIDIRECTIONAL_FINDING.code.scheme_designator,
            BIDIRECTIONAL_FINDING.code.meaning,
        )
    if finding is not None:
        item = _item("CONTAINS", "CODE", _code("121071", "DCM", "Finding"))
        item.ConceptCodeSequence = [finding]
        content.append(item)
    scoords = [_scoord(mark.graphic_type, points, image) for points in mark.lines]
    content.extend(_nums(mark, scoords))
    group.ContentSequence = content
    return group


def _group_3d(image: Dataset) -> Dataset:
    """A Length drawn on a volume: use3DSpatialCoordinates, so a SCOORD3D (TID320ContentItem)."""
    group = _item("CONTAINS", "CONTAINER", _code("125007", "DCM", "Measurement Group"))
    group.ContinuityOfContent = "SEPARATE"
    tracking = _item("HAS OBS CONTEXT", "TEXT", _code("112039", "DCM", "Tracking Identifier"))
    tracking.TextValue = f"{CS3D}:Length"
    tracking_uid = _item(
        "HAS OBS CONTEXT", "UIDREF", _code("112040", "DCM", "Tracking Unique Identifier")
    )
    tracking_uid.UID = generate_uid()
    frame = str(image.get("FrameOfReferenceUID") or generate_uid())
    coordinates = _scoord3d(((1.0, 2.0, 3.0), (4.0, 5.0, 6.0)), frame)
    length = _num(_code("410668003", "SCT", "Length"), 5.2, _MM, coordinates)
    group.ContentSequence = [tracking, tracking_uid, length]
    return group


def ohif_report() -> Dataset:
    """Return the dcmjs-style TID 1500 SR of the sample ductogram (see :data:`MARKS`)."""
    headers = sample_headers()
    first = headers[MARKS[0].image]
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = Comprehensive3DSRStorage
    ds.SOPClassUID = Comprehensive3DSRStorage
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    for keyword in (
        "PatientName",
        "PatientID",
        "PatientBirthDate",
        "PatientSex",
        "StudyInstanceUID",
        "StudyDate",
        "StudyTime",
        "StudyID",
        "AccessionNumber",
        "ReferringPhysicianName",
    ):
        if keyword in first:
            setattr(ds, keyword, first.get(keyword))
    ds.Modality = "SR"
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = 99
    ds.InstanceNumber = 1
    ds.Manufacturer = "dcmjs"
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = [_code("126000", "DCM", "Imaging Measurement Report")]
    ds.ContinuityOfContent = "SEPARATE"
    ds.CompletionFlag = "COMPLETE"
    ds.VerificationFlag = "UNVERIFIED"
    template = Dataset()
    template.MappingResource, template.TemplateIdentifier = "DCMR", "1500"
    ds.ContentTemplateSequence = [template]

    language = _item(
        "HAS CONCEPT MOD",
        "CODE",
        _code("121049", "DCM", "Language of Content Item and Descendants"),
    )
    language.ConceptCodeSequence = [_code("en", "RFC5646", "English")]
    observer = _item("HAS OBS CONTEXT", "PNAME", _code("121008", "DCM", "Person Observer Name"))
    observer.PersonName = "unknown^unknown"
    procedure = _item("HAS CONCEPT MOD", "CODE", _code("121058", "DCM", "Procedure reported"))
    procedure.ConceptCodeSequence = [_code("363679005", "SCT", "Imaging procedure")]
    library_group = _item("CONTAINS", "CONTAINER", _code("126200", "DCM", "Image Library Group"))
    library_group.ContinuityOfContent = "SEPARATE"
    evidence: list[Dataset] = []
    entries = []
    for stem in dict.fromkeys(m.image for m in MARKS):
        image = headers[stem]
        entry = _item("CONTAINS", "IMAGE")
        entry.ReferencedSOPSequence = [_reference(image)]
        entries.append(entry)
        series = Dataset()
        series.SeriesInstanceUID = image.SeriesInstanceUID
        series.ReferencedSOPSequence = [_reference(image)]
        study = Dataset()
        study.StudyInstanceUID = image.StudyInstanceUID
        study.ReferencedSeriesSequence = [series]
        evidence.append(study)
    library_group.ContentSequence = entries
    library = _item("CONTAINS", "CONTAINER", _code("111028", "DCM", "Image Library"))
    library.ContinuityOfContent = "SEPARATE"
    library.ContentSequence = [library_group]
    measurements = _item("CONTAINS", "CONTAINER", _code("126010", "DCM", "Imaging Measurements"))
    measurements.ContinuityOfContent = "SEPARATE"
    measurements.ContentSequence = [
        *(_group(mark, headers[mark.image]) for mark in MARKS),
        _group_3d(headers[MARKS[-1].image]),
    ]
    ds.CurrentRequestedProcedureEvidenceSequence = evidence
    ds.ContentSequence = [language, observer, procedure, library, measurements]
    return ds
