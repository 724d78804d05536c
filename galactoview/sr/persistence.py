"""Open and save a study's annotations: the SR codec and the safe sidecar store together.

:mod:`~galactoview.sr.sr_codec` turns an :class:`AnnotationSet` into a TID 1500
Comprehensive SR and back (DICOM JSON Model, PS3.18 Annex F);
:mod:`~galactoview.sr.sidecar` stores that text atomically, next to the study
(or in the per-user folder when the study folder is read-only) and refuses to overwrite a
version it did not read. This module decides what happens in between:

- a study without a sidecar starts empty and will be saved at :func:`sidecar_location`;
- a sidecar that cannot be read or decoded (corrupt, or another program's file that is not
  a TID 1500 SR of this study) is reported and **left untouched**: the annotations start
  empty and the first save writes a new file alongside it ("keep working into a new one");
- every save is a new SR revision (new SOP Instance UID, the previous one in the
  Predecessor Documents Sequence); tracking UIDs stay;
- the reader's chest-wall lines (pectoral lines moved by the reader) are saved with the
  annotations and read back (:attr:`OpenedAnnotations.chest_walls`); an older sidecar
  has none;
- the radiologist's report (:mod:`~galactoview.sr.clinical_report`) is saved in the same
  revision and read back (:attr:`OpenedAnnotations.report`); a revision may be saved
  **signed** (:mod:`~galactoview.sr.signing`), only when the report is complete. A signed
  revision is never overwritten: the next save must be an **addendum** to it (its report's
  :attr:`~galactoview.sr.clinical_report.ClinicalReport.addendum` names the signed
  revision), else :func:`save_annotations` raises :class:`SignedRevisionError` and writes
  nothing. :attr:`SidecarTarget.signed_revision_uid` carries which revision that is.
  The first addendum save keeps the signed revision in its own file
  (:func:`~galactoview.sr.sidecar.keep_signed`) before replacing it, and every addendum
  revision names the signed one as its predecessor.

Qt-free: the GUI and the ``galactoview sr`` command both use it.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from pydicom.dataset import Dataset

from galactoview.annotations.document import ReplaceAnnotations, StudyDocument
from galactoview.annotations.model import AnnotationSet, ChestWallLine
from galactoview.dicom.loading import ImageRecord, scan
from galactoview.location.localize import FindingLocation
from galactoview.sr import sidecar, signing, sr_codec
from galactoview.sr.clinical_report import ClinicalReport
from galactoview.sr.group_cache import GroupCache

__all__ = [
    "ImportOutcome",
    "ImportRefusedError",
    "ImportedReport",
    "IncompleteReportError",
    "OpenedAnnotations",
    "SidecarTarget",
    "SignedRevisionError",
    "evidence_headers",
    "import_report",
    "open_annotations",
    "report_text",
    "save_annotations",
]


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
        For a banner while the study is open: e.g. that the study folder is
        read-only and the annotations go to the per-user folder; ``""`` when there
        is nothing to say.
    fallback_path
        Where to save instead when saving to ``path`` fails (the per-user sidecar
        path); ``None`` when ``path`` is already there.
    signed_revision_uid
        The signed revision the next save must be an addendum to: the revision read or
        last written when it is signed, or the one an unsigned addendum amends; ``None``
        when nothing is signed.
    """

    study_instance_uid: str
    path: Path
    fingerprint: sidecar.Fingerprint | None
    alongside: bool = False
    notice: str = ""
    fallback_path: Path | None = None
    signed_revision_uid: str | None = None


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
    evidence
        Minimal headers of every image the sidecar references
        (:func:`evidence_headers`), for saving marks on images not loaded.
    chest_walls
        The reader's chest-wall lines the sidecar stored, by SOP Instance UID
        (:attr:`sr_codec.DecodeResult.chest_walls`); empty when none.
    read_from
        What the annotations were read from, for messages: the sidecar's path, or
        ``archive [member]`` for a sidecar inside a ``.zip``; ``""`` when nothing was read.
    report
        The radiologist's report the revision holds; ``None`` when none.
    signature
        Who signed the revision read, and when; ``None`` when it is not signed.
    """

    annotations: AnnotationSet
    target: SidecarTarget
    problems: tuple[str, ...] = ()
    locations: Mapping[str, sr_codec.StoredLocation] = field(default_factory=dict)
    evidence: Mapping[str, Dataset] = field(default_factory=dict)
    chest_walls: Mapping[str, ChestWallLine] = field(default_factory=dict)
    read_from: str = ""
    report: ClinicalReport | None = None
    signature: signing.Signature | None = None


def open_annotations(
    study_instance_uid: str,
    image_paths: Iterable[Path],
    *,
    user_dir: Path | None = None,
) -> OpenedAnnotations:
    """Load a study's annotations from its sidecar, tolerating every kind of bad file.

    Where the annotations are read from and saved to:

    - **every version is a candidate**: the sidecar next to the study, the per-user
      one, and their "keep both" copies (:func:`sidecar.alongside_sidecars`); the
      newest readable revision (by the SR's Content Date/Time, then modification
      time) is loaded, and the others are
      listed as problems so the reader knows they exist — nothing is merged or
      deleted;
    - saves go back to the version loaded, or next to the study when there was
      none; when the study folder is **read-only** (or a folder, FIFO, … is in the
      way of the sidecar there), to the per-user folder (beside a per-user
      sidecar that was not loaded, never over it); a version loaded from the
      per-user folder is saved there. :attr:`SidecarTarget.notice` says where,
      for a banner, whenever that is not next to the study.

    - a study opened from a ``.zip`` archive without any sidecar on disk reads the
      one kept inside the archive, if any (:func:`sidecar.archived_sidecar`); it is
      saved next to the archive, as a new file (the archive is never modified).

    Temporary files of killed saves (:func:`sidecar.remove_stale_temporaries`)
    are cleaned up in the folder saved to.

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

    Raises
    ------
    ValueError
        When ``study_instance_uid`` is not a UID, so it cannot name a file.
    """
    image_paths = list(image_paths)
    folder = sidecar.study_folder(image_paths)
    here, mine = sidecar.sidecar_candidates(folder, study_instance_uid, user_dir=user_dir)
    problems: list[str] = []
    blocked = sidecar.in_the_way(here)
    write_problem = sidecar.folder_write_problem(folder)
    usable_here = blocked is None and write_problem is None
    notice = ""
    if blocked is not None:
        problems.append(f"{here}: {blocked} is in the way of the sidecar; not used")
        notice = f"{blocked.capitalize()} is where the sidecar belongs: marks are saved in {mine}"
    elif write_problem is not None:
        notice = f"Read-only study folder ({folder}: {write_problem}): marks are saved in {mine}"
    else:
        sidecar.remove_stale_temporaries(folder)
    if not usable_here and (other := sidecar.in_the_way(mine)) is not None:
        problems.append(f"{mine}: {other} is in the way of the sidecar")
    empty = AnnotationSet(study_instance_uid)
    versions = _versions_newest_first([path for path in (here, mine) if _is_regular_file(path)])
    if not versions:
        path = here if usable_here else mine
        fallback = mine if usable_here else None
        target = SidecarTarget(
            study_instance_uid, path, None, notice=notice, fallback_path=fallback
        )
        archived = _archived(image_paths, study_instance_uid, problems)
        if archived is not None:  # read from the archive; saved next to it, as a new file
            label, result, dataset = archived
            evidence = evidence_headers(dataset)
            return OpenedAnnotations(
                result.annotations,
                replace(target, signed_revision_uid=_signed_revision(result)),
                tuple(problems),
                result.locations,
                evidence,
                result.chest_walls,
                label,
                result.report,
                result.signature,
            )
        return OpenedAnnotations(empty, target, tuple(problems))
    for number, (version, text) in enumerate(versions):
        read = _read_version(version, text, study_instance_uid)
        if isinstance(read, str):
            problems.append(read)
            continue
        loaded, result, dataset = read
        problems += [f"{version}: {line}" for line in result.problems]
        problems += [
            f"{other}: another version of these annotations, kept and not loaded "
            f"({version} is newer)"
            if not isinstance(other_text, str)
            else f"{other_text}; kept and not loaded"
            for other, other_text in versions[number + 1 :]
        ]
        if version.parent == mine.parent:
            if usable_here:  # e.g. saved there when the study folder's disk was full
                notice = (
                    f"Marks are read from and saved in {version}: newer than the sidecar "
                    f"in the study folder {folder}"
                )
            target = SidecarTarget(study_instance_uid, version, loaded.fingerprint, notice=notice)
        elif usable_here:
            target = SidecarTarget(
                study_instance_uid, version, loaded.fingerprint, fallback_path=mine
            )
        else:  # read from the read-only folder: saved per user, next to an older one there
            target = _per_user_target(study_instance_uid, mine, notice)
        return OpenedAnnotations(
            result.annotations,
            replace(target, signed_revision_uid=_signed_revision(result)),
            tuple(problems),
            result.locations,
            evidence_headers(dataset),
            result.chest_walls,
            str(version),
            result.report,
            result.signature,
        )
    # Nothing readable: every file is kept; the work goes into a new file next to them.
    newest = versions[0][0]
    problems.append(f"{newest}: left untouched; new annotations are saved in a new file next to it")
    if newest.parent == mine.parent or usable_here:
        fallback = mine if newest.parent != mine.parent else None
        target = SidecarTarget(
            study_instance_uid, newest, None, alongside=True, notice=notice, fallback_path=fallback
        )
    else:
        target = _per_user_target(study_instance_uid, mine, notice)
    return OpenedAnnotations(empty, target, tuple(problems))


def _signed_revision(result: sr_codec.DecodeResult) -> str | None:
    """Return the signed revision a save after ``result`` must be an addendum to, if any."""
    if result.signed:
        return result.annotations.sop_instance_uid
    if result.report is not None and result.report.addendum is not None:
        return result.report.addendum.signed_revision_uid
    return None


def _archived(
    image_paths: Sequence[Path], study_instance_uid: str, problems: list[str]
) -> tuple[str, sr_codec.DecodeResult, Dataset] | None:
    """Read the study's sidecar from a ``.zip`` archive of its images; problems appended.

    Returns ``archive [member]`` (for messages), what was decoded and the dataset.
    """
    try:
        found = sidecar.archived_sidecar(image_paths, study_instance_uid)
    except sidecar.SidecarError as error:
        problems.append(str(error))
        return None
    if found is None:
        return None
    label, loaded = found
    read = _read_version(label, loaded, study_instance_uid)
    if isinstance(read, str):
        problems.append(read)
        return None
    _, result, dataset = read
    problems.extend(f"{label}: {line}" for line in result.problems)
    return label, result, dataset


def _per_user_target(study_instance_uid: str, mine: Path, notice: str) -> SidecarTarget:
    """Return the per-user target; a per-user file not loaded is kept ("keep both")."""
    return SidecarTarget(
        study_instance_uid, mine, None, alongside=_is_regular_file(mine), notice=notice
    )


def _is_regular_file(path: Path) -> bool:
    """Return whether ``path`` is a regular file (following links); never raises."""
    try:
        return path.is_file()
    except OSError:
        return False


#: A version of a sidecar as read: its text and fingerprint, or why it cannot be read.
_Version = tuple[Path, sidecar.LoadedSidecar | str]


def _versions_newest_first(paths: Iterable[Path]) -> list[_Version]:
    """Read sidecars and their "keep both" copies; return them newest revision first.

    Newest by the SR's own Content Date and Time (0008,0023)/(0008,0033), written at
    every save (PS3.3 C.17.2), so copying a folder (new modification times) does not
    change the order; then by modification time; then a sidecar before its copies.
    Versions that cannot be read come last, with the reason.
    """
    primary = {path.name for path in paths}
    found = [
        version
        for path in paths
        for version in (path, *sidecar.alongside_sidecars(path))
        if _is_regular_file(version)
    ]
    versions: list[_Version] = []
    for version in found:
        try:
            loaded = sidecar.load(version)
        except sidecar.SidecarError as error:
            versions.append((version, str(error)))
            continue
        versions.append(
            (version, loaded if loaded is not None else f"{version}: removed while opened")
        )

    def newest_first(item: _Version) -> tuple[bool, str, float, bool]:
        version, loaded = item
        try:
            mtime = version.stat().st_mtime
        except OSError:
            mtime = 0.0
        readable = not isinstance(loaded, str)
        content = "" if isinstance(loaded, str) else _content_datetime(loaded.text)
        return (readable, content, mtime, version.name in primary)

    return sorted(versions, key=newest_first, reverse=True)


def _content_datetime(text: str) -> str:
    """Return ``YYYYMMDDHHMMSS.ffffff`` from an SR's Content Date and Time, ``""`` if absent."""
    try:
        document = json.loads(text)
        date = str(document["00080023"]["Value"][0])
        time = str(document.get("00080033", {}).get("Value", [""])[0])
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError):
        return ""
    whole, _, fraction = time.partition(".")
    return f"{date[:8]:0<8}{whole[:6]:0<6}.{fraction[:6]:0<6}"


