"""Tests for galactoview.dicom.loading: scanning files and folders, decoding pixels."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate
from pydicom.fileset import FileSet
from pydicom.uid import MPEG2MPML, UID, JPEG2000Lossless, JPEGLSLossless

from galactoview.dicom.loading import (
    ImageRecord,
    LoadProblem,
    PixelDataError,
    ScanResult,
    initial_image_index,
    load_pixels,
    read_header,
    scan,
)
from galactoview.dicom.mammography import Laterality
from tests.helpers import (
    STUDY_UID,
    make_mg_dataset,
    make_pixels,
    write_corrupt,
    write_dataset,
    write_garbage,
    write_mg,
    write_study,
    write_truncated,
)


def _names(result: ScanResult) -> list[str]:
    return [image.path.name for image in result.images]


def _problem_for(result: ScanResult, path: Path) -> LoadProblem:
    matches = [problem for problem in result.problems if problem.path == path]
    assert len(matches) == 1, result.problems
    return matches[0]


# --- scan -----------------------------------------------------------------------------


def test_scan_reads_header_fields(tmp_path: Path) -> None:
    path = write_mg(
        tmp_path / "a.dcm",
        laterality="R",
        view="ML",
        modifiers=("MAG",),
        series_number=3,
        instance_number=7,
        series_description="post-contrast",
        rows=32,
        columns=24,
    )
    result = scan([path])
    assert result.problems == ()
    (image,) = result.images
    ds = dcmread(path)
    assert image.path == path
    assert image.sop_instance_uid == ds.SOPInstanceUID
    assert image.study_instance_uid == STUDY_UID
    assert image.series_instance_uid == ds.SeriesInstanceUID
    assert image.patient_name == "Phantom^Jane"
    assert image.patient_id == "GV-TEST-001"
    assert image.study_date == "20240102"
    assert image.study_description == "Galactography left"
    assert image.series_description == "post-contrast"
    assert (image.series_number, image.instance_number) == (3, 7)
    assert image.modality == "MG"
    assert (image.rows, image.columns) == (32, 24)
    assert image.image_laterality is Laterality.RIGHT
    assert image.view.label == "R ML MAG"
    assert image.photometric_interpretation == "MONOCHROME2"
    assert image.transfer_syntax_uid == "1.2.840.10008.1.2.1"
    assert image.is_post_contrast


def test_scan_walks_folders_and_sorts_by_study_series_instance(tmp_path: Path) -> None:
    write_study(tmp_path)
    result = scan([tmp_path])
    assert result.problems == ()
    assert _names(result) == ["scout.dcm", "cc.dcm", "cc_mag.dcm", "ml.dcm"]
    assert [(i.series_number, i.instance_number) for i in result.images] == [
        (1, 1),
        (2, 1),
        (2, 2),
        (3, 1),
    ]


def test_instance_number_orders_series_sharing_a_number(tmp_path: Path) -> None:
    # Different Series Instance UIDs with the same Series Number: instance order wins.
    write_mg(tmp_path / "a.dcm", series_number=1, series_uid="1.2.3.9", instance_number=2)
    write_mg(tmp_path / "b.dcm", series_number=1, series_uid="1.2.3.1", instance_number=3)
    write_mg(tmp_path / "c.dcm", series_number=1, series_uid="1.2.3.5", instance_number=1)
    assert _names(scan([tmp_path])) == ["c.dcm", "a.dcm", "b.dcm"]


def test_scan_lists_the_newest_study_first_and_keeps_series_order(tmp_path: Path) -> None:
    write_mg(tmp_path / "a_old.dcm", study_uid="1.2.3.1", study_date="20230301")
    write_mg(tmp_path / "b_new_s2.dcm", study_uid="1.2.3.2", study_date="20240301", series_number=2)
    write_mg(tmp_path / "c_new_s1.dcm", study_uid="1.2.3.2", study_date="20240301", series_number=1)
    assert _names(scan([tmp_path])) == ["c_new_s1.dcm", "b_new_s2.dcm", "a_old.dcm"]


def test_scan_result_is_deterministic(tmp_path: Path) -> None:
    write_study(tmp_path)
    write_mg(tmp_path / "z" / "same_numbers.dcm", series_number=2, instance_number=1)
    first = scan([tmp_path])
    second = scan([tmp_path])
    assert [i.path for i in first.images] == [i.path for i in second.images]


def test_scan_reports_corrupt_non_dicom_and_missing_paths(tmp_path: Path) -> None:
    good = write_mg(tmp_path / "good.dcm")
    corrupt = write_corrupt(tmp_path / "corrupt.dcm")
    not_dicom = write_garbage(tmp_path / "notes.dcm")  # the suffix claims DICOM: reported
    missing = tmp_path / "absent.dcm"
    result = scan([tmp_path, missing])
    assert _names(result) == [good.name]
    assert "damaged" in _problem_for(result, corrupt).message
    assert "not a DICOM file" in _problem_for(result, not_dicom).message
    assert _problem_for(result, missing).message == "no such file or folder"
    assert str(_problem_for(result, missing)) == f"{missing}: no such file or folder"
    assert len(result.problems) == 3


def test_scan_reports_missing_required_attribute(tmp_path: Path) -> None:
    ds = make_mg_dataset()
    del ds.SeriesInstanceUID
    path = write_dataset(ds, tmp_path / "no_series.dcm")
    result = scan([path])
    assert result.images == ()
    message = _problem_for(result, path).message
    assert message == "missing required attribute SeriesInstanceUID (0020,000E)"


def test_scan_collects_structured_reports_next_to_the_images(tmp_path: Path) -> None:
    ds = make_mg_dataset()
    for keyword in ("Rows", "Columns", "PixelData"):
        delattr(ds, keyword)
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.33"
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    path = write_dataset(ds, tmp_path / "report.dcm")
    result = scan([tmp_path])
    assert result.images == () and result.problems == ()
    (report,) = result.reports
    assert (report.path, report.study_instance_uid) == (path, str(ds.StudyInstanceUID))
    assert report.sop_class_name == "Comprehensive SR Storage"


def test_scan_reports_other_non_image_objects(tmp_path: Path) -> None:
    ds = make_mg_dataset()
    for keyword in ("Rows", "Columns", "PixelData"):
        delattr(ds, keyword)
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.481.5"  # RT Plan Storage
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    path = write_dataset(ds, tmp_path / "plan.dcm")
    result = scan([tmp_path])
    assert result.images == ()
    assert _problem_for(result, path).message == "not an image (RT Plan Storage); skipped"


def test_scan_skips_non_dicom_extensions_and_hidden_files_silently(tmp_path: Path) -> None:
    write_mg(tmp_path / "image.dcm")
    for name in ("a.png", "b.JPG", "c.json", "d.md", "e.txt", "f.py", "g.csv", "h.sha256", "i.pdf"):
        write_garbage(tmp_path / name)
    write_garbage(tmp_path / ".hidden")
    write_garbage(tmp_path / ".git" / "objects" / "blob")
    result = scan([tmp_path])
    assert _names(result) == ["image.dcm"]
    assert result.problems == ()


def test_explicitly_named_file_is_tried_whatever_its_extension(tmp_path: Path) -> None:
    text = write_garbage(tmp_path / "notes.txt")
    dicom_named_png = write_mg(tmp_path / "image.png")
    result = scan([text, dicom_named_png])
    assert _names(result) == ["image.png"]
    assert "not a DICOM file" in _problem_for(result, text).message


def test_scan_accepts_files_without_suffix(tmp_path: Path) -> None:
    write_mg(tmp_path / "IM00001")
    assert _names(scan([tmp_path])) == ["IM00001"]


def test_same_file_twice_is_listed_once(tmp_path: Path) -> None:
    path = write_mg(tmp_path / "a.dcm")
    result = scan([tmp_path, path])
    assert _names(result) == ["a.dcm"]
    assert result.problems == ()


def test_duplicate_sop_instance_uid_is_reported(tmp_path: Path) -> None:
    first = write_mg(tmp_path / "a.dcm")
    copy = tmp_path / "b.dcm"
    copy.write_bytes(first.read_bytes())
    result = scan([tmp_path])
    assert _names(result) == ["a.dcm"]
    assert "duplicate" in _problem_for(result, copy).message


def test_scan_does_not_modify_files(tmp_path: Path) -> None:
    paths = write_study(tmp_path)
    before = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in paths}
    result = scan([tmp_path])
    for image in result.images:
        load_pixels(image)
    after = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in paths}
    assert before == after


def test_scan_of_nothing_is_empty() -> None:
    assert scan([]) == ScanResult()


# --- load_pixels ----------------------------------------------------------------------


def _record(path: Path) -> ImageRecord:
    (image,) = scan([path]).images
    return image


def test_load_pixels_returns_stored_values(tmp_path: Path) -> None:
    pixels = make_pixels(20, 30, seed=5)
    stored = load_pixels(_record(write_mg(tmp_path / "a.dcm", pixels=pixels)))
    assert stored.dtype == np.uint16
    np.testing.assert_array_equal(stored, pixels)


@pytest.mark.parametrize("syntax", [JPEG2000Lossless, JPEGLSLossless], ids=["j2k", "jpeg-ls"])
def test_load_pixels_decodes_lossless_compression(tmp_path: Path, syntax: UID) -> None:
    pixels = make_pixels(64, 48, seed=9)  # openjpeg needs >= 32 px for its 5 levels
    ds = make_mg_dataset(pixels=pixels)
    ds.compress(syntax)
    record = _record(write_dataset(ds, tmp_path / "compressed.dcm"))
    assert record.transfer_syntax_uid == syntax
    np.testing.assert_array_equal(load_pixels(record), pixels)


def test_load_pixels_takes_first_frame_of_multiframe(tmp_path: Path) -> None:
    frames = np.stack([make_pixels(8, 6, seed=1), make_pixels(8, 6, seed=2)])
    ds = make_mg_dataset(pixels=frames[0])
    ds.NumberOfFrames = 2
    ds.PixelData = frames.astype("<u2").tobytes()
    record = _record(write_dataset(ds, tmp_path / "multi.dcm"))
    assert record.number_of_frames == 2
    np.testing.assert_array_equal(load_pixels(record), frames[0])


def test_truncated_pixel_data_raises_clear_error(tmp_path: Path) -> None:
    record = _record(write_truncated(tmp_path / "cut.dcm"))
    with pytest.raises(PixelDataError) as caught:
        load_pixels(record)
    assert caught.value.path == record.path
    assert caught.value.message.startswith("the pixel data is truncated")


def test_missing_pixel_data_raises(tmp_path: Path) -> None:
    ds = make_mg_dataset()
    del ds.PixelData
    record = _record(write_dataset(ds, tmp_path / "nopix.dcm"))
    with pytest.raises(PixelDataError, match=r"no Pixel Data \(7FE0,0010\)"):
        load_pixels(record)


def test_unsupported_transfer_syntax_names_it(tmp_path: Path) -> None:
    ds = make_mg_dataset()
    ds.file_meta.TransferSyntaxUID = MPEG2MPML
    ds.PixelData = encapsulate([b"\x00" * 16])
    ds["PixelData"].VR = "OB"
    record = _record(write_dataset(ds, tmp_path / "mpeg.dcm"))
    with pytest.raises(PixelDataError) as caught:
        load_pixels(record)
    assert "MPEG2 Main Profile / Main Level" in caught.value.message
    assert "decoder" in caught.value.message


def test_missing_decoder_plugin_names_transfer_syntax(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pydicom.pixels.decoders.base import get_decoder

    decoder = get_decoder(JPEG2000Lossless)
    monkeypatch.setattr(type(decoder), "is_available", property(lambda self: False))
    ds = make_mg_dataset()
    ds.file_meta.TransferSyntaxUID = JPEG2000Lossless
    ds.PixelData = encapsulate([b"\x00" * 16])
    ds["PixelData"].VR = "OB"
    record = _record(write_dataset(ds, tmp_path / "j2k.dcm"))
    with pytest.raises(PixelDataError) as caught:
        load_pixels(record)
    assert caught.value.message.startswith(
        "no decoder installed for transfer syntax JPEG 2000 Image Compression (Lossless Only)"
    )


def test_damaged_compressed_pixel_data_raises(tmp_path: Path) -> None:
    ds = make_mg_dataset()
    ds.file_meta.TransferSyntaxUID = JPEG2000Lossless
    ds.PixelData = encapsulate([b"\x00" * 16])
    ds["PixelData"].VR = "OB"
    record = _record(write_dataset(ds, tmp_path / "bad_j2k.dcm"))
    with pytest.raises(PixelDataError, match="first fragment starts with 00 00 00 00"):
        load_pixels(record)


def test_colour_image_is_refused(tmp_path: Path) -> None:
    ds = make_mg_dataset()
    ds.PhotometricInterpretation = "RGB"
    record = _record(write_dataset(ds, tmp_path / "rgb.dcm"))
    with pytest.raises(PixelDataError, match="RGB is not supported"):
        load_pixels(record)


def test_file_removed_after_scan_raises(tmp_path: Path) -> None:
    record = _record(write_mg(tmp_path / "a.dcm"))
    record.path.unlink()
    with pytest.raises(PixelDataError, match="cannot read the file"):
        load_pixels(record)


# --- initial image --------------------------------------------------------------------


def test_initial_image_prefers_post_contrast_cc(tmp_path: Path) -> None:
    write_study(tmp_path)
    images = scan([tmp_path]).images
    index = initial_image_index(images)
    assert index is not None
    assert images[index].path.name == "cc.dcm"


def test_initial_image_falls_back_to_first(tmp_path: Path) -> None:
    image = _record(write_mg(tmp_path / "a.dcm", view="ML"))
    assert initial_image_index([replace(image, contrast_bolus_agent="")]) == 0
    assert initial_image_index([]) is None


# --- multi-frame ----------------------------------------------------------------------


def test_load_pixels_decodes_the_requested_frame(tmp_path: Path) -> None:
    frames = np.stack([make_pixels(8, 6, seed=seed) for seed in (1, 2, 3)])
    ds = make_mg_dataset(pixels=frames[0])
    ds.NumberOfFrames = 3
    ds.PixelData = frames.astype("<u2").tobytes()
    record = _record(write_dataset(ds, tmp_path / "multi.dcm"))
    assert record.frame_count == 3
    for index in range(3):
        np.testing.assert_array_equal(load_pixels(record, index), frames[index])
    np.testing.assert_array_equal(load_pixels(record, frame=None), frames[0])
    with pytest.raises(PixelDataError, match="frame 3 does not exist; the image has 3 frame"):
        load_pixels(record, 3)


def test_colour_image_is_decoded_as_rgb_on_request(tmp_path: Path) -> None:
    rgb = np.random.default_rng(1).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    ds = make_mg_dataset(pixels=rgb[..., 0].astype(np.uint16))
    ds.PhotometricInterpretation = "RGB"
    ds.SamplesPerPixel = 3
    ds.PlanarConfiguration = 0
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelData = rgb.tobytes()
    record = _record(write_dataset(ds, tmp_path / "rgb.dcm"))
    np.testing.assert_array_equal(load_pixels(record, colour=True), rgb)


# --- DICOMDIR -------------------------------------------------------------------------


def _write_fileset(folder: Path, count: int = 3) -> list[str]:
    """Write a File-set with a DICOMDIR (PS3.10 8, PS3.3 F.5); return the SOP Instance UIDs."""
    fileset = FileSet()
    uids = []
    for index in range(count):
        ds = make_mg_dataset(instance_number=index + 1, seed=index)
        ds.StudyTime = "101500"
        ds.StudyID = "1"
        fileset.add(ds)
        uids.append(str(ds.SOPInstanceUID))
    fileset.write(folder)
    return uids


def test_scan_follows_a_dicomdir(tmp_path: Path) -> None:
    uids = _write_fileset(tmp_path / "cd")
    result = scan([tmp_path / "cd" / "DICOMDIR"])
    assert result.problems == ()
    assert [image.sop_instance_uid for image in result.images] == uids
    assert all(image.path.parent.name == "SE000000" for image in result.images)
    assert load_pixels(result.images[0]).shape == (64, 48)


def test_dicomdir_in_a_scanned_folder_adds_nothing_twice(tmp_path: Path) -> None:
    _write_fileset(tmp_path)
    result = scan([tmp_path])
    assert len(result.images) == 3
    assert result.problems == ()


def test_dicomdir_reports_missing_referenced_files(tmp_path: Path) -> None:
    _write_fileset(tmp_path)
    series = tmp_path / "PT000000" / "ST000000" / "SE000000"
    (series / "IM000001").unlink()
    (series / "IM000002").rename(series / "im000002")  # copied in lower case: still found
    dicomdir = tmp_path / "DICOMDIR"
    result = scan([dicomdir])
    assert [image.path.name for image in result.images] == ["IM000000", "im000002"]
    assert _problem_for(result, dicomdir).message == (
        "referenced file PT000000\\ST000000\\SE000000\\IM000001 does not exist; skipped"
    )


def test_pydicom_bundled_dicomdir() -> None:
    path = get_testdata_file("DICOMDIR", download=False)
    assert isinstance(path, str)
    result = scan([Path(path)])
    assert result.problems == ()
    assert len(result.images) == 31


# --- zip archives ---------------------------------------------------------------------


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_scan_reads_zip_members_and_decodes_them_later(tmp_path: Path) -> None:
    pixels = make_pixels(16, 12, seed=8)
    image = write_mg(tmp_path / "src" / "a.dcm", pixels=pixels, view="ML").read_bytes()
    other = write_mg(tmp_path / "src" / "b.dcm", instance_number=2).read_bytes()
    archive = _zip(
        tmp_path / "study.zip",
        {
            "study/IM1": image,
            "study/b.dcm": other,
            "study/readme.txt": b"hello",
            "study/thumbs.db": b"\x00" * 300,
            "__MACOSX/._IM1": b"\x00" * 300,
            "study/.hidden.dcm": b"nope",
            "study/broken.dcm": b"not dicom",
        },
    )
    result = scan([archive])
    assert [(i.path, i.archive_member) for i in result.images] == [
        (archive, "study/IM1"),
        (archive, "study/b.dcm"),
    ]
    (problem,) = result.problems
    assert (problem.path, problem.archive_member) == (archive, "study/broken.dcm")
    assert str(problem) == (
        f"{archive} [study/broken.dcm]: not a DICOM file (no 'DICM' prefix after the preamble)"
    )
    first = result.images[0]
    np.testing.assert_array_equal(load_pixels(first), pixels)
    assert read_header(first).SOPInstanceUID == first.sop_instance_uid


def test_zip_in_a_folder_is_scanned(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "export.zip", {"IM1": write_mg(tmp_path / "a.dcm").read_bytes()})
    loose = write_mg(tmp_path / "b.dcm", instance_number=2)
    result = scan([archive, tmp_path])  # the archive named twice is read once
    assert [(image.path, image.archive_member) for image in result.images] == [
        (archive, "IM1"),
        (loose, None),
    ]
    # a.dcm, the file zipped, has the SOP Instance UID of the member read first
    (problem,) = result.problems
    assert problem.message == f"same SOP Instance UID as {archive} [IM1]; duplicate skipped"


def test_damaged_zip_is_reported(tmp_path: Path) -> None:
    archive = write_garbage(tmp_path / "cut.zip", b"PK\x03\x04" + b"\x00" * 200)
    result = scan([archive])
    assert _problem_for(result, archive).message.startswith("damaged zip archive")


def test_zip_member_removed_after_scan_raises(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "a.zip", {"IM1": write_mg(tmp_path / "a.dcm").read_bytes()})
    (record,) = scan([archive]).images
    _zip(archive, {"other": b""})
    with pytest.raises(PixelDataError, match="cannot read the file"):
        load_pixels(record)


def test_unreadable_file_is_reported_and_scan_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = write_mg(tmp_path / "a_locked.dcm")
    good = write_mg(tmp_path / "b_good.dcm")
    real_open = Path.open

    def fake_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", fake_open)
    result = scan([tmp_path])
    assert _names(result) == [good.name]
    assert _problem_for(result, locked).message == "cannot read the file: Permission denied"
