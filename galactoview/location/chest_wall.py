"""The chest-wall lines a study's findings are located with: the reader's, else suggested.

The depth third of a finding is measured from the chest wall: the posterior image edge
on CC and lateral views (:meth:`galactoview.location.frame.ImageFrame.posterior_edge`,
nothing to store), the pectoral line on an oblique view (MLO, LMO, SIO, ISO). An oblique
view's line is the reader's when they moved it (stored in the SR, read back by
:func:`galactoview.sr.persistence.open_annotations`), else the one suggested from its
pixels (:func:`galactoview.location.landmarks.suggest_chest_wall`).

:func:`suggested_pectoral_line` is what the window suggests when an oblique image is
decoded (:mod:`galactoview.ui.annotate.landmark_suggestions`) and
:func:`study_chest_walls` gives the lines of a study outside the window (the
``report`` command), so both locate a finding from the same line. Qt-free.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, Final

from numpy.typing import NDArray

from galactoview.annotations.model import ChestWallLine
from galactoview.dicom.loading import ImageRecord, PixelDataError, read_header
from galactoview.imaging.decode_service import decode_stored
from galactoview.imaging.display import DisplayPipeline
from galactoview.location.landmarks import ChestWallKind, suggest_chest_wall

__all__ = [
    "OBLIQUE_VIEWS",
    "PixelReader",
    "decoded_pixels",
    "study_chest_walls",
    "suggested_pectoral_line",
]

#: Oblique views, whose chest wall is the pectoral line rather than the image edge.
OBLIQUE_VIEWS: Final = frozenset({"MLO", "LMO", "SIO", "ISO"})

#: Returns the stored values of an image's first frame and its display pipeline.
PixelReader = Callable[[ImageRecord], tuple[NDArray[Any], DisplayPipeline]]


def suggested_pectoral_line(
    record: ImageRecord, stored: NDArray[Any], pipeline: DisplayPipeline
) -> ChestWallLine | None:
    """Return the pectoral line suggested for an oblique view, ``None`` when there is none.

    Parameters
    ----------
    record
        The image (its view and Patient Orientation).
    stored
        Its stored pixel values ``(rows, columns)``.
    pipeline
        Its display pipeline (PS3.3 C.11).

    Returns
    -------
    ChestWallLine or None
        ``None`` for a CC or lateral view (the posterior image edge is used), or when no
        pectoral muscle edge is found (the depth on that view stays unknown).
    """
    if record.view.short_name not in OBLIQUE_VIEWS:
        return None
    try:
        wall = suggest_chest_wall(stored, pipeline, record.patient_orientation, record.view)
        if wall.kind is not ChestWallKind.PECTORAL_LINE:
            return None
        return ChestWallLine(*wall.points)
    except ValueError:  # not a 2-D image, or a degenerate line
        return None


def decoded_pixels(record: ImageRecord) -> tuple[NDArray[Any], DisplayPipeline]:
    """Return the first frame's stored values and display pipeline, as the viewer decodes.

    Raises
    ------
    galactoview.dicom.loading.PixelDataError
        When the image cannot be read or decoded.
    """
    stored = decode_stored(record, frame=0)
    return stored, DisplayPipeline.from_dataset(read_header(record))


def study_chest_walls(
    records: Iterable[ImageRecord],
    stored: Mapping[str, ChestWallLine],
    *,
    wanted: Collection[str] | None = None,
    pixels: PixelReader = decoded_pixels,
    problems: list[str] | None = None,
) -> dict[str, ChestWallLine]:
    """Return the chest-wall lines to locate a study's findings with, by SOP Instance UID.

    Parameters
    ----------
    records
        The study's images.
    stored
        The reader's lines (as the SR stored them); they win over suggestions.
    wanted
        The images that need a line (e.g. those the findings are marked on); every
        oblique image when ``None``. Only those are decoded.
    pixels
        Reads an image's pixels (default: decoded in this thread, as the viewer does).
    problems
        When given, one line ``path: what is wrong`` per image that could not be read.

    Returns
    -------
    dict
        The stored lines, plus the suggested pectoral line of each wanted oblique view
        without one (when a muscle edge is found).
    """
    walls = dict(stored)
    for record in records:
        uid = record.sop_instance_uid
        if uid in walls or record.view.short_name not in OBLIQUE_VIEWS:
            continue
        if wanted is not None and uid not in wanted:
            continue
        try:
            values, pipeline = pixels(record)
        except Exception as error:  # any unreadable image: no line, said once
            if problems is not None:
                why = error.message if isinstance(error, PixelDataError) else repr(error)
                problems.append(f"{record.name}: no pectoral line suggested ({why})")
            continue
        line = suggested_pectoral_line(record, values, pipeline)
        if line is not None:
            walls[uid] = line
    return walls
