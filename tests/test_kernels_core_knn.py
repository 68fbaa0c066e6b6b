"""``mst.core_distances_tree`` against a brute-force reference, on data full of exact ties.

The neighbour lists must be bit-identical to the k smallest (reduced distance, tree position)
pairs, for every metric twin (p = 2, 1, inf and another p), float32 and float64 data, leaves
whose size is not a multiple of the four points the leaf scan sums side by side, and one or two
threads (the serial twin on one thread, the parallel one on two).
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from clusterlab.kernels import kdtree, mst


def _reduced(data, p):
    """Reduced distances between all rows, summed over the coordinates in order in float64."""
    rows = data.astype(np.float64)
    acc = np.zeros((len(rows), len(rows)))
    for k in range(rows.shape[1]):
        diff = np.abs(rows[:, None, k] - rows[None, :, k])
        acc = np.maximum(acc, diff) if p == np.inf else acc + diff**p
    return acc


def _brute(tree, k, p):
    rd = _reduced(tree.data, p)
    positions = np.arange(len(rd))
    knn_pos = np.array([np.lexsort((positions, row))[:k] for row in rd])
    kth = rd[positions, knn_pos[:, -1]]
    core = np.sqrt(kth) if p == 2.0 else kth if p in (1.0, np.inf) else kth ** (1.0 / p)
    return core, knn_pos


def _grid(d, dtype):
    return np.random.default_rng(d).integers(0, 3, size=(400, d)).astype(dtype)


def _duplicated_blobs(d, dtype):
    rng = np.random.default_rng(10 + d)
    centres = rng.normal(0.0, 4.0, size=(4, d))
    rows = centres[rng.integers(0, 4, size=130)] + rng.normal(size=(130, d))
    return np.repeat(rows, 3, axis=0)[rng.permutation(390)].astype(dtype)


@pytest.fixture
def threads(request):
    previous = numba.get_num_threads()
    numba.set_num_threads(min(request.param, numba.config.NUMBA_NUM_THREADS))
    yield request.param
    numba.set_num_threads(previous)


@pytest.mark.parametrize("threads", [1, 2], indirect=True)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("d", [1, 2, 4, 7, 10])
@pytest.mark.parametrize(
    ("p", "make"),
    # p = 3 on the integer grid only, where every power is exact in any libm
    [(p, make) for p in (2.0, 1.0, np.inf) for make in (_grid, _duplicated_blobs)] + [(3.0, _grid)],
)
def test_lists_equal_brute_force_with_ties(p, make, d, dtype, threads):
    data = make(d, dtype)
    tree = kdtree.build_kdtree(data, 7)
    for k in (1, 6, 9):
        core, knn_pos = mst.core_distances_tree(tree, k, p)
        ref_core, ref_pos = _brute(tree, k, p)
        assert knn_pos.dtype == np.int32
        np.testing.assert_array_equal(knn_pos, ref_pos)
        if p == 3.0:
            np.testing.assert_allclose(core, ref_core, rtol=1e-14)
        else:
            np.testing.assert_array_equal(core, ref_core)


def test_duplicates_order_by_tree_position():
    # every row five times: each list is the point's own copies, in tree order, at distance 0
    data = np.repeat(np.arange(40.0).reshape(20, 2), 5, axis=0)
    tree = kdtree.build_kdtree(data, 6)
    core, knn_pos = mst.core_distances_tree(tree, 5, 2.0)
    np.testing.assert_array_equal(core, 0.0)
    for t in range(len(data)):
        copies = np.flatnonzero((tree.data == tree.data[t]).all(axis=1))
        np.testing.assert_array_equal(knn_pos[t], copies)
