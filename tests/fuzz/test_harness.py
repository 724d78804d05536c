"""The fuzz harness itself: the Part 10 walk, seeded mutations, the plan and the watchdog."""

from __future__ import annotations

import json
from pathlib import Path
from random import Random

import pytest
from pydicom import dcmread
from pydicom.uid import ImplicitVRLittleEndian

from galactoview.paths import sample_dicom_dir
from tests.fuzz import mutators
from tests.fuzz.harness import SHARES, _write_synthetic, plan, run_campaign
from tests.helpers import make_mg_dataset, write_dataset


@pytest.mark.parametrize("implicit", [False, True])
def test_walk_finds_every_top_level_element(tmp_path: Path, implicit: bool) -> None:
    ds = make_mg_dataset(rows=20, columns=10)
    if implicit:
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    data = write_dataset(ds, tmp_path / "a.dcm").read_bytes()
    layout = mutators.walk(data)
    assert layout.implicit is implicit
    rows = layout.top_level(0x00280010)
    assert rows is not None
    assert rows.vr == (None if implicit else "US")
    assert data[rows.value_offset : rows.end] == (20).to_bytes(2, "little")
    top = [e.tag for e in layout.elements if e.depth == 0]
    assert top == sorted(top)
    assert {0x00020010, 0x00540220, 0x7FE00010} <= set(top)  # meta, a sequence, pixels
    assert layout.elements[-1].end == len(data)


def test_walk_follows_nested_sequences_and_fragments(tmp_path: Path) -> None:
    ds = make_mg_dataset()
    ds.compress("1.2.840.10008.1.2.5")  # RLE Lossless: encapsulated fragments
    data = write_dataset(ds, tmp_path / "rle.dcm").read_bytes()
    layout = mutators.walk(data)
    assert layout.elements[-1].tag == 0xFFFEE0DD  # the pixel data's sequence delimiter
    assert layout.elements[-1].end == len(data)
    assert max(e.depth for e in layout.elements) >= 2  # code items inside the view sequence


def test_a_set_value_keeps_the_file_meta_group_length_right(tmp_path: Path) -> None:
    data = write_dataset(make_mg_dataset(), tmp_path / "a.dcm").read_bytes()
    values = {"MediaStorageSOPInstanceUID": ("1.2.3.4.5.6.7",)}
    mutant = mutators.mutate_value(data, Random(0), values)
    (tmp_path / "b.dcm").write_bytes(mutant.data)
    ds = dcmread(tmp_path / "b.dcm")
    assert ds.file_meta.MediaStorageSOPInstanceUID == "1.2.3.4.5.6.7"
    assert ds.Rows == 64
    assert "MediaStorageSOPInstanceUID" in mutant.description


def test_an_absent_attribute_is_inserted_in_tag_order(tmp_path: Path) -> None:
    data = write_dataset(make_mg_dataset(), tmp_path / "a.dcm").read_bytes()
    mutant = mutators.mutate_value(data, Random(0), {"NumberOfFrames": ("1000",)})
    (tmp_path / "b.dcm").write_bytes(mutant.data)
    ds = dcmread(tmp_path / "b.dcm")
    assert ds.NumberOfFrames == 1000
    assert mutant.description == "insert NumberOfFrames = '1000'"


def test_mutations_are_a_function_of_the_seed(tmp_path: Path) -> None:
    data = write_dataset(make_mg_dataset(), tmp_path / "a.dcm").read_bytes()

    def part10(seed: str) -> mutators.Mutation:
        return mutators.mutate_part10(data, Random(seed), mutators.IMAGE, header_only=False)

    assert part10("7/1") == part10("7/1")
    assert len({part10(f"7/{i}").data for i in range(40)}) >= 35
    text = json.dumps({"0040A730": {"vr": "SQ", "Value": [{"0040A160": {"vr": "UT"}}]}})
    assert mutators.mutate_json(text, Random("7/1")) == mutators.mutate_json(text, Random("7/1"))


def test_json_nesting_goes_deeper_than_the_recursion_limit() -> None:
    text = json.dumps({"0040A730": {"vr": "SQ", "Value": [{"0040A160": {"vr": "UT"}}]}})
    depths = set()
    for seed in range(300):
        mutant = mutators.mutate_json(text, Random(seed))
        if "nested" in mutant.description:
            depths.add(mutant.data.count(b'"Value": ['))
    assert max(depths) > 10_000


def test_the_plan_gives_each_entry_its_share() -> None:
    jobs = plan(1, 600)
    assert len(jobs) == 600
    assert jobs == plan(1, 600)
    assert jobs != plan(2, 600)
    for entry, source, share in SHARES:
        assert sum(1 for j in jobs if (j.entry, j.source) == (entry, source)) >= int(share * 600)


def test_the_watchdog_reports_a_hang_a_crash_and_a_memory_hog_and_goes_on(
    tmp_path: Path,
) -> None:
    if not sample_dicom_dir().is_dir():
        pytest.skip(f"no sample study in {sample_dicom_dir()}")
    campaign = run_campaign(
        tmp_path,
        count=5,
        call_timeout=3.0,
        memory_limit_mib=64,
        baseline=False,
        inject={1: "hang", 2: "crash", 3: "memory"},
    )
    assert [o.index for o in campaign.outcomes] == [0, 1, 2, 3, 4]
    failures = [o.failure for o in campaign.outcomes[1:4]]
    assert failures == ["hang", "crash", "memory"], campaign.summary()
    assert "SIGKILL" in campaign.outcomes[2].detail
    assert campaign.restarts == 3
    assert all(Path(o.kept).is_dir() for o in campaign.outcomes[1:4])


def test_the_synthetic_images_are_the_same_bytes_in_every_run(tmp_path: Path) -> None:
    # Mutations aim at byte offsets: a different UID length would move every element.
    _write_synthetic(tmp_path / "a")
    _write_synthetic(tmp_path / "b")
    first = {p.name: p.read_bytes() for p in (tmp_path / "a").iterdir()}
    assert len(first) == 9
    assert first == {p.name: p.read_bytes() for p in (tmp_path / "b").iterdir()}
