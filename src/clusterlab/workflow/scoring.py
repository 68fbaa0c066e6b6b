"""Scoring a labelling: the metrics an experiment uses, and the sampling rule.

Metrics are computed on the rows in clusters (noise left out) of the prepared training data; an
O(n²) metric (Silhouette) uses a random sample of ``sample_size`` rows above that size and the
metrics row says so in its ``Note``. On data with categorical columns the Silhouette of every
model is Gower's (:func:`clusterlab.metrics.gower_silhouette_score` on setup's raw view of the
categorical columns, :mod:`clusterlab.workflow.categories`), so that models of one-hot features
and models of categories are scored with one distance; the ``Note`` says so. A metric that
cannot be computed (one cluster only) is NaN, never 0, with the reason in ``Note``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from clusterlab._base import NOISE

__all__ = ["DEFAULT_METRICS", "PYCARET_METRIC_IDS", "MetricSet", "score"]

#: Metric ids an experiment scores with by default (internal, then external indices).
DEFAULT_METRICS = (
    "silhouette",
    "calinski_harabasz",
    "davies_bouldin",
    "ari",
    "ami",
    "homogeneity",
    "completeness",
)


#: PyCaret 3's clustering metric ids, and the metric each names here (PyCaret's ``'ari'`` is
#: the adjusted Rand index, which PyCaret displays as "Rand Index").
PYCARET_METRIC_IDS = {
    "silhouette": "silhouette",
    "chs": "calinski_harabasz",
    "db": "davies_bouldin",
    "hs": "homogeneity",
    "ari": "ari",
    "cs": "completeness",
}


class MetricSet:
    """The metrics an experiment scores with: records of :mod:`clusterlab.metrics`' registry
    and the custom metrics added to it, by id. PyCaret's metric ids
    (:data:`PYCARET_METRIC_IDS`) name the same metrics."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Back to the default metrics: custom ones dropped, removed ones back."""
        from clusterlab.metrics import get_metric

        self._metrics: dict[str, Any] = {name: get_metric(name) for name in DEFAULT_METRICS}

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._metrics.values()))

    def _key(self, name: str) -> str | None:
        """The id in use that ``name`` (an id, a PyCaret id, a display name) names, else None."""
        if not isinstance(name, str):
            raise TypeError(f"a metric is named by its id or display name (a str); got {name!r}")
        name = PYCARET_METRIC_IDS.get(name, name)
        for key, m in self._metrics.items():
            if name in (key, m.display_name) or name.lower() == m.display_name.lower():
                return key
        return None

    def find(self, name: str) -> Any:
        """A metric in use by id, PyCaret id or display name, else any metric of
        clusterlab.metrics."""
        from clusterlab.metrics import get_metric

        key = self._key(name)
        if key is not None:
            return self._metrics[key]
        return get_metric(PYCARET_METRIC_IDS.get(name, name))

    def add(
        self,
        id: str,
        name: str,
        score_func: Callable[..., float],
        greater_is_better: bool = True,
        needs_ground_truth: bool = False,
        **kwargs: Any,
    ) -> None:
        """Add ``score_func(X, labels, **kwargs)`` (``score_func(y, labels, **kwargs)`` with
        ground truth)."""
        if not isinstance(id, str) or not id:
            raise ValueError(f"id must be a non-empty str; got {id!r}")
        if id in self._metrics or id in PYCARET_METRIC_IDS:
            raise ValueError(f"id {id!r} is already a metric; remove_metric({id!r}) first")
        if not callable(score_func):
            raise TypeError(f"score_func must be callable; got {score_func!r}")
        from clusterlab.metrics import Metric

        function = functools.partial(score_func, **kwargs) if kwargs else score_func
        # a custom metric is scored on every row (cost O(n)): it is never sampled
        self._metrics[id] = Metric(
            id,
            str(name),
            function,
            greater_is_better=bool(greater_is_better),
            needs_ground_truth=bool(needs_ground_truth),
            cost="O(n)",
            needs_features=not needs_ground_truth,
        )

    def remove(self, name_or_id: str) -> None:
        """Remove a metric by id, PyCaret id or display name."""
        key = self._key(name_or_id)
        if key is None:
            raise ValueError(
                f"metric {name_or_id!r} is not in use (in use: {', '.join(self._metrics)})"
            )
        del self._metrics[key]

    def custom(self) -> list[str]:
        """Ids of the metrics added to this set (they are code: files do not keep them)."""
        return [key for key, m in self._metrics.items() if _is_custom(m)]

    def criteria(self, has_truth: bool) -> list[tuple[str, bool]]:
        """(display name, greater is better) of the internal indices, or of the external ones
        when there is ground truth."""
        return [
            (m.display_name, m.greater_is_better)
            for m in self._metrics.values()
            if m.needs_ground_truth == has_truth
        ]

    def table(self, include_custom: bool = True) -> pd.DataFrame:
        """The metrics in use, indexed by id (what ``get_metrics()`` returns); PyCaret's id of
        each in ``PyCaret ID``."""
        pycaret_ids = {ours: theirs for theirs, ours in PYCARET_METRIC_IDS.items()}
        rows = [
            {
                "ID": key,
                "Name": m.display_name,
                "PyCaret ID": pycaret_ids.get(key, ""),
                "Score Function": m.function,
                "Greater is better": m.greater_is_better,
                "Needs ground truth": m.needs_ground_truth,
                "Cost": m.cost,
                "Custom": _is_custom(m),
            }
            for key, m in self._metrics.items()
        ]
        table = pd.DataFrame(rows).set_index("ID")
        return table if include_custom else table[~table["Custom"]]


