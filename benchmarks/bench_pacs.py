"""PACS benchmark: open the 4 x 30 Mpix JPEG 2000 bench study from a real Orthanc.

Run by ``make bench`` (through :func:`benchmarks.bench.run`) or alone::

    python -m benchmarks.bench_pacs [--data build/bench-data] [--repeat 3]

A private Orthanc (the test suite's launcher, ``tests.pacs.orthanc``: own config and
database in a temporary folder, free loopback ports) holds the bench study. Measured:

* ``naive_pacs_all_s`` — the reference: ``dicomweb-client``'s ``retrieve_study`` of the
  whole study (in the transfer syntax the PACS holds, as a script would ask), then
  pydicom decoding every image, one after the other;
* ``pacs_first_image_s`` — in the viewer's window (offscreen Qt, a separate process with
  its own empty settings, retrieve cache and pixel cache), from **Retrieve Study** in the
  Query/Retrieve panel until the first cell of the hanging is on screen;
* ``pacs_all_s`` — from the same click until every instance is in, the study open with
  all of them and every cell of the hanging displayed;
* ``pacs_gui_stall_ms`` — the longest the GUI thread's event loop was kept from running
  during that (a 2 ms precise QTimer's longest gap, minus 2 ms), i.e. how long the
  window could not answer the reader at worst.

Each figure is the median of ``--repeat`` runs; between runs the caches are emptied and
nothing is open. Targets (issue 12): first image <= 0.5 x naive, all <= 1.0 x naive,
stall <= 16 ms.
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
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

#: Media type asking for instances as the PACS holds them (Orthanc cannot transcode J2K).
AS_STORED: Final = (("application/dicom", "*"),)
WINDOW_TIMEOUT_S: Final = 300.0


def _naive(url: str, study_uid: str) -> tuple[float, float]:
    """Retrieve the whole study with dicomweb-client, decode it; return (retrieve, all) s."""
    from dicomweb_client.api import DICOMwebClient

    client = DICOMwebClient(url)
    start = time.perf_counter()
    datasets = client.retrieve_study(study_uid, media_types=AS_STORED)
    retrieved = time.perf_counter() - start
    for dataset in datasets:
        dataset.pixel_array  # noqa: B018 (the decode is what is timed)
    return retrieved, time.perf_counter() - start


def measure(data: Path, repeat: int) -> dict[str, Any]:
    """Start Orthanc, store the bench study, time the naive retrieve and the window's.

    Returns
    -------
    dict
        The figures (see the module docstring), or ``pacs_error`` saying why none.
    """
    from pydicom import dcmread

    from benchmarks.bench import generate_study
    from tests.pacs.orthanc import missing_reason, start_orthanc

    reason = missing_reason()
    if reason is not None:
        return {"pacs_error": reason}
    j2k, _raw = generate_study(data)
    study_uid = str(dcmread(j2k[0], stop_before_pixels=True).StudyInstanceUID)
    with tempfile.TemporaryDirectory(prefix="galactoview-bench-pacs-") as temporary:
        root = Path(temporary)
        server = start_orthanc(root / "orthanc")
        try:
            for path in j2k:
                server.upload(path.read_bytes())
            naive = [_naive(server.dicomweb_url, study_uid) for _ in range(repeat)]
            window = _window_runs(server.dicomweb_url, study_uid, repeat, root / "profile")
        finally:
            server.stop()
    results: dict[str, Any] = {
        "naive_pacs_retrieve_s": statistics.median(r for r, _ in naive),
        "naive_pacs_all_s": statistics.median(a for _, a in naive),
    }
    if "error" in window:
        results["pacs_error"] = window["error"]
        return results
    results |= {
        "pacs_first_image_s": statistics.median(window["first_s"]),
        "pacs_all_s": statistics.median(window["all_s"]),
        "pacs_gui_stall_ms": statistics.median(window["stall_ms"]),
        "pacs_open_stall_ms": statistics.median(window["open_stall_ms"]),
        "pacs_runs": window,
    }
    return results


def _window_runs(url: str, study_uid: str, repeat: int, profile: Path) -> dict[str, Any]:
    """Run the window's retrieves in a fresh process with an empty profile."""
    env = dict(os.environ)
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        env[name] = str(profile / name.lower())
    env.pop("GALACTOVIEW_PIXEL_CACHE", None)
    env["GALACTOVIEW_PACS_URL"] = url
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_pacs", "--window", study_uid, str(repeat)],
        capture_output=True,
        text=True,
        env=env,
        timeout=WINDOW_TIMEOUT_S * repeat,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"error": f"window run exited {done.returncode}: {done.stderr.strip()[-400:]}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


