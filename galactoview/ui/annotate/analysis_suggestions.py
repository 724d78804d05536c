"""AnalysisSuggestions: the suggested duct tree and filling-defect flags, from request to marks.

The analysis itself is Qt-free (:func:`galactoview.analysis.duct_tree.suggest_duct_tree`,
:func:`galactoview.analysis.filling_defects.flag_filling_defects`); this module runs it in
a worker thread on the active image, keeps what it suggested for each image, draws it
(:class:`~galactoview.ui.annotate.suggestion_items.SuggestionLayer` on every viewport
showing the image) and turns what the reader accepts into ordinary marks.

* **Suggest Duct Tree** (Shift+T): on the image of the active viewport, rooted at the
  cannulated orifice: its nipple landmark (confirmed or suggested), else the first point
  of a duct traced from it. Without either the status line says to place the nipple
  first. The computation runs in a :class:`QThreadPool` thread; the window stays usable
  and the status line says it is running, then what was found and how to accept it.
* **Flag Filling Defects** (Shift+F): the same, then the flags along the tree (the tree
  is computed first when none is shown). When both views of a breast (e.g. L CC and
  L ML) have flags, a round flag with no counterpart at about the same distance from the
  nipple on the other view is marked bubble-like
  (:func:`~galactoview.analysis.filling_defects.mark_bubble_like`).

Accepting (each one undoable edit of the :class:`AnnotationWorkspace`):

* Enter (nothing being drawn) or Annotate → Accept Suggested Duct Tree: every branch
  left, as :class:`DuctSegment` s with the tree's parent links
  (:class:`~galactoview.annotations.document.AddDuctSegments`);
* a click on a branch (SELECT tool): that branch and the branches beyond it; Shift+click:
  that branch only. A branch whose parent is not accepted brings the branches between it
  and the orifice along, so every accepted tree starts at the orifice;
* a click on a flag: a :class:`Finding` "intraluminal filling defect" with a CIRCLE
  region, its reason in the note ("Suggested: lumen gap 3.1 mm, 62 % contrast drop");
* Ctrl+click rejects a branch (with those beyond it) or a flag: it is no longer drawn.

Accepted marks keep the algorithm that proposed them (``algorithm``: TID 4019 in the SR).
What is accepted is not drawn as a suggestion while its mark exists: undoing the edit
brings the suggestion back. Esc (nothing being drawn) or Annotate → Dismiss Suggestions
removes every suggestion: nothing was written anywhere, the undo stack is untouched.
"""

from __future__ import annotations

import math
import sys
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from numpy.typing import NDArray
from PySide6.QtCore import QObject, QRunnable, Qt, QThread, QThreadPool, Signal

from galactoview.analysis.results import (
    DefectFlag,
    DefectFlags,
    DuctTreeSuggestion,
    SuggestedBranch,
    mark_bubble_like,
    nipple_distances_mm,
)
from galactoview.annotations.geometry import measure_region, path_length_measurement
from galactoview.annotations.model import (
    DuctSegment,
    Finding,
    FindingType,
    GraphicType,
    ImageRegion,
    is_valid_uid,
    next_segment_id,
    next_short_id,
)
from galactoview.dicom.calibration import Calibration
from galactoview.dicom.mammography import ContrastPhase, Laterality
from galactoview.imaging.display import DisplayPipeline
from galactoview.location.localize import region_center
from galactoview.ui.annotate.annotation_items import (
    HIT_TOLERANCE_PX,
    distance_to_outline,
    region_frame,
)
from galactoview.ui.annotate.annotation_workspace import AnnotationWorkspace
from galactoview.ui.annotate.suggestion_items import MIN_FLAG_RADIUS_PX, SuggestionLayer
from galactoview.ui.viewer.viewport import MouseMode, ToolClick, Viewport

__all__ = [
    "DEFECT_KEY",
    "TREE_KEY",
    "AnalysisSuggestions",
    "ImageSuggestions",
    "SuggestionOutcome",
]

#: The key of Suggest Duct Tree (named in the status line).
TREE_KEY: Final = "Shift+T"
#: The key of Flag Filling Defects.
DEFECT_KEY: Final = "Shift+F"
#: A suggested branch within this of a duct traced on the image is that duct (mm).
TRACED_REACH_MM: Final = 1.0

