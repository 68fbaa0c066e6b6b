"""numba compilation during the workflow: measured apart from fit time, and announced once.

clusterlab's kernels are compiled for this machine on their first call and cached on disk, so a
process with an empty cache pays seconds of compilation inside its first fits. The workflow times
its fits without that cost (a leaderboard's ``Time (s)`` is then the model's own time) and, the
first time a compilation starts in a process, says so in one line, so that a long first run is
not mistaken for a slow model.

:class:`CompileWatch` listens to numba's events: ``"numba:compiler_lock"`` surrounds everything
numba does under its compiler lock (compiling, loading a compiled kernel from the disk cache,
setting up its code generator on first use), and the seconds between the start of an outermost
lock and its end are ``compile_seconds`` (nested locks count once); ``"numba:compile"``, which
numba sends only when it really compiles (a cache hit sends none), triggers the notice. It
watches only when numba is imported already: a model whose module does not import numba compiles
nothing.
"""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

__all__ = ["COMPILE_NOTICE", "CompileWatch"]

logger = logging.getLogger(__name__)

#: The one line shown when kernels start compiling in a process.
COMPILE_NOTICE = (
    "compiling clusterlab's numba kernels for this machine: a one-time cost of up to a minute "
    "or two; they are cached on disk, and the Time column leaves it out"
)
#: Sent by numba when it compiles (not when it loads a compiled kernel from the disk cache).
_COMPILE = "numba:compile"
#: Sent around everything numba does under its compiler lock: compiling, loading from the cache,
#: setting up its code generator on first use.
_LOCK = "numba:compiler_lock"
_announced: list[bool] = []  # the notice is shown once per process


@functools.cache
def _listener_class() -> type:
    """numba's Listener base, subclassed once numba is imported."""
    from numba.core.event import Listener

    class _Listener(Listener):
        def __init__(self, watch: CompileWatch) -> None:
            self._watch = watch

        def on_start(self, event: Any) -> None:
            if event.kind == _COMPILE:
                self._watch._compiling()
            else:
                self._watch._started()

        def on_end(self, event: Any) -> None:
            if event.kind == _LOCK:
                self._watch._ended()

    return _Listener


class CompileWatch:
    """Seconds numba spent compiling inside the ``with`` block; the notice on the first one.

    Parameters
    ----------
    announce : callable, optional
        Shows the notice (``announce(COMPILE_NOTICE)``); default: log it at INFO level on the
        ``clusterlab.workflow.compiling`` logger (the command line shows that logger's lines).

    Examples
    --------
    >>> with CompileWatch() as watch:
    ...     total = sum(range(10))
    >>> watch.compile_seconds
    0.0
    """

    def __init__(self, announce: Callable[[str], None] | None = None) -> None:
        self._announce = announce or logger.info
        self._depth = 0
        self._start = 0.0
        self.compile_seconds = 0.0
        self._listener: Any = None

    def __enter__(self) -> CompileWatch:
        if "numba" in sys.modules:
            from numba.core.event import register

            self._listener = _listener_class()(self)
            for kind in (_COMPILE, _LOCK):
                register(kind, self._listener)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._listener is not None:
            from numba.core.event import unregister

            for kind in (_COMPILE, _LOCK):
                unregister(kind, self._listener)
            self._listener = None

    def _compiling(self) -> None:
        if not _announced:
            _announced.append(True)
            self._announce(COMPILE_NOTICE)

    def _started(self) -> None:
        if self._depth == 0:
            self._start = time.perf_counter()
        self._depth += 1

    def _ended(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.compile_seconds += time.perf_counter() - self._start

    def fit_seconds(self, wall: float) -> float:
        """``wall`` seconds without the compilation (never below 0), rounded to milliseconds."""
        return round(max(wall - self.compile_seconds, 0.0), 3)
