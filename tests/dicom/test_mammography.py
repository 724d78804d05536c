"""Tests for galactoview.dicom.mammography: views, orientation, hanging flips, contrast phase."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.sr.coding import Code

from galactoview.dicom.mammography import (
    VIEW_CODES,
    VIEW_MODIFIER_CODES,
    ContrastPhase,
    Flip,
    Laterality,
    MammoView,
    PatientOrientation,
    contrast_phase,
    hanging_flip,
    hanging_target,
)
from galactoview.phantom.dicom_writer import code_item
from tests.helpers import make_mg_dataset


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


# ------------------------------------------------------------------ orientation

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "dicom"


VIEW_CODES_BY_NAME = {code.short_name: code.value for code in VIEW_CODES.values()}


def view(laterality: str, short_name: str) -> MammoView:
    return MammoView(Laterality(laterality), VIEW_CODES_BY_NAME[short_name], short_name)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["A", "R"], PatientOrientation("A", "R")),
        (["a ", " fr"], PatientOrientation("A", "FR")),
        ("P\\FL", PatientOrientation("P", "FL")),
        (b"A\\F", PatientOrientation("A", "F")),
        (None, None),
        ("", None),
        (["A"], None),
        (["A", "R", "F"], None),
        (["A", "X"], None),
        (["A", ""], None),
        (["A", "FH"], None),
        (42, None),
    ],
)
def test_patient_orientation_from_dicom(raw: object, expected: PatientOrientation | None) -> None:
    assert PatientOrientation.from_dicom(raw) == expected


def test_patient_orientation_from_dataset_and_str() -> None:
    ds = Dataset()
    ds.PatientOrientation = ["P", "FL"]
    orientation = PatientOrientation.from_dataset(ds)
    assert orientation == PatientOrientation("P", "FL")
    assert str(orientation) == "P\\FL"
    assert PatientOrientation.from_dataset(Dataset()) is None


def test_invalid_patient_orientation_cannot_be_built() -> None:
    with pytest.raises(ValueError):
        PatientOrientation("A", "Q")
    with pytest.raises(ValueError):
        PatientOrientation("AP", "F")


@pytest.mark.parametrize(
    ("laterality", "short_name", "target"),
    [
        ("L", "CC", ("A", "R")),
        ("R", "CC", ("P", "L")),
        ("L", "XCCL", ("A", "R")),
        ("L", "MLO", ("A", "F")),
        ("R", "MLO", ("P", "F")),
        ("L", "ML", ("A", "F")),
        ("R", "LM", ("P", "F")),
    ],
)
def test_hanging_target(laterality: str, short_name: str, target: tuple[str, str]) -> None:
    assert hanging_target(view(laterality, short_name)) == PatientOrientation(*target)


def test_no_hanging_target_without_laterality_or_known_view() -> None:
    assert hanging_target(MammoView(Laterality.UNKNOWN, "399162004", "CC")) is None
    assert hanging_target(MammoView(Laterality.BOTH, "399162004", "CC")) is None
    assert hanging_target(view("L", "SPECIMEN")) is None
    assert hanging_target(MammoView(Laterality.LEFT)) is None


@pytest.mark.parametrize(
    ("laterality", "short_name", "stored", "horizontal", "vertical"),
    [
        # Conventional orientations (IHE Mammography Image): no flip.
        ("L", "CC", ("A", "R"), False, False),
        ("R", "CC", ("P", "L"), False, False),
        ("L", "MLO", ("A", "FR"), False, False),
        ("R", "MLO", ("P", "FL"), False, False),
        ("L", "MLO", ("A", "F"), False, False),
        ("L", "ML", ("A", "F"), False, False),
        ("R", "LM", ("P", "F"), False, False),
        # Mirrored left-right.
        ("R", "CC", ("A", "L"), True, False),
        ("L", "CC", ("P", "R"), True, False),
        ("L", "MLO", ("P", "FR"), True, False),
        # Upside down.
        ("L", "CC", ("A", "L"), False, True),
        ("R", "MLO", ("P", "HL"), False, True),
        ("L", "ML", ("A", "H"), False, True),
        # Both (rotated 180 degrees).
        ("R", "CC", ("A", "R"), True, True),
        ("L", "MLO", ("P", "HL"), True, True),
    ],
)
def test_hanging_flip(
    laterality: str,
    short_name: str,
    stored: tuple[str, str],
    horizontal: bool,
    vertical: bool,
) -> None:
    flip = hanging_flip(view(laterality, short_name), PatientOrientation(*stored))
    assert (flip.horizontal, flip.vertical) == (horizontal, vertical)
    assert flip.reason


def test_hanging_flip_without_orientation_says_why() -> None:
    flip = hanging_flip(view("L", "CC"), None)
    assert flip == Flip(False, False, flip.reason)
    assert "Patient Orientation" in flip.reason


def test_hanging_flip_without_laterality_says_why() -> None:
    flip = hanging_flip(
        MammoView(Laterality.UNKNOWN, "399162004", "CC"), PatientOrientation("A", "R")
    )
    assert (flip.horizontal, flip.vertical) == (False, False)
    assert "no hanging convention" in flip.reason


def test_rotated_image_is_not_flipped() -> None:
    flip = hanging_flip(view("L", "CC"), PatientOrientation("R", "P"))
    assert (flip.horizontal, flip.vertical) == (False, False)
    assert "rotated" in flip.reason


def test_column_direction_off_axis_leaves_vertical_alone() -> None:
    flip = hanging_flip(view("R", "CC"), PatientOrientation("A", "F"))
    assert (flip.horizontal, flip.vertical) == (True, False)
    assert "vertical sense unknown" in flip.reason


def test_sample_prior_rcc_is_stored_mirrored_and_flipped() -> None:
    ds = pydicom.dcmread(
        SAMPLE / "20240220_SCREENING_PRIOR" / "06_RCC.dcm", stop_before_pixels=True
    )
    orientation = PatientOrientation.from_dataset(ds)
    assert orientation == PatientOrientation("A", "L")
    flip = hanging_flip(MammoView.from_dataset(ds), orientation)
    assert flip.horizontal is True
    assert flip.vertical is False
    assert flip.reason == "R CC stored A\\L, hung as P\\L: flip horizontally"


def test_other_sample_images_need_no_flip() -> None:
    files = sorted(SAMPLE.glob("*/*.dcm"))
    assert len(files) == 9
    for path in files:
        if path.name == "06_RCC.dcm":
            continue
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        flip = hanging_flip(MammoView.from_dataset(ds), PatientOrientation.from_dataset(ds))
        assert (flip.horizontal, flip.vertical) == (False, False), path


# ---------------------------------------------------------------- contrast phase


@pytest.mark.parametrize(
    ("name", "phase"),
    [
        ("20260312_DUCTOGRAM_L/01_LCC_PRE.dcm", ContrastPhase.PRE),
        ("20260312_DUCTOGRAM_L/02_LML_PRE.dcm", ContrastPhase.PRE),
        ("20260312_DUCTOGRAM_L/03_LCC_POST.dcm", ContrastPhase.POST),
        ("20260312_DUCTOGRAM_L/04_LML_POST.dcm", ContrastPhase.POST),
        ("20260312_DUCTOGRAM_L/05_LCC_MAG_POST.dcm", ContrastPhase.POST),
        # A screening mammogram has no contrast phase.
        ("20240220_SCREENING_PRIOR/06_RCC.dcm", ContrastPhase.UNKNOWN),
        ("20240220_SCREENING_PRIOR/07_LCC.dcm", ContrastPhase.UNKNOWN),
        ("20240220_SCREENING_PRIOR/08_RMLO.dcm", ContrastPhase.UNKNOWN),
        ("20240220_SCREENING_PRIOR/09_LMLO.dcm", ContrastPhase.UNKNOWN),
    ],
)
def test_contrast_phase_of_sample_files(name: str, phase: ContrastPhase) -> None:
    ds = pydicom.dcmread(SAMPLE / name, stop_before_pixels=True)
    assert contrast_phase(ds) is phase


@pytest.mark.parametrize(
    ("description", "phase"),
    [
        ("L PRE-CONTRAST", ContrastPhase.PRE),
        ("pre contrast", ContrastPhase.PRE),
        ("precontrast", ContrastPhase.PRE),
        ("L CC scout", ContrastPhase.PRE),
        ("non-contrast", ContrastPhase.PRE),
        ("W/O CONTRAST", ContrastPhase.PRE),
        ("L POST-CONTRAST MAGNIFICATION", ContrastPhase.POST),
        ("post injection", ContrastPhase.POST),
        ("L CC contrast", ContrastPhase.POST),
        ("with contrast", ContrastPhase.POST),
        ("pre and post", ContrastPhase.UNKNOWN),
        ("previous study", ContrastPhase.UNKNOWN),
        ("Galactogram", ContrastPhase.UNKNOWN),
        ("", ContrastPhase.UNKNOWN),
    ],
)
def test_contrast_phase_from_series_description(description: str, phase: ContrastPhase) -> None:
    ds = Dataset()
    ds.SeriesDescription = description
    assert contrast_phase(ds) is phase


def test_pre_description_wins_over_contrast_agent() -> None:
    # Worklists often copy the agent onto every image of the study.
    ds = make_mg_dataset(series_description="scout", contrast=True)
    assert contrast_phase(ds) is ContrastPhase.PRE


def test_contrast_agent_alone_means_post() -> None:
    ds = make_mg_dataset(series_description="L CC", contrast=True)
    assert contrast_phase(ds) is ContrastPhase.POST


def test_contrast_agent_sequence_alone_means_post() -> None:
    ds = Dataset()
    ds.ContrastBolusAgentSequence = DicomSequence([code_item("109218004", "SCT", "Iohexol")])
    assert contrast_phase(ds) is ContrastPhase.POST


def test_image_comments_are_read_when_series_description_is_silent() -> None:
    ds = Dataset()
    ds.SeriesDescription = "L CC"
    ds.ImageComments = "scout before injection"
    assert contrast_phase(ds) is ContrastPhase.PRE


def test_nothing_known_gives_unknown_phase() -> None:
    assert contrast_phase(Dataset()) is ContrastPhase.UNKNOWN
    assert contrast_phase(make_mg_dataset(series_description="L CC", contrast=False)) is (
        ContrastPhase.UNKNOWN
    )
