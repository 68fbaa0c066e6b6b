"""The registry: one :class:`~clusterlab.models.entry.ModelEntry` per model id.

Adding a model id is one entry here plus its estimator; every layer above (create, compare,
tune, choose_k, persistence, ``models()``) reads what it needs from the entry.
"""

from __future__ import annotations

import difflib
from typing import Any

from clusterlab.models.entry import (
    CategoryInput,
    ChooseK,
    ModelEntry,
    Scaled,
    SizeSearch,
    lazy_class,
)
from clusterlab.models.estimates import (
    dbscan_defaults,
    hdbscan_defaults,
    meanshift_defaults,
    sample_bandwidth,
    sample_eps,
)
from clusterlab.models.mixed_rules import NearestGowerMedoid, NearestPrototype
from clusterlab.models.out_of_sample import (
    RULES,
    NearestCentre,
    NearestCore,
    NearestMode,
    Rule,
    rule_for,
)

__all__ = [
    "REGISTRY",
    "entry_for",
    "get_entry",
    "k_param_of",
    "lookup",
    "out_of_sample_rule",
    "registry_frame",
    "trusted_types",
]

_K_SPACE = list(range(2, 11))
#: Rows compare_models gives choose_k for k-means (it samples further inside).
KMEANS_SEARCH_SIZE = 100_000
#: Rows choose_k gives affinity propagation (dense: three n x n matrices, 24 MB at 1,000 rows,
#: and a 16 MB copy of the messages wherever the preference searches of two k part).
AP_SEARCH_SIZE = 1_000
#: Mean shift's modes holding fewer than this share of the rows join the nearest stronger mode.
MEANSHIFT_MIN_SHARE = 0.05
_LINKAGES = ("ward", "average", "complete", "single")
#: The fitted layout of k-modes / k-prototypes (plain arrays of codes and levels), which a
#: model file stores with the estimator.
_CATEGORY_CODES = frozenset({"clusterlab._mixed.CategoryCodes"})

