"""The model registry: each model id, its estimator classes and everything model-specific.

- :mod:`~clusterlab.models.entry`: :class:`ModelEntry` (engines named by :func:`lazy_class`,
  and the behaviour of the id: defaults for the data, key-parameter search, tuning space,
  out-of-sample rule, what a model file may hold);
- :mod:`~clusterlab.models.registry`: the entries (:data:`REGISTRY`) and the lookups
  (:func:`get_entry` by id, :func:`entry_for` by estimator class);
- :mod:`~clusterlab.models.out_of_sample`: how a fitted model labels new points;
- :mod:`~clusterlab.models.estimates`: parameters estimated from the data (eps, bandwidth).
"""

from __future__ import annotations

from clusterlab.models.entry import (
    ENGINES,
    ChooseK,
    ClassRef,
    DataContext,
    ModelEntry,
    Scaled,
    SizeSearch,
    lazy_class,
)
from clusterlab.models.out_of_sample import KNNVote, NativePredict, NearestCentre, NearestCore
from clusterlab.models.registry import (
    REGISTRY,
    entry_for,
    get_entry,
    k_param_of,
    lookup,
    out_of_sample_rule,
    registry_frame,
    trusted_types,
)

__all__ = [
    "ENGINES",
    "REGISTRY",
    "ChooseK",
    "ClassRef",
    "DataContext",
    "KNNVote",
    "ModelEntry",
    "NativePredict",
    "NearestCentre",
    "NearestCore",
    "Scaled",
    "SizeSearch",
    "entry_for",
    "get_entry",
    "k_param_of",
    "lazy_class",
    "lookup",
    "out_of_sample_rule",
    "registry_frame",
    "trusted_types",
]
