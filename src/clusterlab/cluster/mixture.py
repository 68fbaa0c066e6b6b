"""GaussianMixture: expectation-maximisation for Gaussian mixtures on numba kernels.

scikit-learn's estimator, parameters and results (the same iterates from the same initial
parameters), with three differences a user sees: ``fit`` takes ``sample_weight``; float32 data is
accumulated in float64; and a component whose covariance is singular gets a larger
regularisation (with a warning and the fitted ``reg_covar_``) instead of stopping the fit with
"ill-defined empirical covariance".
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, DensityMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from clusterlab._base import ParamsMixin
from clusterlab._config import threads
from clusterlab._validation import (
    ARRAY_LIKE,
    NONE,
    RANDOM_STATE,
    Interval,
    Options,
    check_data,
    check_n_clusters,
    check_sample_weight,
)
from clusterlab.cluster._mixture_math import (
    KINDS,
    Params,
    check_means,
    check_precisions,
    check_weights,
    m_step,
    n_parameters,
    params_from_precisions,
)
from clusterlab.distributed._dispatch import dask_fit, is_dask_collection

__all__ = ["GaussianMixture"]

#: Rows x features x components below which a fit runs on one thread: waking a second thread
#: for every E step costs more than it saves on small data, and on a loaded machine far more
#: (3,000 x 5, k = 2..10 x 4 types: 2 s on one thread, 59 s on two, measured with the machine's
#: load at 20). The same rule as KMeans's.
_SMALL_WORK = 2_000_000


class DegenerateComponentWarning(UserWarning):
    """A component's covariance was singular and its regularisation was raised."""


def n_jobs_for(work: int, n_jobs: int | None) -> int | None:
    """Threads for ``work`` = rows x features x components (one below ``_SMALL_WORK``)."""
    return 1 if work < _SMALL_WORK else n_jobs


def _random_generator(random_state: Any) -> Any:
    """A RandomState or Generator to draw from (an int or None makes a RandomState)."""
    if isinstance(random_state, np.random.RandomState | np.random.Generator):
        return random_state
    return np.random.RandomState(random_state)


@dataclass
class _Data:
    """What every EM run on the same data shares: the rows, weights and fixed statistics."""

    X: np.ndarray
    w: np.ndarray
    total_weight: float
    center: np.ndarray
    scale: float  # mean feature variance, the unit of the regularisation floor
    tied: tuple[np.ndarray, np.ndarray] | None

    @classmethod
    def build(cls, X: np.ndarray, w: np.ndarray, need_tied: bool) -> _Data:
        total = float(w.sum())
        center = (w @ X) / total  # float64: numpy promotes a float32 X against float64 w
        diff = X - center
        if need_tied:
            scatter = (diff * w[:, None]).T @ diff
            variance = np.trace(scatter) / total
        else:
            variance = float(w @ np.einsum("ij,ij->i", diff, diff)) / total
        scale = variance / X.shape[1] if variance > 0 else 1.0
        return cls(X, w, total, center, scale, (scatter, center) if need_tied else None)


@dataclass
class _Run:
    params: Params
    lower_bound: float
    lower_bounds: list[float]
    n_iter: int
    converged: bool


def _em(data: _Data, params: Params, lower_bound: float, max_iter: int, tol: float) -> _Run:
    """EM iterations from ``params`` until the lower bound changes by less than ``tol``."""
    from clusterlab.kernels.mixture import estep_statistics

    kind = params.kind
    reg = params.reg.copy()
    bounds: list[float] = []
    n_iter = 0
    converged = False
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter is read after the loop
        previous = lower_bound
        prec, log_norm = params.kernel_model()
        total, sr, s1, s2 = estep_statistics(data.X, data.w, params.means, prec, log_norm, kind)
        lower_bound = total / data.total_weight
        params = m_step(kind, sr, s1, s2, params.means, reg, data.scale, data.tied)
        bounds.append(lower_bound)
        if abs(lower_bound - previous) < tol:
            converged = True
            break
    return _Run(params, lower_bound, bounds, n_iter, converged)


def params_from_resp(
    data: _Data, resp: np.ndarray, kind: int, reg_covar: float, weights_total: float | None
) -> Params:
    """Parameters of one covariance type from responsibilities (scikit-learn's initialisation).

    ``weights_total`` as in :func:`~clusterlab.cluster._mixture_math.m_step`.
    """
    sr, means, s2 = _resp_statistics(data, resp)
    return _params_of_kind(data, kind, sr, means, s2, reg_covar, weights_total)


