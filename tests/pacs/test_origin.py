"""The node a cached study came from is remembered beside its folder, never inside it."""

from __future__ import annotations

from pathlib import Path

from galactoview.pacs.cache import RetrieveCache
from galactoview.pacs.origin import (
    ORIGIN_SUFFIX,
    StudyOrigin,
    cached_study,
    recall_origin,
    remember_origin,
)

STUDY = "1.2.826.0.1.3680043.8.498.1"
REVISION = "1.2.826.0.1.3680043.8.498.2"


def test_the_origin_is_written_beside_the_study_folder_and_read_back(tmp_path: Path) -> None:
    root = tmp_path / "pacs"
    assert recall_origin(root, STUDY) is None
    origin = StudyOrigin("Orthanc", "http://127.0.0.1:8042/dicom-web", REVISION)
    remember_origin(root, STUDY, origin)
    assert recall_origin(root, STUDY) == origin
    assert sorted(p.name for p in root.iterdir()) == [STUDY + ORIGIN_SUFFIX]
    # The cache lists study folders only: the origin file is not a study.
    (root / STUDY).mkdir()
    (root / STUDY / f"{REVISION}.dcm").write_bytes(b"x" * 10)
    assert [s.study_instance_uid for s in RetrieveCache(root, 10**9).studies()] == [STUDY]
    remember_origin(root, STUDY, StudyOrigin("Other", "OTHER@host:104"))
    assert recall_origin(root, STUDY) == StudyOrigin("Other", "OTHER@host:104", "")


def test_a_bad_origin_file_is_no_origin(tmp_path: Path) -> None:
    root = tmp_path / "pacs"
    root.mkdir()
    path = root / (STUDY + ORIGIN_SUFFIX)
    for text in ("not json", "[1, 2]", '{"node": 3}'):
        path.write_text(text, encoding="utf-8")
        assert recall_origin(root, STUDY) is None
    path.write_text('{"node": "A", "address": "B", "revision": "../x"}', encoding="utf-8")
    assert recall_origin(root, STUDY) == StudyOrigin("A", "B", "")
    assert recall_origin(root, "../../etc") is None


def test_a_study_is_cached_when_its_images_lie_in_its_cache_folder(tmp_path: Path) -> None:
    root = tmp_path / "pacs"
    image = root / STUDY / "1.2.3.dcm"
    assert cached_study(root, STUDY, [image])
    assert not cached_study(root, STUDY, [image, tmp_path / "elsewhere" / "1.2.4.dcm"])
    assert not cached_study(root, "1.2.3", [image])  # another study's folder
    assert not cached_study(root, STUDY, [])
    assert not cached_study(root, "not a uid", [image])
