"""Run seeded mutants through ``galactoview.cli.main`` in a watched child process.

A campaign makes ``count`` mutants (see :func:`plan` for the mix) of the bundled sample
images, of nine small synthetic images (six transfer syntaxes, MONOCHROME1, multi-frame,
RGB), of the sample study's annotation
sidecar (DICOM JSON) and of the binary SR ``galactoview sr export`` makes of it, and runs
each through one of ``info``, ``render``, ``sr show``, ``sr import`` and ``report`` by
calling :func:`galactoview.cli.main` with an argv, in process, as the console script does.
Mutant ``i`` is a function of the seed and ``i`` alone (the corpus is the same bytes in
every run), so any failure is reproduced with ``tools/fuzz_campaign.py --only I``.

A mutant **fails** when ``main`` raises (other than ``SystemExit`` with code 0, 1 or 2),
returns anything but 0, 1 or 2, returns non-zero without a stderr line naming the input
(the promise "every problem becomes one line ``path: what is wrong``"), changes its input
file, raises the process's resident memory by more than the memory limit during the call,
kills the process (a signal from a native decoder) or does not return within the per-call
timeout.

Why a child process. The calls are in process, but the process is a child that the test
watches: the child reports each mutant on a pipe before and after running it, and the
parent waits for that with a timeout (``selectors``, no threads). A mutant that hangs or
crashes the interpreter is then one reported failure; the parent kills the child, if need
be, and starts a new one at the next mutant. A timeout in the same process would need a
watchdog thread or a signal, and neither can stop a native decoder stuck in C code or
leave the process in a known state afterwards.

Why this memory measure. Before each call the child resets the kernel's peak resident
set size (``/proc/self/clear_refs``, value 5, Linux >= 4.0) and reads ``VmHWM`` after it:
the growth is the memory the call itself made resident, native decoders' buffers
included, which ``tracemalloc`` does not see (and it would slow every call). Where the
reset is not possible, the growth of ``ru_maxrss`` is used (a lower bound). The limit,
:data:`MEMORY_LIMIT_MIB` per call, is over four times what the largest pristine call
needs (``report`` of the sample study: ~115 MiB the first time, when Qt starts, ~60 MiB
after; a 2294 x 1914 frame is 9 MiB). So that a runaway allocation never reaches the
machine's other processes, the parent also reads the child's ``VmRSS`` every
:data:`POLL_SECONDS` while a call runs and kills the child once the call has added more
than the limit (a "memory" failure; a new child goes on). An address-space cap
(``RLIMIT_AS``) was not used: it would turn such an allocation into a ``MemoryError``
that the program may catch and report as a bad file, hiding the allocation this test is
meant to find, and thread stacks and malloc arenas make its right size a guess.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import time
import traceback
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any, Final

__all__ = [
    "DEFAULT_COUNT",
    "DEFAULT_SEED",
    "ENTRIES",
    "Campaign",
    "Job",
    "Outcome",
    "plan",
    "run_campaign",
]

#: The repository root (the child runs ``python -m tests.fuzz.harness`` from there).
REPO_ROOT: Final = Path(__file__).resolve().parents[2]
DEFAULT_SEED: Final = 20260312
DEFAULT_COUNT: Final = 600
#: Resident memory a single call may add, MiB (see the module docstring).
MEMORY_LIMIT_MIB: Final = 512
#: Seconds between two reads of the child's resident memory during a call.
POLL_SECONDS: Final = 0.05
#: Seconds one call may take before it counts as a hang (a pristine ``report``: ~1 s).
CALL_TIMEOUT: Final = 30.0
#: Seconds the child may take to build the corpus and run the pristine inputs.
SETUP_TIMEOUT: Final = 180.0
#: Exit codes ``main`` may return (0 done, 1 failure, 2 usage).
OK_EXIT_CODES: Final = (0, 1, 2)
ENTRIES: Final = ("info", "render", "sr show", "sr import", "report")
REPORT_DATE: Final = "2026-03-13"

#: (entry, source, share of the mutants). Sources: ``sample`` a bundled image (header
#: mutations), ``synthetic`` a 64 x 48 image (anywhere), ``size-claim`` a compressed
#: synthetic image whose header claims a huge size (:func:`~tests.fuzz.mutators.claim_size`;
#: too rare at random to be left to chance), ``sr-json`` the sidecar,
#: ``sr-binary`` the exported SR, ``study`` the ductogram study (its sidecar or an image).
#: ``report`` (~1 s a call) and full-size ``render`` (~0.3 s) get small shares.
SHARES: Final = (
    ("info", "sample", 0.23),
    ("info", "synthetic", 0.08),
    ("info", "sr-binary", 0.03),
    ("render", "synthetic", 0.25),
    ("render", "size-claim", 0.05),
    ("render", "sample", 0.04),
    ("sr show", "sr-json", 0.11),
    ("sr show", "sr-binary", 0.07),
    ("sr import", "sr-json", 0.05),
    ("sr import", "sr-binary", 0.05),
    ("report", "study", 0.04),
)


@dataclass(frozen=True, slots=True)
class Job:
    """Which entry point a mutant goes through and what it is made from."""

    entry: str
    source: str


def plan(seed: int, count: int) -> list[Job]:
    """Return the entry point and source of each of ``count`` mutants (seeded order).

    Each (entry, source) pair gets its share of :data:`SHARES`, at least one; the rest go
    to ``info`` of sample images, the cheapest.
    """
    jobs: list[Job] = []
    for entry, source, share in SHARES:
        jobs += [Job(entry, source)] * max(1, int(share * count))
    jobs += [Job("info", "sample")] * max(0, count - len(jobs))
    Random(f"{seed}/plan").shuffle(jobs)
    return jobs[:count]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one mutant (``failure`` is empty when it passed)."""

    index: int
    entry: str
    source: str
    mutation: str
    argv: tuple[str, ...]
    exit_code: int | None = None
    failure: str = ""
    exception: str = ""
    detail: str = ""
    where: str = ""
    origin: str = ""
    rss_growth_mib: float = 0.0
    seconds: float = 0.0
    kept: str = ""

    def line(self) -> str:
        """One line that says how to find and reproduce the failure."""
        what = f"{self.failure}: {self.detail}"  # an exception's detail starts with its type
        where = f" at {self.where}" if self.where else ""
        origin = f" (from {self.origin})" if self.origin and self.origin != self.where else ""
        return (
            f"#{self.index} {self.entry} [{self.source}] {self.mutation} -> {what}{where}"
            f"{origin}; kept in {self.kept}"
        )


