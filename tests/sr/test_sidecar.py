"""Tests for the sidecar store: naming, location, loading, atomic and conflict-safe saving."""

from __future__ import annotations

import json
import os
import re
import stat
from datetime import UTC, datetime
from pathlib import Path

import platformdirs
import pytest

from galactoview.sr import sidecar
from galactoview.sr.sidecar import (
    Fingerprint,
    SidecarConflict,
    SidecarError,
    alongside_sidecars,
    fingerprint,
    folder_write_problem,
    load,
    save,
    save_alongside,
    sidecar_location,
    sidecar_name,
    study_folder,
    user_sidecar_dir,
)

UID = "1.2.826.0.1.3680043.8.498.12345"
NAME = f"galactoview-{UID}.sr.json"


def dicom_json(note: str = "Läsion – intraduktal ✓", uid: str = UID) -> str:
    """Return a small DICOM JSON object (PS3.18 F.2) with a non-ASCII text value."""
    return json.dumps(
        {
            "00080005": {"vr": "CS", "Value": ["ISO_IR 192"]},
            "0020000D": {"vr": "UI", "Value": [uid]},
            "0040A160": {"vr": "UT", "Value": [note]},
        },
        ensure_ascii=False,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    """Return every file in ``folder`` with its content."""
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


@pytest.fixture()
def saved(tmp_path: Path) -> tuple[Path, Fingerprint]:
    """A sidecar saved once in a fresh folder, and its fingerprint."""
    path = tmp_path / NAME
    return path, save(path, dicom_json("first"), expected=None)


# --- naming and location -------------------------------------------------------------------


def test_sidecar_name_is_documented_pattern_and_strips_padding() -> None:
    assert sidecar_name(UID) == NAME
    assert sidecar_name(UID + "\0") == NAME
    assert sidecar_name(UID + " ") == NAME


@pytest.mark.parametrize(
    "bad", ["", "../1.2", "1.2/3", "1..2", "1.2.", "abc", "1.2\\3", "1." + "2" * 64]
)
def test_sidecar_name_rejects_values_that_are_not_uids(bad: str) -> None:
    with pytest.raises(ValueError, match="not a DICOM UID"):
        sidecar_name(bad)


def test_study_folder_is_common_folder_of_image_files(tmp_path: Path) -> None:
    files = [tmp_path / "study" / "s1" / "a.dcm", tmp_path / "study" / "s2" / "b.dcm"]
    assert study_folder(files) == tmp_path / "study"
    assert study_folder([tmp_path / "study" / "s1" / "a.dcm"]) == tmp_path / "study" / "s1"


def test_study_folder_is_folder_of_dicomdir_or_zip(tmp_path: Path) -> None:
    deep = [tmp_path / "cd" / "DICOM" / "IMG1", tmp_path / "cd" / "DICOM" / "IMG2"]
    assert study_folder(deep, container=tmp_path / "cd" / "DICOMDIR") == tmp_path / "cd"
    # images inside an archive carry the archive's path
    archive = tmp_path / "exports" / "study.zip"
    assert study_folder([archive, archive]) == tmp_path / "exports"


def test_study_folder_needs_a_path() -> None:
    with pytest.raises(ValueError, match="at least one"):
        study_folder([])


def test_user_sidecar_dir_is_under_platformdirs_user_data_path() -> None:
    assert user_sidecar_dir() == platformdirs.user_data_path("GalactoView") / "sidecars"


def test_writable_folder_gets_sidecar_next_to_study_and_probe_leaves_nothing(
    tmp_path: Path,
) -> None:
    location = sidecar_location(tmp_path, UID, user_dir=tmp_path / "user")
    assert location.path == tmp_path / NAME
    assert location.fallback is False
    assert location.notice == ""
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_is_reported_not_writable(tmp_path: Path) -> None:
    problem = folder_write_problem(tmp_path / "absent")
    assert problem is not None
    assert "No such file" in problem


def test_unwritable_folder_falls_back_to_user_location_with_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    probed: list[Path] = []

    def read_only(folder: Path) -> str | None:
        probed.append(folder)
        return "Read-only file system"

    monkeypatch.setattr(sidecar, "folder_write_problem", read_only)
    study = tmp_path / "cd"
    user = tmp_path / "user" / "sidecars"
    location = sidecar_location(study, UID, user_dir=user)
    assert probed == [study]
    assert location.path == user / NAME
    assert location.fallback is True
    assert str(study) in location.notice
    assert str(user / NAME) in location.notice
    assert "Read-only file system" in location.notice
    # the per-user folder is created by the first save
    save(location.path, dicom_json(), expected=None)
    assert load(location.path) is not None


def test_fallback_uses_platformdirs_location_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sidecar, "folder_write_problem", lambda folder: "Permission denied")
    location = sidecar_location(tmp_path, UID)
    assert location.path == platformdirs.user_data_path("GalactoView") / "sidecars" / NAME


