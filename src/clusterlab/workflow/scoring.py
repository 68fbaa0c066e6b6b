"""Scoring a labelling: the metrics an experiment uses, and the sampling rule.

Metrics are computed on the rows in clusters (noise left out) of the prepared training data; an
O(n²) metric (Silhouette) uses a random sample of ``sample_size`` rows above that size and the
metrics row says so in its ``Note``. A metric that cannot be computed (one cluster only) is NaN,
never 0, with the reason in ``Note``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from clusterlab._base import NOISE

__all__ = ["DEFAULT_METRICS", "MetricSet", "score"]

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


class MetricSet:
    """The metrics an experiment scores with: records of :mod:`clusterlab.metrics`' registry
    and the custom metrics added to it, by id."""

    def __init__(self) -> None:
        from clusterlab.metrics import get_metric

        self._metrics: dict[str, Any] = {name: get_metric(name) for name in DEFAULT_METRICS}

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._metrics.values()))

    def find(self, name: str) -> Any:
        """A metric in use by id or display name, else any metric of clusterlab.metrics."""
        from clusterlab.metrics import get_metric

        for key, m in self._metrics.items():
            if name in (key, m.display_name) or name.lower() == m.display_name.lower():
                return m
        return get_metric(name)

    def add(
        self,
        id: str,
        name: str,
        score_func: Callable[..., float],
        greater_is_better: bool = True,
        needs_ground_truth: bool = False,
    ) -> None:
        """Add ``score_func(X, labels)`` (``score_func(y, labels)`` with ground truth)."""
        if not isinstance(id, str) or not id:
            raise ValueError(f"id must be a non-empty str; got {id!r}")
        if id in self._metrics:
            raise ValueError(f"id {id!r} is already a metric; remove_metric({id!r}) first")
        if not callable(score_func):
            raise TypeError(f"score_func must be callable; got {score_func!r}")
        from clusterlab.metrics import Metric

        # a custom metric is scored on every row (cost O(n)): it is never sampled
        self._metrics[id] = Metric(
            id,
            str(name),
            score_func,
            greater_is_better=bool(greater_is_better),
            needs_ground_truth=bool(needs_ground_truth),
            cost="O(n)",
            needs_features=not needs_ground_truth,
        )

    def remove(self, name_or_id: str) -> None:
        """Remove a metric by id or display name."""
        for key, m in list(self._metrics.items()):
            if name_or_id in (key, m.display_name):
                del self._metrics[key]
                return
        raise ValueError(
            f"metric {name_or_id!r} is not in use (in use: {', '.join(self._metrics)})"
        )

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

    def table(self) -> pd.DataFrame:
        """The metrics in use, indexed by id (what ``get_metrics()`` returns)."""
        rows = [
            {
                "ID": m.name,
                "Name": m.display_name,
                "Greater is better": m.greater_is_better,
                "Needs ground truth": m.needs_ground_truth,
                "Cost": m.cost,
                "Custom": _is_custom(m),
            }
            for m in self._metrics.values()
        ]
        return pd.DataFrame(rows).set_index("ID")


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
) -> dict[str, Any]:
    """Every metric of ``metrics`` for one labelling, with ``Clusters``, ``Noise``, ``Largest
    segment`` and ``Note`` (internal indices on the rows in clusters, sampled above
    ``sample_size`` rows when they cost O(n²))."""
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
