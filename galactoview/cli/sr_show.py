"""``galactoview sr show SIDECAR_OR_SR|FOLDER [--json]``: the marks of a sidecar or an SR.

After the marks, the written report the revision holds: its state (signed by whom and
when — Verification Flag VERIFIED, PS3.3 C.17.2 — or a draft; with an addendum), the
BI-RADS® category, the recommendations and the cannulated duct's orifice, in the words
of the PDF (:mod:`galactoview.report.written`); ``--json`` gives them as ``"report"``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from galactoview.annotations.report import ClinicalReport
from galactoview.cli.common import fail, print_problems
from galactoview.cli.sr_reading import UnreadableError, decode_sr
from galactoview.dicom.loading import ImageRecord, scan
from galactoview.report.written import NOT_GIVEN, written_report
from galactoview.sr.signing import Signature

__all__ = ["report_json", "report_lines", "run"]


def run(source: Path, as_json: bool, images: Path | None, no_images: bool) -> int:
    """Run ``galactoview sr show`` on a sidecar, an SR file or a folder of studies."""
    from galactoview.sr.foreign import with_image_laterality
    from galactoview.sr.listing import image_labels, listing_json, listing_lines

    if source.is_dir():
        return _show_folder(source, as_json, images, no_images)
    try:
        _, result = decode_sr(source)
    except UnreadableError as exc:
        return fail(source, str(exc))
    labels = {}
    annotations, locations = result.annotations, result.locations
    if not no_images:
        folder = images if images is not None else source.absolute().parent
        found = scan([folder]).images
        labels = image_labels(found)
        # Another writer's findings without a laterality: that of their images.
        sides = {record.sop_instance_uid: record.image_laterality for record in found}
        annotations = with_image_laterality(annotations, sides)
    if as_json:
        document = listing_json(annotations, labels, locations)
        document["report"] = report_json(result.report, result.signature)
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        for line in listing_lines(annotations, labels, locations):
            print(line)
        for line in report_lines(result.report, result.signature):
            print(line)
    return 0


def report_json(report: ClinicalReport | None, signature: Signature | None) -> dict[str, Any]:
    """Return the written report's state, BI-RADS, recommendations and orifice as JSON.

    ``state`` is ``"signed"`` (Verification Flag VERIFIED with a verifying observer),
    ``"not validly signed"`` (VERIFIED naming no observer) or ``"draft"``; ``signed_by``,
    ``organization`` and ``signed_at`` are ``null`` unless signed; ``addendum`` names
    the signed revision it amends (``null`` without one).
    """
    written = written_report(report or ClinicalReport(), signature)
    state = "signed" if written.signed else "draft"
    if written.invalid_signature:
        state = "not validly signed"
    block = written.signature
    addendum = written.addendum
    return {
        "written": report is not None,
        "state": state,
        "verification_flag": "UNVERIFIED" if signature is None else "VERIFIED",
        "summary": written.state,
        "signed_by": None if block is None else block.signer,
        "organization": None if block is None else block.organization,
        "signed_at": None if block is None else block.signed_at,
        "addendum": (
            None
            if addendum is None
            else {"amends_sop_instance_uid": addendum.amends_uid, "text": addendum.text}
        ),
        "bi_rads": None if report is None or report.assessment is None else report.assessment.value,
        "assessment": written.assessment,
        "recommendations": [r for r in written.recommendations if r != NOT_GIVEN],
        "orifice": written.orifice or None,
    }


def report_lines(report: ClinicalReport | None, signature: Signature | None) -> list[str]:
    """Return the written report's state, BI-RADS, recommendations and orifice as lines."""
    if report is None and signature is None:
        return ["Report: none written (DRAFT — not signed)"]
    written = written_report(report or ClinicalReport(), signature)
    state = written.state
    if written.signed and written.addendum is None:
        state += " (Verification Flag VERIFIED)"
    if written.addendum is not None:
        state += f"; with addendum to SR revision {written.addendum.amends_uid}"
    return [
        f"Report: {state}",
        f"  Assessment: {written.assessment}",
        f"  Recommendations: {'; '.join(written.recommendations)}",
        f"  Cannulated orifice: {written.orifice or NOT_GIVEN}",
    ]


def _show_folder(folder: Path, as_json: bool, images: Path | None, no_images: bool) -> int:
    """Show the sidecars of the studies in a folder, found as the viewer and ``report`` do.

    The folder is scanned like ``report PATH`` scans it; each study's sidecar is found
    and read by :func:`persistence.open_annotations`, else the marks of an SR beside its
    images (:mod:`galactoview.sr.beside`). Problems go to stderr; exit 1 when no study in
    the folder has readable marks.
    """
    from galactoview.sr import sr_codec
    from galactoview.sr.beside import study_marks
    from galactoview.sr.listing import image_labels, listing_json, listing_lines

    found = scan([folder])
    print_problems(found)
    labels = {}
    if not no_images:
        labels = image_labels(found.images if images is None else scan([images]).images)
    studies: dict[str, list[ImageRecord]] = {}
    for record in found.images:
        studies.setdefault(record.study_instance_uid, []).append(record)
    if not studies:
        return fail(folder, "no DICOM image found, so no study whose sidecar could be shown")
    documents: list[dict[str, Any]] = []
    lines: list[str] = []
    for study_uid, records in studies.items():
        try:
            marks = study_marks(study_uid, records, found.reports)
        except Exception as exc:  # a Study Instance UID that cannot name a file, ...
            print(
                f"{records[0].path}: the sidecar of study {study_uid!r} cannot be looked for "
                f"({sr_codec.describe_error(exc)})",
                file=sys.stderr,
            )
            continue
        for problem in marks.problems:
            print(problem, file=sys.stderr)
        if not marks.source:
            continue  # no sidecar and no SR with marks (said above)
        source, annotations, locations = marks.source, marks.annotations, marks.locations
        if as_json:
            document = listing_json(annotations, labels, locations)
            report = report_json(marks.report, marks.signature)
            documents.append({"sidecar": source, **document, "report": report})
        else:
            if lines:
                lines.append("")
            lines.append(f"Sidecar {source}")
            lines += listing_lines(annotations, labels, locations)
            lines += report_lines(marks.report, marks.signature)
    if not (documents or lines):
        return fail(folder, f"no sidecar found for the {len(studies)} study(ies) in it")
    if as_json:
        print(json.dumps(documents, indent=2, ensure_ascii=False))
    else:
        for line in lines:
            print(line)
    return 0
