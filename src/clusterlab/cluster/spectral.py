"""SpectralClustering: a sparse kNN graph on the kd-tree, scipy's sparse eigensolvers, labels
for new points by the Nystrom extension, and a landmark path for large n."""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils.validation import check_is_fitted

from clusterlab._base import ParamsMixin
from clusterlab._config import check_memory, threads
from clusterlab._validation import (
    NONE,
    RANDOM_STATE,
    Interval,
    Options,
    check_data,
    check_n_clusters,
)

__all__ = ["DisconnectedGraphWarning", "SpectralClustering"]

_PRECOMPUTED = ("precomputed", "precomputed_nearest_neighbors")
#: Floor of ``1 - eigenvalue`` in the Nystrom division (an isolated node has eigenvalue 1).
_MU_FLOOR = 1e-12
#: Rows from which eigen_solver='auto' starts LOBPCG from a landmark embedding of the kNN
#: graphs, and the landmarks of that start (see ``_spectral_embedding._solve_from_start``).
LANDMARK_START_MIN = 50_000
START_LANDMARKS = 1_000


class DisconnectedGraphWarning(UserWarning):
    """The affinity graph has several connected components."""


def _random_generator(random_state: Any) -> Any:
    if isinstance(random_state, np.random.RandomState | np.random.Generator):
        return random_state
    return np.random.RandomState(random_state)


