"""Phantom cases in memory, for evaluating the image analysis (issue 16's ``make eval``).

:func:`post_contrast_cases` renders a phantom's post-contrast CC and ML of the injected
breast — the two contact views, not the magnified one — without writing a file, and returns
each as the DICOM dataset the generator would store (built by
:func:`~galactoview.phantom.dicom_writer.build_dataset`: the same attributes, so it loads
exactly as the viewer loads a file, through
:meth:`~galactoview.imaging.display.DisplayPipeline.from_dataset` and
:func:`~galactoview.dicom.calibration.calibration_from_dataset`) together with its ground
truth, the image's entry of ``ground_truth.json`` (schema in ``sample_data/README.md``):
nipple, lesions, projected duct centrelines (``ducts``), filling defects (``defects``) and
air bubbles (``bubbles``, distractors).

With the default :data:`SAMPLE_DETECTOR` and ``bubbles=False`` the pixels are those of the
files :func:`~galactoview.phantom.study.generate` writes for the same seed and side. Another
:class:`Detector` renders the same breast on a larger matrix, e.g.
:data:`SELENIA_DIMENSIONS` (4096 × 3328 at 0.07 mm) for runtime measurements; the chest wall
stays on the detector's chest-wall edge and the nipple at mid-height, so the breast lies
wholly on any detector at least as large as the sample's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydicom import Dataset

from galactoview.phantom.anatomy import Side
from galactoview.phantom.breast_builder import draw_injected_breast
from galactoview.phantom.geometry import Detector
from galactoview.phantom.render import make_texture
from galactoview.phantom.study import SAMPLE_DETECTOR, expose, plan

__all__ = [
    "SAMPLE_DETECTOR",
    "SELENIA_DIMENSIONS",
    "Detector",
    "PhantomCase",
    "post_contrast_cases",
]

#: A Hologic Selenia Dimensions-size detector: 4096 rows × 3328 columns at 0.07 mm.
SELENIA_DIMENSIONS = Detector(4096, 3328, 0.07)


@dataclass(frozen=True, slots=True)
class PhantomCase:
    """One rendered post-contrast image of a phantom and its ground truth.

    Attributes
    ----------
    seed, side
        The phantom (``side``: the injected breast).
    label
        The image's label, e.g. ``"LCC_POST"``.
    dataset
        The Digital Mammography X-Ray Image – For Presentation dataset (PS3.3 A.26.1),
        native pixels (Explicit VR Little Endian) with its file meta; ``dataset.pixel_array``
        gives the stored values.
    truth
        The image's ground truth, as an ``images`` entry of ``ground_truth.json``.
    """

    seed: int
    side: Side
    label: str
    dataset: Dataset
    truth: dict[str, Any]


def post_contrast_cases(
    seed: int,
    side: Side,
    *,
    bubbles: bool = True,
    detector: Detector | None = None,
) -> tuple[PhantomCase, ...]:
    """Render the post-contrast CC and ML of a phantom in memory, with their ground truth.

    Parameters
    ----------
    seed
        The phantom's seed.
    side
        The injected breast.
    bubbles
        Whether each exposure holds 1–4 air bubbles (different ones on CC and ML, listed in
        the truth's ``bubbles`` with ``"distractor": true``).
    detector
        The detector; :data:`SAMPLE_DETECTOR` (2294 × 1914 at 0.1 mm) when ``None``.

    Returns
    -------
    tuple of PhantomCase
        The CC, then the ML.
    """
    breast = draw_injected_breast(seed, side)
    texture = make_texture(breast)
    chosen = detector if detector is not None else SAMPLE_DETECTOR
    cases = []
    for index, item in enumerate(plan(side)):
        if not (item.contrast and item.side is side and not item.magnified):
            continue
        exposure = expose(seed, side, index, breast, texture, bubbles=bubbles, detector=chosen)
        cases.append(PhantomCase(seed, side, item.label, exposure.dataset, exposure.truth))
    return tuple(cases)
