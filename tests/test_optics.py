"""OPTICS against scikit-learn: identical ordering, reachability, predecessors and labels."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from sklearn.cluster import OPTICS as SkOPTICS
from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab import OPTICS
from tests.checks import check_labels

BENCH = Path("/work/shared/data/clustering-benchmarks")


def _load(name: str, max_rows: int = 1200) -> np.ndarray:
    with gzip.open(BENCH / f"{name}.data.gz", "rt") as fh:
        X = np.loadtxt(fh, ndmin=2)
    if len(X) > max_rows:
        X = X[np.random.default_rng(0).choice(len(X), max_rows, replace=False)]
    return X


def assert_same_as_sklearn(ours: OPTICS, ref: SkOPTICS) -> None:
    np.testing.assert_array_equal(ours.ordering_, ref.ordering_)
    np.testing.assert_array_equal(ours.core_distances_, ref.core_distances_)
    # bit for bit, which implies the required rel 1e-9 along the ordering
    np.testing.assert_array_equal(
        ours.reachability_[ours.ordering_], ref.reachability_[ref.ordering_]
    )
    np.testing.assert_array_equal(ours.predecessor_, ref.predecessor_)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    check_labels(ours.labels_, len(ref.labels_), allow_noise=True)


DATASETS = ["sipu/aggregation", "sipu/compound", "fcps/lsun", "fcps/atom", "other/chameleon_t7_10k"]


@pytest.fixture(scope="module", params=DATASETS)
def dataset(request):
    return _load(request.param)


@pytest.mark.parametrize(
    ("cluster_method", "algorithm"), [("xi", "scan"), ("dbscan", "scan"), ("xi", "kd_tree")]
)
def test_real_shapes_match_sklearn(dataset, cluster_method, algorithm):
    kwargs = {"min_samples": 9, "cluster_method": cluster_method}
    if cluster_method == "dbscan":
        kwargs["eps"] = float(np.quantile(np.abs(np.diff(dataset, axis=0)), 0.3))
    ours = OPTICS(**kwargs, algorithm=algorithm).fit(dataset)
    ref = SkOPTICS(**kwargs).fit(dataset)
    assert_same_as_sklearn(ours, ref)
    if cluster_method == "xi":
        np.testing.assert_array_equal(ours.cluster_hierarchy_, ref.cluster_hierarchy_)


@pytest.mark.parametrize("metric", ["manhattan", "chebyshev"])
@pytest.mark.parametrize("max_eps", [np.inf, 1.5])
def test_metrics_and_max_eps_match_sklearn(metric, max_eps):
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(c, 0.5, size=(200, 3)) for c in (0.0, 4.0)])
    X = np.round(X, 1)  # many exact ties: the tie rules must agree too
    for algorithm in ("scan", "kd_tree"):
        ours = OPTICS(min_samples=7, max_eps=max_eps, metric=metric, algorithm=algorithm).fit(X)
        ref = SkOPTICS(min_samples=7, max_eps=max_eps, metric=metric).fit(X)
        assert_same_as_sklearn(ours, ref)


def test_fractional_min_samples_and_xi_options():
    X = _load("sipu/compound", max_rows=500)
    kwargs = {"min_samples": 0.02, "xi": 0.1, "min_cluster_size": 0.05}
    assert_same_as_sklearn(OPTICS(**kwargs).fit(X), SkOPTICS(**kwargs).fit(X))
    kwargs = {"min_samples": 5, "predecessor_correction": False}
    assert_same_as_sklearn(OPTICS(**kwargs).fit(X), SkOPTICS(**kwargs).fit(X))


def test_float32_and_duplicates():
    X = np.repeat(_load("fcps/lsun", max_rows=300), 2, axis=0).astype(np.float32)
    assert_same_as_sklearn(OPTICS(min_samples=6).fit(X), SkOPTICS(min_samples=6).fit(X))


def test_sklearn_docstring_example():
    X = np.array([[1, 2], [2, 5], [3, 6], [8, 7], [8, 8], [7, 3]], dtype=float)
    model = OPTICS(min_samples=2).fit(X)
    assert model.ordering_.tolist() == [0, 1, 2, 5, 3, 4]
    np.testing.assert_allclose(
        model.core_distances_, [3.16227766, 1.41421356, 1.41421356, 1.0, 1.0, 4.12310563]
    )


@pytest.fixture(scope="module")
def fitted():
    X = _load("sipu/aggregation", max_rows=800)
    return (
        X,
        OPTICS(min_samples=8).fit(X),
        OPTICS(min_samples=8, cluster_method="dbscan", eps=1.5).fit(X),
    )


def test_predict_training_points_of_clusters(fitted):
    X, xi_model, db_model = fitted
    for model in (xi_model, db_model):
        got = model.predict(X)
        clustered = model.labels_ >= 0
        # a training point is its own predecessor at reachability = its core distance
        agree = np.mean(got[clustered] == model.labels_[clustered])
        assert agree > 0.95
        assert set(np.unique(got)) <= set(np.unique(model.labels_)) | {-1}


def test_predict_rule(fitted):
    X, _, model = fitted
    rng = np.random.default_rng(1)
    Q = np.vstack([X[:40] + rng.normal(0, 0.5, size=(40, 2)), [[500.0, 500.0]]])
    got = model.predict(Q)
    d = np.sqrt(((Q[:, None, :] - X[None]) ** 2).sum(-1))
    reach = np.maximum(d, model.core_distances_[None, :])
    pred = reach.argmin(axis=1)
    best = reach.min(axis=1)
    expected = np.where(best <= 1.5, model.labels_[pred], -1)
    np.testing.assert_array_equal(got, expected)
    assert got[-1] == -1


def test_dbscan_extraction_matches_dbscan_core_points(fitted):
    from clusterlab import DBSCAN

    X, _, model = fitted
    dbscan = DBSCAN(1.5, min_samples=8).fit(X)
    core = dbscan.core_sample_indices_
    from tests.checks import same_partition

    assert same_partition(model.labels_[core], dbscan.labels_[core])


def test_errors():
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match="min_samples must be"):
        OPTICS(min_samples=1).fit(X)
    with pytest.raises(ValueError, match="min_samples must be at most n_samples=20; got 21"):
        OPTICS(min_samples=21).fit(X)
    with pytest.raises(ValueError, match="eps must be <= max_eps"):
        OPTICS(max_eps=1.0, eps=2.0, cluster_method="dbscan").fit(X)
    with pytest.raises(ValueError, match="metric must be one of"):
        OPTICS(metric="cosine").fit(X)
    with pytest.raises(ValueError, match="NaN"):
        OPTICS().fit(np.array([[0.0, np.nan], [1.0, 1.0], [2.0, 2.0]]))


def test_thread_count_does_not_change_result(fitted):
    X, model, _ = fitted
    for n_jobs in (1, 2):
        other = OPTICS(min_samples=8, n_jobs=n_jobs).fit(X)
        np.testing.assert_array_equal(other.ordering_, model.ordering_)
        np.testing.assert_array_equal(other.reachability_, model.reachability_)


@parametrize_with_checks([OPTICS(), OPTICS(max_eps=2.0, cluster_method="dbscan")])
def test_sklearn_compatible(estimator, check):
    check(estimator)
