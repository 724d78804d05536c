"""Patient → Study → Series → Instance grouping of scanned images (Qt-free).

The DICOM information model (PS3.3 A.1.2) nests instances in series, series in
studies and studies in patients. :func:`build_study_tree` turns the flat, sorted
list of :class:`~galactoview.dicom.loading.ImageRecord` that
:func:`~galactoview.dicom.loading.scan` returns into that hierarchy of immutable
nodes, for the ``galactoview info`` command, a study browser or a report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from galactoview.dicom.loading import ImageRecord

__all__ = ["PatientNode", "SeriesNode", "StudyNode", "build_study_tree"]


@dataclass(frozen=True, slots=True)
class SeriesNode:
    """One series (PS3.3 C.7.3.1) and its images.

    Attributes
    ----------
    series_instance_uid
        Series Instance UID (0020,000E).
    series_number
        Series Number (0020,0011), None when absent.
    series_description
        Series Description (0008,103E).
    modality
        Modality (0008,0060) of the first image.
    images
        The images, in the order given to :func:`build_study_tree`.
    """

    series_instance_uid: str
    series_number: int | None
    series_description: str
    modality: str
    images: tuple[ImageRecord, ...]


@dataclass(frozen=True, slots=True)
class StudyNode:
    """One study (PS3.3 C.7.2.1) and its series.

    Attributes
    ----------
    study_instance_uid
        Study Instance UID (0020,000D).
    study_date
        Study Date (0008,0020), ``YYYYMMDD`` or ``""``.
    study_description
        Study Description (0008,1030).
    series
        The series, in order of their first image.
    """

    study_instance_uid: str
    study_date: str
    study_description: str
    series: tuple[SeriesNode, ...]

    @property
    def image_count(self) -> int:
        """Return the number of images in all series of the study."""
        return sum(len(series.images) for series in self.series)


@dataclass(frozen=True, slots=True)
class PatientNode:
    """One patient (PS3.3 C.7.1.1) and their studies.

    Attributes
    ----------
    patient_id
        Patient ID (0010,0020).
    patient_name
        Patient's Name (0010,0010) as the DICOM PN string.
    studies
        The studies, in order of their first image (newest first when the images
        come from :func:`~galactoview.dicom.loading.scan`).
    """

    patient_id: str
    patient_name: str
    studies: tuple[StudyNode, ...]

    @property
    def image_count(self) -> int:
        """Return the number of images of the patient."""
        return sum(study.image_count for study in self.studies)


def build_study_tree(images: Iterable[ImageRecord]) -> tuple[PatientNode, ...]:
    """Group images into patients, studies and series, keeping their order.

    Patients are told apart by Patient ID and Patient's Name together, studies by
    Study Instance UID and series by Series Instance UID (PS3.3 A.1.2). Each
    node appears where its first image appears, and images keep their order
    within a series, so the sort of :func:`~galactoview.dicom.loading.scan`
    (newest study first, then series and instance number) is preserved.

    Parameters
    ----------
    images
        Images, usually ``scan(paths).images``.

    Returns
    -------
    tuple of PatientNode
        The tree; empty when there are no images.
    """
    patients: dict[tuple[str, str], dict[str, dict[str, list[ImageRecord]]]] = {}
    for image in images:
        studies = patients.setdefault((image.patient_id, image.patient_name), {})
        series = studies.setdefault(image.study_instance_uid, {})
        series.setdefault(image.series_instance_uid, []).append(image)
    return tuple(
        PatientNode(
            patient_id=patient_id,
            patient_name=patient_name,
            studies=tuple(_study(series) for series in studies.values()),
        )
        for (patient_id, patient_name), studies in patients.items()
    )


def _study(series: dict[str, list[ImageRecord]]) -> StudyNode:
    """Build a study node from its series (each with at least one image)."""
    first = next(iter(series.values()))[0]
    return StudyNode(
        study_instance_uid=first.study_instance_uid,
        study_date=first.study_date,
        study_description=first.study_description,
        series=tuple(_series(images) for images in series.values()),
    )


def _series(images: list[ImageRecord]) -> SeriesNode:
    """Build a series node from its images (at least one)."""
    first = images[0]
    return SeriesNode(
        series_instance_uid=first.series_instance_uid,
        series_number=first.series_number,
        series_description=first.series_description,
        modality=first.modality,
        images=tuple(images),
    )
