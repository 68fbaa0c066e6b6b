"""The ambient Dask client, and whether a run fits in the workers' memory before it starts.

A worker that runs out of memory does not fail cleanly: Dask pauses it at 80 % of its limit
(waiting, possibly for ever, for memory that nothing will free) and its nanny kills it at 95 %
(the task is retried elsewhere until the scheduler gives up). So every distributed fit first
plans its memory from the chunk sizes and the workers' limits, and refuses with a message that
says what to change when the plan does not fit.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

__all__ = ["MemoryPlan", "Workers", "get_client", "plan_memory", "workers"]

logger = logging.getLogger(__name__)

_MiB = 2**20


def get_client(what: str) -> Any:
    """The ambient ``distributed.Client`` (never stored on an estimator).

    Raises
    ------
    ImportError
        When Dask's distributed scheduler is not installed (naming the extra).
    RuntimeError
        When no client is running, saying how to start one.
    """
    try:
        from distributed import default_client
    except ImportError as exc:  # pragma: no cover - the dask extra is a test dependency
        raise ImportError(
            f"{what} on a Dask collection needs dask and distributed: "
            "pip install 'clusterlab[dask]'"
        ) from exc
    try:
        return default_client()
    except ValueError as exc:
        raise RuntimeError(
            f"{what} on a Dask collection runs on the ambient distributed.Client, and none is "
            "running; start one first: `from distributed import Client; client = Client()` "
            "(a local cluster) or Client('tcp://scheduler:8786')"
        ) from exc


@dataclass(frozen=True)
class Workers:
    """Memory and threads of the workers, in bytes.

    ``budgets`` and ``comforts`` hold, per worker, what it can still take before Dask pauses it
    (``pause`` fraction of its limit) and before it starts spilling to disk (``target``),
    minus what its process already uses besides Dask's own data. ``inf`` for workers without a
    memory limit.
    """

    nthreads: tuple[int, ...]
    budgets: tuple[float, ...]
    comforts: tuple[float, ...]

    @property
    def total_threads(self) -> int:
        return sum(self.nthreads)


def workers(client: Any) -> Workers:
    """What the scheduler knows of the workers' threads and memory now."""
    import dask

    pause = dask.config.get("distributed.worker.memory.pause") or 1.0
    target = dask.config.get("distributed.worker.memory.target") or pause
    info = client.scheduler_info(n_workers=-1)["workers"]
    if not info:
        raise RuntimeError("the Dask cluster has no workers; start some before fitting")
    nthreads, budgets, comforts = [], [], []
    for worker in info.values():
        limit = worker.get("memory_limit") or 0
        metrics = worker.get("metrics", {})
        # A worker in a process of its own (it has a nanny) already holds the interpreter, the
        # libraries and compiled kernels: that memory counts against its limit. Workers inside
        # the client's process (processes=False) share that process; its size says nothing.
        used = 0.0
        if worker.get("nanny"):
            used = max(0.0, metrics.get("memory", 0) - metrics.get("managed_bytes", 0))
        nthreads.append(int(worker.get("nthreads", 1)))
        budgets.append(pause * limit - used if limit else math.inf)
        comforts.append(target * limit - used if limit else math.inf)
    return Workers(tuple(nthreads), tuple(budgets), tuple(comforts))


@dataclass(frozen=True)
class MemoryPlan:
    """Outcome of :func:`plan_memory`: keep the blocks in the workers' memory, or re-read them."""

    persist: bool
    task_bytes: float
    state_bytes: float
    data_bytes: float


def plan_memory(
    pool: Workers,
    *,
    lengths: Any,
    row_bytes: float,
    state_row_bytes: float,
    what: str,
    alternative: str,
) -> MemoryPlan:
    """Check that a run fits in the workers' memory; decide whether the data can stay there.

    Parameters
    ----------
    pool : Workers
    lengths : sequence of int
        Rows of each block.
    row_bytes : float
        Bytes of one row of data as the tasks hold it.
    state_row_bytes : float
        Bytes per row of the state kept on the workers between passes (labels, bounds).
    what : str
        The run, for the message (``"KMeans.fit"``).
    alternative : str
        What uses less state per row, for the message.

    Returns
    -------
    MemoryPlan
        ``persist`` is true when the data, the state and the tasks all fit below the workers'
        spill threshold: the blocks are then read once and kept; otherwise every pass reads
        them again from their source.

    Raises
    ------
    MemoryError
        When one task's block does not fit in a worker (names the largest number of rows per
        block that does), or the state does not fit in all the workers together.
    """
    rows_max = max((int(n) for n in lengths), default=0)
    n_rows = sum(int(n) for n in lengths)
    # A task holds its input block twice at most (the source partition and its float copy),
    # the state of its rows twice (input and the new output) and the task's small results.
    per_row = 2.0 * row_bytes + 2.0 * state_row_bytes
    task_bytes = rows_max * per_row
    worst = min(b / t for b, t in zip(pool.budgets, pool.nthreads, strict=True))
    if task_bytes > worst:
        fit_rows = max(1, int(worst // per_row))
        raise MemoryError(
            f"{what}: a block of {rows_max:,} rows needs about {task_bytes / _MiB:,.0f} MiB per "
            f"task, but a worker thread can count on {max(worst, 0) / _MiB:,.0f} MiB (the "
            "worker's memory limit times Dask's pause fraction, less what its process uses, "
            f"shared by its threads); use blocks of at most {fit_rows:,} rows "
            "(X.rechunk({0: %d}) for a Dask array, df.repartition(npartitions=...) for a Dask "
            "DataFrame) or workers with more memory" % fit_rows
        )
    state_bytes = n_rows * state_row_bytes
    running = sum(n * task_bytes for n in pool.nthreads)
    if state_bytes + running > sum(pool.budgets):
        raise MemoryError(
            f"{what}: the state kept on the workers between passes ({state_bytes / _MiB:,.0f} "
            f"MiB for {n_rows:,} rows) and the running tasks ({running / _MiB:,.0f} MiB) do not "
            f"fit in the workers' memory ({sum(pool.budgets) / _MiB:,.0f} MiB before Dask pauses "
            f"them); {alternative}, or add workers"
        )
    data_bytes = n_rows * row_bytes
    persist = data_bytes + state_bytes + running <= sum(pool.comforts)
    if not persist:
        logger.info(
            "%s: the data (%.0f MiB) does not fit in the workers' memory next to the state; "
            "every pass reads it again from its source",
            what,
            data_bytes / _MiB,
        )
    return MemoryPlan(persist, task_bytes, state_bytes, data_bytes)
