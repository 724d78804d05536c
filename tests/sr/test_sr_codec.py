from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import highdicom as hd
import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes as sr_codes
from pydicom.uid import generate_uid

from galactoview.annotations import codes
from galactoview.annotations.geometry import measure_region, path_length_measurement
from galactoview.annotations.model import (
    AlgorithmIdentification,
    AnnotationSet,
    ChestWallLine,
    DuctSegment,
    Finding,
    FindingType,
    GraphicType,
    ImageRegion,
    Laterality,
    NippleLandmark,
)
from galactoview.dicom.calibration import calibration_from_dataset
from galactoview.location import codes as location_codes
from galactoview.location.study import locate_study
from galactoview.sr.sr_codec import (
    SRDecodeError,
    StoredLocation,
    decode,
    encode,
    from_json,
    region_tracking_uid,
    to_json,
)
from tests.helpers import sample_headers, sample_images

NOTE = "Papillom vermutet – Größe ≈ 4 mm, 乳頭"
OBSERVER = "Müller^Anna"
XA_STORAGE = "1.2.840.10008.5.1.4.1.1.12.1"


@pytest.fixture(scope="module")
def headers() -> dict[str, Dataset]:
    """Headers of the sample study's images by file stem, plus a 3-frame stand-in "XA"."""
    result = sample_headers()
    multiframe = copy.deepcopy(result["03_LCC_POST"])
    multiframe.SOPClassUID = XA_STORAGE
    multiframe.Modality = "XA"
    multiframe.NumberOfFrames = 3
    multiframe.SOPInstanceUID = generate_uid(entropy_srcs=["sr-codec-test-multiframe"])
    result["MULTIFRAME"] = multiframe
    return result


def sources(headers: dict[str, Dataset]) -> list[Dataset]:
    """The ductogram's images first, then the prior (another study) and the stand-in."""
    return sorted(headers.values(), key=lambda ds: ds.StudyDate != "20260312")


def region(
    image: Dataset, kind: GraphicType, *points: tuple[float, float], frame: int | None = None
) -> ImageRegion:
    return ImageRegion(image.SOPInstanceUID, frame, kind, points)


def build(headers: dict[str, Dataset]) -> AnnotationSet:
    """Every graphic type, a finding on CC and ML, a branching duct tree, frames, landmarks."""
    cc, ml = headers["03_LCC_POST"], headers["04_LML_POST"]
    cc_cal, ml_cal = calibration_from_dataset(cc), calibration_from_dataset(ml)
    ellipse = region(
        cc, GraphicType.ELLIPSE, (900.5, 700.25), (940.5, 700.25), (920.5, 690), (920.5, 710)
    )
    circle = region(ml, GraphicType.CIRCLE, (850.0, 1100.0), (862.5, 1100.0))
    defect = Finding.new(
        FindingType.INTRALUMINAL_FILLING_DEFECT,
        [ellipse, circle],
        short_id="FD-1",
        laterality=Laterality.LEFT,
        measurements=measure_region(ellipse, cc_cal) + measure_region(circle, ml_cal, 1),
        impression=codes.INTRADUCTAL_PAPILLOMA,
        note=NOTE,
        observer=OBSERVER,
    )
    closed = region(cc, GraphicType.POLYLINE, (100, 100), (140, 100), (140, 130), (100, 100))
    ectasia = Finding.new(
        FindingType.MAMMARY_DUCT_ECTASIA,
        [closed],
        short_id="DE-1",
        laterality=Laterality.LEFT,
        measurements=measure_region(closed, cc_cal),
    )
    open_line = region(ml, GraphicType.POLYLINE, (300, 300), (320, 330), (330, 360))
    narrowing = Finding.new(
        FindingType.DUCT_NARROWING,
        [open_line],
        short_id="DN-1",
        laterality=Laterality.LEFT,
        measurements=measure_region(open_line, ml_cal),
    )
    other = Finding.new(
        FindingType.OTHER,
        [region(cc, GraphicType.POINT, (12.5, 13.5))],
        short_id="OT-1",
        other_text="Luftblase im Katheter",
        laterality=Laterality.LEFT,
    )
    framed = Finding.new(
        FindingType.CYST_FILL,
        [region(headers["MULTIFRAME"], GraphicType.POINT, (40.0, 41.0), frame=2)],
        short_id="CY-1",
    )
    prior = headers["07_LCC"]
    on_prior = Finding.new(
        FindingType.EXTRAVASATION,
        [region(prior, GraphicType.CIRCLE, (500, 500), (510, 510))],
        short_id="EX-1",
        laterality=Laterality.RIGHT,
    )
    trunk = region(cc, GraphicType.POLYLINE, (1500, 1000), (1300, 950), (1100, 900))
    root = DuctSegment.new(
        trunk,
        short_id="DS-1",
        laterality=Laterality.LEFT,
        path_length=path_length_measurement(trunk, cc_cal),
    )
    upper = region(cc, GraphicType.POLYLINE, (1100, 900), (950, 800))
    lower = region(cc, GraphicType.POLYLINE, (1100, 900), (950, 1000))
    child_a = DuctSegment.new(
        upper,
        short_id="DS-2",
        parent_uid=root.tracking_uid,
        laterality=Laterality.LEFT,
        path_length=path_length_measurement(upper, cc_cal),
        note="Verzweigung",
    )
    child_b = DuctSegment.new(
        lower, short_id="DS-3", parent_uid=root.tracking_uid, laterality=Laterality.LEFT
    )
    grandchild = DuctSegment.new(
        region(cc, GraphicType.POLYLINE, (950, 800), (900, 760)),
        short_id="DS-4",
        parent_uid=child_a.tracking_uid,
        laterality=Laterality.LEFT,
    )
    return AnnotationSet(
        cc.StudyInstanceUID,
        findings=(defect, ectasia, narrowing, other, framed, on_prior),
        duct_segments=(root, child_a, child_b, grandchild),
        landmarks=(
            NippleLandmark(cc.SOPInstanceUID, None, (1700.0, 1050.0)),
            NippleLandmark(ml.SOPInstanceUID, None, (1710.0, 1020.0)),
        ),
        observer=OBSERVER,
    )


