"""tune_model: search hyperparameters of one model; the result is a :class:`TuneResult`.

Every setting of the space (or ``n_iter`` settings sampled from it, seeded with ``session_id``)
is fitted on the training rows and scored by ``optimize``; the best setting is then fitted
again as the experiment's model. The default space is the registry entry's (estimated from
the data where it depends on it); the default objective is the Silhouette, or the ARI when
there is ground truth.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from clusterlab.models import REGISTRY, get_entry
from clusterlab.workflow.fitting import (
    create,
    engine_of,
    fit,
    fit_clock,
    is_estimator,
    resolve,
    threads_for,
)
from clusterlab.workflow.prepared import Prepared
from clusterlab.workflow.records import FittedModel, json_safe
from clusterlab.workflow.scoring import MetricSet

__all__ = ["TuneResult", "tune"]


@dataclass(frozen=True, eq=False)
class TuneResult:
    """What :meth:`~clusterlab.Experiment.tune_model` found.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per setting tried, best first: its parameters, ``Error`` (why it could not be
        fitted, else ''), the objective, ``Clusters`` and ``Time (s)``.
    best_params : dict
        The best setting (the parameters searched).
    optimize : str
        The objective's name (a metric's display name, or the callable's name).
    greater_is_better : bool
        The objective's direction.
    model : estimator
        The model fitted with the best setting on all training rows.
    record : FittedModel
        The experiment's record of ``model``.
    """

    table: pd.DataFrame
    best_params: dict[str, Any]
    optimize: str
    greater_is_better: bool
    model: Any = field(repr=False)
    record: FittedModel = field(repr=False)

    def to_pandas(self) -> pd.DataFrame:
        """The table of settings (a copy): what ``pull()`` shows after tune_model."""
        return self.table.copy()


def tune(
    prepared: Prepared,
    model: Any,
    search_space: dict | None,
    records: dict[int, FittedModel],
    *,
    optimize: Any,
    n_iter: int,
    metrics: MetricSet,
    search_size: int,
) -> TuneResult:
    """Fit and score every setting of the space (at most ``n_iter``, sampled), then fit the
    best one on all training rows (see the module docstring)."""
    from sklearn.model_selection import ParameterGrid, ParameterSampler

    if isinstance(n_iter, bool) or not isinstance(n_iter, numbers.Integral) or n_iter < 1:
        raise ValueError(f"n_iter must be an int >= 1; got {n_iter!r}")
    base, base_params = base_of(model, records)
    space = space_of(base, search_space, prepared, search_size)
    objective = _objective(optimize, prepared, metrics)
    grid = list(ParameterGrid(space))
    if len(grid) > n_iter:
        grid = list(ParameterSampler(space, n_iter, random_state=prepared.seed))
    table = pd.DataFrame(
        [
            _try(
                base,
                {**base_params, **setting},
                setting,
                objective,
                prepared=prepared,
                metrics=metrics,
                search_size=search_size,
            )
            for setting in grid
        ]
    )
    name, greater = objective.name, objective.greater_is_better
    if not table[name].notna().any():
        raise RuntimeError(f"tune_model: no setting could be scored by {name}")
    table = table.sort_values(name, ascending=not greater, na_position="last")
    best = grid[int(table.index[0])]
    final = create(
        base, None, {**base_params, **best}, prepared, metrics=metrics, search_size=search_size
    )
    final.source = "tune_model"
    return TuneResult(table.reset_index(drop=True), best, name, greater, final.estimator, final)


def _try(
    model: Any,
    params: dict[str, Any],
    setting: dict[str, Any],
    objective: Objective,
    *,
    prepared: Prepared,
    metrics: MetricSet,
    search_size: int,
) -> dict[str, Any]:
    """One setting fitted with ``params`` and scored: its row of the table (the reason when
    it failed)."""
    with fit_clock() as clock:
        try:
            spec = resolve(model, None, params, prepared, search_size)
            with threads_for(prepared):
                record = fit(spec, prepared, metrics)
            value = objective(record)
        except (ValueError, MemoryError) as exc:
            value, record, error = math.nan, None, str(exc)
        else:
            error = ""
        seconds = clock()
    return {
        **{k: json_safe(v) for k, v in setting.items()},
        "Error": error,
        objective.name: value,
        "Clusters": record.metrics["Clusters"] if record else math.nan,
        "Time (s)": seconds,
    }


def base_of(model: Any, records: dict[int, FittedModel]) -> tuple[Any, dict[str, Any]]:
    """What tuning starts from: an id, a registry model this experiment fitted (its id and its
    parameters), or an estimator."""
    if isinstance(model, str):
        return get_entry(model).id, {}
    record = records.get(id(model))
    if record is not None and record.model_id in REGISTRY:
        return record.model_id, dict(record.params)
    if is_estimator(model):
        return model, {}
    raise TypeError(f"model must be a model id or an estimator; got {model!r}")


def space_of(
    model: Any, search_space: dict | None, prepared: Prepared, search_size: int
) -> dict[str, list]:
    """The space to search: the one given (checked), else the registry entry's for the data,
    less the parameters its engine's class does not have (scikit-learn's AffinityPropagation
    has no ``n_clusters``)."""
    if search_space is not None:
        if not isinstance(search_space, dict) or not all(
            isinstance(v, list | tuple) and len(v) > 0 for v in search_space.values()
        ):
            raise ValueError(
                "search_space must be a dict of parameter -> non-empty list of values; "
                f"got {search_space!r}"
            )
        return {k: list(v) for k, v in search_space.items()}
    if not isinstance(model, str):
        raise ValueError("tune_model needs a search_space for an estimator outside the registry")
    entry = REGISTRY[model]
    engine = engine_of(entry, prepared)
    space = entry.tune_space(prepared.context(search_size))
    return {name: values for name, values in space.items() if entry.takes(name, engine)}


@dataclass(frozen=True)
class Objective:
    """What a setting is scored by: ``score(record)``, its name and its direction."""

    score: Callable[[FittedModel], float]
    name: str
    greater_is_better: bool

    def __call__(self, record: FittedModel) -> float:
        return self.score(record)


def _objective(optimize: Any, prepared: Prepared, metrics: MetricSet) -> Objective:
    if callable(optimize):
        X = prepared.X.to_numpy()

        def custom(record: FittedModel) -> float:
            return float(optimize(X, record.labels))

        return Objective(custom, getattr(optimize, "__name__", "custom"), True)
    if optimize is None:
        optimize = "ari" if prepared.y is not None else "silhouette"
    m = metrics.find(optimize)
    if m.needs_ground_truth and prepared.y is None:
        raise ValueError(
            f"optimize={optimize!r} needs ground truth: pass ground_truth='column' "
            "to setup or tune_model"
        )
    return Objective(
        lambda record: record.metrics[m.display_name], m.display_name, m.greater_is_better
    )