class _Heartbeat:
    """A 2 ms precise timer on the GUI thread; each gap between its ticks, and when it ended.

    The longest gap minus the interval is how long the event loop could not run.
    """

    INTERVAL_MS: Final = 2

    def __init__(self, clock: Any) -> None:
        from PySide6.QtCore import QElapsedTimer, Qt, QTimer

        self._clock = clock  # a started QElapsedTimer: when each gap ended
        self._beat = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(self.INTERVAL_MS)
        self._timer.timeout.connect(self._tick)
        self.gaps: list[tuple[int, float]] = []  # (ms, s since the clock started)

    def _tick(self) -> None:
        self.gaps.append((self._beat.restart(), self._clock.nsecsElapsed() / 1e9))

    def start(self) -> None:
        self._beat.start()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def stall_ms(self) -> float:
        """Return the longest the event loop was held, in ms."""
        return max(0.0, max((gap for gap, _ in self.gaps), default=0) - self.INTERVAL_MS)


def _in_window(study_uid: str, repeat: int) -> dict[str, Any]:
    """In this process: a real window; Retrieve Study ``repeat`` times from empty caches."""
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer

    from galactoview.app import create_application, create_main_window
    from galactoview.dicom.loading import ScanResult
    from galactoview.imaging.decode_service import DecodeService
    from galactoview.imaging.pixel_cache import default_cache
    from galactoview.pacs import dicomweb
    from galactoview.pacs.nodes import parse_dicomweb_url
    from galactoview.ui.browser.pacs_panel import show_for

    app = create_application(["galactoview-bench"])
    service = DecodeService(default_cache())
    service.warm_up()
    window = create_main_window(ScanResult(), service=service)
    window.resize(1600, 1000)
    window.show()
    panel = show_for(window)
    node = parse_dicomweb_url(os.environ["GALACTOVIEW_PACS_URL"])
    study = dicomweb.find_studies(node, study_uid=study_uid)[0]
    firsts: list[float] = []
    alls: list[float] = []
    stalls: list[float] = []
    worst: list[list[tuple[int, float]]] = []
    for _ in range(repeat):
        window.set_scan_result(ScanResult())
        shutil.rmtree(panel.cache.study_folder(study_uid), ignore_errors=True)
        pixels = default_cache()
        if pixels is not None:
            shutil.rmtree(pixels.folder, ignore_errors=True)
        app.processEvents()
        clock = QElapsedTimer()
        heartbeat = _Heartbeat(clock)
        marks: dict[str, float] = {}
        loop = QEventLoop()

        def first(_index: int) -> None:
            marks.setdefault("first", clock.nsecsElapsed() / 1e9)  # noqa: B023

        def check() -> None:
            if "fetched" not in marks or "all" in marks:  # noqa: B023
                return
            complete = len(window.records) == 4 and not window.is_decoding()
            shown = window.session.hanging is not None and all(
                window.hanging_view.viewports[cell].has_image() for cell in window.session.cells
            )
            if complete and shown:
                marks["all"] = clock.nsecsElapsed() / 1e9  # noqa: B023
                loop.quit()  # noqa: B023

        def fetched(_fetched: object) -> None:
            marks["fetched"] = clock.nsecsElapsed() / 1e9  # noqa: B023
            check()

        window.image_shown.connect(first)
        window.image_shown.connect(lambda _i: check())
        window.images_added.connect(check)
        panel.retrieve_finished.connect(fetched)
        poll = QTimer()
        poll.timeout.connect(check)
        poll.start(20)
        clock.start()
        heartbeat.start()
        panel.retrieve_study(study)
        QTimer.singleShot(int(WINDOW_TIMEOUT_S * 1000), loop.quit)
        loop.exec()
        heartbeat.stop()
        poll.stop()
        for signal, slot in (
            (window.image_shown, first),
            (window.images_added, check),
            (panel.retrieve_finished, fetched),
        ):
            signal.disconnect(slot)
        if "all" not in marks or "first" not in marks:
            return {"error": f"timed out: {marks}, {len(window.records)} images"}
        firsts.append(marks["first"])
        alls.append(marks["all"])
        stalls.append(heartbeat.stall_ms())
        worst.append(sorted(heartbeat.gaps, reverse=True)[:6])
    background = _background_stalls(app, node, study_uid, repeat)
    window.set_scan_result(ScanResult())
    service.shutdown()
    return {
        "first_s": firsts,
        "all_s": alls,
        "open_stall_ms": stalls,
        "worst_gaps_ms_at_s": worst,
        "stall_ms": background,
    }


