"""Agglomerative linkage: nearest-neighbour chains, the generic algorithm, and scipy's layout.

The algorithms are Müllner's ("Modern hierarchical, agglomerative clustering algorithms",
2011; fastcluster, JSS 2013), with scipy's tie rules:

- :func:`nn_chain_ward` -- Ward's method on the observation vectors by nearest-neighbour
  chains, O(n d) memory: clusters are kept as centroids and sizes and the Ward distance
  ``sqrt(2 |A| |B| / (|A| + |B|)) * ||c_A - c_B||`` is computed when needed; each search walks
  a kd-tree of the centroids or scans them, whichever has been cheaper.
- :func:`generic_centroid` -- centroid and median (WPGMC) linkage on the vectors by the generic
  algorithm (a priority queue of nearest-neighbour candidates, each a lower bound checked before
  it is used), O(n d) memory; these methods are not reducible, so chains do not apply and the
  heights may decrease.
- :func:`nn_chain_condensed` -- complete, average and weighted (WPGMA) linkage by
  nearest-neighbour chains with the Lance-Williams updates on a condensed distance matrix
  (float32 or float64), which :func:`condensed_distances` fills in parallel; each slot's
  nearest neighbours are cached (so a chain step rarely scans) and the reads down a column of
  the matrix, one cache miss each, are prefetched.
- :func:`label_merges` sorts the merges of a chain (or the edges of a minimum spanning tree:
  single linkage) by height and numbers the clusters as scipy does; :func:`cut_labels` labels
  a cut; :func:`linkage_predict` labels new points by a linkage distance.

Slots
-----
The algorithms work on *slots*: slot ``i`` starts as point ``i``; merging the clusters of slots
``x < y`` keeps the new cluster in slot ``y`` and retires slot ``x`` (fastcluster's and scipy's
convention), so slot ``y`` always holds point ``y``. A chain's merge is recorded as the pair of
slots; :func:`label_merges` turns slots into scipy's cluster ids.

Ties are scipy's: a chain starts from the smallest active slot and prefers the previous element
of the chain, otherwise the earliest slot among equal distances; the generic algorithm's queue
compares keys as scipy's does. With the same distances the merges are therefore scipy's (the
condensed linkages compute scipy's numbers exactly; ward, centroid and median compute them from
the centroids, which can round a tie away, or into one, where scipy's Lance-Williams
arithmetic does not). The chains and queues are sequential; only the distance matrix is filled
in parallel.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from clusterlab._config import CACHE
from clusterlab.kernels.kdtree import build_kdtree

__all__ = [
    "AVERAGE",
    "CENTROID",
    "COMPLETE",
    "MEDIAN",
    "WEIGHTED",
    "condensed_distances",
    "cut_labels",
    "distances_to",
    "generic_centroid",
    "label_merges",
    "linkage_predict",
    "nn_chain_condensed",
    "nn_chain_ward",
]

#: method codes of :func:`nn_chain_condensed` and :func:`generic_centroid`
COMPLETE, AVERAGE, WEIGHTED, CENTROID, MEDIAN = 0, 1, 2, 3, 4
#: metric code of :func:`condensed_distances` for cosine distance on unit rows
COSINE_METRIC = -1.0
#: modes of :func:`linkage_predict`
PREDICT_MIN, PREDICT_MAX, PREDICT_MEAN = 0, 1, 2

# candidates per block of a vectorised scan
_CHUNK = 1024
# slots ahead whose condensed-matrix entries a strided loop prefetches (measured on the updates
# of 20,000 points: 8 to 32 within 20% of each other, 12 to 16 best)
_AHEAD = 16


@intrinsic
def _prefetch(typingctx, arr, index):
    """Hint the cache to load ``arr[index]`` for writing (LLVM's ``prefetch``; no effect on
    results). The chains' strided reads down a column of the condensed matrix each miss the
    cache, and the hardware prefetcher cannot follow their shrinking stride: loaded ahead, the
    misses overlap (1.8x on the Lance-Williams updates of 20,000 points)."""

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        array = context.make_array(array_type)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(
            context, builder, array_type, array, [args[1]], wraparound=False
        )
        byte_ptr = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32])
        fn = builder.module.declare_intrinsic("llvm.prefetch", [byte_ptr], fnty)
        # write access, keep in all cache levels, data cache
        builder.call(fn, [builder.bitcast(ptr, byte_ptr), i32(1), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(arr, index), codegen


# --------------------------------------------------------------------------------------------
# Ward by nearest-neighbour chains on the vectors
# --------------------------------------------------------------------------------------------
# The clusters live at *positions* of a kd-tree built over their centroids; the tree is rebuilt
# over the active clusters whenever their number falls by a quarter, which also compacts the
# arrays. State:
#   cent = (CT, S, slot_of): centroids transposed (d, positions), sizes (0: retired) and the
#          slot at each position (pos_of, the position of each slot, is kept beside);
#   tree = (start, end, left, right, leaf_of, parent) and boxes = (lower, upper),
#          stats = (count, smallest): per node the box of its active centroids, their number
#          and their smallest size (refreshed along two root paths per merge).


@njit(cache=CACHE, inline="always")
def _sq_dists_raw(CT, lo, hi, x, out):
    """Squared distances from slot ``x`` to slots ``lo..hi-1`` of the transposed centroids
    ``CT`` (features x slots), written to and returned as ``out[:hi-lo]``; the loops run over
    slots so that they vectorise."""
    acc = out[: hi - lo]
    acc[:] = 0.0
    for f in range(CT.shape[0]):
        cf = CT[f, x]
        row = CT[f, lo:hi]
        for j in range(hi - lo):
            t = row[j] - cf
            acc[j] += t * t
    return acc


@njit(cache=CACHE, inline="always")
def _ward_scan(CT, S, slot_of, lo, hi, px, best, best_slot, buf):  # noqa: PLR0917
    """Improve (best, best_slot) by the positions ``lo..hi-1``: half squared Ward distances from
    position ``px``, smaller distance first, then smaller slot (a ``best_slot`` of -1 is a bound
    that equal distances do not beat). ``buf`` is scratch of at least ``hi - lo`` float64; the
    loops run over positions so that they vectorise."""
    m = hi - lo
    acc = _sq_dists_raw(CT, lo, hi, px, buf)
    sx = S[px]
    sizes = S[lo:hi]
    low = np.inf
    for j in range(m):
        w = sizes[j]
        acc[j] = acc[j] * (sx * w / (sx + w)) if w > 0.0 else np.inf
        low = min(low, acc[j])
    if lo <= px < hi:
        acc[px - lo] = np.inf
        low = np.inf
        for j in range(m):
            low = min(low, acc[j])
    if low > best or low == np.inf:
        return best, best_slot
    for j in range(m):
        if acc[j] == low:
            slot = slot_of[lo + j]
            if low < best or (best_slot >= 0 and slot < best_slot):
                best = low
                best_slot = slot
    return best, best_slot


@njit(cache=CACHE)
def _refresh_node(node, cent, tree, boxes, stats):
    """Recompute a node's box, active count and smallest size from its positions or children."""
    CT, S = cent[0], cent[1]
    start, end, left, right = tree[0], tree[1], tree[2], tree[3]
    lower, upper = boxes
    count, smallest = stats
    d = CT.shape[0]
    if left[node] < 0:
        c = 0
        s_min = np.inf
        for f in range(d):
            lower[node, f] = np.inf
            upper[node, f] = -np.inf
        for t in range(start[node], end[node]):
            if S[t] == 0.0:
                continue
            c += 1
            s_min = min(s_min, S[t])
            for f in range(d):
                lower[node, f] = min(lower[node, f], CT[f, t])
                upper[node, f] = max(upper[node, f], CT[f, t])
        count[node] = c
        smallest[node] = s_min
        return
    a = left[node]
    b = right[node]
    count[node] = count[a] + count[b]
    smallest[node] = min(smallest[a], smallest[b])
    for f in range(d):
        lower[node, f] = min(lower[a, f], lower[b, f])
        upper[node, f] = max(upper[a, f], upper[b, f])


