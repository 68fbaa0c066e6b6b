"""The spectral embedding of an affinity graph, and the ways to turn an embedding into labels.

:func:`spectral_embedding` returns the ``n_components`` smallest eigenvalues of the normalised
Laplacian ``L = I - D^-1/2 A D^-1/2`` and the matching eigenvectors scaled by ``D^-1/2`` (the
random-walk eigenvectors, as scikit-learn's ``spectral_embedding(drop_first=False)`` returns
them, with the same deterministic signs). Solvers (all scipy or pyamg):

- ``'arpack'``: implicitly restarted Lanczos on ``D^-1/2 A D^-1/2`` for its largest algebraic
  eigenvalues, without shift-invert: each step is one sparse product, no factorisation (the
  shift-invert scikit-learn uses factorises the Laplacian, which fills in on kNN graphs);
- ``'lobpcg'``: LOBPCG on ``L`` preconditioned by an incomplete LU factorisation of ``L + 1e-3 I``
  (scipy's ``spilu``);
- ``'amg'``: LOBPCG preconditioned by pyamg's smoothed-aggregation multigrid (the fastest on
  large graphs with a small spectral gap: 4.4 s against 20 s for ILU and 31 s for arpack on a
  30,000-point uniform square, CPU seconds on this machine);
- ``'dense'``: LAPACK on the dense Laplacian (small graphs, and every solver below
  ``5 * n_components + 1`` nodes, as scikit-learn).

Assignments (each returns the labels and an object that labels new embedded rows the same way, so
that a training row's embedding gets its own label back):

- ``'kmeans'``: clusterlab's KMeans on the embedding rows (scikit-learn's choice);
- ``'discretize'``: Yu and Shi (2003), the rotation of the row-normalised embedding closest to a
  discrete partition;
- ``'cluster_qr'``: Damle, Minden and Ying (2019), column-pivoted QR of the embedding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = [
    "assign",
    "column_signs",
    "connected_components",
    "prune_negligible",
    "spectral_embedding",
]

#: Largest graph that falls back to LAPACK when ARPACK does not converge.
_DENSE_FALLBACK = 4_000
#: Shift of the shift-invert Lanczos on dense affinities: the normalised affinity's eigenvalues
#: are at most 1, so ``1.01 I - M`` is positive definite, and the wanted eigenvalues near 1 become
#: ``1 / (mu - 1.01)``, far apart from the rest (eigenvalue 0.9 maps to -9, 1 to -100).
_SHIFT = 1.01
#: Edges whose normalised weight ``A_ij / min(d_i, d_j)`` is below this are dropped: float64
#: cannot see them in eigenvalues near 1, and a graph held together only by such edges is
#: numerically disconnected (an rbf kernel with a large gamma), with an eigenvalue of 1 of
#: numerical multiplicity that Lanczos cannot resolve.
NEGLIGIBLE = 1e-15
#: ILU shift and drop tolerance of the 'lobpcg' preconditioner.
_ILU_SHIFT = 1e-3
_ILU_DROP = 1e-3
#: LOBPCG residual tolerance for eigen_tol="auto": on 100,000 blobs it gives the eigenvalues to 6
#: digits in 49 iterations, where 1e-5 takes 254 (scipy's default, sqrt(eps) * n, is looser).
_LOBPCG_TOL = 1e-4
_LOBPCG_MAXITER = 2000
#: Iterations of LOBPCG from a landmark start before it gives up (100,000 blobs: 54).
_START_MAXITER = 200


def prune_negligible(A: Any) -> Any:
    """``A`` without the edges float64 cannot see (``A_ij < NEGLIGIBLE * min(d_i, d_j)``)."""
    degree = np.asarray(A.sum(axis=1)).ravel()
    if sp.issparse(A):
        A = sp.csr_matrix(A)
        rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
        small = A.data < NEGLIGIBLE * np.minimum(degree[rows], degree[A.indices])
        if not small.any():
            return A
        A = A.copy()
        A.data[small] = 0.0
        A.eliminate_zeros()
        return A
    small = np.minimum(degree[:, None], degree[None, :]) * NEGLIGIBLE > A
    small &= A > 0
    if not small.any():
        return A
    A = A.copy()
    A[small] = 0.0
    return A


def connected_components(A: Any) -> tuple[int, np.ndarray]:
    """Number of connected components of the graph ``A`` and each node's component."""
    from scipy.sparse.csgraph import connected_components as components

    graph = A if sp.issparse(A) else sp.csr_matrix(A)
    return components(graph, directed=False)


