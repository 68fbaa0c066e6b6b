"""Plain-language rules that describe segments, read off a surrogate decision tree."""

from __future__ import annotations

import math
from dataclasses import dataclass
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

__all__ = ["SegmentRules", "describe_segments"]

# One-hot columns are named "<feature><SEP><category>" internally; the separator cannot clash
# with a user's column name in practice and never reaches the text shown.
_SEP = "\x1f"


@dataclass
class SegmentRules:
    """Rules returned by :func:`describe_segments`.

    Attributes
    ----------
    rules : pandas.DataFrame
        One row per rule: ``segment``, ``rule`` (plain language, thresholds in the data's units),
        ``precision`` (share of the rows matching the rule that are in the segment),
        ``coverage`` (share of the segment's rows that match the rule), ``n_matched`` and
        ``n_correct`` (the counts behind them). Sorted by segment, then coverage.
    fidelity : float
        Share of all rows whose segment the surrogate tree predicts correctly.
    max_depth : int
        Depth of the surrogate tree.
    """

    rules: pd.DataFrame
    fidelity: float
    max_depth: int

    def to_pandas(self) -> pd.DataFrame:
        """The rules table."""
        return self.rules.copy()

    def for_segment(self, segment: int | str) -> pd.DataFrame:
        """Rules of one segment (by id, e.g. ``0`` or ``-1``, or by name, e.g. ``"noise"``)."""
        name = segment if isinstance(segment, str) else segment_name(segment)
        return self.rules[self.rules["segment"] == name].reset_index(drop=True)

    def __str__(self) -> str:
        lines = [f"surrogate tree (depth {self.max_depth}), fidelity {self.fidelity:.1%}"]
        for row in self.rules.itertuples(index=False):
            lines.append(
                f"segment {row.segment}: {row.rule} "
                f"(precision {row.precision:.0%}, coverage {row.coverage:.0%})"
            )
        return "\n".join(lines)


def describe_segments(
    data: Any,
    labels: Any,
    max_depth: int = 3,
    *,
    min_samples_leaf: int | float = 0.01,
    random_state: int = 0,
) -> SegmentRules:
    """Describe each segment with if-then rules from a surrogate decision tree.

    A scikit-learn ``DecisionTreeClassifier`` learns to predict the segment from the original
    features (numeric columns as they are, so thresholds are in the data's units; categorical
    columns one-hot encoded, so conditions read ``Region = Lisbon`` / ``Region ≠ Lisbon``). Each
    leaf becomes a rule for the segment it predicts.

    Parameters
    ----------
    data : pandas.DataFrame or array-like of shape (n_samples, n_features)
        The original (unscaled) data.
    labels : array-like of shape (n_samples,)
        Segment of each row; noise (``-1``) is a segment of its own, named ``"noise"``.
    max_depth : int, default=3
        Depth of the tree, i.e. the most conditions in one rule.
    min_samples_leaf : int or float, default=0.01
        Smallest leaf, as a count or a fraction of the rows (scikit-learn's meaning); keeps rules
        from describing a handful of rows.
    random_state : int, default=0
        Seed of the tree (it breaks ties between equally good splits).

    Returns
    -------
    SegmentRules
        ``rules`` (segment, rule, precision, coverage, counts) and the tree's ``fidelity``.

    Notes
    -----
    Precision and coverage are counted directly on ``data``: a rule matching ``m`` rows of which
    ``c`` are in segment ``s`` (of size ``n_s``) has precision ``c / m`` and coverage ``c / n_s``.
    A segment that no leaf predicts (too small or too mixed at this depth) has no rule.

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab.insight import describe_segments
    >>> df = pd.DataFrame({"spend": [1.0, 2.0, 3.0, 10.0, 12.0, 14.0]})
    >>> print(describe_segments(df, [0, 0, 0, 1, 1, 1], max_depth=1).rules.loc[0, "rule"])
    spend ≤ 6.5
    """
    from sklearn.tree import DecisionTreeClassifier

    frame = as_frame(data)
    y = as_labels(labels, frame.shape[0])
    if isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 1:
        raise ValueError(f"max_depth must be an int >= 1; got {max_depth!r}")
    features, encoded = _encode(frame)
    tree = DecisionTreeClassifier(
        max_depth=max_depth, min_samples_leaf=min_samples_leaf, random_state=random_state
    )
    tree.fit(encoded, y)
    fidelity = float(np.mean(tree.predict(encoded) == y))
    leaves = tree.apply(encoded)
    rows = []
    sizes = {int(s): int(np.sum(y == s)) for s in segment_order(y)}
    for leaf, conditions in _leaf_paths(tree.tree_, features):
        in_leaf = leaves == leaf
        predicted = int(tree.classes_[np.argmax(tree.tree_.value[leaf, 0])])
        matched = int(in_leaf.sum())
        correct = int(np.sum(in_leaf & (y == predicted)))
        rows.append(
            (
                predicted,
                _rule_text(conditions),
                correct / matched if matched else math.nan,
                correct / sizes[predicted],
                matched,
                correct,
            )
        )
    table = pd.DataFrame(
        rows, columns=["segment", "rule", "precision", "coverage", "n_matched", "n_correct"]
    )
    order = {s: i for i, s in enumerate(segment_order(y))}
    table["_order"] = table["segment"].map(order)
    table = table.sort_values(["_order", "coverage"], ascending=[True, False], kind="stable")
    table["segment"] = table["segment"].map(segment_name)
    table = table.drop(columns="_order").reset_index(drop=True)
    return SegmentRules(table, fidelity, max_depth)