@njit(cache=CACHE)
def _refresh_path(t, cent, tree, boxes, stats):
    leaf_of, parent = tree[4], tree[5]
    node = leaf_of[t]
    while node >= 0:
        _refresh_node(node, cent, tree, boxes, stats)
        node = parent[node]


@njit(cache=CACHE, inline="always")
def _ward_bound(CT, px, sx, node, boxes, smallest):  # noqa: PLR0917
    """Lower bound on the half squared Ward distance from position ``px`` to a node's clusters:
    the Ward factor grows with the size, so the node's smallest size bounds it from below."""
    lower, upper = boxes
    acc = 0.0
    for f in range(CT.shape[0]):
        v = CT[f, px]
        gap = max(lower[node, f] - v, v - upper[node, f])
        if gap > 0.0:
            acc += gap * gap
    s = smallest[node]
    # slack: the bound must never exceed a computed distance by rounding
    return acc * (sx * s / (sx + s)) * (1.0 - 1e-12)


@njit(cache=CACHE)
def _ward_tree_search(px, best, best_slot, cent, tree, boxes, stats, work):  # noqa: PLR0917
    """Nearest cluster to position ``px`` by walking the tree; returns (best, slot, cost)."""
    CT, S, slot_of = cent[0], cent[1], cent[2]
    start, end, left, right = tree[0], tree[1], tree[2], tree[3]
    count, smallest = stats
    stack, stack_b, buf = work
    sx = S[px]
    cost = 0
    stack[0] = 0
    stack_b[0] = 0.0
    sp = 1
    while sp > 0:
        sp -= 1
        node = stack[sp]
        if stack_b[sp] > best:
            continue
        cost += 1
        if left[node] < 0:
            lo = start[node]
            hi = end[node]
            cost += hi - lo
            best, best_slot = _ward_scan(CT, S, slot_of, lo, hi, px, best, best_slot, buf)
            continue
        a = left[node]
        b = right[node]
        ba = _ward_bound(CT, px, sx, a, boxes, smallest) if count[a] > 0 else np.inf
        bb = _ward_bound(CT, px, sx, b, boxes, smallest) if count[b] > 0 else np.inf
        if ba > bb:
            a, b = b, a
            ba, bb = bb, ba
        if bb <= best:
            stack[sp] = b
            stack_b[sp] = bb
            sp += 1
        if ba <= best:
            stack[sp] = a
            stack_b[sp] = ba
            sp += 1
    return best, best_slot, cost


