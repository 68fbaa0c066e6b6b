"""GaussianMixture: agreement with scikit-learn from the same initial parameters, weights,
float32, degenerate components, methods and input errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from clusterlab import GaussianMixture
from clusterlab.cluster.mixture import DegenerateComponentWarning
from tests.checks import check_labels

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


@pytest.fixture(scope="module")
def overlapping():
    """600 x 3, four overlapping blobs: EM needs tens of iterations from a random start."""
    X, _ = make_blobs(n_samples=600, n_features=3, centers=4, cluster_std=2.0, random_state=3)
    return X


def _sklearn_init(X, covariance_type, k=4, seed=0):
    """Initial parameters: k random rows as means, equal weights, unit precisions."""
    d = X.shape[1]
    means = X[np.random.default_rng(seed).choice(len(X), k, replace=False)]
    precisions = {
        "full": np.tile(np.eye(d), (k, 1, 1)),
        "tied": np.eye(d),
        "diag": np.ones((k, d)),
        "spherical": np.ones(k),
    }[covariance_type]
    return {"weights_init": np.full(k, 1.0 / k), "means_init": means, "precisions_init": precisions}


@pytest.fixture(scope="module", params=COVARIANCE_TYPES)
def same_start(request, overlapping):
    """(covariance_type, init arrays, scikit-learn's fit from them on float64 data)."""
    cov = request.param
    init = _sklearn_init(overlapping, cov)
    ref = SkGaussianMixture(4, covariance_type=cov, max_iter=200, tol=1e-5, **init)
    ref.fit(overlapping)
    return cov, init, ref


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_same_iterates_as_sklearn_from_same_parameters(same_start, overlapping, dtype):
    cov, init, ref = same_start
    assert ref.n_iter_ > 5  # the comparison covers a real run, not one step
    X = overlapping.astype(dtype)
    gm = GaussianMixture(4, covariance_type=cov, max_iter=200, tol=1e-5, **init).fit(X)
    assert gm.n_iter_ == ref.n_iter_
    assert gm.converged_ == ref.converged_
    assert gm.lower_bound_ == pytest.approx(ref.lower_bound_, rel=1e-6)
    np.testing.assert_allclose(gm.lower_bounds_, ref.lower_bounds_, rtol=1e-6)
    np.testing.assert_allclose(gm.weights_, ref.weights_, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(gm.means_, ref.means_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gm.covariances_, ref.covariances_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gm.precisions_cholesky_, ref.precisions_cholesky_, rtol=1e-4)
    np.testing.assert_allclose(gm.precisions_, ref.precisions_, rtol=1e-4, atol=1e-8)
    assert gm.means_.dtype == np.float64
    np.testing.assert_array_equal(gm.labels_, ref.predict(overlapping))
    np.testing.assert_allclose(gm.score_samples(X), ref.score_samples(overlapping), rtol=1e-6)
    np.testing.assert_allclose(gm.predict_proba(X), ref.predict_proba(overlapping), atol=1e-6)
    assert gm.bic(X) == pytest.approx(ref.bic(overlapping), rel=1e-6)
    assert gm.aic(X) == pytest.approx(ref.aic(overlapping), rel=1e-6)
    assert np.all(gm.reg_covar_ == 1e-6)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_integer_weights_equal_repeated_rows(overlapping, covariance_type):
    X = overlapping[:200]
    counts = np.random.default_rng(1).integers(0, 4, size=len(X))
    init = _sklearn_init(overlapping, covariance_type)
    weighted = GaussianMixture(4, covariance_type=covariance_type, **init).fit(
        X, sample_weight=counts
    )
    repeated = GaussianMixture(4, covariance_type=covariance_type, **init).fit(
        np.repeat(X, counts, axis=0)
    )
    assert weighted.n_iter_ == repeated.n_iter_
    assert weighted.lower_bound_ == pytest.approx(repeated.lower_bound_, rel=1e-12)
    np.testing.assert_allclose(weighted.means_, repeated.means_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(weighted.covariances_, repeated.covariances_, rtol=1e-9)
    # bic with weights is the bic of the repeated rows
    assert weighted.bic(X, sample_weight=counts) == pytest.approx(
        repeated.bic(np.repeat(X, counts, axis=0)), rel=1e-10
    )


def test_float32_is_accumulated_in_float64(overlapping):
    """Far from the origin a float32 computation loses the variances; ours keeps them."""
    X = (overlapping + 1e4).astype(np.float32)
    X64 = X.astype(np.float64)
    init = _sklearn_init(X64, "diag")
    f32 = GaussianMixture(4, covariance_type="diag", **init).fit(X)
    f64 = GaussianMixture(4, covariance_type="diag", **init).fit(X64)
    assert f32.n_iter_ == f64.n_iter_
    assert f32.lower_bound_ == pytest.approx(f64.lower_bound_, rel=1e-12)
    np.testing.assert_allclose(f32.covariances_, f64.covariances_, rtol=1e-9)


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_singular_covariance_raises_reg_covar_instead_of_failing(covariance_type):
    """Collinear features on a large scale: scikit-learn stops with 'ill-defined empirical
    covariance'; we raise the regularisation of the components concerned and say so."""
    rng = np.random.default_rng(0)
    z = rng.normal(size=(200, 1)) * 1e5
    X = np.hstack([z, 2 * z, rng.normal(size=(200, 1)) * 1e5]) + 1e7
    with pytest.raises(ValueError, match="ill-defined empirical covariance"):
        SkGaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    with pytest.warns(DegenerateComponentWarning, match=r"raised to .* \(see reg_covar_\)"):
        gm = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    assert np.any(gm.reg_covar_ > 1e-6)
    assert np.isfinite(gm.lower_bound_)
    assert np.all(np.linalg.eigvalsh(np.atleast_3d(gm.covariances_).reshape(-1, 3, 3)) > 0)
    check_labels(gm.predict(X), len(X))


def test_collapsed_component_without_regularisation():
    """reg_covar=0 and a cluster of identical rows: its covariance is zero."""
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(50, 2)), np.tile([[10.0, 10.0]], (20, 1))])
    means = np.array([[0.0, 0.0], [10.0, 10.0]])
    with pytest.warns(DegenerateComponentWarning, match=r"component\(s\) \[1\]"):
        gm = GaussianMixture(2, reg_covar=0.0, means_init=means, random_state=0).fit(X)
    assert gm.reg_covar_[0] == 0.0 and gm.reg_covar_[1] > 0.0
    assert np.array_equal(gm.labels_, np.repeat([0, 1], [50, 20]))


