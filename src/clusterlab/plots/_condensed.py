"""An HDBSCAN condensed tree read from any of its formats, its flat selection and its icicle.

The tree is four parallel arrays (parent, child, lambda, size): points are the children of size 1,
clusters the children of size > 1, and the root is the smallest parent id. clusterlab's
``CondensedTree``, hdbscan's ``CondensedTree`` and scikit-learn's structured array all read into
this one form.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from clusterlab._base import NOISE


class Tree(NamedTuple):
    """A condensed tree as parallel arrays; ``root`` is the id of the root cluster."""

    parent: np.ndarray
    child: np.ndarray
    lam: np.ndarray
    size: np.ndarray
    root: int


class Icicle(NamedTuple):
    """The icicle plot as rectangles, one per step of a cluster's width.

    A cluster is a column centred at ``centre`` whose width is the number of points still in
    it; the width steps down at each lambda where points or child clusters leave.
    """

    centre: np.ndarray
    width: np.ndarray
    bottom: np.ndarray
    top: np.ndarray
    node: np.ndarray
    node_centre: dict[int, float]


def is_tree(obj: Any) -> bool:
    """Whether ``obj`` is a condensed tree itself (not a model holding one)."""
    if isinstance(obj, np.ndarray):
        return bool(obj.dtype.names) and "parent" in obj.dtype.names
    if isinstance(obj, pd.DataFrame):
        return "parent" in obj.columns
    return hasattr(obj, "to_numpy")


def tree_arrays(tree: Any) -> Tree:
    """(parent, child, lambda, size) from a structured array, a DataFrame or an object with
    ``to_numpy()`` (clusterlab's and hdbscan's CondensedTree)."""
    if hasattr(tree, "to_numpy") and not isinstance(tree, pd.DataFrame | np.ndarray):
        tree = tree.to_numpy()
    fields = set(tree.columns) if isinstance(tree, pd.DataFrame) else set(tree.dtype.names or ())
    lam = "lambda_val" if "lambda_val" in fields else "value"
    size = "child_size" if "child_size" in fields else "cluster_size"
    if not {"parent", "child", lam, size} <= fields:
        raise ValueError(
            "condensed_tree_ must have fields parent, child, lambda_val (or value) and "
            f"child_size (or cluster_size); got {sorted(fields)}"
        )
    parent = np.asarray(tree["parent"], dtype=np.int64)
    lam_values = np.asarray(tree[lam], dtype=np.float64)
    finite = lam_values[np.isfinite(lam_values)]
    # points at distance 0 leave at lambda = inf: draw them just below the deepest level
    cap = float(finite.max()) * 1.05 if finite.size else 1.0
    return Tree(
        parent,
        np.asarray(tree["child"], dtype=np.int64),
        np.minimum(lam_values, cap),
        np.asarray(tree[size], dtype=np.int64),
        int(parent.min()),
    )


def _children(tree: Tree) -> dict[int, list[int]]:
    is_cluster = tree.size > 1
    kids: dict[int, list[int]] = {}
    for p, c in zip(tree.parent[is_cluster], tree.child[is_cluster], strict=True):
        kids.setdefault(int(p), []).append(int(c))
    return kids


def _births(tree: Tree) -> dict[int, float]:
    is_cluster = tree.size > 1
    return {tree.root: 0.0} | dict(
        zip(tree.child[is_cluster].tolist(), tree.lam[is_cluster].tolist(), strict=True)
    )


def cluster_parents(tree: Tree) -> dict[int, int]:
    """Each cluster's parent cluster (the root has none)."""
    is_cluster = tree.size > 1
    return dict(zip(tree.child[is_cluster].tolist(), tree.parent[is_cluster].tolist(), strict=True))


