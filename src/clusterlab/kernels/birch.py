"""The BIRCH clustering-feature tree in flat arrays, with numerically stable features.

Features
--------
A subcluster is summarised by its clustering feature ``(n, mean, ssd)``: its number of points,
their mean and their sum of squared deviations from the mean (BETULA, Lang and Schubert 2022),
instead of BIRCH's ``(n, linear sum, sum of squares)``, whose radius ``SS / n - |LS / n|^2``
cancels catastrophically away from the origin. Two features merge exactly:
``n = n1 + n2``, ``mean = mean1 + (mean2 - mean1) n2 / n``,
``ssd = ssd1 + ssd2 + |mean2 - mean1|^2 n1 n2 / n``; the radius is ``sqrt(ssd / n)``.

Tree
----
``tree = (cf_n, cf_mean, cf_ssd, cf_child, slots, size, leaf, next_leaf, counters)``:

``cf_n``, ``cf_ssd`` : float64 arrays of shape (entry capacity,)
``cf_mean`` : float64 array of shape (entry capacity, d)
``cf_child`` : int64 array of shape (entry capacity,)
    The features of the entries; ``cf_child[e]`` is the node below entry ``e`` (-1 in a leaf).
``slots`` : int64 array of shape (node capacity, branching_factor + 1)
    ``slots[v, :size[v]]`` are the entries of node ``v``, in order.
``size`` : int64 array of shape (node capacity,)
``leaf`` : bool array of shape (node capacity,)
``next_leaf`` : int64 array of shape (node capacity,)
    The leaves form a list in scikit-learn's order (a split leaf is followed by its new half).
``counters`` : int64 array ``[n_entries, n_nodes, root, first_leaf]``

Insertion follows scikit-learn's Birch decision for decision: descend to the closest entry
(squared distance between means, first on ties); in a leaf, merge into the closest entry if the
merged radius is at most the threshold, else add an entry; a node with more than
``branching_factor`` entries splits around its farthest pair of entries (first pair in row-major
order), each entry going to the nearer of the two (ties to the second), the first half keeping
the node's place; ancestors absorb the new feature or, after a split, the features of the two
halves. No recursion: the path down is kept in arrays and walked back up.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from clusterlab._config import CACHE

__all__ = [
    "empty_tree",
    "insert_features",
    "insert_points",
    "leaf_closest_pairs",
    "leaf_entries",
]

#: Deepest tree the insertion path arrays hold (a tree of branching factor >= 2 over 2**62
#: features is shallower).
_MAX_DEPTH = 64


# --------------------------------------------------------------------------------------------
# features
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE, inline="always")
def _merged_ssd(n1, mean1, ssd1, n2, mean2, ssd2):  # noqa: PLR0917
    n = n1 + n2
    gap = 0.0
    for k in range(mean1.shape[0]):
        diff = mean2[k] - mean1[k]
        gap += diff * diff
    return ssd1 + ssd2 + gap * (n1 * n2 / n)


@njit(cache=CACHE, inline="always")
def _absorb(tree, e, n2, mean2, ssd2):
    """Merge the feature ``(n2, mean2, ssd2)`` into entry ``e``."""
    cf_n, cf_mean, cf_ssd = tree[0], tree[1], tree[2]
    n1 = cf_n[e]
    n = n1 + n2
    cf_ssd[e] = _merged_ssd(n1, cf_mean[e], cf_ssd[e], n2, mean2, ssd2)
    share = n2 / n
    for k in range(mean2.shape[0]):
        cf_mean[e, k] += (mean2[k] - cf_mean[e, k]) * share
    cf_n[e] = n


@njit(cache=CACHE, inline="always")
def _sq_dist(a, b):
    acc = 0.0
    for k in range(a.shape[0]):
        diff = a[k] - b[k]
        acc += diff * diff
    return acc


# --------------------------------------------------------------------------------------------
# storage
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE)
def empty_tree(n_features, branching_factor, capacity):
    """A tree with one empty leaf as root, room for ``capacity`` entries."""
    capacity = max(capacity, 2 * _MAX_DEPTH + 4)
    node_capacity = capacity // 2 + 2
    counters = np.zeros(4, dtype=np.int64)
    counters[1] = 1  # node 0: the root, a leaf, first in the leaf list
    leaf = np.zeros(node_capacity, dtype=np.bool_)
    leaf[0] = True
    return (
        np.zeros(capacity, dtype=np.float64),
        np.zeros((capacity, n_features), dtype=np.float64),
        np.zeros(capacity, dtype=np.float64),
        np.full(capacity, -1, dtype=np.int64),
        np.full((node_capacity, branching_factor + 1), -1, dtype=np.int64),
        np.zeros(node_capacity, dtype=np.int64),
        leaf,
        np.full(node_capacity, -1, dtype=np.int64),
        counters,
    )


@njit(cache=CACHE)
def _grow(tree):
    """The tree with room for at least one more insertion (a path's worth of entries/nodes)."""
    cf_n, cf_mean, cf_ssd, cf_child, slots, size, leaf, next_leaf, counters = tree
    room = 2 * _MAX_DEPTH + 4
    if counters[0] + room > cf_n.shape[0]:
        cap = max(2 * cf_n.shape[0], counters[0] + room)
        new_mean = np.zeros((cap, cf_mean.shape[1]), dtype=np.float64)
        new_mean[: cf_mean.shape[0]] = cf_mean
        cf_mean = new_mean
        cf_n = _extend(cf_n, cap, 0.0)
        cf_ssd = _extend(cf_ssd, cap, 0.0)
        cf_child = _extend(cf_child, cap, -1)
    if counters[1] + room > size.shape[0]:
        cap = max(2 * size.shape[0], counters[1] + room)
        new_slots = np.full((cap, slots.shape[1]), -1, dtype=np.int64)
        new_slots[: slots.shape[0]] = slots
        slots = new_slots
        size = _extend(size, cap, 0)
        leaf = _extend(leaf, cap, False)
        next_leaf = _extend(next_leaf, cap, -1)
    return cf_n, cf_mean, cf_ssd, cf_child, slots, size, leaf, next_leaf, counters


@njit(cache=CACHE)
def _extend(a, cap, fill):
    out = np.empty(cap, dtype=a.dtype)
    out[: a.shape[0]] = a
    out[a.shape[0] :] = fill
    return out


@njit(cache=CACHE, inline="always")
def _new_entry(tree, n, mean, ssd, child):
    counters = tree[8]
    e = counters[0]
    counters[0] += 1
    tree[0][e] = n
    tree[1][e] = mean
    tree[2][e] = ssd
    tree[3][e] = child
    return e


@njit(cache=CACHE, inline="always")
def _new_node(tree, is_leaf):
    counters = tree[8]
    v = counters[1]
    counters[1] += 1
    tree[5][v] = 0
    tree[6][v] = is_leaf
    tree[7][v] = -1
    return v


@njit(cache=CACHE, inline="always")
def _append(tree, v, e):
    slots, size = tree[4], tree[5]
    slots[v, size[v]] = e
    size[v] += 1


# --------------------------------------------------------------------------------------------
# split and summarise
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE)
def _split(tree, v):
    """Split node ``v`` (branching_factor + 1 entries): ``v`` keeps the entries nearer the
    first of the farthest pair, a new node (returned) takes the others."""
    cf_mean, slots, size = tree[1], tree[4], tree[5]
    m = size[v]
    far = -1.0
    f0 = 0
    f1 = 0
    for a in range(m):
        for b in range(m):
            dist = _sq_dist(cf_mean[slots[v, a]], cf_mean[slots[v, b]])
            if dist > far:
                far = dist
                f0 = a
                f1 = b
    w = _new_node(tree, tree[6][v])
    entries = slots[v, :m].copy()
    first = cf_mean[entries[f0]].copy()
    second = cf_mean[entries[f1]].copy()
    size[v] = 0
    for a in range(m):
        e = entries[a]
        mean = cf_mean[e]
        if a == f0 or _sq_dist(first, mean) < _sq_dist(second, mean):
            _append(tree, v, e)
        else:
            _append(tree, w, e)
    for a in range(size[v], slots.shape[1]):
        slots[v, a] = -1
    if tree[6][v]:
        next_leaf = tree[7]
        next_leaf[w] = next_leaf[v]
        next_leaf[v] = w
    return w


