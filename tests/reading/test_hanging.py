"""Tests for galactoview.reading.hanging: galactography, mammography and manual hangings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from galactoview.dicom.loading import ImageRecord, scan
from galactoview.dicom.mammography import (
    ContrastPhase,
    Flip,
    Laterality,
    MammoView,
    PatientOrientation,
)
from galactoview.reading.hanging import (
    Anchor,
    Cell,
    EdgeLetters,
    GalactographyStage,
    Hanging,
    ProtocolKind,
    choose_hanging,
    edge_letters,
    galactography_hanging,
    galactography_stages,
    galactography_study,
    mammography_hanging,
    mammography_studies,
    manual_hanging,
    parse_series_description,
    placement,
    prior_study,
    resolved_view,
)
from tests.colour_images import write_colour_key_image
from tests.helpers import write_mg


def labels(images: tuple[ImageRecord, ...], hanging: Hanging) -> list[str | None]:
    """Return 'label phase' of each cell's image, None for empty cells."""
    out: list[str | None] = []
    for cell in hanging.cells:
        if cell.image is None:
            out.append(None)
        else:
            record = images[cell.image]
            out.append(f"{record.view.label} {record.contrast_phase.value} {record.study_date}")
    return out


# ------------------------------------------------------------------ sample study


def test_sample_default_is_galactography_post(sample_records: tuple[ImageRecord, ...]) -> None:
    hanging = choose_hanging(sample_records)
    assert hanging.kind is ProtocolKind.GALACTOGRAPHY
    assert hanging.stage is GalactographyStage.POST
    assert (hanging.rows, hanging.columns) == (1, 2)
    assert labels(sample_records, hanging) == ["L CC post 20260312", "L ML post 20260312"]
    assert [cell.expected for cell in hanging.cells] == ["L CC post", "L ML post"]
    for cell in hanging.cells:
        assert (cell.flip.horizontal, cell.flip.vertical) == (False, False)
        assert cell.anchor is Anchor.LEFT
        assert cell.pair == 0
    assert hanging.study_instance_uid == galactography_study(sample_records)
    assert sample_records[hanging.cells[0].image or 0].study_date == "20260312"
    assert hanging.notes == ()
    assert hanging.name == "Galactography L: post-contrast CC | ML"


def test_sample_offers_all_stages(sample_records: tuple[ImageRecord, ...]) -> None:
    assert galactography_stages(sample_records) == tuple(GalactographyStage)


def stage_hanging(images: tuple[ImageRecord, ...], stage: GalactographyStage) -> Hanging:
    """Return the hanging of an offered galactography stage."""
    hanging = galactography_hanging(images, stage)
    assert hanging is not None
    return hanging


_POST = ["L CC post 20260312", "L ML post 20260312"]
_PRE = ["L CC pre 20260312", "L ML pre 20260312"]


@pytest.mark.parametrize(
    ("stage", "shape", "expected", "pairs"),
    [
        (GalactographyStage.COMPARE_PRE, (2, 2), _POST + _PRE, [0, 0, 0, 0]),
        (GalactographyStage.PRE, (1, 2), _PRE, [0, 0]),
        (
            GalactographyStage.MAGNIFICATION,
            (1, 2),
            ["L CC post 20260312", "L CC MAG post 20260312"],
            [None, None],
        ),
        (
            GalactographyStage.COMPARE_PRIOR,
            (2, 2),
            [*_POST, "L CC unknown 20240220", "L MLO unknown 20240220"],
            [0, 0, 0, 0],
        ),
    ],
)
def test_sample_stage_layout(
    sample_records: tuple[ImageRecord, ...],
    stage: GalactographyStage,
    shape: tuple[int, int],
    expected: list[str],
    pairs: list[int | None],
) -> None:
    hanging = stage_hanging(sample_records, stage)
    assert (hanging.rows, hanging.columns) == shape
    assert labels(sample_records, hanging) == expected
    assert [cell.pair for cell in hanging.cells] == pairs


def test_sample_compare_pre_hangs_at_the_chest_wall(
    sample_records: tuple[ImageRecord, ...],
) -> None:
    hanging = stage_hanging(sample_records, GalactographyStage.COMPARE_PRE)
    assert all(cell.anchor is Anchor.LEFT for cell in hanging.cells)


