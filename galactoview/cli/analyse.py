"""``galactoview analyse PATH... [--json]``: duct-tree suggestion, metrics and defect flags.

For every post-contrast image found (:func:`galactoview.dicom.mammography.contrast_phase`,
read by the scan into :attr:`~galactoview.dicom.loading.ImageRecord.contrast_phase`) the
command suggests the duct tree (:func:`galactoview.analysis.duct_tree.suggest_duct_tree`),
measures it (:func:`galactoview.analysis.tree_metrics.suggestion_metrics`) and flags
candidate filling defects along it
(:func:`galactoview.analysis.filling_defects.flag_filling_defects`). Nothing is written:
these are suggestions, for scripts and research export, not findings.

* **Orifice** (the tree's root): the nipple landmark of the study's annotations (its
  sidecar, else the SR beside the images, as the viewer reads them:
  :func:`galactoview.sr.beside.study_marks`), said to be *confirmed* or *suggested* as
  the landmark is; without one, the nipple suggested from the breast outline
  (:func:`galactoview.location.landmarks.suggest_nipple`).
* **Calibration**: the image's own (:func:`galactoview.dicom.calibration.calibration_from_dataset`,
  the mean of row and column spacing); every mm figure is printed with its source, and
  an uncalibrated image is measured in stored pixels (``px``), said so.
* **Bubble-like flags**: a round flag with no flag at about the same distance from the
  nipple on the other projection of the same breast (CC against ML/MLO) is marked as a
  possible air bubble (:func:`galactoview.analysis.filling_defects.mark_bubble_like`).
  Each view is compared with the post-contrast views of the other projection, the
  non-magnified ones when there are any; a magnified view is analysed (it is a
  post-contrast image of the same lobe, with its own nipple landmark and calibration) and
  compared with the other projection, but the other projection is compared with the
  full-field view of its partner, as a spot magnification shows only part of the tree.
  When a view has no partner, or either lacks a calibration, its flags are left unmarked
  and the output says why.

Errors about a file are one line ``path: what is wrong`` on stderr; the other images
are still analysed. Exit status: 0 if any image was analysed, 1 if none, 2 on a usage
error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from galactoview.cli.common import EXIT_FAILURE, PROG, print_problems
from galactoview.dicom.loading import ImageRecord, PixelDataError, ScanResult, scan
from galactoview.dicom.mammography import ContrastPhase

if TYPE_CHECKING:  # the analysis (SciPy, scikit-image, networkx) is imported when run
    from numpy.typing import NDArray

    from galactoview.analysis.duct_tree import DuctTreeSuggestion
    from galactoview.analysis.filling_defects import DefectFlag, DefectFlags
    from galactoview.analysis.tree_metrics import TreeMetrics
    from galactoview.annotations.model import AlgorithmIdentification, AnnotationSet
    from galactoview.dicom.calibration import Calibration
    from galactoview.imaging.display import DisplayPipeline

__all__ = ["build_parser", "run"]

#: Views of the craniocaudal projection; the others (ML, MLO, LM, …) are compared with them.
_CC_LIKE: Final = frozenset({"CC", "XCCL", "XCCM", "FB"})


@dataclass(frozen=True, slots=True)
class _Orifice:
    """Where a tree is rooted and where that point came from."""

    point: tuple[float, float]
    source: str  # "sidecar", "sr" (an SR beside the images) or "suggested"
    confirmed: bool | None  # the landmark's state; None for a suggested nipple
    note: str  # for people


@dataclass(slots=True)
class _Analysis:
    """What the command found on one image."""

    record: ImageRecord
    calibration: Calibration | None
    spacing_mm: float | None
    orifice: _Orifice
    tree: DuctTreeSuggestion
    metrics: TreeMetrics
    flags: DefectFlags
    nipple_distances_mm: list[float] | None = None
    bubble_check: str = ""
    problems: list[str] = field(default_factory=list)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``galactoview analyse``."""
    parser = argparse.ArgumentParser(
        prog=f"{PROG} analyse",
        description=(
            "Suggest the opacified duct tree of every post-contrast image found in files "
            "and folders (searched recursively), rooted at the nipple landmark of the "
            "study's annotations (else the nipple suggested from the breast outline); "
            "measure it (branches, generations, total length, Horton-Strahler order, "
            "ramification matrix) and flag candidate filling defects along it, round "
            "ones seen on one view only marked as possible air bubbles. Suggestions "
            "only: nothing is written. Lengths are in mm with their calibration source, "
            "or in pixels when the image has no calibration. Unusable files are "
            "reported on stderr, one line each. Exit status: 0 if any image was "
            "analysed, 1 if none, 2 on a usage error."
        ),
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="file or folder")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON document (keys: see galactoview.cli.analyse.analyse_json)",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``galactoview analyse``."""
    result = scan(args.paths)
    print_problems(result)
    analyses, problems = analyse_images(result)
    for line in problems:
        print(line, file=sys.stderr)
    if args.json:
        print(json.dumps(analyse_json(analyses, result, problems), indent=2, ensure_ascii=False))
    else:
        for number, analysis in enumerate(analyses):
            if number:
                print()
            for line in _table(analysis):
                print(line)
    if not analyses:
        if not (result.problems or problems):  # else each path was named above
            print(f"{PROG} analyse: {_nothing_found(result)}", file=sys.stderr)
        return EXIT_FAILURE
    return 0


