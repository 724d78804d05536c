import pytest

from galactoview.dicom.person_name import format_person_name


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Phantom^Jane", "Phantom, Jane"),
        ("Phantom^Jane^Q^Dr", "Phantom, Jane Q Dr"),
        ("Phantom", "Phantom"),
        ("^Jane", "Jane"),
        ("", ""),
        ("^^^^", ""),
        ("Doe ^ Jane ^^^Jr.", "Doe, Jane Jr."),
        ("Yamada^Tarou=山田^太郎=やまだ^たろう", "Yamada, Tarou"),
        ("=山田^太郎", "山田, 太郎"),
        ("==やまだ^たろう", "やまだ, たろう"),
    ],
)
def test_format_person_name(value: str, expected: str) -> None:
    assert format_person_name(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("PHANTOM^GALACTO^SYNTHETIC", "PHANTOM, GALACTO SYNTHETIC"),
        ("Phantom^Jane", "PHANTOM, Jane"),
        ("Phantom^Jane^Q^Dr", "PHANTOM, Jane Q Dr"),
        ("Phantom", "PHANTOM"),
        ("^Jane", "Jane"),
        ("Yamada^Tarou=山田^太郎", "YAMADA, Tarou"),
        ("", ""),
    ],
)
def test_format_person_name_upper_family(value: str, expected: str) -> None:
    assert format_person_name(value, upper_family=True) == expected