def _read_version(
    path: Path | str, loaded: sidecar.LoadedSidecar | str, study_instance_uid: str
) -> tuple[sidecar.LoadedSidecar, sr_codec.DecodeResult, Dataset] | str:
    """Decode one sidecar read by :func:`_versions_newest_first`; a string says why not."""
    if isinstance(loaded, str):
        return loaded
    try:
        dataset = sr_codec.from_json(loaded.text)
        result = sr_codec.decode(dataset)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
        return f"{path}: not a TID 1500 SR GalactoView can read ({error})"
    found = result.annotations.study_instance_uid
    if found != study_instance_uid:
        return f"{path}: the SR is about study {found}, not {study_instance_uid}"
    return loaded, result, dataset


def evidence_headers(dataset: Dataset) -> dict[str, Dataset]:
    """Return minimal headers of the images an SR references, from its evidence sequences.

    The Current Requested Procedure Evidence Sequence (0040,A375) and the
    Pertinent Other Evidence Sequence (0040,A385) of the SR Document General
    module (PS3.3 C.17.2) list, through the Hierarchical SOP Instance Reference
    Macro (PS3.3 Table C.17-3), every instance the document references. When an
    image is not loaded (e.g. one file of the study was opened), these headers
    let the next revision keep referencing it, so marks on it are saved again
    instead of the save failing.

    Parameters
    ----------
    dataset
        An SR document.

    Returns
    -------
    dict
        By SOP Instance UID, a dataset with SOP Class UID, SOP Instance UID, Study
        and Series Instance UID only (no Rows: not an image library entry).
    """
    headers: dict[str, Dataset] = {}
    for keyword in ("CurrentRequestedProcedureEvidenceSequence", "PertinentOtherEvidenceSequence"):
        for study in dataset.get(keyword) or []:
            for series in study.get("ReferencedSeriesSequence") or []:
                for instance in series.get("ReferencedSOPSequence") or []:
                    uid = str(instance.get("ReferencedSOPInstanceUID", ""))
                    if not uid:
                        continue
                    header = Dataset()
                    header.SOPClassUID = str(instance.get("ReferencedSOPClassUID", ""))
                    header.SOPInstanceUID = uid
                    header.StudyInstanceUID = str(study.get("StudyInstanceUID", ""))
                    header.SeriesInstanceUID = str(series.get("SeriesInstanceUID", ""))
                    headers[uid] = header
    return headers