def analyse_images(result: ScanResult) -> tuple[list[_Analysis], list[str]]:
    """Analyse every post-contrast image of a scan.

    Parameters
    ----------
    result
        What :func:`galactoview.dicom.loading.scan` found.

    Returns
    -------
    tuple
        The analyses, in the scan's order, and one line ``path: what is wrong`` per
        image or study that could not be analysed (or whose annotations had a problem).
    """
    from galactoview.sr.beside import study_marks

    problems: list[str] = []
    by_study: dict[str, list[ImageRecord]] = {}
    for record in result.images:
        if record.contrast_phase is ContrastPhase.POST:
            by_study.setdefault(record.study_instance_uid, []).append(record)
    analyses: list[_Analysis] = []
    for study_uid, posts in by_study.items():
        members = [r for r in result.images if r.study_instance_uid == study_uid]
        annotations: AnnotationSet | None = None
        read_from = ""
        try:
            marks = study_marks(study_uid, members, result.reports)
            annotations, read_from = marks.annotations, marks.source
            problems.extend(marks.problems)
        except Exception as error:  # e.g. a Study UID that cannot name a sidecar
            problems.extend(
                f"{r.name}: the study's annotations cannot be read ({error}); "
                "the nipple is suggested from the outline"
                for r in posts
            )
        for record in posts:
            beside = any(read_from == str(report.path) for report in result.reports)
            try:
                analysis = _analyse(record, annotations, "sr" if beside else "sidecar")
            except Exception as error:  # a bug on one image must not stop the others
                analysis = f"unexpected error in the analysis: {type(error).__name__}: {error}"
            if isinstance(analysis, str):
                problems.append(f"{record.name}: {analysis}")
            else:
                analyses.append(analysis)
    _mark_bubbles(analyses)
    return analyses, problems


def _analyse(
    record: ImageRecord, annotations: AnnotationSet | None, marks_source: str
) -> _Analysis | str:
    """Analyse one image, or say why it cannot be (``marks_source``: "sidecar" or "sr")."""
    from galactoview.analysis.duct_tree import suggest_duct_tree
    from galactoview.analysis.filling_defects import flag_filling_defects
    from galactoview.analysis.tree_metrics import suggestion_metrics
    from galactoview.location.chest_wall import decoded_pixels

    try:
        stored, pipeline = decoded_pixels(record)
    except PixelDataError as exc:
        return exc.message
    calibration = record.calibration
    spacing = None
    if calibration is not None and calibration.is_known:
        assert calibration.row_spacing_mm is not None
        assert calibration.column_spacing_mm is not None
        spacing = (calibration.row_spacing_mm + calibration.column_spacing_mm) / 2.0
    orifice = _orifice(record, annotations, marks_source, stored, pipeline)
    if isinstance(orifice, str):
        return orifice
    try:
        tree = suggest_duct_tree(stored, pipeline, spacing, orifice.point)
    except (ValueError, MemoryError) as exc:
        return f"no duct tree could be suggested: {exc}"
    flags = flag_filling_defects(tree)
    return _Analysis(record, calibration, spacing, orifice, tree, suggestion_metrics(tree), flags)


