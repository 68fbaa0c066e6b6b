"""The leaf-at-a-time k-nearest-neighbour lists equal the per-point kd-tree queries, to the bit."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy.spatial.distance import cdist

from clusterlab.kernels import kdtree, mst
from clusterlab.kernels.leaf_knn import leaf_knn

METRIC_NAMES = {2.0: "euclidean", 1.0: "cityblock", np.inf: "chebyshev"}


def _data(kind):
    rng = np.random.default_rng(1)
    if kind == "blobs":
        return np.concatenate([rng.normal(c, 0.3, (300, 2)) for c in (0, 3, 9)])
    if kind == "grid":  # ties everywhere: the position breaks them
        return np.round(rng.normal(size=(900, 2)) * 3)
    if kind == "duplicates":  # all-equal leaves: near-leaf lists overflow, point queries
        return np.repeat(rng.normal(size=(2, 2)), 600, axis=0)
    return rng.uniform(size=(900, 3)).astype(np.float32)


@pytest.mark.parametrize("kind", ["blobs", "grid", "duplicates", "float32 3-d"])
@pytest.mark.parametrize("p", [2.0, 1.0, np.inf])
@pytest.mark.parametrize("k", [1, 2, 8])
def test_equals_per_point_queries(kind, p, k):
    X = _data(kind)
    tree = kdtree.build_kdtree(X, 4)
    core, knn_pos = leaf_knn(tree, k, p)
    ref_core, ref_pos = mst.core_distances_tree(tree, k, p)
    assert np.array_equal(knn_pos, ref_pos)
    assert np.array_equal(core, ref_core)


def test_against_brute_force_and_small_leaves():
    """Leaves with fewer points than k query point by point; distances as scipy's."""
    X = np.random.default_rng(2).normal(size=(50, 2))
    tree = kdtree.build_kdtree(X, 3)
    core, knn_pos = leaf_knn(tree, 7, 2.0)
    D = cdist(tree.data, tree.data)
    np.testing.assert_allclose(core, np.sort(D, axis=1)[:, 6], rtol=1e-12)
    assert np.array_equal(np.sort(D, axis=1)[:, :7], np.take_along_axis(D, knn_pos, axis=1))


def test_thread_count_does_not_matter():
    X = _data("grid")
    tree = kdtree.build_kdtree(X, 8)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = leaf_knn(tree, 8, 2.0)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = leaf_knn(tree, 8, 2.0)
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(one[1], two[1])
    assert np.array_equal(one[0], two[0])
