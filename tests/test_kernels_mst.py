"""Minimum spanning trees of mutual reachability distances: Borůvka and Prim against scipy."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import cdist

from clusterlab.kernels import kdtree, mst

METRIC_NAMES = {2.0: "euclidean", 1.0: "cityblock", np.inf: "chebyshev"}


def _reference(X, min_samples, alpha, p):
    D = cdist(X, X, METRIC_NAMES[p])
    core = np.sort(D, axis=1)[:, min_samples - 1]
    mr = np.maximum(D / alpha, np.maximum(core[:, None], core[None, :]))
    np.fill_diagonal(mr, 0.0)
    return core, np.sort(minimum_spanning_tree(mr).data)


def _is_spanning_tree(a, b, n):
    parent = np.arange(n)

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    for u, v in zip(a, b, strict=True):
        ru, rv = find(u), find(v)
        if ru == rv:
            return False
        parent[ru] = rv
    return len(a) == n - 1


def _boruvka(X, min_samples, alpha, p, leaf_size=10):
    tree = kdtree.build_kdtree(X, leaf_size)
    core_t, knn_pos = mst.core_distances_tree(tree, min_samples, p)
    a, b, w = mst.boruvka_mst(tree, core_t, knn_pos, alpha, p, None)
    core = np.empty_like(core_t)
    core[tree.idx] = core_t
    return core, a, b, w


DATA = {
    "blobs": np.concatenate(
        [np.random.default_rng(1).normal(c, 0.5, size=(150, 2)) for c in ((0, 0), (5, 0), (0, 5))]
    ),
    "uniform3d": np.random.default_rng(2).uniform(size=(400, 3)),
    "gauss8d": np.random.default_rng(3).normal(size=(300, 8)),
}


@pytest.mark.parametrize("name", sorted(DATA))
@pytest.mark.parametrize("min_samples", [1, 2, 5, 12])
@pytest.mark.parametrize("p", [2.0, 1.0, np.inf])
def test_boruvka_weights_match_dense_reference(name, min_samples, p):
    X = DATA[name]
    core_ref, w_ref = _reference(X, min_samples, 1.0, p)
    core, a, b, w = _boruvka(X, min_samples, 1.0, p)
    np.testing.assert_allclose(core, core_ref, rtol=1e-12)
    assert _is_spanning_tree(a, b, X.shape[0])
    np.testing.assert_allclose(np.sort(w), w_ref, rtol=1e-12)
    # every edge weighs its mutual reachability distance
    d = np.array([cdist(X[[i]], X[[j]], METRIC_NAMES[p])[0, 0] for i, j in zip(a, b, strict=True)])
    np.testing.assert_allclose(w, np.maximum(d, np.maximum(core[a], core[b])), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(DATA))
@pytest.mark.parametrize("min_samples", [2, 5])
@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_boruvka_with_longer_neighbour_lists(name, min_samples, alpha):
    # lists past the core distance's neighbours settle searches from the list; the tree must
    # stay the minimum one, every edge at its true weight
    X = DATA[name]
    core_ref, w_ref = _reference(X, min_samples, alpha, 2.0)
    tree = kdtree.build_kdtree(X, 10)
    _, knn_pos = mst.core_distances_tree(tree, min_samples + 7, 2.0)
    core_t = mst.list_distances(tree, knn_pos, min_samples - 1, 2.0)
    a, b, w = mst.boruvka_mst(tree, core_t, knn_pos, alpha, 2.0, None)
    core = np.empty_like(core_t)
    core[tree.idx] = core_t
    np.testing.assert_allclose(core, core_ref, rtol=1e-12)
    assert _is_spanning_tree(a, b, X.shape[0])
    np.testing.assert_allclose(np.sort(w), w_ref, rtol=1e-12)
    d = np.linalg.norm(X[a] - X[b], axis=1) / alpha
    np.testing.assert_allclose(w, np.maximum(d, np.maximum(core[a], core[b])), rtol=1e-12)


@pytest.mark.parametrize("alpha", [0.5, 1.3])
def test_alpha_scales_distances_not_core_distances(alpha):
    X = DATA["blobs"]
    _, w_ref = _reference(X, 5, alpha, 2.0)
    _, _, _, w = _boruvka(X, 5, alpha, 2.0)
    np.testing.assert_allclose(np.sort(w), w_ref, rtol=1e-12)
    core = mst.core_distances_brute(X, 5, 2.0)
    _, _, w_prim = mst.prim_mst(X, core, alpha, 2.0)
    np.testing.assert_allclose(np.sort(w_prim), w_ref, rtol=1e-12)


@pytest.mark.parametrize("p", [2.0, 1.0, np.inf])
def test_prim_matches_dense_reference(p):
    X = DATA["uniform3d"]
    core_ref, w_ref = _reference(X, 4, 1.0, p)
    core = mst.core_distances_brute(X, 4, p)
    np.testing.assert_allclose(core, core_ref, rtol=1e-12)
    a, b, w = mst.prim_mst(X, core, 1.0, p)
    assert _is_spanning_tree(a, b, X.shape[0])
    np.testing.assert_allclose(np.sort(w), w_ref, rtol=1e-12)


def test_duplicates_and_float32():
    rng = np.random.default_rng(5)
    X = np.repeat(rng.normal(size=(60, 2)), 3, axis=0).astype(np.float32)
    core_ref, w_ref = _reference(X.astype(np.float64), 4, 1.0, 2.0)
    core, a, b, w = _boruvka(X, 4, 1.0, 2.0)
    assert _is_spanning_tree(a, b, X.shape[0])
    np.testing.assert_allclose(np.sort(w), w_ref, rtol=1e-6)
    np.testing.assert_allclose(core, core_ref, rtol=1e-6)


def test_result_is_identical_for_one_and_two_threads():
    X = np.random.default_rng(7).normal(size=(2000, 3))
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = _boruvka(X, 7, 1.0, 2.0)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = _boruvka(X, 7, 1.0, 2.0)
    finally:
        numba.set_num_threads(before)
    for x, y in zip(one, two, strict=True):
        np.testing.assert_array_equal(x, y)


def test_knn_brute_orders_ties_by_index():
    X = np.array([[0.0], [1.0], [-1.0], [2.0]])
    ind, dist = mst.knn_brute(X[:1], X, 3, 2.0)
    np.testing.assert_array_equal(ind, [[0, 1, 2]])
    np.testing.assert_allclose(dist, [[0.0, 1.0, 1.0]])


def test_single_linkage_matches_scipy():
    from scipy.cluster.hierarchy import linkage

    X = np.random.default_rng(9).normal(size=(200, 2))
    core = mst.core_distances_brute(X, 1, 2.0)
    a, b, w = mst.prim_mst(X, core, 1.0, 2.0)
    order = np.argsort(w, kind="stable")
    left, right, distance, size = mst.single_linkage(a[order], b[order], w[order])
    Z = linkage(X, "single")
    np.testing.assert_allclose(distance, Z[:, 2], rtol=1e-12)
    np.testing.assert_array_equal(size, Z[:, 3])
    # same merges: compare the unordered pairs of children
    ours = np.sort(np.column_stack([left, right]), axis=1)
    np.testing.assert_array_equal(ours, np.sort(Z[:, :2].astype(np.int64), axis=1))


def _minkowski_reference(X, min_samples, p):
    D = cdist(X, X, "minkowski", p=p)
    core = np.sort(D, axis=1)[:, min_samples - 1]
    mr = np.maximum(D, np.maximum(core[:, None], core[None, :]))
    np.fill_diagonal(mr, 0.0)
    return core, np.sort(minimum_spanning_tree(mr).data)


@pytest.mark.parametrize("p", [3.0, 1.5])
def test_general_minkowski_p_is_the_same_metric_on_every_path(p):
    # the brute-force kernels once read any p other than 1 or 2 as chebyshev while the kd-tree
    # handled general p: both paths and scipy's minkowski must give one tree
    X = DATA["gauss8d"][:150]
    core_ref, w_ref = _minkowski_reference(X, 4, p)
    core_tree, _, _, w_tree = _boruvka(X, 4, 1.0, p)
    core_brute = mst.core_distances_brute(X, 4, p)
    _, _, w_prim = mst.prim_mst(X, core_brute, 1.0, p)
    np.testing.assert_allclose(core_brute, core_ref, rtol=1e-12)
    np.testing.assert_allclose(core_tree, core_ref, rtol=1e-12)
    np.testing.assert_allclose(np.sort(w_prim), w_ref, rtol=1e-12)
    np.testing.assert_allclose(np.sort(w_tree), w_ref, rtol=1e-12)
    _, dist = mst.knn_brute(X[:5], X, 6, p)
    ref = np.sort(cdist(X[:5], X, "minkowski", p=p), axis=1)[:, :6]
    np.testing.assert_allclose(dist, ref, rtol=1e-12)


def _refined_reference(X, M, p):
    """The minimum spanning tree under (mutual reachability, distance, smaller row, larger
    row) by Kruskal over every pair, distances from the kernels' own sums (exact ties)."""
    from clusterlab.kernels.spanning import edge_distances, kruskal

    n = X.shape[0]
    i, j = np.triu_indices(n, 1)
    d = edge_distances(X, i, j, p)
    D = np.zeros((n, n))
    D[i, j] = d
    D[j, i] = d
    core = np.sort(D, axis=1)[:, M]
    mr = np.maximum(d, np.maximum(core[i], core[j]))
    kept = kruskal(n, i, j, np.lexsort((j, i, d, mr)))
    return {(int(u), int(v)) for u, v in zip(i[kept], j[kept], strict=True)}


