"""Exact silhouette coefficients without an n x n distance matrix.

The points are sorted by cluster, so that each cluster is a contiguous run of columns in a
transposed copy of the data. For a tile of points and a tile of one cluster's points the kernel
computes the Euclidean distances (vectorised over the cluster's points) and adds them to per-point
per-cluster sums; from those sums each point's mean intra-cluster distance ``a`` and smallest mean
distance to another cluster ``b`` follow. Time O(n^2 d), extra memory O(tile * k) per thread.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from clusterlab._config import CACHE

__all__ = ["silhouette_sorted"]

# Points per tile (rows of the per-point sums) and cluster members per tile (one L1-sized slab
# of the transposed data for d up to ~16 in float64).
_TILE_POINTS = 32
_TILE_MEMBERS = 256


# fastmath lets the sums of square roots be reassociated into vector lanes; it changes only the
# last bits of a sum of positive terms, never a comparison, and each point's sums are formed by one
# thread in a fixed order, so results do not depend on the thread count.
@njit(parallel=True, fastmath={"reassoc", "contract"}, cache=CACHE)
def silhouette_sorted(XT: np.ndarray, labels: np.ndarray, offsets: np.ndarray, out: np.ndarray):
    """Silhouette coefficient of every point, for points sorted by cluster.

    Parameters
    ----------
    XT : ndarray of float32 or float64, shape (n_features, n_samples), C-contiguous
        The data, transposed, with the columns ordered by cluster. Read only. Differences are
        formed and accumulated in float64 whatever the input type.
    labels : ndarray of int64, shape (n_samples,)
        Cluster of each column of ``XT``: non-decreasing codes ``0..k-1``. Read only.
    offsets : ndarray of int64, shape (k + 1,)
        Cluster ``c`` occupies columns ``offsets[c]:offsets[c + 1]``; every cluster is
        non-empty and ``k >= 2``. Read only.
    out : ndarray of float64, shape (n_samples,)
        Written: ``(b - a) / max(a, b)`` for each column, 0 for a point alone in its cluster
        (scikit-learn's convention) and for ``a == b == 0``.
    """
    n_features, n_samples = XT.shape
    n_clusters = offsets.shape[0] - 1
    n_tiles = (n_samples + _TILE_POINTS - 1) // _TILE_POINTS
    for tile in prange(n_tiles):
        lo = tile * _TILE_POINTS
        hi = min(lo + _TILE_POINTS, n_samples)
        m = hi - lo
        sums = np.zeros((m, n_clusters))
        dist2 = np.empty(_TILE_MEMBERS)
        for c in range(n_clusters):
            for j0 in range(offsets[c], offsets[c + 1], _TILE_MEMBERS):
                j1 = min(j0 + _TILE_MEMBERS, offsets[c + 1])
                width = j1 - j0
                for ii in range(m):
                    # Row slices (not 2-D indexing) in the lane loops let LLVM vectorise them.
                    row = XT[0, j0:j1]
                    pf = np.float64(XT[0, lo + ii])
                    for jj in range(width):
                        t = np.float64(row[jj]) - pf
                        dist2[jj] = t * t
                    for f in range(1, n_features):
                        row = XT[f, j0:j1]
                        pf = np.float64(XT[f, lo + ii])
                        for jj in range(width):
                            t = np.float64(row[jj]) - pf
                            dist2[jj] += t * t
                    s = 0.0
                    for jj in range(width):
                        s += math.sqrt(dist2[jj])
                    sums[ii, c] += s
        for ii in range(m):
            own = labels[lo + ii]
            size = offsets[own + 1] - offsets[own]
            if size <= 1:
                out[lo + ii] = 0.0
                continue
            a = sums[ii, own] / (size - 1)
            b = np.inf
            for c in range(n_clusters):
                if c != own:
                    mean = sums[ii, c] / (offsets[c + 1] - offsets[c])
                    b = min(b, mean)
            denom = max(a, b)
            out[lo + ii] = 0.0 if denom == 0.0 else (b - a) / denom
