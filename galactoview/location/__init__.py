"""Lesion localization for surgeons: clock face, quadrant, depth, distance from the nipple.

Qt-free. :mod:`galactoview.location.frame` maps image points to patient directions from
Patient Orientation, laterality, view and calibration; :mod:`galactoview.location.localize`
turns one view or a CC + ML/MLO pair into a location; :mod:`galactoview.location.codes`
holds the PS3.16 codes (CID 6018, 6020, 6024, DCM 121242).
"""

from galactoview.location.frame import ChestWallLine, ImageFrame, ImageInfo, ViewFamily
from galactoview.location.localize import (
    SUBAREOLAR_RADIUS_MM,
    BreastLocation,
    ClockHalf,
    DepthThird,
    FindingLocation,
    Quadrant,
    ViewLocation,
    localize_finding,
    localize_pair,
    localize_view,
)
from galactoview.location.study import image_infos, locate_document, locate_study

__all__ = [
    "SUBAREOLAR_RADIUS_MM",
    "BreastLocation",
    "ChestWallLine",
    "ClockHalf",
    "DepthThird",
    "FindingLocation",
    "ImageFrame",
    "ImageInfo",
    "Quadrant",
    "ViewFamily",
    "ViewLocation",
    "image_infos",
    "localize_finding",
    "localize_pair",
    "localize_view",
    "locate_document",
    "locate_study",
]
