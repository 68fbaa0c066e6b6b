"""k-modes (Huang 1998) and k-prototypes (Huang 1997) on integer-coded categories.

One set of kernels serves both: k-modes is k-prototypes without numeric columns.

Data contract, shared by every kernel here:

- ``Xnum`` : float64 (n, p), C-contiguous — numeric columns (``p`` may be 0: k-modes). Read.
- ``Xcat`` : int32 (n, m), C-contiguous — category codes; column ``j`` has levels
  ``0 .. n_levels_j - 1``; ``-1`` (an unseen category, at prediction only) matches no level. Read.
- ``offsets`` : int64 (m + 1,) — level ``v`` of column ``j`` is entry ``offsets[j] + v`` of a row of
  a frequency table (``offsets[m]`` levels in all).
- ``weights`` : float64 (n,) — non-negative sample weights.
- ``gamma`` : float — the cost of one categorical mismatch.
- ``cnum`` : float64 (k, p), ``ccat`` : int32 (k, m) — cluster prototypes (means and modes).

The dissimilarity of a row to a prototype is ``sum_f (x_f - c_f)^2 + gamma * #{j : x_j != c_j}``.
The squared Euclidean part is summed in numpy's pairwise order (eight interleaved partial sums,
halves above 128 terms), and every update below repeats the kmodes library's arithmetic in its
order, so from the same initial prototypes the labels, prototypes and cost equal the library's
bit for bit (tested), wherever no cluster empties (the library refills it at random).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clusterlab._config import CACHE

__all__ = [
    "accumulate",
    "assign_cost",
    "cao_indices",
    "dissimilarities",
    "nearest_distinct_rows",
    "online_pass",
    "plusplus_indices",
    "repair_empty",
    "update_prototypes",
]

#: Rows per parallel work item (fixed, so that results never depend on the thread count).
CHUNK = 1024


@njit(cache=CACHE, inline="always")
def _term(Xnum, i, cnum, c, f):
    u = cnum[c, f] - Xnum[i, f]
    return u * u


@njit(cache=CACHE, inline="always")
def _sq_num(Xnum, i, cnum, c):
    """Squared Euclidean distance between row ``i`` of ``Xnum`` and prototype ``c``.

    Up to 128 numeric columns the terms are added in numpy's pairwise order (what
    ``np.sum((cnum - x) ** 2, axis=1)`` computes: eight interleaved partial sums, then the tail);
    beyond, 128-column blocks in that order are added left to right.
    """
    p = Xnum.shape[1]
    total = 0.0
    for lo in range(0, p, 128):
        total += _pairwise_block(Xnum, i, cnum, c, lo, min(128, p - lo))
    return total


@njit(cache=CACHE, inline="always")
def _pairwise_block(Xnum, i, cnum, c, lo, n):  # noqa: PLR0917
    if n < 8:
        res = 0.0
        for f in range(lo, lo + n):
            res += _term(Xnum, i, cnum, c, f)
        return res
    r0 = _term(Xnum, i, cnum, c, lo)
    r1 = _term(Xnum, i, cnum, c, lo + 1)
    r2 = _term(Xnum, i, cnum, c, lo + 2)
    r3 = _term(Xnum, i, cnum, c, lo + 3)
    r4 = _term(Xnum, i, cnum, c, lo + 4)
    r5 = _term(Xnum, i, cnum, c, lo + 5)
    r6 = _term(Xnum, i, cnum, c, lo + 6)
    r7 = _term(Xnum, i, cnum, c, lo + 7)
    f = lo + 8
    end = lo + n - (n % 8)
    while f < end:
        r0 += _term(Xnum, i, cnum, c, f)
        r1 += _term(Xnum, i, cnum, c, f + 1)
        r2 += _term(Xnum, i, cnum, c, f + 2)
        r3 += _term(Xnum, i, cnum, c, f + 3)
        r4 += _term(Xnum, i, cnum, c, f + 4)
        r5 += _term(Xnum, i, cnum, c, f + 5)
        r6 += _term(Xnum, i, cnum, c, f + 6)
        r7 += _term(Xnum, i, cnum, c, f + 7)
        f += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while f < lo + n:
        res += _term(Xnum, i, cnum, c, f)
        f += 1
    return res


@njit(cache=CACHE, inline="always")
def _dissim(Xnum, Xcat, i, cnum, ccat, c, gamma):  # noqa: PLR0917
    """Dissimilarity of row ``i`` to prototype ``c`` (float64)."""
    mismatches = 0
    for j in range(Xcat.shape[1]):
        if Xcat[i, j] != ccat[c, j]:
            mismatches += 1
    return _sq_num(Xnum, i, cnum, c) + gamma * np.float64(mismatches)


@njit(cache=CACHE, inline="always")
def _nearest(Xnum, Xcat, i, cnum, ccat, gamma):  # noqa: PLR0917
    """Nearest prototype of row ``i`` and its dissimilarity (ties: the lowest index)."""
    best = 0
    best_d = _dissim(Xnum, Xcat, i, cnum, ccat, 0, gamma)
    for c in range(1, ccat.shape[0]):
        d = _dissim(Xnum, Xcat, i, cnum, ccat, c, gamma)
        if d < best_d:
            best = c
            best_d = d
    return best, best_d


@njit(cache=CACHE, parallel=True)
def assign_cost(Xnum, Xcat, weights, cnum, ccat, gamma, labels):  # noqa: PLR0917
    """Label every row with its nearest prototype and return the weighted cost.

    ``labels`` : int64 (n,) — written. Returns the float64 sum of ``weights[i] * d(x_i, c)``,
    added in row order (as the kmodes library does, so its convergence test sees equal costs).
    """
    n = Xnum.shape[0]
    costs = np.empty(n)
    n_chunks = (n + CHUNK - 1) // CHUNK
    for t in prange(n_chunks):
        for i in range(t * CHUNK, min(n, (t + 1) * CHUNK)):
            c, d = _nearest(Xnum, Xcat, i, cnum, ccat, gamma)
            labels[i] = c
            costs[i] = d * weights[i]
    total = 0.0
    for i in range(n):
        total += costs[i]
    return total


@njit(cache=CACHE, parallel=True)
def dissimilarities(Xnum, Xcat, cnum, ccat, gamma):
    """Dissimilarity of every row to every prototype: float64 (n, k), newly allocated."""
    n = Xnum.shape[0]
    k = ccat.shape[0]
    out = np.empty((n, k))
    for i in prange(n):
        for c in range(k):
            out[i, c] = _dissim(Xnum, Xcat, i, cnum, ccat, c, gamma)
    return out


@njit(cache=CACHE)
def accumulate(Xnum, Xcat, weights, labels, offsets, sums, wsum, counts, freq):  # noqa: PLR0917
    """Per-cluster sums, weights, sizes and level frequencies of a labelling (row order).

    ``sums`` float64 (k, p), ``wsum`` float64 (k,), ``counts`` int64 (k,) — rows of positive
    weight (a row of weight 0 is in no statistic: a cluster of such rows is empty), ``freq``
    float64 (k, offsets[m]) — zeroed, then written.
    """
    sums[:] = 0.0
    wsum[:] = 0.0
    counts[:] = 0
    freq[:] = 0.0
    for i in range(Xnum.shape[0]):
        c = labels[i]
        w = weights[i]
        if w > 0.0:
            counts[c] += 1
        wsum[c] += w
        for f in range(Xnum.shape[1]):
            sums[c, f] += Xnum[i, f] * w
        for j in range(Xcat.shape[1]):
            freq[c, offsets[j] + Xcat[i, j]] += w


@njit(cache=CACHE, inline="always")
def _mode(freq, c, lo, hi):
    """Most frequent level in ``freq[c, lo:hi]`` (ties: the lowest code), as a code."""
    best = 0
    for v in range(1, hi - lo):
        if freq[c, lo + v] > freq[c, lo + best]:
            best = v
    return best


@njit(cache=CACHE)
def update_prototypes(sums, wsum, freq, offsets, cnum, ccat):  # noqa: PLR0917
    """Means and modes from cluster statistics. ``cnum``, ``ccat`` — written; a cluster of zero
    weight keeps its prototype."""
    for c in range(ccat.shape[0]):
        if wsum[c] > 0.0:
            for f in range(cnum.shape[1]):
                cnum[c, f] = sums[c, f] / wsum[c]
            for j in range(ccat.shape[1]):
                ccat[c, j] = _mode(freq, c, offsets[j], offsets[j + 1])


@njit(cache=CACHE)
def _move(Xnum, Xcat, weights, i, to, frm, offsets, cnum, ccat, sums, wsum, counts, freq, labels):  # noqa: PLR0917
    """Move row ``i`` from cluster ``frm`` to ``to`` and update both prototypes in place.

    Modes follow Huang's incremental rule as the kmodes library applies it: the receiving
    cluster adopts the row's level when that level's frequency now exceeds its mode's; the
    losing cluster recomputes its mode when it lost a row of its mode's level.
    """
    w = weights[i]
    labels[i] = to
    if w > 0.0:
        counts[to] += 1
        counts[frm] -= 1
    wsum[to] += w
    wsum[frm] -= w
    for f in range(Xnum.shape[1]):
        sums[to, f] += Xnum[i, f] * w
        sums[frm, f] -= Xnum[i, f] * w
    for j in range(Xcat.shape[1]):
        v = Xcat[i, j]
        o = offsets[j]
        freq[to, o + v] += w
        if freq[to, o + ccat[to, j]] < freq[to, o + v]:
            ccat[to, j] = v
        freq[frm, o + v] -= w
        if ccat[frm, j] == v:
            ccat[frm, j] = _mode(freq, frm, o, offsets[j + 1])
    for c in (to, frm):
        if wsum[c] > 0.0:
            for f in range(Xnum.shape[1]):
                cnum[c, f] = sums[c, f] / wsum[c]


@njit(cache=CACHE)
def _farthest_movable(Xnum, Xcat, weights, labels, counts, cnum, ccat, gamma):  # noqa: PLR0917
    """Row of positive weight farthest from its own prototype in a cluster of two or more such
    rows, or -1 when every such row sits on its prototype (moving one would only duplicate a
    prototype)."""
    best = -1
    best_d = 0.0
    for i in range(Xnum.shape[0]):
        c = labels[i]
        if counts[c] < 2 or not weights[i] > 0.0:
            continue
        d = _dissim(Xnum, Xcat, i, cnum, ccat, c, gamma)
        if d > best_d:
            best = i
            best_d = d
    return best


@njit(cache=CACHE)
def repair_empty(Xnum, Xcat, weights, gamma, offsets, cnum, ccat, sums, wsum, counts, freq, labels):  # noqa: PLR0917
    """Give every empty cluster (in index order) the row farthest from its own prototype.

    The row becomes the empty cluster's prototype. Returns the number of clusters left empty
    (when no row lies off its prototype: fewer distinct rows than clusters).
    """
    left_empty = 0
    for c in range(ccat.shape[0]):
        if counts[c] > 0:
            continue
        i = _farthest_movable(Xnum, Xcat, weights, labels, counts, cnum, ccat, gamma)
        if i < 0:
            left_empty += 1
            continue
        frm = labels[i]
        for f in range(Xnum.shape[1]):
            cnum[c, f] = Xnum[i, f]
        for j in range(Xcat.shape[1]):
            ccat[c, j] = Xcat[i, j]
        _move(Xnum, Xcat, weights, i, c, frm, offsets, cnum, ccat, sums, wsum, counts, freq, labels)
    return left_empty


@njit(cache=CACHE)
def online_pass(Xnum, Xcat, weights, gamma, offsets, cnum, ccat, sums, wsum, counts, freq, labels):  # noqa: PLR0917
    """One pass of Huang's algorithm: each row in turn joins its nearest prototype, and the two
    prototypes concerned are updated at once (so later rows see the new prototypes).

    ``cnum``, ``ccat``, ``sums``, ``wsum``, ``counts``, ``freq``, ``labels`` — read and updated.
    A cluster emptied by a move is refilled at once by :func:`repair_empty`'s rule.
    Returns the number of moves.
    """
    moves = 0
    for i in range(Xnum.shape[0]):
        c, _ = _nearest(Xnum, Xcat, i, cnum, ccat, gamma)
        old = labels[i]
        if c == old:
            continue
        moves += 1
        _move(Xnum, Xcat, weights, i, c, old, offsets, cnum, ccat, sums, wsum, counts, freq, labels)
        if counts[old] == 0 and weights[i] > 0.0:
            repair_empty(
                Xnum, Xcat, weights, gamma, offsets, cnum, ccat, sums, wsum, counts, freq, labels
            )
    return moves


@njit(cache=CACHE)
def _densities(Xcat, weights, offsets):
    """Cao's density of each row: the mean over columns of its level's relative frequency."""
    n, m = Xcat.shape
    total = 0.0
    for i in range(n):
        total += weights[i]
    level_w = np.zeros(offsets[m])
    for i in range(n):
        for j in range(m):
            level_w[offsets[j] + Xcat[i, j]] += weights[i]
    dens = np.zeros(n)
    if m == 0:
        for i in range(n):
            dens[i] = 1.0 if weights[i] > 0.0 else 0.0
        return dens
    for i in range(n):
        s = 0.0
        for j in range(m):
            s += level_w[offsets[j] + Xcat[i, j]] / total / m
        dens[i] = s if weights[i] > 0.0 else 0.0
    return dens


@njit(cache=CACHE)
def _lower_scores(Xnum, Xcat, gamma, dens, c, score):  # noqa: PLR0917
    """``score[i] = min(score[i], dens[i] * d(x_i, x_c))`` for every row ``i`` (serial: k
    passes of O(n) are a small part of a fit, and a parallel kernel costs seconds to compile)."""
    for i in range(Xnum.shape[0]):
        s = _dissim(Xnum, Xcat, i, Xnum, Xcat, c, gamma) * dens[i]
        score[i] = min(score[i], s)


@njit(cache=CACHE)
def cao_indices(Xnum, Xcat, weights, offsets, gamma, n_clusters):  # noqa: PLR0917
    """Rows chosen by Cao, Liang & Bai (2009): the densest row, then repeatedly the row with the
    largest ``density * dissimilarity`` to its nearest chosen row.

    Density is the mean relative (weighted) frequency of a row's levels (1 for every row without
    categorical columns; 0 for a row of weight 0, never chosen); the dissimilarity is the
    k-prototypes one. Ties go to the lowest row.
    When every row coincides with a chosen one, the next unchosen row is taken (the clusters
    then stay empty and are reported as such).

    Returns int64 (n_clusters,) row indices.
    """
    n = Xnum.shape[0]
    dens = _densities(Xcat, weights, offsets)
    chosen = np.empty(n_clusters, dtype=np.int64)
    is_chosen = np.zeros(n, dtype=np.bool_)
    chosen[0] = np.argmax(dens)
    is_chosen[chosen[0]] = True
    score = np.full(n, np.inf)
    for t in range(1, n_clusters):
        _lower_scores(Xnum, Xcat, gamma, dens, chosen[t - 1], score)
        best = np.argmax(score)
        if not score[best] > 0.0:
            best = 0
            while is_chosen[best]:
                best += 1
        chosen[t] = best
        is_chosen[best] = True
    return chosen


@njit(cache=CACHE)
def plusplus_indices(Xnum, Xcat, weights, gamma, n_clusters, seed):  # noqa: PLR0917
    """Rows drawn as k-means++ draws them (Arthur & Vassilvitskii 2007) under the k-prototypes
    dissimilarity: the first with probability proportional to its weight, each next with
    probability proportional to ``weight * d(x, nearest row drawn)`` (already a squared distance
    on the numeric columns). Returns int64 (n_clusters,) row indices.

    When every row of positive weight coincides with a drawn one, the next is drawn by weight.
    """
    np.random.seed(seed)  # noqa: NPY002 - numba's per-thread legacy generator, seeded here
    n = Xnum.shape[0]
    chosen = np.empty(n_clusters, dtype=np.int64)
    dmin = np.full(n, np.inf)
    p = weights.copy()
    for t in range(n_clusters):
        total = 0.0
        for i in range(n):
            total += p[i]
        if not total > 0.0:
            p[:] = weights
            total = 0.0
            for i in range(n):
                total += p[i]
        r = np.random.random() * total  # noqa: NPY002
        c = n - 1
        for i in range(n):
            r -= p[i]
            if r < 0.0 and p[i] > 0.0:
                c = i
                break
        chosen[t] = c
        for i in range(n):
            d = _dissim(Xnum, Xcat, i, Xnum, Xcat, c, gamma)
            dmin[i] = min(dmin[i], d)
            p[i] = weights[i] * dmin[i]
    return chosen


@njit(cache=CACHE)
def nearest_distinct_rows(Xnum, Xcat, weights, pnum, pcat, gamma):  # noqa: PLR0917
    """For each prototype in turn, the nearest row whose values differ from every row already
    taken (Huang's initialisation: drawn prototypes replaced by data rows).

    ``pnum`` float64 (k, p), ``pcat`` int32 (k, m) — the drawn prototypes. Rows of weight 0 are
    passed over. Returns int64 (k,) row indices; when no distinct row is left, the nearest row
    is taken.
    """
    k = pcat.shape[0]
    taken = np.empty(k, dtype=np.int64)
    for t in range(k):
        best = -1
        best_d = np.inf
        fallback = 0
        fallback_d = np.inf
        for i in range(Xnum.shape[0]):
            if not weights[i] > 0.0:
                continue
            d = _dissim(Xnum, Xcat, i, pnum, pcat, t, gamma)
            if d < fallback_d:
                fallback = i
                fallback_d = d
            if d < best_d and _distinct(Xnum, Xcat, i, taken, t):
                best = i
                best_d = d
        taken[t] = best if best >= 0 else fallback
    return taken


@njit(cache=CACHE, inline="always")
def _distinct(Xnum, Xcat, i, taken, n_taken):
    for s in range(n_taken):
        r = taken[s]
        same = True
        for f in range(Xnum.shape[1]):
            if Xnum[i, f] != Xnum[r, f]:
                same = False
                break
        if same:
            for j in range(Xcat.shape[1]):
                if Xcat[i, j] != Xcat[r, j]:
                    same = False
                    break
        if same:
            return False
    return True
