"""The kd-tree kernels against scipy's cKDTree and scikit-learn's KDTree on random data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree
from sklearn.neighbors import KDTree

from clusterlab.kernels.kdtree import (
    build_kdtree,
    dist_to_rdist,
    max_rdist_point_node,
    min_rdist_node_node,
    min_rdist_point_node,
    node_children,
    node_is_leaf,
    node_range,
    point_radius_count,
    query_knn,
    query_radius,
    query_radius_count,
    rdist,
)

P_VALUES = [2.0, 1.0, np.inf, 3.0]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(700, 3))
    X[:50] = np.round(X[:50], 1)  # some exact duplicates and ties
    X[50:60] = X[0]
    Q = np.vstack([rng.normal(size=(60, 3)), X[:20]])
    return X, Q


@pytest.fixture(scope="module")
def tree(data):
    return build_kdtree(data[0], 16)


def test_layout(data, tree):
    X = data[0]
    points, idx, start, end, _, _, lower, upper = tree
    assert np.array_equal(np.sort(idx), np.arange(len(X)))
    assert np.array_equal(points, X[idx])
    assert start[0] == 0 and end[0] == len(X)
    for node in range(len(start)):
        s, e = node_range(tree, node)
        assert (s, e) == (start[node], end[node]) and e > s
        block = X[idx[s:e]]
        np.testing.assert_array_equal(lower[node], block.min(axis=0))
        np.testing.assert_array_equal(upper[node], block.max(axis=0))
        if node_is_leaf(tree, node):
            assert e - s <= 16
            assert node_children(tree, node) == (-1, -1)
        else:
            a, b = node_children(tree, node)
            assert b == a + 1 and a > node
            mid = s + (e - s) // 2
            assert (start[a], end[a], start[b], end[b]) == (s, mid, mid, e)
            assert e - s > 16


@pytest.mark.parametrize("p", P_VALUES)
def test_knn_matches_sklearn(data, tree, p):
    X, Q = data
    k = 7
    dist, ind = query_knn(tree, Q, k, p)
    metric = {2.0: "euclidean", 1.0: "manhattan", np.inf: "chebyshev"}.get(p, "minkowski")
    kwargs = {"p": p} if metric == "minkowski" else {}
    ref = KDTree(X, metric=metric, **kwargs)
    ref_dist, _ = ref.query(Q, k=k)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-12)
    assert np.all(np.diff(dist, axis=1) >= 0)
    # ties by index: the index list is the lexicographic (distance, index) order of all points
    for i in range(len(Q)):
        d_all = np.array([rdist(X[j], Q[i], p) for j in range(len(X))])
        order = np.lexsort((np.arange(len(X)), d_all))[:k]
        assert np.array_equal(ind[i], order)


def test_knn_matches_ckdtree_float32(data):
    X, Q = data
    X32 = X.astype(np.float32)
    tree32 = build_kdtree(X32, 5)
    assert tree32[0].dtype == np.float32
    dist, _ = query_knn(tree32, Q.astype(np.float32), 4, 2.0)
    ref_dist, _ = cKDTree(X32.astype(np.float64)).query(Q.astype(np.float32).astype(float), k=4)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-12)


@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize("r", [0.0, 0.3, 1.0])
def test_radius_matches_ckdtree(data, tree, p, r):
    X, Q = data
    indptr, indices, distances = query_radius(tree, Q, r, p)
    counts = query_radius_count(tree, Q, r, p)
    ref = cKDTree(X).query_ball_point(Q, r, p=p)
    for i in range(len(Q)):
        got = indices[indptr[i] : indptr[i + 1]]
        assert sorted(got.tolist()) == sorted(ref[i])
        assert counts[i] == len(ref[i])
        d = distances[indptr[i] : indptr[i + 1]]
        assert np.all(d <= r)
        keys = list(zip(d.tolist(), got.tolist(), strict=True))
        assert keys == sorted(keys)


def test_radius_boundary_is_inclusive_like_sklearn():
    X = np.array([[0.0, 0.0], [0.3, 0.4], [0.6, 0.8], [0.0, 0.1]])
    tree = build_kdtree(X, 1)
    _, indices, _ = query_radius(tree, X[:1], 0.5, 2.0)
    ref = KDTree(X).query_radius(X[:1], 0.5)[0]
    assert sorted(indices.tolist()) == sorted(ref.tolist()) == [0, 1, 3]


def test_weighted_radius_count(data, tree):
    X, Q = data
    w = np.random.default_rng(1).uniform(0, 2, size=len(X))
    cum = np.concatenate([[0.0], np.cumsum(w[tree.idx])])
    ref = cKDTree(X).query_ball_point(Q, 0.7)
    for i in range(len(Q)):
        total = point_radius_count(tree, Q[i], dist_to_rdist(0.7, 2.0), 2.0, cum)
        assert total == pytest.approx(w[ref[i]].sum(), rel=1e-12)


def test_node_distance_helpers_bound_point_distances(data, tree):
    X, Q = data
    idx = tree.idx
    n_nodes = len(tree.node_start)
    rng = np.random.default_rng(2)
    for node in rng.choice(n_nodes, size=20, replace=False):
        s, e = node_range(tree, node)
        members = X[idx[s:e]]
        for q in Q[:10]:
            d = np.array([rdist(m, q, 2.0) for m in members])
            assert min_rdist_point_node(tree, node, q, 2.0) <= d.min()
            assert max_rdist_point_node(tree, node, q, 2.0) >= d.max()
        other = rng.integers(n_nodes)
        so, eo = node_range(tree, other)
        pair = min(rdist(a, b, 2.0) for a in members for b in X[idx[so:eo]])
        assert min_rdist_node_node(tree, node, other, 2.0) <= pair + 1e-12


def test_single_point_and_leaf_size_one():
    X = np.array([[1.0, 2.0]])
    tree = build_kdtree(X, 1)
    dist, ind = query_knn(tree, X, 1, 2.0)
    assert ind[0, 0] == 0 and dist[0, 0] == 0.0
    Y = np.random.default_rng(3).normal(size=(33, 2))
    tree = build_kdtree(Y, 1)
    dist, ind = query_knn(tree, Y, 33, 2.0)
    ref_dist, _ = cKDTree(Y).query(Y, k=33)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-12)


def test_all_identical_points():
    X = np.zeros((100, 2))
    tree = build_kdtree(X, 4)
    dist, ind = query_knn(tree, X[:2], 5, 2.0)
    assert np.array_equal(ind, [[0, 1, 2, 3, 4]] * 2)
    assert np.all(dist == 0)


@pytest.mark.parametrize("p", P_VALUES)
def test_thread_count_does_not_change_results(data, tree, p):
    import numba

    def queries():
        counts = query_radius_count(tree, Q, 0.5, p)
        return (*query_knn(tree, Q, 5, p), *query_radius(tree, Q, 0.5, p), counts)

    Q = data[1]
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)  # small data on one thread: the serial twins
        one = queries()
    finally:
        numba.set_num_threads(before)
    many = queries()
    for a, b in zip(one, many, strict=True):
        assert np.array_equal(a, b)


def test_tree_is_a_named_tuple_of_plain_arrays(data, tree):
    from clusterlab.kernels import kdtree

    assert isinstance(tree, kdtree.KDTree)
    assert tree.idx is tree[1] and tree.node_upper is tree[7]
    # a plain tuple of the fields (what estimators store) rebuilds the same tree
    again = kdtree.KDTree(*tuple(tree))
    np.testing.assert_array_equal(
        query_knn(again, data[1], 3, 2.0)[1], query_knn(tree, data[1], 3, 2.0)[1]
    )


def _walk(tree, x, r, p, *, before, whole, near_first):
    from clusterlab.kernels.kdtree import STACK_SIZE, radius_next, walk_start

    stack = np.empty(STACK_SIZE, dtype=np.int64)
    sp = walk_start(stack)
    visited = []
    while True:
        node, sp, inside = radius_next(tree, x, r, p, stack, sp, before, whole, near_first)
        if node < 0:
            return visited
        visited.append((int(node), bool(inside)))


@pytest.mark.parametrize("p", [2.0, 1.0, np.inf])
@pytest.mark.parametrize(("whole", "near_first"), [(False, False), (True, False), (False, True)])
def test_radius_walk_visits_exactly_the_points_within(data, tree, p, whole, near_first):
    X, Q = data
    r = dist_to_rdist(0.6, p)
    for x in Q[:15]:
        for before in (len(X), 300):
            found = set()
            for node, inside in _walk(
                tree, x, r, p, before=before, whole=whole, near_first=near_first
            ):
                s, e = node_range(tree, node)
                assert s < before
                assert inside or node_is_leaf(tree, node)
                for t in range(s, min(e, before)):
                    d = rdist(tree.data[t], x, p)
                    assert d <= r or not inside
                    if d <= r:
                        found.add(t)
            expected = {t for t in range(before) if rdist(tree.data[t], x, p) <= r}
            assert found == expected


def test_tree_kernels_load_from_the_disk_cache(tmp_path):
    # kernels typed on the named tuple must be cached like any other: the second process loads
    # them instead of compiling (small data: the serial build; large data on two threads: the
    # parallel one's kernels)
    import os
    import subprocess
    import sys

    code = (
        "import numba, numpy as np\n"
        "from clusterlab.kernels import kdtree as K\n"
        "rng = np.random.default_rng(0)\n"
        "t = K.build_kdtree(rng.normal(size=(50, 2)), 4)\n"
        "numba.set_num_threads(2)\n"
        "K.build_kdtree(rng.normal(size=(K.PARALLEL_BUILD_MIN, 2)), 40)\n"
        "K.node_range(t, 0)\n"
        "hits = [K.build_kdtree_serial, K._split_level, K._number_levels, K.node_range]\n"
        "print(*(sum(f.stats.cache_hits.values()) for f in hits))\n"
    )
    env = {
        **os.environ,
        "NUMBA_CACHE_DIR": str(tmp_path),
        "CLUSTERLAB_NUMBA_CACHE": "1",
        "NUMBA_NUM_THREADS": "2",
    }
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout.split()
        for _ in range(2)
    ]
    assert runs[0] == ["0", "0", "0", "0"]
    assert runs[1] == ["1", "1", "1", "1"]
