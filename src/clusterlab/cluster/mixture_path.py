"""Gaussian mixtures for a range of k and covariance types at once, scored by BIC and AIC.

:func:`gaussian_mixture_path` is what choosing k for a mixture needs: every (covariance type, k)
fitted, with its BIC, AIC and labels, for much less than fitting each model on its own. Work
shared across the grid:

- the data is validated once, and its weighted mean, scale and pooled scatter (for 'tied')
  computed once;
- one greedy k-means++ seeding for the largest k serves every k (its first k seeds are a
  k-means++ seeding for k), so k-means initialisations cost one seeding per restart;
- one k-means run per k gives the initial responsibilities of all four covariance types, and one
  pass of full second moments per k gives their initial parameters (diagonals, traces and the
  sum over components follow from the full scatters);
- each model's final E step yields its labels and its log-likelihood together (BIC and AIC
  need no extra pass).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clusterlab._config import threads
from clusterlab._validation import (
    RANDOM_STATE,
    Interval,
    check_data,
    check_sample_weight,
    validate_params,
)
from clusterlab.cluster._mixture_math import KINDS, n_parameters
from clusterlab.cluster.mixture import (
    GaussianMixture,
    _Data,
    _em,
    _params_of_kind,
    _random_generator,
    _resp_statistics,
    _Run,
    n_jobs_for,
)

__all__ = ["MixturePath", "gaussian_mixture_path"]

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


@dataclass
class MixturePath:
    """Fitted mixtures for every (covariance type, k), with their criteria.

    Attributes
    ----------
    ks : list of int
    covariance_types : list of str
    models : dict
        ``(covariance_type, k) -> GaussianMixture``, fitted (``labels_``, ``predict`` ...).
    bic, aic, log_likelihood : dict
        ``(covariance_type, k) -> float``: the criteria of each model on the training data
        (weighted by ``sample_weight``; ``log_likelihood`` is the total, not the mean).
    n_parameters : dict
        ``(covariance_type, k) -> int``, free parameters counted as scikit-learn counts them.
    """

    ks: list[int]
    covariance_types: list[str]
    models: dict[tuple[str, int], GaussianMixture] = field(default_factory=dict)
    bic: dict[tuple[str, int], float] = field(default_factory=dict)
    aic: dict[tuple[str, int], float] = field(default_factory=dict)
    log_likelihood: dict[tuple[str, int], float] = field(default_factory=dict)
    n_parameters: dict[tuple[str, int], int] = field(default_factory=dict)

    def best(self, criterion: str = "bic") -> tuple[str, int]:
        """The ``(covariance_type, k)`` with the lowest ``criterion`` ('bic' or 'aic')."""
        values = self._criterion(criterion)
        return min(values, key=lambda key: (values[key], key[1]))

    def labels(self, covariance_type: str, k: int) -> np.ndarray:
        """Training labels (int64) of the model ``(covariance_type, k)``."""
        return self.models[(covariance_type, k)].labels_

    def table(self, criterion: str = "bic") -> Any:
        """A DataFrame of ``criterion``: one row per k, one column per covariance type."""
        import pandas as pd

        values = self._criterion(criterion)
        frame = pd.DataFrame(
            [[values[(t, k)] for t in self.covariance_types] for k in self.ks],
            index=pd.Index(self.ks, name="k"),
            columns=list(self.covariance_types),
        )
        frame.columns.name = criterion
        return frame

    def _criterion(self, criterion: str) -> dict[tuple[str, int], float]:
        if criterion not in ("bic", "aic"):
            raise ValueError(f"criterion must be 'bic' or 'aic'; got {criterion!r}")
        return self.bic if criterion == "bic" else self.aic


def _check_grid(ks: Any, covariance_types: Any, n_samples: int) -> tuple[list[int], list[str]]:
    try:
        ks = sorted({int(k) for k in ks})
    except (TypeError, ValueError) as exc:
        raise TypeError(f"ks must be a sequence of ints; got {ks!r}") from exc
    if not ks or ks[0] < 1 or ks[-1] > n_samples:
        raise ValueError(
            f"ks must be a non-empty sequence of ints in [1, n_samples={n_samples}]; got {ks}"
        )
    if isinstance(covariance_types, str):
        covariance_types = [covariance_types]
    types = list(dict.fromkeys(covariance_types))
    unknown = [t for t in types if t not in KINDS]
    if not types or unknown:
        raise ValueError(
            f"covariance_types must be a non-empty subset of {list(COVARIANCE_TYPES)}; "
            f"got {list(covariance_types)}"
        )
    return ks, types


def gaussian_mixture_path(
    X: Any,
    ks: Sequence[int],
    *,
    covariance_types: Sequence[str] = COVARIANCE_TYPES,
    sample_weight: Any = None,
    n_init: int = 1,
    tol: float = 1e-3,
    reg_covar: float = 1e-6,
    max_iter: int = 100,
    random_state: Any = None,
    n_jobs: int | None = None,
) -> MixturePath:
    """Fit a Gaussian mixture for every covariance type and every k, reusing shared work.

    Each model is what ``GaussianMixture(k, covariance_type=t, init_params='kmeans', ...)``
    computes, except that its k-means initialisation starts from the first k seeds of one
    k-means++ seeding for the largest k (module docstring).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    ks : sequence of int
        Numbers of components, each in ``[1, n_samples]``.
    covariance_types : sequence of str, default=('full', 'tied', 'diag', 'spherical')
    sample_weight : array-like of shape (n_samples,), optional
        Row weights; BIC then counts ``n`` as the total weight.
    n_init : int, default=1
        Restarts (each with its own seeding); each model keeps its best lower bound.
    tol, reg_covar, max_iter : as in :class:`~clusterlab.GaussianMixture`.
    random_state : None, int, RandomState or Generator
    n_jobs : int, optional
        Threads for the kernels.

    Returns
    -------
    MixturePath
        Models, BIC, AIC and log-likelihoods for every (covariance type, k);
        ``path.best('bic')`` is the pair with the lowest BIC.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.cluster.mixture_path import gaussian_mixture_path
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 1, (100, 2)), rng.normal(8, 1, (100, 2))])
    >>> path = gaussian_mixture_path(X, range(1, 5), random_state=0)
    >>> path.best("bic")[1]
    2
    """
    validate_params(
        {"n_init": n_init, "tol": tol, "reg_covar": reg_covar, "max_iter": max_iter,
         "random_state": random_state},
        {
            "n_init": [Interval(numbers.Integral, 1, None)],
            "tol": [Interval(numbers.Real, 0.0, None)],
            "reg_covar": [Interval(numbers.Real, 0.0, None)],
            "max_iter": [Interval(numbers.Integral, 1, None)],
            "random_state": [RANDOM_STATE],
        },
        caller="gaussian_mixture_path",
    )  # fmt: skip
    template = GaussianMixture(tol=tol, reg_covar=reg_covar, max_iter=max_iter, n_jobs=n_jobs)
    X = np.ascontiguousarray(check_data(template, X, ensure_min_samples=2))
    ks, types = _check_grid(ks, covariance_types, X.shape[0])
    w = check_sample_weight(sample_weight, X.shape[0], np.float64)
    rng = _random_generator(random_state)
    best: dict[tuple[str, int], _Run] = {}
    with threads(n_jobs_for(X.shape[0] * X.shape[1] * ks[-1], n_jobs)):
        data = _Data.build(X, w, need_tied="tied" in types)
        for _ in range(n_init):
            seeds = _shared_seeds(data, ks[-1], rng)
            for k in ks:
                resp = _kmeans_resp(data, seeds[:k], rng)
                sr, means, s2 = _resp_statistics(data, resp)
                for t in types:
                    params = _params_of_kind(
                        data, KINDS[t], sr, means, s2, reg_covar, data.total_weight
                    )
                    run = _em(data, params, -np.inf, max_iter, tol)
                    if (t, k) not in best or run.lower_bound > best[(t, k)].lower_bound:
                        best[(t, k)] = run
        return _collect(template, data, ks, types, best, random_state)


def _shared_seeds(data: _Data, k_max: int, rng: Any) -> np.ndarray:
    """Row indices of one greedy k-means++ seeding for ``k_max`` (its prefixes serve every k)."""
    from clusterlab.cluster.kmeans import _seed_source
    from clusterlab.kernels.seeding import default_n_local_trials, kmeans_plusplus_indices

    seed = _seed_source(rng)()
    trials = default_n_local_trials(k_max)
    return kmeans_plusplus_indices(data.X, data.w, k_max, trials, seed)


def _kmeans_resp(data: _Data, seeds: np.ndarray, rng: Any) -> np.ndarray:
    from clusterlab.cluster.kmeans import KMeans

    k = seeds.shape[0]
    km = KMeans(k, init=data.X[seeds], n_init=1, random_state=rng)
    labels = km.fit(data.X, sample_weight=data.w).labels_
    resp = np.zeros((data.X.shape[0], k))
    resp[np.arange(data.X.shape[0]), labels] = 1.0
    return resp


def _log_prob_and_likelihood(model: GaussianMixture, data: _Data) -> tuple[np.ndarray, float]:
    """The fitted model's weighted log-densities of the training rows and its weighted
    log-likelihood, from one pass."""
    from clusterlab.kernels.mixture import log_prob_and_likelihood

    prec, log_norm = model._current_params().kernel_model()
    wlp, total = log_prob_and_likelihood(data.X, data.w, model.means_, prec, log_norm, model._kind)
    return wlp, float(total)


def _collect(  # noqa: PLR0917
    template: GaussianMixture,
    data: _Data,
    ks: list[int],
    types: list[str],
    best: dict[tuple[str, int], _Run],
    random_state: Any,
) -> MixturePath:
    path = MixturePath(ks, types)
    n_features = data.X.shape[1]
    log_n = float(np.log(data.total_weight))
    for (t, k), run in best.items():
        model = GaussianMixture(
            k,
            covariance_type=t,
            tol=template.tol,
            reg_covar=template.reg_covar,
            max_iter=template.max_iter,
            random_state=random_state,
            n_jobs=template.n_jobs,
        )
        model.n_features_in_ = template.n_features_in_
        if hasattr(template, "feature_names_in_"):
            model.feature_names_in_ = template.feature_names_in_
        model._store(run)
        wlp, loglik = _log_prob_and_likelihood(model, data)
        model.labels_ = wlp.argmax(axis=1).astype(np.int64)
        n_params = n_parameters(KINDS[t], k, n_features)
        path.models[(t, k)] = model
        path.log_likelihood[(t, k)] = loglik
        path.n_parameters[(t, k)] = n_params
        path.bic[(t, k)] = -2.0 * loglik + n_params * log_n
        path.aic[(t, k)] = -2.0 * loglik + 2.0 * n_params
    return path
