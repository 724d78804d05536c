"""The chest-wall lines a study is located with: the reader's, else suggested from pixels."""

from __future__ import annotations

from typing import Any

from numpy.typing import NDArray

from galactoview.annotations.model import ChestWallLine
from galactoview.dicom.loading import ImageRecord, PixelDataError
from galactoview.imaging.display import DisplayPipeline
from galactoview.location.chest_wall import (
    OBLIQUE_VIEWS,
    decoded_pixels,
    study_chest_walls,
    suggested_pectoral_line,
)
from galactoview.location.landmarks import ChestWallKind, suggest_chest_wall
from tests.helpers import sample_images


def image(name: str) -> ImageRecord:
    return next(r for r in sample_images() if r.path.name == name)


def test_an_oblique_view_gets_the_suggested_pectoral_line() -> None:
    mlo = image("09_LMLO.dcm")
    stored, pipeline = decoded_pixels(mlo)
    wall = suggest_chest_wall(stored, pipeline, mlo.patient_orientation, mlo.view)
    assert wall.kind is ChestWallKind.PECTORAL_LINE
    assert suggested_pectoral_line(mlo, stored, pipeline) == ChestWallLine(*wall.points)
    cc = image("07_LCC.dcm")
    assert cc.view.short_name not in OBLIQUE_VIEWS
    assert suggested_pectoral_line(cc, *decoded_pixels(cc)) is None  # the image edge is used


def test_stored_lines_win_and_only_wanted_oblique_views_are_decoded() -> None:
    right, left, cc = image("08_RMLO.dcm"), image("09_LMLO.dcm"), image("07_LCC.dcm")
    decoded: list[str] = []

    def pixels(record: ImageRecord) -> tuple[NDArray[Any], DisplayPipeline]:
        decoded.append(record.sop_instance_uid)
        return decoded_pixels(record)

    mine = ChestWallLine((10.0, 0.0), (0.0, 50.0))
    walls = study_chest_walls(
        [right, left, cc], {right.sop_instance_uid: mine}, pixels=pixels, wanted=None
    )
    assert decoded == [left.sop_instance_uid]  # the stored line is not suggested again
    assert walls[right.sop_instance_uid] == mine
    assert walls[left.sop_instance_uid] == suggested_pectoral_line(left, *decoded_pixels(left))
    assert cc.sop_instance_uid not in walls
    decoded.clear()
    assert study_chest_walls([left], {}, pixels=pixels, wanted={cc.sop_instance_uid}) == {}
    assert decoded == []


def test_an_image_that_cannot_be_decoded_is_one_problem_line() -> None:
    left = image("09_LMLO.dcm")

    def broken(record: ImageRecord) -> tuple[NDArray[Any], DisplayPipeline]:
        raise PixelDataError(record.path, "truncated pixel data")

    problems: list[str] = []
    assert study_chest_walls([left], {}, pixels=broken, problems=problems) == {}
    assert problems == [f"{left.name}: no pectoral line suggested (truncated pixel data)"]
