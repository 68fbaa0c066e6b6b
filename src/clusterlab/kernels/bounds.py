"""Exact k-means with distance bounds: Yinyang group bounds (Hamerly is the one-group case).

Each point keeps an upper bound ``upper`` on the distance to its center and, for every group of
centers, a lower bound ``lower[:, g]`` on the distance to the nearest center of that group other
than its own (Ding et al., "Yinyang K-means", ICML 2015; with a single group this is Hamerly's
algorithm, 2010). When centers move, the bounds are loosened by how far they moved; a point whose
upper bound stays below every lower bound (or below half the distance from its center to the
nearest other center) keeps its label without computing a single distance, and otherwise only
the groups whose bound it violates are scanned.

Exactness. The distances actually computed are the very numbers Lloyd computes
(:mod:`clusterlab.kernels.distances`), and every bound is kept conservative in exact arithmetic
with a relative margin ``rho`` covering the rounding of a computed squared distance and an
absolute margin ``slack`` covering the rounding of the bound updates. A point is skipped only
when its center is provably strictly closer than any other under the computed distances, so
labels, ties (lowest center index wins) and hence centers and iteration counts are those of
Lloyd's algorithm, bit for bit.

Centers are stored group by group: ``CT`` holds the centers in "sorted" order (transposed,
``(n_features, n_clusters)``), ``perm[s]`` is the original index of sorted position ``s``,
``pos_of[j]`` the sorted position of original center ``j``; group ``g`` is the sorted range
``group_start[g] .. group_start[g + 1] - 1``; ``group_of[j]`` the group of original center ``j``.
Labels are always original center indices.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clusterlab._config import CACHE
from clusterlab.kernels.distances import sq_dist_block, sq_dist_block2, sq_dist_one
from clusterlab.kernels.lloyd import add_row, center_shift, finish_centers, inertia, n_parts

__all__ = [
    "bound_margins",
    "center_groups",
    "half_separation",
    "yinyang",
    "yinyang_assign_all",
    "yinyang_step",
]


@njit(cache=CACHE, inline="always")
def _scan_group(buf, perm, s0, s1, best, best_d):  # noqa: PLR0917
    """Minimum, its original index and second minimum of ``buf[s0:s1]``, and the running best.

    The best is updated with Lloyd's tie rule (smaller distance, then smaller original index).
    """
    m1 = np.inf
    m2 = np.inf
    j1 = -1
    for s in range(s0, s1):
        d = np.float64(buf[s])
        j = perm[s]
        if d < m1:
            m2 = m1
            m1 = d
            j1 = j
        elif d < m2:
            m2 = d
        if d < best_d or (d == best_d and j < best):
            best_d = d
            best = j
    return m1, j1, m2, best, best_d


@njit(cache=CACHE, parallel=True)
def yinyang_assign_all(  # noqa: PLR0917
    X, sample_weight, CT, perm, group_start, labels, upper, lower, rho, part_sums, part_weights
):
    """First assignment: every distance computed; labels and all bounds set.

    Parameters
    ----------
    X : ndarray (n, d), float32 or float64 — read.
    CT, perm, group_start — centers in sorted order (module docstring) — read.
    labels : ndarray (n,), int64 — read (previous labels, -1 if none) and written.
    upper : ndarray (n,), float64 — written.
    lower : ndarray (n, n_groups), float64 — written.
    rho : float — relative margin for computed distances.
    sample_weight, part_sums, part_weights — as in
        :func:`clusterlab.kernels.lloyd.lloyd_step` (per-block cluster sums written).

    Returns
    -------
    int — number of labels changed.
    """
    n = X.shape[0]
    k = CT.shape[1]
    n_groups = group_start.shape[0] - 1
    P = part_sums.shape[0]
    changed = 0
    for p in prange(P):
        buf0 = np.empty(k, dtype=X.dtype)
        buf1 = np.empty(k, dtype=X.dtype)
        gm1 = np.empty(n_groups)
        gj1 = np.empty(n_groups, dtype=np.int64)
        gm2 = np.empty(n_groups)
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
                moved += _first_bounds(
                    X,
                    sample_weight,
                    i,
                    buf0,
                    perm,
                    group_start,
                    labels,
                    upper,
                    lower,
                    rho,
                    gm1,
                    gj1,
                    gm2,
                    sums,
                    wts,
                )
                moved += _first_bounds(
                    X,
                    sample_weight,
                    i + 1,
                    buf1,
                    perm,
                    group_start,
                    labels,
                    upper,
                    lower,
                    rho,
                    gm1,
                    gj1,
                    gm2,
                    sums,
                    wts,
                )
            else:
                sq_dist_block(X, i, CT, 0, k, buf0)
                moved += _first_bounds(
                    X,
                    sample_weight,
                    i,
                    buf0,
                    perm,
                    group_start,
                    labels,
                    upper,
                    lower,
                    rho,
                    gm1,
                    gj1,
                    gm2,
                    sums,
                    wts,
                )
        changed += moved
    return changed


@njit(cache=CACHE, inline="always")
def _first_bounds(  # noqa: PLR0917
    X,
    sample_weight,
    i,
    buf,
    perm,
    group_start,
    labels,
    upper,
    lower,
    rho,
    gm1,
    gj1,
    gm2,
    sums,
    wts,
):
    """Label row ``i`` from all its distances ``buf`` (sorted order), set its bounds, add it to
    the sums. Returns 1 if the label changed, else 0."""
    n_groups = group_start.shape[0] - 1
    best = -1
    best_d = np.inf
    for g in range(n_groups):
        m1, j1, m2, best, best_d = _scan_group(
            buf, perm, group_start[g], group_start[g + 1], best, best_d
        )
        gm1[g] = m1
        gj1[g] = j1
        gm2[g] = m2
    for g in range(n_groups):
        other = gm2[g] if gj1[g] == best else gm1[g]
        lower[i, g] = np.sqrt(other) * (1.0 - rho)
    upper[i] = np.sqrt(best_d) * (1.0 + rho)
    moved = 0
    if labels[i] != best:
        moved = 1
        labels[i] = best
    add_row(X, sample_weight, i, best, sums, wts)
    return moved


@njit(cache=CACHE, parallel=True)
def yinyang_step(  # noqa: PLR0917
    X,
    sample_weight,
    CT,
    perm,
    pos_of,
    group_start,
    group_of,
    drift,
    group_drift,
    half_sep,
    labels,
    upper,
    lower,
    rho,
    slack,
    part_sums,
    part_weights,
):
    """One assignment step after the centers moved, skipping what the bounds allow.

    Parameters
    ----------
    X : ndarray (n, d), float32 or float64 — read.
    CT, perm, pos_of, group_start, group_of — the new centers in sorted order — read.
    drift : ndarray (k,), float64 — upper bound on how far each center moved (original order).
    group_drift : ndarray (n_groups,), float64 — maximum drift in each group.
    half_sep : ndarray (k,), float64 — lower bound on half the distance from each (new) center
        to its nearest other center.
    labels : ndarray (n,), int64 — read and written.
    upper : ndarray (n,), float64 — read and written.
    lower : ndarray (n, n_groups), float64 — read and written.
    rho : float — relative margin of computed distances; slack : float — absolute margin.
    sample_weight, part_sums, part_weights — as in
        :func:`clusterlab.kernels.lloyd.lloyd_step` (per-block cluster sums written).

    Returns
    -------
    int — number of labels changed.
    """
    n = X.shape[0]
    k = CT.shape[1]
    n_groups = group_start.shape[0] - 1
    P = part_sums.shape[0]
    grow = 1.0 + 3.0 * rho
    changed = 0
    for p in prange(P):
        buf = np.empty(k, dtype=X.dtype)
        gm1 = np.empty(n_groups)
        gj1 = np.empty(n_groups, dtype=np.int64)
        gm2 = np.empty(n_groups)
        sums = part_sums[p]
        wts = part_weights[p]
        sums[:] = 0.0
        wts[:] = 0.0
        for i in range(p * n // P, (p + 1) * n // P):
            a = labels[i]
            u = upper[i] + drift[a]
            glb = np.inf
            for g in range(n_groups):
                v = lower[i, g] - group_drift[g]
                lower[i, g] = v
                glb = min(glb, v)
            limit = max(glb, half_sep[a])
            if u * grow + slack >= limit:
                u = _reassign(
                    X,
                    i,
                    CT,
                    perm,
                    pos_of,
                    group_start,
                    group_of,
                    labels,
                    lower,
                    rho,
                    slack,
                    limit,
                    buf,
                    gm1,
                    gj1,
                    gm2,
                )
                if labels[i] != a:
                    changed += 1
            upper[i] = u
            add_row(X, sample_weight, i, labels[i], sums, wts)
    return changed


@njit(cache=CACHE, inline="always")
def _reassign(  # noqa: PLR0917
    X,
    i,
    CT,
    perm,
    pos_of,
    group_start,
    group_of,
    labels,
    lower,
    rho,
    slack,
    limit,
    buf,
    gm1,
    gj1,
    gm2,
):
    """Tighten the upper bound of row ``i``, then scan the groups its bounds cannot exclude.

    Writes ``labels[i]`` and ``lower[i]``; returns the new upper bound.
    """
    n_groups = group_start.shape[0] - 1
    grow = 1.0 + 3.0 * rho
    a = labels[i]
    da = np.float64(sq_dist_one(X, i, CT, pos_of[a]))
    u = np.sqrt(da) * (1.0 + rho)
    if u * grow + slack < limit:
        return u
    reach = u * grow + slack
    best = a
    best_d = da
    for g in range(n_groups):
        gj1[g] = -2  # group not scanned
        if reach < lower[i, g]:
            continue
        s0 = group_start[g]
        s1 = group_start[g + 1]
        sq_dist_block(X, i, CT, s0, s1, buf)
        m1, j1, m2, best, best_d = _scan_group(buf, perm, s0, s1, best, best_d)
        gm1[g] = m1
        gj1[g] = j1
        gm2[g] = m2
    for g in range(n_groups):
        if gj1[g] != -2:
            other = gm2[g] if gj1[g] == best else gm1[g]
            lower[i, g] = np.sqrt(other) * (1.0 - rho)
    if best != a:
        ga = group_of[a]
        if gj1[ga] == -2:
            lower[i, ga] = min(lower[i, ga], np.sqrt(da) * (1.0 - rho))
        labels[i] = best
    return np.sqrt(best_d) * (1.0 + rho)


@njit(cache=CACHE)
def half_separation(centers, rho, slack):
    """Lower bound on half the distance from each center to its nearest other center, (k,).

    ``inf`` when there is a single center.
    """
    k, d = centers.shape
    out = np.full(k, np.inf)
    for j in range(k):
        for m in range(j + 1, k):
            acc = 0.0
            for f in range(d):
                t = np.float64(centers[j, f]) - np.float64(centers[m, f])
                acc += t * t
            out[j] = min(out[j], acc)
            out[m] = min(out[m], acc)
    for j in range(k):
        out[j] = 0.5 * np.sqrt(out[j]) * (1.0 - rho) - slack
    return out


def bound_margins(X: np.ndarray) -> tuple[float, float]:
    """Relative margin ``rho`` and absolute ``slack`` that keep the bounds conservative.

    ``rho`` covers the rounding of one computed squared distance in the dtype of ``X`` (a sum
    of ``d`` positive terms: relative error below ``(d + 2) * eps``); ``slack`` covers one
    float64 bound update, for distances no larger than the diameter of the data's bounding box.
    """
    eps = float(np.finfo(X.dtype).eps)
    rho = (X.shape[1] + 8) * eps
    span = np.max(X, axis=0).astype(np.float64) - np.min(X, axis=0)
    diameter = float(np.sqrt(np.dot(span, span)))
    slack = 8.0 * np.finfo(np.float64).eps * max(diameter, np.finfo(np.float64).tiny)
    return rho, slack


def center_groups(centers: np.ndarray, n_groups: int, n_iter: int = 5) -> np.ndarray:
    """Group of each center: a few deterministic Lloyd iterations on the centers themselves.

    Returns ``(n_clusters,)`` int64 group ids ``0..G-1`` (G <= ``n_groups``; empty groups are
    dropped). The grouping only affects speed, never the result.
    """
    k = centers.shape[0]
    n_groups = max(1, min(n_groups, k))
    if n_groups == 1:
        return np.zeros(k, dtype=np.int64)
    c = centers.astype(np.float64)
    seeds = c[np.linspace(0, k - 1, n_groups).astype(np.int64)]
    group = np.zeros(k, dtype=np.int64)
    for _ in range(n_iter):
        d = ((c[:, None, :] - seeds[None, :, :]) ** 2).sum(axis=2)
        group = d.argmin(axis=1)
        for g in range(n_groups):
            members = group == g
            if members.any():
                seeds[g] = c[members].mean(axis=0)
    _, group = np.unique(group, return_inverse=True)
    return group.astype(np.int64)


def _sorted_layout(centers, group):
    perm = np.argsort(group, kind="stable").astype(np.int64)
    pos_of = np.empty_like(perm)
    pos_of[perm] = np.arange(perm.size)
    counts = np.bincount(group)
    group_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return perm, pos_of, group_start


def yinyang(X, sample_weight, centers_init, max_iter, tol, n_groups):  # noqa: PLR0917
    """Run exact k-means with group bounds; same contract and result as ``lloyd``.

    Parameters
    ----------
    X, sample_weight, centers_init, max_iter, tol
        As :func:`clusterlab.kernels.lloyd.lloyd`.
    n_groups : int >= 1
        Number of center groups (1 gives Hamerly's algorithm).

    Returns
    -------
    centers, labels, inertia, n_iter — exactly those of Lloyd's algorithm from the same start.
    """
    n = X.shape[0]
    centers = np.array(centers_init, dtype=X.dtype, order="C")
    centers_new = np.empty_like(centers)
    group = center_groups(centers, n_groups)
    perm, pos_of, group_start = _sorted_layout(centers, group)
    G = group_start.size - 1
    rho, slack = bound_margins(X)
    labels = np.full(n, -1, dtype=np.int64)
    upper = np.empty(n)
    lower = np.empty((n, G))
    P = n_parts(n)
    part_sums = np.empty((P, *centers.shape))
    part_weights = np.empty((P, centers.shape[0]))
    strict = False
    it = 0
    state = None
    for it in range(max_iter):  # noqa: B007 - the count after the loop is n_iter - 1
        if state is None:
            changed = yinyang_assign_all(
                X,
                sample_weight,
                np.ascontiguousarray(centers[perm].T),
                perm,
                group_start,
                labels,
                upper,
                lower,
                rho,
                part_sums,
                part_weights,
            )
        else:
            changed = yinyang_step(
                X,
                sample_weight,
                *state,
                labels,
                upper,
                lower,
                rho,
                slack,
                part_sums,
                part_weights,
            )
        finish_centers(X, sample_weight, labels, centers, part_sums, part_weights, centers_new)
        shift = center_shift(centers, centers_new)
        centers, centers_new = centers_new, centers
        if changed == 0:
            strict = True
            break
        state = _moved_state(centers, shift, group, perm, pos_of, group_start, rho, slack)
        if float(np.dot(shift, shift)) <= tol:
            break
    if not strict:
        # Final assignment to the last centers (the sums it accumulates are not used).
        yinyang_step(
            X, sample_weight, *state, labels, upper, lower, rho, slack, part_sums, part_weights
        )
    return centers, labels, inertia(X, sample_weight, centers, labels), it + 1


def _moved_state(centers, shift, group, perm, pos_of, group_start, rho, slack):  # noqa: PLR0917
    """Arguments of :func:`yinyang_step` describing the new centers and how far they moved."""
    drift = shift * (1.0 + rho) + slack
    group_drift = np.zeros(group_start.size - 1)
    np.maximum.at(group_drift, group, drift)
    return (
        np.ascontiguousarray(centers[perm].T),
        perm,
        pos_of,
        group_start,
        group,
        drift,
        group_drift,
        half_separation(centers, rho, slack),
    )
