"""KMeans: exact k-means (Lloyd and bound-based accelerated algorithms) on numba kernels."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from clusterlab._base import ParamsMixin
from clusterlab._config import threads
from clusterlab._validation import (
    ARRAY_LIKE,
    CALLABLE,
    NONE,
    RANDOM_STATE,
    Interval,
    Options,
    check_data,
    check_n_clusters,
    check_sample_weight,
)
from clusterlab.distributed._dispatch import dask_fit, is_dask_collection

__all__ = ["KMeans", "kmeans", "kmeans_plusplus"]

_SEED_HIGH = 2**31 - 1
#: Work (rows x features x clusters) below which a fit runs on one thread.
_SMALL_WORK = 2_000_000


def _seed_source(random_state: Any) -> Callable[[], int]:
    """A function returning fresh int seeds drawn from ``random_state`` (None, int, RNG)."""
    if isinstance(random_state, np.random.Generator):
        return lambda: int(random_state.integers(_SEED_HIGH))
    if isinstance(random_state, np.random.RandomState):
        return lambda: int(random_state.randint(_SEED_HIGH))
    rs = np.random.RandomState(random_state)
    return lambda: int(rs.randint(_SEED_HIGH))


def _check_centers(centers: Any, n_clusters: int, n_features: int, dtype: Any, name: str):
    centers = np.asarray(centers)
    if centers.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be an array of numbers; got dtype {centers.dtype}")
    if centers.shape != (n_clusters, n_features):
        raise ValueError(
            f"{name} must have shape (n_clusters, n_features) = ({n_clusters}, {n_features}); "
            f"got {centers.shape}"
        )
    if not np.all(np.isfinite(centers)):
        raise ValueError(f"{name} must be finite; got NaN or inf")
    return np.array(centers, dtype=dtype, order="C")


def kmeans_plusplus(
    X: Any,
    n_clusters: int,
    *,
    sample_weight: Any = None,
    random_state: Any = None,
    n_local_trials: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Initial centers by greedy k-means++ (as ``sklearn.cluster.kmeans_plusplus``).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data; float32 stays float32.
    n_clusters : int
        Number of centers, ``1 <= n_clusters <= n_samples``.
    sample_weight : array-like of shape (n_samples,), optional
        Weights; a row is drawn with probability proportional to weight times squared distance.
    random_state : None, int, RandomState or Generator
        Source of randomness; an int gives reproducible centers.
    n_local_trials : int, optional
        Candidates tried per center after the first; default ``2 + int(log(n_clusters))``.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
        ``X[indices]``, in the dtype of ``X``.
    indices : ndarray of shape (n_clusters,)
        Row indices of the centers (int64).

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import kmeans_plusplus
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [10.0, 0.0], [10.0, 1.0]])
    >>> centers, indices = kmeans_plusplus(X, 2, random_state=0)
    >>> sorted(X[indices, 0].tolist())
    [0.0, 10.0]
    """
    from clusterlab._validation import validate_params
    from clusterlab.kernels.seeding import default_n_local_trials, kmeans_plusplus_indices

    validate_params(
        {
            "n_clusters": n_clusters,
            "n_local_trials": n_local_trials,
            "random_state": random_state,
        },
        {
            "n_clusters": [Interval(numbers.Integral, 1, None)],
            "n_local_trials": [Interval(numbers.Integral, 1, None), NONE],
            "random_state": [RANDOM_STATE],
        },
        caller="kmeans_plusplus",
    )
    X = np.ascontiguousarray(check_data(_Plain(), X))
    check_n_clusters(n_clusters, X.shape[0])
    weights = check_sample_weight(sample_weight, X.shape[0], np.float64)
    trials = default_n_local_trials(n_clusters) if n_local_trials is None else n_local_trials
    seed = _seed_source(random_state)()
    indices = kmeans_plusplus_indices(X, weights, int(n_clusters), int(trials), seed)
    return X[indices].copy(), indices


class _Plain(BaseEstimator):
    """Stand-in estimator for validating data outside an estimator (its state is discarded)."""


