"""Segment profiles: who is in each segment, how it differs from everyone, in one line."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from clusterlab.insight._common import (
    as_frame,
    as_labels,
    segment_name,
    segment_order,
    split_columns,
)

__all__ = ["SegmentProfiles", "profile_segments"]

#: Label shown for missing values among a categorical column's categories.
MISSING_CATEGORY = "(missing)"
#: Row of :attr:`SegmentProfiles.shares` for the whole population.
ALL_ROWS = "all"


@dataclass
class SegmentProfiles:
    """Per-segment profiles returned by :func:`profile_segments`.

    Attributes
    ----------
    sizes : pandas.DataFrame
        One row per segment (index: segment name, ``"noise"`` last): ``size``, ``share`` and the
        one-line ``description``.
    numeric : pandas.DataFrame
        One row per (segment, numeric feature): ``mean``, ``median``, ``population_mean``,
        ``population_median``, ``lift`` (segment mean / population mean; NaN when the feature
        takes negative values or its population mean is 0) and ``std_diff`` ((segment mean -
        population mean) / population standard deviation).
    categorical : pandas.DataFrame
        One row per (segment, categorical feature, top category): ``share`` in the segment,
        ``population_share`` and ``lift`` (their ratio).
    descriptions : dict
        Segment name -> one-line description from its most distinctive features.
    shares : dict
        Categorical feature -> its segment contents: the share of every category (columns, most
        frequent first) in each segment (rows), and in everyone (the last row, ``"all"``).
    """

    sizes: pd.DataFrame
    numeric: pd.DataFrame
    categorical: pd.DataFrame
    descriptions: dict[str, str] = field(default_factory=dict)
    shares: dict[str, pd.DataFrame] = field(default_factory=dict)

    def to_pandas(self) -> pd.DataFrame:
        """One row per segment: size, share, the mean of each numeric feature, description."""
        wide = self.sizes[["size", "share"]].copy()
        if not self.numeric.empty:
            means = self.numeric.pivot(index="segment", columns="feature", values="mean")
            features = list(dict.fromkeys(self.numeric["feature"]))
            wide = wide.join(means[features])
        wide["description"] = self.sizes["description"]
        return wide

    def __str__(self) -> str:
        lines = [
            f"segment {name} ({row['size']} rows, {row['share']:.1%}): {row['description']}"
            for name, row in self.sizes.iterrows()
        ]
        return "\n".join(lines)


def profile_segments(
    data: Any,
    labels: Any,
    *,
    n_describe: int = 3,
    top_categories: int = 3,
    min_effect: float = 0.2,
) -> SegmentProfiles:
    """Profile each segment against the whole population.

    Parameters
    ----------
    data : pandas.DataFrame or array-like of shape (n_samples, n_features)
        The original (unscaled) data, so that means and thresholds are in the user's units.
        Numeric columns are summarised by mean and median, the others (strings, categoricals,
        booleans) by their most frequent categories.
    labels : array-like of shape (n_samples,)
        Segment of each row; ``-1`` (noise) is profiled as its own segment named ``"noise"``.
    n_describe : int, default=3
        Most distinctive features named in each one-line description.
    top_categories : int, default=3
        Categories listed per segment and categorical feature.
    min_effect : float, default=0.2
        A feature is named in a description only when its standardised difference (numeric) or
        its standardised difference in proportion (a category) is at least this large in
        absolute value.

    Returns
    -------
    SegmentProfiles
        Tables ``sizes``, ``numeric``, ``categorical``, the ``descriptions`` and ``to_pandas()``.

    Notes
    -----
    The population is every row, noise included. For a numeric feature the *lift* is the segment
    mean over the population mean (shown as ``x3.1``), defined when the feature is never negative
    and its population mean is positive; the *standardised difference* is (segment mean -
    population mean) / population standard deviation (``ddof=1``). For a category with
    population share ``p`` and segment share ``q`` the standardised difference is
    ``(q - p) / sqrt(p (1 - p))``.
    Descriptions rank features by the absolute standardised difference, so that numeric features
    and categories compete on one scale.

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab.insight import profile_segments
    >>> df = pd.DataFrame({"spend": [1.0, 2.0, 3.0, 10.0, 12.0, 14.0]})
    >>> profiles = profile_segments(df, [0, 0, 0, 1, 1, 1])
    >>> profiles.descriptions["1"]
    'high spend (x1.7)'
    """
    frame = as_frame(data)
    y = as_labels(labels, frame.shape[0])
    for name, value in (("n_describe", n_describe), ("top_categories", top_categories)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1; got {value!r}")
    if not (isinstance(min_effect, int | float) and min_effect >= 0):
        raise ValueError(f"min_effect must be a number >= 0; got {min_effect!r}")
    numeric_cols, categorical_cols = split_columns(frame)
    order = segment_order(y)
    names = [segment_name(s) for s in order]
    group = pd.Series(y, index=frame.index).map(segment_name)

    sizes = group.value_counts().reindex(names).astype(np.int64)
    sizes_frame = pd.DataFrame({"size": sizes, "share": sizes / frame.shape[0]})
    sizes_frame.index.name = "segment"
    numeric = _numeric_table(frame[numeric_cols], group, names)
    categorical = _categorical_table(frame[categorical_cols], group, names, top_categories)
    candidates = _candidates(numeric, frame[categorical_cols], group, names)
    descriptions = {
        name: _describe(candidates.get(name, []), n_describe, min_effect) for name in names
    }
    sizes_frame["description"] = pd.Series(descriptions)
    shares = {c: category_shares(frame[c], group, names) for c in categorical_cols}
    return SegmentProfiles(sizes_frame, numeric, categorical, descriptions, shares)


def _numeric_table(frame: pd.DataFrame, group: pd.Series, names: list[str]) -> pd.DataFrame:
    columns = [
        "segment",
        "feature",
        "mean",
        "median",
        "population_mean",
        "population_median",
        "lift",
        "std_diff",
    ]
    if frame.shape[1] == 0:
        return pd.DataFrame(columns=columns)
    values = frame.astype(np.float64)
    grouped = values.groupby(group, sort=False)
    means = grouped.mean().reindex(names)
    medians = grouped.median().reindex(names)
    pop_mean = values.mean()
    pop_median = values.median()
    pop_std = values.std(ddof=1)
    # Lift is a ratio of means: only meaningful for quantities that cannot be negative.
    ratio_ok = (values.min() >= 0) & (pop_mean > 0)
    rows = []
    for name in names:
        for feature in values.columns:
            mean = float(means.at[name, feature])
            std = float(pop_std[feature])
            lift = mean / pop_mean[feature] if ratio_ok[feature] else math.nan
            diff = (mean - pop_mean[feature]) / std if std > 0 else math.nan
            rows.append(
                (
                    name,
                    feature,
                    mean,
                    float(medians.at[name, feature]),
                    float(pop_mean[feature]),
                    float(pop_median[feature]),
                    float(lift),
                    float(diff),
                )
            )
    return pd.DataFrame(rows, columns=columns)


def _category_values(column: pd.Series) -> pd.Series:
    return column.astype("object").where(column.notna(), MISSING_CATEGORY).astype(str)


def category_shares(column: pd.Series, group: pd.Series, names: list[str]) -> pd.DataFrame:
    """Share of every category of ``column`` in each segment of ``group`` (rows ``names``, then
    ``"all"``); columns are the categories, most frequent overall first."""
    values = _category_values(column)
    population = values.value_counts(normalize=True)
    shares = pd.crosstab(group, values, normalize="index").reindex(
        index=names, columns=population.index, fill_value=0.0
    )
    shares.loc[ALL_ROWS] = population
    shares.index.name, shares.columns.name = "segment", str(column.name)
    return shares


def _categorical_table(
    frame: pd.DataFrame, group: pd.Series, names: list[str], top: int
) -> pd.DataFrame:
    columns = ["segment", "feature", "category", "share", "population_share", "lift"]
    rows = []
    for feature in frame.columns:
        values = _category_values(frame[feature])
        population = values.value_counts(normalize=True)
        shares = pd.crosstab(group, values, normalize="index")
        for name in names:
            seg = shares.loc[name].sort_values(ascending=False, kind="stable")
            for category, share in seg.head(top).items():
                if share <= 0:
                    continue
                pop = float(population[category])
                rows.append((name, feature, category, float(share), pop, float(share) / pop))
    return pd.DataFrame(rows, columns=columns)


def _candidates(
    numeric: pd.DataFrame, categorical: pd.DataFrame, group: pd.Series, names: list[str]
) -> dict[str, list[tuple[float, str]]]:
    """Per segment: (standardised difference, phrase) for every feature and category."""
    out: dict[str, list[tuple[float, str]]] = {name: [] for name in names}
    for row in numeric.itertuples(index=False):
        if not math.isfinite(row.std_diff):
            continue
        word = "high" if row.std_diff > 0 else "low"
        effect = (
            f"x{_fmt_ratio(row.lift)}" if math.isfinite(row.lift) else f"{row.std_diff:+.1f} sd"
        )
        out[row.segment].append((row.std_diff, f"{word} {row.feature} ({effect})"))
    for feature in categorical.columns:
        values = _category_values(categorical[feature])
        population = values.value_counts(normalize=True)
        shares = pd.crosstab(group, values, normalize="index")
        for name in names:
            for category, share in shares.loc[name].items():
                pop = float(population[category])
                if not 0 < pop < 1 or share <= pop:
                    continue  # only over-represented categories make a readable phrase
                diff = (share - pop) / math.sqrt(pop * (1 - pop))
                phrase = f"{feature} = {category} ({share:.0%}, x{_fmt_ratio(share / pop)})"
                out[name].append((diff, phrase))
    return out


def _describe(candidates: list[tuple[float, str]], n: int, min_effect: float) -> str:
    ranked = sorted(candidates, key=lambda c: -abs(c[0]))
    chosen = [phrase for diff, phrase in ranked if abs(diff) >= min_effect][:n]
    return ", ".join(chosen) if chosen else "close to the population average"


def _fmt_ratio(value: float) -> str:
    return f"{value:.1f}" if value >= 0.095 else f"{value:.2f}"
