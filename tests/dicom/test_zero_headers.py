"""Headers full of zeros are refused at once, not parsed 8 bytes at a time.

A file of 128 zero bytes, ``DICM`` and 64 MiB of zeros took 23.8 s in ``info`` (22 s
inside a 1 MB zip): pydicom read 8 million elements tagged (0000,0000). No file stores
such an element (PS3.10 7.1) and a dataset's tags ascend (PS3.5 7.1), so a command
element first, or a run of them anywhere in a header, ends the read with one line.
"""

from __future__ import annotations

import struct
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

import galactoview.dicom.loading as loading
from galactoview import cli
from galactoview.dicom.loading import load_pixels, scan
from galactoview.imaging.export import read_dataset, render_image
from tests.helpers import write_mg

#: The field test's size: 64 MiB of zeros after the prefix.
_ZEROS = bytes(64 * 1024**2)

#: The issue's target is "well under 1 s" for each file; the bound here is generous (a
#: loaded 2-core machine), and still far below the 22-24 s seen before the fix.
_GENEROUS_SECONDS = 5.0

_FIRST_ZERO = (
    "refused: the first element after the 'DICM' prefix is (0000,0000), a command"
    " element no file stores (PS3.10 7.1: the File Meta Information, group 0002, comes"
    " first); not read (the file holds zeros there)"
)


def _zero_run(start: int) -> str:
    return (
        f"refused: from byte {start} the header holds only elements tagged (0000,0000)"
        f" ({loading._ZERO_TAG_RUN} in a row, e.g. zeros), which no DICOM file stores"
        " (PS3.10 7.1; PS3.5 7.1: tags ascend); not read further"
    )


def _zero_file() -> bytes:
    return bytes(128) + b"DICM" + _ZEROS


def _good_bytes(tmp_path: Path) -> bytes:
    return write_mg(tmp_path / "good-source.dcm").read_bytes()


def _dataset_start(data: bytes) -> int:
    """Byte where the dataset starts: after the File Meta group (PS3.10 7.1)."""
    assert data[132:138] == b"\x02\x00\x00\x00UL"
    return 144 + int.from_bytes(data[140:144], "little")


def _info(paths: list[Path], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], float]:
    start = time.perf_counter()
    code = cli.main(["info", *map(str, paths)])
    elapsed = time.perf_counter() - start
    return code, capsys.readouterr().err.splitlines(), elapsed


def test_file_of_zeros_is_refused_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "zeros.dcm"
    path.write_bytes(_zero_file())
    code, err, elapsed = _info([path], capsys)
    assert code != 0  # no image at all
    assert err == [f"{path}: {_FIRST_ZERO}"]
    assert elapsed < _GENEROUS_SECONDS


def test_zip_of_zero_members_is_refused_member_by_member(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "zeros.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for number in range(5):
            zipped.writestr(f"IMG{number}.dcm", _zero_file())
        zipped.writestr("GOOD.dcm", _good_bytes(tmp_path))
    assert archive.stat().st_size < 1024**2
    code, err, elapsed = _info([archive], capsys)
    assert code == 0  # the good member is still an image
    assert err == [f"{archive} [IMG{number}.dcm]: {_FIRST_ZERO}" for number in range(5)]
    assert elapsed < _GENEROUS_SECONDS


def test_zeros_after_the_file_meta_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _good_bytes(tmp_path)
    start = _dataset_start(data)
    path = tmp_path / "meta-then-zeros.dcm"
    path.write_bytes(data[:start] + _ZEROS)
    code, err, elapsed = _info([path], capsys)
    assert code != 0
    assert err == [f"{path}: {_zero_run(start)}"]
    assert elapsed < _GENEROUS_SECONDS


def test_zeros_after_a_valid_start_are_refused_in_a_zip_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _good_bytes(tmp_path)
    cut = data.index(b"\x08\x00\x60\x00CS")  # Modality (0008,0060): a few elements in
    assert cut > _dataset_start(data)
    plain = tmp_path / "start-then-zeros.dcm"
    plain.write_bytes(data[:cut] + _ZEROS)
    archive = tmp_path / "start-then-zeros.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("MUTANT.dcm", data[:cut] + _ZEROS)
    code, err, elapsed = _info([plain, archive], capsys)
    assert code != 0
    assert err == [
        f"{plain}: {_zero_run(cut)}",
        f"{archive} [MUTANT.dcm]: {_zero_run(cut)}",
    ]
    assert elapsed < 2 * _GENEROUS_SECONDS


def test_a_command_element_first_is_refused(tmp_path: Path) -> None:
    # (0000,0002) Affected SOP Class UID, implicit VR: a command set stored as a file.
    element = struct.pack("<HHI", 0x0000, 0x0002, 4) + b"1.2\x00"
    path = tmp_path / "command.dcm"
    path.write_bytes(bytes(128) + b"DICM" + element + _good_bytes(tmp_path)[132:])
    (problem,) = scan([path]).problems
    assert problem.message.startswith(
        "refused: the first element after the 'DICM' prefix is (0000,0002), a command element"
    )
    assert not problem.message.endswith("(the file holds zeros there)")


def test_zeros_after_the_pixel_data_do_not_stop_the_image(tmp_path: Path) -> None:
    # The header ends before them: the image is listed, shown and rendered as without
    # them; reading the whole file stops at the run instead of parsing 64 MiB.
    good = write_mg(tmp_path / "good.dcm", seed=3)
    padded = tmp_path / "padded.dcm"
    padded.write_bytes(good.read_bytes() + _ZEROS)
    result = scan([padded])
    assert not result.problems
    (record,) = result.images
    (reference,) = scan([good]).images
    np.testing.assert_array_equal(load_pixels(record), load_pixels(reference))
    start = time.perf_counter()
    rendered = render_image(read_dataset(padded))
    assert time.perf_counter() - start < _GENEROUS_SECONDS
    np.testing.assert_array_equal(rendered, render_image(read_dataset(good)))


def test_a_few_zero_tags_are_still_read(tmp_path: Path) -> None:
    # Fewer than the run: tolerated as before (pydicom reads them; the image counts).
    good = write_mg(tmp_path / "good.dcm", seed=4)
    data = good.read_bytes()
    start = _dataset_start(data)
    few = bytes(8 * (loading._ZERO_TAG_RUN - 1))
    path = tmp_path / "few-zero-tags.dcm"
    path.write_bytes(data[:start] + few + data[start:])
    result = scan([path])
    assert not result.problems
    (reference,) = scan([good]).images
    assert [image.sop_instance_uid for image in result.images] == [reference.sop_instance_uid]
