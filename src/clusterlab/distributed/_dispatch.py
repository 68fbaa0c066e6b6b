"""Recognising Dask input without importing Dask, the distributed fits by estimator, and the
errors for estimators without one.

Estimators call :func:`is_dask_collection` at the top of ``fit`` / ``predict``; only when it is
true do they reach the rest of :mod:`clusterlab.distributed` (and with it Dask), through
:func:`dask_fit` or the package's lazy names. ``import clusterlab`` and every estimator module
therefore stay free of Dask, and the estimators import nothing of the distributed code, which
builds on them: :data:`DISTRIBUTED_FITS` names each distributed fit as ``"module:function"``,
imported on first use (as the model registry names its estimator classes).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "DISTRIBUTED_FITS",
    "dask_fit",
    "dask_input_error",
    "is_dask_collection",
    "without_lazy_results",
]

#: (estimator class, method) -> the function doing it on Dask collections, as "module:function".
DISTRIBUTED_FITS: dict[tuple[str, str], str] = {
    ("clusterlab.cluster.kmeans.KMeans", "fit"): "clusterlab.distributed.kmeans:fit_kmeans",
    ("clusterlab.cluster.minibatch.MiniBatchKMeans", "fit"): (
        "clusterlab.distributed.minibatch:fit_minibatch"
    ),
    ("clusterlab.cluster.minibatch.MiniBatchKMeans", "partial_fit"): (
        "clusterlab.distributed.minibatch:partial_fit_minibatch"
    ),
    ("clusterlab.cluster.medoids.KMedoids", "fit"): "clusterlab.distributed.medoids:fit_kmedoids",
    ("clusterlab.cluster.categorical.KModes", "fit"): (
        "clusterlab.distributed.categorical:fit_huang"
    ),
    ("clusterlab.cluster.categorical.KPrototypes", "fit"): (
        "clusterlab.distributed.categorical:fit_huang"
    ),
    ("clusterlab.cluster.mixture.GaussianMixture", "fit"): (
        "clusterlab.distributed.mixture:fit_gaussian_mixture"
    ),
    ("clusterlab.cluster.birch.Birch", "fit"): "clusterlab.distributed.birch:fit_birch",
    ("clusterlab.cluster.birch.Birch", "partial_fit"): (
        "clusterlab.distributed.birch:partial_fit_birch"
    ),
}


def dask_fit(estimator: Any, X: Any, sample_weight: Any = None, *, method: str = "fit") -> Any:
    """Run ``estimator``'s distributed ``method`` (see :data:`DISTRIBUTED_FITS`) on ``X``.

    Raises
    ------
    TypeError
        When the estimator's class has none (naming :func:`clusterlab.distributed.fit_sample`).
    """
    cls = type(estimator)
    target = DISTRIBUTED_FITS.get((f"{cls.__module__}.{cls.__qualname__}", method))
    if target is None:
        raise dask_input_error(estimator, fitting=True)
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)(estimator, X, sample_weight)


def is_dask_collection(X: Any) -> bool:
    """Whether ``X`` is a Dask collection (array, DataFrame, Series, bag, delayed).

    Looks for the Dask collection protocol on the type, so nothing is imported and pandas'
    attribute lookup on column names is never triggered.
    """
    return callable(getattr(type(X), "__dask_graph__", None))


def dask_input_error(estimator: Any, *, fitting: bool) -> TypeError:
    """The error for a Dask collection given to an estimator that cannot take one.

    Fitting names :func:`clusterlab.distributed.fit_sample`; labelling names
    :func:`clusterlab.distributed.predict`. Nothing is computed: the data stays where it is.
    """
    name = type(estimator).__name__
    if fitting:
        return TypeError(
            f"{name}.fit got a Dask collection, and {name} has no distributed fit (KMeans, "
            "MiniBatchKMeans, KMedoids, KModes, KPrototypes, GaussianMixture and Birch have "
            "one); fit it on a uniform "
            "sample pulled to this process with clusterlab.distributed.fit_sample("
            f"{name}(...), X, n_samples=100_000), then label every row lazily with "
            "clusterlab.distributed.predict(model, X)"
        )
    return TypeError(
        f"{name} got a Dask collection to label; label it lazily, partition by partition, with "
        "clusterlab.distributed.predict(model, X) (or transform / anomaly_scores there), which "
        "returns a Dask collection"
    )


def without_lazy_results(estimator: Any) -> Any:
    """The estimator, or a shallow copy without the fitted attributes that are Dask collections
    (a distributed fit's lazy ``labels_``), for a model file: prediction never needs them."""
    lazy = [k for k, v in vars(estimator).items() if is_dask_collection(v)] if estimator else []
    if not lazy:
        return estimator
    import copy

    stored = copy.copy(estimator)
    for name in lazy:
        delattr(stored, name)
    return stored
