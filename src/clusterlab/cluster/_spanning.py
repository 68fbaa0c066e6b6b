"""The minimum spanning tree that single linkage and Genie walk, from the shared kernels.

:func:`spanning_tree` composes the kernels: a kd-tree and parallel Borůvka
(:mod:`clusterlab.kernels.mst`, the same tree HDBSCAN builds) in few dimensions, the exact
parallel Prim (:mod:`clusterlab.kernels.prim`) in many, with mutual reachability distances when
``M > 1``, and returns the edges in the order the linkages consume them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

__all__ = ["METRICS", "SpanningTree", "spanning_tree"]

#: metric name -> Minkowski exponent of the kernels (cosine runs as euclidean on unit rows)
METRICS = {"euclidean": 2.0, "manhattan": 1.0, "chebyshev": np.inf, "cosine": 2.0}
# above this many features, a kd-tree prunes too little and Prim's scan is faster
KD_TREE_MAX_FEATURES = 12
# neighbours per point listed for Borůvka (at least the core distance's M + 1)
LIST_NEIGHBOURS = 8
# up to this many features the neighbour lists are filled a kd-tree leaf at a time (22% less
# CPU than one walk per point at 2 and 3 features, 23% more at 4)
LEAF_KNN_MAX_FEATURES = 3


@dataclass
class SpanningTree:
    """A minimum spanning tree of the data and what labelling new points needs.

    ``a``, ``b``, ``weight`` are the ``n - 1`` edges sorted by (weight, smaller end, larger end);
    weights and ``core`` (core distances, zeros when ``M <= 1``) are in the user's metric.
    ``data`` is the data as the kernels saw it (rows scaled to unit length for cosine) and
    ``kdtree`` the fields of its kd-tree (``tuple(tree)``: model files hold no kernel type;
    ``KDTree(*kdtree)`` rebuilds it), or None when Prim's algorithm was used.
    """

    a: np.ndarray
    b: np.ndarray
    weight: np.ndarray
    core: np.ndarray
    data: np.ndarray
    kdtree: tuple | None
    p: float
    cosine: bool

    def to_metric(self, d: np.ndarray) -> np.ndarray:
        """Kernel distances (euclidean on unit rows for cosine) in the user's metric."""
        return d * d / 2.0 if self.cosine else d


def resolve_algorithm(algorithm: str, n_features: int) -> str:
    """``"auto"`` -> ``"boruvka"`` in few dimensions, ``"prim"`` otherwise."""
    if algorithm != "auto":
        return algorithm
    return "boruvka" if n_features <= KD_TREE_MAX_FEATURES else "prim"


def unit_rows(X: np.ndarray) -> np.ndarray:
    """Rows scaled to unit euclidean length (same dtype); all-zero rows are an error."""
    norms = np.linalg.norm(X, axis=1)
    if np.any(norms == 0):
        raise ValueError(
            "metric='cosine' needs rows with a non-zero norm; got all-zero rows at indices "
            f"{np.flatnonzero(norms == 0)[:5].tolist()}"
        )
    return np.ascontiguousarray(X / norms[:, None].astype(X.dtype))


