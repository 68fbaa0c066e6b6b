"""The report of an experiment: its state as one :class:`clusterlab.report.ReportInput`."""

from __future__ import annotations

import numbers
from typing import Any

from clusterlab.workflow.compare import Leaderboard
from clusterlab.workflow.prepared import Prepared
from clusterlab.workflow.records import FittedModel, find_record

__all__ = ["report_input", "report_record", "run_parameters"]


def report_record(
    records: dict[int, FittedModel], leaderboard: Leaderboard | None, model: Any
) -> FittedModel:
    """The record to report: ``model``'s; by default the best of the last compare, else the
    last model fitted."""
    if model is not None:
        return find_record(records, model)
    if leaderboard is not None:
        return leaderboard.records[leaderboard.ranked[0]]
    if not records:
        raise RuntimeError("nothing to report yet: run compare_models or create_model first")
    return next(reversed(records.values()))


def report_input(
    prepared: Prepared,
    record: FittedModel,
    leaderboard: Leaderboard | None,
    k_selection: dict[str, Any],
    *,
    title: str = "Segmentation report",
    params: dict[str, Any] | None = None,
) -> Any:
    """What the report shows of ``record``: the training rows' features in the user's units,
    the preparation (schema, pipeline steps, setup options), the leaderboard when ``record`` is
    one of its models (and it compared more than one), how k was chosen (the record's own
    choose_k result, else the last one for its id in ``k_selection``), the metrics, the
    profiles, rules and anomaly scores."""
    from clusterlab.report import Comparison, Preparation, ReportInput

    pre = prepared.preprocessor
    selection = record.selection or k_selection.get(record.model_id)
    compared = leaderboard is not None and leaderboard.records.get(record.model_id) is record
    board = leaderboard.to_pandas() if compared and len(leaderboard.table) > 1 else None
    metrics = {
        name: float(value)
        for name, value in record.metrics.items()
        if isinstance(value, numbers.Real) and not isinstance(value, bool) and name != "Time (s)"
    }
    return ReportInput.build(
        data=prepared.train_data[prepared.features],
        labels=record.labels,
        X_prepared=prepared.X,
        model=record.estimator,
        metrics=metrics,
        preparation=Preparation(
            schema=pre.schema_,
            steps=[step for step, _ in pre.pipeline_.steps],
            params=run_parameters(prepared, record) if params is None else params,
        ),
        comparison=Comparison(board, record.model_id, selection),
        title=title,
    )


def run_parameters(prepared: Prepared, record: FittedModel) -> dict[str, Any]:
    """The setup options that differ from their defaults, the seed, the model id and the
    parameters the experiment set (those that are numbers or text: an initial-centre array is
    in the model's own call, listed beside)."""
    from clusterlab.persistence import options_dict
    from clusterlab.preprocessing import SetupOptions

    defaults = options_dict(SetupOptions.parse())
    given = {
        k: v
        for k, v in options_dict(prepared.options).items()
        if v != defaults.get(k) and k != "verbose"
    }
    plain = (numbers.Real, str, type(None))
    model = {k: v for k, v in record.params.items() if isinstance(v, plain)}
    return {"model": record.model_id, "session_id": prepared.seed, **given, **model}
