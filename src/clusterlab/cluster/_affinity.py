"""Affinity graphs of spectral clustering, for the training rows and for new rows.

Every builder returns the training affinity ``A`` (symmetric, zero diagonal: the normalised
Laplacian ignores self-loops) and an object whose ``rows(Q)`` gives the affinities of new rows to
the training rows, defined so that a training row, were it new, would get its own row of ``A``
back (the premise of the Nystrom extension; ``exact(Q)`` finds rows equal to a training row).

- ``nearest_neighbors``: ``A = (C + C.T) / 2`` with ``C[i, j] = 1`` when ``j`` is among the
  ``n_neighbors`` nearest rows of ``i`` (``i`` itself included, as scikit-learn's
  ``kneighbors_graph(include_self=True)``), on the kd-tree in O(n k) memory. A new row enters
  the graph as a training row would: ``n_neighbors - 1`` forward neighbours (its own slot is
  itself) and, as reverse neighbours, the rows ``j`` it is closer to than ``j``'s last neighbour.
- ``self_tuning`` (Zelnik-Manor and Perona 2004): the same edges weighted
  ``exp(-d_ij^2 / (sigma_i sigma_j))``, ``sigma_i`` the distance from ``i`` to its
  ``min(7, n_neighbors - 1)``-th nearest other row: no bandwidth to tune.
- ``rbf``: ``exp(-gamma d_ij^2)``, dense (n x n, after a memory check).
- ``precomputed``: the user's affinity matrix (dense or sparse); new rows are given as their
  affinities to the training rows.
- ``precomputed_nearest_neighbors``: the user's distance matrix; the ``n_neighbors`` smallest
  entries of each row (the diagonal included) make ``C`` as for ``nearest_neighbors``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["KnnAffinity", "build_affinity"]

#: Zelnik-Manor and Perona's neighbour for the local scale.
SELF_TUNING_NEIGHBOUR = 7
#: Rows of new points per block of an rbf affinity.
_RBF_BLOCK = 512


def _without_diagonal(A: Any) -> Any:
    if sp.issparse(A):
        A = sp.csr_matrix(A, dtype=np.float64, copy=True)
        A.setdiag(0.0)
        A.eliminate_zeros()
        return A
    A = np.array(A, dtype=np.float64)
    np.fill_diagonal(A, 0.0)
    return A


@dataclass
class KnnAffinity:
    """A kNN affinity's training state: what new rows need (kd-tree, radii, local scales)."""

    tree: tuple
    n_neighbors: int
    radius: np.ndarray  # distance of each training row to the last of its n_neighbors
    sigma: np.ndarray | None  # local scales (self_tuning), else None

    @property
    def scale_position(self) -> int:
        return min(SELF_TUNING_NEIGHBOUR, self.n_neighbors - 1)

    def exact(self, Q: np.ndarray) -> np.ndarray:
        """Index of a training row equal to each row of ``Q`` (the lowest), or -1."""
        from clusterlab.kernels.kdtree import query_knn

        dist, ind = query_knn(self.tree, Q, 1, 2.0)
        return np.where(dist[:, 0] == 0.0, ind[:, 0], -1)

    def rows(self, Q: np.ndarray) -> sp.csr_matrix:
        """Affinities (m, n_train) of new rows ``Q`` to the training rows."""
        from clusterlab.kernels.kdtree import query_knn
        from clusterlab.kernels.knn_graph import reverse_neighbours

        m, n = Q.shape[0], self.radius.shape[0]
        n_forward = self.n_neighbors - 1
        if n_forward > 0:
            f_dist, f_ind = query_knn(self.tree, Q, n_forward, 2.0)
        else:
            f_dist, f_ind = np.zeros((m, 0)), np.zeros((m, 0), dtype=np.int64)
        indptr, r_ind, r_dist = reverse_neighbours(self.tree, self.radius, Q)
        f_rows = np.repeat(np.arange(m), n_forward)
        r_rows = np.repeat(np.arange(m), np.diff(indptr))
        if self.sigma is None:
            forward = sp.csr_matrix((np.full(f_rows.size, 0.5), (f_rows, f_ind.ravel())), (m, n))
            reverse = sp.csr_matrix((np.full(r_rows.size, 0.5), (r_rows, r_ind)), (m, n))
            return (forward + reverse).tocsr()
        if n_forward > 0:
            sigma_q = f_dist[:, min(self.scale_position, n_forward) - 1]
        else:
            sigma_q = np.ones(m)
        sigma_q = np.maximum(sigma_q, _sigma_floor(self.sigma))
        f_w = _self_tuning_weights(f_dist.ravel(), sigma_q[f_rows], self.sigma[f_ind.ravel()])
        r_w = _self_tuning_weights(r_dist, sigma_q[r_rows], self.sigma[r_ind])
        forward = sp.csr_matrix((f_w, (f_rows, f_ind.ravel())), (m, n))
        reverse = sp.csr_matrix((r_w, (r_rows, r_ind)), (m, n))
        return forward.maximum(reverse).tocsr()


