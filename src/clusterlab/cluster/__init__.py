"""Clustering estimators with the scikit-learn contract."""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module that defines it, imported on first use (as in ``clusterlab``)
_LAZY: dict[str, str] = {
    "AgglomerativeClustering": "clusterlab.cluster.hierarchy",
    "Genie": "clusterlab.cluster.hierarchy",
    "KMedoids": "clusterlab.cluster.medoids",
    "KModes": "clusterlab.cluster.categorical",
    "KPrototypes": "clusterlab.cluster.categorical",
    "linkage": "clusterlab.cluster.hierarchy",
}

__all__ = sorted(_LAZY)  # noqa: PLE0605


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'clusterlab.cluster' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
