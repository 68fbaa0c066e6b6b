"""How compare_models chooses k for the models of categories: the Gower silhouette.

choose_k's criteria (gap statistic, Calinski-Harabasz, Davies-Bouldin, the Euclidean silhouette)
measure Euclidean distances, which mean nothing between category codes (the code of 'Dream'
is not between those of 'Biscoe' and 'Torgersen'). A model that reads setup's raw view of
categorical columns (:mod:`clusterlab.workflow.categories`) is fitted at every k of its entry's
range on the search sample instead, and the k of the highest silhouette under Gower's distance
wins (ties to the smaller k): the distance compare_models ranks every model by on such data.
The result is a :class:`~clusterlab.selection.ChooseKResult` with that one criterion, so the
leaderboard's ``k chosen by`` and the k-selection plot show it like any other.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SILHOUETTE_SAMPLE", "choose_k_by_gower"]

#: Rows of the Gower silhouette at each k (a random sample above it, the same for every k).
SILHOUETTE_SAMPLE = 4000


def choose_k_by_gower(
    build: Any,
    X: np.ndarray,
    categorical: tuple[int, ...],
    k_range: Iterable[int],
    *,
    seed: int | None,
) -> Any:
    """Fit ``build(k)`` on ``X`` for every k of ``k_range`` below ``len(X)`` and choose the k
    of the highest Gower silhouette (``categorical``: positions of the category-code columns).

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.cluster import KModes
    >>> X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]), 20, axis=0)
    >>> result = choose_k_by_gower(
    ...     lambda k: KModes(k, random_state=0), X, (0, 1), range(2, 6), seed=0
    ... )
    >>> result.best_k
    3
    """
    from clusterlab.selection import ChooseKResult

    ks = [k for k in k_range if k <= len(X) - 1]
    if len(ks) < 2:
        raise ValueError(
            f"too few rows ({len(X)}) to choose k: choosing among at least two values of k "
            "needs 4 rows or more"
        )
    sampled = len(X) > SILHOUETTE_SAMPLE
    scores, labels = {}, {}
    for k in ks:
        labels[k] = np.asarray(build(k).fit(X).labels_, dtype=np.int64)
        scores[k] = _silhouette(X, labels[k], categorical, sampled=sampled, seed=seed)
    table = pd.DataFrame({"silhouette": pd.Series(scores, dtype=np.float64)})
    table.index.name = "k"
    finite = table["silhouette"].dropna()
    if finite.empty:
        raise ValueError("no k gave a silhouette under Gower's distance (one cluster at every k)")
    best = int(finite.idxmax())  # idxmax: the first, so the smaller k, of equal values
    table["votes"] = (table.index == best).astype(np.int64)
    notes = [f"silhouette on a {SILHOUETTE_SAMPLE:,}-row sample"] if sampled else []
    reason = (
        f"k = {best}: the highest silhouette under Gower's distance over k = {ks[0]}..{ks[-1]} "
        "(category columns as categories)" + (f"; {notes[0]}" if notes else "")
    )
    return ChooseKResult(best, table, {"silhouette": best}, reason, labels[best], notes)


def _silhouette(
    X: np.ndarray,
    labels: np.ndarray,
    categorical: tuple[int, ...],
    *,
    sampled: bool,
    seed: int | None,
) -> float:
    from clusterlab.metrics import gower_silhouette_score

    if np.unique(labels[labels >= 0]).size < 2:
        return float("nan")
    return float(
        gower_silhouette_score(
            X,
            labels,
            categorical=list(categorical),
            sample_size=SILHOUETTE_SAMPLE if sampled else None,
            random_state=seed,
        )
    )
