"""choose_k: fit a model for every k and recommend one k from several criteria.

The recommendation rule
-----------------------
Each criterion names the k it prefers (its vote; see :mod:`clusterlab.selection.criteria`).
One criterion leads and the others confirm. The leader is the first of gap, BIC, eigengap,
Calinski-Harabasz, silhouette, Davies-Bouldin, AIC and elbow that made a choice (so the gap
statistic for k-means and hierarchical models, BIC for mixtures, the eigengap for spectral
clustering). Its candidates are its band (the gap statistic) or its vote (any other leader).
Among the candidates wins the k that most of the other criteria voted for, the elbow excepted;
ties go to the elbow's vote, then to the smaller k. ``reason`` says which criteria agree with the
result and which chose another k, and warns when none agree.

Why this rule and not an equal-weight vote or mean rank: the criteria are not equally reliable,
and the unreliable ones err together. On make_blobs with known k (benchmarks/bench_selection.py,
k = 3..12) the gap statistic alone finds the true k in every run of the main grid (5-D, moderate
overlap), of lighter and heavier overlap and of 10 and 50 dimensions, and in 86% with unequal
cluster sizes; Calinski-Harabasz falls to under half under heavy overlap and unequal sizes; the
silhouette, Davies-Bouldin and the elbow prefer merging close clusters (56%, 42% and 28% on the
main grid), and a mean rank over the five found 76% there. Tibshirani, Walther and Hastie (2001)
found the same order. Where the gap statistic is unsure (2-D blobs, real data with nested
structure) its band is wide and the majority of the other criteria decides within it: 97% in 2-D
where the gap's own vote finds 47%, and 13 of 17 real data sets where it finds 8.
"""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clusterlab.selection.criteria import (
    CRITERIA,
    argbest,
    gap_band,
    gap_statistic,
    kneedle,
    safe,
    silhouette_rows,
    total_ss,
    within_ss,
)
from clusterlab.selection.paths import PATHS, KPath, Plan, fit_path, plan, seeds

__all__ = ["LEADERS", "ChooseKResult", "choose_k"]

logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------------------------------
# the result
# ----------------------------------------------------------------------------------------------


@dataclass
class ChooseKResult:
    """What :func:`choose_k` found.

    Attributes
    ----------
    best_k : int
        The recommended number of clusters.
    table : pandas.DataFrame
        One row per k (the index) and one column per criterion value (``inertia`` for the
        elbow, ``gap`` and ``gap_se``, ``silhouette`` ...), plus ``votes``: how many criteria
        chose that k.
    votes : dict
        Criterion name to the k it chose (None when it could not choose).
    reason : str
        One readable sentence: which criteria agreed, which did not, what was sampled.
    labels_ : ndarray of int64
        Labels of the fitted model at ``best_k``.
    notes : list of str
        What was sampled or approximated.
    """

    best_k: int
    table: Any
    votes: dict[str, int | None]
    reason: str
    labels_: np.ndarray
    notes: list[str]

    @property
    def criterion_names(self) -> dict[str, str]:
        """Each column of ``table`` that is a criterion, to its display name (``inertia`` is the
        elbow's curve)."""
        return {
            column: CRITERIA.get("elbow" if column == "inertia" else column, column)
            for column in self.table.columns
            if column not in ("votes", "gap_se")
        }

    def plot(
        self,
        *,
        figsize: tuple[float, float] | None = None,
        ax: Any = None,
        title: str | None = None,
        save: Any = None,
    ) -> Any:
        """One small panel per criterion, its own choice and the chosen k marked
        (:func:`clusterlab.plots.plot_k_selection` with ``layout="panels"``); returns the
        Figure. ``figsize`` sets its size in inches; ``ax``, ``title``, ``save`` as there."""
        from clusterlab.plots import plot_k_selection

        fig = plot_k_selection(self, layout="panels", ax=ax, title=title)
        if figsize is not None:
            fig.set_size_inches(*figsize)
        if save is not None:
            from clusterlab.plots import save_figure

            save_figure(fig, save)
        return fig

    def __repr__(self) -> str:
        return f"ChooseKResult(best_k={self.best_k}, reason={self.reason!r})"


# ----------------------------------------------------------------------------------------------
# the recommendation
# ----------------------------------------------------------------------------------------------


#: Which criterion leads the recommendation: the first of these that made a choice.
LEADERS = (
    "gap",
    "bic",
    "eigengap",
    "calinski_harabasz",
    "silhouette",
    "davies_bouldin",
    "aic",
    "elbow",
)


