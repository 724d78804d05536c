"""A dark Fusion palette, the usual choice for reading rooms."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

__all__ = ["apply_dark_theme"]


def apply_dark_theme(app: QApplication) -> None:
    """Switch the application to the Fusion style with a dark palette.

    Parameters
    ----------
    app
        The application; widgets pick the palette up, so none hard-codes a colour.
    """
    app.setStyle("Fusion")
    palette = QPalette()
    role = QPalette.ColorRole
    group = QPalette.ColorGroup
    colours = {
        role.Window: QColor(37, 37, 38),
        role.WindowText: QColor(220, 220, 220),
        role.Base: QColor(24, 24, 25),
        role.AlternateBase: QColor(45, 45, 48),
        role.ToolTipBase: QColor(45, 45, 48),
        role.ToolTipText: QColor(220, 220, 220),
        role.PlaceholderText: QColor(140, 140, 140),
        role.Text: QColor(220, 220, 220),
        role.Button: QColor(45, 45, 48),
        role.ButtonText: QColor(220, 220, 220),
        role.BrightText: QColor(255, 90, 90),
        role.Link: QColor(86, 156, 214),
        role.Highlight: QColor(38, 79, 120),
        role.HighlightedText: QColor(255, 255, 255),
    }
    for colour_role, colour in colours.items():
        palette.setColor(colour_role, colour)
    for colour_role in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(group.Disabled, colour_role, QColor(120, 120, 120))
    app.setPalette(palette)