def _normalised(A: Any) -> tuple[Any, np.ndarray]:
    """``D^-1/2 A D^-1/2`` and ``sqrt(D)`` (1 for isolated nodes, as scipy's laplacian)."""
    degree = np.asarray(A.sum(axis=1)).ravel()
    root = np.where(degree > 0, np.sqrt(np.maximum(degree, 0.0)), 1.0)
    if sp.issparse(A):
        scale = sp.diags(1.0 / root)
        return (scale @ A @ scale).tocsr(), root
    return A / root[:, None] / root[None, :], root


def column_signs(U: np.ndarray) -> np.ndarray:
    """Signs making the largest-magnitude entry of each column positive (scikit-learn's rule)."""
    rows = np.argmax(np.abs(U), axis=0)
    signs = np.sign(U[rows, np.arange(U.shape[1])])
    signs[signs == 0] = 1.0
    return signs


def _solve_dense(M: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
    from scipy.linalg import eigh

    dense = M.toarray() if sp.issparse(M) else np.asarray(M)
    n = dense.shape[0]
    mu, V = eigh(dense, subset_by_index=[n - k, n - 1])
    return mu[::-1], V[:, ::-1]


def _shift_invert(M: np.ndarray) -> Any:
    """``(M - sigma I)^-1`` for a dense ``M`` by one Cholesky factorisation of the positive
    definite ``sigma I - M`` (n^3 / 3 flops, a quarter of a dense eigensolver's)."""
    from scipy.linalg import cho_factor, cho_solve
    from scipy.sparse.linalg import LinearOperator

    n = M.shape[0]
    shifted = np.negative(M)  # the one n x n copy (spectral.fit's memory check counts it)
    shifted.flat[:: n + 1] += _SHIFT
    factor = cho_factor(shifted, lower=True, overwrite_a=True, check_finite=False)
    return LinearOperator(
        (n, n), matvec=lambda x: -cho_solve(factor, x, check_finite=False), dtype=np.float64
    )


def _solve_arpack(M: Any, k: int, rng: Any, tol: float) -> tuple[np.ndarray, np.ndarray]:
    from scipy.sparse.linalg import ArpackNoConvergence, eigsh

    v0 = rng.uniform(-1.0, 1.0, M.shape[0])
    try:
        if sp.issparse(M):
            mu, V = eigsh(M, k=k, which="LA", tol=tol, v0=v0)
        else:
            OPinv = _shift_invert(np.asarray(M))
            mu, V = eigsh(M, k=k, sigma=_SHIFT, which="LM", OPinv=OPinv, tol=tol, v0=v0)
    except ArpackNoConvergence:
        # eigenvalues packed against the wanted ones (a graph close to disconnected): LAPACK on
        # a small graph, multigrid-free LOBPCG on a large one
        if M.shape[0] <= _DENSE_FALLBACK:
            return _solve_dense(M, k)
        mu, V = _solve_lobpcg(M, _unit_root(M), k, rng, _LOBPCG_TOL, "lobpcg")
    order = np.argsort(-mu)
    return mu[order], V[:, order]


def _unit_root(M: Any) -> np.ndarray:
    """A start vector near the trivial eigenvector of ``M`` (its row sums' square roots)."""
    return np.sqrt(np.maximum(np.asarray(M.sum(axis=1)).ravel(), 0.0)) + 1e-12


def _ilu_preconditioner(L: Any) -> Any:
    from scipy.sparse.linalg import LinearOperator, spilu

    n = L.shape[0]
    ilu = spilu((L + _ILU_SHIFT * sp.eye(n)).tocsc(), drop_tol=_ILU_DROP, fill_factor=5)

    def matmat(B: np.ndarray) -> np.ndarray:
        B = B.reshape(n, -1)
        columns = [ilu.solve(np.ascontiguousarray(B[:, j])) for j in range(B.shape[1])]
        return np.column_stack(columns)

    return LinearOperator((n, n), matvec=ilu.solve, matmat=matmat, dtype=np.float64)


def _amg_preconditioner(L: Any) -> Any:
    try:
        import pyamg
    except ImportError as exc:
        raise ImportError(
            "eigen_solver='amg' needs the pyamg package: pip install pyamg "
            "(or clusterlab[spectral]); 'arpack' and 'lobpcg' need nothing more"
        ) from exc
    n = L.shape[0]
    shifted = (L + 1e-5 * sp.eye(n)).tocsr()
    return pyamg.smoothed_aggregation_solver(shifted, max_coarse=10).aspreconditioner()


def _solve_lobpcg(  # noqa: PLR0917
    M: Any, root: np.ndarray, k: int, rng: Any, tol: float, preconditioner: str
) -> tuple[np.ndarray, np.ndarray]:
    import warnings

    from scipy.sparse.linalg import lobpcg

    n = M.shape[0]
    L = (sp.eye(n) - M).tocsr()
    P = _amg_preconditioner(L) if preconditioner == "amg" else _ilu_preconditioner(L)
    X0 = rng.standard_normal((n, k + 1))
    X0[:, 0] = root  # the trivial eigenvector of a connected graph
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Exited at iteration ..." is ours to judge
        lam, V = lobpcg(L, X0, M=P, tol=tol, largest=False, maxiter=_LOBPCG_MAXITER)
    order = np.argsort(lam)[:k]
    return 1.0 - lam[order], V[:, order]


def _solve(  # noqa: PLR0917
    M: Any, root: np.ndarray, k: int, eigen_solver: str, rng: Any, eigen_tol: Any
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest eigenpairs of ``M`` (a connected graph's normalised affinity)."""
    n = M.shape[0]
    if eigen_solver == "dense" or n < 5 * k + 1:
        return _solve_dense(M, k)
    if eigen_solver == "arpack":
        return _solve_arpack(M, k, rng, 0.0 if eigen_tol == "auto" else float(eigen_tol))
    tol = _LOBPCG_TOL if eigen_tol == "auto" else float(eigen_tol)
    return _solve_lobpcg(M, root, k, rng, tol, eigen_solver)


def _solve_by_component(  # noqa: PLR0917
    M: Any,
    root: np.ndarray,
    labels: np.ndarray,
    k: int,
    eigen_solver: str,
    rng: Any,
    eigen_tol: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Eigenpairs of a disconnected graph, one component at a time.

    The spectrum of a disconnected graph is the union of its components' spectra, and each
    component contributes the eigenvalue 0 of the normalised Laplacian once: a multiple
    eigenvalue, which Lanczos (one start vector) resolves poorly -- it missed one of six on
    5,000 blobs in 10-D and split a blob. Solving each component for its own smallest
    eigenpairs and keeping the ``k`` smallest overall is exact; among equal eigenvalues the
    larger component comes first.

    A component's eigenpair of eigenvalue 0 is known exactly (``sqrt(degree)`` on the
    component, zero elsewhere), so with ``c`` components of two or more nodes at most
    ``k - c`` other eigenpairs can be among the ``k`` smallest, and each component is solved
    for only that many besides its known one: none when ``c >= k`` (well-separated clusters,
    whose per-component Lanczos runs on tightly packed spectra cost minutes at 100,000 rows).
    An isolated node keeps the eigenvalue 1 (``M`` is 0 there).
    """
    n = M.shape[0]
    order = np.argsort(labels, kind="stable")
    sizes = np.bincount(labels)
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    extra = max(0, k - int(np.count_nonzero(sizes > 1)))
    found = []  # (mu, -size, component, column, vector, rows)
    for c in range(bounds.size - 1):
        rows = order[bounds[c] : bounds[c + 1]]
        if rows.size == 1:
            found.append((0.0, -1, c, 0, np.ones(1), rows))
            continue
        known = root[rows] / np.linalg.norm(root[rows])
        found.append((1.0, -rows.size, c, 0, known, rows))
        m = min(extra + 1, rows.size)
        if m < 2:
            continue
        sub = M[rows][:, rows] if sp.issparse(M) else M[np.ix_(rows, rows)]
        mu, V = _solve(sub, root[rows], m, eigen_solver, rng, eigen_tol)
        # column 0 is the solver's copy of the known eigenpair (mu = 1, the largest); the
        # others are made orthogonal to the exact one (a no-op up to the solver's tolerance)
        others = V[:, 1:] - np.outer(known, known @ V[:, 1:])
        others /= np.linalg.norm(others, axis=0)
        found += [(mu[j], -rows.size, c, j, others[:, j - 1], rows) for j in range(1, m)]
    # eigenvalues equal up to rounding (the zeros of every component) are ordered by size
    found.sort(key=lambda item: (-round(float(item[0]), 10), item[1], item[2], item[3]))
    mu = np.array([item[0] for item in found[:k]])
    V = np.zeros((n, k))
    for j, item in enumerate(found[:k]):
        V[item[5], j] = item[4]
    return mu, V


def _solve_from_start(
    M: Any, root: np.ndarray, start: np.ndarray, k: int, eigen_tol: Any
) -> tuple[np.ndarray, np.ndarray] | None:
    """The ``k`` largest eigenpairs of ``M`` by LOBPCG on the whole graph, started from an
    approximate embedding ``start`` (n, >= k), in embedding units (``D^-1/2`` times vectors).

    A start near the wanted subspace (the landmark embedding) needs a few dozen iterations,
    without preconditioner, where Lanczos needs thousands on the tightly packed small
    eigenvalues of weakly linked clusters: on 100,000 blobs in 10-D (three components, eight
    eigenvalues below 5e-4) 35 s plus 13 s for the landmarks, against 168 s for
    per-component arpack and 135 s for multigrid LOBPCG from random vectors (machine load
    18). LOBPCG, a block method, also resolves the multiple eigenvalue 0 of a disconnected
    graph. None when LOBPCG has not converged after ``_START_MAXITER`` iterations (on 20,000
    of those blobs, five components, it had not after 2,000: 80 s, where arpack takes 1.2 s).
    """
    import warnings

    from scipy.sparse.linalg import lobpcg

    n = M.shape[0]
    L = (sp.eye(n) - M).tocsr()
    tol = _LOBPCG_TOL if eigen_tol == "auto" else float(eigen_tol)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Exited at iteration ..." is ours to judge
        lam, V = lobpcg(L, start * root[:, None], tol=tol, largest=False, maxiter=_START_MAXITER)
    order = np.argsort(lam)[:k]
    lam, V = lam[order], V[:, order]
    residual = np.linalg.norm(L @ V - V * lam, axis=0)
    if not residual.max() <= tol:
        return None  # the start was not good enough: the caller solves without it
    return 1.0 - lam, V


def spectral_embedding(  # noqa: PLR0917
    A: Any,
    n_components: int,
    eigen_solver: str,
    rng: Any,
    eigen_tol: Any = "auto",
    components: tuple[int, np.ndarray] | None = None,
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Smallest eigenvalues of the normalised Laplacian of ``A`` and the embedding.

    Parameters
    ----------
    A : sparse or dense (n, n) -- symmetric, non-negative, zero diagonal.
    n_components : int -- ``1 <= n_components <= n``.
    eigen_solver : {'arpack', 'lobpcg', 'amg', 'dense'}
    rng : RandomState or Generator -- start vectors.
    eigen_tol : 'auto' or float -- 'auto': 0 (machine precision) for arpack, 1e-4 for LOBPCG.
    components : (int, ndarray), optional
        :func:`connected_components` of ``A``, if already known. A disconnected graph is
        solved one component at a time (:func:`_solve_by_component`).
    start : float64 (n, >= n_components), optional
        An approximate embedding (the landmark one): the graph is then solved by LOBPCG from
        it (:func:`_solve_from_start`), unless it has at least ``n_components`` components
        (whose eigenvectors are known exactly) or LOBPCG does not converge from it (then
        ``eigen_solver`` solves it).

    Returns
    -------
    eigenvalues : float64 (n_components,), ascending.
    embedding : float64 (n, n_components) -- ``D^-1/2`` times the eigenvectors, signs fixed.
    """
    n_parts, labels = connected_components(A) if components is None else components
    M, root = _normalised(A)
    solved = None
    if start is not None and n_parts < n_components:
        solved = _solve_from_start(M, root, start, n_components, eigen_tol)
    if solved is not None:
        mu, V = solved
    elif n_parts == 1:
        mu, V = _solve(M, root, n_components, eigen_solver, rng, eigen_tol)
    else:
        mu, V = _solve_by_component(M, root, labels, n_components, eigen_solver, rng, eigen_tol)
    embedding = V / root[:, None]
    embedding *= column_signs(embedding)
    return np.clip(1.0 - mu, 0.0, 2.0), embedding


# --------------------------------------------------------------------------------------------
# assignments
# --------------------------------------------------------------------------------------------
@dataclass
class KMeansAssigner:
    """Nearest k-means center of the embedded rows."""

    model: Any

    def labels(self, U: np.ndarray) -> np.ndarray:
        return self.model.predict(np.ascontiguousarray(U))


@dataclass
class RotationAssigner:
    """``argmax`` over clusters of the (optionally normalised) embedding times a rotation."""

    rotation: np.ndarray
    column_scale: np.ndarray | None  # discretize: columns scaled, then rows normalised
    absolute: bool  # cluster_qr: argmax of |U R|

    def labels(self, U: np.ndarray) -> np.ndarray:
        if self.column_scale is not None:
            U = _row_normalised(U * self.column_scale)
        scores = U @ self.rotation
        if self.absolute:
            scores = np.abs(scores)
        return scores.argmax(axis=1).astype(np.int64)


def _row_normalised(U: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(U, axis=1, keepdims=True)
    return U / np.where(norms > 0, norms, 1.0)


def _kmeans(U: np.ndarray, n_clusters: int, rng: Any, n_init: int, n_jobs: Any):
    from clusterlab.cluster.kmeans import KMeans

    km = KMeans(n_clusters, n_init=n_init, random_state=rng, n_jobs=n_jobs)
    km.fit(np.ascontiguousarray(U))
    return km.labels_, KMeansAssigner(km)


def _discretize(U: np.ndarray, rng: Any, max_restarts: int = 30, max_iter: int = 20):
    """Yu and Shi's multiclass discretisation: alternate the discrete partition nearest to the
    rotated embedding and the rotation (an SVD) nearest to that partition."""
    n, k = U.shape
    column_scale = np.sqrt(n) / np.maximum(np.linalg.norm(U, axis=0), np.finfo(float).tiny)
    V = _row_normalised(U * column_scale)
    for _ in range(max_restarts):
        R = np.zeros((k, k))
        R[:, 0] = V[rng.randint(n) if hasattr(rng, "randint") else rng.integers(n)]
        c = np.zeros(n)
        for j in range(1, k):
            c += np.abs(V @ R[:, j - 1])
            R[:, j] = V[c.argmin()]
        last = 0.0
        for _ in range(max_iter):
            labels = (V @ R).argmax(axis=1)
            onehot = np.zeros((n, k))
            onehot[np.arange(n), labels] = 1.0
            try:
                Uh, S, Vh = np.linalg.svd(onehot.T @ V)
            except np.linalg.LinAlgError:
                break
            objective = 2.0 * (n - S.sum())
            if abs(objective - last) < np.finfo(float).eps:
                return labels.astype(np.int64), RotationAssigner(R, column_scale, False)
            last = objective
            R = Vh.T @ Uh.T
        else:
            labels = (V @ R).argmax(axis=1)
            return labels.astype(np.int64), RotationAssigner(R, column_scale, False)
    raise np.linalg.LinAlgError("discretize: the SVD did not converge after 30 restarts")


def _cluster_qr(U: np.ndarray):
    """Damle, Minden and Ying's CPQR assignment: pivot rows give a rotation of the embedding."""
    from scipy.linalg import qr, svd

    k = U.shape[1]
    _, _, piv = qr(U.T, pivoting=True)
    ut, _, vt = svd(U[piv[:k], :].T)
    rotation = ut @ vt
    labels = np.abs(U @ rotation).argmax(axis=1).astype(np.int64)
    return labels, RotationAssigner(rotation, None, True)


def assign(  # noqa: PLR0917
    U: np.ndarray, n_clusters: int, method: str, rng: Any, n_init: int, n_jobs: Any
) -> tuple[np.ndarray, Any]:
    """Labels of the embedded rows ``U`` (n, c) and the assigner that labels new rows alike.

    'discretize' and 'cluster_qr' make one cluster per column of ``U`` (``c == n_clusters``);
    'kmeans' clusters the rows of all ``c`` columns into ``n_clusters``.
    """
    if method == "kmeans":
        return _kmeans(U, n_clusters, rng, n_init, n_jobs)
    if method == "discretize":
        return _discretize(U, rng)
    return _cluster_qr(U)