def select_clusters(tree: Tree, method: str) -> list[int]:
    """Clusters chosen by excess of mass ('eom') or as the leaves ('leaf') of the tree."""
    kids = _children(tree)
    birth = _births(tree)
    nodes = sorted(birth)
    root = tree.root
    if method == "leaf":
        leaves = [c for c in nodes if c not in kids and c != root]
        return leaves or ([root] if root not in kids else [])
    stability = dict.fromkeys(nodes, 0.0)
    for p, lam_value, s in zip(tree.parent, tree.lam, tree.size, strict=True):
        stability[int(p)] += (lam_value - birth[int(p)]) * s
    selected: dict[int, set[int]] = {}
    for node in sorted(nodes, reverse=True):  # children have larger ids than their parents
        below = kids.get(node, [])
        total = sum(stability[n] for k in below for n in selected[k])
        if not below or stability[node] >= total:
            selected[node] = {node}
        else:
            selected[node] = set().union(*(selected[k] for k in below))
    if root not in kids:
        return []
    if root in selected[root]:
        return sorted(set().union(*(selected[k] for k in kids[root])))
    return sorted(selected[root])


def segments_of(tree: Tree, selected: list[int], labels: Any) -> dict[int, int]:
    """The segment id of each selected cluster.

    With ``labels`` (the model's), the segment holding most of the cluster's points; without,
    the cluster's position in ``selected`` (label ``i`` is ``selected[i]``, as clusterlab's
    HDBSCAN numbers them).
    """
    if labels is None:
        return {node: i for i, node in enumerate(selected)}
    owner = set(selected)
    parents = cluster_parents(tree)
    ancestor: dict[int, int | None] = {}

    def selected_ancestor(node: int) -> int | None:
        while node not in owner:
            if node == tree.root:
                return None
            node = parents[node]
        return node

    votes: dict[int, list[int]] = {n: [] for n in selected}
    points = tree.size == 1
    for p, c in zip(tree.parent[points].tolist(), tree.child[points].tolist(), strict=True):
        if p not in ancestor:
            ancestor[p] = selected_ancestor(p)
        if ancestor[p] is not None and c < len(labels):
            votes[ancestor[p]].append(int(labels[c]))
    segment = {}
    for node, vote in votes.items():
        members = [v for v in vote if v != NOISE]
        segment[node] = int(np.bincount(members).argmax()) if members else NOISE
    return segment


def _steps(
    lam: np.ndarray, size: np.ndarray, birth: float, width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One cluster's steps: (bottom, top, width) while rows leave at ``lam`` (sorted)."""
    if lam.size == 0:
        return lam, lam, lam
    levels, first = np.unique(lam, return_index=True)
    leaving = np.add.reduceat(size, first)
    bottoms = np.concatenate([[birth], levels[:-1]])
    widths = width - np.concatenate([[0], np.cumsum(leaving)[:-1]])
    keep = (levels > bottoms) & (widths > 0)
    return bottoms[keep], levels[keep], widths[keep].astype(np.float64)


def icicle(tree: Tree) -> Icicle:
    """Place every cluster below its parent, children side by side, and cut it in steps."""
    kids = _children(tree)
    birth = _births(tree)
    is_cluster = tree.size > 1
    total = {tree.root: int(tree.size[tree.parent == tree.root].sum())} | dict(
        zip(tree.child[is_cluster].tolist(), tree.size[is_cluster].tolist(), strict=True)
    )
    order = np.lexsort((tree.lam, tree.parent))
    parents = tree.parent[order]
    parts: list[tuple[np.ndarray, ...]] = []
    node_centre: dict[int, float] = {}
    stack = [(tree.root, 0.0)]
    while stack:
        node, left = stack.pop()
        centre = left + total[node] / 2
        node_centre[node] = centre
        rows = order[np.searchsorted(parents, node) : np.searchsorted(parents, node, "right")]
        bottom, top, width = _steps(tree.lam[rows], tree.size[rows], birth[node], total[node])
        parts.append((np.full(width.size, centre), width, bottom, top, np.full(width.size, node)))
        start = centre - sum(total[c] for c in kids.get(node, [])) / 2
        for c in kids.get(node, []):
            stack.append((c, start))
            start += total[c]
    centre, width, bottom, top, node = (np.concatenate(p) for p in zip(*parts, strict=True))
    return Icicle(centre, width, bottom, top, node.astype(np.int64), node_centre)
