"""Agglomerative linkage restricted to a connectivity graph (scikit-learn's structured trees).

Only clusters joined by an edge of the graph may merge, so memory is O(edges) instead of
O(n^2). A heap holds the candidate merges ``(distance, a, b)`` (ties by the node ids, as
scikit-learn's heap of tuples); entries whose clusters have merged since are skipped when they
reach the top. When two clusters merge, the new node's neighbours are the active neighbours of
the two, and each of them learns the new node:

- ``ward``, ``centroid``, ``median`` recompute the distance from the clusters' representatives
  (centroids, or WPGMC midpoints) and sizes;
- ``single``, ``complete``, ``average``, ``weighted`` carry the distance along the edges, as
  scikit-learn's ``linkage_tree`` does: a neighbour of both parts gets the minimum, maximum,
  size-weighted mean or plain mean of its two distances, a neighbour of one part keeps that
  part's distance (the linkage over the graph's edges only).

Neighbour lists are growable arrays per node; entries naming merged nodes are skipped when read.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.typed import List

from clusterlab._config import CACHE
from clusterlab.kernels.kdtree import rdist

__all__ = [
    "S_AVERAGE",
    "S_CENTROID",
    "S_COMPLETE",
    "S_MEDIAN",
    "S_SINGLE",
    "S_WARD",
    "S_WEIGHTED",
    "components_closest_pairs",
    "structured_linkage",
]

S_WARD, S_CENTROID, S_MEDIAN, S_SINGLE, S_COMPLETE, S_AVERAGE, S_WEIGHTED = range(7)


# --------------------------------------------------------------------------------------------
# a min-heap of (value, a, b) in growable arrays
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE, inline="always")
def _h_less(hv, ha, hb, i, j):
    return hv[i] < hv[j] or (
        hv[i] == hv[j] and (ha[i] < ha[j] or (ha[i] == ha[j] and hb[i] < hb[j]))
    )


@njit(cache=CACHE, inline="always")
def _h_swap(hv, ha, hb, i, j):
    hv[i], hv[j] = hv[j], hv[i]
    ha[i], ha[j] = ha[j], ha[i]
    hb[i], hb[j] = hb[j], hb[i]


@njit(cache=CACHE)
def _h_push(heap, length, value, a, b):
    hv, ha, hb = heap
    if length == hv.shape[0]:
        grown = (
            np.empty(2 * length),
            np.empty(2 * length, np.int64),
            np.empty(2 * length, np.int64),
        )
        grown[0][:length] = hv
        grown[1][:length] = ha
        grown[2][:length] = hb
        heap = grown
        hv, ha, hb = heap
    hv[length] = value
    ha[length] = a
    hb[length] = b
    pos = length
    while pos > 0 and _h_less(hv, ha, hb, pos, (pos - 1) >> 1):
        _h_swap(hv, ha, hb, pos, (pos - 1) >> 1)
        pos = (pos - 1) >> 1
    return heap, length + 1


@njit(cache=CACHE)
def _h_pop(heap, length):
    hv, ha, hb = heap
    length -= 1
    _h_swap(hv, ha, hb, 0, length)
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= length:
            break
        if child + 1 < length and _h_less(hv, ha, hb, child + 1, child):
            child += 1
        if not _h_less(hv, ha, hb, child, pos):
            break
        _h_swap(hv, ha, hb, pos, child)
        pos = child
    return length


# --------------------------------------------------------------------------------------------
# neighbour lists
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE)
def _append(lists, lengths, node, other, weight):
    ids, ws = lists
    m = lengths[node]
    if m == ids[node].shape[0]:
        cap = max(4, 2 * m)
        grown_ids = np.empty(cap, dtype=np.int64)
        grown_ws = np.empty(cap)
        grown_ids[:m] = ids[node][:m]
        grown_ws[:m] = ws[node][:m]
        ids[node] = grown_ids
        ws[node] = grown_ws
    ids[node][m] = other
    ws[node][m] = weight
    lengths[node] = m + 1


@njit(cache=CACHE, inline="always")
def _combine(method, wa, wb, na, nb):
    if method == S_SINGLE:
        return min(wa, wb)
    if method == S_COMPLETE:
        return max(wa, wb)
    if method == S_AVERAGE:
        return (na * wa + nb * wb) / (na + nb)
    return 0.5 * (wa + wb)


@njit(cache=CACHE, inline="always")
def _vector_value(rep, size, a, b, method):
    acc = 0.0
    for f in range(rep.shape[1]):
        t = rep[a, f] - rep[b, f]
        acc += t * t
    if method == S_WARD:
        return acc * (size[a] * size[b] / (size[a] + size[b]))
    return acc


@njit(cache=CACHE)
def _merged_neighbours(lists, lengths, parts, active, scratch, method):  # noqa: PLR0917
    """Active neighbours of the two merged nodes ``parts = (a, b, size_a, size_b)`` and the
    combined edge distances. A node's list never names an active neighbour twice (a new node
    is appended once, to each of its neighbours). ``scratch`` is -1 everywhere on entry and on
    exit."""
    ids, ws = lists
    a, b, na, nb = parts
    out_ids = np.empty(lengths[a] + lengths[b], dtype=np.int64)
    out_ws = np.empty(lengths[a] + lengths[b])
    m = 0
    for e in range(lengths[a]):
        c = ids[a][e]
        if active[c] and c != b:
            scratch[c] = m
            out_ids[m] = c
            out_ws[m] = ws[a][e]
            m += 1
    for e in range(lengths[b]):
        c = ids[b][e]
        if not active[c] or c == a:
            continue
        if scratch[c] < 0:
            scratch[c] = m
            out_ids[m] = c
            out_ws[m] = ws[b][e]
            m += 1
        else:
            i = scratch[c]
            out_ws[i] = _combine(method, out_ws[i], ws[b][e], na, nb)
    for i in range(m):
        scratch[out_ids[i]] = -1
    return out_ids[:m], out_ws[:m]


@njit(cache=CACHE)
def structured_linkage(graph, X, method, n_merges):
    """Merges of the agglomerative tree restricted to a connected graph.

    Parameters
    ----------
    graph : tuple of (indptr int64 (n + 1,), indices int64 (nnz,), weights float64 (nnz,))
        Symmetric, no self-loops, connected; ``weights`` are the edge distances (read by the
        edge linkages only).
    X : float (n, d)
        The points (read by ``ward``, ``centroid``, ``median``).
    method : int
        One of the ``S_*`` codes.
    n_merges : int
        Merges to make (``n - 1`` for the whole tree).

    Returns
    -------
    left, right : int64 (n_merges,)
        Merged nodes, smaller first (merge ``i`` creates node ``n + i``).
    height : float64 (n_merges,)
        Merge distances (``ward``: scikit-learn's ``sqrt(2 * inertia increase)``); not
        necessarily monotone.
    size : int64 (n_merges,)
    """
    indptr, indices, weights = graph
    n = indptr.shape[0] - 1
    n_nodes = n + n_merges
    vector = method in (S_WARD, S_CENTROID, S_MEDIAN)
    rep = np.empty((n_nodes if vector else 0, X.shape[1]))
    if vector:
        for i in range(n):
            for f in range(X.shape[1]):
                rep[i, f] = X[i, f]
    size = np.ones(n_nodes)
    active = np.zeros(n_nodes, dtype=np.bool_)
    active[:n] = True
    ids = List()
    ws = List()
    lengths = np.zeros(n_nodes, dtype=np.int64)
    for i in range(n):
        lo, hi = indptr[i], indptr[i + 1]
        ids.append(indices[lo:hi].copy())
        ws.append(weights[lo:hi].copy())
        lengths[i] = hi - lo
    for _ in range(n, n_nodes):
        ids.append(np.empty(0, dtype=np.int64))
        ws.append(np.empty(0))
    lists = (ids, ws)
    heap = (np.empty(max(indices.shape[0], 4)), np.empty(max(indices.shape[0], 4), np.int64),
            np.empty(max(indices.shape[0], 4), np.int64))  # fmt: skip
    length = 0
    for i in range(n):
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            if j < i:
                v = _vector_value(rep, size, i, j, method) if vector else weights[e]
                heap, length = _h_push(heap, length, v, i, j)
    scratch = np.full(n_nodes, -1, dtype=np.int64)
    left = np.empty(n_merges, dtype=np.int64)
    right = np.empty(n_merges, dtype=np.int64)
    height = np.empty(n_merges)
    out_size = np.empty(n_merges, dtype=np.int64)
    for m in range(n_merges):
        k = n + m
        while True:
            v = heap[0][0]
            a = heap[1][0]
            b = heap[2][0]
            length = _h_pop(heap, length)
            if active[a] and active[b]:
                break
        left[m] = min(a, b)
        right[m] = max(a, b)
        height[m] = np.sqrt(2.0 * v) if method == S_WARD else (np.sqrt(v) if vector else v)
        size[k] = size[a] + size[b]
        out_size[m] = np.int64(size[k])
        if method == S_MEDIAN:
            rep[k] = 0.5 * (rep[a] + rep[b])
        elif vector:
            rep[k] = (size[a] * rep[a] + size[b] * rep[b]) / size[k]
        nbr, nbw = _merged_neighbours(lists, lengths, (a, b, size[a], size[b]), active, scratch,
                                      method)  # fmt: skip
        active[a] = False
        active[b] = False
        active[k] = True
        ids[k] = nbr
        ws[k] = nbw
        lengths[k] = nbr.shape[0]
        for i in range(nbr.shape[0]):
            c = nbr[i]
            if vector:
                nbw[i] = _vector_value(rep, size, k, c, method)
            _append(lists, lengths, c, k, nbw[i])
            heap, length = _h_push(heap, length, nbw[i], k, c)
    return left, right, height, out_size


@njit(cache=CACHE)
def components_closest_pairs(X, component, n_components, metric_p):
    """The closest pair of points between every two components (brute force, O(n^2 d) time,
    O(components^2) memory): scikit-learn's completion of a disconnected connectivity graph.

    Returns
    -------
    best_i, best_j : int64 (n_components, n_components)
        For components ``c < e``: the points of ``c`` and ``e`` at the smallest distance
        (earliest pair among ties); -1 elsewhere.
    """
    n = X.shape[0]
    best = np.full((n_components, n_components), np.inf)
    best_i = np.full((n_components, n_components), -1, dtype=np.int64)
    best_j = np.full((n_components, n_components), -1, dtype=np.int64)
    for i in range(n):
        ci = component[i]
        for j in range(i + 1, n):
            cj = component[j]
            if ci == cj:
                continue
            lo, hi = min(ci, cj), max(ci, cj)
            r = rdist(X[i], X[j], metric_p)
            if r < best[lo, hi]:
                best[lo, hi] = r
                best_i[lo, hi] = i if ci == lo else j
                best_j[lo, hi] = j if ci == lo else i
    return best_i, best_j
