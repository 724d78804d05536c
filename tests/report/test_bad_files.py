"""One bad file never stops the report: it becomes a problem line naming the file."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from galactoview import cli
from galactoview.dicom.loading import ImageRecord
from galactoview.paths import sample_dicom_dir
from galactoview.report.content import build_report, load_report
from galactoview.sr.persistence import open_annotations
from tests.helpers import write_mg

DATE = dt.date(2026, 3, 13)
#: Study Instance UIDs that cannot name a sidecar (PS3.5 9.1).
BAD_UIDS = {"too long": "1." * 40 + "1", "newline": "1.2.3\n4", "path": "../../.."}


@pytest.fixture
def top(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the sample studies (with the ductogram's sidecar) and one bad image per UID."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    if not sample_dicom_dir().is_dir():
        pytest.skip("no sample study")
    folder = tmp_path / "top"
    shutil.copytree(sample_dicom_dir(), folder, ignore=shutil.ignore_patterns("*.bak"))
    with pytest.warns(UserWarning):  # pydicom says the UIDs are invalid as it writes them
        for name, uid in BAD_UIDS.items():
            write_mg(folder / "bad" / f"{name.replace(' ', '_')}.dcm", study_uid=uid)
    return folder


def test_images_with_invalid_study_uids_are_problem_lines(top: Path) -> None:
    loaded = load_report([top], DATE)
    (study,) = loaded.content.studies
    assert [row.short_id for row in study.rows] == ["FD-1", "CY-1", "DE-1"]
    for name, uid in BAD_UIDS.items():
        path = top / "bad" / f"{name.replace(' ', '_')}.dcm"
        (line,) = [p for p in loaded.problems if p.startswith(f"{path}: ")]
        assert f"Study Instance UID {uid[:80]!r}" in line  # longer ones are cut
        assert "is not a valid UID (PS3.5 9.1)" in line
        assert "\n" not in line


def test_the_report_command_goes_on_past_them(
    top: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], qapp: QApplication
) -> None:
    # qapp: the suite's QApplication exists first, so the command reuses it.
    out = tmp_path / "report.pdf"
    assert cli.main(["report", str(top), str(out), "--date", "2026-03-13"]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0].startswith(f"{out}: ")
    err = captured.err.splitlines()
    for name in BAD_UIDS:
        path = top / "bad" / f"{name.replace(' ', '_')}.dcm"
        assert sum(line.startswith(f"{path}: ") for line in err) == 1


def test_a_study_whose_section_fails_is_left_out_with_a_problem(
    sample_records: tuple[ImageRecord, ...],
) -> None:
    ductogram = next(r for r in sample_records if r.study_description.upper().startswith("DUCT"))
    opened = open_annotations(ductogram.study_instance_uid, [ductogram.path])
    assert opened.annotations.findings
    missing = replace(opened.annotations, study_instance_uid="1.2.3.4")  # no image loaded
    problems: list[str] = []
    content = build_report(sample_records, [opened.annotations, missing], DATE, problems)
    assert [s.header.study_instance_uid for s in content.studies] == [ductogram.study_instance_uid]
    assert problems == ["study 1.2.3.4 left out of the report: no image of study 1.2.3.4 is loaded"]
    with pytest.raises(ValueError, match="no image of study"):
        build_report(sample_records, [missing], DATE)