def _encode(frame: pd.DataFrame) -> tuple[list[tuple[str, str | None]], np.ndarray]:
    """Numeric columns as float, categorical ones one-hot; (feature, category) per column."""
    numeric, categorical = split_columns(frame)
    blocks: list[np.ndarray] = []
    features: list[tuple[str, str | None]] = []
    for column in frame.columns:
        if column in numeric:
            blocks.append(frame[column].to_numpy(dtype=np.float64, na_value=np.nan)[:, None])
            features.append((column, None))
        elif column in categorical:
            values = frame[column].astype("object").where(frame[column].notna(), "(missing)")
            values = values.astype(str)
            for category in sorted(values.unique()):
                blocks.append((values == category).to_numpy(dtype=np.float64)[:, None])
                features.append((column, category))
    if not blocks:
        raise ValueError("data has no numeric or categorical column to build rules from")
    return features, np.hstack(blocks)


def _leaf_paths(tree: Any, features: list[tuple[str, str | None]]):
    """Yield (leaf id, [(feature, category, op, threshold), ...]) for every leaf."""
    stack = [(0, [])]
    while stack:
        node, conditions = stack.pop()
        left, right = tree.children_left[node], tree.children_right[node]
        if left == right:  # a leaf
            yield node, conditions
            continue
        feature, category = features[tree.feature[node]]
        threshold = float(tree.threshold[node])
        stack.append((right, [*conditions, (feature, category, ">", threshold)]))
        stack.append((left, [*conditions, (feature, category, "<=", threshold)]))


def _rule_text(conditions: list[tuple[str, str | None, str, float]]) -> str:
    """Merge the conditions on each feature into one readable clause, joined by 'and'."""
    if not conditions:
        return "all rows"
    bounds: dict[str, list[float]] = {}
    equal: dict[str, str] = {}
    not_equal: dict[str, list[str]] = {}
    order: list[str] = []
    for feature, category, op, threshold in conditions:
        if feature not in order:
            order.append(feature)
        if category is None:
            low, high = bounds.setdefault(feature, [-math.inf, math.inf])
            bounds[feature] = (
                [max(low, threshold), high] if op == ">" else [low, min(high, threshold)]
            )
        elif op == ">":  # the one-hot column is 1: the feature equals the category
            equal[feature] = category
        else:
            not_equal.setdefault(feature, []).append(category)
    clauses = []
    for feature in order:
        if feature in bounds:
            low, high = bounds[feature]
            if math.isinf(low):
                clauses.append(f"{feature} ≤ {_fmt(high)}")
            elif math.isinf(high):
                clauses.append(f"{feature} > {_fmt(low)}")
            else:
                clauses.append(f"{_fmt(low)} < {feature} ≤ {_fmt(high)}")
        elif feature in equal:
            clauses.append(f"{feature} = {equal[feature]}")
        else:
            excluded = not_equal[feature]
            if len(excluded) == 1:
                clauses.append(f"{feature} ≠ {excluded[0]}")
            else:
                clauses.append(f"{feature} not in {{{', '.join(excluded)}}}")
    return " and ".join(clauses)


def _fmt(value: float) -> str:
    """A threshold with as many digits as a person needs: 12,345 / 3.25 / 0.0123."""
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.1f}".removesuffix(".0")
    if magnitude >= 10:
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"
