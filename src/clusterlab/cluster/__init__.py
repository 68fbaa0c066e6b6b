"""Clustering estimators with the scikit-learn contract.

Names are imported lazily (``from clusterlab.cluster import Birch`` imports only
``clusterlab.cluster.birch``), so importing the package compiles nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module that defines it, imported on first use (no numba at import)
_LAZY: dict[str, str] = {
    "AffinityPropagation": "clusterlab.cluster.affinity",
    "AffinityPropagationWarning": "clusterlab.cluster.affinity",
    "AgglomerativeClustering": "clusterlab.cluster.hierarchy",
    "Birch": "clusterlab.cluster.birch",
    "BisectingKMeans": "clusterlab.cluster.bisecting",
    "DBSCAN": "clusterlab.cluster.dbscan",
    "estimate_bandwidth": "clusterlab.cluster.meanshift",
    "gaussian_mixture_path": "clusterlab.cluster.mixture_path",
    "GaussianMixture": "clusterlab.cluster.mixture",
    "Genie": "clusterlab.cluster.hierarchy",
    "HDBSCAN": "clusterlab.cluster.hdbscan",
    "KMeans": "clusterlab.cluster.kmeans",
    "KMedoids": "clusterlab.cluster.medoids",
    "KModes": "clusterlab.cluster.categorical",
    "KPrototypes": "clusterlab.cluster.categorical",
    "linkage": "clusterlab.cluster.hierarchy",
    "MeanShift": "clusterlab.cluster.meanshift",
    "MiniBatchKMeans": "clusterlab.cluster.minibatch",
    "MixturePath": "clusterlab.cluster.mixture_path",
    "OPTICS": "clusterlab.cluster.optics",
    "SpectralClustering": "clusterlab.cluster.spectral",
}

__all__ = sorted(_LAZY)  # noqa: PLE0605


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'clusterlab.cluster' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
