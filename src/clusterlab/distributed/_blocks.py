"""Submitting one task per row block and collecting small results, in block order."""

from __future__ import annotations

import operator
from typing import Any

__all__ = ["collect", "per_block"]


def per_block(client: Any, func: Any, columns: list[list], *shared: Any, take: int | None = None):
    """Futures of ``func(columns[0][i], columns[1][i], ..., *shared)`` for every block ``i``.

    ``columns`` hold per-block graph references (Futures, Delayed) or plain values. All the
    tasks go to the scheduler in one graph (one message, not one per task; measured 60 ms of
    client and scheduler time per k-means iteration with 16 separate submissions under load).
    Keys are unique per call: a pass depends on its inputs, never on a cache.

    With ``take``, element ``take`` of each result also gets its own small task in the same
    graph, run where the result is, and the call returns ``(results, elements)``: the client can
    gather the elements while the rest of each result (a fit's per-block state) stays on the
    workers.
    """
    from dask import delayed

    tasks = [delayed(func, pure=False)(*row, *shared) for row in zip(*columns, strict=True)]
    if take is None:
        return client.compute(tasks, optimize_graph=False)
    elements = [delayed(operator.getitem, pure=False)(t, take) for t in tasks]
    futures = client.compute(tasks + elements, optimize_graph=False)
    return futures[: len(tasks)], futures[len(tasks) :]


def collect(client: Any, futures: list) -> list:
    """Gather the (small) results of ``futures``, in block order."""
    return client.gather(futures)
