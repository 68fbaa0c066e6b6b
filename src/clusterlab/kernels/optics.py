"""OPTICS ordering: scikit-learn's definition, reproduced exactly, without its O(n^2) Python loop.

scikit-learn's ``compute_optics_graph`` repeats ``n`` times: take the unprocessed point of least
reachability (ties: smallest index; all infinite: the smallest unprocessed index), mark it
processed, and if it is core, lower the reachability of every unprocessed point within
``max_eps`` to ``round(max(d, core_distance), 15 decimals)`` when that is strictly smaller,
recording the point as predecessor. Distances are Minkowski sums over the coordinates in order
(as scipy's ``cdist``); rounding is numpy's ``around`` (``rint(x * 1e15) / 1e15``). Both kernels
here follow those rules to the bit:

- :func:`optics_scan` keeps the unprocessed points in an index-ordered array and makes one pass
  over it per step, updating reachabilities and finding the next point at once: O(n^2) time,
  O(n) memory, no tree. Best when ``max_eps`` is infinite, where every unprocessed point is a
  neighbour anyway.
- :func:`optics_tree` finds the neighbours within ``max_eps`` with a kd-tree and keeps the
  reachable points in an indexed binary heap keyed by (reachability, index): O(n log n + pairs).

The ordering is sequential by definition; the core distances before it are computed in parallel.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clusterlab._config import CACHE
from clusterlab.kernels.kdtree import NO_LIMIT, STACK_SIZE, radius_next, walk_start
from clusterlab.kernels.metric import dist_to_rdist, rdist, rdist_rows, rdist_to_dist

__all__ = ["optics_scan", "optics_tree", "reach_from_clusters", "round15"]

_ROUND_SCALE = 1e15


@njit(cache=CACHE)
def round15(x):
    """numpy's ``np.around(x, 15)`` for one float64: ``rint(x * 1e15) / 1e15``."""
    return np.rint(x * _ROUND_SCALE) / _ROUND_SCALE


@njit(cache=CACHE)
def optics_scan(X, core, max_eps, p):
    """OPTICS ordering by a pass over the unprocessed points per step.

    Parameters
    ----------
    X : float64 or float32 array of shape (n, d)
        Read only.
    core : float64 array of shape (n,)
        Core distances, already rounded, ``inf`` for points that are never core.
    max_eps : float
        Neighbourhood radius (``inf`` for all points).
    p : float
        Minkowski exponent.

    Returns
    -------
    ordering : int64 array of shape (n,)
    reachability : float64 array of shape (n,)
    predecessor : int64 array of shape (n,)
    """
    n = X.shape[0]
    reach = np.full(n, np.inf)
    pred = np.full(n, -1, dtype=np.int64)
    ordering = np.empty(n, dtype=np.int64)
    unproc = np.arange(n, dtype=np.int64)
    r_max = dist_to_rdist(max_eps, p)
    m = n
    take = 0  # position in unproc of the next point
    for step in range(n):
        point = unproc[take]
        ordering[step] = point
        c = core[point]
        x = X[point]
        best = np.inf
        best_pos = 0
        w = 0  # compact unproc while scanning, dropping the point just taken
        for q in range(m):
            j = unproc[q]
            if q == take:
                continue
            unproc[w] = j
            # rounding is monotone and reach[j] already rounded: a raw value >= reach[j] cannot
            # improve it, so most pairs skip the sqrt and the rounding
            if c < reach[j]:
                rd = rdist_rows(X, j, X, point, 2.0) if p == 2.0 else rdist(X[j], x, p)
                if rd <= r_max:
                    v = max(rdist_to_dist(rd, p), c)
                    if v < reach[j]:
                        v = round15(v)
                        if v < reach[j]:
                            reach[j] = v
                            pred[j] = point
            if reach[j] < best:
                best = reach[j]
                best_pos = w
            w += 1
        m = w
        take = best_pos
    return ordering, reach, pred


@njit(cache=CACHE, inline="always")
def _before(reach, a, b):
    return reach[a] < reach[b] or (reach[a] == reach[b] and a < b)


@njit(cache=CACHE)
def _heap_up(heap, where, reach, pos):
    while pos > 0:
        up = (pos - 1) // 2
        if not _before(reach, heap[pos], heap[up]):
            return
        heap[pos], heap[up] = heap[up], heap[pos]
        where[heap[pos]] = pos
        where[heap[up]] = up
        pos = up


@njit(cache=CACHE)
def _heap_down(heap, where, reach, pos, size):
    while True:
        child = 2 * pos + 1
        if child >= size:
            return
        if child + 1 < size and _before(reach, heap[child + 1], heap[child]):
            child += 1
        if not _before(reach, heap[child], heap[pos]):
            return
        heap[pos], heap[child] = heap[child], heap[pos]
        where[heap[pos]] = pos
        where[heap[child]] = child
        pos = child


@njit(cache=CACHE)
def optics_tree(tree, core, max_eps, p):
    """OPTICS ordering with kd-tree radius queries and an indexed heap.

    Parameters
    ----------
    tree : KDTree
        :func:`clusterlab.kernels.kdtree.build_kdtree` of the data.
    core : float64 array of shape (n,)
        Core distances (original row order), rounded, ``inf`` when never core.
    max_eps : float
    p : float

    Returns
    -------
    ordering, reachability, predecessor : as :func:`optics_scan`.
    """
    # a literal p in each branch lets the compiler drop the per-coordinate metric tests
    if p == 2.0:
        return _optics_tree(tree, core, max_eps, 2.0)
    if p == 1.0:
        return _optics_tree(tree, core, max_eps, 1.0)
    return _optics_tree(tree, core, max_eps, p)


