"""The metric registry: names and aliases to :class:`Metric` records with their metadata.

The workflow ranks models and decides what to sample with this metadata, so each record says
which way is better, whether it needs reference labels, whether it reads the features, and how
its cost grows with the number of points.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from clusterlab.metrics import external, internal

__all__ = ["COSTS", "Metric", "get_metric", "list_metrics", "register_metric", "unregister_metric"]

#: Cost classes, in the number of points n and clusters k (time; memory is O(n) for all).
COSTS = ("O(n)", "O(n·k)", "O(n²)")


@dataclass(frozen=True)
class Metric:
    """A validity index and what the workflow needs to know about it.

    Attributes
    ----------
    name : str
        Registry id, e.g. ``"davies_bouldin"``.
    display_name : str
        Column header, e.g. ``"Davies-Bouldin"``.
    function : callable
        ``function(X, labels, **kw)`` when ``needs_features``, else
        ``function(labels_true, labels_pred, **kw)``.
    greater_is_better : bool
        ``False`` for Davies-Bouldin, inertia, BIC and AIC.
    needs_ground_truth : bool
        True for external indices (they compare with reference labels).
    cost : {"O(n)", "O(n·k)", "O(n²)"}
        Growth of the running time with the number of points; ``"O(n²)"`` metrics accept
        ``sample_size`` (see ``supports_sample_size``).
    needs_features : bool
        True when the function reads the data X (internal indices).
    aliases : tuple of str
        Other names accepted by :func:`get_metric`.
    supports_sample_size : bool
        Whether ``function`` takes ``sample_size`` and ``random_state``.

    Examples
    --------
    >>> from clusterlab.metrics import get_metric
    >>> db = get_metric("DB")
    >>> db.name, db.greater_is_better, db.cost
    ('davies_bouldin', False, 'O(n)')
    >>> db([[0.0], [0.2], [5.0], [5.2]], [0, 0, 1, 1]) < 0.1
    True
    """

    name: str
    display_name: str
    function: Callable[..., float]
    greater_is_better: bool = True
    needs_ground_truth: bool = False
    cost: str = "O(n²)"
    needs_features: bool = True
    aliases: tuple[str, ...] = field(default=())
    supports_sample_size: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty str; got {self.name!r}")
        if not callable(self.function):
            raise TypeError(f"function must be callable; got {self.function!r}")
        if self.cost not in COSTS:
            raise ValueError(f"cost must be one of {COSTS}; got {self.cost!r}")

    def __call__(self, *args: Any, **kwargs: Any) -> float:
        """Compute the metric: ``metric(X, labels)`` or ``metric(labels_true, labels_pred)``."""
        return self.function(*args, **kwargs)

    def better(self, a: float, b: float) -> bool:
        """True when score ``a`` is strictly better than ``b`` for this metric."""
        return a > b if self.greater_is_better else a < b


def _key(name: str) -> str:
    """Normalised lookup key: case-insensitive, spaces and hyphens read as underscores."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


