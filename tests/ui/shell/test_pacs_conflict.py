"""A colleague's newer revision on the PACS: Store Marks asks (reload theirs / keep both), and
a study opened from the PACS cache is checked again when the window regains focus."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Sequence
from pathlib import Path

from pydicom.dataset import Dataset
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from galactoview.pacs import dicomweb
from galactoview.pacs.configured import NodeKind, NodeSettings
from galactoview.pacs.conflict import NewerRevision, Relation
from galactoview.pacs.nodes import parse_dicomweb_url
from galactoview.pacs.origin import StudyOrigin, remember_origin
from galactoview.pacs.outgoing import sidecar_sr
from galactoview.pacs.results import StoreResult
from galactoview.pacs.revisions import adopt_newest_report
from galactoview.sr import sidecar
from galactoview.ui.shell.main_window import MainWindow
from galactoview.ui.shell.pacs_conflict import CHECK_INTERVAL_S, ConflictChoice
from galactoview.ui.shell.pacs_store import StoreChoice
from tests.pacs.conftest import orthanc
from tests.pacs.orthanc import OrthancServer, free_port
from tests.pacs.sample import revise, sample_sr
from tests.ui.annotate.test_annotation_saver import copy_ductogram, mark
from tests.ui.conftest import OpenWindow
from tests.ui.shell.test_pacs_store import marked_on_orthanc, sr_on_pacs, sr_uid, store, use_node

__all__ = ["orthanc"]  # the fixture, used by name

LATER = dt.datetime(2026, 12, 4, 9, 30, 0)
LATEST = dt.datetime(2026, 12, 4, 10, 45, 0)
COLLEAGUE = "Surgeon^Sam"


def close_without_storing(_parent: QWidget, _studies: Sequence[str], _node: str) -> StoreChoice:
    return StoreChoice.CLOSE


def colleague_stores(
    orthanc: OrthancServer, previous: Dataset, note: str, when: dt.datetime
) -> str:
    """Another workstation stores a revision of ``previous`` (STOW-RS); return its SOP UID."""
    theirs = revise(previous, note, when, observer=COLLEAGUE)
    result = dicomweb.store(parse_dicomweb_url(orthanc.dicomweb_url), [theirs])
    assert result.stored == (str(theirs.SOPInstanceUID),)
    return str(theirs.SOPInstanceUID)


def question(window: MainWindow) -> QMessageBox:
    """The conflict question shown over the window."""
    (box,) = [
        box for box in window.findChildren(QMessageBox, "PacsConflictDialog") if box.isVisible()
    ]
    return box


def answer(qtbot: QtBot, window: MainWindow, button: str) -> ConflictChoice:
    """Click one of the question's buttons; return the choice acted on."""
    box = question(window)
    with qtbot.waitSignal(window.pacs.conflicts.resolved, timeout=10_000) as resolved:
        next(b for b in box.buttons() if b.text() == button).click()
    choice = resolved.args[1]
    assert isinstance(choice, ConflictChoice)
    return choice