@njit(cache=CACHE)
def _ward_scan_all(px, best, best_slot, n_pos, cent, buf):  # noqa: PLR0917
    CT, S, slot_of = cent[0], cent[1], cent[2]
    for lo in range(0, n_pos, _CHUNK):
        best, best_slot = _ward_scan(
            CT, S, slot_of, lo, min(n_pos, lo + _CHUNK), px, best, best_slot, buf
        )
    return best, best_slot


@njit(cache=CACHE)
def _ward_layout(CT, S, slot_of, n_pos, leaf_size):
    """Gather the active clusters, build a kd-tree over their centroids and lay them out in
    its order; returns (cent, tree, boxes, stats) for the new layout."""
    d = CT.shape[0]
    n_act = 0
    for t in range(n_pos):
        if S[t] > 0.0:
            n_act += 1
    points = np.empty((n_act, d))
    sizes = np.empty(n_act)
    slots = np.empty(n_act, dtype=np.int64)
    i = 0
    for t in range(n_pos):
        if S[t] > 0.0:
            for f in range(d):
                points[i, f] = CT[f, t]
            sizes[i] = S[t]
            slots[i] = slot_of[t]
            i += 1
    kd = build_kdtree(points, leaf_size)
    order = kd[1]
    start, end, left, right = kd[2], kd[3], kd[4], kd[5]
    new_CT = np.empty((d, n_act))
    new_S = np.empty(n_act)
    new_slot = np.empty(n_act, dtype=np.int64)
    for t in range(n_act):
        j = order[t]
        for f in range(d):
            new_CT[f, t] = points[j, f]
        new_S[t] = sizes[j]
        new_slot[t] = slots[j]
    n_nodes = start.shape[0]
    leaf_of = np.empty(n_act, dtype=np.int64)
    parent = np.full(n_nodes, -1, dtype=np.int64)
    tree = (start, end, left, right, leaf_of, parent)
    boxes = (np.empty((n_nodes, d)), np.empty((n_nodes, d)))
    stats = (np.zeros(n_nodes, dtype=np.int64), np.empty(n_nodes))
    cent = (new_CT, new_S, new_slot)
    for node in range(n_nodes - 1, -1, -1):
        if left[node] < 0:
            for t in range(start[node], end[node]):
                leaf_of[t] = node
        else:
            parent[left[node]] = node
            parent[right[node]] = node
        _refresh_node(node, cent, tree, boxes, stats)
    return cent, tree, boxes, stats


@njit(cache=CACHE)
def nn_chain_ward(X, leaf_size):
    """Ward linkage of the rows of ``X`` by nearest-neighbour chains, in O(n d) memory.

    Clusters are kept as centroids and sizes; the Ward distance ``sqrt(2 |A| |B| / (|A| + |B|))
    * ||c_A - c_B||`` is computed when needed. Each nearest-neighbour search either walks a
    kd-tree of the centroids, skipping a node when ``s_x s_min / (s_x + s_min) * mindist^2``
    already exceeds the best distance found (the Ward factor grows with the size, so the node's
    smallest size gives a lower bound), or scans every cluster; it walks the tree while the walk
    has recently cost less than half a scan (tried again every 32 searches otherwise), so
    clustered or low-dimensional data gets the tree and diffuse high-dimensional data the scan.
    Both are exact with the same ties, so the result does not depend on the choice. The tree is
    rebuilt over the active clusters whenever their number falls by a quarter.

    Parameters
    ----------
    X : float32 or float64 (n, d), n >= 2
        Read only; centroids are kept in float64.
    leaf_size : int
        Clusters per kd-tree leaf.

    Returns
    -------
    x, y : int64 (n - 1,)
        Merged slots, ``x < y``, in the order the chains merged them (not sorted by height).
    height : float64 (n - 1,)
        Ward merge heights (scipy's: the euclidean distance for two points).
    """
    n, d = X.shape
    CT0 = np.empty((d, n))
    for i in range(n):
        for f in range(d):
            CT0[f, i] = X[i, f]
    cent, tree, boxes, stats = _ward_layout(
        CT0, np.ones(n), np.arange(n, dtype=np.int64), n, leaf_size
    )
    n_pos = n
    pos_of = np.empty(n, dtype=np.int64)
    for t in range(n):
        pos_of[cent[2][t]] = t
    work = (np.empty(2 * n + 1, dtype=np.int64), np.empty(2 * n + 1), np.empty(_CHUNK))
    chain = np.empty(n, dtype=np.int64)
    length = 0
    first = 0
    tree_cost = 0.0  # moving average of a tree walk's cost, in positions
    since_try = 0
    xs = np.empty(n - 1, dtype=np.int64)
    ys = np.empty(n - 1, dtype=np.int64)
    height = np.empty(n - 1, dtype=np.float64)
    for k in range(n - 1):
        CT, S = cent[0], cent[1]
        if length == 0:
            while pos_of[first] < 0:
                first += 1
            chain[0] = first
            length = 1
        while True:
            x = chain[length - 1]
            px = pos_of[x]
            y = -1
            current = np.inf
            if length > 1:
                y = chain[length - 2]
                py = pos_of[y]
                acc = 0.0
                for f in range(d):
                    diff = CT[f, py] - CT[f, px]
                    acc += diff * diff
                current = acc * (S[px] * S[py] / (S[px] + S[py]))
            if tree_cost < 0.5 * n_pos or since_try >= 32:
                best, slot, cost = _ward_tree_search(
                    px, current, -1, cent, tree, boxes, stats, work
                )
                tree_cost = 0.75 * tree_cost + 0.25 * cost
                since_try = 0
            else:
                best, slot = _ward_scan_all(px, current, -1, n_pos, cent, work[2])
                since_try += 1
            if slot >= 0:
                current = best
                y = slot
            if length > 1 and y == chain[length - 2]:
                break
            chain[length] = y
            length += 1
        length -= 2
        x, y = min(x, y), max(x, y)
        px = pos_of[x]
        py = pos_of[y]
        sx = S[px]
        sy = S[py]
        for f in range(d):
            CT[f, py] = (sx * CT[f, px] + sy * CT[f, py]) / (sx + sy)
        S[py] = sx + sy
        S[px] = 0.0
        pos_of[x] = -1
        xs[k] = x
        ys[k] = y
        height[k] = np.sqrt(2.0 * current)
        n_act = n - 1 - k
        if 4 * n_act <= 3 * n_pos and n_act >= 2:
            cent, tree, boxes, stats = _ward_layout(CT, S, cent[2], n_pos, leaf_size)
            n_pos = n_act
            for t in range(n_pos):
                pos_of[cent[2][t]] = t
        else:
            _refresh_path(px, cent, tree, boxes, stats)
            _refresh_path(py, cent, tree, boxes, stats)
    return xs, ys, height


