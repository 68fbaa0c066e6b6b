"""``spanning.tree_order``: the edges of a tree by (weight, smaller end, larger end)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clusterlab.kernels.spanning import tree_order


def _random_tree(n, rng):
    """Distinct edges of a random tree on ``0..n-1``, in random order and orientation."""
    child = np.arange(1, n, dtype=np.int64)
    parent = np.array([rng.integers(0, c) for c in child], dtype=np.int64)
    flip = rng.random(n - 1) < 0.5
    a = np.where(flip, child, parent)
    b = np.where(flip, parent, child)
    perm = rng.permutation(n - 1)
    return a[perm], b[perm]


def _reference(a, b, weight):
    return np.lexsort((np.maximum(a, b), np.minimum(a, b), weight.astype(np.float64)))


WEIGHTS = {
    "distinct": lambda rng, m: rng.exponential(size=m),
    "few values": lambda rng, m: rng.integers(0, 4, size=m).astype(float),
    "signed zeros": lambda rng, m: rng.choice([0.0, -0.0, 1e-300, 5e-324, 2.0], size=m),
    "negative": lambda rng, m: rng.normal(size=m).round(1),
    "huge and inf": lambda rng, m: rng.choice([1e308, np.inf, 3.0, 1e-308], size=m),
    "float32": lambda rng, m: rng.integers(0, 50, size=m).astype(np.float32) / np.float32(7),
}


@pytest.mark.parametrize("kind", sorted(WEIGHTS))
@pytest.mark.parametrize("n", [2, 3, 40, 3000])
def test_order_is_lexicographic(kind, n):
    rng = np.random.default_rng(n)
    a, b = _random_tree(n, rng)
    weight = WEIGHTS[kind](rng, n - 1)
    before = weight.copy()
    order = tree_order(a, b, weight)
    assert order.dtype == np.int64
    np.testing.assert_array_equal(order, _reference(a, b, weight))
    np.testing.assert_array_equal(weight, before)  # the input is not written


def test_no_edges():
    empty = np.empty(0, dtype=np.int64)
    assert tree_order(empty, empty, np.empty(0)).shape == (0,)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 60),
    seed=st.integers(0, 2**32 - 1),
    values=st.lists(
        st.floats(allow_nan=False, allow_infinity=True, width=64), min_size=1, max_size=4
    ),
)
def test_order_matches_lexsort_on_any_weights(n, seed, values):
    rng = np.random.default_rng(seed)
    a, b = _random_tree(n, rng)
    weight = rng.choice(np.array(values), size=n - 1)
    np.testing.assert_array_equal(tree_order(a, b, weight), _reference(a, b, weight))
