"""Run dcmjs (node) on an SR from a test: what OHIF draws of it and what dcmjs rehydrates.

:func:`read_sr` runs ``tests/interop/node/read_sr.mjs`` (dcmjs ``DicomMessage.readFile`` and
``naturalizeDataset``, OHIF's SR measurement extraction, the Cornerstone3D adapter's
``MeasurementReport.generateToolState``) and returns its JSON as :class:`SRReading`. The node
packages are pinned in ``tests/interop/node/package-lock.json`` and installed by ``make
test`` (``npm ci``) when npm is there; without node or the installed packages the calling
test skips and says why (:func:`require_dcmjs`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "FIXTURES",
    "NODE_DIR",
    "DrawnCoord",
    "DrawnMeasurement",
    "Rehydrated",
    "SRReading",
    "read_sr",
    "require_dcmjs",
]

#: The node project: package.json, the lock file, the scripts and (installed) node_modules.
NODE_DIR = Path(__file__).resolve().parent / "node"
#: The SRs dcmjs's Cornerstone3D adapter wrote (generate.mjs) and marks.json.
FIXTURES = NODE_DIR / "fixtures"
_PACKAGES = ("dcmjs", "@cornerstonejs/adapters", "@cornerstonejs/core", "@cornerstonejs/tools")
_INSTALL = "run 'make test' or 'npm ci' in tests/interop/node"


@dataclass(frozen=True, slots=True)
class DrawnCoord:
    """One SCOORD OHIF draws: its type, image (column, row) points, image and frame."""

    value_type: str
    graphic_type: str
    points: tuple[tuple[float, ...], ...]
    sop_instance_uid: str | None
    frame: int


@dataclass(frozen=True, slots=True)
class DrawnMeasurement:
    """One measurement OHIF's SR loader draws: a merged tracking-UID group placed on an image."""

    tracking_uid: str
    tracking_identifier: str | None
    sop_instance_uid: str
    frame: int
    coords: tuple[DrawnCoord, ...]


@dataclass(frozen=True, slots=True)
class Rehydrated:
    """One annotation the adapter's ``generateToolState`` rehydrates (image coordinates)."""

    tool: str
    tracking_uid: str | None
    sop_instance_uid: str | None
    frame: int | None
    points: tuple[tuple[float, ...], ...]
    label: str | None


@dataclass(frozen=True, slots=True)
class SRReading:
    """What dcmjs makes of one SR file (see ``read_sr.mjs`` for the rules it follows)."""

    drawn: tuple[DrawnMeasurement, ...]
    skipped: tuple[str, ...]  # tracking UIDs OHIF draws nothing for
    rehydrated: tuple[Rehydrated, ...]
    rehydrate_error: str | None


@cache
def _missing() -> str | None:
    """Why dcmjs cannot run here, or None."""
    node = shutil.which("node")
    if node is None:
        return "node is not installed (the dcmjs interop tests need node >= 20 and npm)"
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    major = version.stdout.strip().lstrip("v").split(".")[0]
    if not major.isdigit() or int(major) < 20:
        return f"node {version.stdout.strip() or '?'} is too old (need >= 20)"
    modules = NODE_DIR / "node_modules"
    absent = [p for p in _PACKAGES if not (modules / p / "package.json").is_file()]
    if absent:
        return f"node packages not installed ({', '.join(absent)}): {_INSTALL}"
    return None


def require_dcmjs() -> None:
    """Skip the calling test, with the reason, when node or the node packages are absent."""
    reason = _missing()
    if reason is not None:
        pytest.skip(reason)


def _points(values: list[list[float]]) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in point) for point in values)


def _coord(item: dict[str, Any]) -> DrawnCoord:
    return DrawnCoord(
        item["value_type"],
        item["graphic_type"],
        _points(item["points"]),
        item["sop_instance_uid"],
        int(item["frame"]),
    )


def read_sr(path: Path) -> SRReading:
    """Read the SR at ``path`` with dcmjs (skip the test when node or dcmjs is absent).

    Parameters
    ----------
    path
        A DICOM Part 10 SR file.

    Returns
    -------
    SRReading
        OHIF's drawn measurements and the adapter's rehydrated annotations.
    """
    require_dcmjs()
    node = shutil.which("node")
    assert node is not None
    done = subprocess.run(
        [node, str(NODE_DIR / "read_sr.mjs"), str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, f"read_sr.mjs failed on {path}:\n{done.stderr[-2000:]}"
    document = json.loads(done.stdout)
    drawn = tuple(
        DrawnMeasurement(
            m["tracking_uid"],
            m["tracking_identifier"],
            m["sop_instance_uid"],
            int(m["frame"]),
            tuple(_coord(c) for c in m["coords"]),
        )
        for m in document["ohif"]
    )
    rehydrated = tuple(
        Rehydrated(
            tool,
            a["tracking_uid"],
            a["sop_instance_uid"],
            None if a["frame"] is None else int(a["frame"]),
            _points(a["points"]),
            a["label"],
        )
        for tool, annotations in document["rehydrated"].items()
        for a in annotations
    )
    skipped = tuple(document["ohif_skipped"])
    return SRReading(drawn, skipped, rehydrated, document["rehydrate_error"])
