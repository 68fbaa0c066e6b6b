"""Fitting one model for every k: the k paths of :func:`~clusterlab.selection.choose_k`.

A *k path* fits a model for every k of a range and keeps each k's labels (and what the path
knows besides: inertia, BIC / AIC, the spectrum), reusing work across k where the model allows:

- ``kmeans``: k-means for every k, warm-started from k - 1 and k + 1;
- ``linkage``: one hierarchical tree cut at every k: clusterlab's tree models
  (``AgglomerativeClustering`` with any linkage and metric, ``Genie``) are fitted once and cut
  by their ``cut``; scikit-learn's by one scipy tree (Ward, average, complete or single linkage
  on euclidean distances; another metric refits the model per k);
- ``mixture``: Gaussian mixtures, with their BIC and AIC (clusterlab's share one validation
  and one k-means++ seeding across k: :func:`clusterlab.gaussian_mixture_path`);
- ``spectral``: one eigendecomposition for every k (one SpectralClustering fit), with the
  eigengap;
- ``affinity``: affinity propagation for every k from one similarity matrix, the preference
  searches of all k run as one (:func:`clusterlab.cluster.affinity.fit_each_k`): each k's labels
  are exactly those of its own fit;
- ``refit``: any estimator with a number-of-clusters parameter, refitted for every k.

Which path a model takes is its registry entry's (:class:`clusterlab.models.ChooseK`): a model
id names its entry, an estimator is matched to one by class (:func:`clusterlab.models.entry_for`);
an estimator outside the registry is refitted. :data:`PATHS` maps a path's name to its fitting
function, the parameters a model id gets for it, and the criteria it offers.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clusterlab.models import entry_for, k_param_of, lookup
from clusterlab.selection.criteria import DEFAULT_CRITERIA

__all__ = ["PATHS", "KPath", "PathKind", "Plan", "fit_path", "plan", "seeds"]

# k-means starts per k (besides the warm start) and the largest sample its fits run on.
_KMEANS_N_INIT = 3
_KMEANS_FIT_SAMPLE = 20_000
LINKAGES = ("ward", "average", "complete", "single")


@dataclass
class KPath:
    """Labels (and model-specific extras) of one model for every k."""

    labels: dict[int, np.ndarray]
    inertia: dict[int, float] = field(default_factory=dict)
    bic: dict[int, float] = field(default_factory=dict)
    aic: dict[int, float] = field(default_factory=dict)
    eigenvalues: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)


def seeds(random_state: Any, n: int) -> list[int]:
    """``n`` seeds drawn from ``random_state``."""
    from sklearn.utils import check_random_state

    rng = check_random_state(random_state)
    return [int(s) for s in rng.randint(0, 2**31 - 1, size=n)]


# ----------------------------------------------------------------------------------------------
# the paths
# ----------------------------------------------------------------------------------------------


def kmeans_path(
    X: np.ndarray, ks: Sequence[int], seed: int, base: Any, n_jobs: Any, *, quick: bool = False
) -> KPath:
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
            warm_init = add_center(Xfit, previous, rng)
            warm = clone(est).set_params(n_clusters=k, init=warm_init, n_init=1).fit(Xfit)
            if warm.inertia_ < fits[k].inertia_:
                fits[k] = warm
    if not quick:
        for k in reversed(ordered[:-1]):
            following = fits.get(k + 1)
            if following is None or following.cluster_centers_.shape[0] != k + 1:
                continue
            init = drop_center(Xfit, following)
            warm = clone(est).set_params(n_clusters=k, init=init, n_init=1).fit(Xfit)
            if warm.inertia_ < fits[k].inertia_:
                fits[k] = warm
    path = KPath(labels={})
    for k in ordered:
        best = fits[k]
        if fit_rows is not None:
            best = clone(est).set_params(n_clusters=k, init=best.cluster_centers_, n_init=1)
            best.fit(X)
        path.labels[k] = best.labels_
        path.inertia[k] = float(best.inertia_)
    return path


def add_center(X: np.ndarray, model: Any, rng: np.random.RandomState) -> np.ndarray:
    """The fitted centers plus one row drawn with probability proportional to its squared
    distance to its center (the k-means++ rule)."""
    centers = model.cluster_centers_
    diff = X - centers[model.labels_]
    d2 = np.einsum("ij,ij->i", diff, diff).astype(np.float64)
    total = d2.sum()
    idx = int(rng.choice(X.shape[0], p=d2 / total)) if total > 0 else int(rng.randint(X.shape[0]))
    return np.vstack([centers, X[idx : idx + 1]]).astype(X.dtype)


def drop_center(X: np.ndarray, model: Any) -> np.ndarray:
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


def linkage_path(X: np.ndarray, ks: Sequence[int], method: str) -> KPath:
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
    path = KPath(labels={})
    for k in ks:
        labels = fcluster(tree, t=k, criterion="maxclust")
        path.labels[k] = np.unique(labels, return_inverse=True)[1].astype(np.int64)
    return path


def mixture_path(
    X: np.ndarray, ks: Sequence[int], seed: int, base: Any, *, other_types: bool = False
) -> KPath:
    """Gaussian mixtures (``base`` with n_components = k) for every k, with their BIC and AIC.

    clusterlab's GaussianMixture with its default k-means initialisation takes
    :func:`~clusterlab.cluster.mixture_path.gaussian_mixture_path` (one validation, one
    k-means++ seeding for the largest k shared by every k, labels and log-likelihood from the
    last E step); another mixture is refitted for every k. ``other_types`` also fits the other
    three covariance types on the same k-means starts, and a note names the covariance type
    with a lower BIC than ``base``'s at each k where there is one (the path itself stays
    ``base``'s: its labels are those of the model the chosen k will build).
    """
    from sklearn.base import clone

    if _shares_work(base):
        return _shared_mixture_path(X, ks, seed, base, other_types=other_types)
    path = KPath(labels={})
    for k in ks:
        model = clone(base).set_params(n_components=k, random_state=seed).fit(X)
        path.labels[k] = model.predict(X).astype(np.int64)
        path.bic[k] = float(model.bic(X))
        path.aic[k] = float(model.aic(X))
    return path


def _shares_work(base: Any) -> bool:
    """Whether ``base`` is clusterlab's GaussianMixture started by k-means from nothing given."""
    from clusterlab.cluster.mixture import GaussianMixture

    params = base.get_params()
    given = ("weights_init", "means_init", "precisions_init")
    return (
        type(base) is GaussianMixture
        and params["init_params"] == "kmeans"
        and not params["warm_start"]
        and all(params[name] is None for name in given)
    )