def _recommend(
    ks: list[int], votes: dict[str, int | None], band: Sequence[int] = ()
) -> tuple[int, str | None]:
    """The recommended k and the criterion that led.

    The leader is the first criterion of ``LEADERS`` with a vote; its candidates are ``band``
    (the gap's band, when the gap leads) or its vote. The candidate most other criteria (the
    elbow excepted) voted for wins; ties go to the elbow's vote, then to the smaller k. Without
    any vote, the smallest k.
    """
    leader = next((c for c in LEADERS if votes.get(c) is not None), None)
    if leader is None:
        return min(ks), None
    lead_vote = votes[leader]
    candidates = [k for k in band if k in ks] if leader == "gap" else []
    if lead_vote not in candidates:
        candidates.append(lead_vote)
    support = [v for c, v in votes.items() if c not in (leader, "elbow") and v is not None]
    elbow = votes.get("elbow")
    best = min(candidates, key=lambda k: (-support.count(k), k != elbow, k))
    return best, leader


_LEAD_NAMES = {
    "gap": "the gap statistic",
    "bic": "BIC",
    "aic": "AIC",
    "eigengap": "the eigengap",
    "calinski_harabasz": "the Calinski-Harabasz index",
    "silhouette": "the silhouette",
    "davies_bouldin": "the Davies-Bouldin index",
    "elbow": "the elbow",
}


def _spans(ks: Sequence[int]) -> str:
    """Sorted ints as runs: [2, 3, 4, 7] -> '2-4, 7'."""
    runs: list[list[int]] = []
    for k in sorted(ks):
        if runs and k == runs[-1][-1] + 1:
            runs[-1].append(k)
        else:
            runs.append([k])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in runs)


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _reason(
    best_k: int,
    leader: str | None,
    band: Sequence[int],
    votes: dict[str, int | None],
    notes: list[str],
) -> str:
    if leader is None:
        text = f"k = {best_k}: no criterion could choose, so the smallest k of the range"
    else:
        text = f"k = {best_k}: led by {_LEAD_NAMES[leader]}"
        if leader == "gap" and len(band) > 1:
            text += f" (within one standard error of its best: k = {_spans(band)})"
        agreed = [CRITERIA[c] for c, v in votes.items() if v == best_k and c != leader]
        elsewhere: dict[int, list[str]] = {}
        for c, v in votes.items():
            if v is not None and v != best_k:
                elsewhere.setdefault(v, []).append(CRITERIA[c])
        others = [f"{_and(names)} chose k = {v}" for v, names in sorted(elsewhere.items())]
        abstained = [CRITERIA[c] for c, v in votes.items() if v is None]
        text += f", confirmed by {_and(agreed)}" if agreed else ", confirmed by no other criterion"
        if others:
            text += "; " + "; ".join(others)
        if abstained:
            text += f"; no choice from {_and(abstained)}"
        if not agreed and len(votes) > 1:
            text += "; the criteria disagree, so look at the table before trusting k"
    text += "."
    if notes:
        text += " " + " ".join(n[0].upper() + n[1:] + "." for n in notes)
    return text


# ----------------------------------------------------------------------------------------------
# choose_k
# ----------------------------------------------------------------------------------------------


def _check_k_range(k_range: Any, n_samples: int) -> list[int]:
    if isinstance(k_range, str) or not isinstance(k_range, Iterable):
        raise TypeError(f"k_range must be an iterable of ints (e.g. range(2, 16)); got {k_range!r}")
    ks = list(k_range)
    if not all(isinstance(k, numbers.Integral) and not isinstance(k, bool) for k in ks):
        raise TypeError(f"k_range must hold ints; got {ks!r}")
    ks = sorted({int(k) for k in ks})
    if len(ks) < 2:
        raise ValueError(f"k_range must hold at least 2 distinct values of k; got {ks}")
    if ks[0] < 2 or ks[-1] > n_samples - 1:
        raise ValueError(
            f"k_range must hold ints in [2, n_samples - 1] = [2, {n_samples - 1}] "
            f"(X has {n_samples} rows); got values from {ks[0]} to {ks[-1]}"
        )
    return ks


def _check_criteria(criteria: Any, chosen_plan: Plan) -> list[str]:
    kind = PATHS[chosen_plan.kind]
    if criteria is None:
        return list(kind.criteria)
    if isinstance(criteria, str):
        criteria = (criteria,)
    chosen = []
    for c in criteria:
        key = str(c).lower()
        if key not in CRITERIA:
            raise ValueError(f"criteria must be a subset of {sorted(CRITERIA)}; got {c!r}")
        chosen.append(key)
    if not chosen:
        raise ValueError("criteria must name at least one criterion; got an empty sequence")
    if ("bic" in chosen or "aic" in chosen) and not {"bic", "aic"} <= kind.extras:
        raise ValueError("criteria 'bic' and 'aic' need model='gmm' (a Gaussian mixture)")
    if "eigengap" in chosen and "eigengap" not in kind.extras:
        raise ValueError("criterion 'eigengap' needs model='sc' (spectral clustering)")
    return list(dict.fromkeys(chosen))


