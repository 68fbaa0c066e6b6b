"""``KModes.fit`` and ``KPrototypes.fit`` on a Dask collection: batch Huang iterations by
map-reduce, started from an in-memory fit on a uniform sample.

The in-memory estimators run Huang's online passes (a row moves, and its two prototypes are
updated, before the next row is looked at), which is sequential. On Dask every pass is one
map-reduce instead: each block task encodes its rows with the sample fit's category codes,
assigns them to the nearest prototype (the in-memory kernel) and returns per-cluster weights,
numeric sums and level frequencies; the client adds them in block order (deterministic) and
moves every prototype to its cluster's mean and mode (ties: the lowest code). Passes stop
when the prototypes stop changing, when the cost on all rows stops falling, or after
``max_iter``. Each pass lowers the cost, so the result is never worse on all rows than the
sample fit it starts from.

The categories and the initial prototypes come from the sample of :data:`SAMPLE_ROWS` rows;
a level absent from the sample is never a mode and, as in ``predict``, counts as a mismatch
against every cluster. KPrototypes' default ``gamma`` (half the mean weighted standard
deviation of the numeric columns) is computed on all rows by one more pass, and the sample
is fitted with it.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from clusterlab.distributed._tasks import checked_weights, kernel_threads

__all__ = ["SAMPLE_ROWS", "fit_huang"]

#: Rows of the uniform sample that gives the categories, gamma and the initial prototypes.
SAMPLE_ROWS = 100_000


def fit_huang(estimator: Any, X: Any, sample_weight: Any = None) -> Any:
    """Fit ``estimator`` (a :class:`~clusterlab.cluster.categorical.KModes` or
    :class:`~clusterlab.cluster.categorical.KPrototypes`) on a Dask DataFrame or array.

    The estimator's own parameters (``init``, ``n_init``, ``random_state``) fit the sample;
    ``max_iter`` bounds the passes over all rows.

    Returns
    -------
    estimator
        Fitted as in memory (``cost_`` and ``n_iter_`` are those of the passes over all
        rows); ``labels_`` is lazy.
    """
    from sklearn.base import clone

    from clusterlab.cluster.categorical import _seed_source
    from clusterlab.distributed._cluster import get_client
    from clusterlab.distributed.prediction import predict
    from clusterlab.distributed.sample import sample_rows

    estimator._validate_params()
    client = get_client(f"{type(estimator).__name__}.fit")
    seed = _seed_source(copy.deepcopy(estimator.random_state))()
    sample, weights, positions = sample_rows(
        X, SAMPLE_ROWS, sample_weight=sample_weight, random_state=seed
    )
    model = clone(estimator).fit(sample, sample_weight=weights)
    if getattr(estimator, "gamma", 0.0) is None and len(positions) >= SAMPLE_ROWS:
        # KPrototypes' default gamma from every row (the sample holds only some of them)
        gamma = _gamma_of_all_rows(client, X, sample_weight, model)
        model = clone(estimator).set_params(gamma=gamma).fit(sample, sample_weight=weights)
    cnum, ccat, cost, n_iter = _passes(client, X, sample_weight, model, estimator.max_iter)
    model._cnum, model._ccat = cnum, ccat
    for name, value in vars(model).items():
        if name.endswith("_") or (name.startswith("_") and not name.startswith("__")):
            setattr(estimator, name, value)
    estimator.cluster_centroids_ = model._centroids_table(cnum, ccat)
    estimator.cost_ = float(cost)
    estimator.n_iter_ = int(n_iter)
    estimator.labels_ = predict(model, X)
    return estimator


def _passes(client: Any, X: Any, sample_weight: Any, model: Any, max_iter: int):
    """Batch iterations from the sample fit's prototypes: (cnum, ccat, cost, passes)."""
    from clusterlab.kernels.kmodes import update_prototypes

    offsets = model._layout.offsets
    cnum, ccat = model._cnum.copy(), model._ccat.copy()
    cost, stats = _one_pass(client, X, sample_weight, model, cnum, ccat)
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        new_num, new_cat = cnum.copy(), ccat.copy()
        update_prototypes(stats[1], stats[0], stats[2], offsets, new_num, new_cat)
        if np.array_equal(new_num, cnum) and np.array_equal(new_cat, ccat):
            break
        new_cost, new_stats = _one_pass(client, X, sample_weight, model, new_num, new_cat)
        if new_cost >= cost:
            break
        cnum, ccat, cost, stats = new_num, new_cat, new_cost, new_stats
    return cnum, ccat, cost, n_iter