def _shared_mixture_path(
    X: np.ndarray, ks: Sequence[int], seed: int, base: Any, *, other_types: bool
) -> KPath:
    from clusterlab.cluster.mixture_path import COVARIANCE_TYPES, gaussian_mixture_path

    params = base.get_params()
    kind = params["covariance_type"]
    types = [kind, *(t for t in COVARIANCE_TYPES if t != kind)] if other_types else [kind]
    fitted = gaussian_mixture_path(
        X,
        ks,
        covariance_types=types,
        n_init=params["n_init"],
        tol=params["tol"],
        reg_covar=params["reg_covar"],
        max_iter=params["max_iter"],
        random_state=seed,
        n_jobs=params["n_jobs"],
    )
    path = KPath(labels={})
    for k in ks:
        path.labels[k] = fitted.labels(kind, k).astype(np.int64, copy=False)
        path.bic[k] = float(fitted.bic[(kind, k)])
        path.aic[k] = float(fitted.aic[(kind, k)])
    if other_types:
        path.notes.extend(_better_types(fitted, kind, ks))
    return path


def _better_types(fitted: Any, kind: str, ks: Sequence[int]) -> list[str]:
    """A note per covariance type with a lower BIC than ``kind``'s, naming the k where it is."""
    better: dict[str, list[int]] = {}
    for k in ks:
        best = min(fitted.covariance_types, key=lambda t: fitted.bic[(t, k)])
        if fitted.bic[(best, k)] < fitted.bic[(kind, k)]:
            better.setdefault(best, []).append(k)
    return [
        f"the BIC is lowest with covariance_type={t!r} at k = {', '.join(map(str, k_list))} "
        f"(the path is {kind!r}; choose_k(X, GaussianMixture(covariance_type={t!r})) scores it)"
        for t, k_list in better.items()
    ]


def spectral_path(X: np.ndarray, ks: Sequence[int], seed: int, base: Any, n_jobs: Any) -> KPath:
    """Spectral clustering for every k from one eigendecomposition.

    clusterlab's SpectralClustering (``base``, its affinity and solver kept) is fitted once
    with ``max(ks) + 1`` eigenvectors, and each k clusters the first k of them
    (:meth:`~clusterlab.cluster.spectral.SpectralClustering.labels_for`); its eigenvalues give
    the eigengap criterion; a disconnected graph becomes a note (choose_k's ``reason``)
    instead of the fit's ``DisconnectedGraphWarning``. Another spectral estimator
    (scikit-learn's) gets the same from one symmetric k-nearest-neighbour graph with its
    ``n_neighbors``.
    """
    from sklearn.base import clone

    from clusterlab.cluster.spectral import DisconnectedGraphWarning, SpectralClustering

    if type(base) is not SpectralClustering:
        n_neighbors = int(base.get_params().get("n_neighbors", 10))
        return _knn_spectral_path(X, ks, seed, n_neighbors, n_jobs)
    given = base.get_params()
    top = max(ks)
    limit = X.shape[0] if given["n_landmarks"] is None else min(X.shape[0], given["n_landmarks"])
    params = {"n_clusters": top, "n_components": min(top + 1, limit), "random_state": seed}
    if given["n_jobs"] is None:
        params["n_jobs"] = n_jobs
    with warnings.catch_warnings():
        # said in choose_k's reason instead, with what it means for the eigengap
        warnings.simplefilter("ignore", DisconnectedGraphWarning)
        model = clone(base).set_params(**params).fit(X)
    path = KPath(labels={}, eigenvalues=np.asarray(model.eigenvalues_, dtype=np.float64))
    note = model.components_note()
    if note is not None:
        path.notes.append(note)
    for k in ks:
        path.labels[k] = model.labels_for(k)
    return path


