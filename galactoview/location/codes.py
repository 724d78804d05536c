"""Coded concepts of a lesion's location in the breast (Qt-free).

Values follow PS3.16 and are taken from pydicom's code tables
(:data:`pydicom.sr.codedict.codes`):

* clock face or region: concept *Clockface or region* (111014, DCM), values of
  CID 6018 "Clockface or Region" — the twelve o'clock positions (SCT 129772004 …
  129783008) and *Subareolar region* (SCT 129784002) / *Central region of breast*
  (SCT 129786000);
* quadrant: concept *Quadrant location* (111048, DCM), values of CID 6020
  "Quadrant Location" (UOQ 76365002, UIQ 77831004, LOQ 33564002, LIQ 19100000, SCT);
* depth: concept *Depth* (111020, DCM), values of CID 6024 "Depth" (anterior SCT
  255549009, middle NCIt C25569, posterior SCT 255551008);
* distance from the nipple: *Distance from nipple* (121242, DCM, CID 6165), in mm;
* the chest-wall line the depth is measured from (the pectoral line of an oblique view,
  as the reader placed it): finding *Chest wall* (SCT 78904004, "Chest wall structure").
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code

__all__ = [
    "ANTERIOR",
    "CENTRAL_REGION",
    "CHEST_WALL",
    "CLOCKFACE_OR_REGION",
    "CLOCK_HOURS",
    "DEPTH",
    "DISTANCE_FROM_NIPPLE",
    "LOWER_INNER_QUADRANT",
    "LOWER_OUTER_QUADRANT",
    "MIDDLE",
    "POSTERIOR",
    "QUADRANT_LOCATION",
    "SUBAREOLAR_REGION",
    "UPPER_INNER_QUADRANT",
    "UPPER_OUTER_QUADRANT",
]

# ---------------------------------------------------------------- concept names
CLOCKFACE_OR_REGION: Final[Code] = codes.DCM.ClockfaceOrRegion  # 111014, values CID 6018
QUADRANT_LOCATION: Final[Code] = codes.DCM.QuadrantLocation  # 111048, values CID 6020
DEPTH: Final[Code] = codes.DCM.Depth  # 111020, values CID 6024
DISTANCE_FROM_NIPPLE: Final[Code] = codes.DCM.DistanceFromNipple  # 121242 (CID 6165)
#: Finding type of a stored chest-wall line (SCT 78904004 "Chest wall structure").
CHEST_WALL: Final[Code] = codes.SCT.ChestWall

# ----------------------------------------------------------- CID 6018 values
#: The o'clock positions 1..12 (CID 6018, SCT 129772004 … 129783008).
CLOCK_HOURS: Final[MappingProxyType[int, Code]] = MappingProxyType(
    {hour: getattr(codes.CID6018, f"_{hour}OClockPosition") for hour in range(1, 13)}
)
SUBAREOLAR_REGION: Final[Code] = codes.CID6018.SubareolarRegion  # 129784002
CENTRAL_REGION: Final[Code] = codes.CID6018.CentralRegionOfBreast  # 129786000

# ----------------------------------------------------------- CID 6020 values
UPPER_OUTER_QUADRANT: Final[Code] = codes.CID6020.UpperOuterQuadrantOfBreast  # 76365002
UPPER_INNER_QUADRANT: Final[Code] = codes.CID6020.UpperInnerQuadrantOfBreast  # 77831004
LOWER_OUTER_QUADRANT: Final[Code] = codes.CID6020.LowerOuterQuadrantOfBreast  # 33564002
LOWER_INNER_QUADRANT: Final[Code] = codes.CID6020.LowerInnerQuadrantOfBreast  # 19100000

# ----------------------------------------------------------- CID 6024 values
ANTERIOR: Final[Code] = codes.CID6024.Anterior  # 255549009, SCT
MIDDLE: Final[Code] = codes.CID6024.Middle  # C25569, NCIt
POSTERIOR: Final[Code] = codes.CID6024.Posterior  # 255551008, SCT