def save_annotations(
    annotations: AnnotationSet,
    source_images: Sequence[Dataset],
    target: SidecarTarget,
    locations: Mapping[str, FindingLocation | sr_codec.StoredLocation] | None = None,
    chest_walls: Mapping[str, ChestWallLine] | None = None,
    report: ClinicalReport | None = None,
    signature: signing.Signature | None = None,
    cache: GroupCache | None = None,
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
        :func:`galactoview.location.study.locate_document` on the current marks and
        landmarks, or as :func:`sr_codec.decode` read them): stored with the CID
        6018/6020/6024 codes and the distance from the nipple (see
        :func:`sr_codec.encode`); default none.
    chest_walls
        The reader's chest-wall lines by SOP Instance UID
        (:meth:`~galactoview.annotations.document.StudySnapshot.reader_chest_walls`),
        stored in the SR; default none.
    report
        The radiologist's report, stored in the same revision; default none. After a
        signed revision (``target.signed_revision_uid``) it must be an addendum to it.
    signature
        Sign this revision (Completion Flag COMPLETE, Verification Flag VERIFIED, the
        Verifying Observer); only a complete report can be signed
        (:func:`galactoview.sr.signing.missing_for_signing` with ``locations``).
    cache
        The study's encoded groups from its previous save, reused where nothing
        changed (:class:`~galactoview.sr.group_cache.GroupCache`; autosave); default
        none.

    Returns
    -------
    tuple of AnnotationSet and SidecarTarget
        The annotations with this revision's SOP Instance UID (and the previous one
        as predecessor), and the target for the next save.

    Raises
    ------
    SignedRevisionError
        The revision saved over is signed and this one is not an addendum to it, or an
        addendum names a revision that is not the signed one: nothing was written.
    IncompleteReportError
        ``signature`` is given but the report is not complete: nothing was written.
    sidecar.SidecarConflict
        The file changed on disk since it was read (another workstation): nothing
        was written; the caller offers reload or keep both.
    sidecar.SidecarError
        The file could not be written (the message names it); the old one is intact.
    """
    _check_revision(target, report, signature, annotations, locations)
    addendum = None if report is None else report.addendum
    if addendum is not None:
        # Every addendum revision (its autosaves too) follows the signed revision it
        # amends (Predecessor Documents Sequence, PS3.3 C.17.2.3): the drafts in
        # between replace one another and are not kept, the signed revision is.
        replacing_signed = annotations.sop_instance_uid == addendum.signed_revision_uid
        if replacing_signed and not target.alongside and target.path.is_file():
            sidecar.keep_signed(
                target.path, addendum.signed_revision_uid, expected=target.fingerprint
            )
        annotations = replace(annotations, sop_instance_uid=addendum.signed_revision_uid)
    dataset = sr_codec.encode(
        annotations,
        source_images,
        locations=locations,
        chest_walls=chest_walls,
        report=report,
        signature=signature,
        cache=cache,
    )
    text = sr_codec.to_json(dataset)
    if target.alongside:
        path = sidecar.save_alongside(target.path, text)
        written = sidecar.fingerprint(path)
        next_target = SidecarTarget(
            target.study_instance_uid,
            path,
            written,
            notice=target.notice,
            fallback_path=target.fallback_path,
            signed_revision_uid=target.signed_revision_uid,
        )
    else:
        written = sidecar.save(target.path, text, expected=target.fingerprint)
        next_target = replace(target, fingerprint=written)
    if signature is not None:
        next_target = replace(next_target, signed_revision_uid=str(dataset.SOPInstanceUID))
    saved = replace(
        annotations,
        sop_instance_uid=str(dataset.SOPInstanceUID),
        previous_revision_uid=annotations.sop_instance_uid,
        series_instance_uid=str(dataset.SeriesInstanceUID),
    )
    return saved, next_target


class SignedRevisionError(ValueError):
    """A save would change a signed revision other than by an addendum; nothing was written."""


class IncompleteReportError(ValueError):
    """A report cannot be signed yet; nothing was written.

    Attributes
    ----------
    missing
        What is missing, one line each (:func:`galactoview.sr.signing.missing_for_signing`).
    """

    def __init__(self, missing: Sequence[str]) -> None:
        self.missing = tuple(missing)
        super().__init__("the report cannot be signed yet; missing: " + "; ".join(self.missing))


def _check_revision(
    target: SidecarTarget,
    report: ClinicalReport | None,
    signature: signing.Signature | None,
    annotations: AnnotationSet,
    locations: Mapping[str, FindingLocation | sr_codec.StoredLocation] | None,
) -> None:
    """Refuse a save over a signed revision that is not an addendum, or an incomplete signing."""
    signed = target.signed_revision_uid
    addendum = None if report is None else report.addendum
    if signed is not None and (addendum is None or addendum.signed_revision_uid != signed):
        raise SignedRevisionError(
            f"{target.path}: revision {signed} is signed and cannot be changed; save the "
            "change as an addendum to it"
        )
    if signed is None and addendum is not None:
        raise SignedRevisionError(
            f"{target.path}: an addendum to revision {addendum.signed_revision_uid}, but "
            "the revision saved over is not signed"
        )
    if signature is not None:
        missing = signing.missing_for_signing(annotations, report, locations or {})
        if missing:
            raise IncompleteReportError(missing)


# --- an SR from elsewhere (a file, a PACS) as a study's sidecar -----------------------------


class ImportRefusedError(ValueError):
    """An SR cannot become a study's sidecar; nothing was written. One line.

    Attributes
    ----------
    about_study
        True when the study folder is at fault (no image of the SR's study in it, its
        sidecar cannot be looked for), False when the SR is.

    forcible
        True when the only fault is that the study folder holds no image of the SR's
        study: :func:`import_report` with ``force=True`` imports it anyway.
    """

    def __init__(self, message: str, *, about_study: bool = False, forcible: bool = False) -> None:
        super().__init__(message)
        self.about_study = about_study
        self.forcible = forcible


class ImportOutcome(enum.Enum):
    """What :func:`import_report` did with the study's sidecar."""

    #: The study had no sidecar: the SR is now its sidecar.
    WRITTEN = "written"
    #: The sidecar already holds this SR revision (same marks, same SOP Instance UID).
    ALREADY_HELD = "already held"
    #: The study had a different sidecar: kept, the SR written next to it ("keep both").
    ALONGSIDE = "alongside"
    #: The sidecar held an earlier revision of the SR's chain (``supersedes``): replaced,
    #: the earlier one kept as ``.bak``.
    SUPERSEDED = "superseded"
    #: The sidecar is a later revision of the SR (it names the SR as its predecessor):
    #: nothing written.
    OLDER = "older"


