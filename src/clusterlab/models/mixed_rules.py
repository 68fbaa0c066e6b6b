"""How saved k-prototypes and Gower k-medoids models predict: data-only rules.

A model file holds what skops can store. The fitted KPrototypes and Gower KMedoids keep their
categories as plain arrays, which it stores; categories that skops cannot store (objects other
than strings, numbers, booleans and None) leave the estimator out of the file, and their
registry entries name these rules instead: each keeps only arrays read from the fitted model and
labels rows as the model's own ``predict`` does, on the numbers setup's raw view gives them
(:mod:`clusterlab.workflow.categories`: numeric columns and category codes, all float64).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["NearestGowerMedoid", "NearestPrototype"]

_PUBLIC_MODULE = "clusterlab.models"


class NearestPrototype:
    """Label of the nearest k-prototypes centroid: squared Euclidean distance on the numeric
    columns plus ``gamma_`` per categorical column that differs from the mode (ties to the
    lowest cluster), as ``KPrototypes.predict``; a category no mode has differs from every mode.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.cluster import KPrototypes
    >>> X = np.array([[0.0, 1.0], [0.2, 1.0], [5.0, 0.0], [5.2, 0.0], [0.1, 0.0]])
    >>> kp = KPrototypes(n_clusters=2, categorical=[1], random_state=0).fit(X)
    >>> rule = NearestPrototype().fit(kp, X, kp.labels_)
    >>> bool((rule.predict(None, X) == kp.predict(X)).all())
    True
    """

    __module__ = _PUBLIC_MODULE
    name = "nearest prototype"
    label = "nearest prototype"

    def fit(self, estimator: Any, X: Any, labels: Any) -> NearestPrototype:
        centroids = np.asarray(estimator.cluster_centroids_, dtype=object)
        categorical = np.asarray(estimator.categorical_, dtype=np.int64)
        numeric = np.setdiff1d(np.arange(centroids.shape[1]), categorical)
        self.numeric_ = numeric
        self.categorical_ = categorical
        self.means_ = centroids[:, numeric].astype(np.float64)
        self.modes_ = centroids[:, categorical].astype(np.float64)
        self.gamma_ = float(estimator.gamma_)
        return self

    def predict(self, estimator: Any, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        Xnum, Xcat = X[:, self.numeric_], X[:, self.categorical_]
        cost = np.empty((len(X), len(self.means_)))
        for c in range(len(self.means_)):
            squares = ((Xnum - self.means_[c]) ** 2).sum(axis=1)
            cost[:, c] = squares + self.gamma_ * np.count_nonzero(Xcat != self.modes_[c], axis=1)
        return np.argmin(cost, axis=1).astype(np.int64)


class NearestGowerMedoid:
    """Label of the nearest medoid under Gower's distance, as ``KMedoids.predict`` with
    ``metric=GowerDistance(...)``: per column ``min(|a - b| / range, 1)`` (ranges of the fit)
    or 0 / 1 for equal / different categories, weighted and averaged; ties to the lowest
    cluster. Rows are finite numbers (setup's raw view imputes missing values).

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import GowerDistance
    >>> from clusterlab.cluster import KMedoids
    >>> X = np.array([[0.0, 1.0], [0.2, 1.0], [5.0, 0.0], [5.2, 0.0], [0.1, 0.0]])
    >>> km = KMedoids(2, metric=GowerDistance(categorical=[1]), random_state=0).fit(X)
    >>> rule = NearestGowerMedoid().fit(km, X, km.labels_)
    >>> bool((rule.predict(None, X) == km.predict(X)).all())
    True
    """

    __module__ = _PUBLIC_MODULE
    name = "nearest medoid (Gower)"
    label = "nearest medoid (Gower)"

    def fit(self, estimator: Any, X: Any, labels: Any) -> NearestGowerMedoid:
        encoding = estimator._gower  # the fitted ranges, kinds and weights of its Gower distance
        self.order_ = np.asarray(encoding.order, dtype=np.int64)
        self.n_interval_ = int(encoding.n_interval)
        self.low_ = np.asarray(encoding.low, dtype=np.float64)[: self.n_interval_]
        self.scale_ = np.asarray(encoding.scale, dtype=np.float64)[: self.n_interval_]
        self.weights_ = np.asarray(encoding.weights, dtype=np.float64)
        self.medoids_ = self._encode(np.asarray(estimator.cluster_centers_, dtype=np.float64))
        return self

    def _encode(self, X: np.ndarray) -> np.ndarray:
        out = X[:, self.order_].astype(np.float64)
        out[:, : self.n_interval_] = (out[:, : self.n_interval_] - self.low_) * self.scale_
        return out

    def predict(self, estimator: Any, X: np.ndarray) -> np.ndarray:
        A = self._encode(np.asarray(X, dtype=np.float64))
        m, w = self.n_interval_, self.weights_
        dist = np.empty((len(A), len(self.medoids_)))
        for c, medoid in enumerate(self.medoids_):
            interval = np.minimum(np.abs(A[:, :m] - medoid[:m]), 1.0) @ w[:m]
            nominal = (A[:, m:] != medoid[m:]) @ w[m:]
            dist[:, c] = (interval + nominal) / w.sum()
        return np.argmin(dist, axis=1).astype(np.int64)