@pytest.mark.skipif(os.name != "posix", reason="chmod 0o555 makes a folder read-only on POSIX")
@pytest.mark.skipif(
    os.name == "posix" and os.geteuid() == 0,
    reason="running as root: chmod 0o555 does not stop root writing, so the folder stays "
    "writable; the fallback is tested through the probe instead",
)
def test_real_read_only_folder_falls_back(tmp_path: Path) -> None:
    study = tmp_path / "study"
    study.mkdir()
    study.chmod(0o555)
    try:
        location = sidecar_location(study, UID, user_dir=tmp_path / "user")
    finally:
        study.chmod(0o755)
    assert location.fallback is True
    assert location.path == tmp_path / "user" / NAME
    assert "not writable" in location.notice


# --- round trip ----------------------------------------------------------------------------


def test_round_trip_keeps_text_and_fingerprint(tmp_path: Path) -> None:
    path = tmp_path / NAME
    text = dicom_json()
    written = save(path, text, expected=None)
    loaded = load(path)
    assert loaded is not None
    assert loaded.text == text
    assert loaded.path == path
    assert loaded.fingerprint == written
    assert path.read_bytes() == text.encode("utf-8")
    assert written.size == len(text.encode("utf-8"))
    assert written.mtime_ns == path.stat().st_mtime_ns
    assert fingerprint(path) == written
    assert snapshot(tmp_path).keys() == {NAME}  # no backup of nothing, no temporary left


def test_load_missing_file_is_none(tmp_path: Path) -> None:
    assert load(tmp_path / NAME) is None
    assert fingerprint(tmp_path / NAME) is None


def test_load_tolerates_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.write_bytes(b"\xef\xbb\xbf" + dicom_json().encode())
    loaded = load(path)
    assert loaded is not None
    assert loaded.text == dicom_json()


