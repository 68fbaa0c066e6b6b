"""Gower's (1971) distance on encoded rows: full matrices and nearest rows, in parallel.

Data contract (see :class:`clusterlab._mixed.GowerEncoding`): rows are float64 arrays of ``d``
encoded columns, the first ``n_interval`` interval-scaled (values already divided by the column's
range, so the per-column dissimilarity is ``min(|a - b|, 1)``), the rest nominal codes
(dissimilarity 0 when equal, else 1). NaN is a missing value: the column is skipped for that pair
and the weights of the columns compared are renormalised. A pair with no column in common is at
distance 1, the largest Gower distance (Gower leaves it undefined).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clusterlab._config import CACHE

__all__ = ["gower_matrix", "gower_pair", "gower_top_n"]

#: Rows per parallel work item (fixed: results never depend on the thread count).
CHUNK = 64


@njit(cache=CACHE)
def gower_pair(A, i, B, j, n_interval, weights):  # noqa: PLR0917
    """Gower distance between row ``i`` of ``A`` and row ``j`` of ``B`` (float64).

    ``A``, ``B`` : float64 (., d) encoded rows — read. ``weights`` : float64 (d,) — read.
    """
    num = 0.0
    den = 0.0
    for f in range(n_interval):
        a = A[i, f]
        b = B[j, f]
        if not (np.isnan(a) or np.isnan(b)):
            t = abs(a - b)
            t = min(t, 1.0)
            num += weights[f] * t
            den += weights[f]
    for f in range(n_interval, A.shape[1]):
        a = A[i, f]
        b = B[j, f]
        if not (np.isnan(a) or np.isnan(b)):
            if a != b:
                num += weights[f]
            den += weights[f]
    if den > 0.0:
        return num / den
    return 1.0


@njit(cache=CACHE, inline="always")
def _upper_row(A, i, n_interval, weights, out):
    out[i, i] = 0.0
    for j in range(i + 1, A.shape[0]):
        v = gower_pair(A, i, A, j, n_interval, weights)
        out[i, j] = v
        out[j, i] = v


@njit(cache=CACHE, parallel=True)
def gower_matrix(A, B, n_interval, weights, out, symmetric):  # noqa: PLR0917
    """All Gower distances between rows of ``A`` and rows of ``B``.

    Parameters
    ----------
    A : float64 (n_a, d), B : float64 (n_b, d) — encoded rows; read.
    n_interval : int — number of interval-scaled leading columns.
    weights : float64 (d,) — column weights; read.
    out : float32 or float64 (n_a, n_b) — written.
    symmetric : bool — ``A`` and ``B`` are the same rows: each pair is computed once and
        mirrored (the distance is symmetric bit for bit), the diagonal set to 0.
    """
    n_a = A.shape[0]
    n_b = B.shape[0]
    if symmetric:
        # Row t (n - 1 - t pairs) and row n - 1 - t (t pairs) form one work item of n - 1
        # pairs, so the triangle splits evenly across threads.
        for t in prange((n_a + 1) // 2):
            _upper_row(A, t, n_interval, weights, out)
            if n_a - 1 - t != t:
                _upper_row(A, n_a - 1 - t, n_interval, weights, out)
        return
    n_chunks = (n_a + CHUNK - 1) // CHUNK
    for c in prange(n_chunks):
        for i in range(c * CHUNK, min(n_a, (c + 1) * CHUNK)):
            for j in range(n_b):
                out[i, j] = gower_pair(A, i, B, j, n_interval, weights)


@njit(cache=CACHE, parallel=True)
def gower_top_n(A, B, n_interval, weights, out_dist, out_index):  # noqa: PLR0917
    """The ``m`` nearest rows of ``B`` for every row of ``A``, without the full matrix.

    ``out_dist`` : float32 or float64 (n_a, m), ``out_index`` : int64 (n_a, m) — written, each
    row sorted by increasing distance, ties by increasing index of ``B`` (``m <= n_b``).
    Memory O(n_a * m); time O(n_a * n_b * (d + m)) in the worst case.
    """
    n_a = A.shape[0]
    n_b = B.shape[0]
    m = out_index.shape[1]
    n_chunks = (n_a + CHUNK - 1) // CHUNK
    for c in prange(n_chunks):
        dist = np.empty(m)
        idx = np.empty(m, dtype=np.int64)
        for i in range(c * CHUNK, min(n_a, (c + 1) * CHUNK)):
            filled = 0
            for j in range(n_b):
                v = gower_pair(A, i, B, j, n_interval, weights)
                if filled < m:
                    pos = filled
                    filled += 1
                elif v < dist[m - 1]:
                    pos = m - 1
                else:
                    continue
                # equal distances keep the earlier index first
                while pos > 0 and dist[pos - 1] > v:
                    dist[pos] = dist[pos - 1]
                    idx[pos] = idx[pos - 1]
                    pos -= 1
                dist[pos] = v
                idx[pos] = j
            for t in range(m):
                out_dist[i, t] = dist[t]
                out_index[i, t] = idx[t]