def stored_then_edited_there(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path, orthanc: OrthancServer
) -> tuple[MainWindow, Path, str, str, str]:
    """Our revision stored, a colleague's made from it stored, ours edited again and Store
    Marks chosen: returns (window, folder, study, our stored UID, their UID) once asked."""
    window, folder, study = marked_on_orthanc(open_window, tmp_path, orthanc)
    window.pacs.ask_store = close_without_storing
    assert isinstance(store(qtbot, window), StoreResult)
    ours = sr_uid(folder, study)
    theirs = colleague_stores(
        orthanc, sidecar_sr(folder / sidecar.sidecar_name(study)), "theirs", LATER
    )
    mark(window)  # a second finding, on our side only

    with (
        qtbot.waitSignal(window.pacs.conflicts.asked, timeout=60_000),
        qtbot.waitSignal(window.pacs.store_finished, timeout=60_000) as finished,
    ):
        assert window.pacs.store_marks()
    newer = finished.args[0]
    assert isinstance(newer, NewerRevision)
    # Both made from our stored revision: theirs there, ours here since.
    assert (newer.sop_instance_uid, newer.relation) == (theirs, Relation.BRANCHES)
    mine = sr_uid(folder, study)  # saved before the check: not sent
    assert mine != ours
    assert sr_on_pacs(orthanc, study) == {ours, theirs}
    box = question(window)
    assert box.text() == (
        "Orthanc holds a newer revision of the marks of PHANTOM, GALACTO SYNTHETIC, "
        "2026-03-12 DUCTOGRAM LEFT: Surgeon, Sam's of 2026-12-04 09:30, made from an "
        "earlier revision you also edited. Your marks are not stored."
    )
    assert "Reload Theirs: their revision becomes this study's marks" in box.informativeText()
    assert sorted(b.text() for b in box.buttons()) == ["Cancel", "Keep Both", "Reload Theirs"]
    assert (
        window.statusBar()
        .currentMessage()
        .startswith(
            f"Marks not stored: Orthanc holds a newer revision (SR {theirs} by Surgeon, Sam"
        )
    )
    return window, folder, study, ours, theirs


def test_store_marks_with_a_newer_revision_asks_and_reload_takes_theirs(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path, orthanc: OrthancServer
) -> None:
    window, folder, study, ours, theirs = stored_then_edited_there(
        open_window, qtbot, tmp_path, orthanc
    )
    path = folder / sidecar.sidecar_name(study)
    mine = path.read_text(encoding="utf-8")

    assert answer(qtbot, window, "Reload Theirs") is ConflictChoice.RELOAD

    findings = window.workspace.annotations(study).findings
    assert [f.note for f in findings] == ["theirs"]  # their one finding; our second is gone
    assert window.workspace.annotations(study).observer == COLLEAGUE
    assert sr_uid(folder, study) == theirs
    assert path.with_name(path.name + ".bak").read_text(encoding="utf-8") == mine
    assert study not in window.saver.unsaved_studies()
    assert (
        window.statusBar().currentMessage().startswith(f"Marks reloaded from Orthanc: SR {theirs}")
    )
    # Their revision is ours now: storing sends nothing new and asks nothing.
    assert store(qtbot, window) == StoreResult((), (theirs,), ())
    assert sr_on_pacs(orthanc, study) == {ours, theirs}
    assert window.problems.messages() == []


def test_keep_both_loads_theirs_as_the_sidecar_and_keeps_ours_beside_it(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path, orthanc: OrthancServer
) -> None:
    window, folder, study, ours, theirs = stored_then_edited_there(
        open_window, qtbot, tmp_path, orthanc
    )
    path = folder / sidecar.sidecar_name(study)

    assert answer(qtbot, window, "Keep Both") is ConflictChoice.KEEP_BOTH

    (copy,) = sidecar.alongside_sidecars(path)
    assert str(sidecar_sr(path).SOPInstanceUID) == theirs
    kept = sidecar_sr(copy)
    target = window.saver.target(study)
    assert target is not None and target.path == copy  # later saves go to our copy
    assert len(window.workspace.annotations(study).findings) == 2  # ours, both findings
    banner = window.storage_banner.text()
    assert banner == (
        f"Your marks are kept in {copy}; SR {theirs} by Surgeon, Sam of 2026-12-04 09:30 "
        f"from Orthanc is in {path}"
    )
    assert window.statusBar().currentMessage() == banner
    # Ours stored now: theirs is known, so nothing is asked; both are on the PACS.
    result = store(qtbot, window)
    assert result == StoreResult((str(kept.SOPInstanceUID),), (), ())
    assert sr_on_pacs(orthanc, study) == {ours, theirs, str(kept.SOPInstanceUID)}
    assert window.problems.messages() == []


