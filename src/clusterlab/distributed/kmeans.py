"""``KMeans.fit`` on a Dask collection: k-means|| initialisation, then map-reduce Lloyd.

Called by :meth:`clusterlab.cluster.kmeans.KMeans.fit` when it gets a Dask array or DataFrame;
the estimator ends up with the attributes of an in-memory fit, except ``labels_``, a lazy Dask
array (the data is never pulled into the client's memory).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

__all__ = ["fit_kmeans"]


def fit_kmeans(estimator: Any, X: Any, sample_weight: Any = None) -> Any:
    """Fit ``estimator`` (a :class:`~clusterlab.cluster.kmeans.KMeans`) on Dask data.

    ``init='k-means++'`` runs k-means|| (:func:`clusterlab.distributed._init.kmeans_parallel`),
    ``'random'`` draws rows by weight, an array is used as given; a callable is refused (it
    would need the data in memory). Each of the ``n_init`` runs iterates by map-reduce with the
    in-memory fit's kernels and stopping rule (:func:`clusterlab.distributed._lloyd.run_lloyd`);
    the run with the lowest inertia wins. The numba kernels of a task use ``n_jobs`` threads
    (default one: Dask already runs one task per worker thread).

    Returns
    -------
    estimator
        Fitted; ``labels_`` is a Dask array computed from ``X`` when asked for.
    """
    from sklearn.exceptions import ConvergenceWarning

    from clusterlab._validation import check_n_clusters
    from clusterlab.cluster.kmeans import _check_centers, _is_array, _seed_source
    from clusterlab.distributed._cluster import get_client, workers
    from clusterlab.distributed._data import dask_data, data_stats, lazy_rows
    from clusterlab.distributed._lloyd import run_lloyd
    from clusterlab.distributed.prediction import label_block

    estimator._validate_params()
    if callable(estimator.init):
        raise TypeError(
            "KMeans: init as a callable needs the data in memory, which a Dask fit never "
            "pulls; pass 'k-means++' (k-means|| on Dask), 'random' or the initial centers"
        )
    client = get_client("KMeans.fit")
    data = dask_data(X, sample_weight)
    init_array = None
    if _is_array(estimator.init):
        init_array = _check_centers(
            estimator.init,
            estimator.n_clusters,
            data.n_features,
            data.dtype,
            "init (the initial centers)",
        )
    pool = workers(client)
    if data.lengths is not None:  # refuse oversized blocks before reading any
        _plan(estimator, data, pool, sum(data.lengths))
    stats = data_stats(client, data)
    n_samples = stats.n_samples
    check_n_clusters(estimator.n_clusters, n_samples)
    algorithm, n_groups, plan = _plan(estimator, data, pool, n_samples)
    estimator._algorithm = (algorithm, n_groups)
    run_data = _persisted(client, data) if plan.persist else data
    tol = stats.mean_variance * estimator.tol if estimator.tol > 0 else 0.0
    next_seed = _seed_source(estimator.random_state)
    n_threads = estimator.n_jobs
    best = None
    for _ in range(estimator._resolved_n_init()):
        seed = next_seed()
        centers = _initial_centers(estimator, client, run_data, stats, seed, init_array)
        result = run_lloyd(
            client,
            run_data,
            stats,
            centers,
            algorithm,
            n_groups,
            estimator.max_iter,
            tol,
            n_threads,
            resident=plan.persist,
        )
        if best is None or result.inertia < best.inertia:
            best = result
    del run_data  # releases the blocks kept on the workers
    n_distinct = int(np.count_nonzero(best.counts))
    if n_distinct < estimator.n_clusters:
        warnings.warn(
            f"Number of distinct clusters ({n_distinct}) found smaller than "
            f"n_clusters ({estimator.n_clusters}). Possibly due to duplicate points in X.",
            ConvergenceWarning,
            stacklevel=3,
        )
    _set_features(estimator, data)
    estimator.cluster_centers_ = best.centers
    estimator.labels_ = lazy_rows(data, label_block, best.centers, dtype=np.int64)
    estimator.inertia_ = float(best.inertia)
    estimator.n_iter_ = int(best.n_iter)
    estimator._n_features_out = estimator.n_clusters
    return estimator


def _initial_centers(estimator, client, data, stats, seed, init_array):  # noqa: PLR0917
    from clusterlab.distributed._init import kmeans_parallel, random_rows

    if init_array is not None:
        return init_array
    if estimator.init == "random":
        return random_rows(client, data, estimator.n_clusters, seed)
    return kmeans_parallel(client, data, stats, estimator.n_clusters, seed, estimator.n_jobs)


def _plan(estimator, data, pool, n_samples):
    """The algorithm to run and the memory plan: 'auto' steps down to bounds that fit.

    All three algorithms give the same result, so when the bounds of the measured choice do
    not fit in the workers' memory, 'auto' takes Hamerly's single bound, then Lloyd's labels.
    """
    from clusterlab.cluster.kmeans import _auto_algorithm, _n_groups
    from clusterlab.distributed._cluster import plan_memory
    from clusterlab.distributed._lloyd import state_row_bytes

    k = estimator.n_clusters
    d = data.n_features
    if estimator.algorithm == "auto":
        first = _auto_algorithm(n_samples, d, k)
        choices = {"yinyang": ["yinyang", "hamerly", "lloyd"], "hamerly": ["hamerly", "lloyd"]}
        candidates = choices.get(first, ["lloyd"])
    else:
        candidates = [estimator.algorithm]
    itemsize = data.dtype.itemsize
    row_bytes = d * itemsize + (itemsize if data.weights is not None else 0)
    # k-means|| keeps a float64 distance and an int64 index per row between its rounds.
    init_bytes = 16 if isinstance(estimator.init, str) and estimator.init == "k-means++" else 0
    error = None
    for algorithm in candidates:
        n_groups = {"yinyang": _n_groups(k), "hamerly": 1}.get(algorithm, 0)
        alternative = (
            "algorithm='lloyd' keeps 8 bytes a row"
            if algorithm != "lloyd"
            else "KMeans keeps at least each row's label (8 bytes)"
        )
        try:
            plan = plan_memory(
                pool,
                lengths=data.lengths or (),
                row_bytes=row_bytes,
                state_row_bytes=max(state_row_bytes(algorithm, n_groups), init_bytes),
                what="KMeans.fit",
                alternative=alternative,
            )
        except MemoryError as exc:
            error = exc
            continue
        return algorithm, n_groups, plan
    raise error


def _persisted(client, data):
    """The blocks (and weights) converted once and kept in the workers' memory."""
    from dataclasses import replace

    from dask import delayed

    from clusterlab.distributed._tasks import as_block, as_weights

    blocks = client.compute([delayed(as_block, pure=False)(b, data.dtype) for b in data.blocks])
    weights = None
    if data.weights is not None:
        weights = client.compute(
            [
                delayed(as_weights, pure=False)(w, n, data.dtype)
                for w, n in zip(data.weights, data.lengths, strict=True)
            ]
        )
    return replace(data, blocks=blocks, weights=weights)


def _set_features(estimator, data) -> None:
    """``n_features_in_`` and ``feature_names_in_``, as scikit-learn's ``validate_data``."""
    estimator.n_features_in_ = data.n_features
    if data.feature_names is not None:
        estimator.feature_names_in_ = data.feature_names
    elif hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_
