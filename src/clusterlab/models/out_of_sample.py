"""How a fitted model labels a point it has not seen: the out-of-sample rules.

Labelling new data (``predict_model``, and rows that setup left out of training) goes through
one of these rules, chosen by :func:`rule_for`:

- the estimator's own ``predict`` when it has one (:class:`NativePredict`: the k-means family,
  Birch, GMM, MeanShift, AffinityPropagation and every clusterlab estimator);
- DBSCAN without ``predict``: the label of the nearest core sample when it lies within ``eps``,
  else noise (-1) -- the definition of DBSCAN membership (:class:`NearestCore`);
- everything else (hierarchical, spectral, any estimator without ``predict``): a vote of the
  ``k = 5`` nearest training points weighted by inverse distance, so a training point keeps its
  own label; noise wins when the noise votes outweigh every cluster (:class:`KNNVote`).

:class:`NearestCentre` is how a saved Birch model predicts (skops cannot store Birch's tree),
:class:`NearestMode` how a saved k-modes model does (its fitted state keeps pandas objects).

A rule is fitted on the training rows and their labels (``fit(estimator, X, labels)``) and then
labels new rows (``predict(estimator, X)``); it holds only arrays, so model files can store it.
The classes are public as ``clusterlab.models.<Name>``, the name model files record.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from clusterlab._base import NOISE
from clusterlab.models.mixed_rules import NearestGowerMedoid, NearestPrototype

__all__ = [
    "RULES",
    "KNNVote",
    "NativePredict",
    "NearestCentre",
    "NearestCore",
    "NearestGowerMedoid",
    "NearestMode",
    "NearestPrototype",
    "rule_for",
]

#: The module model files name the rules by (files written before the registry package too).
_PUBLIC_MODULE = "clusterlab.models"


class NativePredict:
    """Label new points with the estimator's own ``predict``."""

    __module__ = _PUBLIC_MODULE
    name = "predict"
    label = "own predict"

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

    __module__ = _PUBLIC_MODULE
    name = "nearest core sample within eps"
    label = "nearest core point"

    @staticmethod
    def applies(estimator: Any) -> bool:
        """Whether ``estimator`` is fitted DBSCAN-like (core samples and an ``eps``)."""
        return hasattr(estimator, "core_sample_indices_") and hasattr(estimator, "eps")

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

    __module__ = _PUBLIC_MODULE
    name = "distance-weighted 5-NN vote"
    label = "5-NN vote"

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

    __module__ = _PUBLIC_MODULE
    name = "nearest subcluster centre"
    label = "nearest subcluster centre"

    def fit(self, estimator: Any, X: np.ndarray, labels: np.ndarray) -> NearestCentre:
        self.centres_ = np.asarray(estimator.subcluster_centers_, dtype=np.float64)
        self.centre_labels_ = np.asarray(estimator.subcluster_labels_, dtype=np.int64)
        return self

    def predict(self, estimator: Any, X: np.ndarray) -> np.ndarray:
        from sklearn.metrics import pairwise_distances_argmin

        return self.centre_labels_[pairwise_distances_argmin(X, self.centres_)]


class NearestMode:
    """Label of the mode a row differs from in the fewest columns, ties to the lowest cluster
    (how a saved k-modes model predicts: ``KModes.predict`` exactly, on numeric columns).

    Used when a model file cannot hold the estimator itself (categories that skops cannot
    store); a value no mode has counts as one mismatch with every mode, as in
    ``KModes.predict``.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.cluster import KModes
    >>> X = np.array([[0.0, 1.0], [0.0, 1.0], [2.0, 3.0], [2.0, 3.0], [2.0, 1.0]])
    >>> est = KModes(n_clusters=2).fit(X)
    >>> rule = NearestMode().fit(est, X, est.labels_)
    >>> bool((rule.predict(None, X) == est.predict(X)).all())
    True
    """

    __module__ = _PUBLIC_MODULE
    name = "nearest mode"
    label = "nearest mode"

    def fit(self, estimator: Any, X: np.ndarray, labels: np.ndarray) -> NearestMode:
        self.modes_ = np.asarray(estimator.cluster_centroids_, dtype=np.float64)
        return self

    def predict(self, estimator: Any, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        mismatches = np.empty((len(X), len(self.modes_)), dtype=np.int64)
        for j, mode in enumerate(self.modes_):
            mismatches[:, j] = np.count_nonzero(np.not_equal(X, mode), axis=1)
        return np.argmin(mismatches, axis=1).astype(np.int64)


#: Every rule class (what a model file may hold besides the estimator).
RULES = (
    NativePredict,
    NearestCore,
    KNNVote,
    NearestCentre,
    NearestMode,
    NearestPrototype,
    NearestGowerMedoid,
)

Rule = (
    NativePredict
    | NearestCore
    | KNNVote
    | NearestCentre
    | NearestMode
    | NearestPrototype
    | NearestGowerMedoid
)


def rule_for(estimator: Any, fallback: type | None = None) -> Rule:
    """The unfitted rule that labels new points for ``estimator``.

    Its own ``predict`` when it has one; else ``fallback()`` (the rule its registry entry names);
    else, for an estimator outside the registry, DBSCAN membership when it is DBSCAN-like and the
    5-NN vote otherwise.
    """
    if hasattr(estimator, "predict"):
        return NativePredict()
    if fallback is not None:
        return fallback()
    return NearestCore() if NearestCore.applies(estimator) else KNNVote(k=5)