def test_cancel_changes_nothing_and_sends_nothing(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path, orthanc: OrthancServer
) -> None:
    window, folder, study, ours, theirs = stored_then_edited_there(
        open_window, qtbot, tmp_path, orthanc
    )
    before = (folder / sidecar.sidecar_name(study)).read_bytes()
    assert answer(qtbot, window, "Cancel") is ConflictChoice.CANCEL
    assert (folder / sidecar.sidecar_name(study)).read_bytes() == before
    assert len(window.workspace.annotations(study).findings) == 2
    assert sr_on_pacs(orthanc, study) == {ours, theirs}
    assert window.named_actions["store_marks"].isEnabled()  # still something to store


def activate(window: MainWindow) -> None:
    """The window regains focus."""
    QApplication.sendEvent(window, QEvent(QEvent.Type.WindowActivate))


def retrieved_into_cache(tmp_path: Path, first: Dataset, origin: StudyOrigin) -> Path:
    """The sample ductogram as a retrieve leaves it in the cache at ``tmp_path / "cache"``:
    its images, ``first`` adopted as its sidecar, its origin beside it; returns its folder."""
    study = str(first.StudyInstanceUID)
    cache = tmp_path / "cache"
    folder = cache / study
    cache.mkdir(parents=True)
    shutil.move(copy_ductogram(tmp_path), folder)
    adopted = adopt_newest_report(study, folder, [first])
    assert adopted.imported is not None
    remember_origin(cache, study, origin)
    return folder


def opened_from_cache(
    open_window: OpenWindow, folder: Path, node: NodeSettings
) -> tuple[MainWindow, list[float]]:
    """A window on a cached study, ``node`` configured; returns it and its clock's time."""
    window = open_window([folder])
    window.pacs.ask_store = close_without_storing
    conflicts = window.pacs.conflicts
    conflicts.cache_root = folder.parent
    now = [1000.0]
    conflicts.clock = lambda: now[0]
    use_node(window, node)
    return window, now


def test_a_cached_study_is_checked_again_when_the_window_regains_focus(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path, orthanc: OrthancServer
) -> None:
    orthanc.clear()
    first = sample_sr()
    study = str(first.StudyInstanceUID)
    node = parse_dicomweb_url(orthanc.dicomweb_url)
    assert dicomweb.store(node, [first]).stored == (str(first.SOPInstanceUID),)
    origin = StudyOrigin("Orthanc", orthanc.dicomweb_url, str(first.SOPInstanceUID))
    folder = retrieved_into_cache(tmp_path, first, origin)
    window, now = opened_from_cache(
        open_window, folder, NodeSettings("Orthanc", NodeKind.DICOMWEB, url=orthanc.dicomweb_url)
    )
    conflicts = window.pacs.conflicts

    # Nothing newer: checked, nothing asked.
    with qtbot.waitSignal(conflicts.checked, timeout=60_000) as checked:
        activate(window)
    (found,) = checked.args[0]
    assert found.check is not None and found.check.newer is None

    # A colleague stores a revision: within the minute, focus does not check again.
    theirs = colleague_stores(orthanc, first, "theirs", LATER)
    now[0] += CHECK_INTERVAL_S / 2
    assert not conflicts.check_now()
    now[0] += CHECK_INTERVAL_S
    with qtbot.waitSignal(conflicts.asked, timeout=60_000):
        activate(window)
    assert question(window).text() == (
        "Orthanc holds a newer revision of the marks of PHANTOM, GALACTO SYNTHETIC, "
        "2026-03-12 DUCTOGRAM LEFT: Surgeon, Sam's of 2026-12-04 09:30, made from your "
        "revision."
    )
    assert "you have no unsaved marks on this study" in question(window).informativeText()
    assert answer(qtbot, window, "Cancel") is ConflictChoice.CANCEL

    # Cancelled: the next check does not ask about the same revision again.
    now[0] += CHECK_INTERVAL_S
    with qtbot.waitSignal(conflicts.checked, timeout=60_000) as checked:
        assert conflicts.check_now()
    (found,) = checked.args[0]
    assert found.check is not None and found.check.newer is not None
    assert found.check.newer.sop_instance_uid == theirs
    assert conflicts.asking() is None

    # A newer one still: asked again; reloaded, the document shows their findings.
    latest = colleague_stores(
        orthanc, sidecar_sr_of(orthanc, study, theirs), "theirs, revised", LATEST
    )
    now[0] += CHECK_INTERVAL_S
    with qtbot.waitSignal(conflicts.asked, timeout=60_000):
        activate(window)
    assert answer(qtbot, window, "Reload Theirs") is ConflictChoice.RELOAD
    assert window.workspace.annotations(study).findings[0].note == "theirs, revised"
    assert sr_uid(folder, study) == latest
    assert window.problems.messages() == []


