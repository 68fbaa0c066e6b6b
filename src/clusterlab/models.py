"""The model registry: id -> estimator factory, capabilities, key parameter and search space.

Each :class:`ModelEntry` says which implementation backs an id. Where clusterlab's own estimator
does not exist yet, the entry builds scikit-learn's estimator behind the same interface and says
so in ``implementation``; the entry is switched when ours lands, and nothing else changes.

Labelling new data (``predict_model``, and rows that setup left out of training) goes through
:func:`out_of_sample_rule`, the one place that decides how a fitted model labels a point it has not
seen:

- the estimator's own ``predict`` when it has one (k-means family, Birch, GMM, MeanShift,
  AffinityPropagation and our estimators);
- DBSCAN without ``predict``: the label of the nearest core sample when it lies within ``eps``,
  else noise (-1) -- the definition of DBSCAN membership;
- everything else (hierarchical, spectral, and any estimator without ``predict``): a vote of the
  ``k = 5`` nearest training points weighted by inverse distance (a training point therefore
  keeps its own label); noise wins when the noise votes outweigh every cluster.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "REGISTRY",
    "KNNVote",
    "ModelEntry",
    "NativePredict",
    "NearestCentre",
    "NearestCore",
    "get_entry",
    "out_of_sample_rule",
    "registry_frame",
]

NOISE = -1


@dataclass(frozen=True)
class ModelEntry:
    """One model id of the registry.

    Attributes
    ----------
    id, name : str
        Short id (``'kmeans'``) and display name.
    factory : callable
        ``factory(**params)`` returns an unfitted estimator.
    implementation : str
        Which class backs the id (``'scikit-learn KMeans (clusterlab's own not yet available)'``).
    native_predict : bool
        Whether the estimator has its own ``predict``.
    key_param : str or None
        The hyperparameter compare_models chooses (``n_clusters``, ``eps``, ...).
    needs_k : bool
        Whether ``num_clusters`` means something for this id.
    memory : str
        Memory class: ``'O(n)'``, ``'O(n·k)'`` or ``'O(n²)'`` (O(n²) ids are skipped when n^2
        floats exceed the memory budget).
    turbo_max_n : int or None
        Above this many rows ``compare_models(turbo=True)`` skips the id (slow in time).
    search_space : dict
        Default grid for ``tune_model``: parameter -> list of values.
    """

    id: str
    name: str
    factory: Callable[..., Any]
    implementation: str
    native_predict: bool
    key_param: str | None
    needs_k: bool
    memory: str
    turbo_max_n: int | None = None
    search_space: dict[str, list] = field(default_factory=dict)
    random_state_param: str | None = "random_state"
    uses_noise: bool = False
    #: The estimator accepts initial centers as ``init``: compare_models starts its final fit
    #: from the solution choose_k found at the chosen k.
    warm_init: bool = False


def _sk(module: str, cls: str, **defaults: Any) -> Callable[..., Any]:
    def factory(**params: Any) -> Any:
        import importlib

        klass = getattr(importlib.import_module(module), cls)
        return klass(**{**defaults, **params})

    factory.__qualname__ = f"{cls}_factory"
    return factory


def _sk_text(cls: str) -> str:
    return f"scikit-learn {cls} (clusterlab's own not yet available)"


_K_SPACE = list(range(2, 11))

_ENTRIES = [
    ModelEntry(
        "kmeans",
        "K-Means",
        _sk("clusterlab.cluster.kmeans", "KMeans"),
        "clusterlab KMeans (numba k-means++ and Lloyd)",
        True,
        "n_clusters",
        True,
        "O(n·k)",
        search_space={"n_clusters": _K_SPACE, "init": ["k-means++", "random"]},
        warm_init=True,
    ),
    ModelEntry(
        "minibatch",
        "Mini-Batch K-Means",
        _sk("clusterlab.cluster.minibatch", "MiniBatchKMeans"),
        "clusterlab MiniBatchKMeans (numba, shared k-means kernels)",
        True,
        "n_clusters",
        True,
        "O(n·k)",
        search_space={"n_clusters": _K_SPACE, "batch_size": [256, 1024, 4096]},
        warm_init=True,
    ),
    ModelEntry(
        "bisecting",
        "Bisecting K-Means",
        _sk("clusterlab.cluster.bisecting", "BisectingKMeans"),
        "clusterlab BisectingKMeans (numba, shared k-means kernels)",
        True,
        "n_clusters",
        True,
        "O(n·k)",
        search_space={
            "n_clusters": _K_SPACE,
            "bisecting_strategy": ["biggest_inertia", "largest_cluster"],
        },
    ),
    ModelEntry(
        "dbscan",
        "Density-Based Spatial Clustering",
        _sk("clusterlab.cluster.dbscan", "DBSCAN"),
        "clusterlab DBSCAN (numba grid / kd-tree, O(n) memory; predict: nearest core point)",
        True,
        "eps",
        False,
        "O(n)",
        turbo_max_n=50_000,
        search_space={"eps": [], "min_samples": [3, 5, 10, 20]},
        random_state_param=None,
        uses_noise=True,
    ),
    ModelEntry(
        "hdbscan",
        "HDBSCAN",
        _sk("clusterlab.cluster.hdbscan", "HDBSCAN"),
        "clusterlab HDBSCAN (numba Borůvka; approximate predict)",
        True,
        "min_cluster_size",
        False,
        "O(n)",
        turbo_max_n=20_000,
        search_space={"min_cluster_size": [5, 10, 20, 50, 100], "min_samples": [None, 5, 10]},
        random_state_param=None,
        uses_noise=True,
    ),
    ModelEntry(
        "optics",
        "OPTICS Clustering",
        _sk("clusterlab.cluster.optics", "OPTICS"),
        "clusterlab OPTICS (numba kd-tree / heap ordering; predict: nearest ordered point)",
        True,
        "min_samples",
        False,
        "O(n)",
        turbo_max_n=5_000,
        search_space={"min_samples": [5, 10, 20, 50], "xi": [0.01, 0.05, 0.1]},
        random_state_param=None,
        uses_noise=True,
    ),
    ModelEntry(
        "hclust",
        "Agglomerative Clustering",
        _sk("sklearn.cluster", "AgglomerativeClustering"),
        _sk_text("AgglomerativeClustering") + "; predict: 5-NN vote",
        False,
        "n_clusters",
        True,
        "O(n²)",
        turbo_max_n=10_000,
        search_space={"n_clusters": _K_SPACE, "linkage": ["ward", "complete", "average"]},
        random_state_param=None,
    ),
    ModelEntry(
        "birch",
        "Birch Clustering",
        _sk("sklearn.cluster", "Birch"),
        _sk_text("Birch"),
        True,
        "n_clusters",
        True,
        "O(n)",
        turbo_max_n=50_000,
        search_space={"n_clusters": _K_SPACE, "threshold": [0.1, 0.3, 0.5, 1.0]},
        random_state_param=None,
    ),
    ModelEntry(
        "ap",
        "Affinity Propagation",
        _sk("sklearn.cluster", "AffinityPropagation"),
        _sk_text("AffinityPropagation"),
        True,
        "preference",
        False,
        "O(n²)",
        turbo_max_n=3_000,
        search_space={"damping": [0.5, 0.7, 0.9]},
    ),
    ModelEntry(
        "meanshift",
        "Mean Shift Clustering",
        _sk("sklearn.cluster", "MeanShift", bin_seeding=True),
        _sk_text("MeanShift"),
        True,
        "bandwidth",
        False,
        "O(n)",
        turbo_max_n=10_000,
        search_space={"bandwidth": []},
        random_state_param=None,
    ),
    ModelEntry(
        "sc",
        "Spectral Clustering",
        _sk("sklearn.cluster", "SpectralClustering"),
        _sk_text("SpectralClustering") + "; predict: 5-NN vote",
        False,
        "n_clusters",
        True,
        "O(n²)",
        turbo_max_n=5_000,
        search_space={"n_clusters": _K_SPACE, "affinity": ["rbf", "nearest_neighbors"]},
    ),
    ModelEntry(
        "gmm",
        "Gaussian Mixture",
        _sk("sklearn.mixture", "GaussianMixture"),
        _sk_text("GaussianMixture"),
        True,
        "n_components",
        True,
        "O(n·k)",
        search_space={"n_components": _K_SPACE, "covariance_type": ["full", "diag", "tied"]},
    ),
]

#: id -> entry, in display order.
REGISTRY: dict[str, ModelEntry] = {e.id: e for e in _ENTRIES}


def get_entry(model_id: str) -> ModelEntry:
    """The entry for ``model_id``; an unknown id is a ValueError with a did-you-mean suggestion.

    Examples
    --------
    >>> get_entry("kmeans").key_param
    'n_clusters'
    """
    if not isinstance(model_id, str):
        raise TypeError(f"model must be a model id (str) or an estimator; got {model_id!r}")
    entry = REGISTRY.get(model_id.lower())
    if entry is None:
        close = difflib.get_close_matches(model_id.lower(), list(REGISTRY), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"model {model_id!r} is not a known model id{hint} (known: {', '.join(REGISTRY)})"
        )
    return entry


def registry_frame() -> Any:
    """The registry as a DataFrame indexed by id (what ``models()`` returns)."""
    import pandas as pd

    rows = [
        {
            "ID": e.id,
            "Name": e.name,
            "Implementation": e.implementation,
            "Native predict": e.native_predict,
            "Needs k": e.needs_k,
            "Key parameter": e.key_param,
            "Memory": e.memory,
        }
        for e in REGISTRY.values()
    ]
    return pd.DataFrame(rows).set_index("ID")


# --------------------------------------------------------------------------------------------
# Out-of-sample rules
# --------------------------------------------------------------------------------------------


class NativePredict:
    """Label new points with the estimator's own ``predict``."""

    name = "predict"

    def fit(self, estimator: Any, X: np.ndarray, labels: np.ndarray) -> NativePredict:
        return self

    def predict(self, estimator: Any, X: np.ndarray) -> np.ndarray:
        return np.asarray(estimator.predict(X), dtype=np.int64)