def revised(original: AnnotationSet, sr: Dataset) -> AnnotationSet:
    """What decoding ``sr`` (encoded from ``original``) must give."""
    return replace(
        original,
        sop_instance_uid=sr.SOPInstanceUID,
        previous_revision_uid=original.sop_instance_uid,
        series_instance_uid=sr.SeriesInstanceUID,
    )


def test_round_trip_through_json(headers: dict[str, Dataset]) -> None:
    original = build(headers)
    sr = encode(original, sources(headers))
    result = decode(from_json(to_json(sr)))
    assert result.problems == ()
    assert result.annotations == revised(original, sr)
    defect = result.annotations.findings[0]
    assert defect.note == NOTE
    assert [m.region_index for m in defect.measurements] == [0, 0, 0, 1, 1]
    assert defect.measurements[0].calibration_source == (
        calibration_from_dataset(headers["03_LCC_POST"]).short_label()
    )
    assert result.annotations.findings[4].regions[0].frame == 2
    assert result.annotations.duct_segments[2].path_length is None


@pytest.mark.parametrize(
    "kind", [GraphicType.POINT, GraphicType.CIRCLE, GraphicType.ELLIPSE, GraphicType.POLYLINE]
)
def test_every_graphic_type_is_present(headers: dict[str, Dataset], kind: GraphicType) -> None:
    annotations = build(headers)
    regions = [r for f in annotations.findings for r in f.regions]
    assert kind in {r.graphic_type for r in regions}
    text = to_json(encode(annotations, sources(headers)))
    assert kind.value in re.findall(r'"00700023": \{"Value": \["(\w+)"\]', text)
    if kind is GraphicType.POLYLINE:  # open and closed
        assert {r.is_closed for r in regions if r.graphic_type is kind} == {True, False}


def test_json_is_sorted_utf8_and_loads_everywhere(headers: dict[str, Dataset]) -> None:
    text = to_json(encode(build(headers), sources(headers)))

    def check(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        tags = [key for key, _ in pairs if re.fullmatch(r"[0-9A-F]{8}", key)]
        assert tags == sorted(tags)
        return dict(pairs)

    payload = json.loads(text, object_pairs_hook=check)
    assert payload["00080005"]["Value"] == ["ISO_IR 192"]
    assert NOTE in text
    plain = Dataset.from_json(text)
    assert plain.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.33"
    sr = hd.sr.ComprehensiveSR.from_dataset(from_json(text))
    report = hd.sr.MeasurementReport.from_sequence(sr.content)
    planar = report.get_planar_roi_measurement_groups()
    # 7 finding regions + 2 nipple landmarks; 4 TID 1501 duct groups
    assert len(planar) == 9
    assert len(report.get_image_measurement_groups()) == 4
    uids = [str(group.tracking_uid) for group in planar]
    # One tracking UID per group (OHIF merges groups sharing one): FD-1 on CC and ML is
    # two groups with the same Tracking Identifier, the ML group naming the CC group's UID.
    assert len(set(uids)) == 9
    fd1 = [g for g in planar if g.tracking_identifier == "FD-1"]
    assert len(fd1) == 2
    link = [
        str(item.UID) for item in fd1[1][0].ContentSequence if item.name == codes.FINDING_OF_REGION
    ]
    assert link == [str(fd1[0].tracking_uid)]
    assert region_tracking_uid(str(fd1[0].tracking_uid), 1) == str(fd1[1].tracking_uid)


def test_binary_part10_validates_and_round_trips(
    headers: dict[str, Dataset], tmp_path: Path
) -> None:
    original = build(headers)
    sr = encode(original, sources(headers))
    path = tmp_path / "annotations.dcm"
    from_json(to_json(sr)).save_as(path, enforce_file_format=True)
    reread = dcmread(path)
    assert reread.SpecificCharacterSet == "ISO_IR 192"
    result = decode(reread)
    assert result.problems == ()
    assert result.annotations == revised(original, sr)

    assert b"Intraluminal filling defect" in validate(path)


def validate(path: Path) -> bytes:
    """Run dciodvfy (0 errors) and dsrdump (exit 0) on a file; return the dump."""
    if shutil.which("dciodvfy") is None:
        pytest.skip("dciodvfy (dicom3tools) is not on PATH")
    check = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, check=False)
    errors = [line for line in (check.stdout + check.stderr).splitlines() if "Error" in line]
    assert errors == []
    if shutil.which("dsrdump") is None:
        pytest.skip("dsrdump (DCMTK) is not on PATH")
    dump = subprocess.run(["dsrdump", str(path)], capture_output=True, check=False)
    assert dump.returncode == 0
    return dump.stdout


def test_revisions_get_new_uids_and_keep_tracking_uids(headers: dict[str, Dataset]) -> None:
    original = build(headers)
    first_sr = encode(original, sources(headers))
    first = decode(from_json(to_json(first_sr))).annotations
    second_sr = encode(first, sources(headers))
    assert second_sr.SOPInstanceUID != first_sr.SOPInstanceUID
    assert second_sr.SeriesInstanceUID == first_sr.SeriesInstanceUID
    predecessor = second_sr.PredecessorDocumentsSequence[0]
    assert predecessor.StudyInstanceUID == original.study_instance_uid
    reference = predecessor.ReferencedSeriesSequence[0].ReferencedSOPSequence[0]
    assert reference.ReferencedSOPInstanceUID == first_sr.SOPInstanceUID
    second = decode(from_json(to_json(second_sr))).annotations
    assert second.previous_revision_uid == first_sr.SOPInstanceUID
    assert second.sop_instance_uid == second_sr.SOPInstanceUID
    assert [f.tracking_uid for f in second.findings] == [f.tracking_uid for f in original.findings]
    assert [s.tracking_uid for s in second.duct_segments] == [
        s.tracking_uid for s in original.duct_segments
    ]
    assert "PredecessorDocumentsSequence" not in first_sr


