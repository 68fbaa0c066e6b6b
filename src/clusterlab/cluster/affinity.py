"""Affinity propagation: scikit-learn's results in dense mode, a sparse mode for large data, and a
preference found for a requested number of clusters."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from clusterlab._base import ParamsMixin
from clusterlab._config import threads
from clusterlab._validation import (
    ARRAY_LIKE,
    BOOLEAN,
    NONE,
    RANDOM_STATE,
    Interval,
    Options,
    check_data,
    check_n_clusters,
)

__all__ = ["AffinityPropagation", "AffinityPropagationWarning", "fit_each_k"]

#: ``sparse='auto'`` passes messages along a k-nearest-neighbour graph above this many points
#: (dense iterations cost about 3 ns per matrix entry on one core: 75 ms each at 5,000 points).
_DENSE_MAX_N = 5_000

#: Neighbours per point in the sparse mode when ``sparse`` is True or 'auto'.
_SPARSE_NEIGHBOURS = 30


class AffinityPropagationWarning(ConvergenceWarning):
    """Affinity propagation stopped at ``max_iter`` before its exemplars settled.

    The estimator still returns the exemplars and labels of its last iteration (never an
    all ``-1`` labelling) and sets ``converged_ = False``.
    """


class AffinityPropagation(ParamsMixin, ClusterMixin, BaseEstimator):
    """Affinity propagation: exemplars chosen by passing messages between points.

    Every point sends *responsibilities* (how well suited a candidate is as its exemplar) and
    receives *availabilities* (how appropriate it is to choose that candidate) until the set
    of exemplars stays the same for ``convergence_iter`` iterations (Frey and Dueck, 2007).
    The number of clusters follows from the *preference* (the similarity of each point to
    itself), or is asked for directly with ``n_clusters``.

    In dense mode the updates, their order, damping, tie-breaking noise and stopping rule are
    scikit-learn's, element for element: for the same parameters the exemplars and labels are
    identical (float64 data). The messages are updated in place (three n x n matrices instead
    of scikit-learn's four plus temporaries) by parallel numba kernels.

    Parameters
    ----------
    damping : float in [0.5, 1) or 'auto', default=0.5
        Weight of the previous message in each update. ``'auto'`` starts at 0.5 and raises the
        damping by 0.1 (up to 0.95) after every window of ``convergence_iter`` iterations in
        which a point entered and left the exemplar set (the messages oscillate; a settling
        run changes a point once). With ``n_clusters`` or in the sparse mode every run is
        adaptive, starting from the given damping: the exemplar count of a run that does not
        settle means little.
    max_iter : int, default=200
        Maximum number of iterations.
    convergence_iter : int, default=15
        Iterations without a change in the exemplar set that stop the run.
    copy : bool, default=True
        With ``affinity='precomputed'`` and ``copy=False``, a float64 or float32 C-ordered
        similarity matrix is used in place and modified (its diagonal and tie-breaking noise),
        saving one n x n matrix. Otherwise the input is never modified.
    preference : float, array-like of shape (n_samples,) or None, default=None
        Self-similarity of each point: the larger, the more exemplars. ``None``: the median of
        the similarities (in sparse mode: of the similarities between random pairs of points).
        With ``n_clusters``, a number: where the preference search starts.
    affinity : {'euclidean', 'precomputed'}, default='euclidean'
        ``'euclidean'``: similarity is the negative squared euclidean distance.
        ``'precomputed'``: ``X`` is a square similarity matrix; a scipy sparse matrix runs the
        sparse mode with its stored entries as the graph.
    n_clusters : int or None, default=None
        When given, the preference is searched (bisection on a log scale) for a run with
        exactly this many exemplars; ``preference_`` is the value found. If no preference
        gives exactly ``n_clusters`` the closest count is kept and a warning says so.
    sparse : 'auto', bool or int, default='auto'
        Pass messages only along a symmetric k-nearest-neighbour graph (memory O(n k)). An int
        is the number of neighbours (True means 30). Points can then only choose exemplars
        among their neighbours, so this first level yields many small clusters; their
        exemplars, weighted by cluster size, are clustered by dense affinity propagation with
        ``preference`` (or the ``n_clusters`` search), and every point takes the most similar
        final exemplar. ``'auto'``: dense up to 5,000 points when its three n x n matrices
        fit the memory budget (``clusterlab.set_config(memory_budget=...)``), sparse otherwise.
    random_state : None, int or RandomState, default=None
        Source of the tiny noise that breaks ties between equal similarities (as
        scikit-learn). ``None`` uses numpy's global random state, as scikit-learn does.
    n_jobs : int or None, default=None
        Threads for the numba kernels (None: numba's current setting, -1: all cores).

    Attributes
    ----------
    cluster_centers_indices_ : ndarray of shape (n_clusters,), int64
        Indices of the exemplars, ascending.
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        The exemplars (not with ``affinity='precomputed'``).
    labels_ : ndarray of shape (n_samples,), int64
        Cluster of each point.
    n_clusters_ : int
    n_iter_ : int
        Iterations of the (last) run.
    converged_ : bool
        False when the run stopped at ``max_iter``: the labels are then those of the last
        iteration's exemplars and an :class:`AffinityPropagationWarning` was issued. In the
        sparse mode: the final (dense) level's run; graph levels that keep oscillating still
        give a valid coarsening.
    preference_ : float or ndarray
        The preference used (searched, median or given).
    damping_ : float
        The damping at the end of the run (differs from ``damping`` only with ``'auto'``).
    sparse_ : bool
        Whether the sparse mode ran.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Notes
    -----
    Out-of-sample rule: ``predict`` gives the label of the nearest exemplar (euclidean), or of
    the most similar exemplar for similarities to the training points (precomputed).

    Unlike scikit-learn, a run that does not converge never labels every point -1, and the
    dense similarity matrix is not kept as a fitted attribute (no ``affinity_matrix_``).

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import AffinityPropagation
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [4, 2], [4, 4], [4, 0]], dtype=float)
    >>> ap = AffinityPropagation(random_state=5).fit(X)
    >>> ap.labels_
    array([0, 0, 0, 1, 1, 1])
    >>> ap.predict(np.array([[0.0, 0.0], [4.0, 4.0]]))
    array([0, 1])
    >>> AffinityPropagation(n_clusters=1, random_state=0).fit(X).n_clusters_
    1
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "damping": [Interval(numbers.Real, 0.5, 1.0, closed="left"), Options("auto")],
        "max_iter": [Interval(numbers.Integral, 1, None)],
        "convergence_iter": [Interval(numbers.Integral, 1, None)],
        "copy": [BOOLEAN],
        "preference": [ARRAY_LIKE, Interval(numbers.Real, None, None, closed="neither"), NONE],
        "affinity": [Options("euclidean", "precomputed")],
        "n_clusters": [Interval(numbers.Integral, 1, None), NONE],
        "sparse": [Options("auto"), BOOLEAN, Interval(numbers.Integral, 1, None)],
        "random_state": [RANDOM_STATE],
        "n_jobs": [Interval(numbers.Integral, None, None), NONE],
    }

    def __init__(
        self,
        *,
        damping: float | str = 0.5,
        max_iter: int = 200,
        convergence_iter: int = 15,
        copy: bool = True,
        preference: Any = None,
        affinity: str = "euclidean",
        n_clusters: int | None = None,
        sparse: str | bool | int = "auto",
        random_state: Any = None,
        n_jobs: int | None = None,
    ) -> None:
        self.damping = damping
        self.max_iter = max_iter
        self.convergence_iter = convergence_iter
        self.copy = copy
        self.preference = preference
        self.affinity = affinity
        self.n_clusters = n_clusters
        self.sparse = sparse
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.affinity == "precomputed"
        tags.input_tags.sparse = self.affinity == "precomputed"
        return tags

    # ----------------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> AffinityPropagation:
        """Find exemplars and label every point.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or (n_samples, n_samples)
            similarities (dense, or scipy sparse for the sparse mode) when
            ``affinity='precomputed'``.
        y : ignored

        Returns
        -------
        self
        """
        import scipy.sparse as sp

        self._validate_params()
        precomputed = self.affinity == "precomputed"
        if precomputed:
            X = check_data(self, X, accept_sparse=["csr", "csc", "coo"], copy=False)
            if X.shape[0] != X.shape[1]:
                raise ValueError(
                    "X must be a square similarity matrix when affinity='precomputed'; "
                    f"got shape {X.shape}"
                )
        else:
            X = check_data(self, X)
        n = X.shape[0]
        if self.n_clusters is not None:
            check_n_clusters(self.n_clusters, n)
            if self.preference is not None and np.ndim(self.preference) != 0:
                raise ValueError(
                    "preference must be a number (where the search starts) when n_clusters "
                    f"is set; got an array of shape {np.shape(self.preference)}"
                )
        preference = self._check_preference(n)
        self.sparse_ = self._use_sparse(X, n)
        with threads(self.n_jobs):
            if self.sparse_ and precomputed:
                from clusterlab.cluster._affinity_sparse import fit_graph

                result = fit_graph(self, sp.csr_matrix(X), preference)
            elif self.sparse_:
                from clusterlab.cluster._affinity_sparse import fit_points

                result = fit_points(self, np.ascontiguousarray(X), preference)
            else:
                result = self._fit_dense(X, preference)
        self._store(result, None if precomputed else X)
        return self

    def _check_preference(self, n: int) -> Any:
        if self.preference is None or np.ndim(self.preference) == 0:
            return self.preference
        pref = np.asarray(self.preference)
        if pref.dtype.kind not in "biuf":
            raise TypeError(f"preference must be numeric; got an array of dtype {pref.dtype}")
        if pref.shape != (n,):
            raise ValueError(
                f"preference must be a number or have shape (n_samples,) = ({n},); "
                f"got shape {pref.shape}"
            )
        if not np.all(np.isfinite(pref)):
            raise ValueError("preference must be finite; got NaN or inf")
        return pref.astype(np.float64)

    def _use_sparse(self, X: Any, n: int) -> bool:
        import scipy.sparse as sp

        if self.affinity == "precomputed":
            if self.sparse is False and sp.issparse(X):
                raise ValueError(
                    "sparse=False needs a dense similarity matrix; got a scipy sparse matrix "
                    "(pass sparse='auto' or True to pass messages along its entries)"
                )
            return bool(sp.issparse(X))
        if self.sparse == "auto":
            from clusterlab._config import get_config

            dense_mib = 3.0 * n * n * X.dtype.itemsize / 2**20
            return n > _DENSE_MAX_N or dense_mib > get_config()["memory_budget"]
        return self.sparse is not False

    def _n_neighbours(self, n: int) -> int:
        k = _SPARSE_NEIGHBOURS if isinstance(self.sparse, bool | str) else int(self.sparse)
        return max(1, min(k, n - 1))

    # ----------------------------------------------------------------------------------------
    def _fit_dense(self, X: np.ndarray, preference: Any) -> dict[str, Any]:
        from clusterlab.cluster._affinity_dense import DenseRun

        run = DenseRun.build(self, X)
        if self.n_clusters is not None:
            return run.search(self.n_clusters, start=preference)
        if preference is None:
            preference = run.median
        return run.solve(preference)

    def _store(self, result: dict[str, Any], X: np.ndarray | None) -> None:
        self.cluster_centers_indices_ = result["exemplars"]
        self.labels_ = result["labels"]
        self.n_clusters_ = int(result["exemplars"].shape[0])
        self.n_iter_ = int(result["n_iter"])
        self.converged_ = bool(result["converged"])
        self.preference_ = result["preference"]
        self.damping_ = float(result["damping"])
        if X is not None:
            self.cluster_centers_ = X[self.cluster_centers_indices_].copy()
        elif hasattr(self, "cluster_centers_"):
            del self.cluster_centers_
        if not self.converged_:
            warnings.warn(
                f"affinity propagation did not converge in max_iter={self.max_iter} iterations; "
                f"the {self.n_clusters_} exemplars and labels of the last iteration are "
                "returned (converged_ is False). Raise max_iter, or use damping='auto' (or a "
                "larger damping) if the messages oscillate",
                AffinityPropagationWarning,
                stacklevel=3,
            )

    def _damping_start(self) -> tuple[float, bool]:
        """(damping to start with, whether to raise it on oscillation)."""
        if self.damping == "auto":
            return 0.5, True
        return float(self.damping), False

    # ----------------------------------------------------------------------------------------
    def predict(self, X: Any) -> np.ndarray:
        """Label of the nearest exemplar of every row.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features), or (n_queries, n_samples_fit)
            similarities to the training points when ``affinity='precomputed'`` (the most
            similar exemplar wins; ties go to the lower label).

        Returns
        -------
        labels : ndarray of shape (n_queries,), int64
        """
        from clusterlab.kernels.lloyd import assign_labels

        check_is_fitted(self, "labels_")
        X = check_data(self, X, reset=False)
        if self.affinity == "precomputed":
            n_train = self.labels_.shape[0]
            if X.shape[1] != n_train:
                raise ValueError(
                    "X must hold similarities to the training points when "
                    f"affinity='precomputed': expected {n_train} columns; got {X.shape[1]}"
                )
            return np.argmax(X[:, self.cluster_centers_indices_], axis=1).astype(np.int64)
        centers = self.cluster_centers_.astype(X.dtype, copy=False)
        labels = np.empty(X.shape[0], dtype=np.int64)
        with threads(self.n_jobs):
            assign_labels(X, np.ascontiguousarray(centers), labels, np.empty(X.shape[0], X.dtype))
        return labels


