"""A kd-tree as a tuple of plain arrays: build, k-nearest, radius queries and node helpers.

Layout
------
:func:`build_kdtree` returns ``tree = (data, idx, node_start, node_end, node_left, node_right,
node_lower, node_upper)``; every kernel here takes that tuple as its first argument and other
numba kernels may walk it directly (unpack it with ``data, idx, ... = tree``).

``data`` : float64 or float32 array of shape (n, d), C-contiguous
    The points in *tree order*: ``data[t] == X[idx[t]]`` (same dtype as ``X``).
``idx`` : int64 array of shape (n,)
    ``idx[t]`` is the row of ``X`` stored at tree position ``t`` (a permutation of ``0..n-1``).
``node_start``, ``node_end`` : int64 arrays of shape (n_nodes,)
    Node ``i`` holds the tree positions ``node_start[i] <= t < node_end[i]``; never empty.
``node_left``, ``node_right`` : int64 arrays of shape (n_nodes,)
    Children of node ``i``, or -1 for both when ``i`` is a leaf. The root is node 0. Children are
    created in breadth-first order, so ``node_right[i] == node_left[i] + 1`` and a child's number is
    always larger than its parent's: looping ``for i in range(n_nodes - 1, -1, -1)`` visits every
    child before its parent (bottom-up passes need no recursion). The left child holds
    ``node_start[i] .. mid`` and the right child ``mid .. node_end[i]`` with
    ``mid = node_start[i] + (node_end[i] - node_start[i]) // 2``.
``node_lower``, ``node_upper`` : float64 arrays of shape (n_nodes, d)
    Tight bounding box of the node's points (per-coordinate min and max).

Construction splits a node with more than ``leaf_size`` points at the median of its coordinate
of largest spread (a deterministic quickselect), so leaves hold between ``(leaf_size + 1) // 2``
and ``leaf_size`` points (or ``n`` when ``n <= leaf_size``) and the depth is about
``log2(n / leaf_size)``.

Distances
---------
The Minkowski exponent ``p`` is a float: ``2.0`` (euclidean), ``1.0`` (manhattan), ``np.inf``
(chebyshev) or any other ``p >= 1``. Kernels compare *reduced* distances (``rdist``): the sum of
squared differences for ``p = 2``, ``sum |x_k - y_k| ** p`` for finite ``p``, the largest absolute
difference for ``p = inf``; :func:`dist_to_rdist` / :func:`rdist_to_dist` convert. Sums run over
coordinates in order, in float64 (float32 data is widened first), exactly as scikit-learn's
``KDTree`` does, so radius decisions agree with it to the last bit.

k-nearest results are sorted by distance, ties by smaller original index; radius results by
distance then index. Queries run in parallel over the query points (``prange``) and give the same
result for every thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clusterlab._config import CACHE

__all__ = [
    "STACK_SIZE",
    "build_kdtree",
    "dist_to_rdist",
    "max_rdist_point_node",
    "min_rdist_node_node",
    "min_rdist_point_node",
    "node_children",
    "node_is_leaf",
    "node_range",
    "point_knn",
    "point_radius_count",
    "query_knn",
    "query_radius",
    "query_radius_count",
    "rdist",
    "rdist_to_dist",
]

#: Size of the traversal stacks; a depth-first walk of a median-split tree never needs more
#: than its depth + 1 entries, and the depth is at most log2(n) + 1 (< 64 for any n).
STACK_SIZE = 128

_INSERTION_SORT_BELOW = 16


# --------------------------------------------------------------------------------------------
# distances
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE, inline="always")
def _accumulate(acc, diff, p):
    a = abs(diff)
    if p == 2.0:
        return acc + diff * diff
    if p == 1.0:
        return acc + a
    if p == np.inf:
        return a if a > acc else acc
    return acc + a**p


@njit(cache=CACHE)
def rdist(a, b, p):
    """Reduced Minkowski distance between two 1-D float arrays of equal length (float64 out)."""
    acc = 0.0
    for k in range(a.shape[0]):
        acc = _accumulate(acc, np.float64(a[k]) - np.float64(b[k]), p)
    return acc


@njit(cache=CACHE)
def rdist_to_dist(r, p):
    """Distance from a reduced distance (``sqrt`` for p = 2, ``r ** (1/p)``, identity for 1/inf)."""
    if p == 2.0:
        return np.sqrt(r)
    if p in (1.0, np.inf):
        return r
    return r ** (1.0 / p)


@njit(cache=CACHE)
def dist_to_rdist(r, p):
    """Reduced distance from a distance (the inverse of :func:`rdist_to_dist`)."""
    if p == 2.0:
        return r * r
    if p in (1.0, np.inf):
        return r
    return r**p


# --------------------------------------------------------------------------------------------
# node helpers
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE)
def node_is_leaf(tree, node):
    """True when ``node`` has no children."""
    return tree[4][node] < 0


@njit(cache=CACHE)
def node_children(tree, node):
    """``(left, right)`` children of ``node``; ``(-1, -1)`` for a leaf."""
    return tree[4][node], tree[5][node]


@njit(cache=CACHE)
def node_range(tree, node):
    """``(start, end)``: the node holds tree positions ``start <= t < end`` (rows ``idx[t]``)."""
    return tree[2][node], tree[3][node]


@njit(cache=CACHE)
def min_rdist_point_node(tree, node, x, p):
    """Reduced distance from point ``x`` (1-D float) to the bounding box of ``node`` (0 inside)."""
    lower = tree[6]
    upper = tree[7]
    acc = 0.0
    for k in range(x.shape[0]):
        xk = np.float64(x[k])
        gap = lower[node, k] - xk
        other = xk - upper[node, k]
        gap = max(gap, other)
        if gap > 0.0:
            acc = _accumulate(acc, gap, p)
    return acc


@njit(cache=CACHE)
def max_rdist_point_node(tree, node, x, p):
    """Reduced distance from ``x`` to the farthest corner of the bounding box of ``node``."""
    lower = tree[6]
    upper = tree[7]
    acc = 0.0
    for k in range(x.shape[0]):
        xk = np.float64(x[k])
        far = abs(xk - lower[node, k])
        other = abs(upper[node, k] - xk)
        far = max(far, other)
        acc = _accumulate(acc, far, p)
    return acc


@njit(cache=CACHE)
def min_rdist_node_node(tree, a, b, p):
    """Reduced distance between the bounding boxes of nodes ``a`` and ``b`` (0 if they touch)."""
    lower = tree[6]
    upper = tree[7]
    acc = 0.0
    for k in range(lower.shape[1]):
        gap = lower[a, k] - upper[b, k]
        other = lower[b, k] - upper[a, k]
        gap = max(gap, other)
        if gap > 0.0:
            acc = _accumulate(acc, gap, p)
    return acc


# --------------------------------------------------------------------------------------------
# build
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE)
def _swap(keys, idx, i, j):
    keys[i], keys[j] = keys[j], keys[i]
    idx[i], idx[j] = idx[j], idx[i]


@njit(cache=CACHE)
def _select(keys, idx, lo, hi, nth):
    """Reorder ``keys[lo:hi+1]`` (and ``idx`` alike) so that position ``nth`` holds its rank.

    Deterministic quickselect: median-of-three pivot, three-way partition (duplicates cost
    nothing), insertion sort for short ranges.
    """
    while hi > lo:
        if hi - lo < _INSERTION_SORT_BELOW:
            for i in range(lo + 1, hi + 1):
                j = i
                while j > lo and keys[j - 1] > keys[j]:
                    _swap(keys, idx, j - 1, j)
                    j -= 1
            return
        a = keys[lo]
        b = keys[lo + (hi - lo) // 2]
        c = keys[hi]
        pivot = max(min(a, b), min(max(a, b), c))
        lt = lo
        i = lo
        gt = hi
        while i <= gt:
            if keys[i] < pivot:
                _swap(keys, idx, lt, i)
                lt += 1
                i += 1
            elif keys[i] > pivot:
                _swap(keys, idx, i, gt)
                gt -= 1
            else:
                i += 1
        if nth < lt:
            hi = lt - 1
        elif nth > gt:
            lo = gt + 1
        else:
            return


@njit(cache=CACHE)
def _bounding_box(X, idx, start, end, lower, upper):  # noqa: PLR0917
    d = X.shape[1]
    for k in range(d):
        lower[k] = np.inf
        upper[k] = -np.inf
    for t in range(start, end):
        row = idx[t]
        for k in range(d):
            v = np.float64(X[row, k])
            lower[k] = min(lower[k], v)
            upper[k] = max(upper[k], v)


@njit(cache=CACHE)
def build_kdtree(X, leaf_size):
    """Build a kd-tree over the rows of ``X`` (see the module docstring for the tuple returned).

    Parameters
    ----------
    X : float64 or float32 array of shape (n, d), n >= 1
        Read only; ``data`` in the result is a reordered copy.
    leaf_size : int >= 1
        Nodes with more points are split at the median of their widest coordinate.

    Returns
    -------
    tree : tuple
        ``(data, idx, node_start, node_end, node_left, node_right, node_lower, node_upper)``.
    """
    n, d = X.shape
    leaf_size = max(1, leaf_size)
    min_leaf = max(1, (leaf_size + 1) // 2)
    max_nodes = 2 * max(1, n // min_leaf) + 1
    idx = np.arange(n, dtype=np.int64)
    keys = np.empty(n, dtype=np.float64)
    start = np.empty(max_nodes, dtype=np.int64)
    end = np.empty(max_nodes, dtype=np.int64)
    left = np.full(max_nodes, -1, dtype=np.int64)
    right = np.full(max_nodes, -1, dtype=np.int64)
    lower = np.empty((max_nodes, d), dtype=np.float64)
    upper = np.empty((max_nodes, d), dtype=np.float64)
    start[0] = 0
    end[0] = n
    n_nodes = 1
    i = 0
    while i < n_nodes:
        s = start[i]
        e = end[i]
        _bounding_box(X, idx, s, e, lower[i], upper[i])
        if e - s > leaf_size:
            dim = 0
            spread = -1.0
            for k in range(d):
                if upper[i, k] - lower[i, k] > spread:
                    spread = upper[i, k] - lower[i, k]
                    dim = k
            for t in range(s, e):
                keys[t] = X[idx[t], dim]
            mid = s + (e - s) // 2
            _select(keys, idx, s, e - 1, mid)
            left[i] = n_nodes
            right[i] = n_nodes + 1
            start[n_nodes] = s
            end[n_nodes] = mid
            start[n_nodes + 1] = mid
            end[n_nodes + 1] = e
            n_nodes += 2
        i += 1
    data = np.empty((n, d), dtype=X.dtype)
    for t in range(n):
        data[t] = X[idx[t]]
    return (
        data,
        idx,
        start[:n_nodes].copy(),
        end[:n_nodes].copy(),
        left[:n_nodes].copy(),
        right[:n_nodes].copy(),
        lower[:n_nodes].copy(),
        upper[:n_nodes].copy(),
    )


# --------------------------------------------------------------------------------------------
# k-nearest neighbours
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE, inline="always")
def _heap_less(d1, i1, d2, i2):
    return d1 < d2 or (d1 == d2 and i1 < i2)


@njit(cache=CACHE)
def _sift_down(hd, hi, pos, size):
    """Restore the max-heap (by (distance, index)) below ``pos`` within ``hd[:size]``."""
    while True:
        child = 2 * pos + 1
        if child >= size:
            return
        if child + 1 < size and _heap_less(hd[child], hi[child], hd[child + 1], hi[child + 1]):
            child += 1
        if _heap_less(hd[pos], hi[pos], hd[child], hi[child]):
            hd[pos], hd[child] = hd[child], hd[pos]
            hi[pos], hi[child] = hi[child], hi[pos]
            pos = child
        else:
            return


@njit(cache=CACHE)
def point_knn(tree, x, p, out_rdist, out_index):
    """The ``k = len(out_rdist)`` nearest rows to ``x``, for use inside other kernels.

    Parameters
    ----------
    tree : tuple
        From :func:`build_kdtree`, with ``n >= k`` points.
    x : 1-D float array of length d
        The query point.
    p : float
        Minkowski exponent.
    out_rdist : float64 array of shape (k,)
        Written: reduced distances, ascending (ties by index).
    out_index : int64 array of shape (k,)
        Written: original row indices of the neighbours.
    """
    data, idx, start, end, left, right, _, _ = tree
    k = out_rdist.shape[0]
    hd = out_rdist
    hi = out_index
    hd[:] = np.inf
    hi[:] = np.iinfo(np.int64).max
    stack = np.empty(STACK_SIZE, dtype=np.int64)
    stack_d = np.empty(STACK_SIZE, dtype=np.float64)
    stack[0] = 0
    stack_d[0] = min_rdist_point_node(tree, 0, x, p)
    sp = 1
    while sp > 0:
        sp -= 1
        node = stack[sp]
        if stack_d[sp] > hd[0]:
            continue
        if left[node] < 0:
            for t in range(start[node], end[node]):
                dd = rdist(data[t], x, p)
                j = idx[t]
                if _heap_less(dd, j, hd[0], hi[0]):
                    hd[0] = dd
                    hi[0] = j
                    _sift_down(hd, hi, 0, k)
            continue
        a = left[node]
        b = right[node]
        da = min_rdist_point_node(tree, a, x, p)
        db = min_rdist_point_node(tree, b, x, p)
        if da > db:
            a, b = b, a
            da, db = db, da
        # far child first so that the near one is popped next
        if db <= hd[0]:
            stack[sp] = b
            stack_d[sp] = db
            sp += 1
        if da <= hd[0]:
            stack[sp] = a
            stack_d[sp] = da
            sp += 1
    # heap sort in place: ascending by (distance, index)
    for last in range(k - 1, 0, -1):
        hd[0], hd[last] = hd[last], hd[0]
        hi[0], hi[last] = hi[last], hi[0]
        _sift_down(hd, hi, 0, last)


@njit(cache=CACHE, parallel=True)
def query_knn(tree, Q, k, p):
    """k nearest rows for every row of ``Q``, in parallel over the rows.

    Parameters
    ----------
    tree : tuple
        From :func:`build_kdtree`, with ``n >= k`` points.
    Q : float array of shape (m, d)
        Query points (read only).
    k : int, 1 <= k <= n
    p : float
        Minkowski exponent.

    Returns
    -------
    dist : float64 array of shape (m, k)
        Distances (not reduced), ascending along each row.
    ind : int64 array of shape (m, k)
        Original row indices; equal distances are ordered by index.
    """
    m = Q.shape[0]
    dist = np.empty((m, k), dtype=np.float64)
    ind = np.empty((m, k), dtype=np.int64)
    for i in prange(m):
        point_knn(tree, Q[i], p, dist[i], ind[i])
        for j in range(k):
            dist[i, j] = rdist_to_dist(dist[i, j], p)
    return dist, ind


# --------------------------------------------------------------------------------------------
# radius queries
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE)
def point_radius_count(tree, x, r_rdist, p, cum_weight):
    """Total weight of the rows within reduced distance ``r_rdist`` of ``x`` (boundary included).

    Parameters
    ----------
    tree : tuple
        From :func:`build_kdtree`.
    x : 1-D float array
        The query point.
    r_rdist : float
        Radius as a reduced distance (:func:`dist_to_rdist`).
    p : float
        Minkowski exponent.
    cum_weight : float64 array of shape (n + 1,)
        Prefix sums of the weights in *tree order* (``cum_weight[t + 1] - cum_weight[t]`` is the
        weight of ``data[t]``); ``np.arange(n + 1)`` counts points. Whole nodes inside the radius
        are added from it without visiting their points.

    Returns
    -------
    float
    """
    data, _, start, end, left, right, _, _ = tree
    stack = np.empty(STACK_SIZE, dtype=np.int64)
    stack[0] = 0
    sp = 1
    total = 0.0
    while sp > 0:
        sp -= 1
        node = stack[sp]
        if min_rdist_point_node(tree, node, x, p) > r_rdist:
            continue
        if max_rdist_point_node(tree, node, x, p) <= r_rdist:
            total += cum_weight[end[node]] - cum_weight[start[node]]
            continue
        if left[node] < 0:
            for t in range(start[node], end[node]):
                if rdist(data[t], x, p) <= r_rdist:
                    total += cum_weight[t + 1] - cum_weight[t]
            continue
        stack[sp] = left[node]
        stack[sp + 1] = right[node]
        sp += 2
    return total


@njit(cache=CACHE)
def _point_radius_fill(tree, x, r_rdist, p, out_index, out_rdist):  # noqa: PLR0917
    """Write the rows within ``r_rdist`` of ``x`` into the outputs; return how many (<= size)."""
    data, idx, start, end, left, right, _, _ = tree
    stack = np.empty(STACK_SIZE, dtype=np.int64)
    stack[0] = 0
    sp = 1
    count = 0
    while sp > 0:
        sp -= 1
        node = stack[sp]
        if min_rdist_point_node(tree, node, x, p) > r_rdist:
            continue
        if left[node] < 0:
            for t in range(start[node], end[node]):
                dd = rdist(data[t], x, p)
                if dd <= r_rdist:
                    out_index[count] = idx[t]
                    out_rdist[count] = dd
                    count += 1
            continue
        stack[sp] = left[node]
        stack[sp + 1] = right[node]
        sp += 2
    return count


@njit(cache=CACHE, parallel=True)
def query_radius_count(tree, Q, r, p):
    """Number of rows within distance ``r`` (inclusive) of each row of ``Q``: int64, shape (m,)."""
    n = tree[0].shape[0]
    cum = np.arange(n + 1).astype(np.float64)
    r_rdist = dist_to_rdist(r, p)
    m = Q.shape[0]
    counts = np.empty(m, dtype=np.int64)
    for i in prange(m):
        counts[i] = np.int64(point_radius_count(tree, Q[i], r_rdist, p, cum))
    return counts


@njit(cache=CACHE)
def _sort_by_distance_then_index(indices, dists):
    """Sort both arrays in place by ``dists``, equal distances by ``indices``."""
    order = np.argsort(dists)
    ind_sorted = indices[order]
    dist_sorted = dists[order]
    m = dists.shape[0]
    run = 0
    while run < m:
        stop = run + 1
        while stop < m and dist_sorted[stop] == dist_sorted[run]:
            stop += 1
        if stop - run > 1:
            ind_sorted[run:stop] = np.sort(ind_sorted[run:stop])
        run = stop
    indices[:] = ind_sorted
    dists[:] = dist_sorted


@njit(cache=CACHE, parallel=True)
def query_radius(tree, Q, r, p):
    """All rows within distance ``r`` (inclusive) of each row of ``Q``, as CSR arrays.

    Parameters
    ----------
    tree : tuple
        From :func:`build_kdtree`.
    Q : float array of shape (m, d)
    r : float >= 0
    p : float

    Returns
    -------
    indptr : int64 array of shape (m + 1,)
    indices : int64 array of shape (indptr[-1],)
        Neighbours of query ``i`` are ``indices[indptr[i]:indptr[i + 1]]``, sorted by distance,
        ties by index.
    distances : float64 array of shape (indptr[-1],)
        Their distances (not reduced).
    """
    n = tree[0].shape[0]
    cum = np.arange(n + 1).astype(np.float64)
    r_rdist = dist_to_rdist(r, p)
    m = Q.shape[0]
    counts = np.empty(m, dtype=np.int64)
    for i in prange(m):
        counts[i] = np.int64(point_radius_count(tree, Q[i], r_rdist, p, cum))
    indptr = np.zeros(m + 1, dtype=np.int64)
    for i in range(m):
        indptr[i + 1] = indptr[i] + counts[i]
    indices = np.empty(indptr[m], dtype=np.int64)
    distances = np.empty(indptr[m], dtype=np.float64)
    for i in prange(m):
        a = indptr[i]
        b = indptr[i + 1]
        _point_radius_fill(tree, Q[i], r_rdist, p, indices[a:b], distances[a:b])
        for j in range(a, b):
            distances[j] = rdist_to_dist(distances[j], p)
        # sort after converting: distinct reduced distances can share one distance
        _sort_by_distance_then_index(indices[a:b], distances[a:b])
    return indptr, indices, distances