@njit(cache=CACHE)
def _summarise(tree, v, e):
    """Set entry ``e``'s feature to the merge of node ``v``'s entries, in slot order."""
    cf_n, cf_mean, cf_ssd, slots, size = tree[0], tree[1], tree[2], tree[4], tree[5]
    first = slots[v, 0]
    cf_n[e] = cf_n[first]
    cf_mean[e] = cf_mean[first]
    cf_ssd[e] = cf_ssd[first]
    for a in range(1, size[v]):
        f = slots[v, a]
        _absorb(tree, e, cf_n[f], cf_mean[f], cf_ssd[f])


# --------------------------------------------------------------------------------------------
# insertion
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE)
def _closest_slot(tree, v, mean):
    cf_mean, slots, size = tree[1], tree[4], tree[5]
    best = np.inf
    slot = 0
    for a in range(size[v]):
        dist = _sq_dist(cf_mean[slots[v, a]], mean)
        if dist < best:
            best = dist
            slot = a
    return slot


@njit(cache=CACHE)
def _insert(tree, n, mean, ssd, threshold_sq, branching):  # noqa: PLR0917
    """Insert one feature (see the module docstring); the tree must have room for it."""
    cf_n, cf_mean, cf_ssd, cf_child = tree[0], tree[1], tree[2], tree[3]
    slots, size, counters = tree[4], tree[5], tree[8]
    path_node = np.empty(_MAX_DEPTH, dtype=np.int64)
    path_slot = np.empty(_MAX_DEPTH, dtype=np.int64)
    v = counters[2]
    if size[v] == 0:
        _append(tree, v, _new_entry(tree, n, mean, ssd, -1))
        return
    depth = 0
    while True:
        slot = _closest_slot(tree, v, mean)
        path_node[depth] = v
        path_slot[depth] = slot
        depth += 1
        child = cf_child[slots[v, slot]]
        if child < 0:
            break
        v = child
    e = slots[v, path_slot[depth - 1]]
    n_new = cf_n[e] + n
    if _merged_ssd(cf_n[e], cf_mean[e], cf_ssd[e], n, mean, ssd) / n_new <= threshold_sq:
        _absorb(tree, e, n, mean, ssd)
        split = False
    else:
        _append(tree, v, _new_entry(tree, n, mean, ssd, -1))
        split = size[v] > branching
    for level in range(depth - 2, -1, -1):
        parent = path_node[level]
        pe = slots[parent, path_slot[level]]
        if not split:
            _absorb(tree, pe, n, mean, ssd)
            continue
        below = cf_child[pe]
        half = _split(tree, below)
        _summarise(tree, below, pe)
        pe2 = _new_entry(tree, 0.0, cf_mean[pe], 0.0, half)
        _summarise(tree, half, pe2)
        _append(tree, parent, pe2)
        split = size[parent] > branching
    if split:
        root = counters[2]
        half = _split(tree, root)
        new_root = _new_node(tree, False)
        for node in (root, half):
            top = _new_entry(tree, 0.0, cf_mean[slots[node, 0]], 0.0, node)
            _summarise(tree, node, top)
            _append(tree, new_root, top)
        counters[2] = new_root


