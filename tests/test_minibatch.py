"""MiniBatchKMeans: scikit-learn's update math, invariances, early stopping, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.cluster import MiniBatchKMeans as SkMiniBatchKMeans
from sklearn.datasets import make_blobs
from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab.cluster.minibatch import MiniBatchKMeans
from tests.checks import check_labels

# scikit-learn excuses the same check for its own MiniBatchKMeans: the batches are drawn at random
# with probability proportional to the weights, so weighting a row is equal to repeating it only in
# expectation, not run by run. (tests below check the exact equivalence for one partial_fit step.)
EXPECTED_FAILED = {
    "check_sample_weight_equivalence_on_dense_data": (
        "sample_weight is not equivalent to removing/repeating samples: batches are random draws"
    ),
}


@parametrize_with_checks(
    [MiniBatchKMeans(n_clusters=2, n_init=2, max_iter=5, batch_size=10)],
    expected_failed_checks=lambda est: EXPECTED_FAILED,
)
def test_sklearn_contract(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def data():
    X, y = make_blobs(n_samples=1200, n_features=3, centers=4, cluster_std=1.0, random_state=3)
    return X, y


def _sklearn_partial(init, batches, weights, **params):
    model = SkMiniBatchKMeans(n_clusters=init.shape[0], init=init, n_init=1, **params)
    for batch, w in zip(batches, weights, strict=True):
        model.partial_fit(batch, sample_weight=w)
    return model


def _ours_partial(init, batches, weights, **params):
    model = MiniBatchKMeans(n_clusters=init.shape[0], init=init, **params)
    for batch, w in zip(batches, weights, strict=True):
        model.partial_fit(batch, sample_weight=w)
    return model


# ------------------------------------------------- agreement with scikit-learn (partial_fit)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reassignment_ratio", [0.0, 0.01])
def test_partial_fit_matches_sklearn(data, weighted, reassignment_ratio):
    X, _ = data
    rng = np.random.default_rng(1)
    init = X[rng.choice(X.shape[0], 4, replace=False)].copy()
    batches = [X[i : i + 100] for i in range(0, X.shape[0], 100)]
    weights = [rng.uniform(0.2, 3.0, len(b)) if weighted else None for b in batches]
    params = dict(reassignment_ratio=reassignment_ratio, random_state=0)
    ref = _sklearn_partial(init, batches, weights, **params)
    ours = _ours_partial(init, batches, weights, **params)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-9)
    assert ours.n_steps_ == ref.n_steps_ == len(batches)


def test_partial_fit_after_fit_continues(data):
    X, _ = data
    model = MiniBatchKMeans(n_clusters=4, batch_size=100, random_state=0).fit(X)
    centers = model.cluster_centers_.copy()
    steps = model.n_steps_
    model.partial_fit(X[:50])
    assert model.n_steps_ == steps + 1
    assert not np.array_equal(model.cluster_centers_, centers)
    assert model.labels_.shape == (50,)


# ------------------------------------------------------------------ fit quality


def test_fit_quality_close_to_sklearn(data):
    X, _ = data
    ours = [MiniBatchKMeans(4, batch_size=256, random_state=s).fit(X).inertia_ for s in range(3)]
    ref = [SkMiniBatchKMeans(4, batch_size=256, random_state=s).fit(X).inertia_ for s in range(3)]
    assert np.median(ours) <= np.median(ref) * 1.01


def test_fit_recovers_blobs(data):
    from sklearn.metrics import adjusted_rand_score

    X, y = data
    model = MiniBatchKMeans(4, batch_size=128, random_state=0).fit(X)
    assert check_labels(model.labels_, X.shape[0]) == 4
    assert adjusted_rand_score(y, model.labels_) > 0.99
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    assert model.score(X) == pytest.approx(-model.inertia_)
    assert model.n_iter_ == int(np.ceil(model.n_steps_ * 128 / X.shape[0]))


def test_transform_is_distance_to_centers(data):
    X, _ = data
    model = MiniBatchKMeans(4, random_state=0).fit(X)
    dist = model.transform(X[:20])
    expected = np.linalg.norm(X[:20, None, :] - model.cluster_centers_[None], axis=2)
    np.testing.assert_allclose(dist, expected, rtol=1e-12)
    np.testing.assert_array_equal(dist.argmin(axis=1), model.labels_[:20])


# ---------------------------------------------------------------------- stopping


def test_no_early_stopping_runs_max_iter(data):
    X, _ = data
    model = MiniBatchKMeans(
        4, batch_size=100, max_iter=3, max_no_improvement=None, random_state=0
    ).fit(X)
    assert model.n_steps_ == 3 * X.shape[0] // 100
    assert model.n_iter_ == 3


def test_early_stopping_on_smoothed_inertia(data):
    X, _ = data
    model = MiniBatchKMeans(4, batch_size=50, max_iter=200, random_state=0).fit(X)
    assert model.n_steps_ < 200 * X.shape[0] // 50


def test_tol_stops_on_center_shift(data):
    X, _ = data
    loose = MiniBatchKMeans(
        4, batch_size=50, max_iter=50, tol=1e-2, max_no_improvement=None, random_state=0
    ).fit(X)
    assert loose.n_steps_ < 50 * X.shape[0] // 50


def test_compute_labels_false_uses_smoothed_inertia(data):
    X, _ = data
    model = MiniBatchKMeans(4, batch_size=100, compute_labels=False, random_state=0).fit(X)
    assert not hasattr(model, "labels_")
    exact = -model.score(X)
    assert model.inertia_ == pytest.approx(exact, rel=0.5)


# ------------------------------------------------------------------- reassignment


def test_far_center_is_reassigned():
    X, _ = make_blobs(n_samples=600, centers=3, cluster_std=0.5, random_state=0)
    init = np.vstack([X[[0, 1]], [[1e3, 1e3]]])  # the third center never wins a point
    kept = MiniBatchKMeans(3, init=init, batch_size=60, reassignment_ratio=0.0, random_state=0)
    moved = MiniBatchKMeans(3, init=init, batch_size=60, random_state=0)
    kept.fit(X)
    moved.fit(X)
    np.testing.assert_array_equal(kept.cluster_centers_[2], [1e3, 1e3])
    assert np.abs(moved.cluster_centers_[2]).max() < 100
    assert check_labels(moved.labels_, X.shape[0]) == 3
    assert moved.inertia_ < kept.inertia_


# -------------------------------------------------------------------- invariances


def test_integer_weights_equal_repeated_rows(data):
    X, _ = data
    rng = np.random.default_rng(2)
    batch = X[:200]
    w = rng.integers(0, 4, size=200)
    init = X[[0, 300, 600, 900]].copy()
    weighted = MiniBatchKMeans(4, init=init, reassignment_ratio=0.0)
    weighted.partial_fit(batch, sample_weight=w).partial_fit(X[200:400])
    repeated = MiniBatchKMeans(4, init=init, reassignment_ratio=0.0)
    repeated.partial_fit(np.repeat(batch, w, axis=0)).partial_fit(X[200:400])
    np.testing.assert_allclose(weighted.cluster_centers_, repeated.cluster_centers_, rtol=1e-12)


def test_permuting_a_batch_permutes_labels(data):
    X, _ = data
    perm = np.random.default_rng(4).permutation(300)
    init = X[[0, 300, 600, 900]].copy()
    a = MiniBatchKMeans(4, init=init).partial_fit(X[:300])
    b = MiniBatchKMeans(4, init=init).partial_fit(X[:300][perm])
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-12)
    np.testing.assert_array_equal(a.labels_[perm], b.labels_)


def test_same_result_for_one_and_two_threads(data, monkeypatch):
    # small work runs on one thread by design; lift that limit so both thread counts are used
    monkeypatch.setattr("clusterlab.cluster.minibatch.PARALLEL_MIN_ROWS", 0)
    X, _ = data
    w = np.random.default_rng(5).uniform(0.5, 1.5, X.shape[0])
    one = MiniBatchKMeans(4, batch_size=64, random_state=7, n_jobs=1).fit(X, sample_weight=w)
    two = MiniBatchKMeans(4, batch_size=64, random_state=7, n_jobs=2).fit(X, sample_weight=w)
    np.testing.assert_array_equal(one.cluster_centers_, two.cluster_centers_)
    np.testing.assert_array_equal(one.labels_, two.labels_)
    assert one.inertia_ == two.inertia_
    assert one.n_steps_ == two.n_steps_


def test_same_random_state_same_result(data):
    X, _ = data
    a = MiniBatchKMeans(4, init="random", random_state=11).fit(X)
    b = MiniBatchKMeans(4, init="random", random_state=11).fit(X)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)


def test_float32_stays_float32(data):
    X, _ = data
    X32 = X.astype(np.float32)
    m32 = MiniBatchKMeans(4, batch_size=128, random_state=0).fit(X32)
    m64 = MiniBatchKMeans(4, batch_size=128, random_state=0).fit(X)
    assert m32.cluster_centers_.dtype == np.float32
    assert m32.transform(X32).dtype == np.float32
    assert m32.predict(X32).dtype == np.int64
    assert m32.inertia_ == pytest.approx(m64.inertia_, rel=1e-3)


def test_float32_partial_fit_matches_float64():
    X, _ = make_blobs(n_samples=400, centers=3, random_state=0)
    init = X[:3].copy()
    a = MiniBatchKMeans(3, init=init).partial_fit(X[:200]).partial_fit(X[200:])
    b = MiniBatchKMeans(3, init=init.astype(np.float32))
    b.partial_fit(X[:200].astype(np.float32)).partial_fit(X[200:].astype(np.float32))
    assert b.cluster_centers_.dtype == np.float32
    np.testing.assert_allclose(b.cluster_centers_, a.cluster_centers_, rtol=1e-5, atol=1e-5)


def test_input_not_modified(data):
    X, _ = data
    X_copy = X.copy()
    w = np.ones(X.shape[0])
    MiniBatchKMeans(4, random_state=0).fit(X, sample_weight=w)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(w, 1.0)


# -------------------------------------------------------------------- edge cases


def test_one_cluster_is_the_weighted_mean():
    X, _ = make_blobs(n_samples=200, centers=2, random_state=0)
    model = MiniBatchKMeans(1, batch_size=200, max_iter=1, max_no_improvement=None).fit(X)
    assert np.all(model.labels_ == 0)
    np.testing.assert_allclose(model.cluster_centers_[0], X.mean(axis=0), atol=1.0)


def test_k_equals_n_with_batch_of_everything():
    X = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0], [5.0, 5.0]])
    model = MiniBatchKMeans(4, init=X.copy(), reassignment_ratio=0.0).partial_fit(X)
    np.testing.assert_array_equal(model.cluster_centers_, X)
    np.testing.assert_array_equal(model.labels_, np.arange(4))
    assert model.inertia_ == 0.0


def test_duplicated_points_fewer_distinct_than_k():
    X = np.repeat(np.array([[0.0, 0.0], [10.0, 10.0]]), 20, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = MiniBatchKMeans(3, batch_size=10, random_state=0).fit(X)
    # documented behaviour: centers may coincide; every label is a valid center index
    assert model.labels_.min() >= 0
    assert model.labels_.max() < 3
    assert model.inertia_ == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        (np.array([[1.0, np.nan], [0.0, 1.0]]), ValueError, "NaN"),
        (np.array([[1.0, np.inf], [0.0, 1.0]]), ValueError, "infinity"),
        (np.empty((0, 2)), ValueError, "0 sample"),
        (np.arange(5.0), ValueError, "2D array"),
        ("data.csv", TypeError, "X must be a 2-D array-like"),
        (np.array([["a", "b"], ["c", "d"]], dtype=object), ValueError, "X must contain only"),
    ],
)
def test_bad_input(X, error, match):
    with pytest.raises(error, match=match):
        MiniBatchKMeans(1).fit(X)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n_clusters": 0}, r"n_clusters must be an int in \[1, inf\); got 0"),
        ({"batch_size": 0}, r"batch_size must be an int in \[1, inf\); got 0"),
        ({"max_no_improvement": -1}, r"max_no_improvement must be an int in \[0, inf\)"),
        ({"reassignment_ratio": -0.1}, r"reassignment_ratio must be a number in \[0, inf\)"),
        ({"init": "kmeans++"}, r"init must be one of \{'k-means\+\+', 'random'\}"),
        ({"n_init": 0}, r"n_init must be one of \{'auto'\} or an int in \[1, inf\); got 0"),
        ({"n_jobs": 0}, r"n_jobs must be .*; got 0"),
    ],
)
def test_bad_params(data, params, match):
    with pytest.raises(ValueError, match=match):
        MiniBatchKMeans(**params).fit(data[0])


def test_more_clusters_than_samples():
    with pytest.raises(ValueError, match=r"n_clusters must be an int in \[1, n_samples=3\]; got 5"):
        MiniBatchKMeans(5).fit(np.eye(3))


def test_bad_init_array_shape(data):
    with pytest.raises(ValueError, match=r"init must have shape .* \(4, 3\); got \(2, 3\)"):
        MiniBatchKMeans(4, init=np.zeros((2, 3))).fit(data[0])


def test_init_array_with_n_init_warns(data):
    init = data[0][:4].copy()
    with pytest.warns(RuntimeWarning, match="n_init=3 ignored"):
        MiniBatchKMeans(4, init=init, n_init=3).fit(data[0])


def test_callable_init(data):
    X, _ = data

    def first_rows(X, n_clusters, random_state):
        return X[:n_clusters]

    model = MiniBatchKMeans(4, init=first_rows, n_init=1, random_state=0).fit(X)
    assert check_labels(model.labels_, X.shape[0]) == 4


def test_bad_sample_weight(data):
    X, _ = data
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(1200,\)"):
        MiniBatchKMeans(2).fit(X, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        MiniBatchKMeans(2).fit(X, sample_weight=-np.ones(X.shape[0]))


def test_partial_fit_feature_mismatch(data):
    X, _ = data
    model = MiniBatchKMeans(2, random_state=0).partial_fit(X)
    with pytest.raises(ValueError, match="3 features"):
        model.partial_fit(X[:, :2])


def test_predict_before_fit():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="not fitted yet"):
        MiniBatchKMeans(2).predict(np.eye(2))


# ------------------------------------------------------------- hypothesis: any small input


@st.composite
def _small_problem(draw):
    n = draw(st.integers(1, 25))
    d = draw(st.integers(1, 3))
    values = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=64)
    X = draw(hnp.arrays(np.float64, (n, d), elements=values))
    k = draw(st.integers(1, n))
    return X, k


@settings(max_examples=25, deadline=None)
@given(problem=_small_problem(), batch_size=st.integers(1, 30), seed=st.integers(0, 3))
def test_any_small_input_gives_valid_labels(problem, batch_size, seed):
    X, k = problem
    model = MiniBatchKMeans(k, batch_size=batch_size, max_iter=3, random_state=seed).fit(X)
    assert model.labels_.dtype == np.int64
    assert model.labels_.min() >= 0
    assert model.labels_.max() < k
    assert np.all(np.isfinite(model.cluster_centers_))
    assert 0.0 <= model.inertia_ < np.inf
    np.testing.assert_array_equal(model.predict(X), model.labels_)
