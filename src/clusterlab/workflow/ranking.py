"""Ranking models: the documented rank rule and the degenerate-labelling rule.

Every model gets, for each criterion, its rank among the models (1 = best, ties share the mean
rank, a missing score ranks last); models are ordered by the **mean of these ranks**, ties
broken by the first criterion (the Silhouette by default). The criteria are the internal indices
Silhouette (higher is better), Calinski-Harabasz (higher) and Davies-Bouldin (lower); when some
model labels noise, its coverage (share of rows in a cluster) is a fourth criterion, so that a
model cannot win by calling the hard half of the data noise. A labelling that is not a
segmentation of most rows -- more than ``MAX_NOISE_SHARE`` (50%) of the rows noise, or one
segment holding more than ``MAX_SEGMENT_SHARE`` (95%) of them -- is ranked after every other
model whatever its indices, and its note says why (internal indices ignore noise, so a model
that keeps only two tight corners of the data would otherwise win). With ground truth, the
external indices (ARI, AMI, homogeneity, completeness) are the criteria instead. One index alone
is never the rule; ``sort='<metric>'`` orders by that metric when the user asks for it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clusterlab.workflow.scoring import MetricSet

__all__ = ["MAX_NOISE_SHARE", "MAX_SEGMENT_SHARE", "criteria", "order", "rank_models"]

#: Above this share of noise rows a labelling is ranked after every other.
MAX_NOISE_SHARE = 0.5
#: Above this share of rows in one segment a labelling is ranked after every other.
MAX_SEGMENT_SHARE = 0.95

Criteria = list[tuple[str, bool]]


def rank_models(frame: pd.DataFrame, criteria: Criteria) -> pd.Series:
    """Mean rank of each row over ``criteria`` (column, greater_is_better); lower is better.

    A missing score ranks last; ties share the mean rank.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"Silhouette": [0.5, 0.7], "Davies-Bouldin": [0.4, 0.9]}, index=["a", "b"])
    >>> rank_models(f, [("Silhouette", True), ("Davies-Bouldin", False)]).tolist()
    [1.5, 1.5]
    """
    ranks = []
    for col, greater in criteria:
        if col not in frame:
            continue
        values = pd.to_numeric(frame[col], errors="coerce")
        ranks.append(values.rank(ascending=not greater, method="average", na_option="bottom"))
    if not ranks:
        return pd.Series(np.zeros(len(frame)), index=frame.index)
    return pd.concat(ranks, axis=1).mean(axis=1)


def degenerate(frame: pd.DataFrame) -> pd.Series:
    """Why each row is not a segmentation of most of the data ('' when it is one)."""
    noise = pd.to_numeric(frame.get("Noise", 0.0), errors="coerce").fillna(0.0)
    largest = pd.to_numeric(frame.get("Largest segment", 0.0), errors="coerce").fillna(0.0)
    why = pd.Series("", index=frame.index, dtype=object)
    why[largest > MAX_SEGMENT_SHARE] = [
        f"ranked last: one segment holds {v:.0%} of the rows"
        for v in largest[largest > MAX_SEGMENT_SHARE]
    ]
    why[noise > MAX_NOISE_SHARE] = [
        f"ranked last: {v:.0%} of the rows are noise" for v in noise[noise > MAX_NOISE_SHARE]
    ]
    return why


def order(frame: pd.DataFrame, criteria: Criteria, *, demote: bool = True) -> pd.DataFrame:
    """``frame`` sorted by the rank rule, with its ``Mean rank`` first; degenerate labellings
    last (``demote``) with the reason prefixed to their ``Note``."""
    score = rank_models(frame, criteria)
    tie = pd.to_numeric(frame[criteria[0][0]], errors="coerce") if criteria else 0
    why = degenerate(frame) if demote else pd.Series("", index=frame.index, dtype=object)
    keys = pd.DataFrame(
        {
            "last": why != "",
            "rank": score,
            "tie": -tie if criteria and criteria[0][1] else tie,
        }
    )
    ordered = keys.sort_values(["last", "rank", "tie"], na_position="last", kind="stable").index
    out = frame.loc[ordered].copy()
    out.insert(0, "Mean rank", score.loc[ordered].round(3))
    if "Note" in out and why.loc[ordered].ne("").any():
        notes = out["Note"].fillna("").astype(str)
        extra = why.loc[ordered]
        out["Note"] = ["; ".join(t for t in (e, n) if t) for e, n in zip(extra, notes, strict=True)]
    return out


def criteria(frame: pd.DataFrame, metrics: MetricSet, sort: str, has_truth: bool) -> Criteria:
    """The criteria of the rank rule for ``frame`` (``sort='auto'``), or the one metric asked
    for. Adds the ``Coverage`` column to ``frame`` when some row labels noise."""
    if sort != "auto":
        m = metrics.find(sort)
        return [(m.display_name, m.greater_is_better)]
    chosen = metrics.criteria(has_truth)
    if not has_truth and "Noise" in frame and (pd.to_numeric(frame["Noise"]) > 0).any():
        frame["Coverage"] = 1.0 - pd.to_numeric(frame["Noise"])
        chosen.append(("Coverage", True))
    return chosen
