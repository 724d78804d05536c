"""Save a screenshot of GalactoView showing the sample study, e.g. for the README.

Usage::

    .venv/bin/python tools/screenshot.py docs/screenshot.png [--size WxH] [--layout NAME]

``--layout`` chooses what is hung: ``galactography`` (the default protocol the sample
opens in: post-contrast CC | ML), ``compare-pre`` (post over pre-contrast scout),
``magnification``, ``prior-4up`` (the prior screening study's mammography 4-up),
``compare-prior``, ``review`` (the surgeon's review mode over the default hanging),
``colour`` (the post-contrast CC beside a colour key image: the sample copied to a
temporary folder with a JPEG Baseline YBR_FULL_422 Secondary Capture made from it, see
:func:`_write_key_image`), ``ohif`` (the post-contrast CC | ML of the sample ductogram
copied without its sidecar, with the SR dcmjs's Cornerstone3D adapter wrote for it,
``tests/interop/node/fixtures/all_tools.dcm``, beside the images) or ``pacs`` (the
Query/Retrieve panel with the results of a wildcard search, after retrieving the
ductogram from a private Orthanc started as the tests start one, tests/pacs/orthanc.py,
with the sample stored in it; needs Debian's ``orthanc`` and ``orthanc-dicomweb``) or
``report`` (the Report panel beside the default hanging, filled in as
:func:`_fill_report` says, on a copy of the sample: the report autosaves) or
``1-up``, ``1x2``, ``2x2`` (the manual layouts, Ctrl+1/2/4) or ``suggestions`` (the
default hanging of a copy of the sample with a suggested duct tree and filling-defect
flags on both post-contrast views, Flag Filling Defects run on each, the CC's trunk
accepted as DS-1 and both views zoomed onto the tree: :func:`_show_suggestions`) or
``signed-report`` (the same report signed by a sample reader through Report → Sign
Report…, the window then showing it read-only; the window's PDF export of it is also
rendered with ``pdftoppm`` to ``<OUTPUT stem>-1.png`` … ``-3.png``: the signed
report, the surgeon's page and the first key image). ``--size`` sets the screen and
window size (default 1600x1000), e.g. ``--size 800x600``.

The screenshot is taken on Qt's real xcb platform, not "offscreen": the script runs
itself again under ``xvfb-run -a -s "-screen 0 1600x1000x24"`` (a private X server),
builds the main window in process with :func:`galactoview.app.create_main_window` on
the sample study (with empty settings in a temporary folder, so the user's own are
neither used nor changed), sizes it to the whole 1600 x 1000 screen, hangs the layout,
waits until every image of it is decoded and displayed, grabs the window
(:meth:`QWidget.grab`) and saves a PNG of at
most 300 KB (palette-quantised, then scaled down, if needed).

Exits 0 on success; 1 with a one-line message on stderr when Xvfb is missing, the
sample study does not exist, Qt cannot start or the image is not displayed in time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from PySide6.QtGui import QImage

    from galactoview.ui.shell.main_window import MainWindow
PROG: Final = "screenshot"
#: Layouts the tool can hang; the first is the default.
LAYOUTS: Final = (
    "galactography",
    "compare-pre",
    "magnification",
    "prior-4up",
    "compare-prior",
    "review",
    "colour",
    "ohif",
    "pacs",
    "report",
    "signed-report",
    "1-up",
    "1x2",
    "2x2",
    "suggestions",
)
WIDTH: Final = 1600
HEIGHT: Final = 1000
MAX_BYTES: Final = 300 * 1024
#: Set in the environment of the run under Xvfb.
_UNDER_XVFB: Final = "GALACTOVIEW_SCREENSHOT_UNDER_XVFB"
#: The ``--size`` given, ``WxH``, passed to the run under Xvfb in its environment.
_SIZE: Final = "GALACTOVIEW_SCREENSHOT_SIZE"
#: How long the first image may take to decode and display, in milliseconds.
_DISPLAY_TIMEOUT_MS: Final = 60_000
#: Time given to the X server to map and paint the window, in milliseconds.
_SETTLE_MS: Final = 500


def main(argv: list[str] | None = None) -> int:
    """Run the tool; see the module docstring."""
    parser = argparse.ArgumentParser(prog=Path(sys.argv[0]).name)
    parser.add_argument("output", metavar="OUTPUT.png", type=Path)
    parser.add_argument("--size", metavar="WxH", help="screen and window size (1600x1000)")
    parser.add_argument("--layout", choices=LAYOUTS, default=LAYOUTS[0])
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as stop:  # argparse printed the usage and why
        return int(stop.code or 0)
    if args.size is not None:
        if not re.fullmatch(r"\d+x\d+", args.size):
            parser.print_usage(sys.stderr)
            return 2
        os.environ[_SIZE] = args.size
    output = args.output.resolve()
    if os.environ.get(_UNDER_XVFB) == "1":
        return _take_screenshot(output, args.layout)
    return _run_under_xvfb(output, args.layout)


def _size() -> tuple[int, int]:
    """Return the screen and window size: ``--size`` (see :data:`_SIZE`) or the default."""
    width, _, height = os.environ.get(_SIZE, f"{WIDTH}x{HEIGHT}").partition("x")
    return int(width), int(height)


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 1


def _run_under_xvfb(output: Path, layout: str) -> int:
    """Run this script again inside a private Xvfb server."""
    xvfb_run, xvfb = shutil.which("xvfb-run"), shutil.which("Xvfb")
    if xvfb_run is None or xvfb is None:
        found = {"xvfb-run": xvfb_run, "Xvfb": xvfb}
        missing = " and ".join(name for name, path in found.items() if path is None)
        return _fail(
            f"{missing} not found: the screenshot needs an X virtual framebuffer "
            "(Debian/Ubuntu: sudo apt-get install xvfb xauth)"
        )
    env = {**os.environ, _UNDER_XVFB: "1", "QT_QPA_PLATFORM": "xcb"}
    command = [
        xvfb_run,
        "-a",
        "-s",
        f"-screen 0 {'x'.join(map(str, _size()))}x24",
        sys.executable,
        str(Path(__file__).resolve()),
        str(output),
        "--layout",
        layout,
    ]
    try:
        done = subprocess.run(command, env=env, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        return _fail("the screenshot run under Xvfb did not finish within 300 s")
    return done.returncode


def _hang(window: MainWindow, layout: str) -> None:
    """Hang one of :data:`LAYOUTS` (the default protocol needs nothing)."""
    from galactoview.reading.hanging import GalactographyStage

    stages = {
        "compare-pre": GalactographyStage.COMPARE_PRE,
        "magnification": GalactographyStage.MAGNIFICATION,
        "compare-prior": GalactographyStage.COMPARE_PRIOR,
    }
    if layout in stages:
        window.session.toggle_stage(stages[layout])
    elif layout == "prior-4up":
        window.session.hang_prior_mammography()
    elif layout in ("1-up", "1x2", "2x2"):
        window.session.hang_manual(int(layout[0]), int(layout[-1]) if layout[1] == "x" else 1)
    elif layout == "review":
        window.set_review_mode(True)
    elif layout in ("report", "signed-report"):
        _fill_report(window)
    elif layout == "colour":  # the key image in the right cell, next to the post CC
        key = next(i for i, r in enumerate(window.records) if r.path.name == _KEY_IMAGE)
        window.session.set_active(1)
        window.select_image(key)


def _fill_report(window: MainWindow) -> None:
    """Write a galactography report of the sample's ductogram and show the Report panel."""
    from galactoview.annotations.report import (
        Assessment,
        ClinicalReport,
        Complication,
        Indication,
        NippleOrifice,
        Recommendation,
        ReportedView,
        Technique,
    )

    study = window.report_editor.study
    if study is None:
        return
    window.workspace.set_report(
        study,
        ClinicalReport(
            indication=Indication.BLOODY_NIPPLE_DISCHARGE,
            indication_text="left breast, 3 months",
            technique=Technique(
                NippleOrifice(7),
                1.5,
                (ReportedView.CRANIO_CAUDAL, ReportedView.MEDIO_LATERAL),
                True,
                (Complication.NO_COMPLICATIONS,),
            ),
            comparison="Screening mammography 2024-02-20: no change in the left breast.",
            impression="Intraductal filling defect at 7 o'clock, likely papilloma.",
            assessment=Assessment.CATEGORY_4A,
            recommendations=(
                Recommendation.DUCT_EXCISION,
                Recommendation.DIAGNOSTIC_ULTRASONOGRAPHY,
            ),
        ),
        "Edit report",
    )
    window.report_editor.show()
    window.report_editor.raise_()


