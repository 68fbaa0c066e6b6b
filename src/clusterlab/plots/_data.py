"""Inputs of the plots as arrays: the feature matrix, the labels, centres, samples, projections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from clusterlab._base import NOISE


def as_matrix(X: Any, name: str = "X") -> tuple[np.ndarray, list[str]]:
    """``X`` as a float64 array and its feature names."""
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
        try:
            array = X.to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{name} must be the prepared numeric feature matrix; column dtypes are "
                f"{sorted({str(t) for t in X.dtypes})}"
            ) from exc
    else:
        array = np.asarray(X, dtype=np.float64)
        names = [f"x{i}" for i in range(array.shape[1])] if array.ndim == 2 else []
    if array.ndim != 2 or array.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array; got shape {array.shape}")
    return array, names


def as_labels(labels: Any, n: int) -> np.ndarray:
    """``labels`` as int64 segment ids, one per row (noise -1), or a clear error."""
    from clusterlab.insight._common import as_labels as checked

    return checked(labels, n)


def clusters(labels: np.ndarray) -> np.ndarray:
    """The cluster ids present in ``labels``, ascending, noise left out."""
    return np.unique(labels[labels != NOISE])


def cluster_means(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Mean of each cluster's rows, in the order of :func:`clusters`."""
    ids = clusters(labels)
    if ids.size == 0:
        raise ValueError("every row is noise (-1): there is no cluster to draw")
    return np.vstack([X[labels == c].mean(axis=0) for c in ids])


def centres(X: np.ndarray, labels: np.ndarray, centers: Any) -> np.ndarray:
    """Centres in X's space: the model's when given, else each cluster's mean."""
    if centers is None:
        return cluster_means(X, labels)
    array = np.asarray(centers, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != X.shape[1]:
        raise ValueError(f"centers must have shape (n_clusters, {X.shape[1]}); got {array.shape}")
    return array


def sample_rows(n: int, max_samples: int | None, random_state: int) -> np.ndarray | None:
    """Row indices of a uniform sample without replacement, or None to keep every row."""
    if max_samples is None or n <= max_samples:
        return None
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n, size=max_samples, replace=False))


def project(
    X: np.ndarray, names: list[str], n_components: int, random_state: int = 0
) -> tuple[np.ndarray, list[str], Callable[[np.ndarray], np.ndarray]]:
    """Coordinates to draw: the features themselves when there are exactly ``n_components``,
    else a PCA. Returns the coordinates, the axis labels and the map for other points."""
    if X.shape[1] == n_components:
        return X, names, lambda Z: Z
    if X.shape[1] < n_components:
        raise ValueError(
            f"a {n_components}-D plot needs at least {n_components} features; X has {X.shape[1]}"
        )
    from sklearn.decomposition import PCA

    pca = PCA(n_components=n_components, random_state=random_state).fit(X)
    axis = [
        f"PC{i + 1} ({ratio:.0%} of variance)"
        for i, ratio in enumerate(pca.explained_variance_ratio_)
    ]
    return pca.transform(X), axis, pca.transform