def _stats_task(part: Any, wpart: Any, model: Any, cnum, ccat) -> tuple:
    """Task: (cluster weights, numeric sums, level frequencies, cost) of one block."""
    from clusterlab.kernels.kmodes import assign_cost

    k, p = cnum.shape
    n_levels = int(model._layout.offsets[-1])
    wsum, sums, freq = np.zeros(k), np.zeros((k, p)), np.zeros(k * n_levels)
    if len(part) == 0:
        return wsum, sums, freq.reshape(k, n_levels), 0.0
    Xnum, Xcat = model._test_blocks(part)
    w = checked_weights(wpart, Xnum.shape[0])
    labels = np.empty(Xnum.shape[0], dtype=np.int64)
    with kernel_threads(None):
        cost = assign_cost(Xnum, Xcat, w, cnum, ccat, model._gamma, labels)
    wsum[:] = np.bincount(labels, weights=w, minlength=k)
    for f in range(p):
        sums[:, f] = np.bincount(labels, weights=w * Xnum[:, f], minlength=k)
    offsets = model._layout.offsets
    for j in range(Xcat.shape[1]):
        seen = Xcat[:, j] >= 0  # a level the sample did not have is no candidate mode
        cells = labels[seen] * n_levels + offsets[j] + Xcat[seen, j]
        freq += np.bincount(cells, weights=w[seen], minlength=k * n_levels)
    return wsum, sums, freq.reshape(k, n_levels), float(cost)


def _moments_task(part: Any, wpart: Any, model: Any) -> tuple:
    """Task: weight, weighted mean and sum of squared deviations of the numeric columns."""
    if len(part) == 0:
        return 0.0, 0.0, 0.0
    Xnum, _ = model._test_blocks(part)
    w = checked_weights(wpart, Xnum.shape[0])
    total = float(w.sum())
    if not total > 0.0:
        return 0.0, 0.0, 0.0
    mean = (w @ Xnum) / total
    return total, mean, w @ (Xnum - mean) ** 2


def _gamma_of_all_rows(client: Any, X: Any, sample_weight: Any, model: Any) -> float:
    """KPrototypes' default gamma on every row: half the mean of the numeric columns' weighted
    (population) standard deviations, 1 without numeric columns or spread. One pass; the
    blocks' moments are combined in block order (Chan et al.)."""
    from dask import delayed

    from clusterlab.distributed._blocks import collect, per_block
    from clusterlab.distributed._data import DaskData, _weight_blocks
    from clusterlab.distributed.sample import _raw_blocks

    if model._cnum.shape[1] == 0:
        return 1.0
    blocks, lengths = _raw_blocks(X)
    data = DaskData(blocks, None, np.dtype(np.float64), 0, None, lengths, X)
    weights = _weight_blocks(sample_weight, data) or [None] * data.n_blocks
    futures = per_block(client, _moments_task, [blocks, weights], delayed(model, traverse=False))
    total, mean, m2 = 0.0, 0.0, 0.0
    for part_total, part_mean, part_m2 in collect(client, futures):
        if part_total <= 0.0:
            continue
        combined = total + part_total
        delta = part_mean - mean
        m2 = m2 + part_m2 + delta**2 * (total * part_total / combined)
        mean = mean + delta * (part_total / combined)
        total = combined
    gamma = 0.5 * float(np.mean(np.sqrt(m2 / total)))
    return gamma if gamma > 0 else 1.0


def _one_pass(client: Any, X: Any, sample_weight: Any, model: Any, cnum, ccat):  # noqa: PLR0917
    """Cost of the prototypes on all rows and the statistics of their clusters."""
    from dask import delayed

    from clusterlab.distributed._blocks import collect, per_block
    from clusterlab.distributed._data import DaskData, _weight_blocks
    from clusterlab.distributed.sample import _raw_blocks

    blocks, lengths = _raw_blocks(X)
    data = DaskData(blocks, None, np.dtype(np.float64), 0, None, lengths, X)
    weights = _weight_blocks(sample_weight, data) or [None] * data.n_blocks
    shared = delayed(model, traverse=False)
    futures = per_block(client, _stats_task, [blocks, weights], shared, cnum, ccat)
    parts = collect(client, futures)
    wsum, sums, freq = (np.sum([p[i] for p in parts], axis=0) for i in range(3))
    cost = float(np.sum([p[3] for p in parts]))
    return cost, (wsum, sums, freq)
