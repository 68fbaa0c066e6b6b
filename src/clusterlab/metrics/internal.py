"""Internal validity indices: how compact and separated the clusters of a labeling are.

Noise rule (the same in every function here): points labelled ``NOISE`` (-1) belong to no
cluster and are left out of every index; ``silhouette_samples`` gives them NaN. DBCV keeps its
published definition, in which each cluster is weighted by its share of *all* points, so noise
lowers it. Input where every point is noise raises a ``ValueError``; so does a labeling with too
few clusters for the index (all but ``inertia``, which is defined for one cluster, need at least
2 clusters, and the silhouette-type indices at most ``n_samples - 1``, as in scikit-learn).

Costs: ``inertia``, ``calinski_harabasz_score``, ``davies_bouldin_score``, ``bic_score`` and
``aic_score`` are O(n d); ``simplified_silhouette_score`` is O(n k d); ``silhouette_score``,
``dunn_index`` and ``dbcv_score`` are exact O(n^2 d) in time but O(n) in memory (numba kernels in
:mod:`clusterlab.kernels`), and take ``sample_size`` to score a random subset instead.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from clusterlab._base import NOISE
from clusterlab._config import threads

__all__ = [
    "aic_score",
    "bic_score",
    "calinski_harabasz_score",
    "davies_bouldin_score",
    "dbcv_score",
    "dunn_index",
    "inertia",
    "silhouette_samples",
    "silhouette_score",
    "simplified_silhouette_score",
]


def _check_X(X: Any) -> np.ndarray:
    from sklearn.utils import check_array

    if isinstance(X, str):
        raise TypeError("X must be a 2-D array-like of numbers; got a string")
    return check_array(X, dtype=[np.float64, np.float32], ensure_min_samples=1)


def _check_labels(labels: Any, n_samples: int) -> np.ndarray:
    if isinstance(labels, str):
        raise TypeError("labels must be a 1-D array-like; got a string")
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != n_samples:
        raise ValueError(
            f"labels must be 1-D with one label per row of X ({n_samples}); "
            f"got shape {labels.shape}"
        )
    return labels


def _clustered(labels: np.ndarray) -> np.ndarray:
    if labels.dtype.kind in "iuf":
        return labels != NOISE
    return np.ones(labels.shape[0], dtype=bool)


def _prepare(
    X: Any,
    labels: Any,
    what: str,
    *,
    min_clusters: int = 2,
    max_clusters_rule: bool = False,
    sample_size: int | None = None,
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """Validate, drop noise, optionally sample; return X, codes 0..k-1, k and the kept rows."""
    X = _check_X(X)
    labels = _check_labels(labels, X.shape[0])
    kept = np.flatnonzero(_clustered(labels))
    if kept.size == 0:
        raise ValueError(f"{what}: every point is noise (-1); there is no cluster to score")
    if sample_size is not None:
        if isinstance(sample_size, bool) or not isinstance(sample_size, int | np.integer):
            raise ValueError(f"sample_size must be None or an int >= 2; got {sample_size!r}")
        if sample_size < 2:
            raise ValueError(f"sample_size must be None or an int >= 2; got {sample_size}")
        if sample_size < kept.size:
            from sklearn.utils import check_random_state

            rng = check_random_state(random_state)
            kept = kept[rng.permutation(kept.size)[:sample_size]]
    Xk = X[kept]
    codes = np.unique(labels[kept], return_inverse=True)[1].astype(np.int64).ravel()
    k = int(codes.max()) + 1
    n = Xk.shape[0]
    if k < min_clusters or (max_clusters_rule and k > n - 1):
        upper = "n_samples - 1" if max_clusters_rule else "n_samples"
        raise ValueError(
            f"{what} needs between {min_clusters} and {upper} clusters among the non-noise "
            f"points; got {k} cluster(s) on {n} point(s)"
        )
    return Xk, codes, k, kept


def _sorted_layout(X: np.ndarray, codes: np.ndarray, k: int):
    """Points ordered by cluster, transposed for the kernels: (XT, sorted codes, offsets, order)."""
    order = np.argsort(codes, kind="stable")
    XT = np.ascontiguousarray(X[order].T)
    offsets = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(np.bincount(codes, minlength=k), out=offsets[1:])
    return XT, np.ascontiguousarray(codes[order]), offsets, order


def _centroids(X: np.ndarray, codes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    sizes = np.bincount(codes, minlength=k)
    sums = np.zeros((k, X.shape[1]))
    np.add.at(sums, codes, X)
    return sums / sizes[:, None], sizes


def _silhouette_values(X: np.ndarray, codes: np.ndarray, k: int, metric: str) -> np.ndarray:
    if metric == "precomputed":
        return _silhouette_precomputed(X, codes, k)
    from clusterlab.kernels.silhouette import silhouette_sorted

    XT, sorted_codes, offsets, order = _sorted_layout(X, codes, k)
    values = np.empty(X.shape[0])
    silhouette_sorted(XT, sorted_codes, offsets, values)
    out = np.empty_like(values)
    out[order] = values
    return out


def _silhouette_precomputed(D: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    if D.shape[0] != D.shape[1]:
        raise ValueError(
            f"X must be a square distance matrix for metric='precomputed'; got {D.shape}"
        )
    if np.any(np.diagonal(D) != 0):
        raise ValueError("X must have a zero diagonal for metric='precomputed'")
    onehot = np.zeros((codes.size, k))
    onehot[np.arange(codes.size), codes] = 1.0
    sums = D @ onehot
    sizes = onehot.sum(axis=0)
    own = sizes[codes]
    rows = np.arange(codes.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = sums[rows, codes] / (own - 1)
        means = sums / sizes
        means[rows, codes] = np.inf
        b = means.min(axis=1)
        s = (b - a) / np.maximum(a, b)
    return np.where(own > 1, np.nan_to_num(s), 0.0)


def _check_metric(metric: str) -> None:
    if metric not in ("euclidean", "precomputed"):
        raise ValueError(f"metric must be 'euclidean' or 'precomputed'; got {metric!r}")


def silhouette_samples(
    X: Any, labels: Any, *, metric: str = "euclidean", n_jobs: int | None = None
) -> np.ndarray:
    """Exact silhouette coefficient of each point, without an n x n distance matrix.

    ``s = (b - a) / max(a, b)`` where ``a`` is the point's mean distance to the other members of
    its cluster and ``b`` its smallest mean distance to the members of another cluster; 0 for a
    point alone in its cluster. A numba kernel runs over tiles of points in parallel, in
    O(n^2 d) time and O(n) extra memory; float32 input is read as is and accumulated in float64.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data (a square distance matrix with ``metric="precomputed"``).
    labels : array-like of shape (n_samples,)
        Cluster labels; ``-1`` is noise.
    metric : {"euclidean", "precomputed"}
        Distance between points.
    n_jobs : int, optional
        Threads for the kernel (``None``: numba's current setting).

    Returns
    -------
    ndarray of float64, shape (n_samples,)
        The coefficients, NaN for noise points.

    Raises
    ------
    ValueError
        When the non-noise points form fewer than 2 or more than ``n_samples - 1`` clusters.

    Examples
    --------
    >>> from clusterlab.metrics import silhouette_samples
    >>> s = silhouette_samples([[0.0], [0.1], [5.0], [5.2]], [0, 0, 1, 1])
    >>> bool(s.min() > 0.9)
    True
    """
    _check_metric(metric)
    Xk, codes, k, kept = _prepare(X, labels, "silhouette_samples", max_clusters_rule=True)
    if metric == "precomputed":
        Xk = Xk[:, kept]
    with threads(n_jobs):
        values = _silhouette_values(Xk, codes, k, metric)
    out = np.full(np.shape(labels)[0], np.nan)
    out[kept] = values
    return out


def silhouette_score(
    X: Any,
    labels: Any,
    *,
    metric: str = "euclidean",
    sample_size: int | None = None,
    random_state: Any = None,
    n_jobs: int | None = None,
) -> float:
    """Mean exact silhouette coefficient over the non-noise points (see silhouette_samples).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data (a square distance matrix with ``metric="precomputed"``).
    labels : array-like of shape (n_samples,)
        Cluster labels; noise points (-1) are left out.
    metric : {"euclidean", "precomputed"}
        Distance between points.
    sample_size : int, optional
        Score a random subset of this many non-noise points (drawn as scikit-learn does, so the
        same ``random_state`` picks the same points when there is no noise).
    random_state : int, RandomState or None
        Seed for ``sample_size``.
    n_jobs : int, optional
        Threads for the kernel.

    Returns
    -------
    float
        In [-1, 1]; higher is better.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from clusterlab.metrics import silhouette_score
    >>> X, y = make_blobs(n_samples=200, centers=3, random_state=0)
    >>> round(silhouette_score(X, y), 3)
    0.479
    """
    _check_metric(metric)
    Xk, codes, k, kept = _prepare(
        X,
        labels,
        "silhouette_score",
        max_clusters_rule=True,
        sample_size=sample_size,
        random_state=random_state,
    )
    if metric == "precomputed":
        Xk = Xk[:, kept]
    with threads(n_jobs):
        return float(np.mean(_silhouette_values(Xk, codes, k, metric)))


def simplified_silhouette_score(X: Any, labels: Any) -> float:
    """Simplified (centroid) silhouette: distances to cluster means instead of to all members.

    ``a`` is a point's distance to its own cluster's mean, ``b`` the distance to the nearest
    other mean; the score is the mean of ``(b - a) / max(a, b)`` (0 for singletons, as in the
    exact silhouette). O(n k d) time, O(n k) memory: the cheap stand-in for large data.

    Examples
    --------
    >>> from clusterlab.metrics import simplified_silhouette_score
    >>> round(simplified_silhouette_score([[0.0], [0.2], [5.0], [5.2]], [0, 0, 1, 1]), 3)
    0.98
    """
    Xk, codes, k, _ = _prepare(X, labels, "simplified_silhouette_score", max_clusters_rule=True)
    centers, sizes = _centroids(Xk, codes, k)
    X64 = Xk.astype(np.float64, copy=False)
    sq = (
        np.einsum("ij,ij->i", X64, X64)[:, None]
        - 2.0 * X64 @ centers.T
        + np.einsum("ij,ij->i", centers, centers)[None, :]
    )
    dist = np.sqrt(np.maximum(sq, 0.0))
    rows = np.arange(codes.size)
    a = dist[rows, codes]
    dist[rows, codes] = np.inf
    b = dist.min(axis=1)
    denom = np.maximum(a, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(denom > 0, (b - a) / denom, 0.0)
    s[sizes[codes] == 1] = 0.0
    return float(np.mean(s))


def _within_ss(X: np.ndarray, codes: np.ndarray, centers: np.ndarray) -> float:
    diff = X - centers[codes]
    return float(np.einsum("ij,ij->", diff, diff))


def calinski_harabasz_score(X: Any, labels: Any) -> float:
    """Calinski-Harabasz index (variance ratio criterion); higher is better.

    ``[B / (k - 1)] / [W / (n - k)]`` with ``B`` the between-cluster and ``W`` the within-cluster
    sum of squares; 1 when ``W`` is 0, as in scikit-learn.

    Examples
    --------
    >>> from clusterlab.metrics import calinski_harabasz_score
    >>> calinski_harabasz_score([[0.0], [0.2], [5.0], [5.2]], [0, 0, 1, 1]) > 100
    True
    """
    Xk, codes, k, _ = _prepare(X, labels, "calinski_harabasz_score", max_clusters_rule=True)
    X64 = Xk.astype(np.float64, copy=False)
    centers, sizes = _centroids(X64, codes, k)
    mean = X64.mean(axis=0)
    between = float(np.sum(sizes * np.sum((centers - mean) ** 2, axis=1)))
    within = _within_ss(X64, codes, centers)
    n = X64.shape[0]
    if within == 0.0:
        return 1.0
    return float(between * (n - k) / (within * (k - 1.0)))


def davies_bouldin_score(X: Any, labels: Any) -> float:
    """Davies-Bouldin index; **lower** is better (0 is the best possible value).

    The mean over clusters of the largest ``(s_i + s_j) / d(c_i, c_j)``, where ``s_i`` is the
    mean distance of cluster i's points to its centroid ``c_i``. 0 when every ``s_i`` or every
    centroid distance is 0, as in scikit-learn.

    Examples
    --------
    >>> from clusterlab.metrics import davies_bouldin_score
    >>> round(davies_bouldin_score([[0.0], [0.2], [5.0], [5.2]], [0, 0, 1, 1]), 3)
    0.04
    """
    from scipy.spatial.distance import cdist

    Xk, codes, k, _ = _prepare(X, labels, "davies_bouldin_score", max_clusters_rule=True)
    X64 = Xk.astype(np.float64, copy=False)
    centers, sizes = _centroids(X64, codes, k)
    to_center = np.sqrt(np.sum((X64 - centers[codes]) ** 2, axis=1))
    spread = np.bincount(codes, weights=to_center, minlength=k) / sizes
    between = cdist(centers, centers)
    if np.allclose(spread, 0) or np.allclose(between, 0):
        return 0.0
    between[between == 0] = np.inf
    ratio = (spread[:, None] + spread[None, :]) / between
    return float(np.mean(np.max(ratio, axis=1)))


def dunn_index(
    X: Any,
    labels: Any,
    *,
    sample_size: int | None = None,
    random_state: Any = None,
    n_jobs: int | None = None,
) -> float:
    """Dunn index: smallest between-cluster point distance over largest cluster diameter.

    Higher is better. Exact, O(n^2 d) time and O(n) memory (numba kernel); ``sample_size``
    scores a random subset instead. ``inf`` when every cluster is a single point or duplicates.

    Examples
    --------
    >>> from clusterlab.metrics import dunn_index
    >>> round(dunn_index([[0.0], [0.2], [5.0], [5.2]], [0, 0, 1, 1]), 3)
    24.0
    """
    from clusterlab.kernels.dunn import separation_and_diameter

    Xk, codes, k, _ = _prepare(
        X, labels, "dunn_index", sample_size=sample_size, random_state=random_state
    )
    XT, sorted_codes, offsets, _ = _sorted_layout(Xk, codes, k)
    with threads(n_jobs):
        nearest, farthest = separation_and_diameter(XT, sorted_codes, offsets)
    diameter = math.sqrt(float(farthest.max()))
    separation = math.sqrt(float(nearest.min()))
    return math.inf if diameter == 0.0 else separation / diameter


def inertia(X: Any, labels: Any) -> float:
    """Within-cluster sum of squared distances to the cluster means; lower is better.

    The k-means objective, defined for any labeling with at least one cluster. It always falls
    as k grows, so compare it only at a fixed k (or use the elbow in ``choose_k``).

    Examples
    --------
    >>> from clusterlab.metrics import inertia
    >>> round(inertia([[0.0], [0.2], [5.0], [5.2]], [0, 0, 1, 1]), 3)
    0.04
    """
    Xk, codes, k, _ = _prepare(X, labels, "inertia", min_clusters=1)
    X64 = Xk.astype(np.float64, copy=False)
    centers, _ = _centroids(X64, codes, k)
    return _within_ss(X64, codes, centers)


def _classification_loglik(
    X: np.ndarray, codes: np.ndarray, k: int, reg_covar: float
) -> tuple[float, int]:
    """Log-likelihood of the hard labeling under a full-covariance Gaussian per cluster."""
    from scipy.linalg import cho_factor, cho_solve

    n, d = X.shape
    loglik = 0.0
    for c in range(k):
        members = X[codes == c]
        m = members.shape[0]
        centered = members - members.mean(axis=0)
        cov = centered.T @ centered / m + reg_covar * np.eye(d)
        factor = cho_factor(cov, lower=True)
        logdet = 2.0 * float(np.sum(np.log(np.diag(factor[0]))))
        maha = float(np.sum(centered * cho_solve(factor, centered.T).T))
        loglik += m * math.log(m / n) - 0.5 * (m * (d * math.log(2 * math.pi) + logdet) + maha)
    n_params = (k - 1) + k * d + k * d * (d + 1) // 2
    return loglik, n_params


def bic_score(X: Any, labels: Any, *, reg_covar: float = 1e-6) -> float:
    """Bayesian information criterion of the labeling as a Gaussian mixture; lower is better.

    Each cluster is a Gaussian with its own mean and full covariance (plus ``reg_covar`` on the
    diagonal, as in scikit-learn's GaussianMixture) and weight ``n_c / n``; the likelihood is the
    classification likelihood of the hard labels. ``BIC = -2 log L + p log n`` with
    ``p = (k - 1) + k d + k d (d + 1) / 2``. For a fitted mixture model prefer its own ``bic``.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.metrics import bic_score
    >>> X = np.random.default_rng(0).normal(size=(100, 2))
    >>> bic_score(X, np.zeros(100, dtype=int)) < bic_score(X, np.arange(100) % 5)
    True
    """
    Xk, codes, k, _ = _prepare(X, labels, "bic_score", min_clusters=1)
    loglik, p = _classification_loglik(Xk.astype(np.float64), codes, k, reg_covar)
    return -2.0 * loglik + p * math.log(Xk.shape[0])


def aic_score(X: Any, labels: Any, *, reg_covar: float = 1e-6) -> float:
    """Akaike information criterion of the labeling as a Gaussian mixture; lower is better.

    As :func:`bic_score` with the penalty ``2 p`` instead of ``p log n``.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.metrics import aic_score
    >>> X = np.random.default_rng(0).normal(size=(100, 2))
    >>> aic_score(X, np.zeros(100, dtype=int)) < aic_score(X, np.arange(100) % 5)
    True
    """
    Xk, codes, k, _ = _prepare(X, labels, "aic_score", min_clusters=1)
    loglik, p = _classification_loglik(Xk.astype(np.float64), codes, k, reg_covar)
    return -2.0 * loglik + 2.0 * p


def _internal_vertices(parent: np.ndarray, child: np.ndarray, lo: int, hi: int):
    """Vertices of degree > 1 in a cluster's tree and the largest weight among edges joining two
    of them (with hdbscan's conventions for trees without such vertices or edges)."""
    degree = np.bincount(np.concatenate([parent, child]) - lo, minlength=hi - lo)
    vertices = np.flatnonzero(degree > 1) + lo
    if vertices.size == 0:
        vertices = np.array([lo], dtype=np.int64)
    inside = np.isin(parent, vertices) & np.isin(child, vertices)
    return vertices, inside


def dbcv_score(
    X: Any,
    labels: Any,
    *,
    sample_size: int | None = None,
    random_state: Any = None,
    n_jobs: int | None = None,
) -> float:
    """Density-based clustering validation (DBCV; Moulavi et al., 2014); higher is better.

    For each cluster: the all-points core distances, the minimum spanning tree under mutual
    reachability, its density sparseness (largest edge between internal vertices) and its
    density separation to the nearest other cluster (smallest mutual reachability distance
    between internal vertices); the cluster's validity is ``(sep - sparse) / max(sep, sparse)``
    and DBCV their mean weighted by cluster size over **all** points (noise included, so noise
    lowers the score). Exact in O(n^2 d) time and O(n) memory; ``sample_size`` scores a random
    subset. Follows the conventions of the ``hdbscan`` package's ``validity_index``.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from clusterlab.metrics import dbcv_score
    >>> X, y = make_blobs(n_samples=150, centers=3, cluster_std=0.5, random_state=0)
    >>> round(dbcv_score(X, y), 3)
    0.381
    """
    from clusterlab.kernels.dbcv import all_points_core_distances, cluster_mst, internal_separation

    X_checked = _check_X(X)
    labels_arr = _check_labels(labels, X_checked.shape[0])
    n_total = labels_arr.shape[0]
    Xk, codes, k, kept = _prepare(
        X_checked, labels_arr, "dbcv_score", sample_size=sample_size, random_state=random_state
    )
    if sample_size is not None and sample_size < np.count_nonzero(_clustered(labels_arr)):
        # The sample stands for all points: keep the share of noise points the same.
        n_total = round(kept.size * n_total / np.count_nonzero(_clustered(labels_arr)))
    XT, sorted_codes, offsets, _ = _sorted_layout(Xk, codes, k)
    with threads(n_jobs):
        core = all_points_core_distances(XT, sorted_codes, offsets)
        sparseness = np.zeros(k)
        internal = []
        for c in range(k):
            lo, hi = int(offsets[c]), int(offsets[c + 1])
            parent, child, weight = cluster_mst(XT, core, lo, hi)
            vertices, inside = _internal_vertices(parent, child, lo, hi)
            internal.append(vertices)
            chosen = weight[inside] if inside.any() else weight
            sparseness[c] = chosen.max() if chosen.size else 0.0
        separation = internal_separation(XT, core, sorted_codes, np.concatenate(internal), k)
    nearest = separation.min(axis=1)
    sizes = np.diff(offsets)
    validity = (nearest - sparseness) / np.maximum(nearest, sparseness)
    return float(np.sum(sizes / n_total * validity))
