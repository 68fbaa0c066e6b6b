"""k-nearest-neighbour affinity graphs on the kd-tree: neighbour lists, local scales, and the
reverse neighbours of new points (the training points whose neighbourhood a new point would
enter), which the out-of-sample (Nystrom) extension of a symmetrised kNN graph needs.

The kd-tree is used only through :mod:`clusterlab.kernels.kdtree`'s public functions
(:func:`~clusterlab.kernels.kdtree.build_kdtree`, :func:`~clusterlab.kernels.kdtree.query_knn`,
the node helpers and ``rdist``); ``tree[0]`` and ``tree[1]`` are its documented ``data`` and
``idx`` fields. Distances are euclidean.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clusterlab._config import CACHE
from clusterlab.kernels.kdtree import (
    STACK_SIZE,
    min_rdist_point_node,
    node_children,
    node_is_leaf,
    node_range,
    rdist,
)

__all__ = ["node_max_radius", "reverse_neighbours"]

_EUCLIDEAN = 2.0


@njit(cache=CACHE)
def node_max_radius(tree, radius):
    """Largest ``radius`` of the points under each node of ``tree``.

    Parameters
    ----------
    tree : tuple from :func:`~clusterlab.kernels.kdtree.build_kdtree`.
    radius : float64 array (n,) -- per original row, read.

    Returns
    -------
    float64 array (n_nodes,)
    """
    idx = tree[1]
    n_nodes = tree[2].shape[0]
    out = np.empty(n_nodes)
    for node in range(n_nodes - 1, -1, -1):  # children are numbered after their parent
        if node_is_leaf(tree, node):
            start, end = node_range(tree, node)
            top = 0.0
            for t in range(start, end):
                top = max(top, radius[idx[t]])
            out[node] = top
        else:
            left, right = node_children(tree, node)
            out[node] = max(out[left], out[right])
    return out


@njit(cache=CACHE)
def _point_reverse(tree, node_radius, radius, x, out_index, out_dist, fill):  # noqa: PLR0917
    """Rows ``j`` with ``|x - data_j| < radius[j]``; written when ``fill``; returns the count."""
    data, idx = tree[0], tree[1]
    stack = np.empty(STACK_SIZE, dtype=np.int64)
    stack[0] = 0
    sp = 1
    count = 0
    while sp > 0:
        sp -= 1
        node = stack[sp]
        reach = node_radius[node]
        if min_rdist_point_node(tree, node, x, _EUCLIDEAN) >= reach * reach:
            continue
        if node_is_leaf(tree, node):
            start, end = node_range(tree, node)
            for t in range(start, end):
                j = idx[t]
                d2 = rdist(data[t], x, _EUCLIDEAN)
                if d2 < radius[j] * radius[j]:
                    if fill:
                        out_index[count] = j
                        out_dist[count] = np.sqrt(d2)
                    count += 1
            continue
        left, right = node_children(tree, node)
        stack[sp] = left
        stack[sp + 1] = right
        sp += 2
    return count


@njit(cache=CACHE, parallel=True)
def reverse_neighbours(tree, radius, Q):
    """For each query row, the training rows ``j`` it is strictly closer to than ``radius[j]``.

    With ``radius[j]`` the distance from row ``j`` to the last point of its k-nearest list, these
    are the rows whose k-nearest list a query point would enter: its reverse neighbours in the
    kNN graph.

    Parameters
    ----------
    tree : tuple from :func:`~clusterlab.kernels.kdtree.build_kdtree` over the training rows.
    radius : float64 array (n,) -- per original training row, read.
    Q : float array (m, d) -- query rows, read.

    Returns
    -------
    indptr : int64 (m + 1,)
    indices : int64 (indptr[-1],) -- training rows of query ``i`` in
        ``indices[indptr[i]:indptr[i + 1]]`` (in tree order).
    distances : float64 (indptr[-1],) -- their euclidean distances.
    """
    node_radius = node_max_radius(tree, radius)
    m = Q.shape[0]
    counts = np.empty(m, dtype=np.int64)
    empty_i = np.empty(0, dtype=np.int64)
    empty_d = np.empty(0)
    for i in prange(m):
        counts[i] = _point_reverse(tree, node_radius, radius, Q[i], empty_i, empty_d, False)
    indptr = np.zeros(m + 1, dtype=np.int64)
    for i in range(m):
        indptr[i + 1] = indptr[i] + counts[i]
    indices = np.empty(indptr[m], dtype=np.int64)
    distances = np.empty(indptr[m])
    for i in prange(m):
        a, b = indptr[i], indptr[i + 1]
        _point_reverse(tree, node_radius, radius, Q[i], indices[a:b], distances[a:b], True)
    return indptr, indices, distances
