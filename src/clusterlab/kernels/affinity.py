"""Affinity propagation message passing (Frey and Dueck, Science 2007), dense and sparse.

Messages
--------
Responsibilities ``R`` and availabilities ``A`` live on the same support as the similarities
``S``: a dense (n, n) matrix, or the edges of a sparse graph in CSR order. One iteration is the
update order of scikit-learn's implementation, element for element:

1. responsibilities, row by row: ``Y`` / ``Y2`` are the largest and second-largest values of
   ``A[i] + S[i]`` (first index ``I`` of the largest); ``Rnew[i, k] = S[i, k] - Y`` and
   ``Rnew[i, I] = S[i, I] - Y2``; ``R = damping * R + (1 - damping) * Rnew``;
2. availabilities, column by column: ``Rp = max(R, 0)`` off the diagonal, ``R[k, k]`` on it;
   ``colsum[k] = sum_i Rp[i, k]`` summed over ``i`` in increasing order;
   ``Anew[i, k] = min(0, colsum[k] - Rp[i, k])`` off the diagonal, ``colsum[k] - R[k, k]`` on it;
   ``A = damping * A + (1 - damping) * Anew`` (computed as ``A*d - t*(1-d)`` with
   ``t = -Anew``, the rounding of scikit-learn's in-place operations);
3. exemplars: ``E[k] = A[k, k] + R[k, k] > 0``.

The kernels fuse step 2's availability update of row ``i`` with step 1 of the next iteration
(both read row ``i`` only, given ``colsum``), so one iteration is one pass over the rows and one
pass that sums the columns; ``A`` therefore lags half an iteration behind ``R`` between calls
(``a_pending`` says so). The dense row pass runs in one block of consecutive rows per thread;
the first block also starts the column sums while its rows are in cache, and the column pass
continues them over the other rows only (none on one thread), in blocks of columns. Every
column is summed sequentially in increasing row order, so every thread count gives the same
bits, and scikit-learn's.

The per-entry loops run over 0-based slices: numba keeps its negative-index wrap in a loop
that starts at a variable index, and LLVM does not vectorise it. The dense iteration was
compute-bound, not bandwidth-bound (one thread streams the five matrix passes of the row
pass in about half the row pass's time).

Convergence is scikit-learn's rule: after at least ``convergence_iter`` iterations, stop when
every point has been an exemplar in all or none of the last ``convergence_iter`` iterations and
there is at least one exemplar.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clusterlab._config import CACHE

__all__ = [
    "assign_to_exemplars",
    "count_in_range",
    "dense_iterate",
    "edge_similarities",
    "gather_in_range",
    "off_diagonal_constant",
    "refine_exemplars",
    "sparse_iterate",
]

#: Damping added when ``adaptive`` finds the exemplar set oscillating, and its ceiling.
_DAMPING_STEP = 0.1
_DAMPING_MAX = 0.95


# --------------------------------------------------------------------------------------------
# one row (shared by the dense and sparse kernels)
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE, inline="always")
def _row_top_two(a_row, s_row):
    """First argmax, max and second max of ``a_row + s_row`` (the second max equals the max
    when the max is attained twice)."""
    best = -np.inf
    second = -np.inf
    arg = 0
    for k in range(a_row.shape[0]):
        v = a_row[k] + s_row[k]
        # one test per entry in the common case (v <= second <= best)
        if v > second:
            if v > best:
                second = best
                best = v
                arg = k
            else:
                second = v
    return arg, best, second


@njit(cache=CACHE, inline="always")
def _shift_damped(r, s, y, damping, keep):
    """``r = r * damping + (s - y) * keep`` on contiguous pieces. Loops start at 0 so that
    LLVM vectorises them (from a variable start, numba's negative-index wrap stays in)."""
    for k in range(r.shape[0]):
        r[k] = r[k] * damping + (s[k] - y) * keep


@njit(cache=CACHE, inline="always")
def _update_responsibility_row(r_row, s_row, arg, best, second, damping):  # noqa: PLR0917
    keep = 1.0 - damping
    # split at ``arg`` so that each part is branch-free (vectorised)
    _shift_damped(r_row[:arg], s_row[:arg], best, damping, keep)
    r_row[arg] = r_row[arg] * damping + (s_row[arg] - second) * keep
    _shift_damped(r_row[arg + 1 :], s_row[arg + 1 :], best, damping, keep)


@njit(cache=CACHE, inline="always")
def _updated_availability(a, r, colsum_k, is_self, damping):
    t = r - colsum_k if is_self else max(max(r, 0.0) - colsum_k, 0.0)
    return a * damping - t * (1.0 - damping)


@njit(cache=CACHE, inline="always")
def _availability_off_diagonal(a, r, colsum, damping, keep):
    """Off-diagonal availability update of contiguous pieces (0-based loop: vectorised)."""
    for k in range(a.shape[0]):
        a[k] = a[k] * damping - max(max(r[k], 0.0) - colsum[k], 0.0) * keep


@njit(cache=CACHE, inline="always")
def _update_availability_row(a_row, r_row, colsum, diag, damping):
    """Availability update of one row whose diagonal entry is at position ``diag``."""
    keep = 1.0 - damping
    _availability_off_diagonal(a_row[:diag], r_row[:diag], colsum[:diag], damping, keep)
    a_row[diag] = a_row[diag] * damping - (r_row[diag] - colsum[diag]) * keep
    lo = diag + 1
    _availability_off_diagonal(a_row[lo:], r_row[lo:], colsum[lo:], damping, keep)


# --------------------------------------------------------------------------------------------
# convergence bookkeeping (shared)
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE)
def _record(history, counts, exemplar, it):
    """Store this iteration's exemplar flags in the ring ``history``; keep per-point counts."""
    n, window = history.shape
    slot = it % window
    for k in range(n):
        old = history[k, slot]
        new = exemplar[k]
        if old != new:
            counts[k] += 1 if new else -1
            history[k, slot] = new


