"""Clustering estimators with the scikit-learn contract."""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module that defines it, imported on first use (no numba at import)
_LAZY: dict[str, str] = {
    "GaussianMixture": "clusterlab.cluster.mixture",
    "KMedoids": "clusterlab.cluster.medoids",
    "KModes": "clusterlab.cluster.categorical",
    "KPrototypes": "clusterlab.cluster.categorical",
    "MixturePath": "clusterlab.cluster.mixture_path",
    "SpectralClustering": "clusterlab.cluster.spectral",
    "gaussian_mixture_path": "clusterlab.cluster.mixture_path",
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
