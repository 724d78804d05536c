"""How the offered codes are shown."""

from __future__ import annotations

from pydicom.sr.coding import Code

from galactoview.annotations.codes import IMPRESSIONS, impression_text


def test_offered_impressions_read_alike_and_foreign_ones_as_written() -> None:
    """Issue 15: "Multiple Intraductal Papillomas" beside "Intraductal papilloma"."""
    shown = [impression_text(code) for code in IMPRESSIONS]
    assert "Multiple intraductal papillomas" in shown
    assert all(text[:1].isupper() and text[1:] == text[1:].lower() for text in shown)
    foreign = Code("PC-1", "99OTHERVIEWER", "Papillary Carcinoma, NOS")
    assert impression_text(foreign) == "Papillary Carcinoma, NOS"
