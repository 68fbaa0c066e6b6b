"""Union-find (disjoint sets) on two plain int64 arrays, usable from other numba kernels.

Layout
------
``parent`` : int64 array of shape (n,)
    ``parent[i]`` is the parent of element ``i``; a root has ``parent[i] == i``.
``size`` : int64 array of shape (n,)
    ``size[r]`` is the number of elements in the set whose root is ``r`` (meaningful for roots
    only).

:func:`uf_make` creates both; :func:`uf_find` compresses paths by halving (it writes ``parent``),
:func:`uf_find_readonly` does not write and is therefore safe to call from a ``prange`` loop while
no thread unions; :func:`uf_union` joins by size, the smaller set under the larger one and, at
equal size, the root of larger index under the root of smaller index, so that the same sequence of
unions always gives the same forest.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from clusterlab._config import CACHE

__all__ = ["uf_find", "uf_find_readonly", "uf_labels", "uf_make", "uf_union"]


@njit(cache=CACHE)
def uf_make(n):
    """Return ``(parent, size)`` for ``n`` singleton sets: ``parent = arange(n)``, ``size = 1``.

    Both are new int64 arrays of shape (n,).
    """
    return np.arange(n, dtype=np.int64), np.ones(n, dtype=np.int64)


@njit(cache=CACHE)
def uf_find(parent, x):
    """Root of the set holding ``x``; halves the path on the way (writes ``parent``)."""
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@njit(cache=CACHE)
def uf_find_readonly(parent, x):
    """Root of the set holding ``x`` without writing anything (safe for concurrent readers)."""
    while parent[x] != x:
        x = parent[x]
    return x


@njit(cache=CACHE)
def uf_union(parent, size, a, b):
    """Join the sets of ``a`` and ``b``; return the new root, or -1 if they were one set already.

    Writes ``parent`` and ``size``. Union by size; at equal size the smaller root index wins.
    """
    ra = uf_find(parent, a)
    rb = uf_find(parent, b)
    if ra == rb:
        return -1
    if size[ra] < size[rb] or (size[ra] == size[rb] and rb < ra):
        ra, rb = rb, ra
    parent[rb] = ra
    size[ra] += size[rb]
    return ra


@njit(cache=CACHE)
def uf_labels(parent, mask):
    """Label the sets of the elements where ``mask`` is true: 0, 1, ... by smallest member index.

    Parameters
    ----------
    parent : int64 array of shape (n,)
        Read and path-compressed (written).
    mask : bool array of shape (n,)
        Elements to label; the others get -1.

    Returns
    -------
    labels : int64 array of shape (n,)
        ``labels[i]`` is the rank of the set of ``i`` when sets are ordered by their smallest
        masked member; -1 where ``mask`` is false.
    """
    n = parent.shape[0]
    root_label = np.full(n, -1, dtype=np.int64)
    labels = np.full(n, -1, dtype=np.int64)
    next_label = 0
    for i in range(n):
        if not mask[i]:
            continue
        r = uf_find(parent, i)
        if root_label[r] < 0:
            root_label[r] = next_label
            next_label += 1
        labels[i] = root_label[r]
    return labels
