"""Where the per-block passes of an iterative fit run: as Dask tasks, or in resident actors.

Both executors run the same task functions, ``func(prev, block, weights, dtype, *shared,
n_threads)``, which take a block's state from the previous pass (``None`` at first) and return
``(state, partial)``; the client sees only the small partials, in block order, so a fit gives
the same numbers on either.

- :class:`TaskBlocks` submits one task per block and pass. The state is a Future the next
  pass's task takes: when a worker dies, the scheduler recomputes it from its lineage. It works
  on any blocks, including blocks read again every pass.
- :class:`ResidentBlocks` starts one actor per worker on the blocks that worker holds, and each
  pass is one direct call per actor, with no scheduler in between. Dask's overhead per pass
  (graph, scheduler transitions, a gather) was about half of DK1's time, about 30 ms a pass
  against 3 ms for actor calls (2 workers, loaded machine). It needs the blocks persisted, and
  an actor does not survive its worker: the caller reruns the fit on :class:`TaskBlocks` then.
"""

from __future__ import annotations

from typing import Any

from clusterlab.distributed._blocks import collect, per_block

__all__ = ["BlockRunner", "ResidentBlocks", "TaskBlocks"]


class TaskBlocks:
    """Per-block passes as Dask tasks; the blocks' states are Futures kept on the workers."""

    def __init__(self, client: Any, data: Any, n_threads: int | None) -> None:
        self.client = client
        self.data = data
        self.n_threads = n_threads
        self.results = [None] * data.n_blocks
        self.weights = data.weights or [None] * data.n_blocks

    def step(self, func: Any, *shared: Any) -> list:
        """One pass updating the states; the partials, in block order."""
        columns = [self.results, self.data.blocks, self.weights]
        results, elements = per_block(
            self.client, func, columns, self.data.dtype, *shared, self.n_threads, take=1
        )
        partials = self.client.gather(elements)
        self.results = results
        return partials

    def map(self, func: Any, *shared: Any) -> list:
        """``func`` on every block and its current state; the results, in block order."""
        columns = [self.results, self.data.blocks, self.weights]
        futures = per_block(self.client, func, columns, self.data.dtype, *shared, self.n_threads)
        return collect(self.client, futures)

    def close(self) -> None:
        self.results = [None] * self.data.n_blocks


class BlockRunner:
    """Actor: the blocks one worker holds, and their states between passes."""

    def __init__(self, blocks: list, weights: list, dtype: Any, n_threads: int | None) -> None:
        from clusterlab.distributed._tasks import as_weights

        self.blocks = blocks
        # unit weights made once, not by every pass (np.ones of a block's rows each pass
        # was 6% of a worker's time on DK1)
        self.weights = [as_weights(w, len(b), dtype) for b, w in zip(blocks, weights, strict=True)]
        self.dtype = dtype
        self.n_threads = n_threads
        self.prev = [None] * len(blocks)

    def step(self, func: Any, *shared: Any) -> list:
        for i, (block, w) in enumerate(zip(self.blocks, self.weights, strict=True)):
            self.prev[i] = func(self.prev[i], block, w, self.dtype, *shared, self.n_threads)
        return [p[1] for p in self.prev]

    def map(self, func: Any, *shared: Any) -> list:
        return [
            func(p, block, w, self.dtype, *shared, self.n_threads)
            for p, block, w in zip(self.prev, self.blocks, self.weights, strict=True)
        ]


class ResidentBlocks:
    """Per-block passes as calls to one :class:`BlockRunner` actor per worker holding blocks.

    ``data.blocks`` must be Futures (persisted blocks); each actor takes the blocks its worker
    holds, so nothing moves between workers.
    """

    def __init__(self, client: Any, data: Any, n_threads: int | None) -> None:
        from distributed import wait

        wait(data.blocks)
        weights = data.weights or [None] * data.n_blocks
        holders = client.who_has(data.blocks)
        groups: dict[str, list[int]] = {}
        for i, block in enumerate(data.blocks):
            groups.setdefault(sorted(holders[block.key])[0], []).append(i)
        self.order = [i for rows in groups.values() for i in rows]
        self.n_blocks = data.n_blocks
        self.futures = [
            client.submit(
                BlockRunner,
                [data.blocks[i] for i in rows],
                [weights[i] for i in rows],
                data.dtype,
                n_threads,
                actor=True,
                workers=[address],
                allow_other_workers=False,
                pure=False,
            )
            for address, rows in groups.items()
        ]
        self.actors = [f.result() for f in self.futures]

    def _in_block_order(self, per_actor: list) -> list:
        out = [None] * self.n_blocks
        flat = [r for results in per_actor for r in results]
        for i, r in zip(self.order, flat, strict=True):
            out[i] = r
        return out

    def step(self, func: Any, *shared: Any) -> list:
        calls = [actor.step(func, *shared) for actor in self.actors]
        return self._in_block_order([call.result() for call in calls])

    def map(self, func: Any, *shared: Any) -> list:
        calls = [actor.map(func, *shared) for actor in self.actors]
        return self._in_block_order([call.result() for call in calls])

    def close(self) -> None:
        """Release the actors (and with them the blocks' states)."""
        self.actors = []
        for future in self.futures:
            future.release()
        self.futures = []
