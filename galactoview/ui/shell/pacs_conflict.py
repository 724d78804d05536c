"""A newer revision of a study's marks on the PACS than the one edited here: reload or keep both.

:class:`RevisionConflicts` (owned by :class:`~galactoview.ui.shell.pacs_store.PacsActions`)
turns what :func:`galactoview.pacs.conflict.newer_revision_on_pacs` finds into the
question the sidecar-changed-on-disk case asks
(:class:`~galactoview.ui.annotate.annotation_saver.AnnotationSaver`), without blocking:

* **Reload Theirs** — their revision becomes the study's marks: written as the study's
  sidecar by the adoption path of a retrieve
  (:func:`galactoview.pacs.revisions.adopt_revision`, the sidecar held here kept as
  ``.bak``), then read again (:meth:`AnnotationSaver.reload`): unsaved marks are dropped.
* **Keep Both** — their revision becomes the study's sidecar the same way, and the
  marks edited here are kept as a "keep both" copy next to it
  (:meth:`AnnotationSaver.keep_both`, as after a sidecar conflict): the reader goes on
  with them, and the banner says where each revision is. Storing them later makes
  them the newest revision on the PACS, theirs staying there as a branch.
* **Cancel** — nothing changes (and nothing is stored).

When it is asked:

* **before Store Marks to PACS sends** (:meth:`PacsActions.store_marks`): the check runs
  in the same pool thread as the send, just before it; on a conflict nothing is sent;
* **when the window regains focus** with studies open from the PACS retrieve cache
  (their images in ``<cache root>/<Study Instance UID>/``), at most once a minute
  (:data:`CHECK_INTERVAL_S`), in a pool thread; a revision the reader cancelled for is
  not asked about again by this check. Such a study is checked on the node it was
  retrieved from (:func:`galactoview.pacs.origin.recall_origin`, written beside its cache
  folder at retrieve time), else on the default node; a node whose secret is not known
  is not checked (focus never asks for a password).

"Ours" (:meth:`RevisionConflicts.ours`) is the revision the study's sidecar holds and
its predecessor, plus the revisions this study's marks were loaded from, stored as, or
reloaded from (kept per study in the settings, :data:`LINEAGE_KEY`; autosave makes a new
revision every few seconds, and a sidecar names only its immediate predecessor), plus
the revision adopted at retrieve time.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from galactoview.pacs.cache import default_cache_root
from galactoview.pacs.configured import NodeSettings
from galactoview.pacs.conflict import NewerRevision, PacsCheck, newer_revision_on_pacs
from galactoview.pacs.nodes import DicomWebNode, DimseNode, NodeError
from galactoview.pacs.origin import cached_study, recall_origin
from galactoview.pacs.outgoing import sidecar_sr
from galactoview.pacs.revisions import adopt_revision, predecessors
from galactoview.sr import sidecar
from galactoview.ui.background import BackgroundCall
from galactoview.ui.shell.pacs_nodes_dialog import PacsNodes

if TYPE_CHECKING:
    from galactoview.ui.shell.main_window import MainWindow

__all__ = [
    "CHECK_INTERVAL_S",
    "LINEAGE_KEY",
    "AskConflict",
    "ConflictChoice",
    "RevisionConflicts",
    "ask_conflict_with_dialog",
    "conflict_question",
]

#: Settings group: ``<it>/<Study Instance UID>`` = SR SOP Instance UIDs, one a line.
LINEAGE_KEY: Final = "pacs/lineage"
#: Shortest time between two background checks (seconds).
CHECK_INTERVAL_S: Final = 60.0
#: Revisions remembered per study in :data:`LINEAGE_KEY` (the latest kept).
_MAX_LINEAGE: Final = 64
_STATUS_MS: Final = 10_000


class ConflictChoice(enum.Enum):
    """The reader's answer to a newer revision on the PACS."""

    RELOAD = "reload theirs"
    KEEP_BOTH = "keep both"
    CANCEL = "cancel"


#: Shows the question: (parent, text, informative text, called with the answer) -> anything.
AskConflict = Callable[[QWidget, str, str, Callable[[ConflictChoice], None]], object]


