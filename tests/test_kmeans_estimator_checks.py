"""scikit-learn's estimator checks for KMeans."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab import KMeans

# A random init draws different seeds from a weighted sample than from the same sample with
# repeated rows, so no k-means estimator (scikit-learn's included) can pass these checks.
EXPECTED_FAILED = {
    "check_sample_weight_equivalence_on_dense_data": (
        "k-means' random initialisation depends on how weight is spread over rows"
    ),
}


@parametrize_with_checks(
    [KMeans(n_clusters=3, random_state=0), KMeans(n_clusters=2, algorithm="lloyd", n_init=2)],
    expected_failed_checks=lambda est: EXPECTED_FAILED,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
