"""Sparse affinity propagation: messages along the edges of a graph (O(edges) memory).

For points (:func:`fit_points`) the graph is the symmetric k-nearest-neighbour graph. Points can
only choose exemplars among their neighbours there, so this first level finds many small
clusters; their exemplars, weighted by the size of their clusters, are then clustered by dense
affinity propagation: the similarity of exemplar ``a`` to ``b`` is ``w_a * s(a, b)`` (the cost of
moving ``a``'s ``w_a`` points to ``b``, approximating each point by its exemplar), and the
preference is the one the user gave -- on the scale of similarities between points, as in dense
mode -- or the one the ``n_clusters`` search finds. Every point finally takes its most similar
(nearest) final exemplar, each cluster's exemplar moves to the member nearest the cluster mean
(the member with the largest summed similarity, scikit-learn's refinement), and points are
assigned once more.

A graph level that does not settle within ``max_iter`` (at low preferences the exemplars of a
saturated kNN graph often keep trading places) still gives a valid coarsening, so only the final
level's convergence is reported.

For a precomputed sparse similarity matrix (:func:`fit_graph`) the stored entries are the
graph and one level is run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from clusterlab.cluster._affinity_dense import (
    DenseRun,
    make_random_state,
    search_preference,
)

__all__ = ["SparseRun", "fit_graph", "fit_points"]

#: Random pairs of points whose median similarity is the default preference of the sparse mode.
_MEDIAN_PAIRS = 100_000

_LEAF_SIZE = 32

#: Largest number of first-level exemplars the sparse mode's second, dense level takes.
_LEVEL2_MAX = 2_000


@dataclass
class SparseRun:
    """A graph in CSR order with both edge orders, similarities with noise, and messages."""

    indptr: np.ndarray
    indices: np.ndarray
    col_ptr: np.ndarray
    col_edge: np.ndarray
    diag_edge: np.ndarray
    S: np.ndarray
    noise_diag: np.ndarray
    est: Any
    R: np.ndarray | None = None
    A: np.ndarray | None = None
    colsum: np.ndarray | None = None

    @classmethod
    def build(cls, est: Any, csr: Any) -> SparseRun:
        """From a scipy CSR matrix of similarities (the diagonal entries are added if absent;
        their values are replaced by the preference in :meth:`solve`)."""
        import scipy.sparse as sp

        n = csr.shape[0]
        dtype = csr.dtype if csr.dtype in (np.float32, np.float64) else np.float64
        graph = sp.csr_matrix(csr, dtype=dtype) + sp.identity(n, dtype=dtype, format="csr")
        graph.sort_indices()
        # the diagonal got +1 above; it is overwritten by the preference, so its value is moot
        indptr = graph.indptr.astype(np.int64)
        indices = graph.indices.astype(np.int64)
        lonely = np.flatnonzero(np.diff(indptr) < 2)
        if lonely.size:
            raise ValueError(
                "every point needs a stored similarity to at least one other point; rows "
                f"{lonely[:5].tolist()} have none"
            )
        S = np.ascontiguousarray(graph.data)
        return cls._from_structure(est, indptr, indices, S)

    @classmethod
    def _from_structure(cls, est, indptr, indices, S) -> SparseRun:
        import scipy.sparse as sp

        n = indptr.shape[0] - 1
        ids = sp.csr_matrix((np.arange(1, indices.shape[0] + 1), indices, indptr), shape=(n, n))
        csc = ids.tocsc()
        csc.sort_indices()
        rows = np.repeat(np.arange(n), np.diff(indptr))
        diag_edge = np.flatnonzero(rows == indices)
        noise = _edge_noise(S, make_random_state(est.random_state))
        return cls(
            indptr,
            indices,
            csc.indptr.astype(np.int64),
            (csc.data - 1).astype(np.int64),
            diag_edge.astype(np.int64),
            S,
            noise[diag_edge],
            est,
        )

    @property
    def off_diagonal(self) -> np.ndarray:
        mask = np.ones(self.S.shape[0], dtype=bool)
        mask[self.diag_edge] = False
        return self.S[mask]

    def set_preference(self, preference: Any) -> None:
        dtype = self.S.dtype
        diag = np.empty(self.diag_edge.shape[0], dtype=dtype)
        diag[:] = preference
        diag += (np.finfo(dtype).eps * diag + np.finfo(dtype).tiny * 100) * self.noise_diag
        self.S[self.diag_edge] = diag

    def solve(self, preference: Any, *, warm: bool, damping: float) -> dict[str, Any]:
        """One adaptive run from ``damping``; the exemplar flags and run facts."""
        from clusterlab.kernels.affinity import sparse_iterate

        self.set_preference(preference)
        warm = warm and self.R is not None
        if self.R is None or not warm:
            self.R = np.zeros_like(self.S)
            self.A = np.zeros_like(self.S)
            self.colsum = np.zeros(self.indptr.shape[0] - 1, dtype=self.S.dtype)
        exemplar, last_found, n_iter, converged, damping = sparse_iterate(
            self.indptr,
            self.indices,
            self.col_ptr,
            self.col_edge,
            self.diag_edge,
            self.S,
            self.R,
            self.A,
            self.colsum,
            damping,
            self.est.max_iter,
            self.est.convergence_iter,
            warm,
            True,
        )
        if not exemplar.any():
            exemplar = last_found
        if not exemplar.any():
            evidence = self.R[self.diag_edge] + self.A[self.diag_edge]
            exemplar[int(np.argmax(evidence))] = True
        return {
            "exemplar": exemplar,
            "exemplars": np.flatnonzero(exemplar).astype(np.int64),
            "n_iter": n_iter,
            "converged": converged,
            "preference": float(np.asarray(preference).mean()),
            "preference_value": preference,
            "damping": damping,
        }


def _edge_noise(S: np.ndarray, rs: Any) -> np.ndarray:
    """scikit-learn's tie-breaking noise on every edge (in place); returns the draws."""
    z = rs.standard_normal(S.shape[0])
    S += (np.finfo(S.dtype).eps * S + np.finfo(S.dtype).tiny * 100) * z
    return z


