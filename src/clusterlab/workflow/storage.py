"""Model and experiment files of an experiment: its state as :mod:`clusterlab.persistence`'s
plain records, and back."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from clusterlab.persistence import (
    ClusterPipeline,
    SavedExperiment,
    SavedModel,
    load_experiment_state,
    save_experiment_state,
    save_pipeline,
)
from clusterlab.preprocessing import as_frame
from clusterlab.workflow.prepared import Prepared
from clusterlab.workflow.records import FittedModel

__all__ = ["Restored", "load_experiment", "save_experiment", "save_model"]


class Restored(NamedTuple):
    """An experiment's state read from its file."""

    prepared: Prepared
    records: dict[int, FittedModel]
    k_selection: dict[str, Any]
    search_size: int


def save_model(path: Any, prepared: Prepared, record: FittedModel) -> Path:
    """The preprocessing pipeline and one fitted model in one safe file, with what scoring new
    rows needs (:func:`clusterlab.workflow.serving.serving_record`)."""
    from clusterlab.workflow.serving import serving_record

    pre = prepared.preprocessor
    bundle = ClusterPipeline(
        pipeline=pre.pipeline_,
        features=prepared.features,
        estimator=record.estimator,
        rule=record.rule,
        model_id=record.model_id,
        columns=[str(c) for c in prepared.data.columns],
        serving=serving_record(prepared, record),
    )
    return save_pipeline(bundle, path)


def save_experiment(
    path: Any,
    prepared: Prepared,
    records: Iterable[FittedModel],
    k_selection: dict[str, Any],
    search_size: int,
) -> Path:
    """Setup and every fitted model (not the data); each k-selection result is stored once."""
    records = list(records)
    selections: list[Any] = []
    for result in [*k_selection.values(), *(r.selection for r in records)]:
        if result is not None and not any(result is s for s in selections):
            selections.append(result)

    def position(result: Any) -> int | None:
        return next((i for i, s in enumerate(selections) if s is result), None)

    models = [
        SavedModel(
            r.model_id, r.estimator, r.rule, r.labels, r.params, r.metrics, position(r.selection)
        )
        for r in records
    ]
    state = SavedExperiment(
        options=prepared.options,
        preprocessor=prepared.preprocessor,
        columns=[str(c) for c in prepared.data.columns],
        n_rows=len(prepared.data),
        models=models,
        selections=selections,
        k_selection={model_id: position(s) for model_id, s in k_selection.items()},
        search_size=search_size,
    )
    return save_experiment_state(path, state)


def load_experiment(path: Any, data: Any) -> Restored:
    """The state saved in ``path``, on ``data`` (the data setup saw); nothing is refitted."""
    from clusterlab.selection import ChooseKResult

    frame = as_frame(data)
    saved = load_experiment_state(path, frame)
    results = [ChooseKResult(**fields) for fields in saved.selections]
    records = {
        id(m.estimator): FittedModel(
            m.model_id,
            m.estimator,
            m.labels,
            m.rule,
            m.params,
            m.metrics,
            selection=None if m.selection is None else results[m.selection],
        )
        for m in saved.models
    }
    k_selection = {model_id: results[pos] for model_id, pos in saved.k_selection.items()}
    prepared = Prepared.from_preprocessor(frame, saved.preprocessor)
    return Restored(prepared, records, k_selection, saved.search_size)