class NearestCore:
    """DBSCAN membership: the nearest core sample's label when within ``eps``, else noise.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.cluster import DBSCAN
    >>> X = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]])
    >>> est = DBSCAN(eps=0.3, min_samples=2).fit(X)
    >>> rule = NearestCore().fit(est, X, est.labels_)
    >>> rule.predict(est, np.array([[0.05], [2.5], [5.3]])).tolist()
    [0, -1, 1]
    """

    name = "nearest core sample within eps"

    def fit(self, estimator: Any, X: np.ndarray, labels: np.ndarray) -> NearestCore:
        core = np.asarray(estimator.core_sample_indices_, dtype=np.int64)
        self.core_points_ = np.asarray(X)[core]
        self.core_labels_ = np.asarray(labels, dtype=np.int64)[core]
        self.eps_ = float(estimator.eps)
        return self

    def predict(self, estimator: Any, X: np.ndarray) -> np.ndarray:
        from sklearn.neighbors import NearestNeighbors

        out = np.full(X.shape[0], NOISE, dtype=np.int64)
        if len(self.core_points_) == 0:
            return out
        nn = NearestNeighbors(n_neighbors=1).fit(self.core_points_)
        dist, idx = nn.kneighbors(X)
        near = dist[:, 0] <= self.eps_
        out[near] = self.core_labels_[idx[near, 0]]
        return out