def _orifice(
    record: ImageRecord,
    annotations: AnnotationSet | None,
    marks_source: str,
    stored: NDArray[Any],
    pipeline: DisplayPipeline,
) -> _Orifice | str:
    """Return the orifice: the annotations' nipple landmark, else the suggested nipple."""
    from galactoview.location.landmarks import suggest_nipple

    if annotations is not None:
        uid = record.sop_instance_uid
        landmark = annotations.landmark(uid, None) or annotations.landmark(uid, 1)
        if landmark is not None:
            state = "confirmed" if landmark.confirmed else "suggested, not confirmed by a reader"
            where = "the sidecar" if marks_source == "sidecar" else "the SR beside the images"
            return _Orifice(
                landmark.point,
                marks_source,
                landmark.confirmed,
                f"nipple landmark of {where} ({state})",
            )
    try:
        nipple = suggest_nipple(
            stored, pipeline, record.patient_orientation, record.image_laterality, record.view
        )
    except ValueError as exc:
        return f"no nipple landmark and none can be suggested: {exc}"
    return _Orifice(
        nipple.point,
        "suggested",
        None,
        f"no nipple landmark: suggested from the outline ({nipple.method}, "
        f"confidence {nipple.confidence:.2f})",
    )


def _mark_bubbles(analyses: Sequence[_Analysis]) -> None:
    """Mark round flags seen on one projection only as bubble-like (see the module doc)."""
    from galactoview.analysis.filling_defects import mark_bubble_like

    for analysis in analyses:
        analysis.nipple_distances_mm = _nipple_distances(analysis)
    for analysis in analyses:
        if not analysis.flags.flags:
            continue
        partners = [p for p in _partners(analysis, analyses) if not p.flags.problem]
        if not partners:
            analysis.bubble_check = (
                "not checked: no duct tree on a post-contrast view of the other "
                "projection of this breast"
            )
            continue
        own = analysis.nipple_distances_mm
        if own is None or any(p.nipple_distances_mm is None for p in partners):
            analysis.bubble_check = "not checked: distances from the nipple need a calibration"
            continue
        # Matched with the other view's flags and weaker candidates alike.
        other = [d for p in partners for d in (_nipple_distances(p, p.flags.counterparts) or [])]
        analysis.flags = mark_bubble_like(analysis.flags, own, other)
        names = ", ".join(p.record.view.label for p in partners)
        analysis.bubble_check = f"round flags compared by distance from the nipple with {names}"


def _nipple_distances(
    analysis: _Analysis, flags: Sequence[DefectFlag] | None = None
) -> list[float] | None:
    """Return each flag's distance from the orifice in mm, ``None`` when uncalibrated.

    The image's shown flags unless other ``flags`` (its weaker candidates) are given.
    """
    from galactoview.analysis.results import nipple_distances_mm

    calibration = analysis.calibration
    if calibration is None or not calibration.is_known:
        return None
    shown = analysis.flags.flags if flags is None else flags
    return nipple_distances_mm(shown, analysis.orifice.point, calibration.distance_mm)


def _partners(analysis: _Analysis, analyses: Sequence[_Analysis]) -> list[_Analysis]:
    """Return the views a view's flags are compared with: the other projection's."""
    record = analysis.record
    cc = record.view.short_name in _CC_LIKE
    if not record.view.short_name:
        return []
    others = [
        a
        for a in analyses
        if a.record.study_instance_uid == record.study_instance_uid
        and a.record.image_laterality == record.image_laterality
        and a.record.view.short_name
        and (a.record.view.short_name in _CC_LIKE) != cc
    ]
    full_field = [a for a in others if not a.record.view.is_magnified]
    return full_field or others


