"""AgglomerativeClustering and linkage() against scipy and scikit-learn."""

from __future__ import annotations

import numba
import numpy as np
import pytest
import scipy.cluster.hierarchy as sch
from sklearn.cluster import AgglomerativeClustering as SkAgglomerative

from clusterlab import AgglomerativeClustering, config_context, linkage
from tests.checks import check_labels, same_partition

METHODS = ["ward", "complete", "average", "single", "weighted", "centroid", "median"]
RNG = np.random.default_rng(7)
X_SMALL = RNG.normal(size=(60, 3))
# integer data: many equal distances
X_TIED = np.random.default_rng(3).integers(0, 4, size=(40, 2)).astype(np.float64)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_linkage_equals_scipy(method, dtype):
    X = X_SMALL.astype(dtype)
    Z = linkage(X, method)
    ref = sch.linkage(X, method)
    assert Z.dtype == np.float64
    assert np.array_equal(Z[:, [0, 1, 3]], ref[:, [0, 1, 3]])
    # condensed linkages keep float32 distances for float32 data
    rtol = 1e-6 if dtype == np.float32 and method in ("complete", "average", "weighted") else 1e-9
    np.testing.assert_allclose(Z[:, 2], ref[:, 2], rtol=rtol)
    assert sch.is_valid_linkage(Z)


@pytest.mark.parametrize("method", METHODS)
def test_tied_data_heights_and_cuts(method):
    """Ties: the condensed linkages are scipy's merge for merge; the others give scipy's heights
    and scipy's partition at every cut between two distinct heights."""
    Z = linkage(X_TIED, method)
    ref = sch.linkage(X_TIED, method)
    assert sch.is_valid_linkage(Z)
    if method in ("complete", "average", "weighted"):
        assert np.array_equal(Z, ref)
        return
    if method in ("centroid", "median"):
        # inversions: the rows are in merge order, so compare the whole matrix where the two
        # computations of the distances agree on every tie (true for this data)
        np.testing.assert_allclose(Z, ref, rtol=1e-9, atol=1e-12)
        return
    np.testing.assert_allclose(Z[:, 2], ref[:, 2], rtol=1e-9)
    n = X_TIED.shape[0]
    heights = ref[:, 2]
    for k in range(2, n):
        if heights[n - k - 1] == heights[n - k]:
            continue  # the cut into k clusters is not defined by the data
        ours = sch.fcluster(Z, k, criterion="maxclust")
        theirs = sch.fcluster(ref, k, criterion="maxclust")
        assert same_partition(ours, theirs), k


def test_dendrogram_accepts_linkage_matrix():
    Z = AgglomerativeClustering(3, linkage="average").fit(X_SMALL).linkage_matrix_
    leaves = sch.dendrogram(Z, no_plot=True)["leaves"]
    assert sorted(leaves) == list(range(X_SMALL.shape[0]))


@pytest.mark.parametrize("method", ["ward", "complete", "average", "single"])
def test_attributes_equal_sklearn(method):
    ours = AgglomerativeClustering(4, linkage=method).fit(X_SMALL)
    ref = SkAgglomerative(4, linkage=method, compute_distances=True).fit(X_SMALL)
    check_labels(ours.labels_, X_SMALL.shape[0])
    np.testing.assert_allclose(ours.distances_, ref.distances_, rtol=1e-9)
    assert ours.n_leaves_ == ref.n_leaves_
    assert ours.n_connected_components_ == ref.n_connected_components_ == 1
    if method == "single":
        # scikit-learn writes single-linkage children in Prim's orientation, not scipy's
        assert same_partition(ours.labels_, ref.labels_)
    else:
        assert np.array_equal(ours.children_, ref.children_)
        assert np.array_equal(ours.labels_, ref.labels_)


@pytest.mark.parametrize("method", ["ward", "average"])
def test_distance_threshold_as_sklearn(method):
    threshold = float(np.median(linkage(X_SMALL, method)[:, 2]))
    ours = AgglomerativeClustering(None, linkage=method, distance_threshold=threshold)
    ref = SkAgglomerative(None, linkage=method, distance_threshold=threshold)
    ours.fit(X_SMALL)
    ref.fit(X_SMALL)
    assert ours.n_clusters_ == ref.n_clusters_
    assert np.array_equal(ours.labels_, ref.labels_)
    assert np.array_equal(ours.cut(distance=threshold), ours.labels_)