def _resp_statistics(data: _Data, resp: np.ndarray):
    """Total responsibility, means and full scatter about the means of every component.

    Used once per initialisation, so plain numpy (BLAS, float64) on the rows each component
    holds; the means are scikit-learn's ``resp.T @ X / (sum resp + 10 eps)``.
    """
    from clusterlab.cluster._mixture_math import means_from_moments

    weighted = resp * data.w[:, None]
    sr = weighted.sum(axis=0)
    k, d = resp.shape[1], data.X.shape[1]
    means = means_from_moments(sr, weighted.T @ data.X, np.zeros((k, d)))
    s2 = np.zeros((k, d, d))
    for c in range(k):
        rows = np.flatnonzero(weighted[:, c])
        diff = data.X[rows] - means[c]
        s2[c] = (diff * weighted[rows, c, None]).T @ diff
    return sr, means, s2


def _params_of_kind(  # noqa: PLR0917
    data: _Data,
    kind: int,
    sr: np.ndarray,
    means: np.ndarray,
    s2_full: np.ndarray,
    reg_covar: float,
    weights_total: float | None,
) -> Params:
    """Parameters of ``kind`` from full scatters about ``means`` (one pass serves every kind)."""
    from clusterlab.kernels.mixture_kinds import DIAG, SPHERICAL, TIED

    k = sr.shape[0]
    s1 = np.zeros_like(means)
    if kind in (DIAG, SPHERICAL):
        s2 = np.ascontiguousarray(np.diagonal(s2_full, axis1=1, axis2=2)[:, None, :])
    else:
        s2 = s2_full
    tied = data.tied if kind == TIED else None
    reg = np.full(k, float(reg_covar))
    return m_step(kind, sr, s1, s2, means, reg, data.scale, tied, weights_total)