def test_max_iter_zero_keeps_initial_parameters(overlapping):
    init = _sklearn_init(overlapping, "full")
    gm = GaussianMixture(4, max_iter=0, **init).fit(overlapping)
    np.testing.assert_array_equal(gm.means_, init["means_init"])
    np.testing.assert_allclose(gm.precisions_, init["precisions_init"], rtol=1e-10)
    assert gm.n_iter_ == 0 and not gm.converged_


def test_warm_start_continues_like_sklearn(overlapping):
    init = _sklearn_init(overlapping, "full")
    ours = GaussianMixture(4, max_iter=3, warm_start=True, **init)
    ref = SkGaussianMixture(4, max_iter=3, warm_start=True, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(3):
            ours.fit(overlapping)
            ref.fit(overlapping)
    assert ours.lower_bound_ == pytest.approx(ref.lower_bound_, rel=1e-9)
    np.testing.assert_allclose(ours.means_, ref.means_, rtol=1e-8)


def test_sample_matches_sklearn_on_the_same_parameters(overlapping):
    init = _sklearn_init(overlapping, "full")
    ours = GaussianMixture(4, random_state=5, **init).fit(overlapping)
    ref = SkGaussianMixture(4, random_state=5, **init).fit(overlapping)
    Xs, ys = ours.sample(300)
    Xr, yr = ref.sample(300)
    np.testing.assert_array_equal(ys, yr)
    np.testing.assert_allclose(Xs, Xr, rtol=1e-6, atol=1e-6)
    assert ys.dtype == np.int64


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "random_from_data"])
def test_every_init_gives_a_sound_fit(init_params, blobs):
    X, y = blobs
    gm = GaussianMixture(3, init_params=init_params, n_init=2, random_state=0).fit(X)
    # EM from random responsibilities may leave a component empty: labels are in 0..k-1
    assert gm.labels_.dtype == np.int64 and set(gm.labels_) <= {0, 1, 2}
    if init_params == "kmeans":
        assert adjusted_rand_score(y, gm.labels_) > 0.98
    proba = gm.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(proba.argmax(axis=1), gm.labels_)
    again = GaussianMixture(3, init_params=init_params, n_init=2, random_state=0).fit(X)
    assert again.lower_bound_ == gm.lower_bound_
    assert gm.score(X) == pytest.approx(gm.lower_bound_, rel=1e-2)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_thread_count_does_not_change_the_statistics(overlapping, covariance_type):
    """The E step sums per fixed block of rows, then over blocks in order: bit-identical
    results for any thread count (small fits run on one thread anyway)."""
    from clusterlab._config import threads
    from clusterlab.kernels.mixture import estep_statistics

    X = np.tile(overlapping, (100, 1))
    gm = GaussianMixture(4, covariance_type=covariance_type, max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(overlapping)
    prec, log_norm = gm._current_params().kernel_model()
    w = np.ones(len(X))
    results = []
    for n in (1, 2):
        with threads(n):
            results.append(estep_statistics(X, w, gm.means_, prec, log_norm, gm._kind))
    for one, two in zip(*results, strict=True):
        np.testing.assert_array_equal(one, two)


def test_zero_weight_rows_are_ignored(overlapping):
    init = _sklearn_init(overlapping, "diag")
    w = np.ones(len(overlapping))
    w[::3] = 0.0
    weighted = GaussianMixture(4, covariance_type="diag", **init).fit(overlapping, sample_weight=w)
    dropped = GaussianMixture(4, covariance_type="diag", **init).fit(overlapping[w > 0])
    assert weighted.lower_bound_ == pytest.approx(dropped.lower_bound_, rel=1e-12)


def test_input_is_not_modified(overlapping):
    X = overlapping.copy()
    init = _sklearn_init(overlapping, "full")
    kept = {name: np.copy(v) for name, v in init.items()}
    GaussianMixture(4, **init).fit(X)
    np.testing.assert_array_equal(X, overlapping)
    for name, value in kept.items():
        np.testing.assert_array_equal(init[name], value)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n_components": 0}, "n_components must be an int in"),
        ({"covariance_type": "banded"}, "covariance_type must be one of"),
        ({"weights_init": [0.5, 0.6]}, "weights_init must sum to 1"),
        ({"weights_init": [0.5, 0.25, 0.25]}, r"weights_init must have shape \(2,\)"),
        ({"means_init": [[0.0, 0.0]]}, r"means_init must have shape \(2, 2\)"),
        (
            {"precisions_init": [[[1.0, 2.0], [2.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]]},
            "precisions_init must be symmetric positive definite",
        ),
        (
            {"covariance_type": "diag", "precisions_init": [[1.0, -1.0], [1.0, 1.0]]},
            "precisions_init must be positive",
        ),
    ],
)
def test_bad_parameters_are_named(params, match):
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match=match):
        GaussianMixture(**{"n_components": 2, **params}).fit(X)


