"""Exact k-means iterations as one map-reduce per iteration, with per-block state on workers.

Every iteration sends the centers to every row block. The block's pass runs the in-memory
fit's own assignment kernel on it (:func:`clusterlab.kernels.lloyd.lloyd_step`, or
:func:`clusterlab.kernels.bounds.yinyang_step` with the block's Hamerly / Yinyang bounds),
keeps the block's new state (labels, bounds) on its worker and sends back only its
per-cluster weighted sums, weights and number of changed labels. The client adds the sums up
block by block in a fixed order, relocates empty clusters, divides, and applies the in-memory
estimator's stopping rule, so from the same initial centers a distributed fit makes the same
iterations as the in-memory one and ends at the same centers and inertia (up to the order in
which float64 sums are added).

The passes run on one of two executors (:mod:`clusterlab.distributed._executors`): in one
actor per worker over the blocks it holds when the blocks are persisted (one direct call per
worker and pass), else as one Dask task per block whose state is a Future. A run whose actors
fail (a worker lost mid-fit) starts again as tasks; the result is the same.

A block's state is handed from iteration to iteration: each pass takes the previous state and
updates it in place rather than copying it (the copy, 40 bytes a row with Yinyang's bounds,
and freeing the old state were 20 % of a worker's time on DK1). As tasks that is safe because
the client never lets a state be read after the task that consumes it starts: each
iteration's tasks are submitted only once the previous iteration's results (and any relocation
or final pass reading its state) are gathered, and the client then drops its futures of the
previous states. When a worker dies, its states are lost with it and the scheduler recomputes
them from their lineage, each step again taking its predecessor's freshly computed state, so
the fit continues unchanged (``tests/test_distributed_faults.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from clusterlab.distributed._tasks import as_block, as_weights, kernel_threads

__all__ = ["LloydResult", "run_lloyd", "state_row_bytes"]

logger = logging.getLogger(__name__)


def state_row_bytes(algorithm: str, n_groups: int) -> int:
    """Bytes per row of the state kept between iterations: labels, and bounds if any."""
    return 8 if algorithm == "lloyd" else 16 + 8 * n_groups


def _block_inputs(part, wpart, dtype):
    X = as_block(part, dtype)
    return X, as_weights(wpart, X.shape[0], dtype)


def _sum_parts(part_sums: np.ndarray, part_weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-cluster sums of a block: its row parts added in order, as finish_centers does."""
    sums = part_sums[0].copy()
    weights = part_weights[0].copy()
    for p in range(1, part_sums.shape[0]):
        sums += part_sums[p]
        weights += part_weights[p]
    return sums, weights


def lloyd_task(prev, part, wpart, dtype, centers, n_threads):  # noqa: PLR0917
    """Task: one Lloyd assignment of a block. Returns ``((labels,), (sums, weights, changed))``.

    ``prev`` (the previous iteration's result, or None) is taken over: its labels are updated
    in place and returned (module docstring).
    """
    from clusterlab.kernels.lloyd import lloyd_step, n_parts

    X, w = _block_inputs(part, wpart, dtype)
    n = X.shape[0]
    labels = np.full(n, -1, dtype=np.int64) if prev is None else prev[0][0]  # taken over
    P = n_parts(n)
    part_sums = np.zeros((P, *centers.shape))
    part_weights = np.zeros((P, centers.shape[0]))
    changed = 0
    if n:
        with kernel_threads(n_threads):
            changed = lloyd_step(X, w, centers, labels, part_sums, part_weights)
    return (labels,), (*_sum_parts(part_sums, part_weights), int(changed))