def _is_custom(metric: Any) -> bool:
    """Whether ``metric`` was added to an experiment rather than taken from the registry."""
    from clusterlab.metrics import get_metric

    try:
        return get_metric(metric.name) is not metric
    except ValueError:
        return True


def score(
    X: np.ndarray,
    labels: np.ndarray,
    y: np.ndarray | None,
    metrics: MetricSet,
    *,
    sample_size: int,
    seed: int | None,
    gower: tuple[np.ndarray, tuple[int, ...]] | None = None,
) -> dict[str, Any]:
    """Every metric of ``metrics`` for one labelling, with ``Clusters``, ``Noise``, ``Largest
    segment`` and ``Note`` (internal indices on the rows in clusters, sampled above
    ``sample_size`` rows when they cost O(n²)); with ``gower`` (rows and the positions of
    their categorical columns), the Silhouette under Gower's distance on those rows."""
    notes: list[str] = []
    in_cluster = labels != NOISE
    n_clusters = int(np.unique(labels[in_cluster]).size)
    row: dict[str, Any] = {}
    Xc, lc = X[in_cluster], labels[in_cluster]
    for m in metrics:
        if m.needs_ground_truth:
            if y is not None:
                row[m.display_name] = _value(m, notes, y, labels)
            continue
        if n_clusters < 2 or n_clusters >= len(lc):
            row[m.display_name] = math.nan
            continue
        if gower is not None and m.name == "silhouette":
            row[m.display_name] = _gower_silhouette(
                m, notes, gower, labels, sample_size=sample_size, seed=seed
            )
            continue
        Xm, lm = Xc, lc
        if m.cost == "O(n²)" and len(lc) > sample_size:
            Xm, lm = _sample(Xc, lc, sample_size, seed)
            if np.unique(lm).size < 2:
                Xm, lm = Xc, lc
            else:
                notes.append(f"{m.display_name} on a {sample_size:,}-row sample")
        row[m.display_name] = _value(m, notes, Xm, lm)
    if n_clusters < 2:
        notes.append(f"{n_clusters} cluster(s): internal indices undefined")
    row["Clusters"] = n_clusters
    row["Noise"] = float(np.mean(~in_cluster))
    sizes = np.bincount(labels[in_cluster]) if n_clusters else np.zeros(1)
    row["Largest segment"] = float(sizes.max() / len(labels))
    row["Note"] = "; ".join(notes)
    return row


def _gower_silhouette(
    metric: Any,
    notes: list[str],
    gower: tuple[np.ndarray, tuple[int, ...]],
    labels: np.ndarray,
    *,
    sample_size: int,
    seed: int | None,
) -> float:
    from clusterlab.metrics import gower_silhouette_score

    rows, categorical = gower
    sampled = int(np.count_nonzero(labels != NOISE)) > sample_size
    notes.append(f"{metric.display_name} with Gower's distance (categorical columns as categories)")
    if sampled:
        notes.append(f"{metric.display_name} on a {sample_size:,}-row sample")

    def gower_score(X: np.ndarray, lab: np.ndarray) -> float:
        return gower_silhouette_score(
            X,
            lab,
            categorical=list(categorical),
            sample_size=sample_size if sampled else None,
            random_state=seed,
        )

    return _value(_Named(metric.display_name, gower_score), notes, rows, labels)


@dataclass(frozen=True)
class _Named:
    display_name: str
    function: Callable[[np.ndarray, np.ndarray], float]


def _sample(
    X: np.ndarray, labels: np.ndarray, size: int, seed: int | None
) -> tuple[np.ndarray, np.ndarray]:
    rows = np.random.default_rng(seed).choice(len(labels), size, replace=False)
    return X[rows], labels[rows]


def _value(metric: Any, notes: list[str], first: Any, labels: np.ndarray) -> float:
    """The metric's value; a failure is NaN with the reason in the notes, never 0."""
    try:
        return float(metric.function(first, labels))
    except Exception as exc:  # a metric failure is shown, never turned into 0
        notes.append(f"{metric.display_name}: {exc}")
        return math.nan