@dataclass(slots=True)
class Campaign:
    """The result of a campaign: every outcome, the pristine runs and the totals."""

    seed: int
    count: int
    outcomes: list[Outcome] = field(default_factory=list)
    baseline: list[dict[str, Any]] = field(default_factory=list)
    elapsed: float = 0.0
    restarts: int = 0
    truncated: str = ""

    @property
    def failures(self) -> list[Outcome]:
        """The outcomes that failed."""
        return [o for o in self.outcomes if o.failure]

    def summary(self) -> str:
        """Per-entry counts (mutants, exit codes, failures) and the failures grouped."""
        lines = [
            f"fuzz seed {self.seed}: {len(self.outcomes)} of {self.count} mutants in "
            f"{self.elapsed:.1f} s, {self.restarts} restart(s)"
            + (f", {self.truncated}" if self.truncated else ""),
        ]
        for entry in ENTRIES:
            ran = [o for o in self.outcomes if o.entry == entry]
            codes = Counter(o.exit_code for o in ran if not o.failure)
            peak = max((o.rss_growth_mib for o in ran), default=0.0)
            seconds = sum(o.seconds for o in ran)
            lines.append(
                f"  {entry:10} {len(ran):4} mutants in {seconds:5.1f} s, exit 0/1/2: "
                f"{codes[0]}/{codes[1]}/{codes[2]}, failures: {sum(1 for o in ran if o.failure)}"
                f", peak call growth {peak:.0f} MiB"
            )
        groups: dict[tuple[str, str, str, str], list[Outcome]] = {}
        for outcome in self.failures:
            key = (outcome.entry, outcome.failure, outcome.exception, outcome.origin)
            groups.setdefault(key, []).append(outcome)
        if groups:
            lines.append("failures grouped by entry, kind, exception and origin:")
        for (entry, kind, exception, origin), members in sorted(
            groups.items(), key=lambda item: (item[0][0], -len(item[1]))
        ):
            example = members[0]
            lines.append(
                f"  {len(members):4} x {entry}: {kind} {exception} at "
                f"{origin or example.where or '-'}"
                f" -- e.g. #{example.index} [{example.source}] {example.mutation}: "
                f"{example.detail}"
            )
        return "\n".join(lines)