# --------------------------------------------------------------------------------------------
# centroid and median by the generic algorithm on the vectors
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE, inline="always")
def _sq_dists_to(CT, S, lo, hi, x, out):  # noqa: PLR0917
    """Squared distances from slot ``x`` to slots ``lo..hi-1`` into ``out[:hi-lo]``; retired
    slots (size 0) get ``inf``."""
    m = hi - lo
    acc = _sq_dists_raw(CT, lo, hi, x, out)
    sizes = S[lo:hi]
    for j in range(m):
        if sizes[j] == 0.0:
            acc[j] = np.inf


@njit(cache=CACHE, inline="always")
def _argmin_range(CT, S, lo, hi, x, buf):  # noqa: PLR0917
    """(smallest squared distance, slot) from slot ``x`` over active slots ``lo..hi-1``."""
    best = np.inf
    best_slot = -1
    for start in range(lo, hi, _CHUNK):
        stop = min(hi, start + _CHUNK)
        _sq_dists_to(CT, S, start, stop, x, buf)
        for j in range(stop - start):
            if buf[j] < best:
                best = buf[j]
                best_slot = start + j
    return best, best_slot


@njit(cache=CACHE)
def _nearest_above(CT, S, x, buf):
    """Nearest active slot above ``x`` (smallest slot among ties) and its squared distance."""
    return _argmin_range(CT, S, x + 1, S.shape[0], x, buf)


# A binary min-heap of slots by key with scipy's rules (strict comparisons on the keys alone,
# the right child only when strictly smaller), so that equal keys leave it in scipy's order.
@njit(cache=CACHE, inline="always")
def _heap_swap(heap, where, i, j):
    heap[i], heap[j] = heap[j], heap[i]
    where[heap[i]] = i
    where[heap[j]] = j


@njit(cache=CACHE)
def _heap_down(heap, where, key, size, pos):
    child = 2 * pos + 1
    while child < size:
        if child + 1 < size and key[heap[child + 1]] < key[heap[child]]:
            child += 1
        if key[heap[pos]] > key[heap[child]]:
            _heap_swap(heap, where, pos, child)
            pos = child
            child = 2 * pos + 1
        else:
            break


@njit(cache=CACHE)
def _heap_set(heap, where, key, size, item, value):  # noqa: PLR0917
    """Change the key of ``item`` and restore the heap."""
    old = key[item]
    key[item] = value
    pos = where[item]
    if value < old:
        while pos > 0 and key[heap[(pos - 1) >> 1]] > key[heap[pos]]:
            _heap_swap(heap, where, pos, (pos - 1) >> 1)
            pos = (pos - 1) >> 1
    else:
        _heap_down(heap, where, key, size, pos)