class KNNVote:
    """Distance-weighted vote of the ``k`` nearest training points (noise is a candidate).

    A point at distance 0 from a training point takes that point's label, so training points
    keep their labels.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]])
    >>> rule = KNNVote(k=3).fit(None, X, np.array([0, 0, 0, 1, 1, 1]))
    >>> rule.predict(None, np.array([[0.0], [4.0]])).tolist()
    [0, 1]
    """

    name = "distance-weighted 5-NN vote"

    def __init__(self, k: int = 5) -> None:
        self.k = k

    def fit(self, estimator: Any, X: np.ndarray, labels: np.ndarray) -> KNNVote:
        self.points_ = np.asarray(X)
        self.labels_ = np.asarray(labels, dtype=np.int64)
        return self

    def predict(self, estimator: Any, X: np.ndarray) -> np.ndarray:
        from sklearn.neighbors import NearestNeighbors

        k = min(self.k, len(self.points_))
        dist, idx = NearestNeighbors(n_neighbors=k).fit(self.points_).kneighbors(X)
        classes = np.unique(self.labels_)
        votes = np.zeros((X.shape[0], classes.size))
        exact = dist[:, 0] == 0
        with np.errstate(divide="ignore"):
            weights = np.where(dist > 0, 1.0 / np.maximum(dist, 1e-300), 0.0)
        # an exact match decides alone
        weights[exact] = 0.0
        weights[exact, 0] = 1.0
        col = np.searchsorted(classes, self.labels_[idx])
        for j in range(k):
            np.add.at(votes, (np.arange(X.shape[0]), col[:, j]), weights[:, j])
        return classes[np.argmax(votes, axis=1)].astype(np.int64)


class NearestCentre:
    """Label of the nearest of a set of centres (how a saved Birch model predicts).

    Used when a model file cannot hold the estimator itself (skops does not store Birch's tree):
    Birch's ``predict`` is exactly the label of the nearest subcluster centre.
    """

    name = "nearest subcluster centre"

    def fit(self, estimator: Any, X: np.ndarray, labels: np.ndarray) -> NearestCentre:
        self.centres_ = np.asarray(estimator.subcluster_centers_, dtype=np.float64)
        self.centre_labels_ = np.asarray(estimator.subcluster_labels_, dtype=np.int64)
        return self

    def predict(self, estimator: Any, X: np.ndarray) -> np.ndarray:
        from sklearn.metrics import pairwise_distances_argmin

        return self.centre_labels_[pairwise_distances_argmin(X, self.centres_)]


def out_of_sample_rule(estimator: Any) -> NativePredict | NearestCore | KNNVote:
    """The unfitted rule used to label new points for ``estimator`` (see the module docstring)."""
    if hasattr(estimator, "predict"):
        return NativePredict()
    if hasattr(estimator, "core_sample_indices_") and hasattr(estimator, "eps"):
        return NearestCore()
    return KNNVote(k=5)
