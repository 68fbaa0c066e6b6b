"""``KMedoids.fit`` on a Dask collection: CLARA on parallel samples.

CLARA (Kaufman & Rousseeuw 1990, ch. 3) finds medoids on samples and keeps the medoids of
least loss on all the rows. On Dask the draws are independent, so they run at once: each
uniform sample (:func:`clusterlab.distributed.sample.sample_rows`, a few thousand rows) is
pulled to the client and fitted on a worker by the in-memory estimator (FasterPAM unless
``method`` names another optimiser), then one map-reduce pass computes every candidate's loss
on all the rows, block by block, summed in block order (deterministic). The in-memory CLARA
instead puts the best medoids so far into each next sample, which makes its draws sequential.

The estimator ends up with the attributes of an in-memory fit: ``medoid_indices_`` are
positions in the whole collection, ``inertia_`` the loss on all the rows, ``labels_`` a lazy
Dask array (or Series, for a Dask DataFrame).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from clusterlab.distributed._tasks import checked_weights, kernel_threads

__all__ = ["fit_kmedoids", "nearest_rows"]

_MiB = 2**20
#: The fitted state of KMedoids that does not end in "_" (prediction reads it).
_PRIVATE_STATE = ("_gower", "_float_type", "_medoid_rows", "_n_features_out")


def fit_kmedoids(estimator: Any, X: Any, sample_weight: Any = None, *, start: Any = None) -> Any:
    """Fit ``estimator`` (a :class:`~clusterlab.cluster.medoids.KMedoids`) on Dask data.

    Each of CLARA's 5 draws fits ``sample_size`` uniformly drawn rows (default
    ``min(2000 + 100 k, 8000)``) with ``method`` ('clara' runs FasterPAM on each), ``init``
    and ``max_iter`` on a worker, with ``n_jobs`` threads (default one); the medoids of least
    weighted loss on all rows win (ties: the earlier draw). A draw holds its sample's distance
    matrix, ``sample_size**2 * 8`` bytes, checked against the workers' memory first.

    ``start``, a fitted KMedoids with the same metric (the workflow passes the fit on its
    sample), seeds every draw: its optimiser starts from the draw's rows nearest to
    ``start``'s medoids (distinct rows, in medoid order) instead of ``init``, as the
    in-memory CLARA puts the best medoids so far into each sample.

    Raises
    ------
    TypeError
        For Gower's distance or a precomputed matrix (they need the whole table), and for an
        ``init`` of row indices (naming :func:`clusterlab.distributed.fit_sample`).
    MemoryError
        When a draw's distance matrix does not fit in a worker.

    Returns
    -------
    estimator
        Fitted; ``labels_`` is lazy.
    """
    from sklearn.base import clone

    from clusterlab.cluster.medoids import _CLARA_DRAWS, _clara_default_size, _seed_source
    from clusterlab.distributed._cluster import get_client, workers
    from clusterlab.distributed._data import with_row_lengths
    from clusterlab.distributed.prediction import predict
    from clusterlab.distributed.sample import sample_rows

    estimator._validate_params()
    _check_supported(estimator)
    client = get_client("KMedoids.fit")
    k = estimator.n_clusters
    size = int(estimator.sample_size or _clara_default_size(k))
    if size < k:
        raise ValueError(f"sample_size must be >= n_clusters={k}; got {size}")
    _check_memory(workers(client), size)
    next_seed = _seed_source(estimator.random_state)
    draw = clone(estimator).set_params(
        method="fasterpam" if estimator.method == "clara" else estimator.method
    )
    fits = []
    for _ in range(_CLARA_DRAWS):
        sample, weights, positions = sample_rows(
            X, size, sample_weight=sample_weight, random_state=next_seed()
        )
        seeded = draw if start is None else clone(draw).set_params(init=nearest_rows(start, sample))
        fit = client.submit(_fit_task, seeded, next_seed(), sample, weights, pure=False)
        fits.append((fit, positions))
        if len(positions) < size:  # the sample is every row: one draw gives the answer
            break
    candidates = client.gather([f for f, _ in fits])
    losses, lengths = _losses(client, X, sample_weight, candidates, estimator.n_jobs)
    best = int(np.argmin(losses))  # the first of equal losses
    model = candidates[best]
    _store(estimator, model, fits[best][1], float(losses[best]))
    estimator.labels_ = with_row_lengths(predict(model, X), lengths)
    return estimator


def nearest_rows(model: Any, rows: Any) -> np.ndarray:
    """Indices of distinct ``rows`` nearest to each of ``model``'s medoids, in medoid order
    (each medoid takes the nearest row no earlier medoid took; ties: the first row)."""
    D = np.asarray(model._distances(rows), dtype=np.float64)
    k = D.shape[1]
    if D.shape[0] < k:
        raise ValueError(f"{D.shape[0]} rows cannot seed {k} medoids")
    taken = np.zeros(D.shape[0], dtype=bool)
    chosen = np.empty(k, dtype=np.int64)
    for c in range(k):
        column = np.where(taken, np.inf, D[:, c])
        chosen[c] = int(np.argmin(column))
        taken[chosen[c]] = True
    return chosen


def _check_supported(estimator: Any) -> None:
    name = "Gower's distance" if estimator._is_gower() else None
    if estimator._is_precomputed():
        name = "metric='precomputed'"
    if not isinstance(estimator.init, str):
        name = "init as row indices"
    if name is not None:
        raise TypeError(
            f"KMedoids.fit on a Dask collection runs CLARA on uniform samples, which {name} "
            "cannot use; fit on a sample pulled to this process with "
            "clusterlab.distributed.fit_sample(KMedoids(...), X, n_samples=...) instead"
        )


def _check_memory(pool: Any, size: int) -> None:
    """A draw's ``size x size`` float64 matrix (and its sample) against one worker thread."""
    need = 1.5 * size * size * 8
    worst = min(b / t for b, t in zip(pool.budgets, pool.nthreads, strict=True))
    if need > worst:
        fit = int(np.sqrt(max(worst, 0) / 12))
        raise MemoryError(
            f"KMedoids.fit: a CLARA draw of sample_size={size:,} rows needs about "
            f"{need / _MiB:,.0f} MiB, but a worker thread can count on {max(worst, 0) / _MiB:,.0f}"
            f" MiB; pass sample_size={fit:,} or less, or use workers with more memory"
        )