@njit(cache=CACHE)
def generic_centroid(X, method):
    """Centroid or median (WPGMC) linkage of the rows of ``X`` by the generic algorithm.

    Every active slot ``x`` keeps a candidate nearest neighbour among the slots above it and a
    lower bound on that distance, in a priority queue; the smallest bound is checked against
    the current distance before its pair is merged, and recomputed when stale (Müllner 2011,
    section 3.1). Distances come from the cluster representatives (centroids, or for median the
    midpoints of the merged representatives), O(n d) memory.

    Parameters
    ----------
    X : float32 or float64 (n, d), n >= 2
    method : int
        ``CENTROID`` or ``MEDIAN``.

    Returns
    -------
    Z : float64 (n - 1, 4)
        scipy's layout in merge order (heights may decrease: these methods have inversions).
    """
    n, d = X.shape
    CT = np.empty((d, n), dtype=np.float64)
    for i in range(n):
        for f in range(d):
            CT[f, i] = X[i, f]
    S = np.ones(n, dtype=np.float64)
    cluster_id = np.arange(n, dtype=np.int64)
    buf = np.empty(_CHUNK)
    below = np.empty(n)
    neighbor = np.empty(n - 1, dtype=np.int64)
    key = np.empty(n - 1)
    for x in range(n - 1):
        key[x], neighbor[x] = _nearest_above(CT, S, x, buf)
    heap = np.arange(n - 1, dtype=np.int64)
    where = np.arange(n - 1, dtype=np.int64)
    size = n - 1
    for pos in range(size // 2 - 1, -1, -1):
        _heap_down(heap, where, key, size, pos)
    Z = np.empty((n - 1, 4), dtype=np.float64)
    for k in range(n - 1):
        while True:
            x = heap[0]
            y = neighbor[x]
            if S[y] > 0.0:
                acc = 0.0
                for f in range(d):
                    t = CT[f, y] - CT[f, x]
                    acc += t * t
                if acc == key[x]:
                    break
            dist, neighbor[x] = _nearest_above(CT, S, x, buf)
            _heap_set(heap, where, key, size, x, dist)
        dist = key[x]
        # remove x from the queue
        _heap_swap(heap, where, 0, size - 1)
        size -= 1
        _heap_down(heap, where, key, size, 0)
        sx = S[x]
        sy = S[y]
        Z[k, 0] = min(cluster_id[x], cluster_id[y])
        Z[k, 1] = max(cluster_id[x], cluster_id[y])
        Z[k, 2] = np.sqrt(dist)
        Z[k, 3] = sx + sy
        if method == MEDIAN:
            for f in range(d):
                CT[f, y] = 0.5 * (CT[f, x] + CT[f, y])
        else:
            for f in range(d):
                CT[f, y] = (sx * CT[f, x] + sy * CT[f, y]) / (sx + sy)
        S[x] = 0.0
        S[y] = sx + sy
        cluster_id[y] = n + k
        # candidates that pointed at x now point at y (a guess, checked when used)
        for z in range(x):
            if S[z] > 0.0 and neighbor[z] == x:
                neighbor[z] = y
        # the new cluster may be nearer than the bounds of the slots below it
        _sq_dists_to(CT, S, 0, y, y, below)
        for z in range(y):
            if below[z] < key[z]:
                neighbor[z] = y
                _heap_set(heap, where, key, size, z, below[z])
        if y < n - 1:
            dist, neighbor[y] = _nearest_above(CT, S, y, buf)
            _heap_set(heap, where, key, size, y, dist)
    return Z


# --------------------------------------------------------------------------------------------
# complete, average and weighted linkage on a condensed distance matrix
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE, inline="always")
def _cidx(n, i, j):
    """Index of the pair ``i < j`` in a condensed matrix of ``n`` points."""
    return n * i - (i * (i + 1)) // 2 + (j - i - 1)


@njit(cache=CACHE, inline="always")
def distances_to(XT, x, lo, hi, metric, out):  # noqa: PLR0917
    """Distances from the point ``x`` to the columns ``lo..hi-1`` of ``XT``, into ``out[:hi-lo]``.

    Parameters
    ----------
    XT : float32 or float64 (d, m)
        Points as columns (transposed), so that the loops run across points and vectorise while
        each distance is still summed over the coordinates in order, in float64, exactly as
        ``kdtree.rdist`` sums it (the same inputs give the same number on every path).
    x : float64 (d,)
    lo, hi : int
    metric : float
        Minkowski exponent, or ``COSINE_METRIC`` (unit columns and ``x``: ``1 - <x, y>``, at
        least 0).
    out : float64 (>= hi - lo,)
        Written.
    """
    m = hi - lo
    acc = out[:m]
    acc[:] = 0.0
    for f in range(XT.shape[0]):
        xf = x[f]
        row = XT[f, lo:hi]
        if metric == 2.0:
            for j in range(m):
                t = np.float64(row[j]) - xf
                acc[j] += t * t
        elif metric == 1.0:
            for j in range(m):
                acc[j] += abs(np.float64(row[j]) - xf)
        elif metric == np.inf:
            for j in range(m):
                acc[j] = max(acc[j], abs(np.float64(row[j]) - xf))
        elif metric == COSINE_METRIC:
            for j in range(m):
                acc[j] += np.float64(row[j]) * xf
        else:
            for j in range(m):
                acc[j] += abs(np.float64(row[j]) - xf) ** metric
    if metric == 2.0:
        for j in range(m):
            acc[j] = np.sqrt(acc[j])
    elif metric == COSINE_METRIC:
        for j in range(m):
            acc[j] = max(0.0, 1.0 - acc[j])
    elif metric not in (1.0, np.inf):
        for j in range(m):
            acc[j] = acc[j] ** (1.0 / metric)


