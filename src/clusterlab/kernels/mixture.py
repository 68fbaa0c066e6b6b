"""Gaussian mixture kernels: Cholesky-based log-densities and the fused E step / M statistics.

Conventions shared by every kernel here
---------------------------------------
``kind`` is one of :data:`FULL`, :data:`TIED`, :data:`DIAG`, :data:`SPHERICAL` and fixes the
layout of the precision factors ``prec`` (float64):

- FULL: shape (k, d, d); ``prec[c]`` is the upper-triangular factor ``U`` with
  ``U @ U.T == inv(Sigma_c)`` (scikit-learn's ``precisions_cholesky_``), so that
  ``(x - mu) @ U`` has identity covariance;
- TIED: shape (1, d, d), one such factor for every component;
- DIAG and SPHERICAL: shape (k, 1, d); ``prec[c, 0, f]`` is ``1 / sqrt(Sigma_c[f, f])`` (for
  SPHERICAL all ``d`` entries are equal).

``log_norm`` (k,) float64 holds ``log(weight_c) + log det(U_c) - d / 2 * log(2 pi)``, so that the
weighted log-density of ``x`` under component ``c`` is ``log_norm[c] - |(x - mu_c) @ U_c|^2 / 2``.
A component of weight 0 has ``log_norm = -inf`` and gets zero responsibility.

Everything is computed in float64 whatever the dtype of ``X`` (float32 rows are widened as they
are read). Sums over rows run per block of rows (a partition that depends on ``n`` only) and then
over blocks in order, so results are identical for every thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clusterlab._config import CACHE
from clusterlab.kernels.mixture_kinds import DIAG, FULL, SPHERICAL, TIED
from clusterlab.kernels.variants import by_threads, serial_twin

__all__ = [
    "DIAG",
    "FULL",
    "SPHERICAL",
    "TIED",
    "estep_statistics",
    "log_prob_and_likelihood",
    "n_row_blocks",
    "precision_factors",
    "weighted_log_prob",
]

#: Rows per block of the reductions (at least; see :func:`n_row_blocks`).
BLOCK_ROWS = 2048
#: A Cholesky pivot below this fraction of its diagonal entry counts as a failure: the matrix is
#: singular to working precision (condition number above about 1e12) even if rounding left the
#: pivot positive, and its precision factor would be noise.
PIVOT_RTOL = 1e-12
#: Largest number of blocks: the per-block partial statistics of a full model take
#: ``blocks * k * d * d`` floats, so their number is bounded.
MAX_BLOCKS = 64

# Reassociation lets the short loops over features vectorise; no nnan/ninf, because
# log-weights of empty components are -inf on purpose.
_FAST = {"reassoc", "contract", "nsz", "arcp"}


def n_row_blocks(n_samples: int) -> int:
    """Number of row blocks of the reductions for ``n_samples`` rows (independent of threads)."""
    return max(1, min(MAX_BLOCKS, -(-n_samples // BLOCK_ROWS)))


# --------------------------------------------------------------------------------------------
# tiles: up to TILE rows copied feature-major (d, TILE) in float64, so that every inner loop runs
# over rows (contiguous, vectorised) whatever the number of features
# --------------------------------------------------------------------------------------------
#: Rows per tile.
TILE = 256


@njit(cache=CACHE)
def _load_tile(X, start, stop, Xt):
    """``Xt[:, :stop - start] = X[start:stop].T`` in float64."""
    d = X.shape[1]
    for i in range(stop - start):
        for f in range(d):
            Xt[f, i] = X[start + i, f]


@njit(cache=CACHE, fastmath=_FAST)
def _center_tile(Xt, mean, m, Dt):
    """``Dt[:, :m] = Xt[:, :m] - mean[:, None]``."""
    for f in range(Xt.shape[0]):
        mu = mean[f]
        for i in range(m):
            Dt[f, i] = Xt[f, i] - mu


@njit(cache=CACHE, fastmath=_FAST)
def _tri_product(U, Dt, m, Yt):
    """``Yt[:, :m] = U.T @ Dt[:, :m]`` for an upper-triangular ``U`` (d, d)."""
    d = U.shape[0]
    for j in range(d):
        for i in range(m):
            Yt[j, i] = 0.0
        for a in range(j + 1):
            u = U[a, j]
            for i in range(m):
                Yt[j, i] += u * Dt[a, i]


@njit(cache=CACHE, fastmath=_FAST)
def _tile_log_probs(Xt, m, means, prec, log_norm, kind, means_prec, Yt, q, logp):  # noqa: PLR0917
    """Weighted log-densities of a tile's rows: ``logp[c, i]`` for ``i < m``.

    ``q[c, i]`` (k, TILE) gets the quadratic forms: ``|(x_i - mu_c) @ U_c|^2``, except for
    SPHERICAL, where it is the plain squared distance ``|x_i - mu_c|^2`` (the M step reads it
    back). ``means_prec`` (k, d) holds ``mu_c @ U_c`` (FULL, TIED). ``Yt`` (d, TILE) is scratch.
    """
    k, d = means.shape
    if kind == TIED:
        _tri_product(prec[0], Xt, m, Yt)
    for c in range(k):
        qc = q[c]
        for i in range(m):
            qc[i] = 0.0
        scale = 1.0
        if kind in (FULL, TIED):
            # (x - mu) @ U as x @ U - mu @ U (scikit-learn's form): no centred copy of the tile
            if kind == FULL:
                _tri_product(prec[c], Xt, m, Yt)
            for j in range(d):
                mp = means_prec[c, j]
                for i in range(m):
                    t = Yt[j, i] - mp
                    qc[i] += t * t
        elif kind == DIAG:
            for f in range(d):
                mu = means[c, f]
                p = prec[c, 0, f]
                for i in range(m):
                    t = (Xt[f, i] - mu) * p
                    qc[i] += t * t
        else:
            for f in range(d):
                mu = means[c, f]
                for i in range(m):
                    t = Xt[f, i] - mu
                    qc[i] += t * t
            scale = prec[c, 0, 0] * prec[c, 0, 0]
        for i in range(m):
            logp[c, i] = log_norm[c] - 0.5 * scale * qc[i]


@njit(cache=CACHE)
def _normalise_tile(logp, m, lse):
    """Turn ``logp[:, :m]`` into responsibilities in place; ``lse[i]`` gets each row's log-sum-exp.

    A row with every component at weight 0 (all ``-inf``) gets zero responsibilities.
    """
    k = logp.shape[0]
    for i in range(m):
        top = -np.inf
        for c in range(k):
            top = max(top, logp[c, i])
        if top == -np.inf:
            for c in range(k):
                logp[c, i] = 0.0
            lse[i] = -np.inf
            continue
        total = 0.0
        for c in range(k):
            e = np.exp(logp[c, i] - top)
            logp[c, i] = e
            total += e
        for c in range(k):
            logp[c, i] /= total
        lse[i] = top + np.log(total)


@njit(cache=CACHE, fastmath=_FAST)
def _accumulate_tile(Xt, mean, r, m, kind, qc, Dt, rd, s1, s2):  # noqa: PLR0917
    """Add one component's weighted moments about ``mean`` over a tile; returns ``sum(r)``.

    ``s1 += (Xt - mean) @ r``, and ``s2`` as :func:`estep_statistics` describes it: FULL the
    upper triangle of the scatter (d, d), DIAG its diagonal (1, d), SPHERICAL ``s2[0, 0] +=
    qc @ r`` (the squared distances from the E step), TIED nothing. ``Dt`` (d, TILE) and ``rd``
    (TILE,) are scratch.
    """
    d = Xt.shape[0]
    total = 0.0
    for i in range(m):
        total += r[i]
    if kind == FULL:
        _center_tile(Xt, mean, m, Dt)
        for a in range(d):
            acc = 0.0
            for i in range(m):
                t = r[i] * Dt[a, i]
                rd[i] = t
                acc += t
            s1[a] += acc
            for b in range(a, d):
                acc = 0.0
                for i in range(m):
                    acc += rd[i] * Dt[b, i]
                s2[a, b] += acc
        return total
    for a in range(d):
        mu = mean[a]
        acc = 0.0
        acc2 = 0.0
        for i in range(m):
            t = Xt[a, i] - mu
            rt = r[i] * t
            acc += rt
            acc2 += rt * t
        s1[a] += acc
        if kind == DIAG:
            s2[0, a] += acc2
    if kind == SPHERICAL:
        acc = 0.0
        for i in range(m):
            acc += r[i] * qc[i]
        s2[0, 0] += acc
    return total


def _means_prec(means: np.ndarray, prec: np.ndarray, kind: int) -> np.ndarray:
    """``mu_c @ U_c`` (k, d) for FULL and TIED; a (1, 1) placeholder for the others."""
    if kind == FULL:
        return np.einsum("kd,kde->ke", means, prec)
    if kind == TIED:
        return means @ prec[0]
    return np.zeros((1, 1))


# --------------------------------------------------------------------------------------------
# kernels
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE)
def _estep_block(  # noqa: PLR0917
    X, w, means, prec, log_norm, kind, means_prec, start, stop, out, ll, sr, s1, s2
):
    """The E step on rows ``start:stop``, one tile at a time.

    With ``out`` of shape (n, k) it writes the rows' weighted log-densities there (and adds the
    block's log-likelihood to ``ll[0]`` when ``w`` has n entries); else it adds the block's
    log-likelihood to ``ll[0]`` and its statistics to ``sr`` (k,), ``s1`` (k, d) and ``s2``
    (k, ., .) (layouts of :func:`estep_statistics`).
    """
    n, d = X.shape
    k = means.shape[0]
    write = out.shape[0] == n
    Xt = np.empty((d, TILE))
    Dt = np.empty((d, TILE))
    Yt = np.empty((d, TILE))
    q = np.empty((k, TILE))
    resp = np.empty((k, TILE))
    r = np.empty(TILE)
    rd = np.empty(TILE)
    lse = np.empty(TILE)
    for first in range(start, stop, TILE):
        m = min(TILE, stop - first)
        _load_tile(X, first, first + m, Xt)
        _tile_log_probs(Xt, m, means, prec, log_norm, kind, means_prec, Yt, q, resp)
        if write:
            for i in range(m):
                for c in range(k):
                    out[first + i, c] = resp[c, i]
            if w.shape[0] != n:
                continue
        _normalise_tile(resp, m, lse)
        for i in range(m):
            if w[first + i] != 0.0:  # a zero weight must not meet a -inf log-density
                ll[0] += w[first + i] * lse[i]
        if write:
            continue
        for c in range(k):
            for i in range(m):
                r[i] = w[first + i] * resp[c, i]
            sr[c] += _accumulate_tile(Xt, means[c], r, m, kind, q[c], Dt, rd, s1[c], s2[c])


@njit(cache=CACHE)
def _reduce_blocks(ll, sr, s1, s2, kind):
    """Sums over blocks, in block order; the FULL scatter made symmetric."""
    n_blocks = ll.shape[0]
    total = 0.0
    sr_sum = np.zeros(sr.shape[1:])
    s1_sum = np.zeros(s1.shape[1:])
    s2_sum = np.zeros(s2.shape[1:])
    for b in range(n_blocks):
        total += ll[b, 0]
        sr_sum += sr[b]
        s1_sum += s1[b]
        s2_sum += s2[b]
    if kind == FULL:
        for c in range(s2_sum.shape[0]):
            for a in range(s2_sum.shape[1]):
                for b in range(a):
                    s2_sum[c, a, b] = s2_sum[c, b, a]
    return total, sr_sum, s1_sum, s2_sum


@njit(cache=CACHE, parallel=True)
def _estep_parallel(X, w, means, prec, log_norm, kind, means_prec, n_blocks, out):  # noqa: PLR0917
    """The E step over row blocks (:func:`_estep_block` each). With ``out`` of shape (n, k) it
    only writes the weighted log-densities there; with ``out`` of shape (0, k) it returns the
    M step's statistics (:func:`estep_statistics`)."""
    n, d = X.shape
    k = means.shape[0]
    rows, cols = (d, d) if kind == FULL else ((1, d) if kind == DIAG else (1, 1))
    ll = np.zeros((n_blocks, 1))
    sr = np.zeros((n_blocks, k))
    s1 = np.zeros((n_blocks, k, d))
    s2 = np.zeros((n_blocks, k, rows, cols))
    step = -(-n // n_blocks)
    for b in prange(n_blocks):
        stop = min(n, (b + 1) * step)
        _estep_block(
            X, w, means, prec, log_norm, kind, means_prec, b * step, stop, out, ll[b], sr[b],
            s1[b], s2[b],
        )  # fmt: skip
    return _reduce_blocks(ll, sr, s1, s2, kind)


# Small data on one thread runs the serial twin and never compiles the parallel kernel
# (kernels/variants.py); both call the same compiled block, so their numbers are identical.
_estep_serial = serial_twin(_estep_parallel)
_estep = by_threads(_estep_parallel, _estep_serial)


def estep_statistics(X, w, means, prec, log_norm, kind):  # noqa: PLR0917
    """One E step fused with the sufficient statistics of the following M step.

    Parameters
    ----------
    X : float32 or float64 array (n, d), C-contiguous -- read.
    w : float64 array (n,) -- non-negative row weights, read.
    means : float64 array (k, d) -- current means, read.
    prec, log_norm, kind : the model (module docstring) -- read.

    Returns
    -------
    total : float
        ``sum_i w_i log p(x_i)`` under the current model (the weighted log-likelihood).
    sr : float64 (k,)
        ``sum_i w_i r_ic`` (responsibilities ``r`` of the current model).
    s1 : float64 (k, d)
        ``sum_i w_i r_ic (x_i - means_c)``.
    s2 : float64
        FULL: (k, d, d) ``sum_i w_i r_ic (x_i - means_c)(x_i - means_c)^T`` (symmetric);
        DIAG: (k, 1, d), the diagonal of that sum; SPHERICAL: (k, 1, 1), its trace
        ``sum_i w_i r_ic |x_i - means_c|^2``; TIED: (k, 1, 1) zeros (its pooled scatter does
        not depend on ``r``: the caller computes it once).
        Moments are taken about the current means (not the origin) so that the covariance of the
        next M step subtracts a small correction instead of two large, nearly equal numbers.
    """
    k = means.shape[0]
    return _estep(
        X,
        w,
        means,
        prec,
        log_norm,
        kind,
        _means_prec(means, prec, kind),
        n_row_blocks(X.shape[0]),
        np.empty((0, k)),
    )


def weighted_log_prob(X, means, prec, log_norm, kind):
    """Weighted log-densities ``log(weight_c) + log N(x_i | mu_c, Sigma_c)``: float64 (n, k).

    ``X`` float32/float64 (n, d) and the model (module docstring) are read.
    """
    w = np.zeros(0)  # no likelihood wanted
    return log_prob_and_likelihood(X, w, means, prec, log_norm, kind)[0]


def log_prob_and_likelihood(X, w, means, prec, log_norm, kind):  # noqa: PLR0917
    """:func:`weighted_log_prob` and, in the same pass, ``sum_i w_i log p(x_i)`` (the weighted
    log-likelihood; 0.0 when ``w`` is empty). ``w`` float64 (n,) or (0,) is read."""
    n = X.shape[0]
    out = np.empty((n, means.shape[0]))
    means_prec = _means_prec(means, prec, kind)
    total = _estep(X, w, means, prec, log_norm, kind, means_prec, n_row_blocks(n), out)[0]
    return out, total


@njit(cache=CACHE)
def precision_factors(cov, reg, U):
    """Upper-triangular precision factors of regularised covariance matrices.

    For each ``c``: the Cholesky factor ``L`` of ``A = cov[c] + reg[c] * I`` (lower), then
    ``U[c] = inv(L).T``, so that ``U[c] @ U[c].T == inv(A)`` (scikit-learn's
    ``precisions_cholesky_``).

    Parameters
    ----------
    cov : float64 array (k, d, d) -- symmetric matrices, read (only the lower triangle is used).
    reg : float64 array (k,) -- added to each diagonal, read.
    U : float64 array (k, d, d) -- written; zero where the factorisation fails.

    Returns
    -------
    ok : bool array (k,)
        False where ``A`` is not numerically positive definite: a pivot that is not finite or
        not above ``PIVOT_RTOL`` times its diagonal entry.
    """
    k, d, _ = cov.shape
    ok = np.ones(k, dtype=np.bool_)
    L = np.zeros((d, d))
    for c in range(k):
        L[:] = 0.0
        for j in range(d):
            diag = cov[c, j, j] + reg[c]
            s = diag
            for m in range(j):
                s -= L[j, m] * L[j, m]
            if not np.isfinite(s) or not s > PIVOT_RTOL * abs(diag):
                ok[c] = False
                break
            L[j, j] = np.sqrt(s)
            for i in range(j + 1, d):
                t = cov[c, i, j]
                for m in range(j):
                    t -= L[i, m] * L[j, m]
                L[i, j] = t / L[j, j]
        U[c] = 0.0
        if not ok[c]:
            continue
        # column j of inv(L) by forward substitution; U[c] is its transpose
        for j in range(d):
            U[c, j, j] = 1.0 / L[j, j]
            for i in range(j + 1, d):
                t = 0.0
                for m in range(j, i):
                    t -= L[i, m] * U[c, j, m]
                U[c, j, i] = t / L[i, i]
    return ok