def choose_k(
    X: Any,
    model: Any = "kmeans",
    k_range: Iterable[int] = range(2, 16),
    criteria: Sequence[str] | None = None,
    *,
    random_state: Any = None,
    sample_size: int | str | None = "auto",
    n_refs: int = 10,
    n_jobs: int | None = None,
) -> ChooseKResult:
    """Fit a model for every k in ``k_range`` and recommend one k from several criteria.

    The gap statistic leads (BIC for mixtures, the eigengap for spectral clustering); the others
    decide among the k it cannot tell apart and are reported in ``reason`` (module docstring).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data (scaled as it will be clustered).
    model : str or estimator, default='kmeans'
        A model id that takes k, fitted along its k path (:mod:`clusterlab.selection.paths`):
        ``'kmeans'`` (warm-started from k - 1 and k + 1), ``'hclust'`` (one tree cut at every
        k; ``'ward'``, ``'average'`` ... name the linkage), ``'gmm'`` (with BIC and AIC; the
        id also fits the other covariance types and ``reason`` names one with a lower BIC),
        ``'sc'`` / ``'spectral'`` (with the eigengap), ``'ap'`` (one similarity matrix, the
        preference searches of all k run as one, each k's labels those of its own fit),
        ``'minibatch'``, ``'bisecting'``, ``'birch'``; or an estimator with an ``n_clusters``
        (or ``n_components``) parameter.
    k_range : iterable of int, default=range(2, 16)
        Candidate numbers of clusters, each in ``[2, n_samples - 1]``.
    criteria : sequence of str, optional
        Any of ``'elbow'``, ``'silhouette'``, ``'calinski_harabasz'``, ``'davies_bouldin'``,
        ``'gap'``, ``'bic'``, ``'aic'`` (mixtures), ``'eigengap'`` (spectral). Default: the
        first five; silhouette, Calinski-Harabasz, Davies-Bouldin and BIC for mixtures; the same
        three and the eigengap for spectral clustering.
    random_state : None, int or RandomState
        Seeds every fit and sample.
    sample_size : int, None or 'auto', default='auto'
        Points of the O(n^2) silhouette (the same for every k, said in ``reason``): 'auto'
        samples 4,000 when there are more, None uses all.
    n_refs : int, default=10
        Uniform reference data sets of the gap statistic (on at most 1,000 sampled points).
    n_jobs : int, optional
        Threads for the numba kernels.

    Returns
    -------
    ChooseKResult
        ``best_k``, ``table``, ``votes``, ``reason``, ``labels_`` and ``plot()``.

    Raises
    ------
    ValueError
        A k_range outside ``[2, n_samples - 1]``, an unknown model or criterion.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from clusterlab.selection import choose_k
    >>> X, _ = make_blobs(n_samples=600, centers=4, random_state=1)
    >>> choose_k(X, k_range=range(2, 8), random_state=0).best_k
    4
    """
    from clusterlab._config import threads

    X = _check_X(X)
    ks = _check_k_range(k_range, X.shape[0])
    chosen_plan = plan(model)
    chosen = _check_criteria(criteria, chosen_plan)
    if isinstance(n_refs, bool) or not isinstance(n_refs, numbers.Integral) or n_refs < 1:
        raise ValueError(f"n_refs must be an int >= 1; got {n_refs!r}")
    scores = _Scores(*seeds(random_state, 3))
    with threads(n_jobs):
        scores.run(
            X, ks, chosen_plan, chosen, sample_size=sample_size, n_refs=n_refs, n_jobs=n_jobs
        )
    best_k, leader = _recommend(ks, scores.votes, scores.band)
    frame = _table_frame(ks, scores.table, scores.votes)
    reason = _reason(best_k, leader, scores.band, scores.votes, scores.notes)
    logger.info("choose_k: %s", reason)
    return ChooseKResult(best_k, frame, scores.votes, reason, scores.labels[best_k], scores.notes)


def _check_X(X: Any) -> np.ndarray:
    from sklearn.utils import check_array

    if isinstance(X, str):
        raise TypeError("X must be a 2-D array-like of numbers; got a string")
    return np.ascontiguousarray(check_array(X, dtype=[np.float64, np.float32]))


