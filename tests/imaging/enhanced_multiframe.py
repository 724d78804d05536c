"""A tiny Breast Tomosynthesis Image (enhanced multi-frame) made with pydicom, for tests.

``breast_tomosynthesis()`` returns a deterministic Breast Tomosynthesis Image Storage
object (PS3.3 A.55, SOP Class 1.2.840.10008.5.1.4.1.1.13.1.3): 3 frames of 64 x 48
uint16 (12 bits stored), Explicit VR Little Endian. Rescale and windows are stored as
Breast Tomosynthesis objects store them, in functional groups (PS3.3 C.7.6.16):

* Shared: Pixel Measures (C.7.6.16.2.1, Pixel Spacing 0.085 mm), Plane Orientation
  (C.7.6.16.2.4), Frame Anatomy (C.7.6.16.2.8), X-Ray 3D Frame Type (C.8.21.5.1).
* Per frame: Frame Content (C.7.6.16.2.2), Plane Position (C.7.6.16.2.3), Pixel Value
  Transformation (C.7.6.16.2.9) and Frame VOI LUT (C.7.6.16.2.10) with DIFFERENT values
  for every frame (:data:`FRAME_RESCALES`, :data:`FRAME_WINDOWS`).

Nothing at the top level says Rescale or Window, so a reader that ignores functional
groups shows every frame with slope 1, intercept 0 and no window.

``dciodvfy`` (dicom3tools) reports no error and no warning for
``breast_tomosynthesis(IDENTITY_RESCALES)``. With the default :data:`FRAME_RESCALES` it
reports one error for each Rescale Intercept that is not 0 and each Rescale Slope that
is not 1 ("Unrecognized enumerated value", 3 in all): the Breast Tomosynthesis IOD
constrains its Pixel Value Transformation to Rescale Intercept 0, Slope 1, Type US.
Those values are kept on purpose: a per-frame rescale is what the reader must honour in
other enhanced IODs and in files that do not follow that constraint, and no enhanced
mammography IOD allows it. Run this module to write the object
(``python -m tests.imaging.enhanced_multiframe OUT.dcm [--identity-rescale]``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

__all__ = [
    "BREAST_TOMOSYNTHESIS",
    "COLUMNS",
    "FRAME_RESCALES",
    "FRAME_WINDOWS",
    "IDENTITY_RESCALES",
    "PIXEL_SPACING",
    "ROWS",
    "breast_tomosynthesis",
    "frame_pixels",
    "main",
]

#: Breast Tomosynthesis Image Storage (PS3.4 B.5).
BREAST_TOMOSYNTHESIS = UID("1.2.840.10008.5.1.4.1.1.13.1.3")
ROWS, COLUMNS, FRAMES = 64, 48, 3
#: Shared Pixel Measures: row spacing, column spacing in mm.
PIXEL_SPACING = (0.085, 0.085)
#: Per-frame (Rescale Intercept, Rescale Slope), frames 1..3.
FRAME_RESCALES = ((0.0, 1.0), (-1024.0, 1.0), (100.0, 0.5))
#: What the Breast Tomosynthesis IOD allows: the identity for every frame.
IDENTITY_RESCALES = ((0.0, 1.0),) * 3
#: Per-frame (Window Center, Window Width, Explanation, VOI LUT Function), frames 1..3;
#: the first frame has two windows, so "the first window" is the per-frame first value.
FRAME_WINDOWS = (
    ((2048.0, 4096.0, "FULL", "LINEAR"), (1500.0, 1000.0, "NARROW", "LINEAR")),
    ((800.0, 1600.0, "SOFT", "LINEAR"),),
    ((1200.0, 900.0, "SIGMOID", "SIGMOID"),),
)

_ROOT = "galactoview-test-bto"


def _uid(name: str) -> UID:
    return generate_uid(entropy_srcs=[_ROOT, name])


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def frame_pixels(frame: int) -> np.ndarray:
    """Stored values of frame ``frame`` (1-based): a seeded gradient with a bright disc."""
    rng = np.random.default_rng(frame)
    r, c = np.mgrid[0:ROWS, 0:COLUMNS]
    gradient = 300 + 3000 * (c / (COLUMNS - 1)) * (0.6 + 0.2 * frame)
    disc = ((r - 20 - 8 * frame) ** 2 + (c - 24) ** 2 < 64) * 700
    noise = rng.normal(0, 40, size=(ROWS, COLUMNS))
    pixels: np.ndarray = np.clip(gradient + disc + noise, 0, 4095).astype(np.uint16)
    return pixels


def _per_frame_item(frame: int, rescale: tuple[float, float]) -> Dataset:
    item = Dataset()
    content = Dataset()
    content.FrameAcquisitionDateTime = "20260312101500.000000"
    content.FrameReferenceDateTime = "20260312101500.000000"
    content.FrameAcquisitionDuration = 100.0
    content.StackID = "1"
    content.InStackPositionNumber = frame
    content.DimensionIndexValues = [frame]
    content.FrameLabel = f"slice {frame}"
    item.FrameContentSequence = Sequence([content])
    position = Dataset()
    position.ImagePositionPatient = [0.0, 0.0, float(frame)]
    item.PlanePositionSequence = Sequence([position])
    intercept, slope = rescale
    transformation = Dataset()
    transformation.RescaleIntercept = intercept
    transformation.RescaleSlope = slope
    transformation.RescaleType = "US"
    item.PixelValueTransformationSequence = Sequence([transformation])
    windows = FRAME_WINDOWS[frame - 1]
    voi = Dataset()
    voi.WindowCenter = [center for center, _, _, _ in windows]
    voi.WindowWidth = [width for _, width, _, _ in windows]
    voi.WindowCenterWidthExplanation = [text for _, _, text, _ in windows]
    voi.VOILUTFunction = windows[0][3]
    item.FrameVOILUTSequence = Sequence([voi])
    frame_type = Dataset()
    frame_type.FrameType = ["DERIVED", "PRIMARY", "TOMOSYNTHESIS", "NONE"]
    frame_type.PixelPresentation = "MONOCHROME"
    frame_type.VolumetricProperties = "VOLUME"
    frame_type.VolumeBasedCalculationTechnique = "NONE"
    item.XRay3DFrameTypeSequence = Sequence([frame_type])
    return item


def _shared_item() -> Dataset:
    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing = list(PIXEL_SPACING)
    measures.SliceThickness = 1.0
    shared.PixelMeasuresSequence = Sequence([measures])
    orientation = Dataset()
    orientation.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    shared.PlaneOrientationSequence = Sequence([orientation])
    anatomy = Dataset()
    anatomy.AnatomicRegionSequence = Sequence([_code("76752008", "SCT", "Breast")])
    anatomy.FrameLaterality = "L"
    shared.FrameAnatomySequence = Sequence([anatomy])
    return shared


def breast_tomosynthesis(
    rescales: tuple[tuple[float, float], ...] = FRAME_RESCALES,
) -> Dataset:
    """Return the 3-frame Breast Tomosynthesis Image (a new object at every call).

    ``rescales`` gives each frame's (Rescale Intercept, Rescale Slope).
    """
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = BREAST_TOMOSYNTHESIS
    ds.file_meta.MediaStorageSOPInstanceUID = _uid("instance")
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    # SOP Common (C.12.1)
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["DERIVED", "PRIMARY", "TOMOSYNTHESIS", "NONE"]
    ds.InstanceCreationDate = "20260312"
    ds.InstanceCreationTime = "101500"
    ds.SOPClassUID = BREAST_TOMOSYNTHESIS
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    # General Study (C.7.2.1), Patient (C.7.1.1)
    ds.StudyDate = "20260312"
    ds.ContentDate = "20260312"
    ds.StudyTime = "101500"
    ds.ContentTime = "101500"
    ds.AccessionNumber = "ACC-BTO-1"
    ds.Modality = "MG"
    ds.Manufacturer = "GalactoView tests"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "Tomosynthesis test object"
    ds.SeriesDescription = "BTO 3 slices"
    ds.ManufacturerModelName = "pydicom generator"
    ds.PatientName = "Test^Tomosynthesis"
    ds.PatientID = "GV-BTO-1"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "F"
    ds.DeviceSerialNumber = "1"
    ds.SoftwareVersions = "1"
    # Enhanced MG series / Breast View (C.8.11.x)
    ds.StudyInstanceUID = _uid("study")
    ds.SeriesInstanceUID = _uid("series")
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.FrameOfReferenceUID = _uid("frame-of-reference")
    ds.PositionReferenceIndicator = ""
    ds.ViewCodeSequence = Sequence([_code("399162004", "SCT", "cranio-caudal")])
    ds.ViewCodeSequence[0].ViewModifierCodeSequence = Sequence()
    ds.BreastImplantPresent = "NO"
    ds.PartialView = "NO"
    ds.ContentQualification = "RESEARCH"
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"
    ds.AcquisitionContextSequence = Sequence()
    # Image Pixel (C.7.6.3), Multi-frame (C.7.6.6)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.NumberOfFrames = FRAMES
    ds.Rows, ds.Columns = ROWS, COLUMNS
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation = 0
    ds.PresentationLUTShape = "IDENTITY"
    ds.PixelPresentation = "MONOCHROME"
    ds.VolumetricProperties = "VOLUME"
    ds.VolumeBasedCalculationTechnique = "NONE"
    # Multi-frame Dimension (C.7.6.17): one dimension, the In-Stack Position Number.
    dimension = Dataset()
    dimension.DimensionOrganizationUID = _uid("dimension-organization")
    ds.DimensionOrganizationSequence = Sequence([dimension])
    index = Dataset()
    index.DimensionOrganizationUID = dimension.DimensionOrganizationUID
    index.DimensionIndexPointer = 0x00209057  # In-Stack Position Number
    index.FunctionalGroupPointer = 0x00209111  # Frame Content Sequence
    ds.DimensionIndexSequence = Sequence([index])
    # Multi-frame Functional Groups (C.7.6.16)
    ds.SharedFunctionalGroupsSequence = Sequence([_shared_item()])
    ds.PerFrameFunctionalGroupsSequence = Sequence(
        [_per_frame_item(frame, rescales[frame - 1]) for frame in range(1, FRAMES + 1)]
    )
    ds.ContentDate, ds.ContentTime = "20260312", "101500"
    pixels = np.stack([frame_pixels(frame) for frame in range(1, FRAMES + 1)])
    ds.PixelData = pixels.astype("<u2").tobytes()
    return ds


def main(argv: list[str] | None = None) -> int:
    """Write the object to the path given: ``python -m tests.imaging.enhanced_multiframe OUT``."""
    args = sys.argv[1:] if argv is None else list(argv)
    identity = "--identity-rescale" in args
    paths = [arg for arg in args if arg != "--identity-rescale"]
    if len(paths) != 1:
        print(
            "usage: python -m tests.imaging.enhanced_multiframe OUT.dcm [--identity-rescale]",
            file=sys.stderr,
        )
        return 2
    ds = breast_tomosynthesis(IDENTITY_RESCALES if identity else FRAME_RESCALES)
    ds.save_as(Path(paths[0]), enforce_file_format=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
