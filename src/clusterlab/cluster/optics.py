"""OPTICS: scikit-learn's ordering and extractions, computed by numba kernels."""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils.validation import check_is_fitted

from clusterlab._base import NOISE, ParamsMixin
from clusterlab._config import threads
from clusterlab._validation import NONE, Interval, Options, check_data

__all__ = ["OPTICS"]

_LEAF_SIZE = 32


class OPTICS(ParamsMixin, ClusterMixin, BaseEstimator):
    """Ordering Points To Identify the Clustering Structure, identical to scikit-learn's, faster.

    The ordering, reachability, core distances and predecessors follow scikit-learn's
    ``compute_optics_graph`` rule for rule (including its tie breaks and its rounding to 15
    decimals), so ``reachability_[ordering_]`` agrees with scikit-learn's to the last bit for
    ``metric='euclidean'`` (scikit-learn's default ``'minkowski'`` with ``p=2``). Clusters are
    extracted with scikit-learn's own ``cluster_optics_xi`` / ``cluster_optics_dbscan``.

    Parameters
    ----------
    min_samples : int > 1 or float in (0, 1], default=5
        Neighbourhood size (the point itself included) for a point to be core; a float is a
        fraction of the number of samples (at least 2).
    max_eps : float, default=inf
        Largest neighbourhood radius considered; smaller values make the ordering faster (kd-tree
        queries instead of a pass over all unprocessed points).
    metric : {'euclidean', 'manhattan', 'chebyshev'}, default='euclidean'
    cluster_method : {'xi', 'dbscan'}, default='xi'
    xi : float in [0, 1], default=0.05
        Minimum steepness of a cluster boundary (``'xi'`` method).
    eps : float or None, default=None
        Cut distance of the ``'dbscan'`` method; ``None`` means ``max_eps``.
    min_cluster_size : int > 1, float in (0, 1] or None, default=None
        ``'xi'`` method: smallest cluster (None: ``min_samples``).
    predecessor_correction : bool, default=True
        ``'xi'`` method: correct clusters by the predecessors (scikit-learn's default).
    algorithm : {'auto', 'scan', 'kd_tree'}, default='auto'
        How the ordering finds neighbours. ``'scan'`` passes over all unprocessed points each
        step; ``'kd_tree'`` uses radius queries and a heap. ``'auto'``: scan when ``max_eps`` is
        infinite, the kd-tree otherwise.
    n_jobs : int or None, default=None
        Threads for the core distances and ``predict``.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,), int64
    ordering_ : ndarray of shape (n_samples,), int64
    reachability_ : ndarray of shape (n_samples,), float64
        Indexed by sample; ``reachability_[ordering_]`` is the reachability plot.
    core_distances_ : ndarray of shape (n_samples,), float64
    predecessor_ : ndarray of shape (n_samples,), int64
        -1 for the points that start a new part of the ordering.
    cluster_hierarchy_ : ndarray of shape (n_clusters, 2)
        ``[start, end]`` positions in the ordering of every cluster (``'xi'`` only).
    n_clusters_ : int
    n_features_in_ : int

    Notes
    -----
    ``predict`` labels a new point ``x`` by the *nearest already-ordered point* rule, taken only
    through what the extraction kept:

    1. If ``x`` equals a training point exactly (distance 0), it gets that point's label (the
       smallest such index when there are duplicates), so ``predict(X_train)`` returns
       ``labels_`` (up to duplicated rows the extraction labelled differently).
    2. Otherwise ``x`` is treated as if it were still unprocessed once the whole training set
       has been ordered: each *clustered* training point ``o`` within ``max_eps`` offers it the
       reachability ``max(core_distances_[o], d(x, o))``. An offer counts only when it does not
       exceed the largest reachability found inside ``o``'s cluster (after the point where the
       ordering enters it; ``eps`` for the ``'dbscan'`` method, where the rule is then exactly a
       DBSCAN border point's). ``x`` joins the cluster of the smallest counting offer (ties:
       smaller index), and is noise when nothing counts.

    Noise training points make no offers: they sit where the extraction saw no cluster, and a
    point reached only through them would join a cluster at a density the cluster does not
    contain.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import OPTICS
    >>> X = np.array([[1, 2], [2, 5], [3, 6], [8, 7], [8, 8], [7, 3]], dtype=float)
    >>> model = OPTICS(min_samples=2).fit(X)
    >>> model.ordering_
    array([0, 1, 2, 5, 3, 4])
    >>> model.labels_
    array([0, 0, 0, 1, 1, 1])
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "min_samples": [
            Interval(numbers.Integral, 2, None, closed="left"),
            Interval(numbers.Real, 0, 1, closed="right"),
        ],
        "max_eps": [Interval(numbers.Real, 0, None, closed="both")],
        "metric": [Options("euclidean", "manhattan", "chebyshev")],
        "cluster_method": [Options("xi", "dbscan")],
        "xi": [Interval(numbers.Real, 0, 1, closed="both")],
        "eps": [Interval(numbers.Real, 0, None, closed="both"), NONE],
        "min_cluster_size": [
            Interval(numbers.Integral, 2, None, closed="left"),
            Interval(numbers.Real, 0, 1, closed="right"),
            NONE,
        ],
        "predecessor_correction": [bool],
        "algorithm": [Options("auto", "scan", "kd_tree")],
        "n_jobs": [Interval(numbers.Integral, None, None), NONE],
    }

    def __init__(
        self,
        min_samples: float = 5,
        *,
        max_eps: float = np.inf,
        metric: str = "euclidean",
        cluster_method: str = "xi",
        xi: float = 0.05,
        eps: float | None = None,
        min_cluster_size: float | None = None,
        predecessor_correction: bool = True,
        algorithm: str = "auto",
        n_jobs: int | None = None,
    ) -> None:
        self.min_samples = min_samples
        self.max_eps = max_eps
        self.metric = metric
        self.cluster_method = cluster_method
        self.xi = xi
        self.eps = eps
        self.min_cluster_size = min_cluster_size
        self.predecessor_correction = predecessor_correction
        self.algorithm = algorithm
        self.n_jobs = n_jobs

    def fit(self, X: Any, y: Any = None) -> OPTICS:
        """Order ``X`` and extract clusters.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self
        """
        from sklearn.cluster import cluster_optics_dbscan, cluster_optics_xi

        from clusterlab.kernels.kdtree import build_kdtree, query_knn
        from clusterlab.kernels.metric import metric_p
        from clusterlab.kernels.optics import optics_scan, optics_tree

        self._validate_params()
        X = check_data(self, X, ensure_min_samples=2)
        n = X.shape[0]
        min_samples = _resolve_size(self.min_samples, n, "min_samples")
        if self.cluster_method == "dbscan" and self.eps is not None and self.eps > self.max_eps:
            raise ValueError(
                f"eps must be <= max_eps for cluster_method='dbscan'; got eps={self.eps!r}, "
                f"max_eps={self.max_eps!r}"
            )
        p = metric_p(self.metric)
        max_eps = float(self.max_eps)
        with threads(self.n_jobs):
            tree = build_kdtree(X, _LEAF_SIZE)
            dist, _ = query_knn(tree, X, min_samples, p)
            core = dist[:, -1].copy()
            core[core > max_eps] = np.inf
            np.around(core, 15, out=core)  # scikit-learn's rounding, for the same ties
            use_scan = self.algorithm == "scan" or (self.algorithm == "auto" and max_eps == np.inf)
            if use_scan:
                ordering, reach, pred = optics_scan(np.ascontiguousarray(X), core, max_eps, p)
            else:
                ordering, reach, pred = optics_tree(tree, core, max_eps, p)
        self.ordering_ = ordering
        self.core_distances_ = core
        self.reachability_ = reach
        self.predecessor_ = pred
        if self.cluster_method == "xi":
            labels, hierarchy = cluster_optics_xi(
                reachability=reach,
                predecessor=pred,
                ordering=ordering,
                min_samples=self.min_samples,
                min_cluster_size=self.min_cluster_size,
                xi=self.xi,
                predecessor_correction=self.predecessor_correction,
            )
            self.cluster_hierarchy_ = hierarchy
        else:
            eps = max_eps if self.eps is None else float(self.eps)
            labels = cluster_optics_dbscan(
                reachability=reach, core_distances=core, ordering=ordering, eps=eps
            )
        self.labels_ = np.asarray(labels, dtype=np.int64)
        self.n_clusters_ = int(self.labels_.max(initial=NOISE) + 1)
        # plain arrays, so that pickles and model files hold no kernel type (kdtree docstring)
        self._tree = tuple(tree)
        return self

    def _cluster_reach_limits(self) -> np.ndarray:
        """Largest reachability inside each cluster: the most a new point may have to join it."""
        k = self.n_clusters_
        if self.cluster_method == "dbscan":
            eps = self.max_eps if self.eps is None else self.eps
            return np.full(k, float(eps))
        ordered = self.labels_[self.ordering_]
        reach = self.reachability_[self.ordering_]
        clustered = np.flatnonzero(ordered >= 0)
        # the first point of a cluster in the ordering is reached from outside it: its value is
        # the entry, not a density found inside (it counts only for a one-point cluster)
        first = np.full(k, -1, dtype=np.int64)
        first[ordered[clustered[::-1]]] = clustered[::-1]
        inner = clustered[clustered != first[ordered[clustered]]]
        inner = inner[np.isfinite(reach[inner])]
        limits = np.full(k, -np.inf)
        np.maximum.at(limits, ordered[inner], reach[inner])
        single = np.bincount(ordered[clustered], minlength=k) == 1
        entry = reach[first[single]]
        limits[single] = np.where(np.isfinite(entry), entry, -np.inf)
        return limits

    def predict(self, X: Any) -> np.ndarray:
        """Label new points by the nearest already-ordered point rule (see Notes).

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)

        Returns
        -------
        labels : ndarray of shape (n_queries,), int64
            Noise is -1.
        """
        from clusterlab.kernels.kdtree import KDTree
        from clusterlab.kernels.metric import metric_p
        from clusterlab.kernels.optics import reach_from_clusters

        check_is_fitted(self, "labels_")
        X = np.ascontiguousarray(check_data(self, X, reset=False))
        labels = self.labels_
        clustered = labels >= 0
        offer_limit = np.full(labels.size, -np.inf)
        offer_limit[clustered] = self._cluster_reach_limits()[labels[clustered]]
        with threads(self.n_jobs):
            _, pred, match = reach_from_clusters(
                KDTree(*self._tree),
                self.core_distances_,
                offer_limit,
                X,
                float(self.max_eps),
                metric_p(self.metric),
            )
        out = np.full(X.shape[0], NOISE, dtype=np.int64)
        offered = pred >= 0
        out[offered] = labels[pred[offered]]
        exact = match >= 0
        out[exact] = labels[match[exact]]
        return out


def _resolve_size(value: float, n: int, name: str) -> int:
    """scikit-learn's rule: an int >= 2 as is, a float in (0, 1] a fraction of n (at least 2)."""
    if isinstance(value, numbers.Integral):
        if value < 2:
            # the Real interval of the constraints accepts the int 1; scikit-learn does not
            raise ValueError(
                f"{name} must be an int in [2, inf) or a float in (0, 1]; got {value!r}"
            )
        size = int(value)
    else:
        size = max(2, int(value * n))
    if size > n:
        raise ValueError(f"{name} must be at most n_samples={n}; got {value!r}")
    return size