def test_sample_magnification_expects_the_mag_view(sample_records: tuple[ImageRecord, ...]) -> None:
    hanging = stage_hanging(sample_records, GalactographyStage.MAGNIFICATION)
    assert hanging.cells[1].expected == "L CC MAG"


def test_sample_compare_prior(sample_records: tuple[ImageRecord, ...]) -> None:
    hanging = stage_hanging(sample_records, GalactographyStage.COMPARE_PRIOR)
    assert "2024-02-20" in hanging.name
    prior = prior_study(sample_records)
    assert prior is not None
    assert {sample_records[i].study_instance_uid for i in hanging.image_indices()[2:]} == {prior}
    # the right-breast priors are not hung, and the notes say so, by the number the
    # study browser shows (the Instance Number), not their place in a list from 0
    (note,) = [n for n in hanging.notes if "(R CC" in n and "not hung" in n]
    (r_cc,) = [
        r for r in sample_records if r.study_instance_uid == prior and r.view.label == "R CC"
    ]
    assert note.startswith(f"image #{r_cc.instance_number} (R CC")


def test_sample_prior_mammography_4up(sample_records: tuple[ImageRecord, ...]) -> None:
    prior = prior_study(sample_records)
    assert prior is not None
    assert mammography_studies(sample_records) == (galactography_study(sample_records), prior)
    hanging = mammography_hanging(sample_records, prior)
    assert hanging is not None
    assert hanging.kind is ProtocolKind.MAMMOGRAPHY
    assert labels(sample_records, hanging) == [
        "R CC unknown 20240220",
        "L CC unknown 20240220",
        "R MLO unknown 20240220",
        "L MLO unknown 20240220",
    ]
    rcc, lcc, rmlo, lmlo = hanging.cells
    assert (rcc.flip.horizontal, rcc.flip.vertical) == (True, False)  # stored A\L
    assert not lcc.flip.horizontal and not rmlo.flip.horizontal and not lmlo.flip.horizontal
    assert [cell.anchor for cell in hanging.cells] == [
        Anchor.RIGHT,
        Anchor.LEFT,
        Anchor.RIGHT,
        Anchor.LEFT,
    ]
    assert [cell.pair for cell in hanging.cells] == [0, 0, 1, 1]
    assert hanging.notes == ()


def test_sample_edge_letters(sample_records: tuple[ImageRecord, ...]) -> None:
    prior = prior_study(sample_records)
    assert prior is not None
    hanging = mammography_hanging(sample_records, prior)
    assert hanging is not None
    rcc, lcc, rmlo, lmlo = hanging.cells

    def letters(cell: Cell) -> EdgeLetters | None:
        assert cell.image is not None
        return edge_letters(sample_records[cell.image].patient_orientation, cell.flip)

    # RCC stored A\L, flipped horizontally: chest wall (P) on the right, nipple (A) left
    assert letters(rcc) == EdgeLetters(left="A", right="P", top="R", bottom="L")
    # LCC stored A\R, no flip
    assert letters(lcc) == EdgeLetters(left="P", right="A", top="L", bottom="R")
    # RMLO stored P\FL: compound letters are reversed letter by letter
    assert letters(rmlo) == EdgeLetters(left="A", right="P", top="HR", bottom="FL")
    # LMLO stored A\FR
    assert letters(lmlo) == EdgeLetters(left="P", right="A", top="HL", bottom="FR")


def test_edge_letters_vertical_flip_and_none() -> None:
    orientation = PatientOrientation("A", "F")
    assert edge_letters(orientation, Flip(vertical=True)) == EdgeLetters("P", "A", "F", "H")
    assert edge_letters(orientation, Flip(True, True)) == EdgeLetters("A", "P", "F", "H")
    assert edge_letters(None, Flip()) is None


# ------------------------------------------------------------------ manual


def test_manual_2x2_from_3_with_5_images(sample_records: tuple[ImageRecord, ...]) -> None:
    hanging = manual_hanging(sample_records[:5], 2, 2, first=3)
    assert hanging.kind is ProtocolKind.MANUAL
    assert [cell.image for cell in hanging.cells] == [3, 4, None, None]
    assert hanging.image_indices() == (3, 4)
    assert all(cell.pair is None and cell.expected == "" for cell in hanging.cells)


