"""scikit-learn's estimator checks for SpectralClustering."""

from __future__ import annotations

import warnings

from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab import SpectralClustering
from clusterlab.cluster.spectral import DisconnectedGraphWarning


@parametrize_with_checks(
    [
        SpectralClustering(n_clusters=3, n_neighbors=5, random_state=0),
        SpectralClustering(n_clusters=2, affinity="self_tuning", assign_labels="cluster_qr"),
        SpectralClustering(n_clusters=2, n_landmarks=10, random_state=0),
    ]
)
def test_sklearn_compatible(estimator, check):
    # the checks' small random data sets often make disconnected kNN graphs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DisconnectedGraphWarning)
        check(estimator)
