"""Property-based input handling for SpectralClustering: any small input gives labels."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from clusterlab import SpectralClustering

finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)


@st.composite
def data_and_model(draw):
    n = draw(st.integers(2, 40))
    d = draw(st.integers(1, 3))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    # small integers give duplicated rows, ties and disconnected graphs
    X = draw(arrays(np.float64, (n, d), elements=st.integers(-3, 3).map(float) | finite))
    params = {
        "n_clusters": draw(st.integers(1, min(n, 5))),
        "affinity": draw(st.sampled_from(["nearest_neighbors", "self_tuning", "rbf"])),
        "n_neighbors": draw(st.integers(1, 12)),
        "assign_labels": draw(st.sampled_from(["kmeans", "discretize", "cluster_qr"])),
        "gamma": 1e-3,
    }
    if draw(st.booleans()):
        params["n_landmarks"] = draw(st.integers(max(2, params["n_clusters"]), max(2, n)))
        params["affinity"] = "nearest_neighbors"
    return X.astype(dtype), params


@settings(max_examples=60, deadline=None)
@given(data_and_model())
def test_any_small_input_gives_labels_and_predictions(case):
    X, params = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sc = SpectralClustering(random_state=0, **params).fit(X)
        predicted = sc.predict(X)
    k = params["n_clusters"]
    assert sc.labels_.dtype == np.int64 and sc.labels_.shape == (len(X),)
    assert sc.labels_.min() >= 0 and sc.labels_.max() < k
    assert np.all(np.isfinite(sc.embedding_))
    # a training row gets its label back; identical rows (which the fit may have labelled
    # differently) all get the label of the first of them
    _, first = np.unique(X, axis=0, return_index=True)
    _, which = np.unique(X, axis=0, return_inverse=True)
    np.testing.assert_array_equal(predicted, sc.labels_[first[which.ravel()]])
