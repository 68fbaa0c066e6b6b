"""What a model file records for scoring new rows without the training data.

:func:`serving_record` is computed when a model is saved and stored in the file
(:attr:`clusterlab.persistence.ClusterPipeline.serving`); the scoring service
(:mod:`clusterlab.serve`) builds its request schema and its answers from it:

- ``features``: one entry per input column the pipeline reads: ``name``, ``kind`` (setup's
  numeric, categorical, ordinal, date, text), ``type`` (its JSON type: number, integer, string,
  boolean), ``dtype`` (the training column's), ``nullable`` (whether the pipeline fills a missing
  value), ``exclusive_minimum`` (-1 for the log-transformed columns: log1p needs a value above it)
  and, for categorical columns with at most :data:`MAX_CATEGORIES` values, ``categories``;
- ``segments``: each segment's id (-1 = noise), size and share of the training rows, and its
  one-line description (:func:`clusterlab.insight.profile_segments` on the training rows, in the
  user's units);
- ``anomaly``: the :class:`~clusterlab.insight.AnomalyScorer` record (None when the model cannot
  be scored, said in a warning).
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from clusterlab.workflow.prepared import Prepared
from clusterlab.workflow.records import FittedModel

__all__ = ["MAX_CATEGORIES", "feature_schema", "serving_record"]

logger = logging.getLogger(__name__)

#: Categorical columns with more distinct values than this list none in the schema.
MAX_CATEGORIES = 100
_CATEGORY_KINDS = ("categorical", "ordinal")


def serving_record(prepared: Prepared, record: FittedModel) -> dict[str, Any]:
    """The features, segments and anomaly scorer of ``record`` under ``prepared``'s setup."""
    return {
        "features": feature_schema(prepared),
        "segments": segment_table(prepared, record),
        "anomaly": _anomaly(prepared, record),
    }


def feature_schema(prepared: Prepared) -> list[dict[str, Any]]:
    """One entry per feature column (see the module docstring)."""
    pre = prepared.preprocessor
    imputes = prepared.options.imputation.imputation_type is not None
    logged = _log_columns(pre.pipeline_)
    entries = []
    for name in pre.features_:
        kind = str(pre.schema_.loc[name, "kind"])
        column = prepared.data[name]
        entry: dict[str, Any] = {
            "name": str(name),
            "kind": kind,
            "type": _json_type(kind, column),
            "dtype": str(column.dtype),
            # dates are filled by their own imputer; text reaches its embedding as it is
            "nullable": kind == "date" or (kind != "text" and imputes),
        }
        if name in logged:
            entry["exclusive_minimum"] = -1.0
        if kind == "ordinal":
            entry["categories"] = list(prepared.options.columns.ordinal_features[name])
        elif kind == "categorical":
            values = column.dropna().unique()
            if len(values) <= MAX_CATEGORIES:
                entry["categories"] = sorted((_plain(v) for v in values), key=str)
        entries.append(entry)
    return entries


def _log_columns(pipeline: Any) -> set[str]:
    """Columns of the setup's log1p branch: a value <= -1 has no logarithm."""
    from sklearn.compose import ColumnTransformer

    steps = getattr(pipeline, "steps", [(None, pipeline)])
    out: set[str] = set()
    for _, step in steps:
        if isinstance(step, ColumnTransformer):
            for name, _, columns in step.transformers_:
                if name == "numeric_log1p":
                    out.update(str(c) for c in columns)
    return out


def _json_type(kind: str, column: pd.Series) -> str:
    if kind == "numeric":
        return "number"
    if kind in _CATEGORY_KINDS:
        dtype = column.dtype
        if pd.api.types.is_bool_dtype(dtype):
            return "boolean"
        if pd.api.types.is_integer_dtype(dtype):
            return "integer"
        if pd.api.types.is_float_dtype(dtype):
            return "number"
    return "string"


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def segment_table(prepared: Prepared, record: FittedModel) -> list[dict[str, Any]]:
    """Each segment of the training rows: id, size, share and description."""
    from clusterlab.insight import profile_segments

    profiles = profile_segments(prepared.train_data[prepared.features], record.labels)
    return [
        {
            "segment": -1 if name == "noise" else int(name),
            "size": int(row["size"]),
            "share": float(row["share"]),
            "description": str(row["description"]),
        }
        for name, row in profiles.sizes.iterrows()
    ]


def _anomaly(prepared: Prepared, record: FittedModel) -> dict[str, Any] | None:
    from clusterlab.insight import AnomalyScorer

    try:
        scorer = AnomalyScorer.fit(
            record.estimator, prepared.X.to_numpy(), random_state=prepared.seed or 0
        )
    except ValueError as exc:
        logger.warning("the model file will not score anomalies: %s", exc)
        return None
    return scorer.to_record()
