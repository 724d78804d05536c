"""Coded concepts of galactography annotations (Qt-free).

Values follow PS3.16 (DICOM Content Mapping Resource) and are taken from
pydicom's code tables (:data:`pydicom.sr.codedict.codes`):

* finding types: CID 6057 "Ductography Finding for Breast";
* impressions: CID 6030/6031 "Breast Pathology" (intraductal papilloma and others);
* finding site: Breast (SCT 76752008) with a Laterality (SCT 272741003) modifier, CID 244;
* measurements: Long axis, Short axis, Area, Diameter (SCT), Path length (DCM 121211),
  with UCUM units mm and mm2.

Concepts that PS3.16 does not define (an "other" finding, a duct segment, the
parent link between duct segments, the calibration label of a measurement) use
the private coding scheme :data:`PRIVATE_SCHEME` (PS3.16 section 8: coding
scheme designators beginning with "99" are reserved for local use).
"""

from __future__ import annotations

from typing import Final

from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code

__all__ = [
    "ABRUPT_DUCT_TERMINATION",
    "AREA",
    "BREAST",
    "CALIBRATION_LABEL",
    "COMMENT",
    "CYST_FILL",
    "CYST_OF_BREAST",
    "DEVICE",
    "DIAMETER",
    "DIFFERENTIAL_DIAGNOSIS_IMPRESSION",
    "DUCT_NARROWING",
    "DUCT_SEGMENT",
    "EXTRAVASATION",
    "FIBROCYSTIC_DISEASE",
    "FINDING",
    "FINDING_OF_REGION",
    "FINDING_SITE",
    "IMPRESSIONS",
    "INTRADUCTAL_PAPILLOMA",
    "INTRALUMINAL_FILLING_DEFECT",
    "LANDMARK_STATUS",
    "LATERALITY",
    "LEFT",
    "LONG_AXIS",
    "MAMMARY_DUCTOGRAM",
    "MAMMARY_DUCT_ECTASIA",
    "MILLIMETER",
    "MULTIPLE_FILLING_DEFECTS",
    "MULTIPLE_INTRADUCTAL_PAPILLOMAS",
    "NIPPLE",
    "OTHER_FINDING",
    "OTHER_FINDING_TEXT",
    "PAPILLARY_CARCINOMA",
    "PARENT_DUCT_SEGMENT",
    "PATH_LENGTH",
    "PERSON",
    "PERSON_OBSERVER_NAME",
    "PERSON_OBSERVER_ORGANIZATION",
    "PIXEL",
    "PRIVATE_SCHEME",
    "RIGHT",
    "RIGHT_AND_LEFT",
    "SHORT_AXIS",
    "SQUARE_MILLIMETER",
    "SUGGESTED_LANDMARK",
    "TRACKING_IDENTIFIER",
    "TRACKING_UID",
    "impression_text",
]

#: Coding scheme designator for local concepts (PS3.16 section 8, "99" prefix).
PRIVATE_SCHEME: Final = "99GALACTOVIEW"

# ----------------------------------------------------- CID 6057 ductography findings
INTRALUMINAL_FILLING_DEFECT: Final = codes.DCM.IntraluminalFillingDefect  # 111425
MULTIPLE_FILLING_DEFECTS: Final = codes.DCM.MultipleFillingDefect  # 111426
ABRUPT_DUCT_TERMINATION: Final = codes.DCM.AbruptDuctTermination  # 111427
EXTRAVASATION: Final = codes.DCM.Extravasation  # 111428
DUCT_NARROWING: Final = codes.DCM.DuctNarrowing  # 111429
CYST_FILL: Final = codes.DCM.CystFill  # 111430
MAMMARY_DUCT_ECTASIA: Final = codes.SCT.MammaryDuctEctasia  # 22049009
#: Finding type of a finding the radiologist describes in free text (local concept).
OTHER_FINDING: Final = Code("OTHER", PRIVATE_SCHEME, "Other finding")

# ----------------------------------------------- impressions (CID 6030/6031)
INTRADUCTAL_PAPILLOMA: Final = codes.SCT.IntraductalPapilloma  # 5244003
MULTIPLE_INTRADUCTAL_PAPILLOMAS: Final = codes.DCM.MultipleIntraductalPapillomas  # 111285
PAPILLARY_CARCINOMA: Final = codes.SCT.PapillaryCarcinoma
CYST_OF_BREAST: Final = codes.SCT.CystOfBreast  # 399294002
FIBROCYSTIC_DISEASE: Final = codes.SCT.FibrocysticDiseaseOfBreast
#: Impressions offered to the radiologist, most likely first.
IMPRESSIONS: Final[tuple[Code, ...]] = (
    INTRADUCTAL_PAPILLOMA,
    MULTIPLE_INTRADUCTAL_PAPILLOMAS,
    PAPILLARY_CARCINOMA,
    MAMMARY_DUCT_ECTASIA,
    CYST_OF_BREAST,
    FIBROCYSTIC_DISEASE,
)