@njit(cache=CACHE, parallel=True)
def condensed_distances(XT, metric, out):
    """Fill the condensed distance matrix of the points, in parallel over rows.

    Parameters
    ----------
    XT : float (d, n)
        Points as columns (see :func:`distances_to`).
    metric : float
    out : float32 or float64 (n (n - 1) / 2,)
        Written: the distance of ``i < j`` at ``n i - i (i + 1) / 2 + j - i - 1`` (scipy's
        ``pdist`` order), rounded to ``out``'s dtype.
    """
    n_rows = XT.shape[1] - 1
    # rows r and n - 2 - r together hold n - 1 pairs: equal work per iteration
    for r in prange((n_rows + 1) // 2):
        buf = np.empty(_CHUNK)
        x = np.empty(XT.shape[0])
        _fill_row(XT, r, metric, out, x, buf)
        other = n_rows - 1 - r
        if other != r:
            _fill_row(XT, other, metric, out, x, buf)


@njit(cache=CACHE, inline="always")
def _fill_row(XT, i, metric, out, x, buf):  # noqa: PLR0917
    n = XT.shape[1]
    for f in range(XT.shape[0]):
        x[f] = XT[f, i]
    base = _cidx(n, i, i + 1) - i - 1
    for lo in range(i + 1, n, _CHUNK):
        hi = min(n, lo + _CHUNK)
        distances_to(XT, x, lo, hi, metric, buf)
        for j in range(hi - lo):
            out[base + lo + j] = buf[j]


# The chains read a slot's nearest neighbour from a cache instead of scanning for it: per
# active slot the nearest among the slots above it (along its row of the condensed matrix) and
# among those below it (down its column, one cache line per entry), each kept exact through the
# Lance-Williams updates, or marked stale when its slot merged away: a stale side keeps a lower
# bound on its distances and is rescanned only when that bound does not settle the answer.
_STALE = -2  # a cached nearest slot to rescan (its distance: a lower bound); -1: no slot


@njit(cache=CACHE)
def _row_nearest(D, n, x, active, lo, hi):  # noqa: PLR0917
    """Nearest of the active slots ``active[lo:hi]`` (all above ``x``) along row ``x``:
    (distance, slot), the earliest slot among equal distances, slot -1 when none is finite."""
    best = np.inf
    best_i = -1
    base = _cidx(n, x, x + 1) - x - 1
    for q in range(lo, hi):
        i = active[q]
        v = np.float64(D[base + i])
        if v < best:
            best = v
            best_i = i
    return best, best_i


@njit(cache=CACHE)
def _column_nearest(D, n, x, active, hi):
    """Nearest of the active slots ``active[:hi]`` (all below ``x``) down column ``x``, as
    :func:`_row_nearest`."""
    best = np.inf
    best_i = -1
    for q in range(hi):
        if q + _AHEAD < hi:
            _prefetch(D, _cidx(n, active[q + _AHEAD], x))
        i = active[q]
        v = np.float64(D[_cidx(n, i, x)])
        if v < best:
            best = v
            best_i = i
    return best, best_i


# column blocks of the first nearest-neighbour pass (work units for the threads)
_INIT_BLOCKS = 64


@njit(cache=CACHE, parallel=True)
def _nearest_init(D, n):
    """Every slot's nearest slot above it (along its row) and below it (down its column), as
    :func:`_row_nearest` and :func:`_column_nearest` would scan them, in one parallel pass.

    The pass runs over blocks of columns holding equal numbers of pairs, reading each row's
    part of a block contiguously: a block owns its columns' minima and keeps per row the
    minimum of its part, which the blocks' order then combines (earlier columns win ties).
    """
    n_blocks = min(n, _INIT_BLOCKS)
    # column j holds j pairs: a block of equal pairs spans sqrt-spaced columns
    bounds = np.empty(n_blocks + 1, dtype=np.int64)
    for b in range(n_blocks + 1):
        bounds[b] = round(n * np.sqrt(b / n_blocks))
    bounds[n_blocks] = n
    part_d = np.full((n_blocks, n), np.inf)
    part_i = np.full((n_blocks, n), -1, dtype=np.int64)
    col_d = np.full(n, np.inf)
    col_i = np.full(n, -1, dtype=np.int64)
    for b in prange(n_blocks):
        j0 = bounds[b]
        j1 = bounds[b + 1]
        for i in range(j1 - 1):
            base = _cidx(n, i, i + 1) - i - 1
            best = np.inf
            best_j = -1
            for j in range(max(i + 1, j0), j1):
                v = np.float64(D[base + j])
                if v < best:
                    best = v
                    best_j = j
                if v < col_d[j]:
                    col_d[j] = v
                    col_i[j] = i
            part_d[b, i] = best
            part_i[b, i] = best_j
    row_d = np.full(n, np.inf)
    row_i = np.full(n, -1, dtype=np.int64)
    for i in prange(n):
        for b in range(n_blocks):
            if part_d[b, i] < row_d[i]:
                row_d[i] = part_d[b, i]
                row_i[i] = part_i[b, i]
    return row_d, row_i, col_d, col_i


@njit(cache=CACHE)
def _chain_nearest(D, n, x, prev, active, n_act, cache):  # noqa: PLR0917
    """Nearest active slot to ``x`` as scipy's scan finds it: (distance, slot), ``prev`` (the
    previous element of the chain, -1 for none) among equal distances, otherwise the earliest
    slot. Read from the cache; a stale side is rescanned only when its lower bound does not
    exceed the distance found elsewhere."""
    row_d, row_i, col_d, col_i = cache
    d_prev = np.inf
    if prev >= 0:
        d_prev = np.float64(D[_cidx(n, min(x, prev), max(x, prev))])
        if d_prev <= row_d[x] and d_prev <= col_d[x]:
            return d_prev, prev  # nothing can be nearer, and prev wins ties
    row_stale = row_i[x] == _STALE
    col_stale = col_i[x] == _STALE
    if row_stale or col_stale:
        q = np.searchsorted(active[:n_act], x)
        if row_stale and row_d[x] <= col_d[x]:
            row_d[x], row_i[x] = _row_nearest(D, n, x, active, q + 1, n_act)
            row_stale = False
        if col_stale and col_d[x] <= row_d[x]:
            col_d[x], col_i[x] = _column_nearest(D, n, x, active, q)
        if row_stale and row_d[x] <= col_d[x]:
            row_d[x], row_i[x] = _row_nearest(D, n, x, active, q + 1, n_act)
    # a side still stale has its bound strictly above the other side's minimum
    best, best_i = row_d[x], row_i[x]
    if col_i[x] >= 0 and col_d[x] <= row_d[x]:
        best, best_i = col_d[x], col_i[x]
    if d_prev <= best:
        return d_prev, prev
    return best, best_i


@njit(cache=CACHE, inline="always")
def _cache_changed(dist, slot, s, y, old, new):  # noqa: PLR0917
    """Keep slot ``s``'s cached nearest (``dist[s]``, ``slot[s]``) on one side exact, or its
    bound a bound, after its distance to ``y`` on that side changed from ``old`` to ``new``."""
    a = slot[s]
    if a == _STALE:
        dist[s] = min(dist[s], new)
    elif a == y:
        if new <= old:
            dist[s] = new  # smaller than before: still the (earliest) nearest
        else:
            slot[s] = _STALE  # the old distance bounds the others and the new one
    elif new < dist[s] or (new == dist[s] and y < a):
        dist[s] = new
        slot[s] = y


@njit(cache=CACHE)
def _lance_williams(D, n, x, y, sizes, method, active, n_act, cache):  # noqa: PLR0917
    """Distances of the cluster merged into slot ``y`` (from slots ``x < y``) to every other
    active slot, written in place of its distances from ``y`` (scipy's formulas, in float64),
    and the cache kept exact: ``y``'s own nearest on both sides is recomputed on the way,
    another slot's is updated by its new distance to ``y`` or marked stale when it was ``x``
    (retired) or ``y`` moved away."""
    row_d, row_i, col_d, col_i = cache
    nx = sizes[x]
    ny = sizes[y]
    below_d, below_i = np.inf, -1
    above_d, above_i = np.inf, -1
    for q in range(n_act):
        if q + _AHEAD < n_act:
            ahead = active[q + _AHEAD]
            if ahead < y:  # the entries down columns x and y
                _prefetch(D, _cidx(n, ahead, y))
                if ahead < x:
                    _prefetch(D, _cidx(n, ahead, x))
        i = active[q]
        if i in (x, y):
            continue
        ix = _cidx(n, i, x) if i < x else _cidx(n, x, i)
        iy = _cidx(n, i, y) if i < y else _cidx(n, y, i)
        dx = np.float64(D[ix])
        dy = np.float64(D[iy])
        if method == COMPLETE:
            D[iy] = max(dx, dy)
        elif method == AVERAGE:
            D[iy] = (nx * dx + ny * dy) / (nx + ny)
        else:
            D[iy] = 0.5 * (dx + dy)
        new = np.float64(D[iy])  # as stored (rounded to D's dtype)
        if i < y:
            if new < below_d:
                below_d, below_i = new, i
            if row_i[i] == x:
                row_i[i] = _STALE  # the rest of the row, and the new distance, are no nearer
                row_d[i] = min(row_d[i], new)
            else:
                _cache_changed(row_d, row_i, i, y, dy, new)
            if i > x and col_i[i] == x:
                col_i[i] = _STALE
        else:
            if new < above_d:
                above_d, above_i = new, i
            if col_i[i] == x:
                col_i[i] = _STALE
                col_d[i] = min(col_d[i], new)
            else:
                _cache_changed(col_d, col_i, i, y, dy, new)
    row_d[y], row_i[y] = above_d, above_i
    col_d[y], col_i[y] = below_d, below_i


@njit(cache=CACHE)
def nn_chain_condensed(D, n, method):
    """Complete, average or weighted linkage of a condensed matrix by nearest-neighbour chains.

    scipy's algorithm and ties (the same merges, the same heights in float64): a chain grows
    from the smallest active slot, each step to the nearest cluster of its last element,
    preferring the previous element of the chain and otherwise the earliest slot among equal
    distances, until two clusters are each other's nearest; they merge by the Lance-Williams
    update. Only the active slots are visited, through a sorted array of them. Each slot's
    nearest neighbours above and below it are cached and kept exact through the updates; a
    side whose nearest slot merged away keeps a lower bound and is rescanned only when that
    bound cannot settle the step (see :func:`_chain_nearest`).

    Parameters
    ----------
    D : float32 or float64 (n (n - 1) / 2,)
        Condensed distances (scipy's ``pdist`` order); overwritten (updates computed in float64
        and stored in ``D``'s dtype).
    n : int
        Number of points, >= 2.
    method : int
        ``COMPLETE``, ``AVERAGE`` or ``WEIGHTED``.

    Returns
    -------
    x, y, height
        As :func:`nn_chain_ward`.
    """
    sizes = np.ones(n, dtype=np.int64)
    active = np.arange(n, dtype=np.int64)
    n_act = n
    cache = _nearest_init(D, n)
    chain = np.empty(n, dtype=np.int64)
    length = 0
    xs = np.empty(n - 1, dtype=np.int64)
    ys = np.empty(n - 1, dtype=np.int64)
    height = np.empty(n - 1, dtype=np.float64)
    for k in range(n - 1):
        if length == 0:
            chain[0] = active[0]
            length = 1
        while True:
            x = chain[length - 1]
            prev = chain[length - 2] if length > 1 else -1
            current, y = _chain_nearest(D, n, x, prev, active, n_act, cache)
            if y == prev:
                break
            chain[length] = y
            length += 1
        length -= 2
        x, y = min(x, y), max(x, y)
        xs[k] = x
        ys[k] = y
        height[k] = current
        _lance_williams(D, n, x, y, sizes, method, active, n_act, cache)
        sizes[y] += sizes[x]
        sizes[x] = 0
        # retire slot x from the sorted active slots
        q = np.searchsorted(active[:n_act], x)
        active[q : n_act - 1] = active[q + 1 : n_act]
        n_act -= 1
    return xs, ys, height


# --------------------------------------------------------------------------------------------
# scipy's layout
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE, inline="always")
def _find(parent, x):
    root = x
    while parent[root] != root:
        root = parent[root]
    while parent[x] != root:
        parent[x], x = root, parent[x]
    return root


