"""The cannulated duct's orifice on the nipple, as a clock face, from the duct trace.

Qt-free. A traced duct tree starts at the cannulated orifice (its root segment has no
parent, :func:`galactoview.annotations.model.roots`). The orifice itself is too close to
the nipple landmark for its own offset to give a direction, so the clock face is taken
from the **root segment's middle** (the mean of its vertices,
:func:`~galactoview.location.localize.region_center`): the sector of the breast the
cannulated duct runs into, which is the sector of its orifice on the nipple (ducts run
radially from the nipple). Like a finding's clock face it needs the root traced on a CC
view and on a lateral (ML/LM) or oblique (MLO) view of the same breast, each with its
nipple landmark, and uses the same conventions (:mod:`galactoview.location.localize`:
PS3.16 CID 6018 clock face, 12 o'clock superior, seen facing the patient).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from galactoview.annotations.document import StudySnapshot
from galactoview.annotations.model import roots
from galactoview.annotations.report import NippleOrifice
from galactoview.dicom.loading import ImageRecord
from galactoview.location.frame import ImageInfo, ViewFamily
from galactoview.location.localize import ViewLocation, localize_pair, localize_view, region_center
from galactoview.location.study import image_infos

__all__ = ["OrificeEstimate", "orifice_from_duct_trace"]


@dataclass(frozen=True, slots=True)
class OrificeEstimate:
    """The orifice's clock face computed from the trace, or why it could not be.

    Attributes
    ----------
    orifice
        The clock hour of the cannulated orifice; ``None`` when it cannot be computed.
    problem
        Why not (one line for the reader); ``""`` when computed.
    """

    orifice: NippleOrifice | None
    problem: str = ""


def _preference(info: ImageInfo) -> tuple[int, int]:
    """Order candidate images: true lateral before oblique, standard before magnified."""
    return (1 if info.family is ViewFamily.OBLIQUE else 0, 1 if info.magnified else 0)


def orifice_from_duct_trace(
    snapshot: StudySnapshot, records: Iterable[ImageRecord]
) -> OrificeEstimate:
    """Return the clock face of the cannulated orifice from the study's duct trace.

    Parameters
    ----------
    snapshot
        The study's marks: duct segments, nipple landmarks and chest-wall lines.
    records
        The loaded images (their headers say view and laterality).

    Returns
    -------
    OrificeEstimate
        The hour (from the first root segment on a CC view and on a lateral or oblique
        view of the same breast, standard views first), or the reason there is none.
    """
    annotations = snapshot.annotations
    root_segments = roots(annotations.duct_segments)
    if not root_segments:
        return OrificeEstimate(None, "no duct is traced")
    infos = image_infos(records)
    nipples = {(n.sop_instance_uid, n.frame): n.point for n in annotations.landmarks}
    walls = snapshot.chest_wall_lines()
    located: list[tuple[ImageInfo, ViewLocation]] = []
    for segment in root_segments:
        region = segment.region
        info = infos.get(region.sop_instance_uid)
        nipple = nipples.get((region.sop_instance_uid, region.frame))
        if info is None or nipple is None:
            continue
        try:
            view = localize_view(
                info, region_center(region), nipple, walls.get(info.sop_instance_uid)
            )
        except ValueError:
            continue
        located.append((info, view))
    ccs = sorted(
        (p for p in located if p[1].family is ViewFamily.CC), key=lambda p: _preference(p[0])
    )
    others = sorted(
        (p for p in located if p[1].family is not ViewFamily.CC), key=lambda p: _preference(p[0])
    )
    pairs = [(c, o) for _, c in ccs for _, o in others if c.laterality is o.laterality]
    if not pairs:
        return OrificeEstimate(
            None,
            "the duct's root must be traced on a CC and an ML/LM or MLO view of the same "
            "breast, each with its nipple landmark",
        )
    breast = localize_pair(*pairs[0])
    return OrificeEstimate(NippleOrifice(breast.clock_hour))
