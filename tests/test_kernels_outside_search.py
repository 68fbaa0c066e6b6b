"""The searches of a Borůvka round against brute force: nearest point in another component."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from clusterlab.kernels import kdtree, mst, outside_search

METRIC_NAMES = {2.0: "euclidean", 1.0: "cityblock", np.inf: "chebyshev"}


def _setup(seed, *, n=300, d=2, n_comp=4, leaf_size=6, with_core=True):
    """A kd-tree, components made of spatial slabs (so that many leaves are pure) plus a few
    stray points, core distances, and the node summaries the searches read."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, d))
    component = np.minimum((X[:, 0] * n_comp).astype(np.int64), n_comp - 1)
    stray = rng.choice(n, 10, replace=False)
    component[stray] = rng.integers(0, n_comp, 10)
    tree = kdtree.build_kdtree(X, leaf_size)
    comp_t = np.ascontiguousarray(component[tree.idx])
    core_t = rng.uniform(0, 0.05, n) if with_core else np.zeros(n)
    node_comp = mst._node_components(tree, comp_t)
    node_core = mst._node_min_core(tree, core_t)
    return tree, comp_t, core_t, node_comp, node_core


def _brute(tree, comp_t, core_t, t, bound, alpha, p, refine=False):  # noqa: PLR0917
    """(distance, position) of the nearest other-component point within bound, or (inf, -1);
    ties by position, or with ``refine`` by raw distance, then original row."""
    data = tree.data
    raw = cdist(data[[t]], data, METRIC_NAMES[p])[0]
    mr = np.maximum(raw / alpha, np.maximum(core_t[t], core_t))
    mr[comp_t == comp_t[t]] = np.inf
    mr[mr > bound] = np.inf
    j = int(np.argmin(mr))  # first among equal minima: the smaller position
    if not np.isfinite(mr[j]):
        return (np.inf, -1)
    if refine:
        tied = np.flatnonzero(mr == mr[j])
        tied = tied[np.isclose(raw[tied], raw[tied].min(), rtol=1e-14, atol=0)]
        j = int(tied[np.argmin(tree.idx[tied])])
    return (mr[j], j)


def _stacks():
    return np.empty(kdtree.STACK_SIZE, dtype=np.int64), np.empty(kdtree.STACK_SIZE)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("p", [2.0, 1.0, np.inf])
@pytest.mark.parametrize("alpha", [1.0, 0.7])
@pytest.mark.parametrize("refine", [False, True])
def test_nearest_outside_equals_brute_force(seed, p, alpha, refine):
    tree, comp_t, core_t, node_comp, node_core = _setup(seed)
    rows = tree.idx if refine else None
    rng = np.random.default_rng(seed + 100)
    for t in rng.choice(tree.data.shape[0], 40, replace=False):
        for bound in (np.inf, 0.08, 0.2):
            got = outside_search.nearest_outside(
                t, tree, core_t, comp_t, node_comp, node_core, bound, alpha, p, _stacks(), rows
            )
            want = _brute(tree, comp_t, core_t, t, bound, alpha, p, refine)
            assert got[1] == want[1]
            np.testing.assert_allclose(got[0], want[0], rtol=1e-12)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("p", [2.0, 1.0, np.inf])
@pytest.mark.parametrize("grid", [False, True])
def test_refined_ties_equal_brute_force(seed, p, grid):
    # large core distances tie most weights at core[t]; on an integer grid raw distances tie
    # too, and the original row decides
    rng = np.random.default_rng(seed)
    n = 300
    X = rng.integers(0, 12, size=(n, 2)).astype(float) if grid else rng.uniform(size=(n, 2))
    component = np.minimum((X[:, 0] / X[:, 0].max() * 4).astype(np.int64), 3)
    tree = kdtree.build_kdtree(X, 6)
    comp_t = np.ascontiguousarray(component[tree.idx])
    core_t = rng.uniform(0, 3.0 if grid else 0.2, n)
    node_comp = mst._node_components(tree, comp_t)
    node_core = mst._node_min_core(tree, core_t)
    changed = 0
    for t in range(n):
        got = outside_search.nearest_outside(
            t, tree, core_t, comp_t, node_comp, node_core, np.inf, 1.0, p, _stacks(), tree.idx
        )
        want = _brute(tree, comp_t, core_t, t, np.inf, 1.0, p, True)
        assert got[1] == want[1]
        assert got[0] == want[0]
        changed += want[1] != _brute(tree, comp_t, core_t, t, np.inf, 1.0, p)[1]
    assert changed > 10  # the refined key decides often here


def _pure_leaves(tree, node_comp):
    return [int(node) for node in np.flatnonzero(tree.node_left < 0) if node_comp[node] >= 0]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("p", [2.0, 1.0])
def test_listed_leaves_hold_every_point_within_the_bound(seed, p):
    tree, comp_t, core_t, node_comp, node_core = _setup(seed, with_core=False)
    bound = 0.1
    out = np.empty(4096, dtype=np.int64)
    stack = np.empty(kdtree.STACK_SIZE, dtype=np.int64)
    data = tree.data
    leaves = _pure_leaves(tree, node_comp)
    assert len(leaves) > 5
    for leaf in leaves:
        count = outside_search.near_leaves(
            leaf, tree, node_comp, node_core, bound, 1.0, p, stack, out
        )
        assert count >= 0
        listed = np.zeros(data.shape[0], dtype=bool)
        for node in out[:count]:
            assert tree.node_left[node] < 0
            listed[tree.node_start[node] : tree.node_end[node]] = True
        start, end = tree.node_start[leaf], tree.node_end[leaf]
        d = cdist(data[start:end], data, METRIC_NAMES[p]).min(axis=0)
        needed = (d <= bound) & (comp_t != node_comp[leaf])
        assert listed[needed].all()
        # and each point of the leaf finds through the list what the full walk finds
        for t in range(start, end):
            got = outside_search.nearest_in_leaves(
                t, tree, core_t, comp_t, out[:count], bound, 1.0, p, None
            )
            want = _brute(tree, comp_t, core_t, t, bound, 1.0, p)
            assert got[1] == want[1]
            np.testing.assert_allclose(got[0], want[0], rtol=1e-12)


def test_near_leaves_reports_overflow():
    tree, _, _, node_comp, node_core = _setup(0, with_core=False)
    leaf = _pure_leaves(tree, node_comp)[0]
    stack = np.empty(kdtree.STACK_SIZE, dtype=np.int64)
    out = np.empty(2, dtype=np.int64)
    count = outside_search.near_leaves(
        leaf, tree, node_comp, node_core, np.inf, 1.0, 2.0, stack, out
    )
    assert count == -1


def test_boruvka_through_overflowing_lists_matches_dense_reference():
    # two far-apart dense blobs and tiny leaves: in the last round every leaf near the gap
    # lists more leaves than it may, and falls back to point-by-point searches
    from scipy.sparse.csgraph import minimum_spanning_tree

    rng = np.random.default_rng(4)
    X = np.concatenate([rng.normal(0, 1, (300, 2)), rng.normal(40, 1, (300, 2))])
    tree = kdtree.build_kdtree(X, 2)
    core_t, knn_pos = mst.core_distances_tree(tree, 2, 2.0)
    a, b, w = mst.boruvka_mst(tree, core_t, knn_pos, 1.0, 2.0, None)
    ref = np.sort(minimum_spanning_tree(cdist(X, X)).data)
    np.testing.assert_allclose(np.sort(w), ref, rtol=1e-12)
    d = np.linalg.norm(X[a] - X[b], axis=1)
    np.testing.assert_allclose(w, d, rtol=1e-12)
