from __future__ import annotations

import pytest
from pydicom.uid import generate_uid

from galactoview.annotations import codes
from galactoview.annotations.model import (
    AnnotationSet,
    DuctSegment,
    Finding,
    FindingType,
    GraphicType,
    ImageRegion,
    Laterality,
    MeasurementValue,
    NippleLandmark,
    children,
    descendants,
    next_segment_id,
    next_short_id,
    roots,
    validate_duct_tree,
)

IMAGE = generate_uid(entropy_srcs=["model-test-image"])
STUDY = generate_uid(entropy_srcs=["model-test-study"])


def point(x: float = 1.0, y: float = 2.0) -> ImageRegion:
    return ImageRegion(IMAGE, None, GraphicType.POINT, ((x, y),))


def polyline(*points: tuple[float, float]) -> ImageRegion:
    return ImageRegion(IMAGE, None, GraphicType.POLYLINE, points)


def finding(kind: FindingType = FindingType.CYST_FILL, short_id: str = "CY-1") -> Finding:
    other = "something" if kind is FindingType.OTHER else ""
    return Finding.new(kind, [point()], short_id=short_id, other_text=other)


@pytest.mark.parametrize(
    ("graphic_type", "count"),
    [
        (GraphicType.POINT, 2),
        (GraphicType.CIRCLE, 1),
        (GraphicType.CIRCLE, 3),
        (GraphicType.ELLIPSE, 3),
        (GraphicType.ELLIPSE, 5),
        (GraphicType.POLYLINE, 1),
    ],
)
def test_wrong_point_counts_are_rejected(graphic_type: GraphicType, count: int) -> None:
    points = tuple((float(i), float(i + 1)) for i in range(count))
    with pytest.raises(ValueError, match="point"):
        ImageRegion(IMAGE, None, graphic_type, points)


def test_ellipse_with_three_points_raises() -> None:
    with pytest.raises(ValueError, match="ELLIPSE has 4"):
        ImageRegion(IMAGE, None, GraphicType.ELLIPSE, ((0, 0), (2, 0), (1, 1)))


def test_region_rejects_bad_values() -> None:
    with pytest.raises(ValueError):
        ImageRegion(IMAGE, None, GraphicType.POINT, ((-1.0, 2.0),))
    with pytest.raises(ValueError):
        ImageRegion(IMAGE, None, GraphicType.POINT, ((float("nan"), 2.0),))
    with pytest.raises(ValueError, match="frame"):
        ImageRegion(IMAGE, 0, GraphicType.POINT, ((1.0, 2.0),))
    with pytest.raises(ValueError, match="UID"):
        ImageRegion("not a uid", None, GraphicType.POINT, ((1.0, 2.0),))
    with pytest.raises(ValueError, match="distinct"):
        polyline((0, 0), (1, 1), (0, 0))


def test_region_normalises_to_float32_and_strings() -> None:
    region = ImageRegion(IMAGE, 2, "POLYLINE", ((0.1, 0.2), (3, 4)))  # type: ignore[arg-type]
    assert region.graphic_type is GraphicType.POLYLINE
    assert region.points[0][0] == pytest.approx(0.1, abs=1e-7)
    assert region.points[0][0] != 0.1  # float32 precision, as Graphic Data (FL)
    assert isinstance(region.points[1][0], float)
    assert region.frame == 2


def test_polyline_closed_when_first_equals_last() -> None:
    assert polyline((0, 0), (4, 0), (4, 4), (0, 0)).is_closed
    assert not polyline((0, 0), (4, 0), (4, 4)).is_closed


def test_finding_validation() -> None:
    with pytest.raises(ValueError, match="other_text"):
        Finding.new(FindingType.OTHER, [point()], short_id="OT-1")
    with pytest.raises(ValueError, match="other_text"):
        Finding.new(FindingType.CYST_FILL, [point()], short_id="CY-1", other_text="x")
    with pytest.raises(ValueError, match="region"):
        Finding.new(FindingType.CYST_FILL, [], short_id="CY-1")
    measurement = MeasurementValue(codes.AREA, 1.0, codes.SQUARE_MILLIMETER, "x", region_index=1)
    with pytest.raises(ValueError, match="missing region"):
        Finding.new(FindingType.CYST_FILL, [point()], short_id="CY-1", measurements=[measurement])


def test_finding_types_have_cid_6057_codes() -> None:
    assert FindingType.INTRALUMINAL_FILLING_DEFECT.code.value == "111425"
    assert FindingType.MULTIPLE_FILLING_DEFECTS.code.value == "111426"
    assert FindingType.MAMMARY_DUCT_ECTASIA.code.value == "22049009"
    assert FindingType.from_code(codes.CYST_FILL) is FindingType.CYST_FILL
    assert FindingType.from_code(codes.NIPPLE) is None


def test_new_findings_get_distinct_valid_tracking_uids() -> None:
    a, b = finding(), finding(short_id="CY-2")
    assert a.tracking_uid != b.tracking_uid
    assert a.tracking_uid.startswith("1.2.826.0.1.3680043.8.498.")


