"""Fuzz test: seeded mutants of the sample images and an SR run through the command line.

:mod:`tests.fuzz.mutators` makes the mutants, :mod:`tests.fuzz.harness` runs them through
``galactoview.cli.main`` in a watched child process, and ``test_fuzz.py`` asserts that no
mutant ends in an uncaught exception, a crash, a hang or unbounded memory.
"""
