"""Choosing k and checking it: the elbow, every criterion against k, stability under resampling.

:func:`plot_k_selection` draws a ``clusterlab.selection.ChooseKResult`` and
:func:`plot_stability` a ``StabilityResult``: the results' own ``plot()`` methods call them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from clusterlab.plots._data import as_matrix, sample_rows
from clusterlab.plots._figure import (
    NOISE_COLOUR,
    colours,
    figure_and_axes,
    finish,
    panel_grid,
    plain_axes,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_elbow", "plot_k_selection", "plot_stability"]

#: The elbow refits the model once per k: above this many rows it is refitted on a uniform
#: sample (the curve's shape, which is what the elbow reads, hardly changes).
ELBOW_SAMPLES = 10_000
#: Criteria that always improve with k: only an elbow, not their best value, picks a k.
MONOTONE_CRITERIA = frozenset({"inertia", "wcss"})
#: Criteria where a smaller value is better (the rest: larger is better).
LOWER_IS_BETTER = frozenset(
    {"davies_bouldin", "inertia", "wcss", "bic", "aic", "elbow", "xie_beni", "c_index"}
)
#: Columns of a choose_k table that are not criteria.
NOT_CRITERIA = ("votes", "gap_se")
#: Jaccard similarity at which a cluster counts as reappearing, when the result does not say.
REAPPEAR = 0.75

_CHOSEN = {"color": "#d62728", "linestyle": "--", "linewidth": 1}


def plot_elbow(
    ks: Iterable[int],
    inertias: Iterable[float],
    *,
    chosen_k: int | None = None,
    measure: str = "within-cluster sum of squares",
    ax: Axes | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """Within-cluster sum of squares (or the model's own loss, named by ``measure``) against
    k, with the chosen k marked.

    Examples
    --------
    >>> from clusterlab.plots import plot_elbow
    >>> plot_elbow([2, 3, 4], [10.0, 4.0, 3.5], chosen_k=3).axes[0].get_title()
    'Elbow (chosen k = 3)'
    """
    k = np.asarray(list(ks), dtype=np.int64)
    w = np.asarray(list(inertias), dtype=np.float64)
    if k.shape != w.shape or k.size == 0:
        raise ValueError(
            f"ks and inertias must have the same non-zero length; got {k.size} and {w.size}"
        )
    fig, ax = figure_and_axes(ax, (6.5, 4.2))
    ax.plot(k, w, marker="o", color="#1f77b4", label=measure)
    if chosen_k is not None and chosen_k in k:
        ax.axvline(chosen_k, **_CHOSEN)
        ax.plot(
            [chosen_k],
            [w[k == chosen_k][0]],
            marker="o",
            markersize=11,
            color=_CHOSEN["color"],
            label=f"chosen k = {chosen_k}",
            linestyle="none",
        )
    ax.set_xticks(k)
    ax.set_xlabel("number of clusters k")
    ax.set_ylabel(measure)
    ax.set_title(title or (f"Elbow (chosen k = {chosen_k})" if chosen_k is not None else "Elbow"))
    plain_axes(ax)
    ax.legend(frameon=False, fontsize="small")
    return finish(fig, save)


def elbow_curve(model: Any, X: Any, k_range: Iterable[int]) -> tuple[list[int], list[float]]:
    """Within-cluster sum of squares of ``model`` refitted for each k on the rows of X (a model
    with ``labels_for(k)``, as SpectralClustering, is fitted once for the largest k)."""
    from sklearn.base import clone

    from clusterlab.metrics import inertia

    params = model.get_params() if hasattr(model, "get_params") else {}
    name = next((p for p in ("n_clusters", "n_components") if p in params), None)
    if name is None:
        raise ValueError(
            f"plot='elbow' refits the model for each k, which needs an n_clusters (or "
            f"n_components) parameter; {type(model).__name__} has none (density models such "
            "as DBSCAN, OPTICS and HDBSCAN choose k themselves)"
        )
    ks = [k for k in k_range if 1 <= k < X.shape[0]]
    if not ks:
        return [], []
    if hasattr(model, "labels_for"):
        # one fit with max(ks) eigenvectors labels every k (spectral clustering's embedding)
        top = clone(model).set_params(**{name: max(ks)}).fit(X)
        return ks, [inertia(X, top.labels_for(k)) for k in ks]
    return ks, [inertia(X, clone(model).set_params(**{name: k}).fit_predict(X)) for k in ks]


def elbow_inputs(
    model: Any,
    X: Any,
    *,
    selection: Any = None,
    k_range: Iterable[int] = range(2, 11),
    max_samples: int | None = ELBOW_SAMPLES,
    chosen_k: int | None = None,
) -> tuple[tuple[list[int], list[float]], dict[str, Any]]:
    """The arguments of :func:`plot_elbow` for a model: the inertia column of a choose_k
    result when given, else the model refitted for each k of ``k_range`` (on a sample of
    ``max_samples`` rows above it). Returns ``((ks, inertias), keywords)``."""
    table = getattr(selection, "table", None)
    if isinstance(table, pd.DataFrame) and "inertia" in table.columns:
        votes = getattr(selection, "votes", None) or {}
        if chosen_k is None:
            chosen_k = votes.get("elbow", getattr(selection, "best_k", None))
        ks = [int(k) for k in table.index]
        return (ks, table["inertia"].tolist()), {"chosen_k": chosen_k}
    array, _ = as_matrix(X)
    if chosen_k is None:
        chosen_k = getattr(model, "n_clusters", None)
    rows = sample_rows(array.shape[0], max_samples, random_state=0)
    sub = array if rows is None else array[rows]
    keywords: dict[str, Any] = {"chosen_k": chosen_k}
    if rows is not None:
        keywords["title"] = (
            f"Elbow on a sample of {sub.shape[0]:,} of {array.shape[0]:,} rows "
            f"(chosen k = {chosen_k})"
        )
    return elbow_curve(model, sub, k_range), keywords


def _criterion_choice(column: str, k: np.ndarray, oriented: np.ndarray, votes: dict) -> Any:
    """The k a criterion picks: its vote when known (the elbow for inertia), else its best."""
    key = "elbow" if column in MONOTONE_CRITERIA else column
    if key in votes:
        return votes[key]
    if column in MONOTONE_CRITERIA or not np.isfinite(oriented).any():
        return None
    return int(k[np.nanargmax(oriented)])


def _selection_table(
    scores: Any, chosen_k: int | None
) -> tuple[pd.DataFrame, Any, dict, Any, dict]:
    """(criteria table, chosen k, votes, gap standard errors, criterion display names) from a
    table or a choose_k result (read by its attributes: ``table``, ``best_k``, ``votes`` and
    ``criterion_names``; this module never imports clusterlab.selection)."""
    votes: dict[str, Any] = {}
    names: dict[str, str] = {}
    if not isinstance(scores, pd.DataFrame) and isinstance(
        getattr(scores, "table", None), pd.DataFrame
    ):
        if chosen_k is None:
            chosen_k = getattr(scores, "best_k", None)
        votes = dict(getattr(scores, "votes", None) or {})
        names = dict(getattr(scores, "criterion_names", None) or {})
        scores = scores.table
    if not isinstance(scores, pd.DataFrame) or scores.empty:
        raise ValueError(
            "scores must be a non-empty DataFrame indexed by k, one column per criterion, or a "
            f"clusterlab.selection.ChooseKResult; got {type(scores).__name__}"
        )
    gap_se = scores["gap_se"] if "gap_se" in scores.columns else None
    criteria = scores.drop(columns=list(NOT_CRITERIA), errors="ignore")
    return criteria, chosen_k, votes, gap_se, names


def plot_k_selection(
    scores: Any,
    *,
    chosen_k: int | None = None,
    lower_is_better: Iterable[str] = LOWER_IS_BETTER,
    layout: Literal["overlay", "panels"] = "overlay",
    ax: Axes | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """Every criterion against k: on one scale in one panel, or one panel per criterion.

    Parameters
    ----------
    scores : pandas.DataFrame or ChooseKResult
        Index: the k values tried; one column per criterion (raw values). Or the result of
        ``clusterlab.selection.choose_k``: its ``table`` (without ``votes``; ``gap_se`` gives
        the gap's error bars), its ``best_k`` (the chosen k) and its ``votes`` (the k each
        criterion chose).
    chosen_k : int, optional
        Marked on every panel; default the result's ``best_k``.
    lower_is_better : iterable of str
        Criteria (column names) where smaller is better; they are flipped before rescaling.
    layout : {"overlay", "panels"}, default="overlay"
        ``"overlay"``: every criterion rescaled to 0 (worst k) .. 1 (best k) on one axes, the
        legend giving each one's choice. ``"panels"``: one small panel per criterion in its
        own units, the k it chose as a dashed line and the chosen k as a green band (what
        ``ChooseKResult.plot()`` shows). With ``ax``, the panels take that axes' place.
    ax, title, save
        As in :func:`plot_clusters`.

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab.plots import plot_k_selection
    >>> table = pd.DataFrame({"silhouette": [0.5, 0.7, 0.4], "davies_bouldin": [0.9, 0.5, 1.0]},
    ...                      index=[2, 3, 4])
    >>> len(plot_k_selection(table, chosen_k=3).axes[0].get_legend().get_texts())
    3
    >>> len(plot_k_selection(table, chosen_k=3, layout="panels").axes)
    2
    """
    table, chosen_k, votes, gap_se, names = _selection_table(scores, chosen_k)
    if layout == "panels":
        marks = {"chosen_k": chosen_k, "votes": votes, "gap_se": gap_se, "names": names}
        return _k_panels(table, **marks, ax=ax, title=title, save=save)
    if layout != "overlay":
        raise ValueError(f"layout must be 'overlay' or 'panels'; got {layout!r}")
    lower = set(lower_is_better)
    fig, ax = figure_and_axes(ax, (7.0, 4.5))
    k = np.asarray(table.index, dtype=np.int64)
    for colour, column in zip(colours(table.shape[1]), table.columns, strict=True):
        values = table[column].to_numpy(dtype=np.float64)
        if column in lower:
            values = -values
        span = np.nanmax(values) - np.nanmin(values)
        scaled = (values - np.nanmin(values)) / span if span > 0 else np.ones_like(values)
        arrow = "↓" if column in lower else "↑"
        best = _criterion_choice(column, k, values, votes)
        note = f" (best k = {best})" if best is not None else ""
        ax.plot(k, scaled, marker="o", color=colour, label=f"{column} {arrow}{note}")
    if chosen_k is not None:
        ax.axvline(
            chosen_k, color="black", linestyle="--", linewidth=1, label=f"chosen k = {chosen_k}"
        )
    ax.set_xticks(k)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("number of clusters k")
    ax.set_ylabel("criterion, rescaled (1 = best)")
    ax.set_title(title or "Choosing k: every criterion")
    plain_axes(ax)
    ax.legend(frameon=False, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return finish(fig, save)


def _k_panels(
    table: pd.DataFrame,
    *,
    chosen_k: int | None,
    votes: dict,
    gap_se: Any,
    names: dict,
    ax: Axes | None,
    title: str | None,
    save: str | Path | None,
) -> Figure:
    """One panel per criterion: its values against k, its own choice and the chosen k."""
    own_figure = ax is None
    fig, axes = panel_grid(ax, table.shape[1], (4.0, 3.0))
    for panel, column in zip(axes, table.columns, strict=False):
        values = table[column]
        if column == "gap" and gap_se is not None:
            panel.errorbar(values.index, values, yerr=gap_se, marker="o")
        else:
            panel.plot(values.index, values, marker="o")
        vote = votes.get("elbow" if column in MONOTONE_CRITERIA else column)
        if vote is not None:
            panel.axvline(vote, color="tab:orange", linestyle="--", label=f"chosen k = {vote}")
            panel.legend(loc="best", fontsize="small", frameon=False)
        if chosen_k is not None:
            panel.axvline(chosen_k, color="tab:green", alpha=0.3, linewidth=6)
        panel.set_title(names.get(column, column))
        panel.set_xlabel("k")
        plain_axes(panel)
    if own_figure or title:
        fig.suptitle(title or (f"choose_k: k = {chosen_k}" if chosen_k is not None else "choose_k"))
    return finish(fig, save)


def _stability_series(scores: Any) -> tuple[Any, float, str]:
    """(scores, threshold, title note): a StabilityResult becomes its per-cluster Series."""
    if hasattr(scores, "jaccard") and hasattr(scores, "cluster_stability"):
        values = np.asarray(scores.cluster_stability, dtype=np.float64)
        threshold = float(getattr(scores, "threshold", REAPPEAR))
        note = f" (mean ARI {float(scores.mean_ari):.2f})"
        return pd.Series(values, index=[str(i) for i in range(values.size)]), threshold, note
    return scores, REAPPEAR, ""


def _stability_per_k(ax: Axes, scores: pd.DataFrame, chosen_k: int | None) -> None:
    """Mean agreement between resamples against k, with its standard deviation."""
    k = np.asarray(scores.index, dtype=np.int64)
    std = scores["std"].to_numpy(dtype=np.float64) if "std" in scores else None
    ax.errorbar(
        k,
        scores["mean"].to_numpy(dtype=np.float64),
        yerr=std,
        marker="o",
        capsize=4,
        color="#1f77b4",
        label="agreement between resamples",
    )
    if chosen_k is not None:
        ax.axvline(chosen_k, **_CHOSEN, label=f"chosen k = {chosen_k}")
    ax.set_xticks(k)
    ax.set_xlabel("number of clusters k")
    ax.legend(frameon=False, fontsize="small")


def _stability_per_segment(ax: Axes, scores: pd.Series, threshold: float) -> None:
    """A bar per segment (noise grey) against the threshold at which a cluster reappears."""
    names = [str(s) for s in scores.index]
    bar_colours = [
        NOISE_COLOUR if n in ("-1", "noise") else c
        for n, c in zip(names, colours(len(names)), strict=True)
    ]
    ax.bar(names, scores.to_numpy(dtype=np.float64), color=bar_colours)
    label = f"reappears (Jaccard {threshold:g})"
    ax.axhline(threshold, color="black", linestyle=":", linewidth=1, label=label)
    ax.legend(frameon=False, fontsize="small", loc="lower right")
    ax.set_xlabel("segment")


def plot_stability(
    scores: Any,
    *,
    chosen_k: int | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """Stability of the clustering under resampling.

    Parameters
    ----------
    scores : pandas.DataFrame, Series or StabilityResult
        Either one row per k (index k) with a ``mean`` column and optionally ``std`` (the
        agreement between clusterings of resamples, e.g. ARI), drawn as a line with error bars;
        or a Series indexed by segment (per-cluster stability, e.g. mean Jaccard), drawn as
        bars; or the result of ``clusterlab.selection.stability`` (its per-cluster mean
        Jaccard against its reappearance threshold, its mean ARI in the title).
    chosen_k : int, optional
        Marked on the per-k line.
    ax, title, save
        As in :func:`plot_clusters`.

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab.plots import plot_stability
    >>> per_k = pd.DataFrame({"mean": [0.9, 0.95, 0.6], "std": [0.05, 0.02, 0.1]},
    ...                      index=[2, 3, 4])
    >>> plot_stability(per_k, chosen_k=3).axes[0].get_xlabel()
    'number of clusters k'
    """
    scores, threshold, note = _stability_series(scores)
    if not isinstance(scores, pd.DataFrame | pd.Series):
        raise ValueError(
            "stability scores must be a DataFrame indexed by k, a Series indexed by segment "
            f"or a clusterlab.selection.StabilityResult; got {type(scores).__name__}"
        )
    if isinstance(scores, pd.DataFrame) and "mean" not in scores.columns:
        raise ValueError(f"stability scores need a 'mean' column; got {list(scores.columns)}")
    fig, ax = figure_and_axes(ax, (6.5, 4.2))
    if isinstance(scores, pd.DataFrame):
        _stability_per_k(ax, scores, chosen_k)
        ax.set_title(title or "Stability against k")
    else:
        _stability_per_segment(ax, scores, threshold)
        ax.set_title(title or f"Stability of each segment{note}")
    ax.set_ylabel("stability (1 = identical)")
    ax.set_ylim(0, 1.05)
    plain_axes(ax)
    return finish(fig, save)
