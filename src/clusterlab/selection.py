"""Choosing the number of clusters, and checking whether clusters are real.

:func:`choose_k` fits a model for every k in a range, scores each fit by several criteria and
recommends one k by a documented rule (one criterion leads, the others confirm);
:func:`stability` refits a model on random subsamples and reports how often each cluster
reappears.

The recommendation rule of :func:`choose_k`
-------------------------------------------
Each criterion names the k it prefers (its *vote*):

- ``elbow``: the knee of the inertia curve (Kneedle: the point of the normalised curve farthest
  above the chord from its first to its last point; the curve includes k = 1);
- ``silhouette`` and ``calinski_harabasz``: the k with the highest value;
- ``davies_bouldin``: the k with the lowest value;
- ``gap``: the gap statistic with the first-SE-maximum rule (the default of R's
  ``cluster::clusGap``): find the first local maximum k* of gap(k), then vote for the smallest k
  with ``gap(k) >= gap(k*) - s(k*)``; every such k is in the gap's *band*, the k it cannot tell
  apart within one standard error;
- ``bic`` / ``aic`` (Gaussian mixtures): the lowest value;
- ``eigengap`` (spectral): the k after which the normalised-Laplacian spectrum jumps most.

The recommendation: one criterion leads and the others confirm. The leader is the first of
gap, BIC, eigengap, Calinski-Harabasz, silhouette, Davies-Bouldin, AIC and elbow that made a
choice (so the gap statistic for k-means and hierarchical models, BIC for mixtures, the eigengap
for spectral clustering). Its candidates are its band (the gap statistic) or its vote (any other
leader). Among the candidates wins the k that most of the other criteria voted for, the elbow
excepted; ties go to the elbow's vote, then to the smaller k. ``reason`` says which criteria
agree with the result and which chose another k, and warns when none agree.

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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clusterlab._base import NOISE

__all__ = ["ChooseKResult", "StabilityResult", "choose_k", "stability"]

logger = logging.getLogger(__name__)

#: Criteria and their display names.
CRITERIA = {
    "elbow": "elbow",
    "silhouette": "silhouette",
    "calinski_harabasz": "Calinski-Harabasz",
    "davies_bouldin": "Davies-Bouldin",
    "gap": "gap statistic",
    "bic": "BIC",
    "aic": "AIC",
    "eigengap": "eigengap",
}
DEFAULT_CRITERIA = ("elbow", "silhouette", "calinski_harabasz", "davies_bouldin", "gap")
# Above this many points the silhouette is computed on a random sample of this size.
_SILHOUETTE_SAMPLE = 4000
# k-means starts per k (besides the warm start) and the largest sample its fits run on.
_KMEANS_N_INIT = 3
_KMEANS_FIT_SAMPLE = 20_000
# The gap statistic compares the data with uniform references of this many points.
_GAP_SAMPLE = 1000
# Jaccard similarity at which a cluster counts as having reappeared (Hennig, 2007).
REAPPEAR_JACCARD = 0.75


# ----------------------------------------------------------------------------------------------
# fitting one model for every k
# ----------------------------------------------------------------------------------------------


@dataclass
class _Path:
    """Labels (and model-specific extras) of one model for every k."""

    labels: dict[int, np.ndarray]
    inertia: dict[int, float] = field(default_factory=dict)
    bic: dict[int, float] = field(default_factory=dict)
    aic: dict[int, float] = field(default_factory=dict)
    eigenvalues: np.ndarray | None = None


def _seeds(random_state: Any, n: int) -> list[int]:
    from sklearn.utils import check_random_state

    rng = check_random_state(random_state)
    return [int(s) for s in rng.randint(0, 2**31 - 1, size=n)]


def _kmeans_path(
    X: np.ndarray, ks: Sequence[int], seed: int, base: Any, n_jobs: Any, *, quick: bool = False
) -> _Path:
    """k-means for every k, reusing work across k.

    Every k keeps the lowest-inertia of up to three fits: k-means++ with ``_KMEANS_N_INIT``
    starts; a forward warm start from the k - 1 solution plus one new center drawn by the
    k-means++ rule (escapes the local optimum that merged two clusters); and a backward warm
    start from the k + 1 solution minus the center whose removal costs least (escapes the local
    optimum that split one cluster and merged two others). A single k stuck in a poor optimum
    makes its inertia barely lower than k - 1's and throws every criterion off at exactly the
    true k, so both passes matter. Above ``_KMEANS_FIT_SAMPLE`` points all fits run on one random
    sample and the winner's centers seed a single Lloyd run on all points. ``quick`` (for the gap
    statistic's uniform references, where k-means has no clusters to miss) makes one k-means++
    fit per k.
    """
    from sklearn.base import clone

    from clusterlab.cluster.kmeans import KMeans

    est = clone(base) if base is not None else KMeans(n_jobs=n_jobs)
    if quick:
        est.set_params(n_init=1)
    elif est.get_params().get("n_init") == "auto":
        est.set_params(n_init=_KMEANS_N_INIT)
    rng = np.random.RandomState(seed)
    n = X.shape[0]
    fit_rows = None
    if n > _KMEANS_FIT_SAMPLE:
        fit_rows = np.sort(rng.choice(n, _KMEANS_FIT_SAMPLE, replace=False))
    Xfit = X if fit_rows is None else X[fit_rows]
    ordered = sorted(ks)
    fits: dict[int, Any] = {}
    for k in ordered:
        fresh = clone(est).set_params(n_clusters=k, random_state=int(rng.randint(2**31 - 1)))
        fits[k] = fresh.fit(Xfit)
        previous = fits.get(k - 1)
        if not quick and previous is not None and previous.cluster_centers_.shape[0] == k - 1:
            warm_init = _add_center(Xfit, previous, rng)
            warm = clone(est).set_params(n_clusters=k, init=warm_init, n_init=1).fit(Xfit)
            if warm.inertia_ < fits[k].inertia_:
                fits[k] = warm
    if not quick:
        for k in reversed(ordered[:-1]):
            following = fits.get(k + 1)
            if following is None or following.cluster_centers_.shape[0] != k + 1:
                continue
            init = _drop_center(Xfit, following)
            warm = clone(est).set_params(n_clusters=k, init=init, n_init=1).fit(Xfit)
            if warm.inertia_ < fits[k].inertia_:
                fits[k] = warm
    path = _Path(labels={})
    for k in ordered:
        best = fits[k]
        if fit_rows is not None:
            best = clone(est).set_params(n_clusters=k, init=best.cluster_centers_, n_init=1)
            best.fit(X)
        path.labels[k] = best.labels_
        path.inertia[k] = float(best.inertia_)
    return path


def _add_center(X: np.ndarray, model: Any, rng: np.random.RandomState) -> np.ndarray:
    """The fitted centers plus one row drawn with probability proportional to its squared
    distance to its center (the k-means++ rule)."""
    centers = model.cluster_centers_
    diff = X - centers[model.labels_]
    d2 = np.einsum("ij,ij->i", diff, diff).astype(np.float64)
    total = d2.sum()
    idx = int(rng.choice(X.shape[0], p=d2 / total)) if total > 0 else int(rng.randint(X.shape[0]))
    return np.vstack([centers, X[idx : idx + 1]]).astype(X.dtype)


def _drop_center(X: np.ndarray, model: Any) -> np.ndarray:
    """The fitted centers less the one whose removal raises the inertia least.

    Removing center j moves each of its points to its second-nearest center, at a cost of the
    difference of the two squared distances; the cheapest center is typically one half of a
    cluster that the fit split in two. Ties go to the lower index.
    """
    centers = np.asarray(model.cluster_centers_, dtype=np.float64)
    X64 = X.astype(np.float64, copy=False)
    d2 = (
        np.einsum("ij,ij->i", X64, X64)[:, None]
        - 2.0 * X64 @ centers.T
        + np.einsum("ij,ij->i", centers, centers)[None, :]
    )
    two = np.partition(d2, 1, axis=1)[:, :2]
    nearest = np.argmin(d2, axis=1)
    cost = np.bincount(nearest, weights=two[:, 1] - two[:, 0], minlength=centers.shape[0])
    keep = np.arange(centers.shape[0]) != int(np.argmin(cost))
    return model.cluster_centers_[keep].astype(X.dtype)


def _linkage_path(X: np.ndarray, ks: Sequence[int], method: str) -> _Path:
    """One hierarchical tree (scipy) cut at every k: the whole path costs one fit."""
    from scipy.cluster.hierarchy import fcluster, linkage

    from clusterlab._config import check_memory

    n = X.shape[0]
    check_memory(
        4.0 * n * (n - 1),
        what=f"the {n}-point condensed distance matrix of the {method} linkage tree",
        alternative="choose k on a sample of the rows, or use model='kmeans'",
    )
    tree = linkage(X, method=method)
    path = _Path(labels={})
    for k in ks:
        labels = fcluster(tree, t=k, criterion="maxclust")
        path.labels[k] = np.unique(labels, return_inverse=True)[1].astype(np.int64)
    return path


def _gmm_path(X: np.ndarray, ks: Sequence[int], seed: int, base: Any) -> _Path:
    """Gaussian mixtures for every k, with their own BIC and AIC.

    Uses scikit-learn's GaussianMixture until clusterlab has its own mixture estimator.
    """
    from sklearn.base import clone
    from sklearn.mixture import GaussianMixture

    est = clone(base) if base is not None else GaussianMixture(n_init=2)
    path = _Path(labels={})
    for k in ks:
        model = clone(est).set_params(n_components=k, random_state=seed).fit(X)
        path.labels[k] = model.predict(X).astype(np.int64)
        path.bic[k] = float(model.bic(X))
        path.aic[k] = float(model.aic(X))
    return path


def _spectral_path(
    X: np.ndarray, ks: Sequence[int], seed: int, n_neighbors: int, n_jobs: Any
) -> _Path:
    """Spectral clustering for every k from one eigendecomposition.

    The symmetric k-nearest-neighbour graph is normalised once, its leading eigenvectors are
    computed once for the largest k, and each k clusters the row-normalised first k of them with
    k-means (Ng, Jordan and Weiss); the eigenvalues give the eigengap criterion.
    """
    from scipy.sparse import diags
    from scipy.sparse.linalg import eigsh
    from sklearn.neighbors import kneighbors_graph

    from clusterlab.cluster.kmeans import KMeans

    n = X.shape[0]
    graph = kneighbors_graph(X, n_neighbors=min(n_neighbors, n - 1), include_self=False)
    affinity = 0.5 * (graph + graph.T)
    degree = np.asarray(affinity.sum(axis=1)).ravel()
    scale = diags(1.0 / np.sqrt(np.maximum(degree, 1e-12)))
    normalised = scale @ affinity @ scale
    n_vectors = min(max(ks) + 1, n - 1)
    start = np.random.RandomState(seed).uniform(-1.0, 1.0, size=n)
    values, vectors = eigsh(normalised, k=n_vectors, which="LA", v0=start)
    order = np.argsort(-values)
    laplacian_values = 1.0 - values[order]
    vectors = vectors[:, order]
    path = _Path(labels={}, eigenvalues=laplacian_values)
    for k in ks:
        embedding = vectors[:, :k]
        norms = np.linalg.norm(embedding, axis=1, keepdims=True)
        embedding = embedding / np.maximum(norms, 1e-12)
        km = KMeans(n_clusters=k, n_init=3, random_state=seed, n_jobs=n_jobs).fit(embedding)
        path.labels[k] = km.labels_
    return path


def _estimator_path(X: np.ndarray, ks: Sequence[int], seed: int, model: Any) -> _Path:
    from sklearn.base import clone

    param = _k_parameter(model)
    path = _Path(labels={})
    params = model.get_params()
    for k in ks:
        est = clone(model).set_params(**{param: k})
        if "random_state" in params and params["random_state"] is None:
            est.set_params(random_state=seed)
        labels = est.fit_predict(X) if hasattr(est, "fit_predict") else est.fit(X).labels_
        path.labels[k] = np.asarray(labels, dtype=np.int64)
    return path


def _k_parameter(model: Any) -> str:
    params = model.get_params()
    for name in ("n_clusters", "n_components"):
        if name in params:
            return name
    raise TypeError(
        f"model must be 'kmeans', 'agglomerative', 'gmm', 'spectral' or an estimator with an "
        f"n_clusters (or n_components) parameter; got {type(model).__name__}"
    )


_LINKAGES = ("ward", "average", "complete", "single")


@dataclass(frozen=True)
class _Plan:
    """What a model is, for choose_k: a kind and what that kind needs."""

    kind: str  # "kmeans", "linkage", "gmm", "spectral", "estimator"
    estimator: Any = None
    linkage: str = "ward"
    n_neighbors: int = 10
    name: str = ""


def _plan(model: Any) -> _Plan:
    if isinstance(model, str):
        return _plan_from_name(model)
    if not hasattr(model, "get_params") or not hasattr(model, "fit"):
        raise TypeError(f"model must be a string or an estimator; got {type(model).__name__}")
    return _plan_from_estimator(model)


def _plan_from_name(model: str) -> _Plan:
    key = model.lower()
    if key == "kmeans":
        return _Plan("kmeans", name="k-means")
    if key in ("agglomerative", "ward", "average", "complete", "single"):
        method = "ward" if key == "agglomerative" else key
        return _Plan("linkage", linkage=method, name=f"{method} linkage")
    if key in ("gmm", "gaussian_mixture"):
        return _Plan("gmm", name="Gaussian mixture")
    if key == "spectral":
        return _Plan("spectral", name="spectral clustering")
    raise ValueError(
        "model must be 'kmeans', 'agglomerative' (or 'ward', 'average', 'complete', "
        f"'single'), 'gmm', 'spectral' or an estimator; got {model!r}"
    )


def _plan_from_estimator(model: Any) -> _Plan:
    from clusterlab.cluster.kmeans import KMeans

    cls = type(model).__name__
    params = model.get_params()
    if isinstance(model, KMeans):
        return _Plan("kmeans", estimator=model, name="k-means")
    linkage = params.get("linkage")
    metric = params.get("metric", params.get("affinity", "euclidean"))
    if "Agglomerative" in cls and linkage in _LINKAGES and metric in ("euclidean", None):
        return _Plan("linkage", linkage=linkage, name=f"{linkage} linkage")
    if cls == "GaussianMixture":
        return _Plan("gmm", estimator=model, name="Gaussian mixture")
    if cls == "SpectralClustering":
        n_neighbors = int(params.get("n_neighbors", 10))
        return _Plan("spectral", n_neighbors=n_neighbors, name="spectral clustering")
    _k_parameter(model)
    return _Plan("estimator", estimator=model, name=cls)


def _fit_path(
    plan: _Plan, X: np.ndarray, ks: Sequence[int], seed: int, n_jobs: Any, *, quick: bool = False
) -> _Path:
    if plan.kind == "kmeans":
        return _kmeans_path(X, ks, seed, plan.estimator, n_jobs, quick=quick)
    if plan.kind == "linkage":
        return _linkage_path(X, ks, plan.linkage)
    if plan.kind == "gmm":
        return _gmm_path(X, ks, seed, plan.estimator)
    if plan.kind == "spectral":
        return _spectral_path(X, ks, seed, plan.n_neighbors, n_jobs)
    return _estimator_path(X, ks, seed, plan.estimator)


# ----------------------------------------------------------------------------------------------
# criteria
# ----------------------------------------------------------------------------------------------


def _safe(fn: Callable[..., float], *args: Any, **kwargs: Any) -> float:
    """An index value, or NaN when the labeling is degenerate for it (e.g. one cluster)."""
    try:
        return float(fn(*args, **kwargs))
    except ValueError as exc:
        logger.debug("criterion %s undefined: %s", getattr(fn, "__name__", fn), exc)
        return math.nan


def _within_ss(X: np.ndarray, labels: np.ndarray) -> float:
    from clusterlab.metrics import inertia

    return _safe(inertia, X, labels)


def _kneedle(ks: Sequence[int], values: Sequence[float]) -> tuple[int | None, np.ndarray]:
    """Knee of a decreasing curve and each point's height above the normalised chord."""
    x = np.asarray(ks, dtype=float)
    y = np.asarray(values, dtype=float)
    if x.size < 3 or not np.all(np.isfinite(y)) or y[0] == y[-1]:
        return None, np.full(x.size, np.nan)
    xn = (x - x[0]) / (x[-1] - x[0])
    yn = (y - y.min()) / (y.max() - y.min())
    # For a decreasing convex curve, 1 - yn rises steeply then flattens: its largest lead over
    # the diagonal is the knee.
    height = (1.0 - yn) - xn
    return int(x[int(np.argmax(height))]), height


