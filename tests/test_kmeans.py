"""KMeans: agreement with scikit-learn, invariances, tiny cases and input errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.cluster import KMeans as SkKMeans
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

from clusterlab import KMeans, kmeans
from tests.checks import check_labels, same_partition

ALGORITHMS = ["lloyd", "hamerly", "yinyang"]


@pytest.fixture(scope="module")
def blobs8():
    """1500 x 5, eight overlapping blobs: many iterations, many label changes."""
    X, _ = make_blobs(n_samples=1500, n_features=5, centers=8, cluster_std=2.5, random_state=7)
    return X


@pytest.fixture(scope="module")
def init8(blobs8):
    from sklearn.cluster import kmeans_plusplus

    centers, _ = kmeans_plusplus(blobs8, 8, random_state=0)
    return centers


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_accelerated_equals_lloyd_exactly(big_blobs, dtype):
    X = big_blobs.astype(dtype)
    init = X[np.random.default_rng(0).choice(len(X), 10, replace=False)]
    ref = KMeans(10, init=init, n_init=1, algorithm="lloyd").fit(X)
    for algorithm in ("hamerly", "yinyang"):
        km = KMeans(10, init=init, n_init=1, algorithm=algorithm).fit(X)
        assert km.n_iter_ == ref.n_iter_
        assert np.array_equal(km.labels_, ref.labels_)
        assert np.array_equal(km.cluster_centers_, ref.cluster_centers_)
        assert km.inertia_ == ref.inertia_


def test_yinyang_groups_equal_lloyd_exactly(blobs8):
    from clusterlab.kernels.bounds import yinyang
    from clusterlab.kernels.lloyd import lloyd

    w = np.ones(len(blobs8))
    init = blobs8[:40].copy()
    ref = lloyd(blobs8, w, init, 300, 0.0)
    for n_groups in (1, 3, 8, 40):
        got = yinyang(blobs8, w, init, 300, 0.0, n_groups)
        assert got[3] == ref[3]
        assert np.array_equal(got[1], ref[1])
        assert np.array_equal(got[0], ref[0])


def _same_run(got, ref):
    assert got[3] == ref[3]
    assert np.array_equal(got[1], ref[1])
    assert np.array_equal(got[0], ref[0])
    assert got[2] == ref[2]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("offset", [0.0, 1e4])
def test_screening_keeps_exact_ties(dtype, offset):
    """Lattice points are often exactly equidistant from two lattice centers: the BLAS
    screening must leave those ties to the exact distances (lowest center index wins), also
    far from the origin, where the screening works on centred coordinates."""
    from clusterlab.kernels.bounds import yinyang
    from clusterlab.kernels.lloyd import lloyd

    grid = np.stack(np.meshgrid(*[np.arange(6.0)] * 3), axis=-1).reshape(-1, 3)
    X = np.ascontiguousarray(np.repeat(grid, 3, axis=0) + offset, dtype=dtype)
    w = np.ones(len(X), dtype=dtype)
    init = X[np.random.default_rng(1).choice(len(X), 20, replace=False)]
    ref = lloyd(X, w, init, 300, 0.0)
    for n_groups in (1, 4):
        _same_run(yinyang(X, w, init, 300, 0.0, n_groups), ref)


@pytest.mark.parametrize("n_clusters", [1, 2, 30])
def test_weighted_bounds_equal_lloyd_exactly(blobs8, n_clusters):
    """Weights (some zero) and the extreme cluster counts through the screened bound steps."""
    from clusterlab.kernels.bounds import yinyang
    from clusterlab.kernels.lloyd import lloyd

    rng = np.random.default_rng(5)
    w = rng.uniform(0.0, 3.0, len(blobs8)) * (rng.random(len(blobs8)) > 0.1)
    init = blobs8[rng.choice(len(blobs8), n_clusters, replace=False)]
    ref = lloyd(blobs8, w, init, 300, 0.0)
    for n_groups in (1, 3):
        _same_run(yinyang(blobs8, w, init, 300, 0.0, n_groups), ref)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_column_mean_and_span(dtype):
    from clusterlab.kernels.bounds import column_mean_and_span

    X = np.random.default_rng(2).normal(5.0, 3.0, size=(300, 4)).astype(dtype)
    mean, span = column_mean_and_span(X)
    np.testing.assert_allclose(mean, X.astype(np.float64).mean(axis=0), rtol=1e-12)
    assert np.array_equal(span, X.max(axis=0).astype(np.float64) - X.min(axis=0))


def test_screening_fallback_is_exact(blobs8, monkeypatch):
    """With a screening bound so loose that every center is a candidate, every distance is
    recomputed exactly: still Lloyd's result."""
    from clusterlab.kernels import bounds
    from clusterlab.kernels.lloyd import lloyd

    monkeypatch.setattr(bounds, "screen_coef", lambda dtype, d: 1e3)
    w = np.ones(len(blobs8))
    init = blobs8[:12].copy()
    _same_run(bounds.yinyang(blobs8, w, init, 300, 0.0, 3), lloyd(blobs8, w, init, 300, 0.0))


