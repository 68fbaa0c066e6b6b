"""The Genie merge rule over a minimum spanning tree (Gagolewski, Bartoszuk, Cena 2016).

Genie consumes the edges of a minimum spanning tree in increasing order of weight, as single
linkage does, except when the clusters' sizes have become too unequal: while the Gini index of
the cluster sizes exceeds the threshold, the next merge joins a cluster of the smallest size
along the lightest tree edge that leaves it. Every edge of a tree joins two different clusters,
so each merge uses one edge and the whole hierarchy takes ``n - 1`` merges.

:func:`genie_merges` runs the rule in O(n log n) time:

- the numerator of the Gini index, ``sum_{i<j} |c_i - c_j|``, is kept exactly in integers and
  updated per merge from two Fenwick trees over the cluster sizes (count and total size of the
  clusters below a size);
- each cluster keeps the edges that leave it in a leftist heap keyed by edge rank; merging two
  clusters melds their heaps, and edges that became internal are dropped when they reach the
  top;
- the clusters are filed in buckets by size; the smallest size never decreases, so when it
  reaches a size that bucket is complete and is sorted once by lightest leaving edge: its first
  live entry is the edge the rule asks for (the lightest edge leaving any cluster of the
  smallest size).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from clusterlab._config import CACHE
from clusterlab.kernels.union_find import uf_find, uf_make, uf_union

__all__ = ["genie_merges", "gini_index"]


# --------------------------------------------------------------------------------------------
# Fenwick trees over cluster sizes 1..n
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE, inline="always")
def _fw_add(tree, i, value):
    while i < tree.shape[0]:
        tree[i] += value
        i += i & -i


@njit(cache=CACHE, inline="always")
def _fw_prefix(tree, i):
    """Sum of entries 1..i."""
    acc = 0
    while i > 0:
        acc += tree[i]
        i -= i & -i
    return acc


@njit(cache=CACHE, inline="always")
def _spread(counts, sums, s, k, total):
    """``sum_j |s - c_j|`` over the clusters in the Fenwick trees (``k`` of them, ``total``
    points)."""
    below_n = _fw_prefix(counts, s - 1)
    below_sum = _fw_prefix(sums, s - 1)
    upto_n = _fw_prefix(counts, s)
    upto_sum = _fw_prefix(sums, s)
    return s * below_n - below_sum + (total - upto_sum) - s * (k - upto_n)


# --------------------------------------------------------------------------------------------
# leftist heaps of edge ranks, in arrays
# --------------------------------------------------------------------------------------------
# Entries 2e and 2e + 1 stand for edge e at its two ends, so an entry's key is entry >> 1 and
# no key array is needed; heap = (left, right, rank), int32 to keep them in cache.
@njit(cache=CACHE, inline="always")
def _meld(a, b, heap, spine):
    """Meld the leftist heaps rooted at ``a`` and ``b`` (-1: empty); returns the new root.

    ``spine`` is scratch for the right spine walked (at most the two ranks, < 64).
    """
    left, right, rank = heap
    if a < 0:
        return b
    if b < 0:
        return a
    # walk down the right spines, always continuing with the smaller key
    depth = 0
    while a >= 0 and b >= 0:
        if (b >> 1) < (a >> 1):
            a, b = b, a
        spine[depth] = a
        depth += 1
        a = right[a]
    rest = a if a >= 0 else b
    # rebuild bottom-up: each spine node takes the melded remainder as its right child
    for level in range(depth - 1, -1, -1):
        node = spine[level]
        right[node] = rest
        lr = rank[left[node]] if left[node] >= 0 else 0
        rr = rank[rest] if rest >= 0 else 0
        if lr < rr:
            left[node], right[node] = right[node], left[node]
            lr, rr = rr, lr
        rank[node] = rr + 1
        rest = node
    return rest


@njit(cache=CACHE)
def _incident_heaps(a, b, n):
    """One leftist heap per point of the tree edges touching it; returns (heap, root per point).

    Edges come in increasing rank, so each point's heap is a chain down the left children
    (each node's right child empty: rank 1, a valid leftist heap) built in O(1) per edge.
    """
    m = a.shape[0]
    left = np.full(2 * m, -1, dtype=np.int32)
    right = np.full(2 * m, -1, dtype=np.int32)
    rank = np.ones(2 * m, dtype=np.int32)
    root = np.full(n, -1, dtype=np.int64)
    last = np.full(n, -1, dtype=np.int64)
    for e in range(m):
        for entry, p in ((2 * e, a[e]), (2 * e + 1, b[e])):
            if root[p] < 0:
                root[p] = entry
            else:
                left[last[p]] = entry
            last[p] = entry
    return (left, right, rank), root


@njit(cache=CACHE, inline="always")
def _drop_used(r, heap, used, spine):
    """Remove edges already used from the top of the heap rooted at ``r``."""
    left, right, _ = heap
    while r >= 0 and used[r >> 1]:
        r = _meld(np.int64(left[r]), np.int64(right[r]), heap, spine)
    return r


# --------------------------------------------------------------------------------------------
# the clusters by (size, lightest leaving edge)
# --------------------------------------------------------------------------------------------
# The smallest cluster size never decreases (a merge removes two clusters and adds a larger
# one), and a merge creates a cluster larger than the smallest. So once the smallest size has
# reached s, no cluster of size s is created any more: that bucket is complete, and sorting it
# once by lightest leaving edge gives its clusters in the order the rule takes them. Each
# cluster is filed in the bucket of its size when it is created (its lightest leaving edge does
# not change while it exists: an edge leaving it is used only by its own merge); entries of
# clusters that merged since are skipped.
@njit(cache=CACHE, inline="always")
def _file(buckets, size, edge, cluster):
    """Add a cluster to the bucket of its size (a linked list)."""
    head, nxt, ent_edge, ent_cluster, count = buckets
    entry = count[0]
    count[0] += 1
    ent_edge[entry] = edge
    ent_cluster[entry] = cluster
    nxt[entry] = head[size]
    head[size] = entry


@njit(cache=CACHE)
def _sorted_bucket(buckets, size):
    """The entries of one bucket, lightest edge first."""
    head, nxt, ent_edge, _, _ = buckets
    n_entries = 0
    entry = head[size]
    while entry >= 0:
        n_entries += 1
        entry = nxt[entry]
    entries = np.empty(n_entries, dtype=np.int64)
    entry = head[size]
    for i in range(n_entries):
        entries[i] = entry
        entry = nxt[entry]
    return entries[np.argsort(ent_edge[entries])]


# --------------------------------------------------------------------------------------------
# the rule
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE)
def genie_merges(a, b, gini_threshold):
    """Every merge of the Genie hierarchy of a spanning tree.

    Parameters
    ----------
    a, b : int64 (n - 1,)
        Edge end points of a spanning tree of points ``0..n-1``, sorted by weight (equal weights
        in the order given: that order breaks ties).
    gini_threshold : float
        A merge is forced onto a smallest cluster while the Gini index of the cluster sizes is
        strictly above it (1.0: never, which is single linkage).

    Returns
    -------
    edge : int64 (n - 1,)
        Rank of the edge used by each merge, in merge order.
    left, right : int64 (n - 1,)
        Merged cluster ids, smaller first (points ``0..n-1``; merge ``i`` creates ``n + i``).
    size : int64 (n - 1,)
        Size of the merged cluster.
    """
    m = a.shape[0]
    n = m + 1
    spine = np.empty(64, dtype=np.int64)
    heap, hroot = _incident_heaps(a, b, n)
    parent, size_of = uf_make(n)
    node_of = np.arange(n, dtype=np.int64)
    used = np.zeros(max(m, 1), dtype=np.bool_)
    counts = np.zeros(n + 1, dtype=np.int64)
    sums = np.zeros(n + 1, dtype=np.int64)
    _fw_add(counts, 1, n)
    _fw_add(sums, 1, n)
    n_of_size = np.zeros(n + 1, dtype=np.int64)
    n_of_size[1] = n
    buckets = (
        np.full(n + 1, -1, dtype=np.int64),
        np.empty(2 * n, dtype=np.int64),
        np.empty(2 * n, dtype=np.int64),
        np.empty(2 * n, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
    )
    for p in range(n - 1, -1, -1):
        if hroot[p] >= 0:
            _file(buckets, 1, hroot[p] >> 1, p)
    smallest = 1
    current = np.empty(0, dtype=np.int64)  # the smallest size's bucket, sorted
    current_size = 0
    taken = 0
    spread = 0  # sum_{i<j} |c_i - c_j|
    next_edge = 0
    edge = np.empty(m, dtype=np.int64)
    left = np.empty(m, dtype=np.int64)
    right = np.empty(m, dtype=np.int64)
    size = np.empty(m, dtype=np.int64)
    for i in range(m):
        k = n - i
        e = -1
        if k > 1 and spread / ((k - 1.0) * n) > gini_threshold:
            while n_of_size[smallest] == 0:
                smallest += 1
            if current_size != smallest:
                current = _sorted_bucket(buckets, smallest)
                current_size = smallest
                taken = 0
            while True:
                entry = current[taken]
                taken += 1
                c = buckets[3][entry]
                # entries of clusters that merged since they were filed are stale
                if parent[c] == c and size_of[c] == smallest:
                    e = buckets[2][entry]
                    break
        if e < 0:
            while used[next_edge]:
                next_edge += 1
            e = next_edge
        ra = uf_find(parent, a[e])
        rb = uf_find(parent, b[e])
        sa = size_of[ra]
        sb = size_of[rb]
        spread -= _spread(counts, sums, sa, k, n)
        _fw_add(counts, sa, -1)
        _fw_add(sums, sa, -sa)
        spread -= _spread(counts, sums, sb, k - 1, n - sa)
        _fw_add(counts, sb, -1)
        _fw_add(sums, sb, -sb)
        spread += _spread(counts, sums, sa + sb, k - 2, n - sa - sb)
        _fw_add(counts, sa + sb, 1)
        _fw_add(sums, sa + sb, sa + sb)
        n_of_size[sa] -= 1
        n_of_size[sb] -= 1
        n_of_size[sa + sb] += 1
        used[e] = True
        edge[i] = e
        left[i] = min(node_of[ra], node_of[rb])
        right[i] = max(node_of[ra], node_of[rb])
        size[i] = sa + sb
        r = uf_union(parent, size_of, ra, rb)
        node_of[r] = n + i
        hroot[r] = _drop_used(_meld(hroot[ra], hroot[rb], heap, spine), heap, used, spine)
        if hroot[r] >= 0:
            _file(buckets, sa + sb, hroot[r] >> 1, r)
    return edge, left, right, size


@njit(cache=CACHE)
def gini_index(sizes):
    """Gini index of a vector of positive cluster sizes (0 for equal sizes or one cluster).

    ``sum_{i<j} |c_i - c_j| / ((k - 1) sum c)``, from the sorted sizes in O(k log k).
    """
    k = sizes.shape[0]
    if k <= 1:
        return 0.0
    c = np.sort(sizes.astype(np.float64))
    acc = 0.0
    for i in range(k):
        acc += (2.0 * i - k + 1.0) * c[i]
    return acc / ((k - 1) * c.sum())