@njit(cache=CACHE, inline="always")
def _optics_tree(tree, core, max_eps, p):
    data = tree.data
    idx = tree.idx
    n = idx.shape[0]
    pos = np.empty(n, dtype=np.int64)
    for t in range(n):
        pos[idx[t]] = t
    reach = np.full(n, np.inf)
    pred = np.full(n, -1, dtype=np.int64)
    ordering = np.empty(n, dtype=np.int64)
    processed = np.zeros(n, dtype=np.bool_)
    heap = np.empty(n, dtype=np.int64)
    where = np.full(n, -1, dtype=np.int64)
    size = 0
    r_max = dist_to_rdist(max_eps, p)
    stack = np.empty(STACK_SIZE, dtype=np.int64)
    lowest = 0
    for step in range(n):
        if size > 0:
            point = heap[0]
            size -= 1
            heap[0] = heap[size]
            where[heap[0]] = 0
            _heap_down(heap, where, reach, 0, size)
            where[point] = -1
        else:
            while processed[lowest]:
                lowest += 1
            point = lowest
        processed[point] = True
        ordering[step] = point
        c = core[point]
        if c == np.inf:
            continue
        x = data[pos[point]]
        sp = walk_start(stack)
        while True:
            node, sp, _ = radius_next(tree, x, r_max, p, stack, sp, NO_LIMIT, False, False)
            if node < 0:
                break
            for u in range(tree.node_start[node], tree.node_end[node]):
                j = idx[u]
                if processed[j]:
                    continue
                if c >= reach[j]:
                    continue
                rd = rdist(data[u], x, p)
                if rd > r_max:
                    continue
                v = max(rdist_to_dist(rd, p), c)
                if v >= reach[j]:
                    continue
                v = round15(v)
                if v < reach[j]:
                    reach[j] = v
                    pred[j] = point
                    if where[j] < 0:
                        heap[size] = j
                        where[j] = size
                        size += 1
                    _heap_up(heap, where, reach, where[j])
    return ordering, reach, pred


# relative slack when a distance bound is turned back into a reduced distance: sqrt and square
# do not round-trip exactly, and a candidate tying the best value must still be looked at
_BOUND_SLACK = 1.0 + 1e-12


@njit(cache=CACHE, parallel=True)
def reach_from_clusters(tree, core, offer_limit, Q, max_eps, p):  # noqa: PLR0917
    """For new points, the least reachability a clustered training point offers, and an exact match.

    Training point ``o`` offers a new point ``x`` the reachability ``v = max(core[o], d(x, o))``
    (what OPTICS would give ``x`` had it been left unprocessed until ``o`` was ordered) when
    ``d(x, o) <= max_eps`` and ``v <= offer_limit[o]``. Noise points carry ``-inf`` and never
    offer; a clustered point carries the largest reachability found inside its cluster, so ``x``
    is only accepted at a density the cluster itself contains.

    Parameters
    ----------
    tree : KDTree
        :func:`clusterlab.kernels.kdtree.build_kdtree` of the training data (read only).
    core : float64 array of shape (n,)
        Core distances in original row order (read only).
    offer_limit : float64 array of shape (n,)
        Largest reachability each training point may offer, original row order (read only).
    Q : float array of shape (m, d)
        New points, same dtype family as the tree (read only).
    max_eps : float
    p : float
        Minkowski exponent.

    Returns
    -------
    reach : float64 array of shape (m,)
        The least offer, infinite when no training point offers.
    pred : int64 array of shape (m,)
        The training point making it (ties by smaller index), -1 when ``reach`` is infinite.
    match : int64 array of shape (m,)
        Smallest training index at distance exactly 0 (an exact duplicate), -1 when none.
    """
    data = tree.data
    idx = tree.idx
    m = Q.shape[0]
    reach = np.full(m, np.inf)
    pred = np.full(m, -1, dtype=np.int64)
    match = np.full(m, -1, dtype=np.int64)
    r_max = dist_to_rdist(max_eps, p)
    # nothing offers beyond the largest limit; radius 0 still finds exact duplicates
    radius = min(max_eps, offer_limit.max()) if offer_limit.size else 0.0
    r_radius = dist_to_rdist(max(radius, 0.0), p) * _BOUND_SLACK
    for i in prange(m):
        x = Q[i]
        best = np.inf
        best_j = -1
        zero_j = -1
        bound_r = r_radius
        stack = np.empty(STACK_SIZE, dtype=np.int64)
        sp = walk_start(stack)
        while True:
            # the nearer child is searched first so that the bound shrinks early
            node, sp, _ = radius_next(tree, x, bound_r, p, stack, sp, NO_LIMIT, False, True)
            if node < 0:
                break
            for u in range(tree.node_start[node], tree.node_end[node]):
                rd = rdist(data[u], x, p)
                if rd > bound_r:
                    continue
                j = idx[u]
                if rd == 0.0 and (zero_j < 0 or j < zero_j):
                    zero_j = j
                if rd > r_max:
                    continue
                v = max(rdist_to_dist(rd, p), core[j])
                if v <= offer_limit[j] and (v < best or (v == best and j < best_j)):
                    best = v
                    best_j = j
                    # an offer is never below the distance: farther points cannot beat it
                    bound_r = min(bound_r, dist_to_rdist(best, p) * _BOUND_SLACK)
        reach[i] = best
        pred[i] = best_j
        match[i] = zero_j
    return reach, pred, match
