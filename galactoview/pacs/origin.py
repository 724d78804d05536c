"""Which PACS node a study in the retrieve cache came from, remembered beside its folder (Qt-free).

A study retrieved into the cache (:mod:`galactoview.pacs.cache`: ``<root>/<StudyUID>/``)
is checked again for newer revisions of its marks while it is open
(:mod:`galactoview.pacs.conflict`), on the node it came from. That node is written at
retrieve time as a small JSON file **beside** the study folder, not in it::

    <root>/<StudyInstanceUID>.origin.json   {"node": "Orthanc", "address": "http://…",
                                             "revision": "<SR SOP Instance UID adopted>"}

Beside, so that the cache's rules stay as they are: the study folder holds the
instances and the reader's sidecars only (eviction removes the instances and then the
folder if it is empty), and the cache lists folders named by a UID only (``….origin.json``
is not a UID). A re-retrieve from another node overwrites it. ``revision`` is the SR
revision adopted as the study's sidecar at retrieve time: the revision the reader's
marks start from, one of "ours" for the conflict check even after many saves.

Only names and addresses are kept: a node's secret stays in the OS keyring.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from galactoview.annotations.model import is_valid_uid
from galactoview.files import write_atomically

__all__ = ["ORIGIN_SUFFIX", "StudyOrigin", "cached_study", "recall_origin", "remember_origin"]

#: Suffix of the file beside a study folder naming the node it was retrieved from.
ORIGIN_SUFFIX: Final = ".origin.json"
#: Largest origin file read.
_MAX_BYTES: Final = 16_384


@dataclass(frozen=True)
class StudyOrigin:
    """The node a cached study was retrieved from.

    Attributes
    ----------
    node
        The node's name as configured (Edit → PACS Nodes…); ``""`` when it had none.
    address
        Its DICOMweb URL or ``AET@HOST:PORT`` (how messages name it).
    revision
        SOP Instance UID of the SR revision adopted as the sidecar; ``""`` for none.
    """

    node: str
    address: str
    revision: str = ""


def _path(root: Path, study_uid: str) -> Path:
    if not is_valid_uid(study_uid):
        raise ValueError(f"not a Study Instance UID (PS3.5 9.1): {study_uid!r}")
    return root / f"{study_uid}{ORIGIN_SUFFIX}"


def remember_origin(root: Path, study_uid: str, origin: StudyOrigin) -> None:
    """Write where a study in the cache at ``root`` came from (replacing what was there).

    Raises
    ------
    ValueError
        ``study_uid`` is not a UID.
    OSError
        The cache folder cannot be written.
    """
    data = json.dumps(
        {"node": origin.node, "address": origin.address, "revision": origin.revision},
        sort_keys=True,
    ).encode("utf-8")
    path = _path(root, study_uid)
    root.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda stream: stream.write(data), durable=False)


def recall_origin(root: Path, study_uid: str) -> StudyOrigin | None:
    """Return where a study in the cache came from; ``None`` when unknown (never raises)."""
    try:
        path = _path(root, study_uid)
        with path.open("rb") as stream:
            data = json.loads(stream.read(_MAX_BYTES + 1)[:_MAX_BYTES])
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    values = [data.get(key, "") for key in ("node", "address", "revision")]
    if not all(isinstance(value, str) for value in values):
        return None
    node, address, revision = (str(value) for value in values)
    return StudyOrigin(node, address, revision if is_valid_uid(revision) else "")


def cached_study(root: Path, study_uid: str, image_paths: Iterable[Path]) -> bool:
    """Whether a study's images lie in its folder of the cache at ``root`` (never raises)."""
    try:
        folder = _path(root, study_uid).with_name(study_uid).resolve()
        paths = [Path(path).resolve() for path in image_paths]
    except (OSError, ValueError, RuntimeError):
        return False
    return bool(paths) and all(path.is_relative_to(folder) for path in paths)