@pytest.mark.parametrize(
    ("dtype", "screen_dtype"),
    [(np.float64, np.float64), (np.float64, np.float32), (np.float32, np.float32)],
)
def test_screening_bound_holds(dtype, screen_dtype):
    """The screened distance of every row-center pair is within the bound of the exact one."""
    from clusterlab.kernels.center_distances import centered_centers, screen_coef

    rng = np.random.default_rng(3)
    X = (rng.normal(size=(500, 7)) * rng.uniform(0.1, 1e3, 7) + 50).astype(dtype)
    C = X[:9].copy() + dtype(0.5)
    mean = X.mean(axis=0, dtype=np.float64).astype(dtype)
    CcT = np.empty((7, 9), dtype=screen_dtype)
    norms, max_norm = centered_centers(np.ascontiguousarray(C.T), mean, CcT)
    xc = (X - mean).astype(screen_dtype)
    nx = (xc.astype(np.float64) ** 2).sum(axis=1)
    A = nx[:, None] + norms[None, :] - 2.0 * (xc @ CcT).astype(np.float64)
    E = ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2, dtype=dtype).astype(np.float64)
    err = screen_coef(np.dtype(screen_dtype), X.shape[1]) * (np.sqrt(nx) + max_norm) ** 2
    assert np.all(np.abs(np.maximum(A, 0.0) - E) <= err[:, None])
    # and the bound is not vacuous: far below the typical distance
    assert np.median(err[:, None] / E) < 1e-3


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_scikit_learn_from_same_init(blobs8, init8, algorithm, dtype):
    X = blobs8.astype(dtype)
    init = init8.astype(dtype)
    ours = KMeans(8, init=init, n_init=1, algorithm=algorithm).fit(X)
    ref = SkKMeans(8, init=init, n_init=1, algorithm="lloyd").fit(X)
    rtol = 1e-9 if dtype == np.float64 else 1e-5
    assert ours.n_iter_ == ref.n_iter_
    assert np.array_equal(ours.labels_, ref.labels_)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=rtol)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=rtol, atol=rtol)
    assert ours.cluster_centers_.dtype == dtype
    assert check_labels(ours.labels_, len(X)) == 8


@pytest.mark.parametrize("tol", [0.0, 1e-2])
def test_stops_like_scikit_learn_with_tol(blobs8, init8, tol):
    ours = KMeans(8, init=init8, n_init=1, tol=tol, algorithm="lloyd").fit(blobs8)
    ref = SkKMeans(8, init=init8, n_init=1, tol=tol, algorithm="lloyd").fit(blobs8)
    assert ours.n_iter_ == ref.n_iter_
    assert np.array_equal(ours.labels_, ref.labels_)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-9)


def test_max_iter_limits_iterations(blobs8, init8):
    ours = KMeans(8, init=init8, n_init=1, max_iter=2, algorithm="lloyd").fit(blobs8)
    ref = SkKMeans(8, init=init8, n_init=1, max_iter=2, algorithm="lloyd").fit(blobs8)
    assert ours.n_iter_ == 2
    assert np.array_equal(ours.labels_, ref.labels_)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-9)