def sidecar_sr_of(orthanc: OrthancServer, study: str, uid: str) -> Dataset:
    """One SR of a study as the PACS holds it (WADO-RS)."""
    reports, failures = dicomweb.retrieve_reports(parse_dicomweb_url(orthanc.dicomweb_url), study)
    assert failures == ()
    return next(r for r in reports if str(r.SOPInstanceUID) == uid)


def test_a_node_that_cannot_be_checked_is_a_status_line_and_other_studies_are_not_checked(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    first = sample_sr()
    url = f"http://127.0.0.1:{free_port()}/dicom-web"
    # The origin names a node not configured: the default node is asked.
    folder = retrieved_into_cache(tmp_path / "a", first, StudyOrigin("Gone", "http://gone"))
    window, _now = opened_from_cache(
        open_window, folder, NodeSettings("Down", NodeKind.DICOMWEB, url=url)
    )
    with qtbot.waitSignal(window.pacs.conflicts.checked, timeout=60_000) as checked:
        activate(window)
    (found,) = checked.args[0]
    assert (found.node_name, found.check) == ("Down", None)
    assert (
        window.statusBar()
        .currentMessage()
        .startswith(f"Newer marks not checked on Down: {url}: QIDO-RS search for the SRs of study ")
    )
    assert window.problems.messages() == []
    assert window.pacs.conflicts.asking() is None

    # A study opened from a folder of its own is not checked in the background.
    (tmp_path / "b").mkdir()
    local = open_window([copy_ductogram(tmp_path / "b")])
    use_node(local, NodeSettings("Down", NodeKind.DICOMWEB, url=url))
    local.pacs.conflicts.cache_root = tmp_path / "a" / "cache"
    assert not local.pacs.conflicts.check_now(force=True)


def test_revisions_saved_here_since_the_last_store_stay_ours_in_a_later_session(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path, orthanc: OrthancServer
) -> None:
    window, folder, study = marked_on_orthanc(open_window, tmp_path, orthanc)
    window.pacs.ask_store = close_without_storing
    assert isinstance(store(qtbot, window), StoreResult)
    stored = sr_uid(folder, study)
    for _ in range(3):  # autosaves: each a revision naming only the one before
        mark(window)
        assert window.saver.save_now()
    assert window.close()

    again = open_window([folder])
    again.pacs.ask_store = close_without_storing
    mark(again)
    result = store(qtbot, again)  # the PACS's newest is where ours started: no question
    assert result == StoreResult((sr_uid(folder, study),), (), ())
    assert stored in again.pacs.conflicts.lineage(study)
    assert again.pacs.conflicts.asking() is None


def test_closing_with_a_newer_revision_on_the_pacs_stays_open_and_asks(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path, orthanc: OrthancServer
) -> None:
    window, folder, study = marked_on_orthanc(open_window, tmp_path, orthanc)
    window.pacs.ask_store = close_without_storing
    assert isinstance(store(qtbot, window), StoreResult)
    ours = sr_uid(folder, study)
    theirs = colleague_stores(orthanc, sidecar_sr(folder / sidecar.sidecar_name(study)), "x", LATER)
    mark(window)
    window.pacs.ask_store = lambda _parent, _studies, _node: StoreChoice.STORE

    with qtbot.waitSignal(window.pacs.conflicts.asked, timeout=60_000):
        assert not window.close()  # nothing stored: the window stays open

    assert window.isVisible()
    assert sr_on_pacs(orthanc, study) == {ours, theirs}
    assert answer(qtbot, window, "Cancel") is ConflictChoice.CANCEL
    window.pacs.ask_store = close_without_storing
