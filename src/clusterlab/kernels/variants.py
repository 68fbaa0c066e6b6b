"""Twins of kernels: the same code compiled without ``parallel=True``, or with the metric fixed.

Serial twins
------------
Compiling a ``parallel=True`` kernel costs about three times as much as compiling the same code
without it (CPU seconds, numba 0.68: ``lloyd_step`` 3.4 vs 1.3, ``assign_labels`` 2.0 vs 0.7,
``inertia`` 1.2 vs 0.5, k-means++'s candidate potentials 1.7 vs 0.4), and small data, run on one
thread, gains little from it. Small problems run on one thread (the estimators decide, see
``_SMALL_WORK`` in :mod:`clusterlab.cluster.kmeans`), so they call the serial twin and never
compile the parallel kernel: a first fit on small data compiles a fraction of what it did. Large
data keeps the parallel kernel even on one thread (see :data:`SERIAL_MAX_VALUES`). The numbers do
not change: these kernels reduce over fixed blocks of rows, so their results never depend on the
thread count, and one thread without numba's thread pool is one more thread count.

Metric twins
------------
Kernels that walk a kd-tree take a Minkowski exponent ``p``; the per-coordinate metric tests of
the inlined distance code cost time unless ``p`` is a constant where the kernel compiles. Such a
kernel is written once, as a plain function that passes ``exponent(p)`` to its walks (inside the
``prange`` loop: the body of a parallel loop compiles apart, and takes the values set before the
loop as arguments), and :func:`metric_twins` compiles it into one kernel per metric:
``exponent`` returns 2.0 in the euclidean twin and 1.0 in the manhattan twin (the compiler then
drops the tests), ``p`` as given in the minkowski twin (chebyshev and any other ``p``). Each twin
compiles only when a problem of its metric and size first runs, so a euclidean user compiles one
copy of each walk, not one per metric as when the kernel branched on ``p`` inside: a first small
DBSCAN fit, predict and k-nearest query compiled for 71 s of CPU, now 17 s (measured, one
thread). The numbers are those of the branching kernel: the same arithmetic, the same constants.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

import numba
from numba import njit

from clusterlab._config import CACHE

__all__ = [
    "METRICS",
    "SERIAL_MAX_VALUES",
    "by_threads",
    "choose",
    "exponent",
    "metric_of",
    "metric_twins",
    "serial_twin",
]

#: Largest data (``X.size``) the serial twin runs. The twin computes the same numbers but runs
#: 10-40% slower than the parallel kernel on one thread (measured on ``lloyd_step``, 20,000 x 6
#: to 200,000 x 4 rows, k = 8: LLVM optimises the outlined parallel loop body better); below
#: this size a step takes well under a millisecond, so the compile time saved wins.
SERIAL_MAX_VALUES = 2**17

#: A family of metric twins: ``(metric, parallel)`` -> kernel (see :func:`metric_twins`).
Family = dict[tuple[str, bool], Any]


def _twin(fn: Callable[..., Any], name: str, *, parallel: bool, **names: Any) -> Any:
    """``fn``'s code as a new kernel called ``name``, reading ``names`` instead of the globals of
    that name. The new name gives it its own entry in the disk cache (numba keys cache files by
    the function's qualified name). It decorates, it does not compile."""
    namespace = {**fn.__globals__, **names} if names else fn.__globals__
    twin = types.FunctionType(fn.__code__, namespace, name, fn.__defaults__, fn.__closure__)
    twin.__qualname__ = name
    twin.__module__ = fn.__module__
    twin.__doc__ = fn.__doc__
    if parallel:
        return njit(cache=CACHE, parallel=True)(twin)
    return njit(cache=CACHE)(twin)


def serial_twin(kernel: Any, **callees: Any) -> Any:
    """``kernel`` compiled without ``parallel=True`` (``prange`` runs as ``range``).

    The twin is a new function object, named as the kernel with ``_parallel`` replaced by
    ``_serial``, so it has its own entry in the disk cache. Bind it to that name at module
    level. ``callees`` replaces global names the kernel calls, e.g. a parallel helper by its own
    serial twin. It decorates, it does not compile.
    """
    fn = kernel.py_func
    name = f"{fn.__name__.removesuffix('_parallel')}_serial"
    return _twin(fn, name, parallel=False, **callees)


def _small(size: int) -> bool:
    return size <= SERIAL_MAX_VALUES and numba.get_num_threads() == 1


def by_threads(parallel: Any, serial: Any) -> Callable[..., Any]:
    """A Python function calling ``serial`` on small data (the first argument, ``X``, has at
    most :data:`SERIAL_MAX_VALUES` values) when numba runs one thread, else ``parallel``."""

    @functools.wraps(parallel.py_func)
    def call(X: Any, *args: Any) -> Any:
        if _small(X.size):
            return serial(X, *args)
        return parallel(X, *args)

    return call


# -- metric twins ------------------------------------------------------------------------------


@njit(cache=CACHE, inline="always")
def exponent(p):
    """The Minkowski exponent a metric kernel runs with: ``p`` as given (the minkowski twin).

    Metric kernels call their walks with ``exponent(p)``; the euclidean and manhattan twins read
    a function returning the constant instead (see :func:`metric_twins`).
    """
    return p


@njit(cache=CACHE, inline="always")
def _euclidean(p):
    return 2.0


@njit(cache=CACHE, inline="always")
def _manhattan(p):
    return 1.0


#: Metric of the twins -> the ``exponent`` each one compiles with.
METRICS: dict[str, Any] = {"euclidean": _euclidean, "manhattan": _manhattan, "minkowski": exponent}


def metric_of(p: float) -> str:
    """The twin that runs exponent ``p``: ``'euclidean'``, ``'manhattan'`` or ``'minkowski'``."""
    if p == 2.0:
        return "euclidean"
    if p == 1.0:
        return "manhattan"
    return "minkowski"


def metric_twins(fn: Callable[..., Any], *, parallel: bool = True, **callees: Family) -> Family:
    """Kernels compiled from the plain function ``fn``, one per metric and way of running.

    Parameters
    ----------
    fn : function
        Written for numba (a kernel without its decorator) that passes ``exponent(p)`` where
        it needs the exponent, or passes ``p`` only to ``callees``.
    parallel : bool, default=True
        Whether ``fn`` has a ``prange`` loop: its parallel twins compile with ``parallel=True``,
        its serial twins without.
    **callees : Family
        Global names ``fn`` calls that are families themselves: each twin calls the callee's
        twin of the same metric and way of running.

    Returns
    -------
    Family
        ``(metric, parallel)`` -> kernel, for every metric of :data:`METRICS` and both values of
        ``parallel``; a kernel without ``prange`` whose callees run the same either way is one
        kernel under both keys. Each is named ``{fn}_{metric}[_parallel|_serial]`` and bound to
        that name in ``fn``'s module, where :func:`clusterlab.uncached_kernels` finds it. Nothing
        compiles here.
    """
    module = fn.__globals__
    family: Family = {}
    for metric, fixed in METRICS.items():
        split = parallel or any(f[metric, True] is not f[metric, False] for f in callees.values())
        for mode in (True, False) if split else (False,):
            names = {name: f[metric, mode] for name, f in callees.items()}
            suffix = ("_parallel" if mode else "_serial") if split else ""
            name = f"{fn.__name__}_{metric}{suffix}"
            twin = _twin(fn, name, parallel=parallel and mode, exponent=fixed, **names)
            module[name] = family[metric, mode] = twin
        if not split:
            family[metric, True] = family[metric, False]
    return family


def choose(family: Family, p: float, size: int) -> Any:
    """The twin of ``family`` for exponent ``p`` on data of ``size`` values: the serial one for
    small data on one thread (as :func:`by_threads`), else the parallel one."""
    return family[metric_of(p), not _small(size)]
