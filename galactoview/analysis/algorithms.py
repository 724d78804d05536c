"""Names and versions of GalactoView's image-analysis algorithms (TID 4019, PS3.16).

A suggestion the reader accepts keeps the algorithm that proposed it
(:class:`~galactoview.annotations.model.AlgorithmIdentification`), written into the SR
as TID 4019 Algorithm Identification. The version changes whenever a change to the
method could change a suggestion, so an SR says which method a finding came from.
"""

from __future__ import annotations

from typing import Final

from galactoview.annotations.model import AlgorithmIdentification

__all__ = ["DUCT_TREE_ALGORITHM", "FILLING_DEFECT_ALGORITHM"]

#: The duct-tree suggestion (:mod:`galactoview.analysis.duct_tree`).
DUCT_TREE_ALGORITHM: Final = AlgorithmIdentification(
    "GalactoView duct-tree suggestion",
    "1.0",
    (
        "ridge radii 0.5/1/2 mm",
        "hysteresis 2.5/7.5 x breast median",
        "lumen brighter over its tissue than 85 % of the breast",
        "leaves reach 4.5 x",
        "gaps <= 3 mm bridged, spurs < 3 mm + width pruned",
    ),
)

#: The filling-defect flags (:mod:`galactoview.analysis.filling_defects`).
FILLING_DEFECT_ALGORITHM: Final = AlgorithmIdentification(
    "GalactoView filling-defect flags",
    "1.0",
    (
        "gaps, holes, ringed lucencies and abrupt ends of the suggested lumen",
        "evidence within 3 mm combined",
        "lumen 2 x 1.2 mm wider than the lucency",
        "score >= 0.25",
    ),
)
