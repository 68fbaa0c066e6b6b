"""First-run helpers: which kernels still compile (uncached_kernels), how long compiling took
(watch_compilation)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numba import njit

import clusterlab
from clusterlab._config import CompileWatch, uncached_kernels, watch_compilation

SRC = str(Path(clusterlab.__file__).parents[1])


def _fresh_kernel():
    """A kernel no test has compiled yet (a new dispatcher each call; never cached on disk)."""

    @njit(cache=False)
    def inner(x):
        return x * 2.0

    @njit(cache=False)
    def outer(x):
        return inner(x) + 1.0

    return outer


def test_watch_counts_compilation_and_calls_back_once():
    kernel = _fresh_kernel()
    calls = []
    with watch_compilation(lambda: calls.append(1)) as watch:
        assert kernel(1.0) == 3.0  # compiles outer, and inner inside it
        assert kernel(2.0) == 5.0  # same types: no compile
        kernel(np.int64(3))  # new types: compiles again, no second call back
    assert calls == [1]
    assert watch.compiled
    assert watch.n_compiled == 4  # outer and inner, for float64 and for int64
    assert watch.seconds > 0.0


def test_watch_counts_nested_compiles_once_in_seconds():
    kernel = _fresh_kernel()
    with watch_compilation() as outer_watch, watch_compilation() as inner_watch:
        kernel(1.0)
    # both see the same compile; the nested one (inner) is inside outer's time, not added twice
    assert inner_watch.n_compiled == outer_watch.n_compiled == 2
    assert inner_watch.seconds == pytest.approx(outer_watch.seconds, rel=0.01)


def test_watch_sees_nothing_when_nothing_compiles():
    kernel = _fresh_kernel()
    kernel(1.0)
    calls = []
    with watch_compilation(lambda: calls.append(1)) as watch:
        kernel(4.0)
    assert calls == []
    assert watch == CompileWatch(seconds=0.0, n_compiled=0)
    assert not watch.compiled


def test_watch_stops_listening_after_the_block():
    with watch_compilation() as watch:
        pass
    _fresh_kernel()(1.0)
    assert watch.n_compiled == 0


def test_kernels_compiled_in_this_process_are_not_uncached():
    from clusterlab.kernels.lloyd import center_shift

    center_shift(np.zeros((2, 3)), np.ones((2, 3)))
    missing = uncached_kernels()
    assert "lloyd.center_shift" not in missing
    # inlined helpers never compile on their own, so they are never listed
    assert "center_distances.sq_dist_block" not in missing


def _run(code: str, cache_dir: Path) -> str:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir), "PYTHONPATH": SRC}
    env.pop("CLUSTERLAB_NUMBA_CACHE", None)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return result.stdout


def test_uncached_kernels_reads_the_disk_cache(tmp_path):
    listing = "from clusterlab import uncached_kernels; print(' '.join(uncached_kernels()))"
    first = _run(listing, tmp_path).split()
    # an empty cache: every kernel is listed, as module.function
    assert {
        "lloyd.center_shift",
        "lloyd._lloyd_step_serial",
        "seeding._kmeans_plusplus_serial",
    } <= set(first)
    assert all(name.count(".") == 1 for name in first)
    compile_one = (
        "import numpy as np; from clusterlab.kernels.lloyd import center_shift; "
        "center_shift(np.zeros((2, 3)), np.ones((2, 3)))"
    )
    _run(compile_one, tmp_path)
    # a new process finds it in the cache written by the previous one
    second = _run(listing, tmp_path).split()
    assert set(second) == set(first) - {"lloyd.center_shift"}


def test_no_kernel_listed_when_caching_is_off(tmp_path):
    code = "from clusterlab import uncached_kernels; print(len(uncached_kernels()))"
    env = {**os.environ, "CLUSTERLAB_NUMBA_CACHE": "0", "PYTHONPATH": SRC}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "0"
