"""``galactoview sr import SR.dcm STUDY_DIR``: a TID 1500 SR into the sidecar of its study."""

from __future__ import annotations

import sys
from pathlib import Path

from galactoview.cli.common import EXIT_FAILURE, fail
from galactoview.cli.sr_reading import UnreadableError, decode_sr, warnings_as_problems

__all__ = ["run"]


def run(source: Path, study_dir: Path, *, force: bool = False) -> int:
    """Run ``galactoview sr import``: SR file -> the study's sidecar, never clobbering one.

    The sidecar goes where the viewer and ``report`` look for it: the study's images
    are found by scanning ``study_dir`` and :func:`persistence.open_annotations` (the
    viewer's rule) decides the folder. Refused with :data:`EXIT_FAILURE` and one line
    ``SR.dcm: is …: nothing imported``, nothing written: an SR that is not a TID 1500
    measurement report (PS3.16 TID 1500; e.g. a Key Object Selection document) or holds
    no readable mark; ``STUDY_DIR: holds no image of study …`` when ``study_dir`` holds
    no image of its study, unless ``force`` (then stored in ``study_dir``, and the
    output says it was forced). Marks on images not under ``study_dir`` are warnings
    (``SR.dcm: warning: image UID …``), kept in the sidecar.
    """
    from galactoview.sr import sidecar
    from galactoview.sr.persistence import (
        ImportOutcome,
        ImportRefusedError,
        import_report,
        report_text,
    )

    if not study_dir.is_dir():
        return fail(study_dir, "not a folder")
    try:
        dataset, result = decode_sr(source)
    except UnreadableError as exc:
        return fail(source, f"{exc}: nothing imported")
    try:
        with warnings_as_problems(source):
            text = report_text(dataset, result.annotations)
    except ImportRefusedError as exc:
        return fail(source, str(exc))
    try:
        imported = import_report(text, result.annotations, study_dir, force=force)
    except ImportRefusedError as exc:
        hint = " (--force stores it there anyway)" if exc.forcible else ""
        return fail(study_dir if exc.about_study else source, f"{exc}{hint}")
    except sidecar.SidecarError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAILURE
    except ValueError as exc:
        return fail(source, str(exc))
    for problem in imported.problems:
        print(problem, file=sys.stderr)
    for warning in imported.warnings:
        print(f"{source}: warning: {warning}", file=sys.stderr)
    if imported.forced:
        print(
            f"{source}: forced: {study_dir} holds no image of study "
            f"{result.annotations.study_instance_uid}; the viewer shows these marks only "
            "once that study's images are there",
            file=sys.stderr,
        )
    if imported.notice:
        print(imported.notice, file=sys.stderr)
    if imported.outcome is ImportOutcome.ALREADY_HELD:
        print(f"{imported.path}: already holds this SR; nothing written", file=sys.stderr)
    elif imported.outcome is ImportOutcome.ALONGSIDE:
        print(
            f"{imported.kept}: the study already has a sidecar; it was kept and the SR was "
            f"written next to it as {imported.path.name} (the viewer opens the newer revision "
            "of the two and lists the other)",
            file=sys.stderr,
        )
    print(imported.path)
    return 0