def _nothing_found(result: ScanResult) -> str:
    """Say why no image was analysed when no file was named as a problem."""
    if not result.images:
        return "no DICOM images found"
    phases = [r.contrast_phase for r in result.images]
    pre, unknown = phases.count(ContrastPhase.PRE), phases.count(ContrastPhase.UNKNOWN)
    return (
        f"no post-contrast image found ({pre} pre-contrast, {unknown} of unknown phase: "
        "the phase is read from Series Description, Image Comments, Protocol Name and "
        "Contrast/Bolus Agent)"
    )


# ------------------------------------------------------------------ output


def _calibration_note(analysis: _Analysis) -> str:
    """Say what the lengths are in and where their scale came from."""
    calibration = analysis.calibration
    if calibration is None or not calibration.is_known:
        return "uncalibrated: lengths in stored pixels (px), no mm"
    return f"{calibration.short_label()}: lengths in mm"


def _length(value: float | None, unit: str) -> str:
    """Format a length with its unit, ``-`` when unknown."""
    return "-" if value is None else f"{value:.1f} {unit}"


def _table(analysis: _Analysis) -> list[str]:
    """Return the lines printed for one image."""
    record, tree, metrics, flags = analysis.record, analysis.tree, analysis.metrics, analysis.flags
    column, row = analysis.orifice.point
    unit = metrics.length_unit
    lines = [
        f"{record.name}  {record.view.label or '-'}",
        f"  calibration   {_calibration_note(analysis)}",
        f"  orifice       ({column:.0f}, {row:.0f}) px, {analysis.orifice.note}",
    ]
    if not tree.branches:
        lines.append(f"  tree          none: {tree.problem}")
    else:
        lines += [
            f"  branches      {metrics.branch_count}",
            f"  generations   {metrics.generations} "
            f"(branches per generation {', '.join(map(str, metrics.branches_per_generation))})",
            f"  total length  {_length(metrics.total_length, unit)}",
            f"  Strahler      order {metrics.strahler_order}, "
            f"{metrics.bifurcations} bifurcation(s)",
        ]
        for order, values in enumerate(metrics.ramification_matrix, start=2):
            shown = "  ".join(f"{v:.2f}" for v in values)
            label = "R matrix" if order == 2 else ""
            lines.append(f"  {label:<12}  k={order}: {shown}")
    if flags.problem:
        lines.append(f"  flags         none: {flags.problem}")
    else:
        lines.append(f"  flags         {len(flags.flags)}")
        for number, flag in enumerate(flags.flags, start=1):
            where = f"({flag.point[0]:.0f}, {flag.point[1]:.0f}) px"
            branch = "" if flag.branch is None else f", branch {flag.branch}"
            lines.append(f"    {number}. {where}{branch}, score {flag.score:.2f}: {flag.reason}")
        if flags.flags and analysis.bubble_check:
            lines.append(f"  bubbles       {analysis.bubble_check}")
    lines.append(
        f"  runtime       tree {tree.runtime_s:.2f} s, flags {flags.runtime_s:.2f} s"
        f" ({tree.algorithm.describe()}; {flags.algorithm.describe()})"
    )
    return lines


def _algorithm_json(algorithm: AlgorithmIdentification) -> dict[str, Any]:
    """Return the JSON object of an algorithm (TID 4019 name, version, parameters)."""
    return {
        "name": algorithm.name,
        "version": algorithm.version,
        "parameters": list(algorithm.parameters),
    }


def _rounded(value: float | None, digits: int = 2) -> float | None:
    """Round a number for the JSON document, keeping ``None``."""
    return None if value is None else round(float(value), digits)


