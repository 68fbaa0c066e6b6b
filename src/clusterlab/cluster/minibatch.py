"""Mini-batch k-means: k-means on random batches, for data too large to sweep many times."""

from __future__ import annotations

import contextlib
import logging
import warnings
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.utils.validation import check_is_fitted

from clusterlab._base import ParamsMixin
from clusterlab._config import threads
from clusterlab._validation import (
    ARRAY_LIKE,
    BOOLEAN,
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
from clusterlab.kernels.center_distances import pairwise_sq_distances
from clusterlab.kernels.lloyd import assign_labels, mean_feature_variance
from clusterlab.kernels.minibatch import minibatch_update
from clusterlab.kernels.seeding import (
    default_n_local_trials,
    kmeans_plusplus_indices,
    random_indices,
)

__all__ = ["MiniBatchKMeans"]

logger = logging.getLogger(__name__)

#: Below this many rows, kernels run on one thread (see :func:`threads_for_rows`).
PARALLEL_MIN_ROWS = 32_768
#: Rows labelled per call in :func:`nearest_centers` (bounds its scratch memory).
BLOCK_ROWS = 65_536


class CentroidMethodsMixin:
    """``transform``, ``fit_transform`` and ``score`` of a fitted model with ``cluster_centers_``.

    Shared by the mini-batch and bisecting estimators (their ``predict`` rules differ).
    """

    n_jobs: Any
    cluster_centers_: np.ndarray

    def transform(self, X: Any) -> np.ndarray:
        """Euclidean distance from each row of ``X`` to each center, shape (n, n_clusters)."""
        if is_dask_collection(X):  # lazily, block by block
            from clusterlab.distributed import transform

            return transform(self, X)
        X = self._check_test_data(X)
        with threads(self.n_jobs):
            return transform_centers(X, self.cluster_centers_)

    def fit_transform(self, X: Any, y: Any = None, sample_weight: Any = None) -> np.ndarray:
        """Fit, then return the distances of the training rows to the centers."""
        return self.fit(X, sample_weight=sample_weight).transform(X)  # type: ignore[attr-defined]

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Opposite of the (weighted) inertia of ``X`` for its nearest centers."""
        X = self._check_test_data(X)
        weights = check_sample_weight(sample_weight, X.shape[0], X.dtype)
        with threads(self.n_jobs):
            return score_centers(X, self.cluster_centers_, weights)

    def _check_test_data(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "cluster_centers_")
        X = check_data(self, X, reset=False)
        return np.ascontiguousarray(X, dtype=self.cluster_centers_.dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class MiniBatchKMeans(
    CentroidMethodsMixin,
    ParamsMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    ClusterMixin,
    BaseEstimator,
):
    """Mini-batch k-means clustering.

    Each step draws a random batch, assigns it to the nearest centers and moves every center to
    the running weighted mean of all the points it has absorbed (per-center counts give each
    center its own decreasing learning rate). Centers whose count falls below
    ``reassignment_ratio`` times the largest count are moved to random batch points. Fitting stops
    when an exponentially smoothed batch inertia has not improved for ``max_no_improvement``
    batches, when the centers move less than ``tol`` (if ``tol > 0``), or after ``max_iter``
    passes over the data. The update is scikit-learn's: the same batches from the same centers
    give the same centers.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    init : {'k-means++', 'random'}, callable or array-like of shape (n_clusters, n_features), \
            default='k-means++'
        Initial centers: greedy k-means++, ``n_clusters`` random rows, a callable
        ``init(X, n_clusters, random_state)`` returning the centers, or the centers themselves.
        The first three run on a random subset of ``init_size`` rows.
    max_iter : int, default=100
        Largest number of passes over the data (``max_iter * n_samples / batch_size`` batches).
    batch_size : int, default=1024
        Rows per mini-batch.
    compute_labels : bool, default=True
        Label the whole data (and compute the exact inertia) once the centers are fitted;
        otherwise ``inertia_`` is the smoothed batch estimate and ``labels_`` is not set.
    random_state : int, numpy RandomState or Generator, or None, default=None
        Seeds the initialisation, the batches and the reassignments.
    tol : float, default=0.0
        Stop when the summed squared movement of the centers in one batch falls below ``tol``
        times the mean feature variance (as scikit-learn). ``0`` turns this test off.
    max_no_improvement : int or None, default=10
        Stop after this many consecutive batches without a new minimum of the smoothed inertia;
        ``None`` turns this test off.
    init_size : int or None, default=None
        Rows sampled to compute each initialisation (and to compare them). ``None`` means
        ``3 * batch_size``; a value below ``n_clusters`` becomes ``3 * n_clusters``; at most
        ``n_samples``.
    n_init : 'auto' or int, default='auto'
        Number of initialisations compared on a held-out sample; the best one is run. 'auto' means
        1 for 'k-means++' and given centers, 3 for 'random' and a callable.
    reassignment_ratio : float, default=0.01
        Centers with a count below this fraction of the largest count are moved to random points
        of the current batch (checked every ``10 * n_clusters`` rows and whenever a center has
        count 0). ``0`` turns reassignment off.
    n_jobs : int or None, default=None
        Threads for the numba kernels (``None``: numba's current setting, ``-1``: all cores).

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Center of each cluster, in the dtype of the data.
    labels_ : ndarray of shape (n_samples,), int64
        Nearest center of each training row (when ``compute_labels``).
    inertia_ : float
        Weighted sum of squared distances of the rows to their center; the smoothed batch estimate
        when ``compute_labels=False``.
    n_iter_ : int
        Passes over the data (batches times ``batch_size`` over ``n_samples``, rounded up).
    n_steps_ : int
        Mini-batches processed.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit`` (pandas input only).

    See Also
    --------
    KMeans : full-batch k-means, exact and usually fast enough below a few million rows.
    BisectingKMeans : divisive k-means, a hierarchy of 2-means splits.

    Notes
    -----
    Batches are drawn with replacement, with probability proportional to ``sample_weight``, and
    then count with unit weight, as in scikit-learn. Per-center counts are kept in float64 for
    float32 data too, so that long runs do not lose their small updates. Results are identical
    for any ``n_jobs``. Reference: D. Sculley, "Web-scale k-means clustering", WWW 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.cluster.minibatch import MiniBatchKMeans
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [4, 2], [4, 0], [4, 4],
    ...               [4, 5], [0, 1], [2, 2], [3, 2], [5, 5], [1, -1]], dtype=float)
    >>> model = MiniBatchKMeans(n_clusters=2, batch_size=6, random_state=0).fit(X)
    >>> model.cluster_centers_.shape
    (2, 2)
    >>> int(model.predict([[0.0, 0.0]])[0]) != int(model.predict([[4.5, 4.5]])[0])
    True
    >>> stream = MiniBatchKMeans(n_clusters=2, random_state=0)
    >>> stream = stream.partial_fit(X[:6]).partial_fit(X[6:])
    >>> stream.n_steps_
    2
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_clusters": [Interval(Integral, 1, None)],
        "init": [Options("k-means++", "random"), CALLABLE, ARRAY_LIKE],
        "max_iter": [Interval(Integral, 1, None)],
        "batch_size": [Interval(Integral, 1, None)],
        "compute_labels": [BOOLEAN],
        "random_state": [RANDOM_STATE],
        "tol": [Interval(Real, 0, None)],
        "max_no_improvement": [Interval(Integral, 0, None), NONE],
        "init_size": [Interval(Integral, 1, None), NONE],
        "n_init": [Options("auto"), Interval(Integral, 1, None)],
        "reassignment_ratio": [Interval(Real, 0, None)],
        "n_jobs": [Interval(Integral, 1, None), Interval(Integral, None, -1), NONE],
    }

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init: Any = "k-means++",
        max_iter: int = 100,
        batch_size: int = 1024,
        compute_labels: bool = True,
        random_state: Any = None,
        tol: float = 0.0,
        max_no_improvement: int | None = 10,
        init_size: int | None = None,
        n_init: str | int = "auto",
        reassignment_ratio: float = 0.01,
        n_jobs: int | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.compute_labels = compute_labels
        self.random_state = random_state
        self.tol = tol
        self.max_no_improvement = max_no_improvement
        self.init_size = init_size
        self.n_init = n_init
        self.reassignment_ratio = reassignment_ratio
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ fitting

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> MiniBatchKMeans:
        """Fit the centers on random mini-batches of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (float32 is kept; other numbers become float64). A Dask array or
            DataFrame is fitted on the ambient Dask cluster: the model state visits the blocks
            on their workers (:mod:`clusterlab.distributed.minibatch`).
        y : ignored
        sample_weight : array-like of shape (n_samples,), optional
            Row weights: rows are drawn into batches with probability proportional to them.

        Returns
        -------
        self : MiniBatchKMeans
        """
        if is_dask_collection(X):  # the model state visits the blocks on their workers
            return dask_fit(self, X, sample_weight)
        self._validate_params()
        X = np.ascontiguousarray(check_data(self, X, reset=True))
        n_samples = X.shape[0]
        check_n_clusters(self.n_clusters, n_samples)
        # unweighted data keeps no weight array: one n_samples-long array less at the peak
        weights = None
        if sample_weight is not None:
            weights = check_sample_weight(sample_weight, n_samples, X.dtype)
        self._resolve(X)
        rng = as_generator(self.random_state)
        with threads(self.n_jobs):
            with threads_for_rows(self._init_size):
                centers = self._best_init(X, weights, rng)
            self._start(centers, rng)
            centers = self._descend(X, weights, centers, rng)
            self.cluster_centers_ = centers
            self.n_iter_ = int(np.ceil(self.n_steps_ * self._batch_size / n_samples))
            if self.compute_labels:
                self.labels_, self.inertia_ = nearest_centers(X, centers, weights)
            else:
                total = n_samples if weights is None else float(weights.sum())
                self.inertia_ = float(self._ewa_inertia or 0.0) * total
        self._n_features_out = self.n_clusters
        return self

    def partial_fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> MiniBatchKMeans:
        """Update the centers with one mini-batch (all of ``X``).

        The first call initialises the centers from this batch (with ``init``); later calls
        continue from the current centers and counts, also after ``fit``.

        Parameters
        ----------
        X : array-like of shape (n_batch, n_features)
            The batch. A Dask collection streams its blocks, in order, as successive batches.
        y : ignored
        sample_weight : array-like of shape (n_batch,), optional
            Row weights, which count in the center update (batches are not resampled here).

        Returns
        -------
        self : MiniBatchKMeans
        """
        if is_dask_collection(X):  # each block in turn, on its worker
            return dask_fit(self, X, sample_weight, method="partial_fit")
        self._validate_params()
        first = not hasattr(self, "cluster_centers_")
        X = check_data(self, X, reset=first)
        if not first:
            X = X.astype(self.cluster_centers_.dtype, copy=False)
        X = np.ascontiguousarray(X)
        weights = check_sample_weight(sample_weight, X.shape[0], X.dtype)
        with threads(self.n_jobs), threads_for_rows(X.shape[0]):
            if first:
                check_n_clusters(self.n_clusters, X.shape[0])
                self._resolve(X)
                rng = as_generator(self.random_state)
                init_rows = _subset(X.shape[0], self._init_size, rng)
                centers = initial_centers(
                    X[init_rows], self.n_clusters, self.init, weights[init_rows], rng
                )
                self._start(centers, rng)
                self.n_steps_ = 0
            centers = self.cluster_centers_
            self._step(X, weights, centers, centers)
            if self.compute_labels:
                self.labels_, self.inertia_ = nearest_centers(X, self.cluster_centers_, weights)
        self.n_steps_ += 1
        self._n_features_out = self.n_clusters
        return self

    def _resolve(self, X: np.ndarray) -> None:
        """Derive the private settings that depend on the data (parameters stay untouched)."""
        n_samples = X.shape[0]
        self._batch_size = min(self.batch_size, n_samples)
        init_size = self.init_size
        if init_size is None:
            init_size = 3 * self._batch_size
        if init_size < self.n_clusters:
            init_size = 3 * self.n_clusters
        self._init_size = min(init_size, n_samples)
        self._n_init = resolve_n_init(self.n_init, self.init, default=3, name=type(self).__name__)
        # tol is relative to the data's spread, as in KMeans and scikit-learn
        self._tol = float(mean_feature_variance(X)) * self.tol if self.tol > 0 else 0.0

    def _best_init(
        self, X: np.ndarray, weights: np.ndarray | None, rng: np.random.Generator
    ) -> np.ndarray:
        """Initial centers: the best of ``n_init`` tries, judged on a held-out random sample."""
        held_out = rng.integers(0, X.shape[0], self._init_size)
        X_held = X[held_out]
        w_held = None if weights is None else weights[held_out]
        best, best_inertia = None, np.inf
        for attempt in range(self._n_init):
            rows = _subset(X.shape[0], self._init_size, rng)
            w_rows = np.ones(rows.shape[0], X.dtype) if weights is None else weights[rows]
            centers = initial_centers(X[rows], self.n_clusters, self.init, w_rows, rng)
            _, inertia = nearest_centers(X_held, centers, w_held)
            logger.debug("MiniBatchKMeans init %d: held-out inertia %.6g", attempt, inertia)
            if inertia < best_inertia or best is None:
                best, best_inertia = centers, inertia
        return best

    def _start(self, centers: np.ndarray, rng: np.random.Generator) -> None:
        """Reset the state that ``partial_fit`` carries from call to call."""
        self.cluster_centers_ = centers
        self._rng = rng
        self._counts = np.zeros(self.n_clusters, dtype=np.float64)
        self._rows_since_reassign = 0
        self._ewa_inertia = None
        self._ewa_inertia_min = None
        self._no_improvement = 0

    def _descend(
        self,
        X: np.ndarray,
        weights: np.ndarray | None,
        centers: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """The mini-batch steps of ``fit``, until early stopping or ``max_iter`` passes."""
        n_samples = X.shape[0]
        sampler = _BatchSampler(n_samples, weights)
        n_steps = (self.max_iter * n_samples) // self._batch_size
        # batches are drawn in proportion to the weights, so each one counts with unit weight
        unit = np.ones(self._batch_size, dtype=X.dtype)
        centers_new = np.empty_like(centers)
        step = 0
        with threads_for_rows(self._batch_size):
            for step in range(n_steps):
                batch = X[sampler.draw(rng, self._batch_size)]
                batch_inertia = self._step(batch, unit, centers, centers_new)
                shift = float(np.sum((centers_new - centers) ** 2)) if self._tol > 0 else 0.0
                centers, centers_new = centers_new, centers
                if self._converged(step, n_samples, shift, batch_inertia):
                    break
        self.n_steps_ = step + 1
        return centers

    def _step(
        self, batch: np.ndarray, weights: np.ndarray, centers: np.ndarray, centers_new: np.ndarray
    ) -> float:
        """One mini-batch: assign, update centers and counts, maybe reassign; batch inertia."""
        labels, inertia = nearest_centers(batch, centers, weights)
        minibatch_update(batch, weights, labels, centers, centers_new, self._counts)
        if self._reassign_due() and self.reassignment_ratio > 0:
            _reassign_small(batch, centers_new, self._counts, self.reassignment_ratio, self._rng)
        return inertia

    def _reassign_due(self) -> bool:
        """Reassign after every ``10 * n_clusters`` rows seen, and whenever a center is empty."""
        self._rows_since_reassign += self._batch_size
        if (self._counts == 0).any() or self._rows_since_reassign >= 10 * self.n_clusters:
            self._rows_since_reassign = 0
            return True
        return False

    def _converged(self, step: int, n_samples: int, shift: float, batch_inertia: float) -> bool:
        """Early stopping on the smoothed batch inertia (and on the center shift if ``tol``)."""
        batch_inertia /= self._batch_size
        if step == 0:
            return False  # the first batch measures the initial centers, not progress
        if self._ewa_inertia is None:
            self._ewa_inertia = batch_inertia
        else:
            alpha = min(self._batch_size * 2.0 / (n_samples + 1), 1.0)
            self._ewa_inertia = self._ewa_inertia * (1 - alpha) + batch_inertia * alpha
        if self._tol > 0.0 and shift <= self._tol:
            logger.debug("MiniBatchKMeans converged (center shift) at step %d", step + 1)
            return True
        if self._ewa_inertia_min is None or self._ewa_inertia < self._ewa_inertia_min:
            self._no_improvement = 0
            self._ewa_inertia_min = self._ewa_inertia
        else:
            self._no_improvement += 1
        if self.max_no_improvement is not None and self._no_improvement >= self.max_no_improvement:
            logger.debug("MiniBatchKMeans converged (no inertia improvement) at step %d", step + 1)
            return True
        return False

    # --------------------------------------------------------------- prediction

    def fit_predict(self, X: Any, y: Any = None, sample_weight: Any = None) -> np.ndarray:
        """Fit and return the label of every training row (int64)."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def predict(self, X: Any) -> np.ndarray:
        """Index (int64) of the nearest center for each row of ``X``."""
        if is_dask_collection(X):  # lazily, block by block
            from clusterlab.distributed import predict

            return predict(self, X)
        X = self._check_test_data(X)
        with threads(self.n_jobs):
            labels, _ = nearest_centers(X, self.cluster_centers_, None)
        return labels


class _BatchSampler:
    """Draws batch row indices: uniform, or proportional to the weights via their running sum.

    scikit-learn rebuilds the cumulative weights on every batch (``choice(p=...)``), which costs
    O(n_samples) time and memory per batch; the cumulative sum here is built once.
    """

    def __init__(self, n_samples: int, weights: np.ndarray | None) -> None:
        self.n = n_samples
        self.cdf = None
        if weights is not None:
            cdf = np.cumsum(weights, dtype=np.float64)
            self.cdf = cdf / cdf[-1]

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        if self.cdf is None:
            return rng.integers(0, self.n, size)
        rows = np.searchsorted(self.cdf, rng.random(size), side="right")
        return np.minimum(rows, self.n - 1)


def threads_for_rows(n_rows: int) -> contextlib.AbstractContextManager:
    """One numba thread for work on few rows, where a parallel region costs more than it saves.

    Measured on the K4 batches (4096 x 16, k = 16): two threads were slower than one, and ten
    times slower on a busy machine. Larger work keeps the thread count in effect.
    """
    if n_rows < PARALLEL_MIN_ROWS:
        return threads(1)
    return contextlib.nullcontext()


def _subset(n_samples: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Random rows (with replacement) for an initialisation, or all rows if there are few."""
    if size >= n_samples:
        return np.arange(n_samples)
    return rng.integers(0, n_samples, size)


def _reassign_small(
    batch: np.ndarray,
    centers: np.ndarray,
    counts: np.ndarray,
    ratio: float,
    rng: np.random.Generator,
) -> None:
    """Move centers whose count is below ``ratio * max(counts)`` to random batch rows.

    At most half a batch of centers moves at once (the smallest counts). Moved centers get the
    smallest count among those that stayed, so that they are not moved again at once: the same
    rule as scikit-learn. Writes ``centers`` and ``counts``.
    """
    small = counts < ratio * counts.max()
    limit = int(0.5 * batch.shape[0])
    if small.sum() > limit:
        small[np.argsort(counts, kind="stable")[limit:]] = False
    n_moved = int(small.sum())
    if n_moved == 0:
        return
    logger.debug("MiniBatchKMeans: reassigning %d small clusters", n_moved)
    rows = rng.choice(batch.shape[0], size=n_moved, replace=False)
    centers[small] = batch[rows]
    if (~small).any():
        counts[small] = counts[~small].min()


# ---------------------------------------------------------------- shared with BisectingKMeans


def as_generator(random_state: Any) -> np.random.Generator:
    """A numpy Generator from ``random_state`` (None, an int, a RandomState or a Generator)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    return np.random.default_rng(random_state)


def resolve_n_init(n_init: str | int, init: Any, *, default: int, name: str) -> int:
    """``n_init='auto'``: 1 for k-means++ and given centers, ``default`` for random and callables.

    Given centers are used once whatever ``n_init`` says (with a warning, as scikit-learn).
    """
    given = not isinstance(init, str) and not callable(init)
    if n_init == "auto":
        return 1 if given or init == "k-means++" else default
    if given and n_init != 1:
        warnings.warn(
            f"{name}: init is an array of centers, so it is used once; n_init={n_init} ignored",
            RuntimeWarning,
            stacklevel=3,
        )
        return 1
    return int(n_init)


def initial_centers(
    X: np.ndarray, n_clusters: int, init: Any, weights: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Initial centers (a new C-contiguous array of X's dtype) from one of ``init``'s forms.

    Raises
    ------
    ValueError
        When given or returned centers do not have shape ``(n_clusters, n_features)`` or are not
        finite.
    """
    if isinstance(init, str):
        seed = int(rng.integers(np.iinfo(np.int64).max))
        if init == "k-means++":
            rows = kmeans_plusplus_indices(
                X,
                np.ascontiguousarray(weights, dtype=np.float64),
                n_clusters,
                default_n_local_trials(n_clusters),
                seed,
            )
        else:
            rows = random_indices(X.shape[0], n_clusters, weights, seed)
        return np.ascontiguousarray(X[rows])
    if callable(init):
        state = np.random.RandomState(int(rng.integers(np.iinfo(np.int32).max)))
        centers = init(X, n_clusters, random_state=state)
        what = "the centers returned by the init callable"
    else:
        centers = init
        what = "init"
    centers = np.array(centers, dtype=X.dtype, order="C", copy=True)
    if centers.shape != (n_clusters, X.shape[1]):
        raise ValueError(
            f"{what} must have shape (n_clusters, n_features) = ({n_clusters}, {X.shape[1]}); "
            f"got {centers.shape}"
        )
    if not np.all(np.isfinite(centers)):
        raise ValueError(f"{what} must be finite; got NaN or inf")
    return centers


def nearest_centers(
    X: np.ndarray, centers: np.ndarray, weights: np.ndarray | None
) -> tuple[np.ndarray, float]:
    """Label (int64) of the nearest center of each row, and the weighted inertia (float).

    Rows are labelled in blocks of ``BLOCK_ROWS`` so that the squared distances never take more
    than one block of memory; the inertia is summed block by block in order, in float64, so it
    does not depend on the number of threads.
    """
    n = X.shape[0]
    labels = np.empty(n, dtype=np.int64)
    sq_dist = np.empty(min(n, BLOCK_ROWS), dtype=X.dtype)
    total = 0.0
    for start in range(0, n, BLOCK_ROWS):
        stop = min(n, start + BLOCK_ROWS)
        dist = sq_dist[: stop - start]
        assign_labels(X[start:stop], centers, labels[start:stop], dist)
        if weights is None:
            total += float(np.sum(dist, dtype=np.float64))
        else:
            total += float(np.dot(dist.astype(np.float64), weights[start:stop].astype(np.float64)))
    return labels, total


def transform_centers(X: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Euclidean distances from each row to each center, in X's dtype."""
    return np.sqrt(pairwise_sq_distances(X, centers))


def score_centers(X: np.ndarray, centers: np.ndarray, weights: np.ndarray) -> float:
    """Opposite of the weighted inertia of ``X`` for its nearest centers."""
    return -nearest_centers(X, centers, weights)[1]
