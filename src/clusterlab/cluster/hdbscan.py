"""HDBSCAN: hierarchical density-based clustering with prediction, soft clustering and outliers.

The fit is a chain of kernels (STYLE.md rule 3):

1. core distances, the ``min_samples``-th neighbour distances, from a parallel kd-tree query
   (:mod:`clusterlab.kernels.kdtree`);
2. the minimum spanning tree of the mutual reachability distances by parallel Borůvka on the
   kd-tree (:func:`clusterlab.kernels.mst.boruvka_mst`), or by Prim's O(n^2)-time,
   O(n)-memory algorithm with ``algorithm="brute"``;
3. the single-linkage tree, the condensed tree, cluster stabilities, excess-of-mass or leaf
   selection, labels, probabilities, GLOSH outlier scores and cluster persistence
   (:mod:`clusterlab.kernels.condensed_tree`);
4. out-of-sample prediction and soft clustering (:mod:`clusterlab.kernels.hdbscan_predict`).

Labels agree with scikit-learn's ``HDBSCAN`` on the same data (cluster numbering aside, and for
data without exact ties among mutual reachability distances, where the minimum spanning tree is
not unique); prediction, membership vectors, outlier scores and persistence follow the hdbscan
library's definitions.
"""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin

from clusterlab._base import ParamsMixin
from clusterlab._config import threads
from clusterlab._validation import BOOLEAN, NONE, Interval, Options, check_data
from clusterlab.cluster.hdbscan_trees import CondensedTree, SingleLinkageTree

__all__ = ["HDBSCAN"]


