"""What every task running on a Dask worker shares: block conversion and the thread settings.

Tasks are pure functions (inputs are never modified, outputs are new objects), so the scheduler
can run any of them again from its inputs when a worker is lost, and an in-process cluster
(``processes=False``) can share arrays between tasks safely. The one exception is the k-means
iteration's per-block state, which each iteration's task takes over from the previous one
(:mod:`clusterlab.distributed._lloyd` says why that stays safe).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["as_block", "as_weights", "checked_weights", "kernel_threads"]


def as_block(part: Any, dtype: Any) -> np.ndarray:
    """One row block (a numpy chunk or a pandas partition) as a C-contiguous 2-D array."""
    if hasattr(part, "to_numpy"):
        part = part.to_numpy(dtype=dtype)
    block = np.ascontiguousarray(part, dtype=dtype)
    if block.ndim != 2:
        raise ValueError(f"X must be 2-D; a block has shape {block.shape}")
    return block


def as_weights(part: Any, n_rows: int, dtype: Any) -> np.ndarray:
    """The sample weights of one row block (ones when there are none)."""
    if part is None:
        return np.ones(n_rows, dtype=dtype)
    if hasattr(part, "to_numpy"):
        part = part.to_numpy()
    weights = np.ascontiguousarray(part, dtype=dtype).reshape(-1)
    if weights.shape[0] != n_rows:
        raise ValueError(
            f"sample_weight must have one weight per row of X; a block of {n_rows} rows got "
            f"{weights.shape[0]} weights (give sample_weight the row chunks of X)"
        )
    return weights


def checked_weights(part: Any, n_rows: int) -> np.ndarray:
    """:func:`as_weights` in float64, refused unless finite and non-negative (for the fits that
    read the weights in their own passes rather than in :func:`~._data.data_stats`)."""
    weights = as_weights(part, n_rows, np.float64)
    if not np.all(np.isfinite(weights)):
        raise ValueError("sample_weight must be finite; a block has NaN or infinite weights")
    if weights.size and weights.min() < 0:
        raise ValueError(f"sample_weight must be non-negative; got a minimum of {weights.min()!r}")
    return weights


_LOCK = threading.Lock()
_BLAS: dict[str, Any] = {"depth": 0, "limiter": None, "serial": None}
_SERIAL = threading.Lock()
_LAYER: list[str] = []


def _threading_layer() -> str:
    """numba's threading layer in this process (starting its thread pool if needed)."""
    if not _LAYER:
        import numba
        from numba.np.ufunc import parallel

        parallel._launch_threads()
        _LAYER.append(numba.threading_layer())
    return _LAYER[0]


@contextlib.contextmanager
def kernel_threads(n_threads: int | None) -> Iterator[None]:
    """Run numba kernels of one task on ``n_threads`` threads with serial BLAS.

    ``n_threads`` is an estimator's ``n_jobs``: ``None`` means one thread (Dask already runs one
    task per worker thread, so a task uses one core unless told otherwise), ``-1`` every core
    of the worker's machine. numba's
    thread count is per calling thread (restored after); BLAS's is per process, so it is set to
    one while any task of this process runs and restored when the last one ends (the kernels
    call BLAS from inside their own parallel loops). numba's fallback 'workqueue' layer cannot
    be entered by two threads at once: under it, the kernels of concurrent tasks take turns.
    """
    import numba

    from clusterlab._config import _blas_controller, effective_n_jobs

    wanted = 1 if n_threads is None else effective_n_jobs(n_threads)
    previous = numba.get_num_threads()
    numba.set_num_threads(min(wanted, numba.config.NUMBA_NUM_THREADS))
    with _LOCK:
        if _BLAS["serial"] is None:
            # Worker processes started by a nanny get one BLAS thread from Dask itself: then
            # there is nothing to limit (threadpoolctl's limit and restore cost ~5% of a task).
            info = _blas_controller().select(user_api="blas").info()
            _BLAS["serial"] = all(lib["num_threads"] == 1 for lib in info)
        if _BLAS["depth"] == 0 and not _BLAS["serial"]:
            _BLAS["limiter"] = _blas_controller().limit(limits=1, user_api="blas")
        _BLAS["depth"] += 1
    serial = _SERIAL if _threading_layer() == "workqueue" else contextlib.nullcontext()
    try:
        with serial:
            yield
    finally:
        with _LOCK:
            _BLAS["depth"] -= 1
            if _BLAS["depth"] == 0 and _BLAS["limiter"] is not None:
                _BLAS["limiter"].restore_original_limits()
                _BLAS["limiter"] = None
        numba.set_num_threads(previous)