def spanning_tree(
    X: np.ndarray, *, M: int, metric: str, algorithm: str, leaf_size: int = 40
) -> SpanningTree:
    """Minimum spanning tree of ``X`` in ``metric`` (mutual reachability with ``M`` neighbours).

    Parameters
    ----------
    X : float32 or float64 (n, d), n >= 2
    M : int
        ``M <= 1``: plain distances; otherwise the mutual reachability distance
        ``max(d(i, j), c(i), c(j))`` with ``c(i)`` the distance from ``i`` to its ``M``-th
        nearest neighbour, the point itself not counted (genieclust's convention).
    metric : {"euclidean", "manhattan", "chebyshev", "cosine"}
    algorithm : {"auto", "boruvka", "prim", "approximate"}
    leaf_size : int
        Points per kd-tree leaf.
    """
    from clusterlab.kernels import kdtree, leaf_knn, mst, prim, spanning

    cosine = metric == "cosine"
    # a copy: the tree is kept for predict, and X may be the caller's array
    data = unit_rows(X) if cosine else np.array(X, order="C")
    p = METRICS[metric]
    n = data.shape[0]
    mutual = M > 1
    k = min(M + 1, n)
    if resolve_algorithm(algorithm, data.shape[1]) == "boruvka":
        tree = kdtree.build_kdtree(data, int(leaf_size))
        # plain distances: the mutual reachability distance with the nearest neighbour as core
        # distance is the distance itself (c(i) <= d(i, j) for every j), and its first Borůvka
        # round is settled by the neighbour queries
        k_core = k if mutual else min(2, n)
        # a longer neighbour list than the core distance needs settles most Borůvka searches
        query = (
            leaf_knn.leaf_knn if data.shape[1] <= LEAF_KNN_MAX_FEATURES else mst.core_distances_tree
        )
        _, knn_pos = query(tree, min(n, max(k_core, LIST_NEIGHBOURS)), p)
        core_t = mst.list_distances(tree, knn_pos, k_core - 1, p)
        # mutual reachability: Borůvka itself breaks ties by raw distance, then rows, which
        # gives the tree _prefer_nearer picks on the other paths (the unique minimum one
        # under that key)
        a, b, w = mst.boruvka_mst(tree, core_t, knn_pos, 1.0, p, tree.idx if mutual else None)
        core = np.zeros(n)
        if mutual:
            core[tree[1]] = core_t
            a, b = np.minimum(a, b), np.maximum(a, b)  # as _prefer_nearer gives them
    elif algorithm == "approximate":
        tree = None
        knn, core, (a, b, w) = approximate_tree(data, M, p)
    else:
        tree = None
        core = np.zeros(n)
        if mutual:
            knn, dist = mst.knn_brute(data, data, k, p)
            core = np.ascontiguousarray(dist[:, -1])
        a, b, w = prim.prim_mst(data, core, p)
    if mutual and tree is None:
        a, b, w = _prefer_nearer(data, np.arange(n), (a, b), knn=knn, core=core, p=p)
    order = spanning.tree_order(a, b, w)
    fields = None if tree is None else tuple(tree)
    result = SpanningTree(a[order], b[order], w[order], core, data, fields, p, cosine)
    result.weight = result.to_metric(result.weight)
    result.core = result.to_metric(result.core)
    return result