@njit(cache=CACHE)
def label_merges(x, y, height):
    """scipy's linkage matrix from merges of points (or slots), sorted stably by height.

    Parameters
    ----------
    x, y : int64 (n - 1,)
        A point of each of the two merged clusters (slots of a chain, or the end points of a
        spanning-tree edge).
    height : float64 (n - 1,)
        Merge heights; equal heights keep their order.

    Returns
    -------
    Z : float64 (n - 1, 4)
        ``Z[i] = (smaller cluster id, larger cluster id, height, size)``; merge ``i`` creates
        cluster ``n + i``, as ``scipy.cluster.hierarchy.linkage`` returns it.
    """
    n = x.shape[0] + 1
    order = np.argsort(height, kind="mergesort")
    parent = np.arange(2 * n - 1, dtype=np.int64)
    size = np.ones(2 * n - 1, dtype=np.int64)
    Z = np.empty((n - 1, 4), dtype=np.float64)
    for i in range(n - 1):
        e = order[i]
        rx = _find(parent, x[e])
        ry = _find(parent, y[e])
        if rx > ry:
            rx, ry = ry, rx
        new = n + i
        parent[rx] = new
        parent[ry] = new
        size[new] = size[rx] + size[ry]
        Z[i, 0] = rx
        Z[i, 1] = ry
        Z[i, 2] = height[e]
        Z[i, 3] = size[new]
    return Z


