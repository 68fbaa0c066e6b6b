"""Spanning forests of edge lists (Kruskal).

:func:`kruskal` keeps, from a list of candidate edges ranked by a key, the edges that join two
different components, lightest first: the minimum spanning forest of the candidates under that
key. It serves two purposes here:

- choosing among minimum spanning trees of the mutual reachability distance, which has many
  equal weights (every neighbour within a point's core distance is at the same weight): the
  tree found by Borůvka or Prim plus every core-distance neighbour edge holds the minimum tree
  under the refined key (weight, raw distance), which prefers, among equal weights, the edges
  to truly nearer points;
- the approximate spanning forest of a k-nearest-neighbour graph.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clusterlab._config import CACHE
from clusterlab.kernels.kdtree import rdist, rdist_to_dist
from clusterlab.kernels.union_find import uf_find, uf_make, uf_union

__all__ = ["edge_distances", "kruskal", "tree_order"]


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
def tree_order(a, b, weight):
    """Order of edges by (weight, smaller end, larger end): a total order, so that the
    linkages walking a tree never depend on the order an algorithm found its edges in.

    One sort by weight, then each run of equal weights (rare) sorted by its ends.
    """
    order = np.argsort(weight)
    m = order.shape[0]
    i = 0
    while i < m:
        j = i + 1
        while j < m and weight[order[j]] == weight[order[i]]:
            j += 1
        if j - i > 1:
            run = order[i:j].copy()
            lo = np.minimum(a[run], b[run])
            hi = np.maximum(a[run], b[run])
            key = lo * (m + 1) + hi
            order[i:j] = run[np.argsort(key)]
        i = j
    return order
