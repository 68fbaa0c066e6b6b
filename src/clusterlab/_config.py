"""Package-wide settings: the numba cache switch, thread counts and the memory budget; and what
the first run compiles (:func:`uncached_kernels`, :func:`watch_compilation`).

Nothing here imports numba or compiles anything: importing clusterlab stays cheap. Kernels read
``CACHE`` when they are decorated (``@njit(cache=CACHE)``); estimators wrap their work in
:func:`threads` so that ``n_jobs`` is honoured and the previous setting restored afterwards.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import pkgutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CACHE",
    "check_memory",
    "config_context",
    "effective_n_jobs",
    "get_config",
    "set_config",
    "threads",
    "uncached_kernels",
    "watch_compilation",
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


# -- first run: which kernels still compile, and how long compiling took ------------------------


def uncached_kernels() -> list[str]:
    """Kernels that have no compiled version in numba's on-disk cache yet.

    On the first run after installing (or upgrading) clusterlab every kernel is listed: each one
    compiles when first called (a few seconds for the larger ones) and is cached, so later runs
    load it in milliseconds. Callers use this to say so before the work starts; the list names
    kernels as ``"module.function"`` (e.g. ``"lloyd.assign_labels"``), so a caller can ask about
    the kernels one model uses by their module. A kernel the runs so far did not need stays
    listed (e.g. the parallel variant of a kernel whose serial twin small data runs, see
    :mod:`clusterlab.kernels.variants`): to tell the user exactly when compiling happens, use
    :func:`watch_compilation`'s ``on_first_compile``. It imports the kernel modules (and numba),
    which compiles nothing, and reads only the cache's small index files.

    Returns
    -------
    list of str
        Empty when every kernel is cached, or when caching is off (``CLUSTERLAB_NUMBA_CACHE=0``:
        then nothing is ever cached and every process compiles what it calls).

    Examples
    --------
    >>> from clusterlab import uncached_kernels
    >>> missing = uncached_kernels()
    >>> all(name.count(".") == 1 for name in missing)
    True
    """
    if not CACHE:
        return []
    return [name for name, dispatcher in _kernel_dispatchers() if not _is_cached(dispatcher)]


def _kernel_dispatchers() -> Iterator[tuple[str, Any]]:
    """Every numba dispatcher defined in ``clusterlab.kernels``, inlined helpers excepted (numba
    copies those into their callers, so they never compile or cache on their own)."""
    from numba.core.dispatcher import Dispatcher

    import clusterlab.kernels as package

    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, Dispatcher)
                and value.py_func.__module__ == module.__name__
                and value.targetoptions.get("inline", "never") == "never"
            ):
                yield f"{info.name}.{value.py_func.__name__}", value


def _is_cached(dispatcher: Any) -> bool:
    """Whether the dispatcher has a compiled version in memory or in its on-disk cache index
    (an index written for an older source of the kernel counts as empty, as numba reads it)."""
    if dispatcher.overloads:
        return True
    try:
        return bool(dispatcher._cache._cache_file._load_index())
    except (AttributeError, OSError, EOFError, ValueError):  # numba internals moved: say "no"
        return False


@dataclass
class CompileWatch:
    """What :func:`watch_compilation` saw inside its block.

    Attributes
    ----------
    seconds : float
        Wall seconds spent compiling kernels (loading a cached kernel is not counted: it takes
        milliseconds). Subtract it from the block's wall time to get the time of the work alone.
    n_compiled : int
        Number of kernel versions compiled (a kernel compiles once per argument types).
    """

    seconds: float = 0.0
    n_compiled: int = 0

    @property
    def compiled(self) -> bool:
        """Whether any kernel compiled inside the block."""
        return self.n_compiled > 0


@contextlib.contextmanager
def watch_compilation(
    on_first_compile: Callable[[], None] | None = None,
) -> Iterator[CompileWatch]:
    """Measure the numba compilation that happens inside a ``with`` block.

    Parameters
    ----------
    on_first_compile : callable, optional
        Called with no argument when the first kernel starts compiling inside the block (never,
        when every kernel the block calls is cached): the place to tell the user, once, that
        kernels are compiling and that only the first run does this.

    Yields
    ------
    CompileWatch
        Filled in as kernels compile; read it after the block. Compilation in other threads
        during the block is counted too (numba compiles one kernel at a time, process-wide).

    Examples
    --------
    >>> import time
    >>> import numpy as np
    >>> from clusterlab import KMeans, watch_compilation
    >>> X = np.random.default_rng(0).normal(size=(200, 3))
    >>> with watch_compilation() as watch:
    ...     start = time.perf_counter()
    ...     model = KMeans(3, random_state=0).fit(X)
    ...     fit_seconds = time.perf_counter() - start - watch.seconds
    >>> watch.seconds >= 0.0 and fit_seconds >= 0.0
    True
    """
    from numba.core import event

    watch = CompileWatch()
    listener = _compile_listener()(watch, on_first_compile)
    event.register("numba:compile", listener)
    try:
        yield watch
    finally:
        event.unregister("numba:compile", listener)


@functools.cache
def _compile_listener() -> type:
    """The numba listener class (defined on first use: ``_config`` must not import numba)."""
    from numba.core.event import Listener

    class CompileListener(Listener):
        """numba compile events -> :class:`CompileWatch`, outermost compiles only (a kernel
        compiles the kernels it calls inside its own compile event)."""

        def __init__(self, watch: CompileWatch, on_first: Callable[[], None] | None) -> None:
            self.watch = watch
            self.on_first = on_first
            self.depth = 0
            self.start = 0.0

        def on_start(self, event: Any) -> None:
            if self.depth == 0:
                if self.watch.n_compiled == 0 and self.on_first is not None:
                    self.on_first()
                self.start = time.perf_counter()
            self.depth += 1
            self.watch.n_compiled += 1

        def on_end(self, event: Any) -> None:
            self.depth -= 1
            if self.depth == 0:
                self.watch.seconds += time.perf_counter() - self.start

    return CompileListener