def _fit_task(draw: Any, seed: int, sample: Any, weights: Any) -> Any:
    """Task: a copy of ``draw`` fitted on one sample (pure: ``draw`` is not modified)."""
    from sklearn.base import clone

    model = clone(draw).set_params(random_state=seed)
    with kernel_threads(model.n_jobs):
        return model.fit(sample, sample_weight=weights)


def _loss_task(part: Any, wpart: Any, candidates: list, n_threads: Any) -> np.ndarray:
    """Task: the weighted loss of every candidate's medoids on one block, and its rows."""
    losses = np.zeros(len(candidates))
    if len(part) == 0:
        return losses, 0
    w = checked_weights(wpart, len(part))
    with kernel_threads(n_threads):
        for i, model in enumerate(candidates):
            losses[i] = float(np.dot(w, np.min(model._distances(part), axis=1)))
    return losses, len(part)


def _losses(client: Any, X: Any, sample_weight: Any, candidates: list, n_threads: Any):
    """Every candidate's loss on all the rows (one pass, block sums added in block order) and
    the rows of each block."""
    from clusterlab.distributed._blocks import collect, per_block
    from clusterlab.distributed._data import DaskData, _weight_blocks
    from clusterlab.distributed.sample import _raw_blocks

    blocks, lengths = _raw_blocks(X)
    data = DaskData(blocks, None, np.dtype(np.float64), 0, None, lengths, X)
    weights = _weight_blocks(sample_weight, data) or [None] * data.n_blocks
    from dask import delayed

    shared = delayed(candidates, traverse=False)  # one key: the models travel once
    futures = per_block(client, _loss_task, [blocks, weights], shared, n_threads)
    total = np.zeros(len(candidates))
    rows = []
    for part, n in collect(client, futures):
        total += part
        rows.append(n)
    return total, rows


def _store(estimator: Any, model: Any, positions: np.ndarray, loss: float) -> None:
    """The winning draw's fitted state, with positions and loss of the whole collection."""
    fitted = {
        name: value
        for name, value in vars(model).items()
        if name.endswith("_") or name in _PRIVATE_STATE
    }
    for name, value in fitted.items():
        setattr(estimator, name, value)
    if "feature_names_in_" not in fitted and hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_
    estimator.medoid_indices_ = positions[model.medoid_indices_]
    estimator.inertia_ = loss
