"""``Birch.fit`` on a Dask collection: a CF tree per partition, merged in the client's tree.

Each task builds the in-memory estimator's tree on its block (same threshold, branching factor
and ``memory_limit``) and returns the leaf entries as clustering features ``(n, mean, SSD)``.
The client inserts those features, block by block in order, into one tree with the same
insertion rule BIRCH's rebuild uses (an entry joins the closest leaf entry when the merged
radius stays within the threshold, else it is a new entry), then runs the estimator's global
step on the weighted subcluster centres. One pass over the data.

What differs from an in-memory fit on the same rows: the rows are summarised per partition
first, and a partition's subcluster enters the client's tree whole (it cannot be split by the
rows of other partitions, and rows in different partitions meet only as subclusters), so the
subclusters differ somewhat from those of one pass over all the rows; every one still has a
radius within the threshold. When a partition's tree was rebuilt under ``memory_limit``, the
client's tree takes the largest threshold any partition reached (``threshold_``), and
``n_rebuilds_`` counts the rebuilds of the partitions and of the client's tree.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from clusterlab.distributed._blocks import collect, per_block
from clusterlab.distributed._tasks import as_block, kernel_threads

__all__ = ["fit_birch", "partial_fit_birch"]


def fit_birch(estimator: Any, X: Any, sample_weight: Any = None) -> Any:
    """Fit ``estimator`` (a :class:`~clusterlab.cluster.birch.Birch`) on Dask data.

    ``sample_weight`` is not a Birch parameter (accepted as None for the dispatch).

    Returns
    -------
    estimator
        Fitted, with the attributes of an in-memory fit; ``labels_`` (when
        ``compute_labels``) is lazy: a Dask array, or a Dask Series with the partitions'
        index for a Dask DataFrame.
    """
    return _fit(estimator, X, partial=False)


def partial_fit_birch(estimator: Any, X: Any, sample_weight: Any = None) -> Any:
    """Add the rows of a Dask collection to a (possibly fitted) Birch's tree, then rerun the
    global step (as ``partial_fit`` does in memory)."""
    return _fit(estimator, X, partial=True)


def _leaf_features_task(part, dtype, threshold, branching, memory_limit):
    """Task: the leaf features of the in-memory tree of one block.

    Returns ``(cf_n, cf_mean, cf_ssd, threshold_, n_rebuilds_, n_rows)`` (float64 features; a
    block without rows gives none).
    """
    from clusterlab.cluster.birch import Birch
    from clusterlab.kernels.birch import leaf_entries

    X = as_block(part, dtype)
    d = X.shape[1]
    if X.shape[0] == 0:
        return np.zeros(0), np.zeros((0, d)), np.zeros(0), threshold, 0, 0
    if not np.isfinite(X).all():
        raise ValueError("X must be finite; a block holds NaN or inf")
    model = Birch(
        threshold=threshold,
        branching_factor=branching,
        n_clusters=None,
        compute_labels=False,
        memory_limit=memory_limit,
    )
    with kernel_threads(None):
        model.fit(X)
    tree = model._tree
    entries = leaf_entries(tree)
    return (
        tree[0][entries].copy(),
        tree[1][entries].copy(),
        tree[2][entries].copy(),
        model.threshold_,
        model.n_rebuilds_,
        X.shape[0],
    )


def _fit(estimator: Any, X: Any, partial: bool) -> Any:
    from clusterlab._config import threads
    from clusterlab.cluster.birch import _INITIAL_CAPACITY, _trimmed
    from clusterlab.distributed._cluster import get_client
    from clusterlab.distributed._data import dask_data, with_row_lengths
    from clusterlab.distributed.kmeans import _set_features
    from clusterlab.distributed.prediction import _check_features, predict
    from clusterlab.kernels.birch import empty_tree, insert_features

    estimator._validate_params()
    client = get_client("Birch.partial_fit" if partial else "Birch.fit")
    data = dask_data(X)
    first = not (partial and hasattr(estimator, "_tree"))
    if not first:
        _check_features(estimator, X)
    branching = int(estimator.branching_factor)
    threshold = float(estimator.threshold) if first else estimator.threshold_
    futures = per_block(
        client, _leaf_features_task, [data.blocks], data.dtype, threshold, branching,
        estimator.memory_limit,
    )  # fmt: skip
    parts = collect(client, futures)
    n_entries = sum(p[0].shape[0] for p in parts)
    if first and n_entries == 0:
        raise ValueError("X must have at least one row; got 0 rows")
    if first:
        tree = empty_tree(data.n_features, branching, max(n_entries, _INITIAL_CAPACITY))
        estimator.threshold_ = threshold
        estimator.n_rebuilds_ = 0
    else:
        tree = estimator._tree
    estimator.threshold_ = max([estimator.threshold_] + [p[3] for p in parts])
    estimator.n_rebuilds_ += sum(p[4] for p in parts)
    limit = estimator._max_entries(data.n_features)
    for cf_n, cf_mean, cf_ssd, *_ in parts:
        tree = insert_features(tree, cf_n, cf_mean, cf_ssd, estimator.threshold_, branching)
        if tree[8][0] > limit:
            tree = estimator._rebuild(tree, limit)
    estimator._tree = _trimmed(tree)
    if first:
        _set_features(estimator, data)
    if hasattr(estimator, "labels_"):
        del estimator.labels_  # a previous fit's labels never travel with the model
    with threads(None):
        estimator._read_leaves(data.dtype)
        estimator._global_step()
    if estimator.compute_labels:
        labels = predict(copy.copy(estimator), X)
        estimator.labels_ = with_row_lengths(labels, [p[5] for p in parts])
    return estimator
