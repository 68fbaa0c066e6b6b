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

__all__ = [
    "DIAG",
    "FULL",
    "SPHERICAL",
    "TIED",
    "estep_statistics",
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
def _tile_log_probs(Xt, m, means, prec, log_norm, kind, means_prec, Dt, Yt, q, logp):  # noqa: PLR0917
    """Weighted log-densities of a tile's rows: ``logp[c, i]`` for ``i < m``.

    ``Dt``, ``Yt`` (d, TILE) and ``q`` (TILE,) are scratch.
    """
    k, d = means.shape
    if kind == TIED:
        _tri_product(prec[0], Xt, m, Yt)
    for c in range(k):
        for i in range(m):
            q[i] = 0.0
        if kind == FULL:
            _center_tile(Xt, means[c], m, Dt)
            _tri_product(prec[c], Dt, m, Yt)
            for j in range(d):
                for i in range(m):
                    q[i] += Yt[j, i] * Yt[j, i]
        elif kind == TIED:
            for j in range(d):
                mp = means_prec[c, j]
                for i in range(m):
                    t = Yt[j, i] - mp
                    q[i] += t * t
        else:
            for f in range(d):
                mu = means[c, f]
                p = prec[c, 0, f]
                for i in range(m):
                    t = (Xt[f, i] - mu) * p
                    q[i] += t * t
        for i in range(m):
            logp[c, i] = log_norm[c] - 0.5 * q[i]


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
def _accumulate_tile(Dt, r, m, full, s1, s2):  # noqa: PLR0917
    """Add a tile's weighted moments: ``s1 += Dt @ r``; ``s2`` (d, d) upper triangle
    ``+= (Dt * r) @ Dt.T`` when ``full``, else ``s2[0] += (Dt * Dt) @ r``. Returns ``sum(r)``."""
    d = Dt.shape[0]
    total = 0.0
    for i in range(m):
        total += r[i]
    for a in range(d):
        acc = 0.0
        for i in range(m):
            acc += r[i] * Dt[a, i]
        s1[a] += acc
        if full:
            for b in range(a, d):
                acc = 0.0
                for i in range(m):
                    acc += r[i] * Dt[a, i] * Dt[b, i]
                s2[a, b] += acc
        else:
            acc = 0.0
            for i in range(m):
                acc += r[i] * Dt[a, i] * Dt[a, i]
            s2[0, a] += acc
    return total


def _tied_means_prec(means: np.ndarray, prec: np.ndarray, kind: int) -> np.ndarray:
    if kind == TIED:
        return means @ prec[0]
    return np.zeros((1, 1))


@njit(cache=CACHE)
def _symmetrise(s2):
    for c in range(s2.shape[0]):
        for a in range(s2.shape[1]):
            for b in range(a):
                s2[c, a, b] = s2[c, b, a]


# --------------------------------------------------------------------------------------------
# kernels
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE, parallel=True)
def _estep(X, w, means, prec, log_norm, kind, means_prec, n_blocks, out):  # noqa: PLR0917
    """The E step over row blocks. With ``out`` of shape (n, k) it only writes the weighted
    log-densities there; with ``out`` of shape (0, k) it returns the M step's statistics."""
    n, d = X.shape
    k = means.shape[0]
    write = out.shape[0] == n
    second = kind != TIED and not write
    full = kind == FULL
    s2_rows = d if full else 1
    part_ll = np.zeros(n_blocks)
    part_sr = np.zeros((n_blocks, k))
    part_s1 = np.zeros((n_blocks, k, d))
    part_s2 = np.zeros((n_blocks, k, s2_rows, d)) if second else np.zeros((n_blocks, 1, 1, 1))
    step = -(-n // n_blocks)
    for b in prange(n_blocks):
        Xt = np.empty((d, TILE))
        Dt = np.empty((d, TILE))
        Yt = np.empty((d, TILE))
        q = np.empty(TILE)
        r = np.empty(TILE)
        lse = np.empty(TILE)
        resp = np.empty((k, TILE))
        stop_b = min(n, (b + 1) * step)
        for start in range(b * step, stop_b, TILE):
            m = min(TILE, stop_b - start)
            _load_tile(X, start, start + m, Xt)
            _tile_log_probs(Xt, m, means, prec, log_norm, kind, means_prec, Dt, Yt, q, resp)
            if write:
                for i in range(m):
                    for c in range(k):
                        out[start + i, c] = resp[c, i]
                continue
            _normalise_tile(resp, m, lse)
            for i in range(m):
                if w[start + i] != 0.0:
                    part_ll[b] += w[start + i] * lse[i]
            for c in range(k):
                for i in range(m):
                    r[i] = w[start + i] * resp[c, i]
                _center_tile(Xt, means[c], m, Dt)
                if second:
                    part_sr[b, c] += _accumulate_tile(Dt, r, m, full, part_s1[b, c], part_s2[b, c])
                else:
                    part_sr[b, c] += _sum_moment1(Dt, r, m, part_s1[b, c])
    total = 0.0
    sr = np.zeros(k)
    s1 = np.zeros((k, d))
    s2 = np.zeros(part_s2.shape[1:])
    for b in range(n_blocks):
        total += part_ll[b]
        sr += part_sr[b]
        s1 += part_s1[b]
        s2 += part_s2[b]
    if full and second:
        _symmetrise(s2)
    return total, sr, s1, s2


@njit(cache=CACHE, fastmath=_FAST)
def _sum_moment1(Dt, r, m, s1):
    """``s1 += Dt @ r``; returns ``sum(r)`` (the TIED statistics)."""
    total = 0.0
    for i in range(m):
        total += r[i]
    for a in range(Dt.shape[0]):
        acc = 0.0
        for i in range(m):
            acc += r[i] * Dt[a, i]
        s1[a] += acc
    return total


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
        TIED: (1, 1, 1) zeros (its pooled scatter does not depend on ``r``: the caller computes
        it once); DIAG and SPHERICAL: (k, 1, d), the diagonal of that sum.
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
        _tied_means_prec(means, prec, kind),
        n_row_blocks(X.shape[0]),
        np.empty((0, k)),
    )


def weighted_log_prob(X, means, prec, log_norm, kind):
    """Weighted log-densities ``log(weight_c) + log N(x_i | mu_c, Sigma_c)``: float64 (n, k).

    ``X`` float32/float64 (n, d) and the model (module docstring) are read.
    """
    n = X.shape[0]
    out = np.empty((n, means.shape[0]))
    w = np.zeros(0)  # not read when writing log-densities
    means_prec = _tied_means_prec(means, prec, kind)
    _estep(X, w, means, prec, log_norm, kind, means_prec, n_row_blocks(n), out)
    return out


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
