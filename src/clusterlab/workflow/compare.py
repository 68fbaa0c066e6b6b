"""compare_models: fit every applicable model with its key hyperparameter chosen, score and
rank them; the result is a :class:`Leaderboard`.

Each model's key hyperparameter is chosen as :mod:`clusterlab.workflow.keys` says, the model is
then fitted on all the training rows, scored (:mod:`~clusterlab.workflow.scoring`) and ranked
(:mod:`~clusterlab.workflow.ranking`). Models that cannot run at this n are skipped with the
reason (memory: an n x n matrix over the budget; ``turbo``: slow in time above their limit);
``budget_time`` is in minutes, as in PyCaret.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from clusterlab.models import REGISTRY, ModelEntry, get_entry
from clusterlab.workflow.categories import compares
from clusterlab.workflow.display import Progress
from clusterlab.workflow.fitting import (
    converted_warnings,
    fit,
    fit_clock,
    is_estimator,
    resolve,
    threads_for,
)
from clusterlab.workflow.keys import choose_key
from clusterlab.workflow.prepared import Prepared
from clusterlab.workflow.ranking import criteria, order
from clusterlab.workflow.records import FittedModel
from clusterlab.workflow.scoring import MetricSet

__all__ = ["Leaderboard", "compare"]


@dataclass(frozen=True, eq=False)
class Leaderboard:
    """What :meth:`~clusterlab.Experiment.compare_models` found.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per model, indexed by model id: ranked models first (``Mean rank``, the
        parameters chosen, every metric, ``Time (s)``, ``k chosen by``), then the skipped ones
        with the reason in ``Note``.
    records : dict
        Model id -> :class:`~clusterlab.workflow.records.FittedModel` of each ranked model.
    ranked : tuple of str
        The ranked model ids, best first.
    """

    table: pd.DataFrame
    records: dict[str, FittedModel] = field(repr=False)
    ranked: tuple[str, ...]

    def to_pandas(self) -> pd.DataFrame:
        """The leaderboard table (a copy): what ``pull()`` shows after compare_models."""
        return self.table.copy()

    def best(self, n: int = 1) -> list[Any]:
        """The ``n`` best fitted estimators, best first."""
        return [self.records[model_id].estimator for model_id in self.ranked[:n]]

    @property
    def k_selection(self) -> dict[str, Any]:
        """Model id -> :class:`~clusterlab.selection.ChooseKResult` for the models whose k was
        chosen."""
        return {m: r.selection for m, r in self.records.items() if r.selection is not None}

    def plot(self, model: str | None = None, **kwargs: Any) -> Any:
        """How k was chosen for ``model`` (default: the best model whose k was chosen): every
        criterion against k (:func:`clusterlab.plots.plot_k_selection`)."""
        chosen = self.k_selection
        if model is None:
            model = next((m for m in self.ranked if m in chosen), None)
        if model not in chosen:
            raise ValueError(
                f"model must be one of the models whose k was chosen ({', '.join(chosen)}); "
                f"got {model!r}"
            )
        from clusterlab.plots import plot_k_selection

        return plot_k_selection(chosen[model], **kwargs)

    def __repr__(self) -> str:
        return f"Leaderboard(ranked={list(self.ranked)})"


def compare(
    prepared: Prepared,
    candidates: list[Any],
    *,
    metrics: MetricSet,
    search_size: int,
    sort: str = "auto",
    budget_time: float | None = None,
    turbo: bool = True,
    verbose: bool = False,
    announce: Callable[[str], None] | None = None,
) -> Leaderboard:
    """Fit, score and rank ``candidates`` (model ids or estimators; see the module docstring).

    A model's ``Time (s)`` is its whole time here (choosing its key parameter and the final
    fit) without numba's compilation; ``announce`` shows the one-line notice when kernels
    compile (:func:`~clusterlab.workflow.fitting.fit_clock`)."""
    rows, records, skipped = [], {}, []
    start_all = time.perf_counter()
    with threads_for(prepared), Progress(len(candidates), verbose) as progress:
        for model in candidates:
            label = model if isinstance(model, str) else type(model).__name__
            reason = skip_reason(model, len(prepared.X), turbo, start_all, budget_time)
            if reason is None:
                try:
                    row, record = _compare_one(
                        model, label, prepared, metrics, search_size, announce=announce
                    )
                except (MemoryError, ValueError) as exc:
                    reason = f"failed: {exc}"
                else:
                    rows.append(row)
                    records[record.model_id] = record
            if reason is not None:
                skipped.append({"Model": label, "Note": f"skipped: {reason}"})
            progress.advance(label)
    if not rows:
        raise RuntimeError(
            "compare_models fitted no model: "
            + "; ".join(f"{s['Model']}: {s['Note']}" for s in skipped)
        )
    board = pd.DataFrame(rows).set_index("Model")
    rule = criteria(board, metrics, sort, prepared.y is not None)
    board = order(board, rule, demote=sort == "auto")
    if skipped:
        board = pd.concat([board, pd.DataFrame(skipped).set_index("Model")])
        board["Clusters"] = board["Clusters"].astype("Int64")
    return Leaderboard(board, records, tuple(board.index[: len(rows)]))


def _compare_one(
    model: Any,
    label: str,
    prepared: Prepared,
    metrics: MetricSet,
    search_size: int,
    *,
    announce: Callable[[str], None] | None,
) -> tuple[dict[str, Any], FittedModel]:
    notes: list[str] = []
    with fit_clock(announce) as clock:
        with converted_warnings(label, notes):
            params, selection = choose_key(
                model, prepared, metrics=metrics, search_size=search_size
            )
        spec = resolve(model, None, params, prepared, search_size)
        record = fit(spec, prepared, metrics)
        seconds = clock()
    record.selection, record.source = selection, "compare_models"
    if notes:
        record.metrics["Note"] = "; ".join(t for t in (*notes, record.metrics["Note"]) if t)
    row = {
        "Model": spec.model_id,
        "Name": spec.entry.name if spec.entry else label,
        "Parameters": _param_text(spec.entry, spec.params),
        **record.metrics,
        "Time (s)": seconds,
        "k chosen by": selection.reason if selection is not None else "",
    }
    return row, record


def candidates(
    include: Iterable[Any] | None, exclude: Iterable[str] | None, prepared: Prepared | None = None
) -> list[Any]:
    """The models to compare: every registry id meant for comparison on ``prepared``'s data
    (``in_compare``; the models of categories when its features include categorical columns,
    :func:`clusterlab.workflow.categories.compares`), or ``include``, less ``exclude``."""
    if include is None:
        chosen: list[Any] = [m for m, entry in REGISTRY.items() if compares(entry, prepared)]
    else:
        chosen = [get_entry(m).id if isinstance(m, str) else m for m in include]
        for m in chosen:
            if not isinstance(m, str) and not is_estimator(m):
                raise TypeError(f"include must hold model ids or estimators; got {m!r}")
    for m in exclude or ():
        model_id = get_entry(m).id
        if model_id in chosen:
            chosen.remove(model_id)
    if not chosen:
        raise ValueError("include / exclude leave no model to compare")
    return chosen


def skip_reason(
    model: Any, n: int, turbo: bool, start: float, budget_time: float | None
) -> str | None:
    """Why ``model`` is not run on ``n`` rows (time budget, memory budget, turbo), else None."""
    if budget_time is not None and time.perf_counter() - start > 60.0 * budget_time:
        return f"budget_time of {budget_time} min used up"
    if not isinstance(model, str):
        return None
    entry = REGISTRY[model]
    if entry.memory == "O(n²)":
        from clusterlab._config import get_config

        need = 8.0 * n * n / 2**20
        budget = get_config()["memory_budget"]
        if need > budget:
            return f"an n x n matrix needs {need:,.0f} MiB, over the budget of {budget:,.0f} MiB"
    if turbo and entry.turbo_max_n is not None and n > entry.turbo_max_n:
        return f"slow above {entry.turbo_max_n:,} rows (turbo=True); pass turbo=False to run it"
    return None


def _param_text(entry: ModelEntry | None, params: dict[str, Any]) -> str:
    if entry is None or entry.key_param is None or entry.key_param not in params:
        return ""
    value = params[entry.key_param]
    if isinstance(value, float):
        value = f"{value:.4g}"
    return f"{entry.key_param}={value}"
