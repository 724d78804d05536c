"""Ground truth of phantom lesions without rendering pixels (helpers for the location tests).

For a seed and side, the injected breast is drawn (:func:`draw_injected_breast`, well under
a second) and each planned image of that breast gets its geometry and ground-truth
projections from the phantom's own functions (``study._geometry``, ``study._image_truth``,
as :func:`galactoview.phantom.study.generate` computes them), and its header values
(Patient Orientation, magnification-corrected calibration) straight from the plan's
geometry: what the DICOM writer would store.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from galactoview.dicom.calibration import Calibration, CalibrationSource
from galactoview.dicom.mammography import Laterality, PatientOrientation
from galactoview.location.frame import ChestWallLine, ImageInfo
from galactoview.phantom import study
from galactoview.phantom.anatomy import Breast, Lesion, Side
from galactoview.phantom.breast_builder import draw_injected_breast
from galactoview.phantom.geometry import ViewGeometry


@dataclass(frozen=True)
class PhantomImage:
    """One planned image of the injected breast: header values and ground truth."""

    label: str
    info: ImageInfo
    truth: dict[str, Any]

    @property
    def nipple(self) -> tuple[float, float]:
        """Ground-truth nipple (column, row)."""
        return (self.truth["nipple"]["column"], self.truth["nipple"]["row"])

    @property
    def chest_wall(self) -> ChestWallLine:
        """Ground-truth chest-wall line (image edge or pectoral line)."""
        a, b = self.truth["chest_wall"]["points"]
        return ChestWallLine((a[0], a[1]), (b[0], b[1]))

    def lesion(self, identifier: str) -> tuple[float, float]:
        """Ground-truth projection (column, row) of a lesion."""
        found = next(item for item in self.truth["lesions"] if item["id"] == identifier)
        return (found["column"], found["row"])


@dataclass(frozen=True)
class PhantomCase:
    """The injected breast of one phantom: lesion ground truth and its images by label."""

    seed: int
    side: Side
    lesions: list[dict[str, Any]]
    images: dict[str, PhantomImage]

    def image(self, view: str) -> PhantomImage:
        """Return the image whose label is the side letter + ``view`` (``"CC_POST"``)."""
        return self.images[f"{self.side.value}{view}"]


def calibration_of(geometry: ViewGeometry) -> Calibration:
    """Imager Pixel Spacing ÷ the mid-plane magnification, as the writer's ERMF gives."""
    m = round(geometry.magnification, 4)
    spacing = geometry.pixel_spacing / m
    return Calibration(
        spacing,
        spacing,
        CalibrationSource.MAGNIFICATION_CORRECTED,
        m,
        f"{spacing:.4g} mm (test)",
    )


def case_from_breast(seed: int, breast: Breast) -> PhantomCase:
    """Build the ground truth of every planned image of ``breast``'s side (no pixels)."""
    side = breast.side
    images: dict[str, PhantomImage] = {}
    for index, item in enumerate(study.plan(side)):
        if item.side is not side:
            continue
        item = dataclasses.replace(item, contrast=True)
        geometry = study._geometry(item, breast)
        uid = f"1.2.826.0.1.3680043.10.999.{seed}.{index + 1}"
        truth = study._image_truth(item, geometry, breast, f"{item.label}.dcm", uid)
        key = item.label.removesuffix("_PRE") if item.study_key == "ductogram" else item.label
        if key in images:
            continue  # pre- and post-contrast images share the geometry
        info = ImageInfo(
            uid,
            Laterality(side.value),
            item.view.value,
            PatientOrientation(*geometry.patient_orientation),
            calibration_of(geometry),
            geometry.rows,
            geometry.columns,
            item.magnified,
        )
        images[key] = PhantomImage(item.label, info, truth)
    return PhantomCase(seed, side, study.lesion_truth(breast), images)


def phantom_case(seed: int, side: Side) -> PhantomCase:
    """Ground truth of the injected breast of the phantom ``seed``/``side``."""
    return case_from_breast(seed, draw_injected_breast(seed, side))


def mirrored_breast(breast: Breast) -> Breast:
    """The same breast and lesions mirrored to the other side (``x`` → ``-x``)."""
    other = Side.RIGHT if breast.side is Side.LEFT else Side.LEFT
    lesions = tuple(
        Lesion(
            lesion.identifier, lesion.kind, (-lesion.center[0], *lesion.center[1:]), lesion.size_mm
        )
        for lesion in breast.lesions
    )
    return dataclasses.replace(breast, side=other, lesions=lesions)