def _prefer_nearer(
    data: np.ndarray,
    ids: np.ndarray,
    edges: tuple[np.ndarray, np.ndarray],
    *,
    knn: np.ndarray,
    core: np.ndarray,
    p: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Among the minimum spanning trees of the mutual reachability distance, the one that
    prefers, between edges of equal weight, the smaller raw distance (see
    :mod:`clusterlab.kernels.reachability_ties`): ``data`` in any row order, ``ids`` the
    point of each row, ``edges`` and ``knn`` (each row's core-distance neighbours) as rows,
    ``core`` per row; returns the edges as points."""
    from clusterlab.kernels.reachability_ties import prefer_nearer

    a, b = edges
    knn = np.ascontiguousarray(knn, dtype=np.int64)
    return prefer_nearer(data, ids, (a, b), knn, np.ascontiguousarray(core), p)


# approximate mode: neighbours per point, random-projection trees and their leaf size, NN-descent
# rounds, and the points per component that look for a component to join (per round, shared)
APPROX_NEIGHBOURS = 10
APPROX_TREES = 4
APPROX_ROUNDS = 6
APPROX_SEARCHERS = 128
_SEED = 0


def approximate_tree(
    data: np.ndarray, M: int, p: float
) -> tuple[np.ndarray | None, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """A spanning tree from an approximate k-nearest-neighbour graph, for many points in many
    dimensions: the graph's minimum spanning forest (Kruskal), its components joined by
    Borůvka rounds in which a sample of each component's points scans every point for the
    nearest one outside, the pair then improved by alternating nearest-point steps between
    the two components. Returns (neighbours with the point itself first when ``M > 1``, core
    distances, edges)."""
    from clusterlab.kernels import approx_knn, spanning

    n = data.shape[0]
    k = min(n - 1, max(APPROX_NEIGHBOURS, M))
    heap_d, heap_i = approx_knn.rp_forest_candidates(data, k, APPROX_TREES, 2 * k + 8, _SEED, p)
    approx_knn.nn_descent(data, heap_d, heap_i, APPROX_ROUNDS, _SEED, p)
    rows = np.repeat(np.arange(n, dtype=np.int64), k)
    cols = heap_i.ravel()
    keep = cols >= 0
    rows, cols = rows[keep], cols[keep]
    d = spanning.edge_distances(data, rows, cols, p)
    core = np.zeros(n)
    knn = None
    if M > 1:
        own = np.full(n * k, np.inf)
        own[np.flatnonzero(keep)] = d
        core = np.sort(own.reshape(n, k), axis=1)[:, M - 1]
        knn = np.column_stack([np.arange(n), heap_i])
    w = np.maximum(d, np.maximum(core[rows], core[cols]))
    lo, hi = np.minimum(rows, cols), np.maximum(rows, cols)
    kept = spanning.kruskal(n, lo, hi, np.lexsort((hi, lo, d, w)))
    a, b, weight = lo[kept], hi[kept], w[kept]
    while a.shape[0] < n - 1:
        ja, jb = _join_components(data, a, b, core, p)
        a, b = np.concatenate([a, ja]), np.concatenate([b, jb])
        d = spanning.edge_distances(data, a, b, p)
        weight = np.maximum(d, np.maximum(core[a], core[b]))
        kept = spanning.kruskal(n, a, b, np.lexsort((b, a, weight)))
        a, b, weight = a[kept], b[kept], weight[kept]
    return knn, core, (a, b, weight)


def _join_components(
    data: np.ndarray, a: np.ndarray, b: np.ndarray, core: np.ndarray, p: float
) -> tuple[np.ndarray, np.ndarray]:
    """One Borůvka round over the components of the forest ``(a, b)``: a short edge out of
    every component (candidates: the caller's Kruskal keeps those that join)."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    from clusterlab.kernels import spanning

    n = data.shape[0]
    graph = sp.csr_array((np.ones(a.shape[0]), (a, b)), shape=(n, n))
    n_comp, component = connected_components(graph, directed=False)
    component = component.astype(np.int64)
    per = max(4, APPROX_SEARCHERS // n_comp)
    # searchers: the points of each component with the largest core / random spread
    order = np.argsort(component, kind="stable")
    starts = np.searchsorted(component[order], np.arange(n_comp + 1))
    rng = np.random.default_rng(_SEED + n_comp)
    searchers = np.concatenate(
        [
            order[lo:hi] if hi - lo <= per else rng.choice(order[lo:hi], per, replace=False)
            for lo, hi in itertools.pairwise(starts)
        ]
    ).astype(np.int64)
    XT = np.ascontiguousarray(data.T)
    dist, nearest = spanning.nearest_outside(XT, data, searchers, component, p)
    out_a, out_b = [], []
    for c in range(n_comp):
        mine = component[searchers] == c
        if not np.any(mine):
            continue
        pick = np.flatnonzero(mine)[np.argmin(dist[mine])]
        i, j = int(searchers[pick]), int(nearest[pick])
        i, j = _improve_pair(data, order, starts, component, (i, j), p)
        out_a.append(i)
        out_b.append(j)
    return np.asarray(out_a, dtype=np.int64), np.asarray(out_b, dtype=np.int64)


def _improve_pair(data, order, starts, component, pair, p, steps: int = 3):  # noqa: PLR0917
    """Alternate nearest-point steps between the components of a pair: each step can only
    shorten the edge."""
    from clusterlab.kernels.spanning import nearest_member

    i, j = pair
    for _ in range(steps):
        ci, cj = component[i], component[j]
        i_new = nearest_member(data, order[starts[ci] : starts[ci + 1]], data[j].astype(float), p)
        j_new = nearest_member(
            data, order[starts[cj] : starts[cj + 1]], data[i_new].astype(float), p
        )
        if (i_new, j_new) == (i, j):
            break
        i, j = i_new, j_new
    return i, j
