"""Display benchmarks of the reading workstation (run by ``make bench`` in a subprocess).

``python -m benchmarks.bench_display --json --data build/bench-data/raw --study
sample_data/dicom`` prints one JSON object on stdout with:

``wl_step_4up_ms``
    Four images in the mammography 4-up (the real :class:`HangingView` with the
    hanging of :func:`~galactoview.reading.hanging.mammography_hanging`), window/level
    linked: the median time of one window/level drag step in the first viewport,
    from :meth:`Viewport.drag_window` until all four viewports have been repainted
    (paint events counted on each viewport widget; a step counts only when all four
    painted).
``pyqtgraph_fullres_setlevels_ms``
    The reference: a plain ``pg.ImageItem`` in a plain ``ViewBox`` showing the first
    image at full resolution; the median time of ``setLevels`` plus its repaint.
``startup_to_first_image_s`` / ``startup_warm_to_first_image_s``
    ``python -m galactoview STUDY`` with ``GALACTOVIEW_QUIT_AFTER_FIRST_IMAGE``: the
    median time from launch to the ``first image shown`` line, with an empty pixel
    cache (cold) and with the cache the previous start filled (warm).

``sr_open_50_ms`` (with ``--sr-open-only``: only this, see :func:`measure_sr_open_50`)
    A sidecar of 50 findings (:func:`benchmarks.bench.fifty_findings`) next to a copy
    of the sample ductogram, each image in a shown :class:`Viewport` with its
    :class:`~galactoview.ui.annotate.annotation_items.AnnotationLayer`: the median time of
    ``open_annotations`` + ``AnnotationWorkspace.set_loaded`` (the layers rebuild their
    marks) + the repaint of every viewport; ``sr_open_50_core_ms`` is the
    ``open_annotations`` share (read, parse, decode), ``sr_open_50_show_ms`` the rest.

The core benchmark (:mod:`benchmarks.bench`) must not import Qt; it runs this module
as a subprocess and merges the JSON into ``build/bench.json``. Without a ``DISPLAY``
(or Wayland display) the ``offscreen`` Qt platform is used (``qt_platform`` in the JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QCoreApplication, QEvent, QObject
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QGridLayout, QMainWindow, QWidget

# isort: split
# pyqtgraph must come after PySide6 so that it binds to PySide6.
import pyqtgraph as pg

from benchmarks.bench import fifty_findings
from galactoview.dicom.loading import ImageRecord, load_pixels, read_header, scan
from galactoview.imaging.display import DisplayPipeline, Window
from galactoview.paths import sample_dicom_dir
from galactoview.reading.hanging import mammography_hanging
from galactoview.sr import persistence, sidecar, sr_codec
from galactoview.ui.annotate.annotation_items import AnnotationLayer
from galactoview.ui.annotate.annotation_saver import AnnotationSaver
from galactoview.ui.annotate.annotation_workspace import AnnotationWorkspace
from galactoview.ui.shell.errors import ProblemReporter, ProblemsDock
from galactoview.ui.viewer.hanging_view import HangingView
from galactoview.ui.viewer.viewport import Viewport

__all__ = [
    "LoadedImage",
    "PaintCounter",
    "load_images",
    "main",
    "measure_pyqtgraph_setlevels",
    "measure_sr_open_50",
    "measure_startup",
    "measure_wl_step_4up",
]

#: Size of the 4-up window (width, height), as ``VIEWPORT`` in :mod:`benchmarks.bench`.
WINDOW: Final = (1920, 1080)

#: The line ``galactoview.app`` prints once the first image is on screen.
FIRST_IMAGE_LINE: Final = "first image shown"

#: Horizontal and vertical drag per step, as fractions of the view (alternating sign).
_DRAG: Final = (0.02, 0.01)


@dataclass(frozen=True, slots=True)
class LoadedImage:
    """One decoded image, ready for a viewport.

    Attributes
    ----------
    stored
        Stored values, shape ``(Rows, Columns)``.
    pipeline
        Its display pipeline.
    record
        Its header summary (view, laterality: the hanging needs them).
    """

    stored: NDArray[Any]
    pipeline: DisplayPipeline
    record: ImageRecord


def load_images(folder: Path) -> list[LoadedImage]:
    """Scan a folder and decode every image in it (the benchmark study: uncompressed).

    Parameters
    ----------
    folder
        Folder of DICOM files.

    Returns
    -------
    list of LoadedImage
        In scan order.
    """
    return [
        LoadedImage(
            np.asarray(load_pixels(record)),
            DisplayPipeline.from_dataset(read_header(record)),
            record,
        )
        for record in scan([folder]).images
    ]


class PaintCounter(QObject):
    """Count the paint events a widget receives (an event filter; it never consumes them).

    Parameters
    ----------
    widget
        The widget watched (for a ``QGraphicsView``, its :meth:`viewport` widget: that
        is the one painted).
    """

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt)
        """Count paint events, let every event through."""
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def _has_display(env: Mapping[str, str]) -> bool:
    """Return whether an X11 or Wayland display is available in ``env``."""
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def _application() -> QApplication:
    """Return the running QApplication, making one (row-major pyqtgraph images) if needed."""
    existing = QCoreApplication.instance()
    if existing is None and not _has_display(os.environ):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    pg.setConfigOptions(imageAxisOrder="row-major")
    return app


def qt_platform() -> str:
    """Return the name of the Qt platform plugin in use (``xcb``, ``offscreen`` ...)."""
    _application()
    return QGuiApplication.platformName()


def _repaint_all(app: QApplication, widgets: Sequence[QWidget], counters: Sequence[int]) -> None:
    """Deliver pending events, then repaint synchronously each widget not yet painted.

    ``counters`` are the paint counts before the change: a widget whose count has
    grown was painted by the pending update and is not painted a second time.
    """
    app.processEvents()
    for widget, before in zip(widgets, counters, strict=True):
        counter = widget.findChild(PaintCounter)
        if counter is None or counter.count == before:
            widget.repaint()


def _settle(app: QApplication, rounds: int = 5) -> None:
    """Let layouts, level changes and first paints happen."""
    for _ in range(rounds):
        app.processEvents()


def measure_wl_step_4up(
    images: Sequence[LoadedImage],
    *,
    window_size: tuple[int, int] = WINDOW,
    steps: int = 30,
    warmup: int = 5,
) -> dict[str, Any]:
    """Time one linked window/level drag step in the mammography 4-up, repaint included.

    Parameters
    ----------
    images
        RCC, LCC, RMLO and LMLO of one study (any order: the hanging places them).
    window_size
        Size of the :class:`HangingView` (width, height).
    steps
        Steps measured (the median is reported); drag directions alternate.
    warmup
        Steps run first and not measured.

    Returns
    -------
    dict
        ``wl_step_4up_ms`` (median), ``wl_step_4up_max_ms``, ``steps``,
        ``views`` (viewports showing an image), ``levels`` (pyramid level each shows),
        ``view_size`` (of the first viewport), ``paints_per_view_per_step`` (mean),
        ``all_views_painted`` (every measured step repainted every view) and
        ``all_views_linked`` (after the last step every view shows the dragged window).

    Raises
    ------
    ValueError
        If the images do not make a mammography 4-up.
    """
    app = _application()
    records = [image.record for image in images]
    hanging = mammography_hanging(records, records[0].study_instance_uid) if records else None
    if hanging is None or len(hanging.image_indices()) != 4:
        raise ValueError("the images do not make a mammography 4-up (RCC, LCC, RMLO, LMLO)")
    view = HangingView()
    try:
        view.resize(*window_size)
        view.set_hanging(hanging)
        view.link_window = True
        view.show()
        _settle(app)
        for number, cell in enumerate(hanging.cells):
            if cell.image is None:
                continue
            image = images[cell.image]
            voi = image.pipeline.default_voi()
            view.viewports[number].set_image(
                image.stored,
                image.pipeline,
                voi,
                record=image.record,
                flip=cell.flip,
                alignment=cell.anchor,
            )
        view.fit_all()
        _settle(app)
        viewports = view.viewports_showing_images()
        widgets = [viewport.viewport() for viewport in viewports]
        counters = [PaintCounter(widget) for widget in widgets]
        source = viewports[0]
        source.begin_window_drag()
        times: list[float] = []
        painted_every_step = True
        paints = 0
        for step in range(warmup + steps):
            sign = 1.0 if step % 2 == 0 else -1.0
            before = [counter.count for counter in counters]
            start = time.perf_counter()
            source.drag_window(sign * _DRAG[0], sign * _DRAG[1])
            _repaint_all(app, widgets, before)
            elapsed = time.perf_counter() - start
            if step < warmup:
                continue
            times.append(elapsed)
            grown = [counter.count - b for counter, b in zip(counters, before, strict=True)]
            painted_every_step &= all(n >= 1 for n in grown)
            paints += sum(grown)
        source.end_window_drag()
        dragged = source.voi
        size = source.viewport().size()
        return {
            "wl_step_4up_ms": 1000 * statistics.median(times),
            "wl_step_4up_max_ms": 1000 * max(times),
            "steps": steps,
            "views": len(viewports),
            "levels": [viewport.current_level for viewport in viewports],
            "view_size": [size.width(), size.height()],
            "window_size": list(window_size),
            "paints_per_view_per_step": paints / (steps * len(viewports)),
            "all_views_painted": painted_every_step,
            "all_views_linked": isinstance(dragged, Window)
            and all(viewport.voi == dragged for viewport in viewports),
        }
    finally:
        view.close()
        view.deleteLater()
        app.processEvents()


def measure_pyqtgraph_setlevels(
    stored: NDArray[Any],
    *,
    view_size: tuple[int, int] = (WINDOW[0] // 2, WINDOW[1] // 2),
    steps: int = 30,
    warmup: int = 5,
) -> dict[str, Any]:
    """Time plain pyqtgraph: ``ImageItem.setLevels`` at full resolution plus the repaint.

    Parameters
    ----------
    stored
        The image, shown as is (no pyramid, no LUT).
    view_size
        Size of the view (width, height); by default one cell of the 4-up.
    steps
        Steps measured (the median is reported), alternating two level pairs.
    warmup
        Steps run first and not measured.

    Returns
    -------
    dict
        ``pyqtgraph_fullres_setlevels_ms`` (median), ``pyqtgraph_fullres_setlevels_max_ms``,
        ``image_shape``, ``view_size``, ``all_steps_painted``.
    """
    app = _application()
    widget = pg.GraphicsView(background="k")
    try:
        box = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False)
        widget.setCentralItem(box)
        item = pg.ImageItem(axisOrder="row-major")
        box.addItem(item)
        low, high = float(stored.min()), float(stored.max())
        span = max(high - low, 1.0)
        pairs = ((low + 0.2 * span, high - 0.2 * span), (low + 0.1 * span, high - 0.3 * span))
        item.setImage(stored, autoLevels=False, levels=pairs[1])
        widget.resize(*view_size)
        widget.show()
        box.autoRange(padding=0.0)
        _settle(app)
        screen = widget.viewport()
        counter = PaintCounter(screen)
        times: list[float] = []
        painted = True
        for step in range(warmup + steps):
            before = counter.count
            start = time.perf_counter()
            item.setLevels(pairs[step % 2])
            _repaint_all(app, [screen], [before])
            elapsed = time.perf_counter() - start
            if step >= warmup:
                times.append(elapsed)
                painted &= counter.count > before
        size = screen.size()
        return {
            "pyqtgraph_fullres_setlevels_ms": 1000 * statistics.median(times),
            "pyqtgraph_fullres_setlevels_max_ms": 1000 * max(times),
            "image_shape": list(stored.shape),
            "view_size": [size.width(), size.height()],
            "all_steps_painted": painted,
        }
    finally:
        widget.close()
        widget.deleteLater()
        app.processEvents()


def _annotated_copy(study: Path, folder: Path) -> tuple[str, list[Path], int]:
    """Copy the newest study's images of ``study`` to ``folder`` and save 50 findings there.

    Returns the Study Instance UID, the copied image files and the number of findings.
    """
    records = scan([study]).images
    study_uid = records[0].study_instance_uid  # the newest study, as fifty_findings
    folder.mkdir(parents=True, exist_ok=True)
    for record in records:
        if record.study_instance_uid == study_uid:
            shutil.copy2(record.path, folder / record.path.name)
    annotations, headers = fifty_findings(folder)
    text = sr_codec.to_json(sr_codec.encode(annotations, headers))
    sidecar.save(folder / sidecar.sidecar_name(study_uid), text, expected=None)
    paths = sorted(p for p in folder.iterdir() if p.suffix == ".dcm")
    return study_uid, paths, len(annotations.findings)


def measure_sr_open_50(
    study: Path,
    *,
    runs: int = 5,
    warmup: int = 1,
    window_size: tuple[int, int] = WINDOW,
) -> dict[str, Any]:
    """Time how long opening a 50-finding sidecar holds the GUI thread, and the old way.

    The newest study of ``study`` (the sample ductogram) is copied to a temporary
    folder with a sidecar of 50 ELLIPSE findings spread over its images. Each image is
    shown in its own :class:`Viewport` (a grid in a ``window_size`` window) with an
    :class:`AnnotationLayer` on one :class:`AnnotationWorkspace`, as in the main
    window. Each run opens it twice, from an empty workspace:

    - **the old way** (``sr_open_50_sync_ms``), all in the GUI thread:
      :func:`persistence.open_annotations` (find, read, parse and decode the sidecar:
      ``sr_open_50_core_ms``), ``workspace.set_loaded`` (each layer rebuilds its marks)
      and the repaint of every viewport;
    - **as the window opens now** (``sr_open_50_ms``): :meth:`AnnotationSaver.open_studies`
      hands the read to the save thread; the time the GUI thread is busy is its own
      share (starting the read) plus, once the read is done, putting the marks in place
      and the repaint. The wait for the save thread (the GUI thread free) is not
      counted there; ``sr_open_50_wall_ms`` is the whole, from the call until every
      mark is drawn.

    Returns
    -------
    dict
        ``sr_open_50_ms``, ``sr_open_50_sync_ms``, ``sr_open_50_ratio`` (the first over
        the second, medians), ``sr_open_50_wall_ms``, ``sr_open_50_core_ms``,
        ``sr_open_50_show_ms`` (the old way's share after ``open_annotations``), and
        ``sr_open_50``: ``max_ms``, ``runs``, ``views``, ``findings`` (in the sidecar),
        ``marks_drawn`` (findings with marks on a viewport after the last run),
        ``all_views_painted`` (every run repainted every viewport), ``read_in_thread``
        and ``problems``.
    """
    app = _application()
    with tempfile.TemporaryDirectory(prefix="galactoview-bench-sr-open-") as temporary:
        root = Path(temporary)
        study_uid, paths, findings = _annotated_copy(study, root / "ductogram")
        images = load_images(root / "ductogram")
        records = [image.record for image in images]
        saved_home = os.environ.get("XDG_DATA_HOME")
        os.environ["XDG_DATA_HOME"] = str(root / "user")  # no per-user sidecar of the reader's
        window = QMainWindow()
        central = QWidget(window)
        window.setCentralWidget(central)
        grid = QGridLayout(central)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(2)
        dock = ProblemsDock(window)
        workspace = AnnotationWorkspace(parent=window)
        saver = AnnotationSaver(workspace, ProblemReporter(dock, window.statusBar()), window)
        viewports: list[Viewport] = []
        layers: list[AnnotationLayer] = []
        columns = max(1, (len(images) + 1) // 2)
        try:
            for number in range(len(images)):
                viewport = Viewport(central)
                grid.addWidget(viewport, number // columns, number % columns)
                viewports.append(viewport)
            window.resize(*window_size)
            window.show()
            _settle(app)
            for viewport, image in zip(viewports, images, strict=True):
                viewport.set_image(
                    image.stored, image.pipeline, image.pipeline.default_voi(), record=image.record
                )
                layers.append(AnnotationLayer(viewport, workspace))
            _settle(app)
            widgets = [viewport.viewport() for viewport in viewports]
            counters = [PaintCounter(widget) for widget in widgets]
            syncs: list[float] = []
            cores: list[float] = []
            guis: list[float] = []
            walls: list[float] = []
            painted = in_thread = True
            problems: tuple[str, ...] = ()
            for run in range(warmup + runs):
                # The old way: read, parse, decode, put in place and draw in the GUI thread.
                saver.open_studies([], wait=True)
                _settle(app)
                before = [counter.count for counter in counters]
                start = time.perf_counter()
                opened = persistence.open_annotations(study_uid, paths, user_dir=root / "user")
                loaded = time.perf_counter()
                workspace.set_loaded(opened.annotations)
                _repaint_all(app, widgets, before)
                end = time.perf_counter()
                problems = opened.problems
                painted &= all(c.count > b for c, b in zip(counters, before, strict=True))
                sync, core = end - start, loaded - start
                # As the window opens now: the read in the save thread.
                saver.open_studies([], wait=True)
                _settle(app)
                before = [counter.count for counter in counters]
                start = time.perf_counter()
                saver.open_studies(records)
                handed = time.perf_counter()
                in_thread &= saver.is_reading()
                for _job, future in list(saver._reading.values()):
                    future.result()  # the GUI thread is free meanwhile (not counted)
                ready = time.perf_counter()
                # What the queued "read" signal runs in the GUI thread (called here: the
                # save thread may emit it a moment after the result is set).
                saver.finish_reading()
                _repaint_all(app, widgets, before)
                end = time.perf_counter()
                in_thread &= not saver.is_reading()
                in_thread &= len(workspace.annotations(study_uid).findings) == findings
                painted &= all(c.count > b for c, b in zip(counters, before, strict=True))
                if run < warmup:
                    continue
                syncs.append(sync)
                cores.append(core)
                guis.append((handed - start) + (end - ready))
                walls.append(end - start)
            marked = {key for layer in layers for key in layer.marked_keys()}
            gui, synced = statistics.median(guis), statistics.median(syncs)
            core = statistics.median(cores)
            return {
                "sr_open_50_ms": 1000 * gui,
                "sr_open_50_sync_ms": 1000 * synced,
                "sr_open_50_ratio": gui / synced,
                "sr_open_50_wall_ms": 1000 * statistics.median(walls),
                "sr_open_50_core_ms": 1000 * core,
                "sr_open_50_show_ms": 1000
                * statistics.median(t - c for t, c in zip(syncs, cores, strict=True)),
                "sr_open_50": {
                    "max_ms": 1000 * max(guis),
                    "runs": runs,
                    "views": len(viewports),
                    "findings": findings,
                    "marks_drawn": len(marked),
                    "all_views_painted": painted,
                    "read_in_thread": in_thread,
                    "problems": list(problems),
                },
            }
        finally:
            saver.finish_reading()
            window.close()
            window.deleteLater()
            app.processEvents()
            if saved_home is None:
                os.environ.pop("XDG_DATA_HOME", None)
            else:
                os.environ["XDG_DATA_HOME"] = saved_home


def measure_autosave_stall(study: Path, *, runs: int = 5, warmup: int = 1) -> dict[str, Any]:
    """Time how long an autosave of 50 findings holds the GUI thread, and the old way.

    The 50-finding copy of :func:`measure_sr_open_50` is opened by an
    :class:`AnnotationSaver` (as the window does). One run: a finding's note is edited
    (one undoable edit), then the autosave timer's work is timed in the GUI thread
    (gathering the snapshot, target and headers, and handing them to the save thread:
    ``autosave_gui_stall_ms``), then the save thread is waited for, untimed. The same
    edit saved the old way, encoded and written in the GUI thread
    (``AnnotationSaver.save_now``), is ``autosave_sync_ms``: what the GUI thread used to
    wait for after every edit.

    Returns
    -------
    dict
        ``autosave_gui_stall_ms`` and ``autosave_sync_ms`` (medians), and
        ``autosave``: ``max_stall_ms``, ``runs``, ``findings``, ``saved_in_thread`` (every
        background save wrote a new revision) and ``problems``.
    """
    app = _application()
    with tempfile.TemporaryDirectory(prefix="galactoview-bench-autosave-") as temporary:
        root = Path(temporary)
        study_uid, _paths, findings = _annotated_copy(study, root / "ductogram")
        records = scan([root / "ductogram"]).images
        window = QMainWindow()
        dock = ProblemsDock(window)
        reporter = ProblemReporter(dock, window.statusBar())
        workspace = AnnotationWorkspace(parent=window)
        saver = AnnotationSaver(workspace, reporter, window)
        try:
            saver.open_studies(records, wait=True)
            stalls: list[float] = []
            syncs: list[float] = []
            in_thread = True
            for run in range(warmup + runs):
                for background in (True, False):
                    finding = workspace.annotations(study_uid).findings[run % findings]
                    edited = replace(finding, note=f"{finding.note} ({run}, {background})")
                    workspace.replace_finding(edited, "Edit note")
                    before = workspace.annotations(study_uid).sop_instance_uid
                    start = time.perf_counter()
                    if background:
                        saver._on_timer()  # what the autosave timer runs
                    else:
                        saver.save_now()
                    elapsed = time.perf_counter() - start
                    if background:
                        saver._drain()  # untimed: the save thread finishes
                        after = workspace.annotations(study_uid).sop_instance_uid
                        in_thread &= after != before and not workspace.is_modified()
                    if run >= warmup:
                        (stalls if background else syncs).append(elapsed)
            return {
                "autosave_gui_stall_ms": 1000 * statistics.median(stalls),
                "autosave_sync_ms": 1000 * statistics.median(syncs),
                "autosave": {
                    "max_stall_ms": 1000 * max(stalls),
                    "runs": runs,
                    "findings": findings,
                    "saved_in_thread": in_thread,
                    "problems": [
                        dock.list_widget.item(row).text() for row in range(dock.list_widget.count())
                    ],
                },
            }
        finally:
            window.close()
            window.deleteLater()
            app.processEvents()


def _start_once(study: Path, cache: Path, config: Path, timeout: float) -> float:
    """Launch the viewer on ``study``; return seconds until it says the first image is shown."""
    env = dict(os.environ)
    env["GALACTOVIEW_QUIT_AFTER_FIRST_IMAGE"] = "1"
    env["GALACTOVIEW_PIXEL_CACHE"] = str(cache)
    env["XDG_CONFIG_HOME"] = str(config)  # the same (empty) settings every time
    if not _has_display(env):
        env["QT_QPA_PLATFORM"] = "offscreen"
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "galactoview", str(study)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.strip() == FIRST_IMAGE_LINE:
                elapsed = time.perf_counter() - start
                process.wait(timeout=timeout)
                return elapsed
        process.wait(timeout=timeout)
        raise RuntimeError(f"galactoview exited ({process.returncode}) without an image shown")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def measure_startup(study: Path, *, runs: int = 3, timeout: float = 60.0) -> dict[str, Any]:
    """Time ``python -m galactoview STUDY`` to its first image, cold and warm.

    Parameters
    ----------
    study
        Folder to open (the sample study).
    runs
        Starts of each kind; the median is reported.
    timeout
        Seconds a start may take before it fails.

    Returns
    -------
    dict
        ``startup_to_first_image_s`` (empty pixel cache each time),
        ``startup_warm_to_first_image_s`` (the cache the previous start filled),
        their maxima (``..._max_s``) and ``startup_runs``.
    """
    cold: list[float] = []
    warm: list[float] = []
    with tempfile.TemporaryDirectory(prefix="galactoview-bench-") as temporary:
        root = Path(temporary)
        for run in range(runs):
            cold.append(_start_once(study, root / f"cold-{run}", root / f"config-{run}", timeout))
        warm_cache = root / "cold-0"  # filled by the first cold start
        for run in range(runs):
            warm.append(_start_once(study, warm_cache, root / f"config-warm-{run}", timeout))
    return {
        "startup_to_first_image_s": statistics.median(cold),
        "startup_to_first_image_max_s": max(cold),
        "startup_warm_to_first_image_s": statistics.median(warm),
        "startup_warm_to_first_image_max_s": max(warm),
        "startup_runs": runs,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the display benchmarks (``python -m benchmarks.bench_display``)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_display", description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("build/bench-data/raw"))
    parser.add_argument(
        "--study", type=Path, default=sample_dicom_dir(), help="start-up is timed on it"
    )
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--startup-runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--sr-open-only",
        action="store_true",
        help="measure only sr_open_50_ms (opening and showing 50 findings) on --study",
    )
    parser.add_argument("--sr-runs", type=int, default=5, help="runs of sr_open_50_ms")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"qt_platform": qt_platform()}
    if args.sr_open_only:
        results |= measure_sr_open_50(args.study, runs=max(1, args.sr_runs))
        results |= measure_autosave_stall(args.study, runs=max(1, args.sr_runs))
        _print(results, as_json=args.json)
        return 0
    # Start-up first: this process holds no images yet, the machine is at its quietest.
    if args.study.is_dir():
        results |= measure_startup(args.study, runs=max(1, args.startup_runs))
    else:
        results["startup_skipped"] = f"no study folder {args.study}"
    images = load_images(args.data)
    steps, warmup = max(1, args.steps), max(0, args.warmup)
    four_up = measure_wl_step_4up(images, steps=steps, warmup=warmup)
    results["wl_step_4up_ms"] = four_up.pop("wl_step_4up_ms")
    results["wl_step_4up"] = four_up
    reference = measure_pyqtgraph_setlevels(images[0].stored, steps=steps, warmup=warmup)
    results["pyqtgraph_fullres_setlevels_ms"] = reference.pop("pyqtgraph_fullres_setlevels_ms")
    results["pyqtgraph_fullres_setlevels"] = reference
    _print(results, as_json=args.json)
    return 0


def _print(results: Mapping[str, Any], *, as_json: bool) -> None:
    """Print the figures: one JSON object, or one line each."""
    if as_json:
        print(json.dumps(results))
    else:
        for key, value in results.items():
            print(f"{key:<36}{value}")


if __name__ == "__main__":
    sys.exit(main())
