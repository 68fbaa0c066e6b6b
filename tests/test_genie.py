"""Genie: the merge rule against a plain-Python reference, single linkage and genieclust."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.cluster.hierarchy as sch
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import cdist, pdist, squareform

from clusterlab import AgglomerativeClustering, Genie
from clusterlab.kernels.genie import genie_merges, gini_index
from tests.checks import check_labels, same_partition

RNG = np.random.default_rng(11)
BLOBS = np.concatenate(
    [
        RNG.normal((0, 0), 0.4, (80, 2)),
        RNG.normal((4, 0), 0.6, (60, 2)),
        RNG.normal((0, 5), 0.3, (30, 2)),
        RNG.uniform(-3, 7, (10, 2)),
    ]
)


def _reference_merges(a, b, n, threshold):
    """The rule as the 2016 paper states it, one merge at a time, in plain Python."""
    cluster = list(range(n))
    members = {i: {i} for i in range(n)}
    used = [False] * len(a)
    order = []
    for _ in range(n - 1):
        sizes = [len(m) for m in members.values()]
        k = len(sizes)
        spread = sum(abs(x - y) for i, x in enumerate(sizes) for y in sizes[i + 1 :])
        if k > 1 and spread / ((k - 1) * n) > threshold:
            smallest = min(sizes)
            e = next(
                e
                for e in range(len(a))
                if not used[e]
                and smallest in (len(members[cluster[a[e]]]), len(members[cluster[b[e]]]))
            )
        else:
            e = used.index(False)
        used[e] = True
        order.append(e)
        keep, gone = cluster[a[e]], cluster[b[e]]
        for p in members[gone]:
            cluster[p] = keep
        members[keep] |= members.pop(gone)
    return order


@pytest.mark.parametrize("seed", range(8))
def test_merge_rule_equals_reference(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 50))
    tree = minimum_spanning_tree(squareform(pdist(rng.normal(size=(n, 2))))).tocoo()
    order = np.argsort(tree.data, kind="stable")
    a = tree.row[order].astype(np.int64)
    b = tree.col[order].astype(np.int64)
    for threshold in (0.0, 0.2, 0.5, 1.0):
        edge, left, right, size = genie_merges(a, b, threshold)
        assert edge.tolist() == _reference_merges(a, b, n, threshold)
        assert np.all(left < right)
        assert size[-1] == n


@pytest.mark.parametrize("shape", ["path", "star", "attach"])
def test_merge_rule_equals_reference_on_shaped_trees(shape):
    """Trees whose smallest cluster size changes often, so that the forced scan restarts
    (edges in random order: the order is the tie-break, any order is a valid input)."""
    rng = np.random.default_rng(5)
    n = 120
    a = np.arange(1, n, dtype=np.int64)
    if shape == "path":
        b = a - 1
    elif shape == "star":
        b = np.zeros(n - 1, dtype=np.int64)
    else:
        b = (rng.uniform(size=n - 1) * a).astype(np.int64)
    order = rng.permutation(n - 1)
    a, b = a[order], b[order]
    for threshold in (0.05, 0.3, 0.7):
        edge, _, _, size = genie_merges(a, b, threshold)
        assert edge.tolist() == _reference_merges(a, b, n, threshold)
        assert size[-1] == n


def _vectorised_reference(a, b, n, threshold):
    """The rule of :func:`_reference_merges`, each merge from scratch with numpy (the spread
    from the sorted sizes), fast enough for trees whose clusters grow past a thousand."""
    cluster = np.arange(n)
    used = np.zeros(len(a), dtype=bool)
    order = []
    for _ in range(n - 1):
        size_of = np.bincount(cluster, minlength=n)
        sizes = np.sort(size_of[size_of > 0])
        k = len(sizes)
        spread = int(np.sum((2 * np.arange(k) - k + 1) * sizes))
        if k > 1 and spread / ((k - 1.0) * n) > threshold:
            smallest = sizes[0]
            ends = (size_of[cluster[a]] == smallest) | (size_of[cluster[b]] == smallest)
            e = int(np.argmax(~used & ends))
        else:
            e = int(np.argmax(~used))
        used[e] = True
        order.append(e)
        cluster[cluster == cluster[b[e]]] = cluster[a[e]]
    return order


@pytest.mark.parametrize("shape", ["blobs", "attach"])
def test_merge_rule_equals_reference_on_large_trees(shape):
    """Clusters grow past 1,024 points, so the size bookkeeping doubles its range many times."""
    rng = np.random.default_rng(7)
    n = 1500
    if shape == "blobs":
        X = np.concatenate([rng.normal(c, 0.3 + c / 10, (n // 5, 2)) for c in range(5)])
        tree = minimum_spanning_tree(squareform(pdist(X))).tocoo()
        order = np.argsort(tree.data, kind="stable")
        a, b = tree.row[order].astype(np.int64), tree.col[order].astype(np.int64)
    else:
        a = np.arange(1, n, dtype=np.int64)
        b = (rng.uniform(size=n - 1) ** 3 * a).astype(np.int64)
        order = rng.permutation(n - 1)
        a, b = a[order], b[order]
    for threshold in (0.1, 0.3, 0.6):
        edge, left, right, size = genie_merges(a, b, threshold)
        assert edge.tolist() == _vectorised_reference(a, b, n, threshold)
        assert np.all(left < right) and size[-1] == n


def test_gini_index():
    assert gini_index(np.array([5, 5, 5])) == 0.0
    assert gini_index(np.array([7])) == 0.0
    sizes = np.array([1, 2, 10, 3])
    pairs = sum(abs(x - y) for i, x in enumerate(sizes) for y in sizes[i + 1 :])
    assert gini_index(sizes) == pytest.approx(pairs / ((len(sizes) - 1) * sizes.sum()))


def test_threshold_one_is_single_linkage():
    genie = Genie(2, gini_threshold=1.0).fit(BLOBS)
    single = AgglomerativeClustering(2, linkage="single").fit(BLOBS)
    np.testing.assert_allclose(genie.distances_, single.distances_)
    for k in (2, 3, 7, 40):
        assert same_partition(genie.cut(n_clusters=k), single.cut(n_clusters=k))


def test_linkage_matrix_is_valid_and_monotone():
    model = Genie(4).fit(BLOBS)
    Z = model.linkage_matrix_
    assert sch.is_valid_linkage(Z)
    assert np.all(np.diff(Z[:, 2]) >= 0)
    assert sch.dendrogram(Z, no_plot=True)["leaves"]
    check_labels(model.labels_, BLOBS.shape[0])


def test_refit_and_cut_equal_fresh_fits():
    model = Genie(3, gini_threshold=0.3).fit(BLOBS)
    assert np.array_equal(model.cut(n_clusters=5), Genie(5).fit(BLOBS).labels_)
    fresh = Genie(4, gini_threshold=0.6).fit(BLOBS)
    model.refit(n_clusters=4, gini_threshold=0.6)
    assert model.get_params()["gini_threshold"] == 0.6
    assert np.array_equal(model.labels_, fresh.labels_)
    assert np.array_equal(model.linkage_matrix_, fresh.linkage_matrix_)
    with pytest.raises(ValueError, match=r"gini_threshold must be a number in \[0, 1\]; got 2"):
        model.refit(gini_threshold=2)
    assert model.get_params()["gini_threshold"] == 0.6


@pytest.mark.parametrize("M", [1, 4])
def test_predict_joins_the_nearest_tree_vertex(M):
    model = Genie(3, M=M).fit(BLOBS)
    Q = np.random.default_rng(3).uniform(-3, 7, (40, 2))
    D = cdist(Q, BLOBS)
    value = np.maximum(D, model.core_distances_[None, :])
    expected = []
    for row in range(Q.shape[0]):
        candidates = np.flatnonzero(value[row] == value[row].min())
        expected.append(candidates[np.argmin(D[row, candidates])])
    assert np.array_equal(model.predict(Q), model.labels_[expected])
    if M <= 1:  # a training point is its own nearest vertex
        assert np.array_equal(model.predict(BLOBS), model.labels_)


@pytest.mark.parametrize(
    ("metric", "algorithm"), [("euclidean", "boruvka"), ("euclidean", "prim"), ("cosine", "auto")]
)
def test_predict_keeps_training_labels_after_the_input_changes(metric, algorithm):
    """The model owns its training rows: changing the array passed to fit, or a pickle round
    trip before the first predict (the rows are sorted lazily), changes no label."""
    X = BLOBS + 5.0  # cosine needs non-zero rows; a fresh array the test may overwrite
    model = Genie(3, M=4, metric=metric, mst_algorithm=algorithm).fit(X)
    original = X.copy()
    X[:] = 0.0
    restored = pickle.loads(pickle.dumps(model))
    assert np.array_equal(model.predict(original), model.labels_)
    assert np.array_equal(restored.predict(original), model.labels_)


def test_models_saved_with_the_older_row_layout_still_predict():
    """Fitted before RowIndex, a model kept ``_rows`` and ``_row_order``: a file of one loads
    and predicts the training labels."""
    from clusterlab.cluster._exact_rows import sorted_rows

    model = Genie(3, M=4).fit(BLOBS)
    del model._row_index
    model._rows, model._row_order = sorted_rows(BLOBS)
    assert np.array_equal(model.predict(BLOBS), model.labels_)


@pytest.mark.parametrize("M", [1, 4])
def test_prim_and_boruvka_agree(M):
    boruvka = Genie(3, M=M, mst_algorithm="boruvka").fit(BLOBS)
    prim = Genie(3, M=M, mst_algorithm="prim").fit(BLOBS)
    np.testing.assert_allclose(boruvka.mst_[2], prim.mst_[2])
    assert np.array_equal(boruvka.labels_, prim.labels_)


def test_core_distances_follow_genieclust_convention():
    model = Genie(2, M=3).fit(BLOBS)
    D = np.sort(cdist(BLOBS, BLOBS), axis=1)
    np.testing.assert_allclose(model.core_distances_, D[:, 3])
    total = minimum_spanning_tree(
        np.maximum(squareform(pdist(BLOBS)), np.maximum.outer(D[:, 3], D[:, 3]))
        * (1 - np.eye(len(BLOBS)))
    ).sum()
    assert model.mst_[2].sum() == pytest.approx(total)


def test_cosine_is_euclidean_on_unit_rows():
    X = np.abs(BLOBS) + 0.5
    cosine = Genie(3, metric="cosine").fit(X)
    unit = Genie(3).fit(X / np.linalg.norm(X, axis=1, keepdims=True))
    assert np.array_equal(cosine.labels_, unit.labels_)
    np.testing.assert_allclose(cosine.mst_[2], unit.mst_[2] ** 2 / 2)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n_clusters": 181}, r"n_clusters must be an int in \[1, n_samples=180\]; got 181"),
        ({"M": 180}, r"M must be an int in \[0, n_samples - 1=179\]; got 180"),
        ({"gini_threshold": -0.1}, r"gini_threshold must be a number in \[0, 1\]"),
        ({"mst_algorithm": "kruskal"}, "mst_algorithm must be one of"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        Genie(**params).fit(BLOBS)


def test_labels_equal_genieclust():
    genieclust = pytest.importorskip("genieclust")
    for M in (1, 5):
        for k in (2, 3, 4):
            ours = Genie(k, M=M).fit(BLOBS).labels_
            ref = genieclust.Genie(n_clusters=k, M=M).fit_predict(BLOBS)
            assert same_partition(ours, ref), (M, k)


def test_approximate_tree_close_to_exact():
    """The approximate spanning tree (k-nearest-neighbour graph, joined components) is nearly
    minimal and gives the exact tree's clusters on separated data, the same for any thread
    count."""
    import numba

    rng = np.random.default_rng(4)
    latent = np.concatenate([rng.normal(c, 1.0, (150, 3)) for c in (0, 8, 16)])
    X = latent @ rng.normal(size=(3, 40)) + rng.normal(0, 0.1, (450, 40))
    exact = Genie(3).fit(X)
    approx = Genie(3, mst_algorithm="approximate").fit(X)
    assert same_partition(approx.labels_, exact.labels_)
    assert approx.mst_[2].sum() <= 1.02 * exact.mst_[2].sum()
    before = numba.get_num_threads()
    one = Genie(3, mst_algorithm="approximate", n_jobs=1).fit(X)
    assert numba.get_num_threads() == before
    assert np.array_equal(one.mst_[0], approx.mst_[0])
    assert np.array_equal(one.labels_, approx.labels_)


@pytest.mark.parametrize("M", [3, 5])
def test_boruvka_and_prim_trees_are_identical_for_mutual_reachability(M):
    """Both prefer, between equal mutual reachability weights, the nearer pair (ends as the
    user's rows, whatever order the kd-tree keeps the points in)."""
    X = np.random.default_rng(3).normal(size=(600, 2))
    boruvka = Genie(3, M=M, mst_algorithm="boruvka").fit(X)
    prim = Genie(3, M=M, mst_algorithm="prim").fit(X)
    for ours, theirs in zip(boruvka.mst_, prim.mst_, strict=True):
        assert np.array_equal(ours, theirs)
    assert np.array_equal(boruvka.labels_, prim.labels_)


def test_labels_equal_genieclust_on_gaussian_noise():
    """Unstructured data, where the choice among equal mutual reachability weights decides
    the clusters (a tree that ignored the raw distances gave ARI 0.51 here)."""
    genieclust = pytest.importorskip("genieclust")
    X = np.random.default_rng(3).normal(size=(3000, 3))
    for M in (3, 5):
        ref = genieclust.Genie(n_clusters=2, M=M).fit_predict(X)
        assert same_partition(Genie(2, M=M).fit(X).labels_, ref), M
