"""HDBSCAN with metric='cosine': exact cosine distances, checked against scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import HDBSCAN as SKHDBSCAN
from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab.cluster.hdbscan import HDBSCAN
from tests.checks import check_labels, same_partition


@pytest.fixture(scope="module")
def directions():
    """Four clusters of directions in 5-D, rows at random lengths (cosine ignores length)."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 5))
    centres /= np.linalg.norm(centres, axis=1)[:, None]
    X = np.vstack([c + rng.normal(0, 0.15, (120, 5)) for c in centres])
    X = np.vstack([X, rng.normal(size=(30, 5))])  # scattered directions: noise
    return X * rng.uniform(0.5, 3.0, (X.shape[0], 1)), centres


def _sklearn(X, **params):
    return SKHDBSCAN(metric="cosine", copy=True, **params).fit(X)


def _cosine_core(X, min_samples):
    U = X / np.linalg.norm(X, axis=1)[:, None]
    return np.sort(1.0 - U @ U.T, axis=1)[:, min_samples - 1]


@pytest.mark.parametrize("algorithm", ["kd_tree", "brute"])
def test_matches_sklearn_cosine(directions, algorithm):
    X, _ = directions
    # min_samples=2: no ties among mutual reachability distances, so the labels are exact
    params = {"min_cluster_size": 15, "min_samples": 2}
    ours = HDBSCAN(metric="cosine", algorithm=algorithm, **params).fit(X)
    ref = _sklearn(X, **params)
    check_labels(ours.labels_, X.shape[0], allow_noise=True)
    assert ours.n_clusters_ == 4
    assert same_partition(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.probabilities_, ref.probabilities_, rtol=1e-9, atol=1e-12)
    # core distances are cosine distances: 1 - cos to the min_samples-th neighbour
    np.testing.assert_allclose(ours.core_distances_, _cosine_core(X, 2), atol=1e-12)


@pytest.mark.parametrize("algorithm", ["kd_tree", "brute"])
def test_matches_sklearn_cosine_up_to_ties(directions, algorithm):
    X, _ = directions
    # larger min_samples: a point whose own core distance dominates ties between clusters,
    # and which cluster it joins depends on how equal weights are ordered
    params = {"min_cluster_size": 15, "min_samples": 6}
    ours = HDBSCAN(metric="cosine", algorithm=algorithm, **params).fit(X)
    ref = _sklearn(X, **params)
    np.testing.assert_allclose(
        np.sort(ours.single_linkage_tree_.to_pandas()["distance"].to_numpy()),
        np.sort(ref._single_linkage_tree_["value"]),
        rtol=1e-9,
        atol=1e-15,
    )
    np.testing.assert_array_equal(ours.labels_ == -1, ref.labels_ == -1)
    table = np.zeros((ours.n_clusters_ + 1, ref.labels_.max() + 2), dtype=int)
    np.add.at(table, (ours.labels_ + 1, ref.labels_ + 1), 1)
    assert table.sum() - table.max(axis=1).sum() <= 2  # at most two tied points differ
    np.testing.assert_allclose(ours.core_distances_, _cosine_core(X, 6), atol=1e-12)


@pytest.mark.parametrize("algorithm", ["kd_tree", "brute"])
def test_alpha_matches_hdbscan_library(directions, algorithm):
    hdbscan = pytest.importorskip("hdbscan")
    X, _ = directions
    # scikit-learn's brute path divides the core distances by alpha too; the hdbscan library
    # divides only the pairwise distance, as clusterlab does on every path
    ours = HDBSCAN(
        min_cluster_size=15, min_samples=4, alpha=0.6, metric="cosine", algorithm=algorithm
    ).fit(X)
    ref = hdbscan.HDBSCAN(
        min_cluster_size=15, min_samples=3, alpha=0.6, metric="cosine", algorithm="generic"
    ).fit(X)
    assert same_partition(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.probabilities_, ref.probabilities_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.outlier_scores_, ref.outlier_scores_, rtol=1e-9, atol=1e-12)


