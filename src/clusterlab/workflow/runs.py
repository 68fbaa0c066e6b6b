"""An experiment's runs as one table: what ``get_logs`` returns.

PyCaret's ``get_logs`` reads the runs an experiment logger (MLflow) recorded. clusterlab has no
experiment logger: an experiment keeps its fitted models itself, and this table lists them in
the shape of MLflow's run table, one row per model fitted (by create_model, compare_models or
tune_model, or loaded with the experiment): ``run_id``, ``experiment_name``, ``source``,
``model``, then ``metrics.<name>``, ``params.<name>`` and ``tags.<name>`` columns (the tags are
create_model's ``experiment_custom_tags``).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from clusterlab.workflow.records import FittedModel, json_safe

__all__ = ["runs_table", "save_runs"]


def runs_table(records: Iterable[FittedModel], experiment_name: str, usi: str) -> pd.DataFrame:
    """One row per fitted model, in the order they were fitted (see the module docstring)."""
    rows = []
    for i, record in enumerate(records):
        row: dict[str, Any] = {
            "run_id": f"{usi}-{i}",
            "experiment_name": experiment_name,
            "source": record.source,
            "model": record.model_id,
        }
        for name, value in record.metrics.items():
            if isinstance(value, numbers.Real) and not isinstance(value, bool):
                row[f"metrics.{name}"] = float(value)
        row |= {f"params.{k}": json_safe(v) for k, v in record.params.items()}
        row |= {f"tags.{k}": str(v) for k, v in record.tags.items()}
        rows.append(row)
    columns = ["run_id", "experiment_name", "source", "model"]
    return pd.DataFrame(rows, columns=None if rows else columns)


def save_runs(table: pd.DataFrame, experiment_name: str) -> Path:
    """Write the table to ``<experiment_name>_logs.csv`` in the working directory (PyCaret's
    file name) and return its path."""
    path = Path(f"{experiment_name}_logs.csv")
    table.to_csv(path, index=False)
    return path
