"""Lossless round trip of other writers' SRs: what GalactoView does not model is kept (issue 13).

Each third-party SR the tests build or hold (highdicom's TID 1410 groups with foreign
content, dcmjs/OHIF's TID 1501 groups as built in pydicom, and the 16 marks dcmjs's
adapter itself wrote) is decoded, one finding is edited, the annotations are
encoded and decoded again: every group of the findings left alone is the source's, item
for item (the whole group's DICOM JSON equal).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset

from galactoview.annotations import codes
from galactoview.annotations.document import ReplaceFinding, StudyDocument
from galactoview.annotations.model import (
    AlgorithmIdentification,
    AnnotationSet,
    Finding,
    FindingType,
    ForeignFinding,
    ImageRegion,
)
from galactoview.dicom.mammography import Laterality
from galactoview.location import codes as location_codes
from galactoview.sr import sidecar
from galactoview.sr.foreign import PRIVATE_CREATOR, PRIVATE_GROUP, with_image_laterality
from galactoview.sr.persistence import open_annotations, save_annotations
from galactoview.sr.sr_codec import (
    DecodeResult,
    StoredLocation,
    decode,
    encode,
    from_json,
    to_json,
)
from tests.helpers import sample_headers, sample_images
from tests.interop.dcmjs import FIXTURES
from tests.sr import third_party
from tests.sr.ohif_style import ohif_report
from tests.sr.test_sr_codec import validate
from tests.sr.test_sr_codec_kept import groups_of

Group = dict[str, Any]
TRACKING_UID = "112040"
FINDING_OF_REGION = codes.FINDING_OF_REGION.value

BUILDERS: dict[str, Callable[[], Dataset]] = {
    "highdicom": third_party.highdicom_report,
    "ohif": ohif_report,
    # written by dcmjs's Cornerstone3D adapter itself (tests/interop/node/generate.mjs)
    "dcmjs": lambda: dcmread(FIXTURES / "all_tools.dcm"),
}


@pytest.fixture(scope="module")
def headers() -> list[Dataset]:
    return list(sample_headers().values())


def groups(dataset: Dataset) -> list[Group]:
    """The measurement groups of an SR as DICOM JSON (PS3.18 Annex F)."""
    return groups_of(json.loads(to_json(dataset)))


def children(group: Group) -> list[Group]:
    items: list[Group] = group["0040A730"]["Value"]
    return items


def concept(item: Group) -> str:
    value: str = item["0040A043"]["Value"][0]["00080100"]["Value"][0]
    return value


def tracking_uid(group: Group) -> str | None:
    """The finding a group belongs to: the one its link names, else its tracking UID."""
    found = None
    for item in children(group):
        if concept(item) == FINDING_OF_REGION:
            link: str = item["0040A124"]["Value"][0]
            return link
        if concept(item) == TRACKING_UID and found is None:
            found = item["0040A124"]["Value"][0]
    return found


def moved(finding: Finding) -> Finding:
    """The finding with its first region moved one pixel right."""
    first = finding.regions[0]
    points = tuple((c + 1.0, r) for c, r in first.points)
    region = ImageRegion(first.sop_instance_uid, first.frame, first.graphic_type, points)
    return replace(finding, regions=(region, *finding.regions[1:]))


def impressed(finding: Finding) -> Finding:
    """The finding with another impression."""
    return replace(finding, impression=codes.INTRADUCTAL_PAPILLOMA)


def round_trip(result: DecodeResult, annotations: AnnotationSet, headers: list[Dataset]) -> Dataset:
    """Encode, write as DICOM JSON and read back."""
    return from_json(to_json(encode(annotations, headers, locations=result.locations)))


def by_short_id(annotations: AnnotationSet, short_id: str) -> Finding:
    return next(f for f in annotations.findings if f.short_id == short_id)


@pytest.mark.parametrize("edit", [moved, impressed], ids=["move a point", "impression"])
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_untouched_groups_are_written_back_item_by_item(
    name: str, edit: Callable[[Finding], Finding], headers: list[Dataset]
) -> None:
    source = from_json(to_json(BUILDERS[name]()))
    source_groups = groups(source)
    result = decode(source)
    for edited in result.annotations.findings:
        annotations = result.annotations.replace_finding(edit(edited))
        saved = groups(round_trip(result, annotations, headers))
        untouched = [g for g in source_groups if tracking_uid(g) != edited.tracking_uid]
        changed = [g for g in saved if tracking_uid(g) == edited.tracking_uid]
        assert len(untouched) == len(source_groups) - 1
        for group in untouched:
            assert saved.count(group) == 1, edited.short_id
        assert len(saved) == len(untouched) + len(changed)
        assert changed and all(g not in source_groups for g in changed)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_an_unedited_report_is_written_back_whole(name: str, headers: list[Dataset]) -> None:
    source = from_json(to_json(BUILDERS[name]()))
    result = decode(source)
    assert groups(round_trip(result, result.annotations, headers)) == groups(source)


def test_a_binary_sr_keeps_its_groups_too(headers: list[Dataset], tmp_path: Path) -> None:
    built = third_party.highdicom_report()
    path = third_party.save(built, tmp_path / "other.dcm")
    result = decode(dcmread(path))
    edit = by_short_id(result.annotations, "EDIT-C")
    saved = groups(round_trip(result, result.annotations.replace_finding(moved(edit)), headers))
    for group in groups(from_json(to_json(built)))[:2]:  # MASS-A and DEFECT-B
        assert group in saved


def test_the_foreign_finding_code_and_its_evaluations_survive_its_own_edit(
    headers: list[Dataset],
) -> None:
    source = from_json(to_json(third_party.highdicom_report()))
    (mass_source, *_rest) = groups(source)
    result = decode(source)
    mass = by_short_id(result.annotations, "MASS-A")
    assert mass.other_text == "Mass (SCT 4147007)"  # what the findings list and report show
    assert result.annotations.foreign(mass.tracking_uid) is not None

    saved = round_trip(result, result.annotations.replace_finding(moved(mass)), headers)
    (mass_saved,) = [g for g in groups(saved) if tracking_uid(g) == mass.tracking_uid]
    assert mass_saved != mass_source
    # The same items in the same order: tracking, Finding "Mass", both finding sites,
    # the algorithm identification, the Long Axis, Margins, the region, the text.
    assert [concept(i) for i in children(mass_saved)] == [concept(i) for i in children(mass_source)]
    kept = [i for i in children(mass_source) if i["0040A040"]["Value"][0] not in {"SCOORD", "NUM"}]
    for item in kept:
        assert item in children(mass_saved)
    finding = next(i for i in children(mass_saved) if concept(i) == "121071")
    assert finding["0040A168"]["Value"][0]["00080100"]["Value"] == ["4147007"]
    assert not any(concept(i) == codes.OTHER_FINDING_TEXT.value for i in children(mass_saved))
    margins = [i for i in children(mass_saved) if concept(i) == "111037"]
    assert [m["0040A168"]["Value"][0]["00080104"]["Value"] for m in margins] == [["Circumscribed"]]

    again = decode(saved)
    read = by_short_id(again.annotations, "MASS-A")
    assert read == moved(mass)
    # Saved again unchanged: the group written after the edit comes back as it is.
    assert mass_saved in groups(round_trip(again, again.annotations, headers))


def test_our_own_report_keeps_nothing_foreign(headers: list[Dataset]) -> None:
    result = decode(third_party.sample_report())
    assert result.annotations.findings
    assert result.annotations.foreign_findings == ()
    written = encode(result.annotations, headers, locations=result.locations)
    assert (PRIVATE_GROUP, 0x0010) not in written  # no private block without kept findings


def test_our_sr_names_the_findings_it_kept_and_reads_them_back(
    headers: list[Dataset], tmp_path: Path
) -> None:
    result = decode(from_json(to_json(third_party.highdicom_report())))
    ours = replace(
        result.annotations.findings[0],
        tracking_uid="1.2.3.4",
        short_id="FD-9",
        finding_type=FindingType.CYST_FILL,
        other_text="",
    )
    annotations = result.annotations.with_finding(ours)
    mass = by_short_id(annotations, "MASS-A")
    written = encode(annotations.replace_finding(moved(mass)), headers)
    block = written.private_block(PRIVATE_GROUP, PRIVATE_CREATOR)
    listed = [f.tracking_uid for f in result.annotations.findings]
    assert list(block[0x01].value) == listed
    path = tmp_path / "kept.dcm"
    written.save_as(path, enforce_file_format=True)
    validate(path)  # dciodvfy: 0 errors with the private block
    again = decode(dcmread(path)).annotations
    assert [r.tracking_uid for r in again.foreign_findings] == listed  # not FD-9: ours
    assert again.foreign(mass.tracking_uid) is not None


def test_a_finding_without_site_takes_its_images_laterality_and_gets_no_site(
    headers: list[Dataset],
) -> None:
    source = from_json(to_json(third_party.highdicom_report()))
    defect_source = groups(source)[1]
    result = decode(source)
    assert by_short_id(result.annotations, "DEFECT-B").laterality is Laterality.UNKNOWN
    lateralities = {r.sop_instance_uid: r.image_laterality for r in sample_images()}
    annotations = with_image_laterality(result.annotations, lateralities)
    defect = by_short_id(annotations, "DEFECT-B")
    assert defect.laterality is Laterality.LEFT
    assert by_short_id(annotations, "MASS-A").laterality is Laterality.LEFT  # from its site

    assert defect_source in groups(round_trip(result, annotations, headers))
    saved = groups(round_trip(result, annotations.replace_finding(moved(defect)), headers))
    (defect_saved,) = [g for g in saved if tracking_uid(g) == defect.tracking_uid]
    assert not any(concept(i) == codes.FINDING_SITE.value for i in children(defect_saved))
    margins = next(i for i in children(defect_source) if concept(i) == "111037")
    assert margins in children(defect_saved)


def test_laterality_of_images_that_disagree_is_not_guessed() -> None:
    result = decode(from_json(to_json(third_party.highdicom_report())))
    defect = by_short_id(result.annotations, "DEFECT-B")
    uid = defect.regions[0].sop_instance_uid
    unchanged = with_image_laterality(result.annotations, {uid: Laterality.UNKNOWN})
    assert unchanged is result.annotations


def test_undo_of_an_edit_writes_the_source_groups_again(headers: list[Dataset]) -> None:
    source = from_json(to_json(third_party.highdicom_report()))
    result = decode(source)
    document = StudyDocument(result.annotations)
    mass = by_short_id(result.annotations, "MASS-A")
    document.execute(ReplaceFinding(moved(mass)))
    assert document.annotations.foreign_findings == result.annotations.foreign_findings
    document.undo()
    assert groups(round_trip(result, document.annotations, headers)) == groups(source)
    document.redo()
    saved = groups(round_trip(result, document.annotations, headers))
    assert saved[1:] == groups(source)[1:]
    assert saved[0] != groups(source)[0]


def test_a_deleted_foreign_finding_is_not_written(headers: list[Dataset]) -> None:
    source = from_json(to_json(third_party.highdicom_report()))
    result = decode(source)
    mass = by_short_id(result.annotations, "MASS-A")
    annotations = result.annotations.without_finding(mass.tracking_uid)
    saved = groups(round_trip(result, annotations, headers))
    assert saved == groups(source)[1:]


def test_records_are_checked() -> None:
    mass = decode(from_json(to_json(third_party.highdicom_report()))).annotations.findings[0]
    with pytest.raises(ValueError, match="at least one"):
        ForeignFinding(mass, ())
    record = ForeignFinding(mass, ("{}",))
    with pytest.raises(ValueError, match="one foreign record"):
        AnnotationSet(mass.regions[0].sop_instance_uid, foreign_findings=(record, record))


def test_the_sidecar_keeps_them_through_save_reload_save(
    headers: list[Dataset], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    study = tmp_path / "study"
    third_party.unmarked_ductogram(study)
    source = from_json(to_json(third_party.highdicom_report()))
    uid = str(source.StudyInstanceUID)
    path = study / sidecar.sidecar_name(uid)
    path.write_text(to_json(source), encoding="utf-8")
    mass_source, defect_source, _edit_source = groups(source)

    opened = open_annotations(uid, sorted(study.glob("*.dcm")))
    mass = by_short_id(opened.annotations, "MASS-A")
    edited = opened.annotations.replace_finding(moved(mass))
    saved, target = save_annotations(edited, headers, opened.target, opened.locations)
    first = groups(from_json(path.read_text("utf-8")))
    assert defect_source in first
    (mass_first,) = [g for g in first if tracking_uid(g) == mass.tracking_uid]
    # The same session saves again (nothing changed) ...
    save_annotations(saved, headers, target, opened.locations)
    assert groups(from_json(path.read_text("utf-8"))) == first
    # ... and after a reload, too.
    reopened = open_annotations(uid, sorted(study.glob("*.dcm")))
    assert by_short_id(reopened.annotations, "MASS-A") == moved(mass)
    save_annotations(reopened.annotations, headers, reopened.target, reopened.locations)
    last = groups(from_json(path.read_text("utf-8")))
    assert defect_source in last
    assert mass_first in last
    assert mass_source not in last


def test_a_location_is_added_to_an_edited_foreign_finding_only(headers: list[Dataset]) -> None:
    source = from_json(to_json(third_party.highdicom_report()))
    mass_source = groups(source)[0]
    result = decode(source)
    mass = by_short_id(result.annotations, "MASS-A")
    quadrant = location_codes.UPPER_OUTER_QUADRANT
    here = StoredLocation(location_codes.CLOCK_HOURS[2], quadrant, None, 31.4)
    located = {mass.tracking_uid: here}
    unchanged = groups(encode(result.annotations, headers, locations=located))
    assert unchanged[0] == mass_source  # nipples placed since: shown, not written into it
    edited = result.annotations.replace_finding(moved(mass))
    saved = decode(encode(edited, headers, locations=located))
    assert saved.locations[mass.tracking_uid] == here


def test_an_edited_ohif_mark_keeps_its_tool_and_name(headers: list[Dataset]) -> None:
    """dcmjs's Tracking Identifier names the tool: kept through an edit (OHIF rehydrates it)."""
    source = from_json(to_json(BUILDERS["dcmjs"]()))
    result = decode(source)
    for finding in result.annotations.findings:
        edited = replace(finding, note="checked on the ML")
        annotations = result.annotations.replace_finding(edited)
        saved = round_trip(result, annotations, headers)
        again = next(
            f for f in decode(saved).annotations.findings if f.tracking_uid == finding.tracking_uid
        )
        assert (again.finding_type, again.other_text) == (finding.finding_type, finding.other_text)
        assert again.note == "checked on the ML"
        written = [g for g in groups(saved) if tracking_uid(g) == finding.tracking_uid]
        assert len(written) == len(finding.regions)  # one group per region, each its own UID
        uids = {
            i["0040A124"]["Value"][0]
            for g in written
            for i in children(g)
            if concept(i) == TRACKING_UID
        }
        assert len(uids) == len(written)
        for group in written:
            (identifier,) = [item for item in children(group) if concept(item) == "112039"]
            assert identifier["0040A160"]["Value"][0].startswith("Cornerstone3DTools@^0.1.0:")


def test_another_writers_algorithm_is_read_and_written_once(headers: list[Dataset]) -> None:
    """TID 4019 of a third-party group is the finding's algorithm; an edit keeps one copy."""
    source = from_json(to_json(third_party.highdicom_report()))
    result = decode(source)
    mass = by_short_id(result.annotations, "MASS-A")
    assert mass.algorithm == AlgorithmIdentification("OtherCAD", "2.1")
    newer = replace(moved(mass), algorithm=AlgorithmIdentification("OtherCAD", "2.2"))
    saved = round_trip(result, result.annotations.replace_finding(newer), headers)
    (group,) = [g for g in groups(saved) if tracking_uid(g) == mass.tracking_uid]
    texts = [
        (concept(i), i["0040A160"]["Value"][0])
        for i in children(group)
        if concept(i) in {"111001", "111003"}
    ]
    assert texts == [("111001", "OtherCAD"), ("111003", "2.2")]
    assert by_short_id(decode(saved).annotations, "MASS-A").algorithm == newer.algorithm
