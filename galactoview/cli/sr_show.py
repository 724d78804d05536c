"""``galactoview sr show SIDECAR_OR_SR|FOLDER [--json]``: the marks of a sidecar or an SR."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from galactoview.cli.common import fail, print_problems
from galactoview.cli.sr_reading import UnreadableError, decode_sr
from galactoview.dicom.loading import ImageRecord, scan

__all__ = ["run"]


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
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        for line in listing_lines(annotations, labels, locations):
            print(line)
    return 0


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
            documents.append({"sidecar": source, **document})
        else:
            if lines:
                lines.append("")
            lines.append(f"Sidecar {source}")
            lines += listing_lines(annotations, labels, locations)
    if not (documents or lines):
        return fail(folder, f"no sidecar found for the {len(studies)} study(ies) in it")
    if as_json:
        print(json.dumps(documents, indent=2, ensure_ascii=False))
    else:
        for line in lines:
            print(line)
    return 0
