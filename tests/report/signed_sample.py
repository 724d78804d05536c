"""A copy of the sample ductogram whose sidecar holds a written report, ducts and a signature.

:func:`signed_ductogram` copies the sample study (images and sidecar) into a folder and
saves one new revision with :func:`galactoview.sr.persistence.save_annotations`: a duct
tree traced on the post-contrast CC and ML from the nipple through DE-1 and FD-1 to
CY-1, a :class:`~galactoview.annotations.report.ClinicalReport` and, unless
``signed=False``, the signature of :data:`SIGNATURE`. With ``suggested=True`` FD-1 and the
segments DS-1 and DS-2 started as suggestions of :data:`SUGGESTER` that the signer accepted.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Final

from pydicom import dcmread

from galactoview.annotations.document import StudySnapshot
from galactoview.annotations.geometry import path_length_measurement
from galactoview.annotations.model import (
    AlgorithmIdentification,
    DuctSegment,
    GraphicType,
    ImageRegion,
)
from galactoview.annotations.report import (
    Assessment,
    ClinicalReport,
    Complication,
    Indication,
    NippleOrifice,
    Recommendation,
    ReportedView,
    Technique,
)
from galactoview.dicom.loading import scan
from galactoview.dicom.mammography import Laterality
from galactoview.location.study import locate_document
from galactoview.paths import sample_dicom_dir
from galactoview.sr.persistence import open_annotations, save_annotations
from galactoview.sr.signing import Signature

SIGNATURE: Final = Signature(
    "Lindqvist^Åsa^^Dr.",
    "Brustzentrum Süd",
    datetime(2026, 12, 4, 18, 30, 5, tzinfo=timezone(timedelta(hours=1))),
)
#: How the signature block prints the signer.
SIGNER: Final = "Lindqvist, Åsa Dr."
#: The algorithm whose suggestions FD-1, DS-1 and DS-2 started as (``suggested=True``).
SUGGESTER: Final = AlgorithmIdentification(
    "GalactoView duct-tree suggestion", "1.0", ("threshold=0.35",)
)
#: Segments of the suggested tree the reader accepted (``suggested=True``).
_SUGGESTED_SEGMENTS: Final = frozenset({"DS-1", "DS-2"})

REPORT: Final = ClinicalReport(
    indication=Indication.BLOODY_NIPPLE_DISCHARGE,
    indication_text="single-duct discharge from the left nipple for three weeks",
    technique=Technique(
        orifice=NippleOrifice(2),
        contrast_ml=1.5,
        views=(ReportedView.CRANIO_CAUDAL, ReportedView.MEDIO_LATERAL),
        magnification=True,
        complications=(Complication.NO_COMPLICATIONS,),
    ),
    comparison="Screening mammograms of 2024-02-20: no change of the background.",
    impression="Intraductal filling defect at 7 o'clock, most likely a papilloma.",
    assessment=Assessment.CATEGORY_4A,
    recommendations=(Recommendation.DUCT_EXCISION, Recommendation.ULTRASOUND_GUIDED_BIOPSY),
    recommendation_text="Preoperative duct marking with blue dye.",
    free_text="Patient tolerated the procedure well.",
)

#: The post-contrast CC (#3) and ML (#4): the duct from the nipple through DE-1 and
#: FD-1 to CY-1, with a side branch (SCOORD column, row).
_TREES: Final = {
    3: (
        ("DS-1", None, ((1110.0, 1150.0), (900.0, 1170.0), (660.0, 1197.0), (600.0, 1225.0))),
        ("DS-2", "DS-1", ((600.0, 1225.0), (528.0, 1256.0), (350.0, 1310.0))),
        ("DS-3", "DS-1", ((600.0, 1225.0), (500.0, 1150.0), (380.0, 1100.0))),
        ("DS-4", "DS-2", ((350.0, 1310.0), (260.0, 1345.0), (172.0, 1368.0))),
    ),
    4: (
        ("DS-5", None, ((1110.0, 1150.0), (900.0, 1220.0), (679.0, 1282.0), (620.0, 1320.0))),
        ("DS-6", "DS-5", ((620.0, 1320.0), (555.0, 1361.0), (400.0, 1330.0), (181.0, 1255.0))),
    ),
}


def signed_ductogram(target: Path, *, signed: bool = True, suggested: bool = False) -> Path:
    """Copy the sample ductogram into ``target`` and save a reported (signed) revision.

    Parameters
    ----------
    target
        A new folder.
    signed
        Sign the revision (:data:`SIGNATURE`); else it is a draft.
    suggested
        FD-1 (observer: the signer), DS-1 and DS-2 started as suggestions of
        :data:`SUGGESTER`.

    Returns
    -------
    Path
        The study folder.
    """
    source = sample_dicom_dir() / "20260312_DUCTOGRAM_L"
    folder = target / source.name
    shutil.copytree(source, folder)
    records = scan([folder]).images
    study = records[0].study_instance_uid
    paths = [r.path for r in records]
    opened = open_annotations(study, paths)
    by_number = {r.instance_number: r for r in records}
    segments: list[DuctSegment] = []
    for number, tree in _TREES.items():
        record = by_number[number]
        uids: dict[str, str] = {}
        for short_id, parent, points in tree:
            region = ImageRegion(record.sop_instance_uid, None, GraphicType.POLYLINE, points)
            segment = DuctSegment.new(
                region,
                short_id=short_id,
                parent_uid=None if parent is None else uids[parent],
                laterality=Laterality.LEFT,
                path_length=path_length_measurement(region, record.calibration),
                algorithm=SUGGESTER if suggested and short_id in _SUGGESTED_SEGMENTS else None,
            )
            uids[short_id] = segment.tracking_uid
            segments.append(segment)
    findings = tuple(
        replace(f, algorithm=SUGGESTER, observer=SIGNATURE.observer_name)
        if suggested and f.short_id == "FD-1"
        else f
        for f in opened.annotations.findings
    )
    annotations = replace(  # the reader who signs made this revision (as AnnotationSaver.sign)
        opened.annotations,
        findings=findings,
        duct_segments=tuple(segments),
        observer=SIGNATURE.observer_name,
        observer_organization=SIGNATURE.organization,
    )
    snapshot = StudySnapshot.of(annotations, opened.chest_walls, report=REPORT)
    locations = locate_document(snapshot, records)
    headers = [dcmread(path, stop_before_pixels=True) for path in paths]
    save_annotations(
        annotations,
        headers,
        opened.target,
        locations,
        opened.chest_walls,
        report=REPORT,
        signature=SIGNATURE if signed else None,
    )
    return folder
