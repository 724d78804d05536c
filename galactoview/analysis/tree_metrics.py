"""Topology and size of a duct tree for research export: counts, lengths, Strahler orders (Qt-free).

A tree is given as what every source of one has in common — for each branch, the index
of its parent (``None`` for a root) and its length — so the same numbers come from a
suggested tree (:func:`suggestion_metrics`), from the reader's traced duct segments
(:func:`segment_metrics`) or from any other list (:func:`tree_metrics`).

What is measured
----------------
* **branch count**, **generations** and **total length**, with the branches and length
  per generation. The trunk (a root branch) is generation 0; a branch is one generation
  beyond its parent when the parent divides (has two or more children). A branch that is
  its parent's only child continues the same duct (a duct traced in two pieces, or a
  branching whose other child was pruned) and keeps its parent's generation.
* **Horton–Strahler order** of every branch and of the tree, by the usual rule extended
  to nodes with more than two children: a branch without children has order 1; a branch
  whose children's highest order ``i`` is reached by one child only has order ``i``, by
  two or more children order ``i + 1``. An only child passes its order to its parent.
  A forest (several roots) has the highest order of its trees.
* the **ramification matrix** (R matrix) of Vannimenus and Viennot, used for duct trees
  traced on galactograms by Bakic, Albert and Maidment ("Classification of galactograms
  with ramification matrices: preliminary results", Acad Radiol 2003;10:198–204; also
  Bakic, Albert, Brzakovic and Maidment, Med Phys 2003;30:1914–1925). Each bifurcation of
  a branch of Strahler order ``k`` (so ``k >= 2``) is of one of ``k`` kinds: into two
  branches of order ``k − 1`` (the only way order ``k`` arises), or into one branch of
  order ``k`` and a side branch of order ``j < k``. With ``a_k`` the number of
  bifurcations of order ``k`` and ``b_{k,j}`` those with a side branch of order ``j``
  (``b_{k,k}`` those into two of order ``k − 1``), the matrix element is
  ``r_{k,j} = b_{k,j} / a_k``: row ``k`` (orders 2 … the tree's order) has ``k``
  elements, ``j = 1 … k − 1`` off the diagonal and ``j = k`` on it, and sums to 1. (The
  definition as summarised in Deussen and Lintermann, *Digital Design of Nature*, 2005,
  §4 "Combinatorial approach", from Vannimenus and Viennot, J Stat Phys 1989.)

The R matrix is defined for binary trees. Here a node with ``m > 2`` children counts as
``m − 1`` bifurcations at the same place, its children joined highest order first (as if
the side branches left one after the other a zero length apart): the first two highest
children make one bifurcation, each further child a side branch of the node's order.
Joined in that order the node's Strahler order is the one of the rule above, so each of
its ``m − 1`` bifurcations falls in that order's row. A node with one child (an
unbranched chain) is no bifurcation and adds nothing to the matrix. Raw counts are kept
beside the fractions (:attr:`TreeMetrics.bifurcation_counts`), so trees can be pooled
by adding counts before dividing.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from galactoview.analysis.duct_tree import DuctTreeSuggestion
from galactoview.annotations.model import DuctSegment

__all__ = ["TreeMetrics", "segment_metrics", "suggestion_metrics", "tree_metrics"]


@dataclass(frozen=True, slots=True)
class TreeMetrics:
    """Topology and size of one duct tree (or forest).

    Attributes
    ----------
    branch_count
        Number of branches.
    generations
        Highest generation + 1 (0 for no branches); see the module docstring.
    total_length
        Sum of the branch lengths, in :attr:`length_unit`.
    length_unit
        ``"mm"``, or ``"px"`` (stored pixels) when the image is not calibrated.
    branch_generations
        Generation of each branch, in the order given.
    branches_per_generation
        Number of branches of generation 0, 1, … .
    length_per_generation
        Their summed length, in :attr:`length_unit`.
    branch_orders
        Horton–Strahler order of each branch, in the order given.
    strahler_order
        Horton–Strahler order of the tree (0 for no branches).
    bifurcation_counts
        Row ``k − 2`` for order ``k = 2 …`` :attr:`strahler_order`: ``k`` counts, the
        bifurcations of order ``k`` with a side branch of order ``1 … k − 1``, then
        those into two branches of order ``k − 1``.
    """

    branch_count: int
    generations: int
    total_length: float
    length_unit: str
    branch_generations: tuple[int, ...]
    branches_per_generation: tuple[int, ...]
    length_per_generation: tuple[float, ...]
    branch_orders: tuple[int, ...]
    strahler_order: int
    bifurcation_counts: tuple[tuple[int, ...], ...]

    @property
    def bifurcations(self) -> int:
        """Return the number of bifurcations counted (a node with m children counts m − 1)."""
        return sum(sum(row) for row in self.bifurcation_counts)

    @property
    def ramification_matrix(self) -> tuple[tuple[float, ...], ...]:
        """Return the R matrix: row ``k − 2`` for order ``k``, each row summing to 1.

        Element ``j − 1`` of the row of order ``k`` is ``r_{k,j}``: the fraction of the
        order-``k`` bifurcations with a side branch of order ``j`` (``j < k``) or, for
        ``j = k`` (the last, diagonal element), into two branches of order ``k − 1``.
        """
        return tuple(tuple(count / sum(row) for count in row) for row in self.bifurcation_counts)

    def as_dict(self) -> dict[str, Any]:
        """Return the metrics as a JSON-ready dict.

        Keys: ``branch_count``, ``generations``, ``total_length``, ``length_unit``,
        ``branches_per_generation``, ``length_per_generation`` (lists by generation),
        ``branch_generations``, ``branch_orders`` (lists by branch), ``strahler_order``,
        ``bifurcations`` and ``ramification_matrix``: ``{orders: [2, …, K], rows: [[r_k1,
        …, r_kk], …], counts: [[b_k1, …, b_kk], …], definition}``.
        """
        return {
            "branch_count": self.branch_count,
            "generations": self.generations,
            "total_length": round(self.total_length, 2),
            "length_unit": self.length_unit,
            "branches_per_generation": list(self.branches_per_generation),
            "length_per_generation": [round(v, 2) for v in self.length_per_generation],
            "branch_generations": list(self.branch_generations),
            "branch_orders": list(self.branch_orders),
            "strahler_order": self.strahler_order,
            "bifurcations": self.bifurcations,
            "ramification_matrix": {
                "orders": list(range(2, 2 + len(self.bifurcation_counts))),
                "rows": [[round(v, 4) for v in row] for row in self.ramification_matrix],
                "counts": [list(row) for row in self.bifurcation_counts],
                "definition": (
                    "row k (Strahler order k): element j < k is the fraction of order-k "
                    "bifurcations into orders (k, j); the last element, into (k-1, k-1) "
                    "(Bakic et al., Acad Radiol 2003)"
                ),
            },
        }


def tree_metrics(
    parents: Sequence[int | None], lengths: Sequence[float], *, unit: str = "mm"
) -> TreeMetrics:
    """Measure a tree given as a parent index and a length per branch.

    Parameters
    ----------
    parents
        For each branch, the index of the branch it leaves, ``None`` for a root.
        Any order; several roots make a forest.
    lengths
        For each branch, its length (non-negative), in ``unit``.
    unit
        The unit of ``lengths`` (``"mm"``, or ``"px"`` when uncalibrated).

    Returns
    -------
    TreeMetrics
        The metrics; all zero and empty for no branches.

    Raises
    ------
    ValueError
        If the two sequences differ in length, a parent index is out of range or the
        branch itself, the links form a cycle, or a length is negative or not finite.
    """
    count = len(parents)
    if len(lengths) != count:
        raise ValueError(f"{count} parents but {len(lengths)} lengths")
    for index, length in enumerate(lengths):
        if not (math.isfinite(length) and length >= 0):
            raise ValueError(f"branch {index}: length must be finite and >= 0, got {length!r}")
    children: list[list[int]] = [[] for _ in range(count)]
    roots: list[int] = []
    for index, parent in enumerate(parents):
        if parent is None:
            roots.append(index)
        elif not 0 <= parent < count or parent == index:
            raise ValueError(f"branch {index}: parent {parent!r} is not another branch")
        else:
            children[parent].append(index)
    order = _top_down(roots, children)
    if len(order) != count:
        raise ValueError("the parent links form a cycle: not a tree")
    generation = [0] * count
    for index in order:  # parents before children
        step = 1 if len(children[index]) > 1 else 0
        for child in children[index]:
            generation[child] = generation[index] + step
    strahler = [0] * count
    counts: dict[int, list[int]] = {}
    for index in reversed(order):  # children before parents
        strahler[index] = _strahler(sorted((strahler[c] for c in children[index]), reverse=True))
        _count_bifurcations(strahler[index], [strahler[c] for c in children[index]], counts)
    generations = max(generation, default=-1) + 1
    per_generation = [0] * generations
    length_per_generation = [0.0] * generations
    for index in range(count):
        per_generation[generation[index]] += 1
        length_per_generation[generation[index]] += float(lengths[index])
    tree_order = max(strahler, default=0)
    return TreeMetrics(
        branch_count=count,
        generations=generations,
        total_length=float(sum(lengths)),
        length_unit=unit,
        branch_generations=tuple(generation),
        branches_per_generation=tuple(per_generation),
        length_per_generation=tuple(length_per_generation),
        branch_orders=tuple(strahler),
        strahler_order=tree_order,
        bifurcation_counts=tuple(tuple(counts.get(k, [0] * k)) for k in range(2, tree_order + 1)),
    )


def suggestion_metrics(tree: DuctTreeSuggestion) -> TreeMetrics:
    """Measure a suggested duct tree, in mm when its image is calibrated, else in pixels.

    Parameters
    ----------
    tree
        A :func:`~galactoview.analysis.duct_tree.suggest_duct_tree` result.

    Returns
    -------
    TreeMetrics
        Its metrics (branch order as in ``tree.branches``).
    """
    branches = tree.branches
    calibrated = tree.calibrated and all(b.length_mm is not None for b in branches)
    lengths = [
        (b.length_mm if calibrated and b.length_mm is not None else b.length_px) for b in branches
    ]
    return tree_metrics([b.parent for b in branches], lengths, unit="mm" if calibrated else "px")


def segment_metrics(segments: Sequence[DuctSegment]) -> TreeMetrics:
    """Measure the reader's traced duct segments (trees linked by parent tracking UID).

    Lengths are the segments' Path Length in mm when every segment has one, else the
    polylines' lengths in stored pixels for all (never a mix of units). A parent UID
    that names no segment of ``segments`` makes that segment a root.

    Parameters
    ----------
    segments
        The duct segments of one image (or of one tree).

    Returns
    -------
    TreeMetrics
        Their metrics, branch order as in ``segments``.
    """
    index = {segment.tracking_uid: number for number, segment in enumerate(segments)}
    parents = [index.get(s.parent_uid) if s.parent_uid is not None else None for s in segments]
    known = [s.path_length for s in segments]
    if all(m is not None and m.unit.value == "mm" for m in known):
        return tree_metrics(parents, [m.value for m in known if m is not None], unit="mm")
    lengths = [
        float(sum(math.dist(a, b) for a, b in itertools.pairwise(s.region.points)))
        for s in segments
    ]
    return tree_metrics(parents, lengths, unit="px")


def _top_down(roots: Sequence[int], children: Sequence[Sequence[int]]) -> list[int]:
    """Return the branches reachable from the roots, each after its parent."""
    order: list[int] = []
    stack = list(reversed(roots))
    while stack:
        index = stack.pop()
        order.append(index)
        stack.extend(reversed(children[index]))
    return order


def _strahler(child_orders: Sequence[int]) -> int:
    """Return the Strahler order of a branch from its children's, highest first."""
    if not child_orders:
        return 1
    if len(child_orders) > 1 and child_orders[1] == child_orders[0]:
        return child_orders[0] + 1
    return child_orders[0]


def _count_bifurcations(
    order: int, child_orders: Sequence[int], counts: dict[int, list[int]]
) -> None:
    """Add the bifurcations of one node (children joined highest order first) to ``counts``."""
    if len(child_orders) < 2:
        return  # a leaf, or an unbranched chain: no bifurcation
    row = counts.setdefault(order, [0] * order)
    highest, second, *others = sorted(child_orders, reverse=True)
    row[order - 1 if highest == second else second - 1] += 1
    for side in others:
        row[side - 1] += 1
