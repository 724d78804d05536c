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
    "1.1",
    (
        "ridge radii 0.5/1/2 mm, Frangi blob term beta 0.5",
        "lobe on a 0.4 mm grid, traced on a 0.2 mm grid 10 mm round it",
        "hysteresis 1.5/5 x the breast's median curvature",
        "lumen brighter over its tissue than 85 % of the breast",
        "leaves reach 3.5 x along 35 % of them; wide leaves not heading out pruned",
        "gaps <= 3 mm bridged, holes <= 10 mm2 filled, spurs < 2 mm + half-width pruned",
        "forks moved <= 8 mm back along the parent to where the children's axes (2-6 mm out) cross",
    ),
)

#: The filling-defect flags (:mod:`galactoview.analysis.filling_defects`).
FILLING_DEFECT_ALGORITHM: Final = AlgorithmIdentification(
    "GalactoView filling-defect flags",
    "1.3",
    (
        "gaps, holes, ringed lucencies, abrupt ends and focal widenings of the suggested lumen",
        "ringed: minima of the disk mean, also among disks inside the lumen,"
        " within 2.5 mm of a centreline or inside the lumen, dip >= 5 % (full at 20 %)"
        " below the 90th"
        " percentile of every sector of an r-1.4 r rim >= 0.3 x the lumen's contrast,"
        " keeping >= 0.5 x it",
        "widening: beyond 10 mm of the path, >= 3.2 mm wide, >= 2 x the duct's half-width"
        " (25th percentile 3.5-9 mm before and after along the path), middle (0.6 x its"
        " half-width) no brighter than its rim >= 0.3 x the lumen's contrast;"
        " evidence 0.5 + dip / 20 %",
        "every other candidate darker (by any amount) than such a rim at r = 1/1.5/2/2.5 mm",
        "inside a lumen 2 x 0.6 mm wider than the lucency (within 0.5 mm)",
        "each candidate judged where it lies, then evidence within 3 mm combined",
        "score >= 0.25, one flag per 5 mm",
    ),
)
