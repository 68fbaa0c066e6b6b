"""Birch against scikit-learn, the stable features, partial_fit, the memory limit, the global
step, persistence and the estimator contract."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.cluster import AgglomerativeClustering
from sklearn.cluster import Birch as SkBirch
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab import Birch, KMeans
from clusterlab.kernels.birch import leaf_entries
from tests.checks import check_labels, same_partition

# the estimator checks fit Birch() on data with fewer than three subclusters
pytestmark = pytest.mark.filterwarnings("ignore:Birch found .* subclusters")


def _blobs(seed: int, n: int = 1500, d: int = 3):
    return make_blobs(n_samples=n, centers=5, n_features=d, random_state=seed)


def _sorted_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort(a.T[::-1])
    return a[order], order


@pytest.mark.parametrize(("threshold", "branching_factor"), [(0.5, 50), (0.3, 5), (1.0, 3)])
@pytest.mark.parametrize("seed", [0, 1])
def test_same_subclusters_and_partition_as_sklearn(seed, threshold, branching_factor):
    X, _ = _blobs(seed)
    params = {"threshold": threshold, "branching_factor": branching_factor, "n_clusters": None}
    ours = Birch(**params).fit(X)
    ref = SkBirch(**params).fit(X)
    # scikit-learn picks the farthest pair of a splitting node from a distance matrix whose
    # rounding is not symmetric, so which half keeps the node's place (the order of the
    # leaves) may differ; the subclusters and the partition of the points may not
    a, order_a = _sorted_rows(ours.subcluster_centers_)
    b, order_b = _sorted_rows(ref.subcluster_centers_)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    sizes_ref = np.concatenate(
        [[s.n_samples_ for s in leaf.subclusters_] for leaf in ref._get_leaves()]
    )
    np.testing.assert_array_equal(ours.subcluster_sizes_[order_a], sizes_ref[order_b])
    assert same_partition(ours.labels_, ref.labels_)
    # with n_clusters=None a label is a subcluster, and a subcluster need not be the nearest
    # one of any point: labels may have gaps
    assert ours.labels_.dtype == np.int64
    assert ours.labels_.min() >= 0 and ours.labels_.max() < ours.subcluster_centers_.shape[0]


def test_features_stay_exact_far_from_the_origin():
    X, _ = _blobs(2, n=800)
    X = 0.05 * X
    near = Birch(threshold=0.05, n_clusters=None).fit(X)
    far = Birch(threshold=0.05, n_clusters=None).fit(X + 1e7)
    np.testing.assert_allclose(far.subcluster_centers_ - 1e7, near.subcluster_centers_, atol=1e-7)
    np.testing.assert_array_equal(far.labels_, near.labels_)
    # scikit-learn's radius, SS/n - |LS/n|^2, cancels catastrophically at 1e7
    ref = SkBirch(threshold=0.05, n_clusters=None).fit(X + 1e7)
    assert ref.subcluster_centers_.shape[0] != near.subcluster_centers_.shape[0]


def test_leaf_radii_within_threshold_and_sizes_add_up():
    X, _ = _blobs(3)
    model = Birch(threshold=0.4, branching_factor=7, n_clusters=None).fit(X)
    tree = model._tree
    entries = leaf_entries(tree)
    radius = np.sqrt(tree[2][entries] / tree[0][entries])
    assert radius.max() <= 0.4 + 1e-12
    assert model.subcluster_sizes_.sum() == X.shape[0]


def test_partial_fit_in_chunks_builds_the_same_tree():
    X, _ = _blobs(4, n=2000)
    whole = Birch(threshold=0.4, branching_factor=6).fit(X)
    chunks = Birch(threshold=0.4, branching_factor=6)
    for part in np.array_split(X, 10):
        chunks.partial_fit(part)
    for a, b in zip(whole._tree, chunks._tree, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(whole.subcluster_labels_, chunks.subcluster_labels_)
    np.testing.assert_array_equal(chunks.labels_, whole.labels_[-chunks.labels_.shape[0] :])
    chunks.partial_fit()  # global step only
    np.testing.assert_array_equal(whole.subcluster_labels_, chunks.subcluster_labels_)


def test_memory_limit_raises_the_threshold_and_rebuilds():
    X, y = make_blobs(n_samples=20000, centers=4, n_features=4, cluster_std=0.7, random_state=0)
    free = Birch(threshold=0.2, n_clusters=4).fit(X)
    bounded = Birch(threshold=0.2, n_clusters=4, memory_limit=0.25).fit(X)
    assert bounded.n_rebuilds_ >= 1
    assert bounded.threshold_ > 0.2
    per_entry = 2 * (8 * X.shape[1] + 40)
    assert bounded._tree[8][0] * per_entry <= 0.25 * 2**20
    assert bounded.subcluster_centers_.shape[0] < free.subcluster_centers_.shape[0]
    assert adjusted_rand_score(y, bounded.labels_) > 0.95
    # the limit applies per inserted point, so chunks rebuild at the same moments
    chunks = Birch(threshold=0.2, n_clusters=4, memory_limit=0.25)
    for part in np.array_split(X, 7):
        chunks.partial_fit(part)
    np.testing.assert_array_equal(chunks.subcluster_centers_, bounded.subcluster_centers_)
    assert chunks.threshold_ == bounded.threshold_


def test_global_step_is_weighted_kmeans_by_default():
    X, y = _blobs(5, n=3000)
    model = Birch(threshold=0.6, n_clusters=5).fit(X)
    check_labels(model.labels_, X.shape[0])
    assert adjusted_rand_score(y, model.labels_) > 0.99
    km = KMeans(5, n_init=4, random_state=0).fit(
        model.subcluster_centers_, sample_weight=model.subcluster_sizes_
    )
    np.testing.assert_array_equal(model.subcluster_labels_, km.labels_)


def test_global_step_takes_any_clusterer():
    X, _ = _blobs(6, n=1500)
    user = AgglomerativeClustering(n_clusters=5)
    model = Birch(n_clusters=user).fit(X)
    assert not hasattr(user, "labels_")  # cloned, the user's estimator is untouched
    # scikit-learn's own global step (unweighted Ward on the same subclusters)
    ref = SkBirch(n_clusters=AgglomerativeClustering(n_clusters=5)).fit(X)
    assert same_partition(model.labels_, ref.labels_)
    weighted = Birch(n_clusters=KMeans(5, random_state=0)).fit(X)
    assert isinstance(weighted.global_estimator_, KMeans)
    np.testing.assert_array_equal(weighted.predict(X), weighted.labels_)


def test_too_few_subclusters_warns():
    X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0]])
    with pytest.warns(ConvergenceWarning, match="found 2 subclusters, fewer than n_clusters=3"):
        model = Birch(threshold=0.5, n_clusters=3).fit(X)
    np.testing.assert_array_equal(model.labels_, [0, 0, 1])


def test_predict_and_transform_against_brute_force():
    X, _ = _blobs(7, n=600)
    model = Birch(threshold=0.8).fit(X)
    queries = np.random.default_rng(0).normal(scale=6, size=(300, 3))
    dist = euclidean_distances(queries, model.subcluster_centers_)
    np.testing.assert_allclose(model.transform(queries), dist, rtol=1e-10, atol=1e-10)
    exact = ((queries[:, None] - model.subcluster_centers_[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(
        model.predict(queries), model.subcluster_labels_[np.argmin(exact, axis=1)]
    )


def test_float32_stays_float32():
    X, _ = _blobs(8, n=500)
    model = Birch(threshold=0.7).fit(X.astype(np.float32))
    assert model.subcluster_centers_.dtype == np.float32
    assert model.transform(X.astype(np.float32)).dtype == np.float32
    ref = Birch(threshold=0.7).fit(X)
    assert adjusted_rand_score(model.labels_, ref.labels_) > 0.99


@pytest.fixture(scope="module")
def deep_model():
    X, _ = make_blobs(n_samples=4000, centers=30, n_features=2, random_state=0)
    return X, Birch(threshold=0.05, branching_factor=2, n_clusters=8).fit(X)


def _depth(tree) -> int:
    cf_child, slots, counters = tree[3], tree[4], tree[8]
    depth, node = 1, counters[2]
    while cf_child[slots[node, 0]] >= 0:
        node = cf_child[slots[node, 0]]
        depth += 1
    return depth


def test_deep_tree_pickles(deep_model):
    X, model = deep_model
    assert _depth(model._tree) >= 12
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.predict(X), model.labels_)
    loaded.partial_fit(X[:100])  # the loaded tree keeps growing
    assert loaded.subcluster_sizes_.sum() == X.shape[0] + 100


def test_deep_tree_round_trips_through_skops(deep_model):
    import skops.io as sio

    X, model = deep_model
    payload = sio.dumps(model)
    untrusted = sio.get_untrusted_types(data=payload)
    # the types a clusterlab model file may hold (persistence's allowlist)
    assert all(t.startswith(("clusterlab.cluster.", "sklearn.")) for t in untrusted), untrusted
    loaded = sio.loads(payload, trusted=untrusted)
    np.testing.assert_array_equal(loaded.predict(X), model.labels_)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"threshold": 0}, r"threshold must be a number in \(0, inf\)"),
        ({"branching_factor": 1}, r"branching_factor must be an int in \(1, inf\)"),
        ({"memory_limit": -1.0}, r"memory_limit must be a number in \(0, inf\) or None"),
        ({"n_clusters": "three"}, "n_clusters must be None"),
    ],
)
def test_bad_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        Birch(**params).fit(np.zeros((5, 2)))


def test_partial_fit_checks_features():
    model = Birch().partial_fit(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="X has 3 features"):
        model.partial_fit(np.zeros((5, 3)))


@parametrize_with_checks([Birch(), Birch(n_clusters=None, memory_limit=1.0)])
def test_sklearn_compatible(estimator, check):
    check(estimator)
