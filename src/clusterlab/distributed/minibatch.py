"""``MiniBatchKMeans.fit`` / ``partial_fit`` on a Dask collection: the state visits the data.

Mini-batch k-means is sequential (each batch moves the centers the next one starts from), so
instead of moving data to the centers, the small model state (centers, per-center counts,
random generator, early-stopping statistics) moves from block to block: one task per block, on
the worker that holds it, runs the in-memory estimator's own mini-batch step
(``MiniBatchKMeans._step``) on batches drawn from that block, and hands the state to the next
block's task. Nothing but the state and a flag crosses the network.

``fit`` makes passes over the blocks in a random order (seeded by ``random_state``); a block
gets a share of each pass's ``n_samples / batch_size`` steps proportional to its weight, its
batches are drawn from its rows with probability proportional to their weights (as the
in-memory fit draws from all rows), and the in-memory early-stopping rule (smoothed batch
inertia, ``tol`` on the center shift) and ``max_iter`` apply unchanged. The initial centers
come from a uniform sample of ``init_size`` rows per initialisation pulled to the client.
``partial_fit`` streams the blocks in order, each one a ``partial_fit`` call (one mini-batch).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from clusterlab.distributed._blocks import collect, per_block
from clusterlab.distributed._tasks import as_block, as_weights, kernel_threads

__all__ = ["fit_minibatch", "partial_fit_minibatch"]

#: The estimator state a step changes; copied back from the last task to the user's estimator.
_CARRIED = (
    "cluster_centers_",
    "_counts",
    "_rng",
    "_rows_since_reassign",
    "_ewa_inertia",
    "_ewa_inertia_min",
    "_no_improvement",
)


def _steps_task(state, part, wpart, dtype, n_steps, n_samples, max_steps):  # noqa: PLR0917
    """Task: up to ``n_steps`` mini-batch steps on one block; returns the new state.

    ``state`` is ``(estimator, steps_done, stopped)``; the estimator is copied (pure task).
    """
    from clusterlab.cluster.minibatch import _BatchSampler

    est, done, stopped = state
    X = as_block(part, dtype)
    if stopped or n_steps == 0 or X.shape[0] == 0:
        return state
    est = copy.deepcopy(est)
    weights = None if wpart is None else as_weights(wpart, X.shape[0], dtype)
    sampler = _BatchSampler(X.shape[0], weights)
    unit = np.ones(est._batch_size, dtype=X.dtype)
    centers = est.cluster_centers_
    centers_new = np.empty_like(centers)
    with kernel_threads(est.n_jobs):
        for _ in range(n_steps):
            if done >= max_steps:
                break
            batch = X[sampler.draw(est._rng, est._batch_size)]
            batch_inertia = est._step(batch, unit, centers, centers_new)
            shift = float(np.sum((centers_new - centers) ** 2)) if est._tol > 0 else 0.0
            centers, centers_new = centers_new, centers
            stopped = est._converged(done, n_samples, shift, batch_inertia)
            done += 1
            if stopped:
                break
    est.cluster_centers_ = centers
    return est, done, stopped


def _partial_task(est, part, wpart, dtype):
    """Task: ``partial_fit`` on one block (skipped when empty); returns the new estimator."""
    X = part if hasattr(part, "iloc") else as_block(part, dtype)
    if X.shape[0] == 0:
        return est
    est = copy.deepcopy(est)
    weights = None if wpart is None else as_weights(wpart, X.shape[0], dtype)
    with kernel_threads(est.n_jobs):
        return est.partial_fit(X, sample_weight=weights)


def _inertia_task(part, wpart, dtype, centers, weighted):
    """Task: a block's weighted inertia under ``centers`` (the in-memory compute_labels sum)."""
    from clusterlab.cluster.minibatch import nearest_centers

    X = as_block(part, dtype)
    if X.shape[0] == 0:
        return 0.0
    weights = as_weights(wpart, X.shape[0], dtype) if weighted else None
    with kernel_threads(None):
        return nearest_centers(X, centers, weights)[1]


def _shares(weight_sums: np.ndarray, order: np.ndarray, steps: float) -> np.ndarray:
    """Steps per block for one pass, proportional to its weight, summing to ``round(steps)``."""
    cumulative = np.cumsum(weight_sums[order]) / weight_sums.sum() * steps
    edges = np.concatenate([[0], np.rint(cumulative)]).astype(np.int64)
    shares = np.zeros(weight_sums.size, dtype=np.int64)
    shares[order] = np.diff(edges)
    return shares


def _finish(est, client, data, stats, n_samples) -> None:
    """Labels (lazy) and the exact inertia (one pass), as the in-memory compute_labels does."""
    from clusterlab.distributed._data import lazy_rows
    from clusterlab.distributed.prediction import label_block

    est._n_features_out = est.n_clusters
    if not est.compute_labels:
        total = n_samples if data.weights is None else float(stats.weight_sums.sum())
        est.inertia_ = float(est._ewa_inertia or 0.0) * total
        return
    weights = data.weights or [None] * data.n_blocks
    futures = per_block(
        client,
        _inertia_task,
        [data.blocks, weights],
        data.dtype,
        est.cluster_centers_,
        data.weights is not None,
    )
    total = 0.0
    for value in collect(client, futures):
        total += value
    est.inertia_ = total
    est.labels_ = lazy_rows(data, label_block, est.cluster_centers_, dtype=np.int64)


