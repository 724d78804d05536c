"""Open and save a study's annotations: the SR codec and the safe sidecar store together.

:mod:`~galactoview.annotations.sr_codec` turns an :class:`AnnotationSet` into a TID 1500
Comprehensive SR and back (DICOM JSON Model, PS3.18 Annex F);
:mod:`~galactoview.annotations.sidecar` stores that text atomically, next to the study
(or in the per-user folder when the study folder is read-only) and refuses to overwrite a
version it did not read. This module decides what happens in between:

- a study without a sidecar starts empty and will be saved at :func:`sidecar_location`;
- a sidecar that cannot be read or decoded (corrupt, or another program's file that is not
  a TID 1500 SR of this study) is reported and **left untouched**: the annotations start
  empty and the first save writes a new file alongside it ("keep working into a new one");
- every save is a new SR revision (new SOP Instance UID, the previous one in the
  Predecessor Documents Sequence); tracking UIDs stay.

Qt-free: the GUI and the ``galactoview sr`` command both use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from pydicom.dataset import Dataset

from galactoview.annotations import sidecar, sr_codec
from galactoview.annotations.model import AnnotationSet
from galactoview.location.localize import FindingLocation

__all__ = ["OpenedAnnotations", "SidecarTarget", "open_annotations", "save_annotations"]


@dataclass(frozen=True, slots=True)
class SidecarTarget:
    """Where a study's annotations are saved, and which version of that file was read.

    Attributes
    ----------
    study_instance_uid
        The study.
    path
        The sidecar written on the next save.
    fingerprint
        The version of ``path`` read (or last written); ``None`` when no file was read.
    alongside
        True when ``path`` holds a file that must not be overwritten (corrupt or
        foreign, or the reader chose "keep both" after a conflict): the next save
        goes to a new file next to it, which becomes the target.
    notice
        Said to the user once: e.g. that the study folder is read-only and the
        annotations go to the per-user folder; ``""`` when there is nothing to say.
    """

    study_instance_uid: str
    path: Path
    fingerprint: sidecar.Fingerprint | None
    alongside: bool = False
    notice: str = ""


@dataclass(frozen=True, slots=True)
class OpenedAnnotations:
    """What :func:`open_annotations` found for a study.

    Attributes
    ----------
    annotations
        The annotations (empty when there is no usable sidecar).
    target
        Where the next save goes.
    problems
        One line per thing wrong (naming the file), for the Problems panel.
    locations
        The findings' locations as the sidecar stored them at its last save, by
        tracking UID (:attr:`sr_codec.DecodeResult.locations`); empty when none.
    """

    annotations: AnnotationSet
    target: SidecarTarget
    problems: tuple[str, ...] = ()
    locations: Mapping[str, sr_codec.StoredLocation] = field(default_factory=dict)


def open_annotations(
    study_instance_uid: str,
    image_paths: Iterable[Path],
    *,
    user_dir: Path | None = None,
) -> OpenedAnnotations:
    """Load a study's annotations from its sidecar, tolerating every kind of bad file.

    Parameters
    ----------
    study_instance_uid
        The study (0020,000D).
    image_paths
        The files of the study's images (or the DICOMDIR / zip holding them): the
        sidecar lives in their common folder.
    user_dir
        The per-user sidecar folder (tests); :func:`sidecar.user_sidecar_dir` if None.

    Returns
    -------
    OpenedAnnotations
        Never raises for a bad sidecar: the problem is listed and the file is kept.
    """
    folder = sidecar.study_folder(image_paths)
    empty = AnnotationSet(study_instance_uid)
    existing = sidecar.find_sidecar(folder, study_instance_uid, user_dir=user_dir)
    if existing is None:
        location = sidecar.sidecar_location(folder, study_instance_uid, user_dir=user_dir)
        target = SidecarTarget(study_instance_uid, location.path, None, notice=location.notice)
        return OpenedAnnotations(empty, target)
    kept = f"{existing}: left untouched; new annotations are saved in a new file next to it"
    try:
        loaded = sidecar.load(existing)
    except sidecar.SidecarError as error:
        target = SidecarTarget(study_instance_uid, existing, None, alongside=True)
        return OpenedAnnotations(empty, target, (str(error), kept))
    if loaded is None:  # removed between the look and the read
        target = SidecarTarget(study_instance_uid, existing, None)
        return OpenedAnnotations(empty, target)
    try:
        result = sr_codec.decode(sr_codec.from_json(loaded.text))
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        target = SidecarTarget(study_instance_uid, existing, loaded.fingerprint, alongside=True)
        problem = f"{existing}: not a TID 1500 SR GalactoView can read ({error})"
        return OpenedAnnotations(empty, target, (problem, kept))
    target = SidecarTarget(study_instance_uid, existing, loaded.fingerprint)
    problems = tuple(f"{existing}: {line}" for line in result.problems)
    found = result.annotations
    if found.study_instance_uid != study_instance_uid:
        alongside = replace(target, alongside=True)
        problem = (
            f"{existing}: the SR is about study {found.study_instance_uid}, not "
            f"{study_instance_uid}"
        )
        return OpenedAnnotations(empty, alongside, (*problems, problem, kept))
    return OpenedAnnotations(found, target, problems, result.locations)


def save_annotations(
    annotations: AnnotationSet,
    source_images: Sequence[Dataset],
    target: SidecarTarget,
    locations: Mapping[str, FindingLocation | sr_codec.StoredLocation] | None = None,
) -> tuple[AnnotationSet, SidecarTarget]:
    """Save a new SR revision of a study's annotations, atomically and without clobbering.

    Parameters
    ----------
    annotations
        What to save (its ``sop_instance_uid``, if any, becomes the predecessor).
    source_images
        Headers of the referenced images (see :func:`sr_codec.encode`).
    target
        Where, and the version of the file that was read.
    locations
        Where the findings lie in the breast, by tracking UID (from
        :func:`galactoview.location.study.locate_study` on the current marks and
        landmarks, or as :func:`sr_codec.decode` read them): stored with the CID
        6018/6020/6024 codes and the distance from the nipple (see
        :func:`sr_codec.encode`); default none.

    Returns
    -------
    tuple of AnnotationSet and SidecarTarget
        The annotations with this revision's SOP Instance UID (and the previous one
        as predecessor), and the target for the next save.

    Raises
    ------
    sidecar.SidecarConflict
        The file changed on disk since it was read (another workstation): nothing
        was written; the caller offers reload or keep both.
    sidecar.SidecarError
        The file could not be written (the message names it); the old one is intact.
    """
    dataset = sr_codec.encode(annotations, source_images, locations=locations)
    text = sr_codec.to_json(dataset)
    if target.alongside:
        path = sidecar.save_alongside(target.path, text)
        written = sidecar.fingerprint(path)
        next_target = SidecarTarget(target.study_instance_uid, path, written)
    else:
        written = sidecar.save(target.path, text, expected=target.fingerprint)
        next_target = replace(target, fingerprint=written, notice="")
    saved = replace(
        annotations,
        sop_instance_uid=str(dataset.SOPInstanceUID),
        previous_revision_uid=annotations.sop_instance_uid,
        series_instance_uid=str(dataset.SeriesInstanceUID),
    )
    return saved, next_target
