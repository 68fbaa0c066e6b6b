"""clusterlab: fast clustering and segmentation with a low-code workflow.

Public names are imported lazily, on first use, so that ``import clusterlab`` is cheap: it imports
no numba, matplotlib or Dask and compiles nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0.dev0"

# public name -> module that defines it (add a line when a module gains a public name)
_LAZY: dict[str, str] = {
    "AgglomerativeClustering": "clusterlab.cluster.hierarchy",
    "AffinityPropagation": "clusterlab.cluster.affinity",
    "AffinityPropagationWarning": "clusterlab.cluster.affinity",
    "anomaly_scores": "clusterlab.insight",
    "Birch": "clusterlab.cluster.birch",
    "BisectingKMeans": "clusterlab.cluster.bisecting",
    "choose_k": "clusterlab.selection",
    "ClusteringExperiment": "clusterlab.workflow",
    "config_context": "clusterlab._config",
    "DBSCAN": "clusterlab.cluster.dbscan",
    "describe_segments": "clusterlab.insight",
    "Experiment": "clusterlab.workflow",
    "Genie": "clusterlab.cluster.hierarchy",
    "GaussianMixture": "clusterlab.cluster.mixture",
    "gaussian_mixture_path": "clusterlab.cluster.mixture_path",
    "get_config": "clusterlab._config",
    "HDBSCAN": "clusterlab.cluster.hdbscan",
    "GowerDistance": "clusterlab.metrics.gower",
    "kmeans": "clusterlab.cluster.kmeans",
    "KMeans": "clusterlab.cluster.kmeans",
    "kmeans_plusplus": "clusterlab.cluster.kmeans",
    "KMedoids": "clusterlab.cluster.medoids",
    "KModes": "clusterlab.cluster.categorical",
    "KPrototypes": "clusterlab.cluster.categorical",
    "linkage": "clusterlab.cluster.hierarchy",
    "list_datasets": "clusterlab.datasets",
    "load_benchmark": "clusterlab.datasets",
    "load_online_retail": "clusterlab.datasets",
    "load_wholesale_customers": "clusterlab.datasets",
    "estimate_bandwidth": "clusterlab.cluster.meanshift",
    "MeanShift": "clusterlab.cluster.meanshift",
    "MiniBatchKMeans": "clusterlab.cluster.minibatch",
    "NOISE": "clusterlab._base",
    "OPTICS": "clusterlab.cluster.optics",
    "profile_segments": "clusterlab.insight",
    "read_table": "clusterlab.io",
    "rfm": "clusterlab.datasets",
    "set_config": "clusterlab._config",
    "SpectralClustering": "clusterlab.cluster.spectral",
    "stability": "clusterlab.selection",
    "uncached_kernels": "clusterlab._config",
    "watch_compilation": "clusterlab._config",
    "write_table": "clusterlab.io",
}

__all__ = ["__version__", *sorted(_LAZY)]  # noqa: PLE0604


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'clusterlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