def _sign_and_print(window: MainWindow, output: Path) -> str | None:
    """Sign the filled report as a sample reader; render its PDF's first pages beside ``output``.

    Returns what went wrong, if anything.
    """
    import tempfile

    from galactoview.annotations.reader import ReaderIdentity

    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        return "pdftoppm (Debian: poppler-utils) is needed to render the report's pages"
    window.reader.set_identity(ReaderIdentity("Lindqvist", "Åsa", "Dr", "Brustzentrum Süd"))
    window.report_signing.confirm = lambda _parent, _question: True
    if window.report_signing.sign() is None:
        return f"the report was not signed: {window.statusBar().currentMessage()}"
    with tempfile.TemporaryDirectory(prefix="galactoview-signed-report-") as folder:
        pdf = window.export_report(Path(folder) / "report.pdf")
        if pdf is None:
            return "the report PDF was not written: " + "; ".join(window.problems.messages())
        prefix = output.with_name(output.stem)  # pdftoppm adds "-1", "-2", "-3"
        subprocess.run(
            [pdftoppm, "-r", "70", "-png", "-f", "1", "-l", "3", str(pdf), str(prefix)],
            check=True,
        )
    for page in sorted(output.parent.glob(f"{output.stem}-[0-9].png")):
        print(f"{page}: {page.stat().st_size / 1024:.0f} KB")
    return None


