"""Bad input files for the loader tests, made in code (seeded, no patient data).

Each ``write_*`` function writes one kind of broken or unusual file and returns its
path; the good files they start from come from :mod:`tests.helpers`.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataelem import RawDataElement
from pydicom.encaps import encapsulate
from pydicom.tag import Tag
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEG2000Lossless

from tests.helpers import make_mg_dataset, write_dataset, write_garbage

#: Transfer Syntax UID values as stored: padded with NUL to an even length (PS3.5 6.2).
_IMPLICIT_UID = ImplicitVRLittleEndian.encode() + b"\x00"
_EXPLICIT_UID = ExplicitVRLittleEndian.encode() + b"\x00"


def write_empty(path: Path) -> Path:
    """Write a file of 0 bytes."""
    return write_garbage(path, b"")


def write_random_bytes(path: Path, size: int = 4096, seed: int = 0) -> Path:
    """Write ``size`` seeded random bytes (never a 'DICM' prefix at offset 128)."""
    data = bytearray(np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes())
    if data[128:132] == b"DICM":  # pragma: no cover - practically impossible
        data[128] = 0
    if bytes(data[:2]) in (b"\x02\x00", b"\x08\x00", b"\x00\x08"):
        data[0] = 0xFF  # nor the start of a dataset without preamble
    return write_garbage(path, bytes(data))


def write_text(path: Path) -> Path:
    """Write a plain text file (a radiologist's note)."""
    return write_garbage(path, b"Galactography: contrast filled the duct.\n" * 10)


def write_cut(path: Path, size: int, **options: Any) -> Path:
    """Write a synthetic MG file cut after its first ``size`` bytes."""
    write_dataset(make_mg_dataset(**options), path)
    data = path.read_bytes()
    path.write_bytes(data[:size])
    return path


def write_cut_in_meta(path: Path) -> Path:
    """Write an MG file cut inside its File Meta Information (after 'DICM')."""
    return write_cut(path, 150)


def write_cut_in_header(path: Path) -> Path:
    """Write an MG file cut in the middle of a data element of its dataset."""
    write_dataset(make_mg_dataset(), path)
    data = path.read_bytes()
    # Cut inside the value of Patient's Name (0010,0010), after its length field.
    start = data.index(b"Phantom^Jane")
    path.write_bytes(data[: start + 4])
    return path


def write_cut_in_pixels(path: Path, **options: Any) -> Path:
    """Write an MG file whose file ends half way through Pixel Data.

    Unlike :func:`tests.helpers.write_truncated`, the Pixel Data length field still
    claims the full size: the file was cut (e.g. an interrupted copy).
    """
    write_dataset(make_mg_dataset(**options), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 1000])
    return path


def write_without_meta(path: Path, **options: Any) -> Path:
    """Write an MG dataset without preamble and File Meta Information (Implicit VR LE).

    Not conformant to PS3.10 7.1, but written by old software; pydicom reads it
    with ``force=True``.
    """
    ds = make_mg_dataset(**options)
    del ds.file_meta
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, implicit_vr=True, little_endian=True)
    return path


def write_bad_window(path: Path) -> Path:
    """Write an MG file whose Window Center (0028,1050) and Width are not numbers."""
    ds = make_mg_dataset(windows=())
    for tag, value in ((0x00281050, b"abc "), (0x00281051, b"-5\\x ")):
        ds[tag] = RawDataElement(Tag(tag), "DS", len(value), value, 0, False, True)
    return write_dataset(ds, path)


def write_bits_allocated(path: Path, bits_allocated: int) -> Path:
    """Write an MG file claiming an unusual Bits Allocated (0028,0100)."""
    ds = make_mg_dataset()
    ds.BitsAllocated = bits_allocated
    ds.BitsStored = min(int(ds.BitsStored), bits_allocated)
    ds.HighBit = ds.BitsStored - 1
    return write_dataset(ds, path)


def write_compressed_syntax_uncompressed_data(path: Path) -> Path:
    """Write a file whose meta says JPEG 2000 but whose Pixel Data is native."""
    write_dataset(make_mg_dataset(), path)
    data = path.read_bytes()
    path.write_bytes(_patch_syntax(data, _EXPLICIT_UID, JPEG2000Lossless.encode()))
    return path


def write_native_syntax_encapsulated_data(path: Path) -> Path:
    """Write a file whose meta says Explicit VR Little Endian but whose data is encapsulated."""
    ds = make_mg_dataset()
    ds.file_meta.TransferSyntaxUID = JPEG2000Lossless
    ds.PixelData = encapsulate([b"\xff\x4f\xff\x51" + b"\x00" * 12])
    ds["PixelData"].VR = "OB"
    write_dataset(ds, path)
    data = path.read_bytes()
    path.write_bytes(_patch_syntax(data, JPEG2000Lossless.encode(), _EXPLICIT_UID))
    return path


def write_explicit_meta_implicit_data(path: Path, **options: Any) -> Path:
    """Write a file whose meta says Explicit VR Little Endian but whose dataset is implicit."""
    ds = make_mg_dataset(**options)
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    write_dataset(ds, path)
    data = path.read_bytes()
    path.write_bytes(_patch_syntax(data, _IMPLICIT_UID, _EXPLICIT_UID))
    return path


def write_huge_claim(path: Path, rows: int = 65535, columns: int = 65535, frames: int = 1) -> Path:
    """Write an MG file whose header claims a huge image while holding a few bytes."""
    ds = make_mg_dataset(rows=8, columns=8)
    ds.Rows, ds.Columns = rows, columns
    if frames > 1:
        ds.NumberOfFrames = frames
    return write_dataset(ds, path)


def _patch_syntax(data: bytes, old: bytes, new: bytes) -> bytes:
    """Replace the Transfer Syntax UID value in the file meta, fixing the lengths."""
    old_element = b"\x02\x00\x10\x00UI" + struct.pack("<H", len(old)) + old
    new_element = b"\x02\x00\x10\x00UI" + struct.pack("<H", len(new)) + new
    assert old_element in data
    patched = data.replace(old_element, new_element, 1)
    return _fix_group_length(patched, len(patched) - len(data))


def _fix_group_length(data: bytes, delta: int) -> bytes:
    """Add ``delta`` to File Meta Information Group Length (0002,0000) (PS3.10 7.1)."""
    marker = b"\x02\x00\x00\x00UL\x04\x00"
    at = data.index(marker, 128) + len(marker)
    (length,) = struct.unpack("<I", data[at : at + 4])
    return data[:at] + struct.pack("<I", length + delta) + data[at + 4 :]
