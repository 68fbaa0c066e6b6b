"""Gaussian mixture parameters: the M step from sufficient statistics, precision factors with
per-component regularisation, and checks of user-given initial parameters.

Parameters are kept in scikit-learn's layouts (``covariances_`` and ``precisions_cholesky_``
shaped by covariance type) and converted to the kernels' layout (:mod:`clusterlab.kernels.mixture`)
by :meth:`Params.kernel_model`. Everything is float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clusterlab.kernels.mixture_kinds import DIAG, FULL, SPHERICAL, TIED

__all__ = [
    "KINDS",
    "Params",
    "check_means",
    "check_precisions",
    "check_weights",
    "m_step",
    "n_parameters",
    "params_from_precisions",
]

KINDS = {"full": FULL, "tied": TIED, "diag": DIAG, "spherical": SPHERICAL}
_LOG_2PI = np.log(2.0 * np.pi)
#: scikit-learn adds this to every component's total responsibility (10 * float64 eps), so that
#: an empty component keeps finite means; we do the same to give the same numbers.
_NK_EPS = 10.0 * np.finfo(np.float64).eps
#: Each failed factorisation multiplies a component's regularisation by this.
REG_STEP = 10.0
#: The first raised regularisation is at least this fraction of the data's mean variance.
REG_FLOOR = 1e-10
#: A component whose regularisation had to rise above this fraction of the data's mean variance
#: has no usable covariance left (no points, or all on one point).
_REG_GIVE_UP = 1e6


@dataclass
class Params:
    """One mixture: weights (k,), means (k, d), covariances and precision factors in
    scikit-learn's layout for ``kind``, and the regularisation each covariance carries (k,)."""

    kind: int
    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    prec_chol: np.ndarray
    reg: np.ndarray

    def kernel_model(self) -> tuple[np.ndarray, np.ndarray]:
        """``(prec, log_norm)`` in the kernels' layout (see :mod:`clusterlab.kernels.mixture`)."""
        k, d = self.means.shape
        if self.kind == FULL:
            prec = self.prec_chol
            log_det = np.log(np.diagonal(prec, axis1=1, axis2=2)).sum(axis=1)
        elif self.kind == TIED:
            prec = self.prec_chol[None]
            log_det = np.full(k, np.log(np.diag(self.prec_chol)).sum())
        elif self.kind == DIAG:
            prec = self.prec_chol[:, None, :]
            log_det = np.log(self.prec_chol).sum(axis=1)
        else:
            prec = np.repeat(self.prec_chol[:, None, None], d, axis=2)
            log_det = d * np.log(self.prec_chol)
        with np.errstate(divide="ignore"):
            log_norm = np.log(self.weights) + log_det - 0.5 * d * _LOG_2PI
        return np.ascontiguousarray(prec), log_norm

    def precisions(self) -> np.ndarray:
        """Precision matrices (or vectors) from the factors, in scikit-learn's layout."""
        if self.kind == FULL:
            return np.einsum("kij,klj->kil", self.prec_chol, self.prec_chol)
        if self.kind == TIED:
            return self.prec_chol @ self.prec_chol.T
        return self.prec_chol**2


def n_parameters(kind: int, n_components: int, n_features: int) -> int:
    """Free parameters of a mixture (as scikit-learn counts them for BIC and AIC)."""
    d = n_features
    cov = {
        FULL: n_components * d * (d + 1) / 2.0,
        TIED: d * (d + 1) / 2.0,
        DIAG: n_components * d,
        SPHERICAL: n_components,
    }[kind]
    return int(cov + d * n_components + n_components - 1)


