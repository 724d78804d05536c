"""Fuzz test: seeded mutants through ``info``, ``render``, ``sr show``, ``sr import``, ``report``.

One campaign (:func:`tests.fuzz.harness.run_campaign`, module fixture) runs
:data:`~tests.fuzz.harness.DEFAULT_COUNT` mutants of the sample images, small synthetic
images, the sample sidecar and its binary SR through ``galactoview.cli.main`` in a watched
child process; the tests below each assert one promise over all outcomes. A failure lists
every failing mutant: its number, entry point, mutation, the exception and where it was
raised, and the folder where the mutant was kept. ``GALACTOVIEW_FUZZ_SEED`` and
``GALACTOVIEW_FUZZ_COUNT`` change the seed and the number of mutants (longer campaigns:
``tools/fuzz_campaign.py``).

Time: issue 10 asks for >= 500 mutants in under two minutes; the campaign takes ~35 s
here. The assertion allows twice the two minutes (the machine is shared), scaled with the
count when ``GALACTOVIEW_FUZZ_COUNT`` asks for more.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from galactoview.paths import sample_dicom_dir
from tests.fuzz.harness import DEFAULT_COUNT, DEFAULT_SEED, ENTRIES, Campaign, run_campaign

SEED = int(os.environ.get("GALACTOVIEW_FUZZ_SEED", DEFAULT_SEED))
COUNT = int(os.environ.get("GALACTOVIEW_FUZZ_COUNT", DEFAULT_COUNT))
#: Twice the issue's two minutes for 500-600 mutants, and 0.4 s a mutant beyond.
BUDGET = max(240.0, 0.4 * COUNT)


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> Campaign:
    """Run the campaign once for this module; print and save its summary."""
    if not sample_dicom_dir().is_dir():
        pytest.skip(f"no sample study in {sample_dicom_dir()}")
    workdir = tmp_path_factory.mktemp("fuzz")
    result = run_campaign(workdir, seed=SEED, count=COUNT, budget=BUDGET)
    summary = result.summary()
    (workdir / "summary.txt").write_text(summary + "\n", "utf-8")
    print(summary)
    return result


def _assert_no_failure(campaign: Campaign, *kinds: str) -> None:
    """Assert no mutant failed in these ways; else list each of them, then the summary."""
    lines = [o.line() for o in campaign.failures if o.failure in kinds]
    message = f"{len(lines)} mutant(s):\n" + "\n".join(lines) + "\n\n" + campaign.summary()
    assert len(lines) == 0, message


def test_pristine_inputs_pass_every_entry(campaign: Campaign) -> None:
    # Without this the mutants could all fail for a reason of the harness's own.
    assert [run["name"] for run in campaign.baseline if run["exit_code"] != 0] == [], (
        campaign.baseline
    )


def test_every_mutant_ran_within_the_time_bound(campaign: Campaign) -> None:
    assert COUNT >= 500 or "GALACTOVIEW_FUZZ_COUNT" in os.environ
    assert campaign.truncated == ""
    assert [o.index for o in campaign.outcomes] == list(range(COUNT))
    assert campaign.elapsed < BUDGET


def test_every_entry_point_gets_mutants(campaign: Campaign) -> None:
    counts = {entry: sum(1 for o in campaign.outcomes if o.entry == entry) for entry in ENTRIES}
    assert min(counts.values()) >= max(1, COUNT // 50), counts


def test_no_uncaught_exception_crash_or_hang(campaign: Campaign) -> None:
    _assert_no_failure(campaign, "uncaught exception", "bad exit code", "crash", "hang")


def test_every_failure_names_the_file(campaign: Campaign) -> None:
    _assert_no_failure(campaign, "silent failure")


def test_memory_stays_bounded(campaign: Campaign) -> None:
    _assert_no_failure(campaign, "memory")


def test_inputs_are_never_modified(campaign: Campaign) -> None:
    _assert_no_failure(campaign, "input modified", "corpus modified")


def test_failing_mutants_are_kept_for_reproduction(campaign: Campaign) -> None:
    assert [o.index for o in campaign.failures if not Path(o.kept).is_dir()] == []
