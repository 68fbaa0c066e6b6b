"""Exact minimum spanning trees by Prim's algorithm with distances computed on the fly.

For data where a kd-tree does not prune (many dimensions), Prim's algorithm is the exact
spanning tree in O(n^2 d) time and O(n) memory: each step adds the vertex nearest to the tree
and lowers the other vertices' distances to the tree by their distance to the vertex just
added. That update and the search for the next vertex run in parallel over chunks of the
vertices still outside; each step does O(n d) work, so the threads are worth waking even for
moderate n. The result does not depend on the thread count: the next vertex is the smallest
(distance, vertex).

Weights are the mutual reachability distances ``max(d(i, j), core[i], core[j])`` (plain
distances when every core distance is 0). Metrics are those of
:func:`clusterlab.kernels.linkage.condensed_distances`: a Minkowski exponent, or cosine on rows
of unit length.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clusterlab._config import CACHE
from clusterlab.kernels.linkage import distances_to

__all__ = ["attach_points", "prim_mst"]

_CHUNK = 512
# below this many distance coordinates per step, one thread is faster than waking the others
_SERIAL_BELOW = 1 << 20


@njit(cache=CACHE, inline="always")
def _relax(XT, core, metric, cur, lo, hi, state, buf):  # noqa: PLR0917
    """Relax the outside vertices at positions ``lo..hi-1`` by vertex ``cur`` (coordinates
    ``state[4]``); return their smallest (distance, position), ties by vertex."""
    best, source, vertex, x = state[0], state[1], state[2], state[4]
    distances_to(XT, x, lo, hi, metric, buf)
    low = np.inf
    low_pos = -1
    for j in range(hi - lo):
        q = lo + j
        dist = max(buf[j], core[cur], core[vertex[q]])
        if dist < best[q]:
            best[q] = dist
            source[q] = cur
        if best[q] < low or (best[q] == low and vertex[q] < vertex[low_pos]):
            low = best[q]
            low_pos = q
    return low, low_pos


@njit(cache=CACHE, parallel=True)
def _relax_parallel(XT, core, metric, cur, n_out, state):  # noqa: PLR0917
    vertex = state[2]
    n_chunks = (n_out + _CHUNK - 1) // _CHUNK
    low = np.empty(n_chunks)
    pos = np.empty(n_chunks, dtype=np.int64)
    for c in prange(n_chunks):
        buf = np.empty(_CHUNK)
        lo = c * _CHUNK
        low[c], pos[c] = _relax(XT, core, metric, cur, lo, min(n_out, lo + _CHUNK), state, buf)
    best_low = np.inf
    best_pos = -1
    for c in range(n_chunks):
        if low[c] < best_low or (low[c] == best_low and vertex[pos[c]] < vertex[best_pos]):
            best_low = low[c]
            best_pos = pos[c]
    return best_low, best_pos


@njit(cache=CACHE)
def prim_mst(X, core, metric):
    """Minimum spanning tree of the complete graph of the rows of ``X`` by Prim's algorithm.

    The vertices outside the tree are kept as columns of a transposed copy of ``X`` (O(n d)),
    packed so that each step scans only them, with vectorised distance loops
    (:func:`clusterlab.kernels.linkage.distances_to`).

    Parameters
    ----------
    X : float32 or float64 (n, d), n >= 1
    core : float64 (n,)
        Core distances (zeros for plain distances).
    metric : float
        Minkowski exponent, or ``linkage.COSINE_METRIC`` for unit rows.

    Returns
    -------
    a, b : int64 (n - 1,)
        Edges in the order they joined the tree (``a`` inside, ``b`` the vertex added).
    weight : float64 (n - 1,)
    """
    n, d = X.shape
    # the outside vertices, packed: position q holds vertex vertex[q]
    XT = np.empty((d, max(n - 1, 1)), dtype=X.dtype)
    for q in range(n - 1):
        for f in range(d):
            XT[f, q] = X[q + 1, f]
    state = (
        np.full(max(n - 1, 1), np.inf),
        np.zeros(max(n - 1, 1), dtype=np.int64),
        np.arange(1, max(n, 2), dtype=np.int64),
        np.empty(0),
        np.empty(d),
    )
    best, source, vertex, x = state[0], state[1], state[2], state[4]
    buf = np.empty(_CHUNK)
    a = np.empty(n - 1, dtype=np.int64)
    b = np.empty(n - 1, dtype=np.int64)
    weight = np.empty(n - 1, dtype=np.float64)
    n_out = n - 1
    cur = 0
    for e in range(n - 1):
        for f in range(d):
            x[f] = X[cur, f]
        if n_out * d >= _SERIAL_BELOW:
            low, pos = _relax_parallel(XT, core, metric, cur, n_out, state)
        else:
            low = np.inf
            pos = -1
            for lo in range(0, n_out, _CHUNK):
                lc, pc = _relax(XT, core, metric, cur, lo, min(n_out, lo + _CHUNK), state, buf)
                if lc < low or (lc == low and vertex[pc] < vertex[pos]):
                    low = lc
                    pos = pc
        nxt = vertex[pos]
        a[e] = source[pos]
        b[e] = nxt
        weight[e] = low
        n_out -= 1
        if pos != n_out:
            for f in range(d):
                XT[f, pos] = XT[f, n_out]
            best[pos] = best[n_out]
            source[pos] = source[n_out]
            vertex[pos] = vertex[n_out]
        cur = nxt
    return a, b, weight


@njit(cache=CACHE, parallel=True)
def attach_points(Q, XT, core, metric):
    """The tree vertex each new point would join: the training point minimising the mutual
    reachability distance ``max(d(q, j), core[j])`` (the new point's own core distance is the
    same for every ``j``), ties by the smaller distance, then the smaller index.

    Parameters
    ----------
    Q : float (m, d)
    XT : float (d, n)
        Training points as columns.
    core : float64 (n,)
        Core distances (zeros: the nearest training point).
    metric : float

    Returns
    -------
    int64 (m,)
    """
    m = Q.shape[0]
    n = XT.shape[1]
    out = np.empty(m, dtype=np.int64)
    for q in prange(m):
        x = np.empty(Q.shape[1])
        for f in range(Q.shape[1]):
            x[f] = Q[q, f]
        buf = np.empty(_CHUNK)
        best_v = np.inf
        best_d = np.inf
        best_j = -1
        for lo in range(0, n, _CHUNK):
            hi = min(n, lo + _CHUNK)
            distances_to(XT, x, lo, hi, metric, buf)
            for t in range(hi - lo):
                v = max(buf[t], core[lo + t])
                if v < best_v or (v == best_v and buf[t] < best_d):
                    best_v = v
                    best_d = buf[t]
                    best_j = lo + t
        out[q] = best_j
    return out
