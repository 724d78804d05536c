"""Display of a DICOM Person Name (PN) value (Qt-free).

PS3.5 6.2.1: a PN value has up to three component groups separated by ``=``
(alphabetic, ideographic, phonetic), each of up to five components separated by
``^``: family name, given name, middle name, name prefix, name suffix.
"""

from __future__ import annotations

__all__ = ["format_person_name"]


def format_person_name(value: str, *, upper_family: bool = False) -> str:
    """Return a Person Name for display: ``"Phantom^Jane"`` → ``"Phantom, Jane"``.

    PS3.5 6.2.1: the first non-empty component group is used (alphabetic, else
    ideographic, else phonetic). The family name comes first, then a comma and the
    other components in their order (given, middle, prefix, suffix), separated by
    spaces. A name with only a family name, or only other components, is shown
    without the comma. Components are stripped of padding spaces.

    Parameters
    ----------
    value
        The raw PN string, e.g. ``"Phantom^Jane^Q^Dr"``.
    upper_family
        Upper-case the family name (the one to call the patient by), as image
        overlays print it: ``"PHANTOM, Jane"``.

    Returns
    -------
    str
        E.g. ``"Phantom, Jane Q Dr"``; ``""`` for an empty name.
    """
    group = next((part for part in value.split("=") if part.strip(" ^")), "")
    family, _, rest = group.partition("^")
    family = family.strip().upper() if upper_family else family.strip()
    given = " ".join(part.strip() for part in rest.split("^") if part.strip())
    return ", ".join(part for part in (family, given) if part)
