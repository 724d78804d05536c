"""Whether an instance already received into a study folder is whole (Qt-free).

Both retrieve paths (WADO-RS, :mod:`galactoview.pacs.dicomweb`; C-GET / C-MOVE,
:mod:`galactoview.pacs.dimse`) write each instance atomically under its SOP Instance
UID, so a retry resumes after the instances already there. A file under that name
written by something else may still be cut short; :func:`complete_instance_file` reads
it in full before it is trusted.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from pydicom import dcmread
from pydicom.uid import UID

__all__ = ["complete_instance_file"]

_PIXEL_DATA_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


def complete_instance_file(path: Path, sop_instance_uid: str) -> bool:
    """Return whether ``path`` holds the whole instance ``sop_instance_uid``.

    Read in full with pydicom's warnings as errors: a file cut inside an element or
    before the encapsulated pixel data's sequence delimiter (PS3.5 A.4) fails; one cut
    between elements lacks the Pixel Data of an image storage SOP class (PS3.4 B.5) or
    the Content Sequence of a structured report or key object selection (PS3.3 C.17.3),
    told by the SOP Class UID's name in pydicom's registry. Never raises: anything
    unreadable is simply fetched again.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            dataset = dcmread(path)
            sop_class = UID(str(dataset.get("SOPClassUID", ""))).name
            image = "Image Storage" in sop_class or "Rows" in dataset
            if image and not any(k in dataset for k in _PIXEL_DATA_KEYWORDS):
                return False
            document = "SR Storage" in sop_class or "Key Object Selection" in sop_class
            if (document or "ValueType" in dataset) and "ContentSequence" not in dataset:
                return False
            return str(dataset.get("SOPInstanceUID", "")) == sop_instance_uid
    except Exception:  # missing, unreadable, cut short: retrieve it again
        return False
