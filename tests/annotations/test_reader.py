"""The reader identity: a DICOM PN and institution, checked before it is stored."""

from __future__ import annotations

import pytest

from galactoview.annotations.reader import ReaderIdentity


def test_person_name_components_and_back() -> None:
    identity = ReaderIdentity("Curie", "Marie", "Dr", "Institut du Radium")
    assert identity.person_name == "Curie^Marie^^Dr"
    assert ReaderIdentity.from_person_name("Curie^Marie^^Dr", "Institut du Radium") == identity
    assert ReaderIdentity("Curie").person_name == "Curie"
    assert ReaderIdentity.from_person_name("Curie^Marie=キュリー^マリー").given_name == "Marie"
    assert not ReaderIdentity.from_person_name("").is_known
    assert ReaderIdentity("", "Marie").is_known


@pytest.mark.parametrize(
    ("identity", "problem"),
    [
        (ReaderIdentity("Cu^rie"), "the family name cannot contain '^' or '='"),
        (ReaderIdentity("Curie", "Ma=rie"), "the given name cannot contain '^' or '='"),
        (ReaderIdentity("Curie", "Ma\\rie"), "the given name cannot contain '\\'"),
        (ReaderIdentity("C" * 65), "the name is longer than 64 characters (DICOM PN)"),
        (ReaderIdentity("Curie", institution="I" * 65), "institution is longer than 64"),
        (ReaderIdentity("Curie", institution="a\nb"), "institution cannot contain"),
        (ReaderIdentity(" "), "a family or given name is needed"),
    ],
)
def test_unusable_identities_say_why(identity: ReaderIdentity, problem: str) -> None:
    assert any(problem in line for line in identity.problems()), identity.problems()


def test_a_plain_identity_has_no_problem() -> None:
    assert ReaderIdentity("Curie", "Marie", "Dr", "Institut du Radium").problems() == []
