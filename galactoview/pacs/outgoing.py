"""What ``pacs store PATH...`` sends: image and SR files, and sidecars as binary SRs (Qt-free).

Protocol-free: the DICOMweb (STOW-RS) and DIMSE (C-STORE) clients both take the
:class:`~pydicom.dataset.Dataset` / :class:`~pathlib.Path` list :func:`collect` returns.

* A DICOM file (Part 10) is sent as it is.
* A sidecar (``galactoview-<StudyInstanceUID>.sr.json``, the DICOM JSON Model of a TID
  1500 SR, PS3.18 Annex F) is sent as the binary SR of the revision it holds, with its
  own SOP Instance UID — what ``galactoview sr export`` writes.
* A folder is searched as the viewer searches it: its images, its SR files, and for each
  study the sidecar the viewer would open (the current revision of its marks), never
  the older ones kept next to it.
* The report's PDF (``pacs store --with-pdf``, the window's offer after signing) is sent
  as an Encapsulated PDF instance of the SR revision it was rendered from
  (:func:`pdf_instance`, :mod:`galactoview.pacs.encapsulated_pdf`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

from pydicom.dataset import Dataset

from galactoview.dicom.loading import scan
from galactoview.files import read_regular_file
from galactoview.pacs.encapsulated_pdf import encapsulated_pdf
from galactoview.pacs.results import InstanceFailure
from galactoview.sr import sidecar, sr_codec
from galactoview.sr.persistence import open_annotations

__all__ = ["MAX_PDF_BYTES", "collect", "is_sidecar", "pdf_instance", "read_pdf", "sidecar_sr"]

#: Largest sidecar read.
_MAX_SIDECAR_BYTES: Final = sidecar.MAX_SIDECAR_BYTES
#: Largest report PDF read (the sample study's is well under 10 MB).
MAX_PDF_BYTES: Final = 512 * 1024 * 1024


def is_sidecar(path: Path) -> bool:
    """Whether a file is named like an annotation sidecar (or any ``.json`` file)."""
    return path.name.endswith(sidecar.SIDECAR_SUFFIX) or path.suffix.lower() == ".json"


def sidecar_sr(path: Path) -> Dataset:
    """Return the SR a sidecar holds, with file meta, ready to send.

    Raises
    ------
    ValueError
        The file cannot be read or is not the DICOM JSON of an SR; the message says why.
    """
    try:
        data = read_regular_file(path, _MAX_SIDECAR_BYTES, what="sidecar")[0]
        text = sidecar.decode_sidecar(path, data)
        return sr_codec.from_json(text)
    except sidecar.SidecarError as error:
        raise ValueError(error.problem) from None
    except OSError as error:
        raise ValueError(f"cannot be read ({error.strerror or error})") from None
    except Exception as error:  # from_json: SRDecodeError, or anything pydicom raised
        raise ValueError(f"not a readable sidecar ({sr_codec.describe_error(error)})") from None


def read_pdf(path: Path) -> bytes:
    """Return a PDF file's bytes.

    Raises
    ------
    ValueError
        The file cannot be read, is too large or is not a PDF; the message says why.
    """
    try:
        data = read_regular_file(path, MAX_PDF_BYTES, what="PDF")[0]
    except OSError as error:
        raise ValueError(f"cannot be read ({error.strerror or error})") from None
    if not data.startswith(b"%PDF-"):
        raise ValueError("not a PDF (it does not start with '%PDF-')")
    return data


def pdf_instance(items: Sequence[Path | Dataset], pdf: Path) -> Dataset:
    """Return the Encapsulated PDF of a report's PDF, for the one sidecar among ``items``.

    Parameters
    ----------
    items
        What :func:`collect` returned: the SR revision the PDF was rendered from must
        be among them, as the one sidecar given (a dataset).
    pdf
        The PDF file (``galactoview report`` or the window's export).

    Raises
    ------
    ValueError
        The PDF is unreadable, or there is not exactly one sidecar SR to attach it to.
    """
    reports = [item for item in items if isinstance(item, Dataset)]
    if len(reports) != 1:
        found = f"{len(reports)} were given" if reports else "none was given"
        raise ValueError(
            f"needs exactly one sidecar (the report the PDF was made from) among the paths; {found}"
        )
    return encapsulated_pdf(read_pdf(pdf), reports[0])


def collect(paths: Sequence[Path]) -> tuple[list[Path | Dataset], list[InstanceFailure]]:
    """Return what to store for the paths given, and the paths that cannot be stored.

    Parameters
    ----------
    paths
        DICOM files, sidecars, or folders (searched recursively).

    Returns
    -------
    tuple
        DICOM files (as paths) and sidecars' SRs (as datasets), in the order met; and
        one failure per path that is missing or unreadable, with its reason.
    """
    items: list[Path | Dataset] = []
    failures: list[InstanceFailure] = []
    for path in paths:
        if path.is_dir():
            _collect_folder(path, items, failures)
        elif not path.exists():
            failures.append(InstanceFailure("", "no such file or folder", path))
        elif is_sidecar(path):
            try:
                items.append(sidecar_sr(path))
            except ValueError as error:
                failures.append(InstanceFailure("", str(error), path))
        else:
            items.append(path)
    return items, failures


def _collect_folder(
    folder: Path, items: list[Path | Dataset], failures: list[InstanceFailure]
) -> None:
    result = scan([folder])
    failures.extend(
        InstanceFailure("", problem.message, problem.path) for problem in result.problems
    )
    by_study: dict[str, list[Path]] = {}
    for record in result.images:
        if record.archive_member is not None:
            failures.append(
                InstanceFailure(
                    record.sop_instance_uid,
                    f"is inside {record.path.name}; unpack the archive to store it",
                    record.path,
                )
            )
            continue
        items.append(record.path)
        by_study.setdefault(record.study_instance_uid, []).append(record.path)
    items.extend(report.path for report in result.reports)
    for study_uid, image_paths in by_study.items():
        try:
            opened = open_annotations(study_uid, image_paths)
        except Exception:  # a UID that names no sidecar: the study has none to send
            continue
        if opened.target.fingerprint is None or opened.target.alongside:
            continue
        try:
            items.append(sidecar_sr(opened.target.path))
        except ValueError as error:
            failures.append(InstanceFailure("", str(error), opened.target.path))