@njit(cache=CACHE)
def _settled(counts, window):
    """Every point was an exemplar in all or none of the last ``window`` iterations."""
    for k in range(counts.shape[0]):  # noqa: SIM110 - a loop numba compiles
        if counts[k] != 0 and counts[k] != window:
            return False
    return True


@njit(cache=CACHE)
def _flipped_twice(exemplar, previous, flips):
    """Count each point's changes since the window began; True once any point has changed
    twice (it left the exemplar set and came back, or the reverse: an oscillation, where a
    settling run changes a point once)."""
    twice = False
    for k in range(exemplar.shape[0]):
        if exemplar[k] != previous[k]:
            flips[k] += 1
            if flips[k] >= 2:
                twice = True
    return twice


@njit(cache=CACHE)
def _after_iteration(  # noqa: PLR0917
    exemplar, previous, last_found, history, counts, flips, it, oscillating, adaptive, damping
):
    """The bookkeeping after iteration ``it`` (shared by the dense and sparse runs): record the
    exemplar flags, keep the last non-empty set in ``last_found``, and return ``(settled,
    oscillating, damping)``: settled once every point kept its flag for the whole window
    (``history``'s width); otherwise, at the end of each window, the damping is raised when
    some point changed twice in it (``adaptive``), and the window's flip counts restart."""
    window = history.shape[1]
    _record(history, counts, exemplar, it)
    oscillating |= _flipped_twice(exemplar, previous, flips)
    found = exemplar.any()
    if found:
        last_found[:] = exemplar
    if it >= window and found and _settled(counts, window):
        return True, oscillating, damping
    if adaptive and (it + 1) % window == 0:
        if oscillating:
            damping = min(_DAMPING_MAX, damping + _DAMPING_STEP)
        flips[:] = 0
        oscillating = False
    return False, oscillating, damping


# --------------------------------------------------------------------------------------------
# dense
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE)
def _add_positive(total, r):
    """``total += max(r, 0)`` on contiguous pieces (0-based loop: vectorised)."""
    for k in range(total.shape[0]):
        total[k] += max(r[k], 0.0)