@njit(cache=CACHE)
def cut_labels(children, n_merges, top_label):
    """Label every point by the cluster it is in after the first ``n_merges`` merges.

    Parameters
    ----------
    children : int64 (n - 1, 2) or longer
        Merge ``i`` joins nodes ``children[i]`` into node ``n + i`` (points are ``0..n-1``).
    n_merges : int
        ``0 <= n_merges <= n - 1``.
    top_label : int64 (2 n - 1,)
        Label of each node that is a cluster after those merges (other entries are not read).

    Returns
    -------
    labels : int64 (n,)
    """
    n = top_label.shape[0] // 2 + 1
    parent = np.arange(n + n_merges, dtype=np.int64)
    for i in range(n_merges):
        parent[children[i, 0]] = n + i
        parent[children[i, 1]] = n + i
    labels = np.empty(n, dtype=np.int64)
    for p in range(n):
        labels[p] = top_label[_find(parent, p)]
    return labels


# --------------------------------------------------------------------------------------------
# new points
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE, parallel=True)
def linkage_predict(Q, XT, labels, weights, n_clusters, mode, metric):  # noqa: PLR0917
    """Cluster of each new point by the linkage between it and each cluster of the training
    points: the nearest member (``PREDICT_MIN``), the farthest member (``PREDICT_MAX``) or a
    weighted sum of the distances to the members (``PREDICT_MEAN``), smallest wins.

    Parameters
    ----------
    Q : float (m, d)
        New points.
    XT : float (d, n)
        Training points (or cluster representatives) as columns.
    labels : int64 (n,)
        Cluster of each training point, ``0..n_clusters-1``.
    weights : float64 (n,)
        Weight of each training point in ``PREDICT_MEAN`` (ignored otherwise).
    n_clusters : int
    mode : int
    metric : float
        As in :func:`distances_to`.

    Returns
    -------
    int64 (m,)
        Smallest label among equal linkage distances.
    """
    m = Q.shape[0]
    n = XT.shape[1]
    out = np.empty(m, dtype=np.int64)
    for q in prange(m):
        x = np.empty(Q.shape[1])
        for f in range(Q.shape[1]):
            x[f] = Q[q, f]
        buf = np.empty(_CHUNK)
        agg = np.full(n_clusters, 0.0)
        if mode == PREDICT_MIN:
            agg[:] = np.inf
        elif mode == PREDICT_MAX:
            agg[:] = -np.inf
        for lo in range(0, n, _CHUNK):
            hi = min(n, lo + _CHUNK)
            distances_to(XT, x, lo, hi, metric, buf)
            for j in range(hi - lo):
                c = labels[lo + j]
                if mode == PREDICT_MIN:
                    agg[c] = min(agg[c], buf[j])
                elif mode == PREDICT_MAX:
                    agg[c] = max(agg[c], buf[j])
                else:
                    agg[c] += weights[lo + j] * buf[j]
        best = 0
        for c in range(1, n_clusters):
            if agg[c] < agg[best]:
                best = c
        out[q] = best
    return out
