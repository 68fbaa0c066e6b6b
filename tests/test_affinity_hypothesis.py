"""Property-based input handling for AffinityPropagation: any small finite array.

Coordinates drawn from a mix of small integers and floats give duplicate points and equal
similarities, where the tie-breaking noise decides; the dense mode must still reproduce
scikit-learn's run exactly, and never label a point -1 where scikit-learn gives up.
"""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.cluster import AffinityPropagation as SkAP

from clusterlab import AffinityPropagation
from tests.checks import check_labels

coordinate = st.one_of(
    st.integers(-3, 3).map(float),
    st.floats(min_value=-10, max_value=10, allow_nan=False, allow_infinity=False, width=32),
)


@st.composite
def small_data(draw):
    n = draw(st.integers(1, 30))
    d = draw(st.integers(1, 3))
    return draw(arrays(np.float64, (n, d), elements=coordinate))


@settings(max_examples=40, deadline=None)
@given(
    X=small_data(),
    damping=st.sampled_from([0.5, 0.7, 0.9]),
    max_iter=st.sampled_from([3, 50, 200]),
    seed=st.integers(0, 5),
)
def test_dense_mode_is_sklearns_run(X, damping, max_iter, seed):
    params = {"damping": damping, "max_iter": max_iter, "random_state": seed}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = AffinityPropagation(**params).fit(X)
        ref = SkAP(**params).fit(X)
    check_labels(ours.labels_, X.shape[0])
    assert ours.n_clusters_ >= 1
    if np.all(ref.labels_ == -1):  # scikit-learn found no exemplar: we keep the last ones
        assert not ours.converged_
        return
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_array_equal(ours.cluster_centers_indices_, ref.cluster_centers_indices_)
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
