"""Spanning forests of edge lists (Kruskal).

:func:`kruskal` keeps, from a list of candidate edges ranked by a key, the edges that join two
different components, lightest first: the minimum spanning forest of the candidates under that
key. It serves two purposes here:

- choosing among minimum spanning trees of the mutual reachability distance, which has many
  equal weights (every neighbour within a point's core distance is at the same weight): the
  tree found by Borůvka or Prim plus every core-distance neighbour edge holds the minimum tree
  under the refined key (weight, raw distance), which prefers, among equal weights, the edges
  to truly nearer points;
- the approximate spanning forest of a k-nearest-neighbour graph, whose components
  :func:`nearest_outside` helps join.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clusterlab._config import CACHE
from clusterlab.kernels.kdtree import rdist, rdist_to_dist
from clusterlab.kernels.linkage import distances_to
from clusterlab.kernels.union_find import uf_find, uf_make, uf_union

__all__ = ["edge_distances", "kruskal", "nearest_member", "nearest_outside", "tree_order"]

_CHUNK = 512

_RADIX_BITS = 8
_RADIX_BUCKETS = 1 << _RADIX_BITS
_RADIX_PASSES = 64 // _RADIX_BITS


@njit(cache=CACHE)
def kruskal(n, a, b, order):
    """Minimum spanning forest of candidate edges taken in a given order.

    Parameters
    ----------
    n : int
        Number of vertices ``0..n-1``.
    a, b : int64 (m,)
        Edge end points (self-loops and repeated edges are allowed and skipped).
    order : int64 (m,)
        Edge indices, lightest first (ties already broken).

    Returns
    -------
    int64 (k,)
        Indices of the edges kept, in the order they were kept; ``k = n - components``.
    """
    parent, size = uf_make(n)
    kept = np.empty(max(n - 1, 0), dtype=np.int64)
    n_kept = 0
    for e in order:
        if n_kept == n - 1:
            break
        if uf_find(parent, a[e]) != uf_find(parent, b[e]):
            uf_union(parent, size, a[e], b[e])
            kept[n_kept] = e
            n_kept += 1
    return kept[:n_kept]


@njit(cache=CACHE, parallel=True)
def edge_distances(X, a, b, p):
    """Distance of each edge ``(a[e], b[e])`` between rows of ``X`` (``kdtree.rdist``'s sums).

    Parameters
    ----------
    X : float (n, d)
    a, b : int64 (m,)
    p : float
        Minkowski exponent.

    Returns
    -------
    float64 (m,)
    """
    m = a.shape[0]
    out = np.empty(m)
    for e in prange(m):
        out[e] = rdist_to_dist(rdist(X[a[e]], X[b[e]], p), p)
    return out


@njit(cache=CACHE)
def _sortable_bits(weight):
    """The weights (not NaN) as unsigned integers in the same order: the float64 bits with the
    sign bit set for weights >= 0 and every bit flipped for negative ones; -0.0 counts as 0.0,
    so equal weights have equal keys."""
    m = weight.shape[0]
    values = np.empty(m)
    for e in range(m):
        values[e] = np.float64(weight[e]) + 0.0  # -0.0 + 0.0 is 0.0
    bits = values.view(np.uint64)
    sign = np.uint64(1) << np.uint64(63)
    for e in range(m):
        if bits[e] & sign:
            bits[e] = ~bits[e]
        else:
            bits[e] |= sign
    return bits


@njit(cache=CACHE)
def _radix_argsort(keys):
    """Stable argsort of unsigned 64-bit keys: least significant digit first, 8 bits a pass,
    the passes whose digit is the same for every key skipped (all histograms come from one
    read of the keys)."""
    m = keys.shape[0]
    counts = np.zeros((_RADIX_PASSES, _RADIX_BUCKETS), dtype=np.int64)
    mask = np.uint64(_RADIX_BUCKETS - 1)
    for e in range(m):
        key = keys[e]
        for p in range(_RADIX_PASSES):
            counts[p, (key >> np.uint64(_RADIX_BITS * p)) & mask] += 1
    order = np.arange(m, dtype=np.int64)
    sorted_keys = keys.copy()
    other_order = np.empty(m, dtype=np.int64)
    other_keys = np.empty(m, dtype=np.uint64)
    for p in range(_RADIX_PASSES):
        shift = np.uint64(_RADIX_BITS * p)
        if counts[p, (sorted_keys[0] >> shift) & mask] == m:
            continue
        position = np.empty(_RADIX_BUCKETS, dtype=np.int64)
        total = 0
        for digit in range(_RADIX_BUCKETS):
            position[digit] = total
            total += counts[p, digit]
        for t in range(m):
            key = sorted_keys[t]
            digit = (key >> shift) & mask
            other_keys[position[digit]] = key
            other_order[position[digit]] = order[t]
            position[digit] += 1
        sorted_keys, other_keys = other_keys, sorted_keys
        order, other_order = other_order, order
    return order, sorted_keys


@njit(cache=CACHE)
def tree_order(a, b, weight):
    """Order of edges by (weight, smaller end, larger end): a total order, so that the
    linkages walking a tree never depend on the order an algorithm found its edges in.

    Parameters
    ----------
    a, b : int64 (m,)
        Edge end points, distinct edges.
    weight : float (m,)
        Edge weights, not NaN.

    Returns
    -------
    int64 (m,)
        Edge indices in that order.

    One radix sort by weight (a few passes over the edges, where a comparison sort takes
    ``log2 m``), then each run of equal weights (rare) sorted by its ends.
    """
    m = weight.shape[0]
    if m == 0:
        return np.empty(0, dtype=np.int64)
    order, keys = _radix_argsort(_sortable_bits(weight))
    i = 0
    while i < m:
        j = i + 1
        while j < m and keys[j] == keys[i]:
            j += 1
        if j - i > 1:
            run = order[i:j].copy()
            lo = np.minimum(a[run], b[run])
            hi = np.maximum(a[run], b[run])
            key = lo * (m + 1) + hi
            order[i:j] = run[np.argsort(key)]
        i = j
    return order


@njit(cache=CACHE, parallel=True)
def nearest_outside(XT, X, points, component, metric):
    """For each of ``points``, the nearest column of ``XT`` in another component (a full
    scan, vectorised over the columns).

    Parameters
    ----------
    XT : float (d, n)
        All points, as columns.
    X : float (n, d)
        The same points, as rows.
    points : int64 (m,)
    component : int64 (n,)
    metric : float
        Minkowski exponent.

    Returns
    -------
    dist : float64 (m,)
    nearest : int64 (m,)
        Smallest index among equal distances; -1 when every point is in one component.
    """
    m = points.shape[0]
    n = XT.shape[1]
    dist = np.full(m, np.inf)
    nearest = np.full(m, -1, dtype=np.int64)
    for q in prange(m):
        i = points[q]
        x = np.empty(XT.shape[0])
        for f in range(XT.shape[0]):
            x[f] = X[i, f]
        buf = np.empty(_CHUNK)
        c = component[i]
        for lo in range(0, n, _CHUNK):
            hi = min(n, lo + _CHUNK)
            distances_to(XT, x, lo, hi, metric, buf)
            for t in range(hi - lo):
                if component[lo + t] != c and buf[t] < dist[q]:
                    dist[q] = buf[t]
                    nearest[q] = lo + t
    return dist, nearest


@njit(cache=CACHE)
def nearest_member(X, members, x, metric):
    """The row of ``members`` nearest to the point ``x`` (float64 (d,)), first among ties."""
    best = np.inf
    best_i = -1
    for q in range(members.shape[0]):
        r = _reduced(X, members[q], x, metric)
        if r < best:
            best = r
            best_i = members[q]
    return best_i


@njit(cache=CACHE, fastmath=True)
def _reduced(X, i, x, metric):
    # compared only, for an approximate step: fastmath may reorder the sum
    acc = 0.0
    if metric == 2.0:
        for f in range(X.shape[1]):
            t = np.float64(X[i, f]) - x[f]
            acc += t * t
    elif metric == 1.0:
        for f in range(X.shape[1]):
            acc += abs(np.float64(X[i, f]) - x[f])
    else:
        for f in range(X.shape[1]):
            acc = max(acc, abs(np.float64(X[i, f]) - x[f]))
    return acc
