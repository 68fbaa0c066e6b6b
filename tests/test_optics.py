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


def _reference_predict(model: OPTICS, X_train: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """The documented rule, by brute force over all pairs."""
    labels = model.labels_
    diff = np.abs(Q[:, None, :] - X_train[None])
    if model.metric == "manhattan":
        d = diff.sum(-1)
    elif model.metric == "chebyshev":
        d = diff.max(-1)
    else:
        d = np.sqrt((diff**2).sum(-1))
    limits = model._cluster_reach_limits()
    offer_limit = np.where(labels >= 0, limits[np.maximum(labels, 0)], -np.inf)
    offer = np.maximum(d, model.core_distances_[None, :])
    counts = (offer <= offer_limit[None, :]) & (d <= model.max_eps)
    offer = np.where(counts, offer, np.inf)
    best = offer.argmin(axis=1)  # first index among ties
    expected = np.where(np.isfinite(offer.min(axis=1)), labels[best], -1)
    exact = d == 0.0
    has_exact = exact.any(axis=1)
    expected[has_exact] = labels[exact.argmax(axis=1)[has_exact]]
    return expected


PREDICT_DATASETS = [
    "sipu/aggregation",
    "sipu/compound",
    "sipu/jain",
    "fcps/target",
    "other/hdbscan",
]


@pytest.mark.parametrize("name", PREDICT_DATASETS)
def test_predict_training_points_returns_labels_on_batteries(name):
    X = _load(name, max_rows=1500)
    xi_model = OPTICS(min_samples=9).fit(X)
    eps = float(np.quantile(xi_model.core_distances_, 0.6))  # most points core: real clusters
    for model in (xi_model, OPTICS(min_samples=9, cluster_method="dbscan", eps=eps).fit(X)):
        assert model.n_clusters_ >= 1
        # every row, noise included: an exact match returns the training label
        np.testing.assert_array_equal(model.predict(X), model.labels_)
        # a hair away from the training points the cluster rule decides: still nearly all
        # clustered points keep their label, and the result is the documented rule
        rng = np.random.default_rng(0)
        Q = X + rng.normal(0, 1e-6 * X.std(), size=X.shape)
        got = model.predict(Q)
        np.testing.assert_array_equal(got, _reference_predict(model, X, Q))
        clustered = model.labels_ >= 0
        assert np.mean(got[clustered] == model.labels_[clustered]) > 0.97


def test_predict_rule_matches_brute_force(fitted):
    X, xi_model, db_model = fitted
    rng = np.random.default_rng(1)
    Q = np.vstack([X[:60] + rng.normal(0, 0.5, size=(60, 2)), X[60:70], [[500.0, 500.0]]])
    for model in (xi_model, db_model):
        got = model.predict(Q)
        np.testing.assert_array_equal(got, _reference_predict(model, X, Q))
        assert got[-1] == -1


@pytest.mark.parametrize("metric", ["manhattan", "chebyshev"])
@pytest.mark.parametrize("cluster_method", ["xi", "dbscan"])
def test_predict_rule_other_metrics_and_max_eps(metric, cluster_method):
    X = _load("sipu/compound", max_rows=400)
    kwargs = {"min_samples": 7, "metric": metric, "max_eps": 3.0, "cluster_method": cluster_method}
    if cluster_method == "dbscan":
        kwargs["eps"] = 1.5
    model = OPTICS(**kwargs).fit(X)
    assert model.n_clusters_ >= 1
    rng = np.random.default_rng(5)
    Q = np.vstack([X + rng.normal(0, 0.8, size=X.shape), rng.uniform(0, 50, (50, 2))])
    np.testing.assert_array_equal(model.predict(Q), _reference_predict(model, X, Q))
    np.testing.assert_array_equal(model.predict(X), model.labels_)


def test_predict_near_cluster_cores_and_far_points(fitted):
    X, xi_model, db_model = fitted
    for model in (xi_model, db_model):
        labels = model.labels_
        for c in range(model.n_clusters_):
            members = np.flatnonzero(labels == c)
            densest = members[np.argmin(model.core_distances_[members])]
            near = X[densest] + 0.01 * model.core_distances_[densest]
            assert model.predict(near[None, :])[0] == c
        span = X.max(axis=0) - X.min(axis=0)
        far = np.array([X.max(axis=0) + 3 * span, X.min(axis=0) - 3 * span])
        np.testing.assert_array_equal(model.predict(far), [-1, -1])


def test_dbscan_method_predict_is_dbscan_border_rule(fitted):
    from clusterlab import DBSCAN

    X, _, model = fitted
    dbscan = DBSCAN(1.5, min_samples=8).fit(X)
    rng = np.random.default_rng(2)
    Q = X[:200] + rng.normal(0, 0.7, size=(200, 2))
    from tests.checks import same_partition

    ours, theirs = model.predict(Q), dbscan.predict(Q)
    # same points are clustered (a core point within eps); same grouping of them
    np.testing.assert_array_equal(ours >= 0, theirs >= 0)
    assert same_partition(ours[ours >= 0], theirs[theirs >= 0])


def test_predict_duplicates_float32_and_threads():
    X = np.repeat(_load("fcps/lsun", max_rows=300), 2, axis=0)
    model = OPTICS(min_samples=6).fit(X)
    got = model.predict(X)
    # a duplicated row takes the label of its first copy
    first = np.arange(X.shape[0]) // 2 * 2
    np.testing.assert_array_equal(got, model.labels_[first])
    X32 = X.astype(np.float32)
    model32 = OPTICS(min_samples=6).fit(X32)
    assert model32.predict(X32).dtype == np.int64
    Q = X + np.random.default_rng(3).normal(0, 0.05, size=X.shape)
    one = OPTICS(min_samples=6, n_jobs=1).fit(X).predict(Q)
    two = OPTICS(min_samples=6, n_jobs=2).fit(X).predict(Q)
    np.testing.assert_array_equal(one, two)


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


def test_fitted_model_stores_plain_arrays_only(fitted):
    # pickles and model files must not depend on a kernel type (see the kd-tree module)
    import pickle

    import skops.io as sio

    for model in fitted[1:]:
        untrusted = sio.get_untrusted_types(data=sio.dumps(model))
        assert not [name for name in untrusted if name.startswith("clusterlab.kernels")]
        again = pickle.loads(pickle.dumps(model))
        Q = np.random.default_rng(4).normal(size=(40, model.n_features_in_)) * 3
        np.testing.assert_array_equal(again.predict(Q), model.predict(Q))