def test_sample_weight_matches_scikit_learn(blobs8, init8):
    w = np.random.default_rng(0).uniform(0.1, 3.0, len(blobs8))
    ours = KMeans(8, init=init8, n_init=1).fit(blobs8, sample_weight=w)
    ref = SkKMeans(8, init=init8, n_init=1).fit(blobs8, sample_weight=w)
    assert np.array_equal(ours.labels_, ref.labels_)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-9)


def test_defaults_find_the_blobs(blobs):
    X, y = blobs
    km = KMeans(3, random_state=0).fit(X)
    ref = SkKMeans(3, random_state=0).fit(X)
    assert km.inertia_ <= ref.inertia_ * 1.001
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(y, km.labels_) > 0.95


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_init_methods_and_n_init(blobs8, init):
    # Different random draws than scikit-learn's: compare the mean over seeds, within 2%.
    ours = [KMeans(8, init=init, random_state=s).fit(blobs8) for s in range(6)]
    ref = [SkKMeans(8, init=init, random_state=s).fit(blobs8).inertia_ for s in range(6)]
    assert np.mean([km.inertia_ for km in ours]) <= np.mean(ref) * 1.02
    assert ours[0].n_init == "auto"  # the parameter is not overwritten


def test_more_inits_never_worse(blobs8):
    one = KMeans(8, init="random", n_init=1, random_state=0).fit(blobs8)
    many = KMeans(8, init="random", n_init=5, random_state=0).fit(blobs8)
    assert many.inertia_ <= one.inertia_


def test_callable_init(blobs8, init8):
    calls = []

    def init(X, n_clusters, random_state):
        calls.append(random_state)
        return init8

    km = KMeans(8, init=init, n_init=2).fit(blobs8)
    ref = KMeans(8, init=init8, n_init=1).fit(blobs8)
    assert len(calls) == 2
    assert isinstance(calls[0], np.random.RandomState)
    assert np.array_equal(km.labels_, ref.labels_)


def test_array_init_with_n_init_warns(blobs8, init8):
    with pytest.warns(RuntimeWarning, match="n_init=3 is ignored"):
        km = KMeans(8, init=init8, n_init=3).fit(blobs8)
    assert km.n_iter_ >= 1


def test_hand_computed_tiny_case():
    X = np.array([[0.0, 0.0], [0.0, 2.0], [4.0, 0.0], [4.0, 2.0], [10.0, 1.0]])
    init = np.array([[0.0, 1.0], [9.0, 1.0]])
    km = KMeans(2, init=init, n_init=1).fit(X)
    # Iteration 1: {0,1,2,3} -> (2, 1) is wrong: (4,0),(4,2) are 4.12 from (0,1) and 5.10 from
    # (9,1), so they join the left center: centers (2, 1) and (10, 1). Iteration 2 changes nothing.
    assert km.labels_.tolist() == [0, 0, 0, 0, 1]
    np.testing.assert_array_equal(km.cluster_centers_, [[2.0, 1.0], [10.0, 1.0]])
    assert km.inertia_ == pytest.approx(4 * 5.0)
    assert km.n_iter_ == 2
    np.testing.assert_allclose(km.transform([[2.0, 1.0]]), [[0.0, 8.0]])
    assert km.score(X) == pytest.approx(-20.0)
    assert km.predict([[9.0, 0.0], [1.0, 1.0]]).tolist() == [1, 0]


def test_single_cluster(blobs8):
    km = KMeans(1, n_init=1, random_state=0).fit(blobs8)
    np.testing.assert_allclose(km.cluster_centers_[0], blobs8.mean(axis=0), rtol=1e-12)
    assert km.inertia_ == pytest.approx(((blobs8 - blobs8.mean(0)) ** 2).sum(), rel=1e-12)
    assert np.all(km.labels_ == 0)


def test_one_cluster_per_point():
    X = np.random.default_rng(0).normal(size=(12, 3))
    km = KMeans(12, random_state=0).fit(X)
    assert km.inertia_ == 0.0
    assert sorted(km.labels_.tolist()) == list(range(12))
    np.testing.assert_array_equal(km.cluster_centers_[km.labels_], X)


