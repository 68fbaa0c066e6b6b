"""Hierarchical clustering: every classical linkage, and Genie, with prediction.

The fit is a chain of kernels (STYLE.md rule 3):

- ``ward`` -- nearest-neighbour chains on the vectors, O(n d) memory, searches walking a
  kd-tree of the clusters (:func:`clusterlab.kernels.linkage.nn_chain_ward`);
- ``centroid``, ``median`` -- the generic algorithm on the vectors, O(n d) memory
  (:func:`clusterlab.kernels.linkage.generic_centroid`);
- ``complete``, ``average``, ``weighted`` -- nearest-neighbour chains with Lance-Williams
  updates on a condensed distance matrix in the data's dtype
  (:func:`clusterlab.kernels.linkage.nn_chain_condensed`), after a check against the memory
  budget;
- ``connectivity=`` -- any linkage restricted to a graph
  (:func:`clusterlab.kernels.structured.structured_linkage`), O(edges) memory;
- ``single`` and :class:`Genie` -- walks over a minimum spanning tree (kd-tree Borůvka shared
  with HDBSCAN, the exact parallel Prim, or for Genie an approximate tree from a
  nearest-neighbour graph; :mod:`clusterlab.cluster._spanning`).

Results follow scipy's linkage matrix (``linkage_matrix_``, valid for
``scipy.cluster.hierarchy.dendrogram``) and scikit-learn's attributes (``children_``,
``distances_``, labels numbered as ``sklearn.cluster.AgglomerativeClustering`` numbers them).
"""

from __future__ import annotations

import heapq
import numbers
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin

from clusterlab._base import ParamsMixin
from clusterlab._config import check_memory, threads
from clusterlab._validation import (
    ARRAY_LIKE,
    BOOLEAN,
    CALLABLE,
    NONE,
    Interval,
    Options,
    check_data,
)

__all__ = ["AgglomerativeClustering", "Genie", "linkage"]

LINKAGES = ("ward", "complete", "average", "single", "weighted", "centroid", "median")
#: linkages defined on euclidean centroids only
EUCLIDEAN_ONLY = ("ward", "centroid", "median")
METRICS = ("euclidean", "manhattan", "chebyshev", "cosine")
MST_ALGORITHMS = ("auto", "boruvka", "prim", "approximate")
_LEAF_SIZE = 32


class _SparseGraph:
    """Parameter constraint: a scipy sparse matrix or array (without importing scipy.sparse)."""

    def is_satisfied_by(self, value: Any) -> bool:
        return hasattr(value, "tocsr") and hasattr(value, "shape")

    def __str__(self) -> str:
        return "a sparse matrix"


SPARSE = _SparseGraph()


# ----------------------------------------------------------------------------------------------
# trees
# ----------------------------------------------------------------------------------------------
def _kernel_metric(metric: str) -> float:
    from clusterlab.kernels.linkage import COSINE_METRIC

    return {"euclidean": 2.0, "manhattan": 1.0, "chebyshev": np.inf, "cosine": COSINE_METRIC}[
        metric
    ]


def _as_columns(X: np.ndarray, metric: str) -> np.ndarray:
    from clusterlab.cluster._spanning import unit_rows

    return np.ascontiguousarray((unit_rows(X) if metric == "cosine" else X).T)


def _condensed_tree(X: np.ndarray, method: str, metric: str) -> np.ndarray:
    """Complete / average / weighted linkage through the condensed distance matrix."""
    from clusterlab.kernels import linkage as lk

    n = X.shape[0]
    n_pairs = n * (n - 1) // 2
    check_memory(
        n_pairs * X.dtype.itemsize,
        what=f"{method} linkage of {n:,} points (a {X.dtype} condensed distance matrix)",
        alternative=(
            "pass connectivity= (a k-nearest-neighbour graph: O(n k) memory), use "
            "linkage='ward' or 'single', or Genie (all O(n d) memory), or cast X to float32 "
            "to halve the matrix"
        ),
    )
    D = np.empty(n_pairs, dtype=X.dtype)
    lk.condensed_distances(_as_columns(X, metric), _kernel_metric(metric), D)
    code = {"complete": lk.COMPLETE, "average": lk.AVERAGE, "weighted": lk.WEIGHTED}[method]
    x, y, height = lk.nn_chain_condensed(D, n, code)
    del D
    return lk.label_merges(x, y, height)


def _tree(X: np.ndarray, method: str, metric: str) -> tuple[np.ndarray, Any]:
    """scipy's linkage matrix of ``X`` and the spanning tree when ``method='single'``."""
    from clusterlab.kernels import linkage as lk

    if method == "ward":
        x, y, height = lk.nn_chain_ward(X, _LEAF_SIZE)
        return lk.label_merges(x, y, height), None
    if method in ("centroid", "median"):
        return lk.generic_centroid(X, lk.CENTROID if method == "centroid" else lk.MEDIAN), None
    if method == "single":
        from clusterlab.cluster._spanning import spanning_tree

        st = spanning_tree(X, M=1, metric=metric, algorithm="auto", leaf_size=_LEAF_SIZE)
        return lk.label_merges(st.a, st.b, st.weight), st
    return _condensed_tree(X, method, metric), None


