"""Exact k-means with distance bounds: Yinyang group bounds (Hamerly is the one-group case).

Each point keeps an upper bound ``upper`` on the distance to its center and, for every group of
centers, a lower bound ``lower[:, g]`` on the distance to the nearest center of that group other
than its own (Ding et al., "Yinyang K-means", ICML 2015; with a single group this is Hamerly's
algorithm, 2010). When centers move, the bounds are loosened by how far they moved; a point whose
upper bound stays below every lower bound (or below half the distance from its center to the
nearest other center) keeps its label without computing a single distance. A point whose bounds
fail even after its distance to its own center is recomputed is not scanned alone: the unsettled
points of a block of rows get their distances to all centers from one BLAS product (the
screening of :mod:`clusterlab.kernels.center_distances`), which also resets all their bounds.
Measured on K1 (1M x 16, k = 64, one thread) this is 2-3x faster per unsettled point than the scalar
group scan it replaces, and the first iterations, when most points move, no longer cost more
than a Lloyd pass.

Exactness. Labels come from the very numbers Lloyd computes
(:mod:`clusterlab.kernels.center_distances`): the screening only discards centers that a rigorous
error bound proves farther, and every bound is kept conservative in exact arithmetic
with a relative margin ``rho`` covering the rounding of a computed squared distance and an
absolute margin ``slack`` covering the rounding of the bound updates. A point is skipped only
when its center is provably strictly closer than any other under the computed distances, so
labels, ties (lowest center index wins) and hence centers and iteration counts are those of
Lloyd's algorithm, bit for bit.

Centers are stored group by group: ``CT`` holds the centers in "sorted" order (transposed,
``(n_features, n_clusters)``), ``perm[s]`` is the original index of sorted position ``s``,
``pos_of[j]`` the sorted position of original center ``j``; group ``g`` is the sorted range
``group_start[g] .. group_start[g + 1] - 1``. Labels are always original center indices.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clusterlab._config import CACHE
from clusterlab.kernels.center_distances import (
    centered_centers,
    nearest_of_candidates,
    screen_coef,
    screen_product,
    sq_dist_one,
)
from clusterlab.kernels.lloyd import add_row, center_shift, finish_centers, inertia, n_parts

__all__ = [
    "bound_margins",
    "center_groups",
    "column_mean_and_span",
    "half_separation",
    "yinyang",
    "yinyang_step",
]


#: Rows per block of the assignment: the bound tests of a block run first, then one BLAS
#: product screens the rows they could not settle, then the block's rows are added to the
#: cluster sums in order. 256 rows x 64 centers of scratch stay in L2.
BLOCK = 256


@njit(cache=CACHE, parallel=True)
def yinyang_step(  # noqa: PLR0917
    X, sample_weight, centers, screen, moved, bounds, full, part_sums, part_weights
):
    """One assignment step: bound tests, BLAS screening of the unsettled rows, cluster sums.

    Parameters
    ----------
    X : ndarray (n, d), float32 or float64 — read.
    sample_weight : ndarray (n,), dtype of X — read.
    centers : tuple ``(CT, perm, pos_of, group_start)`` — the centers in sorted order (module
        docstring) — read.
    moved : tuple ``(drift, group_drift, half_sep)``, float64 arrays — read: upper bounds on how
        far each center (original order) and each group moved, and a lower bound on half the
        distance from each new center to its nearest other center. Ignored when ``full``.
    bounds : tuple ``(labels, upper, lower, rho, slack)`` — ``labels`` (n,) int64, ``upper``
        (n,) and ``lower`` (n, n_groups) float64 are read and written; ``rho`` is the relative
        margin of a computed distance, ``slack`` the absolute margin of a bound update.
    screen : tuple ``(mean, CcT, norms, max_norm, coef)`` — screening data from
        :func:`clusterlab.kernels.center_distances.centered_centers` and ``screen_coef`` — read.
    full : bool — screen every row (the first assignment: no bounds yet).
    part_sums, part_weights — as in :func:`clusterlab.kernels.lloyd.lloyd_step` (per-block
        cluster sums written, rows added in index order).

    Returns
    -------
    int — number of labels changed.
    """
    n = X.shape[0]
    P = part_sums.shape[0]
    changed = 0
    for p in prange(P):
        changed += _assign_rows(
            X,
            sample_weight,
            centers,
            screen,
            moved,
            bounds,
            full,
            part_sums[p],
            part_weights[p],
            p * n // P,
            (p + 1) * n // P,
        )
    return changed


@njit(cache=CACHE)
def _assign_rows(  # noqa: PLR0917
    X, sample_weight, centers, screen, moved, bounds, full, sums, wts, start, stop
):
    """:func:`yinyang_step` on rows ``start .. stop-1`` (their sums into ``sums``, ``wts``).

    Returns the number of label changes.
    """
    # The per-row loops live in three functions called once per block: numba's IR inlining of
    # per-row helpers was measured 30-70% slower than loops written out in one function body.
    d = X.shape[1]
    k = centers[0].shape[1]
    CcT = screen[1]
    rows = np.empty(BLOCK, dtype=np.int64)
    xb = np.empty(BLOCK * d, dtype=CcT.dtype)
    G = np.empty(BLOCK * k, dtype=CcT.dtype)
    nx = np.empty(BLOCK)
    approx = np.empty(k + 1)
    sums[:] = 0.0
    wts[:] = 0.0
    n_moved = 0
    for b0 in range(start, stop, BLOCK):
        b1 = min(stop, b0 + BLOCK)
        if full:
            m = b1 - b0
            for r in range(m):
                rows[r] = b0 + r
        else:
            m = _unsettled_rows(X, b0, b1, centers, moved, bounds, rows)
        if m > 0:
            screen_product(X, rows, m, screen[0], CcT, xb, nx, G)
            n_moved += _screened_rows(X, rows, m, centers, screen, bounds, nx, G, approx)
        _add_rows(X, sample_weight, bounds[0], b0, b1, sums, wts)
    return n_moved


@njit(cache=CACHE)
def _unsettled_rows(X, b0, b1, centers, moved, bounds, rows):  # noqa: PLR0917
    """Loosen the bounds of rows ``b0 .. b1-1`` by the center moves; list the unsettled ones.

    Writes ``upper`` and ``lower`` of the rows, and ``rows[:m]`` (returns ``m``). A row whose
    loosened bounds fail gets a second chance with its exact distance to its own center (one
    distance instead of k) before it is listed.
    """
    CT, pos_of = centers[0], centers[2]
    drift, group_drift, half_sep = moved
    labels, upper, lower, rho, slack = bounds
    grow = 1.0 + 3.0 * rho
    n_groups = lower.shape[1]
    lab = labels[b0:b1]
    up = upper[b0:b1]
    lo = lower[b0:b1]
    m = 0
    for r in range(b1 - b0):
        a = lab[r]
        u = up[r] + drift[a]
        glb = np.inf
        for g in range(n_groups):
            v = lo[r, g] - group_drift[g]
            lo[r, g] = v
            glb = min(glb, v)
        limit = max(glb, half_sep[a])
        if u * grow + slack >= limit:
            u = np.sqrt(np.float64(sq_dist_one(X, b0 + r, CT, pos_of[a]))) * (1.0 + rho)
            if u * grow + slack >= limit:
                rows[m] = b0 + r
                m += 1
        up[r] = u
    return m


@njit(cache=CACHE)
def _screened_rows(X, rows, m, centers, screen, bounds, nx, G, approx):  # noqa: PLR0917
    """Label rows ``rows[:m]`` exactly from their screened distances; reset all their bounds.

    The upper bound is the screened distance to the new center plus the screening error, each
    group's lower bound the smallest screened distance to another center of the group minus
    it: valid bounds on both the exact and the computed distances. ``approx``
    (k + 1 float64) is scratch. Returns the number of label changes.
    """
    CT, perm, pos_of, group_start = centers
    norms, max_norm, coef = screen[2], screen[3], screen[4]
    labels, upper, lower, rho = bounds[0], bounds[1], bounds[2], bounds[3]
    k = CT.shape[1]
    n_groups = group_start.shape[0] - 1
    a = approx[:k]
    # Screened distances are >= 0, and non-negative doubles order like their bits as int64:
    # the integer minimum vectorises, numba's float min does not (measured ~3x).
    bits = approx.view(np.int64)
    inf_bits = np.int64(0x7FF0000000000000)
    changed = 0
    for r in range(m):
        i = rows[r]
        nxr = nx[r]
        g = G[r * k : (r + 1) * k]
        for s in range(k):
            v = nxr + norms[s] - 2.0 * np.float64(g[s])
            # Clipping at 0 only moves A towards E >= 0, so |A - E| <= e still holds.
            a[s] = v if v > 0.0 else 0.0
        t = np.sqrt(nxr) + max_norm
        err = coef * t * t
        old = labels[i]
        count = 0
        pick = 0
        if old >= 0:
            # Most rows keep their center: if no other center comes within 2 e of it, it is
            # the nearest, found by a vectorised count without any search.
            count, pick = _near(a, a[pos_of[old]] + 2.0 * err)
        if count != 1:
            low = inf_bits
            for s in range(k):
                low = min(low, bits[s])
            bits[k] = low
            count, pick = _near(a, approx[k] + 2.0 * err)
        # The one center within 2 e of the minimum is the exact nearest; otherwise the
        # near-ties are recomputed exactly.
        best = pick if count == 1 else nearest_of_candidates(X, i, CT, perm, approx, err)
        # A + e bounds both the exact and the computed distance from above: no exact distance
        # needed (a 16-term serial sum was ~15% of a fully screened pass, measured).
        upper[i] = np.sqrt(a[best] + err) * (1.0 + rho)
        bits[best] = inf_bits
        for gr in range(n_groups):
            part = bits[group_start[gr] : group_start[gr + 1]]
            low = inf_bits
            for s in range(part.shape[0]):
                low = min(low, part[s])
            bits[k] = low
            lower[i, gr] = np.sqrt(max(approx[k] - err, 0.0)) * (1.0 - rho)
        j = perm[best]
        if j != old:
            labels[i] = j
            changed += 1
    return changed


@njit(cache=CACHE, inline="always")
def _near(a, thr):
    """How many of ``a`` are ``<= thr``, and the sum of their indices (the index if one)."""
    count = 0
    pick = 0
    for s in range(a.shape[0]):
        hit = a[s] <= thr
        count += hit
        pick += s * hit
    return count, pick


@njit(cache=CACHE)
def _add_rows(X, sample_weight, labels, b0, b1, sums, wts):  # noqa: PLR0917
    """Add rows ``b0 .. b1-1`` to their clusters' sums, in order (Lloyd's summation order)."""
    for i in range(b0, b1):
        add_row(X, sample_weight, i, labels[i], sums, wts)


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


@njit(cache=CACHE)
def column_mean_and_span(X):
    """Column means and ``max - min`` of ``X`` in one serial pass: two ``(d,)`` float64 arrays.

    One pass instead of numpy's three (mean, max, min: ~3% of a K1 fit, measured). The mean
    only centres the screening product, so a plain running sum is accurate enough.
    """
    n, d = X.shape
    total = np.zeros(d)
    high = np.empty(d)
    low = np.empty(d)
    for f in range(d):
        high[f] = X[0, f]
        low[f] = X[0, f]
    for i in range(n):
        for f in range(d):
            v = np.float64(X[i, f])
            total[f] += v
            high[f] = max(high[f], v)
            low[f] = min(low[f], v)
    return total / n, high - low


def bound_margins(X: np.ndarray, span: np.ndarray | None = None) -> tuple[float, float]:
    """Relative margin ``rho`` and absolute ``slack`` that keep the bounds conservative.

    ``rho`` covers the rounding of one computed squared distance in the dtype of ``X`` (a sum
    of ``d`` positive terms: relative error below ``(d + 2) * eps``); ``slack`` covers one
    float64 bound update, for distances no larger than the diameter of the data's bounding box
    (``span``, the per-column ``max - min``, computed here if not given).
    """
    eps = float(np.finfo(X.dtype).eps)
    rho = (X.shape[1] + 8) * eps
    if span is None:
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
    from clusterlab._config import _blas_controller

    n = X.shape[0]
    centers = np.array(centers_init, dtype=X.dtype, order="C")
    centers_new = np.empty_like(centers)
    group = center_groups(centers, n_groups)
    perm, pos_of, group_start = _sorted_layout(centers, group)
    mean, span = column_mean_and_span(X)
    mean = mean.astype(X.dtype)
    rho, slack = bound_margins(X, span)
    labels = np.full(n, -1, dtype=np.int64)
    bounds = (labels, np.empty(n), np.empty((n, group_start.size - 1)), rho, slack)
    # The screening product runs in the data's dtype. A float32 product for float64 data was
    # measured no faster on K1 overall, and its 2^29 times looser bound would send the near-ties
    # of badly scaled data (features of very different magnitudes) to exact recomputation.
    coef = screen_coef(X.dtype, X.shape[1])
    P = n_parts(n)
    part_sums = np.empty((P, *centers.shape))
    part_weights = np.empty((P, centers.shape[0]))
    k = centers.shape[0]
    moved = (np.zeros(k), np.zeros(group_start.size - 1), np.zeros(k))
    full = True
    strict = False
    it = 0
    # Each parallel block calls BLAS on its own small product: BLAS must not start threads.
    with _blas_controller().limit(limits=1, user_api="blas"):
        for it in range(max_iter):  # noqa: B007 - the count after the loop is n_iter - 1
            layout = _layout(centers, perm, pos_of, group_start, mean, coef)
            changed = yinyang_step(
                X, sample_weight, *layout, moved, bounds, full, part_sums, part_weights
            )
            full = False
            finish_centers(X, sample_weight, labels, centers, part_sums, part_weights, centers_new)
            shift = center_shift(centers, centers_new)
            centers, centers_new = centers_new, centers
            if changed == 0:
                strict = True
                break
            moved = _moved(centers, shift, group, group_start, rho, slack)
            if float(np.dot(shift, shift)) <= tol:
                break
        if not strict:
            # Final assignment to the last centers (the sums it accumulates are not used).
            layout = _layout(centers, perm, pos_of, group_start, mean, coef)
            yinyang_step(X, sample_weight, *layout, moved, bounds, False, part_sums, part_weights)
    return centers, labels, inertia(X, sample_weight, centers, labels), it + 1


def _layout(centers, perm, pos_of, group_start, mean, coef):  # noqa: PLR0917
    """The ``centers`` and ``screen`` arguments of :func:`yinyang_step` for these centers."""
    CT = np.ascontiguousarray(centers[perm].T)
    CcT = np.empty_like(CT)
    norms, max_norm = centered_centers(CT, mean, CcT)
    return (CT, perm, pos_of, group_start), (mean, CcT, norms, max_norm, coef)


def _moved(centers, shift, group, group_start, rho, slack):  # noqa: PLR0917
    """The ``moved`` argument of :func:`yinyang_step`: how far the centers moved."""
    drift = shift * (1.0 + rho) + slack
    group_drift = np.zeros(group_start.size - 1)
    np.maximum.at(group_drift, group, drift)
    return drift, group_drift, half_separation(centers, rho, slack)
