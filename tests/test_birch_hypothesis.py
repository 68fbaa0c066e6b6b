"""Property-based input handling for Birch: any small finite array keeps the tree's invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from clusterlab import Birch
from clusterlab.kernels.birch import leaf_entries
from tests.checks import check_labels

pytestmark = pytest.mark.filterwarnings("ignore:Birch found .* subclusters")

coordinate = st.one_of(
    st.integers(-3, 3).map(float),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
)


@st.composite
def small_data(draw):
    n = draw(st.integers(1, 60))
    d = draw(st.integers(1, 3))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    return draw(arrays(np.float64, (n, d), elements=coordinate)).astype(dtype)


@settings(max_examples=40, deadline=None)
@given(
    X=small_data(),
    threshold=st.sampled_from([0.1, 0.5, 2.0, 1e3]),
    branching_factor=st.integers(2, 6),
    n_clusters=st.sampled_from([None, 1, 3]),
)
def test_tree_invariants(X, threshold, branching_factor, n_clusters):
    params = {"threshold": threshold, "branching_factor": branching_factor}
    model = Birch(n_clusters=n_clusters, **params).fit(X)
    n = X.shape[0]
    tree = model._tree
    entries = leaf_entries(tree)
    assert tree[0][entries].sum() == n  # every point in exactly one subcluster
    radius = np.sqrt(tree[2][entries] / tree[0][entries])
    assert np.all(radius <= threshold * (1 + 1e-9) + 1e-9)
    assert model.subcluster_centers_.dtype == X.dtype
    if n_clusters is None or model.subcluster_centers_.shape[0] < n_clusters:
        assert model.labels_.min() >= 0
    else:
        check_labels(model.labels_, n)
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    # streaming the same rows in three batches builds the same tree
    stream = Birch(n_clusters=n_clusters, **params)
    for part in np.array_split(X, 3):
        if part.shape[0]:
            stream.partial_fit(part)
    for a, b in zip(tree, stream._tree, strict=True):
        np.testing.assert_array_equal(a, b)
