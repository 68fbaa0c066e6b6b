"""Recognising Dask input without importing Dask, and the errors for estimators without a
distributed fit.

Estimators call :func:`is_dask_collection` at the top of ``fit`` / ``predict``; only when it is
true do they import the rest of :mod:`clusterlab.distributed` (and with it Dask). ``import
clusterlab`` and every estimator module therefore stay free of Dask.
"""

from __future__ import annotations

from typing import Any

__all__ = ["dask_input_error", "is_dask_collection"]


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
            f"{name}.fit got a Dask collection, and {name} has no distributed fit (KMeans and "
            "MiniBatchKMeans have one); fit it on a uniform sample pulled to this process with "
            f"clusterlab.distributed.fit_sample({name}(...), X, n_samples=100_000), then label "
            "every row lazily with clusterlab.distributed.predict(model, X)"
        )
    return TypeError(
        f"{name} got a Dask collection to label; label it lazily, partition by partition, with "
        "clusterlab.distributed.predict(model, X) (or transform / anomaly_scores there), which "
        "returns a Dask collection"
    )