def test_empty_sequences_without_value_are_accepted(headers: dict[str, Dataset]) -> None:
    original = build(headers)
    sr = encode(original, sources(headers))

    def drop_empty(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: drop_empty(value)
                for key, value in node.items()
                if not (key == "Value" and value == [])
            }
        if isinstance(node, list):
            return [drop_empty(value) for value in node]
        return node

    payload = json.loads(to_json(sr))
    assert '"Value": []' in to_json(sr)  # pydicom writes empty sequences so
    dcmtk_style = json.dumps(drop_empty(payload))
    assert '"Value": []' not in dcmtk_style
    assert decode(Dataset.from_json(dcmtk_style)).annotations == revised(original, sr)


def test_empty_annotation_set_round_trips(headers: dict[str, Dataset], tmp_path: Path) -> None:
    empty = AnnotationSet(headers["03_LCC_POST"].StudyInstanceUID, observer="")
    sr = encode(empty, sources(headers))
    dataset = from_json(to_json(sr))
    assert decode(dataset).annotations == revised(empty, sr)
    hd.sr.ComprehensiveSR.from_dataset(dataset)
    path = tmp_path / "empty.dcm"
    dataset.save_as(path, enforce_file_format=True)
    assert b"Imaging Measurements" in validate(path)


def test_strict_writing_rejects_unknown_images(headers: dict[str, Dataset]) -> None:
    annotations = build(headers)
    with pytest.raises(ValueError, match="not among the source images"):
        encode(annotations, [headers["03_LCC_POST"]])
    with pytest.raises(ValueError, match="annotated study"):
        encode(annotations, [headers["07_LCC"]])


def foreign_sr(headers: dict[str, Dataset]) -> Dataset:
    """A TID 1500 SR made with highdicom alone, as other software would write it."""
    cc = headers["03_LCC_POST"]
    source = hd.sr.SourceImageForRegion(cc.SOPClassUID, cc.SOPInstanceUID)
    lesion = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=generate_uid(), identifier="Lesion 7"),
        referenced_region=hd.sr.ImageRegion(
            "ELLIPSE", np.array([[10, 20], [50, 20], [30, 10], [30, 30]], float), source
        ),
        finding_type=sr_codes.SCT.Fibroadenoma,
        finding_sites=[hd.sr.FindingSite(sr_codes.SCT.Breast, laterality=sr_codes.SCT.Right)],
        measurements=[hd.sr.Measurement(sr_codes.SCT.LongAxis, 4.2, sr_codes.UCUM.Millimeter)],
    )
    cyst = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(identifier="Cyst"),
        referenced_region=hd.sr.ImageRegion("POINT", np.array([[5.0, 6.0]]), source),
        finding_type=sr_codes.DCM.CystFill,
    )
    regionless = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(identifier="Global"),
        measurements=[hd.sr.Measurement(sr_codes.SCT.Area, 3.0, sr_codes.UCUM.SquareMillimeter)],
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(
            observer_person_context=hd.sr.ObserverContext(
                observer_type=sr_codes.DCM.Person,
                observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(
                    name="Other^Reader"
                ),
            )
        ),
        procedure_reported=sr_codes.SCT.MammaryDuctogram,
        imaging_measurements=[lesion, cyst, regionless],
    )
    return hd.sr.ComprehensiveSR(
        evidence=[cc],
        content=report,
        series_instance_uid=generate_uid(),
        series_number=77,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="Other Vendor",
    )


def test_foreign_sr_with_unknown_finding_type(headers: dict[str, Dataset], tmp_path: Path) -> None:
    sr = foreign_sr(headers)
    path = tmp_path / "foreign.dcm"
    sr.save_as(path, enforce_file_format=True)
    for dataset in (dcmread(path), Dataset.from_json(to_json(sr))):
        result = decode(dataset)
        lesion, cyst = result.annotations.findings
        assert lesion.finding_type is FindingType.OTHER
        assert lesion.other_text == "Fibroadenoma (SCT 254845004)"
        assert lesion.short_id == "Lesion 7"
        assert lesion.laterality is Laterality.RIGHT
        assert lesion.regions[0].graphic_type is GraphicType.ELLIPSE
        assert [(m.value, m.calibration_source) for m in lesion.measurements] == [
            (4.2, "calibration not recorded")
        ]
        assert cyst.finding_type is FindingType.CYST_FILL
        assert cyst.regions[0].points == ((5.0, 6.0),)
        assert result.annotations.observer == "Other^Reader"
        assert len(result.problems) == 1
        assert "no image region" in result.problems[0]


def test_malformed_group_is_skipped_with_a_problem(headers: dict[str, Dataset]) -> None:
    original = build(headers)
    sr = from_json(to_json(encode(original, sources(headers))))
    measurements = sr.ContentSequence[-1]
    assert measurements.ConceptNameCodeSequence[0].CodeValue == "126010"
    first_group = measurements.ContentSequence[0]
    scoord = next(item for item in first_group.ContentSequence if item.ValueType == "SCOORD")
    scoord.GraphicData = [1.0, 2.0, 3.0]  # an ELLIPSE with 1.5 points
    result = decode(sr)
    assert len(result.problems) == 1
    assert "measurement group 1" in result.problems[0]
    defect = result.annotations.findings[0]
    assert defect.short_id == "FD-1"
    assert len(defect.regions) == 1  # the ML circle survived
    assert [m.region_index for m in defect.measurements] == [0, 0]


def test_decode_rejects_non_sr() -> None:
    with pytest.raises(ValueError, match="structured report"):
        decode(Dataset())


# --- the plain-dataset writer builds highdicom's tree -----------------------------------


