"""AnnotationSaver: loads each study's sidecar into the workspace and autosaves the edits.

The decisions are Qt-free (:mod:`galactoview.sr.persistence`: where the sidecar is, what a
bad file means; :class:`galactoview.annotations.document.StudyDocument`: what is unsaved,
the one notion of it); this object adds the Qt timer, reads the referenced images' headers,
stores the findings' locations (:func:`galactoview.location.study.locate_document`: marks,
nipples and chest-wall lines as they are) and the reader's chest-wall lines (not the
suggested ones), and turns a conflict (the sidecar changed on
disk since it was read — another workstation) into a question for the reader: reload
theirs, or keep both.

Autosave runs :data:`AUTOSAVE_DELAY_S` seconds after the last edit, **in a save thread**:
the GUI thread only gathers the immutable snapshot, the target and the image headers;
locating, encoding the SR and writing it happen in the thread, and the outcome comes
back queued (issue 15: no hitch after an edit). Opening reads each study's sidecar (find,
parse, decode) in the same thread; until it is in, the study is read-only ("its marks
are being read") and the GUI thread only puts the decoded marks in place. Saving on
close, Ctrl+S, signing and storing to a PACS wait for the autosave under way and then
save in the GUI thread.

Nothing a reader does is lost:

- a save that fails in the study folder (disk full, permissions, a folder or FIFO in the
  way) is retried at once in the per-user sidecar folder, next to any sidecar there
  ("keep both"), and the banner says where the marks now go;
- a save that fails everywhere is reported (naming the file), the banner says the marks
  are **not saved**, :meth:`AnnotationSaver.unsaved_studies` lists the study, and the
  window asks before closing it (save elsewhere, discard, cancel);
- marks on images that are not loaded are saved with the minimal headers of the
  previous revision's evidence (:func:`persistence.evidence_headers`);
- nothing already on disk is lost (the store writes atomically and keeps a backup).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Final

from pydicom.dataset import Dataset
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from galactoview.annotations.document import StudySnapshot
from galactoview.annotations.model import AnnotationSet, ChestWallLine
from galactoview.dicom.loading import ImageRecord, StructuredReportFile, read_header
from galactoview.dicom.person_name import format_person_name
from galactoview.location.localize import FindingLocation
from galactoview.location.study import locate_document
from galactoview.sr import sidecar, signing
from galactoview.sr.beside import MarksBeside, marks_beside
from galactoview.sr.clinical_report import ClinicalReport
from galactoview.sr.foreign import with_image_laterality
from galactoview.sr.group_cache import GroupCache
from galactoview.sr.persistence import (
    OpenedAnnotations,
    SidecarTarget,
    evidence_headers,
    open_annotations,
    save_annotations,
)
from galactoview.sr.signing import Signature
from galactoview.ui.annotate.annotation_workspace import AnnotationWorkspace
from galactoview.ui.shell.errors import ProblemReporter
from galactoview.ui.shell.status_bar import image_text

__all__ = ["AUTOSAVE_DELAY_S", "AnnotationSaver"]

#: Seconds after the last edit before the annotations are saved.
AUTOSAVE_DELAY_S: Final = 2.0

#: What an edit is told while its study's marks are still being read (a fraction of a second).
READING_MARKS: Final = "its marks are still being read from disk; try again in a moment"


class AnnotationSaver(QObject):
    """Loads and autosaves the annotations of the studies shown in a window.

    Parameters
    ----------
    workspace
        The annotations being edited.
    problems
        The one error path (Problems panel + error dialog).
    parent
        The window: dialogs are shown over it.

    Signals
    -------
    saved(str)
        A study's annotations were written (Study Instance UID).
    conflict(str)
        A study's sidecar changed on disk since it was read; the reader was asked.
    storage_changed()
        What :meth:`notices` returns may have changed (a fallback, a failure, a success).
    """

    saved = Signal(str)
    conflict = Signal(str)
    storage_changed = Signal()
    #: A background save of this study finished (emitted in the save thread, queued).
    _written = Signal(str)
    #: A background read of a study's marks finished (its serial; emitted in the save thread).
    _read = Signal(int)

    def __init__(
        self, workspace: AnnotationWorkspace, problems: ProblemReporter, parent: QWidget
    ) -> None:
        super().__init__(parent)
        self._window = parent
        self.workspace = workspace
        self._problems = problems
        self._targets: dict[str, SidecarTarget] = {}
        self._records: dict[str, ImageRecord] = {}
        self._headers: dict[str, Dataset] = {}
        self._blocked: set[str] = set()  # studies waiting for the reader's answer
        self._evidence: dict[str, dict[str, Dataset]] = {}  # study -> uid -> minimal header
        self._failures: dict[str, str] = {}  # study -> why its last save failed
        self._group_caches: dict[str, GroupCache] = {}  # study -> its encoded SR groups
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer)
        workspace.changed.connect(self._on_changed)
        self._loading = False
        #: Autosaves run here, one at a time, in order (issue 15: the GUI never waits for
        #: an SR to be encoded and written); study -> (what was saved, its outcome).
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sr-autosave")
        self._in_flight: dict[str, tuple[_SaveJob, Future[_SaveOutcome]]] = {}
        self._written.connect(self._on_written)
        #: Reads of studies' marks under way (issue 15: opening never freezes the window):
        #: serial -> (what is read, its outcome). Same thread as the saves, so a study's
        #: read always ends before any save of it starts.
        self._reading: dict[int, tuple[_ReadJob, Future[_ReadOutcome]]] = {}
        self._serials = itertools.count(1)
        self._read.connect(self._on_read)

    # --- loading ------------------------------------------------------------------------

    def open_studies(
        self,
        records: Sequence[ImageRecord],
        reports: Sequence[StructuredReportFile] = (),
        *,
        wait: bool = False,
    ) -> None:
        """Read the sidecar of every study among ``records`` into the workspace.

        Saves what is pending first; bad sidecars are reported and kept (the study
        starts empty and its next save goes to a new file next to the bad one). A study
        without a sidecar takes its annotations from a TID 1500 SR file found among
        ``reports`` (e.g. exported by a PACS); edits then go to the study's sidecar.

        The files are read and decoded in the save thread; each study is read-only
        (:data:`READING_MARKS`) until its marks are in place (:meth:`is_reading`,
        :meth:`finish_reading`). With ``wait`` they are in place on return.
        """
        self.save_now()
        self._targets.clear()
        self._headers.clear()
        self._blocked.clear()
        self._evidence.clear()
        self._failures.clear()
        self._group_caches.clear()
        self._records = {record.sop_instance_uid: record for record in records}
        studies: dict[str, list[ImageRecord]] = {}
        for record in records:
            studies.setdefault(record.study_instance_uid, []).append(record)
        self.workspace.clear()
        for study, members in studies.items():
            self._start_reading(study, members, reports, added=False)
        self._report_other_studies(reports, studies)
        if wait:
            self.finish_reading()
        self.storage_changed.emit()

    def add_studies(
        self,
        records: Sequence[ImageRecord],
        reports: Sequence[StructuredReportFile] = (),
        *,
        wait: bool = False,
    ) -> tuple[str, ...]:
        """Read the sidecar (or SR) of the studies among ``records`` not open yet.

        The studies already open keep their documents, undo history, unsaved marks and
        pending saves: only the images they are saved with are updated (an image of
        theirs that arrived since is referenced by the next save). The studies added are
        read as :meth:`open_studies` reads them.

        Parameters
        ----------
        records
            Every image now open (those open before and those added).
        reports
            Structured Report files found with the images added.
        wait
            Put their marks in place before returning (else they are read in the save
            thread, as :meth:`open_studies` does).

        Returns
        -------
        tuple of str
            The Study Instance UIDs read, in the order of ``records``.
        """
        self._drain()
        known = {record.study_instance_uid for record in self._records.values()}
        self._records = {record.sop_instance_uid: record for record in records}
        studies: dict[str, list[ImageRecord]] = {}
        for record in records:
            if record.study_instance_uid not in known:
                studies.setdefault(record.study_instance_uid, []).append(record)
        for study, members in studies.items():
            self._start_reading(study, members, reports, added=True)
        self._report_other_studies(reports, {*known, *studies})
        if wait:
            self.finish_reading()
        if studies:
            self.storage_changed.emit()
        return tuple(studies)

    def is_reading(self, study: str | None = None) -> bool:
        """Return whether marks of a study opened (or of ``study``) are still being read."""
        return any(study in (None, job.study) for job, _future in self._reading.values())

    def finish_reading(self) -> None:
        """Wait for the reads under way and put their marks in place now."""
        for serial in list(self._reading):
            found = self._reading.pop(serial, None)
            if found is not None:
                job, future = found
                self._finish_read(job, future.result())

    def _start_reading(
        self,
        study: str,
        members: Sequence[ImageRecord],
        reports: Sequence[StructuredReportFile],
        *,
        added: bool,
    ) -> None:
        """Read a study's marks in the save thread; the study is read-only meanwhile."""
        mine = tuple(r for r in reports if r.study_instance_uid == study)
        job = _ReadJob(study, tuple(record.path for record in members), mine, added)
        self.workspace.set_read_only(study, READING_MARKS)
        serial = next(self._serials)
        future = self._executor.submit(_read_marks, job)
        self._reading[serial] = (job, future)
        future.add_done_callback(lambda _done: self._announce_read(serial))

    def _announce_read(self, serial: int) -> None:
        """Tell the GUI thread a read ended (runs in the save thread)."""
        with contextlib.suppress(RuntimeError):  # the window may be closed meanwhile
            self._read.emit(serial)

    def _on_read(self, serial: int) -> None:
        """Put the marks of a finished read in place (queued into the GUI thread)."""
        found = self._reading.pop(serial, None)
        if found is not None:
            job, future = found
            self._finish_read(job, future.result())

    def _finish_read(self, job: _ReadJob, outcome: _ReadOutcome) -> None:
        """Put a study's marks read from disk in the workspace (GUI thread)."""
        study = job.study
        self.workspace.set_read_only(study, None)
        self._loading = True
        try:
            if outcome.opened is None:
                self._problems.report(outcome.error)
                return
            self._load(study, outcome.opened, added=job.added)
            if outcome.beside is not None and not self._has_sidecar(study):
                self._load_report(outcome.beside, added=job.added)
        finally:
            self._loading = False
        self.storage_changed.emit()

    def _put_loaded(
        self,
        annotations: AnnotationSet,
        chest_walls: Mapping[str, ChestWallLine] | None,
        report: ClinicalReport | None,
        *,
        added: bool,
    ) -> None:
        """Put a study read from disk in the workspace: replacing all history, or added.

        Findings another viewer wrote without a laterality take that of their images
        (:func:`galactoview.sr.foreign.with_image_laterality`).
        """
        lateralities = {uid: record.image_laterality for uid, record in self._records.items()}
        annotations = with_image_laterality(annotations, lateralities)
        if not added:
            self.workspace.set_loaded(annotations, chest_walls, report)
            return
        try:
            self.workspace.add_loaded(annotations, chest_walls, report)
        except ValueError as error:  # edited before it was read: the reader's edits stay
            self._problems.report(f"annotations not read: {error}")

    def _lock_if_signed(
        self, study: str, signature: Signature | None, revision_uid: str | None
    ) -> None:
        """Make a signed revision read-only (PS3.3 C.17.2 Verification Flag VERIFIED).

        A signed report is changed only by an addendum revision
        (:mod:`galactoview.sr.signing`, :meth:`AnnotationWorkspace.begin_addendum`).
        """
        if signature is None:
            self.workspace.set_read_only(study, None)
            return
        who = format_person_name(signature.observer_name) or "an unnamed reader"
        when = f" on {signature.verified_at:%Y-%m-%d %H:%M}" if signature.verified_at else ""
        self.workspace.set_read_only(
            study,
            f"signed by {who}{when}; Report → Write Addendum… to amend it",
            revision_uid,
            signature,
        )

    def _has_sidecar(self, study: str) -> bool:
        target = self._targets.get(study)
        return target is not None and (target.fingerprint is not None or target.alongside)

    def _load_report(self, found: MarksBeside, *, added: bool = False) -> None:
        """Take a study's annotations from the SR files beside its images.

        The first TID 1500 report with marks (:mod:`galactoview.sr.beside`); each file
        not read gets one Problems line naming it and why (not a TID 1500 measurement
        report, no readable mark, or another SR with marks of the study).
        """
        for path, line in found.problems:
            self._problems.report(line, path)
        if found.path is None or found.result is None or found.dataset is None:
            return
        result = found.result
        study = result.annotations.study_instance_uid
        self._put_loaded(result.annotations, result.chest_walls, result.report, added=added)
        self._lock_if_signed(study, result.signature, result.annotations.sop_instance_uid)
        self._evidence[study] = evidence_headers(found.dataset)
        target = self._targets.get(study)
        where = f"; edits are saved to {target.path}" if target is not None else ""
        self._problems.report(f"annotations read from this DICOM SR{where}", found.path)

    def _report_other_studies(
        self, reports: Sequence[StructuredReportFile], studies: Collection[str]
    ) -> None:
        """Say, one Problems line each, that SR files of no study opened are not read.

        Their Study Instance UID (0020,000D) names no study among the images opened, so
        their marks would belong to no image shown.
        """
        for report in reports:
            if report.study_instance_uid not in studies:
                self._problems.report(
                    f"is about study {report.study_instance_uid}, which has no image among "
                    "those opened: no marks read from it",
                    report.path,
                )

    def _load(self, study: str, opened: OpenedAnnotations, *, added: bool = False) -> None:
        for line in opened.problems:
            self._problems.report(line)
        if opened.target.notice:
            self._problems.report(opened.target.notice)
        self._targets[study] = opened.target
        self._evidence[study] = dict(opened.evidence)
        self._put_loaded(opened.annotations, opened.chest_walls, opened.report, added=added)
        self._lock_if_signed(study, opened.signature, opened.annotations.sop_instance_uid)

    def target(self, study_instance_uid: str) -> SidecarTarget | None:
        """Return where a study's annotations are saved (None if not known)."""
        return self._targets.get(study_instance_uid)

    def notices(self) -> list[str]:
        """Return what the reader must see about where marks are saved (banner lines).

        One line per study saved somewhere unexpected (a read-only folder, a
        fallback after a failure) and one per study whose marks are **not saved**.
        """
        lines = [
            f"Marks NOT saved: {reason}. They stay in memory: Ctrl+S tries again, "
            "Save Elsewhere… writes them to a file you choose, and closing asks first."
            for reason in self._failures.values()
        ]
        lines += [
            target.notice
            for study, target in self._targets.items()
            if target.notice and study not in self._failures
        ]
        return lines

    def unsaved_studies(self) -> tuple[str, ...]:
        """Return the studies whose documents hold edits that are not on disk (one notion)."""
        return self.workspace.dirty_studies()

    def failure_reasons(self) -> dict[str, str]:
        """Return why the last save of each study failed, by Study Instance UID."""
        return dict(self._failures)

    def discard_unsaved(self) -> None:
        """Drop every study's unsaved marks on the reader's word (before closing them)."""
        self._timer.stop()
        self._drain()
        self._failures.clear()
        self._blocked.clear()
        self.workspace.clear()
        self.storage_changed.emit()

    def report(self, message: str) -> None:
        """Report a problem through the window's one error path."""
        self._problems.report(message)

    def save_elsewhere(self, study: str, path: Path) -> Path:
        """Save a study's marks as a new SR revision to a file the reader chose.

        The file is replaced atomically (the previous content kept as ``.bak``);
        later saves of the study go there too.

        Parameters
        ----------
        study
            Study Instance UID.
        path
            The file chosen (a ``.sr.json`` DICOM JSON sidecar).

        Returns
        -------
        Path
            ``path``.

        Raises
        ------
        sidecar.SidecarError
            When it cannot be written either; the message names the file.
        """
        self._drain(study)
        headers = self._headers_for(study)
        if headers is None:
            raise sidecar.SidecarError(path, "the marks' images cannot be read to save them")
        existing = sidecar.fingerprint(path)
        current = self._targets.get(study)  # a signed revision stays signed in another file
        target = SidecarTarget(
            study,
            path,
            existing,
            notice=f"Marks of this study are saved in {path}",
            signed_revision_uid=None if current is None else current.signed_revision_uid,
        )
        revision = self._revision(study)
        snapshot = self.workspace.snapshot(study)
        try:
            saved, next_target = save_annotations(
                snapshot.annotations,
                headers,
                target,
                self._locations(snapshot),
                snapshot.reader_chest_walls(),
                report=snapshot.report,
            )
        except sidecar.SidecarError:
            raise
        except Exception as error:  # any failure: reported as this file's problem
            raise sidecar.SidecarError(path, f"not saved: {_failure(error)}") from error
        self._succeeded(study, saved, next_target, revision)
        return path

    # --- saving -------------------------------------------------------------------------

    def _on_changed(self, _study: str) -> None:
        if self._loading or not self.workspace.dirty_studies():
            return
        self._timer.start(round(AUTOSAVE_DELAY_S * 1000))

    def _on_timer(self) -> None:
        """Autosave: each study with unsaved edits is saved in the save thread."""
        for study in self.workspace.dirty_studies():
            if study not in self._blocked:
                self._save_in_background(study)

    def save_now(self) -> bool:
        """Save every study with unsaved edits now; return whether all were saved.

        Waits for the autosaves under way first (their outcome counts), then saves
        what is still unsaved in this thread.
        """
        self._timer.stop()
        self._drain()
        ok = True
        for study in self.workspace.dirty_studies():
            if study not in self._blocked:
                ok = self._save(study) and ok
        return ok

    def missing_for_signing(self, study: str) -> tuple[str, ...]:
        """Return what the study's report lacks before it can be signed (empty: complete).

        See :func:`galactoview.sr.signing.missing_for_signing`; findings are located from
        the marks as they are now.
        """
        snapshot = self.workspace.snapshot(study)
        views = {uid: image_text(record) for uid, record in self._records.items()}
        return signing.missing_for_signing(
            snapshot.annotations, snapshot.report, self._locations(snapshot), views
        )

    def sign(self, study: str) -> str:
        """Sign the study's report now: a new revision, COMPLETE and VERIFIED by the reader.

        Writes what is pending with the reader's signature (PS3.3 C.17.2: Verifying
        Observer Name and Organization, Verification DateTime); the study is read-only
        afterwards (a later change is an addendum) and the undo history is dropped.

        Returns
        -------
        str
            The signed revision's SOP Instance UID.

        Raises
        ------
        ValueError
            Nothing was written: no reader identity set, the study is read-only (already
            signed), :class:`~galactoview.sr.persistence.IncompleteReportError` (what is
            missing), :class:`~galactoview.sr.persistence.SignedRevisionError`, or the
            sidecar could not be written (its message names the file).
        """
        self._drain(study)
        reason = self.workspace.read_only_reason(study)
        if reason is not None:
            raise ValueError(reason)
        reader = self.workspace.reader
        organization = self.workspace.reader_organization
        if not reader or not organization:
            raise ValueError(
                "set your name and institution first (Edit → Reader Identity…): the "
                "signature names both"
            )
        target = self._targets.get(study)
        headers = self._headers_for(study)
        if target is None or headers is None:
            raise ValueError(f"study {study} has no place to save its marks or its images")
        self._timer.stop()
        revision = self._revision(study)
        snapshot = self.workspace.snapshot(study)
        annotations = replace(
            snapshot.annotations, observer=reader, observer_organization=organization
        )
        signature = Signature(reader, organization, datetime.now().astimezone())
        try:
            saved, next_target = save_annotations(
                annotations,
                headers,
                target,
                self._locations(snapshot),
                snapshot.reader_chest_walls(),
                report=snapshot.report,
                signature=signature,
            )
        except ValueError:
            raise
        except sidecar.SidecarError as error:
            raise ValueError(str(error)) from error
        except Exception as error:  # a header the SR cannot use, or a bug: nothing written
            raise ValueError(f"the SR could not be built ({_failure(error)})") from error
        self._succeeded(study, saved, next_target, revision)
        uid = saved.sop_instance_uid or ""
        self._lock_if_signed(study, signature, uid)
        self.workspace.clear_undo_history()  # an undo must not change what was signed
        return uid

    def _headers_for(self, study: str) -> list[Dataset] | None:
        """Return the headers of the study's images and of every image its marks reference."""
        annotations = self.workspace.annotations(study)
        wanted = {
            region.sop_instance_uid
            for finding in annotations.findings
            for region in finding.regions
        }
        wanted |= {segment.region.sop_instance_uid for segment in annotations.duct_segments}
        wanted |= {landmark.sop_instance_uid for landmark in annotations.landmarks}
        wanted |= set(self.workspace.snapshot(study).reader_chest_walls())
        wanted |= {
            uid for uid, record in self._records.items() if record.study_instance_uid == study
        }
        headers: list[Dataset] = []
        stubs: list[Dataset] = []  # after the real headers: the first gives the patient
        for uid in sorted(wanted):
            if uid not in self._headers:
                record = self._records.get(uid)
                stub = self._evidence.get(study, {}).get(uid)
                if record is None and stub is not None:
                    stubs.append(stub)  # not loaded: referenced as the last revision did
                    continue
                if record is None:
                    self._problems.report(
                        f"annotations of study {study} refer to image {uid}, which is not "
                        "loaded: they are kept in memory but cannot be saved"
                    )
                    return None
                try:
                    self._headers[uid] = read_header(record)
                except Exception as error:
                    self._problems.report(f"cannot read the header again: {error}", record.path)
                    return None
            headers.append(self._headers[uid])
        return headers + stubs

    def _prepare(self, study: str) -> _SaveJob | None:
        """Gather, in the GUI thread, everything a save of ``study`` needs (immutable).

        Returns ``None`` after reporting why the study cannot be saved.
        """
        target = self._targets.get(study)
        if target is None:
            self._failed(study, f"study {study} has no place to save its marks")
            return None
        headers = self._headers_for(study)
        if headers is None:
            self._failed(study, f"the images of study {study} cannot be read to save")
            return None
        snapshot = self.workspace.snapshot(study)
        # A save writes what this session changed: the revision is the current reader's
        # (nobody, i.e. the device, when no reader identity is set).
        reader = self.workspace.reader
        annotations = replace(
            snapshot.annotations,
            observer=reader,
            observer_organization=self.workspace.reader_organization if reader else "",
        )
        return _SaveJob(
            study,
            target,
            tuple(headers),
            replace(snapshot, annotations=annotations),
            tuple(self._records.values()),
            self._revision(study),
            self._group_caches.setdefault(study, GroupCache()),
        )

    def _save(self, study: str) -> bool:
        """Save a study now, in the GUI thread (close, Ctrl+S, before PACS store)."""
        self._drain(study)
        job = self._prepare(study)
        if job is None:
            return False
        return self._apply(job, _write(job))

    def _save_in_background(self, study: str) -> None:
        """Start an autosave of ``study`` in the save thread; the GUI never waits for it.

        Only the snapshot (immutable), the target and the image headers go to the thread
        (:func:`_write`); the outcome comes back queued (:meth:`_on_written`).
        """
        if study in self._in_flight:
            return  # saved again when it is back (:meth:`_apply` restarts the timer)
        job = self._prepare(study)
        if job is None:
            return
        future = self._executor.submit(_write, job)
        self._in_flight[study] = (job, future)
        future.add_done_callback(lambda _done: self._announce(study))

    def _announce(self, study: str) -> None:
        """Tell the GUI thread a background save ended (runs in the save thread)."""
        # The window may be closed meanwhile (its close saved and applied everything).
        with contextlib.suppress(RuntimeError):
            self._written.emit(study)

    def _on_written(self, study: str) -> None:
        """Apply the outcome of a background save (queued into the GUI thread)."""
        found = self._in_flight.pop(study, None)
        if found is not None:
            job, future = found
            self._apply(job, future.result())

    def _drain(self, study: str | None = None) -> None:
        """Wait for background saves (of one study, or all) and apply their outcomes.

        Every operation that reads or replaces a study's target (save now, sign, reload,
        keep both, save elsewhere, open) calls this first, so it sees the file as the
        last save left it. Reads under way are put in place first.
        """
        self.finish_reading()
        for pending in [study] if study is not None else list(self._in_flight):
            found = self._in_flight.pop(pending, None)
            if found is not None:
                job, future = found
                self._apply(job, future.result())

    def _apply(self, job: _SaveJob, outcome: _SaveOutcome) -> bool:
        """Record a save's outcome in the GUI thread: report, ask, mark saved."""
        study = job.study
        for line in outcome.problems:
            self._problems.report(line)
        if outcome.conflict:
            self._blocked.add(study)
            self._ask_about_conflict(study, job.target)
            return False
        if outcome.saved is None or outcome.next_target is None:
            return self._failed(study, outcome.failure)
        self._succeeded(study, outcome.saved, outcome.next_target, job.revision)
        if study in self.workspace.dirty_studies() and not self._loading:
            self._timer.start(round(AUTOSAVE_DELAY_S * 1000))  # edited while it was saving
        return True

    def _failed(self, study: str, reason: str) -> bool:
        """Record and report a save that failed everywhere; the marks stay in memory."""
        self._problems.report(f"annotations not saved: {reason}")
        self._failures[study] = reason
        self.storage_changed.emit()
        return False

    def _revision(self, study: str) -> int | None:
        """Return the revision of a study's document before a save (None: it has none)."""
        document = self.workspace.document(study)
        return document.revision if document is not None else None

    def _succeeded(
        self, study: str, saved: AnnotationSet, target: SidecarTarget, revision: int | None
    ) -> None:
        self._targets[study] = target
        self._failures.pop(study, None)
        self.workspace.mark_saved(saved, revision)
        self.saved.emit(study)
        self.storage_changed.emit()

    def _locations(self, snapshot: StudySnapshot) -> dict[str, FindingLocation]:
        """Locate the findings from the marks, nipples and chest walls as they are now."""
        try:
            return locate_document(snapshot, self._records.values())
        except Exception as error:  # a location is a bonus: never block the save for it
            self._problems.report(f"findings not located: {error}")
            return {}

    # --- conflicts ----------------------------------------------------------------------

    def _ask_about_conflict(self, study: str, target: SidecarTarget) -> None:
        """Ask (without blocking) whether to reload the file on disk or keep both."""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Annotations changed on disk",
            f"{target.path} was changed by someone else since it was opened.",
            parent=self._window,
        )
        box.setObjectName("ConflictDialog")
        box.setInformativeText(
            "Reload it (your unsaved marks on this study are dropped), or keep both "
            "(yours are saved to a new file next to it)."
        )
        reload_button = box.addButton("Reload", QMessageBox.ButtonRole.DestructiveRole)
        keep_button = box.addButton("Keep Both", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(keep_button)

        def answered() -> None:
            clicked = box.clickedButton()
            if clicked is reload_button:
                self.reload(study)
            elif clicked is keep_button:
                self.keep_both(study)

        box.finished.connect(lambda _result: answered())
        box.open()
        self.conflict.emit(study)

    def reload(self, study: str) -> None:
        """Drop this study's unsaved marks and read its sidecar again."""
        self._drain(study)
        self._blocked.discard(study)
        paths = tuple(r.path for r in self._records.values() if r.study_instance_uid == study)
        job = _ReadJob(study, paths, (), added=False)
        self._finish_read(job, _read_marks(job))  # the reader asked for it and waits

    def keep_both(self, study: str) -> None:
        """Save this study's marks to a new file next to the one changed on disk."""
        self._drain(study)
        self._blocked.discard(study)
        target = self._targets.get(study)
        if target is not None:
            self._targets[study] = replace(target, alongside=True)
            self._save(study)

    def show_notice(self, study: str, notice: str) -> None:
        """Say where a study's marks are, in the banner, while it is open.

        E.g. after "keep both" with a revision from the PACS; replaces the notice of the
        study's target (kept by its later saves).
        """
        target = self._targets.get(study)
        if target is not None:
            self._targets[study] = replace(target, notice=notice)
            self.storage_changed.emit()


@dataclass(frozen=True, slots=True)
class _SaveJob:
    """What a save needs, gathered in the GUI thread; nothing in it changes afterwards."""

    study: str
    target: SidecarTarget
    headers: tuple[Dataset, ...]
    snapshot: StudySnapshot
    records: tuple[ImageRecord, ...]
    revision: int | None
    # The study's encoded groups, reused for the findings this save did not change
    # (touched only by the save under way: saves of a study never overlap).
    groups: GroupCache | None = None


@dataclass(frozen=True, slots=True)
class _ReadJob:
    """A study whose marks are to be read: its images' files and the SR files beside them."""

    study: str
    paths: tuple[Path, ...]
    reports: tuple[StructuredReportFile, ...]
    added: bool


@dataclass(frozen=True, slots=True)
class _ReadOutcome:
    """What a read found: the study's sidecar (or why none can be), the SR files beside."""

    opened: OpenedAnnotations | None = None
    beside: MarksBeside | None = None
    error: str = ""


def _read_marks(job: _ReadJob) -> _ReadOutcome:
    """Find, read and decode a study's sidecar, else its SR files; safe in any thread (no Qt)."""
    try:
        opened = open_annotations(job.study, job.paths)
    except ValueError as error:  # a Study Instance UID that cannot name a file
        return _ReadOutcome(error=f"annotations of study {job.study} cannot be stored: {error}")
    has_sidecar = opened.target.fingerprint is not None or opened.target.alongside
    beside = None if has_sidecar else marks_beside(job.reports)
    return _ReadOutcome(opened, beside)


@dataclass(frozen=True, slots=True)
class _SaveOutcome:
    """What a save did: saved (and where next), a conflict, or why it failed."""

    saved: AnnotationSet | None = None
    next_target: SidecarTarget | None = None
    conflict: bool = False
    failure: str = ""
    problems: tuple[str, ...] = ()


def _write(job: _SaveJob) -> _SaveOutcome:
    """Locate, encode and write one SR revision; safe in any thread (no Qt, no shared state).

    A failure in the study folder is retried in the per-user folder
    (:attr:`SidecarTarget.fallback_path`), as the module says.
    """
    problems: list[str] = []
    try:
        locations = locate_document(job.snapshot, job.records)
    except Exception as error:  # a location is a bonus: never block the save for it
        problems.append(f"findings not located: {error}")
        locations = {}
    annotations = job.snapshot.annotations
    walls = job.snapshot.reader_chest_walls()
    report = job.snapshot.report
    headers = list(job.headers)
    try:
        saved, next_target = save_annotations(
            annotations, headers, job.target, locations, walls, report=report, cache=job.groups
        )
    except sidecar.SidecarConflict:
        return _SaveOutcome(conflict=True, problems=tuple(problems))
    except sidecar.SidecarError as error:
        if job.target.fallback_path is None:
            return _SaveOutcome(failure=_failure(error), problems=tuple(problems))
        fallback = _fallback_target(job.study, job.target.fallback_path, error)
        fallback = replace(fallback, signed_revision_uid=job.target.signed_revision_uid)
        try:
            saved, next_target = save_annotations(
                annotations, headers, fallback, locations, walls, report=report, cache=job.groups
            )
        except Exception as second:  # any failure leaves the marks unsaved
            why = f"{_failure(error)}; {_failure(second)}"
            return _SaveOutcome(failure=why, problems=tuple(problems))
        problems.append(
            f"annotations could not be saved in the study folder ({error}); "
            f"saved to {next_target.path} instead"
        )
    except Exception as error:  # a header the SR cannot use, or a bug:
        # the marks are not on disk, so the reader must know (banner, question on close).
        why = f"the SR could not be built ({_failure(error)})"
        return _SaveOutcome(failure=why, problems=tuple(problems))
    return _SaveOutcome(saved, next_target, problems=tuple(problems))


def _fallback_target(study: str, path: Path, error: Exception) -> SidecarTarget:
    """Return the per-user target after ``error``; never replaces a file not read."""
    notice = f"Marks are saved in {path} (the study folder failed: {error})"
    try:
        existing = path.is_file()
    except OSError:
        existing = False
    # A per-user sidecar this session did not read is kept: ours goes next to it.
    return SidecarTarget(study, path, None, alongside=existing, notice=notice)


def _failure(error: Exception) -> str:
    """Return a short reason for the banner: "<what> in <folder>" for a sidecar error."""
    if isinstance(error, sidecar.SidecarError):
        problem = error.problem.removeprefix("could not be saved: ")
        return f"{problem} in {error.path.parent}"
    if isinstance(error, ValueError):
        return str(error)
    return f"{type(error).__name__}: {error}"
