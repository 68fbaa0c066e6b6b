"""Distributed GaussianMixture (EM as a map-reduce of sufficient statistics) on a LocalCluster."""

from __future__ import annotations

import itertools
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score

from clusterlab import GaussianMixture

da = pytest.importorskip("dask.array")  # the dask extra is part of dev: never skipped in CI
dd = pytest.importorskip("dask.dataframe")

pytestmark = [pytest.mark.timeout(600), pytest.mark.usefixtures("dask_client")]

TYPES = ["full", "tied", "diag", "spherical"]
#: Uneven row blocks with an empty and a one-row block.
CHUNKS = (400, 0, 1, 299, 500)


@pytest.fixture(scope="module")
def data():
    """1,200 rows of three overlapping, correlated Gaussian blobs in 3-D, and row weights."""
    rng = np.random.default_rng(0)
    centers = np.array([[0.0, 0.0, 0.0], [3.0, 1.0, -1.0], [0.5, 4.0, 2.0]])
    cov = np.array([[1.0, 0.5, 0.0], [0.5, 1.5, 0.3], [0.0, 0.3, 0.8]])
    y = rng.integers(0, 3, sum(CHUNKS))
    X = centers[y] + rng.multivariate_normal(np.zeros(3), cov, size=y.size)
    return X, rng.uniform(0.5, 2.0, y.size), y


def _array(X):
    return da.from_array(X, chunks=(CHUNKS, X.shape[1]))


def _start(X, covariance_type):
    """Initial parameters (weights, means, precisions) from one in-memory EM iteration."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm = GaussianMixture(3, covariance_type=covariance_type, max_iter=1, random_state=1)
        gm.fit(X)
    return {"weights_init": gm.weights_, "means_init": gm.means_, "precisions_init": gm.precisions_}


def _assert_same_fit(model, ref):
    assert model.n_iter_ == ref.n_iter_
    assert model.converged_ == ref.converged_
    assert model.lower_bound_ == pytest.approx(ref.lower_bound_, rel=1e-9)
    np.testing.assert_allclose(model.lower_bounds_, ref.lower_bounds_, rtol=1e-9)
    np.testing.assert_allclose(model.weights_, ref.weights_, rtol=1e-7)
    np.testing.assert_allclose(model.means_, ref.means_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(model.covariances_, ref.covariances_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(model.precisions_cholesky_, ref.precisions_cholesky_, rtol=1e-6)
    np.testing.assert_array_equal(model.reg_covar_, ref.reg_covar_)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_same_initial_parameters_give_the_in_memory_iterations(data, covariance_type):
    from clusterlab.distributed import predict_proba

    X, w, _ = data
    start = _start(X, covariance_type)
    params = {"covariance_type": covariance_type, "tol": 1e-8, "max_iter": 60, **start}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = GaussianMixture(3, **params).fit(X, sample_weight=w)
        model = GaussianMixture(3, **params).fit(_array(X), sample_weight=w)
    assert model.n_iter_ > 3  # the comparison covers several iterations
    _assert_same_fit(model, ref)
    assert isinstance(model.labels_, da.Array) and model.labels_.chunks[0] == CHUNKS
    np.testing.assert_array_equal(model.labels_.compute(), ref.labels_)
    assert model.n_features_in_ == 3
    proba = predict_proba(model, _array(X))
    assert proba.chunks == (CHUNKS, (3,))
    np.testing.assert_allclose(proba.compute(), ref.predict_proba(X), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_random_from_data_draws_the_in_memory_rows(data, covariance_type):
    """The same random_state draws the same rows: the same fit, also over n_init runs."""
    X, _, _ = data
    params = {"covariance_type": covariance_type, "init_params": "random_from_data"}
    params.update(n_init=2, random_state=5, tol=1e-4)
    ref = GaussianMixture(3, **params).fit(X)
    model = GaussianMixture(3, **params).fit(_array(X))
    _assert_same_fit(model, ref)


def test_float32_rows_give_the_float64_in_memory_fit(data):
    X, _, _ = data
    X32 = X.astype(np.float32)
    params = {"covariance_type": "full", "tol": 1e-8, **_start(X, "full")}
    ref = GaussianMixture(3, **params).fit(X32)
    model = GaussianMixture(3, **params).fit(_array(X32))
    _assert_same_fit(model, ref)
    assert model.means_.dtype == np.float64


def test_warm_start_continues_as_in_memory(data):
    X, _, _ = data
    params = {"covariance_type": "diag", "warm_start": True, "max_iter": 2, **_start(X, "diag")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = GaussianMixture(3, **params).fit(X).fit(X)
        model = GaussianMixture(3, **params).fit(_array(X)).fit(_array(X))
    _assert_same_fit(model, ref)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_kmeans_initialisation_is_the_in_memory_rule_on_the_centres(
    data, covariance_type, dask_client
):
    """Hard responsibilities from the nearest centre give params_from_resp's parameters."""
    from clusterlab.cluster._mixture_math import KINDS
    from clusterlab.cluster.mixture import _Data, params_from_resp
    from clusterlab.distributed._data import dask_data, data_stats
    from clusterlab.distributed.mixture import params_from_centers, weighted_moments

    X, w, y = data
    kind = KINDS[covariance_type]
    centers = np.stack([X[y == c].mean(axis=0) for c in range(3)]) + 0.1
    labels = np.argmin(((X[:, None, :] - centers[None]) ** 2).sum(axis=2), axis=1)
    resp = np.eye(3)[labels]
    ref_data = _Data.build(X, w, need_tied=covariance_type == "tied")
    ref = params_from_resp(ref_data, resp, kind, 1e-6, ref_data.total_weight)
    dask = dask_data(_array(X), w)
    data_stats(dask_client, dask)
    moments = weighted_moments(dask_client, dask, tied=covariance_type == "tied")
    assert moments.total_weight == pytest.approx(ref_data.total_weight, rel=1e-12)
    np.testing.assert_allclose(moments.center, ref_data.center, rtol=1e-12)
    assert moments.scale == pytest.approx(ref_data.scale, rel=1e-12)
    params = params_from_centers(dask_client, dask, moments, centers, kind, np.full(3, 1e-6))
    np.testing.assert_allclose(params.weights, ref.weights, rtol=1e-12)
    np.testing.assert_allclose(params.means, ref.means, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(params.covariances, ref.covariances, rtol=1e-10, atol=1e-12)


def test_kmeans_initialisation_finds_the_blobs_reproducibly():
    rng = np.random.default_rng(3)
    centers = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0], [8.0, 8.0]])
    y = np.repeat(np.arange(4), 300)
    X = centers[y] + rng.normal(size=(y.size, 2))
    ref = GaussianMixture(4, random_state=0).fit(X)
    first = GaussianMixture(4, random_state=0).fit(da.from_array(X, chunks=250))
    again = GaussianMixture(4, random_state=0).fit(da.from_array(X, chunks=250))
    np.testing.assert_array_equal(first.means_, again.means_)
    assert adjusted_rand_score(y, first.labels_.compute()) > 0.99
    assert first.lower_bound_ == pytest.approx(ref.lower_bound_, rel=1e-4)


