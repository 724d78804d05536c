"""Command line of the phantom generator.

Examples
--------
Regenerate the bundled sample study (what ``make sample-data`` runs)::

    python -m galactoview.phantom --seed 7 --side L --out sample_data

Make another phantom, right breast, to test with::

    python -m galactoview.phantom --seed 42 --side R --out /tmp/phantom42

The same with air bubbles in the post-contrast images (filling-defect look-alikes)::

    python -m galactoview.phantom --seed 42 --side R --bubbles --out /tmp/phantom42b
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from galactoview.phantom.anatomy import Side

SAMPLE_SEED = 7


def build_parser() -> argparse.ArgumentParser:
    """Argument parser of ``python -m galactoview.phantom``."""
    parser = argparse.ArgumentParser(
        prog="python -m galactoview.phantom",
        description=(
            "Generate a synthetic galactography study (ductogram of one breast plus a prior "
            "bilateral screening study) with its ground truth. Deterministic: the same seed "
            "and side give byte-identical files."
        ),
    )
    parser.add_argument("--seed", type=int, default=SAMPLE_SEED, help="random seed (default 7)")
    parser.add_argument(
        "--side", choices=["L", "R"], default="L", help="breast that is cannulated (default L)"
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--no-previews", action="store_true", help="skip the PNG previews (faster)")
    parser.add_argument(
        "--bubbles",
        action="store_true",
        help="add 1-4 air bubbles to each post-contrast exposure (distractors, in the ground "
        "truth); the bundled sample has none",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the generator; return the process exit code."""
    args = build_parser().parse_args(argv)
    from galactoview.phantom.study import generate

    start = time.perf_counter()
    truth = generate(
        args.seed,
        Side(args.side),
        args.out,
        previews=not args.no_previews,
        bubbles=args.bubbles,
    )
    elapsed = time.perf_counter() - start
    print(
        f"wrote {len(truth['images'])} images and ground truth for seed {args.seed}, "
        f"side {args.side}, to {args.out} in {elapsed:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