@njit(cache=CACHE, inline="always")
def _add_row(total, r_row, i, lo, hi):
    """Add row ``i`` of the positive responsibilities (``R[i, i]`` itself on the diagonal)
    to the column sums ``total[lo:hi]``; row 0 starts them (numpy's sum starts from it)."""
    if i == 0:
        for k in range(lo, hi):
            total[k] = r_row[k] if k == 0 else max(r_row[k], 0.0)
        return
    # split at the diagonal so that each part is branch-free (vectorised)
    mid = min(max(i, lo), hi)
    _add_positive(total[lo:mid], r_row[lo:mid])
    if lo <= i < hi:
        total[i] += r_row[i]
    mid = max(min(i + 1, hi), lo)
    _add_positive(total[mid:hi], r_row[mid:hi])


@njit(cache=CACHE)
def _shift_damped_adding(r, s, y, damping, keep, total):  # noqa: PLR0917
    """:func:`_shift_damped`, adding the new ``max(r, 0)`` to ``total`` in the same loop."""
    for k in range(r.shape[0]):
        r[k] = r[k] * damping + (s[k] - y) * keep
        total[k] += max(r[k], 0.0)  # the stored value (float32 rounds it)


@njit(cache=CACHE, inline="always")
def _one_entry_adding(r_row, s_row, j, arg, i, best, second, damping, total):  # noqa: PLR0917
    y = second if j == arg else best
    r_row[j] = r_row[j] * damping + (s_row[j] - y) * (1.0 - damping)
    total[j] += r_row[j] if j == i else max(r_row[j], 0.0)


@njit(cache=CACHE, inline="always")
def _update_responsibility_row_adding(r_row, s_row, arg, best, second, damping, total, i):  # noqa: PLR0917
    """:func:`_update_responsibility_row` of row ``i > 0`` and ``_add_row(total, r_row, i, 0,
    n)`` in one pass: the loops split at the row's argmax and diagonal, both done apart."""
    keep = 1.0 - damping
    p = min(arg, i)
    q = max(arg, i)
    _shift_damped_adding(r_row[:p], s_row[:p], best, damping, keep, total[:p])
    _one_entry_adding(r_row, s_row, p, arg, i, best, second, damping, total)
    if q > p:
        lo = p + 1
        _shift_damped_adding(r_row[lo:q], s_row[lo:q], best, damping, keep, total[lo:q])
        _one_entry_adding(r_row, s_row, q, arg, i, best, second, damping, total)
    lo = q + 1
    _shift_damped_adding(r_row[lo:], s_row[lo:], best, damping, keep, total[lo:])


@njit(cache=CACHE, parallel=True)
def _dense_rows(S, R, A, colsum, head, damping, update_a, n_blocks):  # noqa: PLR0917
    """Availabilities (from ``colsum``) then responsibilities of every row, in ``n_blocks``
    blocks of consecutive rows run in parallel. The first block also sums its rows' positive
    responsibilities column by column into ``head``, in increasing row order while each row
    is in cache: :func:`_dense_columns` continues these sums from the next block's rows."""
    n = S.shape[0]
    width = (n + n_blocks - 1) // n_blocks
    for b in prange(n_blocks):
        for i in range(b * width, min(n, (b + 1) * width)):
            a_row = A[i]
            r_row = R[i]
            if update_a:
                _update_availability_row(a_row, r_row, colsum, i, damping)
            arg, best, second = _row_top_two(a_row, S[i])
            if b == 0 and i > 0:
                _update_responsibility_row_adding(r_row, S[i], arg, best, second, damping, head, i)
            else:
                _update_responsibility_row(r_row, S[i], arg, best, second, damping)
                if i == 0:
                    _add_row(head, r_row, 0, 0, n)