def test_dask_frame_fit_predict_and_predict_proba_are_lazy(data):
    from clusterlab.distributed import predict, predict_proba

    X, _, _ = data
    frame = pd.DataFrame(X, columns=["a", "b", "c"], index=np.arange(X.shape[0]) * 3 + 1)
    bounds = np.cumsum((0, *CHUNKS))
    ddf = dd.concat(
        [dd.from_pandas(frame.iloc[a:b], npartitions=1) for a, b in itertools.pairwise(bounds)]
    )
    start = _start(X, "spherical")
    ref = GaussianMixture(3, covariance_type="spherical", **start).fit(frame)
    model = GaussianMixture(3, covariance_type="spherical", **start).fit(ddf)
    _assert_same_fit(model, ref)
    assert list(model.feature_names_in_) == ["a", "b", "c"]
    labels = model.labels_.compute()
    assert list(labels.index) == list(frame.index)
    np.testing.assert_array_equal(labels.to_numpy(), ref.labels_)
    np.testing.assert_array_equal(predict(model, ddf).compute().to_numpy(), ref.predict(frame))
    proba = predict_proba(model, ddf)
    assert isinstance(proba, dd.DataFrame)
    table = proba.compute()
    assert list(table.index) == list(frame.index) and table.shape == (X.shape[0], 3)
    np.testing.assert_allclose(table.to_numpy(), ref.predict_proba(frame), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("init_params", ["k-means++", "random"])
def test_initialisations_that_need_every_row_are_refused(data, init_params):
    X, _, _ = data
    with pytest.raises(ValueError, match=rf"init_params='{re.escape(init_params)}' on a Dask"):
        GaussianMixture(3, init_params=init_params).fit(_array(X))
    given = GaussianMixture(3, init_params=init_params, max_iter=0, **_start(X, "full"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        given.fit(_array(X))  # nothing is drawn when every initial parameter is given
    np.testing.assert_array_equal(given.means_, _start(X, "full")["means_init"])


def test_bad_input_is_refused_before_em(data):
    X, _, _ = data
    with pytest.raises(ValueError, match=r"n_components .*got 5"):
        GaussianMixture(5).fit(da.from_array(X[:3], chunks=2))
    with pytest.raises(ValueError, match="needs at least 2 rows; got 1"):
        GaussianMixture(1).fit(da.from_array(X[:1], chunks=1))
    bad = X.copy()
    bad[7, 1] = np.nan
    with pytest.raises(ValueError, match="X must be finite"):
        GaussianMixture(2).fit(_array(bad))
