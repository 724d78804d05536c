"""The actions table: every command of the main window, its keys, menu and help (Qt-free data).

One declarative list, :data:`ACTIONS`, from which the window's actions, menus and
toolbar are built (:mod:`galactoview.ui.shell.menus`), Help → Keyboard Shortcuts
lists its rows (:func:`shortcut_rows`) and ``docs/shortcuts.md`` is written
(:func:`markdown`; a test checks the file against it). Regenerate the document
after changing the table::

    python -m galactoview.ui.shell.actions --markdown > docs/shortcuts.md

Keys are written in Qt's portable text (``QKeySequence.SequenceFormat.PortableText``),
so the document shows exactly what the dialog and the tooltips show.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from galactoview.annotations.model import FindingType
from galactoview.reading.hanging import GalactographyStage

__all__ = [
    "ACTIONS",
    "EXTRA_ROWS",
    "ActionSpec",
    "Check",
    "Menu",
    "Section",
    "markdown",
    "shortcut_rows",
    "spec",
]


class Section(StrEnum):
    """Group of an action in the shortcuts dialog and docs/shortcuts.md, in listing order."""

    FILE = "File"
    EDIT = "Edit"
    IMAGES = "Images"
    HANGING = "Hanging"
    ZOOM = "Zoom"
    WINDOW = "Window"
    TOOLS = "Tools"
    ANNOTATE = "Annotate"
    CINE = "Cine"
    REVIEW = "Review"
    HELP = "Help"
    MOUSE = "Mouse"


class Menu(StrEnum):
    """Menu of the menu bar an action is in, in menu-bar order; values are the titles."""

    FILE = "&File"
    EDIT = "&Edit"
    HANGING = "&Hanging"
    VIEW = "&View"
    WINDOW = "&Window"
    TOOLS = "&Tools"
    ANNOTATE = "&Annotate"
    REPORT = "&Report"
    HELP = "&Help"


class Check(StrEnum):
    """Whether an action is checkable."""

    NO = "no"
    #: On/off: the handler gets the new state as its last argument (also when set in code).
    TOGGLE = "toggle"
    #: One of the exclusive tools (mouse modes and marking tools): one is checked at a time.
    TOOL = "tool"
    #: Exclusive within the part that provides it (the finding palette's types).
    PROVIDED = "provided"


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """One command of the main window.

    Attributes
    ----------
    name
        Key of the built action in ``MainWindow.named_actions``.
    text
        Menu text (``&`` marks the mnemonic).
    shortcuts
        Keys in Qt's portable text; the first is the primary one.
    handler
        What it runs: a dotted path from the window (``"session.next_layout"``,
        ``"viewport.actual_pixels"``), looked up each time it is triggered; ``None``
        when the action is made by the part that owns it (the undo stack, the finding
        palette) and only takes its keys and menu place from here.
    section
        Group in the shortcuts dialog and docs/shortcuts.md.
    menu
        Menu it is in.
    args
        Arguments passed to the handler.
    toolbar
        ``(position, short text)`` on the tools toolbar, ``None`` when not on it;
        actions are laid out by position, with a separator where the tens change.
    help
        Tooltip (the keys are appended); the menu text when empty.
    check
        Whether it is checkable.
    separator
        A separator comes before it in its menu.
    editing
        It changes the marks: disabled in the surgeon's read-only review.
    """

    name: str
    text: str
    shortcuts: tuple[str, ...]
    handler: str | None
    section: Section
    menu: Menu
    args: tuple[object, ...] = ()
    toolbar: tuple[int, str] | None = None
    help: str = ""
    check: Check = Check.NO
    separator: bool = False
    editing: bool = False

    @property
    def plain_text(self) -> str:
        """Return the text without the mnemonic marker and the trailing ellipsis."""
        return self.text.replace("&", "").replace("…", "").strip()


_F, _E, _I, _H = Section.FILE, Section.EDIT, Section.IMAGES, Section.HANGING
_Z, _W, _T, _A = Section.ZOOM, Section.WINDOW, Section.TOOLS, Section.ANNOTATE
_STAGE = GalactographyStage

#: Every command of the main window, in menu order (menus in :class:`Menu` order).
ACTIONS: tuple[ActionSpec, ...] = (
    # File
    ActionSpec("open_folder", "Open &Folder…", ("Ctrl+O",), "open_folder", _F, Menu.FILE),
    ActionSpec(
        "open_files",
        "Open F&iles, DICOMDIR or Zip…",
        ("Ctrl+Shift+O",),
        "open_files",
        _F,
        Menu.FILE,
    ),
    ActionSpec(
        "save_annotations",
        "&Save Annotations",
        ("Ctrl+S",),
        "saver.save_now",
        _F,
        Menu.FILE,
        help="Save now (they autosave anyway)",
        separator=True,
    ),
    ActionSpec(
        "save_elsewhere",
        "Save Annotations &Elsewhere…",
        ("Ctrl+Shift+S",),
        "unsaved_guard.save_elsewhere",
        _F,
        Menu.FILE,
        help="Save the marks to a file you choose (e.g. when the study folder cannot be written)",
    ),
    ActionSpec(
        "store_marks",
        "Store &Marks to PACS",
        (),
        "pacs.store_marks",
        _F,
        Menu.FILE,
        help="Send the current SR revision of the marks to the default PACS node",
    ),
    ActionSpec(
        "pacs_query",
        "Q&uery/Retrieve…",
        ("Ctrl+Shift+Q",),
        "show_pacs_panel",
        _F,
        Menu.FILE,
        help="Search a PACS, retrieve a study with its marks and open it",
        separator=True,
    ),
    ActionSpec(
        "report",
        "Export Surgeon &Report (PDF)…",
        ("Ctrl+P",),
        "export_report",
        _F,
        Menu.FILE,
        help="Clock face, depth, distance from the nipple and key images of every finding",
    ),
    ActionSpec("quit", "&Quit", ("Ctrl+Q",), "close", _F, Menu.FILE, separator=True),
    # Edit: the undo stack's own actions, named after the command they undo ("Undo Add FD-1").
    ActionSpec("undo", "&Undo", ("Ctrl+Z",), None, _E, Menu.EDIT),
    ActionSpec("redo", "&Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), None, _E, Menu.EDIT),
    ActionSpec(
        "reader_identity",
        "Reader &Identity…",
        (),
        "reader.edit",
        _E,
        Menu.EDIT,
        help="Your name (and institution), recorded on the marks and revisions you make",
        separator=True,
    ),
    ActionSpec(
        "pacs_nodes",
        "&PACS Nodes…",
        (),
        "pacs.edit_nodes",
        _E,
        Menu.EDIT,
        help="DICOMweb and DIMSE nodes, their logins, Test Connection",
    ),
    # Hanging
    ActionSpec(
        "default_hanging",
        "&Default Hanging Protocol",
        ("H",),
        "session.hang_default",
        _H,
        Menu.HANGING,
        toolbar=(20, "Hang"),
    ),
    ActionSpec(
        "next_layout",
        "Next &Layout",
        ("L",),
        "session.next_layout",
        _H,
        Menu.HANGING,
        toolbar=(21, "Layout"),
    ),
    ActionSpec(
        "previous_layout",
        "Previous La&yout",
        ("Shift+L",),
        "session.previous_layout",
        _H,
        Menu.HANGING,
    ),
    ActionSpec(
        "compare_pre",
        "Compare with Pre-contrast Scout",
        ("C",),
        "session.toggle_stage",
        _H,
        Menu.HANGING,
        args=(_STAGE.COMPARE_PRE,),
        separator=True,
    ),
    ActionSpec(
        "scout",
        "Switch to Pre-contrast Scout",
        ("S",),
        "session.toggle_stage",
        _H,
        Menu.HANGING,
        args=(_STAGE.PRE,),
    ),
    ActionSpec(
        "magnification",
        "Magnification Views",
        ("X",),
        "session.toggle_stage",
        _H,
        Menu.HANGING,
        args=(_STAGE.MAGNIFICATION,),
    ),
    ActionSpec(
        "compare_prior",
        "Compare with Prior Study",
        ("Shift+C",),
        "session.toggle_stage",
        _H,
        Menu.HANGING,
        args=(_STAGE.COMPARE_PRIOR,),
    ),
    ActionSpec(
        "prior_4up",
        "Prior Mammography 4-up",
        ("Shift+M",),
        "session.hang_prior_mammography",
        _H,
        Menu.HANGING,
    ),
    ActionSpec(
        "layout_1",
        "1-up",
        ("Ctrl+1",),
        "session.hang_manual",
        _H,
        Menu.HANGING,
        args=(1, 1),
        separator=True,
    ),
    ActionSpec(
        "layout_2", "1×2", ("Ctrl+2",), "session.hang_manual", _H, Menu.HANGING, args=(1, 2)
    ),
    ActionSpec(
        "layout_4", "2×2", ("Ctrl+4",), "session.hang_manual", _H, Menu.HANGING, args=(2, 2)
    ),
    # Images (in the Hanging menu)
    ActionSpec(
        "next",
        "&Next Image",
        ("PgDown", "Down"),
        "session.next_image",
        _I,
        Menu.HANGING,
        toolbar=(11, "Next ▶"),
        help="Next image in the active viewport",
        separator=True,
    ),
    ActionSpec(
        "previous",
        "&Previous Image",
        ("PgUp", "Up"),
        "session.previous_image",
        _I,
        Menu.HANGING,
        toolbar=(10, "◀ Prev"),
        help="Previous image",
    ),
    ActionSpec(
        "next_series",
        "Next &Series",
        ("Ctrl+PgDown", "Ctrl+Down"),
        "session.next_series",
        _I,
        Menu.HANGING,
    ),
    ActionSpec(
        "previous_series",
        "Previous S&eries",
        ("Ctrl+PgUp", "Ctrl+Up"),
        "session.previous_series",
        _I,
        Menu.HANGING,
    ),
    # View (zoom)
    ActionSpec(
        "fit",
        "&Fit",
        ("F",),
        "hanging_view.fit_all",
        _Z,
        Menu.VIEW,
        toolbar=(40, "Fit"),
        help="Fit the images, pairs at the same scale",
    ),
    ActionSpec("actual_pixels", "1:1 Pixels", ("Ctrl+0",), "viewport.actual_pixels", _Z, Menu.VIEW),
    ActionSpec(
        "true_size",
        "True Size (mm on screen)",
        ("T",),
        "true_size",
        _Z,
        Menu.VIEW,
        toolbar=(41, "True size"),
        help="Physical size at the screen's DPI",
    ),
    ActionSpec(
        "link_zoom",
        "Link Zoom and Pan in Pairs",
        ("Ctrl+K",),
        "set_link_zoom",
        _Z,
        Menu.VIEW,
        toolbar=(61, "Link zoom"),
        check=Check.TOGGLE,
        separator=True,
    ),
    ActionSpec(
        "overlays",
        "Show &Overlays",
        ("O",),
        "tools.set_overlays_visible",
        _Z,
        Menu.VIEW,
        help="Corner text and the image's overlay planes (60xx graphics and regions)",
        check=Check.TOGGLE,
    ),
    ActionSpec(
        "side_panels",
        "Side &Panels",
        ("F6",),
        None,
        _Z,
        Menu.VIEW,
        toolbar=(0, "Panels"),
        help="Show or hide the studies, findings and report (hidden at first in a small window)",
        check=Check.TOGGLE,
        separator=True,
    ),
    ActionSpec(
        "review",
        "Surgeon &Review Mode",
        ("F9",),
        "set_review_mode",
        Section.REVIEW,
        Menu.VIEW,
        help="Read-only: clock face, depth and distance from the nipple of each finding",
        check=Check.TOGGLE,
        separator=True,
    ),
    # Window
    ActionSpec(
        "auto",
        "&Auto Window",
        ("A",),
        "window_controls.apply_auto_window",
        _W,
        Menu.WINDOW,
        toolbar=(50, "Auto"),
        help="Automatic window over the breast",
    ),
    ActionSpec(
        "invert",
        "&Invert",
        ("I",),
        "window_controls.invert",
        _W,
        Menu.WINDOW,
        toolbar=(51, "Invert"),
        help="Invert the grayscale",
    ),
    ActionSpec(
        "reset", "&Reset Window and Zoom", ("Home",), "window_controls.reset_view", _W, Menu.WINDOW
    ),
    ActionSpec(
        "enter_window",
        "&Enter Window/Level…",
        ("E",),
        "window_controls.enter_window",
        _W,
        Menu.WINDOW,
        help="Type the window centre and width",
    ),
    ActionSpec(
        "link_window",
        "Link Window/Level",
        ("Ctrl+L",),
        "set_link_window",
        _W,
        Menu.WINDOW,
        toolbar=(60, "Link W/L"),
        check=Check.TOGGLE,
    ),
    *(
        ActionSpec(
            f"preset_{number}",
            f"Preset {number}",
            (str(number),),
            "window_controls.apply_preset",
            _W,
            Menu.WINDOW,
            args=(number - 1,),
            separator=number == 1,
        )
        for number in range(1, 10)
    ),
    # Tools: mouse modes ("tool_" + MouseMode name, the value as argument)
    *(
        ActionSpec(
            f"tool_{name}",
            text,
            (key,),
            "set_mouse_mode",
            _T,
            Menu.TOOLS,
            args=(mode,),
            toolbar=(position, short),
            check=Check.TOOL,
        )
        for position, (name, mode, text, key, short) in enumerate(
            (
                ("window", "window/level", "&Window/Level Tool", "W", "W/L"),
                ("pan", "pan", "&Pan Tool", "P", "Pan"),
                ("zoom", "zoom", "&Zoom Tool", "Z", "Zoom"),
                ("measure", "measure", "&Ruler Tool", "R", "Ruler"),
                ("magnify", "magnify", "&Magnifying Glass", "G", "Loupe"),
            ),
            start=30,
        )
    ),
    ActionSpec(
        "delete_selected",
        "Delete Selected Mark (else Last Ruler)",
        ("Del", "Backspace"),
        "tools.delete_selected",
        _T,
        Menu.TOOLS,
        separator=True,
        editing=True,
    ),
    ActionSpec(
        "clear_rulers", "Clear Rulers", ("Shift+Del",), "tools.clear_rulers", _T, Menu.TOOLS
    ),
    # Cine (in the Tools menu)
    ActionSpec(
        "play",
        "Play/Pause Cine",
        ("Space",),
        "cine.toggle_playing",
        Section.CINE,
        Menu.TOOLS,
        separator=True,
    ),
    ActionSpec(
        "next_frame", "Next Frame", ("Right",), "cine.step", Section.CINE, Menu.TOOLS, args=(1,)
    ),
    ActionSpec(
        "previous_frame",
        "Previous Frame",
        ("Left",),
        "cine.step",
        Section.CINE,
        Menu.TOOLS,
        args=(-1,),
    ),
    # Annotate: marking tools ("annotate_" + AnnotationTool name, the value as argument),
    # then the finding palette's types
    *(
        ActionSpec(
            f"annotate_{name}",
            text,
            (key,),
            "set_annotation_tool",
            _A,
            Menu.ANNOTATE,
            args=(tool,),
            check=Check.TOOL,
            editing=True,
        )
        for name, tool, text, key in (
            ("select", "select", "Select Tool", "V"),
            ("point", "point", "Point Tool", "M"),
            ("ellipse", "ellipse", "Ellipse Tool", "Shift+E"),
            ("circle", "circle", "Circle Tool", "Shift+O"),
            ("polyline", "polyline", "Polyline Tool", "Shift+P"),
            ("duct_trace", "duct trace", "Duct trace Tool", "D"),
            ("nipple", "nipple", "Nipple Landmark Tool", "N"),
        )
    ),
    *(
        ActionSpec(
            f"finding_{finding_type.name.lower()}",
            finding_type.value,
            (f"Alt+{number}",),
            None,
            _A,
            Menu.ANNOTATE,
            args=(finding_type,),
            check=Check.PROVIDED,
            separator=number == 1,
            editing=True,
        )
        # FindingType order: PS3.16 CID 6057, then duct ectasia, then "other" (the palette's)
        for number, finding_type in enumerate(FindingType, start=1)
    ),
    ActionSpec(
        "finish_drawing",
        "Finish Drawing (else Accept Suggested Tree)",
        ("Return", "Enter"),
        "finish_or_accept",
        _A,
        Menu.ANNOTATE,
        help="Finish the outline or duct trace being drawn; with none, accept the suggested tree",
        separator=True,
        editing=True,
    ),
    ActionSpec(
        "cancel_drawing",
        "Cancel Drawing or Linking (else Dismiss Suggestions)",
        ("Esc",),
        "cancel_or_dismiss",
        _A,
        Menu.ANNOTATE,
        help="Drop the drawing or linking in progress; with none, dismiss the suggestions",
    ),
    ActionSpec(
        "link_finding",
        "Link to Another View",
        ("Ctrl+Shift+L",),
        None,
        _A,
        Menu.ANNOTATE,
        help="The next region drawn is the selected finding on another view (Esc cancels)",
        check=Check.TOGGLE,
        separator=True,
        editing=True,
    ),
    ActionSpec(
        "merge_findings",
        "Merge Findings…",
        (),
        None,
        _A,
        Menu.ANNOTATE,
        help="Merge the selected finding with another of its study (the same lesion)",
        editing=True,
    ),
    ActionSpec(
        "suggest_nipple",
        "Suggest Nipple Landmarks",
        ("Shift+N",),
        "suggest_nipples",
        _A,
        Menu.ANNOTATE,
        help="Place a suggested nipple on each shown image that has none; move it if needed",
        separator=True,
        editing=True,
    ),
    ActionSpec(
        "accept_nipples",
        "Accept Suggested Nipples",
        ("Shift+A",),
        "accept_nipples",
        _A,
        Menu.ANNOTATE,
        help="Make every suggested nipple (dashed, N?) the reader's landmark, one undoable edit",
        editing=True,
    ),
    ActionSpec(
        "suggest_duct_tree",
        "Suggest Duct Tree",
        ("Shift+T",),
        "suggestions.suggest_tree",
        _A,
        Menu.ANNOTATE,
        help="Suggest the opacified duct tree of the active image from its nipple (dashed "
        "until accepted)",
        separator=True,
        editing=True,
    ),
    ActionSpec(
        "flag_filling_defects",
        "Flag Filling Defects",
        ("Shift+F",),
        "suggestions.flag_defects",
        _A,
        Menu.ANNOTATE,
        help="Flag possible filling defects along the active image's duct tree (dashed "
        "circles; hover for why)",
        editing=True,
    ),
    ActionSpec(
        "accept_suggested_tree",
        "Accept Suggested Duct Tree",
        (),
        "suggestions.accept_tree",
        _A,
        Menu.ANNOTATE,
        help="Every suggested branch left becomes a traced duct segment, one undoable edit "
        "(Enter when nothing is being drawn)",
        editing=True,
    ),
    ActionSpec(
        "dismiss_suggestions",
        "Dismiss Suggestions",
        (),
        "suggestions.dismiss",
        _A,
        Menu.ANNOTATE,
        help="Remove every suggested branch and flag; nothing is recorded (Esc when nothing "
        "is being drawn)",
    ),
    # Report: the written report (the Report dock) and its signature
    ActionSpec(
        "sign_report",
        "&Sign Report…",
        (),
        "report_signing.sign",
        Section.REVIEW,
        Menu.REPORT,
        help="Sign the report shown in the Report panel: it becomes read-only",
        editing=True,
    ),
    ActionSpec(
        "write_addendum",
        "Write &Addendum…",
        (),
        "report_signing.write_addendum",
        Section.REVIEW,
        Menu.REPORT,
        help="Amend a signed report: an addendum revision, signed with Sign Report…",
        editing=True,
    ),
    # Help
    ActionSpec(
        "shortcuts", "&Keyboard Shortcuts", ("F1",), "show_shortcuts", Section.HELP, Menu.HELP
    ),
)

#: Rows with no action of their own: (section, keys, what it does), after the section's actions.
EXTRA_ROWS: tuple[tuple[Section, str, str], ...] = (
    (Section.WINDOW, "1 … 9", "Window preset 1–9 from the file"),
    (
        Section.MOUSE,
        "Left drag",
        "Current tool: window/level (default), pan, zoom, ruler or magnifier",
    ),
    (
        Section.MOUSE,
        "Left drag (window/level)",
        "Right/left: wider/narrower; down/up: darker/brighter",
    ),
    (Section.MOUSE, "Middle drag", "Pan"),
    (Section.MOUSE, "Right drag", "Zoom"),
    (Section.MOUSE, "Wheel", "Zoom about the cursor"),
    (Section.MOUSE, "Click in a viewport", "Make it the active viewport"),
    (Section.MOUSE, "Ctrl+wheel / Shift+wheel (magnifier shown)", "Magnifier zoom / size"),
    (Section.MOUSE, "Drop files or folders on the window", "Open them"),
)

#: Actions listed by :data:`EXTRA_ROWS` instead of one row each.
_LISTED_AS_A_RANGE = frozenset(f"preset_{number}" for number in range(1, 10))

_INTRODUCTION = """\
# Keyboard and mouse shortcuts