_BUILTIN = (
    # internal: (X, labels)
    Metric("silhouette", "Silhouette", internal.silhouette_score, True, False, "O(n²)", True,
           ("silhouette_score", "sil"), True),
    Metric("calinski_harabasz", "Calinski-Harabasz", internal.calinski_harabasz_score, True,
           False, "O(n)", True, ("ch", "calinski_harabasz_score", "variance_ratio")),
    Metric("davies_bouldin", "Davies-Bouldin", internal.davies_bouldin_score, False, False,
           "O(n)", True, ("db", "davies_bouldin_score")),
    Metric("dunn", "Dunn", internal.dunn_index, True, False, "O(n²)", True, ("dunn_index",),
           True),
    Metric("simplified_silhouette", "Simplified Silhouette", internal.simplified_silhouette_score,
           True, False, "O(n·k)", True, ("simplified_silhouette_score", "centroid_silhouette")),
    Metric("inertia", "Inertia", internal.inertia, False, False, "O(n)", True,
           ("wcss", "sse", "within_ss")),
    Metric("dbcv", "DBCV", internal.dbcv_score, True, False, "O(n²)", True, ("dbcv_score",),
           True),
    Metric("bic", "BIC", internal.bic_score, False, False, "O(n)", True, ("bic_score",)),
    Metric("aic", "AIC", internal.aic_score, False, False, "O(n)", True, ("aic_score",)),
    # external: (labels_true, labels_pred)
    Metric("ari", "Adjusted Rand", external.adjusted_rand_score, True, True, "O(n)", False,
           ("adjusted_rand", "adjusted_rand_score", "adjusted_rand_index")),
    Metric("ami", "Adjusted Mutual Info", external.adjusted_mutual_info_score, True, True,
           "O(n·k)", False, ("adjusted_mutual_info", "adjusted_mutual_info_score")),
    Metric("nmi", "Normalized Mutual Info", external.normalized_mutual_info_score, True, True,
           "O(n)", False, ("normalized_mutual_info", "normalized_mutual_info_score")),
    Metric("rand", "Rand Index", external.rand_score, True, True, "O(n)", False,
           ("rand_score", "rand_index", "ri")),
    Metric("mi", "Mutual Info", external.mutual_info_score, True, True, "O(n)", False,
           ("mutual_info", "mutual_info_score")),
    Metric("homogeneity", "Homogeneity", external.homogeneity_score, True, True, "O(n)", False,
           ("homogeneity_score",)),
    Metric("completeness", "Completeness", external.completeness_score, True, True, "O(n)", False,
           ("completeness_score",)),
    Metric("v_measure", "V-Measure", external.v_measure_score, True, True, "O(n)", False,
           ("v_measure_score",)),
    Metric("fowlkes_mallows", "Fowlkes-Mallows", external.fowlkes_mallows_score, True, True,
           "O(n)", False, ("fmi", "fowlkes_mallows_score", "fowlkes_mallows_index")),
    Metric("purity", "Purity", external.purity_score, True, True, "O(n)", False,
           ("purity_score",)),
    Metric("nca", "Normalized Clustering Accuracy", external.normalized_clustering_accuracy, True,
           True, "O(n)", False, ("normalized_clustering_accuracy",)),
)  # fmt: skip

_METRICS: dict[str, Metric] = {}
_LOOKUP: dict[str, str] = {}  # normalised name, alias or display name -> id


def _keys_of(metric: Metric) -> list[str]:
    return list(dict.fromkeys(_key(k) for k in (metric.name, metric.display_name, *metric.aliases)))


def _add(metric: Metric, *, overwrite: bool) -> None:
    keys = _keys_of(metric)
    taken = {k: _LOOKUP[k] for k in keys if k in _LOOKUP and _LOOKUP[k] != metric.name}
    if taken and not overwrite:
        raise ValueError(
            f"metric {metric.name!r}: the name(s) {sorted(taken)} already refer to "
            f"{sorted(set(taken.values()))}; pass overwrite=True or choose another name"
        )
    if metric.name in _METRICS and not overwrite:
        raise ValueError(
            f"a metric named {metric.name!r} is already registered; pass overwrite=True to "
            "replace it"
        )
    if metric.name in _METRICS:
        _remove(metric.name)
    for owner in set(taken.values()):
        _remove(owner)
    _METRICS[metric.name] = metric
    for k in keys:
        _LOOKUP[k] = metric.name


def _remove(name: str) -> None:
    del _METRICS[name]
    for k in [k for k, v in _LOOKUP.items() if v == name]:
        del _LOOKUP[k]


for _m in _BUILTIN:
    _add(_m, overwrite=False)


def _from_callable(function: Callable[..., float]) -> Metric:
    name = getattr(function, "__name__", type(function).__name__)
    return Metric(
        name=name,
        display_name=name.replace("_", " ").title(),
        function=function,
    )


def get_metric(metric: str | Metric | Callable[..., float]) -> Metric:
    """Look up a metric by id, alias or display name (case-insensitive), or wrap a callable.

    Parameters
    ----------
    metric : str, Metric or callable
        ``"silhouette"``, ``"Silhouette"``, ``"davies_bouldin"``, ``"DB"``, ``"Davies-Bouldin"``
        ... (see :func:`list_metrics`); a :class:`Metric` is returned as is; a plain callable is
        wrapped as an internal metric ``f(X, labels)`` with greater-is-better and cost "O(n²)"
        (register it with :func:`register_metric` to state other metadata).

    Returns
    -------
    Metric

    Raises
    ------
    ValueError
        For an unknown name, with the closest registered names as suggestions.
    TypeError
        For anything else.

    Examples
    --------
    >>> from clusterlab.metrics import get_metric
    >>> get_metric("Calinski-Harabasz").name
    'calinski_harabasz'
    >>> get_metric("ARI").needs_ground_truth
    True
    """
    if isinstance(metric, Metric):
        return metric
    if isinstance(metric, str):
        found = _LOOKUP.get(_key(metric))
        if found is not None:
            return _METRICS[found]
        close = difflib.get_close_matches(_key(metric), list(_LOOKUP), n=3, cutoff=0.6)
        hint = (
            f"; did you mean {' or '.join(repr(_LOOKUP[c]) for c in dict.fromkeys(close))}?"
            if close
            else ""
        )
        raise ValueError(
            f"metric must be a registered name (see clusterlab.metrics.list_metrics()); "
            f"got {metric!r}{hint}"
        )
    if callable(metric):
        return _from_callable(metric)
    raise TypeError(f"metric must be a str, a Metric or a callable; got {type(metric).__name__}")


