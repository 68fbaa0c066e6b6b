"""evaluate_model's summary, and plot_model's glue to :mod:`clusterlab.plots`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from clusterlab.workflow.categories import features_frame, view_of
from clusterlab.workflow.prepared import Prepared
from clusterlab.workflow.records import FittedModel, json_safe

__all__ = ["evaluate", "plot"]


def evaluate(
    record: FittedModel, prepared: Prepared, html: bool = False, feature: str | None = None
) -> str:
    """Metrics, how k was chosen, cluster sizes, one line per segment, feature means per cluster
    and parameters, as text (or HTML); with ``feature``, that column's distribution per
    cluster (PyCaret's ``evaluate_model(feature=...)``)."""
    features = features_frame(prepared)  # setup's categorical columns as categories
    data = prepared.train_data.assign(**{str(c): features[c] for c in features.columns})
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
    profiles = _profiles(features, record.labels)
    parts = [
        ("Model", pd.DataFrame({"Value": [record.model_id]}, index=["id"])),
        ("Metrics", metrics),
        ("Cluster sizes", sizes),
        ("Segments", pd.DataFrame({"Description": pd.Series(profiles.descriptions)})),
        ("Mean of each numeric column per cluster", profile),
        *((f"Shares of {c} per cluster", t.round(3)) for c, t in profiles.shares.items()),
        ("Parameters", params),
    ]
    if feature is not None:
        parts.insert(4, (f"{feature} per cluster", _feature_table(data, feature, labels)))
    if record.selection is not None:
        reason = pd.DataFrame({"Value": [record.selection.reason]}, index=["k chosen by"])
        parts.insert(1, ("How k was chosen", reason))
    if html:
        body = "".join(f"<h3>{t}</h3>{f.to_html()}" for t, f in parts)
        return f"<div class='clusterlab-evaluate'>{body}</div>"
    return "\n\n".join(f"{t}\n{'-' * len(t)}\n{f.to_string()}" for t, f in parts)


def _feature_table(data: pd.DataFrame, feature: str, labels: pd.Series) -> pd.DataFrame:
    """One column's distribution per cluster: quartiles of a number, shares of a category."""
    if feature not in data.columns:
        raise ValueError(
            f"feature {feature!r} is not a column of the data; columns are {list(data.columns)}"
        )
    column = data[feature]
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.groupby(labels).describe()
    return pd.crosstab(labels, column, normalize="index").round(3)


def _profiles(features: pd.DataFrame, labels: np.ndarray) -> Any:
    """clusterlab.insight's profiles of the segments (features only, in the user's units)."""
    from clusterlab.insight import profile_segments

    return profile_segments(features, labels)


def plot(
    record: FittedModel, prepared: Prepared, plot: str, *, selection: Any, **kwargs: Any
) -> Any:
    """:func:`clusterlab.plots.plot_model` of a fitted model on the prepared training rows, with
    the data in the user's units and the fitted preprocessing pipeline.

    The results the selection plots draw are found or computed here (clusterlab.plots never
    imports clusterlab.selection): ``selection`` (how compare_models chose k) gives the scores
    of 'k_selection' and 'elbow', else 'k_selection' runs choose_k on the prepared data
    (``k_range``, default 2..10); 'stability' resamples the model unless ``stability=`` is
    given."""
    from clusterlab import plots

    kind = plots.check_plot_name(plot)
    X = prepared.X
    view = view_of(prepared, record.estimator)
    if view is not prepared:  # a model of categories: see raw_view_inputs
        X, kwargs = raw_view_inputs(kind, record, prepared, view, kwargs)
    if kind == "k_selection" and not {"selection", "scores"} & kwargs.keys():
        kwargs["selection"] = selection or _choose_k(record, prepared, kwargs.pop("k_range", None))
    elif kind == "elbow" and selection is not None:
        kwargs = _elbow_kwargs(record, selection, kwargs)
    elif kind == "stability" and not {"stability", "scores"} & kwargs.keys():
        from clusterlab.selection import stability

        kwargs["stability"] = stability(
            view_of(prepared, record.estimator).X.to_numpy(),
            model=record.estimator,
            random_state=prepared.seed,
        )
    kwargs.setdefault("pipeline", prepared.preprocessor.pipeline_)
    return plots.plot_model(
        record.estimator,
        X,
        np.asarray(record.labels),
        plot=plot,
        data=prepared.train_data,
        **kwargs,
    )


#: Plot kinds that draw the one-hot features (a projection of them) with the model's labels.
_PROJECTIONS = ("cluster", "cluster3d", "distance", "tsne", "umap")


def raw_view_inputs(
    kind: str, record: FittedModel, prepared: Prepared, view: Prepared, kwargs: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The features a plot of a model of categories draws, and its options.

    The model read setup's raw view (numbers and category codes,
    :mod:`clusterlab.workflow.categories`), whose codes have no geometry, so:

    - 'silhouette' uses Gower's distance on the raw view, as compare_models scores such data
      (its mean is the leaderboard's Silhouette when not sampled);
    - 'elbow' refits the model on the raw view for each k and draws its own loss (``cost_`` of
      k-modes / k-prototypes, ``inertia_``, the sum of Gower distances, of k-medoids);
    - the projections ('cluster', 'cluster3d', 'distance', 't-SNE', 'UMAP') draw setup's
      one-hot features of the same rows with the model's labels; the centres drawn are the
      medoids' own rows (k-medoids) or each cluster's mean (prototypes are no point of that
      space);
    - the other kinds read the data or the model and need nothing else.
    """
    options = dict(kwargs)
    if kind == "silhouette" and "metric" not in options:
        from clusterlab.metrics import GowerDistance

        gower = GowerDistance(categorical=list(view.categorical)).fit(view.X.to_numpy())
        options["metric"] = gower.pairwise
        options.setdefault("title", "Silhouette under Gower's distance")
        return view.X, options
    if kind == "elbow" and not {"ks", "selection", "scores"} & options.keys():
        return view.X, _own_loss_curve(record.estimator, view.X.to_numpy(), options)
    if kind in ("cluster", "cluster3d", "distance") and "centers" not in options:
        medoids = getattr(record.estimator, "medoid_indices_", None)
        fitted_here = len(record.labels) == len(prepared.X)
        own = medoids is not None and fitted_here
        options["centers"] = prepared.X.to_numpy()[medoids] if own else None
    return (prepared.X if kind in _PROJECTIONS else view.X), options


def _own_loss_curve(estimator: Any, X: np.ndarray, options: dict[str, Any]) -> dict[str, Any]:
    """'elbow' of a model of categories: its own loss refitted for each k of ``k_range``
    (default 2..10) on the raw view's rows (a uniform sample above ``max_samples``)."""
    from sklearn.base import clone

    from clusterlab.models import k_param_of
    from clusterlab.plots._data import sample_rows
    from clusterlab.plots.selection import ELBOW_SAMPLES

    key = k_param_of(estimator)
    k_range = options.pop("k_range", range(2, 11))
    rows = sample_rows(len(X), options.pop("max_samples", ELBOW_SAMPLES), random_state=0)
    sub = X if rows is None else X[rows]
    ks = [int(k) for k in k_range if 1 <= k < len(sub)]
    losses = [_loss(clone(estimator).set_params(**{key: k}).fit(sub)) for k in ks]
    chosen = options.pop("chosen_k", None) or estimator.get_params().get(key)
    medoids = hasattr(estimator, "medoid_indices_")
    measure = "sum of Gower distances to the medoid" if medoids else "cost (the model's own)"
    if rows is not None:
        options.setdefault(
            "title", f"Elbow on a sample of {len(sub):,} of {len(X):,} rows (chosen k = {chosen})"
        )
    return {"ks": ks, "inertias": losses, "chosen_k": chosen, "measure": measure, **options}


def _loss(model: Any) -> float:
    """A fitted model's own loss: k-modes / k-prototypes ``cost_``, k-medoids ``inertia_``."""
    cost = getattr(model, "cost_", None)
    return float(model.inertia_ if cost is None else cost)


def _choose_k(record: FittedModel, prepared: Prepared, k_range: Any) -> Any:
    """choose_k for the model's estimator on the prepared training rows, seeded by setup (a
    model of categories: by the Gower silhouette, as compare_models chooses its k)."""
    from sklearn.base import clone

    from clusterlab.models import k_param_of
    from clusterlab.selection import choose_k
    from clusterlab.workflow.gower_k import choose_k_by_gower

    view = view_of(prepared, record.estimator)
    X = view.X.to_numpy()
    if k_range is None:
        k_range = range(2, min(11, len(X)))
    if view.categorical:
        key = k_param_of(record.estimator)

        def build(k: int) -> Any:
            return clone(record.estimator).set_params(**{key: k})

        return choose_k_by_gower(build, X, view.categorical, k_range, seed=prepared.seed)
    return choose_k(X, model=record.estimator, k_range=k_range, random_state=prepared.seed)


def _elbow_kwargs(record: FittedModel, selection: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The stored choose_k result as the curve of an 'elbow' plot, its k marked the model's."""
    if {"ks", "k_range", "selection"} & kwargs.keys() or "inertia" not in selection.table:
        return kwargs
    est = record.estimator
    own_k = getattr(est, "n_clusters", getattr(est, "n_components", None))
    chosen = own_k if own_k in selection.table.index else selection.best_k
    return {"selection": selection, "chosen_k": chosen, **kwargs}
