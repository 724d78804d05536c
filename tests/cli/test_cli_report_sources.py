"""``report`` and ``render`` read every image through its source (issue 11).

A study in a ``.zip`` archive gives the same report as the folder it was made from
(the sidecar next to the archive, or inside it); ``--png`` works on archives; ``render``
opens every file ``info`` lists, including datasets without File Meta Information.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydicom.uid import DeflatedExplicitVRLittleEndian
from PySide6.QtWidgets import QApplication

from galactoview import cli
from galactoview.paths import sample_dicom_dir
from galactoview.report.content import LoadedReport, load_report
from tests.data_factory import write_explicit_meta_implicit_data, write_without_meta
from tests.helpers import make_mg_dataset, write_dataset, write_mg

DATE = "2026-03-13"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the sample's annotated ductogram (images and sidecar) in ``tmp_path``."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # no per-user sidecar
    sample = sample_dicom_dir() / "20260312_DUCTOGRAM_L"
    if not sample.is_dir():
        pytest.skip(f"no sample study in {sample}")
    copy = tmp_path / "folder" / "20260312_DUCTOGRAM_L"
    shutil.copytree(sample, copy, ignore=shutil.ignore_patterns("*.bak"))
    return copy


def _sidecar(folder: Path) -> Path:
    (sidecar,) = folder.glob("galactoview-*.sr.json")
    return sidecar


def _zip(folder: Path, archive: Path, *, with_sidecar: bool) -> Path:
    """Store the folder's files in a new archive, under a folder of the same name."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(folder.iterdir()):
            if path.suffix == ".json" and not with_sidecar:
                continue
            out.write(path, f"{folder.name}/{path.name}")
    return archive


def _report(paths: list[Path]) -> LoadedReport:
    import datetime as dt

    return load_report(paths, dt.date.fromisoformat(DATE))


def _same_content(zipped: LoadedReport, plain: LoadedReport) -> None:
    """Assert the findings table, pictograms and key images of two reports are equal."""
    assert plain.content.studies, "the folder's report has a study"
    assert len(zipped.content.studies) == len(plain.content.studies)
    for ours, theirs in zip(zipped.content.studies, plain.content.studies, strict=True):
        assert ours.rows == theirs.rows
        assert ours.key_images == theirs.key_images
        assert ours.marks == theirs.marks
        assert ours.sr_sop_instance_uid == theirs.sr_sop_instance_uid


def _pixels(folder: Path) -> dict[str, np.ndarray]:
    return {path.name: np.asarray(Image.open(path)) for path in sorted(folder.glob("*.png"))}


def _pdf_text(pdf: Path) -> str | None:
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        return None
    return subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, text=True).stdout


def test_report_of_a_zip_with_the_sidecar_beside_it_equals_the_folders(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], qapp: QApplication
) -> None:
    # Before: every key image said "not a DICOM file" (a 35 KB PDF) and --png wrote none.
    archive = _zip(folder, tmp_path / "zipped" / "study.zip", with_sidecar=False)
    shutil.copy2(_sidecar(folder), archive.parent)  # beside the zip, as documented
    _same_content(_report([archive]), _report([folder]))

    plain_code = cli.main(["report", str(folder), str(tmp_path / "plain.pdf"),
                           "--png", str(tmp_path / "plain_png"), "--date", DATE])  # fmt: skip
    plain = capsys.readouterr()
    zip_code = cli.main(["report", str(archive), str(tmp_path / "zip.pdf"),
                         "--png", str(tmp_path / "zip_png"), "--date", DATE])  # fmt: skip
    zipped = capsys.readouterr()
    assert (plain_code, zip_code) == (0, 0)
    assert zipped.err == plain.err == ""  # no "cannot be rendered" line
    assert zipped.out.splitlines()[0] == f"{tmp_path / 'zip.pdf'}: 5 page(s)"
    pngs = _pixels(tmp_path / "zip_png")
    assert sorted(pngs) == ["01_L_CC_3.png", "01_L_CC_MAG_5.png", "01_L_ML_4.png"]
    expected = _pixels(tmp_path / "plain_png")
    for name, pixels in pngs.items():
        np.testing.assert_array_equal(pixels, expected[name])
    # The key images are in the PDF: the same size as the folder's, not 35 KB of notes.
    plain_size = (tmp_path / "plain.pdf").stat().st_size
    zip_size = (tmp_path / "zip.pdf").stat().st_size
    assert zip_size > 500_000
    assert abs(zip_size - plain_size) < 0.01 * plain_size
    text = _pdf_text(tmp_path / "zip.pdf")
    if text is not None:
        assert text == _pdf_text(tmp_path / "plain.pdf")
        assert "cannot render" not in text


