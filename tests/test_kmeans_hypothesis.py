"""Property-based input handling for KMeans (small arrays, any shape and dtype)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from clusterlab import KMeans

finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)


@st.composite
def data_and_k(draw):
    n = draw(st.integers(1, 30))
    d = draw(st.integers(1, 4))
    dtype = draw(st.sampled_from([np.float64, np.float32, np.int64]))
    X = draw(
        arrays(
            dtype, (n, d), elements=finite.map(dtype) if dtype != np.int64 else st.integers(-50, 50)
        )
    )
    k = draw(st.integers(1, n))
    algorithm = draw(st.sampled_from(["lloyd", "hamerly", "yinyang"]))
    return X, k, algorithm


@settings(max_examples=40, deadline=None)
@given(data_and_k())
def test_any_small_input_gives_a_consistent_fit(case):
    X, k, algorithm = case
    km = KMeans(k, algorithm=algorithm, random_state=0).fit(X)
    expected_dtype = np.float32 if X.dtype == np.float32 else np.float64
    assert km.cluster_centers_.dtype == expected_dtype
    # With duplicated points some clusters may stay empty, so labels can skip values.
    assert km.labels_.dtype == np.int64
    assert km.labels_.shape == (len(X),)
    assert km.labels_.min() >= 0
    assert km.labels_.max() < k
    Xf = X.astype(np.float64)
    centers = km.cluster_centers_.astype(np.float64)
    inertia = ((Xf - centers[km.labels_]) ** 2).sum()
    assert np.isclose(km.inertia_, inertia, rtol=1e-4, atol=1e-3)
    # every row is at its nearest center (up to float32 rounding)
    d2 = ((Xf[:, None, :] - centers[None]) ** 2).sum(-1)
    own = d2[np.arange(len(X)), km.labels_]
    assert np.all(own <= d2.min(axis=1) * (1 + 1e-4) + 1e-3)
    assert np.array_equal(km.predict(X), km.labels_)


@st.composite
def exact_case(draw):
    n = draw(st.integers(2, 60))
    d = draw(st.integers(1, 5))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    # small integers give many exact ties between centers; a large offset tests the centring
    values = st.integers(-4, 4).map(float) | finite
    X = draw(arrays(np.float64, (n, d), elements=values)) + draw(st.sampled_from([0.0, 1e5]))
    k = draw(st.integers(1, n))
    rows = draw(st.permutations(range(n)))[:k]
    weights = draw(arrays(np.float64, n, elements=st.sampled_from([0.0, 0.5, 1.0, 3.0])))
    if not weights.sum() > 0:
        weights[0] = 1.0
    return X.astype(dtype), weights.astype(dtype), np.asarray(rows), draw(st.integers(1, 4))


@settings(max_examples=60, deadline=None)
@given(exact_case())
def test_bounds_with_screening_equal_lloyd_bit_for_bit(case):
    """Whatever the data (ties, duplicates, offsets, zero weights), the bound-based run with
    BLAS screening returns Lloyd's centers, labels, inertia and iteration count exactly."""
    from clusterlab.kernels.bounds import yinyang
    from clusterlab.kernels.lloyd import lloyd

    X, w, rows, n_groups = case
    init = X[rows].copy()
    ref = lloyd(X, w, init, 100, 0.0)
    got = yinyang(X, w, init, 100, 0.0, n_groups)
    assert got[3] == ref[3]
    assert np.array_equal(got[1], ref[1])
    assert np.array_equal(got[0], ref[0])
    assert got[2] == ref[2]