The same list is in the application under **Help → Keyboard Shortcuts** (F1). Both are made
from one table, `galactoview/ui/shell/actions.py`, which also builds the menus, the toolbar and
the keys themselves; this page is generated from it (a test checks it is up to date):

    python -m galactoview.ui.shell.actions --markdown > docs/shortcuts.md

Conventions followed: page keys step through images and Ctrl+page keys through series, digits
1–9 choose the file's window presets (as in most PACS), single letters choose tools (W window/level,
P pan, Z zoom, R ruler, G magnifying glass), F fits, Home resets, I inverts, A auto-windows; Esc
cancels a drawing in progress. Hanging keys act on the galactography protocol: C compares the
post-contrast pair with the pre-contrast scout, S switches to the scout, X shows the magnification
view, Shift+C compares with the prior screening study; each key pressed again returns to the
post-contrast pair. H restores the default protocol and L / Shift+L step through every layout
available for the studies loaded.
"""


def spec(name: str) -> ActionSpec:
    """Return the action of the table called ``name``.

    Raises
    ------
    KeyError
        If the table has no such action.
    """
    for action in ACTIONS:
        if action.name == name:
            return action
    raise KeyError(name)


def shortcut_rows(
    actions: Sequence[ActionSpec] = ACTIONS,
) -> list[tuple[str, str, str]]:
    """Return every keyboard and mouse binding as ``(section, keys, action)`` rows.

    Sections come in :class:`Section` order; within one, the actions in table order,
    then the section's :data:`EXTRA_ROWS`.
    """
    rows: list[tuple[str, str, str]] = []
    for section in Section:
        rows += [
            (section.value, ", ".join(action.shortcuts), action.plain_text)
            for action in actions
            if action.section is section
            and action.shortcuts
            and action.name not in _LISTED_AS_A_RANGE
        ]
        rows += [
            (section.value, keys, text) for where, keys, text in EXTRA_ROWS if where is section
        ]
    return rows


def markdown(rows: Sequence[tuple[str, str, str]] | None = None) -> str:
    """Return docs/shortcuts.md: the introduction, then one table per section.

    Parameters
    ----------
    rows
        ``(section, keys, action)`` rows; :func:`shortcut_rows` when None.
    """
    lines = [_INTRODUCTION]
    section = None
    for where, keys, text in shortcut_rows() if rows is None else rows:
        if where != section:
            section = where
            lines += ["", f"## {section}", "", "| Keys | Action |", "|---|---|"]
        lines.append(f"| `{keys}` | {text} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the shortcuts document (``--markdown``)."""
    parser = argparse.ArgumentParser(
        prog="python -m galactoview.ui.shell.actions",
        description="Print the keyboard and mouse shortcuts of the actions table.",
    )
    parser.add_argument("--markdown", action="store_true", help="print docs/shortcuts.md")
    arguments = parser.parse_args(argv)
    if not arguments.markdown:
        parser.print_help()
        return 2
    sys.stdout.write(markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
