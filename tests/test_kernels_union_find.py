"""Union-find kernels against scipy's connected components."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from clusterlab.kernels.union_find import (
    uf_find,
    uf_find_readonly,
    uf_labels,
    uf_make,
    uf_union,
)
from tests.checks import same_partition


def test_random_unions_match_connected_components():
    rng = np.random.default_rng(0)
    n = 500
    parent, size = uf_make(n)
    edges = rng.integers(0, n, size=(400, 2))
    for a, b in edges:
        uf_union(parent, size, a, b)
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    n_comp, ref = connected_components(graph, directed=False)
    roots = np.array([uf_find(parent, i) for i in range(n)])
    assert same_partition(roots, ref)
    assert len(np.unique(roots)) == n_comp
    for r in np.unique(roots):
        assert size[r] == np.sum(roots == r)
    assert all(uf_find_readonly(parent, i) == roots[i] for i in range(n))


def test_union_returns_root_or_minus_one():
    parent, size = uf_make(4)
    assert uf_union(parent, size, 2, 3) == 2  # equal sizes: smaller root index wins
    assert uf_union(parent, size, 3, 2) == -1
    assert uf_union(parent, size, 1, 3) == 2  # larger set keeps its root
    assert size[2] == 3
    assert uf_find(parent, 1) == 2


def test_labels_ordered_by_smallest_member():
    parent, size = uf_make(6)
    uf_union(parent, size, 5, 4)
    uf_union(parent, size, 1, 3)
    mask = np.array([False, True, True, True, True, True])
    labels = uf_labels(parent, mask)
    assert labels.tolist() == [-1, 0, 1, 0, 2, 2]
    assert labels.dtype == np.int64