def test_cut_gives_every_k_of_the_tree():
    model = AgglomerativeClustering(2).fit(X_SMALL)
    for k in (1, 2, 5, 17, X_SMALL.shape[0]):
        expected = SkAgglomerative(k).fit(X_SMALL).labels_
        assert np.array_equal(model.cut(n_clusters=k), expected)
    assert model.n_clusters_ == 2  # cutting does not change the fitted model


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "exactly one of n_clusters and distance"),
        ({"n_clusters": 2, "distance": 1.0}, "exactly one of n_clusters and distance"),
        ({"n_clusters": 0}, r"n_clusters must be an int in \[1, n_samples=60\]; got 0"),
        ({"n_clusters": 61}, r"n_clusters must be an int in \[1, n_samples=60\]; got 61"),
        ({"distance": "far"}, "distance must be a number; got 'far'"),
    ],
)
def test_cut_rejects_bad_requests(kwargs, match):
    model = AgglomerativeClustering(2).fit(X_SMALL)
    with pytest.raises(ValueError, match=match):
        model.cut(**kwargs)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n_clusters": None}, "Exactly one of n_clusters and distance_threshold"),
        ({"n_clusters": 2, "distance_threshold": 1.0}, "Exactly one of n_clusters"),
        (
            {"n_clusters": None, "distance_threshold": 1.0, "compute_full_tree": False},
            "compute_full_tree must be True",
        ),
        ({"linkage": "ward", "metric": "manhattan"}, "linkage='ward' needs metric='euclidean'"),
        ({"linkage": "median", "metric": "cosine"}, "linkage='median' needs metric='euclidean'"),
        ({"n_clusters": 61}, r"n_clusters must be an int in \[1, n_samples=60\]; got 61"),
        ({"linkage": "centroids"}, "linkage must be one of"),
        ({"n_clusters": 0}, r"n_clusters must be an int in \[1, inf\) or None; got 0"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        AgglomerativeClustering(**params).fit(X_SMALL)


def test_linkage_refuses_condensed_input():
    with pytest.raises(ValueError, match="X must be a 2-D array of observations"):
        linkage(np.ones(10), "single")


def test_memory_check_raises_before_allocating():
    # 200,000 points need a 160 GB matrix: only a check made first can answer at once
    X = np.zeros((200_000, 1))
    with (
        config_context(memory_budget=64),
        pytest.raises(MemoryError, match=r"connectivity=.*linkage='ward' or 'single'.*Genie"),
    ):
        AgglomerativeClustering(2, linkage="average").fit(X)


def _brute_rule(method, X, labels, Q):
    """The documented out-of-sample rule, in plain numpy."""
    D = np.sqrt(((Q[:, None, :] - X[None, :, :]) ** 2).sum(-1))
    k = labels.max() + 1
    if method == "single":
        return labels[np.argmin(D, axis=1)]
    if method in ("ward", "centroid"):
        centers = np.array([X[labels == c].mean(axis=0) for c in range(k)])
        return np.argmin(((Q[:, None, :] - centers[None]) ** 2).sum(-1), axis=1)
    if method == "complete":
        agg = np.array([D[:, labels == c].max(axis=1) for c in range(k)]).T
    elif method == "average":
        agg = np.array([D[:, labels == c].mean(axis=1) for c in range(k)]).T
    else:
        return None
    return np.argmin(agg, axis=1)


@pytest.mark.parametrize("method", ["ward", "centroid", "single", "complete", "average"])
def test_predict_follows_the_linkage_rule(method):
    model = AgglomerativeClustering(4, linkage=method).fit(X_SMALL)
    Q = np.random.default_rng(1).normal(size=(25, 3))
    expected = _brute_rule(method, X_SMALL, model.labels_, Q)
    assert np.array_equal(model.predict(Q), expected)


def test_predict_weighted_is_the_wpgma_distance():
    """WPGMA: d(x, A u B) = (d(x, A) + d(x, B)) / 2, down the tree of each cluster."""
    k = 3
    model = AgglomerativeClustering(k, linkage="weighted").fit(X_SMALL)
    n = X_SMALL.shape[0]
    queries = np.random.default_rng(2).normal(size=(10, 3))
    for q in queries:
        node_d = list(np.sqrt(((X_SMALL - q) ** 2).sum(1))) + [0.0] * (n - 1)
        for i, (a, b) in enumerate(model.children_):
            node_d[n + i] = (node_d[a] + node_d[b]) / 2
        # the clusters of the cut: children of the k - 1 latest merges not merged themselves
        latest = model.children_[n - k :].ravel()
        tops = [int(node) for node in latest if node < 2 * n - k]
        best = min(tops, key=lambda node: node_d[node])
        leaf = best
        while leaf >= n:
            leaf = model.children_[leaf - n][0]
        assert model.predict(q[None])[0] == model.labels_[leaf]


def test_cosine_metric_equals_scipy():
    X = np.abs(X_SMALL) + 0.1
    for method in ("average", "complete", "single"):
        Z = linkage(X, method, metric="cosine")
        np.testing.assert_allclose(Z[:, 2], sch.linkage(X, method, "cosine")[:, 2], rtol=1e-7)


@pytest.mark.parametrize("method", ["single", "average"])
@pytest.mark.parametrize("metric", ["manhattan", "chebyshev"])
def test_other_metrics_equal_scipy(method, metric):
    scipy_name = {"manhattan": "cityblock", "chebyshev": "chebyshev"}[metric]
    Z = linkage(X_SMALL, method, metric=metric)
    np.testing.assert_allclose(Z[:, 2], sch.linkage(X_SMALL, method, scipy_name)[:, 2], rtol=1e-9)


def test_n_jobs_restored():
    before = numba.get_num_threads()
    AgglomerativeClustering(2, linkage="average", n_jobs=1).fit(X_SMALL)
    assert numba.get_num_threads() == before


def test_same_tree_for_any_thread_count():
    X = np.random.default_rng(5).normal(size=(300, 2))
    one = linkage(X, "average", n_jobs=1)
    two = linkage(X, "average", n_jobs=2)
    assert np.array_equal(one, two)


@pytest.fixture(scope="module")
def knn_graph():
    from sklearn.neighbors import kneighbors_graph

    return kneighbors_graph(X_SMALL, 6, include_self=False)


@pytest.mark.parametrize("method", ["ward", "complete", "average", "single"])
@pytest.mark.parametrize("full", [True, False])
def test_connectivity_equals_sklearn(method, full, knn_graph):
    ours = AgglomerativeClustering(
        4, linkage=method, connectivity=knn_graph, compute_full_tree=full
    ).fit(X_SMALL)
    ref = SkAgglomerative(
        4, linkage=method, connectivity=knn_graph, compute_full_tree=full, compute_distances=True
    ).fit(X_SMALL)
    assert same_partition(ours.labels_, ref.labels_)
    if full:
        np.testing.assert_allclose(ours.distances_, ref.distances_, rtol=1e-9)
        assert sch.is_valid_linkage(ours.linkage_matrix_)
    else:
        assert np.array_equal(ours.labels_, ref.labels_)
        assert not hasattr(ours, "linkage_matrix_")
        with pytest.raises(ValueError, match="cut needs the whole tree"):
            ours.cut(n_clusters=5)


def test_connectivity_as_int_callable_or_graph(knn_graph):
    from sklearn.neighbors import kneighbors_graph

    as_int = AgglomerativeClustering(3, connectivity=6).fit(X_SMALL)
    as_graph = AgglomerativeClustering(3, connectivity=knn_graph).fit(X_SMALL)
    as_callable = AgglomerativeClustering(
        3, connectivity=lambda X: kneighbors_graph(X, 6, include_self=False)
    ).fit(X_SMALL)
    assert np.array_equal(as_int.labels_, as_graph.labels_)
    assert np.array_equal(as_callable.labels_, as_graph.labels_)
    check_labels(as_int.predict(X_SMALL), X_SMALL.shape[0])


def test_disconnected_graph_is_completed_as_sklearn():
    from sklearn.neighbors import kneighbors_graph

    X = np.vstack([X_SMALL, X_SMALL + 50.0])
    graph = kneighbors_graph(X, 3, include_self=False)
    with pytest.warns(UserWarning, match="connected components of the connectivity matrix is"):
        ours = AgglomerativeClustering(2, linkage="average", connectivity=graph).fit(X)
    with pytest.warns(UserWarning, match="connected components"):
        ref = SkAgglomerative(2, linkage="average", connectivity=graph).fit(X)
    assert ours.n_connected_components_ == ref.n_connected_components_ > 1
    assert same_partition(ours.labels_, ref.labels_)


def test_connectivity_wrong_shape():
    with pytest.raises(ValueError, match=r"connectivity must be an \(n_samples, n_samples\)"):
        AgglomerativeClustering(2, connectivity=np.ones((3, 3))).fit(X_SMALL)