def fit_minibatch(estimator: Any, X: Any, sample_weight: Any = None) -> Any:
    """Fit a :class:`~clusterlab.cluster.minibatch.MiniBatchKMeans` on Dask data (see module).

    Returns
    -------
    estimator
        Fitted; ``labels_`` (when ``compute_labels``) is a lazy Dask array.
    """
    from sklearn.base import clone

    from clusterlab._validation import check_n_clusters
    from clusterlab.cluster.minibatch import as_generator, resolve_n_init
    from clusterlab.distributed._cluster import get_client, plan_memory, workers
    from clusterlab.distributed._data import dask_data, data_stats
    from clusterlab.distributed.kmeans import _persisted, _set_features
    from clusterlab.distributed.sample import uniform_sample

    estimator._validate_params()
    client = get_client("MiniBatchKMeans.fit")
    data = dask_data(X, sample_weight)
    stats = data_stats(client, data)
    n = stats.n_samples
    check_n_clusters(estimator.n_clusters, n)
    work = clone(estimator)
    work._batch_size = min(estimator.batch_size, n)
    init_size = estimator.init_size if estimator.init_size is not None else 3 * work._batch_size
    if init_size < estimator.n_clusters:
        init_size = 3 * estimator.n_clusters
    work._init_size = min(init_size, n)
    work._n_init = resolve_n_init(
        estimator.n_init, estimator.init, default=3, name="MiniBatchKMeans"
    )
    work._tol = stats.mean_variance * estimator.tol if estimator.tol > 0 else 0.0
    rng = as_generator(estimator.random_state)
    sample, sample_w = uniform_sample(
        X,
        min(n, work._init_size * (work._n_init + 1)),
        sample_weight=sample_weight,
        random_state=np.random.default_rng(rng.integers(2**63)),
    )
    sample = np.ascontiguousarray(
        sample.to_numpy(data.dtype) if hasattr(sample, "to_numpy") else sample, dtype=data.dtype
    )
    sample_w = None if sample_w is None else sample_w.astype(data.dtype)
    with kernel_threads(estimator.n_jobs):
        centers = work._best_init(sample, sample_w, rng)
    work._start(centers, rng)
    itemsize = data.dtype.itemsize
    plan = plan_memory(
        workers(client),
        lengths=data.lengths,
        row_bytes=data.n_features * itemsize + (itemsize if data.weights is not None else 0),
        state_row_bytes=0,
        what="MiniBatchKMeans.fit",
        alternative="use smaller blocks",
    )
    run_data = _persisted(client, data) if plan.persist else data
    state = _descend(client, run_data, stats, work, n)
    work = state[0]
    for name in _CARRIED:
        setattr(estimator, name, getattr(work, name))
    for name in ("_batch_size", "_init_size", "_n_init", "_tol"):
        setattr(estimator, name, getattr(work, name))
    estimator.n_steps_ = int(state[1])
    estimator.n_iter_ = int(np.ceil(estimator.n_steps_ * work._batch_size / n))
    _set_features(estimator, data)
    _finish(estimator, client, run_data, stats, n)
    return estimator


def _descend(client, data, stats, work, n_samples):
    """Passes over the blocks until early stopping or ``max_iter`` passes; the final state."""
    max_steps = (work.max_iter * n_samples) // work._batch_size
    order_rng = np.random.default_rng(work._rng.integers(2**63))
    weights = data.weights or [None] * data.n_blocks
    state: Any = (work, 0, False)
    for _ in range(work.max_iter):
        order = order_rng.permutation(data.n_blocks)
        shares = _shares(stats.weight_sums, order, n_samples / work._batch_size)
        for i in order:
            state = per_block(
                client,
                _steps_task,
                [[state], [data.blocks[i]], [weights[i]]],
                data.dtype,
                int(shares[i]),
                n_samples,
                max_steps,
            )[0]
        state = collect(client, [state])[0]  # small: the model, a count and a flag
        if state[2] or state[1] >= max_steps:
            break
    return state


def partial_fit_minibatch(estimator: Any, X: Any, sample_weight: Any = None) -> Any:
    """``partial_fit`` on a Dask collection: each non-empty block in order is one mini-batch.

    The first block initialises the centers when the estimator has none. Returns the estimator
    with the state of the last call; ``labels_`` (when ``compute_labels``) is a lazy Dask array
    of all the rows and ``inertia_`` their exact inertia (one more pass).
    """
    from clusterlab.distributed._cluster import get_client
    from clusterlab.distributed._data import dask_data, data_stats

    estimator._validate_params()
    client = get_client("MiniBatchKMeans.partial_fit")
    data = dask_data(X, sample_weight)
    stats = data_stats(client, data)
    raw = list(X.to_delayed()) if data.is_frame else data.blocks
    weights = data.weights or [None] * data.n_blocks
    work = copy.copy(estimator)
    for name in ("labels_", "inertia_"):
        work.__dict__.pop(name, None)
    state: Any = work
    for i in range(data.n_blocks):
        state = per_block(client, _partial_task, [[state], [raw[i]], [weights[i]]], data.dtype)[0]
    work = collect(client, [state])[0]
    if not hasattr(work, "cluster_centers_"):
        raise ValueError("MiniBatchKMeans.partial_fit got a Dask collection without any rows")
    for name, value in vars(work).items():
        if name not in ("labels_", "inertia_"):
            setattr(estimator, name, value)
    _finish(estimator, client, data, stats, stats.n_samples)
    return estimator
