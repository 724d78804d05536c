"""``galactoview sr import SR.dcm STUDY_DIR``: a TID 1500 SR into the sidecar of its study."""

from __future__ import annotations

import sys
from pathlib import Path

from galactoview.cli.common import EXIT_FAILURE, fail
from galactoview.cli.sr_reading import UnreadableError, decode_sr, warnings_as_problems
from galactoview.dicom.loading import scan

__all__ = ["run"]


def run(source: Path, study_dir: Path) -> int:
    """Run ``galactoview sr import``: SR file -> the study's sidecar, never clobbering one.

    The sidecar goes where the viewer and ``report`` look for it: the study's images
    are found by scanning ``study_dir`` and :func:`persistence.open_annotations` (the
    viewer's rule) decides the folder. Nothing is written when the SR is not a TID 1500
    measurement report, holds no readable mark, or ``study_dir`` holds no image of its
    study.
    """
    from galactoview.annotations.document import ReplaceAnnotations, StudyDocument
    from galactoview.sr import sidecar, sr_codec
    from galactoview.sr.persistence import open_annotations

    if not study_dir.is_dir():
        return fail(study_dir, "not a folder")
    try:
        dataset, result = decode_sr(source)
    except UnreadableError as exc:
        return fail(source, str(exc))
    annotations = result.annotations
    if not (annotations.findings or annotations.duct_segments or annotations.landmarks):
        return fail(
            source, "holds no readable mark (finding, duct segment or nipple); nothing imported"
        )
    try:
        with warnings_as_problems(source):
            text = sr_codec.to_json(dataset)
        sidecar.decode_sidecar(source, text.encode("utf-8"))  # the viewer will load it
    except sidecar.SidecarError as exc:
        return fail(source, f"cannot be stored as a sidecar: {exc.problem}")
    except Exception as exc:  # a value of a binary SR that has no DICOM JSON form
        return fail(source, f"cannot be stored as a sidecar ({sr_codec.describe_error(exc)})")
    study_uid = annotations.study_instance_uid
    members = [r.path for r in scan([study_dir]).images if r.study_instance_uid == study_uid]
    if not members:
        return fail(
            study_dir,
            f"holds no image of study {study_uid} (the SR's Study Instance UID), so the "
            "viewer would never find its sidecar; nothing imported",
        )
    try:
        opened = open_annotations(study_uid, members)
    except Exception as exc:  # e.g. an unreadable existing sidecar the reader chokes on
        return fail(
            study_dir, f"the study's sidecar cannot be looked for ({sr_codec.describe_error(exc)})"
        )
    for problem in opened.problems:
        print(problem, file=sys.stderr)
    target = opened.target
    if target.notice:
        print(target.notice, file=sys.stderr)
    # The study's document, edited by the command the viewer would run: no change means
    # the sidecar already holds this SR revision (same marks, same SOP Instance UID).
    document = StudyDocument(opened.annotations)
    imported = document.execute(ReplaceAnnotations(annotations, "Import SR"))
    try:
        if target.fingerprint is not None and imported is None:
            print(f"{target.path}: already holds this SR; nothing written", file=sys.stderr)
            print(target.path)
            return 0
        if target.fingerprint is None and not target.alongside:
            sidecar.save(target.path, text, expected=None)
            written = target.path
        else:
            written = sidecar.save_alongside(target.path, text)
            print(
                f"{target.path}: the study already has a sidecar; it was kept and the SR was "
                f"written next to it as {written.name} (the viewer opens the newer revision "
                "of the two and lists the other)",
                file=sys.stderr,
            )
    except sidecar.SidecarError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAILURE
    except ValueError as exc:
        return fail(source, str(exc))
    print(written)
    return 0
