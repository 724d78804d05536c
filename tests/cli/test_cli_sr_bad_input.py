"""Bad SR files never end ``sr show | import | export`` in a traceback.

Each broken file is run through :func:`galactoview.cli.main` in-process: exit code 1, every
stderr line ``path: what is wrong``, nothing written (every file under the test's folder and
the per-user sidecar folder compared before and after).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ComprehensiveSRStorage, ExplicitVRLittleEndian, generate_uid

from galactoview import cli
from galactoview.cli import sr_reading
from galactoview.dicom.loading import cut_short
from galactoview.paths import sample_dicom_dir

DUCTOGRAM = "20260312_DUCTOGRAM_L"
#: An undefined-length Content Sequence (0040,A730) opening an undefined-length item.
_OPEN = b"\x40\x00\x30\xa7SQ\x00\x00\xff\xff\xff\xff" + b"\xfe\xff\x00\xe0\xff\xff\xff\xff"
#: Item Delimitation Item, then Sequence Delimitation Item (PS3.5 7.5.2).
_CLOSE = b"\xfe\xff\x0d\xe0\x00\x00\x00\x00" + b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"


@pytest.fixture(autouse=True)
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the per-user sidecar folder inside the test's folder."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The bytes of the sample sidecar exported as a binary SR."""
    found = sorted((sample_dicom_dir() / DUCTOGRAM).glob("galactoview-*.sr.json"))
    if not found:
        pytest.skip("the sample study has no sidecar")
    out = tmp_path_factory.mktemp("export") / "sample.dcm"
    assert cli.main(["sr", "export", str(found[0]), str(out)]) == 0
    return out.read_bytes()


def with_vr(data: bytes, tag: bytes, old: bytes, new: bytes) -> bytes:
    """Return ``data`` with the VR of every element ``tag`` changed (same length field)."""
    assert tag + old in data
    return data.replace(tag + old, tag + new)


