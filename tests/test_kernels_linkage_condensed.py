"""The condensed-matrix chains (complete, average, weighted) against the plain algorithm.

``nn_chain_condensed`` caches every slot's nearest neighbours and prefetches; the reference
here is scipy's nearest-neighbour chain written out directly (a full scan of the active slots
at every step, the Lance-Williams update stored in the matrix's dtype), so any difference in a
merge, its order or a height bit is the cache's or the kernel's fault. The data are built to
stress the ties the cache must reproduce: integer grids (many equal distances), duplicated
points (zero distances) and points a few ulps apart.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.cluster.hierarchy as sch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.distance import pdist, squareform

from clusterlab import linkage
from clusterlab.kernels import linkage as lk

METHODS = {"complete": lk.COMPLETE, "average": lk.AVERAGE, "weighted": lk.WEIGHTED}


def _cidx(n, i, j):
    return n * i - i * (i + 1) // 2 + j - i - 1


def _reference_chain(D, n, method):
    """scipy's nearest-neighbour chain with a full scan per step, on a copy of ``D``."""
    D = D.copy()
    sizes = [1] * n
    active = list(range(n))
    chain = []
    xs, ys, heights = [], [], []

    def dist(a, b):
        return float(D[_cidx(n, min(a, b), max(a, b))])

    for _ in range(n - 1):
        if not chain:
            chain.append(active[0])
        while True:
            x = chain[-1]
            y, current = (chain[-2], dist(x, chain[-2])) if len(chain) > 1 else (-1, np.inf)
            for i in active:
                if i != x and dist(x, i) < current:
                    current, y = dist(x, i), i
            if len(chain) > 1 and y == chain[-2]:
                break
            chain.append(y)
        chain.pop()
        chain.pop()
        x, y = min(x, y), max(x, y)
        xs.append(x)
        ys.append(y)
        heights.append(current)
        nx, ny = sizes[x], sizes[y]
        for i in active:
            if i in (x, y):
                continue
            dx, dy = dist(i, x), dist(i, y)
            if method == lk.COMPLETE:
                new = max(dx, dy)
            elif method == lk.AVERAGE:
                new = (nx * dx + ny * dy) / (nx + ny)
            else:
                new = 0.5 * (dx + dy)
            D[_cidx(n, min(i, y), max(i, y))] = new
        sizes[y] += sizes[x]
        active.remove(x)
    return np.array(xs), np.array(ys), np.array(heights)


def _grid(n, seed):
    """Points on a small integer grid: most distances are shared by many pairs."""
    return np.random.default_rng(seed).integers(0, 5, size=(n, 2)).astype(np.float64)


def _near_ties(n, seed):
    """Grid points moved by a few ulps, and some duplicated: distances equal to the last bits,
    or differing only there."""
    X = _grid(n, seed) + 10.0
    X[::3] = np.nextafter(X[::3], np.inf)
    X[1::7] = X[0]
    return X


DATA = {
    "normal": lambda: np.random.default_rng(0).normal(size=(130, 3)),
    "grid": lambda: _grid(120, 1),
    "near_ties": lambda: _near_ties(120, 2),
}


def _condensed(X, dtype):
    D = np.empty(X.shape[0] * (X.shape[0] - 1) // 2, dtype=dtype)
    lk.condensed_distances(np.ascontiguousarray(X.T), 2.0, D)
    return D


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("data", list(DATA))
def test_chain_equals_the_plain_algorithm(method, dtype, data):
    X = DATA[data]()
    n = X.shape[0]
    D = _condensed(X, dtype)
    expected = _reference_chain(D, n, METHODS[method])
    x, y, height = lk.nn_chain_condensed(D.copy(), n, METHODS[method])
    assert np.array_equal(x, expected[0])
    assert np.array_equal(y, expected[1])
    assert np.array_equal(height, expected[2])


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("data", ["grid", "near_ties"])
def test_tied_data_equals_scipy_merge_for_merge(method, data):
    X = DATA[data]()
    assert np.array_equal(linkage(X, method), sch.linkage(X, method))


@pytest.mark.parametrize("n", [2, 3, 5, 64, 65, 131])
def test_nearest_init_equals_brute_force(n):
    X = _grid(n, n)  # ties everywhere: the earliest slot must win
    D = _condensed(X, np.float64)
    S = squareform(D)
    row_d, row_i, col_d, col_i = lk._nearest_init(D, n)
    for s in range(n):
        above = S[s, s + 1 :]
        below = S[s, :s]
        if above.size:
            assert (row_d[s], row_i[s]) == (above.min(), s + 1 + np.argmin(above))
        else:
            assert (row_d[s], row_i[s]) == (np.inf, -1)
        if below.size:
            assert (col_d[s], col_i[s]) == (below.min(), np.argmin(below))
        else:
            assert (col_d[s], col_i[s]) == (np.inf, -1)


def test_condensed_distances_are_pdist():
    X = DATA["normal"]()
    np.testing.assert_allclose(_condensed(X, np.float64), pdist(X), rtol=1e-14)


@settings(max_examples=40, deadline=None)
@given(
    X=arrays(
        np.float64,
        st.tuples(st.integers(2, 40), st.integers(1, 3)),
        elements=st.integers(-3, 3).map(float),
    ),
    method=st.sampled_from(list(METHODS)),
)
def test_small_integer_data_equals_scipy(X, method):
    """Any small integer data (duplicates, collinear points, all points equal): scipy's matrix,
    ties and all."""
    assert np.array_equal(linkage(X, method), sch.linkage(X, method))