@njit(cache=CACHE, parallel=True)
def _dense_columns(R, A, colsum, head, exemplar, damping, n_blocks):  # noqa: PLR0917
    """``colsum``: the sums ``head`` of the first row block continued over the other rows, in
    increasing row order, in ``n_blocks`` blocks of columns run in parallel (each column
    summed as numpy's ``sum(axis=0)`` does, so every ``n_blocks`` gives the same bits); then
    the exemplar flags of the updated messages."""
    n = R.shape[0]
    width = (n + n_blocks - 1) // n_blocks
    for b in prange(n_blocks):
        lo = b * width
        hi = min(n, lo + width)
        colsum[lo:hi] = head[lo:hi]
        for i in range(width, n):
            _add_row(colsum, R[i], i, lo, hi)
        for k in range(lo, hi):
            a_kk = _updated_availability(A[k, k], R[k, k], colsum[k], True, damping)
            exemplar[k] = a_kk + R[k, k] > 0.0


@njit(cache=CACHE)
def dense_iterate(  # noqa: PLR0917
    S, R, A, colsum, damping, max_iter, convergence_iter, a_pending, adaptive, n_blocks
):
    """Run affinity propagation on a dense similarity matrix until convergence or ``max_iter``.

    Parameters
    ----------
    S : float64 or float32 array of shape (n, n), C-contiguous
        Similarities with the preferences on the diagonal (read only).
    R, A : arrays like ``S``
        Responsibilities and availabilities; zeros for a cold start, or the state a previous
        call left (read and written).
    colsum : array of shape (n,), dtype of ``S``
        Column sums of the positive responsibilities of the last iteration (written; read
        when ``a_pending``).
    damping : float in [0.5, 1)
        Starting damping.
    max_iter, convergence_iter : int >= 1
    a_pending : bool
        ``A`` has not had the availability update of the last iteration yet (the state every
        call leaves); False for a cold start.
    adaptive : bool
        Raise the damping by 0.1 (up to 0.95) after each window of ``convergence_iter``
        iterations in which some point entered and left the exemplar set (or the reverse):
        the messages oscillate, where a settling run changes a point once.
    n_blocks : int >= 1
        The thread count: rows are updated in this many blocks in parallel, the first
        block's rows are summed into the column sums as they are updated, and the other
        rows' are added in a second pass over as many blocks of columns. Every column is
        summed in increasing row order, so the result does not depend on ``n_blocks``.

    Returns
    -------
    exemplar : bool array of shape (n,)
        ``A[k, k] + R[k, k] > 0`` after the last iteration.
    last_found : bool array of shape (n,)
        The exemplar flags of the last iteration that had any exemplar (all False if none did).
    n_iter : int
        Iterations run.
    converged : bool
    damping : float
        The damping in effect at the end.
    """
    n = S.shape[0]
    n_blocks = max(1, min(n, n_blocks))
    head = np.empty_like(colsum)
    exemplar = np.zeros(n, dtype=np.bool_)
    previous = np.zeros(n, dtype=np.bool_)
    last_found = np.zeros(n, dtype=np.bool_)
    history = np.zeros((n, convergence_iter), dtype=np.bool_)
    counts = np.zeros(n, dtype=np.int64)
    flips = np.zeros(n, dtype=np.int64)
    oscillating = False
    update_a = a_pending
    for it in range(max_iter):
        _dense_rows(S, R, A, colsum, head, damping, update_a, n_blocks)
        update_a = True
        previous[:] = exemplar
        _dense_columns(R, A, colsum, head, exemplar, damping, n_blocks)
        settled, oscillating, damping = _after_iteration(
            exemplar, previous, last_found, history, counts, flips,
            it, oscillating, adaptive, damping,
        )  # fmt: skip
        if settled:
            return exemplar, last_found, it + 1, True, damping
    return exemplar, last_found, max_iter, False, damping


