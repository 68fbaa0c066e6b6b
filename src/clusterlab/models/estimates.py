"""Parameters estimated from the data: DBSCAN's eps, mean shift's bandwidth, HDBSCAN's size.

The registry's entries use these for their data-dependent defaults and tuning spaces.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from clusterlab.models.entry import DataContext

__all__ = ["bandwidth", "knee_eps"]

#: min_samples DBSCAN's eps is estimated for when none is given (DBSCAN's default).
DBSCAN_MIN_SAMPLES = 5
#: HDBSCAN's default min_cluster_size is this share of the rows (at least 5).
HDBSCAN_SIZE_SHARE = 100


def knee_eps(X: np.ndarray, min_samples: int, sample_size: int, seed: int | None) -> float:
    """DBSCAN's eps from the knee of the sorted k-distance curve (k = ``min_samples``).

    The k-distances of a sample of at most ``sample_size`` rows are measured against all of
    ``X`` (so eps fits the full data's density); the knee is the point of the sorted curve
    farthest from the chord joining its ends.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> X, _ = make_blobs(n_samples=300, centers=[[0, 0], [10, 10]], cluster_std=0.5,
    ...                   random_state=0)
    >>> 0.1 < knee_eps(X, 5, 1000, 0) < 3.0
    True
    """
    from sklearn.neighbors import NearestNeighbors

    n = len(X)
    k = max(1, min(int(min_samples), n - 1))
    rng = np.random.default_rng(seed)
    rows = rng.choice(n, min(n, sample_size), replace=False)
    dist, _ = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X[rows])
    d = np.sort(dist[:, k])
    if d[-1] <= d[0]:
        return float(d[-1]) if d[-1] > 0 else 1.0
    x = np.linspace(0.0, 1.0, d.size)
    y = (d - d[0]) / (d[-1] - d[0])
    knee = int(np.argmax(x - y))  # convex increasing curve: farthest below the chord
    eps = float(d[knee])
    return eps if eps > 0 else float(d[d > 0][0]) if (d > 0).any() else 1.0


def bandwidth(X: np.ndarray, seed: int | None) -> float:
    """Mean shift's default bandwidth for ``X``: half the mean median neighbour distance, on at
    most 50,000 rows, seeded by ``seed`` (:func:`clusterlab.cluster.meanshift.default_bandwidth`).

    scikit-learn's ``estimate_bandwidth`` (quantile 0.3) put 96% of the wholesale customers and
    nearly all of PyCaret's mice in one segment; this rule, with weak modes merged, gives 2 and 5.
    """
    from clusterlab.cluster.meanshift import default_bandwidth

    return float(default_bandwidth(np.asarray(X, dtype=np.float64), random_state=seed))


# ---------------------------------------------------------------- defaults of the entries


def dbscan_defaults(context: DataContext, given: Mapping[str, Any]) -> dict[str, Any]:
    """eps from the k-distance knee of the rows, for the ``min_samples`` given (default 5)."""
    if "eps" in given:
        return {}
    min_samples = given.get("min_samples", DBSCAN_MIN_SAMPLES)
    return {"eps": knee_eps(context.X, min_samples, context.search_size, context.seed)}


def hdbscan_defaults(context: DataContext, given: Mapping[str, Any]) -> dict[str, Any]:
    """min_cluster_size of 1% of the rows, at least 5."""
    if "min_cluster_size" in given:
        return {}
    return {"min_cluster_size": max(5, len(context.X) // HDBSCAN_SIZE_SHARE)}


def meanshift_defaults(context: DataContext, given: Mapping[str, Any]) -> dict[str, Any]:
    """The bandwidth of :func:`bandwidth` (given explicitly, so every engine uses it)."""
    if "bandwidth" in given:
        return {}
    return {"bandwidth": bandwidth(context.X, context.seed)}


# ---------------------------------------------------------------- estimates behind tuning spaces


def sample_eps(X: np.ndarray, context: DataContext) -> float:
    """eps of the k-distance knee of a sample (min_samples 5): the centre of eps's tuning grid."""
    return knee_eps(X, DBSCAN_MIN_SAMPLES, context.search_size, context.seed)


def sample_bandwidth(X: np.ndarray, context: DataContext) -> float:
    """The bandwidth of :func:`bandwidth` on a sample: the centre of the bandwidth's tuning grid."""
    return bandwidth(X, context.seed)