def _hd_measurement(
    value: Any,
    coordinates: hd.sr.CoordinatesForMeasurement | None = None,
    *,
    labelled: bool = True,
) -> hd.sr.Measurement:
    measurement = hd.sr.Measurement(
        name=value.name,
        value=value.value,
        unit=value.unit,
        referenced_coordinates=[coordinates] if coordinates is not None else None,
    )
    label = hd.sr.TextContentItem(
        name=codes.CALIBRATION_LABEL,
        value=value.calibration_source,
        relationship_type="HAS CONCEPT MOD",
    )
    num = measurement[0]
    if not labelled:
        return measurement
    if "ContentSequence" in num:
        num.ContentSequence.insert(0, label)
    else:
        num.ContentSequence = [label]
    return measurement


def _hd_site(laterality: Laterality) -> hd.sr.FindingSite:
    lateralities = {
        Laterality.LEFT: codes.LEFT,
        Laterality.RIGHT: codes.RIGHT,
        Laterality.BOTH: codes.RIGHT_AND_LEFT,
    }
    return hd.sr.FindingSite(codes.BREAST, laterality=lateralities.get(laterality))


def _hd_source(region: ImageRegion, images: dict[str, Dataset]) -> hd.sr.SourceImageForRegion:
    frames = [region.frame] if region.frame is not None else None
    sop_class = images[region.sop_instance_uid].SOPClassUID
    return hd.sr.SourceImageForRegion(sop_class, region.sop_instance_uid, frames)


def _hd_text(name: Any, value: str) -> hd.sr.TextContentItem:
    return hd.sr.TextContentItem(name=name, value=value, relationship_type="CONTAINS")


def _hd_algorithm(
    algorithm: AlgorithmIdentification | None,
) -> hd.sr.AlgorithmIdentification | None:
    if algorithm is None:
        return None
    return hd.sr.AlgorithmIdentification(
        algorithm.name, algorithm.version, list(algorithm.parameters) or None
    )


def highdicom_groups(annotations: AnnotationSet, images: dict[str, Dataset]) -> list[Dataset]:
    """The measurement groups as highdicom's TID 1410/1501 classes build them (reference)."""
    groups: list[Dataset] = []
    for finding in annotations.findings:
        for index, region in enumerate(finding.regions):
            measurements = [
                _hd_measurement(m) for m in finding.measurements if m.region_index == index
            ]
            impression = (
                [
                    hd.sr.QualitativeEvaluation(
                        codes.DIFFERENTIAL_DIAGNOSIS_IMPRESSION, finding.impression
                    )
                ]
                if finding.impression is not None
                else None
            )
            group = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
                tracking_identifier=hd.sr.TrackingIdentifier(
                    uid=region_tracking_uid(finding.tracking_uid, index),
                    identifier=finding.short_id,
                ),
                referenced_region=hd.sr.ImageRegion(
                    region.graphic_type.value,
                    np.array(region.points, dtype=np.float64),
                    _hd_source(region, images),
                ),
                finding_type=finding.finding_type.code,
                finding_sites=[_hd_site(finding.laterality)],
                measurements=measurements or None,
                qualitative_evaluations=impression,
                algorithm_id=_hd_algorithm(finding.algorithm),
            )
            container = group[0]
            if finding.finding_type is FindingType.OTHER:
                container.ContentSequence.append(
                    _hd_text(codes.OTHER_FINDING_TEXT, finding.other_text)
                )
            if finding.note:
                container.ContentSequence.append(_hd_text(codes.COMMENT, finding.note))
            if finding.observer:
                container.ContentSequence.append(
                    hd.sr.PnameContentItem(
                        name=codes.PERSON_OBSERVER_NAME,
                        value=finding.observer,
                        relationship_type="HAS OBS CONTEXT",
                    )
                )
            if index:
                container.ContentSequence.append(
                    hd.sr.UIDRefContentItem(
                        name=codes.FINDING_OF_REGION,
                        value=finding.tracking_uid,
                        relationship_type="HAS OBS CONTEXT",
                    )
                )
            groups.append(container)
    for segment in annotations.duct_segments:
        coordinates = hd.sr.CoordinatesForMeasurement(
            "POLYLINE",
            np.array(segment.region.points, dtype=np.float64),
            _hd_source(segment.region, images),
        )
        assert segment.path_length is not None or segment.short_id in {"DS-3", "DS-4"}
        if segment.path_length is None:
            continue  # the {pixel} length is computed by the codec: compared below
        segment_group = hd.sr.MeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(
                uid=segment.tracking_uid, identifier=segment.short_id
            ),
            finding_type=codes.DUCT_SEGMENT,
            finding_sites=[_hd_site(segment.laterality)],
            measurements=[_hd_measurement(segment.path_length, coordinates, labelled=False)],
            algorithm_id=_hd_algorithm(segment.algorithm),
        )
        container = segment_group[0]
        # The label in the group: OHIF draws a NUM's SCOORD only when it is its one child.
        container.ContentSequence.append(
            _hd_text(codes.CALIBRATION_LABEL, segment.path_length.calibration_source)
        )
        if segment.parent_uid is not None:
            container.ContentSequence.append(
                hd.sr.UIDRefContentItem(
                    name=codes.PARENT_DUCT_SEGMENT,
                    value=segment.parent_uid,
                    relationship_type="CONTAINS",
                )
            )
        if segment.note:
            container.ContentSequence.append(_hd_text(codes.COMMENT, segment.note))
        groups.append(container)
    return groups


def _groups_json(sr: Dataset) -> list[str]:
    measurements = next(
        item for item in sr.ContentSequence if item.ConceptNameCodeSequence[0].CodeValue == "126010"
    )
    return [json.dumps(g.to_json_dict(), sort_keys=True) for g in measurements.ContentSequence]