_ENTRIES = (
    ModelEntry(
        id="kmeans",
        name="K-Means",
        engines={
            "clusterlab": lazy_class("clusterlab.cluster.kmeans:KMeans"),
            "sklearn": lazy_class("sklearn.cluster:KMeans"),
        },
        about="numba k-means++ and Lloyd",
        key_param="n_clusters",
        key_search=ChooseK("kmeans", rows=KMEANS_SEARCH_SIZE, n_refs=10),
        tuning={"n_clusters": _K_SPACE, "init": ["k-means++", "random"]},
        memory="O(n·k)",
        warm_init=True,
    ),
    ModelEntry(
        id="minibatch",
        name="Mini-Batch K-Means",
        engines={
            "clusterlab": lazy_class("clusterlab.cluster.minibatch:MiniBatchKMeans"),
            "sklearn": lazy_class("sklearn.cluster:MiniBatchKMeans"),
        },
        about="numba, shared k-means kernels",
        key_param="n_clusters",
        key_search=ChooseK("refit"),
        tuning={"n_clusters": _K_SPACE, "batch_size": [256, 1024, 4096]},
        memory="O(n·k)",
        warm_init=True,
    ),
    ModelEntry(
        id="bisecting",
        name="Bisecting K-Means",
        engines={
            "clusterlab": lazy_class("clusterlab.cluster.bisecting:BisectingKMeans"),
            "sklearn": lazy_class("sklearn.cluster:BisectingKMeans"),
        },
        about="numba, shared k-means kernels",
        key_param="n_clusters",
        key_search=ChooseK("refit"),
        tuning={
            "n_clusters": _K_SPACE,
            "bisecting_strategy": ["biggest_inertia", "largest_cluster"],
        },
        # scikit-learn's BisectingKMeans keeps the function it ran as a fitted attribute
        trusted=frozenset(
            {
                "sklearn.cluster._kmeans._kmeans_single_lloyd",
                "sklearn.cluster._kmeans._kmeans_single_elkan",
            }
        ),
        memory="O(n·k)",
    ),
    ModelEntry(
        id="dbscan",
        name="Density-Based Spatial Clustering",
        engines={
            "clusterlab": lazy_class("clusterlab.cluster.dbscan:DBSCAN"),
            "sklearn": lazy_class("sklearn.cluster:DBSCAN"),
        },
        about="numba grid / kd-tree, O(n) memory; predict: nearest core point",
        key_param="eps",
        defaults=dbscan_defaults,
        tuning={
            "eps": Scaled(sample_eps, (0.5, 0.75, 1.0, 1.5, 2.0)),
            "min_samples": [3, 5, 10, 20],
        },
        out_of_sample=NearestCore,
        turbo_max_n=50_000,
        random_state_param=None,
        uses_noise=True,
    ),
    ModelEntry(
        id="hdbscan",
        name="HDBSCAN",
        engines={
            "clusterlab": lazy_class("clusterlab.cluster.hdbscan:HDBSCAN"),
            "sklearn": lazy_class("sklearn.cluster:HDBSCAN"),
        },
        about="numba Borůvka; approximate predict",
        key_param="min_cluster_size",
        key_search=SizeSearch((5, 10, 20, 50)),
        defaults=hdbscan_defaults,
        tuning={"min_cluster_size": [5, 10, 20, 50, 100], "min_samples": [None, 5, 10]},
        turbo_max_n=20_000,
        random_state_param=None,
        uses_noise=True,
    ),
    ModelEntry(
        id="optics",
        name="OPTICS Clustering",
        engines={
            "clusterlab": lazy_class("clusterlab.cluster.optics:OPTICS"),
            "sklearn": lazy_class("sklearn.cluster:OPTICS"),
        },
        about="numba kd-tree / heap ordering; predict: nearest ordered point",
        key_param="min_samples",
        tuning={"min_samples": [5, 10, 20, 50], "xi": [0.01, 0.05, 0.1]},
        turbo_max_n=5_000,
        random_state_param=None,
        uses_noise=True,
    ),
    ModelEntry(
        id="hclust",
        name="Agglomerative Clustering",
        engines={
            "clusterlab": lazy_class("clusterlab.cluster.hierarchy:AgglomerativeClustering"),
            "sklearn": lazy_class("sklearn.cluster:AgglomerativeClustering"),
        },
        about=(
            "numba nearest-neighbour chains, ward in O(n·d) memory (complete / average: a "
            "budget-checked condensed matrix); predict: the linkage's own rule"
        ),
        key_param="n_clusters",
        key_search=ChooseK("linkage"),
        tuning={"n_clusters": _K_SPACE, "linkage": ["ward", "complete", "average"]},
        memory="O(n)",
        turbo_max_n=50_000,
        random_state_param=None,
        aliases={"agglomerative": {"linkage": "ward"}, **{m: {"linkage": m} for m in _LINKAGES}},
    ),
    ModelEntry(
        id="birch",
        name="Birch Clustering",
        engines={
            "clusterlab": lazy_class("clusterlab.cluster.birch:Birch"),
            "sklearn": lazy_class("sklearn.cluster:Birch"),
        },
        about="numba flat-array CF tree (BETULA features), weighted k-means global step",
        key_param="n_clusters",
        key_search=ChooseK("refit"),
        tuning={"n_clusters": _K_SPACE, "threshold": [0.1, 0.3, 0.5, 1.0]},
        portable_rule=NearestCentre,
        turbo_max_n=50_000,
        random_state_param=None,
    ),
    ModelEntry(
        id="ap",
        name="Affinity Propagation",
        engines={
            "clusterlab": lazy_class("clusterlab.cluster.affinity:AffinityPropagation"),
            "sklearn": lazy_class("sklearn.cluster:AffinityPropagation"),
        },
        about="numba messages in place; preference searched for k; kNN-graph mode above 5,000",
        key_param="n_clusters",
        key_search=ChooseK("affinity", rows=AP_SEARCH_SIZE),
        tuning={"n_clusters": _K_SPACE, "damping": [0.5, 0.7, 0.9]},
        memory="O(n·k)",
        turbo_max_n=20_000,
    ),
    ModelEntry(
        id="meanshift",
        name="Mean Shift Clustering",
        engines={
            "clusterlab": lazy_class(
                "clusterlab.cluster.meanshift:MeanShift", min_cluster_size=MEANSHIFT_MIN_SHARE
            ),
            "sklearn": lazy_class("sklearn.cluster:MeanShift", bin_seeding=True),
        },
        about="numba kd-tree with node sums, MeanShift++ grid; weak modes merged",
        key_param="bandwidth",
        defaults=meanshift_defaults,
        tuning={"bandwidth": Scaled(sample_bandwidth, (0.5, 0.75, 1.0, 1.5))},
        turbo_max_n=10_000,
        random_state_param=None,
    ),
    ModelEntry(
        id="sc",
        name="Spectral Clustering",
        engines={
            "clusterlab": lazy_class("clusterlab.cluster.spectral:SpectralClustering"),
            "sklearn": lazy_class("sklearn.cluster:SpectralClustering"),
        },
        about="sparse kNN graph, ARPACK / LOBPCG; predict: Nyström extension",
        key_param="n_clusters",
        key_search=ChooseK("spectral"),
        tuning={"n_clusters": _K_SPACE, "affinity": ["nearest_neighbors", "rbf"]},
        # the fitted affinity graph (sparse) and the kd-tree that places new rows in it
        trusted=frozenset({"scipy.sparse._csr.csr_matrix", "clusterlab.kernels.kdtree.KDTree"}),
        memory="O(n·k)",
        turbo_max_n=50_000,
        aliases={"spectral": {}},
    ),
    ModelEntry(
        id="kmodes",
        name="K-Modes Clustering",
        engines={"clusterlab": lazy_class("clusterlab.cluster.categorical:KModes")},
        # setup's raw view: each categorical column one column of categories (not one-hot
        # columns); numeric columns as PyCaret fits them, each distinct value a category
        about="numba Huang k-modes on the categorical columns as they are",
        key_param="n_clusters",
        key_search=ChooseK("refit"),
        tuning={"n_clusters": _K_SPACE, "init": ["cao", "huang"]},
        portable_rule=NearestMode,
        trusted=_CATEGORY_CODES,
        memory="O(n·k)",
        turbo_max_n=50_000,
        categories=CategoryInput(compare="all"),  # compared when every feature is categorical
    ),
    ModelEntry(
        id="kprototypes",
        name="K-Prototypes Clustering",
        engines={"clusterlab": lazy_class("clusterlab.cluster.categorical:KPrototypes")},
        about="numba Huang k-prototypes: numeric columns and categorical columns as they are",
        key_param="n_clusters",
        key_search=ChooseK("refit"),
        tuning={"n_clusters": _K_SPACE, "init": ["cao", "huang"]},
        portable_rule=NearestPrototype,
        trusted=_CATEGORY_CODES,
        memory="O(n·k)",
        turbo_max_n=50_000,
        categories=CategoryInput(columns_param="categorical"),
    ),
    ModelEntry(
        id="kmedoids",
        name="K-Medoids Clustering",
        engines={"clusterlab": lazy_class("clusterlab.cluster.medoids:KMedoids")},
        about=(
            "numba FasterPAM, Gower's distance on data with categorical columns; the distance "
            "matrix only where it fits the memory budget"
        ),
        key_param="n_clusters",
        key_search=ChooseK("refit"),
        tuning={"n_clusters": _K_SPACE, "method": ["fasterpam", "alternate"]},
        portable_rule=NearestGowerMedoid,
        # Gower's fitted rules (plain arrays) and the distance object given as the metric
        trusted=frozenset(
            {"clusterlab._mixed.GowerEncoding", "clusterlab.metrics.gower.GowerDistance"}
        ),
        turbo_max_n=20_000,
        # compared on data with categorical columns (Gower); euclidean k-medoids ranks with
        # k-means, and its kernels would add their compile time to every first comparison
        categories=CategoryInput(gower_metric=True),
    ),
    ModelEntry(
        id="gmm",
        name="Gaussian Mixture",
        engines={
            "clusterlab": lazy_class("clusterlab.cluster.mixture:GaussianMixture"),
            "sklearn": lazy_class("sklearn.mixture:GaussianMixture"),
        },
        about="numba EM, sample weights, degenerate components regularised",
        key_param="n_components",
        key_search=ChooseK("mixture"),
        tuning={"n_components": _K_SPACE, "covariance_type": ["full", "diag", "tied"]},
        memory="O(n·k)",
        aliases={"gaussian_mixture": {}},
    ),
    ModelEntry(
        id="genie",
        name="Genie",
        engines={"clusterlab": lazy_class("clusterlab.cluster.hierarchy:Genie")},
        about=(
            "Gini-capped merges along a minimum spanning tree (parallel Borůvka / Prim, "
            "approximate for large n·d); predict: the tree vertex a point would join"
        ),
        key_param="n_clusters",
        key_search=ChooseK("linkage"),
        tuning={"n_clusters": _K_SPACE, "gini_threshold": [0.1, 0.3, 0.5, 0.7], "M": [1, 5]},
        random_state_param=None,
    ),
)

