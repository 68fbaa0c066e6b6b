"""External validity indices: agreement of a clustering with reference labels.

Every function reduces the two labelings once to a contingency table (see
:mod:`clusterlab.metrics._contingency`) and computes the index from it in O(n_cells) time, so
scoring is O(n log n) overall and never builds an n x n structure. Names, arguments and values
follow scikit-learn (:mod:`sklearn.metrics.cluster`); the tests hold them equal to 1e-10.

Noise
-----
Every function takes ``noise``, which says how points labelled ``-1`` (noise in the prediction,
or points the reference leaves unlabelled) are treated:

- ``"cluster"`` (default): ``-1`` is an ordinary label, so the noise points form one group; equal
  to scikit-learn's value on any input.
- ``"ignore"``: points that are noise in either labeling are dropped before scoring; a
  ``ValueError`` when nothing is left.
- ``"singletons"``: every noise point is a cluster of its own.

Degenerate input follows scikit-learn: identical single-group labelings score 1 (ARI, Rand, AMI,
NMI, V-measure), empty input raises a ``ValueError``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from clusterlab.metrics._contingency import Table, contingency_table, prepare

__all__ = [
    "adjusted_mutual_info_score",
    "adjusted_rand_score",
    "completeness_score",
    "contingency_matrix",
    "fowlkes_mallows_score",
    "homogeneity_completeness_v_measure",
    "homogeneity_score",
    "mutual_info_score",
    "normalized_clustering_accuracy",
    "normalized_mutual_info_score",
    "pair_confusion_matrix",
    "purity_score",
    "rand_score",
    "v_measure_score",
]

_EPS = float(np.finfo(np.float64).eps)
_AVERAGES = ("min", "geometric", "arithmetic", "max")


def _table(labels_true: Any, labels_pred: Any, noise: str) -> Table:
    true, pred = prepare(labels_true, labels_pred, noise)
    return contingency_table(true, pred)


def contingency_matrix(
    labels_true: Any,
    labels_pred: Any,
    *,
    eps: float | None = None,
    sparse: bool = False,
    dtype: Any = np.int64,
    noise: str = "cluster",
) -> Any:
    """Count the points of each (reference class, predicted cluster) pair.

    Parameters
    ----------
    labels_true, labels_pred : array-like of shape (n_samples,)
        Reference and predicted labels (any hashable values; ``-1`` is noise).
    eps : float, optional
        Added to every cell of the dense matrix (as in scikit-learn); not allowed with
        ``sparse=True``.
    sparse : bool
        Return a ``scipy.sparse.csr_matrix`` instead of a dense array.
    dtype : numeric type
        Type of the result (float64 when ``eps`` is given).
    noise : {"cluster", "ignore", "singletons"}
        How noise points are treated (module docstring).

    Returns
    -------
    ndarray or csr_matrix of shape (n_classes, n_clusters)
        Rows follow the sorted reference labels, columns the sorted predicted labels.

    Examples
    --------
    >>> from clusterlab.metrics import contingency_matrix
    >>> contingency_matrix([0, 0, 1, 1], [1, 1, 1, 0])
    array([[0, 2],
           [1, 1]])
    """
    table = _table(labels_true, labels_pred, noise)
    if sparse:
        if eps is not None:
            raise ValueError("eps can only be used with sparse=False; got sparse=True")
        from scipy.sparse import csr_matrix

        return csr_matrix(
            (table.counts.astype(dtype), (table.rows, table.cols)),
            shape=(table.a.size, table.b.size),
        )
    dense = table.dense()
    if eps is not None:
        return dense.astype(np.float64) + eps
    return dense.astype(dtype, copy=False)


def _pair_counts(table: Table) -> tuple[int, int, int, int]:
    """Ordered pair counts (tn, fp, fn, tp), as Python ints so products never overflow."""
    counts = table.counts
    n = table.n
    sum_squares = int(np.dot(counts, counts))
    same_cluster = int(np.dot(counts, table.b[table.cols]))
    same_class = int(np.dot(counts, table.a[table.rows]))
    tp = sum_squares - n
    fp = same_cluster - sum_squares
    fn = same_class - sum_squares
    tn = n * n - fp - fn - sum_squares
    return tn, fp, fn, tp


def pair_confusion_matrix(labels_true: Any, labels_pred: Any, *, noise: str = "cluster") -> Any:
    """The 2 x 2 confusion matrix of ordered point pairs (same class?, same cluster?).

    ``C[1, 1]`` counts pairs together in both labelings, ``C[0, 0]`` pairs apart in both,
    ``C[0, 1]`` pairs apart in the reference but together in the prediction, ``C[1, 0]`` the
    reverse. Pairs are ordered, as in scikit-learn, so the entries sum to ``n ** 2``.

    Examples
    --------
    >>> from clusterlab.metrics import pair_confusion_matrix
    >>> pair_confusion_matrix([0, 0, 1, 1], [1, 1, 0, 0])
    array([[8, 0],
           [0, 4]])
    """
    tn, fp, fn, tp = _pair_counts(_table(labels_true, labels_pred, noise))
    return np.array([[tn, fp], [fn, tp]], dtype=np.int64)


def rand_score(labels_true: Any, labels_pred: Any, *, noise: str = "cluster") -> float:
    """Rand index: the share of point pairs on which the two labelings agree.

    Examples
    --------
    >>> from clusterlab.metrics import rand_score
    >>> round(rand_score([0, 0, 1, 2], [0, 0, 1, 1]), 4)
    0.8333
    """
    tn, fp, fn, tp = _pair_counts(_table(labels_true, labels_pred, noise))
    agree = tn + tp
    total = tn + fp + fn + tp
    if total in (agree, 0):
        return 1.0
    return float(agree / total)


def adjusted_rand_score(labels_true: Any, labels_pred: Any, *, noise: str = "cluster") -> float:
    """Adjusted Rand index (Hubert and Arabie): the Rand index corrected for chance.

    1 for identical partitions (up to renaming), about 0 for independent ones, can be negative.

    Examples
    --------
    >>> from clusterlab.metrics import adjusted_rand_score
    >>> adjusted_rand_score([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    """
    tn, fp, fn, tp = _pair_counts(_table(labels_true, labels_pred, noise))
    if fn == 0 and fp == 0:
        return 1.0
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))


def _entropy(sizes: np.ndarray) -> float:
    if sizes.size <= 1:
        return 0.0
    p = sizes.astype(np.float64)
    total = p.sum()
    # log(p / total) as log(p) - log(total) keeps precision for tiny groups.
    return float(-np.sum((p / total) * (np.log(p) - math.log(total))))


def _mutual_info(table: Table) -> float:
    if table.a.size == 1 or table.b.size == 1:
        return 0.0
    counts = table.counts.astype(np.float64)
    n = float(table.n)
    log_outer = -np.log(table.a[table.rows] * table.b[table.cols]) + 2.0 * math.log(n)
    share = counts / n
    terms = share * (np.log(counts) - math.log(n)) + share * log_outer
    terms = np.where(np.abs(terms) < _EPS, 0.0, terms)
    return float(max(terms.sum(), 0.0))


def _average(u: float, v: float, method: str) -> float:
    if method == "min":
        return min(u, v)
    if method == "geometric":
        return math.sqrt(u * v)
    if method == "arithmetic":
        return (u + v) / 2.0
    return max(u, v)


def _check_average(average_method: str) -> None:
    if average_method not in _AVERAGES:
        raise ValueError(f"average_method must be one of {_AVERAGES}; got {average_method!r}")


def mutual_info_score(labels_true: Any, labels_pred: Any, *, noise: str = "cluster") -> float:
    """Mutual information of two labelings, in nats; 0 when either has a single group.

    Examples
    --------
    >>> from clusterlab.metrics import mutual_info_score
    >>> round(mutual_info_score([0, 0, 1, 1], [0, 0, 1, 1]), 4)
    0.6931
    """
    return _mutual_info(_table(labels_true, labels_pred, noise))


def normalized_mutual_info_score(
    labels_true: Any,
    labels_pred: Any,
    *,
    average_method: str = "arithmetic",
    noise: str = "cluster",
) -> float:
    """Mutual information divided by an average of the two entropies (``average_method``).

    Examples
    --------
    >>> from clusterlab.metrics import normalized_mutual_info_score
    >>> normalized_mutual_info_score([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    """
    _check_average(average_method)
    table = _table(labels_true, labels_pred, noise)
    if table.a.size == table.b.size == 1:
        return 1.0
    mi = _mutual_info(table)
    if mi == 0:
        return 0.0
    return float(mi / _average(_entropy(table.a), _entropy(table.b), average_method))


def adjusted_mutual_info_score(
    labels_true: Any,
    labels_pred: Any,
    *,
    average_method: str = "arithmetic",
    noise: str = "cluster",
) -> float:
    """Mutual information adjusted for chance (Vinh, Epps and Bailey, 2010).

    The expected mutual information under random labelings with the same cluster sizes is
    computed exactly by a numba kernel in O(n * min(n_classes, n_clusters)) time.

    Examples
    --------
    >>> from clusterlab.metrics import adjusted_mutual_info_score
    >>> adjusted_mutual_info_score([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    """
    from clusterlab.kernels.emi import expected_mutual_information

    _check_average(average_method)
    table = _table(labels_true, labels_pred, noise)
    if table.a.size == table.b.size == 1:
        return 1.0
    if table.a.size == 1 or table.b.size == 1:
        return 0.0
    mi = _mutual_info(table)
    emi = expected_mutual_information(table.a, table.b, table.n)
    normalizer = _average(_entropy(table.a), _entropy(table.b), average_method)
    # Keep the signs of numerator and denominator while avoiding 0 / 0 for a perfect match,
    # where the expectation can exceed the maximum by rounding.
    denominator = normalizer - emi
    denominator = min(denominator, -_EPS) if denominator < 0 else max(denominator, _EPS)
    numerator = mi - emi
    numerator = min(numerator, -_EPS) if numerator < 0 else max(numerator, _EPS)
    return float(numerator / denominator)


def homogeneity_completeness_v_measure(
    labels_true: Any, labels_pred: Any, *, beta: float = 1.0, noise: str = "cluster"
) -> tuple[float, float, float]:
    """Homogeneity, completeness and V-measure in one pass over the contingency table.

    Homogeneity is 1 when each cluster holds one class only, completeness when each class lies
    in one cluster; the V-measure is their weighted harmonic mean (``beta`` weights completeness).

    Examples
    --------
    >>> from clusterlab.metrics import homogeneity_completeness_v_measure
    >>> h, c, v = homogeneity_completeness_v_measure([0, 0, 1, 1], [0, 0, 1, 2])
    >>> round(h, 4), round(c, 4)
    (1.0, 0.6667)
    """
    table = _table(labels_true, labels_pred, noise)
    entropy_true = _entropy(table.a)
    entropy_pred = _entropy(table.b)
    mi = _mutual_info(table)
    homogeneity = mi / entropy_true if entropy_true else 1.0
    completeness = mi / entropy_pred if entropy_pred else 1.0
    if homogeneity + completeness == 0.0:
        v_measure = 0.0
    else:
        v_measure = (1 + beta) * homogeneity * completeness / (beta * homogeneity + completeness)
    return float(homogeneity), float(completeness), float(v_measure)


def homogeneity_score(labels_true: Any, labels_pred: Any, *, noise: str = "cluster") -> float:
    """Homogeneity: 1 when every cluster contains members of a single class.

    Examples
    --------
    >>> from clusterlab.metrics import homogeneity_score
    >>> round(homogeneity_score([0, 0, 1, 1], [0, 1, 2, 3]), 6)
    1.0
    """
    return homogeneity_completeness_v_measure(labels_true, labels_pred, noise=noise)[0]


def completeness_score(labels_true: Any, labels_pred: Any, *, noise: str = "cluster") -> float:
    """Completeness: 1 when all members of each class are in the same cluster.

    Examples
    --------
    >>> from clusterlab.metrics import completeness_score
    >>> round(completeness_score([0, 1, 2, 3], [0, 0, 1, 1]), 6)
    1.0
    """
    return homogeneity_completeness_v_measure(labels_true, labels_pred, noise=noise)[1]


def v_measure_score(
    labels_true: Any, labels_pred: Any, *, beta: float = 1.0, noise: str = "cluster"
) -> float:
    """V-measure: harmonic mean of homogeneity and completeness (equal to NMI, arithmetic).

    Examples
    --------
    >>> from clusterlab.metrics import v_measure_score
    >>> v_measure_score([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    """
    return homogeneity_completeness_v_measure(labels_true, labels_pred, beta=beta, noise=noise)[2]


def fowlkes_mallows_score(labels_true: Any, labels_pred: Any, *, noise: str = "cluster") -> float:
    """Fowlkes-Mallows index: geometric mean of pairwise precision and recall.

    Examples
    --------
    >>> from clusterlab.metrics import fowlkes_mallows_score
    >>> fowlkes_mallows_score([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    """
    table = _table(labels_true, labels_pred, noise)
    n = table.n
    tk = int(np.dot(table.counts, table.counts)) - n
    pk = int(np.dot(table.b, table.b)) - n
    qk = int(np.dot(table.a, table.a)) - n
    if tk == 0:
        return 0.0
    return float(np.sqrt(tk / pk) * np.sqrt(tk / qk))


def purity_score(labels_true: Any, labels_pred: Any, *, noise: str = "cluster") -> float:
    """Purity: the share of points in the majority reference class of their cluster.

    Not corrected for chance: n singleton clusters have purity 1, so compare it only between
    clusterings with similar numbers of clusters.

    Examples
    --------
    >>> from clusterlab.metrics import purity_score
    >>> purity_score([0, 0, 1, 1, 1], [0, 0, 0, 1, 1])
    0.8
    """
    table = _table(labels_true, labels_pred, noise)
    majority = np.zeros(table.b.size, dtype=np.int64)
    np.maximum.at(majority, table.cols, table.counts)
    return float(majority.sum() / table.n)


def normalized_clustering_accuracy(
    labels_true: Any, labels_pred: Any, *, noise: str = "cluster"
) -> float:
    """Normalised clustering accuracy (Gagolewski, 2025), an asymmetric external index.

    Each reference class is matched to a distinct predicted cluster so that the sum of the
    recalls ``n_ij / n_i`` is largest (Hungarian algorithm); with ``k`` reference classes the
    index is ``(sum of matched recalls - 1) / (k - 1)``: 1 for a perfect match, 0 when every
    class is matched to a cluster holding only ``1/k`` of it on average, and it is not symmetric
    in its arguments. A prediction with fewer clusters than classes leaves some classes matched
    to nothing (recall 0).

    Raises
    ------
    ValueError
        When the reference has fewer than 2 classes.

    References
    ----------
    Gagolewski M., Normalised clustering accuracy: An asymmetric external cluster validity
    measure, Journal of Classification 42, 2025, 2-30.

    Examples
    --------
    >>> from clusterlab.metrics import normalized_clustering_accuracy
    >>> normalized_clustering_accuracy([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    """
    from scipy.optimize import linear_sum_assignment

    table = _table(labels_true, labels_pred, noise)
    k = table.a.size
    if k < 2:
        raise ValueError(
            "normalized_clustering_accuracy needs at least 2 reference classes in labels_true; "
            f"got {k}"
        )
    recall = table.dense() / table.a[:, None]
    if recall.shape[1] < k:
        recall = np.hstack([recall, np.zeros((k, k - recall.shape[1]))])
    rows, cols = linear_sum_assignment(recall, maximize=True)
    return float((recall[rows, cols].sum() - 1.0) / (k - 1.0))