@dataclass(frozen=True, slots=True)
class ImportedReport:
    """The result of :func:`import_report`.

    Attributes
    ----------
    outcome
        What was done.
    path
        The sidecar written, or the one that already holds (or supersedes) the SR.
    kept
        For :attr:`ImportOutcome.ALONGSIDE`: the study's sidecar that was kept.
    problems
        Lines about the study's existing sidecars (naming the file), as
        :attr:`OpenedAnnotations.problems`.
    notice
        Where the sidecar went when not next to the study (read-only folder), else "".
    warnings
        One line per mark on an image not found in the study folder: the image's SOP
        Instance UID and the mark (the mark is kept in the sidecar).
    forced
        True when the study folder holds no image of the SR's study and the SR was
        stored there because the caller forced it (``force=True``).
    """

    outcome: ImportOutcome
    path: Path
    kept: Path | None = None
    problems: tuple[str, ...] = ()
    notice: str = ""
    warnings: tuple[str, ...] = ()
    forced: bool = False


def report_text(dataset: Dataset, annotations: AnnotationSet) -> str:
    """Return an SR's sidecar text (DICOM JSON, PS3.18 Annex F), checked as the viewer reads it.

    Parameters
    ----------
    dataset
        The SR (binary or from JSON).
    annotations
        What :func:`sr_codec.decode` read from it.

    Raises
    ------
    ImportRefusedError
        It holds no readable mark, or it has no DICOM JSON form the sidecar reader takes.
    """
    if not (annotations.findings or annotations.duct_segments or annotations.landmarks):
        raise ImportRefusedError(
            "is a measurement report (TID 1500) with no readable mark (finding, duct "
            "segment or nipple): nothing imported"
        )
    try:
        text = sr_codec.to_json(dataset)
        sidecar.decode_sidecar(Path("sr"), text.encode("utf-8"))  # the viewer will load it
    except sidecar.SidecarError as exc:
        raise ImportRefusedError(f"cannot be stored as a sidecar: {exc.problem}") from None
    except Exception as exc:  # a value of a binary SR that has no DICOM JSON form
        raise ImportRefusedError(
            f"cannot be stored as a sidecar ({sr_codec.describe_error(exc)})"
        ) from None
    return text


