"""Compose the phantom patient's studies, write them, and record the ground truth.

One call of :func:`generate` writes, under ``out``:

* ``dicom/<study>/<nn>_<label>.dcm`` — the ductogram of the injected breast (pre-contrast CC
  and ML, post-contrast CC and ML, magnified post-contrast CC) and a prior bilateral
  screening study (RCC, LCC, RMLO, LMLO) of the same patient, without contrast;
* ``ground_truth.json`` — nipple, lesions and their projections, and per post-contrast
  image the projected duct tree, filling defects and air bubbles (schema in
  ``sample_data/README.md``);
* ``previews/<label>.png`` — quarter-size previews through the viewer's display pipeline;
* ``dicom/<ductogram study>/galactoview-<StudyInstanceUID>.sr.json`` — the study's
  annotation sidecar marking the lesions and the nipple
  (:mod:`galactoview.phantom.annotations`), so the viewer shows annotations on first start;
* ``SHA256SUMS`` — checksums of everything above.

Everything is a pure function of ``seed``, ``side`` and ``bubbles``. With ``bubbles`` each
post-contrast exposure also holds air bubbles in the lumen (:mod:`galactoview.phantom.bubbles`),
the filling defects' look-alikes, recorded in the ground truth as distractors; the bundled
sample has none. :func:`expose` renders one planned exposure in memory, for
:mod:`galactoview.phantom.cases`.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from dataclasses import dataclass, replace
from datetime import date, time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom import Dataset

from galactoview import __version__, files
from galactoview.imaging.display import DisplayPipeline, Window
from galactoview.phantom import dicom_writer as writer
from galactoview.phantom.anatomy import Breast, LesionKind, Side, clock_angle_deg, radial_offset_mm
from galactoview.phantom.annotations import write_sample_sidecar
from galactoview.phantom.breast_builder import draw_injected_breast, draw_plain_breast
from galactoview.phantom.bubbles import AirBubble, bubble_rng, bubble_truth, place_bubbles
from galactoview.phantom.centrelines import centreline_truth, defect_truth
from galactoview.phantom.geometry import Detector, ViewGeometry, ViewKind
from galactoview.phantom.render import Envelope, TextureVolume, make_texture, render_view

ROWS, COLUMNS, PIXEL_SPACING = 2294, 1914, 0.1
SID = 650.0
CONTACT_SUPPORT_MM = 18.0
MAGNIFICATION = 1.8
SCHEMA_VERSION = 2

#: The detector of the bundled sample (and the default of :mod:`galactoview.phantom.cases`).
SAMPLE_DETECTOR = Detector(ROWS, COLUMNS, PIXEL_SPACING)

PATIENT = writer.PatientInfo("PHANTOM^GALACTO^SYNTHETIC", "GV-PHANTOM-0001", date(1976, 5, 17))

#: CID 6057 Ductography Findings codes of each lesion kind (value, scheme, meaning).
FINDING_CODES: dict[LesionKind, tuple[str, str, str]] = {
    LesionKind.FILLING_DEFECT: ("111425", "DCM", "Intraluminal filling defect"),
    LesionKind.CYST_FILL: ("111430", "DCM", "Cyst fill"),
    LesionKind.DUCT_ECTASIA: ("22049009", "SCT", "Mammary duct ectasia"),
}

#: A lesion within this distance of the nipple (3-D) is also called subareolar.
SUBAREOLAR_RADIUS_MM = 20.0


@dataclass(frozen=True, slots=True)
class PlannedImage:
    """One image to acquire: which breast, view, phase, where it goes."""

    study_key: str
    series_number: int
    series_description: str
    label: str
    side: Side
    view: ViewKind
    contrast: bool
    magnified: bool
    monochrome1: bool
    mirrored: bool
    minute: int


#: Namespace of the phantom's name-based UUIDs.
_UID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "galactoview:phantom")


def _uid(seed: int, *parts: object) -> str:
    """Derive a deterministic UID from the seed: ``2.25.`` + a name-based UUID (PS3.5 B.2).

    (pydicom's ``generate_uid(prefix=None)`` always uses a random UUID4.)
    """
    name = "/".join(["seed", str(seed), *map(str, parts)])
    return f"2.25.{uuid.uuid5(_UID_NAMESPACE, name).int}"


def plan(side: Side) -> list[PlannedImage]:
    """List the images of the two studies, in acquisition order."""
    s = side.value
    cc, ml, mlo = ViewKind.CC, ViewKind.ML, ViewKind.MLO
    right, left = Side.RIGHT, Side.LEFT
    # The prior comes from another unit that stores MONOCHROME1 (Presentation LUT Shape
    # INVERSE) and, unusually, the RCC mirrored: both must be handled by the viewer.
    # study, series, description, label, side, view, contrast, magnified, MONOCHROME1,
    # mirrored, minute after the study time
    rows: list[tuple[str, int, str, str, Side, ViewKind, bool, bool, bool, bool, int]] = [
        ("ductogram", 1, "PRE-CONTRAST", f"{s}CC_PRE", side, cc, False, False, False, False, 0),
        ("ductogram", 1, "PRE-CONTRAST", f"{s}ML_PRE", side, ml, False, False, False, False, 1),
        ("ductogram", 2, "POST-CONTRAST", f"{s}CC_POST", side, cc, True, False, False, False, 8),
        ("ductogram", 2, "POST-CONTRAST", f"{s}ML_POST", side, ml, True, False, False, False, 9),
        ("ductogram", 3, "POST-CONTRAST MAGNIFICATION", f"{s}CC_MAG_POST", side, cc, True, True,
         False, False, 11),
        ("prior", 1, "SCREENING", "RCC", right, cc, False, False, True, True, 0),
        ("prior", 1, "SCREENING", "LCC", left, cc, False, False, True, False, 1),
        ("prior", 1, "SCREENING", "RMLO", right, mlo, False, False, True, False, 2),
        ("prior", 1, "SCREENING", "LMLO", left, mlo, False, False, True, False, 3),
    ]  # fmt: skip
    return [PlannedImage(*row) for row in rows]


def _geometry(
    item: PlannedImage, breast: Breast, detector: Detector = SAMPLE_DETECTOR
) -> ViewGeometry:
    # The chest wall lies on the detector's chest-wall edge, the nipple at mid-height (a
    # little lower on the MLO): a larger detector only adds empty field around the breast.
    height_mm = detector.rows * detector.pixel_spacing_mm
    width_mm = detector.columns * detector.pixel_spacing_mm
    nipple_row = height_mm * (0.58 if item.view is ViewKind.MLO else 0.5)
    contact = ViewGeometry(
        item.side,
        item.view,
        detector.rows,
        detector.columns,
        detector.pixel_spacing_mm,
        SID,
        CONTACT_SUPPORT_MM,
        breast.thickness,
        (breast.chest_wall_depth, nipple_row),
        item.mirrored,
    )
    if not item.magnified:
        return contact
    # Magnification stand: the mid-plane sits at SID / SOD = MAGNIFICATION. The paddle is
    # placed over the lobe: the nipple lands 12 mm inside the anterior edge and the lesions'
    # centroid at mid-height.
    mid_height = SID * (1.0 - 1.0 / MAGNIFICATION)
    nipple_column = (width_mm - 12.0) / MAGNIFICATION
    magnified = replace(
        contact,
        support_height=mid_height - breast.thickness / 2.0,
        nipple_offset=(nipple_column, nipple_row),
    )
    centroid = np.mean([lesion.center for lesion in breast.lesions], axis=0)
    shift = float(centroid @ magnified.row_axis)
    return replace(magnified, nipple_offset=(nipple_column, magnified.foot_point[1] - shift))


def _windows(
    pixels: NDArray[np.uint16], mask: NDArray[np.bool_], contrast: bool, monochrome1: bool
) -> tuple[Window, ...]:
    """Window presets computed from the breast's own values, as a modality would."""
    function = writer.sigmoid_or_linear(monochrome1)
    tissue = pixels[mask][::7].astype(np.float64)
    p = np.percentile(tissue, [1.0, 50.0, 85.0, 99.7, 99.97])
    standard = Window(round((p[0] + p[3]) / 2), round(p[3] - p[0]), function, "STANDARD")
    detail = Window(
        round((p[2] + p[4]) / 2),
        round(p[4] - p[2]) + 1,
        function,
        "DUCT DETAIL" if contrast else "DENSE TISSUE",
    )
    wide = Window(
        round((float(tissue.min()) + p[4]) / 2),
        round(1.4 * (p[4] - float(tissue.min()))),
        function,
        "WIDE",
    )
    return (standard, detail, wide)


def _point(geometry: ViewGeometry, p: NDArray[np.float64]) -> tuple[float, float]:
    c = geometry.project(p[None, :])[0]
    return (round(float(c[0]), 2), round(float(c[1]), 2))


def _inside(geometry: ViewGeometry, xy: tuple[float, float]) -> bool:
    return 0.0 <= xy[0] <= geometry.columns and 0.0 <= xy[1] <= geometry.rows


def _chest_wall(geometry: ViewGeometry, breast: Breast) -> dict[str, Any]:
    """Chest-wall reference of one image: the image edge (CC, ML) or the pectoral line (MLO)."""
    y_axis = np.array([0.0, 1.0, 0.0])
    if geometry.view is ViewKind.MLO:
        env = Envelope(breast, geometry)
        w_up = 1.45 * breast.half_width
        s_top, s_end = -w_up, 0.2 * breast.half_width
        pts = [
            float(env.pectoral_depth(np.array([s]))[0]) * y_axis + s * geometry.row_axis
            for s in (s_top, s_end)
        ]
        kind = "pectoral_line"
    else:
        pts = [breast.chest_wall_depth * y_axis + s * geometry.row_axis for s in (-90.0, 90.0)]
        kind = "image_edge"
    a, b = (_point(geometry, p) for p in pts)
    visible = 0.0 <= a[0] <= geometry.columns and 0.0 <= b[0] <= geometry.columns
    return {"kind": kind, "points": [list(a), list(b)], "visible": visible}


def lesion_truth(breast: Breast) -> list[dict[str, Any]]:
    """Ground truth of every lesion of a breast: position, clock, quadrant, depth, distance."""
    out = []
    for lesion in breast.lesions:
        x, y, z = lesion.center
        angle = clock_angle_deg(lesion.center)
        hour = round(angle / 30.0) % 12 or 12
        lateral = x * breast.side.lateral_sign > 0
        quadrant = ("U" if z > 0 else "L") + ("O" if lateral else "I") + "Q"
        third = y / breast.chest_wall_depth
        depth = "anterior" if third < 1 / 3 else "middle" if third < 2 / 3 else "posterior"
        distance = math.dist(lesion.center, (0.0, 0.0, 0.0))
        value, scheme, meaning = FINDING_CODES[lesion.kind]
        out.append(
            {
                "id": lesion.identifier,
                "kind": lesion.kind.value,
                "finding_code": {"value": value, "scheme": scheme, "meaning": meaning},
                "position_mm": {
                    "x_patient_left": round(x, 2),
                    "y_posterior": round(y, 2),
                    "z_superior": round(z, 2),
                },
                "size_mm": lesion.size_mm,
                "clock_angle_deg": round(angle, 2),
                "clock_hour": hour,
                "quadrant": quadrant,
                "depth_third": depth,
                "depth_fraction": round(third, 4),
                "distance_from_nipple_mm": round(distance, 2),
                "radial_offset_mm": round(radial_offset_mm(lesion.center), 2),
                "subareolar": distance < SUBAREOLAR_RADIUS_MM,
            }
        )
    return out


def _image_truth(
    item: PlannedImage,
    geometry: ViewGeometry,
    breast: Breast,
    path: str,
    sop_uid: str,
    bubbles: tuple[AirBubble, ...] = (),
) -> dict[str, Any]:
    nipple = _point(geometry, np.zeros(3))
    lesions = []
    for lesion in breast.lesions:
        c = np.asarray(lesion.center)
        xy = _point(geometry, c)
        m = float(geometry.local_magnification(c[None, :])[0])
        lesions.append(
            {
                "id": lesion.identifier,
                "column": xy[0],
                "row": xy[1],
                "projected_radius_px": round(lesion.size_mm / 2 * m / geometry.pixel_spacing, 2),
                "visible": item.contrast and _inside(geometry, xy),
            }
        )
    return {
        "file": path,
        "sop_instance_uid": sop_uid,
        "label": item.label,
        "laterality": item.side.value,
        "view": item.view.value,
        "magnified": item.magnified,
        "contrast": item.contrast,
        "photometric_interpretation": "MONOCHROME1" if item.monochrome1 else "MONOCHROME2",
        "patient_orientation": list(geometry.patient_orientation),
        "imager_pixel_spacing_mm": geometry.pixel_spacing,
        "magnification_factor": round(geometry.magnification, 4),
        "source_image_distance_mm": geometry.source_image_distance,
        "nipple": {"column": nipple[0], "row": nipple[1], "visible": _inside(geometry, nipple)},
        "chest_wall": _chest_wall(geometry, breast),
        "lesions": lesions if breast.lesions else [],
        # What the contrast shows: nothing before the injection.
        "ducts": centreline_truth(breast, geometry) if item.contrast else [],
        "defects": defect_truth(breast, geometry) if item.contrast else [],
        "bubbles": bubble_truth(bubbles, geometry) if item.contrast else [],
    }


#: Per-image lists written one item per line in ``ground_truth.json`` (a tree has ~100 ducts).
_ONE_LINE_ITEMS = ("ducts", "defects", "bubbles")


def ground_truth_text(ground_truth: dict[str, Any]) -> str:
    """Format the ground truth as ``ground_truth.json`` holds it.

    Indented JSON, except that each item of an image's ``ducts``, ``defects`` and
    ``bubbles`` stays on one line, so that the file remains readable and small.

    Parameters
    ----------
    ground_truth
        The dict :func:`generate` returns.

    Returns
    -------
    str
        The text, ending in a newline; ``json.loads`` gives ``ground_truth`` back.
    """
    lines: dict[str, str] = {}
    images = []
    for number, image in enumerate(ground_truth.get("images", [])):
        shallow = dict(image)
        for key in _ONE_LINE_ITEMS:
            if key not in image:
                continue
            tokens = []
            for position, item in enumerate(image[key]):
                token = f"@{number}/{key}/{position}@"
                lines[json.dumps(token)] = json.dumps(item, ensure_ascii=True)
                tokens.append(token)
            shallow[key] = tokens
        images.append(shallow)
    text = json.dumps({**ground_truth, "images": images}, indent=2, sort_keys=False)
    for token, line in lines.items():
        text = text.replace(token, line, 1)
    return text + "\n"


def _preview(ds_path: Path, out: Path) -> None:
    """Quarter-size 8-bit PNG through the viewer's own display pipeline (default window)."""
    import pydicom
    from PIL import Image

    ds = pydicom.dcmread(ds_path)
    pipeline = DisplayPipeline.from_dataset(ds)
    shown = pipeline.render(ds.pixel_array, pipeline.default_voi())
    image = Image.fromarray(shown).reduce(4)
    out.parent.mkdir(parents=True, exist_ok=True)
    files.write_atomically(out, lambda stream: image.save(stream, format="PNG", optimize=True))


def write_checksums(out: Path) -> Path:
    """Write ``SHA256SUMS`` (``sha256sum`` format) for every file under ``out``."""
    lines = []
    for f in sorted(p for p in out.rglob("*") if p.is_file()):
        rel = f.relative_to(out).as_posix()
        if rel in {"SHA256SUMS", "README.md"}:
            continue
        lines.append(f"{hashlib.sha256(f.read_bytes()).hexdigest()}  {rel}\n")
    target = out / "SHA256SUMS"
    data = "".join(lines).encode("utf-8")
    files.write_atomically(target, lambda stream: stream.write(data))
    return target


def _studies(seed: int, side: Side) -> dict[str, writer.StudyInfo]:
    """Describe the two studies of the phantom patient: the ductogram and the prior screening."""
    side_word = "LEFT" if side is Side.LEFT else "RIGHT"
    return {
        "ductogram": writer.StudyInfo(
            _uid(seed, side, "ductogram"),
            "DG1",
            f"GV{seed:04d}D",
            f"DUCTOGRAM {side_word}",
            date(2026, 3, 12),
            time(10, 5, 0),
            True,
        ),
        "prior": writer.StudyInfo(
            _uid(seed, side, "prior"),
            "SM1",
            f"GV{seed:04d}S",
            "SCREENING MAMMOGRAM BILATERAL",
            date(2024, 2, 20),
            time(9, 30, 0),
            False,
        ),
    }


def exposure_bubbles(seed: int, side: Side, breast: Breast) -> dict[str, tuple[AirBubble, ...]]:
    """Draw the air bubbles of every post-contrast exposure of the injected breast.

    In acquisition order, each exposure's bubbles come from its own generator
    (:func:`~galactoview.phantom.bubbles.bubble_rng`) and avoid the places of the earlier
    exposures' ones: the breast was repositioned, the bubbles moved. Nothing here depends
    on the detector.

    Parameters
    ----------
    seed, side
        The phantom.
    breast
        Its injected breast.

    Returns
    -------
    dict
        The bubbles by image label (e.g. ``"LCC_POST"``, ``"LML_POST"``, ``"LCC_MAG_POST"``).
    """
    result: dict[str, tuple[AirBubble, ...]] = {}
    earlier: list[AirBubble] = []
    for item in plan(side):
        if not (item.contrast and item.side is side):
            continue
        beam = _geometry(item, breast).beam
        placed = place_bubbles(
            breast, beam, bubble_rng(seed, side, item.label), elsewhere=tuple(earlier)
        )
        result[item.label] = placed
        earlier.extend(placed)
    return result


@dataclass(frozen=True, slots=True)
class Exposure:
    """One planned image, rendered: its dataset (not yet compressed) and its ground truth.

    Attributes
    ----------
    item
        What was planned.
    geometry
        The exposure's geometry.
    dataset
        The For Presentation MG dataset, from :func:`~galactoview.phantom.dicom_writer.
        build_dataset` (Explicit VR Little Endian, native pixels).
    relative_path
        Where :func:`generate` stores it, relative to its output folder.
    truth
        The image's entry in ``ground_truth.json``.
    bubbles
        The air bubbles rendered in it (none unless asked for, post-contrast only).
    """

    item: PlannedImage
    geometry: ViewGeometry
    dataset: Dataset
    relative_path: str
    truth: dict[str, Any]
    bubbles: tuple[AirBubble, ...]


def expose(
    seed: int,
    side: Side,
    index: int,
    breast: Breast,
    texture: TextureVolume,
    *,
    bubbles: bool = False,
    detector: Detector = SAMPLE_DETECTOR,
) -> Exposure:
    """Render the planned image ``plan(side)[index]`` of the phantom ``seed``/``side``.

    Parameters
    ----------
    seed, side
        The phantom (``side``: the injected breast).
    index
        Position in :func:`plan`; it seeds the exposure's noise, as in :func:`generate`.
    breast, texture
        The breast the image shows (the injected one, or the other for a prior image) and
        its texture volume (:func:`~galactoview.phantom.render.make_texture`).
    bubbles
        Whether a post-contrast image of the injected breast holds air bubbles.
    detector
        The detector; the bundled sample's by default.

    Returns
    -------
    Exposure
        Pixels identical to the file :func:`generate` writes for the same arguments.
    """
    item = plan(side)[index]
    geometry = _geometry(item, breast, detector)
    placed: tuple[AirBubble, ...] = ()
    if bubbles and item.contrast and item.side is side:
        placed = exposure_bubbles(seed, side, breast)[item.label]
    projection = render_view(
        breast,
        geometry,
        texture,
        contrast=item.contrast,
        rng=np.random.default_rng([seed, index]),
        bubbles=placed,
    )
    study = _studies(seed, side)[item.study_key]
    s = side.value
    series = writer.SeriesInfo(
        _uid(seed, side, item.study_key, item.series_number),
        item.series_number,
        f"{item.series_description}"
        if item.study_key == "prior"
        else f"{s} {item.series_description}",
    )
    sop_uid = _uid(seed, side, item.label, item.study_key)
    info = writer.ImageInfo(
        sop_uid,
        index + 1,
        time(study.study_time.hour, study.study_time.minute + item.minute),
        item.contrast,
        item.magnified,
        _windows(projection.pixels, projection.breast_mask, item.contrast, item.monochrome1),
        item.monochrome1,
    )
    ds = writer.build_dataset(projection.pixels, geometry, PATIENT, study, series, info)
    folders = {"ductogram": f"20260312_DUCTOGRAM_{s}", "prior": "20240220_SCREENING_PRIOR"}
    rel = f"dicom/{folders[item.study_key]}/{index + 1:02d}_{item.label}.dcm"
    truth = _image_truth(item, geometry, breast, rel, sop_uid, placed)
    if item.side is not side:
        truth["lesions"] = []
    return Exposure(item, geometry, ds, rel, truth, placed)


def generate(
    seed: int, side: Side, out: Path, *, previews: bool = True, bubbles: bool = False
) -> dict[str, Any]:
    """Generate both studies, the ground truth, the annotation sidecar and previews under ``out``.

    Parameters
    ----------
    seed, side
        The phantom: seed of every random draw, and the injected breast.
    out
        Output folder (created).
    previews
        Whether to write the PNG previews.
    bubbles
        Whether the post-contrast exposures hold air bubbles (distractors, listed in each
        image's ``"bubbles"``). The bundled sample has none.

    Returns
    -------
    dict
        The ground truth, as written to ``ground_truth.json``.
    """
    injected = draw_injected_breast(seed, side)
    other_side = Side.RIGHT if side is Side.LEFT else Side.LEFT
    breasts = {side: injected, other_side: draw_plain_breast(seed, other_side)}
    textures: dict[Side, TextureVolume] = {}
    images_truth = []
    for index, item in enumerate(plan(side)):
        breast = breasts[item.side]
        if item.side not in textures:
            textures[item.side] = make_texture(breast)
        exposure = expose(seed, side, index, breast, textures[item.side], bubbles=bubbles)
        writer.write(exposure.dataset, out / exposure.relative_path)
        if previews:
            _preview(
                out / exposure.relative_path,
                out / "previews" / f"{index + 1:02d}_{item.label}.png",
            )
        images_truth.append(exposure.truth)
    ground_truth = {
        "schema": "galactoview-phantom-ground-truth",
        "schema_version": SCHEMA_VERSION,
        "generator": f"galactoview {__version__}",
        "seed": seed,
        "side": side.value,
        "synthetic": True,
        "breast": {
            "laterality": side.value,
            "chest_wall_depth_mm": round(injected.chest_wall_depth, 2),
            "compressed_thickness_mm": round(injected.thickness, 2),
            "half_width_mm": round(injected.half_width, 2),
        },
        "nipple": {"position_mm": {"x_patient_left": 0.0, "y_posterior": 0.0, "z_superior": 0.0}},
        "subareolar_radius_mm": SUBAREOLAR_RADIUS_MM,
        "bubbles": bubbles,
        "lesions": lesion_truth(injected),
        "images": images_truth,
    }
    truth_json = ground_truth_text(ground_truth).encode("utf-8")
    files.write_atomically(out / "ground_truth.json", lambda stream: stream.write(truth_json))
    write_sample_sidecar(out, ground_truth)
    write_checksums(out)
    return ground_truth
