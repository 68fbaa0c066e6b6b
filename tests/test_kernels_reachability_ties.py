"""The refined minimum spanning tree of a mutual reachability distance against the plain
Kruskal it replaces: every candidate edge sorted by (weight, raw distance, ends)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from clusterlab.kernels import mst, spanning
from clusterlab.kernels.reachability_ties import prefer_nearer

METRIC_NAMES = {2.0: "euclidean", 1.0: "cityblock", np.inf: "chebyshev"}


def _reference(X, a, b, knn, core, p):  # noqa: PLR0917
    """Kruskal over the tree and every neighbour edge by one lexicographic sort."""
    n = X.shape[0]
    rows = np.repeat(np.arange(n), knn.shape[1])
    ca = np.concatenate([a, rows])
    cb = np.concatenate([b, knn.ravel()])
    d = cdist(X.astype(np.float64), X.astype(np.float64), METRIC_NAMES[p])[ca, cb]
    mr = np.maximum(d, np.maximum(core[ca], core[cb]))
    lo, hi = np.minimum(ca, cb), np.maximum(ca, cb)
    keep = spanning.kruskal(n, lo, hi, np.lexsort((hi, lo, d, mr)))
    return lo[keep], hi[keep], mr[keep]


def _data(kind, rng):
    if kind == "continuous":
        return rng.normal(size=(400, 2))
    if kind == "grid":  # many equal distances and core distances
        return np.round(rng.normal(size=(400, 2)) * 2)
    # duplicated points: runs of weight 0 longer than the insertion sort handles
    return np.repeat(rng.normal(size=(20, 3)), 20, axis=0)


@pytest.mark.parametrize("kind", ["continuous", "grid", "duplicates"])
@pytest.mark.parametrize("p", [2.0, 1.0, np.inf])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_equals_lexicographic_kruskal(kind, p, dtype):
    rng = np.random.default_rng(7)
    X = _data(kind, rng).astype(dtype)
    n, M = X.shape[0], 4
    knn, dist = mst.knn_brute(X, X, M + 1, p)
    core = np.ascontiguousarray(dist[:, -1])
    a, b, _ = mst.prim_mst(X, core, 1.0, p)
    expected = _reference(X, a, b, knn, core, p)
    got = prefer_nearer(X, np.arange(n), (a, b), knn, core, p)
    for x, y in zip(got, expected, strict=True):
        assert np.array_equal(x, y)
    # the same points in another row order, named by ids: the same tree
    perm = rng.permutation(n)
    row_of = np.empty(n, dtype=np.int64)
    row_of[perm] = np.arange(n)
    knn_rows = row_of[knn[perm]]
    got = prefer_nearer(X[perm], perm, (row_of[a], row_of[b]), knn_rows, core[perm], p)
    for x, y in zip(got, expected, strict=True):
        assert np.array_equal(x, y)


def test_missing_neighbours_are_skipped():
    rng = np.random.default_rng(2)
    X = np.round(rng.normal(size=(80, 2)) * 3)
    knn, dist = mst.knn_brute(X, X, 5, 2.0)
    core = np.ascontiguousarray(dist[:, -1])
    a, b, _ = mst.prim_mst(X, core, 1.0, 2.0)
    holes = knn.copy()
    holes[::3, 1:3] = -1
    # a missing neighbour is as a self-loop, which the reference's Kruskal skips
    as_self = np.where(holes < 0, np.arange(80)[:, None], holes)
    expected = _reference(X, a, b, as_self, core, 2.0)
    got = prefer_nearer(X, np.arange(80), (a, b), holes, core, 2.0)
    for x, y in zip(got, expected, strict=True):
        assert np.array_equal(x, y)