TIED = {
    # 400 points on 64 cells: many duplicates (distance 0) and many equal distances
    "grid_duplicates": np.random.default_rng(5).integers(0, 8, size=(400, 2)).astype(float),
    "grid3d": np.random.default_rng(6).integers(0, 5, size=(300, 3)).astype(float),
    "blobs": DATA["blobs"],
}


@pytest.mark.parametrize("name", sorted(TIED))
@pytest.mark.parametrize("M", [2, 3, 5])
@pytest.mark.parametrize("p", [2.0, 1.0, np.inf])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_refined_ties_give_the_unique_tree_under_the_full_key(name, M, p, dtype):
    # with rows, Borůvka breaks equal weights by raw distance, then rows: its tree is the
    # one Kruskal keeps under (weight, distance, smaller row, larger row)
    X = TIED[name].astype(dtype)
    tree = kdtree.build_kdtree(X, 8)
    _, knn_pos = mst.core_distances_tree(tree, max(M + 1, 8), p)
    core_t = mst.list_distances(tree, knn_pos, M, p)
    a, b, _ = mst.boruvka_mst(tree, core_t, knn_pos, 1.0, p, tree.idx)
    got = {(int(min(u, v)), int(max(u, v))) for u, v in zip(a, b, strict=True)}
    assert got == _refined_reference(X, M, p)


def test_refined_ties_do_not_depend_on_the_thread_count():
    X = TIED["grid_duplicates"]
    tree = kdtree.build_kdtree(X, 4)
    _, knn_pos = mst.core_distances_tree(tree, 8, 2.0)
    core_t = mst.list_distances(tree, knn_pos, 3, 2.0)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = mst.boruvka_mst(tree, core_t, knn_pos, 1.0, 2.0, tree.idx)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = mst.boruvka_mst(tree, core_t, knn_pos, 1.0, 2.0, tree.idx)
    finally:
        numba.set_num_threads(before)
    for x, y in zip(one, two, strict=True):
        assert np.array_equal(x, y)
