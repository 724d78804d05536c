"""A compressed image larger than the header-deferral size renders and decodes (regression).

pydicom defers values above ``defer_size``; the check that refuses huge *header* values
once took the deferred, undefined-length (PS3.5 A.4) Pixel Data of a real-size JPEG 2000
mammogram for a 4 GiB header element, so ``render``, thumbnails and the fast decode path
refused every image whose compressed pixel data exceeded 4 MiB. The sample images are
smaller, so this builds one that is not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import JPEG2000Lossless

from galactoview import cli
from galactoview.dicom import loading
from galactoview.dicom.loading import load_pixels, read_image_dataset, scan
from tests.helpers import make_mg_dataset, write_dataset


@pytest.fixture(scope="module")
def large_j2k(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    """A JPEG 2000 lossless MG image whose compressed Pixel Data exceeds the deferral size."""
    pixels = np.random.default_rng(7).integers(0, 4096, (1536, 2048), dtype=np.uint16)
    dataset = make_mg_dataset(rows=1536, columns=2048, pixels=pixels)
    try:
        dataset.compress(JPEG2000Lossless)
    except (RuntimeError, NotImplementedError) as error:  # no JPEG 2000 encoder installed
        pytest.skip(f"cannot encode JPEG 2000 here: {error}")
    path = write_dataset(dataset, tmp_path_factory.mktemp("large") / "large.dcm")
    assert path.stat().st_size > loading._DEFER_SIZE
    return path, pixels


def test_the_whole_dataset_is_read_with_its_pixel_data(large_j2k: tuple[Path, np.ndarray]) -> None:
    path, _ = large_j2k
    dataset = read_image_dataset(path)
    assert dataset.file_meta.TransferSyntaxUID == JPEG2000Lossless
    assert len(dataset.PixelData) > loading._DEFER_SIZE


def test_it_decodes_to_its_pixels(large_j2k: tuple[Path, np.ndarray]) -> None:
    path, pixels = large_j2k
    (record,) = scan([path]).images
    assert np.array_equal(load_pixels(record), pixels)


def test_render_writes_it(
    large_j2k: tuple[Path, np.ndarray], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = large_j2k
    out = tmp_path / "large.png"
    assert cli.main(["render", str(path), str(out), "--max-size", "256"]) == 0
    assert capsys.readouterr().err == ""
    assert out.read_bytes().startswith(b"\x89PNG")