def yinyang_task(prev, part, wpart, dtype, layout, moved, margins, full, n_threads):  # noqa: PLR0917
    """Task: one bound-based assignment of a block (Hamerly / Yinyang), same contract as
    :func:`lloyd_task`; the state is ``(labels, upper, lower)``."""
    from clusterlab.kernels.bounds import yinyang_step
    from clusterlab.kernels.lloyd import n_parts

    X, w = _block_inputs(part, wpart, dtype)
    n = X.shape[0]
    centers, screen = layout
    k = centers[0].shape[1]
    n_groups = centers[3].shape[0] - 1
    if prev is None:
        labels = np.full(n, -1, dtype=np.int64)
        upper, lower = np.empty(n), np.empty((n, n_groups))
    else:
        labels, upper, lower = prev[0]  # taken over: updated in place (module docstring)
    P = n_parts(n)
    part_sums = np.zeros((P, k, X.shape[1]))
    part_weights = np.zeros((P, k))
    changed = 0
    if n:
        bounds = (labels, upper, lower, *margins)
        with kernel_threads(n_threads):
            changed = yinyang_step(
                X, w, centers, screen, moved, bounds, full, part_sums, part_weights
            )
    return (labels, upper, lower), (*_sum_parts(part_sums, part_weights), int(changed))


def far_rows_task(prev, part, wpart, dtype, centers_old, m, n_threads):  # noqa: PLR0917
    """Task: the ``m`` rows of a block farthest from their center (for empty-cluster relocation).

    Ordered as the in-memory relocation orders all rows (distance descending, then row index).
    Returns ``(local_index, sq_distance, label, weight, rows)``.
    """
    from clusterlab.kernels.lloyd import _distances_to_own_center

    X, w = _block_inputs(part, wpart, dtype)
    labels = prev[0][0]
    with kernel_threads(n_threads):
        dist = _distances_to_own_center(X, centers_old, labels) if X.shape[0] else np.empty(0)
    order = np.argsort(-dist, kind="mergesort")[:m]
    return order, dist[order], labels[order], w[order].astype(np.float64), X[order]


def final_task(prev, part, wpart, dtype, centers, relabel, n_threads):  # noqa: PLR0917
    """Task: a block's inertia and cluster sizes under the final centers.

    ``relabel``: ``None`` when the state's labels are final (the run stopped because no label
    changed); otherwise the run stopped on ``tol`` and the rows are labelled under the final
    centers first, as the in-memory fit does: ``'all'`` from scratch (Lloyd), or the bound
    step's arguments ``(layout, moved, margins)``, one more bounded step (Hamerly / Yinyang;
    the same labels for a fraction of the distances).
    """
    from clusterlab.kernels.lloyd import assign_labels, inertia

    if isinstance(relabel, tuple):
        prev = yinyang_task(prev, part, wpart, dtype, *relabel, False, n_threads)
    X, w = _block_inputs(part, wpart, dtype)
    n = X.shape[0]
    k = centers.shape[0]
    if n == 0:
        return 0.0, np.zeros(k, dtype=np.int64)
    labels = prev[0][0]
    with kernel_threads(n_threads):
        if relabel == "all":
            labels = np.full(n, -1, dtype=np.int64)
            assign_labels(X, centers, labels, np.empty(n, dtype=X.dtype))
        total = float(inertia(X, w, centers, labels))
    return total, np.bincount(labels, minlength=k)


@dataclass(frozen=True)
class LloydResult:
    centers: np.ndarray
    inertia: float
    n_iter: int
    counts: np.ndarray