def _knn_graph(X: np.ndarray, k: int, metric: str) -> Any:
    """The ``k`` nearest neighbours of every point (itself not counted), as a sparse graph."""
    import scipy.sparse as sp

    from clusterlab.cluster._spanning import METRICS, resolve_algorithm, unit_rows
    from clusterlab.kernels import kdtree, mst

    data = np.ascontiguousarray(unit_rows(X) if metric == "cosine" else X)
    n = data.shape[0]
    k = min(k + 1, n)
    p = METRICS[metric]
    if resolve_algorithm("auto", data.shape[1]) == "boruvka":
        _, ind = kdtree.query_knn(kdtree.build_kdtree(data, _LEAF_SIZE), data, k, p)
    else:
        ind, _ = mst.knn_brute(data, data, k, p)
    rows = np.repeat(np.arange(n), k)
    return sp.csr_array((np.ones(n * k), (rows, ind.ravel())), shape=(n, n))


def _connectivity_graph(
    X: np.ndarray, connectivity: Any, metric: str
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], int]:
    """scikit-learn's fixed connectivity: symmetric, no self-loops, and, when it has several
    components, completed (with a warning) by the closest pair of points between every two of
    them. Returns ``((indptr, indices, edge distances), components before completion)``."""
    import warnings

    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    from clusterlab.kernels import spanning, structured

    n = X.shape[0]
    if callable(connectivity):
        connectivity = connectivity(X)
    if isinstance(connectivity, numbers.Integral):
        graph = _knn_graph(X, int(connectivity), metric)
    else:
        graph = sp.csr_array(connectivity)
    if graph.shape != (n, n):
        raise ValueError(
            f"connectivity must be an (n_samples, n_samples) = ({n}, {n}) graph; got shape "
            f"{graph.shape}"
        )
    graph = sp.csr_array(graph + graph.T, dtype=np.float64)
    graph.setdiag(0)
    graph.eliminate_zeros()
    n_components, component = connected_components(graph, directed=False)
    if n_components > 1:
        warnings.warn(
            f"the number of connected components of the connectivity matrix is {n_components} "
            "> 1. Completing it to avoid stopping the tree early.",
            UserWarning,
            stacklevel=3,
        )
        from clusterlab.cluster._spanning import METRICS, unit_rows

        data = np.ascontiguousarray(unit_rows(X) if metric == "cosine" else X)
        best_i, best_j = structured.components_closest_pairs(
            data, component.astype(np.int64), n_components, METRICS[metric]
        )
        keep = best_i >= 0
        extra = sp.csr_array((np.ones(int(keep.sum())), (best_i[keep], best_j[keep])), shape=(n, n))
        graph = sp.csr_array(graph + extra + extra.T)
    graph.sort_indices()
    indptr = graph.indptr.astype(np.int64)
    indices = graph.indices.astype(np.int64)
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    if metric == "cosine":
        from clusterlab.cluster._spanning import unit_rows

        U = unit_rows(X).astype(np.float64)
        weights = np.maximum(0.0, 1.0 - np.einsum("ij,ij->i", U[rows], U[indices]))
    else:
        from clusterlab.cluster._spanning import METRICS

        weights = spanning.edge_distances(np.ascontiguousarray(X), rows, indices, METRICS[metric])
    return (indptr, indices, weights), n_components


