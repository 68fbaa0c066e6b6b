"""Kernel twins (serial builds, builds per metric): the same numbers as the kernel they copy."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from numba import prange

from clusterlab._config import threads
from clusterlab.kernels import lloyd, seeding
from clusterlab.kernels.variants import (
    METRICS,
    SERIAL_MAX_VALUES,
    by_threads,
    choose,
    exponent,
    metric_of,
    metric_twins,
)


@pytest.fixture(scope="module")
def problem():
    # several row blocks (CHUNK 256) and two update parts (2048 rows each)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(4500, 5))
    weights = rng.uniform(0.5, 2.0, size=4500)
    return X, weights, X[rng.choice(4500, 7, replace=False)].copy()


def _step(kernel, X, weights, centers):
    labels = np.full(X.shape[0], -1, dtype=np.int64)
    P = lloyd.n_parts(X.shape[0])
    sums = np.empty((P, *centers.shape))
    wts = np.empty((P, centers.shape[0]))
    changed = kernel(X, weights, centers, labels, sums, wts)
    return changed, labels, sums, wts


@pytest.mark.parametrize("n_threads", [1, 2])
def test_serial_twins_compute_the_parallel_numbers(problem, n_threads):
    X, weights, centers = problem
    with threads(n_threads):
        parallel = _step(lloyd._lloyd_step_parallel, X, weights, centers)
        serial = _step(lloyd._lloyd_step_serial, X, weights, centers)
        for a, b in zip(parallel, serial, strict=True):
            np.testing.assert_array_equal(a, b)
        labels = np.zeros(X.shape[0], dtype=np.int64)
        dist = np.empty(X.shape[0])
        lloyd._assign_labels_parallel(X, centers, labels, dist)
        labels2 = np.zeros(X.shape[0], dtype=np.int64)
        dist2 = np.empty(X.shape[0])
        lloyd._assign_labels_serial(X, centers, labels2, dist2)
        np.testing.assert_array_equal(labels, labels2)
        np.testing.assert_array_equal(dist, dist2)
        args = (X, weights, centers, labels)
        assert lloyd._inertia_parallel(*args) == lloyd._inertia_serial(*args)
        np.testing.assert_array_equal(
            lloyd._cluster_inertia_parallel(*args), lloyd._cluster_inertia_serial(*args)
        )
        seed_args = (X, weights, 7, 3, 11)
        np.testing.assert_array_equal(
            seeding._kmeans_plusplus_parallel(*seed_args),
            seeding._kmeans_plusplus_serial(*seed_args),
        )


def test_by_threads_runs_the_serial_twin_on_small_data_and_one_thread():
    calls = []

    class Kernel:
        def __init__(self, name):
            self.name = name
            self.py_func = lambda X: None

        def __call__(self, X):
            calls.append(self.name)

    choose = by_threads(Kernel("parallel"), Kernel("serial"))
    small = np.zeros((10, 2))
    large = np.zeros(SERIAL_MAX_VALUES + 1)
    with threads(1):
        choose(small)
        choose(large)
    if numba.config.NUMBA_NUM_THREADS > 1:
        with threads(2):
            choose(small)
        assert calls == ["serial", "parallel", "parallel"]
    else:
        assert calls == ["serial", "parallel"]


# -- metric twins --------------------------------------------------------------------------------


def _scale(x, p):
    """Test kernel: ``x * p``, with ``p`` fixed in the euclidean and manhattan twins."""
    out = np.empty_like(x)
    for i in prange(x.shape[0]):
        out[i] = x[i] * exponent(p)
    return out


def _scale_sum(x, p):
    """Test kernel without prange calling the family of ``_scale``."""
    return _scale(x, p).sum()


def test_metric_twins_fix_the_exponent_where_they_compile():
    scale = metric_twins(_scale)
    assert set(scale) == {(metric, mode) for metric in METRICS for mode in (True, False)}
    x = np.arange(4.0)
    # p = 7 is passed to every twin: the euclidean and manhattan twins run 2 and 1 instead
    np.testing.assert_array_equal(scale["euclidean", False](x, 7.0), 2.0 * x)
    np.testing.assert_array_equal(scale["manhattan", False](x, 7.0), x)
    np.testing.assert_array_equal(scale["minkowski", False](x, 7.0), 7.0 * x)
    np.testing.assert_array_equal(scale["euclidean", True](x, 7.0), 2.0 * x)
    # each twin has its own name (its own disk-cache entry), bound in the kernel's module
    twin = scale["euclidean", False]
    assert twin.py_func.__name__ == "_scale_euclidean_serial"
    assert globals()["_scale_euclidean_serial"] is twin
    assert scale["euclidean", True].targetoptions["parallel"]
    assert not twin.targetoptions.get("parallel", False)


def test_metric_twins_call_the_twins_of_their_callees():
    total = metric_twins(_scale_sum, parallel=False, _scale=metric_twins(_scale))
    x = np.arange(4.0)
    assert total["manhattan", False](x, 7.0) == x.sum()
    assert total["minkowski", True](x, 3.0) == 3.0 * x.sum()
    # no prange of its own, but callees that differ by mode: one twin per mode
    assert total["euclidean", True] is not total["euclidean", False]
    assert total["euclidean", True].py_func.__name__ == "_scale_sum_euclidean_parallel"
    plain = metric_twins(_scale_sum, parallel=False)
    assert plain["euclidean", True] is plain["euclidean", False]
    assert plain["euclidean", True].py_func.__name__ == "_scale_sum_euclidean"


@pytest.mark.parametrize(
    ("p", "metric"),
    [(2.0, "euclidean"), (1.0, "manhattan"), (np.inf, "minkowski"), (3, "minkowski")],
)
def test_choose_picks_the_metric_and_the_serial_twin_for_small_data_on_one_thread(p, metric):
    assert metric_of(p) == metric
    family = {(m, mode): (m, mode) for m in METRICS for mode in (True, False)}
    with threads(1):
        assert choose(family, p, 100) == (metric, False)
        assert choose(family, p, SERIAL_MAX_VALUES + 1) == (metric, True)
    if numba.config.NUMBA_NUM_THREADS > 1:
        with threads(2):
            assert choose(family, p, 100) == (metric, True)