def test_manual_applies_hanging_flip(sample_records: tuple[ImageRecord, ...]) -> None:
    rcc = next(i for i, r in enumerate(sample_records) if r.view.label == "R CC")
    hanging = manual_hanging(sample_records, 1, 1, first=rcc)
    assert hanging.cells[0].flip.horizontal
    assert hanging.cells[0].anchor is Anchor.RIGHT


def test_manual_rejects_bad_grid(sample_records: tuple[ImageRecord, ...]) -> None:
    with pytest.raises(ValueError):
        manual_hanging(sample_records, 0, 2)
    with pytest.raises(ValueError):
        manual_hanging(sample_records, 1, 1, first=-1)


def test_hanging_validates_cell_count() -> None:
    with pytest.raises(ValueError):
        Hanging(ProtocolKind.MANUAL, "x", 1, 2, (Cell(None),))


def test_empty_list_gives_one_empty_cell() -> None:
    hanging = choose_hanging([])
    assert hanging.kind is ProtocolKind.MANUAL
    assert (hanging.rows, hanging.columns) == (1, 1)
    assert hanging.cells == (Cell(None),)
    assert galactography_stages([]) == ()
    assert mammography_studies([]) == ()
    assert galactography_hanging([], GalactographyStage.POST) is None


# ------------------------------------------------------------------ synthetic


def mg(tmp_path: Path, name: str, **options: Any) -> Path:
    return write_mg(tmp_path / f"{name}.dcm", **options)


def test_view_position_without_view_code_sequence(tmp_path: Path) -> None:
    mg(
        tmp_path,
        "rcc",
        laterality="R",
        view=None,
        view_position="CC",
        contrast=False,
        series_description="screening",
    )
    mg(
        tmp_path,
        "lmlo",
        laterality="L",
        view=None,
        view_position="MLO",
        contrast=False,
        series_description="screening",
        instance_number=2,
    )
    images = scan([tmp_path]).images
    hanging = choose_hanging(images)
    assert hanging.kind is ProtocolKind.MAMMOGRAPHY
    assert [cell.expected for cell in hanging.cells] == ["R CC", "L CC", "R MLO", "L MLO"]
    cells = [None if c.image is None else images[c.image].view.label for c in hanging.cells]
    assert cells == ["R CC", None, None, "L MLO"]
    assert [c.anchor for c in hanging.cells] == [
        Anchor.RIGHT,
        Anchor.CENTER,
        Anchor.CENTER,
        Anchor.LEFT,
    ]
    assert "no L CC" in hanging.notes and "no R MLO" in hanging.notes


def test_series_description_only(tmp_path: Path) -> None:
    mg(tmp_path, "x", laterality=None, view=None, contrast=False, series_description="RMLO")
    images = scan([tmp_path]).images
    assert images[0].view.label == ""
    view = resolved_view(images[0])
    assert (view.laterality, view.short_name, view.source) == (
        Laterality.RIGHT,
        "MLO",
        "Series Description",
    )
    hanging = choose_hanging(images)
    assert hanging.kind is ProtocolKind.MAMMOGRAPHY
    assert [cell.image for cell in hanging.cells] == [None, None, 0, None]
    assert hanging.cells[2].anchor is Anchor.RIGHT
    assert "Patient Orientation" in hanging.cells[2].flip.reason


@pytest.mark.parametrize(
    ("text", "laterality", "short_name", "magnified"),
    [
        ("LCC", "L", "CC", False),
        ("R CC", "R", "CC", False),
        ("L MLO", "L", "MLO", False),
        ("RMLO", "R", "MLO", False),
        ("LML", "L", "ML", False),
        ("R ML", "R", "ML", False),
        ("LM", "", "LM", False),
        ("MLCC", "L", "CC", True),
        ("L CC MAG", "L", "CC", True),
        ("L POST-CONTRAST MAGNIFICATION", "L", "", True),
        ("LCC RCC", "", "CC", False),
        ("SCREENING", "", "", False),
        ("", "", "", False),
    ],
)
def test_parse_series_description(
    text: str, laterality: str, short_name: str, magnified: bool
) -> None:
    view = parse_series_description(text)
    assert view.laterality == Laterality(laterality)
    assert view.short_name == short_name
    assert view.is_magnified is magnified


def test_coded_view_is_not_overridden_by_description(tmp_path: Path) -> None:
    mg(tmp_path, "x", laterality="L", view="CC", series_description="RMLO MAG")
    record = scan([tmp_path]).images[0]
    assert resolved_view(record) == record.view


