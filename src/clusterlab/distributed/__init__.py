"""Scale-out on Dask: the same estimators, predictions and metrics on Dask collections.

``KMeans``, ``MiniBatchKMeans``, ``KMedoids`` (CLARA on parallel samples), ``KModes`` and
``KPrototypes`` (batch passes from a sample fit), ``GaussianMixture`` (EM as a map-reduce of
sufficient statistics) and ``Birch`` (per-partition trees merged on the client) fit Dask arrays
and DataFrames directly (their ``fit`` dispatches here); every other estimator fits on a
uniform sample with :func:`fit_sample`.
Every fitted model labels, transforms and scores Dask data lazily with :func:`predict`,
:func:`transform`, :func:`predict_proba` and :func:`anomaly_scores`; :func:`cluster_scores`
computes the internal indices by map-reduce. Work runs on the ambient ``distributed.Client``.

Importing this package imports no Dask: its names load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    "anomaly_scores": "clusterlab.distributed.prediction",
    "calinski_harabasz_score": "clusterlab.distributed.metrics",
    "cluster_scores": "clusterlab.distributed.metrics",
    "davies_bouldin_score": "clusterlab.distributed.metrics",
    "fit_sample": "clusterlab.distributed.sample",
    "inertia": "clusterlab.distributed.metrics",
    "predict": "clusterlab.distributed.prediction",
    "predict_proba": "clusterlab.distributed.prediction",
    "silhouette_score": "clusterlab.distributed.metrics",
    "simplified_silhouette_score": "clusterlab.distributed.metrics",
    "transform": "clusterlab.distributed.prediction",
    "uniform_sample": "clusterlab.distributed.sample",
}

__all__ = sorted(_LAZY)  # noqa: PLE0605


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'clusterlab.distributed' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