def _structured_tree(
    X: np.ndarray, method: str, graph: tuple, n_merges: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from clusterlab.kernels import structured as st

    code = {
        "ward": st.S_WARD,
        "centroid": st.S_CENTROID,
        "median": st.S_MEDIAN,
        "single": st.S_SINGLE,
        "complete": st.S_COMPLETE,
        "average": st.S_AVERAGE,
        "weighted": st.S_WEIGHTED,
    }[method]
    return st.structured_linkage(graph, np.ascontiguousarray(X), code, n_merges)


def _heads_labels(children: np.ndarray, n: int) -> np.ndarray:
    """Labels of a partial tree: the cluster of each point after all its merges, numbered by
    the node ids of the clusters (scikit-learn's ``hc_get_heads`` numbering)."""
    from clusterlab.kernels.linkage import cut_labels

    top = np.arange(2 * n - 1, dtype=np.int64)
    heads = cut_labels(np.ascontiguousarray(children, dtype=np.int64), children.shape[0], top)
    return np.searchsorted(np.unique(heads), heads).astype(np.int64)


def _top_nodes(children: np.ndarray, n: int, n_clusters: int) -> list[int]:
    """The clusters of the top ``n_clusters``-cut, in scikit-learn's order (its ``_hc_cut``: undo
    the latest merges from the root, keeping the nodes in a heap by id; clusters are numbered
    by their place in the heap). For a partial tree (fewer than ``n - 1`` merges) they are the
    tops of its clusters, by node id, as :func:`_heads_labels` numbers them."""
    if children.shape[0] < n - 1:
        from clusterlab.kernels.linkage import cut_labels

        ids = np.arange(2 * n - 1, dtype=np.int64)
        heads = cut_labels(np.ascontiguousarray(children, dtype=np.int64), children.shape[0], ids)
        return np.unique(heads).tolist()
    nodes = [-(2 * n - 2)]
    for _ in range(n_clusters - 1):
        c0, c1 = children[-nodes[0] - n]
        heapq.heappush(nodes, -int(c0))
        heapq.heappushpop(nodes, -int(c1))
    return [-node for node in nodes]


def cut_tree(children: np.ndarray, n: int, n_clusters: int) -> np.ndarray:
    """Labels of the ``n_clusters`` clusters left after the first ``n - n_clusters`` merges."""
    from clusterlab.kernels.linkage import cut_labels

    top_label = np.full(2 * n - 1, -1, dtype=np.int64)
    for label, node in enumerate(_top_nodes(children, n, n_clusters)):
        top_label[node] = label
    return cut_labels(np.ascontiguousarray(children, dtype=np.int64), n - n_clusters, top_label)


def _clusters_at(distances: np.ndarray, distance: float) -> int:
    """scikit-learn's ``distance_threshold`` rule: merges at heights >= the threshold are undone."""
    return int(np.count_nonzero(distances >= distance)) + 1


def _check_cut(n_clusters: Any, distance: Any, n: int) -> int | None:
    if (n_clusters is None) == (distance is None):
        raise ValueError(
            "cut needs exactly one of n_clusters and distance; got "
            f"n_clusters={n_clusters!r}, distance={distance!r}"
        )
    if n_clusters is not None:
        if (
            isinstance(n_clusters, bool)
            or not isinstance(n_clusters, numbers.Integral)
            or not 1 <= n_clusters <= n
        ):
            raise ValueError(f"n_clusters must be an int in [1, n_samples={n}]; got {n_clusters!r}")
        return int(n_clusters)
    if isinstance(distance, bool) or not isinstance(distance, numbers.Real) or np.isnan(distance):
        raise ValueError(f"distance must be a number; got {distance!r}")
    return None


class _TreeMixin:
    """What both estimators share once ``children_``, ``distances_`` and ``n_leaves_`` exist."""

    def _set_tree(self, Z: np.ndarray) -> None:
        self.linkage_matrix_ = Z
        self.children_ = Z[:, :2].astype(np.int64)
        self.distances_ = np.ascontiguousarray(Z[:, 2])
        self.counts_ = Z[:, 3].astype(np.int64)

    def _keep_rows(self, X: np.ndarray, *, owned: bool = False) -> None:
        """Keep the training rows so that predict gives a training row its label; ``owned``:
        ``X`` belongs to the model (never the caller's array), so it is sorted only at the first
        predict (the sort is up to a tenth of a Genie fit at 2 features)."""
        from clusterlab.cluster._exact_rows import RowIndex

        self._row_index = RowIndex(X, lazy=owned)

    def _predict_rows(self, X: np.ndarray, rule: Any) -> np.ndarray:
        """``labels_`` of the training row equal to each row of ``X``, ``rule(rows)`` for the
        rows that equal none."""
        index = self.__dict__.get("_row_index")
        if index is None:  # a model saved before RowIndex kept the sorted rows as two arrays
            from clusterlab.cluster._exact_rows import match_rows

            match = match_rows(self._rows, self._row_order, X)
        else:
            match = index.match(X)
        known = match >= 0
        out = np.empty(X.shape[0], dtype=np.int64)
        out[known] = self.labels_[match[known]]
        if not known.all():
            out[~known] = rule(np.ascontiguousarray(X[~known]))
        return out

    def cut(self, n_clusters: int | None = None, distance: float | None = None) -> np.ndarray:
        """Labels of another cut of the fitted tree, without refitting.

        Parameters
        ----------
        n_clusters : int, optional
            Cut into this many clusters (undo the ``n_clusters - 1`` latest merges).
        distance : float, optional
            Cut at this height: merges at heights ``>= distance`` are undone (scikit-learn's
            ``distance_threshold`` rule). Exactly one of the two is given.

        Returns
        -------
        ndarray of shape (n_samples,), int64
            Numbered as scikit-learn numbers ``AgglomerativeClustering``'s labels.
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "children_")
        n = self.n_leaves_
        if self.children_.shape[0] < n - 1:
            raise ValueError(
                "cut needs the whole tree; this model stopped at n_clusters="
                f"{self.n_clusters_}: fit it with compute_full_tree=True"
            )
        k = _check_cut(n_clusters, distance, n)
        if k is None:
            k = _clusters_at(self.distances_, float(distance))
        return cut_tree(self.children_, n, k)


# ----------------------------------------------------------------------------------------------
# AgglomerativeClustering
# ----------------------------------------------------------------------------------------------
class AgglomerativeClustering(_TreeMixin, ParamsMixin, ClusterMixin, BaseEstimator):
    """Agglomerative hierarchical clustering: every classical linkage, in little memory.

    Parameters
    ----------
    n_clusters : int or None, default=2
        Clusters of the cut; None when ``distance_threshold`` is given.
    linkage : {"ward", "complete", "average", "single", "weighted", "centroid", "median"}, \
default="ward"
        ``ward`` (minimum increase of the within-cluster sum of squares), ``centroid``
        (distance between centroids) and ``median`` (WPGMC) need euclidean distances and run
        on the vectors in O(n d) memory; ``single`` walks a minimum spanning tree, O(n d);
        ``complete``, ``average`` and ``weighted`` (WPGMA) keep a condensed distance matrix in
        X's dtype (``n (n - 1) / 2`` numbers: pass float32 data to halve it), checked against
        ``clusterlab.get_config()["memory_budget"]`` first.
    metric : {"euclidean", "manhattan", "chebyshev", "cosine"}, default="euclidean"
        Distance between points (``cosine``: ``1 - cos``, rows must not be all zero).
    distance_threshold : float or None, default=None
        Cut the tree at this height instead: merges at heights ``>= distance_threshold`` are
        undone (scikit-learn's rule). Needs ``n_clusters=None``.
    connectivity : int, sparse matrix, array-like, callable or None, default=None
        Only clusters joined by an edge of this graph may merge (scikit-learn's structured
        clustering), in O(n k) memory for every linkage: an ``(n_samples, n_samples)`` graph,
        a callable that makes one from ``X``, or an int ``k`` for the graph of every point's
        ``k`` nearest neighbours. The graph is made symmetric; when it has several components a
        warning says so and the closest pair of points between every two components is added,
        as scikit-learn does. ``ward``, ``centroid`` and ``median`` then measure clusters by
        their representatives; ``single``, ``complete``, ``average`` and ``weighted`` by the
        distances along the graph's edges only (scikit-learn's rule).
    compute_full_tree : "auto" or bool, default="auto"
        With ``connectivity``, ``False`` stops merging at ``n_clusters`` (no
        ``linkage_matrix_``, no :meth:`cut`); ``"auto"`` builds the whole tree when
        ``distance_threshold`` is given or ``n_clusters < max(100, 0.02 n_samples)``, as
        scikit-learn. Without ``connectivity`` the whole tree is always built (the algorithms
        cost the same), so that :meth:`cut` gives any other cut. ``False`` with
        ``distance_threshold`` is an error, as in scikit-learn.
    n_jobs : int or None, default=None
        Threads for the parallel kernels (None: numba's current setting).

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,), int64
    n_clusters_ : int
    children_ : ndarray of shape (n_samples - 1, 2), int64
        Merge ``i`` joins ``children_[i]`` into node ``n_samples + i`` (points are
        ``0..n_samples-1``); smaller id first, as scipy writes it.
    distances_ : ndarray of shape (n_samples - 1,)
        Merge heights (scipy's: the distance between two points for every linkage; ward's is
        ``sqrt(2 |A| |B| / (|A| + |B|)) * ||c_A - c_B||``). Non-decreasing except for
        ``centroid`` and ``median``, which have inversions.
    counts_ : ndarray of shape (n_samples - 1,), int64
        Size of each merged cluster.
    linkage_matrix_ : ndarray of shape (n_samples - 1, 4)
        ``[children_, distances_, counts_]`` as ``scipy.cluster.hierarchy.linkage`` returns it
        (rows in merge order: heights may decrease for centroid, median and trees restricted by
        ``connectivity``). Absent when the tree stopped early.
    n_leaves_ : int
    n_connected_components_ : int
        Components of the connectivity graph before it was completed (1 without one).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had string column names.

    Notes
    -----
    Ties are broken as scipy breaks them (for every linkage but ``single``, whose tree is
    unique only up to equal weights), so the merge heights equal scipy's and the labels of
    any cut between distinct heights are scipy's partition.

    :meth:`predict` gives a point equal to a training point that point's label (so the
    training data fed back gets ``labels_``) and other points the rule of the linkage:
    ``ward`` and ``centroid``
    -- the nearest cluster centroid; ``median`` -- the nearest cluster representative (the
    WPGMC midpoints); ``single`` -- the cluster of the nearest training point; ``complete``,
    ``average`` and ``weighted`` -- the cluster at the smallest linkage distance from the point
    (the largest, the mean and the WPGMA-weighted mean of its distances to the members). The
    last three scan every training point (O(n d) per new point).

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import AgglomerativeClustering
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [5.0, 5.0], [5.0, 6.0], [9.0, 0.0]])
    >>> model = AgglomerativeClustering(n_clusters=2).fit(X)
    >>> model.labels_.tolist()
    [1, 1, 0, 0, 0]
    >>> model.cut(n_clusters=3).tolist()
    [1, 1, 0, 0, 2]
    >>> model.predict([[0.5, 0.5], [6.0, 5.0]]).tolist()
    [1, 0]
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_clusters": [Interval(numbers.Integral, 1, None), NONE],
        "linkage": [Options(*LINKAGES)],
        "metric": [Options(*METRICS)],
        "distance_threshold": [Interval(numbers.Real, None, None), NONE],
        "connectivity": [Interval(numbers.Integral, 1, None), SPARSE, ARRAY_LIKE, CALLABLE, NONE],
        "compute_full_tree": [Options("auto"), BOOLEAN],
        "n_jobs": [Interval(numbers.Integral, None, None), NONE],
    }

    def __init__(
        self,
        n_clusters: int | None = 2,
        *,
        linkage: str = "ward",
        metric: str = "euclidean",
        distance_threshold: float | None = None,
        connectivity: Any = None,
        compute_full_tree: str | bool = "auto",
        n_jobs: int | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.linkage = linkage
        self.metric = metric
        self.distance_threshold = distance_threshold
        self.connectivity = connectivity
        self.compute_full_tree = compute_full_tree
        self.n_jobs = n_jobs

    def _check_params(self, n: int) -> None:
        self._validate_params()
        if (self.n_clusters is None) == (self.distance_threshold is None):
            raise ValueError(
                "Exactly one of n_clusters and distance_threshold has to be set, and the other "
                f"needs to be None; got n_clusters={self.n_clusters!r}, "
                f"distance_threshold={self.distance_threshold!r}"
            )
        if self.distance_threshold is not None and self.compute_full_tree is False:
            raise ValueError("compute_full_tree must be True if distance_threshold is set")
        if self.linkage in EUCLIDEAN_ONLY and self.metric != "euclidean":
            raise ValueError(
                f"linkage={self.linkage!r} needs metric='euclidean' (it is defined on "
                f"centroids); got metric={self.metric!r}"
            )
        if self.n_clusters is not None and self.n_clusters > n:
            raise ValueError(
                f"n_clusters must be an int in [1, n_samples={n}]; got {self.n_clusters} "
                "(cannot extract more clusters than samples)"
            )

    def fit(self, X: Any, y: Any = None) -> AgglomerativeClustering:
        """Build the tree of ``X`` and cut it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            At least 2 samples; float32 stays float32.
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        X = check_data(self, X, ensure_min_samples=2)
        n = X.shape[0]
        self._check_params(n)
        spanning = None
        with threads(self.n_jobs):
            if self.connectivity is None:
                Z, spanning = _tree(X, self.linkage, self.metric)
                self.n_connected_components_ = 1
            else:
                graph, self.n_connected_components_ = _connectivity_graph(
                    X, self.connectivity, self.metric
                )
                n_merges = n - 1 if self._full_tree(n) else n - int(self.n_clusters)
                left, right, height, size = _structured_tree(X, self.linkage, graph, n_merges)
                Z = np.column_stack([left, right, height, size]).astype(np.float64)
        self.n_leaves_ = n
        self._set_tree(Z)
        if Z.shape[0] < n - 1:
            # a partial tree (compute_full_tree=False): no linkage matrix, no other cuts
            del self.linkage_matrix_
            self.n_clusters_ = int(self.n_clusters)
            self.labels_ = _heads_labels(self.children_, n)
        else:
            if self.distance_threshold is not None:
                self.n_clusters_ = _clusters_at(self.distances_, float(self.distance_threshold))
            else:
                self.n_clusters_ = int(self.n_clusters)
            self.labels_ = cut_tree(self.children_, n, self.n_clusters_)
        self._prepare_predict(X, spanning)
        self._keep_rows(X)
        return self

    def _full_tree(self, n: int) -> bool:
        """scikit-learn's rule for a tree restricted by a connectivity graph."""
        if self.distance_threshold is not None or self.compute_full_tree is True:
            return True
        if self.compute_full_tree is False:
            return False
        return self.n_clusters < max(100, 0.02 * n)

    # ------------------------------------------------------------------------------------------
    # new points
    # ------------------------------------------------------------------------------------------
    def _prepare_predict(self, X: np.ndarray, spanning: Any) -> None:
        """Keep what :meth:`predict` needs for the fitted cut."""
        k = self.n_clusters_
        self._spanning = spanning
        self._centers = None
        self._columns = None
        self._weights = None
        if self.linkage in ("ward", "centroid"):
            sums = np.zeros((k, X.shape[1]))
            np.add.at(sums, self.labels_, X)
            self._centers = sums / np.bincount(self.labels_, minlength=k)[:, None]
        elif self.linkage == "median":
            self._centers = _median_representatives(X, self.children_, k)
        elif spanning is None:
            self._columns = _as_columns(X, self.metric)
            if self.linkage == "average":
                self._weights = 1.0 / np.bincount(self.labels_, minlength=k)[self.labels_]
            elif self.linkage == "weighted":
                self._weights = _wpgma_weights(self.children_, X.shape[0], k)
            else:
                self._weights = np.ones(X.shape[0])

    def predict(self, X: Any) -> np.ndarray:
        """Cluster of each new point by the rule of the linkage (see the class notes).

        Parameters
        ----------
        X : array-like of shape (n_new, n_features)

        Returns
        -------
        ndarray of shape (n_new,), int64
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "labels_")
        X = check_data(self, X, reset=False)
        with threads(self.n_jobs):
            return self._predict_rows(X, self._predict_new)

    def _predict_new(self, X: np.ndarray) -> np.ndarray:
        """The linkage's rule for points that are not training points."""
        from clusterlab.kernels import linkage as lk

        k = self.n_clusters_
        if self._centers is not None:
            centers = np.ascontiguousarray(self._centers.T)
            return lk.linkage_predict(X, centers, np.arange(k), np.ones(k), k, lk.PREDICT_MIN, 2.0)
        if self._spanning is not None:
            return self.labels_[_attach(self._spanning, X)]
        mode = {"complete": lk.PREDICT_MAX, "single": lk.PREDICT_MIN}.get(
            self.linkage, lk.PREDICT_MEAN
        )
        Q = X
        if self.metric == "cosine":
            from clusterlab.cluster._spanning import unit_rows

            Q = unit_rows(X)
        return lk.linkage_predict(
            np.ascontiguousarray(Q),
            self._columns,
            self.labels_,
            self._weights,
            k,
            mode,
            _kernel_metric(self.metric),
        )


def _median_representatives(X: np.ndarray, children: np.ndarray, k: int) -> np.ndarray:
    """WPGMC representative of each cluster: a point is itself; a merge is the midpoint of its
    two parts' representatives."""
    n = X.shape[0]
    rep = np.empty((2 * n - 1, X.shape[1]))
    rep[:n] = X
    for i, (c0, c1) in enumerate(children):
        rep[n + i] = 0.5 * (rep[c0] + rep[c1])
    top = _top_nodes(children, n, k)
    return rep[np.asarray(top, dtype=np.int64)]


def _wpgma_weights(children: np.ndarray, n: int, k: int) -> np.ndarray:
    """Weight of each point in its cluster's WPGMA distance: ``d(x, A u B) = (d(x, A) +
    d(x, B)) / 2``, so a point ``depth`` merges below the top of its cluster weighs
    ``2 ** -depth``."""
    depth = np.zeros(2 * n - 1, dtype=np.int64)
    # walk down from the latest merge kept by the cut: a parent before its children
    for i in range(n - k - 1, -1, -1):
        depth[children[i]] = depth[n + i] + 1
    return np.exp2(-depth[:n].astype(np.float64))


def _attach(spanning: Any, X: np.ndarray) -> np.ndarray:
    """Training point each new point would join in the spanning tree (see
    :func:`clusterlab.kernels.prim.attach_points`)."""
    from clusterlab.cluster._spanning import unit_rows

    Q = np.ascontiguousarray(unit_rows(X) if spanning.cosine else X)
    # the tree's core distances are in the user's metric; the kernels compare kernel distances
    core = np.sqrt(2.0 * spanning.core) if spanning.cosine else spanning.core
    if spanning.kdtree is None:
        from clusterlab.kernels import prim

        return prim.attach_points(Q, np.ascontiguousarray(spanning.data.T), core, spanning.p)
    from clusterlab.kernels.kdtree import KDTree

    return _attach_kdtree(KDTree(*spanning.kdtree), Q, core, spanning.p)


def _attach_kdtree(tree: tuple, Q: np.ndarray, core: np.ndarray, p: float) -> np.ndarray:
    """:func:`_attach` by k-nearest queries: the best of the ``k`` nearest is exact once its
    mutual reachability distance is at most the ``k``-th distance; the others ask for more."""
    from clusterlab.kernels import kdtree

    n = core.shape[0]
    out = np.empty(Q.shape[0], dtype=np.int64)
    todo = np.arange(Q.shape[0])
    k = 1 if not np.any(core > 0) else min(n, 8)
    while todo.size:
        dist, ind = kdtree.query_knn(tree, np.ascontiguousarray(Q[todo]), k, p)
        value = np.maximum(dist, core[ind])
        pick = np.lexsort((ind, dist, value), axis=1)[:, 0] if k > 1 else np.zeros(todo.size, int)
        rows = np.arange(todo.size)
        best = value[rows, pick]
        done = (best <= dist[:, -1]) | (k == n)
        out[todo[done]] = ind[rows, pick][done]
        todo = todo[~done]
        k = min(n, 4 * k)
    return out


# ----------------------------------------------------------------------------------------------
# Genie
# ----------------------------------------------------------------------------------------------
class Genie(_TreeMixin, ParamsMixin, ClusterMixin, BaseEstimator):
    """Genie: hierarchical clustering that keeps cluster sizes from becoming too unequal.

    Genie (Gagolewski, Bartoszuk and Cena, Information Sciences 363, 2016) merges along the
    edges of a minimum spanning tree in increasing order of weight, as single linkage does,
    except that while the Gini index of the cluster sizes exceeds ``gini_threshold`` the next
    merge joins a smallest cluster to its nearest neighbour along the tree. It is outlier
    resistant, finds clusters of any shape and is among the best methods on the clustering
    benchmark suite.

    Parameters
    ----------
    n_clusters : int, default=2
    gini_threshold : float in [0, 1], default=0.3
        1.0 turns the correction off (single linkage, for ``M <= 1``); small values force
        clusters of more equal sizes. 0.1, 0.3, 0.5 and 0.7 are worth trying.
    M : int, default=1
        Smoothing factor: ``M <= 1`` uses the distances themselves, ``M > 1`` the mutual
        reachability distance ``max(d(i, j), c(i), c(j))`` of HDBSCAN*, where ``c(i)`` is the
        distance from ``i`` to its ``M``-th nearest neighbour, the point itself not counted
        (genieclust's convention since 1.3; HDBSCAN's ``min_samples = M + 1``). It pulls
        outliers away from the clusters.
    metric : {"euclidean", "manhattan", "chebyshev", "cosine"}, default="euclidean"
    mst_algorithm : {"auto", "boruvka", "prim", "approximate"}, default="auto"
        ``"boruvka"``: parallel Borůvka on a kd-tree (the spanning tree HDBSCAN builds), for few
        features; ``"prim"``: the exact parallel Prim with distances computed on the fly,
        O(n^2 d) time and O(n d) memory, for many features; ``"auto"`` picks between these two
        by the number of features. ``"approximate"``, for many points in many dimensions: the
        minimum spanning forest of an approximate 10-nearest-neighbour graph
        (random-projection trees, then NN-descent), its components joined by short edges
        found from samples of their points; not a minimum tree, but close where it matters
        (within a cluster the tree follows nearest neighbours). Deterministic.
    n_jobs : int or None, default=None
        Threads for the spanning tree (None: numba's current setting).

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,), int64
    n_clusters_ : int
    children_ : ndarray of shape (n_samples - 1, 2), int64
        Merges in Genie's order (merge ``i`` creates node ``n_samples + i``), smaller id first.
    distances_ : ndarray of shape (n_samples - 1,)
        Weight of the tree edge of each merge, made non-decreasing from the top
        (``min(distances[i:])``, as genieclust does): Genie's forced merges may use heavier
        edges before lighter ones.
    counts_ : ndarray of shape (n_samples - 1,), int64
    linkage_matrix_ : ndarray of shape (n_samples - 1, 4)
        scipy's layout (for ``scipy.cluster.hierarchy.dendrogram``).
    n_leaves_ : int
    core_distances_ : ndarray of shape (n_samples,)
        Distance to the ``M``-th nearest neighbour (zeros when ``M <= 1``).
    mst_ : tuple of three ndarrays
        The minimum spanning tree ``(a, b, weight)``, sorted by weight.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had string column names.

    Notes
    -----
    The whole hierarchy is built once: :meth:`cut` gives any other number of clusters and
    :meth:`refit` another ``n_clusters`` or ``gini_threshold`` from the cached spanning tree,
    in milliseconds. With ``M > 1`` many trees are minimal (mutual reachability ties whole
    neighbourhoods); the one used prefers, between equal weights, the smaller raw distance.

    :meth:`predict` gives a point equal to a training point that point's label, and any other
    point the label of the training point it would join in the spanning tree: the one
    minimising ``max(d(x, j), c(j))`` (the nearest training point when ``M <= 1``).

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import Genie
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 0.3, (50, 2)), rng.normal(5, 0.3, (50, 2))])
    >>> model = Genie(n_clusters=2).fit(X)
    >>> np.bincount(model.labels_).tolist()
    [50, 50]
    >>> model.predict([[0.1, 0.0], [5.0, 5.1]]).tolist() == model.labels_[[0, 50]].tolist()
    True
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_clusters": [Interval(numbers.Integral, 1, None)],
        "gini_threshold": [Interval(numbers.Real, 0, 1)],
        "M": [Interval(numbers.Integral, 0, None)],
        "metric": [Options(*METRICS)],
        "mst_algorithm": [Options(*MST_ALGORITHMS)],
        "n_jobs": [Interval(numbers.Integral, None, None), NONE],
    }

    def __init__(
        self,
        n_clusters: int = 2,
        *,
        gini_threshold: float = 0.3,
        M: int = 1,
        metric: str = "euclidean",
        mst_algorithm: str = "auto",
        n_jobs: int | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.gini_threshold = gini_threshold
        self.M = M
        self.metric = metric
        self.mst_algorithm = mst_algorithm
        self.n_jobs = n_jobs

    def fit(self, X: Any, y: Any = None) -> Genie:
        """Build the spanning tree of ``X``, the Genie hierarchy, and cut it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            At least 2 samples; float32 stays float32.
        y : ignored

        Returns
        -------
        self
        """
        from clusterlab.cluster._spanning import spanning_tree

        self._validate_params()
        X = check_data(self, X, ensure_min_samples=2)
        n = X.shape[0]
        self._check_n_clusters(n)
        if n <= self.M:
            raise ValueError(f"M must be an int in [0, n_samples - 1={n - 1}]; got {self.M}")
        with threads(self.n_jobs):
            self._spanning = spanning_tree(
                X, M=int(self.M), metric=self.metric, algorithm=self.mst_algorithm,
                leaf_size=_LEAF_SIZE,
            )  # fmt: skip
        st = self._spanning
        self.mst_ = (st.a, st.b, st.weight)
        self.core_distances_ = st.core
        self.n_leaves_ = n
        self._merge()
        # the tree keeps a copy of the rows, but for cosine (unit rows)
        self._keep_rows(X if st.cosine else st.data, owned=not st.cosine)
        return self

    def _check_n_clusters(self, n: int) -> None:
        if self.n_clusters > n:
            raise ValueError(
                f"n_clusters must be an int in [1, n_samples={n}]; got {self.n_clusters}"
            )

    def _merge(self) -> None:
        """The Genie hierarchy of the cached tree for the current threshold, and its cut."""
        from clusterlab.kernels.genie import genie_merges

        st = self._spanning
        edge, left, right, size = genie_merges(st.a, st.b, float(self.gini_threshold))
        height = np.minimum.accumulate(st.weight[edge][::-1])[::-1]
        Z = np.column_stack([left, right, height, size]).astype(np.float64)
        self._set_tree(Z)
        self.n_clusters_ = int(self.n_clusters)
        self.labels_ = cut_tree(self.children_, self.n_leaves_, self.n_clusters_)

    def refit(self, *, n_clusters: int | None = None, gini_threshold: float | None = None) -> Genie:
        """Change ``n_clusters`` and/or ``gini_threshold`` and redo the fit from the cached
        spanning tree (milliseconds; the tree does not depend on either).

        Returns
        -------
        self
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "labels_")
        changes = {
            name: value
            for name, value in (("n_clusters", n_clusters), ("gini_threshold", gini_threshold))
            if value is not None
        }
        old = self.get_params(deep=False)
        self.set_params(**changes)
        try:
            self._validate_params()
            self._check_n_clusters(self.n_leaves_)
        except ValueError:
            self.set_params(**{name: old[name] for name in changes})
            raise
        if "gini_threshold" in changes:
            self._merge()
        else:
            self.n_clusters_ = int(self.n_clusters)
            self.labels_ = cut_tree(self.children_, self.n_leaves_, self.n_clusters_)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Label of the training point each new point would join in the spanning tree.

        Parameters
        ----------
        X : array-like of shape (n_new, n_features)

        Returns
        -------
        ndarray of shape (n_new,), int64
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "labels_")
        X = check_data(self, X, reset=False)
        with threads(self.n_jobs):
            return self._predict_rows(X, lambda Q: self.labels_[_attach(self._spanning, Q)])