def list_metrics() -> Any:
    """All registered metrics and their metadata, as a DataFrame indexed by id.

    Examples
    --------
    >>> from clusterlab.metrics import list_metrics
    >>> table = list_metrics()
    >>> bool(table.loc["davies_bouldin", "greater_is_better"])
    False
    """
    import pandas as pd

    rows = [
        {
            "name": m.name,
            "display_name": m.display_name,
            "greater_is_better": m.greater_is_better,
            "needs_ground_truth": m.needs_ground_truth,
            "needs_features": m.needs_features,
            "cost": m.cost,
            "supports_sample_size": m.supports_sample_size,
            "aliases": ", ".join(m.aliases),
        }
        for m in _METRICS.values()
    ]
    return pd.DataFrame(rows).set_index("name")


def register_metric(
    metric: str | Metric,
    function: Callable[..., float] | None = None,
    *,
    display_name: str | None = None,
    greater_is_better: bool = True,
    needs_ground_truth: bool = False,
    cost: str = "O(n²)",
    needs_features: bool | None = None,
    aliases: tuple[str, ...] = (),
    supports_sample_size: bool = False,
    overwrite: bool = False,
) -> Metric:
    """Add a user metric to the registry (what the workflow's ``add_metric`` calls).

    Parameters
    ----------
    metric : str or Metric
        The id of the new metric, or a complete :class:`Metric` (then give no other argument).
    function : callable
        ``f(X, labels)`` for an internal metric, ``f(labels_true, labels_pred)`` for an
        external one.
    display_name : str, optional
        Defaults to the id in title case.
    greater_is_better, needs_ground_truth, cost, aliases, supports_sample_size
        Metadata, see :class:`Metric`.
    needs_features : bool, optional
        Defaults to ``not needs_ground_truth``.
    overwrite : bool
        Replace a metric that already uses this id or one of these aliases.

    Returns
    -------
    Metric
        The registered record.

    Examples
    --------
    >>> from clusterlab.metrics import register_metric, unregister_metric, get_metric
    >>> m = register_metric("n_clusters", lambda X, labels: len(set(labels)), cost="O(n)")
    >>> get_metric("N Clusters")([[0], [1]], [0, 1])
    2
    >>> unregister_metric("n_clusters")
    """
    if isinstance(metric, Metric):
        if function is not None:
            raise ValueError("function must be None when metric is a Metric; got a function")
        record = metric
    elif isinstance(metric, str):
        if function is None:
            raise ValueError(f"function must be given to register the metric {metric!r}")
        record = Metric(
            name=metric,
            display_name=display_name or metric.replace("_", " ").title(),
            function=function,
            greater_is_better=bool(greater_is_better),
            needs_ground_truth=bool(needs_ground_truth),
            cost=cost,
            needs_features=(not needs_ground_truth) if needs_features is None else needs_features,
            aliases=tuple(aliases),
            supports_sample_size=bool(supports_sample_size),
        )
    else:
        raise TypeError(f"metric must be a str or a Metric; got {type(metric).__name__}")
    _add(record, overwrite=overwrite)
    return record


def unregister_metric(name: str) -> None:
    """Remove a metric (by id or alias) from the registry (the workflow's ``remove_metric``).

    Raises
    ------
    ValueError
        When no metric has that name.
    """
    _remove(get_metric(name).name if isinstance(name, str) else _name_of(name))


def _name_of(metric: Any) -> str:
    if isinstance(metric, Metric) and metric.name in _METRICS:
        return metric.name
    raise ValueError(f"name must be the id of a registered metric; got {metric!r}")