def _copy_with_ohif_marks(sample: Path, folder: Path) -> Path:
    """Copy the sample ductogram's images (not our sidecar) beside the dcmjs-written SR."""
    source = next(p for p in sample.iterdir() if p.is_dir() and "DUCTOGRAM" in p.name)
    target = folder / source.name
    target.mkdir()
    for path in source.glob("*.dcm"):
        shutil.copy(path, target / path.name)
    fixture = Path(__file__).resolve().parents[1] / "tests/interop/node/fixtures/all_tools.dcm"
    shutil.copy(fixture, target / "ohif-measurements.dcm")
    return target


def _all_shown(window: MainWindow) -> bool:
    """Return whether every cell of the hanging that has an image displays it, marks read."""
    view = window.hanging_view
    return (
        not window.is_decoding()
        and not window.saver.is_reading()
        and all(
            viewport.has_image()
            for number, viewport in enumerate(view.viewports)
            if (cell := view.cell(number)) is not None and cell.image is not None
        )
    )


def _take_screenshot(output: Path, layout: str) -> int:
    """Open the main window on the sample study and save what it shows (under Xvfb)."""
    import tempfile

    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtGui import QGuiApplication, QImage

    from galactoview.app import create_application, create_main_window
    from galactoview.dicom.loading import scan
    from galactoview.imaging.decode_service import DecodeService
    from galactoview.imaging.pixel_cache import default_cache
    from galactoview.paths import sample_dicom_dir
    from galactoview.ui.shell.settings import Settings

    sample = sample_dicom_dir()
    if not sample.is_dir():
        return _fail(f"the sample study {sample} does not exist")
    app = create_application(["galactoview"])
    if QGuiApplication.platformName() != "xcb":
        return _fail(f"Qt runs on the {QGuiApplication.platformName()!r} platform, not xcb")

    folder = tempfile.mkdtemp(prefix="galactoview-screenshot-")
    if layout in ("colour", "report", "signed-report", "suggestions"):
        copy = Path(folder) / "sample"
        shutil.copytree(sample, copy)  # the repository's sample is never written to
        if layout == "colour":
            _write_key_image(copy)
        sample = copy
    if layout == "ohif":
        sample = _copy_with_ohif_marks(sample, Path(folder))
    settings = Settings(QSettings(f"{folder}/settings.ini", QSettings.Format.IniFormat))
    # Decoded as the application decodes: in worker processes through the pixel cache.
    service = DecodeService(default_cache())
    window = create_main_window(scan([sample]), settings=settings, service=service)
    loop = QEventLoop()
    window.setGeometry(0, 0, *_size())
    window.show()
    QTimer.singleShot(_SETTLE_MS, loop.quit)  # let the window map and lay out
    loop.exec()
    _hang(window, layout)

    def quit_when_all_shown(_index: int) -> None:
        if _all_shown(window):
            loop.quit()

    window.image_shown.connect(quit_when_all_shown)
    window.image_failed.connect(loop.quit)
    QTimer.singleShot(_DISPLAY_TIMEOUT_MS, loop.quit)
    if not _all_shown(window):
        loop.exec()
    if not window.viewport.has_image() or not _all_shown(window):
        problems = "; ".join(window.problems.messages()) or "timed out"
        window.close()
        return _fail(f"the first image was not displayed: {problems}")
    QTimer.singleShot(_SETTLE_MS, loop.quit)  # let the window map, lay out and paint
    loop.exec()
    if layout == "galactography":
        _hover_first_lesion(window, sample.parent / "ground_truth.json")
    if layout == "colour" and window.viewport.stored is not None:
        rows, columns = window.viewport.stored.shape[:2]
        _hover(window, columns * 3.5 / 6, rows - 24.0)  # on the green patch of the strip
    if layout == "pacs":
        problem = _query_retrieve(window, Path(folder))
        if problem is None and not _all_shown(window):
            QTimer.singleShot(_DISPLAY_TIMEOUT_MS, loop.quit)
            window.image_shown.connect(quit_when_all_shown)
            loop.exec()
        if problem is not None:
            window.close()
            return _fail(problem)
    if layout == "suggestions":
        problem = _show_suggestions(window)
        if problem is not None:
            window.close()
            return _fail(problem)
    if layout == "signed-report":
        problem = _sign_and_print(window, output)
        if problem is not None:
            window.close()
            return _fail(problem)
    QTimer.singleShot(_SETTLE_MS // 5, loop.quit)
    loop.exec()
    handle = window.windowHandle()
    if handle is None or not handle.isExposed():
        window.close()
        return _fail("the main window was not shown on the X server")

    image = window.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    window.close()
    service.shutdown()
    data = _encode_png(image)
    if data is None:
        return _fail(f"could not encode the screenshot as a PNG under {MAX_BYTES // 1024} KB")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    print(f"{output}: {len(data) / 1024:.0f} KB")
    del app
    return 0


def _show_suggestions(window: MainWindow) -> str | None:
    """Flag filling defects on both post-contrast views (L CC, then L ML), zoom onto the trees.

    The CC's trunk is accepted (a solid teal DS-1 beside the dashed suggestions); the ML
    is left active, so the status line says what was flagged there. Returns what went
    wrong, if anything.
    """
    from PySide6.QtCore import QEventLoop, QTimer

    suggestions = window.suggestions
    trees = []
    for cell in (0, 1):
        window.session.set_active(cell)
        loop = QEventLoop()
        suggestions.finished.connect(loop.quit)
        QTimer.singleShot(_DISPLAY_TIMEOUT_MS, loop.quit)
        if not suggestions.flag_defects():
            return f"no suggestion: {window.statusBar().currentMessage()}"
        loop.exec()
        suggestions.finished.disconnect(loop.quit)
        record = window.viewport.record
        found = None if record is None else suggestions.suggestions(record.sop_instance_uid)
        if found is None or not found.tree.branches:
            return f"no duct tree suggested: {window.statusBar().currentMessage()}"
        trees.append((window.viewport, found))
        if cell == 0:
            suggestions.accept_branch(found.sop_instance_uid, found.frame, 0, beyond=False)
    for viewport, found in trees:  # the trees' extent, with a margin, fills each cell
        points = [p for branch in found.tree.branches for p in branch.points]
        columns = [float(p[0]) for p in points]
        rows = [float(p[1]) for p in points]
        width = (max(columns) - min(columns)) * 1.5 + 80.0
        height = (max(rows) - min(rows)) * 1.5 + 80.0
        size = viewport.viewport().size()
        viewport.set_zoom(min(size.width() / width, size.height() / height))
    for viewport, found in trees:
        points = [p for branch in found.tree.branches for p in branch.points]
        viewport.center_on(
            (min(float(p[0]) for p in points) + max(float(p[0]) for p in points)) / 2.0,
            (min(float(p[1]) for p in points) + max(float(p[1]) for p in points)) / 2.0,
        )
    window.workspace.select(None)  # DS-1 drawn as a mark, not with its handles
    return None


def _query_retrieve(window: MainWindow, folder: Path) -> str | None:
    """Search a private Orthanc holding the sample in the panel, retrieve the ductogram.

    The Orthanc and the retrieve cache live in ``folder``; returns what went wrong, if
    anything.
    """
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' Orthanc
    from galactoview.pacs import dicomweb
    from galactoview.pacs.nodes import parse_dicomweb_url
    from galactoview.pacs.outgoing import collect
    from galactoview.paths import sample_dicom_dir
    from galactoview.ui.browser.pacs_panel import URL_ENVIRONMENT, PacsPanelDock
    from tests.pacs.orthanc import missing_reason, start_orthanc

    reason = missing_reason()
    if reason is not None:
        return reason
    os.environ["XDG_CACHE_HOME"] = str(folder / "cache")  # not the user's own cache
    server = start_orthanc(folder / "orthanc")
    try:
        os.environ[URL_ENVIRONMENT] = server.dicomweb_url
        node = parse_dicomweb_url(server.dicomweb_url)
        items, failures = collect([sample_dicom_dir()])
        stored = dicomweb.store(node, items)
        if failures or stored.failures:
            return f"the sample could not be stored: {[*failures, *stored.failures][0]}"
        window.named_actions["pacs_query"].trigger()
        panel = window.findChild(PacsPanelDock)
        if panel is None:
            return "File → Query/Retrieve… made no panel"
        window.tabifyDockWidget(window.findings_dock, panel)
        panel.raise_()
        window.resizeDocks([panel], [700], Qt.Orientation.Horizontal)
        loop = QEventLoop()
        QTimer.singleShot(_DISPLAY_TIMEOUT_MS, loop.quit)
        panel.search_finished.connect(loop.quit)
        panel.patient_id.setText("*")
        panel.search()
        loop.exec()
        tree = panel.results
        found = [tree.topLevelItem(row) for row in range(tree.topLevelItemCount())]
        study = next((i for i in found if i is not None and i.text(2) == "DUCTOGRAM LEFT"), None)
        if study is None:
            return f"the search found no ductogram: {panel.message.text()}"
        panel.results.setCurrentItem(study)
        QTimer.singleShot(_DISPLAY_TIMEOUT_MS, loop.quit)
        panel.prior.finished.connect(loop.quit)  # streamed in, then its prior added
        panel.retrieve_study()
        loop.exec()
        settle = QEventLoop()
        QTimer.singleShot(_DISPLAY_TIMEOUT_MS, settle.quit)
        window.images_added.connect(settle.quit)
        if window.is_scanning():
            settle.exec()
        if not window.records:
            return f"the retrieved study was not opened: {panel.message.text()}"
        panel.results.setCurrentItem(study)
    finally:
        server.stop()
    return None


#: File name of the colour key image of the ``colour`` layout.
_KEY_IMAGE: Final = "90_KEY_IMAGE_SC.dcm"


def _write_key_image(sample: Path) -> None:
    """Write a colour key image of the ductogram's post-contrast CC into its folder.

    A Secondary Capture (PS3.3 A.8.1) as a workstation saves one: the CC rendered to 8
    bits, a red ellipse and a yellow line drawn on it, a strip of colours below; made
    by highdicom (patient and study copied from the CC), JPEG Baseline with 4:2:2
    chroma subsampling (Photometric Interpretation YBR_FULL_422, PS3.5 8.2.1).
    """
    import highdicom as hd
    import numpy as np
    from PIL import Image, ImageDraw
    from pydicom.uid import JPEGBaseline8Bit, generate_uid

    from galactoview.imaging.export import read_dataset, render_image

    post_cc = next(sample.rglob("03_LCC_POST.dcm"))
    source = read_dataset(post_cc)
    picture = Image.fromarray(render_image(source, max_size=480, overlays=False)).convert("RGB")
    width, height = picture.size
    canvas = Image.new("RGB", (width, height + 48), (0, 0, 0))
    canvas.paste(picture)
    draw = ImageDraw.Draw(canvas)
    draw.ellipse(
        (width * 0.45, height * 0.35, width * 0.75, height * 0.6), outline=(230, 40, 40), width=4
    )
    draw.line((width * 0.2, height * 0.2, width * 0.43, height * 0.4), fill=(250, 220, 0), width=5)
    hues = [
        (230, 40, 40),
        (250, 150, 0),
        (250, 220, 0),
        (40, 180, 60),
        (40, 110, 230),
        (150, 60, 200),
    ]
    step = width / len(hues)
    for number, hue in enumerate(hues):
        draw.rectangle((number * step, height + 8, (number + 1) * step - 4, height + 40), fill=hue)
    # highdicom copies the patient and study of the CC; Pillow encodes JPEG Baseline 4:2:2.
    key = hd.sc.SCImage.from_ref_dataset(
        ref_dataset=source,
        pixel_array=np.asarray(canvas),
        photometric_interpretation="YBR_FULL_422",
        bits_allocated=8,
        coordinate_system="PATIENT",
        series_instance_uid=generate_uid(),
        series_number=90,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="GalactoView screenshot tool",
        patient_orientation=("A", "R"),
        transfer_syntax_uid=JPEGBaseline8Bit,
    )
    key.SeriesDescription = "Key image"
    key.save_as(post_cc.parent / _KEY_IMAGE, enforce_file_format=True)


def _hover(window: MainWindow, column: float, row: float) -> None:
    """Put the mouse over an image point of the active viewport (the status bar reads it)."""
    from PySide6.QtCore import QPointF
    from PySide6.QtTest import QTest

    viewport = window.viewport
    scene = viewport.image_item.mapToScene(QPointF(column, row))
    QTest.mouseMove(viewport.viewport(), viewport.mapFromScene(scene))


def _hover_first_lesion(window: MainWindow, ground_truth: Path) -> None:
    """Put the mouse over the first lesion of the image shown, so the status bar reads it.

    Uses the pixel position the phantom's ground truth gives for that image; does
    nothing if there is none.
    """
    from PySide6.QtCore import QPointF
    from PySide6.QtTest import QTest

    record = window.current_record()
    if record is None:
        return
    try:
        truth = json.loads(ground_truth.read_text(encoding="utf-8"))
        (image,) = [i for i in truth["images"] if i["sop_instance_uid"] == record.sop_instance_uid]
        lesion = image["lesions"][0]
        column, row = float(lesion["column"]), float(lesion["row"])
    except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError):
        return
    viewport = window.viewport
    scene = viewport.image_item.mapToScene(QPointF(column, row))
    QTest.mouseMove(viewport.viewport(), viewport.mapFromScene(scene))


def _encode_png(image: QImage) -> bytes | None:
    """Return the smallest-effort PNG of ``image`` under :data:`MAX_BYTES`, or None.

    Tries true colour, then an 8-bit palette, then the palette at decreasing sizes.
    """
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QImageWriter

    attempts = [(1.0, False), (1.0, True), (0.9, True), (0.8, True), (0.7, True), (0.6, True)]
    for scale, palette in attempts:
        candidate = image
        if scale < 1.0:
            candidate = candidate.scaledToWidth(
                round(image.width() * scale), Qt.TransformationMode.SmoothTransformation
            )
        if palette:
            candidate = candidate.convertToFormat(QImage.Format.Format_Indexed8)
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        if not QImageWriter(buffer, QByteArray(b"png")).write(candidate):
            return None
        data = bytes(buffer.data().data())
        if len(data) <= MAX_BYTES:
            return data
    return None


if __name__ == "__main__":
    raise SystemExit(main())