class _Relocation:
    """Empty-cluster relocation on the client, from the blocks' farthest rows.

    Reproduces :func:`clusterlab.kernels.lloyd.relocate_empty_clusters` exactly: the rows are
    walked in the global order (distance descending, then row index), and a block's ``m``
    farthest rows are enough as long as the walk stays before the point where some block may
    hold rows it did not send; past it, the blocks are asked for more.
    """

    def __init__(self, blocks, lengths, centers_old, offsets):
        self.blocks = blocks
        self.lengths = lengths
        self.centers_old = centers_old
        self.offsets = offsets

    def apply(self, sums: np.ndarray, weights: np.ndarray) -> int:
        empty = np.flatnonzero(weights == 0.0)
        m = 2 * empty.size + 8
        while True:
            rows = self._farthest(m)
            trial_sums, trial_weights = sums.copy(), weights.copy()
            moved, complete = _walk(rows, empty, trial_sums, trial_weights)
            if complete:
                sums[:], weights[:] = trial_sums, trial_weights
                return moved
            m *= 4

    def _farthest(self, m: int):
        parts = self.blocks.map(far_rows_task, self.centers_old, m)
        index = np.concatenate([p[0] + off for p, off in zip(parts, self.offsets, strict=True)])
        dist = np.concatenate([p[1] for p in parts])
        order = np.lexsort((index, -dist))
        # A block that sent m of more rows may hold others: its rows after its last one sent are
        # unknown, so the merged order is exact only up to the first such last row.
        last_sent = np.concatenate(
            [
                (np.arange(len(p[1])) == len(p[1]) - 1) & (m < n)
                for p, n in zip(parts, self.lengths, strict=True)
            ]
        )
        cut = np.flatnonzero(last_sent[order])
        known = int(cut.min()) + 1 if cut.size else order.size
        return (
            dist[order],
            np.concatenate([p[2] for p in parts])[order],
            np.concatenate([p[3] for p in parts])[order],
            np.concatenate([p[4] for p in parts])[order],
            known,
        )


def _walk(rows, empty, sums, weights) -> tuple[int, bool]:
    """The relocation walk over rows in global order; ``(moved, complete)``.

    ``complete`` is false when the walk needed a row beyond the ``known`` prefix.
    """
    dist, labels, row_weights, X, known = rows
    pos = 0
    moved = 0
    for j in empty:
        while True:
            if pos >= dist.size:
                return moved, known == dist.size
            if pos >= known:
                return moved, False
            i = pos
            pos += 1
            if not dist[i] > 0.0:
                return moved, True
            old = labels[i]
            w = np.float64(row_weights[i])
            if w > 0.0 and weights[old] - w > 0.0:
                contribution = X[i].astype(np.float64) * w
                sums[old] -= contribution
                sums[j] = contribution
                weights[old] -= w
                weights[j] = w
                moved += 1
                break
    return moved, True


def run_lloyd(  # noqa: PLR0917
    client: Any,
    data: Any,
    stats: Any,
    centers_init: np.ndarray,
    algorithm: str,
    n_groups: int,
    max_iter: int,
    tol: float,
    n_threads: int | None,
    *,
    resident: bool = False,
) -> LloydResult:
    """Run exact k-means from ``centers_init`` on the blocks of ``data`` (the in-memory rule).

    Parameters
    ----------
    client : distributed.Client
    data : DaskData
        With known block lengths (after :func:`data_stats`).
    stats : DataStats
        Column means and ranges (for the bounds' screening and margins).
    centers_init : ndarray (n_clusters, n_features), dtype of the data.
    algorithm : {'lloyd', 'hamerly', 'yinyang'}
    n_groups : int
        Center groups of the bounds (1 for Hamerly; ignored by Lloyd).
    max_iter : int
    tol : float
        Absolute tolerance on the total squared center shift.
    n_threads : int or None
        numba threads per task.
    resident : bool
        The blocks are persisted Futures: run the passes in actors on the workers holding them
        (:class:`~clusterlab.distributed._executors.ResidentBlocks`). If that fails (a worker
        lost mid-fit), the run starts again as tasks, whose states survive a lost worker: the
        same iterations and result, later.

    Returns
    -------
    LloydResult
        Final centers, inertia, iterations and cluster sizes.
    """
    from clusterlab.distributed._executors import ResidentBlocks, TaskBlocks

    args = (data, stats, centers_init, algorithm, n_groups, max_iter, tol)
    if resident:
        blocks = None
        try:
            blocks = ResidentBlocks(client, data, n_threads)
            return _run(blocks, *args)
        except Exception as exc:  # a real error recurs in the task run below
            logger.warning(
                "k-means passes in worker actors failed (%s: %s); running them again as tasks",
                type(exc).__name__,
                exc,
            )
        finally:
            if blocks is not None:
                blocks.close()
    blocks = TaskBlocks(client, data, n_threads)
    try:
        return _run(blocks, *args)
    finally:
        blocks.close()