def test_groups_are_the_tree_highdicom_builds(headers: dict[str, Dataset]) -> None:
    annotations = build(headers)
    images = {str(ds.SOPInstanceUID): ds for ds in sources(headers)}
    ours = _groups_json(encode(annotations, sources(headers)))
    reference = [
        json.dumps(g.to_json_dict(), sort_keys=True) for g in highdicom_groups(annotations, images)
    ]
    # 7 finding regions, DS-1 and DS-2 (calibrated), then DS-3, DS-4 ({pixel}), 2 nipples
    assert len(ours) == 13
    assert ours[:9] == reference
    assert all('"{pixel}"' in group for group in ours[9:11])
    assert all('"Nipple"' in group for group in ours[11:])


def test_strict_writing_rejects_a_long_code_meaning(headers: dict[str, Dataset]) -> None:
    annotations = build(headers)
    defect = annotations.findings[0]
    long_meaning = replace(
        defect, impression=type(codes.INTRADUCTAL_PAPILLOMA)("1234", "99X", "m" * 65)
    )
    with pytest.raises(ValueError, match="64 characters"):
        encode(replace(annotations, findings=(long_meaning,)), sources(headers))


def test_from_json_builds_what_pydicom_builds(headers: dict[str, Dataset]) -> None:
    header = copy.deepcopy(headers["03_LCC_POST"])
    document = header.to_json_dict()
    document["00091001"] = {"vr": "LO", "Value": ["a", None]}  # null inside a value list
    document["00091002"] = {"vr": "DS", "Value": [1.5, 2]}
    document["00091003"] = {"vr": "US", "Value": []}
    document["00091004"] = {"vr": "SQ"}
    document["00091005"] = {"vr": "OB", "InlineBinary": "AAEC"}
    document["00091006"] = {"vr": "AT", "Value": ["00100010"]}
    sr_text = to_json(encode(build(headers), sources(headers)))
    for text in (json.dumps(document), sr_text):
        ours, theirs = from_json(text), Dataset.from_json(text)
        assert ours == theirs
        pairs = zip(ours.iterall(), theirs.iterall(), strict=True)
        for mine, reference in pairs:
            assert (mine.tag, mine.VR, type(mine.value)) == (
                reference.tag,
                reference.VR,
                type(reference.value),
            )
            assert repr(mine.value) == repr(reference.value)
    assert from_json(json.dumps(document))[0x00091005].value == b"\x00\x01\x02"
    with pytest.raises(SRDecodeError, match="JSON object"):
        from_json("[]")


def test_codec_leaves_the_garbage_collector_as_it_found_it(headers: dict[str, Dataset]) -> None:
    import gc

    was_enabled = gc.isenabled()  # the suite keeps it disabled between tests
    try:
        gc.enable()
        text = to_json(encode(build(headers), sources(headers)))
        decode(from_json(text))
        assert gc.isenabled()
        gc.disable()
        decode(from_json(text))
        assert not gc.isenabled()
    finally:
        (gc.enable if was_enabled else gc.disable)()


# --- locations in the breast (CID 6018 / 6020 / 6024, Distance from nipple 121242) -------


def _group_items(sr: Dataset, short_id: str) -> list[list[Dataset]]:
    """The content items of every measurement group of a finding."""
    measurements = next(
        item for item in sr.ContentSequence if item.ConceptNameCodeSequence[0].CodeValue == "126010"
    )
    return [
        list(group.ContentSequence)
        for group in measurements.ContentSequence
        if group.ContentSequence[0].TextValue == short_id
    ]


def _named(items: list[Dataset], value: str) -> list[Dataset]:
    return [i for i in items if i.ConceptNameCodeSequence[0].CodeValue == value]


def test_locations_are_stored_in_every_group_and_read_back(
    headers: dict[str, Dataset], tmp_path: Path
) -> None:
    original = build(headers)
    locations = locate_study(original, sample_images())
    defect = original.findings[0]
    breast = locations[defect.tracking_uid].breast
    assert breast is not None and breast.distance_mm is not None and breast.depth is not None
    sr = encode(original, sources(headers), locations=locations)
    path = tmp_path / "located.dcm"
    from_json(to_json(sr)).save_as(path, enforce_file_format=True)
    dump = validate(path)
    assert b"Clockface or region" in dump and b"Distance from nipple" in dump

    groups = _group_items(sr, "FD-1")
    assert len(groups) == 2  # the CC and the ML region: both carry the location
    for items in groups:
        (clock,) = _named(items, "111014")
        assert clock.ValueType == "CODE"
        assert clock.ConceptCodeSequence[0].CodeValue == breast.region_code.value
        (quadrant,) = _named(items, "111048")
        assert quadrant.ConceptCodeSequence[0].CodeValue == breast.quadrant.code.value
        (depth,) = _named(items, "111020")
        assert depth.ConceptCodeSequence[0].CodeValue == breast.depth.code.value
        (distance,) = _named(items, "121242")
        assert distance.ValueType == "NUM"
        assert distance.MeasuredValueSequence[0].MeasurementUnitsCodeSequence[0].CodeValue == "mm"
        assert str(distance.MeasuredValueSequence[0].NumericValue) == f"{breast.distance_mm:.1f}"
    # Findings on one view only (or on no nipple-marked image) have no location.
    assert all(not _named(items, "111014") for items in _group_items(sr, "DE-1"))

    result = decode(dcmread(path))
    assert result.problems == ()
    assert result.annotations == revised(original, sr)  # the distance is no measurement
    assert dict(result.locations) == {defect.tracking_uid: StoredLocation.from_breast(breast)}
    stored = result.locations[defect.tracking_uid]
    assert stored.clock_hour == breast.clock_hour
    assert stored.quadrant == breast.quadrant.code
    assert stored.depth == breast.depth.code
    assert stored.distance_from_nipple_mm == pytest.approx(breast.distance_mm, abs=0.05)
    assert stored.oblique_approximated is False


