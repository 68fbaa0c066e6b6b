"""Serial twins of parallel kernels: the same code compiled without ``parallel=True``.

Compiling a ``parallel=True`` kernel costs about three times as much as compiling the same code
without it (CPU seconds, numba 0.68: ``lloyd_step`` 3.4 vs 1.3, ``assign_labels`` 2.0 vs 0.7,
``inertia`` 1.2 vs 0.5, k-means++'s candidate potentials 1.7 vs 0.4), and small data, run on one
thread, gains little from it. Small problems run on one thread (the estimators decide, see
``_SMALL_WORK`` in :mod:`clusterlab.cluster.kmeans`), so they call the serial twin and never
compile the parallel kernel: a first fit on small data compiles a fraction of what it did. Large
data keeps the parallel kernel even on one thread (see :data:`SERIAL_MAX_VALUES`). The numbers do
not change: these kernels reduce over fixed blocks of rows, so their results never depend on the
thread count, and one thread without numba's thread pool is one more thread count.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

import numba
from numba import njit

from clusterlab._config import CACHE

__all__ = ["SERIAL_MAX_VALUES", "by_threads", "serial_twin"]

#: Largest data (``X.size``) the serial twin runs. The twin computes the same numbers but runs
#: 10-40% slower than the parallel kernel on one thread (measured on ``lloyd_step``, 20,000 x 6
#: to 200,000 x 4 rows, k = 8: LLVM optimises the outlined parallel loop body better); below
#: this size a step takes well under a millisecond, so the compile time saved wins.
SERIAL_MAX_VALUES = 2**17


def serial_twin(kernel: Any, **callees: Any) -> Any:
    """``kernel`` compiled without ``parallel=True`` (``prange`` runs as ``range``).

    The twin is a new function object, named as the kernel with ``_parallel`` replaced by
    ``_serial``, so it has its own entry in the disk cache (numba keys cache files by the
    function's qualified name). Bind it to that name at module level. ``callees`` replaces
    global names the kernel calls, e.g. a parallel helper by its own serial twin. It decorates,
    it does not compile.
    """
    fn = kernel.py_func
    namespace = {**fn.__globals__, **callees} if callees else fn.__globals__
    name = f"{fn.__name__.removesuffix('_parallel')}_serial"
    twin = types.FunctionType(fn.__code__, namespace, name, fn.__defaults__, fn.__closure__)
    twin.__qualname__ = name
    twin.__module__ = fn.__module__
    twin.__doc__ = fn.__doc__
    return njit(cache=CACHE)(twin)


def by_threads(parallel: Any, serial: Any) -> Callable[..., Any]:
    """A Python function calling ``serial`` on small data (the first argument, ``X``, has at
    most :data:`SERIAL_MAX_VALUES` values) when numba runs one thread, else ``parallel``."""

    @functools.wraps(parallel.py_func)
    def call(X: Any, *args: Any) -> Any:
        if X.size <= SERIAL_MAX_VALUES and numba.get_num_threads() == 1:
            return serial(X, *args)
        return parallel(X, *args)

    return call
