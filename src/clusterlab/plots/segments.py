"""One picture per segment: silhouettes, sizes, feature distributions, standardised profiles."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clusterlab._base import NOISE
from clusterlab.insight._common import segment_order
from clusterlab.plots._data import as_labels, as_matrix, clusters, sample_rows
from clusterlab.plots._figure import (
    colours,
    figure_and_axes,
    finish,
    legend,
    panel_grid,
    plain_axes,
    segment_colours,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_distribution", "plot_feature", "plot_profile", "plot_silhouette"]

#: Most categories a categorical feature shows; the rarer ones are grouped as "other".
TOP_CATEGORIES = 6


def _names(order: list[int]) -> list[str]:
    return ["noise" if s == NOISE else str(s) for s in order]


def plot_silhouette(
    X: Any,
    labels: Any,
    *,
    metric: str | Callable[[np.ndarray], np.ndarray] = "euclidean",
    max_samples: int | None = 5000,
    random_state: int = 0,
    ax: Axes | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """Silhouette of each row, as sorted horizontal bars grouped by cluster.

    Noise rows are left out (a silhouette is defined for cluster members). Silhouettes cost
    O(n^2): above ``max_samples`` rows a uniform random sample is used, and the title says so.
    ``metric`` is a distance :func:`clusterlab.metrics.silhouette_samples` knows, or a function
    that returns the square distance matrix of the rows (of X) it is given, such as a fitted
    :class:`clusterlab.GowerDistance`'s ``pairwise`` for a mixed table (rows as the
    distance's ``fit`` read them).

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.plots import plot_silhouette
    >>> X = np.r_[np.zeros((20, 2)), np.ones((20, 2))] + np.random.default_rng(0).normal(
    ...     scale=0.1, size=(40, 2))
    >>> fig = plot_silhouette(X, np.repeat([0, 1], 20))
    >>> fig.axes[0].get_title().startswith("Silhouette")
    True
    """
    from clusterlab.metrics import silhouette_samples

    array, _ = as_matrix(X)
    y = as_labels(labels, array.shape[0])
    members = np.flatnonzero(y != NOISE)
    if clusters(y).size < 2:
        raise ValueError(
            f"plot='silhouette' needs at least 2 clusters (noise aside); got {clusters(y).size}"
        )
    rows = sample_rows(members.size, max_samples, random_state)
    if rows is not None:
        members = members[rows]
    sub, y_sub = array[members], y[members]
    if np.unique(y_sub).size < 2:
        raise ValueError("the silhouette sample holds a single cluster; raise max_samples")
    if callable(metric):
        values = silhouette_samples(metric(sub), y_sub, metric="precomputed")
    else:
        values = silhouette_samples(sub, y_sub, metric=metric)
    fig, ax = figure_and_axes(ax, (7.0, 5.5))
    palette = segment_colours(y_sub)
    bottom = 0
    gap = max(2, int(0.02 * sub.shape[0]))
    for label in clusters(y_sub):
        cluster = np.sort(values[y_sub == label])
        positions = np.arange(bottom, bottom + cluster.size)
        ax.fill_betweenx(
            positions,
            0,
            cluster,
            color=palette[label],
            alpha=0.85,
            lw=0,
            label=f"segment {label} (mean {cluster.mean():.2f})",
        )
        ax.text(
            -0.02, bottom + cluster.size / 2, str(label), ha="right", va="center", fontsize="small"
        )
        bottom += cluster.size + gap
    mean = float(values.mean())
    ax.axvline(mean, color="black", linestyle="--", linewidth=1, label=f"mean {mean:.2f}")
    ax.set_xlim(min(-0.1, float(values.min()) - 0.05), 1.0)
    ax.set_yticks([])
    ax.set_xlabel("silhouette")
    ax.set_ylabel("rows, grouped by segment")
    sampled = "" if rows is None else f", sample of {members.size:,}"
    ax.set_title(title or f"Silhouette (mean {mean:.2f}{sampled})")
    legend(ax, clusters(y_sub).size + 1)
    return finish(fig, save)


def plot_distribution(
    labels: Any,
    *,
    values: Any = None,
    ax: Axes | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """Bar chart of segment sizes, with noise as a grey bar at the end; or, with ``values``,
    the distribution of one feature stacked by segment.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Segment of each row.
    values : pandas.Series or array-like of shape (n_samples,), optional
        One feature's value for each row (PyCaret's ``plot_model(plot='distribution',
        feature=...)``): a numeric feature is drawn as a histogram, a categorical one as counts
        per category, each bar stacked by segment. A Series' name labels the x axis.
    ax, title, save
        As in :func:`plot_clusters`.

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab.plots import plot_distribution
    >>> len(plot_distribution([0, 0, 1, -1]).axes[0].patches)
    3
    >>> fig = plot_distribution([0, 0, 1, 1], values=pd.Series([1.0, 2, 8, 9], name="age"))
    >>> fig.axes[0].get_xlabel()
    'age'
    """
    y = np.asarray(labels)
    y = as_labels(y, y.shape[0] if y.ndim == 1 else -1)
    if values is not None:
        return _feature_distribution(y, values, ax=ax, title=title, save=save)
    order = segment_order(y)
    counts = np.array([np.sum(y == label) for label in order])
    palette = segment_colours(y)
    fig, ax = figure_and_axes(ax, (max(5.0, 0.5 * len(order) + 2), 4.0))
    bars = ax.bar(_names(order), counts, color=[palette[label] for label in order])
    for bar, count in zip(bars, counts, strict=True):
        ax.annotate(
            f"{count:,}\n{count / y.size:.0%}",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize="small",
        )
    ax.set_ylim(0, counts.max() * 1.2)
    ax.set_xlabel("segment")
    ax.set_ylabel("rows")
    ax.set_title(title or f"Segment sizes ({y.size:,} rows)")
    plain_axes(ax)
    return finish(fig, save)


def _feature_distribution(
    y: np.ndarray, values: Any, *, ax: Axes | None, title: str | None, save: str | Path | None
) -> Figure:
    """Histogram (numeric) or counts per category (categorical) of one feature, stacked by
    segment."""
    column = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values))
    name = str(column.name) if column.name is not None else "value"
    if column.shape != y.shape:
        raise ValueError(f"values must have one entry per row ({y.size}); got {column.shape[0]}")
    column = column.reset_index(drop=True)
    order = segment_order(y)
    palette = segment_colours(y)
    fig, ax = figure_and_axes(ax, (7.0, 4.5))
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        numbers = column.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = np.isfinite(numbers)
        edges = np.histogram_bin_edges(numbers[finite], bins="auto")
        if edges.size > 51:  # a readable histogram: at most 50 bars
            edges = np.linspace(edges[0], edges[-1], 51)
        ax.hist(
            [numbers[finite & (y == s)] for s in order],
            bins=edges,
            stacked=True,
            color=[palette[s] for s in order],
            label=_names(order),
        )
    else:
        text = column.astype("object").where(column.notna(), "(missing)").astype(str)
        counts = pd.crosstab(text, pd.Series(y)).reindex(columns=order, fill_value=0)
        counts = counts.loc[counts.sum(axis=1).sort_values(ascending=False).index]
        bottom = np.zeros(len(counts))
        for s, label in zip(order, _names(order), strict=True):
            heights = counts[s].to_numpy()
            ax.bar(counts.index, heights, bottom=bottom, color=palette[s], label=label)
            bottom += heights
        ax.tick_params(axis="x", labelrotation=30)
    ax.set_xlabel(name)
    ax.set_ylabel("rows")
    ax.set_title(title or f"Distribution of {name} by segment")
    ax.legend(title="segment", frameon=False, fontsize="small")
    plain_axes(ax)
    return finish(fig, save)


def plot_profile(
    data: Any,
    labels: Any,
    *,
    max_features: int = 30,
    ax: Axes | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """Heatmap of standardised feature means per segment (rows) and numeric feature (columns).

    Each cell is (segment mean - population mean) / population standard deviation, from
    :func:`clusterlab.insight.profile_segments`; red is above average, blue below. With more
    than ``max_features`` numeric features, the most distinctive ones are shown.

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab.plots import plot_profile
    >>> df = pd.DataFrame({"a": [1.0, 2, 9, 8], "b": [5.0, 4, 1, 0]})
    >>> plot_profile(df, [0, 0, 1, 1]).axes[0].get_title()
    'Segment profiles (standardised means)'
    """
    from clusterlab.insight import profile_segments

    table = profile_segments(data, labels).numeric
    if table.empty:
        raise ValueError("plot='profile' needs at least one numeric column in data")
    grid = table.pivot(index="segment", columns="feature", values="std_diff")
    grid = grid.reindex(
        index=list(dict.fromkeys(table["segment"])), columns=list(dict.fromkeys(table["feature"]))
    )
    if grid.shape[1] > max_features:
        keep = grid.abs().max(axis=0).sort_values(ascending=False).index[:max_features]
        grid = grid[[c for c in grid.columns if c in set(keep)]]
    values = grid.to_numpy(dtype=np.float64)
    limit = max(1.0, float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0)
    longest = max(len(str(c)) for c in grid.columns)  # rotated tick labels need room below
    width = max(5.5, 0.7 * grid.shape[1] + 3.0)
    fig, ax = figure_and_axes(ax, (width, max(3.0, 0.45 * len(grid) + 1.6 + 0.07 * longest)))
    image = ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    ax.set_xticks(range(grid.shape[1]), grid.columns, rotation=40, ha="right")
    ax.set_yticks(range(len(grid)), [f"segment {s}" if s != "noise" else s for s in grid.index])
    if values.size <= 400:
        for (i, j), value in np.ndenumerate(values):
            if np.isfinite(value):
                colour = "white" if abs(value) > 0.6 * limit else "black"
                ax.text(
                    j,
                    i,
                    f"{value:+.1f}",
                    ha="center",
                    va="center",
                    fontsize="x-small",
                    color=colour,
                )
    fig.colorbar(image, ax=ax, label="SDs from population mean", shrink=0.85)
    ax.set_title(title or "Segment profiles (standardised means)")
    return finish(fig, save)


def _distinctive(frame: pd.DataFrame, labels: np.ndarray, numeric: list[str]) -> list[str]:
    """Numeric features ordered by the share of variance the segments explain (eta squared)."""
    scores = {}
    for column in numeric:
        values = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
        ok = np.isfinite(values)
        total = np.var(values[ok]) * ok.sum()
        if total <= 0:
            scores[column] = 0.0
            continue
        groups = pd.Series(values[ok]).groupby(labels[ok])
        between = float((groups.count() * (groups.mean() - values[ok].mean()) ** 2).sum())
        scores[column] = between / total
    return sorted(numeric, key=lambda c: -scores[c])


def _chosen_features(
    frame: pd.DataFrame, y: np.ndarray, features: Sequence[str] | None, max_features: int
) -> tuple[list[str], list[str]]:
    """The features to draw and which of all columns are numeric."""
    from clusterlab.insight._common import split_columns

    numeric, categorical = split_columns(frame)
    if features is None:
        chosen = _distinctive(frame, y, numeric)[:max_features]
        chosen += categorical[: max(0, max_features - len(chosen))]
    else:
        missing = [f for f in features if f not in frame.columns]
        if missing:
            raise ValueError(
                f"features {missing} are not columns of data; columns are {list(frame.columns)}"
            )
        chosen = list(features)
    if not chosen:
        raise ValueError("plot='feature' found no numeric or categorical column in data")
    return chosen, numeric


def plot_feature(
    data: Any,
    labels: Any,
    *,
    features: Sequence[str] | None = None,
    max_features: int = 6,
    ax: Axes | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """Distribution of each feature by segment: box plots for numeric features, stacked
    shares for categorical ones, one panel per feature.

    Parameters
    ----------
    data : pandas.DataFrame or array-like
        The original data (so that axes are in the user's units).
    labels : array-like of shape (n_samples,)
        Segment of each row; noise is a grey group of its own.
    features : list of str, optional
        Columns to show; by default the ``max_features`` numeric columns that the segments
        separate best (highest eta squared), then categorical columns up to ``max_features``.
    max_features : int, default=6
        Panels when ``features`` is not given.
    ax : matplotlib Axes, optional
        The panels take this axes' place in its figure; by default a new figure.
    title, save
        As in :func:`plot_clusters`.

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab.plots import plot_feature
    >>> df = pd.DataFrame({"a": [1.0, 2, 9, 8], "c": ["x", "y", "y", "y"]})
    >>> len(plot_feature(df, [0, 0, 1, 1]).axes)
    2
    """
    from clusterlab.insight._common import as_frame

    frame = as_frame(data)
    y = as_labels(labels, frame.shape[0])
    chosen, numeric = _chosen_features(frame, y, features, max_features)
    own_figure = ax is None
    fig, axes = panel_grid(ax, len(chosen), (4.2, 3.3))
    order = segment_order(y)
    palette = segment_colours(y)
    for panel, feature in zip(axes, chosen, strict=False):
        if feature in numeric:
            values = frame[feature].to_numpy(dtype=np.float64, na_value=np.nan)
            boxes = panel.boxplot(
                [values[(y == s) & np.isfinite(values)] for s in order],
                tick_labels=_names(order),
                patch_artist=True,
                showfliers=False,
                widths=0.6,
                medianprops={"color": "black"},
            )
            for patch, s in zip(boxes["boxes"], order, strict=True):
                patch.set_facecolor(palette[s])
                patch.set_alpha(0.8)
        else:
            _stacked_shares(panel, frame[feature], y, order=order)
        panel.set_title(feature, fontsize="medium")
        panel.set_xlabel("segment", fontsize="small")
        panel.tick_params(labelsize="small")
        plain_axes(panel)
    if own_figure or title:
        fig.suptitle(title or "Features by segment")
    return finish(fig, save)


def _stacked_shares(ax: Axes, column: pd.Series, y: np.ndarray, *, order: list[int]) -> None:
    """Share of each category (the most frequent ones, the rest as "other") in each segment."""
    values = column.astype("object").where(column.notna(), "(missing)").astype(str)
    frequent = values.value_counts().index[:TOP_CATEGORIES]
    values = values.where(values.isin(frequent), "other")
    shares = pd.crosstab(pd.Series(y, index=column.index), values, normalize="index")
    shares = shares.reindex(index=order, fill_value=0)
    bottom = np.zeros(len(order))
    for colour, category in zip(colours(shares.shape[1]), shares.columns, strict=True):
        heights = shares[category].to_numpy()
        ax.bar(_names(order), heights, bottom=bottom, color=colour, label=category)
        bottom += heights
    ax.set_ylabel("share", fontsize="small")
    ax.legend(fontsize="x-small", frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
