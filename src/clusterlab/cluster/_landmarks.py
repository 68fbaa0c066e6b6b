"""Landmark spectral embedding (Chen and Cai 2011, "Large scale spectral clustering with
landmark-based representation"): O(n r) memory and O(n m r + m^3) time for n rows, m landmarks.

Landmarks are k-means centers of the data. Each row is represented by its ``r`` nearest
landmarks with Gaussian weights summing to one (``Z``, n x m, r non-zeros a row), the kernel
following the estimator's affinity: 'nearest_neighbors' uses one bandwidth, the median distance
of the rows to their r-th nearest landmark (the authors' choice is a global bandwidth too);
'self_tuning' scales each row by its own distance to its r-th nearest landmark; 'rbf' is
``exp(-gamma d^2)``. The affinity
``W = Z D^-1 Z^T`` (``D`` the landmarks' total weights) is never formed: its eigenvectors are the
left singular vectors of ``Z D^-1/2``, found from the m x m matrix ``D^-1/2 Z^T Z D^-1/2``.
Every row of ``W`` sums to one, so these eigenvectors already are the random-walk ones and the
Laplacian eigenvalues are ``1 - s^2`` for the singular values ``s``.

A new row is embedded by the same formula as a training row (its landmark weights times the
projection ``D^-1/2 V / s``): the extension is exact on the training rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["LandmarkEmbedding", "landmark_embedding"]

#: Nearest landmarks representing each row (the authors' r = 5).
N_NEAREST = 5
#: Lloyd iterations placing the landmarks (they need to cover the data, not to converge).
_LANDMARK_ITER = 10


@dataclass
class LandmarkEmbedding:
    """What embedding a row needs: landmarks (and their kd-tree), bandwidth, projection."""

    landmarks: np.ndarray
    tree: tuple
    n_nearest: int
    gamma: float  # weights exp(-gamma d^2); 0 means per-row scaling (self_tuning)
    column_scale: np.ndarray  # D^-1/2 (0 for a landmark no row uses)
    projection: np.ndarray  # (m, n_components): V / s, signs fixed

    def weights(self, Q: np.ndarray) -> sp.csr_matrix:
        """``Z D^-1/2`` for rows ``Q``: (m_rows, n_landmarks), ``n_nearest`` non-zeros a row."""
        from clusterlab.kernels.kdtree import query_knn

        dist, ind = query_knn(self.tree, np.ascontiguousarray(Q), self.n_nearest, 2.0)
        if self.gamma > 0:
            w = np.exp(-self.gamma * dist**2)
        else:
            scale = np.maximum(dist[:, -1:], np.finfo(float).tiny)
            w = np.exp(-0.5 * (dist / scale) ** 2)
        total = w.sum(axis=1, keepdims=True)
        # a row far from every landmark underflows: give it to its nearest landmarks equally
        w = np.where(total > 0, w / np.where(total > 0, total, 1.0), 1.0 / self.n_nearest)
        rows = np.repeat(np.arange(Q.shape[0]), self.n_nearest)
        shape = (Q.shape[0], self.landmarks.shape[0])
        Z = sp.csr_matrix((w.ravel(), (rows, ind.ravel())), shape)
        return Z @ sp.diags(self.column_scale)

    def embed(self, Q: np.ndarray) -> np.ndarray:
        """Embedding (m_rows, n_components) of rows ``Q``."""
        return np.asarray(self.weights(Q) @ self.projection)


def landmark_embedding(  # noqa: PLR0917
    X: np.ndarray,
    n_landmarks: int,
    n_components: int,
    rng: Any,
    n_jobs: Any,
    kernel: tuple[str, float] = ("nearest_neighbors", 1.0),
) -> tuple[np.ndarray, np.ndarray, LandmarkEmbedding, int]:
    """Eigenvalues (ascending), embedding of ``X``, the state for new rows, and the number of
    connected components of the landmark graph. ``kernel`` is ``(affinity, gamma)``."""
    from scipy.linalg import eigh

    from clusterlab.cluster._spectral_embedding import column_signs, connected_components
    from clusterlab.cluster.kmeans import KMeans
    from clusterlab.kernels.kdtree import build_kdtree, query_knn

    # random rows, then a few Lloyd steps: k-means++ seeding would cost n * m * log(m) distances
    # (15 of 19 s on 100,000 x 10 with 1,000 landmarks) for landmarks that only need to cover
    km = KMeans(
        n_landmarks,
        init="random",
        n_init=1,
        max_iter=_LANDMARK_ITER,
        random_state=rng,
        n_jobs=n_jobs,
    )
    landmarks = np.ascontiguousarray(km.fit(X).cluster_centers_)
    tree = build_kdtree(landmarks, 16)
    r = min(N_NEAREST, n_landmarks)
    affinity, gamma = kernel
    if affinity == "nearest_neighbors":
        dist, _ = query_knn(tree, X, r, 2.0)
        bandwidth = float(np.median(dist[:, -1]))
        gamma = 0.5 / bandwidth**2 if bandwidth > 0 else 1.0
    elif affinity == "self_tuning":
        gamma = 0.0
    state = LandmarkEmbedding(landmarks, tree, r, gamma, np.ones(n_landmarks), np.empty(0))
    Z = state.weights(X)
    totals = np.asarray(Z.sum(axis=0)).ravel()
    state.column_scale = np.where(totals > 0, 1.0 / np.sqrt(np.where(totals > 0, totals, 1.0)), 0.0)
    Zs = Z @ sp.diags(state.column_scale)
    gram = (Zs.T @ Zs).toarray()
    k = min(n_components, n_landmarks)
    s2, V = eigh(gram, subset_by_index=[n_landmarks - k, n_landmarks - 1])
    s2, V = s2[::-1], V[:, ::-1]
    s = np.sqrt(np.maximum(s2, np.finfo(float).tiny))
    projection = V / s
    state.projection = projection * column_signs(np.asarray(Zs @ projection))
    # the training rows through the very code that embeds new rows: identical numbers
    U = state.embed(X)
    n_components_graph, _ = connected_components(sp.csr_matrix(gram > 0))
    return np.clip(1.0 - s2, 0.0, 2.0), U, state, n_components_graph