def _gap_statistic(
    plan: _Plan,
    X: np.ndarray,
    path: _Path,
    gap_ks: Sequence[int],
    *,
    seed: int,
    n_refs: int,
    n_jobs: Any,
) -> tuple[dict[int, float], dict[int, float], int]:
    """Gap(k) = E*[log W_k] - log W_k and its standard error s_k = sd * sqrt(1 + 1/B).

    Computed on a random sample of at most ``_GAP_SAMPLE`` rows: W_k of the data is the
    within-cluster sum of squares of the sample under the labels already fitted on all points;
    the references are uniform over the bounding box of the sample in its principal axes
    (Tibshirani, Walther and Hastie, 2001, method b), clustered by the same model.
    """
    rng = np.random.RandomState(seed)
    rows = np.arange(X.shape[0])
    if X.shape[0] > _GAP_SAMPLE:
        rows = np.sort(rng.choice(X.shape[0], _GAP_SAMPLE, replace=False))
    sample = np.asarray(X[rows], dtype=np.float64)
    centered = sample - sample.mean(axis=0)
    _, _, vt = np.linalg.svd(centered, full_matrices=False)
    rotated = centered @ vt.T
    lo, hi = rotated.min(axis=0), rotated.max(axis=0)
    log_w = {k: math.log(max(_within_ss(sample, path.labels[k][rows]), 1e-300)) for k in gap_ks}
    ref_log_w: dict[int, list[float]] = {k: [] for k in gap_ks}
    for _ in range(n_refs):
        ref = rng.uniform(lo, hi, size=rotated.shape)
        ref_path = _fit_path(plan, ref, gap_ks, int(rng.randint(2**31 - 1)), n_jobs, quick=True)
        for k in gap_ks:
            ref_log_w[k].append(math.log(max(_within_ss(ref, ref_path.labels[k]), 1e-300)))
    gap = {k: float(np.mean(ref_log_w[k]) - log_w[k]) for k in gap_ks}
    se = {k: float(np.std(ref_log_w[k]) * math.sqrt(1.0 + 1.0 / n_refs)) for k in gap_ks}
    return gap, se, sample.shape[0]