# --------------------------------------------------------------------------------------------
# precomputed sparse similarities: one level
# --------------------------------------------------------------------------------------------
def fit_graph(est: Any, csr: Any, preference: Any) -> dict[str, Any]:
    """Sparse affinity propagation on the stored entries of ``csr`` (square similarities)."""
    run = SparseRun.build(est, csr)
    damping = est._damping_start()[0]
    off = run.off_diagonal
    if preference is None and est.n_clusters is None:
        preference = float(np.median(off))
    if est.n_clusters is not None:
        state = {"warm": False, "damping": damping}

        def solve(p: float) -> dict[str, Any]:
            out = run.solve(p, warm=state["warm"], damping=state["damping"])
            state["warm"] = True
            state["damping"] = out["damping"]
            return out

        start = float(np.median(off)) if preference is None else float(preference)
        result = search_preference(solve, est.n_clusters, float(off.min()), start, float(off.max()))
    else:
        result = run.solve(preference, warm=False, damping=damping)
    exemplars, labels = _graph_labels(run, result["exemplar"])
    pref = result["preference_value"]
    return {
        "exemplars": exemplars,
        "labels": labels,
        "n_iter": result["n_iter"],
        "converged": result["converged"],
        "preference": float(pref) if np.ndim(pref) == 0 else np.asarray(pref),
        "damping": result["damping"],
    }


