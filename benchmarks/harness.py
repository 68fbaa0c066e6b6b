"""Timing and peak-memory measurement shared by every benchmark, and the table they print.

Peak memory is the process's resident-set high-water mark (Linux ``VmHWM``), reset before each
run through ``/proc/self/clear_refs``, minus the resident size at the start of the run: it counts
every allocation (numpy, numba's runtime, BLAS buffers), which ``tracemalloc`` would not.
"""

from __future__ import annotations

import gc
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Run", "Table", "fix_allocator", "machine_line", "measure"]


def fix_allocator() -> None:
    """Make glibc return freed large arrays to the system at once (threshold 128 KiB).

    Without it glibc raises its mmap threshold after the first large free and keeps later
    arrays on the heap, so a second run in the same process reuses resident pages and its peak
    looks smaller than it is. Called once by ``benchmarks.run`` before any measurement.
    """
    import contextlib
    import ctypes

    m_mmap_threshold = -3
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to fix
        ctypes.CDLL("libc.so.6").mallopt(m_mmap_threshold, 128 * 1024)


def _status_mb(key: str) -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


@dataclass
class Run:
    """One measured call: wall seconds (best of ``repeat``), extra peak MiB, and its result."""

    seconds: float
    peak_mb: float | None
    result: Any = field(repr=False)


def measure(fn: Callable[[], Any], *, repeat: int = 1, warmup: bool = False) -> Run:
    """Call ``fn`` and return its best wall time over ``repeat`` calls and its extra peak memory.

    ``warmup=True`` makes one untimed call first (to keep JIT compilation out of the figure when
    that is what the benchmark compares; first-call cost is measured separately).
    """
    if warmup:
        fn()
    best = float("inf")
    peak = None
    result = None
    for _ in range(repeat):
        result = None
        gc.collect()
        base = _status_mb("VmRSS:")
        can_peak = _reset_peak()
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
        high = _status_mb("VmHWM:")
        if can_peak and base is not None and high is not None:
            extra = max(0.0, high - base)
            peak = extra if peak is None else max(peak, extra)
        best = min(best, elapsed)
    return Run(best, peak, result)


def machine_line() -> str:
    """One line naming the machine, for the benchmark tables' headers."""
    import numpy as np

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{time.strftime('%Y-%m-%d')} | {cpu} | {os.cpu_count()} cores | "
        f"Python {platform.python_version()} | numpy {np.__version__}"
    )


class Table:
    """Rows of named columns, printed as aligned text or as Markdown."""

    def __init__(self, title: str, columns: list[str]) -> None:
        self.title = title
        self.columns = columns
        self.rows: list[list[str]] = []

    def add(self, *values: Any) -> None:
        if len(values) != len(self.columns):
            raise ValueError(f"row has {len(values)} values for {len(self.columns)} columns")
        self.rows.append([_cell(v) for v in values])

    def text(self) -> str:
        widths = [
            max(len(c), *(len(r[i]) for r in self.rows)) if self.rows else len(c)
            for i, c in enumerate(self.columns)
        ]
        lines = [
            self.title,
            "  ".join(c.rjust(w) for c, w in zip(self.columns, widths, strict=True)),
        ]
        lines += [
            "  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) for row in self.rows
        ]
        return "\n".join(lines)

    def markdown(self) -> str:
        lines = [
            "| " + " | ".join(self.columns) + " |",
            "|" + "|".join("---" for _ in self.columns) + "|",
        ]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
            return f"{value:.6g}"
        return f"{value:.3f}" if abs(value) < 100 else f"{value:.1f}"
    return str(value)
