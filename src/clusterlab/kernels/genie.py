"""The Genie merge rule over a minimum spanning tree (Gagolewski, Bartoszuk, Cena 2016).

Genie consumes the edges of a minimum spanning tree in increasing order of weight, as single
linkage does, except when the clusters' sizes have become too unequal: while the Gini index of
the cluster sizes exceeds the threshold, the next merge joins a cluster of the smallest size
along the lightest tree edge that leaves it. Every edge of a tree joins two different clusters,
so each merge uses one edge and the whole hierarchy takes ``n - 1`` merges.

:func:`genie_merges` runs the rule with the paper's bookkeeping, in near-linear time:

- the numerator of the Gini index, ``sum_{i<j} |c_i - c_j|``, is kept exactly in integers and
  updated per merge from three prefix sums (count and total size of the clusters below a size)
  of one Fenwick tree over the cluster sizes; the tree covers the sizes up to the largest one
  (rounded up to a power of two), so that its additions stop there;
- the clusters are a union-find forest with one row per point, (parent or minus the size at a
  root, cluster id at a root), so that a root's size and id come with it in one cache line;
- a plain merge takes the first unused edge; used edges are skipped by pointers that jump
  over runs of them (path halving, as in a union-find);
- a forced merge scans forward for the first unused edge with an end in a cluster of the
  smallest size, and the next forced merge resumes where that scan stopped while the smallest
  size is the same. The smallest size never decreases, and once it has reached ``s`` no
  cluster of size ``s`` is created any more (a merge creates a cluster of at least ``2 s``), so
  an edge the scan passed never comes to touch a cluster of that size; when the smallest size
  grows, the scan starts again from the first unused edge. Each restart costs at most one pass
  over the unused edges (fewer than the clusters left), which the blobs, uniform, outlier,
  path, star and random trees measured keep well below the heaps' cost.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from clusterlab._config import CACHE

__all__ = ["genie_merges", "gini_index"]


# --------------------------------------------------------------------------------------------
# a Fenwick tree over cluster sizes: count and total size of the clusters up to a size
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE, inline="always")
def _fw_add(tree, i, count, total, cap):
    """Add ``count`` clusters of total size ``total`` at size ``i`` (``tree`` covers the sizes
    ``1..cap``; its rows are (count, total size))."""
    while i <= cap:
        tree[i, 0] += count
        tree[i, 1] += total
        i += i & -i


@njit(cache=CACHE, inline="always")
def _fw_below(tree, i):
    """Number and total size of the clusters of size below ``i``."""
    i -= 1
    count = 0
    total = 0
    while i > 0:
        count += tree[i, 0]
        total += tree[i, 1]
        i -= i & -i
    return count, total


@njit(cache=CACHE, inline="always")
def _spread_change(tree, lo, hi, n):
    """Change of ``sum_{i<j} |c_i - c_j|`` when clusters of sizes ``lo <= hi`` merge, ``n``
    points in all, from the tree of the sizes before the merge.

    With ``s = lo + hi`` and the other clusters ``R``, the change is ``-(hi - lo) + sum_R f(c)``
    where ``f(c) = |s - c| - |lo - c| - |hi - c|`` is ``c`` up to ``lo``, ``2 lo - c`` up to
    ``hi``, ``2 s - 3 c`` up to ``s`` and ``-c`` above: three prefix sums over ``R``.
    """
    s = lo + hi
    n_lo, sum_lo = _fw_below(tree, lo)
    n_hi, sum_hi = _fw_below(tree, hi)
    n_s, sum_s = _fw_below(tree, s)
    if lo < hi:  # the cluster of size lo is below hi: not one of R
        n_hi -= 1
        sum_hi -= lo
    n_s -= 2
    sum_s -= s
    return (
        2 * (sum_lo + sum_hi - sum_s)
        + 2 * lo * (n_hi - n_lo)
        + 2 * s * (n_s - n_hi)
        - (n - s)
        - (hi - lo)
    )


# --------------------------------------------------------------------------------------------
# the rule
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE, inline="always")
def _next_unused(skip, e):
    """First unused edge at or after ``e`` (``skip[e] == e`` for an unused edge; a used one
    points further on; the path is halved on the way, as in a union-find)."""
    while skip[e] != e:
        skip[e] = skip[skip[e]]
        e = skip[e]
    return e


@njit(cache=CACHE, inline="always")
def _root(forest, x):
    """Root of the cluster of point ``x`` (path halving)."""
    while True:
        p = forest[x, 0]
        if p < 0:
            return x
        up = forest[p, 0]
        if up < 0:
            return p
        forest[x, 0] = up
        x = up


@njit(cache=CACHE)
def genie_merges(a, b, gini_threshold):
    """Every merge of the Genie hierarchy of a spanning tree.

    Parameters
    ----------
    a, b : int64 (n - 1,)
        Edge end points of a spanning tree of points ``0..n-1``, sorted by weight (equal weights
        in the order given: that order breaks ties).
    gini_threshold : float
        A merge is forced onto a smallest cluster while the Gini index of the cluster sizes is
        strictly above it (1.0: never, which is single linkage).

    Returns
    -------
    edge : int64 (n - 1,)
        Rank of the edge used by each merge, in merge order.
    left, right : int64 (n - 1,)
        Merged cluster ids, smaller first (points ``0..n-1``; merge ``i`` creates ``n + i``).
    size : int64 (n - 1,)
        Size of the merged cluster.
    """
    m = a.shape[0]
    n = m + 1
    # union-find, one row per point: (parent, or minus the size at a root; cluster id at a root)
    forest = np.empty((n, 2), dtype=np.int64)
    for p in range(n):
        forest[p, 0] = -1
        forest[p, 1] = p
    skip = np.arange(m + 1, dtype=np.int64)  # edge m: the end, never used
    # the Fenwick tree covers sizes 1..cap, cap a power of two >= the largest size: an addition
    # walks up to cap only, and doubling cap costs one entry (the new top covers everything)
    cap = 1
    tree = np.zeros((2 * n + 1, 2), dtype=np.int64)
    tree[1, 0] = n
    tree[1, 1] = n
    n_of_size = np.zeros(n + 1, dtype=np.int64)
    n_of_size[1] = n
    smallest = 1
    scan_size = 0  # the smallest size the forced scan below is for
    scan = 0
    spread = 0  # sum_{i<j} |c_i - c_j|
    edge = np.empty(m, dtype=np.int64)
    left = np.empty(m, dtype=np.int64)
    right = np.empty(m, dtype=np.int64)
    size = np.empty(m, dtype=np.int64)
    for i in range(m):
        k = n - i
        if k > 1 and spread / ((k - 1.0) * n) > gini_threshold:
            while n_of_size[smallest] == 0:
                smallest += 1
            if scan_size != smallest:
                scan_size = smallest
                scan = 0
            e = _next_unused(skip, scan)
            while -forest[_root(forest, a[e]), 0] != smallest and (
                -forest[_root(forest, b[e]), 0] != smallest
            ):
                e = _next_unused(skip, e + 1)
            scan = e
        else:
            e = _next_unused(skip, 0)
        ra = _root(forest, a[e])
        rb = _root(forest, b[e])
        sa = -forest[ra, 0]
        sb = -forest[rb, 0]
        while cap < sa + sb:
            tree[2 * cap, 0] = tree[cap, 0]
            tree[2 * cap, 1] = tree[cap, 1]
            cap *= 2
        spread += _spread_change(tree, min(sa, sb), max(sa, sb), n)
        _fw_add(tree, sa, -1, -sa, cap)
        _fw_add(tree, sb, -1, -sb, cap)
        _fw_add(tree, sa + sb, 1, sa + sb, cap)
        n_of_size[sa] -= 1
        n_of_size[sb] -= 1
        n_of_size[sa + sb] += 1
        skip[e] = e + 1
        edge[i] = e
        left[i] = min(forest[ra, 1], forest[rb, 1])
        right[i] = max(forest[ra, 1], forest[rb, 1])
        size[i] = sa + sb
        if sa < sb:
            ra, rb = rb, ra
        forest[rb, 0] = ra
        forest[ra, 0] = -(sa + sb)
        forest[ra, 1] = n + i
    return edge, left, right, size


@njit(cache=CACHE)
def gini_index(sizes):
    """Gini index of a vector of positive cluster sizes (0 for equal sizes or one cluster).

    ``sum_{i<j} |c_i - c_j| / ((k - 1) sum c)``, from the sorted sizes in O(k log k).
    """
    k = sizes.shape[0]
    if k <= 1:
        return 0.0
    c = np.sort(sizes.astype(np.float64))
    acc = 0.0
    for i in range(k):
        acc += (2.0 * i - k + 1.0) * c[i]
    return acc / ((k - 1) * c.sum())