def test_missing_laterality_goes_to_notes_and_manual(tmp_path: Path) -> None:
    mg(tmp_path, "x", laterality=None, view="CC", contrast=False, series_description="screening")
    images = scan([tmp_path]).images
    hanging = choose_hanging(images)
    assert hanging.kind is ProtocolKind.MANUAL
    assert hanging.cells == (Cell(0, "", Flip(), Anchor.CENTER, None),)
    assert any("laterality unknown" in note for note in hanging.notes)
    assert mammography_studies(images) == ()


def test_right_breast_galactography(tmp_path: Path) -> None:
    common: dict[str, Any] = {"laterality": "R", "study_description": "Galactography right"}
    mg(
        tmp_path,
        "pre_cc",
        view="CC",
        series_number=1,
        contrast=False,
        series_description="pre-contrast",
        **common,
    )
    mg(tmp_path, "post_cc", view="CC", series_number=2, **common)
    mg(tmp_path, "post_mlo", view="MLO", series_number=2, instance_number=2, **common)
    images = scan([tmp_path]).images
    hanging = choose_hanging(images)
    assert hanging.stage is GalactographyStage.POST
    assert hanging.name.startswith("Galactography R")
    got = [
        (images[c.image].view.label, images[c.image].contrast_phase)
        for c in hanging.cells
        if c.image is not None
    ]
    assert got == [("R CC", ContrastPhase.POST), ("R MLO", ContrastPhase.POST)]
    assert [c.anchor for c in hanging.cells] == [Anchor.RIGHT, Anchor.RIGHT]
    assert "no post-contrast R ML: R MLO hung instead" in hanging.notes
    assert galactography_stages(images) == (
        GalactographyStage.POST,
        GalactographyStage.PRE,
        GalactographyStage.COMPARE_PRE,
    )
    pre = galactography_hanging(images, GalactographyStage.PRE)
    assert pre is not None
    assert [c.expected for c in pre.cells] == ["R CC pre", "R ML pre"]
    assert pre.cells[1].image is None
    assert "no pre-contrast R ML" in pre.notes


def test_no_pre_contrast(tmp_path: Path) -> None:
    mg(tmp_path, "cc", view="CC", series_number=2)
    mg(tmp_path, "ml", view="ML", series_number=2, instance_number=2)
    images = scan([tmp_path]).images
    stages = galactography_stages(images)
    assert GalactographyStage.PRE not in stages
    assert GalactographyStage.COMPARE_PRE not in stages
    assert stages == (GalactographyStage.POST,)
    assert galactography_hanging(images, GalactographyStage.PRE) is None
    hanging = choose_hanging(images)
    assert hanging.stage is GalactographyStage.POST
    notes = " | ".join(hanging.notes)
    assert "stage 'pre-contrast scout' not offered" in notes
    assert "no pre-contrast L CC" in notes
    assert "stage 'post vs pre' not offered" in notes


def test_unknown_phase_image_is_reported(tmp_path: Path) -> None:
    mg(tmp_path, "cc", view="CC", series_number=2)
    mg(tmp_path, "odd", view="ML", series_number=4, contrast=False, series_description="extra")
    images = scan([tmp_path]).images
    hanging = choose_hanging(images)
    assert hanging.stage is GalactographyStage.POST
    assert hanging.cells[1].image is None
    assert "no post-contrast L ML" in hanging.notes
    assert any("contrast phase unknown" in note for note in hanging.notes)


def test_last_acquired_candidate_wins(tmp_path: Path) -> None:
    mg(tmp_path, "a", view="CC", series_number=2, instance_number=1)
    mg(tmp_path, "b", view="CC", series_number=2, instance_number=5)
    mg(tmp_path, "c", view="CC", series_number=2, instance_number=3)
    images = scan([tmp_path]).images
    hanging = choose_hanging(images)
    chosen = hanging.cells[0].image
    assert chosen is not None
    assert images[chosen].instance_number == 5
    assert sum("not hung" in note for note in hanging.notes) == 2


