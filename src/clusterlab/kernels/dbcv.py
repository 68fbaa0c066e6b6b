"""Pieces of the density-based clustering validation index (DBCV, Moulavi et al., 2014).

All functions take the data transposed and sorted by cluster (cluster ``c`` occupies columns
``offsets[c]:offsets[c + 1]``), compute Euclidean distances on the fly and never hold a distance
matrix: time O(sum of squared cluster sizes * d) and O(n) memory for the core distances and the
minimum spanning trees, O(n_internal^2 * d) time for the separations.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from clusterlab._config import CACHE
from clusterlab.kernels.metric import rdist

__all__ = ["all_points_core_distances", "cluster_mst", "internal_separation"]

# Tolerances under which two mutual reachability distances count as a tie (numpy.isclose's).
_RTOL = 1e-5
_ATOL = 1e-8


@njit(cache=CACHE, inline="always")
def _dist(XT: np.ndarray, i: int, j: int) -> float:
    """Euclidean distance between columns ``i`` and ``j``."""
    return math.sqrt(rdist(XT[:, i], XT[:, j], 2.0))


@njit(parallel=True, cache=CACHE)
def all_points_core_distances(XT: np.ndarray, labels: np.ndarray, offsets: np.ndarray):
    """All-points core distance of each point within its own cluster.

    ``core(x) = (sum over y in C(x), d(x, y) > 0 of d(x, y) ** -D / (|C(x)| - 1)) ** (-1 / D)``
    with ``D = n_features``. The power mean is taken relative to the nearest non-zero distance so
    that ``d ** -D`` neither overflows nor underflows in high dimension.

    Parameters
    ----------
    XT : ndarray of float32 or float64, shape (n_features, n_samples)
        Transposed data sorted by cluster. Read only.
    labels : ndarray of int64, shape (n_samples,)
        Cluster code of each column. Read only.
    offsets : ndarray of int64, shape (k + 1,)
        Cluster boundaries. Read only.

    Returns
    -------
    ndarray of float64, shape (n_samples,)
        Core distances; 0 for a point alone in its cluster or with only duplicates in it.
    """
    n_features, n_samples = XT.shape
    power = float(n_features)
    core = np.zeros(n_samples)
    for i in prange(n_samples):
        c = labels[i]
        lo = offsets[c]
        hi = offsets[c + 1]
        nearest = np.inf
        for j in range(lo, hi):
            if j != i:
                d = _dist(XT, i, j)
                if 0.0 < d < nearest:
                    nearest = d
        if hi - lo <= 1 or nearest == np.inf:
            continue
        total = 0.0
        for j in range(lo, hi):
            if j != i:
                d = _dist(XT, i, j)
                if d > 0.0:
                    total += (d / nearest) ** (-power)
        core[i] = nearest * (total / (hi - lo - 1)) ** (-1.0 / power)
    return core


@njit(cache=CACHE)
def cluster_mst(XT: np.ndarray, core: np.ndarray, lo: int, hi: int):
    """Minimum spanning tree of one cluster under the mutual reachability distance.

    ``mreach(x, y) = max(d(x, y), core(x), core(y))``; Prim's algorithm from column ``lo`` with
    distances computed on the fly, O((hi - lo)^2 d) time and O(hi - lo) memory. The vertex
    added next is the first (lowest column) of the closest ones; its edge attaches to the
    lowest-column tree vertex whose distance ties with the edge weight (relative 1e-5).

    Parameters
    ----------
    XT : ndarray, shape (n_features, n_samples)
        Transposed data sorted by cluster. Read only.
    core : ndarray of float64, shape (n_samples,)
        Core distances. Read only.
    lo, hi : int
        The cluster's columns ``lo:hi`` (at least one).

    Returns
    -------
    parent : ndarray of int64, shape (hi - lo - 1,)
        Column of the vertex each tree edge comes from.
    child : ndarray of int64, shape (hi - lo - 1,)
        Column of the vertex each edge adds, in the order Prim adds them.
    weight : ndarray of float64, shape (hi - lo - 1,)
        Mutual reachability distance of each edge.
    """
    m = hi - lo
    parent = np.empty(m - 1, dtype=np.int64)
    child = np.empty(m - 1, dtype=np.int64)
    weight = np.empty(m - 1)
    in_tree = np.zeros(m, dtype=np.bool_)
    best = np.full(m, np.inf)
    source = np.zeros(m, dtype=np.int64)
    current = 0
    in_tree[0] = True
    for e in range(m - 1):
        u = lo + current
        next_vertex = -1
        next_dist = np.inf
        for v in range(m):
            if in_tree[v]:
                continue
            d = max(_dist(XT, u, lo + v), core[u], core[lo + v])
            if d < best[v]:
                best[v] = d
                source[v] = current
            if best[v] < next_dist:
                next_dist = best[v]
                next_vertex = v
        # Mutual reachability makes ties common (many edges weigh a core distance), so the tree,
        # and with it the internal vertices, depends on the tie rule: the edge is attached to the
        # lowest-index tree vertex at (numerically) the same distance, as hdbscan does.
        attach = source[next_vertex]
        for u in range(m):
            if in_tree[u]:
                d = max(_dist(XT, lo + u, lo + next_vertex), core[lo + u], core[lo + next_vertex])
                if abs(d - next_dist) <= _ATOL + _RTOL * abs(next_dist):
                    attach = u
                    break
        in_tree[next_vertex] = True
        parent[e] = lo + attach
        child[e] = lo + next_vertex
        weight[e] = next_dist
        current = next_vertex
    return parent, child, weight


@njit(parallel=True, cache=CACHE)
def internal_separation(
    XT: np.ndarray, core: np.ndarray, labels: np.ndarray, internal: np.ndarray, n_clusters: int
):
    """Smallest mutual reachability distance from each cluster's internal vertices to each other
    cluster's internal vertices.

    Parameters
    ----------
    XT : ndarray, shape (n_features, n_samples)
        Transposed data sorted by cluster. Read only.
    core : ndarray of float64, shape (n_samples,)
        Core distances. Read only.
    labels : ndarray of int64, shape (n_samples,)
        Cluster code of each column. Read only.
    internal : ndarray of int64, shape (n_internal,)
        Columns of the internal vertices of all clusters' trees. Read only.
    n_clusters : int
        Number of clusters k.

    Returns
    -------
    ndarray of float64, shape (k, k)
        Symmetric; ``inf`` on the diagonal.
    """
    n_int = internal.shape[0]
    per_point = np.full((n_int, n_clusters), np.inf)
    for a in prange(n_int):
        u = internal[a]
        cu = labels[u]
        for b in range(n_int):
            v = internal[b]
            cv = labels[v]
            if cv == cu:
                continue
            d = max(_dist(XT, u, v), core[u], core[v])
            per_point[a, cv] = min(per_point[a, cv], d)
    out = np.full((n_clusters, n_clusters), np.inf)
    for a in range(n_int):
        cu = labels[internal[a]]
        for c in range(n_clusters):
            out[cu, c] = min(out[cu, c], per_point[a, c])
    return out
