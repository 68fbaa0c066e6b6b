"""Anomaly scores for new rows, one at a time, on the scale of :func:`anomaly_scores`.

:func:`~clusterlab.insight.anomaly_scores` standardises raw scores against the rows it is given,
which is right for the fitted data and wrong for a scoring service that sees one new customer at
a time. :class:`AnomalyScorer` is fitted once on the rows the model was fitted on and keeps what
scoring needs: the raw measure's median and robust scale there, and the measure's own state. A new
row's score then depends on that row only (not on the rows sent with it).

Raw measure by model (higher = more anomalous):

=============================  =============================================================
model                          raw measure of a new row
=============================  =============================================================
mixture (``score_samples``)    negative log-likelihood
centres (``cluster_centers_``)  distance to the nearest centre / that centre's spread (the median
                               such distance of the fitted rows nearest to it)
density (DBSCAN, HDBSCAN,      distance to the ``min_samples``-th nearest fitted row (the core
OPTICS)                        distance), against at most :data:`MAX_REFERENCE` fitted rows
other models with ``labels_``  as for centres, each cluster's mean being its centre
=============================  =============================================================

On the fitted rows the scores equal ``anomaly_scores(model, X)`` for centre, mixture and DBSCAN /
OPTICS models (for HDBSCAN, ``anomaly_scores`` reads GLOSH, which is not defined for a new row
without refitting; the scorer uses the core distance instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from clusterlab.insight._common import as_labels
from clusterlab.insight.anomalies import (
    DEFAULT_MIN_SAMPLES,
    _as_matrix,
    _label_means,
    _min_samples,
    calibration,
    centre_spread,
    logistic_scores,
)

__all__ = ["MAX_REFERENCE", "MEASURES", "AnomalyScorer"]

#: The raw measures (see the module docstring).
MEASURES = ("centre", "likelihood", "core distance")
#: Fitted rows kept (a random sample above this) to measure the core distance of new rows.
MAX_REFERENCE = 5_000


@dataclass(frozen=True, eq=False)
class AnomalyScorer:
    """Scores new rows in [0, 1] (above 0.5: an anomaly) against the data a model was fitted on.

    Build it with :meth:`fit`; :meth:`to_record` / :meth:`from_record` turn it into plain numbers
    and arrays (what a model file stores).

    Attributes
    ----------
    measure : str
        One of :data:`MEASURES`.
    median, scale : float
        Median and robust scale of the raw measure on the fitted rows.
    centres, spread : ndarray or None
        The centres and their spreads (``measure='centre'``).
    reference : ndarray or None
        The fitted rows (or a sample) new rows are measured against (``'core distance'``).
    k : int or None
        The neighbour whose distance is the core distance (counting a row itself).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.cluster import KMeans
    >>> from clusterlab.insight import AnomalyScorer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2))
    >>> model = KMeans(3, n_init=3, random_state=0).fit(X)
    >>> scorer = AnomalyScorer.fit(model, X)
    >>> scores = scorer.score([[0.1, -0.2], [9.0, 9.0]])
    >>> (scores > 0.5).tolist()
    [False, True]
    """

    measure: str
    median: float
    scale: float
    centres: np.ndarray | None = None
    spread: np.ndarray | None = None
    reference: np.ndarray | None = None
    k: int | None = None

    @classmethod
    def fit(cls, model: Any, X: Any, *, random_state: int = 0) -> AnomalyScorer:
        """Calibrate on ``X``, the prepared rows ``model`` was fitted on (in the same order as its
        ``labels_``)."""
        X = _as_matrix(X)
        measure = _measure_of(model)
        if measure == "likelihood":
            raw = -np.asarray(model.score_samples(X), dtype=np.float64)
            return cls(measure, *calibration(raw))
        if measure == "core distance":
            reference = _sample(X, MAX_REFERENCE, random_state)
            k = min(_min_samples(model) or DEFAULT_MIN_SAMPLES, len(reference))
            raw = cls(measure, 0.0, 0.0, reference=reference, k=k).raw_scores(reference)
            return cls(measure, *calibration(raw), reference=reference, k=k)
        centres = getattr(model, "cluster_centers_", None)
        if centres is None:
            centres = _label_means(X, as_labels(model.labels_, X.shape[0]))
        centres = np.asarray(centres, dtype=np.float64)
        spread = centre_spread(X, centres)
        scorer = cls(measure, 0.0, 0.0, centres=centres, spread=spread)
        return cls(measure, *calibration(scorer.raw_scores(X)), centres=centres, spread=spread)

    def raw_scores(self, X: Any, model: Any = None) -> np.ndarray:
        """The raw measure of each row of ``X`` (``model`` is needed for ``'likelihood'``)."""
        X = _as_matrix(X)
        if self.measure == "likelihood":
            if model is None:
                raise ValueError("the likelihood measure needs the fitted mixture: pass model=")
            return -np.asarray(model.score_samples(X), dtype=np.float64)
        if self.measure == "core distance":
            self._check_width(X, self.reference)
            distances, _ = self._neighbours.kneighbors(X, n_neighbors=self.k)
            return distances[:, -1]
        self._check_width(X, self.centres)
        nearest, distance = _nearest_centre(X, self.centres)
        return distance / self.spread[nearest]

    def score(self, X: Any, model: Any = None) -> np.ndarray:
        """Anomaly scores in [0, 1] of the rows of ``X``; each depends on its own row only."""
        return logistic_scores(self.raw_scores(X, model), self.median, self.scale)

    @cached_property
    def _neighbours(self) -> Any:
        from sklearn.neighbors import NearestNeighbors

        return NearestNeighbors().fit(self.reference)

    @staticmethod
    def _check_width(X: np.ndarray, fitted: np.ndarray | None) -> None:
        assert fitted is not None
        if X.shape[1] != fitted.shape[1]:
            raise ValueError(
                f"X has {X.shape[1]} features; the scorer was fitted on {fitted.shape[1]}"
            )

    def to_record(self) -> dict[str, Any]:
        """Plain values and float64 arrays, for a model file."""
        record: dict[str, Any] = {
            "measure": self.measure,
            "median": float(self.median),
            "scale": float(self.scale),
        }
        for name in ("centres", "spread", "reference"):
            value = getattr(self, name)
            if value is not None:
                record[name] = np.asarray(value, dtype=np.float64)
        if self.k is not None:
            record["k"] = int(self.k)
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> AnomalyScorer:
        """The scorer :meth:`to_record` described."""
        if record.get("measure") not in MEASURES:
            raise ValueError(f"unknown anomaly measure {record.get('measure')!r} in the record")
        arrays = {
            name: np.asarray(record[name], dtype=np.float64)
            for name in ("centres", "spread", "reference")
            if record.get(name) is not None
        }
        k = record.get("k")
        return cls(
            record["measure"],
            float(record["median"]),
            float(record["scale"]),
            k=None if k is None else int(k),
            **arrays,
        )


def _measure_of(model: Any) -> str:
    if hasattr(model, "score_samples") and (hasattr(model, "means_") or hasattr(model, "weights_")):
        return "likelihood"
    if getattr(model, "cluster_centers_", None) is not None:
        return "centre"
    density = any(hasattr(model, a) for a in ("core_distances_", "outlier_scores_"))
    if density or _min_samples(model) is not None:
        return "core distance"
    if getattr(model, "labels_", None) is not None:
        return "centre"
    raise ValueError(
        f"{type(model).__name__} is not a fitted clustering model (no labels_, cluster_centers_ "
        "or score_samples): cannot score anomalies"
    )


def _nearest_centre(X: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of and distance to each row's nearest centre, by exact differences in blocks.

    Plain numpy on purpose: a service scores a few rows at a time, where scikit-learn's threaded
    pairwise reduction costs more in start-up than the distances themselves.
    """
    k, d = centres.shape
    block = max(1, (1 << 20) // max(1, k * d))
    nearest = np.empty(X.shape[0], dtype=np.int64)
    distance = np.empty(X.shape[0], dtype=np.float64)
    for start in range(0, X.shape[0], block):
        rows = X[start : start + block]
        squared = ((rows[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        best = squared.argmin(axis=1)
        nearest[start : start + block] = best
        distance[start : start + block] = np.sqrt(squared[np.arange(len(rows)), best])
    return nearest, distance


def _sample(X: np.ndarray, n: int, random_state: int) -> np.ndarray:
    if X.shape[0] <= n:
        return X
    rows = np.random.default_rng(random_state).choice(X.shape[0], size=n, replace=False)
    return X[np.sort(rows)]