@njit(cache=CACHE)
def insert_points(tree, X, start, threshold, branching, max_entries):  # noqa: PLR0917
    """Insert the rows ``X[start:]`` one by one (each a feature ``(1, x, 0)``).

    Stops after the row that makes the number of entries exceed ``max_entries`` (the caller
    then rebuilds with a larger threshold and calls again).

    Returns
    -------
    tree : tuple
        The tree (its arrays are replaced when they grow).
    stop : int
        The next row to insert (``X.shape[0]`` when all are in).
    """
    t2 = threshold * threshold
    mean = np.empty(X.shape[1], dtype=np.float64)
    for i in range(start, X.shape[0]):
        tree = _grow(tree)
        for k in range(X.shape[1]):
            mean[k] = np.float64(X[i, k])
        _insert(tree, 1.0, mean, 0.0, t2, branching)
        if tree[8][0] > max_entries:
            return tree, i + 1
    return tree, X.shape[0]


@njit(cache=CACHE)
def insert_features(tree, cf_n, cf_mean, cf_ssd, threshold, branching):  # noqa: PLR0917
    """Insert whole features (BIRCH's rebuild: the old leaf entries into a new tree)."""
    t2 = threshold * threshold
    for i in range(cf_n.shape[0]):
        tree = _grow(tree)
        _insert(tree, cf_n[i], cf_mean[i], cf_ssd[i], t2, branching)
    return tree


# --------------------------------------------------------------------------------------------
# reading the leaves
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE)
def leaf_entries(tree):
    """The leaf entries in leaf-list order, then slot order: int64 array of entry ids."""
    slots, size, next_leaf, counters = tree[4], tree[5], tree[7], tree[8]
    total = 0
    v = counters[3]
    while v >= 0:
        total += size[v]
        v = next_leaf[v]
    out = np.empty(total, dtype=np.int64)
    pos = 0
    v = counters[3]
    while v >= 0:
        for a in range(size[v]):
            out[pos] = slots[v, a]
            pos += 1
        v = next_leaf[v]
    return out


@njit(cache=CACHE)
def leaf_closest_pairs(tree):
    """For every leaf with two or more entries, the distance between its two closest entries
    (BIRCH's cue for the next threshold); float64 array."""
    cf_mean, slots, size, next_leaf, counters = tree[1], tree[4], tree[5], tree[7], tree[8]
    out = np.empty(counters[1], dtype=np.float64)
    found = 0
    v = counters[3]
    while v >= 0:
        m = size[v]
        if m >= 2:
            best = np.inf
            for a in range(m):
                for b in range(a + 1, m):
                    best = min(best, _sq_dist(cf_mean[slots[v, a]], cf_mean[slots[v, b]]))
            out[found] = np.sqrt(best)
            found += 1
        v = next_leaf[v]
    return out[:found]
