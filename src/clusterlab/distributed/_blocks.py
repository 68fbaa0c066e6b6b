"""Submitting one task per row block and collecting small results, in block order."""

from __future__ import annotations

import operator
from typing import Any

__all__ = ["collect", "per_block"]


def per_block(client: Any, func: Any, columns: list[list], *shared: Any) -> list:
    """Futures of ``func(columns[0][i], columns[1][i], ..., *shared)`` for every block ``i``.

    ``columns`` hold per-block graph references (Futures, Delayed) or plain values. Keys are
    unique per call (``pure=False``): a pass depends on its inputs, never on a cache. When every
    per-block input is a Future the tasks are submitted directly (no graph to build).
    """
    from dask import delayed
    from dask.delayed import Delayed

    rows = list(zip(*columns, strict=True))
    if not any(isinstance(v, Delayed) for row in rows for v in row):
        return [client.submit(func, *row, *shared, pure=False) for row in rows]
    return client.compute([delayed(func, pure=False)(*row, *shared) for row in rows])


def collect(client: Any, futures: list, index: int | None = None) -> list:
    """Gather the results of ``futures`` (element ``index`` of each, when given) in order.

    Taking an element runs a tiny task on the worker that holds the result, so only that
    element crosses the network (a fit's per-block state never does).
    """
    if index is not None:
        futures = [client.submit(operator.itemgetter(index), f) for f in futures]
    return client.gather(futures)