def test_decoded_locations_are_written_again_with_the_oblique_note(
    headers: dict[str, Dataset], tmp_path: Path
) -> None:
    original = build(headers)
    uid = original.findings[0].tracking_uid
    wanted = StoredLocation(
        location_codes.SUBAREOLAR_REGION,
        location_codes.UPPER_OUTER_QUADRANT,
        None,  # no chest-wall reference: no depth item
        12.3,
        oblique_approximated=True,
    )
    sr = encode(original, sources(headers), locations={uid: wanted})
    (items, _) = _group_items(sr, "FD-1")
    (clock,) = _named(items, "111014")
    assert clock.ContentSequence[0].RelationshipType == "HAS CONCEPT MOD"
    assert clock.ContentSequence[0].ConceptNameCodeSequence[0].CodeValue == ("OBLIQUE-APPROX")
    assert _named(items, "111020") == []
    path = tmp_path / "oblique.dcm"
    from_json(to_json(sr)).save_as(path, enforce_file_format=True)
    validate(path)
    result = decode(from_json(to_json(sr)))
    assert result.locations == {uid: wanted}
    assert result.locations[uid].subareolar and result.locations[uid].clock_hour is None


def test_sr_without_locations_decodes_with_none(headers: dict[str, Dataset]) -> None:
    original = build(headers)
    sr = encode(original, sources(headers))
    assert b"111014" not in to_json(sr).encode()
    result = decode(from_json(to_json(sr)))
    assert result.problems == ()
    assert result.locations == {}
    assert result.annotations == revised(original, sr)


def test_partial_and_foreign_location_items_are_tolerated(headers: dict[str, Dataset]) -> None:
    original = build(headers)
    uid = original.findings[0].tracking_uid
    partial = StoredLocation(None, location_codes.LOWER_INNER_QUADRANT, location_codes.MIDDLE, 40.0)
    sr = from_json(to_json(encode(original, sources(headers), locations={uid: partial})))
    for items in _group_items(sr, "FD-1"):
        (distance,) = _named(items, "121242")
        unit = distance.MeasuredValueSequence[0].MeasurementUnitsCodeSequence[0]
        unit.CodeValue, unit.CodeMeaning = "cm", "centimeter"  # another writer's unit
    result = decode(sr)
    assert result.problems == ()
    assert result.locations == {
        uid: StoredLocation(None, location_codes.LOWER_INNER_QUADRANT, location_codes.MIDDLE, None)
    }
    assert len(result.annotations.findings[0].measurements) == len(
        original.findings[0].measurements
    )


def test_a_legacy_srt_clock_code_gives_its_hour() -> None:
    """SNOMED RT codes equal their SNOMED CT twins (PS3.16 Annex O) though they hash apart."""
    from pydicom.sr.coding import Code

    from galactoview.sr.sr_codec import StoredLocation

    stored = StoredLocation(Code("F-01783", "SRT", "3 o'clock position"), None, None, 31.0)
    assert stored.clock_hour == 3


def test_the_readers_chest_walls_round_trip_and_validate(
    headers: dict[str, Dataset], tmp_path: Path
) -> None:
    original = build(headers)
    mlo = headers["07_LCC"]  # any image of the evidence: the line is on its pixels
    ml = headers["04_LML_POST"]
    walls = {
        ml.SOPInstanceUID: ChestWallLine((40.5, 0.0), (12.25, 2000.0)),
        mlo.SOPInstanceUID: ChestWallLine((300.0, 10.0), (0.0, 900.0)),
    }
    sr = encode(original, sources(headers), chest_walls=walls)
    result = decode(from_json(to_json(sr)))
    assert result.problems == ()
    assert result.chest_walls == walls
    assert result.annotations == revised(original, sr)  # no finding made of a line
    report = hd.sr.MeasurementReport.from_sequence(
        hd.sr.ComprehensiveSR.from_dataset(from_json(to_json(sr))).content
    )
    lines = [
        group
        for group in report.get_planar_roi_measurement_groups()
        if group.finding_type is not None
        and group.finding_type.value == location_codes.CHEST_WALL.value
    ]
    assert [g.tracking_identifier for g in lines] == ["CHEST-WALL-1", "CHEST-WALL-2"]
    assert lines[0].roi is not None and lines[0].roi.graphic_type.value == "POLYLINE"
    assert location_codes.CHEST_WALL.value == "78904004"
    assert location_codes.CHEST_WALL.scheme_designator == "SCT"
    again = encode(result.annotations, sources(headers), chest_walls=result.chest_walls)
    assert decode(again).chest_walls == walls  # the tracking UIDs stay with the image
    tracking = {str(g.tracking_uid) for g in lines}
    assert tracking == {
        str(g.tracking_uid)
        for g in hd.sr.MeasurementReport.from_sequence(
            hd.sr.ComprehensiveSR.from_dataset(from_json(to_json(again))).content
        ).get_planar_roi_measurement_groups()
        if (g.tracking_identifier or "").startswith("CHEST-WALL")
    }
    path = tmp_path / "walls.dcm"
    from_json(to_json(sr)).save_as(path, enforce_file_format=True)
    assert b"Chest wall" in validate(path)


def test_an_sr_holding_only_a_chest_wall_is_not_empty(headers: dict[str, Dataset]) -> None:
    empty = AnnotationSet(headers["03_LCC_POST"].StudyInstanceUID)
    uid = headers["04_LML_POST"].SOPInstanceUID
    line = ChestWallLine((40.0, 0.0), (10.0, 2000.0))
    result = decode(from_json(to_json(encode(empty, sources(headers), chest_walls={uid: line}))))
    assert result.chest_walls == {uid: line}
    assert result.annotations.findings == () and result.annotations.unreadable_groups == ()


def test_a_broken_chest_wall_group_is_reported_and_kept(headers: dict[str, Dataset]) -> None:
    empty = AnnotationSet(headers["03_LCC_POST"].StudyInstanceUID)
    uid = headers["04_LML_POST"].SOPInstanceUID
    sr = encode(empty, sources(headers), chest_walls={uid: ChestWallLine((1.0, 2.0), (3.0, 4.0))})
    text = to_json(sr).replace("[1.0, 2.0, 3.0, 4.0]", "[1.0, 2.0, 1.0, 2.0]")
    assert text != to_json(sr)
    result = decode(from_json(text))
    assert result.chest_walls == {}
    assert len(result.annotations.unreadable_groups) == 1
    assert "two distinct points" in result.problems[0]


