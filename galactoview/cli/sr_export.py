"""``galactoview sr export SIDECAR OUT.dcm``: a sidecar as a binary DICOM SR (PS3.10)."""

from __future__ import annotations

import io
from pathlib import Path

from galactoview.cli.common import fail, same_file
from galactoview.cli.sr_reading import UnreadableError, decode_sr, warnings_as_problems

__all__ = ["run"]


def run(source: Path, out: Path) -> int:
    """Run ``galactoview sr export``: sidecar -> binary Part 10 SR."""
    from galactoview.files import write_atomically
    from galactoview.sr import sr_codec

    if same_file(source, out):
        return fail(out, "refusing to overwrite the input file")
    try:
        dataset, _ = decode_sr(source)
        with warnings_as_problems(source):
            dataset = sr_codec.from_json(sr_codec.to_json(dataset))  # file meta rebuilt
    except UnreadableError as exc:
        return fail(source, str(exc))
    except Exception as exc:  # a value of a binary SR that has no DICOM JSON form
        return fail(source, f"cannot be converted ({sr_codec.describe_error(exc)})")
    encoded = io.BytesIO()
    try:  # encoded first, so that nothing is created when it cannot be
        with warnings_as_problems(source):
            dataset.save_as(encoded, enforce_file_format=True)
    except Exception as exc:  # e.g. a coordinate beyond the range of FL (pydicom: OSError)
        problem = sr_codec.describe_error(exc)
        return fail(source, f"cannot be written as binary DICOM ({problem})")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return fail(out, f"cannot write the SR: cannot create its folder ({exc.strerror or exc})")
    try:
        # Mode 0666 less the umask, as any new file: a PACS sender may run as another user.
        write_atomically(out, lambda stream: stream.write(encoded.getbuffer()))
    except OSError as exc:
        return fail(out, f"cannot write the SR: {exc.strerror or exc}")
    return 0