class HDBSCAN(ParamsMixin, ClusterMixin, BaseEstimator):
    """Hierarchical density-based clustering (HDBSCAN*), fast, with prediction.

    Parameters
    ----------
    min_cluster_size : int, default=5
        Smallest group of points that counts as a cluster (>= 2).
    min_samples : int or None, default=None
        Neighbours (the point itself included) that define the core distance, i.e. how
        conservative the clustering is; ``None`` means ``min_cluster_size``.
    cluster_selection_method : {"eom", "leaf"}, default="eom"
        Excess of mass (the most stable clusters) or the leaves of the condensed tree (many
        small, homogeneous clusters).
    cluster_selection_epsilon : float, default=0.0
        Clusters that split below this distance are merged back into their parent.
    max_cluster_size : int or None, default=None
        Excess of mass selects no cluster with more points (epsilon can override it).
    allow_single_cluster : bool, default=False
        Allow the root, one cluster for all the data, to be selected.
    alpha : float, default=1.0
        Distances are divided by ``alpha`` in the mutual reachability distance.
    metric : {"euclidean", "manhattan", "chebyshev", "cosine"}, default="euclidean"
        ``"cosine"`` distance is ``1 - cos``, for rows that are not all zero. It is computed
        exactly, not approximated by euclidean distances on the unit sphere (those order the
        pairs alike but give other lambdas, stabilities and hence clusters): the spanning tree
        is built on the rows scaled to unit length, where ``1 - cos(u, v) = |u' - v'|^2 / 2``
        is an increasing function of the euclidean distance, so the same tree is minimal, and
        its weights are then mapped to cosine distances. Core distances, lambdas,
        ``cluster_selection_epsilon``, ``dbscan_clustering``'s cut and prediction are all in
        cosine distance.
    algorithm : {"auto", "kd_tree", "brute"}, default="auto"
        ``"kd_tree"`` (chosen by ``"auto"``): kd-tree neighbours and parallel Borůvka;
        ``"brute"``: exhaustive neighbours and Prim's algorithm (O(n^2) time, O(n) memory).
    leaf_size : int, default=40
        Points per kd-tree leaf.
    n_jobs : int or None, default=None
        Threads for the neighbour queries and Borůvka rounds (None: numba's current setting).

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,), int64
        Cluster of each point, -1 for noise.
    probabilities_ : ndarray of shape (n_samples,)
        Strength of each point's membership in its cluster (0 for noise).
    outlier_scores_ : ndarray of shape (n_samples,)
        GLOSH outlier scores: 0 for a point in the densest part of its cluster, towards 1 for
        outliers.
    cluster_persistence_ : ndarray of shape (n_clusters,)
        Stability of each cluster relative to its size and the tree's largest lambda (1: persists
        over all scales).
    condensed_tree_ : CondensedTree
    single_linkage_tree_ : SingleLinkageTree
    core_distances_ : ndarray of shape (n_samples,)
        Distance from each point to its ``min_samples``-th neighbour (itself first).
    n_clusters_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had string column names.

    Notes
    -----
    Sample weights are not supported in this version. A weight would act as a multiplicity in
    the core distances (the ``min_samples``-th unit of weight), in the cluster sizes compared
    with ``min_cluster_size`` and in the stabilities (fast_hdbscan does this), which needs
    fractional sizes throughout the condensed-tree kernels; and the property that defines it,
    integer weights equal repeated rows, cannot be checked exactly, because repeated rows tie in
    mutual reachability distance and the reference results then depend on how ties are ordered.
    Repeat the rows instead.

    Prediction (:meth:`approximate_predict`) attaches a new point to the tree next to its
    nearest training point in mutual reachability distance among its ``2 * min_samples`` nearest
    neighbours, as the hdbscan library does. A new point's core distance is its distance to its
    ``min_samples``-th nearest training point and the training points keep the core distances of
    the fit (hdbscan recomputes them with one neighbour fewer), so that a training point fed back
    in gets its own label.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.cluster.hdbscan import HDBSCAN
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 0.3, (50, 2)), rng.normal(5, 0.3, (50, 2))])
    >>> model = HDBSCAN(min_cluster_size=10).fit(X)
    >>> model.n_clusters_
    2
    >>> model.predict([[0.1, 0.0], [5.0, 5.1]]).tolist()
    [0, 1]
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "min_cluster_size": [Interval(numbers.Integral, 2, None)],
        "min_samples": [Interval(numbers.Integral, 1, None), NONE],
        "cluster_selection_method": [Options("eom", "leaf")],
        "cluster_selection_epsilon": [Interval(numbers.Real, 0, None)],
        "max_cluster_size": [Interval(numbers.Integral, 1, None), NONE],
        "allow_single_cluster": [BOOLEAN],
        "alpha": [Interval(numbers.Real, 0, None, closed="neither")],
        "metric": [Options("euclidean", "manhattan", "chebyshev", "cosine")],
        "algorithm": [Options("auto", "kd_tree", "brute")],
        "leaf_size": [Interval(numbers.Integral, 1, None)],
        "n_jobs": [Interval(numbers.Integral, None, None), NONE],
    }

    def __init__(
        self,
        min_cluster_size: int = 5,
        *,
        min_samples: int | None = None,
        cluster_selection_method: str = "eom",
        cluster_selection_epsilon: float = 0.0,
        max_cluster_size: int | None = None,
        allow_single_cluster: bool = False,
        alpha: float = 1.0,
        metric: str = "euclidean",
        algorithm: str = "auto",
        leaf_size: int = 40,
        n_jobs: int | None = None,
    ) -> None:
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.cluster_selection_method = cluster_selection_method
        self.cluster_selection_epsilon = cluster_selection_epsilon
        self.max_cluster_size = max_cluster_size
        self.allow_single_cluster = allow_single_cluster
        self.alpha = alpha
        self.metric = metric
        self.algorithm = algorithm
        self.leaf_size = leaf_size
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------------------------------
    # fit
    # ------------------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> HDBSCAN:
        """Cluster ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Finite numbers; float32 stays float32.
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        X = check_data(self, X)
        n = X.shape[0]
        if n < 2:
            raise ValueError(f"HDBSCAN needs at least 2 samples; got n_samples={n}")
        self._min_samples = self.min_cluster_size if self.min_samples is None else self.min_samples
        if self._min_samples > n:
            raise ValueError(
                f"min_samples must be at most n_samples={n}; got {self._min_samples}"
                + (
                    " (min_samples defaults to min_cluster_size)"
                    if self.min_samples is None
                    else ""
                )
            )
        from clusterlab.kernels.metric import cosine_from_euclidean, metric_p, unit_rows

        self._p = metric_p(self.metric)
        self._cosine = self.metric == "cosine"
        with threads(self.n_jobs):
            a, b, w = self._spanning_tree(unit_rows(X) if self._cosine else X)
            if self._cosine:
                w = cosine_from_euclidean(w)
            order = np.argsort(w, kind="stable")
            self._extract(np.ascontiguousarray(a[order]), np.ascontiguousarray(b[order]), w[order])
        return self

    def _spanning_tree(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        from clusterlab.kernels import kdtree, mst
        from clusterlab.kernels.metric import cosine_from_euclidean

        # cosine: d / alpha in cosine distance is the half square of d_unit / sqrt(alpha)
        alpha = float(np.sqrt(self.alpha)) if self._cosine else float(self.alpha)
        if self.algorithm == "brute":
            self._tree = None
            self._core_t = None
            self._X_fit = np.array(X)
            core = mst.core_distances_brute(self._X_fit, self._min_samples, self._p)
            a, b, w = mst.prim_mst(self._X_fit, core, alpha, self._p)
            self._core = core
            self.core_distances_ = cosine_from_euclidean(core) if self._cosine else core
            return a, b, w
        tree = kdtree.build_kdtree(np.ascontiguousarray(X), int(self.leaf_size))
        # plain arrays, so that pickles and model files hold no kernel type (kdtree docstring)
        self._tree = tuple(tree)
        self._X_fit = None
        core_t, knn_pos = mst.core_distances_tree(tree, self._min_samples, self._p)
        a, b, w = mst.boruvka_mst(tree, core_t, knn_pos, alpha, self._p, None)
        self._core_t = core_t
        core = np.empty_like(core_t)
        core[tree.idx] = core_t
        self._core = core
        self.core_distances_ = cosine_from_euclidean(core) if self._cosine else core
        return a, b, w

    def _extract(self, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> None:
        from clusterlab.kernels import condensed_tree as ct
        from clusterlab.kernels import hdbscan_predict as hp
        from clusterlab.kernels import mst

        n = a.size + 1
        left, right, distance, size = mst.single_linkage(a, b, w)
        self.single_linkage_tree_ = SingleLinkageTree(left, right, distance, size)
        tree = ct.condense_tree(left, right, distance, size, int(self.min_cluster_size))
        clusters = ct.cluster_arrays(tree, n)
        stability = ct.stabilities(tree, clusters, n)
        epsilon = float(self.cluster_selection_epsilon)
        allow_single = bool(self.allow_single_cluster)
        selected, subtree = ct.select_clusters(
            stability,
            clusters,
            self.cluster_selection_method == "leaf",
            allow_single,
            epsilon,
            int(self.max_cluster_size or 0),
        )
        labels, probabilities, label_of_cluster = ct.label_points(
            tree, n, clusters, selected, allow_single, epsilon
        )
        selected_ids = np.flatnonzero(selected).astype(np.int64)
        self.labels_ = labels
        self.probabilities_ = probabilities
        self.outlier_scores_ = ct.glosh_scores(tree, n, clusters)
        self.cluster_persistence_ = ct.persistence(subtree, selected, labels, tree[2])
        self.n_clusters_ = int(selected_ids.size)
        self.condensed_tree_ = CondensedTree(*tree, n_points=n, selected_clusters=selected_ids + n)
        # what prediction needs, computed once
        point_cluster, point_lambda = hp.point_rows(tree, n)
        self._clusters = clusters
        self._label_of_cluster = label_of_cluster
        self._selected_ids = selected_ids
        self._point_cluster = point_cluster
        self._point_lambda = point_lambda
        self._exemplars = hp.exemplars(
            point_cluster, point_lambda, clusters, label_of_cluster, selected_ids.size
        )

    # ------------------------------------------------------------------------------------------
    # out of sample
    # ------------------------------------------------------------------------------------------
    def _kdtree(self) -> Any:
        """The fitted kd-tree as the kernels' named tuple, or None (``algorithm="brute"``)."""
        from clusterlab.kernels.kdtree import KDTree

        return None if self._tree is None else KDTree(*self._tree)

    def _training_data(self) -> np.ndarray:
        tree = self._kdtree()
        if tree is None:
            return self._X_fit
        out = np.empty_like(tree.data)
        out[tree.idx] = tree.data
        return out

    def _knn(self, X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        from clusterlab.kernels import kdtree, mst

        tree = self._kdtree()
        if tree is None:
            return mst.knn_brute(X, self._X_fit, k, self._p)
        dist, ind = kdtree.query_knn(tree, X, k, self._p)
        return ind, dist

    def _attach(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest training point (mutual reachability) of each new point, and its lambda.

        ``min_samples`` neighbours settle almost every point; only the others are queried again
        with the ``2 * min_samples`` candidates of the definition.
        """
        from clusterlab.kernels import hdbscan_predict as hp

        tree = self._kdtree()
        if tree is not None:
            return hp.attach_points_tree(
                tree, X, self._core_t, self._min_samples, self._p, self._cosine
            )
        n_train = self.labels_.size
        k = min(self._min_samples, n_train)
        ind, dist = self._knn(X, k)
        nearest, lam, settled = hp.attach_points(ind, dist, self._core, k, self._cosine)
        k_full = min(2 * self._min_samples, n_train)
        redo = np.flatnonzero(~settled)
        if redo.size and k_full > k:
            ind, dist = self._knn(np.ascontiguousarray(X[redo]), k_full)
            nearest[redo], lam[redo], _ = hp.attach_points(ind, dist, self._core, k, self._cosine)
        return nearest, lam

    def _check_new(self, X: Any) -> np.ndarray:
        from sklearn.utils.validation import check_is_fitted

        from clusterlab.kernels.metric import unit_rows

        check_is_fitted(self, "labels_")
        X = check_data(self, X, reset=False)
        return np.ascontiguousarray(unit_rows(X) if self._cosine else X)

    def approximate_predict(
        self, X: Any, *, return_probabilities: bool = False
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Labels of new points in the fitted clustering (and membership probabilities).

        Each new point joins the condensed tree next to its nearest training point in mutual
        reachability distance, without changing the clustering (the hdbscan library's
        ``approximate_predict``).

        Parameters
        ----------
        X : array-like of shape (n_new, n_features)
        return_probabilities : bool, default=False
            Also return each point's membership probability (0 for noise).

        Returns
        -------
        labels : ndarray of shape (n_new,), int64
        probabilities : ndarray of shape (n_new,)
            Only with ``return_probabilities=True``.
        """
        from clusterlab.kernels import hdbscan_predict as hp

        X = self._check_new(X)
        with threads(self.n_jobs):
            nearest, lam = self._attach(X)
            labels, probabilities = hp.approximate_predict(
                nearest,
                lam,
                self._point_cluster,
                self._point_lambda,
                self._clusters,
                self._label_of_cluster,
            )
        return (labels, probabilities) if return_probabilities else labels

    def predict(
        self, X: Any, *, return_probabilities: bool = False
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Labels of new points: :meth:`approximate_predict` (noise is -1)."""
        return self.approximate_predict(X, return_probabilities=return_probabilities)

    def membership_vector(self, X: Any) -> np.ndarray:
        """Soft clustering: how much each new point belongs to each cluster.

        The hdbscan library's ``membership_vector``: a distance part (to each cluster's
        exemplars) times an outlier part (where the point meets each cluster in the tree), scaled
        so that a row sums to the probability that the point is in some cluster.

        Parameters
        ----------
        X : array-like of shape (n_new, n_features)

        Returns
        -------
        ndarray of shape (n_new, n_clusters_)
        """
        from clusterlab.kernels import hdbscan_predict as hp

        X = self._check_new(X)
        with threads(self.n_jobs):
            nearest, lam = self._attach(X)
            order, offsets = self._exemplars
            return hp.membership_vectors(
                X,
                self._training_data(),
                nearest,
                lam,
                self._point_cluster,
                self._point_lambda,
                self._clusters,
                self._selected_ids,
                order,
                offsets,
                self._p,
                self._cosine,
            )

    def dbscan_clustering(self, cut_distance: float, min_cluster_size: int = 5) -> np.ndarray:
        """DBSCAN* labels at ``eps = cut_distance`` from the fitted tree, without refitting.

        The single-linkage tree cut at ``cut_distance`` (mutual reachability distance); groups
        smaller than ``min_cluster_size`` are noise. Equivalent to DBSCAN without border points.

        Parameters
        ----------
        cut_distance : float
            > 0.
        min_cluster_size : int, default=5
            >= 1.

        Returns
        -------
        ndarray of shape (n_samples,), int64
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "labels_")
        if isinstance(cut_distance, bool) or not isinstance(cut_distance, numbers.Real):
            raise TypeError(f"cut_distance must be a number; got {cut_distance!r}")
        if not cut_distance > 0:
            raise ValueError(f"cut_distance must be a number in (0, inf); got {cut_distance!r}")
        if (
            isinstance(min_cluster_size, bool)
            or not isinstance(min_cluster_size, numbers.Integral)
            or min_cluster_size < 1
        ):
            raise ValueError(
                f"min_cluster_size must be an int in [1, inf); got {min_cluster_size!r}"
            )
        return self.single_linkage_tree_.get_clusters(cut_distance, min_cluster_size)
