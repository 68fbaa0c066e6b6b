"""evaluate_model's summary, and plot_model's glue to :mod:`clusterlab.plots`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from clusterlab.workflow.prepared import Prepared
from clusterlab.workflow.records import FittedModel, json_safe

__all__ = ["evaluate", "plot"]


def evaluate(record: FittedModel, prepared: Prepared, html: bool = False) -> str:
    """Metrics, how k was chosen, cluster sizes, one line per segment, feature means per cluster
    and parameters, as text (or HTML)."""
    data = prepared.train_data
    truth = prepared.options.columns.ground_truth
    numeric = data.select_dtypes("number").columns.difference([truth] if truth else [])
    labels = pd.Series(record.labels, index=data.index, name="Cluster")
    sizes = labels.value_counts().sort_index().rename("Rows").to_frame()
    sizes["Share"] = (sizes["Rows"] / len(labels)).round(3)
    profile = data[list(numeric)].groupby(labels).mean() if len(numeric) else pd.DataFrame()
    metrics = pd.Series(record.metrics, name="Value").to_frame()
    params = pd.Series(
        {k: json_safe(v) for k, v in record.estimator.get_params().items()}, name="Value"
    ).to_frame()
    parts = [
        ("Model", pd.DataFrame({"Value": [record.model_id]}, index=["id"])),
        ("Metrics", metrics),
        ("Cluster sizes", sizes),
        ("Segments", _descriptions(data[prepared.features], record.labels)),
        ("Mean of each numeric column per cluster", profile),
        ("Parameters", params),
    ]
    if record.selection is not None:
        reason = pd.DataFrame({"Value": [record.selection.reason]}, index=["k chosen by"])
        parts.insert(1, ("How k was chosen", reason))
    if html:
        body = "".join(f"<h3>{t}</h3>{f.to_html()}" for t, f in parts)
        return f"<div class='clusterlab-evaluate'>{body}</div>"
    return "\n\n".join(f"{t}\n{'-' * len(t)}\n{f.to_string()}" for t, f in parts)


def _descriptions(features: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
    """One line per segment from clusterlab.insight (features only, in the user's units)."""
    from clusterlab.insight import profile_segments

    profiles = profile_segments(features, labels)
    return pd.DataFrame({"Description": pd.Series(profiles.descriptions)})


def plot(
    record: FittedModel,
    prepared: Prepared,
    plot: str,
    *,
    save: Any,
    selection: Any,
    **kwargs: Any,
) -> Any:
    """:func:`clusterlab.plots.plot_model` of a fitted model on the prepared training rows, with
    the data in the user's units and the fitted preprocessing pipeline; ``selection`` (how
    compare_models chose k) gives the scores of 'k_selection' and 'elbow'."""
    from clusterlab import plots

    kwargs = _selection_kwargs(record, selection, plots.check_plot_name(plot), kwargs)
    kwargs.setdefault("pipeline", prepared.preprocessor.pipeline_)
    return plots.plot_model(
        record.estimator,
        prepared.X,
        np.asarray(record.labels),
        plot=plot,
        data=prepared.train_data,
        save=save,
        **kwargs,
    )


def _selection_kwargs(
    record: FittedModel, selection: Any, kind: str, kwargs: dict[str, Any]
) -> dict[str, Any]:
    """The stored choose_k result as the scores of a 'k_selection' or 'elbow' plot."""
    if selection is None:
        return kwargs
    table = selection.table
    if kind == "k_selection" and "scores" not in kwargs:
        scores = table.drop(columns=[c for c in ("votes", "gap_se") if c in table.columns])
        return {"scores": scores, "chosen_k": selection.best_k, **kwargs}
    if kind == "elbow" and not {"ks", "k_range"} & kwargs.keys() and "inertia" in table:
        est = record.estimator
        own_k = getattr(est, "n_clusters", getattr(est, "n_components", None))
        return {
            "ks": [int(k) for k in table.index],
            "inertias": table["inertia"].tolist(),
            "chosen_k": own_k if own_k in table.index else selection.best_k,
            **kwargs,
        }
    return kwargs
