"""``GaussianMixture.fit`` on a Dask collection: EM as a map-reduce of sufficient statistics.

Every EM iteration sends the current model to one task per row block. The task runs the
in-memory fit's fused E step on its block (:func:`clusterlab.kernels.mixture.estep_statistics`)
and returns the block's weighted log-likelihood and the statistics of the next M step: the
total responsibility ``sum w r``, the first moments ``sum w r (x - mu)`` and the second moments
(the full ``d x d`` matrix per component for 'full', its diagonal for 'diag' and 'spherical';
'tied' pools one scatter of all rows computed once). Moments are taken about the current
means, so they add up across blocks. The client sums them in block order and runs the
in-memory estimator's own M step (:func:`clusterlab.cluster._mixture_math.m_step`, with its
per-component regularisation), so from the same initial parameters a distributed fit makes
the in-memory fit's iterations and reaches its lower bound (up to the order in which float64
sums are added).

Initialisation (``init_params``):

- 'kmeans' fits the distributed KMeans (k-means||, then exact Lloyd iterations on all rows;
  :mod:`clusterlab.distributed.kmeans`) and takes each row's nearest final centre as its
  component, as the in-memory fit takes the labels of its in-memory KMeans;
- 'random_from_data' draws the same ``n_components`` row positions as the in-memory fit with
  the same ``random_state`` and fetches those rows;
- given ``weights_init``, ``means_init`` and ``precisions_init`` draw nothing;
- 'k-means++' and 'random' are refused: both need every row on the client (sequential
  k-means++ draws, and one random responsibility per row from one random stream).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from clusterlab.distributed._blocks import collect, per_block
from clusterlab.distributed._tasks import as_block, as_weights, kernel_threads

__all__ = ["Moments", "estep", "fit_gaussian_mixture", "params_from_centers", "weighted_moments"]

#: Rows per slice when a task reduces a block (bounds its float64 temporaries).
SLICE = 65_536
#: Lloyd iterations of the 'kmeans' initialisation (KMeans' default).
_KMEANS_MAX_ITER = 300
#: Relative tolerance of the 'kmeans' initialisation (KMeans' default).
_KMEANS_TOL = 1e-4


def fit_gaussian_mixture(estimator: Any, X: Any, sample_weight: Any = None) -> Any:
    """Fit ``estimator`` (a :class:`~clusterlab.cluster.mixture.GaussianMixture`) on Dask data.

    The parameters mean what they mean in memory (module docstring for ``init_params``);
    ``n_jobs`` sets the numba threads of each task (default one: Dask runs one task per
    worker thread). The blocks are kept in the workers' memory between iterations when they
    fit there, and read again from their source otherwise.

    Returns
    -------
    estimator
        Fitted, with the attributes of an in-memory fit; ``labels_`` is lazy (a Dask array,
        or a Dask Series with the partitions' index for a Dask DataFrame).

    Raises
    ------
    ValueError
        For ``init_params`` 'k-means++' or 'random' without all three initial parameters, and
        for the in-memory fit's errors (too few rows, bad weights or initial parameters).
    """
    from clusterlab._validation import check_n_clusters
    from clusterlab.cluster._mixture_math import KINDS
    from clusterlab.cluster.mixture import _random_generator, _Run
    from clusterlab.distributed._cluster import get_client, plan_memory, workers
    from clusterlab.distributed._data import dask_data, data_stats, with_row_lengths
    from clusterlab.distributed.kmeans import _persisted, _set_features
    from clusterlab.distributed.prediction import predict

    estimator._validate_params()
    client = get_client("GaussianMixture.fit")
    data = dask_data(X, sample_weight)
    given = estimator._given_params(data.n_features)
    do_init = not (estimator.warm_start and hasattr(estimator, "converged_"))
    if not do_init:
        estimator._check_warm_start(data.n_features)
    elif estimator.init_params in ("k-means++", "random") and any(g is None for g in given):
        raise ValueError(
            f"GaussianMixture: init_params={estimator.init_params!r} on a Dask collection would "
            "need every row on the client; use init_params='kmeans' (the distributed KMeans) "
            "or 'random_from_data', or give weights_init, means_init and precisions_init"
        )
    stats = data_stats(client, data)
    n_samples = stats.n_samples
    if n_samples < 2:
        raise ValueError(f"GaussianMixture.fit needs at least 2 rows; got {n_samples}")
    check_n_clusters(estimator.n_components, n_samples, name="n_components")
    plan = plan_memory(
        workers(client),
        lengths=data.lengths,
        row_bytes=data.n_features * data.dtype.itemsize + (8 if data.weights else 0),
        state_row_bytes=0,
        what="GaussianMixture.fit",
        alternative="fewer rows per block",
    )
    run_data = _persisted(client, data) if plan.persist else data
    kind = KINDS[estimator.covariance_type]
    moments = weighted_moments(client, run_data, tied=kind == KINDS["tied"])
    rng = _random_generator(estimator.random_state)
    best = None
    for _ in range(estimator.n_init if do_init else 1):
        if do_init:
            params = _initial_params(estimator, client, run_data, stats, moments, rng, given)
            start = -np.inf
        else:
            params, start = estimator._current_params(), estimator.lower_bound_
        if estimator.max_iter == 0:
            run = _Run(params, start, [], 0, False)
        else:
            run = _em(client, run_data, moments, params, start, estimator)
        if best is None or run.lower_bound > best.lower_bound:
            best = run
    del run_data  # releases the blocks kept on the workers
    if hasattr(estimator, "labels_"):
        del estimator.labels_  # a previous fit's lazy labels never travel with the model
    estimator._store(best)
    _set_features(estimator, data)
    estimator.labels_ = with_row_lengths(predict(copy.copy(estimator), X), data.lengths)
    estimator._warn(best)
    return estimator


# -- the data's weighted moments ---------------------------------------------------------------


@dataclass(frozen=True)
class Moments:
    """What every EM run on the same rows shares (the in-memory fit's ``_Data`` without rows).

    ``total_weight``; ``center`` the weighted mean (d,); ``scale`` the mean feature variance,
    the unit of the regularisation floor; ``tied`` ``(scatter, center)`` with the weighted
    scatter (d, d) of all rows about ``center`` ('tied' only, else None).
    """

    total_weight: float
    center: np.ndarray
    scale: float
    tied: tuple[np.ndarray, np.ndarray] | None


def _combine(a: tuple, b: tuple) -> tuple:
    """Weighted moments ``(weight, mean, scatter)`` of two disjoint sets of rows (Chan et al.).

    ``scatter`` is the (d, d) matrix or, as a float, its trace; exact to rounding like a
    two-pass computation.
    """
    wa, ma, sa = a
    wb, mb, sb = b
    if wb <= 0.0:
        return a
    if wa <= 0.0:
        return b
    total = wa + wb
    delta = mb - ma
    factor = wa * wb / total
    between = np.outer(delta, delta) if np.ndim(sa) else float(delta @ delta)
    return total, ma + delta * (wb / total), sa + sb + factor * between


def _moments_task(part: Any, wpart: Any, dtype: Any, tied: bool) -> tuple:
    """Task: weighted moments ``(weight, mean, scatter)`` of one block, slice by slice."""
    X = as_block(part, dtype)
    n, d = X.shape
    w = as_weights(wpart, n, np.float64)
    acc = (0.0, np.zeros(d), np.zeros((d, d)) if tied else 0.0)
    for start in range(0, n, SLICE):
        rows = X[start : start + SLICE].astype(np.float64)
        ws = w[start : start + SLICE]
        total = float(ws.sum())
        if not total > 0.0:
            continue
        mean = (ws @ rows) / total
        diff = rows - mean
        if tied:
            scatter = (diff * ws[:, None]).T @ diff
        else:
            scatter = float(ws @ np.einsum("ij,ij->i", diff, diff))
        acc = _combine(acc, (total, mean, scatter))
    return acc


def weighted_moments(client: Any, data: Any, *, tied: bool) -> Moments:
    """One pass: the weighted mean, scale and (for 'tied') scatter of all rows, in block order."""
    weights = data.weights or [None] * data.n_blocks
    futures = per_block(client, _moments_task, [data.blocks, weights], data.dtype, tied)
    d = data.n_features
    acc = (0.0, np.zeros(d), np.zeros((d, d)) if tied else 0.0)
    for part in collect(client, futures):
        acc = _combine(acc, part)
    total, center, scatter = acc
    variance = (np.trace(scatter) if tied else scatter) / total
    scale = variance / d if variance > 0 else 1.0
    return Moments(total, center, float(scale), (scatter, center) if tied else None)


# -- initialisation ----------------------------------------------------------------------------


def _initial_params(estimator, client, data, stats, moments, rng, given):  # noqa: PLR0917
    """The in-memory ``_initial_params`` with the responsibilities drawn on Dask."""
    from clusterlab.cluster._mixture_math import KINDS, params_from_precisions

    kind = KINDS[estimator.covariance_type]
    weights, means, precisions = given
    k = estimator.n_components
    reg = np.full(k, float(estimator.reg_covar))
    if weights is not None and means is not None and precisions is not None:
        return params_from_precisions(kind, weights, means, precisions, reg)
    if estimator.init_params == "kmeans":
        centers = _kmeans_centers(estimator, client, data, stats, rng)
        params = params_from_centers(client, data, moments, centers, kind, reg)
    else:  # 'random_from_data' (the others are refused before any pass)
        params = _params_from_rows(client, data, stats, moments, rng, kind, reg, k)
    if weights is not None:
        params.weights = weights
    if means is not None:
        params.means = means
    if precisions is not None:
        params = params_from_precisions(kind, params.weights, params.means, precisions, params.reg)
    return params


def _kmeans_centers(estimator, client, data, stats, rng) -> np.ndarray:
    """Final centres of one distributed KMeans run (k-means||, then Lloyd on all rows), seeded
    from ``rng`` as the in-memory initialisation seeds its KMeans."""
    from clusterlab.cluster.kmeans import KMeans, _seed_source
    from clusterlab.distributed._cluster import workers
    from clusterlab.distributed._init import kmeans_parallel
    from clusterlab.distributed._lloyd import run_lloyd
    from clusterlab.distributed.kmeans import _plan

    k = estimator.n_components
    kmeans = KMeans(k, n_init=1, n_jobs=estimator.n_jobs)
    algorithm, n_groups, _ = _plan(kmeans, data, workers(client), stats.n_samples)
    seed = _seed_source(rng)()
    centers = kmeans_parallel(client, data, stats, k, seed, estimator.n_jobs)
    tol = stats.mean_variance * _KMEANS_TOL
    result = run_lloyd(
        client, data, stats, centers, algorithm, n_groups, _KMEANS_MAX_ITER, tol, estimator.n_jobs
    )
    return result.centers


def _label_stats_task(part, wpart, dtype, centers, full, n_threads):  # noqa: PLR0917
    """Task: each row's nearest centre as its component; per component the total weight and
    the weighted moments about its centre (second moments full (k, d, d) or diagonal
    (k, 1, d))."""
    from clusterlab.kernels.lloyd import assign_labels

    X = as_block(part, dtype)
    n, d = X.shape
    k = centers.shape[0]
    w = as_weights(wpart, n, np.float64)
    sr, s1 = np.zeros(k), np.zeros((k, d))
    s2 = np.zeros((k, d, d)) if full else np.zeros((k, 1, d))
    if n == 0:
        return sr, s1, s2
    labels = np.full(n, -1, dtype=np.int64)
    with kernel_threads(n_threads):
        assign_labels(X, np.ascontiguousarray(centers, dtype=X.dtype), labels, np.empty(n, X.dtype))
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(k + 1))
    for c in range(k):
        rows = order[bounds[c] : bounds[c + 1]]
        if rows.size == 0:
            continue
        diff = X[rows].astype(np.float64) - centers[c]
        weighted = diff * w[rows, None]
        sr[c] = w[rows].sum()
        s1[c] = weighted.sum(axis=0)
        if full:
            s2[c] = weighted.T @ diff
        else:
            s2[c, 0] = (weighted * diff).sum(axis=0)
    return sr, s1, s2


def params_from_centers(client, data, moments, centers, kind, reg):  # noqa: PLR0917
    """Initial parameters from hard responsibilities: each row in its nearest centre's
    component (the in-memory ``params_from_resp`` of k-means labels), in one pass.

    ``centers`` (k, d) are the k-means centres; ``reg`` (k,) the starting regularisation.
    """
    from clusterlab.cluster._mixture_math import m_step
    from clusterlab.kernels.mixture_kinds import FULL

    centers = np.asarray(centers, dtype=np.float64)
    weights = data.weights or [None] * data.n_blocks
    futures = per_block(
        client, _label_stats_task, [data.blocks, weights], data.dtype, centers, kind == FULL, None
    )
    sr, s1, s2 = _sum_in_order(collect(client, futures))
    total = moments.total_weight
    return m_step(kind, sr, s1, s2, centers, reg.copy(), moments.scale, moments.tied, total)


def _rows_task(part, wpart, local, dtype):
    """Task: the rows at positions ``local`` of one block, and their weights (float64)."""
    X = as_block(part, dtype)
    w = as_weights(wpart, X.shape[0], np.float64)
    return X[local].astype(np.float64), w[local]


def _params_from_rows(client, data, stats, moments, rng, kind, reg, k):  # noqa: PLR0917
    """'random_from_data': the in-memory fit's draw of ``k`` row positions, rows fetched."""
    from clusterlab.cluster._mixture_math import m_step
    from clusterlab.kernels.mixture_kinds import FULL

    positions = rng.choice(stats.n_samples, size=k, replace=False)
    block_of = np.searchsorted(stats.offsets, positions, side="right") - 1
    weights = data.weights or [None] * data.n_blocks
    used = np.unique(block_of)
    local = [positions[block_of == b] - stats.offsets[b] for b in used]
    futures = per_block(
        client,
        _rows_task,
        [[data.blocks[b] for b in used], [weights[b] for b in used], local],
        data.dtype,
    )
    rows, row_weights = np.empty((k, data.n_features)), np.empty(k)
    for b, (x, w) in zip(used, collect(client, futures), strict=True):
        rows[block_of == b], row_weights[block_of == b] = x, w
    s1 = np.zeros_like(rows)
    s2 = np.zeros((k, data.n_features, data.n_features) if kind == FULL else (k, 1, rows.shape[1]))
    total = moments.total_weight
    return m_step(kind, row_weights, s1, s2, rows, reg.copy(), moments.scale, moments.tied, total)


# -- EM ------------------------------------------------------------------------------------------


def _estep_task(part, wpart, dtype, model, kind, n_threads):  # noqa: PLR0917
    """Task: one block's E step under ``model = (means, prec, log_norm)``: ``(sum w log p,
    sum w r, sum w r (x - mu), second moments)`` (:func:`~clusterlab.kernels.mixture.
    estep_statistics`)."""
    from clusterlab.kernels.mixture import estep_statistics

    X = as_block(part, dtype)
    w = as_weights(wpart, X.shape[0], np.float64)
    means, prec, log_norm = model
    with kernel_threads(n_threads):
        return estep_statistics(X, w, means, prec, log_norm, kind)


def _sum_in_order(parts: list) -> tuple:
    """Element-wise sums of the blocks' statistics, added in block order (deterministic)."""
    sums = [np.array(a, dtype=np.float64, copy=True) for a in parts[0]]
    for part in parts[1:]:
        for i, a in enumerate(part):
            sums[i] += a
    return tuple(sums)


def estep(client: Any, data: Any, params: Any, n_threads: int | None) -> tuple:
    """One distributed E step under ``params``: ``(total, sr, s1, s2)`` summed over the blocks,
    as :func:`clusterlab.kernels.mixture.estep_statistics` returns them for all rows."""
    from dask import delayed

    prec, log_norm = params.kernel_model()
    model = delayed((params.means, prec, log_norm), traverse=False)  # one key, sent once
    weights = data.weights or [None] * data.n_blocks
    futures = per_block(
        client, _estep_task, [data.blocks, weights], data.dtype, model, params.kind, n_threads
    )
    total, sr, s1, s2 = _sum_in_order(collect(client, futures))
    return float(total), sr, s1, s2


def _em(client, data, moments, params, lower_bound, estimator):  # noqa: PLR0917
    """The in-memory ``_em`` loop with the E step on the blocks."""
    from clusterlab.cluster._mixture_math import m_step
    from clusterlab.cluster.mixture import _Run

    kind = params.kind
    reg = params.reg.copy()
    bounds: list[float] = []
    n_iter = 0
    converged = False
    for n_iter in range(1, estimator.max_iter + 1):  # noqa: B007 - n_iter is read after the loop
        previous = lower_bound
        total, sr, s1, s2 = estep(client, data, params, estimator.n_jobs)
        lower_bound = total / moments.total_weight
        params = m_step(kind, sr, s1, s2, params.means, reg, moments.scale, moments.tied)
        bounds.append(lower_bound)
        if abs(lower_bound - previous) < estimator.tol:
            converged = True
            break
    return _Run(params, lower_bound, bounds, n_iter, converged)