def test_duplicated_points():
    base = np.array([[0.0, 0.0], [5.0, 5.0], [10.0, 0.0]])
    X = np.repeat(base, 4, axis=0)
    km = KMeans(3, random_state=0).fit(X)
    assert km.inertia_ == 0.0
    assert same_partition(km.labels_, np.repeat([0, 1, 2], 4))


def test_fewer_distinct_points_than_clusters_warns():
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0]]), 5, axis=0)
    with pytest.warns(ConvergenceWarning, match=r"distinct clusters \(2\) found smaller"):
        km = KMeans(3, random_state=0).fit(X)
    assert km.inertia_ == 0.0
    assert km.cluster_centers_.shape == (3, 2)


def test_empty_cluster_is_relocated():
    # The third initial center is far from every point: it gets no point in the first
    # assignment and is moved onto the point farthest from its center, (12, 0).
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [10.0, 0.0], [12.0, 0.0]])
    init = np.array([[0.0, 0.0], [10.0, 0.0], [100.0, 100.0]])
    km = KMeans(3, init=init, n_init=1).fit(X)
    ref = SkKMeans(3, init=init, n_init=1).fit(X)
    assert check_labels(km.labels_, len(X)) == 3
    assert km.inertia_ == pytest.approx(ref.inertia_, rel=1e-12)
    np.testing.assert_array_equal(km.cluster_centers_[2], [12.0, 0.0])
    assert km.labels_[4] == 2


def test_integer_weights_equal_repeated_rows(blobs8, init8):
    w = np.random.default_rng(1).integers(0, 4, len(blobs8))
    weighted = KMeans(8, init=init8, n_init=1).fit(blobs8, sample_weight=w)
    repeated = KMeans(8, init=init8, n_init=1).fit(np.repeat(blobs8, w, axis=0))
    np.testing.assert_allclose(weighted.cluster_centers_, repeated.cluster_centers_, rtol=1e-10)
    assert weighted.inertia_ == pytest.approx(repeated.inertia_, rel=1e-10)
    assert weighted.n_iter_ == repeated.n_iter_
    assert np.array_equal(np.repeat(weighted.labels_, w), repeated.labels_)


def test_row_permutation_permutes_labels(blobs8, init8):
    perm = np.random.default_rng(2).permutation(len(blobs8))
    a = KMeans(8, init=init8, n_init=1).fit(blobs8)
    b = KMeans(8, init=init8, n_init=1).fit(blobs8[perm])
    assert np.array_equal(a.labels_[perm], b.labels_)
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-12)


@pytest.fixture(scope="module")
def big_blobs():
    """Large enough (rows x features x clusters >= 2e6) that fits really use n_jobs threads."""
    from clusterlab.cluster.kmeans import _SMALL_WORK

    X, _ = make_blobs(n_samples=25_000, n_features=10, centers=10, cluster_std=3, random_state=3)
    assert X.size * 10 >= _SMALL_WORK
    return X


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_same_result_for_one_and_two_threads(big_blobs, algorithm):
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has a single thread on this machine: nothing to compare")
    one = KMeans(10, random_state=5, n_jobs=1, algorithm=algorithm).fit(big_blobs)
    two = KMeans(10, random_state=5, n_jobs=2, algorithm=algorithm).fit(big_blobs)
    assert np.array_equal(one.labels_, two.labels_)
    assert np.array_equal(one.cluster_centers_, two.cluster_centers_)
    assert one.inertia_ == two.inertia_
    assert one.n_iter_ == two.n_iter_


def test_float32_in_float32_out(blobs8):
    X = blobs8.astype(np.float32)
    km = KMeans(8, random_state=0).fit(X)
    assert km.cluster_centers_.dtype == np.float32
    assert km.transform(X).dtype == np.float32
    assert km.fit_transform(X).dtype == np.float32
    assert km.labels_.dtype == np.int64
    assert km.predict(X).dtype == np.int64


def test_input_not_modified(blobs8, init8):
    X = blobs8.copy()
    init = init8.copy()
    KMeans(8, init=init, n_init=1).fit(X)
    assert np.array_equal(X, blobs8)
    assert np.array_equal(init, init8)


