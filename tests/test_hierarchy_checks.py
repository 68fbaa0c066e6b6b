"""scikit-learn's estimator checks and input handling for AgglomerativeClustering and Genie."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab import AgglomerativeClustering, Genie
from tests.checks import check_labels


@parametrize_with_checks(
    [
        AgglomerativeClustering(3),
        AgglomerativeClustering(3, linkage="average"),
        AgglomerativeClustering(3, linkage="single"),
        AgglomerativeClustering(3, linkage="median"),
        AgglomerativeClustering(3, linkage="complete", connectivity=4),
        Genie(3),
        Genie(3, M=3, mst_algorithm="prim"),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


ESTIMATORS = [
    AgglomerativeClustering(2, linkage="ward"),
    AgglomerativeClustering(2, linkage="complete"),
    AgglomerativeClustering(2, linkage="single"),
    AgglomerativeClustering(2, linkage="centroid"),
    Genie(2),
    Genie(2, M=2),
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
@settings(max_examples=15, deadline=None)
@given(
    X=hnp.arrays(
        dtype=st.sampled_from([np.float64, np.float32]),
        shape=hnp.array_shapes(min_dims=2, max_dims=2, min_side=3, max_side=25),
        elements=st.floats(-1e3, 1e3, allow_nan=False, width=32),
    )
)
def test_any_finite_data_gives_valid_labels(estimator, X):
    """Duplicates, constant columns, huge or tiny spreads: a valid tree and labels."""
    import scipy.cluster.hierarchy as sch

    before = X.copy()
    model = type(estimator)(**estimator.get_params()).fit(X)
    assert np.array_equal(X, before)
    check_labels(model.labels_, X.shape[0])
    assert sch.is_valid_linkage(model.linkage_matrix_)
    assert np.array_equal(model.predict(X[:2]).shape, (2,))


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        (np.array([[1.0, np.nan], [0.0, 1.0], [2.0, 2.0]]), ValueError, "NaN"),
        (np.array([[1.0, np.inf], [0.0, 1.0], [2.0, 2.0]]), ValueError, "infinity"),
        (np.array([[1.0, 2.0]]), ValueError, "minimum of 2 is required"),
        ("data.csv", TypeError, "X must be a 2-D array-like of numbers"),
        (
            np.array([["a", "b"], ["c", "d"]], dtype=object),
            ValueError,
            "X must contain only numbers",
        ),
    ],
)
def test_bad_input(estimator, X, error, match):
    with pytest.raises(error, match=match):
        type(estimator)(**estimator.get_params()).fit(X)
