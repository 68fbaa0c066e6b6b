"""A kd-tree as a named tuple of plain arrays: build, k-nearest, radius queries, node helpers.

Layout
------
:func:`build_kdtree` returns a :class:`KDTree`, a named tuple of plain arrays; every kernel here
takes it as its first argument, and other numba kernels may walk it directly, reading its fields
by name (``tree.node_left[node]``).

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
``log2(n / leaf_size)``. :func:`build_kdtree` splits nodes in parallel on large data (whole
subtrees at once); the tree is the same for every thread count (see there).

An estimator that keeps a tree after ``fit`` stores ``tuple(tree)`` (plain arrays, the layout
above in that order) and rebuilds the named tuple with ``KDTree(*fields)`` when it needs it, so
model files hold no type of this module.

Distances
---------
Minkowski exponents and reduced distances as in :mod:`clusterlab.kernels.metric` (``rdist``,
``dist_to_rdist`` and ``rdist_to_dist`` are re-exported here): sums over coordinates in order,
in float64, exactly as scikit-learn's ``KDTree`` does, so radius decisions agree with it to the
last bit.

Walks
-----
Every search within a radius walks the tree with :func:`radius_next`, depth first, right child
first; the caller loops over the leaves (or whole nodes) it returns and may stop at any time.
k-nearest results are sorted by distance, ties by smaller original index; radius results by
distance then index. Queries run in parallel over the query points (``prange``) and give the same
result for every thread count.

The query functions (:func:`query_knn`, :func:`query_radius`, :func:`query_radius_count`) are
Python functions that run a twin of their kernel for the metric of ``p`` and the size of the
query (:func:`clusterlab.kernels.variants.metric_twins`): a euclidean caller compiles only the
euclidean walk, and a small query on one thread only its serial build.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numba
import numpy as np
from numba import njit, prange
from numba.extending import overload

from clusterlab._config import CACHE
from clusterlab.kernels.metric import accumulate, dist_to_rdist, rdist, rdist_to_dist
from clusterlab.kernels.variants import choose, exponent, metric_twins

__all__ = [
    "NO_LIMIT",
    "PARALLEL_BUILD_MIN",
    "STACK_SIZE",
    "KDTree",
    "build_kdtree",
    "build_kdtree_serial",
    "children_near_first",
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
    "radius_next",
    "rdist",
    "rdist_to_dist",
    "walk_start",
]

#: Size of the traversal stacks; a depth-first walk of a median-split tree never needs more
#: than its depth + 1 entries, and the depth is at most log2(n) + 1 (< 64 for any n).
STACK_SIZE = 128

#: ``before`` argument of :func:`radius_next` that excludes no tree position.
NO_LIMIT = np.iinfo(np.int64).max

_INSERTION_SORT_BELOW = 16

#: Smallest number of points :func:`build_kdtree` splits in parallel; smaller trees are built
#: by :func:`build_kdtree_serial`, as they are on one thread. The parallel build starts the
#: threads once or twice (see :func:`_build_in_parallel`), so it pays from about 2,000 points
#: of 2-d data on (measured, 2 threads: 124 vs 129 us at 2,048, 311 vs 471 us at 4,096); a
#: low switch also means that a warm-up fit on a few thousand rows compiles (or loads) the
#: kernels a large fit runs.
PARALLEL_BUILD_MIN = 2**11


class KDTree(NamedTuple):
    """The arrays of a kd-tree (see the module docstring); built by :func:`build_kdtree`."""

    data: np.ndarray
    idx: np.ndarray
    node_start: np.ndarray
    node_end: np.ndarray
    node_left: np.ndarray
    node_right: np.ndarray
    node_lower: np.ndarray
    node_upper: np.ndarray


# --------------------------------------------------------------------------------------------
# node helpers
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE)
def node_is_leaf(tree, node):
    """True when ``node`` has no children."""
    return tree.node_left[node] < 0


@njit(cache=CACHE)
def node_children(tree, node):
    """``(left, right)`` children of ``node``; ``(-1, -1)`` for a leaf."""
    return tree.node_left[node], tree.node_right[node]


@njit(cache=CACHE)
def node_range(tree, node):
    """``(start, end)``: the node holds tree positions ``start <= t < end`` (rows ``idx[t]``)."""
    return tree.node_start[node], tree.node_end[node]


@njit(cache=CACHE, inline="always")
def min_rdist_point_node(tree, node, x, p):
    """Reduced distance from point ``x`` (1-D float) to the bounding box of ``node`` (0 inside)."""
    lower = tree.node_lower
    upper = tree.node_upper
    acc = 0.0
    for k in range(x.shape[0]):
        xk = np.float64(x[k])
        gap = lower[node, k] - xk
        other = xk - upper[node, k]
        gap = max(gap, other)
        if gap > 0.0:
            acc = accumulate(acc, gap, p)
    return acc


@njit(cache=CACHE, inline="always")
def children_near_first(tree, node, x, p):
    """The children of inner ``node`` with their reduced box distances from ``x``, the nearer
    first: ``(near, d_near, far, d_far)`` (the left child first on a tie)."""
    a = tree.node_left[node]
    b = tree.node_right[node]
    da = min_rdist_point_node(tree, a, x, p)
    db = min_rdist_point_node(tree, b, x, p)
    if da > db:
        return b, db, a, da
    return a, da, b, db


@njit(cache=CACHE, inline="always")
def max_rdist_point_node(tree, node, x, p):
    """Reduced distance from ``x`` to the farthest corner of the bounding box of ``node``."""
    lower = tree.node_lower
    upper = tree.node_upper
    acc = 0.0
    for k in range(x.shape[0]):
        xk = np.float64(x[k])
        far = abs(xk - lower[node, k])
        other = abs(upper[node, k] - xk)
        far = max(far, other)
        acc = accumulate(acc, far, p)
    return acc


@njit(cache=CACHE, inline="always")
def min_rdist_node_node(tree, a, b, p):
    """Reduced distance between the bounding boxes of nodes ``a`` and ``b`` (0 if they touch)."""
    lower = tree.node_lower
    upper = tree.node_upper
    acc = 0.0
    for k in range(lower.shape[1]):
        gap = lower[a, k] - upper[b, k]
        other = lower[b, k] - upper[a, k]
        gap = max(gap, other)
        if gap > 0.0:
            acc = accumulate(acc, gap, p)
    return acc


# --------------------------------------------------------------------------------------------
# the radius walk
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE, inline="always")
def walk_start(stack):
    """Put the root on ``stack`` (int64, ``STACK_SIZE``) and return the stack size, 1."""
    stack[0] = 0
    return 1


@njit(cache=CACHE, inline="always")
def radius_next(tree, x, r, p, stack, sp, before, whole, near_first):  # noqa: PLR0917
    """Next node to visit in a depth-first walk of the nodes within reduced radius ``r`` of ``x``.

    The one radius traversal of the package: the caller starts with ``sp = walk_start(stack)``
    and loops ``node, sp, inside = radius_next(...)`` until ``node < 0``, visiting the tree
    positions ``node_start[node] .. node_end[node]`` of each node returned (and may stop early,
    or change ``r`` between calls to shrink the search).

    Parameters
    ----------
    tree : KDTree
    x : 1-D float array of length d
        The query point.
    r : float
        Radius as a reduced distance; nodes whose box is farther are skipped.
    p : float
        Minkowski exponent (a constant at the call site, e.g. in a metric twin, specialises
        the walk).
    stack : int64 array of shape (STACK_SIZE,)
        Scratch; read and written.
    sp : int
        Stack size from the previous call (or :func:`walk_start`).
    before : int
        Nodes starting at tree position ``before`` or later are skipped (:data:`NO_LIMIT` for none);
        the caller still bounds its loop over a leaf's positions.
    whole : bool
        Return a node lying wholly within ``r`` (``inside`` true) instead of opening it.
    near_first : bool
        Open the nearer child first (two more box distances per inner node; for searches
        whose radius shrinks as they go). Otherwise the right child comes first.

    Returns
    -------
    node : int
        A leaf (or, with ``whole``, a node wholly inside) within ``r``; -1 when the walk is done.
    sp : int
        The stack size to pass to the next call.
    inside : bool
        True when every point of ``node`` is within ``r`` (only with ``whole``).
    """
    start = tree.node_start
    left = tree.node_left
    right = tree.node_right
    while sp > 0:
        sp -= 1
        node = stack[sp]
        if start[node] >= before or min_rdist_point_node(tree, node, x, p) > r:
            continue
        if whole and max_rdist_point_node(tree, node, x, p) <= r:
            return node, sp, True
        if left[node] < 0:
            return node, sp, False
        first = right[node]  # popped next
        second = left[node]
        if near_first and not (
            min_rdist_point_node(tree, first, x, p) < min_rdist_point_node(tree, second, x, p)
        ):
            first, second = second, first
        stack[sp] = second
        stack[sp + 1] = first
        sp += 2
    return -1, sp, False


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


@njit(cache=CACHE, inline="always")
def _split_node(X, idx, keys, nodes, i, leaf_size, data):  # noqa: PLR0917
    """Bounding box of node ``i``; when it holds more than ``leaf_size`` points, its median
    along the coordinate of largest spread moved to the middle of its range (:func:`_select`),
    and otherwise (a leaf, whose range is final) its points copied to ``data`` in tree order.

    ``nodes`` is ``(start, end, lower, upper)``. Writes only row ``i`` of the boxes and the
    node's range of ``idx``, ``keys`` and ``data``, so the nodes of a level may be split in any
    order, or at once.
    """
    start, end, lower, upper = nodes
    s = start[i]
    e = end[i]
    _bounding_box(X, idx, s, e, lower[i], upper[i])
    if e - s <= leaf_size:
        for t in range(s, e):
            for k in range(X.shape[1]):  # a loop: a row assignment compiles its error message
                data[t, k] = X[idx[t], k]
        return
    dim = 0
    spread = -1.0
    for k in range(X.shape[1]):
        if upper[i, k] - lower[i, k] > spread:
            spread = upper[i, k] - lower[i, k]
            dim = k
    for t in range(s, e):
        keys[t] = X[idx[t], dim]
    _select(keys, idx, s, e - 1, s + (e - s) // 2)


@njit(cache=CACHE, inline="always")
def _split_subtree(X, idx, keys, nodes, children, root, leaf_size, data):  # noqa: PLR0917
    """:func:`_split_node` on ``root`` and every node below it (``children`` is ``(left,
    right)``, numbered beforehand), depth first: a subtree's points stay in the cache on the
    way down (at 1M x 2, a quarter faster than a level at a time)."""
    left, right = children
    stack = np.empty(STACK_SIZE, dtype=np.int64)
    stack[0] = root
    sp = 1
    while sp > 0:
        sp -= 1
        i = stack[sp]
        _split_node(X, idx, keys, nodes, i, leaf_size, data)
        if left[i] >= 0:
            stack[sp] = right[i]
            stack[sp + 1] = left[i]
            sp += 2


@njit(cache=CACHE, parallel=True)
def _split_level(X, idx, keys, nodes, children, first, stop, leaf_size, subtrees, data):  # noqa: PLR0917
    """:func:`_split_node` on the nodes ``first..stop-1`` of one level, in parallel over them;
    with ``subtrees``, :func:`_split_subtree` on them (their whole subtrees)."""
    for f in prange(first, stop):
        if subtrees:
            _split_subtree(X, idx, keys, nodes, children, f, leaf_size, data)
        else:
            _split_node(X, idx, keys, nodes, f, leaf_size, data)


@njit(cache=CACHE, inline="always")
def _number_levels(nodes, left, right, leaf_size):
    """Number every node of the tree (:func:`_number_children`, a level at a time) and return
    where the levels start: level ``l`` is the nodes ``levels[l]..levels[l+1]-1``."""
    levels = np.empty(STACK_SIZE, dtype=np.int64)
    levels[0] = 0
    levels[1] = 1
    n_levels = 1
    while levels[n_levels] > levels[n_levels - 1]:
        levels[n_levels + 1] = _number_children(
            nodes, left, right, levels[n_levels - 1], levels[n_levels], leaf_size
        )
        n_levels += 1
    return levels[:n_levels].copy()


@njit(cache=CACHE, inline="always")
def _number_children(nodes, left, right, first, stop, leaf_size):  # noqa: PLR0917
    """Number the children of the nodes ``first..stop-1`` (one level) that split, from ``stop``
    in the order of their parents, and give them their ranges; return the number of nodes.

    A node splits when it holds more than ``leaf_size`` points, and its children's ranges
    follow from its own, so a level's children are known before any of its nodes is split:
    this is the numbering of a breadth-first build that splits one node at a time.
    """
    start, end, _, _ = nodes
    n_nodes = stop
    for i in range(first, stop):
        s = start[i]
        e = end[i]
        if e - s > leaf_size:
            mid = s + (e - s) // 2
            left[i] = n_nodes
            right[i] = n_nodes + 1
            start[n_nodes] = s
            end[n_nodes] = mid
            start[n_nodes + 1] = mid
            end[n_nodes + 1] = e
            n_nodes += 2
    return n_nodes


@njit(cache=CACHE)
def build_kdtree_serial(X, leaf_size):
    """:func:`build_kdtree` on one thread, as a kernel: the same tree for any ``X``. Numba kernels
    calling ``build_kdtree`` run it."""
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
    nodes = (start, end, lower, upper)
    start[0] = 0
    end[0] = n
    stop = _number_levels(nodes, left, right, leaf_size)[-1]
    data = np.empty((n, d), dtype=X.dtype)
    _split_subtree(X, idx, keys, nodes, (left, right), 0, leaf_size, data)
    return KDTree(
        data,
        idx,
        start[:stop].copy(),
        end[:stop].copy(),
        left[:stop].copy(),
        right[:stop].copy(),
        lower[:stop].copy(),
        upper[:stop].copy(),
    )


def build_kdtree(X: np.ndarray, leaf_size: int) -> KDTree:
    """Build a kd-tree over the rows of ``X`` (see the module docstring for its layout).

    Every node's range, and so the breadth-first numbering, follows from the sizes alone, so
    the whole tree is numbered before any node is split; from :data:`PARALLEL_BUILD_MIN` points
    on, when numba runs more than one thread, the nodes are then split in parallel (whole
    subtrees once there are as many as threads). Each node is split by the same deterministic
    quickselect on the same range whatever the order, so the tree (numbering, ``idx``, boxes,
    ``data``) is the same for every thread count and the same as
    :func:`build_kdtree_serial`'s. Numba kernels may call ``build_kdtree`` too: they run
    :func:`build_kdtree_serial`.

    Parameters
    ----------
    X : float64 or float32 array of shape (n, d), n >= 1, C-contiguous
        Read only; ``data`` in the result is a reordered copy.
    leaf_size : int >= 1
        Nodes with more points are split at the median of their widest coordinate.

    Returns
    -------
    tree : KDTree

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.kernels.kdtree import build_kdtree
    >>> tree = build_kdtree(np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 1.0]]), 1)
    >>> tree.idx.tolist(), tree.node_left.tolist()
    ([0, 1, 2], [1, -1, 3, -1, -1])
    """
    threads = numba.get_num_threads()
    if X.shape[0] < PARALLEL_BUILD_MIN or threads == 1:
        return build_kdtree_serial(X, leaf_size)
    return _build_in_parallel(X, leaf_size, threads)


def _build_in_parallel(X: np.ndarray, leaf_size: int, threads: int) -> KDTree:
    """:func:`build_kdtree` for ``threads`` threads: every node numbered first, then the top
    levels split one after the other (a level's nodes in parallel), until a level has at least
    ``threads`` nodes; then one parallel region splits the whole subtrees of that level's nodes.
    So the threads wait for each other once per level above that one only, not once per level
    all the way down: on a busy machine every wait can cost a time slice."""
    n, d = X.shape
    leaf_size = max(1, int(leaf_size))
    max_nodes = 2 * max(1, n // max(1, (leaf_size + 1) // 2)) + 1
    idx = np.arange(n, dtype=np.int64)
    keys = np.empty(n)
    start = np.zeros(max_nodes, dtype=np.int64)
    end = np.full(max_nodes, n, dtype=np.int64)
    children = (np.full(max_nodes, -1, dtype=np.int64), np.full(max_nodes, -1, dtype=np.int64))
    nodes = (start, end, np.empty((max_nodes, d)), np.empty((max_nodes, d)))
    data = np.empty_like(X, order="C")
    levels = _number_levels(nodes, *children, leaf_size)
    for first, stop in itertools.pairwise(levels):
        work = (X, idx, keys, nodes, children, first, stop, leaf_size)
        if stop - first >= threads or stop == levels[-1]:
            _split_level(*work, True, data)
            break
        if stop - first == 1:
            _split_node(X, idx, keys, nodes, first, leaf_size, data)
        else:
            _split_level(*work, False, data)
    cut = [a[: levels[-1]].copy() for a in (start, end, *children, *nodes[2:])]
    return KDTree(data, idx, *cut)


@overload(build_kdtree, jit_options={"cache": CACHE})
def _build_kdtree_in_kernels(X, leaf_size):
    """``build_kdtree`` called from a numba kernel: :func:`build_kdtree_serial`."""

    def serial(X, leaf_size):
        return build_kdtree_serial(X, leaf_size)

    return serial


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


@njit(cache=CACHE, inline="always")
def point_knn(tree, x, p, out_rdist, out_index):
    """The ``k = len(out_rdist)`` nearest rows to ``x``, for use inside other kernels.

    Parameters
    ----------
    tree : KDTree
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
    data = tree.data
    idx = tree.idx
    start = tree.node_start
    end = tree.node_end
    left = tree.node_left
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
        a, da, b, db = children_near_first(tree, node, x, p)
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


def _query_knn(tree, Q, k, p):
    """:func:`query_knn`'s kernel, compiled per metric and way of running (``_QUERY_KNN``)."""
    m = Q.shape[0]
    dist = np.empty((m, k), dtype=np.float64)
    ind = np.empty((m, k), dtype=np.int64)
    for i in prange(m):
        # exponent(p) in the loop body: a constant there in the metric twins (the body of a
        # parallel loop compiles apart, and a p set before the loop would reach it as a value)
        point_knn(tree, Q[i], exponent(p), dist[i], ind[i])
        for j in range(k):
            dist[i, j] = rdist_to_dist(dist[i, j], p)
    return dist, ind


def query_knn(tree: KDTree, Q: np.ndarray, k: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    """k nearest rows for every row of ``Q``, in parallel over the rows.

    Runs the twin of the kernel for the metric of ``p`` (serial for small ``Q`` on one thread,
    see :mod:`clusterlab.kernels.variants`); callable from Python only.

    Parameters
    ----------
    tree : KDTree
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
    return choose(_QUERY_KNN, p, Q.size)(tree, Q, k, p)


# --------------------------------------------------------------------------------------------
# radius queries
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE, inline="always")
def point_radius_count(tree, x, r_rdist, p, cum_weight):
    """Total weight of the rows within reduced distance ``r_rdist`` of ``x`` (boundary included).

    Parameters
    ----------
    tree : KDTree
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
    data = tree.data
    start = tree.node_start
    end = tree.node_end
    stack = np.empty(STACK_SIZE, dtype=np.int64)
    sp = walk_start(stack)
    total = 0.0
    while True:
        node, sp, inside = radius_next(tree, x, r_rdist, p, stack, sp, NO_LIMIT, True, False)
        if node < 0:
            break
        if inside:
            total += cum_weight[end[node]] - cum_weight[start[node]]
            continue
        for t in range(start[node], end[node]):
            if rdist(data[t], x, p) <= r_rdist:
                total += cum_weight[t + 1] - cum_weight[t]
    return total


@njit(cache=CACHE, inline="always")
def _point_radius_fill(tree, x, r_rdist, p, out_index, out_rdist):  # noqa: PLR0917
    """Write the rows within ``r_rdist`` of ``x`` into the outputs; return how many (<= size)."""
    data = tree.data
    idx = tree.idx
    stack = np.empty(STACK_SIZE, dtype=np.int64)
    sp = walk_start(stack)
    count = 0
    while True:
        node, sp, _ = radius_next(tree, x, r_rdist, p, stack, sp, NO_LIMIT, False, False)
        if node < 0:
            break
        for t in range(tree.node_start[node], tree.node_end[node]):
            dd = rdist(data[t], x, p)
            if dd <= r_rdist:
                out_index[count] = idx[t]
                out_rdist[count] = dd
                count += 1
    return count


def _query_radius_count(tree, Q, r, p):
    """:func:`query_radius_count`'s kernel, compiled per metric (``_QUERY_RADIUS_COUNT``)."""
    n = tree.data.shape[0]
    cum = np.arange(n + 1).astype(np.float64)
    r_rdist = dist_to_rdist(r, p)
    m = Q.shape[0]
    counts = np.empty(m, dtype=np.int64)
    for i in prange(m):
        counts[i] = np.int64(point_radius_count(tree, Q[i], r_rdist, exponent(p), cum))
    return counts


def query_radius_count(tree: KDTree, Q: np.ndarray, r: float, p: float) -> np.ndarray:
    """Number of rows within distance ``r`` (inclusive) of each row of ``Q``: int64, shape (m,).

    Callable from Python only (it runs the kernel's twin for ``p``, as :func:`query_knn`).
    """
    return choose(_QUERY_RADIUS_COUNT, p, Q.size)(tree, Q, r, p)


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


def _query_radius(tree, Q, r, p):
    """:func:`query_radius`'s kernel, compiled per metric (``_QUERY_RADIUS``)."""
    n = tree.data.shape[0]
    cum = np.arange(n + 1).astype(np.float64)
    r_rdist = dist_to_rdist(r, p)
    m = Q.shape[0]
    counts = np.empty(m, dtype=np.int64)
    for i in prange(m):
        counts[i] = np.int64(point_radius_count(tree, Q[i], r_rdist, exponent(p), cum))
    indptr = np.zeros(m + 1, dtype=np.int64)
    for i in range(m):
        indptr[i + 1] = indptr[i] + counts[i]
    indices = np.empty(indptr[m], dtype=np.int64)
    distances = np.empty(indptr[m], dtype=np.float64)
    for i in prange(m):
        a = indptr[i]
        b = indptr[i + 1]
        _point_radius_fill(tree, Q[i], r_rdist, exponent(p), indices[a:b], distances[a:b])
        for j in range(a, b):
            distances[j] = rdist_to_dist(distances[j], p)
        # sort after converting: distinct reduced distances can share one distance
        _sort_by_distance_then_index(indices[a:b], distances[a:b])
    return indptr, indices, distances


def query_radius(
    tree: KDTree, Q: np.ndarray, r: float, p: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All rows within distance ``r`` (inclusive) of each row of ``Q``, as CSR arrays.

    Callable from Python only (it runs the kernel's twin for ``p``, as :func:`query_knn`).

    Parameters
    ----------
    tree : KDTree
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
    return choose(_QUERY_RADIUS, p, Q.size)(tree, Q, r, p)


# every metric x (parallel, serial), each compiled on first use (bound below as _query_knn_*)
_QUERY_KNN = metric_twins(_query_knn)
_QUERY_RADIUS_COUNT = metric_twins(_query_radius_count)
_QUERY_RADIUS = metric_twins(_query_radius)
