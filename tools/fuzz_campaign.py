"""Run a longer fuzz campaign than the test suite's, or reproduce one mutant.

Usage::

    .venv/bin/python tools/fuzz_campaign.py [--seed N] [--count N] [--workdir DIR]
    .venv/bin/python tools/fuzz_campaign.py --only 342          # mutant 342 of the default run

Runs :func:`tests.fuzz.harness.run_campaign` (the harness of ``tests/fuzz/test_fuzz.py``):
the same mutants for the same seed and count, so ``--only I`` with the suite's seed and
count (the defaults) rebuilds and reruns exactly mutant ``I`` of a failing test run.
Prints the per-entry counts and the failures grouped, then one line per failing mutant
with the folder it was kept in (under ``--workdir``, default a new temporary folder,
which is kept). Exit status 0 when no mutant failed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fuzz.harness import (
    DEFAULT_COUNT,
    DEFAULT_SEED,
    MEMORY_LIMIT_MIB,
    run_campaign,
)


def main(argv: list[str] | None = None) -> int:
    """Run the campaign; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT)
    parser.add_argument("--only", type=int, metavar="I", help="run only mutant I")
    parser.add_argument("--workdir", type=Path, help="folder for the corpus and the mutants")
    parser.add_argument("--budget", type=float, default=3600.0, help="seconds (default 3600)")
    parser.add_argument("--memory-limit-mib", type=float, default=MEMORY_LIMIT_MIB)
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="galactoview-fuzz-"))
    campaign = run_campaign(
        workdir,
        seed=args.seed,
        count=args.count,
        budget=args.budget,
        memory_limit_mib=args.memory_limit_mib,
        only=args.only,
    )
    print(campaign.summary())
    for outcome in campaign.failures:
        print(outcome.line())
    print(f"work folder: {workdir}")
    return 1 if campaign.failures else 0


if __name__ == "__main__":
    sys.exit(main())
