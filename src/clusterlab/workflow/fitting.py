"""From a model id or an estimator to a fitted, scored :class:`FittedModel`.

:func:`resolve` turns what the user passed into an unfitted estimator and the parameters set
(an id gets its registry entry's defaults for the data: k = 4, eps from the k-distance knee,
seeds from ``session_id``); :func:`fit` fits it on the prepared training rows, labels them,
fits the out-of-sample rule and scores the labelling; :func:`create` does both, timed, with the
thread rule for small data.
"""

from __future__ import annotations

import contextlib
import numbers
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from clusterlab.models import REGISTRY, ModelEntry, get_entry, k_param_of, out_of_sample_rule
from clusterlab.preprocessing import SMALL_DATA as _SMALL_DATA
from clusterlab.workflow.prepared import Prepared
from clusterlab.workflow.records import FittedModel, labels_of
from clusterlab.workflow.scoring import MetricSet, score

__all__ = ["SMALL_DATA", "ModelSpec", "create", "fit", "is_estimator", "resolve", "threads_for"]

#: Below this many prepared values (rows x features) models run with one BLAS/OpenMP thread:
#: on small data, starting threads costs more than it saves (20x slower on a loaded 2-core box).
SMALL_DATA = _SMALL_DATA  # the same rule as setup's pipeline fit


@dataclass(frozen=True, eq=False)
class ModelSpec:
    """An unfitted estimator, the id it is shown by, its registry entry and its parameters."""

    model_id: str
    entry: ModelEntry | None
    estimator: Any
    params: dict[str, Any]


def is_estimator(model: Any) -> bool:
    return hasattr(model, "fit") and hasattr(model, "get_params")


def resolve(
    model: Any,
    num_clusters: int | None,
    params: Mapping[str, Any],
    prepared: Prepared,
    search_size: int,
) -> ModelSpec:
    """The estimator for a model id (with its entry's defaults for the data) or a clone of an
    estimator, with ``num_clusters`` set as its k."""
    if isinstance(model, str):
        entry = get_entry(model)
        params = dict(params)
        if num_clusters is not None:
            if not entry.needs_k:
                raise ValueError(
                    f"num_clusters is meaningless for {entry.id!r}: it finds the number of "
                    f"clusters itself (set {entry.key_param} instead)"
                )
            params[entry.key_param] = num_clusters
        params = {**entry.default_params(prepared.context(search_size), params), **params}
        if entry.needs_k:
            check_k(params[entry.key_param], len(prepared.X))
        return ModelSpec(entry.id, entry, entry.factory(**params), params)
    if is_estimator(model):
        from sklearn.base import clone

        est = clone(model)
        params = dict(params)
        if num_clusters is not None:
            key = k_param_of(est)
            if key is None:
                raise ValueError(
                    f"num_clusters is meaningless for {type(model).__name__}: "
                    "it has no n_clusters / n_components parameter"
                )
            params[key] = num_clusters
            check_k(num_clusters, len(prepared.X))
        if params:
            est.set_params(**params)
        return ModelSpec(type(model).__name__, None, est, params)
    raise TypeError(
        f"model must be a model id ({', '.join(REGISTRY)}) or a scikit-learn-compatible "
        f"estimator; got {model!r}"
    )


def check_k(k: Any, n: int) -> None:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"num_clusters must be an int >= 1; got {k!r}")
    if k > n:
        raise ValueError(
            f"num_clusters must be an int in [1, n_samples={n}]; got {k} "
            f"(the prepared data has only {n} rows)"
        )


def fit(spec: ModelSpec, prepared: Prepared, metrics: MetricSet) -> FittedModel:
    """Fit ``spec`` on the training rows; label them, fit the out-of-sample rule, score."""
    X = prepared.X.to_numpy()
    if spec.entry is not None and spec.entry.memory == "O(n²)":
        from clusterlab._config import check_memory

        check_memory(
            8.0 * len(X) ** 2,
            what=f"{spec.entry.name} on {len(X):,} rows (an n x n matrix)",
            alternative="use 'kmeans', 'birch' or 'hdbscan', or sample the data",
        )
    est = spec.estimator
    est.fit(X)
    labels = labels_of(est, X)
    rule = out_of_sample_rule(est).fit(est, X, labels)
    y = None if prepared.y is None else prepared.y.to_numpy()
    record = FittedModel(spec.model_id, est, labels, rule, spec.params)
    sample_size = prepared.options.sample_size
    record.metrics = score(X, labels, y, metrics, sample_size=sample_size, seed=prepared.seed)
    return record


def create(
    model: Any,
    num_clusters: int | None,
    params: Mapping[str, Any],
    prepared: Prepared,
    *,
    metrics: MetricSet,
    search_size: int,
) -> FittedModel:
    """:func:`resolve` and :func:`fit`, with the fit's time in the metrics row."""
    with threads_for(prepared):
        spec = resolve(model, num_clusters, params, prepared, search_size)
        start = time.perf_counter()
        record = fit(spec, prepared, metrics)
        record.metrics["Time (s)"] = round(time.perf_counter() - start, 3)
    return record


@contextlib.contextmanager
def threads_for(prepared: Prepared) -> Iterator[None]:
    """Setup's ``n_jobs`` threads (numba, BLAS and OpenMP); one for small data (``SMALL_DATA``)."""
    n_jobs = 1 if prepared.X.size < SMALL_DATA else prepared.options.runtime.threads
    if n_jobs == -1:  # every core: the default, nothing to limit
        yield
        return
    from threadpoolctl import threadpool_limits

    from clusterlab._config import effective_n_jobs, threads

    with threads(n_jobs), threadpool_limits(limits=effective_n_jobs(n_jobs)):  # OpenMP too
        yield