def _gap_band(ks: Sequence[int], gap: dict[int, float], se: dict[int, float]) -> list[int]:
    """The k of ``ks`` within one standard error of the gap's first local maximum.

    The first local maximum is the first k with ``gap(k) >= gap(k + 1)`` (``k + 1`` may lie just
    past the range: choose_k fits it for this). An empty list (the gap abstains) when the gap is
    undefined or keeps rising through the range: data with no cluster structure at these k
    (skewed or continuous, as customer data often are) make the gap grow with k, and its
    largest k would be a guess.
    """
    ordered = [k for k in sorted(ks) if np.isfinite(gap.get(k, math.nan))]
    peak = None
    for k in ordered:
        if k + 1 in gap and np.isfinite(gap[k + 1]) and gap[k] >= gap[k + 1]:
            peak = k
            break
    if peak is None:
        return []
    floor = gap[peak] - se[peak]
    return [k for k in ordered if gap[k] >= floor]


def _gap_vote(ks: Sequence[int], gap: dict[int, float], se: dict[int, float]) -> int | None:
    """The first-SE-maximum choice: the smallest k of the gap's band."""
    band = _gap_band(ks, gap, se)
    return band[0] if band else None


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

    def plot(self, *, figsize: tuple[float, float] | None = None) -> Any:
        """One small panel per criterion, the chosen k of each marked; returns the Figure."""
        import matplotlib.pyplot as plt

        columns = [c for c in self.table.columns if c not in ("votes", "gap_se")]
        n = len(columns)
        ncols = min(3, n)
        nrows = math.ceil(n / ncols)
        fig, axes = plt.subplots(
            nrows, ncols, figsize=figsize or (4.0 * ncols, 3.0 * nrows), squeeze=False
        )
        for ax, column in zip(axes.ravel(), columns, strict=False):
            values = self.table[column]
            if column == "gap" and "gap_se" in self.table:
                ax.errorbar(values.index, values, yerr=self.table["gap_se"], marker="o")
            else:
                ax.plot(values.index, values, marker="o")
            criterion = "elbow" if column == "inertia" else column
            vote = self.votes.get(criterion)
            if vote is not None:
                ax.axvline(vote, color="tab:orange", linestyle="--", label=f"chosen k = {vote}")
                ax.legend(loc="best", fontsize="small")
            ax.axvline(self.best_k, color="tab:green", alpha=0.3, linewidth=6)
            ax.set_title(CRITERIA.get(criterion, column))
            ax.set_xlabel("k")
        for ax in axes.ravel()[n:]:
            ax.set_visible(False)
        fig.suptitle(f"choose_k: k = {self.best_k}")
        fig.tight_layout()
        return fig

    def __repr__(self) -> str:
        return f"ChooseKResult(best_k={self.best_k}, reason={self.reason!r})"


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


