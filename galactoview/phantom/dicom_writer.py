"""Write a phantom exposure as a Digital Mammography X-Ray Image – For Presentation object.

The IOD is PS3.3 A.26.1 (SOP Class 1.2.840.10008.5.1.4.1.1.1.2). Modules written: Patient,
General Study, Patient Study, General Series, Mammography Series, General Equipment,
Enhanced General Equipment, General Image, Image Pixel, Contrast/Bolus (post-contrast only),
DX Anatomy Imaged, DX Image, DX Detector, X-Ray Collimator, DX Positioning, X-Ray
Acquisition Dose, X-Ray Generation, X-Ray Filtration, X-Ray Grid, Mammography Image, VOI LUT,
Acquisition Context and SOP Common. Pixel data is encapsulated JPEG 2000 lossless
(PS3.5 A.4.4, transfer syntax 1.2.840.10008.1.2.4.90), encoded by pydicom's openjpeg plugin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from pydicom import Dataset, Sequence
from pydicom.dataset import FileMetaDataset
from pydicom.sr.codedict import codes
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    DigitalMammographyXRayImageStorageForPresentation,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
)

from galactoview import __version__, files
from galactoview.imaging.display import VoiLutFunction, Window
from galactoview.phantom.geometry import VIEW_CODES, ViewGeometry

SYNTHETIC_NOTICE = "SYNTHETIC PHANTOM - NOT PATIENT DATA"


@dataclass(frozen=True, slots=True)
class PatientInfo:
    """The fictional patient."""

    name: str
    patient_id: str
    birth_date: date


@dataclass(frozen=True, slots=True)
class StudyInfo:
    """One study of the phantom patient."""

    instance_uid: str
    study_id: str
    accession_number: str
    description: str
    study_date: date
    study_time: time
    is_ductogram: bool


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    """One series of a study."""

    instance_uid: str
    number: int
    description: str


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What one stored image needs beyond its pixels and geometry."""

    sop_instance_uid: str
    instance_number: int
    acquisition_time: time
    contrast: bool
    magnified: bool
    windows: tuple[Window, ...]
    monochrome1: bool


def code_item(value: str, scheme: str, meaning: str) -> Dataset:
    """Build a Code Sequence item (PS3.3 8.8, Table 8.8-1a)."""
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def _ds_value(x: float) -> str:
    """Format a decimal string short enough for DS (PS3.5 6.2: at most 16 characters)."""
    return f"{x:.6g}"


def _age(birth: date, on: date) -> str:
    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return f"{years:03d}Y"


