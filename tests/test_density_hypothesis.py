"""Property-based input handling for DBSCAN and OPTICS: any small finite array.

Small coordinates drawn from a mix of integers and floats give many duplicates and equal
distances, where tie rules matter; results are checked against scikit-learn's estimators (the
definitions) on the same values, and against invariances.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.cluster import DBSCAN as SkDBSCAN
from sklearn.cluster import OPTICS as SkOPTICS

from clusterlab import DBSCAN, OPTICS
from tests.checks import check_labels, same_partition

# scikit-learn warns about all-infinite reachability and divides by it; the reference is right
pytestmark = [
    pytest.mark.filterwarnings("ignore:All reachability values are inf:UserWarning"),
    pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning"),
]

coordinate = st.one_of(
    st.integers(-4, 4).map(float),
    st.floats(min_value=-10, max_value=10, allow_nan=False, allow_infinity=False, width=32),
)


@st.composite
def small_data(draw, min_rows: int = 1):
    n = draw(st.integers(min_rows, 40))
    d = draw(st.integers(1, 3))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    X = draw(arrays(np.float64, (n, d), elements=coordinate)).astype(dtype)
    perm = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).permutation(n)
    return X, perm


SETTINGS = settings(max_examples=60, deadline=None)


@SETTINGS
@given(
    case=small_data(),
    eps=st.sampled_from([0.0, 0.5, 1.0, 3.0]),
    min_samples=st.integers(1, 6),
    metric=st.sampled_from(["euclidean", "manhattan", "chebyshev"]),
)
def test_dbscan_any_small_input(case, eps, min_samples, metric):
    X, perm = case
    model = DBSCAN(eps, min_samples=min_samples, metric=metric).fit(X)
    labels = model.labels_
    check_labels(labels, X.shape[0], allow_noise=True)
    assert model.components_.dtype == X.dtype
    core = np.zeros(X.shape[0], dtype=bool)
    core[model.core_sample_indices_] = True
    X64 = X.astype(np.float64)  # our distances widen float32 first, as the reference's tree does
    if eps > 0:
        ref = SkDBSCAN(eps=eps, min_samples=min_samples, metric=metric, algorithm="kd_tree")
        ref.fit(X64)
        np.testing.assert_array_equal(model.core_sample_indices_, ref.core_sample_indices_)
        np.testing.assert_array_equal(labels, ref.labels_)
    else:
        # eps = 0: clusters are groups of at least min_samples identical rows
        _, inverse, counts = np.unique(X64, axis=0, return_inverse=True, return_counts=True)
        np.testing.assert_array_equal(core, counts[inverse.ravel()] >= min_samples)
    # rows permuted: same core points, same noise, same grouping of the core points
    other = DBSCAN(eps, min_samples=min_samples, metric=metric).fit(X[perm])
    np.testing.assert_array_equal(np.sort(perm[other.core_sample_indices_]), np.flatnonzero(core))
    np.testing.assert_array_equal(other.labels_ == -1, labels[perm] == -1)
    assert same_partition(other.labels_[core[perm]], labels[perm][core[perm]])
    # training core points predict their own labels; noise stays noise
    got = model.predict(X)
    np.testing.assert_array_equal(got[core], labels[core])
    np.testing.assert_array_equal(got[labels == -1], -1)


@SETTINGS
@given(
    case=small_data(min_rows=2),
    min_samples=st.integers(2, 6),
    cluster_method=st.sampled_from(["xi", "dbscan"]),
    algorithm=st.sampled_from(["scan", "kd_tree"]),
    max_eps=st.sampled_from([np.inf, 3.0]),
)
def test_optics_any_small_input(case, min_samples, cluster_method, algorithm, max_eps):
    X, perm = case
    n = X.shape[0]
    min_samples = min(min_samples, n)
    kwargs = {"min_samples": min_samples, "max_eps": max_eps, "cluster_method": cluster_method}
    if cluster_method == "dbscan":
        kwargs["eps"] = min(1.0, max_eps)
    model = OPTICS(**kwargs, algorithm=algorithm).fit(X)
    labels = model.labels_
    check_labels(labels, n, allow_noise=True)
    # scikit-learn's 'auto' picks brute force for tiny n, whose |x|^2 - 2xy + |y|^2 core
    # distances round differently; its kd-tree sums coordinates in order, as we do
    ref = SkOPTICS(**kwargs, algorithm="kd_tree").fit(X.astype(np.float64))
    np.testing.assert_array_equal(model.ordering_, ref.ordering_)
    np.testing.assert_array_equal(model.core_distances_, ref.core_distances_)
    np.testing.assert_array_equal(model.reachability_, ref.reachability_)
    np.testing.assert_array_equal(model.predecessor_, ref.predecessor_)
    np.testing.assert_array_equal(labels, ref.labels_)
    # an exact copy of a training row predicts the label of the first such row
    X64 = X.astype(np.float64)
    same = (X64[:, None, :] == X64[None, :, :]).all(axis=2)
    np.testing.assert_array_equal(model.predict(X), labels[same.argmax(axis=1)])
    # permuting the rows permutes the core distances
    other = OPTICS(**kwargs, algorithm=algorithm).fit(X[perm])
    np.testing.assert_array_equal(other.core_distances_, model.core_distances_[perm])
    if cluster_method == "dbscan":
        # the DBSCAN extraction's core points (core distance <= eps) group the same way
        core = model.core_distances_ <= kwargs["eps"]
        assert same_partition(other.labels_[core[perm]], labels[perm][core[perm]])


@pytest.mark.parametrize("estimator", [DBSCAN(), OPTICS(min_samples=2)])
@pytest.mark.parametrize(
    ("X", "match"),
    [
        (np.array([[0.0, np.nan], [1.0, 1.0], [2.0, 2.0]]), "Input X contains NaN"),
        (np.array([[0.0, np.inf], [1.0, 1.0], [2.0, 2.0]]), "Input X contains infinity"),
        (np.empty((0, 2)), "Found array with 0 sample"),
        (np.empty((3, 0)), "Found array with 0 feature"),
    ],
)
def test_bad_input_is_a_clear_error(estimator, X, match):
    with pytest.raises(ValueError, match=match):
        estimator.fit(X)


@pytest.mark.parametrize("estimator", [DBSCAN(1.0, min_samples=2), OPTICS(min_samples=2)])
def test_bad_input_to_predict_is_a_clear_error(estimator):
    model = estimator.fit(np.array([[0.0, 0.0], [0.5, 0.0], [5.0, 5.0], [5.5, 5.0]]))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.predict(np.array([[np.nan, 0.0]]))
    with pytest.raises(ValueError, match="features"):
        model.predict(np.zeros((2, 3)))
