"""PriorFetch: list a galactography's priors on the PACS and fetch the newest in the background.

A ductogram is read against the patient's last mammogram (the galactography protocol's
"post vs prior" stage, Shift+C). When the Query/Retrieve panel has shown a study that
hangs as a galactography, :class:`PriorFetch` asks the same node for the patient's
earlier mammography studies (:func:`galactoview.pacs.priors.find_priors`: same Patient
ID, modality MG, an earlier Study Date; newest first), lists them, and retrieves the
newest one into the cache (:func:`galactoview.pacs.fetch.fetch_study`, never evicting
the study being read) in a worker thread. When it is in and the galactography is
still open, it is added to the window (:meth:`MainWindow.add_paths`), which keeps the
reader's hanging and marks: the prior stage then has its images. Only the newest prior
is fetched — older ones are listed and a click away — because the protocol compares
with one prior, and a mammography study is ~100 MB per view set.

The reader's own retrieves come first: starting one cancels the prior's (between two
instances; nothing half-written is left).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from galactoview.dicom.loading import ImageRecord
from galactoview.pacs.cache import RetrieveCache
from galactoview.pacs.fetch import Fetched, fetch_study, protocol_of
from galactoview.pacs.nodes import PacsNode
from galactoview.pacs.priors import find_priors
from galactoview.pacs.results import StudyMatch
from galactoview.reading.hanging import galactography_study

__all__ = ["PriorFetch", "prior_wanted"]


def prior_wanted(records: Sequence[ImageRecord], study_uid: str) -> ImageRecord | None:
    """Return an image of ``study_uid`` if it hangs as a galactography with no prior open.

    Its Patient ID and Study Date are what the priors are searched with.
    """
    if galactography_study(records) != study_uid:
        return None
    own = [record for record in records if record.study_instance_uid == study_uid]
    others = {r.study_instance_uid for r in records if r.patient_id == own[0].patient_id}
    if len(others) > 1 or not own[0].patient_id or not own[0].study_date:
        return None  # a prior is open already, or nothing to search with
    return own[0]


class _Relay(QObject):
    found = Signal(object)  # tuple of StudyMatch, or the node's error line
    fetched = Signal(object)  # Fetched


class _PriorJob(QRunnable):
    def __init__(
        self,
        node: PacsNode,
        node_name: str,
        image: ImageRecord,
        cache: RetrieveCache,
        relay: _Relay,
        cancelled: threading.Event,
    ) -> None:
        super().__init__()
        self._node, self._name, self._image = node, node_name, image
        self._cache, self._relay, self._cancelled = cache, relay, cancelled

    def run(self) -> None:
        _protocol, _how, node_errors = protocol_of(self._node)
        study = self._image.study_instance_uid
        try:
            priors = find_priors(
                self._node, self._image.patient_id, self._image.study_date, exclude=study
            )
        except Exception as error:  # the node's errors, or a bad date: one line
            if not isinstance(error, (*node_errors, ValueError)):
                raise
            self._relay.found.emit(str(error))
            return
        self._relay.found.emit(priors)
        if not priors or self._cancelled.is_set():
            return
        fetched = fetch_study(
            self._node,
            priors[0].study_instance_uid,
            self._cache,
            cancel=self._cancelled.is_set,
            node_name=self._name,
            keep={study},
        )
        self._relay.fetched.emit(fetched)


class PriorFetch(QObject):
    """Finds and fetches one study's prior (see the module docstring).

    Parameters
    ----------
    pool
        The panel's worker pool.
    cache
        The retrieve cache.
    add_paths
        Adds a folder to what the window shows (``MainWindow.add_paths``).
    records
        Returns the images the window shows.
    parent
        Owner.

    Signals
    -------
    said(str)
        One line for the panel: the priors listed, or what became of the fetch.
    listed(object)
        The priors found (tuple of :class:`StudyMatch`, newest first).
    finished(object)
        The prior's :class:`Fetched` (added to the window if still wanted).
    """

    said = Signal(str)
    listed = Signal(object)
    finished = Signal(object)

    def __init__(
        self,
        pool: QThreadPool,
        cache: RetrieveCache,
        add_paths: Callable[[Sequence[Path]], object],
        records: Callable[[], Sequence[ImageRecord]],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._pool, self._cache = pool, cache
        self._add_paths, self._records = add_paths, records
        self._relay = _Relay(self)
        self._relay.found.connect(self._on_found)
        self._relay.fetched.connect(self._on_fetched)
        self._cancelled = threading.Event()
        self._for_study = ""
        self.running = False

    def start(self, node: PacsNode, node_name: str, study_uid: str) -> bool:
        """Look for the priors of ``study_uid`` if the window hangs it as a galactography."""
        image = prior_wanted(self._records(), study_uid)
        if image is None or self.running:
            return False
        self._cancelled = threading.Event()
        self._for_study = study_uid
        self.running = True
        self._pool.start(
            _PriorJob(node, node_name, image, self._cache, self._relay, self._cancelled)
        )
        return True

    def cancel(self) -> None:
        """Stop the prior's retrieve after the instance on its way (the reader comes first)."""
        self._cancelled.set()

    def _on_found(self, found: object) -> None:
        if isinstance(found, str):
            self.running = False
            self.said.emit(f"Priors not searched: {found}")
            return
        priors: tuple[StudyMatch, ...] = found  # type: ignore[assignment]
        self.listed.emit(priors)
        if not priors:
            self.running = False
            self.said.emit("No prior mammography of this patient on the PACS.")
            return
        dates = ", ".join(_describe(prior) for prior in priors)
        self.said.emit(f"Priors: {dates}; retrieving the newest in the background…")

    def _on_fetched(self, fetched: Fetched) -> None:
        self.running = False
        result = fetched.result
        if fetched.error or result is None or not result.written:
            self.said.emit(f"Prior not retrieved: {fetched.error or 'no instance'}")
        elif result.cancelled:
            self.said.emit("Prior retrieve stopped for your retrieve; it resumes next time.")
        elif self._for_study in {r.study_instance_uid for r in self._records()}:
            self._add_paths([fetched.folder])
            self.said.emit(f"Prior in ({len(result.written)} images): Shift+C compares with it.")
        self.finished.emit(fetched)


def _describe(prior: StudyMatch) -> str:
    date = prior.study_date
    shown = f"{date[:4]}-{date[4:6]}-{date[6:]}" if len(date) == 8 else date or "no date"
    return f"{shown} {prior.study_description}".strip()
