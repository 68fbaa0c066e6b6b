"""Among the minimum spanning trees of a mutual reachability distance, the one that prefers,
between edges of equal weight, the smaller raw distance.

Mutual reachability ``mr(i, j) = max(d(i, j), core[i], core[j])`` ties whole neighbourhoods:
every neighbour within a point's core distance is at the same weight, so many trees are
minimal, and the linkages walking them differ. Edges of equal weight can only be exchanged
within those neighbourhoods, so a minimum tree plus every core-distance neighbour edge holds
the minimum tree under the refined key ``(mr, d, smaller end, larger end)``, which Kruskal picks
out.

:func:`prefer_nearer` does that without sorting every candidate: a candidate whose weight is
none of the tree's weights is in no minimum tree (all minimum trees share one multiset of
weights), so each candidate is ranked by a binary search among the tree's distinct weights,
the kept ones are bucketed by rank (counting sort), and only each bucket, a run of equal
weights, is sorted by ``(d, smaller end, larger end)``.

The points may come in any row order (``ids`` maps rows to the caller's point numbers, which
break the ties): in a kd-tree's order the neighbours of a point lie near it in memory, which
makes the pass over the candidates and Kruskal's union-find cache-friendly.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clusterlab._config import CACHE
from clusterlab.kernels.metric import rdist, rdist_to_dist
from clusterlab.kernels.union_find import uf_make, uf_union

__all__ = ["prefer_nearer"]

_INSERTION_BELOW = 16


@njit(cache=CACHE)
def _core_ranks(core, weights):
    """Rank of each core distance among ``weights`` (sorted, distinct), or -1 when absent."""
    order = np.argsort(core)
    out = np.full(core.shape[0], -1, dtype=np.int64)
    r = 0
    for i in order:
        while r < weights.shape[0] and weights[r] < core[i]:
            r += 1
        if r < weights.shape[0] and weights[r] == core[i]:
            out[i] = r
    return out


@njit(cache=CACHE, inline="always")
def _rank(mr, i, j, core, core_rank, weights):  # noqa: PLR0917
    """Rank of weight ``mr`` of edge ``(i, j)`` among ``weights``, or -1 when absent (by the
    core distances' ranks when the weight is one of them, the usual case)."""
    if mr == core[i]:
        return core_rank[i]
    if mr == core[j]:
        return core_rank[j]
    r = np.searchsorted(weights, mr)
    return r if r < weights.shape[0] and weights[r] == mr else -1


@njit(cache=CACHE, parallel=True)
def _candidates(data, tree, knn, core, weights, p):  # noqa: PLR0917
    """Every tree edge and neighbour edge as (one end, other end, raw distance, weight rank);
    rank -1 for a self-loop or a weight that is none of ``weights``."""
    a, b = tree
    n, k = knn.shape
    m_tree = a.shape[0]
    m = m_tree + n * k
    end_i = np.empty(m, dtype=np.int64)
    end_j = np.empty(m, dtype=np.int64)
    dist = np.empty(m)
    rank = np.empty(m, dtype=np.int64)
    core_rank = _core_ranks(core, weights)
    for e in prange(m):
        if e < m_tree:
            i, j = a[e], b[e]
        else:
            i = (e - m_tree) // k
            j = np.int64(knn[i, (e - m_tree) % k])
            j = j if j >= 0 else i  # -1: no neighbour (a self-loop, skipped)
        end_i[e] = i
        end_j[e] = j
        d = rdist_to_dist(rdist(data[i], data[j], p), p)
        dist[e] = d
        mr = max(d, core[i], core[j])
        rank[e] = _rank(mr, i, j, core, core_rank, weights) if i != j else -1
    return end_i, end_j, dist, rank


@njit(cache=CACHE, inline="always")
def _ends(e, ends, ids):
    """The caller's numbers of edge ``e``'s ends, smaller first."""
    end_i, end_j = ends
    x = ids[end_i[e]]
    y = ids[end_j[e]]
    return min(x, y), max(x, y)


@njit(cache=CACHE, inline="always")
def _before(e, f, dist, ends, ids):
    """Edge ``e`` comes before edge ``f`` of the same weight: by (d, smaller end, larger end)."""
    if dist[e] != dist[f]:
        return dist[e] < dist[f]
    return _ends(e, ends, ids) < _ends(f, ends, ids)


@njit(cache=CACHE)
def _sort_run(run, dist, ends, ids):
    """Sort edge ids ``run`` in place by (d, smaller end, larger end)."""
    size = run.shape[0]
    if size < _INSERTION_BELOW:
        for i in range(1, size):
            e = run[i]
            j = i - 1
            while j >= 0 and _before(e, run[j], dist, ends, ids):
                run[j + 1] = run[j]
                j -= 1
            run[j + 1] = e
        return
    # large runs (duplicate points, all at weight 0): stable sorts, last key first
    lo = np.empty(size, dtype=np.int64)
    hi = np.empty(size, dtype=np.int64)
    for q in range(size):
        lo[q], hi[q] = _ends(run[q], ends, ids)
    order = np.argsort(hi, kind="mergesort")
    order = order[np.argsort(lo[order], kind="mergesort")]
    run[:] = run[order[np.argsort(dist[run[order]], kind="mergesort")]]


@njit(cache=CACHE)
def _refined_order(rank, n_ranks, dist, ends, ids):
    """Ids of the ranked edges by (weight rank, d, smaller end, larger end): a counting sort by
    rank, then each run of equal weight sorted."""
    start = np.zeros(n_ranks + 1, dtype=np.int64)
    for e in range(rank.shape[0]):
        if rank[e] >= 0:
            start[rank[e] + 1] += 1
    for r in range(n_ranks):
        start[r + 1] += start[r]
    fill = start[:-1].copy()
    order = np.empty(start[-1], dtype=np.int64)
    for e in range(rank.shape[0]):
        r = rank[e]
        if r >= 0:
            order[fill[r]] = e
            fill[r] += 1
    for r in range(n_ranks):
        if start[r + 1] - start[r] > 1:
            _sort_run(order[start[r] : start[r + 1]], dist, ends, ids)
    return order


@njit(cache=CACHE)
def _tree_weights(data, a, b, core, p):
    """Sorted distinct mutual reachability weights of the edges ``(a, b)``."""
    w = np.empty(a.shape[0])
    for e in range(a.shape[0]):
        d = rdist_to_dist(rdist(data[a[e]], data[b[e]], p), p)
        w[e] = max(d, core[a[e]], core[b[e]])
    return np.unique(w)


@njit(cache=CACHE)
def prefer_nearer(data, ids, tree, knn, core, p):  # noqa: PLR0917
    """The minimum spanning tree of ``max(d, core[i], core[j])`` that is minimal under the key
    ``(weight, d, smaller end, larger end)``.

    Parameters
    ----------
    data : float (n, d)
        The points, in any row order.
    ids : int64 (n,)
        The caller's number of the point in each row (a permutation of ``0..n-1``): the ends
        of the key and of the result.
    tree : (int64 (n - 1,), int64 (n - 1,))
        A minimum spanning tree of the mutual reachability distance as rows of ``data``, any
        order.
    knn : int64 (n, k)
        Row ``i``: rows of neighbours of row ``i``, at least every point within ``core[i]``
        (the core distance's neighbour list); the row itself and -1 (no neighbour) may appear
        and are skipped.
    core : float64 (n,)
        Core distances of the rows.
    p : float
        Minkowski exponent.

    Returns
    -------
    lo, hi : int64 (n - 1,)
        Edge ends (``ids``), smaller first, in the order Kruskal keeps them (the refined key).
    weight : float64 (n - 1,)
    """
    a, b = tree
    n = knn.shape[0]
    weights = _tree_weights(data, a, b, core, p)
    end_i, end_j, dist, rank = _candidates(data, (a, b), knn, core, weights, p)
    parent, size = uf_make(n)
    out_lo = np.empty(n - 1, dtype=np.int64)
    out_hi = np.empty(n - 1, dtype=np.int64)
    out_w = np.empty(n - 1)
    kept = 0
    for e in _refined_order(rank, weights.shape[0], dist, (end_i, end_j), ids):
        if kept == n - 1:
            break
        if uf_union(parent, size, end_i[e], end_j[e]) >= 0:
            out_lo[kept], out_hi[kept] = _ends(e, (end_i, end_j), ids)
            out_w[kept] = weights[rank[e]]
            kept += 1
    return out_lo, out_hi, out_w