def import_report(
    text: str,
    annotations: AnnotationSet,
    study_dir: Path,
    *,
    supersedes: Collection[str] | None = None,
    force: bool = False,
) -> ImportedReport:
    """Store an SR as the sidecar of its study, where the viewer and ``report`` look for it.

    ``study_dir`` is scanned for the images of the SR's study and
    :func:`open_annotations` (the viewer's rule) decides the folder. An existing sidecar
    is never overwritten blindly: the study's document is edited by the command the
    viewer would run, so no change means the sidecar already holds this revision; a
    different sidecar is kept and the SR written next to it (the viewer opens the newer
    of the two by Content Date/Time) — unless ``supersedes`` says the sidecar is an
    earlier revision of the SR (Predecessor Documents chain, PS3.3 C.17.2.3), which is
    then replaced (kept as ``.bak``), or the sidecar names the SR as its predecessor
    (it is newer): then nothing is written.

    Parameters
    ----------
    text
        The SR's sidecar text (:func:`report_text`).
    annotations
        The SR's annotations (:func:`sr_codec.decode`).
    study_dir
        A folder holding the study's images (searched recursively).
    supersedes
        The SOP Instance UIDs of the earlier revisions of this SR (e.g. every other
        revision of its chain on a PACS); ``None`` (``sr import``): always keep both.
    force
        Store the SR in ``study_dir`` even when it holds no image of the SR's study
        (Study Instance UID, PS3.3 C.7.2.1); :attr:`ImportedReport.forced` says so.

    Returns
    -------
    ImportedReport
        What was done; :attr:`ImportedReport.warnings` lists the marks on images
        (Referenced SOP Instance UID, PS3.3 C.18.3) not found under ``study_dir``.

    Raises
    ------
    ImportRefusedError
        No image of the SR's study in ``study_dir`` (unless ``force``; the message names
        the studies it holds), or its sidecar cannot be looked for.
    sidecar.SidecarError
        The sidecar could not be written (the message names it); nothing changed.
    """
    study_uid = annotations.study_instance_uid
    images = scan([study_dir]).images
    members = [r.path for r in images if r.study_instance_uid == study_uid]
    forced = not members
    if forced and not force:
        raise ImportRefusedError(
            f"holds no image of study {study_uid} (the SR's Study Instance UID), so the "
            f"viewer would never find its sidecar; {_studies_found(images)}: nothing imported",
            about_study=True,
            forcible=True,
        )
    if forced:  # the sidecar's own path: its folder, study_dir, is where it goes
        members = [study_dir / sidecar.sidecar_name(study_uid)]
    warnings = _missing_images(annotations, {r.sop_instance_uid for r in images}, study_dir)
    try:
        opened = open_annotations(study_uid, members)
    except Exception as exc:  # e.g. an unreadable existing sidecar the reader chokes on
        raise ImportRefusedError(
            f"the study's sidecar cannot be looked for ({sr_codec.describe_error(exc)})",
            about_study=True,
        ) from None
    target = opened.target

    def done(outcome: ImportOutcome, path: Path, kept: Path | None = None) -> ImportedReport:
        return ImportedReport(outcome, path, kept, opened.problems, target.notice, warnings, forced)

    # The study's document, edited by the command the viewer would run: no change means
    # the sidecar already holds this SR revision (same marks, same SOP Instance UID).
    document = StudyDocument(opened.annotations)
    imported = document.execute(ReplaceAnnotations(annotations, "Import SR"))
    if target.fingerprint is not None and imported is None:
        return done(ImportOutcome.ALREADY_HELD, target.path)
    held = opened.annotations
    if supersedes is not None and target.fingerprint is not None and not target.alongside:
        if held.sop_instance_uid and held.sop_instance_uid in supersedes:
            sidecar.save(target.path, text, expected=target.fingerprint)
            return done(ImportOutcome.SUPERSEDED, target.path)
        newer_here = held.previous_revision_uid is not None
        if newer_here and held.previous_revision_uid == annotations.sop_instance_uid:
            return done(ImportOutcome.OLDER, target.path)
    if target.fingerprint is None and not target.alongside:
        sidecar.save(target.path, text, expected=None)
        return done(ImportOutcome.WRITTEN, target.path)
    written = sidecar.save_alongside(target.path, text)
    return done(ImportOutcome.ALONGSIDE, written, target.path)