#: id -> entry, in display order.
REGISTRY: dict[str, ModelEntry] = {e.id: e for e in _ENTRIES}


def get_entry(model_id: str) -> ModelEntry:
    """The entry for ``model_id``; an unknown id is a ValueError with a did-you-mean suggestion.

    Examples
    --------
    >>> get_entry("kmeans").key_param
    'n_clusters'
    """
    if not isinstance(model_id, str):
        raise TypeError(f"model must be a model id (str) or an estimator; got {model_id!r}")
    entry = REGISTRY.get(model_id.lower())
    if entry is None:
        close = difflib.get_close_matches(model_id.lower(), list(REGISTRY), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"model {model_id!r} is not a known model id{hint} (known: {', '.join(REGISTRY)})"
        )
    return entry


def lookup(name: str) -> tuple[ModelEntry, dict[str, Any]] | None:
    """The entry a model id or an older alias names, and the parameters the alias implies.

    Examples
    --------
    >>> entry, params = lookup("average")
    >>> entry.id, params
    ('hclust', {'linkage': 'average'})
    """
    key = name.lower()
    if key in REGISTRY:
        return REGISTRY[key], {}
    for entry in REGISTRY.values():
        if key in entry.aliases:
            return entry, dict(entry.aliases[key])
    return None


def entry_for(estimator: Any) -> ModelEntry | None:
    """The entry whose engine class ``estimator`` is an instance of (its own class first, then
    a parent class), else None. Imports nothing: a class whose module is not imported yet has
    no instance.

    Examples
    --------
    >>> from sklearn.cluster import AgglomerativeClustering
    >>> entry_for(AgglomerativeClustering()).id
    'hclust'
    """
    cls = type(estimator)
    parent = None
    for entry in REGISTRY.values():
        for ref in entry.engines.values():
            engine_class = ref.loaded()
            if engine_class is cls:
                return entry
            if parent is None and engine_class is not None and isinstance(estimator, engine_class):
                parent = entry
    return parent


