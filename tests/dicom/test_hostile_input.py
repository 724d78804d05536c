"""Hostile input (issue 10): header bombs, absurd size claims, mislabelled data, link loops,
paths that leave their folder, and exceptions of every kind, each one problem line.

Every file is made in code; the bomb is written by streaming into the zip, never held
in memory. Two tests measure time and memory in a subprocess because the issue's
acceptance criterion is itself a time and memory bound (generous bounds, see there).
"""

from __future__ import annotations

import functools
import json
import os
import re
import struct
import subprocess
import sys
import textwrap
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.fileset import FileSet
from pydicom.uid import UID, JPEG2000Lossless, JPEGBaseline8Bit, RLELossless

import galactoview.dicom.loading as loading
from galactoview import cli
from galactoview.dicom.loading import (
    MAX_HEADER_BYTES,
    PixelDataError,
    ScanResult,
    load_pixels,
    read_header,
    scan,
)
from galactoview.imaging.export import RenderError, read_dataset
from tests import data_factory
from tests.helpers import make_mg_dataset, write_dataset, write_mg

#: Size of the private value in the bomb: 1 GiB (the issue saw 4 GiB; 1 GiB already
#: exceeds the 500 MB bound, so reading it whole would fail the memory test).
_BOMB_VALUE = 1024**3

#: A private element's placeholder value, found and replaced in the written bytes.
_MARKER = b"BOMB-MARKER-0123"


def _problems(result: ScanResult) -> list[str]:
    return [str(problem) for problem in result.problems]


@functools.cache
def _with_private_placeholder() -> bytes:
    """Return an MG file (bytes) with a private OB element holding :data:`_MARKER`.

    Made once: its UIDs are random and vary in length, and the bomb's offsets computed
    from one copy must hold for the file built from another.
    """
    ds = make_mg_dataset()
    block = ds.private_block(0x0009, "GALACTOVIEW TEST", create=True)
    block.add_new(0x10, "OB", _MARKER)
    path_bytes = _dataset_bytes(ds)
    assert path_bytes.count(_MARKER) == 1
    return path_bytes


def _dataset_bytes(ds: Dataset) -> bytes:
    from io import BytesIO

    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _bomb_parts(size: int) -> tuple[bytes, bytes]:
    """Return (bytes up to the private value, bytes after it) with its length set to ``size``."""
    data = _with_private_placeholder()
    at = data.index(_MARKER)
    # Explicit VR Little Endian OB: tag, "OB", 2 reserved bytes, 32-bit length (PS3.5 7.1.2).
    assert data[at - 8 : at - 4] == b"OB\x00\x00"
    prefix = data[: at - 4] + struct.pack("<I", size)
    return prefix, data[at + len(_MARKER) :]


