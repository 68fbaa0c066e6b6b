"""MeanShift and estimate_bandwidth against scikit-learn, the grid path, the gaussian kernel,
errors and the estimator contract."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import MeanShift as SkMeanShift
from sklearn.cluster import estimate_bandwidth as sk_estimate_bandwidth
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab import MeanShift, estimate_bandwidth
from tests.checks import check_labels


@pytest.fixture(scope="module", params=[0, 1, 2])
def blobs2d(request):
    X, _ = make_blobs(n_samples=250, centers=4, cluster_std=1.2, random_state=request.param)
    return X, sk_estimate_bandwidth(X)


def assert_same_as_sklearn(ours: MeanShift, ref: SkMeanShift, bandwidth: float) -> None:
    assert ours.n_clusters_ == ref.cluster_centers_.shape[0]
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, atol=1e-9 * bandwidth)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    assert ours.n_iter_ == ref.n_iter_


@pytest.mark.parametrize("bin_seeding", [False, True])
def test_flat_kernel_matches_sklearn(blobs2d, bin_seeding):
    X, bandwidth = blobs2d
    ours = MeanShift(bandwidth=bandwidth, bin_seeding=bin_seeding).fit(X)
    ref = SkMeanShift(bandwidth=bandwidth, bin_seeding=bin_seeding).fit(X)
    assert_same_as_sklearn(ours, ref, bandwidth)
    assert ours.algorithm_ == "exact"
    check_labels(ours.labels_, X.shape[0])


@pytest.mark.parametrize("d", [1, 3, 6])
def test_other_dimensions_and_options_match_sklearn(d):
    X, _ = make_blobs(n_samples=200, n_features=d, centers=3, random_state=d)
    bandwidth = 0.8 * sk_estimate_bandwidth(X, quantile=0.2)
    params = {"bandwidth": bandwidth, "cluster_all": False, "min_bin_freq": 3, "max_iter": 12}
    for bin_seeding in (False, True):
        ours = MeanShift(bin_seeding=bin_seeding, **params).fit(X)
        ref = SkMeanShift(bin_seeding=bin_seeding, **params).fit(X)
        assert_same_as_sklearn(ours, ref, bandwidth)
    check_labels(ours.labels_, X.shape[0], allow_noise=True)


def test_given_seeds_match_sklearn():
    X, _ = make_blobs(n_samples=300, centers=3, random_state=4)
    seeds = X[::25] + 0.3
    ours = MeanShift(bandwidth=2.0, seeds=seeds).fit(X)
    ref = SkMeanShift(bandwidth=2.0, seeds=seeds).fit(X)
    assert_same_as_sklearn(ours, ref, 2.0)


def test_hand_computed_case():
    X = np.array([[1, 1], [2, 1], [1, 0], [4, 7], [3, 5], [3, 6]], dtype=float)
    model = MeanShift(bandwidth=2).fit(X)
    np.testing.assert_allclose(model.cluster_centers_, [[10 / 3, 6.0], [4 / 3, 2 / 3]])
    np.testing.assert_array_equal(model.labels_, [1, 1, 1, 0, 0, 0])


def test_float32_stays_float32(blobs2d):
    X, bandwidth = blobs2d
    ours = MeanShift(bandwidth=bandwidth).fit(X.astype(np.float32))
    assert ours.cluster_centers_.dtype == np.float32
    ref = MeanShift(bandwidth=bandwidth).fit(X)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, atol=1e-4 * bandwidth)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)


def test_estimate_bandwidth_is_sklearns():
    X, _ = make_blobs(n_samples=700, centers=3, n_features=3, random_state=0)
    for quantile in (0.0, 0.05, 0.3, 1.0):
        assert estimate_bandwidth(X, quantile=quantile) == pytest.approx(
            sk_estimate_bandwidth(X, quantile=quantile), rel=1e-12, abs=1e-12
        )
    assert estimate_bandwidth(X, n_samples=200, random_state=3) == pytest.approx(
        sk_estimate_bandwidth(X, n_samples=200, random_state=3), rel=1e-12
    )


def test_estimate_bandwidth_samples_queries_on_large_data():
    X, _ = make_blobs(n_samples=3000, centers=5, random_state=1)
    ours = estimate_bandwidth(X, quantile=0.2)
    assert ours == pytest.approx(sk_estimate_bandwidth(X, quantile=0.2), rel=0.03)
    assert estimate_bandwidth(X, quantile=0.2, random_state=1) == pytest.approx(ours, rel=0.05)


def test_grid_path_finds_the_exact_modes():
    X, y = make_blobs(n_samples=6000, centers=4, cluster_std=0.8, random_state=3)
    grid = MeanShift(bandwidth=1.5, algorithm="grid").fit(X)
    exact = MeanShift(bandwidth=1.5, algorithm="exact").fit(X)
    assert grid.algorithm_ == "grid"
    assert grid.n_clusters_ == exact.n_clusters_ == 4
    gap = np.abs(grid.cluster_centers_[:, None, :] - exact.cluster_centers_[None]).max(-1)
    assert gap.min(axis=1).max() < 0.05 * 1.5
    assert adjusted_rand_score(grid.labels_, exact.labels_) > 0.99
    assert adjusted_rand_score(grid.labels_, y) > 0.95


def test_gaussian_kernel_modes_are_fixed_points():
    X, _ = make_blobs(n_samples=500, centers=[[0, 0], [8, 8]], cluster_std=1.0, random_state=0)
    h = 1.5
    model = MeanShift(bandwidth=h, kernel="gaussian").fit(X)
    assert model.n_clusters_ == 2
    for mode in model.cluster_centers_:
        d2 = ((X - mode) ** 2).sum(1)
        w = np.exp(-d2 / (2 * h * h)) * (d2 <= (3 * h) ** 2)
        np.testing.assert_allclose((w[:, None] * X).sum(0) / w.sum(), mode, atol=2e-3 * h)


def test_default_bandwidth_is_half_the_mean_median_distance(blobs2d):
    X, _ = blobs2d
    model = MeanShift().fit(X)
    assert model.bandwidth_ == pytest.approx(0.5 * estimate_bandwidth(X, quantile=0.5))


def test_min_cluster_size_merges_weak_modes():
    X, _ = make_blobs(
        n_samples=[300, 300, 12], centers=[[0, 0], [6, 0], [3, 5]], cluster_std=0.5, random_state=0
    )
    every = MeanShift(bandwidth=1.5).fit(X)
    assert every.n_clusters_ == 3
    pruned = MeanShift(bandwidth=1.5, min_cluster_size=0.05).fit(X)
    assert pruned.n_clusters_ == 2
    np.testing.assert_allclose(pruned.cluster_centers_, every.cluster_centers_[:2])
    small = every.labels_ == 2
    dist = ((X[small, None, :] - pruned.cluster_centers_[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(pruned.labels_[small], np.argmin(dist, axis=1))
    assert MeanShift(bandwidth=1.5, min_cluster_size=13).fit(X).n_clusters_ == 2


def test_predict_is_the_nearest_centre(blobs2d):
    X, bandwidth = blobs2d
    model = MeanShift(bandwidth=bandwidth, cluster_all=False).fit(X)
    queries = np.random.default_rng(0).uniform(X.min(0), X.max(0), size=(200, 2))
    dist = ((queries[:, None, :] - model.cluster_centers_[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(model.predict(queries), np.argmin(dist, axis=1))


def test_thread_count_does_not_change_the_result(blobs2d):
    X, bandwidth = blobs2d
    one = MeanShift(bandwidth=bandwidth, n_jobs=1).fit(X)
    two = MeanShift(bandwidth=bandwidth, n_jobs=2).fit(X)
    np.testing.assert_array_equal(one.cluster_centers_, two.cluster_centers_)


def test_no_seed_reaches_a_point():
    X = np.zeros((5, 2))
    with pytest.raises(ValueError, match=r"no point is within bandwidth=0\.5 of any seed"):
        MeanShift(bandwidth=0.5, seeds=[[10.0, 10.0]]).fit(X)


def test_bad_seeds_and_algorithm():
    X = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(ValueError, match=r"seeds must have shape \(n_seeds, 2\)"):
        MeanShift(bandwidth=1.0, seeds=np.zeros((3, 3))).fit(X)
    with pytest.raises(ValueError, match="algorithm='grid' needs every point as a seed"):
        MeanShift(bandwidth=1.0, algorithm="grid", bin_seeding=True).fit(X)
    with pytest.raises(ValueError, match=r"bandwidth must be a number in \(0, inf\) or None"):
        MeanShift(bandwidth=0).fit(X)


def test_bin_seeding_that_cannot_bin_warns():
    X = np.arange(20, dtype=float).reshape(10, 2) * 10
    with pytest.warns(UserWarning, match="gave every point a bin of its own"):
        MeanShift(bandwidth=0.1, bin_seeding=True).fit(X)


@parametrize_with_checks([MeanShift(), MeanShift(kernel="gaussian", bin_seeding=True)])
def test_sklearn_compatible(estimator, check):
    check(estimator)
