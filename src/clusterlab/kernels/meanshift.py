"""Mean shift kernels: seeds climbing to modes on a kd-tree, a grid of cell sums for low
dimension (MeanShift++), and exact k-th neighbour distances for the bandwidth estimate.

Kernels
-------
``'flat'``: the mean of the points within distance ``h`` (boundary included) of the current
location (Comaniciu and Meer 2002; scikit-learn's MeanShift). Whole kd-tree nodes inside the ball
are added from their precomputed coordinate sums (:func:`node_sums`), so a query costs the nodes
the ball's boundary crosses, not the points inside it.

``'gaussian'``: the mean of the points weighted by ``exp(-|x - m|^2 / (2 h^2))``, over the points
within ``3 h`` (weights below 1.1% are left out).

A seed moves to that mean until it moves by at most ``1e-3 h`` or has made ``max_iter`` moves
(scikit-learn's rule), or stops where no point is within reach.

The tree is the tuple of :func:`clusterlab.kernels.kdtree.build_kdtree`; it is read through the
kd-tree module's node helpers and, for the points, through :func:`_points` (``data`` and ``idx``,
the first two fields).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clusterlab._config import CACHE
from clusterlab.kernels.kdtree import (
    STACK_SIZE,
    max_rdist_point_node,
    min_rdist_point_node,
    node_children,
    node_is_leaf,
    node_range,
    rdist,
)

__all__ = [
    "GAUSSIAN_REACH",
    "kth_distances",
    "node_sums",
    "shift_seeds",
    "stencil_means",
]

#: The gaussian kernel is summed over points within this many bandwidths.
GAUSSIAN_REACH = 3.0


@njit(cache=CACHE, inline="always")
def _points(tree):
    """``(data, idx)`` of a kd-tree: the points in tree order and their rows."""
    return tree[0], tree[1]


@njit(cache=CACHE)
def node_sums(tree):
    """Coordinate sums of the points of every node, float64 array of shape (n_nodes, d).

    Leaves add their points in tree order; a parent adds its two children (children are
    numbered after their parent, so one backward pass suffices).
    """
    data, _ = _points(tree)
    n_nodes = tree[2].shape[0]
    d = data.shape[1]
    out = np.zeros((n_nodes, d), dtype=np.float64)
    for node in range(n_nodes - 1, -1, -1):
        if node_is_leaf(tree, node):
            start, end = node_range(tree, node)
            for t in range(start, end):
                for k in range(d):
                    out[node, k] += np.float64(data[t, k])
        else:
            left, right = node_children(tree, node)
            for k in range(d):
                out[node, k] = out[left, k] + out[right, k]
    return out


@njit(cache=CACHE)
def _flat_sum(tree, sums, x, r_rdist, acc):
    """Number of points within ``sqrt(r_rdist)`` of ``x``; their coordinate sum into ``acc``."""
    data, _ = _points(tree)
    d = data.shape[1]
    acc[:] = 0.0
    count = 0
    stack = np.empty(STACK_SIZE, dtype=np.int64)
    stack[0] = 0
    sp = 1
    while sp > 0:
        sp -= 1
        node = stack[sp]
        if min_rdist_point_node(tree, node, x, 2.0) > r_rdist:
            continue
        start, end = node_range(tree, node)
        if max_rdist_point_node(tree, node, x, 2.0) <= r_rdist:
            for k in range(d):
                acc[k] += sums[node, k]
            count += end - start
        elif node_is_leaf(tree, node):
            for t in range(start, end):
                if rdist(data[t], x, 2.0) <= r_rdist:
                    for k in range(d):
                        acc[k] += np.float64(data[t, k])
                    count += 1
        else:
            left, right = node_children(tree, node)
            stack[sp] = left
            stack[sp + 1] = right
            sp += 2
    return count


@njit(cache=CACHE)
def _gaussian_sum(tree, x, bandwidth, acc):
    """Gaussian weights of the points within ``3 h`` of ``x``: their weighted coordinate sum
    into ``acc``; returns ``(total weight, number of points)``."""
    data, _ = _points(tree)
    d = data.shape[1]
    reach = (GAUSSIAN_REACH * bandwidth) ** 2
    scale = -0.5 / (bandwidth * bandwidth)
    acc[:] = 0.0
    total = 0.0
    count = 0
    stack = np.empty(STACK_SIZE, dtype=np.int64)
    stack[0] = 0
    sp = 1
    while sp > 0:
        sp -= 1
        node = stack[sp]
        if min_rdist_point_node(tree, node, x, 2.0) > reach:
            continue
        if node_is_leaf(tree, node):
            start, end = node_range(tree, node)
            for t in range(start, end):
                r = rdist(data[t], x, 2.0)
                if r <= reach:
                    w = np.exp(scale * r)
                    for k in range(d):
                        acc[k] += w * np.float64(data[t, k])
                    total += w
                    count += 1
        else:
            left, right = node_children(tree, node)
            stack[sp] = left
            stack[sp + 1] = right
            sp += 2
    return total, count


@njit(cache=CACHE)
def _climb(tree, sums, seed, bandwidth, max_iter, gaussian, mean):  # noqa: PLR0917
    """Move ``seed`` to its mode; writes the last mean into ``mean``; returns
    ``(intensity, iterations)`` with intensity 0 when no point was within reach."""
    d = seed.shape[0]
    r_rdist = bandwidth * bandwidth
    stop = 1e-3 * bandwidth
    acc = np.empty(d, dtype=np.float64)
    for k in range(d):
        mean[k] = np.float64(seed[k])
    done = 0
    while True:
        if gaussian:
            weight, count = _gaussian_sum(tree, mean, bandwidth, acc)
        else:
            count = _flat_sum(tree, sums, mean, r_rdist, acc)
            weight = np.float64(count)
        if count == 0:
            return 0.0, done  # scikit-learn drops a seed whose neighbourhood empties
        shift = 0.0
        for k in range(d):
            new = acc[k] / weight
            shift += (new - mean[k]) ** 2
            mean[k] = new
        if np.sqrt(shift) <= stop or done == max_iter:
            return weight, done
        done += 1


@njit(cache=CACHE, parallel=True)
def shift_seeds(tree, sums, seeds, bandwidth, max_iter, gaussian):  # noqa: PLR0917
    """Climb every seed to its mode, in parallel.

    Parameters
    ----------
    tree : tuple
        From :func:`~clusterlab.kernels.kdtree.build_kdtree` over the data.
    sums : float64 array of shape (n_nodes, d)
        From :func:`node_sums` (unused by the gaussian kernel).
    seeds : float array of shape (m, d)
        Starting locations (read only).
    bandwidth : float > 0
    max_iter : int >= 0
    gaussian : bool
        Gaussian kernel instead of the flat one.

    Returns
    -------
    means : float64 array of shape (m, d)
        Where each seed stopped (the mean of its last neighbourhood).
    intensity : float64 array of shape (m,)
        Number of points (flat) or kernel weight (gaussian) of that last neighbourhood; 0 for
        a seed with no point within reach (its mean is then the seed).
    n_iter : int64 array of shape (m,)
        Moves made (scikit-learn's count).
    """
    m, d = seeds.shape
    means = np.empty((m, d), dtype=np.float64)
    intensity = np.zeros(m, dtype=np.float64)
    n_iter = np.zeros(m, dtype=np.int64)
    for i in prange(m):
        intensity[i], n_iter[i] = _climb(
            tree, sums, seeds[i], bandwidth, max_iter, gaussian, means[i]
        )
    return means, intensity, n_iter


# --------------------------------------------------------------------------------------------
# grid of cell sums (MeanShift++)
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE, inline="always")
def _find(cell_coords, target):
    """Index of the cell with integer coordinates ``target`` in the row-major sorted
    ``cell_coords``, or -1."""
    lo = 0
    hi = cell_coords.shape[0]
    d = cell_coords.shape[1]
    while lo < hi:
        mid = (lo + hi) // 2
        cmp = 0
        for k in range(d):
            if cell_coords[mid, k] != target[k]:
                cmp = -1 if cell_coords[mid, k] < target[k] else 1
                break
        if cmp == 0:
            return mid
        if cmp < 0:
            lo = mid + 1
        else:
            hi = mid
    return -1


@njit(cache=CACHE, parallel=True)
def stencil_means(cell_coords, cell_sum, cell_count, queries, offsets, weights):  # noqa: PLR0917
    """Weighted mean of the points of the cells around each query cell.

    Parameters
    ----------
    cell_coords : int64 array of shape (n_cells, d)
        Integer coordinates of the non-empty cells, sorted row-major.
    cell_sum : float64 array of shape (n_cells, d)
        Coordinate sums of each cell's points.
    cell_count : float64 array of shape (n_cells,)
        Number of points of each cell.
    queries : int64 array of shape (m, d)
        Integer coordinates of the query cells (empty cells allowed).
    offsets : int64 array of shape (s, d)
        Cells around a query that are summed (the stencil, origin included).
    weights : float64 array of shape (s,)
        Kernel weight of each stencil cell.

    Returns
    -------
    means : float64 array of shape (m, d)
        ``sum_o w_o * sum(cell + o) / sum_o w_o * count(cell + o)``; NaN where the stencil
        holds no point.
    """
    m, d = queries.shape
    s = offsets.shape[0]
    means = np.empty((m, d), dtype=np.float64)
    for i in prange(m):
        target = np.empty(d, dtype=np.int64)
        acc = np.zeros(d, dtype=np.float64)
        total = 0.0
        for o in range(s):
            for k in range(d):
                target[k] = queries[i, k] + offsets[o, k]
            c = _find(cell_coords, target)
            if c >= 0:
                w = weights[o]
                total += w * cell_count[c]
                for k in range(d):
                    acc[k] += w * cell_sum[c, k]
        for k in range(d):
            means[i, k] = acc[k] / total if total > 0.0 else np.nan
    return means


# --------------------------------------------------------------------------------------------
# k-th neighbour distances (bandwidth estimate)
# --------------------------------------------------------------------------------------------
#: Rows sampled per query to bracket its k-th distance, and the bracket's half-width in
#: quantile (about five standard errors of a quantile estimated from that many rows).
_BRACKET_SAMPLE = 2048
_BRACKET_MARGIN = 0.05


@njit(cache=CACHE, inline="always")
def _sq_dist_rows(X, a, b):
    acc = 0.0
    for t in range(X.shape[1]):
        diff = np.float64(X[a, t]) - np.float64(X[b, t])
        acc += diff * diff
    return acc


@njit(cache=CACHE)
def _kth_sq_distance(X, q, k, stride):
    """k-th smallest squared distance from row ``q`` to the rows of ``X`` (exact).

    The distances to every ``stride``-th row bracket the k-th one; one pass counts the rows
    below the bracket and keeps those inside it, and only those are partially sorted. A
    bracket that misses (rare: five standard errors) falls back to sorting all n distances.
    """
    n = X.shape[0]
    sample = np.empty((n + stride - 1) // stride, dtype=np.float64)
    for j in range(sample.shape[0]):
        sample[j] = _sq_dist_rows(X, j * stride, q)
    sample.sort()
    s = sample.shape[0]
    share = k / n
    lo_rank = int(np.floor((share - _BRACKET_MARGIN) * s))
    hi_rank = int(np.ceil((share + _BRACKET_MARGIN) * s))
    lo = sample[lo_rank] if lo_rank >= 0 else -1.0
    hi = sample[hi_rank] if hi_rank < s else np.inf
    cap = min(n, int((2.0 * _BRACKET_MARGIN + 0.05) * n) + 64)
    inside = np.empty(cap, dtype=np.float64)
    point = np.empty(X.shape[1], dtype=np.float64)
    for t in range(X.shape[1]):
        point[t] = np.float64(X[q, t])
    below = 0
    kept = 0
    for j in range(n):
        dist = 0.0
        for t in range(X.shape[1]):
            diff = np.float64(X[j, t]) - point[t]
            dist += diff * diff
        # branch-free: always write, advance only inside the bracket
        below += dist < lo
        inside[min(kept, cap - 1)] = dist
        kept += (dist >= lo) & (dist <= hi)
    if kept < cap and below < k <= below + kept:
        return np.partition(inside[:kept], k - below - 1)[k - below - 1]
    every = np.empty(n, dtype=np.float64)
    for j in range(n):
        every[j] = _sq_dist_rows(X, j, q)
    return np.partition(every, k - 1)[k - 1]


@njit(cache=CACHE, parallel=True)
def kth_distances(X, queries, k):
    """Distance from each query to its ``k``-th nearest row of ``X`` (exact, ties included).

    Parameters
    ----------
    X : float array of shape (n, d)
    queries : int64 array of shape (m,)
        Rows of ``X`` used as queries (a query is its own nearest row, at distance 0).
    k : int in [1, n]

    Returns
    -------
    float64 array of shape (m,)
        The ``k``-th smallest of the n euclidean distances from ``X[queries[i]]``: one pass
        over the rows per query (O(n)), with a partial sort of the rows whose distance falls
        in a bracket estimated from a sample.
    """
    n = X.shape[0]
    stride = max(1, n // _BRACKET_SAMPLE)
    m = queries.shape[0]
    out = np.empty(m, dtype=np.float64)
    for i in prange(m):
        out[i] = np.sqrt(_kth_sq_distance(X, queries[i], k, stride))
    return out
