"""Validity indices: external (against reference labels) and internal (from the data alone).

Every index is a function here, under scikit-learn's name where scikit-learn has one, and a
:class:`Metric` record in a registry (:func:`get_metric`, :func:`list_metrics`,
:func:`register_metric`, :func:`unregister_metric`) that says which way is better, whether it
needs reference labels and how its cost grows with the data.

Noise (``-1``) is handled by one rule per kind of index: internal indices leave noise points out
(see :mod:`clusterlab.metrics.internal`); external indices take ``noise="cluster" | "ignore" |
"singletons"`` (see :mod:`clusterlab.metrics.external`), ``"cluster"`` by default so that values
equal scikit-learn's.
"""

from __future__ import annotations

from clusterlab.metrics._registry import (
    COSTS,
    Metric,
    get_metric,
    list_metrics,
    register_metric,
    unregister_metric,
)
from clusterlab.metrics.external import (
    adjusted_mutual_info_score,
    adjusted_rand_score,
    completeness_score,
    contingency_matrix,
    fowlkes_mallows_score,
    homogeneity_completeness_v_measure,
    homogeneity_score,
    mutual_info_score,
    normalized_clustering_accuracy,
    normalized_mutual_info_score,
    pair_confusion_matrix,
    purity_score,
    rand_score,
    v_measure_score,
)
from clusterlab.metrics.gower import GowerDistance, gower_distances, gower_silhouette_score
from clusterlab.metrics.internal import (
    aic_score,
    bic_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    dbcv_score,
    dunn_index,
    inertia,
    silhouette_samples,
    silhouette_score,
    simplified_silhouette_score,
)

__all__ = [
    "COSTS",
    "GowerDistance",
    "Metric",
    "adjusted_mutual_info_score",
    "adjusted_rand_score",
    "aic_score",
    "bic_score",
    "calinski_harabasz_score",
    "completeness_score",
    "contingency_matrix",
    "davies_bouldin_score",
    "dbcv_score",
    "dunn_index",
    "fowlkes_mallows_score",
    "get_metric",
    "gower_distances",
    "gower_silhouette_score",
    "homogeneity_completeness_v_measure",
    "homogeneity_score",
    "inertia",
    "list_metrics",
    "mutual_info_score",
    "normalized_clustering_accuracy",
    "normalized_mutual_info_score",
    "pair_confusion_matrix",
    "purity_score",
    "rand_score",
    "register_metric",
    "silhouette_samples",
    "silhouette_score",
    "simplified_silhouette_score",
    "unregister_metric",
    "v_measure_score",
]