class SpectralClustering(ParamsMixin, ClusterMixin, BaseEstimator):
    """Spectral clustering on a sparse k-nearest-neighbour graph, with ``predict``.

    The parameters and results of ``sklearn.cluster.SpectralClustering`` (the same embedding on
    the same affinity, up to the eigensolver's tolerance) with a sparse default affinity built
    on clusterlab's kd-tree in O(n k) memory, a locally scaled affinity with no bandwidth to
    tune, a warning that says what to do with a disconnected graph, labels for new rows, and a
    landmark path for large data.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    affinity : {'nearest_neighbors', 'self_tuning', 'rbf', 'precomputed', \
'precomputed_nearest_neighbors'}, default='nearest_neighbors'
        'nearest_neighbors': ``(C + C.T) / 2`` for the connectivity ``C`` of each row's
        ``n_neighbors`` nearest rows (itself included), as scikit-learn builds it;
        'self_tuning': the same edges weighted ``exp(-d^2 / (sigma_i sigma_j))`` with
        ``sigma_i`` the distance from row ``i`` to its 7th nearest neighbour (Zelnik-Manor and
        Perona 2004); 'rbf': ``exp(-gamma d^2)`` between all pairs, a dense n x n matrix (checked
        against the memory budget first); 'precomputed': ``X`` is the affinity matrix;
        'precomputed_nearest_neighbors': ``X`` is a distance matrix whose ``n_neighbors``
        smallest entries per row make the connectivity.
    n_neighbors : int, default=10
        Neighbours per row of the kNN affinities (capped at the number of rows).
    gamma : float, optional
        Bandwidth of 'rbf' (default 1.0, scikit-learn's).
    eigen_solver : {'auto', 'arpack', 'lobpcg', 'amg'}, default='auto'
        'arpack': Lanczos on the normalised affinity, no factorisation; 'lobpcg': LOBPCG with
        an incomplete-LU preconditioner; 'amg': LOBPCG with pyamg's multigrid preconditioner
        (needs pyamg); 'auto': 'arpack'. Graphs with fewer than ``5 * n_components + 1`` rows
        are solved densely; arpack on a dense affinity ('rbf', a dense 'precomputed') runs
        shift-invert Lanczos on one Cholesky factorisation (1,026 rows: 0.8 s, LAPACK 6.5 s).
        From 50,000 rows, 'auto' solves the 'nearest_neighbors' and 'self_tuning' graphs by
        LOBPCG started from a landmark embedding (1,000 k-means landmarks, as ``n_landmarks``
        computes it), and by arpack if that does not converge: 100,000 blobs in 10-D 48 s
        against 168 s for arpack under load, the same labels.
        Measured (CPU seconds): on 100,000 blobs in 10-D (clusters, so a large gap after the
        k-th eigenvalue) arpack 6-9, amg 16; on a 30,000-point uniform square (no clusters,
        eigenvalues packed near 0) amg 4.4, lobpcg 20, arpack 31.
    assign_labels : {'kmeans', 'discretize', 'cluster_qr'}, default='kmeans'
        How the embedding becomes labels: k-means on its rows; Yu and Shi's discretisation;
        Damle, Minden and Ying's column-pivoted QR.
    n_components : int, optional
        Eigenvectors computed (default ``n_clusters``). A larger value lets
        :meth:`labels_for` label other numbers of clusters without another eigensolve.
    random_state : None, int, RandomState or Generator
        Start vectors of the eigensolver and the k-means / discretisation randomness.
    n_jobs : int, optional
        Threads for the kd-tree queries and k-means.
    n_landmarks : int, optional
        Landmark spectral clustering (Chen and Cai 2011) with this many k-means landmarks: each
        row is represented by its 5 nearest landmarks, and the eigenvectors come from an
        ``n_landmarks``-square matrix: O(n) memory and time, for large n. The landmark kernel
        follows ``affinity``: one bandwidth for 'nearest_neighbors', each row's distance to
        its 5th landmark for 'self_tuning', ``gamma`` for 'rbf'. Not with precomputed
        affinities.
    n_init : int, default=10
        Restarts of the k-means assignment.
    eigen_tol : 'auto' or float, default='auto'
        Eigensolver tolerance ('auto': machine precision for arpack, 1e-5 for LOBPCG).

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,), int64
    embedding_ : ndarray of shape (n_samples, n_components)
        Eigenvectors of the random-walk Laplacian (``D^-1/2`` times those of the normalised
        Laplacian), columns by increasing eigenvalue, signs fixed as scikit-learn fixes them.
    eigenvalues_ : ndarray of shape (n_components,)
        The matching eigenvalues of the normalised Laplacian, ascending (their largest gap
        suggests a number of clusters).
    affinity_matrix_ : sparse matrix or ndarray of shape (n_samples, n_samples)
        The affinity, with a zero diagonal (self-loops do not enter the normalised Laplacian)
        and without the edges too weak for float64 to see (weight below 1e-15 times the
        smaller degree, e.g. far pairs of an rbf kernel); not kept with ``n_landmarks``.
    n_connected_components_ : int
        Connected components of the affinity graph (of the landmark graph with
        ``n_landmarks``), counting only edges float64 can see.
    n_features_in_, feature_names_in_
        As every estimator.

    Notes
    -----
    ``predict`` embeds new rows by the Nystrom extension of the eigenvectors: a new row's
    coordinate is the affinity-weighted mean of its neighbours' coordinates divided by
    ``1 - eigenvalue``, with the new row entering the graph as a training row would (its
    nearest neighbours, and the rows whose neighbourhood it would enter). A row equal to a
    training row gets that row's embedding; the embedded rows are then labelled by the fitted
    assignment (nearest k-means center, or the discretisation's rotation). With
    ``n_landmarks`` a new row is embedded through its nearest landmarks, exactly as training
    rows are. With 'precomputed', ``predict`` takes the affinities of the new rows to the
    training rows; with 'precomputed_nearest_neighbors' their distances.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import SpectralClustering
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 0.3, (30, 2)), rng.normal(5, 0.3, (30, 2))])
    >>> sc = SpectralClustering(n_clusters=2, random_state=0).fit(X)
    >>> int(sc.labels_[0]) != int(sc.labels_[-1])
    True
    >>> sc.predict([[0.1, 0.0], [5.1, 4.9]]).tolist() == [sc.labels_[0], sc.labels_[-1]]
    True
    """

    _parameter_constraints = {  # noqa: RUF012 - read-only class table
        "n_clusters": [Interval(numbers.Integral, 1, None)],
        "affinity": [
            Options(
                "nearest_neighbors",
                "self_tuning",
                "rbf",
                "precomputed",
                "precomputed_nearest_neighbors",
            )
        ],
        "n_neighbors": [Interval(numbers.Integral, 1, None)],
        "gamma": [NONE, Interval(numbers.Real, 0.0, None, closed="neither")],
        "eigen_solver": [Options("auto", "arpack", "lobpcg", "amg")],
        "assign_labels": [Options("kmeans", "discretize", "cluster_qr")],
        "n_components": [NONE, Interval(numbers.Integral, 1, None)],
        "random_state": [RANDOM_STATE],
        "n_jobs": [NONE, Interval(numbers.Integral, None, None)],
        "n_landmarks": [NONE, Interval(numbers.Integral, 2, None)],
        "n_init": [Interval(numbers.Integral, 1, None)],
        "eigen_tol": [Options("auto"), Interval(numbers.Real, 0.0, None)],
    }

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        affinity: str = "nearest_neighbors",
        n_neighbors: int = 10,
        gamma: float | None = None,
        eigen_solver: str = "auto",
        assign_labels: str = "kmeans",
        n_components: int | None = None,
        random_state: Any = None,
        n_jobs: int | None = None,
        n_landmarks: int | None = None,
        n_init: int = 10,
        eigen_tol: Any = "auto",
    ) -> None:
        self.n_clusters = n_clusters
        self.affinity = affinity
        self.n_neighbors = n_neighbors
        self.gamma = gamma
        self.eigen_solver = eigen_solver
        self.assign_labels = assign_labels
        self.n_components = n_components
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.n_landmarks = n_landmarks
        self.n_init = n_init
        self.eigen_tol = eigen_tol

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.affinity in _PRECOMPUTED
        tags.input_tags.sparse = self.affinity in _PRECOMPUTED
        return tags

    # -- fitting ------------------------------------------------------------------------------

    def _check_X(self, X: Any) -> Any:
        if self.affinity not in _PRECOMPUTED:
            return np.ascontiguousarray(check_data(self, X, ensure_min_samples=2))
        X = check_data(self, X, accept_sparse=["csr", "csc", "coo"], ensure_min_samples=2)
        if X.shape[0] != X.shape[1]:
            raise ValueError(
                f"X must be a square matrix with affinity={self.affinity!r} (the "
                f"{'affinities' if self.affinity == 'precomputed' else 'distances'} between "
                f"the rows); got shape {X.shape}"
            )
        if (X.data if sp.issparse(X) else X).min(initial=0.0) < 0:
            raise ValueError(f"X must be non-negative with affinity={self.affinity!r}")
        return X

    def _resolved(self, n_samples: int) -> tuple[int, int, str]:
        """n_components, n_neighbors and eigen_solver for this data (hyperparameters kept)."""
        check_n_clusters(self.n_clusters, n_samples)
        n_components = self.n_clusters if self.n_components is None else self.n_components
        limit = n_samples if self.n_landmarks is None else min(n_samples, self.n_landmarks)
        if n_components > limit:
            what = "n_samples" if self.n_landmarks is None else "min(n_samples, n_landmarks)"
            raise ValueError(
                f"n_components must be an int in [1, {what}={limit}]; got {n_components}"
            )
        if self.assign_labels != "kmeans" and n_components < self.n_clusters:
            warnings.warn(
                f"assign_labels={self.assign_labels!r} makes one cluster per eigenvector: "
                f"n_components={n_components} gives {n_components} clusters, not "
                f"n_clusters={self.n_clusters}",
                UserWarning,
                stacklevel=3,
            )
        solver = "arpack" if self.eigen_solver == "auto" else self.eigen_solver
        return n_components, min(self.n_neighbors, n_samples), solver

    def fit(self, X: Any, y: Any = None) -> SpectralClustering:
        """Build the affinity, embed it, and assign labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or (n_samples, n_samples)
            Data; with a precomputed affinity, the affinity or distance matrix (dense or sparse).
        y : ignored

        Returns
        -------
        self : SpectralClustering
        """
        self._validate_params()
        if self.n_landmarks is not None and self.affinity in _PRECOMPUTED:
            raise ValueError(
                f"n_landmarks works on data rows, not with affinity={self.affinity!r}; "
                "leave n_landmarks=None"
            )
        X = self._check_X(X)
        n_components, n_neighbors, solver = self._resolved(X.shape[0])
        rng = _random_generator(self.random_state)
        with threads(self.n_jobs):
            if self.n_landmarks is not None:
                self._fit_landmarks(X, n_components, rng)
            else:
                self._fit_graph(X, n_components, n_neighbors, solver, rng)
            self._warn_components()
            if self.assign_labels == "kmeans":
                self._n_assign = n_components
            else:
                self._n_assign = min(n_components, self.n_clusters)
            self.labels_, self._assigner = self._assign(self._n_assign, self.n_clusters, rng)
        return self

    def _fit_graph(self, X, n_components, n_neighbors, solver, rng) -> None:
        from clusterlab.cluster._affinity import build_affinity
        from clusterlab.cluster._spectral_embedding import (
            connected_components,
            prune_negligible,
            spectral_embedding,
        )

        if self.affinity == "rbf":
            n = X.shape[0]
            check_memory(
                3.0 * n * n * 8,
                what=f"the dense {n} x {n} rbf affinity and its two n x n copies",
                alternative="use affinity='nearest_neighbors' or 'self_tuning' (sparse, "
                "O(n k) memory), or n_landmarks",
            )
        gamma = 1.0 if self.gamma is None else float(self.gamma)
        A, self._affinity_state = build_affinity(X, self.affinity, n_neighbors, gamma)
        A = prune_negligible(A)
        components = connected_components(A)
        self.n_connected_components_ = int(components[0])
        start = None
        if self._starts_from_landmarks(X.shape[0], n_components, self.n_connected_components_):
            from clusterlab.cluster._landmarks import landmark_embedding

            n_landmarks = min(START_LANDMARKS, X.shape[0] // 10)
            kernel = (self.affinity, gamma)
            _, start, _, _ = landmark_embedding(
                X, n_landmarks, n_components + 1, rng, self.n_jobs, kernel
            )
        self.eigenvalues_, self.embedding_ = spectral_embedding(
            A, n_components, solver, rng, self.eigen_tol, components, start
        )
        self.affinity_matrix_ = A
        self._landmarks = None

    def _starts_from_landmarks(self, n_samples: int, n_components: int, n_parts: int) -> bool:
        """Whether eigen_solver='auto' solves a kNN graph by LOBPCG from the landmark
        embedding (large graphs whose eigenvectors are not all known from their components)."""
        return (
            self.eigen_solver == "auto"
            and self.affinity in ("nearest_neighbors", "self_tuning")
            and n_samples >= LANDMARK_START_MIN
            and n_parts < n_components
        )

    def _fit_landmarks(self, X, n_components, rng) -> None:
        from clusterlab.cluster._landmarks import landmark_embedding

        n_landmarks = min(self.n_landmarks, X.shape[0])
        gamma = 1.0 if self.gamma is None else float(self.gamma)
        values, U, state, n_graph = landmark_embedding(
            X, n_landmarks, n_components, rng, self.n_jobs, (self.affinity, gamma)
        )
        self.eigenvalues_, self.embedding_, self._landmarks = values, U, state
        self.n_connected_components_ = n_graph
        self._affinity_state = None

    def _assign(self, n_columns: int, n_clusters: int, rng: Any):
        from clusterlab.cluster._spectral_embedding import assign

        U = self.embedding_[:, :n_columns]
        return assign(U, n_clusters, self.assign_labels, rng, self.n_init, self.n_jobs)

    def _warn_components(self) -> None:
        n = self.n_connected_components_
        if n <= 1:
            return
        graph, fix = self._connecting_advice()
        more = f", more than n_clusters={self.n_clusters}" if n > self.n_clusters else ""
        warnings.warn(
            f"the {graph} has {n} connected components{more}: spectral clustering splits them "
            f"apart before it sees any structure inside them; {fix}, or treat the components "
            "as clusters of their own",
            DisconnectedGraphWarning,
            stacklevel=3,
        )

    def _connecting_advice(self) -> tuple[str, str]:
        """The graph's name ('affinity graph' or 'landmark graph') and what connects it."""
        if self.n_landmarks is not None:
            return "landmark graph", "raise n_landmarks"
        if self.affinity in ("nearest_neighbors", "self_tuning", "precomputed_nearest_neighbors"):
            fix = f"raise n_neighbors (now {self.n_neighbors}) until the graph is connected"
        elif self.affinity == "rbf":
            fix = "lower gamma (a wider kernel) or use affinity='self_tuning'"
        else:
            fix = "add affinity between the components"
        return "affinity graph", fix

    def components_note(self) -> str | None:
        """What a disconnected graph means for choosing k, as one sentence (None when the
        graph is connected): :func:`~clusterlab.selection.choose_k` puts it in its ``reason``
        instead of the fit's :class:`DisconnectedGraphWarning`."""
        check_is_fitted(self)
        n = self.n_connected_components_
        if n <= 1:
            return None
        graph, fix = self._connecting_advice()
        return (
            f"the {graph} has {n} connected components, so its first {n} eigenvalues are 0 "
            f"and the eigengap cannot choose a k below {n}; if the components are not "
            f"clusters of their own, {fix}"
        )

    # -- new data -----------------------------------------------------------------------------

    def labels_for(self, n_clusters: int) -> np.ndarray:
        """Labels for another number of clusters from the same embedding (no new eigensolve).

        Uses the first ``n_clusters`` columns of ``embedding_`` (what a fit with this
        ``n_clusters`` and the default ``n_components`` would compute, up to the eigensolver's
        tolerance), assigned with ``assign_labels`` and the estimator's ``random_state``.

        Parameters
        ----------
        n_clusters : int
            In ``[1, embedding_.shape[1]]``.

        Returns
        -------
        labels : ndarray of shape (n_samples,), int64
        """
        check_is_fitted(self)
        top = self.embedding_.shape[1]
        if isinstance(n_clusters, bool) or not isinstance(n_clusters, numbers.Integral):
            raise TypeError(f"n_clusters must be an int; got {n_clusters!r}")
        if not 1 <= n_clusters <= top:
            raise ValueError(
                f"n_clusters must be an int in [1, n_components={top}] (the embedding has "
                f"{top} columns; refit with a larger n_components); got {n_clusters}"
            )
        rng = _random_generator(self.random_state)
        with threads(self.n_jobs):
            return self._assign(int(n_clusters), int(n_clusters), rng)[0]

    def _embed(self, X: Any) -> np.ndarray:
        """Nystrom embedding of new rows (see the class Notes)."""
        if self._landmarks is not None:
            return self._landmarks.embed(X)
        state = self._affinity_state
        exact = state.exact(X)
        out = np.empty((X.shape[0], self.embedding_.shape[1]))
        hit = exact >= 0
        out[hit] = self.embedding_[exact[hit]]
        rest = np.flatnonzero(~hit)
        if rest.size:
            out[rest], lonely = self._nystrom(state.rows(X[rest]))
            if lonely.any():
                out[rest[lonely]] = self.embedding_[self._nearest(X, rest[lonely])]
        return out

    def _nystrom(self, rows: Any) -> tuple[np.ndarray, np.ndarray]:
        """The Nystrom extension of the embedding to rows of affinities to the training rows
        (for a training row's own affinities it returns that row's embedding: the eigenvector
        equation), and a mask of the rows with no affinity at all (left at zero)."""
        degree = np.asarray(rows.sum(axis=1)).ravel()
        mu = np.maximum(1.0 - self.eigenvalues_, _MU_FLOOR)
        spread = np.asarray(rows @ self.embedding_)
        lonely = ~(degree > 0)
        return spread / np.where(lonely, 1.0, degree)[:, None] / mu, lonely

    def _nearest(self, X: Any, rows: np.ndarray) -> np.ndarray:
        """Nearest training row of rows without any affinity (an rbf kernel that underflows,
        or a precomputed row of zeros)."""
        if self.affinity == "precomputed_nearest_neighbors":
            from clusterlab.cluster._affinity import _dense_distances

            return _dense_distances(X[rows]).argmin(axis=1)
        if self.affinity == "precomputed":
            block = X[rows]
            block = block.toarray() if sp.issparse(block) else np.asarray(block)
            return block.argmax(axis=1)
        from clusterlab.kernels.center_distances import pairwise_sq_distances

        train = self._affinity_state.X
        Q = np.ascontiguousarray(X[rows], dtype=train.dtype)
        return pairwise_sq_distances(Q, train).argmin(axis=1)

    def predict(self, X: Any) -> np.ndarray:
        """Cluster of each new row, by the Nystrom extension of the embedding (class Notes).

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            New rows; with 'precomputed', their affinities to the training rows (n_rows,
            n_train); with 'precomputed_nearest_neighbors', their distances.

        Returns
        -------
        labels : ndarray of shape (n_rows,), int64
        """
        check_is_fitted(self)
        if self.affinity in _PRECOMPUTED:
            X = check_data(self, X, reset=False, accept_sparse=["csr", "csc", "coo"])
            n_train = self.embedding_.shape[0]
            if X.shape[1] != n_train:
                raise ValueError(
                    f"X must have one column per training row ({n_train}) with "
                    f"affinity={self.affinity!r}; got {X.shape[1]}"
                )
            if sp.issparse(X):
                X = sp.csr_matrix(X)
        else:
            X = np.ascontiguousarray(check_data(self, X, reset=False))
        with threads(self.n_jobs):
            U = self._embed(X)
            return self._assigner.labels(U[:, : self._n_assign])