def conflict_question(
    study: str, newer: NewerRevision, node_name: str, unsaved: bool, *, storing: bool = False
) -> tuple[str, str]:
    """Return the question and its informative text (see the module docstring).

    Parameters
    ----------
    study
        The study, named for the reader.
    newer
        The revision on the PACS.
    node_name
        The node that holds it.
    unsaved
        Whether the study has marks not saved yet (dropped by Reload Theirs).
    storing
        Whether it stopped Store Marks to PACS (then the question says nothing was sent).
    """
    author = newer.author or "an unnamed reader"
    when = newer.content_datetime
    date = f" of {when:%Y-%m-%d %H:%M}" if when is not None else ""
    text = (
        f"{node_name} holds a newer revision of the marks of {study}: {author}'s{date}, "
        f"{newer.relation.value}." + (" Your marks are not stored." if storing else "")
    )
    dropped = (
        "your unsaved marks on this study are dropped"
        if unsaved
        else "you have no unsaved marks on this study"
    )
    informative = (
        f"Reload Theirs: their revision becomes this study's marks ({dropped}; your "
        "saved revision is kept as a .bak file).\n"
        "Keep Both: their revision becomes this study's sidecar and your marks are saved "
        "to a new file next to it; you go on with yours.\n"
        "Cancel: nothing changes."
    )
    return text, informative