@pytest.fixture(scope="module")
def header_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A zip whose member inflates to a DICOM file with a 1 GiB private element (zeros)."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    prefix, suffix = _bomb_parts(_BOMB_VALUE)
    zeros = bytes(1024**2)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("IMAGES/BOMB.dcm", "w", force_zip64=True) as member:
            member.write(prefix)
            for _ in range(_BOMB_VALUE // len(zeros)):
                member.write(zeros)
            member.write(suffix)
        archive.writestr("IMAGES/GOOD.dcm", _dataset_bytes(make_mg_dataset(seed=5)))
    assert path.stat().st_size < 20 * 1024**2
    return path


# --- item 1: header bombs ---------------------------------------------------------------


def test_header_bomb_zip_is_refused_quickly_in_little_memory(header_bomb: Path) -> None:
    # The acceptance criterion: refused in under 2 s with under 500 MB of memory.
    # Measured in a fresh interpreter (the whole process: Python, numpy, pydicom included).
    # Its peak is /proc's VmHWM, which starts afresh at exec; ru_maxrss would not: Linux
    # keeps it across fork + exec, so the child would inherit the pytest process's peak.
    # Generous bounds, as the criterion states them.
    script = textwrap.dedent(
        f"""
        import json, sys, time
        from pathlib import Path
        from galactoview.dicom.loading import scan
        start = time.perf_counter()
        result = scan([Path({str(header_bomb)!r})])
        elapsed = time.perf_counter() - start
        status = Path("/proc/self/status").read_text()
        peak_kib = int(status.split("VmHWM:")[1].split()[0])
        json.dump({{"elapsed": elapsed, "peak_mib": peak_kib / 1024,
                    "problems": [str(p) for p in result.problems],
                    "images": [i.archive_member for i in result.images]}}, sys.stdout)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    report = json.loads(done.stdout)
    (problem,) = report["problems"]
    assert problem.startswith(
        f"{header_bomb} [IMAGES/BOMB.dcm]: refused: a header value of 1.0 GiB"
    )
    assert report["images"] == ["IMAGES/GOOD.dcm"]  # the other member still counts
    assert report["elapsed"] < 2.0
    assert report["peak_mib"] < 500


def test_header_bomb_in_info_is_one_line(
    header_bomb: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["info", str(header_bomb)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert [line for line in err if "BOMB" in line] == [
        f"{header_bomb} [IMAGES/BOMB.dcm]: refused: a header value of 1.0 GiB at byte"
        f" {len(_bomb_parts(1)[0])} is too large to read (a header may hold at most"
        " 64.0 MiB before Pixel Data)"
    ]


def test_plain_file_with_a_huge_private_value_is_read_without_it(tmp_path: Path) -> None:
    # A real (sparse) file with a 1 GiB private value: skipped by seeking, not read.
    prefix, suffix = _bomb_parts(_BOMB_VALUE)
    path = tmp_path / "sparse.dcm"
    with path.open("wb") as stream:
        stream.write(prefix)
        stream.seek(_BOMB_VALUE, os.SEEK_CUR)
        stream.write(suffix)
    (record,) = scan([path]).images
    header = read_header(record)
    assert (0x0009, 0x1010) not in header  # dropped, never read
    assert (0x0009, 0x0010) in header  # the small private creator stays
    assert load_pixels(record).shape == (64, 48)


def test_many_large_values_are_refused_as_a_whole(tmp_path: Path) -> None:
    # Values below the deferral size, but together far more than a header may hold.
    ds = make_mg_dataset(rows=8, columns=8)
    block = ds.private_block(0x0009, "GALACTOVIEW TEST", create=True)
    for index in range(20):
        block.add_new(0x10 + index, "OB", bytes(4 * 1024**2 - 2))
    path = write_dataset(ds, tmp_path / "fat.dcm")
    (problem,) = scan([path]).problems
    assert problem.message.startswith("refused: a header value of 4.0 MiB at byte")
    assert f"at most {MAX_HEADER_BYTES // 1024**2}.0 MiB" in problem.message


def test_deflated_bomb_is_refused(tmp_path: Path) -> None:
    # PS3.5 A.5: pydicom inflates a deflated dataset whole; this one inflates to 300 MiB.
    import zlib

    from pydicom.uid import DeflatedExplicitVRLittleEndian

    ds = make_mg_dataset(rows=8, columns=8)
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    path = write_dataset(ds, tmp_path / "deflated.dcm")
    data = path.read_bytes()
    (meta_length,) = struct.unpack("<I", data[140:144])
    start = 144 + meta_length
    body = bytearray(zlib.decompress(data[start:], -zlib.MAX_WBITS))
    # Append a private element of 300 MiB zeros (group 0009 sorts after 0008 but the
    # order does not matter here: the size check comes before any parsing).
    body += struct.pack("<HH2sHI", 0x0009, 0x0010, b"OB", 0, 300 * 1024**2)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    chunks = [compressor.compress(bytes(body))]
    zeros = bytes(1024**2)
    chunks += [compressor.compress(zeros) for _ in range(300)]
    chunks.append(compressor.flush())
    path.write_bytes(data[:start] + b"".join(chunks))
    (problem,) = scan([path]).problems
    assert problem.message == (
        "refused: the deflated dataset inflates to more than 256.0 MiB (PS3.5 A.5); refused"
    )


# --- item 2: allocations checked against the data, mislabelled transfer syntaxes ----------


def _forbid_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("pixel data decoded despite the size check")

    monkeypatch.setattr(loading, "pixel_array", forbidden)
    monkeypatch.setattr("galactoview.imaging.export.pixel_array", forbidden)


def test_huge_claim_is_refused_by_load_pixels_and_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = data_factory.write_huge_claim(tmp_path / "huge.dcm", 32767, 32767, frames=1000)
    (record,) = scan([path]).images
    _forbid_decoding(monkeypatch)
    with pytest.raises(PixelDataError) as caught:
        load_pixels(record)
    claim = "Rows 32767 x Columns 32767 x 1000 frame(s) x 1 sample(s) x 16 bit(s) = 1999.9 GiB"
    assert caught.value.message == (
        f"the pixel data is truncated: the header claims {claim}, but the pixel data holds"
        " 128 bytes"
    )
    with pytest.raises(RenderError, match=re.escape(f"header claims {claim}")):
        read_dataset(path)
    assert cli.main(["render", str(path), str(tmp_path / "out.png")]) == 1
    assert capsys.readouterr().err == f"{path}: {caught.value.message}\n"
    assert not (tmp_path / "out.png").exists()


def test_native_data_longer_than_claimed_is_mislabelled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 16-bit values labelled 8-bit: twice the bytes the header accounts for.
    ds = make_mg_dataset(rows=16, columns=12)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    path = write_dataset(ds, tmp_path / "label.dcm")
    (record,) = scan([path]).images
    with pytest.raises(PixelDataError) as caught:
        load_pixels(record)
    assert caught.value.message == (
        "the header claims Rows 16 x Columns 12 x 1 frame(s) x 1 sample(s) x 8 bit(s)"
        " = 192 bytes, but the pixel data holds 384 bytes: the transfer syntax Explicit VR"
        " Little Endian (1.2.840.10008.1.2.1) or the image attributes are wrong (PS3.5 8.1.1)"
    )
    assert cli.main(["render", str(path), str(tmp_path / "out.png")]) == 1
    assert capsys.readouterr().err == f"{path}: {caught.value.message}\n"


def test_odd_length_padding_is_accepted(tmp_path: Path) -> None:
    # PS3.5 7.1.1: an odd number of bytes is padded to even; that is not mislabelling.
    pixels = np.arange(15, dtype=np.uint8).reshape(3, 5)
    ds = make_mg_dataset(rows=3, columns=5, pixels=pixels.astype(np.uint16))
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    ds.PixelData = pixels.tobytes() + b"\x00"
    (record,) = scan([write_dataset(ds, tmp_path / "odd.dcm")]).images
    np.testing.assert_array_equal(load_pixels(record), pixels)


def _encapsulated(tmp_path: Path, syntax: str, fragment: bytes, **sizes: int) -> Path:
    ds = make_mg_dataset(rows=8, columns=8)
    for keyword, value in sizes.items():
        setattr(ds, keyword, value)
    ds.file_meta.TransferSyntaxUID = UID(syntax)
    ds.PixelData = encapsulate([fragment])
    ds["PixelData"].VR = "OB"
    return write_dataset(ds, tmp_path / "enc.dcm")


@pytest.mark.parametrize(
    ("syntax", "fragment", "expected"),
    [
        (JPEGBaseline8Bit, b"\xff\x4f\xff\x51" + bytes(60), "JPEG (starting FF D8)"),
        (JPEG2000Lossless, b"\xff\xd8\xff\xe0" + bytes(60), "JPEG 2000 (a codestream"),
        (RLELossless, b"\xff\xd8\xff\xe0" + bytes(60), "RLE (a 64-byte header"),
    ],
    ids=["jpeg-holding-j2k", "j2k-holding-jpeg", "rle-holding-jpeg"],
)
def test_encapsulated_data_not_of_its_codec_is_refused(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    syntax: str,
    fragment: bytes,
    expected: str,
) -> None:
    path = _encapsulated(tmp_path, syntax, fragment)
    (record,) = scan([path]).images
    _forbid_decoding(monkeypatch)
    with pytest.raises(PixelDataError) as caught:
        load_pixels(record)
    assert f"says the pixel data is {expected}" in caught.value.message
    assert f"but its first fragment starts with {fragment[:4].hex(' ').upper()}" in (
        caught.value.message
    )
    assert cli.main(["render", str(path), str(tmp_path / "out.png")]) == 1
    assert capsys.readouterr().err == f"{path}: {caught.value.message}\n"


def test_jp2_box_and_damaged_codestream_reach_the_decoder(tmp_path: Path) -> None:
    # The marker check passes a codestream start; the decoder then words its own error.
    path = _encapsulated(tmp_path, JPEG2000Lossless, b"\xff\x4f\xff\x51" + bytes(60))
    (record,) = scan([path]).images
    with pytest.raises(PixelDataError, match="cannot decode JPEG 2000"):
        load_pixels(record)


def test_absurd_compression_ratio_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _encapsulated(
        tmp_path, JPEG2000Lossless, b"\xff\x4f\xff\x51" + bytes(60), Rows=30000, Columns=30000
    )
    (record,) = scan([path]).images
    _forbid_decoding(monkeypatch)
    with pytest.raises(PixelDataError) as caught:
        load_pixels(record)
    assert caught.value.message.startswith(
        "the header claims Rows 30000 x Columns 30000 x 1 frame(s) x 1 sample(s) x 16 bit(s)"
        " = 1.7 GiB, but the pixel data holds"
    )
    assert caught.value.message.endswith("compressed, a ratio above 2000:1")


# --- item 3: symbolic link loops ----------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_symlink_loops_are_reported_once_and_the_walk_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = tmp_path / "study"
    image = write_mg(study / "b" / "IM1")
    (study / "self").symlink_to("self")
    (study / "a").mkdir()
    (study / "a" / "ping").symlink_to(study / "a" / "pong")
    (study / "a" / "pong").symlink_to(study / "a" / "ping")
    (study / "b" / "up").symlink_to(study)  # a folder loop: never followed
    result = scan([study])
    assert [record.path for record in result.images] == [image]
    loop = "symbolic link loop (it leads back to itself); skipped"
    assert _problems(result) == [
        f"{study / 'self'}: {loop}",
        f"{study / 'a' / 'ping'}: {loop}",
        f"{study / 'a' / 'pong'}: {loop}",
    ]
    assert _problems(scan([study / "self"])) == [f"{study / 'self'}: {loop}"]
    assert cli.main(["info", str(study)]) == 0
    assert capsys.readouterr().err.count(loop) == 3


# --- item 4: references that leave their folder ---------------------------------------


def test_dicomdir_references_outside_its_folder_are_refused(tmp_path: Path) -> None:
    outside = write_mg(tmp_path / "outside" / "IM1", seed=9)
    media = tmp_path / "cd"
    fileset = FileSet()
    for index in range(3):
        ds = make_mg_dataset(instance_number=index + 1, seed=index)
        ds.StudyTime, ds.StudyID = "101500", "1"
        fileset.add(ds)
    fileset.write(media)
    dicomdir = media / "DICOMDIR"
    directory = dcmread(dicomdir)
    images = [item for item in directory.DirectoryRecordSequence if "ReferencedFileID" in item]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not valid CS values: that is the point
        images[0].ReferencedFileID = ["..", "outside", "IM1"]
        images[1].ReferencedFileID = str(outside)  # absolute
        directory.save_as(dicomdir)
    result = scan([dicomdir])
    assert [record.path.name for record in result.images] == ["IM000002"]
    assert all(record.path != outside for record in result.images)
    assert _problems(result) == [
        f"{dicomdir}: referenced file ..\\outside\\IM1 refused: it leads outside the folder"
        " of the DICOMDIR (PS3.10 8.2)",
        f"{dicomdir}: referenced file {outside} refused: an absolute or empty path component"
        " (PS3.10 8.2: relative to the File-set)",
    ]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_dicomdir_reference_through_a_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    write_mg(tmp_path / "outside" / "IM1", seed=9)
    media = tmp_path / "cd"
    fileset = FileSet()
    ds = make_mg_dataset()
    ds.StudyTime, ds.StudyID = "101500", "1"
    fileset.add(ds)
    fileset.write(media)
    (media / "LINK").symlink_to(tmp_path / "outside")
    dicomdir = media / "DICOMDIR"
    directory = dcmread(dicomdir)
    (item,) = [item for item in directory.DirectoryRecordSequence if "ReferencedFileID" in item]
    item.ReferencedFileID = ["LINK", "IM1"]
    directory.save_as(dicomdir)
    result = scan([dicomdir])
    assert result.images == ()
    assert _problems(result) == [
        f"{dicomdir}: referenced file LINK\\IM1 refused: it leads outside the folder of the"
        " DICOMDIR (a link)"
    ]


def test_zip_member_names_that_leave_the_archive_are_skipped(tmp_path: Path) -> None:
    data = write_mg(tmp_path / "a.dcm").read_bytes()
    archive = tmp_path / "slip" / "slip.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as writer:
        writer.writestr("../evil.dcm", data)
        writer.writestr("/abs/evil.dcm", data)
        writer.writestr("ok/IM1", write_mg(tmp_path / "b.dcm", seed=2).read_bytes())
    before = sorted(path for path in tmp_path.rglob("*"))
    result = scan([archive])
    assert [record.archive_member for record in result.images] == ["ok/IM1"]
    assert _problems(result) == [
        f"{archive} [../evil.dcm]: member name ../evil.dcm leads out of the archive (..); skipped",
        f"{archive} [/abs/evil.dcm]: member name /abs/evil.dcm is an absolute path; skipped",
    ]
    assert sorted(path for path in tmp_path.rglob("*")) == before  # nothing written


# --- item 7: any exception is one problem line -------------------------------------------


def _nested_sequences(depth: int) -> bytes:
    """Content Sequence (0040,A730) items nested ``depth`` deep, all of undefined length.

    Undefined lengths (PS3.5 7.5.1) make a reader parse every level to find the end.
    """
    start = struct.pack("<HH2sHI", 0x0040, 0xA730, b"SQ", 0, 0xFFFFFFFF)
    item = struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
    end = struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    return (start + item) * depth + end * depth


def test_deeply_nested_sequences_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write_mg(tmp_path / "deep.dcm")
    data = bad.read_bytes()
    at = data.rindex(b"\xe0\x7f\x10\x00")  # Pixel Data (7FE0,0010)
    bad.write_bytes(data[:at] + _nested_sequences(5000) + data[at:])
    good = write_mg(tmp_path / "good.dcm", seed=4)
    result = scan([tmp_path])
    assert [record.path for record in result.images] == [good]
    (problem,) = result.problems
    assert problem.path == bad
    assert problem.message == "damaged DICOM file: too deeply nested (sequences within sequences)"
    assert cli.main(["render", str(bad), str(tmp_path / "out.png")]) == 1
    assert capsys.readouterr().err == (
        f"{bad}: damaged DICOM file: too deeply nested (sequences within sequences)\n"
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (MemoryError(), "not enough memory to read it"),
        (NotImplementedError("Unknown Value Representation 'ZZ'"), "Unknown Value Representation"),
        (RuntimeError(), "RuntimeError (no message)"),
        (zipfile.BadZipFile("Bad CRC-32"), "Bad CRC-32"),
    ],
    ids=["memory", "unknown-vr", "runtime", "bad-zip"],
)
def test_any_exception_in_a_header_is_one_line_and_others_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception, expected: str
) -> None:
    bad = write_mg(tmp_path / "a.dcm", seed=1)
    good = write_mg(tmp_path / "b.dcm", seed=2)
    real = loading._read_header

    def flaky(stream: object, **options: object) -> Dataset:
        if getattr(stream, "name", "") == str(bad):
            raise error
        return real(stream, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(loading, "_read_header", flaky)
    result = scan([tmp_path])
    assert [record.path for record in result.images] == [good]
    (problem,) = result.problems
    assert problem.path == bad and "\n" not in str(problem)
    assert expected in problem.message


def test_unexpected_failure_outside_reading_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = write_mg(tmp_path / "b" / "IM1")
    bad = write_mg(tmp_path / "a" / "IM1", seed=3)

    real = loading._Scanner._add_file_unguarded

    def flaky(self: loading._Scanner, path: Path, *, explicit: bool, dicomdir: Path | None) -> None:
        if path == bad:
            raise ValueError("a bug in the scanner")
        real(self, path, explicit=explicit, dicomdir=dicomdir)

    monkeypatch.setattr(loading._Scanner, "_add_file_unguarded", flaky)
    result = scan([tmp_path])
    assert [record.path for record in result.images] == [good]
    assert _problems(result) == [f"{bad}: cannot read the file: a bug in the scanner"]


def test_encrypted_and_unsupported_zip_members_are_one_line_each(tmp_path: Path) -> None:
    data = write_mg(tmp_path / "a.dcm").read_bytes()
    archive = tmp_path / "odd.zip"
    with zipfile.ZipFile(archive, "w") as writer:
        writer.writestr("IM1", data)
        writer.writestr("IM2", write_mg(tmp_path / "b.dcm", seed=4).read_bytes())
    raw = bytearray(archive.read_bytes())
    # Mark the first member encrypted (general purpose flag bit 0) in both headers,
    # and give the second an unknown compression method (99 is AE-x, not supported).
    local = raw.index(b"PK\x03\x04")
    raw[local + 6] |= 1
    central = raw.index(b"PK\x01\x02")
    raw[central + 8] |= 1
    second_local = raw.index(b"PK\x03\x04", local + 4)
    second_central = raw.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<H", raw, second_local + 8, 99)
    struct.pack_into("<H", raw, second_central + 10, 99)
    archive.write_bytes(bytes(raw))
    result = scan([archive, write_mg(tmp_path / "c.dcm", seed=5)])
    assert [record.path.name for record in result.images] == ["c.dcm"]
    messages = _problems(result)
    assert len(messages) == 2
    assert messages[0].startswith(f"{archive} [IM1]: cannot read the archive member: ")
    assert "encrypted" in messages[0]
    assert messages[1].startswith(f"{archive} [IM2]: cannot read the archive member: ")


def test_zip_member_far_larger_than_its_image_is_not_inflated(tmp_path: Path) -> None:
    # A small image followed by 80 MiB of zeros: the header reads, the member is never
    # inflated into memory to decode it.
    archive = tmp_path / "padded.zip"
    data = write_mg(tmp_path / "a.dcm").read_bytes()
    with (
        zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as writer,
        writer.open("IM1", "w") as member,
    ):
        member.write(data)
        for _ in range(80):
            member.write(bytes(1024**2))
    (record,) = scan([archive]).images
    with pytest.raises(PixelDataError) as caught:
        load_pixels(record)
    assert caught.value.message == (
        f"archive member IM1 holds {(len(data) + 80 * 1024**2) / 1024**2:.1f} MiB, more than"
        " a header and the pixel data of its 64 x 48 x 1 frame(s) can need; not read"
    )


def test_a_large_standard_value_is_read_when_used(tmp_path: Path) -> None:
    # Above the deferral size, below the bound: skipped while reading the header, read
    # from the file (opened again by its path) when used.
    ds = make_mg_dataset(rows=8, columns=8)
    ds.ICCProfile = b"x" * (5 * 1024**2)
    (record,) = scan([write_dataset(ds, tmp_path / "icc.dcm")]).images
    assert read_header(record).ICCProfile == b"x" * (5 * 1024**2)


def test_thumbnails_and_the_decode_service_refuse_as_load_pixels_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from galactoview.imaging.decode_service import decode_stored
    from galactoview.imaging.thumbnails import render_thumbnail, thumbnail_in_worker

    huge = data_factory.write_huge_claim(tmp_path / "huge.dcm", 32767, 32767, frames=1000)
    mislabelled = _encapsulated(tmp_path, JPEG2000Lossless, b"\xff\xd8\xff\xe0" + bytes(60))
    _forbid_decoding(monkeypatch)
    for path in (huge, mislabelled):
        (record,) = scan([path]).images
        with pytest.raises(PixelDataError) as expected:
            load_pixels(record)
        for decode in (
            lambda record: decode_stored(record, fast=True),
            lambda record: render_thumbnail(record, 64),
        ):
            with pytest.raises(PixelDataError) as caught:
                decode(record)
            assert caught.value.message == expected.value.message
        assert thumbnail_in_worker(record, 64) == expected.value.message


def test_files_that_only_start_like_a_dataset_are_rejected_without_a_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Group 0008 bytes, then neither a VR nor a plausible length: not a dataset.
    junk = tmp_path / "IM1.dcm"
    junk.write_bytes(b"\x08\x00\x05\x00\xff\xff\xff\x7f" + bytes(200))
    old = data_factory.write_without_meta(tmp_path / "IM_OLD")  # still accepted

    def guarded(stream: object, *args: object, **kwargs: object) -> object:
        if "IM1.dcm" in str(getattr(stream, "name", "")):
            raise AssertionError("a file that is not DICOM was parsed")
        return dcmread(stream, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(loading, "dcmread", guarded)
    result = scan([tmp_path])
    assert [record.path for record in result.images] == [old]
    assert _problems(result) == [f"{junk}: not a DICOM file (no 'DICM' prefix after the preamble)"]


def test_an_archive_inflates_a_bounded_total_for_its_headers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Many members, each header acceptable alone, together more than the archive's
    # budget (1 GiB; 3 MiB here): the rest is not read, and that is said once.
    monkeypatch.setattr(loading, "_ARCHIVE_HEADER_BUDGET", 3 * 1024**2)
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as writer:
        for index in range(6):
            ds = make_mg_dataset(rows=8, columns=8, seed=index)
            block = ds.private_block(0x0009, "GALACTOVIEW TEST", create=True)
            block.add_new(0x10, "OB", bytes(1024**2))
            writer.writestr(f"IM{index}", _dataset_bytes(ds))
    result = scan([archive])
    assert [record.archive_member for record in result.images] == ["IM0", "IM1"]
    assert _problems(result) == [
        f"{archive} [IM2]: refused: the headers of this archive's members need more than"
        " 3.0 MiB inflated; the rest is not read",
        f"{archive}: the members' headers need more than 3.0 MiB inflated;"
        " the remaining members are not read",
    ]


def test_trailing_padding_after_native_pixels_is_ignored_as_pydicom_does(
    tmp_path: Path,
) -> None:
    # pydicom's MR_small_padded.dcm: 8320 bytes where 64 x 64 x 16 bit need 8192.
    path = Path(str(get_testdata_file("MR_small_padded.dcm")))
    (record,) = scan([path]).images
    with pytest.warns(UserWarning, match="excess padding"):  # pydicom says so, and goes on
        reference = dcmread(path).pixel_array
        assert np.array_equal(load_pixels(record), reference)
    assert cli.main(["render", str(path), str(tmp_path / "out.png")]) == 0