def _studies_found(images: Sequence[ImageRecord]) -> str:
    """Name the studies a folder holds, for a refusal: ``it holds study 1.2 (…, 4 images)``."""
    studies: dict[str, list[ImageRecord]] = {}
    for record in images:
        studies.setdefault(record.study_instance_uid, []).append(record)
    if not studies:
        return "it holds no DICOM image"
    named = []
    for uid, records in list(studies.items())[:3]:
        first = records[0]
        count = f"{len(records)} image{'s' if len(records) != 1 else ''}"
        about = ", ".join(
            part for part in (first.study_date, first.study_description, count) if part
        )
        named.append(f"{uid} ({about})")
    more = f" and {len(studies) - 3} more" if len(studies) > 3 else ""
    return f"it holds {'study' if len(studies) == 1 else 'studies'} {', '.join(named)}{more}"


def _missing_images(
    annotations: AnnotationSet, present: Collection[str], study_dir: Path
) -> tuple[str, ...]:
    """One line per image (Referenced SOP Instance UID) not under ``study_dir`` with marks.

    The line names the image and the marks on it (finding short id and type, duct
    segment, nipple), in order; they are kept in the sidecar, where they show once the
    image is there.
    """
    marks: list[tuple[str, str]] = []
    for finding in annotations.findings:
        what = f"finding {finding.short_id} ({finding.finding_type.value})"
        marks += [(region.sop_instance_uid, what) for region in finding.regions]
    for segment in annotations.duct_segments:
        marks.append((segment.region.sop_instance_uid, f"duct segment {segment.short_id}"))
    for landmark in annotations.landmarks:
        marks.append((landmark.sop_instance_uid, "nipple"))
    by_image: dict[str, dict[str, None]] = {}
    for uid, what in marks:
        if uid not in present:
            by_image.setdefault(uid, {})[what] = None
    return tuple(
        f"image {uid} is not under {study_dir}: "
        f"{', '.join(whats)} on it {'is' if len(whats) == 1 else 'are'} kept but not shown"
        for uid, whats in by_image.items()
    )