def k_param_of(estimator: Any) -> str | None:
    """The parameter that sets an estimator's number of clusters: its entry's key parameter when
    it takes k, else ``n_clusters`` or ``n_components`` when it has one, else None."""
    entry = entry_for(estimator)
    if entry is not None and entry.needs_k:
        return entry.key_param
    params = estimator.get_params()
    return next((name for name in ("n_clusters", "n_components") if name in params), None)


def out_of_sample_rule(estimator: Any) -> Rule:
    """The unfitted rule that labels new points for ``estimator`` (see
    :mod:`clusterlab.models.out_of_sample`): its own predict, else its entry's rule."""
    entry = entry_for(estimator)
    return rule_for(estimator, None if entry is None else entry.out_of_sample)


def trusted_types() -> frozenset[str]:
    """Types a model file may hold besides estimator classes: the rules and what entries add."""
    names = {f"{rule.__module__}.{rule.__qualname__}" for rule in RULES}
    for entry in REGISTRY.values():
        names |= entry.trusted
    return frozenset(names)


def registry_frame(raise_errors: bool = True) -> Any:
    """The registry as a DataFrame indexed by id (what ``models()`` returns): name,
    implementation, its engines, whether it predicts natively, takes k, its key parameter and
    memory class. With ``raise_errors=False`` an id whose estimator cannot be imported is left
    out instead of raising."""
    import pandas as pd

    rows = []
    for e in REGISTRY.values():
        try:
            implementation, native = e.implementation, e.native_predict
        except ImportError:
            if raise_errors:
                raise
            continue
        rows.append(
            {
                "ID": e.id,
                "Name": e.name,
                "Implementation": implementation,
                "Engines": ", ".join(e.engines),
                "Native predict": native,
                "Needs k": e.needs_k,
                "Key parameter": e.key_param,
                "Memory": e.memory,
            }
        )
    return pd.DataFrame(rows).set_index("ID")