def test_not_the_same_as_euclidean_on_unit_rows(directions):
    X, _ = directions
    U = X / np.linalg.norm(X, axis=1)[:, None]
    cosine = HDBSCAN(min_cluster_size=15, min_samples=6, metric="cosine").fit(X)
    unit = HDBSCAN(min_cluster_size=15, min_samples=6).fit(U)
    # the same spanning tree, other lambdas: cosine's are 2 / d^2 where euclidean's are 1 / d
    assert not np.allclose(cosine.probabilities_, unit.probabilities_)
    lam_c = np.sort(cosine.condensed_tree_.to_pandas()["lambda_val"].to_numpy())
    lam_u = np.sort(unit.condensed_tree_.to_pandas()["lambda_val"].to_numpy())
    np.testing.assert_allclose(lam_c, 2.0 * lam_u**2, rtol=1e-9)


def test_dbscan_clustering_cut_is_a_cosine_distance(directions):
    X, _ = directions
    ours = HDBSCAN(min_cluster_size=15, min_samples=6, metric="cosine").fit(X)
    ref = _sklearn(X, min_cluster_size=15, min_samples=6)
    for cut in (0.02, 0.05):
        got = ours.dbscan_clustering(cut, min_cluster_size=10)
        want = ref.dbscan_clustering(cut, min_cluster_size=10)
        np.testing.assert_array_equal(got == -1, want == -1)
        assert same_partition(got[got >= 0], want[want >= 0])


@pytest.mark.parametrize("algorithm", ["kd_tree", "brute"])
def test_prediction_in_cosine_distance(directions, algorithm):
    X, centres = directions
    model = HDBSCAN(min_cluster_size=15, min_samples=6, metric="cosine", algorithm=algorithm)
    model.fit(X)
    labels, probabilities = model.approximate_predict(X, return_probabilities=True)
    np.testing.assert_array_equal(labels, model.labels_)
    # the cluster centres' directions, at any length, predict their clusters
    got = model.predict(np.vstack([centres * 0.1, centres * 40.0]))
    majority = [
        np.bincount(model.labels_[i * 120 : (i + 1) * 120] + 1).argmax() - 1 for i in range(4)
    ]
    np.testing.assert_array_equal(got, majority * 2)
    membership = model.membership_vector(X[:50])
    assert membership.shape == (50, 4)
    assert np.all(membership.sum(axis=1) <= 1.0 + 1e-9)
    assert np.all(probabilities[model.labels_ >= 0] > 0)


def test_scaling_rows_changes_nothing(directions):
    X, _ = directions
    rng = np.random.default_rng(4)
    a = HDBSCAN(min_cluster_size=15, metric="cosine").fit(X)
    b = HDBSCAN(min_cluster_size=15, metric="cosine").fit(X * rng.uniform(0.1, 10, (len(X), 1)))
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(a.probabilities_, b.probabilities_, rtol=1e-9)


def test_float32_and_zero_rows(directions):
    X, _ = directions
    model = HDBSCAN(min_cluster_size=15, metric="cosine").fit(X.astype(np.float32))
    assert model.predict(X[:5].astype(np.float32)).dtype == np.int64
    bad = X.copy()
    bad[[3, 7]] = 0.0
    with pytest.raises(
        ValueError, match=r"metric='cosine' needs rows with a non-zero norm.*\[3, 7\]"
    ):
        HDBSCAN(metric="cosine").fit(bad)
    with pytest.raises(ValueError, match="non-zero norm"):
        model.predict(np.zeros((1, X.shape[1]), dtype=np.float32))
    with pytest.raises(ValueError, match="metric must be one of"):
        HDBSCAN(metric="cityblock").fit(X)


@parametrize_with_checks(
    [HDBSCAN(metric="cosine")],
    expected_failed_checks=lambda est: {
        "check_estimators_dtypes": "its random integer data has all-zero rows, where cosine "
        "distance is undefined (a clear ValueError, tested above)"
    },
)
def test_sklearn_compatible_with_cosine(estimator, check):
    check(estimator)