# --------------------------------------------------------------------------------------------
# covariances from statistics
# --------------------------------------------------------------------------------------------
def means_from_moments(sr: np.ndarray, s1: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Means from moments about ``centers``: ``sum r x / (sum r + 10 eps)`` (scikit-learn's)."""
    nk = sr + _NK_EPS
    return (s1 + sr[:, None] * centers) / nk[:, None]


def raw_covariances(  # noqa: PLR0917
    kind: int,
    sr: np.ndarray,
    s1: np.ndarray,
    s2: np.ndarray,
    centers: np.ndarray,
    means: np.ndarray,
    tied: tuple[np.ndarray, np.ndarray] | None,
) -> np.ndarray:
    """Covariances (before regularisation) of components with the given new ``means``.

    ``s1`` and ``s2`` are moments about ``centers`` (:func:`~clusterlab.kernels.mixture.
    estep_statistics`; for SPHERICAL ``s2`` may also be the diagonal, shape (k, 1, d)); moving
    them to the new means subtracts only the small shift ``delta = means - centers``. ``tied``
    is ``(scatter, center)``: the weighted scatter of all rows about ``center`` (needed for
    TIED only, which pools the components' scatters).
    """
    nk = sr + _NK_EPS
    delta = means - centers
    if kind == FULL:
        cross = delta[:, :, None] * s1[:, None, :]
        scatter = s2 - cross - cross.transpose(0, 2, 1)
        scatter += sr[:, None, None] * delta[:, :, None] * delta[:, None, :]
        return scatter / nk[:, None, None]
    if kind == TIED:
        total, center = tied
        between = means - center
        pooled = total - np.einsum("k,ki,kj->ij", sr, between, between)
        return pooled / nk.sum()
    if kind == DIAG:
        return (s2[:, 0, :] - 2.0 * delta * s1 + sr[:, None] * delta**2) / nk[:, None]
    # SPHERICAL: the mean variance over features; s2 holds the trace (k, 1, 1) or the diagonal
    # (k, 1, d), and summing its last axis serves both
    d = means.shape[1]
    total = s2[:, 0, :].sum(axis=1) - 2.0 * (delta * s1).sum(axis=1) + sr * (delta**2).sum(axis=1)
    return total / (nk * d)


def factorise(kind: int, cov: np.ndarray, reg: np.ndarray, scale: float):
    """Regularised covariances and their precision factors, raising ``reg`` where needed.

    A component whose ``cov + reg * I`` is not numerically positive definite gets its ``reg``
    multiplied by :data:`REG_STEP` (starting at least at ``REG_FLOOR * scale``, ``scale`` being
    the data's mean feature variance) until it is. ``reg`` (k,) is updated in place.

    Returns
    -------
    covariances, prec_chol : arrays in scikit-learn's layout (``reg`` added to the diagonal)

    Raises
    ------
    ValueError
        When a component stays singular even with a regularisation ``1e6`` times the data's
        variance (not finite data would be the only cause).
    """
    floor = REG_FLOOR * scale
    while True:
        covariances, prec_chol, ok = _try_factorise(kind, cov, reg)
        if ok.all():
            return covariances, prec_chol
        bad = np.flatnonzero(~ok)
        if np.any(reg[bad] > _REG_GIVE_UP * scale):
            raise ValueError(
                f"the covariance of component(s) {bad.tolist()} stays singular even with "
                f"reg_covar={reg[bad].max():.3g}; the data may not be finite"
            )
        reg[bad] = np.maximum(reg[bad] * REG_STEP, floor)


def _try_factorise(kind: int, cov: np.ndarray, reg: np.ndarray):
    from clusterlab.kernels.mixture import precision_factors

    k = reg.shape[0]
    if kind in (FULL, TIED):
        mats = cov if kind == FULL else cov[None]
        regs = reg if kind == FULL else reg[:1]
        factors = np.empty_like(mats)
        ok = precision_factors(np.ascontiguousarray(mats), regs, factors)
        d = mats.shape[1]
        covariances = mats + regs[:, None, None] * np.eye(d)
        if kind == TIED:
            return covariances[0], factors[0], np.repeat(ok, k)
        return covariances, factors, ok
    reg_b = reg[:, None] if kind == DIAG else reg
    covariances = cov + reg_b
    positive = np.isfinite(covariances) & (covariances > 0)
    ok = positive.all(axis=1) if kind == DIAG else positive
    with np.errstate(divide="ignore", invalid="ignore"):
        prec_chol = np.where(positive, 1.0 / np.sqrt(np.where(positive, covariances, 1.0)), 0.0)
    return covariances, prec_chol, ok


def m_step(  # noqa: PLR0917
    kind: int,
    sr: np.ndarray,
    s1: np.ndarray,
    s2: np.ndarray,
    centers: np.ndarray,
    reg: np.ndarray,
    scale: float,
    tied: tuple[np.ndarray, np.ndarray] | None,
    weights_total: float | None = None,
) -> Params:
    """New parameters from the statistics of an E step (moments about ``centers``).

    ``weights_total`` divides the component totals into weights: ``None`` normalises them to
    sum to one (every M step); a number reproduces scikit-learn's initialisation, which divides
    by the number of rows. ``reg`` (k,) is the regularisation of each component so far and is
    raised in place where a covariance is singular (:func:`factorise`).
    """
    nk = sr + _NK_EPS
    weights = nk / (nk.sum() if weights_total is None else weights_total)
    means = means_from_moments(sr, s1, centers)
    cov = raw_covariances(kind, sr, s1, s2, centers, means, tied)
    covariances, prec_chol = factorise(kind, cov, reg, scale)
    return Params(kind, weights, means, covariances, prec_chol, reg.copy())


# --------------------------------------------------------------------------------------------
# user-given initial parameters
# --------------------------------------------------------------------------------------------
def _as_float_array(value: object, name: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be an array of numbers; got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got NaN or inf")
    return arr


def _check_shape(arr: np.ndarray, shape: tuple[int, ...], name: str) -> None:
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}; got {arr.shape}")


def check_weights(weights: object, n_components: int) -> np.ndarray:
    """``weights_init``: shape (k,), each in [0, 1], summing to one (to 1e-8)."""
    w = _as_float_array(weights, "weights_init")
    _check_shape(w, (n_components,), "weights_init")
    if np.any(w < 0) or np.any(w > 1):
        raise ValueError(
            f"weights_init must be in [0, 1]; got min {w.min():.5g} and max {w.max():.5g}"
        )
    if not abs(1.0 - w.sum()) <= 1e-6:
        raise ValueError(f"weights_init must sum to 1; got sum {w.sum():.8g}")
    return w


def check_means(means: object, n_components: int, n_features: int) -> np.ndarray:
    """``means_init``: shape (k, d), finite."""
    m = _as_float_array(means, "means_init")
    _check_shape(m, (n_components, n_features), "means_init")
    return m


def check_precisions(
    precisions: object, covariance_type: str, n_components: int, n_features: int
) -> np.ndarray:
    """``precisions_init`` in scikit-learn's layout; symmetric positive definite / positive."""
    p = _as_float_array(precisions, "precisions_init")
    k, d = n_components, n_features
    shapes = {"full": (k, d, d), "tied": (d, d), "diag": (k, d), "spherical": (k,)}
    _check_shape(
        p, shapes[covariance_type], f"precisions_init (covariance_type={covariance_type!r})"
    )
    if covariance_type in ("diag", "spherical"):
        if np.any(p <= 0):
            raise ValueError(f"precisions_init must be positive; got a minimum of {p.min():.5g}")
        return p
    mats = p if covariance_type == "full" else p[None]
    for c, mat in enumerate(mats):
        where = f" (component {c})" if covariance_type == "full" else ""
        if not np.allclose(mat, mat.T) or not np.all(np.linalg.eigvalsh(mat) > 0):
            raise ValueError(
                f"precisions_init must be symmetric positive definite{where}; it is not"
            )
    return p


def params_from_precisions(
    kind: int, weights: np.ndarray, means: np.ndarray, precisions: np.ndarray, reg: np.ndarray
) -> Params:
    """Parameters from given precisions (scikit-learn's ``_compute_precision_cholesky_from_
    precisions``): ``U`` upper triangular with ``U @ U.T == precision``."""
    if kind in (FULL, TIED):
        mats = precisions if kind == FULL else precisions[None]
        flip = mats[:, ::-1, ::-1]
        factors = np.linalg.cholesky(flip)[:, ::-1, ::-1]
        covariances = np.linalg.inv(mats)
        if kind == TIED:
            factors, covariances = factors[0], covariances[0]
        prec_chol = np.ascontiguousarray(factors)
    else:
        prec_chol = np.sqrt(precisions)
        covariances = 1.0 / precisions
    return Params(kind, weights, means, covariances, prec_chol, reg.copy())