def _knn_spectral_path(
    X: np.ndarray, ks: Sequence[int], seed: int, n_neighbors: int, n_jobs: Any
) -> KPath:
    """Ng, Jordan and Weiss on a symmetric k-nearest-neighbour graph: one eigendecomposition
    for the largest k, k-means on the row-normalised first k eigenvectors for each k."""
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
    path = KPath(labels={}, eigenvalues=laplacian_values)
    for k in ks:
        embedding = vectors[:, :k]
        norms = np.linalg.norm(embedding, axis=1, keepdims=True)
        embedding = embedding / np.maximum(norms, 1e-12)
        km = KMeans(n_clusters=k, n_init=3, random_state=seed, n_jobs=n_jobs).fit(embedding)
        path.labels[k] = km.labels_
    return path


def affinity_path(X: np.ndarray, ks: Sequence[int], seed: int, base: Any) -> KPath:
    """clusterlab's AffinityPropagation (``base``) with ``n_clusters=k`` for every k.

    The labels at k are those of ``base`` fitted alone with ``n_clusters=k`` (its random_state,
    when unset, seeded as :func:`refit_path` seeds it), but the similarity matrix is built once
    and the runs the k's preference searches share are made once
    (:func:`~clusterlab.cluster.affinity.fit_each_k`).
    """
    from sklearn.base import clone

    from clusterlab.cluster.affinity import fit_each_k

    est = clone(base)
    if est.get_params()["random_state"] is None:
        est.set_params(random_state=seed)
    fitted = fit_each_k(est, X, list(ks))
    return KPath(labels={k: fitted[k].labels_ for k in ks})


def refit_path(X: np.ndarray, ks: Sequence[int], seed: int, model: Any) -> KPath:
    """``model`` refitted for every k (its random_state, when unset, seeded)."""
    from sklearn.base import clone

    param = k_param_of(model)
    path = KPath(labels={})
    params = model.get_params()
    for k in ks:
        est = clone(model).set_params(**{param: k})
        if "random_state" in params and params["random_state"] is None:
            est.set_params(random_state=seed)
        labels = est.fit_predict(X) if hasattr(est, "fit_predict") else est.fit(X).labels_
        path.labels[k] = np.asarray(labels, dtype=np.int64)
    return path


# ----------------------------------------------------------------------------------------------
# which path a model takes
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Plan:
    """What choose_k fits: the path's name and the model (cloned for every fit)."""

    kind: str
    estimator: Any
    by_id: bool = False  # named by a model id: the model's defaults are not the user's choice


def _kmeans(plan: Plan, X: np.ndarray, ks: Sequence[int], seed: int, *, n_jobs: Any, quick: bool):
    return kmeans_path(X, ks, seed, plan.estimator, n_jobs, quick=quick)


def tree_path(X: np.ndarray, ks: Sequence[int], model: Any) -> KPath:
    """``model`` (a tree model with ``cut``) fitted once with its whole tree, cut at every k."""
    from sklearn.base import clone

    est = clone(model).set_params(n_clusters=min(ks))
    if "compute_full_tree" in est.get_params():
        est.set_params(compute_full_tree=True, distance_threshold=None)
    est.fit(X)
    return KPath(labels={k: np.asarray(est.cut(n_clusters=k), dtype=np.int64) for k in ks})


def _linkage(plan: Plan, X: np.ndarray, ks: Sequence[int], seed: int, *, n_jobs: Any, quick: bool):
    if _cuts_itself(plan.estimator):
        return tree_path(X, ks, plan.estimator)
    return linkage_path(X, ks, plan.estimator.get_params()["linkage"])


def _mixture(plan: Plan, X: np.ndarray, ks: Sequence[int], seed: int, *, n_jobs: Any, quick: bool):
    return mixture_path(X, ks, seed, plan.estimator, other_types=plan.by_id and not quick)


def _spectral(plan: Plan, X: np.ndarray, ks: Sequence[int], seed: int, *, n_jobs: Any, quick: bool):
    return spectral_path(X, ks, seed, plan.estimator, n_jobs)


