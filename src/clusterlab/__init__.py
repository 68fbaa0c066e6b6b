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
    "DBSCAN": "clusterlab.cluster.dbscan",
    "NOISE": "clusterlab._base",
    "HDBSCAN": "clusterlab.cluster.hdbscan",
    "config_context": "clusterlab._config",
    "get_config": "clusterlab._config",
    "set_config": "clusterlab._config",
    "load_wholesale_customers": "clusterlab.datasets",
    "Experiment": "clusterlab.experiment",
    "anomaly_scores": "clusterlab.insight",
    "describe_segments": "clusterlab.insight",
    "profile_segments": "clusterlab.insight",
    "choose_k": "clusterlab.selection",
    "stability": "clusterlab.selection",
    "KMeans": "clusterlab.cluster.kmeans",
    "kmeans": "clusterlab.cluster.kmeans",
    "kmeans_plusplus": "clusterlab.cluster.kmeans",
    "MiniBatchKMeans": "clusterlab.cluster.minibatch",
    "BisectingKMeans": "clusterlab.cluster.bisecting",
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
