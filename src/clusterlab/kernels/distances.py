"""Squared Euclidean distances between points and centers, computed one way everywhere.

Every k-means path (Lloyd, the bound-based algorithms, seeding, ``predict``) gets its distances
from the two functions here, so a point-center distance is bitwise the same number whichever path
asks for it. That is what lets the accelerated algorithms return exactly Lloyd's labels.

The arithmetic: ``sum_f (x_f - c_f) ** 2``, accumulated over features in index order, in the
dtype of the data, without fastmath (no reassociation, so no change of rounding). Centers are
passed transposed (``CT`` of shape ``(n_features, n_centers)``) so that the inner loop runs over
contiguous centers and vectorises across centers without reordering any single sum.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clusterlab._config import CACHE

__all__ = ["pairwise_sq_distances", "sq_dist_block", "sq_dist_one"]

#: Rows per parallel work item; fixed so that results never depend on the thread count.
CHUNK = 256


@njit(cache=CACHE, inline="always")
def sq_dist_block(X, i, CT, j0, j1, out):  # noqa: PLR0917
    """Squared distances from row ``i`` of ``X`` to centers ``j0 .. j1-1``.

    Parameters
    ----------
    X : ndarray (n_samples, n_features), float32 or float64 — read.
    i : int — the row.
    CT : ndarray (n_features, n_centers), same dtype, C-contiguous — centers transposed; read.
    j0, j1 : int — the half-open range of centers.
    out : ndarray (>= j1,), same dtype — ``out[j0:j1]`` written.
    """
    for j in range(j0, j1):
        out[j] = 0.0
    for f in range(X.shape[1]):
        xf = X[i, f]
        for j in range(j0, j1):
            t = xf - CT[f, j]
            out[j] += t * t


@njit(cache=CACHE, inline="always")
def sq_dist_one(X, i, CT, j):
    """Squared distance from row ``i`` of ``X`` to center ``j`` (column ``j`` of ``CT``).

    Bitwise equal to ``out[j]`` of :func:`sq_dist_block` (same operations in the same order).
    Returns a scalar of the dtype of ``X``.
    """
    # The first term starts the sum (0 + t*t == t*t exactly), keeping the dtype of X.
    t = X[i, 0] - CT[0, j]
    acc = t * t
    for f in range(1, X.shape[1]):
        t = X[i, f] - CT[f, j]
        acc += t * t
    return acc


@njit(cache=CACHE, parallel=True)
def pairwise_sq_distances(X, centers):
    """All squared distances between rows of ``X`` and ``centers``.

    Parameters
    ----------
    X : ndarray (n_samples, n_features), float32 or float64 — read.
    centers : ndarray (n_centers, n_features), same dtype — read.

    Returns
    -------
    ndarray (n_samples, n_centers), dtype of ``X`` — newly allocated.
    """
    n = X.shape[0]
    k = centers.shape[0]
    CT = np.ascontiguousarray(centers.T)
    out = np.empty((n, k), dtype=X.dtype)
    n_chunks = (n + CHUNK - 1) // CHUNK
    for c in prange(n_chunks):
        buf = np.empty(k, dtype=X.dtype)
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            sq_dist_block(X, i, CT, 0, k, buf)
            out[i, :] = buf
    return out