def impression_text(code: Code) -> str:
    """Return how an impression is shown: sentence case for the offered ones.

    The code meanings of CID 6030/6031 are not written alike ("Intraductal papilloma",
    "Multiple Intraductal Papillomas"); shown side by side they read as a mistake. The
    SR keeps the standard meaning; another program's impression is shown as it wrote it.
    """
    meaning = str(code.meaning)
    if code in IMPRESSIONS:
        return meaning[:1].upper() + meaning[1:].lower()
    return meaning


# ------------------------------------------------------ sites and structure
BREAST: Final = codes.SCT.Breast  # 76752008
NIPPLE: Final = codes.SCT.Nipple  # 24142002
LATERALITY: Final = codes.SCT.Laterality  # 272741003
LEFT: Final = codes.SCT.Left  # 7771000
RIGHT: Final = codes.SCT.Right  # 24028007
RIGHT_AND_LEFT: Final = codes.SCT.RightAndLeft  # 51440002
FINDING: Final = codes.DCM.Finding  # 121071
FINDING_SITE: Final = codes.SCT.FindingSite  # 363698007
DIFFERENTIAL_DIAGNOSIS_IMPRESSION: Final = codes.DCM.DifferentialDiagnosisImpression  # 111023
TRACKING_IDENTIFIER: Final = codes.DCM.TrackingIdentifier  # 112039
TRACKING_UID: Final = codes.DCM.TrackingUniqueIdentifier  # 112040
COMMENT: Final = codes.DCM.Comment  # 121106
PERSON_OBSERVER_NAME: Final = codes.DCM.PersonObserverName  # 121008
PERSON_OBSERVER_ORGANIZATION: Final = codes.DCM.PersonObserverOrganizationName  # 121009
PERSON: Final = codes.DCM.Person  # 121006, observer type (CID 270)
DEVICE: Final = codes.DCM.Device  # 121007, observer type (CID 270)
MAMMARY_DUCTOGRAM: Final = codes.SCT.MammaryDuctogram  # 18102001 (procedure, CID 6050)

# ------------------------------------------------------------ measurements
LONG_AXIS: Final = codes.SCT.LongAxis  # 103339001
SHORT_AXIS: Final = codes.SCT.ShortAxis  # 103340004
AREA: Final = codes.SCT.Area  # 42798000
DIAMETER: Final = codes.SCT.Diameter  # 81827009
PATH_LENGTH: Final = codes.DCM.PathLength  # 121211
MILLIMETER: Final = codes.UCUM.Millimeter  # mm
SQUARE_MILLIMETER: Final = codes.UCUM.SquareMillimeter  # mm2
#: UCUM annotation unit for a length in pixels (no calibration known).
PIXEL: Final = Code("{pixel}", "UCUM", "pixel")

# ------------------------------------------------------------ local concepts
#: TEXT item holding the radiologist's description of an "other" finding.
OTHER_FINDING_TEXT: Final = Code("OTHER-TEXT", PRIVATE_SCHEME, "Other finding description")
#: Finding type of a TID 1501 group describing one traced duct segment.
DUCT_SEGMENT: Final = Code("DUCT-SEGMENT", PRIVATE_SCHEME, "Duct segment")
#: UIDREF item: tracking UID of the parent duct segment (absent for a root segment).
PARENT_DUCT_SEGMENT: Final = Code("PARENT-SEGMENT", PRIVATE_SCHEME, "Parent duct segment")
#: UIDREF item of a finding's second and later region groups: the tracking UID of the
#: finding (its first group's). Each region group has its own Tracking Unique Identifier so
#: that viewers which merge groups by that UID (OHIF) draw every region; this item lets
#: our reader put the regions back together.
FINDING_OF_REGION: Final = Code("REGION-FINDING", PRIVATE_SCHEME, "Finding of this region")
#: TEXT modifier of a NUM item: which calibration the mm value used.
CALIBRATION_LABEL: Final = Code("CALIBRATION", PRIVATE_SCHEME, "Calibration used")
#: CODE item (a TID 1410 qualitative evaluation, CONTAINS) of a nipple landmark's group
#: whose value :data:`SUGGESTED_LANDMARK` says the landmark was suggested by the software
#: and not confirmed by the reader; absent for a confirmed landmark. PS3.16 has no
#: standard concept for "not confirmed by the reader", hence a local one (PS3.16 8).
LANDMARK_STATUS: Final = Code("LANDMARK-STATUS", PRIVATE_SCHEME, "Landmark status")
#: Value of :data:`LANDMARK_STATUS`: suggested from the pixels, not confirmed by the reader.
SUGGESTED_LANDMARK: Final = Code(
    "SUGGESTED", PRIVATE_SCHEME, "Suggested by software, not confirmed by the reader"
)
