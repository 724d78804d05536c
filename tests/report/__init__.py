"""Tests of galactoview.report."""
