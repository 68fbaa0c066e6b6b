"""The distance vocabulary of the kernels against scipy, and its exact summation order."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from clusterlab.kernels.metric import (
    METRIC_P,
    cosine_from_euclidean,
    dist,
    dist_to_rdist,
    euclidean_from_cosine,
    metric_p,
    rdist,
    rdist_rows,
    rdist_to_dist,
    unit_rows,
)

P_VALUES = [2.0, 1.0, np.inf, 3.0, 1.5]


@pytest.fixture(scope="module")
def rows():
    rng = np.random.default_rng(0)
    return rng.normal(size=(30, 5)) * 3.0


def _scipy(a, b, p):
    if p == np.inf:
        return cdist(a[None], b[None], "chebyshev")[0, 0]
    return cdist(a[None], b[None], "minkowski", p=p)[0, 0]


@pytest.mark.parametrize("p", P_VALUES)
def test_distance_matches_scipy(rows, p):
    for i, (a, b) in enumerate(itertools.pairwise(rows)):
        assert dist(a, b, p) == pytest.approx(_scipy(a, b, p), rel=1e-12)
        assert rdist_to_dist(rdist(a, b, p), p) == dist(a, b, p)
        assert rdist_rows(rows, i, rows, i + 1, p) == rdist(a, b, p)


@pytest.mark.parametrize("p", P_VALUES)
def test_conversions_are_inverse_and_monotone(p):
    d = np.array([0.0, 0.25, 1.0, 2.5, 7.0])
    back = np.array([rdist_to_dist(dist_to_rdist(v, p), p) for v in d])
    np.testing.assert_allclose(back, d, rtol=1e-14)
    reduced = [dist_to_rdist(v, p) for v in d]
    assert reduced == sorted(reduced)


def test_squared_euclidean_sums_in_coordinate_order_in_float64():
    # float32 rows are widened per coordinate and summed left to right, like scikit-learn's
    # KDTree: the result is this exact float64 number, not a reordered or float32 sum
    a = np.array([1e8, 1.0, -1e8, 3.0], dtype=np.float32)
    b = np.array([0.5, -2.0, 0.25, 1.0], dtype=np.float32)
    acc = 0.0
    for x, y in zip(a, b, strict=True):
        diff = float(x) - float(y)
        acc += diff * diff
    assert rdist(a, b, 2.0) == acc
    # strided columns read the same numbers as rows
    XT = np.ascontiguousarray(np.stack([a, b]).T)
    assert rdist(XT[:, 0], XT[:, 1], 2.0) == acc


def test_metric_names():
    assert metric_p("euclidean") == 2.0
    assert metric_p("chebyshev") == np.inf
    assert METRIC_P["cosine"] == 2.0
    with pytest.raises(ValueError, match=r"metric must be one of .*got 'hamming'"):
        metric_p("hamming")


def test_cosine_through_unit_rows(rows):
    U = unit_rows(rows)
    cos = cdist(rows, rows, "cosine")
    euclid = cdist(U, U)
    np.testing.assert_allclose(cosine_from_euclidean(euclid), cos, atol=1e-12)
    assert euclidean_from_cosine(0.5) == pytest.approx(1.0)
    assert unit_rows(rows.astype(np.float32)).dtype == np.float32


def test_unit_rows_refuses_zero_rows():
    X = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]])
    with pytest.raises(ValueError, match=r"non-zero norm; got all-zero rows at indices \[1\]"):
        unit_rows(X)