def test_successive_saves_keep_previous_version_as_backup(
    saved: tuple[Path, Fingerprint],
) -> None:
    path, first = saved
    second = save(path, dicom_json("second"), expected=first)
    backup = path.with_name(NAME + ".bak")
    assert json.loads(backup.read_text("utf-8"))["0040A160"]["Value"] == ["first"]
    third = save(path, dicom_json("third"), expected=second)
    assert json.loads(backup.read_text("utf-8"))["0040A160"]["Value"] == ["second"]
    loaded = load(path)
    assert loaded is not None
    assert loaded.fingerprint == third
    assert json.loads(loaded.text)["0040A160"]["Value"] == ["third"]
    assert snapshot(path.parent).keys() == {NAME, NAME + ".bak"}


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_save_keeps_the_sidecars_permissions(saved: tuple[Path, Fingerprint]) -> None:
    path, first = saved
    path.chmod(0o640)
    save(path, dicom_json("second"), expected=first)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_save_refuses_text_that_is_not_dicom_json(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        save(tmp_path / NAME, "{", expected=None)
    with pytest.raises(ValueError, match="not a DICOM JSON object"):
        save_alongside(tmp_path / NAME, "[]")
    assert list(tmp_path.iterdir()) == []


# --- atomicity -----------------------------------------------------------------------------


@pytest.mark.parametrize("failing_target", ["sidecar", "backup", "any"])
def test_failed_rename_leaves_old_sidecar_intact_and_no_temporary(
    saved: tuple[Path, Fingerprint], monkeypatch: pytest.MonkeyPatch, failing_target: str
) -> None:
    path, first = saved
    before = snapshot(path.parent)
    real_replace = os.replace

    def replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        name = Path(target).name
        if failing_target == "any" or name == {"sidecar": NAME, "backup": NAME + ".bak"}.get(
            failing_target
        ):
            raise OSError(5, "Input/output error (injected)")
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(SidecarError, match="could not be saved") as caught:
        save(path, dicom_json("second, never complete"), expected=first)
    assert caught.value.path == path
    assert str(path) in str(caught.value)
    after = snapshot(path.parent)
    assert after[NAME] == before[NAME]  # the old sidecar, byte for byte
    assert not [name for name in after if name.endswith(".tmp")]
    assert set(after) <= {NAME, NAME + ".bak"}
    monkeypatch.undo()
    # the store still works afterwards, from the version on disk
    save(path, dicom_json("second"), expected=first)


def test_failed_fsync_of_the_temporary_file_leaves_old_sidecar(
    saved: tuple[Path, Fingerprint], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, first = saved
    before = snapshot(path.parent)

    def broken_fsync(descriptor: int) -> None:
        raise OSError(28, "No space left on device (injected)")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(SidecarError, match="No space left on device"):
        save(path, dicom_json("x" * 10_000), expected=first)
    assert snapshot(path.parent) == before


def test_new_sidecar_that_fails_to_rename_leaves_no_file_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        raise OSError(13, "Permission denied (injected)")

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(SidecarError):
        save(tmp_path / NAME, dicom_json(), expected=None)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="folders are fsynced on POSIX only")
def test_file_then_folder_are_fsynced_around_the_rename(
    saved: tuple[Path, Fingerprint], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, first = saved
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor: int) -> None:
        kind = "folder" if stat.S_ISDIR(os.fstat(descriptor).st_mode) else "file"
        events.append(f"fsync {kind}")
        real_fsync(descriptor)

    def replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        events.append(f"replace {Path(target).name}")
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    save(path, dicom_json("second"), expected=first)
    assert events == [
        "fsync file",  # the new content
        "fsync file",  # the backup's content
        f"replace {NAME}.bak",
        "fsync folder",  # the backup's rename (galactoview.files: every replace is durable)
        f"replace {NAME}",
        "fsync folder",
    ]


# --- conflicts -----------------------------------------------------------------------------


def assert_conflict(path: Path, text: str, expected: Fingerprint | None) -> SidecarConflict:
    """Save must raise a conflict and leave the folder exactly as it was."""
    before = snapshot(path.parent)
    stamp = path.stat().st_mtime_ns if path.exists() else None
    with pytest.raises(SidecarConflict) as caught:
        save(path, text, expected=expected)
    assert snapshot(path.parent) == before
    assert (path.stat().st_mtime_ns if path.exists() else None) == stamp
    assert caught.value.path == path
    assert caught.value.expected == expected
    assert str(path) in str(caught.value)
    assert "not overwritten" in str(caught.value)
    return caught.value


def test_conflict_when_another_workstation_changed_the_sidecar(
    saved: tuple[Path, Fingerprint],
) -> None:
    path, first = saved
    other = dicom_json("written elsewhere, longer")
    path.write_text(other, encoding="utf-8")
    conflict = assert_conflict(path, dicom_json("mine"), first)
    assert conflict.actual == fingerprint(path)
    assert "changed on disk" in str(conflict)


def test_conflict_when_same_size_but_different_content(
    saved: tuple[Path, Fingerprint],
) -> None:
    path, first = saved
    same_size = dicom_json("FIRST")
    assert len(same_size.encode()) == first.size
    path.write_text(same_size, encoding="utf-8")
    os.utime(path, ns=(first.mtime_ns, first.mtime_ns))  # even the time is the same
    conflict = assert_conflict(path, dicom_json("mine"), first)
    assert conflict.actual is not None
    assert conflict.actual.size == first.size
    assert conflict.actual.sha256 != first.sha256


def test_touched_mtime_only_is_not_a_conflict(saved: tuple[Path, Fingerprint]) -> None:
    path, first = saved
    os.utime(path, ns=(first.mtime_ns + 10**9, first.mtime_ns + 10**9))
    touched = fingerprint(path)
    assert touched is not None
    assert touched != first
    assert touched.same_content(first)
    save(path, dicom_json("mine"), expected=first)  # SHA-256 equality wins
    loaded = load(path)
    assert loaded is not None
    assert json.loads(loaded.text)["0040A160"]["Value"] == ["mine"]


def test_conflict_when_a_sidecar_appeared_while_none_was_expected(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.write_text(dicom_json("created by another workstation"), encoding="utf-8")
    conflict = assert_conflict(path, dicom_json("mine"), None)
    assert conflict.actual == fingerprint(path)
    assert "appeared" in str(conflict)


def test_a_sidecar_deleted_since_it_was_loaded_is_written_again(
    saved: tuple[Path, Fingerprint],
) -> None:
    path, first = saved
    path.unlink()
    written = save(path, dicom_json("mine"), expected=first)
    assert load(path) == sidecar.LoadedSidecar(dicom_json("mine"), written, path)
    assert not path.with_name(NAME + ".bak").exists()  # nothing was there to back up


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX feature")
def test_a_fifo_at_the_sidecar_path_is_refused_without_blocking(tmp_path: Path) -> None:
    path = tmp_path / NAME
    os.mkfifo(path)
    assert sidecar.in_the_way(path) == "a FIFO (named pipe)"
    with pytest.raises(SidecarError, match="FIFO") as caught:
        load(path)
    assert caught.value.path == path
    with pytest.raises(SidecarError, match=r"FIFO.*nothing was written"):
        save(path, dicom_json("mine"), expected=None)
    assert stat.S_ISFIFO(path.lstat().st_mode)
    assert snapshot(tmp_path) == {}  # no temporary left behind


def test_a_folder_at_the_sidecar_path_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.mkdir()
    assert sidecar.in_the_way(path) == "a folder"
    with pytest.raises(SidecarError, match=r"a folder is in the way.*nothing was written"):
        save(path, dicom_json("mine"), expected=None)
    assert path.is_dir()
    assert sidecar.in_the_way(tmp_path / "absent") is None


def test_a_huge_file_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sidecar, "MAX_SIDECAR_BYTES", 100)
    path = tmp_path / NAME
    path.write_text(dicom_json("x" * 200), encoding="utf-8")
    with pytest.raises(SidecarError, match="more than any sidecar"):
        load(path)


def test_deeply_nested_json_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.write_text('{"0040A730": {"vr": "SQ", "Value": ' + "[" * 100_000 + "]" * 100_000 + "}}")
    with pytest.raises(SidecarError, match="nested too deeply"):
        load(path)


def test_stale_temporaries_of_killed_saves_are_removed_and_fresh_ones_kept(
    tmp_path: Path,
) -> None:
    stale = [
        tmp_path / f".{NAME}.0123456789ab.tmp",
        tmp_path / f".{NAME}.bak.0123456789ab.tmp",
        tmp_path / ".galactoview-probe.0123456789ab.tmp",
    ]
    fresh = tmp_path / f".{NAME}.ba9876543210.tmp"
    foreign = tmp_path / ".other-program.tmp"
    for path in (*stale, fresh, foreign):
        path.write_bytes(b"partial")
    for path in (*stale, foreign):
        os.utime(path, (1_000_000.0, 1_000_000.0))
    now = 1_000_000.0 + sidecar.STALE_TEMPORARY_S + 1
    os.utime(fresh, (now, now))
    removed = sidecar.remove_stale_temporaries(tmp_path, now=now)
    assert removed == sorted(stale)
    assert sorted(snapshot(tmp_path)) == sorted([fresh.name, foreign.name])


def test_corrupt_sidecar_on_disk_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.write_bytes(b'{"0020000D": {"vr": "UI", "Val')
    with pytest.raises(SidecarError):
        load(path)
    conflict = assert_conflict(path, dicom_json("mine"), None)
    assert conflict.actual is not None
    assert conflict.actual.size == len(b'{"0020000D": {"vr": "UI", "Val')


# --- keep both -----------------------------------------------------------------------------


def test_save_alongside_never_clashes(saved: tuple[Path, Fingerprint]) -> None:
    path, _ = saved
    original = path.read_bytes()
    now = datetime(2026, 11, 24, 20, 7, 22, tzinfo=UTC)
    base = f"galactoview-{UID}-20261124T200722Z"
    squatter = path.with_name(f"{base}-2.sr.json")
    squatter.write_bytes(b"someone else's")
    copies = [save_alongside(path, dicom_json(f"copy {n}"), now=now) for n in range(3)]
    assert [copy.name for copy in copies] == [
        f"{base}.sr.json",
        f"{base}-3.sr.json",
        f"{base}-4.sr.json",
    ]
    for number, copy in enumerate(copies):
        loaded = load(copy)
        assert loaded is not None
        assert json.loads(loaded.text)["0040A160"]["Value"] == [f"copy {number}"]
    assert path.read_bytes() == original
    assert squatter.read_bytes() == b"someone else's"
    assert alongside_sidecars(path) == sorted([*copies, squatter])
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_save_alongside_with_current_time_and_then_save_into_the_copy(
    saved: tuple[Path, Fingerprint],
) -> None:
    path, _ = saved
    copy = save_alongside(path, dicom_json("kept"))
    assert re.fullmatch(rf"galactoview-{re.escape(UID)}-\d{{8}}T\d{{6}}Z\.sr\.json", copy.name)
    save(copy, dicom_json("kept, edited"), expected=fingerprint(copy))
    assert copy.with_name(copy.name + ".bak").read_text("utf-8") == dicom_json("kept")


# --- corrupt or foreign files --------------------------------------------------------------

CORRUPT = {
    "binary garbage": bytes(range(256)) * 4,
    "truncated JSON": dicom_json().encode()[:-7],
    "list at top level": b'[{"0020000D": {"vr": "UI"}}]',
    "string at top level": b'"galactoview"',
    "null at top level": b"null",
    "invalid UTF-8": b'{"0040A160": {"vr": "UT", "Value": ["\xff\xfe"]}}',
    "empty file": b"",
    "empty object": b"{}",
    "key that is not a tag": b'{"findings": {"vr": "SQ"}}',
    "attribute without vr": b'{"0020000D": {"Value": ["1.2"]}}',
    "NaN number": b'{"00189327": {"vr": "FD", "Value": [NaN]}}',
}
PROBLEM = {
    "binary garbage": "not UTF-8",
    "truncated JSON": "not valid JSON",
    "list at top level": "JSON list, not a DICOM JSON object",
    "string at top level": "JSON str, not a DICOM JSON object",
    "null at top level": "JSON null, not a DICOM JSON object",
    "invalid UTF-8": "not UTF-8",
    "empty file": "is empty",
    "empty object": "empty JSON object",
    "key that is not a tag": "not a DICOM tag",
    "attribute without vr": 'no valid "vr"',
    "NaN number": "not valid JSON",
}


@pytest.mark.parametrize("kind", sorted(CORRUPT))
def test_corrupt_sidecar_is_reported_and_left_untouched(tmp_path: Path, kind: str) -> None:
    path = tmp_path / NAME
    path.write_bytes(CORRUPT[kind])
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    with pytest.raises(SidecarError) as caught:
        load(path)
    assert caught.value.path == path
    assert str(caught.value).startswith(f"{path}: ")
    assert PROBLEM[kind] in str(caught.value)
    assert path.read_bytes() == CORRUPT[kind]
    assert path.stat().st_mtime_ns == 1_700_000_000_000_000_000
    assert snapshot(tmp_path).keys() == {NAME}


def test_unreadable_sidecar_is_reported(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.mkdir()
    with pytest.raises(SidecarError, match="a folder is in the way") as caught:
        load(path)
    assert caught.value.path == path
