"""Suggested landmarks: the pectoral line of oblique views and nipples, into the workspace.

The suggestions themselves are computed by the Qt-free
:mod:`galactoview.location.landmarks`; this module decides when to ask for them and
stores what they give in the :class:`AnnotationWorkspace`:

- :func:`remember_pectoral_line`: when an oblique view (MLO, LMO, SIO, ISO) is shown
  and has no chest-wall line yet (none of the reader's read from the SR), its suggested
  pectoral line (:mod:`galactoview.location.chest_wall`; the depth of its findings is
  measured from it; CC and lateral views use the posterior image edge);
- :func:`place_suggested_nipples`: on request (Shift+N), a *suggested* nipple landmark
  (``confirmed=False``: drawn dashed and hollow, labelled "N?") on every shown image that
  has none, one undoable edit;
- :func:`accept_suggested_nipples`: on request (Shift+A, Annotate → Accept Suggested
  Nipples), every suggested nipple becomes the reader's (confirmed), one undoable edit.
  Dragging a suggested nipple accepts it too (the moved landmark is the reader's).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from galactoview.annotations.document import ConfirmNipples
from galactoview.annotations.model import NippleLandmark
from galactoview.location.chest_wall import OBLIQUE_VIEWS, suggested_pectoral_line
from galactoview.location.landmarks import suggest_nipple
from galactoview.ui.annotate.annotation_workspace import AnnotationWorkspace
from galactoview.ui.viewer.decoding import DecodedImage
from galactoview.ui.viewer.viewport import Viewport

__all__ = [
    "ACCEPT_KEY",
    "OBLIQUE_VIEWS",
    "NippleAcceptance",
    "NippleSuggestions",
    "accept_suggested_nipples",
    "place_suggested_nipples",
    "remember_pectoral_line",
]


#: The key of Annotate → Accept Suggested Nipples (named in the status line).
ACCEPT_KEY = "Shift+A"


@dataclass(frozen=True, slots=True)
class NippleSuggestions:
    """What :func:`place_suggested_nipples` did, for the status line.

    Attributes
    ----------
    placed
        The views given a suggested nipple (e.g. ``"L CC"``), in order.
    kept
        The views shown that already had a nipple (left as they are).
    failed
        The views where none could be suggested (each reported with why).
    """

    placed: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()

    def message(self) -> str:
        """Return one short status line that says what changed."""
        parts: list[str] = []
        if self.placed:
            parts.append(
                f"Nipple suggested on {', '.join(self.placed)} (dashed, N?): drag to correct, "
                f"{ACCEPT_KEY} accepts all"
            )
        else:
            parts.append("No nipple suggested")
        if self.kept:
            parts.append(f"{', '.join(self.kept)} already had one")
        if self.failed:
            parts.append(f"none found on {', '.join(self.failed)} (see Problems)")
        return " — ".join(parts)


def remember_pectoral_line(workspace: AnnotationWorkspace, decoded: DecodedImage) -> None:
    """Remember the suggested pectoral line of an oblique view, for its findings' depth.

    The line is :func:`galactoview.location.chest_wall.suggested_pectoral_line` (what the
    ``report`` command uses too). CC and lateral views use the posterior image edge and
    need nothing here; a view that already has a chest-wall line (the reader's, read from
    the SR, or suggested before) keeps it.
    """
    record = decoded.record
    uid = record.sop_instance_uid
    if record.view.short_name not in OBLIQUE_VIEWS or workspace.chest_wall(uid):
        return
    if decoded.stored.ndim != 2:  # a colour image (RGB) is not a mammogram
        return
    line = suggested_pectoral_line(record, decoded.stored, decoded.pipeline)
    if line is not None:
        workspace.suggest_chest_wall(record.study_instance_uid, uid, line)


def place_suggested_nipples(
    workspace: AnnotationWorkspace,
    viewports: Iterable[Viewport],
    report: Callable[[str, Path | None], None],
) -> NippleSuggestions:
    """Place a suggested nipple landmark on every image shown that has none.

    The suggestion (:func:`galactoview.location.landmarks.suggest_nipple`: the breast
    outline's tip, refined by the contrast-filled duct) is a landmark not confirmed
    (:attr:`NippleLandmark.confirmed` False) until the radiologist accepts it
    (:func:`accept_suggested_nipples`) or moves it. All the landmarks placed are one
    undoable edit ("Suggest nipples", a Qt undo macro).

    Parameters
    ----------
    workspace
        Where the landmarks go.
    viewports
        The viewports showing images.
    report
        Told ``(line, path)`` for each image where no nipple could be suggested.

    Returns
    -------
    NippleSuggestions
        The views given a nipple, those that had one, those where none was found.
    """
    placed: list[tuple[str, NippleLandmark, str]] = []
    kept: list[str] = []
    failed: list[str] = []
    for viewport in viewports:
        record, stored, pipeline = viewport.record, viewport.stored, viewport.pipeline
        if record is None or stored is None or pipeline is None or viewport.is_colour:
            continue  # nothing shown, or a colour key image / capture: not a mammogram
        frame = viewport.frame + 1 if record.frame_count > 1 else None
        study = record.study_instance_uid
        view = record.view.label or record.series_description or "image"
        if workspace.annotations(study).landmark(record.sop_instance_uid, frame):
            kept.append(view)
            continue
        try:
            suggestion = suggest_nipple(
                stored,
                pipeline,
                record.patient_orientation,
                record.view.laterality,
                record.view,
            )
        except ValueError as error:
            report(f"no nipple suggested: {error}", record.path)
            failed.append(view)
            continue
        landmark = NippleLandmark(record.sop_instance_uid, frame, suggestion.point, False)
        placed.append((study, landmark, view))
    if placed:
        workspace.undo_stack.beginMacro("Suggest nipples")
        try:
            for study, landmark, _view in placed:
                workspace.set_landmark(study, landmark)
        finally:
            workspace.undo_stack.endMacro()
    return NippleSuggestions(tuple(v for _, _, v in placed), tuple(kept), tuple(failed))


@dataclass(frozen=True, slots=True)
class NippleAcceptance:
    """What :func:`accept_suggested_nipples` did, for the status line.

    Attributes
    ----------
    accepted
        The views whose suggested nipple became the reader's (e.g. ``"L CC"``), in order.
    """

    accepted: tuple[str, ...] = ()

    def message(self) -> str:
        """Return ``"Accepted 3 suggested nipples (L CC, L ML, R CC)"`` (or that none was)."""
        count = len(self.accepted)
        if not count:
            return "No suggested nipple to accept"
        noun = "nipple" if count == 1 else "nipples"
        return f"Accepted {count} suggested {noun} ({', '.join(self.accepted)})"


def accept_suggested_nipples(
    workspace: AnnotationWorkspace, views: Mapping[str, str]
) -> NippleAcceptance:
    """Accept every suggested nipple of the open studies as the reader's, one undoable edit.

    Parameters
    ----------
    workspace
        The studies' annotations.
    views
        A view name (``"L CC"``) by SOP Instance UID, for the status line; an image not in
        it is named "image".

    Returns
    -------
    NippleAcceptance
        The views accepted, in the order of the studies and their landmarks.
    """
    work: list[tuple[str, tuple[tuple[str, int | None], ...]]] = []
    accepted: list[str] = []
    for study in workspace.studies():
        if workspace.read_only_reason(study) is not None:
            continue  # a signed study is not edited
        suggested = [n for n in workspace.annotations(study).landmarks if not n.confirmed]
        if suggested:
            work.append((study, tuple((n.sop_instance_uid, n.frame) for n in suggested)))
            accepted += [views.get(n.sop_instance_uid, "image") for n in suggested]
    if not work:
        return NippleAcceptance()
    stack = workspace.undo_stack
    if len(work) > 1:
        stack.beginMacro(NippleAcceptance(tuple(accepted)).message().replace("Accepted", "Accept"))
    try:
        for study, images in work:
            workspace.execute(study, ConfirmNipples(images))
    finally:
        if len(work) > 1:
            stack.endMacro()
    return NippleAcceptance(tuple(accepted))
