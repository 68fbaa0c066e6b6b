"""Initial centers on Dask data: k-means|| (Bahmani et al., VLDB 2012) and weighted random rows.

k-means|| replaces k-means++'s k sequential passes by a few rounds that each sample many
candidates at once. From one row drawn by weight, each round keeps every row ``x``
independently with probability ``min(1, l * w(x) * D(x)^2 / phi)`` (``D`` the distance to the
nearest candidate so far, ``phi`` the weighted cost ``sum w D^2``), so a round adds about ``l``
candidates where the cost is. With ``l = 2k`` and 5 rounds (Spark MLlib's choices) this gives
about ``10k`` candidates. Each candidate is then weighted by the total weight of the rows
nearest to it, and the weighted candidates are reduced to ``k`` centers in memory by weighted
greedy k-means++ and Lloyd (clusterlab's KMeans). Bahmani et al. prove the candidates' cost
is within a constant of the optimum after ``O(log phi)`` rounds and find 5 enough in practice.

Per-block state (each row's squared distance to its nearest candidate and that candidate's
index) stays on the workers between rounds; only candidates and costs reach the client. The
draws use one random stream per (round, block), seeded from ``random_state``, so the result
does not depend on scheduling.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from clusterlab.distributed._blocks import collect, per_block
from clusterlab.distributed._tasks import as_block, as_weights, kernel_threads

__all__ = ["kmeans_parallel", "random_rows"]

#: Rounds of k-means||: Bahmani et al.'s setting with l = 2k, and Spark MLlib's default until
#: SPARK-17389 (2016) lowered it to 2; a round costs two light passes over the blocks.
ROUNDS = 5
#: Expected candidates per round over the number of clusters (l = 2k, as Spark).
OVERSAMPLING = 2.0


def _update_task(prev, part, wpart, dtype, new, offset, n_threads):  # noqa: PLR0917
    """Task: lower each row's distance with ``new`` candidates; return the state and its cost.

    State: ``(closest, nearest)``, float64 squared distance to the nearest candidate and that
    candidate's index (ties keep the earlier candidate). The distances are the k-means kernels'.
    """
    from clusterlab.kernels.lloyd import assign_labels

    X = as_block(part, dtype)
    n = X.shape[0]
    w = as_weights(wpart, n, np.float64)
    if prev is None:
        closest, nearest = np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    else:
        closest, nearest = prev[0][0].copy(), prev[0][1].copy()
    if n:
        labels = np.full(n, -1, dtype=np.int64)
        dist = np.empty(n, dtype=X.dtype)
        with kernel_threads(n_threads):
            assign_labels(X, np.ascontiguousarray(new, dtype=X.dtype), labels, dist)
        d2 = dist.astype(np.float64)
        better = d2 < closest
        closest[better] = d2[better]
        nearest[better] = labels[better] + offset
    return (closest, nearest), float(np.dot(w, closest)) if n else 0.0


def _sample_task(prev, part, wpart, seed, dtype, l_factor, cost):  # noqa: PLR0917
    """Task: the rows kept by one round's independent draws (``min(1, l w D^2 / phi)``)."""
    X = as_block(part, dtype)
    n = X.shape[0]
    w = as_weights(wpart, n, np.float64)
    rng = np.random.default_rng(seed)
    keep = rng.random(n) < l_factor * w * prev[0][0] / cost
    return X[keep].copy()


def _weights_task(prev, wpart, n_candidates):
    """Task: total weight of the rows nearest to each candidate."""
    nearest = prev[0][1]
    w = as_weights(wpart, nearest.shape[0], np.float64)
    return np.bincount(nearest, weights=w, minlength=n_candidates)


def _pick_task(part, wpart, dtype, u):
    """Task: the row at fraction ``u`` of the block's cumulative weight."""
    X = as_block(part, dtype)
    cumulative = np.cumsum(as_weights(wpart, X.shape[0], np.float64))
    i = min(int(np.searchsorted(cumulative, u * cumulative[-1], side="right")), X.shape[0] - 1)
    return X[i : i + 1].copy()


def _first_row(client, data, stats, rng) -> np.ndarray:
    """One row drawn with probability proportional to its weight."""
    cumulative = np.cumsum(stats.weight_sums)
    block = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    block = min(block, data.n_blocks - 1)
    while stats.weight_sums[block] <= 0:  # rounding put the draw on a weightless block
        block -= 1
    weights = data.weights[block] if data.weights else None
    future = per_block(
        client, _pick_task, [[data.blocks[block]], [weights]], data.dtype, rng.random()
    )
    return collect(client, future)[0]


