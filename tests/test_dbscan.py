"""DBSCAN against scikit-learn on real shapes and random data, invariances and edge cases."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cluster import DBSCAN as SkDBSCAN
from sklearn.neighbors import NearestNeighbors, radius_neighbors_graph
from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab import DBSCAN
from tests.checks import check_labels, same_partition

DATA = Path(__file__).resolve().parents[1] / ".." / ".." / "shared" / "data"
BENCH = Path("/work/shared/data/clustering-benchmarks")
SHAPES = [
    "sipu/aggregation",
    "sipu/compound",
    "fcps/atom",
    "fcps/chainlink",
    "fcps/lsun",
    "fcps/target",
    "other/chameleon_t7_10k",
]


def _load(name: str, max_rows: int = 2000) -> np.ndarray:
    with gzip.open(BENCH / f"{name}.data.gz", "rt") as fh:
        X = np.loadtxt(fh, ndmin=2)
    if len(X) > max_rows:
        X = X[np.random.default_rng(0).choice(len(X), max_rows, replace=False)]
    return X


def _eps_for(X: np.ndarray, k: int) -> float:
    """A sensible eps: the 60th percentile of the distance to the k-th neighbour."""
    dist, _ = NearestNeighbors(n_neighbors=k).fit(X).kneighbors(X)
    return float(np.quantile(dist[:, -1], 0.6))


def assert_same_as_sklearn(ours: DBSCAN, ref: SkDBSCAN) -> None:
    """Identical core points and labels (our border rule reproduces scikit-learn's)."""
    np.testing.assert_array_equal(ours.core_sample_indices_, ref.core_sample_indices_)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    check_labels(ours.labels_, len(ref.labels_), allow_noise=True)


@pytest.fixture(scope="module", params=SHAPES)
def shape(request):
    X = _load(request.param)
    return request.param, X, _eps_for(X, 8)


@pytest.mark.parametrize("algorithm", ["grid", "kd_tree"])
def test_real_shapes_match_sklearn(shape, algorithm):
    _, X, eps = shape
    ours = DBSCAN(eps, min_samples=8, algorithm=algorithm).fit(X)
    ref = SkDBSCAN(eps=eps, min_samples=8).fit(X)
    assert_same_as_sklearn(ours, ref)
    assert ours.n_clusters_ >= 1


@pytest.mark.parametrize("metric", ["manhattan", "chebyshev", "cosine"])
def test_other_metrics_match_sklearn(metric):
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(c, 0.4, size=(150, 4)) for c in (1.0, 3.0, 5.0)])
    eps = {"manhattan": 1.0, "chebyshev": 0.45, "cosine": 0.01}[metric]
    ours = DBSCAN(eps, min_samples=6, metric=metric).fit(X)
    ref = SkDBSCAN(eps=eps, min_samples=6, metric=metric).fit(X)
    assert_same_as_sklearn(ours, ref)
    assert ours.n_clusters_ >= 1 and np.any(ours.labels_ == -1)


@pytest.mark.parametrize("d", [1, 2, 3, 6])
def test_random_data_every_algorithm(d):
    rng = np.random.default_rng(d)
    X = rng.uniform(size=(800, d))
    eps = _eps_for(X, 5)
    ref = SkDBSCAN(eps=eps, min_samples=5).fit(X)
    for algorithm in ("auto", "grid", "kd_tree"):
        assert_same_as_sklearn(DBSCAN(eps, min_samples=5, algorithm=algorithm).fit(X), ref)


def test_float32_kept_and_matches_sklearn():
    X = _load("sipu/aggregation").astype(np.float32)
    ours = DBSCAN(1.5, min_samples=8).fit(X)
    assert ours.components_.dtype == np.float32
    assert_same_as_sklearn(ours, SkDBSCAN(eps=1.5, min_samples=8).fit(X))


def test_sample_weight_matches_sklearn_and_repeats():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 2))
    w = rng.integers(0, 4, size=400)
    w[:100] = np.maximum(w[:100], 1)
    ours = DBSCAN(0.3, min_samples=12, algorithm="grid").fit(X, sample_weight=w)
    assert_same_as_sklearn(ours, SkDBSCAN(eps=0.3, min_samples=12).fit(X, sample_weight=w))
    tree = DBSCAN(0.3, min_samples=12, algorithm="kd_tree").fit(X, sample_weight=w)
    np.testing.assert_array_equal(tree.labels_, ours.labels_)
    # positive integer weights count like repeated rows (a zero-weight point can still be core
    # and join clusters, so it is not the same as a dropped row)
    w = np.maximum(w, 1)
    weighted = DBSCAN(0.3, min_samples=12).fit(X, sample_weight=w)
    repeated = DBSCAN(0.3, min_samples=12).fit(np.repeat(X, w, axis=0))
    first = np.concatenate([[0], np.cumsum(w)[:-1]])
    np.testing.assert_array_equal(repeated.labels_[first], weighted.labels_)


