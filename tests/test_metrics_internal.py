"""Internal indices: equal to scikit-learn / hdbscan, noise rule, degenerate input, float32."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as skm
from sklearn.datasets import make_blobs

from clusterlab import metrics as cm


@pytest.fixture(scope="module")
def data():
    X, y = make_blobs(n_samples=600, centers=5, n_features=4, cluster_std=1.5, random_state=3)
    return X, y


def test_silhouette_equal_to_sklearn(data):
    X, y = data
    np.testing.assert_allclose(
        cm.silhouette_samples(X, y), skm.silhouette_samples(X, y), atol=1e-10
    )
    assert cm.silhouette_score(X, y) == pytest.approx(skm.silhouette_score(X, y), abs=1e-10)


def test_silhouette_float32_equal_to_sklearn(data):
    X, y = data
    X32 = X.astype(np.float32)
    ours = cm.silhouette_samples(X32, y)
    assert ours.dtype == np.float64
    np.testing.assert_allclose(ours, skm.silhouette_samples(X32.astype(np.float64), y), atol=1e-10)


def test_silhouette_sample_size_equal_to_sklearn(data):
    X, y = data
    ours = cm.silhouette_score(X, y, sample_size=200, random_state=7)
    ref = skm.silhouette_score(X, y, sample_size=200, random_state=7)
    assert ours == pytest.approx(ref, abs=1e-10)


def test_silhouette_singletons_and_precomputed():
    X = np.array([[0.0], [0.1], [0.3], [5.0], [9.0]])
    y = np.array([0, 0, 0, 1, 2])
    np.testing.assert_allclose(
        cm.silhouette_samples(X, y), skm.silhouette_samples(X, y), atol=1e-12
    )
    D = skm.pairwise_distances(X)
    np.testing.assert_allclose(
        cm.silhouette_samples(D, y, metric="precomputed"), skm.silhouette_samples(X, y), atol=1e-12
    )


def test_silhouette_same_for_one_and_two_threads(data):
    X, y = data
    one = cm.silhouette_samples(X, y, n_jobs=1)
    two = cm.silhouette_samples(X, y, n_jobs=2)
    np.testing.assert_array_equal(one, two)


def test_silhouette_invariant_to_point_order_and_label_names(data, rng):
    X, y = data
    order = rng.permutation(len(y))
    base = cm.silhouette_samples(X, y)
    np.testing.assert_allclose(cm.silhouette_samples(X[order], y[order]), base[order], atol=1e-12)
    np.testing.assert_allclose(cm.silhouette_samples(X, (y + 3) * 7), base, atol=1e-12)


@pytest.mark.parametrize(
    ("ours", "ref"),
    [
        (cm.calinski_harabasz_score, skm.calinski_harabasz_score),
        (cm.davies_bouldin_score, skm.davies_bouldin_score),
    ],
)
def test_centroid_indices_equal_to_sklearn(data, ours, ref):
    X, y = data
    assert ours(X, y) == pytest.approx(ref(X, y), rel=1e-10)


def test_identical_points_follow_sklearn():
    X = np.zeros((6, 2))
    y = [0, 0, 0, 1, 1, 1]
    assert cm.calinski_harabasz_score(X, y) == skm.calinski_harabasz_score(X, y) == 1.0
    assert cm.davies_bouldin_score(X, y) == skm.davies_bouldin_score(X, y) == 0.0


def test_dunn_inertia_simplified_hand_computed():
    X = np.array([[0.0], [1.0], [5.0], [7.0]])
    y = [0, 0, 1, 1]
    # Nearest pair across clusters: 1 -> 5 (4); largest diameter: 5 -> 7 (2).
    assert cm.dunn_index(X, y) == pytest.approx(2.0)
    # Means 0.5 and 6: squared deviations 0.25 * 2 + 1 * 2.
    assert cm.inertia(X, y) == pytest.approx(2.5)
    # a = |x - own mean|, b = |x - other mean|.
    a = np.array([0.5, 0.5, 1.0, 1.0])
    b = np.array([6.0, 5.0, 4.5, 6.5])
    assert cm.simplified_silhouette_score(X, y) == pytest.approx(np.mean((b - a) / b))
    assert cm.inertia(X, [0, 0, 0, 0]) == pytest.approx(np.sum((X - X.mean()) ** 2))


def test_dunn_matches_brute_force(data):
    X, y = data
    D = skm.pairwise_distances(X)
    same = y[:, None] == y[None, :]
    expected = D[~same].min() / D[same].max()
    assert cm.dunn_index(X, y) == pytest.approx(expected, rel=1e-12)


def test_dbcv_equal_to_hdbscan():
    validity = pytest.importorskip("hdbscan.validity", reason="hdbscan is the DBCV reference")
    for seed in range(3):
        X, y = make_blobs(
            n_samples=240, centers=4, n_features=3, cluster_std=1.5, random_state=seed
        )
        y = y.copy()
        y[::9] = -1
        assert cm.dbcv_score(X, y) == pytest.approx(validity.validity_index(X, y), abs=1e-10)


def test_bic_aic_match_gaussian_classification_likelihood(rng):
    from scipy.stats import multivariate_normal

    X = rng.normal(size=(90, 2))
    y = np.arange(90) % 3
    loglik = 0.0
    for c in range(3):
        members = X[y == c]
        cov = np.cov(members.T, bias=True) + 1e-6 * np.eye(2)
        loglik += np.sum(multivariate_normal(members.mean(0), cov).logpdf(members))
        loglik += len(members) * np.log(len(members) / 90)
    p = 2 + 3 * 2 + 3 * 3
    assert cm.bic_score(X, y) == pytest.approx(-2 * loglik + p * np.log(90), rel=1e-10)
    assert cm.aic_score(X, y) == pytest.approx(-2 * loglik + 2 * p, rel=1e-10)


def test_noise_points_are_left_out(data):
    X, y = data
    noisy = y.copy()
    noisy[::5] = -1
    keep = noisy != -1
    for fn in (cm.calinski_harabasz_score, cm.davies_bouldin_score, cm.silhouette_score,
               cm.dunn_index, cm.inertia, cm.simplified_silhouette_score):  # fmt: skip
        assert fn(X, noisy) == pytest.approx(fn(X[keep], y[keep]), rel=1e-12)
    samples = cm.silhouette_samples(X, noisy)
    assert np.isnan(samples[~keep]).all()
    np.testing.assert_allclose(samples[keep], cm.silhouette_samples(X[keep], y[keep]), atol=1e-12)


@pytest.mark.parametrize(
    "fn",
    [
        cm.silhouette_score,
        cm.silhouette_samples,
        cm.simplified_silhouette_score,
        cm.calinski_harabasz_score,
        cm.davies_bouldin_score,
        cm.dunn_index,
        cm.dbcv_score,
    ],
)
def test_single_cluster_and_all_noise_raise(fn):
    X = np.arange(12.0).reshape(6, 2)
    with pytest.raises(ValueError, match="needs between 2 and"):
        fn(X, [0, 0, 0, -1, 0, 0])
    with pytest.raises(ValueError, match="every point is noise"):
        fn(X, [-1] * 6)


def test_inertia_all_noise_raises_and_one_cluster_is_fine():
    X = np.arange(6.0).reshape(3, 2)
    with pytest.raises(ValueError, match="every point is noise"):
        cm.inertia(X, [-1, -1, -1])
    assert cm.inertia(X, [0, 0, 0]) > 0


def test_too_many_clusters_for_silhouette():
    with pytest.raises(ValueError, match="n_samples - 1"):
        cm.silhouette_score(np.arange(6.0).reshape(3, 2), [0, 1, 2])


def test_input_errors(data):
    X, y = data
    with pytest.raises(ValueError, match="one label per row"):
        cm.silhouette_score(X, y[:-1])
    with pytest.raises(ValueError, match="sample_size must be None or an int >= 2"):
        cm.silhouette_score(X, y, sample_size=1)
    with pytest.raises(ValueError, match="metric must be 'euclidean' or 'precomputed'"):
        cm.silhouette_score(X, y, metric="cosine")
    with pytest.raises(TypeError, match="X must be a 2-D array-like"):
        cm.inertia("data.csv", y)


def test_inputs_not_modified(data):
    X, y = data
    X0, y0 = X.copy(), y.copy()
    noisy = y.copy()
    noisy[0] = -1
    noisy0 = noisy.copy()
    cm.silhouette_score(X, noisy, sample_size=100, random_state=0)
    cm.dbcv_score(X, noisy)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(noisy, noisy0)