def _check_criteria(criteria: Any, plan: _Plan) -> list[str]:
    if criteria is None:
        chosen = list(DEFAULT_CRITERIA)
        if plan.kind == "gmm":
            chosen = ["silhouette", "calinski_harabasz", "davies_bouldin", "bic"]
        elif plan.kind == "spectral":
            chosen = ["silhouette", "calinski_harabasz", "davies_bouldin", "eigengap"]
        return chosen
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
    if ("bic" in chosen or "aic" in chosen) and plan.kind != "gmm":
        raise ValueError("criteria 'bic' and 'aic' need model='gmm' (a Gaussian mixture)")
    if "eigengap" in chosen and plan.kind != "spectral":
        raise ValueError("criterion 'eigengap' needs model='spectral'")
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

    The recommendation (module docstring): the gap statistic leads (BIC for 'gmm', the
    eigengap for 'spectral', Calinski-Harabasz when those are not computed or make no choice);
    the other criteria decide among the k the leader cannot tell apart and are reported in
    ``reason``, agreeing or not.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data (scaled as it will be clustered).
    model : str or estimator, default='kmeans'
        ``'kmeans'`` (clusterlab's KMeans; each k also warm-started from k - 1 and k + 1),
        ``'agglomerative'`` / ``'ward'`` / ``'average'`` / ``'complete'`` / ``'single'`` (one
        scipy tree cut at every k), ``'gmm'`` (scikit-learn's GaussianMixture, with its BIC and
        AIC), ``'spectral'`` (one eigendecomposition for every k, with the eigengap), or any
        estimator with an ``n_clusters`` (or ``n_components``) parameter.
    k_range : iterable of int, default=range(2, 16)
        Candidate numbers of clusters, each in ``[2, n_samples - 1]``.
    criteria : sequence of str, optional
        Any of ``'elbow'``, ``'silhouette'``, ``'calinski_harabasz'``, ``'davies_bouldin'``,
        ``'gap'``, ``'bic'``, ``'aic'`` (gmm), ``'eigengap'`` (spectral). Default: the first five
        for k-means, hierarchical and other estimators; silhouette, Calinski-Harabasz,
        Davies-Bouldin and BIC for 'gmm'; the same three and the eigengap for 'spectral'.
    random_state : None, int or RandomState
        Seeds every fit and sample.
    sample_size : int, None or 'auto', default='auto'
        Points used for the O(n^2) silhouette: 'auto' samples 4,000 points when there are more,
        None uses all; the same sample serves every k. Said in ``notes`` and ``reason``.
    n_refs : int, default=10
        Uniform reference data sets of the gap statistic (computed on at most 1,000 sampled
        points).
    n_jobs : int, optional
        Threads for the numba kernels.

    Returns
    -------
    ChooseKResult
        ``best_k``, ``table``, ``votes``, ``reason``, ``labels_`` and ``plot()``.

    Raises
    ------
    ValueError
        For a k_range outside ``[2, n_samples - 1]``, an unknown model or criterion.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from clusterlab.selection import choose_k
    >>> X, _ = make_blobs(n_samples=600, centers=4, random_state=1)
    >>> result = choose_k(X, k_range=range(2, 8), random_state=0)
    >>> result.best_k
    4
    """
    from sklearn.utils import check_array

    from clusterlab._config import threads
    from clusterlab.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

    if isinstance(X, str):
        raise TypeError("X must be a 2-D array-like of numbers; got a string")
    X = np.ascontiguousarray(check_array(X, dtype=[np.float64, np.float32]))
    n = X.shape[0]
    ks = _check_k_range(k_range, n)
    plan = _plan(model)
    chosen = _check_criteria(criteria, plan)
    if isinstance(n_refs, bool) or not isinstance(n_refs, numbers.Integral) or n_refs < 1:
        raise ValueError(f"n_refs must be an int >= 1; got {n_refs!r}")
    seed_path, seed_sil, seed_gap = _seeds(random_state, 3)
    notes: list[str] = []
    with threads(n_jobs):
        # The gap's standard-error rule compares k with k + 1: fit one k more.
        fit_ks = [*ks, ks[-1] + 1] if "gap" in chosen and ks[-1] + 1 <= n - 1 else ks
        path = _fit_path(plan, X, fit_ks, seed_path, n_jobs)
        sil_rows = (
            _silhouette_rows(n, sample_size, seed_sil, notes) if "silhouette" in chosen else None
        )
        table: dict[str, dict[int, float]] = {}
        votes: dict[str, int | None] = {}
        if "elbow" in chosen:
            curve = {k: path.inertia.get(k, _within_ss(X, path.labels[k])) for k in ks}
            curve_ks = ([1] if ks[0] > 1 else []) + ks
            curve_values = ([_total_ss(X)] if ks[0] > 1 else []) + [curve[k] for k in ks]
            knee, _ = _kneedle(curve_ks, curve_values)
            table["inertia"] = curve
            votes["elbow"] = knee if knee in ks else None
        for name, fn, greater in (
            ("silhouette", silhouette_score, True),
            ("calinski_harabasz", calinski_harabasz_score, True),
            ("davies_bouldin", davies_bouldin_score, False),
        ):
            if name not in chosen:
                continue
            if name == "silhouette" and sil_rows is not None:
                values = {k: _safe(fn, X[sil_rows], path.labels[k][sil_rows]) for k in ks}
            else:
                values = {k: _safe(fn, X, path.labels[k]) for k in ks}
            table[name] = values
            votes[name] = _argbest(values, greater)
        band: list[int] = []
        if "gap" in chosen:
            gap, se, m = _gap_statistic(
                plan, X, path, fit_ks, seed=seed_gap, n_refs=n_refs, n_jobs=n_jobs
            )
            table["gap"] = {k: gap[k] for k in ks}
            table["gap_se"] = {k: se[k] for k in ks}
            band = _gap_band(ks, gap, se)
            votes["gap"] = band[0] if band else None
            if not band and any(np.isfinite(gap[k]) for k in ks):
                notes.append("the gap statistic rises through the whole range (no maximum)")
            if m < n:
                notes.append(f"gap statistic on a random sample of {m:,} of {n:,} points")
        for name, source in (("bic", path.bic), ("aic", path.aic)):
            if name in chosen:
                table[name] = {k: source[k] for k in ks}
                votes[name] = _argbest(table[name], greater=False)
        if "eigengap" in chosen:
            values = path.eigenvalues
            gaps = {
                k: float(values[k] - values[k - 1]) if k < values.size else math.nan for k in ks
            }
            table["eigengap"] = gaps
            votes["eigengap"] = _argbest(gaps, greater=True)
    best_k, leader = _recommend(ks, votes, band)
    frame = _table_frame(ks, table, votes)
    reason = _reason(best_k, leader, band, votes, notes)
    logger.info("choose_k: %s", reason)
    return ChooseKResult(best_k, frame, votes, reason, path.labels[best_k], notes)


def _total_ss(X: np.ndarray) -> float:
    X64 = X.astype(np.float64, copy=False)
    centered = X64 - X64.mean(axis=0)
    return float(np.einsum("ij,ij->", centered, centered))


def _silhouette_rows(n: int, sample_size: Any, seed: int, notes: list[str]) -> np.ndarray | None:
    if sample_size == "auto":
        size = _SILHOUETTE_SAMPLE if n > _SILHOUETTE_SAMPLE else None
    elif sample_size is None:
        size = None
    elif isinstance(sample_size, numbers.Integral) and not isinstance(sample_size, bool):
        if sample_size < 2:
            raise ValueError(f"sample_size must be 'auto', None or an int >= 2; got {sample_size}")
        size = int(sample_size) if sample_size < n else None
    else:
        raise ValueError(f"sample_size must be 'auto', None or an int >= 2; got {sample_size!r}")
    if size is None:
        return None
    notes.append(f"silhouette on a random sample of {size:,} of {n:,} points")
    return np.sort(np.random.RandomState(seed).choice(n, size, replace=False))


def _argbest(values: dict[int, float], greater: bool) -> int | None:
    finite = {k: v for k, v in values.items() if np.isfinite(v)}
    if not finite:
        return None
    return (max if greater else min)(
        finite, key=lambda k: (finite[k], -k) if greater else (finite[k], k)
    )


def _table_frame(ks: list[int], table: dict[str, dict[int, float]], votes: dict) -> Any:
    import pandas as pd

    frame = pd.DataFrame({name: [col.get(k, math.nan) for k in ks] for name, col in table.items()})
    frame.index = pd.Index(ks, name="k")
    frame["votes"] = [sum(v == k for v in votes.values()) for k in ks]
    return frame


# ----------------------------------------------------------------------------------------------
# stability
# ----------------------------------------------------------------------------------------------


@dataclass
class StabilityResult:
    """What :func:`stability` found.

    Attributes
    ----------
    labels_ : ndarray of int64
        The reference clustering (the model fitted on all points); clusters are named by it.
    mean_ari : float
        Mean adjusted Rand index over all pairs of resamples, each pair scored on the points
        both resamples contain.
    pairwise_ari : ndarray of float64, shape (n_pairs,)
        Those ARIs.
    jaccard : ndarray of float64, shape (n_resamples, n_clusters)
        For each resample and reference cluster, the Jaccard similarity of the cluster (restricted
        to the resample) with its best-matching cluster in the resample's fit.
    threshold : float
        Jaccard similarity at which a cluster counts as having reappeared (0.75).
    """

    labels_: np.ndarray
    mean_ari: float
    pairwise_ari: np.ndarray
    jaccard: np.ndarray
    threshold: float = REAPPEAR_JACCARD

    @property
    def cluster_stability(self) -> np.ndarray:
        """Mean Jaccard similarity of each reference cluster over the resamples."""
        return np.nanmean(self.jaccard, axis=0)

    @property
    def reappearance(self) -> np.ndarray:
        """Share of resamples in which each cluster reappears (Jaccard >= threshold)."""
        valid = ~np.isnan(self.jaccard)
        hits = np.where(valid, self.jaccard >= self.threshold, False).sum(axis=0)
        return hits / np.maximum(valid.sum(axis=0), 1)

    def to_pandas(self) -> Any:
        """One row per reference cluster: size, mean Jaccard, reappearance rate, verdict."""
        import pandas as pd

        sizes = np.bincount(self.labels_[self.labels_ != NOISE], minlength=self.jaccard.shape[1])
        frame = pd.DataFrame(
            {
                "size": sizes,
                "mean_jaccard": self.cluster_stability,
                "reappearance": self.reappearance,
                "verdict": [_verdict(j) for j in self.cluster_stability],
            }
        )
        frame.index = pd.Index(range(self.jaccard.shape[1]), name="cluster")
        return frame

    def summary(self) -> str:
        """The result in words, one line per cluster."""
        n_resamples = self.jaccard.shape[0]
        lines = [
            f"Across {n_resamples} subsamples the clusterings agree with a mean adjusted Rand "
            f'index of {self.mean_ari:.2f}. A cluster "reappears" in a subsample when its '
            f"best-matching cluster there has Jaccard similarity >= {self.threshold:.2f}."
        ]
        for c, (rate, jac) in enumerate(
            zip(self.reappearance, self.cluster_stability, strict=True)
        ):
            lines.append(
                f"cluster {c} reappears in {rate:.0%} of resamples "
                f"(mean Jaccard {jac:.2f}: {_verdict(jac)})"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"StabilityResult(mean_ari={self.mean_ari:.3f}, "
            f"n_clusters={self.jaccard.shape[1]}, n_resamples={self.jaccard.shape[0]})"
        )


def _verdict(jaccard: float) -> str:
    """Hennig's (2007) reading of the mean Jaccard similarity."""
    if not np.isfinite(jaccard):
        return "not assessed"
    if jaccard >= 0.85:
        return "highly stable"
    if jaccard >= REAPPEAR_JACCARD:
        return "stable"
    if jaccard > 0.5:
        return "pattern, not a stable cluster"
    return "dissolves"


def _fit_labels(model: Any, X: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.base import clone

    est = clone(model)
    params = est.get_params()
    if "random_state" in params:
        est.set_params(random_state=seed)
    labels = est.fit_predict(X) if hasattr(est, "fit_predict") else est.fit(X).labels_
    return np.asarray(labels, dtype=np.int64)


def _best_jaccard(reference: np.ndarray, labels: np.ndarray, n_clusters: int) -> np.ndarray:
    """For each reference cluster, the largest Jaccard similarity with a cluster of ``labels``
    (both on the same points; noise is no cluster)."""
    out = np.full(n_clusters, np.nan)
    valid_pred = labels != NOISE
    pred_codes, pred_inverse = np.unique(labels[valid_pred], return_inverse=True)
    pred_full = np.full(labels.shape[0], -1, dtype=np.int64)
    pred_full[valid_pred] = pred_inverse
    pred_sizes = np.bincount(pred_inverse, minlength=pred_codes.size)
    for c in range(n_clusters):
        members = reference == c
        size = int(members.sum())
        if size == 0:
            continue
        hits = pred_full[members]
        hits = hits[hits >= 0]
        if hits.size == 0 or pred_codes.size == 0:
            out[c] = 0.0
            continue
        inter = np.bincount(hits, minlength=pred_codes.size)
        union = size + pred_sizes - inter
        out[c] = float(np.max(inter / union))
    return out


def stability(
    X: Any,
    model: Any = "kmeans",
    n_resamples: int = 20,
    fraction: float = 0.8,
    random_state: Any = None,
    *,
    n_clusters: int | None = None,
) -> StabilityResult:
    """How stable is a clustering under subsampling?

    The model is fitted on all points (the reference clustering, whose cluster numbers the
    result uses) and on ``n_resamples`` random subsamples of ``fraction`` of the points, drawn
    without replacement. Overall agreement is the mean adjusted Rand index between every pair of
    subsample fits on the points both contain. Per cluster, in each subsample the reference
    cluster (restricted to the subsample) is matched to the subsample cluster with the largest
    Jaccard similarity (Hennig, 2007); the cluster *reappears* when that similarity is at least
    0.75. Noise points (-1) are in no cluster.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    model : estimator or 'kmeans', default='kmeans'
        An unfitted estimator (cloned for every fit; its ``random_state`` is reseeded per fit),
        or 'kmeans' with ``n_clusters``.
    n_resamples : int, default=20
    fraction : float in (0, 1), default=0.8
    random_state : None, int or RandomState
    n_clusters : int, optional
        Number of clusters when ``model='kmeans'``.

    Returns
    -------
    StabilityResult
        ``mean_ari``, ``jaccard``, ``reappearance``, ``summary()`` and ``to_pandas()``.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from clusterlab.selection import stability
    >>> X, _ = make_blobs(n_samples=300, centers=3, random_state=0)
    >>> result = stability(X, "kmeans", n_resamples=5, random_state=0, n_clusters=3)
    >>> bool(result.mean_ari > 0.9)
    True
    """
    from sklearn.utils import check_array

    from clusterlab.metrics import adjusted_rand_score

    if isinstance(X, str):
        raise TypeError("X must be a 2-D array-like of numbers; got a string")
    X = np.ascontiguousarray(check_array(X, dtype=[np.float64, np.float32]))
    n = X.shape[0]
    if (
        isinstance(n_resamples, bool)
        or not isinstance(n_resamples, numbers.Integral)
        or n_resamples < 2
    ):
        raise ValueError(f"n_resamples must be an int >= 2; got {n_resamples!r}")
    if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) or not 0 < fraction < 1:
        raise ValueError(f"fraction must be a number in (0, 1); got {fraction!r}")
    estimator = _stability_model(model, n_clusters)
    m = round(fraction * n)
    if m < 2:
        raise ValueError(f"fraction * n_samples must leave at least 2 points; got {m}")
    seeds = _seeds(random_state, 2 * n_resamples + 1)
    reference = _fit_labels(estimator, X, seeds[0])
    codes = np.full(n, NOISE, dtype=np.int64)
    clustered = reference != NOISE
    codes[clustered] = np.unique(reference[clustered], return_inverse=True)[1]
    k = int(codes.max()) + 1 if clustered.any() else 0
    subsets, fits = [], []
    jaccard = np.full((n_resamples, k), np.nan)
    for b in range(n_resamples):
        rows = np.sort(np.random.RandomState(seeds[1 + 2 * b]).choice(n, m, replace=False))
        labels = _fit_labels(estimator, X[rows], seeds[2 + 2 * b])
        subsets.append(rows)
        fits.append(labels)
        jaccard[b] = _best_jaccard(codes[rows], labels, k)
    aris = []
    for a in range(n_resamples):
        for b in range(a + 1, n_resamples):
            common, ia, ib = np.intersect1d(subsets[a], subsets[b], return_indices=True)
            if common.size >= 2:
                aris.append(adjusted_rand_score(fits[a][ia], fits[b][ib]))
    pairwise = np.array(aris, dtype=np.float64)
    mean_ari = float(pairwise.mean()) if pairwise.size else math.nan
    return StabilityResult(codes, mean_ari, pairwise, jaccard)


def _stability_model(model: Any, n_clusters: int | None) -> Any:
    if isinstance(model, str):
        if model.lower() != "kmeans":
            raise ValueError(f"model must be 'kmeans' or an estimator; got {model!r}")
        if (
            isinstance(n_clusters, bool)
            or not isinstance(n_clusters, numbers.Integral)
            or n_clusters < 1
        ):
            raise ValueError(
                f"n_clusters must be an int >= 1 when model='kmeans'; got {n_clusters!r}"
            )
        from clusterlab.cluster.kmeans import KMeans

        return KMeans(n_clusters=int(n_clusters))
    if not hasattr(model, "get_params") or not hasattr(model, "fit"):
        raise TypeError(f"model must be 'kmeans' or an estimator; got {type(model).__name__}")
    if n_clusters is not None:
        model = _with_k(model, n_clusters)
    return model


def _with_k(model: Any, k: int) -> Any:
    from sklearn.base import clone

    return clone(model).set_params(**{_k_parameter(model): k})