def _run(blocks, data, stats, centers_init, algorithm, n_groups, max_iter, tol):  # noqa: PLR0917
    """The iterations of :func:`run_lloyd` on one executor."""
    run = _Iterations(blocks, data, stats, centers_init, algorithm, n_groups)
    strict = False
    it = 0
    for it in range(max_iter):  # noqa: B007 - the count after the loop is n_iter - 1
        changed, shift = run.step()
        if changed == 0:
            strict = True
            break
        if float(np.dot(shift, shift)) <= tol:
            break
    return run.finish(assign=not strict, n_iter=it + 1)


class _Iterations:
    """The client's side of the iterations: centers, bound bookkeeping, per-block futures."""

    def __init__(self, blocks, data, stats, centers_init, algorithm, n_groups):  # noqa: PLR0917
        self.blocks = blocks
        self.data = data
        self.algorithm = algorithm
        self.centers = np.array(centers_init, dtype=data.dtype, order="C")
        self.offsets = stats.offsets
        self.first = True
        if algorithm != "lloyd":
            self._init_bounds(stats, n_groups)

    def _init_bounds(self, stats, n_groups):
        from clusterlab.kernels.bounds import _sorted_layout, bound_margins, center_groups
        from clusterlab.kernels.center_distances import screen_coef

        k = self.centers.shape[0]
        self.group = center_groups(self.centers, n_groups)
        self.perm, self.pos_of, self.group_start = _sorted_layout(self.centers, self.group)
        shape = np.empty((0, self.data.n_features), dtype=self.data.dtype)
        self.margins = bound_margins(shape, stats.span)
        self.mean = stats.mean.astype(self.data.dtype)
        self.coef = screen_coef(self.data.dtype, self.data.n_features)
        self.moved = (np.zeros(k), np.zeros(self.group_start.size - 1), np.zeros(k))

    def _layout(self):
        """The centers and screening arguments of the bound step for the current centers."""
        from clusterlab.kernels.bounds import _layout

        return _layout(self.centers, self.perm, self.pos_of, self.group_start, self.mean, self.coef)

    def _step(self) -> list:
        """One pass on every block; the blocks' partials."""
        if self.algorithm == "lloyd":
            return self.blocks.step(lloyd_task, self.centers)
        return self.blocks.step(yinyang_task, self._layout(), self.moved, self.margins, self.first)

    def step(self) -> tuple[int, np.ndarray]:
        """One iteration; returns the number of changed labels and each center's shift."""
        from clusterlab.kernels.bounds import _moved
        from clusterlab.kernels.lloyd import center_shift

        partials = self._step()
        self.first = False
        sums = partials[0][0].copy()
        weights = partials[0][1].copy()
        for p in partials[1:]:
            sums += p[0]
            weights += p[1]
        changed = sum(p[2] for p in partials)
        if (weights == 0.0).any():
            _Relocation(self.blocks, self.data.lengths, self.centers, self.offsets).apply(
                sums, weights
            )
        centers_new = self.centers.copy()
        filled = weights > 0.0
        centers_new[filled] = sums[filled] / weights[filled, None]
        shift = center_shift(self.centers, centers_new)
        self.centers = centers_new
        if self.algorithm != "lloyd" and changed:
            self.moved = _moved(self.centers, shift, self.group, self.group_start, *self.margins)
        return changed, shift

    def finish(self, *, assign: bool, n_iter: int) -> LloydResult:
        relabel = None
        if assign:
            relabel = (
                "all" if self.algorithm == "lloyd" else (self._layout(), self.moved, self.margins)
            )
        parts = self.blocks.map(final_task, self.centers, relabel)
        total = 0.0
        counts = np.zeros(self.centers.shape[0], dtype=np.int64)
        for block_inertia, block_counts in parts:
            total += block_inertia
            counts += block_counts
        return LloydResult(self.centers, total, n_iter, counts)
