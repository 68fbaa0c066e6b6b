"""Approximate k-nearest-neighbour graphs: random-projection trees, then NN-descent.

For many points in many dimensions, where neither a kd-tree nor a full scan is affordable:

1. :func:`rp_forest_candidates` -- each random-projection tree splits a node by the hyperplane
   halfway between two of its points, down to leaves of at most ``leaf_size`` points; every
   pair in a leaf is a candidate (points close in space tend to share leaves);
2. :func:`nn_descent` -- Dong, Moses and Li (WWW 2011): a neighbour of a neighbour is likely a
   neighbour; each round every point's new neighbours are compared with each other and with its
   old ones (forward and reverse lists), and the lists keep the ``k`` nearest seen.

Randomness comes from a counter-based generator (splitmix64 of the seed, round and point), so
the graph is the same for a seed whatever the thread count. Distances are compared, not
reported: they are computed with ``fastmath`` (a reordered sum can only change which of two
near-equal candidates is kept in an approximate list); callers recompute the distances they
keep with the exact kernels.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clusterlab._config import CACHE

__all__ = ["nn_descent", "rp_forest_candidates"]

_MASK = (1 << 64) - 1


@njit(cache=CACHE, inline="always")
def _mix(x):
    """splitmix64 finaliser: a well-mixed 64-bit value from any 64-bit value."""
    x = (x + np.uint64(0x9E3779B97F4A7C15)) & np.uint64(_MASK)
    x = ((x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & np.uint64(_MASK)
    x = ((x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & np.uint64(_MASK)
    return x ^ (x >> np.uint64(31))


@njit(cache=CACHE, inline="always")
def _rand_below(seed, a, b, bound):
    """A deterministic pseudo-random integer in ``[0, bound)`` from (seed, a, b)."""
    x = _mix(np.uint64(seed) ^ _mix(np.uint64(a) * np.uint64(0x100000001B3) + np.uint64(b)))
    return np.int64(x % np.uint64(bound))


@njit(cache=CACHE, fastmath=True)
def _dist(X, i, j, p):
    """Reduced distance between rows (compared only; fastmath reorders the sum)."""
    acc = 0.0
    if p == 2.0:
        for f in range(X.shape[1]):
            t = np.float64(X[i, f]) - np.float64(X[j, f])
            acc += t * t
    elif p == 1.0:
        for f in range(X.shape[1]):
            acc += abs(np.float64(X[i, f]) - np.float64(X[j, f]))
    else:
        for f in range(X.shape[1]):
            acc = max(acc, abs(np.float64(X[i, f]) - np.float64(X[j, f])))
    return acc


@njit(cache=CACHE, fastmath=True)
def _project(X, i, normal):
    """``<X[i], normal>`` (a side of a hyperplane: fastmath cannot matter beyond a tie)."""
    acc = 0.0
    for f in range(X.shape[1]):
        acc += np.float64(X[i, f]) * normal[f]
    return acc


@njit(cache=CACHE, inline="always")
def _insert(heap_d, heap_i, flags, row, d, j):  # noqa: PLR0917
    """Insert ``j`` at reduced distance ``d`` into the sorted list of ``row`` (nearest first)
    unless it is there or farther than the last; returns whether it went in."""
    k = heap_d.shape[1]
    if d >= heap_d[row, k - 1]:
        return False
    for q in range(k):
        if heap_i[row, q] == j:
            return False
    pos = k - 1
    while pos > 0 and heap_d[row, pos - 1] > d:
        heap_d[row, pos] = heap_d[row, pos - 1]
        heap_i[row, pos] = heap_i[row, pos - 1]
        flags[row, pos] = flags[row, pos - 1]
        pos -= 1
    heap_d[row, pos] = d
    heap_i[row, pos] = j
    flags[row, pos] = True
    return True


# --------------------------------------------------------------------------------------------
# random-projection trees
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE)
def _rp_tree_leaves(X, seed, tree, leaf_size):
    """One random-projection tree; returns (order, leaf starts): the points of leaf ``l`` are
    ``order[starts[l]:starts[l + 1]]``."""
    n, d = X.shape
    order = np.arange(n, dtype=np.int64)
    stack_lo = np.empty(2 * n + 2, dtype=np.int64)
    stack_hi = np.empty(2 * n + 2, dtype=np.int64)
    stack_lo[0] = 0
    stack_hi[0] = n
    sp = 1
    leaf_bounds = np.empty(n + 1, dtype=np.int64)
    n_leaves = 0
    side = np.empty(n)
    normal = np.empty(d)
    node = 0
    while sp > 0:
        sp -= 1
        lo = stack_lo[sp]
        hi = stack_hi[sp]
        node += 1
        m = hi - lo
        if m <= leaf_size:
            leaf_bounds[n_leaves] = lo
            n_leaves += 1
            continue
        a = order[lo + _rand_below(seed, tree * 1_000_003 + node, 0, m)]
        b = order[lo + _rand_below(seed, tree * 1_000_003 + node, 1, m)]
        # the hyperplane through the midpoint of a and b, normal to b - a
        offset = 0.0
        for f in range(d):
            normal[f] = np.float64(X[b, f]) - np.float64(X[a, f])
            offset += normal[f] * 0.5 * (np.float64(X[b, f]) + np.float64(X[a, f]))
        n_left = 0
        for q in range(lo, hi):
            side[q] = _project(X, order[q], normal) - offset
            if side[q] < 0.0:
                n_left += 1
        if n_left in (0, m):
            # all on one side (duplicates): split in the middle of the order
            n_left = m // 2
            for q in range(lo, hi):
                side[q] = -1.0 if q - lo < n_left else 1.0
        # partition order[lo:hi] by side
        i = lo
        j = hi - 1
        while i <= j:
            if side[i] < 0.0:
                i += 1
            else:
                order[i], order[j] = order[j], order[i]
                side[i], side[j] = side[j], side[i]
                j -= 1
        stack_lo[sp] = lo
        stack_hi[sp] = lo + n_left
        stack_lo[sp + 1] = lo + n_left
        stack_hi[sp + 1] = hi
        sp += 2
    starts = np.sort(leaf_bounds[:n_leaves])
    out = np.empty(n_leaves + 1, dtype=np.int64)
    out[:n_leaves] = starts
    out[n_leaves] = n
    return order, out


@njit(cache=CACHE)
def rp_forest_candidates(X, k, n_trees, leaf_size, seed, p):  # noqa: PLR0917
    """Initial k-nearest lists from the leaves of ``n_trees`` random-projection trees.

    Parameters
    ----------
    X : float (n, d)
    k : int
        List length, ``1 <= k < n``.
    n_trees, leaf_size : int
    seed : int
    p : float
        Minkowski exponent (2.0, 1.0 or inf).

    Returns
    -------
    heap_d : float64 (n, k)
        Reduced distances, nearest first (``inf`` where the list is not full).
    heap_i : int64 (n, k)
        Neighbours (-1 where the list is not full).
    """
    n = X.shape[0]
    heap_d = np.full((n, k), np.inf)
    heap_i = np.full((n, k), -1, dtype=np.int64)
    flags = np.zeros((n, k), dtype=np.bool_)
    for tree in range(n_trees):
        order, starts = _rp_tree_leaves(X, seed, tree, leaf_size)
        _leaf_pairs(X, order, starts, (heap_d, heap_i, flags), p)
    return heap_d, heap_i


@njit(cache=CACHE, parallel=True)
def _leaf_pairs(X, order, starts, lists, p):
    """Every pair within a leaf enters both lists (each point's list written by the thread of
    its own leaf only: the leaves partition the points)."""
    heap_d, heap_i, flags = lists
    for leaf in prange(starts.shape[0] - 1):
        lo = starts[leaf]
        hi = starts[leaf + 1]
        for a in range(lo, hi):
            i = order[a]
            for b in range(lo, hi):
                j = order[b]
                if i != j:
                    _insert(heap_d, heap_i, flags, i, _dist(X, i, j, p), j)


# --------------------------------------------------------------------------------------------
# NN-descent
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE)
def _candidates(heap_i, flags, max_new, seed, rnd):
    """Forward and reverse candidate lists: up to ``max_new`` new and ``max_new`` old per point
    (reverse entries sampled by a pseudo-random priority); new neighbours sampled become old."""
    n, k = heap_i.shape
    new_c = np.full((n, max_new), -1, dtype=np.int64)
    old_c = np.full((n, max_new), -1, dtype=np.int64)
    new_p = np.full((n, max_new), np.inf)
    old_p = np.full((n, max_new), np.inf)
    for i in range(n):
        for q in range(k):
            j = heap_i[i, q]
            if j < 0:
                continue
            prio = np.float64(_rand_below(seed, rnd * n + i, j, 1 << 30))
            is_new = flags[i, q]
            for a, b in ((i, j), (j, i)):
                cand = new_c if is_new else old_c
                pri = new_p if is_new else old_p
                # keep the max_new smallest priorities
                worst = 0
                for s in range(1, max_new):
                    if pri[a, s] > pri[a, worst]:
                        worst = s
                if prio < pri[a, worst]:
                    dup = False
                    for s in range(max_new):
                        if cand[a, s] == b:
                            dup = True
                    if not dup:
                        cand[a, worst] = b
                        pri[a, worst] = prio
    for i in range(n):
        for q in range(k):
            j = heap_i[i, q]
            if j < 0 or not flags[i, q]:
                continue
            for s in range(max_new):
                if new_c[i, s] == j:
                    flags[i, q] = False
    return new_c, old_c


@njit(cache=CACHE, parallel=True)
def _local_join(X, block, cands, thresholds, p, out):  # noqa: PLR0917
    """Proposed updates of one block of points: pairs (new, new) and (new, old) of each point's
    candidates closer than the farther end's current last neighbour."""
    new_c, old_c = cands
    out_a, out_b, out_d, out_n = out
    lo, hi = block
    for v in prange(lo, hi):
        row = v - lo
        m = 0
        for s in range(new_c.shape[1]):
            a = new_c[v, s]
            if a < 0:
                continue
            for t in range(s + 1, new_c.shape[1] + old_c.shape[1]):
                b = new_c[v, t] if t < new_c.shape[1] else old_c[v, t - new_c.shape[1]]
                if b < 0 or b == a:
                    continue
                d = _dist(X, a, b, p)
                if d < thresholds[a] or d < thresholds[b]:
                    out_a[row, m] = a
                    out_b[row, m] = b
                    out_d[row, m] = d
                    m += 1
        out_n[row] = m


