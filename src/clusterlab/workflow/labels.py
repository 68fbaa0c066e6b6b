"""Labels out: the user's rows with the label column (assign_model, predict_model)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from clusterlab.preprocessing import as_frame
from clusterlab.workflow.prepared import Prepared
from clusterlab.workflow.records import FittedModel

__all__ = ["assign", "predict"]


def assign(
    record: FittedModel, prepared: Prepared, label_name: str, probabilities: bool
) -> pd.DataFrame:
    """The original data plus the label column; rows setup left out of training are labelled
    by the out-of-sample rule and flagged in ``<label_name>_predicted``."""
    out = prepared.data.copy()
    if label_name in out.columns:
        raise ValueError(f"label_name {label_name!r} is already a column of the data")
    labels = np.empty(len(out), dtype=np.int64)
    mask = prepared.train_mask
    labels[mask] = record.labels
    if not mask.all():
        left_out = prepared.X_all.to_numpy()[~mask]
        labels[~mask] = record.rule.predict(record.estimator, left_out)
    out[label_name] = labels
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
        proba = est.predict_proba(prepared.X_all.to_numpy())
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


def predict(record: FittedModel, prepared: Prepared, data: Any, label_name: str) -> pd.DataFrame:
    """New data (its columns, index and order) plus the label column."""
    frame = as_frame(data)
    X = prepared.preprocessor.transform(frame).to_numpy()
    out = frame.copy()
    out[label_name] = record.rule.predict(record.estimator, X)
    return out