def test_several_magnified_views(tmp_path: Path) -> None:
    mg(tmp_path, "cc", view="CC", series_number=2)
    for n in range(3):
        mg(
            tmp_path,
            f"mag{n}",
            view="CC",
            modifiers=("MAG",),
            series_number=3,
            instance_number=n + 1,
        )
    images = scan([tmp_path]).images
    hanging = galactography_hanging(images, GalactographyStage.MAGNIFICATION)
    assert hanging is not None
    assert (hanging.rows, hanging.columns) == (1, 3)
    mags = [images[i].instance_number for i in hanging.image_indices()[1:]]
    assert mags == [2, 3]
    assert any("only the last 2 magnified" in note for note in hanging.notes)


def test_non_mg_study_is_manual(tmp_path: Path) -> None:
    record = scan([mg(tmp_path, "x", contrast=False)]).images[0]
    ct = _replace(record, modality="CT")
    unknown = _replace(record, modality="")
    for images in ([ct], [unknown]):
        hanging = choose_hanging(images)
        assert hanging.kind is ProtocolKind.MANUAL
        assert [cell.image for cell in hanging.cells] == [0]
        assert any("not a mammography" in note for note in hanging.notes)
        assert mammography_studies(images) == ()


def test_galactography_not_newest_gives_mammography(tmp_path: Path) -> None:
    mg(tmp_path, "old_post", view="CC", study_uid="1.2.3", study_date="20200101")
    mg(
        tmp_path,
        "new_cc",
        laterality="R",
        view="CC",
        study_uid="1.2.4",
        study_date="20250101",
        contrast=False,
        series_description="screening",
    )
    images = scan([tmp_path]).images
    hanging = choose_hanging(images)
    assert hanging.kind is ProtocolKind.MAMMOGRAPHY
    assert hanging.study_instance_uid == "1.2.4"
    assert galactography_study(images) == "1.2.3"
    # the newer screening study is the "prior" of the galactography only if same side
    assert prior_study(images) is None


def _replace(record: ImageRecord, **changes: Any) -> ImageRecord:
    from dataclasses import replace

    return replace(record, **changes)


def test_description_view_flip_uses_built_view(
    sample_records: tuple[ImageRecord, ...],
) -> None:
    base = sample_records[5]  # RCC stored A\L
    record = _replace(
        base, view=MammoView(), image_laterality=Laterality.UNKNOWN, series_description="R CC"
    )
    hanging = manual_hanging([record], 1, 1)
    assert hanging.cells[0].flip.horizontal
    assert hanging.cells[0].anchor is Anchor.RIGHT


def test_placement_of_a_single_image_follows_the_protocol_rules(
    sample_records: tuple[ImageRecord, ...],
) -> None:
    by_label = {(r.view.label, r.study_date): r for r in sample_records}
    rcc_flip, rcc_anchor = placement(by_label[("R CC", "20240220")])
    assert (rcc_flip.horizontal, rcc_flip.vertical, rcc_anchor) == (True, False, Anchor.RIGHT)
    lml_flip, lml_anchor = placement(by_label[("L ML", "20260312")])
    assert (lml_flip.horizontal, lml_flip.vertical, lml_anchor) == (False, False, Anchor.LEFT)


def test_colour_capture_filed_as_mg_is_not_hung_as_a_mammogram(tmp_path: Path) -> None:
    views = (("rcc", "R", "CC"), ("lcc", "L", "CC"), ("rmlo", "R", "MLO"), ("lmlo", "L", "MLO"))
    for name, laterality, view in views:
        mg(tmp_path, name, laterality=laterality, view=view, contrast=False, series_description="")
    # A later series, L CC, Modality MG, with contrast: were it taken for a mammogram, it
    # would make a galactography study of it, or win the L CC cell of the 4-up.
    write_colour_key_image(tmp_path)
    images = scan([tmp_path]).images
    key = next(i for i, r in enumerate(images) if r.path.name == "key_image.dcm")
    assert images[key].modality == "MG" and images[key].photometric_interpretation == "RGB"
    hanging = choose_hanging(images)
    assert hanging.kind is ProtocolKind.MAMMOGRAPHY
    hung = [None if c.image is None else images[c.image].path.name for c in hanging.cells]
    assert hung == ["rcc.dcm", "lcc.dcm", "rmlo.dcm", "lmlo.dcm"]
    assert any(
        note.endswith("not hung: a colour image (key image or capture), not a mammogram")
        for note in hanging.notes
    )
    # Still reachable: a manual layout shows it.
    assert manual_hanging(images, 1, 1, key).image_indices() == (key,)
