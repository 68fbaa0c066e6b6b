"""Minimum spanning trees over mutual reachability distances, and the single-linkage tree.

The mutual reachability distance of HDBSCAN is
``mr(i, j) = max(core[i], core[j], d(i, j) / alpha)``, where ``core[i]`` is the distance from
point ``i`` to its ``min_samples``-th nearest neighbour (the point itself counts as the first).
Its minimum spanning tree, sorted by weight, is the single-linkage tree of the data in that
distance.

- :func:`prim_mst` is the exact O(n^2)-time, O(n)-memory tree for any metric (small data, or
  metrics without a tree); :func:`core_distances_brute` and :func:`knn_brute` are its companions.
- :func:`boruvka_mst` is the parallel Borůvka algorithm over the kd-tree of
  :mod:`clusterlab.kernels.kdtree`, for large low-dimensional data.
- :func:`single_linkage` turns the sorted tree into scipy's linkage layout.

Metrics are Minkowski exponents ``p`` as in :mod:`clusterlab.kernels.metric`: 2.0 euclidean,
1.0 manhattan, ``inf`` chebyshev (see ``METRICS``), any other ``p >= 1`` general Minkowski.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clusterlab._config import CACHE
from clusterlab.kernels import outside_search
from clusterlab.kernels.kdtree import STACK_SIZE, children_near_first
from clusterlab.kernels.metric import (
    MINKOWSKI,
    accumulate,
    dist_to_rdist,
    rdist,
    rdist_rows,
    rdist_to_dist,
)
from clusterlab.kernels.union_find import uf_find, uf_make, uf_union
from clusterlab.kernels.variants import choose, exponent, metric_twins

__all__ = [
    "METRICS",
    "boruvka_mst",
    "core_distances_brute",
    "core_distances_tree",
    "knn_brute",
    "knn_within",
    "list_distances",
    "prim_mst",
    "single_linkage",
]

_CHUNK = 64
# leaves per parallel task of a Borůvka round, and leaves a pure leaf may list before it
# falls back to point-by-point searches
_LEAF_CHUNK = 4
_NEAR_LEAVES = 64

#: metric name -> Minkowski exponent for the metrics that are Minkowski distances (the
#: vocabulary is :mod:`clusterlab.kernels.metric`; cosine runs as euclidean on unit rows)
METRICS = MINKOWSKI


@njit(cache=CACHE, parallel=True)
def knn_brute(Q, X, k, metric):
    """The ``k`` nearest rows of ``X`` to every row of ``Q``, by scanning all of ``X``.

    Parameters
    ----------
    Q : float (m, d)
    X : float (n, d)
    k : int
        ``1 <= k <= n``.
    metric : float
        Minkowski exponent (e.g. from ``METRICS``).

    Returns
    -------
    indices : int64 (m, k)
        Nearest first; ties keep the smaller index first.
    distances : float64 (m, k)
    """
    m = Q.shape[0]
    n = X.shape[0]
    indices = np.empty((m, k), dtype=np.int64)
    distances = np.empty((m, k), dtype=np.float64)
    for i in prange(m):
        best_d = np.full(k, np.inf)
        best_i = np.full(k, -1, dtype=np.int64)
        for j in range(n):
            d = rdist_to_dist(rdist_rows(Q, i, X, j, metric), metric)
            if d >= best_d[k - 1]:
                continue
            # insertion into the sorted buffer; equal distances keep the earlier index first
            pos = k - 1
            while pos > 0 and best_d[pos - 1] > d:
                best_d[pos] = best_d[pos - 1]
                best_i[pos] = best_i[pos - 1]
                pos -= 1
            best_d[pos] = d
            best_i[pos] = j
        indices[i] = best_i
        distances[i] = best_d
    return indices, distances


def core_distances_brute(X, min_samples, metric):
    """Distance from each point to its ``min_samples``-th nearest neighbour (itself first).

    Parameters
    ----------
    X : float (n, d)
    min_samples : int
        ``1 <= min_samples <= n``.
    metric : float

    Returns
    -------
    float64 (n,)
    """
    _, distances = knn_brute(X, X, min_samples, metric)
    return np.ascontiguousarray(distances[:, -1])


@njit(cache=CACHE)
def prim_mst(X, core, alpha, metric):
    """Minimum spanning tree of the mutual reachability graph by Prim's algorithm.

    O(n^2) distance evaluations, O(n) memory: no distance matrix is stored.

    Parameters
    ----------
    X : float (n, d)
    core : float64 (n,)
        Core distances.
    alpha : float
        Distances are divided by it before the maximum with the core distances.
    metric : float

    Returns
    -------
    a, b : int64 (n - 1,)
        Edge end points, in the order Prim adds them (not sorted).
    weight : float64 (n - 1,)
    """
    n = X.shape[0]
    in_tree = np.zeros(n, dtype=np.bool_)
    best = np.full(n, np.inf)
    source = np.zeros(n, dtype=np.int64)
    a = np.empty(n - 1, dtype=np.int64)
    b = np.empty(n - 1, dtype=np.int64)
    weight = np.empty(n - 1, dtype=np.float64)
    current = 0
    in_tree[0] = True
    for e in range(n - 1):
        next_point = -1
        next_best = np.inf
        for j in range(n):
            if in_tree[j]:
                continue
            d = rdist_to_dist(rdist_rows(X, current, X, j, metric), metric) / alpha
            mr = max(d, core[current], core[j])
            if mr < best[j]:
                best[j] = mr
                source[j] = current
            if best[j] < next_best or next_point < 0:
                next_best = best[j]
                next_point = j
        a[e] = source[next_point]
        b[e] = next_point
        weight[e] = next_best
        in_tree[next_point] = True
        current = next_point
    return a, b, weight


@njit(cache=CACHE)
def single_linkage(a, b, weight):
    """Single-linkage tree (scipy layout) from a minimum spanning tree sorted by weight.

    Parameters
    ----------
    a, b : int64 (n - 1,)
        Edge end points; merge ``i`` joins the clusters of ``a[i]`` (left) and ``b[i]`` (right).
    weight : float64 (n - 1,)
        Non-decreasing.

    Returns
    -------
    left, right : int64 (n - 1,)
        Merged nodes (points ``0..n-1``; merge ``i`` creates node ``n + i``).
    distance : float64 (n - 1,)
    size : int64 (n - 1,)
    """
    n = a.shape[0] + 1
    parent, size_of = uf_make(n)
    node_of = np.arange(n, dtype=np.int64)
    left = np.empty(n - 1, dtype=np.int64)
    right = np.empty(n - 1, dtype=np.int64)
    size = np.empty(n - 1, dtype=np.int64)
    for i in range(n - 1):
        ra = uf_find(parent, a[i])
        rb = uf_find(parent, b[i])
        left[i] = node_of[ra]
        right[i] = node_of[rb]
        size[i] = size_of[ra] + size_of[rb]
        root = uf_union(parent, size_of, ra, rb)
        node_of[root] = n + i
    return left, right, weight.copy(), size


@njit(cache=CACHE, inline="always")
def _sift_down(heap_d, heap_i, size):
    """Restore the max-heap (by distance, then position) after its root was replaced."""
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= size:
            return
        other = child + 1
        if other < size and (
            heap_d[other] > heap_d[child]
            or (heap_d[other] == heap_d[child] and heap_i[other] > heap_i[child])
        ):
            child = other
        if heap_d[child] > heap_d[pos] or (
            heap_d[child] == heap_d[pos] and heap_i[child] > heap_i[pos]
        ):
            heap_d[pos], heap_d[child] = heap_d[child], heap_d[pos]
            heap_i[pos], heap_i[child] = heap_i[child], heap_i[pos]
            pos = child
        else:
            return


@njit(cache=CACHE, inline="always")
def _heap_sort(heap_d, heap_i):
    """Sort a max-heap of (distance, position) pairs in place, ascending."""
    for last in range(heap_d.shape[0] - 1, 0, -1):
        heap_d[0], heap_d[last] = heap_d[last], heap_d[0]
        heap_i[0], heap_i[last] = heap_i[last], heap_i[0]
        _sift_down(heap_d, heap_i, last)


@njit(cache=CACHE, inline="always")
def _offer(heap_d, heap_i, rd, s):
    """Offer tree position ``s`` at reduced distance ``rd`` to the max-heap of the k best."""
    if rd < heap_d[0] or (rd == heap_d[0] and s < heap_i[0]):
        heap_d[0] = rd
        heap_i[0] = s
        _sift_down(heap_d, heap_i, heap_d.shape[0])


@njit(cache=CACHE)
def knn_within(tree, x, p, bound, heap_d, heap_i, stack, stack_d=None):  # noqa: PLR0917
    """k nearest tree positions to point ``x``, searching only within reduced distance ``bound``.

    A kd-tree query that starts from a known bound (e.g. from a nearby point by the triangle
    inequality) instead of infinity, for use inside other kernels.

    Parameters
    ----------
    tree : KDTree
        From ``kdtree.build_kdtree``.
    x : float (d,)
    p : float
    bound : float
        Reduced distance holding at least ``k`` points (``inf`` is always safe).
    heap_d : float64 (k,)
        Written: reduced distances, ascending (ties by position).
    heap_i : int64 (k,)
        Written: tree positions.
    stack : int64 (``kdtree.STACK_SIZE``,)
        Scratch space.
    stack_d : float64 (``kdtree.STACK_SIZE``,), optional
        Scratch space (allocated when not given).
    """
    data = tree.data
    start = tree.node_start
    end = tree.node_end
    left = tree.node_left
    heap_d[:] = bound
    heap_i[:] = np.iinfo(np.int64).max
    # the stack holds each node's box distance beside it: computed once, when it is pushed
    node_d = np.empty(STACK_SIZE) if stack_d is None else stack_d
    stack[0] = 0
    node_d[0] = 0.0
    sp = 1
    while sp > 0:
        sp -= 1
        node = stack[sp]
        if node_d[sp] > heap_d[0]:
            continue
        if left[node] < 0:
            for s in range(start[node], end[node]):
                _offer(heap_d, heap_i, rdist(data[s], x, p), s)
            continue
        a, da, b, db = children_near_first(tree, node, x, p)
        if db <= heap_d[0]:
            stack[sp] = b
            node_d[sp] = db
            sp += 1
        if da <= heap_d[0]:
            stack[sp] = a
            node_d[sp] = da
            sp += 1
    _heap_sort(heap_d, heap_i)


@njit(cache=CACHE, inline="always")
def _scan_leaf(data, lo, hi, x, p, heap_d, heap_i):  # noqa: PLR0917
    """Offer tree positions ``lo .. hi - 1`` to the heap, four points at a time.

    The four sums run side by side (four independent chains of additions instead of one), each
    over the coordinates in order from 0.0, so every number is :func:`rdist`'s to the bit; the
    heap's order is total, so offering in any order gives the same heap.
    """
    d = data.shape[1]
    s = lo
    while s + 4 <= hi:
        a0 = 0.0
        a1 = 0.0
        a2 = 0.0
        a3 = 0.0
        for j in range(d):
            xj = np.float64(x[j])
            a0 = accumulate(a0, np.float64(data[s, j]) - xj, p)
            a1 = accumulate(a1, np.float64(data[s + 1, j]) - xj, p)
            a2 = accumulate(a2, np.float64(data[s + 2, j]) - xj, p)
            a3 = accumulate(a3, np.float64(data[s + 3, j]) - xj, p)
        _offer(heap_d, heap_i, a0, s)
        _offer(heap_d, heap_i, a1, s + 1)
        _offer(heap_d, heap_i, a2, s + 2)
        _offer(heap_d, heap_i, a3, s + 3)
        s += 4
    for t in range(s, hi):
        _offer(heap_d, heap_i, rdist(data[t], x, p), t)


@njit(cache=CACHE, inline="always")
def _children_boxes(tree, node, x, p):
    """Children of inner ``node`` with their reduced box distances from ``x``, nearer first.

    ``kdtree.children_near_first``'s result to the bit (``(near, d_near, far, d_far)``, the left
    child first on a tie), in one pass over the coordinates without a branch per coordinate:
    a coordinate inside the box adds ``+0.0``, which leaves the sum unchanged for p = 1, 2 and
    inf (any other p keeps the test, as ``0.0 ** p`` costs a call).
    """
    lower = tree.node_lower
    upper = tree.node_upper
    a = tree.node_left[node]
    b = tree.node_right[node]
    da = 0.0
    db = 0.0
    exact_zero = p in (2.0, 1.0, np.inf)
    for j in range(x.shape[0]):
        xj = np.float64(x[j])
        ga = lower[a, j] - xj
        ha = xj - upper[a, j]
        ga = ga if ga > ha else ha
        ga = ga if ga > 0.0 else 0.0
        gb = lower[b, j] - xj
        hb = xj - upper[b, j]
        gb = gb if gb > hb else hb
        gb = gb if gb > 0.0 else 0.0
        if exact_zero or ga > 0.0:
            da = accumulate(da, ga, p)
        if exact_zero or gb > 0.0:
            db = accumulate(db, gb, p)
    if da > db:
        return b, db, a, da
    return a, da, b, db


def _knn_walk(tree, x, p, bound, heap_d, heap_i, stack, node_d):  # noqa: PLR0917
    """:func:`knn_within`'s search and result (``heap_d``, ``heap_i`` ascending), compiled as
    metric twins (a constant ``p`` specialises it). A function of its own: inlined into the
    parallel loop, a first euclidean call compiled for 10.7 s of CPU instead of 5.4 s."""
    p = exponent(p)
    start = tree.node_start
    end = tree.node_end
    left = tree.node_left
    heap_d[:] = bound
    heap_i[:] = np.iinfo(np.int64).max
    stack[0] = 0
    node_d[0] = 0.0
    sp = 1
    while sp > 0:
        sp -= 1
        node = stack[sp]
        if node_d[sp] > heap_d[0]:
            continue
        if left[node] < 0:
            _scan_leaf(tree.data, start[node], end[node], x, p, heap_d, heap_i)
            continue
        a, da, b, db = _children_boxes(tree, node, x, p)
        if db <= heap_d[0]:
            stack[sp] = b
            node_d[sp] = db
            sp += 1
        if da <= heap_d[0]:
            stack[sp] = a
            node_d[sp] = da
            sp += 1
    _heap_sort(heap_d, heap_i)


def _core_distances_tree(tree, min_samples, p):
    """Body of :func:`core_distances_tree`'s metric twins (see :mod:`.variants`)."""
    data = tree.data
    n = data.shape[0]
    k = min_samples
    knn_pos = np.empty((n, k), dtype=np.int32)
    core = np.empty(n, dtype=np.float64)
    n_chunks = (n + _CHUNK - 1) // _CHUNK
    for chunk in prange(n_chunks):
        q = exponent(p)
        stack = np.empty(STACK_SIZE, dtype=np.int64)
        stack_d = np.empty(STACK_SIZE)
        heap_d = np.empty(k, dtype=np.float64)
        heap_i = np.empty(k, dtype=np.int64)
        first = chunk * _CHUNK
        for t in range(first, min(n, first + _CHUNK)):
            bound = np.inf
            if t > first:
                reach = core[t - 1] + rdist_to_dist(rdist(data[t], data[t - 1], q), q)
                # slack so that rounding never leaves fewer than k points inside
                bound = dist_to_rdist(reach, q) * (1.0 + 1e-9) + 1e-300
            _knn_walk(tree, data[t], q, bound, heap_d, heap_i, stack, stack_d)
            for j in range(k):
                knn_pos[t, j] = heap_i[j]
            core[t] = rdist_to_dist(heap_d[k - 1], q)
    return core, knn_pos