class KMeans(
    ParamsMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator
):
    """K-means clustering, exact, with scikit-learn's interface and numba kernels.

    Minimises the within-cluster sum of squared distances (inertia) by Lloyd's iterations; the
    bound-based algorithms give exactly Lloyd's result (labels, centers, iteration count) while
    skipping most distance computations once the centers settle.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    init : {'k-means++', 'random'}, array of shape (n_clusters, n_features) or callable
        'k-means++': greedy k-means++ (``2 + log(k)`` candidates per center); 'random':
        ``n_clusters`` distinct rows drawn with probability proportional to the weights; an
        array: the initial centers; a callable ``init(X, n_clusters, random_state)`` returning
        such an array.
    n_init : 'auto' or int, default='auto'
        Number of runs from different initialisations; the lowest inertia wins. 'auto' is 1 for
        'k-means++' and an array, 10 for 'random' and a callable (as scikit-learn).
    max_iter : int, default=300
        Maximum iterations of one run.
    tol : float, default=1e-4
        Convergence tolerance on the total squared center shift, relative to the mean feature
        variance of ``X`` (scikit-learn's rule). A run also stops as soon as an assignment step
        changes no label.
    algorithm : {'auto', 'lloyd', 'hamerly', 'yinyang'}, default='auto'
        'lloyd': every iteration computes all point-center distances. 'hamerly' (one lower
        bound per point) and 'yinyang' (one lower bound per group of about 20 centers) skip
        the distances their bounds prove unnecessary, screen the points the bounds cannot
        settle with one BLAS product per block of rows (a rigorous error bound sends near-ties
        to the exact distances), and return exactly Lloyd's result: the same labels, centers,
        inertia and iteration count. 'auto' picks by a measured
        rule (see ``_auto_algorithm``).
    random_state : None, int, RandomState or Generator
        Randomness of the initialisation; an int gives identical results run to run and for
        every thread count.
    n_jobs : int, optional
        Threads for the numba kernels (None: numba's current setting; -1: all cores).
    copy_x : bool, default=True
        Accepted for scikit-learn compatibility. ``X`` is never modified whatever its value
        (the kernels do not centre the data in place).

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Centers, in the dtype of ``X``.
    labels_ : ndarray of shape (n_samples,), int64
        Index of each row's nearest center.
    inertia_ : float
        Weighted sum of squared distances of rows to their center.
    n_iter_ : int
        Iterations of the best run.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` had string column names.

    Notes
    -----
    Empty clusters are relocated during the center update: in increasing index order, each
    empty cluster takes the row farthest from its own center (farthest first; a row whose
    cluster would become empty is passed over) and that row's weight moves with it. With fewer
    distinct points than ``n_clusters`` some clusters stay empty or duplicated: the fit then
    completes and emits a ``ConvergenceWarning`` naming the number of distinct clusters found,
    as scikit-learn does.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import KMeans
    >>> X = np.array([[1.0, 2.0], [1.0, 4.0], [1.0, 0.0], [10.0, 2.0], [10.0, 4.0], [10.0, 0.0]])
    >>> km = KMeans(n_clusters=2, random_state=0).fit(X)
    >>> sorted(km.cluster_centers_[:, 0].tolist())
    [1.0, 10.0]
    >>> int(km.predict([[0.0, 0.0]])[0]) == int(km.labels_[0])
    True
    """

    _parameter_constraints = {  # noqa: RUF012 - read-only class table
        "n_clusters": [Interval(numbers.Integral, 1, None)],
        "init": [Options("k-means++", "random"), CALLABLE, ARRAY_LIKE],
        "n_init": [Options("auto"), Interval(numbers.Integral, 1, None)],
        "max_iter": [Interval(numbers.Integral, 1, None)],
        "tol": [Interval(numbers.Real, 0, None)],
        "algorithm": [Options("auto", "lloyd", "hamerly", "yinyang")],
        "random_state": [RANDOM_STATE],
        "n_jobs": [NONE, Interval(numbers.Integral, None, None)],
        "copy_x": [bool],
    }

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init: Any = "k-means++",
        n_init: Any = "auto",
        max_iter: int = 300,
        tol: float = 1e-4,
        algorithm: str = "auto",
        random_state: Any = None,
        n_jobs: int | None = None,
        copy_x: bool = True,
    ) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.algorithm = algorithm
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.copy_x = copy_x

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # -- fitting ------------------------------------------------------------------------------

    def _n_jobs_for(self, n_samples: int, n_features: int) -> int | None:
        return 1 if n_samples * n_features * self.n_clusters < _SMALL_WORK else self.n_jobs

    def _resolved_n_init(self) -> int:
        if self.n_init != "auto":
            n_init = int(self.n_init)
            if _is_array(self.init) and n_init != 1:
                warnings.warn(
                    f"n_init={n_init} is ignored with explicit initial centers; running once",
                    RuntimeWarning,
                    stacklevel=3,
                )
                return 1
            return n_init
        if isinstance(self.init, str) and self.init == "k-means++":
            return 1
        return 1 if _is_array(self.init) else 10

    def _resolved_algorithm(self, X: np.ndarray) -> tuple[str, int]:
        """The algorithm to run and its number of center groups."""
        k = self.n_clusters
        algorithm = self.algorithm
        if algorithm == "auto":
            algorithm = _auto_algorithm(X.shape[0], X.shape[1], k)
        if algorithm == "hamerly":
            return algorithm, 1
        if algorithm == "yinyang":
            return algorithm, _n_groups(k)
        return algorithm, 0

    def _run(self, X, sample_weight, centers, tol):
        from clusterlab.kernels.bounds import yinyang
        from clusterlab.kernels.lloyd import lloyd

        algorithm, n_groups = self._algorithm
        if algorithm == "lloyd":
            return lloyd(X, sample_weight, centers, self.max_iter, tol)
        return yinyang(X, sample_weight, centers, self.max_iter, tol, n_groups)

    def _init_centers(self, X, sample_weight, seed, init_array):
        from clusterlab.kernels.seeding import (
            default_n_local_trials,
            kmeans_plusplus_indices,
            random_indices,
        )

        k = self.n_clusters
        if init_array is not None:
            return init_array
        if isinstance(self.init, str) and self.init == "k-means++":
            weights = sample_weight.astype(np.float64, copy=False)
            idx = kmeans_plusplus_indices(X, weights, k, default_n_local_trials(k), seed)
            return X[idx].copy()
        if isinstance(self.init, str) and self.init == "random":
            return X[random_indices(X.shape[0], k, sample_weight, seed)].copy()
        centers = self.init(X, k, random_state=np.random.RandomState(seed))
        return _check_centers(centers, k, X.shape[1], X.dtype, "the centers returned by init")

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> KMeans:
        """Compute k-means clustering.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; float32 is kept, other numeric types become float64. Not modified.
            A Dask array or DataFrame is fitted on the ambient Dask cluster, never pulled into
            memory (:mod:`clusterlab.distributed`: k-means|| for 'k-means++', one map-reduce
            per iteration); ``labels_`` is then a lazy Dask array.
        y : ignored
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights; an integer weight acts like that many copies of the row.

        Returns
        -------
        self : KMeans
        """
        from clusterlab.kernels.lloyd import mean_feature_variance

        if is_dask_collection(X):  # map-reduce on the cluster; labels_ stays lazy
            return dask_fit(self, X, sample_weight)
        self._validate_params()
        X = np.ascontiguousarray(check_data(self, X))
        n_samples, n_features = X.shape
        check_n_clusters(self.n_clusters, n_samples)
        sample_weight = check_sample_weight(sample_weight, n_samples, X.dtype)
        init_array = None
        if _is_array(self.init):
            init_array = _check_centers(
                self.init, self.n_clusters, n_features, X.dtype, "init (the initial centers)"
            )
        n_init = self._resolved_n_init()
        self._algorithm = self._resolved_algorithm(X)
        next_seed = _seed_source(self.random_state)
        best = None
        # Below about a millisecond of work per assignment step, waking a second thread costs
        # more than it saves (measured: 10 ms per step on a busy 2-core machine); results are
        # identical for any thread count, so only the speed changes.
        with threads(self._n_jobs_for(n_samples, n_features)):
            tol = float(mean_feature_variance(X)) * self.tol if self.tol > 0 else 0.0
            for _ in range(n_init):
                centers = self._init_centers(X, sample_weight, next_seed(), init_array)
                run = self._run(X, sample_weight, centers, tol)
                if best is None or run[2] < best[2]:
                    best = run
        centers, labels, inertia, n_iter = best
        # bincount, not unique: a hash of a million labels cost ~10 ms per fit (measured)
        n_distinct = int(np.count_nonzero(np.bincount(labels, minlength=self.n_clusters)))
        if n_distinct < self.n_clusters:
            warnings.warn(
                f"Number of distinct clusters ({n_distinct}) found smaller than "
                f"n_clusters ({self.n_clusters}). Possibly due to duplicate points in X.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.cluster_centers_ = centers
        self.labels_ = labels
        self.inertia_ = float(inertia)
        self.n_iter_ = int(n_iter)
        self._n_features_out = self.n_clusters
        return self

    # -- using a fitted model -----------------------------------------------------------------

    def _check_test_data(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = check_data(self, X, reset=False)
        return np.ascontiguousarray(X, dtype=self.cluster_centers_.dtype)

    def predict(self, X: Any) -> np.ndarray:
        """Index of the nearest center of each row of ``X`` (int64)."""
        from clusterlab.kernels.lloyd import assign_labels

        if is_dask_collection(X):  # lazily, block by block
            from clusterlab.distributed import predict

            return predict(self, X)
        X = self._check_test_data(X)
        labels = np.full(X.shape[0], -1, dtype=np.int64)
        with threads(self._n_jobs_for(*X.shape)):
            assign_labels(X, self.cluster_centers_, labels, np.empty(X.shape[0], X.dtype))
        return labels

    def transform(self, X: Any) -> np.ndarray:
        """Euclidean distance of each row to each center, shape (n_samples, n_clusters)."""
        if is_dask_collection(X):  # lazily, block by block
            from clusterlab.distributed import transform

            return transform(self, X)
        X = self._check_test_data(X)
        return self._transform(X)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        from clusterlab.kernels.center_distances import pairwise_sq_distances

        with threads(self._n_jobs_for(*X.shape)):
            return np.sqrt(pairwise_sq_distances(X, self.cluster_centers_))

    def fit_transform(self, X: Any, y: Any = None, sample_weight: Any = None) -> np.ndarray:
        """Fit, then return the distances of the training rows to the centers."""
        if is_dask_collection(X):
            return self.fit(X, sample_weight=sample_weight).transform(X)
        self.fit(X, sample_weight=sample_weight)
        return self._transform(np.ascontiguousarray(check_data(self, X, reset=False)))

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Minus the weighted inertia of ``X`` under the fitted centers (higher is better)."""
        from clusterlab.kernels.lloyd import assign_labels, inertia

        X = self._check_test_data(X)
        weights = check_sample_weight(sample_weight, X.shape[0], X.dtype)
        labels = np.full(X.shape[0], -1, dtype=np.int64)
        with threads(self._n_jobs_for(*X.shape)):
            assign_labels(X, self.cluster_centers_, labels, np.empty(X.shape[0], X.dtype))
            return -float(inertia(X, weights, self.cluster_centers_, labels))


def _n_groups(n_clusters: int) -> int:
    """Yinyang's number of center groups: about one per 20 centers.

    With the BLAS screening of unsettled rows a failed bound test is cheap, so fewer, coarser
    groups win: one thread, CPU seconds, from the same k-means++ init, groups 1 / 3 / 6 on K1
    (1M x 16, k = 64): 2.82 / 2.63 / 2.77; groups 1 / 8 / 25 / 50 on K2 (100k x 32, k = 256):
    0.29 / 0.28 / 0.34 / 0.51 (k / 10 groups, the authors' rule, was the old default).
    """
    return max(1, n_clusters // 20)


def _auto_algorithm(n_samples: int, n_features: int, n_clusters: int) -> str:
    """Choice of ``algorithm='auto'``, from a measured crossover.

    CPU seconds to convergence, one thread, 40,000 blobs (cluster_std 2) from the same random
    init, lloyd / bounds (one group below 40 clusters, i.e. Hamerly):

    ====  ==============  ==============  ==============  ==============
    d     k = 4           k = 8           k = 16          k = 32 / 64
    ====  ==============  ==============  ==============  ==============
    2     0.013 / 0.019                   0.045 / 0.052   k=64: 0.30 / 0.09
    4                                                     k=32: 0.091 / 0.061
    8     0.012 / 0.015   0.006 / 0.010   0.024 / 0.016
    32    0.011 / 0.012   0.028 / 0.025
    ====  ==============  ==============  ==============  ==============

    The bounds cost a few operations per point and iteration whatever they save, so Lloyd wins
    while a full distance pass is cheap (``k < 8`` or ``k * d < 128``). Above that the bounds
    win; Hamerly's single bound (``yinyang`` with one group) up to 40 clusters, then Yinyang's
    groups (:func:`_n_groups`).
    """
    if n_clusters < 8 or n_clusters * n_features < 128:
        return "lloyd"
    if _n_groups(n_clusters) == 1:
        return "hamerly"
    return "yinyang"


def _is_array(init: Any) -> bool:
    return not isinstance(init, str) and not callable(init)


def kmeans(
    X: Any,
    n_clusters: int,
    *,
    sample_weight: Any = None,
    init: Any = "k-means++",
    n_init: Any = "auto",
    max_iter: int = 300,
    tol: float = 1e-4,
    algorithm: str = "auto",
    random_state: Any = None,
    n_jobs: int | None = None,
    return_n_iter: bool = False,
) -> tuple:
    """K-means clustering as a function (a thin wrapper over :class:`KMeans`).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    n_clusters : int
    sample_weight : array-like of shape (n_samples,), optional
    init, n_init, max_iter, tol, algorithm, random_state, n_jobs
        As in :class:`KMeans`.
    return_n_iter : bool, default=False
        Also return the number of iterations.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
    labels : ndarray of shape (n_samples,), int64
    inertia : float
    n_iter : int
        Only when ``return_n_iter``.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import kmeans
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> centers, labels, inertia = kmeans(X, 2, random_state=0)
    >>> sorted(centers.ravel().tolist()), inertia
    ([0.5, 10.5], 1.0)
    """
    est = KMeans(
        n_clusters,
        init=init,
        n_init=n_init,
        max_iter=max_iter,
        tol=tol,
        algorithm=algorithm,
        random_state=random_state,
        n_jobs=n_jobs,
    ).fit(X, sample_weight=sample_weight)
    if return_n_iter:
        return est.cluster_centers_, est.labels_, est.inertia_, est.n_iter_
    return est.cluster_centers_, est.labels_, est.inertia_
