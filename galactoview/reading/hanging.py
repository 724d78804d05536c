r"""Hanging protocols: which image hangs in which viewport cell, and how (Qt-free).

A hanging is a grid of cells (row-major); each cell holds the index of an image
in the sequence of :class:`~galactoview.dicom.loading.ImageRecord` passed in
(or ``None``), the flip that makes it hang conventionally, the side of the cell
it is aligned to and the group of cells that share one physical scale.

Protocols
---------
Galactography (:func:`galactography_hanging`)
    The *galactography study* is the newest study holding post-contrast MG
    images (``record.contrast_phase`` is POST). The *injected side* is the
    majority laterality of those post-contrast images (a tie goes to the side of
    the last acquired one). Stages (:class:`GalactographyStage`):

    * ``POST``: post-contrast CC | ML of the injected side (1×2);
    * ``PRE``: pre-contrast scout CC | ML (1×2);
    * ``COMPARE_PRE``: post CC | post ML over pre CC | pre ML (2×2);
    * ``MAGNIFICATION``: post CC | the magnified view(s) of the side (1×2, or
      1×3 with two magnified views; with more, the last two acquired);
    * ``COMPARE_PRIOR``: post CC | post ML over the prior study's CC | MLO (2×2).

    "ML" means the true lateral: ML is preferred, then LM, then the MLO (the
    substitution is reported in the notes). The prior study's oblique cell
    prefers the MLO, then ML, then LM. The *prior study* is the newest other
    study of the same patient (same Patient ID, else same Patient's Name) that
    holds MG images of the injected side. CC and ML cells take non-magnified
    images only; magnified ones (``view.is_magnified``) go to the magnification
    cells whatever their contrast phase. Only images of the galactography study
    fill the POST, PRE, COMPARE_PRE and MAGNIFICATION cells.

    A stage is offered (:func:`galactography_stages`) when one of its *own*
    cells is filled: the post cells for POST, the pre-contrast cells for PRE
    and COMPARE_PRE, the magnified cells for MAGNIFICATION, the prior cells for
    COMPARE_PRIOR (the post-contrast reference cells shared by every stage do
    not count, otherwise every stage would always be offered).

Mammography 4-up (:func:`mammography_hanging`)
    RCC | LCC over RMLO | LMLO of one study, the right breast on the viewer's
    left. An oblique cell without MLO takes the ML, then the LM.

Colour images (key images, secondary captures: any Photometric Interpretation other
than MONOCHROME1/2, PS3.3 C.7.6.3.1.2) are not mammograms even when their Modality is
MG: no protocol hangs them in a mammography cell (a note says why); they stay reachable
in the study browser and in the manual layouts.

Manual (:func:`manual_hanging`)
    1-up, 1×2, 2×2 ...: consecutive images in the given order from ``first``.

Choice of candidates
--------------------
When several images fit a cell, the last acquired one is hung: the largest
Acquisition DateTime (an image without one counts as acquired first), then
Series Number, then Instance Number, then position in the sequence. The others
are listed in :attr:`Hanging.notes` as not hung.

Which view an image shows
-------------------------
``record.view`` (View Code Sequence, else View Position, with Image Laterality)
comes first. When its laterality or view is still unknown, the Series
Description (0008,103E) fills the gaps (:func:`parse_series_description`);
the magnification modifier is taken from the description only when the view was
not coded in the View Code Sequence. The Study Description is never used: it
names the whole examination.

Flip, anchor and pair
---------------------
Every filled cell has the flip of
:func:`~galactoview.dicom.mammography.hanging_flip` for its view. The IHE
Mammography Image profile (and PS3.3 C.8.11.7) orientation targets are
LCC ``A\R`` and RCC ``P\L`` (LMLO ``A\F``, RMLO ``P\F``): once hung, the rows of
a left-breast image run anterior, so its chest wall (posterior) is at the
viewer's left and the nipple points right; a right-breast image is the mirror.
Our reading: each cell is aligned (:class:`Anchor`) on its chest-wall side,
``LEFT`` for the left breast, ``RIGHT`` for the right one, so that in the 4-up
the two chest walls meet back to back in the middle of the screen, nipples
pointing outward. The anchor is worked out from the Patient Orientation after
the flip (rows running ``A`` → ``LEFT``, ``P`` → ``RIGHT``), from the laterality
when the orientation is absent, and is ``CENTER`` otherwise.

Cells with the same :attr:`Cell.pair` number are shown at the same physical
scale (mm per screen pixel) with linked zoom: 4-up CCs pair 0 and obliques
pair 1; both cells of POST and PRE pair 0; all four cells of COMPARE_PRE and
COMPARE_PRIOR pair 0; none in MAGNIFICATION (the magnified view is meant to be
seen larger) and in manual layouts.

Nothing here raises for missing or odd attributes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from galactoview.dicom.loading import ImageRecord
from galactoview.dicom.mammography import (
    VIEW_CODES,
    ContrastPhase,
    Flip,
    Laterality,
    MammoView,
    PatientOrientation,
    hanging_flip,
)

__all__ = [
    "Anchor",
    "Cell",
    "EdgeLetters",
    "GalactographyStage",
    "Hanging",
    "ProtocolKind",
    "choose_hanging",
    "edge_letters",
    "galactography_hanging",
    "galactography_stages",
    "galactography_study",
    "mammography_hanging",
    "mammography_studies",
    "manual_hanging",
    "parse_series_description",
    "placement",
    "prior_study",
    "resolved_view",
]


class ProtocolKind(StrEnum):
    """The family of a hanging protocol."""

    GALACTOGRAPHY = "galactography"
    MAMMOGRAPHY = "mammography"
    MANUAL = "manual"


class GalactographyStage(StrEnum):
    """The steps of reading a galactography (ductography) study."""

    POST = "post-contrast"
    PRE = "pre-contrast scout"
    COMPARE_PRE = "post vs pre"
    MAGNIFICATION = "magnification"
    COMPARE_PRIOR = "post vs prior"


class Anchor(StrEnum):
    """The side of its viewport an image is aligned to (its chest-wall side)."""

    LEFT = "left"
    RIGHT = "right"
    CENTER = "center"


@dataclass(frozen=True, slots=True)
class Cell:
    """One viewport of a hanging.

    Attributes
    ----------
    image
        Index of the image in the sequence passed to the protocol, ``None`` when
        the cell is empty.
    expected
        What the cell is meant to show, e.g. ``"L CC post"``, ``"R MLO"``;
        ``""`` in manual layouts.
    flip
        Flips to apply to the stored pixels (``Flip()`` for an empty cell).
    anchor
        Side of the viewport the image is aligned to.
    pair
        Cells with the same number share one physical scale and linked zoom;
        ``None`` for a cell fitted on its own.
    """

    image: int | None
    expected: str = ""
    flip: Flip = field(default_factory=Flip)
    anchor: Anchor = Anchor.CENTER
    pair: int | None = None


@dataclass(frozen=True, slots=True)
class Hanging:
    """A layout of images on a grid of viewports.

    Attributes
    ----------
    kind
        Protocol family.
    name
        Human title, e.g. ``"Galactography L: post-contrast CC | ML"``.
    rows, columns
        Grid size.
    cells
        ``rows * columns`` cells, row-major.
    stage
        The galactography stage, ``None`` for other protocols.
    study_instance_uid
        The study shown (the galactography study; for manual layouts the study
        of the first filled cell), ``""`` if none.
    notes
        One line each: expected views that are missing, substitutions, images
        not hung and why.

    Raises
    ------
    ValueError
        If the grid is empty or the number of cells is not ``rows * columns``.
    """

    kind: ProtocolKind
    name: str
    rows: int
    columns: int
    cells: tuple[Cell, ...]
    stage: GalactographyStage | None = None
    study_instance_uid: str = ""
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.rows < 1 or self.columns < 1:
            raise ValueError(f"a hanging needs at least one cell, not {self.rows}×{self.columns}")
        if len(self.cells) != self.rows * self.columns:
            raise ValueError(
                f"{self.rows}×{self.columns} hanging needs {self.rows * self.columns} cells, "
                f"got {len(self.cells)}"
            )

    def image_indices(self) -> tuple[int, ...]:
        """Return the image indices of the filled cells, in cell order."""
        return tuple(cell.image for cell in self.cells if cell.image is not None)


@dataclass(frozen=True, slots=True)
class EdgeLetters:
    """Patient direction letters to print at the middle of each viewport edge.

    Attributes
    ----------
    left, right, top, bottom
        E.g. ``"P"``, ``"A"``, ``"L"``, ``"R"`` for a hung LCC.
    """

    left: str
    right: str
    top: str
    bottom: str


# ------------------------------------------------------------------ view of an image

#: Views recognised in a Series Description (a modest subset of CID 4014).
_DESCRIPTION_VIEWS: Final = ("MLO", "LMO", "XCCL", "XCCM", "CC", "ML", "LM", "FB")
#: ``[M|MAG]`` + laterality + view in one word: ``LCC``, ``RMLO``, ``MLCC`` (magnified L CC).
_COMPACT: Final = re.compile(r"(MAG|M)?([LR])(" + "|".join(_DESCRIPTION_VIEWS) + r")")
_LATERALITY_WORDS: Final = {
    "L": Laterality.LEFT,
    "LEFT": Laterality.LEFT,
    "R": Laterality.RIGHT,
    "RIGHT": Laterality.RIGHT,
}
_MAGNIFICATION_WORDS: Final = frozenset({"MAG", "MAGNIFICATION", "MAGNIFIED"})
_CODE_BY_SHORT_NAME: Final = {code.short_name: code.value for code in VIEW_CODES.values()}
_DESCRIPTION_SOURCE: Final = "Series Description"


def parse_series_description(text: str) -> MammoView:
    """Read laterality, view and magnification from a Series Description (0008,103E).

    The description is upper-cased and split into words of letters. Recognised:

    * one word ``[M|MAG]<L|R><view>``: ``LCC``, ``RMLO``, ``LML``, ``RLM``,
      ``MLCC`` (magnified left CC);
    * separate words: ``L``/``LEFT``/``R``/``RIGHT``; a view ``CC``, ``MLO``,
      ``ML``, ``LM``, ``LMO``, ``XCCL``, ``XCCM``, ``FB``; ``MAG``,
      ``MAGNIFICATION``, ``MAGNIFIED``.

    Two different lateralities or views make that part unknown.

    Parameters
    ----------
    text
        The Series Description.

    Returns
    -------
    MammoView
        Source ``"Series Description"`` when anything was found, else an empty view.
    """
    lateralities: set[Laterality] = set()
    views: set[str] = set()
    magnified = False
    for word in re.findall(r"[A-Z]+", str(text or "").upper()):
        compact = _COMPACT.fullmatch(word)
        if compact is not None:
            magnified |= compact.group(1) is not None
            lateralities.add(_LATERALITY_WORDS[compact.group(2)])
            views.add(compact.group(3))
        elif word in _LATERALITY_WORDS:
            lateralities.add(_LATERALITY_WORDS[word])
        elif word in _DESCRIPTION_VIEWS:
            views.add(word)
        elif word in _MAGNIFICATION_WORDS:
            magnified = True
    laterality = lateralities.pop() if len(lateralities) == 1 else Laterality.UNKNOWN
    short_name = views.pop() if len(views) == 1 else ""
    modifiers = ("MAG",) if magnified else ()
    found = laterality is not Laterality.UNKNOWN or short_name or magnified
    return MammoView(
        laterality,
        _CODE_BY_SHORT_NAME.get(short_name, ""),
        short_name,
        modifiers,
        _DESCRIPTION_SOURCE if found else "",
    )


def resolved_view(record: ImageRecord) -> MammoView:
    """Return the view of an image, gaps filled from its Series Description.

    Parameters
    ----------
    record
        The image.

    Returns
    -------
    MammoView
        ``record.view`` when its laterality and view are known; otherwise the
        unknown parts come from :func:`parse_series_description` and the source
        says so (e.g. ``"View Position + Series Description"``).
    """
    view = record.view
    coded = view.source == "View Code Sequence"
    if view.laterality is not Laterality.UNKNOWN and view.short_name and coded:
        return view
    parsed = parse_series_description(record.series_description)
    laterality = view.laterality
    short_name, code = view.short_name, view.view_code
    modifiers = view.modifiers
    used = False
    if laterality is Laterality.UNKNOWN and parsed.laterality is not Laterality.UNKNOWN:
        laterality, used = parsed.laterality, True
    if not short_name and parsed.short_name:
        short_name, code, used = parsed.short_name, parsed.view_code, True
    if not coded and parsed.is_magnified and not view.is_magnified:
        modifiers, used = (*modifiers, "MAG"), True
    if not used:
        return view
    source = f"{view.source} + {_DESCRIPTION_SOURCE}" if view.source else _DESCRIPTION_SOURCE
    return MammoView(laterality, code, short_name, modifiers, source)


# ------------------------------------------------------------------ facts per image


@dataclass(frozen=True, slots=True)
class _Image:
    """What the protocols need to know about one image."""

    index: int
    record: ImageRecord
    view: MammoView

    @property
    def side(self) -> Laterality:
        """Return LEFT or RIGHT, else UNKNOWN (``B`` cannot hang on one side)."""
        lat = self.view.laterality
        return lat if lat in (Laterality.LEFT, Laterality.RIGHT) else Laterality.UNKNOWN

    @property
    def is_colour(self) -> bool:
        """Return whether the image is in colour (PS3.3 C.7.6.3.1.2: not MONOCHROME1/2)."""
        photometric = self.record.photometric_interpretation.strip().upper()
        return bool(photometric) and not photometric.startswith("MONOCHROME")

    @property
    def is_mg(self) -> bool:
        """Return whether the image is a mammogram: Modality (0008,0060) MG, grayscale.

        A colour image filed as MG (a key image or secondary capture of the study) is
        not hung in a mammography cell; it stays in the study browser and the manual
        layouts.
        """
        return self.record.modality.strip().upper() == "MG" and not self.is_colour

    @property
    def order(self) -> tuple[str, int, int, int]:
        """Return the acquisition order key (last acquired is largest)."""
        record = self.record
        return (
            record.acquisition_date_time.strip(),
            -1 if record.series_number is None else record.series_number,
            -1 if record.instance_number is None else record.instance_number,
            self.index,
        )

    @property
    def label(self) -> str:
        """Return ``"image #3 (L CC MAG, post-contrast)"`` for notes.

        The number is the Instance Number the study browser shows (``#3``), else the
        image's place among those loaded, counted from 1.
        """
        parts = [self.view.label or "unknown view"]
        if self.record.contrast_phase is not ContrastPhase.UNKNOWN:
            parts.append(f"{self.record.contrast_phase.value}-contrast")
        if not self.is_mg:
            parts.append(self.record.modality.strip() or "no modality")
        number = self.record.instance_number
        name = f"image #{number}" if number is not None else f"image {self.index + 1}"
        return f"{name} ({', '.join(parts)})"


def _facts(images: Sequence[ImageRecord]) -> list[_Image]:
    """Resolve every image once."""
    return [_Image(index, record, resolved_view(record)) for index, record in enumerate(images)]


def _study_keys(facts: Sequence[_Image]) -> dict[str, tuple[str, str, str]]:
    """Return a sort key per study UID: study date, last acquisition, UID."""
    keys: dict[str, tuple[str, str, str]] = {}
    for image in facts:
        uid = image.record.study_instance_uid
        key = (image.record.study_date.strip(), image.record.acquisition_date_time.strip(), uid)
        old = keys.get(uid)
        keys[uid] = key if old is None else (max(old[0], key[0]), max(old[1], key[1]), uid)
    return keys


def _studies_newest_first(facts: Sequence[_Image]) -> list[str]:
    """Return the study UIDs, newest first (Study Date, then last acquisition)."""
    keys = _study_keys(facts)
    return sorted(keys, key=lambda uid: keys[uid], reverse=True)


def _study_date(facts: Sequence[_Image], uid: str) -> str:
    """Return the Study Date of a study as ``YYYY-MM-DD`` (as stored if not 8 digits)."""
    date = next(
        (i.record.study_date.strip() for i in facts if i.record.study_instance_uid == uid), ""
    )
    if len(date) == 8 and date.isdigit():
        return f"{date[:4]}-{date[4:6]}-{date[6:]}"
    return date or "undated"


def _same_patient(a: ImageRecord, b: ImageRecord) -> bool:
    """Compare Patient ID, else Patient's Name; unknown identity counts as the same."""
    if a.patient_id.strip() and b.patient_id.strip():
        return a.patient_id.strip() == b.patient_id.strip()
    if a.patient_name.strip() and b.patient_name.strip():
        return a.patient_name.strip() == b.patient_name.strip()
    return True


def _anchor(image: _Image, flip: Flip) -> Anchor:
    """Return the chest-wall side of a hung image (see the module docstring)."""
    orientation = image.record.patient_orientation
    if orientation is None:
        return {Laterality.LEFT: Anchor.LEFT, Laterality.RIGHT: Anchor.RIGHT}.get(
            image.side, Anchor.CENTER
        )
    letter = next((c for c in orientation.row if c in "AP"), None)
    if letter is None:
        return Anchor.CENTER
    if flip.horizontal:
        letter = "P" if letter == "A" else "A"
    return Anchor.LEFT if letter == "A" else Anchor.RIGHT


def _placement(image: _Image) -> tuple[Flip, Anchor]:
    flip = hanging_flip(image.view, image.record.patient_orientation)
    return flip, _anchor(image, flip)


def placement(record: ImageRecord) -> tuple[Flip, Anchor]:
    """Return how one image hangs wherever it is shown: its flip and chest-wall side.

    The same rules as the protocols' cells (:func:`hanging_flip` on the view resolved
    with :func:`resolved_view`), for an image the reader puts in a viewport by hand.

    Parameters
    ----------
    record
        The image.

    Returns
    -------
    tuple of Flip and Anchor
        The flip to apply as a transform, and the side its chest wall touches.
    """
    return _placement(_Image(-1, record, resolved_view(record)))


def _hung_cell(image: _Image, expected: str, pair: int | None) -> Cell:
    """Return a filled cell with the hanging flip and anchor of the image."""
    flip, anchor = _placement(image)
    return Cell(image.index, expected, flip, anchor, pair)


# ------------------------------------------------------------------ slot filling


@dataclass(frozen=True, slots=True)
class _Slot:
    """A cell to fill: acceptable views (in preference order) among candidates."""

    expected: str
    missing: str
    views: tuple[str, ...]
    candidates: tuple[_Image, ...]
    pair: int | None
    own: bool = True


@dataclass(slots=True)
class _Layout:
    """Cells and notes being built."""

    cells: list[Cell] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    used: set[int] = field(default_factory=set)
    own_filled: bool = False

    def fill(self, slot: _Slot) -> None:
        """Fill one cell with the last acquired candidate of the preferred view."""
        for rank, view in enumerate(slot.views):
            fitting = [
                image
                for image in slot.candidates
                if image.view.short_name == view and image.index not in self.used
            ]
            if fitting:
                chosen = max(fitting, key=lambda image: image.order)
                self.add(chosen, slot.expected, slot.pair, own=slot.own)
                if rank:
                    self.notes.append(f"{slot.missing}: {chosen.view.label} hung instead")
                return
        self.cells.append(Cell(None, slot.expected, Flip(), Anchor.CENTER, slot.pair))
        self.notes.append(slot.missing)

    def add(self, image: _Image, expected: str, pair: int | None, *, own: bool) -> None:
        """Hang one image."""
        self.cells.append(_hung_cell(image, expected, pair))
        self.used.add(image.index)
        self.own_filled |= own

    def report_unhung(self, scope: Sequence[_Image], why: dict[int, str]) -> None:
        """Add a note for each image of ``scope`` not hung, with its reason."""
        for image in scope:
            if image.index not in self.used:
                reason = why.get(image.index, "fits no cell of this layout")
                self.notes.append(f"{image.label} not hung: {reason}")


def _reason(image: _Image, side: Laterality | None, slots: Sequence[_Slot]) -> str:
    """Explain why an image was not hung in a layout."""
    if image.is_colour:
        return "a colour image (key image or capture), not a mammogram"
    if not image.is_mg:
        return "not a mammography (MG) image"
    if image.view.laterality is Laterality.BOTH:
        return "laterality B (both breasts)"
    if image.side is Laterality.UNKNOWN:
        return "laterality unknown"
    if side is not None and image.side is not side:
        return f"other side than the {side.value} breast shown"
    if not image.view.short_name and not image.view.is_magnified:
        return "view unknown"
    for slot in slots:
        if any(c.index == image.index for c in slot.candidates) and (
            image.view.short_name in slot.views
        ):
            return f"the {slot.expected} cell shows a later acquired or preferred view"
    if image.view.is_magnified:
        return "magnified view"
    return "fits no cell of this layout"


def _why(
    facts: Sequence[_Image], side: Laterality | None, slots: Sequence[_Slot]
) -> dict[int, str]:
    """Return the reason each image would not be hung."""
    return {image.index: _reason(image, side, slots) for image in facts}


# ------------------------------------------------------------------ galactography

_SIDES: Final = (Laterality.LEFT, Laterality.RIGHT)
_LATERALS: Final = ("ML", "LM", "MLO")
_OBLIQUES: Final = ("MLO", "ML", "LM")


@dataclass(frozen=True, slots=True)
class _Galactography:
    """The galactography study, injected side and prior study of a set of images."""

    facts: tuple[_Image, ...]
    study: str
    side: Laterality
    prior: str | None

    def of_study(self, uid: str) -> list[_Image]:
        """Return the images of one study."""
        return [i for i in self.facts if i.record.study_instance_uid == uid]

    def candidates(self, phase: ContrastPhase | None, *, prior: bool = False) -> tuple[_Image, ...]:
        """Return the non-magnified MG images of the side in the study (or prior) of a phase."""
        uid = self.prior if prior else self.study
        if uid is None:
            return ()
        return tuple(
            i
            for i in self.of_study(uid)
            if i.is_mg
            and i.side is self.side
            and not i.view.is_magnified
            and (phase is None or i.record.contrast_phase is phase)
        )

    def magnified(self) -> list[_Image]:
        """Return the magnified MG images of the side in the study, in acquisition order."""
        return sorted(
            (
                i
                for i in self.of_study(self.study)
                if i.is_mg and i.side is self.side and i.view.is_magnified
            ),
            key=lambda image: image.order,
        )


def _galactography(facts: Sequence[_Image]) -> _Galactography | None:
    """Find the galactography study and its injected side, ``None`` if there is none."""
    posts = [i for i in facts if i.is_mg and i.record.contrast_phase is ContrastPhase.POST]
    if not posts:
        return None
    keys = _study_keys(facts)
    study = max({i.record.study_instance_uid for i in posts}, key=lambda uid: keys[uid])
    sided = [i for i in posts if i.record.study_instance_uid == study and i.side in _SIDES]
    if not sided:
        return _Galactography(tuple(facts), study, Laterality.UNKNOWN, None)
    counts = Counter(i.side for i in sided)
    (first, n_first), *rest = counts.most_common()
    side = first
    if rest and rest[0][1] == n_first:
        side = max(sided, key=lambda image: image.order).side
    reference = next(i.record for i in facts if i.record.study_instance_uid == study)
    prior = next(
        (
            uid
            for uid in _studies_newest_first(facts)
            if uid != study
            and any(
                i.record.study_instance_uid == uid
                and i.is_mg
                and i.side is side
                and _same_patient(i.record, reference)
                for i in facts
            )
        ),
        None,
    )
    return _Galactography(tuple(facts), study, side, prior)


def _post_slots(g: _Galactography, *, own: bool) -> list[_Slot]:
    """Return the post-contrast CC and ML slots."""
    s = g.side.value
    posts = g.candidates(ContrastPhase.POST)
    return [
        _Slot(f"{s} CC post", f"no post-contrast {s} CC", ("CC",), posts, 0, own),
        _Slot(f"{s} ML post", f"no post-contrast {s} ML", _LATERALS, posts, 0, own),
    ]


def _pre_slots(g: _Galactography) -> list[_Slot]:
    """Return the pre-contrast scout CC and ML slots."""
    s = g.side.value
    pres = g.candidates(ContrastPhase.PRE)
    return [
        _Slot(f"{s} CC pre", f"no pre-contrast {s} CC", ("CC",), pres, 0),
        _Slot(f"{s} ML pre", f"no pre-contrast {s} ML", _LATERALS, pres, 0),
    ]


def _prior_slots(g: _Galactography) -> list[_Slot]:
    """Return the prior study's CC and MLO slots."""
    s = g.side.value
    priors = g.candidates(None, prior=True)
    where = "in the prior study" if g.prior is not None else "(no prior study)"
    return [
        _Slot(f"{s} CC prior", f"no {s} CC {where}", ("CC",), priors, 0),
        _Slot(f"{s} MLO prior", f"no {s} MLO {where}", _OBLIQUES, priors, 0),
    ]


#: Most magnified views shown next to the post-contrast CC.
_MAX_MAGNIFIED: Final = 2


def _role(g: _Galactography, image: _Image) -> str:
    """Return ``"post"``, ``"pre"``, ``"mag"`` or ``"stray"`` (fits no galactography cell)."""
    if not image.is_mg or image.side is not g.side:
        return "stray"
    if image.view.is_magnified:
        return "mag"
    phase = image.record.contrast_phase
    if phase is ContrastPhase.POST:
        return "post"
    if phase is ContrastPhase.PRE:
        return "pre"
    return "stray"


#: The galactography-study images whose absence from a stage is worth a note.
_STAGE_ROLES: Final = {
    GalactographyStage.POST: frozenset({"post", "stray"}),
    GalactographyStage.PRE: frozenset({"pre", "stray"}),
    GalactographyStage.COMPARE_PRE: frozenset({"post", "pre", "stray"}),
    GalactographyStage.MAGNIFICATION: frozenset({"mag", "stray"}),
    GalactographyStage.COMPARE_PRIOR: frozenset({"post", "stray"}),
}


def _stage_slots(g: _Galactography, stage: GalactographyStage) -> tuple[list[_Slot], int, str]:
    """Return the CC/ML slots of a stage, its number of rows and its title."""
    if stage is GalactographyStage.POST:
        return _post_slots(g, own=True), 1, "post-contrast CC | ML"
    if stage is GalactographyStage.PRE:
        return _pre_slots(g), 1, "pre-contrast scout CC | ML"
    if stage is GalactographyStage.COMPARE_PRE:
        return _post_slots(g, own=False) + _pre_slots(g), 2, "post vs pre-contrast scout"
    if stage is GalactographyStage.MAGNIFICATION:
        cc = _post_slots(g, own=False)[0]
        alone = _Slot(cc.expected, cc.missing, cc.views, cc.candidates, None, own=False)
        return [alone], 1, "post-contrast CC | magnification"
    when = f" ({_study_date(g.facts, g.prior)})" if g.prior is not None else ""
    return _post_slots(g, own=False) + _prior_slots(g), 2, f"post-contrast vs prior{when}"


def _build_stage(g: _Galactography, stage: GalactographyStage) -> tuple[Hanging, bool]:
    """Lay out one galactography stage; also tell whether one of its own cells is filled."""
    s = g.side.value
    slots, rows, title = _stage_slots(g, stage)
    layout = _Layout()
    for slot in slots:
        layout.fill(slot)
    magnified = g.magnified()
    why = _why(g.facts, g.side, slots)
    if stage is GalactographyStage.MAGNIFICATION:
        shown = magnified[-_MAX_MAGNIFIED:]
        for image in shown:
            layout.add(image, image.view.label or f"{s} MAG", None, own=True)
        if not shown:
            layout.cells.append(Cell(None, f"{s} MAG", Flip(), Anchor.CENTER, None))
            layout.notes.append(f"no magnified {s} view")
        for image in magnified[:-_MAX_MAGNIFIED]:
            why[image.index] = f"only the last {_MAX_MAGNIFIED} magnified views are shown"
    roles = _STAGE_ROLES[stage]
    scope = [i for i in g.of_study(g.study) if _role(g, i) in roles]
    for image in scope:
        if image.is_mg and image.side is g.side and _role(g, image) == "stray":
            why[image.index] = "contrast phase unknown (neither pre- nor post-contrast)"
    if stage is GalactographyStage.COMPARE_PRIOR and g.prior is not None:
        scope += g.of_study(g.prior)
    layout.report_unhung(scope, why)
    columns = len(layout.cells) // rows
    hanging = Hanging(
        ProtocolKind.GALACTOGRAPHY,
        f"Galactography {s}: {title}",
        rows,
        columns,
        tuple(layout.cells),
        stage,
        g.study,
        tuple(layout.notes),
    )
    return hanging, layout.own_filled


def _stages(facts: Sequence[_Image]) -> dict[GalactographyStage, tuple[Hanging, bool]]:
    """Lay out every stage (empty when there is no galactography with a known side)."""
    g = _galactography(facts)
    if g is None or g.side is Laterality.UNKNOWN:
        return {}
    return {stage: _build_stage(g, stage) for stage in GalactographyStage}


def galactography_study(images: Sequence[ImageRecord]) -> str | None:
    """Return the Study Instance UID of the galactography study.

    Parameters
    ----------
    images
        All loaded images.

    Returns
    -------
    str or None
        The newest study holding post-contrast MG images, ``None`` if there is none.
    """
    g = _galactography(_facts(images))
    return None if g is None else g.study


def prior_study(images: Sequence[ImageRecord]) -> str | None:
    """Return the prior study compared with the galactography (COMPARE_PRIOR).

    Parameters
    ----------
    images
        All loaded images.

    Returns
    -------
    str or None
        The newest other study of the same patient with MG images of the
        injected side; ``None`` without galactography, injected side or prior.
    """
    g = _galactography(_facts(images))
    return None if g is None or g.side is Laterality.UNKNOWN else g.prior


def galactography_stages(images: Sequence[ImageRecord]) -> tuple[GalactographyStage, ...]:
    """Return the galactography stages that can be shown, POST first.

    Parameters
    ----------
    images
        All loaded images.

    Returns
    -------
    tuple of GalactographyStage
        The stages with one of their own cells filled (see the module
        docstring), in :class:`GalactographyStage` order; empty without
        post-contrast MG images of known laterality.
    """
    return tuple(stage for stage, (_, offered) in _stages(_facts(images)).items() if offered)


def galactography_hanging(
    images: Sequence[ImageRecord], stage: GalactographyStage
) -> Hanging | None:
    """Lay out one galactography stage.

    Parameters
    ----------
    images
        All loaded images; cells hold indices into this sequence.
    stage
        The stage to show.

    Returns
    -------
    Hanging or None
        ``None`` when the stage is not offered (:func:`galactography_stages`).
        The notes name the missing views, substitutions, images not hung and
        the stages not offered.
    """
    return _galactography_hanging(_stages(_facts(images)), stage)


def _galactography_hanging(
    stages: dict[GalactographyStage, tuple[Hanging, bool]], stage: GalactographyStage
) -> Hanging | None:
    """Return an offered stage, with notes on the stages not offered."""
    if stage not in stages or not stages[stage][1]:
        return None
    missing = tuple(
        f"stage '{other.value}' not offered: " + "; ".join(_missing(layout))
        for other, (layout, offered) in stages.items()
        if not offered
    )
    return _with_notes(stages[stage][0], missing)


def _missing(hanging: Hanging) -> list[str]:
    """Return the notes of a hanging that say an expected view is missing."""
    return [note for note in hanging.notes if note.startswith("no ")]


# ------------------------------------------------------------------ mammography


def _mammography_slots(facts: Sequence[_Image], uid: str) -> list[_Slot]:
    """Return the RCC, LCC, RMLO, LMLO slots of a study."""
    pool = [
        i
        for i in facts
        if i.record.study_instance_uid == uid and i.is_mg and not i.view.is_magnified
    ]
    right = tuple(i for i in pool if i.side is Laterality.RIGHT)
    left = tuple(i for i in pool if i.side is Laterality.LEFT)
    return [
        _Slot("R CC", "no R CC", ("CC",), right, 0),
        _Slot("L CC", "no L CC", ("CC",), left, 0),
        _Slot("R MLO", "no R MLO", _OBLIQUES, right, 1),
        _Slot("L MLO", "no L MLO", _OBLIQUES, left, 1),
    ]


def _mammography(facts: Sequence[_Image], uid: str) -> Hanging | None:
    """Lay out the 4-up of one study, ``None`` if no image fits."""
    slots = _mammography_slots(facts, uid)
    layout = _Layout()
    for slot in slots:
        layout.fill(slot)
    if not layout.used:
        return None
    scope = [i for i in facts if i.record.study_instance_uid == uid]
    layout.report_unhung(scope, _why(facts, None, slots))
    return Hanging(
        ProtocolKind.MAMMOGRAPHY,
        f"Mammography {_study_date(facts, uid)}: RCC | LCC over RMLO | LMLO",
        2,
        2,
        tuple(layout.cells),
        None,
        uid,
        tuple(layout.notes),
    )


def mammography_hanging(images: Sequence[ImageRecord], study_instance_uid: str) -> Hanging | None:
    """Lay out the mammography 4-up of one study: RCC | LCC over RMLO | LMLO.

    Parameters
    ----------
    images
        All loaded images; cells hold indices into this sequence.
    study_instance_uid
        The study to show.

    Returns
    -------
    Hanging or None
        ``None`` when no non-magnified MG image of that study with known
        laterality is a CC, MLO, ML or LM. CCs are pair 0, obliques pair 1.
    """
    return _mammography(_facts(images), study_instance_uid)


def mammography_studies(images: Sequence[ImageRecord]) -> tuple[str, ...]:
    """Return the studies that have a mammography 4-up, newest first.

    Parameters
    ----------
    images
        All loaded images.

    Returns
    -------
    tuple of str
        Study Instance UIDs for which :func:`mammography_hanging` is not ``None``.
    """
    facts = _facts(images)
    return tuple(uid for uid in _studies_newest_first(facts) if _fits_4up(facts, uid))


def _fits_4up(facts: Sequence[_Image], uid: str) -> bool:
    """Return whether some image of the study fits a 4-up cell."""
    return any(
        image.view.short_name in slot.views
        for slot in _mammography_slots(facts, uid)
        for image in slot.candidates
    )


# ------------------------------------------------------------------ manual


def _manual(facts: Sequence[_Image], rows: int, columns: int, first: int) -> Hanging:
    """Lay out consecutive images from ``first``."""
    if first < 0:
        raise ValueError(f"first image index must not be negative, got {first}")
    cells: list[Cell] = []
    for index in range(first, first + max(rows, 0) * max(columns, 0)):
        if index >= len(facts):
            cells.append(Cell(None))
            continue
        image = facts[index]
        if image.side is Laterality.UNKNOWN or not image.view.short_name:
            cells.append(Cell(index, "", Flip(), _anchor(image, Flip()), None))
        else:
            cells.append(_hung_cell(image, "", None))
    filled = [cell.image for cell in cells if cell.image is not None]
    uid = facts[filled[0]].record.study_instance_uid if filled else ""
    return Hanging(
        ProtocolKind.MANUAL,
        "1-up" if rows * columns == 1 else f"{rows}×{columns}",
        rows,
        columns,
        tuple(cells),
        None,
        uid,
    )


def manual_hanging(
    images: Sequence[ImageRecord], rows: int, columns: int, first: int = 0
) -> Hanging:
    """Lay out images in their given order: 1-up, 1×2, 2×2 ...

    Parameters
    ----------
    images
        All loaded images in display order; cells hold indices into this sequence.
    rows, columns
        Grid size (at least 1 each).
    first
        Index of the image in the first cell; cells past the end are empty.

    Returns
    -------
    Hanging
        Cells ``first``, ``first + 1`` ... with the hanging flip when the
        image's laterality and view are known (``Flip()`` otherwise), no pair.

    Raises
    ------
    ValueError
        If ``rows`` or ``columns`` is below 1 or ``first`` is negative.
    """
    return _manual(_facts(images), rows, columns, first)


# ------------------------------------------------------------------ default


def choose_hanging(images: Sequence[ImageRecord]) -> Hanging:
    """Return the hanging to show first.

    1. Galactography POST (or its first offered stage) when the galactography
       study is the newest study loaded;
    2. else the mammography 4-up of the newest study, when it has MG images of
       known laterality with a CC, MLO, ML or LM view;
    3. else a manual 1-up of image 0 (one empty cell without images), with a
       note saying why no protocol applies.

    Parameters
    ----------
    images
        All loaded images; cells hold indices into this sequence.

    Returns
    -------
    Hanging
        The default layout; never raises.
    """
    facts = _facts(images)
    if not facts:
        return _with_notes(_manual(facts, 1, 1, 0), ("no images",))
    newest = _studies_newest_first(facts)[0]
    g = _galactography(facts)
    if g is not None and g.study == newest:
        stages = _stages(facts)
        offered = [stage for stage, (_, ok) in stages.items() if ok]
        if offered:
            hanging = _galactography_hanging(stages, offered[0])
            if hanging is not None:
                return hanging
    four_up = _mammography(facts, newest)
    if four_up is not None:
        return four_up
    notes = ["no hanging protocol fits the newest study: images shown one by one"]
    notes += [
        f"{image.label}: {_reason(image, None, ())}"
        for image in facts
        if image.record.study_instance_uid == newest
    ]
    return _with_notes(_manual(facts, 1, 1, 0), tuple(notes))


def _with_notes(hanging: Hanging, notes: tuple[str, ...]) -> Hanging:
    """Return the hanging with notes appended."""
    return Hanging(
        hanging.kind,
        hanging.name,
        hanging.rows,
        hanging.columns,
        hanging.cells,
        hanging.stage,
        hanging.study_instance_uid,
        (*hanging.notes, *notes),
    )


# ------------------------------------------------------------------ edge letters

_OPPOSITE: Final = {"A": "P", "P": "A", "R": "L", "L": "R", "H": "F", "F": "H"}


def _opposite(value: str) -> str:
    """Return the opposite patient direction, letter by letter (``FR`` → ``HL``)."""
    return "".join(_OPPOSITE.get(letter, letter) for letter in value)


def edge_letters(orientation: PatientOrientation | None, flip: Flip) -> EdgeLetters | None:
    r"""Return the patient direction letters of the viewport edges after a flip.

    PS3.3 C.7.6.1.1.1: the first value of Patient Orientation (0020,0020) is
    the direction of the rows (towards the right edge), the second the
    direction of the columns (towards the bottom edge); the left and top edges
    get the opposite letters. A horizontal flip swaps left and right, a
    vertical flip top and bottom. A hung RCC stored ``A\L`` (flipped
    horizontally) reads left ``A``, right ``P``, top ``R``, bottom ``L``.

    Parameters
    ----------
    orientation
        Patient Orientation of the stored image.
    flip
        The flips applied for display.

    Returns
    -------
    EdgeLetters or None
        ``None`` when the orientation is unknown.
    """
    if orientation is None:
        return None
    right, bottom = orientation.row, orientation.column
    left, top = _opposite(right), _opposite(bottom)
    if flip.horizontal:
        left, right = right, left
    if flip.vertical:
        top, bottom = bottom, top
    return EdgeLetters(left, right, top, bottom)
