"""Tests for galactoview.dicom.mammography: laterality, view codes, modifiers."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.sr.coding import Code

from galactoview.dicom.mammography import (
    VIEW_CODES,
    VIEW_MODIFIER_CODES,
    Laterality,
    MammoView,
)
from tests.helpers import code_item, make_mg_dataset


@pytest.mark.parametrize(
    ("view", "label"),
    [("CC", "L CC"), ("MLO", "L MLO"), ("ML", "L ML"), ("LM", "L LM"), ("XCCL", "L XCCL")],
)
def test_view_code_sequence_gives_label(view: str, label: str) -> None:
    ds = make_mg_dataset(laterality="L", view=view)
    parsed = MammoView.from_dataset(ds)
    assert parsed.label == label
    assert parsed.short_name == view
    assert parsed.source == "View Code Sequence"


@pytest.mark.parametrize(
    ("view", "sct"),
    [("CC", "399162004"), ("MLO", "399368009"), ("ML", "399260004"), ("LM", "399352003")],
)
def test_legacy_srt_codes_map_to_snomed_ct(view: str, sct: str) -> None:
    ds = make_mg_dataset(laterality="R", view=view, legacy_codes=True)
    parsed = MammoView.from_dataset(ds)
    assert parsed.label == f"R {view}"
    assert parsed.view_code == sct


def test_magnification_modifier_in_label() -> None:
    ds = make_mg_dataset(laterality="L", view="CC", modifiers=("MAG",))
    parsed = MammoView.from_dataset(ds)
    assert parsed.label == "L CC MAG"
    assert parsed.modifiers == ("MAG",)
    assert parsed.is_magnified


def test_legacy_spot_and_magnification_modifiers() -> None:
    ds = make_mg_dataset(laterality="R", view="ML", modifiers=("SPOT", "MAG"), legacy_codes=True)
    assert MammoView.from_dataset(ds).label == "R ML SPOT MAG"


def test_top_level_view_modifier_sequence_is_accepted() -> None:
    ds = make_mg_dataset(laterality="L", view="CC")
    ds.ViewModifierCodeSequence = DicomSequence([code_item("399055006", "SCT", "Spot")])
    assert MammoView.from_dataset(ds).label == "L CC SPOT"


def test_falls_back_to_view_position() -> None:
    ds = make_mg_dataset(laterality="L", view=None, view_position="MLO ")
    parsed = MammoView.from_dataset(ds)
    assert parsed.label == "L MLO"
    assert parsed.view_code == "399368009"
    assert parsed.source == "View Position"


def test_view_code_sequence_wins_over_view_position() -> None:
    ds = make_mg_dataset(laterality="L", view="ML", view_position="CC")
    assert MammoView.from_dataset(ds).short_name == "ML"


def test_unknown_view_code_falls_back_to_view_position() -> None:
    ds = make_mg_dataset(laterality="L", view=None, view_position="CC")
    ds.ViewCodeSequence = DicomSequence([code_item("123456", "99LOCAL", "odd view")])
    assert MammoView.from_dataset(ds).label == "L CC"


def test_laterality_falls_back_to_series_laterality() -> None:
    ds = make_mg_dataset(laterality=None, series_laterality="R", view="CC")
    assert MammoView.from_dataset(ds).laterality is Laterality.RIGHT


def test_image_laterality_wins_over_series_laterality() -> None:
    ds = make_mg_dataset(laterality="L", series_laterality="R", view="CC")
    assert MammoView.from_dataset(ds).laterality is Laterality.LEFT


def test_nothing_known_gives_empty_label() -> None:
    parsed = MammoView.from_dataset(Dataset())
    assert parsed == MammoView()
    assert parsed.label == ""


def test_dx_view_position_is_not_a_mammography_view() -> None:
    ds = Dataset()
    ds.ViewPosition = "AP"
    ds.ImageLaterality = "B"
    assert MammoView.from_dataset(ds).label == "B"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("L", Laterality.LEFT),
        ("r ", Laterality.RIGHT),
        ("B", Laterality.BOTH),
        ("", Laterality.UNKNOWN),
        (None, Laterality.UNKNOWN),
        ("X", Laterality.UNKNOWN),
    ],
)
def test_laterality_from_dicom(raw: object, expected: Laterality) -> None:
    assert Laterality.from_dicom(raw) is expected


def test_code_tables_agree_with_pydicom_snomed_mapping() -> None:
    # pydicom's Code equality maps legacy SRT codes to SNOMED CT (PS3.16 Annex O).
    for table in (VIEW_CODES, VIEW_MODIFIER_CODES):
        for code in set(table.values()):
            assert Code(code.legacy_value, "SRT", code.meaning) == Code(
                code.value, "SCT", code.meaning
            ), code


def test_code_tables_cover_cid_4014_and_4015() -> None:
    from pydicom.sr.codedict import codes

    cid4014 = {code.value for code in codes.cid4014.concepts.values()}
    cid4015 = {code.value for code in codes.cid4015.concepts.values()}
    assert {code.value for code in VIEW_CODES.values()} == cid4014
    assert {code.value for code in VIEW_MODIFIER_CODES.values()} == cid4015