def test_short_id_numbering() -> None:
    assert next_short_id([], FindingType.INTRALUMINAL_FILLING_DEFECT) == "FD-1"
    existing = [finding(FindingType.CYST_FILL, "CY-1"), finding(FindingType.CYST_FILL, "CY-3")]
    assert next_short_id(existing, FindingType.CYST_FILL) == "CY-4"
    assert next_short_id(existing, FindingType.MULTIPLE_FILLING_DEFECTS) == "MFD-1"
    prefixes = {kind: next_short_id([], kind) for kind in FindingType}
    assert prefixes == {
        FindingType.INTRALUMINAL_FILLING_DEFECT: "FD-1",
        FindingType.MULTIPLE_FILLING_DEFECTS: "MFD-1",
        FindingType.ABRUPT_DUCT_TERMINATION: "ADT-1",
        FindingType.EXTRAVASATION: "EX-1",
        FindingType.DUCT_NARROWING: "DN-1",
        FindingType.CYST_FILL: "CY-1",
        FindingType.MAMMARY_DUCT_ECTASIA: "DE-1",
        FindingType.OTHER: "OT-1",
    }


def make_tree() -> tuple[DuctSegment, DuctSegment, DuctSegment, DuctSegment]:
    root = DuctSegment.new(polyline((0, 0), (5, 5)), short_id="DS-1")
    left = DuctSegment.new(polyline((5, 5), (8, 2)), short_id="DS-2", parent_uid=root.tracking_uid)
    right = DuctSegment.new(polyline((5, 5), (9, 9)), short_id="DS-3", parent_uid=root.tracking_uid)
    grand = DuctSegment.new(polyline((8, 2), (9, 1)), short_id="DS-4", parent_uid=left.tracking_uid)
    return root, left, right, grand


def test_duct_tree_helpers() -> None:
    root, left, right, grand = tree = make_tree()
    assert roots(tree) == (root,)
    assert children(tree, root.tracking_uid) == (left, right)
    assert descendants(tree, root.tracking_uid) == (left, grand, right)
    assert next_segment_id(tree) == "DS-5"
    validate_duct_tree(tree)


def test_duct_cycle_and_missing_parent_rejected() -> None:
    root, left, _right, _grand = make_tree()
    cyclic_root = DuctSegment(
        root.tracking_uid, root.short_id, left.tracking_uid, root.region, root.laterality
    )
    with pytest.raises(ValueError, match="cycle"):
        validate_duct_tree([cyclic_root, left])
    with pytest.raises(ValueError, match="cycle"):
        AnnotationSet(STUDY, duct_segments=(cyclic_root, left))
    with pytest.raises(ValueError, match="does not exist"):
        AnnotationSet(STUDY, duct_segments=(left,))
    with pytest.raises(ValueError, match="own parent"):
        DuctSegment(root.tracking_uid, "DS-9", root.tracking_uid, root.region, Laterality.LEFT)


def test_duct_segment_must_be_open_polyline() -> None:
    with pytest.raises(ValueError, match="open POLYLINE"):
        DuctSegment.new(polyline((0, 0), (4, 0), (4, 4), (0, 0)), short_id="DS-1")
    with pytest.raises(ValueError, match="open POLYLINE"):
        DuctSegment.new(point(), short_id="DS-1")


def test_annotation_set_pure_updates() -> None:
    empty = AnnotationSet(STUDY)
    first = finding()
    one = empty.with_finding(first)
    assert empty.findings == ()
    assert one.findings == (first,)
    edited = Finding(
        first.tracking_uid,
        first.short_id,
        first.finding_type,
        "",
        Laterality.LEFT,
        first.regions,
        note="changed",
    )
    assert one.replace_finding(edited).finding(first.tracking_uid).note == "changed"
    assert one.without_finding(first.tracking_uid).findings == ()
    with pytest.raises(KeyError):
        empty.without_finding(first.tracking_uid)
    with pytest.raises(ValueError, match="unique"):
        one.with_finding(first)


def test_annotation_set_segments_and_landmarks() -> None:
    root, left, right, grand = make_tree()
    trees = AnnotationSet(STUDY)
    for segment in (root, left, right, grand):
        trees = trees.with_duct_segment(segment)
    assert trees.without_duct_segment(left.tracking_uid).duct_segments == (root, right)
    assert trees.without_duct_segment(root.tracking_uid).duct_segments == ()
    moved = DuctSegment(
        grand.tracking_uid, grand.short_id, right.tracking_uid, grand.region, grand.laterality
    )
    assert trees.replace_duct_segment(moved).duct_segment(grand.tracking_uid).parent_uid == (
        right.tracking_uid
    )

    nipple = NippleLandmark(IMAGE, None, (3.0, 4.0))
    with_nipple = trees.with_landmark(nipple)
    assert with_nipple.landmark(IMAGE) == nipple
    moved_nipple = NippleLandmark(IMAGE, None, (5.0, 6.0))
    assert with_nipple.with_landmark(moved_nipple).landmarks == (moved_nipple,)
    assert with_nipple.without_landmark(IMAGE).landmarks == ()
    with pytest.raises(ValueError, match="one nipple"):
        AnnotationSet(STUDY, landmarks=(nipple, moved_nipple))


def test_objects_are_immutable() -> None:
    item = finding()
    with pytest.raises(AttributeError):
        item.note = "x"  # type: ignore[misc]


def test_findings_compare_with_and_without_an_impression() -> None:
    from galactoview.annotations import codes
    from galactoview.annotations.model import Finding, FindingType, GraphicType, ImageRegion

    region = ImageRegion("1.2.3.4", None, GraphicType.POINT, ((1.0, 2.0),))
    plain = Finding.new(FindingType.CYST_FILL, [region], short_id="CY-1")
    papilloma = Finding(
        plain.tracking_uid,
        "CY-1",
        FindingType.CYST_FILL,
        "",
        plain.laterality,
        plain.regions,
        impression=codes.INTRADUCTAL_PAPILLOMA,
    )
    assert plain != papilloma and papilloma != plain
    assert papilloma == Finding(*[getattr(papilloma, name) for name in Finding.__slots__])
    assert len({plain, papilloma}) == 2