_KNN_WALK = metric_twins(_knn_walk, parallel=False)
_CORE_DISTANCES = metric_twins(_core_distances_tree, _knn_walk=_KNN_WALK)


def core_distances_tree(tree, min_samples: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    """Core distances and nearest neighbours of every point, in the kd-tree's order.

    Points are visited in tree order, chunk by chunk in parallel; each search starts from the
    bound the previous point gives by the triangle inequality (its ``k``-th distance plus the
    distance between the two), which prunes most of the tree from the start. Each neighbour list
    is :func:`knn_within`'s, to the bit; the walk runs in the twin compiled for the metric of
    ``p`` (:mod:`clusterlab.kernels.variants`), its leaf scans sum four points side by side.
    Callable from Python only.

    Parameters
    ----------
    tree : KDTree
        From ``kdtree.build_kdtree``.
    min_samples : int
        ``1 <= min_samples <= n``; the point itself is its first neighbour.
    p : float

    Returns
    -------
    core : float64 (n,)
        ``core[t]`` for the point at tree position ``t``.
    knn_pos : int32 (n, min_samples)
        Tree positions of its neighbours, nearest first (ties by position); int32 halves the
        largest array of the fit.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.kernels import kdtree, mst
    >>> tree = kdtree.build_kdtree(np.array([[0.0], [1.0], [3.0]]), 1)
    >>> core, knn_pos = mst.core_distances_tree(tree, 2, 2.0)
    >>> core[np.argsort(tree.idx)].tolist()
    [1.0, 1.0, 2.0]
    """
    return choose(_CORE_DISTANCES, p, tree.data.size)(tree, min_samples, p)


@njit(cache=CACHE, parallel=True)
def list_distances(tree, knn_pos, column, p):
    """Distance from every point to one column of its neighbour list (tree order).

    With a list longer than ``min_samples`` (more neighbours settle more of
    :func:`boruvka_mst`'s searches), this gives the core distances: ``column = min_samples - 1``.

    Parameters
    ----------
    tree : KDTree
    knn_pos : int32 (n, k)
        From :func:`core_distances_tree`.
    column : int
        ``0 <= column < k``.
    p : float

    Returns
    -------
    float64 (n,)
    """
    data = tree.data
    n = knn_pos.shape[0]
    out = np.empty(n)
    for t in prange(n):
        out[t] = rdist_to_dist(rdist(data[np.int64(knn_pos[t, column])], data[t], p), p)
    return out


@njit(cache=CACHE)
def _node_min_core(tree, core):
    """Smallest core distance below each node (bottom-up: children have larger numbers)."""
    start = tree.node_start
    end = tree.node_end
    left = tree.node_left
    right = tree.node_right
    n_nodes = start.shape[0]
    out = np.empty(n_nodes, dtype=np.float64)
    for node in range(n_nodes - 1, -1, -1):
        if left[node] < 0:
            m = np.inf
            for t in range(start[node], end[node]):
                m = min(m, core[t])
            out[node] = m
        else:
            out[node] = min(out[left[node]], out[right[node]])
    return out


@njit(cache=CACHE)
def _node_components(tree, component):
    """Component shared by every point below each node, or -1 when they differ."""
    start = tree.node_start
    end = tree.node_end
    left = tree.node_left
    right = tree.node_right
    n_nodes = start.shape[0]
    out = np.empty(n_nodes, dtype=np.int64)
    for node in range(n_nodes - 1, -1, -1):
        if left[node] < 0:
            c = component[start[node]]
            for t in range(start[node] + 1, end[node]):
                if component[t] != c:
                    c = -1
                    break
            out[node] = c
        else:
            c = out[left[node]]
            out[node] = c if c == out[right[node]] else -1
    return out


@njit(cache=CACHE)
def _reuse_candidates(component, best_d, best_j, comp_bound):
    """Keep last round's nearest-outside candidates that are still outside; seed the bounds.

    Components only grow, so the points outside a component only become fewer: a candidate that
    was a point's exact nearest outside point and is still outside remains exactly that.
    """
    for t in range(component.shape[0]):
        j = best_j[t]
        if j < 0:
            continue
        c = component[t]
        if component[j] == c:
            best_j[t] = -1
        elif best_d[t] < comp_bound[c]:
            comp_bound[c] = best_d[t]


@njit(cache=CACHE, inline="always")
def _record(t, found, bound, component, state):
    """Store one point's search result (see :func:`_boruvka_round`)."""
    comp_bound, best_d, best_j, lower = state
    d, j = found
    if j < 0:
        # nothing at or below the bound: the nearest outside point is farther
        lower[t] = max(lower[t], bound)
        return
    best_d[t] = d
    best_j[t] = j
    lower[t] = d
    c = component[t]
    # a conditional store: most points do not improve the bound, and unconditional writes to
    # the shared array would make the threads fight over its cache lines
    if d < comp_bound[c]:  # noqa: PLR1730
        comp_bound[c] = d


@njit(cache=CACHE, inline="always")
def _searching(t, component, state):
    """Whether point ``t`` must search this round, and its component's bound."""
    comp_bound, _, best_j, lower = state
    bound = comp_bound[component[t]]
    return best_j[t] < 0 and lower[t] <= bound, bound


@njit(cache=CACHE)
def _search_leaf(leaf, tree, core, component, node_comp, node_core, state, alpha, p, work, rows):  # noqa: PLR0917
    """Every point of one leaf that needs it looks for its nearest point outside.

    A leaf lying wholly in one component lists once the leaves near enough to matter
    (:func:`outside_search.near_leaves`) and its points scan only those; a mixed leaf, or one
    whose list overflows, searches point by point from the root.
    """
    stack, stack_d, near = work
    start = tree.node_start[leaf]
    end = tree.node_end[leaf]
    count = -1
    for t in range(start, end):
        needed, bound = _searching(t, component, state)
        if not needed:
            continue
        if count < 0 and node_comp[leaf] >= 0 and bound < np.inf:
            count = outside_search.near_leaves(
                leaf, tree, node_comp, node_core, bound, alpha, p, stack, near
            )
            if count < 0:
                count = -2  # overflow: do not try again for this leaf
        if count >= 0:
            found = outside_search.nearest_in_leaves(
                t, tree, core, component, near[:count], bound, alpha, p, rows
            )
        else:
            found = outside_search.nearest_outside(
                t,
                tree,
                core,
                component,
                node_comp,
                node_core,
                bound,
                alpha,
                p,
                (stack, stack_d),
                rows,
            )
        _record(t, found, bound, component, state)


@njit(cache=CACHE, parallel=True)
def _boruvka_round(tree, leaves, core, component, node_comp, node_core, state, alpha, p, rows):  # noqa: PLR0917
    """Every point's nearest neighbour outside its component (parallel over the leaves).

    ``state = (comp_bound, best_d, best_j, lower)``: ``comp_bound[c]`` is a shared upper bound on
    component ``c``'s shortest outgoing edge that the threads lower as they find edges; points
    with a still-valid candidate (``best_j >= 0``) are skipped, and so are points whose lower
    bound ``lower[t]`` on their nearest outside distance already exceeds their component's bound.
    A stale read of a bound only prunes less, a point finds its exact nearest outside point
    whenever it lies within the bound read, and every comparison is strict, so the component
    minima, ties broken by :func:`outside_search.tie_wins` with ``rows``, do not depend on the
    thread count. ``leaves`` are the leaf nodes of ``tree``.
    """
    n_leaves = leaves.shape[0]
    n_chunks = (n_leaves + _LEAF_CHUNK - 1) // _LEAF_CHUNK
    for chunk in prange(n_chunks):
        work = (
            np.empty(STACK_SIZE, dtype=np.int64),
            np.empty(STACK_SIZE),
            np.empty(_NEAR_LEAVES, dtype=np.int64),
        )
        for q in range(chunk * _LEAF_CHUNK, min(n_leaves, (chunk + 1) * _LEAF_CHUNK)):
            _search_leaf(
                leaves[q],
                tree,
                core,
                component,
                node_comp,
                node_core,
                state,
                alpha,
                p,
                work,
                rows,
            )


@njit(cache=CACHE, inline="always")
def _refined_settling(t, tree, core, knn_pos, alpha, p, rows):  # noqa: PLR0917
    """The neighbour of ``t`` of smallest raw distance, then row, among those that settle it
    (see :func:`_knn_edges`), or -1; also -1 when that distance equals the list's last one and
    the list does not hold every point (a point beyond it at the same distance could have the
    smaller row)."""
    k = knn_pos.shape[1]
    best_j = -1
    best_d = np.inf
    for q in range(k):
        j = np.int64(knn_pos[t, q])
        if j == t or core[j] > core[t]:
            continue
        d = rdist_to_dist(rdist(tree.data[t], tree.data[j], p), p)
        if d / alpha > core[t]:
            continue
        if d > best_d:
            return best_j  # the list is sorted by distance: a farther point follows
        if d < best_d or rows[j] < rows[best_j]:
            best_d = d
            best_j = j
    if best_j >= 0 and k < core.shape[0]:
        last = np.int64(knn_pos[t, k - 1])
        if best_d == rdist_to_dist(rdist(tree.data[t], tree.data[last], p), p):
            return -1
    return best_j


@njit(cache=CACHE, inline="always")
def _first_settling(t, tree, core, knn_pos, alpha, p):  # noqa: PLR0917
    """The first neighbour of ``t``'s list that settles it (see :func:`_knn_edges`), or -1."""
    data = tree.data
    for q in range(knn_pos.shape[1]):
        j = np.int64(knn_pos[t, q])
        if j == t or core[j] > core[t]:
            continue
        # the list may run past the core distance's neighbours, and alpha < 1 can push even
        # those beyond core[t]
        if rdist_to_dist(rdist(data[t], data[j], p), p) / alpha > core[t]:
            continue
        return j
    return -1


@njit(cache=CACHE, parallel=True)
def _settling_neighbours(tree, core, knn_pos, alpha, p, rows):  # noqa: PLR0917
    """Each point's settling neighbour (see :func:`_knn_edges`), or -1, in parallel."""
    n = core.shape[0]
    out = np.empty(n, dtype=np.int64)
    if rows is None:
        for t in prange(n):
            out[t] = _first_settling(t, tree, core, knn_pos, alpha, p)
    else:
        for t in prange(n):
            out[t] = _refined_settling(t, tree, core, knn_pos, alpha, p, rows)
    return out


@njit(cache=CACHE)
def _knn_edges(tree, core, knn_pos, alpha, p, forest, edges, rows):  # noqa: PLR0917
    """First Borůvka round from the core-distance neighbours, where they settle it.

    A point with a neighbour ``j`` such that ``max(core[j], d / alpha) <= core[t]`` has its
    cheapest edge at weight ``core[t]``, the least any of its edges can weigh, so the edge is
    safe to add without a search: the first such neighbour of the list (ties by position), or
    with ``rows`` the one :func:`_refined_settling` picks. The neighbours are found in
    parallel, the edges added in point order. ``forest = (parent, size)`` is the union-find,
    ``edges = (a, b, w)`` the output arrays; returns the number of edges written.
    """
    parent, size_of = forest
    a, b, w = edges
    n_edges = 0
    settling = _settling_neighbours(tree, core, knn_pos, alpha, p, rows)
    for t in range(core.shape[0]):
        j = settling[t]
        if j >= 0 and uf_union(parent, size_of, t, j) >= 0:
            a[n_edges] = t
            b[n_edges] = j
            w[n_edges] = core[t]
            n_edges += 1
    return n_edges


@njit(cache=CACHE, inline="always")
def _edge_before(e, f, tree, p, rows):
    """Edge ``e = (t, j)`` comes before edge ``f`` of equal weight (tree positions): by their
    positions, or with ``rows`` by raw distance, then (smaller row, larger row)."""
    t, j = e
    u, v = f
    if rows is None:
        return t < u or (t == u and j < v)
    data = tree.data
    d_e = rdist_to_dist(rdist(data[t], data[j], p), p)
    d_f = rdist_to_dist(rdist(data[u], data[v], p), p)
    if d_e != d_f:
        return d_e < d_f
    return (min(rows[t], rows[j]), max(rows[t], rows[j])) < (
        min(rows[u], rows[v]),
        max(rows[u], rows[v]),
    )


@njit(cache=CACHE)
def _merge_components(component, best, forest, edges, n_edges, tree, p, rows):  # noqa: PLR0917
    """Add every component's cheapest outgoing edge (smallest weight, then
    :func:`_edge_before`); ``best = (best_d, best_j)`` per point, ``forest = (parent, size)``,
    ``edges = (a, b, w)``."""
    best_d, best_j = best
    parent, size_of = forest
    a, b, w = edges
    n = component.shape[0]
    comp_d = np.full(n, np.inf)
    comp_a = np.full(n, -1, dtype=np.int64)
    comp_b = np.full(n, -1, dtype=np.int64)
    for t in range(n):
        j = best_j[t]
        if j < 0:
            continue
        c = component[t]
        d = best_d[t]
        if d < comp_d[c] or (
            d == comp_d[c] and _edge_before((t, j), (comp_a[c], comp_b[c]), tree, p, rows)
        ):
            comp_d[c] = d
            comp_a[c] = t
            comp_b[c] = j
    for c in range(n):
        if comp_a[c] >= 0 and uf_union(parent, size_of, comp_a[c], comp_b[c]) >= 0:
            a[n_edges] = comp_a[c]
            b[n_edges] = comp_b[c]
            w[n_edges] = comp_d[c]
            n_edges += 1
    return n_edges


@njit(cache=CACHE, parallel=True)
def _list_candidates(tree, core, knn_pos, component, state, alpha, p, rows):  # noqa: PLR0917
    """Settle from the neighbour lists the points whose nearest outside point is in them.

    A point's list holds its ``k`` nearest points, so every point beyond it is at mutual
    reachability at least ``max(d_k / alpha, core[t])`` (``d_k``: the distance to the last of
    the list). The best point of the list in another component (ties by
    :func:`outside_search.tie_wins`, as a search breaks them), when strictly nearer than that, is
    the point's exact nearest outside point;
    otherwise the smaller of the two is a lower bound for it. Works on the points with no
    valid candidate; ``state`` as in :func:`_boruvka_round`.
    """
    comp_bound, best_d, best_j, lower = state
    data = tree.data
    n, k = knn_pos.shape
    for t in prange(n):
        if best_j[t] >= 0:
            continue
        c = component[t]
        x = data[t]
        last = np.int64(knn_pos[t, k - 1])
        beyond = max(rdist_to_dist(rdist(data[last], x, p), p) / alpha, core[t])
        best = np.inf
        best_s = -1
        for q in range(k):
            s = np.int64(knn_pos[t, q])
            if component[s] == c:
                continue
            rd = rdist(data[s], x, p)
            mr = max(rdist_to_dist(rd, p) / alpha, core[t], core[s])
            # the ternary, not a call, on the plain path: it compiles to the bare comparison
            if mr < best or (
                mr == best
                and (
                    s < best_s
                    if rows is None
                    else outside_search.tie_wins(s, best_s, x, rd, tree, p, rows)
                )
            ):
                best = mr
                best_s = s
        if best < beyond:
            best_d[t] = best
            best_j[t] = best_s
            lower[t] = best
            # a racing store may keep a larger bound: still a true edge, so only less pruning
            if best < comp_bound[c]:  # noqa: PLR1730
                comp_bound[c] = best
        else:
            lower[t] = max(lower[t], min(best, beyond))


@njit(cache=CACHE)
def _components(parent, component):
    # serial: a few milliseconds of work, less than waking the threads costs on a busy machine
    for t in range(component.shape[0]):
        component[t] = uf_find(parent, np.int64(t))


@njit(cache=CACHE)
def boruvka_mst(tree, core, knn_pos, alpha, p, rows):  # noqa: PLR0917
    """Minimum spanning tree of the mutual reachability graph by parallel Borůvka on a kd-tree.

    Each round, every point looks (in parallel) for its nearest point in another component,
    pruning kd-tree nodes that lie wholly in its component, that are farther than the best edge
    its component has found so far, or whose smallest core distance is already too large; each
    component then adds its cheapest edge. The first round is mostly settled by the core-distance
    neighbours without any search, and in every round a point whose nearest outside point is in
    its neighbour list takes it from there (:func:`_list_candidates`); a longer list than the
    core distance needs settles more points without a walk.

    Parameters
    ----------
    tree : KDTree
        From ``kdtree.build_kdtree``.
    core : float64 (n,)
        Core distances in tree order.
    knn_pos : int32 (n, k)
        The ``k`` nearest tree positions of each point, nearest first (ties by position), the
        point itself included, as :func:`core_distances_tree` gives them; ``k`` may exceed the
        ``min_samples`` of the core distances.
    alpha : float
    p : float
        Minkowski exponent.
    rows : None or int64 (n,)
        None: ties between equal weights go by tree positions (HDBSCAN's tree). ``tree.idx``:
        by raw distance, then by the edge's (smaller row, larger row) of ``X``; the result is
        then the unique minimum spanning tree under the key ``(weight, distance, smaller row,
        larger row)``, the tree that prefers truly nearer points among the many equal mutual
        reachability weights. An array or None so that each rule compiles apart.

    Returns
    -------
    a, b : int64 (n - 1,)
        Edge end points as rows of the original ``X`` (``tree.idx[position]``).
    weight : float64 (n - 1,)
        Unsorted.
    """
    n = core.shape[0]
    parent, size_of = uf_make(n)
    a = np.empty(n - 1, dtype=np.int64)
    b = np.empty(n - 1, dtype=np.int64)
    w = np.empty(n - 1, dtype=np.float64)
    node_core = _node_min_core(tree, core)
    leaves = np.flatnonzero(tree.node_left < 0)
    n_edges = _knn_edges(tree, core, knn_pos, alpha, p, (parent, size_of), (a, b, w), rows)
    component = np.empty(n, dtype=np.int64)
    best_d = np.full(n, np.inf)
    best_j = np.full(n, -1, dtype=np.int64)
    lower = np.zeros(n)
    while n_edges < n - 1:
        _components(parent, component)
        node_comp = _node_components(tree, component)
        comp_bound = np.full(n, np.inf)
        _reuse_candidates(component, best_d, best_j, comp_bound)
        _list_candidates(
            tree, core, knn_pos, component, (comp_bound, best_d, best_j, lower), alpha, p, rows
        )
        _boruvka_round(
            tree,
            leaves,
            core,
            component,
            node_comp,
            node_core,
            (comp_bound, best_d, best_j, lower),
            alpha,
            p,
            rows,
        )
        n_edges = _merge_components(
            component, (best_d, best_j), (parent, size_of), (a, b, w), n_edges, tree, p, rows
        )
    idx = tree.idx
    for e in range(n - 1):
        a[e] = idx[a[e]]
        b[e] = idx[b[e]]
    return a, b, w