# ----------------------------------------------------------------------------------------------
# the function form
# ----------------------------------------------------------------------------------------------
def linkage(
    X: Any, method: str = "ward", metric: str = "euclidean", *, n_jobs: int | None = None
) -> np.ndarray:
    """Hierarchical clustering of observation vectors as scipy's linkage matrix.

    A drop-in for ``scipy.cluster.hierarchy.linkage(X, method, metric)`` and
    ``fastcluster.linkage_vector`` on a 2-D array of observations: the same matrix (merge
    heights, cluster ids, sizes and ties as scipy's), in O(n d) memory for ``ward``,
    ``centroid``, ``median`` and ``single``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        At least 2 samples (a condensed distance matrix is not accepted: pass the vectors).
    method : str, default="ward"
        One of ``AgglomerativeClustering``'s linkages.
    metric : {"euclidean", "manhattan", "chebyshev", "cosine"}, default="euclidean"
    n_jobs : int or None, default=None

    Returns
    -------
    ndarray of shape (n_samples - 1, 4)

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import linkage
    >>> linkage(np.array([[0.0], [1.0], [5.0]]), "single").tolist()
    [[0.0, 1.0, 1.0, 2.0], [2.0, 3.0, 4.0, 3.0]]
    """
    if np.ndim(X) == 1:
        raise ValueError(
            "X must be a 2-D array of observations (n_samples, n_features); got a 1-D array "
            "(for a condensed distance matrix use scipy.cluster.hierarchy.linkage)"
        )
    model = AgglomerativeClustering(1, linkage=method, metric=metric, n_jobs=n_jobs)
    return model.fit(X).linkage_matrix_
