"""The fused best-first attachment kernel of HDBSCAN prediction against the plain definition."""

from __future__ import annotations

import numpy as np
import pytest

from clusterlab.kernels import hdbscan_predict as hp
from clusterlab.kernels import kdtree
from clusterlab.kernels.mst import core_distances_tree


def _case(ties: bool, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(c, 0.4, size=(300, 3)) for c in (0.0, 3.0, 6.0)])
    Q = np.vstack([X[:150] + rng.normal(0, 0.3, size=(150, 3)), rng.uniform(-3, 9, (150, 3))])
    if ties:  # a grid: many equal distances and duplicated rows
        X, Q = np.round(X, 0), np.round(Q, 0)
    return np.ascontiguousarray(X), np.ascontiguousarray(Q)


@pytest.mark.parametrize("p", [2.0, 1.0, np.inf])
@pytest.mark.parametrize("min_samples", [1, 5, 23])
@pytest.mark.parametrize("ties", [False, True])
def test_fused_attachment_equals_definition(p, min_samples, ties):
    X, Q = _case(ties)
    tree = kdtree.build_kdtree(X, 16)
    core_t, _ = core_distances_tree(tree, min_samples, p)
    core = np.empty_like(core_t)
    core[tree.idx] = core_t
    nearest, lam = hp.attach_points_tree(tree, Q, core_t, min_samples, p)
    dist, ind = kdtree.query_knn(tree, Q, 2 * min_samples, p)
    want_nearest, want_lam, _ = hp.attach_points(ind, dist, core, min_samples)
    np.testing.assert_array_equal(lam, want_lam)
    if not ties:
        np.testing.assert_array_equal(nearest, want_nearest)
    # with ties the kernels may pick different neighbours, but at the same mutual reachability
    d = np.abs(Q[:, None, :] - X[nearest][:, None, :]).reshape(len(Q), -1)
    own = dist[:, min_samples - 1]
    if p == 2.0:
        d_near = np.sqrt((d**2).sum(axis=1))
    elif p == 1.0:
        d_near = d.sum(axis=1)
    else:
        d_near = d.max(axis=1)
    mr = np.maximum(np.maximum(core[nearest], own), d_near)
    zero = lam == np.finfo(np.float64).max  # mutual reachability 0: duplicates
    np.testing.assert_array_equal(mr[zero], 0.0)
    np.testing.assert_allclose(mr[~zero], 1.0 / lam[~zero], rtol=1e-12)


def test_fused_attachment_thread_count_invariant():
    import numba

    X, Q = _case(False, seed=1)
    tree = kdtree.build_kdtree(X, 16)
    core_t, _ = core_distances_tree(tree, 7, 2.0)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = hp.attach_points_tree(tree, Q, core_t, 7, 2.0)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = hp.attach_points_tree(tree, Q, core_t, 7, 2.0)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])