def fit_each_k(
    estimator: AffinityPropagation, X: Any, ks: Sequence[int]
) -> dict[int, AffinityPropagation]:
    """``estimator`` fitted with ``n_clusters=k`` for every ``k`` of ``ks``, sharing the work.

    Each model is the one ``clone(estimator).set_params(n_clusters=k).fit(X)`` returns, fitted
    attribute for fitted attribute, but in dense mode the similarity matrix (with its noise)
    is built once and the preference searches of all ``k`` run as one: they start with the
    same run and part only where a run's exemplar count falls between two ``k``, so the runs
    they share are made once (the messages where they part are copied while the memory budget
    allows, else replayed). This is the k path of :func:`clusterlab.selection.choose_k`.

    The equality needs the same noise for every ``k``: an int ``random_state`` (None or a
    RandomState draws different noise at each fit, as separate fits would). The sparse mode,
    a precomputed similarity matrix and an array of preferences are fitted one ``k`` at a time.

    Parameters
    ----------
    estimator : AffinityPropagation
        Its parameters (``n_clusters`` aside) are kept; it is not modified.
    X : array-like of shape (n_samples, n_features)
    ks : sequence of int
        Numbers of clusters, each in ``[1, n_samples]``.

    Returns
    -------
    dict
        ``k`` to the fitted model.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from clusterlab import AffinityPropagation
    >>> from clusterlab.cluster.affinity import fit_each_k
    >>> X, _ = make_blobs(n_samples=120, centers=4, random_state=0)
    >>> models = fit_each_k(AffinityPropagation(random_state=0), X, [2, 3, 4])
    >>> [models[k].n_clusters_ for k in (2, 3, 4)]
    [2, 3, 4]
    """
    models = {k: clone(estimator).set_params(n_clusters=k) for k in ks}
    if not models:
        return models
    first = next(iter(models.values()))
    first._validate_params()
    shared = (
        estimator.affinity == "euclidean"
        and isinstance(estimator.random_state, numbers.Integral)
        and (estimator.preference is None or np.ndim(estimator.preference) == 0)
    )
    if shared:
        data = check_data(first, X)
        shared = not first._use_sparse(data, data.shape[0])
    if not shared:
        return {k: model.fit(X) for k, model in models.items()}
    from clusterlab.cluster._affinity_dense import DenseRun

    for model in models.values():
        model._validate_params()
        check_data(model, X)  # n_features_in_, feature_names_in_
        check_n_clusters(model.n_clusters, data.shape[0])
    with threads(estimator.n_jobs):
        run = DenseRun.build(first, data)
        results = run.search_many(list(models), start=estimator.preference)
    for k, model in models.items():
        model.sparse_ = False
        model._store(results[k], data)
    return models