def test_an_sr_without_chest_walls_has_none(headers: dict[str, Dataset]) -> None:
    assert decode(encode(build(headers), sources(headers))).chest_walls == {}


def test_region_groups_of_one_finding_come_back_together_in_both_spellings(
    headers: dict[str, Dataset],
) -> None:
    """Ours since issue 13: one UID per region group plus the link; before: a shared UID."""
    original = build(headers)
    sr = from_json(to_json(encode(original, sources(headers))))
    assert decode(sr).annotations.findings == original.findings
    fd1 = original.findings[0]
    assert fd1.short_id == "FD-1" and len(fd1.regions) == 2
    # Rewrite the ML group as earlier revisions spelled it: the finding's UID, no link.
    measurements = next(
        item for item in sr.ContentSequence if item.ConceptNameCodeSequence[0].CodeValue == "126010"
    )
    ml_group = [
        g for g in measurements.ContentSequence if g.ContentSequence[0].TextValue == "FD-1"
    ][1]
    (uid_item,) = _named(list(ml_group.ContentSequence), codes.TRACKING_UID.value)
    assert fd1.tracking_uid != uid_item.UID
    uid_item.UID = fd1.tracking_uid
    (link,) = _named(list(ml_group.ContentSequence), codes.FINDING_OF_REGION.value)
    ml_group.ContentSequence.remove(link)
    assert decode(sr).annotations.findings == original.findings


def test_a_segment_label_under_its_num_as_earlier_revisions_wrote_it_is_read(
    headers: dict[str, Dataset],
) -> None:
    original = build(headers)
    sr = from_json(to_json(encode(original, sources(headers))))
    measurements = next(
        item for item in sr.ContentSequence if item.ConceptNameCodeSequence[0].CodeValue == "126010"
    )
    moved = 0
    for group in measurements.ContentSequence:
        items = list(group.ContentSequence)
        labels = _named(items, codes.CALIBRATION_LABEL.value)
        nums = [i for i in items if i.ValueType == "NUM"]
        if labels and nums and "ContentSequence" in nums[0]:
            (label,) = labels
            group.ContentSequence.remove(label)
            label.RelationshipType = "HAS CONCEPT MOD"
            nums[0].ContentSequence.insert(0, label)
            moved += 1
    assert moved == 4  # DS-1 … DS-4
    assert decode(sr).annotations.duct_segments == original.duct_segments


def test_a_volumetric_roi_group_is_listed_not_placed_and_kept(headers: dict[str, Dataset]) -> None:
    """TID 1411 (a segmentation's segment): named in the problems, kept for the next save."""
    segment = hd.sr.ReferencedSegment(
        sop_class_uid="1.2.840.10008.5.1.4.1.1.66.4",
        sop_instance_uid=generate_uid(),
        segment_number=1,
        source_series=hd.sr.SourceSeriesForSegmentation(generate_uid()),
    )
    volumetric = hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(identifier="lesion 1"),
        referenced_segment=segment,
    )[0]
    original = build(headers)
    sr = from_json(to_json(encode(original, sources(headers))))
    measurements = next(
        item for item in sr.ContentSequence if item.ConceptNameCodeSequence[0].CodeValue == "126010"
    )
    measurements.ContentSequence.append(volumetric)
    result = decode(sr)
    number = len(measurements.ContentSequence)
    assert result.problems == (
        f"measurement group {number} skipped: volumetric ROI (TID 1411: a segmentation or "
        "3-D region) listed, not placed",
    )
    assert result.annotations.findings == original.findings
    (kept,) = result.annotations.unreadable_groups
    assert '"lesion 1"' in kept


def test_the_readers_organization_is_the_observers_tid_1003_row(
    headers: dict[str, Dataset], tmp_path: Path
) -> None:
    original = replace(
        build(headers), observer="Curie^Marie^^Dr", observer_organization="Institut du Radium"
    )
    sr = encode(original, sources(headers))
    path = tmp_path / "sr.dcm"
    from_json(to_json(sr)).save_as(path, enforce_file_format=True)
    dump = validate(path)
    assert b"Person Observer's Organization Name" in dump
    assert b"Institut du Radium" in dump
    read = decode(dcmread(path)).annotations
    assert (read.observer, read.observer_organization) == ("Curie^Marie^^Dr", "Institut du Radium")
    nobody = decode(encode(replace(original, observer=""), sources(headers))).annotations
    assert (nobody.observer, nobody.observer_organization) == ("", "")  # the device observes


def test_a_suggested_nipple_round_trips_with_its_status(headers: dict[str, Dataset]) -> None:
    original = build(headers)
    confirmed, other = original.landmarks
    suggested = replace(other, confirmed=False)
    annotations = replace(original, landmarks=(confirmed, suggested))
    sr = encode(annotations, sources(headers))
    text = to_json(sr)
    # Only the unconfirmed nipple's group holds the "Landmark status" evaluation.
    assert text.count(codes.SUGGESTED_LANDMARK.value) == 1
    assert text.count(codes.LANDMARK_STATUS.value) == 1
    result = decode(from_json(text))
    assert result.problems == ()
    assert result.annotations == revised(annotations, sr)
    landmarks = {n.sop_instance_uid: n.confirmed for n in result.annotations.landmarks}
    assert landmarks == {confirmed.sop_instance_uid: True, suggested.sop_instance_uid: False}


# --- TID 4019: the algorithm an accepted suggestion came from (issue 16) ----------------

SUGGESTER = AlgorithmIdentification(
    "GalactoView duct-tree suggestion", "1.0", ("threshold=0.35", "min_length_mm=2")
)


