"""Tests of the image sources: a file, a zip member, a DICOMDIR entry, bytes in memory."""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
from pydicom.fileset import FileSet

from galactoview.dicom.loading import (
    ImageRecord,
    load_pixels,
    read_header,
    read_image_dataset,
    scan,
)
from galactoview.dicom.source import (
    BytesSource,
    DicomDirEntrySource,
    FileSource,
    ImageSource,
    ZipMemberSource,
)
from galactoview.imaging.pixel_cache import PixelCache
from tests.helpers import make_mg_dataset, write_mg


def _only(paths: list[Path]) -> ImageRecord:
    (record,) = scan(paths).images
    return record


def test_scan_gives_each_record_its_source(tmp_path: Path) -> None:
    file = write_mg(tmp_path / "plain" / "a.dcm", seed=1)
    archive = tmp_path / "study.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(file, "inner/a.dcm")
    fileset = FileSet()
    ds = make_mg_dataset(seed=2)
    ds.StudyTime, ds.StudyID = "101500", "1"  # a STUDY record needs them (PS3.3 F.5)
    fileset.add(ds)
    fileset.write(tmp_path / "media")

    plain = _only([file])
    assert plain.source == FileSource(file)
    assert (plain.path, plain.archive_member, plain.name) == (file, None, str(file))

    member = _only([archive])
    assert isinstance(member.source, ZipMemberSource)
    assert (member.path, member.archive_member) == (archive, "inner/a.dcm")
    assert member.name == f"{archive} [inner/a.dcm]"
    assert member.source.crc == zipfile.ZipFile(archive).getinfo("inner/a.dcm").CRC

    entry = _only([tmp_path / "media" / "DICOMDIR"])
    assert isinstance(entry.source, DicomDirEntrySource)
    assert entry.source.dicomdir == tmp_path / "media" / "DICOMDIR"
    assert entry.path.is_file() and entry.path.parent != tmp_path / "media"

    for record in (plain, member, entry):
        assert isinstance(record.source, ImageSource)
        assert pickle.loads(pickle.dumps(record)) == record  # travels to decode workers


def test_every_source_reads_the_same_header_dataset_and_pixels(tmp_path: Path) -> None:
    file = write_mg(tmp_path / "a.dcm", seed=3)
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.write(file, "a.dcm")
    plain, member = _only([file]), _only([archive])
    in_memory = BytesSource(file.read_bytes(), "1.2.3/a", tmp_path)
    expected = load_pixels(plain)
    np.testing.assert_array_equal(load_pixels(member), expected)
    for source in (plain.source, member.source, in_memory):
        header = source.read_header()
        assert "PixelData" not in header
        assert header.SOPInstanceUID == plain.sop_instance_uid
        assert read_header(source).SOPInstanceUID == plain.sop_instance_uid
        dataset = source.read_dataset()
        np.testing.assert_array_equal(dataset.pixel_array, expected)


def test_identity_changes_with_the_content_not_with_reading(tmp_path: Path) -> None:
    file = write_mg(tmp_path / "a.dcm", seed=4)
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(file, "a.dcm")
        out.write(file, "b.dcm")
    source = FileSource(file)
    first = source.identity()
    assert first.key == str(file.resolve())
    assert first.version == (file.stat().st_size, file.stat().st_mtime_ns)
    source.read_header()
    assert source.identity() == first
    os.utime(file, ns=(1, 1))
    assert source.identity() != first and source.identity().key == first.key

    a, b = ZipMemberSource(archive, "a.dcm"), ZipMemberSource(archive, "b.dcm")
    assert a.identity().key != b.identity().key  # one archive, two members
    before = a.identity()
    os.utime(archive, ns=(2, 2))
    assert a.identity() != before  # the archive was replaced: decode again

    data = file.read_bytes()
    assert BytesSource(data, "k").identity() == BytesSource(data, "k").identity()
    assert BytesSource(data, "k").identity() != BytesSource(data[:-2] + b"\1\1", "k").identity()


def test_pixel_cache_keys_on_the_source_identity(tmp_path: Path) -> None:
    file = write_mg(tmp_path / "a.dcm", seed=5)
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(file, "a.dcm")
    plain, member = _only([file]), _only([archive])
    assert plain.sop_instance_uid == member.sop_instance_uid
    cache = PixelCache(tmp_path / "cache")
    # The same image in two places: two entries, neither taken for the other.
    assert cache.entry_path(plain) != cache.entry_path(member)
    stored = load_pixels(member)
    assert cache.put(member, stored) is not None
    assert cache.get(plain) is None
    np.testing.assert_array_equal(np.asarray(cache.get(member)), stored)
    os.utime(archive, ns=(3, 3))  # a new archive of the same name: a miss
    assert cache.get(member) is None


def test_a_large_image_held_in_memory_reads_its_pixels_whole(tmp_path: Path) -> None:
    """Pixel Data above pydicom's defer size cannot be re-read from a closed in-memory stream."""
    file = write_mg(tmp_path / "big.dcm", rows=1600, columns=1600, seed=5)  # 5 MB of pixels
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.write(file, "big.dcm")
    expected = read_image_dataset(file).pixel_array
    for source in (BytesSource(file.read_bytes(), "1.2.3/big", tmp_path), _only([archive]).source):
        np.testing.assert_array_equal(read_image_dataset(source).pixel_array, expected)