# --- the corpus --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Corpus:
    """The pristine inputs, built once per work folder by the child."""

    root: Path

    @property
    def samples(self) -> list[Path]:
        return sorted((self.root / "sample").glob("*.dcm"))

    @property
    def synthetic(self) -> list[Path]:
        return sorted((self.root / "synthetic").glob("*.dcm"))

    @property
    def study(self) -> Path:
        return self.root / "study"

    @property
    def study_images(self) -> list[Path]:
        return sorted(self.study.glob("*.dcm"))

    @property
    def sidecar(self) -> Path:
        (path,) = self.study.glob("galactoview-*.sr.json")
        return path

    @property
    def binary_sr(self) -> Path:
        return self.root / "sr" / "sr.dcm"

    def fingerprints(self) -> dict[str, tuple[int, int]]:
        """(size, mtime) of every corpus file: mutants hard-link them, nothing may change them."""
        return {
            str(p): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(self.root.rglob("*"))
            if p.is_file()
        }


def build_corpus(root: Path) -> Corpus:
    """Copy the sample study and make the synthetic images and the binary SR (once)."""
    corpus = Corpus(root)
    if (root / "ready").exists():
        return corpus
    from galactoview import cli
    from galactoview.paths import sample_dicom_dir

    sample = sample_dicom_dir()
    ductogram = sample / "20260312_DUCTOGRAM_L"
    if not ductogram.is_dir():
        raise FileNotFoundError(f"{ductogram}: the sample study is needed")
    shutil.rmtree(root, ignore_errors=True)
    (root / "sample").mkdir(parents=True)
    for image in sorted(sample.rglob("*.dcm")):
        shutil.copyfile(image, root / "sample" / image.name)
    shutil.copytree(ductogram, root / "study")
    _write_synthetic(root / "synthetic")
    (root / "sr").mkdir()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = cli.main(["sr", "export", str(corpus.sidecar), str(corpus.binary_sr)])
    if code != 0:
        raise RuntimeError(f"{corpus.sidecar}: sr export failed with exit code {code}")
    (root / "ready").touch()
    return corpus


def _write_synthetic(folder: Path) -> None:
    """Write 64 x 48 MG images in the encodings and pixel formats the viewer supports."""
    import numpy as np
    from pydicom.dataset import Dataset
    from pydicom.uid import (
        DeflatedExplicitVRLittleEndian,
        ImplicitVRLittleEndian,
        JPEG2000Lossless,
        JPEGLSLossless,
        RLELossless,
        generate_uid,
    )

    from tests.helpers import make_mg_dataset, make_pixels, write_dataset

    def _save(ds: Dataset, path: Path) -> None:
        # Fixed instance UIDs: the same seed must make the same bytes in every run.
        ds.SOPInstanceUID = generate_uid(entropy_srcs=["galactoview-fuzz", path.name])
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        write_dataset(ds, path)

    for syntax, name in (
        (None, "explicit"),
        (ImplicitVRLittleEndian, "implicit"),
        (DeflatedExplicitVRLittleEndian, "deflated"),
    ):
        ds = make_mg_dataset(seed=1)
        if syntax is not None:
            ds.file_meta.TransferSyntaxUID = syntax
        _save(ds, folder / f"{name}.dcm")
    for syntax, name in ((RLELossless, "rle"), (JPEG2000Lossless, "j2k"), (JPEGLSLossless, "jls")):
        ds = make_mg_dataset(seed=2)
        ds.compress(syntax)
        _save(ds, folder / f"{name}.dcm")
    _save(make_mg_dataset(photometric="MONOCHROME1", seed=3), folder / "mono1.dcm")
    frames = make_mg_dataset(seed=4)
    stack = np.stack([make_pixels(64, 48, seed=s) for s in range(3)])
    frames.NumberOfFrames = 3
    frames.PixelData = stack.astype("<u2").tobytes()
    _save(frames, folder / "multiframe.dcm")
    rgb = make_mg_dataset(seed=5)
    rgb.SamplesPerPixel = 3
    rgb.PhotometricInterpretation = "RGB"
    rgb.PlanarConfiguration = 0
    rgb.BitsAllocated, rgb.BitsStored, rgb.HighBit = 8, 8, 7
    rgb.PixelData = (np.arange(64 * 48 * 3) % 251).astype(np.uint8).tobytes()
    _save(rgb, folder / "rgb.dcm")