def deep_binary(depth: int = 3000) -> bytes:
    """A Part 10 SR whose Content Sequence nests ``depth`` items deep (undefined lengths)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ComprehensiveSRStorage
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue() + _OPEN * depth + _CLOSE * depth


def _sample_json() -> bytes:
    found = sorted((sample_dicom_dir() / DUCTOGRAM).glob("galactoview-*.sr.json"))
    return found[0].read_bytes()


def deep_json() -> bytes:
    """A DICOM JSON dataset whose Content Sequence nests 3000 items deep."""
    text = "{}"
    for _ in range(3000):
        text = '{"0040A730": {"vr": "SQ", "Value": [%s]}}' % text  # noqa: UP031
    return text.encode()


#: name -> (bytes of the file from the exported sample SR, words expected in the message)
BROKEN: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "unknown VR (NotImplementedError)": (
        lambda sr: with_vr(sr, b"\x20\x00\x0d\x00", b"UI", b"XX"),
        "Unknown Value Representation 'XX'",
    ),
    "length not a multiple of the VR (BytesLengthException)": (
        lambda sr: with_vr(sr, b"\x08\x00\x16\x00", b"UI", b"FL"),
        "BytesLengthException",
    ),
    "sequence nested 3000 deep (binary)": (lambda _sr: deep_binary(), "nested too deeply"),
    "sequence nested 3000 deep (JSON)": (lambda _sr: deep_json(), "nested too deeply"),
    "arrays nested 100000 deep (JSON)": (
        lambda _sr: b'{"00080016": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        "nested too deeply",
    ),
    "JSON that is not UTF-8": (
        lambda _sr: b'{"00080016": {"vr": "UI", "Value": ["\xff"]}}',
        "is not UTF-8 text",
    ),
    "JSON of another shape": (
        lambda _sr: b'{"00080016": {"vr": "UI", "Value": [{"a": 1}]}}',
        "not a DICOM JSON dataset",
    ),
    "text": (lambda _sr: b"not an SR\n" * 100, "neither a DICOM file"),
    "empty": (lambda _sr: b"", "is empty"),
    "only the preamble": (lambda sr: sr[:140], "file meta information is cut short"),
    "cut in half": (lambda sr: sr[: len(sr) // 2], "is cut short (element (0040,A730)"),
    "last bytes missing": (lambda sr: sr[:-3], "only"),
    "cut inside a header": (lambda sr: sr[:1000], "ends inside an element header"),
    # A file of zeros was parsed 8 bytes at a time (15 s for 64 MiB) into an empty dataset.
    "zeros after DICM": (
        lambda _sr: bytes(128) + b"DICM" + bytes(4 * 1024**2),
        "the first element after the 'DICM' prefix is (0000,0000)",
    ),
    "zeros after the file meta": (
        lambda sr: sr[: 144 + int.from_bytes(sr[140:144], "little")] + bytes(4 * 1024**2),
        "only elements tagged (0000,0000) (64 in a row",
    ),
    "JSON cut short": (
        lambda _sr: _sample_json()[: len(_sample_json()) // 2],
        "is not valid JSON",
    ),
}


def run(command: str, source: Path, tmp_path: Path) -> int:
    """Run one ``sr`` command on ``source``: export and import write inside ``tmp_path``."""
    if command == "show":
        return cli.main(["sr", "show", str(source), "--no-images"])
    if command == "export":
        return cli.main(["sr", "export", str(source), str(tmp_path / "out" / "sr.dcm")])
    study = tmp_path / "study"
    if not study.exists():
        shutil.copytree(sample_dicom_dir() / DUCTOGRAM, study, ignore=_sidecars)
    return cli.main(["sr", "import", str(source), str(study)])


def _sidecars(_folder: str, names: list[str]) -> list[str]:
    return [name for name in names if name.startswith("galactoview-")]


def snapshot(root: Path) -> dict[str, str]:
    """Every file and folder under ``root``: relative path -> SHA-256 ("dir" for folders)."""
    return {
        str(path.relative_to(root)): "dir"
        if path.is_dir()
        else "special"
        if not path.is_file()
        else hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
    }


def assert_refused(
    command: str, source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> str:
    """Run ``command``; check exit 1, one line per message naming ``source``, nothing written."""
    if command == "import":
        run(command, tmp_path / "missing.dcm", tmp_path)  # copies the study first
    capsys.readouterr()
    before = snapshot(tmp_path)
    assert run(command, source, tmp_path) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines
    assert all(line.startswith(f"{source}: ") for line in lines), lines
    assert "Traceback" not in captured.err
    assert snapshot(tmp_path) == before
    return lines[-1]


@pytest.mark.parametrize("command", ["show", "import", "export"])
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_sr_is_one_line_and_exit_1(
    case: str,
    command: str,
    exported: bytes,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make, words = BROKEN[case]
    source = tmp_path / "in" / "broken.sr"
    source.parent.mkdir()
    source.write_bytes(make(exported))
    assert words in assert_refused(command, source, tmp_path, capsys)


@pytest.mark.parametrize("command", ["show", "import", "export"])
def test_fifo_device_and_folder_are_refused_without_blocking(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    fifo = tmp_path / "in" / "fifo.sr.json"
    fifo.parent.mkdir()
    os.mkfifo(fifo)  # no writer: opening it for reading would block
    assert "not a regular file" in assert_refused(command, fifo, tmp_path, capsys)
    if command != "show":  # show lists the studies of a folder instead
        assert "is a folder" in assert_refused(command, fifo.parent, tmp_path, capsys)
    device = Path(os.devnull)
    if device.exists() and not device.is_file():
        assert "not a regular file" in assert_refused(command, device, tmp_path, capsys)


def test_show_of_a_folder_without_images_is_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    assert cli.main(["sr", "show", str(folder)]) == 1
    assert capsys.readouterr().err.startswith(f"{folder}: no DICOM image found")


@pytest.mark.parametrize("command", ["show", "import", "export"])
def test_a_file_above_the_size_cap_is_not_read(
    command: str,
    exported: bytes,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = tmp_path / "in" / "large.dcm"
    source.parent.mkdir()
    source.write_bytes(exported)
    monkeypatch.setattr(sr_reading, "MAX_SR_BYTES", len(exported) - 1)
    line = assert_refused(command, source, tmp_path, capsys)
    assert f"more than the {(len(exported) - 1) >> 20} MiB an SR may have" in line


def test_pydicom_warnings_become_one_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = sorted((sample_dicom_dir() / DUCTOGRAM).glob("galactoview-*.sr.json"))
    if not found:
        pytest.skip("the sample study has no sidecar")
    document = json.loads(found[0].read_text("utf-8"))
    document["0020000E"]["Value"] = ["1.2.3.not-a-uid"]  # Series Instance UID
    source = tmp_path / "odd.sr.json"
    source.write_text(json.dumps(document), encoding="utf-8")
    assert cli.main(["sr", "show", str(source), "--no-images"]) == 0
    captured = capsys.readouterr()
    assert "FD-1  Intraluminal filling defect" in captured.out
    lines = captured.err.splitlines()
    assert lines
    assert all(line.startswith(f"{source}: warning: ") for line in lines), lines
    assert any("1.2.3.not-a-uid" in line for line in lines)


def test_only_certain_truncation_is_reported(exported: bytes) -> None:
    assert cut_short(exported) is None
    for image in sorted(sample_dicom_dir().rglob("*.dcm")):
        assert cut_short(image.read_bytes()) is None, image
    nested = deep_binary(depth=5)
    assert cut_short(nested) is None  # undefined lengths, every one closed
    assert cut_short(nested[:-8]) == ("the data ends inside 1 unterminated sequence(s) and item(s)")
    assert cut_short(nested[:-16]) == (
        "the data ends inside 2 unterminated sequence(s) and item(s)"
    )
    assert cut_short(b"not DICOM") is None  # not judged: refused elsewhere


def test_export_of_a_value_binary_dicom_cannot_hold_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(_sample_json())
    measurements = next(
        item
        for item in document["0040A730"]["Value"]
        if item["0040A043"]["Value"][0]["00080100"]["Value"] == ["126010"]
    )
    group = measurements["0040A730"]["Value"][0]
    scoord = next(c for c in group["0040A730"]["Value"] if c["0040A040"]["Value"] == ["SCOORD"])
    scoord["00700022"]["Value"][0] = 1e308  # fine in JSON, beyond FL (float32) in binary
    source = tmp_path / "in" / "huge.sr.json"
    source.parent.mkdir()
    source.write_text(json.dumps(document), encoding="utf-8")
    line = assert_refused("export", source, tmp_path, capsys)
    assert line.startswith(f"{source}: cannot be written as binary DICOM (")
    assert "float too large to pack" in line
