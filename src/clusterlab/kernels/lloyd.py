"""Lloyd's k-means steps: assignment (E), weighted center update (M), inertia.

Every reduction over points (center sums, inertia) is done per fixed block of rows and then
summed block by block in order, so results are bitwise identical for any number of threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clusterlab._config import CACHE
from clusterlab.kernels.center_distances import CHUNK, sq_dist_block, sq_dist_block2, sq_dist_one
from clusterlab.kernels.variants import by_threads, serial_twin

__all__ = [
    "assign_labels",
    "center_shift",
    "cluster_inertia",
    "finish_centers",
    "inertia",
    "lloyd_step",
    "n_parts",
    "relocate_empty_clusters",
    "rows_differ",
    "update_centers",
]

#: Upper limit on the number of row blocks of the center update (bounds its scratch memory to
#: ``_MAX_PARTS * n_clusters * n_features`` doubles). Fixed, not the thread count.
_MAX_PARTS = 32


@njit(cache=CACHE, parallel=True)
def _assign_labels_parallel(X, centers, labels, sq_dist):
    """Nearest center of every row (ties go to the lowest center index).

    Parameters
    ----------
    X : ndarray (n_samples, n_features), float32 or float64 — read.
    centers : ndarray (n_clusters, n_features), same dtype — read.
    labels : ndarray (n_samples,), int64 — written: index of the nearest center.
    sq_dist : ndarray (n_samples,), dtype of X — written: squared distance to that center.

    Returns
    -------
    int — how many rows got a label different from the one ``labels`` held on entry.
    """
    n = X.shape[0]
    k = centers.shape[0]
    CT = np.ascontiguousarray(centers.T)
    n_chunks = (n + CHUNK - 1) // CHUNK
    changed = 0
    for c in prange(n_chunks):
        buf0 = np.empty(k, dtype=X.dtype)
        buf1 = np.empty(k, dtype=X.dtype)
        stop = min(n, (c + 1) * CHUNK)
        moved = 0
        # Two rows per pass over the centers, as in lloyd_step (each center loaded once for
        # both; measured 2x faster for k = 2, 1.1x for k = 64); the distances are bitwise those
        # of one row at a time.
        for i in range(c * CHUNK, stop, 2):
            if i + 1 < stop:
                sq_dist_block2(X, i, CT, 0, k, buf0, buf1)
                moved += _label_row(i + 1, buf1, labels, sq_dist)
            else:
                sq_dist_block(X, i, CT, 0, k, buf0)
            moved += _label_row(i, buf0, labels, sq_dist)
        changed += moved
    return changed


_assign_labels_serial = serial_twin(_assign_labels_parallel)
assign_labels = by_threads(_assign_labels_parallel, _assign_labels_serial)


@njit(cache=CACHE, inline="always")
def _label_row(i, buf, labels, sq_dist):
    """Label row ``i`` by the smallest of ``buf`` (lowest index on ties), store that distance.

    Returns 1 if the label changed, else 0.
    """
    best = 0
    best_d = buf[0]
    for j in range(1, buf.shape[0]):
        if buf[j] < best_d:
            best_d = buf[j]
            best = j
    sq_dist[i] = best_d
    if labels[i] != best:
        labels[i] = best
        return 1
    return 0


def n_parts(n_samples: int) -> int:
    """Number of row blocks for per-cluster sums: fixed by ``n_samples``, never by threads."""
    return max(1, min(_MAX_PARTS, n_samples // 2048))


@njit(cache=CACHE, parallel=True)
def _lloyd_step_parallel(X, sample_weight, centers, labels, part_sums, part_weights):  # noqa: PLR0917
    """One fused Lloyd iteration pass: assign every row, accumulate per-block cluster sums.

    Parameters
    ----------
    X : ndarray (n_samples, n_features), float32 or float64 — read.
    sample_weight : ndarray (n_samples,), dtype of X — read.
    centers : ndarray (n_clusters, n_features), dtype of X — read.
    labels : ndarray (n_samples,), int64 — read (previous labels) and written.
    part_sums : ndarray (P, n_clusters, n_features), float64 — written: weighted sums of the
        rows of block ``p`` (rows ``p*n//P`` to ``(p+1)*n//P``) per cluster.
    part_weights : ndarray (P, n_clusters), float64 — written: their weights.

    Returns
    -------
    int — how many rows changed label.
    """
    n = X.shape[0]
    k = centers.shape[0]
    P = part_sums.shape[0]
    CT = np.ascontiguousarray(centers.T)
    changed = 0
    for p in prange(P):
        buf0 = np.empty(k, dtype=X.dtype)
        buf1 = np.empty(k, dtype=X.dtype)
        sums = part_sums[p]
        wts = part_weights[p]
        sums[:] = 0.0
        wts[:] = 0.0
        start = p * n // P
        stop = (p + 1) * n // P
        moved = 0
        for i in range(start, stop, 2):
            if i + 1 < stop:
                sq_dist_block2(X, i, CT, 0, k, buf0, buf1)
                moved += _assign_row(X, sample_weight, i, buf0, labels, sums, wts)
                moved += _assign_row(X, sample_weight, i + 1, buf1, labels, sums, wts)
            else:
                sq_dist_block(X, i, CT, 0, k, buf0)
                moved += _assign_row(X, sample_weight, i, buf0, labels, sums, wts)
        changed += moved
    return changed


_lloyd_step_serial = serial_twin(_lloyd_step_parallel)
lloyd_step = by_threads(_lloyd_step_parallel, _lloyd_step_serial)


@njit(cache=CACHE, inline="always")
def _assign_row(X, sample_weight, i, buf, labels, sums, wts):  # noqa: PLR0917
    """Label row ``i`` by the smallest of ``buf`` (lowest index on ties); add it to the sums.

    Returns 1 if the label changed, else 0.
    """
    best = 0
    best_d = buf[0]
    for j in range(1, buf.shape[0]):
        if buf[j] < best_d:
            best_d = buf[j]
            best = j
    moved = 0
    if labels[i] != best:
        moved = 1
        labels[i] = best
    add_row(X, sample_weight, i, best, sums, wts)
    return moved


@njit(cache=CACHE, inline="always")
def add_row(X, sample_weight, i, c, sums, wts):  # noqa: PLR0917
    """Add row ``i`` of ``X`` with its weight to center ``c``'s running sums (float64).

    Writes ``sums[c, :]`` and ``wts[c]``; every assignment path adds a row this one way, so the
    accelerated algorithms sum in exactly Lloyd's order.
    """
    w = np.float64(sample_weight[i])
    wts[c] += w
    for f in range(X.shape[1]):
        sums[c, f] += w * X[i, f]


@njit(cache=CACHE, parallel=True)
def _weighted_sums(X, sample_weight, labels, part_sums, part_weights):
    n, d = X.shape
    P = part_sums.shape[0]
    for p in prange(P):
        sums = part_sums[p]
        wts = part_weights[p]
        sums[:] = 0.0
        wts[:] = 0.0
        for i in range(p * n // P, (p + 1) * n // P):
            j = labels[i]
            w = np.float64(sample_weight[i])
            wts[j] += w
            for f in range(d):
                sums[j, f] += w * X[i, f]


# Serial: only empty-cluster relocation needs it (rare); parallel tripled its compile time.
@njit(cache=CACHE)
def _distances_to_own_center(X, centers, labels):
    CT = np.ascontiguousarray(centers.T)
    out = np.empty(X.shape[0])
    for i in range(X.shape[0]):
        out[i] = sq_dist_one(X, i, CT, labels[i])
    return out


@njit(cache=CACHE)
def relocate_empty_clusters(X, sample_weight, centers_old, labels, sums, weights):  # noqa: PLR0917
    """Give every empty cluster a point: the rows farthest from their own center.

    The rule (close to scikit-learn's): empty clusters, in increasing index order, take the rows
    with the largest squared distance to their assigned center under ``centers_old``, farthest
    first. A row is taken only if it is not on its center (distance > 0) and its cluster keeps
    some weight after giving it up. The row's weight and weighted coordinates move from its old
    cluster's sums to the empty cluster (labels are not changed; the next assignment step does
    that). Clusters left empty (fewer distinct points than clusters) keep their old center.

    Parameters
    ----------
    X, sample_weight, centers_old, labels — read (as in :func:`update_centers`).
    sums : ndarray (n_clusters, n_features), float64 — weighted sums; updated in place.
    weights : ndarray (n_clusters,), float64 — cluster weights; updated in place.

    Returns
    -------
    int — the number of clusters relocated.
    """
    empty = np.flatnonzero(weights == 0.0)
    if empty.shape[0] == 0:
        return 0
    dist = _distances_to_own_center(X, centers_old, labels)
    order = np.argsort(-dist, kind="mergesort")
    moved = 0
    pos = 0
    for j in empty:
        while pos < order.shape[0]:
            i = order[pos]
            pos += 1
            if not dist[i] > 0.0:
                pos = order.shape[0]
                break
            old = labels[i]
            w = np.float64(sample_weight[i])
            if w > 0.0 and weights[old] - w > 0.0:
                for f in range(X.shape[1]):
                    sums[old, f] -= w * X[i, f]
                    sums[j, f] = w * X[i, f]
                weights[old] -= w
                weights[j] = w
                moved += 1
                break
    return moved


def finish_centers(X, sample_weight, labels, centers_old, part_sums, part_weights, centers_new):  # noqa: PLR0917
    """Centers from per-block sums: reduce the blocks in order, relocate empty clusters, divide.

    numpy, not a kernel: a few operations on ``(n_clusters, n_features)`` arrays, and the
    relocation kernel (with its sort) compiles only when a cluster does become empty, which
    saved about 3 s of compiling on a first fit (measured, 2 cores).

    Parameters
    ----------
    X, sample_weight, labels — read (for relocation only).
    centers_old : ndarray (n_clusters, n_features) — read: the centers of the last assignment.
    part_sums, part_weights — read: as written by :func:`lloyd_step`.
    centers_new : ndarray (n_clusters, n_features), dtype of X — written.

    Returns
    -------
    weights : ndarray (n_clusters,), float64 — cluster weights after relocation.
    n_relocated : int.
    """
    sums = part_sums[0].copy()
    weights = part_weights[0].copy()
    for p in range(1, part_sums.shape[0]):  # in block order: the same sums for any threads
        sums += part_sums[p]
        weights += part_weights[p]
    n_relocated = 0
    if not np.all(weights > 0.0):
        n_relocated = relocate_empty_clusters(X, sample_weight, centers_old, labels, sums, weights)
    nonempty = weights > 0.0
    centers_new[:] = centers_old
    centers_new[nonempty] = sums[nonempty] / weights[nonempty, None]
    return weights, int(n_relocated)


def update_centers(X, sample_weight, labels, centers_old, centers_new):
    """Weighted mean of each cluster (M-step), relocating empty clusters first.

    Parameters
    ----------
    X : ndarray (n_samples, n_features), float32 or float64 — read.
    sample_weight : ndarray (n_samples,), dtype of X — read.
    labels : ndarray (n_samples,), int64 — read.
    centers_old : ndarray (n_clusters, n_features) — read (centers of the last assignment).
    centers_new : ndarray (n_clusters, n_features), dtype of X — written: the new centers.

    Returns
    -------
    weights : ndarray (n_clusters,), float64 — total weight of each cluster after relocation.
    n_relocated : int — number of empty clusters that were given a point.
    """
    k, d = centers_old.shape
    P = n_parts(X.shape[0])
    part_sums = np.empty((P, k, d))
    part_weights = np.empty((P, k))
    _weighted_sums(X, sample_weight, labels, part_sums, part_weights)
    return finish_centers(
        X, sample_weight, labels, centers_old, part_sums, part_weights, centers_new
    )


@njit(cache=CACHE)
def center_shift(centers_old, centers_new):
    """Euclidean distance each center moved: ``(n_clusters,)`` float64."""
    k, d = centers_old.shape
    out = np.empty(k)
    for j in range(k):
        acc = 0.0
        for f in range(d):
            t = np.float64(centers_new[j, f]) - np.float64(centers_old[j, f])
            acc += t * t
        out[j] = np.sqrt(acc)
    return out


@njit(cache=CACHE, parallel=True)
def _inertia_parallel(X, sample_weight, centers, labels):
    """``sum_i w_i * ||x_i - centers[labels_i]||^2`` as float64 (fixed-block summation)."""
    n = X.shape[0]
    CT = np.ascontiguousarray(centers.T)
    n_chunks = (n + CHUNK - 1) // CHUNK
    partial = np.zeros(n_chunks)
    for c in prange(n_chunks):
        acc = 0.0
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            acc += np.float64(sample_weight[i]) * np.float64(sq_dist_one(X, i, CT, labels[i]))
        partial[c] = acc
    # An explicit loop: in a parallel function numba turns ``partial.sum()`` into a parallel
    # reduction whose rounding depends on the thread count.
    total = 0.0
    for c in range(n_chunks):
        total += partial[c]
    return total


_inertia_serial = serial_twin(_inertia_parallel)
inertia = by_threads(_inertia_parallel, _inertia_serial)


@njit(cache=CACHE, parallel=True)
def _cluster_inertia_parallel(X, sample_weight, centers, labels):
    """Per-cluster ``sum_i w_i * ||x_i - centers[labels_i]||^2``, ``(n_clusters,)`` float64.

    The same exact distances and fixed-block summation as :func:`inertia` (one value per
    cluster instead of one in total), so the result does not depend on the thread count.
    """
    n = X.shape[0]
    k = centers.shape[0]
    CT = np.ascontiguousarray(centers.T)
    n_chunks = (n + CHUNK - 1) // CHUNK
    partial = np.zeros((n_chunks, k))
    for c in prange(n_chunks):
        acc = partial[c]
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            j = labels[i]
            acc[j] += np.float64(sample_weight[i]) * np.float64(sq_dist_one(X, i, CT, j))
    total = np.zeros(k)
    for c in range(n_chunks):  # in order: a parallel reduction would round by thread count
        for j in range(k):
            total[j] += partial[c, j]
    return total


_cluster_inertia_serial = serial_twin(_cluster_inertia_parallel)
cluster_inertia = by_threads(_cluster_inertia_parallel, _cluster_inertia_serial)


@njit(cache=CACHE)
def rows_differ(X):
    """Whether any row of ``X`` differs from the first (stops at the first that does)."""
    for i in range(1, X.shape[0]):
        for f in range(X.shape[1]):
            if X[i, f] != X[0, f]:
                return True
    return False


@njit(cache=CACHE)
def mean_feature_variance(X):
    """Mean over features of the (unweighted, population) variance of each column, float64.

    Two serial passes over ``X`` (cheap next to one assignment step; a parallel region costs
    more than it saves on a loaded machine); no temporary of the size of ``X``.
    """
    n, d = X.shape
    mean = np.zeros(d)
    for i in range(n):
        for f in range(d):
            mean[f] += X[i, f]
    for f in range(d):
        mean[f] /= n
    var = np.zeros(d)
    for i in range(n):
        for f in range(d):
            t = np.float64(X[i, f]) - mean[f]
            var[f] += t * t
    # loops, not array expressions and .mean(): the same numbers, and a first fit compiles
    # neither (0.3 s of CPU)
    total = 0.0
    for f in range(d):
        total += var[f] / n
    return total / d


def lloyd(X, sample_weight, centers_init, max_iter, tol):
    """Run Lloyd's algorithm from ``centers_init`` until convergence (scikit-learn's rule).

    Each iteration assigns every row (E), then recomputes the centers (M). It stops after the
    first iteration whose assignment changed no label ("strict convergence"), or whose total
    squared center shift is ``<= tol`` (then a last assignment makes labels match the centers),
    or after ``max_iter`` iterations.

    Parameters
    ----------
    X : ndarray (n_samples, n_features), float32 or float64, C-contiguous — read.
    sample_weight : ndarray (n_samples,), dtype of X — read.
    centers_init : ndarray (n_clusters, n_features), dtype of X — read (not modified).
    max_iter : int >= 1.
    tol : float — absolute tolerance on ``sum_j shift_j ** 2`` (already scaled to the data).

    Returns
    -------
    centers : ndarray (n_clusters, n_features), dtype of X.
    labels : ndarray (n_samples,), int64.
    inertia : float.
    n_iter : int.
    """
    n = X.shape[0]
    centers = np.array(centers_init, dtype=X.dtype, order="C")
    centers_new = np.empty_like(centers)
    labels = np.full(n, -1, dtype=np.int64)
    P = n_parts(n)
    part_sums = np.empty((P, *centers.shape))
    part_weights = np.empty((P, centers.shape[0]))
    strict = False
    it = 0
    for it in range(max_iter):  # noqa: B007 - the count after the loop is n_iter - 1
        changed = lloyd_step(X, sample_weight, centers, labels, part_sums, part_weights)
        finish_centers(X, sample_weight, labels, centers, part_sums, part_weights, centers_new)
        shift = center_shift(centers, centers_new)
        centers, centers_new = centers_new, centers
        if changed == 0:
            strict = True
            break
        if float(np.dot(shift, shift)) <= tol:
            break
    if not strict:
        # lloyd_step labels exactly as assign_labels does (same distances, same ties); its sums
        # go unused, and a first fit compiles one kernel fewer
        lloyd_step(X, sample_weight, centers, labels, part_sums, part_weights)
    return centers, labels, inertia(X, sample_weight, centers, labels), it + 1