def _sigma_floor(sigma: np.ndarray) -> float:
    """Smallest local scale allowed: a row with K duplicates would otherwise get sigma = 0."""
    top = float(sigma.max()) if sigma.size else 0.0
    return 1e-12 * top if top > 0 else 1.0


def _self_tuning_weights(d: np.ndarray, s_i: np.ndarray, s_j: np.ndarray) -> np.ndarray:
    # an edge underflowing to 0 would vanish from the sparse graph: keep it, tiny
    return np.maximum(np.exp(-(d * d) / (s_i * s_j)), np.finfo(np.float64).tiny)


def knn_affinity(X: np.ndarray, n_neighbors: int, self_tuning: bool) -> tuple[Any, KnnAffinity]:
    """Training affinity of the kNN graph (see the module docstring) and its state."""
    from clusterlab.kernels.kdtree import build_kdtree, query_knn

    n = X.shape[0]
    tree = build_kdtree(X, 40)
    dist, ind = query_knn(tree, X, n_neighbors, 2.0)
    rows = np.repeat(np.arange(n), n_neighbors)
    state = KnnAffinity(tree, n_neighbors, dist[:, -1].copy(), None)
    if not self_tuning:
        C = sp.csr_matrix((np.ones(rows.size), (rows, ind.ravel())), (n, n))
        return _without_diagonal(0.5 * (C + C.T)), state
    sigma = dist[:, state.scale_position].copy()
    sigma = np.maximum(sigma, _sigma_floor(sigma))
    state.sigma = sigma
    w = _self_tuning_weights(dist.ravel(), sigma[rows], sigma[ind.ravel()])
    C = sp.csr_matrix((w, (rows, ind.ravel())), (n, n))
    return _without_diagonal(C.maximum(C.T)), state


@dataclass
class RbfAffinity:
    """An rbf affinity's training state: the training rows and gamma."""

    X: np.ndarray
    gamma: float

    def _sq_dist(self, Q: np.ndarray) -> np.ndarray:
        from clusterlab.kernels.center_distances import pairwise_sq_distances

        Q = np.ascontiguousarray(Q, dtype=self.X.dtype)
        return np.maximum(pairwise_sq_distances(Q, self.X).astype(np.float64), 0.0)

    def exact(self, Q: np.ndarray) -> np.ndarray:
        """Index of the first training row equal to each row of ``Q``, or -1."""
        out = np.full(Q.shape[0], -1, dtype=np.int64)
        for start in range(0, Q.shape[0], _RBF_BLOCK):
            d2 = self._sq_dist(Q[start : start + _RBF_BLOCK])
            # a zero distance is only a candidate: tiny (denormal) differences underflow
            for i in np.flatnonzero(d2.min(axis=1) == 0.0):
                for j in np.flatnonzero(d2[i] == 0.0):
                    if np.array_equal(self.X[j], Q[start + i]):
                        out[start + i] = j
                        break
        return out

    def rows(self, Q: np.ndarray) -> np.ndarray:
        out = np.empty((Q.shape[0], self.X.shape[0]))
        for start in range(0, Q.shape[0], _RBF_BLOCK):
            out[start : start + _RBF_BLOCK] = np.exp(
                -self.gamma * self._sq_dist(Q[start : start + _RBF_BLOCK])
            )
        return out