def test_too_few_rows():
    with pytest.raises(ValueError, match="n_components must be an int in"):
        GaussianMixture(5).fit(np.zeros((3, 2)))


def test_sample_needs_a_positive_count(blobs):
    gm = GaussianMixture(2, random_state=0).fit(blobs[0])
    with pytest.raises(ValueError, match="n_samples must be an int >= 1; got 0"):
        gm.sample(0)


def test_predict_checks_features(blobs):
    gm = GaussianMixture(2, random_state=0).fit(blobs[0])
    with pytest.raises(ValueError, match="features"):
        gm.predict(np.zeros((3, 5)))


# -- gaussian_mixture_path ------------------------------------------------------------------


@pytest.fixture(scope="module")
def path_and_data():
    from clusterlab.cluster.mixture_path import gaussian_mixture_path

    X, y = make_blobs(n_samples=400, n_features=2, centers=3, cluster_std=0.8, random_state=2)
    return gaussian_mixture_path(X, range(1, 6), random_state=0), X, y


def test_path_scores_every_model_as_the_estimator_does(path_and_data):
    path, X, _ = path_and_data
    assert set(path.models) == {(t, k) for t in COVARIANCE_TYPES for k in range(1, 6)}
    for (t, k), model in path.models.items():
        assert model.n_components == k and model.covariance_type == t
        assert path.bic[(t, k)] == pytest.approx(model.bic(X), rel=1e-10)
        assert path.aic[(t, k)] == pytest.approx(model.aic(X), rel=1e-10)
        np.testing.assert_array_equal(path.labels(t, k), model.predict(X))


def test_path_finds_the_blobs_by_bic(path_and_data):
    path, _, y = path_and_data
    covariance_type, k = path.best("bic")
    assert k == 3
    assert adjusted_rand_score(y, path.labels(covariance_type, k)) > 0.95
    table = path.table("bic")
    assert list(table.index) == [1, 2, 3, 4, 5] and list(table.columns) == COVARIANCE_TYPES


def test_path_model_equals_a_fit_from_its_initial_parameters(path_and_data):
    """Each model of the path is an ordinary EM run: refitting from its own parameters with
    max_iter=1 moves nothing but the last small step."""
    path, X, _ = path_and_data
    model = path.models[("full", 3)]
    again = GaussianMixture(
        3,
        weights_init=model.weights_,
        means_init=model.means_,
        precisions_init=model.precisions_,
    ).fit(X)
    assert again.lower_bound_ == pytest.approx(model.lower_bound_, rel=1e-4)


def test_path_weights_equal_repeated_rows():
    from clusterlab.cluster.mixture_path import gaussian_mixture_path

    X, _ = make_blobs(n_samples=120, n_features=2, centers=2, random_state=5)
    counts = np.random.default_rng(0).integers(1, 3, size=len(X))
    # seeded: unseeded, a rare start ended in another local optimum (a flaky failure)
    common = {"covariance_types": ["diag"], "tol": 1e-10, "max_iter": 500, "random_state": 0}
    weighted = gaussian_mixture_path(X, [2], sample_weight=counts, **common)
    repeated = gaussian_mixture_path(np.repeat(X, counts, axis=0), [2], **common)
    # different k-means seeds, same optimum on two clear blobs
    assert weighted.bic[("diag", 2)] == pytest.approx(repeated.bic[("diag", 2)], rel=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ks": [0, 1]}, r"ks must be a non-empty sequence of ints in \[1, n_samples=50\]"),
        ({"ks": [2], "covariance_types": ["banded"]}, "covariance_types must be a non-empty"),
        ({"ks": [2], "n_init": 0}, "n_init must be an int in"),
    ],
)
def test_path_bad_arguments(kwargs, match):
    from clusterlab.cluster.mixture_path import gaussian_mixture_path

    X = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(ValueError, match=match):
        gaussian_mixture_path(X, **kwargs)