def _background_stalls(app: Any, node: Any, study_uid: str, repeat: int) -> list[float]:
    """Retrieve the study in a pool thread while the window shows it, idle; the longest gaps.

    As the panel's prior fetch or a study retrieved while another is read: the transfer
    alone, no image shown, the GUI thread free for the reader.
    """
    from PySide6.QtCore import (
        QElapsedTimer,
        QEventLoop,
        QObject,
        QRunnable,
        QThreadPool,
        QTimer,
        Signal,
    )

    from galactoview.pacs.cache import RetrieveCache
    from galactoview.pacs.fetch import fetch_study

    class Relay(QObject):
        done = Signal(object)

    class Job(QRunnable):
        def __init__(self, cache: RetrieveCache, relay: Relay) -> None:
            super().__init__()
            self.cache, self.relay = cache, relay

        def run(self) -> None:
            self.relay.done.emit(fetch_study(node, study_uid, self.cache))

    stalls: list[float] = []
    with tempfile.TemporaryDirectory(prefix="galactoview-bench-background-") as folder:
        for _ in range(repeat):
            cache = RetrieveCache(Path(folder) / "cache")
            shutil.rmtree(cache.root, ignore_errors=True)
            relay = Relay()
            loop = QEventLoop()
            fetched: list[Any] = []
            relay.done.connect(fetched.append)
            relay.done.connect(loop.quit)
            clock = QElapsedTimer()
            clock.start()
            heartbeat = _Heartbeat(clock)
            heartbeat.start()
            QThreadPool.globalInstance().start(Job(cache, relay))
            QTimer.singleShot(int(WINDOW_TIMEOUT_S * 1000), loop.quit)
            loop.exec()
            heartbeat.stop()
            if not fetched or not fetched[0].openable:
                raise RuntimeError(f"background retrieve failed: {fetched}")
            stalls.append(heartbeat.stall_ms())
            app.processEvents()
    return stalls


def main(argv: Sequence[str] | None = None) -> int:
    """Run the PACS benchmark (``python -m benchmarks.bench_pacs``)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_pacs", description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("build/bench-data"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--window", nargs=2, metavar=("STUDY_UID", "RUNS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.window:
        print(json.dumps(_in_window(args.window[0], int(args.window[1]))), flush=True)
        return 0
    results = measure(args.data, max(1, args.repeat))
    print(json.dumps({k: v for k, v in results.items() if k != "pacs_runs"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
