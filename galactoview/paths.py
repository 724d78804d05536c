"""Where GalactoView finds its bundled files (Qt-free)."""

from __future__ import annotations

from pathlib import Path

#: Repository root when running from a source checkout (the package's parent folder).
_SOURCE_ROOT = Path(__file__).resolve().parent.parent


def sample_data_dir() -> Path:
    """Return the folder holding the bundled synthetic sample study and its ground truth.

    Returns
    -------
    Path
        ``sample_data/`` of the source checkout. It is not part of the wheel: a
        pip-installed GalactoView has no sample study and must be given paths.
    """
    return _SOURCE_ROOT / "sample_data"


def sample_dicom_dir() -> Path:
    """Return the folder holding only the sample DICOM files (``sample_data/dicom``)."""
    return sample_data_dir() / "dicom"