Point = tuple[float, float]
#: An image: SOP Instance UID and Referenced Frame Number (None: single frame).
ImageKey = tuple[str, int | None]


@dataclass(frozen=True, slots=True)
class ImageSuggestions:
    """What was suggested on one image, and what became of it.

    Attributes
    ----------
    study_instance_uid, sop_instance_uid, frame
        The image (``frame``: the Referenced Frame Number, None for a single frame).
    view
        Its view for people, e.g. ``"L CC"``.
    view_code
        Its view position code (the other view of a breast has another).
    laterality
        The breast.
    calibration
        mm per pixel (lengths and sizes of the accepted marks), None when unknown.
    tree
        The suggested tree.
    found_flags
        The flags as found (None: not looked for).
    flags
        The flags shown: ``found_flags``, bubble-like ones marked when the other view
        of the breast has flags too.
    accepted_branches, accepted_flags
        Index of an accepted branch or flag -> tracking UID of its mark.
    rejected_branches, rejected_flags
        Indices the reader rejected.
    """

    study_instance_uid: str
    sop_instance_uid: str
    frame: int | None
    view: str
    view_code: str
    laterality: Laterality
    calibration: Calibration | None
    tree: DuctTreeSuggestion
    found_flags: DefectFlags | None = None
    flags: DefectFlags | None = None
    accepted_branches: Mapping[int, str] = field(default_factory=dict)
    accepted_flags: Mapping[int, str] = field(default_factory=dict)
    rejected_branches: frozenset[int] = frozenset()
    rejected_flags: frozenset[int] = frozenset()

    @property
    def key(self) -> ImageKey:
        """Return the image's key (SOP Instance UID, frame)."""
        return self.sop_instance_uid, self.frame


@dataclass(frozen=True, slots=True)
class SuggestionOutcome:
    """What a worker computed (or why it could not).

    Attributes
    ----------
    serial
        The request it answers (older requests are dropped).
    tree
        The tree (None when the computation failed).
    flags
        The flags, when asked for.
    error
        What went wrong, one line (empty on success).
    thread
        The thread it ran in (never the window's).
    """

    serial: int
    tree: DuctTreeSuggestion | None
    flags: DefectFlags | None
    error: str
    thread: object


@dataclass(frozen=True, slots=True)
class _Request:
    """A computation asked for: its image and inputs."""

    serial: int
    stored: NDArray[Any]
    pipeline: DisplayPipeline
    spacing_mm: float | None
    orifice: Point
    tree: DuctTreeSuggestion | None
    flags: bool
    image: ImageSuggestions  # the image's state (its tree a placeholder when computing it)
    post_contrast: bool = True  # False: the image is not known to be a post-contrast one


class _Relay(QObject):
    """Carries outcomes from the pool thread to the window's thread (a queued connection)."""

    done = Signal(object)  # SuggestionOutcome


class _Task(QRunnable):
    """Suggest the tree (unless given) and flag defects (if asked) in a pool thread."""

    def __init__(self, request: _Request, relay: _Relay) -> None:
        super().__init__()
        self._request = request
        self._relay = relay

    def run(self) -> None:
        """Compute (pool thread); never raises: an error is the outcome's one line."""
        request = self._request
        thread = QThread.currentThread()
        tree, flags, error = request.tree, None, ""
        try:
            # Imported here, in the pool thread: SciPy, scikit-image and networkx take
            # about a second to import, which the window's start need not pay.
            from galactoview.analysis.duct_tree import suggest_duct_tree
            from galactoview.analysis.filling_defects import flag_filling_defects

            if tree is None:
                tree = suggest_duct_tree(
                    request.stored, request.pipeline, request.spacing_mm, request.orifice
                )
            if request.flags:
                flags = flag_filling_defects(tree)
        except Exception as exc:  # a bug must not leave "Suggesting…" forever
            traceback.print_exc(file=sys.stderr)
            error = f"unexpected error in the analysis: {type(exc).__name__}: {exc}"
        self._relay.done.emit(SuggestionOutcome(request.serial, tree, flags, error, thread))


