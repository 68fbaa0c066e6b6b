"""Property-based input handling for GaussianMixture: any small input fits without raising."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from clusterlab import GaussianMixture

finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)


@st.composite
def data_and_model(draw):
    n = draw(st.integers(2, 25))
    d = draw(st.integers(1, 3))
    dtype = draw(st.sampled_from([np.float64, np.float32, np.int64]))
    # small integers give duplicated rows and collapsed components: the degenerate cases
    elements = st.integers(-3, 3) if dtype == np.int64 else (st.integers(-3, 3).map(float) | finite)
    X = draw(arrays(np.float64, (n, d), elements=elements)).astype(dtype)
    k = draw(st.integers(1, n))
    covariance_type = draw(st.sampled_from(["full", "tied", "diag", "spherical"]))
    reg_covar = draw(st.sampled_from([0.0, 1e-6]))
    weights = draw(st.none() | arrays(np.float64, n, elements=st.sampled_from([0.0, 1.0, 2.5])))
    if weights is not None and not weights.sum() > 0:
        weights[0] = 1.0
    return X, k, covariance_type, reg_covar, weights


@settings(max_examples=60, deadline=None)
@given(data_and_model())
def test_any_small_input_gives_a_consistent_fit(case):
    """Duplicates, constant columns, zero weights and reg_covar=0 never make the fit raise;
    the model is finite and its labels are those of predict."""
    X, k, covariance_type, reg_covar, weights = case
    gm = GaussianMixture(k, covariance_type=covariance_type, reg_covar=reg_covar, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm.fit(X, sample_weight=weights)
    assert np.isfinite(gm.lower_bound_)
    assert np.all(np.isfinite(gm.means_)) and np.all(np.isfinite(gm.precisions_cholesky_))
    assert np.all(gm.reg_covar_ >= reg_covar)
    assert gm.labels_.dtype == np.int64 and gm.labels_.shape == (len(X),)
    assert gm.labels_.min() >= 0 and gm.labels_.max() < k
    np.testing.assert_array_equal(gm.predict(X), gm.labels_)
    proba = gm.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-9)
    assert np.all(np.isfinite(gm.score_samples(X)))