# --- one mutant --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Prepared:
    """A mutant written to its folder: the argv and what stderr may name on failure."""

    argv: tuple[str, ...]
    mutation: str
    input: Path
    data: bytes
    names: tuple[str, ...]


def _link(source: Path, target: Path) -> None:
    """Hard-link a corpus file (copy where links are not possible)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def prepare(job: Job, rng: Random, corpus: Corpus, folder: Path) -> Prepared:
    """Write mutant files for ``job`` into ``folder`` and return its argv."""
    from tests.fuzz import mutators as m

    folder.mkdir(parents=True)
    if job.source == "size-claim":  # native pixel data has its length checked already
        source = rng.choice([p for p in corpus.synthetic if p.stem in {"rle", "j2k", "jls"}])
        mutation = m.claim_size(source.read_bytes(), rng)
        path = folder / source.name
    elif job.source in {"sample", "synthetic"}:
        source = rng.choice(corpus.samples if job.source == "sample" else corpus.synthetic)
        mutation = m.mutate_part10(
            source.read_bytes(), rng, m.IMAGE, header_only=job.source == "sample"
        )
        path = folder / source.name
    elif job.source == "sr-binary":
        mutation = m.mutate_part10(corpus.binary_sr.read_bytes(), rng, m.SR, header_only=False)
        path = folder / "sr.dcm"
    elif job.source == "sr-json":
        mutation = m.mutate_json(corpus.sidecar.read_text("utf-8"), rng)
        path = folder / corpus.sidecar.name
    else:  # study: the sidecar or one image of the ductogram study, for ``report``
        study = folder / "study"
        target = rng.choice([corpus.sidecar, *corpus.study_images])
        for original in [corpus.sidecar, *corpus.study_images]:
            if original != target:
                _link(original, study / original.name)
        if target == corpus.sidecar:
            mutation = m.mutate_json(target.read_text("utf-8"), rng)
        elif rng.random() < 0.5:
            identity = {k: m.IMAGE_VALUES[k] for k in m.IMAGE_IDENTITY}
            mutation = m.mutate_value(target.read_bytes(), rng, identity)
        else:
            mutation = m.mutate_part10(target.read_bytes(), rng, m.IMAGE, header_only=True)
        path = study / target.name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(mutation.data)
    description = f"{path.name}: {mutation.description}"

    if job.entry == "info":
        argv = ["info", str(path), *(["--json"] if rng.random() < 0.3 else [])]
        names: tuple[str, ...] = (str(path),)
    elif job.entry == "render":
        out = folder / "out.png"
        if job.source == "sample":
            options = ["--max-size", "64"]
        else:
            options = rng.choice(
                ([], [], ["--auto"], ["--frame", "2"], ["--max-size", "16"], ["--window=1e308,1"])
            )
        argv = ["render", str(path), str(out), *options]
        names = (str(path), str(out))
    elif job.entry == "sr show":
        options = ["--json"] if rng.random() < 0.3 else []
        if rng.random() < 0.3:
            options += ["--images", str(corpus.study)]
        argv = ["sr", "show", str(path), *options]
        names = (str(path),)
    elif job.entry == "sr import":
        study = folder / "study"
        for image in corpus.study_images:
            _link(image, study / image.name)
        argv = ["sr", "import", str(path), str(study)]
        names = (str(path), str(study))
    else:
        study, out = folder / "study", folder / "report.pdf"
        argv = ["report", str(study), str(out), "--date", REPORT_DATE]
        names = (str(study), str(out))
    return Prepared(tuple(argv), description, path, mutation.data, names)


# --- running calls (child side) -------------------------------------------------------------


def _status_kib(name: str) -> int | None:
    """Return a ``/proc/self/status`` field in KiB (None off Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset the peak resident set size (``VmHWM``) to the current one; False if impossible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
            clear.write("5")
    except OSError:
        return False
    return _status_kib("VmHWM") is not None


@contextlib.contextmanager
def _peak_growth() -> Iterator[list[float]]:
    """Measure the resident memory a block adds at its peak, MiB (into the yielded list)."""
    result: list[float] = []
    exact = _reset_peak()
    before = (_status_kib("VmRSS") if exact else None) or 0
    max_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        yield result
    finally:
        if exact:
            growth = (_status_kib("VmHWM") or before) - before
        else:
            growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - max_before
        result.append(max(growth, 0) / 1024)


def _frame(entry: traceback.FrameSummary) -> str:
    """``path:line in function`` with the path shortened to the package."""
    path = re.sub(r"^.*/lib/python3\.\d+/(site-packages/)?", "", entry.filename)
    path = path.removeprefix(f"{REPO_ROOT}/")
    return f"{path}:{entry.lineno} in {entry.name}"


def call(prepared: Prepared, *, memory_limit_mib: float) -> dict[str, Any]:
    """Run one argv through ``main``; return the outcome fields (``failure`` empty if fine)."""
    from galactoview import cli

    out, err = io.StringIO(), io.StringIO()
    result: dict[str, Any] = {"failure": ""}
    started = time.perf_counter()
    with _peak_growth() as growth, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code: object = cli.main(list(prepared.argv))
        except SystemExit as exc:
            code = exc.code
            if code not in OK_EXIT_CODES:
                result.update(failure="exception", exception="SystemExit", detail=repr(code))
        except Exception as exc:  # every escape is what is looked for
            code = None
            frames = traceback.extract_tb(exc.__traceback__)
            ours = [f for f in frames if "/galactoview/" in f.filename]
            result.update(
                failure="uncaught exception",
                exception=type(exc).__name__,
                detail=traceback.format_exception_only(exc)[-1].strip()[:300],
                where=_frame(frames[-1]) if frames else "",
                origin=_frame(ours[-1]) if ours else "",
            )
    result["seconds"] = round(time.perf_counter() - started, 3)
    result["rss_growth_mib"] = round(growth[0], 1)
    result["exit_code"] = code if isinstance(code, int) else None
    if result["failure"]:
        return result
    stderr = err.getvalue()
    if not isinstance(code, int) or code not in OK_EXIT_CODES:
        result.update(failure="bad exit code", detail=repr(code))
    elif code != 0 and not any(n in line for line in stderr.splitlines() for n in prepared.names):
        result.update(failure="silent failure", detail=f"exit {code}, stderr {stderr[-200:]!r}")
    elif prepared.input.read_bytes() != prepared.data:
        result.update(failure="input modified", detail=str(prepared.input))
    elif growth[0] > memory_limit_mib:
        result.update(failure="memory", detail=f"resident memory +{growth[0]:.0f} MiB in one call")
    return result


def _baseline(corpus: Corpus, folder: Path) -> list[dict[str, Any]]:
    """Run every entry on pristine inputs (they must all exit 0); warms the imports up."""
    from galactoview import cli

    study_copy = folder / "import-study"
    for image in corpus.study_images:
        _link(image, study_copy / image.name)
    runs = {
        "info": ["info", str(corpus.samples[0])],
        "render": ["render", str(corpus.synthetic[0]), str(folder / "b.png")],
        "render sample": [
            "render",
            str(corpus.samples[0]),
            str(folder / "s.png"),
            "--max-size",
            "64",
        ],
        "sr show": ["sr", "show", str(corpus.sidecar)],
        "sr show binary": ["sr", "show", str(corpus.binary_sr), "--images", str(corpus.study)],
        "sr import": ["sr", "import", str(corpus.binary_sr), str(study_copy)],
        "report": ["report", str(corpus.study), str(folder / "b.pdf"), "--date", REPORT_DATE],
    }
    results = []
    for name, argv in runs.items():
        err = io.StringIO()
        started = time.perf_counter()
        with (
            _peak_growth() as growth,
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(err),
        ):
            try:
                code: object = cli.main(argv)
            except BaseException as exc:  # reported; the test asserts exit 0
                code = f"{type(exc).__name__}: {exc}"
        results.append(
            {
                "name": name,
                "exit_code": code,
                "stderr": err.getvalue()[-300:],
                "seconds": round(time.perf_counter() - started, 2),
                "rss_growth_mib": round(growth[0], 1),
            }
        )
    shutil.rmtree(folder)
    return results


def child(args: argparse.Namespace) -> int:
    """Child side: build the corpus, run the pristine inputs, then mutants from ``start``."""
    workdir: Path = args.workdir
    channel = os.fdopen(args.fd, "w", buffering=1, encoding="utf-8")

    def send(event: str, **fields: Any) -> None:
        channel.write(json.dumps({"event": event, **fields}) + "\n")

    corpus = build_corpus(workdir / "corpus")
    before = corpus.fingerprints()
    # A child restarted after a crash or hang goes straight on: its first call pays the
    # imports (well within the memory limit) but the campaign does not pay the warm-up again.
    warm_up = args.start == 0 and not args.skip_baseline
    send("baseline", runs=_baseline(corpus, workdir / "baseline") if warm_up else [])
    inject = dict(item.split("=") for item in args.inject.split(",") if item)
    jobs = plan(args.seed, args.count)
    indexes = [args.only] if args.only is not None else range(args.start, args.count)
    for index in indexes:
        job = jobs[index]
        folder = workdir / "mutants" / f"{index:05d}-{job.entry.replace(' ', '-')}"
        shutil.rmtree(folder, ignore_errors=True)
        prepared = prepare(job, Random(f"{args.seed}/{index}"), corpus, folder)
        base = {
            "index": index,
            "entry": job.entry,
            "source": job.source,
            "mutation": prepared.mutation,
            "argv": prepared.argv,
            "kept": str(folder),
        }
        send("start", **base)
        if inject.get(str(index)) == "crash":  # the watchdog's own test
            os.kill(os.getpid(), signal.SIGKILL)
        while inject.get(str(index)) == "hang":
            signal.pause()
        if inject.get(str(index)) == "memory":
            hog = [b"x" * (int(args.memory_limit_mib) << 21)]  # twice the limit, resident
            while hog:  # held until the watchdog stops the process
                signal.pause()
        result = call(prepared, memory_limit_mib=args.memory_limit_mib)
        if corpus.fingerprints() != before:
            result.update(failure="corpus modified", detail="a hard-linked input changed")
            before = corpus.fingerprints()
        send("end", **base, **result)
        if not result["failure"]:
            shutil.rmtree(folder, ignore_errors=True)
    send("done")
    return 0


# --- watching the child (parent side) --------------------------------------------------------


def _environment(workdir: Path) -> dict[str, str]:
    """The child's environment: offscreen Qt; home, config, data and cache in ``workdir``."""
    home = workdir / "home"
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_RUNTIME_DIR=str(home / "runtime"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    (home / "runtime").mkdir(parents=True, exist_ok=True, mode=0o700)
    return env


class _Child:
    """A running child and the JSON lines it sends."""

    def __init__(self, workdir: Path, arguments: list[str], number: int) -> None:
        read, write = os.pipe()
        self.log = workdir / f"child-{number}.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.fuzz.harness", *arguments, "--fd", str(write)],
                cwd=REPO_ROOT,
                env=_environment(workdir),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                pass_fds=(write,),
            )
        os.close(write)
        self.read = read
        self.buffer = b""
        self.selector = selectors.DefaultSelector()
        self.selector.register(read, selectors.EVENT_READ)

    def rss_kib(self) -> int | None:
        """The child's resident memory, KiB (None off Linux or once it has gone)."""
        try:
            with open(f"/proc/{self.process.pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def next_event(self, timeout: float, *, rss_ceiling_kib: int | None) -> dict[str, Any] | None:
        """Return the next event: ``{}`` when the child has gone, None on timeout.

        While waiting, the child's resident memory is read every :data:`POLL_SECONDS`;
        above ``rss_ceiling_kib`` the event ``{"event": "memory", "rss_kib": ...}`` is
        returned at once.
        """
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready = self.selector.select(min(left, POLL_SECONDS))
            if rss_ceiling_kib is not None and (rss := self.rss_kib() or 0) > rss_ceiling_kib:
                return {"event": "memory", "rss_kib": rss}
            if ready:
                chunk = os.read(self.read, 1 << 16)
                if not chunk:
                    return {}
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        event: dict[str, Any] = json.loads(line)
        return event

    def stop(self) -> int:
        """Kill the child if it still runs; return its exit status."""
        if self.process.poll() is None:
            self.process.kill()
        code = self.process.wait()
        if self.read >= 0:
            self.selector.close()
            os.close(self.read)
            self.read = -1
        return code

    def log_tail(self) -> str:
        return self.log.read_text("utf-8", "replace")[-2000:]


def run_campaign(
    workdir: Path,
    *,
    seed: int = DEFAULT_SEED,
    count: int = DEFAULT_COUNT,
    call_timeout: float = CALL_TIMEOUT,
    budget: float = 600.0,
    memory_limit_mib: float = MEMORY_LIMIT_MIB,
    only: int | None = None,
    baseline: bool = True,
    inject: Mapping[int, str] | None = None,
) -> Campaign:
    """Run ``count`` mutants (or the one numbered ``only``) in watched child processes.

    Parameters
    ----------
    workdir
        Empty folder for the corpus, the mutants (failing ones are kept, under
        ``mutants/``) and the children's logs.
    seed, count
        Which mutants.
    call_timeout
        Seconds a call may take before it is a hang (the child is killed and a new one
        goes on with the next mutant).
    budget
        Seconds the whole campaign may take; past that it stops (``Campaign.truncated``).
    memory_limit_mib
        Resident memory one call may add.
    only
        Run only this mutant (to reproduce a failure).
    baseline
        Run the pristine inputs first (``Campaign.baseline``).
    inject
        Test only: mutant numbers whose call is replaced by a hang, a crash or a big
        allocation (``"hang"``, ``"crash"``, ``"memory"``), to test the watchdog.

    Returns
    -------
    Campaign
        Every outcome, the pristine runs, the time taken.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    campaign = Campaign(seed, count)
    started = time.monotonic()
    start, number = 0, 0
    while start < count:
        arguments = [
            "--workdir", str(workdir), "--seed", str(seed), "--count", str(count),
            "--start", str(start), "--memory-limit-mib", str(memory_limit_mib),
        ]  # fmt: skip
        if only is not None:
            arguments += ["--only", str(only)]
        if not baseline:
            arguments.append("--skip-baseline")
        if inject:
            arguments += ["--inject", ",".join(f"{i}={what}" for i, what in inject.items())]
        process = _Child(workdir, arguments, number)
        number += 1
        try:
            start = _watch(process, campaign, started + budget, call_timeout, memory_limit_mib)
        finally:
            process.stop()
        if only is not None:
            break
    campaign.elapsed = time.monotonic() - started
    return campaign


def _watch(
    process: _Child, campaign: Campaign, deadline: float, call_timeout: float, limit_mib: float
) -> int:
    """Collect one child's outcomes into ``campaign``; return the next mutant to run.

    Returns ``campaign.count`` when the campaign is over (done, or out of time).

    Raises
    ------
    RuntimeError
        When the child stops while not running a mutant (the harness itself failed).
    """
    current: dict[str, Any] | None = None
    ceiling: int | None = None
    timeout = SETUP_TIMEOUT
    while True:
        left = deadline - time.monotonic()
        event = process.next_event(max(min(timeout, left), 0.0), rss_ceiling_kib=ceiling)
        if event is None and left <= timeout:
            campaign.truncated = "stopped when the time budget ran out"
            return campaign.count
        kind = None if not event else event.pop("event")
        if kind in {None, "memory"}:
            if current is None:
                raise RuntimeError(
                    f"the fuzz child stopped outside a mutant (status {process.stop()}):\n"
                    f"{process.log_tail()}"
                )
            status = process.stop()
            grown = 0.0
            if event is None:
                failure, detail = "hang", f"no result within {call_timeout:.0f} s"
            elif kind == "memory":
                failure = "memory"
                grown = (event["rss_kib"] - (ceiling or 0)) / 1024 + limit_mib
                detail = f"resident memory +{grown:.0f} MiB in one call; the process was stopped"
            else:
                failure = "crash"
                detail = f"the process ended with status {status}" + (
                    f" ({signal.Signals(-status).name})" if status < 0 else ""
                )
            fields = {k: v for k, v in current.items() if k != "event"}
            fields["argv"] = tuple(fields["argv"])
            fields["rss_growth_mib"] = round(grown, 1)
            campaign.outcomes.append(Outcome(**fields, failure=failure, detail=detail))
            campaign.restarts += 1
            next_index: int = current["index"] + 1
            return next_index
        assert event is not None
        if kind == "baseline":
            if event["runs"]:
                campaign.baseline = event["runs"]
            timeout = call_timeout
        elif kind == "start":
            current = event
            rss = process.rss_kib()
            ceiling = None if rss is None else rss + int(limit_mib * 1024)
        elif kind == "end":
            event["argv"] = tuple(event["argv"])
            campaign.outcomes.append(Outcome(**event))
            current, ceiling = None, None
        elif kind == "done":
            return campaign.count


def _arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="fuzz child (started by run_campaign)")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--only", type=int)
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--memory-limit-mib", type=float, default=MEMORY_LIMIT_MIB)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--inject", default="", help="test only: INDEX=hang|crash|memory,...")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(child(_arguments()))