@dataclass
class _Scores:
    """Every criterion's values and vote for one model over a range of k."""

    seed_path: int
    seed_silhouette: int
    seed_gap: int
    table: dict[str, dict[int, float]] = field(default_factory=dict)
    votes: dict[str, int | None] = field(default_factory=dict)
    band: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    labels: dict[int, np.ndarray] = field(default_factory=dict)

    def run(
        self,
        X: np.ndarray,
        ks: list[int],
        chosen_plan: Plan,
        chosen: list[str],
        *,
        sample_size: Any,
        n_refs: int,
        n_jobs: Any,
    ) -> None:
        """Fit the path and compute each chosen criterion, in the order of CRITERIA."""
        n = X.shape[0]
        # The gap's standard-error rule compares k with k + 1: fit one k more.
        fit_ks = [*ks, ks[-1] + 1] if "gap" in chosen and ks[-1] + 1 <= n - 1 else ks
        path = fit_path(chosen_plan, X, fit_ks, self.seed_path, n_jobs)
        self.labels = path.labels
        self.notes.extend(path.notes)
        rows = None
        if "silhouette" in chosen:
            rows = silhouette_rows(n, sample_size, self.seed_silhouette, self.notes)
        if "elbow" in chosen:
            self._elbow(X, ks, path)
        self._indices(X, ks, path, chosen, rows)
        if "gap" in chosen:
            self._gap(X, ks, fit_ks, chosen_plan, n_refs=n_refs, n_jobs=n_jobs)
        for name, source in (("bic", path.bic), ("aic", path.aic)):
            if name in chosen:
                self.table[name] = {k: source[k] for k in ks}
                self.votes[name] = argbest(self.table[name], greater=False)
        if "eigengap" in chosen:
            values = path.eigenvalues
            gaps = {
                k: float(values[k] - values[k - 1]) if k < values.size else math.nan for k in ks
            }
            self.table["eigengap"] = gaps
            self.votes["eigengap"] = argbest(gaps, greater=True)

    def _elbow(self, X: np.ndarray, ks: list[int], path: KPath) -> None:
        curve = {k: path.inertia.get(k, within_ss(X, path.labels[k])) for k in ks}
        curve_ks = ([1] if ks[0] > 1 else []) + ks
        curve_values = ([total_ss(X)] if ks[0] > 1 else []) + [curve[k] for k in ks]
        knee, _ = kneedle(curve_ks, curve_values)
        self.table["inertia"] = curve
        self.votes["elbow"] = knee if knee in ks else None

    def _indices(
        self, X: np.ndarray, ks: list[int], path: KPath, chosen: list[str], rows: Any
    ) -> None:
        from clusterlab.metrics import (
            calinski_harabasz_score,
            davies_bouldin_score,
            silhouette_score,
        )

        for name, fn, greater in (
            ("silhouette", silhouette_score, True),
            ("calinski_harabasz", calinski_harabasz_score, True),
            ("davies_bouldin", davies_bouldin_score, False),
        ):
            if name not in chosen:
                continue
            if name == "silhouette" and rows is not None:
                values = {k: safe(fn, X[rows], path.labels[k][rows]) for k in ks}
            else:
                values = {k: safe(fn, X, path.labels[k]) for k in ks}
            self.table[name] = values
            self.votes[name] = argbest(values, greater)

    def _gap(
        self,
        X: np.ndarray,
        ks: list[int],
        fit_ks: list[int],
        chosen_plan: Plan,
        *,
        n_refs: int,
        n_jobs: Any,
    ) -> None:
        def refit(reference: np.ndarray, gap_ks: Sequence[int], seed: int) -> dict:
            return fit_path(chosen_plan, reference, gap_ks, seed, n_jobs, quick=True).labels

        gap, se, m = gap_statistic(
            X, self.labels, fit_ks, refit=refit, seed=self.seed_gap, n_refs=n_refs
        )
        self.table["gap"] = {k: gap[k] for k in ks}
        self.table["gap_se"] = {k: se[k] for k in ks}
        self.band = gap_band(ks, gap, se)
        self.votes["gap"] = self.band[0] if self.band else None
        if not self.band and any(np.isfinite(gap[k]) for k in ks):
            self.notes.append("the gap statistic rises through the whole range (no maximum)")
        if m < X.shape[0]:
            self.notes.append(f"gap statistic on a random sample of {m:,} of {X.shape[0]:,} points")


def _table_frame(ks: list[int], table: dict[str, dict[int, float]], votes: dict) -> Any:
    import pandas as pd

    frame = pd.DataFrame({name: [col.get(k, math.nan) for k in ks] for name, col in table.items()})
    frame.index = pd.Index(ks, name="k")
    frame["votes"] = [sum(v == k for v in votes.values()) for k in ks]
    return frame
