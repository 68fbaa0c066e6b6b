"""The k nearest neighbours of every point of a kd-tree, one leaf at a time.

All-points k-nearest-neighbour queries in few dimensions, for the spanning trees of Genie and
single linkage: the points of a leaf share their candidates, so instead of one walk from the
root per point, each leaf

1. fills its points' lists from its own points (each pair's distance computed once);
2. walks the tree once, with box-to-box distances, for the leaves within the largest of those
   list radii (a leaf's points are close together, so the radii are alike), nearest first;
3. lets each point scan those leaves whose box is within its own current radius.

The result is :func:`clusterlab.kernels.mst.core_distances_tree`'s, to the bit: each list keeps
the ``k`` smallest (reduced distance, position) pairs, a total order, whatever order the points
are scanned in. A leaf with fewer than ``k`` points, or whose list of near leaves overflows,
queries point by point (:func:`clusterlab.kernels.mst.knn_within`).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clusterlab._config import CACHE
from clusterlab.kernels.kdtree import STACK_SIZE, min_rdist_node_node, min_rdist_point_node
from clusterlab.kernels.metric import rdist, rdist_to_dist
from clusterlab.kernels.mst import _heap_sort, _offer, knn_within

__all__ = ["leaf_knn"]

# leaves a leaf may list before its points query one by one
_NEAR_LEAVES = 128
_NO_POSITION = np.iinfo(np.int64).max


@njit(cache=CACHE)
def _near_leaves(tree, leaf, r_bound, p, work):
    """Leaves other than ``leaf`` whose box is within reduced distance ``r_bound`` of its box,
    nearest first, into ``work = (stack, out, out_d)``; returns how many, or -1 when ``out``
    overflows."""
    left = tree.node_left
    right = tree.node_right
    stack, out, out_d = work
    count = 0
    stack[0] = 0
    sp = 1
    while sp > 0:
        sp -= 1
        node = stack[sp]
        if node == leaf:
            continue
        d = min_rdist_node_node(tree, leaf, node, p)
        if d > r_bound:
            continue
        if left[node] >= 0:
            stack[sp] = right[node]
            stack[sp + 1] = left[node]
            sp += 2
            continue
        if count == out.shape[0]:
            return -1
        q = count  # insertion by box distance
        while q > 0 and out_d[q - 1] > d:
            out[q] = out[q - 1]
            out_d[q] = out_d[q - 1]
            q -= 1
        out[q] = node
        out_d[q] = d
        count += 1
    return count


@njit(cache=CACHE)
def _leaf_lists(tree, leaf, k, p, work, heaps):  # noqa: PLR0917
    """The k-nearest lists (max-heaps, unsorted) of the points of one leaf; False when the
    leaf must query point by point instead."""
    data = tree.data
    start = tree.node_start[leaf]
    end = tree.node_end[leaf]
    if end - start < k:
        return False
    heap_d, heap_i = heaps
    heap_d[:] = np.inf
    heap_i[:] = _NO_POSITION
    for t in range(start, end):
        _offer(heap_d[t - start], heap_i[t - start], 0.0, t)
        for s in range(t + 1, end):
            rd = rdist(data[s], data[t], p)
            _offer(heap_d[t - start], heap_i[t - start], rd, s)
            _offer(heap_d[s - start], heap_i[s - start], rd, t)
    radius = 0.0
    for t in range(end - start):
        radius = max(radius, heap_d[t, 0])
    count = _near_leaves(tree, leaf, radius, p, work)
    if count < 0:
        return False
    near = work[1]
    for t in range(start, end):
        hd = heap_d[t - start]
        hi = heap_i[t - start]
        x = data[t]
        for q in range(count):
            node = near[q]
            if min_rdist_point_node(tree, node, x, p) > hd[0]:
                continue
            for s in range(tree.node_start[node], tree.node_end[node]):
                _offer(hd, hi, rdist(data[s], x, p), s)
    return True


@njit(cache=CACHE)
def _write_sorted(heap_d, heap_i, t, out):
    """Sort one max-heap ascending (by distance, then position) into row ``t`` of ``out =
    (core, knn_pos)``."""
    core, knn_pos = out
    k = heap_d.shape[0]
    _heap_sort(heap_d, heap_i)
    for j in range(k):
        knn_pos[t, j] = heap_i[j]
    core[t] = heap_d[k - 1]


@njit(cache=CACHE, parallel=True)
def leaf_knn(tree, k, p):
    """Distance to the ``k``-th nearest point and the ``k`` nearest positions of every point,
    in the kd-tree's order (the point itself counts, as in ``core_distances_tree``).

    Parameters
    ----------
    tree : KDTree
        From ``kdtree.build_kdtree``.
    k : int
        ``1 <= k <= n``.
    p : float
        Minkowski exponent.

    Returns
    -------
    core : float64 (n,)
    knn_pos : int32 (n, k)
        Nearest first, ties by position.
    """
    data = tree.data
    n = data.shape[0]
    leaves = np.flatnonzero(tree.node_left < 0)
    width = 0
    for leaf in leaves:
        width = max(width, tree.node_end[leaf] - tree.node_start[leaf])
    knn_pos = np.empty((n, k), dtype=np.int32)
    core = np.empty(n, dtype=np.float64)
    for q in prange(leaves.shape[0]):
        leaf = leaves[q]
        work = (
            np.empty(STACK_SIZE, dtype=np.int64),
            np.empty(_NEAR_LEAVES, dtype=np.int64),
            np.empty(_NEAR_LEAVES),
        )
        heaps = (np.empty((width, k)), np.empty((width, k), dtype=np.int64))
        start = tree.node_start[leaf]
        if _leaf_lists(tree, leaf, k, p, work, heaps):
            for t in range(start, tree.node_end[leaf]):
                _write_sorted(heaps[0][t - start], heaps[1][t - start], t, (core, knn_pos))
            continue
        for t in range(start, tree.node_end[leaf]):
            knn_within(tree, data[t], p, np.inf, heaps[0][0], heaps[1][0], work[0])
            for j in range(k):
                knn_pos[t, j] = heaps[1][0, j]
            core[t] = heaps[0][0, k - 1]
    for t in prange(n):
        core[t] = rdist_to_dist(core[t], p)
    return core, knn_pos