def test_precomputed_dense_and_sparse_match_sklearn():
    X = _load("sipu/compound", max_rows=600)
    eps = _eps_for(X, 6)
    ref = SkDBSCAN(eps=eps, min_samples=6).fit(X)
    dense = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(-1))
    assert_same_as_sklearn(DBSCAN(eps, min_samples=6, metric="precomputed").fit(dense), ref)
    graph = radius_neighbors_graph(X, radius=eps, mode="distance")
    ours = DBSCAN(eps, min_samples=6, metric="precomputed").fit(graph)
    assert_same_as_sklearn(ours, SkDBSCAN(eps=eps, min_samples=6, metric="precomputed").fit(graph))
    # predicting from distances to the training points: training core points keep their labels
    core = ours.core_sample_indices_
    np.testing.assert_array_equal(ours.predict(graph[core]), ours.labels_[core])
    np.testing.assert_array_equal(ours.predict(dense[core]), ours.labels_[core])


@pytest.fixture(scope="module")
def fitted():
    X = _load("sipu/aggregation")
    return X, DBSCAN(1.2, min_samples=8).fit(X)


def test_predict_training_core_points_returns_their_labels(fitted):
    X, model = fitted
    core = model.core_sample_indices_
    np.testing.assert_array_equal(model.predict(X[core]), model.labels_[core])
    np.testing.assert_array_equal(model.predict(model.components_), model.labels_[core])


def test_predict_rule_nearest_core_within_eps(fitted):
    X, model = fitted
    rng = np.random.default_rng(3)
    Q = np.vstack([X[rng.choice(len(X), 50)] + rng.normal(0, 0.8, size=(50, 2)), [[1e3, 1e3]]])
    got = model.predict(Q)
    d = np.sqrt(((Q[:, None, :] - model.components_[None]) ** 2).sum(-1))
    nearest = d.argmin(axis=1)
    expected = np.where(
        d.min(axis=1) <= model.eps, model.labels_[model.core_sample_indices_][nearest], -1
    )
    np.testing.assert_array_equal(got, expected)
    assert got[-1] == -1


def test_row_permutation_and_translation(fitted):
    X, model = fitted
    perm = np.random.default_rng(4).permutation(len(X))
    permuted = DBSCAN(1.2, min_samples=8).fit(X[perm])
    np.testing.assert_array_equal(
        np.sort(perm[permuted.core_sample_indices_]), model.core_sample_indices_
    )
    core = np.zeros(len(X), dtype=bool)
    core[model.core_sample_indices_] = True
    assert same_partition(permuted.labels_[np.argsort(perm)][core], model.labels_[core])
    # translation: on data without exact ties at distance eps (the benchmark shapes have
    # coordinates on a 0.01 grid, where a shift changes the rounding of boundary distances)
    Y = np.random.default_rng(6).normal(size=(600, 2))
    base = DBSCAN(0.2, min_samples=8).fit(Y)
    moved = DBSCAN(0.2, min_samples=8).fit(Y + np.array([1000.0, -250.0]))
    np.testing.assert_array_equal(moved.core_sample_indices_, base.core_sample_indices_)
    assert same_partition(moved.labels_, base.labels_)


def test_duplicating_every_point_with_doubled_min_samples(fitted):
    X, model = fitted
    twice = DBSCAN(1.2, min_samples=16).fit(np.vstack([X, X]))
    np.testing.assert_array_equal(twice.labels_[: len(X)], model.labels_)
    assert same_partition(twice.labels_[len(X) :], model.labels_)


def test_thread_count_does_not_change_result(fitted):
    X, model = fitted
    for algorithm in ("grid", "kd_tree"):
        one = DBSCAN(1.2, min_samples=8, algorithm=algorithm, n_jobs=1).fit(X)
        two = DBSCAN(1.2, min_samples=8, algorithm=algorithm, n_jobs=2).fit(X)
        np.testing.assert_array_equal(one.labels_, model.labels_)
        np.testing.assert_array_equal(two.labels_, model.labels_)