def kmeans_parallel(  # noqa: PLR0917
    client: Any,
    data: Any,
    stats: Any,
    n_clusters: int,
    seed: int,
    n_threads: int | None,
    rounds: int = ROUNDS,
    oversampling: float = OVERSAMPLING,
) -> np.ndarray:
    """k-means|| initial centers, shape (n_clusters, n_features), dtype of the data.

    Parameters
    ----------
    client, data, stats
        The client, the :class:`DaskData` and its :class:`DataStats`.
    n_clusters : int
    seed : int
        Seeds every draw (same seed, same centers).
    n_threads : int or None
        numba threads per task.
    rounds : int
        Sampling rounds (5).
    oversampling : float
        Expected candidates per round over ``n_clusters`` (``l = 2k``).
    """
    rng = np.random.default_rng(seed)
    weights = data.weights or [None] * data.n_blocks
    columns = [data.blocks, weights]
    new = _first_row(client, data, stats, rng)
    candidates = [new]
    n_candidates = 1
    states, cost = _update(client, data, [None] * data.n_blocks, new, 0, n_threads)
    l_factor = oversampling * n_clusters
    r = 0
    # Rounds stop early when every row sits on a candidate (cost 0); they continue past
    # ``rounds`` only while there are fewer candidates than clusters (tiny or skewed data).
    while cost > 0 and (r < rounds or n_candidates < n_clusters) and r < 4 * rounds:
        seeds = [np.random.SeedSequence([seed, r, i]) for i in range(data.n_blocks)]
        futures = per_block(
            client, _sample_task, [states, *columns, seeds], data.dtype, l_factor, cost
        )
        drawn = [rows for rows in collect(client, futures) if rows.shape[0]]
        r += 1
        if not drawn:
            continue
        new = np.concatenate(drawn)
        states, cost = _update(client, data, states, new, n_candidates, n_threads)
        candidates.append(new)
        n_candidates += new.shape[0]
    futures = per_block(client, _weights_task, [states, weights], n_candidates)
    candidate_weights = np.sum(collect(client, futures), axis=0)
    return _reduce(np.concatenate(candidates), candidate_weights, n_clusters, seed)


def _update(client, data, states, new, offset, n_threads):  # noqa: PLR0917
    """Lower the rows' distances with the ``new`` candidates; the new states and total cost."""
    weights = data.weights or [None] * data.n_blocks
    states, costs = per_block(
        client,
        _update_task,
        [states, data.blocks, weights],
        data.dtype,
        new,
        offset,
        n_threads,
        take=1,
    )
    total = 0.0
    for c in client.gather(costs):  # in block order: the same sum every run
        total += c
    return states, total


def _reduce(candidates, weights, n_clusters, seed) -> np.ndarray:
    """Weighted k-means++ and Lloyd on the candidates (in memory): the initial centers."""
    from clusterlab.cluster.kmeans import KMeans

    keep = weights > 0
    if np.count_nonzero(keep) >= n_clusters:
        candidates, weights = candidates[keep], weights[keep]
    elif candidates.shape[0] < n_clusters:
        # Fewer distinct rows than clusters: the in-memory fit repeats rows in this case too
        # (and warns about the distinct clusters it found).
        extra = np.resize(np.arange(candidates.shape[0]), n_clusters - candidates.shape[0])
        candidates = np.concatenate([candidates, candidates[extra]])
        weights = np.concatenate([weights, np.zeros(extra.size)])
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        # Few distinct candidates is the full data's concern, reported by the Lloyd run.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = KMeans(n_clusters, n_init=1, random_state=seed % (2**31 - 1)).fit(
            candidates, sample_weight=weights
        )
    return model.cluster_centers_.astype(candidates.dtype)


def _random_keys_task(part, wpart, seed, dtype, k):
    """Task: the block's ``k`` rows with the largest Efraimidis-Spirakis keys.

    Keys ``log(u) / w`` (rows of zero weight: ``-inf``, broken by a second uniform draw) pick
    ``k`` rows without replacement with probability proportional to the weights: a block's
    ``k`` largest keys contain every row the global top ``k`` takes from it.
    """
    X = as_block(part, dtype)
    n = X.shape[0]
    w = as_weights(wpart, n, np.float64)
    rng = np.random.default_rng(seed)
    u = 1.0 - rng.random(n)  # in (0, 1]
    tie = rng.random(n)
    with np.errstate(divide="ignore"):
        key = np.where(w > 0, np.log(u) / np.where(w > 0, w, 1.0), -np.inf)
    top = np.lexsort((-tie, -key))[:k]
    return key[top], tie[top], X[top].copy()


def random_rows(client: Any, data: Any, n_clusters: int, seed: int) -> np.ndarray:
    """``n_clusters`` distinct rows drawn with probability proportional to their weights.

    The distributed form of ``init='random'`` (zero-weight rows only when the positive ones
    run out, as in memory).
    """
    weights = data.weights or [None] * data.n_blocks
    seeds = [np.random.SeedSequence([seed, i]) for i in range(data.n_blocks)]
    futures = per_block(
        client, _random_keys_task, [data.blocks, weights, seeds], data.dtype, n_clusters
    )
    parts = collect(client, futures)
    keys = np.concatenate([p[0] for p in parts])
    ties = np.concatenate([p[1] for p in parts])
    rows = np.concatenate([p[2] for p in parts])
    return rows[np.lexsort((-ties, -keys))[:n_clusters]].copy()
