"""Smallest between-cluster and largest within-cluster distances, for the Dunn index."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clusterlab._config import CACHE

__all__ = ["separation_and_diameter"]

_TILE_MEMBERS = 256


@njit(parallel=True, cache=CACHE)
def separation_and_diameter(XT: np.ndarray, labels: np.ndarray, offsets: np.ndarray):
    """Per point: squared distance to the nearest point of another cluster and to the farthest
    point of its own cluster.

    Parameters
    ----------
    XT : ndarray of float32 or float64, shape (n_features, n_samples), C-contiguous
        The data, transposed, columns ordered by cluster. Read only; differences in float64.
    labels : ndarray of int64, shape (n_samples,)
        Non-decreasing cluster codes ``0..k-1`` of the columns. Read only.
    offsets : ndarray of int64, shape (k + 1,)
        Cluster ``c`` occupies columns ``offsets[c]:offsets[c + 1]``. Read only.

    Returns
    -------
    nearest_other : ndarray of float64, shape (n_samples,)
        Squared distance to the closest point in another cluster (inf when k == 1).
    farthest_own : ndarray of float64, shape (n_samples,)
        Squared distance to the farthest point in the same cluster (0 for a singleton).

    Minima and maxima do not depend on the order of evaluation, so the result is identical for
    any thread count. Time O(n^2 d), extra memory O(n).
    """
    n_features, n_samples = XT.shape
    n_clusters = offsets.shape[0] - 1
    nearest_other = np.empty(n_samples)
    farthest_own = np.empty(n_samples)
    for i in prange(n_samples):
        own = labels[i]
        point = np.empty(n_features)
        for f in range(n_features):
            point[f] = XT[f, i]
        dist2 = np.empty(_TILE_MEMBERS)
        near = np.inf
        far = 0.0
        for c in range(n_clusters):
            for j0 in range(offsets[c], offsets[c + 1], _TILE_MEMBERS):
                width = min(_TILE_MEMBERS, offsets[c + 1] - j0)
                for jj in range(width):
                    dist2[jj] = 0.0
                for f in range(n_features):
                    pf = point[f]
                    for jj in range(width):
                        t = np.float64(XT[f, j0 + jj]) - pf
                        dist2[jj] += t * t
                if c == own:
                    for jj in range(width):
                        far = max(far, dist2[jj])
                else:
                    for jj in range(width):
                        near = min(near, dist2[jj])
        nearest_other[i] = near
        farthest_own[i] = far
    return nearest_other, farthest_own
