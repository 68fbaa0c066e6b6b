"""scikit-learn's estimator checks for KModes, KPrototypes, KMedoids and GowerDistance.

The checks that cannot apply to categorical input are listed, with the reason, on each class
(``_expected_failed_checks``) and passed to ``parametrize_with_checks`` from there.
"""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab import GowerDistance, KMedoids, KModes, KPrototypes


def _expected(estimator):
    return getattr(estimator, "_expected_failed_checks", {})


@parametrize_with_checks(
    [
        KModes(n_clusters=3, random_state=0),
        KPrototypes(n_clusters=3, n_init=2, random_state=0),
        KMedoids(n_clusters=3, random_state=0),
        KMedoids(n_clusters=3, method="clara", init="lab", sample_size=15, random_state=0),
        KMedoids(n_clusters=3, metric="gower", random_state=0),
        GowerDistance(),
    ],
    expected_failed_checks=_expected,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