class GaussianMixture(ParamsMixin, DensityMixin, ClusterMixin, BaseEstimator):
    """Gaussian mixture model fitted by expectation-maximisation, on numba kernels.

    The parameters, attributes and methods of ``sklearn.mixture.GaussianMixture``, and the same
    iterates from the same initial parameters. Each EM iteration is one parallel pass over the
    rows that computes the responsibilities and, in the same pass, the weighted moments the next
    M step needs (about the current means, in float64 whatever the dtype of ``X``).

    Parameters
    ----------
    n_components : int, default=1
        Number of mixture components.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        'full': each component has its own covariance matrix; 'tied': one shared matrix;
        'diag': a diagonal matrix per component; 'spherical': one variance per component.
    tol : float, default=1e-3
        EM stops when the lower bound (the weighted mean log-likelihood) changes by less.
    reg_covar : float, default=1e-6
        Added to the diagonal of every covariance. A component whose regularised covariance is
        still not positive definite (collapsed or collinear points) has its own regularisation
        multiplied by 10 until it is; ``reg_covar_`` holds what each component carries.
    max_iter : int, default=100
        EM iterations per initialisation (0: keep the initial parameters).
    n_init : int, default=1
        Initialisations; the one with the highest final lower bound is kept.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, default='kmeans'
        How initial responsibilities are drawn: k-means labels (clusterlab's KMeans, one run),
        k-means++ seeds, uniform random responsibilities, or random rows.
    weights_init : array of shape (n_components,), optional
        Initial weights (summing to one); replace those from ``init_params``.
    means_init : array of shape (n_components, n_features), optional
        Initial means.
    precisions_init : array, optional
        Initial precisions (inverse covariances), shaped as ``precisions_`` for the
        covariance type. When weights, means and precisions are all given, ``init_params``
        draws nothing and a fit is deterministic.
    random_state : None, int, RandomState or Generator
        Randomness of the initialisation; an int gives identical results run to run and for
        every thread count.
    warm_start : bool, default=False
        A refit starts from the current parameters (one initialisation).
    n_jobs : int, optional
        Threads for the numba kernels (None: numba's current setting; -1: all cores).

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
    covariances_ : ndarray
        (k, d, d) 'full', (d, d) 'tied', (k, d) 'diag', (k,) 'spherical'; regularisation included.
    precisions_, precisions_cholesky_ : ndarray
        Inverse covariances and their upper-triangular factors (``U @ U.T``), same layouts.
    converged_ : bool
    n_iter_ : int
        Iterations of the best initialisation.
    lower_bound_ : float
        Weighted mean log-likelihood of the training data at the last E step of the best run.
    lower_bounds_ : list of float
        The lower bound after each iteration of the best run.
    reg_covar_ : ndarray of shape (n_components,)
        Regularisation of each component's covariance: ``reg_covar`` unless it had to be
        raised (then a ``DegenerateComponentWarning`` names the components).
    labels_ : ndarray of shape (n_samples,), int64
        Most probable component of each training row (``predict`` of the training data).
    n_features_in_, feature_names_in_
        As every estimator.

    Notes
    -----
    All parameters are stored in float64, also for float32 data: covariances computed in float32
    can come out negative (scikit-learn issue 30382), and moments here are accumulated in
    float64 and taken about the current means rather than the origin.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import GaussianMixture
    >>> X = np.array([[1.0, 2.0], [1.0, 4.0], [1.0, 0.0], [10.0, 2.0], [10.0, 4.0], [10.0, 0.0]])
    >>> gm = GaussianMixture(n_components=2, random_state=0).fit(X)
    >>> sorted(gm.means_[:, 0].round(6).tolist())
    [1.0, 10.0]
    >>> gm.predict([[0.0, 0.0], [12.0, 3.0]]).tolist() == [gm.labels_[0], gm.labels_[3]]
    True
    """

    _parameter_constraints = {  # noqa: RUF012 - read-only class table
        "n_components": [Interval(numbers.Integral, 1, None)],
        "covariance_type": [Options("full", "tied", "diag", "spherical")],
        "tol": [Interval(numbers.Real, 0.0, None)],
        "reg_covar": [Interval(numbers.Real, 0.0, None)],
        "max_iter": [Interval(numbers.Integral, 0, None)],
        "n_init": [Interval(numbers.Integral, 1, None)],
        "init_params": [Options("kmeans", "k-means++", "random", "random_from_data")],
        "weights_init": [ARRAY_LIKE, NONE],
        "means_init": [ARRAY_LIKE, NONE],
        "precisions_init": [ARRAY_LIKE, NONE],
        "random_state": [RANDOM_STATE],
        "warm_start": [bool],
        "n_jobs": [NONE, Interval(numbers.Integral, None, None)],
    }

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = "full",
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str = "kmeans",
        weights_init: Any = None,
        means_init: Any = None,
        precisions_init: Any = None,
        random_state: Any = None,
        warm_start: bool = False,
        n_jobs: int | None = None,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.n_jobs = n_jobs

    # -- fitting ------------------------------------------------------------------------------

    def _n_jobs_for(self, n_samples: int, n_features: int) -> int | None:
        return n_jobs_for(n_samples * n_features * self.n_components, self.n_jobs)

    def _given_params(self, n_features: int) -> tuple[Any, Any, Any]:
        k = self.n_components
        weights = None if self.weights_init is None else check_weights(self.weights_init, k)
        means = None if self.means_init is None else check_means(self.means_init, k, n_features)
        precisions = None
        if self.precisions_init is not None:
            precisions = check_precisions(self.precisions_init, self.covariance_type, k, n_features)
        return weights, means, precisions

    def _initial_resp(self, data: _Data, rng: Any) -> np.ndarray:
        """Initial responsibilities (n, k) as scikit-learn draws them for ``init_params``."""
        from clusterlab.cluster.kmeans import KMeans, kmeans_plusplus

        n, k = data.X.shape[0], self.n_components
        resp = np.zeros((n, k))
        if self.init_params == "kmeans":
            labels = KMeans(k, n_init=1, random_state=rng).fit(data.X, sample_weight=data.w)
            resp[np.arange(n), labels.labels_] = 1.0
        elif self.init_params == "k-means++":
            _, indices = kmeans_plusplus(data.X, k, sample_weight=data.w, random_state=rng)
            resp[indices, np.arange(k)] = 1.0
        elif self.init_params == "random":
            resp = rng.uniform(size=(n, k))
            resp /= resp.sum(axis=1)[:, None]
        else:
            indices = rng.choice(n, size=k, replace=False)
            resp[indices, np.arange(k)] = 1.0
        return resp

    def _initial_params(self, data: _Data, rng: Any, given: tuple[Any, Any, Any]) -> Params:
        kind = KINDS[self.covariance_type]
        weights, means, precisions = given
        k = self.n_components
        if weights is not None and means is not None and precisions is not None:
            reg = np.full(k, float(self.reg_covar))
            return params_from_precisions(kind, weights, means, precisions, reg)
        resp = self._initial_resp(data, rng)
        params = params_from_resp(data, resp, kind, self.reg_covar, data.total_weight)
        if weights is not None:
            params.weights = weights
        if means is not None:
            params.means = means
        if precisions is not None:
            params = params_from_precisions(
                kind, params.weights, params.means, precisions, params.reg
            )
        return params

    def _current_params(self) -> Params:
        return Params(
            KINDS[self.covariance_type],
            self.weights_.copy(),
            self.means_.copy(),
            self.covariances_.copy(),
            self.precisions_cholesky_.copy(),
            self.reg_covar_.copy(),
        )

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> GaussianMixture:
        """Estimate the parameters by EM (``n_init`` initialisations, the best one kept).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, at least 2 rows and ``n_components`` rows. Not modified.
        y : ignored
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights; an integer weight acts exactly like that many copies of the
            row (given the same initial parameters).

        Returns
        -------
        self : GaussianMixture
        """
        self._fit(X, sample_weight)
        return self

    def fit_predict(self, X: Any, y: Any = None, sample_weight: Any = None) -> np.ndarray:
        """Fit, then return the most probable component of each training row (``labels_``)."""
        return self._fit(X, sample_weight).labels_

    def _fit(self, X: Any, sample_weight: Any) -> GaussianMixture:
        if is_dask_collection(X):  # EM by map-reduce on the cluster; labels_ stays lazy
            return dask_fit(self, X, sample_weight)
        self._validate_params()
        X = np.ascontiguousarray(check_data(self, X, ensure_min_samples=2))
        n_samples, n_features = X.shape
        check_n_clusters(self.n_components, n_samples, name="n_components")
        w = check_sample_weight(sample_weight, n_samples, np.float64)
        given = self._given_params(n_features)
        do_init = not (self.warm_start and hasattr(self, "converged_"))
        if not do_init:
            self._check_warm_start(n_features)
        rng = _random_generator(self.random_state)
        kind = KINDS[self.covariance_type]
        best: _Run | None = None
        with threads(self._n_jobs_for(n_samples, n_features)):
            data = _Data.build(X, w, need_tied=kind == KINDS["tied"])
            for _ in range(self.n_init if do_init else 1):
                if do_init:
                    params, start = self._initial_params(data, rng, given), -np.inf
                else:
                    params, start = self._current_params(), self.lower_bound_
                run = self._run(data, params, start)
                if best is None or run.lower_bound > best.lower_bound:
                    best = run
            self._store(best)
            self.labels_ = self._weighted_log_prob(X).argmax(axis=1).astype(np.int64)
        self._warn(best)
        return self

    def _run(self, data: _Data, params: Params, start: float) -> _Run:
        if self.max_iter == 0:
            return _Run(params, start, [], 0, False)
        return _em(data, params, start, self.max_iter, self.tol)

    def _check_warm_start(self, n_features: int) -> None:
        shape = self.means_.shape
        if shape != (self.n_components, n_features) or KINDS[self.covariance_type] != (self._kind):
            raise ValueError(
                "warm_start=True continues the previous fit, so n_components, covariance_type "
                f"and the number of features must not change; the fitted model has means of "
                f"shape {shape}, covariance_type {self._fitted_covariance_type!r}"
            )

    def _store(self, run: _Run) -> None:
        p = run.params
        self._kind = p.kind
        self._fitted_covariance_type = self.covariance_type
        self.weights_ = p.weights
        self.means_ = p.means
        self.covariances_ = p.covariances
        self.precisions_cholesky_ = p.prec_chol
        self.precisions_ = p.precisions()
        self.reg_covar_ = p.reg
        self.converged_ = run.converged
        self.n_iter_ = run.n_iter
        self.lower_bound_ = float(run.lower_bound)
        self.lower_bounds_ = [float(b) for b in run.lower_bounds]

    def _warn(self, run: _Run) -> None:
        if not run.converged and self.max_iter > 0:
            warnings.warn(
                "Best performing initialization did not converge. Try different init "
                "parameters, or increase max_iter, tol, or check for degenerate data.",
                ConvergenceWarning,
                stacklevel=3,
            )
        raised = np.flatnonzero(self.reg_covar_ > self.reg_covar)
        if raised.size:
            values = ", ".join(f"{self.reg_covar_[c]:.3g}" for c in raised)
            warnings.warn(
                f"the covariance of component(s) {raised.tolist()} was singular with "
                f"reg_covar={self.reg_covar:g} (collapsed, duplicated or collinear points); "
                f"their regularisation was raised to {values} (see reg_covar_). Fewer "
                "components, scaled data or a larger reg_covar avoid this.",
                DegenerateComponentWarning,
                stacklevel=3,
            )

    # -- using a fitted model -----------------------------------------------------------------

    def _check_test_data(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        return np.ascontiguousarray(check_data(self, X, reset=False))

    def _weighted_log_prob(self, X: np.ndarray) -> np.ndarray:
        from clusterlab.kernels.mixture import weighted_log_prob

        prec, log_norm = self._current_params().kernel_model()
        return weighted_log_prob(X, self.means_, prec, log_norm, self._kind)

    def _shifted_log_prob(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Weighted log-densities minus each row's largest one, and that largest one."""
        X = self._check_test_data(X)
        with threads(self._n_jobs_for(*X.shape)):
            wlp = self._weighted_log_prob(X)
        top = wlp.max(axis=1, keepdims=True)
        top[~np.isfinite(top)] = 0.0
        return wlp - top, top[:, 0]

    def score_samples(self, X: Any) -> np.ndarray:
        """Log-likelihood of each row of ``X`` under the model: shape (n_samples,)."""
        shifted, top = self._shifted_log_prob(X)
        with np.errstate(under="ignore", divide="ignore"):
            return np.log(np.exp(shifted).sum(axis=1)) + top

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Mean log-likelihood of the rows of ``X`` (weighted by ``sample_weight``)."""
        log_prob = self.score_samples(X)
        if sample_weight is None:
            return float(log_prob.mean())
        w = check_sample_weight(sample_weight, log_prob.shape[0], np.float64)
        return float(w @ log_prob / w.sum())

    def predict(self, X: Any) -> np.ndarray:
        """Most probable component of each row of ``X`` (int64)."""
        X = self._check_test_data(X)
        with threads(self._n_jobs_for(*X.shape)):
            return self._weighted_log_prob(X).argmax(axis=1).astype(np.int64)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Posterior probability of each component for each row: shape (n_samples, k)."""
        shifted, _ = self._shifted_log_prob(X)
        with np.errstate(under="ignore"):
            e = np.exp(shifted)
        return e / e.sum(axis=1, keepdims=True)

    def _n_parameters(self) -> int:
        return n_parameters(self._kind, self.n_components, self.means_.shape[1])

    def _criterion(self, X: Any, sample_weight: Any, penalty: float) -> float:
        log_prob = self.score_samples(X)
        w = check_sample_weight(sample_weight, log_prob.shape[0], np.float64)
        return -2.0 * float(w @ log_prob) + penalty * self._n_parameters()

    def bic(self, X: Any, sample_weight: Any = None) -> float:
        """Bayesian information criterion on ``X`` (lower is better).

        ``-2 * log-likelihood + n_parameters * log(n)``, ``n`` being the number of rows or, with
        ``sample_weight``, their total weight.
        """
        n = X.shape[0] if sample_weight is None else float(np.sum(sample_weight))
        return self._criterion(X, sample_weight, float(np.log(n)))

    def aic(self, X: Any, sample_weight: Any = None) -> float:
        """Akaike information criterion on ``X``: ``-2 * log-likelihood + 2 * n_parameters``."""
        return self._criterion(X, sample_weight, 2.0)

    def sample(self, n_samples: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n_samples`` rows from the fitted mixture (as scikit-learn draws them).

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,), int64 -- the component of each row.
        """
        check_is_fitted(self)
        if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral):
            raise TypeError(f"n_samples must be an int >= 1; got {n_samples!r}")
        if n_samples < 1:
            raise ValueError(f"n_samples must be an int >= 1; got {n_samples}")
        rng = _random_generator(self.random_state)
        counts = rng.multinomial(n_samples, self.weights_ / self.weights_.sum())
        d = self.means_.shape[1]
        parts = []
        for c, (mean, count) in enumerate(zip(self.means_, counts, strict=True)):
            if self._kind == KINDS["full"]:
                parts.append(rng.multivariate_normal(mean, self.covariances_[c], int(count)))
            elif self._kind == KINDS["tied"]:
                parts.append(rng.multivariate_normal(mean, self.covariances_, int(count)))
            else:
                scale = np.sqrt(self.covariances_[c])
                parts.append(mean + rng.standard_normal(size=(int(count), d)) * scale)
        labels = np.repeat(np.arange(self.n_components, dtype=np.int64), counts)
        return np.vstack(parts), labels
