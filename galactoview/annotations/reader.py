"""Who reads: the reader's identity recorded on the marks and revisions they make (Qt-free).

The reader's name is a DICOM Person Name (PS3.5 6.2, VR PN: ``Family^Given^Middle^Prefix^
Suffix``, each component group at most 64 characters, no backslash and no control characters);
the institution a Long String (VR LO, at most 64 characters). It becomes the Person
Observer Name of each finding they add or change and of each SR revision they make
(TID 1002 Observer Context, PS3.16), and the report's "Reader".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["ReaderIdentity"]

#: PS3.5 6.2: a PN component group and an LO value hold at most 64 characters.
_MAX_LENGTH: Final = 64


def _bad_characters(value: str) -> bool:
    """Return whether a PN/LO value holds a backslash or a control character (PS3.5 6.1.2)."""
    return "\\" in value or any(ord(c) < 32 or ord(c) == 127 for c in value)


@dataclass(frozen=True, slots=True)
class ReaderIdentity:
    """The reader's name (PN components) and, optionally, institution.

    Attributes
    ----------
    family_name, given_name, name_prefix
        Components 1, 2 and 4 of the PN value (e.g. ``"Curie"``, ``"Marie"``, ``"Dr"``).
    institution
        Institution Name (0008,0080) of the reader, may be empty.
    """

    family_name: str
    given_name: str = ""
    name_prefix: str = ""
    institution: str = ""

    @property
    def person_name(self) -> str:
        """The PN value, e.g. ``"Curie^Marie^^Dr"`` (empty trailing components dropped)."""
        parts = [
            self.family_name.strip(),
            self.given_name.strip(),
            "",
            self.name_prefix.strip(),
        ]
        return "^".join(parts).rstrip("^")

    @property
    def is_known(self) -> bool:
        """Whether a name is given (a family or given name)."""
        return bool(self.family_name.strip() or self.given_name.strip())

    def problems(self) -> list[str]:
        """Return what makes this identity unusable in DICOM, one line each; ``[]`` if fine."""
        found = []
        for label, value in (
            ("family name", self.family_name),
            ("given name", self.given_name),
            ("title", self.name_prefix),
        ):
            if "^" in value or "=" in value:
                found.append(f"the {label} cannot contain '^' or '='")
            if _bad_characters(value):
                found.append(f"the {label} cannot contain '\\' or control characters")
        if len(self.person_name) > _MAX_LENGTH:
            found.append(f"the name is longer than {_MAX_LENGTH} characters (DICOM PN)")
        if _bad_characters(self.institution):
            found.append("the institution cannot contain '\\' or control characters")
        if len(self.institution.strip()) > _MAX_LENGTH:
            found.append(f"the institution is longer than {_MAX_LENGTH} characters (DICOM LO)")
        if not self.is_known:
            found.append("a family or given name is needed")
        return found

    @classmethod
    def from_person_name(cls, value: str, institution: str = "") -> ReaderIdentity:
        """Return the identity of a stored PN value (first component group only).

        Parameters
        ----------
        value
            E.g. ``"Curie^Marie^^Dr"``; ``""`` gives an unknown reader.
        institution
            The institution.

        Returns
        -------
        ReaderIdentity
            Its family name, given name and prefix (middle name and suffix dropped).
        """
        group = value.split("=")[0]
        parts = [*group.split("^"), "", "", "", ""]
        return cls(parts[0].strip(), parts[1].strip(), parts[3].strip(), institution.strip())