def test_a_sidecar_inside_the_archive_is_read(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], qapp: QApplication
) -> None:
    archive = _zip(folder, tmp_path / "zipped" / "study.zip", with_sidecar=True)
    before = hashlib.sha256(archive.read_bytes()).hexdigest()
    loaded = _report([archive])
    assert loaded.problems == ()
    _same_content(loaded, _report([folder]))
    out = tmp_path / "zip.pdf"
    assert cli.main(["report", str(archive), str(out), "--date", DATE]) == 0
    assert capsys.readouterr().err == ""
    # Read, never written: the archive is unchanged and no sidecar appeared beside it.
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == before
    assert [p.name for p in archive.parent.iterdir()] == ["study.zip"]


def test_sr_show_lists_a_sidecar_inside_the_archive(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = _zip(folder, tmp_path / "zipped" / "study.zip", with_sidecar=True)
    assert cli.main(["sr", "show", str(archive.parent)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"Sidecar {archive} [") and out[0].endswith(".sr.json]")
    assert any(line.startswith("FD-1") or " FD-1 " in line for line in out)
    assert cli.main(["sr", "show", str(archive.parent), "--json"]) == 0
    (document,) = json.loads(capsys.readouterr().out)
    assert document["sidecar"].startswith(f"{archive} [")
    assert len(document["findings"]) == 3


def test_the_sidecar_beside_the_zip_wins_over_the_one_inside(
    folder: Path, tmp_path: Path, qapp: QApplication
) -> None:
    archive = _zip(folder, tmp_path / "zipped" / "study.zip", with_sidecar=True)
    beside = archive.parent / _sidecar(folder).name
    beside.write_text("{ not json")  # the study's sidecar is this one, though unreadable
    loaded = _report([archive])
    assert loaded.content.studies == ()  # the one beside is the study's; unreadable, kept
    assert any(line.startswith(f"{beside}: is not valid JSON") for line in loaded.problems)


def test_render_opens_every_file_info_lists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: render refused the dataset without preamble and File Meta Information that
    # info (and the viewer) open: "the file meta has no Transfer Syntax UID".
    images = tmp_path / "images"
    write_mg(images / "part10.dcm", seed=7)
    write_without_meta(images / "no_preamble.dcm", seed=7)
    write_explicit_meta_implicit_data(images / "wrong_syntax.dcm", seed=7)
    deflated = make_mg_dataset(seed=7)
    deflated.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian  # PS3.5 A.5
    write_dataset(deflated, images / "deflated.dcm")
    assert cli.main(["info", "--json", str(images)]) == 0
    document = json.loads(capsys.readouterr().out)
    listed = [
        Path(image["path"])
        for patient in document["patients"]
        for study in patient["studies"]
        for series in study["series"]
        for image in series["images"]
    ]
    assert sorted(path.name for path in listed) == [
        "deflated.dcm", "no_preamble.dcm", "part10.dcm", "wrong_syntax.dcm"
    ]  # fmt: skip
    assert cli.main(["render", str(images / "part10.dcm"), str(tmp_path / "reference.png")]) == 0
    reference = np.asarray(Image.open(tmp_path / "reference.png"))
    for path in listed:
        out = tmp_path / f"{path.stem}.png"
        assert cli.main(["render", str(path), str(out)]) == 0, capsys.readouterr().err
        # The same image, however it is stored.
        np.testing.assert_array_equal(np.asarray(Image.open(out)), reference)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("spelling", ["label", "path"])
def test_render_opens_a_zip_member_as_info_names_it(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], spelling: str
) -> None:
    archive = _zip(folder, tmp_path / "zipped" / "study.zip", with_sidecar=False)
    assert cli.main(["info", str(archive), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    image = listed["patients"][0]["studies"][0]["series"][0]["images"][0]
    archive_text, member = image["path"], image["archive_member"]
    assert archive_text == str(archive) and member
    label = f"{archive_text} [{member}]"  # as the text listing names it
    argument = label if spelling == "label" else f"{archive_text}/{member}"
    out = tmp_path / "member.png"
    assert cli.main(["render", argument, str(out)]) == 0, capsys.readouterr().err
    plain = tmp_path / "plain.png"
    assert cli.main(["render", str(folder.parent / member), str(plain)]) == 0
    np.testing.assert_array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(plain)))
    assert cli.main(["render", f"{archive} [no/such.dcm]", str(out)]) == 1
    assert "no item named 'no/such.dcm'" in capsys.readouterr().err