def build_dataset(
    pixels: NDArray[np.uint16],
    geometry: ViewGeometry,
    patient: PatientInfo,
    study: StudyInfo,
    series: SeriesInfo,
    image: ImageInfo,
) -> Dataset:
    """Build the For Presentation MG dataset (uncompressed; see :func:`write`).

    Parameters
    ----------
    pixels
        12-bit presentation values, MONOCHROME2 sense (brighter = more attenuating).
        Stored inverted when ``image.monochrome1``.
    geometry, patient, study, series, image
        What the attributes describe.

    Returns
    -------
    Dataset
        With file meta, ready to compress and save.
    """
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = DigitalMammographyXRayImageStorageForPresentation
    ds.file_meta.MediaStorageSOPInstanceUID = UID(image.sop_instance_uid)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.file_meta.ImplementationVersionName = f"GALACTOVIEW_{__version__}"[:16]

    # SOP Common (C.12.1)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = DigitalMammographyXRayImageStorageForPresentation
    ds.SOPInstanceUID = image.sop_instance_uid
    ds.InstanceCreationDate = study.study_date.strftime("%Y%m%d")
    ds.InstanceCreationTime = image.acquisition_time.strftime("%H%M%S")

    # Patient (C.7.1.1) and Patient Study (C.7.2.2)
    ds.PatientName = patient.name
    ds.PatientID = patient.patient_id
    ds.PatientBirthDate = patient.birth_date.strftime("%Y%m%d")
    ds.PatientSex = "F"
    ds.PatientIdentityRemoved = "NO"
    ds.PatientComments = SYNTHETIC_NOTICE
    ds.PatientAge = _age(patient.birth_date, study.study_date)

    # General Study (C.7.2.1)
    ds.StudyInstanceUID = study.instance_uid
    ds.StudyDate = study.study_date.strftime("%Y%m%d")
    ds.StudyTime = study.study_time.strftime("%H%M%S")
    ds.ReferringPhysicianName = "REFERRER^SYNTHETIC"
    ds.StudyID = study.study_id
    ds.AccessionNumber = study.accession_number
    ds.StudyDescription = study.description
    if study.is_ductogram:
        procedure = codes.SCT.MammaryDuctogram
        ds.ProcedureCodeSequence = Sequence(
            [code_item(procedure.value, procedure.scheme_designator, procedure.meaning)]
        )
        ds.AdmittingDiagnosesDescription = "Bloody nipple discharge, single duct"

    # General Series (C.7.3.1), Mammography Series (C.8.11.15)
    ds.Modality = "MG"
    ds.SeriesInstanceUID = series.instance_uid
    ds.SeriesNumber = series.number
    ds.SeriesDescription = series.description
    ds.SeriesDate = ds.StudyDate
    ds.SeriesTime = image.acquisition_time.strftime("%H%M%S")
    ds.BodyPartExamined = "BREAST"
    ds.PatientPosition = ""

    # General Equipment (C.7.5.1), Enhanced General Equipment (C.7.5.2)
    ds.Manufacturer = "GalactoView phantom generator"
    ds.InstitutionName = "Synthetic Breast Imaging Centre"
    ds.StationName = "PHANTOM01"
    ds.ManufacturerModelName = "Ductography phantom"
    ds.DeviceSerialNumber = "0001"
    ds.SoftwareVersions = __version__

    # General Image (C.7.6.1)
    ds.InstanceNumber = image.instance_number
    ds.PatientOrientation = list(geometry.patient_orientation)
    ds.ContentDate = ds.StudyDate
    ds.ContentTime = image.acquisition_time.strftime("%H%M%S")
    ds.AcquisitionDate = ds.StudyDate
    ds.AcquisitionTime = image.acquisition_time.strftime("%H%M%S")
    ds.ImageType = ["DERIVED", "PRIMARY", "", ""]
    ds.ImageComments = SYNTHETIC_NOTICE
    ds.BurnedInAnnotation = "NO"
    ds.RecognizableVisualFeatures = "NO"
    ds.LossyImageCompression = "00"

    # Image Pixel (C.7.6.3) and DX Image (C.8.11.3)
    stored = (4095 - pixels).astype(np.uint16) if image.monochrome1 else pixels
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME1" if image.monochrome1 else "MONOCHROME2"
    ds.Rows, ds.Columns = stored.shape
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelIntensityRelationship = "LOG"
    # +1: lower values are less beam intensity (brighter in MONOCHROME2). PS3.3 C.8.11.3.1.2
    ds.PixelIntensityRelationshipSign = -1 if image.monochrome1 else 1
    ds.RescaleIntercept = 0
    ds.RescaleSlope = 1
    ds.RescaleType = "US"
    ds.PresentationLUTShape = "INVERSE" if image.monochrome1 else "IDENTITY"
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.PixelData = stored.tobytes()

    # VOI LUT (C.11.2): several windows with explanations, one VOI LUT Function.
    windows = image.windows
    if image.monochrome1:
        windows = tuple(w.with_center_width(4095 - w.center, w.width) for w in windows)
    ds.WindowCenter = [_ds_value(w.center) for w in windows]
    ds.WindowWidth = [_ds_value(w.width) for w in windows]
    ds.WindowCenterWidthExplanation = [w.explanation for w in windows]
    ds.VOILUTFunction = windows[0].function.value

    # Contrast/Bolus (C.7.6.4): iodinated contrast injected into the cannulated duct.
    if image.contrast:
        agent = codes.SCT.Iohexol
        ds.ContrastBolusAgent = "Iohexol 300 mgI/ml"
        ds.ContrastBolusAgentSequence = Sequence(
            [code_item(agent.value, agent.scheme_designator, agent.meaning)]
        )
        ds.ContrastBolusRoute = "INTRADUCTAL"
        ds.ContrastBolusVolume = "1.5"
        ds.ContrastBolusIngredient = "IODINE"
        ds.ContrastBolusIngredientConcentration = "300"

    # DX Anatomy Imaged (C.8.11.1), Mammography Image (C.8.11.7)
    ds.ImageLaterality = geometry.side.value
    breast = codes.SCT.Breast
    ds.AnatomicRegionSequence = Sequence(
        [code_item(breast.value, breast.scheme_designator, breast.meaning)]
    )
    ds.PositionerType = "MAMMOGRAPHIC"
    ds.OrganExposed = "BREAST"
    ds.BreastImplantPresent = "NO"
    ds.PartialView = "NO"
    view_value, view_meaning = VIEW_CODES[geometry.view]
    view_item = code_item(view_value, "SCT", view_meaning)
    modifiers = []
    if image.magnified:
        mag = codes.SCT.Magnification
        modifiers.append(code_item(mag.value, mag.scheme_designator, mag.meaning))
    view_item.ViewModifierCodeSequence = Sequence(modifiers)
    ds.ViewCodeSequence = Sequence([view_item])
    ds.ViewPosition = geometry.view.value

    # DX Detector (C.8.11.4)
    ds.DetectorType = "DIRECT"
    ds.DetectorConfiguration = "AREA"
    ds.DetectorID = "PHANTOM-DET-1"
    ds.DetectorActiveShape = "RECTANGLE"
    ds.DetectorActiveDimensions = [
        _ds_value(geometry.rows * geometry.pixel_spacing),
        _ds_value(geometry.columns * geometry.pixel_spacing),
    ]
    ds.DetectorElementSpacing = [_ds_value(geometry.pixel_spacing)] * 2
    ds.ImagerPixelSpacing = [_ds_value(geometry.pixel_spacing)] * 2
    ds.DetectorConditionsNominalFlag = "YES"
    ds.DetectorTemperature = "30"
    ds.DetectorBinning = [1, 1]
    ds.FieldOfViewShape = "RECTANGLE"
    ds.FieldOfViewDimensions = [  # IS, whole mm
        round(geometry.rows * geometry.pixel_spacing),
        round(geometry.columns * geometry.pixel_spacing),
    ]
    ds.FieldOfViewOrigin = ["0", "0"]
    ds.FieldOfViewRotation = "0"
    ds.FieldOfViewHorizontalFlip = "YES" if geometry.mirrored else "NO"

    # X-Ray Collimator (C.8.7.3): the full field.
    ds.CollimatorShape = "RECTANGULAR"
    ds.CollimatorLeftVerticalEdge = 0
    ds.CollimatorRightVerticalEdge = geometry.columns
    ds.CollimatorUpperHorizontalEdge = 0
    ds.CollimatorLowerHorizontalEdge = geometry.rows

    # DX Positioning (C.8.11.5) and the geometry that calibration depends on.
    ds.DistanceSourceToDetector = _ds_value(geometry.source_image_distance)
    ds.DistanceSourceToPatient = _ds_value(geometry.source_image_distance - geometry.support_height)
    ds.EstimatedRadiographicMagnificationFactor = _ds_value(round(geometry.magnification, 4))
    ds.PositionerPrimaryAngle = _ds_value(geometry.positioner_primary_angle)
    ds.PositionerSecondaryAngle = "0"
    ds.BodyPartThickness = _ds_value(round(geometry.thickness, 1))
    ds.CompressionForce = "95" if not image.magnified else "70"

    # X-Ray Acquisition Dose (C.8.7.8), Generation (C.8.7.2), Filtration (C.8.7.6), Grid (C.8.7.1)
    ds.KVP = "29"
    ds.ExposureTime = 1100 if not image.magnified else 1600
    ds.XRayTubeCurrent = 110
    ds.Exposure = 120 if not image.magnified else 160
    ds.ExposureInuAs = ds.Exposure * 1000
    ds.AnodeTargetMaterial = "TUNGSTEN"
    ds.FocalSpots = "0.1" if image.magnified else "0.3"
    ds.FilterMaterial = "RHODIUM"
    ds.FilterThicknessMinimum = "0.05"
    ds.FilterThicknessMaximum = "0.05"
    ds.Grid = "NONE" if image.magnified else ["RECIPROCATING", "FOCUSED"]
    ds.EntranceDoseInmGy = "6.1"
    ds.OrganDose = "1.4"
    ds.RelativeXRayExposure = 400

    # Acquisition Context (C.7.6.14): Type 2, empty.
    ds.AcquisitionContextSequence = Sequence([])
    return ds


def write(ds: Dataset, path: Path) -> None:
    """Compress to JPEG 2000 lossless and save as a DICOM file (PS3.10 7.1 preamble + meta).

    Written through :func:`galactoview.files.write_atomically`, so a crash never leaves a
    half-written file under the final name.
    """
    # Keep our deterministic SOP Instance UID: pydicom mints a random one by default.
    ds.compress(JPEG2000Lossless, encoding_plugin="pylibjpeg", generate_instance_uid=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    files.write_atomically(path, lambda stream: ds.save_as(stream, enforce_file_format=True))


def sigmoid_or_linear(monochrome1: bool) -> VoiLutFunction:
    """VOI LUT Function the phantom uses: SIGMOID for the ductogram unit, LINEAR for the prior."""
    return VoiLutFunction.LINEAR if monochrome1 else VoiLutFunction.SIGMOID
