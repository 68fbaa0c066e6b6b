"""Initial centers for k-means: greedy k-means++ (numba) and uniform random rows.

Greedy k-means++ (Arthur & Vassilvitskii 2007, with the local trials scikit-learn uses): the first
center is a row drawn with probability proportional to its weight; every next center is the best
of ``n_local_trials`` candidates drawn with probability proportional to ``weight * D(x)^2`` (the
squared distance to the nearest chosen center), "best" meaning the lowest weighted potential
``sum_i w_i min(D(x_i)^2, d(x_i, candidate)^2)`` after adding it.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clusterlab._config import CACHE
from clusterlab.kernels.center_distances import CHUNK
from clusterlab.kernels.metric import rdist_rows
from clusterlab.kernels.variants import by_threads, serial_twin

__all__ = ["default_n_local_trials", "kmeans_plusplus_indices", "random_indices"]


def default_n_local_trials(n_clusters: int) -> int:
    """``2 + floor(log(n_clusters))``, the number of candidates per center scikit-learn uses."""
    return 2 + int(np.log(n_clusters))


@njit(cache=CACHE, inline="always")
def _draw(cumulative, total, rand):
    """Index of the first entry of ``cumulative`` above ``rand * total`` (clipped to the end).

    The binary search of ``np.searchsorted(side="right")``, written out: numba's searchsorted
    compiles string handling for ``side``, about 1.5 s of CPU on a first fit (measured).
    """
    value = rand * total
    lo = 0
    hi = cumulative.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        if cumulative[mid] <= value:
            lo = mid + 1
        else:
            hi = mid
    return min(lo, cumulative.shape[0] - 1)


@njit(cache=CACHE, inline="always")
def _cumsum(values):
    """Running sums of a float64 array in order: ``np.cumsum``'s numbers, without compiling it."""
    out = np.empty(values.shape[0])
    acc = 0.0
    for i in range(values.shape[0]):
        acc += values[i]
        out[i] = acc
    return out


@njit(cache=CACHE, parallel=True)
def _candidate_potentials(X, sample_weight, closest, cand, new_closest):
    """Weighted potential after adding each candidate: ``(n_candidates,)`` float64.

    ``closest`` (n,) float64 is read; ``new_closest`` (n_candidates, n) float64 is written with
    ``min(closest, d(x, candidate)^2)``. Sums run per fixed chunk then in chunk order, so the
    result does not depend on the thread count.
    """
    n = X.shape[0]
    m = cand.shape[0]
    n_chunks = (n + CHUNK - 1) // CHUNK
    partial = np.zeros((n_chunks, m))
    for c in prange(n_chunks):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            for t in range(m):
                v = min(closest[i], rdist_rows(X, i, cand, t, 2.0))
                new_closest[t, i] = v
                partial[c, t] += sample_weight[i] * v
    out = np.zeros(m)
    for c in range(n_chunks):
        for t in range(m):
            out[t] += partial[c, t]
    return out


@njit(cache=CACHE, inline="always")
def _first_closest(X, center):
    out = np.empty(X.shape[0])
    for i in range(X.shape[0]):
        out[i] = rdist_rows(X, i, center, 0, 2.0)
    return out


@njit(cache=CACHE)
def _kmeans_plusplus_parallel(X, sample_weight, n_clusters, n_local_trials, seed):
    """Row indices of the greedy k-means++ seeds.

    Parameters
    ----------
    X : ndarray (n_samples, n_features), float32 or float64, C-contiguous — read.
    sample_weight : ndarray (n_samples,), float64, non-negative with a positive sum — read.
    n_clusters : int — number of seeds, ``1 <= n_clusters <= n_samples``.
    n_local_trials : int >= 1 — candidates drawn per seed after the first.
    seed : int — seeds numba's random generator (of the calling thread) for this call.

    Returns
    -------
    ndarray (n_clusters,), int64 — indices into ``X``; the centers are ``X[indices]``.
    When every remaining point coincides with a chosen seed (fewer distinct points than
    ``n_clusters``), the next seeds are drawn by weight alone and may repeat a point.
    """
    # numba implements the legacy np.random API only (per-thread state, seeded here).
    np.random.seed(seed)  # noqa: NPY002
    n = X.shape[0]
    indices = np.empty(n_clusters, dtype=np.int64)
    cumulative = _cumsum(sample_weight)
    first = _draw(cumulative, cumulative[-1], np.random.random())  # noqa: NPY002
    indices[0] = first
    closest = _first_closest(X, X[first : first + 1].copy())
    weighted = np.empty(n)
    new_closest = np.empty((n_local_trials, n))
    for c in range(1, n_clusters):
        for i in range(n):
            weighted[i] = sample_weight[i] * closest[i]
        cumulative = _cumsum(weighted)
        total = cumulative[-1]
        if not total > 0.0:
            # Every point sits on a seed already: fall back to drawing by weight.
            cumulative = _cumsum(sample_weight)
            total = cumulative[-1]
        candidates = np.empty(n_local_trials, dtype=np.int64)
        for t in range(n_local_trials):
            candidates[t] = _draw(cumulative, total, np.random.random())  # noqa: NPY002
        potentials = _candidate_potentials(X, sample_weight, closest, X[candidates], new_closest)
        t_best = 0  # the first lowest, as np.argmin (whose build costs a first fit 0.2 s)
        for t in range(1, n_local_trials):
            if potentials[t] < potentials[t_best]:
                t_best = t
        indices[c] = candidates[t_best]
        for i in range(n):  # a loop: a slice assignment compiles its error message (0.5 s)
            closest[i] = new_closest[t_best, i]
    return indices


_candidate_potentials_serial = serial_twin(_candidate_potentials)
_kmeans_plusplus_serial = serial_twin(
    _kmeans_plusplus_parallel, _candidate_potentials=_candidate_potentials_serial
)
kmeans_plusplus_indices = by_threads(_kmeans_plusplus_parallel, _kmeans_plusplus_serial)


def random_indices(
    n_samples: int, n_clusters: int, sample_weight: np.ndarray, seed: int
) -> np.ndarray:
    """``n_clusters`` distinct row indices drawn with probability proportional to the weights.

    Parameters
    ----------
    n_samples, n_clusters : int — ``n_clusters`` <= number of rows with positive weight is
        not required: rows of zero weight are drawn last, uniformly.
    sample_weight : ndarray (n_samples,) — read.
    seed : int — seeds a ``numpy.random.Generator``.

    Returns
    -------
    ndarray (n_clusters,), int64.
    """
    rng = np.random.default_rng(seed)
    w = np.asarray(sample_weight, dtype=np.float64)
    n_positive = int(np.count_nonzero(w > 0))
    if n_positive >= n_clusters:
        return rng.choice(n_samples, size=n_clusters, replace=False, p=w / w.sum()).astype(np.int64)
    positive = np.flatnonzero(w > 0)
    rest = rng.permutation(np.flatnonzero(w == 0))[: n_clusters - n_positive]
    return np.concatenate([rng.permutation(positive), rest]).astype(np.int64)