def with_algorithm(annotations: AnnotationSet) -> AnnotationSet:
    """FD-1 (two regions) and DS-2 (a child segment) started as accepted suggestions."""
    findings = tuple(
        replace(f, algorithm=SUGGESTER) if f.short_id == "FD-1" else f for f in annotations.findings
    )
    segments = tuple(
        replace(s, algorithm=replace(SUGGESTER, parameters=())) if s.short_id == "DS-2" else s
        for s in annotations.duct_segments
    )
    return replace(annotations, findings=findings, duct_segments=segments)


def _algorithm_rows(group: str) -> list[tuple[str, str, str]]:
    """(relationship, concept value, text) of a group's TID 4019 items, in order."""
    items = json.loads(group)["0040A730"]["Value"]
    return [
        (
            item["0040A010"]["Value"][0],
            item["0040A043"]["Value"][0]["00080100"]["Value"][0],
            item["0040A160"]["Value"][0],
        )
        for item in items
        if item["0040A043"]["Value"][0]["00080100"]["Value"][0] in {"111001", "111002", "111003"}
    ]


def test_an_accepted_suggestion_names_its_algorithm_in_every_group(
    headers: dict[str, Dataset], tmp_path: Path
) -> None:
    original = with_algorithm(build(headers))
    sr = encode(original, sources(headers))
    groups = _groups_json(sr)
    fd_groups = [g for g in groups if '"FD-1"' in g]
    ds2 = next(g for g in groups if '"DS-2"' in g)
    expected = [
        ("HAS CONCEPT MOD", "111001", "GalactoView duct-tree suggestion"),
        ("HAS CONCEPT MOD", "111003", "1.0"),
        ("HAS CONCEPT MOD", "111002", "threshold=0.35"),
        ("HAS CONCEPT MOD", "111002", "min_length_mm=2"),
    ]
    assert len(fd_groups) == 2
    assert [_algorithm_rows(g) for g in fd_groups] == [expected, expected]
    assert _algorithm_rows(ds2) == expected[:2]
    assert sum(bool(_algorithm_rows(g)) for g in groups) == 3  # no other group names one

    path = tmp_path / "suggested.dcm"
    from_json(to_json(sr)).save_as(path, enforce_file_format=True)
    result = decode(dcmread(path))
    assert result.problems == ()
    assert result.annotations == revised(original, sr)
    defect = next(f for f in result.annotations.findings if f.short_id == "FD-1")
    assert defect.algorithm == SUGGESTER
    assert defect.observer == OBSERVER
    segment = next(s for s in result.annotations.duct_segments if s.short_id == "DS-2")
    assert segment.algorithm == AlgorithmIdentification("GalactoView duct-tree suggestion", "1.0")
    assert all(f.algorithm is None for f in result.annotations.findings if f.short_id != "FD-1")

    dump = validate(path).decode(errors="replace")  # dciodvfy: 0 errors; dsrdump reads it
    assert dump.count('<has concept mod TEXT:(,,"Algorithm Name")="GalactoView duct-tree') == 3
    assert dump.count('<has concept mod TEXT:(,,"Algorithm Version")="1.0">') == 3
    assert dump.count('<has concept mod TEXT:(,,"Algorithm Parameters")="threshold=0.35">') == 2


def test_the_algorithm_items_are_the_ones_highdicom_puts_after_the_site(
    headers: dict[str, Dataset],
) -> None:
    annotations = with_algorithm(build(headers))
    images = {str(ds.SOPInstanceUID): ds for ds in sources(headers)}
    ours = _groups_json(encode(annotations, sources(headers)))
    reference = [
        json.dumps(g.to_json_dict(), sort_keys=True) for g in highdicom_groups(annotations, images)
    ]
    assert '"111001"' in ours[0] and '"111001"' in reference[0]
    assert ours[:9] == reference


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("nested", AlgorithmIdentification("OtherCAD", "3.2", ("sensitivity=high",))),
        ("no version", AlgorithmIdentification("OtherCAD", "(version not recorded)")),
        ("empty name", None),
    ],
)
def test_other_spellings_of_tid_4019_are_read_without_a_crash(
    headers: dict[str, Dataset], spelling: str, expected: AlgorithmIdentification | None
) -> None:
    cc = headers["03_LCC_POST"]
    finding = Finding.new(
        FindingType.CYST_FILL, [region(cc, GraphicType.POINT, (5.0, 6.0))], short_id="CY-9"
    )
    annotations = AnnotationSet(cc.StudyInstanceUID, findings=(finding,))
    sr = from_json(to_json(encode(annotations, sources(headers))))
    group = _measurement_group_items(sr)[0]

    def text(value: str, name: str, meaning: str) -> Dataset:
        item = Dataset()
        item.RelationshipType = "HAS CONCEPT MOD"
        item.ValueType = "TEXT"
        concept = Dataset()
        concept.CodeValue, concept.CodingSchemeDesignator, concept.CodeMeaning = (
            value,
            "DCM",
            meaning,
        )
        item.ConceptNameCodeSequence = [concept]
        item.TextValue = name
        return item

    if spelling == "nested":  # version and parameter under the name, as older writers did
        name = text("111001", "OtherCAD", "Algorithm Name")
        name.ContentSequence = [
            text("111003", "3.2", "Algorithm Version"),
            text("111002", "sensitivity=high", "Algorithm Parameters"),
        ]
        items = [name]
    elif spelling == "no version":
        items = [text("111001", "OtherCAD", "Algorithm Name")]
    else:
        items = [text("111001", "  ", "Algorithm Name"), text("111003", "1", "Algorithm Version")]
    group.ContentSequence.extend(items)
    result = decode(sr)
    assert result.problems == ()
    (read,) = result.annotations.findings
    assert read.algorithm == expected
    assert read.regions == finding.regions


def _measurement_group_items(sr: Dataset) -> list[Dataset]:
    measurements = next(
        item for item in sr.ContentSequence if item.ConceptNameCodeSequence[0].CodeValue == "126010"
    )
    return list(measurements.ContentSequence)