def _graph_labels(run: SparseRun, exemplar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each point takes its most similar stored exemplar neighbour; a point with none takes the
    exemplar of its most similar labelled neighbour (repeatedly); points that still have none
    become exemplars of their own."""
    n = run.indptr.shape[0] - 1
    owner = np.where(exemplar, np.arange(n), -1)
    rows = np.repeat(np.arange(n), np.diff(run.indptr))
    off = rows != run.indices
    candidates = off & exemplar[run.indices] & ~exemplar[rows]
    while candidates.any():
        r, c = rows[candidates], run.indices[candidates]
        order = np.lexsort((c, -run.S[candidates], r))
        points, first = np.unique(r[order], return_index=True)
        owner[points] = owner[c[order][first]]
        candidates = off & (owner[rows] < 0) & (owner[run.indices] >= 0)
    lonely = owner < 0
    owner[lonely] = np.flatnonzero(lonely)
    exemplars = np.unique(owner).astype(np.int64)
    return exemplars, np.searchsorted(exemplars, owner).astype(np.int64)


# --------------------------------------------------------------------------------------------
# points: k-nearest-neighbour graph, then a dense level on the weighted exemplars
# --------------------------------------------------------------------------------------------
def fit_points(est: Any, X: np.ndarray, preference: Any) -> dict[str, Any]:
    """Multi-level sparse affinity propagation on the rows of ``X`` (see the module docstring)."""

    if preference is not None and np.ndim(preference) != 0:
        raise ValueError(
            "the sparse mode takes a single preference; got an array of shape "
            f"{np.shape(preference)} (pass sparse=False for per-point preferences)"
        )
    if est.n_clusters is not None and est.n_clusters > _LEVEL2_MAX // 2:
        raise ValueError(
            f"n_clusters must be at most {_LEVEL2_MAX // 2} in the sparse mode; got "
            f"{est.n_clusters} (pass sparse=False)"
        )
    rs = make_random_state(est.random_state)
    pref = _median_pair_similarity(X, rs) if preference is None else float(preference)
    members = np.arange(X.shape[0])  # the row of X behind each point of the current level
    weights = np.ones(X.shape[0])
    while members.shape[0] > _LEVEL2_MAX:
        kept, assigned, _ = _graph_level(est, X[members], weights, pref)
        if kept.shape[0] >= members.shape[0]:
            break
        weights = np.bincount(assigned, weights=weights, minlength=kept.shape[0])
        members = members[kept]
    top = _second_level(est, X[members], weights, pref, preference)
    exemplars, labels = _refine(X, members[top["exemplars"]])
    return {
        "exemplars": exemplars,
        "labels": labels,
        "n_iter": top["n_iter"],
        "converged": bool(top["converged"]),
        "preference": top["preference"],
        "damping": top["damping"],
    }


def _graph_level(
    est: Any, points: np.ndarray, weights: np.ndarray, preference: float
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """One sparse level on weighted points: the exemplars kept (indices into ``points``), the
    exemplar (index into the kept ones) of every point, and the run's facts."""
    run, order = _knn_run(est, points, weights)
    result = run.solve(preference, warm=False, damping=est._damping_start()[0])
    kept = np.sort(order[result["exemplars"]])
    return kept, _nearest(points, points[kept]), result


def _knn_run(est: Any, points: np.ndarray, weights: np.ndarray) -> tuple[SparseRun, np.ndarray]:
    """The symmetric k-nearest-neighbour graph of ``points`` with similarities
    ``-weights[a] * |a - b|^2``, over the points in kd-tree order (neighbours then have nearby
    numbers, which keeps the message passes cache-friendly); returns the run and that order."""
    import scipy.sparse as sp

    from clusterlab.kernels.affinity import edge_similarities
    from clusterlab.kernels.kdtree import build_kdtree, query_knn

    n = points.shape[0]
    k = est._n_neighbours(n)
    tree = build_kdtree(np.ascontiguousarray(points), _LEAF_SIZE)
    _, order, *_ = tree  # the rows of ``points`` in the order the tree stores them
    ordered = np.ascontiguousarray(points[order])
    _, ind = query_knn(tree, ordered, k + 1, 2.0)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    rows = np.repeat(np.arange(n), k + 1)
    ones = np.ones(rows.shape[0], dtype=np.int8)
    knn = sp.csr_matrix((ones, (rows, rank[ind.ravel()])), shape=(n, n))
    graph = ((knn + knn.T + sp.identity(n, dtype=np.int8, format="csr")) > 0).tocsr()
    graph.sort_indices()
    indptr = graph.indptr.astype(np.int64)
    indices = graph.indices.astype(np.int64)
    S = edge_similarities(ordered, indptr, indices)
    S *= np.repeat(weights[order], np.diff(indptr)).astype(S.dtype)
    return SparseRun._from_structure(est, indptr, indices, S), order


def _second_level(
    est: Any, points: np.ndarray, weights: np.ndarray, preference: float, start: Any
) -> dict[str, Any]:
    """Dense affinity propagation on weighted exemplars (similarity ``w_a * s(a, b)``), with
    ``preference`` or the ``n_clusters`` search (from ``start`` when given)."""
    from sklearn.metrics import euclidean_distances

    S = euclidean_distances(points, squared=True)
    S *= -weights[:, None]
    dense = DenseRun.from_similarities(est, S)
    if est.n_clusters is not None:
        return dense.search(est.n_clusters, start=start)
    damping = est._damping_start()[0]
    return dense.solve(preference, damping=damping)


def _median_pair_similarity(X: np.ndarray, rs: Any) -> float:
    """Median of ``-|x_a - x_b|^2`` over random pairs: the dense mode's default preference
    (the median of all similarities) estimated without the n x n matrix."""
    n = X.shape[0]
    draw = rs.integers if isinstance(rs, np.random.Generator) else rs.randint
    a = draw(0, n, size=_MEDIAN_PAIRS)
    b = draw(0, n, size=_MEDIAN_PAIRS)
    diff = X[a].astype(np.float64) - X[b]
    return float(np.median(-np.einsum("ij,ij->i", diff, diff)))


def _nearest(X: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Index of the nearest row of ``centers`` for every row of ``X`` (ties: lower index)."""
    from clusterlab.kernels.kdtree import build_kdtree, query_knn

    tree = build_kdtree(np.ascontiguousarray(centers), _LEAF_SIZE)
    _, ind = query_knn(tree, X, 1, 2.0)
    return ind[:, 0]


def _refine(X: np.ndarray, exemplars: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Assign to the nearest exemplar, move each exemplar to the member nearest its cluster's
    mean (ties: lower index), assign again; exemplars ascending, labels 0..k-1."""
    owner = _nearest(X, X[exemplars])
    k = exemplars.shape[0]
    counts = np.bincount(owner, minlength=k)
    sums = np.zeros((k, X.shape[1]))
    np.add.at(sums, owner, X)
    diff = X - (sums / counts[:, None])[owner]
    dist = np.einsum("ij,ij->i", diff, diff)
    order = np.lexsort((np.arange(X.shape[0]), dist, owner))
    _, first = np.unique(owner[order], return_index=True)
    moved = np.sort(order[first]).astype(np.int64)
    return moved, _nearest(X, X[moved]).astype(np.int64)