@pytest.mark.parametrize(
    ("metric", "eps"), [("manhattan", 0.9), ("chebyshev", 0.4), ("euclidean", 0.6)]
)
def test_serial_and_parallel_twins_agree_for_every_metric(metric, eps):
    # one thread and small data run the serial twin of the metric, two threads the parallel one
    X = np.random.default_rng(8).normal(size=(900, 3))
    ref = SkDBSCAN(eps=eps, min_samples=6, metric=metric).fit(X)
    for n_jobs in (1, 2):
        ours = DBSCAN(eps, min_samples=6, metric=metric, n_jobs=n_jobs).fit(X)
        assert_same_as_sklearn(ours, ref)
        core = ours.core_sample_indices_  # predict runs the nearest-core twins
        np.testing.assert_array_equal(ours.predict(X[core]), ours.labels_[core])


def test_edge_cases():
    rng = np.random.default_rng(5)
    X = rng.uniform(size=(200, 2))
    noise = DBSCAN(1e-6, min_samples=3).fit(X)
    assert np.all(noise.labels_ == -1) and noise.core_sample_indices_.size == 0
    assert noise.n_clusters_ == 0
    assert np.all(noise.predict(X) == -1)
    one = DBSCAN(10.0, min_samples=3).fit(X)
    assert np.all(one.labels_ == 0)
    too_many = DBSCAN(10.0, min_samples=201).fit(X)
    assert np.all(too_many.labels_ == -1)
    assert np.all(DBSCAN(10.0, min_samples=200).fit(X).labels_ == 0)


def test_eps_zero_groups_exact_duplicates():
    X = np.array([[0.0, 0.0]] * 3 + [[1.0, 1.0]] * 2 + [[0.0, 1e-12]])
    model = DBSCAN(0.0, min_samples=3).fit(X)
    assert model.labels_.tolist() == [0, 0, 0, -1, -1, -1]
    assert DBSCAN(0.0, min_samples=2).fit(X).labels_.tolist() == [0, 0, 0, 1, 1, -1]
    with pytest.raises(ValueError, match="algorithm='grid' needs metric='euclidean' and eps > 0"):
        DBSCAN(0.0, algorithm="grid").fit(X)


def test_duplicates_only():
    X = np.ones((50, 3))
    assert np.all(DBSCAN(0.1, min_samples=50).fit(X).labels_ == 0)


def test_errors():
    X = np.array([[0.0, 1.0], [np.nan, 2.0]])
    with pytest.raises(ValueError, match="NaN"):
        DBSCAN().fit(X)
    with pytest.raises(ValueError, match=r"eps must be a number in \[0, inf\); got -1"):
        DBSCAN(-1).fit([[0.0], [1.0]])
    with pytest.raises(ValueError, match="min_samples must be an int"):
        DBSCAN(min_samples=0).fit([[0.0], [1.0]])
    with pytest.raises(ValueError, match="metric must be one of"):
        DBSCAN(metric="hamming").fit([[0.0], [1.0]])
    with pytest.raises(ValueError, match="algorithm='grid' needs metric='euclidean'"):
        DBSCAN(metric="manhattan", algorithm="grid").fit([[0.0], [1.0]])
    with pytest.raises(ValueError, match="non-zero norm"):
        DBSCAN(metric="cosine").fit([[0.0, 0.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match="square distance matrix"):
        DBSCAN(metric="precomputed").fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        DBSCAN().fit([[0.0], [1.0]], sample_weight=[1, -1])


def test_input_not_modified(fitted):
    X, _ = fitted
    X32 = X.astype(np.float32)
    copy = X32.copy()
    DBSCAN(1.2, min_samples=8).fit(X32).predict(X32)
    np.testing.assert_array_equal(X32, copy)


def test_sparse_graph_with_explicit_zeros():
    # two points at distance 0 stored explicitly, a third far away
    graph = sp.csr_matrix(([0.0, 0.0, 5.0, 5.0], ([0, 1, 1, 2], [1, 0, 2, 1])), shape=(3, 3))
    model = DBSCAN(0.5, min_samples=2, metric="precomputed").fit(graph)
    assert model.labels_.tolist() == [0, 0, -1]


@parametrize_with_checks([DBSCAN(), DBSCAN(algorithm="kd_tree", metric="manhattan")])
def test_sklearn_compatible(estimator, check):
    check(estimator)
