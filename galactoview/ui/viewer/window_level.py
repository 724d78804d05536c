"""Window/level interaction math and wording, kept free of Qt so it is easy to test.

The viewport turns a left-button drag into fractions of its own size and asks
:func:`window_after_drag` for the new :class:`~galactoview.imaging.display.Window`;
:func:`describe_voi` and :func:`preset_label` give the text the status bar and the
preset list show for a VOI transform (PS3.3 C.11.2).
"""

from __future__ import annotations

import math
from dataclasses import replace

from galactoview.imaging.display import VoiLut, Window

__all__ = ["describe_voi", "preset_label", "window_after_drag"]

Voi = Window | VoiLut | None


def window_after_drag(start: Window, dx_fraction: float, dy_fraction: float, span: float) -> Window:
    """Return the window after a window/level drag.

    Parameters
    ----------
    start
        The window when the drag began.
    dx_fraction, dy_fraction
        Mouse movement since the drag began, as fractions of the view's width and
        height (right and down are positive).
    span
        Range of the image's modality values: a drag across the whole view changes
        the width (horizontal) or the center (vertical) by this much.

    Returns
    -------
    Window
        Dragging right widens the window (less contrast), dragging down raises the
        center (darker image), as in most radiology viewers. The width is clamped
        to the smallest valid value for the VOI LUT Function (PS3.3 C.11.2.1.2);
        the function is kept and the explanation dropped (it is no longer a preset).
        Both are rounded to whole values, or to a thousandth of the span's order of magnitude
        when smaller (12–16-bit mammograms: "W 3479", not "W 3478.54"; finer for
        images of small float values).
    """
    finite = span > 0 and math.isfinite(span)
    step = min(1.0, 10.0 ** (math.floor(math.log10(span)) - 3)) if finite else 1.0
    decimals = max(0, -round(math.log10(step)))

    def rounded(value: float) -> float:
        return round(round(value / step) * step, decimals)

    moved = start.with_center_width(
        rounded(start.center + dy_fraction * span), rounded(start.width + dx_fraction * span)
    )
    return replace(moved, explanation="")


def describe_voi(voi: Voi) -> str:
    """Return a one-line description, e.g. ``"W 4096 L 2048 LINEAR (NORMAL)"``.

    Parameters
    ----------
    voi
        A window, a VOI LUT, or ``None`` for the full modality range.

    Returns
    -------
    str
        The status-bar text for the VOI transform.
    """
    if isinstance(voi, Window):
        text = f"W {voi.width:g} L {voi.center:g} {voi.function.value}"
        return f"{text} ({voi.explanation})" if voi.explanation else text
    if isinstance(voi, VoiLut):
        return f"VOI LUT {voi.explanation}".rstrip()
    return "full range"


def preset_label(voi: Voi, number: int) -> str:
    """Return the label of a preset in the preset list, e.g. ``"1  NORMAL (W 4096 L 2048)"``.

    Parameters
    ----------
    voi
        The preset.
    number
        Its 1-based position, which is also its keyboard shortcut.

    Returns
    -------
    str
        The label.
    """
    if isinstance(voi, Window):
        name = voi.explanation or f"Window {number}"
        return f"{number}  {name} (W {voi.width:g} L {voi.center:g})"
    if isinstance(voi, VoiLut):
        return f"{number}  {voi.explanation or 'VOI LUT'}"
    return f"{number}  full range"