def analyse_json(
    analyses: Sequence[_Analysis], result: ScanResult, problems: Sequence[str]
) -> dict[str, Any]:
    """Return the ``galactoview analyse --json`` document.

    Keys (points are SCOORD ``[column, row]`` in stored pixels; missing numbers ``null``)::

        images: list of
          path, archive_member, sop_instance_uid, study_instance_uid,
          laterality, view (e.g. "L CC MAG"), magnified (bool)
          calibration: {source, label, description, row_spacing_mm, column_spacing_mm}
            or null; pixel_spacing_mm (the mean used, null when uncalibrated)
          orifice: {point, source ("sidecar", "sr" for an SR file beside the images,
            or "suggested" from the outline), confirmed (the landmark's state; null
            for a suggested nipple), note}
          tree: {calibrated (bool), problem ("" when a tree was found), runtime_s,
            algorithm: {name, version, parameters},
            branches: list of {index, parent, generation, points, length_mm,
              length_px, calibre_mm}}  (generation as the suggestion counts it, +1 at
              every branch; metrics.branch_generations counts divisions only)
          metrics: TreeMetrics.as_dict() (galactoview.analysis.tree_metrics)
          flags: {problem, runtime_s, algorithm, bubble_check,
            items: list of {point, radius_px, branch, score, size_mm, contrast_drop,
              round, bubble_like, reason, nipple_distance_mm}}
        problems: list of "path: what is wrong" lines

    Parameters
    ----------
    analyses
        The images analysed.
    result
        The scan (for its problems).
    problems
        The lines about images or studies that could not be analysed.

    Returns
    -------
    dict
        A JSON-serialisable document.
    """
    return {
        "images": [_image_json(analysis) for analysis in analyses],
        "problems": [str(p) for p in result.problems] + list(problems),
    }


def _image_json(analysis: _Analysis) -> dict[str, Any]:
    """Return the JSON object of one analysed image (see :func:`analyse_json`)."""
    record, tree, flags = analysis.record, analysis.tree, analysis.flags
    calibration = analysis.calibration
    distances: list[float | None] = [None] * len(flags.flags)
    if analysis.nipple_distances_mm is not None:
        distances = list(analysis.nipple_distances_mm)
    return {
        "path": str(record.path),
        "archive_member": record.archive_member,
        "sop_instance_uid": record.sop_instance_uid,
        "study_instance_uid": record.study_instance_uid,
        "laterality": record.image_laterality.value,
        "view": record.view.label,
        "magnified": record.view.is_magnified,
        "calibration": None
        if calibration is None
        else {
            "source": calibration.source.value,
            "label": calibration.short_label(),
            "description": calibration.description,
            "row_spacing_mm": calibration.row_spacing_mm,
            "column_spacing_mm": calibration.column_spacing_mm,
        },
        "pixel_spacing_mm": analysis.spacing_mm,
        "orifice": {
            "point": [round(v, 2) for v in analysis.orifice.point],
            "source": analysis.orifice.source,
            "confirmed": analysis.orifice.confirmed,
            "note": analysis.orifice.note,
        },
        "tree": {
            "calibrated": tree.calibrated,
            "problem": tree.problem,
            "runtime_s": round(tree.runtime_s, 3),
            "algorithm": _algorithm_json(tree.algorithm),
            "branches": [
                {
                    "index": branch.index,
                    "parent": branch.parent,
                    "generation": branch.generation,
                    "points": [[round(c, 2), round(r, 2)] for c, r in branch.points],
                    "length_mm": _rounded(branch.length_mm),
                    "length_px": _rounded(branch.length_px, 1),
                    "calibre_mm": _rounded(branch.calibre_mm),
                }
                for branch in tree.branches
            ],
        },
        "metrics": analysis.metrics.as_dict(),
        "flags": {
            "problem": flags.problem,
            "runtime_s": round(flags.runtime_s, 3),
            "algorithm": _algorithm_json(flags.algorithm),
            "bubble_check": analysis.bubble_check,
            "items": [
                {
                    "point": [round(float(flag.point[0]), 2), round(float(flag.point[1]), 2)],
                    "radius_px": _rounded(flag.radius_px, 1),
                    "branch": flag.branch,
                    "score": _rounded(flag.score, 3),
                    "size_mm": _rounded(flag.size_mm),
                    "contrast_drop": _rounded(flag.contrast_drop, 3),
                    "round": bool(flag.round),
                    "bubble_like": bool(flag.bubble_like),
                    "reason": flag.reason,
                    "nipple_distance_mm": _rounded(distance, 1),
                }
                for flag, distance in zip(flags.flags, distances, strict=True)
            ],
        },
    }
