"""Package-wide settings: the numba cache switch, thread counts and the memory budget.

Nothing here imports numba or compiles anything: importing clusterlab stays cheap. Kernels read
``CACHE`` when they are decorated (``@njit(cache=CACHE)``); estimators wrap their work in
:func:`threads` so that ``n_jobs`` is honoured and the previous setting restored afterwards.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

__all__ = [
    "CACHE",
    "check_memory",
    "config_context",
    "effective_n_jobs",
    "get_config",
    "set_config",
    "threads",
]


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if value.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"environment variable {name} must be one of 0/1/true/false; got {value!r}")


#: Whether numba kernels are cached on disk (``CLUSTERLAB_NUMBA_CACHE=0`` turns it off). Read once,
#: at import, because numba decides caching when a kernel is decorated.
CACHE: bool = _env_flag("CLUSTERLAB_NUMBA_CACHE", True)


def _total_memory_mb() -> float:
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        page_size = os.sysconf("SC_PAGE_SIZE")
        return pages * page_size / 2**20
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8192.0


_CONFIG: dict[str, Any] = {
    # Size of one block of temporary work (distance chunks and the like), in MiB.
    "working_memory": float(os.environ.get("CLUSTERLAB_WORKING_MEMORY", "256")),
    # Largest single allocation an O(n^2) algorithm may make before it refuses, in MiB.
    "memory_budget": float(
        os.environ.get("CLUSTERLAB_MEMORY_BUDGET", str(round(0.5 * _total_memory_mb())))
    ),
}


def get_config() -> dict[str, Any]:
    """Return a copy of the current settings.

    Returns
    -------
    dict
        ``working_memory`` (MiB for one block of temporary work) and ``memory_budget`` (MiB that
        an O(n^2) algorithm may allocate before it refuses and names a cheaper alternative).
    """
    return dict(_CONFIG)


def set_config(*, working_memory: float | None = None, memory_budget: float | None = None) -> None:
    """Change the package-wide settings; ``None`` leaves a setting as it is.

    Examples
    --------
    >>> from clusterlab import set_config, get_config
    >>> old = get_config()["memory_budget"]
    >>> set_config(memory_budget=2048)
    >>> get_config()["memory_budget"]
    2048.0
    >>> set_config(memory_budget=old)
    """
    for name, value in (("working_memory", working_memory), ("memory_budget", memory_budget)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ValueError(f"{name} must be a positive number of MiB; got {value!r}")
        _CONFIG[name] = float(value)


@contextlib.contextmanager
def config_context(**settings: float) -> Iterator[None]:
    """Temporarily change settings (see :func:`set_config`) inside a ``with`` block."""
    old = get_config()
    set_config(**settings)
    try:
        yield
    finally:
        _CONFIG.update(old)


def check_memory(n_bytes: float, *, what: str, alternative: str) -> None:
    """Refuse an allocation larger than the memory budget before it is made.

    Parameters
    ----------
    n_bytes : float
        Size of the planned allocation.
    what : str
        What would be allocated, e.g. ``"the 200000 x 200000 affinity matrix"``.
    alternative : str
        The cheaper way to get the result, named in the error.

    Raises
    ------
    MemoryError
        When ``n_bytes`` exceeds ``get_config()["memory_budget"]``.
    """
    budget_mb = _CONFIG["memory_budget"]
    need_mb = n_bytes / 2**20
    if need_mb > budget_mb:
        raise MemoryError(
            f"{what} needs {need_mb:,.0f} MiB, over the memory budget of {budget_mb:,.0f} MiB; "
            f"{alternative} (or raise the budget with clusterlab.set_config(memory_budget=...))"
        )


def effective_n_jobs(n_jobs: int | None) -> int:
    """Number of threads for ``n_jobs``: ``None`` or ``-1`` means every core; ``-2`` all but one.

    Raises
    ------
    ValueError
        For ``n_jobs == 0`` or a value that is not an int.
    """
    n_cpus = os.cpu_count() or 1
    if n_jobs is None:
        return n_cpus
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int):
        raise ValueError(f"n_jobs must be None or a non-zero int; got {n_jobs!r}")
    if n_jobs == 0:
        raise ValueError("n_jobs must be None or a non-zero int; got 0")
    if n_jobs < 0:
        return max(1, n_cpus + 1 + n_jobs)
    return n_jobs


_BLAS_CONTROLLER: list[Any] = []


def _blas_controller() -> Any:
    """One threadpoolctl controller per process: building one scans the loaded libraries (~10 ms),
    too slow to repeat on every fit of a small model."""
    if not _BLAS_CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _BLAS_CONTROLLER.append(ThreadpoolController())
    return _BLAS_CONTROLLER[0]


@contextlib.contextmanager
def threads(n_jobs: int | None) -> Iterator[int]:
    """Run numba kernels and BLAS with ``n_jobs`` threads, restoring the previous counts after.

    Parameters
    ----------
    n_jobs : int or None
        As in scikit-learn: ``None`` keeps numba's current count, ``-1`` uses every core,
        a positive int is capped at numba's thread pool size.

    Yields
    ------
    int
        The number of threads in effect inside the block.
    """
    import numba

    previous = numba.get_num_threads()
    if n_jobs is None:
        n_threads = previous
    else:
        n_threads = min(effective_n_jobs(n_jobs), numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(n_threads)
    try:
        with _blas_controller().limit(limits=n_threads, user_api="blas"):
            yield n_threads
    finally:
        numba.set_num_threads(previous)