@njit(cache=CACHE)
def nn_descent(X, heap_d, heap_i, n_rounds, seed, p):  # noqa: PLR0917
    """Refine k-nearest lists by NN-descent; updates ``heap_d`` and ``heap_i`` in place.

    Parameters
    ----------
    X : float (n, d)
    heap_d, heap_i : (n, k)
        Lists from :func:`rp_forest_candidates` (read and written).
    n_rounds : int
        At most this many rounds; stops early when a round changes under 0.1 % of the entries.
    seed : int
    p : float
    """
    n, k = heap_i.shape
    flags = np.ones((n, k), dtype=np.bool_)
    max_new = max(k // 2, 4)
    width = (2 * max_new) * (2 * max_new)
    block = 4096
    out = (
        np.empty((block, width), dtype=np.int64),
        np.empty((block, width), dtype=np.int64),
        np.empty((block, width)),
        np.empty(block, dtype=np.int64),
    )
    thresholds = np.empty(n)
    for rnd in range(n_rounds):
        cands = _candidates(heap_i, flags, max_new, seed, rnd)
        changes = 0
        for lo in range(0, n, block):
            hi = min(n, lo + block)
            for i in range(n):
                thresholds[i] = heap_d[i, k - 1]
            _local_join(X, (lo, hi), cands, thresholds, p, out)
            out_a, out_b, out_d, out_n = out
            for row in range(hi - lo):
                for m in range(out_n[row]):
                    a = out_a[row, m]
                    b = out_b[row, m]
                    d = out_d[row, m]
                    changes += _insert(heap_d, heap_i, flags, a, d, b)
                    changes += _insert(heap_d, heap_i, flags, b, d, a)
        if changes < 0.001 * n * k:
            break