def _affinity(plan: Plan, X: np.ndarray, ks: Sequence[int], seed: int, *, n_jobs: Any, quick: bool):
    return affinity_path(X, ks, seed, plan.estimator)


def _is_our_affinity_propagation(model: Any) -> bool:
    from clusterlab.cluster.affinity import AffinityPropagation

    return isinstance(model, AffinityPropagation)


def _refit(plan: Plan, X: np.ndarray, ks: Sequence[int], seed: int, *, n_jobs: Any, quick: bool):
    return refit_path(X, ks, seed, plan.estimator)


def _cuts_itself(model: Any) -> bool:
    """clusterlab's tree models: fitted once, their own ``cut`` gives every k."""
    return callable(getattr(model, "cut", None)) and type(model).__module__.startswith(
        "clusterlab."
    )


def _tree_cut(model: Any) -> bool:
    """Whether one tree gives the model's labels at every k: clusterlab's tree models, or a
    standard linkage on euclidean distances (one scipy tree)."""
    if _cuts_itself(model):
        return True
    params = model.get_params()
    metric = params.get("metric", params.get("affinity", "euclidean"))
    return params.get("linkage") in LINKAGES and metric in ("euclidean", None)


@dataclass(frozen=True)
class PathKind:
    """A k path: how it fits, what a model id gets for it, which criteria it offers.

    Attributes
    ----------
    fit : callable
        ``fit(plan, X, ks, seed, *, n_jobs, quick) -> KPath``; ``quick`` (the gap statistic's
        uniform references) may trade thoroughness for time.
    defaults : mapping
        Parameters a model named by id gets on this path (mixtures: two starts per k).
    criteria : tuple of str
        The default criteria of choose_k on this path.
    extras : frozenset of str
        Criteria only this path computes.
    applies : callable
        ``applies(model)``: whether the (unfitted) model can take the path (else it is
        refitted per k).
    """

    fit: Callable[..., KPath]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    criteria: tuple[str, ...] = DEFAULT_CRITERIA
    extras: frozenset[str] = frozenset()
    applies: Callable[[Any], bool] = lambda model: True


#: Path name (a registry entry's ``ChooseK.path``) -> its kind.
PATHS: dict[str, PathKind] = {
    "kmeans": PathKind(_kmeans),
    "linkage": PathKind(_linkage, applies=_tree_cut),
    "mixture": PathKind(
        _mixture,
        defaults={"n_init": 2},
        criteria=("silhouette", "calinski_harabasz", "davies_bouldin", "bic"),
        extras=frozenset({"bic", "aic"}),
    ),
    "spectral": PathKind(
        _spectral,
        criteria=("silhouette", "calinski_harabasz", "davies_bouldin", "eigengap"),
        extras=frozenset({"eigengap"}),
    ),
    "affinity": PathKind(_affinity, applies=_is_our_affinity_propagation),
    "refit": PathKind(_refit),
}


def plan(model: Any) -> Plan:
    """The path of ``model``: a model id that takes k (or an older name, e.g. ``'ward'``), or
    an estimator (its registry entry's path; refitted per k outside the registry)."""
    if isinstance(model, str):
        found = lookup(model)
        if found is None or not found[0].needs_k:
            raise ValueError(f"{_models_text()}; got {model!r}")
        entry, params = found
        kind = entry.key_search.path
        estimator = entry.factory(**{**PATHS[kind].defaults, **params})
    elif hasattr(model, "get_params") and hasattr(model, "fit"):
        entry = entry_for(model)
        kind = entry.key_search.path if entry is not None and entry.needs_k else "refit"
        estimator = model
    else:
        raise TypeError(f"model must be a string or an estimator; got {type(model).__name__}")
    if not PATHS[kind].applies(estimator):
        kind = "refit"
    if kind == "refit" and k_param_of(estimator) is None:
        raise TypeError(
            f"{_models_text()} with an n_clusters (or n_components) parameter; "
            f"got {type(estimator).__name__}"
        )
    return Plan(kind, estimator, by_id=isinstance(model, str))


def _models_text() -> str:
    """What ``model`` may be, for error messages."""
    from clusterlab.models import REGISTRY

    ids = [e.id for e in REGISTRY.values() if e.needs_k]
    aliases = [a for e in REGISTRY.values() if e.needs_k for a in e.aliases]
    return (
        f"model must be 'kmeans' or another model id that takes k ({', '.join(ids)}), an older "
        f"name ({', '.join(aliases)}) or an estimator"
    )


def fit_path(
    plan: Plan, X: np.ndarray, ks: Sequence[int], seed: int, n_jobs: Any, *, quick: bool = False
) -> KPath:
    """The labels of ``plan``'s model for every k of ``ks``."""
    return PATHS[plan.kind].fit(plan, X, ks, seed, n_jobs=n_jobs, quick=quick)