# --------------------------------------------------------------------------------------------
# sparse (CSR edges; the diagonal entry of every row is stored)
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE, parallel=True)
def _sparse_rows(indptr, indices, S, R, A, colsum, damping, update_a):  # noqa: PLR0917
    n = indptr.shape[0] - 1
    for i in prange(n):
        lo = indptr[i]
        hi = indptr[i + 1]
        if update_a:
            for e in range(lo, hi):
                k = indices[e]
                A[e] = _updated_availability(A[e], R[e], colsum[k], k == i, damping)
        arg, best, second = _row_top_two(A[lo:hi], S[lo:hi])
        _update_responsibility_row(R[lo:hi], S[lo:hi], arg, best, second, damping)


@njit(cache=CACHE, parallel=True)
def _sparse_columns(  # noqa: PLR0917
    col_ptr, col_edge, diag_edge, R, A, colsum, exemplar, damping
):
    n = col_ptr.shape[0] - 1
    for k in prange(n):
        total = 0.0
        d = diag_edge[k]
        for t in range(col_ptr[k], col_ptr[k + 1]):
            e = col_edge[t]
            total += R[e] if e == d else max(R[e], 0.0)
        colsum[k] = total
        a_kk = _updated_availability(A[d], R[d], total, True, damping)
        exemplar[k] = a_kk + R[d] > 0.0


@njit(cache=CACHE)
def sparse_iterate(  # noqa: PLR0917
    indptr,
    indices,
    col_ptr,
    col_edge,
    diag_edge,
    S,
    R,
    A,
    colsum,
    damping,
    max_iter,
    convergence_iter,
    a_pending,
    adaptive,
):
    """Affinity propagation with messages only along the edges of a sparse graph.

    Parameters
    ----------
    indptr, indices : int64 arrays
        CSR structure of the graph over n points; every row stores its diagonal entry and at
        least one other entry.
    col_ptr, col_edge : int64 arrays
        The same edges by column: the edges ending at point ``k`` are
        ``col_edge[col_ptr[k]:col_ptr[k + 1]]`` (edge numbers in CSR order), ascending by row.
    diag_edge : int64 array of shape (n,)
        Edge number of the diagonal entry of each row.
    S : float array of shape (n_edges,)
        Similarities along the edges, preferences on the diagonal entries (read only).
    R, A : arrays like ``S``; colsum : array of shape (n,)
        Messages (read and written), as in :func:`dense_iterate`.
    damping, max_iter, convergence_iter, a_pending, adaptive
        As in :func:`dense_iterate`.

    Returns
    -------
    exemplar, last_found, n_iter, converged, damping
        As in :func:`dense_iterate`.
    """
    n = indptr.shape[0] - 1
    exemplar = np.zeros(n, dtype=np.bool_)
    previous = np.zeros(n, dtype=np.bool_)
    last_found = np.zeros(n, dtype=np.bool_)
    history = np.zeros((n, convergence_iter), dtype=np.bool_)
    counts = np.zeros(n, dtype=np.int64)
    flips = np.zeros(n, dtype=np.int64)
    oscillating = False
    update_a = a_pending
    for it in range(max_iter):
        _sparse_rows(indptr, indices, S, R, A, colsum, damping, update_a)
        update_a = True
        previous[:] = exemplar
        _sparse_columns(col_ptr, col_edge, diag_edge, R, A, colsum, exemplar, damping)
        settled, oscillating, damping = _after_iteration(
            exemplar, previous, last_found, history, counts, flips,
            it, oscillating, adaptive, damping,
        )  # fmt: skip
        if settled:
            return exemplar, last_found, it + 1, True, damping
    return exemplar, last_found, max_iter, False, damping


# --------------------------------------------------------------------------------------------
# labels from exemplars (dense similarities)
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE, parallel=True)
def assign_to_exemplars(S, exemplars):
    """Index (into ``exemplars``) of the most similar exemplar of every point; exemplars get
    their own index.

    Parameters
    ----------
    S : float array of shape (n, n)
        Similarities, preferences on the diagonal.
    exemplars : int64 array of shape (m,), m >= 1
        Point indices, ascending.

    Returns
    -------
    int64 array of shape (n,)
        First argmax of ``S[i, exemplars]``; ``c[exemplars[j]] = j``.
    """
    n = S.shape[0]
    m = exemplars.shape[0]
    out = np.empty(n, dtype=np.int64)
    for i in prange(n):
        best = -np.inf
        arg = 0
        for j in range(m):
            v = S[i, exemplars[j]]
            if v > best:
                best = v
                arg = j
        out[i] = arg
    for j in range(m):
        out[exemplars[j]] = j
    return out