class AnalysisSuggestions(QObject):
    """The suggestions of every image, their computation, drawing and acceptance.

    Parameters
    ----------
    workspace
        Where accepted suggestions go (one undoable edit each).
    active
        Returns the active viewport (the image suggestions are computed on).
    parent
        Owner.

    Attributes
    ----------
    select_tool
        Called when suggestions are shown: the window chooses the SELECT marking tool so
        that a click on a suggestion reaches :meth:`click`.
    selecting
        Returns whether a click may accept a suggestion (the SELECT marking tool).
    last_thread
        The thread the last computation ran in (None before the first).

    Signals
    -------
    said(str, int)
        A status line and how long to show it (ms, 0: until replaced).
    finished()
        A computation is over and its outcome shown (or dropped: dismissed meanwhile).
    changed()
        The suggestions drawn changed.
    """

    said = Signal(str, int)
    finished = Signal()
    changed = Signal()

    def __init__(
        self,
        workspace: AnnotationWorkspace,
        active: Callable[[], Viewport],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._workspace = workspace
        self._active = active
        self._images: dict[ImageKey, ImageSuggestions] = {}
        self.layers: dict[Viewport, SuggestionLayer] = {}
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
        self._serial = 0
        self._running: _Request | None = None
        self.last_thread: object = None
        self.select_tool: Callable[[], None] = lambda: None
        self.selecting: Callable[[], bool] = lambda: True
        workspace.changed.connect(lambda _study: self._redraw())

    # --- reading ----------------------------------------------------------------------------

    def is_running(self) -> bool:
        """Return whether a computation runs (its outcome not shown yet)."""
        return self._running is not None

    def has_suggestions(self) -> bool:
        """Return whether some suggestion is drawn (a branch or a flag still open)."""
        return any(self._open_branches(s) or self._open_flags(s) for s in self._images.values())

    def suggestions(
        self, sop_instance_uid: str, frame: int | None = None
    ) -> ImageSuggestions | None:
        """Return what was suggested on an image (None: nothing, or dismissed)."""
        return self._images.get((sop_instance_uid, frame))

    def shutdown(self) -> None:
        """Drop what runs and wait for the worker (the window closes)."""
        self._serial += 1
        self._running = None
        self._pool.waitForDone()

    # --- viewports --------------------------------------------------------------------------

    def attach(self, viewport: Viewport) -> None:
        """Draw the suggestions of the image a viewport shows, and take its clicks."""
        layer = SuggestionLayer(viewport)
        self.layers[viewport] = layer
        viewport.tool_click.connect(lambda click, v=viewport: self.click(v, click))
        viewport.image_changed.connect(lambda v=viewport: self._redraw_layer(v))

    # --- requests ---------------------------------------------------------------------------

    def suggest_tree(self) -> bool:
        """Suggest the duct tree of the active image in a worker (Shift+T).

        Returns
        -------
        bool
            Whether a computation was started (else the status line says why not).
        """
        return self._request(flags=False)

    def flag_defects(self) -> bool:
        """Flag possible filling defects along the active image's tree (Shift+F).

        The tree already suggested on the image is used; else it is suggested first.

        Returns
        -------
        bool
            Whether a computation was started.
        """
        return self._request(flags=True)

    def _request(self, *, flags: bool) -> bool:
        what = "Flag filling defects" if flags else "Suggest duct tree"
        viewport = self._active()
        record = viewport.record
        if record is None or not viewport.has_image():
            self._say(f"{what}: no image in the active viewport")
            return False
        view = record.view.label or record.series_description or "this image"
        stored, pipeline = viewport.stored, viewport.pipeline
        if viewport.is_preview or stored is None or pipeline is None:
            self._say(f"{what}: {view} is still being decoded; try again in a moment")
            return False
        if stored.ndim != 2:
            self._say(f"{what}: {view} is a colour image; the analysis needs a grayscale one")
            return False
        study, sop = record.study_instance_uid, record.sop_instance_uid
        if not (is_valid_uid(study) and is_valid_uid(sop)):
            self._say(f"{what}: marks cannot be made on {view} (its UIDs are not DICOM UIDs)")
            return False
        reason = self._workspace.read_only_reason(study)
        if reason is not None:
            self._say(f"Not suggested: {reason}")
            return False
        if record.contrast_phase is ContrastPhase.PRE:
            self._say(f"{what}: {view} is the pre-contrast scout; show a post-contrast image first")
            return False
        frame = region_frame(viewport)
        orifice = self._orifice(study, sop, frame)
        if orifice is None:
            self._say(
                f"{what}: {view} has no nipple landmark to root the tree at the orifice — "
                "place it first (N), or Shift+N suggests one"
            )
            return False
        calibration = viewport.calibration
        known = calibration is not None and calibration.is_known
        spacing = calibration.column_spacing_mm if calibration is not None and known else None
        previous = self._images.get((sop, frame))
        tree = previous.tree if flags and previous is not None else None
        image = previous or ImageSuggestions(
            study,
            sop,
            frame,
            view,
            record.view.view_code,
            record.view.laterality,
            calibration if known else None,
            DuctTreeSuggestion(orifice, (), known, spacing or 0.1, 0.0, "computing"),
        )
        self._serial += 1
        request = _Request(
            self._serial,
            stored,
            pipeline,
            spacing,
            orifice,
            tree,
            flags,
            image,
            record.contrast_phase is ContrastPhase.POST,
        )
        self._running = request
        doing = "Flagging possible filling defects" if flags else "Suggesting the duct tree"
        self._say(f"{doing} on {view}…", 0)
        self._pool.start(_Task(request, self._relay))
        return True

    def _orifice(self, study: str, sop: str, frame: int | None) -> Point | None:
        """Return the image's nipple landmark, else the root of a duct traced on it."""
        annotations = self._workspace.annotations(study)
        landmark = annotations.landmark(sop, frame)
        if landmark is not None:
            return landmark.point
        for segment in annotations.duct_segments:
            region = segment.region
            if segment.parent_uid is None and (region.sop_instance_uid, region.frame) == (
                sop,
                frame,
            ):
                return region.points[0]
        return None

    def _on_done(self, outcome: SuggestionOutcome) -> None:
        request = self._running
        self.last_thread = outcome.thread
        if request is None or outcome.serial != request.serial:
            self.finished.emit()  # dismissed (or asked again) meanwhile: dropped
            return
        self._running = None
        # Flags along a tree shown: what the reader accepted meanwhile stays accepted.
        image = self._images.get(request.image.key, request.image)
        if outcome.tree is None or outcome.error:
            self._say(f"No suggestion on {image.view}: {outcome.error}")
            self.finished.emit()
            return
        tree = outcome.tree
        if request.tree is None:  # a new tree: what was accepted or rejected no longer applies
            image = replace(
                image,
                tree=tree,
                found_flags=None,
                flags=None,
                accepted_branches=self._traced_already(image, tree),
                accepted_flags={},
                rejected_branches=frozenset(),
                rejected_flags=frozenset(),
            )
        if outcome.flags is not None:
            image = replace(
                image,
                found_flags=outcome.flags,
                flags=outcome.flags,
                accepted_flags={},
                rejected_flags=frozenset(),
            )
        self._images[image.key] = image
        self._mark_bubbles(image)
        self._redraw()
        if tree.branches or (outcome.flags is not None and outcome.flags.flags):
            self.select_tool()
        self._say(self._found_message(self._images[image.key], request, outcome), 0)
        self.finished.emit()

    def _traced_already(self, image: ImageSuggestions, tree: DuctTreeSuggestion) -> dict[int, str]:
        """Return the branches running along ducts already traced on the image, as accepted.

        They are not suggested again (accepting the tree twice would trace every duct
        twice); branches beyond them join those traces when accepted.
        """
        traced = [
            s
            for s in self._workspace.annotations(image.study_instance_uid).duct_segments
            if (s.region.sop_instance_uid, s.region.frame) == (image.sop_instance_uid, image.frame)
        ]
        reach = TRACED_REACH_MM / tree.pixel_spacing_mm  # nominal when not calibrated
        along = tree.traced_already([s.region.points for s in traced], reach)
        return {index: traced[number].tracking_uid for index, number in along.items()}

    def _found_message(
        self, image: ImageSuggestions, request: _Request, outcome: SuggestionOutcome
    ) -> str:
        tree = image.tree
        if not tree.branches:
            # A screening prior has no contrast: say so rather than blame the landmark.
            phase = "" if request.post_contrast else " (not known to be a post-contrast image)"
            why = tree.problem or "none found"
            return f"No duct tree suggested on {image.view}{phase}: {why}"
        flags = image.flags
        if not request.flags or flags is None:
            left = len(self._open_branches(image))
            if not left:
                return (
                    f"Duct tree suggested on {image.view}: its {len(tree.branches)} branches "
                    "are all traced already — nothing new to accept"
                )
            traced = len(tree.branches) - left
            known = f" ({traced} traced already, not shown)" if traced else ""
            return (
                f"Duct tree suggested on {image.view}: {left} branches{known} in "
                f"{tree.runtime_s:.2f} s — click accepts a branch, Enter the tree, Esc "
                "dismisses"
            )
        seconds = flags.runtime_s + (tree.runtime_s if request.tree is None else 0.0)
        if flags.problem:
            return f"No filling defects looked for on {image.view}: {flags.problem}"
        if not flags.flags:
            return (
                f"No possible filling defect flagged on {image.view} ({seconds:.2f} s); "
                "the tree is shown: Enter accepts it, Esc dismisses"
            )
        bubbles = sum(f.bubble_like for f in flags.flags)
        bubble_text = f", {bubbles} bubble-like" if bubbles else ""
        return (
            f"{len(flags.flags)} possible filling defect(s) on {image.view}{bubble_text} in "
            f"{seconds:.2f} s — click accepts one, hover says why, Esc dismisses"
        )

    def _mark_bubbles(self, image: ImageSuggestions) -> None:
        """Mark bubble-like flags on this image and the other view of its breast, if flagged."""
        other = next(
            (
                s
                for s in self._images.values()
                if s.study_instance_uid == image.study_instance_uid
                and s.laterality is image.laterality
                and s.view_code != image.view_code
                and s.found_flags is not None
                and s.found_flags.flags
            ),
            None,
        )
        if other is None or image.found_flags is None or not image.found_flags.flags:
            return
        # A flag is matched with the other view's flags and weaker candidates alike.
        for state, partner in ((image, other), (other, image)):
            assert state.found_flags is not None and partner.found_flags is not None
            own = _nipple_distances(state, state.found_flags.flags)
            others = _nipple_distances(partner, partner.found_flags.counterparts)
            if own is None or others is None:
                return  # not calibrated: distances from the nipple are not comparable
            marked = mark_bubble_like(state.found_flags, own, others)
            self._images[state.key] = replace(self._images[state.key], flags=marked)

    def show_flags(self, sop_instance_uid: str, frame: int | None, flags: DefectFlags) -> bool:
        """Show flags found elsewhere (a script, a test) along an image's suggested tree.

        Returns
        -------
        bool
            Whether they are shown: not on an image without a suggested tree.
        """
        image = self._images.get((sop_instance_uid, frame))
        if image is None:
            return False
        self._images[image.key] = replace(
            image, found_flags=flags, flags=flags, accepted_flags={}, rejected_flags=frozenset()
        )
        self._mark_bubbles(self._images[image.key])
        self._redraw()
        return True

    # --- accepting --------------------------------------------------------------------------

    def accept_tree(self) -> bool:
        """Accept every branch left of the active image's tree (else the only tree shown).

        Returns
        -------
        bool
            Whether segments were added (one undoable edit).
        """
        image = self._current()
        left = () if image is None else self._open_branches(image)
        if image is None or not left:
            self._say(f"No suggested duct tree to accept: {TREE_KEY} suggests one")
            return False
        return self._accept_branches(image, [b.index for b in left])

    def accept_branch(
        self, sop_instance_uid: str, frame: int | None, index: int, *, beyond: bool = True
    ) -> bool:
        """Accept one suggested branch, with the branches beyond it unless ``beyond`` is False.

        Returns
        -------
        bool
            Whether segments were added (one undoable edit).
        """
        image = self._images.get((sop_instance_uid, frame))
        if image is None:
            return False
        if beyond:
            wanted = [b.index for b in image.tree.subtree(index)]
            shown = {b.index for b in self._open_branches(image)}
            indices = [i for i in wanted if i in shown]
        else:
            indices = [index]
        return self._accept_branches(image, indices)

    def _accept_branches(self, image: ImageSuggestions, indices: Iterable[int]) -> bool:
        tree = image.tree
        study = image.study_instance_uid
        annotations = self._workspace.annotations(study)
        present = {s.tracking_uid for s in annotations.duct_segments}
        accepted = {i: uid for i, uid in image.accepted_branches.items() if uid in present}
        wanted = set(indices)
        for index in list(wanted):  # the path back to the orifice comes along
            parent = tree.branches[index].parent
            while parent is not None and parent not in accepted:
                wanted.add(parent)
                parent = tree.branches[parent].parent
        wanted -= set(accepted)
        if not wanted:
            return False
        segments = list(annotations.duct_segments)
        added: list[DuctSegment] = []
        uids = dict(accepted)
        for branch in tree.branches:  # parents come first
            if branch.index not in wanted:
                continue
            segment = self._segment(image, branch, uids, segments)
            if segment is None:
                continue
            uids[branch.index] = segment.tracking_uid
            segments.append(segment)
            added.append(segment)
        if not added:
            return False
        ids = [s.short_id for s in added]
        names = f"{ids[0]}…{ids[-1]}" if len(ids) > 1 else ids[0]
        if not self._workspace.add_duct_segments(study, tuple(added), f"Accept suggested {names}"):
            return False
        new = {i: uid for i, uid in uids.items() if uid in {s.tracking_uid for s in added}}
        self._images[image.key] = replace(
            image, accepted_branches={**image.accepted_branches, **new}
        )
        self._workspace.select(added[0].tracking_uid)
        self._redraw()
        left = len(self._open_branches(self._images[image.key]))
        more = f"; {left} suggested branch(es) left" if left else ""
        self._say(
            f"Accepted {names} ({len(added)} suggested branch(es)) on {image.view}: Ctrl+Z "
            f"takes them back{more}"
        )
        return True

    def _segment(
        self,
        image: ImageSuggestions,
        branch: SuggestedBranch,
        uids: Mapping[int, str],
        segments: list[DuctSegment],
    ) -> DuctSegment | None:
        """Return the duct segment of an accepted branch (None: a degenerate line)."""
        points = tuple((max(0.0, float(x)), max(0.0, float(y))) for x, y in branch.points)
        try:
            region = ImageRegion(image.sop_instance_uid, image.frame, GraphicType.POLYLINE, points)
        except ValueError:
            return None
        parent = branch.parent
        while parent is not None and parent not in uids:  # a degenerate parent was skipped
            parent = image.tree.branches[parent].parent
        calibre = f", calibre {branch.calibre_mm:.1f} mm" if branch.calibre_mm is not None else ""
        try:
            return DuctSegment.new(
                region,
                short_id=next_segment_id(segments),
                parent_uid=uids[parent] if parent is not None else None,
                laterality=image.laterality,
                path_length=path_length_measurement(region, image.calibration),
                note=f"Suggested branch, generation {branch.generation}{calibre}",
                algorithm=image.tree.algorithm,
            )
        except ValueError:
            return None

    def accept_flag(self, sop_instance_uid: str, frame: int | None, index: int) -> bool:
        """Accept a flag as an intraluminal filling defect finding (one undoable edit).

        A flag on a filling defect the reader has already marked on this image is that
        finding: nothing is added, the flag goes and the status line names the finding.

        Returns
        -------
        bool
            Whether a finding was added.
        """
        image = self._images.get((sop_instance_uid, frame))
        if image is None or image.flags is None or not 0 <= index < len(image.flags.flags):
            return False
        flag = image.flags.flags[index]
        study = image.study_instance_uid
        findings = self._workspace.annotations(study).findings
        marked = _marked_defect(findings, image, flag)
        if marked is not None:
            # The reader marked this lesion already: a second finding would count it twice.
            accepted = {**image.accepted_flags, index: marked.tracking_uid}
            self._images[image.key] = replace(image, accepted_flags=accepted)
            self._redraw()
            self._say(
                f"The flag is on {marked.short_id}, already marked on {image.view}: nothing added"
            )
            return False
        cx, cy = float(flag.point[0]), float(flag.point[1])
        radius = max(float(flag.radius_px), 1.0)
        try:
            region = ImageRegion(
                image.sop_instance_uid,
                image.frame,
                GraphicType.CIRCLE,
                ((max(0.0, cx), max(0.0, cy)), (max(0.0, cx) + radius, max(0.0, cy))),
            )
        except ValueError:
            return False
        kind = FindingType.INTRALUMINAL_FILLING_DEFECT
        finding = Finding.new(
            kind,
            (region,),
            short_id=next_short_id(findings, kind),
            laterality=image.laterality,
            measurements=measure_region(region, image.calibration),
            note=f"Suggested: {flag.reason}",
            observer=self._workspace.reader,
            algorithm=image.flags.algorithm,
        )
        self._workspace.add_finding(study, finding)
        if self._workspace.study_of(finding.tracking_uid) is None:
            return False  # refused (a signed study): the status line says why
        accepted = {**image.accepted_flags, index: finding.tracking_uid}
        self._images[image.key] = replace(image, accepted_flags=accepted)
        self._redraw()
        self._say(
            f"Accepted {finding.short_id} (suggested filling defect: {flag.reason}) on "
            f"{image.view}: Ctrl+Z takes it back"
        )
        return True

    # --- rejecting --------------------------------------------------------------------------

    def reject_branch(self, sop_instance_uid: str, frame: int | None, index: int) -> bool:
        """Stop suggesting a branch and the branches beyond it; return whether any went."""
        image = self._images.get((sop_instance_uid, frame))
        if image is None:
            return False
        gone = frozenset(b.index for b in image.tree.subtree(index))
        self._images[image.key] = replace(image, rejected_branches=image.rejected_branches | gone)
        self._redraw()
        self._say(f"Rejected {len(gone)} suggested branch(es) on {image.view}")
        return True

    def reject_flag(self, sop_instance_uid: str, frame: int | None, index: int) -> bool:
        """Stop suggesting a flag; return whether it was shown."""
        image = self._images.get((sop_instance_uid, frame))
        if image is None or index in image.rejected_flags:
            return False
        self._images[image.key] = replace(image, rejected_flags=image.rejected_flags | {index})
        self._redraw()
        self._say(f"Rejected a flagged filling defect on {image.view}")
        return True

    def dismiss(self, *, quiet: bool = False) -> bool:
        """Remove every suggestion (and drop a computation running): nothing is recorded.

        Returns
        -------
        bool
            Whether there was something to dismiss.
        """
        had = bool(self._images) or self._running is not None
        self._images.clear()
        if self._running is not None:
            self._serial += 1  # its outcome is dropped when it arrives
            self._running = None
        self._redraw()
        if had and not quiet:
            self._say("Suggestions dismissed: nothing was recorded")
        return had

    # --- clicks -----------------------------------------------------------------------------

    def click(self, viewport: Viewport, click: ToolClick) -> bool:
        """Accept (or with Ctrl reject) the suggestion clicked, if any; return whether one was.

        Only in the ANNOTATE mouse mode with the SELECT tool (another tool's click draws).
        """
        if click.mode is not MouseMode.ANNOTATE or click.double or not self.selecting():
            return False
        layer = self.layers.get(viewport)
        record = viewport.record
        if layer is None or record is None:
            return False
        key = (record.sop_instance_uid, region_frame(viewport))
        if key not in self._images:
            return False
        scale = viewport.image_pixels_per_screen_pixel() or 1.0
        tolerance = HIT_TOLERANCE_PX * scale
        position = click.position
        modifiers = click.modifiers
        reject = bool(modifiers & Qt.KeyboardModifier.ControlModifier)
        only = bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
        flag = _flag_at(layer.flags, position, tolerance, MIN_FLAG_RADIUS_PX * scale)
        if flag is not None:
            if reject:
                return self.reject_flag(*key, flag)
            return self.accept_flag(*key, flag)
        branch = _branch_at(layer.branches, position, tolerance)
        if branch is None:
            return False
        if reject:
            return self.reject_branch(*key, branch)
        return self.accept_branch(*key, branch, beyond=not only)

    # --- drawing ----------------------------------------------------------------------------

    def _open_branches(self, image: ImageSuggestions) -> tuple[SuggestedBranch, ...]:
        """Return the branches neither rejected nor accepted (an undone acceptance: open)."""
        present = {
            s.tracking_uid
            for s in self._workspace.annotations(image.study_instance_uid).duct_segments
        }
        return tuple(
            b
            for b in image.tree.branches
            if b.index not in image.rejected_branches
            and image.accepted_branches.get(b.index) not in present
        )

    def _open_flags(self, image: ImageSuggestions) -> tuple[tuple[int, DefectFlag], ...]:
        """Return ``(index, flag)`` of the flags neither rejected nor accepted."""
        if image.flags is None:
            return ()
        present = {
            f.tracking_uid for f in self._workspace.annotations(image.study_instance_uid).findings
        }
        return tuple(
            (i, f)
            for i, f in enumerate(image.flags.flags)
            if i not in image.rejected_flags and image.accepted_flags.get(i) not in present
        )

    def _current(self) -> ImageSuggestions | None:
        """Return the suggestions of the active image, else the only image on screen with some.

        Never those of an image no viewport shows: Enter must not accept a tree the
        reader cannot see.
        """
        record = self._active().record
        if record is not None:
            found = self._images.get((record.sop_instance_uid, region_frame(self._active())))
            if found is not None:
                return found
        on_screen = {
            (v.record.sop_instance_uid, region_frame(v))
            for v in self.layers
            if v.record is not None and v.has_image() and v.isVisible()
        }
        shown = [
            s for key, s in self._images.items() if key in on_screen and self._open_branches(s)
        ]
        return shown[0] if len(shown) == 1 else None

    def _redraw(self) -> None:
        for viewport in self.layers:
            self._redraw_layer(viewport)
        self.changed.emit()

    def _redraw_layer(self, viewport: Viewport) -> None:
        layer = self.layers[viewport]
        record = viewport.record
        image = (
            None
            if record is None or not viewport.has_image()
            else self._images.get((record.sop_instance_uid, region_frame(viewport)))
        )
        if image is None:
            layer.clear()
            return
        branches = self._open_branches(image)
        label = f"tree? {len(branches)} branch(es)" if branches else ""
        layer.show(branches, self._open_flags(image), label)

    def _say(self, text: str, timeout_ms: int = 10_000) -> None:
        self.said.emit(text, timeout_ms)


def _nipple_distances(image: ImageSuggestions, flags: Sequence[DefectFlag]) -> list[float] | None:
    """Return each flag's distance from the image's orifice in mm (None: not calibrated)."""
    if image.calibration is None:
        return None
    return nipple_distances_mm(flags, image.tree.orifice, image.calibration.distance_mm)


#: Findings a filling-defect flag can be: the lesion already marked.
_DEFECT_KINDS: Final = frozenset(
    {FindingType.INTRALUMINAL_FILLING_DEFECT, FindingType.MULTIPLE_FILLING_DEFECTS}
)


def _marked_defect(
    findings: Iterable[Finding], image: ImageSuggestions, flag: DefectFlag
) -> Finding | None:
    """Return the filling-defect finding marked on this image where the flag lies.

    The flag is on a finding when its centre lies in the finding's region there (its
    centre and farthest point) or the region's centre lies in the flag's circle.
    """
    centre = (float(flag.point[0]), float(flag.point[1]))
    for finding in findings:
        if finding.finding_type not in _DEFECT_KINDS:
            continue
        for region in finding.regions:
            if (region.sop_instance_uid, region.frame) != (image.sop_instance_uid, image.frame):
                continue
            middle = region_center(region)
            reach = max(math.dist(middle, point) for point in region.points)
            if math.dist(centre, middle) <= max(reach, float(flag.radius_px)):
                return finding
    return None


def _flag_at(
    flags: Iterable[tuple[int, DefectFlag]], position: Point, tolerance: float, minimum: float
) -> int | None:
    """Return the index of the flag whose circle holds ``position`` (the nearest centre)."""
    best: tuple[float, int] | None = None
    for index, flag in flags:
        distance = math.dist(position, (float(flag.point[0]), float(flag.point[1])))
        if distance <= max(float(flag.radius_px), minimum) + tolerance and (
            best is None or distance < best[0]
        ):
            best = (distance, index)
    return None if best is None else best[1]


def _branch_at(
    branches: Iterable[SuggestedBranch], position: Point, tolerance: float
) -> int | None:
    """Return the index of the branch passing nearest ``position`` within ``tolerance``."""
    best: tuple[float, int] | None = None
    for branch in branches:
        points = [(float(x), float(y)) for x, y in branch.points]
        distance = distance_to_outline(position, points)
        if distance <= tolerance and (best is None or distance < best[0]):
            best = (distance, branch.index)
    return None if best is None else best[1]