def rbf_affinity(X: np.ndarray, gamma: float) -> tuple[np.ndarray, RbfAffinity]:
    """Dense rbf affinity (call :func:`clusterlab._config.check_memory` first)."""
    state = RbfAffinity(X, gamma)
    A = np.empty((X.shape[0], X.shape[0]))
    for start in range(0, X.shape[0], _RBF_BLOCK):
        block = X[start : start + _RBF_BLOCK]
        A[start : start + _RBF_BLOCK] = np.exp(-gamma * state._sq_dist(block))
    np.fill_diagonal(A, 0.0)
    return A, state


@dataclass
class PrecomputedAffinity:
    """New rows are given as their affinities to the training rows."""

    n_train: int

    def exact(self, Q: Any) -> np.ndarray:
        return np.full(Q.shape[0], -1, dtype=np.int64)

    def rows(self, Q: Any) -> Any:
        return Q


@dataclass
class PrecomputedNeighbors:
    """New rows are given as their distances to the training rows (dense or sparse; a sparse
    row's missing entries are infinitely far)."""

    n_neighbors: int
    radius: np.ndarray

    def exact(self, Q: Any) -> np.ndarray:
        return np.full(Q.shape[0], -1, dtype=np.int64)

    def rows(self, Q: Any) -> sp.csr_matrix:
        D = _dense_distances(Q)
        m, n = D.shape
        n_forward = self.n_neighbors - 1
        rows, cols = np.nonzero(self.radius[None, :] > D)
        reverse = sp.csr_matrix((np.full(rows.size, 0.5), (rows, cols)), (m, n))
        if n_forward == 0:
            return reverse
        nearest = np.argsort(D, axis=1, kind="stable")[:, :n_forward]
        f_rows = np.repeat(np.arange(m), n_forward)
        forward = sp.csr_matrix((np.full(f_rows.size, 0.5), (f_rows, nearest.ravel())), (m, n))
        return (forward + reverse).tocsr()


def _dense_distances(D: Any) -> np.ndarray:
    if not sp.issparse(D):
        return np.asarray(D, dtype=np.float64)
    D = sp.csr_matrix(D, dtype=np.float64)
    out = np.full(D.shape, np.inf)
    rows = np.repeat(np.arange(D.shape[0]), np.diff(D.indptr))
    out[rows, D.indices] = D.data
    return out


def precomputed_neighbors_affinity(D: Any, n_neighbors: int) -> tuple[Any, PrecomputedNeighbors]:
    """kNN connectivity from a precomputed distance matrix (scikit-learn's
    ``NearestNeighbors(metric='precomputed').kneighbors_graph``), symmetrised."""
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=n_neighbors, metric="precomputed").fit(D)
    dist, _ = nn.kneighbors(D)
    C = nn.kneighbors_graph(D, mode="connectivity")
    state = PrecomputedNeighbors(n_neighbors, dist[:, -1].copy())
    return _without_diagonal(0.5 * (C + C.T)), state


def build_affinity(X: Any, affinity: str, n_neighbors: int, gamma: float) -> tuple[Any, Any]:
    """The training affinity (zero diagonal) and the state that gives new rows' affinities."""
    if affinity == "nearest_neighbors":
        return knn_affinity(X, n_neighbors, self_tuning=False)
    if affinity == "self_tuning":
        return knn_affinity(X, n_neighbors, self_tuning=True)
    if affinity == "rbf":
        return rbf_affinity(X, gamma)
    if affinity == "precomputed_nearest_neighbors":
        return precomputed_neighbors_affinity(X, n_neighbors)
    return _without_diagonal(X), PrecomputedAffinity(X.shape[0])
