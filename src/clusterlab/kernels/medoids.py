"""k-medoids: BUILD, LAB, k-medoids++, FasterPAM, PAM's SWAP and the alternating algorithm.

Schubert & Rousseeuw, "Fast and eager k-medoids clustering: O(k) runtime improvement of the PAM,
CLARA, and CLARANS algorithms", Information Systems 101 (2021); Kaufman & Rousseeuw (PAM's BUILD
and SWAP); Park & Jun (2009) (alternating).

Data contract, shared by the kernels here:

- ``D`` : float64 (n, n) — a symmetric distance matrix, read as ``D[c, o]`` (the distance of
  point ``o`` to candidate ``c``: one contiguous row per candidate); or an empty (0, 0) array,
  and then every distance is computed on the fly from ``X``.
- ``X`` : float64 (n, d) — the rows (encoded rows for Gower); read when ``D`` is empty.
- ``metric`` : int — one of the codes below. ``norms`` : float64 (n,) — row norms (cosine).
  ``gw`` : float64 (d,) — Gower column weights; ``n_interval`` — Gower interval columns.
- ``w`` : float64 (n,) — non-negative point weights.
- ``medoids`` : int64 (k,) — row indices; ``medoids[s]`` is the medoid of slot ``s``.

Points of weight 0 are never made medoids (they are not in the data the weights describe).
One dtype everywhere (float64) keeps one compiled version of each kernel; a computed distance
is bitwise the matrix entry, so the on-the-fly path takes exactly the matrix path's decisions.
Losses and gains are accumulated in float64, point by point in
index order, so every result is the same for any thread count: the parallel loops run over
candidates (each candidate's sum is one thread's) or over points (independent updates).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clusterlab._config import CACHE
from clusterlab.kernels.gower import gower_pair

__all__ = [
    "CHEBYSHEV",
    "COSINE",
    "EUCLIDEAN",
    "GOWER",
    "MANHATTAN",
    "SQEUCLIDEAN",
    "alternate",
    "assign",
    "asymmetry",
    "build",
    "cross_distances",
    "fasterpam",
    "kmedoids_plusplus",
    "lab",
    "pairwise_matrix",
    "pam_swap",
]

EUCLIDEAN, SQEUCLIDEAN, MANHATTAN, CHEBYSHEV, COSINE, GOWER = 0, 1, 2, 3, 4, 5

#: Points per parallel work item for point-wise loops.
CHUNK = 1024


@njit(cache=CACHE)
def _pair(A, i, B, j, metric, na, nb, gw, n_interval):  # noqa: PLR0917
    """Distance between row ``i`` of ``A`` and row ``j`` of ``B`` (float64).

    One loop per metric (the branch outside the loop), features in index order, float64
    accumulation: the same value whichever kernel asks, and symmetric bit for bit.
    """
    if metric == GOWER:
        return gower_pair(A, i, B, j, n_interval, gw)
    acc = 0.0
    if metric in (EUCLIDEAN, SQEUCLIDEAN):
        for f in range(A.shape[1]):
            t = np.float64(A[i, f]) - np.float64(B[j, f])
            acc += t * t
        return np.sqrt(acc) if metric == EUCLIDEAN else acc
    if metric == MANHATTAN:
        for f in range(A.shape[1]):
            acc += abs(np.float64(A[i, f]) - np.float64(B[j, f]))
        return acc
    if metric == CHEBYSHEV:
        for f in range(A.shape[1]):
            acc = max(acc, abs(np.float64(A[i, f]) - np.float64(B[j, f])))
        return acc
    for f in range(A.shape[1]):  # cosine
        acc += np.float64(A[i, f]) * np.float64(B[j, f])
    den = na[i] * nb[j]
    if den == 0.0:
        return 1.0
    return max(0.0, 1.0 - acc / den)


@njit(cache=CACHE, inline="always")
def _d(D, X, metric, norms, gw, n_interval, o, c):  # noqa: PLR0917
    """Distance of point ``o`` to point ``c``, from ``D`` or computed."""
    if D.shape[0] > 0:
        return D[c, o]
    return _pair(X, c, X, o, metric, norms, norms, gw, n_interval)


@njit(cache=CACHE, inline="always")
def _column(D, X, metric, norms, gw, n_interval, c, buf):  # noqa: PLR0917
    """Distances of every point to ``c``: the row ``D[c]``, or computed into ``buf``."""
    if D.shape[0] > 0:
        return D[c]
    for o in range(X.shape[0]):
        buf[o] = _pair(X, c, X, o, metric, norms, norms, gw, n_interval)
    return buf


#: Columns of the distance matrix computed per block (one L1-sized slab of the transposed rows).
BLOCK = 256


@njit(cache=CACHE, parallel=True)
def pairwise_matrix(X, metric, norms, gw, n_interval, out):  # noqa: PLR0917
    """The full distance matrix of the rows of ``X``: ``out`` (n, n) written.

    Row by row in parallel; within a row the distances to a block of rows are computed together
    (vectorised across the block, each pair's sum still in feature order), so every entry is
    bitwise the value :func:`_pair` gives and the matrix is symmetric bit for bit.
    """
    n = X.shape[0]
    if metric == GOWER:
        for i in prange(n):
            for j in range(n):
                out[i, j] = _pair(X, i, X, j, metric, norms, norms, gw, n_interval)
        return
    XT = np.ascontiguousarray(X.T)
    for t in prange((n + CHUNK - 1) // CHUNK):
        acc = np.empty(BLOCK)
        for i in range(t * CHUNK, min(n, (t + 1) * CHUNK)):
            for j0 in range(0, n, BLOCK):
                j1 = min(n, j0 + BLOCK)
                _row_block(X, i, XT, j0, j1, metric, norms, acc)
                for jj in range(j1 - j0):
                    out[i, j0 + jj] = acc[jj]


@njit(cache=CACHE, inline="always")
def _row_block(X, i, XT, j0, j1, metric, norms, acc):  # noqa: PLR0917
    """``acc[:j1 - j0]`` = distances from row ``i`` to rows ``j0 .. j1 - 1`` (not Gower), the
    operations of :func:`_pair` in the same order, vectorised across the rows."""
    m = j1 - j0
    a = acc[:m]
    a[:] = 0.0
    for f in range(X.shape[1]):
        xf = np.float64(X[i, f])
        row = XT[f, j0:j1]
        if metric in (EUCLIDEAN, SQEUCLIDEAN):
            for jj in range(m):
                t = xf - np.float64(row[jj])
                a[jj] += t * t
        elif metric == MANHATTAN:
            for jj in range(m):
                a[jj] += abs(xf - np.float64(row[jj]))
        elif metric == CHEBYSHEV:
            for jj in range(m):
                a[jj] = max(a[jj], abs(xf - np.float64(row[jj])))
        else:
            for jj in range(m):
                a[jj] += xf * np.float64(row[jj])
    if metric == EUCLIDEAN:
        for jj in range(m):
            a[jj] = np.sqrt(a[jj])
    elif metric == COSINE:
        for jj in range(m):
            den = norms[i] * norms[j0 + jj]
            a[jj] = 1.0 if den == 0.0 else max(0.0, 1.0 - a[jj] / den)


@njit(cache=CACHE, parallel=True)
def cross_distances(A, B, metric, na, nb, gw, n_interval, out):  # noqa: PLR0917
    """Distances between rows of ``A`` (n_a, d) and rows of ``B`` (n_b, d): ``out`` written."""
    n = A.shape[0]
    for t in prange((n + CHUNK - 1) // CHUNK):
        for i in range(t * CHUNK, min(n, (t + 1) * CHUNK)):
            for j in range(B.shape[0]):
                out[i, j] = _pair(A, i, B, j, metric, na, nb, gw, n_interval)


@njit(cache=CACHE)
def asymmetry(D, rtol):
    """The first defect of a distance matrix: ``(kind, i, j)`` with kind 0 (none), 1 (a negative
    ``D[i, j]``) or 2 (``|D[i, j] - D[j, i]| > rtol * max(|D[i, j]|, 1)``). ``D`` is read in
    64 x 64 tiles, each against its mirror, so both reads stay in cache."""
    n = D.shape[0]
    tile = 64
    for bi in range(0, n, tile):
        for bj in range(bi, n, tile):
            for i in range(bi, min(n, bi + tile)):
                for j in range(max(bj, i), min(n, bj + tile)):
                    a = D[i, j]
                    b = D[j, i]
                    if a < 0:
                        return 1, i, j
                    if b < 0:
                        return 1, j, i
                    if abs(a - b) > rtol * max(abs(a), 1.0):
                        return 2, i, j
    return 0, 0, 0


# -- nearest and second nearest medoid ---------------------------------------------------------


@njit(cache=CACHE)
def _nearest_two_one(D, X, metric, norms, gw, n_interval, o, medoids):  # noqa: PLR0917
    """Slots and distances of the nearest and second nearest medoid of ``o`` (ties: lower slot)."""
    k = medoids.shape[0]
    n1, n2 = -1, -1
    d1, d2 = np.inf, np.inf
    for s in range(k):
        v = _d(D, X, metric, norms, gw, n_interval, o, medoids[s])
        if v < d1:
            n2, d2 = n1, d1
            n1, d1 = s, v
        elif v < d2:
            n2, d2 = s, v
    return n1, d1, n2, d2


@njit(cache=CACHE)
def _nearest_two(D, X, metric, norms, gw, n_interval, medoids, near, dn, second, ds):  # noqa: PLR0917
    n = near.shape[0]
    for t in range((n + CHUNK - 1) // CHUNK):
        for o in range(t * CHUNK, min(n, (t + 1) * CHUNK)):
            a, da, b, db = _nearest_two_one(D, X, metric, norms, gw, n_interval, o, medoids)
            near[o], dn[o], second[o], ds[o] = a, da, b, db


@njit(cache=CACHE, parallel=True)
def assign(D, X, metric, norms, gw, n_interval, medoids, w, labels, dist):  # noqa: PLR0917
    """Nearest medoid of every point (ties: the lower slot). ``labels`` int64 (n,) and ``dist``
    float64 (n,) written; returns the weighted loss, summed in point order."""
    n = labels.shape[0]
    for t in prange((n + CHUNK - 1) // CHUNK):
        for o in range(t * CHUNK, min(n, (t + 1) * CHUNK)):
            best, best_d = 0, np.inf
            for s in range(medoids.shape[0]):
                v = _d(D, X, metric, norms, gw, n_interval, o, medoids[s])
                if v < best_d:
                    best, best_d = s, v
            labels[o] = best
            dist[o] = best_d
    loss = 0.0
    for o in range(n):
        loss += w[o] * dist[o]
    return loss


@njit(cache=CACHE)
def _removal_loss(near, dn, ds, w, k):
    """FasterPAM's removal loss of each medoid: ``sum over its points of w (ds - dn)``."""
    out = np.zeros(k)
    if k == 1:
        return out
    for o in range(near.shape[0]):
        out[near[o]] += w[o] * (ds[o] - dn[o])
    return out


@njit(cache=CACHE)
def _loss(dn, w):
    total = 0.0
    for o in range(dn.shape[0]):
        total += w[o] * dn[o]
    return total


# -- swap evaluation -------------------------------------------------------------------------


@njit(cache=CACHE)
def _evaluate(col, near, dn, ds, w, removal):  # noqa: PLR0917
    """Best medoid to swap out for the candidate whose distances are ``col``: (change, slot).

    The O(k)-cheaper evaluation of Schubert & Rousseeuw: one pass over the points adds each
    point's effect to the change of every slot at once (the removal losses plus a shared term).
    """
    k = removal.shape[0]
    if k == 1:
        acc = 0.0
        for o in range(near.shape[0]):
            acc += w[o] * (np.float64(col[o]) - dn[o])
        return acc, 0
    delta = removal.copy()
    acc = 0.0
    for o in range(near.shape[0]):
        d = np.float64(col[o])
        if d < dn[o]:
            acc += w[o] * (d - dn[o])
            delta[near[o]] += w[o] * (dn[o] - ds[o])
        elif d < ds[o]:
            delta[near[o]] += w[o] * (d - ds[o])
    best = 0
    for s in range(1, k):
        if delta[s] < delta[best]:
            best = s
    return delta[best] + acc, best


@njit(cache=CACHE)
def _apply_swap(D, X, metric, norms, gw, n_interval, medoids, s, col, near, dn, second, ds):  # noqa: PLR0917
    """Update nearest / second nearest medoids after slot ``s`` took the point of ``col``."""
    n = near.shape[0]
    for t in range((n + CHUNK - 1) // CHUNK):
        for o in range(t * CHUNK, min(n, (t + 1) * CHUNK)):
            d = np.float64(col[o])
            if near[o] == s:
                if d <= ds[o]:
                    dn[o] = d
                    continue
            elif second[o] == s:
                if d < dn[o]:
                    second[o], ds[o] = near[o], dn[o]
                    near[o], dn[o] = s, d
                    continue
            else:
                if d < dn[o]:
                    second[o], ds[o] = near[o], dn[o]
                    near[o], dn[o] = s, d
                elif d < ds[o]:
                    second[o], ds[o] = s, d
                continue
            a, da, b, db = _nearest_two_one(D, X, metric, norms, gw, n_interval, o, medoids)
            near[o], dn[o], second[o], ds[o] = a, da, b, db


@njit(cache=CACHE, parallel=True)
def _evaluate_batch(  # noqa: PLR0917
    D,
    X,
    metric,
    norms,
    gw,
    n_interval,
    cands,
    m,
    near,
    dn,
    ds,
    w,
    removal,
    bufs,
    out_delta,
    out_slot,
):
    """Evaluate candidates ``cands[:m]`` against the same state, in parallel."""
    for t in prange(m):
        col = _column(D, X, metric, norms, gw, n_interval, cands[t], bufs[t])
        out_delta[t], out_slot[t] = _evaluate(col, near, dn, ds, w, removal)


#: A swap must lower the loss by more than this fraction of it: float64 rounding of a sum over
#: the points cannot make an equal-loss swap look like an improvement, so swaps never cycle.
REL_TOL = 1e-10


@njit(cache=CACHE)
def fasterpam(D, X, metric, norms, gw, n_interval, w, medoids, max_iter, n_threads, bufs):  # noqa: PLR0917
    """FasterPAM: eager swaps, candidates visited in a cycle, until a full cycle improves nothing.

    Candidates are visited in index order, cyclically: each non-medoid is evaluated against the
    current medoids and swapped in at once when that lowers the loss; the run stops when a
    whole cycle has passed since the last swap, or after ``max_iter`` cycles. To use threads
    without changing the result, the next up-to-``max_batch`` candidates are evaluated in
    parallel against the same state and the first improving one (in visiting order) is taken,
    exactly what the serial loop would do. ``n_threads`` sets the first batch size (doubled
    after each batch without a swap, up to ``bufs.shape[0]``).

    ``medoids`` int64 (k,) — read (the initial medoids) and written. ``bufs`` — float64
    scratch, (max_batch, n) when distances are computed on the fly, else (max_batch, 0).
    Returns ``(loss, n_iter, n_swaps)``.
    """
    n = w.shape[0]
    k = medoids.shape[0]
    near = np.empty(n, dtype=np.int64)
    second = np.empty(n, dtype=np.int64)
    dn = np.empty(n)
    ds = np.empty(n)
    _nearest_two(D, X, metric, norms, gw, n_interval, medoids, near, dn, second, ds)
    is_medoid = np.zeros(n, dtype=np.bool_)
    for s in range(k):
        is_medoid[medoids[s]] = True
    loss = _loss(dn, w)
    removal = _removal_loss(near, dn, ds, w, k)
    max_batch = bufs.shape[0]
    cands = np.empty(max_batch, dtype=np.int64)
    ends = np.empty(max_batch, dtype=np.int64)
    out_delta = np.empty(max_batch)
    out_slot = np.empty(max_batch, dtype=np.int64)
    batch = min(max_batch, n_threads)
    limit = max_iter * n  # positions visited, a cycle of n per iteration
    pos = 0
    since_swap = 0
    n_swaps = 0
    while since_swap < n and pos < limit:
        m = 0
        p = pos
        while m < batch and since_swap + (p - pos) < n and p < limit:
            c = p % n
            p += 1
            if not is_medoid[c] and w[c] > 0.0:
                cands[m] = c
                ends[m] = p
                m += 1
        if m > 1:
            args = (D, X, metric, norms, gw, n_interval, cands, m, near, dn, ds, w, removal)
            _evaluate_batch(*args, bufs, out_delta, out_slot)
        elif m == 1:  # serially: a parallel region per candidate would cost more than it does
            col = _column(D, X, metric, norms, gw, n_interval, cands[0], bufs[0])
            out_delta[0], out_slot[0] = _evaluate(col, near, dn, ds, w, removal)
        hit = -1
        for t in range(m):
            if out_delta[t] < -REL_TOL * loss:
                hit = t
                break
        if hit < 0:
            since_swap += p - pos
            pos = p
            batch = min(max_batch, 2 * batch)
            continue
        cand = cands[hit]
        s = out_slot[hit]
        col = _column(D, X, metric, norms, gw, n_interval, cand, bufs[hit])
        is_medoid[medoids[s]] = False
        is_medoid[cand] = True
        medoids[s] = cand
        _apply_swap(D, X, metric, norms, gw, n_interval, medoids, s, col, near, dn, second, ds)
        loss = _loss(dn, w)
        removal = _removal_loss(near, dn, ds, w, k)
        n_swaps += 1
        since_swap = 0
        pos = ends[hit]
        batch = min(max_batch, n_threads)
    n_iter = max(1, (pos + n - 1) // n)
    return loss, n_iter, n_swaps


@njit(cache=CACHE, parallel=True)
def _evaluate_all(  # noqa: PLR0917
    D, X, metric, norms, gw, n_interval, is_medoid, near, dn, ds, w, removal, out_delta, out_slot
):
    n = w.shape[0]
    for c in prange(n):
        if is_medoid[c] or not w[c] > 0.0:
            out_delta[c] = np.inf
            out_slot[c] = 0
            continue
        buf = np.empty(0 if D.shape[0] > 0 else n)
        col = _column(D, X, metric, norms, gw, n_interval, c, buf)
        out_delta[c], out_slot[c] = _evaluate(col, near, dn, ds, w, removal)


@njit(cache=CACHE)
def pam_swap(D, X, metric, norms, gw, n_interval, w, medoids, max_iter):  # noqa: PLR0917
    """PAM's SWAP: each iteration makes the single best swap over all (medoid, non-medoid)
    pairs, until none lowers the loss (every pair evaluated with the O(k)-cheaper rule, which
    finds the same best swap as PAM's pair-by-pair loop; ties: the lowest candidate, then slot).

    ``medoids`` read and written. Returns ``(loss, n_iter, n_swaps)``.
    """
    n = w.shape[0]
    k = medoids.shape[0]
    near = np.empty(n, dtype=np.int64)
    second = np.empty(n, dtype=np.int64)
    dn = np.empty(n)
    ds = np.empty(n)
    _nearest_two(D, X, metric, norms, gw, n_interval, medoids, near, dn, second, ds)
    is_medoid = np.zeros(n, dtype=np.bool_)
    for s in range(k):
        is_medoid[medoids[s]] = True
    out_delta = np.empty(n)
    out_slot = np.empty(n, dtype=np.int64)
    buf = np.empty(0 if D.shape[0] > 0 else n)
    loss = _loss(dn, w)
    n_iter = 0
    n_swaps = 0
    while n_iter < max_iter:
        n_iter += 1
        removal = _removal_loss(near, dn, ds, w, k)
        _evaluate_all(
            D,
            X,
            metric,
            norms,
            gw,
            n_interval,
            is_medoid,
            near,
            dn,
            ds,
            w,
            removal,
            out_delta,
            out_slot,
        )
        best = np.argmin(out_delta)
        if not out_delta[best] < -REL_TOL * loss:
            break
        s = out_slot[best]
        col = _column(D, X, metric, norms, gw, n_interval, best, buf)
        is_medoid[medoids[s]] = False
        is_medoid[best] = True
        medoids[s] = best
        _apply_swap(D, X, metric, norms, gw, n_interval, medoids, s, col, near, dn, second, ds)
        loss = _loss(dn, w)
        n_swaps += 1
    return loss, n_iter, n_swaps


# -- initialisation ---------------------------------------------------------------------------


@njit(cache=CACHE, parallel=True)
def _build_gains(D, X, metric, norms, gw, n_interval, is_medoid, dn, w, first, out):  # noqa: PLR0917
    """BUILD's score of each candidate: total distance (first medoid) or minus the gain."""
    n = w.shape[0]
    for c in prange(n):
        if is_medoid[c] or not w[c] > 0.0:
            out[c] = np.inf
            continue
        acc = 0.0
        for o in range(n):
            d = _d(D, X, metric, norms, gw, n_interval, o, c)
            if first:
                acc += w[o] * d
            elif d < dn[o]:
                acc -= w[o] * (dn[o] - d)
        out[c] = acc


@njit(cache=CACHE)
def build(D, X, metric, norms, gw, n_interval, w, k):  # noqa: PLR0917
    """PAM's BUILD: the point of least total distance, then repeatedly the point whose addition
    lowers the loss most (ties: the lowest index). Returns int64 (k,) medoids."""
    n = w.shape[0]
    medoids = np.empty(k, dtype=np.int64)
    is_medoid = np.zeros(n, dtype=np.bool_)
    dn = np.full(n, np.inf)
    score = np.empty(n)
    for s in range(k):
        _build_gains(D, X, metric, norms, gw, n_interval, is_medoid, dn, w, s == 0, score)
        c = np.argmin(score)
        medoids[s] = c
        is_medoid[c] = True
        for o in range(n):
            d = _d(D, X, metric, norms, gw, n_interval, o, c)
            dn[o] = min(dn[o], d)
    return medoids


@njit(cache=CACHE)
def lab(D, X, metric, norms, gw, n_interval, w, k, seed):  # noqa: PLR0917
    """LAB, the linear approximative BUILD of Schubert & Rousseeuw: each medoid is BUILD's
    choice among ``10 + ceil(sqrt(n))`` random non-medoids, judged on those same points.
    O(n k) distances. Returns int64 (k,) medoids."""
    np.random.seed(seed)  # noqa: NPY002 - numba's per-thread legacy generator, seeded here
    n = w.shape[0]
    size = min(n, 10 + int(np.ceil(np.sqrt(n))))
    medoids = np.empty(k, dtype=np.int64)
    is_medoid = np.zeros(n, dtype=np.bool_)
    dn = np.full(n, np.inf)
    pool = np.arange(n)
    for s in range(k):
        # draw the sample from the non-medoids by a partial Fisher-Yates shuffle
        n_free = 0
        for i in range(n):
            if not is_medoid[i] and w[i] > 0.0:
                pool[n_free] = i
                n_free += 1
        m = min(size, n_free)
        for t in range(m):
            r = t + np.random.randint(n_free - t)  # noqa: NPY002
            pool[t], pool[r] = pool[r], pool[t]
        best, best_score = pool[0], np.inf
        for a in range(m):
            c = pool[a]
            acc = 0.0
            for b in range(m):
                o = pool[b]
                d = _d(D, X, metric, norms, gw, n_interval, o, c)
                acc += w[o] * min(d, dn[o])
            if acc < best_score:
                best, best_score = c, acc
        medoids[s] = best
        is_medoid[best] = True
        for o in range(n):
            d = _d(D, X, metric, norms, gw, n_interval, o, best)
            dn[o] = min(dn[o], d)
    return medoids


@njit(cache=CACHE)
def kmedoids_plusplus(D, X, metric, norms, gw, n_interval, w, k, seed):  # noqa: PLR0917
    """k-medoids++: a first point drawn by weight, then points drawn with probability
    proportional to ``weight * distance to the nearest medoid`` (the D^1 weighting that suits
    a sum of distances). Returns int64 (k,) distinct medoids."""
    np.random.seed(seed)  # noqa: NPY002
    n = w.shape[0]
    medoids = np.empty(k, dtype=np.int64)
    is_medoid = np.zeros(n, dtype=np.bool_)
    dn = np.full(n, np.inf)
    p = w.copy()
    for s in range(k):
        total = 0.0
        for o in range(n):
            total += 0.0 if is_medoid[o] else p[o]
        if total > 0.0:
            r = np.random.random() * total  # noqa: NPY002
            c = -1
            for o in range(n):
                if is_medoid[o]:
                    continue
                c = o
                r -= p[o]
                if r < 0.0:
                    break
        else:  # every remaining point sits on a medoid or has no weight: the first free one
            c = 0
            while is_medoid[c] or not w[c] > 0.0:
                c += 1
        medoids[s] = c
        is_medoid[c] = True
        for o in range(n):
            d = _d(D, X, metric, norms, gw, n_interval, o, c)
            dn[o] = min(dn[o], d)
            p[o] = w[o] * dn[o]
    return medoids


# -- the alternating algorithm ---------------------------------------------------------------


@njit(cache=CACHE)
def _cluster_costs(D, X, metric, norms, gw, n_interval, members, w, out):  # noqa: PLR0917
    """``out[a] = sum_b w[members[b]] * d(members[a], members[b])`` for each member ``a``."""
    m = members.shape[0]
    for a in range(m):
        if not w[members[a]] > 0.0:
            out[a] = np.inf
            continue
        acc = 0.0
        for b in range(m):
            acc += w[members[b]] * _d(D, X, metric, norms, gw, n_interval, members[b], members[a])
        out[a] = acc


@njit(cache=CACHE)
def alternate(D, X, metric, norms, gw, n_interval, w, medoids, max_iter):  # noqa: PLR0917
    """The alternating (Voronoi iteration) algorithm of Park & Jun: assign every point to its
    nearest medoid, then move each medoid to the member of least total distance to its cluster;
    repeat until no medoid moves. ``medoids`` read and written. Returns ``(loss, n_iter, n_swaps)``.
    """
    n = w.shape[0]
    k = medoids.shape[0]
    labels = np.empty(n, dtype=np.int64)
    dist = np.empty(n)
    n_iter = 0
    n_moves = 0
    while n_iter < max_iter:
        n_iter += 1
        loss = assign(D, X, metric, norms, gw, n_interval, medoids, w, labels, dist)
        order = np.argsort(labels, kind="mergesort")
        starts = np.searchsorted(labels[order], np.arange(k + 1))
        moved = False
        for s in range(k):
            members = order[starts[s] : starts[s + 1]]
            if members.shape[0] == 0:
                continue
            costs = np.empty(members.shape[0])
            _cluster_costs(D, X, metric, norms, gw, n_interval, members, w, costs)
            current = np.inf  # a duplicate medoid may have lost all its points
            for a in range(members.shape[0]):
                if members[a] == medoids[s]:
                    current = costs[a]
            best = np.argmin(costs)
            if costs[best] < current - REL_TOL * loss:
                medoids[s] = members[best]
                moved = True
                n_moves += 1
        if not moved:
            break
    loss = assign(D, X, metric, norms, gw, n_interval, medoids, w, labels, dist)
    return loss, n_iter, n_moves
