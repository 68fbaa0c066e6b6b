"""The mini-batch center update kernel against scikit-learn's and a hand-computed case."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster._k_means_minibatch import _minibatch_update_dense

from clusterlab.kernels.minibatch import minibatch_update


@pytest.mark.parametrize("in_place", [False, True])
def test_update_kernel_matches_sklearn(in_place):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    w = rng.uniform(0.5, 2.0, size=300)
    labels = rng.integers(0, 6, size=300)
    labels[labels == 4] = 0  # center 4 gets no point: it must stay put
    old = rng.normal(size=(6, 5))
    counts = rng.uniform(0, 50, size=6)
    counts[2] = 0.0  # a center that has seen nothing yet

    ref_new = np.empty_like(old)
    ref_counts = counts.copy()
    _minibatch_update_dense(X, w, old, ref_new, ref_counts, labels.astype(np.int32), 1)

    ours_old = old.copy()
    ours_new = ours_old if in_place else np.empty_like(old)
    ours_counts = counts.copy()
    minibatch_update(X, w, labels, ours_old, ours_new, ours_counts)
    np.testing.assert_allclose(ours_new, ref_new, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours_counts, ref_counts, rtol=1e-12)
    np.testing.assert_array_equal(ours_new[4], old[4])


def test_update_tiny_hand_case():
    # one center with count 2 at (0, 0); a batch of two unit-weight points at (3, 0) and (3, 6)
    # moves it to (2*(0,0) + (3,0) + (3,6)) / 4 = (1.5, 1.5)
    X = np.array([[3.0, 0.0], [3.0, 6.0]])
    centers = np.zeros((1, 2))
    counts = np.array([2.0])
    minibatch_update(X, np.ones(2), np.zeros(2, dtype=np.int64), centers, centers, counts)
    np.testing.assert_array_equal(centers, [[1.5, 1.5]])
    assert counts[0] == 4.0


def test_update_float32_accumulates_in_float64():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(500, 4))
    labels = rng.integers(0, 3, size=500)
    old = rng.normal(size=(3, 4))
    c64 = np.empty_like(old)
    counts64 = np.full(3, 1e6)
    minibatch_update(X, np.ones(500), labels, old, c64, counts64)
    c32 = np.empty_like(old, dtype=np.float32)
    counts32 = np.full(3, 1e6)
    minibatch_update(
        X.astype(np.float32),
        np.ones(500, np.float32),
        labels,
        old.astype(np.float32),
        c32,
        counts32,
    )
    assert c32.dtype == np.float32
    np.testing.assert_array_equal(counts32, counts64)
    np.testing.assert_allclose(c32, c64, rtol=1e-6, atol=1e-6)
