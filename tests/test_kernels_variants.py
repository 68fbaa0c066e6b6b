"""Serial twins of parallel kernels: the same numbers, chosen for small data on one thread."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from clusterlab._config import threads
from clusterlab.kernels import lloyd, seeding
from clusterlab.kernels.variants import SERIAL_MAX_VALUES, by_threads


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