def test_fit_transform_equals_fit_then_transform(blobs8):
    km = KMeans(8, random_state=0)
    d = km.fit_transform(blobs8)
    np.testing.assert_allclose(d, km.transform(blobs8))
    assert np.array_equal(d.argmin(axis=1), km.labels_)


def test_pandas_feature_names(wholesale):
    df = wholesale if hasattr(wholesale, "columns") else None
    if df is None:
        pytest.skip("wholesale fixture is not a DataFrame")
    num = df.select_dtypes("number")
    km = KMeans(4, random_state=0).fit(num)
    assert list(km.feature_names_in_) == list(num.columns)
    assert km.get_feature_names_out().tolist() == [f"kmeans{i}" for i in range(4)]


def test_function_wraps_estimator(blobs8):
    centers, labels, inertia, n_iter = kmeans(blobs8, 8, random_state=0, return_n_iter=True)
    km = KMeans(8, random_state=0).fit(blobs8)
    assert np.array_equal(labels, km.labels_)
    assert np.array_equal(centers, km.cluster_centers_)
    assert (inertia, n_iter) == (km.inertia_, km.n_iter_)


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        (np.array([[0.0, np.nan], [1.0, 1.0]]), ValueError, "NaN"),
        (np.array([[0.0, np.inf], [1.0, 1.0]]), ValueError, "infinity"),
        (np.empty((0, 2)), ValueError, "0 sample"),
        (np.arange(5.0), ValueError, "Expected 2D array"),
        ("data.csv", TypeError, "X must be a 2-D array-like of numbers"),
        (np.array([["a", "b"], ["c", "d"]]), ValueError, "X must contain only numbers"),
    ],
)
def test_bad_input(X, error, match):
    with pytest.raises(error, match=match):
        KMeans(1).fit(X)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n_clusters": 0}, r"n_clusters must be an int in \[1, inf\); got 0"),
        ({"n_clusters": 2.5}, "n_clusters must be an int"),
        ({"init": "kmeans"}, "init must be one of"),
        ({"n_init": 0}, "n_init must be"),
        ({"max_iter": 0}, "max_iter must be"),
        ({"tol": -1.0}, "tol must be a number"),
        ({"algorithm": "fast"}, "algorithm must be one of"),
        ({"random_state": -1}, "random_state must be"),
    ],
)
def test_bad_parameters(blobs8, params, match):
    with pytest.raises(ValueError, match=match):
        KMeans(**{"n_clusters": 2, **params}).fit(blobs8)


def test_too_many_clusters_and_bad_init_shape(blobs8):
    with pytest.raises(ValueError, match=r"n_samples=5 should be >= n_clusters=6"):
        KMeans(6).fit(blobs8[:5])
    with pytest.raises(ValueError, match=r"init \(the initial centers\) must have shape"):
        KMeans(3, init=np.zeros((2, 5))).fit(blobs8)
    with pytest.raises(ValueError, match=r"init .* must be finite"):
        KMeans(2, init=np.full((2, 5), np.nan)).fit(blobs8)
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(1500,\)"):
        KMeans(2).fit(blobs8, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        KMeans(2).fit(blobs8, sample_weight=-np.ones(len(blobs8)))


def test_predict_checks_features(blobs8):
    km = KMeans(2, random_state=0).fit(blobs8)
    with pytest.raises(ValueError, match="features"):
        km.predict(blobs8[:, :3])


def test_no_warning_on_normal_fit(blobs8):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        KMeans(8, random_state=0).fit(blobs8)


def test_auto_rule():
    from clusterlab.cluster.kmeans import _auto_algorithm

    assert _auto_algorithm(10_000, 2, 4) == "lloyd"
    assert _auto_algorithm(10_000, 2, 16) == "lloyd"
    assert _auto_algorithm(10_000, 2, 64) == "yinyang"
    assert _auto_algorithm(10_000, 8, 16) == "hamerly"
    assert _auto_algorithm(200_000, 16, 16) == "hamerly"
    assert _auto_algorithm(1_000_000, 16, 64) == "yinyang"
    assert _auto_algorithm(100_000, 32, 256) == "yinyang"
