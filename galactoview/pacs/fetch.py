"""Retrieve a study from a PACS into the cache, the marks first, the first cell next (Qt-free).

:func:`fetch_study` is what the Query/Retrieve panel runs in a worker thread (and what
any other caller may run in any thread): into the study's cache folder
(:meth:`~galactoview.pacs.cache.RetrieveCache.study_folder`),

1. the study's structured reports (QIDO ``Modality=SR`` + WADO-RS, or C-FIND + C-GET /
   C-MOVE of its SR series), kept in memory;
2. the retrieve order (:mod:`~galactoview.pacs.retrieve_order`: the default hanging's
   cells first), from WADO-RS Retrieve Study Metadata (one request); for a DIMSE node
   from the C-FIND answers the retrieve lists the instances with anyway (no extra
   request: ``planner`` of :func:`galactoview.pacs.dimse.retrieve_study`);
3. the images in that order (WADO-RS, PS3.18 10.4.1.1.3; C-GET / C-MOVE, PS3.4 C.6.2).
   A DIMSE node gets only the first cell's instance first (one IMAGE-level request),
   then the rest a series at a time: each C-GET costs Orthanc ~0.1 s, so one request
   per instance in the whole order made the retrieve of the sample study 30 % slower
   (0.91 s instead of 0.70 s) and of the benchmark study 70 % (1.03 s instead of
   0.60 s), the first cell alone 16 % (0.81 s). WADO-RS does the same (the first cell's
   instance alone, then a streamed Retrieve Series per series): Orthanc answers a
   single-instance request ~0.2 s after it is made but streams a series at disk speed.
   As soon as the first image is in the folder, and before anyone is told it arrived,
   the newest revision of the marks among the SRs
   (:func:`~galactoview.pacs.revisions.adopt_newest_report`) becomes the study's
   sidecar — adopting needs an image of the study in the folder
   (:func:`galactoview.sr.persistence.import_report`), and a study opened on its first
   image must find its sidecar there;
4. the cache is trimmed to its limit, never evicting this study.

``arrived`` is called with each complete image file as soon as it is in the folder (an
instance already there from an earlier retrieve counts), in the retrieve's order, in the
calling thread: a viewer opens the study on the first call and adds the others.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from pydicom.dataset import Dataset

from galactoview.pacs.cache import RetrieveCache
from galactoview.pacs.nodes import DicomWebNode, PacsNode
from galactoview.pacs.origin import StudyOrigin, remember_origin
from galactoview.pacs.results import InstanceFailure, RetrieveProgress, RetrieveResult
from galactoview.pacs.retrieve_order import RetrieveOrder, plan_from_headers, plan_retrieve_order

__all__ = ["Fetched", "fetch_study", "protocol_of"]


def protocol_of(
    node: PacsNode,
) -> tuple[ModuleType, dict[str, Any], tuple[type[Exception], ...]]:
    """Return the client module of a node, its retrieve options, and its node-error types.

    :mod:`galactoview.pacs.dicomweb` for a DICOMweb node; :mod:`galactoview.pacs.dimse`
    with ``method="move"`` when the node has a storage SCP port (C-MOVE), else
    ``"get"`` (C-GET). The modules are imported on first use (their clients are slow
    to import).
    """
    if isinstance(node, DicomWebNode):
        from galactoview.pacs import dicomweb

        return dicomweb, {}, (dicomweb.DicomWebError,)
    from galactoview.pacs import dimse

    method = "move" if node.storage_scp_port is not None else "get"
    return dimse, {"method": method}, (dimse.DimseError,)


@dataclass(frozen=True)
class Fetched:
    """What :func:`fetch_study` did.

    Attributes
    ----------
    study_instance_uid
        The study.
    folder
        Its folder in the cache.
    result
        The retrieve of its instances; ``None`` when the node failed before any.
    failures
        Every instance not retrieved (images and SRs), with its reason.
    messages
        Lines about the marks, the order and the cache (what became of the sidecar, why
        the PACS's order was used, evictions).
    error
        The node's one-line error when it could not be reached or refused us, else ``""``.
    order
        The order planned (its :attr:`~RetrieveOrder.first` is the instance of the
        default hanging's first cell); empty when the node failed before planning.
    """

    study_instance_uid: str
    folder: Path
    result: RetrieveResult | None
    failures: tuple[InstanceFailure, ...]
    messages: tuple[str, ...]
    error: str = ""
    order: RetrieveOrder = field(default_factory=RetrieveOrder)

    @property
    def openable(self) -> bool:
        """Whether the retrieve finished with at least one instance (not cancelled)."""
        return self.result is not None and not self.result.cancelled and bool(self.result.written)


def fetch_study(
    node: PacsNode,
    study_uid: str,
    cache: RetrieveCache,
    *,
    series: Sequence[str] | None = None,
    progress: Callable[[RetrieveProgress], object] | None = None,
    arrived: Callable[[Path], object] | None = None,
    cancel: Callable[[], bool] | None = None,
    node_name: str = "",
    keep: Collection[str] = (),
) -> Fetched:
    """Retrieve a study into the cache: its SRs, then its images first-needed first.

    See the module docstring for the steps. Never raises for the node or the disk: the
    problem is in the result.

    Parameters
    ----------
    node
        The PACS.
    study_uid
        Study Instance UID.
    cache
        The retrieve cache.
    series
        Series Instance UIDs to retrieve; ``None`` for every series but SR ones.
    progress
        Called after each instance with a :class:`RetrieveProgress` (after ``arrived``).
    arrived
        Called with each complete image file as soon as it is in the folder, the marks'
        sidecar being there before the first call.
    cancel
        Polled before each instance (thread-safe; see the protocol's ``retrieve_study``).
    node_name
        The node's name in the settings, remembered with the study
        (:func:`~galactoview.pacs.origin.remember_origin`: the window checks that node
        for newer revisions of the marks).
    keep
        Other studies the cache trim must not evict (e.g. the study a prior is
        fetched for).

    Returns
    -------
    Fetched
        What was retrieved, what failed and why.
    """
    from galactoview.pacs.revisions import adopt_newest_report

    folder = cache.study_folder(study_uid)
    protocol, how, node_errors = protocol_of(node)
    messages: list[str] = []
    plan = RetrieveOrder()
    try:
        cache.mark_opened(study_uid)
        reports, report_failures = protocol.retrieve_reports(node, study_uid, **how)
        adopted = False

        def step(report: RetrieveProgress) -> None:
            nonlocal adopted
            if report.path is not None:
                if not adopted:
                    adopted = True
                    adoption = adopt_newest_report(study_uid, folder, reports)
                    messages.extend(adoption.problems)
                    uid = ""
                    if adoption.imported is not None and adoption.revision is not None:
                        uid = adoption.revision.sop_instance_uid
                        outcome = adoption.imported.outcome.name.lower()
                        messages.append(f"marks: SR {uid} ({outcome})")
                    origin = StudyOrigin(node_name, str(node), uid)
                    try:
                        remember_origin(cache.root, study_uid, origin)
                    except OSError as error:
                        messages.append(
                            f"{cache.root}: where the study came from is not kept: {error}"
                        )
                if arrived is not None:
                    arrived(report.path)
            if progress is not None:
                progress(report)

        if isinstance(node, DicomWebNode):
            plan = plan_retrieve_order(node, study_uid, folder)
            messages += plan.problems
            how = {"order": plan.order}
        else:

            def planner(headers: Sequence[Dataset]) -> Sequence[str]:
                nonlocal plan
                plan = plan_from_headers(node, headers, study_uid, folder)
                messages.extend(plan.problems)
                return plan.order[:1]

            how = {**how, "planner": planner}
        result: RetrieveResult = protocol.retrieve_study(
            node, study_uid, folder, series=series, progress=step, cancel=cancel, **how
        )
        failures = [*result.failures, *report_failures]
    except node_errors as error:
        return Fetched(study_uid, folder, None, (), tuple(messages), str(error), plan)
    except OSError as error:
        error_text = f"{folder}: {error.strerror or error}"
        return Fetched(study_uid, folder, None, (), tuple(messages), error_text, plan)
    eviction = cache.evict(keep={study_uid, *keep})
    messages += eviction.problems
    if eviction.evicted:
        messages.append(f"PACS cache: {len(eviction.evicted)} older studies' images removed")
    return Fetched(study_uid, folder, result, tuple(failures), tuple(messages), "", plan)