def ask_conflict_with_dialog(
    parent: QWidget, text: str, informative: str, answered: Callable[[ConflictChoice], None]
) -> QMessageBox:
    """Ask without blocking (window-modal box): Reload Theirs, Keep Both (default), Cancel."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Newer marks on the PACS", text, parent=parent)
    box.setObjectName("PacsConflictDialog")
    box.setInformativeText(informative)
    reload_button = box.addButton("Reload Theirs", QMessageBox.ButtonRole.DestructiveRole)
    keep_button = box.addButton("Keep Both", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(keep_button)

    def finished(_result: int) -> None:
        clicked = box.clickedButton()
        choice = (
            ConflictChoice.RELOAD
            if clicked is reload_button
            else ConflictChoice.KEEP_BOTH
            if clicked is keep_button
            else ConflictChoice.CANCEL
        )
        box.deleteLater()
        answered(choice)

    box.finished.connect(finished)
    box.open()
    return box


@dataclass(frozen=True)
class _Job:
    """One study to check in the background, on one node."""

    study: str
    node_name: str
    node: DicomWebNode | DimseNode
    ours: tuple[str, ...]


@dataclass(frozen=True)
class Checked:
    """What a background check found for one study.

    Attributes
    ----------
    study
        Study Instance UID.
    node_name
        The node asked.
    check
        What it answered; ``None`` when it could not be asked.
    error
        Why it could not be asked (one line), else ``""``.
    """

    study: str
    node_name: str
    check: PacsCheck | None
    error: str = ""


def _check_all(jobs: Sequence[_Job]) -> tuple[Checked, ...]:
    """Ask each node about each study (runs in a pool thread; never raises)."""
    found: list[Checked] = []
    for job in jobs:
        try:
            check = newer_revision_on_pacs(job.node, job.study, job.ours)
        except Exception as error:  # the node's errors: one line, checked again later
            line = (str(error).splitlines() or [type(error).__name__])[0]
            found.append(Checked(job.study, job.node_name, None, line))
            continue
        found.append(Checked(job.study, job.node_name, check))
    return tuple(found)


class RevisionConflicts(QObject):
    """Newer revisions on the PACS: the lineage of ours, the question, the answers, the checks.

    Parameters
    ----------
    window
        The main window (saver, workspace, records, settings, problems, status bar).
    config
        The configured nodes and their secrets.
    describe
        Names a study for the reader ("patient, date description").

    Attributes
    ----------
    ask
        Shows the question (:func:`ask_conflict_with_dialog`; replaceable in tests).
    cache_root
        The retrieve cache's folder (:func:`galactoview.pacs.cache.default_cache_root`).
    clock
        Seconds of a monotonic clock (tests give their own).

    Signals
    -------
    asked(str)
        The question about a study is shown.
    resolved(str, object)
        The reader answered about a study (its :class:`ConflictChoice`) and it was done.
    checked(object)
        A background check is over: a tuple of :class:`Checked`.
    """

    asked = Signal(str)
    resolved = Signal(str, object)
    checked = Signal(object)

    def __init__(
        self, window: MainWindow, config: PacsNodes, describe: Callable[[str], str]
    ) -> None:
        super().__init__(window)
        self._window = window
        self._config = config
        self._describe = describe
        self.ask: AskConflict = ask_conflict_with_dialog
        self.cache_root: Path = default_cache_root()
        self.clock: Callable[[], float] = time.monotonic
        self._last_check: float | None = None
        self._checking = False
        self._asking: str | None = None
        self._declined: dict[str, str] = {}  # study -> their revision the reader cancelled
        self._reported: set[str] = set()  # problem lines of background checks already shown
        self._read: dict[str, tuple[tuple[Path, int, int], tuple[str, ...]]] = {}
        self._seen: dict[str, Path] = {}  # study -> the sidecar its lineage was noted from
        self._checker = BackgroundCall(self)
        self._checker.done.connect(self._on_checked)
        self._waiting_for_marks = False
        window.saver.storage_changed.connect(self._note_loaded)
        window.installEventFilter(self)

    # --- ours -----------------------------------------------------------------------------

    def revision(self, study: str) -> tuple[str, ...]:
        """Return the SOP UID of the revision the study's sidecar holds, then its predecessors.

        ``()`` when it has none; read again only when the file changed (size or
        modification time), so the many refreshes of a reading session cost one ``stat``.
        """
        target = self._window.saver.target(study)
        if target is None:
            return ()
        try:
            info = target.path.stat()
        except OSError:
            return ()
        stamp = (target.path, info.st_size, info.st_mtime_ns)
        known = self._read.get(study)
        if known is None or known[0] != stamp:
            try:
                report = sidecar_sr(target.path)
                uids: tuple[str, ...] = (str(report.SOPInstanceUID), *predecessors(report))
            except (ValueError, AttributeError):
                uids = ()
            known = (stamp, uids)
            self._read[study] = known
        return known[1]

    def lineage(self, study: str) -> tuple[str, ...]:
        """Return the revisions of a study remembered as ours (loaded, stored, reloaded)."""
        text = self._window.settings.text(f"{LINEAGE_KEY}/{study}", "")
        return tuple(line for line in text.splitlines() if line)

    def remember(self, study: str, uids: Sequence[str]) -> None:
        """Add revisions to a study's lineage (the latest :data:`_MAX_LINEAGE` kept)."""
        known = list(self.lineage(study))
        added = [uid for uid in uids if uid and uid not in known]
        if added:
            kept = (known + added)[-_MAX_LINEAGE:]
            self._window.settings.set(f"{LINEAGE_KEY}/{study}", "\n".join(kept))

    def ours(self, study: str) -> tuple[str, ...]:
        """Return our revision (first) and its predecessors as known here (module docstring)."""
        found = list(self.revision(study))
        if not found:
            found.append("")  # no revision here: nothing can descend from ours
        found += self.lineage(study)
        if self.is_cached(study):
            origin = recall_origin(self.cache_root, study)
            if origin is not None and origin.revision:
                found.append(origin.revision)
        return tuple(dict.fromkeys(found))

    def _note_loaded(self) -> None:
        """Remember the revision each study's sidecar held when it was opened."""
        for study in self._window.workspace.studies():
            target = self._window.saver.target(study)
            if target is None or self._seen.get(study) == target.path:
                continue
            self._seen[study] = target.path
            self.remember(study, self.revision(study)[:1])
        if self._waiting_for_marks and not self._window.saver.is_reading():
            self._waiting_for_marks = False
            self.check_now(force=True)  # the check skipped while the marks were read

    # --- which studies, which node ---------------------------------------------------------

    def _image_paths(self, study: str) -> list[Path]:
        return [r.path for r in self._window.records if r.study_instance_uid == study]

    def is_cached(self, study: str) -> bool:
        """Whether a study's images were opened from the PACS retrieve cache."""
        return cached_study(self.cache_root, study, self._image_paths(study))

    def node_for(self, study: str) -> NodeSettings | None:
        """Return the node a cached study came from if configured, else the default node."""
        nodes, _problems = self._config.nodes()
        origin = recall_origin(self.cache_root, study)
        if origin is not None:
            for node in nodes:
                if node.name == origin.node:
                    return node
            for node in nodes:
                if node.address() == origin.address:
                    return node
        return self._config.default()

    # --- the question ----------------------------------------------------------------------

    def asking(self) -> str | None:
        """Return the study the question is shown for, if any."""
        return self._asking

    def ask_about(
        self, study: str, newer: NewerRevision, node_name: str, *, storing: bool = False
    ) -> bool:
        """Ask the reader what to do about a newer revision (not blocking; one at a time).

        ``storing``: it stopped Store Marks to PACS (the question says nothing was sent).

        Returns
        -------
        bool
            Whether the question was shown (not when another one is).
        """
        if self._asking is not None:
            return False
        self._asking = study
        saver = self._window.saver
        unsaved = study in saver.unsaved_studies()
        text, informative = conflict_question(
            self._describe(study), newer, node_name, unsaved, storing=storing
        )
        self.ask(
            self._window,
            text,
            informative,
            lambda choice: self._answered(study, newer, node_name, choice),
        )
        self.asked.emit(study)
        return True

    def _answered(
        self, study: str, newer: NewerRevision, node_name: str, choice: ConflictChoice
    ) -> None:
        self._asking = None
        if study not in self._window.workspace.studies():
            choice = ConflictChoice.CANCEL  # closed meanwhile: nothing to do
        if choice is ConflictChoice.RELOAD:
            self.reload_theirs(study, newer, node_name)
        elif choice is ConflictChoice.KEEP_BOTH:
            self.keep_both(study, newer, node_name)
        else:
            self._declined[study] = newer.sop_instance_uid
        self.resolved.emit(study, choice)

    # --- the answers -----------------------------------------------------------------------

    def _adopt(self, study: str, newer: NewerRevision, node_name: str) -> Path | None:
        """Write their revision as the study's sidecar; return where, None when it failed."""
        paths = self._image_paths(study)
        if not paths:
            return None
        adoption = adopt_revision(
            newer.revision, sidecar.study_folder(paths), replacing=self.ours(study)
        )
        problems = self._window.problems
        problems.report_many((f"{node_name}: {line}", None) for line in adoption.problems)
        if adoption.imported is None:
            problems.report(f"{node_name}: {newer.describe()} could not be loaded; nothing changed")
            return None
        self.remember(study, [newer.sop_instance_uid])
        return adoption.imported.path

    def reload_theirs(self, study: str, newer: NewerRevision, node_name: str) -> bool:
        """Make their revision the study's marks (unsaved marks dropped); return success."""
        if self._adopt(study, newer, node_name) is None:
            return False
        self._window.saver.reload(study)
        self._window.statusBar().showMessage(
            f"Marks reloaded from {node_name}: {newer.describe()}", _STATUS_MS
        )
        return True

    def keep_both(self, study: str, newer: NewerRevision, node_name: str) -> bool:
        """Write their revision as the sidecar and keep ours in a copy next to it.

        The banner says where each is; a study without marks here simply reloads.
        Returns whether it was done.
        """
        saver = self._window.saver
        marks = self._window.workspace.annotations(study)
        if not (marks.findings or marks.duct_segments or marks.landmarks):
            return self.reload_theirs(study, newer, node_name)
        theirs = self._adopt(study, newer, node_name)
        if theirs is None:
            return False
        saver.keep_both(study)
        target = saver.target(study)
        if target is None or study in saver.failure_reasons():
            return False  # the banner says the marks are not saved
        notice = (
            f"Your marks are kept in {target.path}; {newer.describe()} from {node_name} "
            f"is in {theirs}"
        )
        saver.show_notice(study, notice)
        self._window.statusBar().showMessage(notice, _STATUS_MS)
        return True

    # --- the background check --------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        """Check again when the window is activated (it regained focus)."""
        if watched is self._window and event.type() == QEvent.Type.WindowActivate:
            self.check_now()
        return False

    def check_now(self, *, force: bool = False) -> bool:
        """Check the studies open from the cache in a pool thread (at most once a minute).

        Parameters
        ----------
        force
            Check even if the last check is less than :data:`CHECK_INTERVAL_S` old.

        Returns
        -------
        bool
            Whether a check was started (its outcome comes with :attr:`checked`).
        """
        now = self.clock()
        recent = self._last_check is not None and now - self._last_check < CHECK_INTERVAL_S
        if self._checking or self._asking is not None or (recent and not force):
            return False
        jobs: list[_Job] = []
        studies = dict.fromkeys(r.study_instance_uid for r in self._window.records)
        for study in studies:
            if not self.is_cached(study):
                continue
            if self._window.saver.is_reading(study):
                # Its revision is not known yet: every revision on the node would look
                # newer than ours. Checked when the read is in (:meth:`_note_loaded`).
                self._waiting_for_marks = True
                continue
            node = self.node_for(study)
            if node is None:
                continue
            secret = ""
            if node.needs_secret:
                secret = self._config.secrets.get(node.name) or ""
                if not secret:
                    continue
            try:
                target = node.to_node(secret)
            except NodeError:
                continue
            jobs.append(_Job(study, node.name, target, self.ours(study)))
        if not jobs:
            return False
        self._last_check = now
        self._checking = True
        self._checker.start(lambda: _check_all(jobs))
        return True

    def _on_checked(self, ok: bool, value: object) -> None:
        self._checking = False
        found = value if ok and isinstance(value, tuple) else ()
        open_studies = self._window.workspace.studies()
        for checked in found:
            if not isinstance(checked, Checked) or checked.study not in open_studies:
                continue
            if checked.check is None:
                self._window.statusBar().showMessage(
                    f"Newer marks not checked on {checked.node_name}: {checked.error}",
                    _STATUS_MS,
                )
                continue
            fresh = [p for p in checked.check.problems if p not in self._reported]
            self._reported.update(fresh)
            self._window.problems.report_many((f"{checked.node_name}: {p}", None) for p in fresh)
            newer = checked.check.newer
            if newer is None or newer.sop_instance_uid in self.ours(checked.study):
                continue
            if self._declined.get(checked.study) != newer.sop_instance_uid:
                self.ask_about(checked.study, newer, checked.node_name)
        self.checked.emit(found)