@njit(cache=CACHE, parallel=True)
def refine_exemplars(S, members_ptr, members):
    """Within each cluster, the member with the largest summed similarity from the others.

    Parameters
    ----------
    S : float array of shape (n, n)
    members_ptr, members : int64 arrays
        Cluster ``c`` holds points ``members[members_ptr[c]:members_ptr[c + 1]]``, ascending.

    Returns
    -------
    int64 array of shape (n_clusters,)
        For each cluster the member ``j`` maximising ``sum_i S[i, j]`` over its members ``i``
        (summed in increasing ``i``; the first such member on ties).
    """
    n_clusters = members_ptr.shape[0] - 1
    out = np.empty(n_clusters, dtype=np.int64)
    for c in prange(n_clusters):
        lo = members_ptr[c]
        hi = members_ptr[c + 1]
        best = -np.inf
        arg = members[lo]
        for b in range(lo, hi):
            j = members[b]
            total = S[members[lo], j]
            for a in range(lo + 1, hi):
                total += S[members[a], j]
            if total > best:
                best = total
                arg = j
        out[c] = arg
    return out


@njit(cache=CACHE, parallel=True)
def count_in_range(values, lo, hi, n_blocks):
    """How many of ``values`` lie below ``lo``, and how many in ``[lo, hi]``.

    Parameters
    ----------
    values : float array of shape (m,), contiguous
        Finite values.
    lo, hi : float, lo <= hi
    n_blocks : int >= 1
        Blocks counted in parallel.

    Returns
    -------
    below, within : int
    """
    m = values.shape[0]
    width = (m + n_blocks - 1) // n_blocks
    below = np.zeros(n_blocks, dtype=np.int64)
    within = np.zeros(n_blocks, dtype=np.int64)
    for b in prange(n_blocks):
        n_below = 0
        n_within = 0
        for t in range(b * width, min(m, (b + 1) * width)):
            v = values[t]
            n_below += v < lo
            n_within += (v >= lo) & (v <= hi)
        below[b] = n_below
        within[b] = n_within
    return below.sum(), within.sum()


@njit(cache=CACHE)
def gather_in_range(values, lo, hi, count):
    """The ``count`` values of ``values`` in ``[lo, hi]`` (as :func:`count_in_range` found),
    in their order."""
    out = np.empty(count, dtype=values.dtype)
    j = 0
    for t in range(values.shape[0]):
        v = values[t]
        if lo <= v <= hi:
            out[j] = v
            j += 1
    return out


@njit(cache=CACHE)
def off_diagonal_constant(S):
    """True when every off-diagonal entry of the square matrix ``S`` has the same value."""
    n = S.shape[0]
    if n < 2:
        return True
    ref = S[0, 1]
    for i in range(n):
        for k in range(n):
            if k != i and S[i, k] != ref:
                return False
    return True


@njit(cache=CACHE, parallel=True)
def edge_similarities(X, indptr, indices):
    """Negative squared euclidean distance along every edge of a CSR graph over the rows of X.

    Parameters
    ----------
    X : float array of shape (n, d)
    indptr, indices : int64 arrays
        CSR structure over the n rows.

    Returns
    -------
    array of shape (len(indices),), dtype of ``X``
        ``-sum((X[i] - X[j]) ** 2)`` for edge ``(i, j)``, summed in float64.
    """
    n, d = X.shape
    out = np.empty(indices.shape[0], dtype=X.dtype)
    for i in prange(n):
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            acc = 0.0
            for t in range(d):
                diff = np.float64(X[i, t]) - np.float64(X[j, t])
                acc += diff * diff
            out[e] = -acc
    return out
