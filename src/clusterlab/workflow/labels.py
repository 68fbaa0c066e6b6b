"""Labels out: the user's rows with the label column (assign_model, predict_model)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from clusterlab.persistence import format_labels
from clusterlab.preprocessing import as_frame
from clusterlab.workflow.categories import view_of
from clusterlab.workflow.prepared import Prepared
from clusterlab.workflow.records import FittedModel

__all__ = ["assign", "predict"]


def assign(
    record: FittedModel,
    prepared: Prepared,
    label_name: str,
    probabilities: bool,
    *,
    transformation: bool = False,
    label_format: str = "integer",
) -> pd.DataFrame:
    """The original data (or, with ``transformation``, the prepared features of every row) plus
    the label column; rows setup left out of training are labelled by the out-of-sample rule and
    flagged in ``<label_name>_predicted``."""
    out = (prepared.X_all if transformation else prepared.data).copy()
    if label_name in out.columns:
        raise ValueError(f"label_name {label_name!r} is already a column of the data")
    labels = np.empty(len(out), dtype=np.int64)
    mask = prepared.train_mask
    labels[mask] = record.labels
    if not mask.all():
        left_out = view_of(prepared, record.estimator).X_all.to_numpy()[~mask]
        labels[~mask] = record.rule.predict(record.estimator, left_out)
    out[label_name] = format_labels(labels, label_format)
    if not mask.all():
        out[f"{label_name}_predicted"] = ~mask
    if probabilities:
        _add_probabilities(out, record, prepared, label_name)
    return out


def _add_probabilities(
    out: pd.DataFrame, record: FittedModel, prepared: Prepared, label_name: str
) -> None:
    est, mask = record.estimator, prepared.train_mask
    if hasattr(est, "predict_proba"):
        proba = est.predict_proba(view_of(prepared, est).X_all.to_numpy())
        for j in range(proba.shape[1]):
            out[f"{label_name}_proba_{j}"] = proba[:, j]
    elif hasattr(est, "probabilities_"):
        col = np.full(len(out), np.nan)
        col[mask] = est.probabilities_
        out[f"{label_name}_membership"] = col
    else:
        raise ValueError(
            f"probabilities=True needs a model with membership probabilities "
            f"(predict_proba or probabilities_); {record.model_id!r} has none"
        )
    if hasattr(est, "outlier_scores_"):
        col = np.full(len(out), np.nan)
        col[mask] = est.outlier_scores_
        out[f"{label_name}_outlier_score"] = col


def predict(
    record: FittedModel,
    prepared: Prepared,
    data: Any,
    label_name: str,
    *,
    label_format: str = "integer",
) -> pd.DataFrame:
    """New data (its columns, index and order) plus the label column."""
    frame = as_frame(data)
    X = view_of(prepared, record.estimator).preprocessor.transform(frame).to_numpy()
    out = frame.copy()
    out[label_name] = format_labels(record.rule.predict(record.estimator, X), label_format)
    return out
