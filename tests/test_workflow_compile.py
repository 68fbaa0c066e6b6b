"""The workflow's fit times leave numba's compilation out, and the first compilation of a process
is announced once (workflow.fitting.fit_clock on clusterlab._config.watch_compilation)."""

from __future__ import annotations

import contextlib
import logging
import time

import numpy as np
import pandas as pd
import pytest

from clusterlab import Experiment
from clusterlab._config import CompileWatch
from clusterlab.workflow import fitting


@pytest.fixture(scope="module")
def exp():
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(60, 3)), columns=list("abc"))
    return Experiment(frame, session_id=0, verbose=False)


@pytest.fixture
def fresh_process(monkeypatch):
    """As if no kernel had compiled in this process yet."""
    monkeypatch.setattr(fitting, "_announced", [])


@pytest.fixture
def everything_compiles(monkeypatch):
    """A watch_compilation that says the whole block was compilation, starting at once."""

    @contextlib.contextmanager
    def watch(on_first_compile=None):
        if on_first_compile is not None:
            on_first_compile()
        yield CompileWatch(seconds=1e9, n_compiled=1)

    monkeypatch.setattr(fitting, "watch_compilation", watch)


def test_fit_clock_leaves_compilation_out_and_announces_once(fresh_process):
    import numba

    @numba.njit(cache=False)
    def double(x):
        return x * 2.0

    @numba.njit(cache=False)
    def triple(x):
        return x * 3.0

    notices = []
    with fitting.fit_clock(notices.append) as first:
        start = time.perf_counter()
        double(1.0)  # milliseconds of compilation, microseconds of work
        wall, clocked = time.perf_counter() - start, first()
    with fitting.fit_clock(notices.append) as second:
        triple(1.0)  # compiles too, but the notice was shown already
    with fitting.fit_clock(notices.append) as third:
        double(2.0)  # compiled: nothing to leave out
    assert notices == [fitting.COMPILE_NOTICE]
    assert clocked < wall  # the compilation is left out
    assert second() >= 0.0 and third() >= 0.0


def test_time_column_leaves_compilation_out(exp, everything_compiles):
    exp.create_model("kmeans", num_clusters=2, verbose=False)
    assert exp.pull().iloc[0]["Time (s)"] == 0.0
    exp.compare_models(include=["kmeans"], verbose=False)
    assert exp.pull().loc["kmeans", "Time (s)"] == 0.0


def test_notice_goes_to_the_compile_logger_once(exp, everything_compiles, fresh_process, caplog):
    with caplog.at_level(logging.INFO, logger="clusterlab"):
        exp.create_model("kmeans", num_clusters=2, verbose=False)
        exp.create_model("kmeans", num_clusters=3, verbose=False)
    said = [r for r in caplog.records if r.getMessage() == fitting.COMPILE_NOTICE]
    assert [r.name for r in said] == [fitting.compile_logger.name]
